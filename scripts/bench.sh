#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: build the modules and tools/bench/ioreq-bench for Debian's
# 6.1 kernel, boot it under QEMU and run the benchmark there.  The table
# goes to stdout; the key=value results to .build/bench/KERNEL.txt.
#
# With KVM's modules in the kernel package (6.1), the guest also loads
# them and tools/kvm-vmm/ioreq-kvm --bench times a KVM exit answered in
# the VMM, through ioreq (ioreq-backend) and over a socketpair to a child
# process.  BENCH_KVM_ITERS (default 2000) reads per phase; BENCH_KVM=0
# leaves it out.  Then Xen: see below (BENCH_XEN=0 leaves it out), and
# KVM virtio-blk against QEMU (scripts/bench-kvm.sh; BENCH_KVM_VIRTIO=0
# leaves it out).  Run it
# on an otherwise idle machine: the figures are only comparable within one
# run.
set -euo pipefail

IOREQ_STAGE=bench
. "$(dirname "$0")/lib.sh"

start=$(now)
k=${BENCH_KERNEL:-61}

# QEMU 10 too: the KVM virtio rows' host guest runs on it (bench-kvm.sh).
IOREQ_QEMU10=${IOREQ_QEMU10:-1} "$IOREQ_ROOT/scripts/deps.sh"
load_env
kver=$(kvar KVER "$k")

build_modules_and_tools "$k"

IOREQ_STAGE=vm
out=$IOREQ_BUILD/vm/bench-$kver
mkdir -p "$IOREQ_BUILD/vm" "$IOREQ_BUILD/bench"
run=$IOREQ_BUILD/vm/bench-run.sh
mod_args=()
kvm_run=
if [ "${BENCH_KVM:-1}" = 1 ] && [ "$k" = 61 ] &&
   kvm_modules "$(kvar KROOT "$k")" "$IOREQ_BUILD/kvm-modules/$kver"; then
	mod_args=("${kvm_mod_args[@]}"
		  --add "$tools_out/ioreq-kvm:/bench/ioreq-kvm"
		  --add "$tools_out/ioreq-kvm-payload.bin:/bench/payload.bin"
		  --add "$tools_out/ioreq-backend:/bench/ioreq-backend")
	# The backend on CPU 1, as ioreq-kvm puts its socketpair child.
	kvm_run="
if [ -c /dev/kvm ]; then
	taskset 2 /bench/ioreq-backend --provider vmm --guest 90 --mmio 0xe0000000:0x1000 \\
		--wait 10 > /tmp/kvm-backend.log 2>&1 &
	/bench/ioreq-kvm --guest-id 90 --payload /bench/payload.bin \\
		--mmio 0xe0000000 --bench ${BENCH_KVM_ITERS:-2000} \\
		--repeats ${BENCH_REPEATS:-5} -o /tmp/kvm-bench.txt || exit 1
	wait
	sed 's/^/BENCH: /' /tmp/kvm-bench.txt
else
	echo 'no /dev/kvm in the guest: no KVM exit rows'
fi"
else
	log "no KVM exit rows: BENCH_KVM=0, not the 6.1 kernel, or no KVM modules"
fi
cat > "$run" <<RUN
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
/bench/ioreq-bench -n ${BENCH_ITERS:-5000} -r ${BENCH_REPEATS:-5} -o /tmp/bench.txt || exit 1
sed 's/^/BENCH: /' /tmp/bench.txt
$kvm_run
RUN
for m in $IOREQ_MODULES; do
	mod_args+=(--module "$kb/$m")
done
# Other QEMU guests on the machine skew every figure: say so in the results.
other_qemu=$(pgrep -c qemu-system || true)
load=$(cut -d' ' -f1-3 /proc/loadavg)
[ "$other_qemu" = 0 ] ||
	log "warning: $other_qemu other QEMU process(es) running (load $load): figures will be noisy"
log "$kver: booting $(kvar KIMG "$k"), running ioreq-bench"
rc=0
"$IOREQ_ROOT/selftests/ioreq/vm/vmtest.sh" --kernel "$(kvar KIMG "$k")" \
	--kroot "$(kvar KROOT "$k")" --name "bench-$kver" --out "$out" \
	--timeout "${VM_TIMEOUT:-1200}" "${mod_args[@]}" \
	--add "$tools_out/ioreq-bench:/bench/ioreq-bench" \
	--run "$run" || rc=$?

