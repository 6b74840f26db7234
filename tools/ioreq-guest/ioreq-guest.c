// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq-guest: the guest side of the ioreq tests on a real hypervisor.
 *
 * It runs inside a guest (a Xen PVH domU, later a KVM guest) whose MMIO and
 * port ranges are served by a backend in another domain, and issues real
 * CPU accesses: MMIO through an mmap() of /dev/mem (the guest kernel needs
 * iomem=relaxed) and port I/O with ioperm() and in/out instructions.
 *
 *   ioreq-guest read  mmio|pio ADDR SIZE         one read, value on stdout
 *   ioreq-guest write mmio|pio ADDR SIZE VALUE   one write
 *   ioreq-guest ones  [--mmio ADDR] [--pio PORT] [--pci BUS:DEV.FN]
 *   ioreq-guest check [--mmio ADDR:LEN]... [--pio PORT:LEN]...
 *                     [--pci BUS:DEV.FN]...
 *   ioreq-guest loop  [--mmio ADDR:LEN]... [--pio PORT:LEN]... [--vcpus N]
 *                     [--seconds S | --rounds N] [--gone fail|stay|back]
 *                     [--expect-gone] [--expect-back]
 *   ioreq-guest time  [--mmio ADDR:LEN] [--vcpus N] [--rounds N]
 *                     [--label NAME] [--wait-gone] [--doorbell ADDR]
 *   ioreq-guest mailbox --mmio ADDR [--irq-row ROW] [--doorbell ADDR]
 *   ioreq-guest rep   [--mmio ADDR:LEN]... [--pio PORT:LEN]...
 *                     [--doorbell ADDR]
 *
 * "ones" checks that nothing claims an address: reads of every size return
 * all ones and a write changes nothing.  "check" checks a fresh
 * scratch-register backend (tools/ioreq-backend/scratch_dev.h): the ID
 * register, the initial pattern and write/read-back at every size (MMIO 1,
 * 2, 4, 8; ports 1, 2, 4), then every byte of the region.  "loop" runs one
 * thread per vcpu, pinned to that vcpu, doing random writes and read-backs
 * of random sizes to its own bytes of every region and checking each value.
 * Thread v owns bytes [0x10 + v*0x20, 0x30 + v*0x20) of each region, the
 * same split as ioreq-sim, so values do not depend on interleaving.
 *
 * --pci names a PCI function's configuration space (its first 256 bytes),
 * reached with configuration mechanism #1: the address written to port
 * 0xcf8, then a 1-, 2- or 4-byte access at 0xcfc-0xcff, never crossing a
 * dword (so "check" aligns its offsets there).  On a backend's --pci
 * function the scratch device's ID register reads as vendor 0x5251,
 * device 0x494f.
 *
 * --gone tells "loop" what an all-ones read the model does not predict
 * means: "fail" (default) a mismatch; "stay" the region went away (backend
 * killed, region released) and every later read of it must be all ones;
 * "back" as "stay", but a later read that is not all ones means a backend
 * came back: the thread rewrites its bytes and checks again.  With
 * --expect-gone a case fails if no region ever went away; --expect-back
 * (implies --gone back) adds one that fails if none came back.
 *
 * "time" is make bench's guest loop: it waits (60 s at most) until the
 * MMIO region's ID register reads "IORQ" (a backend serves it), then each
 * of N threads, pinned to its vcpu, times --rounds 4-byte reads of the ID
 * register (each checked) and as many 4-byte writes to its own bytes, and
 * prints "bench: NAME_vcpusN_read_us=..." and "..._write_us=..." (the
 * mean over the threads of each thread's time per access).  With
 * --wait-gone it then prints "IOREQ-BENCH-DONE NAME" and waits (120 s at
 * most) until the register reads all ones: the next backend's turn.
 * With --doorbell ADDR (inside the region) the threads time only 4-byte
 * writes, all to ADDR, which the backend completes with an ioeventfd in
 * the kernel: what an access costs when no backend process takes part.
 *
 * "rep" runs string instructions against a fresh scratch backend: rep
 * movsb between a buffer of ours and MMIO both ways (and downwards with
 * the direction flag), rep stosl to MMIO, rep outsb and rep insb on a
 * port, checking the results with plain accesses.  Xen sends each as one
 * ioreq with a count and, but for stos, our buffer's guest-physical
 * address: the provider's rep handling carries them out.  Then on every
 * --mmio region rep stosb x16, stosl x4 and stosq x2, upwards and with
 * DF=1, every element read back (a 4-byte element at --doorbell keeps
 * its initial bytes: an ioeventfd takes it).  Two more --pio regions are
 * backends that stop themselves on the third element of a rep insb x16
 * (announced on the console as "IOREQ-REP-STALL PORT"): every byte must
 * read the port's value once dom0 lets the first go on, and all ones
 * from the third once dom0 kills the second ("IOREQ-REP-KILL PORT").
 *
 * "mailbox" drives ioreq-backend's mailbox at ADDR (scratch_dev.h): it
 * fills a locked page of its own with the guest pattern, gives the backend
 * the page's guest-physical address (from /proc/self/pagemap), and checks
 * the answer the backend wrote there, once through the backend's mmap()
 * and once through its copy ioctls; then that a frame beyond the guest's
 * memory gives ENXIO both ways.  With --irq-row ROW it also writes the
 * mailbox's interrupt registers (MBOX_IRQ, MBOX_IRQFD) and checks that the
 * count of /proc/interrupts row ROW (summed over CPUs) grows by exactly
 * one each time: the backend's MSI must name a vector the guest counts
 * there (a Linux guest's x86 platform IPI vector 0xf7 counts in "PLT").
 * With --doorbell ADDR (an address in a scratch region, at least 4 bytes
 * into its page) it writes 4 bytes there 8 times and checks that a read
 * still returns the region's initial bytes: the backend's ioeventfd took
 * the writes (ioreq-backend --doorbell ADDR), the device never saw them.
 *
 * Output is KTAP (ok/not ok lines, "# " diagnostics) for ones/check/loop/time.
 * Exit 0 when every case passed, 1 when one failed, 4 when skipped (no
 * /dev/mem, no ioperm), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#endif
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "scratch_dev.h"

#if !defined(__x86_64__) && !defined(__i386__)
/*
 * No port I/O outside x86 (an Arm guest has none): ioperm() fails, so a
 * --pio or --pci region stops the program at setup, before any access.
 */
static int ioperm(unsigned long from, unsigned long num, int on)
{
	(void)from; (void)num; (void)on;
	errno = ENOSYS;
	return -1;
}
#define NO_PORT(t) abort(), (t)0
#define inb(port) ((void)(port), NO_PORT(uint8_t))
#define inw(port) ((void)(port), NO_PORT(uint16_t))
#define inl(port) ((void)(port), NO_PORT(uint32_t))
#define outb(v, port) ((void)(v), (void)(port), abort())
#define outw(v, port) ((void)(v), (void)(port), abort())
#define outl(v, port) ((void)(v), (void)(port), abort())
#endif

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4
#define USAGE_ERR	2

#define MAX_REGIONS	8
#define MAX_THREADS	16
#define SLICE_BASE	0x10
#define SLICE_LEN	0x20
#define SWEEP_MAX	0x1000	/* "check" reads at most this many bytes back */
#define MAX_WRONG	8	/* lines printed per thread */

enum space { SPACE_MMIO, SPACE_PIO, SPACE_PCI };

/* PCI configuration mechanism #1: address at 0xcf8, data at 0xcfc-0xcff. */
#define PCI_CF8		0xcf8
#define PCI_CFC		0xcfc
#define PCI_CONFIG_LEN	0x100	/* what 0xcf8 reaches without extensions */

struct region {
	enum space space;
	uint64_t addr;
	uint64_t len;
	volatile uint8_t *map;	/* MMIO: mapping of [addr, addr + len) */
	void *map_base;
	size_t map_len;
	struct scratch_regs model;
};

static struct region regions[MAX_REGIONS];
static unsigned int nr_regions;
static int mem_fd = -1;
static unsigned int ktap_num;
static unsigned int ktap_failed;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

#ifdef IOREQ_GUEST_FAKE
static struct scratch_regs fake_dev[MAX_REGIONS];
static unsigned long fake_accesses, fake_gone_after = ~0UL, fake_back_after;
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

static const char *space_name(enum space s)
{
	return s == SPACE_MMIO ? "mmio" : s == SPACE_PIO ? "pio" : "pci";
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void result(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void result(int ok, const char *fmt, ...)
{
	va_list ap;

	ktap_num++;
	if (!ok)
		ktap_failed++;
	printf("%sok %u ", ok ? "" : "not ", ktap_num);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void plan(unsigned int n)
{
	printf("TAP version 13\n1..%u\n", n);
	fflush(stdout);
}

static int finish(void)
{
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0\n",
	       ktap_num - ktap_failed, ktap_failed);
	fflush(stdout);
	return ktap_failed ? KSFT_FAIL : KSFT_PASS;
}

/* A whole document that skips, with the reason. */
static int skip_all(const char *why)
{
	printf("TAP version 13\n1..0 # SKIP %s\n", why);
	fflush(stdout);
	return KSFT_SKIP;
}

static uint64_t ones(unsigned int size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* --- access ------------------------------------------------------------ */

static int map_region(struct region *r)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t base = r->addr & ~((uint64_t)pg - 1);
	void *p;

	if (mem_fd < 0) {
		mem_fd = open("/dev/mem", O_RDWR | O_SYNC);
		if (mem_fd < 0)
			return -errno;
	}
	r->map_len = (size_t)((r->addr - base + r->len + pg - 1) & ~((uint64_t)pg - 1));
	p = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd,
		 (off_t)base);
	if (p == MAP_FAILED)
		return -errno;
	r->map_base = p;
	r->map = (volatile uint8_t *)p + (r->addr - base);
	return 0;
}

/* ioperm() is per thread: every thread that does port I/O calls this. */
static int allow_ports(void)
{
	unsigned int i;

#ifdef IOREQ_GUEST_FAKE
	return 0;
#endif

	for (i = 0; i < nr_regions; i++) {
		struct region *r = &regions[i];

		if (r->space == SPACE_PCI &&
		    ioperm(PCI_CF8, PCI_CFC + 4 - PCI_CF8, 1))
			return -errno;
		if (r->space != SPACE_PIO)
			continue;
		if (ioperm((unsigned long)r->addr, (unsigned long)r->len, 1))
			return -errno;
	}
	return 0;
}

static int setup_regions(void)
{
	unsigned int i;
	int ret;

#ifdef IOREQ_GUEST_FAKE
	if (getenv("FAKE_GONE_AFTER"))
		fake_gone_after = strtoul(getenv("FAKE_GONE_AFTER"), NULL, 0);
	if (getenv("FAKE_BACK_AFTER"))
		fake_back_after = strtoul(getenv("FAKE_BACK_AFTER"), NULL, 0);
	return 0;
#endif

	for (i = 0; i < nr_regions; i++) {
		struct region *r = &regions[i];

		if (r->space == SPACE_MMIO) {
			ret = map_region(r);
			if (ret) {
				diag("mmap /dev/mem at 0x%" PRIx64 ": %s (boot with iomem=relaxed)",
				     r->addr, strerror(-ret));
				return ret;
			}
		}
	}
	ret = allow_ports();
	if (ret)
		diag("ioperm: %s", strerror(-ret));
	return ret;
}

#ifdef IOREQ_GUEST_FAKE
/*
 * Built with -DIOREQ_GUEST_FAKE (make fake): no hardware, every region is
 * served by an in-process scratch device, so the checks themselves can be
 * tested on any machine.  FAKE_GONE_AFTER=N: the devices stop answering
 * (all ones, writes dropped) after N accesses; FAKE_BACK_AFTER=M: a fresh
 * device answers again after M accesses.
 */

static int fake_answers(const struct region *r, struct scratch_regs **dev)
{
	unsigned long n;
	unsigned int i = (unsigned int)(r - regions);

	pthread_mutex_lock(&fake_lock);
	n = ++fake_accesses;
	if (!fake_dev[i].bytes) {
		fake_dev[i].len = r->len;
		fake_dev[i].has_id = r->space != SPACE_PIO;
		fake_dev[i].bytes = malloc(r->len);
		if (!fake_dev[i].bytes)
			abort();
		scratch_reset(&fake_dev[i]);
	}
	if (fake_back_after && n == fake_back_after)
		for (i = 0; i < MAX_REGIONS; i++)
			if (fake_dev[i].bytes)
				scratch_reset(&fake_dev[i]);
	pthread_mutex_unlock(&fake_lock);
	*dev = &fake_dev[r - regions];
	if (n > fake_gone_after &&
	    (!fake_back_after || n < fake_back_after))
		return 0;
	return 1;
}

static uint64_t region_read(const struct region *r, uint64_t off, unsigned int size)
{
	struct scratch_regs *dev;
	uint64_t v;

	if (!fake_answers(r, &dev))
		return ones(size);
	pthread_mutex_lock(&fake_lock);
	v = scratch_read(dev, off, size);
	pthread_mutex_unlock(&fake_lock);
	return v;
}

static void region_write(const struct region *r, uint64_t off, unsigned int size,
			 uint64_t val)
{
	struct scratch_regs *dev;

	if (!fake_answers(r, &dev))
		return;
	pthread_mutex_lock(&fake_lock);
	scratch_write(dev, off, size, val);
	pthread_mutex_unlock(&fake_lock);
}
#else
/* Point 0xcf8 at the dword of @r's config space that holds @off. */
static void pci_select(const struct region *r, uint64_t off)
{
	outl(0x80000000U | (uint32_t)r->addr << 8 | (uint32_t)(off & 0xfc),
	     PCI_CF8);
}

/*
 * One access of @size at @off in @r: a single instruction of that width
 * (for PCI config, after the address write to 0xcf8).
 */
static uint64_t region_read(const struct region *r, uint64_t off, unsigned int size)
{
	if (r->space == SPACE_PCI) {
		unsigned short port = (unsigned short)(PCI_CFC + (off & 3));

		pci_select(r, off);
		switch (size) {
		case 1: return inb(port);
		case 2: return inw(port);
		case 4: return inl(port);
		}
	} else if (r->space == SPACE_MMIO) {
		volatile uint8_t *p = r->map + off;

		switch (size) {
		case 1: return *p;
		case 2: return *(volatile uint16_t *)p;
		case 4: return *(volatile uint32_t *)p;
		case 8: return *(volatile uint64_t *)p;
		}
	} else {
		unsigned short port = (unsigned short)(r->addr + off);

		switch (size) {
		case 1: return inb(port);
		case 2: return inw(port);
		case 4: return inl(port);
		}
	}
	abort();
}

static void region_write(const struct region *r, uint64_t off, unsigned int size,
			 uint64_t val)
{
	if (r->space == SPACE_PCI) {
		unsigned short port = (unsigned short)(PCI_CFC + (off & 3));

		pci_select(r, off);
		switch (size) {
		case 1: outb((uint8_t)val, port); return;
		case 2: outw((uint16_t)val, port); return;
		case 4: outl((uint32_t)val, port); return;
		}
	} else if (r->space == SPACE_MMIO) {
		volatile uint8_t *p = r->map + off;

		switch (size) {
		case 1: *p = (uint8_t)val; return;
		case 2: *(volatile uint16_t *)p = (uint16_t)val; return;
		case 4: *(volatile uint32_t *)p = (uint32_t)val; return;
		case 8: *(volatile uint64_t *)p = val; return;
		}
	} else {
		unsigned short port = (unsigned short)(r->addr + off);

		switch (size) {
		case 1: outb((uint8_t)val, port); return;
		case 2: outw((uint16_t)val, port); return;
		case 4: outl((uint32_t)val, port); return;
		}
	}
	abort();
}
#endif /* IOREQ_GUEST_FAKE */

static int size_ok(enum space s, unsigned int size)
{
	return size == 1 || size == 2 || size == 4 || (size == 8 && s == SPACE_MMIO);
}

/*
 * A PCI config access goes through 0xcfc-0xcff and may not cross a
 * dword: bring @off down to a multiple of @size there (MMIO and ports
 * take any offset).
 */
static uint64_t fit(const struct region *r, uint64_t off, unsigned int size)
{
	return r->space == SPACE_PCI ? off & ~(uint64_t)(size - 1) : off;
}

/* --- arguments --------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end ? -1 : 0;
}

static int parse_space(const char *s, enum space *sp)
{
	if (!strcmp(s, "mmio"))
		*sp = SPACE_MMIO;
	else if (!strcmp(s, "pio"))
		*sp = SPACE_PIO;
	else
		return -1;
	return 0;
}

/* ADDR[:LEN]; LEN defaults to @deflen. */
static int add_region(enum space sp, const char *arg, uint64_t deflen)
{
	struct region *r;
	char buf[64], *colon;

	if (nr_regions == MAX_REGIONS || strlen(arg) >= sizeof(buf))
		return -1;
	r = &regions[nr_regions];
	memset(r, 0, sizeof(*r));
	r->space = sp;
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (colon)
		*colon++ = '\0';
	if (parse_u64(buf, &r->addr))
		return -1;
	r->len = deflen;
	if (colon && parse_u64(colon, &r->len))
		return -1;
	if (!r->len || r->addr + r->len < r->addr)
		return -1;
	if (sp == SPACE_PIO && r->addr + r->len > 0x10000)
		return -1;
	nr_regions++;
	return 0;
}

/* BUS:DEV.FN (hex, segment 0: all that 0xcf8 reaches). */
static int add_pci(const char *arg)
{
	unsigned int bus, dev, fn;
	struct region *r;
	char tail;

	if (nr_regions == MAX_REGIONS ||
	    sscanf(arg, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3 ||
	    bus > 0xff || dev > 0x1f || fn > 7)
		return -1;
	r = &regions[nr_regions++];
	memset(r, 0, sizeof(*r));
	r->space = SPACE_PCI;
	r->addr = bus << 8 | dev << 3 | fn;
	r->len = PCI_CONFIG_LEN;
	return 0;
}

static int init_models(void)
{
	unsigned int i;

	for (i = 0; i < nr_regions; i++) {
		struct region *r = &regions[i];

		r->model.len = r->len;
		r->model.has_id = r->space != SPACE_PIO;
		r->model.bytes = malloc(r->len);
		if (!r->model.bytes)
			return -1;
		scratch_reset(&r->model);
	}
	return 0;
}

/* --- read / write: one access ----------------------------------------- */

static int cmd_one(int argc, char **argv, int write)
{
	uint64_t addr, size, val = 0;
	enum space sp;
	int ret;

	if (argc != (write ? 5 : 4) || parse_space(argv[1], &sp) ||
	    parse_u64(argv[2], &addr) || parse_u64(argv[3], &size) ||
	    !size_ok(sp, (unsigned int)size) || (write && parse_u64(argv[4], &val))) {
		fprintf(stderr, "usage: ioreq-guest %s mmio|pio ADDR SIZE%s\n",
			argv[0], write ? " VALUE" : "");
		return USAGE_ERR;
	}
	regions[0].space = sp;
	regions[0].addr = addr;
	regions[0].len = size;
	nr_regions = 1;
	ret = setup_regions();
	if (ret)
		return KSFT_SKIP;
	if (write) {
		region_write(&regions[0], 0, (unsigned int)size, val);
	} else {
		val = region_read(&regions[0], 0, (unsigned int)size);
		printf("0x%0*" PRIx64 "\n", (int)size * 2, val);
	}
	return 0;
}

/* --- ones: nothing claims the address ---------------------------------- */

static int cmd_ones(void)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	unsigned int i, j, n = 0;
	uint64_t v;

	for (i = 0; i < nr_regions; i++) {
		regions[i].len = 8;
		n += (regions[i].space == SPACE_MMIO ? 4 : 3) + 1;
	}
	if (setup_regions())
		return skip_all("no /dev/mem mapping or ioperm");
	plan(n);
	for (i = 0; i < nr_regions; i++) {
		struct region *r = &regions[i];
		const char *s = space_name(r->space);

		for (j = 0; j < 4; j++) {
			if (!size_ok(r->space, sizes[j]))
				continue;
			v = region_read(r, 0, sizes[j]);
			if (v != ones(sizes[j]))
				diag("%s read %u at 0x%" PRIx64 ": 0x%" PRIx64 ", want all ones",
				     s, sizes[j], r->addr, v);
			result(v == ones(sizes[j]),
			       "%s read size %u at 0x%" PRIx64 " unclaimed: all ones",
			       s, sizes[j], r->addr);
		}
		region_write(r, 0, 1, 0x5a);
		region_write(r, 0, r->space == SPACE_MMIO ? 8 : 4, 0);
		v = region_read(r, 0, 4);
		if (v != ones(4))
			diag("%s read 4 after writes at 0x%" PRIx64 ": 0x%" PRIx64,
			     s, r->addr, v);
		result(v == ones(4), "%s write at 0x%" PRIx64 " unclaimed: dropped",
		       s, r->addr);
	}
	return finish();
}

/* --- check: one fresh scratch backend, every size ---------------------- */

/* Compare @size bytes read at @off with the model; print what differs. */
static int expect(struct region *r, uint64_t off, unsigned int size, const char *what)
{
	uint64_t want = scratch_read(&r->model, off, size);
	uint64_t got = region_read(r, off, size);

	if (got == want)
		return 0;
	diag("%s %s: read %u at 0x%" PRIx64 ": got 0x%" PRIx64 ", want 0x%" PRIx64 "%s",
	     space_name(r->space), what, size, r->addr + off, got, want,
	     got == ones(size) ? " (all ones: nothing answered)" : "");
	return -1;
}

static uint64_t test_value(unsigned int size, unsigned int salt)
{
	uint64_t v = 0x0123456789abcdefULL ^ ((uint64_t)salt * 0x9e3779b97f4a7c15ULL);

	return v & ones(size);
}

static int cmd_check(void)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	static const uint64_t rd_offs[] = { 0x10, 0x11, 0x13, 0x17, 0x21 };
	unsigned int i, j, k, n = 0, bad;
	uint64_t off, v;

	for (i = 0; i < nr_regions; i++) {
		struct region *r = &regions[i];
		unsigned int nsizes = r->space == SPACE_MMIO ? 4 : 3;

		if (r->len < SLICE_BASE + SLICE_LEN) {
			fprintf(stderr, "ioreq-guest: check: a region needs %#x bytes at least\n",
				SLICE_BASE + SLICE_LEN);
			return USAGE_ERR;
		}
		n += 2 * nsizes + 1 + (r->space != SPACE_PIO ? 2 : 0);
	}
	if (init_models())
		return KSFT_FAIL;
	if (setup_regions())
		return skip_all("no /dev/mem mapping or ioperm");
	plan(n);
	for (i = 0; i < nr_regions; i++) {
		struct region *r = &regions[i];
		const char *s = space_name(r->space);

		if (r->space != SPACE_PIO) {
			v = region_read(r, 0, 4);
			if (v != SCRATCH_ID)
				diag("%s ID at 0x%" PRIx64 ": got 0x%" PRIx64 ", want 0x%x",
				     s, r->addr, v, SCRATCH_ID);
			result(v == SCRATCH_ID, "%s 0x%" PRIx64 " ID register", s, r->addr);
		}
		/* The initial pattern at each size, aligned and not. */
		for (j = 0; j < 4; j++) {
			if (!size_ok(r->space, sizes[j]))
				continue;
			bad = 0;
			for (k = 0; k < sizeof(rd_offs) / sizeof(rd_offs[0]); k++)
				bad += !!expect(r, fit(r, rd_offs[k], sizes[j]),
						sizes[j], "initial pattern");
			result(!bad, "%s 0x%" PRIx64 " read size %u: initial pattern",
			       s, r->addr, sizes[j]);
		}
		/* Write then read back at the same size and byte by byte. */
		for (j = 0; j < 4; j++) {
			if (!size_ok(r->space, sizes[j]))
				continue;
			bad = 0;
			for (k = 0; k < 2; k++) {
				/* Aligned, then unaligned (0x1x), in our 0x20 bytes. */
				off = fit(r, SLICE_BASE + k * 0x10 + (k ? 2 * j + 1 : 0),
					  sizes[j]);
				v = test_value(sizes[j], 16 * i + 4 * j + k);
				region_write(r, off, sizes[j], v);
				scratch_write(&r->model, off, sizes[j], v);
				bad += !!expect(r, off, sizes[j], "read-back");
				for (unsigned int b = 0; b < sizes[j]; b++)
					bad += !!expect(r, off + b, 1, "read-back bytes");
			}
			result(!bad, "%s 0x%" PRIx64 " write size %u: reads back",
			       s, r->addr, sizes[j]);
		}
		if (r->space != SPACE_PIO) {
			/* The ID register drops writes, byte by byte. */
			unsigned int wide = r->space == SPACE_MMIO ? 8 : 4;

			v = 0xa1b2c3d4e5f60718ULL & ones(wide);
			region_write(r, 0, wide, v);
			scratch_write(&r->model, 0, wide, v);
			bad = !!expect(r, 0, 4, "ID after write");
			bad += !!expect(r, 0, wide, "ID after write");
			result(!bad, "%s 0x%" PRIx64 " ID register is read-only", s, r->addr);
		}
		bad = 0;
		for (off = 0; off < r->len && off < SWEEP_MAX; off++)
			if (expect(r, off, 1, "sweep") && ++bad >= MAX_WRONG)
				break;
		result(!bad, "%s 0x%" PRIx64 " every byte matches the model", s, r->addr);
	}
	return finish();
}

/* --- loop: one pinned thread per vcpu ---------------------------------- */

enum gone_mode { GONE_FAIL, GONE_STAY, GONE_BACK };

static enum gone_mode gone_mode = GONE_FAIL;
static int expect_gone;
static int expect_back;
static unsigned int nr_threads = 2;
static uint64_t loop_rounds;
static unsigned int loop_seconds = 10;
static int bad_cpus;		/* a thread could not be pinned */

struct thread {
	pthread_t tid;
	unsigned int id;
	uint64_t rng;
	uint64_t rounds;
	uint64_t accesses;
	uint64_t wrong;
	uint64_t ones_reads;	/* reads of a gone region, all ones */
	unsigned int went;	/* regions seen going away */
	unsigned int came_back;
	int gone[MAX_REGIONS];
	int cpu_ok;
	int error;
};

static uint64_t rnd(struct thread *t)
{
	/* xorshift64* */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545f4914f6cdd1dULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void wrong(struct thread *t, const struct region *r, const char *what,
		  uint64_t off, unsigned int size, uint64_t got, uint64_t want)
{
	if (t->wrong++ < MAX_WRONG)
		diag("vcpu %u: %s %s read %u at 0x%" PRIx64 ": got 0x%" PRIx64 ", want 0x%" PRIx64,
		     t->id, space_name(r->space), what, size, r->addr + off, got, want);
}

/* Rewrite the thread's bytes of @r with known values (8 or 4 at a time). */
static void rewrite_slice(struct thread *t, struct region *r, uint64_t base)
{
	unsigned int step = r->space == SPACE_MMIO ? 8 : 4;
	uint64_t off, v;

	for (off = base; off < base + SLICE_LEN; off += step) {
		v = rnd(t) & ones(step) & ~0x8080808080808080ULL;	/* never all ones */
		region_write(r, off, step, v);
		scratch_write(&r->model, off, step, v);
		t->accesses++;
	}
}

/* One round: a write and a checked read-back in every region. */
static void round_once(struct thread *t)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	uint64_t base = SLICE_BASE + (uint64_t)t->id * SLICE_LEN;
	unsigned int i, size, rsize;
	uint64_t off, roff, v, got, want;

	for (i = 0; i < nr_regions; i++) {
		struct region *r = &regions[i];

		do
			size = sizes[rnd(t) % 4];
		while (!size_ok(r->space, size));
		off = base + rnd(t) % (SLICE_LEN - size + 1);
		/* Bit 7 of each byte clear: a value is never all ones. */
		v = rnd(t) & ones(size) & ~0x8080808080808080ULL;
		if (!t->gone[i]) {
			region_write(r, off, size, v);
			scratch_write(&r->model, off, size, v);
		} else {
			region_write(r, off, size, v);	/* dropped, or to a new backend */
		}
		/* Read back the same bytes, or an overlapping access of another size. */
		do
			rsize = sizes[rnd(t) % 4];
		while (!size_ok(r->space, rsize));
		roff = rsize <= size ? off + rnd(t) % (size - rsize + 1) : off;
		if (roff + rsize > base + SLICE_LEN)
			roff = base + SLICE_LEN - rsize;
		got = region_read(r, roff, rsize);
		want = scratch_read(&r->model, roff, rsize);
		t->accesses += 2;
		if (t->gone[i]) {
			if (got == ones(rsize)) {
				t->ones_reads++;
				continue;
			}
			if (gone_mode == GONE_STAY) {
				wrong(t, r, "gone region", roff, rsize, got, ones(rsize));
				continue;
			}
			/* GONE_BACK: a backend answers again; start over on our bytes. */
			diag("vcpu %u: %s 0x%" PRIx64 " answers again (read 0x%" PRIx64 ")",
			     t->id, space_name(r->space), r->addr, got);
			t->gone[i] = 0;
			t->came_back++;
			rewrite_slice(t, r, base);
			continue;
		}
		if (got == want)
			continue;
		if (got == ones(rsize) && gone_mode != GONE_FAIL) {
			diag("vcpu %u: %s 0x%" PRIx64 " went away after %" PRIu64 " rounds (read all ones)",
			     t->id, space_name(r->space), r->addr, t->rounds);
			t->gone[i] = 1;
			t->went++;
			t->ones_reads++;
			continue;
		}
		wrong(t, r, "read-back", roff, rsize, got, want);
	}
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	double end = now_s() + loop_seconds;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->id, &set);
	t->cpu_ok = !pthread_setaffinity_np(pthread_self(), sizeof(set), &set) &&
		    sched_getcpu() == (int)t->id;
	if (allow_ports()) {
		t->error = errno;
		return NULL;
	}
	for (;;) {
		if (loop_rounds ? t->rounds >= loop_rounds : now_s() >= end)
			break;
		round_once(t);
		t->rounds++;
		if (!t->cpu_ok || sched_getcpu() != (int)t->id)
			t->cpu_ok = 0;
	}
	return NULL;
}

static int cmd_loop(void)
{
	static struct thread threads[MAX_THREADS];
	unsigned int i, n, went = 0, back = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int ret;

	for (i = 0; i < nr_regions; i++) {
		if (regions[i].len < SLICE_BASE + nr_threads * SLICE_LEN) {
			fprintf(stderr, "ioreq-guest: loop: %u vcpus need regions of %#x bytes\n",
				nr_threads, SLICE_BASE + nr_threads * SLICE_LEN);
			return USAGE_ERR;
		}
	}
	if (init_models())
		return KSFT_FAIL;
	if (setup_regions())
		return skip_all("no /dev/mem mapping or ioperm");
	if (ncpu < (long)nr_threads) {
		printf("TAP version 13\n1..0 # SKIP %u vcpus wanted, %ld online\n",
		       nr_threads, ncpu);
		return KSFT_SKIP;
	}
	n = nr_threads + 1 + !!expect_gone + !!expect_back;
	plan(n);
	diag("%u vcpus, %s, gone=%s", nr_threads,
	     loop_rounds ? "by rounds" : "by time",
	     gone_mode == GONE_FAIL ? "fail" : gone_mode == GONE_STAY ? "stay" : "back");
	for (i = 0; i < nr_threads; i++) {
		threads[i].id = i;
		threads[i].rng = 0x9e3779b97f4a7c15ULL * (i + 1) ^ (uint64_t)getpid();
		ret = pthread_create(&threads[i].tid, NULL, thread_main, &threads[i]);
		if (ret) {
			diag("pthread_create: %s", strerror(ret));
			nr_threads = i;
			break;
		}
	}
	for (i = 0; i < nr_threads; i++)
		pthread_join(threads[i].tid, NULL);
	for (i = 0; i < nr_threads; i++) {
		struct thread *t = &threads[i];

		if (!t->cpu_ok)
			bad_cpus++;
		went += t->went;
		back += t->came_back;
		if (t->error)
			diag("vcpu %u: ioperm: %s", i, strerror(t->error));
		result(!t->wrong && !t->error,
		       "vcpu %u: %" PRIu64 " rounds, %" PRIu64 " accesses, %" PRIu64
		       " wrong, %u gone, %u back, %" PRIu64 " all-ones reads",
		       i, t->rounds, t->accesses, t->wrong, t->went, t->came_back,
		       t->ones_reads);
	}
	result(!bad_cpus, "%u threads each ran on their own vcpu", nr_threads);
	if (expect_gone)
		result(went > 0, "a region went away while the vcpus were accessing it (%u times)",
		       went);
	if (expect_back)
		result(back > 0, "a backend answered again after that (%u times)", back);
	return finish();
}

/* --- time: make bench's loop -------------------------------------------- */

static uint64_t doorbell_addr;	/* --doorbell: a scratch MMIO address */
static const char *time_label = "ioreq";
static int time_wait_gone;

struct timer {
	pthread_t tid;
	unsigned int id;
	double read_us, write_us;
	uint64_t wrong;
	int cpu_ok;
};

static void *timer_main(void *arg)
{
	struct timer *t = arg;
	struct region *r = &regions[0];
	uint64_t i, n = loop_rounds, off = SLICE_BASE + (uint64_t)t->id * SLICE_LEN;
	cpu_set_t set;
	double t0;

	CPU_ZERO(&set);
	CPU_SET(t->id, &set);
	t->cpu_ok = !pthread_setaffinity_np(pthread_self(), sizeof(set), &set) &&
		    sched_getcpu() == (int)t->id;
	t0 = now_s();
	for (i = 0; i < n && !doorbell_addr; i++)
		if (region_read(r, 0, 4) != SCRATCH_ID)
			t->wrong++;
	t->read_us = (now_s() - t0) * 1e6 / (double)n;
	if (doorbell_addr)
		off = doorbell_addr - r->addr;
	t0 = now_s();
	for (i = 0; i < n; i++)
		region_write(r, off, 4, i);
	t->write_us = (now_s() - t0) * 1e6 / (double)n;
	return NULL;
}

/* Wait until offset 0 reads @want (4 bytes), @secs at most. */
static int wait_id(struct region *r, uint64_t want, unsigned int secs)
{
	double end = now_s() + secs;

	while (region_read(r, 0, 4) != want) {
		if (now_s() >= end)
			return -1;
		usleep(20000);
	}
	return 0;
}

static int cmd_time(void)
{
	static struct timer timers[MAX_THREADS];
	double rd = 0, wr = 0;
	unsigned int i, started = 0;
	struct region *r = &regions[0];
	int ret;

	if (r->space != SPACE_MMIO ||
	    r->len < SLICE_BASE + nr_threads * SLICE_LEN) {
		fprintf(stderr, "ioreq-guest: time: the first region must be MMIO of %#x bytes or more\n",
			SLICE_BASE + nr_threads * SLICE_LEN);
		return USAGE_ERR;
	}
	if (doorbell_addr && (doorbell_addr < r->addr ||
			      doorbell_addr - r->addr > r->len - 4)) {
		fprintf(stderr, "ioreq-guest: time: --doorbell must be inside the region\n");
		return USAGE_ERR;
	}
	if (!loop_rounds)
		loop_rounds = 2000;
	if (setup_regions())
		return skip_all("no /dev/mem mapping");
	plan(nr_threads + 1 + !!time_wait_gone);
	ret = wait_id(r, SCRATCH_ID, 60);
	result(!ret, "%s: a backend serves 0x%" PRIx64, time_label, r->addr);
	if (ret)
		return finish();
	for (i = 0; i < nr_threads; i++) {
		timers[i].id = i;
		if (pthread_create(&timers[i].tid, NULL, timer_main, &timers[i]))
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(timers[i].tid, NULL);
	for (i = 0; i < nr_threads; i++) {
		struct timer *t = &timers[i];

		result(i < started && !t->wrong && t->cpu_ok,
		       "%s: vcpu %u: %" PRIu64 " reads %.2f us each (%" PRIu64
		       " wrong), %" PRIu64 " writes %.2f us each", time_label,
		       i, doorbell_addr ? 0 : loop_rounds, t->read_us,
		       t->wrong, loop_rounds, t->write_us);
		rd += t->read_us / nr_threads;
		wr += t->write_us / nr_threads;
	}
	if (!doorbell_addr)
		diag("bench: %s_vcpus%u_read_us=%.3f", time_label, nr_threads,
		     rd);
	diag("bench: %s_vcpus%u_write_us=%.3f", time_label, nr_threads, wr);
	if (time_wait_gone) {
		printf("IOREQ-BENCH-DONE %s\n", time_label);
		fflush(stdout);
		result(!wait_id(r, ones(4), 120), "%s: the backend went away",
		       time_label);
	}
	return finish();
}

/* --- mailbox: guest memory and interrupts (scratch_dev.h) --------------- */

static const char *irq_row;	/* --irq-row: /proc/interrupts row to count */
#define DOORBELL_WRITES	8

/* The guest-physical address of @p, from /proc/self/pagemap; 0 if unknown. */
static uint64_t guest_phys(const void *p)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t ent = 0;
	off_t off = (off_t)((uintptr_t)p / (uintptr_t)pg) * 8;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent), off) != sizeof(ent))
		ent = 0;
	close(fd);
	/* Bit 63: present; bits 0-54: the frame (0 without CAP_SYS_ADMIN). */
	if (!(ent >> 63) || !(ent & ((1ULL << 55) - 1)))
		return 0;
	return (ent & ((1ULL << 55) - 1)) * (uint64_t)pg +
	       ((uintptr_t)p & (uintptr_t)(pg - 1));
}

