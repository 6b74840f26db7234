// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq Xen provider: one Xen IOREQ server per guest domain.
 *
 * The first session that attaches to a domid brings a server up, in the
 * order QEMU and the Xen-under-QEMU tests use:
 *
 *   XEN_DMOP_nr_vcpus                  how many slots the page has in use
 *   XEN_DMOP_create_ioreq_server       with the buffered ring on x86
 *                                      (HVM_IOREQSRV_BUFIOREQ_ATOMIC)
 *   XENMEM_acquire_resource            frame IOREQ_XEN_FRAME_IOREQ(0) and
 *                                      on x86 IOREQ_XEN_FRAME_BUFIOREQ,
 *                                      mapped into the kernel (below)
 *   XEN_DMOP_set_ioreq_server_state    enable: Xen fills in vp_eport
 *   EVTCHNOP_bind_interdomain          one per vcpu, to its vp_eport, and
 *   bind_evtchn_to_irqhandler_lateeoi  an interrupt handler on our end;
 *                                      the same for the buffered ring's
 *                                      port (get_ioreq_server_info)
 *
 * A request Xen posts between the enable and the bind is not lost:
 * EVTCHNOP_bind_interdomain always sets our new port pending ("We may have
 * lost notifications on the remote unbound port", evtchn_bind_interdomain()
 * in xen/common/event_channel.c), so each handler runs once at bind.
 *
 * Regions that backends claim become XEN_DMOP_map_io_range_to_ioreq_server
 * calls; the requests themselves are page.c's business.
 *
 * Mapping the page.  XENMEM_acquire_resource behaves differently for the
 * two kinds of dom0 (xen/common/memory.c acquire_resource()):
 *
 * - PV (x86, what runs in our QEMU tests): Xen returns the frame's MFN.
 *   We take a page from xen_alloc_unpopulated_pages(), whose direct-map
 *   PTE exists but is not present, and point that PTE at the MFN with
 *   HYPERVISOR_mmu_update() naming the owner of the frame as the foreign
 *   domain and asking for no translation (the owner is usually a PVH or
 *   HVM guest), as privcmd's xen_remap_pfn() does for user mappings of
 *   acquired resources.  Undone
 *   with HYPERVISOR_update_va_mapping() to an empty PTE, flushing the TLB.
 * - Auto-translated (PVH, Arm): we pass the GFN of an unpopulated page
 *   and Xen maps the frame there in our physmap; the page's direct-map
 *   address then reaches it.  Undone with XENMEM_remove_from_physmap.
 *
 * No VMA is involved (privcmd's ioeventfd takes the page from a privcmd
 * VMA's private data, which exists only on auto-translated dom0s).
 *
 * Lifetime.  The xarray of servers holds the provider's reference on each
 * guest; sessions hold their own.  The provider drops its reference, after
 * ioreq_guest_kill(), once Xen no longer knows the server: Xen destroys a
 * domain's servers when it kills the domain, and we check every server
 * when xenstored fires "@releaseDomain" (a domain died) and when a session
 * attaches to a domid that has one (the domid may have been reused).  It
 * also drops it when the module is unloaded.  ->release() then takes the
 * server down.  Until then our mapping holds a reference on the dead
 * domain's ioreq page, so the domain lingers as a zombie: without
 * xenstored (no watch), only the next attach or the unload frees it.
 *
 * Domid reuse.  Meanwhile the domid may pass to a new domain, whose
 * device model may hold a server with our server id.  A server is
 * marked dead once it is reaped, once any dm_op fails with ESRCH, or
 * once our end of vcpu 0's event channel is no longer bound to the
 * domain's port (ioreq_xen_same_domain()); a dead server issues no more
 * dm_op (page.c's ioreq_xen_page_dm_op()).  Claiming or releasing a
 * region and the teardown check first; an interrupt injection relies on
 * the mark alone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/interrupt.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/refcount.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include <xen/events.h>
#include <xen/features.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>
#include <xen/xen-ops.h>
#include <xen/interface/event_channel.h>
#include <xen/interface/memory.h>
#include <xen/interface/hvm/dm_op.h>

#include <asm/xen/hypercall.h>

#include "../compat.h"
#include "ioreq_xen.h"

/**
 * struct ioreq_xen_vcpu - one vcpu's event channel
 * @srv: the server, for the interrupt handler
 * @vcpu: the vcpu's id
 * @irq: our end's interrupt, 0 while unbound
 * @port: our end of the channel, valid while @irq is bound
 * @remote_port: Xen's end, the vcpu's vp_eport when we bound it
 * @rep_work: carries out the vcpu's rep request (ioreq_xen_page_rep())
 */
struct ioreq_xen_vcpu {
	struct ioreq_xen_server *srv;
	u32 vcpu;
	int irq;
	evtchn_port_t port;
	evtchn_port_t remote_port;
	struct work_struct rep_work;
};

/**
 * struct ioreq_xen_server - a guest's IOREQ server (the guest's priv)
 * @iop: the synchronous page and its protocol state
 * @guest: the core's guest
 * @page: the unpopulated page the ioreq frame is mapped at
 * @buf_page: the unpopulated page the buffered ring is mapped at (x86)
 * @buf_irq: our end of the buffered ring's event channel, 0 while unbound
 * @domid: the guest domain (the server id Xen gave us is @iop.id)
 * @enabled: the server is enabled
 * @vcpus: per-vcpu event channels, @iop.nr_vcpus of them in use
 * @rw_lock: serialises the copy interface's use of @rw_page
 * @rw_page: unpopulated page a guest frame is mapped at for a copy, or
 *	NULL until the first copy
 * @kept_lock: serialises changes to @kept
 * @kept: Arm: MMIO ranges released but left mapped (struct ioreq_xen_kept)
 *
 * Apart from @rw_page and @kept, written while the server is brought up and taken
 * down, which happen once each and never concurrently with its interrupt
 * handlers.
 */
struct ioreq_xen_server {
	struct ioreq_xen_page iop;
	struct ioreq_guest *guest;
	struct page *page;
	struct page *buf_page;
	int buf_irq;
	domid_t domid;
	bool enabled;
	struct ioreq_xen_vcpu vcpus[IOREQ_XEN_MAX_VCPUS];
	struct mutex rw_lock;	/* protects @rw_page and what it maps */
	struct page *rw_page;
	struct mutex kept_lock;	/* protects @kept */
	struct list_head kept;
};

/**
 * struct ioreq_xen_kept - an MMIO range released but left mapped (Arm)
 * @node: in the server's @kept list
 * @start: first address
 * @last: last address
 *
 * Xen on x86 answers MMIO no IOREQ server maps with all ones; Xen on Arm
 * injects a data abort.  So on Arm a released MMIO range stays mapped to
 * our server, whose core answers its accesses as unclaimed (all ones), as
 * a guest on x86 sees it, until a claim overlapping it needs the range.
 */
struct ioreq_xen_kept {
	struct list_head node;
	u64 start;
	u64 last;
};

/*
 * Servers by domid.  ioreq_xen_lock makes lookup-and-get atomic against
 * removal and serialises bringing servers up; it protects ioreq_xen_servers.
 */
static DEFINE_MUTEX(ioreq_xen_lock);
static DEFINE_XARRAY(ioreq_xen_servers);

static struct ioreq_provider ioreq_xen_provider;

static int ioreq_xen_dm_op(domid_t domid, struct ioreq_xen_dm_op *op)
{
	struct xen_dm_op_buf buf;

	set_xen_guest_handle(buf.h, op);
	buf.size = sizeof(*op);
	return HYPERVISOR_dm_op(domid, 1, &buf);
}

static int ioreq_xen_nr_vcpus(domid_t domid, u32 *nr_vcpus)
{
	struct ioreq_xen_dm_op op = { .op = IOREQ_XEN_DMOP_NR_VCPUS };
	int ret;

	ret = ioreq_xen_dm_op(domid, &op);
	if (!ret)
		*nr_vcpus = op.u.nr_vcpus.vcpus;
	return ret;
}

/*
 * On x86 with the buffered ring, for the writes Xen posts (its emulated
 * VGA's, in 4.17), pointers rebased atomically; Arm has no such ring.
 */
static int ioreq_xen_create(domid_t domid, u16 *id)
{
	struct ioreq_xen_dm_op op = {
		.op = IOREQ_XEN_DMOP_CREATE_IOREQ_SERVER,
		.u.create.handle_bufioreq = IS_ENABLED(CONFIG_X86) ?
					    IOREQ_XEN_BUFIOREQ_ATOMIC :
					    IOREQ_XEN_BUFIOREQ_OFF,
	};
	int ret;

	ret = ioreq_xen_dm_op(domid, &op);
	if (!ret)
		*id = op.u.create.id;
	return ret;
}

static int ioreq_xen_destroy(struct ioreq_xen_server *srv)
{
	struct ioreq_xen_dm_op op = {
		.op = IOREQ_XEN_DMOP_DESTROY_IOREQ_SERVER,
		.u.destroy.id = srv->iop.id,
	};

	return ioreq_xen_page_dm_op(&srv->iop, &op);
}

static int ioreq_xen_set_state(struct ioreq_xen_server *srv, bool enabled)
{
	struct ioreq_xen_dm_op op = {
		.op = IOREQ_XEN_DMOP_SET_IOREQ_SERVER_STATE,
		.u.state.id = srv->iop.id,
		.u.state.enabled = enabled,
	};

	return ioreq_xen_page_dm_op(&srv->iop, &op);
}

/* The server's buffered-ring event channel (Xen's end), or 0. */
static int ioreq_xen_info(struct ioreq_xen_server *srv, u32 *bufioreq_port)
{
	struct ioreq_xen_dm_op op = {
		.op = IOREQ_XEN_DMOP_GET_IOREQ_SERVER_INFO,
		.u.info.id = srv->iop.id,
		.u.info.flags = IOREQ_XEN_DMOP_NO_GFNS,
	};
	int ret;

	ret = ioreq_xen_page_dm_op(&srv->iop, &op);
	if (!ret && bufioreq_port)
		*bufioreq_port = op.u.info.bufioreq_port;
	return ret;
}

/*
 * Is our server still there, on our domain?  Xen destroys it when the
 * domain dies, and the domid may then be reused: see
 * ioreq_xen_same_domain().
 */
static bool ioreq_xen_alive(struct ioreq_xen_server *srv)
{
	return ioreq_xen_page_alive(&srv->iop);
}

#ifdef CONFIG_XEN_PV
/*
 * Point @page's direct-map PTE at frame @frame owned by @owner: a machine
 * frame, or with @translate one of @owner's guest frames, which Xen looks
 * up in @owner's physmap (and refuses if nothing is there).
 */
static int ioreq_xen_map_pv(struct page *page, xen_pfn_t frame,
			    domid_t owner, bool translate)
{
	unsigned long va = (unsigned long)page_address(page);
	struct mmu_update mu;
	unsigned int level;
	pte_t *ptep;

	ptep = lookup_address(va, &level);
	if (!ptep || level != PG_LEVEL_4K)
		return -EOPNOTSUPP;
	/*
	 * An acquired resource's frame is a machine frame even when @owner
	 * is auto-translated (a PVH or HVM guest): without NO_TRANSLATE Xen
	 * would look it up as one of @owner's guest frames and fail.
	 */
	mu.ptr = arbitrary_virt_to_machine(ptep).maddr |
		 (translate ? MMU_NORMAL_PT_UPDATE : MMU_PT_UPDATE_NO_TRANSLATE);
	mu.val = pte_val_ma(mfn_pte(frame, PAGE_KERNEL));
	return HYPERVISOR_mmu_update(&mu, 1, NULL, owner);
}

static int ioreq_xen_unmap_pv(struct page *page)
{
	unsigned long va = (unsigned long)page_address(page);

	return HYPERVISOR_update_va_mapping(va, __pte_ma(0),
					    UVMF_INVLPG | UVMF_ALL);
}
#else
static int ioreq_xen_map_pv(struct page *page, xen_pfn_t frame,
			    domid_t owner, bool translate)
{
	return -EOPNOTSUPP;
}

static int ioreq_xen_unmap_pv(struct page *page)
{
	return -EOPNOTSUPP;
}
#endif

/* Acquire frame @idx of the server (IOREQ_XEN_FRAME_*), map it at @page. */
static int ioreq_xen_map_frame(struct ioreq_xen_server *srv,
			       struct page *page, unsigned int idx)
{
	bool xlate = xen_feature(XENFEAT_auto_translated_physmap);
	struct xen_mem_acquire_resource xmar = {
		.domid = srv->domid,
		.type = XENMEM_resource_ioreq_server,
		.id = srv->iop.id,
		.nr_frames = 1,
		.frame = idx,
	};
	xen_pfn_t frame = 0;
	int ret;

	/* Auto-translated: IN, where to map it.  PV: OUT, its MFN. */
	if (xlate)
		frame = xen_page_to_gfn(page);
	set_xen_guest_handle(xmar.frame_list, &frame);
	ret = HYPERVISOR_memory_op(XENMEM_acquire_resource, &xmar);
	if (ret) {
		pr_debug("d%u: acquire_resource failed (%d)\n", srv->domid, ret);
		return ret;
	}
	if (!xlate) {
		ret = ioreq_xen_map_pv(page, frame,
				       xmar.flags & XENMEM_rsrc_acq_caller_owned ?
				       DOMID_SELF : srv->domid, false);
		if (ret) {
			pr_debug("d%u: mapping mfn %#llx failed (%d)\n",
				 srv->domid, (unsigned long long)frame, ret);
			return ret;
		}
	}
	return 0;
}

/* Undo ioreq_xen_map_page() or ioreq_xen_map_gfn() on @page. */
static int ioreq_xen_unmap_frame(struct page *page)
{
	struct xen_remove_from_physmap xrfp = { .domid = DOMID_SELF };

	if (!xen_feature(XENFEAT_auto_translated_physmap))
		return ioreq_xen_unmap_pv(page);
	xrfp.gpfn = xen_page_to_gfn(page);
	return HYPERVISOR_memory_op(XENMEM_remove_from_physmap, &xrfp);
}

/* Unmap and free a page that ioreq_xen_map_frame() may have mapped. */
static void ioreq_xen_put_frame(struct ioreq_xen_server *srv,
				struct page **page, bool mapped)
{
	int ret;

	if (!*page)
		return;
	ret = mapped ? ioreq_xen_unmap_frame(*page) : 0;
	if (ret)
		/* Never reuse a page that may still map Xen's frame. */
		pr_warn("d%u: cannot unmap a page of the server (%d): leaking it\n",
			srv->domid, ret);
	else
		xen_free_unpopulated_pages(1, page);
	*page = NULL;
}

/*
 * Map the synchronous page and, if the server has one, the buffered ring,
 * each at an unpopulated page of its own.
 */
static int ioreq_xen_map_pages(struct ioreq_xen_server *srv)
{
	int ret;

	ret = xen_alloc_unpopulated_pages(1, &srv->page);
	if (ret) {
		srv->page = NULL;
		return ret;
	}
	ret = ioreq_xen_map_frame(srv, srv->page, IOREQ_XEN_FRAME_IOREQ(0));
	if (ret) {
		pr_debug("d%u: mapping the ioreq page failed (%d)\n",
			 srv->domid, ret);
		return ret;
	}
	srv->iop.shared = page_address(srv->page);
	if (!IS_ENABLED(CONFIG_X86))
		return 0;
	ret = xen_alloc_unpopulated_pages(1, &srv->buf_page);
	if (ret) {
		srv->buf_page = NULL;
		return ret;
	}
	ret = ioreq_xen_map_frame(srv, srv->buf_page, IOREQ_XEN_FRAME_BUFIOREQ);
	if (ret) {
		pr_debug("d%u: mapping the buffered ring failed (%d)\n",
			 srv->domid, ret);
		return ret;
	}
	srv->iop.buf = page_address(srv->buf_page);
	return 0;
}

/* The buffered ring's event: Xen posted writes. */
static irqreturn_t ioreq_xen_buf_interrupt(int irq, void *dev_id)
{
	struct ioreq_xen_server *srv = dev_id;

	ioreq_xen_page_drain(&srv->iop);
	xen_irq_lateeoi(irq, 0);
	return IRQ_HANDLED;
}

static irqreturn_t ioreq_xen_interrupt(int irq, void *dev_id)
{
	struct ioreq_xen_vcpu *xv = dev_id;
	bool taken;

	taken = ioreq_xen_page_event(&xv->srv->iop, xv->vcpu);
	xen_irq_lateeoi(irq, taken ? 0 : XEN_EOI_FLAG_SPURIOUS);
	return IRQ_HANDLED;
}

static void ioreq_xen_notify(struct ioreq_xen_page *iop, u32 vcpu)
{
	struct ioreq_xen_server *srv =
		container_of(iop, struct ioreq_xen_server, iop);

	/* Unbound only before the first event and after the last one. */
	if (srv->vcpus[vcpu].irq)
		notify_remote_via_irq(srv->vcpus[vcpu].irq);
}

static void ioreq_xen_rep_work(struct work_struct *work)
{
	struct ioreq_xen_vcpu *xv = container_of(work, struct ioreq_xen_vcpu,
						 rep_work);

	ioreq_xen_page_rep(&xv->srv->iop, xv->vcpu);
}

/*
 * A run of the rep's state machine (page.c) never waits for a backend,
 * only for the guest buffer's mapping: the unbound workqueue, as its
 * runs follow the vcpu's answers rather than any CPU.
 */
static void ioreq_xen_queue_rep(struct ioreq_xen_page *iop, u32 vcpu)
{
	struct ioreq_xen_server *srv =
		container_of(iop, struct ioreq_xen_server, iop);

	queue_work(system_unbound_wq, &srv->vcpus[vcpu].rep_work);
}

static int ioreq_xen_page_guest_rw(struct ioreq_xen_page *iop, u64 gpa,
				   void *buf, size_t len, bool write);

/* The server's dm_ops: page.c's ioreq_xen_page_dm_op() checks @dead. */
static int ioreq_xen_srv_dm_op(struct ioreq_xen_page *iop,
			       struct ioreq_xen_dm_op *op)
{
	struct ioreq_xen_server *srv =
		container_of(iop, struct ioreq_xen_server, iop);

	return ioreq_xen_dm_op(srv->domid, op);
}

/*
 * Is the domain behind our domid still the one we bound to?  Our end of
 * vcpu 0's channel says: while the domain lives it is interdomain to
 * (domid, the vp_eport we bound), and when the domain dies Xen closes its
 * end and turns ours unbound (evtchn_close() in
 * xen/common/event_channel.c), which a new domain with the same domid
 * cannot undo.  XEN_DMOP_get_ioreq_server_info cannot tell the two apart:
 * the new domain's device model may hold a server with our id.  Before
 * vcpu 0 is bound the bring-up has just found the domain, so yes.
 */
static bool ioreq_xen_same_domain(struct ioreq_xen_page *iop)
{
	struct ioreq_xen_server *srv =
		container_of(iop, struct ioreq_xen_server, iop);
	struct ioreq_xen_vcpu *xv = &srv->vcpus[0];
	struct evtchn_status status = {
		.dom = DOMID_SELF,
		.port = xv->port,
	};

	if (!xv->irq)
		return true;
	if (HYPERVISOR_event_channel_op(EVTCHNOP_status, &status))
		return false;
	return status.status == EVTCHNSTAT_interdomain &&
	       status.u.interdomain.dom == srv->domid &&
	       status.u.interdomain.port == xv->remote_port;
}

static const struct ioreq_xen_page_ops ioreq_xen_page_ops = {
	.notify = ioreq_xen_notify,
	.dm_op = ioreq_xen_srv_dm_op,
	.same_domain = ioreq_xen_same_domain,
	.queue_rep = ioreq_xen_queue_rep,
	.guest_rw = ioreq_xen_page_guest_rw,
};

/*
 * Close @port if it is still our end of a channel to @remote_port:
 * bind_evtchn_to_irqhandler_lateeoi() closes it on some failures and not
 * on others, and a closed port may be reused at once.
 */
static void ioreq_xen_close_port(domid_t domid, evtchn_port_t port,
				 evtchn_port_t remote_port)
{
	struct evtchn_status status = { .dom = DOMID_SELF, .port = port };
	struct evtchn_close close = { .port = port };

	if (HYPERVISOR_event_channel_op(EVTCHNOP_status, &status))
		return;
	if (status.status != EVTCHNSTAT_interdomain ||
	    status.u.interdomain.dom != domid ||
	    status.u.interdomain.port != remote_port)
		return;
	HYPERVISOR_event_channel_op(EVTCHNOP_close, &close);
}

/*
 * Bind a local port to Xen's @remote_port of the guest's and a lateeoi
 * handler to it; our end in *@local.  Return: the irq, or a negative
 * errno.
 */
static int ioreq_xen_bind_port(struct ioreq_xen_server *srv, u32 remote_port,
			       irq_handler_t handler, const char *name,
			       void *dev_id, evtchn_port_t *local)
{
	struct evtchn_bind_interdomain bind = {
		.remote_dom = srv->domid,
		.remote_port = remote_port,
	};
	int ret;

	if (!remote_port)
		return -EIO;
	ret = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &bind);
	if (ret)
		return ret;
	ret = bind_evtchn_to_irqhandler_lateeoi(bind.local_port, handler, 0,
						name, dev_id);
	if (ret < 0)
		ioreq_xen_close_port(srv->domid, bind.local_port, remote_port);
	else
		*local = bind.local_port;
	return ret;
}

static int ioreq_xen_bind_vcpu(struct ioreq_xen_server *srv, u32 vcpu)
{
	struct ioreq_xen_vcpu *xv = &srv->vcpus[vcpu];
	int ret;

	xv->remote_port = READ_ONCE(srv->iop.shared->vcpu_ioreq[vcpu].vp_eport);
	ret = ioreq_xen_bind_port(srv, xv->remote_port, ioreq_xen_interrupt,
				  "ioreq_xen", xv, &xv->port);
	if (ret < 0)
		return ret;
	xv->irq = ret;
	return 0;
}

/* Bind the buffered ring's event channel, if the server has the ring. */
static int ioreq_xen_bind_buf(struct ioreq_xen_server *srv)
{
	evtchn_port_t local;
	u32 port = 0;
	int ret;

	if (!srv->iop.buf)
		return 0;
	ret = ioreq_xen_info(srv, &port);
	if (ret)
		return ret;
	ret = ioreq_xen_bind_port(srv, port, ioreq_xen_buf_interrupt,
				  "ioreq_xen-buf", srv, &local);
	if (ret < 0)
		return ret;
	srv->buf_irq = ret;
	return 0;
}

/*
 * Take the server down, from whatever point its bring-up reached.  No
 * session is attached any more; a request still posted is answered with
 * all ones so that no vcpu stays blocked on a server that is going away.
 */
static void ioreq_xen_teardown(struct ioreq_xen_server *srv)
{
	u32 i;
	int ret;

	/*
	 * Once the domain is gone, its domid and our server id may be
	 * another's: the dm_ops below are then not issued (page.c).
	 */
	if (!ioreq_xen_alive(srv))
		pr_debug("d%u: the domain is gone: server %u needs no dm_op\n",
			 srv->domid, srv->iop.id);
	if (srv->enabled) {
		ret = ioreq_xen_set_state(srv, false);
		if (ret)
			pr_debug("d%u: disabling server %u failed (%d)\n",
				 srv->domid, srv->iop.id, ret);
		srv->enabled = false;
	}
	for (i = 0; i < srv->iop.nr_vcpus; i++) {
		struct ioreq_xen_vcpu *xv = &srv->vcpus[i];

		if (!xv->irq)
			continue;
		/* Wait for the handler, then answer what it has not taken. */
		disable_irq(xv->irq);
		if (srv->iop.guest)
			ioreq_xen_page_event(&srv->iop, i);
		/* No session is left: a rep runs to its end on its own. */
		flush_work(&xv->rep_work);
		unbind_from_irqhandler(xv->irq, xv);
		xv->irq = 0;
	}
	if (srv->buf_irq) {
		/* Writes still in the ring go with the server. */
		unbind_from_irqhandler(srv->buf_irq, srv);
		srv->buf_irq = 0;
	}
	ioreq_xen_put_frame(srv, &srv->buf_page, srv->iop.buf);
	srv->iop.buf = NULL;
	ioreq_xen_put_frame(srv, &srv->page, srv->iop.shared);
	srv->iop.shared = NULL;
	if (srv->rw_page)
		xen_free_unpopulated_pages(1, &srv->rw_page);
	ret = ioreq_xen_destroy(srv);
	if (ret)
		pr_debug("d%u: destroying server %u failed (%d)\n",
			 srv->domid, srv->iop.id, ret);
}

/* Bring up a server for @domid and a core guest for it.  Lock held. */
static struct ioreq_xen_server *ioreq_xen_start(domid_t domid)
	__must_hold(&ioreq_xen_lock)
{
	struct ioreq_xen_server *srv;
	struct ioreq_guest *guest;
	u32 nr_vcpus = 0;
	u32 i;
	int ret;

	lockdep_assert_held(&ioreq_xen_lock);
	ret = ioreq_xen_nr_vcpus(domid, &nr_vcpus);
	pr_debug("d%u: nr_vcpus: %d, %u vcpus\n", domid, ret, nr_vcpus);
	if (ret == -ESRCH)
		return ERR_PTR(-ESRCH);
	/* An older Xen lacks it: count the slots once enabled. */
	if (ret && ret != -EOPNOTSUPP)
		return ERR_PTR(ret);
	if (nr_vcpus > IOREQ_XEN_MAX_VCPUS) {
		pr_debug("d%u: %u vcpus, one ioreq page serves %lu\n",
			 domid, nr_vcpus, (unsigned long)IOREQ_XEN_MAX_VCPUS);
		return ERR_PTR(-EOPNOTSUPP);
	}

	srv = kvzalloc(sizeof(*srv), GFP_KERNEL_ACCOUNT);
	if (!srv)
		return ERR_PTR(-ENOMEM);
	srv->domid = domid;
	srv->iop.ops = &ioreq_xen_page_ops;
	ioreq_xen_page_init(&srv->iop);
	mutex_init(&srv->rw_lock);
	mutex_init(&srv->kept_lock);
	INIT_LIST_HEAD(&srv->kept);
	for (i = 0; i < IOREQ_XEN_MAX_VCPUS; i++) {
		srv->vcpus[i].srv = srv;
		srv->vcpus[i].vcpu = i;
		INIT_WORK(&srv->vcpus[i].rep_work, ioreq_xen_rep_work);
	}

	ret = ioreq_xen_create(domid, &srv->iop.id);
	if (ret) {
		pr_debug("d%u: create_ioreq_server failed (%d)\n", domid, ret);
		goto err_free;
	}
	ret = ioreq_xen_map_pages(srv);
	if (ret)
		goto err_unmap;
	ret = ioreq_xen_set_state(srv, true);
	if (ret) {
		pr_debug("d%u: enabling the server failed (%d)\n", domid, ret);
		goto err_unmap;
	}
	srv->enabled = true;

	if (!nr_vcpus)
		nr_vcpus = ioreq_xen_page_count_vcpus(&srv->iop);
	guest = ioreq_guest_create(&ioreq_xen_provider, domid, nr_vcpus, srv);
	if (IS_ERR(guest)) {
		ret = PTR_ERR(guest);
		goto err_disable;
	}
	srv->guest = guest;
	srv->iop.guest = guest;
	srv->iop.nr_vcpus = nr_vcpus;

	for (i = 0; i < nr_vcpus; i++) {
		ret = ioreq_xen_bind_vcpu(srv, i);
		if (ret) {
			pr_debug("d%u: binding vcpu %u's event channel failed (%d)\n",
				 domid, i, ret);
			/* ->release() takes down the rest. */
			goto err_put_guest;
		}
	}
	ret = ioreq_xen_bind_buf(srv);
	if (ret) {
		pr_debug("d%u: binding the buffered ring's event channel failed (%d)\n",
			 domid, ret);
		goto err_put_guest;
	}
	return srv;

err_put_guest:
	ioreq_guest_kill(guest);
	ioreq_guest_put(guest);
	return ERR_PTR(ret);
err_disable:
	ioreq_xen_set_state(srv, false);
err_unmap:
	ioreq_xen_put_frame(srv, &srv->buf_page, srv->iop.buf);
	ioreq_xen_put_frame(srv, &srv->page, srv->iop.shared);
	ioreq_xen_destroy(srv);
err_free:
	kvfree(srv);
	return ERR_PTR(ret);
}

/* Forget @srv and drop the provider's reference on its guest. */
static void ioreq_xen_stop(struct ioreq_xen_server *srv)
{
	ioreq_guest_kill(srv->guest);
	ioreq_guest_put(srv->guest);
}

static struct ioreq_guest *ioreq_xen_get_guest(u64 guest_id)
{
	struct ioreq_xen_server *srv, *stale = NULL;
	struct ioreq_guest *guest;
	int ret;

	if (guest_id >= DOMID_FIRST_RESERVED)
		return ERR_PTR(-ESRCH);

	mutex_lock(&ioreq_xen_lock);
	srv = xa_load(&ioreq_xen_servers, guest_id);
	if (srv && !ioreq_xen_alive(srv)) {
		xa_erase(&ioreq_xen_servers, guest_id);
		stale = srv;
		srv = NULL;
	}
	if (!srv) {
		srv = ioreq_xen_start(guest_id);
		if (IS_ERR(srv)) {
			guest = ERR_CAST(srv);
			goto out_unlock;
		}
		ret = xa_err(xa_store(&ioreq_xen_servers, guest_id, srv,
				      GFP_KERNEL_ACCOUNT));
		if (ret) {
			ioreq_xen_stop(srv);
			guest = ERR_PTR(ret);
			goto out_unlock;
		}
	}
	/* The session's reference; the xarray keeps the provider's. */
	ioreq_guest_get(srv->guest);
	guest = srv->guest;
out_unlock:
	mutex_unlock(&ioreq_xen_lock);
	if (stale)
		ioreq_xen_stop(stale);
	return guest;
}

/* Drop the servers whose domain died.  Lock held. */
static void ioreq_xen_reap_locked(void)
	__must_hold(&ioreq_xen_lock)
{
	struct ioreq_xen_server *srv;
	unsigned long domid;

	lockdep_assert_held(&ioreq_xen_lock);
	xa_for_each(&ioreq_xen_servers, domid, srv) {
		if (ioreq_xen_alive(srv))
			continue;
		xa_erase(&ioreq_xen_servers, domid);
		ioreq_xen_stop(srv);
	}
}

/* xenstored fired @releaseDomain: some domain died.  xenwatch thread. */
static void ioreq_xen_domain_released(struct xenbus_watch *watch,
				      const char *path, const char *token)
{
	mutex_lock(&ioreq_xen_lock);
	ioreq_xen_reap_locked();
	mutex_unlock(&ioreq_xen_lock);
}

static struct xenbus_watch ioreq_xen_release_watch = {
	.node = "@releaseDomain",
	.callback = ioreq_xen_domain_released,
};

/*
 * The watch is registered; written by the xenstore notifier, read by the
 * module's exit after unregister_xenstore_notifier(), whose rwsem orders
 * the two.
 */
static bool ioreq_xen_watching;

static int ioreq_xen_xenstore_ready(struct notifier_block *nb,
				    unsigned long event, void *data)
{
	int ret;

	ret = register_xenbus_watch(&ioreq_xen_release_watch);
	if (ret)
		pr_warn("cannot watch @releaseDomain (%d): dead domains linger until the next attach\n",
			ret);
	else
		ioreq_xen_watching = true;
	return NOTIFY_DONE;
}

static struct notifier_block ioreq_xen_xenstore_nb = {
	.notifier_call = ioreq_xen_xenstore_ready,
};

/*
 * A region becomes one range of Xen's (ioreq_xen_page_range()).  Xen's
 * ranges do not overlap within one server: two regions in one PCI
 * function fail the second claim with EEXIST.
 */
static int ioreq_xen_range_op(struct ioreq_guest *guest, u32 dmop,
			      u32 space, u64 start, u64 last)
{
	struct ioreq_xen_server *srv = ioreq_guest_priv(guest);

	return ioreq_xen_page_range(&srv->iop, dmop, space, start, last);
}

/*
 * Arm: give back to Xen the kept ranges that overlap [@start, @last], so
 * that it can be mapped anew.  Called with @kept_lock held.
 */
static void ioreq_xen_unkeep(struct ioreq_guest *guest, u64 start, u64 last)
{
	struct ioreq_xen_server *srv = ioreq_guest_priv(guest);
	struct ioreq_xen_kept *k, *tmp;

	lockdep_assert_held(&srv->kept_lock);
	list_for_each_entry_safe(k, tmp, &srv->kept, node) {
		if (k->last < start || k->start > last)
			continue;
		ioreq_xen_range_op(guest, IOREQ_XEN_DMOP_UNMAP_IO_RANGE,
				   IOREQ_SPACE_MMIO, k->start, k->last);
		list_del(&k->node);
		kfree(k);
	}
}

static void ioreq_xen_kept_free(struct ioreq_xen_server *srv)
{
	struct ioreq_xen_kept *k, *tmp;

	/* The server's destruction dropped Xen's side of them. */
	list_for_each_entry_safe(k, tmp, &srv->kept, node)
		kfree(k);
	INIT_LIST_HEAD(&srv->kept);
}

static int ioreq_xen_map_range(struct ioreq_guest *guest, u32 space,
			       u64 start, u64 last)
{
	struct ioreq_xen_server *srv = ioreq_guest_priv(guest);
	int ret;

	if (!IS_ENABLED(CONFIG_X86) && space == IOREQ_SPACE_MMIO) {
		mutex_lock(&srv->kept_lock);
		ioreq_xen_unkeep(guest, start, last);
		mutex_unlock(&srv->kept_lock);
	}
	ret = ioreq_xen_range_op(guest, IOREQ_XEN_DMOP_MAP_IO_RANGE, space,
				 start, last);
	if (ret)
		pr_debug("d%llu: mapping %u:[%#llx, %#llx] failed (%d)\n",
			 ioreq_guest_id(guest), space, start, last, ret);
	return ret;
}

static void ioreq_xen_unmap_range(struct ioreq_guest *guest, u32 space,
				  u64 start, u64 last)
{
	struct ioreq_xen_server *srv = ioreq_guest_priv(guest);
	struct ioreq_xen_kept *k;
	int ret;

	/*
	 * Arm: keep it mapped (struct ioreq_xen_kept).  If the record cannot
	 * be allocated, unmap as on x86: the guest then takes an abort.
	 */
	if (!IS_ENABLED(CONFIG_X86) && space == IOREQ_SPACE_MMIO) {
		k = kmalloc(sizeof(*k), GFP_KERNEL);
		if (k) {
			k->start = start;
			k->last = last;
			mutex_lock(&srv->kept_lock);
			list_add(&k->node, &srv->kept);
			mutex_unlock(&srv->kept_lock);
			return;
		}
	}
	/* Not issued (ESRCH) once the domain and its server died. */
	ret = ioreq_xen_range_op(guest, IOREQ_XEN_DMOP_UNMAP_IO_RANGE, space,
				 start, last);
	if (ret)
		pr_debug("d%llu: unmapping %u:[%#llx, %#llx] failed (%d)\n",
			 ioreq_guest_id(guest), space, start, last, ret);
}

static void ioreq_xen_complete(struct ioreq_guest *guest, u32 vcpu, u64 data,
			       enum ioreq_status status)
{
	struct ioreq_xen_server *srv = ioreq_guest_priv(guest);

	ioreq_xen_page_complete(&srv->iop, vcpu, data, status);
}

/*
 * Interrupts.  Xen on x86 takes an ISA IRQ (0-15, .nr_irq_lines: the
 * emulated PIC and IO-APIC of an HVM guest), a PCI INTx of a device on
 * segment 0, bus 0, or an MSI.  Xen on Arm takes only a line of the
 * guest's vGIC, an SPI (XEN_DMOP_set_irq_level): from 32
 * (.min_irq_line: SGIs and PPIs are per vcpu, the core refuses them) to
 * below the number of lines the domain's vGIC has.  Each is one dm_op,
 * which never sleeps, so an irqfd calls this straight from its eventfd's
 * wakeup, as privcmd's irqfd does.  What Xen refuses (-EINVAL: an IRQ
 * above 15 on x86 or beyond the vGIC's lines on Arm, another bus) comes
 * back as it is.
 */
static int ioreq_xen_inject_irq(struct ioreq_guest *guest,
				const struct ioreq_irq *irq, u32 level)
{
	struct ioreq_xen_server *srv = ioreq_guest_priv(guest);
	struct ioreq_xen_dm_op op = { };

	switch (irq->kind) {
	case IOREQ_IRQ_LINE:
		if (!IS_ENABLED(CONFIG_X86)) {
			op.op = IOREQ_XEN_DMOP_SET_IRQ_LEVEL;
			op.u.irq_level.irq = irq->line;
			op.u.irq_level.level = level;
			break;
		}
		op.op = IOREQ_XEN_DMOP_SET_ISA_IRQ_LEVEL;
		op.u.isa_irq.isa_irq = irq->line;
		op.u.isa_irq.level = level;
		break;
	case IOREQ_IRQ_PCI_INTX:
		op.op = IOREQ_XEN_DMOP_SET_PCI_INTX_LEVEL;
		op.u.pci_intx.domain = irq->sbdf >> 16;
		op.u.pci_intx.bus = (irq->sbdf >> 8) & 0xff;
		op.u.pci_intx.device = (irq->sbdf >> 3) & 0x1f;
		op.u.pci_intx.intx = irq->pin;
		op.u.pci_intx.level = level;
		break;
	case IOREQ_IRQ_MSI:
		op.op = IOREQ_XEN_DMOP_INJECT_MSI;
		op.u.msi.data = irq->msi_data;
		op.u.msi.addr = irq->msi_addr;
		break;
	default:
		return -EOPNOTSUPP;
	}
	/*
	 * Only the dead mark is checked here, no status of a port: an irqfd
	 * calls this for every interrupt.  The mark is set by the reaper
	 * (@releaseDomain) and by the first dm_op that finds no domain.
	 */
	return ioreq_xen_page_dm_op(&srv->iop, &op);
}

/*
 * Guest memory.  A backend's mmap() gets foreign mappings of the guest's
 * frames by guest frame number, as privcmd's IOCTL_PRIVCMD_MMAPBATCH_V2
 * makes them: xen_remap_domain_gfn_array() writes the user PTEs with
 * the guest as the foreign domain on a PV dom0, and on an auto-translated
 * one maps each frame at an unpopulated page of ours first.  Xen refuses
 * a frame the guest does not have (a hole, a ballooned page, beyond its
 * memory), and the mmap() then fails with ENXIO.  A mapping holds a
 * reference on the guest's pages: a guest that dies while one lives stays
 * a zombie until it is unmapped.
 *
 * Units: the file offset and the vma are in Linux pages, Xen frames are
 * XEN_PAGE_SIZE (4 KiB).  With 64 KiB pages (arm64) one page covers
 * XEN_PFN_PER_PAGE consecutive guest frames: the mapping asks Xen for
 * len >> XEN_PAGE_SHIFT frames starting at frame pgoff <<
 * (PAGE_SHIFT - XEN_PAGE_SHIFT), placed at vma_pages() unpopulated pages.
 *
 * The vma is one piece, whatever the dom0: the PTEs, and on an
 * auto-translated dom0 the physmap entries behind them, must go away
 * together, and nothing else may ever see them.
 *
 * - Split (partial munmap(), mprotect(), a shrinking mremap()): refused
 *   by ->may_split with EINVAL.
 * - Grow (mremap() to a larger size, also the old_len 0 "duplicate"):
 *   refused by the mm with EFAULT (VM_DONTEXPAND | VM_PFNMAP).
 * - Move (mremap() with MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP):
 *   must be refused before the mm touches a PTE.  move_page_tables()
 *   would move the PTEs and only then ask ->mremap: on a PV dom0 Xen
 *   refuses to write a foreign PTE that is not made by an mmu_update
 *   naming the foreign domain (a WARN in xen_mc_flush() and a mapping
 *   lost), and on an auto-translated one the copy of the vma shares
 *   vm_private_data with its source, freed by the first ->close.  The
 *   only hook that runs earlier is the file's ->get_unmapped_area, which
 *   mremap() calls for every move: ioreq_xen_mmap() therefore gives the
 *   vma a file of its own (an anonymous inode, as dma-buf moves a vma to
 *   its buffer's file), whose ->get_unmapped_area says EINVAL.  The file
 *   also keeps this module in memory for as long as the vma's ops are
 *   ours.  DONTUNMAP is refused by the mm first (EINVAL).  ->mremap and
 *   a reference count taken by ->open stay as a second line: should a
 *   copy of the vma ever be made, the frames go with the last of them.
 * - fork(): VM_DONTCOPY, so the child does not inherit the vma, and
 *   madvise(MADV_DOFORK) is refused with EINVAL because of VM_IO.
 *
 * The copy interface maps one guest frame at a time at the server's
 * @rw_page, the way the ioreq page is mapped (by gfn instead of machine
 * frame), copies, and unmaps it.
 */

/**
 * struct ioreq_xen_vma - a mapping of guest frames (vm_private_data)
 * @ref: vmas sharing it (->open, ->close)
 * @nr_gfns: guest frames mapped, XEN_PAGE_SIZE each
 * @nr_pages: entries of @pages, PAGE_SIZE each
 * @pages: on an auto-translated dom0 the unpopulated pages the frames are
 *	mapped at; none on a PV dom0 (@nr_pages 0)
 */
struct ioreq_xen_vma {
	refcount_t ref;
	unsigned long nr_gfns;
	unsigned long nr_pages;
	struct page *pages[];
};

static void ioreq_xen_vma_free(struct vm_area_struct *vma,
			       struct ioreq_xen_vma *xvma)
{
	if (xvma->nr_pages) {
		if (xen_unmap_domain_gfn_range(vma, xvma->nr_gfns,
					       xvma->pages))
			/* Never give back pages that may map guest frames. */
			pr_warn("cannot unmap %lu guest frames: leaking them\n",
				xvma->nr_gfns);
		else
			xen_free_unpopulated_pages(xvma->nr_pages,
						   xvma->pages);
	}
	kvfree(xvma);
}

static void ioreq_xen_vma_open(struct vm_area_struct *vma)
{
	struct ioreq_xen_vma *xvma = vma->vm_private_data;

	refcount_inc(&xvma->ref);
}

/*
 * The last vma of a mapping is gone, and with it every PTE of the
 * mapping (the mm zaps them before ->close): only now may the physmap
 * entries and the pages behind them go.
 */
static void ioreq_xen_vma_close(struct vm_area_struct *vma)
{
	struct ioreq_xen_vma *xvma = vma->vm_private_data;

	if (refcount_dec_and_test(&xvma->ref))
		ioreq_xen_vma_free(vma, xvma);
}

/* One piece: see above. */
static int ioreq_xen_vma_may_split(struct vm_area_struct *vma,
				   unsigned long addr)
{
	return -EINVAL;
}

/* Refused earlier by ioreq_xen_mem_get_unmapped_area(); should it not be. */
static int ioreq_xen_vma_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

/* Every page is mapped at mmap() time; nothing is there to fault in. */
static vm_fault_t ioreq_xen_vma_fault(struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static const struct vm_operations_struct ioreq_xen_vm_ops = {
	.open = ioreq_xen_vma_open,
	.close = ioreq_xen_vma_close,
	.may_split = ioreq_xen_vma_may_split,
	.mremap = ioreq_xen_vma_mremap,
	.fault = ioreq_xen_vma_fault,
};

/* mremap() asks for a place to move the vma to: there is none. */
static unsigned long
ioreq_xen_mem_get_unmapped_area(struct file *file, unsigned long addr,
				unsigned long len, unsigned long pgoff,
				unsigned long flags)
{
	return -EINVAL;
}

/* The file of every mapping: only the mm ever sees it. */
static const struct file_operations ioreq_xen_mem_fops = {
	.owner = THIS_MODULE,
	.get_unmapped_area = ioreq_xen_mem_get_unmapped_area,
	.llseek = noop_llseek,
};

static int ioreq_xen_mmap(struct ioreq_guest *guest,
			  struct vm_area_struct *vma)
{
	struct ioreq_xen_server *srv = ioreq_guest_priv(guest);
	bool xlate = xen_feature(XENFEAT_auto_translated_physmap);
	unsigned long i, nr_gfns, nr_pages = vma_pages(vma);
	struct ioreq_xen_vma *xvma;
	xen_pfn_t first, *gfns;
	struct file *file;
	int *errs;
	int ret;

	/* A private copy-on-write view of foreign frames makes no sense. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	nr_gfns = (vma->vm_end - vma->vm_start) >> XEN_PAGE_SHIFT;
	/* The core checked that the range fits 64 bits of guest-physical. */
	first = (xen_pfn_t)vma->vm_pgoff << (PAGE_SHIFT - XEN_PAGE_SHIFT);
	if (nr_gfns > INT_MAX)
		return -ENOMEM;

	gfns = kvmalloc_array(nr_gfns, sizeof(*gfns), GFP_KERNEL_ACCOUNT);
	errs = kvmalloc_array(nr_gfns, sizeof(*errs), GFP_KERNEL_ACCOUNT);
	xvma = kvzalloc(struct_size(xvma, pages, xlate ? nr_pages : 0),
			GFP_KERNEL_ACCOUNT);
	if (!gfns || !errs || !xvma) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < nr_gfns; i++)
		gfns[i] = first + i;
	refcount_set(&xvma->ref, 1);
	xvma->nr_gfns = nr_gfns;

	file = anon_inode_getfile("[ioreq-xen-mem]", &ioreq_xen_mem_fops,
				  NULL, O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_free;
	}
	if (xlate) {
		ret = xen_alloc_unpopulated_pages(nr_pages, xvma->pages);
		if (ret)
			goto err_fput;
		xvma->nr_pages = nr_pages;
	}

	/* xen_remap_pfn() insists on VM_IO | VM_PFNMAP. */
	ioreq_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTCOPY | VM_DONTEXPAND |
			   VM_DONTDUMP);

	ret = xen_remap_domain_gfn_array(vma, vma->vm_start, gfns, nr_gfns,
					 errs, vma->vm_page_prot, srv->domid,
					 xlate ? xvma->pages : NULL);
	if (ret != nr_gfns) {
		for (i = 0; i < nr_gfns && !errs[i]; i++)
			;
		pr_debug("d%u: mapping gfn %#llx failed (%d)\n", srv->domid,
			 (u64)first + i, i < nr_gfns ? errs[i] : ret);
		/*
		 * mmap() fails and does not call ->close(): the PTEs, then
		 * the physmap entries behind them, are ours to undo.
		 */
		ioreq_zap_special_vma_range(vma, vma->vm_start,
					    vma->vm_end - vma->vm_start);
		ioreq_xen_vma_free(vma, xvma);
		xvma = NULL;
		ret = -ENXIO;
		goto err_fput;
	}

	/* Takes its own reference to @file and drops the session's. */
	vma_set_file(vma, file);
	fput(file);
	vma->vm_ops = &ioreq_xen_vm_ops;
	vma->vm_private_data = xvma;
	kvfree(errs);
	kvfree(gfns);
	return 0;

err_fput:
	fput(file);
err_free:
	kvfree(xvma);
	kvfree(errs);
	kvfree(gfns);
	return ret;
}

