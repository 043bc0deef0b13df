/*
 * tests/unit/test_wire.c: the mpqemu codec. Every message type
 * round-trips; every malformed form is refused with its own error; no fd
 * survives a refused message (counted in /proc/self/fd).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "wire/wire.h"

struct pair {
	int a, b;
};

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

static int
setup_pair(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	int sv[2];

	if (!p || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	p->a = sv[0];
	p->b = sv[1];
	*state = p;
	return 0;
}

static int
teardown_pair(void **state)
{
	struct pair *p = *state;

	if (p->a >= 0)
		close(p->a);
	if (p->b >= 0)
		close(p->b);
	free(p);
	return 0;
}

static void
same_file(int x, int y)
{
	struct stat sx, sy;

	assert_int_equal(fstat(x, &sx), 0);
	assert_int_equal(fstat(y, &sy), 0);
	assert_true(sx.st_dev == sy.st_dev && sx.st_ino == sy.st_ino);
}

static void
roundtrip(struct pair *p, const struct wire_msg *out, struct wire_msg *in)
{
	assert_int_equal(wire_send(p->a, out, 1000), 0);
	assert_int_equal(wire_recv(p->b, in, 1000), 1);
	assert_int_equal(in->cmd, out->cmd);
	assert_int_equal(in->size, out->size);
	assert_memory_equal(in->body.raw, out->body.raw, out->size);
	assert_int_equal(in->nfds, out->nfds);
}

static void
test_roundtrip_every_command(void **state)
{
	struct pair *p = *state;
	struct wire_msg out, in;
	int base = count_fds();

	/* SYNC_SYSMEM with two regions of one memfd, as QEMU sends it. */
	int mfd = memfd_create("ram", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	wire_msg_init(&out, WIRE_SYNC_SYSMEM);
	out.body.sysmem.gpa[0] = 0;
	out.body.sysmem.size[0] = 0xc0000;
	out.body.sysmem.gpa[1] = 0x100000;
	out.body.sysmem.size[1] = 0xff00000;
	out.body.sysmem.offset[1] = 0x100000;
	out.fds[0] = out.fds[1] = mfd;
	out.nfds = 2;
	roundtrip(p, &out, &in);
	same_file(in.fds[0], mfd);
	same_file(in.fds[1], mfd);
	assert_true(fcntl(in.fds[0], F_GETFD) & FD_CLOEXEC);
	wire_msg_close_fds(&in);
	close(mfd);

	wire_msg_ret(&out, 0x1000);
	roundtrip(p, &out, &in);
	assert_int_equal(in.body.ret, 0x1000);

	wire_msg_init(&out, WIRE_RET); /* the DEVICE_RESET reply: no body */
	out.size = 0;
	roundtrip(p, &out, &in);

	for (uint32_t cmd = WIRE_PCI_CFGWRITE; cmd <= WIRE_PCI_CFGREAD; cmd++) {
		wire_msg_init(&out, cmd);
		out.body.conf.addr = 0x10;
		out.body.conf.val = 0xffffffff;
		out.body.conf.len = 4;
		roundtrip(p, &out, &in);
	}
	for (uint32_t cmd = WIRE_BAR_WRITE; cmd <= WIRE_BAR_READ; cmd++) {
		wire_msg_init(&out, cmd);
		out.body.bar.addr = 0xfebfe034;
		out.body.bar.val = 0x12345678;
		out.body.bar.size = 4;
		out.body.bar.memory = 1;
		roundtrip(p, &out, &in);
	}

	int e1 = eventfd(0, EFD_CLOEXEC), e2 = eventfd(0, EFD_CLOEXEC);
	wire_msg_init(&out, WIRE_SET_IRQFD);
	out.fds[0] = e1;
	out.fds[1] = e2;
	out.nfds = 2;
	roundtrip(p, &out, &in);
	same_file(in.fds[0], e1);
	same_file(in.fds[1], e2);
	wire_msg_close_fds(&in);
	close(e1);
	close(e2);

	wire_msg_init(&out, WIRE_DEVICE_RESET);
	roundtrip(p, &out, &in);

	assert_int_equal(count_fds(), base);
}

