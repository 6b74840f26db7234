// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq on a real Xen, from dom0: what the Xen provider answers to bad
 * and good arguments of the guest-memory, interrupt and eventfd calls.
 * It needs a running or paused HVM/PVH domain, named by IOREQ_XEN_DOMID
 * (the Xen lane's "device" scenario runs it before unpausing its guest),
 * and skips everywhere else.  Nothing here injects an interrupt into the
 * guest: the scenario's guest side checks delivery.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ioreq_util.h"

#ifdef __aarch64__
/* Xen on Arm: a guest's first RAM bank (GUEST_RAM0_BASE). */
#define GUEST_RAM	0x40000000ULL
#else
/* RAM in every PVH and HVM guest: above the legacy hole, below 16 MiB. */
#define GUEST_RAM	0x100000ULL
#endif
/* Far beyond the memory of any test guest. */
#define NOT_RAM		(1ULL << 40)

static int __guest_rw(int fd, unsigned long cmd, __u64 addr, __u64 len,
		      void *buf)
{
	struct ioreq_guest_rw a = {
		.size = sizeof(a), .addr = addr, .len = len,
		.buf = (__u64)(uintptr_t)buf,
	};

	return __ioreq_ioctl(fd, cmd, &a);
}

static int __inject(int fd, __u32 level, const struct ioreq_irq *irq)
{
	struct ioreq_inject a = { .size = sizeof(a), .level = level,
				  .irq = *irq };

	return __ioreq_ioctl(fd, IOREQ_INJECT_IRQ, &a);
}

static int __irqfd(int fd, int efd, __u32 flags, const struct ioreq_irq *irq)
{
	struct ioreq_irqfd a = { .size = sizeof(a), .flags = flags, .fd = efd,
				 .irq = *irq };

	return __ioreq_ioctl(fd, IOREQ_IRQFD, &a);
}

static int __ioeventfd(int fd, int efd, __u64 addr, __u32 len)
{
	struct ioreq_ioeventfd a = { .size = sizeof(a), .fd = efd,
				     .space = IOREQ_SPACE_MMIO, .len = len,
				     .addr = addr };

	return __ioreq_ioctl(fd, IOREQ_IOEVENTFD, &a);
}

/* -errno of mmap(), or 0 after unmapping what it gave. */
static int try_mmap(int fd, __u64 gpa, size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd,
		       (off_t)gpa);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

FIXTURE(xen) {
	int fd;
	struct ioreq_attach at;
};

FIXTURE_SETUP(xen)
{
	const char *domid = getenv("IOREQ_XEN_DOMID");

	self->fd = -1;
	if (!domid || !*domid)
		SETUP_SKIP("IOREQ_XEN_DOMID is not set: runs in a Xen dom0 scenario only");
	self->fd = ioreq_backend_open();
	ASSERT_GE(self->fd, 0);
	ASSERT_ERRNO(0, __ioreq_attach(self->fd, IOREQ_PROVIDER_XEN,
				       strtoull(domid, NULL, 0), &self->at));
}

FIXTURE_TEARDOWN(xen)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* What Xen can do on every architecture, and what the core adds. */
#define XEN_CAPS	(IOREQ_CAP_MMIO | IOREQ_CAP_IRQ_LINE | \
			 IOREQ_CAP_IRQFD | IOREQ_CAP_IOEVENTFD | \
			 IOREQ_CAP_GUEST_MEMORY | IOREQ_CAP_GUEST_MEMORY_FD | \
			 IOREQ_CAP_INVALIDATE | IOREQ_CAP_REDELIVER)
/* What only Xen on x86 can: Xen on Arm has MMIO and SPIs only. */
#define XEN_X86_CAPS	(IOREQ_CAP_PIO | IOREQ_CAP_PCI_CONFIG | \
			 IOREQ_CAP_POSTED_WRITES | IOREQ_CAP_IRQ_PCI_INTX | \
			 IOREQ_CAP_IRQ_MSI)

TEST_F(xen, caps)
{
	struct ioreq_info info;
#ifdef __aarch64__
	const __u64 want = XEN_CAPS;
#else
	const __u64 want = XEN_CAPS | XEN_X86_CAPS;
#endif

	/* Exactly these, at attach and in IOREQ_GET_INFO. */
	EXPECT_EQ(want, self->at.caps);
	ASSERT_ERRNO(0, __ioreq_get_info(self->fd, &info));
	EXPECT_EQ(want, info.caps);
	EXPECT_GE(self->at.nr_vcpus, 1U);
}

