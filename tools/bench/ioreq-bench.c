// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq-bench: where /dev/ioreq stands against the transports a backend
 * could use instead, each measured side by side in one run.
 *
 *  roundtrip  one 4-byte read from a vcpu thread answered by a backend
 *             thread through the userspace-hypervisor provider, against
 *             eventfd, 32-byte socketpair and pipe ping-pong between two
 *             threads on the same two CPUs; and the floor under any
 *             handoff between those CPUs, a ping-pong through one shared
 *             word with both threads spinning in userspace
 *  batch      1, 2, 4 and 8 vcpus at once against one backend thread that
 *             reads and writes records in batches: requests per second
 *             relative to the single round-trip rate; once with a thread
 *             per vcpu in IOREQ_VMM_ACCESS (as a KVM VMM), once with one
 *             hypervisor thread that write()s an access per vcpu to the
 *             guest's fd and read()s their ends (as a hypervisor whose
 *             vcpus do not run on the backend's CPUs hands over theirs);
 *             then each side of the latter alone, one thread making all
 *             four system calls of 1 or 8 accesses with nothing to wait
 *             for: the rate two CPUs could reach if handing a batch over
 *             cost nothing; -w runs only these rows, for profiling
 *  regions    the round trip with 10, 1,000 and 10,000 claimed regions,
 *             relative to 10
 *  allocs     kernel allocations per request (kmem tracepoints counted
 *             over a burst, less an idle interval of the same length)
 *  polling    the round trip above runs with the modules' polling
 *             limits as loaded (by default both sides poll, in windows
 *             that adapt below ioreq read_poll_ns and ioreq_vmm poll_ns,
 *             as KVM's halt polling does); again with only the vcpu
 *             polling, and with neither side polling
 *  cost       where a round trip's time goes: one more run of each
 *             round trip above under getrusage(): the CPU time both
 *             threads spent in the kernel and in userspace, and their
 *             context switches, per round trip; the rest of the wall
 *             time is waiting (the wakeup latency)
 *  doorbell   a 4-byte guest write that an ioeventfd completes in the
 *             kernel (the backend thread waits on the eventfd), against
 *             the same write answered by a backend through read()/write()
 *             of records: the vcpu's time per write
 *
 * Every figure is the median over repeats (-r turns), with the spread
 * (min-max).  The figures a ratio compares are taken in turns, each once
 * a turn, and the ratio is reported as the median of its per-turn values
 * with their range: the ratio's own spread.
 * Output: a table on stdout and key=value lines in the file given by -o.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define bench_ticks() __rdtsc()
#define bench_pause() _mm_pause()
#else
#define bench_ticks() ((unsigned long long)now_ns())
#define bench_pause() do { } while (0)
#endif

#include <linux/ioreq.h>
#include <linux/ioreq_vmm.h>

#define MMIO_BASE 0x40000000ULL
#define MAX_VCPUS 8

static int iters = 20000;
static int repeats = 7;
static FILE *kv;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void die(const char *what)
{
	fprintf(stderr, "ioreq-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double dmax(double a, double b)
{
	return a > b ? a : b;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 {
	double median, min, max;
};

static struct stat3 summarize(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return (struct stat3){ v[n / 2], v[0], v[n - 1] };
}

/* ---- baselines: ping-pong between two threads ---- */

struct pp {
	int a[2], b[2];		/* a: ping, b: pong (read end [0], write [1]) */
	size_t len;
	int n;
};

static void *pong(void *p)
{
	struct pp *pp = p;
	char buf[32];
	int i;

	pin(1);
	for (i = 0; i < pp->n; i++) {
		if (read(pp->a[0], buf, pp->len) != (ssize_t)pp->len ||
		    write(pp->b[1], buf, pp->len) != (ssize_t)pp->len)
			die("pong");
	}
	return NULL;
}

/* Mean round trip in ns over pp->n exchanges. */
static double pingpong(struct pp *pp)
{
	char buf[32] = { 1 };
	pthread_t t;
	double t0;
	int i;

	pin(0);
	pthread_create(&t, NULL, pong, pp);
	t0 = now_ns();
	for (i = 0; i < pp->n; i++) {
		if (write(pp->a[1], buf, pp->len) != (ssize_t)pp->len ||
		    read(pp->b[0], buf, pp->len) != (ssize_t)pp->len)
			die("ping");
	}
	t0 = now_ns() - t0;
	pthread_join(t, NULL);
	return t0 / pp->n;
}

static double bench_eventfd(void)
{
	struct pp pp = { .len = 8, .n = iters };

	pp.a[0] = pp.a[1] = eventfd(0, 0);
	pp.b[0] = pp.b[1] = eventfd(0, 0);
	double r;

	if (pp.a[0] < 0 || pp.b[0] < 0)
		die("eventfd");
	r = pingpong(&pp);
	close(pp.a[0]);
	close(pp.b[0]);
	return r;
}

static double bench_socketpair(void)
{
	struct pp pp = { .len = 32, .n = iters };
	int s[2];
	double r;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s))
		die("socketpair");
	pp.a[1] = s[0]; pp.a[0] = s[1];		/* ping: s0 -> s1 */
	pp.b[1] = s[1]; pp.b[0] = s[0];		/* pong: s1 -> s0 */
	r = pingpong(&pp);
	close(s[0]);
	close(s[1]);
	return r;
}

static double bench_pipe(void)
{
	struct pp pp = { .len = 8, .n = iters };
	double r;

	if (pipe(pp.a) || pipe(pp.b))
		die("pipe");
	r = pingpong(&pp);
	close(pp.a[0]); close(pp.a[1]);
	close(pp.b[0]); close(pp.b[1]);
	return r;
}

/*
 * The floor under every handoff between the two CPUs: a ping-pong
 * through one shared word, both threads spinning in userspace with no
 * system call, with a pause instruction in the spin (as the kernel's
 * polling loops have, cpu_relax()) or without.
 */
struct spin {
	atomic_int turn;
	int n;
	bool pause;
};

static void spin_wait(struct spin *s, int want)
{
	while (atomic_load_explicit(&s->turn, memory_order_acquire) != want)
		if (s->pause)
			bench_pause();
}

static void *spin_pong(void *p)
{
	struct spin *s = p;
	int i;

	pin(1);
	for (i = 0; i < s->n; i++) {
		spin_wait(s, 1);
		atomic_store_explicit(&s->turn, 0, memory_order_release);
	}
	return NULL;
}

static double spin_pingpong(bool pause)
{
	struct spin s = { .n = iters, .pause = pause };
	pthread_t t;
	double t0;
	int i;

	pin(0);
	pthread_create(&t, NULL, spin_pong, &s);
	t0 = now_ns();
	for (i = 0; i < s.n; i++) {
		atomic_store_explicit(&s.turn, 1, memory_order_release);
		spin_wait(&s, 0);
	}
	t0 = now_ns() - t0;
	pthread_join(t, NULL);
	return t0 / s.n;
}

static double bench_spin(void)
{
	return spin_pingpong(false);
}

static double bench_spin_pause(void)
{
	return spin_pingpong(true);
}

/* ---- ioreq ---- */

struct rig {
	int vmm, be;
	unsigned int nr_vcpus;
	atomic_int stop;
	atomic_long served;
};

static void rig_open(struct rig *r, unsigned int nr_vcpus, unsigned int regions)
{
	struct ioreq_vmm_create c = { .size = sizeof(c), .nr_vcpus = nr_vcpus };
	struct ioreq_attach a = {
		.size = sizeof(a),
		.provider = IOREQ_PROVIDER_VMM,
	};
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->nr_vcpus = nr_vcpus;
	r->vmm = open("/dev/ioreq-vmm", O_RDWR);
	r->be = open("/dev/ioreq", O_RDWR);
	if (r->vmm < 0 || r->be < 0)
		die("open (are ioreq.ko and ioreq_vmm.ko loaded?)");
	if (ioctl(r->vmm, IOREQ_VMM_CREATE_GUEST, &c))
		die("IOREQ_VMM_CREATE_GUEST");
	a.guest_id = c.guest_id;
	if (ioctl(r->be, IOREQ_ATTACH, &a))
		die("IOREQ_ATTACH");
	/* Region 0 is the one accessed; the others fill the tree. */
	for (i = 0; i < regions; i++) {
		struct ioreq_region reg = {
			.size = sizeof(reg), .space = IOREQ_SPACE_MMIO,
			.addr = MMIO_BASE + i * 0x1000ULL, .len = 0x100,
			.user_data = i,
		};

		if (ioctl(r->be, IOREQ_CLAIM_REGION, &reg))
			die("IOREQ_CLAIM_REGION");
	}
}

/* The backend: read a batch, answer it whole. */
static void *backend(void *p)
{
	struct rig *r = p;
	struct ioreq_cmd cmd[MAX_VCPUS];
	ssize_t n;
	int i;

	pin(1);
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		n = read(r->be, cmd, sizeof(cmd));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n / (ssize_t)sizeof(cmd[0]); i++)
			cmd[i].data = cmd[i].offset ^ 0x5a5a5a5a;
		if (write(r->be, cmd, n) != n)
			die("backend write");
		atomic_fetch_add_explicit(&r->served, n / sizeof(cmd[0]),
					  memory_order_relaxed);
	}
	return NULL;
}

