#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# xen-soak.sh: boot one Xen lane scenario N times back to back
# (selftests/ioreq/xen/xen-vm.sh, as make check boots it) and tally how
# each boot ended, to tell the emulator's faults from ours.
#
# usage: scripts/xen-soak.sh [-n BOOTS] [-s SCENARIO] [-q QEMU] [-c CPU]
#                            [-t TAG] [-o OUTCSV] [-- XEN-VM ARGS...]
#   -n BOOTS     boots (default 20)
#   -s SCENARIO  a scenario of selftests/ioreq/xen/scenarios (default
#                scratch); "native" serves the guest with
#                tools/xen-native (libxendevicemodel) and loads none of
#                our modules, "nativeioreq" runs the same guest loop
#                against ioreq-backend through /dev/ioreq
#   -q QEMU      the outer QEMU binary or wrapper (default: system
#                qemu-system-x86_64); scripts/qemu-10.sh runs the
#                bookworm-backports build unpacked by scripts/deps.sh
#                IOREQ_QEMU10=1.  Repeatable: the boots then take turns
#                on each QEMU (N boots each), so that all see the same
#                host load
#   -c CPU       the outer -cpu (default: xen-vm.sh's)
#   -t TAG       label of this series in the table (default SCENARIO),
#                with "-qemuVERSION" appended
#   -o FILE      table to append to (default .build/xen-soak/results.tsv)
#   -- ARGS      more xen-vm.sh arguments (--dom0 pvh, --xen-append ...)
#
# One line per boot goes to the table: tag, scenario, QEMU version, cpu,
# boot number, outcome, seconds, the host's 1-minute load average before
# and after, the guest console's lag (xen-vm.sh) and where the logs
# are.  Outcomes:
#   pass       every case passed
#   triple     Xen reported a triple fault of a domain's vcpu
#   stall      xen-vm.sh's stall watch killed a machine that stopped
#   guest-hang the guest reached userspace and never powered off
#              (dom0's "guest still running after Ns: xl destroy")
#   no-end     dom0 never reported the end of its /init (or the machine
#              timed out) without one of the above
#   fail       anything else (a test failed: ours until shown otherwise)
# Each failed boot's output directory is kept as OUT.bootN.  The last
# lines printed are the tally.
set -euo pipefail

IOREQ_STAGE=xen-soak
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

boots=20
scenario=scratch
qemus=()
cpu=
tag=
table=$IOREQ_BUILD/xen-soak/results.tsv
while getopts n:s:q:c:t:o:h opt; do
	case $opt in
	n)	boots=$OPTARG ;;
	s)	scenario=$OPTARG ;;
	q)	qemus+=("$OPTARG") ;;
	c)	cpu=$OPTARG ;;
	t)	tag=$OPTARG ;;
	o)	table=$OPTARG ;;
	*)	sed -n '/^# usage:/,/^# Each failed/p' "$0" | sed 's/^# \{0,1\}//' >&2
		exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $boots in ''|*[!0-9]*) die "-n wants a number" ;; esac

