/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioreq tracepoints: the life of a request, and the interrupts backends
 * raise.  They appear under /sys/kernel/tracing/events/ioreq/ and are
 * described in Documentation/virt/ioreq/observability.rst.
 *
 * Every event names the guest by its provider's guest id and, where a
 * backend is involved, the session (the number /proc/PID/fdinfo shows
 * for the /dev/ioreq file) and the session's region id.  Events on the
 * request path fire under the guest's lock: their order is the order in
 * which the core saw things happen.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ioreq

#if !defined(_IOREQ_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _IOREQ_TRACE_H

#include <linux/tracepoint.h>

#include "ioreq_drv.h"

#define ioreq_trace_space(space)					\
	__print_symbolic(space,						\
			 { IOREQ_SPACE_MMIO, "mmio" },			\
			 { IOREQ_SPACE_PIO, "pio" },			\
			 { IOREQ_SPACE_PCI_CONFIG, "pci" })

#define ioreq_trace_op(op)						\
	__print_symbolic(op,						\
			 { IOREQ_OP_READ, "read" },			\
			 { IOREQ_OP_WRITE, "write" })

#define ioreq_trace_irq_kind(kind)					\
	__print_symbolic(kind,						\
			 { IOREQ_IRQ_LINE, "line" },			\
			 { IOREQ_IRQ_PCI_INTX, "intx" },		\
			 { IOREQ_IRQ_MSI, "msi" })

/* A vcpu's access that reached a session: the record read() will return. */
TRACE_EVENT(ioreq_dispatch,
	    TP_PROTO(const struct ioreq_guest *guest, const struct ioreq_slot *slot,
		     u32 space, u64 addr),
	    TP_ARGS(guest, slot, space, addr),
	    TP_STRUCT__entry(__field(u64, guest)
			     __field(u64, session)
			     __field(u64, addr)
			     __field(u64, data)
			     __field(u32, id)
			     __field(u32, vcpu)
			     __field(u32, region)
			     __field(u8, space)
			     __field(u8, op)
			     __field(u8, size)),
	    TP_fast_assign(__entry->guest = guest->id;
			   __entry->session = slot->session->id;
			   __entry->addr = addr;
			   __entry->data = slot->cmd.data;
			   __entry->id = slot->cmd.id;
			   __entry->vcpu = IOREQ_CMD_VCPU(slot->cmd.id);
			   __entry->region = slot->range->id;
			   __entry->space = space;
			   __entry->op = slot->cmd.op;
			   __entry->size = slot->cmd.size;),
	    TP_printk("guest=%llu vcpu=%u space=%s addr=0x%llx size=%u op=%s data=0x%llx id=0x%x session=%llu region=%u",
		      __entry->guest, __entry->vcpu, ioreq_trace_space(__entry->space),
		      __entry->addr, __entry->size, ioreq_trace_op(__entry->op),
		      __entry->data, __entry->id, __entry->session, __entry->region)
);

/* An access nobody claims: the provider answers it (all ones, dropped). */
TRACE_EVENT(ioreq_unclaimed,
	    TP_PROTO(const struct ioreq_guest *guest, u32 vcpu, u32 space, u32 op,
		     u32 size, u64 addr),
	    TP_ARGS(guest, vcpu, space, op, size, addr),
	    TP_STRUCT__entry(__field(u64, guest)
			     __field(u64, addr)
			     __field(u32, vcpu)
			     __field(u8, space)
			     __field(u8, op)
			     __field(u8, size)),
	    TP_fast_assign(__entry->guest = guest->id;
			   __entry->addr = addr;
			   __entry->vcpu = vcpu;
			   __entry->space = space;
			   __entry->op = op;
			   __entry->size = size;),
	    TP_printk("guest=%llu vcpu=%u space=%s addr=0x%llx size=%u op=%s",
		      __entry->guest, __entry->vcpu, ioreq_trace_space(__entry->space),
		      __entry->addr, __entry->size, ioreq_trace_op(__entry->op))
);

/*
 * A write that made no record of its own: put in a session's posted fifo,
 * or taken by an ioeventfd.  result is the posted write's (0 or -ENOSPC);
 * an ioeventfd's is always 0 and not printed.
 */
