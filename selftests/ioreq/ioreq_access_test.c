// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq access tests: guest accesses through the hypervisor side reach the
 * right backend session with the right record, and the backend's answers
 * (or their absence) reach the vcpu.  Runs once per provider.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/wait.h>

#include "ioreq_util.h"

#define MMIO_BASE	0xfe000000ULL
#define MMIO_LEN	0x1000ULL
#define MMIO_UD		0xa11ce5000001ULL
#define PIO_BASE	0x600ULL
#define PIO_LEN		0x100ULL
#define PIO_UD		0xa11ce5000002ULL
#define NR_VCPUS	4U

static const __u8 lens[] = { 1, 2, 4, 8 };

FIXTURE(io) {
	struct ioreq_env e;
	__u32 mmio, pio;	/* region ids */
};

IOREQ_FIXTURE_VARIANT(io);
IOREQ_PROVIDER_VARIANTS(io);

FIXTURE_SETUP(io)
{
	ioreq_env_setup(&self->e, variant->hv, NR_VCPUS);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN,
		    MMIO_UD, &self->mmio);
	ioreq_claim(self->e.be, IOREQ_SPACE_PIO, PIO_BASE, PIO_LEN,
		    PIO_UD, &self->pio);
}

FIXTURE_TEARDOWN(io)
{
	ioreq_env_teardown(&self->e);
}

/*
 * One access of each size in @space: the record must say exactly what the
 * vcpu did (a write's data zero-extended from the low @len bytes), and a
 * read must return the low @len bytes of the backend's answer.
 */
static void check_sizes(struct __test_metadata *_metadata,
			struct ioreq_env *e, __u8 space, __u8 op,
			__u64 base, __u64 ud)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		__u8 len = lens[i];
		/* a byte at an odd offset, the others naturally aligned */
		__u64 off = 0x10 * (i + 1) + (len == 1 ? 3 : 0);
		/* the bytes above len are garbage that must not leak */
		__u64 wdata = 0xf0e1d2c3b4a59687ULL ^ (i * 0x0101010101010101ULL);
		__u64 rdata = 0x8877665544332211ULL + i * 0x1111111111ULL;
		__u32 vcpu = i % e->hv.nr_vcpus;
		struct ioreq_vcpu v;
		struct ioreq_cmd c;

		ioreq_vcpu_run(&v, &e->hv, vcpu, space, op, len, base + off,
			       op == IOREQ_OP_WRITE ? wdata : ~0ULL, 0);
		ioreq_expect_cmd(e->be, &c);
		ASSERT_CMD_MATCHES(&c, op, len, vcpu, ud, off, wdata);
		if (op == IOREQ_OP_READ)
			c.data = rdata;
		ioreq_respond(e->be, &c);
		ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);
		if (op == IOREQ_OP_READ) {
			ASSERT_EQ(rdata & ioreq_mask(len),
				  v.a.data & ioreq_mask(len))
				TH_LOG("len %u: got %#llx", len,
				       (unsigned long long)v.a.data);
		} else {
			/* a write's data comes back unchanged */
			ASSERT_EQ(wdata, v.a.data);
		}
		ioreq_expect_none(e->be);
	}
}

TEST_F(io, mmio_read_sizes)
{
	check_sizes(_metadata, &self->e, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		    MMIO_BASE, MMIO_UD);
}

TEST_F(io, mmio_write_sizes)
{
	check_sizes(_metadata, &self->e, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE,
		    MMIO_BASE, MMIO_UD);
}

TEST_F(io, pio_read_sizes)
{
	check_sizes(_metadata, &self->e, IOREQ_SPACE_PIO, IOREQ_OP_READ,
		    PIO_BASE, PIO_UD);
}

TEST_F(io, pio_write_sizes)
{
	check_sizes(_metadata, &self->e, IOREQ_SPACE_PIO, IOREQ_OP_WRITE,
		    PIO_BASE, PIO_UD);
}

TEST_F(io, unclaimed)
{
	struct ioreq_vmm_access a;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		/* just past the MMIO region, below the PIO region */
		ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &a, 0,
				IOREQ_SPACE_MMIO, IOREQ_OP_READ, lens[i],
				MMIO_BASE + MMIO_LEN, 0, 0));
		ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
		ASSERT_EQ(ioreq_mask(lens[i]), a.data & ioreq_mask(lens[i]));
		ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &a, 1,
				IOREQ_SPACE_PIO, IOREQ_OP_READ, lens[i],
				PIO_BASE - 8, 0, 0));
		ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
		ASSERT_EQ(ioreq_mask(lens[i]), a.data & ioreq_mask(lens[i]));
		ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &a, 2,
				IOREQ_SPACE_MMIO, IOREQ_OP_WRITE, lens[i],
				MMIO_BASE - 8, 0xabcdef0123456789ULL, 0));
		ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
		ASSERT_EQ(0xabcdef0123456789ULL, a.data);
		/* the PIO region's range in MMIO space is not claimed */
		ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &a, 3,
				IOREQ_SPACE_MMIO, IOREQ_OP_READ, lens[i],
				PIO_BASE, 0, 0));
		ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	}
	/* and nothing reached the backend */
	ioreq_expect_none(self->e.be);
}

