// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: interrupt injection and irqfd.
 *
 * A backend names a guest interrupt with the neutral struct ioreq_irq (a
 * line, a PCI INTx pin, or an MSI) and the guest's provider delivers it
 * the hypervisor's way.  IOREQ_INJECT_IRQ does it from an ioctl; an irqfd
 * does it when an eventfd is signalled, so a backend thread (or another
 * kernel component, such as vhost) raises the interrupt without entering
 * this device.
 *
 * An irqfd waits on its eventfd's wait queue.  The wakeup callback runs
 * with the eventfd's lock held and interrupts off and injects right there:
 * only a provider whose ->inject_irq() never sleeps (->inject_atomic) gets
 * irqfds, as both in-tree ones are (a hypercall, a queue under a
 * spinlock), so no injection waits on a work item.  EPOLLHUP (the
 * eventfd's last file is closed), IOREQ_IRQFD_DEASSIGN and closing the
 * session end the binding.
 *
 * An irqfd is on its session's list, under session->irqfds_lock, from
 * the end of its assignment until one path takes it off; that path alone
 * tears it down.  The wakeup callback nests session->irqfds_lock inside
 * the eventfd's lock, so the list lock is never held around an eventfd
 * operation.  The provider's ->inject_irq() may run under either lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "ioreq_drv.h"
#include "ioreq_trace.h"

#define IOREQ_MAX_IRQFDS	1024	/* per session */

static struct workqueue_struct *ioreq_irqfd_wq;

/**
 * struct ioreq_kirqfd - an eventfd bound to a guest interrupt
 * @session: the session that bound it; outlives the irqfd
 * @eventfd: the eventfd, referenced
 * @irq: the interrupt, checked at assignment
 * @wait: entry in the eventfd's wait queue
 * @pt: registers @wait through vfs_poll()
 * @shutdown: tears the irqfd down after EPOLLHUP
 * @node: entry in @session's irqfds, under its irqfds_lock
 * @signals: signals that injected, for fdinfo; written by the wakeup
 *	alone, under the eventfd's wait queue lock, and read locklessly
 * @bound: the provider's ->bind() saw it, so ->unbind() must
 * @bind: the binding as the provider sees it; the eventfd's file,
 *	referenced, and @bind.taken, read by the wakeup
 */
struct ioreq_kirqfd {
	struct ioreq_session *session;
	struct eventfd_ctx *eventfd;
	struct ioreq_irq irq;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct shutdown;
	struct list_head node;
	u64 signals;
	bool bound;
	struct ioreq_binding bind;
};

/**
 * ioreq_irq_check() - is @irq a well-formed interrupt this guest can take
 * @guest: the guest
 * @irq: the backend's description
 *
 * Context: any.
 * Return: 0, -EINVAL or -EOPNOTSUPP.
 */
static int ioreq_irq_check(struct ioreq_guest *guest,
			   const struct ioreq_irq *irq)
{
	const struct ioreq_provider_ops *ops = guest->provider->ops;
	u64 need;

	if (irq->__reserved)
		return -EINVAL;
	switch (irq->kind) {
	case IOREQ_IRQ_LINE:
		if (irq->sbdf || irq->pin || irq->msi_data || irq->msi_addr)
			return -EINVAL;
		if (ops->nr_irq_lines && irq->line >= ops->nr_irq_lines)
			return -EINVAL;
		if (irq->line < ops->min_irq_line)
			return -EINVAL;
		need = IOREQ_CAP_IRQ_LINE;
		break;
	case IOREQ_IRQ_PCI_INTX:
		if (irq->line || irq->pin > 3 || irq->msi_data ||
		    irq->msi_addr)
			return -EINVAL;
		need = IOREQ_CAP_IRQ_PCI_INTX;
		break;
	case IOREQ_IRQ_MSI:
		if (irq->line || irq->sbdf || irq->pin)
			return -EINVAL;
		need = IOREQ_CAP_IRQ_MSI;
		break;
	default:
		return -EINVAL;
	}
	if (!(ops->caps & need) || !ops->inject_irq)
		return -EOPNOTSUPP;
	return 0;
}

/*
 * An edge for a line or INTx, one message for an MSI.  Return: what
 * raising it returned, -ENODEV if the guest is dead.
 */
static int ioreq_irq_pulse(struct ioreq_guest *guest,
			   const struct ioreq_irq *irq)
{
	const struct ioreq_provider_ops *ops = guest->provider->ops;
	int ret;

	if (READ_ONCE(guest->dead))
		return -ENODEV;
	ret = ops->inject_irq(guest, irq, 1);
	if (irq->kind != IOREQ_IRQ_MSI)
		ops->inject_irq(guest, irq, 0);
	return ret;
}

/**
 * ioreq_inject_irq() - IOREQ_INJECT_IRQ
 * @session: an attached session
 * @karg: the caller's struct, copied in and checked for size
 *
 * Context: process.
 * Return: 0 or a negative errno (see uapi/linux/ioreq.h).
 */
int ioreq_inject_irq(struct ioreq_session *session, void *karg)
{
	struct ioreq_inject *arg = karg;
	struct ioreq_guest *guest = session->guest;
	int ret;

	if (arg->flags || arg->__reserved || arg->level > 1)
		return -EINVAL;
	ret = ioreq_irq_check(guest, &arg->irq);
	if (ret)
		return ret;
	if (arg->irq.kind == IOREQ_IRQ_MSI && !arg->level)
		return -EINVAL;
	if (READ_ONCE(guest->dead))
		return -ENODEV;
	ret = guest->provider->ops->inject_irq(guest, &arg->irq, arg->level);
	trace_ioreq_inject(guest, session, &arg->irq, arg->level, ret);
	if (!ret)
		atomic64_inc(&session->injected);
	return ret;
}

/* Tear down an irqfd that is off its session's list. */
static void ioreq_irqfd_destroy(struct ioreq_kirqfd *irqfd)
{
	struct ioreq_guest *guest = irqfd->session->guest;
	u64 cnt;

	/* The provider's hypervisor stops injecting from the eventfd first. */
	if (irqfd->bound && guest->provider->ops->unbind)
		guest->provider->ops->unbind(guest, &irqfd->bind);
	/* No wakeup runs or starts once this returns. */
	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &cnt);
	eventfd_ctx_put(irqfd->eventfd);
	if (irqfd->bind.file)
		fput(irqfd->bind.file);
	kfree(irqfd);
}

