#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh: `make deb`, the Debian packages (debian/) built from a copy of
# the tree with dpkg-buildpackage, then checked with lintian.
#
#   .build/deb/ioreq_VERSION.dsc, .tar.xz    the (native) source package
#   .build/deb/ioreq-dkms_VERSION_all.deb    module sources + dkms.conf
#   .build/deb/ioreq-tools_VERSION_ARCH.deb  ioreq-backend, ioreq-sim,
#                                            ioreq-vhost, demo.sh
#   .build/deb/libioreq-dev_VERSION_ARCH.deb libioreq.a, headers, ioreq.pc
#   .build/deb/lintian.log                   lintian's tags
#
# Fails when the build fails or lintian reports an error (E:); warnings
# are printed.  Needs dpkg-dev, debhelper, dh-dkms and lintian
# (scripts/deps.sh installs them).
set -euo pipefail

IOREQ_STAGE=deb
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

start=$(now)
for t in dpkg-buildpackage dh dh_dkms lintian; do
	command -v "$t" >/dev/null ||
		die "$t is missing: run 'make deps' as root"
done
ver=$(cd "$IOREQ_ROOT" && dpkg-parsechangelog -S Version)
out=$IOREQ_BUILD/deb
src=$out/ioreq-$ver
rm -rf "$out"
mkdir -p "$out"
copy_tree "$src"
# A tools build in place is output, not source.
rm -rf "$src/tools/build"

log "dpkg-buildpackage in $src"
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$NPROC" \
	dpkg-buildpackage -us -uc --build=full) > "$out/build.log" 2>&1; then
	grep -E 'error|Error|warning' "$out/build.log" | head -n 40 | sed 's/^/    /' || true
	die "dpkg-buildpackage failed, log: $out/build.log"
fi
rm -rf "$src"
changes=$(ls "$out"/ioreq_"$ver"_*.changes)
for p in ioreq-dkms ioreq-tools libioreq-dev; do
	ls "$out/${p}_${ver}"_*.deb >/dev/null 2>&1 || die "no $p package built"
done

log "lintian $(basename "$changes")"
lintian --info --display-info --pedantic "$changes" > "$out/lintian.log" 2>&1 || true
errors=$(grep -c '^E: ' "$out/lintian.log" || true)
warnings=$(grep -c '^W: ' "$out/lintian.log" || true)
grep -E '^[EW]: ' "$out/lintian.log" | sed 's/^/    /' || true
if [ "$errors" != 0 ]; then
	die "lintian: $errors error(s), log: $out/lintian.log"
fi
log "built $(cd "$out" && ls ./*.deb | tr '\n' ' ')in $(( $(now) - start ))s;" \
    "lintian: 0 errors, $warnings warning(s)"
