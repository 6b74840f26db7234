// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq device tests: what a backend needs beyond I/O requests.
 * Interrupt injection and irqfd (the hypervisor side records each
 * interrupt, which the test reads back as the guest would see it),
 * ioeventfd doorbells completed in the kernel, and guest memory mapped
 * or copied through the session.  Runs once per provider.
 */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "ioreq_util.h"

#define MMIO_BASE	0xfe100000ULL
#define MMIO_LEN	0x1000ULL
#define PIO_BASE	0x700ULL
#define PIO_LEN		0x10ULL
#define DOORBELL	(MMIO_BASE + 0x50)
#define MAILBOX		(MMIO_BASE + 0x100)	/* the guest posts a gpa here */
#define RAM_GPA		0x40000000ULL
#define RAM_PAGES	16UL
#define NR_VCPUS	2U

FIXTURE(dev) {
	struct ioreq_env e;
	__u32 mmio, pio;	/* region ids */
	long page;
	int ram;		/* the guest RAM memfd, or -1 */
	__u8 *guest;		/* the guest's (the VMM's) view of it */
};

IOREQ_FIXTURE_VARIANT(dev);
IOREQ_VMM_VARIANT(dev);

FIXTURE_SETUP(dev)
{
	self->ram = -1;
	self->guest = MAP_FAILED;
	self->page = sysconf(_SC_PAGESIZE);
	ioreq_env_setup(&self->e, variant->hv, NR_VCPUS);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 1,
		    &self->mmio);
	ioreq_claim(self->e.be, IOREQ_SPACE_PIO, PIO_BASE, PIO_LEN, 2,
		    &self->pio);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->guest != MAP_FAILED)
		munmap(self->guest, RAM_PAGES * self->page);
	if (self->ram >= 0)
		close(self->ram);
	ioreq_env_teardown(&self->e);
}

/* ---- helpers ----------------------------------------------------------- */

static int __inject(int fd, __u32 level, const struct ioreq_irq *irq)
{
	struct ioreq_inject in = {
		.size = sizeof(in),
		.level = level,
		.irq = *irq,
	};

	return __ioreq_ioctl(fd, IOREQ_INJECT_IRQ, &in);
}

static int __irqfd(int fd, int efd, __u32 flags, const struct ioreq_irq *irq)
{
	struct ioreq_irqfd a = {
		.size = sizeof(a),
		.flags = flags,
		.fd = efd,
		.irq = *irq,
	};

	return __ioreq_ioctl(fd, IOREQ_IRQFD, &a);
}

static int __ioeventfd(int fd, int efd, __u32 flags, __u32 space, __u64 addr,
		       __u32 len, __u64 datamatch)
{
	struct ioreq_ioeventfd a = {
		.size = sizeof(a),
		.flags = flags,
		.fd = efd,
		.space = space,
		.len = len,
		.addr = addr,
		.datamatch = datamatch,
	};

	return __ioreq_ioctl(fd, IOREQ_IOEVENTFD, &a);
}

static int __guest_rw(int fd, unsigned long cmd, __u64 addr, void *buf,
		      __u64 len)
{
	struct ioreq_guest_rw a = {
		.size = sizeof(a),
		.addr = addr,
		.len = len,
		.buf = (__u64)(uintptr_t)buf,
	};

	return __ioreq_ioctl(fd, cmd, &a);
}

/* The next interrupt the hypervisor side saw, within @ms.  0 or -errno. */
static int next_event(int hvfd, struct ioreq_vmm_event *ev, int ms)
{
	ssize_t n;
	int ret;

	ret = ioreq_poll(hvfd, POLLIN, ms);
	if (ret < 0)
		return ret;
	if (!(ret & POLLIN))
		return -ETIMEDOUT;
	n = read(hvfd, ev, sizeof(*ev));
	if (n < 0)
		return -errno;
	return n == sizeof(*ev) ? 0 : -EIO;
}

#define ASSERT_EVENT(_hvfd, _level, _irq) do {				\
	struct ioreq_vmm_event __ev;					\
	ASSERT_ERRNO(0, next_event(_hvfd, &__ev, IOREQ_WAIT_MS));	\
	ASSERT_EQ((__u32)IOREQ_VMM_EVENT_IRQ, __ev.type);		\
	ASSERT_EQ((__u32)(_level), __ev.level);				\
	ASSERT_EQ(0, memcmp(&__ev.irq, _irq, sizeof(*(_irq))))		\
		TH_LOG("kind %u line %u sbdf %#x pin %u msi %#llx/%#x",	\
		       __ev.irq.kind, __ev.irq.line, __ev.irq.sbdf,	\
		       __ev.irq.pin,					\
		       (unsigned long long)__ev.irq.msi_addr,		\
		       __ev.irq.msi_data);				\
} while (0)

#define ASSERT_NO_EVENT(_hvfd) do {					\
	struct ioreq_vmm_event __ev;					\
	ASSERT_ERRNO(ETIMEDOUT, next_event(_hvfd, &__ev, 200));		\
} while (0)

static const struct ioreq_irq irq_line = {
	.kind = IOREQ_IRQ_LINE, .line = 5,
};
static const struct ioreq_irq irq_intx = {
	.kind = IOREQ_IRQ_PCI_INTX, .sbdf = 0x00010018, .pin = 1,
};
static const struct ioreq_irq irq_msi = {
	.kind = IOREQ_IRQ_MSI, .msi_addr = 0xfee01000, .msi_data = 0x4041,
};

static __u64 efd_count(int efd)
{
	__u64 v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* A synchronous access from vcpu 0 that needs no backend. */
static int hv_write(struct ioreq_env *e, __u8 space, __u64 addr, __u8 len,
		    __u64 data, __u8 *status)
{
	struct ioreq_vmm_access a;
	int ret;

	ret = ioreq_hv_access(&e->hv, &a, 0, space, IOREQ_OP_WRITE, len, addr,
			      data, 0);
	*status = a.status;
	return ret;
}

/* Guest RAM: a memfd of RAM_PAGES at RAM_GPA, also mapped for the "guest". */
static void __setup_ram(struct __test_metadata *_metadata,
			FIXTURE_DATA(dev) *self)
{
	size_t len = RAM_PAGES * self->page;

	self->ram = memfd_create("ioreq-guest-ram", MFD_CLOEXEC);
	ASSERT_LE(0, self->ram);
	ASSERT_EQ(0, ftruncate(self->ram, len));
	self->guest = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   self->ram, 0);
	ASSERT_NE(MAP_FAILED, self->guest);
	ASSERT_ERRNO(0, __ioreq_vmm_add_memory(self->e.hv.fd, self->ram, RAM_GPA, len,
				     0));
}

