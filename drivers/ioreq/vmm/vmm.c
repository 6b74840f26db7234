// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq userspace-hypervisor provider: /dev/ioreq-vmm.
 *
 * A process that plays the hypervisor creates one guest per open file and
 * forwards each vcpu access with IOREQ_VMM_ACCESS: the simulator does it
 * for tests and the demo, a KVM VMM does it for its KVM_EXIT_MMIO and
 * KVM_EXIT_IO exits.  The calling thread is the vcpu: it sleeps until the
 * backend answers, the request is aborted, or its timeout passes.  A
 * hypervisor thread serving several vcpus write()s their accesses to the
 * guest's fd instead and read()s each one's end as an event.
 *
 * The VMM also lends its guest RAM (a memfd) with IOREQ_VMM_ADD_MEMORY,
 * which backends then map or copy through /dev/ioreq, and read()s the
 * interrupts backends inject as struct ioreq_vmm_event records.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kfifo.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/jiffies.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/ioreq_provider.h>
#include <linux/ioreq_vmm.h>

#include "../compat.h"

/* ABI: a write() record, a read() event, as on 32-bit userspace too. */
static_assert(sizeof(struct ioreq_vmm_create) == 24);
static_assert(sizeof(struct ioreq_vmm_access) == 40);
static_assert(sizeof(struct ioreq_vmm_memory) == 40);
static_assert(sizeof(struct ioreq_vmm_guest_handle) == 16);
static_assert(sizeof(struct ioreq_vmm_done) == 24);
static_assert(sizeof(struct ioreq_vmm_event) == 48);
static_assert(offsetof(struct ioreq_vmm_event, done) == 16);
static_assert(sizeof(struct ioreq_vmm_binding) == 88);
static_assert(sizeof(struct ioreq_vmm_binding_ack) == 16);

static unsigned int max_vcpus = 64;
module_param(max_vcpus, uint, 0444);
MODULE_PARM_DESC(max_vcpus, "Most vcpus a guest may have (default 64, at most 4096)");

static unsigned int default_timeout_ms = 10000;
module_param(default_timeout_ms, uint, 0444);
MODULE_PARM_DESC(default_timeout_ms, "Wait for a backend when an access gives no timeout (default 10000)");

static unsigned int poll_ns = 200000;
module_param(poll_ns, uint, 0644);
MODULE_PARM_DESC(poll_ns, "The longest an access polls for the backend's answer before it sleeps, in ns; each vcpu's window adapts below it (default 200000, 0: never)");

static unsigned int bind_timeout_ms = 1000;
module_param(bind_timeout_ms, uint, 0644);
MODULE_PARM_DESC(bind_timeout_ms, "How long a backend's removal of a binding the VMM took waits for the VMM to release it, in ms (default 1000)");

#define VMM_VCPU_BUSY 0
#define VMM_PIO_LAST 0xffffULL
#define VMM_PCI_CONFIG_SIZE 4096	/* registers of one PCIe function */
#define VMM_MAX_MEMORY 64	/* IOREQ_VMM_ADD_MEMORY ranges per guest */
#define VMM_EVENTS 256		/* queued interrupt events per guest */

/**
 * struct vmm_memory - guest RAM lent by the VMM
 * @file: the memfd, referenced
 * @gpa: first guest-physical address
 * @len: length in bytes
 * @offset: offset of @gpa in @file
 */
struct vmm_memory {
	struct file *file;
	u64 gpa;
	u64 len;
	u64 offset;
};

/**
 * struct vmm_vcpu - one vcpu's access in flight
 * @busy: VMM_VCPU_BUSY is set while a thread is in IOREQ_VMM_ACCESS on it,
 *	or from the write() of an access until read() returned its end
 * @done: set with release semantics by vmm_complete() once @data and
 *	@status hold the answer
 * @status: IOREQ_VMM_STATUS_*
 * @async: the access was written: its end is queued on the guest's @ended
 * @poll_ns: how long the next access polls before it sleeps, at most the
 *	poll_ns parameter; only the thread in IOREQ_VMM_ACCESS touches it
 * @data: the value of a read
 * @acc: a written access, for its end's event
 * @ended_node: entry in the guest's @ended, under its @events_lock
 * @wait: the accessing thread sleeps here
 *
 * One cache line each, as struct ioreq_slot: a vcpu's access starts on the
 * hypervisor's CPU while another vcpu's ends on the backend's.
 */
struct vmm_vcpu {
	unsigned long busy;
	u8 done;
	u8 status;
	bool async;
	u32 poll_ns;
	u64 data;
	struct ioreq_vmm_done acc;
	struct list_head ended_node;
	wait_queue_head_t wait;
} ____cacheline_aligned_in_smp;

/**
 * struct vmm_guest - a guest created through /dev/ioreq-vmm
 * @guest: the core's guest; this struct is its priv and is freed with it
 * @nr_vcpus: entries in @vcpus
 * @private: IOREQ_VMM_CREATE_PRIVATE: attached by handle only; set before
 *	the guest is published in vmm_guests
 * @nr_async: written accesses not yet read back
 * @read_poll_ns: how long the next read() polls for an access to end
 * @mem_lock: protects @mem and @nr_mem
 * @mem: guest RAM ranges, unordered, all removed when the VMM closes the
 *	guest's file (sessions and handles may hold the guest longer)
 * @nr_mem: entries in @mem
 * @events_lock: protects @events, @lost and @ended
 * @lost: events dropped since the last one queued
 * @ended: vcpus whose written access ended, oldest first, for read()
 * @events_wait: the VMM's readers and pollers
 * @events: interrupt events for the VMM to read()
 * @binds_lock: protects @binds_seq, @binds_closed, the four binding lists
 *	and the provider's members of each binding on them
 * @binds_seq: the last binding id or removal sequence number given
 * @binds_closed: the guest's fd is closed: bindings are no longer offered
 * @binds_added: bindings whose ADDED event the VMM has not read
 *	(VMM_BIND_QUEUED), oldest first
 * @binds_offered: bindings whose ADDED event the VMM read
 *	(VMM_BIND_OFFERED), taken or not
 * @binds_removed: REMOVED events not read (struct vmm_removal), oldest
 *	first
 * @binds_gone: REMOVED events read, waiting for the VMM's release
 * @binds_wait: removals wait here for the VMM's release
 * @vcpus: per-vcpu wait state
 *
 * What the backend's CPU touches when an access ends (@events_lock,
 * @ended, @events_wait) shares a cache line with nothing that only the
 * VMM's side writes (@nr_async, @read_poll_ns).
 */
