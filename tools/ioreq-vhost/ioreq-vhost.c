// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq-vhost: a virtio-pci device on /dev/ioreq whose data path is an
 * unmodified vhost-user daemon (qemu-storage-daemon, virtiofsd, ...).
 * With --mmio the same device is a virtio-mmio one (virtio_mmio.c).
 *
 * It emulates one PCI function, virtio-pci modern: the configuration space
 * with the virtio vendor capabilities and MSI-X, and BAR0 with the common
 * configuration, ISR, device configuration, notify area, MSI-X table and
 * PBA.  When the guest's driver sets DRIVER_OK it hands the daemon, over
 * the vhost-user socket, one guest-memory fd per RAM range
 * (IOREQ_GUEST_MEMORY_FD), each queue's notify ioeventfd as the kick fd and
 * an eventfd bound with IOREQ_IRQFD to the queue's MSI-X message as the
 * call fd.  From then on descriptors, kicks and interrupts go between the
 * guest, the kernel and the daemon without this process.
 *
 * It attaches to the provider it is told (--provider, or a guest handle)
 * and never asks which hypervisor the guest runs on.  Documentation:
 * README in this directory and --help.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "hold.h"
#include "ioreq-vhost.h"

/* ---- virtio-pci modern layout (virtio 1.2, 4.1) ------------------------ */

#define PCI_VENDOR_VIRTIO	0x1af4
#define PCI_DEVICE_VIRTIO_BASE	0x1040	/* + virtio device id */

#define PCI_COMMAND_IO		0x1
#define PCI_COMMAND_MEMORY	0x2
#define PCI_COMMAND_MASTER	0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_INTERRUPT	0x08
#define PCI_STATUS_CAP_LIST	0x10

/* Capabilities in configuration space */
#define CAP_COMMON	0x40	/* struct virtio_pci_cap, 16 bytes */
#define CAP_NOTIFY	0x50	/* + notify_off_multiplier, 20 bytes */
#define CAP_ISR		0x64
#define CAP_DEVICE	0x74
#define CAP_PCICFG	0x84	/* + pci_cfg_data, 20 bytes */
#define CAP_MSIX	0x98	/* 12 bytes */
#define PCI_CAP_ID_VNDR	0x09
#define PCI_CAP_ID_MSIX	0x11

#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5

/* BAR0, 16 KiB */
#define BAR_SIZE	0x4000
#define COMMON_OFF	0x0000
#define COMMON_LEN	0x40
#define ISR_OFF		0x1000
#define ISR_LEN		4
#define DEVCFG_OFF	0x2000
#define NOTIFY_OFF	0x3000
#define NOTIFY_MULT	4
#define MSIX_OFF	0x3800
#define PBA_OFF		0x3c00

#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_ENTRY_MASKED	0x1

/*
 * The device state a successor adopts (--hold): the members of struct dev
 * from @command up to @vu, in a memfd the holder keeps.  Two copies: each
 * save writes the one not in use, then publishes it in @cur, so a kill in
 * the middle of a save leaves the previous state whole.  The fd and
 * "started" members in it are the dead process's and are redone.
 */
#define SAVED_MAGIC	0x696f7673U	/* "iovs" */
#define SAVED_FIRST	offsetof(struct dev, command)
#define SAVED_SPAN	(offsetof(struct dev, vu) - SAVED_FIRST)

struct saved {
	uint32_t magic;
	uint32_t span;		/* SAVED_SPAN of the binary that saved */
	uint32_t cur;		/* the valid copy, 0 or 1 */
	uint32_t __pad;
	uint8_t copy[2][SAVED_SPAN];
};

static int running = 1;	/* signals arrive through a signalfd */

void info(const char *fmt, ...)
{
	va_list ap;

	fputs("ioreq-vhost: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("ioreq-vhost: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ioreq-vhost (--guest ID [--provider xen|vmm] | --guest-fd FD)\n"
"                   --socket PATH [--type blk|fs] [--tag TAG]\n"
"                   [--sbdf [SEG:]BUS:DEV.FN] [--bar ADDR | --mmio ADDR:LINE]\n"
"                   [--queues N] [--queue-size N] [--ram GPA:LEN]...\n"
"                   [--wait SECS]\n"
"                   [--hold PATH] [--verbose]\n"
"       ioreq-vhost --holder PATH [--grace SECS]\n"
"\n"
"Present a virtio-pci (modern) or virtio-mmio (version 2) device to\n"
"guest ID through /dev/ioreq (or $IOREQ_DEV) and let an unmodified\n"
"vhost-user daemon listening on PATH serve its queues.  The daemon maps\n"
"the guest's RAM itself; after the driver's DRIVER_OK no queue\n"
"notification, interrupt or buffer passes through this program (on\n"
"virtio-mmio the driver's interrupt status read and acknowledgement do).\n"
"Works on any ioreq provider that offers MMIO, ioeventfds, irqfds and\n"
"guest-memory fds, and PCI config accesses and MSIs for virtio-pci or\n"
"interrupt lines for virtio-mmio.\n"
"\n"
"  -g, --guest ID        guest to serve (Xen domid, or the VMM's guest id)\n"
"  -P, --provider NAME   the guest's provider, xen or vmm (default:\n"
"                        $IOREQ_PROVIDER, else the one provider loaded)\n"
"  -G, --guest-fd FD     attach by the guest handle open at FD (a VMM's\n"
"                        IOREQ_VMM_GUEST_HANDLE), instead of --guest\n"
"  -s, --socket PATH     the daemon's vhost-user socket (it listens, we\n"
"                        connect; we reconnect when it restarts)\n"
"  -t, --type TYPE       blk (default; configuration from the daemon) or fs\n"
"                        (virtio-fs; needs --tag)\n"
"  -T, --tag TAG         virtio-fs tag the guest mounts (at most 36 bytes)\n"
"  -d, --sbdf SBDF       PCI function to claim, hex as lspci shows it\n"
"                        (default 0000:00:05.0)\n"
"  -b, --bar ADDR        BAR0 address where no firmware assigns one\n"
"                        (16 KiB, 32-bit MMIO); otherwise the guest's BAR\n"
"                        writes place it\n"
"  -m, --mmio ADDR:LINE  virtio-mmio instead of virtio-pci: 0x200 bytes of\n"
"                        registers at ADDR, interrupt LINE (an SPI on Arm;\n"
"                        xl's first virtio disk: 0x02000000:33)\n"
"  -q, --queues N        request queues for blk (default 1)\n"
"  -Q, --queue-size N    largest queue size offered (default %u)\n"
"  -r, --ram GPA:LEN     guest RAM range to give the daemon (repeatable);\n"
"                        default: the provider's memory map\n"
"                        (IOREQ_GET_MEMORY_MAP); needed on Xen\n"
"  -w, --wait SECS       retry attaching and connecting for SECS (default 30)\n"
"  -H, --hold PATH       survive our own crash: a holder listening on PATH\n"
"                        keeps the session and the device state; a frontend\n"
"                        started again with the same options adopts them and\n"
"                        the guest sees no reset (Documentation: virtio.rst)\n"
"  -K, --holder PATH     be that holder (run it before the frontend)\n"
"  -R, --grace SECS      the holder keeps a dead frontend's session this long\n"
"                        for a successor, then closes it (default 30)\n"
"  -v, --verbose         print every vhost-user message\n"
"  -h, --help            this text\n"
"\n"
"Start the daemon first, e.g.\n"
"  qemu-storage-daemon --blockdev driver=file,node-name=f0,filename=disk.img \\\n"
"    --export type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,\\\n"
"addr.path=/run/vhost.sock,writable=on\n"
"  ioreq-vhost --provider xen --guest 1 --socket /run/vhost.sock --sbdf 00:05.0\n"
"\n"
"SIGUSR1 prints the counters (\"records\" is every guest access that reached\n"
"this program; \"while running\" those while the driver had DRIVER_OK;\n"
"\"since the last DRIVER_OK\" those of the current driver alone).\n"
"Exit status: 0 when the guest went away or on SIGINT/SIGTERM, 1 on error,\n"
"2 on bad usage.\n", QUEUE_SIZE_MAX);
}

