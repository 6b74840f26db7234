// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq_fuzz: a seeded uapi fuzzer and kill storm for /dev/ioreq.
 *
 * The parent plays the hypervisor: it creates guests on /dev/ioreq-vmm and
 * runs one thread per vcpu issuing random accesses.  Backend children do
 * random sequences of every /dev/ioreq call with valid, boundary and
 * garbage arguments over several fds and two threads each, and the parent
 * kills them with SIGKILL at random points while vcpus are blocked on them.
 * A guest is destroyed and created again now and then under its backends.
 *
 * Checked: every errno is one the uapi documents for that call, every
 * access returns within its timeout (no stuck vcpu), aborted and unclaimed
 * reads return all ones.  The kernel side (KASAN, lockdep, kmemleak, slab
 * counts) is checked by the runner around this program.
 *
 * Usage: ioreq_fuzz [-s seed] [-n min_ops] [-k min_kills] [-t seconds]
 * Runs until both targets are met, or for -t seconds when both are 0 (as
 * load for other tests); fails if -t passes first.  The run is
 * reproducible per process from the printed seed (thread timing is not).
 * Prints KTAP; exits 0 when the targets were met with no error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioreq.h>
#include <linux/ioreq_vmm.h>

#define NR_GUESTS	3
#define NR_VCPUS	4
#define NR_BACKENDS	3
#define GUEST_ID_BASE	4000
#define MMIO_BASE	0x100000ULL
#define MMIO_SPAN	0x4000ULL
#define PIO_BASE	0x1000ULL
#define PIO_SPAN	0x400ULL
#define MEM_GPA		0x80000000ULL	/* each guest's RAM */
#define MEM_PAGES	16ULL
#define PCI_SBDFS	4	/* 0000:00:00.0 to .3 */
#define MAX_FDS		4
#define MAX_IDS		32
#define STUCK_SLACK_MS	5000

struct shared {
	atomic_ulong ops;
	atomic_ulong bad;
	char first_bad[256];
};

static struct shared *sh;
static atomic_bool stopping;

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static void bad(const char *what, int err)
{
	if (atomic_fetch_add(&sh->bad, 1) == 0)
		snprintf(sh->first_bad, sizeof(sh->first_bad),
			 "%s: unexpected %s (%d)", what, strerror(err), err);
}

static void op_done(void)
{
	atomic_fetch_add_explicit(&sh->ops, 1, memory_order_relaxed);
}

/* Is @err an errno the uapi documents for this kind of call? */
static bool allowed(const char *kind, int err)
{
	static const int ioctl_errs[] = { EINVAL, E2BIG, EFAULT, ENOTTY,
		ENOTCONN, ENODEV, EEXIST, ENOSPC, ENOENT, EOPNOTSUPP, EBUSY,
		ESRCH, EBADF, ENXIO, EMFILE, 0 };
	static const int read_errs[] = { EINVAL, EAGAIN, ENODEV, ENOTCONN,
		EFAULT, EBADF, 0 };
	static const int write_errs[] = { EINVAL, ENOENT, ENODEV, ENOTCONN,
		EFAULT, EBADF, 0 };
	const int *l = kind[0] == 'i' ? ioctl_errs :
		       kind[0] == 'r' ? read_errs : write_errs;

	for (; *l; l++)
		if (*l == err)
			return true;
	return false;
}

static void check(const char *kind, long ret)
{
	op_done();
	if (ret < 0 && !allowed(kind, errno))
		bad(kind, errno);
}

static uint64_t ones(unsigned int len)
{
	return len >= 8 ? ~0ULL : (1ULL << (len * 8)) - 1;
}

/*
 * The kill loop is one thread among many busy ones on few CPUs: lower the
 * others (per thread on Linux) so that kills keep their pace.
 */
static void lower_priority(int nice)
{
	setpriority(PRIO_PROCESS, syscall(SYS_gettid), nice);
}

/* ------------------------------------------------------------------ */
/* Backend children                                                    */

struct backend {
	struct rng rng;
	int fds[MAX_FDS];
	uint32_t ids[MAX_IDS];
	unsigned int nr_ids;
	pthread_mutex_t lock;	/* protects fds[] between the two threads */
};

