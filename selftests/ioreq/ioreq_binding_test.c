// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq binding tests: the fast path of a VMM provider.  The test plays
 * both the VMM, on /dev/ioreq-vmm (IOREQ_VMM_BINDING_NEXT and _ACK), and
 * the backend, on /dev/ioreq (IOREQ_IOEVENTFD, IOREQ_IRQFD), the way
 * tools/kvm-vmm registers what it learns with KVM_IOEVENTFD and KVM_IRQFD.
 * Bindings made, taken, given back, moved, removed (deassign, region
 * release, session closed, the backend killed), the VMM not taking them
 * (the kernel still delivers), the VMM not answering (the removal waits
 * bind_timeout_ms), the VMM closing, and every error of the two ioctls.
 */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "ioreq_util.h"

#define MMIO_BASE	0xfe200000ULL
#define MMIO_LEN	0x1000ULL
#define DOORBELL	(MMIO_BASE + 0x40)
#define DOORBELL2	(MMIO_BASE + 0x80)

static const struct ioreq_irq irq_msi = {
	.kind = IOREQ_IRQ_MSI, .msi_addr = 0xfee00000, .msi_data = 0x4041,
};
static const struct ioreq_irq irq_line = {
	.kind = IOREQ_IRQ_LINE, .line = 17,
};

FIXTURE(bind) {
	struct ioreq_env e;
	__u32 mmio;
};

FIXTURE_SETUP(bind)
{
	ioreq_env_setup(&self->e, &ioreq_hv_vmm, 1);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 1,
		    &self->mmio);
}

FIXTURE_TEARDOWN(bind)
{
	/* The VMM first: removals of bindings it holds then never wait. */
	ioreq_hv_destroy(&self->e.hv);
	ioreq_env_teardown(&self->e);
}

/* ---- helpers ----------------------------------------------------------- */

