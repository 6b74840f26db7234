/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioreq core: private definitions shared by the files of ioreq.ko.
 *
 * Objects and who owns them:
 *
 *   struct ioreq_guest    one per guest a provider exposes; refcounted by
 *                         the provider and by each attached session.
 *   struct ioreq_slot     one per guest vcpu, allocated with the guest:
 *                         the request that vcpu has in flight, if any.
 *   struct ioreq_session  one per open /dev/ioreq file.
 *   struct ioreq_range    one per claimed region; in its session's xarray
 *                         and in the guest's interval tree for its space.
 *
 * Locking, outermost first:
 *
 *   session->lock (mutex)  the session's attach state and its regions;
 *                          taken by ioctls and release().
 *   ioreq_providers_lock   (mutex, guest.c) the provider list; held around
 *                          ->get_guest() during attach.
 *   session->irqfds_lock (spinlock, irqsave) the session's irqfd list;
 *                          taken inside an eventfd's wait queue lock by
 *                          the irqfd wakeup, so never held around an
 *                          eventfd operation.
 *   session->rlock (mutex) the readers of the session's posted fifo;
 *                          taken inside session->lock when a released
 *                          region's records are purged, and around
 *                          guest->lock.
 *   session->wlock (mutex) the session's write() staging buffer; never
 *                          held with session->lock.  A session is only
 *                          detached by release(), when no write() runs,
 *                          or by a failed IOREQ_ATTACH, before any could.
 *   guest->lock (spinlock, irqsave: providers dispatch from interrupt
 *                          context) the region trees, every slot, every
 *                          session queue of the guest, guest->sessions
 *                          and guest->dead.
 *
 * A provider's ->bind() runs under guest->lock (an ioeventfd) or
 * session->irqfds_lock (an irqfd), so its own lock nests inside both;
 * ->unbind() runs with no spinlock held, possibly under session->lock.
 */
#ifndef _IOREQ_DRV_H
#define _IOREQ_DRV_H

#include <linux/atomic.h>
#include <linux/kfifo.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/file.h>
#include <linux/ioreq_provider.h>

/* Before 6.12, struct fd had a file member and no accessor. */
#ifndef fd_file
#define fd_file(f) ((f).file)
#endif

#define IOREQ_NR_SPACES		3	/* IOREQ_SPACE_MMIO .. PCI_CONFIG */
#define IOREQ_MAX_VCPUS		4096	/* fits IOREQ_CMD_VCPU() */
#define IOREQ_ID_SEQ_SHIFT	16
/* Posted writes a session holds unread: a power of two (kfifo). */
#define IOREQ_POSTED_MAX	128

/* Capabilities the core gives every provider's guests. */
#define IOREQ_CORE_CAPS		IOREQ_CAP_REDELIVER

extern unsigned int ioreq_max_regions;
extern unsigned int ioreq_read_poll_ns;
extern struct kmem_cache *ioreq_range_cache;

/*
 * enum ioreq_slot_state - life of one vcpu's request
 *
 *   IDLE --dispatch--> QUEUED --read()--> DELIVERED --write()--> IDLE
 *                        |  ^                 |
 *                        |  +--read() fault---+
 *                        |  +--IOREQ_REDELIVER+
 *                        +--------------------+--> IDLE (aborted or
 *                                                cancelled)
 *
 * ANSWERING is DELIVERED while write() checks a batch, with the guest's
 * lock held throughout: nobody else ever sees it.
 */
enum ioreq_slot_state {
	IOREQ_SLOT_IDLE,
	IOREQ_SLOT_QUEUED,
	IOREQ_SLOT_DELIVERED,
	IOREQ_SLOT_ANSWERING,
};

/**
 * struct ioreq_slot - the request of one vcpu
 * @state: enum ioreq_slot_state
 * @seq: bumped on each dispatch; the upper half of the record id, so a
 *	stale response never completes a later request
 * @cmd: the record handed to read()
 * @session: the session the request is queued on or delivered to
 * @range: the region that claimed it
 * @node: entry in @session's queue while QUEUED
 *
 * Every member is protected by the guest's lock.  Each slot has a cache
 * line of its own: a provider fills one vcpu's slot on one CPU while a
 * backend takes or answers another's on another CPU, and slots sharing a
 * line would move it between them at every step.
 */
struct ioreq_slot {
	u8 state;
	u16 seq;
	struct ioreq_cmd cmd;
	struct ioreq_session *session;
	struct ioreq_range *range;
	struct list_head node;
} ____cacheline_aligned_in_smp;

/**
 * struct ioreq_guest_stats - a guest's accesses, as /proc/PID/fdinfo shows
 * @queued: accesses queued on a session for a backend to read
 * @unclaimed: accesses no region claims
 * @posted: writes put in a session's posted fifo
 * @ioeventfd: writes an ioeventfd took
 *
 * Counted under the guest's lock, which the request path holds anyway:
 * nothing here is shared across CPUs that was not already.
 */
