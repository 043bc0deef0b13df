/*
 * policy/main.c: mpjail-policy, the auditor's tool: check, explain, diff,
 * export --oci, bpf and audit. Runs unprivileged on admin-owned policy
 * files; reads /proc of the audited process, which may be hostile.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/policy.h"

#define PROG "mpjail-policy"

struct opts {
	const char *output;	/* bpf --output: the raw program goes here */
	bool json;
	bool oci;
	struct pol_compile_opts co;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: " PROG " [--json] [--disks N] COMMAND ...\n"
	    "  check FILE          exit 0, or print every error\n"
	    "  explain FILE        what the policy allows, as a table\n"
	    "  diff A B            what B adds (+) and removes (-)\n"
	    "  export --oci FILE   the OCI runtime-spec linux.seccomp JSON\n"
	    "  bpf FILE            the compiled program (libseccomp PFC);\n"
	    "                      --output OUT also writes it raw\n"
	    "  audit PID FILE      does process PID carry the policy?\n"
	    "  --disks N: fds of the [fds] range (default 1)\n");
	exit(status);
}

static void
json_diags(const struct pol_diags *d, const char *file)
{
	printf("{ \"file\": ");
	pol_json_string(stdout, file);
	printf(", \"ok\": false, \"errors\": [");
	for (unsigned int i = 0; i < d->n; i++) {
		printf("%s\n  { \"file\": ", i ? "," : "");
		pol_json_string(stdout, d->d[i].file);
		printf(", \"line\": %u, \"column\": %u, \"message\": ",
		    d->d[i].line, d->d[i].col);
		pol_json_string(stdout, d->d[i].msg);
		printf(" }");
	}
	printf(" ], \"more\": %u }\n", d->dropped);
}

/* Parse, or print every error and return NULL. */
static struct pol_policy *
load(const struct opts *o, const char *file)
{
	struct pol_diags *d = calloc(1, sizeof(*d));
	struct pol_policy *p = NULL;
	int err;

	if (!d) {
		fprintf(stderr, PROG ": out of memory\n");
		return NULL;
	}
	err = pol_parse_file(file, &p, d);
	if (err) {
		if (o->json)
			json_diags(d, file);
		else
			pol_diags_print(d, stderr);
		if (d->n == 0)
			fprintf(stderr, PROG ": %s: %s\n", file, strerror(-err));
	}
	free(d);
	return p;
}

static int
cmd_check(const struct opts *o, char **argv)
{
	struct pol_policy *p = load(o, argv[0]);
	struct pol_compiled c;
	int err;

	if (!p)
		return 1;
	err = pol_compile(p, &o->co, &c);
	if (err) {
		fprintf(stderr, PROG ": %s: compiling: %s\n", argv[0],
		    strerror(-err));
		pol_free(p);
		return 1;
	}
	if (o->json) {
		printf("{ \"file\": ");
		pol_json_string(stdout, argv[0]);
		printf(", \"ok\": true, \"syscalls\": %u, \"instructions\": %u }\n",
		    p->seccomp.nrules, c.seccomp_insns);
	} else {
		printf("%s: ok (%u syscalls, %u BPF instructions)\n", argv[0],
		    p->seccomp.nrules, c.seccomp_insns);
	}
	pol_compiled_release(&c);
	pol_free(p);
	return 0;
}

