#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "nativeioreq" (scripts/xen-soak.sh): "native"'s guest loop
# served by ioreq-backend through /dev/ioreq and our Xen provider.

. /lib-dom0.sh

case $1 in
start)	need_provider
	start_backend main ;;
stop)	stop_backend main ;;
esac