# ---- Xen: the same guest loop against a native libxendevicemodel server
# (tools/xen-native, the way QEMU and virtio-disk serve) and against
# ioreq-backend through /dev/ioreq, both serving the guest at once on
# their own MMIO pages, in alternating turns in one boot, on 1 and 2 vcpus
# (selftests/ioreq/xen/scenarios/bench.*); a third turn times writes that
# dom0's kernel completes itself (an ioeventfd), the floor of any server
# in dom0.  It needs the 6.1 kernel and tools/ioreq-xen-native
# (libxen-dev); BENCH_XEN=0 leaves it out.
#
# Two boots: dom0's ioreq.read_poll_ns raised to BENCH_XEN_POLL_NS
# (default 3 ms), then at the module's default (200 us).  Under the
# emulator a vcpu's next access reaches dom0 0.3-0.9 ms after the last
# answer (the doorbell rows), beyond the default window, so with the
# default a dom0 backend never polls; on hardware those gaps are
# microseconds.  The first boot shows what polling gives in that time
# scale, the second what the default gives here.
xen_repeats=${BENCH_XEN_REPEATS:-5}
xen_poll_ns=${BENCH_XEN_POLL_NS:-3000000}
xen_ratios=
xen_tries=

# xen_boot TAG APPEND: one Xen bench boot with APPEND on dom0's command
# line, up to three when the emulator breaks one; sets xen_rows (the
# guest's "bench:" lines, empty on failure) and xen_try.
xen_boot()
{
	local tag=$1 append=$2 xen_out=$IOREQ_BUILD/xen/bench-$1

	xen_rows=
	# The emulator now and then breaks a Xen boot: it stops making
	# progress (QEMU busy, no console output), or the PVH guest
	# triple-faults (QEMU TCG's nested SVM; make check repeats such
	# boots too; here 4 of 11 bench boots in one afternoon), or it stops
	# with QEMU idle (xen-vm.sh kills it after 60 s).  Such a
	# boot is tried again, three boots at most, and the results say so.
	# A whole run takes 40-150 s (about 270 s on a slower host).
	xen_try=1
	while :; do
		log "Xen ($tag): booting Xen 4.17, a PV dom0 ($append) and a PVH guest (2 vcpus), try $xen_try"
		if "$IOREQ_ROOT/selftests/ioreq/xen/xen-vm.sh" --scenario bench \
			--kernel "$(kvar KIMG "$k")" --kroot "$(kvar KROOT "$k")" \
			--module "$kb/drivers/ioreq/ioreq.ko" \
			--module "$kb/drivers/ioreq/xen/ioreq_xen.ko" \
			--add "$tools_out/ioreq-backend" \
			--add "$tools_out/ioreq-xen-native" \
			--env "IOREQ_BENCH_ROUNDS=${BENCH_XEN_ROUNDS:-2000}" \
			--env "IOREQ_BENCH_REPEATS=$xen_repeats" \
			--append "$append" \
			--timeout "${BENCH_XEN_TIMEOUT:-480}" \
			--out "$xen_out" --name "xen-bench-$tag" > "$xen_out.log" 2>&1; then
			xen_rows=$(sed -n 's/.*# bench: \(.*_us=[0-9.]*\)$/\1/p' "$xen_out/ktap.log")
			return 0
		fi
		# A machine that stopped with QEMU idle is killed early by
		# xen-vm.sh, which leaves OUT/stalled saying so.
		if [ "$xen_try" -lt 3 ] &&
		   { grep -q 'did not finish within' "$xen_out.log" ||
		     [ -s "$xen_out/stalled" ]; }; then
			log "Xen boot $xen_try made no progress (the emulator stall, log kept in $xen_out.try$xen_try.log): trying again"
			cp "$xen_out.log" "$xen_out.try$xen_try.log"
			xen_try=$((xen_try + 1))
			continue
		fi
		if [ "$xen_try" -lt 3 ] &&
		   grep -qs 'Triple fault' "$xen_out/console.log"; then
			log "Xen boot $xen_try: the PVH guest triple-faulted (QEMU TCG nested SVM; console kept in $xen_out.try$xen_try.console.log): trying again"
			grep -h -A4 'Triple fault' "$xen_out/console.log" | sed 's/^/    /' || true
			cp "$xen_out/console.log" "$xen_out.try$xen_try.console.log"
			xen_try=$((xen_try + 1))
			continue
		fi
		log "Xen bench ($tag) FAILED, log: $xen_out.log"
		tail -n 30 "$xen_out.log" | sed 's/^/    /'
		return 1
	done
}

