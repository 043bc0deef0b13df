/*
 * tests/unit/test_policy.c: the policy parser (every error with its line),
 * @include, the shipped policies, Landlock degradation, and the compiled
 * seccomp program run for real: a forked child installs it and each rule is
 * tried both ways, with a control run unconfined.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/policy.h"

/* ---- helpers ---- */

static int
parse_str(const char *text, struct pol_policy **p, struct pol_diags *d)
{
	return pol_parse_buffer("t.policy", NULL, text, strlen(text), p, d);
}

static bool
has_error(const struct pol_diags *d, unsigned int line, const char *needle)
{
	for (unsigned int i = 0; i < d->n; i++)
		if (d->d[i].line == line && strstr(d->d[i].msg, needle))
			return true;
	return false;
}

static void
dump(const struct pol_diags *d)
{
	pol_diags_print(d, stderr);
}

/* The source tree: $MPJAIL_SRC, the cwd, or three levels above the test. */
static void
src_path(const char *rel, char *out, size_t len)
{
	char exe[PATH_MAX];
	const char *env = getenv("MPJAIL_SRC");
	ssize_t n;

	snprintf(out, len, "%s/%s", env ? env : ".", rel);
	if (access(out, R_OK) == 0)
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int i = 0; i < 4; i++) {
			char *s = strrchr(exe, '/');

			if (s)
				*s = '\0';
		}
		if (snprintf(out, len, "%s/%s", exe, rel) < 0)
			out[0] = '\0';
	}
}

/* ---- parser errors, each with its line ---- */

struct bad {
	const char *text;
	unsigned int line;
	const char *msg;
};

