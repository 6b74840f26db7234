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

#endif /* _IOREQ_SCRATCH_DEV_H */
