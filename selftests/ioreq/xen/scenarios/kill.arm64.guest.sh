#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "kill" on Arm: both vcpus loop on the MMIO region; once
# dom0 SIGKILLs the backend every read must give all ones and the guest
# goes on.  Xen on Arm itself would abort an access to MMIO no IOREQ
# server maps (x86 reads all ones): the provider keeps a released range
# mapped on Arm so that the guest sees what it sees on x86.

exec ioreq-guest loop --vcpus "${GUEST_VCPUS:-2}" --seconds "${IOREQ_SECONDS:-20}" \
	--gone stay --expect-gone \
	--mmio "${IOREQ_MMIO:-0x02000000}:${IOREQ_MMIO_LEN:-0x100}"
