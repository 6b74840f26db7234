#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: build the modules and tools/bench/ioreq-bench for Debian's
# 6.1 kernel, boot it under QEMU and run the benchmark there.  The table
# goes to stdout; the key=value results to .build/bench/KERNEL.txt.
set -euo pipefail

IOREQ_STAGE=bench
. "$(dirname "$0")/lib.sh"

start=$(now)
k=${BENCH_KERNEL:-61}

"$IOREQ_ROOT/scripts/deps.sh"
load_env
kver=$(kvar KVER "$k")

build_modules_and_tools "$k"

IOREQ_STAGE=vm
out=$IOREQ_BUILD/vm/bench-$kver
mkdir -p "$IOREQ_BUILD/vm" "$IOREQ_BUILD/bench"
run=$IOREQ_BUILD/vm/bench-run.sh
cat > "$run" <<RUN
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
/bench/ioreq-bench -n ${BENCH_ITERS:-5000} -r ${BENCH_REPEATS:-5} -o /tmp/bench.txt || exit 1
sed 's/^/BENCH: /' /tmp/bench.txt
RUN
mod_args=()
for m in $IOREQ_MODULES; do
	mod_args+=(--module "$kb/$m")
done
log "$kver: booting $(kvar KIMG "$k"), running ioreq-bench"
rc=0
"$IOREQ_ROOT/selftests/ioreq/vm/vmtest.sh" --kernel "$(kvar KIMG "$k")" \
	--kroot "$(kvar KROOT "$k")" --name "bench-$kver" --out "$out" \
	--timeout "${VM_TIMEOUT:-1200}" "${mod_args[@]}" \
	--add "$tools_out/ioreq-bench:/bench/ioreq-bench" \
	--run "$run" || rc=$?

IOREQ_STAGE=bench
result=$IOREQ_BUILD/bench/$kver.txt
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel=$kver"
	echo "host_cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "host_cores=$NPROC"
	echo "guest=qemu-tcg -smp 2"
	sed -n 's/^BENCH: //p' "$out/ktap.log"
} > "$result"
log "results: $result"
[ "$rc" = 0 ] && log "done in $(( $(now) - start ))s" || log "FAILED (guest log: $out/console.log)"
exit $rc
