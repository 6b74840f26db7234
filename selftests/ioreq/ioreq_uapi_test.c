// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq uapi contract tests: what the kernel may write into a caller's
 * struct, what read() may still return after IOREQ_RELEASE_REGION, how
 * write() treats a batch with a malformed record behind a stale one, and
 * the irqfd limit under racing assigns.
 */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <sys/resource.h>

#include "ioreq_util.h"

#define NR_VCPUS	4U
#define CANARY		0xa5
/* Below 1 MiB: Xen's buffered ring has 20 address bits. */
#define REG_A		0xa0000ULL
#define REG_B		0xb0000ULL
#define REG_LEN		0x1000ULL
#define UD_A		0xaaaa0000aaaaULL
#define UD_B		0xbbbb0000bbbbULL
#define UD_C		0xcccc0000ccccULL

/* ---- copy-out: never a byte past the caller's size -------------------- */

/*
 * Issue @cmd with a struct of @usize bytes: @proto's first bytes (zeros
 * past sizeof), @usize in its size member, and CANARY after it up to the
 * end of @buf.  Returns the ioctl's result; @buf holds what came back.
 */
static int sized_call(int fd, unsigned long cmd, const void *proto,
		      size_t ksize, __u32 usize, __u8 *buf, size_t buflen)
{
	memset(buf, CANARY, buflen);
	memset(buf, 0, usize);
	memcpy(buf, proto, ksize < usize ? ksize : usize);
	memcpy(buf, &usize, sizeof(usize));
	return __ioreq_ioctl(fd, cmd, buf);
}

/* The first byte of @buf[@from, @to) that is not @val, or -1. */
static int first_not(const __u8 *buf, size_t from, size_t to, __u8 val)
{
	size_t i;

	for (i = from; i < to; i++)
		if (buf[i] != val)
			return i;
	return -1;
}

/*
 * For every size from 8 to 32 bytes past the kernel's struct: a size the
 * kernel refuses must leave everything alone (the size check comes before
 * any copy-out), and one it accepts must leave every byte after @usize as
 * the caller wrote it.  A size below sizeof is accepted only once the
 * struct has grown past its first version: then a caller built against the
 * old, smaller struct must not see its neighbours overwritten.  @fresh, if
 * set, gives a new descriptor for each call (an ioctl that works once per
 * file) and @done releases it.
 */
static void check_copy_out(struct __test_metadata *_metadata, const char *name,
			   int fd, unsigned long cmd, const void *proto,
			   size_t ksize, int (*fresh)(void),
			   void (*done)(int fd))
{
	__u8 buf[256] __attribute__((aligned(8)));
	unsigned int accepted = 0, smaller = 0;
	int ret, f, bad;
	__u32 usize;

	ASSERT_LT(ksize + 32, sizeof(buf));
	for (usize = 8; usize <= ksize + 32; usize++) {
		f = fresh ? fresh() : fd;
		ASSERT_LE(0, f);
		ret = sized_call(f, cmd, proto, ksize, usize, buf, sizeof(buf));
		if (done)
			done(f);
		bad = first_not(buf, usize, sizeof(buf), CANARY);
		ASSERT_EQ(-1, bad)
			TH_LOG("%s: size %u (kernel %zu): byte %d written (%s)",
			       name, usize, ksize, bad, ioreq_errname(ret));
		/* The caller's own bytes past the kernel's struct stay 0. */
		bad = first_not(buf, ksize, usize, 0);
		ASSERT_EQ(-1, bad)
			TH_LOG("%s: size %u: byte %d changed", name, usize,
			       bad);
		ASSERT_EQ(usize, *(__u32 *)buf);
		if (ret == -EINVAL && usize < ksize)
			continue;
		/* Extra bytes are zero: a larger size is never refused. */
		ASSERT_NE(-E2BIG, ret) TH_LOG("%s: size %u", name, usize);
		accepted++;
		if (usize < ksize)
			smaller++;
	}
	/* Every size from sizeof up (with zeroed extra bytes) is taken. */
	ASSERT_LE(33U, accepted) TH_LOG("%s", name);
	if (smaller)
		TH_LOG("%s: %u sizes below %zu accepted (older versions)",
		       name, smaller, ksize);
}

static int vmm_fd(void)
{
	return ioreq_open(IOREQ_VMM_DEV, O_RDWR);
}

static void fd_close(int fd)
{
	close(fd);
}

