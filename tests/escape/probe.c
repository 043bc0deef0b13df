/*
 * tests/escape/probe.c: one escape attempt per run, made by a process that
 * locks itself down exactly as mpjail-lsi does (sandbox/self.h), or, for
 * the control, not at all. Plays the compromised remote: every attempt is
 * hostile. Prints "RESULT <attempt> ok|E<name>" on fd 2 (the policy's log
 * fd) and exits 0; an attempt seccomp kills prints nothing (SIGSYS).
 * Static-pie, libc only, so its bubblewrap root holds nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox/self.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

static const struct {
	int num;
	const char *name;
} errnames[] = {
	{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { ESRCH, "ESRCH" },
	{ EBADF, "EBADF" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
	{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
	{ EEXIST, "EEXIST" }, { EINVAL, "EINVAL" }, { ENOTTY, "ENOTTY" },
	{ ENOSPC, "ENOSPC" }, { EROFS, "EROFS" }, { ENOSYS, "ENOSYS" },
	{ EAFNOSUPPORT, "EAFNOSUPPORT" }, { ECONNREFUSED, "ECONNREFUSED" },
	{ EOPNOTSUPP, "EOPNOTSUPP" }, { ENOEXEC, "ENOEXEC" },
	{ EPROTONOSUPPORT, "EPROTONOSUPPORT" }, { ENODEV, "ENODEV" },
	{ EMFILE, "EMFILE" }, { ENXIO, "ENXIO" }, { ESOCKTNOSUPPORT,
	"ESOCKTNOSUPPORT" }, { EISDIR, "EISDIR" }, { ENOTDIR, "ENOTDIR" },
	{ ELOOP, "ELOOP" }, { EIO, "EIO" },
};

static void
report(const char *name, long rc, int err)
{
	char line[128];
	const char *what = "ok";
	char num[16];
	int n;

	if (rc < 0) {
		snprintf(num, sizeof(num), "E%d", err);
		what = num;
		for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]);
		    i++)
			if (errnames[i].num == err)
				what = errnames[i].name;
	}
	n = snprintf(line, sizeof(line), "RESULT %s %s\n", name, what);
	if (n > 0 && write(2, line, (size_t)n) < 0)
		_exit(3);
}

static long
arg_pid(const char *s)
{
	return s ? strtol(s, NULL, 10) : -1;
}

/* Each attempt returns the syscall's result; errno holds its error. */
typedef long attempt_fn(const char *arg);

static long
a_open(const char *path)
{
	return openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
}

static long a_shadow(const char *a) { (void)a; return a_open("/etc/shadow"); }
static long a_passwd(const char *a) { (void)a; return a_open("/etc/passwd"); }
static long a_root(const char *a) { (void)a; return a_open("/"); }
static long a_self_exe(const char *a) { (void)a; return a_open("/proc/self/exe"); }
static long a_dev_kvm(const char *a) { (void)a; return a_open("/dev/kvm"); }

static long
a_create(const char *a)
{
	char path[64];

	(void)a;
	snprintf(path, sizeof(path), "/tmp/mpjail-escape-%d", (int)getpid());
	long fd = openat(AT_FDCWD, path, O_CREAT | O_EXCL | O_WRONLY |
	    O_CLOEXEC, 0600);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* A read-only image fd made writable through /proc/self/fd. */
static long
a_reopen_rw(const char *a)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%s", a ? a : "5");
	return openat(AT_FDCWD, path, O_RDWR | O_CLOEXEC);
}

static long
a_pwrite_ro(const char *a)
{
	int fd = a ? (int)strtol(a, NULL, 10) : 5;

	return pwrite(fd, "x", 1, 0);
}

static long
a_socket(int family, int type)
{
	return socket(family, type | SOCK_CLOEXEC, 0);
}

static long a_inet(const char *a) { (void)a; return a_socket(AF_INET, SOCK_STREAM); }
static long a_inet6(const char *a) { (void)a; return a_socket(AF_INET6, SOCK_DGRAM); }
static long a_unix(const char *a) { (void)a; return a_socket(AF_UNIX, SOCK_STREAM); }
static long a_vsock(const char *a) { (void)a; return a_socket(AF_VSOCK, SOCK_STREAM); }
static long a_netlink(const char *a) { (void)a; return a_socket(AF_NETLINK, SOCK_RAW); }
static long a_alg(const char *a) { (void)a; return a_socket(AF_ALG, SOCK_SEQPACKET); }
static long a_socketpair(const char *a)
{
	int sv[2];

	(void)a;
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

/* Connect to the abstract unix socket "\0<arg>" the driver listens on. */
static long
a_abstract(const char *a)
{
	struct sockaddr_un sun;
	size_t n = strlen(a ? a : "");
	long fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || n + 1 > sizeof(sun.sun_path))
		return fd < 0 ? fd : -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, a, n);
	return connect((int)fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
}

