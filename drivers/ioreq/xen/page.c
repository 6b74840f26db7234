// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq Xen provider: the synchronous ioreq page protocol.
 *
 * Each vcpu of the guest owns one 32-byte slot of the page.  Its state
 * moves only forward, and who may write the slot depends on the state:
 *
 *   state          owner  next step
 *   -----          -----  ---------
 *   NONE           Xen    Xen fills the slot, then (barrier) sets READY
 *                         and notifies the vcpu's event channel
 *   READY          us     ioreq_xen_page_event() sees READY (acquire),
 *                         sets INPROCESS, reads the request and hands it
 *                         to ioreq_dispatch() or answers it itself
 *   INPROCESS      us     ->complete() or the event handler writes the
 *                         answer to data, then sets RESP_READY (release)
 *                         and notifies Xen
 *   RESP_READY     Xen    Xen (the vcpu, in hvm_wait_for_io()) reads the
 *                         state, smp_rmb(), takes data, sets NONE
 *
 * Xen domain_crash()es the guest on a backwards transition or a state it
 * does not know, so nothing here writes a state other than INPROCESS over
 * READY and RESP_READY over INPROCESS.  vp_eport is Xen's: a server that
 * changes it makes Xen refuse the next request.
 *
 * Nothing here makes a hypercall: the host (server.c, or a test double)
 * maps the page and supplies ->notify() and ->dm_op().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compiler.h>
#include <linux/sched.h>
#include <linux/printk.h>
#include <asm/barrier.h>

#include "ioreq_xen.h"

/**
 * enum ioreq_xen_action - what to do with a request taken from a slot
 * @IOREQ_XEN_DISPATCH: hand it to ioreq_dispatch()
 * @IOREQ_XEN_ACK: answer it at once and leave data as it is
 * @IOREQ_XEN_ONES: answer it at once; a read returns all ones
 * @IOREQ_XEN_REP: a rep request: ioreq_xen_page_rep() carries it out
 * @IOREQ_XEN_INVALIDATE: guest memory went away: tell the backends
 *	(ioreq_guest_invalidate()), then answer it as for @IOREQ_XEN_ACK
 */
enum ioreq_xen_action {
	IOREQ_XEN_DISPATCH,
	IOREQ_XEN_ACK,
	IOREQ_XEN_ONES,
	IOREQ_XEN_REP,
	IOREQ_XEN_INVALIDATE,
};

/**
 * struct ioreq_xen_access - a request in the core's terms
 * @space: IOREQ_SPACE_*
 * @op: IOREQ_OP_*
 * @size: 1, 2, 4 or 8
 * @addr: address, port, or SBDF << 32 | register
 * @data: the value of a write
 */
struct ioreq_xen_access {
	u32 space;
	u32 op;
	u32 size;
	u64 addr;
	u64 data;
};

static u64 ioreq_xen_ones(u32 size)
{
	return size && size < 8 ? (1ULL << (size * 8)) - 1 : ~0ULL;
}

