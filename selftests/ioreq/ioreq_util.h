/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioreq selftests: a tiny helper library.
 *
 * Includes kselftest_harness.h (from KSFT_DIR).  Conventions:
 *
 * - __ioreq_*() issue one call and return 0 (or a count) on success and
 *   -errno on failure; they never assert, so a test can check the errno of
 *   a bad input with ASSERT_ERRNO().
 * - ioreq_*() macros of the same name assert success (they need the
 *   harness' _metadata in scope, i.e. a TEST, TEST_F or FIXTURE_SETUP).
 * - Only the test's main thread may assert.  Vcpu threads (struct
 *   ioreq_vcpu) only record what happened.
 *
 * The hypervisor side is reached through struct ioreq_hv_ops so that one
 * suite runs once per provider: IOREQ_PROVIDER_VARIANTS() lists them:
 * the userspace-hypervisor provider (/dev/ioreq-vmm) and the Xen
 * provider's page protocol on its hypervisor double (/dev/ioreq-xen-double,
 * drivers/ioreq/xen/double/), where the test plays Xen.
 */
#ifndef __SELFTESTS_IOREQ_UTIL_H
#define __SELFTESTS_IOREQ_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioreq.h>
#include <linux/ioreq_vmm.h>
#include "../../drivers/ioreq/xen/double/ioreq_xen_double.h"

/* kselftest_harness.h (from KSFT_DIR) has an unused parameter: -Wextra */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#define IOREQ_DEV	"/dev/ioreq"
#define IOREQ_VMM_DEV	"/dev/ioreq-vmm"
#define IOREQ_REC	((ssize_t)sizeof(struct ioreq_cmd))

/* How long a test waits for something that must happen (TCG is slow). */
#define IOREQ_WAIT_MS	10000
/*
 * How long a test waits for a vcpu's access to return: longer than the
 * provider's default timeout (default_timeout_ms, 10 s), so that an
 * unanswered access shows up as IOREQ_VMM_STATUS_TIMEDOUT, not as a hang.
 */
#define IOREQ_JOIN_MS	15000

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#ifndef offsetofend
#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))
#endif

/* All ones in the low @len bytes: what an unanswered read returns. */
static inline __u64 ioreq_mask(unsigned int len)
{
	return len >= 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
}

static inline long ioreq_ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static inline void ioreq_msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* "0", "-EINVAL", ... for messages; main thread only. */
static inline const char *ioreq_errname(long ret)
{
	static const struct { int e; const char *n; } tab[] = {
#define E_(x) { x, "-" #x }
		E_(EPERM), E_(ENOENT), E_(ESRCH), E_(EINTR), E_(ENXIO),
		E_(E2BIG), E_(EBADF), E_(EAGAIN), E_(ENOMEM), E_(EACCES),
		E_(EFAULT), E_(EBUSY), E_(EEXIST), E_(ENODEV), E_(EINVAL),
		E_(ENOSPC), E_(ENOTTY), E_(ERANGE), E_(ENOTCONN),
		E_(EOPNOTSUPP), E_(ETIMEDOUT), E_(EIO), E_(EALREADY),
#undef E_
	};
	static char buf[32];
	size_t i;

	if (ret >= 0) {
		snprintf(buf, sizeof(buf), "%ld", ret);
		return buf;
	}
	for (i = 0; i < ARRAY_SIZE(tab); i++)
		if (tab[i].e == -ret)
			return tab[i].n;
	snprintf(buf, sizeof(buf), "-%ld", -ret);
	return buf;
}

/*
 * ASSERT_RET(n, expr): expr (a count or -errno) is n.
 * ASSERT_ERRNO(EINVAL, __ioreq_foo(...)): the call fails with EINVAL;
 * ASSERT_ERRNO(0, ...) asserts success.  The log names both values.
 */
