// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq ABI tests: every ioctl's struct size handling, flags and reserved
 * members, bad pointers, unknown commands, the errors of read() and
 * write(), and the permission of /dev/ioreq.
 *
 * Fixtures:
 *  - session: a guest and a backend session that is not attached yet
 *  - backend: a guest and a session attached to it, one MMIO region
 *  - vmm:     the hypervisor device itself (/dev/ioreq-vmm ABI)
 * session and backend run once per provider (IOREQ_PROVIDER_VARIANTS).
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ioreq_util.h"

#define MMIO_BASE	0xfe000000ULL
#define MMIO_LEN	0x1000ULL
#define MMIO_UD		0x5eed0001ULL

/* NULL, hidden from the compiler's nonnull checks */
static void *volatile null_ptr;

/* A RW page, a PROT_NONE page and a read-only page, in that order. */
struct guard {
	__u8 *rw, *none, *ro;
};

static int guard_map(struct guard *g)
{
	long pg = sysconf(_SC_PAGESIZE);
	__u8 *p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	g->rw = p;
	g->none = p + pg;
	g->ro = p + 2 * pg;
	if (mprotect(g->none, pg, PROT_NONE) ||
	    mprotect(g->ro, pg, PROT_READ))
		return -errno;
	return 0;
}

/* Put @arg in the read-only page. */
static void *guard_ro(struct guard *g, const void *arg, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);

	mprotect(g->ro, pg, PROT_READ | PROT_WRITE);
	memcpy(g->ro, arg, len);
	mprotect(g->ro, pg, PROT_READ);
	return g->ro;
}

/* Place @arg so that only its first 8 bytes (size, flags) are readable. */
static void *guard_straddle(struct guard *g, const void *arg)
{
	__u8 *p = g->none - 8;

	memcpy(p, arg, 8);
	return p;
}

/*
 * All the bad pointers for @cmd with a valid struct @arg of @len bytes:
 * NULL, an unmapped page, a struct running into an unmapped page.
 */
#define ASSERT_EFAULT_ALL(_fd, _cmd, _arg) do {				\
	struct guard __g;						\
	ASSERT_ERRNO(0, guard_map(&__g));				\
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(_fd, _cmd, NULL));		\
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(_fd, _cmd, __g.none));	\
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(_fd, _cmd,			\
				guard_straddle(&__g, _arg)));		\
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(_fd, _cmd, (void *)-4096L));	\
} while (0)

static int run_vmm_access(int fd, struct ioreq_vmm_access *a, __u32 vcpu,
			  __u8 space, __u8 op, __u8 len, __u64 addr)
{
	ioreq_access_init(a, vcpu, space, op, len, addr, 0x0123456789abcdefULL,
			  0);
	return __ioreq_ioctl(fd, IOREQ_VMM_ACCESS, a);
}

/* ===================================================================== */
/* session: a guest and an unattached backend session                     */
/* ===================================================================== */

FIXTURE(session) {
	struct ioreq_hv hv;
	int be;
};

IOREQ_FIXTURE_VARIANT(session);
IOREQ_PROVIDER_VARIANTS(session);

FIXTURE_SETUP(session)
{
	self->be = -1;
	self->hv.fd = -1;
	if (variant->hv->unavailable && variant->hv->unavailable())
		SETUP_SKIP("%s provider: %s", variant->hv->name,
			   variant->hv->unavailable());
	ASSERT_ERRNO(0, ioreq_hv_create(&self->hv, variant->hv, 2, 0));
	self->be = ioreq_backend_open();
	ASSERT_LE(0, self->be) TH_LOG("open %s: %s", IOREQ_DEV,
				      ioreq_errname(self->be));
}

FIXTURE_TEARDOWN(session)
{
	if (self->be >= 0)
		close(self->be);
	ioreq_hv_destroy(&self->hv);
}

TEST_F(session, get_info_before_attach)
{
	struct ioreq_info info;
	unsigned long max = ioreq_param("ioreq", "max_regions", 0);

	/* out members are written, whatever they held */
	memset(&info, 0xa5, sizeof(info));
	info.size = sizeof(info);
	info.flags = 0;
	ASSERT_ERRNO(0, __ioreq_ioctl(self->be, IOREQ_GET_INFO, &info));
	EXPECT_EQ((__u32)IOREQ_PROVIDER_NONE, info.provider);
	EXPECT_EQ(0U, info.nr_vcpus);
	EXPECT_EQ(0U, info.guest_id);
	EXPECT_EQ(0U, info.__reserved);
	/* the union over the loaded providers includes this one's */
	EXPECT_EQ(IOREQ_CAP_MMIO | IOREQ_CAP_PIO,
		  info.caps & (IOREQ_CAP_MMIO | IOREQ_CAP_PIO));
	EXPECT_LT(0U, info.max_regions);
	if (max)
		EXPECT_EQ(max, info.max_regions);
}

TEST_F(session, get_info_after_attach)
{
	struct ioreq_info before, after;
	struct ioreq_attach at;

	ASSERT_ERRNO(0, __ioreq_get_info(self->be, &before));
	ASSERT_ERRNO(0, __ioreq_attach(self->be, variant->hv->provider,
				       self->hv.guest_id, &at));
	EXPECT_EQ(self->hv.nr_vcpus, at.nr_vcpus);
	EXPECT_EQ(0U, at.__reserved2);
	EXPECT_EQ(IOREQ_CAP_MMIO | IOREQ_CAP_PIO,
		  at.caps & (IOREQ_CAP_MMIO | IOREQ_CAP_PIO));

	memset(&after, 0xa5, sizeof(after));
	after.size = sizeof(after);
	after.flags = 0;
	after.__reserved = 0;
	ASSERT_ERRNO(0, __ioreq_ioctl(self->be, IOREQ_GET_INFO, &after));
	EXPECT_EQ(variant->hv->provider, after.provider);
	EXPECT_EQ(self->hv.nr_vcpus, after.nr_vcpus);
	EXPECT_EQ(self->hv.guest_id, after.guest_id);
	EXPECT_EQ(at.caps, after.caps);
	EXPECT_EQ(before.max_regions, after.max_regions);
	EXPECT_EQ(0U, after.__reserved);
	/* the provider's caps are among the union reported before attach */
	EXPECT_EQ(0U, after.caps & ~before.caps);
}

TEST_F(session, attach_names_its_provider)
{
	struct ioreq_info info;

	/*
	 * No "any provider": an attach that asked each provider in turn
	 * could bring up a Xen IOREQ server on a domain it never meant.
	 */
	ASSERT_ERRNO(EINVAL, __ioreq_attach(self->be, IOREQ_PROVIDER_NONE,
					    self->hv.guest_id, NULL));
	ASSERT_ERRNO(0, __ioreq_get_info(self->be, &info));
	ASSERT_EQ((__u32)IOREQ_PROVIDER_NONE, info.provider);
	ioreq_attach(self->be, variant->hv->provider, self->hv.guest_id);
	ASSERT_ERRNO(0, __ioreq_get_info(self->be, &info));
	ASSERT_EQ(variant->hv->provider, info.provider);
	ASSERT_EQ(self->hv.guest_id, info.guest_id);
}

TEST_F(session, attach_twice)
{
	struct ioreq_hv other;
	struct ioreq_info info;

	ioreq_attach(self->be, variant->hv->provider, self->hv.guest_id);
	ASSERT_ERRNO(EBUSY, __ioreq_attach(self->be, variant->hv->provider,
					   self->hv.guest_id, NULL));
	/* nor to another guest */
	ASSERT_ERRNO(0, ioreq_hv_create(&other, variant->hv, 1, 0));
	ASSERT_ERRNO(EBUSY, __ioreq_attach(self->be, variant->hv->provider,
					   other.guest_id, NULL));
	ASSERT_ERRNO(0, __ioreq_get_info(self->be, &info));
	ASSERT_EQ(self->hv.guest_id, info.guest_id);
	ioreq_hv_destroy(&other);
}

