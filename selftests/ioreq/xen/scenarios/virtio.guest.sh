#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "virtio" (an HVM guest): the guest's own virtio_pci and
# virtio_blk (loaded by /init, --guest-kmod) drive the disk ioreq-vhost
# serves from dom0.  KTAP cases: the device is found, its interrupts are
# MSI-X, an ext2 file system is made, written, read back after a
# remount with the same checksum, and the raw disk's checksum is printed
# for dom0 to compare with the image file ("IOREQ-VDA-MD5 SUM").
# With VIRTIO_FS=1 (default; --guest-kmod virtiofs) the share dom0's
# virtiofsd exports is mounted (tag "ioreqfs"): dom0's file reads back
# with the checksum dom0 wrote beside it, and a file written here is
# printed as "IOREQ-VIRTIOFS-MD5 SUM" for dom0 to check.
# The I/O is bracketed by two reads of config byte 0xff of each device,
# which dom0 finds in ioreq-vhost's log: nothing else may reach the
# frontends between them.  The disk's I/O count over that time is printed
# as "IOREQ-VIRTIO-BLK-IOS N".
# With VIRTIO_KILL=1 (--env), a loop of 128 synchronous 64 KiB writes to
# the disk's second half runs while dom0 kills qemu-storage-daemon with
# SIGKILL and starts a new one ("IOREQ-VIRTIO-KILL-NOW" tells it when);
# the loop must complete and read back with the checksum it wrote.

BLK=0000:${IOREQ_PCI:-00:05.0}
FSDEV=0000:${IOREQ_FS_PCI:-00:06.0}
FS=${VIRTIO_FS:-1}

. /lib-ktap.sh

# marker: one read of config byte 0xff of each device, for dom0.
marker()
{
	local d

	for d in $BLK $FSDEV; do
		[ "$d" != "$FSDEV" ] || [ "$FS" = 1 ] || continue
		dd if="/sys/bus/pci/devices/$d/config" of=/dev/null bs=1 skip=255 \
			count=1 2> /dev/null
	done
}

# blk_ios: reads plus writes /dev/vda completed.
blk_ios()
{
	awk '{ print $1 + $5 }' /sys/block/vda/stat
}

# vec_irqs PATTERN: interrupts counted on the /proc/interrupts lines
# matching PATTERN, all cpus.
vec_irqs()
{
	grep -E "$1" /proc/interrupts |
		awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }'
}

