/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "scratch register" device emulated by ioreq-backend, written down once
 * so the backend, the simulator (ioreq-sim) and guest-side test programs on
 * Xen and KVM all check against the same model.  Header only, no libc
 * beyond <stdint.h> and <string.h>.
 *
 * Device model
 * ------------
 * Every region the backend claims (MMIO or port I/O) is a byte-addressable
 * register file exactly as long as the region:
 *
 *  - Initial content: the byte at offset i of the region is
 *    SCRATCH_PATTERN(i) = (i * 7 + 0x5a) & 0xff, counted from the start of
 *    that region.
 *  - A write of 1, 2, 4 or 8 bytes at offset o stores the value's bytes,
 *    least significant first, at o .. o+size-1.
 *  - A read of 1, 2, 4 or 8 bytes at offset o returns the bytes at
 *    o .. o+size-1 as a little-endian value.  No alignment is required.
 *  - MMIO regions only: bytes 0..3 are a read-only ID register that reads
 *    as the 32-bit value 0x494f5251 ("IORQ" written most significant byte
 *    first; in memory 51 52 4f 49).  Writes to those bytes are dropped,
 *    byte by byte, so an 8-byte write at offset 0 still updates bytes 4..7.
 *    Port I/O regions have no ID register.
 *  - Reads have no side effects.  Contents are per backend process and
 *    start over when it starts.
 *
 * So on a fresh backend with an MMIO region at 0xe0000000: a 4-byte read at
 * 0xe0000000 gives 0x494f5251, a 1-byte read at 0xe0000010 gives
 * (0x10*7+0x5a)&0xff = 0xca, a 2-byte read at 0xe0000010 gives 0xd1ca.
 */
#ifndef _IOREQ_SCRATCH_DEV_H
#define _IOREQ_SCRATCH_DEV_H

#include <stdint.h>
#include <string.h>

#define SCRATCH_ID		0x494f5251U	/* "IORQ" */
#define SCRATCH_ID_LEN		4		/* bytes 0..3 of MMIO regions */
#define SCRATCH_PATTERN(i)	((uint8_t)(((i) * 7 + 0x5a) & 0xff))

/**
 * struct scratch_regs - one region's register file
 * @bytes: contents, @len bytes
 * @len: region length
 * @has_id: MMIO: bytes 0..3 are the read-only ID register
 */
struct scratch_regs {
	uint8_t *bytes;
	uint64_t len;
	int has_id;
};

/**
 * scratch_reset() - fill @r with the initial content
 * @r: register file with @bytes, @len and @has_id set
 */
static inline void scratch_reset(struct scratch_regs *r)
{
	uint64_t i;

	for (i = 0; i < r->len; i++)
		r->bytes[i] = SCRATCH_PATTERN(i);
	if (r->has_id)
		for (i = 0; i < SCRATCH_ID_LEN && i < r->len; i++)
			r->bytes[i] = (uint8_t)(SCRATCH_ID >> (8 * i));
}

/**
 * scratch_in_range() - whether an access of @size at @off fits in @r
 */
static inline int scratch_in_range(const struct scratch_regs *r, uint64_t off,
				   unsigned int size)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) &&
	       off < r->len && size <= r->len - off;
}

/**
 * scratch_read() - the value a read returns
 * @r: register file
 * @off: offset in the region
 * @size: 1, 2, 4 or 8
 *
 * Return: the little-endian value; all ones for an access out of range.
 */
static inline uint64_t scratch_read(const struct scratch_regs *r, uint64_t off,
				    unsigned int size)
{
	uint64_t v = 0;
	unsigned int i;

	if (!scratch_in_range(r, off, size))
		return ~0ULL;
	for (i = 0; i < size; i++)
		v |= (uint64_t)r->bytes[off + i] << (8 * i);
	return v;
}

/**
 * scratch_write() - store a write
 * @r: register file
 * @off: offset in the region
 * @size: 1, 2, 4 or 8
 * @val: value; the low @size bytes are stored
 *
 * Return: 0, or -1 if the access is out of range (nothing stored).
 */
