/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioreq Xen provider, private header: the protocol of the synchronous
 * ioreq page (page.c), kept apart from the hypercalls (server.c) so that
 * a test double can drive it without Xen.
 */
#ifndef _IOREQ_XEN_H
#define _IOREQ_XEN_H

#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/ioreq_provider.h>

#include "abi.h"

struct ioreq_xen_page;

/**
 * struct ioreq_xen_page_ops - what the page protocol needs from its host
 * @notify: kick Xen's end of @vcpu's event channel after a response was
 *	published.  Context: any, interrupts may be off; must not sleep.
 * @queue_rep: arrange for ioreq_xen_page_rep(@iop, @vcpu) to run soon in
 *	process context (a work item), at most one run per vcpu at a time;
 *	called again from ->complete() for each element a backend answers,
 *	possibly while the previous run is still returning.
 *	Optional: without it, or without @guest_rw, rep requests are
 *	answered at once (a read with all ones, a write dropped).
 *	Context: any, interrupts may be off; must not sleep.
 * @guest_rw: copy @len bytes between @buf and guest-physical @gpa, which
 *	may cross frames; 0 or a negative errno (-ENXIO: not guest memory).
 *	Context: process, may sleep.
 * @handled: the core completed @vcpu's write itself (an ioeventfd took
 *	it, or it was posted); called before the answer is published.
 *	Optional, for the test double's bookkeeping.  Context: as @notify.
 */
struct ioreq_xen_page_ops {
	void (*notify)(struct ioreq_xen_page *iop, u32 vcpu);
	void (*handled)(struct ioreq_xen_page *iop, u32 vcpu);
	void (*queue_rep)(struct ioreq_xen_page *iop, u32 vcpu);
	int (*guest_rw)(struct ioreq_xen_page *iop, u64 gpa, void *buf,
			size_t len, bool write);
};

/**
 * struct ioreq_xen_rep - a rep request in progress on one vcpu
 * @req: the request as Xen posted it (its slot is INPROCESS meanwhile)
 * @next: the element being sent, or answered, next
 * @gpa: the guest buffer's address for element @next
 * @last: the value of the last element read, for a read without a buffer
 * @gone: the backend, the guest or the buffer went away: the remaining
 *	elements are not sent
 * @sent: element @next is queued on a backend and ->complete() requeues
 *	the work with its answer
 * @active: ->complete() of the vcpu belongs to this rep, not to the slot:
 *	set before an element is dispatched, cleared by
 *	ioreq_xen_page_complete() in any context
 * @data: the element's answer, written by ->complete() before it queues
 *	the work
 * @status: how the element ended, written with @data
 *
 * Apart from @active, @data and @status, owned by the work item that runs
 * ioreq_xen_page_rep(), one run at a time.
 */
struct ioreq_xen_rep {
	struct ioreq_xen_req req;
	u32 next;
	u64 gpa;
	u64 last;
	bool gone;
	bool sent;
	bool active;
	u64 data;
	enum ioreq_status status;
};

/**
 * struct ioreq_xen_page - one IOREQ server's synchronous page
 * @shared: the page Xen shares with us, mapped into the kernel
 * @guest: the core's guest the requests are dispatched to
 * @nr_vcpus: slots in use, at most IOREQ_XEN_MAX_VCPUS
 * @ops: how to notify Xen, and reach guest memory
 * @reps: rep requests in progress, one per vcpu (ioreq_xen_page_rep())
 * @buf: the buffered ring, or NULL without one (Arm, or none was made)
 * @buf_lock: serializes ioreq_xen_page_drain(), which runs from the
 *	ring's event and from ->posted_room()
 *
 * Set up before the first event can arrive and constant until the last
 * event handler and ->complete() have finished.  There is no lock: each
 * slot is owned in turn by Xen and by us, as the state machine in page.c
 * describes, and all events of one vcpu arrive on one interrupt, which
 * never runs concurrently with itself.  A vcpu's @reps entry belongs to
 * the event handler until it queues the rep, then to
 * ioreq_xen_page_rep() until that answers the slot.
 */
struct ioreq_xen_page {
	struct ioreq_xen_shared_page *shared;
	struct ioreq_guest *guest;
	u32 nr_vcpus;
	const struct ioreq_xen_page_ops *ops;
	struct ioreq_xen_rep reps[IOREQ_XEN_MAX_VCPUS];
	struct ioreq_xen_buf_page *buf;
	spinlock_t buf_lock;	/* serializes draining @buf */
};

/*
 * The test double (double/, ioreq_xen_double.ko): page.c makes no
 * hypercall, so a test module linked with page.o runs it without Xen:
 *
 * - "Xen" is a kzalloc'ed struct ioreq_xen_shared_page, and the guest a
 *   core guest created with ioreq_guest_create() on a test provider whose
 *   ->complete() calls ioreq_xen_page_complete(), exactly as server.c's
 *   does.  ->notify() records (vcpu, state seen) in a log instead of
 *   kicking an event channel.
 * - To inject an access, the test plays hvm_send_ioreq(): require the
 *   slot to be NONE (else fail, as Xen logs "bad IO state"), fill addr,
 *   data, count, size, type and the dir/data_is_ptr/df bits, then
 *   smp_store_release() the state byte to READY, and call
 *   ioreq_xen_page_event() as the interrupt would.
 * - To consume the answer, it plays hvm_wait_for_io(): smp_load_acquire()
 *   the state; READY or INPROCESS means still pending; RESP_READY means
 *   take data and write NONE; anything else, or a state lower than the
 *   last one seen for this request, fails the test ("Weird HVM ioreq
 *   state transition" crashes the guest in real Xen).
 * - Backends are ordinary /dev/ioreq sessions on that guest, or the
 *   core's functions called directly.
 * - Cases: INVALIDATE and TIMEOFFSET are acked at once with data
 *   untouched; unknown types, count != 1 and data_is_ptr answer ones
 *   (reads) or leave data as it was; unclaimed accesses answer ones;
 *   claimed ones wait for the backend's write(); a closed session or
 *   ioreq_guest_kill() answers ones; spurious events (state NONE,
 *   INPROCESS, RESP_READY) change nothing and return false; every
 *   response notifies exactly once; vp_eport is never written.
 * - Not written yet: a fuzz mode writing random bytes into every field
 *   but the state, checking only that the state never moves backwards
 *   and each request ends with exactly one notification.
 * ioreq_xen_page_count_vcpus() is tested by filling vp_eport of the first
 * n slots.
 */
void ioreq_xen_page_init(struct ioreq_xen_page *iop);
bool ioreq_xen_page_event(struct ioreq_xen_page *iop, u32 vcpu);
void ioreq_xen_page_rep(struct ioreq_xen_page *iop, u32 vcpu);
bool ioreq_xen_page_drain(struct ioreq_xen_page *iop);
void ioreq_xen_page_complete(struct ioreq_xen_page *iop, u32 vcpu, u64 data,
			     enum ioreq_status status);
u32 ioreq_xen_page_count_vcpus(struct ioreq_xen_page *iop);

#endif /* _IOREQ_XEN_H */