/* The header exactly as QEMU lays it out: int cmd, pad, u64 size. */
static void
put_hdr(uint8_t *buf, uint32_t cmd, uint64_t size)
{
	memset(buf, 0, 16);
	memcpy(buf, &cmd, 4);
	memcpy(buf + 8, &size, 8);
}

static void
test_header_layout(void **state)
{
	struct pair *p = *state;
	struct wire_msg out;
	uint8_t got[16 + 24], want[16];

	wire_msg_init(&out, WIRE_BAR_READ);
	out.body.bar.addr = 0x1122334455667788ull;
	out.body.bar.size = 2;
	out.body.bar.memory = 1;
	assert_int_equal(wire_send(p->a, &out, 1000), 0);
	assert_int_equal(recv(p->b, got, sizeof(got), MSG_WAITALL), sizeof(got));
	put_hdr(want, 5, 24);
	assert_memory_equal(got, want, 16);
	assert_int_equal(got[16], 0x88);
	assert_int_equal(got[16 + 16], 2);   /* size */
	assert_int_equal(got[16 + 20], 1);   /* memory */
}

/*
 * Send raw bytes with fds, then expect wire_recv to refuse with `want`,
 * with every fd that arrived closed.
 */
static void
expect_refused(struct pair *p, const void *buf, size_t len, int nfds,
    bool close_after, int want)
{
	int fds[32] = { 0 };
	struct wire_msg in;
	int base;

	for (int i = 0; i < nfds; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		assert_true(fds[i] >= 0);
	}
	assert_int_equal(wire_send_raw(p->a, buf, len, fds, (unsigned)nfds,
	    1000), 0);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (close_after) {
		close(p->a);
		p->a = -1;
	}
	base = count_fds();
	assert_int_equal(wire_recv(p->b, &in, 200), want);
	assert_int_equal(in.nfds, 0);
	assert_int_equal(count_fds(), base);
}

static void
test_size_too_big(void **state)
{
	uint8_t buf[16 + 200];

	put_hdr(buf, WIRE_PCI_CFGREAD, 193);
	expect_refused(*state, buf, sizeof(buf), 0, false, WIRE_E_TOO_BIG);
}

static void
test_size_huge_with_fds(void **state)
{
	uint8_t buf[16];

	put_hdr(buf, WIRE_SYNC_SYSMEM, UINT64_MAX);
	expect_refused(*state, buf, sizeof(buf), 3, false, WIRE_E_TOO_BIG);
}

static void
test_size_wrong_for_command(void **state)
{
	uint8_t buf[16 + 8] = { 0 };

	put_hdr(buf, WIRE_PCI_CFGREAD, 8);
	expect_refused(*state, buf, sizeof(buf), 0, false, WIRE_E_BAD_SIZE);
}

static void
test_reset_with_body(void **state)
{
	uint8_t buf[16 + 8] = { 0 };

	put_hdr(buf, WIRE_DEVICE_RESET, 8);
	expect_refused(*state, buf, sizeof(buf), 0, false, WIRE_E_BAD_SIZE);
}

static void
test_truncated_header(void **state)
{
	uint8_t buf[16];

	put_hdr(buf, WIRE_PCI_CFGREAD, 12);
	expect_refused(*state, buf, 9, 0, true, WIRE_E_TRUNCATED);
}

static void
test_truncated_body_with_fds(void **state)
{
	uint8_t buf[16 + 100] = { 0 };

	put_hdr(buf, WIRE_SYNC_SYSMEM, 192);
	expect_refused(*state, buf, sizeof(buf), 2, true, WIRE_E_TRUNCATED);
}

static void
test_unknown_command(void **state)
{
	uint8_t buf[16];
	static const uint32_t cmds[] = { 8, 99, 0x80000000u, UINT32_MAX };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		put_hdr(buf, cmds[i], 0);
		expect_refused(*state, buf, sizeof(buf), i == 1 ? 2 : 0, false,
		    WIRE_E_UNKNOWN_CMD);
	}
}