/* Sum of /proc/interrupts row @row over the CPUs; -1 if there is none. */
static long long irq_count(const char *row)
{
	char line[1024], label[64];
	long long sum = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	snprintf(label, sizeof(label), "%s:", row);
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		while (*p == ' ')
			p++;
		if (strncmp(p, label, strlen(label)))
			continue;
		p += strlen(label);
		for (sum = 0;; p = end) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += (long long)v;
		}
		break;
	}
	fclose(f);
	return sum;
}

/* Run one MBOX_CMD on @len bytes at @buf; return its status and result. */
static uint32_t mbox_cmd(struct region *mb, uint32_t cmd, uint64_t gpa,
			 uint32_t len, uint32_t *res)
{
	region_write(mb, MBOX_GPA, 8, gpa);
	region_write(mb, MBOX_LEN_REG, 4, len);
	region_write(mb, MBOX_CMD, 4, cmd);
	*res = (uint32_t)region_read(mb, MBOX_RESULT, 4);
	return (uint32_t)region_read(mb, MBOX_STATUS, 4);
}

static void mbox_buffer_case(struct region *mb, uint8_t *page, uint32_t cmd,
			     uint32_t off, uint32_t len)
{
	const char *how = cmd == MBOX_CMD_MMAP ? "mmap" : "copy";
	uint64_t gpa;
	uint32_t st, res, i;

	for (i = 0; i < len; i++)
		page[off + i] = MBOX_GUEST_BYTE(i);
	gpa = guest_phys(page + off);
	st = mbox_cmd(mb, cmd, gpa, len, &res);
	for (i = 0; i < len && page[off + i] == MBOX_ANSWER_BYTE(i); i++)
		;
	if (st != MBOX_ST_OK || i != len)
		diag("%s at 0x%" PRIx64 ": status %u result %u, answer %s at byte %u",
		     how, gpa, st, res, i == len ? "right" : "wrong", i);
	result(st == MBOX_ST_OK && i == len,
	       "mailbox: backend checked and answered %u bytes at guest 0x%" PRIx64 " by %s",
	       len, gpa, how);
}

