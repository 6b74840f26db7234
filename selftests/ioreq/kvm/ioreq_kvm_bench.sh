#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ioreq_kvm_bench.sh: make bench's KVM virtio rows, run inside the KVM
# lane's test guest (scripts/bench-kvm.sh boots it; /dev/kvm and
# /dev/ioreq-vmm exist).  Three inner guests of one image (Debian's 6.1
# kernel; /lib/ioreq-kvm/bench.cpio: linux/init and linux/bench.sh with
# fio), 2 vcpus and BENCH_KVM_MEM MiB (default 512) each, one virtqueue,
# all booted once and kept up:
#
#   ours    ioreq-kvm-linux --fastpath, ioreq-vhost at 00:05.0 and
#           qemu-storage-daemon's vhost-user-blk export e0
#   qemu    qemu-system-x86_64 -accel kvm, its built-in virtio-blk-pci on
#           an identical image file
#   vuser   qemu-system-x86_64 -accel kvm, vhost-user-blk-pci on export e1
#           of the same qemu-storage-daemon (guest RAM a shared memfd)
#   floor   no guest: tools/bench/vhost-blk-floor drives export e2 of the
#           same daemon itself, one virtqueue in its own memfd, the same
#           jobs for BENCH_KVM_RUNTIME seconds (default 3)
#
# Images of BENCH_KVM_DISK_MB (default 64) in tmpfs, read through the
# page cache by both QEMU and the daemon.  The guests take turns: for each
# of BENCH_KVM_TURNS rounds (default 5), each fio job, each guest in an
# order that rotates every round, the command "run SEQ JOB" is written to
# the guest's image's last 4 KiB block (linux/bench.sh polls it) and the
# guest's "IOREQ-DONE SEQ" awaited; around it, /proc/PID/stat (utime +
# stime) of the VMM (ioreq-kvm-linux or QEMU: it includes the vcpus),
# ioreq-vhost and qemu-storage-daemon, and by SIGUSR1 the counters of
# ioreq-kvm-linux (accesses forwarded to ioreq: VMM exits) and
# ioreq-vhost (records, notify records).  One line per run, for
# scripts/bench-kvm-table.py:
#
#   BENCH-KVM row=R turn=N seq=S job=J ios=... (linux/bench.sh's
#             IOREQ-FIO) vmm_ticks=N vhost_ticks=N qsd_ticks=N
#             forwarded=N records=N notify=N window_ms=N
#
# A run that fails says "BENCH-KVM row=R turn=N job=J failed (WHY)";
# one that hangs (BENCH_KVM_JOB_TIMEOUT, default 300 s) leaves the VMM's
# threads' states and kernel stacks and the guest's console in the output.
# A guest whose VMM ended (nested under TCG a guest now and then resets
# itself, silently, and -no-reboot ends its QEMU) is booted again,
# BENCH_KVM_RESTARTS times per row at most (default 2): between runs the
# next run goes to it, during one that run is run again in it; each says
# "BENCH-KVM restart row=R turn=N job=J (WHY)" and leaves the ended
# guest's console in the output.
# BENCH_KVM_KILL=ROW:TURN:JOB kills that row's VMM before that run, and
# ROW:TURN:JOB:during 2 s into it, to test the restarts.

LIB=/lib/ioreq-kvm
T=/tmp/kvm-bench
GUEST_ID=18
MEM=${BENCH_KVM_MEM:-512}
APPEND="console=ttyS0 reboot=t panic=-1 rdinit=/init loglevel=4"
ROWS=$(echo "${BENCH_KVM_ROWS:-ours,qemu,vuser,floor}" | tr , ' ')
JOBS="rand4k rd1 rd8 wr1 wr8"
failed=0
seq=0

# wait_line FILE PATTERN SECS [PID]: until FILE has a line matching
# PATTERN; gives up early once PID is gone
wait_line()
{
	wl_n=0
	until grep -q "$2" "$1" 2> /dev/null; do
		[ $wl_n -lt $(($3 * 10)) ] || return 1
		[ -z "$4" ] || kill -0 "$4" 2> /dev/null || return 1
		sleep 0.1
		wl_n=$((wl_n + 1))
	done
}

