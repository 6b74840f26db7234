#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# xen-arm.sh: build (once) what the Arm Xen lane boots and print the
# directory holding it:
#   - Xen for arm64 from Debian's own source package, the version the x86
#     lane runs (the installed xen-hypervisor-4.17-amd64), with Debian's
#     patches and CONFIG_EXPERT + CONFIG_IOREQ_SERVER (Debian's arm64
#     hypervisor has no IOREQ server: "Tech Preview", an EXPERT option);
#   - the arm64 userspace and kernel from Debian's arm64 packages, unpacked
#     with dpkg-deb -x (nothing is installed): xl and its libraries,
#     xenstore-utils, busybox-static, qemu-storage-daemon with its
#     libraries, the 6.1 kernel of the x86 lanes (same ABI and
#     version) with its modules, and its headers for cross-building ioreq.
#
# The result is cached under $IOREQ_CACHE/xen-arm64/<xen>-<kernel>-<hash>/
# (hash: the config and package lists), keyed like scripts/debug-kernel.sh, and reused while
# the versions and this script are unchanged.  DIR/arm64.env is a shell
# fragment and makefile naming the pieces:
#   XEN_ARM     the hypervisor (an arm64 "Image", QEMU's -kernel)
#   AROOT       the unpacked arm64 packages (a root file system tree)
#   KVER_ARM    the kernel's ABI name (6.1.0-NN-arm64)
#   KIMG_ARM    the kernel Image (dom0 and guest)
#   KDIR_ARM    its headers, usable with ARCH=arm64
#               CROSS_COMPILE=aarch64-linux-gnu- (the host's linux-kbuild
#               provides fixdep and modpost)
#
# Usage: scripts/xen-arm.sh    build if needed, print DIR
# Needs (scripts/deps.sh): gcc-aarch64-linux-gnu, libc6-dev-arm64-cross,
# dpkg-dev, flex, bison, python3, the amd64 6.1 headers and Xen packages.
set -euo pipefail

IOREQ_STAGE=xen-arm
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
load_env

CROSS=aarch64-linux-gnu-
command -v "${CROSS}gcc" >/dev/null || die "no ${CROSS}gcc (apt-get install gcc-aarch64-linux-gnu)"

pkgver()
{
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}

xv=$(pkgver xen-hypervisor-4.17-amd64)
[ -n "$xv" ] || die "xen-hypervisor-4.17-amd64 is not installed (make deps)"
kabi=${KVER_61%-amd64}-arm64
kv=$(pkgver "linux-headers-$KVER_61")
[ -n "$kv" ] || die "linux-headers-$KVER_61 is not installed (make deps)"
[ "$(pkgver linux-kbuild-6.1)" = "$kv" ] ||
	die "linux-kbuild-6.1 $(pkgver linux-kbuild-6.1) does not match the headers $kv"

# The arm64 packages: the toolstack at the hypervisor's version, the
# libraries xl loads (checked below), busybox, the kernel and its headers.
XEN_PKGS="xen-utils-4.17 xen-utils-common libxencall1 libxenevtchn1
	libxenforeignmemory1 libxengnttab1 libxenmisc4.17 libxenstore4
	libxentoollog1 libxendevicemodel1 libxenhypfs1 libxentoolcore1
	xenstore-utils"
OTHER_PKGS="busybox-static libyajl2 libc6 libncurses6 libtinfo6 libext2fs2
	libfdt1 libuuid1 zlib1g libcom-err2 liblzma5 libbz2-1.0 libzstd1
	liblzo2-2 libgcc-s1 libnl-3-200 libnl-route-3-200"
# The "virtio" scenario's daemon, unmodified: Debian's arm64
# qemu-storage-daemon (in qemu-system-common) and the libraries it loads.
QSD_PKGS="qemu-system-common libgnutls30 libnuma1 liburing2 libglib2.0-0
	libfuse3-3 libaio1 libnettle8 libgmp10 libhogweed6 libidn2-0
	libp11-kit0 libtasn1-6 libunistring2 libffi8 libmount1 libblkid1
	libpcre2-8-0 libselinux1"
# What of those packages qemu-storage-daemon does not load (QEMU's
# modules, GLib's GIO and GObject), left out of every Arm dom0.
QSD_PRUNE="qemu libgio-2.0.so* libgobject-2.0.so* libgthread-2.0.so*"
KERNEL_PKGS="linux-image-$kabi linux-headers-$kabi"
XEN_CONFIG='CONFIG_DEBUG=n
CONFIG_EXPERT=y
CONFIG_IOREQ_SERVER=y'

top=$IOREQ_CACHE/xen-arm64
# The key: versions, and a hash of what is asked of them.
# shellcheck disable=SC2086 # the lists: one word per package
key="$xv-$kv-$(printf '%s\n' "$XEN_CONFIG" $XEN_PKGS $OTHER_PKGS $QSD_PKGS "$QSD_PRUNE" $KERNEL_PKGS |
	sha256sum | cut -c1-12)"
dir=$top/$key
cache_claim "$top" "$key"

start=$(now)
blog=$top/$key.log
: > "$blog"
step()
{
	"$@" >> "$blog" 2>&1 || {
		tail -n 40 "$blog" >&2
		die "'$*' failed; the whole log is $blog"
	}
}

