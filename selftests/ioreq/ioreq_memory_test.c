// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq memory tests: guest memory files (IOREQ_GUEST_MEMORY_FD), the
 * guest's memory map (IOREQ_GET_MEMORY_MAP), and PCI configuration
 * accesses forwarded by the userspace-hypervisor provider.
 *
 * The memory file is what a vhost-user frontend hands a daemon: the tests
 * map it as libvhost-user (offset 0, size + mmap_offset) and rust-vmm
 * (offset mmap_offset, after checking the file's size) do, in this
 * process and in a child that got it over SCM_RIGHTS, and check that it
 * outlives the session and how it behaves once the guest is gone.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "ioreq_util.h"

#define RAM_GPA		0x40000000ULL
#define RAM_PAGES	16UL
#define RAM2_PAGES	4UL	/* right after RAM, from offset 2 pages */
#define LOW_GPA		0x100000ULL
#define LOW_PAGES	2UL
#define SBDF		0x00000018ULL	/* 0000:00:03.0 */
#define PCI_CFG(sbdf, reg) ((__u64)(sbdf) << 32 | (reg))

FIXTURE(mem) {
	struct ioreq_env e;
	long pg;
	int ram, ram2, low;	/* memfds of the three ranges, or -1 */
	__u8 *guest;		/* the VMM's view of RAM */
};

IOREQ_FIXTURE_VARIANT(mem);
IOREQ_VMM_VARIANT(mem);

static int memfd_of(size_t len)
{
	int fd = memfd_create("ioreq-test-ram", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* IOREQ_GUEST_MEMORY_FD: the new fd, or -errno. */
static int __memory_fd(int be, __u64 gpa, __u64 len)
{
	struct ioreq_guest_memory_fd a = {
		.size = sizeof(a),
		.gpa = gpa,
		.len = len,
		.fd = -1,
	};
	int ret = __ioreq_ioctl(be, IOREQ_GUEST_MEMORY_FD, &a);

	return ret ? ret : a.fd;
}

/* IOREQ_GET_MEMORY_MAP with room for @nr: how many ranges, or -errno. */
static int __memory_map(int be, struct ioreq_memory_range *r, __u32 nr)
{
	struct ioreq_memory_map m = {
		.size = sizeof(m),
		.nr_ranges = nr,
		.ranges = (__u64)(uintptr_t)r,
	};
	int ret = __ioreq_ioctl(be, IOREQ_GET_MEMORY_MAP, &m);

	return ret ? ret : (int)m.nr_ranges;
}

/* mmap() of @len bytes at @off of @fd: the address, or NULL with errno. */
static __u8 *map_at(int fd, size_t len, off_t off, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);

	return p == MAP_FAILED ? NULL : p;
}

/* The errno of a mapping that must fail (0 if it worked). */
static int map_errno(int fd, size_t len, off_t off, int flags)
{
	__u8 *p = map_at(fd, len, off, flags);

	if (!p)
		return errno;
	munmap(p, len);
	return 0;
}

/*
 * What every ioctl refuses of a struct @good of @len bytes that would be
 * accepted: flags, the reserved u32 at @reserved, a short size, non-zero
 * bytes past it, no struct at all.
 */
static void __bad_struct(struct __test_metadata *_metadata, int be,
			 unsigned long cmd, const void *good, size_t len,
			 size_t reserved)
{
	__u8 buf[64];

	ASSERT_GE(sizeof(buf), len);
	memcpy(buf, good, len);
	buf[4] = 1;	/* flags */
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl_sized(be, cmd, buf, len, len, 0));
	memcpy(buf, good, len);
	buf[reserved] = 1;
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl_sized(be, cmd, buf, len, len, 0));
	memcpy(buf, good, len);
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl_sized(be, cmd, buf, len, 8, 0));
	EXPECT_ERRNO(E2BIG, __ioreq_ioctl_sized(be, cmd, buf, len, len + 8,
						0x5a));
	EXPECT_ERRNO(EFAULT, __ioreq_ioctl(be, cmd, NULL));
}

