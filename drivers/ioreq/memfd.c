// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: guest memory files and the guest's memory map.
 *
 * IOREQ_GUEST_MEMORY_FD gives a backend a file of one range of guest
 * memory that it can hand to another process, a vhost-user daemon that
 * maps each region it is given from offset 0 (libvhost-user, DPDK) or
 * checks the file's size first (rust-vmm).  The file is an inode of a
 * pseudo filesystem of this module, so that each file has its own size
 * (the shared anon_inode has none).  Its only operation is mmap(): the
 * core checks the bounds, shifts the offset by the range's first frame
 * and hands the vma to the provider's ->mmap(), as mmap() of a session
 * does.  The file refers to the guest, not to the session: it carries no
 * right to requests, regions or interrupts.
 *
 * IOREQ_GET_MEMORY_MAP reports the provider's memory ranges
 * (->memory_map()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ioreq_drv.h"

#define IOREQ_MEMFS_MAGIC	0x696f6d66	/* "iomf" */

/**
 * struct ioreq_memfd - what a guest memory file refers to
 * @guest: the guest, referenced; its provider's module is pinned too
 * @gpa: guest-physical address of file offset 0
 * @len: the file's size
 *
 * Set at creation, never changed.
 */
struct ioreq_memfd {
	struct ioreq_guest *guest;
	u64 gpa;
	u64 len;
};

static struct vfsmount *ioreq_memfs_mnt;

static int ioreq_memfs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, IOREQ_MEMFS_MAGIC) ? 0 : -ENOMEM;
}

/* Never registered: userspace cannot mount it. */
static struct file_system_type ioreq_memfs_type = {
	.name = "ioreq_guest_memory",
	.init_fs_context = ioreq_memfs_init_fs_context,
	.kill_sb = kill_anon_super,
};

static int ioreq_memfd_release(struct inode *inode, struct file *file)
{
	struct ioreq_memfd *mf = file->private_data;
	struct module *owner = mf->guest->provider->ops->owner;

	/* The put may call ->release(): keep the provider until after it. */
	ioreq_guest_put(mf->guest);
	module_put(owner);
	kfree(mf);
	return 0;
}

/*
 * A shared mapping of [vm_pgoff, vm_pgoff + pages) of the file, that is of
 * guest frames from the range's first one on.
 */
static int ioreq_memfd_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ioreq_memfd *mf = file->private_data;
	struct ioreq_guest *guest = mf->guest;
	unsigned long pages = vma_pages(vma);
	u64 file_pages = mf->len >> PAGE_SHIFT;

	/* One semantic on every provider: the guest's own pages, shared. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (READ_ONCE(guest->dead))
		return -ENODEV;
	if (vma->vm_pgoff >= file_pages || pages > file_pages - vma->vm_pgoff)
		return -ENXIO;
	/*
	 * mremap() must not grow the mapping beyond the range: once the
	 * provider made it a mapping of the VMM's memfd, its pages past the
	 * range would follow.
	 */
#ifdef IOREQ_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, VM_DONTEXPAND);
#else
	vma->vm_flags |= VM_DONTEXPAND;
#endif
	vma->vm_pgoff += mf->gpa >> PAGE_SHIFT;
	return guest->provider->ops->mmap(guest, vma);
}

static loff_t ioreq_memfd_llseek(struct file *file, loff_t offset, int whence)
{
	struct ioreq_memfd *mf = file->private_data;

	return fixed_size_llseek(file, offset, whence, mf->len);
}

/* No read, write or ioctl: they fail with EINVAL, EINVAL and ENOTTY. */
static const struct file_operations ioreq_memfd_fops = {
	.owner = THIS_MODULE,
	.release = ioreq_memfd_release,
	.mmap = ioreq_memfd_mmap,
	.llseek = ioreq_memfd_llseek,
};

/*
 * The provider's memory ranges, sorted by address, in a new array the
 * caller frees; *@nr is how many.  Context: process, may sleep.
 */