struct vmm_guest {
	struct ioreq_guest *guest;
	u32 nr_vcpus;
	bool private;
	atomic_t nr_async;
	u32 read_poll_ns;
	/* the memory ranges */
	struct mutex mem_lock;
	struct vmm_memory mem[VMM_MAX_MEMORY];
	unsigned int nr_mem;
	/* the event queue, filled from any context */
	spinlock_t events_lock ____cacheline_aligned_in_smp;
	u32 lost;
	struct list_head ended;
	wait_queue_head_t events_wait;
	DECLARE_KFIFO(events, struct ioreq_vmm_event, VMM_EVENTS);
	/* the bindings offered to the VMM, changed from any context */
	spinlock_t binds_lock;
	u64 binds_seq;
	bool binds_closed;
	struct list_head binds_added;
	struct list_head binds_offered;
	struct list_head binds_removed;
	struct list_head binds_gone;
	wait_queue_head_t binds_wait;
	struct vmm_vcpu vcpus[];
};

/*
 * Guests by id.  vmm_guests_lock makes lookup-and-get atomic against
 * removal; it protects vmm_guests.
 */
static DEFINE_MUTEX(vmm_guests_lock);
static DEFINE_XARRAY_ALLOC1(vmm_guests);

static struct ioreq_provider vmm_provider;

static struct ioreq_guest *vmm_get_guest(u64 guest_id)
{
	struct ioreq_guest *guest = ERR_PTR(-ESRCH);
	struct vmm_guest *vg;

	if (guest_id > ULONG_MAX)
		return guest;
	mutex_lock(&vmm_guests_lock);
	vg = xa_load(&vmm_guests, guest_id);
	/* A private guest is reached by its handle alone. */
	if (vg && !vg->private) {
		ioreq_guest_get(vg->guest);
		guest = vg->guest;
	}
	mutex_unlock(&vmm_guests_lock);
	return guest;
}

/* Queue the end of @v's written access for read(). Context: any. */
static void vmm_end_async(struct vmm_guest *vg, struct vmm_vcpu *v, u64 data,
			  u8 status)
{
	unsigned long flags;

	spin_lock_irqsave(&vg->events_lock, flags);
	v->acc.status = status;
	v->acc.data = data;
	list_add_tail(&v->ended_node, &vg->ended);
	spin_unlock_irqrestore(&vg->events_lock, flags);
	/* Its barrier pairs with a reader's sleep and vmm_poll()'s smp_mb(). */
	if (wq_has_sleeper(&vg->events_wait))
		wake_up_interruptible_poll(&vg->events_wait, EPOLLIN | EPOLLRDNORM);
}

static void vmm_complete(struct ioreq_guest *guest, u32 vcpu, u64 data,
			 enum ioreq_status status)
{
	struct vmm_guest *vg = ioreq_guest_priv(guest);
	struct vmm_vcpu *v = &vg->vcpus[vcpu];
	u8 st = status == IOREQ_DONE ? IOREQ_VMM_STATUS_DONE :
				       IOREQ_VMM_STATUS_ABORTED;

	if (v->async) {
		vmm_end_async(vg, v, v->acc.op == IOREQ_OP_READ ? data :
							  v->acc.data, st);
		return;
	}
	v->data = data;
	v->status = st;
	/* Pairs with smp_load_acquire() in vmm_access(). */
	smp_store_release(&v->done, 1);
	wake_up(&v->wait);
}

/*
 * Let go of the guest's RAM.  Mappings backends made hold the memfds
 * themselves, and guest_rw() its own reference for the copy.
 */
static void vmm_memory_drop(struct vmm_guest *vg)
{
	unsigned int i;

	mutex_lock(&vg->mem_lock);
	for (i = 0; i < vg->nr_mem; i++)
		fput(vg->mem[i].file);
	vg->nr_mem = 0;
	mutex_unlock(&vg->mem_lock);
}

static void vmm_release(struct ioreq_guest *guest)
{
	struct vmm_guest *vg = ioreq_guest_priv(guest);

	vmm_memory_drop(vg);
	mutex_destroy(&vg->mem_lock);
	kvfree(vg);
}

/* Context: any; the core checked @irq. */
static int vmm_inject_irq(struct ioreq_guest *guest,
			  const struct ioreq_irq *irq, u32 level)
{
	struct vmm_guest *vg = ioreq_guest_priv(guest);
	struct ioreq_vmm_event ev = {
		.type = IOREQ_VMM_EVENT_IRQ,
		.level = level,
		.irq = *irq,
	};
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&vg->events_lock, flags);
	if (kfifo_is_full(&vg->events)) {
		vg->lost++;
		ret = -EAGAIN;
	} else {
		ev.lost = vg->lost;
		vg->lost = 0;
		kfifo_put(&vg->events, ev);
	}
	spin_unlock_irqrestore(&vg->events_lock, flags);
	if (!ret)
		wake_up_interruptible_poll(&vg->events_wait,
					   EPOLLIN | EPOLLRDNORM);
	return ret;
}

/* The range holding guest-physical [@gpa, @gpa + @len), or NULL. */
static struct vmm_memory *vmm_memory_find(struct vmm_guest *vg, u64 gpa,
					  u64 len)
{
	unsigned int i;

	lockdep_assert_held(&vg->mem_lock);
	for (i = 0; i < vg->nr_mem; i++) {
		struct vmm_memory *m = &vg->mem[i];

		if (gpa >= m->gpa && gpa - m->gpa < m->len &&
		    len <= m->len - (gpa - m->gpa))
			return m;
	}
	return NULL;
}

/*
 * Map the memfd's pages: the vma becomes a mapping of the memfd itself,
 * as dma-buf does for its exporters, so it lives on its own once made.
 */
static int vmm_mmap(struct ioreq_guest *guest, struct vm_area_struct *vma)
{
	struct vmm_guest *vg = ioreq_guest_priv(guest);
	u64 gpa = (u64)vma->vm_pgoff << PAGE_SHIFT;
	struct vmm_memory *m;
	struct file *file;
	int ret = -ENXIO;

	mutex_lock(&vg->mem_lock);
	m = vmm_memory_find(vg, gpa, vma->vm_end - vma->vm_start);
	if (m) {
		file = m->file;
		vma->vm_pgoff = (m->offset + gpa - m->gpa) >> PAGE_SHIFT;
		vma_set_file(vma, file);
		ret = ioreq_call_mmap(file, vma);
	}
	mutex_unlock(&vg->mem_lock);
	return ret;
}

/* The ranges by address: at most VMM_MAX_MEMORY, never overlapping. */
static int vmm_memory_map(struct ioreq_guest *guest,
			  struct ioreq_memory_range *ranges, unsigned int room)
{
	struct vmm_guest *vg = ioreq_guest_priv(guest);
	struct vmm_memory *m, *prev = NULL;
	unsigned int i, n;

	mutex_lock(&vg->mem_lock);
	/* Each turn takes the lowest range above the previous one. */
	for (n = 0; n < vg->nr_mem; n++) {
		m = NULL;
		for (i = 0; i < vg->nr_mem; i++) {
			if (prev && vg->mem[i].gpa <= prev->gpa)
				continue;
			if (!m || vg->mem[i].gpa < m->gpa)
				m = &vg->mem[i];
		}
		if (n < room)
			ranges[n] = (struct ioreq_memory_range) {
				.gpa = m->gpa,
				.len = m->len,
			};
		prev = m;
	}
	mutex_unlock(&vg->mem_lock);
	return n;
}

