#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Inner guest side of make bench's KVM virtio rows (ioreq_kvm_bench.sh):
# the same initramfs boots under ioreq-kvm-linux (disk from ioreq-vhost)
# and under QEMU -accel kvm (its virtio-blk-pci, or vhost-user-blk-pci).
# It waits for /dev/vda, says "IOREQ-BENCH-BEGIN" (the host side samples
# its counters), runs Debian's fio on the raw disk (O_DIRECT, libaio)
# and says "IOREQ-BENCH-END".  Jobs, each BENCH_RUNTIME seconds (default
# 3) after a 1 s ramp:
#
#   rand4k   4 KiB random reads, queue depth 1 (clat median, p90, p99)
#   rd1 rd8  64 KiB sequential reads at queue depth 1 and 8
#   wr1 wr8  64 KiB sequential writes at queue depth 1 and 8
#
# Then one line per job, from fio's JSON output:
#   IOREQ-FIO job=NAME ios=N kbps=N iops=N p50_us=N p90_us=N p99_us=N
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
	"$(nproc) cpus; $(dmesg | grep -ciE 'hpet') hpet lines; cmdline $(cat /proc/cmdline)"
rt=${BENCH_RUNTIME:-3}
common="--filename=/dev/vda --direct=1 --ioengine=libaio --time_based --runtime=$rt --ramp_time=1 --output-format=json"
# Let the host side see the marker before the first I/O.
echo "IOREQ-BENCH-BEGIN"
sleep 1
# shellcheck disable=SC2086
fio $common --name=rand4k --rw=randread --bs=4k --iodepth=1 \
	--name=rd1 --stonewall --rw=read --bs=64k --iodepth=1 \
	--name=rd8 --stonewall --rw=read --bs=64k --iodepth=8 \
	--name=wr1 --stonewall --rw=write --bs=64k --iodepth=1 \
	--name=wr8 --stonewall --rw=write --bs=64k --iodepth=8 \
	> /tmp/fio.json 2> /tmp/fio.err
rc=$?
echo "IOREQ-BENCH-END rc=$rc"
sleep 1
sed 's/^/# fio: /' /tmp/fio.err
# fio's JSON has one key per line: a small state machine picks the
# fields of each job (its read or write part; clat_ns's percentiles).
awk '
function out(d) {
	if (job == "")
		return
	d = io["write"] > io["read"] ? "write" : "read"
	printf "IOREQ-FIO job=%s ios=%d kbps=%d iops=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f runtime_ms=%d usr=%s sys=%s\n",
		job, io[d], kb[d], iop[d], p[d, 50] / 1000, p[d, 90] / 1000,
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
[ "$rc" = 0 ]
