// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq observability: the tracepoints of a request's life and the
 * counters in /proc/PID/fdinfo (Documentation/virt/ioreq/observability.rst).
 *
 * A guest of /dev/ioreq-vmm and one backend session: the test drives one
 * access of each kind through them (unclaimed, answered read and write,
 * posted write, ioeventfd, aborted read, injected interrupt, irqfd) with
 * the ioreq events enabled through tracefs, then checks that each event
 * fired with the fields of what it did, in order, and that the session's
 * and the guest's fdinfo count exactly that.
 */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "ioreq_util.h"

#define NR_VCPUS	2U
#define REG_A		0x10000000ULL	/* answered requests, an ioeventfd */
#define REG_P		0x10001000ULL	/* posted writes */
#define REG_LEN		0x1000ULL
#define PORT_X		0x100ULL	/* released with a request pending */
#define UD_A		0xa1ULL
#define UD_P		0xb2ULL
#define UD_X		0xc3ULL
#define UNCLAIMED_ADDR	0x20000000ULL
#define IRQ_LINE	5U
#define MSI_ADDR	0xfee00000ULL
#define MSI_DATA	0x41U

#define MAX_EVENTS	64

static const char *const tracefs_dirs[] = {
	"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
};

/* Where tracefs is, mounting it if need be; NULL and @why if nowhere. */
static const char *tracefs_find(char *why, size_t len)
{
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tracefs_dirs); i++) {
		snprintf(path, sizeof(path), "%s/events", tracefs_dirs[i]);
		if (access(path, F_OK) == 0)
			return tracefs_dirs[i];
	}
	if (mount("tracefs", tracefs_dirs[0], "tracefs", 0, NULL) == 0)
		return tracefs_dirs[0];
	snprintf(why, len, "no tracefs: not at %s or %s, and mount: %s",
		 tracefs_dirs[0], tracefs_dirs[1], strerror(errno));
	return NULL;
}

/* Write @val to tracefs file @name (O_TRUNC).  0 or -errno. */
static int trace_write(const char *dir, const char *name, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Read a whole (proc or tracefs) file into a malloc'd string, or NULL. */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = 0;
	return buf;
}

static char *fdinfo(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return slurp(path);
}

/* The value of "@key:\t" in fdinfo text @s, or -1. */
static long long fdinfo_num(const char *s, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s:\t", key);
	p = strstr(s, pat);
	return p ? strtoll(p + strlen(pat), NULL, 0) : -1;
}

/* A counter and the value it should have. */
struct fdinfo_want {
	const char *key;
	long long val;
};

static void fdinfo_check(struct __test_metadata *_metadata, const char *s,
			 const struct fdinfo_want *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		EXPECT_EQ(w[i].val, fdinfo_num(s, w[i].key))
			TH_LOG("fdinfo %s", w[i].key);
}

/* One event of the trace: its name and the text after it. */
struct event {
	char name[32];
	char fields[400];
};

/* The ioreq events in tracefs' "trace", in order.  Count or -1. */
static int trace_events(const char *dir, struct event *ev, int max)
{
	char path[256], *buf, *line, *save, *p;
	int n = 0;

	snprintf(path, sizeof(path), "%s/trace", dir);
	buf = slurp(path);
	if (!buf)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *end;

		if (line[0] == '#')
			continue;
		p = strstr(line, ": ioreq_");
		if (!p || n == max)
			continue;
		p += 2;
		end = strstr(p, ": ");
		if (!end || (size_t)(end - p) >= sizeof(ev[n].name))
			continue;
		memcpy(ev[n].name, p, end - p);
		ev[n].name[end - p] = 0;
		snprintf(ev[n].fields, sizeof(ev[n].fields), " %s ", end + 2);
		n++;
	}
	free(buf);
	return n;
}

/*
 * The index of the first event named @name at or after @from whose fields
 * hold every "key=value" of @want (space separated), or -1.
 */
static int find_event(const struct event *ev, int n, int from,
		      const char *name, const char *want)
{
	char copy[400], *tok, *save, pat[128];
	int i;

	for (i = from; i < n; i++) {
		bool ok = true;

		if (strcmp(ev[i].name, name))
			continue;
		snprintf(copy, sizeof(copy), "%s", want);
		for (tok = strtok_r(copy, " ", &save); tok && ok;
		     tok = strtok_r(NULL, " ", &save)) {
			snprintf(pat, sizeof(pat), " %s ", tok);
			ok = strstr(ev[i].fields, pat);
		}
		if (ok)
			return i;
	}
	return -1;
}

