// SPDX-License-Identifier: GPL-2.0
/*
 * The Xen provider's page protocol (drivers/ioreq/xen/page.c) against its
 * hypervisor double (/dev/ioreq-xen-double): the test is Xen.  It posts
 * requests into a vcpu's slot, delivers the event channel's interrupt and
 * waits for the answer as hvm_send_ioreq() and hvm_wait_for_io() do, and
 * the double reports every step the provider must never take: a backwards
 * or unknown state, a field other than data and the state written, a
 * notification of a slot that holds no answer, or two for one request.
 *
 * The uapi suites (access, lifetime, stress, abi, example) run on the
 * double too, through ioreq_hv_xd (ioreq_util.h); this file covers what
 * only Xen does: the request types the provider answers itself, rep
 * requests carried out element by element through the double's RAM,
 * PCI config requests, spurious and late events, the vcpu count from the
 * page, and the domain dying with requests in flight.
 */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "ioreq_util.h"

#define MMIO_BASE	0xfe000000ULL
#define MMIO_LEN	0x1000ULL
#define MMIO_UD		0xd0b1e0001ULL
#define PIO_BASE	0x600ULL
#define PIO_LEN		0x10ULL
#define PIO_UD		0xd0b1e0002ULL
#define NR_VCPUS	4U

FIXTURE(xd) {
	struct ioreq_env e;
	__u32 mmio, pio;
};

FIXTURE_SETUP(xd)
{
	ioreq_env_setup(&self->e, &ioreq_hv_xd, NR_VCPUS);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN,
		    MMIO_UD, &self->mmio);
	ioreq_claim(self->e.be, IOREQ_SPACE_PIO, PIO_BASE, PIO_LEN, PIO_UD,
		    &self->pio);
}

FIXTURE_TEARDOWN(xd)
{
	struct ioreq_xd_status st;

	/* Whatever a test did, the provider never broke the protocol. */
	if (self->e.hv.fd >= 0 &&
	    !ioreq_xd_status(self->e.hv.fd, &st)) {
		EXPECT_EQ(0U, st.violations)
			TH_LOG("vcpu %u: state %u -> %u", st.bad_vcpu,
			       st.bad_from, st.bad_to);
		EXPECT_EQ(0U, st.bad_notifies);
	}
	ioreq_env_teardown(&self->e);
}

static struct ioreq_xd_slot slot(__u8 type, __u8 dir_flags, __u64 addr,
				 __u32 size, __u32 count, __u64 data)
{
	struct ioreq_xd_slot s = {
		.addr = addr, .data = data, .count = count, .size = size,
		.flags = dir_flags, .type = type,
	};

	return s;
}

/* Post @s on @vcpu with its event; the handler's verdict in *@send. */
static int xd_send(int fd, __u32 vcpu, const struct ioreq_xd_slot *s,
		   __u32 flags, struct ioreq_xd_send *send)
{
	memset(send, 0, sizeof(*send));
	send->flags = flags;
	send->vcpu = vcpu;
	send->req = *s;
	return __ioreq_ioctl(fd, IOREQ_XD_SEND, send);
}

static int xd_wait(int fd, __u32 vcpu, __u32 timeout_ms,
		   struct ioreq_xd_wait *w)
{
	memset(w, 0, sizeof(*w));
	w->vcpu = vcpu;
	w->timeout_ms = timeout_ms;
	return __ioreq_ioctl(fd, IOREQ_XD_WAIT, w);
}

/*
 * Request types the provider answers without a backend: the mapcache
 * invalidation Xen sends at start and the RTC offset.  Each is taken in
 * the event handler, reaches RESP_READY with exactly one notification,
 * and produces no record.
 */
TEST_F(xd, invalidate_and_timeoffset)
{
	static const __u8 types[] = {
		IOREQ_XD_TYPE_INVALIDATE, IOREQ_XD_TYPE_TIMEOFFSET,
	};
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct ioreq_xd_slot r = slot(types[i], 0, 0, 8, 0, 0x1234);

		ASSERT_ERRNO(0, xd_send(self->e.hv.fd, i, &r, 0, &s));
		ASSERT_EQ(1U, s.taken);
		ASSERT_EQ((__u32)IOREQ_XD_STATE_RESP_READY, s.state);
		ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, i, IOREQ_WAIT_MS, &w));
		ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
		ASSERT_EQ((__u32)IOREQ_XD_BY_EVENT, w.how);
		ASSERT_EQ(1U, w.notifies);
		/* data is not the provider's to change here */
		ASSERT_EQ(0x1234ULL, w.data);
	}
	ioreq_expect_none(self->e.be);
}

/* EPOLLPRI (and whatever else) poll() reports now on @fd. */
static short poll_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLPRI };

	return poll(&pfd, 1, 0) < 0 ? -1 : pfd.revents;
}

/*
 * An INVALIDATE (the guest gave memory back) is still answered at once,
 * and now reaches the backends: IOREQ_GET_INFO counts it, poll() reports
 * EPOLLPRI until the session has read the count with a struct that holds
 * it, and a session attached afterwards starts with nothing to see.
 */
TEST_F(xd, invalidate_reaches_backends)
{
	struct ioreq_xd_slot r = slot(IOREQ_XD_TYPE_INVALIDATE, 0, 0, 8, 0,
				      0);
	struct ioreq_info info, old;
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	__u32 before;
	int late;

	EXPECT_TRUE(self->e.att.caps & IOREQ_CAP_INVALIDATE);
	ASSERT_ERRNO(0, __ioreq_get_info(self->e.be, &info));
	before = info.invalidations;
	EXPECT_EQ(0, poll_now(self->e.be) & POLLPRI);

	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 1, &r, 0, &s));
	ASSERT_EQ(1U, s.taken);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	ASSERT_EQ(1U, w.notifies);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 2, &r, 0, &s));
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 2, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);

	EXPECT_EQ(POLLPRI, poll_now(self->e.be) & (POLLPRI | POLLIN));
	/* A struct without the count does not acknowledge it. */
	memset(&old, 0, sizeof(old));
	old.size = offsetofend(struct ioreq_info, __reserved);
	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.be, IOREQ_GET_INFO, &old));
	EXPECT_EQ(POLLPRI, poll_now(self->e.be) & POLLPRI);

	late = ioreq_env_session(&self->e);
	EXPECT_EQ(0, poll_now(late) & POLLPRI);

	ASSERT_ERRNO(0, __ioreq_get_info(self->e.be, &info));
	EXPECT_EQ(before + 2, info.invalidations);
	EXPECT_EQ(0U, info.__reserved2);
	EXPECT_EQ(0, poll_now(self->e.be) & POLLPRI);
	ASSERT_ERRNO(0, __ioreq_get_info(late, &info));
	EXPECT_EQ(before + 2, info.invalidations);
	close(late);
	ioreq_expect_none(self->e.be);
}

static int xd_ram(int fd, __u64 gpa, void *buf, __u32 len, int write)
{
	struct ioreq_xd_ram r = {
		.gpa = gpa, .buf = (__u64)(uintptr_t)buf, .len = len,
		.write = write,
	};

	return __ioreq_ioctl(fd, IOREQ_XD_RAM, &r);
}

