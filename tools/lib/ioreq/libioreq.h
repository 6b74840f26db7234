/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libioreq: a small helper library for ioreq device backends (/dev/ioreq)
 * and for programs that play the hypervisor (/dev/ioreq-vmm).
 *
 * Every function that can fail returns a negative errno value (-ENODEV,
 * -ESRCH, ...) and leaves errno alone on success; nothing prints.  The
 * library keeps no global state: a session or a guest is just a file
 * descriptor, so one program may hold as many as it likes.
 *
 * A minimal backend:
 *
 *	static int handle(struct ioreq_cmd *cmd, void *priv)
 *	{
 *		if (cmd->op == IOREQ_OP_READ)
 *			cmd->data = 0;
 *		return IOREQ_RESPOND;
 *	}
 *
 *	int fd = ioreq_open(NULL);
 *	ioreq_attach(fd, IOREQ_PROVIDER_VMM, guest_id, NULL);
 *	ioreq_claim(fd, IOREQ_SPACE_MMIO, 0xe0000000, 0x1000, 0, 0, NULL);
 *	ioreq_serve(fd, handle, NULL, NULL, NULL);	// until the guest is gone
 *	close(fd);
 */
#ifndef _LIBIOREQ_H
#define _LIBIOREQ_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/ioreq.h>
#include <linux/ioreq_vmm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOREQ_DEV_PATH		"/dev/ioreq"
#define IOREQ_VMM_DEV_PATH	"/dev/ioreq-vmm"

/* Records moved by one read() in ioreq_serve() */
#define IOREQ_BATCH_MAX		64

/* ---- backend side: /dev/ioreq ---------------------------------------- */

/**
 * ioreq_open() - open a backend session
 * @path: device node, or NULL for $IOREQ_DEV if set, else /dev/ioreq
 *
 * Return: a file descriptor (O_RDWR | O_CLOEXEC), or -errno.
 */
int ioreq_open(const char *path);

/**
 * ioreq_get_info() - IOREQ_GET_INFO
 * @fd: session
 * @info: out
 *
 * Return: 0 or -errno.
 */
int ioreq_get_info(int fd, struct ioreq_info *info);

/**
 * ioreq_attach() - IOREQ_ATTACH: bind the session to a guest by number
 * @fd: session
 * @provider: IOREQ_PROVIDER_XEN or IOREQ_PROVIDER_VMM
 * @guest_id: the guest
 * @out: if not NULL, the filled struct (nr_vcpus, caps)
 *
 * Needs CAP_SYS_ADMIN.
 *
 * Return: 0 or -errno (-ESRCH: the provider knows no such guest, -EPERM).
 */
int ioreq_attach(int fd, uint32_t provider, uint64_t guest_id,
		 struct ioreq_attach *out);

/**
 * ioreq_attach_handle() - IOREQ_ATTACH by a guest handle
 * @fd: session
 * @provider: the provider that made the handle (IOREQ_PROVIDER_VMM)
 * @handle: a guest handle's descriptor (IOREQ_VMM_GUEST_HANDLE), passed
 *	by the VMM
 * @out: if not NULL, the filled struct (nr_vcpus, caps)
 *
 * Return: 0 or -errno (-ENODEV: the VMM closed the guest).
 */
int ioreq_attach_handle(int fd, uint32_t provider, int handle,
			struct ioreq_attach *out);

/**
 * ioreq_provider_parse() - a provider's name as ioreq_provider_name() gives it
 * @name: "xen" or "vmm"
 *
 * Return: IOREQ_PROVIDER_XEN or IOREQ_PROVIDER_VMM, or IOREQ_PROVIDER_NONE
 * for any other name.
 */
uint32_t ioreq_provider_parse(const char *name);

/**
 * ioreq_provider_default() - the provider when a user named none
 *
 * $IOREQ_PROVIDER if set, else the only provider module loaded.  With both
 * loaded a guest id could name a guest of either: the caller refuses
 * rather than guesses.
 *
 * Return: IOREQ_PROVIDER_XEN, IOREQ_PROVIDER_VMM, or IOREQ_PROVIDER_NONE.
 */
uint32_t ioreq_provider_default(void);

