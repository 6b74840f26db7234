#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: install and unpack what building, linting and testing ioreq
# need on Debian 12 (bookworm), then write the resolved paths to
# $IOREQ_ENV (default /var/cache/ioreq/env.mk) for the Makefile and the
# other scripts.  Run as root.  Idempotent: a second run installs and
# downloads nothing, and runs `apt-get update` only when something is
# missing.
#
# What it provides:
#   - the build tools, QEMU and busybox-static for the test guests;
#   - headers of Debian's 6.1 kernel (bookworm, bookworm-security) and of
#     the 6.12 kernel of bookworm-backports, the two kernels we support;
#   - the newest kernel Debian ships (trixie or trixie-backports), its
#     image unpacked and its source prepared for module builds
#     (scripts/newest-kernel.sh), so that API moves show up early
#     (IOREQ_NEWEST=0: not, for a machine that cannot reach trixie);
#   - the matching kernel images, unpacked (not installed) under
#     $IOREQ_CACHE/kernels/ABI/ by scripts/fetch-kernel.sh;
#   - linux-source-6.1 unpacked once under $IOREQ_CACHE/linux-source-VER/
#     for checkpatch.pl and the kselftest harness (never copied into the
#     tree).
set -euo pipefail

IOREQ_STAGE=deps
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

BACKPORTS_LINE='deb http://deb.debian.org/debian bookworm-backports main'
BACKPORTS_LIST=/etc/apt/sources.list.d/bookworm-backports.list

# Xen's hypervisor and tools are not run on this machine: make check boots
# them under QEMU (selftests/ioreq/xen/xen-vm.sh copies them into dom0).
# libxen-dev builds make bench's native Xen baseline (tools/xen-native).
# qemu-system-xen is the device model of the lane's HVM guests.
# fio: make bench's virtio rows run it inside the guests (scripts/bench-kvm.sh).
# dkms, debhelper, dh-dkms, dpkg-dev, fakeroot, lintian and help2man: make
# deb (debian/) and make check's package stage (scripts/pkg-check.sh).
# The Arm lane (scripts/xen-arm.sh): the cross compiler and its libc for
# Xen, the modules and the test programs, dpkg-source for Xen's source
# package, QEMU for arm64; the arm64 packages themselves are unpacked
# into IOREQ_CACHE, not installed.
BASE_PKGS="gcc make bc flex bison libelf-dev libssl-dev libc6-dev kmod cpio
	busybox-static qemu-system-x86 sparse xz-utils perl python3
	dkms debhelper dh-dkms dpkg-dev fakeroot lintian help2man
	xen-hypervisor-4.17-amd64 xen-utils-4.17 libxen-dev qemu-system-xen
	gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
	qemu-system-arm fio"

export DEBIAN_FRONTEND=noninteractive
APT_INSTALL=(apt-get install -y -q=2 --no-install-recommends
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

start=$(now)
[ "$(id -u)" = 0 ] || die "must run as root (it installs packages with apt-get)"
if ! grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release; then
	die "this script supports Debian 12 (bookworm) only"
fi
mkdir -p "$IOREQ_CACHE"

# installed_version PKG: its version if installed, else nothing.
installed_version()
{
	{ dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null || true; } |
		awk '$1 == "install" && $3 == "installed" { print $4 }'
}

# candidate_version PKG: the version `apt-get install PKG` would pick.
candidate_version()
{
	{ apt-cache policy "$1" 2>/dev/null || true; } |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }'
}

# meta_version backports|stable: newest linux-headers-amd64 of that suite.
meta_version()
{
	local want=$1

	{ apt-cache madison linux-headers-amd64 2>/dev/null || true; } |
		awk -F' *[|] *' -v want="$want" '
			($3 ~ /bookworm-backports/) == (want == "backports") {
				print $2; exit
			}'
}

# abi_of VERSION: the ABI name linux-headers-amd64=VERSION depends on.
abi_of()
{
	{ apt-cache depends "linux-headers-amd64=$1" 2>/dev/null || true; } |
		sed -n '/^ *Depends: linux-headers-.*-amd64$/{s/^ *Depends: linux-headers-//p;q;}'
}