/* Map guest frame @gfn of @srv's guest at @page. */
static int ioreq_xen_map_gfn(struct ioreq_xen_server *srv, struct page *page,
			     xen_pfn_t gfn)
{
	struct xen_add_to_physmap_range xatpr = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_gmfn_foreign,
		.size = 1,
		.foreign_domid = srv->domid,
	};
	xen_pfn_t gpfn;
	int err = 0, ret;

	if (!xen_feature(XENFEAT_auto_translated_physmap))
		return ioreq_xen_map_pv(page, gfn, srv->domid, true);
	gpfn = xen_page_to_gfn(page);
	set_xen_guest_handle(xatpr.idxs, &gfn);
	set_xen_guest_handle(xatpr.gpfns, &gpfn);
	set_xen_guest_handle(xatpr.errs, &err);
	ret = HYPERVISOR_memory_op(XENMEM_add_to_physmap_range, &xatpr);
	return ret ?: err;
}

/*
 * Map each frame of [@gpa, @gpa + @len) in turn, and for a copy (@buf)
 * copy its part.  Lock held.
 */
static int ioreq_xen_walk_locked(struct ioreq_xen_server *srv, u64 gpa,
				 u64 len, void *buf, bool write)
	__must_hold(&srv->rw_lock)
{
	u64 end = gpa + len;
	int ret;

	lockdep_assert_held(&srv->rw_lock);
	if (!srv->rw_page) {
		ret = xen_alloc_unpopulated_pages(1, &srv->rw_page);
		if (ret) {
			srv->rw_page = NULL;
			return ret;
		}
	}
	while (gpa < end) {
		u64 n = min_t(u64, end - gpa,
			      XEN_PAGE_SIZE - (gpa & (XEN_PAGE_SIZE - 1)));
		void *p = page_address(srv->rw_page) +
			  (gpa & (XEN_PAGE_SIZE - 1));

		ret = ioreq_xen_map_gfn(srv, srv->rw_page,
					gpa >> XEN_PAGE_SHIFT);
		if (ret) {
			pr_debug("d%u: mapping gfn %#llx failed (%d)\n",
				 srv->domid, gpa >> XEN_PAGE_SHIFT, ret);
			return -ENXIO;
		}
		if (buf && write)
			memcpy(p, buf, n);
		else if (buf)
			memcpy(buf, p, n);
		ret = ioreq_xen_unmap_frame(srv->rw_page);
		if (ret) {
			/* As for the ioreq page: never reuse it. */
			pr_warn("d%u: cannot unmap a guest frame (%d): leaking a page\n",
				srv->domid, ret);
			srv->rw_page = NULL;
			return -EIO;
		}
		if (buf)
			buf += n;
		gpa += n;
	}
	return 0;
}

