// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq-kvm: a minimal KVM VMM whose guest's MMIO and port accesses are
 * served by ioreq backends.
 *
 * It creates a VM with PAYLOAD_RAM_SIZE bytes of RAM (a memfd), loads a
 * flat-binary payload (payload.S) that runs in long mode on each of N
 * vcpus, and creates a guest on /dev/ioreq-vmm.  Each vcpu thread forwards
 * every KVM_EXIT_MMIO and KVM_EXIT_IO to IOREQ_VMM_ACCESS, except the
 * report port (payload.h), on which the payload hands over the outcome of
 * its checks: those become KTAP lines on stdout.
 *
 * The VMM lends the RAM memfd to backends (IOREQ_VMM_ADD_MEMORY) and runs
 * KVM's in-kernel interrupt controllers (KVM_CREATE_IRQCHIP); a thread
 * reads the interrupts backends inject (struct ioreq_vmm_event) from the
 * ioreq guest's fd and delivers them with KVM_IRQ_LINE or KVM_SIGNAL_MSI.
 * With --bench it times KVM exits answered in-process, through ioreq and
 * over a socketpair to a child process.
 *
 * Only libc, <linux/kvm.h> and the ioreq uapi headers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/kvm.h>
#include <linux/ioreq.h>
#include <linux/ioreq_vmm.h>

#include "payload.h"
#include "scratch_dev.h"
#include "vmm-common.h"

_Static_assert(SCRATCH_ID_VALUE == SCRATCH_ID,
	       "payload.h and scratch_dev.h disagree on the ID register");
_Static_assert(SCRATCH_PATTERN(0) == PATTERN_ADD &&
	       SCRATCH_PATTERN(1) == PATTERN_ADD + PATTERN_MUL &&
	       SCRATCH_PATTERN(100) == ((100 * PATTERN_MUL + PATTERN_ADD) & 0xff),
	       "payload.h and scratch_dev.h disagree on the initial pattern");
_Static_assert(MB_GPA == MBOX_GPA && MB_LEN == MBOX_LEN_REG &&
	       MB_CMD == MBOX_CMD && MB_STATUS == MBOX_STATUS &&
	       MB_IRQ == MBOX_IRQ && MB_CMD_MMAP == MBOX_CMD_MMAP &&
	       MB_CMD_COPY == MBOX_CMD_COPY && MB_ST_OK == MBOX_ST_OK,
	       "payload.h and scratch_dev.h disagree on the mailbox registers");
_Static_assert(MBOX_GUEST_BYTE(1) == GUEST_MUL + GUEST_ADD &&
	       MBOX_GUEST_BYTE(0) == GUEST_ADD &&
	       MBOX_ANSWER_BYTE(1) == ANSWER_MUL + ANSWER_ADD &&
	       MBOX_ANSWER_BYTE(0) == ANSWER_ADD && DMA_LEN <= MBOX_MAX_BUF,
	       "payload.h and scratch_dev.h disagree on the mailbox patterns");

#define PTE_PRESENT	0x001ULL
#define PTE_RW		0x002ULL
#define PTE_PS		0x080ULL	/* 2 MiB page in a page directory */

#define MMIO_LIMIT	0x100000000ULL	/* the identity map covers 4 GiB */

/* GDT descriptors matching the segments setup_vcpu() loads */
#define GDT_CODE64	0x00af9b000000ffffULL	/* selector 0x08 */
#define GDT_DATA	0x00cf93000000ffffULL	/* selector 0x10 */

/* --bench: how the VMM answers the bench loop's MMIO exits */
enum bench_mode {
	BENCH_INPROC,		/* the VMM itself, from its own register file */
	BENCH_IOREQ,		/* IOREQ_VMM_ACCESS, a backend process answers */
	BENCH_SOCKET,		/* a struct ioreq_cmd over a socketpair */
	BENCH_MODES
};

#define BENCH_MAX_REPEATS	64
#define BENCH_REGS_LEN		0x100	/* the in-process register file */

/* Everything the vcpu threads share; set up before they start. */
struct vm {
	int kvm_fd;
	int vm_fd;
	int vmm_fd;		/* /dev/ioreq-vmm, with the guest */
	int ram_fd;		/* memfd backing guest RAM */
	uint8_t *ram;
	size_t run_size;	/* mmap size of struct kvm_run */
	unsigned int nr_vcpus;
	uint32_t timeout_ms;	/* IOREQ_VMM_ACCESS timeout_ms */
	bool verbose;
	struct kvm_cpuid2 *cpuid;

	pthread_mutex_t out_lock;	/* stdout, and the counters below */
	unsigned int checks;		/* KTAP case number */
	unsigned int failed;

	unsigned long exits;		/* MMIO and port exits, atomic */
	unsigned long string_exits;	/* of which PIO with count > 1 */

	/* interrupts from backends */
	pthread_t irq_thread;
	pthread_mutex_t irq_lock;	/* reading and delivering events */
	bool irq_stop;			/* the vcpus are done: no more */
	unsigned long irq_events;	/* struct ioreq_vmm_event read */
	unsigned long irq_delivered;	/* KVM_IRQ_LINE/KVM_SIGNAL_MSI done */
	unsigned long irq_failed;	/* not delivered (error, unsupported) */
	unsigned long irq_lost;		/* the sum of their lost counts */

	/* --bench, used by vcpu 0's thread only */
	uint64_t bench_n;		/* exits per phase, 0 without --bench */
	unsigned int bench_repeats;
	unsigned int bench_phase;	/* phases done, warm-up included */
	enum bench_mode bench_mode;
	double bench_t0;		/* when the current phase began, ns */
	double bench_ns[BENCH_MODES][BENCH_MAX_REPEATS];	/* per exit */
	struct scratch_regs bench_regs;	/* BENCH_INPROC's register file */
	uint64_t bench_mmio;		/* the region's guest address */
	int bench_sock;			/* BENCH_SOCKET: our end */
	pid_t bench_child;

	struct fastpath *fp;		/* --fastpath*, or NULL (fastpath.c) */
	bool quiet;			/* no diag(): a timed run */
};

static bool fastpath_phase(struct vm *vm);

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool done;		/* the payload reported RT_DONE */
	int rc;			/* 0, or 1 if the vcpu stopped on an error */
};

#define err(...) vmm_err(__VA_ARGS__)

