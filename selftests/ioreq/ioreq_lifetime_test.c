// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq lifetime tests: a backend session that closes or dies with
 * requests in flight, and a guest that goes away under its sessions.
 * Runs once per provider.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/wait.h>

#include "ioreq_util.h"

#define MMIO_BASE	0xfe000000ULL
#define MMIO_LEN	0x1000ULL
#define MMIO_UD		0x11fe0001ULL
#define PIO_BASE	0x700ULL
#define PIO_LEN		0x40ULL
#define PIO_UD		0x11fe0002ULL
#define NR_VCPUS	4U

FIXTURE(life) {
	struct ioreq_env e;
};

IOREQ_FIXTURE_VARIANT(life);
IOREQ_PROVIDER_VARIANTS(life);

FIXTURE_SETUP(life)
{
	ioreq_env_setup(&self->e, variant->hv, NR_VCPUS);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN,
		    MMIO_UD, NULL);
	ioreq_claim(self->e.be, IOREQ_SPACE_PIO, PIO_BASE, PIO_LEN, PIO_UD,
		    NULL);
}

FIXTURE_TEARDOWN(life)
{
	ioreq_env_teardown(&self->e);
}

/* Accesses to @space/@addr are unclaimed again: all ones, nobody sees it. */
#define ASSERT_UNCLAIMED(_space, _addr) do {				\
	struct ioreq_vmm_access __a;					\
	ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &__a, 0, _space,	\
					IOREQ_OP_READ, 4, _addr, 0, 0));\
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, __a.status)		\
		TH_LOG("status %s", ioreq_status_name(__a.status));	\
	ASSERT_EQ(0xffffffffULL, __a.data & 0xffffffffULL);		\
} while (0)

/*
 * Start four accesses: vcpus 0 and 1 read by the backend, vcpus 2 and 3
 * still queued in the session when the test ends it.
 */
static void start_in_flight(struct __test_metadata *_metadata,
			    struct ioreq_env *e, struct ioreq_vcpu *v)
{
	struct ioreq_cmd c[2];
	unsigned int i;

	ioreq_vcpu_run(&v[0], &e->hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 8,
		       MMIO_BASE, 0, 0);
	ioreq_vcpu_run(&v[1], &e->hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE, 4,
		       MMIO_BASE + 0x10, 0x1111, 0);
	ASSERT_RET(2, ioreq_read_n(e->be, c, 2, IOREQ_WAIT_MS));
	ioreq_vcpu_run(&v[2], &e->hv, 2, IOREQ_SPACE_PIO, IOREQ_OP_READ, 2,
		       PIO_BASE + 2, 0, 0);
	ioreq_vcpu_run(&v[3], &e->hv, 3, IOREQ_SPACE_PIO, IOREQ_OP_WRITE, 1,
		       PIO_BASE + 3, 0x33, 0);
	for (i = 0; i < NR_VCPUS; i++)
		ioreq_vcpu_blocked(&v[i]);
	ASSERT_EQ(POLLIN, ioreq_poll(e->be, POLLIN, 0) & POLLIN);
}

/* Every access of start_in_flight() ended as ABORTED, reads all ones. */
#define ASSERT_ALL_ABORTED(_v) do {					\
	ASSERT_VCPU_ONES(&(_v)[0], IOREQ_VMM_STATUS_ABORTED);		\
	ASSERT_VCPU_STATUS(&(_v)[1], IOREQ_VMM_STATUS_ABORTED);		\
	ASSERT_VCPU_ONES(&(_v)[2], IOREQ_VMM_STATUS_ABORTED);		\
	ASSERT_VCPU_STATUS(&(_v)[3], IOREQ_VMM_STATUS_ABORTED);		\
} while (0)

TEST_F(life, backend_close_in_flight)
{
	struct ioreq_vcpu v[NR_VCPUS];
	struct ioreq_cmd c;
	unsigned int i;
	int be2;

	start_in_flight(_metadata, &self->e, v);
	close(self->e.be);
	self->e.be = -1;
	ASSERT_ALL_ABORTED(v);

	/* the regions went with the session */
	ASSERT_UNCLAIMED(IOREQ_SPACE_MMIO, MMIO_BASE);
	ASSERT_UNCLAIMED(IOREQ_SPACE_PIO, PIO_BASE);

	/* every vcpu works again, with a new session on the same range */
	be2 = ioreq_env_session(&self->e);
	ioreq_claim(be2, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 0x2, NULL);
	for (i = 0; i < NR_VCPUS; i++) {
		ioreq_vcpu_run(&v[i], &self->e.hv, i, IOREQ_SPACE_MMIO,
			       IOREQ_OP_READ, 4, MMIO_BASE + 4 * i, 0, 0);
		ioreq_expect_cmd(be2, &c);
		ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 4, i, 0x2, 4 * i, 0);
		c.data = i;
		ioreq_respond(be2, &c);
		ASSERT_VCPU_RESULT(&v[i], IOREQ_VMM_STATUS_DONE, i);
	}
	close(be2);
}