static int ioreq_xen_walk(struct ioreq_guest *guest, u64 gpa, u64 len,
			  void *buf, bool write)
{
	struct ioreq_xen_server *srv = ioreq_guest_priv(guest);
	int ret;

	mutex_lock(&srv->rw_lock);
	ret = ioreq_xen_walk_locked(srv, gpa, len, buf, write);
	mutex_unlock(&srv->rw_lock);
	return ret;
}

/* rep string I/O's buffers (page.c), in process context. */
static int ioreq_xen_page_guest_rw(struct ioreq_xen_page *iop, u64 gpa,
				   void *buf, size_t len, bool write)
{
	struct ioreq_xen_server *srv =
		container_of(iop, struct ioreq_xen_server, iop);

	return ioreq_xen_walk(srv->guest, gpa, len, buf, write);
}

/* Xen alone knows which frames the guest has: try to map each one. */
static int ioreq_xen_guest_mem_check(struct ioreq_guest *guest, u64 gpa,
				     u64 len)
{
	return ioreq_xen_walk(guest, gpa, len, NULL, false);
}

static int ioreq_xen_guest_rw(struct ioreq_guest *guest, u64 gpa, void *buf,
			      size_t len, bool write)
{
	return ioreq_xen_walk(guest, gpa, len, buf, write);
}