TEST_F(session, attach_unknown_guest)
{
	__u64 bogus = self->hv.guest_id ^ 0x5a5a0000ULL;
	struct ioreq_info info;

	ASSERT_ERRNO(ESRCH, __ioreq_attach(self->be, variant->hv->provider,
					   bogus, NULL));
	ASSERT_ERRNO(ESRCH, __ioreq_attach(self->be, variant->hv->provider,
					   ~0ULL, NULL));
	/* a failed attach leaves the session unattached and usable */
	ASSERT_ERRNO(0, __ioreq_get_info(self->be, &info));
	ASSERT_EQ((__u32)IOREQ_PROVIDER_NONE, info.provider);
	ioreq_attach(self->be, variant->hv->provider, self->hv.guest_id);
}

TEST_F(session, attach_bad_provider)
{
	static const __u32 bad[] = { IOREQ_PROVIDER_VMM + 1, 99, 0xffffffffU };
	unsigned int i;
	struct stat st;
	int ret;

	/*
	 * A provider number the uapi does not define is a provider that is
	 * not loaded: ENODEV, as documented (a newer kernel's provider).
	 */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = __ioreq_attach(self->be, bad[i], self->hv.guest_id, NULL);
		ASSERT_EQ(-ENODEV, ret)
			TH_LOG("provider %u: %s", bad[i], ioreq_errname(ret));
	}
	/*
	 * A defined provider that is not loaded: ENODEV.  The test guests
	 * load the Xen double, which registers IOREQ_PROVIDER_XEN: then the
	 * provider is there and knows no such guest (the double has no
	 * guest while a vmm variant runs).
	 */
	if (variant->hv->provider != IOREQ_PROVIDER_XEN) {
		if (stat("/sys/module/ioreq_xen", &st) == 0)
			SKIP(return, "ioreq_xen is loaded: no absent provider");
		ret = stat("/sys/module/ioreq_xen_double", &st) == 0 ?
		      ESRCH : ENODEV;
		ASSERT_ERRNO(ret,
			     __ioreq_attach(self->be, IOREQ_PROVIDER_XEN,
					    self->hv.guest_id, NULL));
	}
	ioreq_attach(self->be, variant->hv->provider, self->hv.guest_id);
}

TEST_F(session, attach_flags_reserved)
{
	struct ioreq_attach at = {
		.size = sizeof(at),
		.provider = variant->hv->provider,
		.guest_id = self->hv.guest_id,
	};
	struct ioreq_attach bad;

	bad = at;
	bad.flags = 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->be, IOREQ_ATTACH, &bad));
	bad = at;
	bad.flags = 1U << 31;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->be, IOREQ_ATTACH, &bad));
	bad = at;
	bad.__reserved = 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->be, IOREQ_ATTACH, &bad));
	bad = at;
	bad.__reserved2 = 0x80000000U;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->be, IOREQ_ATTACH, &bad));
	/* none of it attached */
	ASSERT_ERRNO(0, __ioreq_ioctl(self->be, IOREQ_ATTACH, &at));
}

TEST_F(session, length_attach)
{
	const __u32 v1 = sizeof(struct ioreq_attach);
	static const struct { __u32 size; __u8 tail; int err; } c[] = {
		{ 0, 0, EINVAL },
		{ 8, 0, EINVAL },
		{ sizeof(struct ioreq_attach) - 8, 0, EINVAL },
		{ sizeof(struct ioreq_attach) - 1, 0, EINVAL },
		{ sizeof(struct ioreq_attach) + 1, 0x01, E2BIG },
		{ sizeof(struct ioreq_attach) + 8, 0x80, E2BIG },
		{ sizeof(struct ioreq_attach), 0, 0 },
		{ sizeof(struct ioreq_attach) + 8, 0, 0 },
		{ sizeof(struct ioreq_attach) + 256, 0, 0 },
	};
	struct ioreq_attach at;
	struct ioreq_info info;
	unsigned int i;
	int fd;

	ASSERT_LE(16U, v1);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		fd = ioreq_backend_open();
		ASSERT_LE(0, fd);
		memset(&at, 0, sizeof(at));
		at.provider = variant->hv->provider;
		at.guest_id = self->hv.guest_id;
		ASSERT_ERRNO_MSG(c[i].err, __ioreq_ioctl_sized(fd, IOREQ_ATTACH,
				&at, sizeof(at), c[i].size, c[i].tail),
			"size %u tail %#x", c[i].size, c[i].tail);
		ASSERT_ERRNO(0, __ioreq_get_info(fd, &info));
		if (c[i].err) {
			ASSERT_EQ((__u32)IOREQ_PROVIDER_NONE, info.provider);
		} else {
			ASSERT_EQ(self->hv.nr_vcpus, at.nr_vcpus);
			ASSERT_EQ(self->hv.guest_id, info.guest_id);
		}
		close(fd);
	}
}

TEST_F(session, length_get_info)
{
	const __u32 v1 = sizeof(struct ioreq_info);
	/* The first version ended at __reserved; invalidations came later. */
	const __u32 first = offsetofend(struct ioreq_info, __reserved);
	struct ioreq_info info = { .size = v1 };

	ASSERT_ERRNO(EINVAL, __ioreq_ioctl_sized(self->be, IOREQ_GET_INFO,
						 &info, v1, 0, 0));
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl_sized(self->be, IOREQ_GET_INFO,
						 &info, v1, 8, 0));
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl_sized(self->be, IOREQ_GET_INFO,
						 &info, v1, first - 8, 0));
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl_sized(self->be, IOREQ_GET_INFO,
						 &info, v1, first - 1, 0));
	memset(&info, 0, sizeof(info));
	ASSERT_ERRNO(0, __ioreq_ioctl_sized(self->be, IOREQ_GET_INFO,
					    &info, v1, first, 0));
	ASSERT_LT(0U, info.max_regions);
	ASSERT_ERRNO(E2BIG, __ioreq_ioctl_sized(self->be, IOREQ_GET_INFO,
						&info, v1, v1 + 1, 0x7f));
	ASSERT_ERRNO(E2BIG, __ioreq_ioctl_sized(self->be, IOREQ_GET_INFO,
						&info, v1, v1 + 64, 0x01));
	memset(&info, 0, sizeof(info));
	ASSERT_ERRNO(0, __ioreq_ioctl_sized(self->be, IOREQ_GET_INFO,
					    &info, v1, v1, 0));
	ASSERT_LT(0U, info.max_regions);
	memset(&info, 0, sizeof(info));
	ASSERT_ERRNO(0, __ioreq_ioctl_sized(self->be, IOREQ_GET_INFO,
					    &info, v1, v1 + 8, 0));
	ASSERT_LT(0U, info.max_regions);
	memset(&info, 0, sizeof(info));
	ASSERT_ERRNO(0, __ioreq_ioctl_sized(self->be, IOREQ_GET_INFO,
					    &info, v1, v1 + 256, 0));
	ASSERT_LT(0U, info.max_regions);
}

TEST_F(session, get_info_flags)
{
	struct ioreq_info info = { .size = sizeof(info), .flags = 1 };

	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->be, IOREQ_GET_INFO, &info));
	info.flags = 1U << 31;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->be, IOREQ_GET_INFO, &info));
}

