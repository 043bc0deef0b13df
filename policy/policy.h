/*
 * policy/policy.h: the mpjail policy language — parsed description, compiled
 * form, and the tools' helpers. Runs in the broker and in mpjail-policy, on
 * admin-owned files: input is trusted in intent but parsed as if hostile
 * (bounded, no recursion, every error reported with file:line:column).
 *
 * Contract:
 * - Every function returns 0 or a negative errno and never exits.
 * - A struct pol_policy is plain data, allocated by pol_parse_*() and freed
 *   by pol_free(); it holds no fds.
 * - struct pol_compiled is what the broker and sandbox/ consume: concrete
 *   fds (ranges expanded), rlimits, namespaces, the Landlock description and
 *   the seccomp program in a sealed memfd that the struct owns
 *   (pol_compiled_release() closes it).
 */
#ifndef MPJAIL_POLICY_H
#define MPJAIL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define POL_FORMAT_VERSION 1
#define POL_NAME_MAX 32		/* fd names, syscall names (with NUL) */
#define POL_PATH_MAX 256	/* include paths, Landlock and bind paths */
#define POL_MAX_FILE_SIZE (1024 * 1024)
#define POL_MAX_LINE 1024	/* longer lines are an error */
#define POL_MAX_INCLUDE_DEPTH 8
#define POL_MAX_FILES 32	/* distinct files read, includes counted */
#define POL_MAX_DIAGS 64	/* errors kept; more are counted */
#define POL_MAX_FDS 32		/* [fds] entries, a range counting as one */
#define POL_MAX_RANGE_FDS 64	/* fds a range may expand to */
#define POL_MAX_RECEIVED 8	/* [fds] `received =` lines */
#define POL_MAX_RULES 400	/* seccomp lines */
#define POL_MAX_ALTS 16		/* `||` alternatives in one line */
#define POL_MAX_ARGS 6		/* syscall arguments */
#define POL_MAX_PRIORITY 32	/* @priority names */
#define POL_MAX_LL_PATHS 64	/* Landlock path rules */
#define POL_MAX_LL_PORTS 32	/* Landlock TCP port rules */
#define POL_MAX_BINDS 32	/* [namespaces] bind_ro/bind_rw/bind_dev */

/* ---- diagnostics ---- */

struct pol_diag {
	char file[POL_PATH_MAX];
	unsigned int line, col;	/* 1-based; 0 when not tied to a place */
	char msg[160];
};

struct pol_diags {
	unsigned int n;		/* kept in d[] */
	unsigned int dropped;	/* further errors, counted only */
	struct pol_diag d[POL_MAX_DIAGS];
};

/* "file:line:col: msg" per error, then a count of dropped ones. */
void pol_diags_print(const struct pol_diags *d, FILE *out);

/* ---- actions ---- */

enum pol_action_kind {
	POL_ACT_ALLOW,
	POL_ACT_ERRNO,
	POL_ACT_KILL_PROCESS,
	POL_ACT_KILL_THREAD,
	POL_ACT_TRAP,
	POL_ACT_LOG,
};

struct pol_action {
	enum pol_action_kind kind;
	int errnum;		/* POL_ACT_ERRNO only, 1..4095 */
};

/* ---- seccomp rules ---- */

/*
 * One comparison `argN OP value`. After parsing, `&` and `in` become a
 * masked compare ((arg & mask) == value): `argN & F` is (F, F) and
 * `argN in M` is (~M, 0). Two comparisons of one argument in one
 * alternative are merged into one where that is exact (see pol_parse).
 */
enum pol_op {
	POL_OP_EQ,
	POL_OP_NE,
	POL_OP_LT,
	POL_OP_LE,
	POL_OP_GT,
	POL_OP_GE,
	POL_OP_MASKED_EQ,
};

struct pol_cmp {
	uint8_t arg;		/* 0..5 */
	uint8_t op;		/* enum pol_op */
	int8_t fd;		/* -1, or index into pol_policy.fds (op EQ) */
	uint64_t value;		/* datum; for an fd reference, filled in */
	uint64_t mask;		/* POL_OP_MASKED_EQ only */
};

struct pol_alt {		/* comparisons joined by && */
	unsigned int ncmp;	/* 0 = always */
	struct pol_cmp cmp[POL_MAX_ARGS];
};

struct pol_rule {
	char name[POL_NAME_MAX];
	int nr;			/* native syscall number (libseccomp) */
	struct pol_action action;	/* taken when an alternative matches */
	unsigned int nalt;	/* 0: unconditional */
	struct pol_alt alt[POL_MAX_ALTS];
	char file[POL_PATH_MAX];
	unsigned int line;
};

