// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq-sim: play a guest through /dev/ioreq-vmm and check what a
 * scratch-register backend (ioreq-backend) answers.
 *
 * It creates a guest with N vcpus, waits until a backend has claimed the
 * regions it is told about, then runs one thread per vcpu, each issuing
 * IOREQ_VMM_ACCESS reads and writes of every size to its own registers,
 * and checks every value against the device model in scratch_dev.h.
 * Optionally it shows an unclaimed access (all ones) and a request the
 * backend never answers because it is killed first (all ones, ABORTED).
 *
 * Each vcpu v owns the bytes [0x10 + v*0x20, 0x10 + (v+1)*0x20) of every
 * region, so the expected values do not depend on how the threads
 * interleave:
 *
 *	+0x00..0x07  initial pattern, only read
 *	+0x08        1-byte register    +0x0a  2-byte register
 *	+0x0c        4-byte register    +0x10  8-byte register (MMIO only)
 *	+0x10..0x1f  stress area (PIO), +0x18..0x1f (MMIO)
 *
 * Offsets 0x0..0xf of each region are left to the ID register and to a
 * --hang address.  When the guest fd closes at exit, every backend attached
 * to the guest sees ENODEV.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libioreq.h"
#include "scratch_dev.h"

#define MAX_VCPUS	64
#define MAX_REGIONS	8
#define SLICE_BASE	0x10
#define SLICE_LEN	0x20
#define DEFAULT_MMIO	"0xe0000000:0x1000"
#define DEFAULT_PIO	"0x500:0x100"
#define MAX_WRONG	8	/* a vcpu stops after this many wrong values */
#define MAX_WRONG_LINES	(MAX_WRONG + 2)

struct region {
	uint8_t space;
	uint64_t addr;
	uint64_t len;
	struct scratch_regs shadow;	/* what the device should hold */
};

struct sim {
	int fd;
	uint64_t guest_id;
	uint32_t nr_vcpus;
	struct region regions[MAX_REGIONS];
	unsigned int nr_regions;
	uint32_t timeout_ms;
	unsigned int rounds;
	int verbose;
	int quiet;
	int unclaimed;		/* do the unclaimed-access step */
	uint64_t unclaimed_addr;
	int hang;		/* do the killed-backend step */
	uint64_t hang_addr;
	uint32_t hang_timeout_ms;
};

struct vcpu {
	struct sim *sim;
	uint32_t vcpu;
	int detail;		/* log the script (else only mismatches) */
	uint64_t rng;
	uint64_t accesses;
	uint64_t wrong;
	int error;		/* an ioctl failed: -errno */
	unsigned int forced;	/* lines about problems so far */
	char *log;
	size_t log_len;
	size_t log_cap;
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	pthread_mutex_unlock(&out_lock);
}

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	fflush(stdout);
	fputs("ioreq-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&out_lock);
}

/* A line about vcpu @c: live with --verbose, else kept for the report */
static void say(struct vcpu *c, int force, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct vcpu *c, int force, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	if (!force && !c->detail && !c->sim->verbose)
		return;
	if (force && ++c->forced > MAX_WRONG_LINES)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (c->sim->verbose) {
		msg("vcpu %u: %s", c->vcpu, line);
		return;
	}
	if (c->log_len + n + 16 > c->log_cap) {
		size_t cap = (c->log_cap + n + 16) * 2;
		char *p = realloc(c->log, cap);

		if (!p)
			return;
		c->log = p;
		c->log_cap = cap;
	}
	c->log_len += snprintf(c->log + c->log_len, c->log_cap - c->log_len,
			       "vcpu %u: %s\n", c->vcpu, line);
}