#define RAM(off)	(IOREQ_XD_RAM_BASE + (off))

/*
 * Take @n records of a rep request from @be one at a time (the next
 * element goes out only once this one is answered), check each, and
 * answer reads with @answer + i.
 */
static void rep_serve(struct __test_metadata *_metadata, int be, __u32 n,
		      __u8 op, __u8 size, __u64 ud, __u64 first, __s64 step,
		      const __u8 *wbytes, __u64 wvalue, __u64 answer)
{
	struct ioreq_cmd c;
	__u32 i;

	for (i = 0; i < n; i++) {
		ioreq_expect_cmd(be, &c);
		EXPECT_EQ(op, c.op) TH_LOG("element %u", i);
		EXPECT_EQ(size, c.size) TH_LOG("element %u", i);
		EXPECT_EQ(ud, c.user_data);
		EXPECT_EQ(first + i * step, c.offset) TH_LOG("element %u", i);
		if (op == IOREQ_OP_WRITE) {
			EXPECT_EQ(wbytes ? wbytes[i] : wvalue, c.data)
				TH_LOG("element %u", i);
		} else {
			c.data = answer + i;
		}
		ioreq_respond(be, &c);
	}
}

/*
 * rep ins/outs/movs (data_is_ptr: data is the guest buffer) and rep stos
 * (count > 1, data the value): page.c carries them out on a work item,
 * one access per element through the core, the buffer read or written
 * through ->guest_rw() (the double's RAM), stepping down with the
 * direction flag.  The slot stays INPROCESS meanwhile and is answered
 * once, after the last element.
 */
TEST_F(xd, rep_requests_carried_out)
{
	static const __u8 out[4] = { 0x11, 0x22, 0x33, 0x44 };
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_xd_slot r;
	__u8 got[8];

	/* rep outsb: 4 bytes from the buffer to one port */
	ASSERT_ERRNO(0, xd_ram(self->e.hv.fd, RAM(0x10), (void *)out, 4, 1));
	r = slot(IOREQ_XD_TYPE_PIO, IOREQ_XD_DATA_IS_PTR, PIO_BASE + 2, 1, 4,
		 RAM(0x10));
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 1, &r, 0, &s));
	ASSERT_EQ((__u32)IOREQ_XD_STATE_INPROCESS, s.state);
	rep_serve(_metadata, self->e.be, 4, IOREQ_OP_WRITE, 1, PIO_UD, 2, 0,
		  out, 0, 0);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	EXPECT_EQ(1U, w.notifies);

	/* rep insw: 3 words from a port into the buffer */
	r = slot(IOREQ_XD_TYPE_PIO, IOREQ_XD_DIR_READ | IOREQ_XD_DATA_IS_PTR,
		 PIO_BASE, 2, 3, RAM(0x20));
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 2, &r, 0, &s));
	rep_serve(_metadata, self->e.be, 3, IOREQ_OP_READ, 2, PIO_UD, 0, 0,
		  NULL, 0, 0x1000);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 2, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	/* Xen takes nothing from data with a pointer: it is left alone */
	EXPECT_EQ(RAM(0x20), w.data);
	ASSERT_ERRNO(0, xd_ram(self->e.hv.fd, RAM(0x20), got, 6, 0));
	EXPECT_EQ(0, memcmp(got, "\x00\x10\x01\x10\x02\x10", 6));

	/* std; rep movsb MMIO -> RAM: from the highest byte down */
	r = slot(IOREQ_XD_TYPE_COPY, IOREQ_XD_DIR_READ | IOREQ_XD_DATA_IS_PTR |
		 IOREQ_XD_DF, MMIO_BASE + 0x13, 1, 4, RAM(0x33));
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 0, &r, 0, &s));
	rep_serve(_metadata, self->e.be, 4, IOREQ_OP_READ, 1, MMIO_UD, 0x13,
		  -1, NULL, 0, 0xa0);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 0, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	ASSERT_ERRNO(0, xd_ram(self->e.hv.fd, RAM(0x30), got, 4, 0));
	EXPECT_EQ(0, memcmp(got, "\xa3\xa2\xa1\xa0", 4));

	/* rep stosl to MMIO: the value, 3 times, upwards */
	r = slot(IOREQ_XD_TYPE_COPY, 0, MMIO_BASE + 0x40, 4, 3, 0x55aa);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 3, &r, 0, &s));
	rep_serve(_metadata, self->e.be, 3, IOREQ_OP_WRITE, 4, MMIO_UD, 0x40,
		  4, NULL, 0x55aa, 0);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 3, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);

	/* rep lodsl from MMIO, no pointer: count reads, data the last */
	r = slot(IOREQ_XD_TYPE_COPY, IOREQ_XD_DIR_READ, MMIO_BASE, 4, 2, 0);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 1, &r, 0, &s));
	rep_serve(_metadata, self->e.be, 2, IOREQ_OP_READ, 4, MMIO_UD, 0, 4,
		  NULL, 0, 0x7700);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, IOREQ_WAIT_MS, &w));
	EXPECT_EQ(0x7701ULL, w.data);
	ioreq_expect_none(self->e.be);
}

/*
 * A rep request whose buffer is not guest memory sends nothing and ends
 * at once; one whose backend goes away mid-rep ends with the rest read
 * as all ones.  Either way the vcpu resumes.
 */
TEST_F(xd, rep_requests_cut_short)
{
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_xd_slot r;
	struct ioreq_cmd c;
	__u8 got[4];
	int be2;

	r = slot(IOREQ_XD_TYPE_PIO, IOREQ_XD_DATA_IS_PTR, PIO_BASE, 1, 4,
		 0x1000);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 0, &r, 0, &s));
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 0, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	ioreq_expect_none(self->e.be);

	/* A second backend serves 0x800, and closes after one element. */
	be2 = ioreq_env_session(&self->e);
	ioreq_claim(be2, IOREQ_SPACE_PIO, 0x800, 4, 0x800, NULL);
	r = slot(IOREQ_XD_TYPE_PIO, IOREQ_XD_DIR_READ | IOREQ_XD_DATA_IS_PTR,
		 0x800, 1, 4, RAM(0x100));
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 1, &r, 0, &s));
	ioreq_expect_cmd(be2, &c);
	c.data = 0x42;
	ioreq_respond(be2, &c);
	ioreq_expect_cmd(be2, &c);
	close(be2);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	ASSERT_ERRNO(0, xd_ram(self->e.hv.fd, RAM(0x100), got, 4, 0));
	EXPECT_EQ(0, memcmp(got, "\x42\xff\xff\xff", 4));
	EXPECT_EQ(1U, w.notifies);
}

/* ---- rep stos: the same value in every element ------------------------- */

/*
 * rep stos to MMIO as Linux's memset_io() makes it: bytes, dwords and
 * quadwords, upwards and with the direction flag set.  @first is the
 * first element's offset in the fixture's MMIO region.
 */
struct stos_case {
	__u8 size;
	__u8 df;
	__u32 count;
	__u64 first;
	__u64 value;
};

