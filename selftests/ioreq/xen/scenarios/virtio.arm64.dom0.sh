#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "virtio" on Arm: the guest's xl configuration has a
# virtio-mmio disk (--guest-cfg virtio.arm64.cfg: backendtype=standalone,
# specification=virtio, target=/tmp/vblk.img), for which libxl puts a
# "virtio,mmio" node in the guest's device tree, 0x200 bytes at
# GUEST_VIRTIO_MMIO_BASE (IOREQ_MMIO, 0x02000000) with SPI 33, and waits
# for a standalone backend.  ioreq-vhost --mmio serves that window and
# Debian's unmodified arm64 qemu-storage-daemon the disk's queue; the
# guest's own virtio_mmio and virtio_blk drive it.
#
# "prepare" (HOOK_PREPARE=1, before xl create): the image, which libxl
# checks is a file, and a stand-in for the xenstore side of a standalone
# backend: xl create waits (10 s) for the backend's state to reach
# InitWait, and a removal for Closed, which it answers once ioreq-vhost
# and the daemon have exited (release_guest).  ioreq-vhost knows no
# xenstore (it is hypervisor-neutral), so this loop answers for it.
# "start": the daemon, then ioreq-vhost for the new domain.
# "stop": KTAP cases: xl waited for the backend and the guest's device
# tree had the node; the backends were gone before Closed was answered;
# the driver reached DRIVER_OK; the queue's call fd is an irqfd on the
# SPI; the image holds what the guest wrote (its checksum of the written
# range and of the whole disk, here from the file); no domain is left.

. /lib-dom0.sh
. /lib-ktap.sh

IMG=/tmp/vblk.img
SOCK=/tmp/vblk.sock
BASE=${IOREQ_MMIO:-0x02000000}
SPI=${VIRTIO_SPI:-33}
# An Arm domU's RAM: GUEST_RAM0_BASE onwards.
RAM="--ram 0x40000000:$(printf '0x%x' $((${GUEST_MEM_MB:-128} << 20)))"
XSB=/local/domain/0/backend/virtio_disk
ACCESS='mmio [a-z]+ [0-9]+ at '

# release_guest: what a backend does when libxl closes its device (state
# 5, Closing, written before libxl destroys the domain): ioreq-vhost and
# the daemon exit, and with them their mappings of the guest's memory.
# Xen 4.17 on Arm frees a dying domain's pages by walking its page list
# from the start again after every preemption, and a page dom0 still maps
# stays on that list: with the guest's 128 MiB mapped, one boot of four
# here spent 230 s in the destroying domctl, dom0's only vcpu inside it
# (soft lockups).  Answering Closed only once they are gone ends that.
release_guest()
{
	stop_daemon /tmp/vhost.pid USR1
	stop_daemon /tmp/qsd.pid
	echo "released the guest (ioreq-vhost and qemu-storage-daemon stopped)"
}

# xs_backend: answer libxl for every virtio_disk backend it creates.
xs_backend()
{
	local dom dev p st

	while :; do
		for dom in $(xenstore-list $XSB 2> /dev/null); do
			for dev in $(xenstore-list $XSB/"$dom" 2> /dev/null); do
				p=$XSB/$dom/$dev
				st=$(xenstore-read "$p/state" 2> /dev/null)
				case $st in
				1)	xenstore-write "$p/state" 2 &&
						echo "$p: InitWait ($(xenstore-read "$p/params"))" ;;
				5)	release_guest
					xenstore-write "$p/state" 6 &&
						echo "$p: Closed" ;;
				esac
			done
		done
		sleep 0.2
	done
}

case $1 in
prepare)
	need_provider
	for p in ioreq-vhost qemu-storage-daemon xenstore-list xenstore-read \
		 xenstore-write; do
		command -v $p > /dev/null || { echo "no $p in dom0"; exit 4; }
	done
	dd if=/dev/zero of=$IMG bs=1M count=32 2> /dev/null || exit 1
	xs_backend > /tmp/xs-backend.log 2>&1 &
	echo $! > /tmp/xs-backend.pid
	echo "image $IMG (32 MiB), xenstore stand-in $(cat /tmp/xs-backend.pid)"
	;;
