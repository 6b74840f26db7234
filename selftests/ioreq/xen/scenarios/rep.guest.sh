#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "rep": rep movsb between guest RAM and MMIO both ways
# (and downwards), rep stosl to MMIO, rep outsb and rep insb on a port,
# against a fresh scratch-register backend.

exec ioreq-guest rep --mmio "${IOREQ_MMIO:-0xe0000000}:${IOREQ_MMIO_LEN:-0x1000}" \
	--pio "${IOREQ_PIO:-0x5000}:${IOREQ_PIO_LEN:-0x100}"
