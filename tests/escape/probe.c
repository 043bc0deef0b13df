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
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <asm/ldt.h>
#include <unistd.h>

#include "sandbox/self.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
/* The new mount API (<linux/mount.h> clashes with glibc's <sys/mount.h>). */
#define PROBE_FSOPEN_CLOEXEC 0x1U
#define PROBE_FSCONFIG_CMD_CREATE 6U
#define PROBE_FSMOUNT_CLOEXEC 0x1U
#define PROBE_MOVE_MOUNT_F_EMPTY_PATH 0x4U
#define PROBE_OPEN_TREE_CLONE 0x1U
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef TIOCL_GETSHIFTSTATE
#define TIOCL_GETSHIFTSTATE 6
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
	{ ELOOP, "ELOOP" }, { EIO, "EIO" }, { ESTALE, "ESTALE" },
	{ E2BIG, "E2BIG" }, { ENOTSOCK, "ENOTSOCK" },
	{ EPFNOSUPPORT, "EPFNOSUPPORT" }, { EPROTOTYPE, "EPROTOTYPE" },
	{ ENOPROTOOPT, "ENOPROTOOPT" },
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
	char *const argv[] = { (char *)"probe", (char *)"exec-landed",
		(char *)"execve", NULL };
	char *const envp[] = { NULL };

	(void)a;
	return execve("/proc/self/exe", argv, envp);
}