echo "TAP version 13"
plan=7
[ "${VIRTIO_KILL:-0}" != 1 ] || plan=$((plan + 2))
[ "$FS" != 1 ] || plan=$((plan + 4))
echo "1..$plan"
# The RAM the guest was given (dom0's --ram ranges must cover it).
dmesg | grep -iE 'e820|BIOS-provided' | head -n 20 | sed 's/^/# /'
grep 'System RAM' /proc/iomem | sed 's/^/# iomem /'
for d in /sys/bus/pci/devices/*; do
	echo "# $(basename "$d") $(cat "$d/vendor"):$(cat "$d/device") driver $(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)"
done
t=0
while [ ! -b /dev/vda ] && [ $t -lt 120 ]; do
	sleep 1
	t=$((t + 1))
done
check "virtio_blk made /dev/vda ($t s)" test -b /dev/vda
# The disk's virtio device (virtioN), for its interrupt lines.
# No disk, no pattern that any other interrupt line could match.
vdev=none
[ ! -e /sys/block/vda/device ] ||
	vdev=$(basename "$(readlink -f /sys/block/vda/device)")
dmesg | grep -iE 'virtio|vda|pci 0000:00:0[56]|msi' | tail -n 30 | sed 's/^/# /'
grep -i virtio /proc/interrupts | sed 's/^/# /'
# virtio_pci has no plain MSI: an MSI line of a virtio device is MSI-X.
check "the disk's interrupts are MSI-X" sh -c "grep '$vdev-' /proc/interrupts | grep -qi msi"
marker
ios0=$(blk_ios)
check "mke2fs /dev/vda" mke2fs -q /dev/vda
# ext4 mounts ext2 whatever CONFIG_EXT4_USE_FOR_EXT2 says.
export FS_TYPE=ext4
mkdir -p /mnt
dd if=/dev/urandom of=/tmp/data bs=4096 count=512 2> /dev/null
sum=$(md5sum < /tmp/data | cut -d' ' -f1)
check "write 2 MiB into a file on it" sh -c 'mount -t $FS_TYPE /dev/vda /mnt && cp /tmp/data /mnt/data && sync && umount /mnt'
check "read back after a remount, same md5 $sum" sh -c "mount -t \$FS_TYPE /dev/vda /mnt && [ \"\$(md5sum < /mnt/data | cut -d' ' -f1)\" = $sum ] && umount /mnt"
if [ "${VIRTIO_KILL:-0}" = 1 ]; then
	dd if=/dev/urandom of=/tmp/big bs=65536 count=128 2> /dev/null
	bsum=$(md5sum < /tmp/big | cut -d' ' -f1)
	echo "IOREQ-VIRTIO-KILL-NOW"
	t0=$(cut -d. -f1 /proc/uptime)
	i=0
	while [ $i -lt 128 ]; do
		dd if=/tmp/big of=/dev/vda bs=65536 skip=$i seek=$((256 + i)) \
			count=1 conv=fsync,notrunc 2> /dev/null || break
		i=$((i + 1))
	done
	t1=$(cut -d. -f1 /proc/uptime)
	check "128 synchronous writes across the daemon's death ($i done in $((t1 - t0)) s)" test $i = 128
	echo 3 > /proc/sys/vm/drop_caches
	rsum=$(dd if=/dev/vda bs=65536 skip=256 count=128 2> /dev/null | md5sum | cut -d' ' -f1)
	check "they read back whole (md5 $rsum, wrote $bsum)" test "$rsum" = "$bsum"
fi
sync
echo 3 > /proc/sys/vm/drop_caches
vda=$(md5sum < /dev/vda | cut -d' ' -f1)
echo "IOREQ-VDA-MD5 $vda"
check "the raw disk reads whole (md5 $vda)" test -n "$vda"
if [ "$FS" = 1 ]; then
	fdev=$(basename "$(ls -d "/sys/bus/pci/devices/$FSDEV"/virtio* 2>/dev/null | head -n 1)")
	mkdir -p /share
	check "mount -t virtiofs ioreqfs /share (${fdev:-no virtio device at $FSDEV})" \
		mount -t virtiofs ioreqfs /share
	ls -l /share | sed 's/^/# /'
	dsum=$(md5sum < /share/from-dom0 2> /dev/null | cut -d' ' -f1)
	check "dom0's file reads whole (md5 ${dsum:-none}, dom0 wrote $(cat /share/from-dom0.md5 2> /dev/null))" \
		same "$dsum" "$(cat /share/from-dom0.md5 2> /dev/null)"
	dd if=/dev/urandom of=/tmp/fsdata bs=4096 count=16 2> /dev/null
	fsum=$(md5sum < /tmp/fsdata | cut -d' ' -f1)
	cp /tmp/fsdata /share/from-guest && sync
	echo 3 > /proc/sys/vm/drop_caches
	rsum=$(md5sum < /share/from-guest 2> /dev/null | cut -d' ' -f1)
	echo "IOREQ-VIRTIOFS-MD5 $rsum"
	# In the share, not in the directory of a failed mount.
	check "a file written into the share reads back (md5 ${rsum:-none}, wrote $fsum)" \
		sh -c "grep -q ' /share virtiofs ' /proc/mounts && test '$rsum' = '$fsum'"
	umount /share
	fsirqs=$(vec_irqs "${fdev:-none}-")
	check "the share's MSI-X vectors fired ($fsirqs interrupts)" test "$fsirqs" -gt 0
fi
echo "IOREQ-VIRTIO-BLK-IOS $(($(blk_ios) - ios0))"
marker
grep -i virtio /proc/interrupts | sed 's/^/# /'
irqs=$(vec_irqs "$vdev-req")
check "the disk's queue MSI-X vector fired ($irqs interrupts)" test "$irqs" -gt 0
dmesg | grep -iE 'virtio|vda|ext4|EXT4|fuse|error' | tail -n 20 | sed 's/^/# /'
[ $fails = 0 ]
