// SPDX-License-Identifier: GPL-2.0
/*
 * Runs the documentation's minimal backend
 * (Documentation/userspace-api/ioreq-example.c, linked into this program
 * with its main() renamed ioreq_example_main()) in a child process against
 * a guest, and checks that it behaves as documented: ID register at
 * offset 0, SCRATCH at offset 8, exit status 0 once the guest goes away,
 * posted writes applied and not answered.  Runs once per provider.
 */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "ioreq_util.h"

#define EX_BASE		0xfe000000ULL	/* the example's default */
#define EX_ALT_BASE	0xfd000000ULL
#define EX_BUF_BASE	0xa0000ULL	/* Xen's buffered ring: below 1 MiB */
#define EX_ID		0x10e5a3f1ULL

#ifdef IOREQ_HAVE_EXAMPLE
int ioreq_example_main(int argc, char **argv);
#else
static int ioreq_example_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 127;
}
#endif

FIXTURE(example) {
	struct ioreq_hv hv;
	pid_t pid;
};

IOREQ_FIXTURE_VARIANT(example);
IOREQ_PROVIDER_VARIANTS(example);

FIXTURE_SETUP(example)
{
	self->hv.fd = -1;
	self->pid = -1;
#ifndef IOREQ_HAVE_EXAMPLE
	SETUP_SKIP("built without Documentation/userspace-api/ioreq-example.c");
#endif
	if (variant->hv->unavailable && variant->hv->unavailable())
		SETUP_SKIP("%s provider: %s", variant->hv->name,
			   variant->hv->unavailable());
	ASSERT_ERRNO(0, ioreq_hv_create(&self->hv, variant->hv, 2, 0));
}

FIXTURE_TEARDOWN(example)
{
	if (self->pid > 0) {
		kill(self->pid, SIGKILL);
		waitpid(self->pid, NULL, 0);
	}
	ioreq_hv_destroy(&self->hv);
}

/* Run the example as `ioreq-example xen|vmm GUEST_ID [BASE]` in a child. */
static pid_t start_example(struct ioreq_hv *hv, __u64 guest_id,
			   const char *base)
{
	char id[32], name[] = "ioreq-example", xen[] = "xen", vmm[] = "vmm";
	char *argv[] = { name, hv->ops->provider == IOREQ_PROVIDER_XEN ?
			       xen : vmm, id, (char *)base, NULL };
	pid_t pid;

	snprintf(id, sizeof(id), "%llu", (unsigned long long)guest_id);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* the guest must not outlive the test's descriptor */
		close(hv->fd);
		_exit(ioreq_example_main(base ? 4 : 3, argv));
	}
	return pid;
}

/* Read until the example has claimed its region (UNCLAIMED before). */
static int wait_claimed(struct ioreq_hv *hv, __u64 addr, pid_t pid,
			struct ioreq_vmm_access *a)
{
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ret = ioreq_hv_access(hv, a, 0, IOREQ_SPACE_MMIO,
				      IOREQ_OP_READ, 4, addr, 0, 0);
		if (ret || a->status != IOREQ_VMM_STATUS_UNCLAIMED)
			return ret;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -ECHILD;
		if (ioreq_ms_since(&t0) > IOREQ_WAIT_MS)
			return -ETIMEDOUT;
		ioreq_msleep(10);
	}
}

static int wait_exit(pid_t pid, int *status)
{
	struct timespec t0;
	pid_t got;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((got = waitpid(pid, status, WNOHANG)) == 0) {
		if (ioreq_ms_since(&t0) > IOREQ_WAIT_MS)
			return -ETIMEDOUT;
		ioreq_msleep(10);
	}
	return got == pid ? 0 : -errno;
}

#define ACCESS(_vcpu, _op, _len, _addr, _data) do {			\
	ASSERT_ERRNO(0, ioreq_hv_access(&self->hv, &a, _vcpu,		\
					IOREQ_SPACE_MMIO, _op, _len,	\
					_addr, _data, 0));		\
	ASSERT_EQ(IOREQ_VMM_STATUS_DONE, a.status)			\
		TH_LOG("status %s", ioreq_status_name(a.status));	\
} while (0)

