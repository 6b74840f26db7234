// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: the /dev/ioreq character device.
 *
 * Each open file is one backend session (struct ioreq_session).  The
 * ioctls attach it to a guest and claim regions; read() and write() move
 * command records (request.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ioreq_drv.h"

/*
 * The uapi's layouts are ABI: the same on 32- and 64-bit userspace (every
 * u64 is __aligned_u64), and a record's size is what read() and write()
 * count in.
 */
static_assert(sizeof(struct ioreq_info) == 48);
static_assert(sizeof(struct ioreq_attach) == 40);
static_assert(sizeof(struct ioreq_region) == 48);
static_assert(sizeof(struct ioreq_release) == 16);
static_assert(sizeof(struct ioreq_cmd) == 32);
static_assert(offsetof(struct ioreq_cmd, data) == 24);
static_assert(sizeof(struct ioreq_irq) == 32);
static_assert(sizeof(struct ioreq_inject) == 48);
static_assert(sizeof(struct ioreq_irqfd) == 48);
static_assert(sizeof(struct ioreq_ioeventfd) == 40);
static_assert(sizeof(struct ioreq_guest_rw) == 32);
static_assert(sizeof(struct ioreq_guest_memory_fd) == 32);
static_assert(sizeof(struct ioreq_memory_range) == 24);
static_assert(sizeof(struct ioreq_memory_map) == 24);

/*
 * Sessions and regions have caches of their own so that tests can count
 * them in /sys/kernel/slab, and a leak shows when the module unloads.
 */
static struct kmem_cache *ioreq_session_cache;
struct kmem_cache *ioreq_range_cache;

unsigned int ioreq_max_regions = 16384;
module_param_named(max_regions, ioreq_max_regions, uint, 0444);
MODULE_PARM_DESC(max_regions, "Regions one session may claim (default 16384)");

unsigned int ioreq_read_poll_ns = 200000;
module_param_named(read_poll_ns, ioreq_read_poll_ns, uint, 0644);
MODULE_PARM_DESC(read_poll_ns, "The longest a blocking read() with nothing queued polls before it sleeps, in ns; each session's window adapts below it (default 200000, 0: never)");

static struct ioreq_guest *ioreq_session_guest(struct ioreq_session *session)
{
	/* Pairs with smp_store_release() in ioreq_attach(). */
	return smp_load_acquire(&session->guest);
}

static int ioreq_open(struct inode *inode, struct file *file)
{
	struct ioreq_session *session;

	session = kmem_cache_zalloc(ioreq_session_cache, GFP_KERNEL_ACCOUNT);
	if (!session)
		return -ENOMEM;
	mutex_init(&session->lock);
	mutex_init(&session->wlock);
	mutex_init(&session->rlock);
	xa_init_flags(&session->regions, XA_FLAGS_ALLOC);
	INIT_LIST_HEAD(&session->queue);
	INIT_LIST_HEAD(&session->guest_node);
	init_waitqueue_head(&session->wait);
	spin_lock_init(&session->irqfds_lock);
	INIT_LIST_HEAD(&session->irqfds);
	session->id = ioreq_session_next_id();
	file->private_data = session;
	return nonseekable_open(inode, file);
}

/*
 * The file is being closed: release the regions, abort every request the
 * session holds so that no vcpu stays blocked on a backend that is gone,
 * and drop the guest and its provider.  Nothing else uses the session now.
 */
static void ioreq_session_detach(struct ioreq_session *session)
	__must_hold(&session->lock)
{
	struct ioreq_guest *guest = session->guest;
	struct module *owner = guest->provider->ops->owner;
	unsigned long flags;

	lockdep_assert_held(&session->lock);
	/* No injection runs once this returns: the guest can go. */
	ioreq_irqfds_release_all(session);
	ioreq_regions_release_all(session);

	spin_lock_irqsave(&guest->lock, flags);
	list_del_init(&session->guest_node);
	ioreq_session_abort_locked(guest, session, NULL);
	spin_unlock_irqrestore(&guest->lock, flags);

	/* The put may call ->release(): keep the provider until after it. */
	ioreq_guest_put(guest);
	module_put(owner);
}

static int ioreq_release(struct inode *inode, struct file *file)
{
	struct ioreq_session *session = file->private_data;

	mutex_lock(&session->lock);
	if (session->guest)
		ioreq_session_detach(session);
	mutex_unlock(&session->lock);
	xa_destroy(&session->regions);
	kfree(session->wbuf);
	/* Posted writes nobody read go with the backend. */
	kfifo_free(&session->posted);
	mutex_destroy(&session->rlock);
	mutex_destroy(&session->wlock);
	mutex_destroy(&session->lock);
	kmem_cache_free(ioreq_session_cache, session);
	return 0;
}

static ssize_t ioreq_read(struct file *file, char __user *buf, size_t count,
			  loff_t *ppos)
{
	struct ioreq_session *session = file->private_data;

	if (!ioreq_session_guest(session))
		return -ENOTCONN;
	return ioreq_session_read(session, buf, count,
				  file->f_flags & O_NONBLOCK);
}

static ssize_t ioreq_write(struct file *file, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	struct ioreq_session *session = file->private_data;

	if (!ioreq_session_guest(session))
		return -ENOTCONN;
	return ioreq_session_write(session, buf, count);
}

static int ioreq_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ioreq_session *session = file->private_data;

	if (!ioreq_session_guest(session))
		return -ENOTCONN;
	return ioreq_session_mmap(session, vma);
}

