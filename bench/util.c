/*
 * bench/util.c: time, statistics, output lines, CPU pinning and /proc
 * readings for the benchmark harness. Test-side code, runs unconfined;
 * /proc is read with bounded buffers and anything unreadable is -1.
 */
#include "bench/bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policy/policy.h"

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
bench_pct(uint64_t *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	/* nearest rank: the smallest value with p% of samples at or below */
	rank = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/* ---- output ---- */

static void __attribute__((format(printf, 2, 3)))
put(struct bench_line *l, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (l->used >= sizeof(l->buf))
		return;
	va_start(ap, fmt);
	w = vsnprintf(l->buf + l->used, sizeof(l->buf) - l->used, fmt, ap);
	va_end(ap);
	if (w > 0)
		l->used += (size_t)w;
	if (l->used >= sizeof(l->buf))
		l->used = sizeof(l->buf) - 1;
}

/* A JSON string: our own keys and values; anything odd becomes '?'. */
static void
put_json_str(struct bench_line *l, const char *s)
{
	put(l, "\"");
	for (; *s; s++)
		put(l, "%c", (*s >= 0x20 && *s < 0x7f && *s != '"' &&
		    *s != '\\') ? *s : '?');
	put(l, "\"");
}

void
bench_line_start(struct bench_line *l, const char *fig, const char *row)
{
	l->used = 0;
	l->buf[0] = '\0';
	put(l, "BENCH {\"fig\":");
	put_json_str(l, fig);
	put(l, ",\"row\":");
	put_json_str(l, row);
}

void
bench_line_str(struct bench_line *l, const char *key, const char *val)
{
	put(l, ",");
	put_json_str(l, key);
	put(l, ":");
	put_json_str(l, val);
}

void
bench_line_u64(struct bench_line *l, const char *key, uint64_t val)
{
	put(l, ",");
	put_json_str(l, key);
	put(l, ":%llu", (unsigned long long)val);
}

void
bench_line_dbl(struct bench_line *l, const char *key, double val)
{
	put(l, ",");
	put_json_str(l, key);
	put(l, ":%.6g", val);
}

void
bench_line_end(struct bench_line *l)
{
	put(l, "}");
	printf("%s\n", l->buf);
	fflush(stdout);
}

void
bench_skip(const char *fig, const char *row, const char *why)
{
	struct bench_line l;

	bench_line_start(&l, fig, row);
	bench_line_str(&l, "skipped", why);
	bench_line_end(&l);
}

/* ---- CPUs ---- */

static int
set_affinity(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu >= 0) {
		CPU_SET(cpu, &set);
	} else {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		for (long i = 0; i < n && i < CPU_SETSIZE; i++)
			CPU_SET((int)i, &set);
	}
	return sched_setaffinity(tid, sizeof(set), &set) < 0 ? -errno : 0;
}

int
bench_pin_self(int cpu)
{
	return set_affinity(0, cpu);
}

static pid_t
ppid_of(pid_t pid)
{
	char path[64], buf[512];
	ssize_t n;
	int fd;
	char *r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	r = strrchr(buf, ')');
	if (!r || strlen(r) < 5)
		return -1;
	return (pid_t)atoi(r + 4);	/* ") S ppid" */
}

size_t
bench_tree_pids(pid_t root, pid_t *out, size_t max)
{
	enum { SCAN_MAX = 16384 };
	pid_t *all, *par;
	size_t nall = 0, n = 0;
	DIR *d;
	struct dirent *e;

	if (max == 0)
		return 0;
	out[n++] = root;
	all = calloc(SCAN_MAX, sizeof(*all));
	par = calloc(SCAN_MAX, sizeof(*par));
	d = opendir("/proc");
	if (!all || !par || !d)
		goto done;
	while ((e = readdir(d)) && nall < SCAN_MAX) {
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 0)
			continue;
		all[nall] = pid;
		par[nall] = ppid_of(pid);
		nall++;
	}
	/* breadth first: out[] grows as children of its members are found */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nall && n < max; k++)
			if (par[k] == out[i])
				out[n++] = all[k];
done:
	if (d)
		closedir(d);
	free(all);
	free(par);
	return n;
}