static void
test_too_many_fds(void **state)
{
	uint8_t buf[16 + 192] = { 0 };

	put_hdr(buf, WIRE_SYNC_SYSMEM, 192);
	expect_refused(*state, buf, sizeof(buf), 9, false, WIRE_E_TOO_MANY_FDS);
	put_hdr(buf, WIRE_SET_IRQFD, 0);
	expect_refused(*state, buf, 16, 3, false, WIRE_E_TOO_MANY_FDS);
}

static void
test_fds_on_fdless_command(void **state)
{
	uint8_t buf[16 + 24] = { 0 };

	put_hdr(buf, WIRE_BAR_READ, 24);
	expect_refused(*state, buf, sizeof(buf), 1, false, WIRE_E_UNEXPECTED_FDS);
	put_hdr(buf, WIRE_PCI_CFGWRITE, 12);
	expect_refused(*state, buf, 16 + 12, 2, false, WIRE_E_UNEXPECTED_FDS);
	put_hdr(buf, WIRE_DEVICE_RESET, 0);
	expect_refused(*state, buf, 16, 1, false, WIRE_E_UNEXPECTED_FDS);
}

static void
test_missing_fds(void **state)
{
	uint8_t buf[16 + 192] = { 0 };

	put_hdr(buf, WIRE_SET_IRQFD, 0);
	expect_refused(*state, buf, 16, 1, false, WIRE_E_MISSING_FDS);
	put_hdr(buf, WIRE_SYNC_SYSMEM, 192);
	expect_refused(*state, buf, sizeof(buf), 0, false, WIRE_E_MISSING_FDS);
}

static void
test_control_truncated(void **state)
{
	uint8_t buf[16 + 192] = { 0 };

	/* More fds than the receive buffer holds: the kernel truncates. */
	put_hdr(buf, WIRE_SYNC_SYSMEM, 192);
	expect_refused(*state, buf, sizeof(buf), 20, false, WIRE_E_CTRUNC);
}

static void
test_fds_on_body_bytes(void **state)
{
	struct pair *p = *state;
	uint8_t hdr[16], body[24] = { 0 };
	struct wire_msg in;
	int efd = eventfd(0, EFD_CLOEXEC), base;

	put_hdr(hdr, WIRE_BAR_READ, 24);
	assert_int_equal(wire_send_raw(p->a, hdr, sizeof(hdr), NULL, 0, 1000), 0);
	assert_int_equal(wire_send_raw(p->a, body, sizeof(body), &efd, 1, 1000), 0);
	close(efd);
	base = count_fds();
	assert_int_equal(wire_recv(p->b, &in, 200), WIRE_E_BAD_CMSG);
	assert_int_equal(count_fds(), base);
}

static void
test_orderly_close(void **state)
{
	struct pair *p = *state;
	struct wire_msg in;

	close(p->a);
	p->a = -1;
	assert_int_equal(wire_recv(p->b, &in, 200), 0);
}

static void
test_deadline(void **state)
{
	struct pair *p = *state;
	uint8_t buf[16];
	struct wire_msg in;

	put_hdr(buf, WIRE_PCI_CFGREAD, 12);
	assert_int_equal(wire_send_raw(p->a, buf, 10, NULL, 0, 1000), 0);
	assert_int_equal(wire_recv(p->b, &in, 50), WIRE_E_TIMEOUT);
}

/* Byte by byte, with pauses: the codec assembles short reads. */
static void
test_short_reads(void **state)
{
	struct pair *p = *state;
	struct wire_msg out, in;
	uint8_t buf[16 + 24];
	pid_t pid;
	int status;

	wire_msg_init(&out, WIRE_BAR_WRITE);
	out.body.bar.addr = 0xc034;
	out.body.bar.val = 0xdeadbeef;
	out.body.bar.size = 4;
	put_hdr(buf, WIRE_BAR_WRITE, 24);
	memcpy(buf + 16, out.body.raw, 24);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			if (write(p->a, buf + i, 1) != 1)
				_exit(1);
			usleep(500);
		}
		_exit(0);
	}
	assert_int_equal(wire_recv(p->b, &in, 5000), 1);
	assert_memory_equal(in.body.raw, out.body.raw, 24);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

