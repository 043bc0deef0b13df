/*
 * broker/supervise.c: the broker's event loop and shutdown order
 * (broker/supervise.h). Runs in the privileged broker; QEMU and the remotes
 * are assumed compromised: their output is relayed sanitised, QMP replies
 * are discarded unread, and every wait for them is bounded.
 */
#include "broker/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum phase {
	PH_RUNNING,
	PH_POWERDOWN,		/* system_powerdown sent; then quit */
	PH_QUIT,		/* quit sent; then SIGKILL */
	PH_DRAIN,		/* QEMU gone; remotes end on EOF; then SIGKILL */
};

#define MAX_POLL (4 + 3 * (1 + BRK_MAX_REMOTES))
#define AUDIT_TRIES 10		/* kauditd prints asynchronously */

void
brk_run_init(struct brk_run *run, const struct brk_vm *vm)
{
	memset(run, 0, sizeof(*run));
	run->vm = vm;
	brk_child_init(&run->qemu, "qemu", "qemu");
	for (unsigned int i = 0; i < BRK_MAX_REMOTES; i++)
		brk_child_init(&run->remotes[i], "", "mpjail-lsi");
	run->sig_fd = run->qmp_fd = run->console_fd = run->kmsg_fd = -1;
	run->out_fd = STDOUT_FILENO;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
qmp_send(struct brk_run *run, const char *cmd)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "{\"execute\":\"%s\"}\n", cmd);

	if (run->qmp_fd < 0 || n < 0 || (size_t)n >= sizeof(line))
		return;
	/* Never block on QEMU, never die of SIGPIPE. */
	if (send(run->qmp_fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    n)
		brk_log(run->vm->name, "qemu", "qmp %s: not sent (%s)", cmd,
		    strerror(errno));
	else
		brk_log(run->vm->name, "qemu", "qmp %s sent", cmd);
}