struct pol_seccomp {
	bool present;
	struct pol_action dflt;	/* @default; kill-process if absent */
	unsigned int nrules;
	struct pol_rule *rules;	/* nrules entries, owned */
	unsigned int npriority;
	int priority[POL_MAX_PRIORITY];	/* syscall numbers, most first */
};

/* ---- [process] ---- */

#define POL_ID_TENANT (-1L)	/* uid/gid = @tenant: chosen by the broker */
#define POL_ID_UNSET (-2L)

struct pol_process {
	bool present;
	bool no_new_privs;	/* default yes */
	bool caps_none;		/* capabilities = none (the only value) */
	bool securebits_locked;
	bool dumpable;		/* default no */
	long uid, gid;		/* POL_ID_TENANT, POL_ID_UNSET or a number */
	bool groups_none;
	bool env_clear;
};

/* ---- [namespaces] ---- */

enum pol_ns {
	POL_NS_USER = 1 << 0,
	POL_NS_MOUNT = 1 << 1,
	POL_NS_PID = 1 << 2,
	POL_NS_NET = 1 << 3,
	POL_NS_IPC = 1 << 4,
	POL_NS_UTS = 1 << 5,
	POL_NS_CGROUP = 1 << 6,
};

enum pol_bind_kind { POL_BIND_RO, POL_BIND_RW, POL_BIND_DEV };

struct pol_bind {
	enum pol_bind_kind kind;
	char path[POL_PATH_MAX];
};

struct pol_namespaces {
	bool present;
	unsigned int unshare;	/* enum pol_ns bits */
	bool root_empty;	/* root = empty (else: root = host-ro) */
	bool proc;
	bool disable_userns;
	bool new_session;
	bool die_with_parent;
	unsigned int nbinds;
	struct pol_bind binds[POL_MAX_BINDS];
};

/* ---- [rlimits] ---- */

#define POL_RLIM_COUNT 16	/* RLIMIT_NLIMITS on Linux */
#define POL_RLIM_INFINITY UINT64_MAX

struct pol_rlimit {
	bool set;
	uint64_t value;		/* soft = hard; POL_RLIM_INFINITY */
};

/* ---- [fds] ---- */

enum pol_fd_kind {
	POL_FD_NULL = 1 << 0,
	POL_FD_PIPE_R = 1 << 1,
	POL_FD_PIPE_W = 1 << 2,
	POL_FD_UNIX_STREAM = 1 << 3,
	POL_FD_UNIX_SEQPACKET = 1 << 4,
	POL_FD_MEMFD_SEALED = 1 << 5,
	POL_FD_MEMFD = 1 << 6,
	POL_FD_EVENTFD = 1 << 7,
	POL_FD_FILE = 1 << 8,
	POL_FD_BLOCK = 1 << 9,
	POL_FD_TTY = 1 << 10,
	POL_FD_EPOLL = 1 << 11,    /* made by the process: its event loop */
	POL_FD_SIGNALFD = 1 << 12,
};

enum pol_fd_mode {
	POL_FD_RO = 1 << 0,
	POL_FD_WO = 1 << 1,
	POL_FD_RW = 1 << 2,
};

struct pol_fd {
	int num;		/* fd number in the child; first of a range */
	bool range;		/* `N.. = name@`: one fd per item, from num on */
	char name[POL_NAME_MAX];	/* a range's name ends in '@' */
	unsigned int kinds;	/* enum pol_fd_kind bits, any of */
	unsigned int modes;	/* enum pol_fd_mode bits, any of */
};

/* ---- [landlock] ---- */

/*
 * Landlock constants, defined here because Debian 12's headers stop at
 * ABI 3. Values are the kernel's UAPI.
 */
