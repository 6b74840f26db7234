/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parts of Xen's public ABI that the ioreq Xen provider uses and that
 * Linux 6.1's include/xen/interface/ lacks: the synchronous ioreq page of
 * an IOREQ server (xen/include/public/hvm/ioreq.h) and the device-model
 * operations (xen/include/public/hvm/dm_op.h).  XENMEM_acquire_resource
 * and the event channel operations are in Linux's own headers.
 *
 * Every name carries an ioreq_xen / IOREQ_XEN_ prefix: from 6.7 Linux has
 * include/xen/interface/hvm/ioreq.h, which owns struct ioreq, IOREQ_READ,
 * IOREQ_TYPE_* and STATE_IOREQ_*, and a later dm_op.h may grow Xen's own
 * xen_dm_op_* names.
 */
#ifndef _IOREQ_XEN_ABI_H
#define _IOREQ_XEN_ABI_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

/* Xen's ioreq_t.state (4 bits of the byte at offset 30) */
#define IOREQ_XEN_STATE_NONE		0
#define IOREQ_XEN_STATE_READY		1	/* Xen -> server: a request */
#define IOREQ_XEN_STATE_INPROCESS	2	/* the server took it */
#define IOREQ_XEN_STATE_RESP_READY	3	/* server -> Xen: answered */

/* Xen's ioreq_t.type */
#define IOREQ_XEN_TYPE_PIO		0
#define IOREQ_XEN_TYPE_COPY		1	/* MMIO */
#define IOREQ_XEN_TYPE_PCI_CONFIG	2	/* addr = SBDF << 32 | reg */
#define IOREQ_XEN_TYPE_TIMEOFFSET	7
#define IOREQ_XEN_TYPE_INVALIDATE	8	/* mapcache invalidation */

/*
 * The byte at offset 30 of Xen's ioreq_t is the bitfield
 * "uint8_t state:4, data_is_ptr:1, dir:1, df:1, _pad1:1".  Xen is built
 * only for little-endian x86 and Arm, where GCC allocates bitfields from
 * the least significant bit, so these masks describe the same bits.  We
 * access the byte whole, never through a C bitfield, so that the state
 * can be read and written with acquire/release semantics.
 */
#define IOREQ_XEN_FLAG_STATE		0x0f
#define IOREQ_XEN_FLAG_DATA_IS_PTR	0x10	/* data is a guest address */
#define IOREQ_XEN_FLAG_DIR_READ		0x20	/* dir: 1 read, 0 write */
#define IOREQ_XEN_FLAG_DF		0x40	/* rep direction flag */

/**
 * struct ioreq_xen_req - one vcpu's slot of the synchronous ioreq page
 * @addr: guest-physical address, port, or SBDF << 32 | register
 * @data: the value written, the value read (answer), or with
 *	IOREQ_XEN_FLAG_DATA_IS_PTR the guest-physical address of a buffer
 * @count: repeat count of a rep instruction (1 for a plain access)
 * @size: access size in bytes
 * @vp_eport: Xen's end of this vcpu's event channel; written by Xen when
 *	the server is enabled, never by the server
 * @pad0: padding
 * @flags: IOREQ_XEN_FLAG_* (state, data_is_ptr, dir, df)
 * @type: IOREQ_XEN_TYPE_*
 */
struct ioreq_xen_req {
	u64 addr;
	u64 data;
	u32 count;
	u32 size;
	u32 vp_eport;
	u16 pad0;
	u8 flags;
	u8 type;
};

#define IOREQ_XEN_MAX_VCPUS	128

/*
 * The buffered ring (Xen's buffered_iopage): writes Xen posts without a
 * vcpu waiting.  Each slot is 8 bytes: a dword of bitfields, "uint8_t
 * type; uint8_t pad:1, dir:1, size:2; uint32_t addr:20", which GCC lays
 * out from the least significant bit of the first dword on little-endian
 * x86, then the data dword.  An 8-byte write takes two consecutive slots,
 * the second holding the high half of the data.  Xen advances
 * write_pointer after writing the slots; the server reads from
 * read_pointer and advances it atomically (with
 * IOREQ_XEN_BUFIOREQ_ATOMIC Xen rebases both pointers with a 64-bit
 * cmpxchg when read_pointer passes the slot count).
 */
#define IOREQ_XEN_BUF_SLOTS		511
#define IOREQ_XEN_BUF_TYPE(w)		((w) & 0xff)
#define IOREQ_XEN_BUF_DIR_READ(w)	(((w) >> 9) & 1)
#define IOREQ_XEN_BUF_SIZE(w)		(1U << (((w) >> 10) & 3))
#define IOREQ_XEN_BUF_ADDR(w)		((w) >> 12)

/**
 * struct ioreq_xen_buf_slot - one slot of the buffered ring
 * @word: type, dir, size and addr (IOREQ_XEN_BUF_*)
 * @data: the low 32 bits of the data (the high ones in the next slot)
 */
