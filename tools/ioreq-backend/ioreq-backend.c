// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq-backend: an example device backend on /dev/ioreq.
 *
 * It emulates the "scratch register" device described in scratch_dev.h
 * (and in README) on each MMIO and port I/O region given on the command
 * line, for one guest.  It is hypervisor-neutral: it is told only the
 * guest's provider (--provider, or a guest handle with --guest-fd) and
 * learns what the guest's hypervisor offers from IOREQ_ATTACH and
 * IOREQ_GET_INFO, so the same binary serves a Xen domain, a KVM guest's
 * VMM or the simulator.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "libioreq.h"
#include "scratch_dev.h"

#define MAX_REGIONS	16
#define MAX_REGION_LEN	(16ULL << 20)	/* register file is in memory */

struct region {
	uint32_t space;
	uint64_t addr;
	uint64_t len;
	uint32_t id;
	int mbox;		/* the mailbox (scratch_dev.h), not scratch */
	struct scratch_regs regs;
};

struct backend {
	uint64_t guest_id;
	uint32_t provider;	/* IOREQ_PROVIDER_* */
	int guest_fd;		/* --guest-fd: a guest handle, or -1 */
	struct region regions[MAX_REGIONS];
	unsigned int nr_regions;
	int verbose;
	int hang;		/* --hang given */
	int release_on_usr1;	/* --release-on-usr1 given */
	uint64_t hang_addr;	/* MMIO address never answered */
	uint64_t vcpus_seen;	/* bit per vcpu below 64 */
	uint64_t vcpus_seen_hi;	/* any vcpu >= 64 */
	uint64_t bad;		/* malformed or out-of-range records */
	int fd;			/* the /dev/ioreq session */
	int irq;		/* --irq or --msi given */
	struct ioreq_irq mbox_irq;	/* the mailbox's interrupt */
	int irqfd;		/* eventfd bound to it, or -1 */
	uint64_t mbox_cmds;	/* mailbox commands carried out */
	uint64_t mbox_failed;	/* of which did not end MBOX_ST_OK */
	uint64_t irq_injected;	/* IOREQ_INJECT_IRQ calls that succeeded */
	uint64_t irqfd_signals;	/* signals on @irqfd */
	int doorbell;		/* --doorbell given */
	uint64_t doorbell_addr;	/* its MMIO address */
	int doorbell_fd;	/* its ioeventfd */
	uint64_t doorbell_records;	/* records that reached us there */
	int posted;		/* --posted given */
	int garbage;		/* --garbage-writes given */
	uint64_t garbage_answers;	/* writes answered with garbage */
	uint64_t stop_at;	/* --stop-at N: stop before record N, or 0 */
	uint64_t records_seen;	/* records handled so far */
};

static volatile sig_atomic_t stop;
static volatile sig_atomic_t release_now;	/* SIGUSR1 with --release-on-usr1 */

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		release_now = 1;
	else
		stop = 1;
}