/* An access must lie wholly inside one region. */
TEST_F(io, access_within_region)
{
	const __u64 a = 0x10000000ULL, b = a + 0x100;
	struct ioreq_vmm_access acc;
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	static const struct { __u64 addr; __u8 len; __u64 ud, off; } hit[] = {
		{ 0x10000000ULL, 8, 0xa, 0 },		/* first bytes of A */
		{ 0x100000ffULL, 1, 0xa, 0xff },	/* last byte of A */
		{ 0x100000fcULL, 4, 0xa, 0xfc },	/* last word of A */
		{ 0x10000100ULL, 2, 0xb, 0 },		/* first bytes of B */
		{ 0x10000121ULL, 4, 0xb, 0x21 },	/* unaligned in B */
		{ 0x100001f8ULL, 8, 0xb, 0xf8 },	/* last quad of B */
	};
	static const struct { __u64 addr; __u8 len; } miss[] = {
		{ 0x100000feULL, 4 },	/* straddles A and B */
		{ 0x100000fcULL, 8 },	/* straddles A and B */
		{ 0x100001ffULL, 2 },	/* runs past the end of B */
		{ 0x0ffffffeULL, 4 },	/* starts below A */
	};
	unsigned int i;

	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, a, 0x100, 0xa, NULL);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, b, 0x100, 0xb, NULL);
	for (i = 0; i < ARRAY_SIZE(hit); i++) {
		ioreq_vcpu_run(&v, &self->e.hv, 1, IOREQ_SPACE_MMIO,
			       IOREQ_OP_READ, hit[i].len, hit[i].addr, 0, 0);
		ioreq_expect_cmd(self->e.be, &c);
		ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, hit[i].len, 1,
				   hit[i].ud, hit[i].off, 0);
		c.data = hit[i].addr;
		ioreq_respond(self->e.be, &c);
		ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, hit[i].addr);
	}
	for (i = 0; i < ARRAY_SIZE(miss); i++) {
		ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &acc, 2,
				IOREQ_SPACE_MMIO, IOREQ_OP_READ, miss[i].len,
				miss[i].addr, 0, 0));
		ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, acc.status)
			TH_LOG("addr %#llx len %u",
			       (unsigned long long)miss[i].addr, miss[i].len);
		ASSERT_EQ(ioreq_mask(miss[i].len),
			  acc.data & ioreq_mask(miss[i].len));
	}
	ioreq_expect_none(self->e.be);
}

TEST_F(io, several_regions)
{
	static const struct { __u8 space; __u64 addr, len, ud; } r[] = {
		{ IOREQ_SPACE_MMIO, 0x20000000ULL, 0x10, 0x100 },
		{ IOREQ_SPACE_MMIO, 0x20000010ULL, 0x1000, 0x101 },
		{ IOREQ_SPACE_MMIO, 0xffffffffe0000000ULL, 0x10000000, 0x102 },
		{ IOREQ_SPACE_MMIO, 0x1000ULL, 1, 0x103 },
		{ IOREQ_SPACE_PIO, 0x3f8, 8, 0x104 },
		{ IOREQ_SPACE_PIO, 0xcf8, 8, 0x105 },
		/* MMIO and ports are separate spaces: same numbers, no clash */
		{ IOREQ_SPACE_PIO, 0x1000, 1, 0x106 },
		{ IOREQ_SPACE_PIO, 0xffff, 1, 0x107 },
	};
	__u32 ids[ARRAY_SIZE(r)];
	struct ioreq_vcpu v[NR_VCPUS];
	struct ioreq_cmd c[NR_VCPUS];
	unsigned int i, j, k;

	for (i = 0; i < ARRAY_SIZE(r); i++) {
		ioreq_claim(self->e.be, r[i].space, r[i].addr, r[i].len,
			    r[i].ud, &ids[i]);
		for (j = 0; j < i; j++)
			ASSERT_NE(ids[j], ids[i]);
		ASSERT_NE(self->mmio, ids[i]);
		ASSERT_NE(self->pio, ids[i]);
	}
	/* the last byte of each region, NR_VCPUS regions at a time */
	for (i = 0; i < ARRAY_SIZE(r); i += NR_VCPUS) {
		unsigned int n = 0;

		for (j = 0; j < NR_VCPUS && i + j < ARRAY_SIZE(r); j++, n++)
			ioreq_vcpu_run(&v[j], &self->e.hv, j, r[i + j].space,
				       IOREQ_OP_WRITE, 1,
				       r[i + j].addr + r[i + j].len - 1,
				       0x40 + i + j, 0);
		ASSERT_RET(n, ioreq_read_n(self->e.be, c, n, IOREQ_WAIT_MS));
		for (k = 0; k < n; k++) {
			j = IOREQ_CMD_VCPU(c[k].id);
			ASSERT_GT(n, j);
			ASSERT_CMD_MATCHES(&c[k], IOREQ_OP_WRITE, 1, j,
					   r[i + j].ud, r[i + j].len - 1,
					   0x40 + i + j);
		}
		ASSERT_RET(n * IOREQ_REC,
			   __ioreq_write_cmds(self->e.be, c, n));
		for (j = 0; j < n; j++)
			ASSERT_VCPU_STATUS(&v[j], IOREQ_VMM_STATUS_DONE);
	}
	/* each region answers a read with its own data */
	for (i = 0; i < ARRAY_SIZE(r); i++) {
		ioreq_vcpu_run(&v[0], &self->e.hv, 3, r[i].space,
			       IOREQ_OP_READ, 1, r[i].addr, 0, 0);
		ioreq_expect_cmd(self->e.be, &c[0]);
		ASSERT_CMD_MATCHES(&c[0], IOREQ_OP_READ, 1, 3, r[i].ud, 0, 0);
		c[0].data = r[i].ud;
		ioreq_respond(self->e.be, &c[0]);
		ASSERT_VCPU_RESULT(&v[0], IOREQ_VMM_STATUS_DONE, r[i].ud);
	}
}

