/*
 * tests/unit/test_broker.c: the broker's VM-file parser (every error with
 * its line and column, unknown keys, missing keys), its image opening
 * rules (symlinks, FIFOs, directories, OFD locks), the QEMU remote's
 * readiness probe against hostile QMP output, and tenant id claims.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/broker.h"
#include "broker/image.h"
#include "broker/tenant.h"
#include "broker/vm.h"

static const char good[] =
    "%mpjail-vm 1\n"
    "# a comment\n"
    "[vm]\n"
    "name = demo          # trailing comment\n"
    "memory = 2G\n"
    "accel = tcg\n"
    "network = none\n"
    "shutdown_timeout = 3\n"
    "[qemu]\n"
    "policy = ../policy/qemu.policy\n"
    "[boot]\n"
    "kernel = /boot/vmlinuz\n"
    "initrd = initrd.gz\n"
    "append = console=ttyS0 irqpoll\n"
    "[tenant]\n"
    "uids = 100000-100009\n"
    "gids = 100000-100009\n"
    "[remote lsi0]\n"
    "policy = /p/lsi-remote.policy\n"
    "disk = /img/a.img rw\n"
    "disk = b.img   ro\n"
    "[remote lsi1]\n"
    "kind = lsi\n"
    "policy = /p/lsi-remote.policy\n"
    "disk = /img/c.img rw\n";

static int
parse(const char *text, struct brk_vm *vm, struct pol_diags *d)
{
	memset(d, 0, sizeof(*d));
	return brk_vm_parse_buffer("t.vm", "/etc/mpjail", text, strlen(text),
	    vm, d);
}

/* Is there a diagnostic at line:col whose message holds `what`? */
static bool
has(const struct pol_diags *d, unsigned int line, unsigned int col,
    const char *what)
{
	for (unsigned int i = 0; i < d->n; i++)
		if (d->d[i].line == line && (col == 0 || d->d[i].col == col) &&
		    strstr(d->d[i].msg, what))
			return true;
	for (unsigned int i = 0; i < d->n; i++)
		fprintf(stderr, "  diag %u:%u: %s\n", d->d[i].line,
		    d->d[i].col, d->d[i].msg);
	return false;
}

static void
test_good(void **state)
{
	static struct brk_vm vm;
	struct pol_diags d;

	(void)state;
	assert_int_equal(parse(good, &vm, &d), 0);
	assert_string_equal(vm.name, "demo");
	assert_int_equal(vm.memory_mib, 2048);
	assert_int_equal(vm.shutdown_timeout, 3);
	assert_string_equal(vm.qemu, "/usr/bin/qemu-system-x86_64");
	assert_string_equal(vm.qemu_policy, "/etc/mpjail/../policy/qemu.policy");
	assert_int_equal(vm.boot, BRK_BOOT_KERNEL);
	assert_string_equal(vm.kernel, "/boot/vmlinuz");
	assert_string_equal(vm.initrd, "/etc/mpjail/initrd.gz");
	assert_string_equal(vm.append, "console=ttyS0 irqpoll");
	assert_true(vm.uids.set);
	assert_int_equal(vm.uids.first, 100000);
	assert_int_equal(vm.uids.count, 10);
	assert_int_equal(vm.nremotes, 2);
	assert_string_equal(vm.remotes[0].name, "lsi0");
	assert_int_equal(vm.remotes[0].kind, BRK_REMOTE_LSI);
	assert_int_equal(vm.remotes[0].ndisks, 2);
	assert_false(vm.remotes[0].disks[0].ro);
	assert_true(vm.remotes[0].disks[1].ro);
	assert_string_equal(vm.remotes[0].disks[1].path, "/etc/mpjail/b.img");
	assert_int_equal(vm.remotes[0].disks[1].line, 21);
	assert_int_equal(vm.remotes[1].ndisks, 1);
}

