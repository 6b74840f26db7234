// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: providers and guests.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/export.h>
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

	if (!ops || ops->id == IOREQ_PROVIDER_ANY || !ops->get_guest ||
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
 * @provider_id: IOREQ_PROVIDER_*, or IOREQ_PROVIDER_ANY
 * @guest_id: the provider's guest id
 *
 * On success the guest holds a reference for the caller and the
 * provider's module is pinned: the caller drops the reference, then the
 * module.
 *
 * Context: process, may sleep.
 * Return: the guest, ERR_PTR(-ENODEV) if no such provider is loaded, or
 * ERR_PTR(-ESRCH) (or the provider's error) if no provider knows the guest.
 */
struct ioreq_guest *ioreq_guest_lookup(u32 provider_id, u64 guest_id)
{
	struct ioreq_guest *guest = ERR_PTR(-ENODEV);
	struct ioreq_provider *p;

	mutex_lock(&ioreq_providers_lock);
	list_for_each_entry(p, &ioreq_providers, node) {
		if (provider_id != IOREQ_PROVIDER_ANY &&
		    provider_id != p->ops->id)
			continue;
		if (!try_module_get(p->ops->owner))
			continue;
		guest = p->ops->get_guest(guest_id);
		if (!IS_ERR(guest))
			break;
		module_put(p->ops->owner);
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