static void info(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void info(const char *fmt, ...)
{
	va_list ap;

	fputs("backend: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ioreq-backend: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ioreq-backend (--guest ID [--provider xen|vmm] | --guest-fd FD)\n"
"                     [--mmio ADDR:LEN]... [--pio PORT:LEN]...\n"
"                     [--pci SEG:BUS:DEV.FN]...\n"
"                     [--wait SECS] [--hang ADDR] [--doorbell ADDR]\n"
"                     [--mailbox ADDR [--irq LINE | --msi ADDR:DATA]]\n"
"                     [--release-on-usr1] [--posted] [--garbage-writes]\n"
"                     [--stop-at N] [--verbose]\n"
"\n"
"Serve guest ID's accesses to the given regions through /dev/ioreq (or\n"
"$IOREQ_DEV), emulating a scratch-register device on each, until the guest\n"
"is gone or SIGINT/SIGTERM arrives; then print a summary.  The guest's\n"
"hypervisor may be Xen, a VMM or the simulator.\n"
"\n"
"  -g, --guest ID        guest to serve (Xen domid, or the VMM's guest id);\n"
"                        attaching by number needs CAP_SYS_ADMIN\n"
"  -P, --provider NAME   the guest's provider, xen or vmm (default:\n"
"                        $IOREQ_PROVIDER, else the only one loaded)\n"
"  -G, --guest-fd FD     attach by the guest handle open at FD (a VMM's\n"
"                        IOREQ_VMM_GUEST_HANDLE; needs no privilege)\n"
"  -m, --mmio ADDR:LEN   claim LEN bytes of MMIO at ADDR (repeatable)\n"
"  -p, --pio PORT:LEN    claim LEN I/O ports from PORT (repeatable)\n"
"  -c, --pci SBDF        claim the 4 KiB configuration space of PCI function\n"
"                        SEG:BUS:DEV.FN (hex, as lspci; repeatable)\n"
"  -w, --wait SECS       retry attaching for SECS while the guest does not\n"
"                        exist yet (default 0: fail at once)\n"
"  -H, --hang ADDR       fault injection: read accesses to MMIO address ADDR\n"
"                        but never answer them (a hung device)\n"
"  -M, --mailbox ADDR    also claim 0x%x bytes of MMIO at ADDR for the\n"
"                        mailbox: guest memory checks and a doorbell\n"
"                        interrupt (scratch_dev.h, README)\n"
"  -i, --irq LINE        the mailbox's interrupt: IOREQ_IRQ_LINE LINE (an\n"
"                        ISA IRQ or GSI on x86, an SPI on Arm)\n"
"  -s, --msi ADDR:DATA   the mailbox's interrupt: IOREQ_IRQ_MSI, a message of\n"
"                        DATA to ADDR\n"
"  -d, --doorbell ADDR   complete 4-byte MMIO writes to ADDR (inside an --mmio\n"
"                        region) in the kernel with an ioeventfd; count them\n"
"  -R, --release-on-usr1 on SIGUSR1 release every region and stay attached\n"
"                        (the guest's accesses then read all ones)\n"
"  -O, --posted          claim MMIO and port regions with\n"
"                        IOREQ_REGION_POSTED_WRITES: writes need no answer\n"
"  -X, --garbage-writes  answer each write with a record whose data is\n"
"                        garbage (the kernel ignores a write's answer data)\n"
"  -S, --stop-at N       fault injection: stop (SIGSTOP) ourselves on taking\n"
"                        record N (from 1), before answering it; SIGCONT\n"
"                        goes on (a stopped or debugged backend)\n"
"  -v, --verbose         describe every access and batch\n"
"  -h, --help            this text\n"
"\n"
"Device model (each region is a register file as long as the region):\n"
"  - byte i of a region starts as (i*7 + 0x5a) & 0xff;\n"
"  - reads and writes of 1, 2, 4 or 8 bytes at any offset, little-endian;\n"
"    a read returns what was last written there;\n"
"  - MMIO and PCI config only: bytes 0..3 are a read-only ID register\n"
"    reading 0x494f5251 (\"IORQ\"; as PCI IDs: vendor 0x5251, device\n"
"    0x494f); writes to them are dropped.\n"
"Exit status: 0 when the guest went away or on SIGINT/SIGTERM, 1 on error,\n"
"2 on bad usage.\n", MBOX_LEN);
}

/*
 * --release-on-usr1: give every region back while staying attached, as a
 * device whose BARs the guest turned off.  Requests in flight on them
 * end as aborted (all ones), later accesses are the hypervisor's.
 */
static void release_all(struct backend *b)
{
	unsigned int i, n = 0;
	int ret;

	for (i = 0; i < b->nr_regions; i++) {
		ret = ioreq_release(b->fd, b->regions[i].id);
		if (ret)
			err("releasing region %u: %s", b->regions[i].id,
			    strerror(-ret));
		else
			n++;
	}
	info("SIGUSR1: released %u of %u region%s; still attached, serving"
	     " nothing", n, b->nr_regions, b->nr_regions == 1 ? "" : "s");
}

static struct region *find_region(struct backend *b, uint64_t user_data)
{
	return user_data < b->nr_regions ? &b->regions[user_data] : NULL;
}

static void mbox_set(struct region *r, uint64_t off, uint32_t val)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		r->regs.bytes[off + i] = (uint8_t)(val >> (8 * i));
}

/*
 * Check the guest's buffer and answer it, through a mapping of the guest's
 * memory or a copy.  Return: MBOX_ST_*, with *result as scratch_dev.h says.
 */
static uint32_t mbox_buffer(struct backend *b, uint32_t how, uint64_t gpa,
			    uint64_t len, uint32_t *result)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t start = gpa & ~(uint64_t)(page - 1), i;
	size_t map_len = 0;
	void *map = NULL;
	uint8_t *buf;
	uint32_t st = MBOX_ST_OK;
	int ret;

	if (how != MBOX_CMD_MMAP && how != MBOX_CMD_COPY) {
		*result = EINVAL;
		return MBOX_ST_ERROR;
	}
	if (!len || len > MBOX_MAX_BUF || gpa + len < gpa) {
		*result = EINVAL;
		return MBOX_ST_ERROR;
	}
	if (how == MBOX_CMD_MMAP) {
		map_len = (gpa - start + len + page - 1) & ~(uint64_t)(page - 1);
		map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   b->fd, (off_t)start);
		if (map == MAP_FAILED) {
			*result = errno;
			return MBOX_ST_ERROR;
		}
		buf = (uint8_t *)map + (gpa - start);
	} else {
		struct ioreq_guest_rw rw = {
			.size = sizeof(rw), .addr = gpa, .len = len,
		};

		buf = malloc(len);
		if (!buf) {
			*result = ENOMEM;
			return MBOX_ST_ERROR;
		}
		rw.buf = (uintptr_t)buf;
		if (ioctl(b->fd, IOREQ_READ_GUEST, &rw) < 0) {
			*result = errno;
			free(buf);
			return MBOX_ST_ERROR;
		}
	}
	for (i = 0; i < len; i++) {
		if (buf[i] != MBOX_GUEST_BYTE(i)) {
			*result = (uint32_t)i;
			st = MBOX_ST_MISMATCH;
			goto out;
		}
	}
	for (i = 0; i < len; i++)
		buf[i] = MBOX_ANSWER_BYTE(i);
	*result = 0;
	if (how == MBOX_CMD_COPY) {
		struct ioreq_guest_rw rw = {
			.size = sizeof(rw), .addr = gpa, .len = len,
			.buf = (uintptr_t)buf,
		};

		ret = ioctl(b->fd, IOREQ_WRITE_GUEST, &rw);
		if (ret < 0) {
			*result = errno;
			st = MBOX_ST_ERROR;
		}
	}
