#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "virtio-restart" (an HVM guest): the guest's own
# virtio_blk drives the disk ioreq-vhost serves from dom0.  It says
# "IOREQ-VIRTIO-RESTART-NOW" and runs 128 synchronous 64 KiB writes while
# dom0 kills ioreq-vhost with SIGKILL and starts it again.  KTAP cases:
# the device is found with MSI-X; every write completes; they read back
# whole; the kernel logged no error and no reset of the device; the
# longest write (what the restart cost the guest) is printed.  The raw
# disk's checksum goes to dom0 ("IOREQ-VDA-MD5 SUM").

n=0
fails=0
check()
{
	local what=$1

	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n $what"
	else
		fails=$((fails + 1))
		echo "not ok $n $what"
	fi
}

# centiseconds since boot
cs()
{
	cut -d' ' -f1 /proc/uptime | tr -d .
}

echo "TAP version 13"
echo "1..5"
t=0
while [ ! -b /dev/vda ] && [ $t -lt 120 ]; do
	sleep 1
	t=$((t + 1))
done
check "virtio_blk made /dev/vda ($t s)" test -b /dev/vda
check "the disk's interrupts are MSI-X" sh -c 'grep -i virtio /proc/interrupts | grep -qi msi'
before=$(dmesg | grep -ciE 'virtio|vda')
dd if=/dev/urandom of=/tmp/big bs=65536 count=128 2> /dev/null
bsum=$(md5sum < /tmp/big | cut -d' ' -f1)
echo "IOREQ-VIRTIO-RESTART-NOW"
t0=$(cs)
i=0
worst=0
while [ $i -lt 128 ]; do
	a=$(cs)
	dd if=/tmp/big of=/dev/vda bs=65536 skip=$i seek=$i count=1 \
		conv=fsync,notrunc 2> /dev/null || break
	d=$(($(cs) - a))
	[ $d -le $worst ] || worst=$d
	i=$((i + 1))
done
t1=$(cs)
echo "# the longest write took $((worst / 100)).$(printf '%02d' $((worst % 100))) s (all: $(((t1 - t0) / 100)) s)"
check "128 synchronous writes across the frontend's restart ($i done)" test $i = 128
echo 3 > /proc/sys/vm/drop_caches
rsum=$(dd if=/dev/vda bs=65536 count=128 2> /dev/null | md5sum | cut -d' ' -f1)
check "they read back whole (md5 $rsum, wrote $bsum)" test "$rsum" = "$bsum"
new=$(dmesg | grep -iE 'virtio|vda' | tail -n +$((before + 1)))
echo "$new" | sed 's/^/# new: /'
check "no new virtio or vda kernel message (no error, no reset)" test -z "$new"
sync
vda=$(md5sum < /dev/vda | cut -d' ' -f1)
echo "IOREQ-VDA-MD5 $vda"
[ $fails = 0 ]
