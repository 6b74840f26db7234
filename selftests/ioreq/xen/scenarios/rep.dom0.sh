#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0 side of "rep": ioreq-backends serving the guest's string
# instructions (rep.guest.sh), which Xen sends as ioreqs with a count and,
# but for stos, a pointer to guest memory, and the Xen provider carries
# out element by element:
#   main      the scratch device on the default MMIO and port regions
#   garbage   MMIO 0xe0001000: answers every write with garbage data
#   posted    MMIO 0xe0002000: claimed with IOREQ_REGION_POSTED_WRITES
#   doorbell  MMIO 0xe0003000: an ioeventfd takes 4-byte writes to
#             0xe0003148, an element of the guest's rep stosl
#   stall     ports 0x5100: stops itself (SIGSTOP, --stop-at 3) on the
#             third byte of the guest's rep insb; dom0 then lowers the
#             hung-task timeout to 5 s, waits 12 s, checks its log, and
#             lets it go on (SIGCONT)
#   stallkill ports 0x5110: stops the same way, then dom0 kills it
# The guest checks every element; no kernel thread of dom0 may wait for
# the stopped backend (the console scan fails the run on "blocked for
# more than").

. /lib-dom0.sh

HUNG=/proc/sys/kernel/hung_task_timeout_secs

# start_at TAG MMIO PIO [ARGS...]: a backend on other regions than main's.
start_at()
{
	local tag=$1

	# shellcheck disable=SC2034 # read by start_backend (lib-dom0.sh)
	MMIO_REGION=$2 PIO_REGION=$3
	shift 3
	start_backend "$tag" "$@"
}

pid_of()
{
	cat "/tmp/backend-$1.pid"
}

# wait_stopped TAG SECS: until backend TAG stopped itself (state T).
wait_stopped()
{
	local n=0

	until [ "$(cut -d' ' -f3 "/proc/$(pid_of "$1")/stat" 2>/dev/null)" = T ]; do
		[ $n -lt $(($2 * 2)) ] || return 1
		sleep 0.5
		n=$((n + 1))
	done
}

case $1 in
start)	need_provider
	start_backend main || exit 1
	start_at garbage 0xe0001000:0x1000 0x5200:0x10 --garbage-writes || exit 1
	start_at posted 0xe0002000:0x1000 0x5210:0x10 --posted || exit 1
	start_at doorbell 0xe0003000:0x1000 0x5220:0x10 \
		--doorbell 0xe0003148 || exit 1
	start_at stall 0xe0004000:0x1000 0x5100:0x10 --stop-at 3 || exit 1
	start_at stallkill 0xe0005000:0x1000 0x5110:0x10 --stop-at 3 || exit 1
	(
		if ! wait_stopped stall 600; then
			echo "FAIL: backend stall never stopped: the guest's rep insb did not reach it"
			exit 1
		fi
		old=$(cat "$HUNG")
		echo 5 > "$HUNG"
		echo "backend stall stopped in the guest's rep insb; hung_task_timeout_secs 5, waiting 12 s"
		sleep 12
		echo "$old" > "$HUNG"
		if dmesg | grep 'blocked for more than'; then
			echo "FAIL: a dom0 task blocked while the backend was stopped"
		else
			echo "no hung task in dom0 while the backend was stopped"
		fi
		kill -CONT "$(pid_of stall)"
		if ! wait_stopped stallkill 300; then
			echo "FAIL: backend stallkill never stopped"
			exit 1
		fi
		kill -KILL "$(pid_of stallkill)"
		echo "backend stallkill killed in the guest's rep insb"
	) > /tmp/staller.log 2>&1 &
	;;
stop)	cat /tmp/staller.log
	rc=0
	# Stopped still if the guest never got to them.
	kill -CONT "$(pid_of stall)" "$(pid_of stallkill)" 2>/dev/null
	for tag in main garbage posted doorbell stall stallkill; do
		stop_backend "$tag" || rc=1
	done
	grep -q '^FAIL' /tmp/staller.log && rc=1
	exit $rc ;;
esac
