/*
 * bench/spawn.c: figure 5 (from starting a confined remote to its first
 * answered config read) and figure 6 (density: 64, 128, 256 confined
 * remotes alive at once, each answering; their memory and spawn time).
 * The confined remote is spawned as the broker spawns it: the policy is
 * compiled once, then per remote a jail from the policy (tenant uid, the
 * policy's fds at their numbers, mpjail-lsi bound read-only at
 * /mpjail-lsi in an empty root) and sbx_spawn. For comparison: the same
 * through mpjail-run (which parses and compiles the policy every time),
 * mpjail-lsi plainly forked, and QEMU's own remote.
 * Test-side code, as root; it kills only the pids it started, and every
 * wait is bounded.
 */
#include "bench/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mpjail-proxy.h"
#include "policy/policy.h"
#include "sandbox/spawn.h"
#include "tests/lib/jail.h"

#define LSI_AT "/mpjail-lsi"
#define TENANT_BASE 230000u	/* density: one tenant uid per remote */
#define SPAWN_ITERS 50
#define SPAWN_RUN_ITERS 20
#define SPAWN_QEMU_ITERS 10
#define ROW_NS (25ull * 1000 * 1000 * 1000)	/* bound per spawn row */
#define LSI_ID 0x00121000u	/* config dword 0: LSI53C895A */

/* What the broker holds once per VM: the compiled policy and its fds. */
struct broker_ctx {
	struct pol_compiled *c;
	struct sbx_jail *jail;	/* scratch, large */
	char lsi[4096];
	int null_fd;
	int err_r, err_w;	/* one stderr pipe for every remote */
	int image_fd;
	char image[128];
};

