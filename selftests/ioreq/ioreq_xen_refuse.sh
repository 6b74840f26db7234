#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Outside a Xen domain the Xen provider must refuse to load, with ENODEV,
# and leave nothing behind.
set -u
ko=${1:-/lib/ioreq/ioreq_xen.ko}

if [ ! -f "$ko" ]; then
	echo "1..0 # SKIP $ko is not in this guest (kernel built without CONFIG_XEN?)"
	exit 4
fi
if grep -qs xen /sys/hypervisor/type; then
	echo "1..0 # SKIP this is a Xen domain: the provider may load here"
	exit 4
fi

echo "TAP version 13"
echo "1..1"
if out=$(insmod "$ko" 2>&1); then
	rmmod ioreq_xen
	echo "# insmod succeeded outside Xen"
	echo "not ok 1 xen_provider_refuses_outside_xen"
	exit 1
fi
echo "# insmod: $out"
case $out in
*"No such device"*) ;;
*)
	echo "not ok 1 xen_provider_refuses_outside_xen # expected ENODEV"
	exit 1
	;;
esac
if [ -d /sys/module/ioreq_xen ]; then
	echo "not ok 1 xen_provider_refuses_outside_xen # module left behind"
	exit 1
fi
echo "ok 1 xen_provider_refuses_outside_xen"
