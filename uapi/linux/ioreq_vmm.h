/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioreq userspace-hypervisor provider: the hypervisor side.
 *
 * A process that plays the hypervisor (a VMM whose exits land in
 * userspace, or a test program: the simulator) opens /dev/ioreq-vmm,
 * creates one guest on that fd, and forwards each vcpu's MMIO or port
 * access with IOREQ_VMM_ACCESS.  The access is delivered to the backend
 * session that claimed the address through /dev/ioreq, and the ioctl
 * returns with the backend's answer.  This side never sees the backend's
 * file descriptor; the backend sees this provider only as
 * IOREQ_PROVIDER_VMM in IOREQ_GET_INFO.
 *
 * ioctl type 0xBC, numbers 0x40-0x7f.  The general format and errors are
 * those of linux/ioreq.h.
 */
#ifndef _UAPI_LINUX_IOREQ_VMM_H
#define _UAPI_LINUX_IOREQ_VMM_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/ioreq.h>

/**
 * enum ioreq_vmm_ioctl_nr - ioctl numbers, hypervisor side
 * @IOREQ_VMM_CMD_CREATE_GUEST: IOREQ_VMM_CREATE_GUEST, struct ioreq_vmm_create
 * @IOREQ_VMM_CMD_ACCESS: IOREQ_VMM_ACCESS, struct ioreq_vmm_access
 * @IOREQ_VMM_CMD_ADD_MEMORY: IOREQ_VMM_ADD_MEMORY, struct ioreq_vmm_memory
 * @IOREQ_VMM_CMD_GUEST_HANDLE: IOREQ_VMM_GUEST_HANDLE,
 *	struct ioreq_vmm_guest_handle
 * @IOREQ_VMM_CMD_BINDING_NEXT: IOREQ_VMM_BINDING_NEXT,
 *	struct ioreq_vmm_binding
 * @IOREQ_VMM_CMD_BINDING_ACK: IOREQ_VMM_BINDING_ACK,
 *	struct ioreq_vmm_binding_ack
 */
enum ioreq_vmm_ioctl_nr {
	IOREQ_VMM_CMD_CREATE_GUEST = 0x40,
	IOREQ_VMM_CMD_ACCESS = 0x41,
	IOREQ_VMM_CMD_ADD_MEMORY = 0x42,
	IOREQ_VMM_CMD_GUEST_HANDLE = 0x43,
	IOREQ_VMM_CMD_BINDING_NEXT = 0x47,
	IOREQ_VMM_CMD_BINDING_ACK = 0x48,
};

/* struct ioreq_vmm_create.flags */
#define IOREQ_VMM_CREATE_PRIVATE	_BITUL(0)	/* attach by handle only */

/**
 * struct ioreq_vmm_create - IOREQ_VMM_CREATE_GUEST: make this fd a guest
 * @size: sizeof(struct ioreq_vmm_create)
 * @flags: IOREQ_VMM_CREATE_*
 * @nr_vcpus: number of vcpus, 1 to the provider's max_vcpus parameter
 * @__reserved: must be 0
 * @guest_id: in: the id backends will attach with, or 0 to let the
 *	provider choose one; out: the guest's id
 *
 * One guest per open file; it lives until the file is closed, when every
 * backend session attached to it sees EPOLLHUP and ENODEV, and the
 * provider lets go of the memory lent with IOREQ_VMM_ADD_MEMORY.
 *
 * Backends attach by @guest_id (which needs CAP_SYS_ADMIN, see
 * linux/ioreq.h) or by a handle from IOREQ_VMM_GUEST_HANDLE.  With
 * IOREQ_VMM_CREATE_PRIVATE only the handle works: IOREQ_ATTACH by number
 * fails with ESRCH, as for a guest that does not exist.  A private guest
 * still has an id, unique among all guests, that IOREQ_GET_INFO reports.
 *
 * Errors: EBUSY (this fd already has a guest), EEXIST (@guest_id is in
 * use: an id stays in use until the last reference to its file is gone),
 * EINVAL (unknown flags, @nr_vcpus is 0 or above the max_vcpus parameter
 * (at most 4096), or @guest_id above 0xffffffff), ENOSPC (no free id).
 */
struct ioreq_vmm_create {
	__u32 size;
	__u32 flags;
	__u32 nr_vcpus;
	__u32 __reserved;
	__aligned_u64 guest_id;
};