TEST(copy_out_within_size)
{
	struct ioreq_info info = { 0 };
	struct ioreq_attach at = {
		.provider = IOREQ_PROVIDER_VMM,
		.guest_id = 0xfffffffeULL,	/* nobody's */
	};
	struct ioreq_region reg = {
		.space = IOREQ_SPACE_MMIO,
		.len = 8,
	};
	struct ioreq_vmm_create create = { .nr_vcpus = 1 };
	struct ioreq_vmm_access acc = {
		.space = IOREQ_SPACE_MMIO, .op = IOREQ_OP_READ, .len = 4,
		.addr = 0x1000,
	};
	struct ioreq_vmm_memory mem = { .fd = -1, .len = 4096 };
	__u8 buf[256] __attribute__((aligned(8)));
	struct ioreq_hv hv = { .fd = -1 };
	int be, ret, bad;
	__u32 usize;

	be = ioreq_backend_open();
	ASSERT_LE(0, be);
	/* Before attach: GET_INFO answers, ATTACH fails after its pre-check. */
	check_copy_out(_metadata, "IOREQ_GET_INFO", be, IOREQ_GET_INFO, &info,
		       sizeof(info), NULL, NULL);
	check_copy_out(_metadata, "IOREQ_ATTACH", be, IOREQ_ATTACH, &at,
		       sizeof(at), NULL, NULL);

	if (ioreq_vmm_unavailable()) {
		close(be);
		SKIP(return, "%s", ioreq_vmm_unavailable());
	}
	ASSERT_ERRNO(0, ioreq_hv_create(&hv, &ioreq_hv_vmm, 1, 0));
	ioreq_attach(be, IOREQ_PROVIDER_VMM, hv.guest_id);
	check_copy_out(_metadata, "IOREQ_GET_INFO attached", be,
		       IOREQ_GET_INFO, &info, sizeof(info), NULL, NULL);
	/* Each accepted claim takes a region: move the range each time. */
	reg.addr = 0x100000;
	for (usize = 8; usize <= sizeof(reg) + 32; usize++) {
		reg.addr += 0x10;
		ret = sized_call(be, IOREQ_CLAIM_REGION, &reg, sizeof(reg),
				 usize, buf, sizeof(buf));
		bad = first_not(buf, usize, sizeof(buf), CANARY);
		ASSERT_EQ(-1, bad)
			TH_LOG("IOREQ_CLAIM_REGION: size %u: byte %d written (%s)",
			       usize, bad, ioreq_errname(ret));
		if (usize >= sizeof(reg))
			ASSERT_ERRNO_MSG(0, ret, "size %u", usize);
	}

	/* The hypervisor side. */
	check_copy_out(_metadata, "IOREQ_VMM_CREATE_GUEST", -1,
		       IOREQ_VMM_CREATE_GUEST, &create, sizeof(create), vmm_fd,
		       fd_close);
	check_copy_out(_metadata, "IOREQ_VMM_ACCESS", hv.fd, IOREQ_VMM_ACCESS,
		       &acc, sizeof(acc), NULL, NULL);
	check_copy_out(_metadata, "IOREQ_VMM_ADD_MEMORY", hv.fd,
		       IOREQ_VMM_ADD_MEMORY, &mem, sizeof(mem), NULL, NULL);
	close(be);
	ioreq_hv_destroy(&hv);
}

/* ---- posted records do not outlive their region ----------------------- */

FIXTURE(posted) {
	struct ioreq_env e;
	__u32 a, b;	/* region ids */
};

IOREQ_FIXTURE_VARIANT(posted);
IOREQ_PROVIDER_VARIANTS(posted);

FIXTURE_SETUP(posted)
{
	ioreq_env_setup(&self->e, variant->hv, NR_VCPUS);
	if (!(self->e.att.caps & IOREQ_CAP_POSTED_WRITES))
		SETUP_SKIP("%s provider has no IOREQ_CAP_POSTED_WRITES",
			   variant->hv->name);
	ASSERT_ERRNO(0, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, REG_A,
				      REG_LEN, UD_A,
				      IOREQ_REGION_POSTED_WRITES, &self->a));
	ASSERT_ERRNO(0, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, REG_B,
				      REG_LEN, UD_B,
				      IOREQ_REGION_POSTED_WRITES, &self->b));
}

FIXTURE_TEARDOWN(posted)
{
	ioreq_env_teardown(&self->e);
}

