/*
 * sandbox/mpjail-run/main.c: mpjail-run, run one program in exactly the
 * sandbox a policy describes, as the broker would: for auditors and for
 * the escape-attempt suite (the counterpart of minijail0 and bwrap).
 * Trusted and possibly root: reads the admin's policy, opens the paths it
 * is given, then spawns through sandbox/spawn.c and waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/policy.h"
#include "sandbox/spawn.h"

#define PROG "mpjail-run"
#define MAX_GIVEN 96
#define SHIM_AT "/mpjail-exec"
#define SHIM_ARGS 192

struct given {
	int num;		/* fd number in the child */
	int inherit;		/* >= 0: our fd to pass, else open path */
	int mode;		/* 0 (from the policy) or O_RDONLY/O_WRONLY/O_RDWR */
	const char *path;
};

/* Everything main() decides, in one place (main.c holds the state). */
struct run {
	const char *policy;
	unsigned int ngiven;
	struct given given[MAX_GIVEN];
	long uid, gid;
	const char *exe_at;
	const char *shim;
	const char *bwrap;
	bool dry_run;
	bool verbose;
	char **argv;		/* PROGRAM [ARGS] */
};

static struct run run = { .uid = -1, .gid = -1 };
static struct pol_compiled compiled;
static struct sbx_jail jail;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(125);
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: " PROG " --policy FILE [--fd N=[ro:|wo:|rw:]PATH|N=&M]...\n"
	    "       [--uid UID --gid GID] [--exe-at PATH] [--shim MPJAIL-EXEC]\n"
	    "       [--bwrap PATH] [--dry-run] [-v] -- PROGRAM [ARGS]\n"
	    "  Run PROGRAM in the sandbox FILE describes. As root, the tenant\n"
	    "  UID/GID (never 0) are required. --shim confines PROGRAM with\n"
	    "  mpjail-exec (Landlock, seccomp) before it runs; without it,\n"
	    "  PROGRAM locks itself down (mpjail-lsi --seccomp-fd N).\n");
	exit(status);
}

static long
parse_num(const char *s, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		die("bad %s '%s'", what, s);
	return v;
}

/* N=PATH, N=ro:PATH, N=&M */
static void
parse_fd_arg(char *s)
{
	struct given *g;
	char *eq = strchr(s, '=');

	if (!eq)
		die("--fd %s: expected N=PATH or N=&M", s);
	if (run.ngiven >= MAX_GIVEN)
		die("too many --fd");
	*eq = '\0';
	g = &run.given[run.ngiven++];
	g->num = (int)parse_num(s, SBX_FD_MAX - 1, "fd number");
	g->inherit = -1;
	s = eq + 1;
	if (s[0] == '&') {
		g->inherit = (int)parse_num(s + 1, INT_MAX, "fd number");
		return;
	}
	if (!strncmp(s, "ro:", 3))
		g->mode = O_RDONLY + 1;
	else if (!strncmp(s, "wo:", 3))
		g->mode = O_WRONLY + 1;
	else if (!strncmp(s, "rw:", 3))
		g->mode = O_RDWR + 1;
	if (g->mode)
		s += 3;
	if (s[0] != '/')
		die("--fd %d: path '%s' is not absolute", g->num, s);
	g->path = s;
}

static void
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "fd", required_argument, NULL, 'f' },
		{ "uid", required_argument, NULL, 'u' },
		{ "gid", required_argument, NULL, 'g' },
		{ "exe-at", required_argument, NULL, 'e' },
		{ "shim", required_argument, NULL, 's' },
		{ "bwrap", required_argument, NULL, 'b' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': run.policy = optarg; break;
		case 'f': parse_fd_arg(optarg); break;
		case 'u': run.uid = parse_num(optarg, 0xfffffffeL, "uid"); break;
		case 'g': run.gid = parse_num(optarg, 0xfffffffeL, "gid"); break;
		case 'e': run.exe_at = optarg; break;
		case 's': run.shim = optarg; break;
		case 'b': run.bwrap = optarg; break;
		case 'n': run.dry_run = true; break;
		case 'v': run.verbose = true; break;
		case 'h': usage(0);
		default: usage(2);
		}
	}
	if (!run.policy || optind >= argc)
		usage(2);
	run.argv = argv + optind;
}

static const struct given *
find_given(int num)
{
	for (unsigned int i = 0; i < run.ngiven; i++)
		if (run.given[i].num == num)
			return &run.given[i];
	return NULL;
}

