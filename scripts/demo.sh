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

IOREQ_STAGE=build
t=$(now)
kb=$IOREQ_BUILD/kbuild/$kver
log "$kver: make -C $(kvar KDIR "$k") M=$kb modules"
if ! build_modules "$k" "$kb"; then
	grep -E 'error|warning' "$kb.log" | head -n 40 | sed 's/^/    /' || true
	die "module build failed, log: $kb.log"
fi
log "modules built in $(( $(now) - t ))s"

t=$(now)
tools_out=$IOREQ_BUILD/tools
log "make -C tools OUTPUT=$tools_out"
rm -rf "$tools_out"
if ! make -j"$NPROC" -C "$IOREQ_ROOT/tools" OUTPUT="$tools_out" > "$tools_out.log" 2>&1; then
	tail -n 40 "$tools_out.log" | sed 's/^/    /'
	die "tools build failed, log: $tools_out.log"
fi
for f in ioreq-backend ioreq-sim demo.sh; do
	[ -x "$tools_out/$f" ] || die "tools/Makefile did not produce $f"
done
log "tools built in $(( $(now) - t ))s"

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
