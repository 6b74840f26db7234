#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "bench" (make bench's Xen rows, not part of make check):
# the same timed MMIO loop (ioreq-guest time) against the native
# libxendevicemodel server and against ioreq-backend through /dev/ioreq,
# both serving at once on their own pages (bench.dom0.sh), in alternating
# turns: IOREQ_BENCH_REPEATS rounds of turns on 1 and then on 2 vcpus.
# Each round has a third turn, "doorbell": writes only, to the address
# where ioreq-backend's ioeventfd completes them in dom0's kernel
# (bench.dom0.sh), the path of an access without the server's process.
# Odd rounds take the turns in that order, even rounds in reverse, so
# that a drift of the machine touches each server alike.
# Each turn prints "bench: WHO_vcpusN_{read,write}_us=..." lines.

IOREQ_MMIO="${IOREQ_MMIO:-0xe0000000}:0x1000"
NATIVE_MMIO="${IOREQ_NATIVE_MMIO:-0xe0001000}:0x1000"
DOORBELL=${IOREQ_DOORBELL:-0xe0000800}
ROUNDS=${IOREQ_BENCH_ROUNDS:-2000}
REPEATS=${IOREQ_BENCH_REPEATS:-3}

echo "TAP version 13"
echo "1..$((6 * REPEATS))"
n=0
rc=0
for v in 1 2; do
	r=0
	while [ "$r" -lt "$REPEATS" ]; do
		r=$((r + 1))
		order="native ioreq doorbell"
		[ $((r % 2)) = 1 ] || order="doorbell ioreq native"
		for who in $order; do
			n=$((n + 1))
			mmio=$IOREQ_MMIO
			db=
			case $who in
			native)		mmio=$NATIVE_MMIO ;;
			doorbell)	db="--doorbell $DOORBELL" ;;
			esac
			# shellcheck disable=SC2086 # $db: no words or two
			ioreq-guest time --mmio "$mmio" --vcpus "$v" --rounds "$ROUNDS" \
				--label "$who" $db > /tmp/time.log 2>&1
			trc=$?
			grep -v '^TAP version\|^1\.\.' /tmp/time.log | sed 's/^/# /'
			if [ "$trc" = 0 ]; then
				echo "ok $n $who server, $v vcpu(s), turn $r"
			else
				echo "not ok $n $who server, $v vcpu(s), turn $r # exit=$trc"
				rc=1
			fi
		done
	done
done
exit $rc
