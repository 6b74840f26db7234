#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# arm64-64k.sh: prepare (once) a kernel build directory for arm64 with
# 64K pages, for a compile-only check of ioreq where PAGE_SIZE (64K) is not
# XEN_PAGE_SIZE (4K), and print it.  Debian ships no 64K-page arm64
# kernel, so this takes linux-source-6.1 ($LINUX_SRC, read only: the
# output goes to O=) with the config of Debian's arm64 6.1 kernel
# (scripts/xen-arm.sh) switched to CONFIG_ARM64_64K_PAGES, and runs
# modules_prepare.  No vmlinux is built, so there is no Module.symvers:
# modpost cannot check symbols against it (callers pass
# KBUILD_MODPOST_WARN=1 and judge the compile only).
#
# Cached as $IOREQ_CACHE/arm64-64k/<linux-source version>-<hash>/.
set -euo pipefail

IOREQ_STAGE=arm64-64k
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
load_env

adir=$("$IOREQ_ROOT/scripts/xen-arm.sh")
# shellcheck disable=SC1091
. "$adir/arm64.env"

srcver=$(basename "$(readlink -f "$LINUX_SRC")")
key="${srcver#linux-source-}-$(cat "$0" "$KDIR_ARM/.config" | sha256sum | cut -c1-12)"
top=$IOREQ_CACHE/arm64-64k
dir=$top/$key
cache_claim "$top" "$key"

start=$(now)
blog=$dir.log
: > "$blog"
rm -rf "$dir"
mkdir -p "$dir"
MK=(make -C "$LINUX_SRC" O="$dir" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
cp "$KDIR_ARM/.config" "$dir/.config"
# 64K pages; no module signing keys or BTF for a compile-only tree.
"$LINUX_SRC/scripts/config" --file "$dir/.config" \
	-d ARM64_4K_PAGES -e ARM64_64K_PAGES \
	-d MODULE_SIG_ALL --set-str MODULE_SIG_KEY "" \
	--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
	-d DEBUG_INFO_BTF
log "modules_prepare of linux-source for arm64, 64K pages (the first time only; log: $blog)" >&2
if ! { "${MK[@]}" olddefconfig && "${MK[@]}" -j"$NPROC" modules_prepare; } >> "$blog" 2>&1; then
	tail -n 30 "$blog" >&2
	die "modules_prepare failed; log: $blog"
fi
grep -q '^CONFIG_ARM64_64K_PAGES=y' "$dir/.config" || die "CONFIG_ARM64_64K_PAGES did not stick"
touch "$dir/.done"
log "prepared in $(( $(now) - start ))s: $dir" >&2
echo "$dir"
