#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# xen-vm.sh: boot a real Xen 4.17 under QEMU (TCG) with Debian's kernel as
# a PV dom0 and one PVH guest, run a scenario on both sides, and judge the
# run from the report and the consoles.
#
# usage: xen-vm.sh [options]
#   --scenario NAME    run scenarios/NAME.guest.sh in the guest and, if it
#                      exists, scenarios/NAME.dom0.sh as the dom0 hook
#                      (default: unclaimed)
#   --guest-run FILE   guest scenario script (overrides --scenario's)
#   --dom0-run FILE    dom0 hook, run as "hook start DOMID" with the guest
#                      created paused, and "hook stop DOMID" once it is gone
#   --kernel FILE      kernel for dom0 and the guest (default: KIMG_61 of
#                      the env file)
#   --kroot DIR        unpacked linux-image package: the Xen modules and
#                      those our modules need (default: KROOT_61); or the
#                      kernel's build tree (the debug kernel of
#                      scripts/debug-kernel.sh): Xen drivers its
#                      modules.builtin lists are not loaded, the others
#                      are taken from the tree by name
#   --guest-kernel FILE  the guest's kernel (default: --kernel's)
#   --guest-kroot DIR  where --guest-kmod finds modules (default: --kroot's)
#   --xen FILE         Xen, gzipped or ELF (default /boot/xen-4.17-amd64.gz,
#                      unpacked once into IOREQ_CACHE/xen/)
#   --guest-bin FILE   ioreq-guest (default: built from tools/ioreq-guest)
#   --module FILE.ko   module for dom0, loaded in order before the guest is
#                      created, unloaded at the end (repeatable)
#   --add SRC[:DST]    extra file or directory for dom0, at DST (default
#                      /usr/bin/NAME for executables, else /NAME)
#   --guest-add SRC[:DST]  the same for the guest
#   --env NAME=VALUE   setting for the hook and the guest scenario
#                      (repeatable; IOREQ_MMIO and IOREQ_PIO are preset)
#   --vcpus N          guest vcpus (default 2)
#   --guest-mem MB     guest memory (default 128; 256 for an HVM guest)
#   --guest-type pvh|hvm  the guest's mode (default pvh); hvm runs Debian's
#                      qemu-xen (qemu-system-xen) in dom0 as the device
#                      model for the rest of the platform, hvmloader and
#                      SeaBIOS boot the guest's kernel (console ttyS0);
#                      their debug output is on Xen's console (guest_loglvl=all)
#   --guest-kmod NAME  a module of the kernel package for the guest, with
#                      what it depends on, loaded in order by the guest's
#                      /init before the scenario (repeatable)
#   --guest-cfg FILE   lines appended to the guest's xl config (disks,
#                      device_model_args; --add the files they name)
#                      (repeatable)
#   --guest-timeout S  limit from unpause to the guest's poweroff (default 300)
#   --timeout SECS     wall-clock limit for the whole machine (default 900)
#   --append ARGS      extra dom0 kernel command line
#   --xen-append ARGS  extra Xen command line
#   --guest-append ARGS  extra guest kernel command line (earlyprintk=xen
#                      puts a PVH guest's early messages on Xen's console)
#   --dom0 pv|pvh      dom0's mode (default pv); pvh boots Xen with
#                      dom0=pvh and gives QEMU an AMD IOMMU (amd-iommu),
#                      which a PVH dom0 needs: auto-translated, as on Arm
#   --arch x86|arm64   the machine (default x86, or XEN_ARCH); arm64 boots
#                      qemu-system-aarch64 (virt, virtualization=on,
#                      GICv3) with Xen, dom0 and guest from
#                      scripts/xen-arm.sh (Xen built with IOREQ, Debian's
#                      arm64 kernel and tools): dom0 and the guest are
#                      auto-translated, the guest a plain Arm domU whose
#                      MMIO region is IOREQ_MMIO=0x02000000 (libxl's
#                      virtio-mmio window, backed by nothing else); the
#                      guest program is rebuilt for arm64
#   --name NAME        label for the summary (default xen-SCENARIO)
#   --out DIR          where the initramfses and logs go
#                      (default: .build/xen/NAME)
#
# Xen's serial console carries Xen's, dom0's and the report's lines: all of
# it goes to OUT/console.log, the report (lines dom0 prefixed with
# "IOREQ| ") is printed as it comes and kept in OUT/ktap.log, the guest's
# console in OUT/guest-console.log.  The run fails if dom0 does not reach
# the end of its /init, if any case fails, or if a console shows a kernel
# splat (WARNING, BUG, Oops, lockdep, RCU stall, hung task, KASAN, panic),
# a Xen crash, a crashed domain or a crashed program, or if the guest's
# console lines reached dom0 more than GUEST_LAG_MAX (30) seconds apart
# from the guest's own times (dom0 copies them live to its console as
# "IOREQ-LIVE@UPTIME| ").  The last line printed is
# "NAME: N passed, N failed, N skipped"; OUT/result holds the same counts
# as shell variables, and OUT/timings the moments of the run (EVENT,
# dom0's uptime, seconds from QEMU's start).  Exit status 0 only if
# nothing failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
IOREQ_ROOT=${IOREQ_ROOT:-$(cd "$here/../../.." && pwd)}
IOREQ_BUILD=${IOREQ_BUILD:-$IOREQ_ROOT/.build}
IOREQ_CACHE=${IOREQ_CACHE:-/var/cache/ioreq}
IOREQ_ENV=${IOREQ_ENV:-$IOREQ_CACHE/env.mk}
QEMU=${QEMU:-qemu-system-x86_64}
VM_SMP=${VM_SMP:-}
VM_MEM=${VM_MEM:-}
VM_CPU=${VM_CPU:-qemu64,+svm,+npt}
# tcg,thread=single: both vcpus in one host thread (scripts/xen-soak.sh -a).
VM_ACCEL=${VM_ACCEL:-tcg}
DOM0_MEM=${DOM0_MEM:-}
BUSYBOX=${BUSYBOX:-/bin/busybox}
XEN_BIN=${XEN_BIN:-/usr/lib/xen-4.17/bin}
XEN_TOOLS="xenstored xen-init-dom0 xenconsoled xl libxl-save-helper"
XEN_KMODS="xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs"
# An HVM guest's device model and firmware, at the paths libxl expects.
XEN_DM=${XEN_DM:-/usr/libexec/xen-qemu-system-i386}
XEN_HVMLOADER=${XEN_HVMLOADER:-/usr/lib/xen-4.17/boot/hvmloader}
XEN_DM_FILES="/usr/share/seabios/bios-256k.bin /usr/share/seabios/bios.bin
	/usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/linuxboot.bin
	/usr/share/qemu/kvmvapic.bin /usr/share/qemu/keymaps/en-us"

