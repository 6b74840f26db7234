// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq-vhost's virtio-mmio transport (virtio 1.2, 4.2.2: version 2, the
 * "modern" register layout), for guests that find their devices in a
 * device tree rather than on a PCI bus: a Xen on Arm domU whose xl
 * configuration has a disk with specification=virtio (libxl gives it
 * 0x200 bytes at GUEST_VIRTIO_MMIO_BASE and an edge-triggered SPI from 33).
 *
 * The window is one IOREQ_SPACE_MMIO region of 0x200 bytes: the registers
 * below 0x100, the device configuration from 0x100.  QueueNotify has one
 * IOREQ_IOEVENTFD per queue (4-byte writes of the queue's index), the
 * queue's kick fd in the daemon.  Every queue's call fd is bound with
 * IOREQ_IRQFD to the device's one interrupt line, so a completion raises
 * it without this process.  What the driver then reads in InterruptStatus
 * cannot say whether a completion came (the irqfd consumed the signal in
 * the kernel): once the driver is running the "used buffer" bit always
 * reads 1, which makes the driver look at its queues on every interrupt,
 * as it does for each one anyway; the configuration bit is ours and is
 * cleared by InterruptACK.  The driver's status read and acknowledgement
 * in its interrupt handler are the transport's cost per interrupt: two
 * guest accesses that reach this program, as with any virtio-mmio device.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "ioreq-vhost.h"

#define MMIO_LEN	0x200	/* what libxl gives each device */

/* Registers (all 32-bit) */
#define MMIO_MAGIC		0x000	/* "virt" */
#define MMIO_VERSION		0x004
#define MMIO_DEVICE_ID		0x008
#define MMIO_VENDOR_ID		0x00c
#define MMIO_DEV_FEATURES	0x010
#define MMIO_DEV_FEATURES_SEL	0x014
#define MMIO_DRV_FEATURES	0x020
#define MMIO_DRV_FEATURES_SEL	0x024
#define MMIO_QUEUE_SEL		0x030
#define MMIO_QUEUE_NUM_MAX	0x034
#define MMIO_QUEUE_NUM		0x038
#define MMIO_QUEUE_READY	0x044
#define MMIO_QUEUE_NOTIFY	0x050
#define MMIO_INT_STATUS		0x060
#define MMIO_INT_ACK		0x064
#define MMIO_STATUS		0x070
#define MMIO_QUEUE_DESC_LO	0x080
#define MMIO_QUEUE_DESC_HI	0x084
#define MMIO_QUEUE_DRIVER_LO	0x090
#define MMIO_QUEUE_DRIVER_HI	0x094
#define MMIO_QUEUE_DEVICE_LO	0x0a0
#define MMIO_QUEUE_DEVICE_HI	0x0a4
#define MMIO_SHM_SEL		0x0ac
#define MMIO_SHM_LEN_LO		0x0b0
#define MMIO_SHM_LEN_HI		0x0b4
#define MMIO_SHM_BASE_LO	0x0b8
#define MMIO_SHM_BASE_HI	0x0bc
#define MMIO_CONFIG_GEN		0x0fc
#define MMIO_CONFIG		0x100

#define MMIO_MAGIC_VALUE	0x74726976
#define MMIO_VENDOR		0x1af4	/* as virtio-pci's vendor */

#define INT_USED		0x1	/* InterruptStatus: used buffer */
#define INT_CONFIG		0x2	/* configuration change */

/* --mmio BASE:LINE */
int mmio_parse(struct dev *d, const char *arg)
{
	uint64_t base, line;

	if (ioreq_parse_range(arg, &base, &line) || !base ||
	    (base & (MMIO_LEN - 1)) || line > UINT32_MAX)
		return -EINVAL;
	d->mmio_base = base;
	d->mmio_spi = line;
	return 0;
}

static struct ioreq_irq mmio_irq(const struct dev *d)
{
	struct ioreq_irq irq = { .kind = IOREQ_IRQ_LINE, .line = d->mmio_spi };

	return irq;
}

/*
 * Each queue's call fd raises the line, bound once for the session: a
 * signal comes only from a running daemon, and a reset stops that.
 */
void mmio_update_irqs(struct dev *d)
{
	unsigned int i;

	for (i = 0; i < d->nq; i++) {
		struct queue *q = &d->q[i];
		struct ioreq_irqfd f = {
			.size = sizeof(f), .fd = q->call_fd, .irq = mmio_irq(d),
		};

		if (q->irq_bound)
			continue;
		if (ioctl(d->fd, IOREQ_IRQFD, &f)) {
			err("queue %u: irqfd for line %u: %s", i, d->mmio_spi,
			    strerror(errno));
			continue;
		}
		q->irq = f.irq;
		q->irq_bound = 1;
		d->binds++;
	}
}

/* The configuration changed: InterruptStatus says so, and an edge. */
void mmio_config_irq(struct dev *d)
{
	struct ioreq_inject in = { .size = sizeof(in), .irq = mmio_irq(d) };

	d->isr |= INT_CONFIG;
	in.level = 1;
	if (ioctl(d->fd, IOREQ_INJECT_IRQ, &in)) {
		err("configuration interrupt: %s", strerror(errno));
		return;
	}
	in.level = 0;
	if (ioctl(d->fd, IOREQ_INJECT_IRQ, &in))
		err("configuration interrupt, deassert: %s", strerror(errno));
}

/* The window, its notify ioeventfds and the interrupt. */
int mmio_setup(struct dev *d)
{
	uint32_t id;
	unsigned int i;
	int ret;

	ret = ioreq_claim(d->fd, IOREQ_SPACE_MMIO, d->mmio_base, MMIO_LEN, 0,
			  RGN_MMIO, &id);
	if (ret) {
		err("claiming MMIO 0x%" PRIx64 "+0x%x: %s", d->mmio_base,
		    MMIO_LEN, strerror(-ret));
		return ret;
	}
	for (i = 0; i < d->nq; i++) {
		struct ioreq_ioeventfd e = {
			.size = sizeof(e), .flags = IOREQ_IOEVENTFD_DATAMATCH,
			.fd = d->q[i].kick_fd, .space = IOREQ_SPACE_MMIO,
			.addr = d->mmio_base + MMIO_QUEUE_NOTIFY, .len = 4,
			.datamatch = i,
		};

		if (ioctl(d->fd, IOREQ_IOEVENTFD, &e)) {
			ret = -errno;
			err("queue %u: ioeventfd at 0x%" PRIx64 ": %s", i,
			    (uint64_t)e.addr, strerror(-ret));
			return ret;
		}
	}
	mmio_update_irqs(d);
	for (i = 0; i < d->nq; i++)
		if (!d->q[i].irq_bound)
			return -EINVAL;
	info("virtio-%s at MMIO 0x%" PRIx64 " (0x%x bytes), line %u, %u notify"
	     " ioeventfd%s, guest %" PRIu64,
	     d->type == VIRTIO_ID_BLOCK ? "blk" : "fs", d->mmio_base, MMIO_LEN,
	     d->mmio_spi, d->nq, d->nq == 1 ? "" : "s", d->guest_id);
	return 0;
}

static struct queue *sel_queue(struct dev *d)
{
	return d->qsel < d->nq ? &d->q[d->qsel] : NULL;
}

/* The low or high half of a 64-bit queue address. */
static void set_half(uint64_t *a, int high, uint32_t v)
{
	if (high)
		*a = (*a & 0xffffffffULL) | (uint64_t)v << 32;
	else
		*a = (*a & ~0xffffffffULL) | v;
}

static uint32_t reg_read(struct dev *d, uint64_t off)
{
	struct queue *q = sel_queue(d);

	switch (off) {
	case MMIO_MAGIC:
		return MMIO_MAGIC_VALUE;
	case MMIO_VERSION:
		return 2;
	case MMIO_DEVICE_ID:
		return d->type;
	case MMIO_VENDOR_ID:
		return MMIO_VENDOR;
	case MMIO_DEV_FEATURES:
		return d->dfselect < 2 ?
		       (uint32_t)(d->host_features >> (32 * d->dfselect)) : 0;
	case MMIO_QUEUE_NUM_MAX:
		return q ? d->qmax : 0;
	case MMIO_QUEUE_READY:
		return q ? q->enable : 0;
	case MMIO_INT_STATUS:
		return (d->status & ST_DRIVER_OK ? INT_USED : 0) |
		       (d->isr & INT_CONFIG);
	case MMIO_STATUS:
		return d->status;
	case MMIO_QUEUE_DESC_LO:
	case MMIO_QUEUE_DESC_HI:
		return q ? q->desc >> (off & 4 ? 32 : 0) : 0;
	case MMIO_QUEUE_DRIVER_LO:
	case MMIO_QUEUE_DRIVER_HI:
		return q ? q->driver >> (off & 4 ? 32 : 0) : 0;
	case MMIO_QUEUE_DEVICE_LO:
	case MMIO_QUEUE_DEVICE_HI:
		return q ? q->device >> (off & 4 ? 32 : 0) : 0;
	case MMIO_SHM_LEN_LO:
	case MMIO_SHM_LEN_HI:
	case MMIO_SHM_BASE_LO:
	case MMIO_SHM_BASE_HI:
		/* a length of all ones: no such shared memory region */
		return 0xffffffff;
	case MMIO_CONFIG_GEN:
		return d->generation;
	}
	/* write-only registers and holes */
	return 0;
}

static void reg_write(struct dev *d, uint64_t off, uint32_t v)
{
	struct queue *q = sel_queue(d);

	switch (off) {
	case MMIO_DEV_FEATURES_SEL:
		d->dfselect = v;
		break;
	case MMIO_DRV_FEATURES:
		if (d->gfselect < 2 && !(d->status & ST_FEATURES_OK)) {
			unsigned int sh = 32 * d->gfselect;

			d->guest_features &= ~(0xffffffffULL << sh);
			d->guest_features |= (uint64_t)v << sh;
		}
		break;
	case MMIO_DRV_FEATURES_SEL:
		d->gfselect = v;
		break;
	case MMIO_QUEUE_SEL:
		d->qsel = v < d->nq ? v : d->nq;
		break;
	case MMIO_QUEUE_NUM:
		/* a power of two up to the maximum, else keep it */
		if (q && v && v <= d->qmax && !(v & (v - 1)))
			q->size = v;
		break;
	case MMIO_QUEUE_READY:
		if (q && v == 1)
			q->enable = 1;
		break;
	case MMIO_QUEUE_NOTIFY:
		/* a notify the ioeventfd did not take: pass it on */
		if (v < d->nq) {
			uint64_t one = 1;

			d->notify_records++;
			if (write(d->q[v].kick_fd, &one, sizeof(one)) < 0)
				err("kick: %s", strerror(errno));
		}
		break;
	case MMIO_INT_ACK:
		d->isr &= ~v;
		break;
	case MMIO_STATUS:
		set_status(d, v);
		break;
	case MMIO_QUEUE_DESC_LO:
	case MMIO_QUEUE_DESC_HI:
		if (q)
			set_half(&q->desc, off & 4, v);
		break;
	case MMIO_QUEUE_DRIVER_LO:
	case MMIO_QUEUE_DRIVER_HI:
		if (q)
			set_half(&q->driver, off & 4, v);
		break;
	case MMIO_QUEUE_DEVICE_LO:
	case MMIO_QUEUE_DEVICE_HI:
		if (q)
			set_half(&q->device, off & 4, v);
		break;
	case MMIO_SHM_SEL:
		d->mmio_shmsel = v;
		break;
	}
	/* read-only registers and holes: dropped */
}

/*
 * The registers take aligned 32-bit accesses only (the driver "MUST use
 * only 32 bit wide and aligned reads and writes", 4.2.2.2): others read 0
 * and are dropped.  The device configuration takes any.
 */
uint64_t mmio_read(struct dev *d, uint64_t off, unsigned int size)
{
	if (off >= MMIO_CONFIG)
		return img_read(d->devcfg, sizeof(d->devcfg), off - MMIO_CONFIG,
				size);
	if (size != 4 || (off & 3))
		return 0;
	return reg_read(d, off);
}

void mmio_write(struct dev *d, uint64_t off, unsigned int size, uint64_t val)
{
	/* device configuration writes: no writable field is offered */
	if (off >= MMIO_CONFIG || size != 4 || (off & 3))
		return;
	reg_write(d, off, val);
}