static int
mode_flags(const struct pol_fd *f, int asked)
{
	if (asked) {
		int want = asked - 1;
		unsigned int bit = want == O_RDONLY ? POL_FD_RO :
		    want == O_WRONLY ? POL_FD_WO : POL_FD_RW;

		if (!(f->modes & bit))
			die("fd %d (%s): the policy does not allow that mode",
			    f->num, f->name);
		return want;
	}
	if (f->modes & POL_FD_RW)
		return O_RDWR;
	return (f->modes & POL_FD_WO) ? O_WRONLY : O_RDONLY;
}

/* One fd of the compiled policy: given, the seccomp program, or default. */
static int
open_policy_fd(const struct pol_fd *f)
{
	const struct given *g = find_given(f->num);
	int fd;

	if (g && g->inherit >= 0) {
		fd = fcntl(g->inherit, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			die("fd %d (%s): &%d: %s", f->num, f->name, g->inherit,
			    strerror(errno));
		return fd;
	}
	if (g) {
		fd = open(g->path, mode_flags(f, g->mode) | O_CLOEXEC |
		    O_NOFOLLOW | O_NOCTTY);
		if (fd < 0)
			die("fd %d (%s): %s: %s", f->num, f->name, g->path,
			    strerror(errno));
		return fd;
	}
	if ((f->kinds & POL_FD_MEMFD_SEALED) && compiled.seccomp_fd >= 0)
		return compiled.seccomp_fd;
	if (f->kinds & POL_FD_NULL) {
		fd = open("/dev/null", mode_flags(f, 0) | O_CLOEXEC);
		if (fd < 0)
			die("/dev/null: %s", strerror(errno));
		return fd;
	}
	if (f->num <= 2)
		return f->num;	/* our own stdin/stdout/stderr */
	die("fd %d (%s) is in the policy but not given (--fd %d=...)",
	    f->num, f->name, f->num);
}

static unsigned int
count_range_given(const struct pol_policy *p)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < p->nfds; i++) {
		if (!p->fds[i].range)
			continue;
		while (find_given(p->fds[i].num + (int)n))
			n++;
	}
	return n;
}

/*
 * The shim's command line: the Landlock ruleset as the policy wrote it
 * (mpjail-exec degrades and reports), the seccomp fd, nproc, PROGRAM.
 */
static void
shim_argv(char **out, char *buf, size_t buflen, int seccomp_num,
    bool nproc_set, rlim_t nproc)
{
	const struct pol_landlock *ll = &compiled.landlock;
	unsigned int n = 0;
	size_t used = 0;

#define PUT(...) do { \
	int w_ = snprintf(buf + used, buflen - used, __VA_ARGS__); \
	if (w_ < 0 || (size_t)w_ >= buflen - used || n + 2 >= SHIM_ARGS) \
		die("shim command line too long"); \
	out[n++] = buf + used; \
	used += (size_t)w_ + 1; \
} while (0)
	PUT("%s", SHIM_AT);
	if (ll->present) {
		PUT("--landlock-fs=0x%" PRIx64, ll->handled_fs);
		PUT("--landlock-net=0x%" PRIx64, ll->handled_net);
		PUT("--landlock-scope=0x%" PRIx64, ll->scoped);
		PUT("--landlock-abi-min=%d", ll->abi_min);
		if (!ll->best_effort)
			PUT("--landlock-hard");
		for (unsigned int i = 0; i < ll->npaths; i++)
			PUT("--allow-path=0x%" PRIx64 ":%s",
			    ll->paths[i].access, ll->paths[i].path);
		for (unsigned int i = 0; i < ll->nports; i++)
			PUT("--allow-port=0x%" PRIx64 ":%u",
			    ll->ports[i].access, ll->ports[i].port);
	}
	if (seccomp_num >= 0)
		PUT("--seccomp-fd=%d", seccomp_num);
	if (nproc_set)
		PUT("--rlimit-nproc=%llu", (unsigned long long)nproc);
	PUT("--");
	PUT("%s", run.exe_at);
	for (unsigned int i = 1; run.argv[i]; i++) {
		if (n + 2 >= SHIM_ARGS)
			die("too many arguments");
		out[n++] = run.argv[i];
	}
	out[n] = NULL;
#undef PUT
}

static int
wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 125;
}