static int vmm_guest_mem_check(struct ioreq_guest *guest, u64 gpa, u64 len)
{
	struct vmm_guest *vg = ioreq_guest_priv(guest);
	struct vmm_memory *m;
	u64 n;
	int ret = 0;

	/* The range may span several adjacent ranges of memory. */
	mutex_lock(&vg->mem_lock);
	while (len) {
		m = vmm_memory_find(vg, gpa, 1);
		if (!m) {
			ret = -ENXIO;
			break;
		}
		n = min(len, m->len - (gpa - m->gpa));
		gpa += n;
		len -= n;
	}
	mutex_unlock(&vg->mem_lock);
	return ret;
}

static int vmm_guest_rw(struct ioreq_guest *guest, u64 gpa, void *buf,
			size_t len, bool write)
{
	struct vmm_guest *vg = ioreq_guest_priv(guest);
	struct vmm_memory *m;
	struct file *file = NULL;
	ssize_t done;
	loff_t pos = 0;

	mutex_lock(&vg->mem_lock);
	m = vmm_memory_find(vg, gpa, len);
	if (m) {
		file = get_file(m->file);
		pos = m->offset + gpa - m->gpa;
	}
	mutex_unlock(&vg->mem_lock);
	if (!file)
		return -ENXIO;
	/*
	 * Past the memfd's end a mapping gets SIGBUS: a write must not grow
	 * the VMM's file there instead.  A VMM that resizes the file while
	 * its guest runs races with itself only.
	 */
	if (write && pos + len > i_size_read(file_inode(file))) {
		fput(file);
		return -ENXIO;
	}
	if (write)
		done = kernel_write(file, buf, len, &pos);
	else
		done = kernel_read(file, buf, len, &pos);
	fput(file);
	if (done < 0)
		return done;
	/* A read past the memfd's end: its size shrank under the guest. */
	return done == len ? 0 : -ENXIO;
}

/*
 * Bindings: the eventfds backends bound on this guest, offered to the VMM
 * so that its hypervisor signals them itself (the fast path, see
 * linux/ioreq_vmm.h).  A binding is VMM_BIND_NONE while the VMM does not
 * know it, VMM_BIND_QUEUED until the VMM reads its ADDED event, then
 * VMM_BIND_OFFERED (taken or not) until the backend removes it.  The
 * removal of an offered binding becomes a struct vmm_removal, which
 * outlives the binding until the VMM releases it (or closes the guest).
 *
 *   NONE --bind--> QUEUED --BINDING_NEXT--> OFFERED --unbind--> NONE
 *                    |                        (REMOVED queued; unbind
 *                    +--unbind: untold--> NONE  waits for RELEASED)
 *
 * While OFFERED, the TAKEN and RELEASED acks set and clear its taken.
 */
enum vmm_bind_state {
	VMM_BIND_NONE,
	VMM_BIND_QUEUED,
	VMM_BIND_OFFERED,
};

/**
 * struct vmm_removal - a REMOVED event, and the release it waits for
 * @node: entry in the guest's binds_removed, then binds_gone
 * @seq: its place among the guest's binding events
 * @released: the VMM released it, or closed the guest's fd
 * @orphan: its remover stopped waiting: whoever takes it off its list
 *	frees it
 * @ev: the event
 *
 * All members but @ev are under the guest's binds_lock.
 */
struct vmm_removal {
	struct list_head node;
	u64 seq;
	bool released;
	bool orphan;
	struct ioreq_vmm_binding ev;
};

/* The event describing @b. */
static void vmm_bind_describe(const struct ioreq_binding *b,
			      struct ioreq_vmm_binding *ev)
{
	ev->id = b->pid;
	if (b->kind == IOREQ_BINDING_IRQFD) {
		ev->kind = IOREQ_VMM_BINDING_IRQFD;
		ev->irq = b->irq;
		return;
	}
	ev->kind = IOREQ_VMM_BINDING_IOEVENTFD;
	ev->space = b->space;
	ev->len = b->len;
	ev->match = b->match ? IOREQ_IOEVENTFD_DATAMATCH : 0;
	ev->addr = b->addr;
	ev->datamatch = b->datamatch;
}

static void vmm_binds_wake(struct vmm_guest *vg)
{
	wake_up_interruptible_poll(&vg->events_wait, EPOLLPRI);
}

/* Context: any, under the core's lock that lists @b. */
static void vmm_bind(struct ioreq_guest *guest, struct ioreq_binding *b)
{
	struct vmm_guest *vg = ioreq_guest_priv(guest);
	unsigned long flags;
	bool queued = false;

	spin_lock_irqsave(&vg->binds_lock, flags);
	b->pstate = VMM_BIND_NONE;
	if (!vg->binds_closed) {
		b->pid = ++vg->binds_seq;
		b->pstate = VMM_BIND_QUEUED;
		list_add_tail(&b->pnode, &vg->binds_added);
		queued = true;
	}
	spin_unlock_irqrestore(&vg->binds_lock, flags);
	if (queued)
		vmm_binds_wake(vg);
}

/*
 * Context: process.  The backend is removing @b: if the VMM knows it, tell
 * it and wait (bind_timeout_ms at most) until it has unregistered @b from
 * its hypervisor.  Uninterruptible, as a dying backend's close must wait
 * too; bounded, as the VMM may be stuck.
 */
static void vmm_unbind(struct ioreq_guest *guest, struct ioreq_binding *b)
{
	struct vmm_guest *vg = ioreq_guest_priv(guest);
	struct vmm_removal *r;
	unsigned long flags;
	bool released;

	spin_lock_irqsave(&vg->binds_lock, flags);
	if (b->pstate == VMM_BIND_QUEUED) {
		/* Never told: the VMM cannot have registered it. */
		list_del_init(&b->pnode);
		b->pstate = VMM_BIND_NONE;
	}
	released = b->pstate == VMM_BIND_NONE;
	spin_unlock_irqrestore(&vg->binds_lock, flags);
	if (released)
		return;

	/* Small and rare; the removal must be told even under pressure. */
	r = kzalloc(sizeof(*r), GFP_KERNEL | __GFP_NOFAIL);
	r->ev.event = IOREQ_VMM_BINDING_REMOVED;
	r->ev.fd = -1;
	spin_lock_irqsave(&vg->binds_lock, flags);
	/* The VMM may have closed meanwhile. */
	if (b->pstate != VMM_BIND_OFFERED) {
		spin_unlock_irqrestore(&vg->binds_lock, flags);
		kfree(r);
		return;
	}
	list_del_init(&b->pnode);
	b->pstate = VMM_BIND_NONE;
	WRITE_ONCE(b->taken, false);
	vmm_bind_describe(b, &r->ev);
	r->seq = ++vg->binds_seq;
	list_add_tail(&r->node, &vg->binds_removed);
	spin_unlock_irqrestore(&vg->binds_lock, flags);
	vmm_binds_wake(vg);

	wait_event_timeout(vg->binds_wait, READ_ONCE(r->released),
			   msecs_to_jiffies(READ_ONCE(bind_timeout_ms)));

	spin_lock_irqsave(&vg->binds_lock, flags);
	released = r->released;
	if (!released)
		r->orphan = true;
	spin_unlock_irqrestore(&vg->binds_lock, flags);
	if (released)
		kfree(r);
}