TEST_F(session, efault_get_info_attach)
{
	struct ioreq_info info = { .size = sizeof(info) };
	struct ioreq_attach at = {
		.size = sizeof(at),
		.provider = variant->hv->provider,
		.guest_id = self->hv.guest_id,
	};
	struct guard g;

	ASSERT_EFAULT_ALL(self->be, IOREQ_GET_INFO, &info);
	/* GET_INFO must write its answer: a read-only struct faults */
	ASSERT_ERRNO(0, guard_map(&g));
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(self->be, IOREQ_GET_INFO,
					   guard_ro(&g, &info, sizeof(info))));

	ASSERT_EFAULT_ALL(self->be, IOREQ_ATTACH, &at);
	/* nothing attached by the faulting calls */
	ASSERT_ERRNO(0, __ioreq_ioctl(self->be, IOREQ_ATTACH, &at));
}

TEST_F(session, not_attached)
{
	struct ioreq_release rel = { .size = sizeof(rel), .id = 0 };
	struct ioreq_cmd cmd = { .op = IOREQ_OP_READ, .size = 4 };
	char buf[64];

	ASSERT_ERRNO(ENOTCONN, __ioreq_claim(self->be, IOREQ_SPACE_MMIO,
					     MMIO_BASE, MMIO_LEN, 0, 0, NULL));
	ASSERT_ERRNO(ENOTCONN, __ioreq_ioctl(self->be, IOREQ_RELEASE_REGION,
					     &rel));
	ASSERT_EQ(-1, read(self->be, buf, sizeof(buf)));
	ASSERT_EQ(ENOTCONN, errno);
	ASSERT_ERRNO(ENOTCONN, __ioreq_write_cmds(self->be, &cmd, 1));
	/* bad input is EINVAL whatever the attach state */
	rel.flags = 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->be, IOREQ_RELEASE_REGION,
					   &rel));
	/* nothing to wait for: poll() says so at once */
	ASSERT_EQ(POLLERR, ioreq_poll(self->be, POLLIN | POLLOUT, 5000));
	/* and the session can still attach */
	ioreq_attach(self->be, variant->hv->provider, self->hv.guest_id);
	ioreq_claim(self->be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 0, NULL);
}

TEST_F(session, unknown_ioctl)
{
	union { struct ioreq_info info; __u8 b[256]; } buf;
	int i;
	const unsigned long bad[] = {
		_IO(IOREQ_MAGIC, IOREQ_CMD_REDELIVER + 1),
		_IO(IOREQ_MAGIC, 0x3f),
		_IO(IOREQ_MAGIC, IOREQ_VMM_CMD_CREATE_GUEST),
		_IO(IOREQ_MAGIC, IOREQ_VMM_CMD_ACCESS),
		_IO(IOREQ_MAGIC, IOREQ_VMM_CMD_ADD_MEMORY),
		_IO(IOREQ_MAGIC + 1, IOREQ_CMD_GET_INFO),
		/* the right number with direction/size bits is another cmd */
		_IOWR(IOREQ_MAGIC, IOREQ_CMD_GET_INFO, struct ioreq_info),
		_IOR(IOREQ_MAGIC, IOREQ_CMD_ATTACH, struct ioreq_attach),
	};

	for (i = 0; i < 2; i++) {
		unsigned int j;

		if (i == 1)
			ioreq_attach(self->be, variant->hv->provider,
				     self->hv.guest_id);
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			memset(&buf, 0, sizeof(buf));
			buf.info.size = sizeof(buf.info);
			ASSERT_ERRNO_MSG(ENOTTY,
				__ioreq_ioctl(self->be, bad[j], &buf),
				"cmd %#lx, attached %d", bad[j], i);
		}
	}
}

/* ===================================================================== */
/* backend: a guest and an attached session                               */
/* ===================================================================== */

FIXTURE(backend) {
	struct ioreq_env e;
	__u32 region;
};

IOREQ_FIXTURE_VARIANT(backend);
IOREQ_PROVIDER_VARIANTS(backend);

FIXTURE_SETUP(backend)
{
	ioreq_env_setup(&self->e, variant->hv, 4);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN,
		    MMIO_UD, &self->region);
}

FIXTURE_TEARDOWN(backend)
{
	ioreq_env_teardown(&self->e);
}

/* A vcpu reads 4 bytes at MMIO_BASE + @off; the backend reads the record. */
#define PENDING_READ(_v, _vcpu, _off, _cmd) do {			\
	ioreq_vcpu_run(_v, &self->e.hv, _vcpu, IOREQ_SPACE_MMIO,	\
		       IOREQ_OP_READ, 4, MMIO_BASE + (_off), 0, 0);	\
	ioreq_expect_cmd(self->e.be, _cmd);				\
	ASSERT_CMD_MATCHES(_cmd, IOREQ_OP_READ, 4, _vcpu, MMIO_UD,	\
			   _off, 0);					\
} while (0)

TEST_F(backend, length_claim_region)
{
	const __u32 v1 = sizeof(struct ioreq_region);
	static const struct { __u32 size; __u8 tail; int err; } c[] = {
		{ 0, 0, EINVAL },
		{ 8, 0, EINVAL },
		{ sizeof(struct ioreq_region) - 8, 0, EINVAL },
		{ sizeof(struct ioreq_region) - 1, 0, EINVAL },
		{ sizeof(struct ioreq_region) + 1, 0x01, E2BIG },
		{ sizeof(struct ioreq_region) + 8, 0xff, E2BIG },
		{ sizeof(struct ioreq_region), 0, 0 },
		{ sizeof(struct ioreq_region) + 8, 0, 0 },
		{ sizeof(struct ioreq_region) + 256, 0, 0 },
	};
	struct ioreq_region r;
	unsigned int i;
	__u32 id;

	ASSERT_LE(16U, v1);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		__u64 addr = 0x10000000ULL + i * 0x1000;

		memset(&r, 0, sizeof(r));
		r.space = IOREQ_SPACE_MMIO;
		r.addr = addr;
		r.len = 0x1000;
		r.user_data = i;
		ASSERT_ERRNO_MSG(c[i].err, __ioreq_ioctl_sized(self->e.be,
				IOREQ_CLAIM_REGION, &r, sizeof(r),
				c[i].size, c[i].tail),
			"size %u tail %#x", c[i].size, c[i].tail);
		if (c[i].err) {
			/* nothing was claimed */
			ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, addr,
				    0x1000, 0, &id);
			ioreq_release(self->e.be, id);
		} else {
			ASSERT_ERRNO(EEXIST, __ioreq_claim(self->e.be,
				IOREQ_SPACE_MMIO, addr, 0x1000, 0, 0, NULL));
			ioreq_release(self->e.be, r.id);
		}
	}
}

TEST_F(backend, length_release_region)
{
	const __u32 v1 = sizeof(struct ioreq_release);
	static const struct { __u32 size; __u8 tail; int err; } c[] = {
		{ 0, 0, EINVAL },
		{ 8, 0, EINVAL },
		{ sizeof(struct ioreq_release) - 1, 0, EINVAL },
		{ sizeof(struct ioreq_release) + 1, 0x01, E2BIG },
		{ sizeof(struct ioreq_release) + 8, 0xff, E2BIG },
		{ sizeof(struct ioreq_release), 0, 0 },
		{ sizeof(struct ioreq_release) + 8, 0, 0 },
		{ sizeof(struct ioreq_release) + 256, 0, 0 },
	};
	struct ioreq_release r;
	unsigned int i;
	__u32 id;

	ASSERT_LE(16U, v1);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, 0x20000000ULL,
			    0x1000, 0, &id);
		memset(&r, 0, sizeof(r));
		r.id = id;
		ASSERT_ERRNO_MSG(c[i].err, __ioreq_ioctl_sized(self->e.be,
				IOREQ_RELEASE_REGION, &r, sizeof(r),
				c[i].size, c[i].tail),
			"size %u tail %#x", c[i].size, c[i].tail);
		if (c[i].err) {
			/* still claimed */
			ASSERT_ERRNO(EEXIST, __ioreq_claim(self->e.be,
				IOREQ_SPACE_MMIO, 0x20000000ULL, 0x1000, 0, 0,
				NULL));
			ioreq_release(self->e.be, id);
		} else {
			ASSERT_ERRNO(ENOENT, __ioreq_release(self->e.be, id));
		}
	}
}