/*
 * Set @_idx to the first event @_name at or after event @_from with the
 * fields printf(@_fmt, ...) gives, or fail.
 */
#define ASSERT_EVENT(_idx, _from, _name, _fmt, ...) do {		\
	snprintf(want, sizeof(want), _fmt, ##__VA_ARGS__);		\
	_idx = find_event(ev, n, _from, _name, want);			\
	ASSERT_LE(0, _idx) TH_LOG("no %s with %s at or after event %d",\
				  _name, want, (int)(_from));		\
} while (0)

static void dump_events(const struct event *ev, int n)
{
	int i;

	for (i = 0; i < n; i++)
		fprintf(stderr, "#   %s:%s\n", ev[i].name, ev[i].fields);
}

FIXTURE(trace) {
	struct ioreq_env e;
	const char *tracefs;	/* NULL: no tracefs, counters only */
	char why[256];		/* why there is none */
	char clock[32];		/* trace_clock to restore, or "" */
	int efd, ifd;
};

/* The selected clock of tracefs' trace_clock ("[local] global ..."). */
static bool trace_clock_get(const char *dir, char *name, size_t len)
{
	char path[256], *buf, *a, *b;
	bool ok = false;

	snprintf(path, sizeof(path), "%s/trace_clock", dir);
	buf = slurp(path);
	if (!buf)
		return false;
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (b && (size_t)(b - a - 1) < len) {
		memcpy(name, a + 1, b - a - 1);
		name[b - a - 1] = 0;
		ok = true;
	}
	free(buf);
	return ok;
}

FIXTURE_SETUP(trace)
{
	char path[256], filter[64];

	self->efd = -1;
	self->ifd = -1;
	ioreq_env_init(&self->e);
	ioreq_env_setup(&self->e, &ioreq_hv_vmm, NR_VCPUS);
	self->tracefs = tracefs_find(self->why, sizeof(self->why));
	if (!self->tracefs)
		return;
	/* ioreq.ko is loaded: where the kernel has events, it has ours. */
	snprintf(path, sizeof(path), "%s/events/ioreq", self->tracefs);
	ASSERT_EQ(0, access(path, F_OK)) TH_LOG("%s: %s", path, strerror(errno));
	/*
	 * The events of one request come from two CPUs: the vcpu's and the
	 * backend's.  The default clock is per CPU, and the two CPUs' clocks
	 * can disagree by more than the time between two events (seen under
	 * TCG: a deliver before the dispatch it follows under the guest's
	 * lock).  The counter clock orders every event of every CPU.
	 */
	ASSERT_TRUE(trace_clock_get(self->tracefs, self->clock,
				    sizeof(self->clock)));
	ASSERT_EQ(0, trace_write(self->tracefs, "trace_clock", "counter"));
	/* This guest's events only, in an empty buffer. */
	snprintf(filter, sizeof(filter), "guest == %llu",
		 (unsigned long long)self->e.hv.guest_id);
	ASSERT_EQ(0, trace_write(self->tracefs, "events/ioreq/enable", "0"));
	ASSERT_EQ(0, trace_write(self->tracefs, "events/ioreq/filter", filter));
	ASSERT_EQ(0, trace_write(self->tracefs, "trace", ""));
	ASSERT_EQ(0, trace_write(self->tracefs, "tracing_on", "1"));
	ASSERT_EQ(0, trace_write(self->tracefs, "events/ioreq/enable", "1"));
}

FIXTURE_TEARDOWN(trace)
{
	if (self->tracefs) {
		trace_write(self->tracefs, "events/ioreq/enable", "0");
		trace_write(self->tracefs, "events/ioreq/filter", "0");
		if (self->clock[0])
			trace_write(self->tracefs, "trace_clock", self->clock);
	}
	if (self->efd >= 0)
		close(self->efd);
	if (self->ifd >= 0)
		close(self->ifd);
	ioreq_env_teardown(&self->e);
}