/* The guest's fd is closing: forget every binding, end every wait. */
static void vmm_binds_close(struct vmm_guest *vg)
{
	struct ioreq_binding *b, *btmp;
	struct vmm_removal *r, *rtmp;
	struct list_head *lists[] = { &vg->binds_removed, &vg->binds_gone };
	unsigned long flags;
	LIST_HEAD(orphans);
	unsigned int i;

	spin_lock_irqsave(&vg->binds_lock, flags);
	vg->binds_closed = true;
	list_splice_init(&vg->binds_offered, &vg->binds_added);
	list_for_each_entry_safe(b, btmp, &vg->binds_added, pnode) {
		list_del_init(&b->pnode);
		b->pstate = VMM_BIND_NONE;
		WRITE_ONCE(b->taken, false);
	}
	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		list_for_each_entry_safe(r, rtmp, lists[i], node) {
			list_del_init(&r->node);
			r->released = true;
			if (r->orphan)
				list_add(&r->node, &orphans);
		}
	}
	spin_unlock_irqrestore(&vg->binds_lock, flags);
	wake_up_all(&vg->binds_wait);
	list_for_each_entry_safe(r, rtmp, &orphans, node)
		kfree(r);
}

static const struct ioreq_provider_ops vmm_ops = {
	.owner = THIS_MODULE,
	.name = "vmm",
	.id = IOREQ_PROVIDER_VMM,
	.caps = IOREQ_CAP_MMIO | IOREQ_CAP_PIO | IOREQ_CAP_PCI_CONFIG |
		IOREQ_CAP_POSTED_WRITES | IOREQ_CAP_IRQ_LINE |
		IOREQ_CAP_IRQ_PCI_INTX | IOREQ_CAP_IRQ_MSI | IOREQ_CAP_IRQFD |
		IOREQ_CAP_IOEVENTFD | IOREQ_CAP_GUEST_MEMORY |
		IOREQ_CAP_GUEST_MEMORY_FD,
	.get_guest = vmm_get_guest,
	.complete = vmm_complete,
	.release = vmm_release,
	.inject_irq = vmm_inject_irq,
	.inject_atomic = true,
	.mmap = vmm_mmap,
	.memory_map = vmm_memory_map,
	.guest_mem_check = vmm_guest_mem_check,
	.guest_rw = vmm_guest_rw,
	.bind = vmm_bind,
	.unbind = vmm_unbind,
};

static struct ioreq_provider vmm_provider = {
	.ops = &vmm_ops,
};

static struct vmm_guest *vmm_file_guest(struct file *file)
{
	/* Pairs with smp_store_release() in vmm_create_guest(). */
	return smp_load_acquire((struct vmm_guest **)&file->private_data);
}

#define VMM_CREATE_VALID_FLAGS IOREQ_VMM_CREATE_PRIVATE

static int vmm_create_guest(struct file *file, struct ioreq_vmm_create *arg)
{
	struct ioreq_guest *guest;
	struct vmm_guest *vg;
	u32 id, i;
	int ret;

	if ((arg->flags & ~VMM_CREATE_VALID_FLAGS) || arg->__reserved)
		return -EINVAL;
	if (!arg->nr_vcpus || arg->nr_vcpus > min(max_vcpus, 4096U))
		return -EINVAL;
	if (arg->guest_id > U32_MAX)
		return -EINVAL;

	/* Large for thousands of vcpus: vmalloc rather than a high order. */
	vg = kvzalloc(struct_size(vg, vcpus, arg->nr_vcpus), GFP_KERNEL_ACCOUNT);
	if (!vg)
		return -ENOMEM;
	vg->nr_vcpus = arg->nr_vcpus;
	vg->private = arg->flags & IOREQ_VMM_CREATE_PRIVATE;
	mutex_init(&vg->mem_lock);
	spin_lock_init(&vg->events_lock);
	INIT_KFIFO(vg->events);
	INIT_LIST_HEAD(&vg->ended);
	spin_lock_init(&vg->binds_lock);
	INIT_LIST_HEAD(&vg->binds_added);
	INIT_LIST_HEAD(&vg->binds_offered);
	INIT_LIST_HEAD(&vg->binds_removed);
	INIT_LIST_HEAD(&vg->binds_gone);
	init_waitqueue_head(&vg->binds_wait);
	atomic_set(&vg->nr_async, 0);
	init_waitqueue_head(&vg->events_wait);
	for (i = 0; i < vg->nr_vcpus; i++) {
		INIT_LIST_HEAD(&vg->vcpus[i].ended_node);
		init_waitqueue_head(&vg->vcpus[i].wait);
	}

	mutex_lock(&vmm_guests_lock);
	if (file->private_data) {
		ret = -EBUSY;
		goto err_unlock;
	}
	if (arg->guest_id) {
		id = arg->guest_id;
		ret = xa_insert(&vmm_guests, id, vg, GFP_KERNEL_ACCOUNT);
		if (ret == -EBUSY)
			ret = -EEXIST;
	} else {
		ret = xa_alloc(&vmm_guests, &id, vg, xa_limit_32b,
			       GFP_KERNEL_ACCOUNT);
		if (ret == -EBUSY)
			ret = -ENOSPC;
	}
	if (ret)
		goto err_unlock;

	guest = ioreq_guest_create(&vmm_provider, id, vg->nr_vcpus, vg);
	if (IS_ERR(guest)) {
		ret = PTR_ERR(guest);
		goto err_erase;
	}
	vg->guest = guest;
	/* Publish a complete guest: pairs with vmm_file_guest(). */
	smp_store_release((struct vmm_guest **)&file->private_data, vg);
	mutex_unlock(&vmm_guests_lock);
	arg->guest_id = id;
	return 0;

err_erase:
	xa_erase(&vmm_guests, id);
err_unlock:
	mutex_unlock(&vmm_guests_lock);
	mutex_destroy(&vg->mem_lock);
	kvfree(vg);
	return ret;
}