struct vcpu {
	struct rig *r;
	unsigned int idx;
	int n;
	double ns;
};

static void *vcpu(void *p)
{
	struct vcpu *v = p;
	struct ioreq_vmm_access acc = {
		.size = sizeof(acc), .vcpu = v->idx, .space = IOREQ_SPACE_MMIO,
		.op = IOREQ_OP_READ, .len = 4, .addr = MMIO_BASE + 4 * v->idx,
	};
	double t0;
	int i;

	if (v->r->nr_vcpus == 1)
		pin(0);
	t0 = now_ns();
	for (i = 0; i < v->n; i++) {
		acc.status = 0;
		if (ioctl(v->r->vmm, IOREQ_VMM_ACCESS, &acc) ||
		    acc.status != IOREQ_VMM_STATUS_DONE ||
		    acc.data != ((4 * v->idx) ^ 0x5a5a5a5aU))
			die("access");
	}
	v->ns = now_ns() - t0;
	return NULL;
}

/* Drive @nr_vcpus vcpus, @n accesses each; return total requests/s. */
static double run_ioreq(unsigned int nr_vcpus, unsigned int regions, int n,
			double *rt_ns)
{
	struct vcpu v[MAX_VCPUS];
	pthread_t bt, vt[MAX_VCPUS];
	struct rig r;
	double t0, wall;
	unsigned int i;

	rig_open(&r, nr_vcpus, regions);
	pthread_create(&bt, NULL, backend, &r);
	t0 = now_ns();
	for (i = 0; i < nr_vcpus; i++) {
		v[i] = (struct vcpu){ &r, i, n, 0 };
		pthread_create(&vt[i], NULL, vcpu, &v[i]);
	}
	for (i = 0; i < nr_vcpus; i++)
		pthread_join(vt[i], NULL);
	wall = now_ns() - t0;
	atomic_store(&r.stop, 1);
	/* The backend sleeps in read(): closing the guest wakes it (ENODEV). */
	close(r.vmm);
	pthread_join(bt, NULL);
	close(r.be);
	if (rt_ns)
		*rt_ns = v[0].ns / n;
	return nr_vcpus * (double)n / (wall / 1e9);
}

