/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioreq provider interface: what a hypervisor provider implements and may
 * call.  The core (ioreq.ko) owns /dev/ioreq, the sessions, the regions
 * and the per-vcpu request slots; a provider turns its hypervisor's
 * notion of a trapped access into ioreq_dispatch() and receives the
 * answer through its ->complete() callback.  A provider never touches a
 * file descriptor of the backend side.
 */
#ifndef _LINUX_IOREQ_PROVIDER_H
#define _LINUX_IOREQ_PROVIDER_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/ioreq.h>

struct file;
struct module;
struct ioreq_guest;
struct ioreq_memory_range;
struct seq_file;
struct vm_area_struct;

/* struct ioreq_binding.kind */
#define IOREQ_BINDING_IOEVENTFD	1
#define IOREQ_BINDING_IRQFD	2

/**
 * struct ioreq_binding - an eventfd a backend bound, as a provider sees it
 * @kind: IOREQ_BINDING_IOEVENTFD or IOREQ_BINDING_IRQFD
 * @match: an ioeventfd's IOREQ_IOEVENTFD_DATAMATCH
 * @taken: set by the provider (WRITE_ONCE()) while its hypervisor signals
 *	or consumes the eventfd itself: an irqfd whose eventfd the
 *	hypervisor injects from then leaves it alone, so that no interrupt
 *	is delivered twice.  An ioeventfd ignores it: the accesses the
 *	hypervisor completes never reach ioreq_dispatch().
 * @space: an ioeventfd's IOREQ_SPACE_MMIO or IOREQ_SPACE_PIO
 * @len: an ioeventfd's write length
 * @file: the eventfd's file, referenced by the core for the binding's life
 * @addr: an ioeventfd's address or port
 * @datamatch: an ioeventfd's value, with @match
 * @irq: an irqfd's interrupt
 * @pnode: the provider's, from ->bind() to the end of ->unbind()
 * @pid: the provider's
 * @pstate: the provider's
 *
 * The core fills everything but the provider's members before ->bind(),
 * never changes them, and frees the binding only after ->unbind().
 */
struct ioreq_binding {
	u8 kind;
	bool match;
	bool taken;
	u32 space;
	u32 len;
	struct file *file;
	u64 addr;
	u64 datamatch;
	struct ioreq_irq irq;
	struct list_head pnode;
	u64 pid;
	u32 pstate;
};

/**
 * enum ioreq_status - how a request ended, passed to ->complete()
 * @IOREQ_DONE: a backend answered; the data is its answer
 * @IOREQ_ABORTED: the backend closed its session, released the region or
 *	the guest is being torn down; the data is all ones for a read
 */
enum ioreq_status {
	IOREQ_DONE,
	IOREQ_ABORTED,
};