static int vmm_add_memory(struct file *file, struct ioreq_vmm_memory *arg)
{
	struct vmm_guest *vg = vmm_file_guest(file);
	struct vmm_memory *m;
	struct file *mfile;
	unsigned int i;
	int ret = 0;

	if (arg->flags || arg->__reserved)
		return -EINVAL;
	if (!arg->len || !PAGE_ALIGNED(arg->gpa) || !PAGE_ALIGNED(arg->len) ||
	    !PAGE_ALIGNED(arg->offset))
		return -EINVAL;
	if (arg->gpa + arg->len - 1 < arg->gpa ||
	    arg->offset + arg->len - 1 < arg->offset ||
	    arg->offset + arg->len - 1 > LLONG_MAX)
		return -EINVAL;
	if (!vg)
		return -ENXIO;

	mfile = fget(arg->fd);
	if (!mfile)
		return -EBADF;
	/*
	 * Guest RAM: a shmem file (a memfd, a tmpfs file) shared read-write.
	 * Backends' mappings become mappings of it: a file whose mappings
	 * need more than shmem's page-sized alignment (hugetlbfs, which
	 * 6.1 also does not let a module recognize) or whose ->mmap() knows
	 * no vma of another file cannot be lent.
	 */
	if (!shmem_file(mfile) ||
	    (mfile->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (FMODE_READ | FMODE_WRITE)) {
		ret = -EINVAL;
		goto err_put;
	}

	mutex_lock(&vg->mem_lock);
	for (i = 0; i < vg->nr_mem; i++) {
		m = &vg->mem[i];
		if (arg->gpa <= m->gpa + m->len - 1 &&
		    m->gpa <= arg->gpa + arg->len - 1) {
			ret = -EEXIST;
			goto err_unlock;
		}
	}
	if (vg->nr_mem == VMM_MAX_MEMORY) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	vg->mem[vg->nr_mem++] = (struct vmm_memory) {
		.file = mfile,
		.gpa = arg->gpa,
		.len = arg->len,
		.offset = arg->offset,
	};
	mutex_unlock(&vg->mem_lock);
	return 0;

err_unlock:
	mutex_unlock(&vg->mem_lock);
err_put:
	fput(mfile);
	return ret;
}

/*
 * Make a handle of the guest and reserve its descriptor; vmm_ioctl()
 * installs it once the struct holding @arg->fd is copied out, so that a
 * failed copy leaves no descriptor the caller does not know of.
 */
static int vmm_guest_handle(struct file *file,
			    struct ioreq_vmm_guest_handle *arg,
			    struct file **handle)
{
	struct vmm_guest *vg = vmm_file_guest(file);
	struct file *hfile;
	int fd;

	if (arg->flags || arg->__reserved)
		return -EINVAL;
	if (!vg)
		return -ENXIO;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	hfile = ioreq_guest_handle(vg->guest);
	if (IS_ERR(hfile)) {
		put_unused_fd(fd);
		return PTR_ERR(hfile);
	}
	arg->fd = fd;
	*handle = hfile;
	return 0;
}

/*
 * IOREQ_VMM_BINDING_NEXT: take the oldest binding event.  For an ADDED
 * event the descriptor is reserved here and @file returned referenced;
 * vmm_ioctl() installs it once @ev is copied out, or calls
 * vmm_binding_unnext() to put the event back.
 */
static int vmm_binding_next(struct file *file, struct ioreq_vmm_binding *ev,
			    struct file **efile)
{
	struct vmm_guest *vg = vmm_file_guest(file);
	struct ioreq_binding *b;
	struct vmm_removal *r;
	unsigned long flags;
	u32 size = ev->size;
	int fd;

	if (ev->flags)
		return -EINVAL;
	if (!vg)
		return -ENXIO;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	*ev = (struct ioreq_vmm_binding) {
		.size = size,
	};
	spin_lock_irqsave(&vg->binds_lock, flags);
	b = list_first_entry_or_null(&vg->binds_added, struct ioreq_binding,
				     pnode);
	r = list_first_entry_or_null(&vg->binds_removed, struct vmm_removal,
				     node);
	/* The older of the two heads: a move is told as removed, then added. */
	if (b && r && r->seq < b->pid)
		b = NULL;
	if (b) {
		list_move_tail(&b->pnode, &vg->binds_offered);
		b->pstate = VMM_BIND_OFFERED;
		vmm_bind_describe(b, ev);
		ev->event = IOREQ_VMM_BINDING_ADDED;
		ev->fd = fd;
		*efile = get_file(b->file);
	} else if (r) {
		list_move_tail(&r->node, &vg->binds_gone);
		*ev = r->ev;
		ev->size = size;
	}
	spin_unlock_irqrestore(&vg->binds_lock, flags);
	if (!b)
		put_unused_fd(fd);
	return b || r ? 0 : -EAGAIN;
}

/* The event @ev taken could not be copied out: make it the next again. */
static void vmm_binding_unnext(struct file *file,
			       const struct ioreq_vmm_binding *ev)
{
	struct vmm_guest *vg = vmm_file_guest(file);
	struct ioreq_binding *b;
	struct vmm_removal *r;
	unsigned long flags;

	spin_lock_irqsave(&vg->binds_lock, flags);
	if (ev->event == IOREQ_VMM_BINDING_ADDED) {
		list_for_each_entry(b, &vg->binds_offered, pnode) {
			if (b->pid == ev->id && !b->taken) {
				list_move(&b->pnode, &vg->binds_added);
				b->pstate = VMM_BIND_QUEUED;
				break;
			}
		}
	} else {
		list_for_each_entry(r, &vg->binds_gone, node) {
			if (r->ev.id == ev->id) {
				list_move(&r->node, &vg->binds_removed);
				break;
			}
		}
	}
	spin_unlock_irqrestore(&vg->binds_lock, flags);
}

/* A removal the VMM has not released yet, among @head's. */
static struct vmm_removal *vmm_removal_find(struct list_head *head, u64 id)
{
	struct vmm_removal *r;

	list_for_each_entry(r, head, node)
		if (r->ev.id == id)
			return r;
	return NULL;
}

static int vmm_binding_ack(struct file *file,
			   const struct ioreq_vmm_binding_ack *arg)
{
	struct vmm_guest *vg = vmm_file_guest(file);
	struct ioreq_binding *b, *found = NULL;
	struct vmm_removal *r = NULL;
	bool free_r = false;
	unsigned long flags;

	if (arg->flags != IOREQ_VMM_BINDING_TAKEN &&
	    arg->flags != IOREQ_VMM_BINDING_RELEASED)
		return -EINVAL;
	if (!vg)
		return -ENXIO;
	spin_lock_irqsave(&vg->binds_lock, flags);
	list_for_each_entry(b, &vg->binds_offered, pnode) {
		if (b->pid == arg->id) {
			found = b;
			break;
		}
	}
	if (!found) {
		r = vmm_removal_find(&vg->binds_gone, arg->id) ?:
		    vmm_removal_find(&vg->binds_removed, arg->id);
		if (!r) {
			spin_unlock_irqrestore(&vg->binds_lock, flags);
			return -ENOENT;
		}
	}
	if (arg->flags == IOREQ_VMM_BINDING_TAKEN) {
		/* A removed binding: its REMOVED event tells the VMM. */
		if (found)
			WRITE_ONCE(found->taken, true);
	} else if (found) {
		/* Given back: the core delivers it again from now. */
		WRITE_ONCE(found->taken, false);
	} else {
		list_del_init(&r->node);
		r->released = true;
		free_r = r->orphan;
	}
	spin_unlock_irqrestore(&vg->binds_lock, flags);
	if (free_r)
		kfree(r);
	else if (r && arg->flags == IOREQ_VMM_BINDING_RELEASED)
		wake_up_all(&vg->binds_wait);
	return 0;
}

static u64 vmm_ones(u32 len)
{
	return len == 8 ? ~0ULL : (1ULL << (len * 8)) - 1;
}

static bool vmm_vcpu_done(struct vmm_vcpu *v)
{
	/* Pairs with smp_store_release() in vmm_complete(). */
	return smp_load_acquire(&v->done);
}

static bool vmm_vcpu_done_cb(void *v)
{
	return vmm_vcpu_done(v);
}

/* Check @arg and claim its vcpu; return the vcpu's index or an errno. */
static int vmm_access_begin(struct vmm_guest *vg,
			    const struct ioreq_vmm_access *arg)
{
	u64 last;
	u32 vcpu;

	if (arg->flags || arg->__reserved || arg->status)
		return -EINVAL;
	if (arg->space > IOREQ_SPACE_PCI_CONFIG || arg->op > IOREQ_OP_WRITE)
		return -EINVAL;
	if (arg->len != 1 && arg->len != 2 && arg->len != 4 && arg->len != 8)
		return -EINVAL;
	/* SBDF << 32 | register, within one dword as 0xcfc..0xcff give. */
	if (arg->space == IOREQ_SPACE_PCI_CONFIG &&
	    (lower_32_bits(arg->addr) >= VMM_PCI_CONFIG_SIZE ||
	     (arg->addr & 3) + arg->len > 4))
		return -EINVAL;
	last = arg->addr + arg->len - 1;
	if (last < arg->addr ||
	    (arg->space == IOREQ_SPACE_PIO && last > VMM_PIO_LAST))
		return -EINVAL;
	if (!vg)
		return -ENXIO;
	if (arg->vcpu >= vg->nr_vcpus)
		return -EINVAL;
	vcpu = array_index_nospec(arg->vcpu, vg->nr_vcpus);
	if (test_and_set_bit_lock(VMM_VCPU_BUSY, &vg->vcpus[vcpu].busy))
		return -EBUSY;
	WRITE_ONCE(vg->vcpus[vcpu].done, 0);
	return vcpu;
}

static int vmm_access(struct file *file, struct ioreq_vmm_access *arg)
{
	struct vmm_guest *vg = vmm_file_guest(file);
	unsigned int max_poll;
	unsigned long timeout;
	struct vmm_vcpu *v;
	u64 start;
	long left;
	u32 vcpu;
	int ret;

	ret = vmm_access_begin(vg, arg);
	if (ret < 0)
		return ret;
	vcpu = ret;
	v = &vg->vcpus[vcpu];

	ret = ioreq_dispatch(vg->guest, vcpu, arg->space, arg->op, arg->len,
			     arg->addr, arg->data);
	if (ret < 0)
		goto out_idle;
	if (ret == IOREQ_HANDLED) {
		arg->status = IOREQ_VMM_STATUS_DONE;
		ret = 0;
		goto out_idle;
	}
	if (ret == IOREQ_UNCLAIMED) {
		arg->status = IOREQ_VMM_STATUS_UNCLAIMED;
		if (arg->op == IOREQ_OP_READ)
			arg->data = vmm_ones(arg->len);
		ret = 0;
		goto out_idle;
	}

	timeout = msecs_to_jiffies(arg->timeout_ms ?: default_timeout_ms);
	/* A backend often answers within microseconds: poll for it first. */
	max_poll = READ_ONCE(poll_ns);
	start = max_poll ? local_clock() : 0;
	if (ioreq_poll_for(vmm_vcpu_done_cb, v, min(v->poll_ns, max_poll)))
		left = timeout;
	else
		left = wait_event_killable_timeout(v->wait, vmm_vcpu_done(v),
						   timeout);
	v->poll_ns = max_poll ? ioreq_poll_adapt(v->poll_ns,
						 local_clock() - start,
						 max_poll) : 0;
	if (left <= 0) {
		/* Timed out or killed, unless the answer came meanwhile. */
		if (ioreq_cancel(vg->guest, vcpu) != IOREQ_CANCEL_IDLE) {
			if (left < 0) {
				ret = -EINTR;
				goto out_idle;
			}
			arg->status = IOREQ_VMM_STATUS_TIMEDOUT;
			if (arg->op == IOREQ_OP_READ)
				arg->data = vmm_ones(arg->len);
			ret = 0;
			goto out_idle;
		}
	}
	/*
	 * ->complete() ran, before ioreq_cancel() took the guest's lock if
	 * the wait timed out: pairs with smp_store_release() there.
	 */
	smp_load_acquire(&v->done);
	arg->status = v->status;
	if (arg->op == IOREQ_OP_READ)
		arg->data = v->data;
	ret = 0;
out_idle:
	clear_bit_unlock(VMM_VCPU_BUSY, &v->busy);
	return ret;
}

/*
 * Claim the vcpu of a written record and fill @acc for dispatching it;
 * its end is queued for read() from then on.
 */
static int vmm_async_begin(struct vmm_guest *vg,
			   const struct ioreq_vmm_access *arg,
			   struct ioreq_access *acc)
{
	struct vmm_vcpu *v;
	int ret;

	if (arg->size != sizeof(*arg) || arg->timeout_ms)
		return -EINVAL;
	ret = vmm_access_begin(vg, arg);
	if (ret < 0)
		return ret;
	v = &vg->vcpus[ret];
	v->acc = (struct ioreq_vmm_done) {
		.vcpu = ret,
		.space = arg->space,
		.op = arg->op,
		.len = arg->len,
		.addr = arg->addr,
		.data = arg->data,
	};
	v->async = true;
	atomic_inc(&vg->nr_async);
	*acc = (struct ioreq_access) {
		.vcpu = ret,
		.space = arg->space,
		.op = arg->op,
		.size = arg->len,
		.addr = arg->addr,
		.data = arg->data,
	};
	return 0;
}

/* A written access that was not dispatched: free its vcpu again. */
static void vmm_async_undo(struct vmm_guest *vg, u32 vcpu)
{
	struct vmm_vcpu *v = &vg->vcpus[vcpu];

	v->async = false;
	atomic_dec(&vg->nr_async);
	clear_bit_unlock(VMM_VCPU_BUSY, &v->busy);
}

/* A written access was dispatched: end it now if no backend will. */
static void vmm_async_started(struct vmm_guest *vg,
			      const struct ioreq_access *acc)
{
	struct vmm_vcpu *v = &vg->vcpus[acc->vcpu];

	if (acc->ret == IOREQ_HANDLED)
		vmm_end_async(vg, v, acc->data, IOREQ_VMM_STATUS_DONE);
	else if (acc->ret == IOREQ_UNCLAIMED)
		vmm_end_async(vg, v, acc->op == IOREQ_OP_READ ?
				     vmm_ones(acc->size) : acc->data,
			      IOREQ_VMM_STATUS_UNCLAIMED);
}

#define VMM_WRITE_BATCH 8	/* records a write() hands over at once */

/*
 * Start the written accesses, VMM_WRITE_BATCH at a time: each batch goes
 * to the core in one ioreq_dispatch_many(), so that a backend reads it
 * whole.  Stops at the first record refused.
 */
static ssize_t vmm_write(struct file *file, const char __user *buf,
			 size_t count, loff_t *ppos)
{
	struct vmm_guest *vg = vmm_file_guest(file);
	struct ioreq_vmm_access rec[VMM_WRITE_BATCH];
	struct ioreq_access acc[VMM_WRITE_BATCH];
	unsigned int m, copied, i, j, started;
	size_t done = 0;
	unsigned long left;
	int ret = 0;

	if (!vg)
		return -ENXIO;
	if (!count || count % sizeof(rec[0]))
		return -EINVAL;
	while (done < count) {
		m = min_t(size_t, (count - done) / sizeof(rec[0]),
			  VMM_WRITE_BATCH);
		left = copy_from_user(rec, buf + done, m * sizeof(rec[0]));
		copied = m - DIV_ROUND_UP(left, sizeof(rec[0]));
		/* Each error below is of an earlier record than the last. */
		ret = left ? -EFAULT : 0;
		for (i = 0; i < copied; i++) {
			int err = vmm_async_begin(vg, &rec[i], &acc[i]);

			if (err) {
				ret = err;
				break;
			}
		}
		started = ioreq_dispatch_many(vg->guest, acc, i);
		for (j = 0; j < started; j++)
			vmm_async_started(vg, &acc[j]);
		if (started < i) {
			ret = acc[started].ret;
			for (j = started; j < i; j++)
				vmm_async_undo(vg, acc[j].vcpu);
		}
		done += started * sizeof(rec[0]);
		if (started < m)
			break;
	}
	return done ?: ret;
}

static long vmm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = u64_to_user_ptr((u64)arg);
	union {
		struct ioreq_vmm_create create;
		struct ioreq_vmm_access access;
		struct ioreq_vmm_memory memory;
		struct ioreq_vmm_guest_handle handle;
		struct ioreq_vmm_binding binding;
		struct ioreq_vmm_binding_ack ack;
	} buf;
	struct file *handle = NULL;
	int newfd = -1;
	unsigned int size, min_size;
	u32 usize, osize;
	int ret;

	switch (cmd) {
	case IOREQ_VMM_CREATE_GUEST:
		size = sizeof(buf.create);
		min_size = offsetofend(struct ioreq_vmm_create, guest_id);
		break;
	case IOREQ_VMM_ACCESS:
		size = sizeof(buf.access);
		min_size = offsetofend(struct ioreq_vmm_access, __reserved);
		break;
	case IOREQ_VMM_ADD_MEMORY:
		size = sizeof(buf.memory);
		min_size = offsetofend(struct ioreq_vmm_memory, offset);
		break;
	case IOREQ_VMM_GUEST_HANDLE:
		size = sizeof(buf.handle);
		min_size = offsetofend(struct ioreq_vmm_guest_handle, __reserved);
		break;
	case IOREQ_VMM_BINDING_NEXT:
		size = sizeof(buf.binding);
		min_size = offsetofend(struct ioreq_vmm_binding, irq);
		break;
	case IOREQ_VMM_BINDING_ACK:
		size = sizeof(buf.ack);
		min_size = offsetofend(struct ioreq_vmm_binding_ack, id);
		break;
	default:
		return -ENOTTY;
	}

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size)
		return -EINVAL;
	ret = copy_struct_from_user(&buf, size, uarg, usize);
	if (ret)
		return ret;
	/* Never write beyond the caller's struct, nor beyond the kernel's. */
	osize = min(usize, size);
	/* Refuse a struct that cannot take the results before acting. */
	if (copy_to_user(uarg, &buf, osize))
		return -EFAULT;

	if (cmd == IOREQ_VMM_CREATE_GUEST)
		ret = vmm_create_guest(file, &buf.create);
	else if (cmd == IOREQ_VMM_ACCESS)
		ret = vmm_access(file, &buf.access);
	else if (cmd == IOREQ_VMM_GUEST_HANDLE)
		ret = vmm_guest_handle(file, &buf.handle, &handle);
	else if (cmd == IOREQ_VMM_BINDING_NEXT)
		ret = vmm_binding_next(file, &buf.binding, &handle);
	else if (cmd == IOREQ_VMM_BINDING_ACK)
		ret = vmm_binding_ack(file, &buf.ack);
	else
		ret = vmm_add_memory(file, &buf.memory);
	if (ret)
		return ret;
	if (handle)
		newfd = cmd == IOREQ_VMM_BINDING_NEXT ? buf.binding.fd :
							buf.handle.fd;
	/* A guest whose id cannot be reported still lives until close. */
	if (copy_to_user(uarg, &buf, osize)) {
		if (handle) {
			put_unused_fd(newfd);
			fput(handle);
		}
		if (cmd == IOREQ_VMM_BINDING_NEXT)
			vmm_binding_unnext(file, &buf.binding);
		return -EFAULT;
	}
	if (handle)
		fd_install(newfd, handle);
	return 0;
}

