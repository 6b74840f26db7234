// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq_vhost_test: tools/ioreq-vhost and an unmodified qemu-storage-daemon
 * serving a guest that this program plays, with no hypervisor.
 *
 * The test is the VMM (it creates a guest on /dev/ioreq-vmm, lends it RAM
 * from two memfds with IOREQ_VMM_ADD_MEMORY, forwards PCI configuration
 * and BAR accesses with IOREQ_VMM_ACCESS and reads the interrupts the
 * frontend and the daemon raise from the VMM fd) and the guest's virtio-pci
 * driver (finds the virtio capabilities, assigns BAR0, negotiates
 * features, sets up one queue in guest RAM, programs MSI-X, sets
 * DRIVER_OK, submits virtio-blk requests and kicks).  ioreq-vhost (next to
 * this program) and qemu-storage-daemon (from $PATH) are the real
 * programs; the daemon serves a file-backed disk, throttled to a few
 * requests a second so that a kill -9 lands while requests are in flight.
 *
 * Then the same disk through the virtio-mmio transport (--mmio): the
 * registers, the initialization a virtio_mmio driver does, I/O kicked
 * through QueueNotify's ioeventfd with the completion an edge on the
 * device's interrupt line from the irqfd, and InterruptStatus/ACK.
 *
 * KTAP, one line per check.  Skips (exit 4) with the reason when a piece
 * is missing: the daemon, the frontend, /dev/ioreq-vmm or the kernel's
 * PCI config / guest-memory fd support.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/ioreq.h>
#include <linux/ioreq_vmm.h>

#include "kselftest.h"

#define DIR		"/tmp/ioreq-vhost-test"
#define SOCK		DIR "/vhost.sock"
#define DISK		DIR "/disk.img"
#define QSD_LOG		DIR "/qsd.log"
#define FE_LOG		DIR "/frontend.log"
#define HOLD_SOCK	DIR "/hold.sock"
#define HOLD_LOG	DIR "/holder.log"
#define DISK_SIZE	(8u << 20)

#define SBDF_BLK	(5u << 3)		/* 0000:00:05.0 */
#define SBDF_FS		(6u << 3)		/* 0000:00:06.0 */
#define BAR_BLK		0xe0000000u
#define BAR_FS		0xe0004000u
#define CFG(reg)	((uint64_t)cur_sbdf << 32 | (reg))
#define BAR_ADDR	cur_bar
#define VFS_SOCK	DIR "/vfs.sock"
#define VFS_LOG		DIR "/virtiofsd.log"
#define FE_FS_LOG	DIR "/frontend-fs.log"
#define SHARE		DIR "/share"
#define FS_TAG		"ioreqfs"
#define HELLO		"hello from the host\n"

#define RAM0		0x0ULL			/* rings, headers */
#define RAM1		0x100000000ULL		/* data buffers */
#define RAM_LEN		(16u << 20)
#define DESC_GPA	(ring_gpa)
#define AVAIL_GPA	(ring_gpa + 0x1000)
#define USED_GPA	(ring_gpa + 0x2000)
#define HDR_GPA		(RAM0 + 0x20000)	/* 64 bytes per request */
#define DATA_GPA	(RAM1 + 0x100000)	/* 4 KiB per request */
#define QSIZE		64
#define NREQ		8			/* in flight at the kill */

#define MSI_ADDR_CFG	0xfee00000u
#define MSI_ADDR_Q	0xfee01000u
#define MSI_DATA_CFG	0x4030u
#define MSI_DATA_Q	0x4041u
/* A Xen HVM guest's entry: a pirq in the address, vector 0 in the data. */
#define MSI_ADDR_PIRQ	0xfee37000
#define MSI_DATA_PIRQ	0x700

#define ST_ACK		1
#define ST_DRIVER	2
#define ST_DRIVER_OK	4
#define ST_FEATURES_OK	8
#define ST_NEEDS_RESET	0x40

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static uint32_t cur_sbdf = SBDF_BLK, cur_bar = BAR_BLK;
static uint64_t ring_gpa = RAM0 + 0x10000;
static unsigned int cur_q;		/* the queue the driver sets up */
static int vmm = -1;
static uint8_t *ram0, *ram1;
static pid_t qsd_pid, fe_pid, vfs_pid, fe_fs_pid, hold_pid;
static uint64_t guest_id;
/* where the driver found the structures, BAR0 offsets */
static uint32_t common_off, notify_off, isr_off, devcfg_off, notify_mult;
static unsigned int msix_cap;
static uint32_t msix_table, notify_addr;	/* cached, as a driver does */
static uint16_t avail_idx, used_seen;
static int failures;

static void *g2h(uint64_t gpa)
{
	return gpa >= RAM1 ? ram1 + (gpa - RAM1) : ram0 + gpa;
}

