#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "vbench" (make bench's virtio rows; dom0's side in
# vbench.dom0.sh): Debian's fio, from the read-only disk xvde, times the
# three disks in turns: 4 KiB random reads at queue depth 1 (latency
# percentiles), 64 KiB sequential reads and writes at queue depths 1 and
# 8 (throughput), O_DIRECT on the raw device (libaio), VBENCH_RUNTIME
# seconds each (default 2).  VBENCH_ROUNDS rounds (default 3), each
# taking the disks in turn, in the order ours, qemu, blk and the reverse
# on even rounds.  Each turn is one fio run (--output-format=json), whose
# jobs are printed as "vbench: turn=R disk=D job=J ios=N runtime_ms=T
# bw=B p50=NS p90=NS p99=NS usr=PCT sys=PCT" (usr and sys: fio's CPU
# over the job).

. /lib-ktap.sh

ROUNDS=${VBENCH_ROUNDS:-3}
RUNTIME=${VBENCH_RUNTIME:-2}
TOOLS=/tools

# disk_at SBDF: the virtio disk of that PCI function (vda, vdb...).
disk_at()
{
	local b

	for b in /sys/block/vd*; do
		case $(readlink -f "$b/device") in
		*/0000:$1/*) basename "$b"; return 0 ;;
		esac
	done
	return 1
}

# ios DEV: reads plus writes completed.
ios()
{
	awk '{ print $1 + $5 }' "/sys/block/$1/stat"
}

# fio_json: fio's JSON report on stdin to one "vbench:" line per job.
fio_json()
{
	awk -v pre="$1" '
	function num(s) { sub(/^[^:]*: */, "", s); sub(/,$/, "", s); gsub(/"/, "", s); return s }
	/"jobname" :/ { job = num($0); delete io; sect = "" }
	/^ *"(read|write)" : \{/ { sect = $1; gsub(/"/, "", sect); cl = 0 }
	/^ *"(trim|sync)" : \{/ { sect = "" }
	sect != "" && /^ *"total_ios" :/ { io[sect] = num($0) }
	sect != "" && /^ *"runtime" :/ { rt[sect] = num($0) }
	sect != "" && /^ *"bw_bytes" :/ { bw[sect] = num($0) }
	sect != "" && /"clat_ns" : \{/ { cl = 1 }
	sect != "" && /"lat_ns" : \{/ { cl = 0 }
	cl && /"50\.000000" :/ { p50[sect] = num($0) }
	cl && /"90\.000000" :/ { p90[sect] = num($0) }
	cl && /"99\.000000" :/ { p99[sect] = num($0) }
	/^ *"usr_cpu" :/ { usr = num($0) }
	/^ *"sys_cpu" :/ {
		s = io["read"] > 0 ? "read" : "write"
		printf "vbench: %s job=%s ios=%d runtime_ms=%d bw=%d p50=%d p90=%d p99=%d usr=%s sys=%s\n",
			pre, job, io[s], rt[s], bw[s], p50[s], p90[s], p99[s], usr, num($0)
	}'
}

echo "TAP version 13"
echo "1..$((3 + 3 * ROUNDS))"
t=0
while [ ! -b /dev/xvdf ] || [ ! -b /dev/xvde ] || ! disk_at 00:05.0 > /dev/null ||
      ! disk_at 00:08.0 > /dev/null; do
	[ $t -lt 120 ] || break
	sleep 1
	t=$((t + 1))
done
ls -l /sys/block/ | sed 's/^/# /'
ours=$(disk_at 00:05.0)
qemu=$(disk_at 00:08.0)
check "the disks: ours ${ours:-none} (00:05.0), qemu ${qemu:-none} (00:08.0), blk xvdf ($t s)" \
	sh -c "[ -n '$ours' ] && [ -n '$qemu' ] && [ -b /dev/xvdf ]"
mkdir -p $TOOLS
check "mount the tools disk xvde" mount -t ext4 -o ro /dev/xvde $TOOLS
FIO="$TOOLS/lib/ld-linux-x86-64.so.2 --library-path $TOOLS/lib $TOOLS/fio"
# shellcheck disable=SC2086
v=$($FIO --version 2>&1)
check "fio runs (${v:-nothing})" sh -c "echo '$v' | grep -q '^fio-'"
for d in $ours $qemu xvdf; do
	echo "# $d: $(cat /sys/block/$d/size) sectors, queue $(cat /sys/block/$d/queue/nr_requests) requests, scheduler $(cat /sys/block/$d/queue/scheduler)"
	# No I/O scheduler: the same block layer path for all three.
	echo none > "/sys/block/$d/queue/scheduler" 2> /dev/null
done
[ $fails = 0 ] || exit 1
cat > /tmp/jobs.fio <<JOBS
[global]
direct=1
ioengine=libaio
time_based=1
runtime=$RUNTIME
randrepeat=1
[rr]
rw=randread
bs=4k
iodepth=1
[sr1]
stonewall
rw=read
bs=64k
iodepth=1
[sr8]
stonewall
rw=read
bs=64k
iodepth=8
[sw1]
stonewall
rw=write
bs=64k
iodepth=1
[sw8]
stonewall
rw=write
bs=64k
iodepth=8
JOBS
r=1
while [ $r -le "$ROUNDS" ]; do
	order="ours qemu blk"
	[ $((r % 2)) = 1 ] || order="blk qemu ours"
	for who in $order; do
		case $who in
		ours)	dev=$ours ;;
		qemu)	dev=$qemu ;;
		blk)	dev=xvdf ;;
		esac
		echo "IOREQ-VBENCH-BEGIN turn=$r disk=$who"
		# dom0 follows the console once a second, then samples.
		sleep 2.5
		n0=$(ios "$dev")
		# shellcheck disable=SC2086
		$FIO --filename="/dev/$dev" --output-format=json /tmp/jobs.fio > /tmp/fio.json 2> /tmp/fio.err
		rc=$?
		n1=$(ios "$dev")
		echo "IOREQ-VBENCH-END turn=$r disk=$who ios=$((n1 - n0))"
		fio_json "turn=$r disk=$who" < /tmp/fio.json
		sed 's/^/# fio: /' /tmp/fio.err
		check "turn $r: fio on $who (/dev/$dev), $((n1 - n0)) I/Os" test $rc = 0
		sleep 2.5
	done
	r=$((r + 1))
done
umount $TOOLS
[ $fails = 0 ]