#define IOREQ_VMM_CREATE_GUEST _IO(IOREQ_MAGIC, IOREQ_VMM_CMD_CREATE_GUEST)

/* struct ioreq_vmm_access.status */
#define IOREQ_VMM_STATUS_DONE		0	/* a backend answered */
#define IOREQ_VMM_STATUS_UNCLAIMED	1	/* no region: all ones / dropped */
/* the backend closed its session or released the region first */
#define IOREQ_VMM_STATUS_ABORTED	2
#define IOREQ_VMM_STATUS_TIMEDOUT	3	/* no answer within timeout_ms */

/**
 * struct ioreq_vmm_access - IOREQ_VMM_ACCESS: one vcpu access
 * @size: sizeof(struct ioreq_vmm_access)
 * @flags: must be 0
 * @vcpu: the accessing vcpu, below the guest's nr_vcpus
 * @space: IOREQ_SPACE_MMIO, IOREQ_SPACE_PIO or IOREQ_SPACE_PCI_CONFIG
 * @op: IOREQ_OP_READ or IOREQ_OP_WRITE
 * @len: access size in bytes: 1, 2, 4 or 8; 1, 2 or 4 for
 *	IOREQ_SPACE_PCI_CONFIG
 * @status: out: IOREQ_VMM_STATUS_*
 * @addr: guest-physical address or port; for IOREQ_SPACE_PCI_CONFIG,
 *	SBDF << 32 | register, the SBDF as in struct ioreq_irq and the
 *	register below 4096 (extended configuration space)
 * @data: in: the value of a write (low @len bytes), returned unchanged;
 *	out: the value of a read, all ones unless @status is
 *	IOREQ_VMM_STATUS_DONE
 * @timeout_ms: how long to wait for the backend; 0 means the provider's
 *	default_timeout_ms parameter
 * @__reserved: must be 0
 *
 * A PCI configuration access (the VMM decoded the guest's 0xcf8/0xcfc
 * port pair or its ECAM window) must lie within one naturally aligned
 * 4-byte register: (@addr & 3) + @len <= 4.  It is delivered to the
 * session that claimed it with IOREQ_CLAIM_REGION in IOREQ_SPACE_PCI_CONFIG
 * (IOREQ_CAP_PCI_CONFIG), the record's offset counted from the region's
 * addr as in any space.
 *
 * Blocks until the backend answers, the request is aborted, or the
 * timeout passes; each outcome returns 0 with @status saying which.  Only a
 * fatal signal ends the wait early.  A vcpu carries one access at a time.
 * The same struct is also the record that write() on the guest's fd takes
 * to start accesses without waiting (see struct ioreq_vmm_done).
 * Errors: EBUSY (another thread is in an access on this vcpu), ENXIO (no
 * guest created on this fd), EINVAL (@vcpu, @space, @op or @len out of
 * range, an access that wraps the address space, a port access beyond
 * 0xffff, a PCI configuration access to a register at or above 4096 or
 * across a 4-byte boundary, non-zero @status on entry), EINTR (a fatal
 * signal: the access was withdrawn and the process is dying).
 */
struct ioreq_vmm_access {
	__u32 size;
	__u32 flags;
	__u32 vcpu;
	__u8 space;
	__u8 op;
	__u8 len;
	__u8 status;
	__aligned_u64 addr;
	__aligned_u64 data;
	__u32 timeout_ms;
	__u32 __reserved;
};

#define IOREQ_VMM_ACCESS _IO(IOREQ_MAGIC, IOREQ_VMM_CMD_ACCESS)

/**
 * struct ioreq_vmm_memory - IOREQ_VMM_ADD_MEMORY: lend guest RAM to backends
 * @size: sizeof(struct ioreq_vmm_memory)
 * @flags: must be 0
 * @fd: a shmem file (memfd_create() without MFD_HUGETLB, or a tmpfs
 *	file) opened for reading and writing: the guest's RAM, as the VMM
 *	maps it for itself and for KVM
 * @__reserved: must be 0
 * @gpa: guest-physical address of the first byte, page aligned
 * @len: length in bytes, page aligned, not 0
 * @offset: offset of @gpa's page in @fd, page aligned
 *
 * Backends attached to this guest can then mmap() the range from their
 * /dev/ioreq file and copy to and from it (IOREQ_CAP_GUEST_MEMORY), or
 * map it through an IOREQ_GUEST_MEMORY_FD file; IOREQ_GET_MEMORY_MAP
 * lists the ranges.  The provider keeps a reference to the memfd until
 * the guest is freed.  At most 64 ranges per guest; ranges never overlap
 * and are never removed.
 * Errors: EBADF (@fd), EINVAL (not a shmem file, not opened read-write,
 * alignment, a range that wraps), EEXIST (overlaps a range already added),
 * ENOSPC (64 ranges), ENXIO (no guest created on this fd).
 */