static void check(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ok) {
		ksft_test_result_pass("%s\n", buf);
	} else {
		ksft_test_result_fail("%s\n", buf);
		failures++;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the VMM ---------------------------------------------------------- */

static int vaccess(uint8_t space, uint8_t op, uint64_t addr, uint8_t len,
		  uint64_t *data)
{
	struct ioreq_vmm_access a = {
		.size = sizeof(a), .space = space, .op = op, .len = len,
		.addr = addr, .data = *data, .timeout_ms = 20000,
	};

	while (ioctl(vmm, IOREQ_VMM_ACCESS, &a)) {
		if (errno != EINTR) {
			ksft_print_msg("IOREQ_VMM_ACCESS: %s\n", strerror(errno));
			return -1;
		}
	}
	*data = a.data;
	return a.status;
}

static uint32_t cfg_rd(unsigned int reg, unsigned int len)
{
	uint64_t v = 0;

	vaccess(IOREQ_SPACE_PCI_CONFIG, IOREQ_OP_READ, CFG(reg), len, &v);
	return v;
}

static void cfg_wr(unsigned int reg, unsigned int len, uint32_t val)
{
	uint64_t v = val;

	vaccess(IOREQ_SPACE_PCI_CONFIG, IOREQ_OP_WRITE, CFG(reg), len, &v);
}

static uint64_t bar_rd(uint32_t off, unsigned int len)
{
	uint64_t v = 0;

	vaccess(IOREQ_SPACE_MMIO, IOREQ_OP_READ, BAR_ADDR + off, len, &v);
	return v;
}

static int bar_wr(uint32_t off, unsigned int len, uint64_t val)
{
	return vaccess(IOREQ_SPACE_MMIO, IOREQ_OP_WRITE, BAR_ADDR + off, len,
		      &val);
}

/* common configuration, as Linux's virtio_pci_modern_dev does it */
#define C_DFSELECT	0x00
#define C_DF		0x04
#define C_GFSELECT	0x08
#define C_GF		0x0c
#define C_MSIX		0x10
#define C_NUMQ		0x12
#define C_STATUS	0x14
#define C_QSEL		0x16
#define C_QSIZE		0x18
#define C_QMSIX		0x1a
#define C_QENABLE	0x1c
#define C_QNOTIFY	0x1e
#define C_QDESC		0x20
#define C_QDRIVER	0x28
#define C_QDEVICE	0x30

static uint64_t com_rd(unsigned int off, unsigned int len)
{
	return bar_rd(common_off + off, len);
}

static void com_wr(unsigned int off, unsigned int len, uint64_t v)
{
	bar_wr(common_off + off, len, v);
}

static void com_wr64(unsigned int off, uint64_t v)
{
	com_wr(off, 4, (uint32_t)v);
	com_wr(off + 4, 4, v >> 32);
}

/* Interrupt events from the VMM fd; -1 when none came within @ms. */
static int next_irq(struct ioreq_irq *irq, uint32_t *level, int ms)
{
	struct ioreq_vmm_event ev;
	struct pollfd p = { .fd = vmm, .events = POLLIN };

	for (;;) {
		if (poll(&p, 1, ms) <= 0)
			return -1;
		if (read(vmm, &ev, sizeof(ev)) != sizeof(ev))
			return -1;
		if (ev.type != IOREQ_VMM_EVENT_IRQ)
			continue;
		*irq = ev.irq;
		*level = ev.level;
		return 0;
	}
}

static void drain_irqs(void)
{
	struct ioreq_irq irq;
	uint32_t level;

	while (!next_irq(&irq, &level, 0))
		;
}

/* ---- processes ---------------------------------------------------------- */

static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static void cleanup(void)
{
	if (fe_pid > 0)
		kill(fe_pid, SIGKILL);
	if (qsd_pid > 0)
		kill(qsd_pid, SIGKILL);
	if (fe_fs_pid > 0)
		kill(fe_fs_pid, SIGKILL);
	if (vfs_pid > 0)
		kill(vfs_pid, SIGKILL);
	if (hold_pid > 0)
		kill(hold_pid, SIGKILL);
}

static pid_t start_qsd(void)
{
	char *argv[] = {
		"qemu-storage-daemon",
		"--object", "throttle-group,id=tg0,x-iops-total=4",
		"--blockdev", "driver=file,node-name=file0,filename=" DISK
			",cache.direct=off,aio=threads",
		"--blockdev", "driver=throttle,node-name=thr0,"
			"throttle-group=tg0,file=file0",
		"--export", "type=vhost-user-blk,id=exp0,node-name=thr0,"
			"addr.type=unix,addr.path=" SOCK ",writable=on",
		NULL,
	};
	double t0 = now_s();
	struct stat st;
	pid_t pid;

	unlink(SOCK);
	pid = spawn(argv, QSD_LOG);
	while (now_s() - t0 < 60) {
		if (!stat(SOCK, &st))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(20000);
	}
	return -1;
}

/* The frontend's counters: SIGUSR1, then its "stats:" line. */
static int fe_stats(uint64_t *records, uint64_t *running)
{
	char line[512], last[512] = "";
	unsigned long long r, rr;
	int seen = 0, want, tries;
	FILE *f;

	f = fopen(FE_LOG, "r");
	while (f && fgets(line, sizeof(line), f))
		seen += !!strstr(line, "stats:");
	if (f)
		fclose(f);
	want = seen + 1;
	kill(fe_pid, SIGUSR1);
	for (tries = 0; tries < 200; tries++) {
		usleep(50000);
		f = fopen(FE_LOG, "r");
		seen = 0;
		while (f && fgets(line, sizeof(line), f)) {
			if (strstr(line, "stats:")) {
				seen++;
				strcpy(last, line);
			}
		}
		if (f)
			fclose(f);
		if (seen >= want)
			break;
	}
	if (sscanf(strstr(last, "stats:") ? strstr(last, "stats:") : "",
		   "stats: records %llu (%llu while running", &r, &rr) != 2)
		return -1;
	*records = r;
	*running = rr;
	return 0;
}

/* ---- the driver ------------------------------------------------------------ */

static int find_caps(void)
{
	unsigned int pos = cfg_rd(0x34, 1) & 0xfc, n = 0, found = 0;

	while (pos && n++ < 48) {
		unsigned int id = cfg_rd(pos, 1), next = cfg_rd(pos + 1, 1);

		if (id == 0x11) {
			msix_cap = pos;
			found |= 1 << 6;
		} else if (id == 0x09) {
			unsigned int type = cfg_rd(pos + 3, 1);
			uint32_t off = cfg_rd(pos + 8, 4);

			if (cfg_rd(pos + 4, 1) != 0)
				return -1;	/* we expect BAR0 */
			switch (type) {
			case 1:
				common_off = off;
				break;
			case 2:
				notify_off = off;
				notify_mult = cfg_rd(pos + 16, 4);
				break;
			case 3:
				isr_off = off;
				break;
			case 4:
				devcfg_off = off;
				break;
			}
			if (type >= 1 && type <= 5)
				found |= 1 << type;
		}
		pos = next & 0xfc;
	}
	msix_table = cfg_rd(msix_cap + 4, 4) & ~7u;
	return found == 0x7e ? 0 : -1;
}

static void msix_entry(unsigned int i, uint32_t addr, uint32_t data,
		       uint32_t ctrl)
{
	uint32_t table = msix_table;

	bar_wr(table + i * 16, 4, addr);
	bar_wr(table + i * 16 + 4, 4, 0);
	bar_wr(table + i * 16 + 8, 4, data);
	bar_wr(table + i * 16 + 12, 4, ctrl);
}

static void msix_mask(unsigned int i, int masked)
{
	bar_wr(msix_table + i * 16 + 12, 4, masked);
}

/*
 * Device initialization (virtio 1.2, 3.1.1) with one queue of QSIZE; with
 * @msix, vector 0 for configuration changes and 1 for the queue.
 * Return: the status read back after DRIVER_OK, or -1.
 */
static int driver_init(int msix, uint64_t features)
{
	uint16_t ctrl = cfg_rd(msix_cap + 2, 2);

	com_wr(C_STATUS, 1, 0);
	if (com_rd(C_STATUS, 1) != 0)
		return -1;
	com_wr(C_STATUS, 1, ST_ACK);
	com_wr(C_STATUS, 1, ST_ACK | ST_DRIVER);
	com_wr(C_GFSELECT, 4, 0);
	com_wr(C_GF, 4, (uint32_t)features);
	com_wr(C_GFSELECT, 4, 1);
	com_wr(C_GF, 4, features >> 32);
	com_wr(C_STATUS, 1, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	if (!(com_rd(C_STATUS, 1) & ST_FEATURES_OK))
		return -2;

	if (msix) {
		cfg_wr(msix_cap + 2, 2, ctrl | 0xc000);	/* enable, masked */
		msix_entry(0, MSI_ADDR_CFG, MSI_DATA_CFG, 0);
		msix_entry(1, MSI_ADDR_Q, MSI_DATA_Q, 0);
		cfg_wr(msix_cap + 2, 2, (ctrl & ~0x4000) | 0x8000);
		com_wr(C_MSIX, 2, 0);
		if (com_rd(C_MSIX, 2) != 0)
			return -3;
	} else {
		cfg_wr(msix_cap + 2, 2, ctrl & ~0xc000);
	}

	memset(g2h(DESC_GPA), 0, 0x3000);
	avail_idx = used_seen = 0;
	com_wr(C_QSEL, 2, cur_q);
	if (com_rd(C_QSIZE, 2) < QSIZE)
		return -4;
	com_wr(C_QSIZE, 2, QSIZE);
	if (msix) {
		com_wr(C_QMSIX, 2, 1);
		if (com_rd(C_QMSIX, 2) != 1)
			return -5;
	}
	com_wr64(C_QDESC, DESC_GPA);
	com_wr64(C_QDRIVER, AVAIL_GPA);
	com_wr64(C_QDEVICE, USED_GPA);
	notify_addr = notify_off + com_rd(C_QNOTIFY, 2) * notify_mult;
	com_wr(C_QENABLE, 2, 1);
	com_wr(C_STATUS, 1, ST_ACK | ST_DRIVER | ST_FEATURES_OK |
	       ST_DRIVER_OK);
	return com_rd(C_STATUS, 1);
}

static volatile uint16_t *used_idx_p(void)
{
	return (volatile uint16_t *)g2h(USED_GPA + 2);
}

/* Queue request @slot (sector @sector, 4 KiB) without kicking. */
static void queue_req(unsigned int slot, int write, uint64_t sector)
{
	struct desc *d = g2h(DESC_GPA);
	volatile uint16_t *avail = g2h(AVAIL_GPA);
	uint64_t hdr = HDR_GPA + slot * 64, data = DATA_GPA + slot * 4096;
	struct blk_hdr *h = g2h(hdr);
	unsigned int head = slot * 3;

	h->type = write ? 1 : 0;	/* VIRTIO_BLK_T_OUT / _IN */
	h->reserved = 0;
	h->sector = sector;
	*(uint8_t *)g2h(hdr + 32) = 0xff;
	d[head] = (struct desc){ hdr, 16, 1, head + 1 };
	d[head + 1] = (struct desc){ data, 4096, 1 | (write ? 0 : 2),
				     head + 2 };
	d[head + 2] = (struct desc){ hdr + 32, 1, 2, 0 };
	avail[2 + avail_idx % QSIZE] = head;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail[1] = ++avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static int kick(void)
{
	return bar_wr(notify_addr, 2, 0);
}

static uint8_t req_status(unsigned int slot)
{
	return *(volatile uint8_t *)g2h(HDR_GPA + slot * 64 + 32);
}

static void fill(unsigned int slot, unsigned int seed)
{
	uint8_t *p = g2h(DATA_GPA + slot * 4096);
	unsigned int i;

	for (i = 0; i < 4096; i++)
		p[i] = (i * 13 + seed * 101 + 7) & 0xff;
}

static int same(unsigned int slot, unsigned int seed)
{
	uint8_t *p = g2h(DATA_GPA + slot * 4096);
	unsigned int i;

	for (i = 0; i < 4096; i++)
		if (p[i] != ((i * 13 + seed * 101 + 7) & 0xff))
			return 0;
	return 1;
}

/*
 * Wait until the used index reaches avail_idx; with @msis, take the
 * interrupts meanwhile, count them and check they are the queue's MSI.
 */
static int wait_used(double secs, unsigned int *msis, int *msi_ok)
{
	double t0 = now_s();
	struct ioreq_irq irq;
	uint32_t level;

	while (now_s() - t0 < secs) {
		if (!msis) {
			/* leave the interrupts to the caller */
			usleep(2000);
		} else if (!next_irq(&irq, &level, 20)) {
			(*msis)++;
			if (irq.kind != IOREQ_IRQ_MSI ||
			    irq.msi_addr != MSI_ADDR_Q ||
			    irq.msi_data != MSI_DATA_Q)
				*msi_ok = 0;
		}
		if (*used_idx_p() != avail_idx)
			continue;
		/* the daemon signals its call fd after writing the used ring */
		if (msis && !*msis && !next_irq(&irq, &level, 5000)) {
			(*msis)++;
			if (irq.kind != IOREQ_IRQ_MSI ||
			    irq.msi_addr != MSI_ADDR_Q ||
			    irq.msi_data != MSI_DATA_Q)
				*msi_ok = 0;
		}
		return 0;
	}
	return -1;
}

/* One request, kicked and waited for. */
static int do_io(int write, uint64_t sector, unsigned int *msis, int *msi_ok)
{
	queue_req(0, write, sector);
	if (kick() != IOREQ_VMM_STATUS_DONE)
		return -1;
	if (wait_used(30, msis, msi_ok))
		return -2;
	return req_status(0);
}

/* ---- virtio-fs: FUSE requests on the request queue ------------------------ */

#define FUSE_LOOKUP	1
#define FUSE_INIT	26
#define FUSE_REQ_GPA	(RAM0 + 0x60000)	/* request, 4 KiB */
#define FUSE_REPLY_GPA	(RAM1 + 0x200000)	/* reply, 4 KiB */

struct fuse_in_header {
	uint32_t len, opcode;
	uint64_t unique, nodeid;
	uint32_t uid, gid, pid;
	uint16_t total_extlen, padding;
};

struct fuse_out_header {
	uint32_t len;
	int32_t error;
	uint64_t unique;
};

/*
 * One FUSE request: @arg (@arg_len bytes) after the header, the reply into
 * FUSE_REPLY_GPA.  Return: the reply's error, or -1000 if none came.
 */
static int fuse_call(uint32_t opcode, uint64_t nodeid, const void *arg,
		     uint32_t arg_len, uint64_t unique)
{
	struct fuse_in_header *in = g2h(FUSE_REQ_GPA);
	struct fuse_out_header *out = g2h(FUSE_REPLY_GPA);
	volatile uint16_t *avail = g2h(AVAIL_GPA);
	struct desc *d = g2h(DESC_GPA);

	memset(in, 0, sizeof(*in));
	in->len = sizeof(*in) + arg_len;
	in->opcode = opcode;
	in->unique = unique;
	in->nodeid = nodeid;
	memcpy(in + 1, arg, arg_len);
	memset(out, 0, 4096);
	d[0] = (struct desc){ FUSE_REQ_GPA, in->len, 1, 1 };
	d[1] = (struct desc){ FUSE_REPLY_GPA, 4096, 2, 0 };
	avail[2 + avail_idx % QSIZE] = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail[1] = ++avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (kick() != IOREQ_VMM_STATUS_DONE || wait_used(30, NULL, NULL))
		return -1000;
	if (out->unique != unique || out->len < sizeof(*out))
		return -1001;
	return out->error;
}

static pid_t start_virtiofsd(void)
{
	char *argv[] = {
		"/usr/lib/qemu/virtiofsd", "--socket-path=" VFS_SOCK,
		"-o", "source=" SHARE, "-o", "cache=none",
		"-o", "sandbox=chroot", NULL,
	};
	double t0 = now_s();
	struct stat st;
	pid_t pid;
	FILE *f;

	mkdir(SHARE, 0755);
	f = fopen(SHARE "/hello.txt", "w");
	if (!f)
		return -1;
	fputs(HELLO, f);
	fclose(f);
	unlink(VFS_SOCK);
	pid = spawn(argv, VFS_LOG);
	while (now_s() - t0 < 60) {
		if (!stat(VFS_SOCK, &st))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(20000);
	}
	return -1;
}

static void fs_tests(const char *fe_path, const char *guest_arg)
{
	char *argv[] = { (char *)fe_path, "--provider", "vmm",
			 "--guest", (char *)guest_arg, "--type", "fs", "--tag", FS_TAG, "--socket", VFS_SOCK,
			 "--sbdf", "0000:00:06.0", "--bar", "0xe0004000", NULL };
	uint32_t init_in[4] = { 7, 31, 0, 0 };	/* major, minor, ... */
	char tag[37] = "";
	int ret, st, wst;
	unsigned int i;
	uint32_t v;

	if (access("/usr/lib/qemu/virtiofsd", X_OK)) {
		for (i = 0; i < 4; i++)
			ksft_test_result_skip("virtio-fs: no"
					      " /usr/lib/qemu/virtiofsd\n");
		return;
	}
	vfs_pid = start_virtiofsd();
	if (vfs_pid < 0) {
		check(0, "virtio-fs: virtiofsd did not start (see below)");
		system("sed 's/^/# virtiofsd: /' " VFS_LOG);
		return;
	}
	fe_fs_pid = spawn(argv, FE_FS_LOG);
	cur_sbdf = SBDF_FS;
	cur_bar = BAR_FS;
	for (i = 0; i < 600 && cfg_rd(0, 4) == 0xffffffffu; i++)
		usleep(50000);
	v = cfg_rd(0, 4);
	ret = find_caps();
	cfg_wr(0x04, 2, 0x6);
	for (i = 0; i < 36; i++)
		tag[i] = bar_rd(devcfg_off + i, 1);
	check(v == 0x105a1af4 && !ret && !strcmp(tag, FS_TAG) &&
	      bar_rd(devcfg_off + 36, 4) == 1 && com_rd(C_NUMQ, 2) == 2,
	      "virtio-fs at 00:06.0 (BAR0 preset): ids 0x%08x, tag \"%s\","
	      " 1 request queue", v, tag);

	/* the request queue (1) only; hiprio stays off */
	cur_q = 1;
	ring_gpa = RAM0 + 0x40000;
	st = driver_init(1, 1ULL << 32);
	usleep(300000);
	drain_irqs();
	ret = fuse_call(FUSE_INIT, 0, init_in, sizeof(init_in), 1);
	check(st == 0xf && !ret && ((uint32_t *)g2h(FUSE_REPLY_GPA))[4] == 7,
	      "virtio-fs: FUSE_INIT through virtiofsd: error %d, major %u",
	      ret, ((uint32_t *)g2h(FUSE_REPLY_GPA))[4]);
	ret = fuse_call(FUSE_LOOKUP, 1, "hello.txt", 10, 2);
	check(!ret && *(uint64_t *)((uint8_t *)g2h(FUSE_REPLY_GPA) + 16 +
				    48) == strlen(HELLO),
	      "virtio-fs: FUSE_LOOKUP of the host's hello.txt: error %d,"
	      " size %" PRIu64, ret, *(uint64_t *)((uint8_t *)
		g2h(FUSE_REPLY_GPA) + 16 + 48));

	com_wr(C_STATUS, 1, 0);
	kill(fe_fs_pid, SIGTERM);
	ret = waitpid(fe_fs_pid, &wst, 0);
	fe_fs_pid = 0;
	check(ret > 0 && WIFEXITED(wst) && !WEXITSTATUS(wst) &&
	      com_rd(C_STATUS, 1) == 0xff,
	      "virtio-fs: reset, frontend exits 0, its function is gone");
	cur_sbdf = SBDF_BLK;
	cur_bar = BAR_BLK;
	cur_q = 0;
	ring_gpa = RAM0 + 0x10000;
	find_caps();
	if (failures)
		system("sed 's/^/# frontend-fs: /' " FE_FS_LOG "; "
		       "sed 's/^/# virtiofsd: /' " VFS_LOG);
}

static int setup_guest(void)
{
	struct ioreq_vmm_create c = { .size = sizeof(c), .nr_vcpus = 1 };
	uint64_t gpa[2] = { RAM0, RAM1 };
	uint8_t **map[2] = { &ram0, &ram1 };
	int i;

	vmm = open("/dev/ioreq-vmm", O_RDWR | O_CLOEXEC);
	if (vmm < 0 || ioctl(vmm, IOREQ_VMM_CREATE_GUEST, &c))
		return -1;
	guest_id = c.guest_id;
	for (i = 0; i < 2; i++) {
		struct ioreq_vmm_memory m = {
			.size = sizeof(m), .gpa = gpa[i], .len = RAM_LEN,
		};
		int fd = memfd_create("guest-ram", MFD_CLOEXEC);

		if (fd < 0 || ftruncate(fd, RAM_LEN))
			return -1;
		*map[i] = mmap(NULL, RAM_LEN, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);
		if (*map[i] == MAP_FAILED)
			return -1;
		m.fd = fd;
		if (ioctl(vmm, IOREQ_VMM_ADD_MEMORY, &m))
			return -1;
	}
	return 0;
}

/* ---- virtio-mmio (--mmio): the registers as Linux's virtio_mmio uses them */

#define MMIO_BASE	0xe1000000u
#define MMIO_LINE	5
#define M_MAGIC		0x000
#define M_VERSION	0x004
#define M_DEVICE	0x008
#define M_VENDOR	0x00c
#define M_DF		0x010
#define M_DFSEL		0x014
#define M_GF		0x020
#define M_GFSEL		0x024
#define M_QSEL		0x030
#define M_QNUMMAX	0x034
#define M_QNUM		0x038
#define M_QREADY	0x044
#define M_QNOTIFY	0x050
#define M_ISTATUS	0x060
#define M_IACK		0x064
#define M_STATUS	0x070
#define M_QDESC		0x080
#define M_QDRIVER	0x090
#define M_QDEVICE	0x0a0
#define M_SHMLEN	0x0b0
#define M_CONFIG	0x100

static uint32_t mm_rd(unsigned int off)
{
	uint64_t v = 0;

	vaccess(IOREQ_SPACE_MMIO, IOREQ_OP_READ, MMIO_BASE + off, 4, &v);
	return v;
}

static int mm_wr(unsigned int off, uint32_t val)
{
	uint64_t v = val;

	return vaccess(IOREQ_SPACE_MMIO, IOREQ_OP_WRITE, MMIO_BASE + off, 4,
		       &v);
}

static void mm_wr64(unsigned int off, uint64_t v)
{
	mm_wr(off, v);
	mm_wr(off + 4, v >> 32);
}

/* virtio_mmio's vm_finalize_features() and vm_setup_vq(); the status. */
static int mmio_init(void)
{
	mm_wr(M_STATUS, 0);
	if (mm_rd(M_STATUS))
		return -1;
	mm_wr(M_STATUS, ST_ACK);
	mm_wr(M_STATUS, ST_ACK | ST_DRIVER);
	mm_wr(M_GFSEL, 1);
	mm_wr(M_GF, 1);			/* VERSION_1 */
	mm_wr(M_GFSEL, 0);
	mm_wr(M_GF, 0);
	mm_wr(M_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	if (!(mm_rd(M_STATUS) & ST_FEATURES_OK))
		return -2;
	memset(g2h(DESC_GPA), 0, 0x3000);
	avail_idx = used_seen = 0;
	mm_wr(M_QSEL, 0);
	if (mm_rd(M_QREADY) || mm_rd(M_QNUMMAX) < QSIZE)
		return -3;
	mm_wr(M_QNUM, QSIZE);
	mm_wr64(M_QDESC, DESC_GPA);
	mm_wr64(M_QDRIVER, AVAIL_GPA);
	mm_wr64(M_QDEVICE, USED_GPA);
	mm_wr(M_QREADY, 1);
	mm_wr(M_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	return mm_rd(M_STATUS);
}

/*
 * One request kicked through QueueNotify; its completion must come as an
 * edge (assert, deassert) on MMIO_LINE, which the handler then reads in
 * InterruptStatus and acknowledges.  Return: the request's status, or -1.
 */
static int mmio_io(int write, unsigned int *edges, uint32_t *istatus)
{
	struct ioreq_irq irq;
	uint32_t level;
	int st;

	queue_req(0, write, 8);
	if (mm_wr(M_QNOTIFY, 0) != IOREQ_VMM_STATUS_DONE ||
	    wait_used(30, NULL, NULL))
		return -1;
	st = next_irq(&irq, &level, 5000);
	if (!st && irq.kind == IOREQ_IRQ_LINE && irq.line == MMIO_LINE &&
	    level == 1 && !next_irq(&irq, &level, 5000) &&
	    irq.kind == IOREQ_IRQ_LINE && level == 0)
		(*edges)++;
	*istatus = mm_rd(M_ISTATUS);
	mm_wr(M_IACK, *istatus);
	return req_status(0);
}

static void mmio_tests(const char *fe_path, const char *guest_arg)
{
	static const char line[] = "0xe1000000:5";
	char *argv[] = { (char *)fe_path, "--provider", "vmm", "--guest",
			 (char *)guest_arg, "--socket", SOCK, "--mmio",
			 (char *)line, NULL };
	unsigned int edges = 0, i;
	uint32_t isr_w = 0, isr_r = 0, magic = 0;
	uint64_t rec0, run0, rec1, run1, cap;
	int st, st_w, st_r;

	drain_irqs();
	fe_pid = spawn(argv, FE_LOG);
	for (i = 0; i < 600 && magic != 0x74726976; i++) {
		usleep(50000);
		magic = mm_rd(M_MAGIC);
	}
	/* 26: the registers */
	cap = mm_rd(M_CONFIG) | (uint64_t)mm_rd(M_CONFIG + 4) << 32;
	mm_wr(M_DFSEL, 1);
	check(magic == 0x74726976 && mm_rd(M_VERSION) == 2 &&
	      mm_rd(M_DEVICE) == 2 && mm_rd(M_VENDOR) == 0x1af4 &&
	      (mm_rd(M_DF) & 1) && mm_rd(M_SHMLEN) == 0xffffffffu &&
	      cap == DISK_SIZE / 512,
	      "virtio-mmio at 0x%x: magic, version 2, blk, VERSION_1,"
	      " no shared memory, capacity %" PRIu64 " sectors", MMIO_BASE,
	      cap);

	/* 27: initialization */
	st = mmio_init();
	check(st == (ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK),
	      "virtio-mmio: features, one queue, DRIVER_OK (status 0x%x)",
	      st);
	usleep(300000);
	drain_irqs();	/* the daemon signals each call fd it is given */
	fe_stats(&rec0, &run0);

	/* 28: I/O through the notify ioeventfd and the line's irqfd */
	fill(0, 3);
	st_w = mmio_io(1, &edges, &isr_w);
	memset(g2h(DATA_GPA), 0, 4096);
	st_r = mmio_io(0, &edges, &isr_r);
	check(!st_w && !st_r && same(0, 3) && edges == 2 && isr_w == 1 &&
	      isr_r == 1,
	      "virtio-mmio: 4 KiB written and read back equal, %u edges on"
	      " line %u, InterruptStatus 0x%x/0x%x", edges, MMIO_LINE, isr_w,
	      isr_r);

	/* 29: only the handler's status read and ACK reached the frontend */
	st = fe_stats(&rec1, &run1);
	check(!st && run1 - run0 == 4,
	      "virtio-mmio: the frontend saw %" PRIu64 " records for 2 I/Os"
	      " (expected 4: InterruptStatus and ACK per interrupt)",
	      run1 - run0);

	/* 30: reset */
	mm_wr(M_STATUS, 0);
	check(mm_rd(M_STATUS) == 0 && mm_rd(M_ISTATUS) == 0 &&
	      (mm_wr(M_QSEL, 0), mm_rd(M_QREADY) == 0),
	      "virtio-mmio: reset: status, InterruptStatus and QueueReady 0");
	kill(fe_pid, SIGTERM);
	waitpid(fe_pid, NULL, 0);
	fe_pid = 0;
}

/* ---- the frontend killed and started again (--hold) --------------------- */

struct held_read {
	pthread_t thread;
	uint64_t status;
	double done_at;
};

/* A vcpu reads the device status while no frontend runs. */
static void *status_reader(void *arg)
{
	struct held_read *h = arg;

	h->status = com_rd(C_STATUS, 1);
	h->done_at = now_s();
	return NULL;
}

/* "device reset" lines in the frontends' log. */
static int fe_resets(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(FE_LOG, "r");

	while (f && fgets(line, sizeof(line), f))
		n += !!strstr(line, "device reset");
	if (f)
		fclose(f);
	return n;
}

/*
 * kill -9 the frontend while writes are in flight; the daemon finishes
 * those; then the guest queues and kicks more writes (the kick is the
 * kernel's ioeventfd: it needs no frontend) and a vcpu reads the device
 * status while no frontend runs.  (The daemon must have finished first:
 * qemu-storage-daemon 7.2 aborts on a kick that arrives while it waits for
 * a lost frontend's requests, "vhost_user_server_ref: Assertion
 * `!server->wait_idle' failed".)
 * Start the frontend again with the same options.  The holder kept the
 * session: the vcpu's access waits and is answered by the successor from
 * the saved device state, every write completes (those queued after the
 * kill only once the successor has reconnected the daemon), the queue's
 * MSI still comes through the kept irqfd, and nobody reset the device.
 */
#define NREQ_AFTER	4

static void restart_tests(char *const fe_argv[])
{
	unsigned int i, base, done_at_kill, msis = 0, after_at_restart;
	double t_kill, t_first = 0, t_all = 0, t_start;
	struct held_read h = { .done_at = 0 };
	int ret, st, msi_ok = 1, resets, kicked;
	const unsigned int total = NREQ + NREQ_AFTER;

	st = driver_init(1, 1ULL << 32);
	usleep(300000);
	drain_irqs();
	resets = fe_resets();
	base = *used_idx_p();
	for (i = 0; i < NREQ; i++) {
		fill(i, 40 + i);
		queue_req(i, 1, 256 + 8 * i);
	}
	kick();
	t_kill = now_s();
	while (*used_idx_p() == base && now_s() - t_kill < 30)
		usleep(5000);
	done_at_kill = (uint16_t)(*used_idx_p() - base);
	kill(fe_pid, SIGKILL);
	waitpid(fe_pid, NULL, 0);
	t_kill = now_s();
	while ((uint16_t)(*used_idx_p() - base) != NREQ && now_s() - t_kill < 30)
		usleep(5000);
	usleep(200000);
	for (i = NREQ; i < total; i++) {
		fill(i, 40 + i);
		queue_req(i, 1, 256 + 8 * i);
	}
	kicked = kick() == IOREQ_VMM_STATUS_DONE;
	ret = pthread_create(&h.thread, NULL, status_reader, &h);
	usleep(500000);
	for (after_at_restart = 0, i = NREQ; i < total; i++)
		after_at_restart += req_status(i) != 0xff;
	check(st == 0xf && !ret && kicked && done_at_kill < NREQ &&
	      !after_at_restart && !h.done_at,
	      "frontend killed with -9: %u of %u writes done (the daemon"
	      " finished them); %u more queued and kicked, none done; a"
	      " vcpu's status read waits", done_at_kill, NREQ, NREQ_AFTER);

	t_start = now_s() - t_kill;
	fe_pid = spawn(fe_argv, FE_LOG);
	/* no access from here until the vcpu's returns: it holds vcpu 0 */
	while (now_s() - t_kill < 60) {
		for (i = NREQ; !t_first && i < total; i++)
			if (req_status(i) != 0xff)
				t_first = now_s() - t_kill;
		if ((uint16_t)(*used_idx_p() - base) == total) {
			t_all = now_s() - t_kill;
			break;
		}
		usleep(2000);
	}
	pthread_join(h.thread, NULL);
	for (st = 0, i = 0; i < total; i++)
		st |= req_status(i);
	check(t_all && !st && h.status == 0xf && fe_resets() == resets,
	      "successor adopted the session: all %u writes completed"
	      " (status OK), the held status read gave 0x%x, no device"
	      " reset", total, (unsigned int)h.status);
	ksft_print_msg("frontend restart: successor started %.2f s after the"
		       " kill; the first write queued meanwhile completed"
		       " %.2f s after the kill, all %u after %.2f s; the held"
		       " access was answered after %.2f s\n", t_start,
		       t_first, total, t_all,
		       h.done_at ? h.done_at - t_kill : -1.0);

	drain_irqs();
	for (i = 0; i < total; i++)
		memset(g2h(DATA_GPA + i * 4096), 0, 4096);
	for (i = 0; i < total; i++)
		queue_req(i, 0, 256 + 8 * i);
	kick();
	ret = wait_used(60, &msis, &msi_ok);
	for (st = 0, i = 0; i < total; i++)
		st |= !same(i, 40 + i) || req_status(i);
	check(!ret && !st && msis >= 1 && msi_ok,
	      "after the frontend restart every write reads back equal,"
	      " %u MSI(s) through the kept irqfd", msis);
}

static const char *find_qsd(void)
{
	static char path[PATH_MAX];
	char *p = getenv("PATH"), *save, *dir, *copy;

	copy = strdup(p ? p : "/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/qemu-storage-daemon", dir);
		if (!access(path, X_OK)) {
			free(copy);
			return path;
		}
	}
	free(copy);
	return NULL;
}

int main(void)
{
	static char fe_path[PATH_MAX], guest_arg[32];
	char *fe_argv[] = { fe_path, "--provider", "vmm", "--guest", guest_arg,
			    "--socket", SOCK, "--sbdf", "0000:00:05.0",
			    "--hold", HOLD_SOCK, NULL };
	uint64_t rec0, run0, rec1, run1, cap;
	struct ioreq_info info = { .size = sizeof(info) };
	unsigned int msis = 0, i, done_at_kill;
	int msi_ok = 1, st, ioreq, ret, wst, hst;
	struct ioreq_irq irq;
	uint32_t level, v;
	double t_kill;
	ssize_t n;

	ksft_print_header();
	if (!find_qsd())
		ksft_exit_skip("qemu-storage-daemon is not in PATH\n");
	n = readlink("/proc/self/exe", fe_path, sizeof(fe_path) - 16);
	if (n <= 0)
		ksft_exit_skip("cannot find my own path\n");
	fe_path[n] = 0;
	strcpy(strrchr(fe_path, '/') + 1, "ioreq-vhost");
	if (access(fe_path, X_OK))
		ksft_exit_skip("%s is missing\n", fe_path);
	ioreq = open("/dev/ioreq", O_RDWR | O_CLOEXEC);
	if (ioreq < 0 || access("/dev/ioreq-vmm", R_OK | W_OK))
		ksft_exit_skip("/dev/ioreq or /dev/ioreq-vmm missing\n");
	if (ioctl(ioreq, IOREQ_GET_INFO, &info) ||
	    (info.caps & (IOREQ_CAP_PCI_CONFIG | IOREQ_CAP_GUEST_MEMORY_FD)) !=
	    (IOREQ_CAP_PCI_CONFIG | IOREQ_CAP_GUEST_MEMORY_FD))
		ksft_exit_skip("the providers lack PCI config or guest-memory"
			       " fds (caps 0x%llx)\n",
			       (unsigned long long)info.caps);
	close(ioreq);
	ksft_set_plan(30);
	atexit(cleanup);

	mkdir(DIR, 0755);
	unlink(QSD_LOG);
	unlink(FE_LOG);
	unlink(HOLD_LOG);
	ret = open(DISK, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (ret < 0 || ftruncate(ret, DISK_SIZE))
		ksft_exit_fail_msg("creating %s: %s\n", DISK, strerror(errno));
	close(ret);
	if (setup_guest())
		ksft_exit_fail_msg("guest setup: %s\n", strerror(errno));
	qsd_pid = start_qsd();
	if (qsd_pid < 0)
		ksft_exit_fail_msg("qemu-storage-daemon did not start (%s)\n",
				   QSD_LOG);
	snprintf(guest_arg, sizeof(guest_arg), "%" PRIu64, guest_id);
	{
		char *argv[] = { fe_path, "--holder", HOLD_SOCK, "--grace",
				 "60", NULL };

		hold_pid = spawn(argv, HOLD_LOG);
	}
	fe_pid = spawn(fe_argv, FE_LOG);

	/* 1: the function appears once the frontend claimed it */
	for (i = 0; i < 600 && cfg_rd(0, 4) == 0xffffffffu; i++)
		usleep(50000);
	v = cfg_rd(0, 4);
	check(v == 0x10421af4, "config space: vendor 0x1af4 device 0x1042"
	      " (read 0x%08x)", v);
	if (v != 0x10421af4) {
		system("cat " FE_LOG " " QSD_LOG " | sed 's/^/# /'");
		ksft_exit_fail();
	}

	/* 2: capabilities, BAR sizing and assignment */
	ret = find_caps();
	cfg_wr(0x10, 4, 0xffffffff);
	v = cfg_rd(0x10, 4);
	cfg_wr(0x10, 4, BAR_ADDR);
	cfg_wr(0x04, 2, 0x6);		/* memory, bus master */
	check(!ret && v == 0xffffc000 && cfg_rd(0x10, 4) == BAR_ADDR,
	      "capabilities common/notify/ISR/device/PCI_CFG/MSI-X found,"
	      " BAR0 16 KiB at 0x%x", BAR_ADDR);

	/* 3: device configuration from the daemon's GET_CONFIG */
	usleep(200000);		/* the claim follows the command write */
	cap = bar_rd(devcfg_off, 8);
	check(cap == DISK_SIZE / 512, "virtio-blk capacity %" PRIu64
	      " sectors (disk %u bytes)", cap, DISK_SIZE);

	/* 4: features: VERSION_1 offered; an unoffered bit refused */
	com_wr(C_DFSELECT, 4, 1);
	v = com_rd(C_DF, 4);
	st = driver_init(1, 1ULL << 32 | 1ULL << 34);	/* RING_PACKED */
	check((v & 1) && !(v & 4) && st == -2,
	      "features: VERSION_1 offered, RING_PACKED not; FEATURES_OK"
	      " refused for an unoffered bit");

	/* 5: one queue, MSI-X, DRIVER_OK */
	st = driver_init(1, 1ULL << 32);
	check(st == (ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK),
	      "one queue, MSI-X vectors 0/1, DRIVER_OK (status 0x%x)", st);
	usleep(300000);
	drain_irqs();	/* the daemon signals each call fd it is given */
	fe_stats(&rec0, &run0);

	/* 6, 7: write 4 KiB, read it back */
	fill(0, 1);
	st = do_io(1, 8, &msis, &msi_ok);
	check(st == 0 && msis >= 1 && msi_ok,
	      "4 KiB write: status %d, %u MSI(s) 0x%x/0x%x from the irqfd",
	      st, msis, MSI_ADDR_Q, MSI_DATA_Q);
	memset(g2h(DATA_GPA), 0, 4096);
	msis = 0;
	st = do_io(0, 8, &msis, &msi_ok);
	check(st == 0 && same(0, 1) && msis >= 1 && msi_ok,
	      "4 KiB read back: status %d, %s, %u MSI(s)", st,
	      same(0, 1) ? "equal" : "DIFFERENT", msis);

	/* 8: a masked vector holds the interrupt until unmasked */
	msix_mask(1, 1);
	drain_irqs();
	queue_req(0, 0, 8);
	kick();
	ret = wait_used(30, NULL, NULL);
	st = next_irq(&irq, &level, 500);
	msix_mask(1, 0);
	ret |= next_irq(&irq, &level, 5000);
	check(!ret && st && irq.msi_data == MSI_DATA_Q,
	      "MSI-X entry masked: no message; unmasked: the pending one");

	/* 9: the data path bypasses the frontend */
	ret = fe_stats(&rec1, &run1);
	check(!ret && run1 - run0 == 2 * 1,
	      "frontend saw %" PRIu64 " records during 3 I/Os (expected 2:"
	      " the mask and unmask writes)", run1 - run0);
	ksft_print_msg("records per guest I/O in steady state: %.2f\n",
		       (run1 - run0 - 2) / 3.0);

	/*
	 * 10: an entry holding a Xen pirq (vector 0) whose mask bit the
	 * guest never clears (Linux on Xen masks through event channels)
	 * still gets its message, as QEMU's MSI-X emulation does.
	 */
	msix_entry(1, MSI_ADDR_PIRQ, MSI_DATA_PIRQ, 1);
	drain_irqs();
	queue_req(0, 0, 8);
	kick();
	ret = wait_used(30, NULL, NULL);
	st = next_irq(&irq, &level, 5000);
	check(!ret && !st && irq.msi_addr == MSI_ADDR_PIRQ &&
	      irq.msi_data == MSI_DATA_PIRQ,
	      "MSI-X entry with vector 0 (a Xen pirq) and its mask bit set:"
	      " the message arrives");
	msix_entry(1, MSI_ADDR_Q, MSI_DATA_Q, 0);
	drain_irqs();

	/* 11: reset; the daemon stops the ring */
	com_wr(C_STATUS, 1, 0);
	check(com_rd(C_STATUS, 1) == 0, "device reset: status reads 0");

	/* 12: INTx when MSI-X is off */
	st = driver_init(0, 1ULL << 32);
	/*
	 * The daemon signals each call fd it is given: that first interrupt
	 * is acknowledged before the request.
	 */
	if (!next_irq(&irq, &level, 3000)) {
		bar_rd(isr_off, 1);
		next_irq(&irq, &level, 3000);
	}
	drain_irqs();
	queue_req(0, 0, 8);
	kick();
	ret = wait_used(30, NULL, NULL);
	st = next_irq(&irq, &level, 5000);
	ret |= st || irq.kind != IOREQ_IRQ_PCI_INTX || level != 1;
	v = bar_rd(isr_off, 1);
	st = next_irq(&irq, &level, 5000);
	check(!ret && !st && v == 1 && irq.kind == IOREQ_IRQ_PCI_INTX &&
	      level == 0, "INTx without MSI-X: asserted, ISR 0x%x, deasserted"
	      " on the ISR read", v);

	/* 13: start again with MSI-X for the kill test */
	com_wr(C_STATUS, 1, 0);
	st = driver_init(1, 1ULL << 32);
	check(st == (ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK),
	      "reset and started again (status 0x%x)", st);
	usleep(300000);
	drain_irqs();

	/* 14-16: kill -9 the daemon with writes in flight, restart it */
	for (i = 0; i < NREQ; i++) {
		fill(i, 10 + i);
		queue_req(i, 1, 64 + 8 * i);
	}
	kick();
	t_kill = now_s();
	while (*used_idx_p() == 0 && now_s() - t_kill < 30)
		usleep(5000);
	done_at_kill = *used_idx_p();
	kill(qsd_pid, SIGKILL);
	waitpid(qsd_pid, NULL, 0);
	t_kill = now_s();
	check(done_at_kill >= 1 && done_at_kill < NREQ,
	      "daemon killed with -9: %u of %u writes done", done_at_kill,
	      NREQ);
	usleep(500000);
	qsd_pid = start_qsd();
	ret = qsd_pid > 0 ? wait_used(60, NULL, NULL) : -1;
	for (st = 0, i = 0; i < NREQ; i++)
		st |= req_status(i);
	check(!ret && !st, "restarted: all %u writes completed %.1f s after"
	      " the kill, status OK", NREQ, now_s() - t_kill);
	for (i = 0; i < NREQ; i++)
		memset(g2h(DATA_GPA + i * 4096), 0, 4096);
	for (i = 0; i < NREQ; i++)
		queue_req(i, 0, 64 + 8 * i);
	kick();
	ret = wait_used(60, NULL, NULL);
	for (st = 0, i = 0; i < NREQ; i++)
		st |= !same(i, 10 + i) || req_status(i);
	check(!ret && !st, "after the restart every write reads back equal");

	/* 17: reset after the reconnect still stops cleanly */
	com_wr(C_STATUS, 1, 0);
	check(com_rd(C_STATUS, 1) == 0, "reset after the reconnect");

	/* 18-20: the frontend killed with -9 and started again */
	restart_tests(fe_argv);

	/* 21-24: virtio-fs, served by virtiofsd */
	fs_tests(fe_path, guest_arg);

	/* 25: the frontend's counters and exit; the holder's with it */
	fe_stats(&rec1, &run1);
	kill(fe_pid, SIGTERM);
	ret = waitpid(fe_pid, &wst, 0);
	fe_pid = 0;
	st = waitpid(hold_pid, &hst, 0);
	hold_pid = 0;
	check(ret > 0 && WIFEXITED(wst) && !WEXITSTATUS(wst) && st > 0 &&
	      WIFEXITED(hst) && !WEXITSTATUS(hst),
	      "frontend exits 0 on SIGTERM (%" PRIu64 " records in all),"
	      " the holder with it", rec1);

	/* 26-30: the same disk through virtio-mmio */
	mmio_tests(fe_path, guest_arg);
	if (failures)
		system("sed 's/^/# frontend: /' " FE_LOG "; "
		       "sed 's/^/# holder: /' " HOLD_LOG "; "
		       "sed 's/^/# qsd: /' " QSD_LOG);
	ksft_finished();
	return 0;
}