#ifdef __aarch64__
/* Xen on Arm: no port I/O, PCI config space or posted writes. */
TEST_F(xen, arm_no_pio)
{
	__u32 id;

	EXPECT_ERRNO(EOPNOTSUPP, __ioreq_claim(self->fd, IOREQ_SPACE_PIO,
					       0x5000, 8, 0, 0, &id));
	EXPECT_ERRNO(EOPNOTSUPP, __ioreq_claim(self->fd,
					       IOREQ_SPACE_PCI_CONFIG, 0,
					       0x100, 0, 0, &id));
	EXPECT_ERRNO(EOPNOTSUPP,
		     __ioreq_claim(self->fd, IOREQ_SPACE_MMIO, 0x02000000,
				   0x1000, 0, IOREQ_REGION_POSTED_WRITES,
				   &id));
}
#endif

TEST_F(xen, copy_round_trip)
{
	__u8 saved[64], buf[64], back[64];
	unsigned int i;

	ASSERT_ERRNO(0, __guest_rw(self->fd, IOREQ_READ_GUEST, GUEST_RAM,
				   sizeof(saved), saved));
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = saved[i] ^ 0xa5;
	ASSERT_ERRNO(0, __guest_rw(self->fd, IOREQ_WRITE_GUEST, GUEST_RAM,
				   sizeof(buf), buf));
	ASSERT_ERRNO(0, __guest_rw(self->fd, IOREQ_READ_GUEST, GUEST_RAM,
				   sizeof(back), back));
	EXPECT_EQ(0, memcmp(buf, back, sizeof(buf)));
	/* The guest is paused and has not run: put its bytes back. */
	ASSERT_ERRNO(0, __guest_rw(self->fd, IOREQ_WRITE_GUEST, GUEST_RAM,
				   sizeof(saved), saved));
}

TEST_F(xen, copy_across_frames)
{
	__u8 buf[256];

	/* 128 bytes on each side of a frame boundary. */
	EXPECT_ERRNO(0, __guest_rw(self->fd, IOREQ_READ_GUEST,
				   GUEST_RAM + 0x1000 - 128, sizeof(buf), buf));
}

TEST_F(xen, copy_bad)
{
	__u8 buf[16];

	EXPECT_ERRNO(EINVAL, __guest_rw(self->fd, IOREQ_READ_GUEST, GUEST_RAM,
					0, buf));
	EXPECT_ERRNO(EINVAL, __guest_rw(self->fd, IOREQ_READ_GUEST, GUEST_RAM,
					(1 << 20) + 1, buf));
	EXPECT_ERRNO(EINVAL, __guest_rw(self->fd, IOREQ_READ_GUEST, ~0ULL - 4,
					16, buf));
	EXPECT_ERRNO(ENXIO, __guest_rw(self->fd, IOREQ_READ_GUEST, NOT_RAM,
				       sizeof(buf), buf));
	EXPECT_ERRNO(ENXIO, __guest_rw(self->fd, IOREQ_WRITE_GUEST, NOT_RAM,
				       sizeof(buf), buf));
	EXPECT_ERRNO(EFAULT, __guest_rw(self->fd, IOREQ_READ_GUEST, GUEST_RAM,
					sizeof(buf), (void *)8));
}

TEST_F(xen, mmap_good_and_bad)
{
	long pg = sysconf(_SC_PAGESIZE);
	volatile __u8 *p;
	__u8 byte;

	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 (off_t)GUEST_RAM);
	ASSERT_NE(MAP_FAILED, (void *)p);
	ASSERT_ERRNO(0, __guest_rw(self->fd, IOREQ_READ_GUEST, GUEST_RAM + pg,
				   1, &byte));
	/* The mapping and the copy see the same guest byte. */
	EXPECT_EQ(byte, p[pg]);
	munmap((void *)p, 2 * pg);

	EXPECT_ERRNO(ENXIO, try_mmap(self->fd, NOT_RAM, pg, MAP_SHARED));
	EXPECT_ERRNO(ENXIO, try_mmap(self->fd, NOT_RAM - pg, 2 * pg,
				     MAP_SHARED));
	EXPECT_ERRNO(EINVAL, try_mmap(self->fd, GUEST_RAM, pg, MAP_PRIVATE));
}

TEST_F(xen, mapping_outlives_the_file)
{
	long pg = sysconf(_SC_PAGESIZE);
	volatile __u8 *p;
	__u8 byte;

	ASSERT_ERRNO(0, __guest_rw(self->fd, IOREQ_READ_GUEST, GUEST_RAM, 1,
				   &byte));
	p = mmap(NULL, pg, PROT_READ, MAP_SHARED, self->fd, (off_t)GUEST_RAM);
	ASSERT_NE(MAP_FAILED, (void *)p);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(byte, p[0]);
	munmap((void *)p, pg);
}

