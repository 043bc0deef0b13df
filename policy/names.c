/*
 * policy/names.c: the tables of names the policy language knows — symbolic
 * constants from the system headers, errnos, actions, rlimits, namespaces,
 * fd kinds, Landlock rights — and their formatting. Pure data; trusted.
 */
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <asm/prctl.h>
#include <linux/falloc.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

struct named {
	const char *name;
	uint64_t value;
};

#define C(x) { #x, (uint64_t)(x) }

/* Sorted by nothing: looked up linearly, a few hundred entries at most. */
static const struct named consts[] = {
	C(PROT_NONE), C(PROT_READ), C(PROT_WRITE), C(PROT_EXEC),
	C(PROT_GROWSDOWN), C(PROT_GROWSUP),
	C(MAP_SHARED), C(MAP_PRIVATE), C(MAP_SHARED_VALIDATE), C(MAP_FIXED),
	C(MAP_FIXED_NOREPLACE), C(MAP_ANONYMOUS), C(MAP_NORESERVE),
	C(MAP_POPULATE), C(MAP_STACK), C(MAP_GROWSDOWN), C(MAP_HUGETLB),
	C(MAP_LOCKED), C(MAP_NONBLOCK), C(MAP_32BIT),
	C(MREMAP_MAYMOVE), C(MREMAP_FIXED),
	C(MADV_NORMAL), C(MADV_RANDOM), C(MADV_SEQUENTIAL), C(MADV_WILLNEED),
	C(MADV_DONTNEED), C(MADV_FREE), C(MADV_REMOVE), C(MADV_DONTFORK),
	C(MADV_DOFORK), C(MADV_MERGEABLE), C(MADV_UNMERGEABLE),
	C(MADV_HUGEPAGE), C(MADV_NOHUGEPAGE), C(MADV_DONTDUMP), C(MADV_DODUMP),
	C(MADV_WIPEONFORK), C(MADV_KEEPONFORK),
	C(O_RDONLY), C(O_WRONLY), C(O_RDWR), C(O_ACCMODE), C(O_CREAT), C(O_EXCL),
	C(O_NOCTTY), C(O_TRUNC), C(O_APPEND), C(O_NONBLOCK), C(O_DSYNC),
	C(O_SYNC), C(O_DIRECT), C(O_LARGEFILE), C(O_DIRECTORY), C(O_NOFOLLOW),
	C(O_NOATIME), C(O_CLOEXEC), C(O_PATH), C(O_TMPFILE),
	C(F_DUPFD), C(F_DUPFD_CLOEXEC), C(F_GETFD), C(F_SETFD), C(F_GETFL),
	C(F_SETFL), C(F_GETLK), C(F_SETLK), C(F_SETLKW), C(F_OFD_GETLK),
	C(F_OFD_SETLK), C(F_OFD_SETLKW), C(F_ADD_SEALS), C(F_GET_SEALS),
	C(F_SETPIPE_SZ), C(F_GETPIPE_SZ), C(FD_CLOEXEC),
	C(F_SEAL_SEAL), C(F_SEAL_SHRINK), C(F_SEAL_GROW), C(F_SEAL_WRITE),
	C(F_SEAL_FUTURE_WRITE),
	C(MFD_CLOEXEC), C(MFD_ALLOW_SEALING), C(MFD_HUGETLB), C(MFD_NOEXEC_SEAL),
	C(MFD_EXEC),
	C(FIONREAD), C(FIONBIO), C(FIOCLEX), C(FIONCLEX), C(FIOASYNC),
	C(TCGETS), C(TCSETS), C(TIOCGWINSZ),
	C(MSG_OOB), C(MSG_PEEK), C(MSG_DONTROUTE), C(MSG_CTRUNC), C(MSG_TRUNC),
	C(MSG_DONTWAIT), C(MSG_EOR), C(MSG_WAITALL), C(MSG_NOSIGNAL),
	C(MSG_MORE), C(MSG_CMSG_CLOEXEC),
	C(AT_EMPTY_PATH), C(AT_SYMLINK_NOFOLLOW), C(AT_SYMLINK_FOLLOW),
	C(AT_REMOVEDIR), C(AT_NO_AUTOMOUNT), C(AT_EACCESS),
	C(EFD_CLOEXEC), C(EFD_NONBLOCK), C(EFD_SEMAPHORE),
	C(TFD_CLOEXEC), C(TFD_NONBLOCK), C(TFD_TIMER_ABSTIME),
	C(SOCK_STREAM), C(SOCK_DGRAM), C(SOCK_SEQPACKET), C(SOCK_RAW),
	C(SOCK_CLOEXEC), C(SOCK_NONBLOCK),
	C(AF_UNIX), C(AF_INET), C(AF_INET6), C(AF_NETLINK), C(AF_VSOCK),
	C(AF_PACKET),
	C(SOL_SOCKET), C(SO_TYPE), C(SO_DOMAIN), C(SO_ERROR), C(SO_SNDBUF),
	C(SO_RCVBUF), C(SO_PEERCRED), C(SO_PASSCRED),
	C(FUTEX_WAIT), C(FUTEX_WAKE), C(FUTEX_REQUEUE), C(FUTEX_CMP_REQUEUE),
	C(FUTEX_WAKE_OP), C(FUTEX_WAIT_BITSET), C(FUTEX_WAKE_BITSET),
	C(FUTEX_PRIVATE_FLAG), C(FUTEX_CLOCK_REALTIME),
	C(FUTEX_WAIT_PRIVATE), C(FUTEX_WAKE_PRIVATE),
	C(FUTEX_WAIT_BITSET_PRIVATE), C(FUTEX_WAKE_BITSET_PRIVATE),
	C(CLONE_VM), C(CLONE_FS), C(CLONE_FILES), C(CLONE_SIGHAND),
	C(CLONE_THREAD), C(CLONE_SYSVSEM), C(CLONE_SETTLS),
	C(CLONE_PARENT_SETTID), C(CLONE_CHILD_CLEARTID), C(CLONE_CHILD_SETTID),
	C(CLONE_NEWUSER), C(CLONE_NEWNS), C(CLONE_NEWNET), C(CLONE_NEWPID),
	C(SIG_BLOCK), C(SIG_UNBLOCK), C(SIG_SETMASK),
	C(SIGKILL), C(SIGTERM), C(SIGUSR1), C(SIGUSR2), C(SIGCHLD), C(SIGALRM),
	C(SIGSYS),
	C(PR_SET_NAME), C(PR_GET_NAME), C(PR_SET_NO_NEW_PRIVS),
	C(PR_GET_NO_NEW_PRIVS), C(PR_SET_DUMPABLE), C(PR_GET_DUMPABLE),
	C(PR_SET_PDEATHSIG), C(PR_CAPBSET_READ), C(PR_SET_SECCOMP),
	C(PR_GET_SECCOMP), C(PR_SET_TIMERSLACK), C(PR_MCE_KILL),
	C(ARCH_SET_FS), C(ARCH_GET_FS), C(ARCH_SET_GS), C(ARCH_GET_GS),
	C(EPOLL_CLOEXEC),
	C(FALLOC_FL_KEEP_SIZE), C(FALLOC_FL_PUNCH_HOLE), C(FALLOC_FL_ZERO_RANGE),
	C(GRND_NONBLOCK), C(GRND_RANDOM),
	C(CLOCK_REALTIME), C(CLOCK_MONOTONIC), C(CLOCK_PROCESS_CPUTIME_ID),
	C(CLOCK_THREAD_CPUTIME_ID), C(CLOCK_MONOTONIC_RAW), C(CLOCK_BOOTTIME),
	C(RLIMIT_CPU), C(RLIMIT_FSIZE), C(RLIMIT_DATA), C(RLIMIT_STACK),
	C(RLIMIT_CORE), C(RLIMIT_NOFILE), C(RLIMIT_AS), C(RLIMIT_NPROC),
	C(RLIMIT_MEMLOCK),
};

