/*
 * sandbox/spawn.c: the spawn side — describe a jail, build bubblewrap's
 * command line, and apply the jail in the child in its fixed order
 * (sandbox/spawn.h says which and why). Runs in the broker and mpjail-run,
 * possibly as root: trusted input, but it is the step that hands a tenant
 * its process, so every failure stops the spawn.
 */
#include "sandbox/spawn.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

void
sbx_jail_init(struct sbx_jail *j)
{
	memset(j, 0, sizeof(*j));
	j->ns_uid = -1;
	j->ns_gid = -1;
	j->no_new_privs = true;
	snprintf(j->bwrap, sizeof(j->bwrap), "/usr/bin/bwrap");
}

void
sbx_jail_strict(struct sbx_jail *j)
{
	sbx_jail_init(j);
	j->securebits_locked = true;
	j->clearenv = true;
	j->unshare = SBX_NS_ALL;
	j->disable_userns = true;
	j->new_session = true;
	j->die_with_parent = true;
	j->rlimits[RLIMIT_CORE] = (struct sbx_rlimit){ true, 0 };
	j->rlimits[RLIMIT_MEMLOCK] = (struct sbx_rlimit){ true, 0 };
	j->rlimits[RLIMIT_MSGQUEUE] = (struct sbx_rlimit){ true, 0 };
	j->rlimits[RLIMIT_RTPRIO] = (struct sbx_rlimit){ true, 0 };
}

int
sbx_jail_add_fd(struct sbx_jail *j, int src, int dst)
{
	if (src < 0 || dst < 0 || dst >= SBX_FD_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < j->nfds; i++)
		if (j->fds[i].dst == dst)
			return -EINVAL;
	if (j->nfds >= SBX_MAX_FDS)
		return -ENOSPC;
	j->fds[j->nfds++] = (struct sbx_fd){ src, dst };
	return 0;
}

int
sbx_jail_add_bind(struct sbx_jail *j, enum sbx_bind_kind kind,
    const char *src, const char *dst)
{
	struct sbx_bind *b;

	if (j->nbinds >= SBX_MAX_BINDS)
		return -ENOSPC;
	if (src[0] != '/' || dst[0] != '/' || strlen(src) >= SBX_PATH_MAX ||
	    strlen(dst) >= SBX_PATH_MAX)
		return -EINVAL;
	b = &j->binds[j->nbinds++];
	b->kind = kind;
	snprintf(b->src, sizeof(b->src), "%s", src);
	snprintf(b->dst, sizeof(b->dst), "%s", dst);
	return 0;
}

int
sbx_jail_check(const struct sbx_jail *j)
{
	if (j->nfds > SBX_MAX_FDS || j->nbinds > SBX_MAX_BINDS)
		return -EINVAL;
	if (j->have_id && (j->uid == 0 || j->gid == 0 ||
	    j->uid == (uid_t)-1 || j->gid == (gid_t)-1))
		return -EINVAL;
	/* nproc must wait until bubblewrap has forked: sandbox/self.h. */
	if (j->rlimits[RLIMIT_NPROC].set)
		return -EINVAL;
	for (unsigned int i = 0; i < j->nfds; i++) {
		if (j->fds[i].src < 0 || j->fds[i].dst < 0 ||
		    j->fds[i].dst >= SBX_FD_MAX)
			return -EINVAL;
		for (unsigned int k = 0; k < i; k++)
			if (j->fds[k].dst == j->fds[i].dst)
				return -EINVAL;
	}
	if ((j->disable_userns && !(j->unshare & SBX_NS_USER)) ||
	    (j->unshare & ~SBX_NS_ALL))
		return -EINVAL;
	return 0;
}

/* ---- bubblewrap's command line ---- */

static int __attribute__((format(printf, 2, 3)))
arg(struct sbx_argv *a, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(a->buf) - a->used;
	int w;

	if (a->argc + 1 >= SBX_ARGV_MAX)
		return -E2BIG;
	va_start(ap, fmt);
	w = vsnprintf(a->buf + a->used, room, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= room)
		return -E2BIG;
	a->argv[a->argc++] = a->buf + a->used;
	a->argv[a->argc] = NULL;
	a->used += (size_t)w + 1;
	return 0;
}

#define ARG(...) do { if ((err = arg(out, __VA_ARGS__))) return err; } while (0)