/* A KTAP diagnostic line, whole, under the output lock. */
static void diag(struct vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void diag(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	if (vm->quiet)
		return;
	pthread_mutex_lock(&vm->out_lock);
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&vm->out_lock);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ioreq-kvm --payload FILE [--guest-id ID] [--vcpus N]\n"
"                 [--mmio ADDR] [--pio PORT] [--unclaimed ADDR]\n"
"                 [--unclaimed-pio PORT] [--hang ADDR] [--claim-wait SECS]\n"
"                 [--timeout-ms MS] [--mailbox ADDR [--irq PIN]]\n"
"                 [--bench N [--repeats R] [--output FILE]] [--verbose]\n"
"                 [--fastpath] [--fastpath-bench N [--fastpath-msi]]\n"
"\n"
"Run a KVM guest whose MMIO and port accesses go to ioreq backends through\n"
"/dev/ioreq-vmm (or $IOREQ_VMM_DEV), and print the payload's checks as\n"
"KTAP.  The payload (payload.S, built as ioreq-kvm-payload.bin) tests:\n"
"\n"
"  -p, --payload FILE     the flat binary to run (loaded at 0x%x)\n"
"  -g, --guest-id ID      ioreq guest id (default 0: the provider picks;\n"
"                         it is printed); backends attach with --guest ID\n"
"  -n, --vcpus N          vcpus, each a thread (1-%u, default 1)\n"
"  -m, --mmio ADDR        scratch-register MMIO region below 4 GiB: the ID\n"
"                         register and every access size (1, 2, 4, 8)\n"
"  -P, --pio PORT         scratch-register port region: sizes 1, 2, 4 and\n"
"                         string I/O (rep outsw/insw)\n"
"                         Both regions need 0x%x + N * 0x%x bytes.\n"
"  -u, --unclaimed ADDR   MMIO address nobody claims: reads give all ones\n"
"  -U, --unclaimed-pio PORT  the same for a port\n"
"  -H, --hang ADDR        vcpu 0 reads MMIO ADDR last, which a backend run\n"
"                         with --hang ADDR never answers; expects all ones\n"
"                         once that backend is killed\n"
"  -w, --claim-wait SECS  before starting, wait up to SECS (default 10) for\n"
"                         backends to claim --mmio and --pio\n"
"  -t, --timeout-ms MS    IOREQ_VMM_ACCESS timeout (default 0: the\n"
"                         provider's default_timeout_ms)\n"
"  -M, --mailbox ADDR     vcpu 0 hands a buffer of guest memory to the\n"
"                         mailbox of ioreq-backend --mailbox ADDR, once\n"
"                         mapped and once copied, and checks the answer\n"
"  -I, --irq PIN          vcpu 0 rings the mailbox's doorbell and takes\n"
"                         the interrupt, routed from IOAPIC pin PIN (the\n"
"                         backend's --irq LINE; 16-23 avoid the PIC)\n"
"  -b, --bench N          only time exits: phases of N 4-byte reads of the\n"
"                         --mmio region, answered by the VMM, through\n"
"                         ioreq and over a socketpair to a child, in turn\n"
"  -r, --repeats R        --bench: phases per way (default 5, max %u)\n"
"  -o, --output FILE      --bench: key=value results to FILE\n"
"  -F, --fastpath         register the backends' ioeventfds and irqfds with\n"
"                         KVM (KVM_IOEVENTFD, KVM_IRQFD): fastpath.c\n"
"  -f, --fastpath-bench N only time kicks and pings of an echo backend\n"
"                         forked here, N per phase, with the fast path and\n"
"                         without in turn (--repeats), and check that the\n"
"                         fast phases passed no exit or interrupt through\n"
"                         this process\n"
"  -Q, --fastpath-msi     --fastpath-bench: the echo's interrupt is an MSI\n"
"  -v, --verbose          one line per forwarded access\n"
"  -h, --help             this text\n"
"\n"
"Exit status: 0 if every check passed and every vcpu finished, 1 if not\n"
"or on error, 2 on bad usage.\n",
		PAYLOAD_LOAD, PAYLOAD_MAX_VCPUS, WINDOW_START, WINDOW_SIZE,
		BENCH_MAX_REPEATS);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

static const char *space_name(uint64_t space)
{
	return space == IOREQ_SPACE_PIO ? "port" : "mmio";
}

static const char *status_name(unsigned int status)
{
	switch (status) {
	case IOREQ_VMM_STATUS_DONE:
		return "done";
	case IOREQ_VMM_STATUS_UNCLAIMED:
		return "unclaimed";
	case IOREQ_VMM_STATUS_ABORTED:
		return "aborted";
	case IOREQ_VMM_STATUS_TIMEDOUT:
		return "timed out";
	}
	return "unknown status";
}

/*
 * forward() - one access of @len (1, 2, 4 or 8) bytes to IOREQ_VMM_ACCESS
 * @data: the bytes of the access, little-endian: the value of a write, or
 *	where the value of a read goes
 *
 * Return: 0, or -1 if the ioctl failed (the vcpu cannot go on).
 */
