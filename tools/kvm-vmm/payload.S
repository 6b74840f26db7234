/* SPDX-License-Identifier: GPL-2.0 */
/*
 * payload.S - the guest code ioreq-kvm runs on every vcpu.
 *
 * It starts in 64-bit long mode with the low 4 GiB identity-mapped and
 * interrupts off, at PAYLOAD_LOAD with
 *	%rdi = the vcpu index, %rsi = the parameter block (PARAM_*),
 *	%rsp = this vcpu's stack.
 * It accesses the regions the parameter block names, checks each value
 * read against the scratch-register device (scratch_dev.h), and reports
 * every check through the report port (payload.h); the VMM prints them
 * and compares.  Vcpu 0 also hands a buffer to the backend's mailbox and
 * takes the mailbox's interrupt (PF_MBOX, PF_IRQ), or only runs the bench
 * loop (PF_BENCH) or the fast path loop (PF_FASTPATH).  It ends with
 * RT_DONE, after which the VMM stops running the vcpu (it halts if run
 * again).
 *
 * Register use throughout: %r15 the vcpu index, %r14 the parameter block,
 * %r13 this vcpu's report record, %r12 the offset of this vcpu's window
 * in each region.  Helpers take arguments in %rdi, %rsi, %rdx, %rcx, %r8,
 * %r9 and clobber only %rax, %rcx, %rdx, %rsi, %rdi, %r8 and %r9.
 */
#include "payload.h"

	.code64
	.section .text.entry, "ax"
	.globl	payload_start
payload_start:
	cld
	mov	%rdi, %r15
	mov	%rsi, %r14
	imul	$REPORT_SIZE, %r15, %r13
	add	$REPORT_ADDR, %r13
	imul	$WINDOW_SIZE, %r15, %r12
	add	$WINDOW_START, %r12

	testq	$PF_BENCH, PARAM_FLAGS(%r14)
	jz	0f
	test	%r15, %r15
	jnz	5f
	call	bench
	jmp	5f
0:
	testq	$PF_FASTPATH, PARAM_FLAGS(%r14)
	jz	7f
	test	%r15, %r15
	jnz	5f
	call	fastpath
	jmp	5f
7:
	testq	$PF_MMIO, PARAM_FLAGS(%r14)
	jz	1f
	mov	PARAM_MMIO(%r14), %rdi
	call	id_tests
	xor	%edi, %edi
	mov	PARAM_MMIO(%r14), %rsi
	lea	mmio_table(%rip), %rdx
	call	rw_table
1:
	testq	$PF_PIO, PARAM_FLAGS(%r14)
	jz	2f
	mov	$1, %edi
	mov	PARAM_PIO(%r14), %rsi
	lea	pio_table(%rip), %rdx
	call	rw_table
	mov	PARAM_PIO(%r14), %rdi
	add	%r12, %rdi
	add	$STRING_OFF, %rdi
	call	string_test
2:
	testq	$PF_UNCL_MMIO, PARAM_FLAGS(%r14)
	jz	3f
	xor	%edi, %edi
	mov	PARAM_UNCL_MMIO(%r14), %rsi
	mov	$8, %edx
	call	unclaimed
3:
	testq	$PF_UNCL_PIO, PARAM_FLAGS(%r14)
	jz	4f
	mov	$1, %edi
	mov	PARAM_UNCL_PIO(%r14), %rsi
	mov	$4, %edx
	call	unclaimed
4:
	/* Only vcpu 0 uses the mailbox. */
	test	%r15, %r15
	jnz	8f
	testq	$PF_MBOX, PARAM_FLAGS(%r14)
	jz	8f
	mov	$MB_CMD_MMAP, %edi
	mov	$W_MBOX_MMAP, %esi
	call	mbox_test
	mov	$MB_CMD_COPY, %edi
	mov	$W_MBOX_COPY, %esi
	call	mbox_test
	testq	$PF_IRQ, PARAM_FLAGS(%r14)
	jz	8f
	call	irq_test
8:
	/* Only vcpu 0 waits on the hung device. */
	testq	$PF_HANG, PARAM_FLAGS(%r14)
	jz	5f
	test	%r15, %r15
	jnz	5f
	call	hang_test