out:
	if (map)
		munmap(map, map_len);
	else
		free(buf);
	return st;
}

static const char *mbox_irq_name(const struct backend *b, char *buf,
				 size_t len)
{
	if (b->mbox_irq.kind == IOREQ_IRQ_MSI)
		snprintf(buf, len, "MSI 0x%" PRIx64 ":0x%x",
			 (uint64_t)b->mbox_irq.msi_addr, b->mbox_irq.msi_data);
	else
		snprintf(buf, len, "line %u", b->mbox_irq.line);
	return buf;
}

static int mbox_irq(struct backend *b, uint32_t level)
{
	struct ioreq_inject inj = {
		.size = sizeof(inj),
		.level = level,
		.irq = b->mbox_irq,
	};
	char name[64];

	if (ioctl(b->fd, IOREQ_INJECT_IRQ, &inj) < 0) {
		err("IOREQ_INJECT_IRQ %s level %u: %s",
		    mbox_irq_name(b, name, sizeof(name)), level,
		    strerror(errno));
		return -1;
	}
	b->irq_injected++;
	return 0;
}

/* Bind an eventfd to the mailbox's interrupt: MBOX_IRQFD signals it. */
static int mbox_bind_irqfd(struct backend *b)
{
	struct ioreq_irqfd bind = { .size = sizeof(bind), .irq = b->mbox_irq };
	char name[64];

	b->irqfd = eventfd(0, EFD_CLOEXEC);
	if (b->irqfd < 0) {
		err("eventfd: %s", strerror(errno));
		return -1;
	}
	bind.fd = b->irqfd;
	if (ioctl(b->fd, IOREQ_IRQFD, &bind) < 0) {
		err("IOREQ_IRQFD %s: %s", mbox_irq_name(b, name, sizeof(name)),
		    strerror(errno));
		return -1;
	}
	info("irqfd %d bound to the mailbox's %s", b->irqfd,
	     mbox_irq_name(b, name, sizeof(name)));
	return 0;
}

static int mbox_signal_irqfd(struct backend *b)
{
	uint64_t one = 1;

	if (write(b->irqfd, &one, sizeof(one)) != sizeof(one)) {
		err("signalling the irqfd: %s", strerror(errno));
		return -1;
	}
	b->irqfd_signals++;
	return 0;
}

/* The doorbell: an ioeventfd on 4-byte writes to one MMIO address. */
static int bind_doorbell(struct backend *b)
{
	struct ioreq_ioeventfd bind = {
		.size = sizeof(bind),
		.space = IOREQ_SPACE_MMIO,
		.len = 4,
		.addr = b->doorbell_addr,
	};

	b->doorbell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->doorbell_fd < 0) {
		err("eventfd: %s", strerror(errno));
		return -1;
	}
	bind.fd = b->doorbell_fd;
	if (ioctl(b->fd, IOREQ_IOEVENTFD, &bind) < 0) {
		err("IOREQ_IOEVENTFD at 0x%" PRIx64 ": %s%s", b->doorbell_addr,
		    strerror(errno), errno == EINVAL ?
		    " (is it inside an --mmio region?)" : "");
		return -1;
	}
	info("doorbell: 4-byte writes to 0x%" PRIx64 " signal ioeventfd %d",
	     b->doorbell_addr, b->doorbell_fd);
	return 0;
}

/* An access to the mailbox, in range; scratch_dev.h describes it. */
static void mbox_access(struct backend *b, struct region *r,
			struct ioreq_cmd *cmd, uint32_t vcpu)
{
	uint64_t off = cmd->offset, val;
	uint32_t st, result = 0;
	unsigned int i;