static int forward(struct vcpu *vcpu, unsigned int space, bool write,
		   uint64_t addr, unsigned int len, uint8_t *data)
{
	struct vm *vm = vcpu->vm;
	struct ioreq_vmm_access a;

	if (vmm_access(vm->vmm_fd, vcpu->index, space, write, addr, len,
		       vm->timeout_ms, data, &a) < 0) {
		err("vcpu %u: IOREQ_VMM_ACCESS %s %s %u at 0x%" PRIx64 ": %s",
		    vcpu->index, space_name(space), write ? "write" : "read",
		    len, addr, strerror(errno));
		return -1;
	}
	if (a.status == IOREQ_VMM_STATUS_ABORTED ||
	    a.status == IOREQ_VMM_STATUS_TIMEDOUT ||
	    (vm->verbose && a.status != IOREQ_VMM_STATUS_DONE))
		diag(vm, "vcpu %u: %s %s %u at 0x%" PRIx64 ": %s%s",
		     vcpu->index, space_name(space), write ? "write" : "read",
		     len, addr, status_name(a.status),
		     write ? ", write dropped" : ", reads all ones");
	else if (vm->verbose)
		diag(vm, "vcpu %u: %s %s %u at 0x%" PRIx64 ": 0x%llx",
		     vcpu->index, space_name(space), write ? "write" : "read",
		     len, addr, (unsigned long long)a.data);
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * The socketpair peer of --bench: a child process that answers each
 * struct ioreq_cmd with the scratch-register model, as a vhost-user or
 * vfio-user device process would answer its VMM's message.
 */
static void socket_child(int sock, uint64_t len)
{
	uint8_t bytes[BENCH_REGS_LEN];
	struct scratch_regs regs = { .bytes = bytes, .len = len, .has_id = 1 };
	struct ioreq_cmd cmd;
	ssize_t n;

	scratch_reset(&regs);
	for (;;) {
		n = read(sock, &cmd, sizeof(cmd));
		if (n == 0)
			_exit(0);
		if (n != sizeof(cmd))
			_exit(1);
		if (cmd.op == IOREQ_OP_READ)
			cmd.data = scratch_read(&regs, cmd.offset, cmd.size);
		else
			scratch_write(&regs, cmd.offset, cmd.size, cmd.data);
		if (write(sock, &cmd, sizeof(cmd)) != sizeof(cmd))
			_exit(1);
	}
}

/* A --bench exit that is not forwarded: answered here or by the child. */
static int bench_answer(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	uint64_t off = run->mmio.phys_addr - vm->bench_mmio, v = 0;
	struct ioreq_cmd cmd = {
		.op = run->mmio.is_write ? IOREQ_OP_WRITE : IOREQ_OP_READ,
		.size = run->mmio.len,
		.offset = off,
	};

	if (run->mmio.phys_addr < vm->bench_mmio ||
	    !scratch_in_range(&vm->bench_regs, off, run->mmio.len)) {
		err("bench: %u-byte access at 0x%llx outside the region",
		    run->mmio.len, (unsigned long long)run->mmio.phys_addr);
		return -1;
	}
	if (vm->bench_mode == BENCH_INPROC) {
		if (!run->mmio.is_write) {
			v = scratch_read(&vm->bench_regs, off, run->mmio.len);
			memcpy(run->mmio.data, &v, run->mmio.len);
		} else {
			memcpy(&v, run->mmio.data, run->mmio.len);
			scratch_write(&vm->bench_regs, off, run->mmio.len, v);
		}
		return 0;
	}
	if (run->mmio.is_write)
		memcpy(&cmd.data, run->mmio.data, run->mmio.len);
	errno = 0;
	if (write(vm->bench_sock, &cmd, sizeof(cmd)) != sizeof(cmd) ||
	    read(vm->bench_sock, &cmd, sizeof(cmd)) != sizeof(cmd)) {
		err("bench: socketpair to the child: %s",
		    errno ? strerror(errno) : "short message");
		return -1;
	}
	if (!run->mmio.is_write)
		memcpy(run->mmio.data, &cmd.data, run->mmio.len);
	return 0;
}

/*
 * RT_BENCH: the phase that just ended took bench_n exits; the first
 * BENCH_MODES phases warm up, then the modes take turns bench_repeats
 * times each.  Set PARAM_BENCH_GO for the next phase.
 */
static void bench_phase(struct vm *vm)
{
	uint64_t *go = (uint64_t *)(vm->ram + PARAM_ADDR + PARAM_BENCH_GO);
	unsigned int total = BENCH_MODES * (vm->bench_repeats + 1);
	double t = now_ns();

	/* Phase p (p = bench_phase - 1 here) ran mode p % BENCH_MODES. */
	if (vm->bench_phase > BENCH_MODES)
		vm->bench_ns[vm->bench_mode]
			    [(vm->bench_phase - 1) / BENCH_MODES - 1] =
			(t - vm->bench_t0) / vm->bench_n;
	if (vm->bench_phase == total) {
		*go = 0;
		return;
	}
	vm->bench_mode = vm->bench_phase % BENCH_MODES;
	vm->bench_phase++;
	*go = 1;
	vm->bench_t0 = now_ns();
}

static int handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned int len = run->mmio.len, i;

	if (vcpu->vm->bench_n && vcpu->vm->bench_mode != BENCH_IOREQ)
		return bench_answer(vcpu);
	if (len == 1 || len == 2 || len == 4 || len == 8)
		return forward(vcpu, IOREQ_SPACE_MMIO, run->mmio.is_write,
			       run->mmio.phys_addr, len, run->mmio.data);
	/* Any other length: byte by byte, in address order. */
	for (i = 0; i < len && i < sizeof(run->mmio.data); i++)
		if (forward(vcpu, IOREQ_SPACE_MMIO, run->mmio.is_write,
			    run->mmio.phys_addr + i, 1, run->mmio.data + i))
			return -1;
	return 0;
}

static int handle_pio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;
	unsigned int i;

	if (run->io.data_offset + (uint64_t)run->io.count * run->io.size >
	    vcpu->vm->run_size) {
		err("vcpu %u: port I/O data (%u x %u bytes at %llu) outside kvm_run",
		    vcpu->index, run->io.count, run->io.size,
		    (unsigned long long)run->io.data_offset);
		return -1;
	}
	/* A string instruction: one access per element, in order. */
	if (run->io.count > 1)
		__atomic_add_fetch(&vcpu->vm->string_exits, 1, __ATOMIC_RELAXED);
	for (i = 0; i < run->io.count; i++)
		if (forward(vcpu, IOREQ_SPACE_PIO, write, run->io.port,
			    run->io.size, data + i * run->io.size))
			return -1;
	return 0;
}

static const char *what_name(uint64_t what)
{
	switch (what) {
	case W_PATTERN:
		return "initial content";
	case W_READBACK:
		return "read back after write";
	case W_ID:
		return "ID register";
	case W_ID_WRITE:
		return "ID register after write";
	case W_STRING_OUT:
		return "read after rep outsw x4";
	case W_STRING_IN:
		return "rep insw x3";
	case W_UNCLAIMED:
		return "unclaimed";
	case W_UNCLAIMED_WRITE:
		return "unclaimed after write";
	case W_HANG:
		return "backend killed during read";
	case W_MBOX_MMAP:
		return "mailbox status, buffer mapped by the backend";
	case W_ANSWER_MMAP:
		return "bytes answered through the mapping";
	case W_MBOX_COPY:
		return "mailbox status, buffer copied by the backend";
	case W_ANSWER_COPY:
		return "bytes answered through IOREQ_WRITE_GUEST";
	case W_IRQ:
		return "interrupts taken by the payload's handler";
	case W_IRQ_ACK:
		return "interrupt register after the acknowledgment";
	}
	return "unknown check";
}

/*
 * The payload wrote the address of its report record to REPORT_PORT.
 * Return: 0, 1 when the vcpu has finished (RT_DONE), -1 on error.
 */
