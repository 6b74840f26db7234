/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The Xen test double's control device, /dev/ioreq-xen-double: a private
 * interface between ioreq_xen_double.ko and the ioreq selftests, not a
 * uapi.  The process that opens it plays Xen for one guest: it posts
 * requests into the guest's ioreq page as hvm_send_ioreq() does, and
 * takes the answers as hvm_wait_for_io() does (xen/common/ioreq.c).
 *
 * The guest is served by page.c, the Xen provider's protocol code, and
 * registered as IOREQ_PROVIDER_XEN: backends attach to it exactly as they
 * attach to a domain's IOREQ server.  The real Xen provider refuses to
 * load outside a Xen domain and the double is never loaded inside one,
 * so the two never claim the provider id at the same time.
 */
#ifndef _IOREQ_XEN_DOUBLE_H
#define _IOREQ_XEN_DOUBLE_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define IOREQ_XD_DEV		"/dev/ioreq-xen-double"

/*
 * Xen's ioreq_t (xen/include/public/hvm/ioreq.h), written out here for
 * the tests; the module checks at build time that these agree with the
 * provider's abi.h.
 */
#define IOREQ_XD_STATE_NONE		0
#define IOREQ_XD_STATE_READY		1
#define IOREQ_XD_STATE_INPROCESS	2
#define IOREQ_XD_STATE_RESP_READY	3
#define IOREQ_XD_STATE_MASK		0x0f
#define IOREQ_XD_DATA_IS_PTR		0x10
#define IOREQ_XD_DIR_READ		0x20
#define IOREQ_XD_DF			0x40

#define IOREQ_XD_TYPE_PIO		0
#define IOREQ_XD_TYPE_COPY		1
#define IOREQ_XD_TYPE_PCI_CONFIG	2
#define IOREQ_XD_TYPE_TIMEOFFSET	7
#define IOREQ_XD_TYPE_INVALIDATE	8

#define IOREQ_XD_MAX_VCPUS		128
/* The guest's RAM, as far as the double has any: for rep requests. */
#define IOREQ_XD_RAM_BASE		0x100000ULL
#define IOREQ_XD_RAM_SIZE		0x2000ULL
/* Guest ids are domids: below DOMID_FIRST_RESERVED. */
#define IOREQ_XD_MAX_GUEST_ID		0x7fef

/**
 * struct ioreq_xd_slot - one vcpu's slot of the ioreq page, as it is
 * @addr: address, port, or SBDF << 32 | register
 * @data: value, answer, or guest address with IOREQ_XD_DATA_IS_PTR
 * @count: rep count
 * @size: access size
 * @vp_eport: Xen's event channel port of the vcpu
 * @pad0: padding
 * @flags: state (IOREQ_XD_STATE_MASK) and IOREQ_XD_DATA_IS_PTR,
 *	IOREQ_XD_DIR_READ, IOREQ_XD_DF
 * @type: IOREQ_XD_TYPE_*
 */
struct ioreq_xd_slot {
	__aligned_u64 addr;
	__aligned_u64 data;
	__u32 count;
	__u32 size;
	__u32 vp_eport;
	__u16 pad0;
	__u8 flags;
	__u8 type;
};

/**
 * struct ioreq_xd_create - IOREQ_XD_CREATE: make this file's guest
 * @flags: IOREQ_XD_CREATE_COUNT: Xen gives event channels to @nr_vcpus
 *	slots and the double counts them with ioreq_xen_page_count_vcpus(),
 *	as the provider does when XEN_DMOP_nr_vcpus is missing
 * @nr_vcpus: in: 1 to IOREQ_XD_MAX_VCPUS; out: the guest's vcpus
 * @guest_id: in: the id, or 0 for any; out: the id
 */
struct ioreq_xd_create {
	__u32 flags;
	__u32 nr_vcpus;
	__aligned_u64 guest_id;
};

#define IOREQ_XD_CREATE_COUNT	_BITUL(0)

