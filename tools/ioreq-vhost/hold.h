/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The holder: a small process that keeps descriptors of a frontend's
 * /dev/ioreq session (and of whatever else the frontend names) so that
 * they outlive the frontend, and hands them to its successor.
 *
 * One SOCK_SEQPACKET unix socket, one frontend connected at a time.  Each
 * message is one byte, some with descriptors (SCM_RIGHTS):
 *
 *   holder -> frontend, at connect:  'A' + the held fds (adopt them)
 *                                    'E'  (nothing held: start afresh)
 *   frontend -> holder:              'K' + fds (keep these from now on)
 *                                    'D'  (a clean exit: close them)
 *
 * When the connected frontend goes away without 'D' (killed, crashed), the
 * holder keeps its descriptors for a grace period and hands them to the
 * next frontend that connects.  If none comes in time, it closes them: for
 * a session that is its last descriptor, and the kernel ends the session
 * as it ends any (regions released, pending requests aborted).
 */
#ifndef _IOREQ_VHOST_HOLD_H
#define _IOREQ_VHOST_HOLD_H

#define HOLD_MAX_FDS	64

/* Connect to the holder at @path, retrying for @wait_s: fd or -errno. */
int hold_connect(const char *path, unsigned int wait_s);
/*
 * The holder's greeting: the number of descriptors handed over into @fds
 * (close-on-exec), 0 if it holds none, or -errno.
 */
int hold_greeting(int sock, int *fds, unsigned int max);
/* Ask the holder to keep @fds (replacing what it held): 0 or -errno. */
int hold_keep(int sock, const int *fds, unsigned int n);
/* A clean exit: the holder closes what it held and exits.  0 or -errno. */
int hold_drop(int sock);
/*
 * Be the holder on @path (created mode 0600: whoever connects gets the
 * session).  Returns the exit status: 0 after a 'D', 1 when the grace
 * ended with descriptors held (or on error).
 */
int holder_main(const char *path, unsigned int grace_s);

#endif /* _IOREQ_VHOST_HOLD_H */