static void
explain_text(const struct pol_policy *p, const struct opts *o)
{
	char buf[512], act[64];

	printf("policy %s\n", p->file);
	if (p->process.present)
		printf("\nprocess: no_new_privs %s, capabilities %s, securebits "
		    "%s, dumpable %s, env %s\n",
		    p->process.no_new_privs ? "yes" : "no",
		    p->process.caps_none ? "none" : "unchanged",
		    p->process.securebits_locked ? "locked" : "not locked",
		    p->process.dumpable ? "yes" : "no",
		    p->process.env_clear ? "cleared" : "kept");
	if (p->ns.present) {
		printf("namespaces: new");
		for (unsigned int b = 1; b <= POL_NS_CGROUP; b <<= 1)
			if (p->ns.unshare & b)
				printf(" %s", pol_ns_name((enum pol_ns)b));
		printf("; root %s; /proc %s; nested user namespaces %s\n",
		    p->ns.root_empty ? "empty" : "host, read-only",
		    p->ns.proc ? "mounted" : "absent",
		    p->ns.disable_userns ? "refused" : "allowed");
		for (unsigned int i = 0; i < p->ns.nbinds; i++)
			printf("  bind %s %s\n",
			    p->ns.binds[i].kind == POL_BIND_RO ? "ro " :
			    p->ns.binds[i].kind == POL_BIND_RW ? "rw " : "dev",
			    p->ns.binds[i].path);
	}
	printf("rlimits:");
	for (int r = 0; r < POL_RLIM_COUNT; r++) {
		if (!p->rlimits[r].set)
			continue;
		if (p->rlimits[r].value == POL_RLIM_INFINITY)
			printf(" %s=unlimited", pol_rlimit_name(r));
		else
			printf(" %s=%" PRIu64, pol_rlimit_name(r),
			    p->rlimits[r].value);
	}
	printf("\n\nfds (every other fd is closed):\n");
	for (unsigned int i = 0; i < p->nfds; i++) {
		char k[128], m[32], num[16];

		pol_fd_kinds_format(p->fds[i].kinds, k, sizeof(k));
		pol_fd_modes_format(p->fds[i].modes, m, sizeof(m));
		snprintf(num, sizeof(num), "%d%s", p->fds[i].num,
		    p->fds[i].range ? ".." : "");
		printf("  %-5s %-10s %-20s %s\n", num, p->fds[i].name, k, m);
	}
	for (unsigned int i = 0; i < p->nreceived; i++) {
		char k[128], m[32];

		pol_fd_kinds_format(p->received[i].kinds, k, sizeof(k));
		pol_fd_modes_format(p->received[i].modes, m, sizeof(m));
		printf("  %-5s %-10s %-20s %s (received at run time)\n", "any",
		    p->received[i].name, k, m);
	}
	if (p->landlock.present) {
		struct pol_landlock got;
		int abi = pol_landlock_abi();

		pol_ll_fs_format(p->landlock.handled_fs, buf, sizeof(buf));
		printf("\nlandlock (ABI >= %d, %s):\n  fs handled: %s\n",
		    p->landlock.abi_min, p->landlock.best_effort ?
		    "best effort" : "hard requirement", buf);
		pol_ll_net_format(p->landlock.handled_net, buf, sizeof(buf));
		printf("  net handled: %s\n", buf);
		pol_ll_scope_format(p->landlock.scoped, buf, sizeof(buf));
		printf("  scoped: %s\n", buf);
		for (unsigned int i = 0; i < p->landlock.npaths; i++) {
			pol_ll_fs_format(p->landlock.paths[i].access, buf,
			    sizeof(buf));
			printf("  allow %s: %s\n", p->landlock.paths[i].path, buf);
		}
		for (unsigned int i = 0; i < p->landlock.nports; i++)
			printf("  allow TCP %s %u\n",
			    p->landlock.ports[i].access == POL_LL_NET_BIND_TCP ?
			    "bind" : "connect", p->landlock.ports[i].port);
		if (p->landlock.npaths == 0)
			printf("  no path is reachable\n");
		if (abi >= 0) {
			(void)pol_landlock_degrade(&p->landlock, abi, &got, buf,
			    sizeof(buf));
			printf("  on this kernel: %s\n", buf);
		}
	}
	if (p->seccomp.present) {
		pol_action_format(&p->seccomp.dflt, act, sizeof(act));
		printf("\nseccomp: %u syscalls; anything else: %s; other "
		    "architectures: kill-process\n", p->seccomp.nrules, act);
		printf("  %-18s %-16s %s\n", "SYSCALL", "ACTION", "WHEN");
		for (unsigned int i = 0; i < p->seccomp.nrules; i++) {
			const struct pol_rule *r = &p->seccomp.rules[i];

			pol_action_format(&r->action, act, sizeof(act));
			if (r->nalt == 0) {
				printf("  %-18s %-16s always\n", r->name, act);
				continue;
			}
			for (unsigned int a = 0; a < r->nalt; a++) {
				pol_alt_format(p, &r->alt[a], buf, sizeof(buf));
				printf("  %-18s %-16s %s%s\n", a ? "" : r->name,
				    a ? "" : act, a ? "or " : "", buf);
			}
		}
	}
	(void)o;
}