static bool vmm_events_ready(struct vmm_guest *vg)
{
	return !kfifo_is_empty(&vg->events) || !list_empty(&vg->ended);
}

static bool vmm_events_ready_cb(void *vg)
{
	return vmm_events_ready(vg);
}

/* Sleep until an event is queued; poll first while accesses are out. */
static int vmm_read_wait(struct vmm_guest *vg)
{
	unsigned int max_poll = READ_ONCE(poll_ns);
	u32 cur = READ_ONCE(vg->read_poll_ns);
	u64 start;
	int ret = 0;

	if (!max_poll || !atomic_read(&vg->nr_async))
		return wait_event_interruptible(vg->events_wait,
						vmm_events_ready(vg));
	start = local_clock();
	if (!ioreq_poll_for(vmm_events_ready_cb, vg, min(cur, max_poll)))
		ret = wait_event_interruptible(vg->events_wait,
					       vmm_events_ready(vg));
	WRITE_ONCE(vg->read_poll_ns,
		   ioreq_poll_adapt(cur, local_clock() - start, max_poll));
	return ret;
}

#define VMM_READ_BATCH 8	/* events a read() takes per hold of the lock */

/*
 * Take up to @max events, the ends of written accesses first, oldest
 * first; @ends[i] is the vcpu of an end (it stays busy until read() has
 * handed the end over), NULL for an interrupt.  Return: events taken.
 */
