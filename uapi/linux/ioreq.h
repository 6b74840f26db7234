/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioreq: a hypervisor-neutral I/O request interface for device backends.
 *
 * A device backend opens /dev/ioreq, attaches the session to one guest,
 * claims MMIO and port I/O regions, then read()s 32-byte command records
 * (struct ioreq_cmd) for the guest accesses that hit its regions and
 * write()s the same records back as responses.  The hypervisor part (Xen
 * IOREQ pages and event channels, or a VMM's exits forwarded from
 * userspace) lives in a kernel provider: the backend never sees it.
 *
 * ioctl type 0xBC, numbers 0x00-0x3f for the backend side (this header)
 * and 0x40-0x7f for the hypervisor side (linux/ioreq_vmm.h).
 */
#ifndef _UAPI_LINUX_IOREQ_H
#define _UAPI_LINUX_IOREQ_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * The ioctl type of this header and linux/ioreq_vmm.h, registered in
 * Documentation/userspace-api/ioctl/ioctl-number.rst as code 0xBC,
 * numbers 00-3F for this side and 40-7F for the hypervisor side.
 */
#define IOREQ_MAGIC 0xBC

/**
 * DOC: General ioctl format and errors
 *
 * Every ioctl takes one struct whose first two members are
 * ``__u32 size`` (set by userspace to sizeof() the struct it was compiled
 * with) and ``__u32 flags``.  The kernel accepts a smaller size down to the
 * first version of the struct and a larger one whose extra bytes are zero,
 * like copy_struct_from_user().  Reserved members must be zero.  Results
 * are written back into the first min(size, kernel's sizeof()) bytes
 * only: never past the caller's struct.
 *
 * Errors common to every ioctl:
 *
 * - ENOTTY: unknown ioctl command.
 * - EINVAL: size below the struct's first version, unknown flag bits,
 *   non-zero reserved members, or a member out of its range.
 * - E2BIG: size is larger than the kernel knows and the extra bytes are
 *   not zero.
 * - EFAULT: the struct is not accessible.
 * - ENOTCONN: the session is not attached to a guest (for ioctls that need
 *   one).
 * - ENODEV: the guest is gone (the hypervisor destroyed it or the VMM
 *   closed it).  IOREQ_GET_INFO and IOREQ_RELEASE_REGION still work; the
 *   session is of no further use and should be closed.
 * - EOPNOTSUPP: the provider lacks the capability the request needs (see
 *   IOREQ_GET_INFO).
 *
 * Errors of read() and write():
 *
 * - EINVAL: (read) a length that is zero or not a multiple of 32 bytes;
 *   (write) a length that is not a multiple of 32 bytes or holds more
 *   records than the guest has vcpus, or a malformed record: unknown op,
 *   non-zero flags, a size other than 1/2/4/8, an id that names no vcpu of
 *   the guest, or an op or size that differs from the pending request's.
 *   A batch with a malformed record completes nothing, wherever the
 *   record stands in it (behind a stale one too).
 * - ENOENT: (write) the first record names a request that is no longer
 *   pending in this session (it was already answered, even earlier in the
 *   same batch, cancelled by the hypervisor side, or completed because its
 *   region was released).  A later stale record ends the write early:
 *   write() returns the bytes of the records before it, which completed.
 * - EAGAIN: (read) O_NONBLOCK and no record is ready.
 * - ENOTCONN, ENODEV: as above.
 *
 * read() returns at most as many records as the guest has vcpus, posted
 * records included, so whatever one read() returned can be answered by
 * one write() (rarely two records of one vcpu, see
 * Documentation/userspace-api/ioreq.rst).  write() of 0 bytes returns 0.
 */

