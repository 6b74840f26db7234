#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# intree.sh: ioreq copied into a kernel source tree and built there, as it
# would be upstream (drivers/ioreq/Kconfig, drivers/ioreq/Kbuild).
#
#   1. linux-source-6.1 ($LINUX_SRC, unpacked by deps.sh) seen through an
#      overlay mount at .build/intree/linux, whose upper layer (made afresh
#      each run) takes our changes: the shared tree is never written, and
#      kbuild's objects go to O=.build/intree/obj.  drivers/Kconfig and
#      drivers/Makefile get our two lines.
#   2. Our files copied in at their upstream places: drivers/ioreq/,
#      include/linux/ioreq_provider.h, include/uapi/linux/ioreq*.h.
#   3. x86_64_defconfig + xen.config with IOREQ, IOREQ_VMM, IOREQ_XEN and
#      IOREQ_XEN_DOUBLE set to m; fails if Kconfig did not keep them all
#      (a dependency not met).  `make modules_prepare` once; the object
#      directory is kept for the next run.
#   4. `make W=1 drivers/ioreq/`: only our objects.  Any warning or error
#      in our files fails.  Then `make headers`: the uapi headers go
#      through the kernel's headers_install checks.
#
# Exit status 0 when the build is clean.
set -euo pipefail

IOREQ_STAGE=intree
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
load_env

start=$(now)
base=$IOREQ_BUILD/intree
src=$base/linux
obj=$base/obj
log_file=$base/build.log
srcver=$(basename "$(readlink -f "$LINUX_SRC")")

# The kernel tree: an overlay of linux-source (never written) and a fresh
# upper layer holding our changes.
lower=$(readlink -f "$LINUX_SRC")
mkdir -p "$src"
if mountpoint -q "$src"; then
	umount "$src"
fi
rm -rf "$base/upper" "$base/work"
mkdir -p "$base/upper" "$base/work"
mount -t overlay overlay \
	-o "lowerdir=$lower,upperdir=$base/upper,workdir=$base/work" "$src" ||
	die "cannot mount an overlay of $lower on $src (make check runs as root)"
trap 'umount "$src" 2>/dev/null || true' EXIT
# source our Kconfig as the last entry of the Device Drivers menu
last=$(grep -n '^endmenu' "$src/drivers/Kconfig" | tail -n 1 | cut -d: -f1)
[ -n "$last" ] || die "no endmenu in drivers/Kconfig"
sed -i "${last}i source \"drivers/ioreq/Kconfig\"\n" "$src/drivers/Kconfig"
printf 'obj-$(CONFIG_IOREQ)\t\t+= ioreq/\n' >> "$src/drivers/Makefile"

# Our files, afresh each run.
cp -r "$IOREQ_ROOT/drivers/ioreq" "$src/drivers/ioreq"
find "$src/drivers/ioreq" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' \
	-o -name '.*.cmd' -o -name 'modules.order' \) -delete
cp "$IOREQ_ROOT/include/linux/ioreq_provider.h" "$src/include/linux/"
cp "$IOREQ_ROOT"/uapi/linux/ioreq*.h "$src/include/uapi/linux/"

kmake()
{
	make -C "$src" O="$obj" -j"$NPROC" "$@"
}

options="IOREQ IOREQ_VMM IOREQ_XEN IOREQ_XEN_DOUBLE"
: > "$log_file"
if [ ! -f "$obj/.ioreq-prepared" ]; then
	t=$(now)
	log "configuring (x86_64_defconfig xen.config) and make modules_prepare in $obj"
	rm -rf "$obj"
	mkdir -p "$obj"
	kmake x86_64_defconfig xen.config >> "$log_file" 2>&1 ||
		die "configuration failed, log: $log_file"
	cp "$obj/.config" "$obj/.config.base"
fi
cp "$obj/.config.base" "$obj/.config.new"
for o in $options; do
	"$src/scripts/config" --file "$obj/.config.new" --module "$o"
done
# Only a changed configuration is written, so that kbuild rebuilds nothing
# it need not.
if ! cmp -s "$obj/.config.new" "$obj/.config.want" 2>/dev/null; then
	cp "$obj/.config.new" "$obj/.config"
	cp "$obj/.config.new" "$obj/.config.want"
	kmake olddefconfig >> "$log_file" 2>&1 ||
		die "olddefconfig failed, log: $log_file"
fi
for o in $options; do
	grep -qx "CONFIG_$o=m" "$obj/.config" ||
		die "CONFIG_$o is not m after olddefconfig: a dependency of drivers/ioreq/Kconfig is not met"
done
if [ ! -f "$obj/.ioreq-prepared" ]; then
	kmake modules_prepare >> "$log_file" 2>&1 ||
		die "make modules_prepare failed, log: $log_file"
	touch "$obj/.ioreq-prepared"
	log "configured and prepared in $(( $(now) - t ))s"
fi

t=$(now)
rm -rf "$obj/drivers/ioreq"
rc=0
kmake W=1 drivers/ioreq/ > "$base/ioreq.log" 2>&1 || rc=$?
kmake headers >> "$base/ioreq.log" 2>&1 || rc=$?
sed -i "s|$src/||g; s|\.\./drivers/|drivers/|g" "$base/ioreq.log"
cat "$base/ioreq.log" >> "$log_file"
# Compiler and kernel-doc diagnostics in our files, and headers_install's
# complaints about our uapi headers.
diags=$(grep -E '(drivers/ioreq|include/(uapi/)?linux/ioreq)[^:]*:[0-9]+(:[0-9]+)?: (warning|error)' \
	"$base/ioreq.log" || true)
diags+=$(grep -E 'ioreq' "$base/ioreq.log" | grep -vE '^  (CC|LD|HDRINST|MODPOST|AR|CHK|UPD)|^make' || true)
built=$(find "$obj/drivers/ioreq" -name '*.o' | wc -l)
if [ "$rc" -ne 0 ]; then
	log "FAILED (exit $rc) in $(( $(now) - start ))s, log: $log_file"
	grep -E 'error|warning' "$base/ioreq.log" | head -n 60 | sed 's/^/    /' || true
	exit 1
elif [ -n "$diags" ]; then
	log "FAILED: $(printf '%s\n' "$diags" | wc -l) warning(s) in our files (log: $log_file):"
	grep -E -A3 '(drivers/ioreq|include/(uapi/)?linux/ioreq)[^:]*:[0-9]+(:[0-9]+)?: (warning|error)' \
		"$base/ioreq.log" | head -n 120 | sed 's/^/    /' || true
	exit 1
fi
log "W=1 build of drivers/ioreq/ in $srcver clean ($built objects, $(( $(now) - t ))s), uapi headers installed"
log "passed in $(( $(now) - start ))s"