#define setup_ram() __setup_ram(_metadata, self)

/* ---- capabilities ------------------------------------------------------- */

TEST_F(dev, caps)
{
	const __u64 want = IOREQ_CAP_IRQ_LINE | IOREQ_CAP_IRQ_PCI_INTX |
			   IOREQ_CAP_IRQ_MSI | IOREQ_CAP_IRQFD |
			   IOREQ_CAP_IOEVENTFD | IOREQ_CAP_GUEST_MEMORY;
	struct ioreq_info info;

	ASSERT_ERRNO(0, __ioreq_get_info(self->e.be, &info));
	ASSERT_EQ(want, info.caps & want);
	ASSERT_EQ(info.caps, self->e.att.caps);
}

/* ---- interrupt injection ------------------------------------------------ */

TEST_F(dev, inject_each_kind)
{
	int hv = self->e.hv.fd;

	ASSERT_ERRNO(0, __inject(self->e.be, 1, &irq_line));
	ASSERT_ERRNO(0, __inject(self->e.be, 0, &irq_line));
	ASSERT_ERRNO(0, __inject(self->e.be, 1, &irq_intx));
	ASSERT_ERRNO(0, __inject(self->e.be, 1, &irq_msi));
	ASSERT_EVENT(hv, 1, &irq_line);
	ASSERT_EVENT(hv, 0, &irq_line);
	ASSERT_EVENT(hv, 1, &irq_intx);
	ASSERT_EVENT(hv, 1, &irq_msi);
	ASSERT_NO_EVENT(hv);
}

TEST_F(dev, inject_bad)
{
	struct ioreq_inject in = { .size = sizeof(in), .level = 1,
				   .irq = irq_line };
	struct ioreq_irq irq;
	int be = self->e.be;

	irq = irq_line;
	irq.kind = 3;
	EXPECT_ERRNO(EINVAL, __inject(be, 1, &irq));
	EXPECT_ERRNO(EINVAL, __inject(be, 2, &irq_line));
	EXPECT_ERRNO(EINVAL, __inject(be, 0, &irq_msi));
	irq = irq_line;
	irq.sbdf = 1;
	EXPECT_ERRNO(EINVAL, __inject(be, 1, &irq));
	irq = irq_line;
	irq.__reserved = 1;
	EXPECT_ERRNO(EINVAL, __inject(be, 1, &irq));
	irq = irq_intx;
	irq.pin = 4;
	EXPECT_ERRNO(EINVAL, __inject(be, 1, &irq));
	irq = irq_intx;
	irq.line = 9;
	EXPECT_ERRNO(EINVAL, __inject(be, 1, &irq));
	irq = irq_msi;
	irq.pin = 1;
	EXPECT_ERRNO(EINVAL, __inject(be, 1, &irq));

	in.flags = 1;
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl(be, IOREQ_INJECT_IRQ, &in));
	in.flags = 0;
	in.__reserved = 1;
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl(be, IOREQ_INJECT_IRQ, &in));
	in.__reserved = 0;
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl_sized(be, IOREQ_INJECT_IRQ, &in,
			sizeof(in), offsetofend(struct ioreq_inject, irq) - 1,
			0));
	EXPECT_ERRNO(E2BIG, __ioreq_ioctl_sized(be, IOREQ_INJECT_IRQ, &in,
			sizeof(in), sizeof(in) + 8, 1));
	EXPECT_ERRNO(EFAULT, __ioreq_ioctl(be, IOREQ_INJECT_IRQ, NULL));
	/* Nothing reached the guest. */
	ASSERT_NO_EVENT(self->e.hv.fd);
}

/* Every new call needs an attached session. */
TEST_F(dev, not_attached)
{
	int fd = ioreq_backend_open();
	__u8 buf[8];
	void *map;

	ASSERT_LE(0, fd);
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, map);
	EXPECT_EQ(ENOTCONN, errno);
	EXPECT_ERRNO(ENOTCONN, __guest_rw(fd, IOREQ_READ_GUEST, 0, buf,
					  sizeof(buf)));
	EXPECT_ERRNO(ENOTCONN, __inject(fd, 1, &irq_line));
	EXPECT_ERRNO(ENOTCONN, __irqfd(fd, 0, 0, &irq_line));
	EXPECT_ERRNO(ENOTCONN, __ioeventfd(fd, 0, 0, IOREQ_SPACE_MMIO,
					   DOORBELL, 4, 0));
	close(fd);
}

/* A VMM that does not read its events: EAGAIN, then a count of the lost. */
TEST_F(dev, inject_queue_full)
{
	struct ioreq_vmm_event ev;
	unsigned int n = 0, i;
	int ret;

	while ((ret = __inject(self->e.be, 1, &irq_msi)) == 0)
		n++;
	ASSERT_ERRNO(EAGAIN, ret);
	ASSERT_EQ(256U, n);
	for (i = 0; i < n; i++) {
		ASSERT_ERRNO(0, next_event(self->e.hv.fd, &ev, IOREQ_WAIT_MS));
		ASSERT_EQ(0U, ev.lost);
	}
	ASSERT_ERRNO(0, __inject(self->e.be, 1, &irq_line));
	ASSERT_ERRNO(0, next_event(self->e.hv.fd, &ev, IOREQ_WAIT_MS));
	ASSERT_EQ(1U, ev.lost);
	ASSERT_EQ(0, memcmp(&ev.irq, &irq_line, sizeof(irq_line)));
}

