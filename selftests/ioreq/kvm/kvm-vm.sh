#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kvm-vm.sh: the KVM lane.  Boots Debian's 6.1 kernel under QEMU (TCG;
# vmtest.sh gives the guest "-cpu max,-smap", an AMD CPU with SVM and
# nested paging), loads irqbypass, kvm, ccp and kvm-amd from the unpacked
# kernel package, then ioreq.ko and ioreq_vmm.ko, and runs ioreq_kvm.sh:
# a KVM guest of tools/kvm-vmm/ioreq-kvm whose MMIO and port accesses the
# unchanged tools/ioreq-backend serves.  Its eight scenarios are KTAP cases,
# counted with the module loading and unloading by vmtest.sh.
#
# With --virtio, a separate boot runs ioreq_kvm_virtio.sh instead (in the
# same guest after ioreq_kvm.sh's VMs the test hung once, unexplained):
# tools/kvm-vmm/ioreq-kvm-linux boots Debian's
# 6.1 kernel (its vmlinux, extracted here from the package's bzImage and
# cached in .build/kvm-linux) as a KVM guest whose virtio disk (and
# share) tools/ioreq-vhost serves with qemu-storage-daemon (virtiofsd).
# IOREQ_KVM_VIRTIO picks its scenarios, comma-separated (default
# "blk,kill,restart,fs"; 0 leaves it out).
#
# usage: kvm-vm.sh [--virtio] [--kbuild DIR] [--tools DIR] [--out DIR] [--timeout SECS]
#   --virtio        run ioreq_kvm_virtio.sh (IOREQ_KVM_VIRTIO's scenarios)
#                   instead of ioreq_kvm.sh; default out: .build/vm/kvm-virtio-KVER
#   --kbuild DIR    the modules built for the 6.1 kernel (kbuild output:
#                   DIR/drivers/ioreq/ioreq.ko ...); default: build them
#                   into .build/kbuild/KVER
#   --tools DIR     output of `make -C tools kvm` (ioreq-kvm,
#                   ioreq-kvm-payload.bin, ioreq-backend); default: build
#                   it into .build/tools-kvm
#   --out DIR       for vmtest.sh (default: .build/vm/kvm-KVER)
#   --timeout SECS  wall-clock limit for the guest (default 600; 900 with --virtio)
#
# The last line is vmtest.sh's "kvm-KVER: N passed, N failed, N skipped";
# OUT/result holds the counts.  Exit status 0 only if nothing failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
IOREQ_STAGE=kvm
# shellcheck source=scripts/lib.sh
. "$here/../../../scripts/lib.sh"