TEST_F(backend, claim_flags_reserved)
{
	struct ioreq_region r = {
		.size = sizeof(r),
		.space = IOREQ_SPACE_MMIO,
		.addr = 0x30000000ULL,
		.len = 0x100,
	};
	struct ioreq_region bad;

	bad = r;
	bad.flags = 1U << 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->e.be, IOREQ_CLAIM_REGION,
					   &bad));
	bad = r;
	bad.flags = 1U << 31;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->e.be, IOREQ_CLAIM_REGION,
					   &bad));
	bad = r;
	bad.__reserved = 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->e.be, IOREQ_CLAIM_REGION,
					   &bad));
	bad = r;
	bad.__reserved2 = 0x80000000U;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->e.be, IOREQ_CLAIM_REGION,
					   &bad));
	bad = r;
	bad.space = 3;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->e.be, IOREQ_CLAIM_REGION,
					   &bad));
	bad = r;
	bad.space = 0xffffffffU;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->e.be, IOREQ_CLAIM_REGION,
					   &bad));
	/* nothing was claimed by the failures */
	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.be, IOREQ_CLAIM_REGION, &r));
}

TEST_F(backend, claim_bad_range)
{
	__u32 id;

	/* zero length */
	ASSERT_ERRNO(EINVAL, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   0x40000000ULL, 0, 0, 0, NULL));
	ASSERT_ERRNO(EINVAL, __ioreq_claim(self->e.be, IOREQ_SPACE_PIO,
					   0x100, 0, 0, 0, NULL));
	/* addr + len wraps */
	ASSERT_ERRNO(EINVAL, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   ~0ULL - 1, 4, 0, 0, NULL));
	ASSERT_ERRNO(EINVAL, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   0x1000, ~0ULL, 0, 0, NULL));
	ASSERT_ERRNO(EINVAL, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   ~0ULL, ~0ULL, 0, 0, NULL));
	/* ports end at 0xffff */
	ASSERT_ERRNO(EINVAL, __ioreq_claim(self->e.be, IOREQ_SPACE_PIO,
					   0x10000, 1, 0, 0, NULL));
	ASSERT_ERRNO(EINVAL, __ioreq_claim(self->e.be, IOREQ_SPACE_PIO,
					   0xfff0, 0x11, 0, 0, NULL));
	ASSERT_ERRNO(EINVAL, __ioreq_claim(self->e.be, IOREQ_SPACE_PIO,
					   0, 0x10001, 0, 0, NULL));
	ASSERT_ERRNO(EINVAL, __ioreq_claim(self->e.be, IOREQ_SPACE_PIO,
					   0x100000000ULL, 1, 0, 0, NULL));
	/* the last ports and the whole port space are fine */
	ioreq_claim(self->e.be, IOREQ_SPACE_PIO, 0xfff0, 0x10, 0, &id);
	ioreq_release(self->e.be, id);
	ioreq_claim(self->e.be, IOREQ_SPACE_PIO, 0, 0x10000, 0, &id);
	ioreq_release(self->e.be, id);
}

TEST_F(backend, claim_unsupported)
{
	int err;

	/* PCI config space needs IOREQ_CAP_PCI_CONFIG */
	err = (self->e.att.caps & IOREQ_CAP_PCI_CONFIG) ? 0 : EOPNOTSUPP;
	ASSERT_ERRNO(err, __ioreq_claim(self->e.be, IOREQ_SPACE_PCI_CONFIG,
					0x100, 0x100, 0, 0, NULL));
	/* posted writes need IOREQ_CAP_POSTED_WRITES */
	err = (self->e.att.caps & IOREQ_CAP_POSTED_WRITES) ? 0 : EOPNOTSUPP;
	ASSERT_ERRNO(err, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					0x50000000ULL, 0x100, 0,
					IOREQ_REGION_POSTED_WRITES, NULL));
}

TEST_F(backend, release_bad)
{
	struct ioreq_release r = { .size = sizeof(r), .id = self->region };
	struct ioreq_release bad;
	__u32 id, id2;
	int fd2;

	bad = r;
	bad.flags = 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->e.be, IOREQ_RELEASE_REGION,
					   &bad));
	bad = r;
	bad.__reserved = 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->e.be, IOREQ_RELEASE_REGION,
					   &bad));
	/* unknown ids */
	ASSERT_ERRNO(ENOENT, __ioreq_release(self->e.be, self->region + 1000));
	ASSERT_ERRNO(ENOENT, __ioreq_release(self->e.be, ~0U));

	/*
	 * A region of another session on the same guest is not ours.  Ids
	 * may be per session: of two regions there, one has an id that this
	 * session does not use.
	 */
	fd2 = ioreq_env_session(&self->e);
	ioreq_claim(fd2, IOREQ_SPACE_MMIO, 0x60000000ULL, 0x100, 0, &id);
	ioreq_claim(fd2, IOREQ_SPACE_MMIO, 0x60001000ULL, 0x100, 0, &id2);
	ASSERT_NE(id, id2);
	ASSERT_ERRNO(ENOENT, __ioreq_release(self->e.be,
					     id != self->region ? id : id2));
	ioreq_release(fd2, id);
	ioreq_release(fd2, id2);
	close(fd2);

	/* the region survived all that; release it once only */
	ASSERT_ERRNO(EEXIST, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   MMIO_BASE, 1, 0, 0, NULL));
	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.be, IOREQ_RELEASE_REGION, &r));
	ASSERT_ERRNO(ENOENT, __ioreq_ioctl(self->e.be, IOREQ_RELEASE_REGION,
					   &r));
}

TEST_F(backend, efault_claim_release)
{
	struct ioreq_region r = {
		.size = sizeof(r),
		.space = IOREQ_SPACE_MMIO,
		.addr = 0x70000000ULL,
		.len = 0x100,
	};
	struct ioreq_release rel = { .size = sizeof(rel), .id = self->region };

	ASSERT_EFAULT_ALL(self->e.be, IOREQ_CLAIM_REGION, &r);
	ASSERT_EFAULT_ALL(self->e.be, IOREQ_RELEASE_REGION, &rel);
	/* the region is still there */
	ASSERT_ERRNO(EEXIST, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   MMIO_BASE, 1, 0, 0, NULL));
}

TEST_F(backend, read_bad_length)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd c[4];

	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE, 0, 0);
	ASSERT_EQ(POLLIN, ioreq_poll(self->e.be, POLLIN, IOREQ_WAIT_MS)
		  & POLLIN);
	ASSERT_EQ(-1, read(self->e.be, c, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, read(self->e.be, c, 16));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, read(self->e.be, c, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, read(self->e.be, c, 48));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, read(self->e.be, c, 65));
	ASSERT_EQ(EINVAL, errno);
	/* the record is still there, and a longer buffer gets one record */
	ASSERT_EQ(IOREQ_REC, read(self->e.be, c, sizeof(c)));
	ASSERT_CMD_MATCHES(&c[0], IOREQ_OP_READ, 4, 0, MMIO_UD, 0, 0);
	c[0].data = 0x12345678;
	ioreq_respond(self->e.be, &c[0]);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x12345678);
}