TEST_F(dev, events_read_bad)
{
	struct ioreq_vmm_event ev[2];
	int fd;

	EXPECT_EQ(-1, read(self->e.hv.fd, ev, sizeof(ev[0]) - 1));
	EXPECT_EQ(EINVAL, errno);
	fd = ioreq_open(IOREQ_VMM_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, read(fd, ev, sizeof(ev[0])));
	EXPECT_EQ(ENXIO, errno);
	close(fd);
	ASSERT_ERRNO(0, fcntl(self->e.hv.fd, F_SETFL, O_NONBLOCK) < 0 ?
		     -errno : 0);
	EXPECT_EQ(-1, read(self->e.hv.fd, ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	/* Two queued, one read() takes both. */
	ASSERT_ERRNO(0, __inject(self->e.be, 1, &irq_line));
	ASSERT_ERRNO(0, __inject(self->e.be, 0, &irq_line));
	EXPECT_EQ((ssize_t)sizeof(ev), read(self->e.hv.fd, ev, sizeof(ev)));
	EXPECT_EQ(1U, ev[0].level);
	EXPECT_EQ(0U, ev[1].level);
}

/* ---- irqfd -------------------------------------------------------------- */

TEST_F(dev, irqfd_injects)
{
	int msi = eventfd(0, EFD_CLOEXEC), line = eventfd(0, EFD_CLOEXEC);
	__u64 one = 1;
	int hv = self->e.hv.fd;

	ASSERT_LE(0, msi);
	ASSERT_LE(0, line);
	ASSERT_ERRNO(0, __irqfd(self->e.be, msi, 0, &irq_msi));
	ASSERT_ERRNO(0, __irqfd(self->e.be, line, 0, &irq_line));
	ASSERT_NO_EVENT(hv);

	ASSERT_EQ(8, write(msi, &one, sizeof(one)));
	ASSERT_EVENT(hv, 1, &irq_msi);
	/* A line gets an edge: assert, then deassert. */
	ASSERT_EQ(8, write(line, &one, sizeof(one)));
	ASSERT_EVENT(hv, 1, &irq_line);
	ASSERT_EVENT(hv, 0, &irq_line);
	ASSERT_NO_EVENT(hv);

	/* The same eventfd may also drive another interrupt. */
	ASSERT_ERRNO(0, __irqfd(self->e.be, msi, 0, &irq_intx));
	ASSERT_ERRNO(0, __irqfd(self->e.be, msi, IOREQ_IRQFD_DEASSIGN,
				&irq_msi));
	ASSERT_EQ(8, write(msi, &one, sizeof(one)));
	ASSERT_EVENT(hv, 1, &irq_intx);
	ASSERT_EVENT(hv, 0, &irq_intx);
	ASSERT_NO_EVENT(hv);

	ASSERT_ERRNO(0, __irqfd(self->e.be, line, IOREQ_IRQFD_DEASSIGN,
				&irq_line));
	ASSERT_EQ(8, write(line, &one, sizeof(one)));
	ASSERT_NO_EVENT(hv);
	close(msi);
	close(line);
}

/* A signal that came before the binding injects once it is made. */
TEST_F(dev, irqfd_pending_signal)
{
	int efd = eventfd(3, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __irqfd(self->e.be, efd, 0, &irq_msi));
	ASSERT_EVENT(self->e.hv.fd, 1, &irq_msi);
	close(efd);
}

TEST_F(dev, irqfd_bad)
{
	struct ioreq_irqfd a = { .size = sizeof(a), .irq = irq_msi };
	int efd = eventfd(0, EFD_CLOEXEC), p[2];
	struct ioreq_irq irq = irq_intx;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pipe(p));
	EXPECT_ERRNO(EBADF, __irqfd(self->e.be, -1, 0, &irq_msi));
	EXPECT_ERRNO(EINVAL, __irqfd(self->e.be, p[0], 0, &irq_msi));
	irq.pin = 7;
	EXPECT_ERRNO(EINVAL, __irqfd(self->e.be, efd, 0, &irq));
	EXPECT_ERRNO(EINVAL, __irqfd(self->e.be, efd, 2, &irq_msi));
	EXPECT_ERRNO(ENOENT, __irqfd(self->e.be, efd, IOREQ_IRQFD_DEASSIGN,
				     &irq_msi));
	ASSERT_ERRNO(0, __irqfd(self->e.be, efd, 0, &irq_msi));
	EXPECT_ERRNO(EEXIST, __irqfd(self->e.be, efd, 0, &irq_msi));
	a.fd = efd;
	a.__reserved = 1;
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl(self->e.be, IOREQ_IRQFD, &a));
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl_sized(self->e.be, IOREQ_IRQFD, &a,
			sizeof(a), offsetofend(struct ioreq_irqfd, irq) - 1,
			0));
	/* Deassign needs the same interrupt. */
	EXPECT_ERRNO(ENOENT, __irqfd(self->e.be, efd, IOREQ_IRQFD_DEASSIGN,
				     &irq_line));
	ASSERT_ERRNO(0, __irqfd(self->e.be, efd, IOREQ_IRQFD_DEASSIGN,
				&irq_msi));
	close(p[0]);
	close(p[1]);
	close(efd);
}

/* Closing the eventfd ends the binding; so does closing the session. */
TEST_F(dev, irqfd_teardown)
{
	int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);
	__u64 one = 1;
	int be2;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_ERRNO(0, __irqfd(self->e.be, a, 0, &irq_msi));
	close(a);
	/* The slot is free again: a new eventfd binds to the same irq. */
	a = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, a);
	ASSERT_ERRNO(0, __irqfd(self->e.be, a, 0, &irq_msi));
	ASSERT_EQ(8, write(a, &one, sizeof(one)));
	ASSERT_EVENT(self->e.hv.fd, 1, &irq_msi);

	be2 = ioreq_env_session(&self->e);
	ASSERT_ERRNO(0, __irqfd(be2, b, 0, &irq_line));
	close(be2);
	ASSERT_EQ(8, write(b, &one, sizeof(one)));
	ASSERT_NO_EVENT(self->e.hv.fd);
	close(a);
	close(b);
}

/* ---- ioeventfd ---------------------------------------------------------- */

TEST_F(dev, ioeventfd_doorbell)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	__u8 status;
	int i;

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, 0, IOREQ_SPACE_MMIO,
				    DOORBELL, 4, 0));
	/* Completed in the kernel: no backend answers, no record. */
	for (i = 0; i < 3; i++) {
		ASSERT_ERRNO(0, hv_write(&self->e, IOREQ_SPACE_MMIO, DOORBELL,
					 4, 0x1234 + i, &status));
		ASSERT_EQ(IOREQ_VMM_STATUS_DONE, status);
	}
	ASSERT_EQ(3ULL, efd_count(efd));
	ioreq_expect_none(self->e.be);

	/* Another size, a read, or a neighbour go to the backend. */
	ioreq_vcpu_run(&v, &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE,
		       2, DOORBELL, 7, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_WRITE, 2, 1, 1, DOORBELL - MMIO_BASE,
			   7);
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);

	ioreq_vcpu_run(&v, &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, DOORBELL, 0, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_EQ(IOREQ_OP_READ, c.op);
	c.data = 0x55;
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x55);

	ioreq_vcpu_run(&v, &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE,
		       4, DOORBELL + 4, 9, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);
	ASSERT_EQ(0ULL, efd_count(efd));

	/* Deassigned: the backend sees the doorbell again. */
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, IOREQ_IOEVENTFD_DEASSIGN,
				    IOREQ_SPACE_MMIO, DOORBELL, 4, 0));
	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE,
		       4, DOORBELL, 1, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);
	ASSERT_EQ(0ULL, efd_count(efd));
	close(efd);
}

