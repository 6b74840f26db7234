/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between ioreq-kvm (the VMM, ioreq-kvm.c) and its guest code
 * (payload.S): where things sit in guest RAM, the parameter block the VMM
 * fills in, and the report record the guest hands back through the report
 * port.  Plain #defines, so that both C and the assembler can include it.
 *
 * Guest-physical layout (RAM is PAYLOAD_RAM_SIZE bytes from address 0;
 * everything else below 4 GiB is unbacked, so accesses there exit):
 *
 *   0x1000          PML4, 0x2000 PDPT, 0x3000-0x6fff four page directories
 *                   identity-mapping 0-4 GiB with 2 MiB pages
 *   PARAM_ADDR      parameter block (PARAM_*), written by the VMM
 *   IRQ_COUNT_ADDR  interrupts the payload's handler took (64 bits)
 *   SHADOW_COUNT_ADDR  of those, how many came between wait_irq's sti and
 *                   its hlt, where sti's shadow forbids them (64 bits)
 *   PAYLOAD_GDT     the GDT (null, 64-bit code 0x08, data 0x10), by the VMM
 *   REPORT_ADDR     one REPORT_SIZE-byte report record per vcpu
 *   IDT_ADDR        the IDT (256 16-byte gates), filled by the payload
 *   PAYLOAD_LOAD    the flat binary, at most PAYLOAD_MAX bytes
 *   STACK_TOP       vcpu v's stack ends at STACK_TOP - v * STACK_SIZE
 *   DMA_BUF         DMA_LEN bytes the mailbox test hands to the backend
 *
 * The in-kernel local APIC (LAPIC_BASE) and IOAPIC (IOAPIC_BASE) that
 * KVM_CREATE_IRQCHIP provides sit at their usual addresses.
 */
#ifndef _IOREQ_KVM_PAYLOAD_H
#define _IOREQ_KVM_PAYLOAD_H

#define PAYLOAD_RAM_SIZE	0x200000
#define PAYLOAD_PML4		0x1000
#define PAYLOAD_PDPT		0x2000
#define PAYLOAD_PD		0x3000		/* four pages */
#define PARAM_ADDR		0x7000
#define IRQ_COUNT_ADDR		0x7c00
#define SHADOW_COUNT_ADDR	0x7c08
#define PAYLOAD_GDT		0x7800
#define PAYLOAD_GDT_SIZE	24	/* three descriptors */
#define REPORT_ADDR		0x8000
#define REPORT_SIZE		0x40
#define IDT_ADDR		0x9000
#define PAYLOAD_LOAD		0x10000
#define PAYLOAD_MAX		0x60000
#define STACK_TOP		0x100000
#define STACK_SIZE		0x4000
#define PAYLOAD_MAX_VCPUS	16
#define DMA_BUF			0x180100	/* not page aligned */
#define DMA_LEN			0x1800		/* spans two page boundaries */

#define LAPIC_BASE		0xfee00000
#define LAPIC_EOI		0xb0
#define LAPIC_SVR		0xf0
#define IOAPIC_BASE		0xfec00000
#define IOAPIC_WINDOW		0x10
#define IOAPIC_REDIR		0x10	/* register of pin p: 0x10 + 2 * p */
#define IOAPIC_PINS		24
#define IRQ_VECTOR		0x40

/*
 * The scratch-register device of tools/ioreq-backend/scratch_dev.h, as
 * the guest code checks it (ioreq-kvm.c asserts that the two agree):
 * byte i of a region starts as (i * PATTERN_MUL + PATTERN_ADD) & 0xff,
 * and bytes 0..3 of an MMIO region read as SCRATCH_ID_VALUE.
 */
#define PATTERN_MUL		7
#define PATTERN_ADD		0x5a
#define SCRATCH_ID_VALUE	0x494f5251

/*
 * The guest writes the guest-physical address of its report record to
 * this port with a 4-byte OUT; the VMM handles that exit itself.
 */
#define REPORT_PORT		0xe9

/* Parameter block: 64-bit fields at these offsets from PARAM_ADDR */
#define PARAM_FLAGS		0x00	/* PF_* */
#define PARAM_NR_VCPUS		0x08
#define PARAM_MMIO		0x10	/* scratch MMIO region to test */
#define PARAM_PIO		0x18	/* scratch port region to test */
#define PARAM_HANG		0x20	/* MMIO address never answered */
#define PARAM_UNCL_MMIO		0x28	/* MMIO address nobody claims */
#define PARAM_UNCL_PIO		0x30	/* port nobody claims */
#define PARAM_MBOX		0x38	/* the backend's mailbox (MMIO) */
#define PARAM_IRQ_LINE		0x40	/* the mailbox's interrupt: IOAPIC pin */
#define PARAM_BENCH		0x48	/* reads per bench phase */
#define PARAM_BENCH_GO		0x50	/* VMM: 1 run another phase, 0 stop */
#define PARAM_FP_ADDR		0x58	/* PF_FASTPATH: the echo device (MMIO) */
#define PARAM_FP_WHAT		0x60	/* VMM: the next phase's FP_WHAT_* */
#define PARAM_SIZE		0x68