TEST_F(io, overlap_refused)
{
	const __u64 base = 0x30000000ULL;
	static const struct { __u64 addr, len; } bad[] = {
		{ 0x30000000ULL, 0x1000 },	/* the same */
		{ 0x2ffff800ULL, 0x801 },	/* covers the first byte */
		{ 0x30000fffULL, 0x1000 },	/* covers the last byte */
		{ 0x30000400ULL, 0x10 },	/* inside */
		{ 0x20000000ULL, 0x20000000 },	/* around */
		{ 0x30000800ULL, 1 },		/* one byte inside */
	};
	unsigned int i;
	__u32 id, lo, hi;

	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, base, 0x1000, 0, &id);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ASSERT_ERRNO_MSG(EEXIST, __ioreq_claim(self->e.be,
				IOREQ_SPACE_MMIO, bad[i].addr, bad[i].len,
				0, 0, NULL),
				"[%#llx, +%#llx)",
				(unsigned long long)bad[i].addr,
				(unsigned long long)bad[i].len);
	/* touching is not overlapping */
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, base - 0x1000, 0x1000, 0,
		    &lo);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, base + 0x1000, 0x1000, 0,
		    &hi);
	/* the same range in the other space is no overlap either */
	ioreq_claim(self->e.be, IOREQ_SPACE_PIO, 0x3000, 0x1000, 0, NULL);
	ASSERT_ERRNO(EEXIST, __ioreq_claim(self->e.be, IOREQ_SPACE_PIO,
					   0x3fff, 2, 0, 0, NULL));
	/* nor with the fixture's regions */
	ASSERT_ERRNO(EEXIST, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   MMIO_BASE + MMIO_LEN - 1, 2, 0, 0,
					   NULL));
	ASSERT_ERRNO(EEXIST, __ioreq_claim(self->e.be, IOREQ_SPACE_PIO,
					   PIO_BASE - 1, 2, 0, 0, NULL));
	/* once released, the range can be claimed again */
	ioreq_release(self->e.be, id);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, base + 0x400, 0x10, 0, &id);
	ASSERT_ERRNO(EEXIST, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   base, 0x1000, 0, 0, NULL));
}

TEST_F(io, overlap_across_sessions)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	__u32 id2;
	int be2 = ioreq_env_session(&self->e);

	/* the other session's regions count */
	ASSERT_ERRNO(EEXIST, __ioreq_claim(be2, IOREQ_SPACE_MMIO, MMIO_BASE,
					   MMIO_LEN, 0, 0, NULL));
	ASSERT_ERRNO(EEXIST, __ioreq_claim(be2, IOREQ_SPACE_MMIO,
					   MMIO_BASE + 0x800, 1, 0, 0, NULL));
	ASSERT_ERRNO(EEXIST, __ioreq_claim(be2, IOREQ_SPACE_PIO, PIO_BASE + 4,
					   0x1000, 0, 0, NULL));
	ioreq_claim(be2, IOREQ_SPACE_MMIO, MMIO_BASE + MMIO_LEN, 0x100, 0x2,
		    &id2);
	/* and the other way round */
	ASSERT_ERRNO(EEXIST, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   MMIO_BASE + MMIO_LEN + 0xff, 1, 0,
					   0, NULL));
	/* after one session releases, the other may take the range */
	ioreq_release(self->e.be, self->mmio);
	ioreq_claim(be2, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 0x22, NULL);
	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       MMIO_BASE + 4, 0, 0);
	ioreq_expect_cmd(be2, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 4, 0, 0x22, 4, 0);
	c.data = 0x2222;
	ioreq_respond(be2, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x2222);
	ioreq_expect_none(self->e.be);
	close(be2);
}

TEST_F(io, release_then_unclaimed)
{
	struct ioreq_vmm_access a;
	struct ioreq_vcpu v;
	struct ioreq_cmd c;

	ioreq_release(self->e.be, self->mmio);
	ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &a, 0, IOREQ_SPACE_MMIO,
					IOREQ_OP_READ, 4, MMIO_BASE, 0, 0));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	ASSERT_EQ(0xffffffffULL, a.data & 0xffffffffULL);
	ioreq_expect_none(self->e.be);
	/* the PIO region is untouched */
	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_PIO, IOREQ_OP_READ, 2,
		       PIO_BASE, 0, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 2, 0, PIO_UD, 0, 0);
	c.data = 0xbeef;
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0xbeef);
}

TEST_F(io, release_while_pending)
{
	struct ioreq_vcpu v[3];
	struct ioreq_cmd c[3];
	unsigned int i;
	__u32 r2;

	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, 0x40000000ULL, 0x100, 0x40,
		    &r2);
	/* vcpu 0 reads and vcpu 1 writes the MMIO region, vcpu 2 reads r2 */
	ioreq_vcpu_run(&v[0], &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       8, MMIO_BASE, 0, 0);
	ioreq_vcpu_run(&v[1], &self->e.hv, 1, IOREQ_SPACE_MMIO,
		       IOREQ_OP_WRITE, 4, MMIO_BASE + 4, 0x1234, 0);
	ioreq_vcpu_run(&v[2], &self->e.hv, 2, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, 0x40000000ULL, 0, 0);
	/* the backend has read all three */
	ASSERT_RET(3, ioreq_read_n(self->e.be, c, 3, IOREQ_WAIT_MS));
	ioreq_release(self->e.be, self->mmio);
	/* the released region's requests end, reads with all ones */
	ASSERT_VCPU_ONES(&v[0], IOREQ_VMM_STATUS_ABORTED);
	ASSERT_VCPU_STATUS(&v[1], IOREQ_VMM_STATUS_ABORTED);
	/* their records are stale now */
	for (i = 0; i < 3; i++) {
		if (IOREQ_CMD_VCPU(c[i].id) == 2)
			continue;
		ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(self->e.be, &c[i], 1));
	}
	/* the other region's request is still pending */
	ioreq_msleep(20);
	ASSERT_FALSE(ioreq_vcpu_done(&v[2]));
	for (i = 0; i < 3; i++) {
		if (IOREQ_CMD_VCPU(c[i].id) != 2)
			continue;
		c[i].data = 0x4040;
		ioreq_respond(self->e.be, &c[i]);
	}
	ASSERT_VCPU_RESULT(&v[2], IOREQ_VMM_STATUS_DONE, 0x4040);
}