#define __IOREQ_RET(_CHECK, _want, _expr, _fmt, ...) do {		\
	long __ret = (long)(_expr);					\
	long __want = (long)(_want);					\
	_CHECK(__want, __ret)						\
		TH_LOG("%s: expected %s, got %s" _fmt, #_expr,		\
		       ioreq_errname(__want), ioreq_errname(__ret),	\
		       ##__VA_ARGS__);					\
} while (0)
#define ASSERT_RET(_want, _expr) __IOREQ_RET(ASSERT_EQ, _want, _expr, "")
#define EXPECT_RET(_want, _expr) __IOREQ_RET(EXPECT_EQ, _want, _expr, "")
#define ASSERT_ERRNO(_errno, _expr) ASSERT_RET(-(long)(_errno), _expr)
#define EXPECT_ERRNO(_errno, _expr) EXPECT_RET(-(long)(_errno), _expr)
/* The same with a printf-style note on failure. */
#define ASSERT_RET_MSG(_want, _expr, _fmt, ...) \
	__IOREQ_RET(ASSERT_EQ, _want, _expr, " (" _fmt ")", ##__VA_ARGS__)
#define ASSERT_ERRNO_MSG(_errno, _expr, _fmt, ...) \
	ASSERT_RET_MSG(-(long)(_errno), _expr, _fmt, ##__VA_ARGS__)

/*
 * Skips.  TEST_REQUIRE() ends the whole program with KSFT_SKIP (4) and a
 * reason, before the harness runs (like the KVM selftests).  SETUP_SKIP()
 * is for FIXTURE_SETUP (or a helper it calls): it records the reason and
 * jumps past both the test body and the teardown, which a bare
 * SKIP(return) in a setup does not do in every kselftest_harness.h.
 */
#define TEST_REQUIRE(_cond, _fmt, ...) do {				\
	if (!(_cond))							\
		ksft_exit_skip("%s: " _fmt "\n", #_cond, ##__VA_ARGS__);\
} while (0)
#define SETUP_SKIP(_fmt, ...) \
	SKIP(longjmp(_metadata->env, 1), _fmt, ##__VA_ARGS__)

/* ---- raw calls: 0 / count or -errno ---------------------------------- */

static inline int __ioreq_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/*
 * Issue @cmd with a struct of @size bytes: the first min(@size, @len)
 * bytes of @arg, then zeros; if @tail is non-zero it is stored in the
 * last byte (to provoke E2BIG).  The struct's size member is set to
 * @size.  Outputs are copied back into @arg.
 */
static inline int __ioreq_ioctl_sized(int fd, unsigned long cmd, void *arg,
				      size_t len, __u32 size, __u8 tail)
{
	union { __u8 b[512]; __u64 align; } buf;
	int ret;

	if (len > sizeof(buf.b) || size > sizeof(buf.b))
		return -ERANGE;
	memset(buf.b, 0, sizeof(buf.b));
	memcpy(buf.b, arg, len);
	memcpy(buf.b, &size, sizeof(size));
	if (tail && size > len)
		buf.b[size - 1] = tail;
	ret = __ioreq_ioctl(fd, cmd, buf.b);
	memcpy(arg, buf.b, len);
	return ret;
}

static inline int ioreq_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static inline int ioreq_backend_open(void)
{
	return ioreq_open(IOREQ_DEV, O_RDWR);
}

static inline int __ioreq_get_info(int fd, struct ioreq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return __ioreq_ioctl(fd, IOREQ_GET_INFO, info);
}

static inline int __ioreq_attach(int fd, __u32 provider, __u64 guest_id,
				 struct ioreq_attach *out)
{
	struct ioreq_attach at = {
		.size = sizeof(at),
		.provider = provider,
		.guest_id = guest_id,
	};
	int ret = __ioreq_ioctl(fd, IOREQ_ATTACH, &at);

	if (out)
		*out = at;
	return ret;
}

static inline int __ioreq_claim(int fd, __u32 space, __u64 addr, __u64 len,
				__u64 user_data, __u32 flags, __u32 *id)
{
	struct ioreq_region r = {
		.size = sizeof(r),
		.flags = flags,
		.space = space,
		.addr = addr,
		.len = len,
		.user_data = user_data,
	};
	int ret = __ioreq_ioctl(fd, IOREQ_CLAIM_REGION, &r);

	if (!ret && id)
		*id = r.id;
	return ret;
}

static inline int __ioreq_release(int fd, __u32 id)
{
	struct ioreq_release r = { .size = sizeof(r), .id = id };

	return __ioreq_ioctl(fd, IOREQ_RELEASE_REGION, &r);
}

/* poll(): the revents of @fd, 0 on timeout, or -errno. */
static inline int ioreq_poll(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret;

	do {
		ret = poll(&p, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	return ret ? p.revents : 0;
}

/*
 * Read up to @max records, waiting up to @timeout_ms for the first one
 * with poll().  Returns the number of records, -ETIMEDOUT, or -errno of
 * poll()/read().  A read that returns a partial record is -EIO.  On an
 * O_NONBLOCK descriptor a record that went away between poll() and read()
 * (its request was withdrawn) means polling again.
 */
static inline int ioreq_read_cmds(int fd, struct ioreq_cmd *c,
				  unsigned int max, int timeout_ms)
{
	struct timespec t0;
	long left;
	ssize_t n;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		left = timeout_ms - ioreq_ms_since(&t0);
		ret = ioreq_poll(fd, POLLIN, left > 0 ? left : 0);
		if (ret < 0)
			return ret;
		if (!ret)
			return -ETIMEDOUT;
		if (!(ret & POLLIN))
			return (ret & POLLERR) ? -ENODEV : -EIO;
		n = read(fd, c, max * sizeof(*c));
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 || n % IOREQ_REC)
			return -EIO;
		return n / IOREQ_REC;
	}
}

/* Read exactly @n records (in as many reads as it takes). */
static inline int ioreq_read_n(int fd, struct ioreq_cmd *c, unsigned int n,
			       int timeout_ms)
{
	unsigned int got = 0;
	int ret;

	while (got < n) {
		ret = ioreq_read_cmds(fd, c + got, n - got, timeout_ms);
		if (ret < 0)
			return ret;
		got += ret;
	}
	return got;
}

/* write() @n records: bytes written or -errno. */
static inline ssize_t __ioreq_write_cmds(int fd, const struct ioreq_cmd *c,
					 unsigned int n)
{
	ssize_t ret = write(fd, c, n * sizeof(*c));

	return ret < 0 ? -errno : ret;
}

/* Non-blocking read of one record: 1, or -EAGAIN if none is ready. */
static inline int ioreq_read_nonblock(int fd, struct ioreq_cmd *c)
{
	int fl = fcntl(fd, F_GETFL);
	ssize_t n;
	int err;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return -errno;
	n = read(fd, c, sizeof(*c));
	err = errno;
	fcntl(fd, F_SETFL, fl);
	if (n < 0)
		return -err;
	return n / IOREQ_REC;
}

/* ---- the hypervisor side, per provider -------------------------------- */

struct ioreq_hv;

/**
 * struct ioreq_hv_ops - how a test plays the hypervisor of one provider
 * @name: for messages
 * @provider: IOREQ_PROVIDER_* a backend attaches with
 * @unavailable: NULL if the provider can be tested here, else the reason
 * @create: make a guest of @nr_vcpus vcpus (@guest_id 0: any id); sets
 *	hv->guest_id and hv->nr_vcpus.  0 or -errno.
 * @access: one vcpu access with the semantics of IOREQ_VMM_ACCESS (the
 *	struct is the VMM one: a test double translates).  0 or -errno.
 * @destroy: the guest goes away (attached sessions: EPOLLHUP, ENODEV)
 * @withdraws: the hypervisor can take an access back before it is
 *	answered (a timeout, a vcpu killed); on Xen a vcpu waits for the
 *	answer, whatever it takes, so tests of withdrawal skip there
 */
struct ioreq_hv_ops {
	const char *name;
	__u32 provider;
	bool withdraws;
	const char *(*unavailable)(void);
	int (*create)(struct ioreq_hv *hv, __u32 nr_vcpus, __u64 guest_id);
	int (*access)(struct ioreq_hv *hv, struct ioreq_vmm_access *a);
	void (*destroy)(struct ioreq_hv *hv);
};

struct ioreq_hv {
	const struct ioreq_hv_ops *ops;
	int fd;
	__u64 guest_id;
	__u32 nr_vcpus;
};

/* userspace-hypervisor provider: /dev/ioreq-vmm */
static inline const char *ioreq_vmm_unavailable(void)
{
	static char why[128];

	if (access(IOREQ_VMM_DEV, F_OK) == 0)
		return NULL;
	snprintf(why, sizeof(why), "%s: %s (is ioreq_vmm.ko loaded?)",
		 IOREQ_VMM_DEV, strerror(errno));
	return why;
}

static inline int __ioreq_vmm_create(int fd, __u32 nr_vcpus, __u64 *guest_id)
{
	struct ioreq_vmm_create c = {
		.size = sizeof(c),
		.nr_vcpus = nr_vcpus,
		.guest_id = *guest_id,
	};
	int ret = __ioreq_ioctl(fd, IOREQ_VMM_CREATE_GUEST, &c);

	if (!ret)
		*guest_id = c.guest_id;
	return ret;
}

/* IOREQ_VMM_ADD_MEMORY: lend [@gpa, @gpa + @len) at @offset of @memfd. */
static inline int __ioreq_vmm_add_memory(int hvfd, int memfd, __u64 gpa,
					 __u64 len, __u64 offset)
{
	struct ioreq_vmm_memory m = {
		.size = sizeof(m),
		.fd = memfd,
		.gpa = gpa,
		.len = len,
		.offset = offset,
	};

	return __ioreq_ioctl(hvfd, IOREQ_VMM_ADD_MEMORY, &m);
}

static inline int ioreq_vmm_create(struct ioreq_hv *hv, __u32 nr_vcpus,
				   __u64 guest_id)
{
	int ret, fd = ioreq_open(IOREQ_VMM_DEV, O_RDWR);

	if (fd < 0)
		return fd;
	ret = __ioreq_vmm_create(fd, nr_vcpus, &guest_id);
	if (ret) {
		close(fd);
		return ret;
	}
	hv->fd = fd;
	hv->guest_id = guest_id;
	hv->nr_vcpus = nr_vcpus;
	return 0;
}

static inline int ioreq_vmm_access(struct ioreq_hv *hv,
				   struct ioreq_vmm_access *a)
{
	return __ioreq_ioctl(hv->fd, IOREQ_VMM_ACCESS, a);
}

static inline void ioreq_vmm_destroy(struct ioreq_hv *hv)
{
	if (hv->fd >= 0)
		close(hv->fd);
	hv->fd = -1;
}

static const struct ioreq_hv_ops ioreq_hv_vmm __attribute__((unused)) = {
	.name = "vmm",
	.provider = IOREQ_PROVIDER_VMM,
	.withdraws = true,
	.unavailable = ioreq_vmm_unavailable,
	.create = ioreq_vmm_create,
	.access = ioreq_vmm_access,
	.destroy = ioreq_vmm_destroy,
};

/*
 * The Xen provider's page protocol (drivers/ioreq/xen/page.c) on the test
 * double: the test plays Xen.  An access is hvm_send_ioreq() (IOREQ_XD_SEND
 * fills the vcpu's slot, sets READY and delivers the event) followed by
 * hvm_wait_for_io() (IOREQ_XD_WAIT until RESP_READY and a notification),
 * translated back into the IOREQ_VMM_ACCESS result the suites check.
 */
static inline const char *ioreq_xd_unavailable(void)
{
	static char why[128];

	if (access(IOREQ_XD_DEV, F_OK) == 0)
		return NULL;
	snprintf(why, sizeof(why), "%s: %s (is ioreq_xen_double.ko loaded?)",
		 IOREQ_XD_DEV, strerror(errno));
	return why;
}

static inline int ioreq_xd_create(struct ioreq_hv *hv, __u32 nr_vcpus,
				  __u64 guest_id)
{
	struct ioreq_xd_create c = {
		.nr_vcpus = nr_vcpus,
		.guest_id = guest_id,
	};
	int ret, fd = ioreq_open(IOREQ_XD_DEV, O_RDWR);

	if (fd < 0)
		return fd;
	ret = __ioreq_ioctl(fd, IOREQ_XD_CREATE, &c);
	if (ret) {
		close(fd);
		return ret;
	}
	hv->fd = fd;
	hv->guest_id = c.guest_id;
	hv->nr_vcpus = c.nr_vcpus;
	return 0;
}

/* The double's checks the suites' accesses rely on: violations are bugs. */
static inline int ioreq_xd_status(int fd, struct ioreq_xd_status *st)
{
	memset(st, 0, sizeof(*st));
	return __ioreq_ioctl(fd, IOREQ_XD_STATUS, st);
}

static inline int ioreq_xd_access(struct ioreq_hv *hv,
				  struct ioreq_vmm_access *a)
{
	struct ioreq_xd_send s = { .vcpu = a->vcpu };
	struct ioreq_xd_wait w = { .vcpu = a->vcpu };
	__u64 mask = ioreq_mask(a->len);
	int ret;

	if (a->size != sizeof(*a) || a->flags || a->status || a->__reserved ||
	    (a->space != IOREQ_SPACE_MMIO && a->space != IOREQ_SPACE_PIO) ||
	    (a->op != IOREQ_OP_READ && a->op != IOREQ_OP_WRITE))
		return -EINVAL;
	s.req.type = a->space == IOREQ_SPACE_PIO ? IOREQ_XD_TYPE_PIO :
						   IOREQ_XD_TYPE_COPY;
	s.req.flags = a->op == IOREQ_OP_READ ? IOREQ_XD_DIR_READ : 0;
	s.req.addr = a->addr;
	s.req.size = a->len;
	s.req.count = 1;
	s.req.data = a->op == IOREQ_OP_WRITE ? a->data & mask : 0;
	ret = __ioreq_ioctl(hv->fd, IOREQ_XD_SEND, &s);
	if (ret == -EALREADY)
		ret = -EBUSY;	/* the slot holds this vcpu's request */
	if (ret)
		return ret;
	/* Xen's vcpu has no timeout: wait as long as the suites would. */
	w.timeout_ms = a->timeout_ms ? a->timeout_ms : IOREQ_JOIN_MS;
	do {
		ret = __ioreq_ioctl(hv->fd, IOREQ_XD_WAIT, &w);
	} while (ret == -EINTR);	/* a handled signal: Xen waits on */
	if (ret)
		return ret;
	switch (w.result) {
	case IOREQ_XD_ANSWERED:
		break;
	case IOREQ_XD_PENDING:
		/* Not answered in time; the slot keeps the request. */
		a->status = IOREQ_VMM_STATUS_TIMEDOUT;
		if (a->op == IOREQ_OP_READ)
			a->data = ~0ULL;
		return 0;
	default:
		return -EPROTO;	/* the provider broke Xen's protocol */
	}
	a->status = w.how == IOREQ_XD_BY_DONE ||
		    w.how == IOREQ_XD_BY_HANDLED ? IOREQ_VMM_STATUS_DONE :
		    w.how == IOREQ_XD_BY_ABORTED ? IOREQ_VMM_STATUS_ABORTED :
		    IOREQ_VMM_STATUS_UNCLAIMED;
	if (a->op == IOREQ_OP_READ)
		a->data = a->status == IOREQ_VMM_STATUS_DONE ? w.data & mask :
							       ~0ULL;
	return 0;
}

static inline void ioreq_xd_destroy(struct ioreq_hv *hv)
{
	ioreq_vmm_destroy(hv);
}

static const struct ioreq_hv_ops ioreq_hv_xd __attribute__((unused)) = {
	.name = "xen-double",
	.provider = IOREQ_PROVIDER_XEN,
	.withdraws = false,
	.unavailable = ioreq_xd_unavailable,
	.create = ioreq_xd_create,
	.access = ioreq_xd_access,
	.destroy = ioreq_xd_destroy,
};

/*
 * Every suite that is parametrised by provider declares its variant with
 * IOREQ_FIXTURE_VARIANT(f) and registers the providers with
 * IOREQ_PROVIDER_VARIANTS(f), or IOREQ_VMM_VARIANT(f) for what only the
 * VMM provider has.  Add a provider here.
 */
#define IOREQ_FIXTURE_VARIANT(f)					\
	FIXTURE_VARIANT(f) {						\
		const struct ioreq_hv_ops *hv;				\
	}
#define IOREQ_PROVIDER_VARIANTS(f)					\
	IOREQ_VMM_VARIANT(f);						\
	FIXTURE_VARIANT_ADD(f, xen_double) { .hv = &ioreq_hv_xd, }
/* Suites of what only the VMM provider offers (its events, guest RAM). */
#define IOREQ_VMM_VARIANT(f)						\
	FIXTURE_VARIANT_ADD(f, vmm) { .hv = &ioreq_hv_vmm, }

/* In a TEST_F of a provider variant: skip where the hypervisor waits. */
#define IOREQ_NEEDS_WITHDRAW()						\
	do {								\
		if (!variant->hv->withdraws)				\
			SKIP(return, "%s: a vcpu never gives up an access",\
			     variant->hv->name);			\
	} while (0)

static inline int ioreq_hv_create(struct ioreq_hv *hv,
				  const struct ioreq_hv_ops *ops,
				  __u32 nr_vcpus, __u64 guest_id)
{
	hv->ops = ops;
	hv->fd = -1;
	return ops->create(hv, nr_vcpus, guest_id);
}

static inline void ioreq_hv_destroy(struct ioreq_hv *hv)
{
	if (hv->ops && hv->fd >= 0)
		hv->ops->destroy(hv);
}

/* Fill @a for one access, every other member zero. */
static inline void ioreq_access_init(struct ioreq_vmm_access *a, __u32 vcpu,
				     __u8 space, __u8 op, __u8 len,
				     __u64 addr, __u64 data, __u32 timeout_ms)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->vcpu = vcpu;
	a->space = space;
	a->op = op;
	a->len = len;
	a->addr = addr;
	a->data = data;
	a->timeout_ms = timeout_ms;
}

/* One synchronous access; fills @a.  0 or -errno. */
static inline int ioreq_hv_access(struct ioreq_hv *hv,
				  struct ioreq_vmm_access *a, __u32 vcpu,
				  __u8 space, __u8 op, __u8 len, __u64 addr,
				  __u64 data, __u32 timeout_ms)
{
	ioreq_access_init(a, vcpu, space, op, len, addr, data, timeout_ms);
	return hv->ops->access(hv, a);
}

/* ---- vcpu threads ------------------------------------------------------ */

enum { IOREQ_VCPU_IDLE, IOREQ_VCPU_RUNNING, IOREQ_VCPU_DONE };

/**
 * struct ioreq_vcpu - a thread doing one access, like a vcpu that exited
 * @a: in: the access; out: status and data
 * @ret: 0 or -errno of the access
 * @ms: how long the access took
 */
struct ioreq_vcpu {
	struct ioreq_hv *hv;
	struct ioreq_vmm_access a;
	int ret;
	long ms;
	pthread_t thread;
	pid_t tid;
	int state;
};

static inline void *ioreq_vcpu_fn(void *arg)
{
	struct ioreq_vcpu *v = arg;
	struct timespec t0;

	v->tid = syscall(SYS_gettid);
	__atomic_store_n(&v->state, IOREQ_VCPU_RUNNING, __ATOMIC_SEQ_CST);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	v->ret = v->hv->ops->access(v->hv, &v->a);
	v->ms = ioreq_ms_since(&t0);
	__atomic_store_n(&v->state, IOREQ_VCPU_DONE, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Start a thread doing the access.  0 or -errno (thread not started). */
static inline int ioreq_vcpu_start(struct ioreq_vcpu *v, struct ioreq_hv *hv,
				   __u32 vcpu, __u8 space, __u8 op, __u8 len,
				   __u64 addr, __u64 data, __u32 timeout_ms)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->hv = hv;
	v->a.size = sizeof(v->a);
	v->a.vcpu = vcpu;
	v->a.space = space;
	v->a.op = op;
	v->a.len = len;
	v->a.addr = addr;
	v->a.data = data;
	v->a.timeout_ms = timeout_ms;
	ret = pthread_create(&v->thread, NULL, ioreq_vcpu_fn, v);
	if (ret)
		return -ret;
	while (!__atomic_load_n(&v->state, __ATOMIC_SEQ_CST))
		sched_yield();
	return 0;
}

static inline bool ioreq_vcpu_done(struct ioreq_vcpu *v)
{
	return __atomic_load_n(&v->state, __ATOMIC_SEQ_CST) == IOREQ_VCPU_DONE;
}

/*
 * Wait for the access to return and reap the thread.  0, or -ETIMEDOUT
 * if it is still blocked after @timeout_ms (the thread is left running).
 */
static inline int ioreq_vcpu_join(struct ioreq_vcpu *v, int timeout_ms)
{
	struct timespec t0;

	if (v->state == IOREQ_VCPU_IDLE)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!ioreq_vcpu_done(v)) {
		if (ioreq_ms_since(&t0) > timeout_ms)
			return -ETIMEDOUT;
		ioreq_msleep(1);
	}
	pthread_join(v->thread, NULL);
	v->state = IOREQ_VCPU_IDLE;
	return 0;
}

/* Read a small /proc file of @tid into @buf, NUL-terminated.  0 or -2. */
static inline int ioreq_read_task_file(pid_t tid, const char *name,
				       char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -2;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -2;
	buf[n] = 0;
	return 0;
}

/* From /proc/self/task/TID: syscall number (or -1) and state letter. */
static inline int ioreq_task_syscall(pid_t tid, char *state)
{
	char buf[512], *p;
	long nr = -1;

	*state = '?';
	if (ioreq_read_task_file(tid, "stat", buf, sizeof(buf)))
		return -2;
	p = strrchr(buf, ')');
	if (p && p[1] == ' ')
		*state = p[2];

	if (ioreq_read_task_file(tid, "syscall", buf, sizeof(buf)))
		return -2;
	if (sscanf(buf, "%ld", &nr) != 1)
		return -1;
	return nr;
}

/*
 * Wait until the vcpu thread sleeps inside its access (so the request has
 * been dispatched).  0; -EALREADY if the access already returned;
 * -ETIMEDOUT.  Without /proc/PID/syscall it falls back to a 200 ms sleep.
 */
static inline int ioreq_vcpu_wait_blocked(struct ioreq_vcpu *v, int timeout_ms)
{
	struct timespec t0;
	int stable = 0;
	char st;
	int nr;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (ioreq_vcpu_done(v))
			return -EALREADY;
		nr = ioreq_task_syscall(v->tid, &st);
		if (nr == -2) {
			ioreq_msleep(200);
			return ioreq_vcpu_done(v) ? -EALREADY : 0;
		}
		if (nr == SYS_ioctl && (st == 'S' || st == 'D'))
			stable++;
		else
			stable = 0;
		if (stable >= 3)
			return 0;
		if (ioreq_ms_since(&t0) > timeout_ms)
			return -ETIMEDOUT;
		ioreq_msleep(2);
	}
}

/* ---- asserting wrappers (main thread, _metadata in scope) -------------- */

#define ioreq_ioctl(_fd, _cmd, _arg) \
	ASSERT_ERRNO(0, __ioreq_ioctl(_fd, _cmd, _arg))

#define ioreq_attach(_fd, _provider, _guest_id) \
	ASSERT_ERRNO(0, __ioreq_attach(_fd, _provider, _guest_id, NULL))
#define ioreq_claim(_fd, _space, _addr, _len, _ud, _idp) \
	ASSERT_ERRNO(0, __ioreq_claim(_fd, _space, _addr, _len, _ud, 0, _idp))
#define ioreq_release(_fd, _id) \
	ASSERT_ERRNO(0, __ioreq_release(_fd, _id))
/* Read exactly one record within IOREQ_WAIT_MS. */
#define ioreq_expect_cmd(_fd, _cmd) \
	ASSERT_RET(1, ioreq_read_n(_fd, _cmd, 1, IOREQ_WAIT_MS))
#define ioreq_expect_none(_fd) do {					\
	struct ioreq_cmd __c;						\
	ASSERT_ERRNO(EAGAIN, ioreq_read_nonblock(_fd, &__c));		\
} while (0)
#define ioreq_respond(_fd, _cmd) \
	ASSERT_RET(IOREQ_REC, __ioreq_write_cmds(_fd, _cmd, 1))