#define bad_struct(...) __bad_struct(_metadata, __VA_ARGS__)

FIXTURE_SETUP(mem)
{
	self->ram = self->ram2 = self->low = -1;
	self->guest = MAP_FAILED;
	self->pg = sysconf(_SC_PAGESIZE);
	ioreq_env_setup(&self->e, variant->hv, 2);
}

FIXTURE_TEARDOWN(mem)
{
	if (self->guest != MAP_FAILED)
		munmap(self->guest, RAM_PAGES * self->pg);
	if (self->ram >= 0)
		close(self->ram);
	if (self->ram2 >= 0)
		close(self->ram2);
	if (self->low >= 0)
		close(self->low);
	ioreq_env_teardown(&self->e);
}

/*
 * Lend RAM (RAM_PAGES at RAM_GPA, mapped at self->guest and filled with a
 * pattern), RAM2 right after it (RAM2_PAGES from offset 2 pages of its
 * memfd), then LOW below both: added last, listed first.
 */
static void __setup_ram(struct __test_metadata *_metadata,
			FIXTURE_DATA(mem) *self)
{
	const size_t len = RAM_PAGES * self->pg;
	size_t i;

	self->ram = memfd_of(len);
	ASSERT_LE(0, self->ram);
	self->guest = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   self->ram, 0);
	ASSERT_NE(MAP_FAILED, self->guest);
	for (i = 0; i < len; i++)
		self->guest[i] = (__u8)(i * 7 + i / self->pg);
	ASSERT_ERRNO(0, __ioreq_vmm_add_memory(self->e.hv.fd, self->ram, RAM_GPA, len,
				     0));
	self->ram2 = memfd_of((RAM2_PAGES + 2) * self->pg);
	ASSERT_LE(0, self->ram2);
	ASSERT_ERRNO(0, __ioreq_vmm_add_memory(self->e.hv.fd, self->ram2, RAM_GPA + len,
				     RAM2_PAGES * self->pg, 2 * self->pg));
	self->low = memfd_of(LOW_PAGES * self->pg);
	ASSERT_LE(0, self->low);
	ASSERT_ERRNO(0, __ioreq_vmm_add_memory(self->e.hv.fd, self->low, LOW_GPA,
				     LOW_PAGES * self->pg, 0));
}

#define setup_ram() __setup_ram(_metadata, self)

/* What RAM holds at byte @i, as __setup_ram() filled it. */
static __u8 pattern(long pg, size_t i)
{
	return (__u8)(i * 7 + i / pg);
}

TEST_F(mem, caps)
{
	const __u64 want = IOREQ_CAP_GUEST_MEMORY_FD | IOREQ_CAP_PCI_CONFIG;

	ASSERT_EQ(want, self->e.att.caps & want);
}

/* ---- IOREQ_GUEST_MEMORY_FD ------------------------------------------- */