/* A vcpu's posted write of @data at @addr: it returns at once. */
static void vcpu_post(struct __test_metadata *_metadata, struct ioreq_hv *hv,
		      __u32 vcpu, __u64 addr, __u64 data)
{
	struct ioreq_vcpu v;

	ioreq_vcpu_run(&v, hv, vcpu, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE, 4,
		       addr, data, 0);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);
}

/* Read every record there is; expect exactly @n, all posted, of @ud. */
static void expect_only(struct __test_metadata *_metadata, int be,
			__u64 ud, const __u64 *data, unsigned int n)
{
	struct ioreq_cmd c[NR_VCPUS];
	unsigned int seen = 0;
	int got, i;

	while (seen < n) {
		got = ioreq_read_cmds(be, c, NR_VCPUS, IOREQ_WAIT_MS);
		ASSERT_LT(0, got) TH_LOG("after %u of %u records: %s", seen,
					 n, ioreq_errname(got));
		for (i = 0; i < got; i++, seen++) {
			ASSERT_LT(seen, n) TH_LOG("extra record, user_data %#llx",
						  (unsigned long long)c[i].user_data);
			ASSERT_EQ(ud, c[i].user_data)
				TH_LOG("record %u: user_data %#llx", seen,
				       (unsigned long long)c[i].user_data);
			ASSERT_EQ(IOREQ_CMD_POSTED, c[i].flags);
			ASSERT_EQ(data[seen], c[i].data)
				TH_LOG("record %u", seen);
		}
	}
	ioreq_expect_none(be);
}

/*
 * Posted writes queued unread for a region are gone once
 * IOREQ_RELEASE_REGION returns, even when a new region takes the old one's
 * id; another region's records survive, in their order.
 */
TEST_F(posted, release_drops_unread)
{
	static const __u64 b_data[] = { 2, 4, 6 }, c_data[] = { 7 };
	__u32 c;

	vcpu_post(_metadata, &self->e.hv, 0, REG_A + 0x10, 1);
	vcpu_post(_metadata, &self->e.hv, 1, REG_B + 0x10, 2);
	vcpu_post(_metadata, &self->e.hv, 2, REG_A + 0x20, 3);
	vcpu_post(_metadata, &self->e.hv, 0, REG_B + 0x20, 4);
	vcpu_post(_metadata, &self->e.hv, 3, REG_A + 0x30, 5);
	ioreq_release(self->e.be, self->a);
	/* Whatever id the new claim gets, A's records are not its own. */
	ASSERT_ERRNO(0, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, REG_A,
				      REG_LEN, UD_C,
				      IOREQ_REGION_POSTED_WRITES, &c));
	vcpu_post(_metadata, &self->e.hv, 1, REG_B + 0x30, 6);
	expect_only(_metadata, self->e.be, UD_B, b_data, 3);

	/* The new region works as any other. */
	vcpu_post(_metadata, &self->e.hv, 2, REG_A + 0x40, 7);
	expect_only(_metadata, self->e.be, UD_C, c_data, 1);
}

/* Release with nothing unread, and the last region: nothing to purge. */
TEST_F(posted, release_all_then_close)
{
	static const __u64 b_data[] = { 8 };

	vcpu_post(_metadata, &self->e.hv, 0, REG_B, 8);
	vcpu_post(_metadata, &self->e.hv, 0, REG_A, 9);
	ioreq_release(self->e.be, self->a);
	expect_only(_metadata, self->e.be, UD_B, b_data, 1);
	vcpu_post(_metadata, &self->e.hv, 0, REG_B, 10);
	ioreq_release(self->e.be, self->b);
	ioreq_expect_none(self->e.be);
	/* Unread posted records of a closing session go with it. */
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, REG_B, REG_LEN, UD_B, NULL);
	ASSERT_ERRNO(0, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, REG_A,
				      REG_LEN, UD_A,
				      IOREQ_REGION_POSTED_WRITES, NULL));
	vcpu_post(_metadata, &self->e.hv, 0, REG_A, 11);
	close(self->e.be);
	self->e.be = -1;
}

static struct ioreq_xd_buf_write buf_write(__u64 addr, __u64 data)
{
	struct ioreq_xd_buf_write w = {
		.type = IOREQ_XD_TYPE_COPY, .size = 4,
		.addr = (__u32)addr, .data = data,
	};