/**
 * ioreq_claim() - IOREQ_CLAIM_REGION
 * @fd: session
 * @space: IOREQ_SPACE_*
 * @addr: first address
 * @len: length in bytes
 * @flags: IOREQ_REGION_*
 * @user_data: copied into every record of this region
 * @id: out, if not NULL: the region id for ioreq_release()
 *
 * Return: 0 or -errno (-EEXIST: overlap, -EOPNOTSUPP: missing cap).
 */
int ioreq_claim(int fd, uint32_t space, uint64_t addr, uint64_t len,
		uint32_t flags, uint64_t user_data, uint32_t *id);

/**
 * ioreq_release() - IOREQ_RELEASE_REGION
 * @fd: session
 * @id: from ioreq_claim()
 *
 * Return: 0 or -errno.
 */
int ioreq_release(int fd, uint32_t id);

/* Handler return values */
#define IOREQ_RESPOND	0	/* write the (updated) record back */
#define IOREQ_NO_RESPONSE 1	/* leave the request pending (posted
				 * writes are never answered anyway) */

/**
 * typedef ioreq_handler_t - called once per record read
 * @cmd: the record; for a read set @cmd->data to the value to return
 * @priv: the pointer given to ioreq_serve_batch()/ioreq_serve()
 *
 * Return: IOREQ_RESPOND, IOREQ_NO_RESPONSE, or a negative errno that stops
 * the loop (records already handled in the batch are still answered).
 */
typedef int (*ioreq_handler_t)(struct ioreq_cmd *cmd, void *priv);

/**
 * struct ioreq_serve_stats - counters kept by the record loop
 * @records: records read
 * @reads: of which IOREQ_OP_READ
 * @writes: of which IOREQ_OP_WRITE
 * @posted: of which IOREQ_CMD_POSTED (never answered)
 * @responses: responses the kernel accepted
 * @unanswered: records the handler chose not to answer
 * @stale: responses refused with ENOENT (request no longer pending)
 * @batches: read() calls that returned records
 * @max_batch: most records returned by one read()
 * @multi_vcpu_batches: batches holding records of more than one vcpu
 */
struct ioreq_serve_stats {
	uint64_t records;
	uint64_t reads;
	uint64_t writes;
	uint64_t posted;
	uint64_t responses;
	uint64_t unanswered;
	uint64_t stale;
	uint64_t batches;
	uint64_t max_batch;
	uint64_t multi_vcpu_batches;
};

/**
 * ioreq_respond() - write responses back
 * @fd: session
 * @cmds: responses
 * @n: how many
 * @stale: out, if not NULL: incremented per response refused with ENOENT
 *
 * Skips responses whose request is no longer pending (ENOENT: the
 * hypervisor side gave up on it) and retries the rest, so one stale
 * record never loses the answers queued behind it.
 *
 * Return: responses accepted, or -errno.
 */
int ioreq_respond(int fd, const struct ioreq_cmd *cmds, size_t n,
		  uint64_t *stale);

/**
 * ioreq_serve_batch() - read one batch, handle it, answer it
 * @fd: session
 * @buf: room for @max records
 * @max: records to read at most
 * @fn: handler, called once per record in the order read
 * @priv: passed to @fn
 * @stats: counters to update, or NULL
 *
 * One blocking read() (unless the fd is O_NONBLOCK), then @fn per record,
 * then one write() of all the responses.
 *
 * Return: records read (> 0), or -errno: -ENODEV once the guest is gone,
 * -EINTR if a signal interrupted the read, -EAGAIN for O_NONBLOCK.
 */
int ioreq_serve_batch(int fd, struct ioreq_cmd *buf, size_t max,
		      ioreq_handler_t fn, void *priv,
		      struct ioreq_serve_stats *stats);

/**
 * ioreq_serve() - the record loop
 * @fd: session, attached and with regions claimed
 * @fn: handler
 * @priv: passed to @fn
 * @stop: if not NULL, the loop returns -EINTR when a signal interrupted
 *	it and *@stop is set (so install the handler without SA_RESTART);
 *	other interrupted reads are retried
 * @stats: counters to update, or NULL
 *
 * Return: 0 once the guest is gone (ENODEV), -EINTR when stopped, or
 * another -errno.
 */
int ioreq_serve(int fd, ioreq_handler_t fn, void *priv,
		volatile sig_atomic_t *stop, struct ioreq_serve_stats *stats);

/* ---- hypervisor side: /dev/ioreq-vmm ---------------------------------- */