static unsigned int vmm_read_take(struct vmm_guest *vg,
				  struct ioreq_vmm_event *ev,
				  struct vmm_vcpu **ends, unsigned int max)
{
	struct vmm_vcpu *v;
	unsigned long flags;
	unsigned int n = 0;

	memset(ev, 0, max * sizeof(*ev));
	spin_lock_irqsave(&vg->events_lock, flags);
	while (n < max) {
		v = list_first_entry_or_null(&vg->ended, struct vmm_vcpu,
					     ended_node);
		if (!v)
			break;
		list_del_init(&v->ended_node);
		ev[n].type = IOREQ_VMM_EVENT_DONE;
		ev[n].done = v->acc;
		ends[n++] = v;
	}
	while (n < max && kfifo_get(&vg->events, &ev[n]))
		ends[n++] = NULL;
	spin_unlock_irqrestore(&vg->events_lock, flags);
	return n;
}

/* Events taken but not copied: ends go back first, interrupts are lost. */
static void vmm_read_untake(struct vmm_guest *vg, struct vmm_vcpu **ends,
			    unsigned int n)
{
	unsigned long flags;

	spin_lock_irqsave(&vg->events_lock, flags);
	while (n--) {
		if (ends[n])
			list_add(&ends[n]->ended_node, &vg->ended);
		else
			vg->lost++;
	}
	spin_unlock_irqrestore(&vg->events_lock, flags);
}