TEST_F(backend, read_efault_keeps_record)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	struct guard g;

	ASSERT_ERRNO(0, guard_map(&g));
	ioreq_vcpu_run(&v, &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE + 8, 0, 0);
	ASSERT_EQ(POLLIN, ioreq_poll(self->e.be, POLLIN, IOREQ_WAIT_MS)
		  & POLLIN);
	ASSERT_EQ(-1, read(self->e.be, null_ptr, IOREQ_REC));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, read(self->e.be, g.none, IOREQ_REC));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, read(self->e.be, g.ro, IOREQ_REC));
	ASSERT_EQ(EFAULT, errno);
	/* a fault does not lose the request */
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 4, 1, MMIO_UD, 8, 0);
	c.data = 0xabcd;
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0xabcd);
}

TEST_F(backend, read_partial_fault)
{
	struct ioreq_vcpu v[2];
	struct ioreq_cmd c[2], *buf;
	struct guard g;
	unsigned int i;
	ssize_t ret;

	ASSERT_ERRNO(0, guard_map(&g));
	/* two records queued; room for only the first before the hole */
	ioreq_vcpu_run(&v[0], &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE + 0x50, 0, 0);
	ioreq_vcpu_blocked(&v[0]);
	ioreq_vcpu_run(&v[1], &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE + 0x54, 0, 0);
	ioreq_vcpu_blocked(&v[1]);
	buf = (struct ioreq_cmd *)(g.none - IOREQ_REC);
	ret = read(self->e.be, buf, 2 * IOREQ_REC);
	/*
	 * The uapi documents the first record returned and the second left
	 * queued; EFAULT with both left queued loses nothing either.
	 */
	if (ret < 0) {
		ASSERT_EQ(EFAULT, errno);
		TH_LOG("read() into a half-mapped buffer: EFAULT, not 32 bytes");
		ASSERT_RET(2, ioreq_read_n(self->e.be, c, 2, IOREQ_WAIT_MS));
	} else {
		ASSERT_EQ(IOREQ_REC, ret);
		c[0] = buf[0];
		/* the record that did not fit is still queued */
		ioreq_expect_cmd(self->e.be, &c[1]);
	}
	ASSERT_NE(IOREQ_CMD_VCPU(c[0].id), IOREQ_CMD_VCPU(c[1].id));
	for (i = 0; i < 2; i++) {
		unsigned int n = IOREQ_CMD_VCPU(c[i].id);

		ASSERT_GT(2U, n);
		ASSERT_CMD_MATCHES(&c[i], IOREQ_OP_READ, 4, n, MMIO_UD,
				   0x50 + 4 * n, 0);
		c[i].data = 0x100 + n;
	}
	ASSERT_RET(2 * IOREQ_REC, __ioreq_write_cmds(self->e.be, c, 2));
	ASSERT_VCPU_RESULT(&v[0], IOREQ_VMM_STATUS_DONE, 0x100);
	ASSERT_VCPU_RESULT(&v[1], IOREQ_VMM_STATUS_DONE, 0x101);
}

TEST_F(backend, write_bad_length)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd c[8];
	struct guard g;
	unsigned int i;

	ASSERT_ERRNO(0, guard_map(&g));
	PENDING_READ(&v, 2, 0x10, &c[0]);
	c[0].data = 0x55aa55aa;
	for (i = 1; i < ARRAY_SIZE(c); i++)
		c[i] = c[0];
	/* nothing to do is no error */
	ASSERT_RET(0, __ioreq_write_cmds(self->e.be, c, 0));
	/* more records than the guest has vcpus cannot all be pending */
	ASSERT_LT(self->e.hv.nr_vcpus, ARRAY_SIZE(c));
	ASSERT_ERRNO(EINVAL, __ioreq_write_cmds(self->e.be, c,
						self->e.hv.nr_vcpus + 1));
	ASSERT_EQ(-1, write(self->e.be, c, 16));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, write(self->e.be, c, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, write(self->e.be, c, 33));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, write(self->e.be, c, 48));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, write(self->e.be, null_ptr, IOREQ_REC));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, write(self->e.be, g.none, IOREQ_REC));
	ASSERT_EQ(EFAULT, errno);
	/* none of these completed the request */
	ioreq_msleep(20);
	ASSERT_FALSE(ioreq_vcpu_done(&v));
	ioreq_respond(self->e.be, &c[0]);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x55aa55aa);
}

TEST_F(backend, write_malformed)
{
	struct ioreq_vcpu v0, v1;
	struct ioreq_cmd good[2], bad[2];
	unsigned int i;
	static const __u8 sizes[] = { 0, 3, 5, 7, 16, 255 };

	PENDING_READ(&v0, 0, 0x20, &good[0]);
	PENDING_READ(&v1, 1, 0x24, &good[1]);
	good[0].data = 0x11111111;
	good[1].data = 0x22222222;

#define ASSERT_MALFORMED(_field, _val) do {				\
	bad[0] = good[0];						\
	bad[0]._field = (_val);						\
	ASSERT_ERRNO_MSG(EINVAL, __ioreq_write_cmds(self->e.be, bad, 1),\
		#_field " = %#llx", (unsigned long long)(_val));	\
	/* a malformed record after a good one: nothing completes */	\
	bad[1] = good[1];						\
	bad[1]._field = (_val);						\
	bad[0] = good[0];						\
	ASSERT_ERRNO_MSG(EINVAL, __ioreq_write_cmds(self->e.be, bad, 2),\
		"batch, " #_field " = %#llx", (unsigned long long)(_val));\
} while (0)

	ASSERT_MALFORMED(op, 2);
	ASSERT_MALFORMED(op, 0xff);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		ASSERT_MALFORMED(size, sizes[i]);
	/* flags other than IOREQ_CMD_POSTED are reserved */
	ASSERT_MALFORMED(flags, 1U << 1);
	ASSERT_MALFORMED(flags, 0x8000);
	/* ids that name no vcpu of the guest */
	ASSERT_MALFORMED(id, (good[0].id & ~0xffffU) | self->e.hv.nr_vcpus);
	ASSERT_MALFORMED(id, (good[0].id & ~0xffffU) | 0xffff);
	ASSERT_MALFORMED(id, 0xffffffffU);
#undef ASSERT_MALFORMED

	ioreq_msleep(20);
	ASSERT_FALSE(ioreq_vcpu_done(&v0));
	ASSERT_FALSE(ioreq_vcpu_done(&v1));
	/* both requests are still pending: answer them in one batch */
	ASSERT_RET(2 * IOREQ_REC, __ioreq_write_cmds(self->e.be, good, 2));
	ASSERT_VCPU_RESULT(&v0, IOREQ_VMM_STATUS_DONE, 0x11111111);
	ASSERT_VCPU_RESULT(&v1, IOREQ_VMM_STATUS_DONE, 0x22222222);
}

TEST_F(backend, write_mismatch)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd good, bad;

	/* op and size must be those of the request */
	PENDING_READ(&v, 3, 0x30, &good);
	good.data = 0xfeedf00d;
	bad = good;
	bad.op = IOREQ_OP_WRITE;
	ASSERT_ERRNO(EINVAL, __ioreq_write_cmds(self->e.be, &bad, 1));
	bad = good;
	bad.size = 8;
	ASSERT_ERRNO(EINVAL, __ioreq_write_cmds(self->e.be, &bad, 1));
	bad = good;
	bad.size = 2;
	ASSERT_ERRNO(EINVAL, __ioreq_write_cmds(self->e.be, &bad, 1));
	ioreq_msleep(20);
	ASSERT_FALSE(ioreq_vcpu_done(&v));
	ioreq_respond(self->e.be, &good);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0xfeedf00d);
}

