#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "bench" (make bench's Xen rows): two IOREQ servers for the
# guest at once, each on its own MMIO page: ioreq-xen-native (the
# libxendevicemodel baseline) at IOREQ_NATIVE_MMIO and ioreq-backend
# through /dev/ioreq at IOREQ_MMIO.  The guest (bench.guest.sh) times
# both in alternating turns, so no server has to stop between turns.
# ioreq-backend also completes 4-byte writes to IOREQ_DOORBELL with an
# ioeventfd in dom0's kernel: the guest's third turn times those, an
# access that no server process takes part in.

. /lib-dom0.sh

NATIVE_MMIO=${IOREQ_NATIVE_MMIO:-0xe0001000}:0x1000
DOORBELL=${IOREQ_DOORBELL:-0xe0000800}

case $1 in
start)	need_provider
	if ! command -v ioreq-xen-native > /dev/null; then
		echo "no ioreq-xen-native: add it with --add"
		exit 4
	fi
	start_backend ioreq --doorbell "$DOORBELL" || exit 1
	BACKEND=ioreq-xen-native
	MMIO_REGION=$NATIVE_MMIO
	start_backend native || exit 1 ;;
stop)	rc=0
	stop_backend native || rc=1
	stop_backend ioreq || rc=1
	exit $rc ;;
esac