TEST_F(io, release_while_queued)
{
	struct ioreq_vcpu v;

	/* the backend has not read the request yet */
	ioreq_vcpu_run(&v, &self->e.hv, 3, IOREQ_SPACE_PIO, IOREQ_OP_READ, 4,
		       PIO_BASE + 0x10, 0, 0);
	ASSERT_EQ(POLLIN, ioreq_poll(self->e.be, POLLIN, IOREQ_WAIT_MS)
		  & POLLIN);
	ioreq_release(self->e.be, self->pio);
	ASSERT_VCPU_ONES(&v, IOREQ_VMM_STATUS_ABORTED);
	/* the record was withdrawn */
	ASSERT_EQ(0, ioreq_poll(self->e.be, POLLIN, 0));
	ioreq_expect_none(self->e.be);
}

TEST_F(io, vcpu_busy)
{
	struct ioreq_vmm_access a;
	struct ioreq_vcpu v;
	struct ioreq_cmd c;

	ioreq_vcpu_run(&v, &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       MMIO_BASE + 0x100, 0, 0);
	ioreq_vcpu_blocked(&v);
	/* vcpu 1 is in an access: a second one on it is refused at once */
	ASSERT_ERRNO(EBUSY, ioreq_hv_access(&self->e.hv, &a, 1,
					    IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
					    MMIO_BASE + 0x200, 0, 0));
	ASSERT_ERRNO(EBUSY, ioreq_hv_access(&self->e.hv, &a, 1,
					    IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
					    0x1000, 0, 0));
	/* after the backend read it too */
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_ERRNO(EBUSY, ioreq_hv_access(&self->e.hv, &a, 1,
					    IOREQ_SPACE_PIO, IOREQ_OP_WRITE, 1,
					    PIO_BASE, 0, 0));
	/* the EBUSY attempts queued nothing */
	ioreq_expect_none(self->e.be);
	/* other vcpus are free */
	ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &a, 0, IOREQ_SPACE_MMIO,
					IOREQ_OP_READ, 4, 0x1000, 0, 0));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 4, 1, MMIO_UD, 0x100, 0);
	c.data = 0x600d;
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x600d);
	/* and vcpu 1 is free again */
	ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &a, 1, IOREQ_SPACE_MMIO,
					IOREQ_OP_READ, 4, 0x1000, 0, 0));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
}

TEST_F(io, timeout_after_read)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd c;

	IOREQ_NEEDS_WITHDRAW();

	ioreq_vcpu_run(&v, &self->e.hv, 2, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 8,
		       MMIO_BASE + 0x18, 0, 50);
	ioreq_expect_cmd(self->e.be, &c);
	/* the backend never answers */
	ASSERT_VCPU_ONES(&v, IOREQ_VMM_STATUS_TIMEDOUT);
	ASSERT_LE(45, v.ms) TH_LOG("timed out after %ld ms", v.ms);
	/* the late answer finds nothing to complete */
	c.data = 0x1a7e;
	ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(self->e.be, &c, 1));

	/* a write times out the same way */
	ioreq_vcpu_run(&v, &self->e.hv, 2, IOREQ_SPACE_PIO, IOREQ_OP_WRITE, 2,
		       PIO_BASE, 0x55, 50);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_TIMEDOUT);
	ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(self->e.be, &c, 1));
	/* the vcpu works normally after that */
	ioreq_vcpu_run(&v, &self->e.hv, 2, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       MMIO_BASE + 0x18, 0, 0);
	ioreq_expect_cmd(self->e.be, &c);
	c.data = 0x600d;
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x600d);
}

TEST_F(io, timeout_before_read)
{
	struct ioreq_vcpu v;

	IOREQ_NEEDS_WITHDRAW();

	/* the backend never even reads */
	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       MMIO_BASE, 0, 50);
	ASSERT_VCPU_ONES(&v, IOREQ_VMM_STATUS_TIMEDOUT);
	ASSERT_LE(45, v.ms) TH_LOG("timed out after %ld ms", v.ms);
	/* the record was withdrawn */
	ASSERT_EQ(0, ioreq_poll(self->e.be, POLLIN, 0));
	ioreq_expect_none(self->e.be);
}

static volatile sig_atomic_t got_signal;

static void on_sigusr1(int sig)
{
	(void)sig;
	got_signal = 1;
}

/*
 * Only a fatal signal ends an access early: a vcpu thread that takes a
 * signal (whose handler returns) keeps waiting, whether or not the backend
 * has read the request yet.
 */