/*
 * The hypervisor as one thread serving @nr_vcpus vcpus: it write()s one
 * access per vcpu to the guest's fd, read()s their ends as they come and
 * writes the next access of each vcpu that has more, @n each.
 */
struct written {
	unsigned int nr_vcpus;
	int n;
	double ns;
};

static void *written_hv(void *p)
{
	struct ioreq_vmm_access acc[MAX_VCPUS], next[MAX_VCPUS];
	struct ioreq_vmm_event ev[MAX_VCPUS];
	struct written *w = p;
	unsigned int i, m, k;
	int left[MAX_VCPUS];
	long todo = (long)w->nr_vcpus * w->n;
	pthread_t bt;
	struct rig r;
	double t0;
	ssize_t got;

	pin(0);
	rig_open(&r, w->nr_vcpus, 1);
	pthread_create(&bt, NULL, backend, &r);
	for (i = 0; i < w->nr_vcpus; i++) {
		acc[i] = (struct ioreq_vmm_access){
			.size = sizeof(acc[i]), .vcpu = i,
			.space = IOREQ_SPACE_MMIO, .op = IOREQ_OP_READ,
			.len = 4, .addr = MMIO_BASE + 4 * i,
		};
		left[i] = w->n - 1;
	}
	t0 = now_ns();
	if (write(r.vmm, acc, w->nr_vcpus * sizeof(acc[0])) !=
	    (ssize_t)(w->nr_vcpus * sizeof(acc[0])))
		die("write accesses");
	while (todo > 0) {
		got = read(r.vmm, ev, sizeof(ev));
		if (got <= 0)
			die("read ends");
		m = 0;
		for (k = 0; k < got / sizeof(ev[0]); k++) {
			i = ev[k].done.vcpu;
			if (ev[k].type != IOREQ_VMM_EVENT_DONE ||
			    i >= w->nr_vcpus ||
			    ev[k].done.status != IOREQ_VMM_STATUS_DONE ||
			    ev[k].done.data != ((4 * i) ^ 0x5a5a5a5aU))
				die("written access");
			todo--;
			if (left[i]-- > 0)
				next[m++] = acc[i];
		}
		if (m && write(r.vmm, next, m * sizeof(next[0])) !=
			 (ssize_t)(m * sizeof(next[0])))
			die("write accesses");
	}
	w->ns = now_ns() - t0;
	atomic_store(&r.stop, 1);
	close(r.vmm);
	pthread_join(bt, NULL);
	close(r.be);
	return NULL;
}

/* Requests per second of @nr_vcpus vcpus served by one thread. */
static double run_written(unsigned int nr_vcpus, int n)
{
	struct written w = { nr_vcpus, n, 0 };
	pthread_t t;

	pthread_create(&t, NULL, written_hv, &w);
	pthread_join(t, NULL);
	return nr_vcpus * (double)n / (w.ns / 1e9);
}

/*
 * The pipeline's ceiling: one thread plays both sides of @b accesses at
 * a time with nothing to wait for (write() the accesses to the guest's
 * fd, read() the records, write() the answers, read() the ends), so each
 * side's system calls are timed alone, without handoffs.  With each side
 * on a CPU of its own, no batching of up to @b vcpus can serve requests
 * faster than the slower side's cost per request: the best rate is
 * 1 / max(backend, hypervisor).  Each side is timed with the TSC and
 * converted against CLOCK_MONOTONIC over the whole run.
 */
struct serial {
	double be_ns, hv_ns;	/* per request */
};

static struct serial serial_cost(unsigned int b, int n)
{
	struct ioreq_vmm_access acc[MAX_VCPUS];
	struct ioreq_vmm_event ev[MAX_VCPUS];
	struct ioreq_cmd cmd[MAX_VCPUS];
	unsigned long long t0, t1, t2, be = 0, hv = 0;
	ssize_t len = b * sizeof(cmd[0]);
	double w0, ns_per_tick;
	unsigned int i;
	struct rig r;
	int k;