static const struct bad bad_inputs[] = {
	{ "[process]\n", 1, "begins with" },
	{ "%mpjail-policy 2\n", 1, "unsupported format version" },
	{ "%mpjail-policy 1\nuid = 1\n", 2, "outside any" },
	{ "%mpjail-policy 1\n[bogus]\nx = 1\n", 2, "unknown section" },
	{ "%mpjail-policy 1\n[process]\nfoo = 1\n", 3, "unknown key" },
	{ "%mpjail-policy 1\n[process]\ndumpable = maybe\n", 3, "yes or no" },
	{ "%mpjail-policy 1\n[process]\nno_new_privs = no\n", 3, "must be yes" },
	{ "%mpjail-policy 1\n[process]\ndumpable = no\ndumpable = no\n", 4,
	    "set twice" },
	{ "%mpjail-policy 1\n[process]\nuid = root\n", 3, "@tenant" },
	{ "%mpjail-policy 1\n[namespaces]\nunshare = user bogus\n", 3,
	    "unknown namespace" },
	{ "%mpjail-policy 1\n[namespaces]\nbind_ro = usr\n", 3, "absolute" },
	{ "%mpjail-policy 1\n[rlimits]\nnofile = lots\n", 3, "number" },
	{ "%mpjail-policy 1\n[rlimits]\nfiles = 1\n", 3, "unknown limit" },
	{ "%mpjail-policy 1\n[fds]\nx = a null ro\n", 3, "fd number" },
	{ "%mpjail-policy 1\n[fds]\n3 = a sock rw\n", 3, "unknown fd kind" },
	{ "%mpjail-policy 1\n[fds]\n3 = a null xx\n", 3, "unknown fd mode" },
	{ "%mpjail-policy 1\n[fds]\n3 = a null ro\n3 = b null ro\n", 4,
	    "listed twice" },
	{ "%mpjail-policy 1\n[fds]\n5.. = disk null ro\n", 3, "ending in '@'" },
	{ "%mpjail-policy 1\n[fds]\nreceived = irq@ eventfd rw\n", 3,
	    "received: expected a name" },
	{ "%mpjail-policy 1\n[fds]\nreceived = irq sock rw\n", 3,
	    "unknown fd kind" },
	{ "%mpjail-policy 1\n[fds]\nreceived = irq eventfd rw x\n", 3,
	    "trailing text" },
	{ "%mpjail-policy 1\n[fds]\n3 = irq null ro\n"
	    "received = irq eventfd rw\n", 4, "used twice" },
	{ "%mpjail-policy 1\n[fds]\nreceived = irq eventfd rw\n"
	    "3 = irq null ro\n", 4, "used twice" },
	{ "%mpjail-policy 1\n[fds]\nreceived = irq eventfd rw\n"
	    "[seccomp]\nread: arg0 == fd:irq\n", 5, "no such fd" },
	{ "%mpjail-policy 1\n[fds]\nreceived = irq eventfd rw\n"
	    "received = mem memfd rw\n", 0, "" },
	{ "%mpjail-policy 1\n[landlock]\nhandle.fs = read_file, fly\n", 3,
	    "unknown Landlock fs right" },
	{ "%mpjail-policy 1\n[landlock]\nabi.min = 9\n", 3, "abi.min" },
	{ "%mpjail-policy 1\n[landlock]\nbind_tcp = 70000\n", 3, "port" },
	{ "%mpjail-policy 1\n[seccomp]\nnosuchcall: 1\n", 3, "unknown syscall" },
	{ "%mpjail-policy 1\n[seccomp]\nread 1\n", 3, "expected ':'" },
	{ "%mpjail-policy 1\n[seccomp]\nread:\n", 3, "expected an expression" },
	{ "%mpjail-policy 1\n[seccomp]\nread: arg7 == 1\n", 3, "arg0..arg5" },
	{ "%mpjail-policy 1\n[seccomp]\nread: arg0 =< 1\n", 3, "operator" },
	{ "%mpjail-policy 1\n[seccomp]\nread: arg0 == PROT_BOGUS\n", 3,
	    "unknown constant" },
	{ "%mpjail-policy 1\n[seccomp]\nread: arg0 == 1 &&\n", 3, "arg0..arg5" },
	{ "%mpjail-policy 1\n[seccomp]\nread: arg0 == 1 junk\n", 3,
	    "expected && or ||" },
	{ "%mpjail-policy 1\n[seccomp]\nread: 1\nread: 1\n", 4, "already listed" },
	{ "%mpjail-policy 1\n[seccomp]\nread: errno EBOGUS\n", 3, "errno" },
	{ "%mpjail-policy 1\n[seccomp]\n@default explode\n", 3, "action" },
	{ "%mpjail-policy 1\n[seccomp]\n@arch x86\n", 3, "native" },
	{ "%mpjail-policy 1\n[seccomp]\n@frobnicate\n", 3, "unknown directive" },
	{ "%mpjail-policy 1\n[seccomp]\nread: arg1 >= 1 && arg1 <= 4\n", 3,
	    "compared twice" },
	{ "%mpjail-policy 1\n[seccomp]\nread: arg1 == 1 && arg1 == 2\n", 3,
	    "never match" },
	{ "%mpjail-policy 1\n[seccomp]\nread: arg0 == fd:nope\n", 3,
	    "no such fd" },
	{ "%mpjail-policy 1\n[seccomp]\nread: arg0 < fd:x\n", 3, "==" },
	{ "%mpjail-policy 1\n[seccomp]\nread: allow\n", 0, "" },
	{ "%mpjail-policy 1\n[seccomp]\n@default errno EPERM\nread: errno EPERM\n",
	    4, "@default" },
	{ "%mpjail-policy 1\n[seccomp]\nsocketcall: 1\n", 3, "architecture" },
	{ "%mpjail-policy 1\n\n\n@include /nonexistent/x.policy\n", 4,
	    "@include" },
	{ "%mpjail-policy 1\n[process]\ndumpable = no\x01\n", 3, "control" },
};

static void
test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
		const struct bad *b = &bad_inputs[i];
		struct pol_policy *p = NULL;
		struct pol_diags d;
		int err = parse_str(b->text, &p, &d);

		if (b->line == 0) {	/* a control that must parse */
			if (err)
				dump(&d);
			assert_int_equal(err, 0);
			pol_free(p);
			continue;
		}
		if (err != -EINVAL || !has_error(&d, b->line, b->msg)) {
			fprintf(stderr, "input %zu (want line %u '%s'):\n%s", i,
			    b->line, b->msg, b->text);
			dump(&d);
		}
		assert_int_equal(err, -EINVAL);
		assert_null(p);
		assert_true(has_error(&d, b->line, b->msg));
	}
}