struct ioreq_xen_buf_slot {
	u32 word;
	u32 data;
};

/**
 * struct ioreq_xen_buf_page - the buffered ring's page
 * @read_pointer: the server's index, counting from 0 (mod the slots)
 * @write_pointer: Xen's index
 * @slot: the ring
 */
struct ioreq_xen_buf_page {
	u32 read_pointer;
	u32 write_pointer;
	struct ioreq_xen_buf_slot slot[IOREQ_XEN_BUF_SLOTS];
};

/**
 * struct ioreq_xen_shared_page - the synchronous ioreq page
 * @vcpu_ioreq: one slot per vcpu, indexed by vcpu id
 *
 * Xen's shared_iopage declares one slot and indexes past it; the page
 * holds 4096 / 32 = 128.  Xen hands out one such page per server (frame
 * IOREQ_XEN_FRAME_IOREQ(0); other indices fail with EINVAL), so a server
 * serves at most IOREQ_XEN_MAX_VCPUS vcpus.
 */
struct ioreq_xen_shared_page {
	struct ioreq_xen_req vcpu_ioreq[IOREQ_XEN_MAX_VCPUS];
};

static inline void ioreq_xen_abi_check(void)
{
	BUILD_BUG_ON(sizeof(struct ioreq_xen_req) != 32);
	BUILD_BUG_ON(offsetof(struct ioreq_xen_req, vp_eport) != 24);
	BUILD_BUG_ON(offsetof(struct ioreq_xen_req, flags) != 30);
	BUILD_BUG_ON(offsetof(struct ioreq_xen_req, type) != 31);
	BUILD_BUG_ON(sizeof(struct ioreq_xen_shared_page) != 4096);
	BUILD_BUG_ON(sizeof(struct ioreq_xen_buf_slot) != 8);
	BUILD_BUG_ON(offsetof(struct ioreq_xen_buf_page, slot) != 8);
	BUILD_BUG_ON(sizeof(struct ioreq_xen_buf_page) > 4096);
}

/*
 * XENMEM_acquire_resource frames of XENMEM_resource_ioreq_server
 * (xen/include/public/memory.h): frame 0 is the buffered ring, frames
 * 1 + n the synchronous pages, of which Xen serves n = 0 only.
 */
#define IOREQ_XEN_FRAME_BUFIOREQ	0
#define IOREQ_XEN_FRAME_IOREQ(n)	(1 + (n))

/* handle_bufioreq of XEN_DMOP_create_ioreq_server (public/hvm/hvm_op.h) */
#define IOREQ_XEN_BUFIOREQ_OFF		0
#define IOREQ_XEN_BUFIOREQ_ATOMIC	2	/* pointers rebased by cmpxchg */

/* Device-model operations (xen/include/public/hvm/dm_op.h) */
#define IOREQ_XEN_DMOP_CREATE_IOREQ_SERVER	1
#define IOREQ_XEN_DMOP_GET_IOREQ_SERVER_INFO	2
#define IOREQ_XEN_DMOP_MAP_IO_RANGE		3
#define IOREQ_XEN_DMOP_UNMAP_IO_RANGE		4
#define IOREQ_XEN_DMOP_SET_IOREQ_SERVER_STATE	5
#define IOREQ_XEN_DMOP_DESTROY_IOREQ_SERVER	6
#define IOREQ_XEN_DMOP_SET_PCI_INTX_LEVEL	8
#define IOREQ_XEN_DMOP_SET_ISA_IRQ_LEVEL	9
#define IOREQ_XEN_DMOP_INJECT_MSI		14
#define IOREQ_XEN_DMOP_SET_IRQ_LEVEL		19
#define IOREQ_XEN_DMOP_NR_VCPUS			20

/* struct ioreq_xen_dm_range.type */
#define IOREQ_XEN_IO_RANGE_PORT		0
#define IOREQ_XEN_IO_RANGE_MEMORY	1
#define IOREQ_XEN_IO_RANGE_PCI		2

/* get_ioreq_server_info.flags: do not map the pages into the guest */
#define IOREQ_XEN_DMOP_NO_GFNS		1

/**
 * struct ioreq_xen_dm_create - XEN_DMOP_create_ioreq_server
 * @handle_bufioreq: IN: IOREQ_XEN_BUFIOREQ_*
 * @pad: 0
 * @id: OUT: the server id (ioservid_t)
 */
struct ioreq_xen_dm_create {
	u8 handle_bufioreq;
	u8 pad[3];
	u16 id;
};

/**
 * struct ioreq_xen_dm_info - XEN_DMOP_get_ioreq_server_info
 * @id: IN: server id
 * @flags: IN: IOREQ_XEN_DMOP_NO_GFNS
 * @bufioreq_port: OUT: event channel of the buffered ring
 * @ioreq_gfn: OUT: unless NO_GFNS
 * @bufioreq_gfn: OUT: unless NO_GFNS
 */
