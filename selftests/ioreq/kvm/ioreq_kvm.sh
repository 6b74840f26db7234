#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ioreq_kvm.sh: a real KVM guest's MMIO and port accesses served by the
# unchanged ioreq-backend.  Run inside a test guest where /dev/kvm (kvm-amd
# under QEMU TCG) and /dev/ioreq-vmm exist; kvm-vm.sh sets that up.
#
# Each scenario starts ioreq-backend exactly as for the simulator and the
# VMM tools/kvm-vmm/ioreq-kvm with its payload, and is one KTAP case.  The
# VMM prints one KTAP line per value the payload checked; they are shown
# nested under the case, and the case fails unless all of them passed and
# there were as many as expected:
#
#   1  every MMIO (1, 2, 4, 8 bytes) and port (1, 2, 4, string) access,
#      1 vcpu
#   2  the same on 2 vcpus at once, each in its own window of the regions
#   3  the backend killed while vcpu 0 waits on it (--hang): the vcpu goes
#      on, reads all ones, and the VMM saw IOREQ_VMM_STATUS_ABORTED
#   4  reads of an MMIO address and a port nobody claims give all ones
#   5  guest memory: the payload hands a buffer to the backend's mailbox,
#      which maps it (mmap of its /dev/ioreq session) and then copies it
#      (IOREQ_READ_GUEST/WRITE_GUEST), checks the pattern and writes an
#      answer the payload checks; the VMM lent its RAM memfd
#   6  an interrupt: the payload rings the mailbox's doorbell, the backend
#      asserts its line (IOREQ_INJECT_IRQ), the VMM reads the event from
#      its ioreq guest fd and raises it with KVM_IRQ_LINE, and the
#      payload's handler runs (IOAPIC pin -> local APIC -> IDT)
#   7  the fast path (tools/kvm-vmm/fastpath.c): an echo backend's
#      ioeventfds and irqfd (an IOAPIC pin) registered with KVM by the VMM;
#      phases of kicks and pings with the fast path and without, in turn:
#      with it no kick, ping or interrupt passes the VMM, without it every
#      one does; the per-kick and per-ping times and their ratio are shown
#   8  the same with the echo's interrupt an MSI (a GSI route of its own)
#
# Exit status: 0 if every case passed, 1 if not, 4 (skip) without /dev/kvm.
# Environment: IOREQ_KVM_PAYLOAD (default /lib/ioreq-kvm/payload.bin).

PAYLOAD=${IOREQ_KVM_PAYLOAD:-/lib/ioreq-kvm/payload.bin}
MMIO=0xe0000000
MMIO_LEN=0x1000
PIO=0x500
PIO_LEN=0x100
HANG=0xe0000800
MBOX=0xe0001000
IRQ_PIN=17
T=/tmp/ioreq-kvm

# Checks per vcpu, as payload.S makes them: the ID register (4, and one
# more on vcpu 0), 7 MMIO sizes and offsets read then written and read
# back, 5 port ones likewise, 2 of string I/O.
MMIO_CHECKS_V0=19
MMIO_CHECKS=18
PIO_CHECKS=12
# The mailbox: status and answered bytes, mapped then copied; the
# interrupt: the handler's count and the register after the acknowledgment.
MBOX_CHECKS=4
IRQ_CHECKS=2
# The fast path: phases of each kind, and kicks or pings per phase.
FP_CHECKS=6
FP_REPEATS=${IOREQ_KVM_FP_REPEATS:-5}
FP_N=${IOREQ_KVM_FP_N:-100}

num=0
failed=0

# result OK|FAIL DESCRIPTION
result()
{
	num=$((num + 1))
	if [ "$1" = OK ]; then
		echo "ok $num $2"
	else
		echo "not ok $num $2"
		failed=$((failed + 1))
	fi
}

# why MESSAGE: a diagnostic, and the case fails
why()
{
	echo "# $*"
	bad=1
}

# wait_limited SECS PID: wait for the background job PID, killing it after
# SECS; its exit status
wait_limited()
{
	(sleep "$1"; kill -KILL "$2") > /dev/null 2>&1 &
	wl_wpid=$!
	wait "$2"
	wl_rc=$?
	kill "$wl_wpid" 2> /dev/null
	wait "$wl_wpid" 2> /dev/null
	return $wl_rc
}

# run_limited SECS CMD...: CMD, killed after SECS
run_limited()
{
	rl_secs=$1
	shift
	"$@" &
	wait_limited "$rl_secs" $!
}