	if (cmd->op == IOREQ_OP_READ) {
		cmd->data = scratch_read(&r->regs, off, cmd->size);
		return;
	}
	val = cmd->data & ioreq_size_mask(cmd->size);
	for (i = 0; i < cmd->size; i++)
		if (off + i < MBOX_STATUS || off + i >= MBOX_IRQ)
			r->regs.bytes[off + i] = (uint8_t)(val >> (8 * i));
	if (cmd->size != 4)
		return;
	if (off == MBOX_CMD) {
		uint64_t gpa = scratch_read(&r->regs, MBOX_GPA, 8);
		uint64_t len = scratch_read(&r->regs, MBOX_LEN_REG, 4);

		st = mbox_buffer(b, (uint32_t)val, gpa, len, &result);
		mbox_set(r, MBOX_STATUS, st);
		mbox_set(r, MBOX_RESULT, result);
		b->mbox_cmds++;
		b->mbox_failed += st != MBOX_ST_OK;
		info("vcpu %u: mailbox: %s %" PRIu64 " bytes at guest 0x%"
		     PRIx64 ": %s (%u)", vcpu,
		     val == MBOX_CMD_MMAP ? "mmap" :
		     val == MBOX_CMD_COPY ? "copy" : "bad command", len, gpa,
		     st == MBOX_ST_OK ? "pattern checked, answer written" :
		     st == MBOX_ST_MISMATCH ? "pattern differs at offset" :
		     "failed, errno", result);
	} else if (off == MBOX_IRQ && b->irq) {
		char name[64];

		/* An MSI has no level: zero sends nothing. */
		if (b->mbox_irq.kind == IOREQ_IRQ_MSI && !val)
			return;
		if (!mbox_irq(b, !!val))
			info("vcpu %u: mailbox: %s %s", vcpu,
			     mbox_irq_name(b, name, sizeof(name)),
			     b->mbox_irq.kind == IOREQ_IRQ_MSI ? "sent" :
			     val ? "asserted" : "deasserted");
	} else if (off == MBOX_IRQFD && b->irqfd >= 0 && val) {
		if (!mbox_signal_irqfd(b))
			info("vcpu %u: mailbox: irqfd signalled", vcpu);
	}
}

static int handle(struct ioreq_cmd *cmd, void *priv)
{
	struct backend *b = priv;
	uint32_t vcpu = IOREQ_CMD_VCPU(cmd->id);
	struct region *r = find_region(b, cmd->user_data);
	uint64_t off = cmd->offset;
	uint64_t addr = r ? r->addr + off : off;
	const char *space = r ? ioreq_space_name(r->space) : "?";
	int posted = cmd->flags & IOREQ_CMD_POSTED;

	if (vcpu < 64)
		b->vcpus_seen |= 1ULL << vcpu;
	else
		b->vcpus_seen_hi = 1;

	if (++b->records_seen == b->stop_at) {
		info("record %" PRIu64 " (vcpu %u, %s at offset 0x%" PRIx64
		     "): stopping (--stop-at)", b->records_seen, vcpu,
		     ioreq_op_name(cmd->op), off);
		raise(SIGSTOP);
		info("continued (SIGCONT)");
	}

	if (b->doorbell && r && r->space == IOREQ_SPACE_MMIO &&
	    addr == b->doorbell_addr && cmd->op == IOREQ_OP_WRITE &&
	    cmd->size == 4) {
		/* The ioeventfd should have taken it. */
		b->doorbell_records++;
		info("vcpu %u: a doorbell write reached read() (not the ioeventfd)",
		     vcpu);
	}

	if (b->hang && r && r->space == IOREQ_SPACE_MMIO &&
	    addr == b->hang_addr && !posted) {
		info("vcpu %u: %s %s %u bytes at 0x%" PRIx64
		     ": holding it unanswered (--hang); vcpu %u now waits",
		     vcpu, space, ioreq_op_name(cmd->op), cmd->size, addr,
		     vcpu);
		return IOREQ_NO_RESPONSE;
	}

	if (!r || !scratch_in_range(&r->regs, off, cmd->size)) {
		/* the kernel should never send these: answer like no device */
		b->bad++;
		if (b->verbose)
			info("vcpu %u: %s of %u bytes at offset 0x%" PRIx64
			     " of region %" PRIu64 " is outside the device;"
			     " reads get all ones", vcpu,
			     ioreq_op_name(cmd->op), cmd->size, off,
			     (uint64_t)cmd->user_data);
		if (cmd->op == IOREQ_OP_READ)
			cmd->data = ioreq_size_mask(cmd->size ? cmd->size : 8);
		return IOREQ_RESPOND;
	}

	if (r->mbox) {
		mbox_access(b, r, cmd, vcpu);
		if (b->verbose)
			info("vcpu %u: mailbox %s %u bytes at offset 0x%" PRIx64
			     ": 0x%" PRIx64, vcpu, ioreq_op_name(cmd->op),
			     cmd->size, off, (uint64_t)cmd->data);
		return IOREQ_RESPOND;
	}

	if (cmd->op == IOREQ_OP_READ) {
		uint64_t val = scratch_read(&r->regs, off, cmd->size);

		cmd->data = val;
		if (b->verbose)
			info("vcpu %u: %-4s read  %u byte%s at 0x%" PRIx64
			     " (offset 0x%" PRIx64 ") -> 0x%" PRIx64,
			     vcpu, space, cmd->size,
			     cmd->size == 1 ? " " : "s", addr, off, val);
	} else {
		uint64_t val = cmd->data & ioreq_size_mask(cmd->size);

		scratch_write(&r->regs, off, cmd->size, val);
		if (b->verbose)
			info("vcpu %u: %-4s write %u byte%s at 0x%" PRIx64
			     " (offset 0x%" PRIx64 ") <- 0x%" PRIx64 "%s%s",
			     vcpu, space, cmd->size,
			     cmd->size == 1 ? " " : "s", addr, off, val,
			     r->regs.has_id && off < SCRATCH_ID_LEN ?
			     " (ID register bytes are read-only)" : "",
			     posted ? " (posted, no answer needed)" : "");
		if (b->garbage && !posted) {
			/* Anything but the value: the kernel must not use it. */
			cmd->data = ~val ^ (0x9e3779b97f4a7c15ULL *
					    ++b->garbage_answers);
		}
	}
	return IOREQ_RESPOND;
}

