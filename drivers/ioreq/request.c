// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: the request path.
 *
 * One request, from a vcpu to the backend and back:
 *
 *   provider            core (guest->lock)              backend session
 *   --------            ------------------              ---------------
 *   ioreq_dispatch() -> find the region, fill the vcpu's
 *                       slot, IDLE -> QUEUED, queue it
 *                       on the region's session, wake -> read() takes it,
 *                                                        QUEUED -> DELIVERED
 *                                                        copies the record out
 *                                                        ...device emulation...
 *   ->complete()     <- DELIVERED -> IDLE            <- write() of the response
 *
 * The slot is preallocated per vcpu with the guest: nothing on this path
 * allocates.  A request leaves the slot in exactly one of three ways: a
 * response (IOREQ_DONE), an abort (session closed, region released, guest
 * killed: IOREQ_ABORTED, reads see all ones), or the provider's
 * ioreq_cancel(), which calls no ->complete().
 *
 * A posted write (a write to an IOREQ_REGION_POSTED_WRITES region, or one
 * the hypervisor posted itself, ioreq_dispatch_posted()) takes no slot:
 * its record goes into the session's preallocated @posted fifo, the vcpu,
 * if any, goes on at once, and no response is taken.  read() returns
 * posted records before the slots' records, so a vcpu's posted write
 * reaches the backend before the access it makes next.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/sched/stat.h>
#include <linux/uaccess.h>

#include "ioreq_drv.h"
#include "ioreq_trace.h"

#define IOREQ_READ_BATCH	8