DECLARE_EVENT_CLASS(ioreq_write,
		    TP_PROTO(const struct ioreq_guest *guest,
			     const struct ioreq_range *range, u32 vcpu, u32 size,
			     u64 addr, u64 data, int result),
		    TP_ARGS(guest, range, vcpu, size, addr, data, result),
		    TP_STRUCT__entry(__field(u64, guest)
				     __field(u64, session)
				     __field(u64, addr)
				     __field(u64, data)
				     __field(u32, vcpu)
				     __field(u32, region)
				     __field(int, result)
				     __field(u8, space)
				     __field(u8, size)),
		    TP_fast_assign(__entry->guest = guest->id;
				   __entry->session = range->session->id;
				   __entry->addr = addr;
				   __entry->data = data;
				   __entry->vcpu = vcpu;
				   __entry->region = range->id;
				   __entry->result = result;
				   __entry->space = range->space;
				   __entry->size = size;),
		    TP_printk("guest=%llu vcpu=%u space=%s addr=0x%llx size=%u data=0x%llx session=%llu region=%u result=%d",
			      __entry->guest, __entry->vcpu,
			      ioreq_trace_space(__entry->space), __entry->addr,
			      __entry->size, __entry->data, __entry->session,
			      __entry->region, __entry->result)
);

/*
 * A write put in a session's posted fifo (result 0) or that found it full
 * (-ENOSPC): a vcpu's write then waits for its answer like any other, a
 * hypervisor's gets -EAGAIN.  vcpu 65535 is a write the hypervisor posted.
 */
DEFINE_EVENT(ioreq_write, ioreq_posted,
	     TP_PROTO(const struct ioreq_guest *guest,
		      const struct ioreq_range *range, u32 vcpu, u32 size,
		      u64 addr, u64 data, int result),
	     TP_ARGS(guest, range, vcpu, size, addr, data, result)
);

/* A write an ioeventfd took: its eventfd was signalled, no record made. */
DEFINE_EVENT_PRINT(ioreq_write, ioreq_ioeventfd,
		   TP_PROTO(const struct ioreq_guest *guest,
			    const struct ioreq_range *range, u32 vcpu, u32 size,
			    u64 addr, u64 data, int result),
		   TP_ARGS(guest, range, vcpu, size, addr, data, result),
		   TP_printk("guest=%llu vcpu=%u space=%s addr=0x%llx size=%u data=0x%llx session=%llu region=%u",
			     __entry->guest, __entry->vcpu,
			     ioreq_trace_space(__entry->space), __entry->addr,
			     __entry->size, __entry->data, __entry->session,
			     __entry->region)
);

/* A record handed to a backend's read(). */
TRACE_EVENT(ioreq_deliver,
	    TP_PROTO(const struct ioreq_guest *guest,
		     const struct ioreq_session *session,
		     const struct ioreq_cmd *cmd),
	    TP_ARGS(guest, session, cmd),
	    TP_STRUCT__entry(__field(u64, guest)
			     __field(u64, session)
			     __field(u64, offset)
			     __field(u64, data)
			     __field(u64, user_data)
			     __field(u32, id)
			     __field(u32, vcpu)
			     __field(u16, flags)
			     __field(u8, op)
			     __field(u8, size)),
	    TP_fast_assign(__entry->guest = guest->id;
			   __entry->session = session->id;
			   __entry->offset = cmd->offset;
			   __entry->data = cmd->data;
			   __entry->user_data = cmd->user_data;
			   __entry->id = cmd->id;
			   __entry->vcpu = IOREQ_CMD_VCPU(cmd->id);
			   __entry->flags = cmd->flags;
			   __entry->op = cmd->op;
			   __entry->size = cmd->size;),
	    TP_printk("guest=%llu session=%llu id=0x%x vcpu=%u op=%s size=%u offset=0x%llx data=0x%llx user_data=0x%llx flags=0x%x",
		      __entry->guest, __entry->session, __entry->id, __entry->vcpu,
		      ioreq_trace_op(__entry->op), __entry->size, __entry->offset,
		      __entry->data, __entry->user_data, __entry->flags)
);