/* Every error is reported, not just the first, each at its own place. */
static void
test_parse_all_errors(void **state)
{
	const char *text =
	    "%mpjail-policy 1\n"
	    "[process]\n"
	    "dumpable = perhaps\n"	/* 3 */
	    "[seccomp]\n"
	    "read: 1\n"
	    "bogus_call: 1\n"		/* 6 */
	    "write: arg0 == FOO\n"	/* 7 */
	    "close:   arg9 == 1\n";	/* 8 */
	struct pol_policy *p;
	struct pol_diags d;

	(void)state;
	assert_int_equal(parse_str(text, &p, &d), -EINVAL);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.d[0].line, 3);
	assert_int_equal(d.d[0].col, 12);
	assert_int_equal(d.d[1].line, 6);
	assert_int_equal(d.d[1].col, 1);
	assert_int_equal(d.d[2].line, 7);
	assert_int_equal(d.d[2].col, 16);
	assert_int_equal(d.d[3].line, 8);
	assert_int_equal(d.d[3].col, 10);
	assert_string_equal(d.d[0].file, "t.policy");
}

/* Hostile bytes: no crash, an error, bounded. */
static void
test_parse_garbage(void **state)
{
	char buf[4096];
	unsigned int seed = 12345;
	struct pol_policy *p;
	struct pol_diags d;

	(void)state;
	for (int round = 0; round < 300; round++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(buf));
		const char *hdr = "%mpjail-policy 1\n[seccomp]\n";

		for (size_t i = 0; i < len; i++)
			buf[i] = (char)(rand_r(&seed) & 0xff);
		if (round % 2 && len > strlen(hdr))
			memcpy(buf, hdr, strlen(hdr));
		(void)pol_parse_buffer("g", "/nonexistent", buf, len, &p, &d);
		pol_free(p);
	}
	/* one very long line */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "%mpjail-policy 1\n[seccomp]\n", 27);
	assert_int_equal(pol_parse_buffer("g", NULL, buf, sizeof(buf), &p, &d),
	    -EINVAL);
	assert_true(has_error(&d, 3, "longer than"));
}

/* Merges that libseccomp needs, done exactly. */
static void
test_parse_merge(void **state)
{
	const char *text =
	    "%mpjail-policy 1\n[seccomp]\n"
	    "mmap: arg2 in PROT_READ|PROT_WRITE && arg2 & PROT_READ\n"
	    "mprotect: arg2 in ~PROT_EXEC\n"
	    "read: arg0 == 3 && arg0 < 10\n";
	struct pol_policy *p;
	struct pol_diags d;
	const struct pol_cmp *c;

	(void)state;
	assert_int_equal(parse_str(text, &p, &d), 0);
	assert_int_equal(p->seccomp.nrules, 3);
	c = &p->seccomp.rules[0].alt[0].cmp[0];
	assert_int_equal(p->seccomp.rules[0].alt[0].ncmp, 1);
	assert_int_equal(c->op, POL_OP_MASKED_EQ);
	assert_true(c->mask == ~(uint64_t)PROT_WRITE);
	assert_true(c->value == PROT_READ);
	c = &p->seccomp.rules[1].alt[0].cmp[0];
	assert_true(c->mask == PROT_EXEC && c->value == 0);
	c = &p->seccomp.rules[2].alt[0].cmp[0];
	assert_int_equal(p->seccomp.rules[2].alt[0].ncmp, 1);
	assert_int_equal(c->op, POL_OP_EQ);
	assert_true(c->value == 3);
	pol_free(p);
}

