// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq-kvm-linux: a KVM VMM that boots an unmodified Linux kernel and
 * forwards every device access it does not emulate to /dev/ioreq-vmm.
 *
 * It loads an uncompressed vmlinux (an ELF: each PT_LOAD at its p_paddr)
 * and enters startup_64 the way Documentation/x86/boot.rst describes
 * the 64-bit boot protocol: long mode, the first 4 GiB identity-mapped,
 * a flat GDT, %rsi pointing at boot_params (the "zero page": setup header,
 * e820 map, command line, initramfs).  An MP table lists the vcpus, the
 * IOAPIC and the ISA interrupts; there are no ACPI tables, so the guest
 * scans PCI with configuration mechanism 1 (pci=conf1).
 *
 * Emulated here: the 0xcf8 address latch of mechanism 1 (the data ports
 * 0xcfc-0xcff become IOREQ_SPACE_PCI_CONFIG accesses), an 8250 UART at
 * 0x3f8 whose output goes to stdout (THRE interrupt on ISA IRQ 4), a
 * standing RTC with CMOS RAM at 0x70/0x71, and the keyboard controller's
 * reset command (port 0x64, 0xfe), which ends the VMM, as a triple fault
 * does.  KVM emulates the PIC, IOAPIC, local APICs (KVM_CREATE_IRQCHIP)
 * and the PIT (KVM_CREATE_PIT2).  Every other MMIO and port exit goes to
 * IOREQ_VMM_ACCESS.  Interrupts backends inject arrive as struct
 * ioreq_vmm_event on the ioreq guest's fd and become KVM_SIGNAL_MSI (MSI,
 * MSI-X) or KVM_IRQ_LINE (lines, INTx).
 *
 * Only libc, <linux/kvm.h>, <asm/bootparam.h> and the ioreq uapi headers.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
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
#include <sys/stat.h>
#include <sys/wait.h>

#include <asm/bootparam.h>
#include <linux/kvm.h>
#include <linux/ioreq.h>
#include <linux/ioreq_vmm.h>

#include "payload.h"
#include "vmm-common.h"

/* Guest-physical layout below 1 MiB (Linux keeps the first 1 MiB). */
#define GDT_GPA		0x0500ULL
#define ZERO_PAGE_GPA	0x7000ULL	/* struct boot_params */
#define PML4_GPA	0x9000ULL
#define PDPT_GPA	0xa000ULL
#define PD_GPA		0xb000ULL	/* 4 pages: 0-4 GiB in 2 MiB pages */
#define CMDLINE_GPA	0x20000ULL
#define CMDLINE_MAX	2048
#define EBDA_GPA	0x9fc00ULL	/* RAM ends here, reserved to 1 MiB */
#define MPTABLE_GPA	0xf0000ULL	/* scanned by the guest */
#define HIGH_RAM_GPA	0x100000ULL
#define PCI_HOLE_GPA	0xe0000000ULL	/* RAM must end below */

#define PTE_PRESENT	0x001ULL
#define PTE_RW		0x002ULL
#define PTE_PS		0x080ULL
#define GDT_CODE64	0x00af9b000000ffffULL	/* selector 0x08 */
#define GDT_DATA	0x00cf93000000ffffULL	/* selector 0x10 */

#define LAPIC_GPA	0xfee00000U
#define IOAPIC_GPA	0xfec00000U

/* The 8250 at COM1. */
#define COM1		0x3f8
#define COM1_IRQ	4
#define UART_IER_THRI	0x02
#define UART_LCR_DLAB	0x80
#define UART_FCR_FIFO	0x01
#define UART_LSR_IDLE	0x60	/* THRE | TEMT: the transmitter is empty */
#define UART_MSR_IDLE	0xb0	/* DCD | DSR | CTS */

/* The MC146818 RTC and CMOS RAM: index port, data port. */
#define CMOS_INDEX_PORT	0x70
#define CMOS_DATA_PORT	0x71
#define CMOS_SIZE	128

#define PCI_ADDR_PORT	0xcf8
#define PCI_DATA_PORT	0xcfc
#define KBD_STATUS_PORT	0x64
#define KBD_CMD_RESET	0xfe

#define MAX_VCPUS	16
#define MAX_PCI_WAIT	8
#define BENCH_MAX_REPEATS	1	/* fastpath.c's bench: not here */

struct vm {
	int kvm_fd;
	int vm_fd;
	int vmm_fd;		/* /dev/ioreq-vmm, with the guest */
	int ram_fd;		/* memfd backing guest RAM */
	uint8_t *ram;
	uint64_t ram_size;
	size_t run_size;
	unsigned int nr_vcpus;
	uint32_t timeout_ms;
	bool verbose;
	struct kvm_cpuid2 *cpuid;
	uint64_t entry;		/* startup_64's physical address */

	pthread_mutex_t pci_lock;	/* pci_addr */
	uint32_t pci_addr;		/* the 0xcf8 latch */

	pthread_mutex_t uart_lock;	/* the uart_* members and stdout */
	uint8_t uart_ier, uart_lcr, uart_mcr, uart_scr, uart_fcr;
	uint8_t uart_dll, uart_dlm;
	bool uart_thri;			/* THR empty interrupt pending */
	bool uart_line;			/* the level last set on COM1_IRQ */
	char uart_buf[256];		/* output not yet written out */
	unsigned int uart_len;

	pthread_mutex_t stat_lock;	/* unclaimed[] */
	struct {
		uint64_t addr;		/* space << 60 | address */
		unsigned long count;
	} unclaimed[16];		/* the first addresses nobody claimed */

