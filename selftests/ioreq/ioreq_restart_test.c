// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq restart tests: a session that outlives its reader because another
 * process holds a descriptor of it, and IOREQ_REDELIVER, which hands the
 * successor the requests the dead reader had taken and never answered.
 * Runs once per provider.
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "ioreq_util.h"

#define MMIO_BASE	0xfe000000ULL
#define MMIO_LEN	0x1000ULL
#define MMIO_UD		0x5e550001ULL
#define NR_VCPUS	4U

FIXTURE(restart) {
	struct ioreq_env e;
};

IOREQ_FIXTURE_VARIANT(restart);
IOREQ_PROVIDER_VARIANTS(restart);

FIXTURE_SETUP(restart)
{
	ioreq_env_setup(&self->e, variant->hv, NR_VCPUS);
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN,
		    MMIO_UD, NULL);
}

FIXTURE_TEARDOWN(restart)
{
	ioreq_env_teardown(&self->e);
}

/* IOREQ_REDELIVER: the number of requests taken back, or -errno. */
static int __ioreq_redeliver(int fd, __u32 flags)
{
	struct ioreq_redeliver r = { .size = sizeof(r), .flags = flags };
	int ret = __ioreq_ioctl(fd, IOREQ_REDELIVER, &r);

	return ret ? ret : (int)r.count;
}

/*
 * A frontend that reads @n requests of the session it inherited and dies
 * holding them: fork, read, report over a pipe, wait for SIGKILL.
 */
