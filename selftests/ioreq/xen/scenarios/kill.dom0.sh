#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "kill": a backend, killed with SIGKILL 5 s after the guest's
# scenario began, while its vcpus are in the middle of accesses.

. /lib-dom0.sh

case $1 in
start)	need_provider
	start_backend main || exit 1
	(wait_guest_line 'IOREQ-GUEST-BEGIN' && sleep "${IOREQ_KILL_AFTER:-5}" &&
	 kill -KILL "$(cat /tmp/backend-main.pid)") > /tmp/killer.log 2>&1 &
	;;
stop)	cat /tmp/killer.log
	# Already dead: this only shows its log.
	stop_backend main ;;
esac
