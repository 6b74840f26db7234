#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "virtio" (an HVM guest): Debian's qemu-storage-daemon
# exports a file as a vhost-user-blk device, and ioreq-vhost presents it
# to the guest as the virtio-pci function IOREQ_PCI (default 00:05.0),
# which hvmloader gives its BAR and the guest's own virtio_pci and
# virtio_blk drive.  At stop, the image's checksum must be the one the
# guest printed for its /dev/vda, and ioreq-vhost must have seen no guest
# access while the driver ran, other than its start.  With VIRTIO_KILL=1
# (--env), the daemon is killed with SIGKILL 2 s after the guest says
# "IOREQ-VIRTIO-KILL-NOW" and a new one started 2 s later: ioreq-vhost
# must reconnect and the guest's writes complete.

. /lib-dom0.sh

IMG=/tmp/vblk.img
SOCK=/tmp/vblk.sock
# The HVM guest's RAM as Xen populates it: all of it but the VGA hole.
MEM=$((${GUEST_MEM_MB:-256} << 20))
RAM="--ram 0:0xa0000 --ram 0xc0000:$(printf '0x%x' $((MEM - 0xc0000)))"

# wait_file_line FILE PATTERN SECS PID: until FILE has PATTERN, while PID lives.
wait_file_line()
{
	local n=0

	until grep -q "$2" "$1" 2>/dev/null; do
		if ! kill -0 "$4" 2>/dev/null || [ $n -ge $(($3 * 2)) ]; then
			return 1
		fi
		sleep 0.5
		n=$((n + 1))
	done
}

start_qsd()
{
	qemu-storage-daemon \
		--blockdev driver=file,node-name=f0,filename=$IMG \
		--export type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$SOCK,writable=on \
		>> /tmp/qsd.log 2>&1 &
	echo $! > /tmp/qsd.pid
}

case $1 in
start)
	need_provider
	for p in ioreq-vhost qemu-storage-daemon; do
		command -v $p > /dev/null || { echo "no $p in dom0"; exit 4; }
	done
	dd if=/dev/zero of=$IMG bs=1M count=32 2> /dev/null || exit 1
	start_qsd
	n=0
	until [ -S $SOCK ]; do
		if [ $n -ge 60 ]; then
			echo "qemu-storage-daemon did not listen:"
			cat /tmp/qsd.log
			exit 1
		fi
		sleep 0.5
		n=$((n + 1))
	done
	# shellcheck disable=SC2086
	ioreq-vhost --guest "$DOMID" --socket $SOCK --sbdf "${IOREQ_PCI:-00:05.0}" \
		$RAM --verbose > /tmp/vhost.log 2>&1 &
	echo $! > /tmp/vhost.pid
	if ! wait_file_line /tmp/vhost.log 'virtio-blk at PCI' 30 "$(cat /tmp/vhost.pid)"; then
		echo "ioreq-vhost did not start:"
		cat /tmp/vhost.log
		exit 1
	fi
	# Live copies on dom0's console (kept out of the report and of its
	# splat scan by the IOREQ prefix): an HVM boot takes tens of minutes
	# here, and one cut short by the time limit still shows how far the
	# guest and ioreq-vhost got.
	tail -f "$GUEST_LOG" 2>/dev/null |
		sed 's/^/IOREQ-LIVE| guest: /' > /dev/console 2>&1 &
	tail -f /tmp/vhost.log 2>/dev/null |
		sed -e '/\(config\|BAR0\) [a-z]* [0-9]* at /d' \
		    -e 's/^/IOREQ-LIVE| /' > /dev/console 2>&1 &
	if [ "${VIRTIO_KILL:-0}" = 1 ]; then
		(
			wait_file_line "$GUEST_LOG" IOREQ-VIRTIO-KILL-NOW 3000 \
				"$(cat /tmp/vhost.pid)" || exit 1
			sleep 2
			kill -9 "$(cat /tmp/qsd.pid)" && echo "qemu-storage-daemon killed"
			sleep 2
			rm -f $SOCK
			start_qsd
			echo "qemu-storage-daemon started again"
		) > /tmp/kill.log 2>&1 &
	fi
	sed 's/^/vhost: /' /tmp/vhost.log
	echo "qemu-storage-daemon $(cat /tmp/qsd.pid), ioreq-vhost $(cat /tmp/vhost.pid)"
	;;
stop)
	rc=0
	pid=$(cat /tmp/vhost.pid 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -USR1 "$pid"
		sleep 1
		kill "$pid"
	fi
	sleep 1
	kill "$(cat /tmp/qsd.pid)" 2>/dev/null
	sleep 1
	# Every guest access is logged (--verbose): all of it only on a failure.
	want=$(sed -n 's/^.*IOREQ-VDA-MD5 \([0-9a-f]*\).*/\1/p' "$GUEST_LOG" | tail -n 1)
	if [ -n "$want" ]; then
		grep -vE '(config|BAR0) [a-z]+ [0-9]+ at ' /tmp/vhost.log | sed 's/^/vhost: /'
		echo "vhost: ($(grep -cE '(config|BAR0) [a-z]+ [0-9]+ at ' /tmp/vhost.log) accesses logged)"
	else
		sed 's/^/vhost: /' /tmp/vhost.log
	fi
	sed 's/^/qsd: /' /tmp/qsd.log
	if [ "${VIRTIO_KILL:-0}" = 1 ]; then
		sed 's/^/kill: /' /tmp/kill.log
		grep -q 'started again' /tmp/kill.log || rc=1
		if ! grep -q 'reconnects [1-9]' /tmp/vhost.log; then
			echo "ioreq-vhost did not reconnect"
			rc=1
		fi
	fi
	got=$(md5sum $IMG | cut -d' ' -f1)
	echo "image md5 $got, the guest's /dev/vda md5 ${want:-none}"
	[ -n "$want" ] && [ "$want" = "$got" ] || rc=1
	# ioreq-vhost counts the guest accesses that reached it while the
	# driver was running: each one would be a data-path hop.
	grep 'stats:' /tmp/vhost.log | tail -n 1 > /tmp/stats
	[ -s /tmp/stats ] || { echo "ioreq-vhost printed no stats"; rc=1; }
	if ! grep -q 'irqfd binds [1-9]' /tmp/stats; then
		echo "no irqfd was bound to an MSI-X vector"
		rc=1
	fi
	# A foreign mapping left behind would keep the dead guest a zombie.
	n=0
	while xl list 2>/dev/null | grep -v '^Name' | grep -qv '^Domain-0 '; do
		if [ $n -ge 20 ]; then
			echo "a domain other than dom0 is still there:"
			xl list
			rc=1
			break
		fi
		sleep 0.5
		n=$((n + 1))
	done
	exit $rc
	;;
esac
