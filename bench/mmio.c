/*
 * bench/mmio.c: figure 1, the MMIO round trip. A BAR read and a BAR write
 * of SCRATCHA through BAR1, timed one by one through libmpjail-proxy,
 * against each remote and against two floors:
 *  - floor: a bare socketpair ping-pong, 16+24 bytes out and 16+8 back,
 *    one write() and one read() a side (the least a round trip costs);
 *  - codec echo: libmpjail-proxy against a peer that answers every message
 *    with wire_recv/wire_send and does nothing else (the protocol's own
 *    syscalls, no device).
 * Every peer is started once; for each placement (one CPU for both, and
 * one CPU each) every thread of every peer's process tree and this process
 * are pinned, and the peers are measured in interleaved rounds, so a burst
 * of load from elsewhere on the machine spreads over all of them.
 * Test-side code; every loop is bounded in count and in time.
 */
#include "bench/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mpjail-proxy-lsi.h"
#include "mpjail-proxy.h"
#include "tests/lib/jail.h"
#include "wire/wire.h"

#define REG_SCRATCHA 0x34
#define ROUNDS 5
#define PER_ROUND 3000		/* accesses of each kind per peer per round */
#define WARMUP 300
#define ROUND_NS (1500ull * 1000 * 1000)	/* time bound per peer/round */

enum kind { K_FLOOR, K_CODEC, K_DEVICE };

struct mpeer {
	const char *row;
	enum kind kind;
	struct peer p;
	bool up;
	pid_t remote_pid;	/* the process that answers (for Cpus_allowed) */
	struct proxy_dev *dev;
	struct proxy_lsi *hba;
	uint64_t mmio;
	uint64_t *lat[2];	/* read, write */
	size_t n[2];
};

/* ---- the two floors, as forked children ---- */

static bool
full_io(int fd, void *buf, size_t len, bool wr)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = wr ? write(fd, (char *)buf + done, len - done) :
		    read(fd, (char *)buf + done, len - done);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return false;
		}
		done += (size_t)r;
	}
	return true;
}

static void __attribute__((noreturn))
floor_echo(int sock)
{
	uint8_t req[16 + 24], rep[16 + 8];
	uint32_t ret_hdr[4] = { WIRE_RET, 8, 0, 0 };

	memset(rep, 0, sizeof(rep));
	memcpy(rep, ret_hdr, sizeof(ret_hdr));
	while (full_io(sock, req, sizeof(req), false))
		if (!full_io(sock, rep, sizeof(rep), true))
			break;
	_exit(0);
}

static void __attribute__((noreturn))
codec_echo(int sock)
{
	struct wire_msg m, r;

	while (wire_recv(sock, &m, WIRE_NO_DEADLINE) == 1) {
		wire_msg_close_fds(&m);
		wire_msg_ret(&r, 0);
		if (wire_send(sock, &r, WIRE_NO_DEADLINE) < 0)
			break;
	}
	_exit(0);
}

static int
start_echo(struct peer *p, enum kind k)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* nothing of ours but its own socket: other peers must see EOF */
		if (dup2(sv[1], 3) < 0)
			_exit(126);
		close_range(4, ~0u, 0);
		if (k == K_FLOOR)
			floor_echo(3);
		codec_echo(3);
	}
	close(sv[1]);
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->sock = sv[0];
	p->err_fd = p->out_fd = p->in_fd = -1;
	return 0;
}

/* One floor round trip, as the client side of the ping-pong. */
static int
floor_rt(int sock, bool wr)
{
	uint8_t req[16 + 24], rep[16 + 8];
	uint32_t hdr[4] = { wr ? WIRE_BAR_WRITE : WIRE_BAR_READ, 24, 0, 0 };

	memset(req, 0, sizeof(req));
	memcpy(req, hdr, sizeof(hdr));
	if (!full_io(sock, req, sizeof(req), true) ||
	    !full_io(sock, rep, sizeof(rep), false))
		return -EPIPE;
	return 0;
}

static int
one_access(struct mpeer *m, bool wr, uint32_t i)
{
	uint64_t v;

	if (m->kind == K_FLOOR)
		return floor_rt(m->p.sock, wr);
	if (wr)
		return proxy_bar_write(m->dev, PROXY_SPACE_MEMORY,
		    m->mmio + REG_SCRATCHA, 4, i);
	return proxy_bar_read(m->dev, PROXY_SPACE_MEMORY,
	    m->mmio + REG_SCRATCHA, 4, &v);
}