TEST_F(backend, write_stale)
{
	struct ioreq_vcpu v0, v1;
	struct ioreq_cmd old, c0, c1, batch[3];

	/* answer one request of vcpu 0 */
	PENDING_READ(&v0, 0, 0x40, &old);
	old.data = 1;
	ioreq_respond(self->e.be, &old);
	ASSERT_VCPU_RESULT(&v0, IOREQ_VMM_STATUS_DONE, 1);
	/* answering it again: it is no longer pending */
	ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(self->e.be, &old, 1));

	/* vcpu 0's next request has a new id; the old one stays stale */
	PENDING_READ(&v0, 0, 0x44, &c0);
	ASSERT_NE(old.id, c0.id);
	ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(self->e.be, &old, 1));
	ioreq_msleep(20);
	ASSERT_FALSE(ioreq_vcpu_done(&v0));

	/* a stale record after good ones ends the write early */
	PENDING_READ(&v1, 1, 0x48, &c1);
	c0.data = 0xc0;
	c1.data = 0xc1;
	batch[0] = c0;
	batch[1] = old;
	batch[2] = c1;
	ASSERT_RET(IOREQ_REC, __ioreq_write_cmds(self->e.be, batch, 3));
	ASSERT_VCPU_RESULT(&v0, IOREQ_VMM_STATUS_DONE, 0xc0);
	ioreq_msleep(20);
	ASSERT_FALSE(ioreq_vcpu_done(&v1));
	/* the same request twice in one batch: the second is stale */
	batch[0] = c1;
	batch[1] = c1;
	ASSERT_RET(IOREQ_REC, __ioreq_write_cmds(self->e.be, batch, 2));
	ASSERT_VCPU_RESULT(&v1, IOREQ_VMM_STATUS_DONE, 0xc1);
	ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(self->e.be, &c1, 1));
}

TEST_F(backend, unknown_ioctl_attached)
{
	char buf[128] = { 0 };

	ASSERT_ERRNO(ENOTTY, __ioreq_ioctl(self->e.be,
					   _IO(IOREQ_MAGIC, 0x10), buf));
	ASSERT_ERRNO(ENOTTY, __ioreq_ioctl(self->e.be, _IO(0, 0), buf));
}

/* ===================================================================== */
/* vmm: the hypervisor device ABI                                         */
/* ===================================================================== */

FIXTURE(vmm) {
	int fd;		/* a guest of 2 vcpus */
	int raw;	/* no guest yet */
	__u64 guest_id;
	unsigned long max_vcpus;
};

FIXTURE_SETUP(vmm)
{
	const char *why = ioreq_vmm_unavailable();

	self->fd = -1;
	self->raw = -1;
	if (why)
		SETUP_SKIP("%s", why);
	self->max_vcpus = ioreq_param("ioreq_vmm", "max_vcpus", 64);
	self->fd = ioreq_open(IOREQ_VMM_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->raw = ioreq_open(IOREQ_VMM_DEV, O_RDWR);
	ASSERT_LE(0, self->raw);
	self->guest_id = 0;
	ASSERT_ERRNO(0, __ioreq_vmm_create(self->fd, 2, &self->guest_id));
	ASSERT_NE(0U, self->guest_id);
}

FIXTURE_TEARDOWN(vmm)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->raw >= 0)
		close(self->raw);
}

TEST_F(vmm, create_twice)
{
	__u64 id = 0;

	ASSERT_ERRNO(EBUSY, __ioreq_vmm_create(self->fd, 2, &id));
	ASSERT_ERRNO(0, __ioreq_vmm_create(self->raw, 1, &id));
	id = 0;
	ASSERT_ERRNO(EBUSY, __ioreq_vmm_create(self->raw, 1, &id));
}

TEST_F(vmm, create_nr_vcpus)
{
	__u64 id = 0;
	int fd;

	ASSERT_ERRNO(EINVAL, __ioreq_vmm_create(self->raw, 0, &id));
	ASSERT_ERRNO(EINVAL, __ioreq_vmm_create(self->raw,
						self->max_vcpus + 1, &id));
	ASSERT_ERRNO(EINVAL, __ioreq_vmm_create(self->raw, 0x10001, &id));
	ASSERT_ERRNO(EINVAL, __ioreq_vmm_create(self->raw, ~0U, &id));
	/* the fd has no guest after those */
	ASSERT_ERRNO(0, __ioreq_vmm_create(self->raw, self->max_vcpus, &id));
	fd = ioreq_backend_open();
	if (fd >= 0) {
		struct ioreq_attach at;

		ASSERT_ERRNO(0, __ioreq_attach(fd, IOREQ_PROVIDER_VMM, id,
					       &at));
		ASSERT_EQ(self->max_vcpus, at.nr_vcpus);
		close(fd);
	}
}

TEST_F(vmm, create_guest_id)
{
	__u64 a = 0, b = 0, want;
	int fd2, fd3;

	/* 0 allocates distinct non-zero ids */
	fd2 = ioreq_open(IOREQ_VMM_DEV, O_RDWR);
	ASSERT_LE(0, fd2);
	ASSERT_ERRNO(0, __ioreq_vmm_create(self->raw, 1, &a));
	ASSERT_ERRNO(0, __ioreq_vmm_create(fd2, 1, &b));
	ASSERT_NE(0U, a);
	ASSERT_NE(0U, b);
	ASSERT_NE(a, b);
	ASSERT_NE(self->guest_id, a);
	ASSERT_NE(self->guest_id, b);
	close(fd2);

	/* an id in use */
	fd2 = ioreq_open(IOREQ_VMM_DEV, O_RDWR);
	ASSERT_LE(0, fd2);
	want = self->guest_id;
	ASSERT_ERRNO(EEXIST, __ioreq_vmm_create(fd2, 1, &want));
	/* a chosen free id is kept */
	want = 0x10000000ULL + getpid();
	ASSERT_ERRNO(0, __ioreq_vmm_create(fd2, 1, &want));
	ASSERT_EQ(0x10000000ULL + getpid(), want);
	fd3 = ioreq_open(IOREQ_VMM_DEV, O_RDWR);
	ASSERT_LE(0, fd3);
	ASSERT_ERRNO(EEXIST, __ioreq_vmm_create(fd3, 1, &want));
	/* ids are 32-bit */
	want = 0x100000000ULL;
	ASSERT_ERRNO(EINVAL, __ioreq_vmm_create(fd3, 1, &want));
	want = ~0ULL;
	ASSERT_ERRNO(EINVAL, __ioreq_vmm_create(fd3, 1, &want));
	want = 0xffffffffULL;
	ASSERT_ERRNO(0, __ioreq_vmm_create(fd3, 1, &want));
	ASSERT_EQ(0xffffffffULL, want);
	close(fd3);
	close(fd2);
}

TEST_F(vmm, create_flags_reserved)
{
	struct ioreq_vmm_create c = { .size = sizeof(c), .nr_vcpus = 1 };
	struct ioreq_vmm_create bad;

	bad = c;
	bad.flags = IOREQ_VMM_CREATE_PRIVATE << 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->raw, IOREQ_VMM_CREATE_GUEST,
					   &bad));
	bad = c;
	bad.flags = 1U << 31;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->raw, IOREQ_VMM_CREATE_GUEST,
					   &bad));
	bad = c;
	bad.__reserved = 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->raw, IOREQ_VMM_CREATE_GUEST,
					   &bad));
	ASSERT_ERRNO(0, __ioreq_ioctl(self->raw, IOREQ_VMM_CREATE_GUEST, &c));
}