static __poll_t ioreq_poll(struct file *file, poll_table *wait)
{
	struct ioreq_session *session = file->private_data;
	struct ioreq_guest *guest = ioreq_session_guest(session);
	__poll_t mask = 0;

	if (!guest)
		return EPOLLERR;
	poll_wait(file, &session->wait, wait);
	/* Pairs with wq_has_sleeper() in ioreq_dispatch_locked(). */
	smp_mb();
	if (!list_empty_careful(&session->queue) ||
	    !kfifo_is_empty(&session->posted))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(guest->invalidations) !=
	    READ_ONCE(session->invalidations_seen))
		mask |= EPOLLPRI;
	if (READ_ONCE(guest->dead))
		mask |= EPOLLHUP | EPOLLERR;
	else
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

static int ioreq_get_info(struct ioreq_session *session, void *karg)
{
	struct ioreq_guest *guest = ioreq_session_guest(session);
	struct ioreq_info *arg = karg;

	if (arg->flags)
		return -EINVAL;
	*arg = (struct ioreq_info) {
		.size = arg->size,
		.max_regions = ioreq_max_regions,
	};
	if (!guest) {
		arg->provider = IOREQ_PROVIDER_NONE;
		arg->caps = ioreq_providers_caps() | IOREQ_CORE_CAPS;
		return 0;
	}
	arg->provider = guest->provider->ops->id;
	arg->nr_vcpus = guest->nr_vcpus;
	arg->caps = guest->provider->ops->caps | IOREQ_CORE_CAPS;
	arg->guest_id = guest->id;
	arg->invalidations = READ_ONCE(guest->invalidations);
	/* Read, so acknowledged: poll() stops reporting EPOLLPRI. */
	if (arg->size >= offsetofend(struct ioreq_info, invalidations))
		WRITE_ONCE(session->invalidations_seen, arg->invalidations);
	return 0;
}

#define IOREQ_ATTACH_VALID_FLAGS IOREQ_ATTACH_GUEST_FD

/*
 * The guest @arg names, referenced and with its provider pinned.  A handle
 * is a right of its own; a number reaches into the host's one id space of
 * each hypervisor, which only the host's administrator may do.  The
 * credentials are the caller's, not the opener's: an unattached file
 * passed to (or inherited by) a less privileged process gives it nothing.
 */
static struct ioreq_guest *ioreq_attach_guest(const struct ioreq_attach *arg)
{
	if (arg->flags & IOREQ_ATTACH_GUEST_FD)
		return ioreq_guest_from_handle(arg->guest_id, arg->provider);
	if (!capable(CAP_SYS_ADMIN))
		return ERR_PTR(-EPERM);
	return ioreq_guest_lookup(arg->provider, arg->guest_id);
}

