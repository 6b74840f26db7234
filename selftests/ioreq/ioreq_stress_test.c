// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq stress tests: many vcpus with accesses in flight at once, every
 * answer checked; regions claimed and released under traffic; the
 * per-session region limit.  Runs once per provider.
 *
 * IOREQ_STRESS_ITERS in the environment overrides the 10,000 accesses per
 * vcpu of the "many_vcpus" test.
 */
#define _GNU_SOURCE
#include "ioreq_util.h"

#define NR_VCPUS	4U
#define ITERS		10000U
#define MMIO_BASE	0xc0000000ULL
#define MMIO_LEN	0x10000ULL
#define MMIO_UD		0x57e55001ULL
#define PIO_BASE	0x1000ULL
#define PIO_LEN		0x400ULL
#define PIO_UD		0x57e55002ULL
#define BATCH		64U

FIXTURE(stress) {
	struct ioreq_env e;
};

IOREQ_FIXTURE_VARIANT(stress);
IOREQ_PROVIDER_VARIANTS(stress);

FIXTURE_SETUP(stress)
{
	ioreq_env_setup(&self->e, variant->hv, NR_VCPUS);
}

FIXTURE_TEARDOWN(stress)
{
	ioreq_env_teardown(&self->e);
}

static __u64 mix(__u64 x)
{
	/* splitmix64 */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Access number @i of @vcpu: what it does and what the answer must be. */
struct pattern {
	__u8 op, len, space;
	__u64 off, ud, wdata, rdata;
};

static void pattern(unsigned int vcpu, unsigned int i, struct pattern *p)
{
	__u64 r = mix((__u64)vcpu << 32 | i);

	p->op = (r & 1) ? IOREQ_OP_WRITE : IOREQ_OP_READ;
	p->len = 1U << ((r >> 1) & 3);
	if (((r >> 3) & 7) == 0) {
		p->space = IOREQ_SPACE_PIO;
		p->ud = PIO_UD;
		p->off = vcpu * (PIO_LEN / NR_VCPUS) + ((r >> 8) & 0xf8);
	} else {
		p->space = IOREQ_SPACE_MMIO;
		p->ud = MMIO_UD;
		p->off = vcpu * (MMIO_LEN / NR_VCPUS) + ((r >> 8) & 0x3ff8);
	}
	p->wdata = mix(r);
	p->rdata = mix(r ^ 0x5a5a5a5a5a5a5a5aULL);
}

struct worker {
	struct ioreq_hv *hv;
	unsigned int vcpu, iters;
	unsigned int done;	/* accesses that completed correctly */
	int ret;		/* first failure: -errno of the ioctl, ... */
	int status;		/* ... or the status, ... */
	__u64 got, want;	/* ... or a wrong read value */
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct ioreq_vmm_access a;
	struct pattern p;
	unsigned int i;

	w->status = -1;
	for (i = 0; i < w->iters; i++) {
		pattern(w->vcpu, i, &p);
		w->ret = ioreq_hv_access(w->hv, &a, w->vcpu, p.space, p.op,
					 p.len,
					 (p.space == IOREQ_SPACE_PIO ?
					  PIO_BASE : MMIO_BASE) + p.off,
					 p.wdata, 0);
		if (w->ret)
			break;
		if (a.status != IOREQ_VMM_STATUS_DONE) {
			w->status = a.status;
			break;
		}
		if (p.op == IOREQ_OP_READ &&
		    (a.data & ioreq_mask(p.len)) !=
		    (p.rdata & ioreq_mask(p.len))) {
			w->got = a.data;
			w->want = p.rdata;
			w->status = -2;
			break;
		}
		__atomic_store_n(&w->done, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void log_workers(struct __test_metadata *_metadata,
			struct worker *w, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		TH_LOG("vcpu %u: %u/%u done, ret %s, status %d, read %#llx want %#llx",
		       w[i].vcpu, __atomic_load_n(&w[i].done, __ATOMIC_ACQUIRE),
		       w[i].iters, ioreq_errname(w[i].ret), w[i].status,
		       (unsigned long long)w[i].got,
		       (unsigned long long)w[i].want);
}

/*
 * 4 vcpus x 10,000 accesses at once, answered in batches, reversed.  The
 * backend waits in poll() then read(), or (@blocking) in a blocking read()
 * alone, where the core's read_poll_ns window applies.  With @slow_us, 200
 * accesses each, and every other run of 32 batches is answered @slow_us
 * late: longer than any polling window, so the vcpus' windows shrink and
 * grow again.
 */
static void many_vcpus(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stress) *self, bool blocking,
		       unsigned int slow_us)
{
	struct worker w[NR_VCPUS];
	pthread_t t[NR_VCPUS];
	struct ioreq_cmd c[BATCH], r[BATCH];
	unsigned int next[NR_VCPUS] = { 0 };
	unsigned int iters = ITERS, total = 0, batches = 0, maxbatch = 0;
	unsigned int i, k, n;
	struct timespec t0;
	const char *env = getenv("IOREQ_STRESS_ITERS");
	struct pattern p;
	long ms;

	if (env && atoi(env) > 0)
		iters = atoi(env);
	if (slow_us)
		iters = 200;
	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, MMIO_BASE, MMIO_LEN, MMIO_UD,
		    NULL);
	ioreq_claim(self->e.be, IOREQ_SPACE_PIO, PIO_BASE, PIO_LEN, PIO_UD,
		    NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NR_VCPUS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].hv = &self->e.hv;
		w[i].vcpu = i;
		w[i].iters = iters;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker_fn, &w[i]));
	}

	while (total < NR_VCPUS * iters) {
		int got;

		if (blocking) {
			ssize_t len = read(self->e.be, c, sizeof(c));

			got = len < 0 ? -errno : (int)(len / IOREQ_REC);
		} else {
			got = ioreq_read_cmds(self->e.be, c, BATCH,
					      IOREQ_WAIT_MS);
		}

		if (got <= 0)
			log_workers(_metadata, w, NR_VCPUS);
		ASSERT_LT(0, got) TH_LOG("read: %s after %u records",
					 ioreq_errname(got), total);
		n = got;
		/* one record per vcpu at most, so one write answers a read */
		ASSERT_GE(NR_VCPUS, n);
		batches++;
		if (n > maxbatch)
			maxbatch = n;
		for (k = 0; k < n; k++) {
			unsigned int v = IOREQ_CMD_VCPU(c[k].id);

			ASSERT_GT(NR_VCPUS, v);
			ASSERT_GT(iters, next[v]);
			pattern(v, next[v], &p);
			if (c[k].op != p.op || c[k].size != p.len ||
			    c[k].offset != p.off || c[k].user_data != p.ud)
				TH_LOG("vcpu %u access %u: wrong record", v,
				       next[v]);
			ASSERT_CMD_MATCHES(&c[k], p.op, p.len, v, p.ud, p.off,
					   p.wdata);
			next[v]++;
			if (p.op == IOREQ_OP_READ)
				c[k].data = p.rdata;
			/* answer in the reverse order */
			r[n - 1 - k] = c[k];
		}
		if (slow_us && (batches / 32) % 2)
			usleep(slow_us);
		ASSERT_RET(n * IOREQ_REC, __ioreq_write_cmds(self->e.be, r, n));
		total += n;
	}
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(t[i], NULL);
	ms = ioreq_ms_since(&t0);
	for (i = 0; i < NR_VCPUS; i++) {
		if (w[i].done != iters)
			log_workers(_metadata, w, NR_VCPUS);
		ASSERT_EQ(iters, w[i].done);
	}
	ioreq_expect_none(self->e.be);
	TH_LOG("%u accesses in %ld ms, %u batches (largest %u)", total, ms,
	       batches, maxbatch);
}

