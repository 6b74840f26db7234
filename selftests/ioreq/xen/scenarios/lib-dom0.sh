# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# Helpers for dom0 hooks (scenarios/NAME.dom0.sh), sourced as
# ". /lib-dom0.sh".  A hook runs as "hook start DOMID" with the guest
# created paused, and as "hook stop DOMID" after it is gone; its output is
# the report's diagnostics, exit 0 passes, 4 skips (and skips the guest's
# run), anything else fails.  It sees DOMID, GUEST_LOG (the guest's console
# log, growing) and every --env setting (IOREQ_MMIO, IOREQ_PIO, ...).
# Processes it leaves running must write to their own files, not stdout.

BACKEND=${BACKEND:-ioreq-backend}
# ioreq-backend's provider: the guest is a Xen domain (ioreq_vmm may be
# loaded too, and an attach names its provider).
export IOREQ_PROVIDER=xen
MMIO_REGION=${IOREQ_MMIO:-0xe0000000}:${IOREQ_MMIO_LEN:-0x1000}
# No port I/O where IOREQ_PIO is set empty (Arm).
PIO_REGION=
[ -z "${IOREQ_PIO-0x5000}" ] ||
	PIO_REGION=${IOREQ_PIO:-0x5000}:${IOREQ_PIO_LEN:-0x100}

# need_provider: skip (exit 4) unless /dev/ioreq and the backend are here.
need_provider()
{
	if [ ! -c /dev/ioreq ]; then
		echo "no /dev/ioreq: load the ioreq modules with --module"
		exit 4
	fi
	if ! command -v "$BACKEND" > /dev/null; then
		echo "no $BACKEND: add it with --add tools/build/ioreq-backend"
		exit 4
	fi
}

# start_backend TAG [ARGS...]: ioreq-backend for the guest's regions,
# logging to /tmp/backend-TAG.log; waits until it serves (10 s at most).
start_backend()
{
	local tag=$1 n=0

	shift
	"$BACKEND" --guest "$DOMID" --mmio "$MMIO_REGION" \
		${PIO_REGION:+--pio "$PIO_REGION"} \
		--wait 10 "$@" > "/tmp/backend-$tag.log" 2>&1 &
	echo $! > "/tmp/backend-$tag.pid"
	while ! grep -q '^backend: serving' "/tmp/backend-$tag.log"; do
		if ! kill -0 "$(cat "/tmp/backend-$tag.pid")" 2>/dev/null || [ $n -ge 20 ]; then
			echo "backend $tag did not start:"
			cat "/tmp/backend-$tag.log"
			return 1
		fi
		sleep 0.5
		n=$((n + 1))
	done
	echo "backend $tag serving (pid $(cat "/tmp/backend-$tag.pid"))"
}

# stop_daemon PIDFILE [USR1]: stop the process PIDFILE names, if it runs:
# with USR1, SIGUSR1 first and a second for it (ioreq-vhost prints its
# counters), then SIGTERM and up to 10 s for it to exit, SIGKILL after.
# Returns once it is gone, so that the guest memory it mapped is free.
stop_daemon()
{
	local pid n=0

	pid=$(cat "$1" 2>/dev/null)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	if [ "${2:-}" = USR1 ]; then
		kill -USR1 "$pid"
		sleep 1
	fi
	kill "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 20 ]; do
		sleep 0.5
		n=$((n + 1))
	done
	kill -0 "$pid" 2>/dev/null || return 0
	echo "$1: pid $pid did not exit on SIGTERM: SIGKILL"
	kill -KILL "$pid"
	return 1
}

# stop_backend TAG: stop it (stop_daemon), show its log.
stop_backend()
{
	local tag=$1 rc=0

	[ -r "/tmp/backend-$tag.pid" ] || return 0
	stop_daemon "/tmp/backend-$tag.pid" || rc=1
	rm -f "/tmp/backend-$tag.pid"
	sed "s/^/backend $tag: /" "/tmp/backend-$tag.log"
	return $rc
}

# wait_guest_line PATTERN [SECS]: until the guest's console shows PATTERN.
wait_guest_line()
{
	local n=0 max=$((${2:-120} * 2))

	until grep -q "$1" "$GUEST_LOG" 2>/dev/null; do
		[ $n -lt $max ] || return 1
		sleep 0.5
		n=$((n + 1))
	done
}

# wait_file_line FILE PATTERN SECS PID: until FILE has PATTERN, while PID lives.
wait_file_line()
{
	local n=0

	until grep -q "$2" "$1" 2>/dev/null; do
		if ! kill -0 "$4" 2>/dev/null || [ $n -ge $(($3 * 2)) ]; then
			return 1
		fi
		sleep 0.5
		n=$((n + 1))
	done
}

# check_only_dom0: a KTAP case (lib-ktap.sh's check) that no domain but
# Domain-0 is left, 10 s after the guest went; a foreign mapping left
# behind would keep the dead guest a zombie.
check_only_dom0()
{
	local t=0

	while xl list 2>/dev/null | grep -v '^Name' | grep -qv '^Domain-0 '; do
		[ $t -lt 20 ] || break
		sleep 0.5
		t=$((t + 1))
	done
	xl list > /tmp/xl.list 2>&1
	sed 's/^/xl list: /' /tmp/xl.list
	check "dom0: no domain but Domain-0 left (xl list)" \
		sh -c "! grep -v '^Name' /tmp/xl.list | grep -qv '^Domain-0 '"
}