TEST_F(dev, ioeventfd_datamatch_and_pio)
{
	int q0 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int q1 = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int port = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	__u8 status;

	ASSERT_LE(0, q0);
	ASSERT_LE(0, q1);
	ASSERT_LE(0, port);
	/* virtio's QueueNotify: one eventfd per queue index. */
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, q0, IOREQ_IOEVENTFD_DATAMATCH,
				    IOREQ_SPACE_MMIO, DOORBELL, 4, 0));
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, q1, IOREQ_IOEVENTFD_DATAMATCH,
				    IOREQ_SPACE_MMIO, DOORBELL, 4, 1));
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, port, 0, IOREQ_SPACE_PIO,
				    PIO_BASE + 2, 2, 0));

	ASSERT_ERRNO(0, hv_write(&self->e, IOREQ_SPACE_MMIO, DOORBELL, 4, 1,
				 &status));
	ASSERT_EQ(IOREQ_VMM_STATUS_DONE, status);
	ASSERT_ERRNO(0, hv_write(&self->e, IOREQ_SPACE_MMIO, DOORBELL, 4, 1,
				 &status));
	ASSERT_ERRNO(0, hv_write(&self->e, IOREQ_SPACE_MMIO, DOORBELL, 4, 0,
				 &status));
	ASSERT_ERRNO(0, hv_write(&self->e, IOREQ_SPACE_PIO, PIO_BASE + 2, 2,
				 0xffff, &status));
	ASSERT_EQ(IOREQ_VMM_STATUS_DONE, status);
	ASSERT_EQ(1ULL, efd_count(q0));
	ASSERT_EQ(2ULL, efd_count(q1));
	ASSERT_EQ(1ULL, efd_count(port));
	ioreq_expect_none(self->e.be);

	/* A value nobody matches goes to the backend. */
	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE,
		       4, DOORBELL, 2, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_EQ(2ULL, c.data);
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);
	close(q0);
	close(q1);
	close(port);
}

TEST_F(dev, ioeventfd_bad)
{
	struct ioreq_ioeventfd a = { .size = sizeof(a) };
	int efd = eventfd(0, EFD_CLOEXEC), p[2], be2;
	const __u32 mm = IOREQ_SPACE_MMIO, dm = IOREQ_IOEVENTFD_DATAMATCH;
	int be = self->e.be;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pipe(p));
	EXPECT_ERRNO(EBADF, __ioeventfd(be, -1, 0, mm, DOORBELL, 4, 0));
	EXPECT_ERRNO(EINVAL, __ioeventfd(be, p[0], 0, mm, DOORBELL, 4, 0));
	EXPECT_ERRNO(EINVAL, __ioeventfd(be, efd, 0, mm, DOORBELL, 3, 0));
	EXPECT_ERRNO(EINVAL, __ioeventfd(be, efd, 0, IOREQ_SPACE_PCI_CONFIG,
					 DOORBELL, 4, 0));
	EXPECT_ERRNO(EINVAL, __ioeventfd(be, efd, 4, mm, DOORBELL, 4, 0));
	/* datamatch without the flag, or wider than the write */
	EXPECT_ERRNO(EINVAL, __ioeventfd(be, efd, 0, mm, DOORBELL, 4, 1));
	EXPECT_ERRNO(EINVAL, __ioeventfd(be, efd, dm, mm, DOORBELL, 1,
					 0x100));
	/* outside the session's regions, or across a region's end */
	EXPECT_ERRNO(EINVAL, __ioeventfd(be, efd, 0, mm, MMIO_BASE - 4, 4, 0));
	EXPECT_ERRNO(EINVAL, __ioeventfd(be, efd, 0, mm,
					 MMIO_BASE + MMIO_LEN - 2, 4, 0));
	be2 = ioreq_env_session(&self->e);
	EXPECT_ERRNO(EINVAL, __ioeventfd(be2, efd, 0, mm, DOORBELL, 4, 0));
	close(be2);

	ASSERT_ERRNO(0, __ioeventfd(be, efd, dm, mm, DOORBELL, 4, 7));
	/* the same writes twice */
	EXPECT_ERRNO(EEXIST, __ioeventfd(be, efd, dm, mm, DOORBELL, 4, 7));
	EXPECT_ERRNO(EEXIST, __ioeventfd(be, efd, 0, mm, DOORBELL, 4, 0));
	EXPECT_ERRNO(ENOENT, __ioeventfd(be, efd, IOREQ_IOEVENTFD_DEASSIGN,
					 mm, DOORBELL, 4, 0));
	EXPECT_ERRNO(ENOENT, __ioeventfd(be, efd,
					 IOREQ_IOEVENTFD_DEASSIGN | dm, mm,
					 DOORBELL, 4, 8));
	a.fd = efd;
	a.space = mm;
	a.len = 4;
	a.addr = DOORBELL + 8;
	a.__reserved = 1;
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl(be, IOREQ_IOEVENTFD, &a));
	a.__reserved = 0;
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl_sized(be, IOREQ_IOEVENTFD, &a,
			sizeof(a), offsetofend(struct ioreq_ioeventfd,
					       datamatch) - 1, 0));
	ASSERT_ERRNO(0, __ioeventfd(be, efd, IOREQ_IOEVENTFD_DEASSIGN | dm,
				    mm, DOORBELL, 4, 7));
	close(p[0]);
	close(p[1]);
	close(efd);
}

/* A binding dies with its region. */
TEST_F(dev, ioeventfd_region_release)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	__u8 status;

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, 0, IOREQ_SPACE_MMIO,
				    DOORBELL, 4, 0));
	ioreq_release(self->e.be, self->mmio);
	ASSERT_ERRNO(0, hv_write(&self->e, IOREQ_SPACE_MMIO, DOORBELL, 4, 1,
				 &status));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, status);
	ASSERT_EQ(0ULL, efd_count(efd));
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 1,
		    &self->mmio);
	EXPECT_ERRNO(ENOENT, __ioeventfd(self->e.be, efd,
					 IOREQ_IOEVENTFD_DEASSIGN,
					 IOREQ_SPACE_MMIO, DOORBELL, 4, 0));
	close(efd);
}

/* ---- guest memory ------------------------------------------------------- */

/*
 * The exchange a virtio device makes with its driver: the guest fills a
 * page, posts its guest-physical address to a device register, the
 * backend maps that page, checks it, writes its answer, and completes the
 * register write; the guest then finds the answer in its own page.
 */
