#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "scratch": one ioreq-backend serving the guest from
# before it runs until after it is gone.

. /lib-dom0.sh

case $1 in
start)	need_provider
	start_backend main ;;
stop)	stop_backend main ;;
esac