/* A session read posted writes: go on draining the buffered ring. */
static void ioreq_xen_posted_room(struct ioreq_guest *guest)
{
	struct ioreq_xen_server *srv = ioreq_guest_priv(guest);

	if (srv->iop.buf)
		ioreq_xen_page_drain(&srv->iop);
}

static void ioreq_xen_release(struct ioreq_guest *guest)
{
	struct ioreq_xen_server *srv = ioreq_guest_priv(guest);

	ioreq_xen_teardown(srv);
	ioreq_xen_kept_free(srv);
	kvfree(srv);
}

/*
 * What Xen can do depends on its architecture, and IOREQ_GET_INFO reports
 * exactly that.  x86: port I/O and PCI config space (Xen decodes
 * CF8/CFC), the buffered ring (posted writes), ISA IRQs, PCI INTx and
 * MSIs.  Arm (the IOREQ server is a Tech Preview, built only with
 * CONFIG_EXPERT): MMIO only, no buffered ring, and SPIs as the only
 * interrupts.
 */
#ifdef CONFIG_X86
#define IOREQ_XEN_ARCH_CAPS	(IOREQ_CAP_PIO | IOREQ_CAP_PCI_CONFIG | \
				 IOREQ_CAP_POSTED_WRITES | \
				 IOREQ_CAP_IRQ_PCI_INTX | IOREQ_CAP_IRQ_MSI)