int
pol_const_lookup(const char *name, uint64_t *value)
{
	for (size_t i = 0; i < sizeof(consts) / sizeof(consts[0]); i++) {
		if (strcmp(consts[i].name, name) == 0) {
			*value = consts[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

int
pol_errno_lookup(const char *name, int *value)
{
	char *end;
	long v;

	if (name[0] >= '0' && name[0] <= '9') {
		errno = 0;
		v = strtol(name, &end, 10);
		if (errno || *end || v < 1 || v > 4095)
			return -ENOENT;
		*value = (int)v;
		return 0;
	}
	/* glibc knows the names: no table to fall out of date. */
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && strcmp(n, name) == 0) {
			*value = e;
			return 0;
		}
	}
	return -ENOENT;
}

static const char *const action_names[] = {
	[POL_ACT_ALLOW] = "allow",
	[POL_ACT_ERRNO] = "errno",
	[POL_ACT_KILL_PROCESS] = "kill-process",
	[POL_ACT_KILL_THREAD] = "kill-thread",
	[POL_ACT_TRAP] = "trap",
	[POL_ACT_LOG] = "log",
};

const char *
pol_action_name(enum pol_action_kind kind)
{
	if ((unsigned int)kind >= sizeof(action_names) / sizeof(action_names[0]))
		return "?";
	return action_names[kind];
}

void
pol_action_format(const struct pol_action *a, char *buf, size_t len)
{
	const char *n;

	if (a->kind == POL_ACT_ERRNO) {
		n = strerrorname_np(a->errnum);
		snprintf(buf, len, "errno %d (%s)", a->errnum, n ? n : "?");
	} else {
		snprintf(buf, len, "%s", pol_action_name(a->kind));
	}
}

/* Indexed by RLIMIT_*: the names [rlimits] accepts. */
static const char *const rlimit_names[POL_RLIM_COUNT] = {
	[RLIMIT_CPU] = "cpu", [RLIMIT_FSIZE] = "fsize", [RLIMIT_DATA] = "data",
	[RLIMIT_STACK] = "stack", [RLIMIT_CORE] = "core",
	[RLIMIT_RSS] = "rss", [RLIMIT_NPROC] = "nproc",
	[RLIMIT_NOFILE] = "nofile", [RLIMIT_MEMLOCK] = "memlock",
	[RLIMIT_AS] = "as", [RLIMIT_LOCKS] = "locks",
	[RLIMIT_SIGPENDING] = "sigpending", [RLIMIT_MSGQUEUE] = "msgqueue",
	[RLIMIT_NICE] = "nice", [RLIMIT_RTPRIO] = "rtprio",
	[RLIMIT_RTTIME] = "rttime",
};

const char *
pol_rlimit_name(int resource)
{
	if (resource < 0 || resource >= POL_RLIM_COUNT)
		return NULL;
	return rlimit_names[resource];
}

struct bitname {
	const char *name;
	uint64_t bit;
};

static const struct bitname ns_names[] = {
	{ "user", POL_NS_USER }, { "mount", POL_NS_MOUNT },
	{ "pid", POL_NS_PID }, { "net", POL_NS_NET }, { "ipc", POL_NS_IPC },
	{ "uts", POL_NS_UTS }, { "cgroup", POL_NS_CGROUP },
};

const char *
pol_ns_name(enum pol_ns ns)
{
	for (size_t i = 0; i < sizeof(ns_names) / sizeof(ns_names[0]); i++)
		if (ns_names[i].bit == (uint64_t)ns)
			return ns_names[i].name;
	return "?";
}

static const struct bitname fd_kind_names[] = {
	{ "null", POL_FD_NULL }, { "pipe-r", POL_FD_PIPE_R },
	{ "pipe-w", POL_FD_PIPE_W }, { "unix-stream", POL_FD_UNIX_STREAM },
	{ "unix-seqpacket", POL_FD_UNIX_SEQPACKET },
	{ "memfd-sealed", POL_FD_MEMFD_SEALED }, { "memfd", POL_FD_MEMFD },
	{ "eventfd", POL_FD_EVENTFD }, { "file", POL_FD_FILE },
	{ "block", POL_FD_BLOCK }, { "tty", POL_FD_TTY },
	{ "epoll", POL_FD_EPOLL }, { "signalfd", POL_FD_SIGNALFD },
};

static const struct bitname fd_mode_names[] = {
	{ "ro", POL_FD_RO }, { "wo", POL_FD_WO }, { "rw", POL_FD_RW },
};

static const struct bitname ll_fs_names[] = {
	{ "execute", POL_LL_FS_EXECUTE }, { "write_file", POL_LL_FS_WRITE_FILE },
	{ "read_file", POL_LL_FS_READ_FILE }, { "read_dir", POL_LL_FS_READ_DIR },
	{ "remove_dir", POL_LL_FS_REMOVE_DIR },
	{ "remove_file", POL_LL_FS_REMOVE_FILE },
	{ "make_char", POL_LL_FS_MAKE_CHAR }, { "make_dir", POL_LL_FS_MAKE_DIR },
	{ "make_reg", POL_LL_FS_MAKE_REG }, { "make_sock", POL_LL_FS_MAKE_SOCK },
	{ "make_fifo", POL_LL_FS_MAKE_FIFO },
	{ "make_block", POL_LL_FS_MAKE_BLOCK }, { "make_sym", POL_LL_FS_MAKE_SYM },
	{ "refer", POL_LL_FS_REFER }, { "truncate", POL_LL_FS_TRUNCATE },
	{ "ioctl_dev", POL_LL_FS_IOCTL_DEV },
};

static const struct bitname ll_net_names[] = {
	{ "bind_tcp", POL_LL_NET_BIND_TCP },
	{ "connect_tcp", POL_LL_NET_CONNECT_TCP },
};

static const struct bitname ll_scope_names[] = {
	{ "abstract_unix_socket", POL_LL_SCOPE_ABSTRACT_UNIX_SOCKET },
	{ "signal", POL_LL_SCOPE_SIGNAL },
};

static void
bits_format(const struct bitname *t, size_t n, uint64_t bits, const char *sep,
    char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (bits == 0) {
		snprintf(buf, len, "none");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int w;

		if (!(bits & t[i].bit))
			continue;
		w = snprintf(buf + used, len - used, "%s%s", used ? sep : "",
		    t[i].name);
		if (w < 0 || (size_t)w >= len - used)
			return;
		used += (size_t)w;
	}
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void
pol_fd_kinds_format(unsigned int kinds, char *buf, size_t len)
{
	bits_format(fd_kind_names, NELEM(fd_kind_names), kinds, "|", buf, len);
}

void
pol_fd_modes_format(unsigned int modes, char *buf, size_t len)
{
	bits_format(fd_mode_names, NELEM(fd_mode_names), modes, "|", buf, len);
}

void
pol_ll_fs_format(uint64_t access, char *buf, size_t len)
{
	bits_format(ll_fs_names, NELEM(ll_fs_names), access, ", ", buf, len);
}

void
pol_ll_net_format(uint64_t access, char *buf, size_t len)
{
	bits_format(ll_net_names, NELEM(ll_net_names), access, ", ", buf, len);
}

void
pol_ll_scope_format(uint64_t scopes, char *buf, size_t len)
{
	bits_format(ll_scope_names, NELEM(ll_scope_names), scopes, ", ", buf,
	    len);
}

/* Lookups for the parser (declared in policy/internal.h). */
#include "policy/internal.h"

static int
bit_lookup(const struct bitname *t, size_t n, const char *name, uint64_t *bit)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i].name, name) == 0) {
			*bit = t[i].bit;
			return 0;
		}
	}
	return -ENOENT;
}

