# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers shared by the scripts in this directory.  Source it; it is not a
# program.  Everything cacheable lives outside the clone under IOREQ_CACHE;
# per-clone scratch files live under IOREQ_BUILD (covered by .gitignore).

IOREQ_ROOT=${IOREQ_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
IOREQ_CACHE=${IOREQ_CACHE:-/var/cache/ioreq}
IOREQ_ENV=${IOREQ_ENV:-$IOREQ_CACHE/env.mk}
IOREQ_BUILD=${IOREQ_BUILD:-$IOREQ_ROOT/.build}
IOREQ_STAGE=${IOREQ_STAGE:-ioreq}

# The kernels we build and test against (Debian 12's 6.1, bookworm-
# backports' 6.12 and the newest Debian ships, scripts/newest-kernel.sh),
# as suffixes of the KDIR_*,
# KIMG_*, KVER_* and KROOT_* variables of the env file.
IOREQ_KERNELS=${IOREQ_KERNELS-61 612 new}

# One progress line: "[stage] message".
log()
{
	printf '[%s] %s\n' "$IOREQ_STAGE" "$*"
}

die()
{
	printf '[%s] error: %s\n' "$IOREQ_STAGE" "$*" >&2
	exit 1
}

# Seconds since the epoch, for stage timings.
now()
{
	date +%s
}

# Our scripts call make themselves, with their own -j: a jobserver or
# variables of an outer make must not leak into those builds.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
NPROC=$(nproc 2>/dev/null || echo 2)

# env_ok: the env file exists and what it names is still there.
env_ok()
{
	local k

	[ -r "$IOREQ_ENV" ] || return 1
	(
		# shellcheck disable=SC1090
		. "$IOREQ_ENV"
		[ -f "$LINUX_SRC/scripts/checkpatch.pl" ] || exit 1
		for k in $IOREQ_KERNELS; do
			[ -f "$(kvar KDIR "$k")/Makefile" ] || exit 1
			[ -f "$(kvar KIMG "$k")" ] || exit 1
		done
	)
}

# Read the paths scripts/deps.sh resolved, running it first if they are
# missing.  The file is both a makefile and a shell fragment: NAME=value
# lines without quotes or spaces.
load_env()
{
	if ! env_ok; then
		[ "$(id -u)" = 0 ] ||
			die "$IOREQ_ENV is missing or stale: run 'make deps' as root"
		# On stderr: callers such as scripts/xen-arm.sh print a
		# result on stdout.
		"$IOREQ_ROOT/scripts/deps.sh" >&2
		env_ok || die "scripts/deps.sh did not produce a usable $IOREQ_ENV"
	fi
	# shellcheck disable=SC1090
	. "$IOREQ_ENV"
}

# kvar NAME SUFFIX: the value of ${NAME}_${SUFFIX}, e.g. kvar KDIR 61.
kvar()
{
	local v="${1}_${2}"

	printf '%s' "${!v:-}"
}

# Copy the source tree (everything but .git and build output) to $1 so
# that builds for several kernels can run side by side without sharing
# object files.  The copy is made afresh, so every file is compiled.
copy_tree()
{
	local dest=$1

	rm -rf "$dest"
	mkdir -p "$dest"
	tar -C "$IOREQ_ROOT" -cf - \
		--exclude=./.git --exclude=./.build --exclude='*.o' \
		--exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
		--exclude='.*.cmd' --exclude=./Module.symvers \
		--exclude=modules.order . | tar -C "$dest" -xf -
}

# build_modules SUFFIX DIR [MAKE ARGS...]: build the modules against the
# headers KDIR_SUFFIX in a fresh copy of the tree at DIR; the output of
# kbuild goes to DIR.log, with DIR/ stripped from paths so that they read
# as paths of this tree.  Returns kbuild's exit status.
build_modules()
{
	local k=$1 dir=$2 kdir rc=0

	shift 2
	kdir=$(kvar KDIR "$k")
	copy_tree "$dir"
	make -j"$NPROC" -C "$kdir" M="$dir" "$@" modules > "$dir.raw.log" 2>&1 ||
		rc=$?
	sed "s|$dir/||g" "$dir.raw.log" > "$dir.log"
	rm -f "$dir.raw.log"
	return $rc
}

# The modules of a build directory, in load order.
# For make demo and make bench: build the modules for kernel $1 into
# $IOREQ_BUILD/kbuild/KVER and the tools into $IOREQ_BUILD/tools; set kb
# and tools_out to them.  Dies on a failed build, showing why.
build_modules_and_tools()
{
	local k=$1 t

	IOREQ_STAGE=build
	t=$(now)
	kb=$IOREQ_BUILD/kbuild/$(kvar KVER "$k")
	log "$(kvar KVER "$k"): make -C $(kvar KDIR "$k") M=$kb modules"
	if ! build_modules "$k" "$kb"; then
		grep -E 'error|warning' "$kb.log" | head -n 40 | sed 's/^/    /' || true
		die "module build failed, log: $kb.log"
	fi
	log "modules built in $(( $(now) - t ))s"

	t=$(now)
	tools_out=$IOREQ_BUILD/tools
	log "make -C tools OUTPUT=$tools_out"
	rm -rf "$tools_out"
	if ! make -j"$NPROC" -C "$IOREQ_ROOT/tools" OUTPUT="$tools_out" > "$tools_out.log" 2>&1; then
		tail -n 40 "$tools_out.log" | sed 's/^/    /'
		die "tools build failed, log: $tools_out.log"
	fi
	log "tools built in $(( $(now) - t ))s"
}

# kvm_modules KROOT DIR: KVM's modules from the unpacked kernel package
# KROOT (irqbypass, kvm, ccp for kvm-amd's SEV symbols, kvm-amd: what a
# QEMU TCG guest with -cpu max,-smap needs for /dev/kvm), uncompressed
# into DIR (busybox insmod may not read .ko.xz or .ko.zst).  Sets the array
# kvm_mod_args to vmtest.sh's --module arguments for them, in load order.
# Returns 1, saying which, if one is missing.
kvm_modules()
{
	local kroot=$1 dir=$2 m f src dst

	kvm_mod_args=()
	rm -rf "$dir"
	mkdir -p "$dir"
	for m in virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp \
		 arch/x86/kvm/kvm-amd; do
		src=
		for f in "$kroot"/lib/modules/*/kernel/"$m".ko{,.xz,.zst}; do
			[ ! -f "$f" ] || { src=$f; break; }
		done
		if [ -z "$src" ]; then
			log "no $m.ko in $kroot/lib/modules"
			return 1
		fi
		dst=$dir/$(basename "$m").ko
		case $src in
		*.xz)	xz -dc "$src" > "$dst" ;;
		*.zst)	zstd -qdc "$src" > "$dst" ;;
		*)	cp "$src" "$dst" ;;
		esac
		kvm_mod_args+=(--module "$dst")
	done
}

# kvm_vmlinux BZIMAGE DIR: the uncompressed vmlinux (an ELF) inside a
# bzImage, extracted once into DIR (for tools/kvm-vmm/ioreq-kvm-linux,
# which spares its guest the decompression); prints its path.  Debian's
# kernels are XZ-compressed: the payload starts at the first XZ magic.
kvm_vmlinux()
{
	local img=$1 dir=$2 out off

	out=$dir/vmlinux-$(basename "$img" | sed "s/^vmlinuz-//")
	mkdir -p "$dir"
	if [ ! -s "$out" ] || [ "$img" -nt "$out" ]; then
		# No pipes into head or xz: under pipefail the writer's
		# SIGPIPE, when the reader stops early, would fail the step.
		off=$(grep -abo -m 1 $'\xfd7zXZ\x00' "$img" || true)
		off=${off%%:*}
		[ -n "$off" ] || { log "$img: no XZ payload"; return 1; }
		tail -c +$((off + 1)) "$img" > "$out.xz"
		xz -dc --single-stream "$out.xz" > "$out.tmp" 2> /dev/null ||
			{ rm -f "$out.tmp" "$out.xz"; return 1; }
		rm -f "$out.xz"
		[ "$(head -c 4 "$out.tmp")" = $'\x7fELF' ] ||
			{ log "$img: the payload is not an ELF"; rm -f "$out.tmp"; return 1; }
		mv "$out.tmp" "$out"
	fi
	printf '%s\n' "$out"
}

# kvm_linux_initramfs KROOT INIT SCENARIO OUT ENV MODULE...: OUT.cpio, the
# initramfs of an ioreq-kvm-linux guest: busybox, INIT as /init, SCENARIO
# as /scenario.sh, the kernel package's MODULEs with their dependencies
# (uncompressed, in load order) and /etc/ioreq-kvm.conf with GUEST_KOS and
# ENV (NAME=VALUE or empty).
kvm_linux_initramfs()
{
	local kroot=$1 init=$2 scenario=$3 out=$4 env=$5 abi m path base kos=
	shift 5

	for abi in "$kroot"/lib/modules/*/; do
		abi=$(basename "$abi")
		break
	done
	rm -rf "$out"
	mkdir -p "$out"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,lib/mods}
	cp "${BUSYBOX:-/bin/busybox}" "$out/bin/busybox"
	ln -s busybox "$out/bin/sh"
	install -m 755 "$init" "$out/init"
	install -m 755 "$scenario" "$out/scenario.sh"
	for m in "$@"; do
		for path in $(modprobe -d "$kroot" -S "$abi" --show-depends "$m" |
			      awk '$1 == "insmod" { print $2 }'); do
			base=$(basename "$path")
			base=${base%.xz}
			base=${base%.zst}
			case " $kos " in *" /lib/mods/$base "*) continue ;; esac
			case $path in
			*.xz)	xz -dc "$path" > "$out/lib/mods/$base" ;;
			*.zst)	zstd -qdc "$path" > "$out/lib/mods/$base" ;;
			*)	cp "$path" "$out/lib/mods/$base" ;;
			esac
			kos="$kos /lib/mods/$base"
		done
	done
	printf "GUEST_KOS='%s'\n%s\n" "${kos# }" "$env" > "$out/etc/ioreq-kvm.conf"
	(cd "$out" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) > "$out.cpio"
}