/* IOREQ_GUEST_MEMORY_FD: foreign mappings through a file of their own. */
TEST_F(xen, memory_fd)
{
	const long pg = sysconf(_SC_PAGESIZE);
	struct ioreq_guest_memory_fd a = {
		.size = sizeof(a), .gpa = GUEST_RAM, .len = 4 * pg,
	};
	struct ioreq_memory_map m = { .size = sizeof(m) };
	volatile __u8 *p;
	struct stat st;
	__u8 byte;

	ASSERT_NE(0ULL, self->at.caps & IOREQ_CAP_GUEST_MEMORY_FD);
	/* Xen tells a dom0 no memory map. */
	EXPECT_ERRNO(EOPNOTSUPP, __ioreq_ioctl(self->fd, IOREQ_GET_MEMORY_MAP,
					       &m));
	ASSERT_ERRNO(0, __ioreq_ioctl(self->fd, IOREQ_GUEST_MEMORY_FD, &a));
	ASSERT_EQ(0, fstat(a.fd, &st));
	EXPECT_EQ(4 * pg, st.st_size);
	ASSERT_ERRNO(0, __guest_rw(self->fd, IOREQ_READ_GUEST,
				   GUEST_RAM + 2 * pg + 5, 1, &byte));
	/* The session may go: the file maps on its own, at offset 0 = gpa. */
	close(self->fd);
	self->fd = -1;
	p = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, a.fd, pg);
	ASSERT_NE(MAP_FAILED, (void *)p);
	EXPECT_EQ(byte, p[pg + 5]);
	munmap((void *)p, 2 * pg);
	EXPECT_ERRNO(ENXIO, try_mmap(a.fd, 0, 5 * pg, MAP_SHARED));
	EXPECT_ERRNO(EINVAL, try_mmap(a.fd, 0, pg, MAP_PRIVATE));
	close(a.fd);
}

TEST_F(xen, memory_fd_bad)
{
	struct ioreq_guest_memory_fd a = {
		.size = sizeof(a), .gpa = NOT_RAM, .len = 0x1000,
	};

	EXPECT_ERRNO(ENXIO, __ioreq_ioctl(self->fd, IOREQ_GUEST_MEMORY_FD, &a));
	a.gpa = GUEST_RAM + 1;
	EXPECT_ERRNO(EINVAL, __ioreq_ioctl(self->fd, IOREQ_GUEST_MEMORY_FD,
					   &a));
}

/* The guest's byte at @gpa, through the copy interface. */
static int guest_byte(int fd, __u64 gpa, __u8 *byte)
{
	return __guest_rw(fd, IOREQ_READ_GUEST, gpa, 1, byte);
}

/* -errno of mremap(), or 0 if it gave @old back (nothing moved). */
static int try_mremap(void *old, size_t old_len, size_t new_len, int flags,
		      void *new)
{
	void *p = mremap(old, old_len, new_len, flags, new);

	if (p == MAP_FAILED)
		return -errno;
	return p == old ? 0 : -EEXIST;
}

/*
 * A mapping is one piece that never moves: mremap() is refused in every
 * form, before the kernel touches a page table entry (on a PV dom0 a
 * moved foreign PTE is refused by Xen, a WARN; on a PVH dom0 the moved
 * vma outlived the frames behind it), and so are a partial munmap() and
 * mprotect().  After all that the mapping still shows the guest's bytes,
 * both ways, and goes cleanly.
 */