int
pol_ns_lookup(const char *name, unsigned int *bit)
{
	uint64_t b;
	int err = bit_lookup(ns_names, NELEM(ns_names), name, &b);

	*bit = (unsigned int)b;
	return err;
}

int
pol_fd_kind_lookup(const char *name, unsigned int *bit)
{
	uint64_t b;
	int err = bit_lookup(fd_kind_names, NELEM(fd_kind_names), name, &b);

	*bit = (unsigned int)b;
	return err;
}

int
pol_fd_mode_lookup(const char *name, unsigned int *bit)
{
	uint64_t b;
	int err = bit_lookup(fd_mode_names, NELEM(fd_mode_names), name, &b);

	*bit = (unsigned int)b;
	return err;
}

int
pol_ll_fs_lookup(const char *name, uint64_t *bit)
{
	return bit_lookup(ll_fs_names, NELEM(ll_fs_names), name, bit);
}

int
pol_ll_net_lookup(const char *name, uint64_t *bit)
{
	return bit_lookup(ll_net_names, NELEM(ll_net_names), name, bit);
}

int
pol_ll_scope_lookup(const char *name, uint64_t *bit)
{
	return bit_lookup(ll_scope_names, NELEM(ll_scope_names), name, bit);
}

int
pol_rlimit_lookup(const char *name, int *resource)
{
	for (int i = 0; i < POL_RLIM_COUNT; i++) {
		if (rlimit_names[i] && strcmp(rlimit_names[i], name) == 0) {
			*resource = i;
			return 0;
		}
	}
	return -ENOENT;
}
