#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: everything `make check` does, in order:
#
#   deps      scripts/deps.sh (packages, headers, guest kernels)
#   lint      scripts/lint.sh (W=1 + sparse for each kernel, checkpatch,
#             kernel-doc)
#   intree    scripts/intree.sh: the tree copied into linux-source-6.1 and
#             drivers/ioreq/ built there with W=1 (IOREQ_INTREE=0: not)
#   build     the modules for each kernel, each in its own copy of the
#             tree under .build/kbuild/KVER/
#   selftests make -C selftests/ioreq (static programs) into
#             .build/selftests/
#   vm        for each kernel: boot it under QEMU with the modules and the
#             selftests (selftests/ioreq/vm/vmtest.sh)
#   pkg       scripts/pkg-check.sh: make deb, dkms build for each kernel in
#             a throwaway DKMS tree, the installed tools in a 6.1 guest
#   kvm       the 6.1 kernel again, as a KVM host with one CPU (KVM_SMP):
#             tools/kvm-vmm's guest served by ioreq-backend, then Linux
#             guests whose virtio devices ioreq-vhost serves
#             (selftests/ioreq/kvm/kvm-vm.sh, IOREQ_KVM_VIRTIO)
#   xen       Xen 4.17 with the 6.1 kernel as PV dom0 and a PVH guest, one
#             boot per scenario of selftests/ioreq/xen/scenarios, the guest
#             served by the same ioreq-backend (selftests/ioreq/xen/xen-vm.sh);
#             then some scenarios again with a PVH dom0
#   xen-arm   Xen 4.17 on Arm under qemu-system-aarch64 with arm64 dom0 and
#             guest (scripts/xen-arm.sh builds Xen once), the modules,
#             ioreq-backend, ioreq-vhost and ioreq_xen_dom0_test
#             cross-built (IOREQ_XEN_ARM=0: not; XEN_ARM_SCENARIOS,
#             default "scratch vcpus kill device virtio")
#
# A failed stage counts as one failed case and the stages after it still
# run where they can, so that one run shows every problem.  The last line
# is the total over both kernels, "check: N passed, N failed, N skipped,
# N boots retried" (a hypervisor lane's boot repeated after an emulator
# failure, each said with its cause when it happens and counted by cause
# on the line before); the exit status is non-zero if anything failed.
#
# Environment: VM_TIMEOUT (seconds per guest, default 1200),
# IOREQ_KERNELS (default "61 612 new", new being the newest kernel Debian
# ships), IOREQ_KVM=0 / IOREQ_XEN=0 to leave out the KVM / Xen lane,
# IOREQ_INTREE=0 the in-tree build, IOREQ_PKG=0 the packages, XEN_SCENARIOS
# (default: the nine x86 PVH-guest ones), XEN_PVH_SCENARIOS (default: scratch rep device;
# empty for none), XEN_HVM_SCENARIOS (default: "virtio virtio-kill
# virtio-restart", one HVM boot each; empty for none) and XEN_SMP (the
# Xen machine's CPUs: default 1, 2 for the HVM guest's).
set -euo pipefail

IOREQ_STAGE=check
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

start=$(now)
passed=0
failed=0
skipped=0
notes=()

# stage_failed WHAT: one failed case for a stage that did not complete.
stage_failed()
{
	failed=$((failed + 1))
	notes+=("$1")
}

"$IOREQ_ROOT/scripts/deps.sh"
load_env

"$IOREQ_ROOT/scripts/lint.sh" || stage_failed "lint"
if [ "${IOREQ_INTREE:-1}" = 1 ]; then
	"$IOREQ_ROOT/scripts/intree.sh" || stage_failed "in-tree build"
fi

