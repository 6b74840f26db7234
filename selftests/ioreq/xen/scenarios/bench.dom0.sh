#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "bench": serve the guest's turns (bench.guest.sh) with
# ioreq-xen-native, then ioreq-backend, on 1 and then 2 vcpus, swapping
# when the guest says a turn is done.

. /lib-dom0.sh

case $1 in
start)	need_provider
	if ! command -v ioreq-xen-native > /dev/null; then
		echo "no ioreq-xen-native: add it with --add"
		exit 4
	fi
	(for v in 1 2; do
		BACKEND=ioreq-xen-native
		start_backend "native-$v" || exit 1
		BACKEND=ioreq-backend
		wait_guest_line "IOREQ-BENCH-DONE native-$v" 300 || exit 1
		stop_backend "native-$v" || exit 1
		start_backend "ioreq-$v" || exit 1
		wait_guest_line "IOREQ-BENCH-DONE ioreq-$v" 300 || exit 1
		stop_backend "ioreq-$v" || exit 1
	 done; echo "all turns served") > /tmp/bench-switcher.log 2>&1 &
	;;
stop)	cat /tmp/bench-switcher.log
	grep -q '^all turns served' /tmp/bench-switcher.log ;;
esac