# Kernel messages that fail a run whatever the tests said (as vmtest.sh).
SPLATS='WARNING:|BUG:|Oops|general protection fault|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|trying to register non-static key|turning off the locking correctness validator|INFO: rcu|rcu_sched self-detected stall|blocked for more than|KASAN:|UBSAN:|ODEBUG:|unreferenced object|suspected memory leak|Call Trace:|Kernel panic'
# A program crashing in dom0 or the guest: the harness cannot trust what
# it saw (xl, the backend, the scenario).
USER_CRASHES='segfault at|traps: '
# Xen's own: a hypervisor crash, or a domain it had to kill.
XEN_SPLATS='Panic on CPU|FATAL TRAP|FATAL PAGE FAULT|Xen BUG at|Assertion .* failed|Xen call trace|DOUBLE FAULT|domain_crash|Unhandled: vec'

usage()
{
	sed -n '/^# usage:/,/^# Xen.s serial/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

die()
{
	printf 'xen-vm: error: %s\n' "$*" >&2
	exit 2
}

scenario=unclaimed
guest_run=
dom0_run=
kernel=
kroot=
guest_kernel=
guest_kroot=
xen=/boot/xen-4.17-amd64.gz
guest_bin=
modules=()
adds=()
guest_adds=()
envs=("IOREQ_MMIO=0xe0000000" "IOREQ_PIO=0x5000")
vcpus=2
guest_mem=
guest_type=pvh
guest_kmods=()
guest_cfgs=()
guest_timeout=300
timeout=900
append=
xen_append=
guest_append=
dom0_mode=pv
arch=${XEN_ARCH:-x86}
name=
out=

while [ $# -gt 0 ]; do
	case $1 in
	--scenario)	scenario=$2; shift ;;
	--guest-run)	guest_run=$2; shift ;;
	--dom0-run)	dom0_run=$2; shift ;;
	--kernel)	kernel=$2; shift ;;
	--kroot)	kroot=$2; shift ;;
	--guest-kernel)	guest_kernel=$2; shift ;;
	--guest-kroot)	guest_kroot=$2; shift ;;
	--xen)		xen=$2; shift ;;
	--guest-bin)	guest_bin=$2; shift ;;
	--module)	modules+=("$2"); shift ;;
	--add)		adds+=("$2"); shift ;;
	--guest-add)	guest_adds+=("$2"); shift ;;
	--env)		envs+=("$2"); shift ;;
	--vcpus)	vcpus=$2; shift ;;
	--guest-mem)	guest_mem=$2; shift ;;
	--guest-type)	guest_type=$2; shift ;;
	--guest-kmod)	guest_kmods+=("$2"); shift ;;
	--guest-cfg)	guest_cfgs+=("$2"); shift ;;
	--guest-timeout) guest_timeout=$2; shift ;;
	--timeout)	timeout=$2; shift ;;
	--append)	append=$2; shift ;;
	--xen-append)	xen_append=$2; shift ;;
	--guest-append)	guest_append=$2; shift ;;
	--dom0)		dom0_mode=$2; shift ;;
	--arch)		arch=$2; shift ;;
	--name)		name=$2; shift ;;
	--out)		out=$2; shift ;;
	-h|--help)	usage ;;
	*)		printf 'xen-vm: unknown argument %s\n' "$1" >&2; usage ;;
	esac
	[ $# -gt 0 ] || usage
	shift
done

case $arch in
x86)	;;
arm64)	# Xen, kernel and tools for arm64, built and unpacked once.
	adir=$("$IOREQ_ROOT/scripts/xen-arm.sh") || die "scripts/xen-arm.sh failed"
	# shellcheck disable=SC1091
	. "$adir/arm64.env"
	kernel=${kernel:-$KIMG_ARM}
	kroot=${kroot:-$AROOT}
	[ "$xen" != /boot/xen-4.17-amd64.gz ] || xen=$XEN_ARM
	XEN_BIN=$AROOT/usr/lib/xen-4.17/bin
	BUSYBOX=$AROOT/bin/busybox
	QEMU=qemu-system-aarch64
	VM_CPU=${XEN_ARM_CPU:-cortex-a57}
	# One physical CPU for Xen on Arm.  With two, every ioreq is a
	# cross-CPU wakeup (an SGI of QEMU's emulated GICv3), and under a
	# loaded host one got lost: in 2 boots of 2, the guest waited on an
	# ioreq and dom0 on an event, QEMU idle (the stall watch), and the
	# accesses that passed took ~50 ms each.  With one, the guest's two
	# vcpus and dom0's share it: 12 ms per access, no stall seen.
	VM_SMP=${VM_SMP:-1}
	dom0_mode=hvm
	envs[0]="IOREQ_MMIO=0x02000000"
	envs[1]="IOREQ_PIO="
	# Each access is a round trip through dom0 under TCG: a smaller
	# region keeps "check"'s byte-by-byte sweep short.
	envs+=("IOREQ_MMIO_LEN=0x100") ;;
