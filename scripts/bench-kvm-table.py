#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# bench-kvm-table.py: the table of make bench's KVM virtio rows from the
# "BENCH-KVM row=R turn=N ..." lines of selftests/ioreq/kvm/ioreq_kvm_bench.sh
# on stdin (scripts/bench-kvm.sh).  Every ratio is ours over the
# baseline's, taken turn by turn (the rows of one turn ran one after the
# other in the same boot); printed as the median of the turns' ratios and
# their range.  With --kv, key=value lines instead.

import statistics
import sys

USER_HZ = 100   # /proc/PID/stat's clock ticks

# (key, job, field, what, kind): kind "lat" (lower is better) or "tput"
METRICS = [
    ("rand4k_p50", "rand4k", "p50_us", "4 KiB random read QD1, median latency", "lat"),
    ("rand4k_p90", "rand4k", "p90_us", "4 KiB random read QD1, p90 latency", "lat"),
    ("rand4k_p99", "rand4k", "p99_us", "4 KiB random read QD1, p99 latency", "lat"),
    ("rd1", "rd1", "kbps", "64 KiB sequential read QD1, throughput", "tput"),
    ("rd8", "rd8", "kbps", "64 KiB sequential read QD8, throughput", "tput"),
    ("wr1", "wr1", "kbps", "64 KiB sequential write QD1, throughput", "tput"),
    ("wr8", "wr8", "kbps", "64 KiB sequential write QD8, throughput", "tput"),
    ("guest_cpu", "rand4k", "cpu_us", "guest CPU per request (fio usr+sys, rand4k)", "lat"),
]
# per row and turn, summed over its jobs: (key, field, what)
PERBOOT = [
    ("vmm_cpu", "vmm_ticks", "VMM process CPU per request (incl. the vcpus)"),
    ("vhost_cpu", "vhost_ticks", "ioreq-vhost CPU per request"),
    ("qsd_cpu", "qsd_ticks", "qemu-storage-daemon CPU per request"),
]
# goals: baseline -> (latency at most, throughput at least)
GOALS = {"qemu": (1.10, 0.90), "vuser": (1.05, 1 / 1.05), "floor": None}
NAMES = {"qemu": "QEMU built-in virtio-blk-pci",
         "vuser": "QEMU vhost-user-blk-pci, same daemon",
         "floor": "the host floor (vhost-blk-floor, no guest; its CPU as the guest's)"}
BASES = ("qemu", "vuser", "floor")
ROWS = ("ours", "qemu", "vuser", "floor")


def parse(lines):
    jobs = {}       # (row, turn, job) -> dict
    boots = {}      # (row, turn) -> the sums over its jobs
    failed = []
    restarts = []
    for line in lines:
        if line.startswith("BENCH-KVM restart "):
            restarts.append(line.strip())
            continue
        if not line.startswith("BENCH-KVM row="):
            continue
        if " failed" in line:
            failed.append(line.strip())
            continue
        kv = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
        if "job" not in kv:
            continue
        row, turn = kv["row"], int(kv["turn"])
        d = {k: float(v) for k, v in kv.items()
             if k not in ("row", "turn", "job")}
        d["cpu_us"] = ((d["usr"] + d["sys"]) / 100 * d["runtime_ms"] * 1000
                       / d["ios"]) if d["ios"] else 0
        jobs[(row, turn, kv["job"])] = d
        b = boots.setdefault((row, turn), {})
        for k in ("ios", "vmm_ticks", "vhost_ticks", "qsd_ticks",
                  "forwarded", "records", "notify"):
            b[k] = b.get(k, 0) + d.get(k, 0)
    return jobs, boots, failed, restarts


def spread(v):
    if not v:
        return None
    return statistics.median(v), min(v), max(v)


