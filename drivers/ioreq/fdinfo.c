// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq core: counters in /proc/PID/fdinfo, as io_uring and KVM show
 * theirs.
 *
 * A session's file shows its guest, its counters and one line per region;
 * a provider's guest file can show the guest's (ioreq_guest_show_fdinfo()).
 * The counters are plain integers updated under the guest's lock, which
 * the request path holds anyway, so keeping them costs no atomic and no
 * cache line the path did not already touch.  Each is read here under
 * the same lock.  Documentation/virt/ioreq/observability.rst lists every
 * line.
 */
#include <linux/atomic.h>
#include <linux/export.h>
#include <linux/fs.h>
#include <linux/seq_file.h>

#include "ioreq_drv.h"

/* Numbers sessions for tracepoints and fdinfo; 0 is never given. */
static atomic64_t ioreq_session_ids = ATOMIC64_INIT(0);

/**
 * ioreq_session_next_id() - the id of a new session
 *
 * Context: any.
 * Return: a number no other session has had since the module loaded.
 */
u64 ioreq_session_next_id(void)
{
	return atomic64_inc_return(&ioreq_session_ids);
}

static const char *const ioreq_space_names[IOREQ_NR_SPACES] = {
	[IOREQ_SPACE_MMIO] = "mmio",
	[IOREQ_SPACE_PIO] = "pio",
	[IOREQ_SPACE_PCI_CONFIG] = "pci",
};

/* One region: its place, its flags and what it took. */
static void ioreq_range_show(struct seq_file *m, struct ioreq_guest *guest,
			     struct ioreq_range *range)
{
	u64 queued, posted, ioeventfd;
	unsigned long flags;

	spin_lock_irqsave(&guest->lock, flags);
	queued = range->nr_queued;
	posted = range->nr_posted;
	ioeventfd = range->nr_ioeventfd;
	spin_unlock_irqrestore(&guest->lock, flags);
	seq_printf(m, "region:\t%u %s base %#llx size %#llx flags %#x user_data %#llx queued %llu posted %llu ioeventfd %llu\n",
		   range->id, ioreq_space_names[range->space], range->start,
		   range->last - range->start + 1, range->flags,
		   range->user_data, queued, posted, ioeventfd);
}

/**
 * ioreq_session_show_fdinfo() - file_operations.show_fdinfo of /dev/ioreq
 * @m: the fdinfo file
 * @file: an open /dev/ioreq
 *
 * Context: process; takes the session's lock and, briefly, the guest's.
 */
void ioreq_session_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct ioreq_session *session = file->private_data;
	struct ioreq_session_stats st;
	struct ioreq_guest *guest;
	struct ioreq_range *range;
	unsigned long flags, id;
	unsigned int queue = 0, posted = 0;
	struct ioreq_slot *slot;

	mutex_lock(&session->lock);
	seq_printf(m, "ioreq-session:\t%llu\n", session->id);
	guest = session->guest;
	if (!guest) {
		seq_puts(m, "provider:\tnone\n");
		goto out_unlock;
	}
	spin_lock_irqsave(&guest->lock, flags);
	st = session->stats;
	list_for_each_entry(slot, &session->queue, node)
		queue++;
	if (kfifo_initialized(&session->posted))
		posted = kfifo_len(&session->posted);
	spin_unlock_irqrestore(&guest->lock, flags);

	seq_printf(m, "provider:\t%s\n", guest->provider->ops->name);
	seq_printf(m, "guest:\t%llu\n", guest->id);
	seq_printf(m, "vcpus:\t%u\n", guest->nr_vcpus);
	seq_printf(m, "dead:\t%d\n", READ_ONCE(guest->dead));
	seq_printf(m, "queued:\t%llu\n", st.queued);
	seq_printf(m, "delivered:\t%llu\n", st.delivered);
	seq_printf(m, "completed:\t%llu\n", st.completed);
	seq_printf(m, "aborted:\t%llu\n", st.aborted);
	seq_printf(m, "posted:\t%llu\n", st.posted);
	seq_printf(m, "posted_full:\t%llu\n", st.posted_full);
	seq_printf(m, "ioeventfd:\t%llu\n", st.ioeventfd);
	seq_printf(m, "injected:\t%lld\n", atomic64_read(&session->injected));
	seq_printf(m, "waiting:\t%u\n", queue);
	seq_printf(m, "posted_unread:\t%u\n", posted);
	seq_printf(m, "regions:\t%u\n", session->nr_regions);
	seq_printf(m, "ioeventfds:\t%u\n", session->nr_ioeventfds);
	xa_for_each(&session->regions, id, range)
		ioreq_range_show(m, guest, range);
	ioreq_irqfds_show(m, session);
out_unlock:
	mutex_unlock(&session->lock);
}

/**
 * ioreq_guest_show_fdinfo() - a guest's counters, for a provider's fdinfo
 * @m: the provider's fdinfo file
 * @guest: the guest
 *
 * Prints the guest's id, how many sessions are attached and what its
 * accesses met, one "name:\tvalue" line each (see observability.rst).
 *
 * Context: process; takes the guest's lock briefly.
 */
void ioreq_guest_show_fdinfo(struct seq_file *m, struct ioreq_guest *guest)
{
	struct ioreq_guest_stats st;
	struct list_head *pos;
	unsigned int sessions = 0;
	unsigned long flags;
	bool dead;

	spin_lock_irqsave(&guest->lock, flags);
	st = guest->stats;
	dead = guest->dead;
	list_for_each(pos, &guest->sessions)
		sessions++;
	spin_unlock_irqrestore(&guest->lock, flags);

	seq_printf(m, "ioreq-guest:\t%llu\n", guest->id);
	seq_printf(m, "vcpus:\t%u\n", guest->nr_vcpus);
	seq_printf(m, "dead:\t%d\n", dead);
	seq_printf(m, "sessions:\t%u\n", sessions);
	seq_printf(m, "queued:\t%llu\n", st.queued);
	seq_printf(m, "unclaimed:\t%llu\n", st.unclaimed);
	seq_printf(m, "posted:\t%llu\n", st.posted);
	seq_printf(m, "ioeventfd:\t%llu\n", st.ioeventfd);
}
EXPORT_SYMBOL_GPL(ioreq_guest_show_fdinfo);
