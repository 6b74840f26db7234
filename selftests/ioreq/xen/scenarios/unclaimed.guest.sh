#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the "unclaimed" scenario, which needs no IOREQ server: with
# nothing claiming them, MMIO at $IOREQ_MMIO (a hole in the PVH guest's
# memory map), the port $IOREQ_PIO and PCI function $IOREQ_PCI's config space
# read as all ones at every size, and
# writes to them are dropped.  Also proves the harness itself: a PVH guest
# boots, runs its scenario and reports to dom0.

exec ioreq-guest ones --mmio "${IOREQ_MMIO:-0xe0000000}" --pio "${IOREQ_PIO:-0x5000}" \
	--pci "${IOREQ_PCI:-00:05.0}"