5:
	movq	$RT_DONE, REPORT_TYPE(%r13)
	call	report
6:
	hlt
	jmp	6b

	.text

/* check(space, what, addr, len, expect, got): report one checked value */
check:
	movq	$RT_CHECK, REPORT_TYPE(%r13)
	mov	%rdi, REPORT_SPACE(%r13)
	mov	%rsi, REPORT_WHAT(%r13)
	mov	%rdx, REPORT_ADDR_F(%r13)
	mov	%rcx, REPORT_LEN(%r13)
	mov	%r8, REPORT_EXPECT(%r13)
	mov	%r9, REPORT_GOT(%r13)
	/* fall through */

/* report(): hand this vcpu's record to the VMM */
report:
	mov	%r13d, %eax
	mov	$REPORT_PORT, %dx
	out	%eax, %dx
	ret

/* note(space, what, addr): tell the VMM what comes next */
note:
	movq	$RT_NOTE, REPORT_TYPE(%r13)
	mov	%rdi, REPORT_SPACE(%r13)
	mov	%rsi, REPORT_WHAT(%r13)
	mov	%rdx, REPORT_ADDR_F(%r13)
	jmp	report

/* pattern(off, len) -> %rax: the initial content of len bytes at off */
pattern:
	xor	%eax, %eax
	mov	%rsi, %rcx
1:
	dec	%rcx
	js	2f
	lea	(%rdi,%rcx), %rdx
	imul	$PATTERN_MUL, %rdx, %rdx
	add	$PATTERN_ADD, %rdx
	movzbl	%dl, %edx
	shl	$8, %rax
	or	%rdx, %rax
	jmp	1b
2:
	ret

/* mask(len) -> %rax: the all-ones value of len bytes */
mask:
	mov	$-1, %rax
	cmp	$8, %rdi
	jae	1f
	lea	(,%rdi,8), %rcx
	mov	$1, %eax
	shl	%cl, %rax
	dec	%rax
1:
	ret

/* io_read(space, addr, len) -> %rax: one MMIO or port read */
io_read:
	test	%rdi, %rdi
	jnz	.Lpio_read
	cmp	$1, %rdx
	jne	1f
	movzbl	(%rsi), %eax
	ret
1:
	cmp	$2, %rdx
	jne	2f
	movzwl	(%rsi), %eax
	ret
2:
	cmp	$4, %rdx
	jne	3f
	movl	(%rsi), %eax
	ret
3:
	movq	(%rsi), %rax
	ret
.Lpio_read:
	mov	%rdx, %rcx
	mov	%esi, %edx
	xor	%eax, %eax
	cmp	$1, %rcx
	jne	1f
	inb	%dx, %al
	ret
1:
	cmp	$2, %rcx
	jne	2f
	inw	%dx, %ax
	ret
2:
	inl	%dx, %eax
	ret

/* io_write(space, addr, len, value): one MMIO or port write */
io_write:
	mov	%rcx, %rax
	test	%rdi, %rdi
	jnz	.Lpio_write
	cmp	$1, %rdx
	jne	1f
	movb	%al, (%rsi)
	ret
1:
	cmp	$2, %rdx
	jne	2f
	movw	%ax, (%rsi)
	ret
2:
	cmp	$4, %rdx
	jne	3f
	movl	%eax, (%rsi)
	ret
3:
	movq	%rax, (%rsi)
	ret
.Lpio_write:
	mov	%rdx, %rcx
	mov	%esi, %edx
	cmp	$1, %rcx
	jne	1f
	outb	%al, %dx
	ret
1:
	cmp	$2, %rcx
	jne	2f
	outw	%ax, %dx
	ret
2:
	outl	%eax, %dx
	ret

/*
 * rw_table(space, base, table): for each (offset, len) pair of table,
 * offsets within this vcpu's window, ended by len 0: read the initial
 * content, then write a value none of whose bytes is the initial one and
 * read it back.
 */
rw_table:
	push	%rbx
	push	%rbp
	sub	$40, %rsp	/* space, base, addr, len, value */
	mov	%rdi, 0(%rsp)
	mov	%rsi, 8(%rsp)
	mov	%rdx, %rbx