/* ---- @include ---- */

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_include(void **state)
{
	char dir[] = "/tmp/test_policy.XXXXXX", path[512];
	struct pol_policy *p;
	struct pol_diags d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mkdir(strcat(strcpy(path, dir), "/sub"), 0700), 0);
	write_file(dir, "top.policy", "%mpjail-policy 1\n[seccomp]\n"
	    "read: 1\n@include sub/base.policy\nwrite: 1\n");
	write_file(dir, "sub/base.policy", "%mpjail-policy 1\n"
	    "[fds]\n3 = sock unix-stream rw\n[seccomp]\nclose: 1\n");
	snprintf(path, sizeof(path), "%s/top.policy", dir);
	{
		int rc = pol_parse_file(path, &p, &d);

		if (rc)
			dump(&d);
		assert_int_equal(rc, 0);
	}
	/* the includer's section resumes after the include */
	assert_int_equal(p->seccomp.nrules, 3);
	assert_string_equal(p->seccomp.rules[2].name, "write");
	assert_int_equal(p->nfds, 1);
	pol_free(p);

	/* a cycle, through a relative path, is an error at the include */
	write_file(dir, "a.policy", "%mpjail-policy 1\n@include sub/b.policy\n");
	write_file(dir, "sub/b.policy", "%mpjail-policy 1\n\n@include ../a.policy\n");
	snprintf(path, sizeof(path), "%s/a.policy", dir);
	assert_int_equal(pol_parse_file(path, &p, &d), -EINVAL);
	assert_true(has_error(&d, 3, "include cycle"));
	assert_non_null(strstr(d.d[0].file, "sub/b.policy"));

	/* an error inside an included file names that file */
	write_file(dir, "c.policy", "%mpjail-policy 1\n@include d.policy\n");
	write_file(dir, "d.policy", "%mpjail-policy 1\n[seccomp]\nnope: 1\n");
	snprintf(path, sizeof(path), "%s/c.policy", dir);
	assert_int_equal(pol_parse_file(path, &p, &d), -EINVAL);
	assert_true(has_error(&d, 3, "unknown syscall"));
	assert_non_null(strstr(d.d[0].file, "d.policy"));
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* ---- shipped policies ---- */

static void
check_shipped(const char *rel, unsigned int max_syscalls)
{
	struct pol_compile_opts o = { .range_count = 2 };
	struct pol_compiled c;
	struct pol_policy *p;
	struct pol_diags d;
	char path[PATH_MAX];
	int err;

	src_path(rel, path, sizeof(path));
	err = pol_parse_file(path, &p, &d);
	if (err)
		dump(&d);
	assert_int_equal(err, 0);
	assert_true(p->seccomp.present);
	assert_true(p->seccomp.nrules <= max_syscalls);
	assert_int_equal(p->seccomp.dflt.kind, POL_ACT_KILL_PROCESS);
	assert_int_equal(pol_compile(p, &o, &c), 0);
	assert_true(c.seccomp_fd >= 0);
	assert_true(c.seccomp_len > 0 && c.seccomp_len % 8 == 0);
	pol_compiled_release(&c);
	pol_free(p);
}

static bool
allows(const struct pol_policy *p, const char *name)
{
	for (unsigned int i = 0; i < p->seccomp.nrules; i++)
		if (strcmp(p->seccomp.rules[i].name, name) == 0 &&
		    p->seccomp.rules[i].action.kind == POL_ACT_ALLOW)
			return true;
	return false;
}

static void
test_shipped_lsi(void **state)
{
	static const char *const never[] = {
		"execve", "execveat", "socket", "socketpair", "open", "openat",
		"openat2", "clone", "clone3", "fork", "vfork", "io_uring_setup",
		"io_uring_enter", "io_uring_register", "ptrace", "kill",
		"tgkill", "connect", "bind", "mount", "unshare", "setns",
		"memfd_create", "process_vm_writev", "ioctl",
	};
	struct pol_policy *p;
	struct pol_diags d;
	char path[PATH_MAX];

	(void)state;
	check_shipped("policy/lsi-remote.policy", 29);
	src_path("policy/lsi-remote.policy", path, sizeof(path));
	assert_int_equal(pol_parse_file(path, &p, &d), 0);
	/* the eventfds of SET_IRQFD, and nothing else, come at run time */
	assert_int_equal(p->nreceived, 1);
	assert_string_equal(p->received[0].name, "irq");
	assert_int_equal(p->received[0].kinds, POL_FD_EVENTFD);
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		if (allows(p, never[i]))
			fprintf(stderr, "lsi-remote allows %s\n", never[i]);
		assert_false(allows(p, never[i]));
	}
	/* mmap and mprotect: every alternative excludes PROT_EXEC */
	for (unsigned int i = 0; i < p->seccomp.nrules; i++) {
		const struct pol_rule *r = &p->seccomp.rules[i];

		if (strcmp(r->name, "mmap") && strcmp(r->name, "mprotect"))
			continue;
		assert_true(r->nalt > 0);
		for (unsigned int a = 0; a < r->nalt; a++) {
			bool noexec = false;

			for (unsigned int k = 0; k < r->alt[a].ncmp; k++) {
				const struct pol_cmp *c = &r->alt[a].cmp[k];

				if (c->arg == 2 && c->op == POL_OP_MASKED_EQ &&
				    (c->mask & PROT_EXEC) &&
				    !(c->value & PROT_EXEC))
					noexec = true;
			}
			assert_true(noexec);
		}
	}
	pol_free(p);
}