	pthread_mutex_t cmos_lock;	/* cmos_index, cmos[] */
	uint8_t cmos_index;
	uint8_t cmos[CMOS_SIZE];

	unsigned long exits;		/* forwarded, atomic */
	unsigned long irqs;		/* delivered from backends, atomic */
	unsigned long irq_failed;	/* atomic */

	/*
	 * --fastpath: fastpath.c, shared with ioreq-kvm.  Its bench
	 * (ioreq-kvm --fastpath-bench) is not offered here: the members
	 * below it needs are only there to build it.
	 */
	struct fastpath *fp;		/* or NULL */
	bool quiet;			/* never set here */
	unsigned long irq_events;	/* the bench's; never counted here */
	unsigned int bench_repeats, checks, failed;
};

struct vcpu {
	struct vm *vm;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
};

static struct vm *the_vm;	/* for the exit paths */
static volatile sig_atomic_t counts_wanted;	/* SIGUSR1 came */

#define err(...) vmm_err(__VA_ARGS__)

/* A line of the fast path's (fastpath.c) to stderr. */
static void diag(struct vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void diag(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	(void)vm;
	fputs("ioreq-kvm-linux: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* For fastpath.c's bench, which is not offered here (below). */
static void irq_settle(struct vm *vm)
{
	(void)vm;
}

#include "fastpath.c"

/* Built with fastpath.c but ioreq-kvm's only: --fastpath-bench. */
static bool (*const fastpath_bench_phase)(struct vm *) __attribute__((unused)) =
	fastpath_phase;
static int (*const fastpath_bench_finish)(struct vm *, unsigned int)
	__attribute__((unused)) = fastpath_finish;

static void usage(FILE *f)
{
	fputs("usage: ioreq-kvm-linux --kernel VMLINUX [--initrd FILE] [--append CMDLINE]\n"
	      "                       [--mem MIB] [--vcpus N] [--guest-id ID]\n"
	      "                       [--wait-pci SBDF]... [--claim-wait SECS]\n"
	      "                       [--timeout SECS] [--access-timeout-ms MS] [--verbose]\n"
	      "                       [--fastpath]\n"
	      "  --fastpath  register the backends' ioeventfds and irqfds with KVM\n"
	      "              (KVM_IOEVENTFD, KVM_IRQFD): tools/kvm-vmm/fastpath.c\n"
	      "SIGUSR1 prints the counters to stderr (\"counts: ...\").\n",
	      f);
}

/* Write out what the guest sent to the UART.  Called with uart_lock. */
static void uart_flush(struct vm *vm)
{
	unsigned int off = 0;
	ssize_t n;

	while (off < vm->uart_len) {
		n = write(STDOUT_FILENO, vm->uart_buf + off,
			  vm->uart_len - off);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		off += n;
	}
	vm->uart_len = 0;
}

/* Count an access nobody claimed, for the summary at the end. */
static void count_unclaimed(struct vm *vm, unsigned int space, uint64_t addr)
{
	unsigned int i;

	addr |= (uint64_t)space << 60;
	pthread_mutex_lock(&vm->stat_lock);
	for (i = 0; i < 16; i++) {
		if (!vm->unclaimed[i].count)
			vm->unclaimed[i].addr = addr;
		if (vm->unclaimed[i].addr == addr) {
			vm->unclaimed[i].count++;
			break;
		}
	}
	pthread_mutex_unlock(&vm->stat_lock);
}

static void finish(struct vm *vm, int code, const char *why)
{
	unsigned int i;

	pthread_mutex_lock(&vm->uart_lock);
	uart_flush(vm);
	for (i = 0; i < 16 && vm->unclaimed[i].count; i++)
		fprintf(stderr, "ioreq-kvm-linux: unclaimed %s 0x%llx: %lu accesses\n",
			vm->unclaimed[i].addr >> 60 == IOREQ_SPACE_MMIO ?
			"MMIO" : "port",
			(unsigned long long)(vm->unclaimed[i].addr &
					     ~(0xfULL << 60)),
			vm->unclaimed[i].count);
	/* Unlocked: the alarm may come while main() holds fp->lock. */
	if (vm->fp)
		fprintf(stderr,
			"ioreq-kvm-linux: fastpath: %lu bindings added, %lu removed, %lu not taken by KVM\n",
			__atomic_load_n(&vm->fp->added, __ATOMIC_RELAXED),
			__atomic_load_n(&vm->fp->removed, __ATOMIC_RELAXED),
			__atomic_load_n(&vm->fp->refused, __ATOMIC_RELAXED));
	fprintf(stderr,
		"ioreq-kvm-linux: %s; %lu accesses forwarded, %lu interrupts delivered, %lu failed\n",
		why, __atomic_load_n(&vm->exits, __ATOMIC_RELAXED),
		__atomic_load_n(&vm->irqs, __ATOMIC_RELAXED),
		__atomic_load_n(&vm->irq_failed, __ATOMIC_RELAXED));
	fflush(stderr);
	_exit(code);
}

/* SIGUSR1: main() prints the counters. */
static void on_usr1(int sig)
{
	(void)sig;
	counts_wanted = 1;
}

/*
 * The counters so far, for a benchmark to take differences of: accesses
 * forwarded to ioreq (each a VMM exit served in userspace), interrupts
 * delivered by this process, and with --fastpath the bindings KVM took.
 */
static void print_counts(struct vm *vm)
{
	unsigned long added = 0, removed = 0, refused = 0;

	if (vm->fp) {
		pthread_mutex_lock(&vm->fp->lock);
		added = vm->fp->added;
		removed = vm->fp->removed;
		refused = vm->fp->refused;
		pthread_mutex_unlock(&vm->fp->lock);
	}
	fprintf(stderr,
		"ioreq-kvm-linux: counts: forwarded %lu irqs %lu irq_failed %lu fastpath %s bindings_added %lu removed %lu refused %lu\n",
		__atomic_load_n(&vm->exits, __ATOMIC_RELAXED),
		__atomic_load_n(&vm->irqs, __ATOMIC_RELAXED),
		__atomic_load_n(&vm->irq_failed, __ATOMIC_RELAXED),
		vm->fp ? "on" : "off", added, removed, refused);
	fflush(stderr);
}

static void on_alarm(int sig)
{
	(void)sig;
	finish(the_vm, 3, "time limit reached");
}

/* Set COM1_IRQ's level from the UART's state.  Called with uart_lock. */
static void uart_update_irq(struct vm *vm)
{
	bool level = (vm->uart_ier & UART_IER_THRI) && vm->uart_thri;
	struct kvm_irq_level line = { .irq = COM1_IRQ, .level = level };

	if (level == vm->uart_line)
		return;
	vm->uart_line = level;
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &line) < 0)
		err("KVM_IRQ_LINE %u: %s", COM1_IRQ, strerror(errno));
}

/*
 * The 8250: enough for Linux's console and its serial driver.  No
 * input; the transmitter is always empty, so a write to THR sends the
 * byte and raises the THR-empty interrupt again, as a real UART would
 * once the byte is out.
 */
static void uart_access(struct vm *vm, unsigned int reg, bool write,
			uint8_t *val)
{
	bool dlab;

	pthread_mutex_lock(&vm->uart_lock);
	dlab = vm->uart_lcr & UART_LCR_DLAB;
	switch (reg) {
	case 0:
		if (dlab) {
			if (write)
				vm->uart_dll = *val;
			else
				*val = vm->uart_dll;
			break;
		}
		if (!write) {
			*val = 0;	/* no input */
			break;
		}
		vm->uart_buf[vm->uart_len++] = *val;
		if (*val == '\n' || vm->uart_len == sizeof(vm->uart_buf))
			uart_flush(vm);
		vm->uart_thri = true;
		break;
	case 1:
		if (dlab) {
			if (write)
				vm->uart_dlm = *val;
			else
				*val = vm->uart_dlm;
			break;
		}
		if (write) {
			/* Enabling it when THR is empty raises it. */
			if ((*val & UART_IER_THRI) &&
			    !(vm->uart_ier & UART_IER_THRI))
				vm->uart_thri = true;
			vm->uart_ier = *val & 0x0f;
		} else {
			*val = vm->uart_ier;
		}
		break;
	case 2:
		if (write) {
			vm->uart_fcr = *val;
			break;
		}
		if ((vm->uart_ier & UART_IER_THRI) && vm->uart_thri) {
			*val = 0x02;	/* THR empty; reading clears it */
			vm->uart_thri = false;
		} else {
			*val = 0x01;	/* nothing pending */
		}
		if (vm->uart_fcr & UART_FCR_FIFO)
			*val |= 0xc0;
		break;
	case 3:
		if (write)
			vm->uart_lcr = *val;
		else
			*val = vm->uart_lcr;
		break;
	case 4:
		if (write)
			vm->uart_mcr = *val & 0x1f;
		else
			*val = vm->uart_mcr;
		break;
	case 5:
		if (!write)
			*val = UART_LSR_IDLE;
		break;
	case 6:
		if (!write)
			*val = UART_MSR_IDLE;
		break;
	case 7:
		if (write)
			vm->uart_scr = *val;
		else
			*val = vm->uart_scr;
		break;
	}
	uart_update_irq(vm);
	pthread_mutex_unlock(&vm->uart_lock);
}

/*
 * The RTC, as far as Linux's rtc_cmos and its wall-clock read need one: a
 * clock that stands still at 2026-01-01 00:00:00 (BCD, 24-hour), never
 * "update in progress", RAM and time valid, no interrupts; the other
 * bytes of CMOS RAM are kept as written.  Without it rtc_cmos spins on a
 * status register of all ones (kvm-clock gives the guest its time).
 */
static void cmos_init(struct vm *vm)
{
	vm->cmos[0x07] = 0x01;		/* day of the month */
	vm->cmos[0x08] = 0x01;		/* month */
	vm->cmos[0x09] = 0x26;		/* year */
	vm->cmos[0x0a] = 0x26;		/* status A: 32 kHz, 1024 Hz, UIP clear */
	vm->cmos[0x0b] = 0x02;		/* status B: 24-hour, BCD */
	vm->cmos[0x0d] = 0x80;		/* status D: RAM and time valid */
	vm->cmos[0x32] = 0x20;		/* century */
}

static void cmos_access(struct vm *vm, unsigned int port, bool write,
			uint8_t *val)
{
	pthread_mutex_lock(&vm->cmos_lock);
	if (port == CMOS_INDEX_PORT) {
		if (write)
			vm->cmos_index = *val & (CMOS_SIZE - 1);	/* bit 7: NMI mask */
		else
			*val = 0xff;
	} else if (write) {
		/* Status C and D are read-only; A's UIP too. */
		if (vm->cmos_index == 0x0a)
			vm->cmos[0x0a] = *val & 0x7f;
		else if (vm->cmos_index != 0x0c && vm->cmos_index != 0x0d)
			vm->cmos[vm->cmos_index] = *val;
	} else {
		*val = vm->cmos[vm->cmos_index];
	}
	pthread_mutex_unlock(&vm->cmos_lock);
}

/* One access to IOREQ_VMM_ACCESS.  Return: 0, or -1 if the ioctl failed. */
static int forward(struct vcpu *vcpu, unsigned int space, bool write,
		   uint64_t addr, unsigned int len, uint8_t *data)
{
	struct vm *vm = vcpu->vm;
	struct ioreq_vmm_access a;

	__atomic_add_fetch(&vm->exits, 1, __ATOMIC_RELAXED);
	if (vmm_access(vm->vmm_fd, vcpu->index, space, write, addr, len,
		       vm->timeout_ms, data, &a) < 0) {
		err("vcpu %u: IOREQ_VMM_ACCESS space %u %s %u at 0x%" PRIx64 ": %s",
		    vcpu->index, space, write ? "write" : "read", len, addr,
		    strerror(errno));
		return -1;
	}
	if (a.status == IOREQ_VMM_STATUS_UNCLAIMED &&
	    space != IOREQ_SPACE_PCI_CONFIG)
		count_unclaimed(vm, space, addr);
	if (vm->verbose || a.status == IOREQ_VMM_STATUS_ABORTED ||
	    a.status == IOREQ_VMM_STATUS_TIMEDOUT)
		fprintf(stderr, "ioreq-kvm-linux: vcpu %u: space %u %s %u at 0x%" PRIx64 ": status %u data 0x%llx\n",
			vcpu->index, space, write ? "write" : "read", len,
			addr, a.status, (unsigned long long)a.data);
	return 0;
}

/*
 * PCI configuration mechanism 1: the address latch at 0xcf8 (4-byte
 * accesses; reads give it back), data at 0xcfc-0xcff as an access to
 * register (latch & 0xfc) + (port & 3) of bus/device/function from the
 * latch.  With the enable bit clear, data reads give all ones.
 */
static int pci_access(struct vcpu *vcpu, unsigned int port, bool write,
		      unsigned int len, uint8_t *data)
{
	struct vm *vm = vcpu->vm;
	uint32_t latch;
	uint64_t addr;

	if (port >= PCI_ADDR_PORT && port < PCI_ADDR_PORT + 4) {
		if (port != PCI_ADDR_PORT || len != 4) {
			/* Not mechanism 1 (byte access: mechanism 2 probes). */
			if (!write)
				memset(data, 0xff, len);
			return 0;
		}
		pthread_mutex_lock(&vm->pci_lock);
		if (write)
			memcpy(&vm->pci_addr, data, 4);
		else
			memcpy(data, &vm->pci_addr, 4);
		pthread_mutex_unlock(&vm->pci_lock);
		return 0;
	}
	pthread_mutex_lock(&vm->pci_lock);
	latch = vm->pci_addr;
	pthread_mutex_unlock(&vm->pci_lock);
	if (!(latch & 0x80000000U) || (port & 3) + len > 4) {
		if (!write)
			memset(data, 0xff, len);
		return 0;
	}
	/* Bus, device, function: bits 23-8 of the latch, as in an SBDF. */
	addr = (uint64_t)((latch >> 8) & 0xffff) << 32 |
	       ((latch & 0xfc) + (port & 3));
	return forward(vcpu, IOREQ_SPACE_PCI_CONFIG, write, addr, len, data);
}

/* Return: 0 to go on, 1 if the guest reset itself, -1 on error. */
static int handle_pio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;
	unsigned int port = run->io.port, size = run->io.size, i;
	int ret = 0;

	if (run->io.data_offset + (uint64_t)run->io.count * size >
	    vcpu->vm->run_size) {
		err("vcpu %u: port I/O data outside kvm_run", vcpu->index);
		return -1;
	}
	for (i = 0; i < run->io.count && !ret; i++, data += size) {
		if (port >= COM1 && port < COM1 + 8 && size == 1)
			uart_access(vcpu->vm, port - COM1, write, data);
		else if ((port == CMOS_INDEX_PORT || port == CMOS_DATA_PORT) &&
			 size == 1)
			cmos_access(vcpu->vm, port, write, data);
		else if (port >= PCI_ADDR_PORT && port < PCI_DATA_PORT + 4)
			ret = pci_access(vcpu, port, write, size, data);
		else if (port == KBD_STATUS_PORT && write && size == 1 &&
			 *data == KBD_CMD_RESET)
			ret = 1;
		else
			ret = forward(vcpu, IOREQ_SPACE_PIO, write, port, size,
				      data);
	}
	return ret;
}