static int ioreq_memory_ranges(struct ioreq_guest *guest,
			       struct ioreq_memory_range **rangesp,
			       unsigned int *nr)
{
	const struct ioreq_provider_ops *ops = guest->provider->ops;
	struct ioreq_memory_range *ranges = NULL;
	unsigned int room = 0;
	int n;

	/* The count first, then the ranges: retry if ranges were added. */
	for (;;) {
		n = ops->memory_map(guest, ranges, room);
		if (n < 0 || n <= room)
			break;
		kfree(ranges);
		room = n;
		ranges = kcalloc(room, sizeof(*ranges), GFP_KERNEL_ACCOUNT);
		if (!ranges)
			return -ENOMEM;
	}
	if (n < 0) {
		kfree(ranges);
		return n;
	}
	*rangesp = ranges;
	*nr = n;
	return 0;
}

/*
 * [@gpa, @gpa + @len) is guest memory that one mapping can cover: inside
 * one range of the provider's map if it has one (the VMM provider's
 * mapping becomes the memfd of one range), else all of it memory.
 */
static int ioreq_memfd_check(struct ioreq_guest *guest, u64 gpa, u64 len)
{
	const struct ioreq_provider_ops *ops = guest->provider->ops;
	struct ioreq_memory_range *ranges = NULL;
	unsigned int i, nr;
	int ret;

	if (!ops->memory_map)
		return ops->guest_mem_check ?
		       ops->guest_mem_check(guest, gpa, len) : 0;
	ret = ioreq_memory_ranges(guest, &ranges, &nr);
	if (ret)
		return ret;
	ret = -ENXIO;
	for (i = 0; i < nr; i++) {
		if (gpa >= ranges[i].gpa && gpa - ranges[i].gpa < ranges[i].len &&
		    len <= ranges[i].len - (gpa - ranges[i].gpa)) {
			ret = 0;
			break;
		}
	}
	kfree(ranges);
	return ret;
}

static struct file *ioreq_memfd_file(struct ioreq_guest *guest, u64 gpa,
				     u64 len)
{
	struct ioreq_memfd *mf;
	struct inode *inode;
	struct file *file;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return ERR_PTR(-ENOMEM);
	inode = alloc_anon_inode(ioreq_memfs_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		file = ERR_CAST(inode);
		goto err_free;
	}
	/* fstat()'s st_size; st_blksize is the pseudo fs's PAGE_SIZE. */
	inode->i_size = len;
	/*
	 * The file's last fput() puts its fops' owner, which
	 * alloc_file_pseudo() does not take: this module, live in an ioctl
	 * of its own.
	 */
	__module_get(THIS_MODULE);
	file = alloc_file_pseudo(inode, ioreq_memfs_mnt, "ioreq-guest-memory",
				 O_RDWR, &ioreq_memfd_fops);
	if (IS_ERR(file)) {
		module_put(THIS_MODULE);
		iput(inode);
		goto err_free;
	}
	mf->guest = guest;
	mf->gpa = gpa;
	mf->len = len;
	file->private_data = mf;
	return file;

err_free:
	kfree(mf);
	return file;
}

/**
 * ioreq_guest_memory_fd() - IOREQ_GUEST_MEMORY_FD
 * @session: an attached session
 * @karg: struct ioreq_memfd_args, its @arg copied in and checked for size
 *
 * Makes the file and reserves its descriptor; ioreq_guest_memory_fd_install()
 * publishes it once the answer reached userspace, or
 * ioreq_guest_memory_fd_undo() drops both.
 *
 * Context: process.
 * Return: 0 or a negative errno (see uapi/linux/ioreq.h).
 */
