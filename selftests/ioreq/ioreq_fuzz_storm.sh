#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The fuzzer and kill storm as a test: on a debug kernel (kmemleak present)
# the full budget, 1,000,000 operations and 1,000 backend kills; on other
# kernels a short run.  IOREQ_FUZZ_OPS / IOREQ_FUZZ_KILLS override.  Then
# the module's slab caches must hold as many objects as before.
set -u
cd "$(dirname "$0")"

if [ -e /sys/kernel/debug/kmemleak ]; then
	ops=${IOREQ_FUZZ_OPS:-1000000} kills=${IOREQ_FUZZ_KILLS:-1000}
	why="debug kernel: full budget"
else
	ops=${IOREQ_FUZZ_OPS:-100000} kills=${IOREQ_FUZZ_KILLS:-100}
	why="not a debug kernel: short run (the debug lane runs the full one)"
fi
seed=${IOREQ_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

objects()
{
	echo 1 > "/sys/kernel/slab/$1/shrink" 2>/dev/null
	cut -d' ' -f1 "/sys/kernel/slab/$1/objects" 2>/dev/null || echo "?"
}

echo "# $why: $ops operations, $kills kills, seed $seed"
before_r=$(objects ioreq_range)
before_s=$(objects ioreq_session)
./ioreq_fuzz -s "$seed" -n "$ops" -k "$kills" -t 1500
rc=$?
# Files the fuzzer's children held may be put a moment after they are
# reaped (an irqfd's work item, delayed fput): give the counts 5 s to
# settle.  A leak never does.
waited=0
while :; do
	after_r=$(objects ioreq_range)
	after_s=$(objects ioreq_session)
	[ "$before_r" = "$after_r" ] && [ "$before_s" = "$after_s" ] && break
	[ "$waited" -ge 50 ] && break
	sleep 0.1
	waited=$((waited + 1))
done
echo "# slab objects: ioreq_range $before_r -> $after_r, ioreq_session $before_s -> $after_s (after $((waited * 100)) ms)"
if [ "$before_r" != "$after_r" ] || [ "$before_s" != "$after_s" ]; then
	echo "# slab counts did not come back"
	exit 1
fi
exit $rc