static int __ioeventfd(int fd, int efd, __u32 flags, __u64 addr,
		       __u64 datamatch)
{
	struct ioreq_ioeventfd a = {
		.size = sizeof(a),
		.flags = flags,
		.fd = efd,
		.space = IOREQ_SPACE_MMIO,
		.len = 4,
		.addr = addr,
		.datamatch = datamatch,
	};

	return __ioreq_ioctl(fd, IOREQ_IOEVENTFD, &a);
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

static int __next(int hvfd, struct ioreq_vmm_binding *b)
{
	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	return __ioreq_ioctl(hvfd, IOREQ_VMM_BINDING_NEXT, b);
}

static int __ack(int hvfd, __u32 flags, __u64 id)
{
	struct ioreq_vmm_binding_ack a = {
		.size = sizeof(a),
		.flags = flags,
		.id = id,
	};

	return __ioreq_ioctl(hvfd, IOREQ_VMM_BINDING_ACK, &a);
}

static int new_efd(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

static __u64 efd_count(int efd)
{
	__u64 v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void efd_signal(int efd)
{
	__u64 one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		abort();
}

/* Do the two descriptors refer to one eventfd? Signal one, read the other. */
static bool same_eventfd(int a, int b)
{
	efd_count(b);
	efd_signal(a);
	return efd_count(b) == 1;
}

/* A 4-byte write of vcpu 0; its status. */
static int hv_write(struct ioreq_env *e, __u64 addr, __u64 data, __u8 *status)
{
	struct ioreq_vmm_access a;
	int ret;

	ret = ioreq_hv_access(&e->hv, &a, 0, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE,
			      4, addr, data, 1000);
	*status = a.status;
	return ret;
}

/* The next interrupt event read() gives within @ms: 0 or -errno. */
static int next_irq(int hvfd, struct ioreq_vmm_event *ev, int ms)
{
	int ret = ioreq_poll(hvfd, POLLIN, ms);

	if (ret < 0)
		return ret;
	if (!(ret & POLLIN))
		return -ETIMEDOUT;
	return read(hvfd, ev, sizeof(*ev)) == sizeof(*ev) ? 0 : -EIO;
}

/* A thread doing one removal (or any call) that may block on the VMM. */
struct remover {
	pthread_t thread;
	int (*fn)(struct remover *r);
	int fd, efd;
	__u64 addr;
	int ret;
	long ms;
	int done;
};

static void *remover_fn(void *arg)
{
	struct remover *r = arg;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->ret = r->fn(r);
	r->ms = ioreq_ms_since(&t0);
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int deassign_ioeventfd(struct remover *r)
{
	return __ioeventfd(r->fd, r->efd, IOREQ_IOEVENTFD_DEASSIGN, r->addr, 0);
}

/* Move the doorbell: deassign at r->addr, assign at DOORBELL2. */
static int move_ioeventfd(struct remover *r)
{
	int ret = deassign_ioeventfd(r);

	return ret ?: __ioeventfd(r->fd, r->efd, 0, DOORBELL2, 0);
}

static int release_region(struct remover *r)
{
	return __ioreq_release(r->fd, (__u32)r->addr);
}

static int close_session(struct remover *r)
{
	return close(r->fd) ? -errno : 0;
}

static void remover_start(struct remover *r, int (*fn)(struct remover *),
			  int fd, int efd, __u64 addr)
{
	memset(r, 0, sizeof(*r));
	r->fn = fn;
	r->fd = fd;
	r->efd = efd;
	r->addr = addr;
	if (pthread_create(&r->thread, NULL, remover_fn, r))
		abort();
}

static bool remover_done(struct remover *r)
{
	return __atomic_load_n(&r->done, __ATOMIC_SEQ_CST);
}

/* Wait for the thread; 0, or -ETIMEDOUT (still blocked after @ms). */
static int remover_join(struct remover *r, int ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!remover_done(r)) {
		if (ioreq_ms_since(&t0) > ms)
			return -ETIMEDOUT;
		ioreq_msleep(1);
	}
	pthread_join(r->thread, NULL);
	return 0;
}

/* The next binding event, which must be there (POLLPRI) within a while. */
#define ASSERT_NEXT(_hvfd, _b, _event, _kind) do {			\
	ASSERT_EQ(POLLPRI, ioreq_poll(_hvfd, POLLPRI, IOREQ_WAIT_MS)	\
		  & POLLPRI);						\
	ASSERT_ERRNO(0, __next(_hvfd, _b));				\
	ASSERT_EQ((__u32)(_event), (_b)->event);			\
	ASSERT_EQ((__u32)(_kind), (_b)->kind);				\
} while (0)

#define ASSERT_NO_NEXT(_hvfd) do {					\
	struct ioreq_vmm_binding __b;					\
	ASSERT_EQ(0, ioreq_poll(_hvfd, POLLPRI, 0));			\
	ASSERT_ERRNO(EAGAIN, __next(_hvfd, &__b));			\
} while (0)

/* ---- tests ------------------------------------------------------------- */

/* Each binding is offered once, in order, with the backend's eventfd. */
TEST_F(bind, offered)
{
	struct ioreq_vmm_binding b1, b2;
	int e1 = new_efd(), e2 = new_efd();

	ASSERT_LE(0, e1);
	ASSERT_LE(0, e2);
	ASSERT_NO_NEXT(self->e.hv.fd);
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, e1, IOREQ_IOEVENTFD_DATAMATCH,
				    DOORBELL, 3));
	ASSERT_ERRNO(0, __irqfd(self->e.be, e2, 0, &irq_msi));
	/* Bindings are no interrupt events: read() has nothing. */
	ASSERT_EQ(0, ioreq_poll(self->e.hv.fd, POLLIN, 0));

	ASSERT_NEXT(self->e.hv.fd, &b1, IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	ASSERT_EQ((__u32)IOREQ_SPACE_MMIO, b1.space);
	ASSERT_EQ(4U, b1.len);
	ASSERT_EQ((__u32)IOREQ_IOEVENTFD_DATAMATCH, b1.match);
	ASSERT_EQ(DOORBELL, b1.addr);
	ASSERT_EQ(3ULL, b1.datamatch);
	ASSERT_EQ(0U, b1.irq.kind);
	ASSERT_LE(0, b1.fd);
	ASSERT_NE(e1, b1.fd);
	ASSERT_EQ(FD_CLOEXEC, fcntl(b1.fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_TRUE(same_eventfd(b1.fd, e1));

	ASSERT_NEXT(self->e.hv.fd, &b2, IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IRQFD);
	ASSERT_EQ(0, memcmp(&irq_msi, &b2.irq, sizeof(irq_msi)));
	ASSERT_EQ(0ULL, b2.addr);
	ASSERT_EQ(0U, b2.len);
	ASSERT_LT(b1.id, b2.id);
	/* Not taken, the kernel's irqfd consumes the count: take it first. */
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b2.id));
	ASSERT_TRUE(same_eventfd(b2.fd, e2));
	ASSERT_NO_NEXT(self->e.hv.fd);

	/* Taken, or not: the backend's calls answer as before. */
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b1.id));
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b1.id));
	ASSERT_ERRNO(EEXIST, __ioeventfd(self->e.be, e2,
					 IOREQ_IOEVENTFD_DATAMATCH, DOORBELL,
					 3));
	/* Given back: the backend sees no difference either. */
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
			      b1.id));
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
			      b2.id));
	ASSERT_NO_NEXT(self->e.hv.fd);
	close(b1.fd);
	close(b2.fd);
	close(e1);
	close(e2);
}

