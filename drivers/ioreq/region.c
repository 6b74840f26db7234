// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: claimed regions.
 *
 * Each guest keeps one interval tree per address space.  Claims never
 * overlap (across every session of the guest), so the one interval that
 * intersects an access is the only candidate, found in O(log n).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interval_tree_generic.h>
#include <linux/lockdep.h>
#include <linux/slab.h>

#include "ioreq_drv.h"

#define IOREQ_RANGE_START(r)	((r)->start)
#define IOREQ_RANGE_LAST(r)	((r)->last)

INTERVAL_TREE_DEFINE(struct ioreq_range, rb, u64, subtree_last,
		     IOREQ_RANGE_START, IOREQ_RANGE_LAST, static inline,
		     ioreq_itree)

static const u64 ioreq_space_caps[IOREQ_NR_SPACES] = {
	[IOREQ_SPACE_MMIO] = IOREQ_CAP_MMIO,
	[IOREQ_SPACE_PIO] = IOREQ_CAP_PIO,
	[IOREQ_SPACE_PCI_CONFIG] = IOREQ_CAP_PCI_CONFIG,
};

#define IOREQ_REGION_VALID_FLAGS IOREQ_REGION_POSTED_WRITES
#define IOREQ_PIO_LAST 0xffffULL

/**
 * ioreq_range_find() - the region that holds a whole access
 * @guest: the guest
 * @space: IOREQ_SPACE_*, already checked by the caller
 * @addr: first byte of the access
 * @size: its size in bytes
 *
 * As on Xen, an access that is not wholly inside one region is unclaimed.
 *
 * Context: the guest's lock held.
 * Return: the region, or NULL.
 */
struct ioreq_range *ioreq_range_find(struct ioreq_guest *guest, u32 space,
				     u64 addr, u32 size)
	__must_hold(&guest->lock)
{
	struct ioreq_range *range;
	u64 last = addr + size - 1;

	lockdep_assert_held(&guest->lock);
	if (last < addr)
		return NULL;
	range = ioreq_itree_iter_first(&guest->trees[space], addr, last);
	if (!range || range->start > addr || range->last < last)
		return NULL;
	return range;
}

static int ioreq_region_check(struct ioreq_guest *guest,
			      const struct ioreq_region *arg)
{
	u64 caps = guest->provider->ops->caps;

	if (arg->flags & ~IOREQ_REGION_VALID_FLAGS ||
	    arg->__reserved || arg->__reserved2)
		return -EINVAL;
	if (arg->space >= IOREQ_NR_SPACES)
		return -EINVAL;
	if (!arg->len || arg->addr + arg->len - 1 < arg->addr)
		return -EINVAL;
	if (arg->space == IOREQ_SPACE_PIO &&
	    (arg->addr > IOREQ_PIO_LAST ||
	     arg->len > IOREQ_PIO_LAST + 1 - arg->addr))
		return -EINVAL;
	if (!(caps & ioreq_space_caps[arg->space]))
		return -EOPNOTSUPP;
	if ((arg->flags & IOREQ_REGION_POSTED_WRITES) &&
	    !(caps & IOREQ_CAP_POSTED_WRITES))
		return -EOPNOTSUPP;
	return 0;
}

/*
 * Take @range out of the guest's tree, abort the requests it holds and
 * drop its posted writes nobody read: nothing of it reaches read() after.
 */
static void ioreq_range_unlink(struct ioreq_guest *guest,
			       struct ioreq_range *range)
	__must_hold(&range->session->lock)
{
	unsigned long flags;

	spin_lock_irqsave(&guest->lock, flags);
	ioreq_itree_remove(range, &guest->trees[range->space]);
	ioreq_session_abort_locked(guest, range->session, range);
	spin_unlock_irqrestore(&guest->lock, flags);
	ioreq_session_purge_posted(range->session, range);
}