static inline int scratch_write(struct scratch_regs *r, uint64_t off,
				unsigned int size, uint64_t val)
{
	unsigned int i;

	if (!scratch_in_range(r, off, size))
		return -1;
	for (i = 0; i < size; i++) {
		if (r->has_id && off + i < SCRATCH_ID_LEN)
			continue;	/* read-only ID register */
		r->bytes[off + i] = (uint8_t)(val >> (8 * i));
	}
	return 0;
}

/*
 * The mailbox (ioreq-backend --mailbox ADDR [--irq LINE | --msi ADDR:DATA]):
 * an optional second device in its own MMIO region of MBOX_LEN bytes, for
 * guest memory and interrupts.  It is not a scratch register file and has
 * no ID register.  Its registers are little-endian fields of a
 * MBOX_LEN-byte file that starts as zeros; reads and writes of 1, 2, 4 or
 * 8 bytes at any offset read and store bytes, except the read-only
 * MBOX_STATUS and MBOX_RESULT bytes.  Three writes have side effects, each
 * only when it is exactly 4 bytes at the register's offset:
 *
 *  - MBOX_CMD: MBOX_CMD_MMAP or MBOX_CMD_COPY.  The backend takes
 *    MBOX_LEN_REG bytes (1 to MBOX_MAX_BUF) of guest memory at the
 *    guest-physical address MBOX_GPA, by mmap() of its /dev/ioreq session
 *    (MMAP) or with IOREQ_READ_GUEST/IOREQ_WRITE_GUEST (COPY), checks that
 *    byte i is MBOX_GUEST_BYTE(i), and if so overwrites it with
 *    MBOX_ANSWER_BYTE(i).  It has finished when the write completes:
 *    MBOX_STATUS is then MBOX_ST_OK, MBOX_ST_MISMATCH (MBOX_RESULT: the
 *    first offset that differed; memory left as it was) or MBOX_ST_ERROR
 *    (MBOX_RESULT: the errno).  Any other command gives MBOX_ST_ERROR with
 *    EINVAL.
 *  - MBOX_IRQ: the mailbox's interrupt through IOREQ_INJECT_IRQ.  For a
 *    line (--irq) a non-zero value asserts it and zero deasserts it; the
 *    guest acknowledges an interrupt by writing 0.  For an MSI (--msi) a
 *    non-zero value sends one message and zero does nothing.  A read
 *    returns the last value written.  Without --irq or --msi the value is
 *    stored and nothing is injected.
 *  - MBOX_IRQFD: a non-zero value signals the eventfd the backend bound
 *    to the same interrupt with IOREQ_IRQFD (when the provider has
 *    IOREQ_CAP_IRQFD): an edge for a line, one message for an MSI.  The
 *    interrupt has been injected when the write completes.
 */
#define MBOX_LEN		0x20
#define MBOX_GPA		0x00	/* 8 bytes: guest-physical address */
#define MBOX_LEN_REG		0x08	/* 4 bytes: length in bytes */
#define MBOX_CMD		0x0c	/* 4 bytes, write: MBOX_CMD_* */
#define MBOX_STATUS		0x10	/* 4 bytes, read-only: MBOX_ST_* */
#define MBOX_RESULT		0x14	/* 4 bytes, read-only: offset or errno */
#define MBOX_IRQ		0x18	/* 4 bytes: line level, or send an MSI */
#define MBOX_IRQFD		0x1c	/* 4 bytes: signal the irqfd */

#define MBOX_CMD_MMAP		1
#define MBOX_CMD_COPY		2

#define MBOX_ST_IDLE		0
#define MBOX_ST_OK		1
#define MBOX_ST_MISMATCH	2
#define MBOX_ST_ERROR		3

#define MBOX_MAX_BUF		(1U << 20)
#define MBOX_GUEST_BYTE(i)	((uint8_t)(((i) * 13 + 0x21) & 0xff))
#define MBOX_ANSWER_BYTE(i)	((uint8_t)(((i) * 11 + 0x3c) & 0xff))

#endif /* _IOREQ_SCRATCH_DEV_H */
