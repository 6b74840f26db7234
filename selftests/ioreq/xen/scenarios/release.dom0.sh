#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "release": the backend releases its regions (SIGUSR1 with
# --release-on-usr1) 5 s after the guest's scenario began, while the vcpus
# keep accessing them, and stays attached until the end.

. /lib-dom0.sh

case $1 in
start)	need_provider
	start_backend main --release-on-usr1 || exit 1
	(wait_guest_line 'IOREQ-GUEST-BEGIN' &&
	 sleep "${IOREQ_RELEASE_AFTER:-5}" &&
	 kill -USR1 "$(cat /tmp/backend-main.pid)") > /tmp/releaser.log 2>&1 &
	;;
stop)	cat /tmp/releaser.log
	rc=0
	grep -q 'SIGUSR1: released 2 of 2 regions' /tmp/backend-main.log || {
		echo "the backend did not release both regions"; rc=1; }
	stop_backend main || rc=1
	# It outlived the release: it ended when the guest went (or on
	# stop_backend's SIGTERM), not on an error.
	grep -Eq 'is gone .*exiting|stopped by a signal' /tmp/backend-main.log || {
		echo "the backend did not serve on until the guest went"; rc=1; }
	exit $rc ;;
esac