static long
a_exec_landed(const char *a)
{
	(void)a;
	return 0;	/* reported by main as "<how it got here> ok" */
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
static long
a_shmget(const char *a)
{
	int id = shmget(IPC_PRIVATE, 4096, 0600);

	(void)a;
	if (id >= 0)
		shmctl(id, IPC_RMID, NULL);	/* leave the host's IPC as found */
	return id;
}

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
	/* the process keyring: made for this process, gone with it */
	return syscall(SYS_add_key, "user", "mpjail-escape", "x", 1UL,
	    KEY_SPEC_PROCESS_KEYRING);
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

/* ---- memory and handles ---- */

/* Write our own memory through /proc/self/mem (bypasses page protections). */
static long
a_proc_self_mem(const char *a)
{
	static volatile char target = 'a';
	char c = 'b';
	long fd, rc;

	(void)a;
	fd = openat(AT_FDCWD, "/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fd;
	rc = pwrite((int)fd, &c, 1, (off_t)(uintptr_t)&target);
	close((int)fd);
	return rc < 0 ? rc : (target == 'b' ? 0 : -1);
}

/*
 * The read-only image fd reopened read/write by file handle (the
 * "shocker" escape): open_by_handle_at is tried first with a handle forged
 * from fstat (so a filter must stop that very call), then with the real
 * one from name_to_handle_at.
 */
static long
a_open_by_handle(const char *a)
{
	struct {
		struct file_handle h;
		unsigned char bytes[MAX_HANDLE_SZ];
	} fh;
	struct stat st;
	int mnt_id;
	long fd;

	(void)a;
	memset(&fh, 0, sizeof(fh));
	if (fstat(5, &st) < 0)
		return -1;
	fh.h.handle_bytes = 8;
	fh.h.handle_type = 1;	/* FILEID_INO32_GEN */
	memcpy(fh.h.f_handle, &st.st_ino, 4);
	fd = syscall(SYS_open_by_handle_at, 5, &fh.h, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ESTALE)
		return fd;
	fh.h.handle_bytes = MAX_HANDLE_SZ;
	if (syscall(SYS_name_to_handle_at, 5, "", &fh.h, &mnt_id,
	    AT_EMPTY_PATH) < 0)
		return -1;
	return syscall(SYS_open_by_handle_at, 5, &fh.h, O_RDWR | O_CLOEXEC);
}

static long
a_userfaultfd(const char *a)
{
	(void)a;
	return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
}

static long
a_vmsplice(const char *a)
{
	/* vmsplice lends the page itself to the pipe: never a stack buffer */
	static const char nl[] = "\n";
	struct iovec iov = { (void *)(uintptr_t)nl, 1 };

	(void)a;
	/* fd 2 is a pipe: the log fd inside, the driver's capture outside */
	return syscall(SYS_vmsplice, 2, &iov, 1UL, 0U);
}

/* A data segment in our own LDT (func 1: write). */
static long
a_modify_ldt(const char *a)
{
	struct user_desc d;

	(void)a;
	memset(&d, 0, sizeof(d));
	d.entry_number = 0;
	d.limit = 0xfff;
	d.seg_32bit = 1;
	d.useable = 1;
	return syscall(SYS_modify_ldt, 1, &d, sizeof(d));
}

/* ---- the new mount API, pivot_root, setns, namespaces by clone ---- */

/* A tmpfs made with fsopen/fsconfig/fsmount and put on `a` (move_mount). */
static long
a_fsopen(const char *a)
{
	long fs, mfd, rc;

	if (!a || a[0] != '/' || !strcmp(a, "/")) {
		errno = EINVAL;
		return -1;
	}
	fs = syscall(SYS_fsopen, "tmpfs", PROBE_FSOPEN_CLOEXEC);
	if (fs < 0)
		return fs;
	if (syscall(SYS_fsconfig, fs, PROBE_FSCONFIG_CMD_CREATE, NULL, NULL,
	    0) < 0)
		return -1;
	mfd = syscall(SYS_fsmount, fs, PROBE_FSMOUNT_CLOEXEC, 0U);
	if (mfd < 0)
		return mfd;
	rc = syscall(SYS_move_mount, mfd, "", AT_FDCWD, a,
	    PROBE_MOVE_MOUNT_F_EMPTY_PATH);
	close((int)mfd);
	close((int)fs);
	return rc;
}

/* A detached copy of the mount at `a` (open_tree), moved back onto `a`. */
static long
a_open_tree(const char *a)
{
	long t, rc;

	if (!a || a[0] != '/' || !strcmp(a, "/")) {
		errno = EINVAL;
		return -1;
	}
	t = syscall(SYS_open_tree, AT_FDCWD, a,
	    PROBE_OPEN_TREE_CLONE | (unsigned int)O_CLOEXEC);
	if (t < 0)
		return t;
	rc = syscall(SYS_move_mount, t, "", AT_FDCWD, a,
	    PROBE_MOVE_MOUNT_F_EMPTY_PATH);
	close((int)t);
	return rc;
}

/*
 * pivot_root onto `a`: tried first as it stands (not a mount point:
 * EINVAL), so a filter must stop that call; then on a tmpfs mounted there.
 */
static long
a_pivot_root(const char *a)
{
	if (!a || a[0] != '/' || !strcmp(a, "/")) {
		errno = EINVAL;
		return -1;
	}
	if (syscall(SYS_pivot_root, a, a) == 0 || errno != EINVAL)
		return errno == 0 ? 0 : -1;
	if (mount("none", a, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k") < 0)
		return -1;
	return syscall(SYS_pivot_root, a, a);
}

/* setns into the net namespace whose fd is `a` (the driver puts it at 5). */
static long
a_setns(const char *a)
{
	return setns(a ? (int)strtol(a, NULL, 10) : 5, CLONE_NEWNET);
}

static long
clone_flags(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | (unsigned long)SIGCHLD, 0UL,
	    NULL, NULL, 0UL);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static long a_clone_newuser(const char *a) { (void)a; return clone_flags(CLONE_NEWUSER); }
static long a_clone_newpid(const char *a) { (void)a; return clone_flags(CLONE_NEWPID); }
static long a_unshare_mount(const char *a) { (void)a; return unshare(CLONE_NEWNS); }

struct probe_clone_args {		/* struct clone_args, version 0 */
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
	    stack_size, tls;
};

static long
a_clone3(const char *a)
{
	struct probe_clone_args ca;
	long pid;

	(void)a;
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

/* ---- threads ---- */

static void *
thread_main(void *arg)
{
	return arg;
}

static long
a_pthread(const char *a)
{
	pthread_t t;
	int err;

	(void)a;
	err = pthread_create(&t, NULL, thread_main, NULL);
	if (err) {
		errno = err;
		return -1;
	}
	pthread_join(t, NULL);
	return 0;
}

static volatile int thread_ran;

static int
clone_thread_main(void *arg)
{
	(void)arg;
	thread_ran = 1;
	syscall(SYS_exit, 0);	/* this thread only */
	return 0;
}

/* A raw clone(CLONE_THREAD): a second thread sharing our memory and fds. */
static long
a_clone_thread(const char *a)
{
	static char stack[65536] __attribute__((aligned(16)));
	long tid;

	(void)a;
	tid = clone(clone_thread_main, stack + sizeof(stack),
	    CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
	    CLONE_SYSVSEM, NULL);
	if (tid < 0)
		return tid;
	for (int i = 0; i < 1000 && !thread_ran; i++)
		usleep(1000);
	return thread_ran ? 0 : -1;
}

/* ---- exec by other ways ---- */

static long
a_execveat(const char *a)
{
	char *const argv[] = { (char *)"probe", (char *)"exec-landed",
		(char *)"execveat", NULL };
	char *const envp[] = { NULL };

	(void)a;
	return syscall(SYS_execveat, AT_FDCWD, "/proc/self/exe", argv, envp,
	    0);
}

/* Our own image copied into a memfd and run from there (fexecve). */
static long
a_memfd_exec(const char *a)
{
	char *const argv[] = { (char *)"probe", (char *)"exec-landed",
		(char *)"memfd-exec", NULL };
	char *const envp[] = { NULL };
	char buf[65536];
	long mfd, exe;
	ssize_t n;

	(void)a;
	mfd = syscall(SYS_memfd_create, "x", 0U);
	if (mfd < 0)
		return mfd;
	exe = openat(AT_FDCWD, "/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		return exe;
	while ((n = read((int)exe, buf, sizeof(buf))) > 0)
		if (write((int)mfd, buf, (size_t)n) != n)
			return -1;
	close((int)exe);
	return syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
}

/* ---- kernel interfaces a remote never needs ---- */

static long
a_bpf(const char *a)
{
	union bpf_attr attr;

	(void)a;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

/* A counter of our own task clock, user space only (paranoid <= 2). */
static long
a_perf(const char *a)
{
	struct perf_event_attr pe;

	(void)a;
	memset(&pe, 0, sizeof(pe));
	pe.type = PERF_TYPE_SOFTWARE;
	pe.size = sizeof(pe);
	pe.config = PERF_COUNT_SW_TASK_CLOCK;
	pe.disabled = 1;
	pe.exclude_kernel = 1;
	pe.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &pe, 0, -1, -1,
	    (unsigned long)PERF_FLAG_FD_CLOEXEC);
}

/* A new anonymous session keyring of our own: no host keyring touched. */
static long
a_keyctl_join(const char *a)
{
	(void)a;
	return syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL);
}

static long
a_msgget(const char *a)
{
	int id = msgget(IPC_PRIVATE, 0600);

	(void)a;
	if (id >= 0)
		msgctl(id, IPC_RMID, NULL);	/* leave the host's IPC as found */
	return id;
}

static long
a_semget(const char *a)
{
	int id = semget(IPC_PRIVATE, 1, 0600);

	(void)a;
	if (id >= 0)
		semctl(id, 0, IPC_RMID);
	return id;
}

/* ---- identity and limits ---- */

/* Add CAP_SYS_ADMIN to the effective set (capset, not through libc). */
static long
a_capset(const char *a)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	(void)a;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[0].effective |= 1U << CAP_SYS_ADMIN;
	d[0].permitted |= 1U << CAP_SYS_ADMIN;
	return syscall(SYS_capset, &h, d);
}

/* Lower RLIMIT_NPROC, then raise it again: raising needs a capability. */
static long
a_setrlimit_raise(const char *a)
{
	struct rlimit lo = { 100, 100 }, hi = { 200, 200 };

	(void)a;
	if (setrlimit(RLIMIT_NPROC, &lo) < 0)
		return -1;
	return setrlimit(RLIMIT_NPROC, &hi);
}

/* ---- terminals (fd `a`, a pty the driver gives at 0) ---- */

/*
 * An ioctl on the tty; on EPERM (not our controlling terminal) make it
 * ours (setsid, TIOCSCTTY) and try again. The first call is the attempt a
 * filter must stop. high: the request with bit 32 set, which the kernel
 * drops (cmd is an unsigned int) but a 64-bit filter compare sees.
 */
static long
tty_ioctl(const char *a, unsigned long req, void *argp)
{
	int fd = a ? (int)strtol(a, NULL, 10) : 0;
	long rc = syscall(SYS_ioctl, fd, req, argp);

	if (rc == 0 || errno != EPERM)
		return rc;
	if (setsid() < 0 || ioctl(fd, TIOCSCTTY, 0) < 0)
		return -1;
	return syscall(SYS_ioctl, fd, req, argp);
}

static long
a_tiocsti_tty(const char *a)
{
	char c = '\n';

	return tty_ioctl(a, TIOCSTI, &c);
}

static long
a_tiocsti_high(const char *a)
{
	char c = '\n';

	return tty_ioctl(a, (1UL << 32) | TIOCSTI, &c);
}

static long
a_tioclinux(const char *a)
{
	char sub = TIOCL_GETSHIFTSTATE;

	return tty_ioctl(a, TIOCLINUX, &sub);
}

static long
a_tioclinux_high(const char *a)
{
	char sub = TIOCL_GETSHIFTSTATE;

	return tty_ioctl(a, (1UL << 32) | TIOCLINUX, &sub);
}

/* ---- sockets by family, by path ---- */

/* `a`: "FAMILY/TYPE[/PROTOCOL]" in decimal. */
static long
a_socket_family(const char *a)
{
	char *end;
	long fam, type, proto = 0;

	if (!a) {
		errno = EINVAL;
		return -1;
	}
	fam = strtol(a, &end, 10);
	if (*end != '/') {
		errno = EINVAL;
		return -1;
	}
	type = strtol(end + 1, &end, 10);
	if (*end == '/')
		proto = strtol(end + 1, &end, 10);
	return socket((int)fam, (int)type | SOCK_CLOEXEC, (int)proto);
}

/* Connect to the pathname UNIX socket `a`. */
static long
a_connect_path(const char *a)
{
	struct sockaddr_un sun;
	long fd;

	if (!a || strlen(a) >= sizeof(sun.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, a, strlen(a));
	return connect((int)fd, (struct sockaddr *)&sun, sizeof(sun));
}

/* Another tenant's image, by path, for writing. */
static long
a_open_path_rw(const char *a)
{
	return openat(AT_FDCWD, a ? a : "/", O_RDWR | O_CLOEXEC);
}

/* ---- the read-only image fd ---- */

static long
a_fallocate_ro(const char *a)
{
	int fd = a ? (int)strtol(a, NULL, 10) : 5;

	return fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0,
	    4096);
}

static long
a_ftruncate_ro(const char *a)
{
	int fd = a ? (int)strtol(a, NULL, 10) : 5;

	return ftruncate(fd, 0);
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
	{ "proc-self-mem", a_proc_self_mem },
	{ "open-by-handle", a_open_by_handle },
	{ "userfaultfd", a_userfaultfd },
	{ "vmsplice", a_vmsplice },
	{ "modify-ldt", a_modify_ldt },
	{ "fsopen-fsmount", a_fsopen },
	{ "open-tree", a_open_tree },
	{ "pivot-root", a_pivot_root },
	{ "setns-net", a_setns },
	{ "clone-newuser", a_clone_newuser },
	{ "clone-newpid", a_clone_newpid },
	{ "unshare-mount", a_unshare_mount },
	{ "clone3", a_clone3 },
	{ "pthread-create", a_pthread },
	{ "clone-thread", a_clone_thread },
	{ "execveat", a_execveat },
	{ "memfd-exec", a_memfd_exec },
	{ "bpf-map-create", a_bpf },
	{ "perf-event-open", a_perf },
	{ "keyctl-join", a_keyctl_join },
	{ "msgget", a_msgget },
	{ "semget", a_semget },
	{ "capset", a_capset },
	{ "setrlimit-raise", a_setrlimit_raise },
	{ "tiocsti-tty", a_tiocsti_tty },
	{ "tiocsti-high", a_tiocsti_high },
	{ "tioclinux", a_tioclinux },
	{ "tioclinux-high", a_tioclinux_high },
	{ "socket-family", a_socket_family },
	{ "connect-path", a_connect_path },
	{ "open-path-rw", a_open_path_rw },
	{ "fallocate-ro", a_fallocate_ro },
	{ "ftruncate-ro", a_ftruncate_ro },
	{ "hold", a_hold },
};

/* --layers: which of the self side's layers to apply (the matrix). */
static unsigned int
parse_layers(const char *s)
{
	unsigned int m = 0;

	if (strstr(s, "nproc"))
		m |= 1;
	if (strstr(s, "landlock"))
		m |= 2;
	if (strstr(s, "seccomp"))
		m |= 4;
	return m;
}

int
main(int argc, char **argv)
{
	struct sbx_lockdown l;
	struct sbx_ll_report r;
	char why[256];
	const char *arg;
	int i = 1, bpf = -1;
	unsigned int layers = 0;

	if (i < argc && !strcmp(argv[i], "--list")) {
		for (size_t k = 0; k < sizeof(attempts) / sizeof(attempts[0]);
		    k++)
			printf("%s\n", attempts[k].name);
		return 0;
	}
	if (i < argc && !strcmp(argv[i], "--lockdown")) {
		layers = 7;
		i++;
	} else if (i + 1 < argc && !strcmp(argv[i], "--layers")) {
		layers = parse_layers(argv[i + 1]);
		i += 2;
	}
	if (i + 1 < argc && !strcmp(argv[i], "--seccomp-fd")) {
		bpf = (int)strtol(argv[i + 1], NULL, 10);
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: probe [--list] [--lockdown | --layers "
		    "nproc,landlock,seccomp] [--seccomp-fd N] ATTEMPT [ARG]\n");
		return 2;
	}
	arg = i + 1 < argc ? argv[i + 1] : NULL;
	if (layers) {
		/* the remote's own lockdown, less the layers not asked for */
		sbx_lockdown_remote(&l, (layers & 4) ? bpf : -1);
		l.nproc_set = (layers & 1) != 0;
		l.landlock = (layers & 2) != 0;
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
		/* exec-landed: ARG names the exec that got here */
		report(!strcmp(argv[i], "exec-landed") ? (arg ? arg : "execve")
		    : argv[i], rc, err);
		_exit(0);
	}
	fprintf(stderr, "probe: no attempt '%s'\n", argv[i]);
	return 2;
}
