#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "vcpus" on Arm: every vcpu (2) hammers the scratch backend's
# MMIO region at once, each checking its own values, for IOREQ_SECONDS.

exec ioreq-guest loop --vcpus "${GUEST_VCPUS:-2}" --seconds "${IOREQ_SECONDS:-10}" \
	--mmio "${IOREQ_MMIO:-0x02000000}:${IOREQ_MMIO_LEN:-0x100}"
