/*
 * broker/broker.h: what the broker's pieces share: a running child, the
 * log, the seccomp-kill lookup, the QEMU remote's readiness probe. Runs in
 * the privileged broker; their stderr and the serial console are relayed
 * as bytes, sanitised, never interpreted; the one message it reads is the
 * probe's QMP answer, bounded and used as a barrier only (brk_remote_ready).
 *
 * Contract: functions return 0 or a negative errno and never exit.
 */
#ifndef MPJAIL_BROKER_BROKER_H
#define MPJAIL_BROKER_BROKER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "broker/vm.h"

/* Exit statuses of mpjail-broker (mpjail-broker(8)). */
enum brk_exit {
	BRK_EXIT_OK = 0,	/* QEMU and every remote ended by themselves, 0 */
	BRK_EXIT_SETUP = 1,	/* refused before or while starting; nothing left */
	BRK_EXIT_USAGE = 2,
	BRK_EXIT_REMOTE = 3,	/* a remote died (or failed): VM stopped */
	BRK_EXIT_QEMU = 4,	/* QEMU exited non-zero or by a signal */
	BRK_EXIT_KILLED = 5,	/* something had to be SIGKILLed */
};

#define BRK_LINE_MAX 512	/* a relayed line, sanitised, at most */

/* One spawned, supervised process (bubblewrap's pid: its exit status is
 * the sandboxed program's, or 128+N when that died of signal N). */
struct brk_child {
	char who[BRK_NAME_MAX + 8];	/* "remote=lsi0", "qemu" */
	const char *prog;	/* "mpjail-lsi", "qemu": for messages */
	pid_t pid;		/* -1: not running */
	int pidfd;		/* -1 */
	int err_fd;		/* read end of its stderr pipe, or -1 */
	int qmp_fd;		/* kind = qemu remote: our end of its QMP, or -1 */
	char err_buf[BRK_LINE_MAX];	/* a partial stderr line */
	size_t err_len;
	uid_t uid;		/* its host uid, for the audit lookup */
	bool reaped;
	bool killed;		/* by us, SIGKILL */
	int status;		/* waitpid status of bubblewrap */
};

void brk_child_init(struct brk_child *c, const char *who, const char *prog);

/* "mpjail-broker: vm=NAME WHO: message\n" to stderr, in one write. */
void brk_log(const char *vm, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void brk_vlog(const char *vm, const char *who, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * Copy untrusted bytes to out (always terminated): printable ASCII and
 * tab kept, every other byte becomes '?' ("\r" is dropped).
 */
void brk_sanitize(const char *in, size_t n, char *out, size_t outlen);

/*
 * Relay what is readable on c->err_fd as log lines "WHO: stderr: ...",
 * sanitised and cut at BRK_LINE_MAX. Returns 0, or -EPIPE at end of
 * file (err_fd is then closed and -1).
 */
int brk_relay_stderr(const char *vm, struct brk_child *c);

/*
 * "exited 0", "exited 1", "killed by signal 31 (SIGSYS: seccomp kill)"
 * from bubblewrap's waitpid status, into buf.
 */
void brk_describe_status(const struct brk_child *c, char *buf, size_t len);

/* The signal that ended the sandboxed program, or 0. */
int brk_child_signal(const struct brk_child *c);

/*
 * The kernel's audit record of the latest seccomp kill of a process with
 * host uid `uid`, read from /dev/kmsg (kmsg_fd: opened by the broker and
 * positioned at its end at start-up, so only records since then count):
 * the syscall's name into buf. -ENOENT when there is none (or the kernel
 * did not log it), -EBADF without kmsg_fd.
 */
int brk_seccomp_victim(int kmsg_fd, uid_t uid, char *buf, size_t len);

/*
 * QEMU's own remote serves its mpqemu socket before its machine reset
 * (tests/lib/peers.c): nobody may talk to it before its main loop runs.
 * The proof is an answer on its QMP (c->qmp_fd, a socketpair end the
 * broker holds): send qmp_capabilities and query-status (with an id of
 * ours), then wait until a line holds a "return" with that id — QMP
 * commands are dispatched by the main loop, so an answer means start-up
 * and reset are over. The one message the broker ever reads from a
 * child, read as hostile and used as a barrier only: at most
 * BRK_READY_MAX_BYTES in all, lines cut at BRK_LINE_MAX, nothing kept,
 * nothing of it logged, waited for at most timeout_ms; the child's
 * stderr is relayed meanwhile and its death ends the wait. 0 when
 * ready; -ETIMEDOUT, -ECHILD (it ended), -EPIPE (QMP closed), -EPROTO (an error
 * answer, or too much said without the answer).
 */
#define BRK_READY_TIMEOUT_MS 20000
#define BRK_READY_MAX_BYTES (64 * 1024)
int brk_remote_ready(const char *vm, struct brk_child *c, int timeout_ms);

#endif /* MPJAIL_BROKER_BROKER_H */
