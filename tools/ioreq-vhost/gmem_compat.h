/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Until linux/ioreq.h of this tree has them: IOREQ_GUEST_MEMORY_FD and
 * IOREQ_GET_MEMORY_MAP, as the kernel side defines them.
 */
#ifndef _IOREQ_VHOST_GMEM_COMPAT_H
#define _IOREQ_VHOST_GMEM_COMPAT_H

#include <linux/ioreq.h>

#ifndef IOREQ_GUEST_MEMORY_FD
#define IOREQ_CAP_GUEST_MEMORY_FD _BITULL(10)

struct ioreq_guest_memory_fd {
	__u32 size;
	__u32 flags;
	__aligned_u64 gpa;
	__aligned_u64 len;
	__s32 fd;
	__u32 __reserved;
};

#define IOREQ_GUEST_MEMORY_FD _IO(IOREQ_MAGIC, 0x09)

struct ioreq_memory_range {
	__aligned_u64 gpa;
	__aligned_u64 len;
	__u32 flags;
	__u32 __reserved;
};

struct ioreq_memory_map {
	__u32 size;
	__u32 flags;
	__u32 nr_ranges;
	__u32 __reserved;
	__aligned_u64 ranges;
};

#define IOREQ_GET_MEMORY_MAP _IO(IOREQ_MAGIC, 0x0A)
#endif

#endif