.Lrw_next:
	mov	8(%rbx), %rax
	test	%rax, %rax
	jz	.Lrw_done
	mov	%rax, 24(%rsp)
	mov	(%rbx), %rbp
	add	%r12, %rbp		/* offset in the region */
	mov	8(%rsp), %rax
	add	%rbp, %rax
	mov	%rax, 16(%rsp)		/* address or port */

	mov	0(%rsp), %rdi
	mov	16(%rsp), %rsi
	mov	24(%rsp), %rdx
	call	io_read
	mov	%rax, %r9
	mov	%rbp, %rdi
	mov	24(%rsp), %rsi
	call	pattern
	mov	%rax, %r8
	mov	0(%rsp), %rdi
	mov	$W_PATTERN, %esi
	mov	16(%rsp), %rdx
	mov	24(%rsp), %rcx
	call	check

	mov	%rbp, %rdi
	mov	$8, %esi
	call	pattern
	not	%rax
	mov	%rax, 32(%rsp)
	mov	0(%rsp), %rdi
	mov	16(%rsp), %rsi
	mov	24(%rsp), %rdx
	mov	%rax, %rcx
	call	io_write
	mov	0(%rsp), %rdi
	mov	16(%rsp), %rsi
	mov	24(%rsp), %rdx
	call	io_read
	mov	%rax, %r9
	mov	24(%rsp), %rdi
	call	mask
	and	32(%rsp), %rax
	mov	%rax, %r8
	mov	0(%rsp), %rdi
	mov	$W_READBACK, %esi
	mov	16(%rsp), %rdx
	mov	24(%rsp), %rcx
	call	check

	add	$16, %rbx
	jmp	.Lrw_next
.Lrw_done:
	add	$40, %rsp
	pop	%rbp
	pop	%rbx
	ret

/*
 * id_tests(base): the read-only ID register at bytes 0..3 of an MMIO
 * region.  Vcpu 0 also writes 8 bytes at 0, which store only bytes 4..7
 * (outside every vcpu's window).
 */
id_tests:
	push	%rbx
	mov	%rdi, %rbx

	xor	%edi, %edi
	mov	%rbx, %rsi
	mov	$4, %edx
	call	io_read
	mov	%rax, %r9
	mov	$SCRATCH_ID_VALUE, %r8d
	xor	%edi, %edi
	mov	$W_ID, %esi
	mov	%rbx, %rdx
	mov	$4, %ecx
	call	check

	xor	%edi, %edi
	mov	%rbx, %rsi
	mov	$1, %edx
	call	io_read
	mov	%rax, %r9
	mov	$(SCRATCH_ID_VALUE & 0xff), %r8d
	xor	%edi, %edi
	mov	$W_ID, %esi
	mov	%rbx, %rdx
	mov	$1, %ecx
	call	check

	xor	%edi, %edi
	lea	2(%rbx), %rsi
	mov	$2, %edx
	call	io_read
	mov	%rax, %r9
	mov	$(SCRATCH_ID_VALUE >> 16), %r8d
	xor	%edi, %edi
	mov	$W_ID, %esi
	lea	2(%rbx), %rdx
	mov	$2, %ecx
	call	check

	xor	%edi, %edi
	mov	%rbx, %rsi
	mov	$4, %edx
	mov	$0xdeadbeef, %ecx
	call	io_write
	xor	%edi, %edi
	mov	%rbx, %rsi
	mov	$4, %edx
	call	io_read
	mov	%rax, %r9
	mov	$SCRATCH_ID_VALUE, %r8d
	xor	%edi, %edi
	mov	$W_ID_WRITE, %esi
	mov	%rbx, %rdx
	mov	$4, %ecx
	call	check

	test	%r15, %r15
	jnz	1f
	xor	%edi, %edi
	mov	%rbx, %rsi
	mov	$8, %edx
	movabs	$0x0123456789abcdef, %rcx
	call	io_write
	xor	%edi, %edi
	mov	%rbx, %rsi
	mov	$8, %edx
	call	io_read
	mov	%rax, %r9
	movabs	$(0x0123456700000000 | SCRATCH_ID_VALUE), %r8
	xor	%edi, %edi
	mov	$W_ID_WRITE, %esi
	mov	%rbx, %rdx
	mov	$8, %ecx
	call	check
