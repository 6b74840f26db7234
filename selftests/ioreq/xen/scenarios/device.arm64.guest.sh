#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "device" on Arm: the mailbox's guest-memory cases, SPI 40
# raised by the backend's ioctl and by its irqfd, each counted once in the
# /proc/interrupts row of the PL031 that holds the SPI (device.arm64.dts),
# and the ioeventfd doorbell.

row=$(awk '/rtc-pl031/ { sub(":", "", $1); print $1; exit }' /proc/interrupts)
if [ -z "$row" ]; then
	echo "# no rtc-pl031 in /proc/interrupts: the guest has no handler on SPI 40"
	grep -i -e gic -e pl031 /proc/interrupts | sed "s/^/# /"
	exit 1
fi
grep rtc-pl031 /proc/interrupts | sed 's/^/# /'
exec ioreq-guest mailbox --mmio "${IOREQ_MAILBOX:-0x02020000}" --irq-row "$row" \
	--doorbell "${IOREQ_DOORBELL:-0x02000080}"
