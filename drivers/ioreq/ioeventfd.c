// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: ioeventfd, writes completed in the kernel.
 *
 * A backend binds an eventfd to an address inside one of its regions.
 * ioreq_dispatch() looks at the bindings of the region an access hits,
 * under the guest's lock: a write of the bound length at the bound address
 * (and of the bound value, with DATAMATCH) signals the eventfd and ends
 * there, as IOREQ_HANDLED, without a record, a slot or a wakeup of the
 * backend's reader.  The provider completes the vcpu at once, so a
 * doorbell costs the guest one trap and the backend one eventfd wakeup.
 *
 * Bindings hang off their region (struct ioreq_range.ioeventfds) and die
 * with it.  The list changes with both the session's lock and the guest's
 * lock held and is read under either.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/lockdep.h>
#include <linux/slab.h>

#include "compat.h"
#include "ioreq_drv.h"

#define IOREQ_MAX_IOEVENTFDS	1024	/* per session */
#define IOREQ_IOEVENTFD_VALID_FLAGS \
	(IOREQ_IOEVENTFD_DEASSIGN | IOREQ_IOEVENTFD_DATAMATCH)

/**
 * struct ioreq_kioeventfd - an eventfd bound to writes at one address
 * @node: entry in the region's ioeventfds
 * @eventfd: the eventfd, referenced
 * @bind: what the binding is (address, length, value; the eventfd's file,
 *	referenced), as the provider's ->bind() and ->unbind() see it
 */
struct ioreq_kioeventfd {
	struct list_head node;
	struct eventfd_ctx *eventfd;
	struct ioreq_binding bind;
};

/**
 * ioreq_ioeventfd_signal() - complete a write through a binding
 * @range: the region the write hits
 * @addr: its address
 * @size: its length
 * @data: the value written, masked to @size
 *
 * Context: the guest's lock held; any context.
 * Return: true if a binding took the write.
 */
bool ioreq_ioeventfd_signal(struct ioreq_range *range, u64 addr, u32 size,
			    u64 data)
{
	struct ioreq_kioeventfd *p;

	list_for_each_entry(p, &range->ioeventfds, node) {
		if (p->bind.addr != addr || p->bind.len != size ||
		    (p->bind.match && p->bind.datamatch != data))
			continue;
		ioreq_eventfd_signal(p->eventfd);
		return true;
	}
	return false;
}

/* Would @a and @b take the same write? */
static bool ioreq_ioeventfd_collide(const struct ioreq_binding *a,
				    const struct ioreq_binding *b)
{
	if (a->addr != b->addr || a->len != b->len)
		return false;
	return !a->match || !b->match || a->datamatch == b->datamatch;
}

/* The same binding, as a deassign names it. */
static bool ioreq_ioeventfd_same(const struct ioreq_kioeventfd *a,
				 const struct ioreq_kioeventfd *b)
{
	return a->eventfd == b->eventfd && a->bind.addr == b->bind.addr &&
	       a->bind.len == b->bind.len && a->bind.match == b->bind.match &&
	       a->bind.datamatch == b->bind.datamatch;
}

/* The session's region that holds [@addr, @addr + @len), or NULL. */
static struct ioreq_range *ioreq_ioeventfd_range(struct ioreq_session *session,
						 u32 space, u64 addr, u32 len)
	__must_hold(&session->guest->lock)
{
	struct ioreq_range *range;

	range = ioreq_range_find(session->guest, space, addr, len);
	return range && range->session == session ? range : NULL;
}

/* Free a binding off its region's list: the provider lets go of it first. */
static void ioreq_ioeventfd_free(struct ioreq_guest *guest,
				 struct ioreq_kioeventfd *p)
{
	if (guest->provider->ops->unbind)
		guest->provider->ops->unbind(guest, &p->bind);
	fput(p->bind.file);
	eventfd_ctx_put(p->eventfd);
	kfree(p);
}

static int ioreq_ioeventfd_assign(struct ioreq_session *session,
				  struct ioreq_kioeventfd *new, u32 space)
	__must_hold(&session->lock)
{
	struct ioreq_guest *guest = session->guest;
	struct ioreq_kioeventfd *p;
	struct ioreq_range *range;
	unsigned long flags;
	int ret = 0;

	if (session->nr_ioeventfds >= IOREQ_MAX_IOEVENTFDS)
		return -ENOSPC;
	spin_lock_irqsave(&guest->lock, flags);
	range = ioreq_ioeventfd_range(session, space, new->bind.addr,
				      new->bind.len);
	if (guest->dead) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (!range) {
		ret = -EINVAL;
		goto out_unlock;
	}
	list_for_each_entry(p, &range->ioeventfds, node) {
		if (ioreq_ioeventfd_collide(&p->bind, &new->bind)) {
			ret = -EEXIST;
			goto out_unlock;
		}
	}
	list_add_tail(&new->node, &range->ioeventfds);
	session->nr_ioeventfds++;
	/* Listed: dispatch delivers through it, and ->unbind() follows. */
	if (guest->provider->ops->bind)
		guest->provider->ops->bind(guest, &new->bind);
out_unlock:
	spin_unlock_irqrestore(&guest->lock, flags);
	return ret;
}