1:
	pop	%rbx
	ret

/*
 * string_test(port): rep outsw of four words, then the port holds the
 * last; rep insw of three words reads it three times.
 */
string_test:
	push	%rbx
	sub	$16, %rsp
	mov	%rdi, %rbx

	movabs	$0x0001000100010001, %rcx
	imul	%r15, %rcx		/* vcpu < 256: in each low byte */
	movabs	$0x4400330022001100, %rax
	add	%rcx, %rax
	mov	%rax, 0(%rsp)
	mov	%rsp, %rsi
	mov	$4, %ecx
	mov	%ebx, %edx
	rep outsw

	mov	$1, %edi
	mov	%rbx, %rsi
	mov	$2, %edx
	call	io_read
	mov	%rax, %r9
	movzwl	6(%rsp), %r8d
	mov	$1, %edi
	mov	$W_STRING_OUT, %esi
	mov	%rbx, %rdx
	mov	$2, %ecx
	call	check

	movq	$0, 8(%rsp)
	lea	8(%rsp), %rdi
	mov	$3, %ecx
	mov	%ebx, %edx
	rep insw
	mov	8(%rsp), %r9
	movzwl	6(%rsp), %r8d
	movabs	$0x000100010001, %rax
	imul	%rax, %r8
	mov	$1, %edi
	mov	$W_STRING_IN, %esi
	mov	%rbx, %rdx
	mov	$2, %ecx
	call	check

	add	$16, %rsp
	pop	%rbx
	ret

/*
 * unclaimed(space, addr, maxlen): reads of 1 .. maxlen bytes at an
 * address nobody claims give all ones, and a write there changes nothing.
 */
unclaimed:
	push	%rbx
	push	%rbp
	sub	$24, %rsp	/* space, addr, maxlen */
	mov	%rdi, 0(%rsp)
	mov	%rsi, 8(%rsp)
	mov	%rdx, 16(%rsp)
	mov	$1, %ebx
1:
	mov	0(%rsp), %rdi
	mov	8(%rsp), %rsi
	mov	%rbx, %rdx
	call	io_read
	mov	%rax, %r9
	mov	%rbx, %rdi
	call	mask
	mov	%rax, %r8
	mov	0(%rsp), %rdi
	mov	$W_UNCLAIMED, %esi
	mov	8(%rsp), %rdx
	mov	%rbx, %rcx
	call	check
	shl	%rbx
	cmp	16(%rsp), %rbx
	jbe	1b

	mov	16(%rsp), %rbp
	mov	0(%rsp), %rdi
	mov	8(%rsp), %rsi
	mov	%rbp, %rdx
	xor	%ecx, %ecx
	call	io_write
	mov	0(%rsp), %rdi
	mov	8(%rsp), %rsi
	mov	%rbp, %rdx
	call	io_read
	mov	%rax, %r9
	mov	%rbp, %rdi
	call	mask
	mov	%rax, %r8
	mov	0(%rsp), %rdi
	mov	$W_UNCLAIMED_WRITE, %esi
	mov	8(%rsp), %rdx
	mov	%rbp, %rcx
	call	check

	add	$24, %rsp
	pop	%rbp
	pop	%rbx
	ret

/*
 * hang_test(): a 4-byte read of the MMIO address the backend never
 * answers.  Someone kills the backend meanwhile; the read gives all ones.
 */
hang_test:
	xor	%edi, %edi
	mov	$W_HANG, %esi
	mov	PARAM_HANG(%r14), %rdx
	call	note
	xor	%edi, %edi
	mov	PARAM_HANG(%r14), %rsi
	mov	$4, %edx
	call	io_read
	mov	%rax, %r9
	mov	$0xffffffff, %r8d
	xor	%edi, %edi
	mov	$W_HANG, %esi
	mov	PARAM_HANG(%r14), %rdx
	mov	$4, %ecx
	jmp	check

/*
 * mbox_test(cmd, what): fill DMA_BUF with the guest pattern, have the
 * mailbox check it and answer with command cmd; report the mailbox status
 * (what) and how many bytes hold the answer pattern (what + 1).
 */
