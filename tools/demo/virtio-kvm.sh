#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ioreq demo, the real thing: run inside a machine (a QEMU guest) with
# /dev/kvm, /dev/ioreq-vmm and
#
#   ioreq-kvm-linux, ioreq-vhost     next to this script (or $IOREQ_BIN)
#   qemu-storage-daemon              Debian's, unmodified, on $PATH
#   $DEMO_DIR/vmlinux                Debian's 6.1 kernel, uncompressed
#   $DEMO_DIR/guest.cpio             the guest's initramfs: busybox,
#                                    virtio_pci, virtio_blk, ext4 and
#                                    selftests/ioreq/kvm/linux/blk.sh
#
# The story:
#   1. qemu-storage-daemon exports an empty 32 MiB disk image over a
#      vhost-user socket;
#   2. ioreq-kvm-linux boots Linux as a KVM guest (2 vcpus) and forwards
#      whatever device access it does not emulate to /dev/ioreq-vmm;
#   3. ioreq-vhost claims PCI 00:05.0 there and presents the daemon's disk
#      as a virtio-pci device: kicks become ioeventfds, the daemon's call
#      fds irqfds bound to the guest's MSI-X vectors, guest memory a
#      guest-memory fd handed to the daemon;
#   4. the guest's own drivers find /dev/vda, make a file system, write a
#      file and read it back, print the disk's checksum, and reset;
#   5. the image file on this side must have that same checksum, and
#      ioreq-vhost must have seen no queue kick (the data path is the
#      guest, the kernel and the daemon only).
# Ends with "demo: PASS" or "demo: FAIL: why".  Environment: DEMO_DIR
# (default /demo), TMPDIR (default /tmp).

here=$(cd "$(dirname "$0")" && pwd)
bin=${IOREQ_BIN:-$here}
DIR=${DEMO_DIR:-/demo}
T=${TMPDIR:-/tmp}/virtio-kvm-demo
GUEST=18

say() { echo "demo: $*"; }
fail() { say "FAIL: $*"; exit 1; }
# wait_line FILE PATTERN SECS
wait_line()
{
	w=0
	until grep -q "$2" "$1" 2> /dev/null; do
		[ $w -lt $(($3 * 5)) ] || return 1
		sleep 0.2
		w=$((w + 1))
	done
}
ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

for f in /dev/kvm /dev/ioreq-vmm "$bin/ioreq-kvm-linux" "$bin/ioreq-vhost" \
	 "$DIR/vmlinux" "$DIR/guest.cpio"; do
	[ -e "$f" ] || fail "no $f"
done
command -v qemu-storage-daemon > /dev/null || fail "no qemu-storage-daemon"
rm -rf "$T"
mkdir -p "$T"

say "1. qemu-storage-daemon (Debian's, unmodified) exports a 32 MiB disk image"
dd if=/dev/zero of="$T/disk.img" bs=1M count=32 2> /dev/null
qemu-storage-daemon \
	--blockdev driver=file,node-name=f0,filename="$T/disk.img" \
	--export type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,addr.path="$T/vb.sock",writable=on \
	> "$T/qsd.log" 2>&1 &
qsd=$!
n=0
until [ -S "$T/vb.sock" ]; do
	[ $n -lt 150 ] || fail "qemu-storage-daemon did not listen: $(cat "$T/qsd.log")"
	sleep 0.2
	n=$((n + 1))
done
say "   listening on $T/vb.sock (pid $qsd)"

say "2. ioreq-kvm-linux boots Debian's kernel (its vmlinux, unmodified) on KVM: 2 vcpus, 256 MiB"
t0=$(ms)
"$bin/ioreq-kvm-linux" --guest-id $GUEST --vcpus 2 --mem 256 \
	--kernel "$DIR/vmlinux" --initrd "$DIR/guest.cpio" \
	--append "console=ttyS0 pci=conf1 reboot=t panic=-1 rdinit=/init loglevel=5" \
	--wait-pci 00:05.0 --claim-wait 60 --timeout "${DEMO_GUEST_TIMEOUT:-420}" \
	> "$T/console.log" 2> "$T/vmm.log" &
