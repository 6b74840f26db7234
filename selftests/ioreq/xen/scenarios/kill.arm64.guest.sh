#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "kill" on Arm: both vcpus loop on the MMIO region while
# dom0 SIGKILLs the backend; the guest must go on.
#
# Unlike x86, Xen on Arm has no default for MMIO that no IOREQ server
# maps.  An access in flight when the backend dies reads all ones (the
# core answers it), but once the dead backend's region is released the
# next access is a data abort, and the program dies of it (seen: "Killed",
# exit 137, no kernel message) while the guest kernel carries on.  Which
# comes first is a race (in 2 runs: both vcpus read all ones, then the
# abort; the abort at once).  So the loop's own verdict is replaced by:
# the program ended by one of the two, and the guest still runs after it.

vcpus=${GUEST_VCPUS:-2}
ioreq-guest loop --vcpus "$vcpus" --seconds "${IOREQ_SECONDS:-20}" \
	--gone stay --expect-gone \
	--mmio "${IOREQ_MMIO:-0x02000000}:${IOREQ_MMIO_LEN:-0x100}" > /tmp/loop.log 2>&1
rc=$?
echo "TAP version 13"
echo "1..2"
sed 's/^/# /' /tmp/loop.log
n=$(grep -c 'went away after .* (read all ones)' /tmp/loop.log)
echo "# $n of $vcpus vcpus read all ones before the abort"
case $rc in
0)	echo "ok 1 the loop ended (exit 0)" ;;
135|137) echo "ok 1 the loop ended by the data abort after the region's release (exit $rc)" ;;
*)	echo "not ok 1 the loop ended (exit $rc)" ;;
esac
if [ -r /proc/uptime ]; then
	echo "ok 2 the guest goes on (up $(cut -d' ' -f1 /proc/uptime) s)"
else
	echo "not ok 2 the guest goes on"
fi
