// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: guest memory for backends.
 *
 * mmap() of an attached session maps guest-physical memory: the file
 * offset is the guest-physical address.  The core checks the request and
 * hands the vma to the provider, which knows where the guest's pages are
 * (a VMM's memfd, Xen's foreign frames).  IOREQ_READ_GUEST and
 * IOREQ_WRITE_GUEST copy small amounts through a bounce page, so the
 * provider only ever sees kernel buffers.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ioreq_drv.h"

#define IOREQ_GUEST_RW_MAX	SZ_1M

/**
 * ioreq_session_mmap() - mmap() of an attached session
 * @session: the session
 * @vma: the new mapping; vm_pgoff is the guest frame number
 *
 * Context: process, mmap lock held for writing.
 * Return: 0 or a negative errno (see uapi/linux/ioreq.h).
 */
int ioreq_session_mmap(struct ioreq_session *session,
		       struct vm_area_struct *vma)
{
	struct ioreq_guest *guest = session->guest;
	const struct ioreq_provider_ops *ops = guest->provider->ops;
	unsigned long pages = vma_pages(vma);

	if (!(ops->caps & IOREQ_CAP_GUEST_MEMORY) || !ops->mmap)
		return -EOPNOTSUPP;
	if (READ_ONCE(guest->dead))
		return -ENODEV;
	/* Frame numbers of a 64-bit guest-physical space. */
	if (vma->vm_pgoff + pages < vma->vm_pgoff ||
	    vma->vm_pgoff + pages > (U64_MAX >> PAGE_SHIFT) + 1)
		return -ENXIO;
	return ops->mmap(guest, vma);
}

static int ioreq_guest_rw(struct ioreq_session *session,
			  struct ioreq_guest_rw *arg, bool write)
{
	struct ioreq_guest *guest = session->guest;
	const struct ioreq_provider_ops *ops = guest->provider->ops;
	void __user *ubuf = u64_to_user_ptr(arg->buf);
	u64 done, n;
	void *page;
	int ret;

	if (arg->flags)
		return -EINVAL;
	if (!arg->len || arg->len > IOREQ_GUEST_RW_MAX ||
	    arg->addr + arg->len - 1 < arg->addr)
		return -EINVAL;
	if (!(ops->caps & IOREQ_CAP_GUEST_MEMORY) || !ops->guest_rw ||
	    !ops->guest_mem_check)
		return -EOPNOTSUPP;
	if (READ_ONCE(guest->dead))
		return -ENODEV;
	/* Fail before a byte moves if any of the range is not memory. */
	ret = ops->guest_mem_check(guest, arg->addr, arg->len);
	if (ret)
		return ret;

	page = (void *)__get_free_page(GFP_KERNEL_ACCOUNT);
	if (!page)
		return -ENOMEM;
	for (done = 0; done < arg->len; done += n) {
		/* Within one page: within one of the provider's ranges. */
		n = min_t(u64, arg->len - done,
			  PAGE_SIZE - offset_in_page(arg->addr + done));
		if (write && copy_from_user(page, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}
		ret = ops->guest_rw(guest, arg->addr + done, page, n, write);
		if (ret)
			break;
		if (!write && copy_to_user(ubuf + done, page, n)) {
			ret = -EFAULT;
			break;
		}
	}
	free_page((unsigned long)page);
	return ret;
}

/**
 * ioreq_read_guest() - IOREQ_READ_GUEST
 * @session: an attached session
 * @karg: the caller's struct, copied in and checked for size
 *
 * Context: process.
 * Return: 0 or a negative errno (see uapi/linux/ioreq.h).
 */
int ioreq_read_guest(struct ioreq_session *session, void *karg)
{
	return ioreq_guest_rw(session, karg, false);
}

/**
 * ioreq_write_guest() - IOREQ_WRITE_GUEST
 * @session: an attached session
 * @karg: the caller's struct, copied in and checked for size
 *
 * Context: process.
 * Return: 0 or a negative errno (see uapi/linux/ioreq.h).
 */
int ioreq_write_guest(struct ioreq_session *session, void *karg)
{
	return ioreq_guest_rw(session, karg, true);
}
