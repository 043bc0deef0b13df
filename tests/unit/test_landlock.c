/*
 * tests/unit/test_landlock.c: sandbox/landlock.c — what each ABI enforces
 * of a description (pure), and the real kernel's enforcement in forked
 * children, each with its control (the same call before the ruleset).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox/landlock.h"

static void
test_abi_tables(void **state)
{
	(void)state;
	assert_int_equal(sbx_ll_fs_at_abi(0), 0);
	assert_int_equal(sbx_ll_fs_at_abi(1), 0x1fff);
	assert_int_equal(sbx_ll_fs_at_abi(2), 0x3fff);
	assert_int_equal(sbx_ll_fs_at_abi(4), 0x7fff);
	assert_int_equal(sbx_ll_fs_at_abi(5), SBX_LL_FS_ALL);
	assert_int_equal(sbx_ll_net_at_abi(3), 0);
	assert_int_equal(sbx_ll_net_at_abi(4), SBX_LL_NET_ALL);
	assert_int_equal(sbx_ll_scope_at_abi(5), 0);
	assert_int_equal(sbx_ll_scope_at_abi(7), SBX_LL_SCOPE_ALL);
}

/* The remote's lockdown at every ABI: what is kept, dropped, reported. */
static void
test_degrade_every_abi(void **state)
{
	struct sbx_landlock want, got;
	struct sbx_ll_report r;

	(void)state;
	sbx_landlock_lockdown(&want);
	assert_int_equal(sbx_landlock_degrade(&want, 0, &got, &r),
	    -EOPNOTSUPP);	/* abi.min 1 */
	assert_int_equal(r.status, SBX_LL_NOT_ENFORCED);
	assert_non_null(strstr(r.text, "below the required ABI 1"));

	assert_int_equal(sbx_landlock_degrade(&want, 1, &got, &r), 0);
	assert_int_equal(r.status, SBX_LL_PARTIALLY_ENFORCED);
	assert_int_equal(got.handled_fs, 0x1fff);
	assert_int_equal(got.handled_net, 0);
	assert_int_equal(got.scoped, 0);
	assert_int_equal(r.lost_fs, SBX_LL_FS_REFER | SBX_LL_FS_TRUNCATE |
	    SBX_LL_FS_IOCTL_DEV);
	assert_int_equal(r.lost_net, SBX_LL_NET_ALL);
	assert_int_equal(r.lost_scoped, SBX_LL_SCOPE_ALL);
	assert_non_null(strstr(r.text, "partially enforced"));
	assert_non_null(strstr(r.text, "needs ABI 4"));

	assert_int_equal(sbx_landlock_degrade(&want, 4, &got, &r), 0);
	assert_int_equal(r.status, SBX_LL_PARTIALLY_ENFORCED);
	assert_int_equal(got.handled_net, SBX_LL_NET_ALL);
	assert_int_equal(r.lost_fs, SBX_LL_FS_IOCTL_DEV);

	assert_int_equal(sbx_landlock_degrade(&want, 5, &got, &r), 0);
	assert_int_equal(r.lost_fs, 0);
	assert_int_equal(r.lost_scoped, SBX_LL_SCOPE_ALL);

	for (int abi = 6; abi <= SBX_LL_ABI_MAX + 2; abi++) {
		assert_int_equal(sbx_landlock_degrade(&want, abi, &got, &r), 0);
		assert_int_equal(r.status, SBX_LL_FULLY_ENFORCED);
		assert_int_equal(got.handled_fs, SBX_LL_FS_ALL);
		assert_int_equal(got.scoped, SBX_LL_SCOPE_ALL);
		assert_non_null(strstr(r.text, "fully enforced"));
	}
}