TEST_F(xen, mapping_is_one_piece)
{
	long pg = sysconf(_SC_PAGESIZE);
	volatile __u8 *p;
	__u8 byte, flip;
	void *spare;

	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 (off_t)GUEST_RAM);
	ASSERT_NE(MAP_FAILED, (void *)p);
	/* Somewhere to move to: a reservation of our own. */
	spare = mmap(NULL, 4 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	ASSERT_NE(MAP_FAILED, spare);

	/* Move: to a fixed address, keeping the old one. */
	EXPECT_ERRNO(EINVAL, try_mremap((void *)p, 2 * pg, 2 * pg,
					MREMAP_MAYMOVE | MREMAP_FIXED, spare));
	EXPECT_ERRNO(EINVAL, try_mremap((void *)p, 2 * pg, 2 * pg,
					MREMAP_MAYMOVE | MREMAP_DONTUNMAP,
					NULL));
	/* May move but need not: the same size stays where it is. */
	EXPECT_ERRNO(0, try_mremap((void *)p, 2 * pg, 2 * pg,
				   MREMAP_MAYMOVE, NULL));
	/* Part of it, to a fixed address: refused too. */
	EXPECT_ERRNO(EINVAL, try_mremap((void *)p, pg, pg,
					MREMAP_MAYMOVE | MREMAP_FIXED, spare));
	/* Grow, in place or moving, and a second copy (old_len 0). */
	EXPECT_ERRNO(EFAULT, try_mremap((void *)p, 2 * pg, 3 * pg, 0, NULL));
	EXPECT_ERRNO(EFAULT, try_mremap((void *)p, 2 * pg, 3 * pg,
					MREMAP_MAYMOVE, NULL));
	EXPECT_ERRNO(EFAULT, try_mremap((void *)p, 0, 2 * pg,
					MREMAP_MAYMOVE, NULL));
	/* Shrink, in place or moving. */
	EXPECT_ERRNO(EINVAL, try_mremap((void *)p, 2 * pg, pg, 0, NULL));
	EXPECT_ERRNO(EINVAL, try_mremap((void *)p, 2 * pg, pg,
					MREMAP_MAYMOVE | MREMAP_FIXED, spare));
	/* The same size in place is no change at all. */
	EXPECT_ERRNO(0, try_mremap((void *)p, 2 * pg, 2 * pg, 0, NULL));
	/* Part of it. */
	EXPECT_EQ(-1, munmap((void *)(p + pg), pg));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mprotect((void *)p, pg, PROT_READ));
	EXPECT_EQ(EINVAL, errno);

	/* Still the guest's bytes, and still shared with the guest. */
	ASSERT_ERRNO(0, guest_byte(self->fd, GUEST_RAM, &byte));
	EXPECT_EQ(byte, p[0]);
	ASSERT_ERRNO(0, guest_byte(self->fd, GUEST_RAM + pg, &byte));
	EXPECT_EQ(byte, p[pg]);
	p[pg] = byte ^ 0x5a;
	ASSERT_ERRNO(0, guest_byte(self->fd, GUEST_RAM + pg, &flip));
	EXPECT_EQ((__u8)(byte ^ 0x5a), flip);
	/* The guest is paused and has not run: put its byte back. */
	p[pg] = byte;

	EXPECT_EQ(0, munmap((void *)p, 2 * pg));
	EXPECT_EQ(0, munmap(spare, 4 * pg));
}

#define CHILD_SEGV	42

static void child_segv(int sig __attribute__((unused)))
{
	_exit(CHILD_SEGV);
}

/*
 * fork(): the child does not inherit the mapping (touching it is a
 * SIGSEGV), madvise(MADV_DOFORK) cannot change that, and the parent's
 * mapping is as it was.
 */
TEST_F(xen, mapping_not_inherited)
{
	long pg = sysconf(_SC_PAGESIZE);
	volatile __u8 *p;
	int status;
	__u8 byte;
	pid_t pid;

	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 (off_t)GUEST_RAM);
	ASSERT_NE(MAP_FAILED, (void *)p);
	EXPECT_EQ(-1, madvise((void *)p, pg, MADV_DOFORK));
	EXPECT_EQ(EINVAL, errno);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/*
		 * Caught, so that the kernel logs no "segfault" line (the
		 * lane counts those as a crash); the exit status tells.
		 */
		signal(SIGSEGV, child_segv);
		(void)p[0];
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(CHILD_SEGV, WEXITSTATUS(status))
		TH_LOG("the child read the parent's mapping");

	ASSERT_ERRNO(0, guest_byte(self->fd, GUEST_RAM, &byte));
	EXPECT_EQ(byte, p[0]);
	EXPECT_EQ(0, munmap((void *)p, pg));
}

#ifdef __aarch64__
TEST_F(xen, inject_bad)
{
	struct ioreq_irq sgi = { .kind = IOREQ_IRQ_LINE, .line = 0 };
	struct ioreq_irq ppi = { .kind = IOREQ_IRQ_LINE, .line = 31 };
	struct ioreq_irq beyond = { .kind = IOREQ_IRQ_LINE, .line = 1020 };
	struct ioreq_irq intx = { .kind = IOREQ_IRQ_PCI_INTX };
	struct ioreq_irq msi = { .kind = IOREQ_IRQ_MSI,
				 .msi_addr = 0x08090040, .msi_data = 1 };

	/* SGIs and PPIs are per vcpu: only SPIs, from 32. */
	EXPECT_ERRNO(EINVAL, __inject(self->fd, 1, &sgi));
	EXPECT_ERRNO(EINVAL, __inject(self->fd, 1, &ppi));
	/* Beyond the guest's vGIC: Xen refuses. */
	EXPECT_ERRNO(EINVAL, __inject(self->fd, 1, &beyond));
	EXPECT_ERRNO(EOPNOTSUPP, __inject(self->fd, 1, &intx));
	EXPECT_ERRNO(EOPNOTSUPP, __inject(self->fd, 1, &msi));
}