int
sbx_bwrap_argv(const struct sbx_jail *j, char *const argv[],
    struct sbx_argv *out)
{
	static const struct {
		unsigned int bit;
		const char *opt;
	} ns[] = {
		{ SBX_NS_PID, "--unshare-pid" },
		{ SBX_NS_NET, "--unshare-net" },
		{ SBX_NS_IPC, "--unshare-ipc" },
		{ SBX_NS_UTS, "--unshare-uts" },
		{ SBX_NS_CGROUP, "--unshare-cgroup" },
	};
	static const char *const bind_opt[] = {
		[SBX_BIND_RO] = "--ro-bind",
		[SBX_BIND_RW] = "--bind",
		[SBX_BIND_DEV] = "--dev-bind",
	};
	int err = sbx_jail_check(j);

	if (err)
		return err;
	if (!argv || !argv[0] || argv[0][0] != '/')
		return -EINVAL;
	memset(out, 0, offsetof(struct sbx_argv, buf));
	ARG("%s", j->bwrap);
	/*
	 * Unprivileged bubblewrap always makes a user and a mount namespace;
	 * say so, so the command line reads as what happens.
	 */
	ARG("--unshare-user");
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		if (j->unshare & ns[i].bit)
			ARG("%s", ns[i].opt);
	if (j->disable_userns)
		ARG("--disable-userns");
	if (j->ns_uid >= 0) {
		ARG("--uid");
		ARG("%ld", j->ns_uid);
	}
	if (j->ns_gid >= 0) {
		ARG("--gid");
		ARG("%ld", j->ns_gid);
	}
	if (j->die_with_parent)
		ARG("--die-with-parent");
	if (j->new_session)
		ARG("--new-session");
	ARG("--cap-drop");
	ARG("ALL");
	if (j->clearenv)
		ARG("--clearenv");
	/* The root is bubblewrap's own empty tmpfs; binds, then read-only. */
	for (unsigned int i = 0; i < j->nbinds; i++) {
		const struct sbx_bind *b = &j->binds[i];

		if ((unsigned int)b->kind > SBX_BIND_DEV)
			return -EINVAL;
		ARG("%s", bind_opt[b->kind]);
		ARG("%s", b->src);
		ARG("%s", b->dst);
	}
	if (j->proc) {
		ARG("--proc");
		ARG("/proc");
	}
	ARG("--remount-ro");
	ARG("/");
	ARG("--chdir");
	ARG("/");
	ARG("--");
	for (unsigned int i = 0; argv[i]; i++)
		ARG("%s", argv[i]);
	return 0;
}

/* ---- in the child ---- */

static int __attribute__((format(printf, 4, 5)))
fail(int err, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	used = strlen(why);
	if (used < len)
		snprintf(why + used, len - used, ": %s", strerror(-err));
	return err;
}

/* Step 1: become the tenant and hold no capability, or stay unprivileged. */
static int
change_identity(const struct sbx_jail *j, char *why, size_t len)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	int rc;

	if (getuid() == 0 || geteuid() == 0) {
		if (!j->have_id)
			return fail(-EPERM, why, len,
			    "started as root without a tenant uid");
		capng_clear(CAPNG_SELECT_BOTH);
		/*
		 * capng_lock needs CAP_SETPCAP, which change_id drops: lock
		 * first. It sets NO_SETUID_FIXUP, and change_id then applies
		 * the cleared sets itself, so nothing is kept.
		 */
		if (j->securebits_locked && capng_lock() < 0)
			return fail(-EPERM, why, len, "capng_lock");
		rc = capng_change_id((int)j->uid, (int)j->gid,
		    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING |
		    CAPNG_CLEAR_AMBIENT);
		if (rc < 0)
			return fail(-EPERM, why, len,
			    "capng_change_id(%u, %u) returned %d",
			    (unsigned int)j->uid, (unsigned int)j->gid, rc);
		if (getresuid(&r, &e, &s) < 0 || r != j->uid || e != j->uid ||
		    s != j->uid || getresgid(&rg, &eg, &sg) < 0 ||
		    rg != j->gid || eg != j->gid || sg != j->gid ||
		    getgroups(0, NULL) != 0)
			return fail(-EPERM, why, len, "identity not changed");
	} else {
		capng_get_caps_process();
		if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE) {
			capng_clear(CAPNG_SELECT_CAPS);
			if (capng_apply(CAPNG_SELECT_CAPS) < 0)
				return fail(-EPERM, why, len,
				    "dropping capabilities");
		}
	}
	capng_get_caps_process();
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return fail(-EPERM, why, len, "capabilities left");
	return 0;
}

static void
close_below(int lo, int hi)
{
	if (lo < hi)
		syscall(SYS_close_range, (unsigned int)lo,
		    (unsigned int)(hi - 1), 0U);
}

/*
 * Step 2: move every src above the highest dst first (so no dst clobbers
 * a src not yet moved), then onto its dst without CLOEXEC; close every
 * other fd below the top, and mark everything from the top up CLOEXEC so
 * it vanishes at exec while the report pipe still works until then.
 */
