// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-blk-floor: the host floor of make bench's KVM virtio rows.  It
 * drives a vhost-user-blk daemon (qemu-storage-daemon) directly, with no
 * guest: one virtqueue in a memfd of its own, the daemon told about it
 * with tools/ioreq-vhost/vhost_user.c (as ioreq-vhost tells it about a
 * guest's), and one fio-like job of 4 KiB random reads or 64 KiB
 * sequential reads or writes at a queue depth, for a time.  What a guest
 * of any VMM adds to a request is what it takes beyond this.
 *
 * It kicks and waits for the daemon's call eventfd as a guest driver
 * does (a kick unless the daemon set VRING_USED_F_NO_NOTIFY, no event
 * index), one request per descriptor chain (header, data, status).
 *
 * Prints one line as selftests/ioreq/kvm/linux/bench.sh does for fio:
 *   IOREQ-FIO seq=SEQ job=NAME ios=N kbps=N iops=N p50_us=N p90_us=N
 *             p99_us=N runtime_ms=N usr=PCT sys=PCT
 * (usr and sys: this process's CPU, in percent of the run's time).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "../ioreq-vhost/vhost_user.h"

#define QSIZE		32
#define MAX_DEPTH	8
#define VIRTIO_F_VERSION_1	32
#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_USED_F_NO_NOTIFY	1
#define BLK_T_IN	0
#define BLK_T_OUT	1
#define SECTOR		512

/* The memfd's layout (guest-physical addresses from 0; VAs biased). */
#define DESC_OFF	0x0000
#define AVAIL_OFF	0x1000
#define USED_OFF	0x2000
#define HDR_OFF		0x3000
#define STATUS_OFF	0x3800
#define DATA_OFF	0x10000
#define DATA_MAX	0x10000		/* 64 KiB a request */
#define MEM_SIZE	(DATA_OFF + MAX_DEPTH * DATA_MAX)
#define VA_BIAS		0x100000000000ULL	/* the "frontend VAs" */
#define MAX_SAMPLES	(1u << 20)

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[QSIZE];
};

struct used {
	uint16_t flags;
	uint16_t idx;
	struct {
		uint32_t id;
		uint32_t len;
	} ring[QSIZE];
};

struct blk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

static uint8_t *mem;
static struct desc *desc;
static struct avail *avail;
static struct used *used;
static double t_start[MAX_DEPTH];
static double *lat;
static unsigned int nlat;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void die(const char *what, int e)
{
	fprintf(stderr, "vhost-blk-floor: %s: %s\n", what, strerror(e));
	exit(1);
}

