/*
 * broker/main.c: mpjail-broker, the one privileged process that runs a VM
 * from one description file. The privilege story, in order: read the
 * admin's files (VM file, policies), compile every policy, open and lock
 * every image, then spawn each remote and QEMU confined, each with only
 * its own fds, and supervise them to the end. Trusted, possibly root; it
 * never parses a byte that QEMU, a remote or the guest wrote.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/image.h"
#include "broker/launch.h"
#include "broker/supervise.h"
#include "broker/tenant.h"
#include "broker/vm.h"
#include "policy/policy.h"

#define PROG "mpjail-broker"
#ifndef BRK_LIBEXECDIR
#define BRK_LIBEXECDIR "/usr/local/libexec/mpjail"
#endif

/* Everything the broker holds, in one place (main.c holds the state). */
static struct {
	const char *vm_file;
	bool check_only;
	const char *lsi;	/* --lsi: mpjail-lsi's path */
	const char *shim;	/* --shim: mpjail-exec's path */
} opt;

static struct brk_vm vm;
static struct pol_compiled qemu_pol;
static struct pol_compiled remote_pol[BRK_MAX_REMOTES];
static struct brk_image images[BRK_MAX_REMOTES][BRK_MAX_DISKS];
static struct brk_programs progs;
static struct brk_run run;
static struct brk_tenant tenant;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	brk_vlog(vm.name[0] ? vm.name : "?", NULL, fmt, ap);
	va_end(ap);
	exit(BRK_EXIT_SETUP);
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: " PROG " [--check] [--lsi PATH] [--shim PATH] VMFILE\n"
	    "  Run the VM that VMFILE (mpjail.vm(5)) describes: open and lock\n"
	    "  its images, spawn each remote and QEMU confined by their\n"
	    "  policies, supervise them until QEMU ends. SIGTERM or SIGINT:\n"
	    "  ACPI power-off, then quit, then kill, each step bounded.\n"
	    "  --check: parse, compile and open everything; spawn nothing.\n"
	    "  --lsi, --shim: mpjail-lsi and mpjail-exec (default: next to\n"
	    "  this program, else " BRK_LIBEXECDIR ").\n");
	exit(status);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "lsi", required_argument, NULL, 'l' },
		{ "shim", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': opt.check_only = true; break;
		case 'l': opt.lsi = optarg; break;
		case 's': opt.shim = optarg; break;
		case 'h': usage(0);
		default: usage(BRK_EXIT_USAGE);
		}
	}
	if (optind != argc - 1)
		usage(BRK_EXIT_USAGE);
	opt.vm_file = argv[optind];
}

/*
 * A helper program: the given path, else next to us, else LIBEXECDIR.
 * As root it must be a root-owned regular file the tenant can read and
 * execute (bubblewrap binds it as the tenant).
 */
static void
find_program(const char *given, const char *name, char *out, bool root)
{
	char self[PATH_MAX], cand[PATH_MAX], *slash;
	struct stat st;
	ssize_t n;

	if (given) {
		snprintf(cand, sizeof(cand), "%s", given);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[n > 0 ? n : 0] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		if (snprintf(cand, sizeof(cand), "%s/%s", self, name) >=
		    (int)sizeof(cand) || n <= 0 || access(cand, X_OK) != 0)
			snprintf(cand, sizeof(cand), "%s/%s", BRK_LIBEXECDIR,
			    name);
	}
	if (!realpath(cand, self))
		die("%s: %s: %s", name, cand, strerror(errno));
	if (stat(self, &st) < 0 || !S_ISREG(st.st_mode))
		die("%s: %s: not a regular file", name, self);
	if (root && ((st.st_mode & 0005) != 0005 || st.st_uid != 0 ||
	    (st.st_mode & 0022)))
		die("%s: %s: must be root-owned, not group/world-writable, "
		    "and world-readable and -executable (the tenant runs it)",
		    name, self);
	if (strlen(self) >= BRK_PATH_MAX)
		die("%s: %s: path too long", name, self);
	memcpy(out, self, strlen(self) + 1); /* length checked above */
}

