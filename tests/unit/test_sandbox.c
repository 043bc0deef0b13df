/*
 * tests/unit/test_sandbox.c: sandbox/ — the sealed-memfd checks and the
 * TSYNC install (a libseccomp program, exported as the broker does), the
 * self lockdown order, the jail description and bubblewrap's command line,
 * a compiled policy to a jail, and a real spawn (root: the tenant uid,
 * no capability, exactly the listed fds). Runs as root, as `make check`.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/policy.h"
#include "sandbox/seccomp.h"
#include "sandbox/self.h"
#include "sandbox/spawn.h"

#define TENANT 61999
#define ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/*
 * A program that allows everything but getppid (EPERM), in a memfd. The
 * tests call it through syscall(): glibc returns its raw result unchecked.
 */
static int
program_memfd(int seals)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int fd = memfd_create("test-bpf", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_non_null(ctx);
	assert_true(fd >= 0);
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(getppid), 0), 0);
	assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
	seccomp_release(ctx);
	if (seals)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static int
memfd_with(const void *buf, size_t len, int seals)
{
	int fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	if (len)
		assert_int_equal(write(fd, buf, len), (ssize_t)len);
	if (seals)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

static void
test_seccomp_fd_checks(void **state)
{
	static const char twelve[12];
	size_t len = 0;
	char path[] = "/tmp/mpjail-test-XXXXXX";
	int fd;

	(void)state;
	fd = program_memfd(ALL_SEALS);
	assert_int_equal(sbx_seccomp_check_fd(fd, &len), 0);
	assert_true(len > 0 && len % 8 == 0);
	close(fd);
	/* unsealed, or missing one seal: refused */
	fd = program_memfd(0);
	assert_int_equal(sbx_seccomp_check_fd(fd, &len), -EPERM);
	close(fd);
	fd = program_memfd(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	assert_int_equal(sbx_seccomp_check_fd(fd, &len), -EPERM);
	close(fd);
	fd = program_memfd(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW);
	assert_int_equal(sbx_seccomp_check_fd(fd, &len), -EPERM);
	close(fd);
	/* empty, or not a whole number of instructions */
	fd = memfd_with(NULL, 0, ALL_SEALS);
	assert_int_equal(sbx_seccomp_check_fd(fd, &len), -EINVAL);
	close(fd);
	fd = memfd_with(twelve, sizeof(twelve), ALL_SEALS);
	assert_int_equal(sbx_seccomp_check_fd(fd, &len), -EINVAL);
	close(fd);
	/* a plain file cannot be sealed at all */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, twelve, 8), 8);
	assert_int_equal(sbx_seccomp_check_fd(fd, &len), -EPERM);
	close(fd);
	/* not a file */
	assert_int_equal(sbx_seccomp_check_fd(0 + 1000, &len), -EBADF);
}

static int
in_child(int (*fn)(int), int arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(arg));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		return 200;
	return WEXITSTATUS(status);
}

static void *
thread_getppid(void *arg)
{
	int *go = arg;

	while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
		usleep(1000);
	if (syscall(SYS_getppid) >= 0)
		return (void *)1;
	return errno == EPERM ? NULL : (void *)2;
}

/* A thread started before the install is confined too (TSYNC). */
static int
install_child(int fd)
{
	pthread_t t;
	void *ret = (void *)3;
	int go = 0;

	if (syscall(SYS_getppid) < 0)
		return 10;	/* control */
	if (pthread_create(&t, NULL, thread_getppid, &go))
		return 11;
	if (sbx_seccomp_install_fd(fd))
		return 12;
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	if (syscall(SYS_getppid) >= 0 || errno != EPERM)
		return 13;
	if (pthread_join(t, &ret) || ret != NULL)
		return 14;
	if (fcntl(fd, F_GETFD) < 0)
		return 15;	/* the fd stays the caller's */
	return 0;
}

static void
test_seccomp_install_tsync(void **state)
{
	int fd = program_memfd(ALL_SEALS);

	(void)state;
	assert_int_equal(in_child(install_child, fd), 0);
	close(fd);
}