int
bench_pin_tree(pid_t root, int cpu)
{
	pid_t pids[64];
	size_t n = bench_tree_pids(root, pids, 64);
	int pinned = 0;

	for (size_t i = 0; i < n; i++) {
		char path[64];
		DIR *d;
		struct dirent *e;

		snprintf(path, sizeof(path), "/proc/%d/task", (int)pids[i]);
		d = opendir(path);
		if (!d)
			continue;
		while ((e = readdir(d))) {
			pid_t tid = (pid_t)atoi(e->d_name);

			if (tid > 0 && set_affinity(tid, cpu) == 0)
				pinned++;
		}
		closedir(d);
	}
	return pinned > 0 ? pinned : -ESRCH;
}

/* The text after "key:" on its line of a /proc file, into val. */
static bool
proc_field(const char *path, const char *key, char *val, size_t len)
{
	char line[512];
	size_t klen = strlen(key);
	FILE *f = fopen(path, "re");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			char *v = line + klen + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(val, len, "%s", v);
			found = true;
		}
	}
	fclose(f);
	return found;
}

void
bench_cpus_allowed(pid_t pid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!proc_field(path, "Cpus_allowed_list", buf, len))
		snprintf(buf, len, "?");
}

static long
kb_field(const char *path, const char *key)
{
	char val[128];

	if (!proc_field(path, key, val, sizeof(val)))
		return -1;
	return atol(val);
}

long
bench_status_kb(pid_t pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	return kb_field(path, key);
}

long
bench_rollup_kb(pid_t pid, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	return kb_field(path, key);
}

long
bench_mem_available_kb(void)
{
	return kb_field("/proc/meminfo", "MemAvailable");
}

/* ---- peers ---- */

int
bench_compile_lsi_policy(unsigned int disks, int *bpf_fd)
{
	struct pol_policy *pol = NULL;
	struct pol_diags diags;
	struct pol_compile_opts o = { .range_count = disks };
	struct pol_compiled *c;
	int err;

	memset(&diags, 0, sizeof(diags));
	err = pol_parse_file("policy/lsi-remote.policy", &pol, &diags);
	if (err) {
		pol_diags_print(&diags, stderr);
		return err;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		pol_free(pol);
		return -ENOMEM;
	}
	err = pol_compile(pol, &o, c);
	pol_free(pol);
	if (err) {
		free(c);
		return err;
	}
	*bpf_fd = fcntl(c->seccomp_fd, F_DUPFD_CLOEXEC, 10);
	err = *bpf_fd < 0 ? -errno : 0;
	pol_compiled_release(c);
	free(c);
	return err;
}

int
bench_start_lsi_seccomp(struct peer *p, int bpf_fd)
{
	char lsi[4096];
	int sv[2], ep[2];
	pid_t pid;

	peer_build_path("mpjail-lsi", lsi, sizeof(lsi));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char *argv[] = { lsi, "--socket-fd", "3", "--seccomp-fd", "4",
		    NULL };
		int s = fcntl(sv[1], F_DUPFD, 20), b = fcntl(bpf_fd, F_DUPFD, 20);
		int null = open("/dev/null", O_RDWR);

		if (s < 0 || b < 0 || null < 0 || dup2(null, 0) < 0 ||
		    dup2(null, 1) < 0 || dup2(ep[1], 2) < 0 ||
		    dup2(s, 3) < 0 || dup2(b, 4) < 0)
			_exit(126);
		close_range(5, ~0u, 0);
		execv(lsi, argv);
		_exit(127);
	}
	close(sv[1]);
	close(ep[1]);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	memset(p, 0, sizeof(*p));
	p->name = "mpjail-lsi (seccomp only)";
	p->pid = pid;
	p->sock = sv[0];
	p->err_fd = ep[0];
	p->out_fd = -1;
	p->in_fd = -1;
	return 0;
}

void
bench_stop(struct peer *p)
{
	if (p->pid > 0)
		peer_stop(p, 5000, NULL);
	else if (p->sock >= 0)
		close(p->sock);
	if (p->err_fd >= 0) {
		close(p->err_fd);
		p->err_fd = -1;
	}
}
