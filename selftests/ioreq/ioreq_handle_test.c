// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq access-model tests: who may attach a backend session to which
 * guest.  Attaching by number needs CAP_SYS_ADMIN in the initial user
 * namespace (the caller's); a guest handle (IOREQ_VMM_GUEST_HANDLE) lets
 * an unprivileged backend attach to its one guest; a private guest is
 * reached by handle only; an attach always names its provider; and an
 * attached session handed to an unprivileged process serves its guest and
 * nothing else.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "ioreq_util.h"

#define MMIO_BASE	0xfe000000ULL
#define MMIO_LEN	0x1000ULL
#define NR_VCPUS	2U
#define NOBODY		65534
#define SERVED		4	/* accesses the deprivileged child answers */

/* ---- helpers ----------------------------------------------------------- */

static int __handle_make(int vmm_fd, __u32 flags, __u32 reserved)
{
	struct ioreq_vmm_guest_handle h = {
		.size = sizeof(h),
		.flags = flags,
		.fd = -1,
		.__reserved = reserved,
	};
	int ret = __ioreq_ioctl(vmm_fd, IOREQ_VMM_GUEST_HANDLE, &h);

	return ret ? ret : h.fd;
}

static int __attach_handle(int fd, __u32 provider, __u64 handle)
{
	struct ioreq_attach at = {
		.size = sizeof(at),
		.flags = IOREQ_ATTACH_GUEST_FD,
		.provider = provider,
		.guest_id = handle,
	};

	return __ioreq_ioctl(fd, IOREQ_ATTACH, &at);
}

static int vmm_create_flags(struct ioreq_hv *hv, __u32 flags, __u64 id)
{
	struct ioreq_vmm_create c = {
		.size = sizeof(c),
		.flags = flags,
		.nr_vcpus = NR_VCPUS,
		.guest_id = id,
	};
	int ret, fd = ioreq_open(IOREQ_VMM_DEV, O_RDWR);

	if (fd < 0)
		return fd;
	ret = __ioreq_ioctl(fd, IOREQ_VMM_CREATE_GUEST, &c);
	if (ret) {
		close(fd);
		return ret;
	}
	hv->ops = &ioreq_hv_vmm;
	hv->fd = fd;
	hv->guest_id = c.guest_id;
	hv->nr_vcpus = NR_VCPUS;
	return 0;
}

/* Clear @cap (or every capability, @cap < 0) from the effective set. */
static int drop_caps(int cap)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	if (cap < 0) {
		memset(d, 0, sizeof(d));
	} else {
		d[cap / 32].effective &= ~(1U << (cap % 32));
		d[cap / 32].permitted &= ~(1U << (cap % 32));
	}
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static bool have_cap(int cap)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return true;
	return d[cap / 32].effective & (1U << (cap % 32));
}

/* Send @n descriptors (and one byte) over the unix socket @sock. */
static int send_fds(int sock, const int *fds, unsigned int n)
{
	char ctl[CMSG_SPACE(4 * sizeof(int))] = { 0 };
	char byte = 'f';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl,
		.msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fds(int sock, int *fds, unsigned int n)
{
	char ctl[CMSG_SPACE(4 * sizeof(int))];
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl,
		.msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cm;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EIO;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(n * sizeof(int)))
		return -EIO;
	memcpy(fds, CMSG_DATA(cm), n * sizeof(int));
	return 0;
}

/* One byte each way, for the parent and child to take turns. */
static int say(int sock, char c)
{
	return write(sock, &c, 1) == 1 ? 0 : -EIO;
}

static int hear(int sock, char want)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	char c;

	if (poll(&p, 1, IOREQ_JOIN_MS) != 1 || read(sock, &c, 1) != 1)
		return -EIO;
	return c == want ? 0 : -EPROTO;
}

/* A read of 4 bytes at @addr on vcpu 0: the status, *data the value. */
static int read4(struct ioreq_hv *hv, __u64 addr, __u64 *data)
{
	struct ioreq_vmm_access a;
	int ret;

	ret = ioreq_hv_access(hv, &a, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			      addr, 0, IOREQ_WAIT_MS);
	if (ret)
		return ret;
	*data = a.data;
	return a.status;
}

/* Answer one read record with a value made from its offset. */
static __u64 answer_of(__u64 offset)
{
	return 0x5eed0000U | offset;
}