static bool ioreq_size_valid(u32 size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static u64 ioreq_size_mask(u32 size)
{
	return size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* End the request in @slot and tell the provider. */
static void ioreq_slot_complete(struct ioreq_guest *guest,
				struct ioreq_slot *slot, u64 data,
				enum ioreq_status status)
	__must_hold(&guest->lock)
{
	lockdep_assert_held(&guest->lock);
	data &= ioreq_size_mask(slot->cmd.size);
	if (status == IOREQ_DONE) {
		trace_ioreq_complete(guest, slot, data);
		slot->session->stats.completed++;
	} else {
		trace_ioreq_abort(guest, slot, data);
		slot->session->stats.aborted++;
	}
	if (slot->state == IOREQ_SLOT_QUEUED)
		list_del_init(&slot->node);
	slot->state = IOREQ_SLOT_IDLE;
	slot->session = NULL;
	slot->range = NULL;
	guest->provider->ops->complete(guest, slot - guest->slots, data,
				       status);
}

/**
 * ioreq_session_abort_locked() - abort a session's requests
 * @guest: the session's guest
 * @session: the session
 * @range: only the requests of this region, or NULL for all of them
 *
 * Each aborted request completes as an unclaimed access would: a read
 * returns all ones, a write is dropped.
 *
 * Context: the guest's lock held.
 */
void ioreq_session_abort_locked(struct ioreq_guest *guest,
				struct ioreq_session *session,
				struct ioreq_range *range)
	__must_hold(&guest->lock)
{
	u32 i;

	lockdep_assert_held(&guest->lock);
	for (i = 0; i < guest->nr_vcpus; i++) {
		struct ioreq_slot *slot = &guest->slots[i];

		if (slot->state == IOREQ_SLOT_IDLE || slot->session != session)
			continue;
		if (range && slot->range != range)
			continue;
		ioreq_slot_complete(guest, slot, ~0ULL, IOREQ_ABORTED);
	}
}

/* Count and trace a write an ioeventfd of @range took. */
static void ioreq_ioeventfd_count(struct ioreq_guest *guest,
				  struct ioreq_range *range, u32 vcpu,
				  u32 size, u64 addr, u64 data)
	__must_hold(&guest->lock)
{
	trace_ioreq_ioeventfd(guest, range, vcpu, size, addr, data, 0);
	range->nr_ioeventfd++;
	range->session->stats.ioeventfd++;
	guest->stats.ioeventfd++;
}

/* Queue a posted write on @range's session; false if its fifo is full. */
static bool ioreq_post_locked(struct ioreq_guest *guest,
			      struct ioreq_range *range, u32 vcpu, u32 size,
			      u64 addr, u64 data)
	__must_hold(&guest->lock)
{
	struct ioreq_session *session = range->session;
	struct ioreq_posted rec = {
		.cmd = {
			.op = IOREQ_OP_WRITE,
			.size = size,
			.flags = IOREQ_CMD_POSTED,
			.id = vcpu,
			.user_data = range->user_data,
			.offset = addr - range->start,
			.data = data & ioreq_size_mask(size),
		},
		.region = range->id,
	};

	lockdep_assert_held(&guest->lock);
	if (!kfifo_initialized(&session->posted) ||
	    !kfifo_put(&session->posted, rec)) {
		trace_ioreq_posted(guest, range, vcpu, size, addr, rec.cmd.data,
				   -ENOSPC);
		session->stats.posted_full++;
		return false;
	}
	trace_ioreq_posted(guest, range, vcpu, size, addr, rec.cmd.data, 0);
	session->stats.posted++;
	range->nr_posted++;
	guest->stats.posted++;
	wake_up_interruptible_poll(&session->wait, EPOLLIN | EPOLLRDNORM);
	return true;
}

static int ioreq_dispatch_locked(struct ioreq_guest *guest, u32 vcpu,
				 u32 space, u32 op, u32 size, u64 addr,
				 u64 data)
	__must_hold(&guest->lock)
{
	struct ioreq_session *session;
	struct ioreq_range *range;
	struct ioreq_slot *slot;

	lockdep_assert_held(&guest->lock);
	if (vcpu >= guest->nr_vcpus || space >= IOREQ_NR_SPACES ||
	    op > IOREQ_OP_WRITE || !ioreq_size_valid(size))
		return -EINVAL;
	slot = &guest->slots[array_index_nospec(vcpu, guest->nr_vcpus)];
	if (guest->dead)
		return -ENODEV;
	if (slot->state != IOREQ_SLOT_IDLE)
		return -EBUSY;
	range = ioreq_range_find(guest, space, addr, size);
	if (!range) {
		trace_ioreq_unclaimed(guest, vcpu, space, op, size, addr);
		guest->stats.unclaimed++;
		return IOREQ_UNCLAIMED;
	}

	if (op == IOREQ_OP_WRITE && !list_empty(&range->ioeventfds) &&
	    ioreq_ioeventfd_signal(range, addr, size,
				   data & ioreq_size_mask(size))) {
		ioreq_ioeventfd_count(guest, range, vcpu, size, addr,
				      data & ioreq_size_mask(size));
		return IOREQ_HANDLED;
	}
	if (op == IOREQ_OP_WRITE &&
	    (range->flags & IOREQ_REGION_POSTED_WRITES) &&
	    ioreq_post_locked(guest, range, vcpu, size, addr, data))
		return IOREQ_HANDLED;

	session = range->session;
	slot->seq++;
	slot->cmd.op = op;
	slot->cmd.size = size;
	slot->cmd.flags = 0;
	slot->cmd.id = vcpu | (u32)slot->seq << IOREQ_ID_SEQ_SHIFT;
	slot->cmd.user_data = range->user_data;
	slot->cmd.offset = addr - range->start;
	slot->cmd.data = op == IOREQ_OP_WRITE ? data & ioreq_size_mask(size) : 0;
	slot->session = session;
	slot->range = range;
	slot->state = IOREQ_SLOT_QUEUED;
	list_add_tail(&slot->node, &session->queue);
	trace_ioreq_dispatch(guest, slot, space, addr);
	session->stats.queued++;
	range->nr_queued++;
	guest->stats.queued++;
	/*
	 * Under the lock: the session cannot be freed while it is queued on.
	 * wq_has_sleeper()'s barrier pairs with the one set_current_state()
	 * gives a sleeping reader, and with the smp_mb() in ioreq_poll().
	 */
	if (wq_has_sleeper(&session->wait))
		wake_up_interruptible_poll(&session->wait, EPOLLIN | EPOLLRDNORM);
	return IOREQ_QUEUED;
}

/**
 * ioreq_dispatch() - hand a vcpu's access to the backend that claims it
 * @guest: the guest
 * @vcpu: the accessing vcpu, below the guest's vcpu count
 * @space: IOREQ_SPACE_*
 * @op: IOREQ_OP_READ or IOREQ_OP_WRITE
 * @size: 1, 2, 4 or 8
 * @addr: guest address or port
 * @data: the value of a write
 *
 * On IOREQ_QUEUED the provider's ->complete() follows exactly once, unless
 * the provider calls ioreq_cancel() first.  On IOREQ_UNCLAIMED the
 * provider completes the access itself (all ones, or a dropped write); on
 * IOREQ_HANDLED an ioeventfd took the write, or it was posted (its region
 * has IOREQ_REGION_POSTED_WRITES and the session had room for it), and
 * the provider completes it as done.  A posted write that finds no room
 * waits for its answer like any other.
 *
 * Context: any; does not sleep or allocate.
 * Return: an enum ioreq_dispatch_result, -EINVAL for bad arguments,
 * -EBUSY if @vcpu has a request in flight, -ENODEV if the guest is dead.
 */
int ioreq_dispatch(struct ioreq_guest *guest, u32 vcpu, u32 space, u32 op,
		   u32 size, u64 addr, u64 data)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&guest->lock, flags);
	ret = ioreq_dispatch_locked(guest, vcpu, space, op, size, addr, data);
	spin_unlock_irqrestore(&guest->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(ioreq_dispatch);

/**
 * ioreq_dispatch_many() - hand several vcpus' accesses over at once
 * @guest: the guest
 * @acc: the accesses, each of another vcpu; ->ret is set on return
 * @n: entries in @acc
 *
 * Dispatches each access as ioreq_dispatch() does, in order, under one
 * hold of the guest's lock: a backend reading meanwhile gets them
 * together, in one read(), and a provider that has several at hand (a
 * hypervisor thread serving several vcpus) pays for one lock.  Stops at
 * the first access that fails: the ones after it are left untouched.
 *
 * Context: any; does not sleep or allocate.
 * Return: how many accesses were dispatched, each ->ret an enum
 * ioreq_dispatch_result; if fewer than @n, the next one's ->ret holds the
 * error of ioreq_dispatch().
 */
unsigned int ioreq_dispatch_many(struct ioreq_guest *guest,
				 struct ioreq_access *acc, unsigned int n)
{
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&guest->lock, flags);
	for (i = 0; i < n; i++) {
		acc[i].ret = ioreq_dispatch_locked(guest, acc[i].vcpu,
						   acc[i].space, acc[i].op,
						   acc[i].size, acc[i].addr,
						   acc[i].data);
		if (acc[i].ret < 0)
			break;
	}
	spin_unlock_irqrestore(&guest->lock, flags);
	return i;
}
EXPORT_SYMBOL_GPL(ioreq_dispatch_many);

/**
 * ioreq_dispatch_posted() - hand a write the hypervisor posted to a backend
 * @guest: the guest
 * @space: IOREQ_SPACE_*
 * @size: 1, 2, 4 or 8
 * @addr: guest address or port
 * @data: the value written
 *
 * For writes no vcpu waits for (Xen's buffered ring): the record reaches
 * the claiming session with IOREQ_CMD_POSTED, whatever the region's
 * flags, unless an ioeventfd takes it.  Nothing calls ->complete().
 *
 * Context: any; does not sleep or allocate.
 * Return: IOREQ_QUEUED, IOREQ_UNCLAIMED (nobody claims it: drop it),
 * IOREQ_HANDLED (an ioeventfd took it), -EAGAIN if the session holds
 * IOREQ_POSTED_MAX unread posted writes already (call again after the
 * provider's ->posted_room()), -EINVAL, -ENODEV if the guest is dead.
 */
int ioreq_dispatch_posted(struct ioreq_guest *guest, u32 space, u32 size,
			  u64 addr, u64 data)
{
	struct ioreq_range *range;
	unsigned long flags;
	int ret = IOREQ_QUEUED;

	if (space >= IOREQ_NR_SPACES || !ioreq_size_valid(size))
		return -EINVAL;
	spin_lock_irqsave(&guest->lock, flags);
	if (guest->dead) {
		ret = -ENODEV;
		goto out_unlock;
	}
	range = ioreq_range_find(guest, space, addr, size);
	if (!range) {
		trace_ioreq_unclaimed(guest, IOREQ_CMD_VCPU(~0U), space,
				      IOREQ_OP_WRITE, size, addr);
		guest->stats.unclaimed++;
		ret = IOREQ_UNCLAIMED;
	} else if (!list_empty(&range->ioeventfds) &&
		   ioreq_ioeventfd_signal(range, addr, size,
					  data & ioreq_size_mask(size))) {
		ioreq_ioeventfd_count(guest, range, IOREQ_CMD_VCPU(~0U), size,
				      addr, data & ioreq_size_mask(size));
		ret = IOREQ_HANDLED;
	} else if (!ioreq_post_locked(guest, range, IOREQ_CMD_VCPU(~0U), size,
				    addr, data))
		ret = -EAGAIN;
out_unlock:
	spin_unlock_irqrestore(&guest->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(ioreq_dispatch_posted);

/**
 * ioreq_cancel() - withdraw a vcpu's request
 * @guest: the guest
 * @vcpu: the vcpu, below the guest's vcpu count
 *
 * For a provider whose vcpu stopped waiting (a timeout, a fatal signal).
 * No ->complete() is called for a cancelled request.
 *
 * Context: any.
 * Return: where the request was; IOREQ_CANCEL_IDLE means it had already
 * completed and ->complete() has been called.
 */
enum ioreq_cancel_result ioreq_cancel(struct ioreq_guest *guest, u32 vcpu)
{
	enum ioreq_cancel_result ret;
	struct ioreq_slot *slot;
	unsigned long flags;

	if (WARN_ON_ONCE(vcpu >= guest->nr_vcpus))
		return IOREQ_CANCEL_IDLE;
	slot = &guest->slots[array_index_nospec(vcpu, guest->nr_vcpus)];

	spin_lock_irqsave(&guest->lock, flags);
	switch (slot->state) {
	case IOREQ_SLOT_QUEUED:
		list_del_init(&slot->node);
		ret = IOREQ_CANCEL_QUEUED;
		break;
	case IOREQ_SLOT_DELIVERED:
		ret = IOREQ_CANCEL_DELIVERED;
		break;
	default:
		ret = IOREQ_CANCEL_IDLE;
		break;
	}
	slot->state = IOREQ_SLOT_IDLE;
	slot->session = NULL;
	slot->range = NULL;
	spin_unlock_irqrestore(&guest->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(ioreq_cancel);

/* Move up to @max queued records into @batch, marking them DELIVERED. */
static unsigned int ioreq_take(struct ioreq_guest *guest,
			       struct ioreq_session *session,
			       struct ioreq_cmd *batch, unsigned int max,
			       bool *dead)
{
	struct ioreq_slot *slot, *tmp;
	unsigned long flags;
	unsigned int n = 0;

	spin_lock_irqsave(&guest->lock, flags);
	list_for_each_entry_safe(slot, tmp, &session->queue, node) {
		if (n == max)
			break;
		list_del_init(&slot->node);
		slot->state = IOREQ_SLOT_DELIVERED;
		trace_ioreq_deliver(guest, session, &slot->cmd);
		batch[n++] = slot->cmd;
	}
	session->stats.delivered += n;
	*dead = guest->dead;
	spin_unlock_irqrestore(&guest->lock, flags);
	return n;
}

/*
 * Put records that never reached userspace back at the head of the queue,
 * in their order, unless they ended meanwhile.
 */
static void ioreq_requeue(struct ioreq_guest *guest,
			  struct ioreq_session *session,
			  const struct ioreq_cmd *batch, unsigned int n)
{
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&guest->lock, flags);
	for (i = n; i-- > 0;) {
		struct ioreq_slot *slot = &guest->slots[IOREQ_CMD_VCPU(batch[i].id)];

		if (slot->state != IOREQ_SLOT_DELIVERED ||
		    slot->session != session || slot->cmd.id != batch[i].id)
			continue;
		slot->state = IOREQ_SLOT_QUEUED;
		list_add(&slot->node, &session->queue);
		/* It is delivered again: count it once. */
		session->stats.delivered--;
	}
	spin_unlock_irqrestore(&guest->lock, flags);
}

static bool ioreq_readable(struct ioreq_session *session)
{
	return !list_empty_careful(&session->queue) ||
	       !kfifo_is_empty(&session->posted) ||
	       READ_ONCE(session->guest->dead);
}

/**
 * ioreq_session_purge_posted() - drop a released region's unread posted writes
 * @session: the session that claimed the region
 * @range: the region, already out of the guest's tree: nothing is posted
 *	to it any more
 *
 * Backends often keep a pointer in a region's user_data, so no record of
 * the region may reach read() once IOREQ_RELEASE_REGION has returned.  The
 * fifo is rotated once under the guest's lock: the other regions' records
 * go back in their order, this one's are dropped.  Nothing allocates.
 *
 * Context: process, @session->lock held; takes @session->rlock and the
 * guest's lock.
 */
void ioreq_session_purge_posted(struct ioreq_session *session,
				struct ioreq_range *range)
	__must_hold(&session->lock)
{
	struct ioreq_guest *guest = session->guest;
	const struct ioreq_provider_ops *ops = guest->provider->ops;
	struct ioreq_posted rec;
	bool was_full, dropped = false;
	unsigned long flags;
	unsigned int n;

	lockdep_assert_held(&session->lock);
	/* None of the region's can be added: an empty fifo stays clean. */
	if (!kfifo_initialized(&session->posted) ||
	    kfifo_is_empty(&session->posted))
		return;
	/* No reader is between its peek and its skip meanwhile. */
	mutex_lock(&session->rlock);
	spin_lock_irqsave(&guest->lock, flags);
	was_full = kfifo_is_full(&session->posted);
	for (n = kfifo_len(&session->posted); n; n--) {
		if (!kfifo_get(&session->posted, &rec))
			break;
		if (rec.region == range->id)
			dropped = true;
		else
			kfifo_put(&session->posted, rec);
	}
	spin_unlock_irqrestore(&guest->lock, flags);
	mutex_unlock(&session->rlock);
	/* A hypervisor that could not post may go on now. */
	if (dropped && was_full && ops->posted_room)
		ops->posted_room(guest);
}

/*
 * Copy up to @max posted records to @ubuf and only then take them out of
 * the fifo, so that a fault loses none.  Return: records copied, or
 * -EFAULT with none taken.
 */
static int ioreq_read_posted(struct ioreq_session *session,
			     char __user *ubuf, size_t max)
{
	struct ioreq_guest *guest = session->guest;
	const struct ioreq_provider_ops *ops = guest->provider->ops;
	struct ioreq_posted batch[IOREQ_READ_BATCH];
	unsigned long flags;
	unsigned int n, i;
	bool was_full;
	int ret;

	if (!kfifo_initialized(&session->posted) ||
	    kfifo_is_empty(&session->posted))
		return 0;
	/* The peeked records stay first in the fifo until skipped below. */
	mutex_lock(&session->rlock);
	spin_lock_irqsave(&guest->lock, flags);
	n = kfifo_out_peek(&session->posted, batch,
			   min_t(size_t, max, IOREQ_READ_BATCH));
	spin_unlock_irqrestore(&guest->lock, flags);
	for (i = 0; i < n; i++)
		if (copy_to_user(ubuf + i * sizeof(batch[i].cmd),
				 &batch[i].cmd, sizeof(batch[i].cmd)))
			break;
	ret = n;
	if (i < n) {
		ret = -EFAULT;
		n = 0;
	}
	spin_lock_irqsave(&guest->lock, flags);
	was_full = kfifo_is_full(&session->posted);
	for (i = 0; i < n; i++) {
		trace_ioreq_deliver(guest, session, &batch[i].cmd);
		kfifo_skip(&session->posted);
	}
	session->stats.delivered += n;
	spin_unlock_irqrestore(&guest->lock, flags);
	mutex_unlock(&session->rlock);
	/* A hypervisor that could not post may go on now. */
	if (n && was_full && ops->posted_room)
		ops->posted_room(guest);
	return ret;
}

/**
 * ioreq_poll_for() - spin for a condition before sleeping on it
 * @done: the condition; must not sleep
 * @arg: passed to @done
 * @ns: the longest spin, 0 for none
 *
 * For a wait that the other side usually ends within microseconds, as
 * KVM's halt polling does for a vcpu: a spin that sees @done saves a
 * sleep and a wakeup.  Gives up at once when another task could use the
 * CPU (as KVM's halt polling, it spins only while it is the only runnable
 * task there) or a signal is pending; the caller then sleeps as usual.
 * Time is local_clock()'s, the scheduler's clock, which costs little
 * even where timekeeping reads a slow clocksource (an HPET under
 * emulation: one read there cost more than a round trip); callers that
 * time a wait for ioreq_poll_adapt() use it too.
 *
 * Context: process, no locks held.
 * Return: true if @done became true.
 */
bool ioreq_poll_for(bool (*done)(void *arg), void *arg, unsigned int ns)
{
	u64 end;

	if (!ns)
		return false;
	end = local_clock() + ns;
	do {
		if (done(arg))
			return true;
		cpu_relax();
	} while (single_task_running() && !need_resched() &&
		 !signal_pending(current) && local_clock() < end);
	return done(arg);
}
EXPORT_SYMBOL_GPL(ioreq_poll_for);

/**
 * ioreq_poll_adapt() - the next polling window after a wait
 * @cur: the window the wait polled for
 * @waited: how long the wait lasted, in ns
 * @limit: the longest window (a module parameter); 0 turns polling off
 *
 * Adapts a window as KVM adapts a vcpu's halt polling: keep @cur if the
 * poll caught the event, double it (from IOREQ_POLL_START_NS) if a longer
 * poll within @limit would have, halve it (to none below
 * IOREQ_POLL_START_NS) if the event took longer than @limit.  A wait that
 * usually ends quickly thus polls, one that usually does not, soon stops.
 *
 * Context: any.
 * Return: the window for the next wait, at most @limit.
 */
unsigned int ioreq_poll_adapt(unsigned int cur, u64 waited,
			      unsigned int limit)
{
	cur = min(cur, limit);
	if (waited > limit)
		return cur / 2 < IOREQ_POLL_START_NS ? 0 : cur / 2;
	if (waited <= cur)
		return cur;
	if (cur > limit / 2)
		return limit;
	return min(max(cur * 2, IOREQ_POLL_START_NS), limit);
}
EXPORT_SYMBOL_GPL(ioreq_poll_adapt);

static bool ioreq_readable_cb(void *session)
{
	return ioreq_readable(session);
}

/*
 * Wait for a record: poll for it in the session's window first (a record
 * is often a moment away), then sleep; adapt the window to the wait.
 */
static int ioreq_read_wait(struct ioreq_session *session)
{
	unsigned int limit = READ_ONCE(ioreq_read_poll_ns);
	unsigned int win = min(READ_ONCE(session->poll_ns), limit);
	u64 start = limit ? local_clock() : 0;
	int ret = 0;

	if (!ioreq_poll_for(ioreq_readable_cb, session, win))
		ret = wait_event_interruptible(session->wait,
					       ioreq_readable(session));
	if (!ret)
		WRITE_ONCE(session->poll_ns,
			   limit ? ioreq_poll_adapt(win, local_clock() - start,
						    limit) : 0);
	return ret;
}

/**
 * ioreq_session_read() - read() on an attached session
 * @session: the session
 * @buf: user buffer
 * @count: its length, a non-zero multiple of sizeof(struct ioreq_cmd)
 * @nonblock: O_NONBLOCK
 *
 * Blocks until at least one record is queued, then returns as many as are
 * queued and fit, without blocking again, and at most one per vcpu of the
 * guest so that one write() can answer them all.  Posted writes come
 * first.
 *
 * Context: process.
 * Return: bytes read, or a negative errno.
 */
ssize_t ioreq_session_read(struct ioreq_session *session, char __user *buf,
			   size_t count, bool nonblock)
{
	struct ioreq_guest *guest = session->guest;
	struct ioreq_cmd batch[IOREQ_READ_BATCH];
	size_t max = min_t(size_t, count / sizeof(struct ioreq_cmd),
			   guest->nr_vcpus);
	unsigned int n, want, copied;
	unsigned long left;
	size_t done = 0;
	bool dead;
	int ret;

	if (!count || count % sizeof(struct ioreq_cmd))
		return -EINVAL;

	while (done < max) {
		ret = ioreq_read_posted(session, buf + done * sizeof(*batch),
					max - done);
		if (ret < 0)
			return done ? done * sizeof(*batch) : ret;
		done += ret;
		if (done == max)
			break;
		want = min_t(size_t, max - done, IOREQ_READ_BATCH);
		n = ioreq_take(guest, session, batch, want, &dead);
		if (!n) {
			if (ret)
				continue;
			if (done)
				break;
			if (dead)
				return -ENODEV;
			if (nonblock)
				return -EAGAIN;
			ret = ioreq_read_wait(session);
			if (ret)
				return ret;
			continue;
		}

		left = copy_to_user(buf + done * sizeof(*batch), batch,
				    n * sizeof(*batch));
		if (left) {
			/* Whole records copied count; hand the rest back. */
			copied = n - DIV_ROUND_UP(left, sizeof(*batch));
			ioreq_requeue(guest, session, batch + copied,
				      n - copied);
			done += copied;
			return done ? done * sizeof(*batch) : -EFAULT;
		}
		done += n;
		/* The queue ran dry: no second look under the lock. */
		if (n < want)
			break;
	}
	return done * sizeof(struct ioreq_cmd);
}

/* Is @rec a well-formed response for @guest, whatever its state? */
static bool ioreq_response_valid(struct ioreq_guest *guest,
				 const struct ioreq_cmd *rec)
{
	return rec->op <= IOREQ_OP_WRITE && ioreq_size_valid(rec->size) &&
	       !rec->flags && IOREQ_CMD_VCPU(rec->id) < guest->nr_vcpus;
}

/* The slot a well-formed response names. */
static struct ioreq_slot *ioreq_response_slot(struct ioreq_guest *guest,
					      const struct ioreq_cmd *rec)
{
	return &guest->slots[array_index_nospec(IOREQ_CMD_VCPU(rec->id),
						guest->nr_vcpus)];
}

/*
 * Does @rec answer @slot's request, pending in @session (delivered, or
 * claimed earlier in the same batch), with another op or size?
 */
static bool ioreq_response_mismatch(struct ioreq_session *session,
				    const struct ioreq_slot *slot,
				    const struct ioreq_cmd *rec)
{
	if ((slot->state != IOREQ_SLOT_DELIVERED &&
	     slot->state != IOREQ_SLOT_ANSWERING) ||
	    slot->session != session || slot->cmd.id != rec->id)
		return false;
	return slot->cmd.op != rec->op || slot->cmd.size != rec->size;
}

/**
 * ioreq_session_write() - write() of responses on an attached session
 * @session: the session
 * @buf: user buffer of struct ioreq_cmd records
 * @count: its length, a multiple of the record size, at most one record
 *	per vcpu of the guest
 *
 * All records are checked before any completes: a malformed one (bad
 * fields, or an op or size other than those of the request it names while
 * that request is pending in this session) fails the whole write with
 * -EINVAL, wherever it stands in the batch.  Records then complete in
 * order up to the first one whose request is no longer pending in this
 * session.
 *
 * Context: process.
 * Return: bytes of the records completed, -ENOENT if the first record is
 * stale, or another negative errno.
 */
ssize_t ioreq_session_write(struct ioreq_session *session,
			    const char __user *buf, size_t count)
{
	struct ioreq_guest *guest = session->guest;
	size_t n = count / sizeof(struct ioreq_cmd);
	struct ioreq_cmd *rec;
	unsigned long flags;
	size_t i, done;
	ssize_t ret;

	if (!count)
		return 0;
	if (count % sizeof(struct ioreq_cmd) || n > guest->nr_vcpus)
		return -EINVAL;

	mutex_lock(&session->wlock);
	rec = session->wbuf;
	if (copy_from_user(rec, buf, count)) {
		ret = -EFAULT;
		goto out_unlock;
	}
	for (i = 0; i < n; i++) {
		if (!ioreq_response_valid(guest, &rec[i])) {
			ret = -EINVAL;
			goto out_unlock;
		}
	}

	spin_lock_irqsave(&guest->lock, flags);
	/*
	 * Claim the pending prefix: ANSWERING makes a second response to the
	 * same request in this batch stale.  A mismatched one refuses the
	 * batch whole.
	 */
	for (done = 0; done < n; done++) {
		struct ioreq_slot *slot = ioreq_response_slot(guest, &rec[done]);

		if (slot->state != IOREQ_SLOT_DELIVERED ||
		    slot->session != session || slot->cmd.id != rec[done].id)
			break;
		if (ioreq_response_mismatch(session, slot, &rec[done]))
			goto err_refuse;
		slot->state = IOREQ_SLOT_ANSWERING;
	}
	/* So does one behind a stale record, which ends the prefix. */
	for (i = done; i < n; i++)
		if (ioreq_response_mismatch(session,
					    ioreq_response_slot(guest, &rec[i]),
					    &rec[i]))
			goto err_refuse;
	for (i = 0; i < done; i++)
		ioreq_slot_complete(guest, ioreq_response_slot(guest, &rec[i]),
				    rec[i].data, IOREQ_DONE);
	ret = guest->dead ? -ENODEV : -ENOENT;
	spin_unlock_irqrestore(&guest->lock, flags);
	if (done)
		ret = done * sizeof(struct ioreq_cmd);
out_unlock:
	mutex_unlock(&session->wlock);
	return ret;

err_refuse:
	for (i = 0; i < done; i++)
		ioreq_response_slot(guest, &rec[i])->state =
			IOREQ_SLOT_DELIVERED;
	spin_unlock_irqrestore(&guest->lock, flags);
	mutex_unlock(&session->wlock);
	return -EINVAL;
}

/**
 * ioreq_session_redeliver() - IOREQ_REDELIVER: requeue what readers hold
 * @session: the attached session
 * @karg: struct ioreq_redeliver
 *
 * Every request of @session that read() handed out and no write() has
 * answered goes back at the head of the session's queue, in vcpu order,
 * record unchanged, so that a successor of a dead reader reads it again.
 * Queued requests stay behind them, in their order.  Nothing allocates;
 * the guest's lock is held across one walk of its slots.
 *
 * Context: process.
 * Return: 0, -EINVAL (flags), -ENODEV (the guest is gone).
 */
int ioreq_session_redeliver(struct ioreq_session *session, void *karg)
{
	struct ioreq_guest *guest = session->guest;
	struct ioreq_redeliver *arg = karg;
	unsigned long flags;
	unsigned int count = 0;
	u32 i;

	if (arg->flags)
		return -EINVAL;
	spin_lock_irqsave(&guest->lock, flags);
	if (guest->dead) {
		spin_unlock_irqrestore(&guest->lock, flags);
		return -ENODEV;
	}
	/* Backwards, each at the head: vcpu order, ahead of the queued. */
	for (i = guest->nr_vcpus; i-- > 0;) {
		struct ioreq_slot *slot = &guest->slots[i];

		if (slot->state != IOREQ_SLOT_DELIVERED ||
		    slot->session != session)
			continue;
		slot->state = IOREQ_SLOT_QUEUED;
		list_add(&slot->node, &session->queue);
		count++;
	}
	spin_unlock_irqrestore(&guest->lock, flags);
	if (count)
		wake_up_interruptible_poll(&session->wait,
					   EPOLLIN | EPOLLRDNORM);
	arg->count = count;
	arg->__reserved = 0;
	return 0;
}
