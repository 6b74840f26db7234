#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "virtio" (an HVM guest): Debian's qemu-storage-daemon
# exports a file as a vhost-user-blk device, and ioreq-vhost presents it
# to the guest as the virtio-pci function IOREQ_PCI (default 00:05.0),
# which hvmloader gives its BAR and the guest's own virtio_pci and
# virtio_blk drive; SeaBIOS drives it first.  With VIRTIO_FS=1 (default),
# Debian's virtiofsd shares /tmp/share through a second ioreq-vhost
# (--type fs, tag "ioreqfs") at IOREQ_FS_PCI (default 00:06.0).
#
# At stop this hook prints its own KTAP cases (counted in the summary):
# the image's checksum is the one the guest printed for its /dev/vda;
# SeaBIOS found the disk (its "found virtio-blk" on Xen's console, xl
# dmesg) and the frontend saw a start, a reset and a second start; an
# irqfd was bound; no guest access reached a frontend between the
# guest's two marker reads (config byte 0xff) that bracket its I/O, the
# steady state; the file the guest wrote into the share is whole; and no
# domain but Domain-0 is left.
#
# With VIRTIO_KILL=1 (--env), the daemon is killed with SIGKILL 2 s
# after the guest says "IOREQ-VIRTIO-KILL-NOW" and a new one started
# 2 s later: ioreq-vhost must reconnect and the guest's writes complete.
#
# On a PVH guest (GUEST_TYPE=pvh, check.sh's "virtio-pvh"; the guest booted
# with pci=noacpi,conf1) there is no device model, no firmware and no PCI
# host bridge: Xen forwards the guest's port 0xcf8 accesses to whichever
# IOREQ server claims them, and nobody does unless asked.  Here an
# ioreq-backend claims ports 0xcf8-0xcfb, a register file that reads back
# what was written (the address latch of configuration mechanism 1, what
# Linux's probe checks); Xen itself routes the 0xcfc-0xcff data accesses
# by that latch to the PCI function ioreq-vhost claims.  Linux assigns the
# BAR and programs MSI-X natively (no pirqs on PVH): the frontend's irqfd
# reaches the guest's local APIC through XEN_DMOP_inject_msi.  The checks
# that need SeaBIOS become: the latch was claimed, and the frontend saw
# exactly one DRIVER_OK (Linux's) and no reset.

. /lib-dom0.sh
. /lib-ktap.sh

IMG=/tmp/vblk.img
SOCK=/tmp/vblk.sock
VFSD=/usr/lib/qemu/virtiofsd
SHARE=/tmp/share
VSOCK=/tmp/vfs.sock
FS=${VIRTIO_FS:-1}
PVH=0
[ "${GUEST_TYPE:-hvm}" != pvh ] || PVH=1
if [ $PVH = 1 ]; then
	# A PVH guest's RAM as its e820 map (libxl's) shows it: all of it
	# but the legacy hole 0xa0000-0xfffff.
	MEM=$((${GUEST_MEM_MB:-128} << 20))
	RAM="--ram 0:0xa0000 --ram 0x100000:$(printf '0x%x' $((MEM - 0x100000)))"
else
	# The HVM guest's RAM as Xen populates it: all of it but the VGA hole.
	MEM=$((${GUEST_MEM_MB:-256} << 20))
	RAM="--ram 0:0xa0000 --ram 0xc0000:$(printf '0x%x' $((MEM - 0xc0000)))"
fi
# A guest access logged by ioreq-vhost --verbose.
ACCESS='(config|BAR0) [a-z]+ [0-9]+ at '

