// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq Xen test double: the Xen provider's page protocol (page.c) with a
 * process in the role of Xen, so that the ordinary selftests run it
 * without a hypervisor.
 *
 * Each open file of /dev/ioreq-xen-double may create one guest: a
 * kzalloc'ed ioreq page, a core guest registered under
 * IOREQ_PROVIDER_XEN whose ->complete() calls ioreq_xen_page_complete()
 * as server.c's does, and a ->notify() that logs the kick instead of
 * sending an event.  The ioctls play Xen's side of the page:
 *
 *   IOREQ_XD_SEND   hvm_send_ioreq(): the slot must be NONE; fill it,
 *                   store READY with release, then run
 *                   ioreq_xen_page_event() as the event's interrupt does
 *   IOREQ_XD_WAIT   hvm_wait_for_io(): READY and INPROCESS are pending,
 *                   RESP_READY (acquire) gives the data and NONE is
 *                   written back; a state lower than one already seen,
 *                   or one Xen does not know, is a violation (Xen
 *                   crashes the domain)
 *   IOREQ_XD_EVENT, IOREQ_XD_GET_SLOT, IOREQ_XD_SET_SLOT
 *                   raw access for the protocol's corner cases
 *   IOREQ_XD_BUF_SEND
 *                   ioreq_send_buffered(): writes into the buffered ring,
 *                   write_pointer advanced after the slots, the pointers
 *                   rebased with a cmpxchg as HVM_IOREQSRV_BUFIOREQ_ATOMIC
 *                   does, then the ring's event (ioreq_xen_page_drain())
 *   IOREQ_XD_RAM    the guest's RAM (IOREQ_XD_RAM_SIZE bytes at
 *                   IOREQ_XD_RAM_BASE), which rep requests read and
 *                   write through ->guest_rw() as server.c's reach the
 *                   guest's frames; rep requests run on a work item
 *   IOREQ_XD_DESTROY, IOREQ_XD_KILL
 *                   the domain dies; the provider reaps its server
 *   IOREQ_XD_HOSTILE
 *                   a hypervisor that writes garbage into the page and
 *                   the ring, for the fuzzer
 *
 * Xen's table of domains is xd_domains: a domid names the live domain
 * that holds it, and the double's ->dm_op() acts on that domain's server,
 * whichever server issued it, as Xen would (each domain's first server
 * has id 0).  The provider's table of servers is xd_guests, as server.c's
 * ioreq_xen_servers: an entry outlives its domain until it is reaped.
 *
 * The double also checks what page.c must never do: notify a slot that is
 * not RESP_READY or holds no request, notify twice, or write a field of
 * the slot other than data and the state (vp_eport is Xen's).
 *
 * The real provider refuses to load outside Xen, and the double is not
 * loaded inside it, so the two never register the same provider id.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kfifo.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "../ioreq_xen.h"
#include "ioreq_xen_double.h"

#define XD_BUSY		0	/* bit of xd_vcpu.busy */
#define XD_KICKS	256	/* logged notifications per guest */

/**
 * struct xd_vcpu - Xen's side of one vcpu
 * @busy: XD_BUSY is set while an ioctl works on this vcpu
 * @event_lock: held around ioreq_xen_page_event(): like an interrupt,
 *	it never runs concurrently with itself for one vcpu
 * @wait: IOREQ_XD_WAIT sleeps here; ->notify() wakes it
 * @req: the request as posted, to check the fields page.c must not write
 * @posted: a request is posted and not yet taken back (under the guest's
 *	@lock)
 * @notifies: notifications since the request was posted (under @lock)
 * @last_state: the highest state seen for the request (owned by the
 *	ioctl holding @busy)
 * @how: IOREQ_XD_BY_*: written by ->complete() before it answers
 * @rep_work: runs ioreq_xen_page_rep() for this vcpu
 * @xg: the guest, for @rep_work
 * @id: this vcpu's id, for @rep_work
 */
struct xd_vcpu {
	unsigned long busy;
	spinlock_t event_lock;	/* serializes ioreq_xen_page_event() per vcpu */
	wait_queue_head_t wait;
	struct ioreq_xen_req req;
	bool posted;
	u32 notifies;
	u8 last_state;
	u8 how;
	struct work_struct rep_work;
	struct xd_guest *xg;
	u32 id;
};

/**
 * struct xd_guest - a guest of the double (the core guest's priv)
 * @iop: the page and its protocol state, as in server.c
 * @guest: the core's guest
 * @lock: protects @kicks, @lost, the counters below and each vcpu's
 *	@posted and @notifies; taken from ->notify(), in any context
 * @kicks: the notification log, read() by the test
 * @lost: kicks that did not fit @kicks
 * @total: notifications of all vcpus
 * @violations: protocol violations
 * @bad_notifies: notifications of a slot that was not answered
 * @bad_vcpu: where the first violation happened
 * @bad_from: the state before it
 * @bad_to: the state after it
 * @vcpu_notifies: notifications per vcpu since creation
 * @vcpus: per-vcpu state, @iop.nr_vcpus in use
 * @buf_send_lock: serializes IOREQ_XD_BUF_SEND, Xen's only writer of the
 *	ring (Xen takes the server's bufioreq_lock)
 * @ram_lock: protects @ram
 * @ram: the guest's RAM, IOREQ_XD_RAM_SIZE bytes at IOREQ_XD_RAM_BASE
 * @domid: the domain's id, the guest id
 * @domain_dead: IOREQ_XD_DESTROY or the file's release destroyed the
 *	domain: our ends of its channels are unbound (->same_domain())
 * @foreign_ops: dm_ops an earlier domain's server issued on this one's
 *	(under xd_domains' lock)
 * @ranges: ranges mapped in this domain's server (under xd_domains' lock)
 * @hostile_state: per vcpu, the state IOREQ_XD_HOSTILE last wrote into
 *	the slot (owned by the ioctl holding the vcpu's XD_BUSY)
 */
struct xd_guest {
	struct ioreq_xen_page iop;
	struct ioreq_guest *guest;
	spinlock_t lock;	/* the kick log and counters: see above */
	DECLARE_KFIFO(kicks, struct ioreq_xd_kick, XD_KICKS);
	u32 lost;
	u32 total;
	u32 violations;
	u32 bad_notifies;
	u32 bad_vcpu;
	u32 bad_from;
	u32 bad_to;
	u32 vcpu_notifies[IOREQ_XEN_MAX_VCPUS];
	struct xd_vcpu vcpus[IOREQ_XEN_MAX_VCPUS];
	struct mutex buf_send_lock;	/* one writer of the ring */
	struct mutex ram_lock;	/* protects @ram */
	u8 *ram;
	u32 domid;
	bool domain_dead;
	u32 foreign_ops;
	u32 ranges;
	u8 hostile_state[IOREQ_XEN_MAX_VCPUS];
};

/*
 * The provider's servers by domid (xd_guests) and Xen's live domains
 * (xd_domains).  xd_guests_lock makes lookup-and-get atomic against
 * removal and serializes changes to both; xd_domains' own lock guards a
 * domain's counters against its removal in ->dm_op().
 */
static DEFINE_MUTEX(xd_guests_lock);
static DEFINE_XARRAY(xd_guests);
static DEFINE_XARRAY_ALLOC1(xd_domains);

static struct ioreq_provider xd_provider;

static struct ioreq_xen_req *xd_req(struct xd_guest *xg, u32 vcpu)
{
	return &xg->iop.shared->vcpu_ioreq[vcpu];
}

static u8 xd_state(u8 flags)
{
	return flags & IOREQ_XEN_FLAG_STATE;
}

/* Record a violation; the first one is kept for IOREQ_XD_STATUS. */
static void xd_violation(struct xd_guest *xg, u32 vcpu, u32 from, u32 to)
{
	unsigned long flags;

	spin_lock_irqsave(&xg->lock, flags);
	if (!xg->violations++) {
		xg->bad_vcpu = vcpu;
		xg->bad_from = from;
		xg->bad_to = to;
	}
	spin_unlock_irqrestore(&xg->lock, flags);
	pr_warn("guest %llu vcpu %u: protocol violation, state %u -> %u\n",
		ioreq_guest_id(xg->guest), vcpu, from, to);
}

static void xd_notify(struct ioreq_xen_page *iop, u32 vcpu)
{
	struct xd_guest *xg = container_of(iop, struct xd_guest, iop);
	struct xd_vcpu *v = &xg->vcpus[vcpu];
	struct ioreq_xd_kick kick = {
		.vcpu = vcpu,
		.state = xd_state(READ_ONCE(xd_req(xg, vcpu)->flags)),
	};
	unsigned long flags;

	spin_lock_irqsave(&xg->lock, flags);
	if (!kfifo_put(&xg->kicks, kick))
		xg->lost++;
	xg->total++;
	xg->vcpu_notifies[vcpu]++;
	if (kick.state != IOREQ_XEN_STATE_RESP_READY || !v->posted)
		xg->bad_notifies++;
	v->notifies++;
	spin_unlock_irqrestore(&xg->lock, flags);
	wake_up(&v->wait);
}

static void xd_rep_work(struct work_struct *work)
{
	struct xd_vcpu *v = container_of(work, struct xd_vcpu, rep_work);

	ioreq_xen_page_rep(&v->xg->iop, v->id);
}

static void xd_queue_rep(struct ioreq_xen_page *iop, u32 vcpu)
{
	struct xd_guest *xg = container_of(iop, struct xd_guest, iop);

	queue_work(system_unbound_wq, &xg->vcpus[vcpu].rep_work);
}

/* [@gpa, @gpa + @len) within the RAM: its offset, or -ENXIO. */
static long xd_ram_offset(u64 gpa, u64 len)
{
	if (gpa < IOREQ_XD_RAM_BASE || len > IOREQ_XD_RAM_SIZE ||
	    gpa - IOREQ_XD_RAM_BASE > IOREQ_XD_RAM_SIZE - len)
		return -ENXIO;
	return gpa - IOREQ_XD_RAM_BASE;
}

static int xd_guest_rw(struct ioreq_xen_page *iop, u64 gpa, void *buf,
		       size_t len, bool write)
{
	struct xd_guest *xg = container_of(iop, struct xd_guest, iop);
	long off = xd_ram_offset(gpa, len);

	if (off < 0)
		return off;
	mutex_lock(&xg->ram_lock);
	if (write)
		memcpy(xg->ram + off, buf, len);
	else
		memcpy(buf, xg->ram + off, len);
	mutex_unlock(&xg->ram_lock);
	return 0;
}

static void xd_handled(struct ioreq_xen_page *iop, u32 vcpu)
{
	struct xd_guest *xg = container_of(iop, struct xd_guest, iop);

	/* Before the answer is published: its release orders this. */
	WRITE_ONCE(xg->vcpus[vcpu].how, IOREQ_XD_BY_HANDLED);
}

/*
 * XEN_DMOP_*: Xen finds the domain by domid, and the server by id in it.
 * Only the range count is kept; an op that reaches another domain than
 * the issuer's is what a reused domid does to a careless provider.
 */
static int xd_dm_op(struct ioreq_xen_page *iop, struct ioreq_xen_dm_op *op)
{
	struct xd_guest *xg = container_of(iop, struct xd_guest, iop);
	struct xd_guest *dom;
	unsigned long flags;
	int ret = 0;

	xa_lock_irqsave(&xd_domains, flags);
	dom = xa_load(&xd_domains, xg->domid);
	if (!dom)
		ret = -ESRCH;
	else if (dom != xg)
		dom->foreign_ops++;
	else if (op->op == IOREQ_XEN_DMOP_MAP_IO_RANGE)
		dom->ranges++;
	else if (op->op == IOREQ_XEN_DMOP_UNMAP_IO_RANGE)
		dom->ranges--;
	xa_unlock_irqrestore(&xd_domains, flags);
	return ret;
}

/* EVTCHNOP_status of our end: unbound once the domain is destroyed. */
static bool xd_same_domain(struct ioreq_xen_page *iop)
{
	struct xd_guest *xg = container_of(iop, struct xd_guest, iop);

	return !READ_ONCE(xg->domain_dead);
}

static const struct ioreq_xen_page_ops xd_page_ops = {
	.notify = xd_notify,
	.dm_op = xd_dm_op,
	.same_domain = xd_same_domain,
	.handled = xd_handled,
	.queue_rep = xd_queue_rep,
	.guest_rw = xd_guest_rw,
};

/* The event channel's interrupt: one at a time per vcpu, irqs off. */
static bool xd_event(struct xd_guest *xg, u32 vcpu)
{
	struct xd_vcpu *v = &xg->vcpus[vcpu];
	unsigned long flags;
	bool taken;

	spin_lock_irqsave(&v->event_lock, flags);
	taken = ioreq_xen_page_event(&xg->iop, vcpu);
	spin_unlock_irqrestore(&v->event_lock, flags);
	return taken;
}

static struct ioreq_guest *xd_get_guest(u64 guest_id)
{
	struct ioreq_guest *guest = ERR_PTR(-ESRCH);
	struct xd_guest *xg;

	if (guest_id > IOREQ_XD_MAX_GUEST_ID)
		return guest;
	mutex_lock(&xd_guests_lock);
	xg = xa_load(&xd_guests, guest_id);
	if (xg) {
		ioreq_guest_get(xg->guest);
		guest = xg->guest;
	}
	mutex_unlock(&xd_guests_lock);
	/* As server.c's: a server whose domain died is not attached to. */
	if (xg && !ioreq_xen_page_alive(&xg->iop)) {
		ioreq_guest_put(guest);
		guest = ERR_PTR(-ESRCH);
	}
	return guest;
}

static int xd_map_range(struct ioreq_guest *guest, u32 space, u64 start,
			u64 last)
{
	struct xd_guest *xg = ioreq_guest_priv(guest);

	return ioreq_xen_page_range(&xg->iop, IOREQ_XEN_DMOP_MAP_IO_RANGE,
				    space, start, last);
}

static void xd_unmap_range(struct ioreq_guest *guest, u32 space, u64 start,
			   u64 last)
{
	struct xd_guest *xg = ioreq_guest_priv(guest);

	ioreq_xen_page_range(&xg->iop, IOREQ_XEN_DMOP_UNMAP_IO_RANGE, space,
			     start, last);
}

static void xd_complete(struct ioreq_guest *guest, u32 vcpu, u64 data,
			enum ioreq_status status)
{
	struct xd_guest *xg = ioreq_guest_priv(guest);

	/* Before the answer is published: its release orders this. */
	WRITE_ONCE(xg->vcpus[vcpu].how, status == IOREQ_DONE ?
		   IOREQ_XD_BY_DONE : IOREQ_XD_BY_ABORTED);
	ioreq_xen_page_complete(&xg->iop, vcpu, data, status);
}

/* A session read posted writes: the drain may go on. */
static void xd_posted_room(struct ioreq_guest *guest)
{
	struct xd_guest *xg = ioreq_guest_priv(guest);

	ioreq_xen_page_drain(&xg->iop);
}

static void xd_release(struct ioreq_guest *guest)
{
	struct xd_guest *xg = ioreq_guest_priv(guest);
	u32 i;

	/* No session is left, so no rep waits for a backend. */
	for (i = 0; i < IOREQ_XEN_MAX_VCPUS; i++)
		flush_work(&xg->vcpus[i].rep_work);
	/*
	 * As server.c's teardown: disable and destroy the server, unless
	 * the domain is gone (its domid may be another's by now).
	 */
	if (ioreq_xen_page_alive(&xg->iop)) {
		struct ioreq_xen_dm_op op = {
			.op = IOREQ_XEN_DMOP_SET_IOREQ_SERVER_STATE,
			.u.state.id = xg->iop.id,
		};

		ioreq_xen_page_dm_op(&xg->iop, &op);
		op = (struct ioreq_xen_dm_op) {
			.op = IOREQ_XEN_DMOP_DESTROY_IOREQ_SERVER,
			.u.destroy.id = xg->iop.id,
		};
		ioreq_xen_page_dm_op(&xg->iop, &op);
	}
	kfree(xg->ram);
	kfree(xg->iop.buf);
	kfree(xg->iop.shared);
	kvfree(xg);
}

static const struct ioreq_provider_ops xd_ops = {
	.owner = THIS_MODULE,
	.name = "xen-double",
	.id = IOREQ_PROVIDER_XEN,
	/* The core's ioeventfds, as on Xen: rep elements meet them too. */
	.caps = IOREQ_CAP_MMIO | IOREQ_CAP_PIO | IOREQ_CAP_PCI_CONFIG |
		IOREQ_CAP_POSTED_WRITES | IOREQ_CAP_INVALIDATE |
		IOREQ_CAP_IOEVENTFD,
	.get_guest = xd_get_guest,
	.map_range = xd_map_range,
	.unmap_range = xd_unmap_range,
	.complete = xd_complete,
	.release = xd_release,
	.posted_room = xd_posted_room,
};

static struct ioreq_provider xd_provider = {
	.ops = &xd_ops,
};

static struct xd_guest *xd_file_guest(struct file *file)
{
	/* Pairs with smp_store_release() in xd_create(). */
	return smp_load_acquire((struct xd_guest **)&file->private_data);
}

/* Xen's port numbers for the vcpus' channels: any non-zero value. */
static u32 xd_port(u32 vcpu)
{
	return 0x100 + vcpu;
}

static int xd_create(struct file *file, struct ioreq_xd_create *arg)
{
	struct xd_guest *xg, *stale = NULL;
	struct ioreq_guest *guest;
	u32 id, i, nr;
	int ret;

	if (arg->flags & ~IOREQ_XD_CREATE_COUNT)
		return -EINVAL;
	if (!arg->nr_vcpus || arg->nr_vcpus > IOREQ_XEN_MAX_VCPUS)
		return -EINVAL;
	if (arg->guest_id > IOREQ_XD_MAX_GUEST_ID)
		return -EINVAL;

	xg = kvzalloc(sizeof(*xg), GFP_KERNEL_ACCOUNT);
	if (!xg)
		return -ENOMEM;
	xg->iop.shared = kzalloc(sizeof(*xg->iop.shared), GFP_KERNEL_ACCOUNT);
	xg->ram = kzalloc(IOREQ_XD_RAM_SIZE, GFP_KERNEL_ACCOUNT);
	xg->iop.buf = kzalloc(sizeof(*xg->iop.buf), GFP_KERNEL_ACCOUNT);
	if (!xg->iop.shared || !xg->ram || !xg->iop.buf) {
		ret = -ENOMEM;
		goto err_free;
	}
	xg->iop.ops = &xd_page_ops;
	ioreq_xen_page_init(&xg->iop);
	spin_lock_init(&xg->lock);
	mutex_init(&xg->ram_lock);
	mutex_init(&xg->buf_send_lock);
	INIT_KFIFO(xg->kicks);
	for (i = 0; i < IOREQ_XEN_MAX_VCPUS; i++) {
		spin_lock_init(&xg->vcpus[i].event_lock);
		init_waitqueue_head(&xg->vcpus[i].wait);
		INIT_WORK(&xg->vcpus[i].rep_work, xd_rep_work);
		xg->vcpus[i].xg = xg;
		xg->vcpus[i].id = i;
	}
	/* Enabling the server: Xen binds a channel per vcpu. */
	for (i = 0; i < arg->nr_vcpus; i++)
		xd_req(xg, i)->vp_eport = xd_port(i);
	nr = arg->nr_vcpus;
	if (arg->flags & IOREQ_XD_CREATE_COUNT)
		nr = ioreq_xen_page_count_vcpus(&xg->iop);

	mutex_lock(&xd_guests_lock);
	if (file->private_data) {
		ret = -EBUSY;
		goto err_unlock;
	}
	/* Xen makes the domain, and its device model server 0 in it. */
	if (arg->guest_id) {
		id = arg->guest_id;
		ret = xa_insert(&xd_domains, id, xg, GFP_KERNEL_ACCOUNT);
		if (ret == -EBUSY)
			ret = -EEXIST;
	} else {
		ret = xa_alloc(&xd_domains, &id, xg,
			       XA_LIMIT(1, IOREQ_XD_MAX_GUEST_ID),
			       GFP_KERNEL_ACCOUNT);
		if (ret == -EBUSY)
			ret = -ENOSPC;
	}
	if (ret)
		goto err_unlock;
	xg->domid = id;

	/*
	 * The provider may still hold the server of an earlier domain with
	 * this domid: reap it if it is dead, as server.c's get_guest() does.
	 * Asking Xen whether it knows server 0 of this domid would say yes:
	 * the new domain has one.
	 */
	stale = xa_load(&xd_guests, id);
	if (stale && ioreq_xen_page_alive(&stale->iop)) {
		stale = NULL;
		ret = -EEXIST;
		goto err_domain;
	}
	if (stale) {
		xa_erase(&xd_guests, id);
		ioreq_guest_get(stale->guest);
	}
	ret = xa_insert(&xd_guests, id, xg, GFP_KERNEL_ACCOUNT);
	if (ret)
		goto err_stale;

	guest = ioreq_guest_create(&xd_provider, id, nr, xg);
	if (IS_ERR(guest)) {
		ret = PTR_ERR(guest);
		goto err_erase;
	}
	xg->guest = guest;
	xg->iop.guest = guest;
	xg->iop.nr_vcpus = nr;
	/* Publish a complete guest: pairs with xd_file_guest(). */
	smp_store_release((struct xd_guest **)&file->private_data, xg);
	mutex_unlock(&xd_guests_lock);
	if (stale) {
		ioreq_guest_kill(stale->guest);
		ioreq_guest_put(stale->guest);
	}
	arg->guest_id = id;
	arg->nr_vcpus = nr;
	return 0;

err_erase:
	xa_erase(&xd_guests, id);
err_stale:
	if (stale)
		xa_store(&xd_guests, id, stale, GFP_KERNEL_ACCOUNT);
err_domain:
	xa_erase(&xd_domains, id);
err_unlock:
	mutex_unlock(&xd_guests_lock);
	if (stale)
		ioreq_guest_put(stale->guest);
err_free:
	kfree(xg->ram);
	kfree(xg->iop.buf);
	kfree(xg->iop.shared);
	kvfree(xg);
	return ret;
}

/* One write into the ring, as ioreq_send_buffered(); false if no room. */
static bool xd_buf_put(struct ioreq_xen_buf_page *pg,
		       const struct ioreq_xd_buf_write *w)
{
	u32 n = w->size == 8 ? 2 : 1, wr = pg->write_pointer;
	u32 word = w->type | (u32)(ilog2(w->size) << 10) | w->addr << 12;
	u64 old, new;

	if (wr - READ_ONCE(pg->read_pointer) + n > IOREQ_XEN_BUF_SLOTS)
		return false;
	pg->slot[wr % IOREQ_XEN_BUF_SLOTS].word = word;
	pg->slot[wr % IOREQ_XEN_BUF_SLOTS].data = (u32)w->data;
	if (n == 2) {
		pg->slot[(wr + 1) % IOREQ_XEN_BUF_SLOTS].word = word;
		pg->slot[(wr + 1) % IOREQ_XEN_BUF_SLOTS].data = w->data >> 32;
	}
	/* The slots before the pointer: pairs with the drain's smp_rmb(). */
	smp_wmb();
	WRITE_ONCE(pg->write_pointer, wr + n);
	/* HVM_IOREQSRV_BUFIOREQ_ATOMIC: rebase the pair in one go. */
	for (;;) {
		old = READ_ONCE(*(u64 *)pg);
		if ((u32)old < IOREQ_XEN_BUF_SLOTS)
			break;
		new = old - ((u64)((u32)old / IOREQ_XEN_BUF_SLOTS *
				   IOREQ_XEN_BUF_SLOTS) * 0x100000001ULL);
		cmpxchg64((u64 *)pg, old, new);
	}
	return true;
}

static int xd_buf_send(struct file *file, struct ioreq_xd_buf_send *arg)
{
	struct xd_guest *xg = xd_file_guest(file);
	struct ioreq_xd_buf_write __user *uw = u64_to_user_ptr(arg->writes);
	struct ioreq_xd_buf_write w;
	u32 i;

	if (!xg)
		return -ENXIO;
	if (arg->flags & ~IOREQ_XD_BUF_NO_EVENT || arg->pad)
		return -EINVAL;
	mutex_lock(&xg->buf_send_lock);
	for (i = 0; i < arg->nr; i++) {
		if (copy_from_user(&w, &uw[i], sizeof(w))) {
			mutex_unlock(&xg->buf_send_lock);
			return -EFAULT;
		}
		if ((w.type != IOREQ_XEN_TYPE_PIO &&
		     w.type != IOREQ_XEN_TYPE_COPY) || w.pad ||
		    !is_power_of_2(w.size) || w.size > 8 || w.addr >> 20) {
			mutex_unlock(&xg->buf_send_lock);
			return -EINVAL;
		}
		if (!xd_buf_put(xg->iop.buf, &w))
			break;
	}
	mutex_unlock(&xg->buf_send_lock);
	arg->sent = i;
	if (!(arg->flags & IOREQ_XD_BUF_NO_EVENT))
		ioreq_xen_page_drain(&xg->iop);
	arg->read_pointer = READ_ONCE(xg->iop.buf->read_pointer);
	arg->write_pointer = READ_ONCE(xg->iop.buf->write_pointer);
	return 0;
}

static int xd_ram(struct file *file, struct ioreq_xd_ram *arg)
{
	struct xd_guest *xg = xd_file_guest(file);
	void __user *ubuf = u64_to_user_ptr(arg->buf);
	long off;
	int ret = 0;

	if (!xg)
		return -ENXIO;
	if (arg->write > 1)
		return -EINVAL;
	off = xd_ram_offset(arg->gpa, arg->len);
	if (off < 0)
		return off;
	mutex_lock(&xg->ram_lock);
	if (arg->write && copy_from_user(xg->ram + off, ubuf, arg->len))
		ret = -EFAULT;
	else if (!arg->write && copy_to_user(ubuf, xg->ram + off, arg->len))
		ret = -EFAULT;
	mutex_unlock(&xg->ram_lock);
	return ret;
}

static void xd_slot_get(struct xd_guest *xg, u32 vcpu,
			struct ioreq_xd_slot *s)
{
	struct ioreq_xen_req *req = xd_req(xg, vcpu);

	/* The state first: the fields are those it published. */
	s->flags = smp_load_acquire(&req->flags);
	s->addr = READ_ONCE(req->addr);
	s->data = READ_ONCE(req->data);
	s->count = READ_ONCE(req->count);
	s->size = READ_ONCE(req->size);
	s->vp_eport = READ_ONCE(req->vp_eport);
	s->pad0 = READ_ONCE(req->pad0);
	s->type = READ_ONCE(req->type);
}

/* Fill the slot's fields but the state byte. */
static void xd_slot_fill(struct ioreq_xen_req *req,
			 const struct ioreq_xd_slot *s, bool raw)
{
	WRITE_ONCE(req->addr, s->addr);
	WRITE_ONCE(req->data, s->data);
	WRITE_ONCE(req->count, s->count);
	WRITE_ONCE(req->size, s->size);
	WRITE_ONCE(req->type, s->type);
	if (raw) {
		WRITE_ONCE(req->vp_eport, s->vp_eport);
		WRITE_ONCE(req->pad0, s->pad0);
	}
}

/* Look up a vcpu of this file's guest and mark it busy. */
static int xd_vcpu_get(struct file *file, u32 *vcpu, struct xd_guest **xgp)
{
	struct xd_guest *xg = xd_file_guest(file);

	if (!xg)
		return -ENXIO;
	if (*vcpu >= xg->iop.nr_vcpus)
		return -EINVAL;
	*vcpu = array_index_nospec(*vcpu, xg->iop.nr_vcpus);
	if (test_and_set_bit_lock(XD_BUSY, &xg->vcpus[*vcpu].busy))
		return -EBUSY;
	*xgp = xg;
	return 0;
}

static void xd_vcpu_put(struct xd_guest *xg, u32 vcpu)
{
	clear_bit_unlock(XD_BUSY, &xg->vcpus[vcpu].busy);
}

static int xd_send(struct file *file, struct ioreq_xd_send *arg)
{
	u8 dirflags = IOREQ_XEN_FLAG_DATA_IS_PTR | IOREQ_XEN_FLAG_DIR_READ |
		      IOREQ_XEN_FLAG_DF;
	bool raw = arg->flags & IOREQ_XD_SEND_RAW;
	struct ioreq_xen_req *req;
	struct xd_guest *xg;
	struct xd_vcpu *v;
	u8 flags, state;
	u32 vcpu;
	int ret;

	if (arg->flags & ~(IOREQ_XD_SEND_NO_EVENT | IOREQ_XD_SEND_RAW))
		return -EINVAL;
	if (xd_state(arg->req.flags) || (!raw && (arg->req.flags & ~dirflags)))
		return -EINVAL;
	vcpu = arg->vcpu;
	ret = xd_vcpu_get(file, &vcpu, &xg);
	if (ret)
		return ret;
	v = &xg->vcpus[vcpu];
	req = xd_req(xg, vcpu);

	/* Pairs with the vcpu's release of NONE in xd_wait(): slot is free. */
	flags = smp_load_acquire(&req->flags);
	if (xd_state(flags) != IOREQ_XEN_STATE_NONE) {
		/* Xen: "device model set bad IO state" */
		ret = -EALREADY;
		goto out;
	}
	xd_slot_fill(req, &arg->req, raw);
	flags = (raw ? arg->req.flags : (flags & ~dirflags) | arg->req.flags) |
		IOREQ_XEN_STATE_READY;

	spin_lock_irq(&xg->lock);
	v->posted = true;
	v->notifies = 0;
	spin_unlock_irq(&xg->lock);
	v->last_state = IOREQ_XEN_STATE_READY;
	WRITE_ONCE(v->how, IOREQ_XD_BY_EVENT);
	v->req = *req;
	v->req.flags = flags;
	/*
	 * The request before the state, as hvm_send_ioreq() orders them.
	 * Pairs with smp_load_acquire() in ioreq_xen_page_event().
	 */
	smp_store_release(&req->flags, flags);

	arg->taken = 0;
	if (!(arg->flags & IOREQ_XD_SEND_NO_EVENT))
		arg->taken = xd_event(xg, vcpu);
	/* Pairs with smp_store_release() in ioreq_xen_respond(). */
	state = xd_state(smp_load_acquire(&req->flags));
	arg->state = state;
	if (arg->flags & IOREQ_XD_SEND_NO_EVENT)
		goto out;
	/* A request the handler did not take, or took and left READY. */
	if (!arg->taken || state < IOREQ_XEN_STATE_INPROCESS ||
	    state > IOREQ_XEN_STATE_RESP_READY)
		xd_violation(xg, vcpu, IOREQ_XEN_STATE_READY, state);
	else
		v->last_state = state;
out:
	xd_vcpu_put(xg, vcpu);
	return ret;
}

static int xd_event_ioctl(struct file *file, struct ioreq_xd_event *arg)
{
	struct xd_guest *xg;
	u32 vcpu;
	int ret;

	vcpu = arg->vcpu;
	ret = xd_vcpu_get(file, &vcpu, &xg);
	if (ret)
		return ret;
	xd_slot_get(xg, vcpu, &arg->before);
	arg->taken = xd_event(xg, vcpu);
	xd_slot_get(xg, vcpu, &arg->after);
	xd_vcpu_put(xg, vcpu);
	return 0;
}

/* Fields page.c must leave as Xen wrote them: all but data and state. */
static bool xd_fields_kept(const struct ioreq_xen_req *a,
			   const struct ioreq_xen_req *b)
{
	return a->addr == b->addr && a->count == b->count &&
	       a->size == b->size && a->vp_eport == b->vp_eport &&
	       a->pad0 == b->pad0 && a->type == b->type &&
	       (a->flags & ~IOREQ_XEN_FLAG_STATE) ==
	       (b->flags & ~IOREQ_XEN_FLAG_STATE);
}

static bool xd_changed(struct xd_guest *xg, u32 vcpu, u8 state, u32 notifies)
{
	/* Pairs with smp_store_release() in ioreq_xen_respond(). */
	return xd_state(smp_load_acquire(&xd_req(xg, vcpu)->flags)) != state ||
	       READ_ONCE(xg->vcpus[vcpu].notifies) != notifies;
}

static int xd_wait(struct file *file, struct ioreq_xd_wait *arg)
{
	unsigned long deadline, tick = max(msecs_to_jiffies(10), 1UL);
	struct ioreq_xen_req *req, now;
	struct xd_guest *xg;
	struct xd_vcpu *v;
	u32 vcpu, notifies;
	bool posted;
	u8 state;
	long left;
	int ret;

	vcpu = arg->vcpu;
	ret = xd_vcpu_get(file, &vcpu, &xg);
	if (ret)
		return ret;
	v = &xg->vcpus[vcpu];
	req = xd_req(xg, vcpu);
	deadline = jiffies + msecs_to_jiffies(arg->timeout_ms);
	arg->data = 0;
	arg->how = 0;

	spin_lock_irq(&xg->lock);
	posted = v->posted;
	spin_unlock_irq(&xg->lock);
	if (!posted) {
		ret = -ENOENT;
		goto out;
	}
	for (;;) {
		/* Pairs with smp_store_release() in ioreq_xen_respond(). */
		now.flags = smp_load_acquire(&req->flags);
		state = xd_state(now.flags);
		spin_lock_irq(&xg->lock);
		notifies = v->notifies;
		spin_unlock_irq(&xg->lock);
		arg->state = state;
		arg->notifies = notifies;
		if (state < v->last_state ||
		    state > IOREQ_XEN_STATE_RESP_READY) {
			/* Xen: "Weird HVM ioreq state transition" */
			xd_violation(xg, vcpu, v->last_state, state);
			arg->result = IOREQ_XD_VIOLATION;
			break;
		}
		v->last_state = state;
		if (state == IOREQ_XEN_STATE_RESP_READY && notifies) {
			now.addr = READ_ONCE(req->addr);
			now.count = READ_ONCE(req->count);
			now.size = READ_ONCE(req->size);
			now.vp_eport = READ_ONCE(req->vp_eport);
			now.pad0 = READ_ONCE(req->pad0);
			now.type = READ_ONCE(req->type);
			arg->data = READ_ONCE(req->data);
			arg->how = READ_ONCE(v->how);
			if (!xd_fields_kept(&now, &v->req) || notifies != 1) {
				xd_violation(xg, vcpu, IOREQ_XD_BAD_FIELD,
					     IOREQ_XD_BAD_FIELD);
				arg->result = IOREQ_XD_VIOLATION;
				break;
			}
			spin_lock_irq(&xg->lock);
			v->posted = false;
			spin_unlock_irq(&xg->lock);
			/* The vcpu took the answer: the slot is Xen's again. */
			WRITE_ONCE(req->flags, (now.flags & ~IOREQ_XEN_FLAG_STATE) |
					       IOREQ_XEN_STATE_NONE);
			arg->result = IOREQ_XD_ANSWERED;
			break;
		}
		left = (long)(deadline - jiffies);
		if (left <= 0) {
			arg->result = IOREQ_XD_PENDING;
			break;
		}
		left = min_t(unsigned long, left, tick);
		left = wait_event_interruptible_timeout(v->wait,
							xd_changed(xg, vcpu, state, notifies),
							left);
		if (left < 0) {
			ret = left;
			break;
		}
	}
out:
	xd_vcpu_put(xg, vcpu);
	return ret;
}

static int xd_get_slot(struct file *file, struct ioreq_xd_slot_io *arg)
{
	struct xd_guest *xg;
	u32 vcpu;
	int ret;

	vcpu = arg->vcpu;
	ret = xd_vcpu_get(file, &vcpu, &xg);
	if (ret)
		return ret;
	xd_slot_get(xg, vcpu, &arg->slot);
	xd_vcpu_put(xg, vcpu);
	return 0;
}

static int xd_set_slot(struct file *file, struct ioreq_xd_slot_io *arg)
{
	struct ioreq_xen_req *req;
	struct xd_guest *xg;
	u32 vcpu;
	int ret;

	if (arg->pad)
		return -EINVAL;
	vcpu = arg->vcpu;
	ret = xd_vcpu_get(file, &vcpu, &xg);
	if (ret)
		return ret;
	req = xd_req(xg, vcpu);
	xd_slot_fill(req, &arg->slot, true);
	/* Pairs with smp_load_acquire() in ioreq_xen_page_event(). */
	smp_store_release(&req->flags, arg->slot.flags);
	xd_vcpu_put(xg, vcpu);
	return 0;
}

static int xd_status(struct file *file, struct ioreq_xd_status *arg)
{
	struct xd_guest *xg = xd_file_guest(file);
	u32 foreign_ops, ranges, buf_bad, vcpu = arg->vcpu;
	u64 buf_dropped;

	if (!xg)
		return -ENXIO;
	if (vcpu >= xg->iop.nr_vcpus)
		return -EINVAL;
	vcpu = array_index_nospec(vcpu, xg->iop.nr_vcpus);
	xa_lock_irq(&xd_domains);
	foreign_ops = xg->foreign_ops;
	ranges = xg->ranges;
	xa_unlock_irq(&xd_domains);
	spin_lock_irq(&xg->iop.buf_lock);
	buf_bad = xg->iop.buf_bad;
	buf_dropped = xg->iop.buf_dropped;
	spin_unlock_irq(&xg->iop.buf_lock);
	spin_lock_irq(&xg->lock);
	*arg = (struct ioreq_xd_status) {
		.foreign_ops = foreign_ops,
		.ranges = ranges,
		.buf_bad = buf_bad,
		.buf_dropped = buf_dropped,
		.vcpu = vcpu,
		.notifies = xg->vcpu_notifies[vcpu],
		.total = xg->total,
		.violations = xg->violations,
		.bad_notifies = xg->bad_notifies,
		.lost = xg->lost,
		.bad_vcpu = xg->bad_vcpu,
		.bad_from = xg->bad_from,
		.bad_to = xg->bad_to,
	};
	spin_unlock_irq(&xg->lock);
	return 0;
}

static int xd_count_vcpus(struct ioreq_xd_count *arg)
{
	struct ioreq_xen_page *iop;
	u32 i;

	if (arg->pad)
		return -EINVAL;
	/* Too big for the stack with its per-vcpu rep state. */
	iop = kzalloc(sizeof(*iop), GFP_KERNEL_ACCOUNT);
	if (!iop)
		return -ENOMEM;
	iop->shared = kzalloc(sizeof(*iop->shared), GFP_KERNEL_ACCOUNT);
	if (!iop->shared) {
		kfree(iop);
		return -ENOMEM;
	}
	for (i = 0; i < IOREQ_XEN_MAX_VCPUS; i++)
		if (arg->ports[i / 64] & BIT_ULL(i % 64))
			iop->shared->vcpu_ioreq[i].vp_eport = xd_port(i);
	arg->count = ioreq_xen_page_count_vcpus(iop);
	kfree(iop->shared);
	kfree(iop);
	return 0;
}

/* Xen destroys the domain: its domid is free again.  Lock held. */
static void xd_domain_destroy(struct xd_guest *xg)
	__must_hold(&xd_guests_lock)
{
	lockdep_assert_held(&xd_guests_lock);
	xa_cmpxchg(&xd_domains, xg->domid, xg, NULL, 0);
	WRITE_ONCE(xg->domain_dead, true);
}

static int xd_destroy(struct file *file)
{
	struct xd_guest *xg = xd_file_guest(file);

	if (!xg)
		return -ENXIO;
	mutex_lock(&xd_guests_lock);
	xd_domain_destroy(xg);
	mutex_unlock(&xd_guests_lock);
	return 0;
}

static int xd_kill(struct file *file)
{
	struct xd_guest *xg = xd_file_guest(file);

	if (!xg)
		return -ENXIO;
	/* The domain died: as server.c's ioreq_xen_stop() does. */
	ioreq_guest_kill(xg->guest);
	return 0;
}

/* ---- a hostile Xen ---------------------------------------------------- */

static u64 xd_rnd(u64 *s)
{
	/* xorshift64*: reproducible from the seed */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static u64 xd_pick(u64 *s, const u64 *v, unsigned int n)
{
	return v[xd_rnd(s) % n];
}

/* An address: anywhere, or aimed at what the backends claim. */
static u64 xd_hostile_addr(u64 *s, const struct ioreq_xd_hostile *arg)
{
	u64 span = arg->span ?: 1;

	switch (xd_rnd(s) % 4) {
	case 0:
		return xd_rnd(s);
	case 1:
		return arg->pio_base + xd_rnd(s) % span;
	default:
		return arg->mmio_base + xd_rnd(s) % span;
	}
}

/* Write the state byte, and remember it as this Xen's last word. */
static void xd_hostile_flags(struct xd_guest *xg, u32 vcpu, u8 flags)
{
	xg->hostile_state[vcpu] = xd_state(flags);
	/* Pairs with virt_load_acquire() in ioreq_xen_page_event(). */
	smp_store_release(&xd_req(xg, vcpu)->flags, flags);
}

/* A request with random fields, in any state; its event or not. */
static void xd_hostile_post(struct xd_guest *xg, u32 vcpu, u64 *s,
			    struct ioreq_xd_hostile *arg)
{
	static const u64 sizes[] = { 0, 1, 2, 3, 4, 8, 16, 0xffffffff };
	static const u64 counts[] = { 0, 1, 1, 1, 2, 17, 4096, 4097,
				      0xffffffff };
	static const u64 types[] = { 0, 1, 2, 7, 8, 3, 0xff };
	struct ioreq_xen_req *req = xd_req(xg, vcpu);
	u8 flags = xd_rnd(s) & 0x70;

	WRITE_ONCE(req->addr, xd_hostile_addr(s, arg));
	/* data_is_ptr: sometimes into the RAM, where a rep can copy */
	WRITE_ONCE(req->data, xd_rnd(s) % 2 ? xd_rnd(s) :
			      IOREQ_XD_RAM_BASE + xd_rnd(s) % IOREQ_XD_RAM_SIZE);
	WRITE_ONCE(req->count, xd_rnd(s) % 2 ? 1 :
			       (u32)xd_pick(s, counts, ARRAY_SIZE(counts)));
	WRITE_ONCE(req->size, xd_rnd(s) % 2 ? 1U << (xd_rnd(s) % 4) :
			      (u32)xd_pick(s, sizes, ARRAY_SIZE(sizes)));
	WRITE_ONCE(req->type, xd_rnd(s) % 2 ? xd_rnd(s) % 3 :
			      (u8)xd_pick(s, types, ARRAY_SIZE(types)));
	flags |= xd_rnd(s) % 8 ? IOREQ_XEN_STATE_READY : xd_rnd(s) & 0xf;
	xd_hostile_flags(xg, vcpu, flags);
	/* a missing event, now and then */
	if (xd_rnd(s) % 8) {
		arg->events++;
		arg->taken += xd_event(xg, vcpu);
	}
}

/* Overwrite one field of the slot, whoever owns it now. */
static void xd_hostile_scribble(struct xd_guest *xg, u32 vcpu, u64 *s)
{
	struct ioreq_xen_req *req = xd_req(xg, vcpu);
	u64 v = xd_rnd(s);

	switch (xd_rnd(s) % 7) {
	case 0:
		WRITE_ONCE(req->addr, v);
		break;
	case 1:
		WRITE_ONCE(req->data, v);
		break;
	case 2:
		WRITE_ONCE(req->count, (u32)v);
		break;
	case 3:
		WRITE_ONCE(req->size, (u32)v);
		break;
	case 4:
		WRITE_ONCE(req->type, (u8)v);
		break;
	case 5:
		WRITE_ONCE(req->vp_eport, (u32)v);
		break;
	default:
		xd_hostile_flags(xg, vcpu, (u8)v);
		break;
	}
}

/* Garbage pointers or words in the ring, or one valid write; drain. */
static void xd_hostile_ring(struct xd_guest *xg, u64 *s,
			    struct ioreq_xd_hostile *arg)
{
	struct ioreq_xen_buf_page *pg = xg->iop.buf;
	struct ioreq_xd_buf_write w = {
		.type = xd_rnd(s) % 2,
		.size = 1 << (xd_rnd(s) % 4),
		.addr = xd_hostile_addr(s, arg) & 0xfffff,
		.data = xd_rnd(s),
	};
	u64 v = xd_rnd(s);

	mutex_lock(&xg->buf_send_lock);
	/* garbage one time in three, else a write as Xen makes them */
	switch (xd_rnd(s) % 12) {
	case 0:
		WRITE_ONCE(pg->read_pointer, (u32)v);
		break;
	case 1:
		WRITE_ONCE(pg->write_pointer, (u32)v);
		break;
	case 2:
		/* a few slots ahead, whatever the words say */
		WRITE_ONCE(pg->write_pointer,
			   READ_ONCE(pg->read_pointer) + v % 8);
		break;
	case 3:
		WRITE_ONCE(pg->slot[v % IOREQ_XEN_BUF_SLOTS].word, (u32)(v >> 16));
		break;
	default:
		if (!xd_buf_put(pg, &w)) {
			/* full or nonsense: start the ring over */
			WRITE_ONCE(pg->write_pointer, 0);
			WRITE_ONCE(pg->read_pointer, 0);
		}
		break;
	}
	mutex_unlock(&xg->buf_send_lock);
	arg->ring_ops++;
	ioreq_xen_page_drain(&xg->iop);
}

static void xd_hostile_op(struct xd_guest *xg, u32 vcpu, u64 *s,
			  struct ioreq_xd_hostile *arg)
{
	struct ioreq_xen_req *req = xd_req(xg, vcpu);
	u8 flags;

	switch (xd_rnd(s) % 16) {
	case 0 ... 5:
		xd_hostile_post(xg, vcpu, s, arg);
		break;
	case 6 ... 7:
		arg->events++;
		arg->taken += xd_event(xg, vcpu);
		break;
	case 8 ... 9:
		xd_hostile_scribble(xg, vcpu, s);
		arg->scribbles++;
		break;
	case 10 ... 11:
		/* hvm_wait_for_io(): take an answer */
		flags = smp_load_acquire(&req->flags);
		if (xd_state(flags) == IOREQ_XEN_STATE_RESP_READY)
			xd_hostile_flags(xg, vcpu, flags & ~IOREQ_XEN_FLAG_STATE);
		break;
	case 12:
		xd_hostile_flags(xg, vcpu, IOREQ_XEN_STATE_NONE);
		break;
	default:
		xd_hostile_ring(xg, s, arg);
		break;
	}
}

/*
 * The end of a hostile run: wait for the reps, check each slot, and
 * leave the page and the ring as a sane Xen would find them.  The
 * provider writes INPROCESS only over READY and RESP_READY only over
 * INPROCESS, and answers whatever it took once the backends are gone: so
 * a slot may end in a state this Xen wrote, or RESP_READY, but not
 * INPROCESS unless this Xen wrote that itself.
 */
static void xd_hostile_check(struct xd_guest *xg,
			     struct ioreq_xd_hostile *arg)
{
	u32 i, nr = xg->iop.nr_vcpus;
	u8 state;

	for (i = 0; i < nr; i++)
		flush_work(&xg->vcpus[i].rep_work);
	for (i = 0; i < nr; i++) {
		struct ioreq_xen_req *req = xd_req(xg, i);

		if (test_and_set_bit_lock(XD_BUSY, &xg->vcpus[i].busy)) {
			arg->bad_slots++;
			continue;
		}
		/* Pairs with virt_store_release() in ioreq_xen_respond(). */
		state = xd_state(smp_load_acquire(&req->flags));
		if (state != xg->hostile_state[i] &&
		    state != IOREQ_XEN_STATE_RESP_READY) {
			pr_info("hostile: vcpu %u left in state %u (Xen wrote %u)\n",
				i, state, xg->hostile_state[i]);
			arg->bad_slots++;
		}
		memset(req, 0, offsetof(struct ioreq_xen_req, vp_eport));
		req->vp_eport = xd_port(i);
		xd_hostile_flags(xg, i, IOREQ_XEN_STATE_NONE);
		spin_lock_irq(&xg->lock);
		xg->vcpus[i].posted = false;
		spin_unlock_irq(&xg->lock);
		xd_vcpu_put(xg, i);
	}
	mutex_lock(&xg->buf_send_lock);
	WRITE_ONCE(xg->iop.buf->write_pointer, 0);
	WRITE_ONCE(xg->iop.buf->read_pointer, 0);
	mutex_unlock(&xg->buf_send_lock);
}

static int xd_hostile(struct file *file, struct ioreq_xd_hostile *arg)
{
	struct xd_guest *xg = xd_file_guest(file);
	u64 s = arg->seed | 1;
	u32 i, vcpu;

	if (!xg)
		return -ENXIO;
	if (arg->flags & ~IOREQ_XD_HOSTILE_CHECK ||
	    arg->ops > IOREQ_XD_HOSTILE_MAX_OPS)
		return -EINVAL;
	arg->events = 0;
	arg->taken = 0;
	arg->scribbles = 0;
	arg->ring_ops = 0;
	arg->bad_slots = 0;
	if (arg->flags & IOREQ_XD_HOSTILE_CHECK) {
		xd_hostile_check(xg, arg);
		return 0;
	}
	for (i = 0; i < arg->ops; i++) {
		vcpu = xd_rnd(&s) % xg->iop.nr_vcpus;
		if (test_and_set_bit_lock(XD_BUSY, &xg->vcpus[vcpu].busy))
			continue;
		xd_hostile_op(xg, vcpu, &s, arg);
		xd_vcpu_put(xg, vcpu);
		if (signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

static long xd_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = u64_to_user_ptr((u64)arg);
	union {
		struct ioreq_xd_create create;
		struct ioreq_xd_send send;
		struct ioreq_xd_event event;
		struct ioreq_xd_wait wait;
		struct ioreq_xd_slot_io slot;
		struct ioreq_xd_status status;
		struct ioreq_xd_count count;
		struct ioreq_xd_ram ram;
		struct ioreq_xd_buf_send buf_send;
		struct ioreq_xd_hostile hostile;
	} buf;
	unsigned int size = _IOC_SIZE(cmd);
	int ret;

	switch (cmd) {
	case IOREQ_XD_KILL:
		return xd_kill(file);
	case IOREQ_XD_DESTROY:
		return xd_destroy(file);
	case IOREQ_XD_CREATE:
	case IOREQ_XD_SEND:
	case IOREQ_XD_EVENT:
	case IOREQ_XD_WAIT:
	case IOREQ_XD_GET_SLOT:
	case IOREQ_XD_SET_SLOT:
	case IOREQ_XD_STATUS:
	case IOREQ_XD_COUNT_VCPUS:
	case IOREQ_XD_RAM:
	case IOREQ_XD_BUF_SEND:
	case IOREQ_XD_HOSTILE:
		break;
	default:
		return -ENOTTY;
	}
	if (copy_from_user(&buf, uarg, size))
		return -EFAULT;

	switch (cmd) {
	case IOREQ_XD_CREATE:
		ret = xd_create(file, &buf.create);
		break;
	case IOREQ_XD_SEND:
		ret = xd_send(file, &buf.send);
		break;
	case IOREQ_XD_EVENT:
		ret = xd_event_ioctl(file, &buf.event);
		break;
	case IOREQ_XD_WAIT:
		ret = xd_wait(file, &buf.wait);
		break;
	case IOREQ_XD_GET_SLOT:
		ret = xd_get_slot(file, &buf.slot);
		break;
	case IOREQ_XD_SET_SLOT:
		ret = xd_set_slot(file, &buf.slot);
		break;
	case IOREQ_XD_STATUS:
		ret = xd_status(file, &buf.status);
		break;
	case IOREQ_XD_RAM:
		ret = xd_ram(file, &buf.ram);
		break;
	case IOREQ_XD_BUF_SEND:
		ret = xd_buf_send(file, &buf.buf_send);
		break;
	case IOREQ_XD_HOSTILE:
		ret = xd_hostile(file, &buf.hostile);
		break;
	default:
		ret = xd_count_vcpus(&buf.count);
		break;
	}
	if (ret || !(_IOC_DIR(cmd) & _IOC_READ))
		return ret;
	return copy_to_user(uarg, &buf, size) ? -EFAULT : 0;
}

/* The notification log: whole struct ioreq_xd_kick records, never blocks. */
static ssize_t xd_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct xd_guest *xg = xd_file_guest(file);
	struct ioreq_xd_kick kick;
	size_t done = 0;
	int got;

	if (!xg)
		return -ENXIO;
	if (!count || count % sizeof(kick))
		return -EINVAL;
	while (done < count) {
		spin_lock_irq(&xg->lock);
		got = kfifo_get(&xg->kicks, &kick);
		spin_unlock_irq(&xg->lock);
		if (!got)
			break;
		if (copy_to_user(buf + done, &kick, sizeof(kick)))
			return done ?: -EFAULT;
		done += sizeof(kick);
	}
	return done ?: -EAGAIN;
}

static int xd_release_file(struct inode *inode, struct file *file)
{
	struct xd_guest *xg = file->private_data;
	struct ioreq_guest *guest;

	if (!xg)
		return 0;
	guest = xg->guest;
	/* The domain dies with the file, and the provider reaps it. */
	mutex_lock(&xd_guests_lock);
	xd_domain_destroy(xg);
	xa_cmpxchg(&xd_guests, xg->domid, xg, NULL, 0);
	mutex_unlock(&xd_guests_lock);
	ioreq_guest_kill(guest);
	ioreq_guest_put(guest);
	return 0;
}

static int xd_open(struct inode *inode, struct file *file)
{
	/* misc_open() left the miscdevice here: this file has no guest yet. */
	file->private_data = NULL;
	return nonseekable_open(inode, file);
}

static const struct file_operations xd_fops = {
	.owner = THIS_MODULE,
	.open = xd_open,
	.release = xd_release_file,
	.read = xd_read,
	.unlocked_ioctl = xd_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice xd_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ioreq-xen-double",
	.fops = &xd_fops,
	.mode = 0600,
};

static void xd_abi_check(void)
{
	ioreq_xen_abi_check();
	BUILD_BUG_ON(IOREQ_XD_STATE_NONE != IOREQ_XEN_STATE_NONE);
	BUILD_BUG_ON(IOREQ_XD_STATE_READY != IOREQ_XEN_STATE_READY);
	BUILD_BUG_ON(IOREQ_XD_STATE_INPROCESS != IOREQ_XEN_STATE_INPROCESS);
	BUILD_BUG_ON(IOREQ_XD_STATE_RESP_READY != IOREQ_XEN_STATE_RESP_READY);
	BUILD_BUG_ON(IOREQ_XD_STATE_MASK != IOREQ_XEN_FLAG_STATE);
	BUILD_BUG_ON(IOREQ_XD_DATA_IS_PTR != IOREQ_XEN_FLAG_DATA_IS_PTR);
	BUILD_BUG_ON(IOREQ_XD_DIR_READ != IOREQ_XEN_FLAG_DIR_READ);
	BUILD_BUG_ON(IOREQ_XD_DF != IOREQ_XEN_FLAG_DF);
	BUILD_BUG_ON(IOREQ_XD_TYPE_PIO != IOREQ_XEN_TYPE_PIO);
	BUILD_BUG_ON(IOREQ_XD_TYPE_COPY != IOREQ_XEN_TYPE_COPY);
	BUILD_BUG_ON(IOREQ_XD_TYPE_PCI_CONFIG != IOREQ_XEN_TYPE_PCI_CONFIG);
	BUILD_BUG_ON(IOREQ_XD_BUF_SLOTS != IOREQ_XEN_BUF_SLOTS);
	BUILD_BUG_ON(IOREQ_XD_TYPE_TIMEOFFSET != IOREQ_XEN_TYPE_TIMEOFFSET);
	BUILD_BUG_ON(IOREQ_XD_TYPE_INVALIDATE != IOREQ_XEN_TYPE_INVALIDATE);
	BUILD_BUG_ON(IOREQ_XD_MAX_VCPUS != IOREQ_XEN_MAX_VCPUS);
	BUILD_BUG_ON(sizeof(struct ioreq_xd_slot) !=
		     sizeof(struct ioreq_xen_req));
	BUILD_BUG_ON(offsetof(struct ioreq_xd_slot, flags) !=
		     offsetof(struct ioreq_xen_req, flags));
}

static int __init xd_init(void)
{
	int ret;

	xd_abi_check();
	ret = ioreq_provider_register(&xd_provider);
	if (ret)
		return ret;
	ret = misc_register(&xd_misc);
	if (ret)
		ioreq_provider_unregister(&xd_provider);
	return ret;
}
module_init(xd_init);

static void __exit xd_exit(void)
{
	misc_deregister(&xd_misc);
	ioreq_provider_unregister(&xd_provider);
}
module_exit(xd_exit);

MODULE_DESCRIPTION("ioreq Xen provider's page protocol on a hypervisor double, for tests");
MODULE_LICENSE("GPL");