	return w;
}

/*
 * Xen's own posted writes (the buffered ring, vcpu 0xffff): those handed
 * to the session are dropped with their region.  The ring itself never
 * waits for a full session (the provider drops and counts what does not
 * fit), so it is empty, and the other region's writes stay.
 */
TEST_F(posted, release_drops_buffered)
{
	enum { NA = 128 + 6, NB = 3 };
	struct ioreq_xd_buf_write w[NA + NB];
	struct ioreq_xd_buf_send s;
	__u64 b_data[NB];
	unsigned int i;

	if (variant->hv->provider != IOREQ_PROVIDER_XEN)
		SKIP(return, "%s: no buffered ring", variant->hv->name);
	/*
	 * B's first, then A's: they fill the session's 128 posted records,
	 * and the rest of A's are dropped.
	 */
	for (i = 0; i < NB; i++) {
		w[i] = buf_write(REG_B + 4 * i, 0xb000 + i);
		b_data[i] = 0xb000 + i;
	}
	for (i = 0; i < NA; i++)
		w[NB + i] = buf_write(REG_A + 4 * (i % 0x400), 0x1000 + i);
	memset(&s, 0, sizeof(s));
	s.nr = NA + NB;
	s.writes = (__u64)(uintptr_t)w;
	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.hv.fd, IOREQ_XD_BUF_SEND, &s));
	ASSERT_EQ((__u32)(NA + NB), s.sent);
	/* The drain went through the whole ring. */
	ASSERT_EQ(s.read_pointer, s.write_pointer);
	ioreq_release(self->e.be, self->a);
	expect_only(_metadata, self->e.be, UD_B, b_data, NB);
}

/* ---- write(): a malformed record anywhere refuses the batch ------------ */

FIXTURE(batch) {
	struct ioreq_env e;
};

IOREQ_FIXTURE_VARIANT(batch);
IOREQ_PROVIDER_VARIANTS(batch);

FIXTURE_SETUP(batch)
{
	ioreq_env_setup(&self->e, variant->hv, NR_VCPUS);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, REG_A, REG_LEN, UD_A, NULL);
}

FIXTURE_TEARDOWN(batch)
{
	ioreq_env_teardown(&self->e);
}

/*
 * [pending, stale, pending with the wrong size]: the size mismatch is
 * found although a stale record comes first, and nothing completes.
 */
TEST_F(batch, mismatch_after_stale_refuses_all)
{
	struct ioreq_cmd c[3], old, b[3];
	struct ioreq_vcpu v[3];
	unsigned int i, got = 0;
	int n;

	ioreq_vcpu_run(&v[0], &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, REG_A, 0, 0);
	ioreq_vcpu_blocked(&v[0]);
	ioreq_expect_cmd(self->e.be, &old);
	old.data = 0x11;
	ioreq_respond(self->e.be, &old);		/* old is stale now */
	ASSERT_VCPU_RESULT(&v[0], IOREQ_VMM_STATUS_DONE, 0x11);

	for (i = 0; i < 3; i++)
		ioreq_vcpu_run(&v[i], &self->e.hv, i + 1, IOREQ_SPACE_MMIO,
			       IOREQ_OP_READ, 4, REG_A + 4 * i, 0, 0);
	for (i = 0; i < 3; i++)
		ioreq_vcpu_blocked(&v[i]);
	while (got < 3) {
		n = ioreq_read_cmds(self->e.be, c + got, 3 - got,
				    IOREQ_WAIT_MS);
		ASSERT_LT(0, n);
		got += n;
	}
	for (i = 0; i < 3; i++)
		c[i].data = 0x100 + IOREQ_CMD_VCPU(c[i].id);

	b[0] = c[0];
	b[1] = old;
	b[2] = c[1];
	b[2].size = 2;
	ASSERT_ERRNO(EINVAL, __ioreq_write_cmds(self->e.be, b, 3));
	b[2].size = 4;
	b[2].op = IOREQ_OP_WRITE;
	ASSERT_ERRNO(EINVAL, __ioreq_write_cmds(self->e.be, b, 3));
	/* Nothing was answered: every vcpu still waits. */
	ioreq_msleep(20);
	for (i = 0; i < 3; i++)
		ASSERT_FALSE(ioreq_vcpu_done(&v[i]));

	/* A well-formed batch with a stale record: the prefix completes. */
	b[2] = c[1];
	ASSERT_RET(IOREQ_REC, __ioreq_write_cmds(self->e.be, b, 3));
	ASSERT_RET(2 * IOREQ_REC, __ioreq_write_cmds(self->e.be, c + 1, 2));
	for (i = 0; i < 3; i++)
		ASSERT_VCPU_RESULT(&v[i], IOREQ_VMM_STATUS_DONE,
				   0x100 + i + 1);
}