static void signal_keeps_waiting(struct __test_metadata *_metadata,
				 struct ioreq_env *e, bool read_first)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };	/* no SA_RESTART */
	struct ioreq_vcpu v;
	struct ioreq_cmd c;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	got_signal = 0;
	ioreq_vcpu_run(&v, &e->hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       MMIO_BASE + 0x20, 0, 5000);
	if (read_first)
		ioreq_expect_cmd(e->be, &c);
	ioreq_vcpu_blocked(&v);
	ASSERT_EQ(0, pthread_kill(v.thread, SIGUSR1));
	ioreq_msleep(100);
	ASSERT_FALSE(ioreq_vcpu_done(&v))
		TH_LOG("the access returned %s, status %s",
		       ioreq_errname(v.ret), ioreq_status_name(v.a.status));
	if (!read_first) {
		/* the request is still there to read */
		ioreq_expect_cmd(e->be, &c);
	}
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 4, 1, MMIO_UD, 0x20, 0);
	c.data = 0x5167;
	ioreq_respond(e->be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x5167);
	ASSERT_EQ(1, got_signal);
}

TEST_F(io, signal_before_read)
{
	signal_keeps_waiting(_metadata, &self->e, false);
}

TEST_F(io, signal_after_read)
{
	signal_keeps_waiting(_metadata, &self->e, true);
}

/*
 * A fatal signal does end it: the vcpu's process dies, its request is
 * withdrawn (queued: the record disappears; read: the answer is stale),
 * and the vcpu is free for the next access.
 */
TEST_F(io, vcpu_killed)
{
	struct ioreq_vmm_access a;
	struct ioreq_cmd c;
	int i, status;
	pid_t pid;

	IOREQ_NEEDS_WITHDRAW();

	for (i = 0; i < 2; i++) {
		bool read_first = i;

		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			ioreq_hv_access(&self->e.hv, &a, 2, IOREQ_SPACE_MMIO,
					IOREQ_OP_READ, 4, MMIO_BASE + 0x60, 0,
					IOREQ_JOIN_MS);
			_exit(3);
		}
		ASSERT_EQ(POLLIN, ioreq_poll(self->e.be, POLLIN,
					     IOREQ_WAIT_MS) & POLLIN);
		if (read_first) {
			ioreq_expect_cmd(self->e.be, &c);
			ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 4, 2, MMIO_UD,
					   0x60, 0);
		}
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status));
		ASSERT_EQ(SIGKILL, WTERMSIG(status));
		if (read_first) {
			c.data = 1;
			ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(self->e.be, &c,
								1));
		} else {
			ASSERT_EQ(0, ioreq_poll(self->e.be, POLLIN, 0));
			ioreq_expect_none(self->e.be);
		}
		/* vcpu 2 takes the next access */
		ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &a, 2,
				IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4, 0x1000, 0,
				0));
		ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	}
}

/* A thread in read() of a session, into its own buffer. */
struct reader {
	int fd;
	struct ioreq_cmd c[2];
	ssize_t ret;
	int err;
	pid_t tid;
	int state;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;

	r->tid = syscall(SYS_gettid);
	__atomic_store_n(&r->state, 1, __ATOMIC_SEQ_CST);
	r->ret = read(r->fd, r->c, sizeof(r->c));
	r->err = errno;
	__atomic_store_n(&r->state, 2, __ATOMIC_SEQ_CST);
	return NULL;
}

/* read() sleeps interruptibly: a signal ends it (no SA_RESTART). */
TEST_F(io, read_interrupted)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };	/* no SA_RESTART */
	struct reader r = { .fd = self->e.be };
	struct timespec t0;
	pthread_t t;
	char st;
	int nr;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	got_signal = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, reader_fn, &r));
	while (!__atomic_load_n(&r.state, __ATOMIC_SEQ_CST))
		sched_yield();
	/* wait until it sleeps in read() */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		nr = ioreq_task_syscall(r.tid, &st);
		if (nr == -2) {
			ioreq_msleep(200);
			break;
		}
		ASSERT_GT(IOREQ_WAIT_MS, ioreq_ms_since(&t0));
		ioreq_msleep(2);
	} while (nr != SYS_read || st != 'S');
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (__atomic_load_n(&r.state, __ATOMIC_SEQ_CST) != 2 &&
	       ioreq_ms_since(&t0) < IOREQ_WAIT_MS)
		ioreq_msleep(2);
	ASSERT_EQ(2, __atomic_load_n(&r.state, __ATOMIC_SEQ_CST))
		TH_LOG("read() still blocked after the signal");
	pthread_join(t, NULL);
	ASSERT_EQ(-1, r.ret);
	ASSERT_EQ(EINTR, r.err);
	ASSERT_EQ(1, got_signal);
}

/* Several readers of one session: each record goes to exactly one. */
TEST_F(io, two_readers)
{
	struct reader r[2] = { { .fd = self->e.be }, { .fd = self->e.be } };
	struct ioreq_vcpu v[NR_VCPUS];
	struct ioreq_cmd c[NR_VCPUS];
	unsigned int i, k, n = 0, seen = 0;
	pthread_t t[2];

	for (i = 0; i < NR_VCPUS; i++)
		ioreq_vcpu_run(&v[i], &self->e.hv, i, IOREQ_SPACE_PIO,
			       IOREQ_OP_READ, 1, PIO_BASE + i, 0, 0);
	for (i = 0; i < NR_VCPUS; i++)
		ioreq_vcpu_blocked(&v[i]);
	/* two threads read at most two records each, at once */
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, reader_fn, &r[i]));
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		ASSERT_LT(0, r[i].ret) TH_LOG("reader %u: errno %d", i,
					      r[i].err);
		ASSERT_EQ(0, r[i].ret % IOREQ_REC);
		for (k = 0; k < r[i].ret / IOREQ_REC; k++)
			c[n++] = r[i].c[k];
	}
	/* whatever they left is still queued */
	if (n < NR_VCPUS)
		ASSERT_RET(NR_VCPUS - n, ioreq_read_n(self->e.be, c + n,
						      NR_VCPUS - n,
						      IOREQ_WAIT_MS));
	ioreq_expect_none(self->e.be);
	/* every vcpu's record exactly once */
	for (i = 0; i < NR_VCPUS; i++) {
		k = IOREQ_CMD_VCPU(c[i].id);
		ASSERT_GT(NR_VCPUS, k);
		ASSERT_EQ(0U, seen & (1U << k)) TH_LOG("vcpu %u twice", k);
		seen |= 1U << k;
		ASSERT_CMD_MATCHES(&c[i], IOREQ_OP_READ, 1, k, PIO_UD, k, 0);
		c[i].data = 0xe0 + k;
	}
	ASSERT_RET(NR_VCPUS * IOREQ_REC,
		   __ioreq_write_cmds(self->e.be, c, NR_VCPUS));
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_VCPU_RESULT(&v[i], IOREQ_VMM_STATUS_DONE, 0xe0 + i);
}