now_ms()
{
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# ticks PID: its utime + stime so far (0 if gone or empty)
ticks()
{
	if [ -z "$1" ] || [ ! -r "/proc/$1/stat" ]; then
		echo 0
		return
	fi
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# counts ROW: "forwarded records notify" of ioreq-kvm-linux and
# ioreq-vhost (SIGUSR1; zeros for QEMU)
counts()
{
	[ "$1" = ours ] || { echo "0 0 0"; return; }
	kill -USR1 "$pid_ours" "$vhost" 2> /dev/null
	sleep 0.2
	c_f=$(grep 'counts: forwarded' $T/ours.vmm | tail -n 1 |
		sed 's/.*forwarded \([0-9]*\).*/\1/')
	c_s=$(grep 'stats: records' $T/ours.vhost | tail -n 1)
	c_r=$(echo "$c_s" | sed 's/.*stats: records \([0-9]*\) .*/\1/')
	c_n=$(echo "$c_s" | sed 's/.* \([0-9]*\) notify).*/\1/')
	echo "${c_f:-0} ${c_r:-0} ${c_n:-0}"
}

# start_qemu ROW DEVICE-ARGS...: QEMU with KVM, the same kernel and
# initramfs (qboot: the shortest firmware)
start_qemu()
{
	sq_row=$1
	shift
	qemu-system-x86_64 -accel kvm -cpu host -smp 2 -m "$MEM" \
		-nodefaults -display none -no-reboot -monitor none \
		-L /usr/share/qemu -bios /usr/share/qemu/qboot.rom \
		-kernel $LIB/bzImage -initrd $LIB/bench.cpio -append "$APPEND" \
		-serial "file:$T/$sq_row.console" "$@" > "$T/$sq_row.vmm" 2>&1 &
	if [ "$sq_row" = qemu ]; then pid_qemu=$!; else pid_vuser=$!; fi
}

# pid_of ROW: its VMM's process
pid_of()
{
	case $1 in
	ours)	echo "$pid_ours" ;;
	qemu)	echo "$pid_qemu" ;;
	vuser)	echo "$pid_vuser" ;;
	esac
}

# boot ROW: start ROW's guest and wait until it is ready; a guest whose
# VMM ends before that (nested under TCG, QEMU's guest now and then stops
# early in its boot, its console at "Probing EDD") is booted again, three
# boots at most
boot()
{
	[ "$1" != floor ] || return 0
	b_try=1
	while ! boot_one "$1" "$b_try"; do
		[ $b_try -lt 3 ] || return 1
		b_try=$((b_try + 1))
	done
}

# boot_one ROW TRY
boot_one()
{
	t0=$(now_ms)
	case $1 in
	ours)
		ioreq-kvm-linux --guest-id $GUEST_ID --vcpus 2 --mem "$MEM" \
			--fastpath --kernel $LIB/vmlinux --initrd $LIB/bench.cpio \
			--append "$APPEND pci=conf1" \
			--wait-pci 00:05.0 --claim-wait 60 \
			> $T/ours.console 2> $T/ours.vmm &
		pid_ours=$!
		ioreq-vhost --provider vmm --guest $GUEST_ID --sbdf 00:05.0 \
			--bar 0xe0000000 --wait 60 --socket $T/e0.sock \
			> $T/ours.vhost 2>&1 &
		vhost=$! ;;
	qemu)
		start_qemu qemu \
			-blockdev driver=file,node-name=f0,filename=$T/qemu.img \
			-device virtio-blk-pci,drive=f0,num-queues=1 ;;
	vuser)
		start_qemu vuser \
			-object memory-backend-memfd,id=mem,size="${MEM}M",share=on \
			-machine memory-backend=mem \
			-chardev socket,id=c0,path=$T/e1.sock \
			-device vhost-user-blk-pci,chardev=c0,num-queues=1 ;;
	esac
	b_pid=$(pid_of "$1")
	if ! wait_line "$T/$1.console" IOREQ-BENCH-READY 600 "$b_pid"; then
		kill "$b_pid" 2> /dev/null
		wait "$b_pid"
		b_rc=$?
		[ "$1" != ours ] || { kill "$vhost" 2> /dev/null; wait "$vhost"; }
		logs "$1"
		if [ "$2" -lt 3 ]; then
			echo "# $1: boot $2 ended before the guest was ready (exit $b_rc): booting it again"
			return 1
		fi
		echo "BENCH-KVM row=$1 failed (no IOREQ-BENCH-READY in $2 boots, exit $b_rc)"
		failed=$((failed + 1))
		return 0
	fi
	echo "# $1: booted in $(($(now_ms) - t0)) ms$([ "$2" = 1 ] || echo ", boot $2")"
	sed -n "s/^IOREQ-G| IOREQ-INFO /# $1: /p" "$T/$1.console"
}