struct ioreq_vmm_memory {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 __reserved;
	__aligned_u64 gpa;
	__aligned_u64 len;
	__aligned_u64 offset;
};

#define IOREQ_VMM_ADD_MEMORY _IO(IOREQ_MAGIC, IOREQ_VMM_CMD_ADD_MEMORY)

/**
 * struct ioreq_vmm_guest_handle - IOREQ_VMM_GUEST_HANDLE: a right to attach
 * @size: sizeof(struct ioreq_vmm_guest_handle)
 * @flags: must be 0
 * @fd: out: a new file descriptor, close-on-exec, of the handle
 * @__reserved: must be 0
 *
 * Makes a handle of this fd's guest: a file that carries only the right
 * to attach backend sessions to this one guest (IOREQ_ATTACH with
 * IOREQ_ATTACH_GUEST_FD, no capability needed).  It gives no right of the
 * hypervisor side: it has no read(), write(), ioctl or mmap of its own.
 * The VMM passes it to a backend (SCM_RIGHTS on a unix socket, or an fd
 * left open across exec); any number of handles may be made.  A handle
 * keeps a reference to the guest's bookkeeping, not the guest: once this
 * fd is closed, attaching by the handle fails with ENODEV.  While a handle
 * (or an attached session) is open the module cannot be unloaded.
 * Errors: EINVAL (flags, reserved members), ENXIO (no guest created on
 * this fd), EMFILE (no free descriptor), ENOMEM.
 */
struct ioreq_vmm_guest_handle {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 __reserved;
};

#define IOREQ_VMM_GUEST_HANDLE _IO(IOREQ_MAGIC, IOREQ_VMM_CMD_GUEST_HANDLE)

/**
 * DOC: bindings, the fast path for a hypervisor that signals eventfds
 *
 * Backends bind eventfds to their guest on /dev/ioreq: IOREQ_IOEVENTFD
 * (writes at an address signal it) and IOREQ_IRQFD (a signal injects an
 * interrupt).  Without help from the VMM, each such write still traps to
 * the VMM, which forwards it (IOREQ_VMM_ACCESS) for the kernel to signal
 * the eventfd, and each such interrupt is queued for the VMM to read() and
 * inject.  A VMM whose hypervisor can do both in the kernel (KVM:
 * KVM_IOEVENTFD, KVM_IRQFD) learns the bindings with IOREQ_VMM_BINDING_NEXT,
 * each with a descriptor of the backend's very eventfd, registers them
 * there and says so with IOREQ_VMM_BINDING_ACK; the backend makes the same
 * calls and reads the same records either way.
 *
 * The protocol, per guest, and what it guarantees:
 *
 * - Every binding made on the guest is offered once, in the order made,
 *   as an IOREQ_VMM_BINDING_ADDED event; poll() on the guest's fd reports
 *   EPOLLPRI while an event is pending (not EPOLLIN, which says read()
 *   has interrupt events: a VMM that ignores bindings is not woken).
 *   Bindings made before the VMM first asks are offered too.
 * - Taking is optional.  The VMM registers the binding with its
 *   hypervisor, then acks IOREQ_VMM_BINDING_TAKEN.  For an irqfd, the
 *   kernel stops injecting through the VMM's event queue from the ack on
 *   (until then both paths may inject: an interrupt may come twice, never
 *   be lost).  For an ioeventfd nothing changes in the kernel: the writes
 *   the hypervisor completes never reach the VMM, and one that still
 *   arrives through IOREQ_VMM_ACCESS signals the eventfd as before.  A
 *   binding the VMM leaves alone, or gives back, works as without this.
 * - A binding whose ADDED event the VMM took gets exactly one
 *   IOREQ_VMM_BINDING_REMOVED event when the backend removes it (deassign,
 *   its region released, its eventfd hung up, its session closed: the
 *   backend died).  The VMM unregisters it from the hypervisor, closes
 *   the descriptor, and acks IOREQ_VMM_BINDING_RELEASED.  The backend's
 *   call that removes it waits for that ack, at most the provider's
 *   bind_timeout_ms parameter (default 1000), so that when it returns the
 *   hypervisor no longer signals the eventfd nor injects from it; a
 *   binding moved (removed, then added elsewhere) is so never live twice.
 *   If the VMM does not ack in time, the removal completes anyway and the
 *   stale registration lives until the VMM acts: writes there are
 *   swallowed by the eventfd, interrupts from it still injected.  A
 *   binding removed before the VMM read its ADDED event is never
 *   reported.
 * - The VMM may give a binding back at any time by acking
 *   IOREQ_VMM_BINDING_RELEASED for an id it holds that was not removed:
 *   the kernel delivers it again from then (unregister from the hypervisor
 *   after the ack; both may deliver meanwhile).  It stays known: TAKEN
 *   takes it again, and its removal is told all the same.
 * - Closing the guest's fd (the VMM dying) forgets every binding; waiting
 *   removals return at once.
 */