#define ioreq_vcpu_run(_v, ...) \
	ASSERT_ERRNO(0, ioreq_vcpu_start(_v, __VA_ARGS__))
/* The vcpu is (still) sleeping in its access. */
#define ioreq_vcpu_blocked(_v) \
	ASSERT_ERRNO(0, ioreq_vcpu_wait_blocked(_v, IOREQ_WAIT_MS))
#define ioreq_vcpu_finish(_v) \
	ASSERT_ERRNO(0, ioreq_vcpu_join(_v, IOREQ_JOIN_MS))

static inline const char *ioreq_status_name(unsigned int status)
{
	switch (status) {
	case IOREQ_VMM_STATUS_DONE:		return "DONE";
	case IOREQ_VMM_STATUS_UNCLAIMED:	return "UNCLAIMED";
	case IOREQ_VMM_STATUS_ABORTED:		return "ABORTED";
	case IOREQ_VMM_STATUS_TIMEDOUT:		return "TIMEDOUT";
	}
	return "?";
}

/* The vcpu's access returned 0 with @_status. */
#define ASSERT_VCPU_STATUS(_v, _status) do {				\
	ioreq_vcpu_finish(_v);						\
	ASSERT_ERRNO(0, (_v)->ret);					\
	ASSERT_EQ((__u8)(_status), (_v)->a.status)			\
		TH_LOG("vcpu %u: status %s, expected %s", (_v)->a.vcpu,	\
		       ioreq_status_name((_v)->a.status),		\
		       ioreq_status_name(_status));			\
} while (0)