int
brk_qmp_hello(struct brk_run *run)
{
	static const char hello[] = "{\"execute\":\"qmp_capabilities\"}\n";

	if (send(run->qmp_fd, hello, sizeof(hello) - 1,
	    MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(sizeof(hello) - 1))
		return -errno;
	return 0;
}

/* Read what QEMU (or a QEMU remote) said on QMP and throw it away: after
 * start-up we parse none of it. */
static void
qmp_drain(int *fd)
{
	char junk[4096];
	ssize_t n = recv(*fd, junk, sizeof(junk), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(*fd);
		*fd = -1;
	}
}

void
brk_console_out(struct brk_run *run, int fd)
{
	char self[64];
	struct stat st, st2;
	int own;

	run->out_fd = fd;
	if (fstat(fd, &st) < 0) {
		run->out_fd = -1;
		return;
	}
	if (S_ISSOCK(st.st_mode)) {
		run->out_sock = true;
		return;
	}
	if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		return;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	own = open(self, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (own < 0)
		return;
	if (fstat(own, &st2) < 0 || st2.st_dev != st.st_dev ||
	    st2.st_ino != st.st_ino) {
		close(own);
		return;
	}
	run->out_fd = own;
	run->out_own = true;
}

/* Write what stdout takes now, never waiting. */
static void
console_flush(struct brk_run *run)
{
	size_t done = 0;

	while (run->out_fd >= 0 && done < run->out_len) {
		size_t n = run->out_len - done;
		ssize_t w;

		if (run->out_sock) {
			w = send(run->out_fd, run->out_buf + done, n,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		} else {
			if (!run->out_own) {
				struct pollfd p = { .fd = run->out_fd,
				    .events = POLLOUT };

				if (poll(&p, 1, 0) <= 0 ||
				    !(p.revents & POLLOUT))
					break;
				if (n > PIPE_BUF)
					n = PIPE_BUF;
			}
			w = write(run->out_fd, run->out_buf + done, n);
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			/* stdout is gone: drop the console from now on */
			run->out_dropped += run->out_len - done;
			done = run->out_len;
			if (run->out_own)
				close(run->out_fd);
			run->out_fd = -1;
			break;
		}
		done += (size_t)w;
	}
	memmove(run->out_buf, run->out_buf + done, run->out_len - done);
	run->out_len -= done;
}

/* The guest's console to our stdout: printable ASCII, tab and newline;
 * what does not fit the buffer is dropped, counted, and said once. */
static void
console_relay(struct brk_run *run)
{
	char buf[4096];
	ssize_t n = read(run->console_fd, buf, sizeof(buf));

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(run->console_fd);
		run->console_fd = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch == '\r')
			continue;
		if (run->out_fd < 0 || run->out_len >= sizeof(run->out_buf)) {
			if (run->out_dropped++ == 0 && run->out_fd >= 0)
				brk_log(run->vm->name, "console", "stdout is "
				    "not being read: dropping console output "
				    "(%zu bytes waiting)", run->out_len);
			continue;
		}
		run->out_buf[run->out_len++] = (ch == '\n' || ch == '\t' ||
		    (ch >= ' ' && ch < 0x7f)) ? (char)ch : '?';
	}
	console_flush(run);
}

static void
kill_child(struct brk_child *c)
{
	if (c->pid > 0 && !c->reaped) {
		/* bubblewrap: its sandboxed child dies with it (PDEATHSIG). */
		kill(c->pid, SIGKILL);
		c->killed = true;
	}
}

/* Reap c if it has ended; true when it just did. */
static bool
reap(struct brk_child *c, bool block)
{
	pid_t r;

	if (c->pid <= 0 || c->reaped)
		return false;
	do
		r = waitpid(c->pid, &c->status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r != c->pid)
		return false;
	c->reaped = true;
	if (c->pidfd >= 0) {
		close(c->pidfd);
		c->pidfd = -1;
	}
	if (c->qmp_fd >= 0) {
		close(c->qmp_fd);
		c->qmp_fd = -1;
	}
	return true;
}

static void
log_end(struct brk_run *run, struct brk_child *c, const char *what)
{
	char st[160], sys[64];

	/* Whatever it wrote last comes before the line about its end. */
	while (c->err_fd >= 0 && brk_relay_stderr(run->vm->name, c) == 0) {
		struct pollfd p = { .fd = c->err_fd, .events = POLLIN };

		if (poll(&p, 1, 0) <= 0)
			break;
	}
	brk_describe_status(c, st, sizeof(st));
	if (brk_child_signal(c) == SIGSYS) {
		int err = -ENOENT;

		for (int i = 0; i < AUDIT_TRIES && err == -ENOENT; i++) {
			err = brk_seccomp_victim(run->kmsg_fd, c->uid, sys,
			    sizeof(sys));
			if (err == -ENOENT && run->kmsg_fd >= 0)
				usleep(20000);
		}
		if (!err) {
			brk_log(run->vm->name, c->who, "%s: %s; syscall %s",
			    what, st, sys);
			return;
		}
		brk_log(run->vm->name, c->who, "%s: %s; syscall unknown (%s)",
		    what, st, run->kmsg_fd < 0 ? "no /dev/kmsg: not root" :
		    "no audit record in /dev/kmsg");
		return;
	}
	brk_log(run->vm->name, c->who, "%s: %s", what, st);
}

static bool
all_remotes_reaped(const struct brk_run *run)
{
	for (unsigned int i = 0; i < run->nremotes; i++)
		if (run->remotes[i].pid > 0 && !run->remotes[i].reaped)
			return false;
	return true;
}

static bool
exited_zero(const struct brk_child *c)
{
	return WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
}

int
brk_supervise(struct brk_run *run)
{
	const char *vm = run->vm->name;
	enum phase ph = PH_RUNNING;
	long long deadline = -1;
	bool remote_died = false, forced = false;

	for (;;) {
		struct pollfd p[MAX_POLL];
		struct brk_child *owner[MAX_POLL];
		unsigned int n = 0;
		int timeout = -1, r;

		if (run->qemu.reaped && all_remotes_reaped(run))
			break;
#define WATCH(fd_, who_) do { if ((fd_) >= 0) { \
	p[n] = (struct pollfd){ .fd = (fd_), .events = POLLIN }; \
	owner[n++] = (who_); } } while (0)
		WATCH(run->sig_fd, NULL);
		WATCH(run->qmp_fd, NULL);
		WATCH(run->console_fd, NULL);
		WATCH(run->qemu.pidfd, &run->qemu);
		WATCH(run->qemu.err_fd, &run->qemu);
		for (unsigned int i = 0; i < run->nremotes; i++) {
			WATCH(run->remotes[i].pidfd, &run->remotes[i]);
			WATCH(run->remotes[i].err_fd, &run->remotes[i]);
			WATCH(run->remotes[i].qmp_fd, &run->remotes[i]);
		}
#undef WATCH
		if (run->out_fd >= 0 && run->out_len > 0) {
			p[n] = (struct pollfd){ .fd = run->out_fd,
			    .events = POLLOUT };
			owner[n++] = NULL;
		}
		if (deadline >= 0) {
			long long left = deadline - now_ms();

			timeout = left < 0 ? 0 : (int)left;
		}
		r = poll(p, n, timeout);
		if (r < 0 && errno != EINTR) {
			brk_log(vm, NULL, "poll: %s: stopping everything",
			    strerror(errno));
			brk_kill_all(run);
			return BRK_EXIT_KILLED;
		}

		/* Timers first: each step of the shutdown is bounded. */
		if (deadline >= 0 && now_ms() >= deadline) {
			deadline = -1;
			if (ph == PH_POWERDOWN) {
				brk_log(vm, "qemu", "no power-off within %u s",
				    run->vm->shutdown_timeout);
				qmp_send(run, "quit");
				ph = PH_QUIT;
				deadline = now_ms() + BRK_QUIT_TIMEOUT_MS;
			} else if (ph == PH_QUIT) {
				brk_log(vm, "qemu", "still running %d ms after "
				    "quit: SIGKILL", BRK_QUIT_TIMEOUT_MS);
				kill_child(&run->qemu);
				forced = true;
			} else if (ph == PH_DRAIN) {
				for (unsigned int i = 0; i < run->nremotes;
				    i++) {
					struct brk_child *c = &run->remotes[i];

					if (c->reaped || c->pid <= 0)
						continue;
					brk_log(vm, c->who, "still running %d "
					    "ms after QEMU: SIGKILL",
					    BRK_DRAIN_TIMEOUT_MS);
					kill_child(c);
					forced = true;
				}
			}
		}
		if (r <= 0)
			continue;

		for (unsigned int i = 0; i < n; i++) {
			struct brk_child *c = owner[i];

			if (!p[i].revents)
				continue;
			if (p[i].fd == run->sig_fd) {
				struct signalfd_siginfo si;

				if (read(run->sig_fd, &si, sizeof(si)) !=
				    (ssize_t)sizeof(si))
					continue;
				brk_log(vm, NULL, "signal %u (%s) from pid %u",
				    si.ssi_signo, strsignal((int)si.ssi_signo),
				    si.ssi_pid);
				if (ph == PH_RUNNING) {
					qmp_send(run, "system_powerdown");
					ph = PH_POWERDOWN;
					deadline = now_ms() + 1000LL *
					    run->vm->shutdown_timeout;
				} else if (ph == PH_POWERDOWN) {
					qmp_send(run, "quit");
					ph = PH_QUIT;
					deadline = now_ms() +
					    BRK_QUIT_TIMEOUT_MS;
				} else {
					deadline = now_ms();	/* kill now */
				}
			} else if (p[i].fd == run->qmp_fd) {
				qmp_drain(&run->qmp_fd);
			} else if (c && p[i].fd == c->qmp_fd) {
				qmp_drain(&c->qmp_fd);
			} else if (p[i].fd == run->out_fd &&
			    p[i].events == POLLOUT) {
				console_flush(run);
			} else if (p[i].fd == run->console_fd) {
				console_relay(run);
			} else if (c && p[i].fd == c->err_fd) {
				brk_relay_stderr(vm, c);
			} else if (c && p[i].fd == c->pidfd) {
				if (!reap(c, false))
					continue;
				if (c == &run->qemu) {
					log_end(run, c, "ended");
					if (run->qmp_fd >= 0) {
						close(run->qmp_fd);
						run->qmp_fd = -1;
					}
					ph = PH_DRAIN;
					deadline = now_ms() +
					    BRK_DRAIN_TIMEOUT_MS;
				} else if (ph == PH_DRAIN || !exited_zero(c) ||
				    ph == PH_RUNNING) {
					bool died = ph != PH_DRAIN;

					log_end(run, c, died ? "died" :
					    "ended");
					if (died && !remote_died) {
						remote_died = true;
						brk_log(vm, NULL, "stopping the "
						    "VM: %s is gone", c->who);
						qmp_send(run, "quit");
						ph = PH_QUIT;
						deadline = now_ms() +
						    BRK_QUIT_TIMEOUT_MS;
					}
				} else {
					log_end(run, c, "ended");
				}
			}
		}
	}
	/* Relay what is left in the pipes, then the verdict. */
	while (run->console_fd >= 0) {
		struct pollfd cp = { .fd = run->console_fd, .events = POLLIN };

		if (poll(&cp, 1, 0) <= 0)
			break;
		console_relay(run);
	}
	/* The rest goes if stdout takes it within a moment; never more. */
	for (int i = 0; i < 50 && run->out_fd >= 0 && run->out_len > 0; i++) {
		struct pollfd op = { .fd = run->out_fd, .events = POLLOUT };

		if (poll(&op, 1, 20) > 0)
			console_flush(run);
	}
	run->out_dropped += run->out_len;
	run->out_len = 0;
	if (run->out_dropped)
		brk_log(vm, "console", "%llu bytes dropped (stdout did not "
		    "take them)", run->out_dropped);
	if (remote_died)
		return BRK_EXIT_REMOTE;
	if (forced)
		return BRK_EXIT_KILLED;
	if (!exited_zero(&run->qemu))
		return BRK_EXIT_QEMU;
	for (unsigned int i = 0; i < run->nremotes; i++)
		if (!exited_zero(&run->remotes[i]))
			return BRK_EXIT_REMOTE;
	return BRK_EXIT_OK;
}