static int add_region(struct backend *b, uint32_t space, const char *arg)
{
	struct region *r;
	uint64_t addr, len;

	if (ioreq_parse_range(arg, &addr, &len)) {
		err("bad region '%s': want ADDR:LEN, LEN >= 1", arg);
		return -1;
	}
	if (len > MAX_REGION_LEN) {
		err("region '%s' is longer than %llu bytes", arg,
		    (unsigned long long)MAX_REGION_LEN);
		return -1;
	}
	if (space == IOREQ_SPACE_PIO && addr + len > 0x10000) {
		err("port range '%s' goes past port 0xffff", arg);
		return -1;
	}
	if (b->nr_regions == MAX_REGIONS) {
		err("at most %d regions", MAX_REGIONS);
		return -1;
	}
	r = &b->regions[b->nr_regions];
	r->space = space;
	r->addr = addr;
	r->len = len;
	r->regs.len = len;
	r->regs.has_id = space != IOREQ_SPACE_PIO;
	r->regs.bytes = malloc(len);
	if (!r->regs.bytes) {
		err("out of memory for region '%s'", arg);
		return -1;
	}
	scratch_reset(&r->regs);
	b->nr_regions++;
	return 0;
}

/* SEG:BUS:DEV.FN or BUS:DEV.FN, hex, as lspci -D prints it. */
static int add_pci(struct backend *b, const char *arg)
{
	unsigned int seg = 0, bus, dev, fn;
	char range[64], tail;

	if (sscanf(arg, "%x:%x:%x.%x%c", &seg, &bus, &dev, &fn, &tail) != 4 &&
	    (seg = 0, sscanf(arg, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3)) {
		err("bad --pci '%s': want SEG:BUS:DEV.FN", arg);
		return -1;
	}
	if (seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7) {
		err("bad --pci '%s': out of range", arg);
		return -1;
	}
	snprintf(range, sizeof(range), "0x%llx:0x1000",
		 (unsigned long long)((seg << 16) | (bus << 8) | (dev << 3) |
				      fn) << 32);
	return add_region(b, IOREQ_SPACE_PCI_CONFIG, range);
}

static int add_mailbox(struct backend *b, const char *arg)
{
	struct region *r;
	uint64_t addr;

	if (ioreq_parse_u64(arg, &addr) || addr + MBOX_LEN < addr) {
		err("bad --mailbox address '%s'", arg);
		return -1;
	}
	if (b->nr_regions == MAX_REGIONS) {
		err("at most %d regions", MAX_REGIONS);
		return -1;
	}
	r = &b->regions[b->nr_regions];
	r->space = IOREQ_SPACE_MMIO;
	r->addr = addr;
	r->len = MBOX_LEN;
	r->mbox = 1;
	r->regs.len = MBOX_LEN;
	r->regs.bytes = calloc(1, MBOX_LEN);
	if (!r->regs.bytes) {
		err("out of memory for the mailbox");
		return -1;
	}
	b->nr_regions++;
	return 0;
}

static int attach(int fd, struct backend *b, unsigned int wait_s,
		  struct ioreq_attach *at)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	unsigned long tries = (unsigned long)wait_s * 10;
	int said = 0, ret;

	if (b->guest_fd >= 0)
		return ioreq_attach_handle(fd, b->provider, b->guest_fd, at);
	for (;;) {
		ret = ioreq_attach(fd, b->provider, b->guest_id, at);
		if (ret != -ESRCH || !tries-- || stop)
			return ret;
		if (!said++)
			info("guest %" PRIu64 " does not exist yet; waiting"
			     " up to %u s", b->guest_id, wait_s);
		nanosleep(&ts, NULL);
	}
}