static int pick_fd(struct backend *b, struct rng *r)
{
	int fd;

	pthread_mutex_lock(&b->lock);
	fd = b->fds[below(r, MAX_FDS)];
	pthread_mutex_unlock(&b->lock);
	return fd;
}

static void *bad_pointer(struct rng *r)
{
	static void *const ptrs[] = { NULL, (void *)1, (void *)-4096L,
		(void *)0xffff888000000000UL, (void *)0x10 };

	return ptrs[below(r, sizeof(ptrs) / sizeof(ptrs[0]))];
}

/* Size field: mostly right, sometimes short, long, or huge. */
static uint32_t fuzz_size(struct rng *r, uint32_t good)
{
	switch (below(r, 10)) {
	case 0:
		return below(r, good);
	case 1:
		return good + 8 * (1 + below(r, 4));
	case 2:
		return (uint32_t)rnd(r);
	default:
		return good;
	}
}

static void answer(struct backend *b, int fd, struct ioreq_cmd *cmd, int n)
{
	struct rng *r = &b->rng;
	int i, m = n;

	for (i = 0; i < n; i++)
		cmd[i].data = rnd(r);
	switch (below(r, 12)) {
	case 0:	/* a malformed record somewhere */
		i = below(r, n);
		switch (below(r, 5)) {
		case 0: cmd[i].op = 2 + below(r, 250); break;
		case 1: cmd[i].size = (uint8_t)rnd(r); break;
		case 2: cmd[i].flags = 1 + below(r, 0xffff); break;
		case 3: cmd[i].id = (uint32_t)rnd(r); break;
		default: cmd[i].op ^= 1; break;
		}
		break;
	case 1:	/* a short or odd length */
		m = 0;
		check("write", write(fd, cmd, below(r, n * sizeof(*cmd))));
		break;
	case 2:	/* answer twice */
		check("write", write(fd, cmd, n * sizeof(*cmd)));
		break;
	case 3:	/* answer only some, leave the rest to the kill */
		m = below(r, n + 1);
		break;
	case 4:
		check("write", write(fd, bad_pointer(r), sizeof(*cmd)));
		break;
	default:
		break;
	}
	if (m)
		check("write", write(fd, cmd, m * sizeof(*cmd)));
}

static void do_read(struct backend *b, int fd, bool block)
{
	struct ioreq_cmd cmd[8];
	struct rng *r = &b->rng;
	size_t len = sizeof(cmd);
	ssize_t n;

	if (below(r, 10) == 0)
		len = below(r, sizeof(cmd) + 1);
	if (block) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		check("read", poll(&p, 1, 20) < 0 ? -1 : 0);
	}
	if (below(r, 30) == 0) {
		check("read", read(fd, bad_pointer(r), sizeof(cmd)));
		return;
	}
	n = read(fd, cmd, len);
	check("read", n);
	if (n > 0)
		answer(b, fd, cmd, n / sizeof(cmd[0]));
}

static void do_attach(struct backend *b, int fd)
{
	struct rng *r = &b->rng;
	struct ioreq_attach a = {
		.size = fuzz_size(r, sizeof(a)),
		.provider = below(r, 8) ? IOREQ_PROVIDER_ANY + below(r, 3) :
					  (uint32_t)rnd(r),
		.guest_id = GUEST_ID_BASE + below(r, NR_GUESTS + 1),
	};

	if (below(r, 10) == 0)
		a.flags = 1U << below(r, 32);
	if (below(r, 10) == 0)
		a.__reserved = 1;
	check("ioctl", ioctl(fd, IOREQ_ATTACH, below(r, 20) ? &a :
						  bad_pointer(r)));
}

