/*
 * broker/log.c: the broker's log lines, relaying children's stderr, naming
 * how a child ended, and finding the syscall of a seccomp kill in the
 * kernel's audit records. Runs in the broker: every byte from a child is
 * untrusted and is copied sanitised, never interpreted.
 */
#include "broker/broker.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "mpjail-broker"
#define KMSG_RECORDS_MAX 4096	/* records read per lookup, at most */

void
brk_child_init(struct brk_child *c, const char *who, const char *prog)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->who, sizeof(c->who), "%s", who);
	c->prog = prog;
	c->pid = -1;
	c->pidfd = -1;
	c->err_fd = -1;
	c->qmp_fd = -1;
}

void
brk_vlog(const char *vm, const char *who, const char *fmt, va_list ap)
{
	char line[BRK_LINE_MAX + 128];
	int n, m;

	n = snprintf(line, sizeof(line), PROG ": vm=%s%s%s: ", vm,
	    who && who[0] ? " " : "", who ? who : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line, so lines of several writers do not mix. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void
brk_log(const char *vm, const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	brk_vlog(vm, who, fmt, ap);
	va_end(ap);
}

void
brk_sanitize(const char *in, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '\r')
			continue;
		out[o++] = (ch == '\t' || (ch >= ' ' && ch < 0x7f)) ?
		    (char)ch : '?';
	}
	out[o] = '\0';
}

static void
flush_line(const char *vm, struct brk_child *c)
{
	char clean[BRK_LINE_MAX];

	brk_sanitize(c->err_buf, c->err_len, clean, sizeof(clean));
	if (clean[0])
		brk_log(vm, c->who, "stderr: %s", clean);
	c->err_len = 0;
}

int
brk_relay_stderr(const char *vm, struct brk_child *c)
{
	char buf[4096];
	ssize_t n;

	if (c->err_fd < 0)
		return -EPIPE;
	n = read(c->err_fd, buf, sizeof(buf));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0) {
		if (c->err_len)
			flush_line(vm, c);
		close(c->err_fd);
		c->err_fd = -1;
		return -EPIPE;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			flush_line(vm, c);
			continue;
		}
		c->err_buf[c->err_len++] = buf[i];
		if (c->err_len >= sizeof(c->err_buf) - 1)
			flush_line(vm, c);	/* cut, never grow */
	}
	return 0;
}

int
brk_child_signal(const struct brk_child *c)
{
	int code;

	if (WIFSIGNALED(c->status))
		return WTERMSIG(c->status);
	if (!WIFEXITED(c->status))
		return 0;
	/* bubblewrap passes on a signal death as 128 + N. */
	code = WEXITSTATUS(c->status);
	return code > 128 && code < 128 + 65 ? code - 128 : 0;
}

void
brk_describe_status(const struct brk_child *c, char *buf, size_t len)
{
	int sig = brk_child_signal(c);

	if (WIFSIGNALED(c->status))
		snprintf(buf, len, "bubblewrap killed by signal %d (%s)%s",
		    sig, strsignal(sig), c->killed ? ", by the broker" : "");
	else if (sig == SIGSYS)
		snprintf(buf, len, "%s killed by signal %d (SIGSYS: seccomp "
		    "kill)", c->prog, sig);
	else if (sig)
		snprintf(buf, len, "%s killed by signal %d (%s)%s", c->prog,
		    sig, strsignal(sig), c->killed ? ", by the broker" : "");
	else if (WIFEXITED(c->status))
		snprintf(buf, len, "%s exited %d", c->prog,
		    WEXITSTATUS(c->status));
	else
		snprintf(buf, len, "%s ended, status 0x%x", c->prog,
		    (unsigned int)c->status);
}

/* The number after `key` in a record, or -1. */
static long
field(const char *rec, const char *key)
{
	const char *p = strstr(rec, key);
	char *end;
	long v;

	if (!p)
		return -1;
	p += strlen(key);
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtol(p, &end, 10);
	return errno ? -1 : v;
}

int
brk_seccomp_victim(int kmsg_fd, uid_t uid, char *buf, size_t len)
{
	char rec[8192], want_uid[32];
	long found = -1;
	char *name;

	if (kmsg_fd < 0)
		return -EBADF;
	snprintf(want_uid, sizeof(want_uid), " uid=%u ", (unsigned int)uid);
	for (unsigned int i = 0; i < KMSG_RECORDS_MAX; i++) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		long nr;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		/*
		 * Audit type 1326 is AUDIT_SECCOMP. The comm and exe fields
		 * are the victim's to choose; only the numbers are read, and
		 * only after the fixed uid field.
		 */
		if (!strstr(rec, "type=1326 ") || !strstr(rec, want_uid) ||
		    field(rec, " sig=") != SIGSYS)
			continue;
		nr = field(rec, " syscall=");
		if (nr >= 0)
			found = nr;
	}
	if (found < 0)
		return -ENOENT;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)found);
	snprintf(buf, len, "%s (nr %ld)", name ? name : "?", found);
	free(name);
	return 0;
}