/* Put slot @s's request (the chain at 3 * s) in the avail ring. */
static void submit(unsigned int s, int is_write, uint64_t offset, uint32_t bs,
		   int kick_fd)
{
	struct blk_hdr *h = (struct blk_hdr *)(mem + HDR_OFF) + s;
	struct desc *d = &desc[3 * s];
	uint64_t one = 1;

	h->type = is_write ? BLK_T_OUT : BLK_T_IN;
	h->ioprio = 0;
	h->sector = offset / SECTOR;
	d[0] = (struct desc) { HDR_OFF + s * sizeof(*h), sizeof(*h),
			       VRING_DESC_F_NEXT, 3 * s + 1 };
	d[1] = (struct desc) { DATA_OFF + (uint64_t)s * DATA_MAX, bs,
			       VRING_DESC_F_NEXT | (is_write ? 0 : VRING_DESC_F_WRITE),
			       3 * s + 2 };
	d[2] = (struct desc) { STATUS_OFF + s, 1, VRING_DESC_F_WRITE, 0 };
	avail->ring[avail->idx % QSIZE] = 3 * s;
	t_start[s] = now_us();
	/* The chain before the index: pairs with the daemon's read barrier. */
	__atomic_store_n(&avail->idx, avail->idx + 1, __ATOMIC_RELEASE);
	/* The index before the flags' read, as a driver's mb(). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&used->flags, __ATOMIC_ACQUIRE) &
	      VRING_USED_F_NO_NOTIFY) &&
	    write(kick_fd, &one, sizeof(one)) != sizeof(one))
		die("kick", errno);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "job", required_argument, NULL, 'j' },
		{ "runtime", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 'z' },
		{ "seq", required_argument, NULL, 'q' },
		{ }
	};
	const char *sock = NULL, *job = "rand4k", *seq = "0";
	double runtime = 3, t0, t1, end, cpu_u, cpu_s;
	uint64_t size = 63ULL << 20, next = 0, ios = 0, bytes = 0, one;
	unsigned int depth = 1, s, inflight = 0, i;
	uint16_t last_used = 0;
	uint32_t bs = 4096;
	int write_job = 0, rnd = 1, memfd, kick, call, ret, opt;
	struct vu_conn c = { .fd = -1 };
	struct vu_region r;
	struct vu_vring_addr a;
	struct pollfd pfd;
	struct rusage ru0, ru1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'j': job = optarg; break;
		case 'r': runtime = atof(optarg); break;
		case 'z': size = strtoull(optarg, NULL, 0); break;
		case 'q': seq = optarg; break;
		default:
			fprintf(stderr, "usage: vhost-blk-floor --socket PATH [--job rand4k|rd1|rd8|wr1|wr8]\n"
				"                       [--runtime SECS] [--size BYTES] [--seq SEQ]\n");
			return 2;
		}
	}
	if (!sock || runtime <= 0 || size < (1 << 20)) {
		fprintf(stderr, "vhost-blk-floor: --socket is needed; --runtime > 0; --size >= 1 MiB\n");
		return 2;
	}
	if (strcmp(job, "rand4k")) {
		if (strlen(job) != 3 || (strncmp(job, "rd", 2) && strncmp(job, "wr", 2)) ||
		    (job[2] != '1' && job[2] != '8')) {
			fprintf(stderr, "vhost-blk-floor: --job %s: rand4k, rd1, rd8, wr1 or wr8\n", job);
			return 2;
		}
		rnd = 0;
		bs = DATA_MAX;
		write_job = job[0] == 'w';
		depth = job[2] - '0';
	}
	size -= size % bs;

	memfd = memfd_create("vhost-blk-floor", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, MEM_SIZE))
		die("memfd", errno);
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	lat = calloc(MAX_SAMPLES, sizeof(*lat));
	if (mem == MAP_FAILED || !lat)
		die("memory", errno);
	memset(mem + DATA_OFF, 0x5a, MAX_DEPTH * DATA_MAX);
	desc = (struct desc *)(mem + DESC_OFF);
	avail = (struct avail *)(mem + AVAIL_OFF);
	used = (struct used *)(mem + USED_OFF);
	kick = eventfd(0, EFD_CLOEXEC);
	call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (kick < 0 || call < 0)
		die("eventfd", errno);

	ret = vu_connect(&c, sock);
	if (!ret)
		ret = vu_handshake(&c, 0);
	if (!ret)
		ret = vu_set_u64(&c, VU_SET_FEATURES,
				 (c.features & (1ULL << VIRTIO_F_VERSION_1)) |
				 (1ULL << VU_F_PROTOCOL_FEATURES));
	r = (struct vu_region) { .gpa = 0, .size = MEM_SIZE,
				 .uaddr = VA_BIAS, .mmap_offset = 0, .fd = memfd };
	if (!ret)
		ret = vu_set_mem_table(&c, &r, 1);
	a = (struct vu_vring_addr) { .index = 0, .desc = VA_BIAS + DESC_OFF,
				     .avail = VA_BIAS + AVAIL_OFF,
				     .used = VA_BIAS + USED_OFF, .log = USED_OFF };
	if (!ret)
		ret = vu_set_vring(&c, VU_SET_VRING_NUM, 0, QSIZE);
	if (!ret)
		ret = vu_set_vring(&c, VU_SET_VRING_BASE, 0, 0);
	if (!ret)
		ret = vu_set_vring_addr(&c, &a);
	if (!ret)
		ret = vu_set_vring_fd(&c, VU_SET_VRING_KICK, 0, kick);
	if (!ret)
		ret = vu_set_vring_fd(&c, VU_SET_VRING_CALL, 0, call);
	if (!ret)
		ret = vu_set_vring(&c, VU_SET_VRING_ENABLE, 0, 1);
	if (ret)
		die("vhost-user set-up", -ret);

	srand(1);
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_us();
	end = t0 + runtime * 1e6;
	pfd = (struct pollfd) { .fd = call, .events = POLLIN };
	for (s = 0; s < depth; s++, inflight++) {
		uint64_t off = rnd ? ((uint64_t)rand() % (size / bs)) * bs : next;

		next = (next + bs) % size;
		submit(s, write_job, off, bs, kick);
	}
	while (inflight) {
		if (poll(&pfd, 1, 10000) <= 0) {
			fprintf(stderr, "vhost-blk-floor: no completion in 10 s\n");
			return 1;
		}
		if (read(call, &one, sizeof(one)) < 0 && errno != EAGAIN)
			die("call", errno);
		/* Entries before the index: pairs with the daemon's write barrier. */
		while (last_used != __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE)) {
			uint32_t id = used->ring[last_used % QSIZE].id;
			double t = now_us();

			last_used++;
			s = id / 3;
			if (id % 3 || s >= depth || mem[STATUS_OFF + s]) {
				fprintf(stderr, "vhost-blk-floor: bad completion %u (status %u)\n",
					id, s < MAX_DEPTH ? mem[STATUS_OFF + s] : 255);
				return 1;
			}
			if (nlat < MAX_SAMPLES)
				lat[nlat++] = t - t_start[s];
			ios++;
			bytes += bs;
			inflight--;
			if (t < end) {
				uint64_t off = rnd ? ((uint64_t)rand() % (size / bs)) * bs : next;

				next = (next + bs) % size;
				submit(s, write_job, off, bs, kick);
				inflight++;
			}
		}
	}
	t1 = now_us();
	getrusage(RUSAGE_SELF, &ru1);
	vu_close(&c);
	cpu_u = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1e6 +
		(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec);
	cpu_s = (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e6 +
		(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	i = nlat ? nlat - 1 : 0;
	printf("IOREQ-FIO seq=%s job=%s ios=%" PRIu64 " kbps=%.0f iops=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f runtime_ms=%.0f usr=%.2f sys=%.2f\n",
	       seq, job, ios, bytes / 1024.0 / ((t1 - t0) / 1e6),
	       ios / ((t1 - t0) / 1e6), nlat ? lat[nlat / 2] : 0,
	       nlat ? lat[(unsigned int)(i * 0.9)] : 0,
	       nlat ? lat[(unsigned int)(i * 0.99)] : 0, (t1 - t0) / 1e3,
	       100 * cpu_u / (t1 - t0), 100 * cpu_s / (t1 - t0));
	return 0;
}