TEST_F(io, poll_readiness)
{
	struct ioreq_vcpu v[2];
	struct ioreq_cmd c[2];
	int rev;

	/* nothing pending: not readable, but writable while the guest lives */
	ASSERT_EQ(0, ioreq_poll(self->e.be, POLLIN | POLLRDNORM, 0));
	ASSERT_EQ(POLLOUT | POLLWRNORM,
		  ioreq_poll(self->e.be, POLLIN | POLLOUT | POLLWRNORM, 0));
	ioreq_vcpu_run(&v[0], &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE, 0, 0);
	rev = ioreq_poll(self->e.be, POLLIN | POLLRDNORM, IOREQ_WAIT_MS);
	ASSERT_EQ(POLLIN | POLLRDNORM, rev & (POLLIN | POLLRDNORM));
	ASSERT_EQ(0, rev & (POLLERR | POLLHUP));
	/* a blocked poll wakes up for a new request */
	ioreq_expect_cmd(self->e.be, &c[0]);
	ASSERT_EQ(0, ioreq_poll(self->e.be, POLLIN, 0));
	ioreq_vcpu_run(&v[1], &self->e.hv, 1, IOREQ_SPACE_PIO, IOREQ_OP_READ,
		       1, PIO_BASE, 0, 0);
	ASSERT_EQ(POLLIN, ioreq_poll(self->e.be, POLLIN, IOREQ_WAIT_MS)
		  & POLLIN);
	ioreq_expect_cmd(self->e.be, &c[1]);
	/* delivered but unanswered requests do not make it readable */
	ASSERT_EQ(0, ioreq_poll(self->e.be, POLLIN, 0));
	c[0].data = 1;
	c[1].data = 2;
	ASSERT_RET(2 * IOREQ_REC, __ioreq_write_cmds(self->e.be, c, 2));
	ASSERT_VCPU_RESULT(&v[0], IOREQ_VMM_STATUS_DONE, 1);
	ASSERT_VCPU_RESULT(&v[1], IOREQ_VMM_STATUS_DONE, 2);
	ASSERT_EQ(0, ioreq_poll(self->e.be, POLLIN, 0));
}

TEST_F(io, epoll_readiness)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[2];
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ev.data.u64 = 0x1234;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->e.be, &ev));
	ASSERT_EQ(0, epoll_wait(ep, out, 2, 0));
	ioreq_vcpu_run(&v, &self->e.hv, 3, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 2,
		       MMIO_BASE + 2, 0, 0);
	ASSERT_EQ(1, epoll_wait(ep, out, 2, IOREQ_WAIT_MS));
	ASSERT_EQ(0x1234ULL, out[0].data.u64);
	ASSERT_EQ((__u32)EPOLLIN, out[0].events & (EPOLLIN | EPOLLERR | EPOLLHUP));
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_EQ(0, epoll_wait(ep, out, 2, 0));
	c.data = 0x77;
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x77);
	ASSERT_EQ(0, epoll_wait(ep, out, 2, 0));
	close(ep);
}

TEST_F(io, nonblock_read)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd c[2];
	int fd;

	/* O_NONBLOCK from fcntl() */
	ioreq_expect_none(self->e.be);
	/* O_NONBLOCK from open() */
	fd = ioreq_open(IOREQ_DEV, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ioreq_attach(fd, variant->hv->provider, self->e.hv.guest_id);
	ASSERT_EQ(-1, read(fd, c, sizeof(c)));
	ASSERT_EQ(EAGAIN, errno);
	ioreq_claim(fd, IOREQ_SPACE_MMIO, 0x50000000ULL, 0x10, 0x50, NULL);
	ioreq_vcpu_run(&v, &self->e.hv, 2, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       0x50000004ULL, 0, 0);
	ASSERT_EQ(POLLIN, ioreq_poll(fd, POLLIN, IOREQ_WAIT_MS) & POLLIN);
	/* a read returns what is there, not a full buffer */
	ASSERT_EQ(IOREQ_REC, read(fd, c, sizeof(c)));
	ASSERT_CMD_MATCHES(&c[0], IOREQ_OP_READ, 4, 2, 0x50, 4, 0);
	ASSERT_EQ(-1, read(fd, c, sizeof(c)));
	ASSERT_EQ(EAGAIN, errno);
	c[0].data = 0x5050;
	ioreq_respond(fd, &c[0]);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x5050);
	close(fd);
}