TEST_F(example, registers)
{
	struct ioreq_vmm_access a;
	int status;

	self->pid = start_example(&self->hv, self->hv.guest_id, NULL);
	ASSERT_LT(0, self->pid);
	ASSERT_ERRNO(0, wait_claimed(&self->hv, EX_BASE, self->pid, &a));
	ASSERT_EQ(IOREQ_VMM_STATUS_DONE, a.status);
	ASSERT_EQ(EX_ID, a.data & 0xffffffffULL);

	ACCESS(1, IOREQ_OP_READ, 8, EX_BASE, 0);
	ASSERT_EQ(EX_ID, a.data);
	ACCESS(0, IOREQ_OP_READ, 8, EX_BASE + 8, 0);
	ASSERT_EQ(0ULL, a.data);
	ACCESS(0, IOREQ_OP_WRITE, 8, EX_BASE + 8, 0x0123456789abcdefULL);
	ACCESS(1, IOREQ_OP_READ, 8, EX_BASE + 8, 0);
	ASSERT_EQ(0x0123456789abcdefULL, a.data);
	ACCESS(1, IOREQ_OP_READ, 2, EX_BASE + 8, 0);
	ASSERT_EQ(0xcdefULL, a.data & 0xffff);
	/* a 4-byte write replaces the register with the zero-extended value */
	ACCESS(0, IOREQ_OP_WRITE, 4, EX_BASE + 8, 0xffffffff89abcdefULL);
	ACCESS(0, IOREQ_OP_READ, 8, EX_BASE + 8, 0);
	ASSERT_EQ(0x89abcdefULL, a.data);
	/* the ID register ignores writes; other offsets read zero */
	ACCESS(1, IOREQ_OP_WRITE, 4, EX_BASE, 0);
	ACCESS(1, IOREQ_OP_READ, 4, EX_BASE, 0);
	ASSERT_EQ(EX_ID, a.data & 0xffffffffULL);
	ACCESS(0, IOREQ_OP_READ, 4, EX_BASE + 0x10, 0);
	ASSERT_EQ(0ULL, a.data & 0xffffffffULL);
	ACCESS(0, IOREQ_OP_READ, 1, EX_BASE + 0xfff, 0);
	ASSERT_EQ(0ULL, a.data & 0xff);
	/* one page only */
	ASSERT_ERRNO(0, ioreq_hv_access(&self->hv, &a, 0, IOREQ_SPACE_MMIO,
					IOREQ_OP_READ, 4, EX_BASE + 0x1000, 0,
					0));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);

	/* the guest goes: the example sees ENODEV and exits with 0 */
	ioreq_hv_destroy(&self->hv);
	ASSERT_ERRNO(0, wait_exit(self->pid, &status));
	self->pid = -1;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_F(example, base_argument)
{
	struct ioreq_vmm_access a;
	int status;

	self->pid = start_example(&self->hv, self->hv.guest_id,
				  "0xfd000000");
	ASSERT_LT(0, self->pid);
	ASSERT_ERRNO(0, wait_claimed(&self->hv, EX_ALT_BASE, self->pid, &a));
	ASSERT_EQ(EX_ID, a.data & 0xffffffffULL);
	ASSERT_ERRNO(0, ioreq_hv_access(&self->hv, &a, 1, IOREQ_SPACE_MMIO,
					IOREQ_OP_READ, 4, EX_BASE, 0, 0));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	ioreq_hv_destroy(&self->hv);
	ASSERT_ERRNO(0, wait_exit(self->pid, &status));
	self->pid = -1;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * Posted records are emulated and never answered: on the Xen double the
 * hypervisor posts writes (Xen's buffered ring) to a region claimed
 * without IOREQ_REGION_POSTED_WRITES, as Xen does.  An example that
 * answered them would get EINVAL from write() and exit with 1.
 */
TEST_F(example, posted_writes)
{
	struct ioreq_xd_buf_write w[3] = {
		/* SCRATCH, 8 bytes; then its low 2 bytes; ID ignores writes */
		{ .type = IOREQ_XD_TYPE_COPY, .size = 8,
		  .addr = EX_BUF_BASE + 8, .data = 0x1122334455667788ULL },
		{ .type = IOREQ_XD_TYPE_COPY, .size = 2,
		  .addr = EX_BUF_BASE + 8, .data = 0xabcd },
		{ .type = IOREQ_XD_TYPE_COPY, .size = 4,
		  .addr = EX_BUF_BASE, .data = 0 },
	};
	struct ioreq_xd_buf_send bs = {
		.nr = 3, .writes = (__u64)(uintptr_t)w,
	};
	struct ioreq_vmm_access a;
	int status = 0;

	if (variant->hv != &ioreq_hv_xd)
		SKIP(return, "%s provider: posts only writes to regions claimed with IOREQ_REGION_POSTED_WRITES, which the example does not ask for",
		     variant->hv->name);
	self->pid = start_example(&self->hv, self->hv.guest_id, "0xa0000");
	ASSERT_LT(0, self->pid);
	ASSERT_ERRNO(0, wait_claimed(&self->hv, EX_BUF_BASE, self->pid, &a));
	ASSERT_EQ(EX_ID, a.data & 0xffffffffULL);
	ASSERT_ERRNO(0, __ioreq_ioctl(self->hv.fd, IOREQ_XD_BUF_SEND, &bs));
	ASSERT_EQ(3U, bs.sent);
	/* a later access sees them: posted records come first */
	ACCESS(1, IOREQ_OP_READ, 8, EX_BUF_BASE + 8, 0);
	ASSERT_EQ(0xabcdULL, a.data);
	ACCESS(0, IOREQ_OP_READ, 4, EX_BUF_BASE, 0);
	ASSERT_EQ(EX_ID, a.data & 0xffffffffULL);
	ASSERT_EQ(0, waitpid(self->pid, &status, WNOHANG))
		TH_LOG("the example exited (status 0x%x)", status);

	ioreq_hv_destroy(&self->hv);
	ASSERT_ERRNO(0, wait_exit(self->pid, &status));
	self->pid = -1;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_F(example, unknown_guest)
{
	int status;

	/* an id no guest has: the example reports it and fails */
	self->pid = start_example(&self->hv, self->hv.guest_id ^ 0x5a5a0000,
				  NULL);
	ASSERT_LT(0, self->pid);
	ASSERT_ERRNO(0, wait_exit(self->pid, &status));
	self->pid = -1;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(1, WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
	ioreq_require_backend();
	return test_harness_run(argc, argv);
}
