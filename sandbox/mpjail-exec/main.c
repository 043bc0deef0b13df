/*
 * sandbox/mpjail-exec/main.c: mpjail-exec, the shim that confines a
 * program we cannot change (QEMU starts a thread before main): it applies
 * Landlock and the seccomp program, then execs, so every thread of the
 * program is confined from its first instruction. Runs inside the
 * sandbox, static-pie, libc only; its arguments come from the broker.
 * The seccomp program must allow this one execve (see mpjail-exec(1)).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/self.h"

#define PROG "mpjail-exec"

static struct sbx_lockdown lockdown;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(126);
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: " PROG " [--landlock-fs=M --landlock-net=M "
	    "--landlock-scope=M\n"
	    "       --landlock-abi-min=N --landlock-hard "
	    "--allow-path=M:PATH... --allow-port=M:PORT...]\n"
	    "       [--seccomp-fd=N] [--rlimit-nproc=N] -- PROGRAM [ARGS]\n"
	    "  Apply Landlock (best effort unless --landlock-hard), nproc\n"
	    "  and the sealed seccomp program in fd N, then exec PROGRAM.\n"
	    "  M: a mask of the kernel's Landlock bits (0x..), or 'all'.\n");
	exit(status);
}

static uint64_t
parse_mask(const char *s, uint64_t all)
{
	char *end;
	unsigned long long v;

	if (!strcmp(s, "all"))
		return all;
	if (!strcmp(s, "none"))
		return 0;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || (v & ~all))
		die("bad access mask '%s'", s);
	return v;
}

static long
parse_num(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		die("bad number '%s'", s);
	return v;
}

/* M:REST: the mask, and REST through *rest. */
static uint64_t
parse_rule(char *s, uint64_t all, char **rest)
{
	char *colon = strchr(s, ':');

	if (!colon)
		die("expected MASK:VALUE, got '%s'", s);
	*colon = '\0';
	*rest = colon + 1;
	return parse_mask(s, all);
}

static void
parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "landlock-fs", required_argument, NULL, 'F' },
		{ "landlock-net", required_argument, NULL, 'N' },
		{ "landlock-scope", required_argument, NULL, 'S' },
		{ "landlock-abi-min", required_argument, NULL, 'A' },
		{ "landlock-hard", no_argument, NULL, 'H' },
		{ "allow-path", required_argument, NULL, 'P' },
		{ "allow-port", required_argument, NULL, 'T' },
		{ "seccomp-fd", required_argument, NULL, 's' },
		{ "rlimit-nproc", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sbx_landlock *ll = &lockdown.ll;
	char *rest;
	int c;

	sbx_lockdown_init(&lockdown);
	lockdown.log_fd = 2;
	lockdown.log_prefix = PROG;
	ll->best_effort = true;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			ll->handled_fs = parse_mask(optarg, SBX_LL_FS_ALL);
			lockdown.landlock = true;
			break;
		case 'N':
			ll->handled_net = parse_mask(optarg, SBX_LL_NET_ALL);
			lockdown.landlock = true;
			break;
		case 'S':
			ll->scoped = parse_mask(optarg, SBX_LL_SCOPE_ALL);
			lockdown.landlock = true;
			break;
		case 'A':
			ll->abi_min = (int)parse_num(optarg, SBX_LL_ABI_MAX);
			break;
		case 'H':
			ll->best_effort = false;
			break;
		case 'P':
			if (ll->npaths >= SBX_LL_MAX_PATHS)
				die("too many --allow-path");
			ll->paths[ll->npaths].access = parse_rule(optarg,
			    SBX_LL_FS_ALL, &rest);
			if (rest[0] != '/' || strlen(rest) >= SBX_LL_PATH_MAX)
				die("--allow-path: bad path '%s'", rest);
			snprintf(ll->paths[ll->npaths].path, SBX_LL_PATH_MAX,
			    "%s", rest);
			ll->npaths++;
			break;
		case 'T':
			if (ll->nports >= SBX_LL_MAX_PORTS)
				die("too many --allow-port");
			ll->ports[ll->nports].access = parse_rule(optarg,
			    SBX_LL_NET_ALL, &rest);
			ll->ports[ll->nports].port =
			    (uint16_t)parse_num(rest, 65535);
			ll->nports++;
			break;
		case 's':
			lockdown.seccomp_fd = (int)parse_num(optarg, INT_MAX);
			lockdown.close_seccomp_fd = true;
			break;
		case 'n':
			lockdown.nproc_set = true;
			lockdown.nproc = (rlim_t)parse_num(optarg, LONG_MAX);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind >= argc)
		usage(2);
}

int
main(int argc, char **argv)
{
	struct sbx_ll_report report;
	char why[256];
	int err;

	/* 1. What to apply, from the broker's command line. */
	parse_args(argc, argv);
	/* 2. Apply it: dumpable off, NNP, nproc, Landlock, seccomp. */
	err = sbx_lockdown_apply(&lockdown, &report, why, sizeof(why));
	if (err)
		die("%s", why);
	/* 3. Become the program; with the filter in place, before its main. */
	execv(argv[optind], argv + optind);
	die("exec %s: %s", argv[optind], strerror(errno));
}