/* A signal without SA_RESTART interrupts recvmsg; the codec retries. */
static void
test_eintr(void **state)
{
	struct pair *p = *state;
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } }, off = { 0 };
	struct wire_msg out, in;
	pid_t pid;
	int status;

	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	wire_msg_init(&out, WIRE_DEVICE_RESET);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		usleep(50000);
		_exit(wire_send(p->a, &out, 1000) == 0 ? 0 : 1);
	}
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(wire_recv(p->b, &in, WIRE_NO_DEADLINE), 1);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	assert_int_equal(in.cmd, WIRE_DEVICE_RESET);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
test_send_refuses_invalid(void **state)
{
	struct pair *p = *state;
	struct wire_msg out;

	wire_msg_init(&out, WIRE_BAR_READ);
	out.fds[0] = 0;
	out.nfds = 1;
	assert_int_equal(wire_send(p->a, &out, 100), WIRE_E_UNEXPECTED_FDS);
	wire_msg_init(&out, WIRE_PCI_CFGREAD);
	out.size = 13;
	assert_int_equal(wire_send(p->a, &out, 100), WIRE_E_BAD_SIZE);
	out.cmd = 42;
	assert_int_equal(wire_send(p->a, &out, 100), WIRE_E_UNKNOWN_CMD);
}

/* A closed peer is -EPIPE, not a SIGPIPE that kills the test. */
static void
test_send_to_closed_peer(void **state)
{
	struct pair *p = *state;
	struct wire_msg out;

	close(p->b);
	p->b = -1;
	wire_msg_init(&out, WIRE_DEVICE_RESET);
	assert_int_equal(wire_send(p->a, &out, 100), -EPIPE);
}