TEST_F(mem, memory_fd_bad)
{
	const long pg = self->pg;
	const __u64 len = RAM_PAGES * pg;
	struct ioreq_guest_memory_fd a;
	int be = self->e.be, fd;
	struct rlimit rl, low;

	/* Nothing lent yet. */
	EXPECT_ERRNO(ENXIO, __memory_fd(be, RAM_GPA, pg));
	setup_ram();

	memset(&a, 0, sizeof(a));
	a.gpa = RAM_GPA;
	a.len = pg;
	bad_struct(be, IOREQ_GUEST_MEMORY_FD, &a, sizeof(a),
		   offsetof(typeof(a), __reserved));

	EXPECT_ERRNO(EINVAL, __memory_fd(be, RAM_GPA + 1, pg));
	EXPECT_ERRNO(EINVAL, __memory_fd(be, RAM_GPA, pg + 1));
	EXPECT_ERRNO(EINVAL, __memory_fd(be, RAM_GPA, 0));
	EXPECT_ERRNO(EINVAL, __memory_fd(be, -pg, 2 * pg));
	/* Not memory, partly memory, two ranges however adjacent. */
	EXPECT_ERRNO(ENXIO, __memory_fd(be, RAM_GPA - pg, pg));
	EXPECT_ERRNO(ENXIO, __memory_fd(be, RAM_GPA - pg, 2 * pg));
	EXPECT_ERRNO(ENXIO, __memory_fd(be, RAM_GPA + len - pg, 2 * pg));
	EXPECT_ERRNO(ENXIO, __memory_fd(be, RAM_GPA,
					len + RAM2_PAGES * pg));
	EXPECT_ERRNO(ENXIO, __memory_fd(be, 0, 1ULL << 63));

	/* No descriptor left. */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);	/* the lowest free */
	ASSERT_LE(0, fd);
	close(fd);
	low = rl;
	low.rlim_cur = fd;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	EXPECT_ERRNO(EMFILE, __memory_fd(be, RAM_GPA, pg));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));

	/* The whole of each range is fine. */
	fd = __memory_fd(be, RAM_GPA + len, RAM2_PAGES * pg);
	ASSERT_LE(0, fd) TH_LOG("%s", ioreq_errname(fd));
	close(fd);

	/* Not attached. */
	fd = ioreq_backend_open();
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTCONN, __memory_fd(fd, RAM_GPA, pg));
	close(fd);

	/* The guest is gone. */
	ioreq_hv_destroy(&self->e.hv);
	EXPECT_ERRNO(ENODEV, __memory_fd(be, RAM_GPA, pg));
}