TEST_F(life, backend_close_dup)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	int dup_fd;

	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       MMIO_BASE + 0x20, 0, 0);
	ioreq_expect_cmd(self->e.be, &c);
	/* closing one of two descriptors of the session ends nothing */
	dup_fd = dup(self->e.be);
	ASSERT_LE(0, dup_fd);
	close(self->e.be);
	self->e.be = dup_fd;
	ioreq_msleep(20);
	ASSERT_FALSE(ioreq_vcpu_done(&v));
	c.data = 0xd00d;
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0xd00d);
}

/* The forked backend's steps, reported over a pipe. */
enum {
	CHILD_READY = 'R',
	CHILD_GOT = 'G',
	CHILD_QUEUED = 'Q',
	CHILD_ERROR = 'E',
};

static void __attribute__((noreturn))
backend_child(int up, __u64 guest_id, __u32 provider)
{
	struct ioreq_cmd c;
	char step;
	int fd;

	fd = ioreq_backend_open();
	if (fd < 0 || __ioreq_attach(fd, provider, guest_id, NULL) ||
	    __ioreq_claim(fd, IOREQ_SPACE_MMIO, 0x80000000ULL, 0x100, 0x99, 0,
			  NULL))
		goto fail;
	step = CHILD_READY;
	if (write(up, &step, 1) != 1)
		goto fail;
	/* take the first request and sit on it */
	if (ioreq_read_cmds(fd, &c, 1, IOREQ_WAIT_MS) != 1)
		goto fail;
	step = CHILD_GOT;
	if (write(up, &step, 1) != 1)
		goto fail;
	/* leave the second one queued */
	if (ioreq_poll(fd, POLLIN, IOREQ_WAIT_MS) <= 0)
		goto fail;
	step = CHILD_QUEUED;
	if (write(up, &step, 1) != 1)
		goto fail;
	for (;;)
		pause();
fail:
	step = CHILD_ERROR;
	if (write(up, &step, 1) != 1)
		_exit(2);
	_exit(1);
}

static int wait_step(int fd, char want)
{
	char step = 0;

	if (ioreq_poll(fd, POLLIN, IOREQ_WAIT_MS) <= 0)
		return -ETIMEDOUT;
	if (read(fd, &step, 1) != 1)
		return -EIO;
	return step == want ? 0 : -EPROTO;
}

TEST_F(life, backend_killed)
{
	struct ioreq_vcpu v[2];
	int up[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe2(up, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* the child owns no part of the parent's session or guest */
		close(self->e.be);
		close(self->e.hv.fd);
		close(up[0]);
		backend_child(up[1], self->e.hv.guest_id,
			      variant->hv->provider);
	}
	close(up[1]);
	ASSERT_ERRNO(0, wait_step(up[0], CHILD_READY));
	ioreq_vcpu_run(&v[0], &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, 0x80000004ULL, 0, 0);
	ASSERT_ERRNO(0, wait_step(up[0], CHILD_GOT));
	ioreq_vcpu_run(&v[1], &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       2, 0x80000010ULL, 0, 0);
	ASSERT_ERRNO(0, wait_step(up[0], CHILD_QUEUED));
	ioreq_vcpu_blocked(&v[0]);
	ioreq_vcpu_blocked(&v[1]);

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_VCPU_ONES(&v[0], IOREQ_VMM_STATUS_ABORTED);
	ASSERT_VCPU_ONES(&v[1], IOREQ_VMM_STATUS_ABORTED);
	close(up[0]);

	/* its region is gone; this session may take the range */
	ASSERT_UNCLAIMED(IOREQ_SPACE_MMIO, 0x80000000ULL);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, 0x80000000ULL, 0x100, 0,
		    NULL);
	/* the parent's own session was not disturbed */
	ioreq_expect_none(self->e.be);
}