static void
test_shipped_qemu(void **state)
{
	char path[PATH_MAX];

	(void)state;
	src_path("policy/qemu.policy", path, sizeof(path));
	if (access(path, R_OK) == 0)
		check_shipped("policy/qemu.policy", 400);
	src_path("policy/qemu-remote.policy", path, sizeof(path));
	if (access(path, R_OK) == 0)
		check_shipped("policy/qemu-remote.policy", 400);
}

/* ---- Landlock by ABI ---- */

static void
test_landlock_degrade(void **state)
{
	const char *text =
	    "%mpjail-policy 1\n[landlock]\nabi.min = 2\ncompat = best-effort\n"
	    "handle.fs = abi.all\nhandle.net = bind_tcp, connect_tcp\n"
	    "scope = abstract_unix_socket, signal\n"
	    "fs:/usr = read_file, read_dir, ioctl_dev\nconnect_tcp = 443\n";
	struct pol_landlock got;
	struct pol_policy *p;
	struct pol_diags d;
	char rep[512];
	int abi;

	(void)state;
	assert_int_equal(parse_str(text, &p, &d), 0);
	assert_true(p->landlock.handled_fs & POL_LL_FS_IOCTL_DEV);
	assert_int_equal(pol_landlock_degrade(&p->landlock, 7, &got, rep,
	    sizeof(rep)), 0);
	assert_non_null(strstr(rep, "fully enforced"));
	assert_true(got.handled_fs == p->landlock.handled_fs);

	assert_int_equal(pol_landlock_degrade(&p->landlock, 3, &got, rep,
	    sizeof(rep)), 0);
	assert_non_null(strstr(rep, "ioctl_dev (needs ABI 5)"));
	assert_non_null(strstr(rep, "net bind_tcp, connect_tcp (needs ABI 4)"));
	assert_non_null(strstr(rep, "scope"));
	assert_false(got.handled_fs & POL_LL_FS_IOCTL_DEV);
	assert_true(got.handled_fs & POL_LL_FS_TRUNCATE);
	assert_false(got.paths[0].access & POL_LL_FS_IOCTL_DEV);
	assert_int_equal(got.handled_net, 0);
	assert_int_equal(got.nports, 0);
	assert_int_equal(got.scoped, 0);

	assert_int_equal(pol_landlock_degrade(&p->landlock, 1, &got, rep,
	    sizeof(rep)), -EOPNOTSUPP);
	assert_non_null(strstr(rep, "abi.min"));
	p->landlock.best_effort = false;
	assert_int_equal(pol_landlock_degrade(&p->landlock, 3, &got, rep,
	    sizeof(rep)), -EOPNOTSUPP);
	pol_free(p);

	abi = pol_landlock_abi();
	assert_true(abi >= 0);
	fprintf(stderr, "landlock ABI on this kernel: %d\n", abi);
}

/* ---- the compiled program, run ---- */

enum expect { OK, ERR, KILL, TRAP, NOT_KILLED };

struct ctx {
	void *page;		/* PROT_READ|PROT_WRITE, private */
};

struct tcase {
	const char *name;
	long (*fn)(struct ctx *);
	enum expect confined;
	int err;		/* for ERR */
	enum expect control;	/* the same call, unconfined */
};

static long
r(long v)
{
	return v < 0 ? -errno : 0;
}

