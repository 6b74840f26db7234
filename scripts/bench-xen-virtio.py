#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# bench-xen-virtio.py KTAP_LOG: the table of make bench's Xen virtio rows
# (scripts/bench-xen-virtio.sh) from the report of one vbench boot: the
# guest's "vbench: turn=R disk=D job=J ..." lines (fio's JSON, per job)
# and dom0's "vbench-dom0: turn=R disk=D ..." lines (CPU ticks and
# ioreq-vhost's records over the turn).  Each value is taken per turn;
# each ratio per round (ours against the baseline's turn of the same
# round), then reported as the median [min-max] of the rounds.  Prints
# the table, then "xen_virtio_KEY=VALUE" lines.

import re
import statistics
import sys

USER_HZ = 100


def fields(line):
    return dict(re.findall(r'(\w+)=([0-9.]+|[a-z0-9]+)', line))


def main():
    guest = {}   # (round, disk) -> {job: fields}
    dom0 = {}    # (round, disk) -> fields
    for line in open(sys.argv[1], errors='replace'):
        if 'vbench-dom0:' in line:
            f = fields(line.split('vbench-dom0:', 1)[1])
            need = ('turn', 'disk', 'ios', 'dom0_ticks', 'vhost_ticks', 'qsd_ticks',
                    'dm_ticks', 'blkback_ticks', 'records')
            if all(k in f for k in need):
                dom0[(int(f['turn']), f['disk'])] = f
        elif 'vbench:' in line and 'job=' in line:
            f = fields(line.split('vbench:', 1)[1])
            need = ('turn', 'disk', 'job', 'ios', 'runtime_ms', 'bw', 'p50', 'p90',
                    'p99', 'usr', 'sys')
            if all(k in f for k in need) and int(f['ios']) > 0:
                guest.setdefault((int(f['turn']), f['disk']), {})[f['job']] = f
    rounds = sorted({r for r, _ in guest})
    if not rounds:
        print('no vbench lines in %s' % sys.argv[1], file=sys.stderr)
        return 1

    # metric name -> (label, higher is better, goal against qemu, fn)
    def job(j, key, scale=1.0):
        return lambda g, d: float(g[j][key]) * scale

    def guest_cpu(g, d):
        cpu = sum((float(f['usr']) + float(f['sys'])) / 100 *
                  float(f['runtime_ms']) * 1000 for f in g.values())
        return cpu / sum(int(f['ios']) for f in g.values())

    def dom0_cpu(key):
        def fn(g, d):
            if d is None or int(d['ios']) == 0:
                return None
            return int(d[key]) * 1e6 / USER_HZ / int(d['ios'])
        return fn

    def records(g, d):
        if d is None or int(d['ios']) == 0:
            return None
        return int(d['records']) / int(d['ios'])

    mb = 1.0 / 1e6
    rows = [
        ('rr_p50_us', '4k randread QD1 p50 us', False, '<= 0.80', job('rr', 'p50', 1e-3)),
        ('rr_p90_us', '4k randread QD1 p90 us', False, '', job('rr', 'p90', 1e-3)),
        ('rr_p99_us', '4k randread QD1 p99 us', False, '', job('rr', 'p99', 1e-3)),
        ('rr_iops', '4k randread QD1 IOPS', True, '', lambda g, d: int(g['rr']['ios']) * 1000 / float(g['rr']['runtime_ms'])),
        ('sr1_mbs', '64k seq read QD1 MB/s', True, '>= 1.20', job('sr1', 'bw', mb)),
        ('sr8_mbs', '64k seq read QD8 MB/s', True, '>= 1.20', job('sr8', 'bw', mb)),
        ('sw1_mbs', '64k seq write QD1 MB/s', True, '>= 1.20', job('sw1', 'bw', mb)),
        ('sw8_mbs', '64k seq write QD8 MB/s', True, '>= 1.20', job('sw8', 'bw', mb)),
        ('guest_cpu_us', 'guest CPU us/request (fio)', False, '', guest_cpu),
        ('dom0_cpu_us', 'dom0 CPU us/request (all)', False, '', dom0_cpu('dom0_ticks')),
    ]
    per = {}     # (metric, disk) -> {round: value}
    for r in rounds:
        for disk in ('ours', 'qemu', 'blk'):
            g = guest.get((r, disk))
            if not g or any(j not in g for j in ('rr', 'sr1', 'sr8', 'sw1', 'sw8')):
                continue
            d = dom0.get((r, disk))
            for key, _, _, _, fn in rows:
                v = fn(g, d)
                if v is not None:
                    per.setdefault((key, disk), {})[r] = v
            if d is not None and int(d['ios']):
                n = int(d['ios'])
                for who, k in (('vhost', 'vhost_ticks'), ('qsd', 'qsd_ticks'),
                               ('dm', 'dm_ticks'), ('blkback', 'blkback_ticks')):
                    per.setdefault(('%s_cpu_us' % who, disk), {})[r] = \
                        int(d[k]) * 1e6 / USER_HZ / n
                if disk == 'ours':
                    per.setdefault(('records_per_io', disk), {})[r] = int(d['records']) / n

    def stat(vals):
        vals = sorted(vals)
        return statistics.median(vals), vals[0], vals[-1]

    def ratio(key, base):
        a, b = per.get((key, 'ours'), {}), per.get((key, base), {})
        rs = [a[r] / b[r] for r in rounds if r in a and r in b and b[r]]
        return stat(rs) if rs else None

    out = []
    print()
    print('Xen 4.17 (PV dom0), HVM guest (1 vcpu), fio O_DIRECT libaio on the raw disk, '
          '%d rounds of alternating turns (ours, qemu, blkback; reversed on even rounds):' % len(rounds))
    print('  each value the median of its turns; each ratio ours/baseline per round, '
          'median [min-max] (latency and CPU: lower is better)')
    print('  %-28s %9s %9s %9s   %-22s %-8s %-22s' % (
        'row', 'ours', 'qemu-xen', 'blkback', 'ours/qemu-xen', 'goal', 'ours/blkback'))
    for key, label, _, goal, _ in rows:
        med = {}
        for disk in ('ours', 'qemu', 'blk'):
            v = per.get((key, disk))
            med[disk] = stat(v.values())[0] if v else None
            if med[disk] is not None:
                out.append('xen_virtio_%s_%s=%.3f' % (key, disk, med[disk]))
        cols = []
        for base in ('qemu', 'blk'):
            s = ratio(key, base)
            if s:
                cols.append('%5.2fx [%.2f-%.2f]' % s)
                out.append('xen_virtio_%s_ratio_%s=%.3f' % (key, base, s[0]))
                out.append('xen_virtio_%s_ratio_%s_min=%.3f' % (key, base, s[1]))
                out.append('xen_virtio_%s_ratio_%s_max=%.3f' % (key, base, s[2]))
            else:
                cols.append('-')
        print('  %-28s %9s %9s %9s   %-22s %-8s %-22s' % (
            label, *('%.1f' % med[x] if med[x] is not None else '-'
                     for x in ('ours', 'qemu', 'blk')), cols[0], goal, cols[1]))
    print('  CPU per request in dom0 by process (us; USER_HZ ticks over the turn / the guest\'s I/Os):')
    for who, disk, label in (('vhost', 'ours', 'ioreq-vhost (ours)'),
                             ('qsd', 'ours', 'qemu-storage-daemon (ours)'),
                             ('dm', 'qemu', 'qemu-xen device model (qemu-xen)'),
                             ('blkback', 'blk', 'blkback thread (blkback)')):
        v = per.get(('%s_cpu_us' % who, disk))
        if v:
            s = stat(v.values())
            print('    %-34s %8.1f [%.1f-%.1f]' % (label, *s))
            out.append('xen_virtio_%s_cpu_us=%.3f' % (who, s[0]))
    v = per.get(('records_per_io', 'ours'))
    if v:
        s = stat(v.values())
        print('  frontend records per guest I/O in steady state (ours; goal 0): %.4f [%.4f-%.4f]' % s)
        out.append('xen_virtio_records_per_io=%.4f' % s[0])
    out.append('xen_virtio_rounds=%d' % len(rounds))
    print()
    print('\n'.join(out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