static void
test_errors_have_lines(void **state)
{
	static struct brk_vm vm;
	struct pol_diags d;
	const char *text =
	    "%mpjail-vm 1\n"
	    "[vm]\n"
	    "name = 9lives\n"		/* 3: bad name */
	    "memory = 12Q\n"		/* 4: bad unit, col 12 */
	    "colour = blue\n"		/* 5: unknown key */
	    "accel = kvm\n"		/* 6 */
	    "[qemu]\n"
	    "policy = /q.policy\n"
	    "policy = /r.policy\n"	/* 9: twice */
	    "[boot]\n"
	    "firmware = bios\n"
	    "[remote lsi0]\n"
	    "policy = /p\n"
	    "disk = /a.img rx\n"	/* 14: bad mode, col 15 */
	    "kind = virtio\n"		/* 15 */
	    "[remote lsi0]\n"		/* 16: again */
	    "[network]\n"		/* 17: unknown section */
	    "mtu = 9000\n"		/* skipped, not reported */
	    "x\n";			/* 19: no '=' */

	(void)state;
	assert_int_equal(parse(text, &vm, &d), -EINVAL);
	assert_true(has(&d, 3, 8, "is not a name"));
	assert_true(has(&d, 4, 12, "the unit is M or G"));
	assert_true(has(&d, 5, 1, "unknown key 'colour'"));
	assert_true(has(&d, 6, 9, "only 'tcg'"));
	assert_true(has(&d, 9, 1, "given twice (first at line 8)"));
	assert_true(has(&d, 14, 15, "the mode is rw or ro"));
	assert_true(has(&d, 15, 8, "'lsi' or 'qemu'"));
	assert_true(has(&d, 16, 1, "already defined at line 12"));
	assert_true(has(&d, 17, 1, "unknown section [network]"));
	assert_true(has(&d, 19, 2, "expected '='"));
	assert_true(has(&d, 12, 0, "[remote lsi0]: no disk"));	/* 14 failed */
	assert_int_equal(d.n, 11);	/* and nothing else */
}

static void
test_missing_and_header(void **state)
{
	static struct brk_vm vm;
	struct pol_diags d;

	(void)state;
	assert_int_equal(parse("[vm]\nname = a\n", &vm, &d), -EINVAL);
	assert_true(has(&d, 1, 1, "the first line must be '%mpjail-vm 1'"));
	assert_int_equal(parse("%mpjail-vm 2\n", &vm, &d), -EINVAL);
	assert_true(has(&d, 1, 12, "format version '2'"));
	assert_int_equal(parse("%mpjail-vm 1\n[vm]\nname = a\n[boot]\n"
	    "firmware = bios\nkernel = /k\n", &vm, &d), -EINVAL);
	assert_true(has(&d, 2, 0, "memory is missing"));
	assert_true(has(&d, 0, 0, "policy is missing"));
	assert_true(has(&d, 4, 0, "firmware and kernel exclude each other"));
	assert_true(has(&d, 0, 0, "no [remote NAME]"));
	assert_int_equal(parse("%mpjail-vm 1\n[tenant]\nuids = 0-10\n"
	    "gids = 5-4\n", &vm, &d), -EINVAL);
	assert_true(has(&d, 3, 8, "never 0"));
	assert_true(has(&d, 4, 8, "first <= last"));
	assert_int_equal(parse("%mpjail-vm 1\n[vm]\nname = a\x01\n", &vm, &d),
	    -EINVAL);
	assert_true(has(&d, 3, 9, "control character 0x01"));
}

/* ---- images ---- */