# The debug lane: a KASAN + lockdep + kmemleak kernel built from
# linux-source-6.1 (cached by scripts/debug-kernel.sh), tested like the
# others.  IOREQ_DEBUG=0 leaves it out.
if [ "${IOREQ_DEBUG:-1}" = 1 ]; then
	IOREQ_STAGE=debug-kernel
	t=$(now)
	if dbg=$("$IOREQ_ROOT/scripts/debug-kernel.sh"); then
		log "ready in $(( $(now) - t ))s: $dbg"
		KVER_dbg="$(make -s -C "$dbg" kernelrelease)-debug"
		KDIR_dbg=$dbg
		KIMG_dbg=$dbg/arch/x86/boot/bzImage
		KROOT_dbg=
		IOREQ_KERNELS="$IOREQ_KERNELS dbg"
	else
		stage_failed "debug kernel build"
	fi
fi

IOREQ_STAGE=build
built=()
for k in $IOREQ_KERNELS; do
	kver=$(kvar KVER "$k")
	dir=$IOREQ_BUILD/kbuild/$kver
	t=$(now)
	log "$kver: make -C $(kvar KDIR "$k") M=$dir modules"
	if build_modules "$k" "$dir"; then
		log "$kver: built in $(( $(now) - t ))s"
		built+=("$k")
	else
		log "$kver: build FAILED, log: $dir.log"
		grep -E 'error|warning' "$dir.log" | head -n 40 | sed 's/^/    /' || true
		stage_failed "build for $kver"
	fi
done

IOREQ_STAGE=selftests
t=$(now)
ksft_out=$IOREQ_BUILD/selftests
ksft_args=(-C "$IOREQ_ROOT/selftests/ioreq" OUTPUT="$ksft_out"
	   KSFT_DIR="$LINUX_SRC/tools/testing/selftests")
tests=()
extras=()
if [ ! -f "$IOREQ_ROOT/selftests/ioreq/Makefile" ]; then
	log "no selftests/ioreq/Makefile: the guests only load and unload the modules"