# start_backend ID ARGS...: ioreq-backend for guest ID in the background
start_backend()
{
	sb_id=$1
	shift
	ioreq-backend --provider vmm --guest "$sb_id" "$@" --wait 10 > "$T/backend.log" 2>&1 &
	bpid=$!
}

# stop_backend: the backend ends on its own when the guest is gone
stop_backend()
{
	if ! wait_limited 20 "$bpid"; then
		why "ioreq-backend did not exit cleanly after the guest was gone"
	fi
	sed 's/^/# /' "$T/backend.log"
}

# judge_vmm RC EXPECTED: the VMM's exit status and its checks
judge_vmm()
{
	sed 's/^/# /' "$T/vmm.log"
	checks=$(grep -c '^ok ' "$T/vmm.log")
	nok=$(grep -c '^not ok ' "$T/vmm.log")
	[ "$1" = 0 ] || why "ioreq-kvm exited with $1"
	[ "$nok" = 0 ] || why "$nok checks failed"
	[ "$checks" = "$2" ] || why "$checks checks passed, expected $2"
}

case_sizes()
{
	bad=0
	start_backend 61 --mmio "$MMIO:$MMIO_LEN" --pio "$PIO:$PIO_LEN"
	run_limited 120 ioreq-kvm --guest-id 61 --vcpus 1 --payload "$PAYLOAD" \
		--mmio "$MMIO" --pio "$PIO" > "$T/vmm.log" 2>&1
	rc=$?
	judge_vmm "$rc" $((MMIO_CHECKS_V0 + PIO_CHECKS))
	# KVM passes rep outsw/insw as exits with count > 1 (not always one
	# exit per element): the VMM must have split at least one.
	grep -q 'port exits ([1-9][0-9]* of them string I/O)' "$T/vmm.log" ||
		why "no string I/O exit (count > 1) reached the VMM"
	stop_backend
	[ "$bad" = 0 ] && r=OK || r=FAIL
	result "$r" "kvm: every MMIO and port access size, 1 vcpu ($checks checks)"
}

case_two_vcpus()
{
	bad=0
	start_backend 62 --mmio "$MMIO:$MMIO_LEN" --pio "$PIO:$PIO_LEN"
	run_limited 120 ioreq-kvm --guest-id 62 --vcpus 2 --payload "$PAYLOAD" \
		--mmio "$MMIO" --pio "$PIO" > "$T/vmm.log" 2>&1
	rc=$?
	judge_vmm "$rc" $((MMIO_CHECKS_V0 + MMIO_CHECKS + 2 * PIO_CHECKS))
	grep -q '^ok .* vcpu 1: ' "$T/vmm.log" || why "no check came from vcpu 1"
	stop_backend
	grep -q 'from 2 vcpus (0,1)' "$T/backend.log" ||
		why "the backend did not see both vcpus"
	[ "$bad" = 0 ] && r=OK || r=FAIL
	result "$r" "kvm: 2 vcpus at once ($checks checks)"
}