# apt's and dpkg's chatter goes to a log, shown only when a step fails.
APT_LOG=$IOREQ_CACHE/apt.log
: > "$APT_LOG"
apt_run()
{
	if ! "$@" >> "$APT_LOG" 2>&1; then
		tail -n 40 "$APT_LOG" | sed 's/^/    /' >&2
		die "failed: $* (log: $APT_LOG)"
	fi
}

apt_updated=
apt_update()
{
	[ -z "$apt_updated" ] || return 0
	log "apt-get update"
	apt_run apt-get update -q=2
	apt_updated=1
}

# 1. bookworm-backports in the apt sources
need_update=
if grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list \
		/etc/apt/sources.list.d/; then
	log "bookworm-backports: in apt sources"
else
	log "bookworm-backports: adding $BACKPORTS_LIST"
	printf '%s\n' "$BACKPORTS_LINE" > "$BACKPORTS_LIST"
	need_update=1
fi

# 2. base packages
missing=
for p in $BASE_PKGS; do
	[ -n "$(installed_version "$p")" ] || missing="$missing $p"
done
[ -z "$missing" ] || need_update=1

# The package lists must know both kernels' metapackages.
if [ -z "$(meta_version stable)" ] || [ -z "$(meta_version backports)" ]; then
	need_update=1
fi
[ -z "$need_update" ] || apt_update

if [ -n "$missing" ]; then
	log "installing:$missing"
	# shellcheck disable=SC2086
	apt_run "${APT_INSTALL[@]}" $missing
else
	log "base packages: installed"
fi

# 3. resolve the kernels' ABI names from the metapackages
ver61=$(meta_version stable)
ver612=$(meta_version backports)
[ -n "$ver61" ] || die "no linux-headers-amd64 in bookworm/bookworm-security"
[ -n "$ver612" ] || die "no linux-headers-amd64 in bookworm-backports"
abi61=$(abi_of "$ver61")
abi612=$(abi_of "$ver612")
[ -n "$abi61" ] || die "cannot resolve the ABI of linux-headers-amd64=$ver61"
[ -n "$abi612" ] || die "cannot resolve the ABI of linux-headers-amd64=$ver612"
log "kernels: $abi61 (linux-headers-amd64 $ver61), $abi612 (linux-headers-amd64 $ver612)"

# 4. headers and linux-source, at the version apt would install now so
#    that the kernel images downloaded below match them
ensure_pkg()
{
	local pkg=$1 have want

	shift
	have=$(installed_version "$pkg")
	want=$(candidate_version "$pkg")
	if [ -z "$want" ] && [ -z "$need_update" ]; then
		apt_update
		want=$(candidate_version "$pkg")
	fi
	[ -n "$want" ] || die "no installable version of $pkg"
	if [ "$have" = "$want" ]; then
		log "$pkg $have: installed"
		return 0
	fi
	log "installing $pkg $want${have:+ (was $have)}"
	apt_run "${APT_INSTALL[@]}" "$@" "$pkg=$want"
}

# The backports headers depend on their kernel image, so apt installs it:
# INITRD=No stops the kernel hooks from building an initramfs for it.
export INITRD=No
ensure_pkg "linux-headers-$abi61"
ensure_pkg "linux-headers-$abi612" -t bookworm-backports
ensure_pkg linux-source-6.1

KDIR_61=/usr/src/linux-headers-$abi61
KDIR_612=/usr/src/linux-headers-$abi612
for d in "$KDIR_61" "$KDIR_612"; do
	[ -f "$d/Module.symvers" ] || die "$d is not a kernel build directory"
done

# 5. linux-source, unpacked once per package version
src_ver=$(installed_version linux-source-6.1)
LINUX_SRC=$IOREQ_CACHE/linux-source-$src_ver
if [ -f "$LINUX_SRC/.ioreq-complete" ]; then
	log "linux-source $src_ver: $LINUX_SRC"
else
	log "unpacking linux-source $src_ver to $LINUX_SRC"
	tarball=$(dpkg -L linux-source-6.1 | grep -m 1 '/linux-source-6\.1\.tar\.xz$') ||
		die "linux-source-6.1 ships no tarball"
	tmp=$IOREQ_CACHE/tmp/source.$$
	rm -rf "$tmp" "$LINUX_SRC"
	mkdir -p "$tmp"
	tar -C "$tmp" --no-same-owner -xJf "$tarball"
	mv "$tmp/linux-source-6.1" "$LINUX_SRC"
	rmdir "$tmp"
	touch "$LINUX_SRC/.ioreq-complete"