static int
ctx_open(struct broker_ctx *x)
{
	struct pol_policy *pol = NULL;
	struct pol_diags diags;
	struct pol_compile_opts o = { .range_count = 1 };
	int p[2], err;
	char path[4096];

	memset(x, 0, sizeof(*x));
	x->null_fd = x->err_r = x->err_w = x->image_fd = -1;
	peer_build_path("mpjail-lsi", path, sizeof(path));
	if (!realpath(path, x->lsi))
		return -errno;
	x->c = calloc(1, sizeof(*x->c));
	x->jail = calloc(1, sizeof(*x->jail));
	if (!x->c || !x->jail)
		return -ENOMEM;
	x->c->seccomp_fd = -1;
	memset(&diags, 0, sizeof(diags));
	err = pol_parse_file(jail_policy_path(), &pol, &diags);
	if (err) {
		pol_diags_print(&diags, stderr);
		return err;
	}
	err = pol_compile(pol, &o, x->c);
	pol_free(pol);
	if (err)
		return err;
	x->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (x->null_fd < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	x->err_r = p[0];
	x->err_w = p[1];
	fcntl(x->err_r, F_SETFL, O_NONBLOCK);
	snprintf(x->image, sizeof(x->image), "/dev/shm/mpjail-bench-spawn-XXXXXX");
	x->image_fd = mkostemp(x->image, O_CLOEXEC);
	if (x->image_fd < 0 || ftruncate(x->image_fd, 16 << 20) < 0)
		return -errno;
	return 0;
}

static void
ctx_close(struct broker_ctx *x)
{
	if (x->c) {
		pol_compiled_release(x->c);
		free(x->c);
	}
	free(x->jail);
	for (int *fd = &x->null_fd; fd <= &x->image_fd; fd++)
		if (*fd >= 0)
			close(*fd);
	if (x->image[0])
		unlink(x->image);
}

/* Whatever the remotes logged: drained so the pipe never fills. */
static void
drain(struct broker_ctx *x)
{
	char buf[4096];

	while (read(x->err_r, buf, sizeof(buf)) > 0)
		;
}

/* One remote, as brk_launch_remote builds it. *sock: our end. */
static int
spawn_jailed(struct broker_ctx *x, uid_t uid, pid_t *pid, int *sock)
{
	char *argv[] = { LSI_AT, "--socket-fd", "3", "--seccomp-fd", "4",
	    "--disk-fd", "5", NULL };
	char why[256];
	bool nproc_set;
	rlim_t nproc;
	int sv[2], err;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	err = sbx_jail_from_policy(x->jail, x->c, uid, uid, &nproc,
	    &nproc_set);
	if (!err)
		err = sbx_jail_add_fd(x->jail, x->null_fd, 0);
	if (!err)
		err = sbx_jail_add_fd(x->jail, x->null_fd, 1);
	if (!err)
		err = sbx_jail_add_fd(x->jail, x->err_w, 2);
	if (!err)
		err = sbx_jail_add_fd(x->jail, sv[1], 3);
	if (!err)
		err = sbx_jail_add_fd(x->jail, x->c->seccomp_fd, 4);
	if (!err)
		err = sbx_jail_add_fd(x->jail, x->image_fd, 5);
	if (!err)
		err = sbx_jail_add_bind(x->jail, SBX_BIND_RO, x->lsi, LSI_AT);
	if (!err) {
		err = sbx_spawn(x->jail, argv, pid, why, sizeof(why));
		if (err)
			fprintf(stderr, "spawn: %s\n", why);
	}
	close(sv[1]);
	if (err) {
		close(sv[0]);
		return err;
	}
	*sock = sv[0];
	return 0;
}

/* Attach and read config dword 0; it must name the LSI53C895A. */
static int
first_answer(int sock)
{
	struct proxy_dev *dev;
	uint32_t id = 0;
	int err = proxy_attach(&dev, sock, 5000);

	if (err)
		return err;
	err = proxy_config_read(dev, 0, 4, &id);
	proxy_detach(dev);
	if (!err && id != LSI_ID)
		err = -EPROTO;
	return err;
}

/* Close our end, wait for pid (bounded), kill it if it stays. */
static void
reap(pid_t pid, int sock, int timeout_ms)
{
	close(sock);
	for (int waited = 0; waited < timeout_ms; waited += 2) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(2000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---- figure 5 ---- */

enum how { H_BROKER, H_RUN, H_PLAIN, H_QEMU };

static int
spawn_once(struct broker_ctx *x, enum how h, uint64_t *ns)
{
	struct peer p;
	uint64_t t0 = bench_now_ns();
	pid_t pid = -1;
	int sock = -1, err;

	memset(&p, 0, sizeof(p));
	p.err_fd = p.out_fd = p.in_fd = -1;
	switch (h) {
	case H_BROKER:
		err = spawn_jailed(x, TENANT_BASE - 1, &pid, &sock);
		break;
	case H_RUN:
		err = jail_start_mpjail_lsi(&p, x->image, false);
		break;
	case H_PLAIN:
		err = peer_start_mpjail_lsi_disk(&p, x->image, false);
		break;
	case H_QEMU:
	default:
		err = peer_start_qemu_remote(&p, x->image);
		break;
	}
	if (h != H_BROKER) {
		pid = p.pid;
		sock = p.sock;
	}
	if (!err)
		err = first_answer(sock);
	*ns = bench_now_ns() - t0;
	if (h == H_BROKER) {
		if (pid > 0)
			reap(pid, sock, 5000);
	} else {
		bench_stop(&p);
	}
	drain(x);
	return err;
}

int
bench_spawn(int argc, char **argv)
{
	static const struct {
		enum how h;
		const char *row;
		int iters;
		bool root;
	} rows[] = {
		{ H_BROKER, "jailed, as the broker (sbx_spawn)", SPAWN_ITERS, true },
		{ H_RUN, "jailed, through mpjail-run", SPAWN_RUN_ITERS, true },
		{ H_PLAIN, "mpjail-lsi unconfined (fork+exec)", SPAWN_ITERS, false },
		{ H_QEMU, "qemu-remote unconfined (fork+exec, QMP ready)",
		    SPAWN_QEMU_ITERS, false },
	};
	struct broker_ctx x;
	int err;

	(void)argc;
	(void)argv;
	bench_pin_self(-1);
	err = ctx_open(&x);
	if (err) {
		fprintf(stderr, "spawn: set-up: %s\n", strerror(-err));
		ctx_close(&x);
		return 1;
	}
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		uint64_t t[SPAWN_ITERS], start = bench_now_ns(), sum = 0;
		size_t n = 0;
		struct bench_line l;

		if (rows[r].root && geteuid() != 0) {
			bench_skip("spawn", rows[r].row, "needs root");
			continue;
		}
		/* one unmeasured start: page cache, bwrap's first exec */
		if (spawn_once(&x, rows[r].h, &t[0]) == 0)
			while (n < (size_t)rows[r].iters &&
			    bench_now_ns() - start < ROW_NS) {
				err = spawn_once(&x, rows[r].h, &t[n]);
				if (err)
					break;
				sum += t[n++];
			}
		else
			err = -EIO;
		if (err || n == 0) {
			fprintf(stderr, "spawn: %s: %s\n", rows[r].row,
			    strerror(-err));
			bench_skip("spawn", rows[r].row, "start failed");
			continue;
		}
		bench_line_start(&l, "spawn", rows[r].row);
		bench_line_u64(&l, "n", n);
		bench_line_dbl(&l, "mean_ns", (double)sum / (double)n);
		bench_line_u64(&l, "median_ns", bench_pct(t, n, 50));
		bench_line_u64(&l, "p99_ns", bench_pct(t, n, 99));
		bench_line_end(&l);
	}
	ctx_close(&x);
	return 0;
}

/* ---- figure 6 ---- */

static bool
comm_is(pid_t pid, const char *want)
{
	char path[64], buf[64] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, want) == 0;
}

/* Still there and not a zombie. */
static bool
alive(pid_t pid)
{
	char path[64], buf[256];
	ssize_t n;
	int fd;
	char *r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	r = strrchr(buf, ')');
	return r && r[1] == ' ' && r[2] != 'Z' && r[2] != 'X';
}

static int
density(struct broker_ctx *x, unsigned int count)
{
	pid_t *pid = calloc(count, sizeof(*pid));
	int *sock = calloc(count, sizeof(*sock));
	uint64_t *spawn_ns = calloc(count, sizeof(*spawn_ns));
	pid_t *tree_all = calloc((size_t)count * 4, sizeof(*tree_all));
	size_t ntree = 0;
	long avail0, avail1, pss_all = 0, pss_lsi = 0, rss_lsi = 0;
	unsigned int started = 0, answered = 0, nproc = 0, nlsi = 0;
	uint64_t t0, t_spawned, t_answered;
	char row[32];
	struct bench_line l;
	int err = 0;

	snprintf(row, sizeof(row), "%u remotes", count);
	if (!pid || !sock || !spawn_ns || !tree_all) {
		free(tree_all);
		free(pid);
		free(sock);
		free(spawn_ns);
		return -ENOMEM;
	}
	drain(x);
	avail0 = bench_mem_available_kb();
	t0 = bench_now_ns();
	for (; started < count; started++) {
		uint64_t s = bench_now_ns();

		err = spawn_jailed(x, TENANT_BASE + started, &pid[started],
		    &sock[started]);
		if (err)
			break;
		spawn_ns[started] = bench_now_ns() - s;
		if (started % 16 == 0)
			drain(x);
	}
	t_spawned = bench_now_ns();
	for (; !err && answered < started; answered++) {
		err = first_answer(sock[answered]);
		drain(x);
	}
	t_answered = bench_now_ns();
	if (!err) {
		avail1 = bench_mem_available_kb();
		for (unsigned int i = 0; i < started; i++) {
			pid_t tree[16];
			size_t n = bench_tree_pids(pid[i], tree, 16);

			for (size_t k = 0; k < n; k++) {
				long pss = bench_rollup_kb(tree[k], "Pss");

				if (ntree < (size_t)count * 4)
					tree_all[ntree++] = tree[k];
				nproc++;
				pss_all += pss > 0 ? pss : 0;
				if (comm_is(tree[k], "mpjail-lsi")) {
					nlsi++;
					pss_lsi += pss > 0 ? pss : 0;
					rss_lsi += bench_status_kb(tree[k],
					    "VmRSS");
				}
			}
		}
		bench_line_start(&l, "density", row);
		bench_line_u64(&l, "count", count);
		bench_line_u64(&l, "alive_lsi", nlsi);
		bench_line_u64(&l, "processes", nproc);
		bench_line_u64(&l, "spawn_median_ns", bench_pct(spawn_ns,
		    started, 50));
		bench_line_u64(&l, "spawn_all_ns", t_spawned - t0);
		bench_line_u64(&l, "all_answered_ns", t_answered - t0);
		bench_line_dbl(&l, "pss_all_kb", (double)pss_all);
		bench_line_dbl(&l, "pss_lsi_kb", (double)pss_lsi);
		bench_line_dbl(&l, "rss_lsi_kb", (double)rss_lsi);
		bench_line_dbl(&l, "memavail_delta_kb", (double)(avail0 - avail1));
		bench_line_end(&l);
	} else {
		fprintf(stderr, "density: %u: %u started, %u answered: %s\n",
		    count, started, answered, strerror(-err));
		bench_skip("density", row, "not every remote started");
	}
	/* close every socket first: the remotes exit together */
	for (unsigned int i = 0; i < started; i++) {
		close(sock[i]);
		sock[i] = -1;
	}
	for (int waited = 0; waited < 15000; waited += 5) {
		unsigned int left = 0;

		for (unsigned int i = 0; i < started; i++) {
			if (pid[i] > 0 && waitpid(pid[i], NULL, WNOHANG) == pid[i])
				pid[i] = -1;
			left += pid[i] > 0;
		}
		if (!left)
			break;
		drain(x);
		usleep(5000);
	}
	for (unsigned int i = 0; i < started; i++)
		if (pid[i] > 0) {
			kill(pid[i], SIGKILL);
			waitpid(pid[i], NULL, 0);
		}
	/* bubblewrap's children leave after it: wait for every one we saw */
	for (int waited = 0; waited < 10000; waited += 10) {
		size_t left = 0;

		/* orphans come to us (child subreaper): reap them */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		for (size_t k = 0; k < ntree; k++)
			left += alive(tree_all[k]);
		if (!left)
			break;
		usleep(10000);
	}
	free(tree_all);
	free(pid);
	free(sock);
	free(spawn_ns);
	return err;
}

int
bench_density(int argc, char **argv)
{
	static const unsigned int counts[] = { 64, 128, 256 };
	struct broker_ctx x;
	int err;

	(void)argc;
	(void)argv;
	if (geteuid() != 0) {
		for (size_t i = 0; i < 3; i++) {
			char row[32];

			snprintf(row, sizeof(row), "%u remotes", counts[i]);
			bench_skip("density", row, "needs root");
		}
		return 0;
	}
	bench_pin_self(-1);
	/* bubblewrap's inner processes outlive its monitor by a moment:
	   they are reparented to us, and reaped here, not left to init */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	err = ctx_open(&x);
	if (err) {
		fprintf(stderr, "density: set-up: %s\n", strerror(-err));
		ctx_close(&x);
		return 1;
	}
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if (density(&x, counts[i]))
			break;
	ctx_close(&x);
	return 0;
}
