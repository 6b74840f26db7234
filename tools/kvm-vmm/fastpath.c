// SPDX-License-Identifier: GPL-2.0
/*
 * fastpath.c - ioreq-kvm's fast path: the eventfds backends bind on the
 * ioreq guest (IOREQ_IOEVENTFD, IOREQ_IRQFD) registered with KVM
 * (KVM_IOEVENTFD, KVM_IRQFD), so that a kick goes from the guest's exit
 * straight to the backend's eventfd and an interrupt from the backend's
 * eventfd straight to the guest, with no hop through this process.
 * Documentation/virt/ioreq/vmm.rst ("Bindings") has the protocol.
 *
 * Included by ioreq-kvm.c (it uses struct vm, err(), diag(), now_ns(),
 * vmm_intx_gsi(), irq_settle()); its hooks there are fastpath_option(), fastpath_start(),
 * fastpath_phase() and fastpath_finish().
 *
 *   --fastpath            take every binding: a thread waits for binding
 *                         events (POLLPRI on the ioreq guest's fd) and
 *                         registers each with KVM, then acks it taken;
 *                         on its removal it unregisters it, then acks it
 *                         released.  A binding KVM refuses stays on the
 *                         slow path, which keeps working.
 *   --fastpath-bench N    the payload's fast path loop (PF_FASTPATH) with
 *                         an echo backend forked here: phases of N kicks
 *                         or N pings (payload.h, FP_*), each phase with
 *                         the bindings taken (fast) or given back (slow),
 *                         in turn; --repeats of each after a warm-up.
 *                         Prints per-operation medians, their ratio, and
 *                         KTAP checks that no fast phase passed the VMM.
 *   --fastpath-msi        the echo backend's interrupt is an MSI (a GSI
 *                         route of its own, KVM_SET_GSI_ROUTING), not the
 *                         IOAPIC pin of --irq
 */

#include <sys/eventfd.h>

#define FP_ECHO_ADDR	0xe0010000ULL	/* the echo device's region */
#define FP_ECHO_PIN	18		/* its IOAPIC pin, without MSI */
#define FP_MAX_BINDINGS	64
#define FP_MSI_GSI	24	/* MSI routes after the IOAPIC's 24 pins */
#define FP_PHASES	4	/* kick fast, kick slow, ping fast, ping slow */

/* One binding the ioreq guest offered. */
struct fp_binding {
	bool used;
	bool registered;	/* with KVM, and acked taken */
	uint32_t gsi;		/* an irqfd's */
	struct ioreq_vmm_binding b;	/* its ADDED event; b.fd is ours */
};

struct fastpath {
	pthread_mutex_t lock;	/* everything below but the bench */
	bool take;		/* register bindings (fast) or not (slow) */
	struct fp_binding tab[FP_MAX_BINDINGS];
	unsigned long added, removed, refused;
	pthread_t thread;

	/* --fastpath-bench, used by vcpu 0's thread only */
	uint64_t n;		/* operations per phase, 0 without */
	bool msi;
	uint64_t addr;		/* the echo device */
	uint32_t pin;		/* its IOAPIC pin without --fastpath-msi */
	unsigned int phase;	/* phases begun */
	double t0;
	unsigned long exits0, irqs0;
	double ns[FP_PHASES][BENCH_MAX_REPEATS];
	unsigned long exits[FP_PHASES], irqs[FP_PHASES];
	pid_t child;
	int child_out;		/* the child's counts come through here */
	int child_stop;		/* closed: the child reports and ends */
};

static struct fastpath *fp_get(struct vm *vm);