else
	rm -rf "$ksft_out"
	mkdir -p "$ksft_out"
	log "make ${ksft_args[*]}"
	if make -j"$NPROC" "${ksft_args[@]}" > "$ksft_out.log" 2>&1; then
		# The programs, as lib.mk lists them for run_kselftest.sh.
		names=$(make -s --no-print-directory "${ksft_args[@]}" emit_tests 2>/dev/null |
			sed -n 's/^[^:]*://p' || true)
		if [ -z "$names" ]; then
			names=$(find "$ksft_out" -maxdepth 1 -type f -perm -u+x -printf '%f\n' | sort)
		fi
		for n in $names; do
			if [ -f "$ksft_out/$n" ]; then
				tests+=("$ksft_out/$n")
			elif [ -f "$IOREQ_ROOT/selftests/ioreq/$n" ]; then
				tests+=("$IOREQ_ROOT/selftests/ioreq/$n")
			else
				log "$n: listed but not built"
				stage_failed "selftest $n missing"
			fi
		done
		# Other programs built beside them (TEST_GEN_PROGS_EXTENDED)
		# go into the guest too, for tests that run them.
		for f in "$ksft_out"/*; do
			if [ ! -f "$f" ] || [ ! -x "$f" ]; then
				continue
			fi
			case " ${tests[*]} " in *" $f "*) continue ;; esac
			extras+=(--add "$f:/tests/$(basename "$f")")
		done
		# ioreq_vhost_test's daemons: Debian's qemu-storage-daemon
		# and virtiofsd (qemu-system-common), with the libraries ldd
		# lists.
		qsd=$(command -v qemu-storage-daemon || true)
		[ -z "$qsd" ] || extras+=(--add "$qsd")
		vfsd=/usr/lib/qemu/virtiofsd
		[ ! -x "$vfsd" ] || extras+=(--add "$vfsd:$vfsd")
		log "built ${#tests[@]} programs in $(( $(now) - t ))s:" \
			"$(for f in "${tests[@]}"; do basename "$f"; done | tr '\n' ' ')"
	else
		log "build FAILED, log: $ksft_out.log"
		grep -E 'error|warning|Error' "$ksft_out.log" | head -n 40 | sed 's/^/    /' || true
		stage_failed "selftests build"
	fi
fi

IOREQ_STAGE=vm
# add_result OUT LABEL: add a guest's counts (OUT/result) to the totals.
guests=()
# Seconds each boot took (from the last boot's end or the stage before),
# printed on one line at the end: what CI's time went on.
spent=()
last_end=
add_result()
{
	local t

	t=$(now)
	spent+=("$2 $(( t - ${last_end:-$start} ))s")
	last_end=$t
	guests+=("$1")
	if [ -f "$1/result" ]; then
		PASSED=0 FAILED=1 SKIPPED=0
		# shellcheck disable=SC1091
		. "$1/result"
		passed=$((passed + PASSED))
		failed=$((failed + FAILED))
		skipped=$((skipped + SKIPPED))
		[ "$FAILED" = 0 ] || notes+=("$2: $FAILED failed")
	else
		stage_failed "guest $2 did not run"
	fi
}

settings=()
[ ! -f "$IOREQ_ROOT/selftests/ioreq/settings" ] ||
	settings=(--settings "$IOREQ_ROOT/selftests/ioreq/settings")
test_args=()
for f in "${tests[@]}"; do
	test_args+=(--test "$f")
done
for k in "${built[@]}"; do
	kver=$(kvar KVER "$k")
	dir=$IOREQ_BUILD/kbuild/$kver
	out=$IOREQ_BUILD/vm/$kver
	mod_args=()
	for m in $IOREQ_MODULES; do
		mod_args+=(--module "$dir/$m")
	done
	# The Xen provider's page protocol on its hypervisor double: the
	# suites' xen_double variant and ioreq_xen_double_test.
	mod_args+=(--module "$dir/drivers/ioreq/xen/double/ioreq_xen_double.ko")
	# The Xen provider goes in unloaded: outside Xen it must refuse.
	xen_ko=$dir/drivers/ioreq/xen/ioreq_xen.ko
	[ ! -f "$xen_ko" ] || mod_args+=(--add "$xen_ko:/lib/ioreq/ioreq_xen.ko")
	kroot_args=()
	[ -z "$(kvar KROOT "$k")" ] || kroot_args=(--kroot "$(kvar KROOT "$k")")
	mem=1024
	append=slab_nomerge
	# KASAN's shadow memory wants more room than a plain kernel.  And
	# 4-level paging: with QEMU's LA57 the debug kernel once reported a
	# KASAN wild-memory-access at boot, in handle_edge_irq() taking an
	# irq_desc lock in the 5-level direct map (ff11...), while
	# identify_cpu() ran, before any module of ours was loaded.
	[ "$k" != dbg ] || { mem=2048; append="$append no5lvl"; }
	log "$kver: booting $(kvar KIMG "$k")"
	VM_MEM=$mem "$IOREQ_ROOT/selftests/ioreq/vm/vmtest.sh" \
		--kernel "$(kvar KIMG "$k")" "${kroot_args[@]}" \
		--name "$kver" --out "$out" --append "$append" \
		--timeout "${VM_TIMEOUT:-2400}" "${mod_args[@]}" \
		"${settings[@]}" "${test_args[@]}" "${extras[@]}" || true
	add_result "$out" "$kver"
done

# The packages: make deb (lintian without errors), dkms build of what
# ioreq-dkms installs for each kernel, and the installed ioreq-tools serving
# a guest on DKMS's modules (scripts/pkg-check.sh).  IOREQ_PKG=0: not.
if [ "${IOREQ_PKG:-1}" = 1 ]; then
	IOREQ_STAGE=pkg
	pkg_kernels=
	for k in $IOREQ_KERNELS; do
		[ "$k" = dbg ] || pkg_kernels="$pkg_kernels $k"
	done
	mkdir -p "$IOREQ_BUILD"
	IOREQ_KERNELS=${pkg_kernels# } "$IOREQ_ROOT/scripts/pkg-check.sh" |
		tee "$IOREQ_BUILD/pkg-check.log" || true
	pkg_line=$(tail -n 1 "$IOREQ_BUILD/pkg-check.log")
	if [[ $pkg_line =~ ^pkg:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		skipped=$((skipped + BASH_REMATCH[3]))
		[ "${BASH_REMATCH[2]}" = 0 ] || notes+=("pkg: ${BASH_REMATCH[2]} failed")
	else
		stage_failed "packages (scripts/pkg-check.sh did not finish)"
	fi
fi

# ---- the lanes on real hypervisors (6.1 only) ----------------------------
# The same ioreq-backend binary serves a KVM guest (tools/kvm-vmm, KVM nested
# under QEMU TCG: selftests/ioreq/kvm/kvm-vm.sh) and a PVH guest of a real
# Xen 4.17 with a PV dom0 (selftests/ioreq/xen/xen-vm.sh, one boot per
# scenario).  IOREQ_KVM=0 and IOREQ_XEN=0 leave them out.
XEN_SCENARIOS=${XEN_SCENARIOS:-unclaimed scratch rep vcpus device kill release reattach virtio-pvh}
XEN_PVH_SCENARIOS=${XEN_PVH_SCENARIOS-scratch rep device}
XEN_HVM_SCENARIOS=${XEN_HVM_SCENARIOS-virtio virtio-kill virtio-restart}
lane_tools=
xen_retries=0
# Boots repeated after an emulator failure, by cause.
declare -A retried=()
if [[ " ${built[*]} " == *" 61 "* ]] &&
   { [ "${IOREQ_KVM:-1}" = 1 ] || [ "${IOREQ_XEN:-1}" = 1 ]; }; then
	IOREQ_STAGE=tools
	lane_tools=$IOREQ_BUILD/tools-check
	log "make -C tools OUTPUT=$lane_tools"
	if ! make -j"$NPROC" -C "$IOREQ_ROOT/tools" OUTPUT="$lane_tools" \
	     > "$lane_tools.log" 2>&1; then
		log "build FAILED, log: $lane_tools.log"
		tail -n 40 "$lane_tools.log" | sed 's/^/    /'
		stage_failed "tools build"
		lane_tools=
	fi
fi
# irqs_off_everywhere DUMP: vmtest.sh's monitor dump of a guest that timed
# out shows every vcpu running (not halted) with EFLAGS.IF clear.
irqs_off_everywhere()
{
	local n=0 line rfl
	[ -s "$1" ] || return 1
	while read -r line; do
		case $line in
		RIP=*) ;;
		*) continue ;;
		esac
		rfl=${line#*RFL=}
		rfl=${rfl%% *}
		case $line in *HLT=0*) ;; *) return 1 ;; esac
		[ $(( 0x$rfl & 0x200 )) = 0 ] || return 1
		n=$((n + 1))
	done < "$1"
	[ "$n" -gt 0 ]
}

# kvm_boot OUT TAG TIMEOUT [kvm-vm.sh ARGS...]: one boot of the KVM lane,
# counted as TAG.  The emulator once lost an IPI here: KVM's teardown of
# the last VM (kvm_destroy_vm, disabling SVM on each CPU) waited for the
# other CPU for ever, a soft lockup in smp_call_function_many_cond()
# until the timeout (seen once, 2026-12-06; the same build passed three
# times after).  Once (2026-12-07, fresh clone) the whole guest went
# silent between two cases with every vcpu spinning with interrupts off
# (the monitor's dump: one vcpu in __schedule, the other at asm_exc_int3,
# a kernel text patch's breakpoint), so no lockup detector could speak;
# the lane had passed alone and in 120 fast-path runs.  Such a boot is
# tried once more, and each retry is counted by cause on check's last
# line; the virtio boot (CI, 2026-12-07: soft lockups on both vcpus
# about 22 s after its first inner VM started, 2 cases failed) is
# treated the same way.  Each of the three involved both of the guest's
# CPUs, so the KVM host guest now has one (KVM_SMP, default 1; the inner
# guests keep their two vcpus, as threads on it): neither boot took
# longer than with two (Documentation/virt/ioreq/kvm.rst).
kvm_boot()
{
	local out=$1 tag=$2 limit=$3 try why cause n

	shift 3
	for try in 1 2; do
		VM_SMP=${KVM_SMP:-1} \
		"$IOREQ_ROOT/selftests/ioreq/kvm/kvm-vm.sh" "$@" \
			--kbuild "$IOREQ_BUILD/kbuild/$kver" --tools "$lane_tools" \
			--out "$out" --timeout "$limit" || true
		[ "$try" = 1 ] && [ -f "$out/failures" ] &&
			grep -q 'did not finish within' "$out/failures" ||
			break
		if grep -q 'RIP: .*smp_call_function_many_cond' "$out/failures"; then
			why="hung in a cross-CPU call (the emulator lost an IPI)"
			cause=lost-ipi
		elif irqs_off_everywhere "$out/monitor.txt"; then
			why="went silent with interrupts off on every vcpu"
			cause=irqs-off
		else
			break
		fi
		log "$tag: the guest $why; console and vcpu dump kept in $out.try1.*: trying again"
		retried[$cause]=$(( ${retried[$cause]:-0} + 1 ))
		cp "$out/console.log" "$out.try1.console.log"
		cp "$out/monitor.txt" "$out.try1.monitor.txt" 2> /dev/null || true
	done
	# Inner guests booted again (ioreq_kvm_virtio.sh's early_reset).
	n=$(grep -c 'IOREQ-INNER-RETRY' "$out/ktap.log" 2> /dev/null) || true
	[ "${n:-0}" = 0 ] ||
		retried[inner-reset]=$(( ${retried[inner-reset]:-0} + n ))
	add_result "$out" "$tag"
}

kver=$(kvar KVER 61)
if [ -n "$lane_tools" ] && [ "${IOREQ_KVM:-1}" = 1 ]; then
	IOREQ_STAGE=kvm
	kvm_boot "$IOREQ_BUILD/vm/kvm-$kver" "kvm-$kver" "${VM_TIMEOUT:-600}"
	# An unmodified Linux guest of tools/kvm-vmm/ioreq-kvm-linux whose
	# virtio devices ioreq-vhost serves (IOREQ_KVM_VIRTIO, default
	# blk,kill,restart,fs; 0 leaves this boot out).  About 2 minutes
	# on an idle 2-core host; the limit (1500 s until 2026-12-07) leaves
	# room for a host several times slower.
	if [ "${IOREQ_KVM_VIRTIO:-}" != 0 ]; then
		kvm_boot "$IOREQ_BUILD/vm/kvm-virtio-$kver" "kvm-virtio-$kver" \
			"${VM_TIMEOUT:-900}" --virtio
	fi
fi
if [ -n "$lane_tools" ] && [ "${IOREQ_XEN:-1}" = 1 ]; then
	IOREQ_STAGE=xen
	kb=$IOREQ_BUILD/kbuild/$kver
	# The "device" scenario's dom0 side runs it (the errno checks).
	dom0_tests=()
	[ ! -x "$ksft_out/ioreq_xen_dom0_test" ] ||
		dom0_tests=(--add "$ksft_out/ioreq_xen_dom0_test")
	# Each scenario on a PV dom0, then XEN_PVH_SCENARIOS again on a PVH
	# dom0 (auto-translated, as on Arm: the provider's other mapping path).
	runs=()
	for s in $XEN_SCENARIOS; do runs+=("pv:$s"); done
	for s in $XEN_PVH_SCENARIOS; do runs+=("pvh:$s"); done
	# Then XEN_HVM_SCENARIOS: an HVM guest (qemu-xen as its device
	# model, hvmloader, SeaBIOS) on a PV dom0.  Its boot takes many
	# minutes under nested TCG, so it gets long limits and one retry.
	for s in $XEN_HVM_SCENARIOS; do runs+=("hvm:$s"); done
	for run in "${runs[@]}"; do
		mode=${run%%:*}
		s=${run#*:}
		tag=$s
		[ "$mode" = pv ] || tag=$mode-$s
		xen_out=$IOREQ_BUILD/xen/$tag
		dom0=$mode
		guest=pvh
		tries=4
		extra=()
		# The emulated machine's CPUs (XEN_SMP, default 1): with one,
		# Xen sends no IPI between CPUs for the emulator to lose (the
		# machine stops), and every hand-over between dom0 and the
		# guest stays in one QEMU thread (Documentation/virt/ioreq/
		# xen.rst, "Boots under the emulator").  The guest keeps its
		# two vcpus.
		smp=${XEN_SMP:-1}
		if [ "$mode" = hvm ]; then
			dom0=pv
			guest=hvm
			tries=2
			# One vcpu: the one HVM boot with two here died of a
			# triple fault on the second vcpu (the emulator's, as
			# the PVH guests' are); the scenario needs no more.
			extra=(--guest-type hvm --vcpus 1 --timeout 3600
			       --guest-timeout 2400)
			# Measured only with two CPUs so far.
			smp=${XEN_SMP:-2}
		fi
		scen=$s
		case $run in
		hvm:virtio*)
			# ioreq-vhost serves the guest's own virtio_blk from
			# Debian's unmodified qemu-storage-daemon, and in
			# "virtio" its virtiofs from Debian's virtiofsd too;
			# "virtio-kill" is the disk alone, its daemon killed
			# with SIGKILL and restarted while the guest writes;
			# "virtio-restart" (its own scenario) kills and
			# restarts ioreq-vhost itself.
			[ "$s" = virtio-restart ] || scen=virtio
			extra+=(--add "$lane_tools/ioreq-vhost"
				--guest-kmod virtio_pci --guest-kmod virtio_blk
				--guest-kmod ext4)
			[ ! -x /usr/bin/qemu-storage-daemon ] ||
				extra+=(--add /usr/bin/qemu-storage-daemon)
			if [ "$s" = virtio ]; then
				extra+=(--guest-kmod virtiofs)
				[ ! -x /usr/lib/qemu/virtiofsd ] ||
					extra+=(--add /usr/lib/qemu/virtiofsd:/usr/lib/qemu/virtiofsd)
			elif [ "$s" = virtio-kill ]; then
				extra+=(--env VIRTIO_FS=0 --env VIRTIO_KILL=1)
			fi ;;
		pv:virtio-pvh)
			# "virtio" on a PVH guest: the same ioreq-vhost and
			# daemons, no device model, no firmware.  Linux
			# enumerates by configuration mechanism 1 alone
			# (pci=noacpi,conf1; the hook answers port 0xcf8)
			# and takes MSI-X natively.
			scen=virtio
			extra+=(--add "$lane_tools/ioreq-vhost"
				--guest-kmod virtio_pci --guest-kmod virtio_blk
				--guest-kmod ext4 --guest-kmod virtiofs
				--guest-append "pci=noacpi,conf1"
				--guest-timeout 900 --timeout 1500)
			[ ! -x /usr/bin/qemu-storage-daemon ] ||
				extra+=(--add /usr/bin/qemu-storage-daemon)
			[ ! -x /usr/lib/qemu/virtiofsd ] ||
				extra+=(--add /usr/lib/qemu/virtiofsd:/usr/lib/qemu/virtiofsd) ;;
		esac
		for try in $(seq "$tries"); do
			log "scenario $tag: booting Xen, a $dom0 dom0 and a $guest guest"
			VM_SMP=$smp "$IOREQ_ROOT/selftests/ioreq/xen/xen-vm.sh" --scenario "$scen" \
				--dom0 "$dom0" \
				--kernel "$(kvar KIMG 61)" --kroot "$(kvar KROOT 61)" \
				--module "$kb/drivers/ioreq/ioreq.ko" \
				--module "$kb/drivers/ioreq/xen/ioreq_xen.ko" \
				--add "$lane_tools/ioreq-backend" \
				"${dom0_tests[@]}" "${extra[@]}" \
				--out "$xen_out" --name "xen-$tag" || true
			# Another boot (at most three; one for an HVM guest),
			# said out loud, only when the emulator broke: Xen saw
			# the guest triple-fault
			# (about one boot in five here under TCG's nested SVM,
			# as Xen resumes the guest after an I/O; the dumped
			# state at times holding Xen's own RIP and CS), or the
			# whole machine stopped (xen-vm.sh's stall watch).  Any
			# other failure counts at once, a guest too slow to end
			# in time included (Documentation/virt/ioreq/xen.rst,
			# "Boots under the emulator").
			[ "$try" != "$tries" ] && ! grep -qs '^FAILED=0' "$xen_out/result" || break
			if grep -qs 'Triple fault' "$xen_out/console.log"; then
				log "scenario $tag: the $guest guest triple-faulted" \
				    "(QEMU TCG nested SVM): booting it again"
				grep -h -A4 'Triple fault' "$xen_out/console.log" |
					sed 's/^/    /' || true
				retried[triple-fault]=$(( ${retried[triple-fault]:-0} + 1 ))
			elif [ -s "$xen_out/stalled" ]; then
				log "scenario $tag: $(cat "$xen_out/stalled"): booting it again"
				retried[stall]=$(( ${retried[stall]:-0} + 1 ))
			else
				break
			fi
			rm -rf "$xen_out.try$try"
			mv "$xen_out" "$xen_out.try$try"
			xen_retries=$((xen_retries + 1))
		done
		add_result "$xen_out" "xen-$tag"
	done
	[ "$xen_retries" = 0 ] ||
		log "$xen_retries scenario boot(s) repeated after an emulator failure"
fi

# Xen 4.17 on Arm: qemu-system-aarch64 (TCG, virt, GICv3) boots the Xen of
# scripts/xen-arm.sh (built once with IOREQ and cached), Debian's arm64 6.1
# kernel as dom0 and guest, with our modules, ioreq-backend and
# ioreq_xen_dom0_test cross-built for arm64 (xen-vm.sh --arch arm64, one
# boot per scenario, their NAME.arm64.* files); "virtio" also ioreq-vhost
# --mmio with Debian's arm64 qemu-storage-daemon.  About 1-1.5 min a boot
# under load; the first run also builds Xen (1-4 min).  IOREQ_XEN_ARM=0
# leaves the lane out; XEN_ARM_SCENARIOS picks the scenarios.
XEN_ARM_SCENARIOS=${XEN_ARM_SCENARIOS-scratch vcpus kill device virtio}
if [ "${IOREQ_XEN_ARM:-1}" = 1 ] && [ -n "$XEN_ARM_SCENARIOS" ]; then
	IOREQ_STAGE=xen-arm
	arm=(ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-)
	akb=$IOREQ_BUILD/kbuild/arm64
	aout=$IOREQ_BUILD/arm64-bin
	arm_ok=
	if ! adir=$("$IOREQ_ROOT/scripts/xen-arm.sh"); then
		stage_failed "Xen for arm64"
	else
		# shellcheck disable=SC1091
		. "$adir/arm64.env"
		# shellcheck disable=SC2034 # read by build_modules (kvar)
		KDIR_arm64=$KDIR_ARM
		log "$KVER_ARM: make -C $KDIR_ARM M=$akb ${arm[*]} modules"
		mkdir -p "$aout"
		if ! build_modules arm64 "$akb" "${arm[@]}"; then
			grep -E 'error|warning' "$akb.log" | head -n 40 | sed 's/^/    /' || true
			stage_failed "arm64 module build"
		elif ! make -j"$NPROC" -C "$IOREQ_ROOT/tools" CC=aarch64-linux-gnu-gcc \
			OUTPUT="$aout/tools" "$aout/tools/ioreq-backend" \
			"$aout/tools/ioreq-vhost" > "$aout/tools.log" 2>&1 ||
		     ! make -C "$IOREQ_ROOT/selftests/ioreq" CC=aarch64-linux-gnu-gcc \
			OUTPUT="$aout" "$aout/ioreq_xen_dom0_test" > "$aout/selftests.log" 2>&1; then
			tail -n 20 "$aout/tools.log" "$aout/selftests.log" 2>/dev/null |
				sed 's/^/    /' || true
			stage_failed "arm64 tools build"
		else
			arm_ok=1
		fi
	fi
	for s in $XEN_ARM_SCENARIOS; do
		[ -n "$arm_ok" ] || break
		xen_out=$IOREQ_BUILD/xen/arm64-$s
		extra=()
		if [ "$s" = virtio ]; then
			# A virtio-mmio disk from xl (specification=virtio,
			# backendtype=standalone), served by ioreq-vhost --mmio
			# and Debian's arm64 qemu-storage-daemon; xenstore-utils
			# answer libxl for the standalone backend.
			extra=(--add "$aout/tools/ioreq-vhost"
				--add "$AROOT/usr/bin/qemu-storage-daemon"
				--guest-kmod virtio_mmio --guest-kmod virtio_blk
				--env HOOK_PREPARE=1
				--guest-cfg "$IOREQ_ROOT/selftests/ioreq/xen/scenarios/virtio.arm64.cfg")
			for x in list read write; do
				extra+=(--add "$AROOT/usr/bin/xenstore-$x:/usr/bin/xenstore-$x")
			done
		fi
		for try in 1 2; do
			log "scenario arm64-$s: booting Xen on Arm, an arm64 dom0 and guest"
			"$IOREQ_ROOT/selftests/ioreq/xen/xen-vm.sh" --arch arm64 \
				--scenario "$s" \
				--module "$akb/drivers/ioreq/ioreq.ko" \
				--module "$akb/drivers/ioreq/xen/ioreq_xen.ko" \
				--add "$aout/tools/ioreq-backend" \
				--add "$aout/ioreq_xen_dom0_test" \
				"${extra[@]}" \
				--out "$xen_out" --name "xen-arm64-$s" || true
			# Booted again only if the emulated machine stopped.
			[ "$try" = 1 ] && [ -s "$xen_out/stalled" ] || break
			log "scenario arm64-$s: $(cat "$xen_out/stalled"): booting it again"
			rm -rf "$xen_out.try1"
			mv "$xen_out" "$xen_out.try1"
		done
		add_result "$xen_out" "xen-arm64-$s"
	done
fi
# ---- end of the lanes on real hypervisors ---------------------------------

IOREQ_STAGE=check
if [ "$failed" -gt 0 ]; then
	# What failed, again, at the very end of the log.
	for d in "${guests[@]}"; do
		[ ! -s "$d/failures" ] || head -n 80 "$d/failures" | sed 's/^/[check] /'
		[ ! -s "$d/splat-heads" ] ||
			sed "s|^|[check] $(basename "$d"): splat: |" "$d/splat-heads"
	done
	log "FAILED after $(( $(now) - start ))s: ${notes[*]}"
else
	log "all passed in $(( $(now) - start ))s"
fi
if [ "${#spent[@]}" -gt 0 ]; then
	line=$(printf '%s, ' "${spent[@]}")
	log "time per boot (with what ran before it): ${line%, }"
fi
nretried=0
causes=
for c in "${!retried[@]}"; do
	nretried=$((nretried + ${retried[$c]}))
	causes="$causes $c ${retried[$c]}"
done
log "boots retried after an emulator failure: $nretried${causes:+ (by cause:$causes)}"
echo "check: $passed passed, $failed failed, $skipped skipped, $nretried boots retried"
[ "$failed" = 0 ]
