// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: providers and guests.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "ioreq_drv.h"

/* Serializes provider registration and guest lookup; protects ioreq_providers. */
static DEFINE_MUTEX(ioreq_providers_lock);
static LIST_HEAD(ioreq_providers);

/**
 * ioreq_provider_register() - make a provider's guests reachable
 * @provider: the provider; @provider->ops must be set
 *
 * Context: process.
 * Return: 0, -EINVAL if @provider->ops lacks an id or a mandatory
 * operation, or offers IOREQ_CAP_IRQFD without @inject_atomic, or -EEXIST
 * if a provider with the same id is registered.
 */
int ioreq_provider_register(struct ioreq_provider *provider)
{
	const struct ioreq_provider_ops *ops = provider->ops;
	struct ioreq_provider *p;
	int ret = 0;

	if (!ops || ops->id == IOREQ_PROVIDER_NONE || !ops->get_guest ||
	    !ops->complete)
		return -EINVAL;
	/* An irqfd injects from its eventfd's wakeup, in atomic context. */
	if ((ops->caps & IOREQ_CAP_IRQFD) && !ops->inject_atomic)
		return -EINVAL;

	mutex_lock(&ioreq_providers_lock);
	list_for_each_entry(p, &ioreq_providers, node) {
		if (p->ops->id == provider->ops->id) {
			ret = -EEXIST;
			goto out_unlock;
		}
	}
	list_add_tail(&provider->node, &ioreq_providers);
out_unlock:
	mutex_unlock(&ioreq_providers_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioreq_provider_register);

/**
 * ioreq_provider_unregister() - remove a provider
 * @provider: a registered provider
 *
 * Sessions pin the provider's module while attached, so none is attached
 * when its module exit calls this.
 *
 * Context: process.
 */
void ioreq_provider_unregister(struct ioreq_provider *provider)
{
	mutex_lock(&ioreq_providers_lock);
	list_del(&provider->node);
	mutex_unlock(&ioreq_providers_lock);
}
EXPORT_SYMBOL_GPL(ioreq_provider_unregister);

/**
 * ioreq_providers_caps() - what the loaded providers offer together
 *
 * Context: process.
 * Return: the union of the registered providers' IOREQ_CAP_* bits.
 */
u64 ioreq_providers_caps(void)
{
	struct ioreq_provider *p;
	u64 caps = 0;

	mutex_lock(&ioreq_providers_lock);
	list_for_each_entry(p, &ioreq_providers, node)
		caps |= p->ops->caps;
	mutex_unlock(&ioreq_providers_lock);
	return caps;
}

/**
 * ioreq_guest_lookup() - find a guest for a session to attach to
 * @provider_id: IOREQ_PROVIDER_* other than IOREQ_PROVIDER_NONE
 * @guest_id: the provider's guest id
 *
 * Only the provider named is asked: ->get_guest() may bring the guest up
 * (Xen creates its IOREQ server), which must never happen on a hypervisor
 * the caller did not name.
 *
 * On success the guest holds a reference for the caller and the
 * provider's module is pinned: the caller drops the reference, then the
 * module.
 *
 * Context: process, may sleep.
 * Return: the guest, ERR_PTR(-ENODEV) if no such provider is loaded, or
 * ERR_PTR(-ESRCH) (or the provider's error) if it does not know the guest.
 */
struct ioreq_guest *ioreq_guest_lookup(u32 provider_id, u64 guest_id)
{
	struct ioreq_guest *guest = ERR_PTR(-ENODEV);
	struct ioreq_provider *p;

	mutex_lock(&ioreq_providers_lock);
	list_for_each_entry(p, &ioreq_providers, node) {
		if (provider_id != p->ops->id)
			continue;
		if (!try_module_get(p->ops->owner))
			break;
		guest = p->ops->get_guest(guest_id);
		if (IS_ERR(guest))
			module_put(p->ops->owner);
		break;
	}
	mutex_unlock(&ioreq_providers_lock);
	return guest;
}

/**
 * ioreq_guest_create() - allocate a guest for a provider
 * @provider: the registered provider that serves the guest
 * @guest_id: the id backends attach with
 * @nr_vcpus: number of vcpus, 1 to IOREQ_MAX_VCPUS
 * @priv: the provider's data, returned by ioreq_guest_priv()
 *
 * All per-vcpu request state is allocated here, so dispatching a request
 * never allocates.
 *
 * Context: process, may sleep.
 * Return: the guest with one reference for the caller, or an ERR_PTR.
 */
struct ioreq_guest *ioreq_guest_create(struct ioreq_provider *provider,
				       u64 guest_id, u32 nr_vcpus, void *priv)
{
	struct ioreq_guest *guest;
	unsigned int i;

	if (!nr_vcpus || nr_vcpus > IOREQ_MAX_VCPUS)
		return ERR_PTR(-EINVAL);

	/* Up to 4096 cache lines: vmalloc where kmalloc would need order 7. */
	guest = kvzalloc(struct_size(guest, slots, nr_vcpus),
			 GFP_KERNEL_ACCOUNT);
	if (!guest)
		return ERR_PTR(-ENOMEM);

	guest->provider = provider;
	guest->id = guest_id;
	guest->nr_vcpus = nr_vcpus;
	guest->priv = priv;
	kref_init(&guest->ref);
	spin_lock_init(&guest->lock);
	for (i = 0; i < IOREQ_NR_SPACES; i++)
		guest->trees[i] = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&guest->sessions);
	for (i = 0; i < nr_vcpus; i++)
		INIT_LIST_HEAD(&guest->slots[i].node);
	return guest;
}
EXPORT_SYMBOL_GPL(ioreq_guest_create);

