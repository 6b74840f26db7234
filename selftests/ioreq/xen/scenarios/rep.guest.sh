#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "rep": rep movsb between guest RAM and MMIO both ways
# (and downwards), rep stosl to MMIO, rep outsb and rep insb on a port,
# against a fresh scratch-register backend; then rep stosb x16, stosl x4
# and stosq x2, upwards and with DF=1, on each backend of rep.dom0.sh
# (one answering writes with garbage, one taking posted writes, one with
# an ioeventfd on an element), every element checked; then rep insb from
# a stopped backend that dom0 lets go on, and from one it kills.

exec ioreq-guest rep --mmio "${IOREQ_MMIO:-0xe0000000}:${IOREQ_MMIO_LEN:-0x1000}" \
	--pio "${IOREQ_PIO:-0x5000}:${IOREQ_PIO_LEN:-0x100}" \
	--mmio 0xe0001000:0x1000 --mmio 0xe0002000:0x1000 \
	--mmio 0xe0003000:0x1000 --doorbell 0xe0003148 \
	--pio 0x5100:0x10 --pio 0x5110:0x10
