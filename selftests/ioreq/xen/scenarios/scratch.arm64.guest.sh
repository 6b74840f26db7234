#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "scratch" on Arm: every access size (1, 2, 4, 8) to the
# scratch backend's MMIO region at IOREQ_MMIO (0x02000000, libxl's
# virtio-mmio window), values checked against
# tools/ioreq-backend/scratch_dev.h, then the guest-visible time of an
# MMIO read served by dom0.

ioreq-guest check --mmio "${IOREQ_MMIO:-0x02000000}:${IOREQ_MMIO_LEN:-0x100}" || exit $?
exec ioreq-guest time --rounds "${IOREQ_ROUNDS:-200}" \
	--mmio "${IOREQ_MMIO:-0x02000000}:${IOREQ_MMIO_LEN:-0x100}"