*)	die "--arch is x86 or arm64, not '$arch'" ;;
esac

if [ -z "$kernel" ] || [ -z "$kroot" ]; then
	[ -r "$IOREQ_ENV" ] || die "no --kernel/--kroot and no $IOREQ_ENV (run 'make deps')"
	# shellcheck disable=SC1090
	. "$IOREQ_ENV"
	kernel=${kernel:-${KIMG_61:-}}
	kroot=${kroot:-${KROOT_61:-}}
fi
[ -f "$kernel" ] || die "no kernel image $kernel"
guest_kernel=${guest_kernel:-$kernel}
guest_kroot=${guest_kroot:-$kroot}
for d in "$kroot" "$guest_kroot"; do
	[ -d "$d/lib/modules" ] || [ -f "$d/modules.builtin" ] ||
		die "no unpacked kernel package or kernel build tree at $d"
done
[ -f "$guest_kernel" ] || die "no guest kernel image $guest_kernel"
[ -f "$xen" ] || die "no Xen at $xen (apt-get install xen-hypervisor-4.17-amd64)"
[ -x "$XEN_BIN/xl" ] || die "no $XEN_BIN/xl (apt-get install xen-utils-4.17)"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"
command -v "$QEMU" >/dev/null || die "$QEMU missing (apt-get install qemu-system-x86 or -arm)"
VM_SMP=${VM_SMP:-2}
case $guest_type in
pvh)	guest_mem=${guest_mem:-128}
	DOM0_MEM=${DOM0_MEM:-768M}
	VM_MEM=${VM_MEM:-2048} ;;
hvm)	guest_mem=${guest_mem:-256}
	# qemu-xen runs in dom0 beside the backends.
	DOM0_MEM=${DOM0_MEM:-1024M}
	VM_MEM=${VM_MEM:-3072}
	[ -x "$XEN_DM" ] || die "no $XEN_DM (apt-get install qemu-system-xen)"
	# hvmloader's and SeaBIOS's output (port 0xe9) on Xen's console as
	# "(dN) ..." lines, which Xen prints at guest debug level only; a
	# hook reads them back with xl dmesg.
	xen_append="guest_loglvl=all $xen_append"
	[ -f "$XEN_HVMLOADER" ] || die "no $XEN_HVMLOADER (xen-utils-4.17)" ;;
*)	die "--guest-type is pvh or hvm, not '$guest_type'" ;;
esac
for v in "$vcpus" "$guest_mem" "$guest_timeout" "$timeout"; do
	case $v in ''|*[!0-9]*) die "not a number: $v" ;; esac
done
# On arm64 a scenario's NAME.arm64.guest.sh, NAME.arm64.dom0.sh and
# NAME.arm64.dts take the place of the x86 ones where they exist.
guest_dts=
if [ -z "$guest_run" ]; then
	sfx=
	[ "$arch" = x86 ] || sfx=.$arch
	guest_run=$here/scenarios/$scenario.guest.sh
	[ ! -f "$here/scenarios/$scenario$sfx.guest.sh" ] ||
		guest_run=$here/scenarios/$scenario$sfx.guest.sh
	[ -f "$guest_run" ] || die "no scenario $scenario ($guest_run)"
	if [ -z "$dom0_run" ]; then
		for f in "$here/scenarios/$scenario$sfx.dom0.sh" \
			 "$here/scenarios/$scenario.dom0.sh"; do
			[ -f "$f" ] && { dom0_run=$f; break; }
		done
	fi
	[ -z "$sfx" ] || [ ! -f "$here/scenarios/$scenario$sfx.dts" ] ||
		guest_dts=$here/scenarios/$scenario$sfx.dts
else
	scenario=$(basename "$guest_run" .sh)
	scenario=${scenario%.guest}
fi
[ -f "$guest_run" ] || die "no guest scenario $guest_run"
[ -z "$dom0_run" ] || [ -f "$dom0_run" ] || die "no dom0 hook $dom0_run"
for e in "${envs[@]}"; do
	case $e in
	[A-Za-z_]*=*) case ${e%%=*} in *[!A-Za-z0-9_]*) die "bad --env $e" ;; esac ;;
	*) die "bad --env $e" ;;
	esac