/* ---- set-up ---- */

static int
bring_up(struct mpeer *m, const char *image, int bpf)
{
	int err;

	switch (m->kind) {
	case K_FLOOR:
	case K_CODEC:
		err = start_echo(&m->p, m->kind);
		m->remote_pid = m->p.pid;
		break;
	case K_DEVICE:
	default:
		if (!strcmp(m->row, "qemu-remote"))
			err = peer_start_qemu_remote(&m->p, image);
		else if (!strcmp(m->row, "mpjail-lsi jailed"))
			err = jail_start_mpjail_lsi(&m->p, NULL, false);
		else if (!strcmp(m->row, "mpjail-lsi seccomp"))
			err = bench_start_lsi_seccomp(&m->p, bpf);
		else
			err = peer_start_mpjail_lsi(&m->p);
		break;
	}
	if (err)
		return err;
	m->up = true;
	if (m->kind == K_FLOOR)
		return 0;
	err = proxy_attach(&m->dev, m->p.sock, 5000);
	if (err)
		return err;
	if (m->kind == K_CODEC)
		return 0;
	err = proxy_lsi_open(&m->hba, m->dev, NULL);
	if (err)
		return err;
	m->mmio = 0xfebfe000;	/* the driver model's default BAR1 */
	if (!strcmp(m->row, "mpjail-lsi jailed"))
		m->remote_pid = jail_find_remote(&m->p, 5000);
	else
		m->remote_pid = m->p.pid;
	/* the register really is storage: write, read back */
	{
		uint64_t v = 0;

		err = proxy_bar_write(m->dev, PROXY_SPACE_MEMORY,
		    m->mmio + REG_SCRATCHA, 4, 0x5a5aa5a5);
		if (!err)
			err = proxy_bar_read(m->dev, PROXY_SPACE_MEMORY,
			    m->mmio + REG_SCRATCHA, 4, &v);
		if (!err && v != 0x5a5aa5a5)
			err = -EPROTO;
	}
	return err;
}

static void
tear_down(struct mpeer *m)
{
	if (m->hba)
		proxy_lsi_close(m->hba);
	if (m->dev)
		proxy_detach(m->dev);
	m->hba = NULL;
	m->dev = NULL;
	if (m->up)
		bench_stop(&m->p);
	m->up = false;
}

/* ---- measuring ---- */

static int
round_of(struct mpeer *m, size_t cap)
{
	uint64_t start = bench_now_ns();
	int err;

	for (uint32_t i = 0; i < WARMUP; i++) {
		err = one_access(m, i & 1, i);
		if (err)
			return err;
	}
	for (int k = 0; k < 2; k++) {
		for (uint32_t i = 0; i < PER_ROUND && m->n[k] < cap; i++) {
			uint64_t t0 = bench_now_ns(), t1;

			err = one_access(m, k == 1, i);
			t1 = bench_now_ns();
			if (err)
				return err;
			m->lat[k][m->n[k]++] = t1 - t0;
			if (t1 - start > ROUND_NS)
				break;
		}
	}
	return 0;
}

/* "/autogroup-810 nice 0" -> "/autogroup-810", or "?". */
static void
autogroup(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/autogroup", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "?");
	buf[strcspn(buf, " \n")] = '\0';
	if (f)
		fclose(f);
}

static void
report(struct mpeer *m, const char *placement, int ccpu, int rcpu)
{
	static const char *const ops[2] = { "read", "write" };
	char allowed[64], ours[64], theirs[64];

	bench_cpus_allowed(m->remote_pid, allowed, sizeof(allowed));
	/* a new session is a new scheduler autogroup: another CFS group */
	autogroup(getpid(), ours, sizeof(ours));
	autogroup(m->remote_pid, theirs, sizeof(theirs));
	for (int k = 0; k < 2; k++) {
		struct bench_line l;
		double sum = 0;

		for (size_t i = 0; i < m->n[k]; i++)
			sum += (double)m->lat[k][i];
		bench_line_start(&l, "mmio", m->row);
		bench_line_str(&l, "placement", placement);
		bench_line_str(&l, "op", ops[k]);
		bench_line_u64(&l, "client_cpu", (uint64_t)ccpu);
		bench_line_u64(&l, "remote_cpu", (uint64_t)rcpu);
		bench_line_str(&l, "remote_cpus_allowed", allowed);
		bench_line_str(&l, "autogroup", strcmp(ours, theirs) ?
		    "own" : "client's");
		bench_line_u64(&l, "n", m->n[k]);
		bench_line_dbl(&l, "mean_ns", m->n[k] ? sum / (double)m->n[k] : 0);
		bench_line_u64(&l, "median_ns", bench_pct(m->lat[k], m->n[k], 50));
		bench_line_u64(&l, "p99_ns", bench_pct(m->lat[k], m->n[k], 99));
		bench_line_end(&l);
	}
}