static void do_claim(struct backend *b, int fd)
{
	struct rng *r = &b->rng;
	bool pio = below(r, 3) == 0;
	struct ioreq_region reg = {
		.size = fuzz_size(r, sizeof(reg)),
		.space = pio ? IOREQ_SPACE_PIO : IOREQ_SPACE_MMIO,
		.addr = pio ? PIO_BASE + below(r, PIO_SPAN) :
			      MMIO_BASE + below(r, MMIO_SPAN),
		.len = 1 + below(r, 0x100),
		.user_data = rnd(r),
	};

	switch (below(r, 16)) {
	case 0: reg.flags = 1U << below(r, 32); break;
	case 1: reg.space = below(r, 8); break;
	case 2: reg.len = 0; break;
	case 3: reg.addr = ~0ULL - below(r, 16); break;
	case 4: reg.__reserved2 = 1; break;
	case 5: reg.addr = 0xff00 + below(r, 0x200); reg.space = IOREQ_SPACE_PIO; break;
	case 6: case 7:
		reg.space = IOREQ_SPACE_PCI_CONFIG;
		reg.addr = below(r, PCI_SBDFS) << 32 | below(r, 0x1000);
		break;
	default: break;
	}
	if (ioctl(fd, IOREQ_CLAIM_REGION, &reg) == 0) {
		op_done();
		if (b->nr_ids < MAX_IDS)
			b->ids[b->nr_ids++] = reg.id;
	} else {
		check("ioctl", -1);
	}
}

static void do_release(struct backend *b, int fd)
{
	struct rng *r = &b->rng;
	struct ioreq_release rel = { .size = fuzz_size(r, sizeof(rel)) };

	if (b->nr_ids && below(r, 4)) {
		unsigned int i = below(r, b->nr_ids);

		rel.id = b->ids[i];
		b->ids[i] = b->ids[--b->nr_ids];
	} else {
		rel.id = (uint32_t)rnd(r);
	}
	if (below(r, 16) == 0)
		rel.flags = 1;
	check("ioctl", ioctl(fd, IOREQ_RELEASE_REGION, &rel));
}

static void do_garbage_ioctl(struct backend *b, int fd)
{
	struct rng *r = &b->rng;
	uint64_t buf[16];
	unsigned long cmd;
	unsigned int i;

	for (i = 0; i < 16; i++)
		buf[i] = below(r, 2) ? rnd(r) : 0;
	buf[0] = (buf[0] & ~0xffffffffULL) | fuzz_size(r, 32 + 8 * below(r, 4));
	switch (below(r, 3)) {
	case 0:
		cmd = _IO(IOREQ_MAGIC, below(r, 0x80));
		break;
	case 1:
		cmd = _IOC(below(r, 4), IOREQ_MAGIC, below(r, 8), below(r, 128));
		break;
	default:
		cmd = (uint32_t)rnd(r);
		break;
	}
	check("ioctl", ioctl(fd, cmd, below(r, 8) ? (void *)buf :
					  bad_pointer(r)));
}

static void do_info(struct backend *b, int fd)
{
	struct rng *r = &b->rng;
	struct ioreq_info info = { .size = fuzz_size(r, sizeof(info)) };

	if (below(r, 10) == 0)
		info.flags = 1;
	check("ioctl", ioctl(fd, IOREQ_GET_INFO, &info));
}

/* A guest memory file, mapped at random, then closed. */
static void do_memory_fd(struct backend *b, int fd)
{
	static const long pg = 4096;
	struct rng *r = &b->rng;
	struct ioreq_guest_memory_fd a = {
		.size = fuzz_size(r, sizeof(a)),
		.gpa = MEM_GPA + pg * below(r, MEM_PAGES + 2) - pg,
		.len = pg * below(r, MEM_PAGES + 2),
	};
	unsigned int i;
	void *map;
	size_t len;
	int mflags;

	switch (below(r, 10)) {
	case 0: a.flags = 1U << below(r, 32); break;
	case 1: a.__reserved = 1; break;
	case 2: a.gpa += below(r, pg); break;
	case 3: a.len = rnd(r); break;
	default: break;
	}
	if (ioctl(fd, IOREQ_GUEST_MEMORY_FD, below(r, 20) ? (void *)&a :
							bad_pointer(r))) {
		check("ioctl", -1);
		return;
	}
	op_done();
	for (i = below(r, 4); i; i--) {
		len = pg * below(r, a.len / pg + 2);
		mflags = below(r, 6) ? MAP_SHARED : MAP_PRIVATE;
		map = mmap(NULL, len, PROT_READ | PROT_WRITE, mflags, a.fd,
			   pg * below(r, a.len / pg + 2));
		op_done();
		if (map == MAP_FAILED) {
			/* EINVAL: length 0 or private; ENODEV: guest gone */
			if (errno != EINVAL && errno != ENXIO &&
			    errno != ENODEV && errno != ENOMEM)
				bad("mmap", errno);
			continue;
		}
		*(volatile unsigned char *)map = (unsigned char)rnd(r);
		munmap(map, len);
	}
	close(a.fd);
}

