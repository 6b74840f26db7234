/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The frontend ("master") side of the vhost-user protocol, as far as
 * ioreq-vhost needs it: one unix socket to an unmodified daemon
 * (qemu-storage-daemon, virtiofsd, DPDK, rust-vmm backends), messages with
 * file descriptors passed by SCM_RIGHTS, REPLY_ACK when the daemon has it.
 *
 * The message layout is the one of QEMU's docs/interop/vhost-user.rst:
 * a 12-byte header (request, flags, size) and a payload.
 */
#ifndef _IOREQ_VHOST_USER_H
#define _IOREQ_VHOST_USER_H

#include <stddef.h>
#include <stdint.h>

/* Requests, frontend to back-end */
enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_GET_CONFIG = 24,
	VU_GET_MAX_MEM_SLOTS = 36,
};

/* Header flags */
#define VU_FLAG_VERSION		0x1
#define VU_FLAG_REPLY		(1u << 2)
#define VU_FLAG_NEED_REPLY	(1u << 3)

/* Virtio feature bit that announces the protocol features */
#define VU_F_PROTOCOL_FEATURES	30

/* Protocol features */
#define VU_PF_MQ		0
#define VU_PF_LOG_SHMFD		1
#define VU_PF_REPLY_ACK		3
#define VU_PF_BACKEND_REQ	5
#define VU_PF_CONFIG		9
#define VU_PF_INFLIGHT_SHMFD	12
#define VU_PF_CONFIGURE_MEM_SLOTS 15

/* SET_VRING_KICK/CALL payload: the queue index, and "no fd" */
#define VU_VRING_IDX_MASK	0xffu
#define VU_VRING_NOFD		(1u << 8)

/* Regions in one SET_MEM_TABLE */
#define VU_MAX_REGIONS		8
/* Largest GET_CONFIG answer (QEMU's VHOST_USER_MAX_CONFIG_SIZE) */
#define VU_MAX_CONFIG		256

struct vu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;		/* "frontend virtual address": never mapped */
	uint64_t mmap_offset;
	int fd;
};

struct vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;		/* these three in frontend VAs */
	uint64_t used;
	uint64_t avail;
	uint64_t log;		/* guest-physical address of the used ring */
};

/**
 * struct vu_conn - one connection to a back-end
 * @fd: the socket, -1 when not connected
 * @features: GET_FEATURES answer
 * @protocol: GET_PROTOCOL_FEATURES answer
 * @acked_protocol: what was set with SET_PROTOCOL_FEATURES
 * @queues: GET_QUEUE_NUM answer (1 without MQ)
 * @verbose: print each message
 * @messages: messages sent since the connection was made
 */
struct vu_conn {
	int fd;
	uint64_t features;
	uint64_t protocol;
	uint64_t acked_protocol;
	uint32_t queues;
	int verbose;
	uint64_t messages;
};

/* All return 0 or -errno; -EPIPE/-ECONNRESET/-EIO when the socket broke. */
int vu_connect(struct vu_conn *c, const char *path);
void vu_close(struct vu_conn *c);
int vu_handshake(struct vu_conn *c, int want_config);
int vu_get_config(struct vu_conn *c, void *buf, uint32_t size);
int vu_set_u64(struct vu_conn *c, enum vu_request req, uint64_t val);
int vu_set_mem_table(struct vu_conn *c, const struct vu_region *r,
		     unsigned int n);
int vu_set_vring(struct vu_conn *c, enum vu_request req, uint32_t index,
		 uint32_t num);
int vu_set_vring_addr(struct vu_conn *c, const struct vu_vring_addr *a);
int vu_set_vring_fd(struct vu_conn *c, enum vu_request req, uint32_t index,
		    int fd);
int vu_get_vring_base(struct vu_conn *c, uint32_t index, uint32_t *base);
const char *vu_request_name(unsigned int req);

#endif /* _IOREQ_VHOST_USER_H */