static int handle_report(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	uint64_t rec[REPORT_SIZE / 8];
	uint32_t gpa;
	bool ok;

	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 ||
	    run->io.count != 1) {
		err("vcpu %u: bad access to the report port (%s %u x %u)",
		    vcpu->index, run->io.direction == KVM_EXIT_IO_OUT ?
		    "out" : "in", run->io.count, run->io.size);
		return -1;
	}
	memcpy(&gpa, (uint8_t *)run + run->io.data_offset, 4);
	if (gpa < REPORT_ADDR || gpa % REPORT_SIZE ||
	    gpa >= REPORT_ADDR + PAYLOAD_MAX_VCPUS * REPORT_SIZE) {
		err("vcpu %u: report record at 0x%x is not in the report area",
		    vcpu->index, gpa);
		return -1;
	}
	memcpy(rec, vm->ram + gpa, sizeof(rec));

	switch (rec[REPORT_TYPE / 8]) {
	case RT_CHECK:
		ok = rec[REPORT_EXPECT / 8] == rec[REPORT_GOT / 8];
		pthread_mutex_lock(&vm->out_lock);
		vm->checks++;
		if (!ok)
			vm->failed++;
		printf("%sok %u vcpu %u: %s 0x%llx, %llu byte%s, %s: 0x%llx",
		       ok ? "" : "not ", vm->checks, vcpu->index,
		       space_name(rec[REPORT_SPACE / 8]),
		       (unsigned long long)rec[REPORT_ADDR_F / 8],
		       (unsigned long long)rec[REPORT_LEN / 8],
		       rec[REPORT_LEN / 8] == 1 ? "" : "s",
		       what_name(rec[REPORT_WHAT / 8]),
		       (unsigned long long)rec[REPORT_GOT / 8]);
		if (!ok)
			printf(", expected 0x%llx",
			       (unsigned long long)rec[REPORT_EXPECT / 8]);
		putchar('\n');
		fflush(stdout);
		pthread_mutex_unlock(&vm->out_lock);
		return 0;
	case RT_NOTE:
		diag(vm, "vcpu %u: next: %s %s at 0x%llx", vcpu->index,
		     space_name(rec[REPORT_SPACE / 8]),
		     what_name(rec[REPORT_WHAT / 8]),
		     (unsigned long long)rec[REPORT_ADDR_F / 8]);
		return 0;
	case RT_DONE:
		vcpu->done = true;
		return 1;
	case RT_BENCH:
		if (vm->fp && !vcpu->index && fastpath_phase(vm))
			return 0;
		if (vm->bench_n && !vcpu->index) {
			bench_phase(vm);
			return 0;
		}
		break;
	}
	err("vcpu %u: unknown report type %llu", vcpu->index,
	    (unsigned long long)rec[REPORT_TYPE / 8]);
	return -1;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct kvm_run *run = vcpu->run;
	int ret;

	vcpu->rc = 1;
	for (;;) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			err("vcpu %u: KVM_RUN: %s", vcpu->index,
			    strerror(errno));
			return NULL;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (run->io.port == REPORT_PORT) {
				ret = handle_report(vcpu);
				break;
			}
			__atomic_add_fetch(&vcpu->vm->exits, 1,
					   __ATOMIC_RELAXED);
			ret = handle_pio(vcpu);
			break;
		case KVM_EXIT_MMIO:
			__atomic_add_fetch(&vcpu->vm->exits, 1,
					   __ATOMIC_RELAXED);
			ret = handle_mmio(vcpu);
			break;
		case KVM_EXIT_HLT:
			if (!vcpu->done) {
				err("vcpu %u: halted before the payload finished",
				    vcpu->index);
				return NULL;
			}
			vcpu->rc = 0;
			return NULL;
		case KVM_EXIT_SHUTDOWN:
			err("vcpu %u: shutdown (triple fault?)", vcpu->index);
			return NULL;
		case KVM_EXIT_FAIL_ENTRY:
			err("vcpu %u: VM entry failed, reason 0x%llx",
			    vcpu->index, (unsigned long long)
			    run->fail_entry.hardware_entry_failure_reason);
			return NULL;
		case KVM_EXIT_INTERNAL_ERROR:
			err("vcpu %u: KVM internal error, suberror %u",
			    vcpu->index, run->internal.suberror);
			return NULL;
		default:
			err("vcpu %u: unexpected exit reason %u", vcpu->index,
			    run->exit_reason);
			return NULL;
		}
		if (ret > 0) {
			/* With the in-kernel irqchip hlt never exits. */
			vcpu->rc = 0;
			return NULL;
		}
		if (ret)
			return NULL;
	}
}

/* Deliver one interrupt a backend injected.  Return: 0, or -1. */
static int deliver(struct vm *vm, const struct ioreq_vmm_event *ev)
{
	const struct ioreq_irq *irq = &ev->irq;
	unsigned int gsi = 0;
	int ret = vmm_deliver(vm->vm_fd, ev, &gsi);

	switch (irq->kind) {
	case IOREQ_IRQ_LINE:
	case IOREQ_IRQ_PCI_INTX:
		if (ret < 0) {
			diag(vm, "irq: KVM_IRQ_LINE %u level %u: %s", gsi,
			     ev->level, strerror(errno));
			return -1;
		}
		diag(vm, "irq: %s %u -> KVM_IRQ_LINE gsi %u level %u",
		     irq->kind == IOREQ_IRQ_LINE ? "line" : "PCI INTx of",
		     irq->kind == IOREQ_IRQ_LINE ? irq->line : irq->sbdf,
		     gsi, ev->level);
		return 0;
	case IOREQ_IRQ_MSI:
		if (ret < 0) {
			diag(vm, "irq: KVM_SIGNAL_MSI 0x%llx/0x%x: %s",
			     (unsigned long long)irq->msi_addr, irq->msi_data,
			     strerror(errno));
			return -1;
		}
		diag(vm, "irq: MSI 0x%llx/0x%x -> KVM_SIGNAL_MSI: %s",
		     (unsigned long long)irq->msi_addr, irq->msi_data,
		     ret ? "delivered" : "blocked by the guest");
		return 0;
	}
	diag(vm, "irq: unknown kind %u, not delivered", irq->kind);
	return -1;
}

/*
 * Read the interrupt events queued on the ioreq guest's fd (O_NONBLOCK)
 * and deliver them, until none is left.
 * Return: 0, or -1 if read() failed.
 */
static int irq_drain(struct vm *vm)
{
	struct ioreq_vmm_event ev[16];
	ssize_t n;
	int i;

	for (;;) {
		n = read(vm->vmm_fd, ev, sizeof(ev));
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			err("reading interrupts from the ioreq guest: %s",
			    strerror(errno));
			return -1;
		}
		for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
			__atomic_add_fetch(&vm->irq_events, 1,
					   __ATOMIC_RELAXED);
			if (ev[i].lost) {
				__atomic_add_fetch(&vm->irq_lost, ev[i].lost,
						   __ATOMIC_RELAXED);
				diag(vm, "irq: %u interrupts lost before this one",
				     ev[i].lost);
			}
			if (ev[i].type != IOREQ_VMM_EVENT_IRQ) {
				diag(vm, "irq: unknown event type %u",
				     ev[i].type);
				__atomic_add_fetch(&vm->irq_failed, 1,
						   __ATOMIC_RELAXED);
				continue;
			}
			if (deliver(vm, &ev[i]))
				__atomic_add_fetch(&vm->irq_failed, 1,
						   __ATOMIC_RELAXED);
			else
				__atomic_add_fetch(&vm->irq_delivered, 1,
						   __ATOMIC_RELAXED);
		}
	}
}