static const struct stos_case stos_cases[] = {
	{ 1, 0, 16, 0x100, 0xa5 },
	{ 4, 0, 4, 0x140, 0x5aa5c33c },
	{ 8, 0, 2, 0x180, 0x0123456789abcdefULL },
	{ 1, 1, 16, 0x21f, 0x3c },
	{ 4, 1, 4, 0x24c, 0xc33c5aa5 },
	{ 8, 1, 2, 0x288, 0xfedcba9876543210ULL },
};

static struct ioreq_xd_slot stos_slot(const struct stos_case *t, __u64 base)
{
	return slot(IOREQ_XD_TYPE_COPY, t->df ? IOREQ_XD_DF : 0,
		    base + t->first, t->size, t->count, t->value);
}

static __s64 stos_step(const struct stos_case *t)
{
	return t->df ? -(__s64)t->size : (__s64)t->size;
}

/*
 * Every element carries the instruction's value, whatever the backend
 * answered to the element before: the uapi says a write's response data
 * is ignored, and here each write is answered with garbage.
 */
TEST_F(xd, rep_stos_write_answers_ignored)
{
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_xd_slot r;
	struct ioreq_cmd c;
	unsigned int k;
	__u32 i;

	for (k = 0; k < ARRAY_SIZE(stos_cases); k++) {
		const struct stos_case *t = &stos_cases[k];
		__u32 vcpu = k % NR_VCPUS;

		r = stos_slot(t, MMIO_BASE);
		ASSERT_ERRNO(0, xd_send(self->e.hv.fd, vcpu, &r, 0, &s));
		for (i = 0; i < t->count; i++) {
			ioreq_expect_cmd(self->e.be, &c);
			ASSERT_EQ(IOREQ_OP_WRITE, c.op);
			ASSERT_EQ(t->size, c.size);
			ASSERT_EQ(t->first + i * stos_step(t), c.offset)
				TH_LOG("case %u element %u", k, i);
			ASSERT_EQ(t->value, c.data)
				TH_LOG("case %u element %u", k, i);
			c.data = ~t->value ^ (0x9e3779b97f4a7c15ULL * (i + 1));
			ioreq_respond(self->e.be, &c);
		}
		ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, vcpu, IOREQ_WAIT_MS,
					&w));
		ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
		EXPECT_EQ(1U, w.notifies);
		/* A write's slot data is Xen's: left as the value. */
		EXPECT_EQ(t->value, w.data);
	}
	ioreq_expect_none(self->e.be);
}

/*
 * A region with IOREQ_REGION_POSTED_WRITES takes each element as a
 * posted write (the core completes it, no answer): every one still
 * carries the value, not the all ones of a write nobody answered.
 */
TEST_F(xd, rep_stos_posted)
{
	const __u64 base = 0xfe100000ULL;
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_xd_slot r;
	struct ioreq_cmd c;
	unsigned int k;
	int be2;
	__u32 i;

	if (!(self->e.att.caps & IOREQ_CAP_POSTED_WRITES))
		SKIP(return, "the double has no IOREQ_CAP_POSTED_WRITES");
	be2 = ioreq_env_session(&self->e);
	ASSERT_ERRNO(0, __ioreq_claim(be2, IOREQ_SPACE_MMIO, base, 0x1000,
				      0x9057, IOREQ_REGION_POSTED_WRITES,
				      NULL));
	for (k = 0; k < ARRAY_SIZE(stos_cases); k++) {
		const struct stos_case *t = &stos_cases[k];

		r = stos_slot(t, base);
		ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 2, &r, 0, &s));
		ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 2, IOREQ_WAIT_MS, &w));
		ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
		EXPECT_EQ(1U, w.notifies);
		for (i = 0; i < t->count; i++) {
			ioreq_expect_cmd(be2, &c);
			ASSERT_EQ(IOREQ_OP_WRITE, c.op);
			ASSERT_EQ((__u32)IOREQ_CMD_POSTED, c.flags);
			ASSERT_EQ(t->first + i * stos_step(t), c.offset)
				TH_LOG("case %u element %u", k, i);
			ASSERT_EQ(t->value, c.data)
				TH_LOG("case %u element %u", k, i);
		}
		ioreq_expect_none(be2);
	}
	close(be2);
	ioreq_expect_none(self->e.be);
}

/*
 * Post rep stos @r on @vcpu, take the records at the @n offsets @offs
 * (each must carry @r's value), answer each with @answer, and wait for
 * the slot's answer.
 */
static void stos_run(struct __test_metadata *_metadata, struct ioreq_env *e,
		     __u32 vcpu, const struct ioreq_xd_slot *r,
		     const __u64 *offs, unsigned int n, __u64 answer)
{
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_cmd c;
	unsigned int i;

	ASSERT_ERRNO(0, xd_send(e->hv.fd, vcpu, r, 0, &s));
	for (i = 0; i < n; i++) {
		ioreq_expect_cmd(e->be, &c);
		ASSERT_EQ(offs[i], c.offset) TH_LOG("record %u", i);
		ASSERT_EQ(r->data, c.data) TH_LOG("record %u", i);
		c.data = answer;
		ioreq_respond(e->be, &c);
	}
	ASSERT_ERRNO(0, xd_wait(e->hv.fd, vcpu, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	EXPECT_EQ(1U, w.notifies);
}

/*
 * An ioeventfd takes one element, and a range nobody claims takes
 * others: the elements after them still carry the value.
 */
TEST_F(xd, rep_stos_ioeventfd_and_unclaimed_elements)
{
	struct ioreq_ioeventfd ev = {
		.size = sizeof(ev), .space = IOREQ_SPACE_MMIO, .len = 4,
		.addr = MMIO_BASE + 0x48,
	};
	static const __u64 want_up[] = { 0x40, 0x44, 0x4c };
	static const __u64 want_below[] = { 0x0, 0x8 };
	static const __u64 want_down[] = { 0x4, 0x0 };
	struct ioreq_xd_slot r;
	__u64 n = 0;
	int efd;

	if (!(self->e.att.caps & IOREQ_CAP_IOEVENTFD))
		SKIP(return, "the double has no IOREQ_CAP_IOEVENTFD");
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ev.fd = efd;
	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.be, IOREQ_IOEVENTFD, &ev));

	/* rep stosl x4 at 0x40: the ioeventfd takes the third */
	r = slot(IOREQ_XD_TYPE_COPY, 0, MMIO_BASE + 0x40, 4, 4, 0x600dcafe);
	stos_run(_metadata, &self->e, 1, &r, want_up, ARRAY_SIZE(want_up), 0);
	ASSERT_EQ((ssize_t)sizeof(n), read(efd, &n, sizeof(n)));
	EXPECT_EQ(1ULL, n);

	/* rep stosq x4 from 16 below the region: two unclaimed, two ours */
	r = slot(IOREQ_XD_TYPE_COPY, 0, MMIO_BASE - 16, 8, 4,
		 0x1122334455667788ULL);
	stos_run(_metadata, &self->e, 3, &r, want_below,
		 ARRAY_SIZE(want_below), 0x8877665544332211ULL);

	/* std; rep stosl x4 from 4 down: two ours, then two unclaimed */
	r = slot(IOREQ_XD_TYPE_COPY, IOREQ_XD_DF, MMIO_BASE + 4, 4, 4,
		 0xa5a5a5a5);
	stos_run(_metadata, &self->e, 0, &r, want_down, ARRAY_SIZE(want_down),
		 0xffffffff);
	ioreq_expect_none(self->e.be);
	close(efd);
}