# kvm_linux_add_prog OUT PROG...: add PROGs (at their own paths) and the
# shared libraries they need to the initramfs tree OUT that
# kvm_linux_initramfs made, and pack OUT.cpio again.
kvm_linux_add_prog()
{
	local out=$1 p lib
	shift

	for p in "$@"; do
		mkdir -p "$out$(dirname "$p")"
		cp -L "$p" "$out$p"
		for lib in $(ldd "$p" | grep -o '/[^ ]*'); do
			[ -e "$out$lib" ] && continue
			mkdir -p "$out$(dirname "$lib")"
			cp -L "$lib" "$out$lib"
		done
	done
	(cd "$out" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) > "$out.cpio"
}

IOREQ_MODULES=${IOREQ_MODULES:-drivers/ioreq/ioreq.ko drivers/ioreq/vmm/ioreq_vmm.ko}

# cache_claim TOP KEY: for a script that builds TOP/KEY once and prints
# it.  If TOP/KEY/.done exists, print TOP/KEY and exit 0; else take
# TOP/.lock (file descriptor 9, held until the script exits) and check
# again, so that one of two concurrent runs builds.  Returns when the
# caller is to build.
cache_claim()
{
	local top=$1 d=$1/$2

	if [ -f "$d/.done" ]; then
		echo "$d"
		exit 0
	fi
	mkdir -p "$top"
	exec 9>"$top/.lock"
	flock 9
	if [ -f "$d/.done" ]; then
		echo "$d"
		exit 0
	fi
}