struct ioreq_xen_dm_info {
	u16 id;
	u16 flags;
	u32 bufioreq_port;
	u64 ioreq_gfn;
	u64 bufioreq_gfn;
};

/**
 * struct ioreq_xen_dm_range - XEN_DMOP_{map,unmap}_io_range_*
 * @id: server id
 * @pad: 0
 * @type: IOREQ_XEN_IO_RANGE_*
 * @start: first byte or port (inclusive)
 * @end: last byte or port (inclusive)
 */
struct ioreq_xen_dm_range {
	u16 id;
	u16 pad;
	u32 type;
	u64 start;
	u64 end;
};

/**
 * struct ioreq_xen_dm_state - XEN_DMOP_set_ioreq_server_state
 * @id: server id
 * @enabled: 1 to enable, 0 to disable
 * @pad: 0
 */
struct ioreq_xen_dm_state {
	u16 id;
	u8 enabled;
	u8 pad;
};

/**
 * struct ioreq_xen_dm_destroy - XEN_DMOP_destroy_ioreq_server
 * @id: server id
 * @pad: 0
 */
struct ioreq_xen_dm_destroy {
	u16 id;
	u16 pad;
};

/**
 * struct ioreq_xen_dm_nr_vcpus - XEN_DMOP_nr_vcpus
 * @vcpus: OUT: vcpu objects of the domain, fixed at its creation
 */
struct ioreq_xen_dm_nr_vcpus {
	u32 vcpus;
};

/**
 * struct ioreq_xen_dm_pci_intx - XEN_DMOP_set_pci_intx_level
 * @domain: PCI segment; Xen takes only 0
 * @bus: PCI bus; Xen takes only 0
 * @device: device number, 0 to 31 (the function plays no part)
 * @intx: 0 for INTA# to 3 for INTD#
 * @level: 1 asserted, 0 deasserted
 */
struct ioreq_xen_dm_pci_intx {
	u16 domain;
	u8 bus;
	u8 device;
	u8 intx;
	u8 level;
};

/**
 * struct ioreq_xen_dm_isa_irq - XEN_DMOP_set_isa_irq_level
 * @isa_irq: 0 to 15
 * @level: 1 asserted, 0 deasserted
 */
struct ioreq_xen_dm_isa_irq {
	u8 isa_irq;
	u8 level;
};

/**
 * struct ioreq_xen_dm_msi - XEN_DMOP_inject_msi
 * @data: the message's data
 * @pad: 0
 * @addr: the message's address (0xfeexxxxx)
 */
struct ioreq_xen_dm_msi {
	u32 data;
	u32 pad;
	u64 addr;
};

/**
 * struct ioreq_xen_dm_irq_level - XEN_DMOP_set_irq_level (Arm only)
 * @irq: the SPI, from 32 to below the number of lines of the domain's vGIC
 * @level: 1 asserted, 0 deasserted
 * @pad: 0
 */
struct ioreq_xen_dm_irq_level {
	u32 irq;
	u8 level;
	u8 pad[3];
};

/**
 * struct ioreq_xen_dm_op - the first (only) buffer of HYPERVISOR_dm_op
 * @op: IOREQ_XEN_DMOP_*
 * @pad: 0
 * @u: the operation's arguments
 *
 * Xen's union has more members.  Xen's dm_op() checks that the buffer
 * holds the header and the operation's own struct and copies just those
 * (its op_size[] table), so a union of the members we use is enough.
 */
struct ioreq_xen_dm_op {
	u32 op;
	u32 pad;
	union {
		struct ioreq_xen_dm_create create;
		struct ioreq_xen_dm_info info;
		struct ioreq_xen_dm_range range;
		struct ioreq_xen_dm_state state;
		struct ioreq_xen_dm_destroy destroy;
		struct ioreq_xen_dm_nr_vcpus nr_vcpus;
		struct ioreq_xen_dm_pci_intx pci_intx;
		struct ioreq_xen_dm_isa_irq isa_irq;
		struct ioreq_xen_dm_msi msi;
		struct ioreq_xen_dm_irq_level irq_level;
	} u;
};

/* The dm_op layouts Xen's op_size[] table expects. */
static inline void ioreq_xen_dm_abi_check(void)
{
	BUILD_BUG_ON(offsetof(struct ioreq_xen_dm_op, u) != 8);
	BUILD_BUG_ON(sizeof(struct ioreq_xen_dm_create) != 6);
	BUILD_BUG_ON(sizeof(struct ioreq_xen_dm_range) != 24);
	BUILD_BUG_ON(sizeof(struct ioreq_xen_dm_pci_intx) != 6);
	BUILD_BUG_ON(sizeof(struct ioreq_xen_dm_isa_irq) != 2);
	BUILD_BUG_ON(sizeof(struct ioreq_xen_dm_msi) != 16);
	BUILD_BUG_ON(sizeof(struct ioreq_xen_dm_irq_level) != 8);
}

#endif /* _IOREQ_XEN_ABI_H */