# wait_socket PATH LOG: until the daemon logging to LOG listens at PATH.
wait_socket()
{
	local n=0

	until [ -S "$1" ]; do
		if [ $n -ge 60 ]; then
			echo "no daemon listening at $1:"
			cat "$2"
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

# start_vhost TAG WHAT [ARGS...]: ioreq-vhost logging to /tmp/vhost-TAG.log,
# until it says it serves WHAT.
start_vhost()
{
	local tag=$1 what=$2

	shift 2
	# shellcheck disable=SC2086
	ioreq-vhost --guest "$DOMID" $RAM --verbose "$@" \
		> "/tmp/vhost-$tag.log" 2>&1 &
	echo $! > "/tmp/vhost-$tag.pid"
	if ! wait_file_line "/tmp/vhost-$tag.log" "$what at PCI" 30 $!; then
		echo "ioreq-vhost ($tag) did not start:"
		cat "/tmp/vhost-$tag.log"
		return 1
	fi
	# A live copy on dom0's console (kept out of the report and of its
	# splat scan by the IOREQ prefix): an HVM boot takes minutes here,
	# and one cut short by the time limit still shows how far it got.
	tail -f "/tmp/vhost-$tag.log" 2>/dev/null |
		sed -E -e "/$ACCESS/d" -e "s/^/IOREQ-LIVE| $tag: /" > /dev/console 2>&1 &
	sed "s/^/vhost $tag: /" "/tmp/vhost-$tag.log"
}

# stop_vhost TAG: counters, then SIGTERM, and wait for it to exit.
stop_vhost()
{
	stop_daemon "/tmp/vhost-$1.pid" USR1
}

# show_vhost TAG: its log without the accesses (those only counted).
show_vhost()
{
	grep -vE "$ACCESS" "/tmp/vhost-$1.log" | sed "s/^/vhost $1: /"
	echo "vhost $1: ($(grep -cE "$ACCESS" "/tmp/vhost-$1.log") accesses logged)"
}

# steady TAG SBDF: the guest accesses ioreq-vhost TAG handled between the
# guest's two reads of config byte 0xff at SBDF (its markers), or "none"
# if the log does not hold both.
steady()
{
	grep -E "$ACCESS" "/tmp/vhost-$1.log" | awk '
		/config read 1 at 0xff:/ { m++; next }
		m == 1 { n++ }
		END { print (m >= 2 ? n + 0 : "none") }'
}

# start_cf8: on a PVH guest, ioreq-backend as the address latch at port
# 0xcf8 (4 bytes, reads return the last write), logging to /tmp/cf8.log.
start_cf8()
{
	local n=0

	ioreq-backend --guest "$DOMID" --pio 0xcf8:4 --wait 10 \
		> /tmp/cf8.log 2>&1 &
	echo $! > /tmp/cf8.pid
	until grep -q '^backend: serving' /tmp/cf8.log; do
		if ! kill -0 "$(cat /tmp/cf8.pid)" 2>/dev/null || [ $n -ge 20 ]; then
			echo "the 0xcf8 latch did not start:"
			cat /tmp/cf8.log
			return 1
		fi
		sleep 0.5
		n=$((n + 1))
	done
}

# linux_only: in the blk frontend's log, one DRIVER_OK (no firmware drove
# the disk before Linux) and at most the reset of the guest's poweroff.
linux_only()
{
	grep -E 'DRIVER_OK: features|driver stopped:' /tmp/vhost-blk.log |
		awk '/DRIVER_OK: features/ { s = s "S" } /driver stopped:/ { s = s "R" }
		     END { exit !(s ~ /^SR?$/) }'
}

# seabios_then_linux: in the blk frontend's log, a DRIVER_OK, a reset of
# that running driver, then a second DRIVER_OK.
seabios_then_linux()
{
	grep -E 'DRIVER_OK: features|driver stopped:' /tmp/vhost-blk.log |
		awk '/DRIVER_OK: features/ { s = s "S" } /driver stopped:/ { s = s "R" }
		     END { exit !(s ~ /^SRS/) }'
}

case $1 in
start)
	need_provider
	for p in ioreq-vhost qemu-storage-daemon; do
		command -v $p > /dev/null || { echo "no $p in dom0"; exit 4; }
	done
	if [ "$FS" = 1 ] && [ ! -x $VFSD ]; then
		echo "no $VFSD in dom0 (--add it, or --env VIRTIO_FS=0)"
		exit 4
	fi
	dd if=/dev/zero of=$IMG bs=1M count=32 2> /dev/null || exit 1
	# CF8=0 (--env) leaves the latch out, to see a PVH guest without it.
	if [ $PVH = 1 ] && [ "${CF8:-1}" = 1 ]; then
		start_cf8 || exit 1
		echo "ioreq-backend $(cat /tmp/cf8.pid) answers ports 0xcf8-0xcfb"
	fi
	start_qsd
	wait_socket $SOCK /tmp/qsd.log || exit 1
	start_vhost blk virtio-blk --socket $SOCK --sbdf "${IOREQ_PCI:-00:05.0}" || exit 1
	if [ "$FS" = 1 ]; then
		# A file for the guest to read, and its checksum beside it.
		mkdir -p $SHARE
		dd if=/dev/urandom of=$SHARE/from-dom0 bs=4096 count=16 2> /dev/null
		md5sum < $SHARE/from-dom0 | cut -d' ' -f1 > $SHARE/from-dom0.md5
		$VFSD --socket-path=$VSOCK -o source=$SHARE -o cache=none \
			-o sandbox=chroot > /tmp/vfsd.log 2>&1 &
		echo $! > /tmp/vfsd.pid
		wait_socket $VSOCK /tmp/vfsd.log || exit 1
		start_vhost fs virtio-fs --socket $VSOCK --type fs \
			--tag ioreqfs --sbdf "${IOREQ_FS_PCI:-00:06.0}" || exit 1
	fi
	tail -f "$GUEST_LOG" 2>/dev/null |
		sed 's/^/IOREQ-LIVE| guest: /' > /dev/console 2>&1 &
	if [ "${VIRTIO_KILL:-0}" = 1 ]; then
		(
			wait_file_line "$GUEST_LOG" IOREQ-VIRTIO-KILL-NOW 3000 \
				"$(cat /tmp/vhost-blk.pid)" || exit 1
			sleep 2
			kill -9 "$(cat /tmp/qsd.pid)" && echo "qemu-storage-daemon killed"
			sleep 2
			rm -f $SOCK
			start_qsd
			echo "qemu-storage-daemon started again"
		) > /tmp/kill.log 2>&1 &
	fi
	echo "qemu-storage-daemon $(cat /tmp/qsd.pid), ioreq-vhost $(cat /tmp/vhost-blk.pid)"
	[ "$FS" != 1 ] ||
		echo "virtiofsd $(cat /tmp/vfsd.pid), ioreq-vhost $(cat /tmp/vhost-fs.pid)"
	;;