static int ioreq_attach(struct ioreq_session *session, void *karg)
{
	struct ioreq_attach *arg = karg;
	struct ioreq_guest *guest;
	struct ioreq_cmd *wbuf;
	struct module *owner;
	unsigned long flags;
	int ret = 0;

	if ((arg->flags & ~IOREQ_ATTACH_VALID_FLAGS) || arg->__reserved ||
	    arg->__reserved2 || arg->provider == IOREQ_PROVIDER_NONE)
		return -EINVAL;

	mutex_lock(&session->lock);
	if (session->guest) {
		ret = -EBUSY;
		goto out_unlock;
	}
	guest = ioreq_attach_guest(arg);
	if (IS_ERR(guest)) {
		ret = PTR_ERR(guest);
		goto out_unlock;
	}
	wbuf = kcalloc(guest->nr_vcpus, sizeof(*wbuf), GFP_KERNEL_ACCOUNT);
	if (!wbuf) {
		ret = -ENOMEM;
		goto err_put;
	}
	if ((guest->provider->ops->caps & IOREQ_CAP_POSTED_WRITES) &&
	    kfifo_alloc(&session->posted, IOREQ_POSTED_MAX,
			GFP_KERNEL_ACCOUNT)) {
		ret = -ENOMEM;
		goto err_free;
	}

	spin_lock_irqsave(&guest->lock, flags);
	if (guest->dead) {
		ret = -ENODEV;
	} else {
		list_add_tail(&session->guest_node, &guest->sessions);
		/* Mappings made from now on are newer than these. */
		session->invalidations_seen = guest->invalidations;
	}
	spin_unlock_irqrestore(&guest->lock, flags);
	if (ret)
		goto err_free;

	session->wbuf = wbuf;
	/* Publish a complete session: pairs with ioreq_session_guest(). */
	smp_store_release(&session->guest, guest);
	arg->nr_vcpus = guest->nr_vcpus;
	arg->caps = guest->provider->ops->caps | IOREQ_CORE_CAPS;
	mutex_unlock(&session->lock);
	return 0;

err_free:
	kfifo_free(&session->posted);
	kfree(wbuf);
err_put:
	owner = guest->provider->ops->owner;
	/* The put may call ->release(): keep the provider until after it. */
	ioreq_guest_put(guest);
	module_put(owner);
out_unlock:
	mutex_unlock(&session->lock);
	return ret;
}

static int ioreq_claim_region(struct ioreq_session *session, void *karg)
{
	int ret;

	if (!ioreq_session_guest(session))
		return -ENOTCONN;
	mutex_lock(&session->lock);
	ret = ioreq_region_claim(session, karg);
	mutex_unlock(&session->lock);
	return ret;
}

static int ioreq_release_region(struct ioreq_session *session, void *karg)
{
	struct ioreq_release *arg = karg;
	int ret;

	if (arg->flags || arg->__reserved)
		return -EINVAL;
	if (!ioreq_session_guest(session))
		return -ENOTCONN;
	mutex_lock(&session->lock);
	ret = ioreq_region_release(session, arg->id);
	mutex_unlock(&session->lock);
	return ret;
}

/* Undo a claim whose id could not be copied out. */
static void ioreq_claim_undo(struct ioreq_session *session, void *karg)
{
	struct ioreq_region *arg = karg;

	mutex_lock(&session->lock);
	ioreq_region_release(session, arg->id);
	mutex_unlock(&session->lock);
}

union ioreq_ioctl_buf {
	struct ioreq_info info;
	struct ioreq_attach attach;
	struct ioreq_region region;
	struct ioreq_release release;
	struct ioreq_inject inject;
	struct ioreq_irqfd irqfd;
	struct ioreq_ioeventfd ioeventfd;
	struct ioreq_guest_rw guest_rw;
	struct ioreq_memfd_args memfd;
	struct ioreq_memory_map memory_map;
	struct ioreq_redeliver redeliver;
};