static int serve_one(int fd)
{
	struct ioreq_cmd c;
	int ret = ioreq_read_n(fd, &c, 1, IOREQ_WAIT_MS);

	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	if (c.op == IOREQ_OP_READ)
		c.data = answer_of(c.offset);
	return __ioreq_write_cmds(fd, &c, 1) == IOREQ_REC ? 0 : -EIO;
}

/* The session's guest id per IOREQ_GET_INFO, or ~0 */
static __u64 info_guest(int fd)
{
	struct ioreq_info info;

	return __ioreq_get_info(fd, &info) ? ~0ULL : info.guest_id;
}

/* ---- the fixture: one VMM guest and an unattached session ------------- */

FIXTURE(handle) {
	struct ioreq_hv hv;
	int be;
};

FIXTURE_SETUP(handle)
{
	const char *why = ioreq_vmm_unavailable();

	self->hv.fd = -1;
	self->be = -1;
	if (why)
		SETUP_SKIP("%s", why);
	ASSERT_ERRNO(0, vmm_create_flags(&self->hv, 0, 0));
	self->be = ioreq_backend_open();
	ASSERT_LE(0, self->be);
}

FIXTURE_TEARDOWN(handle)
{
	if (self->be >= 0)
		close(self->be);
	ioreq_hv_destroy(&self->hv);
}

/* A handle attaches a session that then serves the guest. */
TEST_F(handle, attach_by_handle)
{
	struct ioreq_attach at = {
		.size = sizeof(at),
		.flags = IOREQ_ATTACH_GUEST_FD,
		.provider = IOREQ_PROVIDER_VMM,
	};
	__u64 data = 0;
	pid_t pid;
	int h, be2, status;

	h = __handle_make(self->hv.fd, 0, 0);
	ASSERT_LE(0, h);
	/* close-on-exec, and a file of its own */
	ASSERT_EQ(FD_CLOEXEC, fcntl(h, F_GETFD) & FD_CLOEXEC);
	ASSERT_NE(self->hv.fd, h);
	at.guest_id = h;
	ASSERT_ERRNO(0, __ioreq_ioctl(self->be, IOREQ_ATTACH, &at));
	ASSERT_EQ(self->hv.nr_vcpus, at.nr_vcpus);
	ASSERT_EQ(self->hv.guest_id, info_guest(self->be));
	ioreq_claim(self->be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 0, NULL);

	/* the session serves: a child answers, the "vcpu" reads */
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(serve_one(self->be) ? 1 : 0);
	ASSERT_RET(IOREQ_VMM_STATUS_DONE, read4(&self->hv, MMIO_BASE + 8,
						&data));
	ASSERT_EQ(answer_of(8) & 0xffffffffU, data);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);

	/* the same handle attaches more sessions, by fd number */
	be2 = ioreq_backend_open();
	ASSERT_LE(0, be2);
	ASSERT_ERRNO(0, __attach_handle(be2, IOREQ_PROVIDER_VMM, h));
	close(be2);
	close(h);
}

/* The handle is no hypervisor fd: nothing but attaching works on it. */
TEST_F(handle, handle_has_no_other_right)
{
	struct ioreq_vmm_access a;
	char buf[64];
	int h;

	h = __handle_make(self->hv.fd, 0, 0);
	ASSERT_LE(0, h);
	ioreq_access_init(&a, 0, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
			  MMIO_BASE, 0, 100);
	ASSERT_ERRNO(ENOTTY, __ioreq_ioctl(h, IOREQ_VMM_ACCESS, &a));
	ASSERT_ERRNO(ENOTTY, __handle_make(h, 0, 0));
	ASSERT_ERRNO(ENOTTY, __ioreq_attach(h, IOREQ_PROVIDER_VMM,
					    self->hv.guest_id, NULL));
	ASSERT_EQ(-1, read(h, buf, sizeof(buf)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, write(h, buf, sizeof(buf)));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, h, 0));
	close(h);
}