done
name=${name:-xen-$scenario}
out=${out:-$IOREQ_BUILD/xen/$name}

# kmod_paths KROOT NAME: the files of module NAME and of the modules it
# needs, in load order; nothing for one built into the kernel.  In an
# unpacked package modprobe resolves them; in a kernel build tree
# modules.builtin names the built-in ones and a module is found by its
# name (its dependencies are not followed).  Fails if NAME is neither.
kmod_paths()
{
	local kr=$1 m abi n

	m=$(printf '%s' "$2" | tr - _)
	if [ -d "$kr/lib/modules" ]; then
		abi=$(ls "$kr/lib/modules")
		modprobe -d "$kr" -S "$abi" --show-depends "$m" |
			awk '$1 == "insmod" { print $2 }'
		return "${PIPESTATUS[0]}"
	fi
	n=$(awk -v m="$m" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko$/, "", b);
		gsub(/-/, "_", b) } b == m { f = 1 } END { print f + 0 }' "$kr/modules.builtin")
	[ "$n" = 0 ] || return 0
	find "$kr" -name '*.ko' | awk -v m="$m" '{ b = $0; sub(/.*\//, "", b);
		sub(/\.ko$/, "", b); gsub(/-/, "_", b) } b == m { print; f = 1; exit }
		END { exit !f }'
}

case $(realpath -m "$out") in
/|/bin|/boot|/dev|/etc|/home|/lib|/proc|/root|/sys|/tmp|/usr|/var)
	die "refusing to use $out as the output directory" ;;
esac
rm -rf "$out"
mkdir -p "$out"

# Xen: QEMU's multiboot loader wants an uncompressed ELF.  Unpacked once
# per Xen package into the cache (or OUT if the cache is not writable).
xen_elf=$xen
if [ "$arch" = x86 ] && [ "$(head -c 2 "$xen" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
	xen_cache=$IOREQ_CACHE/xen
	mkdir -p "$xen_cache" 2>/dev/null && [ -w "$xen_cache" ] || xen_cache=$out
	xen_elf=$xen_cache/$(basename "$xen" .gz).elf
	if [ ! -s "$xen_elf" ] || [ "$xen" -nt "$xen_elf" ]; then
		zcat "$xen" > "$xen_elf.tmp.$$"
		mv "$xen_elf.tmp.$$" "$xen_elf"
	fi
fi

# The guest program: static, so the guest needs nothing else.
if [ -z "$guest_bin" ] && [ "$arch" = arm64 ]; then
	make -s -C "$IOREQ_ROOT/tools/ioreq-guest" CC=aarch64-linux-gnu-gcc \
		OUTPUT="$IOREQ_BUILD/xen/bin-arm64" >&2 ||
		die "building tools/ioreq-guest for arm64 failed"
	guest_bin=$IOREQ_BUILD/xen/bin-arm64/ioreq-guest
elif [ -z "$guest_bin" ]; then
	make -s -C "$IOREQ_ROOT/tools/ioreq-guest" OUTPUT="$IOREQ_BUILD/xen/bin" >&2 ||
		die "building tools/ioreq-guest failed"
	guest_bin=$IOREQ_BUILD/xen/bin/ioreq-guest
fi
[ -x "$guest_bin" ] || die "no ioreq-guest at $guest_bin"

# add_file ROOT SRC DST: copy SRC into the tree ROOT at DST, with the
# shared libraries it needs if it is a dynamically linked program.
add_file()
{
	local root=$1 src=$2 dst=$3 lib

	[ -e "$src" ] || die "no such file: $src"
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
	if [ -x "$src" ] && [ "$(head -c 4 "$src" | od -An -c | tr -d ' ')" = '177ELF' ] &&
	   ldd "$src" >/dev/null 2>&1; then
		for lib in $(ldd "$src" | grep -o '/[^ ]*'); do
			[ -e "$root$lib" ] && continue
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
	fi
}

# add_spec ROOT SRC[:DST]: --add and --guest-add.
add_spec()
{
	local root=$1 a=$2 src dst

	src=${a%%:*}
	if [ "$src" != "$a" ]; then
		dst=${a#*:}
	elif [ -x "$src" ] && [ ! -d "$src" ]; then
		dst=/usr/bin/$(basename "$src")
	else
		dst=/$(basename "$src")
	fi
	if [ -d "$src" ]; then
		mkdir -p "$root$dst"
		cp -a "$src/." "$root$dst/"
	else
		add_file "$root" "$src" "$dst"
	fi
}

# new_root DIR: busybox and the usual directories.
new_root()
{
	local root=$1

	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root}
	cp "$BUSYBOX" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
}

# pack DIR FILE: a newc cpio of DIR (uncompressed: nothing to inflate
# under emulation).
pack()
{
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) > "$2"
}

# unpack_ko PATH DIR: a module from the image, decompressed, into DIR;
# prints its name there.
unpack_ko()
{
	local path=$1 dir=$2 base

	base=$(basename "$path")
	base=${base%.xz}
	base=${base%.zst}
	case $path in
	*.xz)	xz -dc "$path" > "$dir/$base" ;;
	*.zst)	zstd -qdc "$path" > "$dir/$base" ;;
	*)	cp "$path" "$dir/$base" ;;
	esac
	printf '%s' "$base"
}