/**
 * struct ioreq_ioctl_op - one ioctl of /dev/ioreq
 * @size: size of the struct this kernel knows
 * @min_size: size of the first version of the struct: the least accepted
 * @fn: the handler; validates and fills the kernel copy
 * @undo: reverts @fn if its answer cannot be copied out, or NULL.  Without
 *	one (IOREQ_ATTACH), a copy-out that fails because userspace unmapped
 *	the struct meanwhile returns -EFAULT with the work done.
 * @commit: completes @fn once its answer reached userspace, or NULL: what
 *	cannot be undone (installing a file descriptor) happens here
 * @copy_out: the struct has output members
 * @attached: the session must be attached (else ENOTCONN)
 */
struct ioreq_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	int (*fn)(struct ioreq_session *session, void *karg);
	void (*undo)(struct ioreq_session *session, void *karg);
	void (*commit)(struct ioreq_session *session, void *karg);
	bool copy_out;
	bool attached;
};

static const struct ioreq_ioctl_op ioreq_ioctl_ops[] = {
	[IOREQ_CMD_GET_INFO] = {
		.size = sizeof(struct ioreq_info),
		.min_size = offsetofend(struct ioreq_info, __reserved),
		.fn = ioreq_get_info,
		.copy_out = true,
	},
	[IOREQ_CMD_ATTACH] = {
		.size = sizeof(struct ioreq_attach),
		.min_size = offsetofend(struct ioreq_attach, caps),
		.fn = ioreq_attach,
		.copy_out = true,
	},
	[IOREQ_CMD_CLAIM_REGION] = {
		.size = sizeof(struct ioreq_region),
		.min_size = offsetofend(struct ioreq_region, __reserved2),
		.fn = ioreq_claim_region,
		.undo = ioreq_claim_undo,
		.copy_out = true,
	},
	[IOREQ_CMD_RELEASE_REGION] = {
		.size = sizeof(struct ioreq_release),
		.min_size = offsetofend(struct ioreq_release, __reserved),
		.fn = ioreq_release_region,
	},
	[IOREQ_CMD_INJECT_IRQ] = {
		.size = sizeof(struct ioreq_inject),
		.min_size = offsetofend(struct ioreq_inject, irq),
		.fn = ioreq_inject_irq,
		.attached = true,
	},
	[IOREQ_CMD_IRQFD] = {
		.size = sizeof(struct ioreq_irqfd),
		.min_size = offsetofend(struct ioreq_irqfd, irq),
		.fn = ioreq_irqfd,
		.attached = true,
	},
	[IOREQ_CMD_IOEVENTFD] = {
		.size = sizeof(struct ioreq_ioeventfd),
		.min_size = offsetofend(struct ioreq_ioeventfd, datamatch),
		.fn = ioreq_ioeventfd,
		.attached = true,
	},
	[IOREQ_CMD_READ_GUEST] = {
		.size = sizeof(struct ioreq_guest_rw),
		.min_size = offsetofend(struct ioreq_guest_rw, buf),
		.fn = ioreq_read_guest,
		.attached = true,
	},
	[IOREQ_CMD_WRITE_GUEST] = {
		.size = sizeof(struct ioreq_guest_rw),
		.min_size = offsetofend(struct ioreq_guest_rw, buf),
		.fn = ioreq_write_guest,
		.attached = true,
	},
	[IOREQ_CMD_GUEST_MEMORY_FD] = {
		.size = sizeof(struct ioreq_guest_memory_fd),
		.min_size = offsetofend(struct ioreq_guest_memory_fd, __reserved),
		.fn = ioreq_guest_memory_fd,
		.undo = ioreq_guest_memory_fd_undo,
		.commit = ioreq_guest_memory_fd_install,
		.copy_out = true,
		.attached = true,
	},
	[IOREQ_CMD_GET_MEMORY_MAP] = {
		.size = sizeof(struct ioreq_memory_map),
		.min_size = offsetofend(struct ioreq_memory_map, ranges),
		.fn = ioreq_get_memory_map,
		.copy_out = true,
		.attached = true,
	},
	[IOREQ_CMD_REDELIVER] = {
		.size = sizeof(struct ioreq_redeliver),
		.min_size = offsetofend(struct ioreq_redeliver, __reserved),
		.fn = ioreq_session_redeliver,
		.copy_out = true,
		.attached = true,
	},
};