/* ---- little-endian byte images ------------------------------------------ */

static void put16(uint8_t *b, unsigned int off, uint16_t v)
{
	b[off] = v;
	b[off + 1] = v >> 8;
}

static void put32(uint8_t *b, unsigned int off, uint32_t v)
{
	put16(b, off, v);
	put16(b, off + 2, v >> 16);
}

static void put64(uint8_t *b, unsigned int off, uint64_t v)
{
	put32(b, off, v);
	put32(b, off + 4, v >> 32);
}

static uint16_t get16(const uint8_t *b, unsigned int off)
{
	return b[off] | b[off + 1] << 8;
}

static uint32_t get32(const uint8_t *b, unsigned int off)
{
	return get16(b, off) | (uint32_t)get16(b, off + 2) << 16;
}

static uint64_t get64(const uint8_t *b, unsigned int off)
{
	return get32(b, off) | (uint64_t)get32(b, off + 4) << 32;
}

uint64_t img_read(const uint8_t *b, size_t len, uint64_t off,
		  unsigned int size)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		if (off + i < len)
			v |= (uint64_t)b[off + i] << (8 * i);
	return v;
}

void img_write(uint8_t *b, size_t len, uint64_t off, unsigned int size,
	       uint64_t v)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		if (off + i < len)
			b[off + i] = v >> (8 * i);
}

/* Does the access [off, off + size) touch the field [f, f + flen)? */
static int touches(uint64_t off, unsigned int size, unsigned int f,
		   unsigned int flen)
{
	return off < f + flen && f < off + size;
}

/* ---- interrupts ------------------------------------------------------- */

static void set_intx(struct dev *d)
{
	int want = d->isr && !(d->command & PCI_COMMAND_INTX_DISABLE) &&
		   d->intx_mode;
	struct ioreq_inject in = { .size = sizeof(in) };

	if (want == d->intx)
		return;
	if (!(d->caps & IOREQ_CAP_IRQ_PCI_INTX)) {
		if (want)
			err("INTx needed but the provider has no PCI INTx");
		d->intx = want;
		return;
	}
	in.level = want;
	in.irq.kind = IOREQ_IRQ_PCI_INTX;
	in.irq.sbdf = d->sbdf;
	in.irq.pin = 0;
	if (ioctl(d->fd, IOREQ_INJECT_IRQ, &in))
		err("INTx %s: %s", want ? "assert" : "deassert",
		    strerror(errno));
	else if (want)
		d->intx_irqs++;
	d->intx = want;
}

static int irqfd(struct dev *d, int fd, const struct ioreq_irq *irq,
		 uint32_t flags)
{
	struct ioreq_irqfd f = { .size = sizeof(f), .flags = flags, .fd = fd };

	f.irq = *irq;
	return ioctl(d->fd, IOREQ_IRQFD, &f) ? -errno : 0;
}

/*
 * A Linux HVM guest of Xen programs each entry with a pirq (vector 0, the
 * pirq in the destination bits, xen_msi_compose_msg()), masks it through
 * its event channel and never clears the entry's mask bit
 * (pci_msi_ignore_mask).  As in QEMU's msix_vector_masked(), such an entry
 * counts as unmasked; vector 0 is never a deliverable x86 vector otherwise.
 */
static int entry_masked(const struct msix_entry *e)
{
	return (e->ctrl & MSIX_ENTRY_MASKED) && (e->data & 0xff);
}

/*
 * Make each queue's call fd match what the guest programmed: with MSI-X on,
 * an irqfd for the queue's vector unless it or the function is masked;
 * with MSI-X off, the call fds are polled here and raise INTx.  A signal
 * that arrives while a vector is masked stays in the eventfd and injects
 * once when the binding is made again (the pending bit, for free).
 */
static void update_irqs(struct dev *d)
{
	int msix = !!(d->msix_ctrl & MSIX_CTRL_ENABLE);
	unsigned int i;

	if (d->mmio_base) {
		mmio_update_irqs(d);
		return;
	}
	for (i = 0; i < d->nq; i++) {
		struct queue *q = &d->q[i];
		struct ioreq_irq want = { .kind = IOREQ_IRQ_MSI };
		int bind = 0, ret;

		if (msix && !(d->msix_ctrl & MSIX_CTRL_MASKALL) &&
		    q->vector < d->nvec &&
		    !entry_masked(&d->msix[q->vector])) {
			const struct msix_entry *e = &d->msix[q->vector];

			want.msi_addr = (uint64_t)e->addr_hi << 32 | e->addr_lo;
			want.msi_data = e->data;
			bind = 1;
		}
		if (q->irq_bound && (!bind || memcmp(&want, &q->irq,
						     sizeof(want)))) {
			ret = irqfd(d, q->call_fd, &q->irq,
				    IOREQ_IRQFD_DEASSIGN);
			if (ret)
				err("queue %u: irqfd deassign: %s", i,
				    strerror(-ret));
			q->irq_bound = 0;
			d->unbinds++;
		}
		if (bind && !q->irq_bound) {
			ret = irqfd(d, q->call_fd, &want, 0);
			if (ret) {
				err("queue %u: irqfd for MSI 0x%" PRIx64
				    "/0x%x: %s", i, (uint64_t)want.msi_addr,
				    want.msi_data, strerror(-ret));
			} else {
				q->irq = want;
				q->irq_bound = 1;
				d->binds++;
				if (d->verbose)
					info("queue %u: irqfd -> MSI 0x%" PRIx64
					     "/0x%x", i, (uint64_t)want.msi_addr,
					     want.msi_data);
			}
		}
		/* INTx: poll the call fd ourselves. */
		if ((!msix) != q->polled) {
			struct epoll_event ev = { .events = EPOLLIN,
						  .data.u64 = 0x100 + i };

			if (epoll_ctl(d->epfd, msix ? EPOLL_CTL_DEL :
				      EPOLL_CTL_ADD, q->call_fd, &ev))
				err("epoll call fd: %s", strerror(errno));
			q->polled = !msix;
		}
	}
	d->intx_mode = !msix;
	set_intx(d);
}

/* INTx mode: the daemon signalled a call fd. */
static void call_fired(struct dev *d, unsigned int i)
{
	uint64_t v;

	if (read(d->q[i].call_fd, &v, sizeof(v)) != sizeof(v))
		return;
	d->isr |= 1;
	set_intx(d);
}

/*
 * The device configuration changed (a daemon restarted with a resized
 * disk): the configuration vector, or the ISR's configuration bit with
 * INTx.  A message for a masked vector is dropped: the driver rereads
 * config_generation anyway when it next looks.
 */
static void config_irq(struct dev *d)
{
	struct ioreq_inject in = { .size = sizeof(in), .level = 1 };
	const struct msix_entry *e;

	if (!(d->status & ST_DRIVER_OK))
		return;
	if (d->mmio_base) {
		mmio_config_irq(d);
		return;
	}
	d->isr |= 2;
	if (!(d->msix_ctrl & MSIX_CTRL_ENABLE)) {
		set_intx(d);
		return;
	}
	if ((d->msix_ctrl & MSIX_CTRL_MASKALL) || d->msix_config >= d->nvec)
		return;
	e = &d->msix[d->msix_config];
	if (entry_masked(e))
		return;
	in.irq.kind = IOREQ_IRQ_MSI;
	in.irq.msi_addr = (uint64_t)e->addr_hi << 32 | e->addr_lo;
	in.irq.msi_data = e->data;
	if (ioctl(d->fd, IOREQ_INJECT_IRQ, &in))
		err("configuration interrupt: %s", strerror(errno));
}

/* ---- vhost-user: start, stop, reconnect -------------------------------- */