/* The vcpu's access returned 0 with @_status and (masked) @_data. */
#define ASSERT_VCPU_RESULT(_v, _status, _data) do {			\
	ASSERT_VCPU_STATUS(_v, _status);				\
	ASSERT_EQ((__u64)(_data) & ioreq_mask((_v)->a.len),		\
		  (_v)->a.data & ioreq_mask((_v)->a.len))		\
		TH_LOG("vcpu %u: data %#llx", (_v)->a.vcpu,		\
		       (unsigned long long)(_v)->a.data);		\
} while (0)

/* A read that nobody answered: all ones. */
#define ASSERT_VCPU_ONES(_v, _status) \
	ASSERT_VCPU_RESULT(_v, _status, ~0ULL)

/*
 * The record a vcpu's access should have produced: op, size, vcpu,
 * user_data, offset and, for a write, the zero-extended data.
 */
#define ASSERT_CMD_MATCHES(_c, _op, _len, _vcpu, _ud, _off, _wdata) do {\
	ASSERT_EQ((__u8)(_op), (_c)->op);				\
	ASSERT_EQ((__u8)(_len), (_c)->size);				\
	ASSERT_EQ(0, (_c)->flags);					\
	ASSERT_EQ((__u32)(_vcpu), IOREQ_CMD_VCPU((_c)->id));		\
	ASSERT_EQ((__u64)(_ud), (_c)->user_data);			\
	ASSERT_EQ((__u64)(_off), (_c)->offset);				\
	if ((_op) == IOREQ_OP_WRITE)					\
		ASSERT_EQ((__u64)(_wdata) & ioreq_mask(_len), (_c)->data);\
} while (0)