/* Write @reg = 1 and wait for exactly one more interrupt in irq_row. */
static void mbox_irq_case(struct region *mb, unsigned int reg, const char *how)
{
	long long before, now = -1;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned int waited;

	before = irq_count(irq_row);
	region_write(mb, reg, 4, 1);
	for (waited = 0; waited < 300; waited++) {
		now = irq_count(irq_row);
		if (now != before)
			break;
		nanosleep(&ts, NULL);
	}
	/* Give a second interrupt, which would be a bug, time to arrive. */
	ts.tv_nsec = 200 * 1000 * 1000;
	nanosleep(&ts, NULL);
	now = irq_count(irq_row);
	if (reg == MBOX_IRQ)
		region_write(mb, reg, 4, 0);
	diag("%s: /proc/interrupts %s %lld -> %lld after %u ms", how, irq_row,
	     before, now, waited * 10);
	result(now == before + 1, "mailbox: one interrupt arrived through %s",
	       how);
}

/*
 * The backend completes 4-byte writes to the doorbell with an ioeventfd,
 * so they never reach its register file: a read (which it does receive)
 * still returns the scratch device's initial bytes.
 */
static void doorbell_case(void)
{
	struct region *db = &regions[1];
	uint64_t off = doorbell_addr - db->addr, want = 0, got;
	unsigned int i;

	for (i = 0; i < DOORBELL_WRITES; i++)
		region_write(db, off, 4, 0xd00dbe11 + i);
	for (i = 0; i < 4; i++)
		want |= (uint64_t)(((off + i) * 7 + 0x5a) & 0xff) << (8 * i);
	got = region_read(db, off, 4);
	diag("doorbell 0x%" PRIx64 ": %u writes, then read 0x%08" PRIx64
	     ", initial 0x%08" PRIx64, doorbell_addr, DOORBELL_WRITES, got, want);
	result(got == want,
	       "mailbox: %u doorbell writes were taken by the ioeventfd, not the device",
	       DOORBELL_WRITES);
}