static long ioreq_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ioreq_session *session = file->private_data;
	void __user *uarg = u64_to_user_ptr((u64)arg);
	const struct ioreq_ioctl_op *op;
	union ioreq_ioctl_buf buf;
	unsigned int nr = _IOC_NR(cmd);
	u32 usize, osize;
	int ret;

	if (cmd != _IO(IOREQ_MAGIC, nr) || nr >= ARRAY_SIZE(ioreq_ioctl_ops))
		return -ENOTTY;
	op = &ioreq_ioctl_ops[array_index_nospec(nr, ARRAY_SIZE(ioreq_ioctl_ops))];
	if (!op->fn)
		return -ENOTTY;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < op->min_size)
		return -EINVAL;
	ret = copy_struct_from_user(&buf, op->size, uarg, usize);
	if (ret)
		return ret;
	/*
	 * Write back no more than the caller passed: a program built with an
	 * older, smaller struct keeps its own data right after it.  Beyond
	 * the kernel's struct there is nothing to write.
	 */
	osize = min(usize, op->size);
	/*
	 * Results are copied out after the fact; refuse a struct that cannot
	 * take them before anything happens.  Writing the input back changes
	 * nothing.
	 */
	if (op->copy_out && copy_to_user(uarg, &buf, osize))
		return -EFAULT;
	if (op->attached && !ioreq_session_guest(session))
		return -ENOTCONN;

	ret = op->fn(session, &buf);
	if (ret || !op->copy_out)
		return ret;
	if (copy_to_user(uarg, &buf, osize)) {
		if (op->undo)
			op->undo(session, &buf);
		return -EFAULT;
	}
	if (op->commit)
		op->commit(session, &buf);
	return 0;
}

static const struct file_operations ioreq_fops = {
	.owner = THIS_MODULE,
	.open = ioreq_open,
	.release = ioreq_release,
	.read = ioreq_read,
	.write = ioreq_write,
	.poll = ioreq_poll,
	.mmap = ioreq_mmap,
	.unlocked_ioctl = ioreq_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.show_fdinfo = ioreq_session_show_fdinfo,
};

static struct miscdevice ioreq_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ioreq",
	.fops = &ioreq_fops,
	.mode = 0600,
};

static int __init ioreq_init(void)
{
	int ret = -ENOMEM;

	ioreq_session_cache = KMEM_CACHE(ioreq_session, SLAB_ACCOUNT);
	if (!ioreq_session_cache)
		goto err;
	ioreq_range_cache = KMEM_CACHE(ioreq_range, SLAB_ACCOUNT);
	if (!ioreq_range_cache)
		goto err_session_cache;
	ret = ioreq_irqfd_init();
	if (ret)
		goto err_range_cache;
	ret = ioreq_memfd_init();
	if (ret)
		goto err_irqfd;
	ret = misc_register(&ioreq_misc);
	if (ret)
		goto err_memfd;
	return 0;

err_memfd:
	ioreq_memfd_exit();
err_irqfd:
	ioreq_irqfd_exit();
err_range_cache:
	kmem_cache_destroy(ioreq_range_cache);
err_session_cache:
	kmem_cache_destroy(ioreq_session_cache);
err:
	return ret;
}
module_init(ioreq_init);

static void __exit ioreq_exit(void)
{
	misc_deregister(&ioreq_misc);
	ioreq_memfd_exit();
	ioreq_irqfd_exit();
	kmem_cache_destroy(ioreq_range_cache);
	kmem_cache_destroy(ioreq_session_cache);
}
module_exit(ioreq_exit);

MODULE_DESCRIPTION("Hypervisor-neutral I/O request interface for device backends");
MODULE_LICENSE("GPL");