/* struct ioreq_vmm_binding.event */
#define IOREQ_VMM_BINDING_ADDED		1
#define IOREQ_VMM_BINDING_REMOVED	2

/* struct ioreq_vmm_binding.kind */
#define IOREQ_VMM_BINDING_IOEVENTFD	1	/* IOREQ_IOEVENTFD */
#define IOREQ_VMM_BINDING_IRQFD		2	/* IOREQ_IRQFD */

/**
 * struct ioreq_vmm_binding - IOREQ_VMM_BINDING_NEXT: the next binding event
 * @size: sizeof(struct ioreq_vmm_binding)
 * @flags: must be 0
 * @event: out: IOREQ_VMM_BINDING_ADDED or IOREQ_VMM_BINDING_REMOVED
 * @kind: out: IOREQ_VMM_BINDING_IOEVENTFD or IOREQ_VMM_BINDING_IRQFD
 * @id: out: the binding's id, unique in the guest's life, for
 *	IOREQ_VMM_BINDING_ACK; a REMOVED event names the id its ADDED had
 * @fd: out: ADDED: a new descriptor, close-on-exec, of the backend's
 *	eventfd (for KVM_IOEVENTFD or KVM_IRQFD; keep it to deassign);
 *	REMOVED: -1
 * @space: out: an ioeventfd's IOREQ_SPACE_MMIO or IOREQ_SPACE_PIO
 * @len: out: an ioeventfd's write length, 1, 2, 4 or 8
 * @match: out: an ioeventfd's IOREQ_IOEVENTFD_DATAMATCH, or 0
 * @addr: out: an ioeventfd's guest-physical address or port
 * @datamatch: out: with IOREQ_IOEVENTFD_DATAMATCH in @match, the value
 * @irq: out: an irqfd's interrupt (a line, a PCI INTx pin or an MSI), as
 *	an IOREQ_VMM_EVENT_IRQ event would carry it; the irqfd injects an
 *	edge for a line or a pin, one message for an MSI
 *
 * Takes the oldest pending event without waiting; the members of the other
 * kind are 0.  Errors: EINVAL (@flags), ENXIO (no guest created on this
 * fd), EAGAIN (no event pending), EMFILE (no free descriptor: the event
 * stays pending), EFAULT (likewise).
 */
struct ioreq_vmm_binding {
	__u32 size;
	__u32 flags;
	__u32 event;
	__u32 kind;
	__aligned_u64 id;
	__s32 fd;
	__u32 space;
	__u32 len;
	__u32 match;
	__aligned_u64 addr;
	__aligned_u64 datamatch;
	struct ioreq_irq irq;
};

#define IOREQ_VMM_BINDING_NEXT _IO(IOREQ_MAGIC, IOREQ_VMM_CMD_BINDING_NEXT)

/* struct ioreq_vmm_binding_ack.flags: exactly one */
#define IOREQ_VMM_BINDING_TAKEN		_BITUL(0)
#define IOREQ_VMM_BINDING_RELEASED	_BITUL(1)

/**
 * struct ioreq_vmm_binding_ack - IOREQ_VMM_BINDING_ACK: the VMM's answer
 * @size: sizeof(struct ioreq_vmm_binding_ack)
 * @flags: IOREQ_VMM_BINDING_TAKEN: the hypervisor now delivers the binding
 *	@id itself; IOREQ_VMM_BINDING_RELEASED: it no longer does (the answer
 *	to a REMOVED event, or a binding given back)
 * @id: a binding's id from an ADDED event
 *
 * TAKEN on a taken binding, and RELEASED on one given back, are no-ops.
 * TAKEN for a binding the backend has removed since succeeds too: its
 * REMOVED event is pending.
 * Errors: EINVAL (@flags not exactly one of the two), ENXIO (no guest
 * created on this fd), ENOENT (@id is not a binding whose ADDED event this
 * fd returned, or its removal was released already).
 */