TEST_F_TIMEOUT(stress, many_vcpus, 180)
{
	many_vcpus(_metadata, self, false, 0);
}

/* Write @val to a module parameter; 0 or -errno. */
static int set_param(const char *module, const char *name, unsigned long val)
{
	char path[256], buf[32];
	int fd, len, ret = 0;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", module,
		 name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%lu", val);
	if (write(fd, buf, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * The same with the polling windows open (ioreq read_poll_ns, ioreq_vmm
 * poll_ns): vcpus and backend spin for each other before sleeping, and
 * every answer must still be the right one.
 */
TEST_F_TIMEOUT(stress, many_vcpus_polling, 180)
{
	unsigned long rd = ioreq_param("ioreq", "read_poll_ns", ~0UL);
	unsigned long vm = ioreq_param("ioreq_vmm", "poll_ns", ~0UL);

	ASSERT_NE(~0UL, rd) TH_LOG("no ioreq read_poll_ns parameter");
	ASSERT_NE(~0UL, vm) TH_LOG("no ioreq_vmm poll_ns parameter");
	ASSERT_ERRNO(0, set_param("ioreq", "read_poll_ns", 50000));
	ASSERT_ERRNO(0, set_param("ioreq_vmm", "poll_ns", 50000));
	many_vcpus(_metadata, self, true, 0);
	ASSERT_ERRNO(0, set_param("ioreq", "read_poll_ns", rd));
	ASSERT_ERRNO(0, set_param("ioreq_vmm", "poll_ns", vm));
}

/* With no polling at all (ioreq_vmm polls by default): sleeps only. */
TEST_F_TIMEOUT(stress, many_vcpus_no_polling, 180)
{
	unsigned long vm = ioreq_param("ioreq_vmm", "poll_ns", ~0UL);

	ASSERT_NE(~0UL, vm) TH_LOG("no ioreq_vmm poll_ns parameter");
	ASSERT_ERRNO(0, set_param("ioreq_vmm", "poll_ns", 0));
	many_vcpus(_metadata, self, false, 0);
	ASSERT_ERRNO(0, set_param("ioreq_vmm", "poll_ns", vm));
}

/*
 * A backend that is slow by turns, with the vcpus' adaptive window at
 * 20 us: every answer still the right one.  The backend waits in poll(),
 * or in a blocking read() with its window open too.
 */
static void slow_backend(struct __test_metadata *_metadata,
			 FIXTURE_DATA(stress) *self, bool blocking)
{
	unsigned long rd = ioreq_param("ioreq", "read_poll_ns", ~0UL);
	unsigned long vm = ioreq_param("ioreq_vmm", "poll_ns", ~0UL);

	ASSERT_NE(~0UL, rd) TH_LOG("no ioreq read_poll_ns parameter");
	ASSERT_NE(~0UL, vm) TH_LOG("no ioreq_vmm poll_ns parameter");
	ASSERT_ERRNO(0, set_param("ioreq_vmm", "poll_ns", 20000));
	if (blocking)
		ASSERT_ERRNO(0, set_param("ioreq", "read_poll_ns", 20000));
	many_vcpus(_metadata, self, blocking, 1000);
	ASSERT_ERRNO(0, set_param("ioreq", "read_poll_ns", rd));
	ASSERT_ERRNO(0, set_param("ioreq_vmm", "poll_ns", vm));
}

TEST_F_TIMEOUT(stress, polling_slow_backend, 60)
{
	slow_backend(_metadata, self, false);
}

TEST_F_TIMEOUT(stress, polling_slow_backend_blocking, 60)
{
	slow_backend(_metadata, self, true);
}

/* ---- regions released and claimed again under traffic ---------------- */

struct churn {
	struct ioreq_env *e;
	int stop;
	unsigned int answered, stale;
	int err;
};

#define CHURN_BASE	0xd0000000ULL
#define CHURN_LEN	0x100ULL

static __u64 churn_value(__u64 off)
{
	return mix(off) | 1;
}

/* The backend: answers every read with churn_value(offset). */
static void *churn_backend(void *arg)
{
	struct churn *ch = arg;
	struct ioreq_cmd c[BATCH];
	int n, k;
	ssize_t ret;

	while (!__atomic_load_n(&ch->stop, __ATOMIC_ACQUIRE)) {
		n = ioreq_read_cmds(ch->e->be, c, BATCH, 50);
		if (n == -ETIMEDOUT)
			continue;
		if (n < 0) {
			ch->err = n;
			return NULL;
		}
		for (k = 0; k < n; k++) {
			if (c[k].op == IOREQ_OP_READ)
				c[k].data = churn_value(c[k].offset);
			/* the region may be gone already: ENOENT is fine */
			ret = __ioreq_write_cmds(ch->e->be, &c[k], 1);
			if (ret == IOREQ_REC) {
				ch->answered++;
			} else if (ret == -ENOENT) {
				ch->stale++;
			} else {
				ch->err = ret < 0 ? ret : -EIO;
				return NULL;
			}
		}
	}
	return NULL;
}

struct churn_vcpu {
	struct ioreq_hv *hv;
	unsigned int vcpu, iters;
	unsigned int done, unclaimed, aborted;
	int ret, bad_status;
	__u64 bad_data, addr;
};

static void *churn_vcpu_fn(void *arg)
{
	struct churn_vcpu *cv = arg;
	struct ioreq_vmm_access a;
	unsigned int i;
	__u64 off, want;

	for (i = 0; i < cv->iters; i++) {
		off = (mix(cv->vcpu * 100000 + i) % (CHURN_LEN / 8)) * 8;
		cv->ret = ioreq_hv_access(cv->hv, &a, cv->vcpu,
					  IOREQ_SPACE_MMIO, IOREQ_OP_READ, 8,
					  CHURN_BASE + off, 0, 0);
		if (cv->ret)
			return NULL;
		switch (a.status) {
		case IOREQ_VMM_STATUS_DONE:
			want = churn_value(off);
			cv->done++;
			break;
		case IOREQ_VMM_STATUS_UNCLAIMED:
			want = ~0ULL;
			cv->unclaimed++;
			/* let the releasing thread claim the range again */
			usleep(100);
			break;
		case IOREQ_VMM_STATUS_ABORTED:
			want = ~0ULL;
			cv->aborted++;
			break;
		default:
			cv->bad_status = a.status;
			return NULL;
		}
		if (a.data != want) {
			cv->bad_data = a.data;
			cv->addr = CHURN_BASE + off;
			cv->bad_status = a.status;
			return NULL;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, release_under_traffic, 90)
{
	struct churn ch = { .e = &self->e };
	struct churn_vcpu cv[NR_VCPUS];
	pthread_t tb, tv[NR_VCPUS];
	bool joined[NR_VCPUS] = { false };
	unsigned int i, rounds = 0, done = 0, aborted = 0, unclaimed = 0;
	struct timespec t0;
	__u32 id;

	ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, CHURN_BASE, CHURN_LEN, 0,
		    &id);
	/* a record polled for may be withdrawn before read(): don't block */
	ASSERT_EQ(0, fcntl(self->e.be, F_SETFL,
			   fcntl(self->e.be, F_GETFL) | O_NONBLOCK));
	ASSERT_EQ(0, pthread_create(&tb, NULL, churn_backend, &ch));
	for (i = 0; i < NR_VCPUS; i++) {
		memset(&cv[i], 0, sizeof(cv[i]));
		cv[i].hv = &self->e.hv;
		cv[i].vcpu = i;
		cv[i].iters = 1000;
		cv[i].bad_status = -1;
		ASSERT_EQ(0, pthread_create(&tv[i], NULL, churn_vcpu_fn,
					    &cv[i]));
	}
	/* release and claim the range again while the vcpus hammer it */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		bool running = false;

		for (i = 0; i < NR_VCPUS; i++) {
			if (!joined[i])
				joined[i] = !pthread_tryjoin_np(tv[i], NULL);
			running |= !joined[i];
		}
		if (!running)
			break;
		ASSERT_GT(60000, ioreq_ms_since(&t0))
			TH_LOG("vcpus still running after %u rounds", rounds);
		ioreq_release(self->e.be, id);
		ioreq_claim(self->e.be, IOREQ_SPACE_MMIO, CHURN_BASE,
			    CHURN_LEN, rounds, &id);
		rounds++;
		ioreq_msleep(rounds & 1);
	}
	__atomic_store_n(&ch.stop, 1, __ATOMIC_RELEASE);
	pthread_join(tb, NULL);

	ASSERT_ERRNO(0, ch.err);
	for (i = 0; i < NR_VCPUS; i++) {
		ASSERT_ERRNO(0, cv[i].ret);
		ASSERT_EQ(-1, cv[i].bad_status)
			TH_LOG("vcpu %u: status %s data %#llx at %#llx", i,
			       ioreq_status_name(cv[i].bad_status),
			       (unsigned long long)cv[i].bad_data,
			       (unsigned long long)cv[i].addr);
		ASSERT_EQ(cv[i].iters,
			  cv[i].done + cv[i].unclaimed + cv[i].aborted);
		done += cv[i].done;
		aborted += cv[i].aborted;
		unclaimed += cv[i].unclaimed;
	}
	/* not one answer was mistaken for another, and some got through */
	ASSERT_LT(0U, done);
	ASSERT_EQ(done, ch.answered);
	TH_LOG("%u rounds: %u done, %u aborted, %u unclaimed, %u stale answers",
	       rounds, done, aborted, unclaimed, ch.stale);
}

/* ---- the per-session region limit ------------------------------------ */

TEST_F_TIMEOUT(stress, region_limit, 60)
{
	struct ioreq_info info;
	struct timespec t0;
	unsigned int i;
	__u32 id, first = 0;
	int be2;

	ASSERT_ERRNO(0, __ioreq_get_info(self->e.be, &info));
	ASSERT_LT(0U, info.max_regions);
	if (info.max_regions > 20000)
		SKIP(return, "max_regions %u: too many to fill here",
		     info.max_regions);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < info.max_regions; i++) {
		/* one byte every other byte: no two regions touch */
		ASSERT_ERRNO_MSG(0, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
				0x100000000ULL + 2 * i, 1, i, 0, &id),
				"region %u of %u", i, info.max_regions);
		if (i == 0)
			first = id;
	}
	ASSERT_ERRNO(ENOSPC, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   0x200000000ULL, 1, 0, 0, NULL));
	ASSERT_ERRNO(ENOSPC, __ioreq_claim(self->e.be, IOREQ_SPACE_PIO,
					   0x80, 1, 0, 0, NULL));
	/* the limit is per session */
	be2 = ioreq_env_session(&self->e);
	ioreq_claim(be2, IOREQ_SPACE_MMIO, 0x200000000ULL, 1, 0, NULL);
	close(be2);
	/* a release makes room for one */
	ioreq_release(self->e.be, first);
	ioreq_claim(self->e.be, IOREQ_SPACE_PIO, 0x80, 1, 0, NULL);
	ASSERT_ERRNO(ENOSPC, __ioreq_claim(self->e.be, IOREQ_SPACE_MMIO,
					   0x100000000ULL, 1, 0, 0, NULL));
	TH_LOG("%u regions claimed in %ld ms", info.max_regions,
	       ioreq_ms_since(&t0));
}

int main(int argc, char **argv)
{
	ioreq_require_backend();
	return test_harness_run(argc, argv);
}