/* ---- a backend session attached to a fresh guest ----------------------- */

struct ioreq_env {
	struct ioreq_hv hv;
	int be;				/* /dev/ioreq session, attached */
	struct ioreq_attach att;	/* what IOREQ_ATTACH returned */
};

static inline void ioreq_env_init(struct ioreq_env *e)
{
	memset(e, 0, sizeof(*e));
	e->hv.fd = -1;
	e->be = -1;
}

/* Guest of @nr_vcpus on @ops's provider, one session attached to it. */
static inline void __ioreq_env_setup(struct __test_metadata *_metadata,
				     struct ioreq_env *e,
				     const struct ioreq_hv_ops *ops,
				     __u32 nr_vcpus)
{
	const char *why = ops->unavailable ? ops->unavailable() : NULL;

	ioreq_env_init(e);
	if (why)
		SETUP_SKIP("%s provider: %s", ops->name, why);
	ASSERT_ERRNO(0, ioreq_hv_create(&e->hv, ops, nr_vcpus, 0));
	ASSERT_NE(0U, e->hv.guest_id);
	e->be = ioreq_backend_open();
	ASSERT_LE(0, e->be) TH_LOG("open %s: %s", IOREQ_DEV,
				   ioreq_errname(e->be));
	ASSERT_ERRNO(0, __ioreq_attach(e->be, ops->provider, e->hv.guest_id,
				       &e->att));
	ASSERT_EQ(nr_vcpus, e->att.nr_vcpus);
}