#define POL_LL_FS_EXECUTE (1ULL << 0)
#define POL_LL_FS_WRITE_FILE (1ULL << 1)
#define POL_LL_FS_READ_FILE (1ULL << 2)
#define POL_LL_FS_READ_DIR (1ULL << 3)
#define POL_LL_FS_REMOVE_DIR (1ULL << 4)
#define POL_LL_FS_REMOVE_FILE (1ULL << 5)
#define POL_LL_FS_MAKE_CHAR (1ULL << 6)
#define POL_LL_FS_MAKE_DIR (1ULL << 7)
#define POL_LL_FS_MAKE_REG (1ULL << 8)
#define POL_LL_FS_MAKE_SOCK (1ULL << 9)
#define POL_LL_FS_MAKE_FIFO (1ULL << 10)
#define POL_LL_FS_MAKE_BLOCK (1ULL << 11)
#define POL_LL_FS_MAKE_SYM (1ULL << 12)
#define POL_LL_FS_REFER (1ULL << 13)		/* ABI 2 */
#define POL_LL_FS_TRUNCATE (1ULL << 14)		/* ABI 3 */
#define POL_LL_FS_IOCTL_DEV (1ULL << 15)	/* ABI 5 */
#define POL_LL_NET_BIND_TCP (1ULL << 0)		/* ABI 4 */
#define POL_LL_NET_CONNECT_TCP (1ULL << 1)	/* ABI 4 */
#define POL_LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)	/* ABI 6 */
#define POL_LL_SCOPE_SIGNAL (1ULL << 1)			/* ABI 6 */
#define POL_LL_ABI_MAX 7	/* the newest ABI this code knows */

struct pol_ll_path {
	char path[POL_PATH_MAX];	/* absolute */
	uint64_t access;	/* subset of handled_fs */
};

struct pol_ll_port {
	uint16_t port;
	uint64_t access;	/* POL_LL_NET_* */
};

struct pol_landlock {
	bool present;
	int abi_min;		/* refuse to run below this ABI */
	bool best_effort;	/* compat = best-effort (else hard) */
	uint64_t handled_fs;
	uint64_t handled_net;
	uint64_t scoped;
	unsigned int npaths;
	struct pol_ll_path paths[POL_MAX_LL_PATHS];
	unsigned int nports;
	struct pol_ll_port ports[POL_MAX_LL_PORTS];
};

/* ---- the parsed policy ---- */

struct pol_policy {
	char file[POL_PATH_MAX];	/* the top-level file */
	struct pol_process process;
	struct pol_namespaces ns;
	struct pol_rlimit rlimits[POL_RLIM_COUNT];	/* by RLIMIT_* */
	unsigned int nfds;
	struct pol_fd fds[POL_MAX_FDS];	/* sorted by num */
	/*
	 * `received = name kind mode`: fds the process may come to hold at
	 * run time, received over a listed socket (mpjail-lsi: the irqfd
	 * and resample eventfds of SET_IRQFD), at whatever number the kernel
	 * gives (num is -1). Nothing is spawned with them; audit accepts a
	 * held fd of one of these kinds that no numbered entry explains.
	 * Their count is bounded by rlimit nofile, not here.
	 */
	unsigned int nreceived;
	struct pol_fd received[POL_MAX_RECEIVED];
	struct pol_landlock landlock;
	struct pol_seccomp seccomp;
};

/*
 * Parse a policy file. On success *out is a new policy (pol_free()).
 * On -EINVAL the diagnostics hold every error found; other negative errnos
 * are I/O or allocation failures (also described in diags).
 * @include paths are relative to the including file's directory.
 */
int pol_parse_file(const char *path, struct pol_policy **out,
    struct pol_diags *diags);

/*
 * As pol_parse_file, from memory: `name` is used in messages, `basedir`
 * (NULL: ".") resolves relative @include paths. Fuzz entry point.
 */
int pol_parse_buffer(const char *name, const char *basedir, const char *buf,
    size_t len, struct pol_policy **out, struct pol_diags *diags);

void pol_free(struct pol_policy *p);

/* ---- names and constants ---- */

/* A symbolic constant (PROT_READ, MAP_SHARED, ...). 0 or -ENOENT. */
int pol_const_lookup(const char *name, uint64_t *value);
/* An errno name (EPERM) or number. 0 or -ENOENT. */
int pol_errno_lookup(const char *name, int *value);
const char *pol_action_name(enum pol_action_kind kind);
/* "allow", "errno 1 (EPERM)", ...: into buf, always terminated. */
void pol_action_format(const struct pol_action *a, char *buf, size_t len);
const char *pol_rlimit_name(int resource);	/* "nofile", or NULL */
const char *pol_ns_name(enum pol_ns ns);	/* "net" */
/* A comma-separated list of the names of bits, from a table. */
void pol_fd_kinds_format(unsigned int kinds, char *buf, size_t len);
void pol_fd_modes_format(unsigned int modes, char *buf, size_t len);
void pol_ll_fs_format(uint64_t access, char *buf, size_t len);
void pol_ll_net_format(uint64_t access, char *buf, size_t len);
void pol_ll_scope_format(uint64_t scopes, char *buf, size_t len);