fi
# A stable name for the newest one, for people and defaults.
if [ -L "$IOREQ_CACHE/linux-source-6.1" ] || [ ! -e "$IOREQ_CACHE/linux-source-6.1" ]; then
	ln -sfn "linux-source-$src_ver" "$IOREQ_CACHE/linux-source-6.1"
fi
for f in scripts/checkpatch.pl tools/testing/selftests/kselftest_harness.h; do
	[ -f "$LINUX_SRC/$f" ] || die "$LINUX_SRC/$f is missing"
done

# 6. kernel images for the guests, unpacked, matching the headers
fetch()
{
	local abi=$1 ver root

	ver=$(installed_version "linux-headers-$abi")
	root=$("$IOREQ_ROOT/scripts/fetch-kernel.sh" "$abi" "$ver")
	log "kernel image $abi $ver: $root" >&2
	printf '%s' "$root"
}
KROOT_61=$(fetch "$abi61")
KROOT_612=$(fetch "$abi612")

# 7. the third kernel, the newest Debian ships (trixie or its backports),
#    unpacked and prepared by scripts/newest-kernel.sh; IOREQ_NEWEST=0
#    goes without it (then say IOREQ_KERNELS="61 612" too)
newest=
if [ "${IOREQ_NEWEST:-1}" = 1 ]; then
	newest=$("$IOREQ_ROOT/scripts/newest-kernel.sh")
fi

# 8. IOREQ_QEMU10=1: qemu-system-x86 10.0 of bookworm-backports, unpacked
#    (not installed, the system's 7.2 stays) under $IOREQ_CACHE/qemu-10
#    for scripts/qemu-10.sh, the outer QEMU of scripts/xen-soak.sh's
#    comparison (Documentation/virt/ioreq/xen.rst).  Its libraries are
#    bookworm's.
if [ "${IOREQ_QEMU10:-0}" = 1 ]; then
	q10=$IOREQ_CACHE/qemu-10
	if [ -x "$q10/usr/bin/qemu-system-x86_64" ]; then
		log "qemu 10 (backports): $q10"
	else
		apt_update
		tmp=$IOREQ_CACHE/tmp/qemu10.$$
		rm -rf "$tmp" "$q10.new"
		mkdir -p "$tmp" "$q10.new"
		log "qemu 10 (backports): unpacking into $q10"
		(cd "$tmp" && apt_run apt-get download -q=2 -t bookworm-backports \
			qemu-system-x86 qemu-system-common qemu-system-data)
		for d in "$tmp"/*.deb; do
			dpkg-deb -x "$d" "$q10.new"
		done
		rm -rf "$tmp" "$q10"
		mv "$q10.new" "$q10"
	fi
fi

# 9. the env file
tmpenv=$(mktemp "$IOREQ_ENV.XXXXXX")
cat > "$tmpenv" <<EOF
# Written by scripts/deps.sh: the kernels ioreq is built and tested on.
# Both a makefile and a shell fragment; do not edit.
IOREQ_CACHE=$IOREQ_CACHE
LINUX_SRC=$LINUX_SRC
KVER_61=$abi61
KDIR_61=$KDIR_61
KROOT_61=$KROOT_61
KIMG_61=$KROOT_61/boot/vmlinuz-$abi61
KVER_612=$abi612
KDIR_612=$KDIR_612
KROOT_612=$KROOT_612
KIMG_612=$KROOT_612/boot/vmlinuz-$abi612
$newest
EOF
chmod 644 "$tmpenv"
if cmp -s "$tmpenv" "$IOREQ_ENV"; then
	rm -f "$tmpenv"
else
	mv "$tmpenv" "$IOREQ_ENV"
fi
log "wrote $IOREQ_ENV:"
sed -n 's/^\([A-Za-z_0-9]*=\)/    \1/p' "$IOREQ_ENV"
log "done in $(( $(now) - start ))s"