TEST_F(handle, handle_errors)
{
	struct ioreq_attach at = {
		.size = sizeof(at),
		.flags = IOREQ_ATTACH_GUEST_FD | 2,
		.provider = IOREQ_PROVIDER_VMM,
	};
	struct ioreq_info info;
	int h, vmm, devnull;

	/* IOREQ_VMM_GUEST_HANDLE: flags, reserved, no guest */
	ASSERT_ERRNO(EINVAL, __handle_make(self->hv.fd, 1, 0));
	ASSERT_ERRNO(EINVAL, __handle_make(self->hv.fd, 1U << 31, 0));
	ASSERT_ERRNO(EINVAL, __handle_make(self->hv.fd, 0, 1));
	vmm = ioreq_open(IOREQ_VMM_DEV, O_RDWR);
	ASSERT_LE(0, vmm);
	ASSERT_ERRNO(ENXIO, __handle_make(vmm, 0, 0));
	close(vmm);

	h = __handle_make(self->hv.fd, 0, 0);
	ASSERT_LE(0, h);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, devnull);

	/* IOREQ_ATTACH_GUEST_FD: not an fd, not a handle, wrong provider */
	ASSERT_ERRNO(EBADF, __attach_handle(self->be, IOREQ_PROVIDER_VMM,
					    ~0ULL));
	ASSERT_ERRNO(EBADF, __attach_handle(self->be, IOREQ_PROVIDER_VMM,
					    1ULL << 32 | (__u32)h));
	ASSERT_ERRNO(EBADF, __attach_handle(self->be, IOREQ_PROVIDER_VMM,
					    (__u64)-1 >> 33));
	ASSERT_ERRNO(EINVAL, __attach_handle(self->be, IOREQ_PROVIDER_VMM,
					     devnull));
	/* the VMM's own fd is the hypervisor side, not a handle */
	ASSERT_ERRNO(EINVAL, __attach_handle(self->be, IOREQ_PROVIDER_VMM,
					     self->hv.fd));
	ASSERT_ERRNO(EINVAL, __attach_handle(self->be, IOREQ_PROVIDER_VMM,
					     self->be));
	ASSERT_ERRNO(EINVAL, __attach_handle(self->be, IOREQ_PROVIDER_XEN, h));
	ASSERT_ERRNO(EINVAL, __attach_handle(self->be, IOREQ_PROVIDER_NONE,
					     h));
	ASSERT_ERRNO(EINVAL, __attach_handle(self->be, 99, h));
	at.guest_id = h;
	ASSERT_ERRNO(EINVAL, __ioreq_ioctl(self->be, IOREQ_ATTACH, &at));
	/* after all that the session is unattached, and attaches */
	ASSERT_ERRNO(0, __ioreq_get_info(self->be, &info));
	ASSERT_EQ((__u32)IOREQ_PROVIDER_NONE, info.provider);
	ASSERT_ERRNO(0, __attach_handle(self->be, IOREQ_PROVIDER_VMM, h));
	ASSERT_ERRNO(EBUSY, __attach_handle(self->be, IOREQ_PROVIDER_VMM, h));
	close(devnull);
	close(h);
}

/* Descriptors open in this process. */
static int nr_fds(void)
{
	char path[64];
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

/* The struct's size rules, and no descriptor left behind by a failure. */
TEST_F(handle, length_and_efault)
{
	const __u32 v1 = sizeof(struct ioreq_vmm_guest_handle);
	static const struct { __u32 size; __u8 tail; int err; } c[] = {
		{ 0, 0, EINVAL },
		{ 8, 0, EINVAL },
		{ sizeof(struct ioreq_vmm_guest_handle) - 1, 0, EINVAL },
		{ sizeof(struct ioreq_vmm_guest_handle) + 1, 0x01, E2BIG },
		{ sizeof(struct ioreq_vmm_guest_handle) + 8, 0xff, E2BIG },
		{ sizeof(struct ioreq_vmm_guest_handle), 0, 0 },
		{ sizeof(struct ioreq_vmm_guest_handle) + 8, 0, 0 },
		{ sizeof(struct ioreq_vmm_guest_handle) + 256, 0, 0 },
	};
	struct ioreq_vmm_guest_handle h;
	unsigned int i;
	void *ro;
	int before;

	ASSERT_EQ(16U, v1);
	before = nr_fds();
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		memset(&h, 0, sizeof(h));
		h.fd = -1;
		ASSERT_ERRNO_MSG(c[i].err, __ioreq_ioctl_sized(self->hv.fd,
				IOREQ_VMM_GUEST_HANDLE, &h, sizeof(h),
				c[i].size, c[i].tail),
			"size %u tail %#x", c[i].size, c[i].tail);
		if (c[i].err) {
			ASSERT_EQ(before, nr_fds());
			continue;
		}
		ASSERT_LE(0, h.fd);
		ASSERT_EQ(before + 1, nr_fds());
		close(h.fd);
	}

	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(self->hv.fd, IOREQ_VMM_GUEST_HANDLE,
					   NULL));
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(self->hv.fd, IOREQ_VMM_GUEST_HANDLE,
					   (void *)-4096L));
	/* a struct it can read but not write back into: nothing is made */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	memcpy(ro, &h, sizeof(h));
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	ASSERT_ERRNO(EFAULT, __ioreq_ioctl(self->hv.fd, IOREQ_VMM_GUEST_HANDLE,
					   ro));
	ASSERT_EQ(before, nr_fds());
	munmap(ro, 4096);
}