static int get_ram(struct dev *d)
{
	struct ioreq_memory_range r[MAX_RANGES];
	unsigned int i;

	if (d->nr_ram && d->ram[0].fd >= 0)
		return 0;
	if (!d->ram_given) {
		struct ioreq_memory_map map = {
			.size = sizeof(map), .nr_ranges = MAX_RANGES,
			.ranges = (uintptr_t)r,
		};

		if (ioctl(d->fd, IOREQ_GET_MEMORY_MAP, &map)) {
			err("IOREQ_GET_MEMORY_MAP: %s%s", strerror(errno),
			    errno == EOPNOTSUPP ? " (give --ram)" : "");
			return -errno;
		}
		if (map.nr_ranges > MAX_RANGES) {
			err("the guest has %u memory ranges, at most %u are"
			    " supported", map.nr_ranges, MAX_RANGES);
			return -E2BIG;
		}
		for (i = 0; i < map.nr_ranges; i++) {
			d->ram[i].gpa = r[i].gpa;
			d->ram[i].size = r[i].len;
		}
		d->nr_ram = map.nr_ranges;
	}
	if (!d->nr_ram) {
		err("the guest has no memory to give the daemon");
		return -ENXIO;
	}
	for (i = 0; i < d->nr_ram; i++) {
		struct ioreq_guest_memory_fd g = {
			.size = sizeof(g), .gpa = d->ram[i].gpa,
			.len = d->ram[i].size,
		};

		if (ioctl(d->fd, IOREQ_GUEST_MEMORY_FD, &g)) {
			int ret = -errno;

			err("IOREQ_GUEST_MEMORY_FD 0x%" PRIx64 "+0x%" PRIx64
			    ": %s", d->ram[i].gpa, d->ram[i].size,
			    strerror(-ret));
			while (i--) {
				close(d->ram[i].fd);
				d->ram[i].fd = -1;
			}
			return ret;
		}
		d->ram[i].fd = g.fd;
		d->ram[i].uaddr = d->ram[i].gpa + QVA_BIAS;
		d->ram[i].mmap_offset = 0;
		info("RAM 0x%" PRIx64 "+0x%" PRIx64 ": guest-memory fd",
		     d->ram[i].gpa, d->ram[i].size);
	}
	return 0;
}

static int used_idx(struct dev *d, struct queue *q, uint16_t *idx)
{
	struct ioreq_guest_rw rw = {
		.size = sizeof(rw), .addr = q->device + 2, .len = 2,
		.buf = (uintptr_t)idx,
	};

	return ioctl(d->fd, IOREQ_READ_GUEST, &rw) ? -errno : 0;
}

/*
 * QEMU's vhost_dev_start(), in its order.  @replay: the daemon restarted;
 * the rings go on from the used index the guest sees, and every queue is
 * kicked once, since the dead daemon may have consumed the last kick.
 */
static int vhost_start(struct dev *d, int replay)
{
	struct vu_conn *c = &d->vu;
	unsigned int i;
	int ret;

	ret = get_ram(d);
	if (ret)
		return ret;
	ret = vu_set_u64(c, VU_SET_FEATURES, d->guest_features |
			 (1ULL << VU_F_PROTOCOL_FEATURES));
	if (!ret)
		ret = vu_set_mem_table(c, d->ram, d->nr_ram);
	for (i = 0; !ret && i < d->nq; i++) {
		struct queue *q = &d->q[i];
		struct vu_vring_addr a = {
			.index = i,
			.desc = q->desc + QVA_BIAS,
			.avail = q->driver + QVA_BIAS,
			.used = q->device + QVA_BIAS,
			.log = q->device,
		};
		uint16_t base = 0;

		if (!q->enable)
			continue;
		if (replay) {
			ret = used_idx(d, q, &base);
			if (ret) {
				err("queue %u: reading used->idx at 0x%" PRIx64
				    ": %s", i, q->device + 2, strerror(-ret));
				break;
			}
		}
		ret = vu_set_vring(c, VU_SET_VRING_NUM, i, q->size);
		if (!ret)
			ret = vu_set_vring(c, VU_SET_VRING_BASE, i, base);
		if (!ret)
			ret = vu_set_vring_addr(c, &a);
		if (!ret)
			ret = vu_set_vring_fd(c, VU_SET_VRING_KICK, i,
					      q->kick_fd);
		if (!ret)
			ret = vu_set_vring_fd(c, VU_SET_VRING_CALL, i,
					      q->call_fd);
		if (!ret) {
			q->started = 1;
			if (replay)
				info("queue %u: restarted at used idx %u", i,
				     base);
		}
	}
	for (i = 0; !ret && i < d->nq; i++)
		if (d->q[i].started)
			ret = vu_set_vring(c, VU_SET_VRING_ENABLE, i, 1);
	if (ret) {
		err("vhost-user start: %s", strerror(-ret));
		return ret;
	}
	/*
	 * And one interrupt per queue: requests the daemon completed while
	 * nobody held its connection (a frontend restart) may have lost
	 * theirs.  A driver takes a spurious one as "nothing new".
	 */
	for (i = 0; replay && i < d->nq; i++) {
		uint64_t one = 1;

		if (!d->q[i].started)
			continue;
		if (write(d->q[i].kick_fd, &one, sizeof(one)) != sizeof(one))
			err("queue %u: re-kick: %s", i, strerror(errno));
		if (write(d->q[i].call_fd, &one, sizeof(one)) != sizeof(one))
			err("queue %u: re-signal: %s", i, strerror(errno));
	}
	d->vhost_up = 1;
	d->starts++;
	return 0;
}

static void disconnected(struct dev *d, const char *why);

/*
 * A start that broke the socket is replayed at the reconnect; one the
 * daemon refused (or no guest memory to give it) needs a device reset.
 */
static int start_or_fail(struct dev *d, int replay)
{
	int ret = vhost_start(d, replay);

	if (!ret)
		return 0;
	if (ret == -EREMOTEIO || ret == -ENXIO || ret == -E2BIG ||
	    ret == -EOPNOTSUPP || (ret == -EPROTO && !replay)) {
		d->status |= ST_NEEDS_RESET;
		d->started = 0;
		err("the device needs a reset");
	}
	disconnected(d, strerror(-ret));
	return ret;
}

/* Try to connect every RECONNECT_MS from now on (reconnect()). */
static void reconnect_later(struct dev *d)
{
	struct itimerspec its = {
		.it_interval.tv_nsec = RECONNECT_MS * 1000000L,
		.it_value.tv_nsec = RECONNECT_MS * 1000000L,
	};

	clock_gettime(CLOCK_MONOTONIC, &d->lost_at);
	timerfd_settime(d->timer_fd, 0, &its, NULL);
}

static void disconnected(struct dev *d, const char *why)
{
	unsigned int i;

	if (d->vu.fd < 0)
		return;
	info("daemon connection lost (%s); reconnecting every %d ms", why,
	     RECONNECT_MS);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->vu.fd, NULL);
	vu_close(&d->vu);
	d->vhost_up = 0;
	for (i = 0; i < d->nq; i++)
		d->q[i].started = 0;
	reconnect_later(d);
}

/* GET_VRING_BASE stops each ring; the daemon closes its kick and call fds. */
static void vhost_stop(struct dev *d)
{
	unsigned int i;
	uint32_t base;
	int ret;

	for (i = 0; i < d->nq; i++) {
		if (!d->q[i].started)
			continue;
		d->q[i].started = 0;
		if (d->vu.fd < 0)
			continue;
		ret = vu_get_vring_base(&d->vu, i, &base);
		if (ret) {
			disconnected(d, strerror(-ret));
			continue;
		}
		if (d->verbose)
			info("queue %u: stopped at avail idx %u", i, base);
	}
	if (d->vhost_up)
		d->stops++;
	d->vhost_up = 0;
}

/* Connect and do what every start needs; fetch the blk configuration. */
static int vhost_connect(struct dev *d)
{
	int ret;

	ret = vu_connect(&d->vu, d->socket);
	if (ret)
		return ret;
	ret = vu_handshake(&d->vu, d->type == VIRTIO_ID_BLOCK);
	if (!ret && d->type == VIRTIO_ID_BLOCK) {
		uint8_t cfg[BLK_CONFIG_LEN];

		ret = vu_get_config(&d->vu, cfg, sizeof(cfg));
		if (!ret) {
			put16(cfg, BLK_NUM_QUEUES, d->nq ? d->nq : 1);
			int changed = d->nq &&
				      memcmp(cfg, d->devcfg, sizeof(cfg));

			memcpy(d->devcfg, cfg, sizeof(cfg));
			if (changed) {
				d->generation++;
				info("the daemon's configuration changed");
				config_irq(d);
			}
		}
	}
	if (ret) {
		vu_close(&d->vu);
		return ret;
	}
	return 0;
}