static void ioreq_irqfd_shutdown_work(struct work_struct *work)
{
	ioreq_irqfd_destroy(container_of(work, struct ioreq_kirqfd, shutdown));
}

/* Context: the eventfd's wait queue lock held, interrupts off. */
static int ioreq_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			      int sync, void *key)
{
	struct ioreq_kirqfd *irqfd = container_of(wait, struct ioreq_kirqfd,
						 wait);
	struct ioreq_session *session = irqfd->session;
	__poll_t events = key_to_poll(key);
	unsigned long flags;
	u64 cnt;

	/*
	 * A binding the provider's hypervisor took is injected, and its
	 * count consumed, by the hypervisor's own waiter on the eventfd.
	 */
	if ((events & EPOLLIN) && !READ_ONCE(irqfd->bind.taken)) {
		int ret;

		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		ret = ioreq_irq_pulse(session->guest, &irqfd->irq);
		trace_ioreq_irqfd(session->guest, session, &irqfd->irq, 1, ret);
		/* Only this wakeup writes it, under the eventfd's lock. */
		if (!ret)
			WRITE_ONCE(irqfd->signals, irqfd->signals + 1);
	}
	if (events & EPOLLHUP) {
		/* The eventfd is being freed: whoever unlists tears down. */
		spin_lock_irqsave(&session->irqfds_lock, flags);
		if (!list_empty(&irqfd->node)) {
			list_del_init(&irqfd->node);
			session->nr_irqfds--;
			queue_work(ioreq_irqfd_wq, &irqfd->shutdown);
		}
		spin_unlock_irqrestore(&session->irqfds_lock, flags);
	}
	return 0;
}

static void ioreq_irqfd_ptable(struct file *file, wait_queue_head_t *wqh,
			       poll_table *pt)
{
	struct ioreq_kirqfd *irqfd = container_of(pt, struct ioreq_kirqfd, pt);

	add_wait_queue(wqh, &irqfd->wait);
}

