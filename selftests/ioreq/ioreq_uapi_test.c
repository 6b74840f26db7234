// SPDX-License-Identifier: GPL-2.0
/*
 * ioreq uapi contract tests: what the kernel may write into a caller's
 * struct, what read() may still return after IOREQ_RELEASE_REGION, and
 * how write() treats a batch with a malformed record behind a stale one.
 */
#define _GNU_SOURCE
#include "ioreq_util.h"

#define NR_VCPUS	4U
#define CANARY		0xa5
/* Below 1 MiB: Xen's buffered ring has 20 address bits. */
#define REG_A		0xa0000ULL
#define REG_B		0xb0000ULL
#define REG_LEN		0x1000ULL
#define UD_A		0xaaaa0000aaaaULL
#define UD_B		0xbbbb0000bbbbULL
#define UD_C		0xcccc0000ccccULL

/* ---- copy-out: never a byte past the caller's size -------------------- */

/*
 * Issue @cmd with a struct of @usize bytes: @proto's first bytes (zeros
 * past sizeof), @usize in its size member, and CANARY after it up to the
 * end of @buf.  Returns the ioctl's result; @buf holds what came back.
 */
static int sized_call(int fd, unsigned long cmd, const void *proto,
		      size_t ksize, __u32 usize, __u8 *buf, size_t buflen)
{
	memset(buf, CANARY, buflen);
	memset(buf, 0, usize);
	memcpy(buf, proto, ksize < usize ? ksize : usize);
	memcpy(buf, &usize, sizeof(usize));
	return __ioreq_ioctl(fd, cmd, buf);
}

/*
 * For every size from 8 to 32 bytes past the kernel's struct: a size the
 * kernel refuses must leave everything alone (the size check comes before
 * any copy-out), and one it accepts must leave every byte after @usize as
 * the caller wrote it.  A size below sizeof is accepted only once the
 * struct has grown past its first version: then a caller built against the
 * old, smaller struct must not see its neighbours overwritten.  @fresh, if
 * set, gives a new descriptor for each call (an ioctl that works once per
 * file) and @done releases it.
 */
static void check_copy_out(struct __test_metadata *_metadata, const char *name,
			   int fd, unsigned long cmd, const void *proto,
			   size_t ksize, int (*fresh)(void),
			   void (*done)(int fd))
{
	__u8 buf[256] __attribute__((aligned(8)));
	unsigned int accepted = 0, smaller = 0;
	__u32 usize, i;
	int ret, f;

	ASSERT_LT(ksize + 32, sizeof(buf));
	for (usize = 8; usize <= ksize + 32; usize++) {
		f = fresh ? fresh() : fd;
		ASSERT_LE(0, f);
		ret = sized_call(f, cmd, proto, ksize, usize, buf, sizeof(buf));
		if (done)
			done(f);
		for (i = usize; i < sizeof(buf); i++)
			ASSERT_EQ(CANARY, buf[i])
				TH_LOG("%s: size %u (kernel %zu): byte %u written (%s)",
				       name, usize, ksize, i,
				       ioreq_errname(ret));
		/* The caller's own bytes past the kernel's struct stay 0. */
		for (i = ksize; i < usize; i++)
			ASSERT_EQ(0, buf[i])
				TH_LOG("%s: size %u: byte %u changed", name,
				       usize, i);
		ASSERT_EQ(usize, *(__u32 *)buf);
		if (ret == -EINVAL && usize < ksize)
			continue;
		/* Extra bytes are zero: a larger size is never refused. */
		ASSERT_NE(-E2BIG, ret) TH_LOG("%s: size %u", name, usize);
		accepted++;
		if (usize < ksize)
			smaller++;
	}
	/* Every size from sizeof up (with zeroed extra bytes) is taken. */
	ASSERT_LE(33U, accepted) TH_LOG("%s", name);
	if (smaller)
		TH_LOG("%s: %u sizes below %zu accepted (older versions)",
		       name, smaller, ksize);
}

static int vmm_fd(void)
{
	return ioreq_open(IOREQ_VMM_DEV, O_RDWR);
}

static void fd_close(int fd)
{
	close(fd);
}

TEST(copy_out_within_size)
{
	struct ioreq_info info = { 0 };
	struct ioreq_attach at = {
		.provider = IOREQ_PROVIDER_VMM,
		.guest_id = 0xfffffffeULL,	/* nobody's */
	};
	struct ioreq_region reg = {
		.space = IOREQ_SPACE_MMIO,
		.len = 8,
	};
	struct ioreq_vmm_create create = { .nr_vcpus = 1 };
	struct ioreq_vmm_access acc = {
		.space = IOREQ_SPACE_MMIO, .op = IOREQ_OP_READ, .len = 4,
		.addr = 0x1000,
	};
	struct ioreq_vmm_memory mem = { .fd = -1, .len = 4096 };
	__u8 buf[256] __attribute__((aligned(8)));
	struct ioreq_hv hv = { .fd = -1 };
	__u32 usize, i;
	int be, ret;

	be = ioreq_backend_open();
	ASSERT_LE(0, be);
	/* Before attach: GET_INFO answers, ATTACH fails after its pre-check. */
	check_copy_out(_metadata, "IOREQ_GET_INFO", be, IOREQ_GET_INFO, &info,
		       sizeof(info), NULL, NULL);
	check_copy_out(_metadata, "IOREQ_ATTACH", be, IOREQ_ATTACH, &at,
		       sizeof(at), NULL, NULL);

	if (ioreq_vmm_unavailable()) {
		close(be);
		SKIP(return, "%s", ioreq_vmm_unavailable());
	}
	ASSERT_ERRNO(0, ioreq_hv_create(&hv, &ioreq_hv_vmm, 1, 0));
	ioreq_attach(be, IOREQ_PROVIDER_VMM, hv.guest_id);
	check_copy_out(_metadata, "IOREQ_GET_INFO attached", be,
		       IOREQ_GET_INFO, &info, sizeof(info), NULL, NULL);
	/* Each accepted claim takes a region: move the range each time. */
	reg.addr = 0x100000;
	for (usize = 8; usize <= sizeof(reg) + 32; usize++) {
		reg.addr += 0x10;
		ret = sized_call(be, IOREQ_CLAIM_REGION, &reg, sizeof(reg),
				 usize, buf, sizeof(buf));
		for (i = usize; i < sizeof(buf); i++)
			ASSERT_EQ(CANARY, buf[i])
				TH_LOG("IOREQ_CLAIM_REGION: size %u: byte %u written (%s)",
				       usize, i, ioreq_errname(ret));
		if (usize >= sizeof(reg))
			ASSERT_ERRNO_MSG(0, ret, "size %u", usize);
	}

	/* The hypervisor side. */
	check_copy_out(_metadata, "IOREQ_VMM_CREATE_GUEST", -1,
		       IOREQ_VMM_CREATE_GUEST, &create, sizeof(create), vmm_fd,
		       fd_close);
	check_copy_out(_metadata, "IOREQ_VMM_ACCESS", hv.fd, IOREQ_VMM_ACCESS,
		       &acc, sizeof(acc), NULL, NULL);
	check_copy_out(_metadata, "IOREQ_VMM_ADD_MEMORY", hv.fd,
		       IOREQ_VMM_ADD_MEMORY, &mem, sizeof(mem), NULL, NULL);
	close(be);
	ioreq_hv_destroy(&hv);
}

int main(int argc, char **argv)
{
	ioreq_require_backend();
	return test_harness_run(argc, argv);
}