TEST_F(xen, irqfd_bind)
{
	struct ioreq_irq spi = { .kind = IOREQ_IRQ_LINE, .line = 40 };
	struct ioreq_irq ppi = { .kind = IOREQ_IRQ_LINE, .line = 31 };
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_GE(efd, 0);
	/* Refused at bind, not at the signal. */
	EXPECT_ERRNO(EINVAL, __irqfd(self->fd, efd, 0, &ppi));
	ASSERT_ERRNO(0, __irqfd(self->fd, efd, 0, &spi));
	EXPECT_ERRNO(EEXIST, __irqfd(self->fd, efd, 0, &spi));
	EXPECT_ERRNO(0, __irqfd(self->fd, efd, IOREQ_IRQFD_DEASSIGN, &spi));
	close(efd);
}
#else
TEST_F(xen, inject_bad)
{
	struct ioreq_irq isa16 = { .kind = IOREQ_IRQ_LINE, .line = 16 };
	struct ioreq_irq bus1 = { .kind = IOREQ_IRQ_PCI_INTX,
				  .sbdf = 1 << 8 };
	struct ioreq_irq msi = { .kind = IOREQ_IRQ_MSI,
				 .msi_addr = 0xfee00000, .msi_data = 0xfe };
	struct ioreq_irq bad_kind = { .kind = 7 };

	/* Xen's ISA IRQs are 0-15; its PCI INTx is segment 0, bus 0 only. */
	EXPECT_ERRNO(EINVAL, __inject(self->fd, 1, &isa16));
	EXPECT_ERRNO(EINVAL, __inject(self->fd, 1, &bus1));
	EXPECT_ERRNO(EINVAL, __inject(self->fd, 0, &msi));
	EXPECT_ERRNO(EINVAL, __inject(self->fd, 2, &msi));
	EXPECT_ERRNO(EINVAL, __inject(self->fd, 1, &bad_kind));
}

TEST_F(xen, irqfd_bind)
{
	struct ioreq_irq msi = { .kind = IOREQ_IRQ_MSI,
				 .msi_addr = 0xfee00000, .msi_data = 0xfe };
	struct ioreq_irq isa16 = { .kind = IOREQ_IRQ_LINE, .line = 16 };
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_GE(efd, 0);
	EXPECT_ERRNO(EBADF, __irqfd(self->fd, -1, 0, &msi));
	EXPECT_ERRNO(EINVAL, __irqfd(self->fd, self->fd, 0, &msi));
	EXPECT_ERRNO(ENOENT, __irqfd(self->fd, efd, IOREQ_IRQFD_DEASSIGN,
				     &msi));
	ASSERT_ERRNO(0, __irqfd(self->fd, efd, 0, &msi));
	EXPECT_ERRNO(EEXIST, __irqfd(self->fd, efd, 0, &msi));
	EXPECT_ERRNO(0, __irqfd(self->fd, efd, IOREQ_IRQFD_DEASSIGN, &msi));
	/* Bound without a signal; closing the file tears it down. */
	/* Xen takes ISA IRQs 0-15 only: refused at bind, not at the signal. */
	EXPECT_ERRNO(EINVAL, __irqfd(self->fd, efd, 0, &isa16));
	ASSERT_ERRNO(0, __irqfd(self->fd, efd, 0, &msi));
	close(efd);
}
#endif

TEST_F(xen, ioeventfd_bind)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	__u32 id;

	ASSERT_GE(efd, 0);
	/* Not inside a region of this session. */
	EXPECT_ERRNO(EINVAL, __ioeventfd(self->fd, efd, 0xe0000100, 4));
	ASSERT_ERRNO(0, __ioreq_claim(self->fd, IOREQ_SPACE_MMIO, 0xe0002000,
				      0x1000, 0, 0, &id));
	EXPECT_ERRNO(EINVAL, __ioeventfd(self->fd, efd, 0xe0002100, 3));
	EXPECT_ERRNO(EINVAL, __ioeventfd(self->fd, efd, 0xe0002ffe, 4));
	ASSERT_ERRNO(0, __ioeventfd(self->fd, efd, 0xe0002100, 4));
	EXPECT_ERRNO(EEXIST, __ioeventfd(self->fd, efd, 0xe0002100, 4));
	/* The region, the binding and the eventfd go with the file. */
	close(efd);
}

TEST_HARNESS_MAIN