/*
 * Xen clips a string instruction to 4096 repetitions before it becomes
 * an ioreq: a larger count is answered at once, nothing is sent; 4096
 * itself is carried out element by element (here cut short by closing
 * the backend that holds the first one).
 */
TEST_F(xd, rep_count_bound)
{
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_xd_slot r;
	struct ioreq_cmd c;
	int be2;

	r = slot(IOREQ_XD_TYPE_COPY, 0, MMIO_BASE, 1, 4097, 0x77);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 0, &r, 0, &s));
	ASSERT_EQ(1U, s.taken);
	ASSERT_EQ((__u32)IOREQ_XD_STATE_RESP_READY, s.state);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 0, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	EXPECT_EQ((__u32)IOREQ_XD_BY_EVENT, w.how);
	r = slot(IOREQ_XD_TYPE_PIO, IOREQ_XD_DIR_READ | IOREQ_XD_DATA_IS_PTR,
		 PIO_BASE, 1, ~0U, RAM(0));
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 1, &r, 0, &s));
	ASSERT_EQ((__u32)IOREQ_XD_STATE_RESP_READY, s.state);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	ioreq_expect_none(self->e.be);

	be2 = ioreq_env_session(&self->e);
	ioreq_claim(be2, IOREQ_SPACE_MMIO, 0xfe200000ULL, 0x1000, 0x4096,
		    NULL);
	r = slot(IOREQ_XD_TYPE_COPY, 0, 0xfe200000ULL, 1, 4096, 0x77);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 2, &r, 0, &s));
	ASSERT_EQ((__u32)IOREQ_XD_STATE_INPROCESS, s.state);
	ioreq_expect_cmd(be2, &c);
	ASSERT_EQ(0x77ULL, c.data);
	close(be2);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 2, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	EXPECT_EQ(1U, w.notifies);
}

/* ---- rep against a stopped backend: no kernel thread waits ------------- */

#define HUNG_TIMEOUT	"/proc/sys/kernel/hung_task_timeout_secs"
#define HUNG_SECS	5
#define STOP_PORT	0x800ULL

/*
 * A backend in its own process on @guest_id: claims STOP_PORT, answers
 * read n with 0x60 + n, and stops itself (SIGSTOP) after answers 2 and
 * 10: two elements into each of the test's two rep requests.
 */
static void stop_backend(__u64 guest_id, int tell)
{
	struct ioreq_cmd c;
	__u8 n = 0;
	int fd;

	/* Whatever happens to the test, its stopped backend goes with it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		_exit(1);
	fd = ioreq_backend_open();
	if (fd < 0 || __ioreq_attach(fd, IOREQ_PROVIDER_XEN, guest_id, NULL) ||
	    __ioreq_claim(fd, IOREQ_SPACE_PIO, STOP_PORT, 4, STOP_PORT, 0,
			  NULL))
		_exit(1);
	if (write(tell, "r", 1) != 1)
		_exit(1);
	while (read(fd, &c, sizeof(c)) == sizeof(c)) {
		c.data = 0x60 + n++;
		if (__ioreq_write_cmds(fd, &c, 1) != IOREQ_REC)
			_exit(1);
		if (n == 2 || n == 10)
			raise(SIGSTOP);
	}
	_exit(0);
}

/* Wait until @pid stopped itself. */
static bool stop_stopped(pid_t pid)
{
	int status;

	return waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status);
}

/* Whether the kernel log since @kmsg was opened says "blocked for". */
static bool kmsg_hung(int kmsg)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (n <= 0)
			return false;
		rec[n] = '\0';
		if (strstr(rec, "blocked for more than"))
			return true;
	}
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/*
 * rep insb into guest RAM from a backend that is stopped (SIGSTOP) with
 * an element in hand: the vcpu waits, as for a single access, but no
 * kernel thread does, so the hung-task detector (its timeout lowered to
 * HUNG_SECS) reports nothing in twice its period.  SIGCONT, and the
 * instruction completes with every byte the backend gave.  Stopped again
 * and killed, the rest of the next one reads all ones.
 */
TEST_F_TIMEOUT(xd, rep_insb_stopped_backend, 120)
{
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_xd_slot r;
	char old[32] = "", secs[16], ready;
	bool hung = false;
	unsigned int i;
	__u8 got[8];
	int tell[2], kmsg, fd, status, ret;
	ssize_t n;
	pid_t pid;

	fd = open(HUNG_TIMEOUT, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "%s: %s (no CONFIG_DETECT_HUNG_TASK)",
		     HUNG_TIMEOUT, strerror(errno));
	n = read(fd, old, sizeof(old) - 1);
	close(fd);
	ASSERT_LT(0, n);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, kmsg);
	ASSERT_LE(0, lseek(kmsg, 0, SEEK_END));
	ASSERT_EQ(0, pipe2(tell, O_CLOEXEC));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(tell[0]);
		stop_backend(self->e.hv.guest_id, tell[1]);
	}
	close(tell[1]);
	ASSERT_EQ(1, read(tell[0], &ready, 1));

	/* rep insb x8: stopped after two elements, for three periods */
	r = slot(IOREQ_XD_TYPE_PIO, IOREQ_XD_DIR_READ | IOREQ_XD_DATA_IS_PTR,
		 STOP_PORT, 1, 8, RAM(0x400));
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 1, &r, 0, &s));
	ASSERT_TRUE(stop_stopped(pid));
	snprintf(secs, sizeof(secs), "%u", HUNG_SECS);
	ret = write_file(HUNG_TIMEOUT, secs);
	if (!ret) {
		ioreq_msleep(HUNG_SECS * 3000);
		hung = kmsg_hung(kmsg);
		ret = write_file(HUNG_TIMEOUT, old);
	}
	ASSERT_EQ(0, ret);
	EXPECT_FALSE(hung)
		TH_LOG("a task blocked while the backend was stopped");
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, 0, &w));
	EXPECT_EQ((__u32)IOREQ_XD_PENDING, w.result);
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	EXPECT_EQ(1U, w.notifies);
	ASSERT_ERRNO(0, xd_ram(self->e.hv.fd, RAM(0x400), got, 8, 0));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0x60 + i, got[i]) TH_LOG("byte %u", i);

	/* The next one: stopped after two elements, then killed */
	r.data = RAM(0x410);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 1, &r, 0, &s));
	ASSERT_TRUE(stop_stopped(pid));
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, 0, &w));
	EXPECT_EQ((__u32)IOREQ_XD_PENDING, w.result);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	EXPECT_EQ(1U, w.notifies);
	ASSERT_ERRNO(0, xd_ram(self->e.hv.fd, RAM(0x410), got, 8, 0));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(i < 2 ? 0x68 + i : 0xff, got[i]) TH_LOG("byte %u", i);

	close(tell[0]);
	close(kmsg);
}