/**
 * enum ioreq_ioctl_nr - ioctl numbers, backend side
 * @IOREQ_CMD_GET_INFO: IOREQ_GET_INFO, struct ioreq_info
 * @IOREQ_CMD_ATTACH: IOREQ_ATTACH, struct ioreq_attach
 * @IOREQ_CMD_CLAIM_REGION: IOREQ_CLAIM_REGION, struct ioreq_region
 * @IOREQ_CMD_RELEASE_REGION: IOREQ_RELEASE_REGION, struct ioreq_release
 * @IOREQ_CMD_INJECT_IRQ: IOREQ_INJECT_IRQ, struct ioreq_inject
 * @IOREQ_CMD_IRQFD: IOREQ_IRQFD, struct ioreq_irqfd
 * @IOREQ_CMD_IOEVENTFD: IOREQ_IOEVENTFD, struct ioreq_ioeventfd
 * @IOREQ_CMD_READ_GUEST: IOREQ_READ_GUEST, struct ioreq_guest_rw
 * @IOREQ_CMD_WRITE_GUEST: IOREQ_WRITE_GUEST, struct ioreq_guest_rw
 * @IOREQ_CMD_GUEST_MEMORY_FD: IOREQ_GUEST_MEMORY_FD,
 *	struct ioreq_guest_memory_fd
 * @IOREQ_CMD_GET_MEMORY_MAP: IOREQ_GET_MEMORY_MAP, struct ioreq_memory_map
 * @IOREQ_CMD_REDELIVER: IOREQ_REDELIVER, struct ioreq_redeliver
 */
enum ioreq_ioctl_nr {
	IOREQ_CMD_GET_INFO = 0x00,
	IOREQ_CMD_ATTACH = 0x01,
	IOREQ_CMD_CLAIM_REGION = 0x02,
	IOREQ_CMD_RELEASE_REGION = 0x03,
	IOREQ_CMD_INJECT_IRQ = 0x04,
	IOREQ_CMD_IRQFD = 0x05,
	IOREQ_CMD_IOEVENTFD = 0x06,
	IOREQ_CMD_READ_GUEST = 0x07,
	IOREQ_CMD_WRITE_GUEST = 0x08,
	IOREQ_CMD_GUEST_MEMORY_FD = 0x09,
	IOREQ_CMD_GET_MEMORY_MAP = 0x0A,
	IOREQ_CMD_REDELIVER = 0x0B,
};

/*
 * Providers (struct ioreq_attach.provider, struct ioreq_info.provider).
 * IOREQ_PROVIDER_NONE is only what IOREQ_GET_INFO reports before attach:
 * an attach always names its provider.
 */
#define IOREQ_PROVIDER_NONE	0	/* not attached */
#define IOREQ_PROVIDER_XEN	1	/* Xen IOREQ server, guest id is a domid */
#define IOREQ_PROVIDER_VMM	2	/* userspace hypervisor (linux/ioreq_vmm.h) */

/*
 * Capabilities (struct ioreq_info.caps), a __u64.  The flags of the __u32
 * and __u16 members below are unsigned int constants, no wider than their
 * member on any ABI.
 */
#define IOREQ_CAP_MMIO		_BITULL(0)	/* IOREQ_SPACE_MMIO regions */
#define IOREQ_CAP_PIO		_BITULL(1)	/* IOREQ_SPACE_PIO regions */
#define IOREQ_CAP_PCI_CONFIG	_BITULL(2)	/* IOREQ_SPACE_PCI_CONFIG */
#define IOREQ_CAP_POSTED_WRITES	_BITULL(3)	/* IOREQ_REGION_POSTED_WRITES */
#define IOREQ_CAP_IRQ_LINE	_BITULL(4)	/* IOREQ_IRQ_LINE interrupts */
#define IOREQ_CAP_IRQ_PCI_INTX	_BITULL(5)	/* IOREQ_IRQ_PCI_INTX interrupts */
#define IOREQ_CAP_IRQ_MSI	_BITULL(6)	/* IOREQ_IRQ_MSI interrupts */
#define IOREQ_CAP_IRQFD		_BITULL(7)	/* IOREQ_IRQFD */
#define IOREQ_CAP_IOEVENTFD	_BITULL(8)	/* IOREQ_IOEVENTFD */
#define IOREQ_CAP_GUEST_MEMORY	_BITULL(9)	/* mmap(), IOREQ_{READ,WRITE}_GUEST */
#define IOREQ_CAP_GUEST_MEMORY_FD _BITULL(10)	/* IOREQ_GUEST_MEMORY_FD */
#define IOREQ_CAP_INVALIDATE	_BITULL(11)	/* ioreq_info.invalidations, EPOLLPRI */
#define IOREQ_CAP_REDELIVER	_BITULL(12)	/* IOREQ_REDELIVER */

