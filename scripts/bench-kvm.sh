#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-kvm.sh: make bench's KVM virtio rows (scripts/bench.sh runs it;
# it also runs alone).  Boots Debian's 6.1 kernel under QEMU (TCG) as the
# KVM lane does, with KVM's modules, ioreq and ioreq_vmm, and runs
# selftests/ioreq/kvm/ioreq_kvm_bench.sh there: Debian's fio in one inner
# guest image (same kernel, same initramfs) on
#
#   ours   ioreq-kvm-linux --fastpath + ioreq-vhost + qemu-storage-daemon
#   qemu   QEMU -accel kvm, its built-in virtio-blk-pci, identical image
#   vuser  QEMU -accel kvm, vhost-user-blk-pci on the same daemon
#   floor  no guest: tools/bench/vhost-blk-floor on the same daemon
#
# in alternating turns in one boot.  Each row is reported as the
# baseline's figure over ours (or ours over the baseline for latency, so
# that below 1 is always ours better), the median and range of the
# per-turn ratios.  Writes the table to stdout and key=value results to
# .build/bench/kvm-virtio.txt (RESULT to override).
#
# Environment: BENCH_KVM_TURNS (default 5), BENCH_KVM_RUNTIME seconds per
# fio job (default 3), BENCH_KVM_ROWS (default ours,qemu,vuser,floor),
# BENCH_KVM_RESTARTS and BENCH_KVM_KILL (ioreq_kvm_bench.sh's),
# BENCH_KVM_MEM inner guests' MiB (default 512), BENCH_KVM_TIMEOUT
# (default 2400 s for the whole guest), BENCH_KVM_QEMU the emulator the
# host guest runs on: by default scripts/qemu-10.sh (bookworm-backports'
# 10.0, unpacked by IOREQ_QEMU10=1 scripts/deps.sh, as make bench does)
# where it is unpacked, else Debian's qemu-system-x86_64 7.2, under which
# this two-CPU guest hung or reset itself in both make bench runs of
# 2026-12-07; under 10.0 it hung in one of four boots
# (Documentation/virt/ioreq/performance.rst).
set -euo pipefail

IOREQ_STAGE=bench-kvm
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

start=$(now)
load_env
kver=$(kvar KVER 61)
kroot=$(kvar KROOT 61)
kimg=$(kvar KIMG 61)
if [ -z "$kroot" ] || [ ! -d "$kroot/lib/modules" ]; then
	die "no unpacked 6.1 kernel package: run 'make deps'"
fi
command -v fio > /dev/null || die "no fio: run 'make deps'"
qsd=$(command -v qemu-storage-daemon) || die "no qemu-storage-daemon: run 'make deps'"
qemu=$(command -v qemu-system-x86_64) || die "no qemu-system-x86_64: run 'make deps'"

# The modules and tools: bench.sh built them; alone, build them here.
kb=${BENCH_KBUILD:-$IOREQ_BUILD/kbuild/$kver}
tools_out=${BENCH_TOOLS:-$IOREQ_BUILD/tools}
if [ ! -f "$kb/drivers/ioreq/vmm/ioreq_vmm.ko" ] ||
   [ ! -x "$tools_out/ioreq-kvm-linux" ] || [ ! -x "$tools_out/vhost-blk-floor" ] ||
   [ "${BENCH_REBUILD:-0}" = 1 ]; then
	build_modules_and_tools 61
fi
IOREQ_STAGE=bench-kvm
kvm_modules "$kroot" "$IOREQ_BUILD/kvm-modules/$kver" ||
	die "KVM's modules are missing from $kroot"
mod_args=("${kvm_mod_args[@]}")
for m in $IOREQ_MODULES; do
	mod_args+=(--module "$kb/$m")
done
vmlinux=$(kvm_vmlinux "$kimg" "$IOREQ_BUILD/kvm-linux") ||
	die "cannot extract vmlinux from $kimg"

# The inner guest's initramfs: linux/init, linux/bench.sh, virtio_pci
# and virtio_blk, and fio with its libraries.
here=$IOREQ_ROOT/selftests/ioreq/kvm
ird=$IOREQ_BUILD/kvm-linux/bench
kvm_linux_initramfs "$kroot" "$here/linux/init" "$here/linux/bench.sh" "$ird" \
	"BENCH_RUNTIME=${BENCH_KVM_RUNTIME:-3}" virtio_pci virtio_blk ||
	die "cannot make the inner guest's initramfs"
kvm_linux_add_prog "$ird" "$(command -v fio)"