usage()
{
	sed -n '/^# usage:/,/^# The last/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

kbuild=
virtio_only=0
timeout_set=0
tools=
out=
timeout=600
while [ $# -gt 0 ]; do
	case $1 in
	--kbuild)	kbuild=$2; shift ;;
	--tools)	tools=$2; shift ;;
	--out)		out=$2; shift ;;
	--timeout)	timeout=$2; timeout_set=1; shift ;;
	--virtio)	virtio_only=1; [ "$timeout_set" = 1 ] || timeout=900
			shift; continue ;;
	-h|--help)	usage ;;
	*)		printf 'kvm-vm: unknown argument %s\n' "$1" >&2; usage ;;
	esac
	[ $# -gt 0 ] || usage
	shift
done

IOREQ_KERNELS=61
load_env
kver=$(kvar KVER 61)
kroot=$(kvar KROOT 61)
if [ -z "$kroot" ] || [ ! -d "$kroot/lib/modules" ]; then
	die "no unpacked 6.1 kernel package (KROOT_61 in $IOREQ_ENV): run 'make deps'"
fi
if [ "$virtio_only" = 1 ]; then
	out=${out:-$IOREQ_BUILD/vm/kvm-virtio-$kver}
else
	out=${out:-$IOREQ_BUILD/vm/kvm-$kver}
fi

if [ -z "$kbuild" ]; then
	kbuild=$IOREQ_BUILD/kbuild/$kver
	log "$kver: make -C $(kvar KDIR 61) M=$kbuild modules"
	if ! build_modules 61 "$kbuild"; then
		grep -E 'error|warning' "$kbuild.log" | head -n 40 | sed 's/^/    /' || true
		die "module build failed, log: $kbuild.log"
	fi
fi
if [ -z "$tools" ]; then
	tools=$IOREQ_BUILD/tools-kvm
	log "make -C tools kvm OUTPUT=$tools"
	if ! make -j"$NPROC" -C "$IOREQ_ROOT/tools" OUTPUT="$tools" kvm \
	     > "$tools.log" 2>&1; then
		tail -n 40 "$tools.log" | sed 's/^/    /'
		die "tools build failed, log: $tools.log"
	fi
fi
for f in ioreq-kvm ioreq-kvm-payload.bin ioreq-backend ioreq-kvm-linux; do
	[ -f "$tools/$f" ] || die "no $tools/$f: make -C tools kvm OUTPUT=$tools"
done

# KVM's modules from the kernel package, in load order (scripts/lib.sh).
kvm_modules "$kroot" "$IOREQ_BUILD/kvm-modules/$kver" ||
	die "KVM's modules are missing from $kroot"
mod_args=("${kvm_mod_args[@]}")
for m in $IOREQ_MODULES; do
	mod_args+=(--module "$kbuild/$m")
done

virtio=${IOREQ_KVM_VIRTIO-blk,kill,restart,fs}
[ "$virtio" != 0 ] && [ "$virtio_only" = 1 ] || virtio=
virtio_args=()
append=
if [ -n "$virtio" ]; then
	vhost=$tools/ioreq-vhost
	if [ ! -x "$vhost" ]; then
		log "make -C tools OUTPUT=$tools ioreq-vhost"
		make -j"$NPROC" -C "$IOREQ_ROOT/tools" OUTPUT="$tools" "$vhost" \
			> "$tools.vhost.log" 2>&1 ||
			die "ioreq-vhost build failed, log: $tools.vhost.log"
	fi
	vmlinux=$(kvm_vmlinux "$(kvar KIMG 61)" "$IOREQ_BUILD/kvm-linux") ||
		die "cannot extract vmlinux from $(kvar KIMG 61)"
	qsd=$(command -v qemu-storage-daemon) ||
		die "no qemu-storage-daemon (qemu-system-common): run 'make deps'"
	virtio_args=(--test "$here/ioreq_kvm_virtio.sh"
		--add "$tools/ioreq-kvm-linux:/usr/bin/ioreq-kvm-linux"
		--add "$vhost:/usr/bin/ioreq-vhost"
		--add "$qsd:/usr/bin/qemu-storage-daemon"
		--add "/usr/lib/qemu/virtiofsd:/usr/lib/qemu/virtiofsd"
		--add "$vmlinux:/lib/ioreq-kvm/vmlinux")
	for s in ${virtio//,/ }; do
		case $s in
		blk|kill|restart)
				kmods=(virtio_pci virtio_blk ext4); script=blk ;;
		fs)		kmods=(virtio_pci virtiofs); script=fs ;;
		*)		die "IOREQ_KVM_VIRTIO: unknown scenario $s" ;;
		esac
		kvm_linux_initramfs "$kroot" "$here/linux/init" \
			"$here/linux/$script.sh" "$IOREQ_BUILD/kvm-linux/$s" \
			"$(case $s in kill) echo VIRTIO_KILL=1 ;;
			   restart) echo VIRTIO_KILL=1 VIRTIO_NOFS=1 ;; esac)" \
			"${kmods[@]}" ||
			die "cannot make the $s guest's initramfs"
		virtio_args+=(--add "$IOREQ_BUILD/kvm-linux/$s.cpio:/lib/ioreq-kvm/$s.cpio")
	done
	append="IOREQ_KVM_VIRTIO=$virtio"
fi

if [ "$virtio_only" = 1 ]; then
	[ -n "$virtio" ] || die "--virtio with IOREQ_KVM_VIRTIO=0"
	exec "$here/../vm/vmtest.sh" --kernel "$(kvar KIMG 61)" --kroot "$kroot" \
		--name "kvm-virtio-$kver" --out "$out" --timeout "$timeout" \
		--test-timeout "$timeout" "${mod_args[@]}" \
		--append "$append" "${virtio_args[@]}"
fi
exec "$here/../vm/vmtest.sh" --kernel "$(kvar KIMG 61)" --kroot "$kroot" \
	--name "kvm-$kver" --out "$out" --timeout "$timeout" \
	--test-timeout "$timeout" "${mod_args[@]}" \
	--test "$here/ioreq_kvm.sh" \
	--add "$tools/ioreq-kvm:/usr/bin/ioreq-kvm" \
	--add "$tools/ioreq-backend:/usr/bin/ioreq-backend" \
	--add "$tools/ioreq-kvm-payload.bin:/lib/ioreq-kvm/payload.bin"