static int cmd_mailbox(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct region *mb = &regions[0];
	uint32_t st, res;
	void *mem;
	uint8_t *page;

	if (nr_regions != 1 || mb->space != SPACE_MMIO) {
		fprintf(stderr, "ioreq-guest: mailbox takes one --mmio ADDR\n");
		return USAGE_ERR;
	}
	mb->len = MBOX_LEN;
	if (doorbell_addr) {
		/* The offset in the scratch region gives the initial bytes. */
		regions[1].space = SPACE_MMIO;
		regions[1].addr = doorbell_addr & ~0xfffULL;
		regions[1].len = 0x1000;
		nr_regions = 2;
	}
#ifdef IOREQ_GUEST_FAKE
	return skip_all("the mailbox needs a real backend (fake build)");
#endif
	if (setup_regions())
		return skip_all("no /dev/mem mapping");
	if (posix_memalign(&mem, (size_t)pg, (size_t)pg))
		return skip_all("out of memory");
	page = mem;
	memset(page, 0, (size_t)pg);
	if (mlock(page, (size_t)pg))
		return skip_all("mlock failed: the page could move");
	if (!guest_phys(page))
		return skip_all("/proc/self/pagemap gives no frames (not root?)");
	if (irq_row && irq_count(irq_row) < 0)
		return skip_all("no such row in /proc/interrupts");

	plan(4 + (irq_row ? 2 : 0) + !!doorbell_addr);
	mbox_buffer_case(mb, page, MBOX_CMD_MMAP, 0, (uint32_t)pg);
	mbox_buffer_case(mb, page, MBOX_CMD_COPY, 0x80, 0x100);

	/* A guest-physical address far beyond this guest's memory. */
	st = mbox_cmd(mb, MBOX_CMD_MMAP, 1ULL << 40, (uint32_t)pg, &res);
	diag("mmap of a frame the guest does not have: status %u result %u", st, res);
	result(st == MBOX_ST_ERROR && res == ENXIO,
	       "mailbox: mmap of a frame the guest does not have fails with ENXIO");
	st = mbox_cmd(mb, MBOX_CMD_COPY, (1ULL << 40) + 8, 16, &res);
	diag("copy from a frame the guest does not have: status %u result %u", st, res);
	result(st == MBOX_ST_ERROR && res == ENXIO,
	       "mailbox: copy from a frame the guest does not have fails with ENXIO");

	if (irq_row) {
		mbox_irq_case(mb, MBOX_IRQ, "IOREQ_INJECT_IRQ");
		mbox_irq_case(mb, MBOX_IRQFD, "the irqfd");
	}
	if (doorbell_addr)
		doorbell_case();
	return finish();
}

