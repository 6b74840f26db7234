#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Inner guest side of the KVM lane's virtio-blk scenario: the guest's own
# virtio_pci and virtio_blk (Debian's modules) drive the disk that
# ioreq-vhost presents at 00:05.0 and qemu-storage-daemon serves, in the
# KVM test guest.  KTAP cases: /dev/vda appears, its interrupts are
# MSI-X, an ext2 file system is made, a file written and read back after
# a remount with the same checksum.  With VIRTIO_KILL=1, 128 synchronous
# 64 KiB writes run while the host side kills qemu-storage-daemon (or,
# in the "restart" scenario, ioreq-vhost) with SIGKILL and starts it
# again ("IOREQ-VIRTIO-KILL-NOW" tells it when); they must all complete
# and read back whole, and the kernel must log no new virtio or vda
# message (no error, no reset); the longest write (what the restart cost
# the guest) is printed.  VIRTIO_NOFS=1 leaves out the file system
# cases (mke2fs, write, read back).  Last, the raw disk's
# checksum ("IOREQ-VDA-MD5 SUM") for the host side to compare with the
# image file.

n=0
fails=0
# check DESCRIPTION CMD...: one KTAP case, passed if CMD succeeds
check()
{
	d=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n $d"
	else
		echo "not ok $n $d"
		fails=$((fails + 1))
	fi
}

echo "TAP version 13"
plan=6
[ "${VIRTIO_KILL:-0}" != 1 ] || plan=$((plan + 3))
[ "${VIRTIO_NOFS:-0}" != 1 ] || plan=$((plan - 3))
echo "1..$plan"
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	echo "# $(basename "$d") $(cat "$d/vendor"):$(cat "$d/device") driver $(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)"
done
t=0
while [ ! -b /dev/vda ] && [ $t -lt 60 ]; do
	sleep 1
	t=$((t + 1))
done
check "virtio_blk made /dev/vda (waited $t s)" test -b /dev/vda
dmesg | grep -iE 'virtio|vda|pci 0000:00:05' | tail -n 12 | sed 's/^/# /'
grep -iE 'virtio|CPU0' /proc/interrupts | sed 's/^/# /'
modes=$(cat /sys/bus/pci/devices/0000:00:05.0/msi_irqs/* 2> /dev/null | sort | uniq -c | tr -s ' \n' '  ')
check "the disk's interrupts are MSI-X (msi_irqs:$modes)" \
	sh -c 'grep -q msix /sys/bus/pci/devices/0000:00:05.0/msi_irqs/*'
if [ "${VIRTIO_NOFS:-0}" != 1 ]; then
	check "mke2fs /dev/vda" sh -c 'mke2fs -q /dev/vda > /dev/null'
	mkdir -p /mnt
	dd if=/dev/urandom of=/tmp/data bs=4096 count=512 2> /dev/null
	sum=$(md5sum < /tmp/data | cut -d' ' -f1)
	check "write 2 MiB into a file on it" \
		sh -c 'mount -t ext4 /dev/vda /mnt && cp /tmp/data /mnt/data && sync && umount /mnt'
	check "read it back after a remount, md5 $sum" \
		sh -c "mount -t ext4 /dev/vda /mnt && [ \"\$(md5sum < /mnt/data | cut -d' ' -f1)\" = $sum ] && umount /mnt"
fi
if [ "${VIRTIO_KILL:-0}" = 1 ]; then
	dd if=/dev/urandom of=/tmp/big bs=65536 count=128 2> /dev/null
	bsum=$(md5sum < /tmp/big | cut -d' ' -f1)
	before=$(dmesg | grep -ciE 'virtio|vda')
	echo "IOREQ-VIRTIO-KILL-NOW"
	t0=$(cut -d' ' -f1 /proc/uptime)
	i=0
	worst=0
	while [ $i -lt 128 ]; do
		a=$(cut -d' ' -f1 /proc/uptime | tr -d .)
		dd if=/tmp/big of=/dev/vda bs=65536 skip=$i seek=$((256 + i)) \
			count=1 conv=fsync,notrunc 2> /dev/null || break
		d=$(($(cut -d' ' -f1 /proc/uptime | tr -d .) - a))
		[ $d -le $worst ] || worst=$d
		i=$((i + 1))
	done
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "IOREQ-LONGEST-WRITE $((worst / 100)).$(printf '%02d' $((worst % 100))) s"
	check "128 synchronous writes across the kill ($i done, $t0 s to $t1 s)" \
		test $i = 128
	echo 3 > /proc/sys/vm/drop_caches
	rsum=$(dd if=/dev/vda bs=65536 skip=256 count=128 2> /dev/null | md5sum | cut -d' ' -f1)
	check "they read back whole (md5 $rsum, wrote $bsum)" test "$rsum" = "$bsum"
	new=$(dmesg | grep -iE 'virtio|vda' | tail -n +$((before + 1)))
	[ -z "$new" ] || echo "$new" | sed 's/^/# new: /'
	check "no new virtio or vda kernel message (no error, no reset)" test -z "$new"
fi
sync
echo 3 > /proc/sys/vm/drop_caches
vda=$(md5sum < /dev/vda | cut -d' ' -f1)
echo "IOREQ-VDA-MD5 $vda"
irqs=$(grep -E 'virtio[0-9]+-req' /proc/interrupts |
	awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }')
check "the queue's MSI-X vector fired ($irqs interrupts)" test "$irqs" -gt 0
dmesg | grep -iE 'error|warn|fail' | tail -n 10 | sed 's/^/# /'
[ $fails = 0 ]
