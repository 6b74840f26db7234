// SPDX-License-Identifier: GPL-2.0
/*
 * The holder of ioreq-vhost's session across a frontend restart: hold.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "hold.h"

static int hold_addr(const char *path, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	strcpy(a->sun_path, path);
	return 0;
}

static int hold_send(int sock, char kind, const int *fds, unsigned int n)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * HOLD_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = &kind, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (n > HOLD_MAX_FDS)
		return -E2BIG;
	if (n) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	while (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* One message: its kind, or 0 at EOF, or -errno; its fds in @fds. */
static int hold_recv(int sock, int *fds, unsigned int max, unsigned int *n)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * HOLD_MAX_FDS)];
		struct cmsghdr align;
	} u;
	char kind = 0;
	struct iovec iov = { .iov_base = &kind, .iov_len = 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t r;

	*n = 0;
	do {
		r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == ECONNRESET ? 0 : -errno;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		unsigned int i, k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (*n < max)
				fds[(*n)++] = fd;
			else
				close(fd);
		}
	}
	if ((m.msg_flags & MSG_CTRUNC) || !r) {
		while (*n)
			close(fds[--*n]);
		return r ? -EMSGSIZE : 0;
	}
	return (unsigned char)kind;
}

int hold_connect(const char *path, unsigned int wait_s)
{
	struct sockaddr_un a;
	unsigned int tries;
	int fd, ret;

	ret = hold_addr(path, &a);
	if (ret)
		return ret;
	for (tries = 0;; tries++) {
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			return fd;
		ret = -errno;
		close(fd);
		if ((ret != -ENOENT && ret != -ECONNREFUSED) ||
		    tries >= wait_s * 10)
			return ret;
		usleep(100000);
	}
}

int hold_greeting(int sock, int *fds, unsigned int max)
{
	unsigned int n;
	int kind = hold_recv(sock, fds, max, &n);

	if (kind < 0)
		return kind;
	if (kind == 'E' && !n)
		return 0;
	if (kind == 'A' && n)
		return n;
	while (n)
		close(fds[--n]);
	return -EPROTO;
}

int hold_keep(int sock, const int *fds, unsigned int n)
{
	return hold_send(sock, 'K', fds, n);
}

int hold_drop(int sock)
{
	return hold_send(sock, 'D', NULL, 0);
}

static void hold_close_all(int *fds, unsigned int *n)
{
	while (*n)
		close(fds[--*n]);
}

static long hold_ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 +
	       (now.tv_nsec - t->tv_nsec) / 1000000;
}

int holder_main(const char *path, unsigned int grace_s)
{
	int held[HOLD_MAX_FDS], in[HOLD_MAX_FDS];
	unsigned int nheld = 0, nin;
	struct timespec lost = { 0 };
	struct sockaddr_un a;
	int lfd, conn = -1, orphaned = 0, kind;
	mode_t old;

	if (hold_addr(path, &a)) {
		fprintf(stderr, "ioreq-vhost holder: %s: path too long\n",
			path);
		return 1;
	}
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	unlink(path);
	old = umask(077);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 4)) {
		umask(old);
		fprintf(stderr, "ioreq-vhost holder: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	umask(old);
	printf("ioreq-vhost holder: at %s, grace %u s\n", path, grace_s);
	fflush(stdout);
	for (;;) {
		if (conn < 0) {
			struct pollfd p = { .fd = lfd, .events = POLLIN };
			long left = -1;

			if (orphaned) {
				left = grace_s * 1000L - hold_ms_since(&lost);
				if (left < 0)
					left = 0;
			}
			if (poll(&p, 1, left) < 0 && errno != EINTR)
				break;
			if (!(p.revents & POLLIN)) {
				if (!orphaned || hold_ms_since(&lost) <
						 grace_s * 1000L)
					continue;
				printf("ioreq-vhost holder: no successor within"
				       " %u s: closing the session (its"
				       " pending requests are aborted)\n",
				       grace_s);
				hold_close_all(held, &nheld);
				close(lfd);
				unlink(path);
				return 1;
			}
			conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (conn < 0)
				continue;
			if (hold_send(conn, nheld ? 'A' : 'E', held, nheld)) {
				close(conn);
				conn = -1;
				continue;
			}
			if (orphaned)
				printf("ioreq-vhost holder: successor adopted"
				       " %u descriptors %ld ms after the loss\n",
				       nheld, hold_ms_since(&lost));
			fflush(stdout);
			orphaned = 0;
			continue;
		}
		kind = hold_recv(conn, in, HOLD_MAX_FDS, &nin);
		if (kind == 'K' && nin) {
			hold_close_all(held, &nheld);
			memcpy(held, in, sizeof(int) * nin);
			nheld = nin;
			printf("ioreq-vhost holder: keeping %u descriptors\n",
			       nheld);
		} else if (kind == 'D') {
			hold_close_all(in, &nin);
			hold_close_all(held, &nheld);
			printf("ioreq-vhost holder: the frontend exited"
			       " cleanly\n");
			close(conn);
			close(lfd);
			unlink(path);
			return 0;
		} else {
			/* EOF, an error or nonsense: the frontend is gone */
			hold_close_all(in, &nin);
			close(conn);
			conn = -1;
			if (nheld) {
				orphaned = 1;
				clock_gettime(CLOCK_MONOTONIC, &lost);
				printf("ioreq-vhost holder: frontend gone;"
				       " holding the session for %u s\n",
				       grace_s);
			}
		}
		fflush(stdout);
	}
	hold_close_all(held, &nheld);
	close(lfd);
	unlink(path);
	return 1;
}