static long c_getpid(struct ctx *c) { (void)c; return r(syscall(SYS_getpid)); }
static long c_getppid(struct ctx *c) { (void)c; return r(syscall(SYS_getppid)); }
static long c_getuid(struct ctx *c) { (void)c; return r(syscall(SYS_getuid)); }
static long c_getgid(struct ctx *c) { (void)c; return r(syscall(SYS_getgid)); }
static long c_getcwd(struct ctx *c)
{
	char b[256];

	(void)c;
	return r(syscall(SYS_getcwd, b, sizeof(b)));
}
static long c_getsid(struct ctx *c) { (void)c; return r(syscall(SYS_getsid, 0)); }
static long c_mprot_r(struct ctx *c)
{
	return r(syscall(SYS_mprotect, c->page, 4096, PROT_READ));
}
static long c_mprot_x(struct ctx *c)
{
	return r(syscall(SYS_mprotect, c->page, 4096, PROT_READ | PROT_EXEC));
}
static long c_mmap_ok(struct ctx *c)
{
	(void)c;
	return syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == (long)MAP_FAILED ? -errno : 0;
}
static long c_mmap_x(struct ctx *c)
{
	(void)c;
	return syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == (long)MAP_FAILED ? -errno : 0;
}
static long c_mmap_shared(struct ctx *c)
{
	(void)c;
	return syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0) == (long)MAP_FAILED ? -errno : 0;
}
static long c_dup5(struct ctx *c) { (void)c; return r(syscall(SYS_dup, 5)); }
static long c_dup6(struct ctx *c) { (void)c; return r(syscall(SYS_dup, 6)); }
static long c_dup7(struct ctx *c) { (void)c; return r(syscall(SYS_dup, 7)); }
static long c_dup4(struct ctx *c) { (void)c; return r(syscall(SYS_dup, 4)); }
static long c_getfd(struct ctx *c)
{
	(void)c;
	return r(syscall(SYS_fcntl, 5, F_GETFD));
}
static long c_setfd_ok(struct ctx *c)
{
	(void)c;
	return r(syscall(SYS_fcntl, 5, F_SETFD, FD_CLOEXEC));
}
static long c_setfd_bad(struct ctx *c)
{
	(void)c;
	return r(syscall(SYS_fcntl, 5, F_SETFD, 0));
}
static long c_getfl(struct ctx *c)
{
	(void)c;
	return r(syscall(SYS_fcntl, 5, F_GETFL));
}
static long c_lseek_set(struct ctx *c)
{
	(void)c;
	return r(syscall(SYS_lseek, 5, 0, SEEK_SET));
}
static long c_lseek_end(struct ctx *c)
{
	(void)c;
	return r(syscall(SYS_lseek, 5, 0, SEEK_END));
}
static long c_umask_ok(struct ctx *c) { (void)c; return r(syscall(SYS_umask, 022)); }
static long c_umask_bad(struct ctx *c) { (void)c; return r(syscall(SYS_umask, 0777)); }
static long c_prio_pgrp(struct ctx *c)
{
	(void)c;
	return r(syscall(SYS_getpriority, PRIO_PGRP, 0));
}
static long c_prio_proc(struct ctx *c)
{
	(void)c;
	return r(syscall(SYS_getpriority, PRIO_PROCESS, 0));
}
static long c_x32_getpid(struct ctx *c)
{
	(void)c;
	return r(syscall(0x40000000 | SYS_getpid));
}

/* getpid through the i386 table: eax = 20, int $0x80. */
static long
c_int80_getpid(struct ctx *c)
{
	long ret = 20;

	(void)c;
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return ret < 0 ? ret : 0;
}

static const char test_text[] =
    "%mpjail-policy 1\n"
    "# the behavioural test's policy: one line per mechanism\n"
    "[fds]\n"
    "0 = stdin null ro\n"
    "1 = stdout null wo\n"
    "2 = log pipe-w wo\n"
    "5.. = disk@ file rw|ro\n"
    "[seccomp]\n"
    "@default kill-process\n"
    "@arch native\n"
    "@priority getpid\n"
    "exit_group: 1\n"
    "getpid:     1\n"
    "getppid:    errno EACCES\n"
    "getuid:     trap\n"
    "getgid:     log\n"
    "mprotect:   arg2 in ~PROT_EXEC\n"
    "mmap:       arg2 in PROT_READ|PROT_WRITE && arg3 == MAP_PRIVATE|MAP_ANONYMOUS\n"
    "dup:        arg0 == fd:disk@\n"
    "fcntl:      arg1 == F_GETFD || arg1 == F_SETFD && arg2 & FD_CLOEXEC\n"
    "lseek:      arg2 <= 1\n"
    "umask:      arg0 < 0100\n"
    "getpriority: arg0 >= 1\n";