/**
 * ioreq_vmm_open() - open the hypervisor side
 * @path: device node, or NULL for $IOREQ_VMM_DEV if set, else
 *	/dev/ioreq-vmm
 *
 * Return: a file descriptor, or -errno.
 */
int ioreq_vmm_open(const char *path);

/**
 * ioreq_vmm_create_guest() - IOREQ_VMM_CREATE_GUEST
 * @fd: from ioreq_vmm_open(); the guest lives until it is closed
 * @nr_vcpus: vcpus
 * @guest_id: in: the id wanted, 0 to let the kernel choose; out: the id
 *
 * Return: 0 or -errno (-EEXIST: id in use).
 */
int ioreq_vmm_create_guest(int fd, uint32_t nr_vcpus, uint64_t *guest_id);

/**
 * ioreq_vmm_guest_handle() - IOREQ_VMM_GUEST_HANDLE
 * @fd: guest fd
 *
 * Return: a new close-on-exec descriptor of a handle of the guest, for a
 * backend's ioreq_attach_handle(), or -errno.
 */
int ioreq_vmm_guest_handle(int fd);

/**
 * ioreq_vmm_access() - IOREQ_VMM_ACCESS, filling size and reserved members
 * @fd: guest fd
 * @acc: vcpu, space, op, len, addr, data, timeout_ms in; status, data out
 *
 * Retries on EINTR (the kernel promises nothing happened then).
 *
 * Return: 0 (see @acc->status) or -errno.
 */
int ioreq_vmm_access(int fd, struct ioreq_vmm_access *acc);

/**
 * ioreq_vmm_read() - one read access
 * @fd: guest fd
 * @vcpu: accessing vcpu
 * @space: IOREQ_SPACE_MMIO or IOREQ_SPACE_PIO
 * @addr: address or port
 * @len: 1, 2, 4 or 8
 * @timeout_ms: 0 for the provider's default
 * @data: out: the value (all ones unless DONE)
 *
 * Return: IOREQ_VMM_STATUS_* (>= 0) or -errno.
 */
int ioreq_vmm_read(int fd, uint32_t vcpu, uint8_t space, uint64_t addr,
		   uint8_t len, uint32_t timeout_ms, uint64_t *data);

/**
 * ioreq_vmm_write() - one write access
 * @fd: guest fd
 * @vcpu: accessing vcpu
 * @space: IOREQ_SPACE_MMIO or IOREQ_SPACE_PIO
 * @addr: address or port
 * @len: 1, 2, 4 or 8
 * @timeout_ms: 0 for the provider's default
 * @data: the value (low @len bytes)
 *
 * Return: IOREQ_VMM_STATUS_* (>= 0) or -errno.
 */
int ioreq_vmm_write(int fd, uint32_t vcpu, uint8_t space, uint64_t addr,
		    uint8_t len, uint32_t timeout_ms, uint64_t data);

/* ---- names, for messages ---------------------------------------------- */

const char *ioreq_space_name(uint32_t space);		/* "MMIO", "PIO" */
const char *ioreq_op_name(uint32_t op);			/* "read", "write" */
const char *ioreq_provider_name(uint32_t provider);	/* "xen", "vmm" */
const char *ioreq_vmm_status_name(uint32_t status);	/* "done", ... */

/**
 * ioreq_caps_str() - IOREQ_CAP_* bits as words
 * @caps: bits
 * @buf: out
 * @size: sizeof(@buf)
 *
 * Return: @buf, e.g. "mmio pio posted-writes".
 */
char *ioreq_caps_str(uint64_t caps, char *buf, size_t size);

/**
 * ioreq_size_mask() - all ones in the low @size bytes
 * @size: 1 to 8
 */
static inline uint64_t ioreq_size_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/**
 * ioreq_parse_u64() - strtoull() with base 0 that rejects junk
 * @s: string
 * @val: out
 *
 * Return: 0 or -EINVAL.
 */
int ioreq_parse_u64(const char *s, uint64_t *val);

/**
 * ioreq_parse_range() - parse "ADDR:LEN" (each in any C base)
 * @s: string
 * @addr: out
 * @len: out, at least 1, and addr + len must not wrap
 *
 * Return: 0 or -EINVAL.
 */
int ioreq_parse_range(const char *s, uint64_t *addr, uint64_t *len);

#ifdef __cplusplus
}
#endif

#endif /* _LIBIOREQ_H */