TEST_F(vmm, length_create_guest)
{
	const __u32 v1 = sizeof(struct ioreq_vmm_create);
	static const struct { __u32 size; __u8 tail; int err; } c[] = {
		{ 0, 0, EINVAL },
		{ 8, 0, EINVAL },
		{ sizeof(struct ioreq_vmm_create) - 8, 0, EINVAL },
		{ sizeof(struct ioreq_vmm_create) - 1, 0, EINVAL },
		{ sizeof(struct ioreq_vmm_create) + 1, 0x01, E2BIG },
		{ sizeof(struct ioreq_vmm_create) + 8, 0xff, E2BIG },
		{ sizeof(struct ioreq_vmm_create), 0, 0 },
		{ sizeof(struct ioreq_vmm_create) + 8, 0, 0 },
		{ sizeof(struct ioreq_vmm_create) + 256, 0, 0 },
	};
	struct ioreq_vmm_create cr;
	unsigned int i;
	__u64 id;
	int fd;

	ASSERT_LE(16U, v1);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		fd = ioreq_open(IOREQ_VMM_DEV, O_RDWR);
		ASSERT_LE(0, fd);
		memset(&cr, 0, sizeof(cr));
		cr.nr_vcpus = 1;
		ASSERT_ERRNO_MSG(c[i].err, __ioreq_ioctl_sized(fd,
				IOREQ_VMM_CREATE_GUEST, &cr, sizeof(cr),
				c[i].size, c[i].tail),
			"size %u tail %#x", c[i].size, c[i].tail);
		id = 0;
		if (c[i].err) {
			/* no guest was made */
			ASSERT_ERRNO(0, __ioreq_vmm_create(fd, 1, &id));
		} else {
			ASSERT_NE(0U, cr.guest_id);
			ASSERT_ERRNO(EBUSY, __ioreq_vmm_create(fd, 1, &id));
		}
		close(fd);
	}
}

TEST_F(vmm, efault_create_guest)
{
	struct ioreq_vmm_create c = { .size = sizeof(c), .nr_vcpus = 1 };
	__u64 id = 0;

	ASSERT_EFAULT_ALL(self->raw, IOREQ_VMM_CREATE_GUEST, &c);
	ASSERT_ERRNO(0, __ioreq_vmm_create(self->raw, 1, &id));
}

TEST_F(vmm, access_no_guest)
{
	struct ioreq_vmm_access a;

	ASSERT_ERRNO(ENXIO, run_vmm_access(self->raw, &a, 0, IOREQ_SPACE_MMIO,
					   IOREQ_OP_READ, 4, 0x1000));
}

TEST_F(vmm, access_unclaimed)
{
	static const __u8 lens[] = { 1, 2, 4, 8 };
	struct ioreq_vmm_access a;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_ERRNO(0, run_vmm_access(self->fd, &a, 0,
				IOREQ_SPACE_MMIO, IOREQ_OP_READ, lens[i],
				0xfee00000ULL));
		ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
		ASSERT_EQ(ioreq_mask(lens[i]), a.data & ioreq_mask(lens[i]));
		ASSERT_ERRNO(0, run_vmm_access(self->fd, &a, 1,
				IOREQ_SPACE_PIO, IOREQ_OP_READ, lens[i],
				0x80));
		ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
		ASSERT_EQ(ioreq_mask(lens[i]), a.data & ioreq_mask(lens[i]));
		ASSERT_ERRNO(0, run_vmm_access(self->fd, &a, 1,
				IOREQ_SPACE_MMIO, IOREQ_OP_WRITE, lens[i],
				0xfee00000ULL));
		ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	}
}

TEST_F(vmm, access_bad_vcpu)
{
	struct ioreq_vmm_access a;

	ASSERT_ERRNO(EINVAL, run_vmm_access(self->fd, &a, 2, IOREQ_SPACE_MMIO,
					    IOREQ_OP_READ, 4, 0x1000));
	ASSERT_ERRNO(EINVAL, run_vmm_access(self->fd, &a, 0xffff,
					    IOREQ_SPACE_MMIO, IOREQ_OP_READ,
					    4, 0x1000));
	ASSERT_ERRNO(EINVAL, run_vmm_access(self->fd, &a, 0x10000,
					    IOREQ_SPACE_MMIO, IOREQ_OP_READ,
					    4, 0x1000));
	ASSERT_ERRNO(EINVAL, run_vmm_access(self->fd, &a, ~0U,
					    IOREQ_SPACE_MMIO, IOREQ_OP_READ,
					    4, 0x1000));
	/* the last vcpu is fine */
	ASSERT_ERRNO(0, run_vmm_access(self->fd, &a, 1, IOREQ_SPACE_MMIO,
				       IOREQ_OP_READ, 4, 0x1000));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
}

TEST_F(vmm, access_bad_space_op_len)
{
	struct ioreq_vmm_access a;
	static const __u8 bad_lens[] = { 0, 3, 5, 6, 7, 16, 255 };
	unsigned int i;
	int ret;

	/* space: PCI config registers end at 4095 (ioreq_memory_test) */
	ret = run_vmm_access(self->fd, &a, 0, IOREQ_SPACE_PCI_CONFIG,
			     IOREQ_OP_READ, 4, 0x1000);
	ASSERT_ERRNO(EINVAL, ret);
	ASSERT_ERRNO(EINVAL, run_vmm_access(self->fd, &a, 0, 3, IOREQ_OP_READ,
					    4, 0x1000));
	ASSERT_ERRNO(EINVAL, run_vmm_access(self->fd, &a, 0, 0xff,
					    IOREQ_OP_READ, 4, 0x1000));
	/* op */
	ASSERT_ERRNO(EINVAL, run_vmm_access(self->fd, &a, 0, IOREQ_SPACE_MMIO,
					    2, 4, 0x1000));
	ASSERT_ERRNO(EINVAL, run_vmm_access(self->fd, &a, 0, IOREQ_SPACE_MMIO,
					    0xff, 4, 0x1000));
	/* len */
	for (i = 0; i < ARRAY_SIZE(bad_lens); i++)
		ASSERT_ERRNO_MSG(EINVAL, run_vmm_access(self->fd, &a, 0,
				IOREQ_SPACE_MMIO, IOREQ_OP_READ, bad_lens[i],
				0x1000), "len %u", bad_lens[i]);
}

/*
 * Addresses no region can hold: ports beyond 0xffff, accesses that wrap.
 * The uapi does not say whether they are EINVAL or unclaimed; either way
 * they must not reach a backend, even one that claims the edge.
 */