int
main(int argc, char **argv)
{
	struct pol_policy *pol = NULL;
	struct pol_diags diags;
	struct pol_compile_opts copts;
	char exe_at_buf[SBX_PATH_MAX], exe_real[PATH_MAX], why[256];
	char shim_buf[SBX_ARGV_BUF], *shim_args[SHIM_ARGS], **child_argv;
	bool root = getuid() == 0 || geteuid() == 0, nproc_set;
	int seccomp_num = -1, err;
	rlim_t nproc;
	pid_t pid;

	/* 1. What to run, and under which policy. */
	parse_args(argc, argv);
	memset(&diags, 0, sizeof(diags));
	err = pol_parse_file(run.policy, &pol, &diags);
	if (err) {
		pol_diags_print(&diags, stderr);
		die("%s: %s", run.policy, strerror(-err));
	}
	memset(&copts, 0, sizeof(copts));
	copts.range_count = count_range_given(pol);
	err = pol_compile(pol, &copts, &compiled);
	if (err)
		die("%s: compile: %s", run.policy, strerror(-err));

	/* 2. Who it runs as: the tenant when we are root, else ourselves. */
	if (root && (run.uid <= 0 || run.gid <= 0))
		die("running as root: --uid and --gid (the tenant's, not 0) "
		    "are required");
	err = sbx_jail_from_policy(&jail, &compiled,
	    (uid_t)(root ? run.uid : (long)getuid()),
	    (gid_t)(root ? run.gid : (long)getgid()), &nproc, &nproc_set);
	if (err)
		die("%s: %s", run.policy, err == -EOPNOTSUPP ?
		    "only root = empty is supported" : strerror(-err));
	if (run.bwrap)
		snprintf(jail.bwrap, sizeof(jail.bwrap), "%s", run.bwrap);

	/* 3. Exactly the policy's fds, from the paths we were given. */
	for (unsigned int i = 0; i < run.ngiven; i++) {
		bool listed = false;

		for (unsigned int k = 0; k < compiled.nfds; k++)
			listed |= compiled.fds[k].num == run.given[i].num;
		if (!listed)
			die("--fd %d: not in the policy's [fds]",
			    run.given[i].num);
	}
	for (unsigned int i = 0; i < compiled.nfds; i++) {
		const struct pol_fd *f = &compiled.fds[i];

		if ((f->kinds & POL_FD_MEMFD_SEALED) && !find_given(f->num))
			seccomp_num = f->num;
		err = sbx_jail_add_fd(&jail, open_policy_fd(f), f->num);
		if (err)
			die("fd %d: %s", f->num, strerror(-err));
	}

	/* 4. The root: the program (and the shim) bound read-only. */
	if (!realpath(run.argv[0], exe_real))
		die("%s: %s", run.argv[0], strerror(errno));
	if (!run.exe_at) {
		snprintf(exe_at_buf, sizeof(exe_at_buf), "/%s",
		    basename(exe_real));
		run.exe_at = exe_at_buf;
	}
	if (sbx_jail_add_bind(&jail, SBX_BIND_RO, exe_real, run.exe_at))
		die("cannot bind %s at %s", exe_real, run.exe_at);
	if (run.shim) {
		char shim_real[PATH_MAX];

		if (!realpath(run.shim, shim_real))
			die("%s: %s", run.shim, strerror(errno));
		if (sbx_jail_add_bind(&jail, SBX_BIND_RO, shim_real, SHIM_AT))
			die("cannot bind the shim");
		shim_argv(shim_args, shim_buf, sizeof(shim_buf), seccomp_num,
		    nproc_set, nproc);
		child_argv = shim_args;
	} else {
		run.argv[0] = (char *)run.exe_at;
		child_argv = run.argv;
	}
	if (run.dry_run || run.verbose) {
		struct sbx_argv a;

		err = sbx_bwrap_argv(&jail, child_argv, &a);
		if (err)
			die("command line: %s", strerror(-err));
		fprintf(stderr, PROG ": uid %u gid %u%s:", jail.uid, jail.gid,
		    root ? "" : " (ours)");
		for (unsigned int i = 0; i < a.argc; i++)
			fprintf(stderr, " %s", a.argv[i]);
		fputc('\n', stderr);
		if (run.dry_run)
			return 0;
	}

	/* 5. Drop, enter, exec (in the child); wait and pass its status on. */
	err = sbx_spawn(&jail, child_argv, &pid, why, sizeof(why));
	if (err)
		die("spawn: %s", why);
	pol_compiled_release(&compiled);
	pol_free(pol);
	return wait_child(pid);
}