static ssize_t vmm_read(struct file *file, char __user *buf, size_t count,
			loff_t *ppos)
{
	struct vmm_guest *vg = vmm_file_guest(file);
	struct ioreq_vmm_event ev[VMM_READ_BATCH];
	struct vmm_vcpu *ends[VMM_READ_BATCH];
	unsigned int i, m, n, copied;
	unsigned long left;
	size_t done = 0;
	int ret;

	if (!vg)
		return -ENXIO;
	if (!count || count % sizeof(ev[0]))
		return -EINVAL;
	while (done < count) {
		m = min_t(size_t, (count - done) / sizeof(ev[0]),
			  VMM_READ_BATCH);
		n = vmm_read_take(vg, ev, ends, m);
		if (!n) {
			if (done)
				break;
			if (file->f_flags & O_NONBLOCK)
				return -EAGAIN;
			ret = vmm_read_wait(vg);
			if (ret)
				return ret;
			continue;
		}
		left = copy_to_user(buf + done, ev, n * sizeof(ev[0]));
		copied = n - DIV_ROUND_UP(left, sizeof(ev[0]));
		for (i = 0; i < copied; i++) {
			if (!ends[i])
				continue;
			/* The vcpu is free for its next access. */
			ends[i]->async = false;
			atomic_dec(&vg->nr_async);
			clear_bit_unlock(VMM_VCPU_BUSY, &ends[i]->busy);
		}
		done += copied * sizeof(ev[0]);
		if (left) {
			vmm_read_untake(vg, ends + copied, n - copied);
			return done ?: -EFAULT;
		}
		if (n < m)
			break;
	}
	return done;
}

static __poll_t vmm_poll(struct file *file, poll_table *wait)
{
	struct vmm_guest *vg = vmm_file_guest(file);
	__poll_t mask;

	if (!vg)
		return EPOLLERR;
	poll_wait(file, &vg->events_wait, wait);
	/* Pairs with wq_has_sleeper() in vmm_end_async(). */
	smp_mb();
	mask = vmm_events_ready(vg) ? EPOLLIN | EPOLLRDNORM : 0;
	/* Binding events: not EPOLLIN, which a VMM unaware of them reads. */
	if (!list_empty(&vg->binds_added) || !list_empty(&vg->binds_removed))
		mask |= EPOLLPRI;
	return mask;
}

/*
 * /proc/PID/fdinfo of the VMM's file: the core's view of the guest, then
 * the provider's (Documentation/virt/ioreq/observability.rst).
 */
static void vmm_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct vmm_guest *vg = vmm_file_guest(file);
	unsigned int i, queued;
	unsigned long flags;
	u32 lost;

	if (!vg) {
		seq_puts(m, "ioreq-guest:\tnone\n");
		return;
	}
	ioreq_guest_show_fdinfo(m, vg->guest);
	seq_printf(m, "private:\t%d\n", vg->private);
	seq_printf(m, "written_in_flight:\t%d\n", atomic_read(&vg->nr_async));
	spin_lock_irqsave(&vg->events_lock, flags);
	queued = kfifo_len(&vg->events);
	lost = vg->lost;
	spin_unlock_irqrestore(&vg->events_lock, flags);
	seq_printf(m, "events_queued:\t%u\n", queued);
	seq_printf(m, "events_lost:\t%u\n", lost);
	mutex_lock(&vg->mem_lock);
	for (i = 0; i < vg->nr_mem; i++)
		seq_printf(m, "memory:\tgpa %#llx size %#llx offset %#llx\n",
			   vg->mem[i].gpa, vg->mem[i].len, vg->mem[i].offset);
	mutex_unlock(&vg->mem_lock);
}

static int vmm_release_file(struct inode *inode, struct file *file)
{
	struct vmm_guest *vg = file->private_data;
	struct ioreq_guest *guest;

	if (!vg)
		return 0;
	guest = vg->guest;
	mutex_lock(&vmm_guests_lock);
	xa_erase(&vmm_guests, ioreq_guest_id(guest));
	mutex_unlock(&vmm_guests_lock);
	ioreq_guest_kill(guest);
	vmm_binds_close(vg);
	/* Sessions and handles may outlive the guest: not its RAM. */
	vmm_memory_drop(vg);
	ioreq_guest_put(guest);
	return 0;
}

static int vmm_open(struct inode *inode, struct file *file)
{
	/* misc_open() left the miscdevice here: this file has no guest yet. */
	file->private_data = NULL;
	return nonseekable_open(inode, file);
}

static const struct file_operations vmm_fops = {
	.owner = THIS_MODULE,
	.open = vmm_open,
	.release = vmm_release_file,
	.read = vmm_read,
	.write = vmm_write,
	.poll = vmm_poll,
	.unlocked_ioctl = vmm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.show_fdinfo = vmm_show_fdinfo,
};

static struct miscdevice vmm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ioreq-vmm",
	.fops = &vmm_fops,
	.mode = 0600,
};

static int __init vmm_init(void)
{
	int ret;

	ret = ioreq_provider_register(&vmm_provider);
	if (ret)
		return ret;
	ret = misc_register(&vmm_misc);
	if (ret)
		ioreq_provider_unregister(&vmm_provider);
	return ret;
}
module_init(vmm_init);

static void __exit vmm_exit(void)
{
	misc_deregister(&vmm_misc);
	ioreq_provider_unregister(&vmm_provider);
}
module_exit(vmm_exit);

MODULE_DESCRIPTION("ioreq provider for hypervisors in userspace (VMMs, the simulator)");
MODULE_LICENSE("GPL");