/* The routes KVM_CREATE_IRQCHIP sets up, and one per MSI irqfd. */
static int fp_set_routes(struct vm *vm, struct fastpath *fp)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e[24 + 16 + FP_MAX_BINDINGS];
	} rt;
	struct kvm_irq_routing_entry *e = rt.e;
	unsigned int i, n = 0;

	memset(&rt, 0, sizeof(rt));
	for (i = 0; i < IOAPIC_PINS; i++) {
		if (i < 16) {
			e[n].gsi = i;
			e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			e[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER :
							 KVM_IRQCHIP_PIC_SLAVE;
			e[n++].u.irqchip.pin = i % 8;
		}
		e[n].gsi = i;
		e[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		e[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e[n++].u.irqchip.pin = i;
	}
	for (i = 0; i < FP_MAX_BINDINGS; i++) {
		const struct fp_binding *f = &fp->tab[i];

		if (!f->used || f->b.kind != IOREQ_VMM_BINDING_IRQFD ||
		    f->b.irq.kind != IOREQ_IRQ_MSI)
			continue;
		e[n].gsi = f->gsi;
		e[n].type = KVM_IRQ_ROUTING_MSI;
		e[n].u.msi.address_lo = (uint32_t)f->b.irq.msi_addr;
		e[n].u.msi.address_hi = (uint32_t)(f->b.irq.msi_addr >> 32);
		e[n++].u.msi.data = f->b.irq.msi_data;
	}
	rt.r.nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, &rt) < 0) {
		diag(vm, "fastpath: KVM_SET_GSI_ROUTING: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* KVM_IOEVENTFD or KVM_IRQFD for @f, or their DEASSIGN. */
static int fp_kvm(struct vm *vm, struct fp_binding *f, bool assign)
{
	const struct ioreq_vmm_binding *b = &f->b;
	struct kvm_ioeventfd io = {
		.datamatch = b->datamatch,
		.addr = b->addr,
		.len = b->len,
		.fd = b->fd,
	};
	struct kvm_irqfd irqfd = {
		.fd = b->fd,
		.gsi = f->gsi,
	};
	int ret;

	if (b->kind == IOREQ_VMM_BINDING_IOEVENTFD) {
		if (b->match & IOREQ_IOEVENTFD_DATAMATCH)
			io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
		if (b->space == IOREQ_SPACE_PIO)
			io.flags |= KVM_IOEVENTFD_FLAG_PIO;
		if (!assign)
			io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
		ret = ioctl(vm->vm_fd, KVM_IOEVENTFD, &io);
	} else {
		if (!assign)
			irqfd.flags = KVM_IRQFD_FLAG_DEASSIGN;
		ret = ioctl(vm->vm_fd, KVM_IRQFD, &irqfd);
	}
	if (ret < 0)
		diag(vm, "fastpath: %s %s of binding %llu: %s",
		     b->kind == IOREQ_VMM_BINDING_IOEVENTFD ? "KVM_IOEVENTFD" :
		     "KVM_IRQFD", assign ? "assign" : "deassign",
		     (unsigned long long)b->id, strerror(errno));
	return ret < 0 ? -1 : 0;
}

static int fp_ack(struct vm *vm, uint64_t id, uint32_t flags)
{
	struct ioreq_vmm_binding_ack a = {
		.size = sizeof(a),
		.flags = flags,
		.id = id,
	};

	if (ioctl(vm->vmm_fd, IOREQ_VMM_BINDING_ACK, &a) == 0)
		return 0;
	diag(vm, "fastpath: IOREQ_VMM_BINDING_ACK %s %llu: %s",
	     flags == IOREQ_VMM_BINDING_TAKEN ? "taken" : "released",
	     (unsigned long long)id, strerror(errno));
	return -1;
}

/*
 * Register @f with KVM, then say so: from the ack on, the kernel leaves
 * an irqfd's eventfd to KVM (before it, both may inject once).
 */
static void fp_take(struct vm *vm, struct fp_binding *f)
{
	if (f->registered)
		return;
	if (fp_kvm(vm, f, true)) {
		__atomic_add_fetch(&fp_get(vm)->refused, 1, __ATOMIC_RELAXED);
		return;
	}
	if (fp_ack(vm, f->b.id, IOREQ_VMM_BINDING_TAKEN)) {
		fp_kvm(vm, f, false);
		return;
	}
	f->registered = true;
}

/*
 * Give @f back: the kernel delivers it again from the ack, then KVM stops
 * (an interrupt may come twice meanwhile, none is lost).
 */
static void fp_untake(struct vm *vm, struct fp_binding *f)
{
	if (!f->registered)
		return;
	fp_ack(vm, f->b.id, IOREQ_VMM_BINDING_RELEASED);
	fp_kvm(vm, f, false);
	f->registered = false;
}

static void fp_added(struct vm *vm, struct fastpath *fp,
		     const struct ioreq_vmm_binding *b)
{
	struct fp_binding *f = NULL;
	uint32_t gsi = FP_MSI_GSI;
	unsigned int i;

	for (i = 0; i < FP_MAX_BINDINGS; i++) {
		if (!fp->tab[i].used) {
			f = &fp->tab[i];
			break;
		}
	}
	fp->added++;
	if (!f) {
		/* Never taken: the slow path serves it. */
		diag(vm, "fastpath: no room for binding %llu",
		     (unsigned long long)b->id);
		close(b->fd);
		fp_ack(vm, b->id, IOREQ_VMM_BINDING_RELEASED);
		return;
	}
	*f = (struct fp_binding) { .used = true, .b = *b };
	if (b->kind == IOREQ_VMM_BINDING_IRQFD) {
		switch (b->irq.kind) {
		case IOREQ_IRQ_LINE:
			f->gsi = b->irq.line;
			break;
		case IOREQ_IRQ_PCI_INTX:
			f->gsi = vmm_intx_gsi(b->irq.sbdf, b->irq.pin);
			break;
		default:
			/* MSI: the lowest GSI no other MSI route has. */
			for (i = 0; i < FP_MAX_BINDINGS; i++) {
				if (&fp->tab[i] != f && fp->tab[i].used &&
				    fp->tab[i].gsi == gsi) {
					gsi++;
					i = -1;
				}
			}
			f->gsi = gsi;
			if (fp_set_routes(vm, fp)) {
				fp->refused++;
				return;
			}
		}
	}
	diag(vm, "fastpath: binding %llu added: %s", (unsigned long long)b->id,
	     b->kind == IOREQ_VMM_BINDING_IRQFD ? "irqfd" : "ioeventfd");
	if (fp->take)
		fp_take(vm, f);
}

/* Unregister before the ack: the backend's removal waits for it. */
static void fp_removed(struct vm *vm, struct fastpath *fp,
		       const struct ioreq_vmm_binding *b)
{
	struct fp_binding *f = NULL;
	unsigned int i;

	for (i = 0; i < FP_MAX_BINDINGS; i++) {
		if (fp->tab[i].used && fp->tab[i].b.id == b->id) {
			f = &fp->tab[i];
			break;
		}
	}
	fp->removed++;
	if (f) {
		if (f->registered)
			fp_kvm(vm, f, false);
		close(f->b.fd);
		f->used = false;
		if (f->b.kind == IOREQ_VMM_BINDING_IRQFD &&
		    f->b.irq.kind == IOREQ_IRQ_MSI)
			fp_set_routes(vm, fp);
	}
	diag(vm, "fastpath: binding %llu removed", (unsigned long long)b->id);
	fp_ack(vm, b->id, IOREQ_VMM_BINDING_RELEASED);
}

/* Take every pending binding event.  Return: 0, or -1 on an error. */
static int fp_drain(struct vm *vm, struct fastpath *fp)
{
	struct ioreq_vmm_binding b;

	for (;;) {
		memset(&b, 0, sizeof(b));
		b.size = sizeof(b);
		if (ioctl(vm->vmm_fd, IOREQ_VMM_BINDING_NEXT, &b) < 0) {
			if (errno == EAGAIN)
				return 0;
			err("IOREQ_VMM_BINDING_NEXT: %s", strerror(errno));
			return -1;
		}
		pthread_mutex_lock(&fp->lock);
		if (b.event == IOREQ_VMM_BINDING_ADDED)
			fp_added(vm, fp, &b);
		else if (b.event == IOREQ_VMM_BINDING_REMOVED)
			fp_removed(vm, fp, &b);
		pthread_mutex_unlock(&fp->lock);
	}
}

/* The binding thread; never joined. */
static void *fp_thread(void *arg)
{
	struct vm *vm = arg;
	struct pollfd pfd = { .fd = vm->vmm_fd, .events = POLLPRI };

	for (;;) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			err("poll of the ioreq guest: %s", strerror(errno));
			return NULL;
		}
		if (fp_drain(vm, fp_get(vm)))
			return NULL;
	}
}

/* Take (@take) or give back every binding known. */
static void fp_set_take(struct vm *vm, struct fastpath *fp, bool take)
{
	unsigned int i;

	pthread_mutex_lock(&fp->lock);
	fp->take = take;
	for (i = 0; i < FP_MAX_BINDINGS; i++) {
		if (!fp->tab[i].used)
			continue;
		if (take)
			fp_take(vm, &fp->tab[i]);
		else
			fp_untake(vm, &fp->tab[i]);
	}
	pthread_mutex_unlock(&fp->lock);
}

/*
 * The echo backend: a plain /dev/ioreq session, unaware of the fast path.
 * Kicks it only counts (the eventfd's count); each ping it answers by
 * signalling its irqfd.  When @stop hangs up (or the guest is gone) it
 * writes its counts, kicks then pings, to @out and ends.
 */
static void fp_echo(struct vm *vm, uint64_t guest_id,
		    const struct fastpath *fp, int stop, int out)
{
	struct ioreq_attach at = {
		.size = sizeof(at),
		.provider = IOREQ_PROVIDER_VMM,
		.guest_id = guest_id,
	};
	struct ioreq_region r = {
		.size = sizeof(r),
		.space = IOREQ_SPACE_MMIO,
		.addr = fp->addr,
		.len = FP_LEN,
	};
	struct ioreq_ioeventfd io = {
		.size = sizeof(io),
		.space = IOREQ_SPACE_MMIO,
		.len = 4,
	};
	struct ioreq_irqfd irqfd = { .size = sizeof(irqfd) };
	uint64_t counts[2] = { 0, 0 }, v, one = 1;
	const char *dev = getenv("IOREQ_DEV");
	struct pollfd pfd[3];
	int fd, kick, ping, irq;

	/* The guest ends when the VMM closes it: hold none of its files. */
	close(vm->vmm_fd);
	close(vm->vm_fd);
	close(vm->kvm_fd);
	close(vm->ram_fd);
	fd = open(dev ? dev : "/dev/ioreq", O_RDWR | O_CLOEXEC);
	kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ping = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	irq = eventfd(0, EFD_CLOEXEC);
	if (fd < 0 || kick < 0 || ping < 0 || irq < 0 ||
	    ioctl(fd, IOREQ_ATTACH, &at) || ioctl(fd, IOREQ_CLAIM_REGION, &r)) {
		err("echo backend: setting up: %s", strerror(errno));
		_exit(1);
	}
	io.fd = kick;
	io.addr = fp->addr + FP_KICK;
	if (ioctl(fd, IOREQ_IOEVENTFD, &io)) {
		err("echo backend: IOREQ_IOEVENTFD: %s", strerror(errno));
		_exit(1);
	}
	io.fd = ping;
	io.addr = fp->addr + FP_PING;
	if (ioctl(fd, IOREQ_IOEVENTFD, &io)) {
		err("echo backend: IOREQ_IOEVENTFD: %s", strerror(errno));
		_exit(1);
	}
	irqfd.fd = irq;
	if (fp->msi) {
		irqfd.irq.kind = IOREQ_IRQ_MSI;
		irqfd.irq.msi_addr = LAPIC_BASE;	/* APIC ID 0, fixed */
		irqfd.irq.msi_data = IRQ_VECTOR;	/* edge */
	} else {
		irqfd.irq.kind = IOREQ_IRQ_LINE;
		irqfd.irq.line = fp->pin;
	}
	if (ioctl(fd, IOREQ_IRQFD, &irqfd)) {
		err("echo backend: IOREQ_IRQFD: %s", strerror(errno));
		_exit(1);
	}
	pfd[0] = (struct pollfd) { .fd = ping, .events = POLLIN };
	pfd[1] = (struct pollfd) { .fd = fd, .events = POLLIN };
	pfd[2] = (struct pollfd) { .fd = stop, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (read(ping, &v, sizeof(v)) == sizeof(v)) {
			counts[1] += v;
			if (write(irq, &one, sizeof(one)) != sizeof(one))
				break;
		}
		/* No record is expected: only the guest's end, or ours. */
		if (pfd[1].revents || pfd[2].revents)
			break;
	}
	if (read(kick, &v, sizeof(v)) == sizeof(v))
		counts[0] = v;
	if (write(out, counts, sizeof(counts)) != sizeof(counts))
		_exit(1);
	_exit(0);
}

static struct fastpath fp_state = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.take = true,
	.child_out = -1,
	.child_stop = -1,
};

