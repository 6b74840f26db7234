/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioreq-vhost: what its transports share.  The device model, the
 * vhost-user side and virtio-pci are in ioreq-vhost.c, virtio-mmio in
 * virtio_mmio.c; both drive the one struct dev.
 */
#ifndef IOREQ_VHOST_H
#define IOREQ_VHOST_H

#include <stdint.h>
#include <time.h>

#include "libioreq.h"
#include "vhost_user.h"

#define VIRTIO_NO_VECTOR	0xffff
#define DEVCFG_LEN	0x100	/* the device configuration we serve */

/* Device status */
#define ST_ACKNOWLEDGE	1
#define ST_DRIVER	2
#define ST_DRIVER_OK	4
#define ST_FEATURES_OK	8
#define ST_NEEDS_RESET	0x40
#define ST_FAILED	0x80

/* Feature bits */
#define F_NOTIFY_ON_EMPTY	24
#define F_LOG_ALL		26
#define F_VERSION_1		32
#define F_ACCESS_PLATFORM	33
#define F_RING_PACKED		34
#define F_SR_IOV		37
#define F_NOTIFICATION_DATA	38
#define F_RING_RESET		40
#define F_ADMIN_VQ		41
#define BLK_F_CONFIG_WCE	11
#define BLK_F_MQ		12

#define VIRTIO_ID_BLOCK	2
#define VIRTIO_ID_FS	26

#define BLK_CONFIG_LEN	60	/* struct virtio_blk_config */
#define BLK_NUM_QUEUES	34	/* its num_queues */
#define FS_TAG_LEN	36

#define MAX_QUEUES	16
#define MAX_VECTORS	(MAX_QUEUES + 1)
#define MAX_RANGES	VU_MAX_REGIONS
#define QUEUE_SIZE_MAX	256

/* The "frontend virtual address" of a GPA, told to the daemon only. */
#define QVA_BIAS	0x7f0000000000ULL

/* Region user_data */
#define RGN_CONFIG	0
#define RGN_BAR		1
#define RGN_MMIO	2	/* the virtio-mmio window (virtio_mmio.c) */

#define RECONNECT_MS	100

struct queue {
	uint16_t size;
	uint16_t vector;
	uint16_t enable;
	uint64_t desc, driver, device;
	int kick_fd;		/* ioeventfd on the notify address: kick fd */
	int call_fd;		/* irqfd (MSI-X) or polled (INTx): call fd */
	int started;		/* given to the daemon */
	int irq_bound;		/* call_fd is an irqfd for @irq */
	struct ioreq_irq irq;
	int polled;		/* call_fd in the epoll set (INTx) */
};

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct dev {
	/* options */
	uint64_t guest_id;
	uint32_t provider;	/* IOREQ_PROVIDER_* */
	int guest_fd;		/* --guest-fd: a guest handle, or -1 */
	const char *socket;
	int type;		/* VIRTIO_ID_* */
	uint32_t sbdf;
	uint64_t preset_bar;	/* --bar */
	const char *tag;
	unsigned int want_queues;
	uint16_t qmax;
	struct vu_region ram[MAX_RANGES];	/* --ram, then fds */
	unsigned int nr_ram;
	int ram_given;
	int verbose;
	const char *hold;	/* --hold: the holder's socket */

	int hold_sock;		/* connection to the holder, or -1 */
	struct saved *saved;	/* the device state a successor adopts */
	int saved_fd;		/* its memfd */

	int fd;			/* /dev/ioreq session */
	uint64_t caps;
	int epfd;

	/* PCI configuration space */
	uint16_t command;
	uint32_t bar0;
	uint8_t intline;
	uint8_t pcicfg_bar;
	uint32_t pcicfg_off, pcicfg_len;
	uint16_t msix_ctrl;
	struct msix_entry msix[MAX_VECTORS];
	unsigned int nvec;
	int bar_claimed;
	uint32_t bar_id;
	uint64_t bar_addr;

	/* common configuration */
	uint64_t host_features, guest_features;
	uint32_t dfselect, gfselect;
	uint16_t msix_config;
	uint8_t status;
	uint8_t generation;
	uint16_t qsel;
	uint8_t isr;
	int intx;		/* INTx asserted */
	int intx_mode;		/* MSI-X off: we poll the call fds */
	uint8_t devcfg[DEVCFG_LEN];
	unsigned int nq;
	struct queue q[MAX_QUEUES];

	/* virtio-mmio (--mmio, virtio_mmio.c) instead of virtio-pci */
	uint64_t mmio_base;	/* the register window's address, or 0 */
	uint32_t mmio_spi;	/* its interrupt, a line (an SPI on Arm) */
	uint32_t mmio_shmsel;	/* SHMSel: no region is offered */

	/* vhost-user */
	struct vu_conn vu;
	int started;		/* DRIVER_OK and not reset: daemon should run */
	int vhost_up;		/* the daemon got the start */
	int timer_fd;		/* reconnect retries */
	struct timespec lost_at;

	/* counters */
	uint64_t records, records_running, starts, stops, reconnects;
	uint64_t intx_irqs, binds, unbinds, notify_records;
	uint64_t records_run;	/* while running, since the last DRIVER_OK */
};

/* ioreq-vhost.c */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t img_read(const uint8_t *b, size_t len, uint64_t off,
		  unsigned int size);
void img_write(uint8_t *b, size_t len, uint64_t off, unsigned int size,
	       uint64_t v);
void set_status(struct dev *d, uint8_t v);

/* virtio_mmio.c */
int mmio_parse(struct dev *d, const char *arg);
int mmio_setup(struct dev *d);
void mmio_update_irqs(struct dev *d);
void mmio_config_irq(struct dev *d);
uint64_t mmio_read(struct dev *d, uint64_t off, unsigned int size);
void mmio_write(struct dev *d, uint64_t off, unsigned int size, uint64_t val);

#endif
