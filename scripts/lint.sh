#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh: the static checks of `make lint`.
#
#   1. For each supported kernel (6.1 and 6.12 headers, and the newest
#      Debian ships), build the modules from scratch with W=1 (extra
#      warnings, kernel-doc on .c files) and C=2 (sparse on every file;
#      on the newest kernel only if its kbuild accepts Debian's sparse).
#      Any warning or error in one of our files, and any modpost warning,
#      fails.  The same for arm64 (IOREQ_ARM=1, the default): cross-built
#      against Debian's arm64 6.1 headers, and compile only with 64K pages
#      (scripts/xen-arm.sh and scripts/arm64-64k.sh prepare both once,
#      about 2.5 min the first time, then cached in IOREQ_CACHE).
#   2. checkpatch.pl --strict on every .c and .h file under drivers/,
#      include/ and uapi/ (generated *.mod.c excluded).  Any ERROR,
#      WARNING or CHECK fails.
#   3. scripts/kernel-doc over the same files, headers included (W=1 runs
#      it on .c files only): the one of linux-source ($LINUX_SRC) and, when
#      the 6.12 headers ship theirs, that one with -Wall (it knows more
#      warnings).  Any warning fails.
#   4. The documentation's structure, as a kernel's Documentation/ tree
#      would include it: every page of Documentation/virt/ioreq/ is in its
#      index.rst's toctree and every toctree entry exists; every
#      Documentation/ path named in the docs, README, sources and scripts
#      exists here or in linux-source.
#
# Exit status 0 when everything is clean.
set -euo pipefail

IOREQ_STAGE=lint
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
load_env

start=$(now)
status=0

# Lines of a kbuild log that point at our sources (paths relative to the
# tree after build_modules' rewriting) or come from modpost.
our_diagnostics()
{
	grep -E '^(drivers|include|uapi)/[^:]*:[0-9]+(:[0-9]+)?: (warning|error)|^(WARNING|ERROR): modpost:' "$1" || true
}

# lint_build SUFFIX [MAKE ARGS...]: the W=1 C=2 build against KDIR_SUFFIX,
# judged; our_diagnostics' modpost lines are dropped with NO_MODPOST=1.
lint_build()
{
	local k=$1 kver dir rc=0 diags others

	shift
	kver=$(kvar KVER "$k")
	dir=$IOREQ_BUILD/lint/$kver
	log "$kver: W=1 C=2 build"
	build_modules "$k" "$dir" W=1 C=2 "$@" || rc=$?
	diags=$(our_diagnostics "$dir.log")
	[ -z "${NO_MODPOST:-}" ] || diags=$(printf '%s\n' "$diags" | grep -v modpost || true)
	if [ "$rc" -ne 0 ]; then
		log "$kver: build FAILED (exit $rc), log: $dir.log"
		grep -E 'error|warning|Error' "$dir.log" | head -n 60 | sed 's/^/    /' || true
		status=1
	elif [ -n "$diags" ]; then
		log "$kver: $(printf '%s\n' "$diags" | wc -l) warning(s) in our files (log: $dir.log):"
		# The whole diagnostic, with its context lines, for each hit.
		grep -vE '^  [A-Z0-9_]+ +(\[M\] +)?[^ ]+$|^Skipping BTF|^make(\[[0-9]+\])?: ' "$dir.log" |
			grep -E -A3 '^(drivers|include|uapi)/[^:]*:[0-9]+(:[0-9]+)?: (warning|error)|^(WARNING|ERROR): modpost:' |
			head -n 120 | sed 's/^/    /' || true
		status=1
	else
		others=$(grep -cE "(warning|error):" "$dir.log" || true)
		[ "$others" != 0 ] || others=
		log "$kver: clean${others:+ ($others diagnostics in kernel headers, not ours)}"
	fi
	# Kbuild turns C=2 off when scripts/checker-valid.sh refuses the
	# checker: newer headers (7.3's) use __typeof_unqual__, which
	# Debian's sparse (0.6.4, bookworm and trixie alike) does not know.
	if grep -q 'C=2 specified, but .* is not available or not up to date' "$dir.log"; then
		log "$kver: sparse NOT run: kbuild says $(sparse --version 2>/dev/null || echo sparse) is too old for these headers (W=1 only)"
	fi
}

for k in $IOREQ_KERNELS; do
	lint_build "$k"
done

# arm64 (IOREQ_ARM=0 skips): cross-built against Debian's arm64 6.1
# headers (scripts/xen-arm.sh), and, compile only, against linux-source
# prepared with 64K pages (scripts/arm64-64k.sh; no Module.symvers there,
# so modpost's unresolved symbols are not ours to judge).
if [ "${IOREQ_ARM:-1}" = 1 ]; then
	arm=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	if adir=$("$IOREQ_ROOT/scripts/xen-arm.sh") &&
	   k64=$("$IOREQ_ROOT/scripts/arm64-64k.sh"); then
		# shellcheck disable=SC1091
		. "$adir/arm64.env"
		KDIR_arm64=$KDIR_ARM
		KVER_arm64=$KVER_ARM
		KDIR_arm64k=$k64
		KVER_arm64k=${KVER_ARM}-64k
		lint_build arm64 "${arm[@]}"
		NO_MODPOST=1 lint_build arm64k "${arm[@]}" KBUILD_MODPOST_WARN=1
	else
		log "arm64: preparing the arm64 headers FAILED"
		status=1
	fi