/* Sizes Xen never sends for PIO or COPY: answered with all ones. */
TEST_F(xd, odd_sizes_answered_here)
{
	static const __u32 sizes[] = { 0, 3, 5, 16 };
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct ioreq_xd_slot r = slot(IOREQ_XD_TYPE_COPY,
					      IOREQ_XD_DIR_READ, MMIO_BASE,
					      sizes[i], 1, 0);
		__u64 ones = sizes[i] && sizes[i] < 8 ?
			     (1ULL << (8 * sizes[i])) - 1 : ~0ULL;

		ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 0, &r, 0, &s));
		ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 0, IOREQ_WAIT_MS, &w));
		ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
		ASSERT_EQ(ones, w.data) TH_LOG("size %u", sizes[i]);
	}
	/* and an unknown type */
	{
		struct ioreq_xd_slot r = slot(5, IOREQ_XD_DIR_READ, MMIO_BASE,
					      4, 1, 0);

		ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 0, &r, 0, &s));
		ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 0, IOREQ_WAIT_MS, &w));
		ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
		ASSERT_EQ(0xffffffffULL, w.data);
	}
	ioreq_expect_none(self->e.be);
}

/*
 * An event with nothing READY is spurious: the handler takes nothing and
 * writes nothing.  A request posted without its event waits in the slot
 * until the event comes; a second event for a request already taken
 * (INPROCESS) takes nothing either.
 */
TEST_F(xd, spurious_and_late_events)
{
	struct ioreq_xd_event ev = { .vcpu = 2 };
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_xd_slot r = slot(IOREQ_XD_TYPE_COPY, IOREQ_XD_DIR_READ,
				      MMIO_BASE + 0x40, 4, 1, 0);
	struct ioreq_cmd c;

	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.hv.fd, IOREQ_XD_EVENT, &ev));
	ASSERT_EQ(0U, ev.taken);
	ASSERT_EQ(0, memcmp(&ev.before, &ev.after, sizeof(ev.before)));

	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 2, &r, IOREQ_XD_SEND_NO_EVENT,
				&s));
	ASSERT_EQ((__u32)IOREQ_XD_STATE_READY, s.state);
	/* nothing for the backend before the event */
	ioreq_expect_none(self->e.be);
	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.hv.fd, IOREQ_XD_EVENT, &ev));
	ASSERT_EQ(1U, ev.taken);
	ASSERT_EQ((__u8)IOREQ_XD_STATE_READY,
		  ev.before.flags & IOREQ_XD_STATE_MASK);
	ASSERT_EQ((__u8)IOREQ_XD_STATE_INPROCESS,
		  ev.after.flags & IOREQ_XD_STATE_MASK);
	/* a second event while it is in process */
	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.hv.fd, IOREQ_XD_EVENT, &ev));
	ASSERT_EQ(0U, ev.taken);

	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 4, 2, MMIO_UD, 0x40, 0);
	/* still pending: Xen sees INPROCESS, no notification */
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 2, 50, &w));
	ASSERT_EQ((__u32)IOREQ_XD_PENDING, w.result);
	ASSERT_EQ((__u32)IOREQ_XD_STATE_INPROCESS, w.state);
	ASSERT_EQ(0U, w.notifies);
	c.data = 0xfeedbeef;
	ioreq_respond(self->e.be, &c);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 2, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	ASSERT_EQ((__u32)IOREQ_XD_BY_DONE, w.how);
	ASSERT_EQ(0xfeedbeefULL, w.data);
	ASSERT_EQ(1U, w.notifies);
	/* a late event once the slot is NONE again is spurious too */
	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.hv.fd, IOREQ_XD_EVENT, &ev));
	ASSERT_EQ(0U, ev.taken);
}

/* Posting into a slot that is not NONE is what Xen never does: refused. */
TEST_F(xd, slot_busy)
{
	struct ioreq_xd_slot r = slot(IOREQ_XD_TYPE_PIO, 0, PIO_BASE, 1, 1,
				      0x7);
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_cmd c;

	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 3, &r, 0, &s));
	ASSERT_EQ((__u32)IOREQ_XD_STATE_INPROCESS, s.state);
	ASSERT_ERRNO(EALREADY, xd_send(self->e.hv.fd, 3, &r, 0, &s));
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_WRITE, 1, 3, PIO_UD, 0, 0x7);
	ioreq_expect_none(self->e.be);
	ioreq_respond(self->e.be, &c);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 3, IOREQ_WAIT_MS, &w));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result);
	/* a write's data is left as Xen wrote it */
	ASSERT_EQ(0x7ULL, w.data);
}

/*
 * The vcpu count from the page when XEN_DMOP_nr_vcpus is missing: the
 * leading slots with an event channel.
 */
TEST_F(xd, count_vcpus)
{
	static const struct { __u64 lo, hi; __u32 want; } c[] = {
		{ 0, 0, 0 },
		{ 0x1, 0, 1 },
		{ 0xf, 0, 4 },
		{ 0xb, 0, 2 },			/* a hole ends the count */
		{ ~0ULL, 0, 64 },
		{ ~0ULL, 0x1, 65 },
		{ ~0ULL, ~0ULL, 128 },
		{ 0x2, ~0ULL, 0 },
	};
	unsigned int i;
	int fd;

	/* a file of its own: the page of a guest not created yet */
	fd = ioreq_open(IOREQ_XD_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		struct ioreq_xd_count n = { .ports = { c[i].lo, c[i].hi } };

		ASSERT_ERRNO(0, __ioreq_ioctl(fd, IOREQ_XD_COUNT_VCPUS, &n));
		ASSERT_EQ(c[i].want, n.count) TH_LOG("case %u", i);
	}
	/* a guest created that way attaches with the count */
	{
		struct ioreq_xd_create cr = {
			.flags = IOREQ_XD_CREATE_COUNT, .nr_vcpus = 3,
		};
		struct ioreq_attach at;
		int be;

		ASSERT_ERRNO(0, __ioreq_ioctl(fd, IOREQ_XD_CREATE, &cr));
		ASSERT_EQ(3U, cr.nr_vcpus);
		be = ioreq_backend_open();
		ASSERT_LE(0, be);
		ASSERT_ERRNO(0, __ioreq_attach(be, IOREQ_PROVIDER_XEN,
					       cr.guest_id, &at));
		ASSERT_EQ(3U, at.nr_vcpus);
		close(be);
	}
	close(fd);
}

/*
 * The domain dies (the provider's @releaseDomain path) while vcpus hold
 * requests: each is answered (all ones for a read), exactly once, and the
 * backend sees the guest gone.
 */
TEST_F(xd, domain_dies_in_flight)
{
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_cmd c;
	__u32 vcpu;

	for (vcpu = 0; vcpu < NR_VCPUS; vcpu++) {
		struct ioreq_xd_slot r = slot(IOREQ_XD_TYPE_COPY,
					      IOREQ_XD_DIR_READ,
					      MMIO_BASE + 8 * vcpu, 8, 1, 0);

		ASSERT_ERRNO(0, xd_send(self->e.hv.fd, vcpu, &r, 0, &s));
		ASSERT_EQ((__u32)IOREQ_XD_STATE_INPROCESS, s.state);
	}
	/* the backend has read two of them */
	ioreq_expect_cmd(self->e.be, &c);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.hv.fd, IOREQ_XD_KILL, NULL));
	for (vcpu = 0; vcpu < NR_VCPUS; vcpu++) {
		ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, vcpu, IOREQ_WAIT_MS,
					&w));
		ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, w.result)
			TH_LOG("vcpu %u", vcpu);
		ASSERT_EQ((__u32)IOREQ_XD_BY_ABORTED, w.how);
		ASSERT_EQ(~0ULL, w.data);
		ASSERT_EQ(1U, w.notifies);
	}
	ASSERT_EQ(POLLHUP, ioreq_poll(self->e.be, POLLHUP, IOREQ_WAIT_MS) &
			   POLLHUP);
	/* the late answer completes nothing */
	c.data = 1;
	ASSERT_ERRNO(ENODEV, __ioreq_write_cmds(self->e.be, &c, 1));
}

