// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq-xen-native: the baseline of make bench's Xen rows, a device model
 * the way QEMU, virtio-disk and xen-vhost-frontend are written today: an
 * IOREQ server of its own made with libxendevicemodel, its ioreq page
 * mapped with libxenforeignmemory, one event channel per vcpu bound with
 * libxenevtchn, and Xen's READY -> INPROCESS -> IORESP_READY state machine
 * run in this process.  No /dev/ioreq.
 *
 * It serves one MMIO region as the scratch device's ID register only:
 * 4-byte reads at offset 0 return 0x494f5251 ("IORQ"), every other read
 * returns 0 and writes are dropped, which is all the bench loop needs.
 *
 *   ioreq-xen-native --guest DOMID --mmio ADDR:LEN [--wait SECS]
 *
 * The options and the "backend: serving" line match ioreq-backend's, so
 * the Xen scenarios start either the same way.  Runs until SIGTERM or
 * SIGINT, then disables and destroys its server.  Exit 0, 1 on error,
 * 2 on bad usage.
 */
#define _GNU_SOURCE
/* libxendevicemodel is a tools interface: its constants need this. */
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xen/hvm/ioreq.h>
#include <xen/hvm/hvm_op.h>
#include <xen/memory.h>

#define ID_VALUE	0x494f5251U
#define MAX_VCPUS	(4096 / sizeof(struct ioreq))

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void info(const char *what)
{
	printf("backend: %s\n", what);
	fflush(stdout);
}

static int parse_range(const char *s, uint64_t *addr, uint64_t *len)
{
	char *end;

	errno = 0;
	*addr = strtoull(s, &end, 0);
	if (errno || *end != ':')
		return -1;
	*len = strtoull(end + 1, &end, 0);
	if (errno || *end || !*len || *addr + *len - 1 < *addr)
		return -1;
	return 0;
}