def main():
    kv_out = "--kv" in sys.argv
    jobs, boots, failed, restarts = parse(sys.stdin)
    turns = sorted({t for (_, t) in boots})
    out = []

    def value(row, t, job, field):
        d = jobs.get((row, t, job))
        return d[field] if d and d.get(field) else None

    res = {}
    for base in BASES:
        for key, job, field, what, kind in METRICS:
            ratios = []
            for t in turns:
                o, b = value("ours", t, job, field), value(base, t, job, field)
                if o and b:
                    ratios.append(o / b)
            res[(base, key)] = spread(ratios)
    absval = {}
    for row in ROWS:
        for key, job, field, what, kind in METRICS:
            absval[(row, key)] = spread([value(row, t, job, field) for t in turns
                                         if value(row, t, job, field)])
        for key, field, what in PERBOOT:
            v = [boots[(row, t)][field] / USER_HZ * 1e6 / boots[(row, t)]["ios"]
                 for t in turns if (row, t) in boots and boots[(row, t)]["ios"]]
            absval[(row, key)] = spread(v)
        for key in ("forwarded", "records", "notify"):
            v = [boots[(row, t)][key] / boots[(row, t)]["ios"]
                 for t in turns if (row, t) in boots and boots[(row, t)]["ios"]]
            absval[(row, key)] = spread(v)

    if kv_out:
        print("kvm_turns=%d" % len(turns))
        print("kvm_failed_boots=%d" % len(failed))
        print("kvm_restarted_guests=%d" % len(restarts))
        for (base, key), s in sorted(res.items()):
            if s:
                print("kvm_%s_%s_ratio=%.3f" % (base, key, s[0]))
                print("kvm_%s_%s_ratio_min=%.3f" % (base, key, s[1]))
                print("kvm_%s_%s_ratio_max=%.3f" % (base, key, s[2]))
        for (row, key), s in sorted(absval.items()):
            if s:
                print("kvm_%s_%s=%.3f" % (row, key, s[0]))
        return

    out.append("")
    out.append("KVM (nested in the TCG guest), virtio-blk, fio O_DIRECT on /dev/vda; "
               "%d alternating turns; ratio = ours / baseline, median [min-max] of "
               "the turns' ratios:" % len(turns))
    for base in BASES:
        if not any(res.get((base, m[0])) for m in METRICS):
            continue
        lat_goal, tput_goal = GOALS[base] or (None, None)
        out.append("  against %s:" % NAMES[base])
        for key, job, field, what, kind in METRICS:
            s = res.get((base, key))
            o, b = absval.get(("ours", key)), absval.get((base, key))
            if not s:
                out.append("    %-48s no data" % what)
                continue
            unit = "us" if kind == "lat" else "KiB/s"
            if key == "guest_cpu" or lat_goal is None:
                goal = ""
            elif kind == "lat":
                goal = "goal <= %.2fx" % lat_goal
            else:
                goal = "goal >= %.2fx" % tput_goal
            out.append("    %-48s %5.2fx [%.2f-%.2f]  (ours %.0f %s, baseline %.0f %s)  %s"
                       % (what, s[0], s[1], s[2], o[0], unit, b[0], unit, goal))
    out.append("  per request, median of the turns (us of CPU; records per guest I/O):")
    for row in ROWS:
        parts = []
        for key, field, what in PERBOOT:
            s = absval.get((row, key))
            if s and (row == "ours" or key != "vhost_cpu") and \
               (row != "qemu" or key != "qsd_cpu") and \
               (row != "floor" or key == "qsd_cpu"):
                parts.append("%s %.0f [%.0f-%.0f]" % (key, s[0], s[1], s[2]))
        if row == "ours":
            for key in ("forwarded", "records", "notify"):
                s = absval.get((row, key))
                if s:
                    parts.append("%s/io %.3f" % (key, s[0]))
        out.append("    %-6s %s" % (row, ", ".join(parts)))
    for f in restarts + failed:
        out.append("  " + f)
    print("\n".join(out))


if __name__ == "__main__":
    main()
