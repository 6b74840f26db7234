#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Inner guest side of the KVM lane's virtio-fs scenario: the guest's own
# virtio_pci and virtiofs (Debian's modules) mount the directory that
# virtiofsd shares, in the KVM test guest, through ioreq-vhost at 00:05.0
# (tag "share").  KTAP cases: the mount, a file the host wrote read with
# the checksum the host wrote beside it, a file written here (its md5
# printed as "IOREQ-FS-MD5 SUM" for the host to compare), a directory
# listing and the unmount.

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
echo "1..6"
mkdir -p /mnt
t=0
until mount -t virtiofs share /mnt 2> /tmp/mount.err || [ $t -ge 60 ]; do
	sleep 1
	t=$((t + 1))
done
sed 's/^/# /' /tmp/mount.err
check "mount -t virtiofs share /mnt (waited $t s)" grep -q ' /mnt virtiofs ' /proc/mounts
modes=$(cat /sys/bus/pci/devices/0000:00:05.0/msi_irqs/* 2> /dev/null | sort | uniq -c | tr -s ' \n' '  ')
check "the device's interrupts are MSI-X (msi_irqs:$modes)" \
	sh -c 'grep -q msix /sys/bus/pci/devices/0000:00:05.0/msi_irqs/*'
want=$(cat /mnt/host.md5 2> /dev/null)
got=$(md5sum < /mnt/host.bin 2> /dev/null | cut -d' ' -f1)
check "read the host's file: md5 $got, the host wrote ${want:-none}" \
	test -n "$want" -a "$want" = "$got"
dd if=/dev/urandom of=/tmp/guest.bin bs=4096 count=256 2> /dev/null
sum=$(md5sum < /tmp/guest.bin | cut -d' ' -f1)
check "write a 1 MiB file for the host (md5 $sum)" \
	sh -c 'cp /tmp/guest.bin /mnt/guest.bin && sync'
echo "IOREQ-FS-MD5 $sum"
# shellcheck disable=SC2012
ls -l /mnt | sed 's/^/# /'
check "the listing shows both files" \
	sh -c 'ls /mnt | grep -q host.bin && ls /mnt | grep -q guest.bin'
check "umount /mnt" umount /mnt
[ $fails = 0 ]