static int handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned int len = run->mmio.len, i;

	if (len == 1 || len == 2 || len == 4 || len == 8)
		return forward(vcpu, IOREQ_SPACE_MMIO, run->mmio.is_write,
			       run->mmio.phys_addr, len, run->mmio.data);
	for (i = 0; i < len && i < sizeof(run->mmio.data); i++)
		if (forward(vcpu, IOREQ_SPACE_MMIO, run->mmio.is_write,
			    run->mmio.phys_addr + i, 1, run->mmio.data + i))
			return -1;
	return 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	char why[96];
	int ret;

	for (;;) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(why, sizeof(why), "vcpu %u: KVM_RUN: %s",
				 vcpu->index, strerror(errno));
			finish(vm, 1, why);
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			ret = handle_pio(vcpu);
			break;
		case KVM_EXIT_MMIO:
			ret = handle_mmio(vcpu);
			break;
		case KVM_EXIT_SHUTDOWN:
			/* Linux's last way to reboot is a triple fault. */
			snprintf(why, sizeof(why),
				 "vcpu %u: shutdown (the guest reset itself)",
				 vcpu->index);
			finish(vm, 0, why);
			return NULL;
		case KVM_EXIT_HLT:
			snprintf(why, sizeof(why), "vcpu %u: halted",
				 vcpu->index);
			finish(vm, 0, why);
			return NULL;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(why, sizeof(why),
				 "vcpu %u: VM entry failed, reason 0x%llx",
				 vcpu->index, (unsigned long long)
				 run->fail_entry.hardware_entry_failure_reason);
			finish(vm, 1, why);
			return NULL;
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(why, sizeof(why),
				 "vcpu %u: KVM internal error, suberror %u",
				 vcpu->index, run->internal.suberror);
			finish(vm, 1, why);
			return NULL;
		default:
			snprintf(why, sizeof(why),
				 "vcpu %u: unexpected exit reason %u",
				 vcpu->index, run->exit_reason);
			finish(vm, 1, why);
			return NULL;
		}
		if (ret > 0)
			finish(vm, 0, "the guest reset itself (keyboard controller)");
		if (ret < 0)
			finish(vm, 1, "a vcpu stopped on an error");
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
			err("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
			return -1;
		}
		return 0;
	case IOREQ_IRQ_MSI:
		if (ret < 0) {
			err("KVM_SIGNAL_MSI 0x%llx/0x%x: %s",
			    (unsigned long long)irq->msi_addr, irq->msi_data,
			    strerror(errno));
			return -1;
		}
		if (vm->verbose)
			fprintf(stderr, "ioreq-kvm-linux: MSI 0x%llx/0x%x\n",
				(unsigned long long)irq->msi_addr,
				irq->msi_data);
		return 0;
	default:
		err("interrupt of unknown kind %u", irq->kind);
		return -1;
	}
}