/* A VMM that never asks: everything goes the slow way, nothing waits. */
TEST_F(bind, not_taken_falls_back)
{
	struct ioreq_vmm_event ev;
	struct ioreq_vmm_binding b;
	struct timespec t0;
	int e1 = new_efd(), e2 = new_efd();
	__u8 st;

	ASSERT_LE(0, e1);
	ASSERT_LE(0, e2);
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, e1, 0, DOORBELL, 0));
	ASSERT_ERRNO(0, __irqfd(self->e.be, e2, 0, &irq_line));
	ASSERT_EQ(POLLPRI, ioreq_poll(self->e.hv.fd, POLLPRI, 0));

	ASSERT_ERRNO(0, hv_write(&self->e, DOORBELL, 1, &st));
	ASSERT_EQ(IOREQ_VMM_STATUS_DONE, st);
	ASSERT_EQ(1ULL, efd_count(e1));
	efd_signal(e2);
	ASSERT_ERRNO(0, next_irq(self->e.hv.fd, &ev, IOREQ_WAIT_MS));
	ASSERT_EQ(1U, ev.level);
	ASSERT_ERRNO(0, next_irq(self->e.hv.fd, &ev, IOREQ_WAIT_MS));
	ASSERT_EQ(0U, ev.level);

	/* Read but not taken: the same. */
	ASSERT_NEXT(self->e.hv.fd, &b, IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	close(b.fd);
	ASSERT_ERRNO(0, hv_write(&self->e, DOORBELL, 1, &st));
	ASSERT_EQ(1ULL, efd_count(e1));

	/* Unread ones vanish with their binding; nobody waits. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_ERRNO(0, __irqfd(self->e.be, e2, IOREQ_IRQFD_DEASSIGN,
				&irq_line));
	ASSERT_GT(200, ioreq_ms_since(&t0));
	ASSERT_NO_NEXT(self->e.hv.fd);
	/* A read one gets its REMOVED event; not waiting on it is allowed. */
	close(e1);
	close(e2);
}

/* Taken irqfd: the kernel leaves the eventfd to the hypervisor. */
TEST_F(bind, taken_irqfd)
{
	struct ioreq_vmm_event ev;
	struct ioreq_vmm_binding b;
	int efd = new_efd();

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __irqfd(self->e.be, efd, 0, &irq_msi));
	ASSERT_NEXT(self->e.hv.fd, &b, IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IRQFD);
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b.id));
	efd_signal(efd);
	ASSERT_ERRNO(ETIMEDOUT, next_irq(self->e.hv.fd, &ev, 200));
	/* The count is the hypervisor's to consume (KVM's irqfd would). */
	ASSERT_EQ(1ULL, efd_count(b.fd));

	/* Given back: delivered through the event queue again. */
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
			      b.id));
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
			      b.id));
	efd_signal(efd);
	ASSERT_ERRNO(0, next_irq(self->e.hv.fd, &ev, IOREQ_WAIT_MS));
	ASSERT_EQ(0, memcmp(&irq_msi, &ev.irq, sizeof(irq_msi)));
	ASSERT_EQ(0ULL, efd_count(b.fd));
	/* And taken again: the VMM toggles as it likes. */
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b.id));
	efd_signal(efd);
	ASSERT_ERRNO(ETIMEDOUT, next_irq(self->e.hv.fd, &ev, 200));
	ASSERT_EQ(1ULL, efd_count(b.fd));
	/* Given back for good. */
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
			      b.id));
	ASSERT_NO_NEXT(self->e.hv.fd);
	close(b.fd);
	close(efd);
}

