#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vmtest.sh: boot a kernel under QEMU (TCG) with an initramfs holding
# busybox, the ioreq modules and the test programs, run them, and judge
# the run from the guest's KTAP report and its kernel console.
#
# usage: vmtest.sh --kernel VMLINUZ [options]
#   --kernel FILE      kernel image to boot (required)
#   --kroot DIR        unpacked linux-image package (scripts/fetch-kernel.sh):
#                      kernel modules our modules depend on come from here
#   --module FILE.ko   module to load, in order; unloaded in reverse order
#                      after the tests (repeatable)
#   --test FILE        test program, run in the order given (repeatable)
#   --settings FILE    kselftest "settings" file (timeout=N per program)
#   --add SRC[:DST]    extra file for the guest, at DST (default
#                      /usr/bin/NAME for executables, else /NAME)
#   --run SCRIPT       run SCRIPT (as /run.sh) instead of the tests; its
#                      output is printed as it is and its exit code is the
#                      result
#   --name NAME        label for the summary (default: from the image name)
#   --out DIR          where the initramfs and logs go
#                      (default: .build/vm/NAME)
#   --timeout SECS     wall-clock limit for the whole guest (default 1200)
#   --test-timeout S   limit for one test program (default: settings, or 300)
#   --append ARGS      extra kernel command line
#
# The guest writes its report to its second serial port, which this
# script prints as it comes and keeps in OUT/ktap.log; the kernel console
# (first serial port) goes to OUT/console.log.  The run fails if the guest
# does not reach the end of /init, if any test case fails, or if the
# console shows a kernel splat (WARNING, BUG, Oops, lockdep, RCU stall,
# hung task, KASAN/UBSAN/kmemleak report, panic).  The last line printed
# is "NAME: N passed, N failed, N skipped", counting the test programs'
# own cases plus loading and unloading the modules.  OUT/result holds the
# same counts as shell variables.  Exit status 0 only if nothing failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
IOREQ_ROOT=${IOREQ_ROOT:-$(cd "$here/../../.." && pwd)}
IOREQ_BUILD=${IOREQ_BUILD:-$IOREQ_ROOT/.build}
QEMU=${QEMU:-qemu-system-x86_64}
VM_SMP=${VM_SMP:-2}
VM_MEM=${VM_MEM:-1024}
BUSYBOX=${BUSYBOX:-/bin/busybox}

# Kernel messages that fail a run whatever the tests said.
# Lockdep, KASAN, UBSAN and debugobjects reports all carry one of these;
# the bare words are avoided because debug kernels print them at boot
# ("RCU lockdep checking is enabled", "kmemleak: Kernel memory leak
# detector initialized").  kmemleak's report lists "unreferenced object".
SPLATS='WARNING:|BUG:|Oops|general protection fault|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|trying to register non-static key|turning off the locking correctness validator|INFO: rcu|rcu_sched self-detected stall|blocked for more than|KASAN:|UBSAN:|ODEBUG:|unreferenced object|suspected memory leak|Call Trace:|Kernel panic'

usage()
{
	sed -n '/^# usage:/,/^# The guest/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}

die()
{
	printf 'vmtest: error: %s\n' "$*" >&2
	exit 2
}

kernel=
kroot=
modules=()
tests=()
settings=
adds=()
run=
name=
out=
timeout=1200
test_timeout=
append=

while [ $# -gt 0 ]; do
	case $1 in
	--kernel)	kernel=$2; shift ;;
	--kroot)	kroot=$2; shift ;;
	--module)	modules+=("$2"); shift ;;
	--test)		tests+=("$2"); shift ;;
	--settings)	settings=$2; shift ;;
	--add)		adds+=("$2"); shift ;;
	--run)		run=$2; shift ;;
	--name)		name=$2; shift ;;
	--out)		out=$2; shift ;;
	--timeout)	timeout=$2; shift ;;
	--test-timeout)	test_timeout=$2; shift ;;
	--append)	append=$2; shift ;;
	-h|--help)	usage ;;
	*)		printf 'vmtest: unknown argument %s\n' "$1" >&2; usage ;;
	esac
	[ $# -gt 0 ] || usage
	shift
done

[ -n "$kernel" ] || usage
[ -f "$kernel" ] || die "no kernel image $kernel"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"
command -v "$QEMU" >/dev/null || die "$QEMU missing (apt-get install qemu-system-x86)"
name=${name:-$(basename "$kernel" | sed 's/^vmlinuz-//')}
out=${out:-$IOREQ_BUILD/vm/$name}
if [ -z "$test_timeout" ]; then
	test_timeout=300
	if [ -n "$settings" ] && grep -q '^timeout=' "$settings"; then
		test_timeout=$(sed -n 's/^timeout=//p' "$settings" | tail -n 1)
	fi
fi

case $(realpath -m "$out") in
/|/bin|/boot|/dev|/etc|/home|/lib|/proc|/root|/sys|/tmp|/usr|/var)
	die "refusing to use $out as the output directory" ;;