TEST_F(trace, request_life)
{
	struct ioreq_ioeventfd io = {
		.size = sizeof(io),
		.space = IOREQ_SPACE_MMIO,
		.len = 4,
		.addr = REG_A + 0x20,
	};
	struct ioreq_inject inj = {
		.size = sizeof(inj),
		.level = 1,
		.irq = { .kind = IOREQ_IRQ_LINE, .line = IRQ_LINE },
	};
	struct ioreq_irqfd irqfd = {
		.size = sizeof(irqfd),
		.irq = {
			.kind = IOREQ_IRQ_MSI,
			.msi_addr = MSI_ADDR,
			.msi_data = MSI_DATA,
		},
	};
	struct ioreq_env *e = &self->e;
	unsigned long long g = e->hv.guest_id, sid;
	__u32 ra, rp, rx, rd_id, wr_id, ab_id;
	struct ioreq_vmm_access a;
	struct ioreq_cmd c;
	struct ioreq_vcpu v;
	struct event ev[MAX_EVENTS];
	char want[256], line[256];
	char *info, *ginfo;
	int n, i, j, k;
	__u64 cnt;

	ioreq_claim(e->be, IOREQ_SPACE_MMIO, REG_A, REG_LEN, UD_A, &ra);
	ASSERT_ERRNO(0, __ioreq_claim(e->be, IOREQ_SPACE_MMIO, REG_P, REG_LEN,
				      UD_P, IOREQ_REGION_POSTED_WRITES, &rp));
	ioreq_claim(e->be, IOREQ_SPACE_PIO, PORT_X, 0x10, UD_X, &rx);

	/* Unclaimed: the provider answers all ones. */
	ASSERT_ERRNO(0, ioreq_hv_access(&e->hv, &a, 0, IOREQ_SPACE_MMIO,
					IOREQ_OP_READ, 4, UNCLAIMED_ADDR, 0, 0));
	ASSERT_EQ(IOREQ_VMM_STATUS_UNCLAIMED, a.status);

	/* A read, answered. */
	ioreq_vcpu_run(&v, &e->hv, 1, IOREQ_SPACE_MMIO, IOREQ_OP_READ, 4,
		       REG_A + 8, 0, 0);
	ioreq_expect_cmd(e->be, &c);
	rd_id = c.id;
	c.data = 0x12345678;
	ioreq_respond(e->be, &c);
	ASSERT_VCPU_RESULT(&v, IOREQ_VMM_STATUS_DONE, 0x12345678);

	/* A write, answered. */
	ioreq_vcpu_run(&v, &e->hv, 0, IOREQ_SPACE_MMIO, IOREQ_OP_WRITE, 2,
		       REG_A + 0x10, 0xbeef, 0);
	ioreq_expect_cmd(e->be, &c);
	wr_id = c.id;
	ioreq_respond(e->be, &c);
	ASSERT_VCPU_STATUS(&v, IOREQ_VMM_STATUS_DONE);

	/* A posted write: done at once, its record read and not answered. */
	ASSERT_ERRNO(0, ioreq_hv_access(&e->hv, &a, 0, IOREQ_SPACE_MMIO,
					IOREQ_OP_WRITE, 4, REG_P + 4, 0xcafe, 0));
	ASSERT_EQ(IOREQ_VMM_STATUS_DONE, a.status);
	ioreq_expect_cmd(e->be, &c);
	ASSERT_EQ(IOREQ_CMD_POSTED, c.flags);

	/* A write an ioeventfd takes. */
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	io.fd = self->efd;
	ioreq_ioctl(e->be, IOREQ_IOEVENTFD, &io);
	ASSERT_ERRNO(0, ioreq_hv_access(&e->hv, &a, 1, IOREQ_SPACE_MMIO,
					IOREQ_OP_WRITE, 4, REG_A + 0x20, 7, 0));
	ASSERT_EQ(IOREQ_VMM_STATUS_DONE, a.status);
	ASSERT_EQ((ssize_t)sizeof(cnt), read(self->efd, &cnt, sizeof(cnt)));
	ASSERT_EQ(1ULL, cnt);

	/* A read delivered, then aborted by the release of its region. */
	ioreq_vcpu_run(&v, &e->hv, 0, IOREQ_SPACE_PIO, IOREQ_OP_READ, 1,
		       PORT_X + 4, 0, 0);
	ioreq_expect_cmd(e->be, &c);
	ab_id = c.id;
	ioreq_release(e->be, rx);
	ASSERT_VCPU_ONES(&v, IOREQ_VMM_STATUS_ABORTED);

	/* An interrupt raised by ioctl, and an MSI by an irqfd. */
	ioreq_ioctl(e->be, IOREQ_INJECT_IRQ, &inj);
	self->ifd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->ifd);
	irqfd.fd = self->ifd;
	ioreq_ioctl(e->be, IOREQ_IRQFD, &irqfd);
	cnt = 1;
	/* The wakeup injects before write() returns. */
	ASSERT_EQ((ssize_t)sizeof(cnt), write(self->ifd, &cnt, sizeof(cnt)));
	if (self->tracefs)
		ASSERT_EQ(0, trace_write(self->tracefs, "events/ioreq/enable",
					 "0"));

	/* ---- the session's fdinfo ---- */
	info = fdinfo(e->be);
	ASSERT_NE(NULL, info);
	TH_LOG("session fdinfo:\n%s", info);
	sid = fdinfo_num(info, "ioreq-session");
	ASSERT_LT(0, (long long)sid);
	ASSERT_NE(NULL, strstr(info, "\nprovider:\tvmm\n"));
	const struct fdinfo_want sw[] = {
		{ "guest", (long long)g },
		{ "vcpus", NR_VCPUS },
		{ "dead", 0 },
		{ "queued", 3 },
		{ "delivered", 4 },
		{ "completed", 2 },
		{ "aborted", 1 },
		{ "posted", 1 },
		{ "posted_full", 0 },
		{ "ioeventfd", 1 },
		{ "injected", 1 },
		{ "waiting", 0 },
		{ "posted_unread", 0 },
		{ "regions", 2 },
		{ "ioeventfds", 1 },
		{ "irqfd_signals", 1 },
	};

	fdinfo_check(_metadata, info, sw, ARRAY_SIZE(sw));
	/* The kernel's %#x prints 0 as 0x0, unlike glibc's. */
	snprintf(line, sizeof(line),
		 "\nregion:\t%u mmio base %#llx size %#llx flags 0x0 user_data %#llx queued 2 posted 0 ioeventfd 1\n",
		 ra, REG_A, REG_LEN, UD_A);
	EXPECT_NE(NULL, strstr(info, line)) TH_LOG("no line %s", line);
	snprintf(line, sizeof(line),
		 "\nregion:\t%u mmio base %#llx size %#llx flags %#x user_data %#llx queued 0 posted 1 ioeventfd 0\n",
		 rp, REG_P, REG_LEN, IOREQ_REGION_POSTED_WRITES, UD_P);
	EXPECT_NE(NULL, strstr(info, line)) TH_LOG("no line %s", line);
	snprintf(line, sizeof(line),
		 "\nirqfd:\tkind %u line 0 sbdf 0x0 pin 0 msi_addr %#llx msi_data %#x signals 1\n",
		 IOREQ_IRQ_MSI, MSI_ADDR, MSI_DATA);
	EXPECT_NE(NULL, strstr(info, line)) TH_LOG("no line %s", line);
	free(info);

	/* ---- the guest's, on the VMM's file ---- */
	ginfo = fdinfo(e->hv.fd);
	ASSERT_NE(NULL, ginfo);
	TH_LOG("guest fdinfo:\n%s", ginfo);
	const struct fdinfo_want gw[] = {
		{ "ioreq-guest", (long long)g },
		{ "vcpus", NR_VCPUS },
		{ "sessions", 1 },
		{ "queued", 3 },
		{ "unclaimed", 1 },
		{ "posted", 1 },
		{ "ioeventfd", 1 },
		{ "private", 0 },
		{ "written_in_flight", 0 },
		/* The line's assertion and the MSI; nobody read them. */
		{ "events_queued", 2 },
		{ "events_lost", 0 },
	};

	fdinfo_check(_metadata, ginfo, gw, ARRAY_SIZE(gw));
	free(ginfo);

	/* ---- the events, in order ---- */
	if (!self->tracefs)
		SKIP(return, "fdinfo checked, events not: %s", self->why);
	n = trace_events(self->tracefs, ev, MAX_EVENTS);
	ASSERT_LT(0, n) TH_LOG("no ioreq event in %s/trace", self->tracefs);
	dump_events(ev, n);

	ASSERT_EVENT(i, 0, "ioreq_unclaimed",
		     "guest=%llu vcpu=0 space=mmio addr=%#llx size=4 op=read",
		     g, UNCLAIMED_ADDR);

	/* The read: dispatch, deliver, complete, in that order. */
	ASSERT_EVENT(i, 0, "ioreq_dispatch",
		     "guest=%llu vcpu=1 space=mmio addr=%#llx size=4 op=read id=%#x session=%llu region=%u",
		     g, REG_A + 8, rd_id, sid, ra);
	ASSERT_EVENT(j, i + 1, "ioreq_deliver",
		     "guest=%llu session=%llu id=%#x vcpu=1 op=read size=4 offset=0x8 user_data=%#llx flags=0x0",
		     g, sid, rd_id, UD_A);
	ASSERT_EVENT(k, j + 1, "ioreq_complete",
		     "guest=%llu vcpu=1 id=%#x op=read size=4 data=0x12345678 session=%llu region=%u",
		     g, rd_id, sid, ra);

	/* The write. */
	ASSERT_EVENT(i, k + 1, "ioreq_dispatch",
		     "guest=%llu vcpu=0 space=mmio addr=%#llx size=2 op=write data=0xbeef id=%#x session=%llu region=%u",
		     g, REG_A + 0x10, wr_id, sid, ra);
	ASSERT_EVENT(k, i + 1, "ioreq_complete",
		     "guest=%llu vcpu=0 id=%#x op=write size=2 session=%llu region=%u",
		     g, wr_id, sid, ra);

	/* The posted write and its delivery. */
	ASSERT_EVENT(i, k + 1, "ioreq_posted",
		     "guest=%llu vcpu=0 space=mmio addr=%#llx size=4 data=0xcafe session=%llu region=%u result=0",
		     g, REG_P + 4, sid, rp);
	ASSERT_EVENT(k, i + 1, "ioreq_deliver",
		     "guest=%llu session=%llu vcpu=0 op=write size=4 offset=0x4 data=0xcafe user_data=%#llx flags=0x1",
		     g, sid, UD_P);

	/* The ioeventfd. */
	ASSERT_EVENT(i, k + 1, "ioreq_ioeventfd",
		     "guest=%llu vcpu=1 space=mmio addr=%#llx size=4 data=0x7 session=%llu region=%u",
		     g, REG_A + 0x20, sid, ra);

	/* The aborted read: all ones for the vcpu. */
	ASSERT_EVENT(i, i + 1, "ioreq_dispatch",
		     "guest=%llu vcpu=0 space=pio addr=%#llx size=1 op=read id=%#x session=%llu region=%u",
		     g, PORT_X + 4, ab_id, sid, rx);
	ASSERT_EVENT(i, i + 1, "ioreq_abort",
		     "guest=%llu vcpu=0 id=%#x op=read size=1 data=0xff session=%llu region=%u",
		     g, ab_id, sid, rx);
	EXPECT_EQ(-1, find_event(ev, n, 0, "ioreq_complete", "vcpu=0 size=1"));

	/* The interrupts. */
	ASSERT_EVENT(i, i + 1, "ioreq_inject",
		     "guest=%llu session=%llu kind=line line=%u level=1 result=0",
		     g, sid, IRQ_LINE);
	ASSERT_EVENT(i, i + 1, "ioreq_irqfd",
		     "guest=%llu session=%llu kind=msi msi_addr=%#llx msi_data=%#x level=1 result=0",
		     g, sid, MSI_ADDR, MSI_DATA);

	/* Nothing else: one event per thing done. */
	EXPECT_EQ(15, n);
}

/* A session before IOREQ_ATTACH: its number, and no provider. */
TEST(fdinfo_unattached)
{
	int a = ioreq_backend_open(), b = ioreq_backend_open();
	long long ida, idb;
	char *info;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	info = fdinfo(a);
	ASSERT_NE(NULL, info);
	ASSERT_NE(NULL, strstr(info, "\nprovider:\tnone\n")) TH_LOG("%s", info);
	ida = fdinfo_num(info, "ioreq-session");
	free(info);
	info = fdinfo(b);
	ASSERT_NE(NULL, info);
	idb = fdinfo_num(info, "ioreq-session");
	free(info);
	ASSERT_LT(0, ida);
	/* Numbered in the order of opening, never the same twice. */
	ASSERT_LT(ida, idb);
	close(a);
	close(b);
}

int main(int argc, char **argv)
{
	ioreq_require_backend();
	return test_harness_run(argc, argv);
}