TEST_F(vmm, access_addr_range)
{
	static const struct { __u8 space, len; __u64 addr; } bad[] = {
		{ IOREQ_SPACE_PIO, 1, 0x10000 },
		{ IOREQ_SPACE_PIO, 2, 0xffff },
		{ IOREQ_SPACE_PIO, 4, 0xfffe },
		{ IOREQ_SPACE_PIO, 1, 0x100000000ULL },
		{ IOREQ_SPACE_MMIO, 2, ~0ULL },
		{ IOREQ_SPACE_MMIO, 8, ~0ULL - 6 },
	};
	struct ioreq_vmm_access a;
	struct ioreq_cmd c;
	unsigned int i;
	int be, ret;

	/* the edges themselves are fine */
	ASSERT_ERRNO(0, run_vmm_access(self->fd, &a, 1, IOREQ_SPACE_PIO,
				       IOREQ_OP_READ, 1, 0xffff));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	ASSERT_ERRNO(0, run_vmm_access(self->fd, &a, 1, IOREQ_SPACE_PIO,
				       IOREQ_OP_READ, 4, 0xfffc));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	ASSERT_ERRNO(0, run_vmm_access(self->fd, &a, 1, IOREQ_SPACE_MMIO,
				       IOREQ_OP_READ, 8, ~0ULL - 7));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);

	be = ioreq_backend_open();
	ASSERT_LE(0, be);
	ASSERT_ERRNO(0, __ioreq_attach(be, IOREQ_PROVIDER_VMM, self->guest_id,
				       NULL));
	ASSERT_ERRNO(0, __ioreq_claim(be, IOREQ_SPACE_PIO, 0xff00, 0x100, 0,
				      0, NULL));
	ASSERT_ERRNO(0, __ioreq_claim(be, IOREQ_SPACE_PIO, 0, 0x10, 0, 0,
				      NULL));
	ASSERT_ERRNO(0, __ioreq_claim(be, IOREQ_SPACE_MMIO, ~0ULL - 0xff,
				      0x100, 0, 0, NULL));
	ASSERT_ERRNO(0, __ioreq_claim(be, IOREQ_SPACE_MMIO, 0, 0x10, 0, 0,
				      NULL));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = run_vmm_access(self->fd, &a, 0, bad[i].space,
				     IOREQ_OP_READ, bad[i].len, bad[i].addr);
		ASSERT_TRUE(ret == -EINVAL ||
			    (!ret && a.status == IOREQ_VMM_STATUS_UNCLAIMED))
			TH_LOG("space %u addr %#llx len %u: %s, status %s",
			       bad[i].space, (unsigned long long)bad[i].addr,
			       bad[i].len, ioreq_errname(ret),
			       ioreq_status_name(a.status));
		ASSERT_ERRNO(EAGAIN, ioreq_read_nonblock(be, &c));
	}
	close(be);
}

TEST_F(vmm, access_flags_reserved)
{
	struct ioreq_vmm_access a, bad;

	ASSERT_ERRNO(0, run_vmm_access(self->fd, &a, 0, IOREQ_SPACE_MMIO,
				       IOREQ_OP_READ, 4, 0x1000));
	bad = a;
	bad.flags = 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->fd, IOREQ_VMM_ACCESS, &bad));
	bad = a;
	bad.flags = 1U << 31;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->fd, IOREQ_VMM_ACCESS, &bad));
	bad = a;
	bad.__reserved = 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->fd, IOREQ_VMM_ACCESS, &bad));
}

TEST_F(vmm, access_status_on_entry)
{
	struct ioreq_vmm_access a;

	/* status is an output, and documented to be 0 on entry */
	ASSERT_ERRNO(0, run_vmm_access(self->fd, &a, 0, IOREQ_SPACE_MMIO,
				       IOREQ_OP_READ, 4, 0xfee00000ULL));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->fd, IOREQ_VMM_ACCESS, &a));
	a.status = 0xff;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->fd, IOREQ_VMM_ACCESS, &a));
	a.status = 0;
	ASSERT_ERRNO(0, __ioreq_ioctl(self->fd, IOREQ_VMM_ACCESS, &a));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
}

TEST_F(vmm, length_access)
{
	const __u32 v1 = sizeof(struct ioreq_vmm_access);
	static const struct { __u32 size; __u8 tail; int err; } c[] = {
		{ 0, 0, EINVAL },
		{ 8, 0, EINVAL },
		{ sizeof(struct ioreq_vmm_access) - 8, 0, EINVAL },
		{ sizeof(struct ioreq_vmm_access) - 1, 0, EINVAL },
		{ sizeof(struct ioreq_vmm_access) + 1, 0x01, E2BIG },
		{ sizeof(struct ioreq_vmm_access) + 8, 0xff, E2BIG },
		{ sizeof(struct ioreq_vmm_access), 0, 0 },
		{ sizeof(struct ioreq_vmm_access) + 8, 0, 0 },
		{ sizeof(struct ioreq_vmm_access) + 256, 0, 0 },
	};
	struct ioreq_vmm_access a;
	unsigned int i;

	ASSERT_LE(16U, v1);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		memset(&a, 0, sizeof(a));
		a.vcpu = 1;
		a.space = IOREQ_SPACE_MMIO;
		a.op = IOREQ_OP_READ;
		a.len = 2;
		a.addr = 0xfee00000ULL;
		ASSERT_ERRNO_MSG(c[i].err, __ioreq_ioctl_sized(self->fd,
				IOREQ_VMM_ACCESS, &a, sizeof(a),
				c[i].size, c[i].tail),
			"size %u tail %#x", c[i].size, c[i].tail);
		if (!c[i].err) {
			ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
			ASSERT_EQ(0xffffULL, a.data & 0xffff);
		}
	}
}

TEST_F(vmm, efault_access)
{
	struct ioreq_vmm_access a = {
		.size = sizeof(a),
		.space = IOREQ_SPACE_MMIO,
		.op = IOREQ_OP_READ,
		.len = 4,
		.addr = 0xfee00000ULL,
	};
	struct guard g;

	ASSERT_EFAULT_ALL(self->fd, IOREQ_VMM_ACCESS, &a);
	/* the answer must be written back */
	ASSERT_ERRNO(0, guard_map(&g));
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(self->fd, IOREQ_VMM_ACCESS,
					   guard_ro(&g, &a, sizeof(a))));
}

TEST_F(vmm, unknown_ioctl)
{
	char buf[256] = { 0 };
	const unsigned long bad[] = {
		IOREQ_GET_INFO,
		IOREQ_ATTACH,
		IOREQ_CLAIM_REGION,
		IOREQ_INJECT_IRQ,
		_IO(IOREQ_MAGIC, IOREQ_VMM_CMD_GUEST_HANDLE + 1),
		_IO(IOREQ_MAGIC, 0x7f),
		_IO(IOREQ_MAGIC, 0x80),
		_IOWR(IOREQ_MAGIC, IOREQ_VMM_CMD_ACCESS,
		      struct ioreq_vmm_access),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		*(__u32 *)buf = 64;
		ASSERT_ERRNO_MSG(ENOTTY, __ioreq_ioctl(self->fd, bad[i], buf),
				 "cmd %#lx", bad[i]);
		ASSERT_ERRNO_MSG(ENOTTY, __ioreq_ioctl(self->raw, bad[i], buf),
				 "cmd %#lx (no guest)", bad[i]);
	}
}

/* ===================================================================== */
/* the device node                                                        */
/* ===================================================================== */

TEST_F(session, dev_node_root_only)
{
	struct stat st;
	pid_t pid;
	int status;

	ASSERT_EQ(0, stat(IOREQ_DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0600U, st.st_mode & 07777)
		TH_LOG("%s has mode %o", IOREQ_DEV, st.st_mode & 07777);
	ASSERT_EQ(0U, st.st_uid);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(10);
		fd = open(IOREQ_DEV, O_RDWR);
		if (fd >= 0)
			_exit(11);
		if (errno != EACCES)
			_exit(12);
		fd = open(IOREQ_DEV, O_RDONLY);
		if (fd >= 0 || errno != EACCES)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10: setuid failed, 11: open succeeded, 12/13: not EACCES");
}

int main(int argc, char **argv)
{
	ioreq_require_backend();
	return test_harness_run(argc, argv);
}
