#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# qemu-10.sh: qemu-system-x86_64 10.0 from bookworm-backports, unpacked
# (not installed: Debian 12's 7.2 stays the system QEMU) under
# IOREQ_CACHE/qemu-10 by scripts/deps.sh with IOREQ_QEMU10=1.  Takes
# qemu-system-x86_64's arguments: QEMU=scripts/qemu-10.sh for xen-vm.sh
# and scripts/xen-soak.sh.  Its option ROMs come from the unpacked
# package, the BIOS from the system's seabios.
P=${IOREQ_CACHE:-/var/cache/ioreq}/qemu-10
if [ ! -x "$P/usr/bin/qemu-system-x86_64" ]; then
	echo "qemu-10.sh: no $P/usr/bin/qemu-system-x86_64 (IOREQ_QEMU10=1 scripts/deps.sh)" >&2
	exit 127
fi
case $1 in
--version|-version|--help|-h) exec "$P/usr/bin/qemu-system-x86_64" "$@" ;;
esac
# Its own modules only (the system's are 7.2's, which it refuses).
QEMU_MODULE_DIR=$P/usr/lib/x86_64-linux-gnu/qemu
export QEMU_MODULE_DIR
exec "$P/usr/bin/qemu-system-x86_64" -L "$P/usr/share/qemu" -L /usr/share/seabios "$@"