out=$IOREQ_BUILD/vm/bench-kvm-$kver
run=$IOREQ_BUILD/vm/bench-kvm-run.sh
mkdir -p "$IOREQ_BUILD/vm" "$IOREQ_BUILD/bench"
cat > "$run" <<RUN
BENCH_KVM_TURNS=${BENCH_KVM_TURNS:-5} BENCH_KVM_ROWS=${BENCH_KVM_ROWS:-ours,qemu,vuser,floor} \\
BENCH_KVM_MEM=${BENCH_KVM_MEM:-512} BENCH_KVM_RUNTIME=${BENCH_KVM_RUNTIME:-3} \\
BENCH_KVM_RESTARTS=${BENCH_KVM_RESTARTS:-2} BENCH_KVM_KILL=${BENCH_KVM_KILL:-} \\
	/usr/bin/ioreq_kvm_bench.sh
RUN
fw=()
for f in qboot.rom linuxboot_dma.bin kvmvapic.bin; do
	fw+=(--add "/usr/share/qemu/$f:/usr/share/qemu/$f")
done
other_qemu=$(pgrep -c qemu-system || true)
load=$(cut -d' ' -f1-3 /proc/loadavg)
[ "$other_qemu" = 0 ] ||
	log "warning: $other_qemu other QEMU process(es) running (load $load): figures will be noisy"
log "$kver: booting the KVM host guest, ${BENCH_KVM_TURNS:-5} turns of ${BENCH_KVM_ROWS:-ours,qemu,vuser,floor}"
host_qemu=${BENCH_KVM_QEMU:-}
if [ -z "$host_qemu" ]; then
	host_qemu="qemu-system-x86_64"
	if "$IOREQ_ROOT/scripts/qemu-10.sh" --version > /dev/null 2>&1; then
		host_qemu=$IOREQ_ROOT/scripts/qemu-10.sh
	else
		log "no QEMU 10 (IOREQ_QEMU10=1 scripts/deps.sh): the host guest runs on Debian's, which hung it before"
	fi
fi
host_qemu_version=$("$host_qemu" --version | sed -n '1s/^QEMU emulator version //p')
[ -n "$host_qemu_version" ] || die "BENCH_KVM_QEMU=$host_qemu: not a QEMU"
log "the host guest runs on QEMU $host_qemu_version ($host_qemu)"
rc=0
QEMU=$host_qemu VM_MEM=${BENCH_KVM_HOST_MEM:-3072} "$IOREQ_ROOT/selftests/ioreq/vm/vmtest.sh" \
	--kernel "$kimg" --kroot "$kroot" --name "bench-kvm-$kver" --out "$out" \
	--timeout "${BENCH_KVM_TIMEOUT:-2400}" "${mod_args[@]}" \
	--add "$here/ioreq_kvm_bench.sh:/usr/bin/ioreq_kvm_bench.sh" \
	--add "$tools_out/ioreq-kvm-linux:/usr/bin/ioreq-kvm-linux" \
	--add "$tools_out/ioreq-vhost:/usr/bin/ioreq-vhost" \
	--add "$tools_out/vhost-blk-floor:/usr/bin/vhost-blk-floor" \
	--add "$qsd:/usr/bin/qemu-storage-daemon" \
	--add "$qemu:/usr/bin/qemu-system-x86_64" \
	"${fw[@]}" \
	--add "$vmlinux:/lib/ioreq-kvm/vmlinux" \
	--add "$kimg:/lib/ioreq-kvm/bzImage" \
	--add "$ird.cpio:/lib/ioreq-kvm/bench.cpio" \
	--run "$run" > "$out.log" 2>&1 || rc=$?
grep -E '^(BENCH-KVM|# )' "$out/ktap.log" > "$out.lines" || true

result=${RESULT:-$IOREQ_BUILD/bench/kvm-virtio.txt}
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kvm_host_load_before=$load"
	echo "kvm_host_other_qemu=$other_qemu"
	echo "kvm_host_qemu=$host_qemu_version"
	python3 "$IOREQ_ROOT/scripts/bench-kvm-table.py" --kv < "$out.lines"
} > "$result"
python3 "$IOREQ_ROOT/scripts/bench-kvm-table.py" < "$out.lines"
grep -E '^# ' "$out.lines" | head -n 40 || true
log "results: $result"
if [ "$rc" = 0 ] && ! grep -q ' failed (' "$out.lines"; then
	log "done in $(( $(now) - start ))s"
else
	log "FAILED (logs: $out.log, $out/console.log)"
	tail -n 30 "$out.log" | sed 's/^/    /'
	exit 1
fi