static long a_kill(const char *a) { return kill((pid_t)arg_pid(a), 0); }
static long a_kill_init(const char *a) { (void)a; return kill(1, 0); }
static long a_kill_parent(const char *a) { (void)a; return kill(getppid(), 0); }

static long
a_ptrace(const char *a)
{
	pid_t pid = (pid_t)arg_pid(a);
	long rc = ptrace(PTRACE_ATTACH, pid, NULL, NULL);

	if (rc == 0) {
		waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	return rc;
}

static long
a_vm_readv(const char *a)
{
	char buf[8];
	struct iovec l = { buf, sizeof(buf) }, r = { (void *)0x10000, 8 };
	long rc = syscall(SYS_process_vm_readv, arg_pid(a), &l, 1UL, &r, 1UL,
	    0UL);

	/* EFAULT: the call reached the other process; only the address was bad. */
	if (rc < 0 && errno == EFAULT)
		return 0;
	return rc;
}

static long
a_pidfd_getfd(const char *a)
{
	long pidfd = syscall(SYS_pidfd_open, arg_pid(a), 0U);

	if (pidfd < 0)
		return pidfd;
	return syscall(SYS_pidfd_getfd, pidfd, 0, 0U);
}

static long
a_execve(const char *a)
{
	char *const argv[] = { (char *)"probe", (char *)"exec-landed", NULL };
	char *const envp[] = { NULL };

	(void)a;
	return execve("/proc/self/exe", argv, envp);
}

static long
a_exec_landed(const char *a)
{
	(void)a;
	return 0;	/* reported as "execve ok" by main */
}

static long
a_fork(const char *a)
{
	pid_t pid = fork();

	(void)a;
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid;
}

static long
a_thread(const char *a)
{
	/* clone3 with CLONE_THREAD semantics needs a stack; CLONE_VM fork. */
	(void)a;
	long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, NULL, NULL,
	    0UL);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static long a_unshare_user(const char *a) { (void)a; return unshare(CLONE_NEWUSER); }
static long a_unshare_net(const char *a) { (void)a; return unshare(CLONE_NEWNET); }

static long
a_io_uring(const char *a)
{
	struct io_uring_params p;

	(void)a;
	memset(&p, 0, sizeof(p));
	return syscall(SYS_io_uring_setup, 1U, &p);
}

static long
a_mmap_exec(const char *a)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)a;
	return p == MAP_FAILED ? -1 : 0;
}

static long
a_mprotect_exec(const char *a)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)a;
	if (p == MAP_FAILED)
		return -1;
	return mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static long
a_int80(const char *a)
{
	long rc;

	(void)a;
	/* i386 getpid is 20; the i386 table, reached from a 64-bit process. */
	__asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

static long
a_x32(const char *a)
{
	(void)a;
	return syscall(0x40000000L | SYS_getpid);
}

static long a_memfd(const char *a) { (void)a; return syscall(SYS_memfd_create, "x", 0U); }
static long a_shmget(const char *a) { (void)a; return shmget(IPC_PRIVATE, 4096, 0600); }
static long a_personality(const char *a) { (void)a; return personality(READ_IMPLIES_EXEC); }
static long a_dumpable(const char *a) { (void)a; return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); }
static long a_setuid0(const char *a) { (void)a; return setuid(0); }
static long a_chroot(const char *a) { (void)a; return chroot("/"); }
/*
 * A tmpfs on the driver's empty directory `a`, never on "/": run as root
 * unconfined, a mount on "/" covers the host's root for everyone.
 */