/* A peer that never reads: the send deadline fires. */
static void
test_send_deadline(void **state)
{
	struct pair *p = *state;
	struct wire_msg out;
	int small = 4096, err = 0;

	setsockopt(p->a, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	wire_msg_init(&out, WIRE_BAR_READ);
	for (int i = 0; i < 100000 && err == 0; i++)
		err = wire_send(p->a, &out, 20);
	assert_int_equal(err, WIRE_E_TIMEOUT);
}

/* The proxy's reply reader: one read when header and body come together. */
static void
test_reply_reader(void **state)
{
	struct pair *p = *state;
	struct wire_msg out, in;
	uint8_t buf[16 + 8 + 8];
	int base;

	wire_msg_ret(&out, 0xfeedface);
	assert_int_equal(wire_send(p->a, &out, 1000), 0);
	assert_int_equal(wire_recv_reply(p->b, &in, 1000), 1);
	assert_int_equal(in.cmd, WIRE_RET);
	assert_int_equal(in.size, 8);
	assert_int_equal(in.body.ret, 0xfeedface);

	/* an empty RET (the reset reply) */
	wire_msg_init(&out, WIRE_RET);
	out.size = 0;
	assert_int_equal(wire_send(p->a, &out, 1000), 0);
	assert_int_equal(wire_recv_reply(p->b, &in, 1000), 1);
	assert_int_equal(in.size, 0);

	/* header and body in separate writes, a pause between them */
	put_hdr(buf, WIRE_RET, 8);
	memset(buf + 16, 0x5a, 8);
	assert_int_equal(wire_send_raw(p->a, buf, 10, NULL, 0, 1000), 0);
	assert_int_equal(wire_send_raw(p->a, buf + 10, 14, NULL, 0, 1000), 0);
	assert_int_equal(wire_recv_reply(p->b, &in, 1000), 1);
	assert_int_equal(in.body.ret, 0x5a5a5a5a5a5a5a5aull);

	/* bytes after a reply are not another message: an error */
	put_hdr(buf, WIRE_RET, 8);
	memset(buf + 16, 0, 16);
	base = count_fds();
	assert_int_equal(wire_send_raw(p->a, buf, sizeof(buf), NULL, 0, 1000), 0);
	assert_int_equal(wire_recv_reply(p->b, &in, 1000), WIRE_E_TRAILING);
	assert_int_equal(count_fds(), base);
}

static void
test_reply_reader_refusals(void **state)
{
	struct pair *p = *state;
	struct wire_msg in;
	uint8_t buf[16 + 24] = { 0 };

	int efd = eventfd(0, EFD_CLOEXEC), base;

	/* a size field past any body, with fds: refused, fds closed */
	put_hdr(buf, WIRE_RET, 4096);
	assert_int_equal(wire_send_raw(p->a, buf, 16, &efd, 1, 1000), 0);
	close(efd);
	base = count_fds();
	assert_int_equal(wire_recv_reply(p->b, &in, 1000), WIRE_E_TOO_BIG);
	assert_int_equal(count_fds(), base);
	/* the wrong size for RET */
	put_hdr(buf, WIRE_RET, 24);
	assert_int_equal(wire_send_raw(p->a, buf, sizeof(buf), NULL, 0, 1000), 0);
	assert_int_equal(wire_recv_reply(p->b, &in, 1000), WIRE_E_BAD_SIZE);
	/* a deadline with nothing coming */
	assert_int_equal(wire_recv_reply(p->b, &in, 30), WIRE_E_TIMEOUT);
	/* the peer gone */
	close(p->a);
	p->a = -1;
	assert_int_equal(wire_recv_reply(p->b, &in, 200), 0);
}

static void
test_strerror_distinct(void **state)
{
	static const int errs[] = { WIRE_E_TOO_BIG, WIRE_E_BAD_SIZE,
	    WIRE_E_TRUNCATED, WIRE_E_UNKNOWN_CMD, WIRE_E_TOO_MANY_FDS,
	    WIRE_E_UNEXPECTED_FDS, WIRE_E_MISSING_FDS, WIRE_E_CTRUNC,
	    WIRE_E_BAD_CMSG, WIRE_E_TIMEOUT, WIRE_E_TRAILING };
	size_t n = sizeof(errs) / sizeof(errs[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			assert_int_not_equal(errs[i], errs[j]);
			assert_string_not_equal(wire_strerror(errs[i]),
			    wire_strerror(errs[j]));
		}
	assert_string_equal(wire_cmd_name(WIRE_SYNC_SYSMEM), "SYNC_SYSMEM");
	assert_string_equal(wire_cmd_name(1234), "?");
}

#define PAIR_TEST(f) cmocka_unit_test_setup_teardown(f, setup_pair, teardown_pair)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		PAIR_TEST(test_roundtrip_every_command),
		PAIR_TEST(test_header_layout),
		PAIR_TEST(test_size_too_big),
		PAIR_TEST(test_size_huge_with_fds),
		PAIR_TEST(test_size_wrong_for_command),
		PAIR_TEST(test_reset_with_body),
		PAIR_TEST(test_truncated_header),
		PAIR_TEST(test_truncated_body_with_fds),
		PAIR_TEST(test_unknown_command),
		PAIR_TEST(test_too_many_fds),
		PAIR_TEST(test_fds_on_fdless_command),
		PAIR_TEST(test_missing_fds),
		PAIR_TEST(test_control_truncated),
		PAIR_TEST(test_fds_on_body_bytes),
		PAIR_TEST(test_orderly_close),
		PAIR_TEST(test_deadline),
		PAIR_TEST(test_short_reads),
		PAIR_TEST(test_eintr),
		PAIR_TEST(test_send_refuses_invalid),
		PAIR_TEST(test_send_to_closed_peer),
		PAIR_TEST(test_send_deadline),
		PAIR_TEST(test_reply_reader),
		PAIR_TEST(test_reply_reader_refusals),
		cmocka_unit_test(test_strerror_distinct),
	};

	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
