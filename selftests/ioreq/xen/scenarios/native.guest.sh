#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "native" and "nativeioreq" (scripts/xen-soak.sh, not part
# of make check): IOREQ_SOAK_ROUNDS (default 20000) timed 4-byte reads and
# writes on each of 2 vcpus to one MMIO page, the traffic of make bench's
# Xen rows.  Served by ioreq-xen-native (libxendevicemodel, no /dev/ioreq)
# in "native", by ioreq-backend through /dev/ioreq in "nativeioreq": the
# same guest under either server, to tell whose a fault is.

echo "TAP version 13"
echo "1..1"
ioreq-guest time --mmio "${IOREQ_MMIO:-0xe0000000}:0x1000" --vcpus 2 \
	--rounds "${IOREQ_SOAK_ROUNDS:-20000}" --label soak > /tmp/time.log 2>&1
rc=$?
grep -v '^TAP version\|^1\.\.' /tmp/time.log | sed 's/^/# /'
if [ "$rc" = 0 ]; then
	echo "ok 1 MMIO loop on 2 vcpus"
else
	echo "not ok 1 MMIO loop on 2 vcpus # exit=$rc"
fi
exit $rc