void
brk_kill_all(struct brk_run *run)
{
	kill_child(&run->qemu);
	for (unsigned int i = 0; i < run->nremotes; i++)
		kill_child(&run->remotes[i]);
	if (reap(&run->qemu, true))
		log_end(run, &run->qemu, "stopped");
	for (unsigned int i = 0; i < run->nremotes; i++)
		if (reap(&run->remotes[i], true))
			log_end(run, &run->remotes[i], "stopped");
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void
brk_run_close(struct brk_run *run)
{
	close_fd(&run->qmp_fd);
	close_fd(&run->console_fd);
	close_fd(&run->sig_fd);
	close_fd(&run->kmsg_fd);
	if (run->out_own)
		close_fd(&run->out_fd);
	run->out_own = false;
	close_fd(&run->qemu.pidfd);
	close_fd(&run->qemu.err_fd);
	for (unsigned int i = 0; i < BRK_MAX_REMOTES; i++) {
		close_fd(&run->remotes[i].pidfd);
		close_fd(&run->remotes[i].err_fd);
		close_fd(&run->remotes[i].qmp_fd);
	}
}

/* Our children now (we are their subreaper), from /proc; SIGKILL each. */
static unsigned int
kill_orphans(void)
{
	char path[64], buf[4096];
	unsigned int n = 0;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
	    (int)getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	for (char *s = buf, *end; *s; s = end) {
		long pid = strtol(s, &end, 10);

		if (end == s)
			break;
		if (pid > 1 && kill((pid_t)pid, SIGKILL) == 0)
			n++;
	}
	return n;
}

int
brk_reap_orphans(const char *vm, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	unsigned int killed = 0;
	int status;

	for (;;) {
		pid_t r = waitpid(-1, &status, WNOHANG);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return (int)killed;	/* ECHILD: nothing is left */
		if (r > 0)
			continue;
		if (now_ms() >= deadline) {
			killed = kill_orphans();
			if (killed)
				brk_log(vm, NULL, "%u process(es) left after "
				    "%d ms: SIGKILL", killed, timeout_ms);
			while ((r = waitpid(-1, &status, 0)) > 0 ||
			    (r < 0 && errno == EINTR))
				;
			return (int)killed;
		}
		usleep(10000);
	}
}