/*
 * PCI_CONFIG requests (a guest's 0xcf8/0xcfc cycles, addr = SBDF << 32 |
 * register) reach the session whose IOREQ_SPACE_PCI_CONFIG region holds
 * them, read and write; another function of the bus stays unclaimed.
 */
TEST_F(xd, pci_config)
{
	const __u64 fn = 0x28ULL << 32;		/* 0000:00:05.0 */
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_xd_slot r;
	struct ioreq_cmd c;
	__u32 id;

	ASSERT_ERRNO(0, __ioreq_claim(self->e.be, IOREQ_SPACE_PCI_CONFIG, fn,
				      0x1000, 0x9c1, 0, &id));
	r = slot(IOREQ_XD_TYPE_PCI_CONFIG, IOREQ_XD_DIR_READ, fn | 0x10, 4, 1,
		 0);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 0, &r, 0, &s));
	ioreq_expect_cmd(self->e.be, &c);
	EXPECT_EQ(IOREQ_OP_READ, c.op);
	EXPECT_EQ(4, c.size);
	EXPECT_EQ(0x9c1ULL, c.user_data);
	EXPECT_EQ(0x10ULL, c.offset);
	c.data = 0xfebc0000;
	ioreq_respond(self->e.be, &c);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 0, IOREQ_WAIT_MS, &w));
	EXPECT_EQ(0xfebc0000ULL, w.data);

	r = slot(IOREQ_XD_TYPE_PCI_CONFIG, 0, fn | 0x4, 2, 1, 0x0406);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 1, &r, 0, &s));
	ioreq_expect_cmd(self->e.be, &c);
	EXPECT_EQ(IOREQ_OP_WRITE, c.op);
	EXPECT_EQ(2, c.size);
	EXPECT_EQ(0x4ULL, c.offset);
	EXPECT_EQ(0x0406ULL, c.data);
	ioreq_respond(self->e.be, &c);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, IOREQ_WAIT_MS, &w));

	/* 0000:00:06.0: nobody's, all ones, no record */
	r = slot(IOREQ_XD_TYPE_PCI_CONFIG, IOREQ_XD_DIR_READ,
		 (0x30ULL << 32) | 0x0, 4, 1, 0);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 2, &r, 0, &s));
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 2, IOREQ_WAIT_MS, &w));
	EXPECT_EQ(0xffffffffULL, w.data);
	ioreq_expect_none(self->e.be);
}

/* ---- the buffered ring ------------------------------------------------ */

#define VGA_BASE	0xa0000ULL	/* what Xen buffers: below 1 MiB */
#define VGA_LEN		0x20000ULL
#define VGA_UD		0x7a6a0ULL

static int buf_send(int fd, const struct ioreq_xd_buf_write *w, __u32 nr,
		    __u32 flags, struct ioreq_xd_buf_send *out)
{
	memset(out, 0, sizeof(*out));
	out->flags = flags;
	out->nr = nr;
	out->writes = (__u64)(uintptr_t)w;
	return __ioreq_ioctl(fd, IOREQ_XD_BUF_SEND, out);
}

static struct ioreq_xd_buf_write vga_write(__u32 off, __u8 size, __u64 data)
{
	struct ioreq_xd_buf_write w = {
		.type = IOREQ_XD_TYPE_COPY, .size = size,
		.addr = (__u32)(VGA_BASE + off), .data = data,
	};

	return w;
}

/* The n-th write of a test stream: sizes 1, 2, 4, 8 in turn. */
static struct ioreq_xd_buf_write stream_write(unsigned int n)
{
	static const __u8 sizes[] = { 1, 2, 4, 8 };
	__u8 size = sizes[n % 4];
	__u64 v = 0x0102030405060708ULL * (n + 1) ^ 0xa5a5a5a5a5a5a5a5ULL;

	return vga_write((n * 8) % 0x10000, size,
			 size == 8 ? v : v & ((1ULL << (size * 8)) - 1));
}

/* Read @n posted records of the stream from @first on, in order. */
static void expect_stream(struct __test_metadata *_metadata, int be,
			  unsigned int first, unsigned int n)
{
	struct ioreq_cmd c[NR_VCPUS];
	unsigned int seen = 0, i;
	int got;

	while (seen < n) {
		got = ioreq_read_cmds(be, c, NR_VCPUS, IOREQ_WAIT_MS);
		ASSERT_LT(0, got) TH_LOG("after %u of %u records", seen, n);
		for (i = 0; i < (unsigned int)got; i++, seen++) {
			struct ioreq_xd_buf_write w = stream_write(first + seen);

			ASSERT_LT(seen, n);
			ASSERT_EQ(IOREQ_CMD_POSTED, c[i].flags);
			ASSERT_EQ(0xffffU, IOREQ_CMD_VCPU(c[i].id));
			ASSERT_EQ(IOREQ_OP_WRITE, c[i].op);
			ASSERT_EQ(w.size, c[i].size) TH_LOG("write %u", first + seen);
			ASSERT_EQ(VGA_UD, c[i].user_data);
			ASSERT_EQ(w.addr - VGA_BASE, c[i].offset);
			ASSERT_EQ(w.data, c[i].data) TH_LOG("write %u", first + seen);
		}
	}
}

/*
 * Writes Xen posts to the buffered ring (only the emulated VGA's, in
 * Xen 4.17) reach the claiming session as posted records without a vcpu
 * (0xffff), 1-, 2-, 4- and 8-byte ones (two slots, the high half in the
 * second); an unclaimed one is dropped.
 */
TEST_F(xd, buffered_writes)
{
	struct ioreq_xd_buf_write w[9];
	struct ioreq_xd_buf_send bs;
	unsigned int i;

	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, VGA_BASE, VGA_LEN, VGA_UD,
		    NULL);
	for (i = 0; i < 8; i++)
		w[i] = stream_write(i);
	/* 0xc0000: nobody's */
	w[8] = vga_write(0x20000, 4, 0x1234);
	ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 9, 0, &bs));
	ASSERT_EQ(9U, bs.sent);
	/* 9 writes, two of them 8 bytes: 11 slots, all taken */
	EXPECT_EQ(11U, bs.write_pointer);
	EXPECT_EQ(bs.write_pointer, bs.read_pointer);
	expect_stream(_metadata, self->e.be, 0, 8);
	ioreq_expect_none(self->e.be);
}

/*
 * Round after round the pointers pass the slot count and are rebased (the
 * ring wraps), 8-byte writes straddling the end of the ring included;
 * nothing is lost or reordered.
 */