struct ioreq_vmm_binding_ack {
	__u32 size;
	__u32 flags;
	__aligned_u64 id;
};

#define IOREQ_VMM_BINDING_ACK _IO(IOREQ_MAGIC, IOREQ_VMM_CMD_BINDING_ACK)

/**
 * struct ioreq_vmm_done - an access started with write() has ended
 * @vcpu: the vcpu of the access
 * @space: its @space
 * @op: its @op
 * @len: its @len
 * @status: IOREQ_VMM_STATUS_DONE, _UNCLAIMED or _ABORTED
 * @addr: its @addr
 * @data: the value of a read (all ones unless @status is
 *	IOREQ_VMM_STATUS_DONE), the value of a write
 *
 * write() on a guest's fd takes whole struct ioreq_vmm_access records and
 * starts each access as IOREQ_VMM_ACCESS does, without waiting for it: a
 * hypervisor thread that serves several vcpus hands over an access for
 * each and collects the answers as they come.  Each record accepted ends
 * in exactly one IOREQ_VMM_EVENT_DONE event carrying this struct, read()
 * from the same fd; until the VMM has read it the vcpu stays busy.  Such
 * an access has no timeout: it ends when the backend answers, when its
 * region is released or its backend's session closes (aborted), or when
 * the guest's fd is closed.  A record must have @size =
 * sizeof(struct ioreq_vmm_access) and zero @flags, @status, @timeout_ms
 * and @__reserved.  write() returns the bytes of the records it started,
 * stopping before the first it refuses; it fails with that record's error
 * only if it is the first: EINVAL (length not a multiple of the record,
 * a bad field as for IOREQ_VMM_ACCESS), EBUSY (the vcpu carries an
 * access), EFAULT, ENXIO (no guest created).
 */
struct ioreq_vmm_done {
	__u32 vcpu;
	__u8 space;
	__u8 op;
	__u8 len;
	__u8 status;
	__aligned_u64 addr;
	__aligned_u64 data;
};

/* struct ioreq_vmm_event.type */
#define IOREQ_VMM_EVENT_IRQ	1	/* a backend injects @irq at @level */
#define IOREQ_VMM_EVENT_DONE	2	/* an access written ended: @done */

/**
 * struct ioreq_vmm_event - what read() on a guest's fd returns
 * @type: IOREQ_VMM_EVENT_*
 * @level: IOREQ_VMM_EVENT_IRQ: 1 assert (or an MSI), 0 deassert
 * @lost: IOREQ_VMM_EVENT_IRQ: how many interrupt events were dropped
 *	before this one because their queue (256 events) was full: the VMM
 *	fell behind; 0 for other events
 * @__reserved: 0
 * @irq: IOREQ_VMM_EVENT_IRQ: the interrupt, as the backend described it
 *	(linux/ioreq.h)
 * @done: IOREQ_VMM_EVENT_DONE: the access that ended
 *
 * Backends inject interrupts through /dev/ioreq (IOREQ_INJECT_IRQ and
 * IOREQ_IRQFD); this provider queues each one on the guest's fd, where the
 * VMM read()s it and delivers it its own way (KVM_IRQ_LINE,
 * KVM_SIGNAL_MSI, or the simulator's record).  read() takes whole events,
 * blocks unless O_NONBLOCK, and poll() reports EPOLLIN while some are
 * queued; while accesses started with write() are outstanding a blocking
 * read() first polls for a while, as IOREQ_VMM_ACCESS does.  A read()
 * returns the ended accesses queued before the interrupts.  A full
 * interrupt queue fails IOREQ_INJECT_IRQ with EAGAIN and drops an irqfd's
 * injection, counted in @lost; IOREQ_VMM_EVENT_DONE events are never
 * dropped.  read() errors: EINVAL (length not a multiple of the event
 * size), ENXIO (no guest created), EAGAIN, EFAULT.
 */
struct ioreq_vmm_event {
	__u32 type;
	__u32 level;
	__u32 lost;
	__u32 __reserved;
	union {
		struct ioreq_irq irq;
		struct ioreq_vmm_done done;
	};
};

#endif /* _UAPI_LINUX_IOREQ_VMM_H */
