#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ioreq_kvm_bench.sh: make bench's KVM virtio rows, run inside the KVM
# lane's test guest (scripts/bench.sh boots it; /dev/kvm and
# /dev/ioreq-vmm exist).  One inner guest image (Debian's 6.1 kernel,
# /lib/ioreq-kvm/bench.cpio: linux/init and linux/bench.sh with fio)
# boots in turns, BENCH_KVM_TURNS (default 3) rounds of:
#
#   ours    ioreq-kvm-linux --fastpath, ioreq-vhost at 00:05.0 and
#           qemu-storage-daemon's vhost-user-blk export
#   qemu    qemu-system-x86_64 -accel kvm with its built-in
#           virtio-blk-pci on an identical image file
#   vuser   qemu-system-x86_64 -accel kvm with vhost-user-blk-pci on the
#           same qemu-storage-daemon (guest RAM a shared memfd)
#
# All with 2 vcpus and BENCH_KVM_MEM MiB (default 512), one virtqueue,
# the images in tmpfs, qemu-storage-daemon started once.  Between the
# guest's IOREQ-BENCH-BEGIN and IOREQ-BENCH-END it samples
# /proc/PID/stat (utime + stime) of the VMM (ioreq-kvm-linux or QEMU:
# it includes the vcpus' time), ioreq-vhost and qemu-storage-daemon,
# and the counters of ioreq-kvm-linux (accesses forwarded to ioreq) and
# of ioreq-vhost (records, notify records) by SIGUSR1.  Output, one line
# per job and one per boot, for scripts/bench.sh:
#
#   BENCH-KVM row=R turn=N job=J ios=... (linux/bench.sh's IOREQ-FIO)
#   BENCH-KVM row=R turn=N ios=ALL vmm_ticks=N vhost_ticks=N
#             qsd_ticks=N forwarded=N records=N notify=N window_ms=N
#
# A boot that fails says "BENCH-KVM row=R turn=N failed" and its logs.

LIB=/lib/ioreq-kvm
T=/tmp/kvm-bench
GUEST_ID=18
MEM=${BENCH_KVM_MEM:-512}
APPEND="console=ttyS0 reboot=t panic=-1 rdinit=/init loglevel=4"
failed=0