static void do_memory_map(struct backend *b, int fd)
{
	struct rng *r = &b->rng;
	struct ioreq_memory_range ranges[4];
	struct ioreq_memory_map m = {
		.size = fuzz_size(r, sizeof(m)),
		.nr_ranges = below(r, 6),
		.ranges = (uint64_t)(uintptr_t)(below(r, 10) ? (void *)ranges :
							      bad_pointer(r)),
	};

	if (m.nr_ranges > 4)
		m.nr_ranges = (uint32_t)rnd(r) | 5;
	if (below(r, 10) == 0)
		m.flags = 1;
	if (m.nr_ranges > 4 && m.ranges == (uint64_t)(uintptr_t)ranges)
		m.ranges = 0;
	check("ioctl", ioctl(fd, IOREQ_GET_MEMORY_MAP, &m));
}

static void backend_step(struct backend *b)
{
	struct rng *r = &b->rng;
	unsigned int slot = below(r, MAX_FDS);
	int fd = b->fds[slot];

	switch (below(r, 22)) {
	case 0:	/* close and reopen under the reader thread */
		pthread_mutex_lock(&b->lock);
		close(fd);
		b->fds[slot] = open("/dev/ioreq", O_RDWR | O_NONBLOCK);
		pthread_mutex_unlock(&b->lock);
		b->nr_ids = 0;
		check("ioctl", b->fds[slot]);
		break;
	case 1: case 2:
		do_attach(b, fd);
		break;
	case 3: case 4: case 5:
		do_claim(b, fd);
		break;
	case 6: case 7:
		do_release(b, fd);
		break;
	case 8:
		do_garbage_ioctl(b, fd);
		break;
	case 9:
		do_info(b, fd);
		break;
	case 10:
		do_memory_fd(b, fd);
		break;
	case 11:
		do_memory_map(b, fd);
		break;
	default:
		do_read(b, fd, false);
		break;
	}
}

static void *backend_reader(void *arg)
{
	struct backend *b = arg;
	struct backend mine = { .rng = { b->rng.s ^ 0x9e3779b97f4a7c15ULL } };

	for (;;)
		do_read(&mine, pick_fd(b, &mine.rng), true);
	return NULL;
}

static void backend_main(uint64_t seed)
{
	struct backend b = { .rng = { seed | 1 } };
	pthread_t t;
	int i;

	lower_priority(5);
	pthread_mutex_init(&b.lock, NULL);
	for (i = 0; i < MAX_FDS; i++) {
		b.fds[i] = open("/dev/ioreq", O_RDWR | O_NONBLOCK);
		check("ioctl", b.fds[i]);
	}
	pthread_create(&t, NULL, backend_reader, &b);
	for (;;)
		backend_step(&b);
}

/* ------------------------------------------------------------------ */
/* The hypervisor side                                                  */

struct guest {
	pthread_rwlock_t lock;	/* write-held while the guest is recreated */
	int fd;
};

static struct guest guests[NR_GUESTS];
static atomic_ulong stuck, accesses, wrong;

/* MEM_PAGES of RAM at MEM_GPA: what backends map and copy.  0 or -1. */
static int guest_add_memory(int fd)
{
	struct ioreq_vmm_memory m = {
		.size = sizeof(m), .gpa = MEM_GPA, .len = MEM_PAGES * 4096,
	};
	int ret;

	m.fd = memfd_create("ioreq-fuzz-ram", MFD_CLOEXEC);
	if (m.fd < 0 || ftruncate(m.fd, m.len)) {
		fprintf(stderr, "# guest RAM: %s\n", strerror(errno));
		return -1;
	}
	ret = ioctl(fd, IOREQ_VMM_ADD_MEMORY, &m);
	if (ret)
		fprintf(stderr, "# guest RAM: %s\n", strerror(errno));
	close(m.fd);
	return ret ? -1 : 0;
}