#define ioreq_env_setup(_e, _ops, _nr) \
	__ioreq_env_setup(_metadata, _e, _ops, _nr)

static inline void ioreq_env_teardown(struct ioreq_env *e)
{
	if (e->be >= 0)
		close(e->be);
	e->be = -1;
	ioreq_hv_destroy(&e->hv);
}

/* Another session on the same guest: fd, attached. */
static inline int __ioreq_env_session(struct __test_metadata *_metadata,
				      struct ioreq_env *e)
{
	int fd = ioreq_backend_open();

	ASSERT_LE(0, fd);
	ASSERT_ERRNO(0, __ioreq_attach(fd, e->hv.ops->provider,
				       e->hv.guest_id, NULL));
	return fd;
}

#define ioreq_env_session(_e) __ioreq_env_session(_metadata, _e)

/* ---- module parameters ------------------------------------------------- */

/* Read an unsigned module parameter, or @def if it is not visible. */
static inline unsigned long ioreq_param(const char *module, const char *name,
					unsigned long def)
{
	char path[256];
	unsigned long v;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s",
		 module, name);
	f = fopen(path, "re");
	if (!f)
		return def;
	if (fscanf(f, "%lu", &v) != 1)
		v = def;
	fclose(f);
	return v;
}

/* Whole-program requirements of a backend test: root and /dev/ioreq. */
static inline void ioreq_require_backend(void)
{
	TEST_REQUIRE(geteuid() == 0, "must run as root (%s is mode 0600)",
		     IOREQ_DEV);
	TEST_REQUIRE(access(IOREQ_DEV, F_OK) == 0,
		     "%s: %s (is ioreq.ko loaded?)", IOREQ_DEV,
		     strerror(errno));
}

#endif /* __SELFTESTS_IOREQ_UTIL_H */
