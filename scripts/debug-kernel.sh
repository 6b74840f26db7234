#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) a KASAN + lockdep + kmemleak kernel from Debian's
# linux-source-6.1 and print the directory holding it.  The build is cached
# under $IOREQ_CACHE/debug-kernel/<source version>-<config hash>/ and reused
# while the source package and the config below are unchanged.
#
# Usage: scripts/debug-kernel.sh          build if needed, print the tree
set -euo pipefail

cache=${IOREQ_CACHE:-/var/cache/ioreq}
tarball=/usr/src/linux-source-6.1.tar.xz
[ -r "$tarball" ] || { echo "debug-kernel: $tarball missing (apt-get install linux-source-6.1)" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)

# What QEMU, the tests and the module need, Xen dom0/PVH so the same kernel
# can serve as dom0 later, and the checkers.
config_fragment() {
	cat <<'CFG'
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_MODULE_SIG=n
CONFIG_DEVTMPFS=y
CONFIG_DEVTMPFS_MOUNT=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_CONFIGFS_FS=y
CONFIG_EVENTFD=y
CONFIG_DEBUG_INFO_NONE=y
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_INLINE=y
CONFIG_PROVE_LOCKING=y
CONFIG_PROVE_RCU=y
CONFIG_DEBUG_ATOMIC_SLEEP=y
CONFIG_DEBUG_KMEMLEAK=y
CONFIG_DEBUG_KMEMLEAK_MEM_POOL_SIZE=65536
CONFIG_DEBUG_KMEMLEAK_AUTO_SCAN=n
CONFIG_DEBUG_OBJECTS=y
CONFIG_DEBUG_OBJECTS_FREE=y
CONFIG_DEBUG_OBJECTS_TIMERS=y
CONFIG_DEBUG_OBJECTS_WORK=y
CONFIG_DEBUG_OBJECTS_RCU_HEAD=y
CONFIG_UBSAN=y
CONFIG_DETECT_HUNG_TASK=y
CONFIG_DEFAULT_HUNG_TASK_TIMEOUT=60
CONFIG_SOFTLOCKUP_DETECTOR=y
CONFIG_SLUB_DEBUG=y
CONFIG_HYPERVISOR_GUEST=y
CONFIG_PARAVIRT=y
CONFIG_XEN=y
CONFIG_XEN_PV=y
CONFIG_XEN_DOM0=y
CONFIG_XEN_PVH=y
CONFIG_XEN_PRIVCMD=y
CONFIG_XEN_DEV_EVTCHN=y
CONFIG_XEN_GNTDEV=y
CONFIG_XENFS=y
CONFIG_XEN_BACKEND=y
CONFIG_HVC_XEN=y
CONFIG_DRM=n
CONFIG_SOUND=n
CONFIG_USB_SUPPORT=n
CONFIG_WLAN=n
CONFIG_WIRELESS=n
CONFIG_CFG80211=n
CONFIG_NETFILTER=n
CONFIG_HID=n
CONFIG_INPUT_JOYSTICK=n
CONFIG_INPUT_TABLET=n
CONFIG_INPUT_TOUCHSCREEN=n
CONFIG_AGP=n
CONFIG_FB=n
CONFIG_ETHERNET=n
CONFIG_SECURITY_SELINUX=n
CONFIG_AUDIT=n
CFG
}

key="$srcver-$(config_fragment | sha256sum | cut -c1-12)"
dir="$cache/debug-kernel/$key"
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache/debug-kernel"
exec 9>"$cache/debug-kernel/.lock"
flock 9
[ -f "$dir/.done" ] && { echo "$dir"; exit 0; }

start=$(date +%s)
log="$cache/debug-kernel/$key.log"
# The build's own output goes to $log; it is shown if a step fails.
step()
{
	"$@" >>"$log" 2>&1 || {
		tail -n 40 "$log" >&2
		echo "debug-kernel: '$*' failed; the whole log is $log" >&2
		exit 1
	}
}
: >"$log"
echo "[debug-kernel] unpacking linux-source $srcver" >&2
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
step tar -xJf "$tarball" -C "$dir.tmp" --strip-components=1
cd "$dir.tmp"
echo "[debug-kernel] configuring (x86_64_defconfig + kvm_guest.config + debug + xen)" >&2
step make x86_64_defconfig
step make kvm_guest.config
config_fragment > .ioreq.config
step scripts/kconfig/merge_config.sh -m .config .ioreq.config
step make olddefconfig
for opt in KASAN PROVE_LOCKING DEBUG_KMEMLEAK DEBUG_OBJECTS UBSAN XEN_DOM0 XEN_PVH DEBUG_ATOMIC_SLEEP; do
	grep -q "^CONFIG_$opt=y" .config || { echo "debug-kernel: CONFIG_$opt did not stick" >&2; exit 1; }
done
echo "[debug-kernel] building bzImage and modules with -j$(nproc) (the first time only; log: $log)" >&2
step make -j"$(nproc)" bzImage modules
step make modules_prepare
cd /
mv "$dir.tmp" "$dir"
touch "$dir/.done"
echo "[debug-kernel] built in $(( $(date +%s) - start )) s: $dir" >&2
echo "$dir"