# wait_line FILE PATTERN SECS [PID]: until FILE has a line matching
# PATTERN; gives up early once PID is gone
wait_line()
{
	wl_n=0
	until grep -q "$2" "$1" 2> /dev/null; do
		[ $wl_n -lt $(($3 * 5)) ] || return 1
		[ -z "$4" ] || kill -0 "$4" 2> /dev/null || return 1
		sleep 0.2
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
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# counts: the counters of ioreq-kvm-linux and ioreq-vhost (SIGUSR1), as
# "forwarded records notify"
counts()
{
	[ -n "$vmm_ours" ] || { echo "0 0 0"; return; }
	kill -USR1 "$vmm_ours" "$vhost" 2> /dev/null
	sleep 0.3
	f=$(grep 'counts: forwarded' $T/vmm.log | tail -n 1 |
		sed 's/.*forwarded \([0-9]*\).*/\1/')
	r=$(grep 'stats: records' $T/vhost.log | tail -n 1 |
		sed 's/.*stats: records \([0-9]*\) .*/\1/')
	n=$(grep 'stats: records' $T/vhost.log | tail -n 1 |
		sed 's/.* \([0-9]*\) notify).*/\1/')
	echo "${f:-0} ${r:-0} ${n:-0}"
}

start_ours()
{
	ioreq-kvm-linux --guest-id $GUEST_ID --vcpus 2 --mem "$MEM" --fastpath \
		--kernel $LIB/vmlinux --initrd $LIB/bench.cpio \
		--append "$APPEND pci=conf1" \
		--wait-pci 00:05.0 --claim-wait 60 --timeout 900 \
		> $T/console.log 2> $T/vmm.log &
	vmm=$!
	vmm_ours=$vmm
	ioreq-vhost --provider vmm --guest $GUEST_ID --sbdf 00:05.0 \
		--bar 0xe0000000 --wait 60 --socket $T/vblk.sock \
		> $T/vhost.log 2>&1 &
	vhost=$!
}

# start_qemu DEVICE-ARGS...: QEMU with KVM, the same kernel and initramfs
start_qemu()
{
	qemu-system-x86_64 -accel kvm -cpu host -smp 2 -m "$MEM" \
		-nodefaults -display none -no-reboot -monitor none \
		-L /usr/share/qemu -bios /usr/share/qemu/qboot.rom \
		-kernel $LIB/bzImage -initrd $LIB/bench.cpio -append "$APPEND" \
		-serial file:$T/console.log "$@" > $T/vmm.log 2>&1 &
	vmm=$!
	vmm_ours=
	vhost=
}

# one ROW TURN: boot ROW's guest, time its fio run, print the lines
one()
{
	row=$1
	turn=$2
	: > $T/console.log
	: > $T/vmm.log
	: > $T/vhost.log
	case $row in
	ours)	start_ours ;;
	qemu)	start_qemu -blockdev driver=file,node-name=f0,filename=$T/qemu.img \
			-device virtio-blk-pci,drive=f0,num-queues=1 ;;
	vuser)	start_qemu -object memory-backend-memfd,id=mem,size="${MEM}M",share=on \
			-machine memory-backend=mem \
			-chardev socket,id=c0,path=$T/vblk.sock \
			-device vhost-user-blk-pci,chardev=c0,num-queues=1 ;;
	esac
	t0=$(now_ms)
	if ! wait_line $T/console.log IOREQ-BENCH-BEGIN 600 "$vmm"; then
		echo "BENCH-KVM row=$row turn=$turn failed (no IOREQ-BENCH-BEGIN)"
		failed=$((failed + 1))
		fail_logs
		return
	fi
	boot=$(($(now_ms) - t0))
	set -- $(counts)
	c0_f=$1 c0_r=$2 c0_n=$3
	v0=$(ticks "$vmm") h0=$(ticks "$vhost") q0=$(ticks "$qsd")
	w0=$(now_ms)
	if ! wait_line $T/console.log IOREQ-BENCH-END 600 "$vmm"; then
		echo "BENCH-KVM row=$row turn=$turn failed (no IOREQ-BENCH-END)"
		failed=$((failed + 1))
		fail_logs
		return
	fi
	w1=$(now_ms)
	v1=$(ticks "$vmm") h1=$(ticks "$vhost") q1=$(ticks "$qsd")
	set -- $(counts)
	c1_f=$1 c1_r=$2 c1_n=$3
	# The guest prints its results and resets itself.
	n=0
	while kill -0 "$vmm" 2> /dev/null && [ $n -lt 600 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	kill "$vmm" $vhost 2> /dev/null
	wait "$vmm" $vhost 2> /dev/null
	sed -n 's/^IOREQ-G| IOREQ-FIO /BENCH-KVM row='"$row"' turn='"$turn"' /p' \
		$T/console.log > $T/fio.lines
	ios=$(sed 's/.* ios=\([0-9]*\).*/\1/' $T/fio.lines | awk '{ s += $1 } END { print s + 0 }')
	if [ "$(wc -l < $T/fio.lines)" != 5 ] ||
	   ! grep -q 'IOREQ-BENCH-END rc=0' $T/console.log; then
		echo "BENCH-KVM row=$row turn=$turn failed (fio)"
		failed=$((failed + 1))
		fail_logs
		return
	fi
	cat $T/fio.lines
	sed -n "s/^IOREQ-G| IOREQ-INFO /# $row: /p" $T/console.log
	echo "BENCH-KVM row=$row turn=$turn ios=$ios vmm_ticks=$((v1 - v0))" \
	     "vhost_ticks=$((h1 - h0)) qsd_ticks=$((q1 - q0))" \
	     "forwarded=$((c1_f - c0_f)) records=$((c1_r - c0_r))" \
	     "notify=$((c1_n - c0_n)) window_ms=$((w1 - w0)) boot_ms=$boot"
	[ "$row" != ours ] || grep 'fastpath\|counts:' $T/vmm.log | tail -n 4 | sed 's/^/# vmm: /'
}

fail_logs()
{
	kill "$vmm" $vhost 2> /dev/null
	wait "$vmm" $vhost 2> /dev/null
	tail -n 40 $T/console.log | sed 's/^/# console: /'
	tail -n 20 $T/vmm.log | sed 's/^/# vmm: /'
	tail -n 20 $T/vhost.log | sed 's/^/# vhost: /'
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
dd if=/dev/zero of=$T/vblk.img bs=1M count="$size" 2> /dev/null
cp $T/vblk.img $T/qemu.img
qemu-storage-daemon \
	--blockdev driver=file,node-name=f0,filename=$T/vblk.img \
	--export type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$T/vblk.sock,writable=on,num-queues=1 \
	> $T/daemon.log 2>&1 &
qsd=$!
n=0
until [ -S $T/vblk.sock ] || [ $n -ge 150 ]; do
	sleep 0.2
	n=$((n + 1))
done
echo "# BENCH-KVM: $(nproc) cpus, inner guests 2 vcpus $MEM MiB, disk $size MiB (tmpfs)"
rows=$(echo "${BENCH_KVM_ROWS:-ours,qemu,vuser}" | tr , ' ')
turn=1
while [ $turn -le "${BENCH_KVM_TURNS:-3}" ]; do
	for r in $rows; do
		one "$r" "$turn"
	done
	turn=$((turn + 1))
done
kill $qsd 2> /dev/null
wait $qsd 2> /dev/null
sed 's/^/# daemon: /' $T/daemon.log | tail -n 10
echo "BENCH-KVM done failed=$failed"
[ $failed = 0 ]