# med_min_max FMT: "median min max" (each printed with FMT) of the
# numbers on stdin, one a line; nothing if there are none.
med_min_max()
{
	sort -n | awk -v f="$1" '{ v[NR] = $1 } END { if (NR) printf f " " f " " f "\n",
		NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR] }'
}

# xen_stat WHO V OP: "median min max" of that row's turns.
xen_stat()
{
	printf '%s\n' "$xen_rows" | sed -n "s/^$1_vcpus$2_$3_us=//p" | med_min_max %s
}

# xen_ratio WHO BASE V OP: "median min max" of WHO's figure over BASE's,
# round by round (the k-th turn of each); nothing if their counts differ.
xen_ratio()
{
	printf '%s\n' "$xen_rows" |
		awk -F= -v a="$1_vcpus$3_$4_us" -v b="$2_vcpus$3_$4_us" '
			$1 == a { x[++na] = $2 }
			$1 == b { y[++nb] = $2 }
			END { if (na == nb) for (i = 1; i <= na; i++)
				if (y[i] > 0) printf "%.6f\n", x[i] / y[i] }' |
		med_min_max %.3f
}

# xen_kv KEY "median min max": KEY's ratio lines for the results.
xen_kv()
{
	local med lo hi

	read -r med lo hi <<< "$2"
	[ -n "$hi" ] || return 0
	xen_ratios+="$1=$med"$'\n'"$1_min=$lo"$'\n'"$1_max=$hi"$'\n'
}

# xen_table PREFIX TITLE: print xen_rows as a table and add its results to
# xen_ratios, each key starting with PREFIX.
xen_table()
{
	local p=$1 v op n i d r

	echo
	echo "Xen 4.17 (PV dom0, PVH guest), $2:"
	echo "guest-visible time of one 4-byte MMIO access, ${BENCH_XEN_ROUNDS:-2000} per vcpu per turn,"
	echo "mean over the vcpus; median [min-max] of $xen_repeats alternating turns each, the ratio"
	echo "round by round$([ "$xen_try" = 1 ] || echo " (boot $xen_try: the emulator broke the ones before)"):"
	for v in 1 2; do
		for op in read write; do
			n=$(xen_stat native "$v" "$op")
			i=$(xen_stat ioreq "$v" "$op")
			r=$(xen_ratio ioreq native "$v" "$op")
			[ -n "$n" ] && [ -n "$i" ] && [ -n "$r" ] || continue
			awk -v v="$v" -v op="$op" -v n="$n" -v i="$i" -v r="$r" 'BEGIN {
				split(n, a, " "); split(i, b, " "); split(r, c, " ")
				printf "  %d vcpu%s, %-5s  native %7.1f us [%.0f-%.0f]   /dev/ioreq %7.1f us [%.0f-%.0f]   %5.2fx [%.2f-%.2f] of native   goal <= 0.80x\n",
					v, (v > 1 ? "s" : " "), op, a[1], a[2], a[3], b[1], b[2], b[3], c[1], c[2], c[3] }'
			xen_ratios+="${p}native_vcpus${v}_${op}_us=${n%% *}"$'\n'
			xen_ratios+="${p}ioreq_vcpus${v}_${op}_us=${i%% *}"$'\n'
			xen_kv "${p}vcpus${v}_${op}_ratio" "$r"
		done
		# The floor: writes that dom0's kernel completes (an ioeventfd).
		d=$(xen_stat doorbell "$v" write)
		r=$(xen_ratio doorbell native "$v" write)
		[ -n "$d" ] && [ -n "$r" ] || continue
		awk -v v="$v" -v d="$d" -v r="$r" 'BEGIN {
			split(d, b, " "); split(r, c, " ")
			printf "  %d vcpu%s, write   no server process (ioeventfd in dom0'"'"'s kernel) %7.1f us [%.0f-%.0f]   %5.2fx [%.2f-%.2f] of native\n",
				v, (v > 1 ? "s" : " "), b[1], b[2], b[3], c[1], c[2], c[3] }'
		xen_ratios+="${p}doorbell_vcpus${v}_write_us=${d%% *}"$'\n'
		xen_kv "${p}vcpus${v}_doorbell_ratio" "$r"
	done
}