static bool ioreq_xen_size_valid(u32 size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/*
 * Translate the request Xen posted into an access for the core, or decide
 * to answer it here.  @rep: the host can carry out rep requests.  Pure:
 * reads only its arguments.
 */
static enum ioreq_xen_action
ioreq_xen_translate(u8 flags, u8 type, u32 count, u32 size, u64 addr,
		    u64 data, bool rep, struct ioreq_xen_access *acc)
{
	switch (type) {
	case IOREQ_XEN_TYPE_PIO:
		acc->space = IOREQ_SPACE_PIO;
		break;
	case IOREQ_XEN_TYPE_COPY:
		acc->space = IOREQ_SPACE_MMIO;
		break;
	case IOREQ_XEN_TYPE_PCI_CONFIG:
		acc->space = IOREQ_SPACE_PCI_CONFIG;
		break;
	case IOREQ_XEN_TYPE_INVALIDATE:
		/*
		 * The guest gave memory back (XENMEM_decrease_reservation)
		 * and Xen asks every server to drop its mappings, as QEMU
		 * flushes its map cache.  We keep none, but backends do.
		 */
		return IOREQ_XEN_INVALIDATE;
	case IOREQ_XEN_TYPE_TIMEOFFSET:
		/* The guest's RTC offset changed: nothing of ours to adjust. */
		return IOREQ_XEN_ACK;
	default:
		pr_debug_ratelimited("unknown ioreq type %u: answered with all ones\n",
				     type);
		return IOREQ_XEN_ONES;
	}

	if (!ioreq_xen_size_valid(size)) {
		pr_debug_ratelimited("ioreq of size %u at %#llx: answered with all ones\n",
				     size, addr);
		return IOREQ_XEN_ONES;
	}
	/*
	 * rep ins/outs/movs (data_is_ptr: data is the guest-physical address
	 * of the buffer) and rep stos (count > 1, data the value) become one
	 * access per element, in process context, where guest memory can be
	 * reached.  A host without guest memory answers them here: a read
	 * with all ones (with data_is_ptr Xen copies nothing back, so the
	 * guest buffer keeps its contents), a write dropped; so is a count
	 * Xen never sends, above IOREQ_XEN_MAX_REPS.
	 */
	if ((flags & IOREQ_XEN_FLAG_DATA_IS_PTR) || count != 1) {
		if (rep && count && count <= IOREQ_XEN_MAX_REPS &&
		    type != IOREQ_XEN_TYPE_PCI_CONFIG)
			return IOREQ_XEN_REP;
		pr_debug_ratelimited("rep ioreq (count %u, data_is_ptr %u) at %#llx not carried out: dropped\n",
				     count, !!(flags & IOREQ_XEN_FLAG_DATA_IS_PTR),
				     addr);
		return IOREQ_XEN_ONES;
	}

	acc->op = flags & IOREQ_XEN_FLAG_DIR_READ ? IOREQ_OP_READ :
						    IOREQ_OP_WRITE;
	acc->size = size;
	acc->addr = addr;
	acc->data = data;
	return IOREQ_XEN_DISPATCH;
}

/*
 * INPROCESS -> RESP_READY: publish the answer and notify Xen.  @set_data
 * is false for writes and for requests whose data Xen does not take.
 */
static void ioreq_xen_respond(struct ioreq_xen_page *iop, u32 vcpu,
			      u64 data, bool set_data)
{
	struct ioreq_xen_req *req = &iop->shared->vcpu_ioreq[vcpu];
	u8 flags = READ_ONCE(req->flags);

	if ((flags & IOREQ_XEN_FLAG_STATE) != IOREQ_XEN_STATE_INPROCESS) {
		/* Only Xen and we write the page; never move backwards. */
		pr_debug_ratelimited("vcpu %u: state %u, not in process: no response\n",
				     vcpu, flags & IOREQ_XEN_FLAG_STATE);
		return;
	}
	if (set_data)
		WRITE_ONCE(req->data, data);
	flags = (flags & ~IOREQ_XEN_FLAG_STATE) | IOREQ_XEN_STATE_RESP_READY;
	/*
	 * Data before state.  Pairs with the smp_rmb() after Xen reads the
	 * state in hvm_wait_for_io() (xen/common/ioreq.c).  virt_: the
	 * reader is the hypervisor, which SMP=n does not make go away.
	 */
	virt_store_release(&req->flags, flags);
	iop->ops->notify(iop, vcpu);
}

/**
 * ioreq_xen_page_event() - handle an event on a vcpu's event channel
 * @iop: the page
 * @vcpu: the vcpu whose channel fired, below @iop->nr_vcpus
 *
 * Takes the vcpu's request if Xen posted one, and dispatches it to the
 * core or answers it here.  Never called concurrently for one vcpu.
 * The buffered ring is drained first, as QEMU's cpu_handle_ioreq() does:
 * Xen buffers a device's writes (VGA) and sends its reads synchronously,
 * and a read must not overtake the writes the guest made before it.
 *
 * Context: any (the event channel's interrupt handler); does not sleep.
 * Return: true if a request was taken, false for a spurious event.
 */
bool ioreq_xen_page_event(struct ioreq_xen_page *iop, u32 vcpu)
{
	struct ioreq_xen_req *req = &iop->shared->vcpu_ioreq[vcpu];
	enum ioreq_xen_action action;
	struct ioreq_xen_access acc;
	u32 count, size;
	u64 addr, data;
	u8 flags, type;
	int ret;

	if (iop->buf)
		ioreq_xen_page_drain(iop);
	/*
	 * Pairs with the barrier Xen's hvm_send_ioreq() puts between filling
	 * the slot and setting READY (prepare_wait_on_xen_event_channel(),
	 * "an implicit barrier"): the fields read below are the request's.
	 */
	flags = virt_load_acquire(&req->flags);
	if ((flags & IOREQ_XEN_FLAG_STATE) != IOREQ_XEN_STATE_READY)
		return false;

	/* READY -> INPROCESS; Xen only waits for a change from here on. */
	WRITE_ONCE(req->flags, (flags & ~IOREQ_XEN_FLAG_STATE) |
				IOREQ_XEN_STATE_INPROCESS);

	type = READ_ONCE(req->type);
	count = READ_ONCE(req->count);
	size = READ_ONCE(req->size);
	addr = READ_ONCE(req->addr);
	data = READ_ONCE(req->data);

	action = ioreq_xen_translate(flags, type, count, size, addr, data,
				     iop->ops->queue_rep && iop->ops->guest_rw,
				     &acc);
	if (action == IOREQ_XEN_REP) {
		struct ioreq_xen_rep *rep = &iop->reps[vcpu];

		rep->req.addr = addr;
		rep->req.data = data;
		rep->req.count = count;
		rep->req.size = size;
		rep->req.flags = flags;
		rep->req.type = type;
		rep->next = 0;
		rep->last = ioreq_xen_ones(size);
		rep->gone = false;
		rep->sent = false;
		/* The slot stays INPROCESS: Xen waits, the vcpu is blocked. */
		iop->ops->queue_rep(iop, vcpu);
		return true;
	}
	if (action == IOREQ_XEN_INVALIDATE) {
		/* Counted before the vcpu goes on to its next access. */
		ioreq_guest_invalidate(iop->guest);
		ioreq_xen_respond(iop, vcpu, 0, false);
		return true;
	}
	if (action == IOREQ_XEN_ACK) {
		ioreq_xen_respond(iop, vcpu, 0, false);
		return true;
	}
	if (action == IOREQ_XEN_ONES) {
		ioreq_xen_respond(iop, vcpu, ioreq_xen_ones(size),
				  (flags & IOREQ_XEN_FLAG_DIR_READ) &&
				  !(flags & IOREQ_XEN_FLAG_DATA_IS_PTR));
		return true;
	}

	/*
	 * From IOREQ_QUEUED on, ->complete() owns the slot and may already
	 * have answered on another CPU: touch nothing after it.
	 */
	ret = ioreq_dispatch(iop->guest, vcpu, acc.space, acc.op, acc.size,
			     acc.addr, acc.data);
	if (ret == IOREQ_QUEUED)
		return true;
	if (ret == IOREQ_HANDLED && iop->ops->handled)
		iop->ops->handled(iop, vcpu);
	if (ret < 0)
		pr_debug_ratelimited("vcpu %u: dispatch failed (%d): answered with all ones\n",
				     vcpu, ret);
	/*
	 * Unclaimed, or the guest is dying: as Xen does with no server.
	 * Handled (an ioeventfd, a posted write): the write is done.
	 */
	ioreq_xen_respond(iop, vcpu, ioreq_xen_ones(acc.size),
			  acc.op == IOREQ_OP_READ);
	return true;
}

/**
 * ioreq_xen_page_complete() - answer a dispatched request
 * @iop: the page
 * @vcpu: the vcpu whose request ended
 * @data: the value of a read, masked to its size (all ones if aborted)
 * @status: how the request ended; an aborted read returns @data too
 *
 * Context: any; called from the provider's ->complete() with the guest's
 * lock held and interrupts off.  Does not sleep.
 */
void ioreq_xen_page_complete(struct ioreq_xen_page *iop, u32 vcpu, u64 data,
			     enum ioreq_status status)
{
	struct ioreq_xen_req *req = &iop->shared->vcpu_ioreq[vcpu];
	struct ioreq_xen_rep *rep = &iop->reps[vcpu];

	/*
	 * One element of a rep request: its work item carries on from the
	 * answer.  The next element cannot be dispatched from here, under
	 * the guest's lock, and the guest buffer is reached only in process
	 * context.  queue_work() orders the stores before the work's reads.
	 */
	if (READ_ONCE(rep->active)) {
		rep->data = data;
		rep->status = status;
		WRITE_ONCE(rep->active, false);
		iop->ops->queue_rep(iop, vcpu);
		return;
	}
	/* dir cannot change while the slot is INPROCESS: Xen waits. */
	ioreq_xen_respond(iop, vcpu, data,
			  READ_ONCE(req->flags) & IOREQ_XEN_FLAG_DIR_READ);
}

/*
 * Element @rep->next is done, @val its value (a read's answer, all ones
 * if nobody gave one): store a read's value into the guest buffer and go
 * on to the next element.
 */
static void ioreq_xen_rep_done(struct ioreq_xen_page *iop,
			       struct ioreq_xen_rep *rep, u64 val)
{
	const struct ioreq_xen_req *req = &rep->req;

	if (req->flags & IOREQ_XEN_FLAG_DIR_READ) {
		rep->last = val;
		/* Little-endian: the element's bytes are val's low bytes. */
		if ((req->flags & IOREQ_XEN_FLAG_DATA_IS_PTR) &&
		    iop->ops->guest_rw(iop, rep->gpa, &val, req->size, true))
			rep->gone = true;
	}
	rep->next++;
}

/*
 * Send element @rep->next.  Return: true if it is queued on a backend
 * (->complete() brings its answer), false if it is done already.
 */
static bool ioreq_xen_rep_send(struct ioreq_xen_page *iop, u32 vcpu,
			       struct ioreq_xen_rep *rep)
{
	const struct ioreq_xen_req *req = &rep->req;
	bool read = req->flags & IOREQ_XEN_FLAG_DIR_READ;
	s64 step = req->flags & IOREQ_XEN_FLAG_DF ? -(s64)req->size :
						    (s64)req->size;
	u32 space = req->type == IOREQ_XEN_TYPE_PIO ? IOREQ_SPACE_PIO :
						      IOREQ_SPACE_MMIO;
	u64 addr = space == IOREQ_SPACE_PIO ? req->addr :
		   req->addr + rep->next * step;
	u64 val = req->data;	/* rep stos: the same value every time */
	int ret;

	rep->gpa = req->data + rep->next * step;
	if (!read && (req->flags & IOREQ_XEN_FLAG_DATA_IS_PTR)) {
		val = 0;
		if (!rep->gone &&
		    iop->ops->guest_rw(iop, rep->gpa, &val, req->size, false))
			rep->gone = true;
	}
	if (rep->gone) {
		ioreq_xen_rep_done(iop, rep, ioreq_xen_ones(req->size));
		return false;
	}

	WRITE_ONCE(rep->active, true);
	ret = ioreq_dispatch(iop->guest, vcpu, space,
			     read ? IOREQ_OP_READ : IOREQ_OP_WRITE, req->size,
			     addr, read ? 0 : val);
	/* From here on ->complete() owns the element and requeues us. */
	if (ret == IOREQ_QUEUED)
		return true;
	WRITE_ONCE(rep->active, false);
	/*
	 * Unclaimed or taken by an ioeventfd or posted: as for a single
	 * access; the next element goes out all the same.
	 */
	if (ret < 0)
		rep->gone = true;
	ioreq_xen_rep_done(iop, rep, ioreq_xen_ones(req->size));
	return false;
}

/**
 * ioreq_xen_page_rep() - carry out a vcpu's rep request, one step
 * @iop: the page
 * @vcpu: the vcpu whose slot holds the request, queued by
 *	ioreq_xen_page_event() through ->queue_rep()
 *
 * Each of the request's count elements becomes one access of its size
 * through the core, one after the other, as Xen's own emulation would do
 * them: at addr (a port) or, for MMIO, at addr + i * size (downwards with
 * the direction flag).  With data_is_ptr the elements come from (writes)
 * or go to (reads) the guest buffer at data, stepping the same way;
 * without it a write stores data count times (rep stos), whatever a
 * backend answered to the element before.  Then the slot is answered.
 * Once the backend or the guest is gone, or the buffer is not guest
 * memory, the remaining elements are not sent: reads store all ones,
 * writes are dropped, and the vcpu resumes.
 *
 * This is a state machine, not a loop that waits: a run sends elements
 * until one is queued on a backend and returns; that element's
 * ->complete() queues the work again (ioreq_xen_page_complete()), and the
 * next run takes its answer and goes on.  No kernel thread sleeps while
 * a backend, however slow or stopped, holds an element.
 *
 * Context: process (a work item), may sleep for the guest buffer.  One
 * run at a time per vcpu.
 */
void ioreq_xen_page_rep(struct ioreq_xen_page *iop, u32 vcpu)
{
	struct ioreq_xen_rep *rep = &iop->reps[vcpu];
	const struct ioreq_xen_req *req = &rep->req;
	bool read = req->flags & IOREQ_XEN_FLAG_DIR_READ;

	if (rep->sent) {
		/* ->complete() answered element rep->next and requeued us. */
		rep->sent = false;
		if (rep->status != IOREQ_DONE)
			rep->gone = true;
		ioreq_xen_rep_done(iop, rep, rep->data);
	}
	while (rep->next < req->count) {
		rep->sent = true;
		if (ioreq_xen_rep_send(iop, vcpu, rep))
			return;
		rep->sent = false;
		cond_resched();
	}
	if (rep->gone)
		pr_debug_ratelimited("vcpu %u: rep of %u at %#llx ended early: the rest read all ones\n",
				     vcpu, req->count, req->addr);
	/* With data_is_ptr Xen takes nothing from data. */
	ioreq_xen_respond(iop, vcpu, read ? rep->last : 0,
			  read && !(req->flags & IOREQ_XEN_FLAG_DATA_IS_PTR));
}

/**
 * ioreq_xen_page_init() - set up a page's protocol state
 * @iop: the page, its other members set
 *
 * Context: process, before the first event.
 */
void ioreq_xen_page_init(struct ioreq_xen_page *iop)
{
	spin_lock_init(&iop->buf_lock);
}

/* Hand one posted write to the core; false if the session had no room. */
static bool ioreq_xen_post(struct ioreq_xen_page *iop, u32 word, u64 data)
{
	u32 type = IOREQ_XEN_BUF_TYPE(word);
	int ret;

	if (IOREQ_XEN_BUF_DIR_READ(word) ||
	    (type != IOREQ_XEN_TYPE_PIO && type != IOREQ_XEN_TYPE_COPY)) {
		/* Xen buffers only writes, of these two types. */
		pr_debug_ratelimited("buffered ioreq type %u dir %u: dropped\n",
				     type, IOREQ_XEN_BUF_DIR_READ(word));
		return true;
	}
	ret = ioreq_dispatch_posted(iop->guest, type == IOREQ_XEN_TYPE_PIO ?
				    IOREQ_SPACE_PIO : IOREQ_SPACE_MMIO,
				    IOREQ_XEN_BUF_SIZE(word),
				    IOREQ_XEN_BUF_ADDR(word), data);
	/* Unclaimed or the guest dying: dropped, as Xen would. */
	return ret != -EAGAIN;
}

/* Advance read_pointer by @n: false if it kept moving under us. */
static bool ioreq_xen_buf_advance(struct ioreq_xen_buf_page *pg, u32 n)
{
	unsigned int tries;
	u32 old;

	/*
	 * Not a plain store: Xen may be rebasing both pointers with one
	 * 64-bit cmpxchg.  Xen rebases at most once per write it posts, so
	 * a few tries are plenty; a pointer that never settles is not Xen's.
	 * cmpxchg() is a full barrier: our reads of the slots are done
	 * before Xen can see the slots free (pairs with the check of
	 * read_pointer before Xen writes a slot).
	 */
	for (tries = 0; tries < 16; tries++) {
		old = READ_ONCE(pg->read_pointer);
		if (cmpxchg(&pg->read_pointer, old, old + n) == old)
			return true;
	}
	return false;
}

/**
 * ioreq_xen_page_drain() - take the writes Xen posted to the buffered ring
 * @iop: the page, with @iop->buf
 *
 * Follows the ring's pointer protocol as Xen's ioreq_send_buffered()
 * writes it and QEMU's handle_buffered_iopage() reads it: read
 * read_pointer, then write_pointer, then read_pointer again and start
 * over if it moved (Xen rebased the pair: it subtracts a multiple of the
 * slot count from both with one cmpxchg); the slots between them are
 * Xen's finished writes, published by its write barrier before
 * write_pointer moved.  An 8-byte write is two slots, the second holding
 * the high 32 bits of the data.  Each write goes to
 * ioreq_dispatch_posted(); then read_pointer advances, atomically, since
 * Xen's cmpxchg of the pair may run at the same time.
 *
 * A write whose session has IOREQ_POSTED_MAX records unread is dropped
 * and counted in @iop->buf_dropped: the ring serves every session of the
 * guest, and one backend that stops reading must not hold up the others'
 * writes (nor fill the ring, after which Xen sends every buffered write
 * synchronously, ahead of the ones still queued).  A pair of pointers
 * that cannot be Xen's (more than the ring apart, or never settling)
 * stops the drain and counts in @iop->buf_bad.
 *
 * Context: any (the ring's event handler, the start of a vcpu's event,
 * or process context); takes @iop->buf_lock with interrupts off.
 * Return: true if the ring was emptied, false if it was found
 * inconsistent.
 */
bool ioreq_xen_page_drain(struct ioreq_xen_page *iop)
{
	struct ioreq_xen_buf_page *pg = iop->buf;
	unsigned int budget = 2 * IOREQ_XEN_BUF_SLOTS;
	unsigned long flags;
	bool empty = false;
	u32 rd, wr, word, n;
	u64 data;

	spin_lock_irqsave(&iop->buf_lock, flags);
	/*
	 * Xen never has more than a ring's worth outstanding: the budget
	 * only bounds a hypervisor that keeps moving the pointers.
	 */
	while (budget--) {
		rd = READ_ONCE(pg->read_pointer);
		/*
		 * read_pointer before write_pointer, as QEMU's xen_rmb()
		 * orders them: a write_pointer from before a rebase that
		 * the read_pointer already saw would put the pair a ring
		 * apart.  Pairs with the full barrier of Xen's rebasing
		 * cmpxchg.
		 */
		virt_rmb();
		wr = READ_ONCE(pg->write_pointer);
		/*
		 * The slots before write_pointer are written: pairs with
		 * the smp_wmb() Xen's ioreq_send_buffered() puts between
		 * writing the slots and moving write_pointer.
		 */
		virt_rmb();
		if (READ_ONCE(pg->read_pointer) != rd)
			continue;
		if (rd == wr) {
			empty = true;
			break;
		}
		if (wr - rd > IOREQ_XEN_BUF_SLOTS) {
			iop->buf_bad++;
			pr_debug("buffered ring: pointers %u and %u: stopped\n",
				 rd, wr);
			break;
		}
		word = READ_ONCE(pg->slot[rd % IOREQ_XEN_BUF_SLOTS].word);
		data = READ_ONCE(pg->slot[rd % IOREQ_XEN_BUF_SLOTS].data);
		n = 1;
		if (IOREQ_XEN_BUF_SIZE(word) == 8) {
			/* Xen publishes both halves at once. */
			if (wr - rd < 2) {
				iop->buf_bad++;
				pr_debug_ratelimited("buffered ring: half an 8-byte write at %u\n",
						     rd);
				break;
			}
			data |= (u64)READ_ONCE(pg->slot[(rd + 1) %
						IOREQ_XEN_BUF_SLOTS].data) << 32;
			n = 2;
		}
		if (!ioreq_xen_post(iop, word, data))
			iop->buf_dropped++;
		if (!ioreq_xen_buf_advance(pg, n)) {
			iop->buf_bad++;
			break;
		}
	}
	spin_unlock_irqrestore(&iop->buf_lock, flags);
	return empty;
}

/**
 * ioreq_xen_page_count_vcpus() - count the slots Xen gave an event channel
 * @iop: the page, of an enabled server
 *
 * Xen writes each vcpu's vp_eport when the server is enabled, and port 0
 * is never allocated, so the slots in use are the leading ones with a
 * non-zero vp_eport.  Used when XEN_DMOP_nr_vcpus is not available.
 *
 * Context: any.
 * Return: the number of vcpus, at most IOREQ_XEN_MAX_VCPUS.
 */
u32 ioreq_xen_page_count_vcpus(struct ioreq_xen_page *iop)
{
	u32 n;

	ioreq_xen_abi_check();
	for (n = 0; n < IOREQ_XEN_MAX_VCPUS; n++)
		if (!READ_ONCE(iop->shared->vcpu_ioreq[n].vp_eport))
			break;
	return n;
}

/*
 * The server's domain.  A domid names a domain only until it dies: the
 * next domain may get the same domid (fixed domids in dom0less and
 * embedded setups, domid_policy=random), and its device model the same
 * server id, 0 to 7.  A dm_op naming (domid, id) after our domain died
 * would act on the other device model's server: unmap its ranges, disable
 * and destroy it.  So once the domain is known dead, nothing more is
 * issued; and before a dm_op whose target we have not just checked
 * (claiming or releasing a region, taking the server down), the domain is
 * checked to be ours still.
 */

/**
 * ioreq_xen_page_kill() - the server's domain is gone: issue no more dm_op
 * @iop: the page
 *
 * Context: any.
 */
void ioreq_xen_page_kill(struct ioreq_xen_page *iop)
{
	WRITE_ONCE(iop->dead, true);
}

/**
 * ioreq_xen_page_dm_op() - issue a dm_op on the server's domain
 * @iop: the page
 * @op: the operation
 *
 * Context: any; does not sleep.
 * Return: what Xen returned; -ESRCH without asking Xen once the domain is
 * known dead.  An -ESRCH from Xen marks it dead.
 */
int ioreq_xen_page_dm_op(struct ioreq_xen_page *iop,
			 struct ioreq_xen_dm_op *op)
{
	int ret;

	if (READ_ONCE(iop->dead))
		return -ESRCH;
	ret = iop->ops->dm_op(iop, op);
	if (ret == -ESRCH)
		ioreq_xen_page_kill(iop);
	return ret;
}

/**
 * ioreq_xen_page_alive() - is the server still ours, on our domain?
 * @iop: the page
 *
 * The domain must be the one the server was made for (->same_domain(),
 * which a reused domid does not fool), and Xen must still know the
 * server.  A false answer is final: the server is marked dead.
 *
 * Context: any; does not sleep.
 * Return: true if the server and its domain live.
 */
bool ioreq_xen_page_alive(struct ioreq_xen_page *iop)
{
	struct ioreq_xen_dm_op op = {
		.op = IOREQ_XEN_DMOP_GET_IOREQ_SERVER_INFO,
		.u.info.id = iop->id,
		.u.info.flags = IOREQ_XEN_DMOP_NO_GFNS,
	};

	if (READ_ONCE(iop->dead))
		return false;
	if (!iop->ops->same_domain(iop)) {
		ioreq_xen_page_kill(iop);
		return false;
	}
	if (ioreq_xen_page_dm_op(iop, &op)) {
		ioreq_xen_page_kill(iop);
		return false;
	}
	return true;
}

/**
 * ioreq_xen_page_range() - map or unmap a range of the server's
 * @iop: the page
 * @dmop: IOREQ_XEN_DMOP_MAP_IO_RANGE or IOREQ_XEN_DMOP_UNMAP_IO_RANGE
 * @space: IOREQ_SPACE_*
 * @start: first byte, port, or SBDF << 32 | register
 * @last: last one, inclusive
 *
 * A region becomes one range of Xen's: bytes of MMIO, ports, or for PCI
 * configuration space the functions it touches (Xen sends a function's
 * config accesses to the server whose range holds its SBDF).  The domain
 * is checked first: a region claimed or released after our domain died
 * must not land on the server of the domain that reused its domid.
 *
 * Context: any; does not sleep.
 * Return: 0, -EOPNOTSUPP for another space, -ENODEV once the domain is
 * gone (the uapi's "the guest is gone"), or what Xen returned.
 */
int ioreq_xen_page_range(struct ioreq_xen_page *iop, u32 dmop, u32 space,
			 u64 start, u64 last)
{
	struct ioreq_xen_dm_op op = {
		.op = dmop,
		.u.range.id = iop->id,
		.u.range.start = start,
		.u.range.end = last,
	};
	int ret;

	switch (space) {
	case IOREQ_SPACE_MMIO:
		op.u.range.type = IOREQ_XEN_IO_RANGE_MEMORY;
		break;
	case IOREQ_SPACE_PIO:
		op.u.range.type = IOREQ_XEN_IO_RANGE_PORT;
		break;
	case IOREQ_SPACE_PCI_CONFIG:
		op.u.range.type = IOREQ_XEN_IO_RANGE_PCI;
		op.u.range.start = start >> 32;
		op.u.range.end = last >> 32;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (!ioreq_xen_page_alive(iop))
		return -ENODEV;
	ret = ioreq_xen_page_dm_op(iop, &op);
	return ret == -ESRCH ? -ENODEV : ret;
}
