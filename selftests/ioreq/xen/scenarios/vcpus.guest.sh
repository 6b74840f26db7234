#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "vcpus": two threads pinned to vcpus 0 and 1 write and read
# back random values of every size for 10 s, concurrently, each checked.

exec ioreq-guest loop --vcpus "${GUEST_VCPUS:-2}" --seconds "${IOREQ_SECONDS:-10}" \
	--mmio "${IOREQ_MMIO:-0xe0000000}:${IOREQ_MMIO_LEN:-0x1000}" \
	--pio "${IOREQ_PIO:-0x5000}:${IOREQ_PIO_LEN:-0x100}"
