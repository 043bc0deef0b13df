/*
 * sandbox/spawn.h: spawn side — confine a child exactly as a compiled
 * policy says, the way minijail does it: describe the jail first (struct
 * sbx_jail, plain data), then apply it in one function in one fixed order
 * in the child and exec bubblewrap. Runs in the broker and mpjail-run:
 * trusted, possibly root; every input is admin-owned.
 *
 * The order, and why:
 *  1. identity: started as root, become the tenant (libcap-ng: uid, gid,
 *     no supplementary groups, every capability set and the bounding set
 *     cleared, securebits locked if asked) BEFORE any namespace exists:
 *     bubblewrap run as root with --uid N still leaves host uid 0. Started
 *     unprivileged, keep the caller's uid and clear any capability.
 *  2. fds: exactly the listed fds, at their fixed numbers, all others
 *     closed at exec (close_range). Before the rlimits, because the
 *     shuffle needs fds above NOFILE when the caller has many open.
 *  3. rlimits (not NPROC: bubblewrap itself must fork; the self side sets
 *     it, see sandbox/self.h).
 *  4. no_new_privs, dumpable off (exec resets dumpable; the self side sets
 *     it again).
 *  5. exec bubblewrap (not setuid): a user namespace made unprivileged,
 *     the other namespaces, an empty read-only root holding only the
 *     program and the policy's binds, no /proc, no /dev unless listed.
 *
 * Contract: every function returns 0 or a negative errno and never exits;
 * sbx_spawn reports the failing step in `why`. The caller keeps ownership
 * of every src fd (the child gets copies).
 */
#ifndef MPJAIL_SANDBOX_SPAWN_H
#define MPJAIL_SANDBOX_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#define SBX_MAX_FDS 96		/* policy: 32 entries + a 64-fd range */
#define SBX_MAX_BINDS 34	/* policy binds + program + shim */
#define SBX_PATH_MAX 256
#define SBX_FD_MAX 1024		/* highest fixed fd number + 1 */
#define SBX_RLIM_COUNT 16	/* RLIMIT_NLIMITS */
#define SBX_ARGV_MAX 256
#define SBX_ARGV_BUF 16384

/* The same bits as policy/'s enum pol_ns. */
enum sbx_ns {
	SBX_NS_USER = 1 << 0,
	SBX_NS_MOUNT = 1 << 1,
	SBX_NS_PID = 1 << 2,
	SBX_NS_NET = 1 << 3,
	SBX_NS_IPC = 1 << 4,
	SBX_NS_UTS = 1 << 5,
	SBX_NS_CGROUP = 1 << 6,
};
#define SBX_NS_ALL 0x7fU

enum sbx_bind_kind { SBX_BIND_RO, SBX_BIND_RW, SBX_BIND_DEV };

struct sbx_fd {
	int src;		/* the caller's fd */
	int dst;		/* its number in the child, < SBX_FD_MAX */
};

struct sbx_bind {
	enum sbx_bind_kind kind;
	char src[SBX_PATH_MAX];	/* host path */
	char dst[SBX_PATH_MAX];	/* path inside the sandbox */
};

struct sbx_rlimit {
	bool set;
	rlim_t value;		/* soft = hard; RLIM_INFINITY */
};

struct sbx_jail {
	/* identity: used when started as root; neither may be 0 */
	bool have_id;
	uid_t uid;
	gid_t gid;
	bool securebits_locked;	/* capng_lock(): no way back to root */
	bool no_new_privs;
	bool clearenv;
	struct sbx_rlimit rlimits[SBX_RLIM_COUNT];	/* by RLIMIT_* */
	unsigned int nfds;
	struct sbx_fd fds[SBX_MAX_FDS];
	/* namespaces and root */
	unsigned int unshare;	/* enum sbx_ns bits; user is always made */
	bool disable_userns;
	bool new_session;
	bool die_with_parent;
	bool proc;		/* a /proc of the new pid namespace */
	long ns_uid, ns_gid;	/* ids inside the user namespace; -1: same */
	unsigned int nbinds;
	struct sbx_bind binds[SBX_MAX_BINDS];
	char bwrap[SBX_PATH_MAX];	/* default /usr/bin/bwrap */
};

/* bubblewrap's argv, built before fork (no allocation in the child). */
struct sbx_argv {
	unsigned int argc;
	char *argv[SBX_ARGV_MAX];	/* NULL-terminated; point into buf */
	size_t used;
	char buf[SBX_ARGV_BUF];
};

/* Everything off, nothing unshared, no fds, bwrap at /usr/bin/bwrap. */
void sbx_jail_init(struct sbx_jail *j);

/* The lockdown a remote gets when no policy says otherwise (tests). */
void sbx_jail_strict(struct sbx_jail *j);

/* -EINVAL: bad number or dst taken; -ENOSPC: full. */
int sbx_jail_add_fd(struct sbx_jail *j, int src, int dst);
int sbx_jail_add_bind(struct sbx_jail *j, enum sbx_bind_kind kind,
    const char *src, const char *dst);

/*
 * Fill a jail from a compiled policy: identity (@tenant becomes tenant_uid
 * and tenant_gid; a numeric uid in the policy is used as is), rlimits
 * except nproc (returned in *nproc and *nproc_set, for the self side), the
 * namespaces, binds. fds are the caller's: it knows where each came from.
 * -EINVAL when the uid or gid would be 0.
 */
struct pol_compiled;
int sbx_jail_from_policy(struct sbx_jail *j, const struct pol_compiled *c,
    uid_t tenant_uid, gid_t tenant_gid, rlim_t *nproc, bool *nproc_set);

/*
 * bubblewrap's command line for the jail, running argv[0] (a path inside
 * the sandbox: the caller binds the program there) with argv[1..].
 */
int sbx_bwrap_argv(const struct sbx_jail *j, char *const argv[],
    struct sbx_argv *out);

/* Check a jail without applying it: fds, ids, rlimits. */
int sbx_jail_check(const struct sbx_jail *j);

/*
 * In the child: apply steps 1 to 5 and exec bubblewrap. Returns only on
 * failure, with -errno and `why` naming the step.
 */
int sbx_apply_and_exec(const struct sbx_jail *j, const struct sbx_argv *a,
    char *why, size_t len);

/*
 * Fork; the child runs sbx_apply_and_exec. Returns once bubblewrap is
 * exec'd (0, *pid set) or the child failed (its -errno and `why`; the
 * child is reaped).
 */
int sbx_spawn(const struct sbx_jail *j, char *const argv[], pid_t *pid,
    char *why, size_t len);

#endif /* MPJAIL_SANDBOX_SPAWN_H */