static int ioreq_ioeventfd_deassign(struct ioreq_session *session,
				    const struct ioreq_kioeventfd *key,
				    u32 space)
	__must_hold(&session->lock)
{
	struct ioreq_guest *guest = session->guest;
	struct ioreq_kioeventfd *p, *found = NULL;
	struct ioreq_range *range;
	unsigned long flags;

	spin_lock_irqsave(&guest->lock, flags);
	range = ioreq_ioeventfd_range(session, space, key->bind.addr,
				      key->bind.len);
	if (range) {
		list_for_each_entry(p, &range->ioeventfds, node) {
			if (ioreq_ioeventfd_same(p, key)) {
				found = p;
				list_del(&p->node);
				session->nr_ioeventfds--;
				break;
			}
		}
	}
	spin_unlock_irqrestore(&guest->lock, flags);
	if (!found)
		return -ENOENT;
	ioreq_ioeventfd_free(guest, found);
	return 0;
}

/**
 * ioreq_ioeventfd() - IOREQ_IOEVENTFD
 * @session: an attached session
 * @karg: the caller's struct, copied in and checked for size
 *
 * Context: process.
 * Return: 0 or a negative errno (see uapi/linux/ioreq.h).
 */
int ioreq_ioeventfd(struct ioreq_session *session, void *karg)
{
	struct ioreq_ioeventfd *arg = karg;
	struct ioreq_kioeventfd *p;
	struct eventfd_ctx *eventfd;
	struct file *file;
	int ret;

	if (arg->flags & ~IOREQ_IOEVENTFD_VALID_FLAGS || arg->__reserved)
		return -EINVAL;
	if (arg->space != IOREQ_SPACE_MMIO && arg->space != IOREQ_SPACE_PIO)
		return -EINVAL;
	if (arg->len != 1 && arg->len != 2 && arg->len != 4 && arg->len != 8)
		return -EINVAL;
	if (!(arg->flags & IOREQ_IOEVENTFD_DATAMATCH) && arg->datamatch)
		return -EINVAL;
	if (arg->len < 8 && arg->datamatch >> (arg->len * 8))
		return -EINVAL;
	if (!(session->guest->provider->ops->caps & IOREQ_CAP_IOEVENTFD))
		return -EOPNOTSUPP;

	/* The file too: a provider may hand the eventfd to its hypervisor. */
	file = fget(arg->fd);
	if (!file)
		return -EBADF;
	eventfd = eventfd_ctx_fileget(file);
	if (IS_ERR(eventfd)) {
		fput(file);
		return PTR_ERR(eventfd);
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p) {
		eventfd_ctx_put(eventfd);
		fput(file);
		return -ENOMEM;
	}
	p->eventfd = eventfd;
	p->bind = (struct ioreq_binding) {
		.kind = IOREQ_BINDING_IOEVENTFD,
		.match = arg->flags & IOREQ_IOEVENTFD_DATAMATCH,
		.space = arg->space,
		.len = arg->len,
		.file = file,
		.addr = arg->addr,
		.datamatch = arg->datamatch,
	};
	INIT_LIST_HEAD(&p->bind.pnode);

	mutex_lock(&session->lock);
	if (arg->flags & IOREQ_IOEVENTFD_DEASSIGN) {
		ret = ioreq_ioeventfd_deassign(session, p, arg->space);
		/* The binding found is freed; @p was only its key. */
	} else {
		ret = ioreq_ioeventfd_assign(session, p, arg->space);
		if (!ret)
			p = NULL;
	}
	mutex_unlock(&session->lock);
	if (!p)
		return 0;
	eventfd_ctx_put(eventfd);
	fput(file);
	kfree(p);
	return ret;
}

/**
 * ioreq_ioeventfds_free() - free the bindings of a region
 * @session: the region's session
 * @range: a region that is out of its guest's tree: no dispatch sees it
 *
 * Context: process, @session->lock held.
 */
void ioreq_ioeventfds_free(struct ioreq_session *session,
			   struct ioreq_range *range)
	__must_hold(&session->lock)
{
	struct ioreq_kioeventfd *p, *tmp;

	lockdep_assert_held(&session->lock);
	list_for_each_entry_safe(p, tmp, &range->ioeventfds, node) {
		list_del(&p->node);
		session->nr_ioeventfds--;
		ioreq_ioeventfd_free(session->guest, p);
	}
}