static struct ioreq_kirqfd *
ioreq_irqfd_find(struct ioreq_session *session, struct eventfd_ctx *eventfd,
		 const struct ioreq_irq *irq)
	__must_hold(&session->irqfds_lock)
{
	struct ioreq_kirqfd *irqfd;

	list_for_each_entry(irqfd, &session->irqfds, node)
		if (irqfd->eventfd == eventfd &&
		    !memcmp(&irqfd->irq, irq, sizeof(*irq)))
			return irqfd;
	return NULL;
}

static int ioreq_irqfd_assign(struct ioreq_session *session,
			      const struct ioreq_irqfd *arg)
{
	struct ioreq_guest *guest = session->guest;
	struct ioreq_kirqfd *irqfd;
	struct eventfd_ctx *eventfd;
	unsigned long flags;
	__poll_t events;
	struct fd f;
	int ret;

	if (!(guest->provider->ops->caps & IOREQ_CAP_IRQFD))
		return -EOPNOTSUPP;
	ret = ioreq_irq_check(guest, &arg->irq);
	if (ret)
		return ret;

	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd)
		return -ENOMEM;
	irqfd->session = session;
	irqfd->irq = arg->irq;
	INIT_LIST_HEAD(&irqfd->node);
	INIT_WORK(&irqfd->shutdown, ioreq_irqfd_shutdown_work);
	init_waitqueue_func_entry(&irqfd->wait, ioreq_irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, ioreq_irqfd_ptable);

	f = fdget(arg->fd);
	if (!fd_file(f)) {
		ret = -EBADF;
		goto err_free;
	}
	eventfd = eventfd_ctx_fileget(fd_file(f));
	if (IS_ERR(eventfd)) {
		ret = PTR_ERR(eventfd);
		goto err_fdput;
	}
	irqfd->eventfd = eventfd;
	irqfd->bind = (struct ioreq_binding) {
		.kind = IOREQ_BINDING_IRQFD,
		.file = get_file(fd_file(f)),
		.irq = arg->irq,
	};
	INIT_LIST_HEAD(&irqfd->bind.pnode);

	spin_lock_irqsave(&session->irqfds_lock, flags);
	if (ioreq_irqfd_find(session, eventfd, &arg->irq))
		ret = -EEXIST;
	else if (session->nr_irqfds >= IOREQ_MAX_IRQFDS)
		ret = -ENOSPC;
	spin_unlock_irqrestore(&session->irqfds_lock, flags);
	if (ret)
		goto err_put;

	/*
	 * Not listed yet: a hangup seen meanwhile is ignored (the binding
	 * then lives until deassigned or the session closes) and nobody
	 * else can free the irqfd.
	 */
	events = vfs_poll(fd_file(f), &irqfd->pt);

	spin_lock_irqsave(&session->irqfds_lock, flags);
	/*
	 * A racing assign of the same binding may have won, or racing
	 * assigns of others may have taken the last places: check again.
	 */
	if (ioreq_irqfd_find(session, eventfd, &arg->irq))
		ret = -EEXIST;
	else if (session->nr_irqfds >= IOREQ_MAX_IRQFDS)
		ret = -ENOSPC;
	if (!ret) {
		list_add_tail(&irqfd->node, &session->irqfds);
		session->nr_irqfds++;
		/*
		 * A signal already pending injects once, only for a binding
		 * that stays, and under the lock so that a deassign by
		 * another thread returns after it (->inject_atomic).
		 */
		if (events & EPOLLIN)
			trace_ioreq_irqfd(guest, session, &irqfd->irq, 1,
					  ioreq_irq_pulse(guest, &irqfd->irq));
		/* Listed: ->unbind() follows whoever takes it off. */
		if (guest->provider->ops->bind) {
			guest->provider->ops->bind(guest, &irqfd->bind);
			irqfd->bound = true;
		}
	}
	spin_unlock_irqrestore(&session->irqfds_lock, flags);
	fdput(f);
	if (ret)
		ioreq_irqfd_destroy(irqfd);
	return ret;

err_put:
	fput(irqfd->bind.file);
	eventfd_ctx_put(eventfd);
err_fdput:
	fdput(f);