env_lines()
{
	local e

	for e in "${envs[@]}"; do
		printf "%s='%s'\n" "${e%%=*}" "$(printf '%s' "${e#*=}" | sed "s/'/'\\\\''/g")"
	done
}

# The guest's initramfs.
groot=$out/guest-root
new_root "$groot"
install -m 755 "$here/guest-init" "$groot/init"
install -m 755 "$guest_run" "$groot/scenario.sh"
install -m 644 "$here/scenarios/lib-ktap.sh" "$groot/lib-ktap.sh"
cp "$guest_bin" "$groot/usr/bin/ioreq-guest"
for a in "${guest_adds[@]}"; do
	add_spec "$groot" "$a"
done
guest_kos=()
for m in "${guest_kmods[@]}"; do
	mkdir -p "$groot/lib/guest-mods"
	paths=$(kmod_paths "$guest_kroot" "$m") || die "no module $m in $guest_kroot"
	for path in $paths; do
		base=$(unpack_ko "$path" "$groot/lib/guest-mods")
		case " ${guest_kos[*]} " in *" /lib/guest-mods/$base "*) continue ;; esac
		guest_kos+=("/lib/guest-mods/$base")
	done
done
{
	env_lines
	echo "GUEST_VCPUS=$vcpus"
	echo "GUEST_TYPE=$guest_type"
	echo "GUEST_KOS='${guest_kos[*]}'"
} > "$groot/etc/ioreq-xen.conf"
pack "$groot" "$out/guest-initramfs.cpio"

# dom0's initramfs.
root=$out/dom0-root
new_root "$root"
mkdir -p "$root"/{lib/xen-mods,lib/ioreq,lib/deps,guest,var/log/xen/console}
install -m 755 "$here/dom0-init" "$root/init"
for t in $XEN_TOOLS; do
	add_file "$root" "$XEN_BIN/$t" "/usr/lib/xen-4.17/bin/$t"
done
if [ "$arch" = arm64 ]; then
	# The host's ldd cannot read arm64 programs: all of the unpacked
	# packages' libraries (scripts/xen-arm.sh checked they suffice).
	mkdir -p "$root/usr/lib"
	cp -a "$AROOT/lib/aarch64-linux-gnu" "$AROOT/lib/ld-linux-aarch64.so.1" "$root/lib/"
	cp -a "$AROOT/usr/lib/aarch64-linux-gnu" "$root/usr/lib/"
else
	# ldd does not list libgcc_s, which glibc loads for pthread_cancel
	# (xl).  awk reads to the end: an early exit would SIGPIPE
	# ldconfig, which pipefail and set -e turn into a silent exit of
	# this script.
	libgcc=$(ldconfig -p | awk '/libgcc_s\.so\.1 .*x86-64/ && !f { print $NF; f = 1 }')
	[ -n "$libgcc" ] || die "no 64-bit libgcc_s.so.1 (apt-get install libgcc-s1)"
	add_file "$root" "$libgcc" "$libgcc"
fi
[ ! -d /etc/xen ] || { mkdir -p "$root/etc/xen"; cp /etc/xen/xl.conf "$root/etc/xen/" 2>/dev/null || true; }

xen_kos=()
for m in $XEN_KMODS; do
	paths=$(kmod_paths "$kroot" "$m") || die "no Xen module $m in $kroot"
	for path in $paths; do
		base=$(basename "$path")
		base=${base%.xz}
		base=${base%.zst}
		case " ${xen_kos[*]} " in *" /lib/xen-mods/$base "*) continue ;; esac
		unpack_ko "$path" "$root/lib/xen-mods" > /dev/null
		xen_kos+=("/lib/xen-mods/$base")
	done
done

mod_names=()
for ko in "${modules[@]}"; do
	[ -f "$ko" ] || die "no module $ko (build it first)"
	n=$(modinfo -F name "$ko" 2>/dev/null || true)
	n=$(printf '%s' "${n:-$(basename "$ko" .ko)}" | tr - _)
	cp "$ko" "$root/lib/ioreq/$n.ko"
	mod_names+=("$n")
done
dep_kos=()
for ko in "${modules[@]}"; do
	for dep in $(modinfo -F depends "$ko" | tr , ' '); do
		case " ${mod_names[*]} " in *" $(echo "$dep" | tr - _) "*) continue ;; esac
		for path in $(kmod_paths "$kroot" "$dep" || true); do
			base=$(basename "$path")
			base=${base%.xz}
			base=${base%.zst}
			case " ${xen_kos[*]} ${dep_kos[*]} " in
			*"/$base "*) continue ;;
			esac
			unpack_ko "$path" "$root/lib/deps" > /dev/null
			dep_kos+=("/lib/deps/$base")
		done
	done
done

for a in "${adds[@]}"; do
	add_spec "$root" "$a"
done
[ -z "$dom0_run" ] || install -m 755 "$dom0_run" "$root/hook.sh"
install -m 644 "$here/scenarios/lib-dom0.sh" "$root/lib-dom0.sh"
install -m 644 "$here/scenarios/lib-ktap.sh" "$root/lib-ktap.sh"