stop)
	stop_vhost blk
	[ "$FS" != 1 ] || stop_vhost fs
	[ $PVH = 0 ] || kill "$(cat /tmp/cf8.pid)" 2>/dev/null
	sleep 1
	kill "$(cat /tmp/qsd.pid)" 2>/dev/null
	[ "$FS" != 1 ] || kill "$(cat /tmp/vfsd.pid)" 2>/dev/null
	sleep 1
	show_vhost blk
	sed 's/^/qsd: /' /tmp/qsd.log
	if [ "$FS" = 1 ]; then
		show_vhost fs
		sed 's/^/virtiofsd: /' /tmp/vfsd.log
	fi
	xl dmesg > /tmp/xl-dmesg.log 2>&1
	grep -E '\(d[0-9]+\)' /tmp/xl-dmesg.log | grep -iE 'virtio|boot|SeaBIOS \(' |
		sed 's/^/xl dmesg: /'
	echo "TAP version 13"
	want=$(sed -n 's/^.*IOREQ-VDA-MD5 \([0-9a-f]*\).*/\1/p' "$GUEST_LOG" | tail -n 1)
	got=$(md5sum $IMG | cut -d' ' -f1)
	check "dom0: the image's md5 $got is the guest's /dev/vda md5 ${want:-none}" \
		same "$want" "$got"
	grep -E 'DRIVER_OK: features|driver stopped:|stopped at avail' /tmp/vhost-blk.log |
		sed 's/^ioreq-vhost: /blk /'
	if [ $PVH = 1 ]; then
		sed 's/^/cf8: /' /tmp/cf8.log
		check "dom0: the guest read the 0xcf8 latch back ($(grep -o '[0-9]* reads, [0-9]* writes' /tmp/cf8.log))" \
			grep -qE 'served [0-9]+ records \([1-9][0-9]* reads' /tmp/cf8.log
		check "dom0: the disk's frontend saw one DRIVER_OK (Linux), no firmware's" \
			linux_only
	else
		check "dom0: SeaBIOS found the disk (xl dmesg: found virtio-blk at ${IOREQ_PCI:-00:05.0})" \
			grep -q "found virtio-blk at ${IOREQ_PCI:-00:05.0}" /tmp/xl-dmesg.log
		check "dom0: the disk's frontend saw DRIVER_OK (SeaBIOS), a reset, DRIVER_OK (Linux)" \
			seabios_then_linux
	fi
	# ioreq-vhost counts the guest accesses that reached it while the
	# driver was running: each one would be a data-path hop.
	grep 'stats:' /tmp/vhost-blk.log | tail -n 1 > /tmp/stats
	check "dom0: an irqfd carried the disk's MSI-X vector ($(sed -n 's/.*\(irqfd binds [0-9]*\).*/\1/p' /tmp/stats))" \
		grep -q 'irqfd binds [1-9]' /tmp/stats
	ios=$(sed -n 's/^.*IOREQ-VIRTIO-BLK-IOS \([0-9]*\).*/\1/p' "$GUEST_LOG" | tail -n 1)
	s=$(steady blk)
	check "dom0: the disk's frontend handled $s records in the guest's ${ios:-?} disk I/Os" \
		test "$s" = 0
	if [ "$FS" = 1 ]; then
		fsum=$(sed -n 's/^.*IOREQ-VIRTIOFS-MD5 \([0-9a-f]*\).*/\1/p' "$GUEST_LOG" | tail -n 1)
		gsum=$(md5sum < $SHARE/from-guest 2> /dev/null | cut -d' ' -f1)
		check "dom0: the guest's file in the share has its md5 ${fsum:-none}" \
			same "$fsum" "$gsum"
		s=$(steady fs)
		check "dom0: the share's frontend handled $s records while the guest used it" \
			test "$s" = 0
	fi
	if [ "${VIRTIO_KILL:-0}" = 1 ]; then
		sed 's/^/kill: /' /tmp/kill.log
		check "dom0: qemu-storage-daemon killed -9 and started again" \
			grep -q 'started again' /tmp/kill.log
		check "dom0: ioreq-vhost reconnected ($(grep -o 'reconnects [0-9]*' /tmp/stats))" \
			grep -q 'reconnects [1-9]' /tmp/stats
	fi
	check_only_dom0
	[ $fails = 0 ]
	;;
esac
