#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# pkg-check.sh: the packages as a user gets them, the "pkg" stage of
# `make check`.
#
#   1. make deb (scripts/deb.sh): the packages, lintian without errors.
#   2. dkms build, for each kernel of IOREQ_KERNELS, of the sources that
#      ioreq-dkms installs (the .deb unpacked), in a throwaway DKMS tree
#      under .build/pkg/ (--dkmstree, --sourcetree, --kernelsourcedir:
#      nothing goes to /var/lib/dkms or /lib/modules; DKMS signs with a
#      throwaway key there too).  Each kernel passes when DKMS built
#      ioreq, ioreq_vmm and, where the kernel has CONFIG_XEN=y, ioreq_xen,
#      and no test module.
#   3. One guest (the first kernel): ioreq-tools unpacked into its root
#      filesystem, the modules DKMS built for that kernel loaded, and
#      /usr/share/ioreq/demo.sh run with IOREQ_BIN=/usr/bin: the installed
#      ioreq-sim plays a guest on /dev/ioreq-vmm and the installed
#      ioreq-backend serves it through /dev/ioreq.  (dpkg -i itself is not
#      run: the guests are busybox initramfs without dpkg; the files are
#      the ones dpkg would install, at the same paths.)
#
# Prints "pkg: N passed, N failed, N skipped" last; exit status 0 only if
# nothing failed.  Environment: IOREQ_KERNELS, VM_TIMEOUT.
set -euo pipefail

IOREQ_STAGE=pkg
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
load_env

start=$(now)
passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); log "ok: $*"; }
fail() { failed=$((failed + 1)); log "FAILED: $*"; }

out=$IOREQ_BUILD/pkg
rm -rf "$out"
mkdir -p "$out"
debs=$IOREQ_BUILD/deb

if "$IOREQ_ROOT/scripts/deb.sh"; then
	pass "make deb"
else
	fail "make deb"
	echo "pkg: $passed passed, $failed failed, $skipped skipped"
	exit 1
fi

# The packages' files, as dpkg would lay them out.
dpkg-deb -x "$debs"/ioreq-dkms_*_all.deb "$out/dkms-root"
dpkg-deb -x "$(ls "$debs"/ioreq-tools_*.deb | grep -v dbgsym)" "$out/tools-root"
srctree=$out/dkms-root/usr/src
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$srctree"/ioreq-*/dkms.conf)

# A throwaway DKMS: its tree, and its module signing key and certificate
# (DKMS makes them when missing; the defaults are under /var/lib/dkms).
dkms_tree=$out/dkms-tree
mkdir -p "$dkms_tree"
export mok_signing_key=$out/mok.key mok_certificate=$out/mok.pub
dkms_args=(-m ioreq -v "$ver" --dkmstree "$dkms_tree" --sourcetree "$srctree")
if ! dkms add "${dkms_args[@]}" > "$out/dkms-add.log" 2>&1; then
	sed 's/^/    /' "$out/dkms-add.log"
	fail "dkms add ioreq/$ver"
fi

first_mods=
for k in $IOREQ_KERNELS; do
	[ "$k" != dbg ] || continue
	kver=$(kvar KVER "$k")
	kdir=$(kvar KDIR "$k")
	t=$(now)
	blog=$out/dkms-build-$kver.log
	if ! dkms build "${dkms_args[@]}" -k "$kver" --kernelsourcedir "$kdir" \
	     > "$blog" 2>&1; then
		tail -n 30 "$blog" | sed 's/^/    /'
		[ ! -f "$dkms_tree/ioreq/$ver/build/make.log" ] ||
			grep -E 'error|warning' "$dkms_tree/ioreq/$ver/build/make.log" |
			head -n 20 | sed 's/^/    /'
		fail "dkms build for $kver (log: $blog)"
		continue
	fi
	mdir=$dkms_tree/ioreq/$ver/$kver/$(uname -m)/module
	want="ioreq ioreq_vmm"
	! grep -qs '^CONFIG_XEN=y' "$kdir/.config" || want="$want ioreq_xen"
	have=$(cd "$mdir" && ls | sed 's/\.ko.*//' | sort | tr '\n' ' ')
	if [ "$have" = "$(printf '%s\n' $want | sort | tr '\n' ' ')" ]; then
		pass "dkms build for $kver in $(( $(now) - t ))s: $have"
		[ -n "$first_mods" ] || first_mods=$k:$mdir
	else
		fail "dkms build for $kver: built '$have', want '$want'"
	fi
done

# The guest: installed tools, DKMS's modules (uncompressed for busybox).
if [ -z "$first_mods" ]; then
	skipped=$((skipped + 1))
	log "SKIP: guest run of the installed tools: no DKMS build to load"
else
	k=${first_mods%%:*}
	mdir=${first_mods#*:}
	kver=$(kvar KVER "$k")
	kos=$out/guest-modules
	mkdir -p "$kos"
	mod_args=()
	for m in ioreq ioreq_vmm; do
		f=$(ls "$mdir/$m".ko*)
		case $f in
		*.xz)	xz -dc "$f" > "$kos/$m.ko" ;;
		*.zst)	zstd -qdc "$f" > "$kos/$m.ko" ;;
		*)	cp "$f" "$kos/$m.ko" ;;
		esac
		mod_args+=(--module "$kos/$m.ko")
	done
	# Each file ioreq-tools installs, at its path (vmtest.sh adds the
	# shared libraries ldd lists: the programs are linked dynamically).
	add_args=()
	while IFS= read -r f; do
		add_args+=(--add "$out/tools-root/$f:/$f")
	done < <(cd "$out/tools-root" && find . -type f ! -path './usr/share/doc/*' |
		 sed 's|^\./||')
	run=$out/guest-run.sh
	cat > "$run" <<'EOF'
ls -l /usr/bin/ioreq-backend /usr/bin/ioreq-sim /usr/share/ioreq/demo.sh
IOREQ_BIN=/usr/bin exec /usr/share/ioreq/demo.sh
EOF
	log "$kver: booting with ioreq-tools' files and DKMS's modules"
	if "$IOREQ_ROOT/selftests/ioreq/vm/vmtest.sh" --kernel "$(kvar KIMG "$k")" \
		--kroot "$(kvar KROOT "$k")" --name "pkg-$kver" \
		--out "$out/vm-$kver" --timeout "${VM_TIMEOUT:-600}" \
		"${mod_args[@]}" "${add_args[@]}" --run "$run"; then
		pass "installed ioreq-backend and ioreq-sim served a guest on $kver"
	else
		fail "installed tools in the $kver guest (log: $out/vm-$kver/console.log)"
	fi
fi

log "done in $(( $(now) - start ))s"
echo "pkg: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