cp "$guest_kernel" "$root/guest/vmlinuz"
cp "$out/guest-initramfs.cpio" "$root/guest/initramfs.cpio"
guest_dev=
guest_console=hvc0
if [ "$guest_type" = hvm ]; then
	add_file "$root" "$XEN_DM" "$XEN_DM"
	add_file "$root" "$XEN_HVMLOADER" "$XEN_HVMLOADER"
	for f in $XEN_DM_FILES; do
		add_file "$root" "$f" "$f"
	done
	# No display and no network: QEMU's serial port is the guest's
	# console, written straight to the log dom0 reads.
	guest_dev="device_model_version = \"qemu-xen\"
device_model_override = \"$XEN_DM\"
serial = \"file:/var/log/xen/console/hvm-serial.log\"
vga = \"none\"
vnc = 0
sdl = 0"
	guest_console=ttyS0
fi
# An Arm guest has one type (libxl's PVH, the default) and no TSC.
guest_arch_cfg="type = \"$guest_type\"
tsc_mode = \"native\""
[ "$arch" = x86 ] || guest_arch_cfg=
if [ -n "$guest_dts" ]; then
	# The scenario's devices join the guest's device tree (libxl copies
	# the partial tree's /passthrough).  The emulated PL011 is there for
	# its SPI: libxl sizes the guest's vGIC from it, and Xen rounds up
	# to 32 SPIs (32-63), which the backends may then raise.
	command -v dtc > /dev/null || die "no dtc (apt-get install device-tree-compiler)"
	dtc -q -I dts -O dtb -o "$root/guest/guest.dtb" "$guest_dts" ||
		die "dtc failed on $guest_dts"
	guest_arch_cfg="device_tree = \"/guest/guest.dtb\"
vuart = \"sbsa_uart\""
fi
cat > "$root/guest/guest.cfg" <<EOF
name = "guest"
kernel = "/guest/vmlinuz"
ramdisk = "/guest/initramfs.cpio"
extra = "console=$guest_console iomem=relaxed $guest_append"
memory = $guest_mem
vcpus = $vcpus
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
$guest_arch_cfg
$guest_dev
EOF
for f in "${guest_cfgs[@]}"; do
	cat "$f" >> "$root/guest/guest.cfg"
done

{
	echo "XEN_KOS='${xen_kos[*]}'"
	echo "DEP_KOS='${dep_kos[*]}'"
	echo "MODULES='${mod_names[*]}'"
	echo "GUEST_NAME=guest"
	echo "GUEST_SCENARIO='$scenario'"
	echo "GUEST_TIMEOUT=$guest_timeout"
	echo "GUEST_VCPUS=$vcpus"
	echo "DOM0_MODE=$dom0_mode"
	echo "GUEST_TYPE=$guest_type"
	[ "$guest_type" != hvm ] ||
		echo "GUEST_LOG=/var/log/xen/console/hvm-serial.log"
	env_lines
} > "$root/etc/ioreq-xen.conf"
pack "$root" "$out/dom0-initramfs.cpio"

# Boot.  Xen owns the only serial port.
console=$out/console.log
ktap=$out/ktap.log
glog=$out/guest-console.log
timings=$out/timings
qemu_dom0=()
case $dom0_mode in
pv)	;;
hvm)	[ "$arch" = arm64 ] || die "--dom0 hvm is Arm's" ;;
pvh)	xen_append="dom0=pvh $xen_append"
	qemu_dom0=(-device amd-iommu) ;;
*)	die "--dom0 is pv or pvh, not '$dom0_mode'" ;;
esac
case $arch in
x86)	xen_cmdline="console=com1 com1=115200,8n1 dom0_mem=$DOM0_MEM,max:$DOM0_MEM dom0_max_vcpus=1 $xen_append"
	dom0_cmdline="console=hvc0 earlyprintk=xen iomem=relaxed loglevel=7 panic=-1 oops=panic $append"
	case "$kernel$dom0_cmdline$out" in
	*,*) die "QEMU's -initrd list cannot hold a ',' (kernel path, --append or --out)" ;;
	esac ;;
arm64)	# Xen finds the PL011 by the device tree's stdout-path.
	xen_cmdline="dom0_mem=$DOM0_MEM,max:$DOM0_MEM dom0_max_vcpus=1 $xen_append"
	dom0_cmdline="console=hvc0 earlycon=xen iomem=relaxed loglevel=7 panic=-1 oops=panic $append"
	case "$kernel$dom0_cmdline$out" in
	*,*) die "QEMU's -device guest-loader cannot hold a ',' (kernel path, --append or --out)" ;;
	esac ;;
esac
: > "$ktap"
: > "$glog"
: > "$timings"

# report: the report lines as they come; "# T: EVENT UPTIME" lines (dom0's
# uptime) are also kept in $timings.
report()
{
	local line

	while IFS= read -r line; do
		case $line in
		*'IOREQ| '*) line=${line#*IOREQ| } ;;
		*) continue ;;
		esac
		case $line in
		'IOREQ-GLOG| '*)
			printf '%s\n' "${line#IOREQ-GLOG| }" >> "$glog"
			continue ;;
		'# T: '*)
			printf '%s\n' "${line#'# T: '}" >> "$timings" ;;
		esac
		printf '%s\n' "$line" >> "$ktap"
		printf '%s\n' "$line"
	done
}