static struct fastpath *fp_get(struct vm *vm)
{
	return vm->fp;
}

/*
 * A --fastpath option of main(): 'F' --fastpath, 'f' --fastpath-bench
 * (@v operations per phase), 'Q' --fastpath-msi.
 */
static void fastpath_option(struct vm *vm, int c, uint64_t v)
{
	vm->fp = &fp_state;
	if (c == 'f')
		fp_state.n = v;
	else if (c == 'Q')
		fp_state.msi = true;
}

/*
 * Before the vcpus run: start the binding thread, and for the bench fork
 * the echo backend (before any thread) and wait until its bindings are
 * known.  Return: 0, or -1.
 */
static int fastpath_start(struct vm *vm, uint64_t guest_id)
{
	struct fastpath *fp = vm->fp;
	unsigned int i;
	int pipefd[2], stopfd[2], ret;

	if (fp->n) {
		fp->addr = FP_ECHO_ADDR;
		fp->pin = FP_ECHO_PIN;
		if (pipe(pipefd) || pipe(stopfd)) {
			err("pipe: %s", strerror(errno));
			return -1;
		}
		fflush(stdout);
		fp->child = fork();
		if (fp->child < 0) {
			err("fork: %s", strerror(errno));
			return -1;
		}
		if (!fp->child) {
			close(pipefd[0]);
			close(stopfd[1]);
			fp_echo(vm, guest_id, fp, stopfd[0], pipefd[1]);
		}
		close(pipefd[1]);
		close(stopfd[0]);
		fp->child_out = pipefd[0];
		fp->child_stop = stopfd[1];
		/* diag() per interrupt would slow the slow path down. */
		vm->quiet = !vm->verbose;
	}
	ret = pthread_create(&fp->thread, NULL, fp_thread, vm);
	if (ret) {
		err("starting the binding thread: %s", strerror(ret));
		return -1;
	}
	if (!fp->n)
		return 0;
	/* Its two ioeventfds and its irqfd, within 10 s. */
	for (i = 0; i < 1000; i++) {
		pthread_mutex_lock(&fp->lock);
		ret = fp->added >= 3;
		pthread_mutex_unlock(&fp->lock);
		if (ret)
			return 0;
		usleep(10000);
	}
	err("fastpath: the echo backend's bindings did not come");
	return -1;
}