/*
 * A handle outlives its guest harmlessly: attaching gives ENODEV, even
 * once a new guest has taken the old one's id.
 */
TEST_F(handle, handle_after_vmm_closed)
{
	struct ioreq_hv again = { .fd = -1 };
	__u64 id = self->hv.guest_id;
	int h;

	h = __handle_make(self->hv.fd, 0, 0);
	ASSERT_LE(0, h);
	ioreq_hv_destroy(&self->hv);
	ASSERT_ERRNO(ENODEV, __attach_handle(self->be, IOREQ_PROVIDER_VMM, h));
	ASSERT_ERRNO(0, vmm_create_flags(&again, 0, id));
	ASSERT_ERRNO(ENODEV, __attach_handle(self->be, IOREQ_PROVIDER_VMM, h));
	/* the failed attaches left the session free for the new guest */
	ioreq_attach(self->be, IOREQ_PROVIDER_VMM, id);
	close(h);
	ioreq_hv_destroy(&again);
}

/*
 * Once the VMM closes its guest, what still refers to the guest (attached
 * sessions, and handles, which hold the same reference) does not keep its
 * RAM: the provider lets go of the memfd at once (its last close shows as
 * IN_CLOSE_WRITE).
 */
TEST_F(handle, closed_guest_lets_go_of_memory)
{
	struct ioreq_vmm_memory m = {
		.size = sizeof(m),
		.gpa = 0x100000,
		.len = 0x10000,
	};
	char path[64];
	struct inotify_event ev[4];
	struct pollfd p;
	int fd, mfd, in;

	fd = memfd_create("ioreq-handle-test", MFD_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, m.len));
	/*
	 * The memfd reopened through /proc: memfd_create()'s own file is a
	 * pseudo file, which newer kernels give no fsnotify events
	 * (FMODE_NONOTIFY: 7.3 reports no close of it), while a file opened
	 * by path reports its last close on every kernel.
	 */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	mfd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, mfd);
	close(fd);
	m.fd = mfd;
	ioreq_ioctl(self->hv.fd, IOREQ_VMM_ADD_MEMORY, &m);
	in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	ASSERT_LE(0, in);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ASSERT_LE(0, inotify_add_watch(in, path, IN_CLOSE_WRITE));
	/* now the provider holds the memfd's only reference */
	close(mfd);

	ioreq_attach(self->be, IOREQ_PROVIDER_VMM, self->hv.guest_id);
	ASSERT_EQ(-1, read(in, ev, sizeof(ev)));

	ioreq_hv_destroy(&self->hv);
	p = (struct pollfd){ .fd = in, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, IOREQ_WAIT_MS))
		TH_LOG("the memfd is still referenced: the closed guest's session keeps its RAM");
	ASSERT_LT(0, read(in, ev, sizeof(ev)));
	ASSERT_NE(0U, ev[0].mask & IN_CLOSE_WRITE);
	/* what is left of the guest is gone for the session too */
	ASSERT_ERRNO(ENODEV, __ioreq_claim(self->be, IOREQ_SPACE_MMIO,
					   MMIO_BASE, MMIO_LEN, 0, 0, NULL));
	close(in);
}

