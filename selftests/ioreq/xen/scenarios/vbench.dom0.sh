#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "vbench" (an HVM guest, make bench's virtio rows;
# scripts/bench.sh builds what it needs): three disks of identical
# images, each a different path to the guest's block layer:
#   ours   ioreq-vhost presenting qemu-storage-daemon's vhost-user-blk
#          export as the virtio-pci function 00:05.0 (as "virtio" does);
#   qemu   qemu-xen's own virtio-blk-pci at 00:08.0 (device_model_args
#          in the guest's xl config, its image /vbench/qdisk.img);
#   blk    xen-blkfront/blkback, xvdf (an xl disk on a loop device,
#          /vbench/xbd.img, through /vbench/block).
# The guest reads fio and its libraries from a fourth, read-only disk
# (xvde, /vbench/tools.img).
#
# The guest brackets each timed turn with "IOREQ-VBENCH-BEGIN turn=R
# disk=D" and "IOREQ-VBENCH-END turn=R disk=D ios=N" on its console and
# waits 2 s after each; at each this hook samples dom0's busy time
# (/proc/stat), the user+system time of ioreq-vhost, qemu-storage-daemon,
# the device model and disk xvdf's blkback thread (/proc/PID/stat), and
# the records ioreq-vhost handled (its SIGUSR1 stats), and at stop prints
# one "vbench-dom0: turn=R disk=D ..." line per turn, times in clock
# ticks (USER_HZ).

. /lib-dom0.sh
. /lib-ktap.sh

IMG=/tmp/vblk.img
SOCK=/tmp/vblk.sock
MEM=$((${GUEST_MEM_MB:-256} << 20))
RAM="--ram 0:0xa0000 --ram 0xc0000:$(printf '0x%x' $((MEM - 0xc0000)))"
SIZE_MB=${VBENCH_SIZE_MB:-16}

# ticks PID...: utime + stime of these processes (0 for none).
ticks()
{
	local p s=0 t

	for p in "$@"; do
		t=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2> /dev/null)
		s=$((s + ${t:-0}))
	done
	echo $s
}

# busy: dom0's CPU ticks not idle (all CPUs, /proc/stat).
busy()
{
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# blkback_pids: the threads serving disk xvdf.
blkback_pids()
{
	local p

	for p in /proc/[0-9]*; do
		case $(cat "$p/comm" 2> /dev/null) in
		blkback.*xvdf*) echo "${p#/proc/}" ;;
		esac
	done
}

# records: the records ioreq-vhost has handled (asks it for its stats).
records()
{
	kill -USR1 "$VHOST" 2> /dev/null
	sleep 0.3
	sed -n 's/.*stats: records \([0-9]*\).*/\1/p' /tmp/vhost.log | tail -n 1
}

# sample: one line of counters, in the order sampler() subtracts them.
sample()
{
	# shellcheck disable=SC2046
	echo "$(busy) $(ticks "$VHOST") $(ticks "$QSD") $(ticks "$DM") $(ticks $(blkback_pids)) $(records)"
}

# sampler: follows the guest's console; a line per turn to /tmp/vbench.log.
sampler()
{
	local line b e turn disk ios

	tail -n +1 -f "$GUEST_LOG" 2> /dev/null | while IFS= read -r line; do
		case $line in
		*IOREQ-VBENCH-BEGIN*)
			b=$(sample) ;;
		*IOREQ-VBENCH-END*)
			e=$(sample)
			turn=$(echo "$line" | sed -n 's/.*turn=\([0-9]*\).*/\1/p')
			disk=$(echo "$line" | sed -n 's/.*disk=\([a-z]*\).*/\1/p')
			ios=$(echo "$line" | sed -n 's/.*ios=\([0-9]*\).*/\1/p')
			echo "$b $e" | awk -v t="$turn" -v d="$disk" -v n="$ios" '{
				printf "vbench-dom0: turn=%s disk=%s ios=%s dom0_ticks=%d vhost_ticks=%d qsd_ticks=%d dm_ticks=%d blkback_ticks=%d records=%d\n",
					t, d, n, $7 - $1, $8 - $2, $9 - $3, $10 - $4, $11 - $5, $12 - $6 }' \
				>> /tmp/vbench.log ;;
		esac
	done
}

case $1 in
start)
	need_provider
	for p in ioreq-vhost qemu-storage-daemon xenstore-read; do
		command -v $p > /dev/null || { echo "no $p in dom0"; exit 4; }
	done
	dd if=/dev/zero of=$IMG bs=1M count="$SIZE_MB" 2> /dev/null || exit 1
	qemu-storage-daemon \
		--blockdev driver=file,node-name=f0,filename=$IMG \
		--export type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path=$SOCK,writable=on \
		> /tmp/qsd.log 2>&1 &
	echo $! > /tmp/qsd.pid
	t=0
	until [ -S $SOCK ]; do
		[ $t -lt 60 ] || { cat /tmp/qsd.log; exit 1; }
		sleep 0.5
		t=$((t + 1))
	done
	# shellcheck disable=SC2086
	ioreq-vhost --guest "$DOMID" $RAM --socket $SOCK \
		--sbdf "${IOREQ_PCI:-00:05.0}" > /tmp/vhost.log 2>&1 &
	echo $! > /tmp/vhost.pid
	t=0
	until grep -q 'virtio-blk at PCI' /tmp/vhost.log; do
		[ $t -lt 60 ] && kill -0 "$(cat /tmp/vhost.pid)" 2> /dev/null ||
			{ cat /tmp/vhost.log; exit 1; }
		sleep 0.5
		t=$((t + 1))
	done
	cat /tmp/vhost.log
	VHOST=$(cat /tmp/vhost.pid)
	QSD=$(cat /tmp/qsd.pid)
	DM=$(xenstore-read "/local/domain/$DOMID/image/device-model-pid" 2> /dev/null)
	echo "qemu-storage-daemon $QSD, ioreq-vhost $VHOST, device model ${DM:-none}"
	echo "VHOST=$VHOST QSD=$QSD DM=$DM" > /tmp/vbench.pids
	export VHOST QSD DM
	: > /tmp/vbench.log
	sampler > /dev/null 2>&1 &
	;;
stop)
	stop_daemon /tmp/vhost.pid USR1
	stop_daemon /tmp/qsd.pid
	sed 's/^/vhost: /' /tmp/vhost.log | grep -v 'IOREQ-LIVE'
	sed 's/^/qsd: /' /tmp/qsd.log
	cat /tmp/vbench.log
	echo "TAP version 13"
	turns=$(grep -c 'IOREQ-VBENCH-END' "$GUEST_LOG")
	got=$(grep -c '^vbench-dom0:' /tmp/vbench.log)
	check "dom0: counters sampled for each of the guest's $turns turns ($got)" \
		sh -c "[ $turns -gt 0 ] && [ $turns = $got ]"
	check "dom0: the device model's pid ($(cat /tmp/vbench.pids))" \
		grep -q 'DM=[0-9]' /tmp/vbench.pids
	[ $fails = 0 ]
	;;
esac