if [ "${BENCH_XEN:-1}" = 1 ] && [ "$k" = 61 ] &&
   [ -x "$tools_out/ioreq-xen-native" ]; then
	mkdir -p "$IOREQ_BUILD/xen"
	if xen_boot polled "ioreq.read_poll_ns=$xen_poll_ns"; then
		xen_table xen_ "dom0's ioreq.read_poll_ns=$xen_poll_ns"
		xen_ratios+="xen_read_poll_ns=$xen_poll_ns"$'\n'
	else
		rc=1
	fi
	xen_tries+="xen_boot_tries=$xen_try"$'\n'
	if xen_boot default ""; then
		xen_table xen_default_ "ioreq.read_poll_ns at its default"
	else
		rc=1
	fi
	xen_tries+="xen_default_boot_tries=$xen_try"$'\n'
else
	log "no Xen rows: BENCH_XEN=0, not the 6.1 kernel, or no ioreq-xen-native (libxen-dev)"
fi

# ---- KVM virtio: ioreq-kvm-linux --fastpath + ioreq-vhost against QEMU's
# built-in virtio-blk and its vhost-user-blk on the same daemon, fio in
# the inner guests, in turns (scripts/bench-kvm.sh, its own boot of the
# KVM host guest, 9-15 minutes).  BENCH_KVM_VIRTIO=0 leaves it out.
kvm_virtio_result=$IOREQ_BUILD/bench/kvm-virtio.txt
rm -f "$kvm_virtio_result"
if [ "${BENCH_KVM_VIRTIO:-1}" = 1 ] && [ "$k" = 61 ]; then
	BENCH_KBUILD=$kb BENCH_TOOLS=$tools_out RESULT=$kvm_virtio_result \
		"$IOREQ_ROOT/scripts/bench-kvm.sh" || rc=1
else
	log "no KVM virtio rows: BENCH_KVM_VIRTIO=0 or not the 6.1 kernel"
fi

IOREQ_STAGE=bench
result=$IOREQ_BUILD/bench/$kver.txt
# The last run's results stay as KERNEL.prev.txt, for the comparison at
# the end.
[ ! -s "$result" ] || mv "$result" "$IOREQ_BUILD/bench/$kver.prev.txt"
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel=$kver"
	echo "host_cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "host_cores=$NPROC"
	echo "guest=qemu-tcg -smp 2"
	echo "host_load_before=$load"
	echo "host_other_qemu=$other_qemu"
	printf '%s' "$xen_tries"
	sed -n 's/^BENCH: //p' "$out/ktap.log"
	printf '%s' "$xen_ratios"
	[ ! -f "$kvm_virtio_result" ] || grep '^kvm_' "$kvm_virtio_result"
} > "$result"
log "results: $result"

# ---- Xen virtio: fio in an HVM guest, ioreq-vhost against qemu-xen's
# built-in virtio-blk-pci and xen-blkfront/blkback in one boot
# (scripts/bench-xen-virtio.sh, 12-19 minutes here; BENCH_XEN_VIRTIO=0
# leaves it out); its key=value results join the file above.
IOREQ_STAGE=vm
xen_virtio_rows=
. "$IOREQ_ROOT/scripts/bench-xen-virtio.sh"
IOREQ_STAGE=bench
[ -z "$xen_virtio_rows" ] ||
	printf '%s\n' "$xen_virtio_rows" | grep '^xen_virtio_' >> "$result" || true
# Every ratio against the previous run on this machine (issue: two runs
# within 15%): scripts/bench-compare.py says which agree, which are
# noise-bound (one run's value within the other's range of rounds) and
# which differ.
prev=$IOREQ_BUILD/bench/$kver.prev.txt
if [ -s "$prev" ]; then
	log "each ratio against the previous run ($(sed -n 's/^date=//p' "$prev")):"
	"$IOREQ_ROOT/scripts/bench-compare.py" "$prev" "$result" || true
fi
[ "$rc" = 0 ] && log "done in $(( $(now) - start ))s" || log "FAILED (guest log: $out/console.log)"
exit $rc