struct ioreq_guest_stats {
	u64 queued;
	u64 unclaimed;
	u64 posted;
	u64 ioeventfd;
};

/**
 * struct ioreq_session_stats - a session's requests, as fdinfo shows them
 * @queued: requests queued on the session
 * @delivered: records read() returned, posted ones included
 * @completed: requests the backend answered
 * @aborted: requests the core ended with IOREQ_ABORTED
 * @posted: posted writes put in the session's fifo
 * @posted_full: posted writes that found the fifo full
 * @ioeventfd: writes the session's ioeventfds took
 *
 * All under the guest's lock (struct ioreq_range.stats too).
 */
struct ioreq_session_stats {
	u64 queued;
	u64 delivered;
	u64 completed;
	u64 aborted;
	u64 posted;
	u64 posted_full;
	u64 ioeventfd;
};

/**
 * struct ioreq_guest - a guest as the core sees it
 * @provider: the provider that created it
 * @id: the guest id backends attach with
 * @nr_vcpus: number of entries in @slots
 * @priv: the provider's data
 * @ref: references: the provider's, and one per attached session
 * @lock: protects @trees, @slots, @sessions, @dead, and the queues of the
 *	sessions on @sessions
 * @trees: claimed regions, one interval tree per IOREQ_SPACE_*
 * @sessions: attached sessions (struct ioreq_session.guest_node)
 * @dead: set by ioreq_guest_kill(); no request is dispatched after it
 * @invalidations: ioreq_guest_invalidate() calls, under @lock (read
 *	locklessly with READ_ONCE())
 * @stats: what the guest's accesses met, under @lock (fdinfo.c)
 * @slots: one per vcpu
 */
struct ioreq_guest {
	struct ioreq_provider *provider;
	u64 id;
	u32 nr_vcpus;
	void *priv;
	struct kref ref;
	/* see @lock above: the slots, trees and session queues */
	spinlock_t lock;
	struct rb_root_cached trees[IOREQ_NR_SPACES];
	struct list_head sessions;
	bool dead;
	u32 invalidations;
	struct ioreq_guest_stats stats;
	struct ioreq_slot slots[];
};

/**
 * struct ioreq_posted - a posted write waiting in its session's fifo
 * @cmd: the record read() hands out
 * @region: the id of the region that claimed the write, so that releasing
 *	the region takes its unread records back
 */
struct ioreq_posted {
	struct ioreq_cmd cmd;
	u32 region;
};

/**
 * struct ioreq_session - one open /dev/ioreq
 * @lock: serializes attach and region changes; protects @guest (set once),
 *	@regions and @nr_regions
 * @wlock: protects @wbuf
 * @rlock: serializes the readers of @posted (a record leaves it only once
 *	copied out) and the purge of a released region's records from it
 * @guest: the attached guest, NULL before IOREQ_ATTACH
 * @regions: claimed regions by id
 * @nr_regions: number of entries in @regions
 * @queue: QUEUED slots in arrival order, under the guest's lock
 * @stats: counters for fdinfo, under the guest's lock
 * @guest_node: entry in the guest's session list, under the guest's lock
 * @wait: readers and pollers wait here for @queue, @posted or the guest's
 *	death
 * @poll_ns: how long a blocking read() polls before it sleeps, adapted
 *	after each wait (ioreq_poll_adapt()); read and written locklessly
 *	with READ_ONCE()/WRITE_ONCE() by the session's readers
 * @posted: posted writes not yet read, oldest first, under the guest's
 *	lock; allocated at attach if the provider has IOREQ_CAP_POSTED_WRITES.
 *	Holds no record of a released region.
 * @wbuf: staging for write(): room for one response per vcpu
 * @irqfds_lock: protects @irqfds and @nr_irqfds
 * @irqfds: the session's irqfds (irq.c)
 * @nr_irqfds: entries in @irqfds
 * @nr_ioeventfds: ioeventfds on the session's regions, under @lock
 * @invalidations_seen: the guest's @invalidations as IOREQ_GET_INFO last
 *	returned it; poll() reports EPOLLPRI while they differ
 * @id: a number for the session, unique while the module is loaded: what
 *	tracepoints and fdinfo call it
 * @injected: successful IOREQ_INJECT_IRQ calls; atomic, as injections
 *	take no lock of the session
 */
