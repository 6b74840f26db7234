#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# xen-soak.sh: boot Xen lane scenarios N times each, back to back
# (selftests/ioreq/xen/xen-vm.sh, as make check boots them), and tally
# how each boot ended, to tell the emulator's faults from ours.
#
# usage: scripts/xen-soak.sh [-n BOOTS] [-s SCENARIO]... [-q QEMU]...
#                            [-a ACCEL]... [-c CPU] [-t TAG] [-o FILE]
#                            [-r] [-- XEN-VM ARGS...]
#   -n BOOTS     boots of each arm (default 20)
#   -s SCENARIO  a scenario of selftests/ioreq/xen/scenarios (default
#                scratch; repeatable, as -q); "native" serves the guest with
#                tools/xen-native (libxendevicemodel) and loads none of
#                our modules, "nativeioreq" runs the same guest loop
#                against ioreq-backend through /dev/ioreq
#   -q QEMU      the outer QEMU binary or wrapper (default: system
#                qemu-system-x86_64); scripts/qemu-10.sh runs the
#                bookworm-backports build unpacked by scripts/deps.sh
#                IOREQ_QEMU10=1.  Repeatable: the boots then take turns
#                on each arm (SCENARIO x QEMU x ACCEL), so that all see
#                the same host load
#   -c CPU       the outer -cpu (default: xen-vm.sh's)
#   -a ACCEL     the outer -accel (default tcg; tcg,thread=single runs
#                both vcpus in one host thread).  Repeatable, as -q
#   -t TAG       label of this series in the table, put before
#                SCENARIO-qemuVERSION[-ACCEL]
#   -o FILE      table to append to (default .build/xen-soak/results.tsv)
#   -r           boot nothing: print the table's tally per tag (boots,
#                outcomes, mean seconds and load, mean span of the
#                scenario in the guest's time over the passed boots) as
#                an RST table
#   -- ARGS      more xen-vm.sh arguments (--dom0 pvh, --xen-append ...)
#
# One line per boot goes to the table: tag, scenario, QEMU version, cpu,
# accel, boot number, outcome, seconds, the host's 1-minute load average
# before and after, the guest console's lag and the span of the
# scenario's lines in the guest's time (xen-vm.sh) and where the logs
# are.  Outcomes:
#   pass       every case passed
#   triple     Xen reported a triple fault of a domain's vcpu
#   stall      xen-vm.sh's stall watch killed a machine that stopped
#   guest-hang the guest reached userspace and never powered off
#              (dom0's "guest still running after Ns: xl destroy")
#   no-end     dom0 never reported the end of its /init (or the machine
#              timed out) without one of the above
#   guest-died the guest's domain ended without its end report and
#              without a triple fault (a guest panic, a silent power-off)
#   fail       anything else (a test failed: ours until shown otherwise)
# Each failed boot's output directory is kept as OUT.bootN.  The last
# lines printed are the tally.
set -euo pipefail

IOREQ_STAGE=xen-soak
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

boots=20
scenarios=()
qemus=()
accels=()
cpu=
tag=
table=$IOREQ_BUILD/xen-soak/results.tsv
report=
while getopts n:s:q:c:a:t:o:rh opt; do
	case $opt in
	n)	boots=$OPTARG ;;
	s)	scenarios+=("$OPTARG") ;;
	q)	qemus+=("$OPTARG") ;;
	c)	cpu=$OPTARG ;;
	a)	accels+=("$OPTARG") ;;
	t)	tag=$OPTARG ;;
	o)	table=$OPTARG ;;
	r)	report=1 ;;
	*)	sed -n '/^# usage:/,/^# Each failed/p' "$0" | sed 's/^# \{0,1\}//' >&2
		exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $boots in ''|*[!0-9]*) die "-n wants a number" ;; esac

# tally: the table's rows summed per tag, in order of first appearance.
tally()
{
	awk -F '\t' '
	NR == 1 { next }
	!($1 in n) { order[++tags] = $1 }
	{ n[$1]++; o[$1, $7]++; secs[$1] += $8; load[$1] += $9 }
	$7 == "pass" && $12 != "-" { np[$1]++; span[$1] += $12 }
	END {
		split("pass triple stall guest-hang no-end guest-died fail", k, " ")
		sep = "======================================  =====  ====  ======  =====  ==========  ======  ==========  ====  ======  =====  ======"
		print sep
		print "series                                  boots  pass  triple  stall  guest-hang  no-end  guest-died  fail  mean s  load   span s"
		print sep
		for (i = 1; i <= tags; i++) {
			t = order[i]
			printf "%-38s  %5d", t, n[t]
			printf "  %4d  %6d  %5d  %10d  %6d  %10d  %4d", o[t, k[1]], o[t, k[2]], \
				o[t, k[3]], o[t, k[4]], o[t, k[5]], o[t, k[6]], o[t, k[7]]
			printf "  %6d  %5.1f", secs[t] / n[t], load[t] / n[t]
			printf np[t] ? sprintf("  %6.1f\n", span[t] / np[t]) : "       -\n"
		}
		print sep
	}' "$table"
}
if [ -n "$report" ]; then
	[ -s "$table" ] || die "no table $table"
	tally
	exit 0