/* --- rep: string instructions on the regions ---------------------------- */

#define REP_LEN		64	/* bytes moved by each rep movsb */
#define REP_MMIO_OFF	0x100	/* where in the MMIO region (past the slices) */
#define REP_PIO_OFF	0x8	/* which port of the port region */

/* The first MMIO and port regions given, as "rep" needs them. */
static int rep_regions(struct region **mm, struct region **pio)
{
	unsigned int i;

	*mm = *pio = NULL;
	for (i = 0; i < nr_regions; i++) {
		if (regions[i].space == SPACE_MMIO && !*mm)
			*mm = &regions[i];
		else if (regions[i].space == SPACE_PIO && !*pio)
			*pio = &regions[i];
	}
	if (!*mm || !*pio || (*mm)->len < 3 * REP_MMIO_OFF || (*pio)->len <= REP_PIO_OFF) {
		fprintf(stderr, "ioreq-guest: rep needs --mmio ADDR:LEN (LEN >= 0x300) and --pio PORT:LEN\n");
		return -1;
	}
	return 0;
}

#if defined(IOREQ_GUEST_FAKE) || !defined(__x86_64__)
static int cmd_rep(void)
{
	struct region *mm, *pio;

	if (rep_regions(&mm, &pio))
		return USAGE_ERR;
#ifdef IOREQ_GUEST_FAKE
	return skip_all("string instructions need a real backend (fake build)");
#else
	return skip_all("string instructions are x86's");
#endif
}
#else