/* The kernel and initrd are bound into QEMU's root as the QEMU tenant. */
static void
check_boot_file(const char *what, const char *path, bool root)
{
	struct stat st;

	if (stat(path, &st) < 0)
		die("%s %s: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die("%s %s: not a regular file", what, path);
	if (root && !(st.st_mode & 0004))
		die("%s %s: not world-readable (QEMU runs as its tenant uid)",
		    what, path);
}

static void
load_policy(const char *path, unsigned int range_count,
    struct pol_compiled *out)
{
	struct pol_policy *p = NULL;
	struct pol_compile_opts o = { .range_count = range_count };
	struct pol_diags d;
	int err;

	memset(&d, 0, sizeof(d));
	err = pol_parse_file(path, &p, &d);
	if (err) {
		pol_diags_print(&d, stderr);
		die("policy %s: %s: nothing started", path, strerror(-err));
	}
	err = pol_compile(p, &o, out);
	pol_free(p);
	if (err)
		die("policy %s: does not compile (%s): nothing started", path,
		    strerror(-err));
}

static void
open_images(void)
{
	char why[512];

	for (unsigned int r = 0; r < vm.nremotes; r++) {
		const struct brk_remote *rm = &vm.remotes[r];

		for (unsigned int i = 0; i < rm->ndisks; i++) {
			int err = brk_image_open(rm->disks[i].path,
			    rm->disks[i].ro, &images[r][i], why, sizeof(why));

			/* QEMU's fdset: a read-only description too. */
			if (!err && rm->kind == BRK_REMOTE_QEMU)
				err = brk_image_add_ro_fd(&images[r][i], why,
				    sizeof(why));
			if (err)
				die("remote=%s: disk (%s:%u): %s: nothing "
				    "started", rm->name, vm.file,
				    rm->disks[i].line, why);
		}
	}
}

static void
close_images(void)
{
	for (unsigned int r = 0; r < BRK_MAX_REMOTES; r++)
		for (unsigned int i = 0; i < BRK_MAX_DISKS; i++)
			brk_image_close(&images[r][i]);
}

/* Block the signals we take through a signalfd. The children inherit
 * the mask: a Ctrl-C on the terminal reaches the broker, which stops the
 * VM in order, not QEMU or a remote directly. */
static int
signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	sigdelset(&set, SIGPIPE);	/* blocked: writes return EPIPE */
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		die("signalfd: %s", strerror(errno));
	return fd;
}

/* Kill what started, release everything, exit: set-up failed midway. */
static void __attribute__((noreturn, format(printf, 1, 2)))
abort_start(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	brk_vlog(vm.name, NULL, fmt, ap);
	va_end(ap);
	brk_kill_all(&run);
	brk_reap_orphans(vm.name, BRK_ORPHAN_TIMEOUT_MS);
	brk_run_close(&run);
	close_images();
	brk_tenant_release(&tenant);
	exit(BRK_EXIT_SETUP);
}

