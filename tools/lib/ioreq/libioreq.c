// SPDX-License-Identifier: GPL-2.0
/*
 * libioreq: helpers for ioreq backends and hypervisor-side programs.
 * See libioreq.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libioreq.h"

static int open_dev(const char *path, const char *env, const char *dflt)
{
	int fd;

	if (!path)
		path = getenv(env);
	if (!path || !*path)
		path = dflt;
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int do_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int ioreq_open(const char *path)
{
	return open_dev(path, "IOREQ_DEV", IOREQ_DEV_PATH);
}

int ioreq_get_info(int fd, struct ioreq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return do_ioctl(fd, IOREQ_GET_INFO, info);
}

int ioreq_attach(int fd, uint32_t provider, uint64_t guest_id,
		 struct ioreq_attach *out)
{
	struct ioreq_attach at;
	int ret;

	memset(&at, 0, sizeof(at));
	at.size = sizeof(at);
	at.provider = provider;
	at.guest_id = guest_id;
	ret = do_ioctl(fd, IOREQ_ATTACH, &at);
	if (!ret && out)
		*out = at;
	return ret;
}

int ioreq_attach_handle(int fd, uint32_t provider, int handle,
			struct ioreq_attach *out)
{
	struct ioreq_attach at;
	int ret;

	if (handle < 0)
		return -EBADF;
	memset(&at, 0, sizeof(at));
	at.size = sizeof(at);
	at.flags = IOREQ_ATTACH_GUEST_FD;
	at.provider = provider;
	at.guest_id = (uint64_t)handle;
	ret = do_ioctl(fd, IOREQ_ATTACH, &at);
	if (!ret && out)
		*out = at;
	return ret;
}

uint32_t ioreq_provider_parse(const char *name)
{
	if (!strcmp(name, "xen"))
		return IOREQ_PROVIDER_XEN;
	if (!strcmp(name, "vmm"))
		return IOREQ_PROVIDER_VMM;
	return IOREQ_PROVIDER_NONE;
}

uint32_t ioreq_provider_default(void)
{
	const char *env = getenv("IOREQ_PROVIDER");
	struct stat st;
	int xen, vmm;

	if (env)
		return ioreq_provider_parse(env);
	xen = !stat("/sys/module/ioreq_xen", &st) ||
	      !stat("/sys/module/ioreq_xen_double", &st);
	vmm = !stat("/sys/module/ioreq_vmm", &st);
	if (xen == vmm)
		return IOREQ_PROVIDER_NONE;
	return xen ? IOREQ_PROVIDER_XEN : IOREQ_PROVIDER_VMM;
}

int ioreq_claim(int fd, uint32_t space, uint64_t addr, uint64_t len,
		uint32_t flags, uint64_t user_data, uint32_t *id)
{
	struct ioreq_region r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = flags;
	r.space = space;
	r.addr = addr;
	r.len = len;
	r.user_data = user_data;
	ret = do_ioctl(fd, IOREQ_CLAIM_REGION, &r);
	if (!ret && id)
		*id = r.id;
	return ret;
}

int ioreq_release(int fd, uint32_t id)
{
	struct ioreq_release rel;

	memset(&rel, 0, sizeof(rel));
	rel.size = sizeof(rel);
	rel.id = id;
	return do_ioctl(fd, IOREQ_RELEASE_REGION, &rel);
}

int ioreq_respond(int fd, const struct ioreq_cmd *cmds, size_t n,
		  uint64_t *stale)
{
	size_t done = 0, accepted = 0;
	ssize_t ret;

	while (done < n) {
		ret = write(fd, cmds + done, (n - done) * sizeof(*cmds));
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOENT) {
				/* cmds[done] is no longer pending: skip it */
				if (stale)
					(*stale)++;
				done++;
				continue;
			}
			return -errno;
		}
		if (ret == 0 || ret % sizeof(*cmds))
			return -EIO;	/* the ABI promises whole records */
		done += ret / sizeof(*cmds);
		accepted += ret / sizeof(*cmds);
	}
	return (int)accepted;
}

