// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-user frontend messages for ioreq-vhost (see vhost_user.h).
 *
 * Every call is synchronous: a message, then its reply where the protocol
 * has one, or the REPLY_ACK answer when the daemon offered REPLY_ACK.  A
 * reply that does not come within VU_TIMEOUT_S counts as a broken socket.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "vhost_user.h"

#define VU_TIMEOUT_S	10
#define VU_HDR		12

struct vu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct {
			uint32_t index;
			uint32_t num;
		} state;
		struct vu_vring_addr addr;
		struct {
			uint32_t nregions;
			uint32_t padding;
			struct {
				uint64_t gpa;
				uint64_t size;
				uint64_t uaddr;
				uint64_t mmap_offset;
			} r[VU_MAX_REGIONS];
		} mem;
		struct {
			uint32_t offset;
			uint32_t size;
			uint32_t flags;
			uint8_t region[VU_MAX_CONFIG];
		} config;
	} p;
} __attribute__((packed));

static const char *const names[] = {
	[VU_GET_FEATURES] = "GET_FEATURES",
	[VU_SET_FEATURES] = "SET_FEATURES",
	[VU_SET_OWNER] = "SET_OWNER",
	[VU_RESET_OWNER] = "RESET_OWNER",
	[VU_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VU_SET_VRING_NUM] = "SET_VRING_NUM",
	[VU_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VU_SET_VRING_BASE] = "SET_VRING_BASE",
	[VU_GET_VRING_BASE] = "GET_VRING_BASE",
	[VU_SET_VRING_KICK] = "SET_VRING_KICK",
	[VU_SET_VRING_CALL] = "SET_VRING_CALL",
	[VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VU_GET_CONFIG] = "GET_CONFIG",
	[VU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
};

const char *vu_request_name(unsigned int req)
{
	if (req < sizeof(names) / sizeof(names[0]) && names[req])
		return names[req];
	return "?";
}

int vu_connect(struct vu_conn *c, const char *path)
{
	struct timeval tv = { .tv_sec = VU_TIMEOUT_S };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	c->messages = 0;
	return 0;
}

void vu_close(struct vu_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int need_ack(const struct vu_conn *c)
{
	return !!(c->acked_protocol & (1ULL << VU_PF_REPLY_ACK));
}

static int vu_send(struct vu_conn *c, struct vu_msg *m, const int *fds,
		   unsigned int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * VU_MAX_REGIONS)];
	struct iovec iov = { .iov_base = m, .iov_len = VU_HDR + m->size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	m->flags |= VU_FLAG_VERSION;
	if (nfds) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	if (c->verbose)
		printf("ioreq-vhost:   -> %-22s size %3u fds %u%s\n",
		       vu_request_name(m->request), m->size, nfds,
		       m->flags & VU_FLAG_NEED_REPLY ? " (need reply)" : "");
	do {
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	if ((size_t)n != iov.iov_len)
		return -EIO;
	c->messages++;
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -ECONNRESET;
		done += n;
	}
	return 0;
}

static int vu_recv(struct vu_conn *c, uint32_t request, struct vu_msg *m)
{
	int ret;

	ret = read_full(c->fd, m, VU_HDR);
	if (ret)
		return ret;
	if (m->size > sizeof(m->p))
		return -EPROTO;
	ret = read_full(c->fd, &m->p, m->size);
	if (ret)
		return ret;
	if (c->verbose)
		printf("ioreq-vhost:   <- %-22s size %3u u64 0x%llx\n",
		       vu_request_name(m->request), m->size,
		       m->size >= 8 ? (unsigned long long)m->p.u64 : 0ULL);
	if (m->request != request || !(m->flags & VU_FLAG_REPLY))
		return -EPROTO;
	return 0;
}

/* Send; wait for the REPLY_ACK answer if the daemon acks. */
static int vu_call(struct vu_conn *c, struct vu_msg *m, const int *fds,
		   unsigned int nfds)
{
	struct vu_msg r;
	int ret;

	if (need_ack(c))
		m->flags |= VU_FLAG_NEED_REPLY;
	ret = vu_send(c, m, fds, nfds);
	if (ret || !need_ack(c))
		return ret;
	ret = vu_recv(c, m->request, &r);
	if (ret)
		return ret;
	if (r.size != 8)
		return -EPROTO;
	return r.p.u64 ? -EREMOTEIO : 0;
}

static int vu_get_u64(struct vu_conn *c, enum vu_request req, uint64_t *val)
{
	struct vu_msg m = { .request = req };
	int ret;

	ret = vu_send(c, &m, NULL, 0);
	if (!ret)
		ret = vu_recv(c, req, &m);
	if (ret)
		return ret;
	if (m.size != 8)
		return -EPROTO;
	*val = m.p.u64;
	return 0;
}

int vu_set_u64(struct vu_conn *c, enum vu_request req, uint64_t val)
{
	struct vu_msg m = { .request = req, .size = 8, .p.u64 = val };

	return vu_call(c, &m, NULL, 0);
}

/*
 * What QEMU's vhost_user_backend_init() and vhost_dev_init() do: features,
 * protocol features (only those ioreq-vhost uses), the queue count, owner.
 */
int vu_handshake(struct vu_conn *c, int want_config)
{
	uint64_t pf = (1ULL << VU_PF_MQ) | (1ULL << VU_PF_REPLY_ACK);
	struct vu_msg m = { .request = VU_SET_OWNER };
	int ret;

	c->acked_protocol = 0;
	c->queues = 1;
	ret = vu_get_u64(c, VU_GET_FEATURES, &c->features);
	if (ret)
		return ret;
	if (!(c->features & (1ULL << VU_F_PROTOCOL_FEATURES)))
		return -EPROTONOSUPPORT;
	ret = vu_get_u64(c, VU_GET_PROTOCOL_FEATURES, &c->protocol);
	if (ret)
		return ret;
	if (want_config)
		pf |= 1ULL << VU_PF_CONFIG;
	pf &= c->protocol;
	ret = vu_set_u64(c, VU_SET_PROTOCOL_FEATURES, pf);
	if (ret)
		return ret;
	/* From here on, messages without a reply are acked. */
	c->acked_protocol = pf;
	if (pf & (1ULL << VU_PF_MQ)) {
		uint64_t q;

		ret = vu_get_u64(c, VU_GET_QUEUE_NUM, &q);
		if (ret)
			return ret;
		if (!q || q > 1024)
			return -EPROTO;
		c->queues = q;
	}
	return vu_call(c, &m, NULL, 0);
}

int vu_get_config(struct vu_conn *c, void *buf, uint32_t size)
{
	struct vu_msg m = { .request = VU_GET_CONFIG, .size = 12 + size };
	int ret;

	if (size > VU_MAX_CONFIG)
		return -EINVAL;
	if (!(c->acked_protocol & (1ULL << VU_PF_CONFIG)))
		return -EOPNOTSUPP;
	m.p.config.size = size;
	ret = vu_send(c, &m, NULL, 0);
	if (!ret)
		ret = vu_recv(c, VU_GET_CONFIG, &m);
	if (ret)
		return ret;
	if (m.size != 12 + size || m.p.config.size != size)
		return -EPROTO;
	memcpy(buf, m.p.config.region, size);
	return 0;
}

int vu_set_mem_table(struct vu_conn *c, const struct vu_region *r,
		     unsigned int n)
{
	struct vu_msg m = { .request = VU_SET_MEM_TABLE };
	int fds[VU_MAX_REGIONS];
	unsigned int i;

	if (!n || n > VU_MAX_REGIONS)
		return -E2BIG;
	m.p.mem.nregions = n;
	for (i = 0; i < n; i++) {
		m.p.mem.r[i].gpa = r[i].gpa;
		m.p.mem.r[i].size = r[i].size;
		m.p.mem.r[i].uaddr = r[i].uaddr;
		m.p.mem.r[i].mmap_offset = r[i].mmap_offset;
		fds[i] = r[i].fd;
	}
	m.size = 8 + n * sizeof(m.p.mem.r[0]);
	return vu_call(c, &m, fds, n);
}

int vu_set_vring(struct vu_conn *c, enum vu_request req, uint32_t index,
		 uint32_t num)
{
	struct vu_msg m = { .request = req, .size = 8 };

	m.p.state.index = index;
	m.p.state.num = num;
	return vu_call(c, &m, NULL, 0);
}

int vu_set_vring_addr(struct vu_conn *c, const struct vu_vring_addr *a)
{
	struct vu_msg m = { .request = VU_SET_VRING_ADDR,
			    .size = sizeof(*a) };

	m.p.addr = *a;
	return vu_call(c, &m, NULL, 0);
}

int vu_set_vring_fd(struct vu_conn *c, enum vu_request req, uint32_t index,
		    int fd)
{
	struct vu_msg m = { .request = req, .size = 8 };

	m.p.u64 = index & VU_VRING_IDX_MASK;
	if (fd < 0)
		m.p.u64 |= VU_VRING_NOFD;
	return vu_call(c, &m, fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1);
}

/* Stops the ring; the daemon answers with the next avail index it would use. */
int vu_get_vring_base(struct vu_conn *c, uint32_t index, uint32_t *base)
{
	struct vu_msg m = { .request = VU_GET_VRING_BASE, .size = 8 };
	int ret;

	m.p.state.index = index;
	ret = vu_send(c, &m, NULL, 0);
	if (!ret)
		ret = vu_recv(c, VU_GET_VRING_BASE, &m);
	if (ret)
		return ret;
	if (m.size != 8)
		return -EPROTO;
	*base = m.p.state.num;
	return 0;
}