/* Removing a taken binding waits until the VMM released it. */
TEST_F(bind, removal_waits_for_release)
{
	struct ioreq_vmm_binding b, r;
	struct remover rm;
	int efd = new_efd();

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, 0, DOORBELL, 0));
	ASSERT_NEXT(self->e.hv.fd, &b, IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b.id));

	remover_start(&rm, deassign_ioeventfd, self->e.be, efd, DOORBELL);
	ASSERT_NEXT(self->e.hv.fd, &r, IOREQ_VMM_BINDING_REMOVED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	ASSERT_EQ(b.id, r.id);
	ASSERT_EQ(-1, r.fd);
	ASSERT_EQ(DOORBELL, r.addr);
	ioreq_msleep(100);
	ASSERT_FALSE(remover_done(&rm));
	/* Taking a removed binding changes nothing; releasing ends it. */
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b.id));
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
			      b.id));
	ASSERT_ERRNO(0, remover_join(&rm, IOREQ_JOIN_MS));
	ASSERT_EQ(0, rm.ret);
	ASSERT_ERRNO(ENOENT, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
				   b.id));
	ASSERT_NO_NEXT(self->e.hv.fd);
	close(b.fd);
	close(efd);
}

/* A moved binding is told removed, then added: never live twice. */
TEST_F(bind, moved)
{
	struct ioreq_vmm_binding b, r, n;
	struct remover rm;
	int efd = new_efd();
	__u8 st;

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, 0, DOORBELL, 0));
	ASSERT_NEXT(self->e.hv.fd, &b, IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b.id));

	remover_start(&rm, move_ioeventfd, self->e.be, efd, DOORBELL);
	ASSERT_NEXT(self->e.hv.fd, &r, IOREQ_VMM_BINDING_REMOVED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	ASSERT_EQ(b.id, r.id);
	/* The new place is not offered before the old one is released. */
	ioreq_msleep(100);
	ASSERT_NO_NEXT(self->e.hv.fd);
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
			      b.id));
	ASSERT_ERRNO(0, remover_join(&rm, IOREQ_JOIN_MS));
	ASSERT_EQ(0, rm.ret);
	ASSERT_NEXT(self->e.hv.fd, &n, IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	ASSERT_EQ(DOORBELL2, n.addr);
	ASSERT_NE(b.id, n.id);
	ASSERT_TRUE(same_eventfd(n.fd, efd));
	/* The kernel path follows the move too. */
	ASSERT_ERRNO(0, hv_write(&self->e, DOORBELL2, 5, &st));
	ASSERT_EQ(IOREQ_VMM_STATUS_DONE, st);
	ASSERT_EQ(1ULL, efd_count(efd));
	close(b.fd);
	close(n.fd);
	close(efd);
}

/* Removed before the VMM read it: never told. */
TEST_F(bind, removed_unread)
{
	int efd = new_efd();

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, 0, DOORBELL, 0));
	ASSERT_ERRNO(0, __irqfd(self->e.be, efd, 0, &irq_line));
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, IOREQ_IOEVENTFD_DEASSIGN,
				    DOORBELL, 0));
	ASSERT_ERRNO(0, __irqfd(self->e.be, efd, IOREQ_IRQFD_DEASSIGN,
				&irq_line));
	ASSERT_NO_NEXT(self->e.hv.fd);
	close(efd);
}

