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

#define IOREQ_MAGIC 0xBC

/**
 * DOC: General ioctl format and errors
 *
 * Every ioctl takes one struct whose first two members are
 * ``__u32 size`` (set by userspace to sizeof() the struct it was compiled
 * with) and ``__u32 flags``.  The kernel accepts a smaller size down to the
 * first version of the struct and a larger one whose extra bytes are zero,
 * like copy_struct_from_user().  Reserved members must be zero.
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
 *   A batch with a malformed record completes nothing.
 * - ENOENT: (write) the first record names a request that is no longer
 *   pending in this session (it was already answered, even earlier in the
 *   same batch, cancelled by the hypervisor side, or completed because its
 *   region was released).  A later stale record ends the write early:
 *   write() returns the bytes of the records before it, which completed.
 *
 * read() returns at most one record per vcpu of the guest, so whatever one
 * read() returned can be answered by one write().  write() of 0 bytes
 * returns 0.
 * - EAGAIN: O_NONBLOCK and no record is ready.
 * - ENOTCONN, ENODEV: as above.
 */

/**
 * enum ioreq_ioctl_nr - ioctl numbers, backend side
 * @IOREQ_CMD_GET_INFO: IOREQ_GET_INFO, struct ioreq_info
 * @IOREQ_CMD_ATTACH: IOREQ_ATTACH, struct ioreq_attach
 * @IOREQ_CMD_CLAIM_REGION: IOREQ_CLAIM_REGION, struct ioreq_region
 * @IOREQ_CMD_RELEASE_REGION: IOREQ_RELEASE_REGION, struct ioreq_release
 */
enum ioreq_ioctl_nr {
	IOREQ_CMD_GET_INFO = 0x00,
	IOREQ_CMD_ATTACH = 0x01,
	IOREQ_CMD_CLAIM_REGION = 0x02,
	IOREQ_CMD_RELEASE_REGION = 0x03,
};

/* Providers (struct ioreq_attach.provider, struct ioreq_info.provider) */
#define IOREQ_PROVIDER_ANY	0	/* the first provider that knows the guest */
#define IOREQ_PROVIDER_XEN	1	/* Xen IOREQ server, guest id is a domid */
#define IOREQ_PROVIDER_VMM	2	/* userspace hypervisor (linux/ioreq_vmm.h) */

/* Capabilities (struct ioreq_info.caps) */
#define IOREQ_CAP_MMIO		_BITULL(0)	/* IOREQ_SPACE_MMIO regions */
#define IOREQ_CAP_PIO		_BITULL(1)	/* IOREQ_SPACE_PIO regions */
#define IOREQ_CAP_PCI_CONFIG	_BITULL(2)	/* IOREQ_SPACE_PCI_CONFIG */
#define IOREQ_CAP_POSTED_WRITES	_BITULL(3)	/* IOREQ_REGION_POSTED_WRITES */

/**
 * struct ioreq_info - IOREQ_GET_INFO: what this session can do
 * @size: sizeof(struct ioreq_info)
 * @flags: must be 0
 * @provider: out: IOREQ_PROVIDER_* of the attached guest, or
 *	IOREQ_PROVIDER_ANY before IOREQ_ATTACH
 * @nr_vcpus: out: number of vcpus of the attached guest, 0 before attach
 * @caps: out: IOREQ_CAP_* of the attached guest's provider; before
 *	attach, the union over all loaded providers
 * @guest_id: out: the attached guest's id
 * @max_regions: out: how many regions one session may claim
 * @__reserved: out: 0
 *
 * Valid before and after IOREQ_ATTACH.  Later features add IOREQ_CAP_*
 * bits: a backend discovers them here rather than guessing.
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
};

#define IOREQ_GET_INFO _IO(IOREQ_MAGIC, IOREQ_CMD_GET_INFO)

/**
 * struct ioreq_attach - IOREQ_ATTACH: bind the session to one guest
 * @size: sizeof(struct ioreq_attach)
 * @flags: must be 0
 * @provider: IOREQ_PROVIDER_*; IOREQ_PROVIDER_ANY tries each loaded
 *	provider in the order they registered
 * @__reserved: must be 0
 * @guest_id: the guest: a domid on Xen, the id the VMM was given by
 *	IOREQ_VMM_CREATE_GUEST on the userspace-hypervisor provider
 * @nr_vcpus: out: the guest's vcpu count; record ids name vcpus below it
 * @__reserved2: must be 0
 * @caps: out: IOREQ_CAP_* of the guest's provider
 *
 * A session attaches once.  Errors: EBUSY (already attached), ESRCH (no
 * provider knows the guest), ENODEV (no such provider loaded, or the guest
 * died meanwhile), or the provider's own error for that guest.
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
#define IOREQ_REGION_POSTED_WRITES _BITUL(0)	/* writes need no response */

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
 * claimed the address: reads return all ones, writes are dropped.
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
#define IOREQ_CMD_POSTED _BITUL(0)	/* a posted write: do not respond */

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
 * was (writes); @op, @size and @id must be those of the request.  Records
 * may be answered in any order and in batches.
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

#endif /* _UAPI_LINUX_IOREQ_H */