int ioreq_serve_batch(int fd, struct ioreq_cmd *buf, size_t max,
		      ioreq_handler_t fn, void *priv,
		      struct ioreq_serve_stats *stats)
{
	size_t n, i, nresp = 0;
	uint32_t first_vcpu = 0;
	int multi = 0, err = 0, ret;
	ssize_t len;

	if (!max)
		return -EINVAL;
	len = read(fd, buf, max * sizeof(*buf));
	if (len < 0)
		return -errno;
	if (len == 0)
		return -ENODEV;	/* not expected: treat as end of guest */
	if (len % sizeof(*buf))
		return -EIO;
	n = len / sizeof(*buf);

	for (i = 0; i < n; i++) {
		struct ioreq_cmd *cmd = &buf[i];
		int posted = cmd->flags & IOREQ_CMD_POSTED;

		if (i == 0)
			first_vcpu = IOREQ_CMD_VCPU(cmd->id);
		else if (IOREQ_CMD_VCPU(cmd->id) != first_vcpu)
			multi = 1;
		if (stats) {
			stats->records++;
			if (cmd->op == IOREQ_OP_READ)
				stats->reads++;
			else
				stats->writes++;
			if (posted)
				stats->posted++;
		}

		ret = err ? IOREQ_NO_RESPONSE : fn(cmd, priv);
		if (ret < 0) {
			/* stop after this batch; still answer what we did */
			err = ret;
			ret = IOREQ_NO_RESPONSE;
		}
		if (posted)
			continue;
		if (ret == IOREQ_NO_RESPONSE) {
			if (stats && !err)
				stats->unanswered++;
			continue;
		}
		/* compact the responses at the front of buf */
		if (nresp != i)
			buf[nresp] = *cmd;
		nresp++;
	}

	if (stats) {
		stats->batches++;
		if (n > stats->max_batch)
			stats->max_batch = n;
		if (multi)
			stats->multi_vcpu_batches++;
	}

	if (nresp) {
		ret = ioreq_respond(fd, buf, nresp, stats ? &stats->stale : NULL);
		if (ret < 0)
			return ret;
		if (stats)
			stats->responses += ret;
	}
	return err ? err : (int)n;
}

int ioreq_serve(int fd, ioreq_handler_t fn, void *priv,
		volatile sig_atomic_t *stop, struct ioreq_serve_stats *stats)
{
	struct ioreq_cmd buf[IOREQ_BATCH_MAX];
	int ret;

	for (;;) {
		if (stop && *stop)
			return -EINTR;
		ret = ioreq_serve_batch(fd, buf, IOREQ_BATCH_MAX, fn, priv,
					stats);
		if (ret > 0)
			continue;
		if (ret == -ENODEV)
			return 0;
		if (ret == -EINTR)
			continue;	/* *stop is checked at the top */
		return ret;
	}
}

int ioreq_vmm_open(const char *path)
{
	return open_dev(path, "IOREQ_VMM_DEV", IOREQ_VMM_DEV_PATH);
}

int ioreq_vmm_create_guest(int fd, uint32_t nr_vcpus, uint64_t *guest_id)
{
	struct ioreq_vmm_create c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.nr_vcpus = nr_vcpus;
	c.guest_id = guest_id ? *guest_id : 0;
	ret = do_ioctl(fd, IOREQ_VMM_CREATE_GUEST, &c);
	if (!ret && guest_id)
		*guest_id = c.guest_id;
	return ret;
}

int ioreq_vmm_guest_handle(int fd)
{
	struct ioreq_vmm_guest_handle h;
	int ret;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	ret = do_ioctl(fd, IOREQ_VMM_GUEST_HANDLE, &h);
	return ret ? ret : h.fd;
}

int ioreq_vmm_access(int fd, struct ioreq_vmm_access *acc)
{
	int ret;

	acc->size = sizeof(*acc);
	acc->flags = 0;
	acc->status = 0;
	acc->__reserved = 0;
	do {
		ret = do_ioctl(fd, IOREQ_VMM_ACCESS, acc);
	} while (ret == -EINTR);
	return ret;
}

