#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "device": the rest of what a device backend needs, on Xen.
# One ioreq-backend serves the scratch regions and the mailbox
# (tools/ioreq-backend/scratch_dev.h): the guest's page through a foreign
# mapping and through copies, the mailbox's MSI through IOREQ_INJECT_IRQ
# and through an irqfd, and a doorbell in the scratch MMIO region through
# an ioeventfd.  The MSI is vector 0xfe to APIC ID 0 (fixed, edge): a
# Linux guest takes it as an APIC error interrupt, which does nothing but
# count in /proc/interrupts "ERR", so the guest can see each one arrive.
# Before that, with the guest still paused, selftests/ioreq's
# ioreq_xen_dom0_test checks what each call answers to bad arguments.
#
# On Arm (xen-vm.sh --arch arm64) the interrupt is SPI 40, which Xen on
# Arm raises with XEN_DMOP_set_irq_level, and the guest counts it in the
# /proc/interrupts row of the PL031 RTC that device.arm64.dts gives it on
# that SPI, whose registers are one more scratch region here.

. /lib-dom0.sh

case $(uname -m) in
aarch64)
	MAILBOX=${IOREQ_MAILBOX:-0x02020000}
	DOORBELL=${IOREQ_DOORBELL:-0x02000080}
	DEVICE_ARGS="--mmio 0x02010000:0x1000 --irq 40"
	# A line is asserted and deasserted: two injections.
	INJECTIONS="2 interrupt injections" ;;
*)	MAILBOX=${IOREQ_MAILBOX:-0xe0010000}
	DOORBELL=${IOREQ_DOORBELL:-0xe0000100}
	DEVICE_ARGS="--msi 0xfee00000:0xfe"
	INJECTIONS="1 interrupt injection" ;;
esac

case $1 in
start)	need_provider
	# The calls' errors and a copy round trip, while the guest is paused.
	if command -v ioreq_xen_dom0_test > /dev/null; then
		IOREQ_XEN_DOMID=$DOMID ioreq_xen_dom0_test 2>&1 || {
			echo "ioreq_xen_dom0_test failed"; exit 1; }
	else
		echo "no ioreq_xen_dom0_test: add it with --add (the errno checks are left out)"
	fi
	# shellcheck disable=SC2086 # DEVICE_ARGS: several words
	start_backend main --mailbox "$MAILBOX" $DEVICE_ARGS \
		--doorbell "$DOORBELL" ;;
stop)	rc=0
	stop_backend main || rc=1
	log=/tmp/backend-main.log
	# mmap and copy of the page, both checked; the same two beyond the
	# guest's memory, both refused.
	grep -q "mailbox: 4 commands (2 not ok), $INJECTIONS, 1 irqfd signal" "$log" || {
		echo "the backend did not see the mailbox commands and interrupts the guest sent"; rc=1; }
	grep -q 'doorbell: 8 writes signalled through the ioeventfd, 0 reached read()' "$log" || {
		echo "the doorbell writes did not all go through the ioeventfd"; rc=1; }
	exit $rc ;;
esac