static int
lockdown_child(int fd)
{
	struct sbx_lockdown l;
	struct sbx_ll_report r;
	struct rlimit rl;
	char why[256];

	sbx_lockdown_remote(&l, fd);
	if (sbx_lockdown_apply(&l, &r, why, sizeof(why)))
		return 10;
	if (r.status != SBX_LL_FULLY_ENFORCED)
		return 11;
	if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
		return 12;	/* closed after install */
	if (getrlimit(RLIMIT_NPROC, &rl) || rl.rlim_cur || rl.rlim_max)
		return 13;
	if (syscall(SYS_getppid) >= 0 || errno != EPERM)
		return 14;
	if (open("/etc/passwd", O_RDONLY) >= 0 || errno != EACCES)
		return 15;
	return 0;
}

static void
test_lockdown_remote(void **state)
{
	int fd = program_memfd(ALL_SEALS);

	(void)state;
	assert_int_equal(in_child(lockdown_child, fd), 0);
	close(fd);
}

static int
lockdown_bad_fd_child(int fd)
{
	struct sbx_lockdown l;
	struct sbx_ll_report r;
	char why[256] = "";

	sbx_lockdown_remote(&l, fd);
	if (sbx_lockdown_apply(&l, &r, why, sizeof(why)) != -EPERM)
		return 1;
	return strstr(why, "not a sealed program") ? 0 : 2;
}

static void
test_lockdown_refuses_unsealed(void **state)
{
	int fd = program_memfd(0);

	(void)state;
	assert_int_equal(in_child(lockdown_bad_fd_child, fd), 0);
	close(fd);
}

/* ---- the jail ---- */

static void
test_jail_check(void **state)
{
	struct sbx_jail j;

	(void)state;
	sbx_jail_strict(&j);
	assert_int_equal(sbx_jail_check(&j), 0);
	assert_int_equal(sbx_jail_add_fd(&j, 0, 3), 0);
	assert_int_equal(sbx_jail_add_fd(&j, 1, 3), -EINVAL);
	assert_int_equal(sbx_jail_add_fd(&j, 1, SBX_FD_MAX), -EINVAL);
	assert_int_equal(sbx_jail_add_fd(&j, -1, 4), -EINVAL);
	j.have_id = true;
	j.uid = 0;
	j.gid = TENANT;
	assert_int_equal(sbx_jail_check(&j), -EINVAL);
	j.uid = TENANT;
	assert_int_equal(sbx_jail_check(&j), 0);
	j.rlimits[RLIMIT_NPROC].set = true;
	assert_int_equal(sbx_jail_check(&j), -EINVAL);
	j.rlimits[RLIMIT_NPROC].set = false;
	j.unshare &= ~(unsigned int)SBX_NS_USER;
	assert_int_equal(sbx_jail_check(&j), -EINVAL);
	assert_int_equal(sbx_jail_add_bind(&j, SBX_BIND_RO, "rel", "/x"),
	    -EINVAL);
}

static int
argv_find(const struct sbx_argv *a, const char *s, unsigned int from)
{
	for (unsigned int i = from; i < a->argc; i++)
		if (!strcmp(a->argv[i], s))
			return (int)i;
	return -1;
}