/* The first connection: retry for @wait_s while the daemon starts. */
static int vhost_connect_wait(struct dev *d, unsigned int wait_s)
{
	unsigned int tries;
	int ret;

	d->vu.fd = -1;
	d->vu.verbose = d->verbose;
	for (tries = 0;; tries++) {
		ret = vhost_connect(d);
		if (!ret || tries >= wait_s * 10)
			break;
		usleep(100000);
	}
	if (ret)
		err("connecting to %s: %s", d->socket, strerror(-ret));
	return ret;
}

static void add_epoll(struct dev *d, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev))
		err("epoll_ctl: %s", strerror(errno));
}

#define TAG_IOREQ	1
#define TAG_SOCKET	2
#define TAG_TIMER	3
#define TAG_SIGNAL	4

static void reconnect(struct dev *d)
{
	struct itimerspec off = { 0 };
	struct timespec now;
	uint64_t exp;
	int ret;

	if (read(d->timer_fd, &exp, sizeof(exp)) < 0 || d->vu.fd >= 0)
		return;
	ret = vhost_connect(d);
	if (ret)
		return;
	if (d->started) {
		/* the timer keeps running: disconnected() is a no-op then */
		ret = vhost_start(d, 1);
		if (ret) {
			unsigned int i;

			for (i = 0; i < d->nq; i++)
				d->q[i].started = 0;
			vu_close(&d->vu);
			return;
		}
	}
	timerfd_settime(d->timer_fd, 0, &off, NULL);
	add_epoll(d, d->vu.fd, TAG_SOCKET);
	d->reconnects++;
	clock_gettime(CLOCK_MONOTONIC, &now);
	info("reconnected to %s after %ld ms%s", d->socket,
	     (now.tv_sec - d->lost_at.tv_sec) * 1000 +
	     (now.tv_nsec - d->lost_at.tv_nsec) / 1000000,
	     d->started ? ", queues restarted and kicked" : "");
}

/* ---- the device -------------------------------------------------------- */

static void reset_queues(struct dev *d)
{
	unsigned int i;

	for (i = 0; i < d->nq; i++) {
		struct queue *q = &d->q[i];

		q->size = d->qmax;
		q->vector = VIRTIO_NO_VECTOR;
		q->enable = 0;
		q->desc = q->driver = q->device = 0;
	}
}

static void device_reset(struct dev *d)
{
	if (d->status & ST_DRIVER_OK)
		info("driver stopped: %" PRIu64 " records since its DRIVER_OK",
		     d->records_run);
	if (d->started || d->vhost_up)
		vhost_stop(d);
	d->started = 0;
	d->guest_features = 0;
	d->dfselect = d->gfselect = 0;
	d->msix_config = VIRTIO_NO_VECTOR;
	d->qsel = 0;
	d->status = 0;
	d->isr = 0;
	reset_queues(d);
	update_irqs(d);
	info("device reset");
}

void set_status(struct dev *d, uint8_t v)
{
	uint8_t old = d->status;

	if (!v) {
		device_reset(d);
		return;
	}
	if ((v & ST_FEATURES_OK) && !(old & ST_FEATURES_OK)) {
		if ((d->guest_features & ~d->host_features) ||
		    !(d->guest_features & (1ULL << F_VERSION_1))) {
			info("driver features 0x%" PRIx64 " refused (offered"
			     " 0x%" PRIx64 ")", d->guest_features,
			     d->host_features);
			v &= ~ST_FEATURES_OK;
		}
	}
	d->status = v;
	if ((v & ST_DRIVER_OK) && !(old & ST_DRIVER_OK) && !(v & ST_FAILED)) {
		d->started = 1;
		d->records_run = 0;
		info("DRIVER_OK: features 0x%" PRIx64 ", starting the daemon",
		     d->guest_features);
		if (d->vu.fd < 0)
			info("daemon not connected: starting when it is");
		else
			start_or_fail(d, 0);
	}
	if ((v & ST_FAILED) && d->started) {
		vhost_stop(d);
		d->started = 0;
	}
}

static void common_image(struct dev *d, uint8_t *b)
{
	struct queue *q = d->qsel < d->nq ? &d->q[d->qsel] : NULL;

	memset(b, 0, COMMON_LEN);
	put32(b, 0x00, d->dfselect);
	put32(b, 0x04, d->dfselect < 2 ?
	      (uint32_t)(d->host_features >> (32 * d->dfselect)) : 0);
	put32(b, 0x08, d->gfselect);
	put32(b, 0x0c, d->gfselect < 2 ?
	      (uint32_t)(d->guest_features >> (32 * d->gfselect)) : 0);
	put16(b, 0x10, d->msix_config);
	put16(b, 0x12, d->nq);
	b[0x14] = d->status;
	b[0x15] = d->generation;
	put16(b, 0x16, d->qsel);
	if (!q)
		return;
	put16(b, 0x18, q->size);
	put16(b, 0x1a, q->vector);
	put16(b, 0x1c, q->enable);
	put16(b, 0x1e, d->qsel);	/* queue_notify_off */
	put64(b, 0x20, q->desc);
	put64(b, 0x28, q->driver);
	put64(b, 0x30, q->device);
}

static void common_write(struct dev *d, uint64_t off, unsigned int size,
			 uint64_t val)
{
	uint8_t b[COMMON_LEN];
	struct queue *q;

	common_image(d, b);
	img_write(b, sizeof(b), off, size, val);
	if (touches(off, size, 0x00, 4))
		d->dfselect = get32(b, 0x00);
	if (touches(off, size, 0x08, 4))
		d->gfselect = get32(b, 0x08);
	if (touches(off, size, 0x0c, 4) && d->gfselect < 2 &&
	    !(d->status & ST_FEATURES_OK)) {
		unsigned int sh = 32 * d->gfselect;

		d->guest_features &= ~(0xffffffffULL << sh);
		d->guest_features |= (uint64_t)get32(b, 0x0c) << sh;
	}
	if (touches(off, size, 0x10, 2)) {
		d->msix_config = get16(b, 0x10);
		if (d->msix_config >= d->nvec)
			d->msix_config = VIRTIO_NO_VECTOR;
	}
	if (touches(off, size, 0x16, 2))
		d->qsel = get16(b, 0x16);
	q = d->qsel < d->nq ? &d->q[d->qsel] : NULL;
	if (q && touches(off, size, 0x18, 2)) {
		uint16_t s = get16(b, 0x18);

		/* a power of two up to the maximum, else keep it */
		if (s && s <= d->qmax && !(s & (s - 1)))
			q->size = s;
	}
	if (q && touches(off, size, 0x1a, 2)) {
		q->vector = get16(b, 0x1a);
		if (q->vector >= d->nvec)
			q->vector = VIRTIO_NO_VECTOR;
		update_irqs(d);
	}
	if (q && touches(off, size, 0x1c, 2) && get16(b, 0x1c) == 1)
		q->enable = 1;
	if (q && touches(off, size, 0x20, 8))
		q->desc = get64(b, 0x20);
	if (q && touches(off, size, 0x28, 8))
		q->driver = get64(b, 0x28);
	if (q && touches(off, size, 0x30, 8))
		q->device = get64(b, 0x30);
	/* status last: a write reaching it sets it after the rest */
	if (touches(off, size, 0x14, 1))
		set_status(d, b[0x14]);
}

static void devcfg_init(struct dev *d)
{
	memset(d->devcfg, 0, sizeof(d->devcfg));
	if (d->type == VIRTIO_ID_FS) {
		strncpy((char *)d->devcfg, d->tag, FS_TAG_LEN);
		put32(d->devcfg, FS_TAG_LEN, d->nq - 1);
	}
}

