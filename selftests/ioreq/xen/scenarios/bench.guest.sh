#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "bench" (make bench's Xen rows, not part of make check):
# the same timed MMIO loop (ioreq-guest time) against the native
# libxendevicemodel server and against ioreq-backend through /dev/ioreq,
# in turns, on 1 and then 2 vcpus.  After each turn it says
# "IOREQ-BENCH-DONE WHO-VCPUS", dom0 swaps the servers, and the next turn
# starts once the ID register answers again.

MMIO="${IOREQ_MMIO:-0xe0000000}:${IOREQ_MMIO_LEN:-0x1000}"
ROUNDS=${IOREQ_BENCH_ROUNDS:-2000}

echo "TAP version 13"
echo "1..4"
n=0
rc=0
for v in 1 2; do
	for who in native ioreq; do
		n=$((n + 1))
		ioreq-guest time --mmio "$MMIO" --vcpus "$v" --rounds "$ROUNDS" \
			--label "$who" --wait-gone > /tmp/time.log 2>&1 &
		pid=$!
		until grep -q '^IOREQ-BENCH-DONE' /tmp/time.log ||
		      ! kill -0 "$pid" 2>/dev/null; do
			sleep 0.2
		done
		echo "IOREQ-BENCH-DONE $who-$v"
		wait "$pid"
		trc=$?
		grep -v '^TAP version\|^1\.\.\|^IOREQ-BENCH-DONE' /tmp/time.log |
			sed 's/^/# /'
		if [ "$trc" = 0 ]; then
			echo "ok $n $who server, $v vcpu(s)"
		else
			echo "not ok $n $who server, $v vcpu(s) # exit=$trc"
			rc=1
		fi
	done
done
exit $rc
