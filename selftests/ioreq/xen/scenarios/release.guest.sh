#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "release": both vcpus keep accessing while the backend
# releases the regions under them; every access before must match, every
# read after must be all ones, and no vcpu may stay blocked.

exec ioreq-guest loop --vcpus "${GUEST_VCPUS:-2}" --seconds "${IOREQ_SECONDS:-20}" \
	--gone stay --expect-gone \
	--mmio "${IOREQ_MMIO:-0xe0000000}:${IOREQ_MMIO_LEN:-0x1000}" \
	--pio "${IOREQ_PIO:-0x5000}:${IOREQ_PIO_LEN:-0x100}"