struct json_lines {
	unsigned int n;
};

static void
json_line(const char *line, void *arg)
{
	struct json_lines *j = arg;

	printf("%s\n    ", j->n++ ? "," : "");
	pol_json_string(stdout, line);
}

static int
cmd_explain(const struct opts *o, char **argv)
{
	struct pol_policy *p = load(o, argv[0]);

	if (!p)
		return 1;
	if (o->json) {
		struct json_lines j = { 0 };
		char act[64];

		printf("{ \"file\": ");
		pol_json_string(stdout, p->file);
		printf(",\n  \"fds\": [");
		for (unsigned int i = 0; i < p->nfds; i++) {
			char k[128], m[32];

			pol_fd_kinds_format(p->fds[i].kinds, k, sizeof(k));
			pol_fd_modes_format(p->fds[i].modes, m, sizeof(m));
			printf("%s\n    { \"fd\": %d, \"range\": %s, \"name\": ",
			    i ? "," : "", p->fds[i].num,
			    p->fds[i].range ? "true" : "false");
			pol_json_string(stdout, p->fds[i].name);
			printf(", \"kinds\": ");
			pol_json_string(stdout, k);
			printf(", \"modes\": ");
			pol_json_string(stdout, m);
			printf(" }");
		}
		printf(" ],\n  \"received\": [");
		for (unsigned int i = 0; i < p->nreceived; i++) {
			char k[128], m[32];

			pol_fd_kinds_format(p->received[i].kinds, k, sizeof(k));
			pol_fd_modes_format(p->received[i].modes, m, sizeof(m));
			printf("%s\n    { \"name\": ", i ? "," : "");
			pol_json_string(stdout, p->received[i].name);
			printf(", \"kinds\": ");
			pol_json_string(stdout, k);
			printf(", \"modes\": ");
			pol_json_string(stdout, m);
			printf(" }");
		}
		printf(" ],\n  \"seccomp\": { \"default\": ");
		pol_action_format(&p->seccomp.dflt, act, sizeof(act));
		pol_json_string(stdout, act);
		printf(", \"syscalls\": [");
		for (unsigned int i = 0; i < p->seccomp.nrules; i++) {
			const struct pol_rule *r = &p->seccomp.rules[i];

			pol_action_format(&r->action, act, sizeof(act));
			printf("%s\n    { \"name\": ", i ? "," : "");
			pol_json_string(stdout, r->name);
			printf(", \"nr\": %d, \"action\": ", r->nr);
			pol_json_string(stdout, act);
			printf(", \"when\": [");
			for (unsigned int a = 0; a < r->nalt; a++) {
				char buf[512];

				pol_alt_format(p, &r->alt[a], buf, sizeof(buf));
				printf("%s", a ? ", " : "");
				pol_json_string(stdout, buf);
			}
			printf("] }");
		}
		printf(" ] },\n  \"lines\": [");
		pol_canonical(p, json_line, &j);
		printf(" ]\n}\n");
	} else {
		explain_text(p, o);
	}
	pol_free(p);
	return 0;
}

/* ---- diff: the canonical lines of A and B as sets ---- */

struct lines {
	unsigned int n, cap;
	char **v;
	bool oom;
};