static int
place_fds(const struct sbx_jail *j, int *report_fd, char *why, size_t len)
{
	int tmp[SBX_MAX_FDS];
	int top = 0, next = 0, fd;

	for (unsigned int i = 0; i < j->nfds; i++)
		if (j->fds[i].dst >= top)
			top = j->fds[i].dst + 1;
	for (unsigned int i = 0; i < j->nfds; i++) {
		tmp[i] = fcntl(j->fds[i].src, F_DUPFD_CLOEXEC, top);
		if (tmp[i] < 0)
			return fail(-errno, why, len, "fd %d (for %d)",
			    j->fds[i].src, j->fds[i].dst);
	}
	if (*report_fd >= 0) {
		fd = fcntl(*report_fd, F_DUPFD_CLOEXEC, top);
		if (fd < 0)
			return fail(-errno, why, len, "report fd");
		*report_fd = fd;
	}
	for (unsigned int i = 0; i < j->nfds; i++)
		if (dup2(tmp[i], j->fds[i].dst) < 0)
			return fail(-errno, why, len, "dup2 to %d",
			    j->fds[i].dst);
	/* Close the gaps between the kept numbers, lowest first. */
	for (;;) {
		int lowest = top;

		for (unsigned int i = 0; i < j->nfds; i++)
			if (j->fds[i].dst >= next && j->fds[i].dst < lowest)
				lowest = j->fds[i].dst;
		close_below(next, lowest);
		if (lowest == top)
			break;
		next = lowest + 1;
	}
	if (syscall(SYS_close_range, (unsigned int)top, ~0U,
	    CLOSE_RANGE_CLOEXEC) < 0)
		return fail(-errno, why, len, "close_range");
	return 0;
}

static int
apply_rlimits(const struct sbx_jail *j, char *why, size_t len)
{
	for (int r = 0; r < SBX_RLIM_COUNT; r++) {
		struct rlimit rl;

		if (!j->rlimits[r].set)
			continue;
		rl.rlim_cur = rl.rlim_max = j->rlimits[r].value;
		if (setrlimit((__rlimit_resource_t)r, &rl) < 0)
			return fail(-errno, why, len, "setrlimit(%d)", r);
	}
	return 0;
}

static int
apply_and_exec(const struct sbx_jail *j, const struct sbx_argv *a,
    int *report_fd, char *why, size_t len)
{
	static char *const empty_env[] = { NULL };
	int err;

	err = sbx_jail_check(j);
	if (err)
		return fail(err, why, len, "jail");
	if (a->argc == 0)
		return fail(-EINVAL, why, len, "no command line");
	err = change_identity(j, why, len);
	if (err)
		return err;
	err = place_fds(j, report_fd, why, len);
	if (err)
		return err;
	err = apply_rlimits(j, why, len);
	if (err)
		return err;
	if (j->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(-errno, why, len, "PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail(-errno, why, len, "PR_SET_DUMPABLE");
	execve(a->argv[0], a->argv, j->clearenv ? empty_env : environ);
	return fail(-errno, why, len, "exec %s", a->argv[0]);
}

int
sbx_apply_and_exec(const struct sbx_jail *j, const struct sbx_argv *a,
    char *why, size_t len)
{
	int none = -1;

	return apply_and_exec(j, a, &none, why, len);
}

struct report {
	int err;
	char why[240];
};

int
sbx_spawn(const struct sbx_jail *j, char *const argv[], pid_t *pid,
    char *why, size_t len)
{
	struct sbx_argv a;
	struct report rep;
	int p[2], err, status;
	ssize_t n;
	pid_t child;

	err = sbx_bwrap_argv(j, argv, &a);
	if (err)
		return fail(err, why, len, "bubblewrap command line");
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(-errno, why, len, "pipe");
	child = fork();
	if (child < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return fail(err, why, len, "fork");
	}
	if (child == 0) {
		int wfd = p[1];

		close(p[0]);
		memset(&rep, 0, sizeof(rep));
		rep.err = apply_and_exec(j, &a, &wfd, rep.why,
		    sizeof(rep.why));
		if (write(wfd, &rep, sizeof(rep)) < 0)
			_exit(126);
		_exit(127);
	}
	close(p[1]);
	do
		n = read(p[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == 0) {
		*pid = child;
		return 0;
	}
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(rep))
		return fail(-EIO, why, len, "spawn child died before exec");
	rep.why[sizeof(rep.why) - 1] = '\0';
	snprintf(why, len, "%s", rep.why);
	return rep.err < 0 ? rep.err : -EIO;
}
