#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload the ioreq modules many times, each time under load: the
# fuzzer drives guests and backends while unloads are attempted.  An
# unload must be refused while a file of the module is open, and succeed
# once the load is gone.  The modules are loaded again at the end, as the
# test found them.  Prints KTAP.
#
# usage: ioreq_reload.sh [IOREQ_KO IOREQ_VMM_KO [ROUNDS [LOAD_SECONDS]]]
# By default the modules of the test guest (/lib/ioreq), and 100 rounds
# on a debug kernel (kmemleak present), 20 elsewhere.
set -u
cd "$(dirname "$0")"

core_ko=${1:-/lib/ioreq/ioreq.ko}
vmm_ko=${2:-/lib/ioreq/ioreq_vmm.ko}
if [ -e /sys/kernel/debug/kmemleak ]; then
	rounds=${3:-100}
else
	rounds=${3:-20}
fi
load=${4:-1}
fuzz=${FUZZ:-./ioreq_fuzz}
log=${TMPDIR:-/tmp}/ioreq-reload.$$
mkdir -p "${TMPDIR:-/tmp}"

echo "TAP version 13"
echo "1..1"

fail()
{
	echo "# round $round: $*"
	echo "not ok 1 reload_under_load"
	exit 1
}

refcnt()
{
	cat "/sys/module/$1/refcnt" 2>/dev/null || echo 0
}

# The Xen provider's test double (loaded by the test guests) holds the
# core too: out of the way for the rounds, back at the end.
double_ko=${DOUBLE_KO:-/lib/ioreq/ioreq_xen_double.ko}
had_double=
[ -d /sys/module/ioreq_xen_double ] && had_double=1
for m in ioreq_xen_double ioreq_vmm ioreq; do
	[ -d "/sys/module/$m" ] && { rmmod "$m" || fail "cannot unload $m first"; }
done

round=0
refused=0
while [ "$round" -lt "$rounds" ]; do
	round=$((round + 1))
	insmod "$core_ko" || fail "insmod ioreq"
	insmod "$vmm_ko" || fail "insmod ioreq_vmm"

	"$fuzz" -n 0 -k 0 -t "$load" -s "$round" >"$log" 2>&1 &
	pid=$!

	# Wait (boundedly) until the load holds the provider.
	tries=0
	while [ "$(refcnt ioreq_vmm)" -eq 0 ] && kill -0 "$pid" 2>/dev/null; do
		tries=$((tries + 1))
		[ "$tries" -gt 200 ] && break
		sleep 0.05
	done
	if [ "$(refcnt ioreq_vmm)" -gt 0 ]; then
		# In use: both unloads must be refused, the modules must stay.
		rmmod ioreq_vmm 2>/dev/null && fail "ioreq_vmm unloaded while in use"
		rmmod ioreq 2>/dev/null && fail "ioreq unloaded while in use"
		[ -d /sys/module/ioreq_vmm ] || fail "ioreq_vmm vanished"
		refused=$((refused + 2))
	fi

	wait "$pid" || { cat "$log"; fail "the load failed"; }
	rmmod ioreq_vmm || fail "rmmod ioreq_vmm after the load"
	rmmod ioreq || fail "rmmod ioreq after the load"
done

insmod "$core_ko" && insmod "$vmm_ko" || fail "loading the modules again"
[ -z "$had_double" ] || insmod "$double_ko" || fail "loading $double_ko again"
echo "# $rounds rounds: $refused unloads refused while in use, every unload after the load succeeded"
echo "ok 1 reload_under_load"