/**
 * struct ioreq_provider_ops - a hypervisor provider
 * @owner: THIS_MODULE; pinned while a session is attached to one of its
 *	guests
 * @name: short name, for messages
 * @id: IOREQ_PROVIDER_* of the uapi
 * @caps: IOREQ_CAP_* this provider offers
 * @get_guest: find (or bring up, as Xen creates its IOREQ server) the
 *	guest @guest_id for a backend session.  Return it with a reference
 *	held (ioreq_guest_get()), ERR_PTR(-ESRCH) if the guest does not exist.
 *	Context: process, may sleep.
 * @map_range: tell the hypervisor to send accesses to [@start, @last] of
 *	@space to this guest's provider (Xen: map_io_range_to_ioreq_server).
 *	Optional.  Context: process, may sleep.
 * @unmap_range: undo @map_range.  Optional.  Context: process, may sleep.
 * @complete: the request on @vcpu ended with @status; @data holds the
 *	value of a read (all ones unless @status is IOREQ_DONE).  Called once
 *	per dispatched request that was not cancelled.  Context: any; called
 *	with the guest's lock held and interrupts off: must not sleep.
 * @release: the last reference to the guest is gone: free the provider's
 *	state.  Context: process, may sleep.
 * @inject_irq: raise (@level 1) or lower (@level 0) @irq in the guest; an
 *	MSI comes with @level 1.  The core has checked @irq against @caps.
 *	Return 0, -EAGAIN if the hypervisor cannot take it now, or another
 *	negative errno.  Optional (no IOREQ_CAP_IRQ_*).  Context: process,
 *	or any context if @inject_atomic.
 * @inject_atomic: @inject_irq never sleeps: an irqfd calls it straight
 *	from its eventfd's wakeup.  Required with IOREQ_CAP_IRQFD.
 * @nr_irq_lines: IOREQ_IRQ_LINE numbers below this are the only ones the
 *	hypervisor takes (Xen x86: the 16 ISA IRQs); 0 if it decides alone
 * @min_irq_line: IOREQ_IRQ_LINE numbers below this are refused (Xen Arm:
 *	32, the first SPI; SGIs and PPIs are per vcpu); usually 0
 * @mmap: map guest-physical frames vma->vm_pgoff .. + vma_pages(vma) into
 *	@vma, or fail with -ENXIO if any of them is not guest memory.
 *	Optional (IOREQ_CAP_GUEST_MEMORY; with it, IOREQ_CAP_GUEST_MEMORY_FD
 *	if it may be called on a guest memory file's vma, which may be
 *	MAP_SHARED only and cannot grow).  Context: process, mmap lock held.
 * @memory_map: fill @ranges with up to @room of the guest's memory ranges,
 *	sorted by address, and return how many there are (more than @room
 *	asks for a larger array), or a negative errno.  Each range must be
 *	one @mmap can map whole.  Optional (IOREQ_GET_MEMORY_MAP fails with
 *	-EOPNOTSUPP; a guest memory file is then checked with
 *	@guest_mem_check).  Context: process, may sleep.
 * @guest_mem_check: return 0 if [@gpa, @gpa + @len) is all guest memory,
 *	-ENXIO otherwise.  Context: process, may sleep.
 * @guest_rw: copy @len bytes between @buf and guest-physical @gpa; the
 *	range lies within one page and passed @guest_mem_check.  Context:
 *	process, may sleep.
 * @posted_room: a session that made ioreq_dispatch_posted() fail with
 *	-EAGAIN has room again (a backend read posted records, or released
 *	a region whose unread ones were dropped).  Optional.  Context:
 *	process; no spinlock of the core held, but possibly the session's
 *	mutex: must not wait for a backend.
 * @bind: a backend bound an eventfd (IOREQ_IOEVENTFD, IOREQ_IRQFD) to this
 *	guest: @b is in place and the core delivers through it.  A provider
 *	whose hypervisor can signal or consume the eventfd itself offers it
 *	there and sets @b->taken once it does.  Optional.  Context: any,
 *	under the core's lock that lists @b: must not sleep or allocate.
 * @unbind: @b is going (deassigned, its region released, its session
 *	closed or its eventfd hung up): the core no longer delivers through
 *	it.  The provider stops its hypervisor's use of @b before it
 *	returns, or gives up waiting for that; @b is freed after.  Called
 *	once for each @bind.  Context: process, may sleep; the backend's
 *	session mutex may be held.
 *
 * The ops struct is const and lives as long as the provider is registered.
 */
struct ioreq_provider_ops {
	struct module *owner;
	const char *name;
	u32 id;
	u64 caps;
	struct ioreq_guest *(*get_guest)(u64 guest_id);
	int (*map_range)(struct ioreq_guest *guest, u32 space, u64 start,
			 u64 last);
	void (*unmap_range)(struct ioreq_guest *guest, u32 space, u64 start,
			    u64 last);
	void (*complete)(struct ioreq_guest *guest, u32 vcpu, u64 data,
			 enum ioreq_status status);
	void (*release)(struct ioreq_guest *guest);
	int (*inject_irq)(struct ioreq_guest *guest,
			  const struct ioreq_irq *irq, u32 level);
	bool inject_atomic;
	u32 nr_irq_lines;
	u32 min_irq_line;
	int (*mmap)(struct ioreq_guest *guest, struct vm_area_struct *vma);
	int (*memory_map)(struct ioreq_guest *guest,
			  struct ioreq_memory_range *ranges, unsigned int room);
	int (*guest_mem_check)(struct ioreq_guest *guest, u64 gpa, u64 len);
	int (*guest_rw)(struct ioreq_guest *guest, u64 gpa, void *buf,
			size_t len, bool write);
	void (*posted_room)(struct ioreq_guest *guest);
	void (*bind)(struct ioreq_guest *guest, struct ioreq_binding *b);
	void (*unbind)(struct ioreq_guest *guest, struct ioreq_binding *b);
};