#define IOREQ_XEN_NR_IRQ_LINES	16	/* the ISA IRQs */
#define IOREQ_XEN_MIN_IRQ_LINE	0
#else
#define IOREQ_XEN_ARCH_CAPS	0
#define IOREQ_XEN_NR_IRQ_LINES	0	/* Xen checks against the vGIC */
#define IOREQ_XEN_MIN_IRQ_LINE	32	/* the first SPI */
#endif

static const struct ioreq_provider_ops ioreq_xen_ops = {
	.owner = THIS_MODULE,
	.name = "xen",
	.id = IOREQ_PROVIDER_XEN,
	.caps = IOREQ_CAP_MMIO | IOREQ_CAP_IRQ_LINE | IOREQ_CAP_IRQFD |
		IOREQ_CAP_IOEVENTFD | IOREQ_CAP_GUEST_MEMORY |
		IOREQ_CAP_GUEST_MEMORY_FD | IOREQ_CAP_INVALIDATE |
		IOREQ_XEN_ARCH_CAPS,
	.get_guest = ioreq_xen_get_guest,
	.map_range = ioreq_xen_map_range,
	.unmap_range = ioreq_xen_unmap_range,
	.complete = ioreq_xen_complete,
	.release = ioreq_xen_release,
	.inject_irq = ioreq_xen_inject_irq,
	.inject_atomic = true,
	.nr_irq_lines = IOREQ_XEN_NR_IRQ_LINES,
	.min_irq_line = IOREQ_XEN_MIN_IRQ_LINE,
	.mmap = ioreq_xen_mmap,
	.guest_mem_check = ioreq_xen_guest_mem_check,
	.guest_rw = ioreq_xen_guest_rw,
	.posted_room = ioreq_xen_posted_room,
};