static pid_t reader_that_dies(struct __test_metadata *_metadata, int be,
			      unsigned int n)
{
	struct ioreq_cmd c[NR_VCPUS];
	int up[2];
	char step;
	pid_t pid;

	ASSERT_EQ(0, pipe2(up, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(up[0]);
		step = ioreq_read_n(be, c, n, IOREQ_WAIT_MS) == (int)n ?
		       'G' : 'E';
		if (write(up[1], &step, 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(up[1]);
	ASSERT_LT(0, ioreq_poll(up[0], POLLIN, IOREQ_WAIT_MS));
	ASSERT_EQ(1, read(up[0], &step, 1));
	ASSERT_EQ('G', step);
	close(up[0]);
	return pid;
}

static void kill_reader(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
}

TEST_F(restart, cap)
{
	struct ioreq_info info = { .size = sizeof(info) };
	int fd = ioreq_backend_open();

	ASSERT_LE(0, fd);
	ioreq_ioctl(fd, IOREQ_GET_INFO, &info);
	ASSERT_NE(0ULL, info.caps & IOREQ_CAP_REDELIVER);
	close(fd);
	ASSERT_NE(0ULL, self->e.att.caps & IOREQ_CAP_REDELIVER);
	ioreq_ioctl(self->e.be, IOREQ_GET_INFO, &info);
	ASSERT_NE(0ULL, info.caps & IOREQ_CAP_REDELIVER);
}

TEST_F(restart, errors)
{
	struct ioreq_redeliver r = { .size = sizeof(r) };
	int fd = ioreq_backend_open();

	ASSERT_LE(0, fd);
	/* nothing to take back before attach */
	ASSERT_ERRNO(ENOTCONN, __ioreq_redeliver(fd, 0));
	close(fd);
	ASSERT_ERRNO(EINVAL, __ioreq_redeliver(self->e.be, 1));
	ASSERT_ERRNO(EINVAL, __ioreq_redeliver(self->e.be, 1U << 31));
	r.size = offsetof(struct ioreq_redeliver, count);
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->e.be, IOREQ_REDELIVER, &r));
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(self->e.be, IOREQ_REDELIVER,
					   (void *)8));
	/* no request at all: none taken back */
	ASSERT_RET(0, __ioreq_redeliver(self->e.be, 0));
	ioreq_expect_none(self->e.be);
}

/*
 * The reader dies holding vcpu 0's and vcpu 1's requests; vcpu 2's arrives
 * while nobody reads.  Nothing is aborted: the test's descriptor keeps the
 * session.  Its successor gets the two stranded records back, ahead of
 * the queued one, unchanged, and answers all three.
 */
TEST_F(restart, reader_killed_successor_answers)
{
	struct ioreq_vcpu v[3];
	struct ioreq_cmd c[3];
	unsigned int i;
	pid_t pid;

	ioreq_vcpu_run(&v[0], &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE + 0x10, 0, 0);
	ioreq_vcpu_run(&v[1], &self->e.hv, 1, IOREQ_SPACE_MMIO,
		       IOREQ_OP_WRITE, 8, MMIO_BASE + 0x18, 0x1122334455667788ULL,
		       0);
	ioreq_vcpu_blocked(&v[0]);
	ioreq_vcpu_blocked(&v[1]);
	pid = reader_that_dies(_metadata, self->e.be, 2);
	kill_reader(_metadata, pid);
	ioreq_vcpu_run(&v[2], &self->e.hv, 2, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       2, MMIO_BASE + 0x20, 0, 0);
	for (i = 0; i < 3; i++)
		ioreq_vcpu_blocked(&v[i]);
	/* without IOREQ_REDELIVER, only the request that came later */
	ioreq_expect_cmd(self->e.be, &c[2]);
	ASSERT_CMD_MATCHES(&c[2], IOREQ_OP_READ, 2, 2, MMIO_UD, 0x20, 0);
	ioreq_expect_none(self->e.be);
	/* all three are read and unanswered now: all three come back */
	ASSERT_RET(3, __ioreq_redeliver(self->e.be, 0));
	ASSERT_RET(3, ioreq_read_n(self->e.be, c, 3, IOREQ_WAIT_MS));
	ASSERT_CMD_MATCHES(&c[0], IOREQ_OP_READ, 4, 0, MMIO_UD, 0x10, 0);
	ASSERT_CMD_MATCHES(&c[1], IOREQ_OP_WRITE, 8, 1, MMIO_UD, 0x18,
			   0x1122334455667788ULL);
	ASSERT_CMD_MATCHES(&c[2], IOREQ_OP_READ, 2, 2, MMIO_UD, 0x20, 0);
	ioreq_expect_none(self->e.be);
	c[0].data = 0xcafe0000;
	c[2].data = 0xbeef;
	for (i = 0; i < 3; i++)
		ioreq_respond(self->e.be, &c[i]);
	ASSERT_VCPU_RESULT(&v[0], IOREQ_VMM_STATUS_DONE, 0xcafe0000);
	ASSERT_VCPU_STATUS(&v[1], IOREQ_VMM_STATUS_DONE);
	ASSERT_VCPU_RESULT(&v[2], IOREQ_VMM_STATUS_DONE, 0xbeef);
	/* answered: nothing left to take back */
	ASSERT_RET(0, __ioreq_redeliver(self->e.be, 0));
}

/* Taken back ahead of what was queued before the call, in vcpu order. */
TEST_F(restart, redelivered_first)
{
	struct ioreq_vcpu v[NR_VCPUS];
	struct ioreq_cmd c[NR_VCPUS];
	unsigned int i;

	/* vcpus 3 and 1 read, vcpus 0 and 2 queued behind them */
	ioreq_vcpu_run(&v[3], &self->e.hv, 3, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE + 3 * 4, 0, 0);
	ioreq_expect_cmd(self->e.be, &c[0]);
	ioreq_vcpu_run(&v[1], &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE + 1 * 4, 0, 0);
	ioreq_expect_cmd(self->e.be, &c[0]);
	ioreq_vcpu_run(&v[0], &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE, 0, 0);
	ioreq_vcpu_blocked(&v[0]);
	ioreq_vcpu_run(&v[2], &self->e.hv, 2, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE + 2 * 4, 0, 0);
	for (i = 0; i < NR_VCPUS; i++)
		ioreq_vcpu_blocked(&v[i]);
	ASSERT_RET(2, __ioreq_redeliver(self->e.be, 0));
	/* a second call finds them queued already: nothing more */
	ASSERT_RET(0, __ioreq_redeliver(self->e.be, 0));
	ASSERT_RET(NR_VCPUS, ioreq_read_n(self->e.be, c, NR_VCPUS,
					  IOREQ_WAIT_MS));
	ASSERT_EQ(1U, IOREQ_CMD_VCPU(c[0].id));
	ASSERT_EQ(3U, IOREQ_CMD_VCPU(c[1].id));
	ASSERT_EQ(0U, IOREQ_CMD_VCPU(c[2].id));
	ASSERT_EQ(2U, IOREQ_CMD_VCPU(c[3].id));
	ioreq_expect_none(self->e.be);
	for (i = 0; i < NR_VCPUS; i++) {
		c[i].data = 0x70 + IOREQ_CMD_VCPU(c[i].id);
		ioreq_respond(self->e.be, &c[i]);
	}
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_VCPU_RESULT(&v[i], IOREQ_VMM_STATUS_DONE, 0x70 + i);
}

/*
 * A record taken back is queued again: an answer to it is stale (ENOENT)
 * until it is read again; then the first answer completes it, once.
 */
TEST_F(restart, answer_while_requeued_is_stale)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd c, again;

	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       MMIO_BASE + 0x40, 0, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_RET(1, __ioreq_redeliver(self->e.be, 0));
	c.data = 0x1;
	ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(self->e.be, &c, 1));
	ioreq_vcpu_blocked(&v);
	ioreq_expect_cmd(self->e.be, &again);
	ASSERT_EQ(c.id, again.id);
	again.data = 0x2;
	ioreq_respond(self->e.be, &again);
	ASSERT_ERRNO(ENOENT, __ioreq_write_cmds(self->e.be, &c, 1));
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x2);
}