int
bench_mmio(int argc, char **argv)
{
	struct mpeer peers[] = {
		{ .row = "floor", .kind = K_FLOOR },
		{ .row = "codec echo", .kind = K_CODEC },
		{ .row = "mpjail-lsi", .kind = K_DEVICE },
		{ .row = "mpjail-lsi seccomp", .kind = K_DEVICE },
		{ .row = "mpjail-lsi jailed", .kind = K_DEVICE },
		{ .row = "qemu-remote", .kind = K_DEVICE },
	};
	const size_t np = sizeof(peers) / sizeof(peers[0]);
	const size_t cap = (size_t)ROUNDS * PER_ROUND;
	static const struct {
		const char *name;
		int client, remote;
	} placements[] = { { "one CPU", 1, 1 }, { "two CPUs", 0, 1 } };
	char image[4096];
	int bpf = -1, err;
	bool root = geteuid() == 0;

	(void)argc;
	(void)argv;
	snprintf(image, sizeof(image), "/dev/shm/mpjail-bench-mmio-XXXXXX");
	{
		int fd = mkstemp(image);

		if (fd < 0 || ftruncate(fd, 16 << 20) < 0) {
			fprintf(stderr, "mmio: image: %s\n", strerror(errno));
			return 1;
		}
		close(fd);
	}
	err = bench_compile_lsi_policy(0, &bpf);
	if (err)
		fprintf(stderr, "mmio: policy: %s\n", strerror(-err));
	bench_pin_self(-1);
	for (size_t i = 0; i < np; i++) {
		struct mpeer *m = &peers[i];

		if (!strcmp(m->row, "mpjail-lsi jailed") && !root) {
			bench_skip("mmio", m->row, "needs root");
			continue;
		}
		if (!strcmp(m->row, "mpjail-lsi seccomp") && bpf < 0) {
			bench_skip("mmio", m->row, "policy did not compile");
			continue;
		}
		err = bring_up(m, image, bpf);
		if (err) {
			char e[512] = "";

			if (m->p.err_fd >= 0)
				peer_stderr(&m->p, e, sizeof(e));
			fprintf(stderr, "mmio: %s: start: %s %s\n", m->row,
			    strerror(-err), e);
			tear_down(m);
			bench_skip("mmio", m->row, "did not start");
		}
	}
	for (size_t pl = 0; pl < 2; pl++) {
		for (size_t i = 0; i < np; i++) {
			peers[i].n[0] = peers[i].n[1] = 0;
			if (!peers[i].up)
				continue;
			for (int k = 0; k < 2; k++) {
				free(peers[i].lat[k]);
				peers[i].lat[k] = calloc(cap, sizeof(uint64_t));
			}
			bench_pin_tree(peers[i].p.pid, placements[pl].remote);
		}
		bench_pin_self(placements[pl].client);
		for (int r = 0; r < ROUNDS; r++) {
			for (size_t i = 0; i < np; i++) {
				if (!peers[i].up || !peers[i].lat[0] ||
				    !peers[i].lat[1])
					continue;
				err = round_of(&peers[i], cap);
				if (err) {
					fprintf(stderr, "mmio: %s: %s\n",
					    peers[i].row, strerror(-err));
					tear_down(&peers[i]);
					bench_skip("mmio", peers[i].row,
					    "round trip failed");
				}
			}
		}
		for (size_t i = 0; i < np; i++)
			if (peers[i].up)
				report(&peers[i], placements[pl].name,
				    placements[pl].client,
				    placements[pl].remote);
	}
	bench_pin_self(-1);
	for (size_t i = 0; i < np; i++) {
		tear_down(&peers[i]);
		free(peers[i].lat[0]);
		free(peers[i].lat[1]);
	}
	if (bpf >= 0)
		close(bpf);
	unlink(image);
	return 0;
}