esac
rm -rf "$out"
mkdir -p "$out"
root=$out/initramfs
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,lib/ioreq,lib/deps,tests}
mkdir -p "$root"/{proc,sys,dev,tmp,run,root}

# add_file SRC DST: copy SRC into the initramfs at DST, with the shared
# libraries it needs if it is a dynamically linked program.
add_file()
{
	local src=$1 dst=$2 lib

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

cp "$BUSYBOX" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 755 "$here/init" "$root/init"

# Our modules, and the kernel modules they depend on, in load order.
mod_names=()
for ko in "${modules[@]}"; do
	[ -f "$ko" ] || die "no module $ko (build it first)"
	n=$(modinfo -F name "$ko" 2>/dev/null || true)
	n=$(printf '%s' "${n:-$(basename "$ko" .ko)}" | tr - _)
	cp "$ko" "$root/lib/ioreq/$n.ko"
	mod_names+=("$n")
done
dep_kos=()
if [ ${#modules[@]} -gt 0 ] && [ -n "$kroot" ]; then
	abi=$(ls "$kroot/lib/modules")
	for ko in "${modules[@]}"; do
		for dep in $(modinfo -F depends "$ko" | tr , ' '); do
			case " ${mod_names[*]} " in *" $(echo "$dep" | tr - _) "*) continue ;; esac
			for path in $( { modprobe -d "$kroot" -S "$abi" --show-depends "$dep" || true; } |
				      awk '$1 == "insmod" { print $2 }'); do
				base=$(basename "$path")
				base=${base%.xz}
				base=${base%.zst}
				[ -e "$root/lib/deps/$base" ] && continue
				case $path in
				*.xz)	xz -dc "$path" > "$root/lib/deps/$base" ;;
				*.zst)	zstd -qdc "$path" > "$root/lib/deps/$base" ;;
				*)	cp "$path" "$root/lib/deps/$base" ;;
				esac
				dep_kos+=("/lib/deps/$base")
			done
		done
	done
fi

test_names=()
for t in "${tests[@]}"; do
	add_file "$t" "/tests/$(basename "$t")"
	test_names+=("$(basename "$t")")
done
[ -z "$settings" ] || cp "$settings" "$root/tests/settings"
for a in "${adds[@]}"; do
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
		add_file "$src" "$dst"
	fi
done
if [ -n "$run" ]; then
	install -m 755 "$run" "$root/run.sh"
fi

cat > "$root/etc/ioreq-vm.conf" <<EOF
MODULES="${mod_names[*]}"
DEP_KOS="${dep_kos[*]}"
TESTS="${test_names[*]}"
TEST_TIMEOUT=$test_timeout
KERNEL_NAME="$name"
EOF

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) > "$out/initramfs.cpio"

# Boot.  ttyS0: kernel console -> console.log; ttyS1: the report -> stdout.
console=$out/console.log
ktap=$out/ktap.log
# nokaslr: the monitor's dump of a hung guest names its kernel symbols.
cmdline="console=ttyS0 panic=-1 oops=panic loglevel=7 nokaslr $append"
# Before the time runs out, the monitor says where each vcpu is.
# (A unix socket's path is short: not under OUT.)
mondir=$(mktemp -d /tmp/ioreq-mon.XXXXXX)
monitor=$mondir/sock
rm -f "$out/monitor.txt"
smap=$(dirname "$kernel")/../../../System.map	# a kernel build's
if [ -n "$kroot" ]; then
	for f in "$kroot"/boot/System.map-*; do
		smap=$f
	done