static uint64_t bar_read(struct dev *d, uint64_t off, unsigned int size)
{
	uint8_t b[COMMON_LEN];
	uint64_t v;

	if (off + size <= COMMON_OFF + COMMON_LEN) {
		common_image(d, b);
		return img_read(b, sizeof(b), off, size);
	}
	if (off >= ISR_OFF && off < ISR_OFF + ISR_LEN) {
		/* reading ISR acknowledges the interrupt */
		v = off == ISR_OFF ? d->isr : 0;
		d->isr = 0;
		set_intx(d);
		return v;
	}
	if (off >= DEVCFG_OFF && off < DEVCFG_OFF + DEVCFG_LEN)
		return img_read(d->devcfg, sizeof(d->devcfg), off - DEVCFG_OFF,
				size);
	if (off >= MSIX_OFF && off < MSIX_OFF + d->nvec * 16) {
		uint8_t t[MAX_VECTORS * 16];
		unsigned int i;

		for (i = 0; i < d->nvec; i++) {
			put32(t, i * 16, d->msix[i].addr_lo);
			put32(t, i * 16 + 4, d->msix[i].addr_hi);
			put32(t, i * 16 + 8, d->msix[i].data);
			put32(t, i * 16 + 12, d->msix[i].ctrl);
		}
		return img_read(t, d->nvec * 16, off - MSIX_OFF, size);
	}
	/* notify area, PBA (pending signals wait in the eventfds), holes */
	return 0;
}

static void bar_write(struct dev *d, uint64_t off, unsigned int size,
		      uint64_t val)
{
	if (off < COMMON_OFF + COMMON_LEN) {
		common_write(d, off, size, val);
		return;
	}
	if (off >= NOTIFY_OFF && off < NOTIFY_OFF + d->nq * NOTIFY_MULT) {
		/* a notify the ioeventfd did not take: pass it on */
		unsigned int i = (off - NOTIFY_OFF) / NOTIFY_MULT;
		uint64_t one = 1;

		d->notify_records++;
		if (write(d->q[i].kick_fd, &one, sizeof(one)) < 0)
			err("kick: %s", strerror(errno));
		return;
	}
	if (off >= MSIX_OFF && off < MSIX_OFF + d->nvec * 16) {
		unsigned int i = (off - MSIX_OFF) / 16;
		uint8_t t[16];

		put32(t, 0, d->msix[i].addr_lo);
		put32(t, 4, d->msix[i].addr_hi);
		put32(t, 8, d->msix[i].data);
		put32(t, 12, d->msix[i].ctrl);
		img_write(t, sizeof(t), off - MSIX_OFF - i * 16, size, val);
		d->msix[i].addr_lo = get32(t, 0);
		d->msix[i].addr_hi = get32(t, 4);
		d->msix[i].data = get32(t, 8);
		d->msix[i].ctrl = get32(t, 12) & MSIX_ENTRY_MASKED;
		/* a subsequent access of a multi-part write completes it */
		update_irqs(d);
	}
	/* device config writes (no writable fields offered), ISR: dropped */
}

/* ---- PCI configuration space -------------------------------------------- */

static void vcap(uint8_t *c, unsigned int at, unsigned int next,
		 unsigned int len, unsigned int type, uint32_t off,
		 uint32_t flen)
{
	c[at] = PCI_CAP_ID_VNDR;
	c[at + 1] = next;
	c[at + 2] = len;
	c[at + 3] = type;
	c[at + 4] = 0;		/* BAR0 */
	put32(c, at + 8, off);
	put32(c, at + 12, flen);
}

static void config_image(struct dev *d, uint8_t *c)
{
	memset(c, 0, 256);
	put16(c, 0x00, PCI_VENDOR_VIRTIO);
	put16(c, 0x02, PCI_DEVICE_VIRTIO_BASE + d->type);
	put16(c, 0x04, d->command);
	put16(c, 0x06, PCI_STATUS_CAP_LIST | (d->intx ? PCI_STATUS_INTERRUPT :
						0));
	c[0x08] = 1;			/* revision: modern only */
	c[0x0a] = d->type == VIRTIO_ID_FS ? 0x80 : 0x00;
	c[0x0b] = 0x01;			/* mass storage */
	put32(c, 0x10, d->bar0);	/* 32-bit, non-prefetchable */
	put16(c, 0x2c, PCI_VENDOR_VIRTIO);
	put16(c, 0x2e, 0x1100);
	c[0x34] = CAP_COMMON;
	c[0x3c] = d->intline;
	c[0x3d] = 1;			/* INTA# */

	vcap(c, CAP_COMMON, CAP_NOTIFY, 16, VIRTIO_PCI_CAP_COMMON_CFG,
	     COMMON_OFF, COMMON_LEN);
	vcap(c, CAP_NOTIFY, CAP_ISR, 20, VIRTIO_PCI_CAP_NOTIFY_CFG,
	     NOTIFY_OFF, d->nq * NOTIFY_MULT);
	put32(c, CAP_NOTIFY + 16, NOTIFY_MULT);
	vcap(c, CAP_ISR, CAP_DEVICE, 16, VIRTIO_PCI_CAP_ISR_CFG, ISR_OFF,
	     ISR_LEN);
	vcap(c, CAP_DEVICE, CAP_PCICFG, 16, VIRTIO_PCI_CAP_DEVICE_CFG,
	     DEVCFG_OFF, DEVCFG_LEN);
	vcap(c, CAP_PCICFG, CAP_MSIX, 20, VIRTIO_PCI_CAP_PCI_CFG,
	     d->pcicfg_off, d->pcicfg_len);
	c[CAP_PCICFG + 4] = d->pcicfg_bar;
	c[CAP_MSIX] = PCI_CAP_ID_MSIX;
	c[CAP_MSIX + 1] = 0;
	put16(c, CAP_MSIX + 2, (d->nvec - 1) | d->msix_ctrl);
	put32(c, CAP_MSIX + 4, MSIX_OFF);	/* BIR 0 */
	put32(c, CAP_MSIX + 8, PBA_OFF);
}

static void update_bar(struct dev *d)
{
	uint64_t addr = d->bar0;
	int want = (d->command & PCI_COMMAND_MEMORY) && addr &&
		   addr != (uint32_t)~(BAR_SIZE - 1);
	unsigned int i;
	int ret;

	if (d->bar_claimed && (!want || d->bar_addr != addr)) {
		/* its ioeventfds go with it */
		ret = ioreq_release(d->fd, d->bar_id);
		if (ret)
			err("releasing BAR0: %s", strerror(-ret));
		d->bar_claimed = 0;
		info("BAR0 at 0x%" PRIx64 " released", d->bar_addr);
	}
	if (!want || d->bar_claimed)
		return;
	ret = ioreq_claim(d->fd, IOREQ_SPACE_MMIO, addr, BAR_SIZE, 0, RGN_BAR,
			  &d->bar_id);
	if (ret) {
		err("claiming BAR0 at 0x%" PRIx64 ": %s", addr, strerror(-ret));
		return;
	}
	d->bar_claimed = 1;
	d->bar_addr = addr;
	for (i = 0; i < d->nq; i++) {
		struct ioreq_ioeventfd e = {
			.size = sizeof(e), .fd = d->q[i].kick_fd,
			.space = IOREQ_SPACE_MMIO, .len = 2,
			.addr = addr + NOTIFY_OFF + i * NOTIFY_MULT,
		};

		if (ioctl(d->fd, IOREQ_IOEVENTFD, &e))
			err("queue %u: ioeventfd at 0x%" PRIx64 ": %s", i,
			    (uint64_t)e.addr, strerror(errno));
	}
	info("BAR0 at 0x%" PRIx64 " (16 KiB), %u notify ioeventfd%s", addr,
	     d->nq, d->nq == 1 ? "" : "s");
}