TEST_F(io, batch_out_of_order)
{
	struct ioreq_vcpu v[NR_VCPUS];
	struct ioreq_cmd c[NR_VCPUS], r[NR_VCPUS];
	unsigned int i, k;

	for (i = 0; i < NR_VCPUS; i++)
		ioreq_vcpu_run(&v[i], &self->e.hv, i, IOREQ_SPACE_MMIO,
			       IOREQ_OP_READ, 8, MMIO_BASE + 8 * i, 0, 0);
	ASSERT_RET(NR_VCPUS, ioreq_read_n(self->e.be, c, NR_VCPUS,
					  IOREQ_WAIT_MS));
	/* answer in the reverse order of arrival, in one write */
	for (k = 0; k < NR_VCPUS; k++) {
		r[k] = c[NR_VCPUS - 1 - k];
		i = IOREQ_CMD_VCPU(r[k].id);
		ASSERT_GT(NR_VCPUS, i);
		ASSERT_CMD_MATCHES(&r[k], IOREQ_OP_READ, 8, i, MMIO_UD, 8 * i,
				   0);
		r[k].data = 0x1111111111111111ULL * (i + 1);
	}
	ASSERT_RET(NR_VCPUS * IOREQ_REC,
		   __ioreq_write_cmds(self->e.be, r, NR_VCPUS));
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_VCPU_RESULT(&v[i], IOREQ_VMM_STATUS_DONE,
				   0x1111111111111111ULL * (i + 1));
}

TEST_F(io, two_backends_one_guest)
{
	struct ioreq_vcpu v[2];
	struct ioreq_cmd a, b;
	int be2 = ioreq_env_session(&self->e);

	ioreq_claim(be2, IOREQ_SPACE_MMIO, 0x60000000ULL, 0x100, 0xbbbb, NULL);
	ioreq_vcpu_run(&v[0], &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE + 0x40, 0, 0);
	ioreq_vcpu_run(&v[1], &self->e.hv, 1, IOREQ_SPACE_MMIO,
		       IOREQ_OP_WRITE, 8, 0x60000008ULL, 0x0b0b0b0b0b0b0b0bULL,
		       0);
	/* each session gets its own region's request, and only that */
	ioreq_expect_cmd(self->e.be, &a);
	ASSERT_CMD_MATCHES(&a, IOREQ_OP_READ, 4, 0, MMIO_UD, 0x40, 0);
	ioreq_expect_cmd(be2, &b);
	ASSERT_CMD_MATCHES(&b, IOREQ_OP_WRITE, 8, 1, 0xbbbb, 8,
			   0x0b0b0b0b0b0b0b0bULL);
	ioreq_expect_none(self->e.be);
	ioreq_expect_none(be2);
	/* a session cannot answer the other's request */
	a.data = 0xaaaa;
	ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(be2, &a, 1));
	ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(self->e.be, &b, 1));
	ioreq_msleep(20);
	ASSERT_FALSE(ioreq_vcpu_done(&v[0]));
	ASSERT_FALSE(ioreq_vcpu_done(&v[1]));
	ioreq_respond(be2, &b);
	ioreq_respond(self->e.be, &a);
	ASSERT_VCPU_RESULT(&v[0], IOREQ_VMM_STATUS_DONE, 0xaaaa);
	ASSERT_VCPU_STATUS(&v[1], IOREQ_VMM_STATUS_DONE);
	close(be2);
}

TEST_F(io, two_guests_one_process)
{
	struct ioreq_hv hv2;
	struct ioreq_info i1, i2;
	struct ioreq_vcpu v1, v2;
	struct ioreq_cmd c1, c2;
	int be2;

	ASSERT_ERRNO(0, ioreq_hv_create(&hv2, variant->hv, 2, 0));
	ASSERT_NE(self->e.hv.guest_id, hv2.guest_id);
	be2 = ioreq_backend_open();
	ASSERT_LE(0, be2);
	ioreq_attach(be2, variant->hv->provider, hv2.guest_id);
	ASSERT_ERRNO(0, __ioreq_get_info(self->e.be, &i1));
	ASSERT_ERRNO(0, __ioreq_get_info(be2, &i2));
	ASSERT_EQ(self->e.hv.guest_id, i1.guest_id);
	ASSERT_EQ(hv2.guest_id, i2.guest_id);
	ASSERT_EQ((__u32)NR_VCPUS, i1.nr_vcpus);
	ASSERT_EQ(2U, i2.nr_vcpus);

	/* regions are per guest: the same range is free on the other */
	ioreq_claim(be2, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 0x2, NULL);
	ioreq_claim(be2, IOREQ_SPACE_PIO, PIO_BASE, PIO_LEN, 0x2, NULL);

	ioreq_vcpu_run(&v1, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE + 0x80, 0, 0);
	ioreq_vcpu_run(&v2, &hv2, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       MMIO_BASE + 0x80, 0, 0);
	ioreq_expect_cmd(self->e.be, &c1);
	ioreq_expect_cmd(be2, &c2);
	ASSERT_CMD_MATCHES(&c1, IOREQ_OP_READ, 4, 0, MMIO_UD, 0x80, 0);
	ASSERT_CMD_MATCHES(&c2, IOREQ_OP_READ, 4, 0, 0x2, 0x80, 0);
	ioreq_expect_none(self->e.be);
	ioreq_expect_none(be2);
	c1.data = 0x11;
	c2.data = 0x22;
	/* guest 2's session cannot answer guest 1's request */
	if (c1.id != c2.id)
		ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(be2, &c1, 1));
	ioreq_respond(be2, &c2);
	ASSERT_VCPU_RESULT(&v2, IOREQ_VMM_STATUS_DONE, 0x22);
	ioreq_msleep(20);
	ASSERT_FALSE(ioreq_vcpu_done(&v1));
	ioreq_respond(self->e.be, &c1);
	ASSERT_VCPU_RESULT(&v1, IOREQ_VMM_STATUS_DONE, 0x11);

	/* destroying guest 2 leaves guest 1 alone */
	ioreq_hv_destroy(&hv2);
	ioreq_vcpu_run(&v1, &self->e.hv, 3, IOREQ_SPACE_PIO, IOREQ_OP_READ, 1,
		       PIO_BASE + 1, 0, 0);
	ioreq_expect_cmd(self->e.be, &c1);
	ASSERT_CMD_MATCHES(&c1, IOREQ_OP_READ, 1, 3, PIO_UD, 1, 0);
	c1.data = 0x33;
	ioreq_respond(self->e.be, &c1);
	ASSERT_VCPU_RESULT(&v1, IOREQ_VMM_STATUS_DONE, 0x33);
	close(be2);
}

