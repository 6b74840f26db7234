#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-compare.py: how far apart two make bench runs are, ratio by ratio.

usage: scripts/bench-compare.py [--limit PCT] EARLIER.txt LATER.txt

Reads the key=value results make bench writes (.build/bench/KERNEL.txt)
and prints, for every ratio both runs have (a key ending in "_ratio" or
holding "_ratio_", without the "_min"/"_max" of its rounds' range), the
two values and how far apart they are: |a - b| over their mean.  Within
--limit (default 15) percent is "agrees".  A row that does not is
"noise-bound" when one run's value lies within the other run's own
range of rounds (the min and max of its per-round ratios, where the run
recorded them): the runs differ by no more than one run's rounds differ
among themselves, so that run could not pin the row down to the limit.
Otherwise it "differs": each run's value is outside the other's rounds
(or a run recorded no rounds).  The last line counts each kind.  Exit
status 0 if no row differs, 1 if one does, 2 on a usage error.
"""

import sys


def load(path):
    values = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            key, sep, value = line.strip().partition('=')
            if not sep:
                continue
            try:
                values[key] = float(value)
            except ValueError:
                pass
    return values


def is_ratio(key):
    if key.endswith('_min') or key.endswith('_max'):
        return False
    return key.endswith('_ratio') or '_ratio_' in key


def rounds(values, key):
    lo, hi = values.get(key + '_min'), values.get(key + '_max')
    if lo is None or hi is None or lo <= 0:
        return None
    return lo, hi


def within(value, span):
    return span is not None and span[0] <= value <= span[1]


def main(argv):
    limit = 15.0
    args = argv[1:]
    if len(args) >= 2 and args[0] == '--limit':
        limit = float(args[1])
        args = args[2:]
    if len(args) != 2:
        sys.stderr.write(__doc__.split('\n\n')[1] + '\n')
        return 2
    a, b = load(args[0]), load(args[1])
    keys = sorted(k for k in a if is_ratio(k) and k in b)
    if not keys:
        print('no ratio in common between %s and %s' % (args[0], args[1]))
        return 1
    width = max(len(k) for k in keys)
    print('%-*s  %8s  %8s  %6s  %-25s %s' % (width, 'ratio', 'earlier',
                                              'later', 'apart',
                                              'rounds: earlier / later',
                                              'verdict'))
    counts = {'agrees': 0, 'noise-bound': 0, 'differs': 0}
    for k in keys:
        x, y = a[k], b[k]
        mean = (x + y) / 2
        apart = abs(x - y) / mean * 100 if mean > 0 else 0.0
        ra, rb = rounds(a, k), rounds(b, k)
        span = ' / '.join('%.2f-%.2f' % r if r else '-' for r in (ra, rb))
        if apart <= limit:
            verdict = 'agrees'
        elif within(y, ra) or within(x, rb):
            verdict = 'noise-bound'
        else:
            verdict = 'differs'
        counts[verdict] += 1
        print('%-*s  %8.3f  %8.3f  %5.0f%%  %-25s %s' % (width, k, x, y, apart,
                                                       span, verdict))
    print('%d ratios: %d agree within %g%%, %d noise-bound, %d differ' %
          (len(keys), counts['agrees'], limit, counts['noise-bound'],
           counts['differs']))
    return 0 if counts['differs'] == 0 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
