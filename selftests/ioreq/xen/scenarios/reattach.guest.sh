#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "reattach": the backend is killed (detach) and a new one
# attached while the vcpus keep accessing: all ones in between, then a
# fresh device that is checked again.

exec ioreq-guest loop --vcpus "${GUEST_VCPUS:-2}" --seconds "${IOREQ_SECONDS:-25}" \
	--expect-back \
	--mmio "${IOREQ_MMIO:-0xe0000000}:${IOREQ_MMIO_LEN:-0x1000}" \
	--pio "${IOREQ_PIO:-0x5000}:${IOREQ_PIO_LEN:-0x100}"