int ioreq_guest_memory_fd(struct ioreq_session *session, void *karg)
{
	struct ioreq_memfd_args *a = karg;
	struct ioreq_guest_memory_fd *arg = &a->arg;
	struct ioreq_guest *guest = session->guest;
	const struct ioreq_provider_ops *ops = guest->provider->ops;
	struct file *file;
	int fd, ret;

	if (arg->flags || arg->__reserved)
		return -EINVAL;
	if (!arg->len || !PAGE_ALIGNED(arg->gpa) || !PAGE_ALIGNED(arg->len) ||
	    arg->gpa + arg->len - 1 < arg->gpa)
		return -EINVAL;
	if (!(ops->caps & IOREQ_CAP_GUEST_MEMORY_FD) || !ops->mmap)
		return -EOPNOTSUPP;
	if (READ_ONCE(guest->dead))
		return -ENODEV;
	/* No guest has 2^63 bytes of memory: a file size cannot say more. */
	if (arg->len > MAX_LFS_FILESIZE)
		return -ENXIO;
	ret = ioreq_memfd_check(guest, arg->gpa, arg->len);
	if (ret)
		return ret;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	file = ioreq_memfd_file(guest, arg->gpa, arg->len);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	/* The session holds both: they outlive it with the file. */
	ioreq_guest_get(guest);
	__module_get(ops->owner);
	arg->fd = fd;
	a->file = file;
	return 0;
}

/**
 * ioreq_guest_memory_fd_install() - publish IOREQ_GUEST_MEMORY_FD's file
 * @session: the session
 * @karg: what ioreq_guest_memory_fd() filled
 *
 * Context: process.
 */
void ioreq_guest_memory_fd_install(struct ioreq_session *session, void *karg)
{
	struct ioreq_memfd_args *a = karg;

	fd_install(a->arg.fd, a->file);
}

/**
 * ioreq_guest_memory_fd_undo() - drop IOREQ_GUEST_MEMORY_FD's file
 * @session: the session
 * @karg: what ioreq_guest_memory_fd() filled
 *
 * Context: process.
 */
void ioreq_guest_memory_fd_undo(struct ioreq_session *session, void *karg)
{
	struct ioreq_memfd_args *a = karg;

	put_unused_fd(a->arg.fd);
	/* Its release drops the guest and the module. */
	fput(a->file);
}

/**
 * ioreq_get_memory_map() - IOREQ_GET_MEMORY_MAP
 * @session: an attached session
 * @karg: the caller's struct, copied in and checked for size
 *
 * Context: process.
 * Return: 0 or a negative errno (see uapi/linux/ioreq.h).
 */
int ioreq_get_memory_map(struct ioreq_session *session, void *karg)
{
	struct ioreq_memory_map *arg = karg;
	struct ioreq_guest *guest = session->guest;
	struct ioreq_memory_range *ranges = NULL;
	unsigned int nr;
	int ret;

	if (arg->flags || arg->__reserved)
		return -EINVAL;
	if (!guest->provider->ops->memory_map)
		return -EOPNOTSUPP;
	if (READ_ONCE(guest->dead))
		return -ENODEV;
	ret = ioreq_memory_ranges(guest, &ranges, &nr);
	if (ret)
		return ret;
	if (copy_to_user(u64_to_user_ptr(arg->ranges), ranges,
			 array_size(min(nr, arg->nr_ranges), sizeof(*ranges))))
		ret = -EFAULT;
	else
		arg->nr_ranges = nr;
	kfree(ranges);
	return ret;
}

/**
 * ioreq_memfd_init() - set up the guest memory files' filesystem
 *
 * Context: module init.
 * Return: 0 or a negative errno.
 */
int ioreq_memfd_init(void)
{
	ioreq_memfs_mnt = kern_mount(&ioreq_memfs_type);
	return PTR_ERR_OR_ZERO(ioreq_memfs_mnt);
}

/**
 * ioreq_memfd_exit() - tear down the guest memory files' filesystem
 *
 * Every file pins the module, so none is left.
 *
 * Context: module exit.
 */
void ioreq_memfd_exit(void)
{
	kern_unmount(ioreq_memfs_mnt);
}