/* A region released takes its ioeventfds: REMOVED for the taken one. */
TEST_F(bind, region_released)
{
	struct ioreq_vmm_binding b, r;
	struct remover rm;
	int efd = new_efd();

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, 0, DOORBELL, 0));
	ASSERT_NEXT(self->e.hv.fd, &b, IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b.id));
	remover_start(&rm, release_region, self->e.be, -1, self->mmio);
	ASSERT_NEXT(self->e.hv.fd, &r, IOREQ_VMM_BINDING_REMOVED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	ASSERT_EQ(b.id, r.id);
	ioreq_msleep(100);
	ASSERT_FALSE(remover_done(&rm));
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
			      b.id));
	ASSERT_ERRNO(0, remover_join(&rm, IOREQ_JOIN_MS));
	ASSERT_EQ(0, rm.ret);
	close(b.fd);
	close(efd);
}

/* The backend killed: its close waits for the VMM's releases. */
TEST_F(bind, backend_killed)
{
	struct ioreq_vmm_binding b[2], r;
	int efd = new_efd(), ready[2], st, i;
	char c = 0;
	pid_t pid;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int be = ioreq_backend_open();
		__u32 id;

		if (be < 0 || __ioreq_attach(be, IOREQ_PROVIDER_VMM,
					     self->e.hv.guest_id, NULL) ||
		    __ioreq_claim(be, IOREQ_SPACE_MMIO, MMIO_BASE + MMIO_LEN,
				  MMIO_LEN, 0, 0, &id) ||
		    __ioeventfd(be, efd, 0, MMIO_BASE + MMIO_LEN, 0) ||
		    __irqfd(be, efd, 0, &irq_line))
			_exit(1);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_NEXT(self->e.hv.fd, &b[0], IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	ASSERT_NEXT(self->e.hv.fd, &b[1], IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IRQFD);
	for (i = 0; i < 2; i++)
		ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN,
				      b[i].id));
	kill(pid, SIGKILL);
	/* Both told; the child does not finish exiting before both are released. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(POLLPRI, ioreq_poll(self->e.hv.fd, POLLPRI,
					      IOREQ_WAIT_MS) & POLLPRI);
		ASSERT_ERRNO(0, __next(self->e.hv.fd, &r));
		ASSERT_EQ((__u32)IOREQ_VMM_BINDING_REMOVED, r.event);
		ASSERT_EQ(r.id == b[0].id ? b[0].kind : b[1].kind, r.kind);
		ASSERT_TRUE(r.id == b[0].id || r.id == b[1].id);
		ioreq_msleep(100);
		ASSERT_EQ(0, waitpid(pid, &st, WNOHANG));
		ASSERT_ERRNO(0, __ack(self->e.hv.fd,
				      IOREQ_VMM_BINDING_RELEASED, r.id));
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFSIGNALED(st));
	ASSERT_NO_NEXT(self->e.hv.fd);
	close(b[0].fd);
	close(b[1].fd);
	close(efd);
	close(ready[0]);
	close(ready[1]);
}

/* A VMM that never releases: the removal gives up after bind_timeout_ms. */
TEST_F(bind, release_timeout)
{
	unsigned long t = ioreq_param("ioreq_vmm", "bind_timeout_ms", 1000);
	struct ioreq_vmm_binding b, r;
	struct remover rm;
	int efd = new_efd();

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __irqfd(self->e.be, efd, 0, &irq_line));
	ASSERT_NEXT(self->e.hv.fd, &b, IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IRQFD);
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b.id));
	remover_start(&rm, close_session, self->e.be, -1, 0);
	self->e.be = -1;
	ASSERT_ERRNO(0, remover_join(&rm, t + IOREQ_JOIN_MS));
	ASSERT_EQ(0, rm.ret);
	ASSERT_LE((long)t * 9 / 10, rm.ms);
	/* Told all the same, and released late without harm. */
	ASSERT_NEXT(self->e.hv.fd, &r, IOREQ_VMM_BINDING_REMOVED,
		    IOREQ_VMM_BINDING_IRQFD);
	ASSERT_EQ(b.id, r.id);
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
			      b.id));
	close(b.fd);
	close(efd);
}