mbox_test:
	push	%rbx
	push	%rbp
	mov	%rdi, %rbx
	mov	%rsi, %rbp
	xor	%ecx, %ecx
1:
	imul	$GUEST_MUL, %ecx, %eax
	add	$GUEST_ADD, %eax
	movb	%al, DMA_BUF(%rcx)
	inc	%ecx
	cmp	$DMA_LEN, %ecx
	jb	1b

	mov	PARAM_MBOX(%r14), %rsi
	movq	$DMA_BUF, MB_GPA(%rsi)
	movl	$DMA_LEN, MB_LEN(%rsi)
	movl	%ebx, MB_CMD(%rsi)
	movl	MB_STATUS(%rsi), %r9d
	mov	$MB_ST_OK, %r8d
	xor	%edi, %edi
	mov	%rbp, %rsi
	mov	PARAM_MBOX(%r14), %rdx
	add	$MB_STATUS, %rdx
	mov	$4, %ecx
	call	check

	xor	%r9d, %r9d		/* bytes that hold the answer */
	xor	%ecx, %ecx
2:
	imul	$ANSWER_MUL, %ecx, %eax
	add	$ANSWER_ADD, %eax
	cmpb	%al, DMA_BUF(%rcx)
	jne	3f
	inc	%r9d
3:
	inc	%ecx
	cmp	$DMA_LEN, %ecx
	jb	2b
	mov	$DMA_LEN, %r8d
	xor	%edi, %edi
	lea	1(%rbp), %rsi
	mov	$DMA_BUF, %edx
	mov	$1, %ecx
	call	check
	pop	%rbp
	pop	%rbx
	ret

/*
 * irq_test(): route the mailbox's line (an IOAPIC pin) to IRQ_VECTOR on
 * this vcpu's local APIC, ring the doorbell, and wait with sti; hlt until
 * the handler has run; report how often it ran, then acknowledge (the
 * backend deasserts the line) and report the register.
 */
irq_test:
	push	%rbx
	call	irq_route
	mov	PARAM_MBOX(%r14), %rbx
	xor	%edi, %edi
	mov	$W_IRQ, %esi
	lea	MB_IRQ(%rbx), %rdx
	call	note
	movl	$1, MB_IRQ(%rbx)	/* the doorbell: assert the line */
	xor	%edx, %edx
	call	wait_irq
	mov	IRQ_COUNT_ADDR, %r9
	mov	$1, %r8d
	xor	%edi, %edi
	mov	$W_IRQ, %esi
	lea	MB_IRQ(%rbx), %rdx
	mov	$4, %ecx
	call	check

	movl	$0, MB_IRQ(%rbx)	/* acknowledge: deassert */
	movl	MB_IRQ(%rbx), %r9d
	xor	%r8d, %r8d
	xor	%edi, %edi
	mov	$W_IRQ_ACK, %esi
	lea	MB_IRQ(%rbx), %rdx
	mov	$4, %ecx
	call	check
	pop	%rbx
	ret

/*
 * irq_route(): the IDT gate of IRQ_VECTOR, the local APIC enabled, the
 * IOAPIC pin PARAM_IRQ_LINE routed to IRQ_VECTOR of APIC ID 0 (fixed,
 * physical, edge, active high, unmasked), and no interrupt taken yet.
 */
irq_route:
	lea	irq_handler(%rip), %rax
	mov	$(IDT_ADDR + IRQ_VECTOR * 16), %edi
	mov	%ax, 0(%rdi)		/* offset 15:0 */
	movw	$0x08, 2(%rdi)		/* code selector */
	movw	$0x8e00, 4(%rdi)	/* present, 64-bit interrupt gate */
	shr	$16, %rax
	mov	%ax, 6(%rdi)		/* offset 31:16 */
	shr	$16, %rax
	mov	%eax, 8(%rdi)		/* offset 63:32 */
	movl	$0, 12(%rdi)
	lidt	idt_ptr(%rip)

	movq	$0, IRQ_COUNT_ADDR
	movq	$0, SHADOW_COUNT_ADDR
	mov	$LAPIC_BASE, %eax
	movl	$0x1ff, LAPIC_SVR(%rax)	/* enabled, spurious vector 0xff */
	mov	$IOAPIC_BASE, %eax
	mov	PARAM_IRQ_LINE(%r14), %ecx
	lea	IOAPIC_REDIR(,%rcx,2), %ecx
	movl	%ecx, (%rax)
	movl	$IRQ_VECTOR, IOAPIC_WINDOW(%rax)
	inc	%ecx
	movl	%ecx, (%rax)
	movl	$0, IOAPIC_WINDOW(%rax)	/* destination: APIC ID 0 */
	ret

