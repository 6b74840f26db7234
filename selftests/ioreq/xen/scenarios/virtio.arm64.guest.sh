#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "virtio" on Arm: libxl's device tree has a "virtio,mmio"
# node for the xl disk with specification=virtio; the guest's own
# virtio_mmio and virtio_blk (loaded by /init, --guest-kmod) drive it, and
# ioreq-vhost with Debian's qemu-storage-daemon serves it from dom0.
# KTAP cases: the node is there (its address and SPI are printed as
# "IOREQ-VIRTIO-DT BASE SPI" for dom0), virtio_blk made /dev/vda of the
# image's size, 2 MiB written with O_SYNC-like dd conv=fsync read back with
# the same checksum after the page cache is dropped (printed as
# "IOREQ-VDA-DATA SKIP COUNT MD5", 64 KiB blocks, for dom0 to check in the
# image), the raw disk's checksum ("IOREQ-VDA-MD5 SUM") and the disk's
# interrupts counted in /proc/interrupts ("IOREQ-VIRTIO-IRQS N").

. /lib-ktap.sh

BASE=$(printf '%x' $((${IOREQ_MMIO:-0x02000000})))
NODE=/proc/device-tree/virtio@$BASE
SKIP=64		# 4 MiB in
COUNT=32	# 2 MiB

# virtio_irqs: the interrupts counted for the virtio devices, all cpus.
virtio_irqs()
{
	grep -E 'virtio' /proc/interrupts |
		awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }'
}

echo "TAP version 13"
echo "1..6"
check "the device tree has $NODE, compatible virtio,mmio" \
	sh -c "[ \"\$(tr -d '\\000' < $NODE/compatible 2>/dev/null)\" = virtio,mmio ]"
# interrupts = <0 SPI-32 flags>, big-endian cells
cells=$(od -An -tx1 "$NODE/interrupts" 2>/dev/null | tr -d ' \n')
spi=
[ -z "$cells" ] || spi=$((0x$(printf '%s' "$cells" | cut -c9-16) + 32))
echo "# $NODE: reg $(od -An -tx1 "$NODE/reg" 2>/dev/null | tr -d '\n'), interrupts $cells"
echo "IOREQ-VIRTIO-DT $BASE ${spi:-none}"
t=0
while [ ! -b /dev/vda ] && [ $t -lt 60 ]; do
	sleep 1
	t=$((t + 1))
done
dmesg | grep -iE 'virtio|vda' | tail -n 20 | sed 's/^/# /'
check "virtio_blk made /dev/vda ($t s)" test -b /dev/vda
size=$(cat /sys/block/vda/size 2>/dev/null)
check "/dev/vda has the image's 32 MiB (${size:-?} sectors)" test "${size:-0}" = 65536
irq0=$(virtio_irqs)
dd if=/dev/urandom of=/tmp/data bs=65536 count=$COUNT 2> /dev/null
sum=$(md5sum < /tmp/data | cut -d' ' -f1)
check "write 2 MiB at 4 MiB (dd conv=fsync)" \
	dd if=/tmp/data of=/dev/vda bs=65536 seek=$SKIP count=$COUNT conv=fsync,notrunc
echo 3 > /proc/sys/vm/drop_caches
rsum=$(dd if=/dev/vda bs=65536 skip=$SKIP count=$COUNT 2> /dev/null | md5sum | cut -d' ' -f1)
echo "IOREQ-VDA-DATA $SKIP $COUNT $rsum"
check "read back after dropping the cache, same md5 $rsum (wrote $sum)" test "$rsum" = "$sum"
vda=$(md5sum < /dev/vda | cut -d' ' -f1)
echo "IOREQ-VDA-MD5 $vda"
irqs=$(($(virtio_irqs) - irq0))
echo "IOREQ-VIRTIO-IRQS $irqs"
grep -i virtio /proc/interrupts | sed 's/^/# /'
check "the disk's interrupt fired ($irqs times during the I/O)" test "$irqs" -gt 0
[ $fails = 0 ]