/* How a request left its slot: answered, or aborted by the core. */
DECLARE_EVENT_CLASS(ioreq_end,
		    TP_PROTO(const struct ioreq_guest *guest, const struct ioreq_slot *slot,
			     u64 data),
		    TP_ARGS(guest, slot, data),
		    TP_STRUCT__entry(__field(u64, guest)
				     __field(u64, session)
				     __field(u64, data)
				     __field(u32, id)
				     __field(u32, vcpu)
				     __field(u32, region)
				     __field(u8, op)
				     __field(u8, size)),
		    TP_fast_assign(__entry->guest = guest->id;
				   __entry->session = slot->session->id;
				   __entry->data = data;
				   __entry->id = slot->cmd.id;
				   __entry->vcpu = IOREQ_CMD_VCPU(slot->cmd.id);
				   __entry->region = slot->range->id;
				   __entry->op = slot->cmd.op;
				   __entry->size = slot->cmd.size;),
		    TP_printk("guest=%llu vcpu=%u id=0x%x op=%s size=%u data=0x%llx session=%llu region=%u",
			      __entry->guest, __entry->vcpu, __entry->id,
			      ioreq_trace_op(__entry->op), __entry->size, __entry->data,
			      __entry->session, __entry->region)
);

/* A backend's write() answered the request; data is what the vcpu gets. */
DEFINE_EVENT(ioreq_end, ioreq_complete,
	     TP_PROTO(const struct ioreq_guest *guest, const struct ioreq_slot *slot,
		      u64 data),
	     TP_ARGS(guest, slot, data)
);

/* The session closed, the region was released or the guest was killed. */
DEFINE_EVENT(ioreq_end, ioreq_abort,
	     TP_PROTO(const struct ioreq_guest *guest, const struct ioreq_slot *slot,
		      u64 data),
	     TP_ARGS(guest, slot, data)
);

/* A backend's IOREQ_INJECT_IRQ (level) or an irqfd's signal (a pulse). */
DECLARE_EVENT_CLASS(ioreq_irq,
		    TP_PROTO(const struct ioreq_guest *guest,
			     const struct ioreq_session *session,
			     const struct ioreq_irq *irq, u32 level, int result),
		    TP_ARGS(guest, session, irq, level, result),
		    TP_STRUCT__entry(__field(u64, guest)
				     __field(u64, session)
				     __field(u64, msi_addr)
				     __field(u32, kind)
				     __field(u32, line)
				     __field(u32, sbdf)
				     __field(u32, pin)
				     __field(u32, msi_data)
				     __field(u32, level)
				     __field(int, result)),
		    TP_fast_assign(__entry->guest = guest->id;
				   __entry->session = session->id;
				   __entry->msi_addr = irq->msi_addr;
				   __entry->kind = irq->kind;
				   __entry->line = irq->line;
				   __entry->sbdf = irq->sbdf;
				   __entry->pin = irq->pin;
				   __entry->msi_data = irq->msi_data;
				   __entry->level = level;
				   __entry->result = result;),
		    TP_printk("guest=%llu session=%llu kind=%s line=%u sbdf=0x%x pin=%u msi_addr=0x%llx msi_data=0x%x level=%u result=%d",
			      __entry->guest, __entry->session,
			      ioreq_trace_irq_kind(__entry->kind), __entry->line,
			      __entry->sbdf, __entry->pin, __entry->msi_addr,
			      __entry->msi_data, __entry->level, __entry->result)
);

DEFINE_EVENT(ioreq_irq, ioreq_inject,
	     TP_PROTO(const struct ioreq_guest *guest,
		      const struct ioreq_session *session,
		      const struct ioreq_irq *irq, u32 level, int result),
	     TP_ARGS(guest, session, irq, level, result)
);

DEFINE_EVENT(ioreq_irq, ioreq_irqfd,
	     TP_PROTO(const struct ioreq_guest *guest,
		      const struct ioreq_session *session,
		      const struct ioreq_irq *irq, u32 level, int result),
	     TP_ARGS(guest, session, irq, level, result)
);

#endif /* _IOREQ_TRACE_H */

/* This part must be outside the header guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE ioreq_trace
#include <trace/define_trace.h>