/* A session of a destroyed guest: EPOLLHUP | EPOLLERR and ENODEV. */
static void assert_guest_gone(struct __test_metadata *_metadata, int be)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct ioreq_cmd c = { .op = IOREQ_OP_READ, .size = 4 };
	int rev, ep;

	rev = ioreq_poll(be, POLLIN, 0);
	ASSERT_EQ(POLLHUP | POLLERR, rev & (POLLHUP | POLLERR))
		TH_LOG("revents %#x", rev);
	/* even when only POLLIN is asked for, HUP and ERR are reported */
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, be, &ev));
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 0));
	ASSERT_EQ((__u32)(EPOLLHUP | EPOLLERR),
		  out.events & (EPOLLHUP | EPOLLERR));
	close(ep);

	ASSERT_EQ(-1, read(be, &c, sizeof(c)));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_ERRNO(ENODEV, ioreq_read_nonblock(be, &c));
	ASSERT_ERRNO(ENODEV, __ioreq_write_cmds(be, &c, 1));
	ASSERT_ERRNO(ENODEV, __ioreq_claim(be, IOREQ_SPACE_MMIO, 0x90000000ULL,
					   0x10, 0, 0, NULL));
}

TEST_F(life, guest_destroyed)
{
	__u64 id = self->e.hv.guest_id;
	int be2 = ioreq_env_session(&self->e), be3;
	struct ioreq_info info;
	__u32 region;

	ioreq_claim(be2, IOREQ_SPACE_MMIO, 0xa0000000ULL, 0x10, 0, &region);
	ioreq_hv_destroy(&self->e.hv);
	assert_guest_gone(_metadata, self->e.be);
	/* every session of the guest sees it */
	assert_guest_gone(_metadata, be2);
	/* GET_INFO and RELEASE_REGION still work */
	ASSERT_ERRNO(0, __ioreq_get_info(be2, &info));
	ASSERT_EQ(id, info.guest_id);
	ASSERT_EQ(variant->hv->provider, info.provider);
	ioreq_release(be2, region);
	ASSERT_ERRNO(ENOENT, __ioreq_release(be2, region));
	/* and no new session can attach to it */
	be3 = ioreq_backend_open();
	ASSERT_LE(0, be3);
	ASSERT_ERRNO(ESRCH, __ioreq_attach(be3, variant->hv->provider, id,
					   NULL));
	close(be3);
	close(be2);
}

/* Threads blocked on the session when the guest goes. */
struct waiter {
	int fd, ep;
	int kind;	/* 0: read(), 1: poll(), 2: epoll_wait() */
	long ret;
	int err;
	short revents;
	__u32 events;
	pid_t tid;
	int done;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;
	struct ioreq_cmd c;
	struct pollfd p = { .fd = w->fd, .events = POLLIN };
	struct epoll_event out = { 0 };

	w->tid = syscall(SYS_gettid);
	__atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
	switch (w->kind) {
	case 0:
		w->ret = read(w->fd, &c, sizeof(c));
		break;
	case 1:
		w->ret = poll(&p, 1, IOREQ_JOIN_MS);
		w->revents = p.revents;
		break;
	case 2:
		w->ret = epoll_wait(w->ep, &out, 1, IOREQ_JOIN_MS);
		w->events = out.events;
		break;
	}
	w->err = errno;
	__atomic_store_n(&w->done, 2, __ATOMIC_SEQ_CST);
	return NULL;
}

/* The syscalls libc may use for each kind of waiter. */
static bool waiter_syscall(int kind, long nr)
{
	switch (kind) {
	case 0:
		return nr == SYS_read;
	case 1:
#ifdef SYS_poll
		if (nr == SYS_poll)
			return true;
#endif
		return nr == SYS_ppoll;
	case 2:
#ifdef SYS_epoll_wait
		if (nr == SYS_epoll_wait)
			return true;
#endif
#ifdef SYS_epoll_pwait2
		if (nr == SYS_epoll_pwait2)
			return true;
#endif
		return nr == SYS_epoll_pwait;
	}
	return false;
}

/* Wait until the thread sleeps in its syscall (or 200 ms without /proc). */
static int waiter_blocked(struct waiter *w)
{
	struct timespec t0;
	int stable = 0, got;
	char st;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (__atomic_load_n(&w->done, __ATOMIC_SEQ_CST) == 1) {
		got = ioreq_task_syscall(w->tid, &st);
		if (got == -2) {
			ioreq_msleep(200);
			break;
		}
		stable = (waiter_syscall(w->kind, got) && st == 'S') ?
			 stable + 1 : 0;
		if (stable >= 3)
			return 0;
		if (ioreq_ms_since(&t0) > IOREQ_WAIT_MS)
			return -ETIMEDOUT;
		ioreq_msleep(2);
	}
	return __atomic_load_n(&w->done, __ATOMIC_SEQ_CST) == 2 ? -EALREADY : 0;
}