/**
 * struct ioreq_info - IOREQ_GET_INFO: what this session can do
 * @size: sizeof(struct ioreq_info)
 * @flags: must be 0
 * @provider: out: IOREQ_PROVIDER_* of the attached guest, or
 *	IOREQ_PROVIDER_NONE before IOREQ_ATTACH
 * @nr_vcpus: out: number of vcpus of the attached guest, 0 before attach
 * @caps: out: IOREQ_CAP_* of the attached guest's provider; before
 *	attach, the union over all loaded providers
 * @guest_id: out: the attached guest's id
 * @max_regions: out: how many regions one session may claim
 * @__reserved: out: 0
 * @invalidations: out: how many times the hypervisor said that guest
 *	memory went away (IOREQ_CAP_INVALIDATE), since the provider first
 *	knew the guest; 0 before attach.  Wraps at 2^32.
 * @__reserved2: out: 0
 *
 * Valid before and after IOREQ_ATTACH.  Later features add IOREQ_CAP_*
 * bits: a backend discovers them here rather than guessing.
 *
 * Reading @invalidations (a @size that covers it) also acknowledges it:
 * poll() on the session reports EPOLLPRI while the guest's count differs
 * from the one this session last read (or found at IOREQ_ATTACH).  See "Guest memory" below for
 * what a backend does then.
 */
struct ioreq_info {
	__u32 size;
	__u32 flags;
	__u32 provider;
	__u32 nr_vcpus;
	__aligned_u64 caps;
	__aligned_u64 guest_id;
	__u32 max_regions;
	__u32 __reserved;
	__u32 invalidations;
	__u32 __reserved2;
};

#define IOREQ_GET_INFO _IO(IOREQ_MAGIC, IOREQ_CMD_GET_INFO)

/**
 * DOC: Access model
 *
 * A guest is reached in one of two ways:
 *
 * - By number: IOREQ_ATTACH with @guest_id a Xen domid or a VMM guest id.
 *   The id space is global to the host, so this needs CAP_SYS_ADMIN in
 *   the initial user namespace, checked in the credentials of the process
 *   that calls IOREQ_ATTACH (capable()), not in those the file was opened
 *   with.  An unattached /dev/ioreq file therefore grants nothing when it
 *   is passed on or inherited, and root in a user namespace is refused
 *   however the device node's mode lets it open the file.  The check is
 *   made for every provider, Xen included.
 *
 * - By handle: a VMM makes a guest handle with IOREQ_VMM_GUEST_HANDLE
 *   (linux/ioreq_vmm.h), a file that carries only the right to attach to
 *   that one guest, and passes it to the backend (SCM_RIGHTS, or
 *   inheritance).  IOREQ_ATTACH with IOREQ_ATTACH_GUEST_FD and the handle's
 *   fd in @guest_id then needs no capability.
 *
 * An attached session serves its one guest and can never be re-attached,
 * so a privileged process may attach a session and pass the session's fd
 * to an unprivileged backend: that backend reaches that guest and nothing
 * else.  A guest a VMM created with IOREQ_VMM_CREATE_PRIVATE is reached
 * only by handle.
 */

/* struct ioreq_attach.flags */
#define IOREQ_ATTACH_GUEST_FD	_BITUL(0)	/* @guest_id is a handle's fd */

/**
 * struct ioreq_attach - IOREQ_ATTACH: bind the session to one guest
 * @size: sizeof(struct ioreq_attach)
 * @flags: IOREQ_ATTACH_*
 * @provider: IOREQ_PROVIDER_XEN or IOREQ_PROVIDER_VMM, the provider of the
 *	guest (with IOREQ_ATTACH_GUEST_FD, the provider that made the
 *	handle: IOREQ_PROVIDER_VMM)
 * @__reserved: must be 0
 * @guest_id: the guest: a domid on Xen, the id the VMM was given by
 *	IOREQ_VMM_CREATE_GUEST on the userspace-hypervisor provider; with
 *	IOREQ_ATTACH_GUEST_FD, the file descriptor of a guest handle
 * @nr_vcpus: out: the guest's vcpu count; record ids name vcpus below it
 * @__reserved2: must be 0
 * @caps: out: IOREQ_CAP_* of the guest's provider
 *
 * A session attaches once, and only ever to a guest of the provider it
 * names: an attach never brings anything up on another hypervisor.
 * Errors: EINVAL (@provider is not a provider's id, unknown flags,
 * non-zero reserved members, or with IOREQ_ATTACH_GUEST_FD: the fd is not
 * a guest handle, or the handle's guest is not of @provider), EBADF (with
 * IOREQ_ATTACH_GUEST_FD: @guest_id is not an open fd), EPERM (by number,
 * without CAP_SYS_ADMIN in the initial user namespace), EBUSY (already
 * attached), ESRCH (the provider knows no guest of that number, or the
 * guest is private), ENODEV (the provider is not loaded, or the guest
 * died meanwhile: a handle whose VMM closed the guest gives ENODEV), or
 * the provider's own error for that guest.
 */