/* A private guest: by handle only; by number it does not exist. */
TEST_F(handle, private_guest)
{
	struct ioreq_hv priv = { .fd = -1 }, clash = { .fd = -1 };
	int h;

	ASSERT_ERRNO(EINVAL, vmm_create_flags(&priv, 2, 0));
	ASSERT_ERRNO(EINVAL, vmm_create_flags(&priv, 1U << 31, 0));
	ASSERT_ERRNO(0, vmm_create_flags(&priv, IOREQ_VMM_CREATE_PRIVATE, 0));
	ASSERT_NE(0U, priv.guest_id);
	ASSERT_NE(self->hv.guest_id, priv.guest_id);
	ASSERT_ERRNO(ESRCH, __ioreq_attach(self->be, IOREQ_PROVIDER_VMM,
					   priv.guest_id, NULL));
	/* its id is taken all the same */
	ASSERT_ERRNO(EEXIST, vmm_create_flags(&clash, 0, priv.guest_id));

	h = __handle_make(priv.fd, 0, 0);
	ASSERT_LE(0, h);
	ASSERT_ERRNO(0, __attach_handle(self->be, IOREQ_PROVIDER_VMM, h));
	ASSERT_EQ(priv.guest_id, info_guest(self->be));
	close(h);
	ioreq_hv_destroy(&priv);
}

/* ---- attaching by number needs CAP_SYS_ADMIN -------------------------- */

/*
 * In a child without CAP_SYS_ADMIN (still uid 0), attach @fd by number:
 * exit 0 if that fails with EPERM and a handle still works (on a session
 * of its own: @fd is the parent's file too).
 */
static int attach_without_cap(int fd, __u32 provider, __u64 id, int h)
{
	int own;

	if (drop_caps(CAP_SYS_ADMIN) || have_cap(CAP_SYS_ADMIN))
		return 10;
	if (__ioreq_attach(fd, provider, id, NULL) != -EPERM)
		return 11;
	if (h < 0)
		return 0;
	own = ioreq_backend_open();
	if (own < 0 || __attach_handle(own, IOREQ_PROVIDER_VMM, h))
		return 12;
	return 0;
}

/* Reap @pid: its exit status, or 128 + signal. */
static int reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_child(int (*fn)(int, __u32, __u64, int), int fd,
		     __u32 provider, __u64 id, int h)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit(fn(fd, provider, id, h));
	return reap(pid);
}

TEST_F(handle, by_number_needs_cap_sys_admin)
{
	int h;

	ASSERT_EQ(0, run_child(attach_without_cap, self->be,
			       IOREQ_PROVIDER_VMM, self->hv.guest_id, -1));
	h = __handle_make(self->hv.fd, 0, 0);
	ASSERT_LE(0, h);
	ASSERT_EQ(0, run_child(attach_without_cap, self->be,
			       IOREQ_PROVIDER_VMM, self->hv.guest_id, h));
	/* the parent, with the capability, attaches the same file */
	ioreq_attach(self->be, IOREQ_PROVIDER_VMM, self->hv.guest_id);
	close(h);
}

/* The Xen provider's domids: the same check (on the hypervisor double). */
TEST_F(handle, xen_domid_needs_cap_sys_admin)
{
	struct ioreq_hv hv = { .fd = -1 };
	const char *why = ioreq_xd_unavailable();

	if (why)
		SKIP(return, "%s", why);
	ASSERT_ERRNO(0, ioreq_hv_create(&hv, &ioreq_hv_xd, NR_VCPUS, 0));
	ASSERT_EQ(0, run_child(attach_without_cap, self->be,
			       IOREQ_PROVIDER_XEN, hv.guest_id, -1));
	ioreq_attach(self->be, IOREQ_PROVIDER_XEN, hv.guest_id);
	ioreq_hv_destroy(&hv);
}

/*
 * Root of a new user namespace has every capability there and none in
 * the initial one: it opens /dev/ioreq (its uid is still the owner's) but
 * may not attach by number; a handle it was given works.
 */
static int attach_in_userns(int unused, __u32 provider, __u64 id, int h)
{
	int fd;

	(void)unused;
	if (unshare(CLONE_NEWUSER))
		return errno == EINVAL || errno == EPERM || errno == ENOSPC ?
		       4 : 20;
	fd = ioreq_open(IOREQ_DEV, O_RDWR);
	if (fd < 0)
		return 21;
	if (__ioreq_attach(fd, provider, id, NULL) != -EPERM)
		return 22;
	if (h >= 0 && __attach_handle(fd, IOREQ_PROVIDER_VMM, h))
		return 23;
	return 0;
}