TEST_F(xd, buffered_ring_wraps)
{
	struct ioreq_xd_buf_write w[100];
	struct ioreq_xd_buf_send bs;
	unsigned int round, i, n = 0, straddled = 0;

	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, VGA_BASE, VGA_LEN, VGA_UD,
		    NULL);
	for (round = 0; round < 20; round++) {
		__u32 before;

		for (i = 0; i < 100; i++)
			w[i] = stream_write(n + i);
		ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 0, 0, &bs));
		before = bs.write_pointer;
		/* does an 8-byte write of this round take slots 510 and 0? */
		for (i = 0; i < 100; i++) {
			if (w[i].size == 8 &&
			    before % IOREQ_XD_BUF_SLOTS == IOREQ_XD_BUF_SLOTS - 1)
				straddled++;
			before += w[i].size == 8 ? 2 : 1;
		}
		ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 100, 0, &bs));
		ASSERT_EQ(100U, bs.sent);
		expect_stream(_metadata, self->e.be, n, 100);
		n += 100;
		ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 0, 0, &bs));
		EXPECT_EQ(bs.write_pointer, bs.read_pointer);
		/* rebased at each post: they never reach twice the slots */
		EXPECT_GT((__u32)2 * IOREQ_XD_BUF_SLOTS, bs.write_pointer);
	}
	/* 2,500 slots went round the ring almost five times */
	TH_LOG("%u writes, %u 8-byte ones across the ring's end", n,
	       straddled);
	EXPECT_LT(0U, straddled);
	ioreq_expect_none(self->e.be);
}

/*
 * With a session's 128 posted records unread, the writes for it that
 * follow are dropped and counted: the ring is emptied all the same (it
 * serves the guest's other sessions too).  Once the backend reads, its
 * writes arrive again.
 */
TEST_F(xd, buffered_ring_drops_for_room)
{
	struct ioreq_xd_buf_write w[300];
	struct ioreq_xd_buf_send bs;
	struct ioreq_xd_status st;
	unsigned int i;

	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, VGA_BASE, VGA_LEN, VGA_UD,
		    NULL);
	for (i = 0; i < 300; i++)
		w[i] = stream_write(i);
	ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 300, 0, &bs));
	ASSERT_EQ(300U, bs.sent);
	EXPECT_EQ(bs.write_pointer, bs.read_pointer);
	ASSERT_ERRNO(0, ioreq_xd_status(self->e.hv.fd, &st));
	EXPECT_EQ(172ULL, st.buf_dropped);
	EXPECT_EQ(0U, st.buf_bad);
	expect_stream(_metadata, self->e.be, 0, 128);
	ioreq_expect_none(self->e.be);
	/* room again: the next writes arrive */
	ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 10, 0, &bs));
	expect_stream(_metadata, self->e.be, 0, 10);
	ASSERT_ERRNO(0, ioreq_xd_status(self->e.hv.fd, &st));
	EXPECT_EQ(172ULL, st.buf_dropped);
}

/*
 * Buffered writes the guest made before a synchronous request reach the
 * backend before it, even when the ring's own event has not come yet:
 * the vcpu's event drains the ring first, as QEMU does (Xen buffers
 * VGA's writes and sends its reads synchronously).
 */
TEST_F(xd, buffered_writes_before_sync_read)
{
	struct ioreq_xd_slot r = slot(IOREQ_XD_TYPE_COPY, IOREQ_XD_DIR_READ,
				      MMIO_BASE + 8, 4, 1, 0);
	struct ioreq_xd_buf_write w[5];
	struct ioreq_xd_buf_send bs;
	struct ioreq_xd_send s;
	struct ioreq_xd_wait wt;
	struct ioreq_cmd c[6];
	unsigned int i;

	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, VGA_BASE, VGA_LEN, VGA_UD,
		    NULL);
	for (i = 0; i < 5; i++)
		w[i] = stream_write(i);
	ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 5, IOREQ_XD_BUF_NO_EVENT,
				 &bs));
	ASSERT_EQ(5U, bs.sent);
	EXPECT_EQ(0U, bs.read_pointer);
	ASSERT_ERRNO(0, xd_send(self->e.hv.fd, 1, &r, 0, &s));
	ASSERT_EQ(1U, s.taken);
	/* the five writes first, then the read */
	ASSERT_EQ(6, ioreq_read_n(self->e.be, c, 6, IOREQ_WAIT_MS));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(IOREQ_CMD_POSTED, c[i].flags) TH_LOG("record %u", i);
		ASSERT_EQ(w[i].addr - VGA_BASE, c[i].offset);
		ASSERT_EQ(w[i].data, c[i].data);
	}
	ASSERT_EQ(0U, c[5].flags);
	ASSERT_EQ(IOREQ_OP_READ, c[5].op);
	ASSERT_EQ(MMIO_UD, c[5].user_data);
	ASSERT_EQ(8ULL, c[5].offset);
	c[5].data = 0x5a5a;
	ioreq_respond(self->e.be, &c[5]);
	ASSERT_ERRNO(0, xd_wait(self->e.hv.fd, 1, IOREQ_WAIT_MS, &wt));
	ASSERT_EQ((__u32)IOREQ_XD_ANSWERED, wt.result);
	EXPECT_EQ(0x5a5aULL, wt.data);
	ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 0, 0, &bs));
	EXPECT_EQ(bs.write_pointer, bs.read_pointer);
}

/*
 * One backend that stops reading its posted writes holds up nobody: the
 * other session of the guest gets every one of its writes while the
 * first one's overflow is dropped, and the ring never fills (a full ring
 * makes Xen send its writes synchronously, ahead of the queued ones).
 * After the idle backend closes, a new one on its range gets its writes.
 */
TEST_F(xd, buffered_ring_one_stalled_session)
{
	struct ioreq_xd_buf_write w[64];
	struct ioreq_xd_buf_send bs;
	struct ioreq_xd_status st;
	struct ioreq_cmd c[8];
	unsigned int round, i, got;
	int idle, be3;

	/* the fixture's session takes the first half, an idle one the rest */
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, VGA_BASE, 0x10000, VGA_UD,
		    NULL);
	idle = ioreq_env_session(&self->e);
	ioreq_claim(idle, IOREQ_SPACE_MMIO, VGA_BASE + 0x10000, 0x10000,
		    VGA_UD + 1, NULL);
	for (round = 0; round < 20; round++) {
		/* 32 writes for each, interleaved: 640 each in all */
		for (i = 0; i < 64; i++)
			w[i] = vga_write((i % 2) * 0x10000 + (i / 2) * 4, 4,
					 round * 64 + i);
		ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 64, 0, &bs));
		ASSERT_EQ(64U, bs.sent) TH_LOG("round %u", round);
		EXPECT_EQ(bs.write_pointer, bs.read_pointer);
		for (got = 0; got < 32; got += i) {
			int n = ioreq_read_cmds(self->e.be, c, 8,
						IOREQ_WAIT_MS);

			ASSERT_LT(0, n) TH_LOG("round %u: %u of 32", round,
					       got);
			for (i = 0; i < (unsigned int)n; i++) {
				ASSERT_EQ(VGA_UD, c[i].user_data);
				ASSERT_EQ((__u64)round * 64 + (got + i) * 2,
					  c[i].data);
			}
		}
	}
	ASSERT_ERRNO(0, ioreq_xd_status(self->e.hv.fd, &st));
	EXPECT_EQ(20ULL * 32 - 128, st.buf_dropped);
	close(idle);
	/* a new backend on the idle one's range gets its writes at once */
	be3 = ioreq_env_session(&self->e);
	ioreq_claim(be3, IOREQ_SPACE_MMIO, VGA_BASE + 0x10000, 0x10000,
		    VGA_UD + 2, NULL);
	w[0] = vga_write(0x10000, 2, 0xbeef);
	ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 1, 0, &bs));
	ASSERT_EQ(1, ioreq_read_cmds(be3, c, 8, IOREQ_WAIT_MS));
	EXPECT_EQ(VGA_UD + 2, c[0].user_data);
	EXPECT_EQ(0xbeefULL, c[0].data);
	close(be3);
}