# 1. A private apt configuration: arm64 binaries and the sources, without
#    touching the host's dpkg (no multiarch).
apt=$top/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
touch "$apt/status"
cat > "$apt/sources.list" <<'EOF'
deb [arch=arm64] http://deb.debian.org/debian bookworm main
deb [arch=arm64] http://deb.debian.org/debian-security bookworm-security main
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main
EOF
cat > "$apt/apt.conf" <<EOF
Dir::Etc::sourcelist "$apt/sources.list";
Dir::Etc::sourceparts "/dev/null";
Dir::State::Lists "$apt/lists";
Dir::Cache "$apt/cache";
Dir::State::status "$apt/status";
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
EOF
export APT_CONFIG=$apt/apt.conf
log "apt-get update (arm64 and sources, private lists in $apt)" >&2
step apt-get update -q=2

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/debs" "$dir.tmp/src"
cd "$dir.tmp"

# 2. Xen from source: the x86 lane's version if its source can be
#    fetched, else the newest 4.17 source that can (bookworm-security's
#    sources are not always reachable: then bookworm's).  The toolstack is
#    taken at the version built.
got=
for v in "$xv" $(apt-cache showsrc xen | sed -n 's/^Version: //p' | sort -urV | grep -vxF "$xv"); do
	case $v in 4.17.*) ;; *) continue ;; esac
	if (cd src && apt-get source -q=2 --download-only "xen=$v" >> "$blog" 2>&1); then
		got=$v
		break
	fi
	rm -f src/*
	log "no source of xen $v can be downloaded here" >&2
done
[ -n "$got" ] || die "no Xen 4.17 source package can be downloaded (log: $blog)"
[ "$got" = "$xv" ] || log "building xen $got instead of the x86 lane's $xv" >&2
xv=$got
uv=${xv%-*}
uv=${uv#*:}
# dpkg-source applies Debian's patches (format 3.0 (quilt)).
(cd src && step dpkg-source -x ./*.dsc xen)
cd src/xen
printf '%s\n' "$XEN_CONFIG" > xen/.config
MX=(XEN_TARGET_ARCH=arm64 "CROSS_COMPILE=$CROSS" "DEB_VERSION=$xv-ioreq")
step make -C xen "${MX[@]}" olddefconfig
for opt in EXPERT IOREQ_SERVER; do
	grep -q "^CONFIG_$opt=y" xen/.config || die "CONFIG_$opt did not stick"
done
log "building Xen $uv for arm64 with -j$NPROC (the first time only; log: $blog)" >&2
t=$(now)
step make -C xen -j"$NPROC" "${MX[@]}"
log "Xen built in $(( $(now) - t ))s" >&2
# (no grep -q on a pipe: an early exit would SIGPIPE nm under pipefail)
"${CROSS}nm" xen/xen-syms | grep -c ' ioreq_server_dm_op$' > /dev/null ||
	die "the Xen built has no ioreq_server_dm_op"
cp xen/xen "$dir.tmp/xen"
cp xen/.config "$dir.tmp/xen.config"
cd "$dir.tmp"
rm -rf src

# 3. The arm64 packages.
log "apt-get download of the arm64 packages" >&2
want=()
for p in $XEN_PKGS; do
	want+=("$p=$xv")
done
for p in $KERNEL_PKGS; do
	want+=("$p=$kv")
done
# shellcheck disable=SC2206
want+=($OTHER_PKGS $QSD_PKGS)
(cd debs && step apt-get download -q=2 "${want[@]}")
for d in debs/*.deb; do
	step dpkg-deb -x "$d" root
done
rm -rf debs
for p in $QSD_PRUNE; do
	rm -rf root/usr/lib/aarch64-linux-gnu/$p
done

# The package ships no modules.dep (depmod makes it at install time).
step depmod -b root "$kabi"

# 4. Checks: every library the toolstack needs is there.
missing=
for f in root/usr/lib/xen-4.17/bin/* root/usr/lib/aarch64-linux-gnu/*.so* \
	 root/usr/bin/qemu-storage-daemon root/usr/bin/xenstore; do
	[ -f "$f" ] && [ ! -L "$f" ] || continue
	"${CROSS}readelf" -d "$f" 2>/dev/null | grep -q NEEDED || continue
	for n in $("${CROSS}readelf" -d "$f" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
		[ -e "root/usr/lib/aarch64-linux-gnu/$n" ] || [ -e "root/lib/aarch64-linux-gnu/$n" ] ||
			[ -e "root/lib/$n" ] || missing="$missing $n(${f##*/})"
	done
done
[ -z "$missing" ] || die "arm64 libraries missing:$missing"

# 5. The headers, for out-of-tree modules: their Makefile includes the
#    common part by absolute path, and scripts/ points into the
#    arch-specific linux-kbuild-6.1: the host's (amd64) has the same
#    version and runs here.
hdr=root/usr/src/linux-headers-$kabi
common=$(sed -n 's|^include /usr/src/\(linux-headers-[^/]*-common\)/Makefile$|\1|p' "$hdr/Makefile")
[ -n "$common" ] || die "unexpected $hdr/Makefile"
[ -d "/usr/src/$common/arch/arm64" ] || die "/usr/src/$common has no arch/arm64"
mkdir -p root/usr/lib
ln -sfn /usr/lib/linux-kbuild-6.1 root/usr/lib/linux-kbuild-6.1

cat > arm64.env <<EOF
# Written by scripts/xen-arm.sh; do not edit.
XEN_ARM=$dir/xen
AROOT=$dir/root
KVER_ARM=$kabi
KIMG_ARM=$dir/root/boot/vmlinuz-$kabi
KDIR_ARM=$dir/$hdr
XEN_ARM_VERSION=$xv
EOF
[ -f "root/boot/vmlinuz-$kabi" ] || die "no root/boot/vmlinuz-$kabi"
touch .done
cd "$top"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
log "ready in $(( $(now) - start ))s: $dir" >&2
echo "$dir"