/**
 * struct ioreq_xd_send - IOREQ_XD_SEND: post a request (hvm_send_ioreq())
 * @flags: IOREQ_XD_SEND_NO_EVENT: post only, IOREQ_XD_EVENT delivers the
 *	event; IOREQ_XD_SEND_RAW: take @req's flag bits, @req.vp_eport and
 *	@req.pad0 as they are (the fuzz mode)
 * @vcpu: the vcpu whose slot it goes to; the slot must be NONE
 * @req: the request; its state bits must be 0
 * @taken: out: ioreq_xen_page_event() returned true
 * @state: out: the slot's state after the event
 *
 * Fails with EALREADY if the slot is not NONE (Xen: "bad IO state").
 */
struct ioreq_xd_send {
	__u32 flags;
	__u32 vcpu;
	struct ioreq_xd_slot req;
	__u32 taken;
	__u32 state;
};

#define IOREQ_XD_SEND_NO_EVENT	_BITUL(0)
#define IOREQ_XD_SEND_RAW	_BITUL(1)

/**
 * struct ioreq_xd_event - IOREQ_XD_EVENT: an event on a vcpu's channel
 * @vcpu: the vcpu
 * @taken: out: ioreq_xen_page_event() returned true
 * @before: out: the slot before the event
 * @after: out: the slot after it
 */
struct ioreq_xd_event {
	__u32 vcpu;
	__u32 taken;
	struct ioreq_xd_slot before;
	struct ioreq_xd_slot after;
};

/**
 * struct ioreq_xd_wait - IOREQ_XD_WAIT: wait for the answer
 *	(hvm_wait_for_io())
 * @vcpu: the vcpu that posted a request
 * @timeout_ms: how long to wait
 * @result: out: IOREQ_XD_ANSWERED (taken: data, slot back to NONE),
 *	IOREQ_XD_PENDING (still READY or INPROCESS, or RESP_READY without
 *	a notification yet), IOREQ_XD_VIOLATION (a backwards or unknown
 *	state, or a changed field: real Xen crashes the guest)
 * @state: out: the last state seen (before the double wrote NONE)
 * @notifies: out: notifications of Xen for this request so far
 * @how: out: IOREQ_XD_BY_*, who answered
 * @data: out: the slot's data when it was answered
 */
struct ioreq_xd_wait {
	__u32 vcpu;
	__u32 timeout_ms;
	__u32 result;
	__u32 state;
	__u32 notifies;
	__u32 how;
	__aligned_u64 data;
};

#define IOREQ_XD_ANSWERED	0
#define IOREQ_XD_PENDING	1
#define IOREQ_XD_VIOLATION	2

/* page.c answered in the event handler: no ->complete() was called */
#define IOREQ_XD_BY_EVENT	0
/* ->complete() with IOREQ_DONE: a backend answered */
#define IOREQ_XD_BY_DONE	1
/* ->complete() with IOREQ_ABORTED */
#define IOREQ_XD_BY_ABORTED	2
/* the core completed a write itself (ioeventfd, posted) */
#define IOREQ_XD_BY_HANDLED	3

/**
 * struct ioreq_xd_slot_io - IOREQ_XD_GET_SLOT, IOREQ_XD_SET_SLOT
 * @vcpu: the slot
 * @pad: 0
 * @slot: out (GET) or in (SET, the state stored last, with release)
 *
 * SET_SLOT forgets a request posted with IOREQ_XD_SEND.
 */
struct ioreq_xd_slot_io {
	__u32 vcpu;
	__u32 pad;
	struct ioreq_xd_slot slot;
};

/**
 * struct ioreq_xd_status - IOREQ_XD_STATUS: what the double saw
 * @vcpu: in: a vcpu
 * @notifies: out: notifications for @vcpu since the guest was created
 * @total: out: notifications for all vcpus
 * @violations: out: protocol violations seen (must stay 0)
 * @bad_notifies: out: notifications of a slot that was not RESP_READY
 *	or had no request (must stay 0)
 * @lost: out: kicks that did not fit the log
 * @bad_vcpu: out: the vcpu of the first violation
 * @bad_from: out: the state before it (or the field, see below)
 * @bad_to: out: the state it moved to
 * @pad: out: 0 (ignored in)
 *
 * @pad: 0
 * @foreign_ops: out: dm_ops that named this guest's domid and server id
 *	but came from the server of an earlier domain with that domid (the
 *	provider must never issue one: must stay 0)
 * @ranges: out: ranges mapped in this guest's server, as Xen counts them
 * @buf_bad: out: the provider found the buffered ring's pointers
 *	inconsistent (ioreq_xen_page_drain())
 * @pad2: 0
 * @buf_dropped: out: buffered writes dropped for want of room
 *
 * A changed field other than data and the state shows up with
 * @bad_from = @bad_to = IOREQ_XD_BAD_FIELD.
 */