static const char *const fp_phase_name[FP_PHASES] = {
	"kick, fast path", "kick, slow path", "ping, fast path",
	"ping, slow path",
};

/*
 * RT_BENCH from vcpu 0: end the phase that ran, set up the next.
 * Return: true, or false without --fastpath-bench (not ours).
 */
static bool fastpath_phase(struct vm *vm)
{
	struct fastpath *fp = vm->fp;
	uint64_t *param = (uint64_t *)(vm->ram + PARAM_ADDR);
	unsigned int total = FP_PHASES * (vm->bench_repeats + 1);
	unsigned int p, k;
	double t = now_ns();

	if (!fp->n)
		return false;
	/*
	 * The events the irq thread has not counted yet belong to the phase
	 * that ends: a slow ping's interrupt is a pulse, two events, and the
	 * payload goes on after the first.
	 */
	irq_settle(vm);
	if (fp->phase) {
		p = (fp->phase - 1) % FP_PHASES;
		k = (fp->phase - 1) / FP_PHASES;
		/* Round 0 warms up; its counts are checked all the same. */
		if (k)
			fp->ns[p][k - 1] = (t - fp->t0) / fp->n;
		fp->exits[p] += __atomic_load_n(&vm->exits, __ATOMIC_RELAXED) -
				fp->exits0;
		fp->irqs[p] += __atomic_load_n(&vm->irq_events,
					       __ATOMIC_RELAXED) - fp->irqs0;
	}
	if (fp->phase == total) {
		param[PARAM_BENCH_GO / 8] = 0;
		return true;
	}
	p = fp->phase % FP_PHASES;
	fp_set_take(vm, fp, !(p & 1));
	param[PARAM_FP_WHAT / 8] = p < 2 ? FP_WHAT_KICK : FP_WHAT_PING;
	param[PARAM_BENCH_GO / 8] = 1;
	fp->phase++;
	fp->exits0 = __atomic_load_n(&vm->exits, __ATOMIC_RELAXED);
	fp->irqs0 = __atomic_load_n(&vm->irq_events, __ATOMIC_RELAXED);
	fp->t0 = now_ns();
	return true;
}

