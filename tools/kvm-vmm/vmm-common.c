// SPDX-License-Identifier: GPL-2.0
/*
 * The part of ioreq-kvm and ioreq-kvm-linux that is the same in both:
 * see vmm-common.h.  Only libc, <linux/kvm.h> and the ioreq uapi headers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmm-common.h"

#define CR0_PE		0x00000001ULL
#define CR0_MP		0x00000002ULL
#define CR0_ET		0x00000010ULL
#define CR0_NE		0x00000020ULL
#define CR0_WP		0x00010000ULL
#define CR0_PG		0x80000000ULL
#define CR4_PAE		0x00000020ULL
#define EFER_LME	0x00000100ULL
#define EFER_LMA	0x00000400ULL

const char *vmm_prog = "ioreq-kvm";

/* An error line on stderr, after what stdout holds so far. */
void vmm_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", vmm_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * vmm_kvm_open() - open /dev/kvm and create a VM
 * @kvm_fd: /dev/kvm's fd
 * @run_size: the mmap size of a vcpu's struct kvm_run
 * @cpuid: what KVM_GET_SUPPORTED_CPUID gives (calloc'ed)
 * @vm_fd: the VM's fd
 *
 * Return: 0, or -1 with the reason on stderr.
 */
int vmm_kvm_open(int *kvm_fd, size_t *run_size, struct kvm_cpuid2 **cpuid,
		 int *vm_fd)
{
	unsigned int nent = 256;
	int ret;

	*kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (*kvm_fd < 0) {
		vmm_err("/dev/kvm: %s (is kvm-intel or kvm-amd loaded?)",
			strerror(errno));
		return -1;
	}
	ret = ioctl(*kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		vmm_err("KVM API version %d, expected %d", ret,
			KVM_API_VERSION);
		return -1;
	}
	ret = ioctl(*kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret < (int)sizeof(struct kvm_run)) {
		vmm_err("KVM_GET_VCPU_MMAP_SIZE: %s",
			ret < 0 ? strerror(errno) : "too small");
		return -1;
	}
	*run_size = ret;

	*cpuid = calloc(1, sizeof(**cpuid) +
			nent * sizeof(struct kvm_cpuid_entry2));
	if (!*cpuid) {
		vmm_err("out of memory");
		return -1;
	}
	(*cpuid)->nent = nent;
	if (ioctl(*kvm_fd, KVM_GET_SUPPORTED_CPUID, *cpuid) < 0) {
		vmm_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return -1;
	}

	*vm_fd = ioctl(*kvm_fd, KVM_CREATE_VM, 0);
	if (*vm_fd < 0) {
		vmm_err("KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * vmm_guest_ram() - @size bytes of guest RAM at guest-physical 0
 * @name: the memfd's name
 * @ram_fd: the memfd, which backends can be lent
 * @ram: where it is mapped here; left alone on failure
 *
 * The memfd becomes KVM memory slot 0 and is lent to /dev/ioreq-vmm's
 * guest @vmm_fd (IOREQ_VMM_ADD_MEMORY) for backends to map.
 *
 * Return: 0, or -1 with the reason on stderr.
 */
int vmm_guest_ram(int vm_fd, int vmm_fd, const char *name, uint64_t size,
		  int *ram_fd, uint8_t **ram)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = size,
	};
	struct ioreq_vmm_memory mem = {
		.size = sizeof(mem),
		.gpa = 0,
		.len = size,
		.offset = 0,
	};
	void *p;

	*ram_fd = memfd_create(name, MFD_CLOEXEC);
	if (*ram_fd < 0 || ftruncate(*ram_fd, size) < 0) {
		vmm_err("guest RAM memfd of %llu bytes: %s",
			(unsigned long long)size, strerror(errno));
		return -1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *ram_fd, 0);
	if (p == MAP_FAILED) {
		vmm_err("mmap of guest RAM: %s", strerror(errno));
		return -1;
	}
	*ram = p;
	slot.userspace_addr = (uintptr_t)p;
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
		vmm_err("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -1;
	}
	mem.fd = *ram_fd;
	if (ioctl(vmm_fd, IOREQ_VMM_ADD_MEMORY, &mem) < 0) {
		vmm_err("IOREQ_VMM_ADD_MEMORY (guest RAM 0-0x%llx): %s",
			(unsigned long long)size, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * vmm_long_mode() - set @sregs for 64-bit mode with paging
 * @gdt: the GDT's guest address: a null descriptor, a 64-bit code
 *	segment (selector 0x08) and a flat data segment (0x10)
 * @gdt_limit: its size less one
 * @pml4: the top page table's guest address (CR3)
 */
void vmm_long_mode(struct kvm_sregs *sregs, uint64_t gdt, uint16_t gdt_limit,
		   uint64_t pml4)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x08,
		.type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1,
		.l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10,
		.type = 3, .present = 1, .dpl = 0, .db = 1, .s = 1,
		.l = 0, .g = 1,
	};

	sregs->cs = code;
	sregs->ds = data;
	sregs->es = data;
	sregs->fs = data;
	sregs->gs = data;
	sregs->ss = data;
	sregs->gdt.base = gdt;
	sregs->gdt.limit = gdt_limit;
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs->cr3 = pml4;
	sregs->cr4 = CR4_PAE;
	sregs->efer = EFER_LME | EFER_LMA;
}

/*
 * vmm_access() - one access of @len (1, 2, 4 or 8) bytes to IOREQ_VMM_ACCESS
 * @data: the bytes of the access, little-endian: the value of a write, or
 *	where the value of a read goes
 * @a: the answered struct (status, data) for the caller's diagnostics
 *
 * Return: 0, or -1 with errno if the ioctl failed (the vcpu cannot go on).
 */
int vmm_access(int vmm_fd, unsigned int vcpu, unsigned int space, bool write,
	       uint64_t addr, unsigned int len, uint32_t timeout_ms,
	       uint8_t *data, struct ioreq_vmm_access *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->vcpu = vcpu;
	a->space = space;
	a->op = write ? IOREQ_OP_WRITE : IOREQ_OP_READ;
	a->len = len;
	a->addr = addr;
	a->timeout_ms = timeout_ms;
	if (write)
		memcpy(&a->data, data, len);	/* x86: little-endian */
	if (ioctl(vmm_fd, IOREQ_VMM_ACCESS, a) < 0)
		return -1;
	if (!write)
		memcpy(data, &a->data, len);
	return 0;
}

/*
 * The GSI of a PCI device's INTx pin: the usual swizzle of slots on bus 0
 * onto the IOAPIC pins 16-19, as firmware routes them with no bridge in
 * between: GSI 16 + (device + pin) % 4.  The segment, bus and function do
 * not matter.
 */
unsigned int vmm_intx_gsi(uint32_t sbdf, uint32_t pin)
{
	return 16 + ((((sbdf >> 3) & 0x1f) + pin) & 3);
}

/*
 * vmm_deliver() - deliver one interrupt a backend injected
 * @gsi: for a line or INTx, the GSI given KVM_IRQ_LINE
 *
 * Return: KVM_IRQ_LINE's or KVM_SIGNAL_MSI's result (for an MSI, 0 if the
 * guest blocked it), or -1 with errno (EINVAL: a kind not known here).
 */
int vmm_deliver(int vm_fd, const struct ioreq_vmm_event *ev,
		unsigned int *gsi)
{
	const struct ioreq_irq *irq = &ev->irq;
	struct kvm_irq_level line = { .level = ev->level };
	struct kvm_msi msi = { 0 };

	switch (irq->kind) {
	case IOREQ_IRQ_LINE:
	case IOREQ_IRQ_PCI_INTX:
		line.irq = irq->kind == IOREQ_IRQ_LINE ? irq->line :
			   vmm_intx_gsi(irq->sbdf, irq->pin);
		*gsi = line.irq;
		return ioctl(vm_fd, KVM_IRQ_LINE, &line);
	case IOREQ_IRQ_MSI:
		msi.address_lo = (uint32_t)irq->msi_addr;
		msi.address_hi = (uint32_t)(irq->msi_addr >> 32);
		msi.data = irq->msi_data;
		return ioctl(vm_fd, KVM_SIGNAL_MSI, &msi);
	}
	errno = EINVAL;
	return -1;
}
