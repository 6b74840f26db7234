// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq-example: a minimal device backend.
 *
 *   ioreq-example xen|vmm GUEST_ID [BASE]
 *
 * Attaches to guest GUEST_ID of the Xen or the userspace-hypervisor
 * provider (as root: attaching by number needs CAP_SYS_ADMIN), claims one page of MMIO at BASE (default
 * 0xfe000000) and emulates two 64-bit registers: ID at offset 0 (read
 * only) and SCRATCH at offset 8, which reads back what was last written.
 * Other offsets read as zero and ignore writes.  It exits when the guest
 * goes away.
 *
 * A posted write (IOREQ_CMD_POSTED) is emulated but never answered: the
 * hypervisor can post writes to any region (Xen's buffered ones), and a
 * write() that answers one fails with EINVAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/ioreq.h>

#define REG_ID		0x0
#define REG_SCRATCH	0x8
#define EXAMPLE_ID	0x10e5a3f1ULL

static __u64 scratch;

static void emulate(struct ioreq_cmd *c)
{
	if (c->op == IOREQ_OP_READ)
		c->data = c->offset == REG_ID ? EXAMPLE_ID :
			  c->offset == REG_SCRATCH ? scratch : 0;
	else if (c->offset == REG_SCRATCH)
		scratch = c->data;
}

/* Answer @n records; skip any whose vcpu stopped waiting (ENOENT). */
static int respond(int fd, struct ioreq_cmd *c, size_t n)
{
	while (n) {
		ssize_t ret = write(fd, c, n * sizeof(*c));
		size_t done = ret < 0 ? 0 : ret / sizeof(*c);

		if (ret < 0 && errno != ENOENT)
			return -errno;
		if (done < n)
			done++;		/* the stale record */
		c += done;
		n -= done;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ioreq_attach attach = { .size = sizeof(attach) };
	struct ioreq_region region = {
		.size = sizeof(region),
		.space = IOREQ_SPACE_MMIO,
		.addr = 0xfe000000,
		.len = 0x1000,
	};
	struct ioreq_cmd cmds[16];
	ssize_t i, n, m;
	int fd;

	if (argc < 3 || (strcmp(argv[1], "xen") && strcmp(argv[1], "vmm"))) {
		fprintf(stderr, "usage: %s xen|vmm GUEST_ID [BASE]\n", argv[0]);
		return 2;
	}
	attach.provider = strcmp(argv[1], "xen") ? IOREQ_PROVIDER_VMM :
						    IOREQ_PROVIDER_XEN;
	attach.guest_id = strtoull(argv[2], NULL, 0);
	if (argc > 3)
		region.addr = strtoull(argv[3], NULL, 0);

	fd = open("/dev/ioreq", O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, IOREQ_ATTACH, &attach) ||
	    ioctl(fd, IOREQ_CLAIM_REGION, &region)) {
		perror("ioreq");
		return 1;
	}
	for (;;) {
		n = read(fd, cmds, sizeof(cmds));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		n /= sizeof(cmds[0]);
		for (i = 0, m = 0; i < n; i++) {
			emulate(&cmds[i]);
			if (!(cmds[i].flags & IOREQ_CMD_POSTED))
				cmds[m++] = cmds[i];
		}
		if (respond(fd, cmds, m))
			break;
	}
	if (errno == ENODEV)	/* the guest is gone */
		return 0;
	perror("ioreq");
	return 1;
}