static struct ioreq_provider ioreq_xen_provider = {
	.ops = &ioreq_xen_ops,
};

static int __init ioreq_xen_init(void)
{
	int ret;

	ioreq_xen_abi_check();
	ioreq_xen_dm_abi_check();
	/* dm_op needs a domain with device-model rights: dom0 or a driver domain. */
	if (!xen_domain())
		return -ENODEV;
	ret = ioreq_provider_register(&ioreq_xen_provider);
	if (ret)
		return ret;
	/* Now if xenstored runs, else once it does. */
	register_xenstore_notifier(&ioreq_xen_xenstore_nb);
	return 0;
}
module_init(ioreq_xen_init);

static void __exit ioreq_xen_exit(void)
{
	struct ioreq_xen_server *srv;
	unsigned long domid;

	/* No session is attached: each holds a reference on this module. */
	ioreq_provider_unregister(&ioreq_xen_provider);
	unregister_xenstore_notifier(&ioreq_xen_xenstore_nb);
	/* Waits for a callback in progress. */
	if (ioreq_xen_watching)
		unregister_xenbus_watch(&ioreq_xen_release_watch);
	mutex_lock(&ioreq_xen_lock);
	xa_for_each(&ioreq_xen_servers, domid, srv) {
		xa_erase(&ioreq_xen_servers, domid);
		ioreq_xen_stop(srv);
	}
	mutex_unlock(&ioreq_xen_lock);
	xa_destroy(&ioreq_xen_servers);
}
module_exit(ioreq_xen_exit);

MODULE_DESCRIPTION("ioreq provider for Xen IOREQ servers");
MODULE_LICENSE("GPL");