TEST_F(dev, memory_mailbox)
{
	const long pg = self->page;
	const unsigned int idx = 5;
	__u64 gpa = RAM_GPA + idx * pg;
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	__u8 *map;
	long i;

	setup_ram();
	for (i = 0; i < pg; i++)
		self->guest[idx * pg + i] = (__u8)(i * 13 + 1);

	ioreq_vcpu_run(&v, &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE,
		       8, MAILBOX, gpa, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_EQ(MAILBOX - MMIO_BASE, c.offset);
	ASSERT_EQ(gpa, c.data);

	map = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->e.be,
		   c.data);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	for (i = 0; i < pg; i++)
		ASSERT_EQ((__u8)(i * 13 + 1), map[i]) TH_LOG("byte %ld", i);
	for (i = 0; i < pg; i++)
		map[i] = (__u8)~map[i];
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);
	for (i = 0; i < pg; i++)
		ASSERT_EQ((__u8)~(i * 13 + 1), self->guest[idx * pg + i]);
	ASSERT_EQ(0, munmap(map, pg));
}

TEST_F(dev, memory_copy)
{
	const long pg = self->page;
	__u8 buf[300], back[300];
	unsigned int i;
	int ram2;

	setup_ram();
	/* A second range right after the first: copies may span both. */
	ram2 = memfd_create("ioreq-guest-ram2", MFD_CLOEXEC);
	ASSERT_LE(0, ram2);
	ASSERT_EQ(0, ftruncate(ram2, 4 * pg));
	ASSERT_ERRNO(0, __ioreq_vmm_add_memory(self->e.hv.fd, ram2,
				     RAM_GPA + RAM_PAGES * pg, 2 * pg,
				     2 * pg));

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (__u8)(i ^ 0xa5);
	/* Unaligned, across a page, across the two ranges. */
	ASSERT_ERRNO(0, __guest_rw(self->e.be, IOREQ_WRITE_GUEST,
				   RAM_GPA + 3 * pg - 100, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(self->guest + 3 * pg - 100, buf, sizeof(buf)));
	ASSERT_ERRNO(0, __guest_rw(self->e.be, IOREQ_WRITE_GUEST,
				   RAM_GPA + RAM_PAGES * pg - 150, buf,
				   sizeof(buf)));
	memset(back, 0, sizeof(back));
	ASSERT_ERRNO(0, __guest_rw(self->e.be, IOREQ_READ_GUEST,
				   RAM_GPA + RAM_PAGES * pg - 150, back,
				   sizeof(back)));
	ASSERT_EQ(0, memcmp(buf, back, sizeof(buf)));
	ASSERT_EQ(0, memcmp(self->guest + RAM_PAGES * pg - 150, buf, 150));
	/* The second range starts at offset 2 pages of its memfd. */
	ASSERT_EQ((ssize_t)(sizeof(buf) - 150),
		  pread(ram2, back, sizeof(buf) - 150, 2 * pg));
	ASSERT_EQ(0, memcmp(buf + 150, back, sizeof(buf) - 150));
	close(ram2);
}

TEST_F(dev, memory_bad)
{
	const long pg = self->page;
	const size_t len = RAM_PAGES * pg;
	__u8 buf[16];
	void *map;
	int fd, i;

	/* Nothing lent yet. */
	EXPECT_ERRNO(ENXIO, __guest_rw(self->e.be, IOREQ_READ_GUEST, RAM_GPA,
				       buf, sizeof(buf)));
	setup_ram();
	EXPECT_ERRNO(EINVAL, __guest_rw(self->e.be, IOREQ_READ_GUEST, RAM_GPA,
					buf, 0));
	EXPECT_ERRNO(EINVAL, __guest_rw(self->e.be, IOREQ_READ_GUEST, RAM_GPA,
					buf, (1 << 20) + 1));
	EXPECT_ERRNO(EINVAL, __guest_rw(self->e.be, IOREQ_READ_GUEST,
					~0ULL - 4, buf, sizeof(buf)));
	EXPECT_ERRNO(ENXIO, __guest_rw(self->e.be, IOREQ_READ_GUEST,
				       RAM_GPA + len - 8, buf, sizeof(buf)));
	EXPECT_ERRNO(ENXIO, __guest_rw(self->e.be, IOREQ_WRITE_GUEST,
				       RAM_GPA - 8, buf, sizeof(buf)));
	EXPECT_ERRNO(EFAULT, __guest_rw(self->e.be, IOREQ_READ_GUEST, RAM_GPA,
					NULL, sizeof(buf)));

	map = mmap(NULL, pg, PROT_READ, MAP_SHARED, self->e.be, RAM_GPA - pg);
	EXPECT_EQ(MAP_FAILED, map);
	EXPECT_EQ(ENXIO, errno);
	map = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, self->e.be,
		   RAM_GPA + len - pg);
	EXPECT_EQ(MAP_FAILED, map);
	EXPECT_EQ(ENXIO, errno);

	/* IOREQ_VMM_ADD_MEMORY checks */
	fd = memfd_create("ioreq-x", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4 * pg));
	EXPECT_ERRNO(EINVAL, __ioreq_vmm_add_memory(self->e.hv.fd, fd, 0x1001, pg, 0));
	EXPECT_ERRNO(EINVAL, __ioreq_vmm_add_memory(self->e.hv.fd, fd, 0, pg + 1, 0));
	EXPECT_ERRNO(EINVAL, __ioreq_vmm_add_memory(self->e.hv.fd, fd, 0, pg, 3));
	EXPECT_ERRNO(EINVAL, __ioreq_vmm_add_memory(self->e.hv.fd, fd, 0, 0, 0));
	EXPECT_ERRNO(EINVAL, __ioreq_vmm_add_memory(self->e.hv.fd, fd, -pg, 2 * pg, 0));
	EXPECT_ERRNO(EEXIST, __ioreq_vmm_add_memory(self->e.hv.fd, fd, RAM_GPA + pg, pg,
					  0));
	EXPECT_ERRNO(EBADF, __ioreq_vmm_add_memory(self->e.hv.fd, -1, 0, pg, 0));
	EXPECT_ERRNO(EINVAL, __ioreq_vmm_add_memory(self->e.hv.fd,
					  self->e.be, 0, pg, 0));
	i = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, i);
	EXPECT_ERRNO(EINVAL, __ioreq_vmm_add_memory(self->e.hv.fd, i, 0, pg, 0));
	close(i);
	/* 64 ranges per guest: the fixture's and 63 more. */
	for (i = 0; i < 63; i++)
		ASSERT_ERRNO(0, __ioreq_vmm_add_memory(self->e.hv.fd, fd, i * pg, pg, 0));
	EXPECT_ERRNO(ENOSPC, __ioreq_vmm_add_memory(self->e.hv.fd, fd, 64 * pg, pg, 0));
	close(fd);
}