/*
 * A backend that releases its region (or closes) with its posted queue
 * full leaves nothing behind in the ring: a backend that claims the range
 * next gets the writes made after that.
 */
TEST_F(xd, buffered_ring_after_release)
{
	struct ioreq_xd_buf_write w[200];
	struct ioreq_xd_buf_send bs;
	struct ioreq_cmd c;
	__u32 id;
	unsigned int i;

	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, VGA_BASE, VGA_LEN, VGA_UD,
		    &id);
	for (i = 0; i < 200; i++)
		w[i] = stream_write(i);
	ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 200, 0, &bs));
	EXPECT_EQ(bs.write_pointer, bs.read_pointer);
	ioreq_release(self->e.be, id);
	/* the ring's 511 slots go round twice with nobody claiming */
	for (i = 0; i < 5; i++) {
		ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 200, 0, &bs));
		ASSERT_EQ(200U, bs.sent);
	}
	/* what the released region had queued, if anything, goes */
	while (ioreq_read_nonblock(self->e.be, &c) == 1)
		;
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, VGA_BASE, VGA_LEN, VGA_UD,
		    NULL);
	w[0] = vga_write(0x40, 1, 0x7e);
	ASSERT_ERRNO(0, buf_send(self->e.hv.fd, w, 1, 0, &bs));
	ioreq_expect_cmd(self->e.be, &c);
	EXPECT_EQ(0x40ULL, c.offset);
	EXPECT_EQ(0x7eULL, c.data);
	ioreq_expect_none(self->e.be);
}

/* ---- the domain dies, and its domid comes back ------------------------ */

#define REUSED_ID	0x321ULL

/*
 * Domain A dies (destroyed, not yet reaped) and domain B gets its domid;
 * B's device model's server has the same server id as A's.  The provider
 * must see that A's server is dead (asking Xen whether server 0 of the
 * domid exists says yes: B's), give a new attach B's server, and never
 * let A's region release or teardown reach B's server.
 */
TEST_F(xd, domid_reused)
{
	struct ioreq_xd_status st;
	struct ioreq_xd_slot r = slot(IOREQ_XD_TYPE_PIO, IOREQ_XD_DIR_READ,
				      PIO_BASE, 2, 1, 0);
	struct ioreq_xd_send s;
	struct ioreq_xd_wait w;
	struct ioreq_hv ha = { .fd = -1 }, hb = { .fd = -1 };
	struct ioreq_cmd c;
	int a, b, s1, s2;
	__u32 id1, id2;

	ASSERT_ERRNO(0, ioreq_xd_create(&ha, 2, REUSED_ID));
	a = ha.fd;
	s1 = ioreq_backend_open();
	ASSERT_LE(0, s1);
	ioreq_attach(s1, IOREQ_PROVIDER_XEN, REUSED_ID);
	ioreq_claim(s1, IOREQ_SPACE_PIO, PIO_BASE, PIO_LEN, PIO_UD, &id1);
	ASSERT_ERRNO(0, ioreq_xd_status(a, &st));
	EXPECT_EQ(1U, st.ranges);

	/*
	 * A dies and B takes the domid at once: no dm_op of A's has failed
	 * yet, and Xen knows a server 0 of the domid (B's).  A's server is
	 * reaped, not taken for B's.
	 */
	ASSERT_ERRNO(0, __ioreq_ioctl(a, IOREQ_XD_DESTROY, NULL));
	ASSERT_ERRNO(0, ioreq_xd_create(&hb, 3, REUSED_ID));
	b = hb.fd;
	/* A's server issues nothing more: a new claim fails */
	ASSERT_ERRNO(ENODEV, __ioreq_claim(s1, IOREQ_SPACE_MMIO, MMIO_BASE,
					   MMIO_LEN, MMIO_UD, 0, NULL));
	s2 = ioreq_backend_open();
	ASSERT_LE(0, s2);
	ioreq_attach(s2, IOREQ_PROVIDER_XEN, REUSED_ID);
	ioreq_claim(s2, IOREQ_SPACE_PIO, PIO_BASE, PIO_LEN, PIO_UD + 1, &id2);
	ASSERT_ERRNO(0, xd_send(b, 2, &r, 0, &s));
	ioreq_expect_cmd(s2, &c);
	EXPECT_EQ(PIO_UD + 1, c.user_data);
	c.data = 0x1234;
	ioreq_respond(s2, &c);
	ASSERT_ERRNO(0, xd_wait(b, 2, IOREQ_WAIT_MS, &w));
	EXPECT_EQ(0x1234ULL, w.data);

	/* A's session lets go of its region, then A goes entirely */
	__ioreq_release(s1, id1);
	close(s1);
	close(a);
	ASSERT_ERRNO(0, ioreq_xd_status(b, &st));
	EXPECT_EQ(0U, st.foreign_ops);
	EXPECT_EQ(1U, st.ranges);
	EXPECT_EQ(0U, st.violations);

	/* B's own release still reaches B's server */
	ioreq_release(s2, id2);
	ASSERT_ERRNO(0, ioreq_xd_status(b, &st));
	EXPECT_EQ(0U, st.ranges);
	EXPECT_EQ(0U, st.foreign_ops);
	close(s2);
	close(b);
}

/* Every notification is logged: one per answered request, RESP_READY. */
TEST_F(xd, one_notification_per_answer)
{
	struct ioreq_xd_kick k[8];
	struct ioreq_xd_status st = { .vcpu = 1 };
	struct ioreq_vmm_access a;
	ssize_t n;
	int i;

	/* drain what the setup produced (nothing is expected) */
	while (read(self->e.hv.fd, k, sizeof(k)) > 0)
		;
	for (i = 0; i < 3; i++) {
		ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &a, 1,
						IOREQ_SPACE_MMIO,
						IOREQ_OP_READ, 4, 0x1000, 0,
						0));
		ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	}
	n = read(self->e.hv.fd, k, sizeof(k));
	ASSERT_EQ((ssize_t)(3 * sizeof(k[0])), n);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1U, k[i].vcpu);
		ASSERT_EQ((__u32)IOREQ_XD_STATE_RESP_READY, k[i].state);
	}
	ASSERT_EQ(-1, read(self->e.hv.fd, k, sizeof(k)));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_ERRNO(0, __ioreq_ioctl(self->e.hv.fd, IOREQ_XD_STATUS, &st));
	ASSERT_EQ(3U, st.notifies);
	ASSERT_EQ(0U, st.lost);
}

TEST_HARNESS_MAIN