/*
 * The holder gives up (its grace ended, or it died) while the reader is
 * dead: the last descriptor closes and the session ends as any session
 * does.  The stranded and the queued requests are aborted, reads all ones.
 */
TEST_F(restart, holder_gives_up)
{
	struct ioreq_vcpu v[2];
	pid_t pid;

	ioreq_vcpu_run(&v[0], &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE, 0, 0);
	ioreq_vcpu_blocked(&v[0]);
	pid = reader_that_dies(_metadata, self->e.be, 1);
	kill_reader(_metadata, pid);
	ioreq_vcpu_run(&v[1], &self->e.hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ,
		       4, MMIO_BASE + 4, 0, 0);
	ioreq_msleep(50);
	ASSERT_FALSE(ioreq_vcpu_done(&v[0]));
	ASSERT_FALSE(ioreq_vcpu_done(&v[1]));
	close(self->e.be);
	self->e.be = -1;
	ASSERT_VCPU_ONES(&v[0], IOREQ_VMM_STATUS_ABORTED);
	ASSERT_VCPU_ONES(&v[1], IOREQ_VMM_STATUS_ABORTED);
}

/*
 * The guest dies while only the holder keeps the session (its reader died
 * after taking a request that was answered): the successor learns it from
 * IOREQ_REDELIVER as from read(), ENODEV.
 */
TEST_F(restart, guest_dies_while_held)
{
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	pid_t pid;

	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       MMIO_BASE, 0, 0);
	pid = reader_that_dies(_metadata, self->e.be, 1);
	kill_reader(_metadata, pid);
	ASSERT_RET(1, __ioreq_redeliver(self->e.be, 0));
	ioreq_expect_cmd(self->e.be, &c);
	c.data = 0x5;
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x5);
	ioreq_hv_destroy(&self->e.hv);
	ASSERT_ERRNO(ENODEV, __ioreq_redeliver(self->e.be, 0));
	ASSERT_ERRNO(ENODEV, ioreq_read_nonblock(self->e.be, &c));
}

TEST_HARNESS_MAIN