fi
[ -f "$smap" ] || smap=
(
	i=$((timeout > 60 ? timeout - 20 : timeout * 2 / 3))
	while [ "$i" -gt 0 ]; do sleep 1; i=$((i - 1)); done
	[ -S "$monitor" ] &&
		"$here/qmon.py" ${smap:+--map "$smap"} "$monitor" \
			"info registers -a" > "$out/monitor.txt" 2>&1
) &
watch=$!
start=$(date +%s)
set +e
timeout -k 10 "$timeout" "$QEMU" -accel tcg -cpu max,-smap \
	-smp "$VM_SMP" -m "$VM_MEM" -nographic -no-reboot \
	-monitor "unix:$monitor,server=on,wait=off" \
	-nic none -kernel "$kernel" -initrd "$out/initramfs.cpio" \
	-append "$cmdline" \
	-serial "file:$console" -serial stdio < /dev/null 2> "$out/qemu.err" |
	sed -u 's/\r$//' | tee "$ktap"
qemu_rc=${PIPESTATUS[0]}
kill "$watch" 2> /dev/null
wait "$watch" 2> /dev/null
set -e
rm -rf "$mondir"
elapsed=$(( $(date +%s) - start ))
touch "$console"
# Line ends and the firmware's terminal escapes, then a final newline.
# shellcheck disable=SC1003
sed -i 's/\r$//; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; $a\' "$console"

# Judge.  Every reason for failing goes to OUT/failures, one line each,
# and is printed last, where a log that keeps only its tail still shows it.
problems=0
: > "$out/failures"
fail_reason()
{
	problems=$((problems + 1))
	echo "$name: $*" >> "$out/failures"
}
end_rc=$(sed -n 's/^IOREQ-VM-END rc=\([0-9]*\)$/\1/p' "$ktap" | tail -n 1)
if [ -z "$end_rc" ]; then
	if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
		fail_reason "the guest did not finish within ${timeout}s"
		if [ -s "$out/monitor.txt" ]; then
			echo "vmtest: $name: where the vcpus were ($out/monitor.txt):"
			grep -E '^CPU#|RIP=' "$out/monitor.txt" |
				sed 's/^/vmtest:   /' || true
		fi
	else
		fail_reason "the guest stopped before the end of /init (qemu exit $qemu_rc)"
	fi
	if [ -s "$out/qemu.err" ]; then
		sed 's/^/vmtest: qemu: /' "$out/qemu.err"
	fi
fi
# The command line is echoed at boot; options in it are no splat.
{ grep -vE 'Command line:' "$console" || true; } |
	{ grep -E "$SPLATS" || true; } > "$out/splats.log"
rm -f "$out/splat-heads"
if [ -s "$out/splats.log" ]; then
	fail_reason "kernel splat on the console ($console):"
	{ grep -nE -B2 -A20 "$SPLATS" "$console" || true; } |
		{ grep -vE 'Command line:' || true; } | head -n 60 |
		sed 's/^/    /' >> "$out/failures" || true
	# Each splat's first line and the kernel RIPs, for a log's tail.
	{ grep -nE "$SPLATS|RIP: 0010:" "$console" || true; } |
		{ grep -vE 'Command line:|Call Trace:' || true; } |
		head -n 24 > "$out/splat-heads" || true
fi
# The cases that failed, by name.
awk -v n="$name" '/^(# )*not ok /{print n ": " $0}' "$ktap" >> "$out/failures"
if [ "$problems" -gt 0 ]; then
	echo "vmtest: $name: last lines of the console:"
	tail -n 30 "$console" | sed 's/^/    /' || true
fi
if [ -s "$out/failures" ]; then
	echo "vmtest: $name: what failed:"
	sed 's/^/vmtest: /' "$out/failures"
fi

if [ -n "$run" ]; then
	# One case: the script.
	if [ "${end_rc:-1}" = 0 ]; then passed=1; failed=0; else passed=0; failed=1; fi
	skipped=0
else
	# Count the cases of each program from its own result lines
	# ("# ok N ...", one level of "# " deep); the top-level lines of the
	# programs count only when the program reported no case of its own
	# (it crashed, timed out, or skipped as a whole) or failed although
	# all its cases passed.  Other top-level lines (insmod, rmmod) count.
	read -r passed failed skipped < <(awk -f "$here/ktap-count.awk" "$ktap")
fi
failed=$((failed + problems))

cat > "$out/result" <<EOF
NAME=$name
PASSED=$passed
FAILED=$failed
SKIPPED=$skipped
ELAPSED=$elapsed
EOF
echo "vmtest: $name: guest ran ${elapsed}s; logs in $out"
echo "$name: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