load_env
[ ${#qemus[@]} -gt 0 ] || qemus=("${QEMU:-qemu-system-x86_64}")
declare -A qver=()
for q in "${qemus[@]}"; do
	qver[$q]=$("$q" --version | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
	[ -n "${qver[$q]}" ] || die "$q --version says no version"
done
tag=${tag:-$scenario}
cpu_shown=${cpu:-default}
[ -z "$cpu" ] || export VM_CPU=$cpu

# XEN_SOAK_NOBUILD=1: boot what an earlier run built.
if [ -z "${XEN_SOAK_NOBUILD:-}" ] || [ ! -d "$IOREQ_BUILD/tools" ]; then
	build_modules_and_tools 61
	# ioreq_xen_dom0_test, which the device scenario runs in dom0.
	make -j"$NPROC" -C "$IOREQ_ROOT/selftests/ioreq" OUTPUT="$IOREQ_BUILD/selftests" \
		KSFT_DIR="$LINUX_SRC/tools/testing/selftests" \
		> "$IOREQ_BUILD/selftests.log" 2>&1 ||
		die "selftests build failed, log: $IOREQ_BUILD/selftests.log"
fi
kb=$IOREQ_BUILD/kbuild/$(kvar KVER 61)
tools_out=$IOREQ_BUILD/tools

args=(--kernel "$(kvar KIMG 61)" --kroot "$(kvar KROOT 61)"
      --add "$tools_out/ioreq-backend")
mods=(--module "$kb/drivers/ioreq/ioreq.ko"
      --module "$kb/drivers/ioreq/xen/ioreq_xen.ko")
args+=(--scenario "$scenario")
case $scenario in
native)
	# ioreq-xen-native serves the guest; none of our modules is loaded.
	[ -x "$tools_out/ioreq-xen-native" ] ||
		die "no $tools_out/ioreq-xen-native (apt-get install libxen-dev)"
	mods=()
	args+=(--add "$tools_out/ioreq-xen-native") ;;
*)	[ ! -x "$IOREQ_BUILD/selftests/ioreq_xen_dom0_test" ] ||
		args+=(--add "$IOREQ_BUILD/selftests/ioreq_xen_dom0_test") ;;
esac
[ -z "${IOREQ_SOAK_ROUNDS:-}" ] || args+=(--env "IOREQ_SOAK_ROUNDS=$IOREQ_SOAK_ROUNDS")

mkdir -p "$(dirname "$table")"
[ -s "$table" ] ||
	printf 'tag\tscenario\tqemu\tcpu\tboot\toutcome\tsecs\tload_before\tload_after\tlag\tlogs\n' > "$table"
declare -A tally=()
for i in $(seq "$boots"); do
for q in "${qemus[@]}"; do
	t_tag=$tag-qemu${qver[$q]}
	out=$IOREQ_BUILD/xen-soak/$t_tag
	export QEMU=$q
	load0=$(cut -d' ' -f1 /proc/loadavg)
	t=$(now)
	log "$t_tag: boot $i/$boots (load $load0)"
	"$IOREQ_ROOT/selftests/ioreq/xen/xen-vm.sh" "${args[@]}" "${mods[@]}" "$@" \
		--out "$out" --name "soak-$t_tag" > "$out.log" 2>&1 || true
	secs=$(( $(now) - t ))
	load1=$(cut -d' ' -f1 /proc/loadavg)
	lag=$(sed -n 's/^GUEST_LAG=//p' "$out/result" 2>/dev/null)
	if grep -qs '^FAILED=0' "$out/result"; then
		outcome=pass
	elif grep -qs 'Triple fault' "$out/console.log"; then
		outcome=triple
	elif [ -s "$out/stalled" ]; then
		outcome=stall
	elif grep -qs 'guest still running after' "$out/ktap.log"; then
		outcome=guest-hang
	elif ! grep -qs '^IOREQ-XEN-END' "$out/ktap.log"; then
		outcome=no-end
	else
		outcome=fail
	fi
	logs=-
	if [ "$outcome" != pass ]; then
		logs=$out.boot$i
		rm -rf "$logs"
		cp -a "$out" "$logs"
		cp "$out.log" "$logs/xen-vm.log"
		# The dumped state of a faulting vcpu, for the record.
		grep -h -A6 'Triple fault' "$out/console.log" 2>/dev/null |
			sed 's/^/    /' | head -n 14 || true
	fi
	tally[$t_tag:$outcome]=$(( ${tally[$t_tag:$outcome]:-0} + 1 ))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t_tag" "$scenario" \
		"${qver[$q]}" "$cpu_shown" "$i" "$outcome" "$secs" "$load0" "$load1" \
		"${lag:--}" "$logs" >> "$table"
	log "$t_tag: boot $i: $outcome in ${secs}s (load $load0 -> $load1)"
done
done
for q in "${qemus[@]}"; do
	t_tag=$tag-qemu${qver[$q]}
	line="$t_tag: $boots boots:"
	for k in pass triple stall guest-hang no-end fail; do
		line="$line $k ${tally[$t_tag:$k]:-0}"
	done
	log "$line"
done