/* Wait for interrupt events on the ioreq guest's fd and deliver them. */
static void *irq_thread(void *arg)
{
	struct vm *vm = arg;
	struct pollfd pfd = { .fd = vm->vmm_fd, .events = POLLIN };
	struct ioreq_vmm_event ev[16];
	ssize_t n;
	int i;

	for (;;) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			err("poll of the ioreq guest: %s", strerror(errno));
			return NULL;
		}
		for (;;) {
			n = read(vm->vmm_fd, ev, sizeof(ev));
			if (n < 0)
				break;
			for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++) {
				if (ev[i].lost)
					err("%u interrupt events lost",
					    ev[i].lost);
				if (ev[i].type != IOREQ_VMM_EVENT_IRQ)
					continue;
				if (deliver(vm, &ev[i]))
					__atomic_add_fetch(&vm->irq_failed, 1,
							   __ATOMIC_RELAXED);
				else
					__atomic_add_fetch(&vm->irqs, 1,
							   __ATOMIC_RELAXED);
			}
		}
		if (errno != EAGAIN && errno != EINTR) {
			err("reading the ioreq guest's events: %s",
			    strerror(errno));
			return NULL;
		}
	}
}

static uint8_t *read_file(const char *path, size_t *size)
{
	struct stat st;
	uint8_t *buf;
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		err("%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, st.st_size - off);
		if (n <= 0) {
			err("%s: %s", path, n ? strerror(errno) : "short read");
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
 * Load vmlinux: every PT_LOAD segment at its physical address, the rest
 * of its memory size zeroed.  The entry point is startup_64's physical
 * address.  Return: the highest address loaded, or 0 on error.
 */
static uint64_t load_kernel(struct vm *vm, const char *path)
{
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	uint64_t end = 0;
	uint8_t *img;
	size_t size;
	unsigned int i;

	img = read_file(path, &size);
	if (!img)
		return 0;
	eh = (const Elf64_Ehdr *)img;
	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    eh->e_phentsize != sizeof(*ph) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(*ph) > size) {
		err("%s: not a 64-bit x86 ELF vmlinux (extract it from the bzImage)",
		    path);
		free(img);
		return 0;
	}
	ph = (const Elf64_Phdr *)(img + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_offset + ph[i].p_filesz > size ||
		    ph[i].p_filesz > ph[i].p_memsz ||
		    ph[i].p_paddr + ph[i].p_memsz > vm->ram_size) {
			err("%s: segment %u (0x%llx + 0x%llx) does not fit in %llu MiB",
			    path, i, (unsigned long long)ph[i].p_paddr,
			    (unsigned long long)ph[i].p_memsz,
			    (unsigned long long)(vm->ram_size >> 20));
			free(img);
			return 0;
		}
		memcpy(vm->ram + ph[i].p_paddr, img + ph[i].p_offset,
		       ph[i].p_filesz);
		memset(vm->ram + ph[i].p_paddr + ph[i].p_filesz, 0,
		       ph[i].p_memsz - ph[i].p_filesz);
		if (ph[i].p_paddr + ph[i].p_memsz > end)
			end = ph[i].p_paddr + ph[i].p_memsz;
	}
	/* vmlinux's e_entry is a virtual address of startup_64 on some
	 * builds: the physical one is its offset into the first segment.
	 */
	vm->entry = eh->e_entry;
	if (vm->entry >= 0xffffffff80000000ULL)
		vm->entry -= 0xffffffff80000000ULL;
	free(img);
	return end;
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

/*
 * The MP table (Intel MultiProcessor Specification 1.4): the floating
 * pointer and one configuration table at MPTABLE_GPA, listing a
 * processor per vcpu (APIC ID = vcpu index), an ISA bus, the IOAPIC and
 * ISA interrupts 0-15 on its pins 0-15 (KVM's default routing), ExtINT
 * on LINT0 and NMI on LINT1.
 */
static void setup_mptable(struct vm *vm)
{
	uint8_t *base = vm->ram + MPTABLE_GPA, *mpc = base + 16, *e;
	struct kvm_cpuid_entry2 *leaf1 = NULL;
	uint8_t ioapic_id = vm->nr_vcpus;
	uint32_t u32;
	uint16_t u16, n = 0;
	unsigned int i;

	for (i = 0; i < vm->cpuid->nent; i++)
		if (vm->cpuid->entries[i].function == 1)
			leaf1 = &vm->cpuid->entries[i];
	memset(base, 0, 0x1000);
	e = mpc + 44;
	for (i = 0; i < vm->nr_vcpus; i++, e += 20, n++) {
		e[0] = 0;			/* processor */
		e[1] = i;			/* local APIC ID */
		e[2] = 0x14;			/* its version */
		e[3] = 0x01 | (i ? 0 : 0x02);	/* enabled, BSP */
		u32 = leaf1 ? leaf1->eax : 0x600;	/* signature */
		memcpy(e + 4, &u32, 4);
		u32 = leaf1 ? leaf1->edx : 0;	/* feature flags */
		memcpy(e + 8, &u32, 4);
	}
	e[0] = 1;				/* bus 0: ISA */
	e[1] = 0;
	memcpy(e + 2, "ISA   ", 6);
	e += 8;
	n++;
	e[0] = 2;				/* IOAPIC */
	e[1] = ioapic_id;
	e[2] = 0x11;
	e[3] = 1;				/* usable */
	u32 = IOAPIC_GPA;
	memcpy(e + 4, &u32, 4);
	e += 8;
	n++;
	for (i = 0; i < 16; i++, e += 8, n++) {
		e[0] = 3;			/* I/O interrupt */
		e[1] = 0;			/* INT */
		e[2] = e[3] = 0;		/* conforms to the bus */
		e[4] = 0;			/* ISA */
		e[5] = i;
		e[6] = ioapic_id;
		e[7] = i;			/* pin */
	}
	for (i = 0; i < 2; i++, e += 8, n++) {
		e[0] = 4;			/* local interrupt */
		e[1] = i ? 1 : 3;		/* NMI : ExtINT */
		e[4] = 0;
		e[5] = 0;
		e[6] = 0xff;			/* every local APIC */
		e[7] = i;			/* LINT0, LINT1 */
	}
	memcpy(mpc, "PCMP", 4);
	u16 = e - mpc;
	memcpy(mpc + 4, &u16, 2);
	mpc[6] = 4;
	memcpy(mpc + 8, "IOREQ   ", 8);
	memcpy(mpc + 16, "KVM-VMM     ", 12);
	memcpy(mpc + 34, &n, 2);
	u32 = LAPIC_GPA;
	memcpy(mpc + 36, &u32, 4);
	mpc[7] = checksum(mpc, u16);

	memcpy(base, "_MP_", 4);
	u32 = MPTABLE_GPA + 16;
	memcpy(base + 4, &u32, 4);
	base[8] = 1;				/* 16 bytes */
	base[9] = 4;
	base[10] = checksum(base, 16);
}

static int setup_boot(struct vm *vm, const char *kernel, const char *initrd,
		      const char *cmdline)
{
	struct boot_params *bp = (struct boot_params *)(vm->ram + ZERO_PAGE_GPA);
	uint64_t *pml4 = (uint64_t *)(vm->ram + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(vm->ram + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(vm->ram + PD_GPA);
	uint64_t *gdt = (uint64_t *)(vm->ram + GDT_GPA);
	uint64_t kend, rd_gpa;
	uint8_t *rd;
	size_t rd_size;
	unsigned int i;

	pml4[0] = PDPT_GPA | PTE_PRESENT | PTE_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (PD_GPA + i * 0x1000) | PTE_PRESENT | PTE_RW;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_PRESENT | PTE_RW | PTE_PS;
	gdt[1] = GDT_CODE64;
	gdt[2] = GDT_DATA;

	kend = load_kernel(vm, kernel);
	if (!kend)
		return -1;

	memset(bp, 0, sizeof(*bp));
	bp->hdr.boot_flag = 0xaa55;
	bp->hdr.header = 0x53726448;		/* "HdrS" */
	bp->hdr.version = 0x020f;
	bp->hdr.type_of_loader = 0xff;		/* undefined loader */
	bp->hdr.loadflags = LOADED_HIGH;
	bp->hdr.kernel_alignment = 0x1000000;
	bp->hdr.cmdline_size = CMDLINE_MAX - 1;
	bp->hdr.initrd_addr_max = PCI_HOLE_GPA - 1;
	if (strlen(cmdline) >= CMDLINE_MAX) {
		err("the command line is longer than %u bytes", CMDLINE_MAX - 1);
		return -1;
	}
	strcpy((char *)vm->ram + CMDLINE_GPA, cmdline);
	bp->hdr.cmd_line_ptr = CMDLINE_GPA;

	if (initrd) {
		rd = read_file(initrd, &rd_size);
		if (!rd)
			return -1;
		rd_gpa = (vm->ram_size - rd_size) & ~0xfffULL;
		if (rd_size > vm->ram_size || rd_gpa < kend) {
			err("%s: %zu bytes do not fit between the kernel and the end of RAM",
			    initrd, rd_size);
			free(rd);
			return -1;
		}
		memcpy(vm->ram + rd_gpa, rd, rd_size);
		free(rd);
		bp->hdr.ramdisk_image = rd_gpa;
		bp->hdr.ramdisk_size = rd_size;
	}

	bp->e820_table[0].addr = 0;
	bp->e820_table[0].size = EBDA_GPA;
	bp->e820_table[0].type = 1;		/* RAM */
	bp->e820_table[1].addr = EBDA_GPA;
	bp->e820_table[1].size = HIGH_RAM_GPA - EBDA_GPA;
	bp->e820_table[1].type = 2;		/* reserved */
	bp->e820_table[2].addr = HIGH_RAM_GPA;
	bp->e820_table[2].size = vm->ram_size - HIGH_RAM_GPA;
	bp->e820_table[2].type = 1;
	bp->e820_entries = 3;

	setup_mptable(vm);
	return 0;
}

/* vcpu 0 starts at startup_64 in long mode; the others wait for a SIPI. */
static int setup_vcpu(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	size_t csize;
	unsigned int i;

	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, vcpu->index);
	if (vcpu->fd < 0) {
		err("KVM_CREATE_VCPU %u: %s", vcpu->index, strerror(errno));
		return -1;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		err("mmap of vcpu %u's kvm_run: %s", vcpu->index,
		    strerror(errno));
		return -1;
	}
	/* The initial APIC ID in CPUID must be the vcpu's. */
	csize = sizeof(*cpuid) + vm->cpuid->nent * sizeof(cpuid->entries[0]);
	cpuid = malloc(csize);
	if (!cpuid) {
		err("out of memory");
		return -1;
	}
	memcpy(cpuid, vm->cpuid, csize);
	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		/*
		 * KVM leaves the hypervisor bit to the VMM; without it the
		 * guest ignores KVM's leaves: no kvm-clock, and it tests
		 * its timer interrupt against the TSC, which fails when
		 * the host is loaded.
		 */
		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffff) | vcpu->index << 24;
			e->ecx |= 1U << 31;
		}
		if (e->function == 0xb || e->function == 0x1f)
			e->edx = vcpu->index;
		/*
		 * No XSAVE (the guest uses FXSAVE, and no AVX): with KVM
		 * nested on a TCG-emulated CPU the XSAVE area sizes in
		 * leaf 0xd do not add up, and the guest's
		 * fpu__init_system_xstate() warns and gives XSAVE up.
		 */
		if (e->function == 1)
			e->ecx &= ~(1U << 26);
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0) {
		err("KVM_SET_CPUID2 on vcpu %u: %s", vcpu->index,
		    strerror(errno));
		free(cpuid);
		return -1;
	}
	free(cpuid);
	if (vcpu->index)
		return 0;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0) {
		err("KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	vmm_long_mode(&sregs, GDT_GPA, 3 * 8 - 1, PML4_GPA);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0) {
		err("KVM_SET_SREGS: %s", strerror(errno));
		return -1;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = vm->entry;
	regs.rsi = ZERO_PAGE_GPA;
	regs.rflags = 0x2;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0) {
		err("KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int setup_kvm(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	if (vmm_kvm_open(&vm->kvm_fd, &vm->run_size, &vm->cpuid, &vm->vm_fd))
		return -1;
	/* Needed on Intel hosts: three pages below 4 GiB, out of RAM's way. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0) {
		err("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		err("KVM_CREATE_PIT2: %s", strerror(errno));
		return -1;
	}
	return vmm_guest_ram(vm->vm_fd, vm->vmm_fd, "ioreq-kvm-linux-ram",
			     vm->ram_size, &vm->ram_fd, &vm->ram);
}

/* Wait until a backend answers a read of @sbdf's vendor ID. */
static int pci_wait(struct vm *vm, uint32_t sbdf, unsigned int secs)
{
	struct timespec nap = { .tv_nsec = 50 * 1000 * 1000 };
	unsigned int tries = secs * 20 + 1;

	while (tries--) {
		struct ioreq_vmm_access a = {
			.size = sizeof(a),
			.space = IOREQ_SPACE_PCI_CONFIG,
			.op = IOREQ_OP_READ,
			.len = 4,
			.addr = (uint64_t)sbdf << 32,
			.timeout_ms = vm->timeout_ms,
		};

		if (ioctl(vm->vmm_fd, IOREQ_VMM_ACCESS, &a) < 0) {
			err("IOREQ_VMM_ACCESS probing PCI %04x: %s", sbdf,
			    strerror(errno));
			return -1;
		}
		if (a.status == IOREQ_VMM_STATUS_DONE) {
			fprintf(stderr, "ioreq-kvm-linux: PCI %02x:%02x.%x: %04llx:%04llx\n",
				sbdf >> 8 & 0xff, sbdf >> 3 & 0x1f, sbdf & 7,
				(unsigned long long)(a.data & 0xffff),
				(unsigned long long)(a.data >> 16 & 0xffff));
			return 0;
		}
		nanosleep(&nap, NULL);
	}
	err("no backend claimed PCI %04x within %u s", sbdf, secs);
	return -1;
}

/* [SEG:]BUS:DEV.FN, hex, as lspci prints it; segment 0 only. */
static int parse_sbdf(const char *s, uint32_t *sbdf)
{
	unsigned int seg = 0, bus, dev, fn;
	char end;

	if (sscanf(s, "%x:%x:%x.%x%c", &seg, &bus, &dev, &fn, &end) != 4) {
		seg = 0;
		if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &end) != 3)
			return -1;
	}
	if (seg || bus > 0xff || dev > 0x1f || fn > 7)
		return -1;
	*sbdf = bus << 8 | dev << 3 | fn;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "mem", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'n' },
		{ "guest-id", required_argument, NULL, 'g' },
		{ "wait-pci", required_argument, NULL, 'p' },
		{ "claim-wait", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "access-timeout-ms", required_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "fastpath", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	static struct vm vm = {
		.pci_lock = PTHREAD_MUTEX_INITIALIZER,
		.uart_lock = PTHREAD_MUTEX_INITIALIZER,
		.stat_lock = PTHREAD_MUTEX_INITIALIZER,
		.cmos_lock = PTHREAD_MUTEX_INITIALIZER,
		.ram_size = 256ULL << 20,
		.nr_vcpus = 1,
		.vmm_fd = -1,
	};
	static struct vcpu vcpus[MAX_VCPUS];
	const char *kernel = NULL, *initrd = NULL, *dev;
	const char *cmdline = "console=ttyS0 pci=conf1 reboot=t panic=-1";
	uint32_t pci[MAX_PCI_WAIT];
	unsigned int npci = 0, claim_wait = 30, timeout = 0, i;
	struct ioreq_vmm_create c = { .size = sizeof(c) };
	pthread_t irq;
	sigset_t alrm;
	char *end;
	int opt;

	vmm_prog = "ioreq-kvm-linux";
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		errno = 0;
		switch (opt) {
		case 'k':
			kernel = optarg;
			break;
		case 'i':
			initrd = optarg;
			break;
		case 'a':
			cmdline = optarg;
			break;
		case 'm':
			vm.ram_size = strtoull(optarg, &end, 0) << 20;
			if (*end || vm.ram_size < (32ULL << 20) ||
			    vm.ram_size > PCI_HOLE_GPA) {
				err("--mem %s: 32 to 3584 MiB", optarg);
				return 2;
			}
			break;
		case 'n':
			vm.nr_vcpus = strtoul(optarg, &end, 0);
			if (*end || !vm.nr_vcpus || vm.nr_vcpus > MAX_VCPUS) {
				err("--vcpus %s: 1 to %u", optarg, MAX_VCPUS);
				return 2;
			}
			break;
		case 'g':
			c.guest_id = strtoull(optarg, &end, 0);
			if (*end || errno) {
				err("--guest-id %s: a number", optarg);
				return 2;
			}
			break;
		case 'p':
			if (npci == MAX_PCI_WAIT || parse_sbdf(optarg, &pci[npci])) {
				err("--wait-pci %s: BUS:DEV.FN (at most %u)",
				    optarg, MAX_PCI_WAIT);
				return 2;
			}
			npci++;
			break;
		case 'w':
			claim_wait = strtoul(optarg, &end, 0);
			if (*end) {
				err("--claim-wait %s: seconds", optarg);
				return 2;
			}
			break;
		case 't':
			timeout = strtoul(optarg, &end, 0);
			if (*end) {
				err("--timeout %s: seconds", optarg);
				return 2;
			}
			break;
		case 'T':
			vm.timeout_ms = strtoul(optarg, &end, 0);
			if (*end) {
				err("--access-timeout-ms %s: milliseconds",
				    optarg);
				return 2;
			}
			break;
		case 'v':
			vm.verbose = true;
			break;
		case 'F':
			fastpath_option(&vm, opt, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!kernel || optind != argc) {
		usage(stderr);
		return 2;
	}
	the_vm = &vm;
	cmos_init(&vm);

	dev = getenv("IOREQ_VMM_DEV");
	vm.vmm_fd = open(dev ? dev : "/dev/ioreq-vmm", O_RDWR | O_CLOEXEC);
	if (vm.vmm_fd < 0) {
		err("%s: %s (is ioreq_vmm.ko loaded?)",
		    dev ? dev : "/dev/ioreq-vmm", strerror(errno));
		return 1;
	}
	c.nr_vcpus = vm.nr_vcpus;
	if (ioctl(vm.vmm_fd, IOREQ_VMM_CREATE_GUEST, &c) < 0) {
		err("IOREQ_VMM_CREATE_GUEST: %s", strerror(errno));
		return 1;
	}
	fprintf(stderr, "ioreq-kvm-linux: ioreq guest %llu, %u vcpus, %llu MiB\n",
		(unsigned long long)c.guest_id, vm.nr_vcpus,
		(unsigned long long)(vm.ram_size >> 20));
	if (setup_kvm(&vm) || setup_boot(&vm, kernel, initrd, cmdline))
		return 1;
	if (fcntl(vm.vmm_fd, F_SETFL, O_NONBLOCK) < 0) {
		err("O_NONBLOCK on the ioreq guest: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < npci; i++)
		if (pci_wait(&vm, pci[i], claim_wait))
			return 1;
	/*
	 * SIGALRM (--timeout) only in the main thread, which holds no lock
	 * when it runs finish(): the other threads start with it blocked.
	 */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigaddset(&alrm, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &alrm, NULL);
	if (vm.fp && fastpath_start(&vm, c.guest_id))
		return 1;
	if (pthread_create(&irq, NULL, irq_thread, &vm)) {
		err("cannot start the irq thread");
		return 1;
	}
	for (i = 0; i < vm.nr_vcpus; i++) {
		vcpus[i].vm = &vm;
		vcpus[i].index = i;
		if (setup_vcpu(&vm, &vcpus[i]))
			return 1;
	}

	fprintf(stderr, "ioreq-kvm-linux: starting %s at 0x%llx\n", kernel,
		(unsigned long long)vm.entry);
	for (i = 0; i < vm.nr_vcpus; i++)
		if (pthread_create(&vcpus[i].thread, NULL, vcpu_thread,
				   &vcpus[i])) {
			err("cannot start vcpu %u", i);
			return 1;
		}
	if (timeout) {
		signal(SIGALRM, on_alarm);
		alarm(timeout);
	}
	signal(SIGUSR1, on_usr1);
	pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
	/* The vcpu threads end the process (or the alarm does). */
	for (;;) {
		pause();
		if (counts_wanted) {
			counts_wanted = 0;
			print_counts(&vm);
		}
	}
}
