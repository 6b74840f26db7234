#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "reattach": backend "first" is stopped 5 s into the guest's
# scenario, backend "second" attaches 5 s later and serves to the end.

. /lib-dom0.sh

case $1 in
start)	need_provider
	start_backend first || exit 1
	(wait_guest_line 'IOREQ-GUEST-BEGIN' && sleep 5 && stop_backend first &&
	 sleep 5 && start_backend second) > /tmp/switcher.log 2>&1 &
	;;
stop)	cat /tmp/switcher.log
	stop_backend second ;;
esac