static uint64_t config_read(struct dev *d, uint64_t reg, unsigned int size)
{
	uint8_t c[256];

	if (reg >= CAP_PCICFG + 16 && reg < CAP_PCICFG + 20) {
		/* VIRTIO_PCI_CAP_PCI_CFG window into BAR0 */
		if (d->pcicfg_bar || !d->pcicfg_len ||
		    d->pcicfg_off + d->pcicfg_len > BAR_SIZE)
			return 0;
		return bar_read(d, d->pcicfg_off, d->pcicfg_len);
	}
	if (reg >= 256)
		return 0;
	config_image(d, c);
	return img_read(c, sizeof(c), reg, size);
}

static void config_write(struct dev *d, uint64_t reg, unsigned int size,
			 uint64_t val)
{
	uint8_t c[256];

	if (reg >= CAP_PCICFG + 16 && reg < CAP_PCICFG + 20) {
		if (!d->pcicfg_bar && d->pcicfg_len &&
		    d->pcicfg_off + d->pcicfg_len <= BAR_SIZE &&
		    (d->pcicfg_len == 1 || d->pcicfg_len == 2 ||
		     d->pcicfg_len == 4))
			bar_write(d, d->pcicfg_off, d->pcicfg_len, val);
		return;
	}
	if (reg >= 256)
		return;
	config_image(d, c);
	img_write(c, sizeof(c), reg, size, val);
	if (touches(reg, size, 0x04, 2)) {
		d->command = get16(c, 0x04) & (PCI_COMMAND_IO |
			PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			PCI_COMMAND_INTX_DISABLE);
		update_bar(d);
		set_intx(d);
	}
	if (touches(reg, size, 0x10, 4)) {
		d->bar0 = get32(c, 0x10) & ~(uint32_t)(BAR_SIZE - 1);
		update_bar(d);
	}
	if (touches(reg, size, 0x3c, 1))
		d->intline = c[0x3c];
	if (touches(reg, size, CAP_PCICFG + 4, 1))
		d->pcicfg_bar = c[CAP_PCICFG + 4];
	if (touches(reg, size, CAP_PCICFG + 8, 4))
		d->pcicfg_off = get32(c, CAP_PCICFG + 8);
	if (touches(reg, size, CAP_PCICFG + 12, 4))
		d->pcicfg_len = get32(c, CAP_PCICFG + 12);
	if (touches(reg, size, CAP_MSIX + 2, 2)) {
		d->msix_ctrl = get16(c, CAP_MSIX + 2) &
			       (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
		update_irqs(d);
	}
}

/* ---- surviving a restart (--hold) ----------------------------------------- */

static void save_state(struct dev *d)
{
	uint32_t next;

	if (!d->saved)
		return;
	next = !d->saved->cur;
	memcpy(d->saved->copy[next], (uint8_t *)d + SAVED_FIRST, SAVED_SPAN);
	/* pairs with the acquire in adopt(): the copy before its index */
	__atomic_store_n(&d->saved->cur, next, __ATOMIC_RELEASE);
}

static int saved_map(struct dev *d, int fd)
{
	void *p = mmap(NULL, sizeof(struct saved), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	d->saved = p;
	d->saved_fd = fd;
	return 0;
}

/* A fresh start: the state memfd, then everything to the holder. */
static int hold_fresh(struct dev *d)
{
	int fds[2 + 2 * MAX_QUEUES];
	unsigned int i, n = 0;
	int fd, ret;

	fd = memfd_create("ioreq-vhost-state", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, sizeof(struct saved))) {
		err("state memfd: %s", strerror(errno));
		return -errno;
	}
	ret = saved_map(d, fd);
	if (ret) {
		err("mapping the state memfd: %s", strerror(-ret));
		return ret;
	}
	d->saved->magic = SAVED_MAGIC;
	d->saved->span = SAVED_SPAN;
	save_state(d);
	fds[n++] = d->fd;
	fds[n++] = d->saved_fd;
	for (i = 0; i < d->nq; i++) {
		fds[n++] = d->q[i].kick_fd;
		fds[n++] = d->q[i].call_fd;
	}
	ret = hold_keep(d->hold_sock, fds, n);
	if (ret)
		err("handing the session to the holder: %s", strerror(-ret));
	else
		info("the holder at %s keeps the session", d->hold);
	return ret;
}

/*
 * A successor: the session, the device state and the queues' eventfds from
 * the holder.  The regions, ioeventfds and irqfds are the session's and
 * still in place; requests the dead frontend took and never answered come
 * again (IOREQ_REDELIVER); the daemon, which dropped the dead frontend's
 * connection, is connected and started again from the used indexes in
 * guest memory, as after a daemon restart.
 */
static int adopt(struct dev *d, int *fds, unsigned int n)
{
	struct ioreq_info gi = { .size = sizeof(gi) };
	struct ioreq_redeliver rd = { .size = sizeof(rd) };
	unsigned int i;
	uint32_t cur;
	int ret;

	d->fd = fds[0];
	ret = n >= 2 ? saved_map(d, fds[1]) : -EPROTO;
	if (ret || d->saved->magic != SAVED_MAGIC ||
	    d->saved->span != SAVED_SPAN) {
		err("the holder's state is not this program's (another"
		    " version?)");
		return -EPROTO;
	}
	/* pairs with the release in save_state() */
	cur = __atomic_load_n(&d->saved->cur, __ATOMIC_ACQUIRE);
	memcpy((uint8_t *)d + SAVED_FIRST, d->saved->copy[cur & 1],
	       SAVED_SPAN);
	if (d->nq > MAX_QUEUES || n != 2 + 2 * d->nq) {
		err("the holder gave %u descriptors for %u queues", n, d->nq);
		return -EPROTO;
	}
	for (i = 0; i < d->nq; i++) {
		d->q[i].kick_fd = fds[2 + 2 * i];
		d->q[i].call_fd = fds[3 + 2 * i];
		d->q[i].started = 0;
		d->q[i].polled = 0;	/* not in this process's epoll set */
	}
	if (ioctl(d->fd, IOREQ_GET_INFO, &gi) ||
	    gi.provider == IOREQ_PROVIDER_NONE) {
		err("the held session is not attached");
		return -EPROTO;
	}
	d->caps = gi.caps;
	/* as set_status() left it: the daemon should run */
	d->started = (d->status & ST_DRIVER_OK) &&
		     !(d->status & (ST_FAILED | ST_NEEDS_RESET));
	if (!(d->caps & IOREQ_CAP_REDELIVER)) {
		err("the kernel cannot redeliver requests (no"
		    " IOREQ_CAP_REDELIVER)");
		return -EOPNOTSUPP;
	}
	if (ioctl(d->fd, IOREQ_REDELIVER, &rd)) {
		ret = -errno;
		err("IOREQ_REDELIVER: %s%s", strerror(-ret),
		    ret == -ENODEV ? " (the guest is gone)" : "");
		return ret;
	}
	info("adopted the session of guest %" PRIu64 " from the holder:"
	     " status 0x%x, %u queue%s, %u request%s taken back",
	     (uint64_t)gi.guest_id,
	     d->status, d->nq, d->nq == 1 ? "" : "s", rd.count,
	     rd.count == 1 ? "" : "s");
	d->guest_id = gi.guest_id;
	/* briefly: the guest's accesses wait for us meanwhile */
	ret = vhost_connect_wait(d, 1);
	if (ret) {
		/* serve the guest meanwhile; the daemon may be restarting */
		info("reconnecting every %d ms", RECONNECT_MS);
		reconnect_later(d);
		return 0;
	}
	if (d->started)
		start_or_fail(d, 1);
	save_state(d);
	return 0;
}

static int handle(struct ioreq_cmd *cmd, void *priv)
{
	struct dev *d = priv;

	d->records++;
	if (d->status & ST_DRIVER_OK) {
		d->records_running++;
		d->records_run++;
	}
	if (cmd->user_data == RGN_CONFIG) {
		if (cmd->op == IOREQ_OP_READ)
			cmd->data = config_read(d, cmd->offset, cmd->size);
		else
			config_write(d, cmd->offset, cmd->size, cmd->data);
	} else if (cmd->user_data == RGN_MMIO) {
		if (cmd->op == IOREQ_OP_READ)
			cmd->data = mmio_read(d, cmd->offset, cmd->size);
		else
			mmio_write(d, cmd->offset, cmd->size, cmd->data);
	} else {
		if (cmd->op == IOREQ_OP_READ)
			cmd->data = bar_read(d, cmd->offset, cmd->size);
		else
			bar_write(d, cmd->offset, cmd->size, cmd->data);
	}
	if (cmd->op == IOREQ_OP_READ)
		cmd->data &= ioreq_size_mask(cmd->size);
	if (d->verbose)
		info("%s %s %u at 0x%" PRIx64 ": 0x%" PRIx64,
		     cmd->user_data == RGN_CONFIG ? "config" :
		     cmd->user_data == RGN_MMIO ? "mmio" : "BAR0",
		     ioreq_op_name(cmd->op), cmd->size, (uint64_t)cmd->offset,
		     (uint64_t)cmd->data);
	/* before the response: a successor redoes what was not saved */
	save_state(d);
	return IOREQ_RESPOND;
}

static void stats(struct dev *d)
{
	info("stats: records %" PRIu64 " (%" PRIu64 " while running, %"
	     PRIu64 " since the last DRIVER_OK, %" PRIu64 " notify), starts %"
	     PRIu64 ", stops %" PRIu64 ", reconnects %" PRIu64
	     ", irqfd binds %" PRIu64 "/unbinds %" PRIu64 ", INTx %" PRIu64,
	     d->records, d->records_running, d->records_run,
	     d->notify_records, d->starts, d->stops, d->reconnects, d->binds,
	     d->unbinds, d->intx_irqs);
}

/* ---- setup and main loop ------------------------------------------------- */

static int parse_sbdf(const char *s, uint32_t *sbdf)
{
	unsigned int seg = 0, bus, dev, fn;
	char end;

	if (sscanf(s, "%x:%x:%x.%x%c", &seg, &bus, &dev, &fn, &end) != 4) {
		seg = 0;
		if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &end) != 3)
			return -EINVAL;
	}
	if (seg > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	*sbdf = seg << 16 | bus << 8 | dev << 3 | fn;
	return 0;
}