static const struct tcase cases[] = {
	{ "getpid", c_getpid, OK, 0, OK },
	{ "getppid (errno)", c_getppid, ERR, EACCES, OK },
	{ "getuid (trap)", c_getuid, TRAP, 0, OK },
	{ "getgid (log)", c_getgid, OK, 0, OK },
	{ "mprotect R", c_mprot_r, OK, 0, OK },
	{ "mprotect RX", c_mprot_x, KILL, 0, OK },
	{ "mmap RW private anon", c_mmap_ok, OK, 0, OK },
	{ "mmap RX", c_mmap_x, KILL, 0, OK },
	{ "mmap RW shared", c_mmap_shared, KILL, 0, OK },
	{ "dup disk 0 (fd 5)", c_dup5, OK, 0, OK },
	{ "dup disk 1 (fd 6)", c_dup6, OK, 0, OK },
	{ "dup fd 7 (past the range)", c_dup7, KILL, 0, OK },
	{ "dup fd 4 (before the range)", c_dup4, KILL, 0, OK },
	{ "fcntl F_GETFD", c_getfd, OK, 0, OK },
	{ "fcntl F_SETFD FD_CLOEXEC", c_setfd_ok, OK, 0, OK },
	{ "fcntl F_SETFD 0", c_setfd_bad, KILL, 0, OK },
	{ "fcntl F_GETFL", c_getfl, KILL, 0, OK },
	{ "lseek SEEK_SET", c_lseek_set, OK, 0, OK },
	{ "lseek SEEK_END", c_lseek_end, KILL, 0, OK },
	{ "umask 022", c_umask_ok, OK, 0, OK },
	{ "umask 0777", c_umask_bad, KILL, 0, OK },
	{ "getpriority PRIO_PGRP", c_prio_pgrp, OK, 0, OK },
	{ "getpriority PRIO_PROCESS", c_prio_proc, KILL, 0, OK },
	{ "getcwd (unlisted)", c_getcwd, KILL, 0, OK },
	{ "getsid (unlisted)", c_getsid, KILL, 0, OK },
	{ "x32 getpid", c_x32_getpid, KILL, 0, NOT_KILLED },
	{ "int 0x80 getpid", c_int80_getpid, KILL, 0, NOT_KILLED },
};

static void
on_sigsys(int sig)
{
	(void)sig;
	syscall(SYS_exit_group, 100);
}