/* The VMM closing its fd ends a removal's wait at once. */
TEST_F(bind, vmm_closes)
{
	struct ioreq_vmm_binding b;
	struct remover rm;
	int efd = new_efd();

	ASSERT_LE(0, efd);
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, 0, DOORBELL, 0));
	ASSERT_NEXT(self->e.hv.fd, &b, IOREQ_VMM_BINDING_ADDED,
		    IOREQ_VMM_BINDING_IOEVENTFD);
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN, b.id));
	remover_start(&rm, deassign_ioeventfd, self->e.be, efd, DOORBELL);
	ASSERT_EQ(POLLPRI, ioreq_poll(self->e.hv.fd, POLLPRI, IOREQ_WAIT_MS));
	ioreq_msleep(50);
	ASSERT_FALSE(remover_done(&rm));
	close(self->e.hv.fd);
	self->e.hv.fd = -1;
	ASSERT_ERRNO(0, remover_join(&rm, IOREQ_JOIN_MS));
	ASSERT_EQ(0, rm.ret);
	ASSERT_GT(500, rm.ms);
	close(b.fd);
	close(efd);
}

TEST_F(bind, errors)
{
	struct ioreq_vmm_binding b;
	struct ioreq_vmm_binding_ack a = { .size = sizeof(a) };
	struct rlimit old, none;
	int nog, ret, efd = new_efd();

	ASSERT_LE(0, efd);
	/* NEXT */
	ASSERT_ERRNO(EAGAIN, __next(self->e.hv.fd, &b));
	memset(&b, 0, sizeof(b));
	b.flags = 1;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl_sized(self->e.hv.fd,
						 IOREQ_VMM_BINDING_NEXT, &b,
						 sizeof(b), sizeof(b), 0));
	b.flags = 0;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl_sized(self->e.hv.fd,
						 IOREQ_VMM_BINDING_NEXT, &b,
						 sizeof(b), sizeof(b) - 1, 0));
	ASSERT_ERRNO(E2BIG, __ioreq_ioctl_sized(self->e.hv.fd,
						IOREQ_VMM_BINDING_NEXT, &b,
						sizeof(b), sizeof(b) + 8, 1));
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(self->e.hv.fd,
					   IOREQ_VMM_BINDING_NEXT, NULL));
	nog = ioreq_open(IOREQ_VMM_DEV, O_RDWR);
	ASSERT_LE(0, nog);
	ASSERT_ERRNO(ENXIO, __next(nog, &b));
	ASSERT_ERRNO(ENXIO, __ack(nog, IOREQ_VMM_BINDING_TAKEN, 1));
	close(nog);

	/* No descriptor free: the event stays next. */
	ASSERT_ERRNO(0, __ioeventfd(self->e.be, efd, 0, DOORBELL, 0));
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	none = old;
	none.rlim_cur = 0;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &none));
	ret = __next(self->e.hv.fd, &b);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	ASSERT_ERRNO(EMFILE, ret);
	ASSERT_EQ(POLLPRI, ioreq_poll(self->e.hv.fd, POLLPRI, 0));
	ASSERT_ERRNO(0, __next(self->e.hv.fd, &b));
	ASSERT_EQ((__u32)IOREQ_VMM_BINDING_ADDED, b.event);
	ASSERT_EQ(DOORBELL, b.addr);

	/* ACK */
	ASSERT_ERRNO(EINVAL, __ack(self->e.hv.fd, 0, b.id));
	ASSERT_ERRNO(EINVAL, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN |
				   IOREQ_VMM_BINDING_RELEASED, b.id));
	ASSERT_ERRNO(EINVAL, __ack(self->e.hv.fd, 4, b.id));
	ASSERT_ERRNO(ENOENT, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_TAKEN,
				   b.id + 1000));
	ASSERT_ERRNO(ENOENT, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
				   0));
	a.flags = IOREQ_VMM_BINDING_TAKEN;
	a.id = b.id;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl_sized(self->e.hv.fd,
						 IOREQ_VMM_BINDING_ACK, &a,
						 sizeof(a), 8, 0));
	ASSERT_ERRNO(E2BIG, __ioreq_ioctl_sized(self->e.hv.fd,
						IOREQ_VMM_BINDING_ACK, &a,
						sizeof(a), sizeof(a) + 8, 1));
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(self->e.hv.fd,
					   IOREQ_VMM_BINDING_ACK, NULL));
	ASSERT_ERRNO(0, __ack(self->e.hv.fd, IOREQ_VMM_BINDING_RELEASED,
			      b.id));
	close(b.fd);
	close(efd);
}

TEST_HARNESS_MAIN
