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
 *	answered at once (a read with all ones, a write dropped).  Called
 *	in any context, interrupts may be off; must not sleep.
 * @guest_rw: copy @len bytes between @buf and guest-physical @gpa, which
 *	may cross frames; 0 or a negative errno (-ENXIO: not guest memory).
 *	Called in process context; may sleep.
 * @handled: the core completed @vcpu's write itself (an ioeventfd took
 *	it, or it was posted); called before the answer is published.
 *	Optional, for the test double's bookkeeping.  Context: as @notify.
 * @dm_op: issue @op (HYPERVISOR_dm_op) on the server's domain; 0 or a
 *	negative errno, -ESRCH if no such domain.  Called only through
 *	ioreq_xen_page_dm_op().  Context: any; must not sleep.
 * @same_domain: is the domain that holds the server's domid still the
 *	one the server was made for?  A domid is reused once its domain
 *	is gone, and the server id with it: only something the old
 *	domain's death changed for good can tell (server.c asks Xen for
 *	the status of our end of vcpu 0's event channel).  Context: any;
 *	must not sleep.
 */
struct ioreq_xen_page_ops {
	void (*notify)(struct ioreq_xen_page *iop, u32 vcpu);
	int (*dm_op)(struct ioreq_xen_page *iop, struct ioreq_xen_dm_op *op);
	bool (*same_domain)(struct ioreq_xen_page *iop);
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
 *	ring's event, from each vcpu's event and from ->posted_room()
 * @buf_dropped: posted writes dropped because their session had no room
 *	(under @buf_lock)
 * @buf_bad: times the ring's pointers were found inconsistent, or half
 *	an 8-byte write was in it (under @buf_lock)
 * @id: the server id Xen gave us
 * @dead: the server's domain is known to be gone: it was reaped, a
 *	dm_op failed with ESRCH, or ->same_domain() said no.  Set once,
 *	never cleared; from then on ioreq_xen_page_dm_op() issues nothing,
 *	since the domid and server id may already be another domain's.
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
	spinlock_t buf_lock;	/* serializes draining @buf, its counters */
	u64 buf_dropped;
	u32 buf_bad;
	u16 id;
	bool dead;
};

/*
 * The most elements of a rep request Xen sends: hvmemul_linear_to_phys()
 * and hvmemul_virtual_to_linear() (xen/arch/x86/hvm/emulate.c) clip every
 * string instruction to 4096 repetitions before it becomes an ioreq, and
 * one with a buffer to the buffer's page.  A larger count is not Xen's:
 * it is answered at once rather than carried out element by element, which
 * would keep a worker busy for hours.
 */
#define IOREQ_XEN_MAX_REPS	4096

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
 * - IOREQ_XD_HOSTILE, for the fuzzer (ioreq_fuzz -x): a Xen that writes
 *   garbage into every field of the slots, the state included, and into
 *   the buffered ring's pointers and words, with spurious and missing
 *   events.  Checked: nothing crashes, hangs or warns, and at the end no
 *   slot is left INPROCESS by us or in a state neither side wrote.
 * - Domains: IOREQ_XD_DESTROY kills the domain but not our server, and a
 *   new guest may then take its domid; ->dm_op() acts on whatever domain
 *   holds the domid, and counts ops from an earlier domain's server.
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
int ioreq_xen_page_dm_op(struct ioreq_xen_page *iop,
			 struct ioreq_xen_dm_op *op);
void ioreq_xen_page_kill(struct ioreq_xen_page *iop);
bool ioreq_xen_page_alive(struct ioreq_xen_page *iop);
int ioreq_xen_page_range(struct ioreq_xen_page *iop, u32 dmop, u32 space,
			 u64 start, u64 last);

#endif /* _IOREQ_XEN_H */
