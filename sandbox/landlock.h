/*
 * sandbox/landlock.h: self side — Landlock, best effort across ABI 1 to 7.
 * Linked into the sandboxed programs themselves (mpjail-lsi, mpjail-exec):
 * libc only, no allocation, no libpolicy. The caller describes what it
 * wants; the running kernel's ABI decides what is enforced, and says so.
 *
 * Contract:
 * - Every function returns 0 or a negative errno and never exits.
 * - Rights are the kernel's UAPI bits (SBX_LL_*), which are also policy/'s
 *   POL_LL_* values; a right the running ABI lacks is dropped (best effort)
 *   or refused (-EOPNOTSUPP), and the report names it.
 * - Paths in rules are opened O_PATH|O_CLOEXEC and closed again; nothing
 *   is left open.
 */
#ifndef MPJAIL_SANDBOX_LANDLOCK_H
#define MPJAIL_SANDBOX_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SBX_LL_FS_EXECUTE (1ULL << 0)
#define SBX_LL_FS_WRITE_FILE (1ULL << 1)
#define SBX_LL_FS_READ_FILE (1ULL << 2)
#define SBX_LL_FS_READ_DIR (1ULL << 3)
#define SBX_LL_FS_REMOVE_DIR (1ULL << 4)
#define SBX_LL_FS_REMOVE_FILE (1ULL << 5)
#define SBX_LL_FS_MAKE_CHAR (1ULL << 6)
#define SBX_LL_FS_MAKE_DIR (1ULL << 7)
#define SBX_LL_FS_MAKE_REG (1ULL << 8)
#define SBX_LL_FS_MAKE_SOCK (1ULL << 9)
#define SBX_LL_FS_MAKE_FIFO (1ULL << 10)
#define SBX_LL_FS_MAKE_BLOCK (1ULL << 11)
#define SBX_LL_FS_MAKE_SYM (1ULL << 12)
#define SBX_LL_FS_REFER (1ULL << 13)		/* ABI 2 */
#define SBX_LL_FS_TRUNCATE (1ULL << 14)		/* ABI 3 */
#define SBX_LL_FS_IOCTL_DEV (1ULL << 15)	/* ABI 5 */
#define SBX_LL_FS_ALL ((1ULL << 16) - 1)	/* every right of ABI 7 */
#define SBX_LL_NET_BIND_TCP (1ULL << 0)		/* ABI 4 */
#define SBX_LL_NET_CONNECT_TCP (1ULL << 1)	/* ABI 4 */
#define SBX_LL_NET_ALL (SBX_LL_NET_BIND_TCP | SBX_LL_NET_CONNECT_TCP)
#define SBX_LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)	/* ABI 6 */
#define SBX_LL_SCOPE_SIGNAL (1ULL << 1)			/* ABI 6 */
#define SBX_LL_SCOPE_ALL (SBX_LL_SCOPE_ABSTRACT_UNIX_SOCKET | \
    SBX_LL_SCOPE_SIGNAL)
#define SBX_LL_ABI_MAX 7	/* the newest ABI this code knows */

#define SBX_LL_MAX_PATHS 64
#define SBX_LL_MAX_PORTS 32
#define SBX_LL_PATH_MAX 256

struct sbx_ll_path {
	char path[SBX_LL_PATH_MAX];	/* absolute, as the process sees it */
	uint64_t access;		/* subset of handled_fs */
};

struct sbx_ll_port {
	uint16_t port;
	uint64_t access;		/* SBX_LL_NET_* */
};

/* What the caller wants. Plain data; no fds, no pointers. */
struct sbx_landlock {
	int abi_min;		/* refuse (-EOPNOTSUPP) below this ABI; 0: none */
	bool best_effort;	/* drop what the ABI lacks; else refuse */
	uint64_t handled_fs;	/* SBX_LL_FS_*: denied unless a path allows */
	uint64_t handled_net;	/* SBX_LL_NET_*: denied unless a port allows */
	uint64_t scoped;	/* SBX_LL_SCOPE_* */
	unsigned int npaths;
	struct sbx_ll_path paths[SBX_LL_MAX_PATHS];
	unsigned int nports;
	struct sbx_ll_port ports[SBX_LL_MAX_PORTS];
};

enum sbx_ll_status {
	SBX_LL_NOT_ENFORCED,	/* no Landlock here, or nothing to handle */
	SBX_LL_PARTIALLY_ENFORCED,	/* some rights or scopes dropped */
	SBX_LL_FULLY_ENFORCED,
};

/* What was enforced, for the caller's log. */
struct sbx_ll_report {
	int abi;		/* the running kernel's ABI, 0: none */
	enum sbx_ll_status status;
	uint64_t fs, net, scoped;		/* enforced */
	uint64_t lost_fs, lost_net, lost_scoped;	/* wanted, dropped */
	char text[192];		/* "landlock ABI 7: fully enforced" */
};

/* The running kernel's Landlock ABI, 0 when it has none. */
int sbx_landlock_abi(void);

/* Every fs right, net right and scope that ABI `abi` knows. */
uint64_t sbx_ll_fs_at_abi(int abi);
uint64_t sbx_ll_net_at_abi(int abi);
uint64_t sbx_ll_scope_at_abi(int abi);

/*
 * What `want` becomes at ABI `abi` (pure; no syscall): *got is `want` less
 * what the ABI lacks, and *r says what was dropped. -EOPNOTSUPP when abi
 * is below abi_min, or something would be dropped and not best_effort.
 * -EINVAL when a rule allows a right its handled set does not name.
 */
int sbx_landlock_degrade(const struct sbx_landlock *want, int abi,
    struct sbx_landlock *got, struct sbx_ll_report *r);

/*
 * Probe, degrade, build the ruleset, add the rules and restrict the calling
 * thread (and so everything it later creates). Sets no_new_privs first.
 * Call it while single-threaded, before seccomp. *r is always filled.
 */
int sbx_landlock_apply(const struct sbx_landlock *want,
    struct sbx_ll_report *r);

/* The lockdown every remote gets: no fs, no TCP, both scopes, abi.min 1. */
void sbx_landlock_lockdown(struct sbx_landlock *ll);

#endif /* MPJAIL_SANDBOX_LANDLOCK_H */