fi

# checkpatch on the sources, tracked or new, never on ignored build output.
cd "$IOREQ_ROOT"
if git rev-parse --git-dir >/dev/null 2>&1; then
	files=$(git ls-files --cached --others --exclude-standard -- drivers include uapi)
else
	files=$(find drivers include uapi -type f)
fi
files=$(printf '%s\n' "$files" | grep -E '\.[ch]$' | grep -v '\.mod\.c$' | LC_ALL=C sort -u || true)
if [ -z "$files" ]; then
	log "checkpatch: no sources under drivers/ include/ uapi/"
	status=1
else
	n=$(printf '%s\n' "$files" | wc -l)
	log "checkpatch --strict on $n files"
	cp_log=$IOREQ_BUILD/lint/checkpatch.log
	mkdir -p "$(dirname "$cp_log")"
	# shellcheck disable=SC2086
	perl "$LINUX_SRC/scripts/checkpatch.pl" --strict --no-tree --show-types \
		--quiet --no-summary --color=never -f $files > "$cp_log" 2>&1 || true
	issues=$(grep -cE '^(ERROR|WARNING|CHECK):' "$cp_log" || true)
	if [ "$issues" -gt 0 ]; then
		log "checkpatch: $issues issue(s):"
		sed 's/^/    /' "$cp_log"
		status=1
	else
		log "checkpatch: clean"
	fi
fi

# kernel-doc: the comments a kernel's htmldocs would render, and what W=1
# checks in .c files only.
kdoc_log=$IOREQ_BUILD/lint/kernel-doc.log
mkdir -p "$(dirname "$kdoc_log")"
: > "$kdoc_log"
kdocs="$LINUX_SRC/scripts/kernel-doc"
kdir612=$(kvar KDIR 612)
if [ -n "$kdir612" ] && [ -x "$kdir612/scripts/kernel-doc" ]; then
	kdocs="$kdocs $kdir612/scripts/kernel-doc:-Wall"
fi
if [ -n "$files" ]; then
	for kd in $kdocs; do
		flags=
		case $kd in *:*) flags=${kd#*:}; kd=${kd%%:*} ;; esac
		# shellcheck disable=SC2086
		perl "$kd" -none $flags $files >> "$kdoc_log" 2>&1 || true
	done
	issues=$(LC_ALL=C sort -u "$kdoc_log" | grep -cE 'warning|error' || true)
	if [ "$issues" -gt 0 ]; then
		log "kernel-doc: $issues warning(s):"
		LC_ALL=C sort -u "$kdoc_log" | grep -E 'warning|error' | sed 's/^/    /'
		status=1
	else
		log "kernel-doc: clean ($(printf '%s\n' $kdocs | wc -l) versions, $n files)"
	fi
fi

# Documentation structure.
cd "$IOREQ_ROOT"
doc_issues=()
idx=Documentation/virt/ioreq/index.rst
entries=$(awk '/^\.\. toctree::/ { t = 1; next }
	t && /^   [a-z]/ { print $1; next }
	t && /^[^ ]/ { t = 0 }' "$idx")
for e in $entries; do
	[ -f "Documentation/virt/ioreq/$e.rst" ] ||
		doc_issues+=("$idx: toctree entry $e has no $e.rst")
done
for f in Documentation/virt/ioreq/*.rst; do
	b=$(basename "$f" .rst)
	[ "$b" = index ] || printf '%s\n' $entries | grep -x "$b" > /dev/null ||
		doc_issues+=("$f: not in $idx's toctree")
done
refs=$(grep -rhoE 'Documentation/[A-Za-z0-9_./-]*[A-Za-z0-9_]' README \
	Documentation drivers include uapi tools selftests scripts 2>/dev/null |
	LC_ALL=C sort -u || true)
for r in $refs; do
	[ -e "$r" ] || [ -e "$LINUX_SRC/$r" ] ||
		doc_issues+=("$r is named but exists neither here nor in linux-source")
done
if [ ${#doc_issues[@]} -gt 0 ]; then
	log "docs: ${#doc_issues[@]} issue(s):"
	printf '    %s\n' "${doc_issues[@]}"
	status=1
else
	log "docs: clean ($(printf '%s\n' $entries | wc -l) pages in the index, $(printf '%s\n' $refs | wc -l) paths named)"
fi

if [ "$status" = 0 ]; then
	log "passed in $(( $(now) - start ))s"
else
	log "FAILED in $(( $(now) - start ))s"
fi
exit $status