static void
collect(const char *line, void *arg)
{
	struct lines *l = arg;

	if (l->n == l->cap) {
		unsigned int cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(line);
	if (!l->v[l->n])
		l->oom = true;
	else
		l->n++;
}

static bool
has(const struct lines *l, const char *s)
{
	for (unsigned int i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static void
lines_free(struct lines *l)
{
	for (unsigned int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int
cmd_diff(const struct opts *o, char **argv)
{
	struct pol_policy *a = load(o, argv[0]), *b = a ? load(o, argv[1]) :
	    NULL;
	struct lines la = { 0 }, lb = { 0 };
	unsigned int changes = 0, n = 0;

	if (!a || !b) {
		pol_free(a);
		return 2;
	}
	pol_canonical(a, collect, &la);
	pol_canonical(b, collect, &lb);
	if (la.oom || lb.oom) {
		fprintf(stderr, PROG ": out of memory\n");
		changes = 1000;
		goto out;
	}
	if (o->json) {
		printf("{ \"a\": ");
		pol_json_string(stdout, argv[0]);
		printf(", \"b\": ");
		pol_json_string(stdout, argv[1]);
		printf(",\n  \"removed\": [");
	}
	for (unsigned int i = 0; i < la.n; i++) {
		if (has(&lb, la.v[i]))
			continue;
		changes++;
		if (o->json) {
			printf("%s\n    ", n++ ? "," : "");
			pol_json_string(stdout, la.v[i]);
		} else {
			printf("- %s\n", la.v[i]);
		}
	}
	if (o->json)
		printf(" ],\n  \"added\": [");
	n = 0;
	for (unsigned int i = 0; i < lb.n; i++) {
		if (has(&la, lb.v[i]))
			continue;
		changes++;
		if (o->json) {
			printf("%s\n    ", n++ ? "," : "");
			pol_json_string(stdout, lb.v[i]);
		} else {
			printf("+ %s\n", lb.v[i]);
		}
	}
	if (o->json)
		printf(" ]\n}\n");
out:
	lines_free(&la);
	lines_free(&lb);
	pol_free(a);
	pol_free(b);
	return changes >= 1000 ? 2 : changes ? 1 : 0;
}

static int
cmd_export(const struct opts *o, char **argv)
{
	struct pol_policy *p;
	int err;

	if (!o->oci) {
		fprintf(stderr, PROG ": export: only --oci is supported\n");
		return 2;
	}
	p = load(o, argv[0]);
	if (!p)
		return 1;
	err = pol_seccomp_oci(p, &o->co, stdout);
	pol_free(p);
	if (err) {
		fprintf(stderr, PROG ": %s: %s\n", argv[0], strerror(-err));
		return 1;
	}
	return 0;
}

/* The sealed program, byte for byte, into a new file. */
static int
write_raw(int fd, size_t len, const char *path)
{
	char *buf = malloc(len);
	FILE *f;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	if (pread(fd, buf, len, 0) != (ssize_t)len) {
		free(buf);
		return -EIO;
	}
	f = fopen(path, "wbx");
	if (!f) {
		err = -errno;
	} else {
		if (fwrite(buf, 1, len, f) != len)
			err = -EIO;
		if (fclose(f) != 0 && !err)
			err = -errno;
	}
	free(buf);
	return err;
}

static int
cmd_bpf(const struct opts *o, char **argv)
{
	struct pol_policy *p = load(o, argv[0]);
	size_t len = 0;
	int fd = -1, err;

	if (!p)
		return 1;
	err = pol_seccomp_memfd(p, &o->co, &fd, &len);
	if (!err && o->output)
		err = write_raw(fd, len, o->output);
	if (fd >= 0)
		close(fd);
	if (!err && o->json) {
		FILE *tmp = tmpfile();
		char line[512];

		if (!tmp) {
			err = -errno;
		} else {
			err = pol_seccomp_pfc(p, &o->co, fileno(tmp));
			rewind(tmp);
			printf("{ \"file\": ");
			pol_json_string(stdout, argv[0]);
			printf(", \"bytes\": %zu, \"instructions\": %zu, "
			    "\"pfc\": [", len, len / 8);
			for (unsigned int n = 0; fgets(line, sizeof(line), tmp);
			    n++) {
				line[strcspn(line, "\n")] = '\0';
				printf("%s\n  ", n ? "," : "");
				pol_json_string(stdout, line);
			}
			printf(" ] }\n");
			fclose(tmp);
		}
	} else if (!err) {
		printf("# %s: %zu BPF instructions (%zu bytes), native "
		    "architecture only\n", argv[0], len / 8, len);
		fflush(stdout);
		err = pol_seccomp_pfc(p, &o->co, STDOUT_FILENO);
	}
	pol_free(p);
	if (err) {
		fprintf(stderr, PROG ": %s: %s\n", argv[0], strerror(-err));
		return 1;
	}
	return 0;
}

static int
cmd_audit(const struct opts *o, char **argv)
{
	struct pol_audit *a;
	struct pol_policy *p;
	char *end;
	long pid;
	int err;

	errno = 0;
	pid = strtol(argv[0], &end, 10);
	if (errno || *end || pid <= 0 || pid > INT_MAX) {
		fprintf(stderr, PROG ": audit: bad pid '%s'\n", argv[0]);
		return 2;
	}
	p = load(o, argv[1]);
	if (!p)
		return 2;
	a = calloc(1, sizeof(*a));
	if (!a) {
		pol_free(p);
		return 2;
	}
	err = pol_audit_pid(p, (int)pid, o->co.range_count, a);
	if (err) {
		fprintf(stderr, PROG ": audit: %s\n", strerror(-err));
	} else if (o->json) {
		printf("{ \"pid\": %ld, \"policy\": ", pid);
		pol_json_string(stdout, argv[1]);
		printf(", \"match\": %s, \"checks\": [",
		    a->match ? "true" : "false");
		for (unsigned int i = 0; i < a->n; i++) {
			printf("%s\n  { \"what\": ", i ? "," : "");
			pol_json_string(stdout, a->item[i].what);
			printf(", \"ok\": %s, \"unavailable\": %s, "
			    "\"detail\": ", a->item[i].ok ? "true" : "false",
			    a->item[i].unavailable ? "true" : "false");
			pol_json_string(stdout, a->item[i].detail);
			printf(" }");
		}
		printf(" ] }\n");
	} else {
		for (unsigned int i = 0; i < a->n; i++)
			printf("%-4s %-16s %s\n", a->item[i].unavailable ?
			    "n/a" : a->item[i].ok ? "ok" : "FAIL",
			    a->item[i].what, a->item[i].detail);
		printf("pid %ld %s %s\n", pid, a->match ? "matches" :
		    "does NOT match", argv[1]);
	}
	err = err ? 2 : a->match ? 0 : 1;
	free(a);
	pol_free(p);
	return err;
}

static const struct {
	const char *name;
	int nargs;
	int (*fn)(const struct opts *, char **);
} cmds[] = {
	{ "check", 1, cmd_check },
	{ "explain", 1, cmd_explain },
	{ "diff", 2, cmd_diff },
	{ "export", 1, cmd_export },
	{ "bpf", 1, cmd_bpf },
	{ "audit", 2, cmd_audit },
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "oci", no_argument, NULL, 'o' },
		{ "disks", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .co = { .range_count = 1 } };
	int c;

	/* options may follow the command too: "export --oci FILE" */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		char *end;
		long v;

		switch (c) {
		case 'j':
			o.json = true;
			break;
		case 'o':
			o.oci = true;
			break;
		case 'O':
			o.output = optarg;
			break;
		case 'd':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > POL_MAX_RANGE_FDS) {
				fprintf(stderr, PROG ": --disks: 0..%d\n",
				    POL_MAX_RANGE_FDS);
				return 2;
			}
			o.co.range_count = (unsigned int)v;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind >= argc)
		usage(2);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[optind], cmds[i].name) != 0)
			continue;
		if (argc - optind - 1 != cmds[i].nargs)
			usage(2);
		return cmds[i].fn(&o, argv + optind + 1);
	}
	fprintf(stderr, PROG ": unknown command '%s'\n", argv[optind]);
	usage(2);
}
