#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "scratch": every access size to a fresh scratch-register
# backend's MMIO (1, 2, 4, 8), port (1, 2, 4) and PCI config space (1, 2, 4,
# through 0xcf8/0xcfc, which Xen turns into PCI_CONFIG ioreqs) regions, checked against
# tools/ioreq-backend/scratch_dev.h.  Needs the Xen provider.

exec ioreq-guest check --mmio "${IOREQ_MMIO:-0xe0000000}:${IOREQ_MMIO_LEN:-0x1000}" \
	--pio "${IOREQ_PIO:-0x5000}:${IOREQ_PIO_LEN:-0x100}" --pci "${IOREQ_PCI:-00:05.0}"