struct ioreq_xd_status {
	__u32 vcpu;
	__u32 notifies;
	__u32 total;
	__u32 violations;
	__u32 bad_notifies;
	__u32 lost;
	__u32 bad_vcpu;
	__u32 bad_from;
	__u32 bad_to;
	__u32 pad;
	__u32 foreign_ops;
	__u32 ranges;
	__u32 buf_bad;
	__u32 pad2;
	__aligned_u64 buf_dropped;
};

#define IOREQ_XD_BAD_FIELD	0xff

/**
 * struct ioreq_xd_count - IOREQ_XD_COUNT_VCPUS: run
 *	ioreq_xen_page_count_vcpus() on a page whose slots with a bit set
 *	in @ports have a vp_eport
 * @ports: in: bit n of @ports[n / 64] for slot n
 * @count: out: what ioreq_xen_page_count_vcpus() returned
 * @pad: 0
 */
struct ioreq_xd_count {
	__aligned_u64 ports[IOREQ_XD_MAX_VCPUS / 64];
	__u32 count;
	__u32 pad;
};

/**
 * struct ioreq_xd_ram - IOREQ_XD_RAM: read or write the guest's RAM
 * @gpa: guest-physical address, within [IOREQ_XD_RAM_BASE,
 *	IOREQ_XD_RAM_BASE + IOREQ_XD_RAM_SIZE)
 * @buf: user pointer
 * @len: bytes, the range within the RAM
 * @write: 1 to write @buf into the RAM, 0 to read it
 */
struct ioreq_xd_ram {
	__aligned_u64 gpa;
	__aligned_u64 buf;
	__u32 len;
	__u32 write;
};

/**
 * struct ioreq_xd_buf_write - one write for the buffered ring
 * @type: IOREQ_XD_TYPE_PIO or IOREQ_XD_TYPE_COPY
 * @size: 1, 2, 4 or 8 (8 takes two slots)
 * @pad: 0
 * @addr: address or port, below 1 MiB (the slot has 20 bits)
 * @data: the value written
 */
struct ioreq_xd_buf_write {
	__u8 type;
	__u8 size;
	__u16 pad;
	__u32 addr;
	__aligned_u64 data;
};

/**
 * struct ioreq_xd_buf_send - IOREQ_XD_BUF_SEND: post writes to the
 *	buffered ring as Xen's ioreq_send_buffered() does, then deliver the
 *	ring's event (the provider drains it)
 * @flags: IOREQ_XD_BUF_NO_EVENT: post only, a later call delivers
 * @nr: writes at @writes; 0 just delivers the event
 * @writes: user pointer to @nr struct ioreq_xd_buf_write
 * @sent: out: writes that fitted in the ring (Xen sends the rest
 *	synchronously: the test may retry them)
 * @read_pointer: out: the ring's read pointer after the event
 * @write_pointer: out: its write pointer
 * @pad: in: must be 0
 */
struct ioreq_xd_buf_send {
	__u32 flags;
	__u32 nr;
	__aligned_u64 writes;
	__u32 sent;
	__u32 read_pointer;
	__u32 write_pointer;
	__u32 pad;
};

#define IOREQ_XD_BUF_NO_EVENT	_BITUL(0)
#define IOREQ_XD_BUF_SLOTS	511

