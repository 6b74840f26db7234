#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "virtio-restart" (an HVM guest): as "virtio", Debian's
# qemu-storage-daemon serves a file as a vhost-user-blk disk and
# ioreq-vhost presents it at IOREQ_PCI (default 00:05.0), but with
# --hold: a holder (ioreq-vhost --holder) keeps its session.  2 s after the
# guest says "IOREQ-VIRTIO-RESTART-NOW" (its synchronous writes are
# running), the frontend is killed with SIGKILL and started again 1 s
# later with the same options.  At stop: the successor adopted the session,
# the driver never set the device up again after it (no DRIVER_OK in the
# successor's log; the guest's poweroff does reset it), the holder saw the
# adoption, and the image's checksum is the one the guest printed for its
# /dev/vda.

. /lib-dom0.sh

IMG=/tmp/vblk.img
SOCK=/tmp/vblk.sock
HOLD=/tmp/hold.sock
# The HVM guest's RAM as Xen populates it: all of it but the VGA hole.
MEM=$((${GUEST_MEM_MB:-256} << 20))
RAM="--ram 0:0xa0000 --ram 0xc0000:$(printf '0x%x' $((MEM - 0xc0000)))"

# until_line FILE PATTERN SECS: until FILE has PATTERN.
until_line()
{
	local n=0

	until grep -q "$2" "$1" 2>/dev/null; do
		[ $n -lt $(($3 * 2)) ] || return 1
		sleep 0.5
		n=$((n + 1))
	done
}

# frontend LOG: ioreq-vhost with the holder, in the background.
frontend()
{
	# shellcheck disable=SC2086
	ioreq-vhost --guest "$DOMID" --socket $SOCK \
		--sbdf "${IOREQ_PCI:-00:05.0}" $RAM --hold $HOLD \
		> "$1" 2>&1 &
	echo $! > /tmp/vhost.pid
}

case $1 in
start)
	need_provider
	for p in ioreq-vhost qemu-storage-daemon; do
		command -v $p > /dev/null || { echo "no $p in dom0"; exit 4; }
	done
	dd if=/dev/zero of=$IMG bs=1M count=32 2> /dev/null || exit 1
	qemu-storage-daemon \
		--blockdev driver=file,node-name=f0,filename=$IMG \
		--export type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$SOCK,writable=on \
		> /tmp/qsd.log 2>&1 &
	echo $! > /tmp/qsd.pid
	ioreq-vhost --holder $HOLD --grace 120 > /tmp/holder.log 2>&1 &
	echo $! > /tmp/holder.pid
	if ! until_line /tmp/holder.log 'holder: at' 30; then
		echo "the holder did not start:"
		cat /tmp/holder.log
		exit 1
	fi
	frontend /tmp/vhost.log
	if ! until_line /tmp/vhost.log 'keeps the session' 60; then
		echo "ioreq-vhost did not start:"
		cat /tmp/vhost.log /tmp/qsd.log
		exit 1
	fi
	tail -f "$GUEST_LOG" 2>/dev/null |
		sed 's/^/IOREQ-LIVE| guest: /' > /dev/console 2>&1 &
	(
		until_line "$GUEST_LOG" IOREQ-VIRTIO-RESTART-NOW 3000 || exit 1
		sleep 2
		kill -9 "$(cat /tmp/vhost.pid)" &&
			echo "ioreq-vhost killed at $(cut -d' ' -f1 /proc/uptime)"
		sleep 1
		frontend /tmp/vhost2.log
		echo "ioreq-vhost started again at $(cut -d' ' -f1 /proc/uptime)"
	) > /tmp/restart.log 2>&1 &
	sed 's/^/vhost: /' /tmp/vhost.log
	;;
stop)
	rc=0
	stop_daemon /tmp/vhost.pid USR1
	stop_daemon /tmp/qsd.pid
	sleep 1
	for f in vhost vhost2 holder restart qsd; do
		sed "s/^/$f: /" /tmp/$f.log 2> /dev/null
	done
	if ! grep -q 'started again' /tmp/restart.log; then
		echo "the frontend was not restarted"
		rc=1
	fi
	if ! grep -q 'adopted the session' /tmp/vhost2.log 2>/dev/null ||
	   ! grep -q 'successor adopted' /tmp/holder.log; then
		echo "the successor did not adopt the session"
		rc=1
	fi
	# The guest's poweroff resets the device; a driver that had lost it
	# would have set it up again (DRIVER_OK) after the restart.
	if grep -q 'DRIVER_OK: ' /tmp/vhost2.log 2>/dev/null; then
		echo "the driver set the device up again after the restart"
		rc=1
	fi
	want=$(sed -n 's/^.*IOREQ-VDA-MD5 \([0-9a-f]*\).*/\1/p' "$GUEST_LOG" | tail -n 1)
	got=$(md5sum $IMG | cut -d' ' -f1)
	echo "image md5 $got, the guest's /dev/vda md5 ${want:-none}"
	[ -n "$want" ] && [ "$want" = "$got" ] || rc=1
	exit $rc
	;;
esac