# stall_watch: a QEMU that uses almost no CPU (under 0.2 s in each 10 s)
# and prints nothing for STALL_SECS (default 60) runs a machine that has
# stopped for good: seen here twice in about 30 boots under TCG, Xen, dom0
# and the guest all idle and no timer interrupt ever again.  A live
# machine, even one whose guest waits on a lost request, keeps dom0's
# polling loops running.  Kill it then rather than at the timeout, and
# leave OUT/stalled saying so (check.sh boots the scenario again).
# monitor_dump CMD...: QEMU's answers to monitor commands, through the
# socket of -monitor (nothing if there is none).
monitor_dump()
{
	[ -S "$monitor" ] && command -v python3 > /dev/null || return 0
	python3 - "$monitor" "$@" <<'PY'
import socket
import sys

sock = socket.socket(socket.AF_UNIX)
sock.settimeout(10)
sock.connect(sys.argv[1])


def answer():
    """Read up to QEMU's next prompt."""
    buf = b""
    while not buf.endswith(b"(qemu) "):
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        if not data:
            break
        buf += data
    return buf.decode(errors="replace")


answer()
for cmd in sys.argv[2:]:
    sock.sendall(cmd.encode() + b"\n")
    print("(qemu) " + cmd)
    print(answer().replace("\r", ""))
PY
}

stall_watch()
{
	local pid='' cpu last=-1 size last_size=-1 idle=0 hz

	hz=$(getconf CLK_TCK)
	while sleep 10; do
		[ -n "$pid" ] || pid=$(cat "$out/qemu.pid" 2>/dev/null) || continue
		[ -r "/proc/$pid/stat" ] || return 0
		cpu=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || return 0
		size=$(stat -c %s "$console" 2>/dev/null || echo 0)
		if [ "$last" -ge 0 ] && [ $((cpu - last)) -lt $((hz / 5)) ] &&
		   [ "$size" = "$last_size" ]; then
			idle=$((idle + 10))
		else
			idle=0
		fi
		last=$cpu
		last_size=$size
		if [ "$idle" -ge "${STALL_SECS:-60}" ]; then
			echo "the emulated machine stopped: QEMU idle and the console silent for ${idle}s" \
				> "$out/stalled"
			# The emulated CPUs' state, for whoever asks whose
			# stall it was: registers, each local APIC (its timer).
			monitor_dump "info registers -a" "cpu 0" "info lapic" \
				"cpu 1" "info lapic" > "$out/monitor.log" 2>&1 || true
			kill "$pid" 2>/dev/null
			return 0
		fi
	done
}

