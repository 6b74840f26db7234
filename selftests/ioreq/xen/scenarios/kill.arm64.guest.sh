#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "kill" on Arm: both vcpus loop on the MMIO region; once the
# backend is killed every read must give all ones and the guest goes on
# (no abort, no hang).

exec ioreq-guest loop --vcpus "${GUEST_VCPUS:-2}" --seconds "${IOREQ_SECONDS:-20}" \
	--gone stay --expect-gone \
	--mmio "${IOREQ_MMIO:-0x02000000}:${IOREQ_MMIO_LEN:-0x1000}"