TEST_F(mem, memory_fd_file)
{
	const long pg = self->pg;
	const size_t len = RAM_PAGES * pg;
	__u8 *map, buf[8];
	struct stat st;
	size_t i;
	int fd;

	setup_ram();
	fd = __memory_fd(self->e.be, RAM_GPA, len);
	ASSERT_LE(0, fd) TH_LOG("%s", ioreq_errname(fd));

	/* What a daemon looks at before it maps. */
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	ASSERT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ((off_t)len, st.st_size);
	ASSERT_EQ(4096, st.st_blksize);
	ASSERT_EQ((off_t)len, lseek(fd, 0, SEEK_END));
	ASSERT_EQ((off_t)pg, lseek(fd, pg, SEEK_SET));
	ASSERT_EQ((off_t)len - pg, lseek(fd, -pg, SEEK_END));

	/* mmap() is all it does. */
	ASSERT_EQ(-1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, write(fd, buf, sizeof(buf)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_ERRNO(ENOTTY, __ioreq_ioctl(fd, IOREQ_GET_INFO, buf));
	ASSERT_EQ(-1, ftruncate(fd, 2 * len));
	ASSERT_EQ(EINVAL, errno);

	/* The VMM's pages, both ways. */
	map = map_at(fd, len, 0, MAP_SHARED);
	ASSERT_NE(NULL, map) TH_LOG("mmap: %s", strerror(errno));
	for (i = 0; i < len; i++)
		ASSERT_EQ(pattern(pg, i), map[i]) TH_LOG("byte %zu", i);
	map[5 * pg + 3] = 0xc3;
	ASSERT_EQ(0xc3, self->guest[5 * pg + 3]);
	self->guest[len - 1] = 0x3c;
	ASSERT_EQ(0x3c, map[len - 1]);
	/* It cannot grow past the range. */
	ASSERT_EQ(MAP_FAILED, mremap(map, len, len + pg, MREMAP_MAYMOVE));
	ASSERT_EQ(0, munmap(map, len));

	ASSERT_EQ(EINVAL, map_errno(fd, pg, 0, MAP_PRIVATE));
	close(fd);
}

/* The calls of libvhost-user and DPDK (offset 0) and rust-vmm (offset N). */
TEST_F(mem, memory_fd_offsets)
{
	const long pg = self->pg;
	const __u64 first = 2, pages = 8;	/* RAM pages 2 to 9 */
	__u8 *map;
	long i;
	int fd;

	setup_ram();
	fd = __memory_fd(self->e.be, RAM_GPA + first * pg, pages * pg);
	ASSERT_LE(0, fd) TH_LOG("%s", ioreq_errname(fd));

	/* rust-vmm: offset N pages, the rest of the file. */
	map = map_at(fd, (pages - 3) * pg, 3 * pg, MAP_SHARED);
	ASSERT_NE(NULL, map) TH_LOG("mmap: %s", strerror(errno));
	for (i = 0; i < (long)(pages - 3) * pg; i++)
		ASSERT_EQ(pattern(pg, (first + 3) * pg + i), map[i])
			TH_LOG("byte %ld", i);
	ASSERT_EQ(0, munmap(map, (pages - 3) * pg));

	/* libvhost-user: offset 0, size + mmap_offset, fine at mmap_offset 0 */
	map = map_at(fd, pages * pg, 0, MAP_SHARED);
	ASSERT_NE(NULL, map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(pattern(pg, first * pg), map[0]);
	ASSERT_EQ(0, munmap(map, pages * pg));
	/* ... and past the file with any other. */
	ASSERT_EQ(ENXIO, map_errno(fd, (pages + 3) * pg, 0, MAP_SHARED));
	ASSERT_EQ(ENXIO, map_errno(fd, 2 * pg, (pages - 1) * pg, MAP_SHARED));
	ASSERT_EQ(ENXIO, map_errno(fd, pg, pages * pg, MAP_SHARED));
	ASSERT_EQ(ENXIO, map_errno(fd, pg, 1L << 40, MAP_SHARED));
	ASSERT_EQ(EINVAL, map_errno(fd, pg, 3 * pg, MAP_PRIVATE));

	/* The second range: its pages start 2 pages into its memfd. */
	close(fd);
	fd = __memory_fd(self->e.be, RAM_GPA + RAM_PAGES * pg,
			 RAM2_PAGES * pg);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)1, pwrite(self->ram2, "\x77", 1, 2 * pg + 5));
	map = map_at(fd, pg, 0, MAP_SHARED);
	ASSERT_NE(NULL, map);
	ASSERT_EQ(0x77, map[5]);
	ASSERT_EQ(0, munmap(map, pg));
	close(fd);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'm';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * The daemon: checks the size as rust-vmm does, maps the range, checks
 * the pattern at @off and flips a byte.  Exit status: 0, or the step that
 * failed.
 */
static int child_daemon(int sock, long pg, size_t len)
{
	struct stat st;
	char rec[32];
	__u8 *map;
	int fd;

	fd = recv_fd(sock);
	if (fd < 0)
		return 1;
	if (fstat(fd, &st) || st.st_size != (off_t)len)
		return 2;
	map = map_at(fd, len, 0, MAP_SHARED);
	if (!map)
		return 3;
	if (map[pg + 1] != pattern(pg, pg + 1))
		return 4;
	map[pg + 1] = 0xee;
	/* No request rights come with it. */
	if (read(fd, rec, sizeof(rec)) != -1 || errno != EINVAL)
		return 5;
	munmap(map, len);
	close(fd);
	return 0;
}

TEST_F(mem, memory_fd_passed)
{
	const long pg = self->pg;
	const size_t len = RAM_PAGES * pg;
	int sv[2], fd, status;
	pid_t pid;

	setup_ram();
	fd = __memory_fd(self->e.be, RAM_GPA, len);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		_exit(child_daemon(sv[1], pg, len));
	}
	close(sv[1]);
	ASSERT_ERRNO(0, send_fd(sv[0], fd));
	/* The sender's copy may go at once. */
	close(fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failed at step %d",
						 WEXITSTATUS(status));
	ASSERT_EQ(0xee, self->guest[pg + 1]);
	close(sv[0]);
}

TEST_F(mem, memory_fd_outlives_session)
{
	const long pg = self->pg;
	__u8 *map;
	int fd;

	setup_ram();
	fd = __memory_fd(self->e.be, RAM_GPA, RAM_PAGES * pg);
	ASSERT_LE(0, fd);
	close(self->e.be);
	self->e.be = -1;
	map = map_at(fd, pg, 4 * pg, MAP_SHARED);
	ASSERT_NE(NULL, map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(pattern(pg, 4 * pg + 9), map[9]);
	map[9] = 0x99;
	ASSERT_EQ(0x99, self->guest[4 * pg + 9]);
	ASSERT_EQ(0, munmap(map, pg));
	close(fd);
}

/* After the guest's death: no new mapping, the old ones stay. */
TEST_F(mem, memory_fd_guest_death)
{
	const long pg = self->pg;
	__u8 *map;
	int fd;

	setup_ram();
	fd = __memory_fd(self->e.be, RAM_GPA, RAM_PAGES * pg);
	ASSERT_LE(0, fd);
	map = map_at(fd, 2 * pg, 0, MAP_SHARED);
	ASSERT_NE(NULL, map);
	close(self->e.be);
	self->e.be = -1;
	ioreq_hv_destroy(&self->e.hv);

	ASSERT_EQ(ENODEV, map_errno(fd, pg, 0, MAP_SHARED));
	ASSERT_EQ(EINVAL, map_errno(fd, pg, 0, MAP_PRIVATE));
	ASSERT_EQ(pattern(pg, pg + 2), map[pg + 2]);
	map[pg + 2] = 0x5e;
	ASSERT_EQ(0x5e, self->guest[pg + 2]);
	ASSERT_EQ(0, munmap(map, 2 * pg));
	close(fd);
}

/* ---- IOREQ_GET_MEMORY_MAP --------------------------------------------- */

TEST_F(mem, memory_map)
{
	const long pg = self->pg;
	struct ioreq_memory_range r[5];
	struct ioreq_memory_map m;
	const struct {
		__u64 gpa, len;
	} want[] = {
		{ LOW_GPA, LOW_PAGES * pg },
		{ RAM_GPA, RAM_PAGES * pg },
		{ RAM_GPA + RAM_PAGES * pg, RAM2_PAGES * pg },
	};
	unsigned int i;
	int be = self->e.be, fd;

	ASSERT_RET(0, __memory_map(be, NULL, 0));
	setup_ram();

	/* The count alone, then one, then all: sorted, not merged. */
	ASSERT_RET(3, __memory_map(be, NULL, 0));
	memset(r, 0xa5, sizeof(r));
	ASSERT_RET(3, __memory_map(be, r, 1));
	ASSERT_EQ(want[0].gpa, r[0].gpa);
	ASSERT_EQ(0xa5a5a5a5a5a5a5a5ULL, r[1].gpa);
	memset(r, 0xa5, sizeof(r));
	ASSERT_RET(3, __memory_map(be, r, ARRAY_SIZE(r)));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		ASSERT_EQ(want[i].gpa, r[i].gpa) TH_LOG("range %u", i);
		ASSERT_EQ(want[i].len, r[i].len) TH_LOG("range %u", i);
		ASSERT_EQ(0U, r[i].flags);
		ASSERT_EQ(0U, r[i].__reserved);
		/* Each is a valid memory file. */
		fd = __memory_fd(be, r[i].gpa, r[i].len);
		ASSERT_LE(0, fd) TH_LOG("range %u: %s", i, ioreq_errname(fd));
		close(fd);
	}
	ASSERT_EQ(0xa5a5a5a5a5a5a5a5ULL, r[3].gpa);

	memset(&m, 0, sizeof(m));
	m.nr_ranges = 1;
	m.ranges = (__u64)(uintptr_t)r;
	bad_struct(be, IOREQ_GET_MEMORY_MAP, &m, sizeof(m),
		   offsetof(typeof(m), __reserved));
	m.ranges = 8;
	EXPECT_ERRNO(EFAULT, __ioreq_ioctl_sized(be, IOREQ_GET_MEMORY_MAP,
						 &m, sizeof(m), sizeof(m), 0));

	fd = ioreq_backend_open();
	ASSERT_LE(0, fd);
	EXPECT_ERRNO(ENOTCONN, __memory_map(fd, r, 1));
	close(fd);
	ioreq_hv_destroy(&self->e.hv);
	EXPECT_ERRNO(ENODEV, __memory_map(be, r, 1));
}

/* Guest RAM must be shmem: a ramfs file, regular and mappable, is not. */
TEST_F(mem, add_memory_shmem_only)
{
	char dir[] = "/tmp/ioreq-ramfs-XXXXXX", path[64];
	const long pg = self->pg;
	int fd;

	ASSERT_NE(NULL, mkdtemp(dir));
	if (mount("none", dir, "ramfs", 0, NULL)) {
		rmdir(dir);
		SKIP(return, "mount ramfs: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/ram", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	EXPECT_LE(0, fd);
	if (fd >= 0) {
		EXPECT_EQ(0, ftruncate(fd, pg));
		EXPECT_ERRNO(EINVAL, __ioreq_vmm_add_memory(self->e.hv.fd, fd, RAM_GPA,
						  pg, 0));
		close(fd);
	}
	/* A tmpfs file is shmem: fine. */
	fd = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0) {
		EXPECT_EQ(0, ftruncate(fd, pg));
		EXPECT_ERRNO(0, __ioreq_vmm_add_memory(self->e.hv.fd, fd, RAM_GPA, pg,
					     0));
		close(fd);
	} else {
		TH_LOG("no tmpfs at /dev/shm (%s): memfds only", strerror(errno));
	}
	unlink(path);
	umount(dir);
	rmdir(dir);
}

/* Copies past the memfd's end fail, and a write does not grow it. */
TEST_F(mem, add_memory_short_file)
{
	const long pg = self->pg;
	struct ioreq_guest_rw rw = {
		.size = sizeof(rw),
		.addr = RAM_GPA + 3 * pg,
		.len = 8,
	};
	__u64 v = 0x1122334455667788ULL;
	struct stat st;
	int fd;

	fd = memfd_of(2 * pg);
	ASSERT_LE(0, fd);
	ASSERT_ERRNO(0, __ioreq_vmm_add_memory(self->e.hv.fd, fd, RAM_GPA,
					       4 * pg, 0));
	rw.buf = (__u64)(uintptr_t)&v;
	EXPECT_ERRNO(ENXIO, __ioreq_ioctl(self->e.be, IOREQ_WRITE_GUEST, &rw));
	EXPECT_ERRNO(ENXIO, __ioreq_ioctl(self->e.be, IOREQ_READ_GUEST, &rw));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(2 * pg, st.st_size);
	/* Inside the file, both work. */
	rw.addr = RAM_GPA + pg;
	EXPECT_ERRNO(0, __ioreq_ioctl(self->e.be, IOREQ_WRITE_GUEST, &rw));
	v = 0;
	EXPECT_ERRNO(0, __ioreq_ioctl(self->e.be, IOREQ_READ_GUEST, &rw));
	EXPECT_EQ(0x1122334455667788ULL, v);
	close(fd);
}

/* ---- PCI configuration space ------------------------------------------ */

TEST_F(mem, pci_config)
{
	static const struct {
		__u32 reg;
		__u8 len;
	} bad[] = {
		{ 0x1000, 4 }, { 0x80000000, 4 }, { 0x10, 8 }, { 0x13, 2 },
		{ 0x12, 4 }, { 0xfff, 2 },
	};
	struct ioreq_vmm_access a;
	unsigned int i;
	struct ioreq_vcpu v;
	struct ioreq_cmd c;
	__u32 id;
	int hv = self->e.hv.fd;

	/* Function 0000:00:03.0 whole, and nothing of 00:03.1. */
	ioreq_claim(self->e.be, IOREQ_SPACE_PCI_CONFIG, PCI_CFG(SBDF, 0),
		    0x1000, 77, &id);

	ioreq_vcpu_run(&v, &self->e.hv, 1, IOREQ_SPACE_PCI_CONFIG,
		       IOREQ_OP_READ, 4, PCI_CFG(SBDF, 0x10), 0, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_READ, 4, 1, 77, 0x10, 0);
	c.data = 0xfebf0000;
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0xfebf0000);

	/* Extended space, 2 bytes within a dword. */
	ioreq_vcpu_run(&v, &self->e.hv, 0, IOREQ_SPACE_PCI_CONFIG,
		       IOREQ_OP_WRITE, 2, PCI_CFG(SBDF, 0x106), 0xbeef, 0);
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_WRITE, 2, 0, 77, 0x106, 0xbeef);
	ioreq_respond(self->e.be, &c);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);

	/* The next function is nobody's: all ones. */
	ASSERT_ERRNO(0, ioreq_hv_access(&self->e.hv, &a, 0,
					IOREQ_SPACE_PCI_CONFIG, IOREQ_OP_READ,
					1, PCI_CFG(SBDF + 1, 0), 0, 0));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);
	ASSERT_EQ(0xffULL, a.data & 0xff);

	/* An access written to the guest's fd, as the ioctl. */
	ioreq_access_init(&a, 1, IOREQ_SPACE_PCI_CONFIG, IOREQ_OP_WRITE, 1,
			  PCI_CFG(SBDF, 0x3c), 0x0b, 0);
	ASSERT_EQ((ssize_t)sizeof(a), write(hv, &a, sizeof(a)));
	ioreq_expect_cmd(self->e.be, &c);
	ASSERT_CMD_MATCHES(&c, IOREQ_OP_WRITE, 1, 1, 77, 0x3c, 0x0b);
	ioreq_respond(self->e.be, &c);
	{
		struct ioreq_vmm_event ev;

		ASSERT_EQ(POLLIN, ioreq_poll(hv, POLLIN, IOREQ_WAIT_MS) &
				  POLLIN);
		ASSERT_EQ((ssize_t)sizeof(ev), read(hv, &ev, sizeof(ev)));
		ASSERT_EQ((__u32)IOREQ_VMM_EVENT_DONE, ev.type);
		ASSERT_EQ(IOREQ_VMM_STATUS_DONE, ev.done.status);
		ASSERT_EQ((__u8)IOREQ_SPACE_PCI_CONFIG, ev.done.space);
		ASSERT_EQ(PCI_CFG(SBDF, 0x3c), ev.done.addr);
	}

	/* Register 4096 and up, 8 bytes, across a dword: refused. */
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ASSERT_ERRNO_MSG(EINVAL,
				 ioreq_hv_access(&self->e.hv, &a, 0,
						 IOREQ_SPACE_PCI_CONFIG,
						 IOREQ_OP_READ, bad[i].len,
						 PCI_CFG(SBDF, bad[i].reg), 0, 0),
				 "register %#x, %u bytes", bad[i].reg,
				 bad[i].len);
	ioreq_access_init(&a, 1, IOREQ_SPACE_PCI_CONFIG, IOREQ_OP_WRITE, 4,
			  PCI_CFG(SBDF, 0xffe), 0, 0);
	ASSERT_EQ(-1, write(hv, &a, sizeof(a)));
	ASSERT_EQ(EINVAL, errno);
	/* Still one space past it. */
	ASSERT_ERRNO(EINVAL, ioreq_hv_access(&self->e.hv, &a, 0,
					     IOREQ_SPACE_PCI_CONFIG + 1,
					     IOREQ_OP_READ, 4, 0, 0, 0));
}

/* ---- a provider without guest memory ---------------------------------- */

FIXTURE(nomem) {
	struct ioreq_env e;
};

IOREQ_FIXTURE_VARIANT(nomem);
FIXTURE_VARIANT_ADD(nomem, xen_double) { .hv = &ioreq_hv_xd, };

FIXTURE_SETUP(nomem)
{
	ioreq_env_setup(&self->e, variant->hv, 1);
}

FIXTURE_TEARDOWN(nomem)
{
	ioreq_env_teardown(&self->e);
}

TEST_F(nomem, unsupported)
{
	struct ioreq_memory_range r;

	ASSERT_EQ(0ULL, self->e.att.caps & IOREQ_CAP_GUEST_MEMORY_FD);
	EXPECT_ERRNO(EOPNOTSUPP, __memory_fd(self->e.be, 0, 4096));
	EXPECT_ERRNO(EOPNOTSUPP, __memory_map(self->e.be, &r, 1));
}

TEST_HARNESS_MAIN