/* Install the sealed program as the sandbox will: NNP, then the filter. */
static int
install(int fd, size_t len, unsigned int flags)
{
	struct sock_filter *insns = malloc(len);
	struct sock_fprog prog = { .len = (unsigned short)(len / 8),
	    .filter = insns };

	if (!insns || pread(fd, insns, len, 0) != (ssize_t)len)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* Run one case in a child; returns the wait status. */
static int
run_case(const struct tcase *t, int fd, size_t len)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct ctx c;
		int null = open("/dev/null", O_RDWR);
		long ret;

		for (int i = 4; i <= 7; i++)
			dup2(null, i);
		c.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		signal(SIGSYS, on_sigsys);
		if (fd >= 0 && install(fd, len, 0) < 0)
			syscall(SYS_exit_group, 99);
		ret = t->fn(&c);
		syscall(SYS_exit_group, ret < 0 ? (int)-ret : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static bool
status_is(int status, enum expect e, int err)
{
	switch (e) {
	case OK: return WIFEXITED(status) && WEXITSTATUS(status) == 0;
	case ERR: return WIFEXITED(status) && WEXITSTATUS(status) == err;
	case KILL: return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
	case TRAP: return WIFEXITED(status) && WEXITSTATUS(status) == 100;
	case NOT_KILLED: return !(WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGSYS);
	}
	return false;
}

static void
describe(const char *what, const struct tcase *t, int status)
{
	if (WIFEXITED(status))
		fprintf(stderr, "%s %s: exited %d\n", what, t->name,
		    WEXITSTATUS(status));
	else
		fprintf(stderr, "%s %s: signal %d\n", what, t->name,
		    WTERMSIG(status));
}

static void
test_behaviour(void **state)
{
	struct pol_compile_opts o = { .range_count = 2 };
	struct pol_compiled c;
	struct pol_policy *p;
	struct pol_diags d;
	int seals, bad = 0;

	(void)state;
	{
		int rc = parse_str(test_text, &p, &d);

		if (rc)
			dump(&d);
		assert_int_equal(rc, 0);
	}
	assert_int_equal(pol_compile(p, &o, &c), 0);
	/* the range expanded to fds 5 and 6 */
	assert_int_equal(c.nfds, 5);
	assert_int_equal(c.fds[3].num, 5);
	assert_int_equal(c.fds[4].num, 6);
	assert_string_equal(c.fds[4].name, "disk@1");
	/* sealed: no write, no resize, no unsealing */
	seals = fcntl(c.seccomp_fd, F_GET_SEALS);
	assert_int_equal(seals, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE);
	assert_true(pwrite(c.seccomp_fd, "x", 1, 0) < 0 && errno == EPERM);
	assert_true(ftruncate(c.seccomp_fd, 0) < 0 && errno == EPERM);
	assert_int_equal(fcntl(c.seccomp_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *t = &cases[i];
		int st;

		st = run_case(t, -1, 0);
		if (!status_is(st, t->control, 0)) {
			describe("control (unconfined)", t, st);
			bad++;
		}
		st = run_case(t, c.seccomp_fd, c.seccomp_len);
		if (!status_is(st, t->confined, t->err)) {
			describe("confined", t, st);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	pol_compiled_release(&c);
	pol_free(p);
}

/*
 * Other architectures kill the whole process, not just the thread: a
 * second thread's int 0x80 must take the main thread down with it. (With
 * libseccomp's own default, kill-thread, main would exit 0.)
 */
static void *
int80_thread(void *arg)
{
	(void)arg;
	(void)c_int80_getpid(NULL);
	return NULL;
}

static void
test_badarch_kills_process(void **state)
{
	const char *text = "%mpjail-policy 1\n[seccomp]\n@default allow\n"
	    "getcwd: kill-process\n";
	struct pol_compiled c;
	struct pol_policy *p;
	struct pol_diags d;
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(parse_str(text, &p, &d), 0);
	assert_int_equal(pol_compile(p, NULL, &c), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t th;

		if (install(c.seccomp_fd, c.seccomp_len, 0) < 0)
			_exit(99);
		if (pthread_create(&th, NULL, int80_thread, NULL))
			_exit(98);
		pthread_join(th, NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	pol_compiled_release(&c);
	pol_free(p);
}

/* ---- exports ---- */

static void
test_oci_and_pfc(void **state)
{
	struct pol_compile_opts o = { .range_count = 2 };
	struct pol_policy *p;
	struct pol_diags d;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(parse_str(test_text, &p, &d), 0);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(pol_seccomp_oci(p, &o, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\""));
	assert_non_null(strstr(buf, "\"names\": [\"getppid\"], \"action\": "
	    "\"SCMP_ACT_ERRNO\", \"errnoRet\": 13"));
	/* one entry per disk fd */
	assert_non_null(strstr(buf, "\"names\": [\"dup\"], \"action\": "
	    "\"SCMP_ACT_ALLOW\", \"args\": [{ \"index\": 0, \"value\": 5,"));
	assert_non_null(strstr(buf, "\"value\": 6, \"op\": \"SCMP_CMP_EQ\""));
	assert_non_null(strstr(buf, "SCMP_CMP_MASKED_EQ"));
	assert_null(strstr(buf, "\"getcwd\""));
	free(buf);

	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(pol_seccomp_pfc(p, &o, fileno(f)), 0);
	assert_true(ftell(f) >= 0);
	fclose(f);
	pol_free(p);
}

static void
test_json_escape(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	pol_json_string(f, "a\"b\\c\n\x01");
	fclose(f);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001\"");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_all_errors),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_parse_merge),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_shipped_lsi),
		cmocka_unit_test(test_shipped_qemu),
		cmocka_unit_test(test_landlock_degrade),
		cmocka_unit_test(test_behaviour),
		cmocka_unit_test(test_badarch_kills_process),
		cmocka_unit_test(test_oci_and_pfc),
		cmocka_unit_test(test_json_escape),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
