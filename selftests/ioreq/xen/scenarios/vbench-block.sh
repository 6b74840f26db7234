#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# libxl's hotplug script for the "vbench" scenario's blkback disks
# (script=/vbench/block in their xl disk lines): dom0's initramfs has no
# /etc/xen/scripts/block (bash and its helpers), and this is all blkback
# needs from one.  "add": the disk's file (params) on a free loop device,
# read-only if the disk is (mode r), whose major:minor goes to
# physical-device, which blkback watches; "remove": the loop device freed.
# libxl runs it with XENBUS_PATH set to the backend's xenstore directory.

case $1 in
add)
	f=$(xenstore-read "$XENBUS_PATH/params") || exit 1
	ro=
	[ "$(xenstore-read "$XENBUS_PATH/mode")" != r ] || ro=-r
	# losetup fails on a device in use: the first that takes the file.
	for i in 0 1 2 3 4 5 6 7; do
		loop=/dev/loop$i
		# shellcheck disable=SC2086
		losetup $ro "$loop" "$f" 2> /dev/null && break
		loop=
	done
	[ -n "$loop" ] || { echo "vbench-block: no free loop device for $f" >&2; exit 1; }
	xenstore-write "$XENBUS_PATH/physical-device" "$(stat -L -c '%t:%T' "$loop")" \
		"$XENBUS_PATH/physical-device-path" "$loop" \
		"$XENBUS_PATH/hotplug-status" connected
	;;
remove)
	loop=$(xenstore-read "$XENBUS_PATH/physical-device-path" 2> /dev/null) &&
		losetup -d "$loop"
	exit 0
	;;
esac