static int setup(struct dev *d, unsigned int wait_s)
{
	uint64_t need = IOREQ_CAP_MMIO | IOREQ_CAP_IOEVENTFD |
			IOREQ_CAP_IRQFD | IOREQ_CAP_GUEST_MEMORY |
			IOREQ_CAP_GUEST_MEMORY_FD;
	struct ioreq_attach at;
	char caps[256];
	unsigned int i, tries;
	int ret;

	if (d->hold) {
		int fds[HOLD_MAX_FDS];

		d->hold_sock = hold_connect(d->hold, wait_s);
		if (d->hold_sock < 0) {
			err("connecting to the holder at %s: %s", d->hold,
			    strerror(-d->hold_sock));
			return d->hold_sock;
		}
		ret = hold_greeting(d->hold_sock, fds, HOLD_MAX_FDS);
		if (ret < 0) {
			err("the holder at %s: %s", d->hold, strerror(-ret));
			return ret;
		}
		if (ret)
			return adopt(d, fds, ret);
	}
	d->fd = ioreq_open(NULL);
	if (d->fd < 0) {
		err("opening /dev/ioreq: %s", strerror(-d->fd));
		return d->fd;
	}
	for (tries = 0;; tries++) {
		if (d->guest_fd >= 0)
			ret = ioreq_attach_handle(d->fd, d->provider,
						  d->guest_fd, &at);
		else
			ret = ioreq_attach(d->fd, d->provider, d->guest_id,
					   &at);
		if (ret != -ESRCH || tries >= wait_s * 10)
			break;
		usleep(100000);
	}
	if (ret) {
		if (d->guest_fd >= 0)
			err("attaching by the guest handle at fd %d: %s",
			    d->guest_fd, strerror(-ret));
		else
			err("attaching to %s guest %" PRIu64 ": %s%s",
			    ioreq_provider_name(d->provider), d->guest_id,
			    strerror(-ret), ret == -EPERM ?
			    " (attaching by number needs CAP_SYS_ADMIN; an unprivileged frontend takes a guest handle, --guest-fd)" : "");
		return ret;
	}
	if (d->guest_fd >= 0)
		close(d->guest_fd);
	d->caps = at.caps;
	/* virtio-mmio: one interrupt line; virtio-pci: config space, MSI */
	need |= d->mmio_base ? IOREQ_CAP_IRQ_LINE :
		IOREQ_CAP_PCI_CONFIG | IOREQ_CAP_IRQ_MSI;
	if ((d->caps & need) != need) {
		ioreq_caps_str(need & ~d->caps, caps, sizeof(caps));
		err("the guest's provider lacks: %s", caps);
		return -EOPNOTSUPP;
	}

	/* the daemon first: blk's configuration space comes from it */
	ret = vhost_connect_wait(d, wait_s);
	if (ret)
		return ret;
	if (d->type == VIRTIO_ID_BLOCK) {
		d->nq = d->want_queues;
		if (d->nq > d->vu.queues) {
			err("--queues %u: the daemon serves %u", d->nq,
			    d->vu.queues);
			return -EINVAL;
		}
		put16(d->devcfg, BLK_NUM_QUEUES, d->nq);
	} else {
		d->nq = d->vu.queues;
		if (d->nq < 2) {
			err("virtio-fs needs 2 queues, the daemon has %u",
			    d->nq);
			return -EPROTO;
		}
		devcfg_init(d);
	}
	if (d->nq > MAX_QUEUES) {
		err("%u queues: at most %u supported", d->nq, MAX_QUEUES);
		return -E2BIG;
	}
	d->nvec = d->nq + 1;
	d->host_features = d->vu.features & ~((1ULL << F_NOTIFY_ON_EMPTY) |
		(1ULL << F_LOG_ALL) | (1ULL << VU_F_PROTOCOL_FEATURES) |
		(1ULL << F_ACCESS_PLATFORM) | (1ULL << F_RING_PACKED) |
		(1ULL << F_SR_IOV) | (1ULL << F_NOTIFICATION_DATA) |
		(1ULL << F_RING_RESET) | (1ULL << F_ADMIN_VQ));
	if (d->type == VIRTIO_ID_BLOCK) {
		d->host_features &= ~(1ULL << BLK_F_CONFIG_WCE);
		if (d->nq == 1)
			d->host_features &= ~(1ULL << BLK_F_MQ);
	}
	if (!(d->host_features & (1ULL << F_VERSION_1))) {
		err("the daemon does not offer VIRTIO_F_VERSION_1");
		return -EPROTO;
	}
	for (i = 0; i < d->nq; i++) {
		d->q[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		d->q[i].call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->q[i].kick_fd < 0 || d->q[i].call_fd < 0) {
			err("eventfd: %s", strerror(errno));
			return -errno;
		}
	}
	for (i = 0; i < d->nvec; i++)
		d->msix[i].ctrl = MSIX_ENTRY_MASKED;
	d->msix_config = VIRTIO_NO_VECTOR;
	reset_queues(d);
	info("daemon at %s: features 0x%" PRIx64 ", protocol 0x%" PRIx64
	     ", %u queue%s; offering 0x%" PRIx64, d->socket, d->vu.features,
	     d->vu.protocol, d->nq, d->nq == 1 ? "" : "s", d->host_features);

	if (d->mmio_base) {
		ret = mmio_setup(d);
		if (ret)
			return ret;
		return d->hold ? hold_fresh(d) : 0;
	}
	ret = ioreq_claim(d->fd, IOREQ_SPACE_PCI_CONFIG, (uint64_t)d->sbdf << 32,
			  0x1000, 0, RGN_CONFIG, NULL);
	if (ret) {
		err("claiming PCI %04x:%02x:%02x.%x: %s", d->sbdf >> 16,
		    (d->sbdf >> 8) & 0xff, (d->sbdf >> 3) & 0x1f, d->sbdf & 7,
		    strerror(-ret));
		return ret;
	}
	info("virtio-%s at PCI %04x:%02x:%02x.%x, guest %" PRIu64,
	     d->type == VIRTIO_ID_BLOCK ? "blk" : "fs", d->sbdf >> 16,
	     (d->sbdf >> 8) & 0xff, (d->sbdf >> 3) & 0x1f, d->sbdf & 7,
	     d->guest_id);
	if (d->preset_bar) {
		d->bar0 = d->preset_bar;
		update_bar(d);
	}
	return d->hold ? hold_fresh(d) : 0;
}