struct ioreq_session {
	/* attach state and regions */
	struct mutex lock;
	/* the write() staging buffer */
	struct mutex wlock;
	/* readers of @posted, and a released region's purge of it */
	struct mutex rlock;
	struct ioreq_guest *guest;
	struct xarray regions;
	unsigned int nr_regions;
	struct list_head queue;
	/* next to @queue, whose cache line each request writes anyway */
	struct ioreq_session_stats stats;
	struct list_head guest_node;
	wait_queue_head_t wait;
	/* a blocking read()'s polling window, see ioreq_poll_adapt() */
	unsigned int poll_ns;
	DECLARE_KFIFO_PTR(posted, struct ioreq_posted);
	struct ioreq_cmd *wbuf;
	/* the irqfd list, also taken from eventfd wakeups */
	spinlock_t irqfds_lock;
	struct list_head irqfds;
	unsigned int nr_irqfds;
	unsigned int nr_ioeventfds;
	u32 invalidations_seen;
	u64 id;
	atomic64_t injected;
};

/**
 * struct ioreq_range - a claimed region (struct ioreq_region in the uapi)
 * @rb: interval tree linkage, under the guest's lock
 * @start: first address
 * @last: last address (inclusive)
 * @subtree_last: interval tree bookkeeping
 * @session: the claiming session
 * @user_data: copied into each record
 * @space: IOREQ_SPACE_*
 * @flags: IOREQ_REGION_*
 * @id: index in the session's @regions
 * @ioeventfds: the ioeventfds bound inside the region (ioeventfd.c);
 *	changed under both the session's and the guest's lock
 * @nr_queued: requests the region queued, under the guest's lock
 * @nr_posted: writes the region posted, under the guest's lock
 * @nr_ioeventfd: writes the region's ioeventfds took, under the guest's
 *	lock
 */
struct ioreq_range {
	struct rb_node rb;
	u64 start;
	u64 last;
	u64 subtree_last;
	struct ioreq_session *session;
	u64 user_data;
	u32 space;
	u32 flags;
	u32 id;
	struct list_head ioeventfds;
	u64 nr_queued;
	u64 nr_posted;
	u64 nr_ioeventfd;
};

/* guest.c */
struct ioreq_guest *ioreq_guest_lookup(u32 provider_id, u64 guest_id);
struct ioreq_guest *ioreq_guest_from_handle(u64 fd, u32 provider_id);
u64 ioreq_providers_caps(void);

/* region.c */
int ioreq_region_claim(struct ioreq_session *session,
		       struct ioreq_region *arg);
int ioreq_region_release(struct ioreq_session *session, u32 id);
void ioreq_regions_release_all(struct ioreq_session *session);
struct ioreq_range *ioreq_range_find(struct ioreq_guest *guest, u32 space,
				     u64 addr, u32 size);

/* irq.c */
int ioreq_inject_irq(struct ioreq_session *session, void *karg);
int ioreq_irqfd(struct ioreq_session *session, void *karg);
void ioreq_irqfds_release_all(struct ioreq_session *session);
int ioreq_irqfd_init(void);
void ioreq_irqfd_exit(void);

/* ioeventfd.c */
int ioreq_ioeventfd(struct ioreq_session *session, void *karg);
bool ioreq_ioeventfd_signal(struct ioreq_range *range, u64 addr, u32 size,
			    u64 data);
void ioreq_ioeventfds_free(struct ioreq_session *session,
			   struct ioreq_range *range);

/* fdinfo.c */
u64 ioreq_session_next_id(void);
void ioreq_session_show_fdinfo(struct seq_file *m, struct file *file);

/* irq.c (fdinfo) */
void ioreq_irqfds_show(struct seq_file *m, struct ioreq_session *session);

/* memory.c */
int ioreq_session_mmap(struct ioreq_session *session,
		       struct vm_area_struct *vma);
int ioreq_read_guest(struct ioreq_session *session, void *karg);
int ioreq_write_guest(struct ioreq_session *session, void *karg);

/* memfd.c */
/**
 * struct ioreq_memfd_args - IOREQ_GUEST_MEMORY_FD's kernel copy
 * @arg: the uapi struct, first: copied in and out
 * @file: the new file, installed at @arg.fd once the answer is copied out
 */
struct ioreq_memfd_args {
	struct ioreq_guest_memory_fd arg;
	struct file *file;
};

int ioreq_guest_memory_fd(struct ioreq_session *session, void *karg);
void ioreq_guest_memory_fd_install(struct ioreq_session *session,
				   void *karg);
void ioreq_guest_memory_fd_undo(struct ioreq_session *session, void *karg);
int ioreq_get_memory_map(struct ioreq_session *session, void *karg);
int ioreq_memfd_init(void);
void ioreq_memfd_exit(void);

/* request.c */
void ioreq_session_abort_locked(struct ioreq_guest *guest,
				struct ioreq_session *session,
				struct ioreq_range *range);
int ioreq_session_redeliver(struct ioreq_session *session, void *karg);
void ioreq_session_purge_posted(struct ioreq_session *session,
				struct ioreq_range *range);
ssize_t ioreq_session_read(struct ioreq_session *session, char __user *buf,
			   size_t count, bool nonblock);
ssize_t ioreq_session_write(struct ioreq_session *session,
			    const char __user *buf, size_t count);

#endif /* _IOREQ_DRV_H */