/*
 * The id of a closed guest stays taken until the last reference to its
 * file goes: a backend forked a moment ago may not have closed its copy
 * yet.  Wait for that, boundedly.
 */
static int guest_create(unsigned int g)
{
	struct ioreq_vmm_create c = {
		.size = sizeof(c), .nr_vcpus = NR_VCPUS,
		.guest_id = GUEST_ID_BASE + g,
	};
	int fd = open("/dev/ioreq-vmm", O_RDWR);
	int tries;

	if (fd < 0)
		return -1;
	for (tries = 0; tries < 2000; tries++) {
		if (!ioctl(fd, IOREQ_VMM_CREATE_GUEST, &c)) {
			if (!guest_add_memory(fd))
				return fd;
			break;
		}
		if (errno != EEXIST)
			break;
		usleep(1000);
	}
	fprintf(stderr, "# guest %u: %s\n", g, strerror(errno));
	close(fd);
	return -1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

struct vcpu_arg {
	unsigned int guest, vcpu;
	uint64_t seed;
};

static void *vcpu_thread(void *p)
{
	struct vcpu_arg *va = p;
	struct rng r = { va->seed | 1 };
	static const uint8_t lens[] = { 1, 2, 4, 8 };

	lower_priority(10);
	while (!atomic_load(&stopping)) {
		unsigned int kind = below(&r, 8);
		bool pio = kind == 0;
		struct ioreq_vmm_access a = {
			.size = sizeof(a), .vcpu = va->vcpu,
			.space = pio ? IOREQ_SPACE_PIO : IOREQ_SPACE_MMIO,
			.op = below(&r, 2), .len = lens[below(&r, 4)],
			.addr = pio ? PIO_BASE + below(&r, PIO_SPAN) :
				      MMIO_BASE + below(&r, MMIO_SPAN),
			.data = rnd(&r), .timeout_ms = 300 + below(&r, 700),
		};
		struct guest *g = &guests[va->guest];
		uint64_t t0;
		int ret;

		if (kind == 1) {	/* a PCI configuration register */
			a.space = IOREQ_SPACE_PCI_CONFIG;
			a.len = lens[below(&r, 3)];
			a.addr = below(&r, PCI_SBDFS) << 32 |
				 (below(&r, 0x1000) & ~(uint64_t)(a.len - 1));
		}
		pthread_rwlock_rdlock(&g->lock);
		t0 = now_ms();
		ret = ioctl(g->fd, IOREQ_VMM_ACCESS, &a);
		if (now_ms() - t0 > a.timeout_ms + STUCK_SLACK_MS)
			atomic_fetch_add(&stuck, 1);
		pthread_rwlock_unlock(&g->lock);

		atomic_fetch_add(&accesses, 1);
		op_done();
		if (ret) {
			bad("access", errno);
			continue;
		}
		if (a.status > IOREQ_VMM_STATUS_TIMEDOUT ||
		    (a.op == IOREQ_OP_READ && a.status != IOREQ_VMM_STATUS_DONE &&
		     a.data != ones(a.len)) ||
		    (a.op == IOREQ_OP_READ && (a.data & ~ones(a.len)))) {
			atomic_fetch_add(&wrong, 1);
			bad("access result", 0);
		}
	}
	return NULL;
}

static pid_t spawn_backend(uint64_t seed)
{
	pid_t pid = fork();
	unsigned int g;

	if (pid == 0) {
		/* A backend must not hold the guests alive. */
		for (g = 0; g < NR_GUESTS; g++)
			close(guests[g].fd);
		backend_main(seed);
		_exit(0);
	}
	return pid;
}

int main(int argc, char **argv)
{
	unsigned long min_ops = 1000000, min_kills = 1000, seconds = 1200;
	struct vcpu_arg va[NR_GUESTS][NR_VCPUS];
	pthread_t vt[NR_GUESTS][NR_VCPUS];
	pid_t backends[NR_BACKENDS];
	unsigned long kills = 0, recreated = 0, next_report;
	uint64_t seed = 0, t_start, t_end;
	pthread_rwlockattr_t rwattr;
	struct rng r;
	unsigned int g, v, i;
	bool ok;
	int opt;

	while ((opt = getopt(argc, argv, "s:n:k:t:")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': min_ops = strtoul(optarg, NULL, 0); break;
		case 'k': min_kills = strtoul(optarg, NULL, 0); break;
		case 't': seconds = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-s seed] [-n ops] [-k kills] [-t seconds]\n", argv[0]);
			return 2;
		}
	}
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	r.s = seed | 1;

	printf("TAP version 13\n1..1\n");
	printf("# ioreq_fuzz: seed=%#llx min_ops=%lu min_kills=%lu max_seconds=%lu\n",
	       (unsigned long long)seed, min_ops, min_kills, seconds);
	fflush(stdout);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;

	/* Writer-preferring, or the vcpus starve the guest recreation. */
	pthread_rwlockattr_init(&rwattr);
	pthread_rwlockattr_setkind_np(&rwattr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	for (g = 0; g < NR_GUESTS; g++) {
		pthread_rwlock_init(&guests[g].lock, &rwattr);
		guests[g].fd = guest_create(g);
		if (guests[g].fd < 0) {
			printf("not ok 1 ioreq_fuzz # cannot create guests\n");
			return 1;
		}
	}
	for (i = 0; i < NR_BACKENDS; i++)
		backends[i] = spawn_backend(rnd(&r));
	for (g = 0; g < NR_GUESTS; g++) {
		for (v = 0; v < NR_VCPUS; v++) {
			va[g][v] = (struct vcpu_arg){ g, v, rnd(&r) };
			pthread_create(&vt[g][v], NULL, vcpu_thread, &va[g][v]);
		}
	}

	t_start = now_ms();
	t_end = t_start + seconds * 1000;
	next_report = t_start + 10000;
	while (now_ms() < t_end &&
	       ((!min_ops && !min_kills) ||
		atomic_load(&sh->ops) < min_ops || kills < min_kills)) {
		usleep(1000 + below(&r, 20000));
		i = below(&r, NR_BACKENDS);
		kill(backends[i], SIGKILL);
		waitpid(backends[i], NULL, 0);
		kills++;
		backends[i] = spawn_backend(rnd(&r));

		if (below(&r, 50) == 0) {
			/* Destroy a guest under its backends and bring it back. */
			g = below(&r, NR_GUESTS);
			pthread_rwlock_wrlock(&guests[g].lock);
			close(guests[g].fd);
			guests[g].fd = guest_create(g);
			pthread_rwlock_unlock(&guests[g].lock);
			if (guests[g].fd < 0)
				bad("recreate guest", errno);
			recreated++;
		}
		if (now_ms() >= next_report) {
			printf("# %lus: ops=%lu kills=%lu accesses=%lu\n",
			       (unsigned long)((now_ms() - t_start) / 1000),
			       atomic_load(&sh->ops), kills,
			       atomic_load(&accesses));
			fflush(stdout);
			next_report += 10000;
		}
	}

	atomic_store(&stopping, true);
	printf("# stopping\n");
	fflush(stdout);
	for (i = 0; i < NR_BACKENDS; i++) {
		kill(backends[i], SIGKILL);
		waitpid(backends[i], NULL, 0);
	}
	printf("# backends reaped\n");
	fflush(stdout);
	for (g = 0; g < NR_GUESTS; g++)
		for (v = 0; v < NR_VCPUS; v++)
			pthread_join(vt[g][v], NULL);
	for (g = 0; g < NR_GUESTS; g++)
		close(guests[g].fd);

	ok = atomic_load(&sh->ops) >= min_ops && kills >= min_kills &&
	     !atomic_load(&sh->bad) && !atomic_load(&stuck);
	printf("# seed=%#llx ops=%lu kills=%lu accesses=%lu guests_recreated=%lu stuck=%lu wrong=%lu bad=%lu seconds=%llu\n",
	       (unsigned long long)seed, atomic_load(&sh->ops), kills,
	       atomic_load(&accesses), recreated, atomic_load(&stuck),
	       atomic_load(&wrong), atomic_load(&sh->bad),
	       (unsigned long long)(now_ms() - t_start) / 1000);
	if (atomic_load(&sh->bad))
		printf("# first error: %s\n", sh->first_bad);
	printf("%s 1 ioreq_fuzz\n", ok ? "ok" : "not ok");
	return ok ? 0 : 1;
}