/* One request in the vcpu's slot: answer it as QEMU's cpu_handle_ioreq(). */
static void serve(struct ioreq *req, uint64_t start)
{
	/*
	 * READY was seen: read the request only after it (Xen fills the slot,
	 * then sets READY behind a barrier in ioreq_send()).
	 */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	req->state = STATE_IOREQ_INPROCESS;
	if (req->type == IOREQ_TYPE_COPY && req->dir == IOREQ_READ &&
	    !req->data_is_ptr)
		req->data = req->addr == start && req->size == 4 ? ID_VALUE : 0;
	/* Data before the state: Xen reads the data after IORESP_READY. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	req->state = STATE_IORESP_READY;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "guest", required_argument, NULL, 'g' },
		{ "mmio",  required_argument, NULL, 'm' },
		{ "pio",   required_argument, NULL, 'p' },
		{ "wait",  required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	xendevicemodel_handle *dmod = NULL;
	xenforeignmemory_handle *fmem = NULL;
	xenforeignmemory_resource_handle *fres = NULL;
	xenevtchn_handle *xce = NULL;
	evtchn_port_t local[MAX_VCPUS];
	struct shared_iopage *page = NULL;
	uint64_t start = 0, len = 0, served = 0;
	unsigned int nr = 0, v, wait_s = 0;
	long domid = -1;
	ioservid_t id;
	int have_server = 0, rc = 1, c;
	struct sigaction sa;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "g:m:p:w:", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			domid = strtol(optarg, NULL, 0);
			break;
		case 'm':
			if (parse_range(optarg, &start, &len)) {
				fprintf(stderr, "bad --mmio '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			break;	/* accepted for ioreq-backend's command line */
		case 'w':
			wait_s = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s --guest DOMID --mmio ADDR:LEN [--wait SECS]\n",
				argv[0]);
			return 2;
		}
	}
	if (domid < 1 || domid >= 0x7ff0 || !len) {
		fprintf(stderr, "need --guest DOMID and --mmio ADDR:LEN\n");
		return 2;
	}
	(void)wait_s;	/* the guest exists: the scenario created it paused */

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: the wait returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	dmod = xendevicemodel_open(NULL, 0);
	fmem = xenforeignmemory_open(NULL, 0);
	xce = xenevtchn_open(NULL, 0);
	if (!dmod || !fmem || !xce) {
		perror("opening libxendevicemodel, libxenforeignmemory, libxenevtchn");
		goto out;
	}
	/* The order QEMU follows (xen_register_ioreq()). */
	if (xendevicemodel_create_ioreq_server(dmod, domid,
					       HVM_IOREQSRV_BUFIOREQ_OFF, &id)) {
		perror("xendevicemodel_create_ioreq_server");
		goto out;
	}
	have_server = 1;
	fres = xenforeignmemory_map_resource(fmem, domid,
			XENMEM_resource_ioreq_server, id,
			XENMEM_resource_ioreq_server_frame_ioreq(0), 1,
			(void **)&page, PROT_READ | PROT_WRITE, 0);
	if (!fres) {
		perror("xenforeignmemory_map_resource");
		goto out;
	}
	if (xendevicemodel_map_io_range_to_ioreq_server(dmod, domid, id, 1,
							start,
							start + len - 1)) {
		perror("xendevicemodel_map_io_range_to_ioreq_server");
		goto out;
	}
	if (xendevicemodel_set_ioreq_server_state(dmod, domid, id, 1)) {
		perror("xendevicemodel_set_ioreq_server_state");
		goto out;
	}
	/* Enabled: Xen has given each vcpu's slot its event channel. */
	for (nr = 0; nr < MAX_VCPUS && page->vcpu_ioreq[nr].vp_eport; nr++) {
		xenevtchn_port_or_error_t p;

		p = xenevtchn_bind_interdomain(xce, domid,
					       page->vcpu_ioreq[nr].vp_eport);
		if (p < 0) {
			perror("xenevtchn_bind_interdomain");
			goto out;
		}
		local[nr] = p;
	}
	printf("backend: attached to guest %ld (%u vcpu%s), server %u\n",
	       domid, nr, nr == 1 ? "" : "s", id);
	info("serving; stop with SIGTERM");

	while (!stop) {
		struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };
		xenevtchn_port_or_error_t port;

		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			goto out;
		}
		port = xenevtchn_pending(xce);
		if (port < 0)
			continue;
		xenevtchn_unmask(xce, port);
		for (v = 0; v < nr && local[v] != (evtchn_port_t)port; v++)
			;
		if (v == nr)
			continue;
		if (page->vcpu_ioreq[v].state != STATE_IOREQ_READY)
			continue;
		serve(&page->vcpu_ioreq[v], start);
		xenevtchn_notify(xce, port);
		served++;
	}
	/*
	 * Xen leaves a vcpu whose request the server never answers blocked
	 * for good, even once the server is destroyed.  So: no new requests
	 * (unmap the range), then answer what is in flight with all ones,
	 * then go.  QEMU never needs this: its server lives as long as the
	 * guest.  ioreq's Xen provider does the same when a backend dies.
	 */
	xendevicemodel_unmap_io_range_from_ioreq_server(dmod, domid, id, 1,
							start,
							start + len - 1);
	for (c = 0; c < 50; c++) {	/* 50 x 2 ms: the event is on its way */
		for (v = 0; v < nr; v++) {
			struct ioreq *req = &page->vcpu_ioreq[v];

			if (req->state != STATE_IOREQ_READY)
				continue;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			req->state = STATE_IOREQ_INPROCESS;
			if (req->dir == IOREQ_READ && !req->data_is_ptr)
				req->data = ~0ULL;
			__atomic_thread_fence(__ATOMIC_RELEASE);
			req->state = STATE_IORESP_READY;
			xenevtchn_notify(xce, local[v]);
		}
		usleep(2000);
	}
	printf("backend: stopped by a signal; served %" PRIu64 " requests\n",
	       served);
	rc = 0;
out:
	for (v = 0; v < nr; v++)
		xenevtchn_unbind(xce, local[v]);
	if (have_server) {
		xendevicemodel_set_ioreq_server_state(dmod, domid, id, 0);
		if (fres)
			xenforeignmemory_unmap_resource(fmem, fres);
		xendevicemodel_destroy_ioreq_server(dmod, domid, id);
	}
	if (xce)
		xenevtchn_close(xce);
	if (fmem)
		xenforeignmemory_close(fmem);
	if (dmod)
		xendevicemodel_close(dmod);
	return rc;
}