TEST_F(handle, user_namespace_root_by_number)
{
	int h, ret;

	ret = run_child(attach_in_userns, -1, IOREQ_PROVIDER_VMM,
			self->hv.guest_id, -1);
	if (ret == 4)
		SKIP(return, "unshare(CLONE_NEWUSER) is not available");
	ASSERT_EQ(0, ret);
	h = __handle_make(self->hv.fd, 0, 0);
	ASSERT_LE(0, h);
	ASSERT_EQ(0, run_child(attach_in_userns, -1, IOREQ_PROVIDER_VMM,
			       self->hv.guest_id, h));
	close(h);
}

/* ---- the deprivileged backend ------------------------------------------ */

/*
 * The child: drop to uid/gid 65534 with no capabilities, take the session
 * attached to guest A, an unattached /dev/ioreq file opened by root and a
 * handle of A, then serve A.  Exit status: the step that failed, 0 if
 * none did.
 */
static int deprivileged(int sock, __u64 id_a, __u64 id_b)
{
	int fds[3], sess, spare, h;
	unsigned int i;
	gid_t nogroup = NOBODY;

	if (setgroups(1, &nogroup) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return 30;
	if (have_cap(CAP_SYS_ADMIN) || getuid() != NOBODY)
		return 31;
	if (recv_fds(sock, fds, 3))
		return 32;
	sess = fds[0];
	spare = fds[1];
	h = fds[2];

	/* No new session by number: neither A nor B. */
	if (__ioreq_attach(spare, IOREQ_PROVIDER_VMM, id_a, NULL) != -EPERM)
		return 33;
	if (__ioreq_attach(spare, IOREQ_PROVIDER_VMM, id_b, NULL) != -EPERM)
		return 34;
	/* The session it was given cannot be moved to B. */
	if (__ioreq_attach(sess, IOREQ_PROVIDER_VMM, id_b, NULL) != -EBUSY)
		return 35;
	if (info_guest(sess) != id_a)
		return 36;

	/* It serves A. */
	if (__ioreq_claim(sess, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, 0, 0,
			  NULL))
		return 37;
	if (say(sock, 'c'))
		return 38;
	for (i = 0; i < SERVED; i++)
		if (serve_one(sess))
			return 39;

	/* A handle attaches a new session to A, and only to A. */
	if (__attach_handle(spare, IOREQ_PROVIDER_VMM, h))
		return 40;
	if (info_guest(spare) != id_a)
		return 41;
	if (say(sock, 'd'))
		return 42;
	return 0;
}

TEST_F(handle, deprivileged_backend)
{
	struct ioreq_hv b = { .fd = -1 };
	int sv[2], fds[3], status;
	__u64 data;
	unsigned int i;
	pid_t pid;

	ASSERT_ERRNO(0, vmm_create_flags(&b, 0, 0));
	/* root attaches the session and makes the handle */
	ioreq_attach(self->be, IOREQ_PROVIDER_VMM, self->hv.guest_id);
	fds[0] = self->be;
	fds[1] = ioreq_backend_open();
	ASSERT_LE(0, fds[1]);
	fds[2] = __handle_make(self->hv.fd, 0, 0);
	ASSERT_LE(0, fds[2]);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));

	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		/* only what comes over the socket */
		close(self->be);
		close(fds[1]);
		close(fds[2]);
		close(self->hv.fd);
		close(b.fd);
		_exit(deprivileged(sv[1], self->hv.guest_id, b.guest_id));
	}
	close(sv[1]);
	ASSERT_EQ(0, send_fds(sv[0], fds, 3));
	close(fds[1]);
	close(fds[2]);
	close(self->be);
	self->be = -1;

	ASSERT_EQ(0, hear(sv[0], 'c'))
		TH_LOG("the deprivileged child failed at step %d", reap(pid));
	for (i = 0; i < SERVED; i++) {
		ASSERT_RET(IOREQ_VMM_STATUS_DONE,
			   read4(&self->hv, MMIO_BASE + 4 * i, &data));
		ASSERT_EQ(answer_of(4 * i) & 0xffffffffU, data);
		/* the same address on B reaches no backend */
		ASSERT_RET(IOREQ_VMM_STATUS_UNCLAIMED,
			   read4(&b, MMIO_BASE + 4 * i, &data));
	}
	ASSERT_EQ(0, hear(sv[0], 'd'))
		TH_LOG("the deprivileged child failed at step %d", reap(pid));
	status = reap(pid);
	ASSERT_EQ(0, status)
		TH_LOG("the deprivileged child failed at step %d", status);
	close(sv[0]);
	ioreq_hv_destroy(&b);
}

TEST_HARNESS_MAIN