/*
 * fastpath(): phases begun by an RT_BENCH report, until the VMM clears
 * PARAM_BENCH_GO: PARAM_BENCH kicks of the echo device, or as many pings
 * each waited for until its interrupt was taken (payload.h, FP_*).
 */
fastpath:
	push	%rbx
	call	irq_route
	mov	PARAM_FP_ADDR(%r14), %rbx
1:
	movq	$RT_BENCH, REPORT_TYPE(%r13)
	call	report
	cmpq	$0, PARAM_BENCH_GO(%r14)
	je	6f
	mov	PARAM_BENCH(%r14), %rcx
	cmpq	$FP_WHAT_KICK, PARAM_FP_WHAT(%r14)
	jne	3f
2:
	movl	$1, FP_KICK(%rbx)
	dec	%rcx
	jnz	2b
	jmp	1b
3:
	mov	IRQ_COUNT_ADDR, %rdx
	movl	$1, FP_PING(%rbx)
	call	wait_irq
	dec	%rcx
	jnz	3b
	jmp	1b
6:
	pop	%rbx
	ret

/*
 * wait_irq(%rdx): halt until IRQ_COUNT_ADDR is no longer %rdx.  sti's
 * one-instruction shadow makes "sti; hlt" atomic: an interrupt comes
 * after the hlt has begun, and ends it.  An emulator that loses the shadow
 * across a VM exit delivers it before the hlt, which then sleeps for good
 * with nothing left to end it (QEMU's TCG before 9.1: its VMRUN ignores
 * the VMCB's interrupt shadow, and Debian 12 ships 7.2; see
 * Documentation/virt/ioreq/kvm.rst).  irq_handler steps over the hlt then.
 */
wait_irq:
	cli
	cmp	IRQ_COUNT_ADDR, %rdx
	jne	1f
	sti
wait_hlt:
	hlt
	jmp	wait_irq
1:
	ret				/* with interrupts off */

/*
 * The mailbox's interrupt: count it and end it at the local APIC.  Taken
 * at wait_hlt, the hlt has not begun (see wait_irq): return past it, and
 * count that in SHADOW_COUNT_ADDR.
 */
irq_handler:
	push	%rax
	incq	IRQ_COUNT_ADDR
	lea	wait_hlt(%rip), %rax
	cmp	%rax, 8(%rsp)
	jne	1f
	incq	8(%rsp)			/* hlt is one byte */
	incq	SHADOW_COUNT_ADDR
1:
	mov	$LAPIC_BASE, %eax
	movl	$0, LAPIC_EOI(%rax)
	pop	%rax
	iretq

/*
 * bench(): phases of PARAM_BENCH 4-byte reads of one MMIO register, each
 * begun by an RT_BENCH report, until the VMM clears PARAM_BENCH_GO.
 */
bench:
	movq	$RT_BENCH, REPORT_TYPE(%r13)
	call	report
	cmpq	$0, PARAM_BENCH_GO(%r14)
	je	2f
	mov	PARAM_BENCH(%r14), %rcx
	mov	PARAM_MMIO(%r14), %rsi
	add	%r12, %rsi
1:
	movl	(%rsi), %eax
	dec	%rcx
	jnz	1b
	jmp	bench
2:
	ret

	.section .rodata
	.balign	8
idt_ptr:
	.word	0xfff
	.quad	IDT_ADDR
	.balign	8
/* (offset in the window, length); the windows are WINDOW_SIZE bytes */
mmio_table:
	.quad	0, 1, 8, 2, 16, 4, 24, 8	/* aligned */
	.quad	33, 2, 37, 4, 41, 8		/* unaligned */
	.quad	0, 0
pio_table:
	.quad	0, 1, 8, 2, 16, 4
	.quad	33, 2, 37, 4
	.quad	0, 0