/*
 * One alternative as text, canonical: `arg0 == fd:mpqemu && arg2 in 0x3`.
 * Used by explain and diff.
 */
void pol_alt_format(const struct pol_policy *p, const struct pol_alt *a,
    char *buf, size_t len);

/* ---- Landlock by ABI ---- */

/* The running kernel's Landlock ABI (0: none), or a negative errno. */
int pol_landlock_abi(void);

/*
 * What `want` becomes on a kernel with Landlock ABI `abi`: rights and
 * scopes that ABI lacks are dropped from *got, and `report` says which
 * ("landlock ABI 3: not enforced: handle.net (needs ABI 4), ...", or
 * "landlock ABI 7: fully enforced"). -EOPNOTSUPP when abi < abi_min, or
 * when anything would be dropped and compat is not best-effort.
 */
int pol_landlock_degrade(const struct pol_landlock *want, int abi,
    struct pol_landlock *got, char *report, size_t len);

/* ---- compiling ---- */

struct pol_compile_opts {
	unsigned int range_count;	/* fds in the [fds] range (disks) */
};

struct pol_compiled {
	struct pol_process process;
	struct pol_namespaces ns;
	struct pol_rlimit rlimits[POL_RLIM_COUNT];
	unsigned int nfds;	/* the range expanded: one entry per fd */
	struct pol_fd fds[POL_MAX_FDS + POL_MAX_RANGE_FDS];
	struct pol_landlock landlock;	/* as written; degrade at apply */
	int seccomp_fd;		/* sealed memfd: struct sock_filter[], owned */
	size_t seccomp_len;	/* bytes; a multiple of 8 */
	unsigned int seccomp_insns;
};

/*
 * Compile everything. The seccomp program is exported by libseccomp into a
 * memfd (MFD_CLOEXEC|MFD_ALLOW_SEALING) sealed against any change; its
 * offset is 0. On failure *out holds no fd.
 */
int pol_compile(const struct pol_policy *p, const struct pol_compile_opts *o,
    struct pol_compiled *out);
void pol_compiled_release(struct pol_compiled *c);

/* The seccomp program alone, as a sealed memfd. */
int pol_seccomp_memfd(const struct pol_policy *p,
    const struct pol_compile_opts *o, int *fd, size_t *len);
/* libseccomp's PFC listing of the program, written to fd. */
int pol_seccomp_pfc(const struct pol_policy *p,
    const struct pol_compile_opts *o, int fd);
/*
 * The OCI runtime-spec `linux.seccomp` object as JSON text, written to
 * out. Alternatives become separate entries (OCI ANDs `args`).
 */
int pol_seccomp_oci(const struct pol_policy *p,
    const struct pol_compile_opts *o, FILE *out);

/* ---- rendering for review ---- */

/*
 * Call fn once per canonical line of the policy ("seccomp mmap: ...",
 * "fds 3 = mpqemu unix-stream rw", "rlimits nofile = 64", ...), in a fixed
 * order. diff compares these sets.
 */
typedef void pol_line_fn(const char *line, void *arg);
int pol_canonical(const struct pol_policy *p, pol_line_fn *fn, void *arg);

/* A JSON string literal for s, quotes included, into out. */
void pol_json_string(FILE *out, const char *s);

/* ---- audit ---- */

#define POL_AUDIT_MAX 64

struct pol_audit_item {
	char what[48];		/* "seccomp", "NoNewPrivs", "CapEff", "ns net", "fd 7" */
	bool ok;
	bool unavailable;	/* could not be checked (detail says why); ok */
	char detail[160];
};

struct pol_audit {
	unsigned int n;
	struct pol_audit_item item[POL_AUDIT_MAX];
	bool match;		/* every item ok */
};

/*
 * Does process `pid` carry policy p? Reads /proc/PID/{status,ns,fd,
 * fdinfo,uid_map,gid_map} and compares with /proc/self: each held fd must
 * be a numbered entry of [fds] of a matching kind, or of a `received`
 * kind. range_count as for compiling; 0 accepts any number of range fds.
 * As root, also compares the installed seccomp filters (ptrace
 * PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_SECCOMP_GET_FILTER, detach)
 * byte for byte with the program compiled for range_count fds: item
 * "seccomp filter", unavailable when not root or the kernel refuses.
 */
int pol_audit_pid(const struct pol_policy *p, int pid,
    unsigned int range_count, struct pol_audit *out);

#endif /* MPJAIL_POLICY_H */