static int vmm_rw(int fd, uint32_t vcpu, uint8_t space, uint8_t op,
		  uint64_t addr, uint8_t len, uint32_t timeout_ms,
		  uint64_t *data)
{
	struct ioreq_vmm_access acc;
	int ret;

	memset(&acc, 0, sizeof(acc));
	acc.vcpu = vcpu;
	acc.space = space;
	acc.op = op;
	acc.len = len;
	acc.addr = addr;
	acc.data = *data;
	acc.timeout_ms = timeout_ms;
	ret = ioreq_vmm_access(fd, &acc);
	if (ret)
		return ret;
	*data = acc.data;
	return acc.status;
}

int ioreq_vmm_read(int fd, uint32_t vcpu, uint8_t space, uint64_t addr,
		   uint8_t len, uint32_t timeout_ms, uint64_t *data)
{
	*data = 0;
	return vmm_rw(fd, vcpu, space, IOREQ_OP_READ, addr, len, timeout_ms,
		      data);
}

int ioreq_vmm_write(int fd, uint32_t vcpu, uint8_t space, uint64_t addr,
		    uint8_t len, uint32_t timeout_ms, uint64_t data)
{
	return vmm_rw(fd, vcpu, space, IOREQ_OP_WRITE, addr, len, timeout_ms,
		      &data);
}

const char *ioreq_space_name(uint32_t space)
{
	switch (space) {
	case IOREQ_SPACE_MMIO:		return "MMIO";
	case IOREQ_SPACE_PIO:		return "PIO";
	case IOREQ_SPACE_PCI_CONFIG:	return "PCI-config";
	default:			return "?space";
	}
}

const char *ioreq_op_name(uint32_t op)
{
	switch (op) {
	case IOREQ_OP_READ:	return "read";
	case IOREQ_OP_WRITE:	return "write";
	default:		return "?op";
	}
}

const char *ioreq_provider_name(uint32_t provider)
{
	switch (provider) {
	case IOREQ_PROVIDER_NONE:	return "none";
	case IOREQ_PROVIDER_XEN:	return "xen";
	case IOREQ_PROVIDER_VMM:	return "vmm";
	default:			return "unknown";
	}
}

const char *ioreq_vmm_status_name(uint32_t status)
{
	switch (status) {
	case IOREQ_VMM_STATUS_DONE:		return "done";
	case IOREQ_VMM_STATUS_UNCLAIMED:	return "unclaimed";
	case IOREQ_VMM_STATUS_ABORTED:		return "aborted";
	case IOREQ_VMM_STATUS_TIMEDOUT:		return "timed out";
	default:				return "unknown status";
	}
}

char *ioreq_caps_str(uint64_t caps, char *buf, size_t size)
{
	static const char *const names[] = {
		"mmio", "pio", "pci-config", "posted-writes", "irq-line",
		"irq-pci-intx", "irq-msi", "irqfd", "ioeventfd",
		"guest-memory", "guest-memory-fd", "invalidate", "redeliver",
	};
	size_t off = 0;
	unsigned int bit;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (bit = 0; bit < 64; bit++) {
		const char *sep = off ? " " : "";
		int n;

		if (!(caps & (1ULL << bit)))
			continue;
		if (bit < sizeof(names) / sizeof(names[0]))
			n = snprintf(buf + off, size - off, "%s%s", sep,
				     names[bit]);
		else
			n = snprintf(buf + off, size - off, "%sbit%u", sep,
				     bit);
		if (n < 0 || (size_t)n >= size - off)
			break;
		off += n;
	}
	if (!off)
		snprintf(buf, size, "none");
	return buf;
}

int ioreq_parse_u64(const char *s, uint64_t *val)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*val = v;
	return 0;
}

int ioreq_parse_range(const char *s, uint64_t *addr, uint64_t *len)
{
	const char *colon = strchr(s, ':');
	char head[64];
	size_t n;

	if (!colon)
		return -EINVAL;
	n = colon - s;
	if (n == 0 || n >= sizeof(head))
		return -EINVAL;
	memcpy(head, s, n);
	head[n] = '\0';
	if (ioreq_parse_u64(head, addr) || ioreq_parse_u64(colon + 1, len))
		return -EINVAL;
	if (*len == 0 || *addr + (*len - 1) < *addr)
		return -EINVAL;
	return 0;
}