static const char *status_words(uint8_t status)
{
	switch (status) {
	case IOREQ_VMM_STATUS_DONE:
		return "answered by the backend";
	case IOREQ_VMM_STATUS_UNCLAIMED:
		return "unclaimed: no backend, so all ones";
	case IOREQ_VMM_STATUS_ABORTED:
		return "aborted: the backend went away, so all ones";
	case IOREQ_VMM_STATUS_TIMEDOUT:
		return "timed out: the backend did not answer";
	default:
		return "unknown status";
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t rng_next(struct vcpu *c)
{
	/* xorshift64: deterministic per vcpu */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

/*
 * One access; on an ioctl error records it in c->error and returns -errno.
 * Otherwise returns the status; *data is the read value.
 */
static int access1(struct vcpu *c, struct region *r, uint8_t op, uint64_t off,
		   uint8_t len, uint64_t *data, uint32_t timeout_ms)
{
	struct ioreq_vmm_access acc;
	int ret;

	memset(&acc, 0, sizeof(acc));
	acc.vcpu = c->vcpu;
	acc.space = r->space;
	acc.op = op;
	acc.len = len;
	acc.addr = r->addr + off;
	acc.data = op == IOREQ_OP_WRITE ? *data : 0;
	acc.timeout_ms = timeout_ms;
	ret = ioreq_vmm_access(c->sim->fd, &acc);
	c->accesses++;
	if (ret) {
		if (!c->error)
			c->error = ret;
		say(c, 1, "%s %s %u bytes at 0x%" PRIx64 ": ioctl failed: %s",
		    ioreq_space_name(r->space), ioreq_op_name(op), len,
		    r->addr + off, strerror(-ret));
		c->wrong++;
		return ret;
	}
	if (op == IOREQ_OP_READ)
		*data = acc.data;
	return acc.status;
}

/* Read and compare with the shadow; @what explains the expected value */
static void check_read(struct vcpu *c, struct region *r, uint64_t off,
		       uint8_t len, const char *what, int quiet)
{
	uint64_t want = scratch_read(&r->shadow, off, len);
	uint64_t got = 0;
	int st;

	if (c->wrong >= MAX_WRONG || c->error)
		return;		/* given up */
	st = access1(c, r, IOREQ_OP_READ, off, len, &got, c->sim->timeout_ms);
	if (st < 0)
		return;
	if (st != IOREQ_VMM_STATUS_DONE || got != want) {
		c->wrong++;
		say(c, 1, "WRONG: %-4s read  %u bytes at 0x%" PRIx64 " -> 0x%"
		    PRIx64 " (%s), expected 0x%" PRIx64 " (%s)",
		    ioreq_space_name(r->space), len, r->addr + off, got,
		    status_words(st), want, what);
		return;
	}
	if (!quiet)
		say(c, 0, "%-4s read  %u byte%s at 0x%" PRIx64 " -> 0x%" PRIx64
		    " (%s, %s)", ioreq_space_name(r->space), len,
		    len == 1 ? " " : "s", r->addr + off, got,
		    status_words(st), what);
}

/* Write, update the shadow, read back and compare */
static void check_write(struct vcpu *c, struct region *r, uint64_t off,
			uint8_t len, uint64_t val, int quiet)
{
	uint64_t want, got = 0, v;
	int st;

	if (c->wrong >= MAX_WRONG || c->error)
		return;		/* given up */
	val &= ioreq_size_mask(len);
	v = val;

	st = access1(c, r, IOREQ_OP_WRITE, off, len, &v, c->sim->timeout_ms);
	if (st < 0)
		return;
	if (st != IOREQ_VMM_STATUS_DONE) {
		c->wrong++;
		say(c, 1, "WRONG: %-4s write %u bytes at 0x%" PRIx64 " <- 0x%"
		    PRIx64 ": %s", ioreq_space_name(r->space), len,
		    r->addr + off, val, status_words(st));
		return;
	}
	scratch_write(&r->shadow, off, len, val);
	want = scratch_read(&r->shadow, off, len);

	st = access1(c, r, IOREQ_OP_READ, off, len, &got, c->sim->timeout_ms);
	if (st < 0)
		return;
	if (st != IOREQ_VMM_STATUS_DONE || got != want) {
		c->wrong++;
		say(c, 1, "WRONG: %-4s write %u bytes at 0x%" PRIx64 " <- 0x%"
		    PRIx64 ", read back 0x%" PRIx64 " (%s), expected 0x%"
		    PRIx64, ioreq_space_name(r->space), len, r->addr + off,
		    val, got, status_words(st), want);
		return;
	}
	if (quiet)
		return;
	if (r->shadow.has_id && off < SCRATCH_ID_LEN)
		say(c, 0, "%-4s write %u bytes at 0x%" PRIx64 " <- 0x%" PRIx64
		    ", read back 0x%" PRIx64 ": the ID register is read-only",
		    ioreq_space_name(r->space), len, r->addr + off, val, got);
	else
		say(c, 0, "%-4s write %u byte%s at 0x%" PRIx64 " <- 0x%" PRIx64
		    ", read back the same (answered by the backend)",
		    ioreq_space_name(r->space), len, len == 1 ? " " : "s",
		    r->addr + off, val);
}

static void *vcpu_thread(void *arg)
{
	static const uint8_t reg_off[4] = { 0x08, 0x0a, 0x0c, 0x10 };
	static const uint64_t reg_val[4] = {
		0xa5, 0xbeef, 0xc0ffee42, 0x0123456789abcdefULL,
	};
	struct vcpu *c = arg;
	struct sim *s = c->sim;
	unsigned int i, k, round;

	for (i = 0; i < s->nr_regions; i++) {
		struct region *r = &s->regions[i];
		int mmio = r->space == IOREQ_SPACE_MMIO;
		uint64_t base = SLICE_BASE + (uint64_t)c->vcpu * SLICE_LEN;
		unsigned int nsizes = mmio ? 4 : 3;	/* no 8-byte port I/O */

		if (mmio)
			check_read(c, r, 0, 4, "the ID register", 0);
		check_read(c, r, base, mmio ? 8 : 4, "the initial pattern", 0);
		for (k = 0; k < nsizes; k++)
			check_write(c, r, base + reg_off[k], 1 << k,
				    reg_val[k] ^ ((uint64_t)c->vcpu << 4), 0);
		if (mmio && c->vcpu == 0)
			check_write(c, r, 0, 4, 0xdeadbeef, 0);
	}
	if (s->nr_vcpus > 1 || s->rounds)
		say(c, 0, "now %u rounds of writes and read-backs of random"
		    " sizes and values, at the same time as the other vcpus",
		    s->rounds);

	/* Stress: random sizes and values in the stress area, all vcpus at once */
	for (round = 0; round < s->rounds && !c->error && !c->wrong; round++) {
		for (i = 0; i < s->nr_regions; i++) {
			struct region *r = &s->regions[i];
			int mmio = r->space == IOREQ_SPACE_MMIO;
			uint64_t area = SLICE_BASE + (uint64_t)c->vcpu *
					SLICE_LEN + (mmio ? 0x18 : 0x10);
			uint64_t x = rng_next(c);
			uint8_t len = 1 << (x % (mmio ? 4 : 3));
			uint64_t off = area + ((x >> 8) % (9 - len)) +
				       (mmio ? 0 : (x >> 16) % 8);

			check_write(c, r, off, len, rng_next(c), 1);
			if (round % 16 == 0 && mmio)
				check_read(c, r, 0, 4, "the ID register", 1);
		}
	}

	/* Finally every byte this vcpu owns, 4 bytes at a time */
	for (i = 0; i < s->nr_regions && !c->error; i++) {
		struct region *r = &s->regions[i];
		uint64_t base = SLICE_BASE + (uint64_t)c->vcpu * SLICE_LEN;

		for (k = 0; k < SLICE_LEN; k += 4)
			check_read(c, r, base + k, 4, "its register file", 1);
	}
	if (c->wrong || c->error)
		say(c, 1, "stopped after %" PRIu64 " wrong values%s", c->wrong,
		    c->error ? " and a failed ioctl" : "");
	return NULL;
}

static int wait_claimed(struct sim *s, struct region *r, unsigned int wait_s)
{
	struct vcpu c = { .sim = s, .vcpu = 0 };
	uint64_t start = now_ms(), data;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int st;

	for (;;) {
		st = access1(&c, r, IOREQ_OP_READ, 0, 1, &data, s->timeout_ms);
		if (st < 0) {
			err("probing %s 0x%" PRIx64 ": %s",
			    ioreq_space_name(r->space), r->addr,
			    strerror(-st));
			return -1;
		}
		if (st != IOREQ_VMM_STATUS_UNCLAIMED)
			break;
		if (now_ms() - start >= wait_s * 1000ULL) {
			err("no backend claimed %s 0x%" PRIx64 " within %u s",
			    ioreq_space_name(r->space), r->addr, wait_s);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	if (st != IOREQ_VMM_STATUS_DONE) {
		err("probing %s 0x%" PRIx64 ": %s", ioreq_space_name(r->space),
		    r->addr, status_words(st));
		return -1;
	}
	if (!s->quiet)
		msg("sim: %-4s 0x%" PRIx64 "-0x%" PRIx64 " is claimed by a"
		    " backend (after %.1f s)", ioreq_space_name(r->space),
		    r->addr, r->addr + r->len - 1,
		    (now_ms() - start) / 1000.0);
	return 0;
}

/* A read nobody claims: all ones, status UNCLAIMED */
static int step_unclaimed(struct sim *s)
{
	struct region r = { .space = IOREQ_SPACE_MMIO,
			    .addr = s->unclaimed_addr };
	struct vcpu c = { .sim = s, .vcpu = 0 };
	uint64_t data = 0;
	int st;

	st = access1(&c, &r, IOREQ_OP_READ, 0, 4, &data, s->timeout_ms);
	if (st < 0)
		return -1;
	if (st != IOREQ_VMM_STATUS_UNCLAIMED || data != 0xffffffffULL) {
		msg("vcpu 0: WRONG: MMIO read  4 bytes at 0x%" PRIx64 " -> 0x%"
		    PRIx64 " (%s), expected 0xffffffff, unclaimed",
		    r.addr, data, status_words(st));
		return -1;
	}
	if (!s->quiet)
		msg("vcpu 0: MMIO read  4 bytes at 0x%" PRIx64 " -> 0x%" PRIx64
		    " (%s)", r.addr, data, status_words(st));
	return 0;
}

/*
 * A read the backend (started with --hang at this address) takes but never
 * answers; someone kills the backend meanwhile.  The vcpu must come back
 * with all ones and ABORTED.
 */
static int step_hang(struct sim *s)
{
	struct region r = { .space = IOREQ_SPACE_MMIO, .addr = s->hang_addr };
	struct vcpu c = { .sim = s, .vcpu = 0 };
	uint64_t data = 0, t0;
	int st, ret = 0;

	msg("vcpu 0: MMIO read  4 bytes at 0x%" PRIx64 ": waiting for the"
	    " backend (up to %u s)...", r.addr, s->hang_timeout_ms / 1000);
	t0 = now_ms();
	st = access1(&c, &r, IOREQ_OP_READ, 0, 4, &data, s->hang_timeout_ms);
	if (st < 0)
		return -1;
	if (st != IOREQ_VMM_STATUS_ABORTED || data != 0xffffffffULL) {
		msg("vcpu 0: WRONG: that read ended after %.1f s -> 0x%" PRIx64
		    " (%s); expected the backend to die first (aborted, all"
		    " ones)", (now_ms() - t0) / 1000.0, data,
		    status_words(st));
		return -1;
	}
	msg("vcpu 0: ...resumed after %.1f s -> 0x%" PRIx64 " (%s)",
	    (now_ms() - t0) / 1000.0, data, status_words(st));

	/* The dead backend's regions must be gone with it */
	data = 0;
	st = access1(&c, &r, IOREQ_OP_READ, 0, 4, &data, s->timeout_ms);
	if (st < 0)
		return -1;
	if (st == IOREQ_VMM_STATUS_DONE || data != 0xffffffffULL) {
		msg("vcpu 0: WRONG: MMIO read  4 bytes at 0x%" PRIx64 " again"
		    " -> 0x%" PRIx64 " (%s); expected all ones, nobody"
		    " should claim it now", r.addr, data, status_words(st));
		ret = -1;
	} else if (!s->quiet) {
		msg("vcpu 0: MMIO read  4 bytes at 0x%" PRIx64 " again -> 0x%"
		    PRIx64 " (%s)", r.addr, data, status_words(st));
	}
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ioreq-sim [run] [--vcpus N] [--guest-id ID] [--mmio ADDR:LEN]...\n"
"                 [--pio PORT:LEN]... [--rounds N] [--claim-wait SECS]\n"
"                 [--timeout-ms MS] [--unclaimed ADDR | --no-unclaimed]\n"
"                 [--hang ADDR [--hang-timeout-ms MS]] [--quiet | --verbose]\n"
"\n"
"Create a guest on /dev/ioreq-vmm (or $IOREQ_VMM_DEV), print its id, wait\n"
"until a scratch-register backend (ioreq-backend --provider vmm --guest ID\n"
"with the same regions) claims each region, then drive accesses of every\n"
"size from one thread per vcpu and check each value against the device\n"
"model.  The guest ends when ioreq-sim exits; attached backends then see\n"
"ENODEV.\n"
"\n"
"  -n, --vcpus N            vcpus (threads), default 2, at most %d\n"
"  -g, --guest-id ID        guest id to create; 0 (default) lets the\n"
"                           kernel choose\n"
"  -m, --mmio ADDR:LEN      an MMIO region the backend serves (repeatable;\n"
"                           default " DEFAULT_MMIO " and\n"
"  -p, --pio PORT:LEN       port region, default " DEFAULT_PIO
" if neither is given)\n"
"  -r, --rounds N           random write/read-back rounds per vcpu after\n"
"                           the script, default 100\n"
"  -c, --claim-wait SECS    how long to wait for the claims, default 10\n"
"  -t, --timeout-ms MS      per-access timeout, default 5000\n"
"  -u, --unclaimed ADDR     MMIO address to show an unclaimed read at\n"
"                           (default: just past the first MMIO region)\n"
"  -U, --no-unclaimed       skip that step\n"
"  -H, --hang ADDR          last, read MMIO ADDR, which a backend started\n"
"                           with --hang ADDR never answers, and expect the\n"
"                           backend to be killed meanwhile (aborted, all ones)\n"
"  -T, --hang-timeout-ms MS how long that read may wait, default 30000\n"
"  -q, --quiet              print only the verdict and errors\n"
"  -v, --verbose            print every access of every vcpu as it happens\n"
"  -h, --help               this text\n"
"\n"
"Exit status: 0 when every value matched, 1 when one did not or an access\n"
"failed, 2 on bad usage.\n", MAX_VCPUS);
}

static int add_region(struct sim *s, uint8_t space, const char *arg)
{
	struct region *r;
	uint64_t addr, len;

	if (ioreq_parse_range(arg, &addr, &len)) {
		err("bad region '%s': want ADDR:LEN, LEN >= 1", arg);
		return -1;
	}
	if (s->nr_regions == MAX_REGIONS) {
		err("at most %d regions", MAX_REGIONS);
		return -1;
	}
	r = &s->regions[s->nr_regions++];
	r->space = space;
	r->addr = addr;
	r->len = len;
	return 0;
}

static int setup_shadows(struct sim *s)
{
	uint64_t need = SLICE_BASE + (uint64_t)s->nr_vcpus * SLICE_LEN;
	unsigned int i;

	for (i = 0; i < s->nr_regions; i++) {
		struct region *r = &s->regions[i];

		if (r->len < need) {
			err("%s region 0x%" PRIx64 "+0x%" PRIx64 " is too small"
			    " for %u vcpus: need 0x%" PRIx64 " bytes",
			    ioreq_space_name(r->space), r->addr, r->len,
			    s->nr_vcpus, need);
			return -1;
		}
		/* only the first @need bytes are ever touched */
		r->shadow.len = need;
		r->shadow.has_id = r->space == IOREQ_SPACE_MMIO;
		r->shadow.bytes = malloc(need);
		if (!r->shadow.bytes) {
			err("out of memory");
			return -1;
		}
		scratch_reset(&r->shadow);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vcpus",           required_argument, NULL, 'n' },
		{ "guest-id",        required_argument, NULL, 'g' },
		{ "mmio",            required_argument, NULL, 'm' },
		{ "pio",             required_argument, NULL, 'p' },
		{ "rounds",          required_argument, NULL, 'r' },
		{ "claim-wait",      required_argument, NULL, 'c' },
		{ "timeout-ms",      required_argument, NULL, 't' },
		{ "unclaimed",       required_argument, NULL, 'u' },
		{ "no-unclaimed",    no_argument,       NULL, 'U' },
		{ "hang",            required_argument, NULL, 'H' },
		{ "hang-timeout-ms", required_argument, NULL, 'T' },
		{ "quiet",           no_argument,       NULL, 'q' },
		{ "verbose",         no_argument,       NULL, 'v' },
		{ "help",            no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim s = {
		.nr_vcpus = 2, .timeout_ms = 5000, .rounds = 100,
		.unclaimed = 1, .hang_timeout_ms = 30000,
	};
	struct vcpu vcpus[MAX_VCPUS];
	pthread_t threads[MAX_VCPUS];
	uint64_t v, total = 0, wrong = 0, claim_wait = 10;
	int unclaimed_given = 0, fail = 0, c, ret;
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc > 1 && !strcmp(argv[1], "run")) {
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	while ((c = getopt_long(argc, argv, "n:g:m:p:r:c:t:u:UH:T:qvh", opts,
				NULL)) != -1) {
		switch (c) {
		case 'n':
			if (ioreq_parse_u64(optarg, &v) || !v ||
			    v > MAX_VCPUS) {
				err("--vcpus wants 1 to %d", MAX_VCPUS);
				return 2;
			}
			s.nr_vcpus = v;
			break;
		case 'g':
			if (ioreq_parse_u64(optarg, &s.guest_id)) {
				err("bad guest id '%s'", optarg);
				return 2;
			}
			break;
		case 'm':
		case 'p':
			if (add_region(&s, c == 'm' ? IOREQ_SPACE_MMIO :
				       IOREQ_SPACE_PIO, optarg))
				return 2;
			break;
		case 'r':
			if (ioreq_parse_u64(optarg, &v) || v > 1000000) {
				err("bad --rounds '%s'", optarg);
				return 2;
			}
			s.rounds = v;
			break;
		case 'c':
			if (ioreq_parse_u64(optarg, &claim_wait) ||
			    claim_wait > 3600) {
				err("bad --claim-wait '%s'", optarg);
				return 2;
			}
			break;
		case 't':
		case 'T':
			if (ioreq_parse_u64(optarg, &v) || !v ||
			    v > 3600 * 1000) {
				err("bad timeout '%s'", optarg);
				return 2;
			}
			if (c == 't')
				s.timeout_ms = v;
			else
				s.hang_timeout_ms = v;
			break;
		case 'u':
			if (ioreq_parse_u64(optarg, &s.unclaimed_addr)) {
				err("bad address '%s'", optarg);
				return 2;
			}
			unclaimed_given = 1;
			break;
		case 'U':
			s.unclaimed = 0;
			break;
		case 'H':
			if (ioreq_parse_u64(optarg, &s.hang_addr)) {
				err("bad address '%s'", optarg);
				return 2;
			}
			s.hang = 1;
			break;
		case 'q':
			s.quiet = 1;
			break;
		case 'v':
			s.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		err("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!s.nr_regions) {
		add_region(&s, IOREQ_SPACE_MMIO, DEFAULT_MMIO);
		add_region(&s, IOREQ_SPACE_PIO, DEFAULT_PIO);
	}
	if (s.unclaimed && !unclaimed_given) {
		s.unclaimed = 0;
		for (i = 0; i < s.nr_regions; i++) {
			struct region *r = &s.regions[i];

			if (r->space == IOREQ_SPACE_MMIO &&
			    r->addr + r->len != 0) {
				s.unclaimed_addr = r->addr + r->len;
				s.unclaimed = 1;
				break;
			}
		}
	}
	if (setup_shadows(&s))
		return 2;

	s.fd = ioreq_vmm_open(NULL);
	if (s.fd < 0) {
		err("cannot open %s: %s (is ioreq_vmm.ko loaded?)",
		    getenv("IOREQ_VMM_DEV") ? getenv("IOREQ_VMM_DEV") :
		    IOREQ_VMM_DEV_PATH, strerror(-s.fd));
		return 1;
	}
	ret = ioreq_vmm_create_guest(s.fd, s.nr_vcpus, &s.guest_id);
	if (ret) {
		err("creating guest %" PRIu64 " with %u vcpus: %s%s",
		    s.guest_id, s.nr_vcpus, strerror(-ret),
		    ret == -EEXIST ? " (that id is in use)" : "");
		return 1;
	}
	msg("sim: created guest %" PRIu64 " with %u vcpu%s; serve it with"
	    " ioreq-backend --provider vmm --guest %" PRIu64, s.guest_id, s.nr_vcpus,
	    s.nr_vcpus == 1 ? "" : "s", s.guest_id);

	for (i = 0; i < s.nr_regions; i++)
		if (wait_claimed(&s, &s.regions[i], claim_wait))
			return 1;

	for (i = 0; i < s.nr_vcpus; i++) {
		memset(&vcpus[i], 0, sizeof(vcpus[i]));
		vcpus[i].sim = &s;
		vcpus[i].vcpu = i;
		vcpus[i].detail = i == 0 && !s.quiet;
		vcpus[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1);
		ret = pthread_create(&threads[i], NULL, vcpu_thread,
				     &vcpus[i]);
		if (ret) {
			err("starting vcpu %u: %s", i, strerror(ret));
			return 1;
		}
	}
	for (i = 0; i < s.nr_vcpus; i++) {
		struct vcpu *cv = &vcpus[i];

		pthread_join(threads[i], NULL);
		if (cv->log)
			fputs(cv->log, stdout);
		if (!s.quiet && !cv->detail && !s.verbose)
			msg("vcpu %u: the same on its own registers at the"
			    " same time: %" PRIu64 " accesses, %s", i,
			    cv->accesses, cv->wrong ? "SOME WRONG" :
			    "all as expected");
		total += cv->accesses;
		wrong += cv->wrong;
		if (cv->error)
			fail = 1;
		free(cv->log);
	}
	if (!s.quiet)
		msg("sim: %" PRIu64 " accesses from %u vcpu thread%s, %" PRIu64
		    " wrong", total, s.nr_vcpus, s.nr_vcpus == 1 ? "" : "s",
		    wrong);
	if (wrong)
		fail = 1;

	if (s.unclaimed && step_unclaimed(&s))
		fail = 1;
	if (s.hang && step_hang(&s))
		fail = 1;

	msg("sim: %s; closing guest %" PRIu64 " (attached backends now see"
	    " ENODEV)", fail ? "FAIL" : "PASS", s.guest_id);
	close(s.fd);
	for (i = 0; i < s.nr_regions; i++)
		free(s.regions[i].shadow.bytes);
	return fail;
}