/**
 * ioreq_region_claim() - IOREQ_CLAIM_REGION
 * @session: an attached session
 * @arg: the caller's request; @arg->id is set on success
 *
 * Context: process, @session->lock held.
 * Return: 0 or a negative errno (see uapi/linux/ioreq.h).
 */
int ioreq_region_claim(struct ioreq_session *session, struct ioreq_region *arg)
	__must_hold(&session->lock)
{
	struct ioreq_guest *guest = session->guest;
	const struct ioreq_provider_ops *ops = guest->provider->ops;
	struct ioreq_range *range;
	unsigned long flags;
	u32 id;
	int ret;

	lockdep_assert_held(&session->lock);
	ret = ioreq_region_check(guest, arg);
	if (ret)
		return ret;
	if (session->nr_regions >= ioreq_max_regions)
		return -ENOSPC;

	range = kmem_cache_zalloc(ioreq_range_cache, GFP_KERNEL_ACCOUNT);
	if (!range)
		return -ENOMEM;
	range->start = arg->addr;
	range->last = arg->addr + arg->len - 1;
	range->session = session;
	range->user_data = arg->user_data;
	range->space = arg->space;
	range->flags = arg->flags;
	INIT_LIST_HEAD(&range->ioeventfds);

	ret = xa_alloc(&session->regions, &id, range, xa_limit_31b,
		       GFP_KERNEL_ACCOUNT);
	if (ret)
		goto err_free;
	range->id = id;

	spin_lock_irqsave(&guest->lock, flags);
	if (guest->dead) {
		ret = -ENODEV;
	} else if (ioreq_itree_iter_first(&guest->trees[range->space],
					  range->start, range->last)) {
		ret = -EEXIST;
	} else {
		ioreq_itree_insert(range, &guest->trees[range->space]);
	}
	spin_unlock_irqrestore(&guest->lock, flags);
	if (ret)
		goto err_erase;

	if (ops->map_range) {
		ret = ops->map_range(guest, range->space, range->start,
				     range->last);
		if (ret)
			goto err_unlink;
	}

	session->nr_regions++;
	arg->id = id;
	return 0;

err_unlink:
	ioreq_range_unlink(guest, range);
err_erase:
	xa_erase(&session->regions, id);
err_free:
	kmem_cache_free(ioreq_range_cache, range);
	return ret;
}

static void ioreq_range_destroy(struct ioreq_session *session,
				struct ioreq_range *range)
{
	struct ioreq_guest *guest = session->guest;
	const struct ioreq_provider_ops *ops = guest->provider->ops;

	ioreq_range_unlink(guest, range);
	ioreq_ioeventfds_free(session, range);
	if (ops->unmap_range)
		ops->unmap_range(guest, range->space, range->start,
				 range->last);
	session->nr_regions--;
	kmem_cache_free(ioreq_range_cache, range);
}

/**
 * ioreq_region_release() - IOREQ_RELEASE_REGION
 * @session: an attached session
 * @id: the region's id
 *
 * Requests pending in the region are aborted: their vcpus read all ones.
 *
 * Context: process, @session->lock held.
 * Return: 0, or -ENOENT if @session holds no region @id.
 */
int ioreq_region_release(struct ioreq_session *session, u32 id)
	__must_hold(&session->lock)
{
	struct ioreq_range *range;

	lockdep_assert_held(&session->lock);
	range = xa_erase(&session->regions, id);
	if (!range)
		return -ENOENT;
	ioreq_range_destroy(session, range);
	return 0;
}

/**
 * ioreq_regions_release_all() - release every region of a session
 * @session: an attached session being closed
 *
 * Context: process, @session->lock held.
 */
void ioreq_regions_release_all(struct ioreq_session *session)
	__must_hold(&session->lock)
{
	struct ioreq_range *range;
	unsigned long id;

	lockdep_assert_held(&session->lock);
	xa_for_each(&session->regions, id, range) {
		xa_erase(&session->regions, id);
		ioreq_range_destroy(session, range);
	}
}
