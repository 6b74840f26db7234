/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shims for the kernels ioreq is built against out of tree (6.1 onwards),
 * all in one place.  Each one is keyed by a macro that drivers/ioreq/Kbuild
 * sets by looking at the tree it builds against, so a distribution kernel
 * that backported a change gets the new call.  A tree that only supports
 * the newest kernel would call the new functions directly and drop this
 * file.
 */
#ifndef _IOREQ_COMPAT_H
#define _IOREQ_COMPAT_H

#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/workqueue.h>

/* Since 6.8 eventfd_signal() takes no count: it always adds 1. */
static inline void ioreq_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef IOREQ_EVENTFD_SIGNAL_NO_COUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* Since 6.3 a vma's flags change through vm_flags_set(), under its lock. */
static inline void ioreq_vm_flags_set(struct vm_area_struct *vma,
				      vm_flags_t flags)
{
#ifdef IOREQ_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * After 6.12 a driver that maps another file in its own ->mmap() (a
 * stacked mapping) calls vfs_mmap(), which knows ->mmap_prepare too.
 */
static inline int ioreq_call_mmap(struct file *file,
				  struct vm_area_struct *vma)
{
#ifdef IOREQ_HAVE_VFS_MMAP
	return vfs_mmap(file, vma);
#else
	return call_mmap(file, vma);
#endif
}

/* zap_vma_ptes(), renamed: drop the PTEs of a VM_PFNMAP/VM_MIXEDMAP range. */
static inline void ioreq_zap_special_vma_range(struct vm_area_struct *vma,
					       unsigned long address,
					       unsigned long size)
{
#ifdef IOREQ_HAVE_ZAP_SPECIAL_VMA_RANGE
	zap_special_vma_range(vma, address, size);
#else
	zap_vma_ptes(vma, address, size);
#endif
}

/*
 * Newer kernels want a workqueue to say whether it is bound to CPUs
 * (WQ_PERCPU, what flags 0 meant before) or not; older ones have no flag.
 */
#ifdef IOREQ_HAVE_WQ_PERCPU
#define IOREQ_WQ_PERCPU WQ_PERCPU
#else
#define IOREQ_WQ_PERCPU 0
#endif

#endif /* _IOREQ_COMPAT_H */