	pin(0);
	rig_open(&r, b, 1);
	for (i = 0; i < b; i++)
		acc[i] = (struct ioreq_vmm_access){
			.size = sizeof(acc[i]), .vcpu = i,
			.space = IOREQ_SPACE_MMIO, .op = IOREQ_OP_READ,
			.len = 4, .addr = MMIO_BASE + 4 * i,
		};
	w0 = now_ns();
	t0 = bench_ticks();
	for (k = 0; k < n; k++) {
		t1 = bench_ticks();
		if (write(r.vmm, acc, b * sizeof(acc[0])) !=
		    (ssize_t)(b * sizeof(acc[0])))
			die("serial: write accesses");
		t2 = bench_ticks();
		hv += t2 - t1;
		if (read(r.be, cmd, sizeof(cmd)) != len)
			die("serial: read records");
		for (i = 0; i < b; i++)
			cmd[i].data = cmd[i].offset ^ 0x5a5a5a5a;
		if (write(r.be, cmd, len) != len)
			die("serial: write answers");
		t1 = bench_ticks();
		be += t1 - t2;
		if (read(r.vmm, ev, sizeof(ev)) != (ssize_t)(b * sizeof(ev[0])))
			die("serial: read ends");
		hv += bench_ticks() - t1;
		for (i = 0; i < b; i++)
			if (ev[i].type != IOREQ_VMM_EVENT_DONE ||
			    ev[i].done.status != IOREQ_VMM_STATUS_DONE ||
			    ev[i].done.data != ((4 * ev[i].done.vcpu) ^ 0x5a5a5a5aU))
				die("serial: end");
	}
	ns_per_tick = (now_ns() - w0) / (double)(bench_ticks() - t0);
	close(r.vmm);
	close(r.be);
	return (struct serial){ be * ns_per_tick / ((double)n * b),
				hv * ns_per_tick / ((double)n * b) };
}

static double bench_ioreq_rt(unsigned int regions)
{
	double rt;

	run_ioreq(1, regions, iters, &rt);
	return rt;
}

/* ---- allocations per request, from kmem tracepoints ---- */

static const char *const kmem_events[] = {
	"kmem/kmalloc", "kmem/kmem_cache_alloc", "kmem/kmalloc_node",
	"kmem/kmem_cache_alloc_node", "kmem/mm_page_alloc",
};