/* A mapping outlives the session and the guest, as mmap() does. */
TEST_F(dev, memory_outlives_close)
{
	const long pg = self->page;
	int efd = eventfd(0, EFD_CLOEXEC);
	__u8 *map;

	ASSERT_LE(0, efd);
	setup_ram();
	self->guest[0] = 0x42;
	map = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->e.be,
		   RAM_GPA);
	ASSERT_NE(MAP_FAILED, map);
	/* Everything live at once, then the session goes. */
	ASSERT_ERRNO(0, __irqfd(self->e.be, efd, 0, &irq_msi));
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, 0, IOREQ_SPACE_MMIO,
				    DOORBELL, 4, 0));
	close(self->e.be);
	self->e.be = -1;
	ioreq_hv_destroy(&self->e.hv);
	ASSERT_EQ(0x42, map[0]);
	map[1] = 0x43;
	ASSERT_EQ(0x43, self->guest[1]);
	ASSERT_EQ(0, munmap(map, pg));
	close(efd);
}

/* ---- accesses written to the guest's fd ---------------------------------- */

/* Write @n access records to the guest's fd: bytes written or -errno. */
static ssize_t hv_submit(int hvfd, const struct ioreq_vmm_access *a,
			 unsigned int n)
{
	ssize_t ret = write(hvfd, a, n * sizeof(*a));

	return ret < 0 ? -errno : ret;
}

#define ASSERT_SUBMIT(_hvfd, _a, _n) \
	ASSERT_RET((long)((_n) * sizeof(*(_a))), hv_submit(_hvfd, _a, _n))

/* The next event must be the end of @vcpu's access, with @status. */
#define ASSERT_ENDED(_hvfd, _ev, _vcpu, _status) do {			\
	ASSERT_ERRNO(0, next_event(_hvfd, _ev, IOREQ_WAIT_MS));		\
	ASSERT_EQ((__u32)IOREQ_VMM_EVENT_DONE, (_ev)->type);		\
	ASSERT_EQ((__u32)(_vcpu), (_ev)->done.vcpu);			\
	ASSERT_EQ((__u8)(_status), (_ev)->done.status)			\
		TH_LOG("status %s", ioreq_status_name((_ev)->done.status));\
	ASSERT_EQ(0U, (_ev)->lost);					\
} while (0)

/* ... and carry the access it ended, with @data. */
#define ASSERT_ENDED_AS(_ev, _space, _op, _len, _addr, _data) do {	\
	ASSERT_EQ((__u8)(_space), (_ev)->done.space);			\
	ASSERT_EQ((__u8)(_op), (_ev)->done.op);				\
	ASSERT_EQ((__u8)(_len), (_ev)->done.len);			\
	ASSERT_EQ((__u64)(_addr), (_ev)->done.addr);			\
	ASSERT_EQ((__u64)(_data), (_ev)->done.data);			\
} while (0)

TEST_F(dev, written_accesses)
{
	struct ioreq_vmm_access a[2];
	struct ioreq_vmm_event ev;
	struct ioreq_cmd c[2];
	unsigned int i;

	/* A read on vcpu 0 and a write on vcpu 1, handed over at once. */
	ioreq_access_init(&a[0], 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			  MMIO_BASE + 0x10, 0, 0);
	ioreq_access_init(&a[1], 1, IOREQ_SPACE_PIO, IOREQ_OP_WRITE, 2,
			  PIO_BASE + 2, 0xabcd1234, 0);
	ASSERT_SUBMIT(self->e.hv.fd, a, 2);
	ASSERT_RET(2, ioreq_read_n(self->e.be, c, 2, IOREQ_WAIT_MS));
	for (i = 0; i < 2; i++) {
		__u32 vcpu = IOREQ_CMD_VCPU(c[i].id);

		if (vcpu == 0) {
			ASSERT_CMD_MATCHES(&c[i], IOREQ_OP_READ, 4, 0, 1,
					   0x10, 0);
			c[i].data = 0x1122334455667788ULL;
		} else {
			ASSERT_CMD_MATCHES(&c[i], IOREQ_OP_WRITE, 2, 1, 2, 2,
					   0x1234);
		}
	}
	/* Nothing ends before its answer. */
	ASSERT_NO_EVENT(self->e.hv.fd);
	/* The write's answer first: the events come in the order they end. */
	if (IOREQ_CMD_VCPU(c[0].id) == 0) {
		struct ioreq_cmd t = c[0];

		c[0] = c[1];
		c[1] = t;
	}
	ioreq_respond(self->e.be, &c[0]);
	ASSERT_ENDED(self->e.hv.fd, &ev, 1, IOREQ_VMM_STATUS_DONE);
	ASSERT_ENDED_AS(&ev, IOREQ_SPACE_PIO, IOREQ_OP_WRITE, 2, PIO_BASE + 2,
			0xabcd1234ULL);
	ioreq_respond(self->e.be, &c[1]);
	ASSERT_ENDED(self->e.hv.fd, &ev, 0, IOREQ_VMM_STATUS_DONE);
	ASSERT_ENDED_AS(&ev, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			MMIO_BASE + 0x10, 0x55667788ULL);
	ASSERT_NO_EVENT(self->e.hv.fd);
}

TEST_F(dev, written_unclaimed_and_doorbell)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct ioreq_vmm_access a[2];
	struct ioreq_vmm_event ev;

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, 0, IOREQ_SPACE_MMIO,
				    DOORBELL, 4, 0));
	/* Neither needs the backend: each ends at once, in order. */
	ioreq_access_init(&a[0], 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 2,
			  0xfee00000ULL, 0, 0);
	ioreq_access_init(&a[1], 1, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE, 4,
			  DOORBELL, 7, 0);
	ASSERT_SUBMIT(self->e.hv.fd, a, 2);
	ASSERT_ENDED(self->e.hv.fd, &ev, 0, IOREQ_VMM_STATUS_UNCLAIMED);
	ASSERT_EQ(0xffffULL, ev.done.data);
	ASSERT_ENDED(self->e.hv.fd, &ev, 1, IOREQ_VMM_STATUS_DONE);
	ASSERT_EQ(7ULL, ev.done.data);
	ASSERT_EQ(1ULL, efd_count(efd));
	ioreq_expect_none(self->e.be);
	close(efd);
}

