#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "rep": one ioreq-backend serving the guest's string
# instructions (rep.guest.sh), which Xen sends as ioreqs with a count and
# a pointer to guest memory and the Xen provider carries out element by
# element.

. /lib-dom0.sh

case $1 in
start)	need_provider
	start_backend main ;;
stop)	stop_backend main ;;
esac