static int trace_write(const char *path, const char *val)
{
	char p[256];
	int fd, ok;

	snprintf(p, sizeof(p), "/sys/kernel/tracing/%s", path);
	fd = open(p, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static long trace_count(void)
{
	char line[512];
	FILE *f = fopen("/sys/kernel/tracing/trace", "r");
	long n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#')
			n++;
	fclose(f);
	return n;
}

/* Allocations during @n requests, less those of an idle pause as long. */
static double allocs_per_request(int n)
{
	char path[128];
	double t0, busy, per;
	long during, idle;
	unsigned int i;

	for (i = 0; i < sizeof(kmem_events) / sizeof(kmem_events[0]); i++) {
		snprintf(path, sizeof(path), "events/%s/enable", kmem_events[i]);
		if (trace_write(path, "1") && i < 2)
			return -1;
	}
	trace_write("buffer_size_kb", "8192");

	/* Warm: the guest, regions and threads are set up outside the count. */
	trace_write("trace", "");
	trace_write("tracing_on", "1");
	t0 = now_ns();
	run_ioreq(1, 1, n, NULL);
	busy = now_ns() - t0;
	trace_write("tracing_on", "0");
	during = trace_count();

	trace_write("trace", "");
	trace_write("tracing_on", "1");
	run_ioreq(1, 1, 1, NULL);
	usleep((useconds_t)(busy / 1000));
	trace_write("tracing_on", "0");
	idle = trace_count();

	for (i = 0; i < sizeof(kmem_events) / sizeof(kmem_events[0]); i++) {
		snprintf(path, sizeof(path), "events/%s/enable", kmem_events[i]);
		trace_write(path, "0");
	}
	if (during < 0 || idle < 0)
		return -1;
	per = (double)(during - idle) / n;
	fprintf(kv, "allocs_during=%ld\nallocs_idle_and_setup=%ld\n", during, idle);
	return per < 0 ? 0 : per;
}

/* ---- ioeventfd doorbell against a write answered by the backend ---- */

#define DOORBELL_ADDR (MMIO_BASE + 0x10)
#define DOORBELL_VALUE 1

struct doorbell {
	int efd;
	long n;
};

/* The backend side of a doorbell: wait on the eventfd for @n signals. */
static void *doorbell_backend(void *p)
{
	struct doorbell *db = p;
	long seen = 0;
	uint64_t cnt;

	pin(1);
	while (seen < db->n) {
		if (read(db->efd, &cnt, sizeof(cnt)) != sizeof(cnt)) {
			if (errno == EINTR)
				continue;
			die("doorbell eventfd read");
		}
		seen += cnt;
	}
	if (seen != db->n) {
		errno = EPROTO;
		die("doorbell: more signals than writes");
	}
	return NULL;
}

/* One vcpu writes the doorbell iters times; mean ns per write. */
static double doorbell_writes(struct rig *r)
{
	struct ioreq_vmm_access acc = {
		.size = sizeof(acc), .space = IOREQ_SPACE_MMIO,
		.op = IOREQ_OP_WRITE, .len = 4, .addr = DOORBELL_ADDR,
		.data = DOORBELL_VALUE,
	};
	double t0;
	int i;

	pin(0);
	t0 = now_ns();
	for (i = 0; i < iters; i++) {
		acc.status = 0;
		if (ioctl(r->vmm, IOREQ_VMM_ACCESS, &acc) ||
		    acc.status != IOREQ_VMM_STATUS_DONE)
			die("doorbell access");
	}
	return (now_ns() - t0) / iters;
}

/* The write completed in the kernel: an ioeventfd takes it. */
static double bench_doorbell_ioeventfd(void)
{
	struct doorbell db = { .n = iters };
	struct ioreq_ioeventfd ioev = {
		.size = sizeof(ioev), .flags = IOREQ_IOEVENTFD_DATAMATCH,
		.space = IOREQ_SPACE_MMIO, .len = 4, .addr = DOORBELL_ADDR,
		.datamatch = DOORBELL_VALUE,
	};
	pthread_t bt;
	struct rig r;
	double ns;

	rig_open(&r, 1, 1);
	db.efd = eventfd(0, EFD_CLOEXEC);
	if (db.efd < 0)
		die("eventfd");
	ioev.fd = db.efd;
	if (ioctl(r.be, IOREQ_IOEVENTFD, &ioev))
		die("IOREQ_IOEVENTFD");
	pthread_create(&bt, NULL, doorbell_backend, &db);
	ns = doorbell_writes(&r);
	/* Every write reached the backend: it sums the eventfd counts. */
	pthread_join(bt, NULL);
	close(r.vmm);
	close(r.be);
	close(db.efd);
	return ns;
}

/* The same write answered through read()/write() of a record. */
static double bench_doorbell_roundtrip(void)
{
	pthread_t bt;
	struct rig r;
	double ns;

	rig_open(&r, 1, 1);
	pthread_create(&bt, NULL, backend, &r);
	ns = doorbell_writes(&r);
	atomic_store(&r.stop, 1);
	close(r.vmm);
	pthread_join(bt, NULL);
	close(r.be);
	if (atomic_load(&r.served) != iters) {
		errno = EPROTO;
		die("doorbell: the backend did not answer every write");
	}
	return ns;
}

/* ---- polling: the modules' read_poll_ns and poll_ns parameters ---- */

static const char *const poll_params[] = {
	"/sys/module/ioreq/parameters/read_poll_ns",
	"/sys/module/ioreq_vmm/parameters/poll_ns",
};

/* The windows as loaded: [0] the backend's read(), [1] the vcpu's. */
static bool get_polling(unsigned int ns[2])
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(poll_params[i], "r");
		bool ok = f && fscanf(f, "%u", &ns[i]) == 1;

		if (f)
			fclose(f);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Set the backend's read() window to @read_ns and the vcpu's to @vcpu_ns;
 * false if a parameter cannot be written.
 */
static bool set_polling(unsigned int read_ns, unsigned int vcpu_ns)
{
	unsigned int ns[2] = { read_ns, vcpu_ns };
	unsigned int i;
	char val[16];

	for (i = 0; i < 2; i++) {
		int fd = open(poll_params[i], O_WRONLY);
		bool ok;

		snprintf(val, sizeof(val), "%u", ns[i]);
		ok = fd >= 0 &&
		     write(fd, val, strlen(val)) == (ssize_t)strlen(val);
		if (fd >= 0)
			close(fd);
		if (!ok)
			return false;
	}
	return true;
}

/* ---- driver ---- */

typedef double (*bench_fn)(void);

/* Spread of a row's own values: median, min, max. */
static struct stat3 measure(bench_fn fn)
{
	double v[64];
	int i;

	fn();	/* warm up */
	for (i = 0; i < repeats; i++)
		v[i] = fn();
	return summarize(v, repeats);
}

/*
 * A ratio is measured in turns: every figure of a set is taken once per
 * turn, in order on even turns and in reverse on odd ones, so that the
 * machine's drifts touch each figure alike, and each turn gives one
 * value of the ratio.  A row reports the median of those values and
 * their range, the ratio's own spread.
 */
enum poll_mode { POLL_LOADED, POLL_VCPU_ONLY, POLL_NONE };

struct fig {
	bench_fn plain;			/* the figure, or */
	double (*fn)(struct fig *f);	/* the figure of f->arg */
	unsigned int arg;		/* vcpus or regions */
	enum poll_mode poll;
	int turn;			/* the turn fn is taking */
	double v[64];			/* per turn */
	double aux[64];			/* a second figure, if fn has one */
};

static unsigned int loaded[2];		/* the polling windows as loaded */

static void set_mode(enum poll_mode m)
{
	if (!set_polling(m == POLL_LOADED ? loaded[0] : 0,
			 m == POLL_NONE ? 0 : loaded[1]))
		die("setting the polling windows");
}

static double fig_run(struct fig *f, int turn)
{
	double v;

	if (f->poll != POLL_LOADED)
		set_mode(f->poll);
	f->turn = turn;
	v = f->fn ? f->fn(f) : f->plain();
	if (f->poll != POLL_LOADED)
		set_mode(POLL_LOADED);
	return v;
}

static void take_turns(struct fig *const *set, unsigned int n)
{
	unsigned int i;
	int j;

	for (i = 0; i < n; i++)
		fig_run(set[i], 0);	/* warm up */
	for (j = 0; j < repeats; j++)
		for (i = 0; i < n; i++) {
			struct fig *f = set[j % 2 ? n - 1 - i : i];

			f->v[j] = fig_run(f, j);
		}
}

static struct stat3 fig_stat(const struct fig *f)
{
	double v[64];

	memcpy(v, f->v, repeats * sizeof(v[0]));
	return summarize(v, repeats);
}

/* @a over @b, turn by turn. */
static struct stat3 ratio_of(const struct fig *a, const struct fig *b)
{
	double v[64];
	int j;

	for (j = 0; j < repeats; j++)
		v[j] = a->v[j] / b->v[j];
	return summarize(v, repeats);
}

/* A rate @a (requests/s) against one round trip of @rt (ns) a turn. */
static struct stat3 rate_ratio(const struct fig *a, const struct fig *rt)
{
	double v[64];
	int j;

	for (j = 0; j < repeats; j++)
		v[j] = a->v[j] * rt->v[j] / 1e9;
	return summarize(v, repeats);
}

/* The read round trip with f->arg regions claimed (at least 1). */
static double f_rt(struct fig *f)
{
	return bench_ioreq_rt(f->arg ? f->arg : 1);
}

static double f_vcpus(struct fig *f)
{
	return run_ioreq(f->arg, 1, iters / f->arg, NULL);
}

static double f_written(struct fig *f)
{
	return run_written(f->arg, iters / f->arg);
}

/* The backend's cost per request; the hypervisor's goes to aux. */
static double f_serial(struct fig *f)
{
	struct serial c = serial_cost(f->arg, iters / f->arg);

	f->aux[f->turn] = c.hv_ns;
	return c.be_ns;
}

static double rt_one(void)
{
	return bench_ioreq_rt(1);
}

/* ns -> us, and requests/s -> thousands/s: both divide by 1000. */
static struct stat3 us(struct stat3 s)
{
	return (struct stat3){ s.median / 1e3, s.min / 1e3, s.max / 1e3 };
}

static void row(const char *key, const char *what, struct stat3 s,
		const char *unit, const struct stat3 *ratio,
		const char *against, const char *goal)
{
	printf("%-34s %10.2f %-5s (%.2f-%.2f)", what, s.median, unit, s.min,
	       s.max);
	if (ratio)
		printf("  %6.2fx (%.2f-%.2f) %-20s %s", ratio->median,
		       ratio->min, ratio->max, against, goal);
	printf("\n");
	fprintf(kv, "%s_median=%.3f\n%s_min=%.3f\n%s_max=%.3f\n", key,
		s.median, key, s.min, key, s.max);
	if (ratio)
		fprintf(kv, "%s_ratio=%.3f\n%s_ratio_min=%.3f\n%s_ratio_max=%.3f\n",
			key, ratio->median, key, ratio->min, key, ratio->max);
}

static double tv_us(struct timeval a, struct timeval b)
{
	return (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_usec - a.tv_usec);
}

/*
 * One more run of @fn under getrusage(RUSAGE_SELF), which counts both of
 * its threads: per round trip, kernel and user CPU time, voluntary and
 * involuntary context switches, and the wall time they leave unexplained.
 */
static void cost_row(const char *key, const char *what, bench_fn fn)
{
	struct rusage a, b;
	double wall, sys, user, vcs, ics;

	getrusage(RUSAGE_SELF, &a);
	wall = fn() / 1e3;
	getrusage(RUSAGE_SELF, &b);
	sys = tv_us(a.ru_stime, b.ru_stime) / iters;
	user = tv_us(a.ru_utime, b.ru_utime) / iters;
	vcs = (double)(b.ru_nvcsw - a.ru_nvcsw) / iters;
	ics = (double)(b.ru_nivcsw - a.ru_nivcsw) / iters;
	printf("%-34s %7.1f %7.1f %7.1f %6.2f %6.2f\n", what, wall, sys, user,
	       vcs, ics);
	fprintf(kv, "%s_wall_us=%.3f\n%s_sys_us=%.3f\n%s_user_us=%.3f\n"
		"%s_vcsw=%.3f\n%s_ivcsw=%.3f\n", key, wall, key, sys, key, user,
		key, vcs, key, ics);
}

static void cost_rows(void)
{
	printf("%-34s %7s %7s %7s %6s %6s\n", "per round trip (one more run)",
	       "wall us", "sys us", "user us", "sleeps", "preempt");
	cost_row("cost_eventfd", "  eventfd ping-pong", bench_eventfd);
	cost_row("cost_socketpair", "  socketpair ping-pong", bench_socketpair);
	cost_row("cost_pipe", "  pipe ping-pong", bench_pipe);
	cost_row("cost_ioreq", "  ioreq read round trip", rt_one);
}

/*
 * The doorbell rows: the ioeventfd write against the write round trip,
 * and against that round trip with neither side polling if @polls.
 */
static void doorbell_rows(bool polls)
{
	struct fig wrt = { bench_doorbell_roundtrip };
	struct fig db = { bench_doorbell_ioeventfd };
	struct fig nwrt = { bench_doorbell_roundtrip, .poll = POLL_NONE };
	struct fig *set[] = { &wrt, &db, &nwrt };
	struct stat3 r;

	take_turns(set, polls ? 3 : 2);
	row("write_rt_us", "ioreq 4-byte write round trip", us(fig_stat(&wrt)),
	    "us", NULL, "", "");
	r = ratio_of(&db, &wrt);
	row("ioeventfd_doorbell_us", "ioeventfd doorbell write",
	    us(fig_stat(&db)), "us", &r, "of write round trip",
	    "goal <= 0.20x");
	if (!polls)
		return;
	row("write_nopoll_rt_us", "  write round trip, neither polling",
	    us(fig_stat(&nwrt)), "us", NULL, "", "");
	r = ratio_of(&db, &nwrt);
	row("ioeventfd_doorbell_vs_nopoll", "  doorbell against that",
	    us(fig_stat(&db)), "us", &r, "of that round trip", "");
}

/*
 * The written rows (1, 2, 4 and 8 vcpus served by one hypervisor thread)
 * against the single round trip, then what they can reach: each side's
 * cost per request with nothing to wait for (serial_cost()), for 1 and 8
 * vcpus, and the best rate of 8 vcpus with each side on its own CPU.
 */
static void written_rows(void)
{
	static const unsigned int batch[] = { 1, 2, 4, 8 };
	struct fig rt = { .fn = f_rt }, w[4], ser[2];
	struct fig *set[7] = { &rt };
	double v[64];
	struct stat3 s, r;
	unsigned int i;
	int j;

	for (i = 0; i < 4; i++) {
		w[i] = (struct fig){ .fn = f_written, .arg = batch[i] };
		set[1 + i] = &w[i];
	}
	for (i = 0; i < 2; i++) {
		ser[i] = (struct fig){ .fn = f_serial, .arg = i ? 8 : 1 };
		set[5 + i] = &ser[i];
	}
	take_turns(set, 7);
	printf("%-34s\n", "  one hypervisor thread, accesses written:");
	for (i = 0; i < 4; i++) {
		char key[32], what[64];

		snprintf(key, sizeof(key), "written%u_rps", batch[i]);
		snprintf(what, sizeof(what), "  %u vcpu%s", batch[i],
			 batch[i] > 1 ? "s" : "");
		r = rate_ratio(&w[i], &rt);
		row(key, what, us(fig_stat(&w[i])), "k/s", &r,
		    "of 1/round trip", batch[i] == 8 ? "goal >= 4x" : "");
	}
	printf("%-34s\n", "  each side alone, per request:");
	for (i = 0; i < 2; i++) {
		char key[32], what[64];

		snprintf(key, sizeof(key), "serial%u_backend_us", ser[i].arg);
		snprintf(what, sizeof(what), "    %u at a time, backend",
			 ser[i].arg);
		row(key, what, us(fig_stat(&ser[i])), "us", NULL, "", "");
		memcpy(v, ser[i].aux, repeats * sizeof(v[0]));
		snprintf(key, sizeof(key), "serial%u_hypervisor_us",
			 ser[i].arg);
		snprintf(what, sizeof(what), "    %u at a time, hypervisor",
			 ser[i].arg);
		row(key, what, us(summarize(v, repeats)), "us", NULL, "", "");
	}
	/* 8 vcpus: the slower side's bound, turn by turn. */
	for (j = 0; j < repeats; j++)
		v[j] = 1e9 / dmax(ser[1].v[j], ser[1].aux[j]);
	s = summarize(v, repeats);
	for (j = 0; j < repeats; j++)
		v[j] = rt.v[j] / dmax(ser[1].v[j], ser[1].aux[j]);
	r = summarize(v, repeats);
	row("written8_ceiling", "  8 vcpus, the slower side's bound", us(s),
	    "k/s", &r, "of 1/round trip", "");
}

int main(int argc, char **argv)
{
	static const unsigned int batch[] = { 1, 2, 4, 8 };
	static const unsigned int nregions[] = { 10, 1000, 10000 };
	struct fig efd = { bench_eventfd }, sp = { bench_socketpair };
	struct fig pi = { bench_pipe };
	struct fig rt = { .fn = f_rt }, vrt = { .fn = f_rt, .poll = POLL_VCPU_ONLY };
	struct fig nrt = { .fn = f_rt, .poll = POLL_NONE }, vc[4], rg[3];
	struct fig *set[6] = { &efd, &sp, &pi, &rt, &vrt, &nrt };
	const char *out = "ioreq-bench.txt";
	bool polls, only_written = false;
	struct stat3 s, r;
	unsigned int i;
	int opt;

	while ((opt = getopt(argc, argv, "n:r:o:w")) != -1) {
		switch (opt) {
		case 'w': only_written = true; break;
		case 'n': iters = atoi(optarg); break;
		case 'r': repeats = atoi(optarg); break;
		case 'o': out = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-n iterations] [-r repeats] [-o file] [-w: only the written rows]\n", argv[0]);
			return 2;
		}
	}
	if (repeats < 1 || repeats > 64 || iters < 1)
		return 2;
	kv = fopen(out, "w");
	if (!kv)
		die(out);
	fprintf(kv, "iterations=%d\nrepeats=%d\ncpus=%ld\n", iters, repeats,
		sysconf(_SC_NPROCESSORS_ONLN));
	/* Without the parameters only the windows as loaded are measured. */
	polls = get_polling(loaded) && set_polling(loaded[0], loaded[1]);

	printf("ioreq-bench: %d iterations x %d turns, median (min-max); ratios turn by turn, %ld cpus\n\n",
	       iters, repeats, sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-34s %10s %-5s %-13s %s\n", "what", "median", "unit",
	       "(spread)", "ratio (spread)");

	row("spin_rt_us", "shared-word spin ping-pong", us(measure(bench_spin)),
	    "us", NULL, "", "");
	row("spin_pause_rt_us", "  with a pause in the spin",
	    us(measure(bench_spin_pause)), "us", NULL, "", "");
	if (only_written) {
		/* For profiling: the written rows alone, against the round trip. */
		written_rows();
		fclose(kv);
		return 0;
	}

	take_turns(set, polls ? 6 : 4);
	row("eventfd_rt_us", "eventfd ping-pong round trip", us(fig_stat(&efd)),
	    "us", NULL, "", "");
	row("socketpair_rt_us", "socketpair 32 B ping-pong", us(fig_stat(&sp)),
	    "us", NULL, "", "");
	row("pipe_rt_us", "pipe ping-pong round trip", us(fig_stat(&pi)), "us",
	    NULL, "", "");
	printf("\n");
	s = us(fig_stat(&rt));
	r = ratio_of(&rt, &efd);
	row("ioreq_rt_vs_eventfd", "ioreq 4-byte read round trip", s, "us", &r,
	    "of eventfd", "goal <= 1.15x");
	r = ratio_of(&rt, &sp);
	row("ioreq_rt_vs_socketpair", "", s, "us", &r, "of socketpair",
	    "goal <= 0.70x");
	r = ratio_of(&rt, &pi);
	row("ioreq_rt_vs_pipe", "", s, "us", &r, "of pipe", "");
	if (polls) {
		fprintf(kv, "read_poll_ns=%u\nvcpu_poll_ns=%u\n", loaded[0],
			loaded[1]);
		printf("%-34s ioreq read_poll_ns %u, ioreq_vmm poll_ns %u)\n",
		       "  (polling limits as loaded:", loaded[0], loaded[1]);
		s = us(fig_stat(&vrt));
		r = ratio_of(&vrt, &efd);
		row("ioreq_vpoll_rt_vs_eventfd", "  only the vcpu polling", s,
		    "us", &r, "of eventfd", "");
		r = ratio_of(&vrt, &sp);
		row("ioreq_vpoll_rt_vs_socketpair", "", s, "us", &r,
		    "of socketpair", "");
		s = us(fig_stat(&nrt));
		r = ratio_of(&nrt, &efd);
		row("ioreq_nopoll_rt_vs_eventfd", "  neither side polling", s,
		    "us", &r, "of eventfd", "");
		r = ratio_of(&nrt, &sp);
		row("ioreq_nopoll_rt_vs_socketpair", "", s, "us", &r,
		    "of socketpair", "");
		r = ratio_of(&rt, &nrt);
		row("ioreq_rt_vs_nopoll", "  (as loaded against that)",
		    us(fig_stat(&rt)), "us", &r, "of not polling", "");
	} else {
		printf("%-34s %s\n", "  other polling windows",
		       "not measured: no read_poll_ns/poll_ns parameters");
	}
	printf("\n");
	cost_rows();

	/* A thread per vcpu, against the single round trip. */
	printf("\n");
	set[0] = &rt;
	for (i = 0; i < 4; i++) {
		vc[i] = (struct fig){ .fn = f_vcpus, .arg = batch[i] };
		set[1 + i] = &vc[i];
	}
	take_turns(set, 5);
	for (i = 0; i < 4; i++) {
		char key[32], what[64];

		snprintf(key, sizeof(key), "vcpus%u_rps", batch[i]);
		snprintf(what, sizeof(what), "%u vcpu thread%s",
			 batch[i], batch[i] > 1 ? "s" : "");
		r = rate_ratio(&vc[i], &rt);
		row(key, what, us(fig_stat(&vc[i])), "k/s", &r,
		    "of 1/round trip", "");
	}
	written_rows();
	/* The same 8 vcpus with no polling, against that round trip. */
	if (polls) {
		vc[0] = (struct fig){ .fn = f_vcpus, .arg = 8, .poll = POLL_NONE };
		set[0] = &nrt;
		set[1] = &vc[0];
		take_turns(set, 2);
		r = rate_ratio(&vc[0], &nrt);
		row("vcpus8_nopoll_rps", "8 vcpus, neither side polling",
		    us(fig_stat(&vc[0])), "k/s", &r, "of 1/not polling RT", "");
	}

	printf("\n");
	for (i = 0; i < 3; i++) {
		rg[i] = (struct fig){ .fn = f_rt, .arg = nregions[i] };
		set[i] = &rg[i];
	}
	take_turns(set, 3);
	for (i = 0; i < 3; i++) {
		char key[32], what[64];

		snprintf(key, sizeof(key), "regions%u_rt", nregions[i]);
		snprintf(what, sizeof(what), "round trip, %u regions",
			 nregions[i]);
		r = ratio_of(&rg[i], &rg[0]);
		row(key, what, us(fig_stat(&rg[i])), "us", &r, "of 10 regions",
		    nregions[i] == 10000 ? "goal <= 1.5x" : "");
	}

	printf("\n");
	doorbell_rows(polls);

	printf("\n");
	{
		double a = allocs_per_request(iters);

		if (a < 0) {
			printf("%-34s %s\n", "kernel allocations per request",
			       "not measured: no kmem tracepoints in tracefs");
		} else {
			printf("%-34s %10.4f %-5s (kmem tracepoints over %d requests) goal 0\n",
			       "kernel allocations per request", a, "", iters);
			fprintf(kv, "allocs_per_request=%.4f\n", a);
		}
	}
	fclose(kv);
	return 0;
}