/* One KTAP line of the bench's checks. */
static void fp_check(struct vm *vm, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fp_check(struct vm *vm, bool ok, const char *fmt, ...)
{
	va_list ap;

	vm->checks++;
	if (!ok)
		vm->failed++;
	printf("%sok %u fastpath: ", ok ? "" : "not ", vm->checks);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Median and range of @n values, sorted in place. */
static double fp_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * After the vcpus: the bench's checks and table, the echo backend's
 * counts.  Return: main()'s exit status, or -1 without --fastpath-bench
 * (main() goes on).
 */
static int fastpath_finish(struct vm *vm, unsigned int unfinished)
{
	struct fastpath *fp = vm->fp;
	unsigned int r = vm->bench_repeats, total = FP_PHASES * (r + 1);
	uint64_t per = fp->n * (r + 1), counts[2] = { 0, 0 };
	uint64_t irqs_taken;
	double ratio[2][BENCH_MAX_REPEATS], med[FP_PHASES], lo, hi;
	unsigned int p, k;
	ssize_t n;

	pthread_mutex_lock(&fp->lock);
	printf("# fastpath: %lu bindings added, %lu removed, %lu not taken by KVM\n",
	       fp->added, fp->removed, fp->refused);
	pthread_mutex_unlock(&fp->lock);
	if (!fp->n)
		return -1;

	vm->quiet = false;
	memcpy(&irqs_taken, vm->ram + IRQ_COUNT_ADDR, sizeof(irqs_taken));
	/* Threads poll the ioreq guest's fd: closing it ends nothing. */
	close(fp->child_stop);
	n = read(fp->child_out, counts, sizeof(counts));
	waitpid(fp->child, NULL, 0);

	fp_check(vm, !unfinished && fp->phase == total,
		 "the payload ran %u of %u phases", fp->phase, total);
	fp_check(vm, fp->exits[0] == 0 && fp->exits[2] == 0,
		 "VMM exits with the fast path: %lu in kicks, %lu in pings (0 expected)",
		 fp->exits[0], fp->exits[2]);
	fp_check(vm, fp->exits[1] == per && fp->exits[3] == per,
		 "VMM exits without: %lu in kicks, %lu in pings (%llu each expected)",
		 fp->exits[1], fp->exits[3], (unsigned long long)per);
	fp_check(vm, fp->irqs[2] == 0 && fp->irqs[3] >= per,
		 "interrupt events through the VMM: %lu with the fast path (0 expected), %lu without",
		 fp->irqs[2], fp->irqs[3]);
	fp_check(vm, irqs_taken == 2 * per,
		 "interrupts the payload took: %llu (%llu expected)",
		 (unsigned long long)irqs_taken, (unsigned long long)2 * per);
	fp_check(vm, n == sizeof(counts) && counts[0] == 2 * per &&
		 counts[1] == 2 * per,
		 "the echo backend saw %llu kicks and %llu pings (%llu each expected)",
		 (unsigned long long)counts[0], (unsigned long long)counts[1],
		 (unsigned long long)2 * per);
	printf("1..%u\n", vm->checks);

	/* Each round's slow/fast ratio: turns that ran side by side. */
	for (k = 0; k < r; k++) {
		ratio[0][k] = fp->ns[1][k] / fp->ns[0][k];
		ratio[1][k] = fp->ns[3][k] / fp->ns[2][k];
	}
	for (p = 0; p < FP_PHASES; p++) {
		lo = hi = fp->ns[p][0];
		for (k = 1; k < r; k++) {
			lo = fp->ns[p][k] < lo ? fp->ns[p][k] : lo;
			hi = fp->ns[p][k] > hi ? fp->ns[p][k] : hi;
		}
		med[p] = fp_median(fp->ns[p], r);
		printf("# fastpath: %-16s %9.2f us median (%.2f-%.2f), %u x %llu\n",
		       fp_phase_name[p], med[p] / 1e3, lo / 1e3, hi / 1e3, r,
		       (unsigned long long)fp->n);
	}
	for (p = 0; p < 2; p++) {
		lo = hi = ratio[p][0];
		for (k = 1; k < r; k++) {
			lo = ratio[p][k] < lo ? ratio[p][k] : lo;
			hi = ratio[p][k] > hi ? ratio[p][k] : hi;
		}
		med[p] = fp_median(ratio[p], r);
		printf("# fastpath: %s: slow/fast %.2fx median of %u rounds (%.2f-%.2f), %s\n",
		       p ? "ping (kick + interrupt)" : "kick", med[p], r, lo,
		       hi, fp->msi ? "MSI" : "IOAPIC pin");
	}
	return vm->failed || unfinished ? 1 : 0;
}