struct ioreq_attach {
	__u32 size;
	__u32 flags;
	__u32 provider;
	__u32 __reserved;
	__aligned_u64 guest_id;
	__u32 nr_vcpus;
	__u32 __reserved2;
	__aligned_u64 caps;
};

#define IOREQ_ATTACH _IO(IOREQ_MAGIC, IOREQ_CMD_ATTACH)

/* Address spaces (struct ioreq_region.space) */
#define IOREQ_SPACE_MMIO	0
#define IOREQ_SPACE_PIO		1	/* ports 0 - 0xffff */
#define IOREQ_SPACE_PCI_CONFIG	2	/* addr = SBDF << 32 | register */

/* struct ioreq_region.flags */
#define IOREQ_REGION_POSTED_WRITES 0x1U	/* writes need no response */

/**
 * struct ioreq_region - IOREQ_CLAIM_REGION: claim a range of guest accesses
 * @size: sizeof(struct ioreq_region)
 * @flags: IOREQ_REGION_* (each needs its IOREQ_CAP_*)
 * @space: IOREQ_SPACE_*
 * @__reserved: must be 0
 * @addr: first guest address of the range
 * @len: length in bytes, at least 1; addr + len must not overflow the space
 * @user_data: copied into every record for this region
 * @id: out: the region's id, for IOREQ_RELEASE_REGION
 * @__reserved2: must be 0
 *
 * A guest access is delivered to the session whose region contains it
 * whole; the record carries @user_data and the offset from @addr.
 * Errors: EINVAL (unknown flags or space, non-zero reserved members,
 * @len zero, the range wraps, or a port range beyond 0xffff), EEXIST
 * (overlaps a region of any session on this guest), ENOSPC (the session
 * holds max_regions regions), EOPNOTSUPP (the space or a flag needs a
 * capability the provider lacks), ENOTCONN, ENODEV.
 */
struct ioreq_region {
	__u32 size;
	__u32 flags;
	__u32 space;
	__u32 __reserved;
	__aligned_u64 addr;
	__aligned_u64 len;
	__aligned_u64 user_data;
	__u32 id;
	__u32 __reserved2;
};

#define IOREQ_CLAIM_REGION _IO(IOREQ_MAGIC, IOREQ_CMD_CLAIM_REGION)

/**
 * struct ioreq_release - IOREQ_RELEASE_REGION: give a region back
 * @size: sizeof(struct ioreq_release)
 * @flags: must be 0
 * @id: a region id returned by IOREQ_CLAIM_REGION in this session
 * @__reserved: must be 0
 *
 * Requests in the region that are still pending complete as if nothing
 * claimed the address: reads return all ones, writes are dropped.  Posted
 * writes of the region not yet read are discarded before this returns:
 * read() never returns a record of a released region.
 * Errors: ENOENT (no region with this id in this session).
 */
