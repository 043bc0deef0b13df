/*
 * bench/seccomp.c: figure 7, what the remote's seccomp program costs per
 * system call. Two children with the same fds at the policy's numbers
 * (fd 3: an idle socketpair end, fd 5: a memfd standing in for the disk),
 * pinned to the same CPU, run the same loops of the remote's own calls:
 *  - recvmsg(3, MSG_DONTWAIT|MSG_CMSG_CLOEXEC) on the empty socket, EAGAIN
 *    (the first call of every wire_recv; a @priority rule),
 *  - pread64(5, 8 bytes) (the disk path; a rule further down the program).
 * One installs policy/lsi-remote.policy's compiled program first (as
 * mpjail-lsi does, through sbx_seccomp_install_fd), the other does not.
 * Each child reports its loop times as 8-byte writes on a pipe (the one
 * write the policy allows it). Test-side code; bounded loops.
 */
#include "bench/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/seccomp.h"

#define CALLS 100000u	/* per repetition */
#define REPS 9

enum call { C_RECVMSG, C_PREAD, C_COUNT };

static const char *const call_name[C_COUNT] = {
	"recvmsg (EAGAIN)", "pread64 8 bytes",
};

static uint64_t
loop(enum call c)
{
	char buf[64];
	uint64_t t0 = bench_now_ns();
	ssize_t sink = 0;

	for (unsigned int i = 0; i < CALLS; i++) {
		if (c == C_RECVMSG) {
			struct iovec iov = { buf, sizeof(buf) };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

			sink += recvmsg(3, &mh, MSG_DONTWAIT |
			    MSG_CMSG_CLOEXEC);
		} else {
			sink += pread(5, buf, 8, 0);
		}
	}
	__asm__ volatile("" : : "r"(sink));
	return bench_now_ns() - t0;
}

/* The child: set up fds, maybe lock down, run, report, exit. */
static void __attribute__((noreturn))
child(int sock, int mem, int bpf, int out)
{
	uint64_t v;

	if (dup2(sock, 3) < 0 || dup2(mem, 5) < 0 || dup2(out, 7) < 0)
		_exit(126);
	if (bpf >= 0 && dup2(bpf, 4) < 0)
		_exit(126);
	close_range(8, ~0u, 0);
	if (bpf >= 0 && sbx_seccomp_install_fd(4) < 0)
		_exit(125);
	for (int r = 0; r < REPS; r++)
		for (int c = 0; c < C_COUNT; c++) {
			v = loop((enum call)c);
			if (write(7, &v, sizeof(v)) != (ssize_t)sizeof(v))
				_exit(124);
		}
	_exit(0);
}

static int
run_child(int sock, int mem, int bpf, uint64_t res[REPS][C_COUNT])
{
	int p[2], st = 0;
	pid_t pid;
	size_t got = 0;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(sock, mem, bpf, p[1]);
	close(p[1]);
	while (got < sizeof(uint64_t) * REPS * C_COUNT) {
		ssize_t r = read(p[0], (char *)res + got,
		    sizeof(uint64_t) * REPS * C_COUNT - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(p[0]);
	waitpid(pid, &st, 0);
	if (got != sizeof(uint64_t) * REPS * C_COUNT)
		return -EIO;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

int
bench_seccomp(int argc, char **argv)
{
	uint64_t plain[REPS][C_COUNT], filt[REPS][C_COUNT];
	int sv[2], mem, bpf = -1, err;
	char data[4096];

	(void)argc;
	(void)argv;
	err = bench_compile_lsi_policy(1, &bpf);
	if (err) {
		bench_skip("seccomp", "lsi-remote.policy", "policy did not compile");
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 1;
	mem = memfd_create("bench-disk", MFD_CLOEXEC);
	memset(data, 0x5a, sizeof(data));
	if (mem < 0 || write(mem, data, sizeof(data)) != (ssize_t)sizeof(data))
		return 1;
	bench_pin_self(1);	/* both children inherit the same CPU */
	/* one after the other on one CPU, each loop repeated REPS times */
	err = run_child(sv[0], mem, -1, plain);
	if (!err)
		err = run_child(sv[0], mem, bpf, filt);
	bench_pin_self(-1);
	if (err) {
		fprintf(stderr, "seccomp: %s\n", strerror(-err));
		bench_skip("seccomp", "lsi-remote.policy", "a child failed");
		return 1;
	}
	for (int c = 0; c < C_COUNT; c++) {
		uint64_t a[REPS], b[REPS];
		struct bench_line l;

		for (int r = 0; r < REPS; r++) {
			a[r] = plain[r][c];
			b[r] = filt[r][c];
		}
		bench_line_start(&l, "seccomp", call_name[c]);
		bench_line_u64(&l, "calls", (uint64_t)CALLS * REPS);
		bench_line_dbl(&l, "plain_ns",
		    (double)bench_pct(a, REPS, 50) / CALLS);
		bench_line_dbl(&l, "filtered_ns",
		    (double)bench_pct(b, REPS, 50) / CALLS);
		bench_line_end(&l);
	}
	close(sv[0]);
	close(sv[1]);
	close(mem);
	close(bpf);
	return 0;
}
