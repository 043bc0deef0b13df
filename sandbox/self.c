/*
 * sandbox/self.c: the self-applied lockdown, in its fixed order. Runs in
 * the sandboxed process (remote, exec shim) before any untrusted input;
 * its description is built by that process's own main().
 */
#include "sandbox/self.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sandbox/seccomp.h"

void
sbx_lockdown_init(struct sbx_lockdown *l)
{
	memset(l, 0, sizeof(*l));
	l->seccomp_fd = -1;
	l->log_fd = -1;
	l->log_prefix = "mpjail";
}

void
sbx_lockdown_remote(struct sbx_lockdown *l, int seccomp_fd)
{
	sbx_lockdown_init(l);
	l->nproc_set = true;
	l->nproc = 0;
	l->landlock = true;
	sbx_landlock_lockdown(&l->ll);
	l->seccomp_fd = seccomp_fd;
	l->close_seccomp_fd = true;
}

int
sbx_lockdown_apply(const struct sbx_lockdown *l, struct sbx_ll_report *r,
    char *why, size_t len)
{
	int err;

	memset(r, 0, sizeof(*r));
	snprintf(r->text, sizeof(r->text), "landlock: not requested");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		err = -errno;
		snprintf(why, len, "prctl(PR_SET_DUMPABLE): %s", strerror(-err));
		return err;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err = -errno;
		snprintf(why, len, "prctl(PR_SET_NO_NEW_PRIVS): %s",
		    strerror(-err));
		return err;
	}
	if (l->nproc_set) {
		struct rlimit rl = { l->nproc, l->nproc };

		if (setrlimit(RLIMIT_NPROC, &rl) < 0) {
			err = -errno;
			snprintf(why, len, "setrlimit(nproc): %s",
			    strerror(-err));
			return err;
		}
	}
	if (l->landlock) {
		err = sbx_landlock_apply(&l->ll, r);
		if (err) {
			snprintf(why, len, "%s", r->text);
			return err;
		}
		/* Said now: once seccomp is in, the log may be all we have. */
		if (l->log_fd >= 0 && r->status != SBX_LL_FULLY_ENFORCED)
			dprintf(l->log_fd, "%s: %s\n", l->log_prefix, r->text);
	}
	if (l->seccomp_fd >= 0) {
		size_t bytes;

		err = sbx_seccomp_check_fd(l->seccomp_fd, &bytes);
		if (err) {
			snprintf(why, len, "seccomp fd %d: not a sealed "
			    "program (%s)", l->seccomp_fd, strerror(-err));
			return err;
		}
		err = sbx_seccomp_install_fd(l->seccomp_fd);
		if (err) {
			snprintf(why, len, "seccomp from fd %d: %s",
			    l->seccomp_fd, strerror(-err));
			return err;
		}
		/* The policy allows close; nothing else may touch the fd. */
		if (l->close_seccomp_fd)
			close(l->seccomp_fd);
	}
	return 0;
}