/**
 * struct ioreq_xd_hostile - IOREQ_XD_HOSTILE: play a hostile Xen
 * @seed: in: the run's random seed (a run of one thread is reproducible)
 * @ops: in: operations to do, at most IOREQ_XD_HOSTILE_MAX_OPS
 * @flags: in: IOREQ_XD_HOSTILE_CHECK: do no operation; wait for the rep
 *	requests in progress, check that every slot is in a state the
 *	provider may leave it in, then make the page and the ring sane
 *	again (all slots NONE, the ring empty) for a well-behaved Xen
 * @mmio_base: in: MMIO addresses around which requests are aimed
 * @pio_base: in: ports likewise
 * @span: in: bytes (ports) from each base the aimed requests cover
 * @events: out: events delivered on the vcpus' channels
 * @taken: out: of them, requests ioreq_xen_page_event() took
 * @scribbles: out: fields overwritten in a slot
 * @ring_ops: out: writes of garbage or of requests to the buffered ring
 * @bad_slots: out: with CHECK, slots left INPROCESS by the provider
 *	(a vcpu Xen would wait for forever) or in a state neither the
 *	provider nor this hostile Xen wrote
 *
 * Each operation picks a vcpu and does one of: post a request with
 * random fields (type, size, count, data_is_ptr, df, direction, state)
 * with or without its event; deliver a spurious event; overwrite one
 * field of the slot (the state included), whoever owns it; take an
 * answer or reset the slot; write random pointers or slot words into the
 * buffered ring, or a valid write, and drain it.  The provider must not
 * crash, hang or warn; the double counts only what it did.
 */
struct ioreq_xd_hostile {
	__aligned_u64 seed;
	__u32 ops;
	__u32 flags;
	__aligned_u64 mmio_base;
	__aligned_u64 pio_base;
	__u32 span;
	__u32 events;
	__u32 taken;
	__u32 scribbles;
	__u32 ring_ops;
	__u32 bad_slots;
};

#define IOREQ_XD_HOSTILE_CHECK		_BITUL(0)
#define IOREQ_XD_HOSTILE_MAX_OPS	4096

/**
 * struct ioreq_xd_kick - one notification of Xen, read() from the device
 * @vcpu: whose event channel was kicked
 * @state: the slot's state when it was
 */
struct ioreq_xd_kick {
	__u32 vcpu;
	__u32 state;
};

#define IOREQ_XD_MAGIC		0xBC
#define IOREQ_XD_CREATE		_IOWR(IOREQ_XD_MAGIC, 0x80, struct ioreq_xd_create)
#define IOREQ_XD_SEND		_IOWR(IOREQ_XD_MAGIC, 0x81, struct ioreq_xd_send)
#define IOREQ_XD_EVENT		_IOWR(IOREQ_XD_MAGIC, 0x82, struct ioreq_xd_event)
#define IOREQ_XD_WAIT		_IOWR(IOREQ_XD_MAGIC, 0x83, struct ioreq_xd_wait)
#define IOREQ_XD_GET_SLOT	_IOWR(IOREQ_XD_MAGIC, 0x84, struct ioreq_xd_slot_io)
#define IOREQ_XD_SET_SLOT	_IOW(IOREQ_XD_MAGIC, 0x85, struct ioreq_xd_slot_io)
#define IOREQ_XD_STATUS		_IOWR(IOREQ_XD_MAGIC, 0x86, struct ioreq_xd_status)
#define IOREQ_XD_COUNT_VCPUS	_IOWR(IOREQ_XD_MAGIC, 0x87, struct ioreq_xd_count)
#define IOREQ_XD_KILL		_IO(IOREQ_XD_MAGIC, 0x88)
#define IOREQ_XD_RAM		_IOW(IOREQ_XD_MAGIC, 0x89, struct ioreq_xd_ram)
#define IOREQ_XD_BUF_SEND	_IOWR(IOREQ_XD_MAGIC, 0x8a, struct ioreq_xd_buf_send)
/*
 * The guest's domain dies (Xen destroys it and its servers; our ends of
 * its channels turn unbound) but the provider has not reaped its server
 * yet: sessions stay attached, and the domid is free for a new
 * IOREQ_XD_CREATE on another file, whose domain's server gets the same
 * server id.  IOREQ_XD_KILL is the reaper.
 */
#define IOREQ_XD_DESTROY	_IO(IOREQ_XD_MAGIC, 0x8b)
#define IOREQ_XD_HOSTILE	_IOWR(IOREQ_XD_MAGIC, 0x8c, struct ioreq_xd_hostile)

#endif /* _IOREQ_XEN_DOUBLE_H */
