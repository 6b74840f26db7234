#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: what `make demo` does.  Builds the modules for Debian's 6.1
# kernel and the userspace tools, boots that kernel under QEMU (TCG) as a
# KVM host (kvm-amd on the emulated CPU, as the KVM lane of make check),
# and runs tools/demo/virtio-kvm.sh there: a Linux guest on KVM, booted
# by tools/kvm-vmm/ioreq-kvm-linux, whose virtio disk ioreq-vhost and an
# unmodified qemu-storage-daemon serve, told step by step and ending in
# PASS or FAIL.  About a minute on an idle machine (56 s measured), a few
# minutes under load.
#
# DEMO=sim runs the earlier demo instead (tools/demo/demo.sh, about 20 s):
# the simulator ioreq-sim playing a guest for two ioreq-backend processes.
#
# Exit status 0 when the demo passed and the kernel logged no splat.
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
for f in ioreq-backend ioreq-sim demo.sh ioreq-kvm-linux ioreq-vhost; do
	[ -x "$tools_out/$f" ] || die "tools/Makefile did not produce $f"
done

IOREQ_STAGE=vm
out=$IOREQ_BUILD/vm/demo-$kver
mkdir -p "$IOREQ_BUILD/vm"
run=$IOREQ_BUILD/vm/demo-run.sh
mod_args=()
add_args=()
if [ "${DEMO:-kvm}" = sim ]; then
	cat > "$run" <<'EOF'
#!/bin/sh
# The modules are loaded by /init; demo.sh finds its programs beside it.
exec /demo/demo.sh
EOF
	add_args=(--add "$tools_out/ioreq-backend:/demo/ioreq-backend"
		  --add "$tools_out/ioreq-sim:/demo/ioreq-sim"
		  --add "$tools_out/demo.sh:/demo/demo.sh")
	what=tools/demo/demo.sh
else
	cat > "$run" <<'EOF'
#!/bin/sh
# The modules (KVM's, then ioreq's) are loaded by /init.
exec /demo/virtio-kvm.sh
EOF
	kroot=$(kvar KROOT "$k")
	kvm_modules "$kroot" "$IOREQ_BUILD/kvm-modules/$kver" ||
		die "KVM's modules are missing from $kroot"
	mod_args=("${kvm_mod_args[@]}")
	vmlinux=$(kvm_vmlinux "$(kvar KIMG "$k")" "$IOREQ_BUILD/kvm-linux") ||
		die "cannot extract vmlinux from $(kvar KIMG "$k")"
	kvm_linux_initramfs "$kroot" "$IOREQ_ROOT/selftests/ioreq/kvm/linux/init" \
		"$IOREQ_ROOT/selftests/ioreq/kvm/linux/blk.sh" \
		"$IOREQ_BUILD/kvm-linux/demo" "" virtio_pci virtio_blk ext4 ||
		die "cannot make the guest's initramfs"
	qsd=$(command -v qemu-storage-daemon) ||
		die "no qemu-storage-daemon (qemu-system-common): run 'make deps'"
	add_args=(--add "$tools_out/ioreq-kvm-linux:/demo/ioreq-kvm-linux"
		  --add "$tools_out/ioreq-vhost:/demo/ioreq-vhost"
		  --add "$IOREQ_ROOT/tools/demo/virtio-kvm.sh:/demo/virtio-kvm.sh"
		  --add "$qsd:/usr/bin/qemu-storage-daemon"
		  --add "$vmlinux:/demo/vmlinux"
		  --add "$IOREQ_BUILD/kvm-linux/demo.cpio:/demo/guest.cpio")
	what=tools/demo/virtio-kvm.sh
fi
for m in $IOREQ_MODULES; do
	mod_args+=(--module "$kb/$m")
done
log "$kver: booting $(kvar KIMG "$k"), running $what"
rc=0
"$IOREQ_ROOT/selftests/ioreq/vm/vmtest.sh" --kernel "$(kvar KIMG "$k")" \
	--kroot "$(kvar KROOT "$k")" --name "demo-$kver" --out "$out" \
	--timeout "${VM_TIMEOUT:-900}" "${mod_args[@]}" "${add_args[@]}" \
	--run "$run" || rc=$?
IOREQ_STAGE=demo
if [ "$rc" = 0 ]; then
	log "PASS in $(( $(now) - start ))s (guest log: $out/console.log)"
else
	log "FAILED in $(( $(now) - start ))s (guest log: $out/console.log)"
fi
exit $rc
