#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The hostile hypervisor as a test: ioreq_fuzz -x runs the Xen provider's
# page protocol on its test double while the double writes garbage into
# the synchronous page and the buffered ring, with backends answering and
# dying meanwhile.  1,000,000 hostile operations or 120 seconds, whichever
# comes first (a slow debug guest does fewer: the program fails below a
# tenth).  IOREQ_FUZZ_XEN_OPS and IOREQ_FUZZ_SEED override.
set -u
cd "$(dirname "$0")"

ops=${IOREQ_FUZZ_XEN_OPS:-1000000}
seed=${IOREQ_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "# hostile Xen: $ops operations at most, 120 s at most, seed $seed"
exec ./ioreq_fuzz -x -s "$seed" -n "$ops" -t 120