struct ioreq_release {
	__u32 size;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

#define IOREQ_RELEASE_REGION _IO(IOREQ_MAGIC, IOREQ_CMD_RELEASE_REGION)

/* struct ioreq_cmd.op */
#define IOREQ_OP_READ	0
#define IOREQ_OP_WRITE	1

/* struct ioreq_cmd.flags */
#define IOREQ_CMD_POSTED 0x1U	/* a posted write: do not respond */

/**
 * struct ioreq_cmd - one guest access (read()) or its response (write())
 * @op: IOREQ_OP_READ or IOREQ_OP_WRITE
 * @size: access size in bytes: 1, 2, 4 or 8
 * @flags: IOREQ_CMD_*
 * @id: identifies the request (its vcpu and a sequence number); opaque:
 *	copy it into the response.  IOREQ_CMD_VCPU(id) gives the vcpu.
 * @user_data: the claiming region's user_data
 * @offset: offset of the access from the start of the region
 * @data: the value written (IOREQ_OP_WRITE), in host byte order and zero
 *	extended; in a response to a read, the value to return, of which
 *	the low @size bytes are used
 *
 * read() fills whole records.  A backend answers each record without
 * IOREQ_CMD_POSTED by writing it back with @data set (reads) or as it
 * was (writes); @op, @size and @id must be those of the request and
 * @flags 0.  Records may be answered in any order and in batches.  A
 * posted write (IOREQ_CMD_POSTED: a write to an IOREQ_REGION_POSTED_WRITES
 * region, whose vcpu did not wait, or one the hypervisor posted, with
 * IOREQ_CMD_VCPU(@id) 0xffff) is never answered; read() returns posted
 * records before the others.
 */
struct ioreq_cmd {
	__u8 op;
	__u8 size;
	__u16 flags;
	__u32 id;
	__aligned_u64 user_data;
	__aligned_u64 offset;
	__aligned_u64 data;
};

#define IOREQ_CMD_VCPU(id)	((id) & 0xffffU)

/* struct ioreq_irq.kind */
#define IOREQ_IRQ_LINE		0	/* @line: ISA IRQ, GSI or Arm SPI */
#define IOREQ_IRQ_PCI_INTX	1	/* @sbdf and @pin of a PCI device */
#define IOREQ_IRQ_MSI		2	/* @msi_addr and @msi_data */

/**
 * struct ioreq_irq - one guest interrupt, whatever the hypervisor
 * @kind: IOREQ_IRQ_*; each needs its IOREQ_CAP_IRQ_*
 * @line: IOREQ_IRQ_LINE: the interrupt number as the guest's interrupt
 *	controller knows it (an ISA IRQ or GSI on x86, an SPI on Arm)
 * @sbdf: IOREQ_IRQ_PCI_INTX: segment << 16 | bus << 8 | device << 3 |
 *	function
 * @pin: IOREQ_IRQ_PCI_INTX: 0 for INTA# to 3 for INTD#
 * @msi_data: IOREQ_IRQ_MSI: the data the device writes
 * @__reserved: must be 0
 * @msi_addr: IOREQ_IRQ_MSI: the address the device writes to
 *
 * Members that the kind does not use must be 0.
 */
struct ioreq_irq {
	__u32 kind;
	__u32 line;
	__u32 sbdf;
	__u32 pin;
	__u32 msi_data;
	__u32 __reserved;
	__aligned_u64 msi_addr;
};

/**
 * struct ioreq_inject - IOREQ_INJECT_IRQ: raise or lower a guest interrupt
 * @size: sizeof(struct ioreq_inject)
 * @flags: must be 0
 * @level: IOREQ_IRQ_LINE and IOREQ_IRQ_PCI_INTX: 1 asserts the line, 0
 *	deasserts it; IOREQ_IRQ_MSI: must be 1 (one message is sent)
 * @__reserved: must be 0
 * @irq: the interrupt
 *
 * A level-triggered device asserts its line while it needs service and
 * deasserts it when the guest has acknowledged; an edge is an assert
 * followed by a deassert.  Errors: EINVAL (unknown kind, @level above 1 or
 * 0 for an MSI, members the kind does not use not 0, @line, @sbdf or @pin
 * out of range), EOPNOTSUPP (the provider cannot inject this kind), EAGAIN
 * (the userspace hypervisor is not taking interrupts fast enough: its
 * queue is full), ENOTCONN, ENODEV.
 */
struct ioreq_inject {
	__u32 size;
	__u32 flags;
	__u32 level;
	__u32 __reserved;
	struct ioreq_irq irq;
};

#define IOREQ_INJECT_IRQ _IO(IOREQ_MAGIC, IOREQ_CMD_INJECT_IRQ)

/* struct ioreq_irqfd.flags */
#define IOREQ_IRQFD_DEASSIGN	0x1U	/* remove the binding */

/**
 * struct ioreq_irqfd - IOREQ_IRQFD: inject an interrupt on an eventfd signal
 * @size: sizeof(struct ioreq_irqfd)
 * @flags: IOREQ_IRQFD_*
 * @fd: an eventfd
 * @__reserved: must be 0
 * @irq: the interrupt to inject
 *
 * Once bound, each signal on @fd injects @irq without a syscall into this
 * device: an edge (assert, then deassert) for a line or PCI INTx, one
 * message for an MSI.  Signals that arrive together may be merged into one
 * injection, as with KVM's irqfd.  The binding ends with
 * IOREQ_IRQFD_DEASSIGN (same @fd and @irq), when the eventfd's last
 * reference is closed, or when this session is closed.  Errors: EBADF
 * (@fd is not open), EINVAL (@fd is not an eventfd, bad @irq as for
 * IOREQ_INJECT_IRQ), EEXIST (this @fd is already bound to @irq in this
 * session), ENOENT (deassign: no such binding), ENOSPC (the session holds
 * the most bindings it may), EOPNOTSUPP (no IOREQ_CAP_IRQFD, or the kind
 * is not supported), ENOTCONN, ENODEV.
 */
struct ioreq_irqfd {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 __reserved;
	struct ioreq_irq irq;
};

#define IOREQ_IRQFD _IO(IOREQ_MAGIC, IOREQ_CMD_IRQFD)

/* struct ioreq_ioeventfd.flags */
#define IOREQ_IOEVENTFD_DEASSIGN	0x1U	/* remove the binding */
#define IOREQ_IOEVENTFD_DATAMATCH	0x2U	/* only writes of @datamatch */

/**
 * struct ioreq_ioeventfd - IOREQ_IOEVENTFD: complete writes in the kernel
 * @size: sizeof(struct ioreq_ioeventfd)
 * @flags: IOREQ_IOEVENTFD_*
 * @fd: an eventfd
 * @space: IOREQ_SPACE_MMIO or IOREQ_SPACE_PIO
 * @len: 1, 2, 4 or 8
 * @__reserved: must be 0
 * @addr: guest address or port; [@addr, @addr + @len) must lie inside one
 *	region this session claimed
 * @datamatch: with IOREQ_IOEVENTFD_DATAMATCH, only a write of this value
 *	matches; must be 0 without it
 *
 * A guest write of exactly @len bytes at @addr (of @datamatch, if given)
 * is completed by the kernel: @fd is signalled and no record reaches
 * read().  Any other access to the region, reads included, is delivered
 * as usual.  This is the doorbell of virtio's QueueNotify, or any other
 * register whose write only needs to wake the backend.  The binding ends
 * with IOREQ_IOEVENTFD_DEASSIGN (same @fd, @space, @addr, @len, @datamatch
 * and DATAMATCH flag), when its region is released, or when this session
 * is closed.  Errors: EBADF, EINVAL (not an eventfd, bad @space or @len,
 * @addr not inside one region of this session, @datamatch without the
 * flag), EEXIST (another binding matches the same writes), ENOENT
 * (deassign: no such binding), ENOSPC, EOPNOTSUPP, ENOTCONN, ENODEV.
 */
struct ioreq_ioeventfd {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 space;
	__u32 len;
	__u32 __reserved;
	__aligned_u64 addr;
	__aligned_u64 datamatch;
};

#define IOREQ_IOEVENTFD _IO(IOREQ_MAGIC, IOREQ_CMD_IOEVENTFD)

/**
 * DOC: Guest memory
 *
 * With IOREQ_CAP_GUEST_MEMORY a backend maps guest-physical memory (its
 * rings and buffers) by mmap() of its attached /dev/ioreq file: the file
 * offset is the guest-physical address, both page aligned.  The range must
 * lie in memory the hypervisor side made available (on the userspace
 * hypervisor provider: IOREQ_VMM_ADD_MEMORY).  The mapping shares the
 * guest's pages, stays valid until munmap() (closing the file does not
 * end it) and needs MAP_SHARED to see and make the guest's changes.
 * mmap() errors: ENXIO (the range is not guest memory), EINVAL (not page
 * aligned; on Xen, not MAP_SHARED), EOPNOTSUPP, ENOTCONN, ENODEV.
 *
 * For small accesses IOREQ_READ_GUEST and IOREQ_WRITE_GUEST copy bytes at
 * any guest-physical address, without a mapping.
 *
 * A mapping is made once and stays one piece: on the Xen provider
 * munmap() or mprotect() of part of it and mremap() that shrinks it fail
 * with EINVAL, mremap() that moves it (MREMAP_MAYMOVE, MREMAP_FIXED,
 * MREMAP_DONTUNMAP) with EINVAL, one that grows it with EFAULT; fork()
 * does not pass it to the child and MADV_DOFORK fails with EINVAL.
 *
 * Invalidation (IOREQ_CAP_INVALIDATE, Xen): when the guest gives memory
 * back to the hypervisor (a balloon driver), a mapping of it keeps the
 * old frame: the guest no longer sees what the backend writes there, and
 * a frame the guest later gets back at that address is a different one.
 * The hypervisor does not say which addresses went.  The provider counts
 * these events in struct ioreq_info.invalidations and poll() reports
 * EPOLLPRI; the guest is not held meanwhile.  A backend then calls
 * IOREQ_GET_INFO (which acknowledges), munmap()s every mapping of guest
 * memory it holds and mmap()s again what it still needs, as QEMU flushes
 * its map cache.  Copies through IOREQ_READ_GUEST and IOREQ_WRITE_GUEST
 * always reach the guest's current frames.
 */

/**
 * struct ioreq_guest_rw - IOREQ_READ_GUEST, IOREQ_WRITE_GUEST: copy bytes
 * @size: sizeof(struct ioreq_guest_rw)
 * @flags: must be 0
 * @addr: guest-physical address
 * @len: bytes to copy, 1 to 1 MiB; the range must not wrap
 * @buf: user pointer: the destination (read) or source (write)
 *
 * The whole range is checked before a byte is copied; only EFAULT can
 * leave a copy half done.  Errors: EINVAL (@len 0 or above 1 MiB, the range wraps), ENXIO (part of
 * the range is not guest memory), EFAULT (@buf), EOPNOTSUPP, ENOTCONN,
 * ENODEV.
 */
struct ioreq_guest_rw {
	__u32 size;
	__u32 flags;
	__aligned_u64 addr;
	__aligned_u64 len;
	__aligned_u64 buf;
};

#define IOREQ_READ_GUEST _IO(IOREQ_MAGIC, IOREQ_CMD_READ_GUEST)
#define IOREQ_WRITE_GUEST _IO(IOREQ_MAGIC, IOREQ_CMD_WRITE_GUEST)

/**
 * struct ioreq_guest_memory_fd - IOREQ_GUEST_MEMORY_FD: a file of one
 *	range of guest memory, safe to hand to another process
 * @size: sizeof(struct ioreq_guest_memory_fd)
 * @flags: must be 0
 * @gpa: guest-physical address of the range, page aligned
 * @len: length of the range in bytes, page aligned, not 0
 * @fd: out: the new file descriptor, opened O_RDWR | O_CLOEXEC
 * @__reserved: must be 0
 *
 * Needs IOREQ_CAP_GUEST_MEMORY_FD.  The new file's only operation is a
 * MAP_SHARED mmap(): its offset 0 is @gpa, so a process that knows nothing
 * of ioreq (a vhost-user daemon given the file as a memory region with
 * mmap_offset 0) maps the range as it maps any memfd.  fstat() gives
 * st_size @len and st_blksize the page size; lseek() with SEEK_END is
 * relative to @len.  read(), write() and ioctl() fail.
 *
 * The file carries no right over the guest beyond its memory: no records,
 * regions or interrupts.  It keeps the guest's bookkeeping and the
 * provider's module alive, not the session, which may be closed.  Once the
 * guest is gone (the hypervisor destroyed it or the VMM closed it), a new
 * mmap() fails with ENODEV; existing mappings stay valid until munmap().
 *
 * mmap() errors on the new file: EINVAL (not MAP_SHARED, or an offset that
 * is not page aligned), ENXIO (the mapping reaches beyond @len, or the
 * provider finds the frames gone), ENODEV (the guest is gone), or the
 * provider's own mmap() error.  read() and write() fail with EINVAL,
 * ioctl() with ENOTTY.
 *
 * Errors: EINVAL (unknown flags, non-zero @__reserved, @gpa or @len not
 * page aligned, @len 0, the range wraps), ENXIO ([@gpa, @gpa + @len) is
 * not all guest memory; on the userspace hypervisor provider it must lie
 * within one IOREQ_VMM_ADD_MEMORY range), EMFILE, ENFILE, ENOMEM,
 * EOPNOTSUPP (no IOREQ_CAP_GUEST_MEMORY_FD), ENOTCONN, ENODEV.
 */
struct ioreq_guest_memory_fd {
	__u32 size;
	__u32 flags;
	__aligned_u64 gpa;
	__aligned_u64 len;
	__s32 fd;
	__u32 __reserved;
};

#define IOREQ_GUEST_MEMORY_FD _IO(IOREQ_MAGIC, IOREQ_CMD_GUEST_MEMORY_FD)

/**
 * struct ioreq_memory_range - one range of guest memory
 * @gpa: out: guest-physical address of the first byte, page aligned
 * @len: out: length in bytes, page aligned, not 0
 * @flags: out: 0 (no IOREQ_MEMORY_RANGE_* flag is defined yet)
 * @__reserved: out: 0
 */
struct ioreq_memory_range {
	__aligned_u64 gpa;
	__aligned_u64 len;
	__u32 flags;
	__u32 __reserved;
};

/**
 * struct ioreq_memory_map - IOREQ_GET_MEMORY_MAP: the guest's memory ranges
 * @size: sizeof(struct ioreq_memory_map)
 * @flags: must be 0
 * @nr_ranges: in: how many entries @ranges has room for (may be 0);
 *	out: how many ranges the guest has
 * @__reserved: must be 0
 * @ranges: user pointer to an array of @nr_ranges struct
 *	ioreq_memory_range, filled with the first ranges sorted by @gpa
 *
 * The ranges are the guest memory that IOREQ_GUEST_MEMORY_FD, mmap() and
 * IOREQ_READ_GUEST accept, sorted by address and not overlapping; each is
 * a valid [gpa, gpa + len) for IOREQ_GUEST_MEMORY_FD.  On the userspace
 * hypervisor provider they are exactly its IOREQ_VMM_ADD_MEMORY ranges,
 * adjacent ones not merged.  If @nr_ranges (out) is larger than the room
 * given, only that many entries were written: call again with more room.
 * The map is a snapshot: the hypervisor side may add memory afterwards.
 *
 * Xen gives a dom0 no way to read another domain's memory map, so the Xen
 * provider does not implement this call (EOPNOTSUPP); a backend there
 * learns the guest's RAM layout from the toolstack's configuration.
 *
 * Errors: EINVAL (flags, @__reserved), EFAULT (@ranges), EOPNOTSUPP (the
 * provider cannot tell), ENOTCONN, ENODEV.
 */
struct ioreq_memory_map {
	__u32 size;
	__u32 flags;
	__u32 nr_ranges;
	__u32 __reserved;
	__aligned_u64 ranges;
};

#define IOREQ_GET_MEMORY_MAP _IO(IOREQ_MAGIC, IOREQ_CMD_GET_MEMORY_MAP)

/**
 * struct ioreq_redeliver - IOREQ_REDELIVER: take back what a reader held
 * @size: sizeof(struct ioreq_redeliver)
 * @flags: must be 0
 * @count: out: how many requests went back to the session's queue
 * @__reserved: out: 0
 *
 * For a backend taking over a session whose previous reader died: the
 * successor of a crashed frontend.  A session is one open file; a
 * descriptor of it kept by a second process (a holder, given it with
 * SCM_RIGHTS) keeps the file open when the frontend dies, and with it
 * everything the session holds: its attachment, its regions, its
 * ioeventfd and irqfd bindings, and the guest's requests.  Requests that
 * arrive while no process reads stay queued; the vcpus that made them
 * wait, as they wait for a slow backend (the userspace hypervisor
 * provider's IOREQ_VMM_ACCESS timeout still applies).  Only the requests
 * the dead process had read and not answered are stranded: IOREQ_REDELIVER
 * puts every request of this session that read() handed out and no
 * write() answered back at the head of the queue, in vcpu order, ahead
 * of the ones that arrived since, records unchanged (same id).  The next
 * read() returns them again; a response to one completes it once, however
 * many processes saw it.
 *
 * Posted writes (IOREQ_CMD_POSTED) leave the session when read(): one the
 * dead process read but had not acted on is lost.  What the backend kept
 * in its own memory (a device model's registers) is its own to save; the
 * session keeps only what it always kept.
 *
 * The call does not know which readers are alive: it takes back the
 * records of every reader of the session, so a backend calls it before
 * its first read(), while no other process reads the session.  A record
 * a live reader still holds would then be answered by whoever answers
 * first; the other write() fails with ENOENT (stale), as for any answered
 * request.
 *
 * When the last descriptor of the session closes (the holder gives up,
 * or dies), the session ends as it always does: its regions are released
 * and its pending requests end with IOREQ_ABORTED, reads seeing all ones.
 *
 * Errors: EINVAL (flags), ENOTCONN, ENODEV (the guest is gone: nothing to
 * deliver; read() reports it too).
 */
struct ioreq_redeliver {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 __reserved;
};

#define IOREQ_REDELIVER _IO(IOREQ_MAGIC, IOREQ_CMD_REDELIVER)

#endif /* _UAPI_LINUX_IOREQ_H */