case_backend_killed()
{
	bad=0
	n=0
	start_backend 63 --mmio "$MMIO:$MMIO_LEN" --hang "$HANG"
	# A timeout well beyond the kill, so that only the kill ends the wait.
	ioreq-kvm --guest-id 63 --vcpus 1 --payload "$PAYLOAD" \
		--mmio "$MMIO" --hang "$HANG" --timeout-ms 30000 \
		> "$T/vmm.log" 2>&1 &
	vpid=$!
	# The VMM announces the read that will hang; give it time to block.
	while ! grep -q 'next: mmio backend killed' "$T/vmm.log" && [ $n -lt 600 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	sleep 1
	kill -KILL "$bpid"
	wait "$bpid" 2> /dev/null
	wait_limited 60 "$vpid"
	rc=$?
	judge_vmm "$rc" $((MMIO_CHECKS_V0 + 1))
	grep -q "mmio read 4 at $HANG: aborted" "$T/vmm.log" ||
		why "the hung read did not end with IOREQ_VMM_STATUS_ABORTED"
	sed 's/^/# /' "$T/backend.log"
	[ "$bad" = 0 ] && r=OK || r=FAIL
	result "$r" "kvm: backend killed mid-access, the vcpu reads all ones"
}

case_unclaimed()
{
	bad=0
	start_backend 64 --mmio "$MMIO:$MMIO_LEN" --pio "$PIO:$PIO_LEN"
	run_limited 120 ioreq-kvm --guest-id 64 --vcpus 1 --payload "$PAYLOAD" \
		--mmio "$MMIO" --unclaimed $((MMIO + MMIO_LEN)) \
		--unclaimed-pio $((PIO + PIO_LEN)) > "$T/vmm.log" 2>&1
	rc=$?
	# MMIO: 1, 2, 4, 8 bytes and after a write; ports: 1, 2, 4 and after.
	judge_vmm "$rc" $((MMIO_CHECKS_V0 + 5 + 4))
	stop_backend
	[ "$bad" = 0 ] && r=OK || r=FAIL
	result "$r" "kvm: unclaimed MMIO and port reads give all ones"
}

case_guest_memory()
{
	bad=0
	start_backend 65 --mmio "$MMIO:$MMIO_LEN" --mailbox "$MBOX"
	run_limited 120 ioreq-kvm --guest-id 65 --vcpus 1 --payload "$PAYLOAD" \
		--mmio "$MMIO" --mailbox "$MBOX" > "$T/vmm.log" 2>&1
	rc=$?
	judge_vmm "$rc" $((MMIO_CHECKS_V0 + MBOX_CHECKS))
	stop_backend
	grep -q 'mailbox: mmap .*: pattern checked, answer written' \
		"$T/backend.log" || why "the backend did not answer through mmap"
	grep -q 'mailbox: copy .*: pattern checked, answer written' \
		"$T/backend.log" || why "the backend did not answer by copying"
	[ "$bad" = 0 ] && r=OK || r=FAIL
	result "$r" "kvm: guest-memory round trip ($checks checks)"
}

case_interrupt()
{
	bad=0
	start_backend 66 --mailbox "$MBOX" --irq "$IRQ_PIN"
	run_limited 120 ioreq-kvm --guest-id 66 --vcpus 1 --payload "$PAYLOAD" \
		--mailbox "$MBOX" --irq "$IRQ_PIN" > "$T/vmm.log" 2>&1
	rc=$?
	judge_vmm "$rc" $((MBOX_CHECKS + IRQ_CHECKS))
	grep -q "^ok .* interrupts taken by the payload's handler: 0x1\$" \
		"$T/vmm.log" || why "the payload's handler did not run exactly once"
	grep -q "irq: line $IRQ_PIN -> KVM_IRQ_LINE gsi $IRQ_PIN level 1" \
		"$T/vmm.log" || why "the VMM did not raise the line"
	grep -q "irq: line $IRQ_PIN -> KVM_IRQ_LINE gsi $IRQ_PIN level 0" \
		"$T/vmm.log" || why "the VMM did not lower the line"
	grep -q 'interrupts from backends, 2 delivered, 0 not delivered, 0 lost' \
		"$T/vmm.log" || why "not exactly 2 line events delivered, none lost"
	stop_backend
	[ "$bad" = 0 ] && r=OK || r=FAIL
	result "$r" "kvm: interrupt observed by the payload ($checks checks)"
}

# case_fastpath NUM NAME ARGS...: the fast path bench as a test
case_fastpath()
{
	bad=0
	fp_id=$1
	fp_name=$2
	shift 2
	run_limited 300 ioreq-kvm --guest-id "$fp_id" --vcpus 1 \
		--payload "$PAYLOAD" --fastpath-bench "$FP_N" \
		--repeats "$FP_REPEATS" "$@" > "$T/vmm.log" 2>&1
	rc=$?
	judge_vmm "$rc" "$FP_CHECKS"
	grep -q '^# fastpath: ping (kick + interrupt): slow/fast' "$T/vmm.log" ||
		why "no timing line"
	[ "$bad" = 0 ] && r=OK || r=FAIL
	result "$r" "kvm: fast path, $fp_name ($checks checks)"
}

echo "TAP version 13"
echo "1..8"
if [ ! -c /dev/kvm ] || [ ! -c /dev/ioreq-vmm ]; then
	echo "ok 1 # SKIP no /dev/kvm or /dev/ioreq-vmm"
	exit 4
fi
if [ ! -f "$PAYLOAD" ]; then
	echo "# no payload $PAYLOAD"
	exit 1
fi
mkdir -p "$T"
echo "# $(grep -m1 'model name' /proc/cpuinfo)"
t0=$(date +%s)
case_sizes
case_two_vcpus
case_backend_killed
case_unclaimed
case_guest_memory
case_interrupt
case_fastpath 67 "kicks and an IOAPIC pin's irqfd"
case_fastpath 68 "kicks and an MSI irqfd" --fastpath-msi
echo "# $((8 - failed)) passed, $failed failed in $(( $(date +%s) - t0 ))s"
[ "$failed" = 0 ]