#define PF_MMIO			0x01
#define PF_PIO			0x02
#define PF_HANG			0x04
#define PF_UNCL_MMIO		0x08
#define PF_UNCL_PIO		0x10
#define PF_MBOX			0x20	/* guest memory round trips, vcpu 0 */
#define PF_IRQ			0x40	/* the mailbox's interrupt, vcpu 0 */
#define PF_BENCH		0x80	/* only the bench loop, vcpu 0 */
#define PF_FASTPATH		0x100	/* only the fast path loop, vcpu 0 */

/*
 * The echo device of ioreq-kvm --fastpath-bench (fastpath.c): a backend
 * child whose ioeventfd at FP_KICK only counts, and whose ioeventfd at
 * FP_PING it answers by signalling its irqfd (IOAPIC pin PARAM_IRQ_LINE,
 * or an MSI to IRQ_VECTOR of APIC ID 0).  Each phase of the loop makes
 * PARAM_BENCH 4-byte writes at FP_KICK (FP_WHAT_KICK), or as many writes at
 * FP_PING each followed by a wait for the interrupt (FP_WHAT_PING).
 */
#define FP_KICK			0x00
#define FP_PING			0x08
#define FP_LEN			0x1000
#define FP_WHAT_KICK		0
#define FP_WHAT_PING		1

/*
 * The mailbox of tools/ioreq-backend/scratch_dev.h (MBOX_*), as the guest
 * code uses it; ioreq-kvm.c asserts that the two agree.  The guest fills
 * its buffer with byte i = (i * GUEST_MUL + GUEST_ADD) & 0xff and expects
 * (i * ANSWER_MUL + ANSWER_ADD) & 0xff back.
 */
#define MB_GPA			0x00
#define MB_LEN			0x08
#define MB_CMD			0x0c
#define MB_STATUS		0x10
#define MB_IRQ			0x18
#define MB_CMD_MMAP		1
#define MB_CMD_COPY		2
#define MB_ST_OK		1
#define GUEST_MUL		13
#define GUEST_ADD		0x21
#define ANSWER_MUL		11
#define ANSWER_ADD		0x3c

/*
 * Each vcpu tests the bytes WINDOW_START + v * WINDOW_SIZE onwards of each
 * region, WINDOW_SIZE of them, so vcpus never write the same byte.  A
 * region must be at least WINDOW_START + nr_vcpus * WINDOW_SIZE long.
 */
#define WINDOW_START		0x10
#define WINDOW_SIZE		0x40
#define STRING_OFF		0x38	/* the port of the string I/O test */

/* Report record: 64-bit fields at these offsets */
#define REPORT_TYPE		0x00	/* RT_* */
#define REPORT_SPACE		0x08	/* 0 MMIO, 1 port I/O */
#define REPORT_WHAT		0x10	/* W_*, for RT_CHECK and RT_NOTE */
#define REPORT_ADDR_F		0x18	/* address or port */
#define REPORT_LEN		0x20	/* access size */
#define REPORT_EXPECT		0x28	/* value the device model gives */
#define REPORT_GOT		0x30	/* value read */

#define RT_CHECK		1	/* one value checked: pass if equal */
#define RT_NOTE			2	/* about to do W_* at REPORT_ADDR_F */
#define RT_DONE			3	/* this vcpu has finished */
#define RT_BENCH		4	/* a bench phase ends and the next begins */

#define W_PATTERN		1	/* read of the initial content */
#define W_READBACK		2	/* read after a write of the same size */
#define W_ID			3	/* read of the ID register */
#define W_ID_WRITE		4	/* ID register read after a write to it */
#define W_STRING_OUT		5	/* read after a string OUT (rep outs) */
#define W_STRING_IN		6	/* a string IN (rep ins), 3 elements */
#define W_UNCLAIMED		7	/* read of an unclaimed address */
#define W_UNCLAIMED_WRITE	8	/* the same after a write to it */
#define W_HANG			9	/* read the backend never answers */
#define W_MBOX_MMAP		10	/* mailbox status after MB_CMD_MMAP */
#define W_ANSWER_MMAP		11	/* buffer bytes answered, MB_CMD_MMAP */
#define W_MBOX_COPY		12	/* mailbox status after MB_CMD_COPY */
#define W_ANSWER_COPY		13	/* buffer bytes answered, MB_CMD_COPY */
#define W_IRQ			14	/* interrupts the handler took */
#define W_IRQ_ACK		15	/* MB_IRQ read after the acknowledgment */

#endif /* _IOREQ_KVM_PAYLOAD_H */
