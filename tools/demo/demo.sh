#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ioreq demo: run inside a (QEMU) guest, busybox sh is enough.
#
#   demo.sh [IOREQ_KO IOREQ_VMM_KO]
#
# Environment:
#   IOREQ_BIN      directory holding ioreq-sim and ioreq-backend
#                  (default: the directory of this script, else $PATH)
#   IOREQ_KO       path of ioreq.ko     (default: $1, else next to the
#   IOREQ_VMM_KO   path of ioreq_vmm.ko  binaries, else $IOREQ_BIN/modules/)
#   TMPDIR         where the backends' logs go (default /tmp)
#
# Modules already loaded (or built in) are left alone.  The story:
#   1. ioreq-sim creates guest 7 with 4 vcpus on /dev/ioreq-vmm;
#   2. two ioreq-backend processes attach to guest 7 through /dev/ioreq:
#      A claims an MMIO region, B a port I/O region;
#   3. all vcpus read and write every size and check the values;
#   4. one read nobody claims returns all ones;
#   5. a read that backend A takes but never answers (--hang): A is killed
#      with kill -9 and the vcpu resumes with all ones;
#   6. the simulator exits, so backend B sees the guest gone and prints
#      what it served.
# Exit status 0 when all of that happened as described.

GUEST=7
MMIO=0xe0000000:0x1000
PIO=0x500:0x100
HANG=0xe0000008		# in A's region, outside every vcpu's registers

say() { echo "demo: $*"; }
die() { echo "demo: FAIL: $*"; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
if [ -n "$IOREQ_BIN" ]; then
	bin=$IOREQ_BIN
elif [ -x "$here/ioreq-sim" ]; then
	bin=$here
else
	bin=$(dirname "$(command -v ioreq-sim 2>/dev/null || echo ./ioreq-sim)")
fi
logdir=${TMPDIR:-/tmp}/ioreq-demo.$$

for b in ioreq-sim ioreq-backend; do
	[ -x "$bin/$b" ] || die "$bin/$b not found (set IOREQ_BIN)"
done

# ---- modules and device nodes -------------------------------------------

find_ko() {	# name, explicit path
	if [ -n "$2" ]; then echo "$2"; return; fi
	for d in "$bin" "$bin/modules" "$here"; do
		[ -f "$d/$1" ] && { echo "$d/$1"; return; }
	done
}

load() {	# module name (as in /sys/module), path
	[ -d "/sys/module/$1" ] && return 0
	if [ -z "$2" ] || [ ! -f "$2" ]; then
		die "$1 is not loaded and no $1.ko found (pass its path)"
	fi
	insmod "$2" || die "insmod $2 failed"
	say "loaded $2"
}

mknode() {	# misc device name
	[ -c "/dev/$1" ] && return 0
	# no devtmpfs: make the node from sysfs
	[ -r "/sys/class/misc/$1/dev" ] || die "/dev/$1 missing and not in /sys/class/misc"
	mm=$(cat "/sys/class/misc/$1/dev")
	mknod "/dev/$1" c "${mm%%:*}" "${mm##*:}" || die "mknod /dev/$1 failed"
}

load ioreq "$(find_ko ioreq.ko "${IOREQ_KO:-$1}")"
load ioreq_vmm "$(find_ko ioreq_vmm.ko "${IOREQ_VMM_KO:-$2}")"
mknode ioreq
mknode ioreq-vmm
mkdir -p "$logdir" || die "cannot create $logdir"

# ---- helpers --------------------------------------------------------------

# wait_pid PID SECS: wait for a child, killing it after SECS; sets $rc
wait_pid() {
	( sleep "$2"; kill -9 "$1" 2>/dev/null ) &
	wd=$!
	wait "$1"
	rc=$?
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
}

# alive PID: the process runs (a zombie has exited)
alive() {
	[ -r "/proc/$1/status" ] && ! grep -q '^State:.*Z' "/proc/$1/status"
}

# wait_log FILE TEXT SECS PID...: wait until TEXT shows up in FILE, giving
# up after SECS or as soon as one of the PIDs has exited
wait_log() {
	f=$1 text=$2 n=$(($3 * 10))
	shift 3
	while ! grep -q "$text" "$f" 2>/dev/null; do
		for p in "$@"; do
			alive "$p" || return 1
		done
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

show_log() {	# label file
	sed "s/^backend: //; s/^/  [$1] /" "$2"
}

# ---- the demo ---------------------------------------------------------------

say "guest $GUEST: 4 vcpus, MMIO $MMIO (backend A), ports $PIO (backend B)"

"$bin/ioreq-sim" run --vcpus 4 --guest-id $GUEST --mmio $MMIO --pio $PIO \
	--rounds 200 --hang $HANG --hang-timeout-ms 20000 &
sim=$!

# --wait: the backends may start before the simulator has created the guest
"$bin/ioreq-backend" --provider vmm --guest $GUEST --mmio $MMIO --hang $HANG --wait 10 \
	> "$logdir/a.log" 2>&1 &
back_a=$!
"$bin/ioreq-backend" --provider vmm --guest $GUEST --pio $PIO --wait 10 \
	> "$logdir/b.log" 2>&1 &
back_b=$!

if wait_log "$logdir/a.log" "holding it unanswered" 60 "$sim" "$back_a"; then
	say "backend A (pid $back_a) holds vcpu 0's read unanswered: kill -9 it"
	kill -9 "$back_a"
else
	say "backend A never got the --hang read; stopping everything"
	kill -9 "$back_a" "$sim" 2>/dev/null
fi

wait_pid "$sim" 40;    sim_rc=$rc
wait_pid "$back_a" 5;  a_rc=$rc
wait_pid "$back_b" 10; b_rc=$rc

say "backend A's output (it was killed, so no summary):"
show_log A "$logdir/a.log"
say "backend B's output:"
show_log B "$logdir/b.log"

fail=0
[ "$sim_rc" = 0 ] || { say "ioreq-sim exited with $sim_rc"; fail=1; }
[ "$a_rc" = 137 ] || { say "backend A exited with $a_rc, expected 137 (kill -9)"; fail=1; }
[ "$b_rc" = 0 ] || { say "backend B exited with $b_rc, expected 0"; fail=1; }
grep -q "is gone" "$logdir/b.log" || { say "backend B did not see the guest go"; fail=1; }
rm -rf "$logdir"

if [ "$fail" = 0 ]; then
	say "PASS: every value matched the scratch device, an unclaimed read and a"
	say "      read whose backend was killed both returned all ones, and the"
	say "      surviving backend saw the guest go away"
	exit 0
fi
say "FAIL"
exit 1