TEST_F(life, guest_destroyed_wakes_waiters)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct waiter w[3];
	pthread_t t[3];
	struct timespec t0;
	int i, ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->e.be, &ev));
	for (i = 0; i < 3; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].fd = self->e.be;
		w[i].ep = ep;
		w[i].kind = i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, waiter_fn, &w[i]));
		while (!__atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST))
			sched_yield();
	}
	for (i = 0; i < 3; i++)
		ASSERT_ERRNO_MSG(0, waiter_blocked(&w[i]), "waiter %d", i);

	ioreq_hv_destroy(&self->e.hv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 3; i++) {
		while (__atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST) != 2 &&
		       ioreq_ms_since(&t0) < IOREQ_WAIT_MS)
			ioreq_msleep(2);
		ASSERT_EQ(2, __atomic_load_n(&w[i].done, __ATOMIC_SEQ_CST))
			TH_LOG("waiter %d still blocked", i);
		pthread_join(t[i], NULL);
	}
	/* the blocked read() fails with ENODEV */
	ASSERT_EQ(-1, w[0].ret);
	ASSERT_EQ(ENODEV, w[0].err);
	/* poll() and epoll_wait() wake with HUP | ERR */
	ASSERT_EQ(1, w[1].ret);
	ASSERT_EQ(POLLHUP | POLLERR, w[1].revents & (POLLHUP | POLLERR));
	ASSERT_EQ(1, w[2].ret);
	ASSERT_EQ((__u32)(EPOLLHUP | EPOLLERR),
		  w[2].events & (EPOLLHUP | EPOLLERR));
	close(ep);
}

/*
 * A guest's id is free again once the VMM closed its file, even while a
 * session of the dead guest is still open; the new guest of that id is
 * another guest.
 */
TEST_F(life, guest_id_reused)
{
	__u64 id = self->e.hv.guest_id;
	struct ioreq_hv hv2;
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	int be2;

	ioreq_hv_destroy(&self->e.hv);
	ASSERT_ERRNO(0, ioreq_hv_create(&hv2, variant->hv, 2, id));
	ASSERT_EQ(id, hv2.guest_id);
	/* the old session stays with the dead guest */
	assert_guest_gone(_metadata, self->e.be);
	ASSERT_ERRNO(EBUSY, __ioreq_attach(self->e.be, variant->hv->provider,
					   id, NULL));
	/* a new session gets the new guest, regions free */
	be2 = ioreq_backend_open();
	ASSERT_LE(0, be2);
	ioreq_attach(be2, variant->hv->provider, id);
	ioreq_claim(be2, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 0x77, NULL);
	ioreq_vcpu_run(&v, &hv2, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       MMIO_BASE + 0x44, 0, 0);
	ioreq_expect_cmd(be2, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 4, 1, 0x77, 0x44, 0);
	c.data = 0x77;
	ioreq_respond(be2, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x77);
	close(be2);
	ioreq_hv_destroy(&hv2);
}

TEST_F(life, guest_destroyed_then_backend_closes)
{
	struct ioreq_vcpu v[NR_VCPUS];
	unsigned int i;

	/* requests that ended long ago, then the guest, then the session */
	for (i = 0; i < NR_VCPUS; i++) {
		struct ioreq_cmd c;

		ioreq_vcpu_run(&v[i], &self->e.hv, i, IOREQ_SPACE_PIO,
			       IOREQ_OP_READ, 1, PIO_BASE + i, 0, 0);
		ioreq_expect_cmd(self->e.be, &c);
		c.data = 0x80 + i;
		ioreq_respond(self->e.be, &c);
		ASSERT_VCPU_RESULT(&v[i], IOREQ_VMM_STATUS_DONE, 0x80 + i);
	}
	ioreq_hv_destroy(&self->e.hv);
	assert_guest_gone(_metadata, self->e.be);
	ASSERT_EQ(0, close(self->e.be));
	self->e.be = -1;
}

TEST_F(life, backend_close_then_guest)
{
	struct ioreq_vcpu v[NR_VCPUS];

	/* the session goes first, with requests, then the guest */
	start_in_flight(_metadata, &self->e, v);
	ASSERT_EQ(0, close(self->e.be));
	self->e.be = -1;
	ASSERT_ALL_ABORTED(v);
	ioreq_hv_destroy(&self->e.hv);
	/* a new guest (with a fresh id) works as usual */
	ASSERT_ERRNO(0, ioreq_hv_create(&self->e.hv, variant->hv, 1, 0));
	self->e.be = ioreq_env_session(&self->e);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 0,
		    NULL);
}

int main(int argc, char **argv)
{
	ioreq_require_backend();
	return test_harness_run(argc, argv);
}