/**
 * ioreq_guest_get() - take a reference on a guest
 * @guest: the guest
 *
 * Context: any.
 */
void ioreq_guest_get(struct ioreq_guest *guest)
{
	kref_get(&guest->ref);
}
EXPORT_SYMBOL_GPL(ioreq_guest_get);

static void ioreq_guest_free(struct kref *ref)
{
	struct ioreq_guest *guest = container_of(ref, struct ioreq_guest, ref);

	if (guest->provider->ops->release)
		guest->provider->ops->release(guest);
	kvfree(guest);
}

/**
 * ioreq_guest_put() - drop a reference on a guest
 * @guest: the guest
 *
 * The last reference calls the provider's ->release() and frees the guest.
 *
 * Context: process, may sleep.
 */
void ioreq_guest_put(struct ioreq_guest *guest)
{
	might_sleep();
	kref_put(&guest->ref, ioreq_guest_free);
}
EXPORT_SYMBOL_GPL(ioreq_guest_put);

/**
 * ioreq_guest_kill() - the guest is gone
 * @guest: the guest
 *
 * Aborts every request in flight (->complete() with IOREQ_ABORTED), makes
 * later dispatches fail with -ENODEV, and wakes the attached sessions: their
 * poll() reports EPOLLHUP | EPOLLERR and read() fails with -ENODEV.  The
 * sessions keep their references until they are closed.
 *
 * Context: any.
 */
void ioreq_guest_kill(struct ioreq_guest *guest)
{
	struct ioreq_session *session;
	unsigned long flags;

	spin_lock_irqsave(&guest->lock, flags);
	WRITE_ONCE(guest->dead, true);
	list_for_each_entry(session, &guest->sessions, guest_node) {
		ioreq_session_abort_locked(guest, session, NULL);
		wake_up_interruptible_all(&session->wait);
	}
	spin_unlock_irqrestore(&guest->lock, flags);
}
EXPORT_SYMBOL_GPL(ioreq_guest_kill);

/**
 * ioreq_guest_invalidate() - guest memory went away
 * @guest: the guest
 *
 * The hypervisor says that frames of the guest that backends may have
 * mapped are no longer the guest's (Xen: IOREQ_TYPE_INVALIDATE).  Counts
 * it in the number IOREQ_GET_INFO returns and wakes the attached
 * sessions: their poll() reports EPOLLPRI until each reads the count.
 *
 * Context: any.
 */
void ioreq_guest_invalidate(struct ioreq_guest *guest)
{
	struct ioreq_session *session;
	unsigned long flags;

	spin_lock_irqsave(&guest->lock, flags);
	WRITE_ONCE(guest->invalidations, guest->invalidations + 1);
	/* The waitqueue's lock orders the count before a poller's check. */
	list_for_each_entry(session, &guest->sessions, guest_node)
		wake_up_interruptible_poll(&session->wait, EPOLLPRI);
	spin_unlock_irqrestore(&guest->lock, flags);
}
EXPORT_SYMBOL_GPL(ioreq_guest_invalidate);

/**
 * ioreq_guest_priv() - the provider's data of a guest
 * @guest: the guest
 *
 * Context: any.
 * Return: the @priv given to ioreq_guest_create().
 */
