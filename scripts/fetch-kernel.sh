#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh ABI VERSION [DEST]
#
# Unpack Debian's linux-image-ABI at package version VERSION into DEST
# (default: $IOREQ_CACHE/kernels/ABI) for booting test guests, without
# installing it: `apt-get install` would run update-initramfs and the
# bootloader hooks for a kernel this machine never boots.  DEST gets
# boot/vmlinuz-ABI, boot/config-ABI and lib/modules/ABI/ with modules.dep,
# so that `modprobe -d DEST -S ABI` resolves module dependencies.  Does
# nothing when DEST already holds VERSION.  Prints DEST.
set -euo pipefail

IOREQ_STAGE=${IOREQ_STAGE:-fetch-kernel}
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: $0 ABI VERSION [DEST]"
abi=$1
version=$2
dest=${3:-$IOREQ_CACHE/kernels/$abi}

if [ -f "$dest/.ioreq-version" ] &&
   [ "$(cat "$dest/.ioreq-version")" = "$version" ] &&
   [ -f "$dest/boot/vmlinuz-$abi" ] &&
   [ -f "$dest/lib/modules/$abi/modules.dep" ]; then
	printf '%s\n' "$dest"
	exit 0
fi

tmp=$IOREQ_CACHE/tmp/kernel.$$
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp/deb" "$tmp/root"
# apt drops root to _apt for downloads: let it write here.
if id _apt >/dev/null 2>&1; then
	chown _apt "$tmp/deb"
fi

# apt's own cache may hold it already (apt installs the 6.12 image as a
# dependency of its headers).
deb=
for f in /var/cache/apt/archives/linux-image-"$abi"_*.deb; do
	[ -f "$f" ] || continue
	if [ "$(dpkg-deb -f "$f" Package)" = "linux-image-$abi" ] &&
	   [ "$(dpkg-deb -f "$f" Version)" = "$version" ]; then
		deb=$f
		break
	fi
done
if [ -z "$deb" ]; then
	log "downloading linux-image-$abi $version" >&2
	(cd "$tmp/deb" && apt-get download -q=2 "linux-image-$abi=$version") >&2
	deb=$(find "$tmp/deb" -name '*.deb' | head -n 1)
fi
[ -n "$deb" ] || die "apt-get download linux-image-$abi=$version produced no .deb"

log "unpacking $(basename "$deb")" >&2
dpkg-deb -x "$deb" "$tmp/root"
rm -rf "$tmp/root/usr/share"
[ -f "$tmp/root/boot/vmlinuz-$abi" ] || die "no boot/vmlinuz-$abi in $deb"
depmod -b "$tmp/root" "$abi"
printf '%s\n' "$version" > "$tmp/root/.ioreq-version"

mkdir -p "$(dirname "$dest")"
rm -rf "$dest"
mv "$tmp/root" "$dest"
printf '%s\n' "$dest"