static char dir[64];

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mpjail-test-broker-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void
test_image_rules(void **state)
{
	char img[128], link[128], fifo[128], why[512];
	struct brk_image a, b, c;
	int fd;

	(void)state;
	path_of(img, sizeof(img), "a.img");
	path_of(link, sizeof(link), "link.img");
	path_of(fifo, sizeof(fifo), "fifo.img");
	fd = open(img, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	assert_int_equal(symlink(img, link), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);

	assert_int_equal(brk_image_open(link, false, &a, why, sizeof(why)),
	    -ELOOP);
	assert_non_null(strstr(why, "is a symbolic link"));
	assert_int_equal(a.fd, -1);
	/* a FIFO must not hang the broker: refused at once */
	assert_int_equal(brk_image_open(fifo, true, &a, why, sizeof(why)),
	    -EINVAL);
	assert_non_null(strstr(why, "not a regular file or a block device"));
	assert_int_equal(brk_image_open(dir, true, &a, why, sizeof(why)),
	    -EINVAL);

	/* rw: exclusive; a second rw or ro open is refused, saying so */
	assert_int_equal(brk_image_open(img, false, &a, why, sizeof(why)), 0);
	assert_true(a.fd >= 0);
	assert_true(fcntl(a.fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(a.size, 1 << 20);
	assert_int_equal(brk_image_open(img, false, &b, why, sizeof(why)),
	    -EAGAIN);
	assert_non_null(strstr(why, "image is locked: an exclusive lock"));
	assert_int_equal(brk_image_open(img, true, &b, why, sizeof(why)),
	    -EAGAIN);
	/* the read-only twin for QEMU's fdset shares no lock of its own */
	assert_int_equal(brk_image_add_ro_fd(&a, why, sizeof(why)), 0);
	assert_true(a.ro_fd >= 0);
	brk_image_close(&a);
	assert_int_equal(a.fd, -1);

	/* ro: shared; two readers coexist, a writer is refused */
	assert_int_equal(brk_image_open(img, true, &a, why, sizeof(why)), 0);
	assert_int_equal(brk_image_open(img, true, &b, why, sizeof(why)), 0);
	assert_int_equal(brk_image_open(img, false, &c, why, sizeof(why)),
	    -EAGAIN);
	assert_non_null(strstr(why, "a shared lock held"));
	brk_image_close(&a);
	brk_image_close(&b);
	/* released: a writer gets it now */
	assert_int_equal(brk_image_open(img, false, &c, why, sizeof(why)), 0);
	brk_image_close(&c);
}

/* ---- the QEMU remote's readiness probe ---- */

/* Run the probe against `said` (written before it starts), with an
 * optional big junk prefix; returns its verdict. */
static int
probe(const char *said, size_t junk, int timeout_ms, char *sent, size_t len)
{
	struct brk_child c;
	int sv[2], err;
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	brk_child_init(&c, "remote=t", "qemu-remote");
	c.qmp_fd = sv[0];
	if (junk) {
		static char big[BRK_READY_MAX_BYTES + 8192];
		size_t off = 0;

		memset(big, 'x', sizeof(big));
		assert_true(junk <= sizeof(big));
		/* a socketpair buffers less than this: write from a child */
		if (fork() == 0) {
			while (off < junk) {
				n = write(sv[1], big + off, junk - off);
				if (n <= 0)
					_exit(0);
				off += (size_t)n;
			}
			_exit(0);
		}
	}
	if (said[0])
		assert_int_equal(write(sv[1], said, strlen(said)),
		    (ssize_t)strlen(said));
	err = brk_remote_ready("t", &c, timeout_ms);
	n = recv(sv[1], sent, len - 1, MSG_DONTWAIT);
	sent[n > 0 ? n : 0] = '\0';
	close(sv[0]);
	close(sv[1]);
	while (junk && wait(NULL) > 0)
		;
	return err;
}

static void
test_ready_probe(void **state)
{
	static const char greeting[] = "{\"QMP\": {\"version\": {}, "
	    "\"capabilities\": [\"oob\"]}}\r\n{\"return\": {}}\r\n";
	char said[2048], sent[512];

	(void)state;
	/* QEMU 7.2's answer: ready; the probe asked with its id */
	snprintf(said, sizeof(said), "%s{\"return\": {\"status\": \"running\", "
	    "\"singlestep\": false, \"running\": true}, \"id\": "
	    "\"mpjail-ready\"}\r\n", greeting);
	assert_int_equal(probe(said, 0, 1000, sent, sizeof(sent)), 0);
	assert_non_null(strstr(sent, "\"query-status\",\"id\":\"mpjail-ready\""));
	/* an error with our id: refused */
	snprintf(said, sizeof(said), "%s{\"error\": {\"class\": \"x\"}, "
	    "\"id\": \"mpjail-ready\"}\r\n", greeting);
	assert_int_equal(probe(said, 0, 1000, sent, sizeof(sent)), -EPROTO);
	/* the id alone, an answer without it, a half line: not ready */
	snprintf(said, sizeof(said), "%s{\"event\": \"RESET\", \"id\": "
	    "\"mpjail-ready\"}\r\n{\"return\": {}}\r\n{\"return\": {}, "
	    "\"id\": \"mpjail-ready\"}", greeting);
	assert_int_equal(probe(said, 0, 300, sent, sizeof(sent)), -ETIMEDOUT);
	/* the answer at the end of an overlong line does not count */
	memset(said, 'x', sizeof(said));
	snprintf(said + 1000, sizeof(said) - 1000, "{\"return\": {}, \"id\": "
	    "\"mpjail-ready\"}\n");
	assert_int_equal(probe(said, 0, 300, sent, sizeof(sent)), -ETIMEDOUT);
	/* silence: not ready */
	assert_int_equal(probe("", 0, 300, sent, sizeof(sent)), -ETIMEDOUT);
	/* more than it may say before the answer: refused, bounded */
	assert_int_equal(probe("", BRK_READY_MAX_BYTES + 4096, 5000, sent,
	    sizeof(sent)), -EPROTO);
}

/* ---- tenant ids ---- */

static void
test_tenant_claims(void **state)
{
	struct brk_tenant a, b;
	char locks[128], why[512];
	const uid_t base = 3900000000U;	/* nobody uses these */

	(void)state;
	if (geteuid() != 0)
		skip();
	path_of(locks, sizeof(locks), "run");
	assert_int_equal(brk_tenant_claim(locks, base, base, 3, &a, why,
	    sizeof(why)), 0);
	assert_int_equal(a.nfds, 6);
	for (unsigned int i = 0; i < a.nfds; i++)
		assert_true(fcntl(a.fds[i], F_GETFD) & FD_CLOEXEC);
	/* overlapping: refused, naming the id */
	assert_int_equal(brk_tenant_claim(locks, base + 2, base + 100, 2, &b,
	    why, sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "uid 3900000002 is in use by another "
	    "mpjail-broker"));
	assert_int_equal(b.nfds, 0);
	/* disjoint: fine */
	assert_int_equal(brk_tenant_claim(locks, base + 3, base + 3, 2, &b,
	    why, sizeof(why)), 0);
	brk_tenant_release(&b);
	brk_tenant_release(&a);
	/* released: the overlapping claim passes now */
	assert_int_equal(brk_tenant_claim(locks, base + 2, base + 100, 2, &b,
	    why, sizeof(why)), 0);
	brk_tenant_release(&b);
	/* a running process with a uid of the range (ours: 0 is never
	 * allowed, so a child takes one) */
	{
		int p[2];
		char c;
		pid_t pid;

		assert_int_equal(pipe(p), 0);
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			if (setresuid(base + 50, base + 50, base + 50) < 0)
				_exit(1);
			(void)!write(p[1], "x", 1);
			pause();
			_exit(0);
		}
		close(p[1]);
		assert_int_equal(read(p[0], &c, 1), 1);
		close(p[0]);
		assert_int_equal(brk_tenant_claim(locks, base + 49, base + 200,
		    2, &b, why, sizeof(why)), -EBUSY);
		assert_non_null(strstr(why, "runs with a uid in 3900000049-"
		    "3900000050"));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	/* an unsafe lock directory is refused */
	assert_int_equal(chmod(locks, 0777), 0);
	assert_int_equal(brk_tenant_claim(locks, base, base, 1, &b, why,
	    sizeof(why)), -EPERM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_errors_have_lines),
		cmocka_unit_test(test_missing_and_header),
		cmocka_unit_test_setup_teardown(test_image_rules, setup_dir,
		    teardown_dir),
		cmocka_unit_test(test_ready_probe),
		cmocka_unit_test_setup_teardown(test_tenant_claims, setup_dir,
		    teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