vmm=$!

say "3. ioreq-vhost claims PCI 00:05.0 in that guest and connects to the daemon"
"$bin/ioreq-vhost" --provider vmm --guest $GUEST --sbdf 00:05.0 \
	--bar 0xe0000000 --socket "$T/vb.sock" --wait 60 > "$T/vhost.log" 2>&1 &
vhost=$!
wait_line "$T/vhost.log" 'virtio-blk at PCI' 60 ||
	fail "ioreq-vhost did not start: $(cat "$T/vhost.log")"
sed -n 's/^ioreq-vhost: /   ioreq-vhost: /p' "$T/vhost.log"

say "4. the guest boots; what it prints about its disk:"
if wait_line "$T/console.log" IOREQ-GUEST-BEGIN 400; then
	say "   (Linux reached its /init $(( ($(ms) - t0) / 1000 )) s after the VMM started)"
fi
wait $vmm
vmm_rc=$?
sed -n 's/^IOREQ-G| \(\(not \)\{0,1\}ok [0-9]* \)/   guest: \1/p; s/^IOREQ-G| \(IOREQ-VDA-MD5 .*\)/   guest: \1/p' \
	"$T/console.log"
n=0
while kill -0 $vhost 2> /dev/null && [ $n -lt 50 ]; do
	sleep 0.2
	n=$((n + 1))
done
kill $vhost 2> /dev/null
wait $vhost 2> /dev/null
io=$(cat /proc/$qsd/io 2> /dev/null)
kill $qsd 2> /dev/null
wait $qsd 2> /dev/null
sed -n 's/^ioreq-kvm-linux: \(the guest.*\|vcpu.*\)/   VMM: \1/p' "$T/vmm.log"

say "5. what reached the daemon, and what the frontend saw"
wchar=$(echo "$io" | sed -n 's/^wchar: //p')
rchar=$(echo "$io" | sed -n 's/^rchar: //p')
say "   qemu-storage-daemon read ${rchar:-?} and wrote ${wchar:-?} bytes through its file"
want=$(sed -n 's/^IOREQ-G| IOREQ-VDA-MD5 \([0-9a-f]*\).*/\1/p' "$T/console.log" | tail -n 1)
got=$(md5sum < "$T/disk.img" | cut -d' ' -f1)
say "   the image file's md5 is $got; the guest read ${want:-nothing} from /dev/vda"
stats=$(sed -n 's/^ioreq-vhost: stats: //p' "$T/vhost.log" | tail -n 1)
say "   ioreq-vhost: $stats"
notify=$(echo "$stats" | sed -n 's/.*, \([0-9]*\) notify).*/\1/p')
running=$(echo "$stats" | sed -n 's/.*(\([0-9]*\) while running.*/\1/p')
irqs=$(sed -n 's/.* \([0-9]*\) interrupts delivered.*/\1/p' "$T/vmm.log")
say "   so none of the guest's queue kicks reached ioreq-vhost (notify ${notify:-?}): each"
say "   ended at an ioeventfd in the kernel and woke the daemon, whose completions"
say "   went back through irqfds as ${irqs:-?} MSI-X interrupts; over the whole run only"
say "   ${running:-?} guest accesses reached ioreq-vhost while the driver was running"

grep -q 'IOREQ-GUEST-END rc=0' "$T/console.log" ||
	fail "the guest's checks did not all pass (console: $T/console.log)"
[ "$vmm_rc" = 0 ] || fail "ioreq-kvm-linux exited with $vmm_rc: $(cat "$T/vmm.log")"
if [ -z "$want" ] || [ "$want" != "$got" ]; then
	fail "the checksums differ"
fi
[ "$notify" = 0 ] || fail "kicks reached the frontend"
if grep -qE 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic' "$T/console.log"; then
	fail "the guest's kernel logged a splat"
fi
say "PASS"
