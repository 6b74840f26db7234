#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench's Xen virtio rows, sourced by scripts/bench.sh, or run alone
# (it then builds the modules and tools for the 6.1 kernel first): fio in
# an HVM guest against three disks of identical images in one boot
# (selftests/ioreq/xen/scenarios/vbench.*): ours (ioreq-vhost +
# qemu-storage-daemon), qemu-xen's built-in virtio-blk-pci
# (device_model_args) and xen-blkfront/blkback, in alternating turns;
# each row the median [min-max] of the per-round ratios
# (scripts/bench-xen-virtio.py).  Sets xen_virtio_rows (the key=value
# results) and rc=1 on failure.  BENCH_XEN_VIRTIO=0 leaves it out;
# BENCH_XEN_VIRTIO_ROUNDS (default 3) rounds, BENCH_XEN_VIRTIO_RUNTIME
# (default 2) seconds per fio job; XEN_SMP (default 2) the emulated CPUs.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	IOREQ_STAGE=bench
	. "$(dirname "$0")/lib.sh"
	k=61
	"$IOREQ_ROOT/scripts/deps.sh"
	load_env
	build_modules_and_tools "$k"
	rc=0
	xen_virtio_alone=1
fi

# xen_virtio_tools DIR: Debian's fio with the libraries ldd lists, flat
# in DIR/lib, as an ext2 image DIR.img (the guest's read-only xvde).
xen_virtio_tools()
{
	local dir=$1 lib kb

	rm -rf "$dir" "$dir.img"
	mkdir -p "$dir/lib"
	cp -L "$(command -v fio)" "$dir/fio"
	for lib in $(ldd "$dir/fio" | grep -o '/[^ ]*'); do
		cp -L "$lib" "$dir/lib/$(basename "$lib")"
	done
	kb=$(du -sk "$dir" | cut -f1)
	mke2fs -q -F -t ext2 -m 0 -d "$dir" "$dir.img" "$((kb * 5 / 4 + 4096))k" > /dev/null
}

# xen_virtio_boot: one boot; its report in $IOREQ_BUILD/xen/vbench.
xen_virtio_boot()
{
	local d=$IOREQ_BUILD/xen/vbench-files kr
	local xo=$IOREQ_BUILD/xen/vbench sc=$IOREQ_ROOT/selftests/ioreq/xen/scenarios

	kr=$(kvar KROOT "$k")
	# No report of an earlier boot can pass for this one's.
	rm -rf "$xo"
	mkdir -p "$d"
	xen_virtio_tools "$d/tools" || return 1
	dd if=/dev/zero of="$d/qdisk.img" bs=1M count=16 2> /dev/null
	cp "$d/qdisk.img" "$d/xbd.img"
	cat > "$d/guest.cfg" <<-'CFG'
	disk = [ 'format=raw, vdev=xvde, access=ro, backendtype=phy, script=/vbench/block, target=/vbench/tools.img',
	         'format=raw, vdev=xvdf, access=rw, backendtype=phy, script=/vbench/block, target=/vbench/xbd.img' ]
	device_model_args = [ '-drive', 'if=none,id=qd,format=raw,file=/vbench/qdisk.img',
	                      '-device', 'virtio-blk-pci,drive=qd,addr=0x8' ]
	CFG
	# xen_emul_unplug=unnecessary: the guest uses its PV drivers
	# without asking qemu-xen to unplug its emulated disks; Debian's
	# qemu-xen (7.2) unplugs virtio-blk-pci with them (PCI class
	# storage), and the guest's PCI scan then lacks 00:08.0.
	log "Xen virtio: booting Xen 4.17, a PV dom0 and an HVM guest (1 vcpu) with three disks, fio in turns"
	VM_SMP=${XEN_SMP:-2} "$IOREQ_ROOT/selftests/ioreq/xen/xen-vm.sh" --scenario vbench \
		--guest-type hvm --vcpus 1 \
		--kernel "$(kvar KIMG "$k")" --kroot "$kr" \
		--module "$kb/drivers/ioreq/ioreq.ko" \
		--module "$kb/drivers/ioreq/xen/ioreq_xen.ko" \
		--module "$(kmod_paths_one "$kr" loop)" \
		--module "$(kmod_paths_one "$kr" xen-blkback)" \
		--add "$tools_out/ioreq-backend" --add "$tools_out/ioreq-vhost" \
		--add "$(command -v qemu-storage-daemon)" \
		--add /usr/bin/xenstore-read --add /usr/bin/xenstore-write \
		--add "$d/tools.img:/vbench/tools.img" \
		--add "$d/qdisk.img:/vbench/qdisk.img" \
		--add "$d/xbd.img:/vbench/xbd.img" \
		--add "$sc/vbench-block.sh:/vbench/block" \
		--guest-cfg "$d/guest.cfg" \
		--guest-kmod virtio_pci --guest-kmod virtio_blk \
		--guest-kmod ext4 --guest-kmod xen-blkfront \
		--guest-append xen_emul_unplug=unnecessary \
		--env "VBENCH_ROUNDS=${BENCH_XEN_VIRTIO_ROUNDS:-3}" \
		--env "VBENCH_RUNTIME=${BENCH_XEN_VIRTIO_RUNTIME:-2}" \
		--timeout "${BENCH_XEN_VIRTIO_TIMEOUT:-3600}" --guest-timeout 3000 \
		--out "$xo" --name xen-vbench > "$xo.log" 2>&1
}

# kmod_paths_one KROOT NAME: the kernel package's module NAME (.ko).
kmod_paths_one()
{
	find "$1/lib/modules" -name "$2.ko" | head -n 1
}

if [ "${BENCH_XEN_VIRTIO:-1}" = 1 ] && [ "$k" = 61 ] && command -v fio > /dev/null &&
   [ -x "$tools_out/ioreq-vhost" ]; then
	mkdir -p "$IOREQ_BUILD/xen"
	# Other guests on the machine make every row noise-bound: say so.
	xen_virtio_load="load $(cut -d' ' -f1-3 /proc/loadavg), $(pgrep -c qemu-system || true) other QEMU process(es)"
	log "Xen virtio: host $xen_virtio_load before the boot"
	if ! xen_virtio_boot; then
		log "Xen virtio bench FAILED, log: $IOREQ_BUILD/xen/vbench.log"
		tail -n 30 "$IOREQ_BUILD/xen/vbench.log" | sed 's/^/    /'
		rc=1
	fi
	# The turns that completed count even in a failed boot (the
	# harness's verdict above says why it failed).
	if grep -q 'vbench: turn=' "$IOREQ_BUILD/xen/vbench/ktap.log" 2> /dev/null; then
		xen_virtio_rows=$(python3 "$IOREQ_ROOT/scripts/bench-xen-virtio.py" \
			"$IOREQ_BUILD/xen/vbench/ktap.log") || rc=1
		printf '%s\n' "$xen_virtio_rows" | grep -v '^xen_virtio_' || true
		xen_virtio_rows+=$'\n'"xen_virtio_host=$xen_virtio_load"
	fi
else
	log "no Xen virtio rows: BENCH_XEN_VIRTIO=0, not the 6.1 kernel, no fio or no ioreq-vhost"
fi

if [ -n "${xen_virtio_alone:-}" ]; then
	mkdir -p "$IOREQ_BUILD/bench"
	printf '%s\n' "$xen_virtio_rows" | grep '^xen_virtio_' > "$IOREQ_BUILD/bench/xen-virtio.txt" || true
	log "results: $IOREQ_BUILD/bench/xen-virtio.txt"
	exit "$rc"
fi