static void print_summary(struct backend *b, const struct ioreq_serve_stats *s,
			  const char *why)
{
	char vcpus[256] = "";
	size_t off = 0;
	unsigned int v, nv = 0;

	for (v = 0; v < 64; v++) {
		if (!(b->vcpus_seen & (1ULL << v)))
			continue;
		nv++;
		if (off < sizeof(vcpus) - 8)
			off += snprintf(vcpus + off, sizeof(vcpus) - off,
					"%s%u", off ? "," : "", v);
	}
	if (b->vcpus_seen_hi)
		snprintf(vcpus + off, sizeof(vcpus) - off, "%s64+",
			 off ? "," : "");

	info("%s", why);
	info("served %" PRIu64 " records (%" PRIu64 " reads, %" PRIu64
	     " writes) from %u vcpu%s%s%s%s in %" PRIu64 " batches",
	     s->records, s->reads, s->writes, nv, nv == 1 ? "" : "s",
	     nv ? " (" : "", vcpus, nv ? ")" : "", s->batches);
	info("largest batch %" PRIu64 " record%s, %" PRIu64
	     " batches mixed several vcpus; %" PRIu64 " answers sent, %"
	     PRIu64 " left unanswered, %" PRIu64 " stale, %" PRIu64
	     " out of range", s->max_batch, s->max_batch == 1 ? "" : "s",
	     s->multi_vcpu_batches,
	     s->responses, s->unanswered, s->stale, b->bad);
	if (b->mbox_cmds || b->irq_injected || b->irqfd_signals)
		info("mailbox: %" PRIu64 " command%s (%" PRIu64 " not ok), %"
		     PRIu64 " interrupt injection%s, %" PRIu64 " irqfd signal%s",
		     b->mbox_cmds, b->mbox_cmds == 1 ? "" : "s",
		     b->mbox_failed, b->irq_injected,
		     b->irq_injected == 1 ? "" : "s", b->irqfd_signals,
		     b->irqfd_signals == 1 ? "" : "s");
	if (b->garbage)
		info("garbage: %" PRIu64 " write%s answered with garbage data",
		     b->garbage_answers, b->garbage_answers == 1 ? "" : "s");
	if (b->posted)
		info("posted: %" PRIu64 " posted write%s", s->posted,
		     s->posted == 1 ? "" : "s");
	if (b->doorbell) {
		uint64_t n = 0;

		/* The eventfd's count is the number of writes it took. */
		if (read(b->doorbell_fd, &n, sizeof(n)) != sizeof(n))
			n = 0;
		info("doorbell: %" PRIu64 " write%s signalled through the ioeventfd, %"
		     PRIu64 " reached read()", n, n == 1 ? "" : "s",
		     b->doorbell_records);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "guest",   required_argument, NULL, 'g' },
		{ "provider", required_argument, NULL, 'P' },
		{ "guest-fd", required_argument, NULL, 'G' },
		{ "mmio",    required_argument, NULL, 'm' },
		{ "pio",     required_argument, NULL, 'p' },
		{ "pci",     required_argument, NULL, 'c' },
		{ "wait",    required_argument, NULL, 'w' },
		{ "hang",    required_argument, NULL, 'H' },
		{ "mailbox", required_argument, NULL, 'M' },
		{ "irq",     required_argument, NULL, 'i' },
		{ "msi",     required_argument, NULL, 's' },
		{ "doorbell", required_argument, NULL, 'd' },
		{ "release-on-usr1", no_argument, NULL, 'R' },
		{ "posted",  no_argument,       NULL, 'O' },
		{ "garbage-writes", no_argument, NULL, 'X' },
		{ "stop-at", required_argument, NULL, 'S' },
		{ "verbose", no_argument,       NULL, 'v' },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ioreq_serve_stats stats = { 0 };
	struct backend b = { .irqfd = -1, .doorbell_fd = -1, .guest_fd = -1 };
	struct ioreq_attach at;
	struct sigaction sa;
	char caps[128];
	uint64_t wait_s = 0, line, msi_addr, msi_data, guest_fd;
	int have_guest = 0, have_mbox = 0, fd, ret, c;
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);

	while ((c = getopt_long(argc, argv, "g:P:G:m:p:c:w:H:M:i:s:d:ROXS:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (ioreq_parse_u64(optarg, &b.guest_id)) {
				err("bad guest id '%s'", optarg);
				return 2;
			}
			have_guest = 1;
			break;
		case 'P':
			b.provider = ioreq_provider_parse(optarg);
			if (b.provider == IOREQ_PROVIDER_NONE) {
				err("bad --provider '%s': xen or vmm", optarg);
				return 2;
			}
			break;
		case 'G':
			if (ioreq_parse_u64(optarg, &guest_fd) ||
			    guest_fd > INT32_MAX) {
				err("bad --guest-fd '%s'", optarg);
				return 2;
			}
			b.guest_fd = (int)guest_fd;
			break;
		case 'm':
			if (add_region(&b, IOREQ_SPACE_MMIO, optarg))
				return 2;
			break;
		case 'p':
			if (add_region(&b, IOREQ_SPACE_PIO, optarg))
				return 2;
			break;
		case 'c':
			if (add_pci(&b, optarg))
				return 2;
			break;
		case 'w':
			if (ioreq_parse_u64(optarg, &wait_s) || wait_s > 3600) {
				err("bad --wait '%s'", optarg);
				return 2;
			}
			break;
		case 'H':
			if (ioreq_parse_u64(optarg, &b.hang_addr)) {
				err("bad --hang address '%s'", optarg);
				return 2;
			}
			b.hang = 1;
			break;
		case 'M':
			if (have_mbox) {
				err("one --mailbox only");
				return 2;
			}
			if (add_mailbox(&b, optarg))
				return 2;
			have_mbox = 1;
			break;
		case 'i':
			if (b.irq || ioreq_parse_u64(optarg, &line) ||
			    line > UINT32_MAX) {
				err("bad --irq line '%s' (one --irq or --msi)",
				    optarg);
				return 2;
			}
			b.mbox_irq.kind = IOREQ_IRQ_LINE;
			b.mbox_irq.line = (uint32_t)line;
			b.irq = 1;
			break;
		case 's':
			if (b.irq || ioreq_parse_range(optarg, &msi_addr,
						       &msi_data) ||
			    msi_data > UINT32_MAX) {
				err("bad --msi '%s': want ADDR:DATA, DATA >= 1 (one --irq or --msi)",
				    optarg);
				return 2;
			}
			b.mbox_irq.kind = IOREQ_IRQ_MSI;
			b.mbox_irq.msi_addr = msi_addr;
			b.mbox_irq.msi_data = (uint32_t)msi_data;
			b.irq = 1;
			break;
		case 'd':
			if (ioreq_parse_u64(optarg, &b.doorbell_addr)) {
				err("bad --doorbell address '%s'", optarg);
				return 2;
			}
			b.doorbell = 1;
			break;
		case 'R':
			b.release_on_usr1 = 1;
			break;
		case 'O':
			b.posted = 1;
			break;
		case 'X':
			b.garbage = 1;
			break;
		case 'S':
			if (ioreq_parse_u64(optarg, &b.stop_at) || !b.stop_at) {
				err("bad --stop-at '%s'", optarg);
				return 2;
			}
			break;
		case 'v':
			b.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || have_guest == (b.guest_fd >= 0) ||
	    !b.nr_regions) {
		if (optind != argc)
			err("unexpected argument '%s'", argv[optind]);
		else
			err("need one of --guest and --guest-fd, and at least one --mmio, --pio or --pci");
		usage(stderr);
		return 2;
	}
	/* Handles are made by the userspace-hypervisor provider alone. */
	if (b.provider == IOREQ_PROVIDER_NONE)
		b.provider = b.guest_fd >= 0 ? IOREQ_PROVIDER_VMM :
					       ioreq_provider_default();
	if (b.provider == IOREQ_PROVIDER_NONE) {
		err("which provider is guest %" PRIu64 "'s? Give --provider xen or vmm (or set IOREQ_PROVIDER)",
		    b.guest_id);
		return 2;
	}
	if (b.irq && !have_mbox) {
		err("--irq and --msi are the mailbox's interrupt: they need --mailbox");
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: read() returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (b.release_on_usr1)
		sigaction(SIGUSR1, &sa, NULL);

	fd = ioreq_open(NULL);
	if (fd < 0) {
		err("cannot open %s: %s (is ioreq.ko loaded?)",
		    getenv("IOREQ_DEV") ? getenv("IOREQ_DEV") : IOREQ_DEV_PATH,
		    strerror(-fd));
		return 1;
	}

	ret = attach(fd, &b, (unsigned int)wait_s, &at);
	if (ret) {
		if (b.guest_fd >= 0)
			err("attaching by the guest handle at fd %d: %s%s",
			    b.guest_fd, strerror(-ret), ret == -ENODEV ?
			    " (the VMM closed the guest)" : "");
		else if (ret == -ESRCH)
			err("the %s provider knows no guest %" PRIu64,
			    ioreq_provider_name(b.provider), b.guest_id);
		else if (ret == -ENODEV)
			err("the %s provider is not loaded",
			    ioreq_provider_name(b.provider));
		else if (ret == -EPERM)
			err("attaching to guest %" PRIu64 " by number needs CAP_SYS_ADMIN; an unprivileged backend takes a guest handle (--guest-fd)",
			    b.guest_id);
		else
			err("attaching to guest %" PRIu64 ": %s", b.guest_id,
			    strerror(-ret));
		return 1;
	}
	b.fd = fd;
	if (b.guest_fd >= 0) {
		struct ioreq_info inf;

		/* The handle named the guest: learn its id for messages. */
		if (!ioreq_get_info(fd, &inf))
			b.guest_id = inf.guest_id;
		close(b.guest_fd);
	}
	info("attached to guest %" PRIu64 " (%u vcpu%s; its hypervisor offers:"
	     " %s)", b.guest_id, at.nr_vcpus, at.nr_vcpus == 1 ? "" : "s",
	     ioreq_caps_str(at.caps, caps, sizeof(caps)));
	if (b.verbose) {
		struct ioreq_info inf;

		if (!ioreq_get_info(fd, &inf))
			info("provider '%s', up to %u regions per session",
			     ioreq_provider_name(inf.provider),
			     inf.max_regions);
	}

	if (have_mbox && !(at.caps & IOREQ_CAP_GUEST_MEMORY)) {
		err("guest %" PRIu64 "'s hypervisor does not lend its memory (no IOREQ_CAP_GUEST_MEMORY): no --mailbox",
		    b.guest_id);
		return 1;
	}
	if (b.irq && b.mbox_irq.kind == IOREQ_IRQ_LINE &&
	    !(at.caps & IOREQ_CAP_IRQ_LINE)) {
		err("guest %" PRIu64 "'s hypervisor cannot inject line interrupts (no IOREQ_CAP_IRQ_LINE): no --irq",
		    b.guest_id);
		return 1;
	}
	if (b.irq && b.mbox_irq.kind == IOREQ_IRQ_MSI &&
	    !(at.caps & IOREQ_CAP_IRQ_MSI)) {
		err("guest %" PRIu64 "'s hypervisor cannot inject MSIs (no IOREQ_CAP_IRQ_MSI): no --msi",
		    b.guest_id);
		return 1;
	}
	if (b.irq && (at.caps & IOREQ_CAP_IRQFD) && mbox_bind_irqfd(&b))
		return 1;
	if (b.doorbell && !(at.caps & IOREQ_CAP_IOEVENTFD)) {
		err("guest %" PRIu64 "'s hypervisor has no ioeventfd (no IOREQ_CAP_IOEVENTFD): no --doorbell",
		    b.guest_id);
		return 1;
	}
	for (i = 0; i < b.nr_regions; i++) {
		struct region *r = &b.regions[i];
		uint64_t need = r->space == IOREQ_SPACE_MMIO ? IOREQ_CAP_MMIO :
				r->space == IOREQ_SPACE_PIO ? IOREQ_CAP_PIO :
				IOREQ_CAP_PCI_CONFIG;

		if (!(at.caps & need)) {
			err("guest %" PRIu64 "'s hypervisor cannot send %s"
			    " accesses to a backend", b.guest_id,
			    ioreq_space_name(r->space));
			return 1;
		}
		ret = ioreq_claim(fd, r->space, r->addr, r->len,
				  b.posted && r->space != IOREQ_SPACE_PCI_CONFIG ?
				  IOREQ_REGION_POSTED_WRITES : 0, i, &r->id);
		if (ret) {
			err("claiming %s 0x%" PRIx64 "+0x%" PRIx64 ": %s%s",
			    ioreq_space_name(r->space), r->addr, r->len,
			    strerror(-ret), ret == -EEXIST ?
			    " (another backend claims part of it)" : "");
			return 1;
		}
		info("claimed %-4s 0x%" PRIx64 "-0x%" PRIx64 " (%" PRIu64
		     " bytes)%s", ioreq_space_name(r->space), r->addr,
		     r->addr + r->len - 1, r->len,
		     r->mbox ? ", the mailbox" : r->regs.has_id ?
		     ", ID register 0x494f5251 at offset 0" : "");
	}
	if (b.doorbell && bind_doorbell(&b))
		return 1;
	/* Scripts wait for this line: every region is claimed. */
	info("serving; stop with SIGTERM or by ending the guest");

	for (;;) {
		struct ioreq_cmd buf[IOREQ_BATCH_MAX];
		uint64_t before = b.vcpus_seen;

		if (stop) {
			ret = -EINTR;
			break;
		}
		if (release_now) {
			release_now = 0;
			release_all(&b);
		}
		b.vcpus_seen = 0;
		ret = ioreq_serve_batch(fd, buf, IOREQ_BATCH_MAX, handle, &b,
					&stats);
		if (ret > 1 && b.verbose) {
			unsigned int v, nv = 0;

			for (v = 0; v < 64; v++)
				nv += !!(b.vcpus_seen & (1ULL << v));
			info("that was one read() of %d records from %u"
			     " vcpu%s, answered with one write()", ret, nv,
			     nv == 1 ? "" : "s");
		}
		b.vcpus_seen |= before;
		if (ret > 0 || ret == -EINTR)
			continue;
		break;
	}

	if (ret == -ENODEV) {
		char why[96];

		snprintf(why, sizeof(why), "guest %" PRIu64
			 " is gone (read() says ENODEV); exiting", b.guest_id);
		print_summary(&b, &stats, why);
		ret = 0;
	} else if (ret == -EINTR) {
		print_summary(&b, &stats, "stopped by a signal; exiting");
		ret = 0;
	} else {
		err("serving guest %" PRIu64 ": %s", b.guest_id,
		    strerror(-ret));
		print_summary(&b, &stats, "stopped by an error");
		ret = 1;
	}
	close(fd);
	for (i = 0; i < b.nr_regions; i++)
		free(b.regions[i].regs.bytes);
	return ret;
}
