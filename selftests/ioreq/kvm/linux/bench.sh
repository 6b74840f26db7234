#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Inner guest side of make bench's KVM virtio rows (ioreq_kvm_bench.sh):
# the same initramfs boots under ioreq-kvm-linux (disk from ioreq-vhost)
# and under QEMU -accel kvm (its virtio-blk-pci, or vhost-user-blk-pci);
# the three guests run at once and take turns.  Once /dev/vda is there it
# says "IOREQ-BENCH-READY", then polls the disk's last 4 KiB block
# (O_DIRECT, every 0.3 s) for the host side's command, a line:
#
#   run SEQ JOB   run fio job JOB once (a new SEQ only), then print its
#                 result and "IOREQ-DONE SEQ rc=N"
#   quit          end (the guest resets itself)
#
# Jobs: Debian's fio on the raw disk (O_DIRECT, libaio), BENCH_RUNTIME
# seconds (default 3), no ramp (its I/Os would escape the per-request
# CPU figures), over the disk but its last MiB:
#
#   rand4k   4 KiB random reads, queue depth 1 (clat median, p90, p99)
#   rd1 rd8  64 KiB sequential reads at queue depth 1 and 8
#   wr1 wr8  64 KiB sequential writes at queue depth 1 and 8
#
# A result is one line, from fio's JSON output:
#   IOREQ-FIO seq=N job=NAME ios=N kbps=N iops=N p50_us=N p90_us=N p99_us=N
#             runtime_ms=N usr=N sys=N

t=0
while [ ! -b /dev/vda ] && [ $t -lt 60 ]; do
	sleep 1
	t=$((t + 1))
done
if [ ! -b /dev/vda ]; then
	echo "# no /dev/vda after $t s"
	exit 1
fi
cs=/sys/devices/system/clocksource/clocksource0
echo "IOREQ-INFO clocksource $(cat $cs/current_clocksource) of $(cat $cs/available_clocksource);" \
	"$(nproc) cpus; cmdline $(cat /proc/cmdline)"
blocks=$(($(cat /sys/block/vda/size) / 8))
ctrl=$((blocks - 1))
size=$(((blocks - 256) * 4))k
rt=${BENCH_RUNTIME:-3}

# fio's JSON has one key per line: a small state machine picks the
# fields of each job (its read or write part; clat_ns's percentiles).
parse()
{
	awk -v seq="$1" '
function out(d) {
	if (job == "")
		return
	d = io["write"] > io["read"] ? "write" : "read"
	printf "IOREQ-FIO seq=%s job=%s ios=%d kbps=%d iops=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f runtime_ms=%d usr=%s sys=%s\n",
		seq, job, io[d], kb[d], iop[d], p[d, 50] / 1000, p[d, 90] / 1000,
		p[d, 99] / 1000, rtm, usr, sys
}
function val(s) { sub(/.*: */, "", s); sub(/,$/, "", s); gsub(/"/, "", s); return s }
/"jobname" :/ { out(); job = val($0); split("", io); split("", kb); split("", iop); split("", p); dir = ""; next }
/^      "(read|write|trim|sync)" : \{/ { dir = $1; gsub(/"/, "", dir); clat = 0; next }
/"clat_ns" : \{/ { clat = 1; next }
/"(slat_ns|lat_ns)" : \{/ { clat = 0; next }
dir != "" {
	v = val($0)
	if ($1 == "\"total_ios\"") io[dir] = v
	if ($1 == "\"bw\"") kb[dir] = v
	if ($1 == "\"iops\"") iop[dir] = v
	if (clat && $1 == "\"50.000000\"") p[dir, 50] = v
	if (clat && $1 == "\"90.000000\"") p[dir, 90] = v
	if (clat && $1 == "\"99.000000\"") p[dir, 99] = v
}
/"job_runtime" :/ { rtm = val($0); dir = "" }
/"usr_cpu" :/ { usr = val($0) }
/"sys_cpu" :/ { sys = val($0) }
END { out() }
' /tmp/fio.json
}

# run_job SEQ JOB
run_job()
{
	rj_seq=$1
	rj_job=$2
	case $2 in
	rand4k)	set -- "$1" --rw=randread --bs=4k --iodepth=1 ;;
	rd1)	set -- "$1" --rw=read --bs=64k --iodepth=1 ;;
	rd8)	set -- "$1" --rw=read --bs=64k --iodepth=8 ;;
	wr1)	set -- "$1" --rw=write --bs=64k --iodepth=1 ;;
	wr8)	set -- "$1" --rw=write --bs=64k --iodepth=8 ;;
	*)	echo "IOREQ-DONE $1 rc=2 (no job $2)"; return ;;
	esac
	shift
	fio --name="$rj_job" --filename=/dev/vda --size="$size" --direct=1 \
		--ioengine=libaio --time_based --runtime="$rt" \
		--output-format=json "$@" > /tmp/fio.json 2> /tmp/fio.err
	rj_rc=$?
	sed 's/^/# fio: /' /tmp/fio.err
	parse "$rj_seq"
	echo "IOREQ-DONE $rj_seq rc=$rj_rc"
}

echo "IOREQ-BENCH-READY"
last=
while :; do
	# shellcheck disable=SC2046
	set -- $(dd if=/dev/vda bs=4096 skip=$ctrl count=1 iflag=direct 2> /dev/null |
		tr -d '\000' | head -n 1)
	case $1 in
	run)	if [ "$2" != "$last" ]; then
			last=$2
			run_job "$2" "$3"
		fi ;;
	quit)	break ;;
	esac
	sleep 0.3
done
