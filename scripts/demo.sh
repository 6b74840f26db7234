#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: what `make demo` does.  Builds the modules for Debian's 6.1
# kernel and the userspace tools (tools/Makefile: ioreq-backend,
# ioreq-sim, demo.sh), boots that kernel under QEMU with them, and runs
# tools/demo/demo.sh in the guest, printing what it says.  Exit status 0
# when the demo passed and the kernel logged no splat.
set -euo pipefail

IOREQ_STAGE=demo
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

start=$(now)
k=${DEMO_KERNEL:-61}

"$IOREQ_ROOT/scripts/deps.sh"
load_env
kver=$(kvar KVER "$k")

build_modules_and_tools "$k"
for f in ioreq-backend ioreq-sim demo.sh; do
	[ -x "$tools_out/$f" ] || die "tools/Makefile did not produce $f"
done

IOREQ_STAGE=vm
out=$IOREQ_BUILD/vm/demo-$kver
mkdir -p "$IOREQ_BUILD/vm"
run=$IOREQ_BUILD/vm/demo-run.sh
cat > "$run" <<'EOF'
#!/bin/sh
# The modules are loaded by /init; demo.sh finds its programs beside it.
exec /demo/demo.sh
EOF
mod_args=()
for m in $IOREQ_MODULES; do
	mod_args+=(--module "$kb/$m")
done
log "$kver: booting $(kvar KIMG "$k"), running tools/demo/demo.sh"
rc=0
"$IOREQ_ROOT/selftests/ioreq/vm/vmtest.sh" --kernel "$(kvar KIMG "$k")" \
	--kroot "$(kvar KROOT "$k")" --name "demo-$kver" --out "$out" \
	--timeout "${VM_TIMEOUT:-600}" "${mod_args[@]}" \
	--add "$tools_out/ioreq-backend:/demo/ioreq-backend" \
	--add "$tools_out/ioreq-sim:/demo/ioreq-sim" \
	--add "$tools_out/demo.sh:/demo/demo.sh" \
	--run "$run" || rc=$?
IOREQ_STAGE=demo
if [ "$rc" = 0 ]; then
	log "PASS in $(( $(now) - start ))s (guest log: $out/console.log)"
else
	log "FAILED in $(( $(now) - start ))s (guest log: $out/console.log)"
fi
exit $rc