err_free:
	kfree(irqfd);
	return ret;
}

static int ioreq_irqfd_deassign(struct ioreq_session *session,
				const struct ioreq_irqfd *arg)
{
	struct ioreq_kirqfd *irqfd;
	struct eventfd_ctx *eventfd;
	unsigned long flags;

	eventfd = eventfd_ctx_fdget(arg->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);
	spin_lock_irqsave(&session->irqfds_lock, flags);
	irqfd = ioreq_irqfd_find(session, eventfd, &arg->irq);
	if (irqfd) {
		list_del_init(&irqfd->node);
		session->nr_irqfds--;
	}
	spin_unlock_irqrestore(&session->irqfds_lock, flags);
	eventfd_ctx_put(eventfd);
	if (!irqfd)
		return -ENOENT;
	ioreq_irqfd_destroy(irqfd);
	return 0;
}

/**
 * ioreq_irqfd() - IOREQ_IRQFD
 * @session: an attached session
 * @karg: the caller's struct, copied in and checked for size
 *
 * Context: process.
 * Return: 0 or a negative errno (see uapi/linux/ioreq.h).
 */
int ioreq_irqfd(struct ioreq_session *session, void *karg)
{
	struct ioreq_irqfd *arg = karg;

	if (arg->flags & ~IOREQ_IRQFD_DEASSIGN || arg->__reserved)
		return -EINVAL;
	if (arg->flags & IOREQ_IRQFD_DEASSIGN)
		return ioreq_irqfd_deassign(session, arg);
	if (READ_ONCE(session->guest->dead))
		return -ENODEV;
	return ioreq_irqfd_assign(session, arg);
}

/**
 * ioreq_irqfds_release_all() - end every irqfd of a closing session
 * @session: the session
 *
 * On return no irqfd of @session injects any more and all are freed.
 *
 * Context: process.
 */
void ioreq_irqfds_release_all(struct ioreq_session *session)
{
	struct ioreq_kirqfd *irqfd;
	unsigned long flags;

	spin_lock_irqsave(&session->irqfds_lock, flags);
	while ((irqfd = list_first_entry_or_null(&session->irqfds,
						 struct ioreq_kirqfd, node))) {
		list_del_init(&irqfd->node);
		session->nr_irqfds--;
		spin_unlock_irqrestore(&session->irqfds_lock, flags);
		ioreq_irqfd_destroy(irqfd);
		spin_lock_irqsave(&session->irqfds_lock, flags);
	}
	spin_unlock_irqrestore(&session->irqfds_lock, flags);
	/* Those a hangup took off the list are torn down by their work. */
	flush_workqueue(ioreq_irqfd_wq);
}

/**
 * ioreq_irqfds_show() - the session's irqfds, for its fdinfo
 * @m: the fdinfo file
 * @session: the session
 *
 * One line per irqfd: the interrupt it raises and how many signals
 * injected it, then their sum.
 *
 * Context: process.
 */
void ioreq_irqfds_show(struct seq_file *m, struct ioreq_session *session)
{
	struct ioreq_kirqfd *irqfd;
	unsigned long flags;
	u64 sum = 0, n;

	spin_lock_irqsave(&session->irqfds_lock, flags);
	list_for_each_entry(irqfd, &session->irqfds, node) {
		const struct ioreq_irq *irq = &irqfd->irq;

		n = READ_ONCE(irqfd->signals);
		sum += n;
		seq_printf(m, "irqfd:\tkind %u line %u sbdf %#x pin %u msi_addr %#llx msi_data %#x signals %llu\n",
			   irq->kind, irq->line, irq->sbdf, irq->pin,
			   irq->msi_addr, irq->msi_data, n);
	}
	spin_unlock_irqrestore(&session->irqfds_lock, flags);
	seq_printf(m, "irqfd_signals:\t%llu\n", sum);
}

int __init ioreq_irqfd_init(void)
{
	ioreq_irqfd_wq = alloc_workqueue("ioreq-irqfd", IOREQ_WQ_PERCPU, 0);
	return ioreq_irqfd_wq ? 0 : -ENOMEM;
}

void ioreq_irqfd_exit(void)
{
	destroy_workqueue(ioreq_irqfd_wq);
}