TEST_F(dev, written_vcpu_busy)
{
	struct ioreq_vmm_access a, s;
	struct ioreq_vmm_event ev;
	struct ioreq_cmd c;

	ioreq_access_init(&a, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			  MMIO_BASE, 0, 0);
	ASSERT_SUBMIT(self->e.hv.fd, &a, 1);
	/* One access per vcpu, written or not, until its end is read. */
	ASSERT_ERRNO(EBUSY, hv_submit(self->e.hv.fd, &a, 1));
	ASSERT_ERRNO(EBUSY, ioreq_hv_access(&self->e.hv, &s, 0,
					    IOREQ_SPACE_MMIO, IOREQ_OP_READ,
					    4, 0xfee00000ULL, 0, 0));
	ioreq_expect_cmd(self->e.be, &c);
	c.data = 9;
	ioreq_respond(self->e.be, &c);
	ASSERT_EQ(POLLIN, ioreq_poll(self->e.hv.fd, POLLIN, IOREQ_WAIT_MS));
	ASSERT_ERRNO(EBUSY, hv_submit(self->e.hv.fd, &a, 1));
	ASSERT_ENDED(self->e.hv.fd, &ev, 0, IOREQ_VMM_STATUS_DONE);
	ASSERT_EQ(9ULL, ev.done.data);
	/* Free again, for either way of accessing. */
	ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &s, 0, IOREQ_SPACE_MMIO,
					IOREQ_OP_READ, 4, 0xfee00000ULL, 0,
					0));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, s.status);
	ASSERT_SUBMIT(self->e.hv.fd, &a, 1);
	ioreq_expect_cmd(self->e.be, &c);
	ioreq_respond(self->e.be, &c);
	ASSERT_ENDED(self->e.hv.fd, &ev, 0, IOREQ_VMM_STATUS_DONE);
}

TEST_F(dev, written_bad)
{
	struct ioreq_vmm_access a[2], b;
	struct ioreq_vmm_event ev;
	struct ioreq_cmd c;
	int i, raw;

	ioreq_access_init(&a[0], 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			  0xfee00000ULL, 0, 0);
	ASSERT_ERRNO(EINVAL, write(self->e.hv.fd, a, 0) < 0 ? -errno : 0);
	ASSERT_ERRNO(EINVAL, hv_submit(self->e.hv.fd, a, 0));
	ASSERT_ERRNO(EINVAL, write(self->e.hv.fd, a, sizeof(a[0]) - 1) < 0 ?
			     -errno : 0);
	ASSERT_ERRNO(EINVAL, write(self->e.hv.fd, a, sizeof(a[0]) + 8) < 0 ?
			     -errno : 0);
	ASSERT_ERRNO(EFAULT, write(self->e.hv.fd, (void *)8, sizeof(a[0])) < 0 ?
			     -errno : 0);
	/* Each field a record must not have, on its own. */
	for (i = 0; i < 11; i++) {
		b = a[0];
		if (i == 0)
			b.size = sizeof(b) - 8;
		else if (i == 1)
			b.size = sizeof(b) + 8;
		else if (i == 2)
			b.flags = 1;
		else if (i == 3)
			b.status = 1;
		else if (i == 4)
			b.timeout_ms = 100;	/* no timeout for these */
		else if (i == 5)
			b.__reserved = 1;
		else if (i == 6)
			b.vcpu = NR_VCPUS;
		else if (i == 7)
			b.space = IOREQ_SPACE_PIO + 1;
		else if (i == 8)
			b.op = IOREQ_OP_WRITE + 1;
		else if (i == 9)
			b.len = 3;
		else
			b.addr = ~0ULL - 1;	/* wraps */
		ASSERT_ERRNO_MSG(EINVAL, hv_submit(self->e.hv.fd, &b, 1),
				 "case %d", i);
	}
	ASSERT_NO_EVENT(self->e.hv.fd);
	/* A refused record stops the write after those before it. */
	ioreq_access_init(&a[0], 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			  MMIO_BASE, 0, 0);
	a[1] = a[0];
	a[1].vcpu = 5;
	ASSERT_SUBMIT(self->e.hv.fd, a, 1);
	ASSERT_ERRNO(EBUSY, hv_submit(self->e.hv.fd, a, 2));
	ioreq_expect_cmd(self->e.be, &c);
	ioreq_respond(self->e.be, &c);
	ASSERT_ENDED(self->e.hv.fd, &ev, 0, IOREQ_VMM_STATUS_DONE);
	a[0].vcpu = 1;
	a[1].vcpu = NR_VCPUS;
	ASSERT_RET((long)sizeof(a[0]), hv_submit(self->e.hv.fd, a, 2));
	ioreq_expect_cmd(self->e.be, &c);
	ioreq_expect_none(self->e.be);
	ioreq_respond(self->e.be, &c);
	ASSERT_ENDED(self->e.hv.fd, &ev, 1, IOREQ_VMM_STATUS_DONE);
	/* A fd with no guest. */
	raw = ioreq_open(IOREQ_VMM_DEV, O_RDWR);
	ASSERT_LE(0, raw);
	ASSERT_ERRNO(ENXIO, hv_submit(raw, a, 1));
	close(raw);
}

TEST_F(dev, written_end_survives_efault)
{
	struct ioreq_vmm_access a;
	struct ioreq_vmm_event ev;
	struct ioreq_cmd c;

	ioreq_access_init(&a, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 8,
			  MMIO_BASE + 8, 0, 0);
	ASSERT_SUBMIT(self->e.hv.fd, &a, 1);
	ioreq_expect_cmd(self->e.be, &c);
	c.data = 0x0102030405060708ULL;
	ioreq_respond(self->e.be, &c);
	ASSERT_EQ(POLLIN, ioreq_poll(self->e.hv.fd, POLLIN, IOREQ_WAIT_MS));
	ASSERT_ERRNO(EFAULT, read(self->e.hv.fd, (void *)8, sizeof(ev)) < 0 ?
			     -errno : 0);
	ASSERT_ENDED(self->e.hv.fd, &ev, 1, IOREQ_VMM_STATUS_DONE);
	ASSERT_EQ(0x0102030405060708ULL, ev.done.data);
}

TEST_F(dev, written_ends_before_interrupts)
{
	struct ioreq_vmm_access a;
	struct ioreq_vmm_event ev[3];
	struct ioreq_cmd c;

	ioreq_access_init(&a, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			  MMIO_BASE, 0, 0);
	ASSERT_SUBMIT(self->e.hv.fd, &a, 1);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_ERRNO(0, __inject(self->e.be, 1, &irq_line));
	ioreq_respond(self->e.be, &c);
	ASSERT_ERRNO(0, __inject(self->e.be, 0, &irq_line));
	/* One read takes all three, the end of the access first. */
	ASSERT_RET((long)sizeof(ev), read(self->e.hv.fd, ev, sizeof(ev)));
	ASSERT_EQ((__u32)IOREQ_VMM_EVENT_DONE, ev[0].type);
	ASSERT_EQ(0U, ev[0].done.vcpu);
	ASSERT_EQ((__u32)IOREQ_VMM_EVENT_IRQ, ev[1].type);
	ASSERT_EQ(1U, ev[1].level);
	ASSERT_EQ((__u32)IOREQ_VMM_EVENT_IRQ, ev[2].type);
	ASSERT_EQ(0U, ev[2].level);
}

