/*
 * broker/ready.c: waiting for QEMU's own remote to finish starting
 * (brk_remote_ready, broker/broker.h). Runs in the privileged broker and
 * reads the one thing it ever reads from a child: a QMP answer, treated
 * as hostile — bounded in bytes, lines and time, matched against one
 * fixed form, never stored, logged or interpreted further.
 */
#include "broker/broker.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READY_ID "mpjail-ready"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct lines {
	char buf[BRK_LINE_MAX];
	size_t len;
	bool overlong;		/* the current line is being skipped */
};

static bool
ends_with(const char *s, size_t n, const char *tail)
{
	size_t t = strlen(tail);

	return n >= t && memcmp(s + n - t, tail, t) == 0;
}

/* One complete line: 1 our answer, -1 our error, 0 anything else. */
static int
judge(const char *s, size_t n)
{
	static const char ret[] = "{\"return\": ";
	static const char errh[] = "{\"error\": ";
	static const char id[] = ", \"id\": \"" READY_ID "\"}";

	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
		n--;
	if (!ends_with(s, n, id))
		return 0;
	if (n >= sizeof(ret) - 1 && !memcmp(s, ret, sizeof(ret) - 1))
		return 1;
	if (n >= sizeof(errh) - 1 && !memcmp(s, errh, sizeof(errh) - 1))
		return -1;
	return 0;
}

/* Feed bytes; the verdict of the first line that has one, else 0. */
static int
feed(struct lines *l, const char *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int v;

		if (in[i] != '\n') {
			if (l->len < sizeof(l->buf))
				l->buf[l->len++] = in[i];
			else
				l->overlong = true;
			continue;
		}
		v = l->overlong ? 0 : judge(l->buf, l->len);
		l->len = 0;
		l->overlong = false;
		if (v)
			return v;
	}
	return 0;
}

int
brk_remote_ready(const char *vm, struct brk_child *c, int timeout_ms)
{
	static const char cmds[] = "{\"execute\":\"qmp_capabilities\"}\n"
	    "{\"execute\":\"query-status\",\"id\":\"" READY_ID "\"}\n";
	long long deadline = now_ms() + timeout_ms;
	struct lines l = { .len = 0 };
	size_t total = 0;

	if (c->qmp_fd < 0)
		return -EBADF;
	/* Queued before QEMU reads anything: a socketpair buffers it. */
	if (send(c->qmp_fd, cmds, sizeof(cmds) - 1,
	    MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(sizeof(cmds) - 1))
		return -EPIPE;
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = c->qmp_fd, .events = POLLIN },
			{ .fd = c->pidfd, .events = POLLIN },
			{ .fd = c->err_fd, .events = POLLIN },
		};
		long long left = deadline - now_ms();
		char chunk[4096];
		ssize_t n;
		int r, v;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(p, 3, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (p[2].revents)
			brk_relay_stderr(vm, c);
		if (p[1].revents)
			return -ECHILD;	/* it ended: the supervisor says how */
		if (!p[0].revents)
			continue;
		n = recv(c->qmp_fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			/* Closed: most likely dying; let it, so that the
			 * log can say how (a seccomp kill names a syscall). */
			struct pollfd d = { .fd = c->pidfd, .events = POLLIN };

			return poll(&d, 1, 1000) > 0 ? -ECHILD : -EPIPE;
		}
		total += (size_t)n;
		v = feed(&l, chunk, (size_t)n);
		if (v > 0)
			return 0;
		if (v < 0 || total > BRK_READY_MAX_BYTES)
			return -EPROTO;
	}
}