/* ---- irqfd: the per-session limit holds under racing assigns --------- */

#define MAX_IRQFDS	1024	/* IOREQ_MAX_IRQFDS, irq.c */
#define RACERS		8
#define PER_RACER	(MAX_IRQFDS / RACERS + 24)

struct racer {
	int be;
	int efd[PER_RACER];
	int ok, nospc, other;
	volatile int *go;
};

static void *racer_fn(void *arg)
{
	struct racer *r = arg;
	struct ioreq_irqfd a = {
		.size = sizeof(a),
		.irq = { .kind = IOREQ_IRQ_MSI, .msi_addr = 0xfee00000 },
	};
	int i, ret;

	while (!*r->go)
		;
	for (i = 0; i < PER_RACER; i++) {
		a.fd = r->efd[i];
		ret = __ioreq_ioctl(r->be, IOREQ_IRQFD, &a);
		if (!ret)
			r->ok++;
		else if (ret == -ENOSPC)
			r->nospc++;
		else
			r->other++;
	}
	return NULL;
}

/*
 * RACERS threads bind more eventfds to one session than it may hold, all
 * at once: exactly MAX_IRQFDS succeed and the rest fail with ENOSPC.  The
 * count is checked again where a binding is listed, so racing assigns
 * that all passed the first check cannot go past it.  Several rounds, as
 * the race is a matter of timing.
 */
TEST(irqfd_limit_racing)
{
	static struct racer r[RACERS];
	pthread_t t[RACERS];
	struct ioreq_hv hv = { .fd = -1 };
	struct rlimit rl;
	volatile int go;
	int round, i, j, ok, nospc, be;

	if (ioreq_vmm_unavailable())
		SKIP(return, "%s", ioreq_vmm_unavailable());
	rl.rlim_cur = rl.rlim_max = RACERS * PER_RACER + 64;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl))
		TH_LOG("setrlimit: %s", strerror(errno));
	ASSERT_ERRNO(0, ioreq_hv_create(&hv, &ioreq_hv_vmm, 1, 0));
	for (i = 0; i < RACERS; i++)
		for (j = 0; j < PER_RACER; j++) {
			r[i].efd[j] = eventfd(0, EFD_CLOEXEC);
			ASSERT_LE(0, r[i].efd[j]);
		}
	for (round = 0; round < 4; round++) {
		be = ioreq_backend_open();
		ASSERT_LE(0, be);
		ioreq_attach(be, IOREQ_PROVIDER_VMM, hv.guest_id);
		if (!round) {
			struct ioreq_info info;

			ASSERT_ERRNO(0, __ioreq_get_info(be, &info));
			if (!(info.caps & IOREQ_CAP_IRQFD)) {
				close(be);
				ioreq_hv_destroy(&hv);
				SKIP(return, "no IOREQ_CAP_IRQFD");
			}
		}
		go = 0;
		for (i = 0; i < RACERS; i++) {
			r[i].be = be;
			r[i].ok = r[i].nospc = r[i].other = 0;
			r[i].go = &go;
			ASSERT_EQ(0, pthread_create(&t[i], NULL, racer_fn,
						    &r[i]));
		}
		go = 1;
		ok = nospc = 0;
		for (i = 0; i < RACERS; i++) {
			pthread_join(t[i], NULL);
			ASSERT_EQ(0, r[i].other) TH_LOG("racer %d", i);
			ok += r[i].ok;
			nospc += r[i].nospc;
		}
		ASSERT_EQ(MAX_IRQFDS, ok) TH_LOG("round %d", round);
		ASSERT_EQ(RACERS * PER_RACER - MAX_IRQFDS, nospc);
		close(be);
	}
	for (i = 0; i < RACERS; i++)
		for (j = 0; j < PER_RACER; j++)
			close(r[i].efd[j]);
	ioreq_hv_destroy(&hv);
}

int main(int argc, char **argv)
{
	ioreq_require_backend();
	return test_harness_run(argc, argv);
}