# send ROW LINE: write LINE into ROW's image's command block
send()
{
	printf '%s\n' "$2" | dd of="$T/$1.img" bs=4096 seek=$ctrl count=1 \
		conv=notrunc,sync 2> /dev/null
}

logs()
{
	tail -n 60 "$T/$1.console" | sed "s/^/# $1 console: /"
	tail -n 15 "$T/$1.vmm" | sed "s/^/# $1 vmm: /"
	[ "$1" != ours ] || tail -n 15 $T/ours.vhost | sed 's/^/# ours vhost: /'
}

# hang ROW: what a stuck run leaves (the fast path hung once in CI)
hang()
{
	h_pid=$(pid_of "$1")
	for h_t in /proc/"$h_pid"/task/*; do
		echo "# $1 hang: thread $(basename "$h_t") $(cut -d' ' -f3 "$h_t/stat" 2>/dev/null)" \
		     "$(cat "$h_t/comm" 2>/dev/null) wchan $(cat "$h_t/wchan" 2>/dev/null)"
		sed "s/^/# $1 hang:   /" "$h_t/stack" 2> /dev/null
	done
	[ "$1" != ours ] || for h_t in /proc/"$vhost"/task/*; do
		echo "# $1 hang: ioreq-vhost thread $(basename "$h_t") $(cut -d' ' -f3 "$h_t/stat" 2>/dev/null) wchan $(cat "$h_t/wchan" 2>/dev/null)"
		sed "s/^/# $1 hang:   /" "$h_t/stack" 2> /dev/null
	done
	logs "$1"
}

# floor TURN JOB: one run of vhost-blk-floor on export e2
floor()
{
	seq=$((seq + 1))
	f_q=$(ticks "$qsd")
	f_w=$(now_ms)
	l=$(vhost-blk-floor --socket $T/e2.sock --job "$2" --seq $seq \
		--runtime "${BENCH_KVM_RUNTIME:-3}" --size $(((size - 1) << 20)) \
		2> $T/floor.err | sed -n "s/^IOREQ-FIO seq=$seq //p")
	f_w=$(($(now_ms) - f_w))
	f_q=$(($(ticks "$qsd") - f_q))
	if [ -z "$l" ]; then
		echo "BENCH-KVM row=floor turn=$1 job=$2 failed (vhost-blk-floor)"
		failed=$((failed + 1))
		sed 's/^/# floor: /' $T/floor.err
		return
	fi
	echo "BENCH-KVM row=floor turn=$1 seq=$seq $l vmm_ticks=0 vhost_ticks=0" \
	     "qsd_ticks=$f_q forwarded=0 records=0 notify=0 window_ms=$f_w"
}

# restart ROW TURN JOB WHEN: ROW's VMM has ended (WHEN: "between runs",
# "during the run"); boot its guest again if ROW has restarts left
# (status 0 and a live VMM), else status 1
restart()
{
	rs_pid=$(pid_of "$1")
	wait "$rs_pid" 2> /dev/null
	rs_rc=$?
	echo x >> "$T/$1.restarts"
	[ "$(wc -l < "$T/$1.restarts")" -le "${BENCH_KVM_RESTARTS:-2}" ] || return 1
	echo "BENCH-KVM restart row=$1 turn=$2 job=$3 (its VMM ended $4, exit $rs_rc)"
	tail -n 5 "$T/$1.console" | sed "s/^/# $1 ended: console: /"
	tail -n 5 "$T/$1.vmm" | sed "s/^/# $1 ended: vmm: /"
	if [ "$1" = ours ]; then
		kill "$vhost" 2> /dev/null
		wait "$vhost" 2> /dev/null
	fi
	# No stale command for the new guest's first look at the block, and
	# no old console for boot to find IOREQ-BENCH-READY in.
	send "$1" idle
	mv "$T/$1.console" "$T/$1.console.$(wc -l < "$T/$1.restarts")"
	boot "$1" || return 1
	kill -0 "$(pid_of "$1")" 2> /dev/null
}

# one ROW TURN JOB: one fio run in ROW's guest, timed from outside; a
# run whose guest ended during it is run again once in the restarted one
one()
{
	if [ "$1" = floor ]; then
		floor "$2" "$3"
		return
	fi
	run_one "$@" || [ $? != 2 ] || run_one "$@" || true
}

# run_one ROW TURN JOB: status 2 if the VMM ended during the run and the
# guest was booted again
run_one()
{
	o_pid=$(pid_of "$1")
	[ -n "$o_pid" ] || return 0
	if [ "${BENCH_KVM_KILL:-}" = "$1:$2:$3" ]; then
		echo "# BENCH_KVM_KILL: killing $1's VMM before turn $2's $3"
		kill -KILL "$o_pid"
		sleep 1
	fi
	if ! kill -0 "$o_pid" 2> /dev/null &&
	   ! grep -q "^$1\$" $T/gone 2> /dev/null &&
	   restart "$1" "$2" "$3" "between runs"; then
		o_pid=$(pid_of "$1")
	fi
	if ! kill -0 "$o_pid" 2> /dev/null; then
		# Said once: the guest is gone for the rest of the run.
		grep -q "^$1\$" $T/gone 2> /dev/null && return 0
		echo "$1" >> $T/gone
		echo "BENCH-KVM row=$1 turn=$2 job=$3 failed (its VMM ended)"
		failed=$((failed + 1))
		logs "$1"
		return 0
	fi
	seq=$((seq + 1))
	# shellcheck disable=SC2046
	set -- "$1" "$2" "$3" $(counts "$1")
	o_f=$4 o_r=$5 o_n=$6
	o_v=$(ticks "$o_pid") o_h=$(ticks "$([ "$1" = ours ] && echo "$vhost")") o_q=$(ticks "$qsd")
	o_w=$(now_ms)
	send "$1" "run $seq $3"
	if [ "${BENCH_KVM_KILL:-}" = "$1:$2:$3:during" ] && [ ! -e "$T/killed" ]; then
		sleep 2
		echo "# BENCH_KVM_KILL: killing $1's VMM during turn $2's $3"
		kill -KILL "$o_pid"
		touch "$T/killed"
	fi
	if ! wait_line "$T/$1.console" "IOREQ-DONE $seq " "${BENCH_KVM_JOB_TIMEOUT:-300}" "$o_pid"; then
		if ! kill -0 "$o_pid" 2> /dev/null && restart "$1" "$2" "$3" "during the run"; then
			return 2
		fi
		echo "BENCH-KVM row=$1 turn=$2 job=$3 failed (no IOREQ-DONE $seq)"
		failed=$((failed + 1))
		hang "$1"
		kill "$o_pid" 2> /dev/null
		return
	fi
	o_w=$(($(now_ms) - o_w))
	o_v=$(($(ticks "$o_pid") - o_v))
	o_h=$(($(ticks "$([ "$1" = ours ] && echo "$vhost")") - o_h))
	o_q=$(($(ticks "$qsd") - o_q))
	# shellcheck disable=SC2046
	set -- "$1" "$2" "$3" $(counts "$1")
	l=$(sed -n "s/^IOREQ-G| IOREQ-FIO seq=$seq //p" "$T/$1.console")
	if [ -z "$l" ] || ! grep -q "IOREQ-DONE $seq rc=0" "$T/$1.console"; then
		echo "BENCH-KVM row=$1 turn=$2 job=$3 failed (fio)"
		failed=$((failed + 1))
		grep "# fio:" "$T/$1.console" | tail -n 5
		return
	fi
	echo "BENCH-KVM row=$1 turn=$2 seq=$seq $l vmm_ticks=$o_v vhost_ticks=$o_h" \
	     "qsd_ticks=$o_q forwarded=$(($4 - o_f)) records=$(($5 - o_r))" \
	     "notify=$(($6 - o_n)) window_ms=$o_w"
}

for f in /dev/kvm /dev/ioreq-vmm $LIB/vmlinux $LIB/bzImage $LIB/bench.cpio; do
	if [ ! -e "$f" ]; then
		echo "BENCH-KVM skipped: no $f"
		exit 4
	fi
done
rm -rf $T
mkdir -p $T
size=${BENCH_KVM_DISK_MB:-64}
ctrl=$((size * 256 - 1))
dd if=/dev/zero of=$T/ours.img bs=1M count="$size" 2> /dev/null
cp $T/ours.img $T/qemu.img
cp $T/ours.img $T/vuser.img
cp $T/ours.img $T/floor.img
qemu-storage-daemon \
	--blockdev driver=file,node-name=f0,filename=$T/ours.img \
	--blockdev driver=file,node-name=f1,filename=$T/vuser.img \
	--export type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$T/e0.sock,writable=on,num-queues=1 \
	--export type=vhost-user-blk,id=e1,node-name=f1,addr.type=unix,addr.path=$T/e1.sock,writable=on,num-queues=1 \
	--blockdev driver=file,node-name=f2,filename=$T/floor.img \
	--export type=vhost-user-blk,id=e2,node-name=f2,addr.type=unix,addr.path=$T/e2.sock,writable=on,num-queues=1 \
	> $T/daemon.log 2>&1 &
qsd=$!
n=0
until [ -S $T/e2.sock ] || [ $n -ge 150 ]; do
	sleep 0.2
	n=$((n + 1))
done
echo "# BENCH-KVM: $(nproc) cpus, inner guests 2 vcpus $MEM MiB, disk $size MiB (tmpfs)"
for r in $ROWS; do
	boot "$r"
done
turn=1
while [ $turn -le "${BENCH_KVM_TURNS:-5}" ]; do
	# The order rotates: no row always runs first after another's run.
	order=$(echo "$ROWS" | awk -v k=$((turn - 1)) '{
		for (i = 0; i < NF; i++) printf "%s ", $(((i + k) % NF) + 1) }')
	for j in $JOBS; do
		for r in $order; do
			one "$r" "$turn" "$j"
		done
	done
	turn=$((turn + 1))
done
for r in $ROWS; do
	[ "$r" = floor ] || send "$r" quit
done
[ -z "$pid_ours" ] || grep 'fastpath\|counts:' $T/ours.vmm | tail -n 3 | sed 's/^/# ours vmm: /'
for r in $ROWS; do
	[ "$r" != floor ] || continue
	e_pid=$(pid_of "$r")
	n=0
	while kill -0 "$e_pid" 2> /dev/null && [ $n -lt 300 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	kill "$e_pid" 2> /dev/null
done
kill "$vhost" $qsd 2> /dev/null
wait
grep -h 'no splat\|WARNING:\|BUG:\|Oops\|Call Trace' $T/*.console | sed 's/^/# splat: /' | head -n 20
sed 's/^/# daemon: /' $T/daemon.log | tail -n 10
echo "BENCH-KVM done failed=$failed"
[ $failed = 0 ]