/**
 * struct ioreq_provider - a registered provider (owned by the core)
 * @ops: the provider's operations
 * @node: entry in the core's provider list, under its providers lock
 */
struct ioreq_provider {
	const struct ioreq_provider_ops *ops;
	struct list_head node;
};

int ioreq_provider_register(struct ioreq_provider *provider);
void ioreq_provider_unregister(struct ioreq_provider *provider);

struct ioreq_guest *ioreq_guest_create(struct ioreq_provider *provider,
				       u64 guest_id, u32 nr_vcpus,
				       void *priv);
void ioreq_guest_get(struct ioreq_guest *guest);
void ioreq_guest_put(struct ioreq_guest *guest);
void ioreq_guest_kill(struct ioreq_guest *guest);
void ioreq_guest_invalidate(struct ioreq_guest *guest);
void *ioreq_guest_priv(struct ioreq_guest *guest);
u64 ioreq_guest_id(struct ioreq_guest *guest);
u32 ioreq_guest_nr_vcpus(struct ioreq_guest *guest);
struct file *ioreq_guest_handle(struct ioreq_guest *guest);
void ioreq_guest_show_fdinfo(struct seq_file *m, struct ioreq_guest *guest);

/**
 * enum ioreq_dispatch_result - what ioreq_dispatch() did with an access
 * @IOREQ_QUEUED: a session claims the address; ->complete() follows
 * @IOREQ_UNCLAIMED: nothing claims it; the provider answers all ones for a
 *	read and drops a write, as Xen does
 * @IOREQ_HANDLED: a write the core completed itself (an ioeventfd took
 *	it, or it was posted); the provider completes the vcpu at once, no
 *	->complete() follows
 */
enum ioreq_dispatch_result {
	IOREQ_QUEUED,
	IOREQ_UNCLAIMED,
	IOREQ_HANDLED,
};

int ioreq_dispatch(struct ioreq_guest *guest, u32 vcpu, u32 space, u32 op,
		   u32 size, u64 addr, u64 data);

/**
 * struct ioreq_access - one access for ioreq_dispatch_many()
 * @vcpu: the accessing vcpu
 * @space: IOREQ_SPACE_*
 * @op: IOREQ_OP_READ or IOREQ_OP_WRITE
 * @size: 1, 2, 4 or 8
 * @addr: guest address or port
 * @data: the value of a write
 * @ret: out: what ioreq_dispatch() would have returned
 */
struct ioreq_access {
	u32 vcpu;
	u32 space;
	u32 op;
	u32 size;
	u64 addr;
	u64 data;
	int ret;
};

unsigned int ioreq_dispatch_many(struct ioreq_guest *guest,
				 struct ioreq_access *acc, unsigned int n);
int ioreq_dispatch_posted(struct ioreq_guest *guest, u32 space, u32 size,
			  u64 addr, u64 data);

/**
 * enum ioreq_cancel_result - what ioreq_cancel() found
 * @IOREQ_CANCEL_IDLE: the request had already completed
 * @IOREQ_CANCEL_QUEUED: cancelled before a backend read it
 * @IOREQ_CANCEL_DELIVERED: cancelled after a backend read it; a later
 *	response from the backend gets ENOENT
 */
enum ioreq_cancel_result {
	IOREQ_CANCEL_IDLE,
	IOREQ_CANCEL_QUEUED,
	IOREQ_CANCEL_DELIVERED,
};

enum ioreq_cancel_result ioreq_cancel(struct ioreq_guest *guest, u32 vcpu);

bool ioreq_poll_for(bool (*done)(void *arg), void *arg, unsigned int ns);

#define IOREQ_POLL_START_NS 10000U	/* a window's first size once it grows */
unsigned int ioreq_poll_adapt(unsigned int cur, u64 waited,
			      unsigned int limit);

#endif /* _LINUX_IOREQ_PROVIDER_H */