fi

load_env
[ ${#qemus[@]} -gt 0 ] || qemus=("${QEMU:-qemu-system-x86_64}")
[ ${#accels[@]} -gt 0 ] || accels=(tcg)
[ ${#scenarios[@]} -gt 0 ] || scenarios=(scratch)
declare -A qver=()
for q in "${qemus[@]}"; do
	qver[$q]=$("$q" --version | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
	[ -n "${qver[$q]}" ] || die "$q --version says no version"
done
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

# scenario_args SCENARIO: xen-vm.sh's arguments for it, into sargs.
scenario_args()
{
	sargs=(--kernel "$(kvar KIMG 61)" --kroot "$(kvar KROOT 61)"
	       --add "$tools_out/ioreq-backend" --scenario "$1")
	[ -z "${IOREQ_SOAK_ROUNDS:-}" ] ||
		sargs+=(--env "IOREQ_SOAK_ROUNDS=$IOREQ_SOAK_ROUNDS")
	case $1 in
	native)
		# ioreq-xen-native serves the guest; none of our modules
		# is loaded.
		[ -x "$tools_out/ioreq-xen-native" ] ||
			die "no $tools_out/ioreq-xen-native (apt-get install libxen-dev)"
		sargs+=(--add "$tools_out/ioreq-xen-native") ;;
	*)	sargs+=(--module "$kb/drivers/ioreq/ioreq.ko"
			--module "$kb/drivers/ioreq/xen/ioreq_xen.ko")
		[ ! -x "$IOREQ_BUILD/selftests/ioreq_xen_dom0_test" ] ||
			sargs+=(--add "$IOREQ_BUILD/selftests/ioreq_xen_dom0_test") ;;
	esac
}

mkdir -p "$(dirname "$table")"
[ -s "$table" ] ||
	printf 'tag\tscenario\tqemu\tcpu\taccel\tboot\toutcome\tsecs\tload_before\tload_after\tlag\tspan\tlogs\n' > "$table"
declare -A tally=()
# arm_tag SCENARIO QEMU ACCEL: the series' tag for that arm.
arm_tag()
{
	local t=${tag:+$tag-}$1-qemu${qver[$2]}

	[ "$3" = tcg ] || t=$t-${3//[,=]/-}
	printf '%s' "$t"
}
arms=()
for s in "${scenarios[@]}"; do
	for q in "${qemus[@]}"; do
		for a in "${accels[@]}"; do
			arms+=("$s|$q|$a")
		done
	done
done
for i in $(seq "$boots"); do
	for arm in "${arms[@]}"; do
		IFS='|' read -r scenario q a <<< "$arm"
		t_tag=$(arm_tag "$scenario" "$q" "$a")
		scenario_args "$scenario"
		out=$IOREQ_BUILD/xen-soak/$t_tag
		export QEMU=$q VM_ACCEL=$a
		load0=$(cut -d' ' -f1 /proc/loadavg)
		t=$(now)
		log "$t_tag: boot $i/$boots (load $load0)"
		"$IOREQ_ROOT/selftests/ioreq/xen/xen-vm.sh" "${sargs[@]}" "$@" \
			--out "$out" --name "soak-$t_tag" > "$out.log" 2>&1 || true
		secs=$(( $(now) - t ))
		load1=$(cut -d' ' -f1 /proc/loadavg)
		lag=$(sed -n 's/^GUEST_LAG=//p' "$out/result" 2>/dev/null)
		span=$(sed -n 's/^GUEST_SPAN=//p' "$out/result" 2>/dev/null)
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
		elif grep -qs 'no end report from the guest' "$out/ktap.log"; then
			outcome=guest-died
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
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t_tag" \
			"$scenario" "${qver[$q]}" "$cpu_shown" "$a" "$i" "$outcome" "$secs" \
			"$load0" "$load1" "${lag:--}" "${span:--}" "$logs" >> "$table"
		log "$t_tag: boot $i: $outcome in ${secs}s (load $load0 -> $load1)"
	done
done
for arm in "${arms[@]}"; do
	IFS='|' read -r scenario q a <<< "$arm"
	t_tag=$(arm_tag "$scenario" "$q" "$a")
	line="$t_tag: $boots boots:"
	for k in pass triple stall guest-hang no-end guest-died fail; do
		line="$line $k ${tally[$t_tag:$k]:-0}"
	done
	log "$line"
done
