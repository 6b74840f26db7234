#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "device": a page of ours checked and answered by the
# backend through guest memory, its MSI counted in /proc/interrupts ERR
# (see device.dom0.sh), and doorbell writes that never reach the device.

exec ioreq-guest mailbox --mmio "${IOREQ_MAILBOX:-0xe0010000}" --irq-row ERR \
	--doorbell "${IOREQ_DOORBELL:-0xe0000100}"