/*
 * The irq thread: wait for interrupt events and deliver them, until main()
 * has drained the last ones (irq_stop).  It is never joined.
 */
static void *irq_thread(void *arg)
{
	struct vm *vm = arg;
	struct pollfd pfd = { .fd = vm->vmm_fd, .events = POLLIN };
	int ret;

	for (;;) {
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			err("poll of the ioreq guest: %s", strerror(errno));
			return NULL;
		}
		pthread_mutex_lock(&vm->irq_lock);
		ret = vm->irq_stop ? -1 : irq_drain(vm);
		pthread_mutex_unlock(&vm->irq_lock);
		if (ret)
			return NULL;
	}
}

/* Page tables identity-mapping 0-4 GiB with 2 MiB pages, and the payload. */
static void setup_memory(struct vm *vm, const uint8_t *payload, size_t size)
{
	uint64_t *pml4 = (uint64_t *)(vm->ram + PAYLOAD_PML4);
	uint64_t *pdpt = (uint64_t *)(vm->ram + PAYLOAD_PDPT);
	uint64_t *pd = (uint64_t *)(vm->ram + PAYLOAD_PD);
	uint64_t *gdt = (uint64_t *)(vm->ram + PAYLOAD_GDT);
	unsigned int i;

	pml4[0] = PAYLOAD_PDPT | PTE_PRESENT | PTE_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (PAYLOAD_PD + i * 0x1000) | PTE_PRESENT | PTE_RW;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_PRESENT | PTE_RW | PTE_PS;
	memcpy(vm->ram + PAYLOAD_LOAD, payload, size);
	gdt[1] = GDT_CODE64;
	gdt[2] = GDT_DATA;
}

static int setup_vcpu(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, vcpu->index);
	if (vcpu->fd < 0) {
		err("KVM_CREATE_VCPU %u: %s", vcpu->index, strerror(errno));
		return -1;
	}
	/* With the in-kernel local APIC, vcpus but 0 would wait for a SIPI. */
	if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0) {
		err("KVM_SET_MP_STATE (runnable) on vcpu %u: %s", vcpu->index,
		    strerror(errno));
		return -1;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		err("mmap of vcpu %u's kvm_run: %s", vcpu->index,
		    strerror(errno));
		vcpu->run = NULL;
		return -1;
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, vm->cpuid) < 0) {
		err("KVM_SET_CPUID2 on vcpu %u: %s", vcpu->index,
		    strerror(errno));
		return -1;
	}
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0) {
		err("KVM_GET_SREGS on vcpu %u: %s", vcpu->index,
		    strerror(errno));
		return -1;
	}
	vmm_long_mode(&sregs, PAYLOAD_GDT, PAYLOAD_GDT_SIZE - 1, PAYLOAD_PML4);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0) {
		err("KVM_SET_SREGS (long mode) on vcpu %u: %s", vcpu->index,
		    strerror(errno));
		return -1;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = PAYLOAD_LOAD;
	regs.rsp = STACK_TOP - (uint64_t)vcpu->index * STACK_SIZE;
	regs.rdi = vcpu->index;
	regs.rsi = PARAM_ADDR;
	regs.rflags = 0x2;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0) {
		err("KVM_SET_REGS on vcpu %u: %s", vcpu->index,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int setup_kvm(struct vm *vm)
{
	if (vmm_kvm_open(&vm->kvm_fd, &vm->run_size, &vm->cpuid, &vm->vm_fd))
		return -1;
	/* PIC, IOAPIC and local APICs in the kernel, before any vcpu. */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -1;
	}
	/* A memfd, so that backends can be lent guest RAM. */
	return vmm_guest_ram(vm->vm_fd, vm->vmm_fd, "ioreq-kvm-ram",
			     PAYLOAD_RAM_SIZE, &vm->ram_fd, &vm->ram);
}

static int create_guest(struct vm *vm, uint64_t *guest_id)
{
	const char *dev = getenv("IOREQ_VMM_DEV");
	struct ioreq_vmm_create c = {
		.size = sizeof(c),
		.nr_vcpus = vm->nr_vcpus,
		.guest_id = *guest_id,
	};

	if (!dev)
		dev = "/dev/ioreq-vmm";
	vm->vmm_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->vmm_fd < 0) {
		err("%s: %s (is ioreq_vmm.ko loaded?)", dev, strerror(errno));
		return -1;
	}
	if (ioctl(vm->vmm_fd, IOREQ_VMM_CREATE_GUEST, &c) < 0) {
		err("IOREQ_VMM_CREATE_GUEST (id %" PRIu64 ", %u vcpus): %s",
		    *guest_id, vm->nr_vcpus, strerror(errno));
		return -1;
	}
	*guest_id = c.guest_id;
	return 0;
}

/*
 * Wait until a backend answers a 1-byte read at @addr (reads have no side
 * effects on the scratch device), so the payload does not race the
 * backend's claim.  Done before the vcpus start, as vcpu 0.
 */