static void
test_degrade_hard_and_rules(void **state)
{
	struct sbx_landlock want, got;
	struct sbx_ll_report r;

	(void)state;
	sbx_landlock_lockdown(&want);
	want.best_effort = false;
	assert_int_equal(sbx_landlock_degrade(&want, 3, &got, &r),
	    -EOPNOTSUPP);
	assert_int_equal(sbx_landlock_degrade(&want, 7, &got, &r), 0);

	/* a rule whose every right the ABI lacks goes with them */
	sbx_landlock_lockdown(&want);
	want.npaths = 2;
	snprintf(want.paths[0].path, SBX_LL_PATH_MAX, "/etc");
	want.paths[0].access = SBX_LL_FS_READ_FILE | SBX_LL_FS_TRUNCATE;
	snprintf(want.paths[1].path, SBX_LL_PATH_MAX, "/tmp");
	want.paths[1].access = SBX_LL_FS_TRUNCATE;
	want.nports = 1;
	want.ports[0].port = 80;
	want.ports[0].access = SBX_LL_NET_CONNECT_TCP;
	assert_int_equal(sbx_landlock_degrade(&want, 2, &got, &r), 0);
	assert_int_equal(got.npaths, 1);
	assert_int_equal(got.paths[0].access, SBX_LL_FS_READ_FILE);
	assert_int_equal(got.nports, 0);
	assert_int_equal(sbx_landlock_degrade(&want, 4, &got, &r), 0);
	assert_int_equal(got.npaths, 2);
	assert_int_equal(got.nports, 1);

	/* a rule may not allow what its ruleset does not handle */
	want.handled_net = SBX_LL_NET_BIND_TCP;
	assert_int_equal(sbx_landlock_degrade(&want, 7, &got, &r), -EINVAL);
	sbx_landlock_lockdown(&want);
	want.npaths = 1;
	snprintf(want.paths[0].path, SBX_LL_PATH_MAX, "etc");
	want.paths[0].access = SBX_LL_FS_READ_FILE;
	assert_int_equal(sbx_landlock_degrade(&want, 7, &got, &r), -EINVAL);
	want.handled_fs = 1ULL << 40;
	assert_int_equal(sbx_landlock_degrade(&want, 7, &got, &r), -EINVAL);
}

/* Run fn in a child; its exit status is the test's verdict (0 = pass). */
static int
in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int
connect_local(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(9), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	rc = rc < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int
lockdown_child(void)
{
	struct sbx_landlock ll;
	struct sbx_ll_report r;
	int fd;

	/* controls: each attempt works (or fails otherwise) before */
	fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 10;
	close(fd);
	if (connect_local() == -EACCES)
		return 11;
	if (kill(getppid(), 0) != 0)
		return 12;

	sbx_landlock_lockdown(&ll);
	if (sbx_landlock_apply(&ll, &r) != 0)
		return 20;
	if (r.status != SBX_LL_FULLY_ENFORCED || r.abi < 6)
		return 21;	/* this machine's kernel has ABI 7 */
	if (open("/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES)
		return 30;
	if (open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) >= 0 ||
	    errno != EACCES)
		return 31;
	if (connect_local() != -EACCES)
		return 32;
	if (kill(getppid(), 0) == 0 || errno != EPERM)
		return 33;	/* signal scope: the parent is outside */
	return 0;
}

static void
test_apply_lockdown(void **state)
{
	(void)state;
	assert_true(sbx_landlock_abi() >= 6);
	assert_int_equal(in_child(lockdown_child), 0);
}

static int
rules_child(void)
{
	struct sbx_landlock ll;
	struct sbx_ll_report r;
	int fd;

	sbx_landlock_lockdown(&ll);
	ll.npaths = 2;
	snprintf(ll.paths[0].path, SBX_LL_PATH_MAX, "/etc");
	ll.paths[0].access = SBX_LL_FS_READ_FILE | SBX_LL_FS_READ_DIR;
	/* a file rule with directory rights: they are masked, not refused */
	snprintf(ll.paths[1].path, SBX_LL_PATH_MAX, "/bin/sh");
	ll.paths[1].access = SBX_LL_FS_READ_FILE | SBX_LL_FS_READ_DIR;
	if (sbx_landlock_apply(&ll, &r) != 0)
		return 20;
	fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 30;
	close(fd);
	fd = open("/bin/sh", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 31;
	close(fd);
	if (open("/etc/passwd", O_WRONLY | O_CLOEXEC) >= 0 || errno != EACCES)
		return 32;
	if (open("/usr/bin/env", O_RDONLY | O_CLOEXEC) >= 0 ||
	    errno != EACCES)
		return 33;
	return 0;
}

static void
test_apply_rules(void **state)
{
	(void)state;
	assert_int_equal(in_child(rules_child), 0);
}

static int
missing_path_child(void)
{
	struct sbx_landlock ll;
	struct sbx_ll_report r;

	sbx_landlock_lockdown(&ll);
	ll.npaths = 1;
	snprintf(ll.paths[0].path, SBX_LL_PATH_MAX, "/nonexistent/mpjail");
	ll.paths[0].access = SBX_LL_FS_READ_FILE;
	if (sbx_landlock_apply(&ll, &r) != -ENOENT)
		return 1;
	if (!strstr(r.text, "/nonexistent/mpjail"))
		return 2;
	/* nothing was applied: the failure leaves the process as it was */
	return open("/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 3;
}

static void
test_apply_missing_path(void **state)
{
	(void)state;
	assert_int_equal(in_child(missing_path_child), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi_tables),
		cmocka_unit_test(test_degrade_every_abi),
		cmocka_unit_test(test_degrade_hard_and_rules),
		cmocka_unit_test(test_apply_lockdown),
		cmocka_unit_test(test_apply_rules),
		cmocka_unit_test(test_apply_missing_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
