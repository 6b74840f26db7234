/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tools/kvm-vmm's two VMMs (ioreq-kvm, ioreq-kvm-linux) do alike:
 * open KVM and create the VM, back guest RAM with a memfd lent to
 * /dev/ioreq-vmm, put a vcpu in long mode, forward an access to
 * IOREQ_VMM_ACCESS and turn an injected interrupt into KVM_IRQ_LINE or
 * KVM_SIGNAL_MSI.  Each caller keeps its own diagnostics.
 */
#ifndef IOREQ_VMM_COMMON_H
#define IOREQ_VMM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>
#include <linux/ioreq.h>
#include <linux/ioreq_vmm.h>

/* The program's name, for vmm_err(): each main() sets it. */
extern const char *vmm_prog;

void vmm_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int vmm_kvm_open(int *kvm_fd, size_t *run_size, struct kvm_cpuid2 **cpuid,
		 int *vm_fd);
int vmm_guest_ram(int vm_fd, int vmm_fd, const char *name, uint64_t size,
		  int *ram_fd, uint8_t **ram);
void vmm_long_mode(struct kvm_sregs *sregs, uint64_t gdt, uint16_t gdt_limit,
		   uint64_t pml4);
int vmm_access(int vmm_fd, unsigned int vcpu, unsigned int space, bool write,
	       uint64_t addr, unsigned int len, uint32_t timeout_ms,
	       uint8_t *data, struct ioreq_vmm_access *a);
unsigned int vmm_intx_gsi(uint32_t sbdf, uint32_t pin);
int vmm_deliver(int vm_fd, const struct ioreq_vmm_event *ev,
		unsigned int *gsi);

#endif /* IOREQ_VMM_COMMON_H */