start)
	sed 's/^/xenstore: /' /tmp/xs-backend.log
	qemu-storage-daemon \
		--blockdev driver=file,node-name=f0,filename=$IMG \
		--export type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$SOCK,writable=on \
		> /tmp/qsd.log 2>&1 &
	echo $! > /tmp/qsd.pid
	t=0
	until [ -S $SOCK ]; do
		if [ $t -ge 60 ]; then
			echo "qemu-storage-daemon does not listen at $SOCK:"
			cat /tmp/qsd.log
			exit 1
		fi
		sleep 0.5
		t=$((t + 1))
	done
	# shellcheck disable=SC2086
	ioreq-vhost --guest "$DOMID" --mmio "$BASE:$SPI" $RAM --socket $SOCK \
		--verbose > /tmp/vhost.log 2>&1 &
	echo $! > /tmp/vhost.pid
	if ! wait_file_line /tmp/vhost.log "virtio-blk at MMIO" 30 "$(cat /tmp/vhost.pid)"; then
		echo "ioreq-vhost did not start:"
		cat /tmp/vhost.log
		exit 1
	fi
	sed 's/^/vhost: /' /tmp/vhost.log
	for dev in $(xenstore-list $XSB/"$DOMID"); do
		xenstore-write $XSB/"$DOMID/$dev/state" 4
	done
	tail -f "$GUEST_LOG" 2>/dev/null |
		sed 's/^/IOREQ-LIVE| guest: /' > /dev/console 2>&1 &
	echo "qemu-storage-daemon $(cat /tmp/qsd.pid), ioreq-vhost $(cat /tmp/vhost.pid)"
	;;
stop)
	stop_daemon /tmp/vhost.pid USR1
	stop_daemon /tmp/qsd.pid
	grep -vE "$ACCESS" /tmp/vhost.log | sed 's/^/vhost: /'
	echo "vhost: ($(grep -cE "$ACCESS" /tmp/vhost.log) accesses logged)"
	sed 's/^/qsd: /' /tmp/qsd.log
	sed 's/^/xenstore: /' /tmp/xs-backend.log
	echo "TAP version 13"
	check "dom0: xl created the guest with a standalone virtio disk (backend state InitWait written)" \
		grep -q InitWait /tmp/xs-backend.log
	node=$(sed -n 's/^.*IOREQ-VIRTIO-DT \([0-9a-f]* [0-9a-z]*\).*/\1/p' "$GUEST_LOG" | tail -n 1)
	check "dom0: the guest's device tree has virtio,mmio at $BASE, SPI $SPI (guest: ${node:-nothing})" \
		same "$node" "$(printf '%x' $((BASE))) $SPI"
	check "dom0: ioreq-vhost and the daemon were gone before libxl's Closing was answered" \
		sh -c "grep -A1 '^released the guest' /tmp/xs-backend.log | grep -q ': Closed$'"
	check "dom0: ioreq-vhost saw the driver's DRIVER_OK" \
		grep -q 'DRIVER_OK: features' /tmp/vhost.log
	grep 'stats:' /tmp/vhost.log | tail -n 1 > /tmp/stats
	check "dom0: the queue's call fd is an irqfd on SPI $SPI ($(sed -n 's/.*\(irqfd binds [0-9]*\).*/\1/p' /tmp/stats))" \
		grep -q 'irqfd binds [1-9]' /tmp/stats
	# The range the guest wrote, read here from the image file.
	off=$(sed -n 's/^.*IOREQ-VDA-DATA \([0-9]*\) \([0-9]*\) \([0-9a-f]*\).*/\1/p' "$GUEST_LOG" | tail -n 1)
	cnt=$(sed -n 's/^.*IOREQ-VDA-DATA \([0-9]*\) \([0-9]*\) \([0-9a-f]*\).*/\2/p' "$GUEST_LOG" | tail -n 1)
	dsum=$(sed -n 's/^.*IOREQ-VDA-DATA \([0-9]*\) \([0-9]*\) \([0-9a-f]*\).*/\3/p' "$GUEST_LOG" | tail -n 1)
	got=
	[ -z "$off" ] || got=$(dd if=$IMG bs=65536 skip="$off" count="$cnt" 2> /dev/null | md5sum | cut -d' ' -f1)
	check "dom0: the image holds the guest's data (md5 ${got:-none}, the guest wrote ${dsum:-nothing})" \
		same "$dsum" "$got"
	want=$(sed -n 's/^.*IOREQ-VDA-MD5 \([0-9a-f]*\).*/\1/p' "$GUEST_LOG" | tail -n 1)
	got=$(md5sum $IMG | cut -d' ' -f1)
	check "dom0: the image's md5 $got is the guest's /dev/vda md5 ${want:-none}" \
		same "$want" "$got"
	irqs=$(sed -n 's/^.*IOREQ-VIRTIO-IRQS \([0-9]*\).*/\1/p' "$GUEST_LOG" | tail -n 1)
	echo "guest: ${irqs:-?} interrupts of the disk; $(sed -n 's/.*\(records [0-9]* ([0-9]* while running\).*/\1/p' /tmp/stats)) reached ioreq-vhost"
	kill "$(cat /tmp/xs-backend.pid)" 2>/dev/null
	check_only_dom0
	[ $fails = 0 ]
	;;
esac