# A monitor socket for stall_watch's dump (a socket path is at most 107
# bytes long).
monitor=$out/monitor.sock
monitor_args=(-monitor none)
[ ${#monitor} -gt 100 ] || monitor_args=(-monitor "unix:$monitor,server=on,wait=off")
rm -f "$monitor"
start=$EPOCHREALTIME
echo "xen-vm: $name: booting Xen ($(basename "$xen")) + $dom0_mode dom0 $(basename "$kernel"), guest scenario $scenario"
set +e
rm -f "$out/qemu.pid" "$out/stalled"
stall_watch &
watch_pid=$!
if [ "$arch" = arm64 ]; then
	# QEMU's guest-loader hands dom0's kernel and initramfs to Xen as
	# multiboot modules of the device tree.  They stay clear of the
	# device tree QEMU places at 0x48000000 (RAM base + 128 MiB): a
	# module over it makes Xen free its pages twice.
	qemu_machine=(-machine virt,virtualization=on,gic-version=3
		-device "guest-loader,addr=0x42000000,kernel=$kernel,bootargs=$dom0_cmdline"
		-device "guest-loader,addr=0x4a000000,initrd=$out/dom0-initramfs.cpio")
else
	# Xen's multiboot loader: -initrd is "dom0 kernel with its command
	# line, then dom0's initramfs".
	qemu_machine=(-machine q35 -initrd "$kernel $dom0_cmdline,$out/dom0-initramfs.cpio")
fi
timeout -k 10 "$timeout" "$QEMU" "${qemu_machine[@]}" -accel "$VM_ACCEL" -cpu "$VM_CPU" \
	"${qemu_dom0[@]}" \
	-smp "$VM_SMP" -m "$VM_MEM" -nographic -no-reboot "${monitor_args[@]}" \
	-nic none -kernel "$xen_elf" -append "$xen_cmdline" \
	-pidfile "$out/qemu.pid" -serial stdio < /dev/null 2> "$out/qemu.err" |
	sed -u 's/\r*$//' | tee "$console" | report
qemu_rc=${PIPESTATUS[0]}
kill "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null
set -e
elapsed_exact=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
elapsed=$(awk -v a="$elapsed_exact" 'BEGIN { printf "%d", a + 0.5 }')
touch "$console"
# shellcheck disable=SC1003
sed -i 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; $a\' "$console"

# Judge.
problems=0
end_rc=$(sed -n 's/^IOREQ-XEN-END rc=\([0-9]*\)$/\1/p' "$ktap" | tail -n 1)
if [ -z "$end_rc" ]; then
	problems=$((problems + 1))
	if [ -s "$out/stalled" ]; then
		echo "xen-vm: $name: $(cat "$out/stalled")"
	elif [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
		echo "xen-vm: $name: the machine did not finish within ${timeout}s"
	else
		echo "xen-vm: $name: dom0 stopped before the end of /init (qemu exit $qemu_rc)"
	fi
	if [ -s "$out/qemu.err" ]; then
		sed 's/^/xen-vm: qemu: /' "$out/qemu.err"
	fi
fi

# scan FILE WHAT: splats in a console log (command lines echoed at boot
# and our report lines are no splat).
scan()
{
	local file=$1 what=$2 hits=$out/splats-$2.log

	{ grep -vE 'Command line:|IOREQ' "$file" || true; } |
		{ grep -E "^\(XEN\)" || true; } | { grep -E "$XEN_SPLATS" || true; } > "$hits"
	{ grep -vE 'Command line:|IOREQ|^\(XEN\)' "$file" || true; } |
		{ grep -E "$SPLATS|$USER_CRASHES" || true; } >> "$hits"
	[ -s "$hits" ] || { rm -f "$hits"; return 0; }
	problems=$((problems + 1))
	echo "xen-vm: $name: splat on the $what console ($file):"
	head -n 60 "$hits" | sed 's/^/    /'
}
scan "$console" xen-dom0
scan "$glog" guest
# Guest console lag: the guest stamps each scenario line with its uptime
# as the line leaves the scenario (guest-init), dom0 with its own as the
# line reaches xenconsoled's log (dom0-init's live copy).  The two clocks
# differ by a constant, so the spread of (dom0 - guest) over the lines is
# how late the latest line came compared with the earliest: a held-back
# block of output (a buffering prefixer) shows as a spread as long as the
# scenario.  Over GUEST_LAG_MAX seconds (default 30) fails the run.
lag=$(awk '
	match($0, /IOREQ-LIVE@[0-9.]+\| IOREQ-G@[0-9.]+\| /) {
		split(substr($0, RSTART, RLENGTH), f, /[@|]/)
		d = f[2] - f[4]
		if (!n || d < lo) lo = d
		if (!n || d > hi) hi = d
		if (!n) first = f[4]
		last = f[4]
		n++
	}
	END { printf "%d %.1f %.1f\n", n, n ? hi - lo : 0, n ? last - first : 0 }' "$console")
read -r lag_lines lag guest_span <<< "$lag"
if [ "$lag_lines" -gt 0 ]; then
	echo "xen-vm: $name: guest console: $lag_lines scenario lines over ${guest_span}s of the guest's time, arrival spread ${lag}s"
	if awk -v l="$lag" -v m="${GUEST_LAG_MAX:-30}" 'BEGIN { exit !(l > m) }'; then
		problems=$((problems + 1))
		echo "xen-vm: $name: guest console lines reached dom0 up to ${lag}s late (over ${GUEST_LAG_MAX:-30}s)"
	fi
fi
if [ "$problems" -gt 0 ]; then
	echo "xen-vm: $name: last lines of the console:"
	tail -n 40 "$console" | sed 's/^/    /' || true
fi

# Count as vmtest.sh does: the guest scenario's own cases ("# ok N") stand
# for its top-level "selftests:" line unless it reported none or failed
# although they all passed; every other top-level line counts.
read -r passed failed skipped < <(awk -f "$here/../vm/ktap-count.awk" "$ktap")
failed=$((failed + problems))

# Timings.  dom0 marked moments with its uptime; dom0's "poweroff" was a
# moment before QEMU exited, which places them all on QEMU's clock:
# EVENT UPTIME SECONDS-SINCE-QEMU-START.
awk -v end="$elapsed_exact" '
	{ e[NR] = $1; u[NR] = $2 }
	$1 == "poweroff" { off = end - $2 }
	END { for (i = 1; i <= NR; i++)
		printf "%s %s %s\n", e[i], u[i], off == "" ? "?" : sprintf("%.1f", off + u[i]) }
' "$timings" > "$timings.tmp" && mv "$timings.tmp" "$timings"
tval()
{
	awk -v e="$1" '$1 == e { print $3; exit }' "$timings"
}
tdiff()
{
	local a b

	a=$(tval "$1")
	b=$(tval "$2")
	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "?"
		return
	fi
	case $a$b in *'?'*) echo "?"; return ;; esac
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b - a }'
}
xen_boot=$(tval dom0-init)
create=$(tdiff create-start created)
to_user=$(tdiff create-start guest-userspace)
scen=$(tdiff create-start guest-gone)

cat > "$out/result" <<EOF
NAME=$name
PASSED=$passed
FAILED=$failed
SKIPPED=$skipped
ELAPSED=$elapsed
BOOT=${xen_boot:-?}
GUEST_CREATE=$create
GUEST_USERSPACE=$to_user
SCENARIO=$scen
GUEST_LAG_LINES=$lag_lines
GUEST_LAG=$lag
GUEST_SPAN=$guest_span
EOF
echo "xen-vm: $name: Xen+dom0 boot ${xen_boot:-?}s, xl create -p ${create}s," \
	"create to guest userspace ${to_user}s, guest scenario ${scen}s, whole run ${elapsed}s"
echo "xen-vm: $name: logs in $out"
echo "$name: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