static int loop(struct dev *d, int sfd)
{
	struct ioreq_cmd buf[IOREQ_BATCH_MAX];
	struct epoll_event ev[8];
	int n, i, ret;

	add_epoll(d, d->fd, TAG_IOREQ);
	if (d->vu.fd >= 0)
		add_epoll(d, d->vu.fd, TAG_SOCKET);
	add_epoll(d, d->timer_fd, TAG_TIMER);
	add_epoll(d, sfd, TAG_SIGNAL);
	update_irqs(d);
	while (running) {
		n = epoll_wait(d->epfd, ev, 8, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err("epoll_wait: %s", strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64;

			if (tag == TAG_IOREQ) {
				ret = ioreq_serve_batch(d->fd, buf,
							IOREQ_BATCH_MAX,
							handle, d, NULL);
				if (ret == -ENODEV) {
					info("the guest is gone");
					running = 0;
				} else if (ret < 0 && ret != -EAGAIN &&
					   ret != -EINTR) {
					err("serving: %s", strerror(-ret));
					return 1;
				}
			} else if (tag == TAG_SOCKET) {
				/*
				 * No back-end requests were negotiated:
				 * anything readable is EOF or an error.
				 */
				disconnected(d, ev[i].events & EPOLLHUP ?
					     "hang-up" : "unexpected data");
			} else if (tag == TAG_TIMER) {
				reconnect(d);
			} else if (tag == TAG_SIGNAL) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGUSR1) {
					stats(d);
				} else {
					info("signal %u: stopping",
					     si.ssi_signo);
					running = 0;
				}
			} else if (tag >= 0x100 && tag < 0x100 + d->nq) {
				call_fired(d, tag - 0x100);
			}
		}
		save_state(d);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "provider", required_argument, NULL, 'P' },
		{ "guest-fd", required_argument, NULL, 'G' },
		{ "socket", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "tag", required_argument, NULL, 'T' },
		{ "sbdf", required_argument, NULL, 'd' },
		{ "bar", required_argument, NULL, 'b' },
		{ "mmio", required_argument, NULL, 'm' },
		{ "queues", required_argument, NULL, 'q' },
		{ "queue-size", required_argument, NULL, 'Q' },
		{ "ram", required_argument, NULL, 'r' },
		{ "wait", required_argument, NULL, 'w' },
		{ "hold", required_argument, NULL, 'H' },
		{ "holder", required_argument, NULL, 'K' },
		{ "grace", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct dev dev;
	struct dev *d = &dev;
	uint64_t v, wait_s = 30, grace_s = 30;
	const char *holder = NULL;
	int have_guest = 0, sbdf_given = 0, opt, sfd, rc;
	sigset_t set;

	d->type = VIRTIO_ID_BLOCK;
	d->guest_fd = -1;
	d->want_queues = 1;
	d->qmax = QUEUE_SIZE_MAX;
	d->sbdf = 5 << 3;
	d->msix_config = VIRTIO_NO_VECTOR;
	d->hold_sock = -1;
	d->saved_fd = -1;
	while ((opt = getopt_long(argc, argv, "g:P:G:s:t:T:d:b:m:q:Q:r:w:H:K:R:vh",
				  opts, NULL)) != -1) {
		switch (opt) {
		case 'g':
			if (ioreq_parse_u64(optarg, &d->guest_id))
				goto bad;
			have_guest = 1;
			break;
		case 'P':
			d->provider = ioreq_provider_parse(optarg);
			if (d->provider == IOREQ_PROVIDER_NONE)
				goto bad;
			break;
		case 'G':
			if (ioreq_parse_u64(optarg, &v) || v > INT32_MAX)
				goto bad;
			d->guest_fd = (int)v;
			break;
		case 's':
			d->socket = optarg;
			break;
		case 't':
			if (!strcmp(optarg, "blk"))
				d->type = VIRTIO_ID_BLOCK;
			else if (!strcmp(optarg, "fs"))
				d->type = VIRTIO_ID_FS;
			else
				goto bad;
			break;
		case 'T':
			if (!*optarg || strlen(optarg) > FS_TAG_LEN)
				goto bad;
			d->tag = optarg;
			break;
		case 'd':
			if (parse_sbdf(optarg, &d->sbdf))
				goto bad;
			sbdf_given = 1;
			break;
		case 'b':
			if (ioreq_parse_u64(optarg, &v) || !v ||
			    v > 0xffffffffULL || (v & (BAR_SIZE - 1)))
				goto bad;
			d->preset_bar = v;
			break;
		case 'm':
			if (mmio_parse(d, optarg))
				goto bad;
			break;
		case 'q':
			if (ioreq_parse_u64(optarg, &v) || !v ||
			    v > MAX_QUEUES)
				goto bad;
			d->want_queues = v;
			break;
		case 'Q':
			if (ioreq_parse_u64(optarg, &v) || !v || v > 32768 ||
			    (v & (v - 1)))
				goto bad;
			d->qmax = v;
			break;
		case 'r':
			if (d->nr_ram >= MAX_RANGES ||
			    ioreq_parse_range(optarg, &d->ram[d->nr_ram].gpa,
					      &d->ram[d->nr_ram].size) ||
			    ((d->ram[d->nr_ram].gpa |
			      d->ram[d->nr_ram].size) & 0xfff))
				goto bad;
			d->ram[d->nr_ram++].fd = -1;
			d->ram_given = 1;
			break;
		case 'w':
			if (ioreq_parse_u64(optarg, &wait_s) || wait_s > 86400)
				goto bad;
			break;
		case 'H':
			d->hold = optarg;
			break;
		case 'K':
			holder = optarg;
			break;
		case 'R':
			if (ioreq_parse_u64(optarg, &grace_s) ||
			    grace_s > 86400)
				goto bad;
			break;
		case 'v':
			d->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (holder) {
		if (optind != argc || have_guest || d->guest_fd >= 0 ||
		    d->socket || d->hold) {
			usage(stderr);
			return 2;
		}
		return holder_main(holder, grace_s);
	}
	if (optind != argc || have_guest == (d->guest_fd >= 0) || !d->socket ||
	    (d->type == VIRTIO_ID_FS && !d->tag) ||
	    (d->type != VIRTIO_ID_FS && d->tag) ||
	    (d->mmio_base && (d->preset_bar || sbdf_given))) {
		usage(stderr);
		return 2;
	}
	/* Handles are made by the userspace-hypervisor provider alone. */
	if (d->provider == IOREQ_PROVIDER_NONE)
		d->provider = d->guest_fd >= 0 ? IOREQ_PROVIDER_VMM :
						 ioreq_provider_default();
	if (d->provider == IOREQ_PROVIDER_NONE) {
		err("which provider is guest %" PRIu64 "'s? Give --provider xen or vmm (or set IOREQ_PROVIDER)",
		    d->guest_id);
		return 2;
	}
	if (!d->ram_given)
		d->ram[0].fd = -1;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || d->epfd < 0 || d->timer_fd < 0) {
		err("setup: %s", strerror(errno));
		return 1;
	}
	if (setup(d, wait_s))
		return 1;
	rc = loop(d, sfd);
	stats(d);
	vu_close(&d->vu);
	/* a clean exit ends the session; an error leaves it to a successor */
	if (!rc && d->hold_sock >= 0) {
		int ret = hold_drop(d->hold_sock);

		if (ret)
			err("telling the holder: %s", strerror(-ret));
	}
	return rc;

bad:
	err("bad argument for -%c: %s", opt, optarg);
	usage(stderr);
	return 2;
}