static long
a_mount_tmpfs(const char *a)
{
	if (!a || a[0] != '/' || !strcmp(a, "/")) {
		errno = EINVAL;
		return -1;
	}
	return mount("none", a, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k");
}
static long a_keyctl(const char *a)
{
	(void)a;
	return syscall(SYS_add_key, "user", "mpjail-escape", "x", 1UL,
	    -3 /* KEY_SPEC_SESSION_KEYRING */);
}

static long
a_setrlimit(const char *a)
{
	struct rlimit rl;

	(void)a;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static long
a_tiocsti(const char *a)
{
	char c = 'x';

	(void)a;
	return ioctl(2, TIOCSTI, &c);
}

/* Wait on fd 3 (the mpqemu socket) until the driver closes its end. */
static long
a_hold(const char *a)
{
	struct pollfd p = { .fd = 3, .events = POLLIN };

	(void)a;
	report("hold", 1, 0);	/* "RESULT hold ok": ready for inspection */
	return ppoll(&p, 1, NULL, NULL) < 0 ? -1 : 0;
}

static const struct {
	const char *name;
	attempt_fn *fn;
} attempts[] = {
	{ "open-shadow", a_shadow },
	{ "open-passwd", a_passwd },
	{ "open-root", a_root },
	{ "open-self-exe", a_self_exe },
	{ "open-dev-kvm", a_dev_kvm },
	{ "create-tmp", a_create },
	{ "reopen-rw", a_reopen_rw },
	{ "pwrite-ro", a_pwrite_ro },
	{ "socket-inet", a_inet },
	{ "socket-inet6", a_inet6 },
	{ "socket-unix", a_unix },
	{ "socket-vsock", a_vsock },
	{ "socket-netlink", a_netlink },
	{ "socket-alg", a_alg },
	{ "socketpair", a_socketpair },
	{ "connect-abstract", a_abstract },
	{ "kill-sibling", a_kill },
	{ "kill-init", a_kill_init },
	{ "kill-parent", a_kill_parent },
	{ "ptrace-sibling", a_ptrace },
	{ "vm-readv-sibling", a_vm_readv },
	{ "pidfd-getfd-sibling", a_pidfd_getfd },
	{ "execve", a_execve },
	{ "exec-landed", a_exec_landed },
	{ "fork", a_fork },
	{ "clone", a_thread },
	{ "unshare-user", a_unshare_user },
	{ "unshare-net", a_unshare_net },
	{ "io-uring-setup", a_io_uring },
	{ "mmap-exec", a_mmap_exec },
	{ "mprotect-exec", a_mprotect_exec },
	{ "int80-getpid", a_int80 },
	{ "x32-getpid", a_x32 },
	{ "memfd-create", a_memfd },
	{ "shmget", a_shmget },
	{ "personality", a_personality },
	{ "set-dumpable", a_dumpable },
	{ "setuid-0", a_setuid0 },
	{ "chroot", a_chroot },
	{ "mount", a_mount_tmpfs },
	{ "add-key", a_keyctl },
	{ "setrlimit-nofile", a_setrlimit },
	{ "tiocsti", a_tiocsti },
	{ "hold", a_hold },
};

int
main(int argc, char **argv)
{
	struct sbx_lockdown l;
	struct sbx_ll_report r;
	char why[256];
	const char *arg;
	int i = 1, bpf = -1;
	bool lockdown = false;

	if (i < argc && !strcmp(argv[i], "--list")) {
		for (size_t k = 0; k < sizeof(attempts) / sizeof(attempts[0]);
		    k++)
			printf("%s\n", attempts[k].name);
		return 0;
	}
	if (i < argc && !strcmp(argv[i], "--lockdown")) {
		lockdown = true;
		i++;
	}
	if (i + 1 < argc && !strcmp(argv[i], "--seccomp-fd")) {
		bpf = (int)strtol(argv[i + 1], NULL, 10);
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: probe [--list] [--lockdown "
		    "[--seccomp-fd N]] ATTEMPT [ARG]\n");
		return 2;
	}
	arg = i + 1 < argc ? argv[i + 1] : NULL;
	if (lockdown) {
		sbx_lockdown_remote(&l, bpf);
		l.log_fd = 2;
		l.log_prefix = "probe";
		if (sbx_lockdown_apply(&l, &r, why, sizeof(why))) {
			fprintf(stderr, "probe: lockdown: %s\n", why);
			return 2;
		}
	}
	for (size_t k = 0; k < sizeof(attempts) / sizeof(attempts[0]); k++) {
		long rc;
		int err;

		if (strcmp(argv[i], attempts[k].name))
			continue;
		errno = 0;
		rc = attempts[k].fn(arg);
		err = errno;
		report(!strcmp(argv[i], "exec-landed") ? "execve" : argv[i],
		    rc, err);
		_exit(0);
	}
	fprintf(stderr, "probe: no attempt '%s'\n", argv[i]);
	return 2;
}