void *ioreq_guest_priv(struct ioreq_guest *guest)
{
	return guest->priv;
}
EXPORT_SYMBOL_GPL(ioreq_guest_priv);

/**
 * ioreq_guest_id() - a guest's id
 * @guest: the guest
 *
 * Context: any.
 * Return: the id backends attach with.
 */
u64 ioreq_guest_id(struct ioreq_guest *guest)
{
	return guest->id;
}
EXPORT_SYMBOL_GPL(ioreq_guest_id);

/**
 * ioreq_guest_nr_vcpus() - a guest's vcpu count
 * @guest: the guest
 *
 * Context: any.
 * Return: the number of vcpus the guest was created with.
 */
u32 ioreq_guest_nr_vcpus(struct ioreq_guest *guest)
{
	return guest->nr_vcpus;
}
EXPORT_SYMBOL_GPL(ioreq_guest_nr_vcpus);

/*
 * Guest handles: a file that holds a reference to one guest and pins its
 * provider, and carries no other right than IOREQ_ATTACH_GUEST_FD.  It has
 * no read, write, ioctl or mmap: whoever holds it can attach a backend
 * session to that guest and do nothing else, in particular nothing of the
 * hypervisor side.  The reference keeps the core's struct and the
 * provider's bookkeeping until the handle is closed, not the guest: a
 * provider gives back what a guest holds of its hypervisor's (vmm: the
 * VMM's memory) when it kills the guest, and a killed guest refuses the
 * attach with -ENODEV.
 */
static int ioreq_handle_release(struct inode *inode, struct file *file)
{
	struct ioreq_guest *guest = file->private_data;
	struct module *owner = guest->provider->ops->owner;

	/* The put may call ->release(): keep the provider until after it. */
	ioreq_guest_put(guest);
	module_put(owner);
	return 0;
}

static const struct file_operations ioreq_handle_fops = {
	.owner = THIS_MODULE,
	.release = ioreq_handle_release,
};

/**
 * ioreq_guest_handle() - make a handle that lets a backend attach to @guest
 * @guest: the guest; its provider's module must be live (the caller is
 *	in one of its file operations)
 *
 * The provider installs the file in a descriptor for its caller (with
 * O_CLOEXEC), who passes it to a backend; IOREQ_ATTACH with
 * IOREQ_ATTACH_GUEST_FD takes it.
 *
 * Context: process, may sleep.
 * Return: a new file holding a reference to @guest, or an ERR_PTR.
 */
struct file *ioreq_guest_handle(struct ioreq_guest *guest)
{
	struct module *owner = guest->provider->ops->owner;
	struct file *file;

	__module_get(owner);
	ioreq_guest_get(guest);
	file = anon_inode_getfile("[ioreq-guest]", &ioreq_handle_fops, guest,
				  O_RDONLY);
	if (IS_ERR(file)) {
		ioreq_guest_put(guest);
		module_put(owner);
	}
	return file;
}
EXPORT_SYMBOL_GPL(ioreq_guest_handle);

/**
 * ioreq_guest_from_handle() - the guest a handle's descriptor names
 * @fd: a file descriptor of the caller, from IOREQ_ATTACH
 * @provider_id: the provider the caller named
 *
 * Like ioreq_guest_lookup(), on success the guest holds a reference for
 * the caller and its provider's module is pinned.
 *
 * Context: process.
 * Return: the guest, ERR_PTR(-EBADF) if @fd is not open, or
 * ERR_PTR(-EINVAL) if it is not a guest handle or its guest is not one of
 * @provider_id.
 */
struct ioreq_guest *ioreq_guest_from_handle(u64 fd, u32 provider_id)
{
	struct ioreq_guest *guest;
	struct fd f;

	if (fd > INT_MAX)
		return ERR_PTR(-EBADF);
	f = fdget(fd);
	if (!fd_file(f))
		return ERR_PTR(-EBADF);
	if (fd_file(f)->f_op != &ioreq_handle_fops) {
		guest = ERR_PTR(-EINVAL);
		goto out_fdput;
	}
	guest = fd_file(f)->private_data;
	if (guest->provider->ops->id != provider_id) {
		guest = ERR_PTR(-EINVAL);
		goto out_fdput;
	}
	/* The handle pins both; it stays open until fdput(). */
	__module_get(guest->provider->ops->owner);
	ioreq_guest_get(guest);
out_fdput:
	fdput(f);
	return guest;
}
