/*
 * tests/lib/jail.h: start mpjail-lsi the way the broker does — through
 * mpjail-run under policy/lsi-remote.policy, as a tenant uid, in its own
 * namespaces, locked down by Landlock and the compiled seccomp program —
 * for the tests that must exercise the confined remote. Needs root.
 * MPJAIL_JAIL=none (set only by `make asan`) runs it unconfined.
 */
#ifndef MPJAIL_TESTS_JAIL_H
#define MPJAIL_TESTS_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tests/lib/peers.h"

/*
 * One disk at SCSI ID 0 (fd 5 inside, as the policy's [fds] says), or
 * none when disk_path is NULL. p->pid is mpjail-run's pid (it execs
 * bwrap, which runs mpjail-lsi as its child); jail_find_remote() finds
 * mpjail-lsi itself. Returns 0 or -errno.
 */
int jail_start_mpjail_lsi(struct peer *p, const char *disk_path, bool ro);

/* The pid of the confined mpjail-lsi under p, once it has locked down. */
pid_t jail_find_remote(const struct peer *p, int timeout_ms);

/*
 * `mpjail-policy --disks N audit PID POLICY` on the confined remote (the
 * policy the tests use), its report into out (NUL-terminated, truncated
 * to len). Returns the tool's exit status: 0 match, 1 no match, 2 or
 * more an error; -errno if it could not run. Under MPJAIL_JAIL=none the
 * remote is unconfined and the audit reports no match.
 */
int jail_audit(pid_t remote, unsigned int disks, char *out, size_t len);

/*
 * False under MPJAIL_JAIL=none (`make asan`): the remote runs unconfined
 * and there is no confinement to audit; callers skip the audit then.
 */
bool jail_confined(void);

/* The policy file the tests use ($MPJAIL_POLICY or the shipped one). */
const char *jail_policy_path(void);

#endif