static int claim_wait(struct vm *vm, unsigned int space, uint64_t addr,
		      unsigned int secs)
{
	struct timespec nap = { .tv_nsec = 20 * 1000 * 1000 };
	unsigned int tries = secs * 50 + 1;

	while (tries--) {
		struct ioreq_vmm_access a = {
			.size = sizeof(a),
			.space = space,
			.op = IOREQ_OP_READ,
			.len = 1,
			.addr = addr,
			.timeout_ms = vm->timeout_ms,
		};

		if (ioctl(vm->vmm_fd, IOREQ_VMM_ACCESS, &a) < 0) {
			err("IOREQ_VMM_ACCESS probing %s 0x%" PRIx64 ": %s",
			    space_name(space), addr, strerror(errno));
			return -1;
		}
		if (a.status == IOREQ_VMM_STATUS_DONE)
			return 0;
		if (a.status != IOREQ_VMM_STATUS_UNCLAIMED) {
			err("probing %s 0x%" PRIx64 ": %s", space_name(space),
			    addr, status_name(a.status));
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	err("no backend claimed %s 0x%" PRIx64 " within %u s",
	    space_name(space), addr, secs);
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Pin the calling thread (and what it creates later) to one CPU. */
static void pin_cpu(unsigned int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(n > 0 ? cpu % n : 0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Fork the socketpair peer for --bench, pinned to CPU 1. */
static int bench_fork(struct vm *vm)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		err("socketpair: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	vm->bench_child = fork();
	if (vm->bench_child < 0) {
		err("fork: %s", strerror(errno));
		return -1;
	}
	if (!vm->bench_child) {
		/* Only the socket: the guest must die with the VMM. */
		close(sv[0]);
		close(vm->vmm_fd);
		close(vm->vm_fd);
		close(vm->kvm_fd);
		close(vm->ram_fd);
		pin_cpu(1);
		socket_child(sv[1], BENCH_REGS_LEN);
	}
	close(sv[1]);
	vm->bench_sock = sv[0];
	vm->bench_regs.bytes = calloc(1, BENCH_REGS_LEN);
	if (!vm->bench_regs.bytes) {
		err("out of memory");
		return -1;
	}
	vm->bench_regs.len = BENCH_REGS_LEN;
	vm->bench_regs.has_id = 1;
	scratch_reset(&vm->bench_regs);
	return 0;
}

/*
 * The --bench table, in ioreq-bench's format: per-exit round trip, median
 * (min-max) over the repeats, and the ratio to the in-process floor of
 * this run; key=value lines to @kv if given.
 */
static void bench_report(struct vm *vm, FILE *kv)
{
	static const char *const keys[BENCH_MODES] = {
		[BENCH_INPROC] = "kvm_exit_inproc",
		[BENCH_IOREQ] = "kvm_exit_ioreq",
		[BENCH_SOCKET] = "kvm_exit_socketpair",
	};
	static const char *const whats[BENCH_MODES] = {
		[BENCH_INPROC] = "KVM exit answered in the VMM",
		[BENCH_IOREQ] = "KVM exit through ioreq",
		[BENCH_SOCKET] = "KVM exit over a socketpair",
	};
	double med[BENCH_MODES], v[BENCH_MAX_REPEATS], r[BENCH_MAX_REPEATS];
	unsigned int i, m, n = vm->bench_repeats;

	printf("# ioreq-kvm: bench, %" PRIu64 " 4-byte MMIO reads per phase, %u phases per way in turn, median (min-max)\n",
	       vm->bench_n, n);
	for (m = 0; m < BENCH_MODES; m++) {
		memcpy(v, vm->bench_ns[m], n * sizeof(v[0]));
		qsort(v, n, sizeof(v[0]), cmp_double);
		med[m] = v[n / 2];
		printf("%-34s %10.2f %-5s (%.2f-%.2f)", whats[m], med[m] / 1e3,
		       "us", v[0] / 1e3, v[n - 1] / 1e3);
		/* The ratio phase by phase: the ways run in turn. */
		for (i = 0; i < n; i++)
			r[i] = vm->bench_ns[m][i] / vm->bench_ns[BENCH_INPROC][i];
		qsort(r, n, sizeof(r[0]), cmp_double);
		if (m != BENCH_INPROC)
			printf("  %6.2fx (%.2f-%.2f) %-15s", r[n / 2], r[0],
			       r[n - 1], "of in-process");
		printf("\n");
		if (kv) {
			fprintf(kv, "%s_us_median=%.3f\n%s_us_min=%.3f\n"
				"%s_us_max=%.3f\n", keys[m], med[m] / 1e3,
				keys[m], v[0] / 1e3, keys[m], v[n - 1] / 1e3);
			if (m != BENCH_INPROC)
				fprintf(kv, "%s_ratio=%.3f\n%s_ratio_min=%.3f\n"
					"%s_ratio_max=%.3f\n", keys[m],
					r[n / 2], keys[m], r[0], keys[m],
					r[n - 1]);
		}
	}
	printf("%-34s %10s %-5s %-13s  %6.2fx %s\n", "", "", "", "",
	       med[BENCH_IOREQ] / med[BENCH_SOCKET], "ioreq of socketpair");
	if (kv)
		fprintf(kv, "kvm_exit_ioreq_vs_socketpair=%.3f\n"
			"kvm_exit_reads_per_phase=%" PRIu64 "\n"
			"kvm_exit_repeats=%u\n",
			med[BENCH_IOREQ] / med[BENCH_SOCKET], vm->bench_n, n);
}

/* Count and deliver the interrupt events queued so far, now. */
static void irq_settle(struct vm *vm)
{
	pthread_mutex_lock(&vm->irq_lock);
	if (!vm->irq_stop)
		irq_drain(vm);
	pthread_mutex_unlock(&vm->irq_lock);
}

#include "fastpath.c"

static uint8_t *read_payload(const char *path, size_t *size)
{
	uint8_t *buf;
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		err("%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (st.st_size <= 0 || st.st_size > PAYLOAD_MAX) {
		err("%s: %lld bytes; a payload is 1 to %u bytes", path,
		    (long long)st.st_size, PAYLOAD_MAX);
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size);
	if (!buf) {
		err("out of memory");
		close(fd);
		return NULL;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err("%s: %s", path, n ? strerror(errno) :
			    "shorter than its size");
			free(buf);
			close(fd);
			return NULL;
		}
		off += n;
	}
	close(fd);
	*size = off;
	return buf;
}

/*
 * Interrupts the payload took between wait_irq's sti and its hlt, where
 * sti's shadow forbids them (payload.S): each would have left the vcpu
 * halted for good.  The emulator's doing, not ours: said, not failed.
 */
static void shadow_report(struct vm *vm)
{
	uint64_t n;

	memcpy(&n, vm->ram + SHADOW_COUNT_ADDR, sizeof(n));
	if (n)
		printf("# ioreq-kvm: %llu interrupts came inside sti's shadow (the emulator lost it, see kvm.rst)\n",
		       (unsigned long long)n);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "payload",	   required_argument, NULL, 'p' },
		{ "guest-id",	   required_argument, NULL, 'g' },
		{ "vcpus",	   required_argument, NULL, 'n' },
		{ "mmio",	   required_argument, NULL, 'm' },
		{ "pio",	   required_argument, NULL, 'P' },
		{ "unclaimed",	   required_argument, NULL, 'u' },
		{ "unclaimed-pio", required_argument, NULL, 'U' },
		{ "hang",	   required_argument, NULL, 'H' },
		{ "claim-wait",	   required_argument, NULL, 'w' },
		{ "timeout-ms",	   required_argument, NULL, 't' },
		{ "mailbox",	   required_argument, NULL, 'M' },
		{ "irq",	   required_argument, NULL, 'I' },
		{ "bench",	   required_argument, NULL, 'b' },
		{ "repeats",	   required_argument, NULL, 'r' },
		{ "output",	   required_argument, NULL, 'o' },
		{ "fastpath",	   no_argument,	      NULL, 'F' },
		{ "fastpath-bench", required_argument, NULL, 'f' },
		{ "fastpath-msi",  no_argument,	      NULL, 'Q' },
		{ "verbose",	   no_argument,	      NULL, 'v' },
		{ "help",	   no_argument,	      NULL, 'h' },
		{ }
	};
	struct vm vm = {
		.kvm_fd = -1, .vm_fd = -1, .vmm_fd = -1, .ram_fd = -1,
		.nr_vcpus = 1, .bench_repeats = 5, .bench_sock = -1,
		.out_lock = PTHREAD_MUTEX_INITIALIZER,
		.irq_lock = PTHREAD_MUTEX_INITIALIZER,
	};
	const char *kv_path = NULL;
	FILE *kv = NULL;
	uint64_t param[PARAM_SIZE / 8] = { 0 };
	uint64_t guest_id = 0, v, flags = 0;
	unsigned int wait_s = 10, i, started = 0, unfinished = 0;
	const char *payload_path = NULL;
	struct vcpu *vcpus = NULL;
	uint8_t *payload;
	size_t payload_size;
	int c, ret;

	while ((c = getopt_long(argc, argv, "p:g:n:m:P:u:U:H:w:t:M:I:b:r:o:Ff:Qvh", opts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			payload_path = optarg;
			continue;
		case 'o':
			kv_path = optarg;
			continue;
		case 'v':
			vm.verbose = true;
			continue;
		case 'F':
		case 'Q':
			fastpath_option(&vm, c, 0);
			continue;
		case 'h':
			usage(stdout);
			return 0;
		case '?':
			usage(stderr);
			return 2;
		}
		/* Every other option takes a number. */
		if (parse_u64(optarg, c == 'P' || c == 'U' ? 0xffff :
			      c == 'm' || c == 'u' || c == 'H' || c == 'M' ?
			      MMIO_LIMIT - 8 : 0xffffffff, &v)) {
			err("bad number for -%c: %s", c, optarg);
			usage(stderr);
			return 2;
		}
		switch (c) {
		case 'g':
			guest_id = v;
			break;
		case 'n':
			if (v < 1 || v > PAYLOAD_MAX_VCPUS) {
				err("--vcpus must be 1 to %u",
				    PAYLOAD_MAX_VCPUS);
				return 2;
			}
			vm.nr_vcpus = v;
			break;
		case 'm':
			param[PARAM_MMIO / 8] = v;
			flags |= PF_MMIO;
			break;
		case 'P':
			param[PARAM_PIO / 8] = v;
			flags |= PF_PIO;
			break;
		case 'u':
			param[PARAM_UNCL_MMIO / 8] = v;
			flags |= PF_UNCL_MMIO;
			break;
		case 'U':
			param[PARAM_UNCL_PIO / 8] = v;
			flags |= PF_UNCL_PIO;
			break;
		case 'H':
			param[PARAM_HANG / 8] = v;
			flags |= PF_HANG;
			break;
		case 'w':
			if (v > 3600) {
				err("--claim-wait: at most 3600 seconds");
				return 2;
			}
			wait_s = v;
			break;
		case 't':
			vm.timeout_ms = v;
			break;
		case 'M':
			param[PARAM_MBOX / 8] = v;
			flags |= PF_MBOX;
			break;
		case 'I':
			if (v >= IOAPIC_PINS) {
				err("--irq: an IOAPIC pin, 0 to %u",
				    IOAPIC_PINS - 1);
				return 2;
			}
			param[PARAM_IRQ_LINE / 8] = v;
			flags |= PF_IRQ;
			break;
		case 'b':
			if (v < 1) {
				err("--bench: at least 1 read per phase");
				return 2;
			}
			vm.bench_n = v;
			param[PARAM_BENCH / 8] = v;
			flags |= PF_BENCH;
			break;
		case 'f':
			if (v < 1) {
				err("--fastpath-bench: at least 1 per phase");
				return 2;
			}
			fastpath_option(&vm, c, v);
			param[PARAM_BENCH / 8] = v;
			param[PARAM_FP_ADDR / 8] = FP_ECHO_ADDR;
			param[PARAM_IRQ_LINE / 8] = FP_ECHO_PIN;
			flags |= PF_FASTPATH;
			break;
		case 'r':
			if (v < 1 || v > BENCH_MAX_REPEATS) {
				err("--repeats must be 1 to %u",
				    BENCH_MAX_REPEATS);
				return 2;
			}
			vm.bench_repeats = v;
			break;
		}
	}
	if (optind < argc) {
		err("unexpected argument %s", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!payload_path) {
		err("--payload is required");
		usage(stderr);
		return 2;
	}
	if (((flags & PF_MMIO) && param[PARAM_MMIO / 8] < PAYLOAD_RAM_SIZE) ||
	    ((flags & PF_UNCL_MMIO) &&
	     param[PARAM_UNCL_MMIO / 8] < PAYLOAD_RAM_SIZE) ||
	    ((flags & PF_HANG) && param[PARAM_HANG / 8] < PAYLOAD_RAM_SIZE) ||
	    ((flags & PF_MBOX) && param[PARAM_MBOX / 8] < PAYLOAD_RAM_SIZE)) {
		err("MMIO addresses below 0x%x are guest RAM", PAYLOAD_RAM_SIZE);
		return 2;
	}
	if ((flags & PF_UNCL_PIO) && param[PARAM_UNCL_PIO / 8] > 0xfffc) {
		err("--unclaimed-pio: at most 0xfffc (4-byte reads)");
		return 2;
	}
	v = WINDOW_START + (uint64_t)vm.nr_vcpus * WINDOW_SIZE;
	if ((flags & PF_MMIO) && param[PARAM_MMIO / 8] + v > MMIO_LIMIT) {
		err("--mmio: the region must end below 4 GiB");
		return 2;
	}
	if ((flags & PF_PIO) && param[PARAM_PIO / 8] + v > 0x10000) {
		err("--pio: the region must end below port 0x10000");
		return 2;
	}
	if (((flags & PF_PIO) && param[PARAM_PIO / 8] <= REPORT_PORT &&
	     param[PARAM_PIO / 8] + v > REPORT_PORT) ||
	    ((flags & PF_UNCL_PIO) && param[PARAM_UNCL_PIO / 8] <= REPORT_PORT &&
	     param[PARAM_UNCL_PIO / 8] + 4 > REPORT_PORT)) {
		err("port 0x%x is the report port: test other ports",
		    REPORT_PORT);
		return 2;
	}
	if ((flags & PF_MBOX) && param[PARAM_MBOX / 8] + MBOX_LEN > MMIO_LIMIT) {
		err("--mailbox: the mailbox must end below 4 GiB");
		return 2;
	}
	if ((flags & PF_IRQ) && !(flags & PF_MBOX)) {
		err("--irq: the interrupt is the mailbox's; it needs --mailbox");
		return 2;
	}
	if ((flags & PF_BENCH) && (flags != (PF_BENCH | PF_MMIO) ||
				   vm.nr_vcpus != 1)) {
		err("--bench takes --mmio (the region read) and 1 vcpu only");
		return 2;
	}
	if ((flags & PF_FASTPATH) && (flags != PF_FASTPATH ||
				      vm.nr_vcpus != 1)) {
		err("--fastpath-bench runs alone, on 1 vcpu");
		return 2;
	}
	if (kv_path && !(flags & PF_BENCH)) {
		err("--output is for the --bench results");
		return 2;
	}
	param[PARAM_FLAGS / 8] = flags;
	param[PARAM_NR_VCPUS / 8] = vm.nr_vcpus;

	setlinebuf(stdout);
	payload = read_payload(payload_path, &payload_size);
	if (!payload)
		return 1;
	/* The ioreq guest first: it must exist before the first exit. */
	if (create_guest(&vm, &guest_id))
		return 1;
	if (setup_kvm(&vm))
		return 1;
	setup_memory(&vm, payload, payload_size);
	free(payload);
	memcpy(vm.ram + PARAM_ADDR, param, sizeof(param));

	/* --bench prints a table, not KTAP. */
	if (!vm.bench_n)
		printf("TAP version 13\n");
	printf("# ioreq-kvm: guest %" PRIu64 ", %u vcpu%s, payload %s (%zu bytes)\n",
	       guest_id, vm.nr_vcpus, vm.nr_vcpus == 1 ? "" : "s",
	       payload_path, payload_size);
	if ((flags & PF_MMIO) &&
	    claim_wait(&vm, IOREQ_SPACE_MMIO, param[PARAM_MMIO / 8], wait_s))
		return 1;
	if ((flags & PF_PIO) &&
	    claim_wait(&vm, IOREQ_SPACE_PIO, param[PARAM_PIO / 8], wait_s))
		return 1;
	if ((flags & PF_MBOX) &&
	    claim_wait(&vm, IOREQ_SPACE_MMIO, param[PARAM_MBOX / 8], wait_s))
		return 1;
	if (vm.bench_n) {
		vm.bench_mmio = param[PARAM_MMIO / 8];
		/* Before any thread: the child is a plain fork. */
		if (bench_fork(&vm))
			return 1;
		pin_cpu(0);
	}
	/* The echo backend is forked before any thread. */
	if (vm.fp && fastpath_start(&vm, guest_id))
		return 1;
	/* Events are read without blocking; IOREQ_VMM_ACCESS ignores it. */
	if (fcntl(vm.vmm_fd, F_SETFL, O_NONBLOCK) < 0) {
		err("O_NONBLOCK on the ioreq guest: %s", strerror(errno));
		return 1;
	}
	ret = pthread_create(&vm.irq_thread, NULL, irq_thread, &vm);
	if (ret) {
		err("starting the irq thread: %s", strerror(ret));
		return 1;
	}

	vcpus = calloc(vm.nr_vcpus, sizeof(*vcpus));
	if (!vcpus) {
		err("out of memory");
		return 1;
	}
	for (i = 0; i < vm.nr_vcpus; i++) {
		vcpus[i].vm = &vm;
		vcpus[i].index = i;
		if (setup_vcpu(&vm, &vcpus[i]))
			return 1;
	}
	for (i = 0; i < vm.nr_vcpus; i++) {
		ret = pthread_create(&vcpus[i].thread, NULL, vcpu_thread,
				     &vcpus[i]);
		if (ret) {
			err("starting vcpu %u's thread: %s", i, strerror(ret));
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(vcpus[i].thread, NULL);
		if (vcpus[i].rc || !vcpus[i].done)
			unfinished++;
	}
	unfinished += vm.nr_vcpus - started;
	/* Deliver what backends injected before the vcpus stopped. */
	pthread_mutex_lock(&vm.irq_lock);
	irq_drain(&vm);
	vm.irq_stop = true;
	pthread_mutex_unlock(&vm.irq_lock);
	shadow_report(&vm);
	ret = vm.fp ? fastpath_finish(&vm, unfinished) : -1;
	if (ret >= 0)
		return ret;

	if (!vm.bench_n) {
		printf("1..%u\n", vm.checks);
		printf("# ioreq-kvm: %u passed, %u failed; %u of %u vcpus finished\n",
		       vm.checks - vm.failed, vm.failed,
		       vm.nr_vcpus - unfinished, vm.nr_vcpus);
	}
	printf("# ioreq-kvm: %lu MMIO and port exits (%lu of them string I/O)\n",
	       vm.exits, vm.string_exits);
	printf("# ioreq-kvm: %lu interrupts from backends, %lu delivered, %lu not delivered, %lu lost\n",
	       __atomic_load_n(&vm.irq_events, __ATOMIC_RELAXED),
	       __atomic_load_n(&vm.irq_delivered, __ATOMIC_RELAXED),
	       __atomic_load_n(&vm.irq_failed, __ATOMIC_RELAXED),
	       __atomic_load_n(&vm.irq_lost, __ATOMIC_RELAXED));
	if (vm.bench_n) {
		if (unfinished ||
		    vm.bench_phase != BENCH_MODES * (vm.bench_repeats + 1)) {
			err("bench: the payload stopped after %u phases",
			    vm.bench_phase);
			return 1;
		}
		if (kv_path) {
			kv = fopen(kv_path, "w");
			if (!kv) {
				err("%s: %s", kv_path, strerror(errno));
				return 1;
			}
		}
		bench_report(&vm, kv);
		if (kv && fclose(kv)) {
			err("%s: %s", kv_path, strerror(errno));
			return 1;
		}
		/* The child ends on EOF; close before waiting for it. */
		close(vm.bench_sock);
		waitpid(vm.bench_child, NULL, 0);
		return 0;
	}
	/* Closing the fds destroys the VM and the ioreq guest. */
	return vm.failed || unfinished || !vm.checks ? 1 : 0;
}
