#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "native" (scripts/xen-soak.sh): ioreq-xen-native, a
# libxendevicemodel IOREQ server with no /dev/ioreq, serves the guest's
# MMIO page.  Boots with none of our modules loaded show whether the
# emulator's faults happen without our provider.

. /lib-dom0.sh

case $1 in
start)	if ! command -v ioreq-xen-native > /dev/null; then
		echo "no ioreq-xen-native: add it with --add"
		exit 4
	fi
	BACKEND=ioreq-xen-native
	start_backend native ;;
stop)	stop_backend native ;;
esac