static void
test_bwrap_argv(void **state)
{
	static struct sbx_argv a;
	struct sbx_jail j;
	char *argv[] = { (char *)"/mpjail-lsi", (char *)"--socket-fd",
	    (char *)"3", NULL };
	char *rel[] = { (char *)"mpjail-lsi", NULL };
	int dd, ro, rm;

	(void)state;
	sbx_jail_strict(&j);
	assert_int_equal(sbx_jail_add_bind(&j, SBX_BIND_RO, "/usr/bin/true",
	    "/mpjail-lsi"), 0);
	assert_int_equal(sbx_bwrap_argv(&j, argv, &a), 0);
	assert_string_equal(a.argv[0], "/usr/bin/bwrap");
	assert_null(a.argv[a.argc]);
	for (const char *const *o = (const char *const[]){ "--unshare-user",
	    "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
	    "--unshare-cgroup", "--disable-userns", "--die-with-parent",
	    "--new-session", "--cap-drop", "--clearenv", NULL }; *o; o++)
		assert_true(argv_find(&a, *o, 1) > 0);
	assert_int_equal(argv_find(&a, "--proc", 1), -1);
	assert_int_equal(argv_find(&a, "--dev", 1), -1);
	ro = argv_find(&a, "--ro-bind", 1);
	rm = argv_find(&a, "--remount-ro", 1);
	dd = argv_find(&a, "--", 1);
	assert_true(ro > 0 && rm > ro && dd > rm);
	assert_string_equal(a.argv[ro + 2], "/mpjail-lsi");
	assert_string_equal(a.argv[dd + 1], "/mpjail-lsi");
	assert_string_equal(a.argv[dd + 3], "3");
	assert_int_equal((unsigned int)dd + 4, a.argc);
	/* ids inside the namespace, when asked */
	j.ns_uid = 0;
	assert_int_equal(sbx_bwrap_argv(&j, argv, &a), 0);
	assert_string_equal(a.argv[argv_find(&a, "--uid", 1) + 1], "0");
	/* the program is a path inside the sandbox */
	assert_int_equal(sbx_bwrap_argv(&j, rel, &a), -EINVAL);
}

static void
test_jail_from_policy(void **state)
{
	static struct pol_compiled c;
	struct sbx_jail j;
	rlim_t nproc = 99;
	bool nproc_set = false;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.process.uid = POL_ID_TENANT;
	c.process.gid = POL_ID_TENANT;
	c.process.securebits_locked = true;
	c.process.env_clear = true;
	c.ns.unshare = POL_NS_PID | POL_NS_NET;
	c.ns.root_empty = true;
	c.ns.disable_userns = true;
	c.rlimits[RLIMIT_NOFILE] = (struct pol_rlimit){ true, 64 };
	c.rlimits[RLIMIT_FSIZE] = (struct pol_rlimit){ true,
	    POL_RLIM_INFINITY };
	c.rlimits[RLIMIT_NPROC] = (struct pol_rlimit){ true, 0 };
	c.ns.nbinds = 1;
	c.ns.binds[0].kind = POL_BIND_DEV;
	snprintf(c.ns.binds[0].path, sizeof(c.ns.binds[0].path), "/dev/kvm");
	assert_int_equal(sbx_jail_from_policy(&j, &c, TENANT, TENANT + 1,
	    &nproc, &nproc_set), 0);
	assert_true(j.have_id);
	assert_int_equal(j.uid, TENANT);
	assert_int_equal(j.gid, TENANT + 1);
	assert_true(j.securebits_locked && j.clearenv && j.no_new_privs);
	assert_int_equal(j.unshare, SBX_NS_USER | SBX_NS_MOUNT | SBX_NS_PID |
	    SBX_NS_NET);
	assert_true(j.rlimits[RLIMIT_NOFILE].set);
	assert_int_equal(j.rlimits[RLIMIT_NOFILE].value, 64);
	assert_true(j.rlimits[RLIMIT_FSIZE].value == RLIM_INFINITY);
	assert_false(j.rlimits[RLIMIT_NPROC].set);	/* for the self side */
	assert_true(nproc_set);
	assert_int_equal(nproc, 0);
	assert_int_equal(j.nbinds, 1);
	assert_int_equal(j.binds[0].kind, SBX_BIND_DEV);
	assert_int_equal(sbx_jail_check(&j), 0);
	/* never host root */
	c.process.uid = 0;
	assert_int_equal(sbx_jail_from_policy(&j, &c, TENANT, TENANT,
	    &nproc, &nproc_set), -EINVAL);
	c.process.uid = POL_ID_TENANT;
	assert_int_equal(sbx_jail_from_policy(&j, &c, 0, TENANT,
	    &nproc, &nproc_set), -EINVAL);
	c.ns.root_empty = false;
	assert_int_equal(sbx_jail_from_policy(&j, &c, TENANT, TENANT,
	    &nproc, &nproc_set), -EOPNOTSUPP);
}