static void rep_movsb(volatile void *dst, const volatile void *src,
		      unsigned long n)
{
	asm volatile("cld; rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* The same, from the last byte down (std; rep movsb; cld). */
static void rep_movsb_down(volatile void *dst, const volatile void *src,
			   unsigned long n)
{
	dst = (volatile uint8_t *)dst + n - 1;
	src = (const volatile uint8_t *)src + n - 1;
	asm volatile("std; rep movsb; cld" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

static void rep_stosl(volatile void *dst, uint32_t val, unsigned long n)
{
	asm volatile("cld; rep stosl" : "+D"(dst), "+c"(n) : "a"(val) : "memory");
}

static void rep_outsb(unsigned short port, const void *src, unsigned long n)
{
	asm volatile("cld; rep outsb" : "+S"(src), "+c"(n) : "d"(port) : "memory");
}

static void rep_insb(unsigned short port, void *dst, unsigned long n)
{
	asm volatile("cld; rep insb" : "+D"(dst), "+c"(n) : "d"(port) : "memory");
}

/* First byte where @got differs from @want, or -1. */
static int first_diff(const uint8_t *got, const uint8_t *want, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (got[i] != want[i])
			return (int)i;
	return -1;
}

static void rep_result(int bad, const uint8_t *got, const uint8_t *want,
		       const char *what)
{
	if (bad >= 0)
		diag("%s: byte %d is 0x%02x, want 0x%02x", what, bad, got[bad],
		     want[bad]);
	result(bad < 0, "rep: %s", what);
}

/*
 * rep stos of @n elements of @size, upwards or (@down: std; ...; cld)
 * downwards from @dst, the first element's address.
 */
static void rep_stos(volatile void *dst, uint64_t val, unsigned int size,
		     int down, unsigned long n)
{
	if (down) {
		switch (size) {
		case 1: asm volatile("std; rep stosb; cld" : "+D"(dst), "+c"(n) : "a"(val) : "memory"); return;
		case 4: asm volatile("std; rep stosl; cld" : "+D"(dst), "+c"(n) : "a"(val) : "memory"); return;
		case 8: asm volatile("std; rep stosq; cld" : "+D"(dst), "+c"(n) : "a"(val) : "memory"); return;
		}
	} else {
		switch (size) {
		case 1: asm volatile("cld; rep stosb" : "+D"(dst), "+c"(n) : "a"(val) : "memory"); return;
		case 4: asm volatile("cld; rep stosl" : "+D"(dst), "+c"(n) : "a"(val) : "memory"); return;
		case 8: asm volatile("cld; rep stosq" : "+D"(dst), "+c"(n) : "a"(val) : "memory"); return;
		}
	}
	abort();
}

/*
 * rep stos as memset_io() makes it, each checked element by element with
 * plain loads: @first is the first element's offset in the region.  A
 * 4-byte element at --doorbell is taken by the backend's ioeventfd and
 * keeps the region's initial bytes.
 */
static const struct {
	unsigned int size;
	int down;
	unsigned int count;
	uint64_t first;
	uint64_t value;
} stos_cases[] = {
	{ 1, 0, 16, 0x100, 0xa5 },
	{ 4, 0, 4, 0x140, 0x5aa5c33c },
	{ 8, 0, 2, 0x180, 0x0123456789abcdefULL },
	{ 1, 1, 16, 0x21f, 0x3c },
	{ 4, 1, 4, 0x24c, 0xc33c5aa5 },
	{ 8, 1, 2, 0x288, 0xfedcba9876543210ULL },
};

#define STOS_CASES	(sizeof(stos_cases) / sizeof(stos_cases[0]))

static void rep_stos_check(struct region *r, unsigned int k)
{
	unsigned int size = stos_cases[k].size, i, bad = 0;
	int64_t step = stos_cases[k].down ? -(int64_t)size : (int64_t)size;
	uint64_t off, v, want;

	rep_stos(r->map + stos_cases[k].first, stos_cases[k].value, size,
		 stos_cases[k].down, stos_cases[k].count);
	for (i = 0; i < stos_cases[k].count; i++) {
		off = stos_cases[k].first + i * step;
		if (!(doorbell_addr == r->addr + off && size == 4))
			scratch_write(&r->model, off, size,
				      stos_cases[k].value);
		want = scratch_read(&r->model, off, size);
		v = region_read(r, off, size);
		if (v != want) {
			diag("rep stos%c x%u%s at 0x%" PRIx64 ": element %u reads 0x%"
			     PRIx64 ", want 0x%" PRIx64, "?bw?l???q"[size],
			     stos_cases[k].count,
			     stos_cases[k].down ? " (DF=1)" : "", r->addr, i, v,
			     want);
			bad++;
		}
	}
	result(!bad, "rep: rep stos%c x%u%s to MMIO 0x%" PRIx64 ", every element",
	       "?bw?l???q"[size], stos_cases[k].count,
	       stos_cases[k].down ? " (DF=1)" : "", r->addr);
}

/* A line on the console at once, past the output's prefixer: for dom0. */
static void console_mark(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void console_mark(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	int fd;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	diag("%s", line);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dprintf(fd, "<4>ioreq-guest: %s\n", line);
		close(fd);
	}
}

/*
 * rep insb x16 from a port whose backend stops itself (ioreq-backend
 * --stop-at 3) with the third byte in hand: the instruction waits; dom0
 * then lets it go on (SIGCONT: every byte is the port's value) or kills
 * it (the first two bytes the port's, the rest all ones).
 */
static void rep_insb_stalled(struct region *r, const char *mark, int killed)
{
	uint8_t back[16], want[16];

	memset(back, 0, sizeof(back));
	memset(want, scratch_read(&r->model, 0, 1), sizeof(want));
	if (killed)
		memset(want + 2, 0xff, sizeof(want) - 2);
	console_mark("%s 0x%" PRIx64, mark, r->addr);
	rep_insb((unsigned short)r->addr, back, sizeof(back));
	rep_result(first_diff(back, want, sizeof(back)), back, want,
		   killed ? "rep insb from a stopped backend, then killed" :
			    "rep insb from a stopped backend, then continued");
}

/*
 * Xen hands each of these to the backend as one ioreq with a count (and
 * for movs/ins/outs a pointer to our buffer), which the provider carries
 * out element by element; the values are checked against the scratch
 * device's model with plain accesses.
 */
static int cmd_rep(void)
{
	struct region *mm, *pio, *stall[2] = { NULL, NULL };
	uint8_t buf[REP_LEN], back[REP_LEN], want[REP_LEN];
	unsigned int i, k, nr_mmio = 0, nr_stall = 0;
	uint64_t v;
	int bad;

	if (rep_regions(&mm, &pio))
		return USAGE_ERR;
	for (i = 0; i < nr_regions; i++) {
		if (regions[i].space == SPACE_MMIO)
			nr_mmio++;
		else if (&regions[i] != pio && nr_stall < 2)
			stall[nr_stall++] = &regions[i];
	}
	if (nr_stall == 1) {
		fprintf(stderr, "ioreq-guest: rep: a stopped backend needs two more --pio regions\n");
		return USAGE_ERR;
	}
	if (init_models())
		return KSFT_FAIL;
	if (setup_regions())
		return skip_all("no /dev/mem mapping or ioperm");
	plan(6 + nr_mmio * STOS_CASES + nr_stall);

	/* RAM -> MMIO, upwards; read back with single-byte loads. */
	for (i = 0; i < REP_LEN; i++)
		buf[i] = (uint8_t)(0xc0 ^ (i * 29));
	rep_movsb(mm->map + REP_MMIO_OFF, buf, REP_LEN);
	for (i = 0; i < REP_LEN; i++)
		back[i] = (uint8_t)region_read(mm, REP_MMIO_OFF + i, 1);
	rep_result(first_diff(back, buf, REP_LEN), back, buf,
		   "rep movsb guest RAM -> MMIO");
	memcpy(mm->model.bytes + REP_MMIO_OFF, buf, REP_LEN);

	/* MMIO -> RAM, upwards, then downwards on the initial pattern. */
	memset(back, 0, sizeof(back));
	rep_movsb(back, mm->map + REP_MMIO_OFF, REP_LEN);
	rep_result(first_diff(back, buf, REP_LEN), back, buf,
		   "rep movsb MMIO -> guest RAM");
	memset(back, 0, sizeof(back));
	rep_movsb_down(back, mm->map + 2 * REP_MMIO_OFF, REP_LEN);
	memcpy(want, mm->model.bytes + 2 * REP_MMIO_OFF, REP_LEN);
	rep_result(first_diff(back, want, REP_LEN), back, want,
		   "std; rep movsb MMIO -> guest RAM (descending)");

	/* rep stosl: one value, no buffer. */
	rep_stosl(mm->map + REP_MMIO_OFF + 0x80, 0x5aa5c33cU, 8);
	bad = -1;
	for (i = 0; i < 8 && bad < 0; i++) {
		v = region_read(mm, REP_MMIO_OFF + 0x80 + 4 * i, 4);
		if (v != 0x5aa5c33cU) {
			diag("rep stosl: dword %u reads 0x%" PRIx64, i, v);
			bad = (int)i;
		}
	}
	result(bad < 0, "rep: rep stosl to MMIO");

	/* Ports: every byte goes to the same register; the last one stays. */
	rep_outsb((unsigned short)(pio->addr + REP_PIO_OFF), buf, 16);
	v = region_read(pio, REP_PIO_OFF, 1);
	if (v != buf[15])
		diag("rep outsb: the port reads 0x%02" PRIx64 ", want 0x%02x",
		     v, buf[15]);
	result(v == buf[15], "rep: rep outsb to a port");
	memset(back, 0, sizeof(back));
	memset(want, buf[15], 16);
	rep_insb((unsigned short)(pio->addr + REP_PIO_OFF), back, 16);
	rep_result(first_diff(back, want, 16), back, want,
		   "rep insb from a port");

	/* rep stos on every MMIO region: each backend answers differently. */
	for (i = 0; i < nr_regions; i++)
		if (regions[i].space == SPACE_MMIO)
			for (k = 0; k < STOS_CASES; k++)
				rep_stos_check(&regions[i], k);
	if (nr_stall) {
		rep_insb_stalled(stall[0], "IOREQ-REP-STALL", 0);
		rep_insb_stalled(stall[1], "IOREQ-REP-KILL", 1);
	}
	return finish();
}
#endif /* IOREQ_GUEST_FAKE */

/* --- main -------------------------------------------------------------- */

static void usage(void)
{
	fputs("usage: ioreq-guest read  mmio|pio ADDR SIZE\n"
	      "       ioreq-guest write mmio|pio ADDR SIZE VALUE\n"
	      "       ioreq-guest ones  [--mmio ADDR] [--pio PORT] [--pci BUS:DEV.FN]\n"
	      "       ioreq-guest check [--mmio ADDR:LEN]... [--pio PORT:LEN]...\n"
	      "                         [--pci BUS:DEV.FN]...\n"
	      "       ioreq-guest loop  [--mmio ADDR:LEN]... [--pio PORT:LEN]... [--vcpus N]\n"
	      "                         [--seconds S | --rounds N] [--gone fail|stay|back]\n"
	      "                         [--expect-gone] [--expect-back]\n"
	      "       ioreq-guest time  [--mmio ADDR:LEN] [--vcpus N] [--rounds N]\n"
	      "                         [--label NAME] [--wait-gone] [--doorbell ADDR]\n"
	      "       ioreq-guest mailbox --mmio ADDR [--irq-row ROW] [--doorbell ADDR]\n"
	      "       ioreq-guest rep   [--mmio ADDR:LEN]... [--pio PORT:LEN]...\n"
	      "                         [--doorbell ADDR]\n"
	      "Defaults: --mmio 0xe0000000:0x1000 --pio 0x5000:0x100, 2 vcpus, 10 s.\n",
	      stderr);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mmio", required_argument, NULL, 'm' },
		{ "pio", required_argument, NULL, 'p' },
		{ "pci", required_argument, NULL, 'c' },
		{ "vcpus", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "gone", required_argument, NULL, 'g' },
		{ "expect-gone", no_argument, NULL, 'G' },
		{ "expect-back", no_argument, NULL, 'B' },
		{ "label", required_argument, NULL, 'l' },
		{ "wait-gone", no_argument, NULL, 'W' },
		{ "irq-row", required_argument, NULL, 'I' },
		{ "doorbell", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	uint64_t v;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage();
		return USAGE_ERR;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "read") || !strcmp(cmd, "write"))
		return cmd_one(argc - 1, argv + 1, !strcmp(cmd, "write"));
	if (strcmp(cmd, "ones") && strcmp(cmd, "check") && strcmp(cmd, "loop") &&
	    strcmp(cmd, "time") && strcmp(cmd, "mailbox") && strcmp(cmd, "rep")) {
		usage();
		return USAGE_ERR;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "m:p:c:n:s:r:g:GBl:WI:D:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
		case 'p':
			if (add_region(c == 'm' ? SPACE_MMIO : SPACE_PIO, optarg, 0x1000)) {
				fprintf(stderr, "ioreq-guest: bad region %s\n", optarg);
				return USAGE_ERR;
			}
			break;
		case 'c':
			if (add_pci(optarg)) {
				fprintf(stderr, "ioreq-guest: bad PCI function %s (want BUS:DEV.FN)\n",
					optarg);
				return USAGE_ERR;
			}
			break;
		case 'n':
			if (parse_u64(optarg, &v) || !v || v > MAX_THREADS)
				goto bad;
			nr_threads = (unsigned int)v;
			break;
		case 's':
			if (parse_u64(optarg, &v) || !v || v > 86400)
				goto bad;
			loop_seconds = (unsigned int)v;
			break;
		case 'r':
			if (parse_u64(optarg, &v) || !v)
				goto bad;
			loop_rounds = v;
			break;
		case 'g':
			if (!strcmp(optarg, "fail"))
				gone_mode = GONE_FAIL;
			else if (!strcmp(optarg, "stay"))
				gone_mode = GONE_STAY;
			else if (!strcmp(optarg, "back"))
				gone_mode = GONE_BACK;
			else
				goto bad;
			break;
		case 'G':
			expect_gone = 1;
			break;
		case 'B':
			expect_gone = 1;
			expect_back = 1;
			gone_mode = GONE_BACK;
			break;
		case 'l':
			time_label = optarg;
			break;
		case 'W':
			time_wait_gone = 1;
			break;
		case 'I':
			irq_row = optarg;
			break;
		case 'D':
			/* In a scratch region, past its ID register. */
			if (parse_u64(optarg, &doorbell_addr) ||
			    (doorbell_addr & 0xfff) < 4 ||
			    (doorbell_addr & 0xfff) > 0xffc)
				goto bad;
			break;
		case 'h':
			usage();
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (!nr_regions && strcmp(cmd, "mailbox")) {
		add_region(SPACE_MMIO, "0xe0000000", 0x1000);
		if (strcmp(cmd, "time"))
			add_region(SPACE_PIO, "0x5000", 0x100);
	}
	if (expect_gone && gone_mode == GONE_FAIL)
		gone_mode = GONE_STAY;
	if (strcmp(cmd, "ones") && strcmp(cmd, "check")) {
		unsigned int i;

		/* Its 0xcf8/0xcfc pair is one device for all threads. */
		for (i = 0; i < nr_regions; i++)
			if (regions[i].space == SPACE_PCI) {
				fprintf(stderr, "ioreq-guest: --pci is for ones and check only\n");
				return USAGE_ERR;
			}
	}
	if (!strcmp(cmd, "ones"))
		return cmd_ones();
	if (!strcmp(cmd, "check"))
		return cmd_check();
	if (!strcmp(cmd, "time"))
		return cmd_time();
	if (!strcmp(cmd, "mailbox"))
		return cmd_mailbox();
	if (!strcmp(cmd, "rep"))
		return cmd_rep();
	return cmd_loop();
bad:
	usage();
	return USAGE_ERR;
}