TEST_F(dev, written_aborted)
{
	struct ioreq_vmm_access a[2];
	struct ioreq_vmm_event ev;
	struct ioreq_cmd c[2];

	/* One read, never answered; one write in a region released. */
	ioreq_access_init(&a[0], 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			  MMIO_BASE, 0, 0);
	ioreq_access_init(&a[1], 1, IOREQ_SPACE_PIO, IOREQ_OP_WRITE, 1,
			  PIO_BASE, 3, 0);
	ASSERT_SUBMIT(self->e.hv.fd, a, 2);
	ASSERT_RET(2, ioreq_read_n(self->e.be, c, 2, IOREQ_WAIT_MS));
	ioreq_release(self->e.be, self->pio);
	ASSERT_ENDED(self->e.hv.fd, &ev, 1, IOREQ_VMM_STATUS_ABORTED);
	/* The backend dies with the read in hand. */
	close(self->e.be);
	self->e.be = -1;
	ASSERT_ENDED(self->e.hv.fd, &ev, 0, IOREQ_VMM_STATUS_ABORTED);
	ASSERT_EQ(0xffffffffULL, ev.done.data);
	ASSERT_NO_EVENT(self->e.hv.fd);
}

TEST_F(dev, written_guest_closed)
{
	struct ioreq_vmm_access a[2];
	struct ioreq_cmd c;

	/* The VMM goes with two accesses out: nothing leaks or hangs. */
	ioreq_access_init(&a[0], 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			  MMIO_BASE, 0, 0);
	ioreq_access_init(&a[1], 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			  MMIO_BASE + 4, 0, 0);
	ASSERT_SUBMIT(self->e.hv.fd, a, 2);
	ioreq_expect_cmd(self->e.be, &c);
	ioreq_hv_destroy(&self->e.hv);
	self->e.hv.fd = -1;
	/* The answer to a guest gone is refused, as for a vcpu's access. */
	ASSERT_ERRNO(ENODEV, __ioreq_write_cmds(self->e.be, &c, 1));
}

/*
 * More accesses than the kernel takes at once (8), both ways, and buffers
 * that fault part way: the records before the fault are started, the
 * events before it returned, and nothing after it is lost.
 */
TEST(written_many_and_faults)
{
	enum { N = 20 };
	const long pg = sysconf(_SC_PAGESIZE);
	struct ioreq_vmm_access a[N], *edge;
	struct ioreq_vmm_event ev[N], *evedge;
	struct ioreq_cmd c[N];
	struct ioreq_env e;
	unsigned int i, got;
	bool seen[N] = { false };
	__u8 *two;
	__u32 id;
	int n;

	ioreq_env_setup(&e, &ioreq_hv_vmm, N);
	ioreq_claim(e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 1, &id);
	for (i = 0; i < N; i++)
		ioreq_access_init(&a[i], i, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
				  MMIO_BASE + 4 * i, 0, 0);
	ASSERT_SUBMIT(e.hv.fd, a, N);
	ASSERT_RET(N, ioreq_read_n(e.be, c, N, IOREQ_WAIT_MS));
	for (i = 0; i < N; i++)
		c[i].data = c[i].offset * 3;
	ASSERT_RET((long)(N * IOREQ_REC), __ioreq_write_cmds(e.be, c, N));
	for (got = 0; got < N; got += n) {
		ASSERT_EQ(POLLIN, ioreq_poll(e.hv.fd, POLLIN, IOREQ_WAIT_MS));
		n = read(e.hv.fd, ev, sizeof(ev));
		ASSERT_LT(0, n);
		ASSERT_EQ(0, n % (int)sizeof(ev[0]));
		n /= sizeof(ev[0]);
		for (i = 0; i < (unsigned int)n; i++) {
			ASSERT_EQ((__u32)IOREQ_VMM_EVENT_DONE, ev[i].type);
			ASSERT_GT(N, ev[i].done.vcpu);
			ASSERT_FALSE(seen[ev[i].done.vcpu]);
			seen[ev[i].done.vcpu] = true;
			ASSERT_EQ(IOREQ_VMM_STATUS_DONE, ev[i].done.status);
			ASSERT_EQ(ev[i].done.vcpu * 4ULL * 3, ev[i].done.data);
		}
	}
	ASSERT_EQ(N, got);

	/* Three records, the third across the end of the mapping. */
	two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, munmap(two + pg, pg));
	edge = (struct ioreq_vmm_access *)(two + pg - 2 * sizeof(*a) - 8);
	memcpy(edge, a, 2 * sizeof(*edge));
	memcpy(edge + 2, &a[2], 8);	/* what fits of the third */
	ASSERT_EQ((ssize_t)(2 * sizeof(*a)),
		  write(e.hv.fd, edge, 3 * sizeof(*edge)));
	ASSERT_RET(2, ioreq_read_n(e.be, c, 2, IOREQ_WAIT_MS));
	ioreq_expect_none(e.be);
	/* The third's vcpu was never taken. */
	ASSERT_SUBMIT(e.hv.fd, &a[2], 1);
	ASSERT_RET(1, ioreq_read_n(e.be, c + 2, 1, IOREQ_WAIT_MS));
	ASSERT_RET((long)(3 * IOREQ_REC), __ioreq_write_cmds(e.be, c, 3));

	/* Three ends, room for two before the fault: the third stays. */
	evedge = (struct ioreq_vmm_event *)(two + pg) - 2;
	for (got = 0; got < 2;) {
		ASSERT_EQ(POLLIN, ioreq_poll(e.hv.fd, POLLIN, IOREQ_WAIT_MS));
		n = read(e.hv.fd, evedge + got, (3 - got) * sizeof(*ev));
		ASSERT_LT(0, n) TH_LOG("read: %s", strerror(errno));
		got += n / sizeof(*ev);
	}
	ASSERT_EQ(2U, got);
	ASSERT_EQ(POLLIN, ioreq_poll(e.hv.fd, POLLIN, IOREQ_WAIT_MS));
	ASSERT_EQ((long)sizeof(ev[0]), read(e.hv.fd, ev, sizeof(ev)));
	ASSERT_EQ((__u32)IOREQ_VMM_EVENT_DONE, ev[0].type);
	ASSERT_EQ(0, munmap(two, pg));
	ioreq_env_teardown(&e);
}

int main(int argc, char **argv)
{
	ioreq_require_backend();
	return test_harness_run(argc, argv);
}
