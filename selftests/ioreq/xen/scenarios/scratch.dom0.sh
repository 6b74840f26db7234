#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "scratch": one ioreq-backend serving the guest from
# before it runs until after it is gone: an MMIO and a port region, and
# the configuration space of PCI function IOREQ_PCI (default 00:05.0).

. /lib-dom0.sh

case $1 in
start)	need_provider
	start_backend main --pci "${IOREQ_PCI:-00:05.0}" ;;
stop)	stop_backend main ;;
esac
