/*
 * sandbox/self.h: self side — the last lockdown a sandboxed process applies
 * to itself, in one fixed order, before it reads its first untrusted byte:
 * dumpable off, no_new_privs, the rlimits that must wait until after
 * bubblewrap (nproc), Landlock, seccomp. Linked into mpjail-lsi and
 * mpjail-exec: libc only, no allocation.
 *
 * Contract: returns 0 or a negative errno and never exits; on failure
 * `why` holds one line naming the step. The process is then part-confined
 * and must exit.
 */
#ifndef MPJAIL_SANDBOX_SELF_H
#define MPJAIL_SANDBOX_SELF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>

#include "sandbox/landlock.h"

struct sbx_lockdown {
	bool nproc_set;		/* RLIMIT_NPROC (soft = hard) set here: */
	rlim_t nproc;		/* bubblewrap itself must fork, so not before */
	bool landlock;		/* apply `ll` */
	struct sbx_landlock ll;
	int seccomp_fd;		/* sealed memfd (sandbox/seccomp.h), or -1 */
	bool close_seccomp_fd;	/* close it once installed */
	int log_fd;		/* -1, or where "PROG: landlock ABI 3: partially
				   enforced; ..." goes before seccomp starts */
	const char *log_prefix;	/* "mpjail-lsi" */
};

/* Nothing: no rlimit, no Landlock, no seccomp, no log (dumpable off and
 * no_new_privs only). */
void sbx_lockdown_init(struct sbx_lockdown *l);

/*
 * The remote's built-in lockdown: nproc 0, Landlock with no fs, no TCP and
 * both scopes (sbx_landlock_lockdown), and seccomp from seccomp_fd (-1:
 * none), closed after install.
 */
void sbx_lockdown_remote(struct sbx_lockdown *l, int seccomp_fd);

/* Apply in the fixed order above. *r reports Landlock, for the log. */
int sbx_lockdown_apply(const struct sbx_lockdown *l, struct sbx_ll_report *r,
    char *why, size_t len);

#endif /* MPJAIL_SANDBOX_SELF_H */