int
main(int argc, char **argv)
{
	struct pol_diags diags;
	bool root = getuid() == 0 || geteuid() == 0;
	uid_t uid_base;
	gid_t gid_base;
	int qmp[2], console[2], null_fd, err;
	int socks[BRK_MAX_REMOTES][2];
	char why[512];

	for (unsigned int i = 0; i < BRK_MAX_REMOTES; i++)
		socks[i][0] = socks[i][1] = -1;

	/* 1. The description: every error, with its line; nothing else yet. */
	parse_args(argc, argv);
	memset(&diags, 0, sizeof(diags));
	err = brk_vm_parse_file(opt.vm_file, &vm, &diags);
	if (err) {
		pol_diags_print(&diags, stderr);
		die("%s: %s: nothing started", opt.vm_file, err == -EINVAL ?
		    "invalid VM file" : strerror(-err));
	}

	/* 2. Who runs what: a tenant uid per process when root (QEMU the
	 *    first of the range, remote N the (N+2)th), else ourselves. */
	if (root) {
		if (!vm.uids.set || !vm.gids.set)
			die("%s: running as root: the VM file needs [tenant] "
			    "uids and gids", opt.vm_file);
		if (vm.uids.count < 1 + vm.nremotes ||
		    vm.gids.count < 1 + vm.nremotes)
			die("%s: [tenant]: %u ids needed (QEMU and %u "
			    "remotes)", opt.vm_file, 1 + vm.nremotes,
			    vm.nremotes);
		uid_base = vm.uids.first;
		gid_base = vm.gids.first;
	} else {
		uid_base = getuid();
		gid_base = getgid();
	}

	/* 3. Every policy compiled before anything runs. */
	load_policy(vm.qemu_policy, vm.nremotes, &qemu_pol);
	for (unsigned int i = 0; i < vm.nremotes; i++) {
		const struct brk_remote *r = &vm.remotes[i];

		/* QEMU's remote takes two fds per disk (its fdset). */
		load_policy(r->policy, r->kind == BRK_REMOTE_QEMU ?
		    2 * r->ndisks : r->ndisks, &remote_pol[i]);
	}

	/* 4. The programs and boot files the children will see. */
	find_program(opt.lsi, "mpjail-lsi", progs.lsi, root);
	find_program(opt.shim, "mpjail-exec", progs.shim, root);
	find_program(vm.qemu, "qemu", progs.qemu, root);
	for (unsigned int i = 0; i < vm.nremotes; i++) {
		const struct brk_remote *r = &vm.remotes[i];

		if (r->kind == BRK_REMOTE_QEMU)
			find_program(r->program[0] ? r->program : vm.qemu,
			    "qemu", progs.remote_qemu[i], root);
		else if (r->program[0] && strcmp(r->program, progs.lsi) != 0)
			die("remote=%s: program: one mpjail-lsi per broker "
			    "(use --lsi)", r->name);
	}
	if (vm.boot == BRK_BOOT_KERNEL) {
		check_boot_file("kernel", vm.kernel, root);
		if (vm.initrd[0])
			check_boot_file("initrd", vm.initrd, root);
	}

	/* 5. Our tenant ids, claimed against every other broker and every
	 *    running process (tenant.h); then the images: opened by us,
	 *    never by a path in a child; locked. */
	brk_tenant_init(&tenant);
	if (root) {
		err = brk_tenant_claim(BRK_TENANT_DIR, uid_base, gid_base,
		    1 + vm.nremotes, &tenant, why, sizeof(why));
		if (err)
			die("%s: %s: nothing started", opt.vm_file, why);
	}
	open_images();
	if (opt.check_only) {
		brk_log(vm.name, NULL, "%s: ok (%u remotes; nothing started)",
		    opt.vm_file, vm.nremotes);
		close_images();
		brk_tenant_release(&tenant);
		return 0;
	}

	/* 6. Signals to a signalfd; the kernel's audit records for SIGSYS. */
	brk_run_init(&run, &vm);
	brk_console_out(&run, STDOUT_FILENO);
	run.sig_fd = signals();
	/* Descendants orphaned on the way out come to us, to be reaped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	if (root) {
		run.kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK |
		    O_CLOEXEC);
		if (run.kmsg_fd >= 0)
			lseek(run.kmsg_fd, 0, SEEK_END);
	}
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		die("/dev/null: %s", strerror(errno));

	/* 7. The remotes, each under its own uid with its own socket end;
	 *    QEMU's own remote also with its QMP, on a socketpair we hold. */
	for (unsigned int i = 0; i < vm.nremotes; i++) {
		struct brk_child *c = &run.remotes[i];
		bool xremote = vm.remotes[i].kind == BRK_REMOTE_QEMU;
		char who[BRK_NAME_MAX + 8];
		int rqmp[2] = { -1, -1 };

		snprintf(who, sizeof(who), "remote=%s", vm.remotes[i].name);
		brk_child_init(c, who, xremote ? "qemu-remote" : "mpjail-lsi");
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    socks[i]) < 0 || (xremote && socketpair(AF_UNIX,
		    SOCK_STREAM | SOCK_CLOEXEC, 0, rqmp) < 0))
			abort_start("socketpair: %s", strerror(errno));
		c->qmp_fd = rqmp[0];
		run.nremotes = i + 1;
		err = brk_launch_remote(&vm, i, &remote_pol[i],
		    root ? uid_base + 1 + i : uid_base,
		    root ? gid_base + 1 + i : gid_base, &progs, null_fd,
		    socks[i][0], rqmp[1], images[i], c, why, sizeof(why));
		close(socks[i][0]);
		if (rqmp[1] >= 0)
			close(rqmp[1]);
		if (err)
			abort_start("%s: %s", who, why);
		brk_log(vm.name, who, "started: %s, pid %d, uid %u, %u disk(s)",
		    xremote ? "QEMU x-remote" : "mpjail-lsi", (int)c->pid,
		    (unsigned int)c->uid, vm.remotes[i].ndisks);
	}

	/* 7b. Nobody talks to QEMU's own remote before its start-up and
	 *     machine reset are over: the one answer we read (ready.c). */
	for (unsigned int i = 0; i < vm.nremotes; i++) {
		struct brk_child *c = &run.remotes[i];
		long long t0 = now_ms();

		if (vm.remotes[i].kind != BRK_REMOTE_QEMU)
			continue;
		err = brk_remote_ready(vm.name, c, BRK_READY_TIMEOUT_MS);
		if (err)
			abort_start("%s: not ready: %s", c->who,
			    err == -ETIMEDOUT ? "no QMP answer within the "
			    "time limit" : err == -EPROTO ? "no valid QMP "
			    "answer" : err == -ECHILD ? "it ended" :
			    "it closed its QMP");
		brk_log(vm.name, c->who, "ready: QMP answered after %lld ms",
		    now_ms() - t0);
	}

	/* 8. QEMU, unprivileged and confined, on the other ends. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp) < 0 ||
	    pipe2(console, O_CLOEXEC) < 0)
		abort_start("socketpair/pipe: %s", strerror(errno));
	run.qmp_fd = qmp[0];
	run.console_fd = console[0];
	fcntl(console[0], F_SETFL, O_NONBLOCK);
	{
		int theirs[BRK_MAX_REMOTES];
		struct brk_qemu_io io = {
			.null_fd = null_fd, .serial_w = console[1],
			.qmp = qmp[1], .remote_socks = theirs,
		};

		for (unsigned int i = 0; i < vm.nremotes; i++)
			theirs[i] = socks[i][1];
		err = brk_launch_qemu(&vm, &qemu_pol, uid_base, gid_base,
		    &progs, &io, &run.qemu, why, sizeof(why));
	}
	close(qmp[1]);
	close(console[1]);
	for (unsigned int i = 0; i < vm.nremotes; i++)
		close(socks[i][1]);
	close(null_fd);
	if (err)
		abort_start("qemu: %s", why);
	brk_log(vm.name, "qemu", "started: pid %d, uid %u, %llu MiB, %s",
	    (int)run.qemu.pid, (unsigned int)run.qemu.uid,
	    (unsigned long long)vm.memory_mib,
	    vm.boot == BRK_BOOT_KERNEL ? "kernel boot" : "firmware boot");
	if (brk_qmp_hello(&run))
		brk_log(vm.name, "qemu", "qmp: hello not sent");
	pol_compiled_release(&qemu_pol);
	for (unsigned int i = 0; i < vm.nremotes; i++)
		pol_compiled_release(&remote_pol[i]);

	/* 9. Supervise until everything has ended; release; report. */
	err = brk_supervise(&run);
	if (brk_reap_orphans(vm.name, BRK_ORPHAN_TIMEOUT_MS) > 0 &&
	    err == BRK_EXIT_OK)
		err = BRK_EXIT_KILLED;
	brk_run_close(&run);
	close_images();
	brk_tenant_release(&tenant);
	brk_log(vm.name, NULL, "stopped: exit %d", err);
	return err;
}
