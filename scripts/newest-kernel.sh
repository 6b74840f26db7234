#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# newest-kernel.sh: the third kernel, the newest one Debian ships (trixie,
# trixie-security or trixie-backports), so that kernel API moves show up
# before users meet them.  Run as root by scripts/deps.sh; prints the lines
# of the env file for it (KVER_new, KDIR_new, KROOT_new, KIMG_new).
#
# Nothing of trixie is installed on this bookworm machine: a private apt
# configuration under $IOREQ_CACHE/apt-trixie resolves and downloads the
# packages, which are only unpacked:
#   - linux-binary-ABI and linux-modules-ABI into $IOREQ_CACHE/kernels/ABI
#     (boot/vmlinuz-ABI, lib/modules/ABI/), the guests' kernel, as
#     scripts/fetch-kernel.sh lays out the others;
#   - linux-source-X.Y into $IOREQ_CACHE/kbuild/ABI, configured with the
#     package's own config (linux-headers-ABI) and prepared for external
#     modules with bookworm's gcc, with the package's Module.symvers.
# Why not Debian's prebuilt linux-headers-ABI: its tools run here, but it
# was configured for trixie's gcc-14 and passes it options gcc-12 lacks
# (-fmin-function-alignment); olddefconfig with gcc-12 only drops
# compiler-feature and Rust symbols (CC_HAS_*, RUST*), no option that
# changes a structure the modules share with the kernel, and the
# symbol CRCs come from the package's Module.symvers, so the modules
# load into Debian's image.
#
# The choice is made once and kept (a second run downloads nothing):
# IOREQ_NEWEST_REFRESH=1 asks the archive again.
set -euo pipefail

IOREQ_STAGE=${IOREQ_STAGE:-newest-kernel}
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

aptdir=$IOREQ_CACHE/apt-trixie
APT_OPTS=(-o "Dir::Etc::sourcelist=$aptdir/sources.list"
	  -o Dir::Etc::sourceparts=- -o "Dir::State::lists=$aptdir/lists"
	  -o "Dir::Cache=$aptdir/cache" -o Dir::State::status=/dev/null
	  -o APT::Architectures=amd64)
chatter=$IOREQ_CACHE/newest-kernel.log

run()
{
	if ! "$@" >> "$chatter" 2>&1; then
		tail -n 30 "$chatter" | sed 's/^/    /' >&2
		die "failed: $* (log: $chatter)"
	fi
}

: > "$chatter"
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
cat > "$aptdir/sources.list.new" <<'EOF'
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie-backports main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security trixie-security main
EOF
mv "$aptdir/sources.list.new" "$aptdir/sources.list"
if [ "${IOREQ_NEWEST_REFRESH:-0}" = 1 ] || [ ! -s "$aptdir/choice" ]; then
	log "apt-get update (trixie, trixie-backports, trixie-security; private lists in $aptdir)" >&2
	run apt-get -q=2 "${APT_OPTS[@]}" update
	# The newest linux-headers-amd64 of the three suites.
	ver=$(apt-cache "${APT_OPTS[@]}" madison linux-headers-amd64 |
		awk -F' *[|] *' '{ print $2 }' | sort -V | tail -n 1)
	[ -n "$ver" ] || die "no linux-headers-amd64 in trixie"
	abi=$(apt-cache "${APT_OPTS[@]}" depends "linux-headers-amd64=$ver" |
		sed -n '/^ *Depends: linux-headers-.*-amd64$/{s/^ *Depends: linux-headers-//p;q;}')
	[ -n "$abi" ] || die "cannot resolve the ABI of linux-headers-amd64=$ver"
	printf '%s %s\n' "$abi" "$ver" > "$aptdir/choice"
fi
read -r abi ver < "$aptdir/choice"
series=$(printf '%s' "$abi" | sed -n 's/^\([0-9]*\.[0-9]*\)\..*/\1/p')
kroot=$IOREQ_CACHE/kernels/$abi
kdir=$IOREQ_CACHE/kbuild/$abi

if [ "$(cat "$kroot/.ioreq-version" 2>/dev/null)" = "$ver" ] &&
   [ "$(cat "$kdir/.ioreq-version" 2>/dev/null)" = "$ver" ]; then
	log "$abi ($ver): $kroot, $kdir" >&2
else
	start=$(now)
	tmp=$IOREQ_CACHE/tmp/newest.$$
	trap 'rm -rf "$tmp"' EXIT
	rm -rf "$tmp"
	mkdir -p "$tmp/deb" "$tmp/root" "$tmp/hdr"
	! id _apt >/dev/null 2>&1 || chown _apt "$tmp/deb"
	log "downloading Linux $abi ($ver): image, modules, headers, source" >&2
	(cd "$tmp/deb" && run apt-get -q=2 "${APT_OPTS[@]}" download \
		"linux-binary-$abi=$ver" "linux-modules-$abi=$ver" \
		"linux-base-$abi=$ver" "linux-headers-$abi=$ver" \
		"linux-source-$series=$ver")

	# The guests' kernel, laid out as fetch-kernel.sh does.
	for p in binary modules base; do
		dpkg-deb -x "$tmp/deb/linux-$p-${abi}_"*.deb "$tmp/root"
	done
	mkdir -p "$tmp/root/boot" "$tmp/root/lib"
	mv "$tmp/root/usr/lib/modules" "$tmp/root/lib/modules"
	mv "$tmp/root/lib/modules/$abi/vmlinuz" "$tmp/root/boot/vmlinuz-$abi"
	cp "$tmp/root/lib/modules/$abi/config" "$tmp/root/boot/config-$abi"
	rm -rf "$tmp/root/usr"
	run depmod -b "$tmp/root" "$abi"
	printf '%s\n' "$ver" > "$tmp/root/.ioreq-version"

	# The build tree: the source package, the image's config, gcc-12.
	dpkg-deb -x "$tmp/deb/linux-headers-${abi}_"*.deb "$tmp/hdr"
	log "unpacking linux-source-$series and preparing it for modules" >&2
	dpkg-deb --fsys-tarfile "$tmp/deb/linux-source-${series}_"*.deb |
		tar -xO "./usr/src/linux-source-$series.tar.xz" | xz -dc |
		tar -C "$tmp" --no-same-owner -x
	src=$tmp/linux-source-$series
	cp "$tmp/root/boot/config-$abi" "$src/.config"
	run make -C "$src" CC=gcc olddefconfig
	run make -C "$src" -j"$NPROC" CC=gcc KERNELRELEASE="$abi" modules_prepare
	cp "$tmp/hdr/usr/src/linux-headers-$abi/Module.symvers" "$src/"
	[ "$(cat "$src/include/config/kernel.release")" = "$abi" ] ||
		die "$src was prepared as $(cat "$src/include/config/kernel.release"), not $abi"
	printf '%s\n' "$ver" > "$src/.ioreq-version"

	mkdir -p "$(dirname "$kroot")" "$(dirname "$kdir")"
	rm -rf "$kroot" "$kdir"
	mv "$tmp/root" "$kroot"
	mv "$src" "$kdir"
	log "$abi ($ver) ready in $(( $(now) - start ))s" >&2
fi

cat <<EOF
KVER_new=$abi
KDIR_new=$kdir
KROOT_new=$kroot
KIMG_new=$kroot/boot/vmlinuz-$abi
EOF