TEST_F(io, posted_writes)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd c;

	if (!(self->e.att.caps & IOREQ_CAP_POSTED_WRITES))
		SKIP(return, "%s provider has no IOREQ_CAP_POSTED_WRITES",
		     variant->hv->name);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, 0x70000000ULL, 0x100, 0x70,
		    NULL);
	ASSERT_ERRNO(0, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
				      0x70001000ULL, 0x100, 0x71,
				      IOREQ_REGION_POSTED_WRITES, NULL));
	/* a posted write completes without an answer */
	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE,
		       4, 0x70001010ULL, 0xdeadbeef, 0);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_EQ(IOREQ_OP_WRITE, c.op);
	ASSERT_EQ(IOREQ_CMD_POSTED, c.flags & IOREQ_CMD_POSTED);
	ASSERT_EQ(0x71ULL, c.user_data);
	ASSERT_EQ(0x10ULL, c.offset);
	ASSERT_EQ(0xdeadbeefULL, c.data);
	/* reads in that region still need an answer */
	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       0x70001010ULL, 0, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 4, 0, 0x71, 0x10, 0);
	c.data = 0xbeef;
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0xbeef);
}

/*
 * Posted writes reach read() before a later access of the same vcpu, are
 * never answered (a response is refused), and once the session holds
 * IOREQ_POSTED_MAX (128) unread ones the next write waits for an answer
 * like any other, so nothing is dropped.
 */
TEST_F(io, posted_writes_order_and_room)
{
	struct ioreq_cmd c, last, recs[NR_VCPUS];
	struct ioreq_vcpu v;
	unsigned int i, seen = 0;
	int n;

	if (!(self->e.att.caps & IOREQ_CAP_POSTED_WRITES))
		SKIP(return, "%s provider has no IOREQ_CAP_POSTED_WRITES",
		     variant->hv->name);
	ASSERT_ERRNO(0, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
				      0x70001000ULL, 0x1000, 0x71,
				      IOREQ_REGION_POSTED_WRITES, NULL));
	for (i = 0; i < 128; i++) {
		ioreq_vcpu_run(&v, &self->e.hv, 1, IOREQ_SPACE_MMIO,
			       IOREQ_OP_WRITE, 4, 0x70001000ULL + 4 * i, i, 0);
		ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);
	}
	/* The 129th finds no room: it waits, as a plain write does. */
	ioreq_vcpu_run(&v, &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE,
		       4, 0x70001800ULL, 0x129, 0);
	ioreq_vcpu_blocked(&v);
	while (seen < 128) {
		n = ioreq_read_cmds(self->e.be, recs, NR_VCPUS, IOREQ_WAIT_MS);
		ASSERT_LT(0, n);
		for (i = 0; i < (unsigned int)n; i++, seen++) {
			if (seen == 128)
				break;
			ASSERT_EQ(IOREQ_CMD_POSTED, recs[i].flags)
				TH_LOG("record %u", seen);
			ASSERT_EQ(4ULL * seen, recs[i].offset);
			ASSERT_EQ((__u64)seen, recs[i].data);
			ASSERT_EQ(1U, IOREQ_CMD_VCPU(recs[i].id));
			last = recs[i];
		}
	}
	/* A posted record cannot be answered. */
	ASSERT_ERRNO(EINVAL, __ioreq_write_cmds(self->e.be, &last, 1));
	if (i == (unsigned int)n)
		ioreq_expect_cmd(self->e.be, &c);
	else
		c = recs[i];
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_WRITE, 4, 1, 0x71, 0x800, 0x129);
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);

	/* Posted, then a read of the same vcpu: the write comes first. */
	ioreq_vcpu_run(&v, &self->e.hv, 2, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE,
		       2, 0x70001010ULL, 0xabcd, 0);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);
	ioreq_vcpu_run(&v, &self->e.hv, 2, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 2,
		       0x70001010ULL, 0, 0);
	ioreq_vcpu_blocked(&v);
	n = ioreq_read_cmds(self->e.be, recs, NR_VCPUS, IOREQ_WAIT_MS);
	ASSERT_EQ(2, n);
	ASSERT_EQ(IOREQ_CMD_POSTED, recs[0].flags);
	ASSERT_EQ(0xabcdULL, recs[0].data);
	ASSERT_CMD_MATCHES(&recs[1], IOREQ_OP_READ, 2, 2, 0x71, 0x10, 0);
	recs[1].data = 0xabcd;
	ioreq_respond(self->e.be, &recs[1]);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0xabcd);
}

int main(int argc, char **argv)
{
	ioreq_require_backend();
	return test_harness_run(argc, argv);
}