/* ---- a real spawn (as root: the tenant uid) ---- */

static void
read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
}

static void
test_spawn_identity_and_fds(void **state)
{
	static struct sbx_jail j;
	char out[512], why[256], expect[160];
	int p[2], null, leak, status;
	pid_t pid;
	char *argv[] = { (char *)"/bin/sh", (char *)"-c",
	    (char *)"echo /proc/self/fd/* >&5; id -u >&5; id -g >&5; "
	    "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status >&5",
	    NULL };

	(void)state;
	assert_int_equal(geteuid(), 0);	/* run as root, as make check is */
	sbx_jail_strict(&j);
	j.have_id = true;
	j.uid = TENANT;
	j.gid = TENANT;
	j.proc = true;
	for (const char *const *b = (const char *const[]){ "/usr", "/bin",
	    "/lib", "/lib64", NULL }; *b; b++)
		assert_int_equal(sbx_jail_add_bind(&j, SBX_BIND_RO, *b, *b), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(null >= 0);
	/* not listed, not CLOEXEC: only close_range keeps it out */
	leak = open("/etc/passwd", O_RDONLY);
	assert_true(leak >= 0);
	assert_int_equal(sbx_jail_add_fd(&j, null, 0), 0);
	assert_int_equal(sbx_jail_add_fd(&j, null, 1), 0);
	assert_int_equal(sbx_jail_add_fd(&j, 2, 2), 0);
	assert_int_equal(sbx_jail_add_fd(&j, p[1], 5), 0);
	assert_int_equal(sbx_spawn(&j, argv, &pid, why, sizeof(why)), 0);
	close(p[1]);
	read_all(p[0], out, sizeof(out));
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* 3 is the shell's glob directory; any leaked fd would add one */
	snprintf(expect, sizeof(expect), "/proc/self/fd/0 /proc/self/fd/1 "
	    "/proc/self/fd/2 /proc/self/fd/3 /proc/self/fd/5\n%d\n%d\n",
	    TENANT, TENANT);
	assert_memory_equal(out, expect, strlen(expect));
	assert_non_null(strstr(out, "CapEff:\t0000000000000000"));
	assert_non_null(strstr(out, "CapBnd:\t0000000000000000"));
	assert_non_null(strstr(out, "NoNewPrivs:\t1"));
	close(null);
	close(leak);
}

static void
test_spawn_failures(void **state)
{
	static struct sbx_jail j;
	char why[256];
	pid_t pid = 0;
	char *argv[] = { (char *)"/true", NULL };

	(void)state;
	sbx_jail_strict(&j);
	/* root without a tenant: refused before anything is made */
	assert_int_equal(sbx_spawn(&j, argv, &pid, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "without a tenant uid"));
	j.have_id = true;
	j.uid = TENANT;
	j.gid = TENANT;
	snprintf(j.bwrap, sizeof(j.bwrap), "/nonexistent/bwrap");
	assert_int_equal(sbx_spawn(&j, argv, &pid, why, sizeof(why)),
	    -ENOENT);
	assert_non_null(strstr(why, "exec /nonexistent/bwrap"));
	assert_int_equal(sbx_jail_add_fd(&j, 999, 3), 0);
	assert_int_equal(sbx_spawn(&j, argv, &pid, why, sizeof(why)), -EBADF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seccomp_fd_checks),
		cmocka_unit_test(test_seccomp_install_tsync),
		cmocka_unit_test(test_lockdown_remote),
		cmocka_unit_test(test_lockdown_refuses_unsealed),
		cmocka_unit_test(test_jail_check),
		cmocka_unit_test(test_bwrap_argv),
		cmocka_unit_test(test_jail_from_policy),
		cmocka_unit_test(test_spawn_identity_and_fds),
		cmocka_unit_test(test_spawn_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
