/*
 * broker/supervise.h: running a started VM to its end: the event loop over
 * the children's pidfds, signals, the console and the children's stderr;
 * the shutdown order; the exit status. Runs in the broker. The only bytes
 * it sends anyone are fixed QMP commands to QEMU; what QEMU answers on QMP
 * is read and thrown away, never parsed.
 *
 * Contract: never exits; returns the broker's exit status (enum brk_exit)
 * once every child is reaped.
 */
#ifndef MPJAIL_BROKER_SUPERVISE_H
#define MPJAIL_BROKER_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/broker.h"
#include "broker/vm.h"

#define BRK_QUIT_TIMEOUT_MS 5000	/* QMP quit, then SIGKILL */
#define BRK_DRAIN_TIMEOUT_MS 5000	/* remotes after QEMU, then SIGKILL */
#define BRK_ORPHAN_TIMEOUT_MS 2000	/* the rest, then SIGKILL */
#define BRK_CONSOLE_BUF (16 * 1024)	/* console bytes stdout has not taken */

struct brk_run {
	const struct brk_vm *vm;
	struct brk_child qemu;
	struct brk_child remotes[BRK_MAX_REMOTES];
	unsigned int nremotes;
	int sig_fd;		/* signalfd: SIGTERM, SIGINT, SIGHUP, SIGQUIT */
	int qmp_fd;		/* our end of QEMU's QMP socketpair, or -1 */
	int console_fd;		/* read end of QEMU's console pipe, or -1 */
	/* The console's way out (our stdout), never blocking the broker:
	 * what stdout does not take now waits in out_buf; what does not
	 * fit there is dropped and counted (brk_console_out). */
	int out_fd;		/* -1: dropped (stdout gone) */
	bool out_own;		/* out_fd is our non-blocking reopen */
	bool out_sock;		/* a socket: send(MSG_DONTWAIT) */
	size_t out_len;
	unsigned long long out_dropped;	/* bytes */
	char out_buf[BRK_CONSOLE_BUF];
	int kmsg_fd;		/* /dev/kmsg at its end, or -1 */
};

/* Every fd -1, every child not running. */
void brk_run_init(struct brk_run *run, const struct brk_vm *vm);

/*
 * Where the console goes: fd (our stdout). A pipe, FIFO or terminal is
 * reopened through /proc/self/fd as our own non-blocking description
 * (never O_NONBLOCK on a description we share with whoever started us);
 * a socket gets send(MSG_DONTWAIT); else, or if the reopen fails, each
 * write is at most PIPE_BUF bytes and only after poll() says writable.
 */
void brk_console_out(struct brk_run *run, int fd);

/* QMP: capabilities negotiation; fire and forget. 0 or -errno. */
int brk_qmp_hello(struct brk_run *run);

/* Run until every child has ended; the exit status. */
int brk_supervise(struct brk_run *run);

/* Set-up failed half-way: SIGKILL and reap every child started. */
void brk_kill_all(struct brk_run *run);

/*
 * The broker is the child subreaper of everything it starts: once the
 * supervised children are reaped, reap whatever else of theirs is ending
 * (bubblewrap's pid 1 outlives its monitor by a moment), SIGKILLing what
 * is still there after timeout_ms. Returns how many were killed.
 */
int brk_reap_orphans(const char *vm, int timeout_ms);

/* Close every fd of the run (children must be reaped). */
void brk_run_close(struct brk_run *run);

#endif /* MPJAIL_BROKER_SUPERVISE_H */
