/*
 * tests/unit/test_proxy.c: libmpjail-proxy against a scripted fake remote
 * on a socketpair (a forked child): requests are encoded as QEMU encodes
 * them, and a remote that stalls, dies, lies or errs gives the documented
 * error — never a hang, never a SIGPIPE.
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
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpjail-proxy.h"
#include "wire/wire.h"

enum fake_mode {
	FAKE_ECHO,       /* answer each request with RET (its address) */
	FAKE_STALL,      /* read the request, never answer */
	FAKE_DIE,        /* read the request, exit */
	FAKE_WRONG_CMD,  /* answer with a BAR_READ instead of RET */
	FAKE_ERROR,      /* answer with the error value */
};

struct fake {
	pid_t pid;
	int sock;
	struct proxy_dev *dev;
};

/* The fake remote: checks what arrives, answers per mode. */
static void __attribute__((noreturn))
fake_remote(int sock, enum fake_mode mode)
{
	struct wire_msg m, r;

	for (;;) {
		int n = wire_recv(sock, &m, WIRE_NO_DEADLINE);

		if (n <= 0)
			_exit(n == 0 ? 0 : 3);
		switch (mode) {
		case FAKE_STALL:
			pause();
			_exit(0);
		case FAKE_DIE:
			_exit(0);
		case FAKE_WRONG_CMD:
			wire_msg_init(&r, WIRE_BAR_READ);
			break;
		case FAKE_ERROR:
			wire_msg_ret(&r, WIRE_RET_ERROR);
			break;
		case FAKE_ECHO:
		default:
			if (m.cmd == WIRE_SYNC_SYSMEM || m.cmd == WIRE_SET_IRQFD) {
				/* no reply; report the fd count in the next RET */
				wire_msg_close_fds(&m);
				continue;
			}
			if (m.cmd == WIRE_DEVICE_RESET) {
				wire_msg_init(&r, WIRE_RET);
				r.size = 0;
			} else if (m.cmd == WIRE_BAR_READ || m.cmd == WIRE_BAR_WRITE) {
				wire_msg_ret(&r, m.body.bar.addr ^ m.body.bar.val ^
				    ((uint64_t)m.body.bar.size << 56) ^
				    ((uint64_t)m.body.bar.memory << 48));
			} else {
				wire_msg_ret(&r, (uint64_t)m.body.conf.addr << 8 |
				    (uint64_t)m.body.conf.len);
			}
			break;
		}
		if (wire_send(sock, &r, 1000) < 0)
			_exit(4);
	}
}

static struct fake *
start(enum fake_mode mode, unsigned int timeout_ms)
{
	struct fake *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		close(sv[0]);
		fake_remote(sv[1], mode);
	}
	close(sv[1]);
	f->sock = sv[0];
	assert_int_equal(proxy_attach(&f->dev, f->sock, timeout_ms), 0);
	return f;
}

static void
stop(struct fake *f)
{
	proxy_detach(f->dev);
	close(f->sock);
	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
	free(f);
}

static void
test_requests_encoded(void **state)
{
	struct fake *f = start(FAKE_ECHO, 1000);
	uint32_t v32 = 0;
	uint64_t v = 0;

	(void)state;
	assert_int_equal(proxy_config_read(f->dev, 0x2e, 2, &v32), 0);
	assert_int_equal(v32, 0x2e02);
	assert_int_equal(proxy_config_write(f->dev, 0x10, 4, 0xc000), 0);
	assert_int_equal(proxy_bar_read(f->dev, PROXY_SPACE_MEMORY, 0xfebfe014,
	    1, &v), 0);
	assert_int_equal(v, 0xfebfe014ull ^ (1ull << 56) ^ (1ull << 48));
	assert_int_equal(proxy_bar_write(f->dev, PROXY_SPACE_IO, 0xc02c, 4,
	    0x1234), 0);
	assert_int_equal(proxy_device_reset(f->dev), 0);
	stop(f);
}

static void
test_argument_checks(void **state)
{
	struct fake *f = start(FAKE_ECHO, 1000);
	struct proxy_region r = { 0, 4096, -1, 0 };
	uint32_t v32;
	uint64_t v;

	(void)state;
	assert_int_equal(proxy_config_read(f->dev, 0, 3, &v32), -EINVAL);
	assert_int_equal(proxy_config_read(f->dev, 256, 1, &v32), -EINVAL);
	assert_int_equal(proxy_bar_read(f->dev, PROXY_SPACE_IO, 0, 16, &v),
	    -EINVAL);
	assert_int_equal(proxy_bar_read(f->dev, 7, 0, 4, &v), -EINVAL);
	assert_int_equal(proxy_sync_sysmem(f->dev, &r, 1), -EINVAL);
	assert_int_equal(proxy_sync_sysmem(f->dev, &r, 0), -EINVAL);
	assert_int_equal(proxy_sync_sysmem(f->dev, &r, 9), -EINVAL);
	assert_int_equal(proxy_set_irqfd(f->dev, -1, 0), -EINVAL);
	/* nothing went out: the link still works */
	assert_int_equal(proxy_config_read(f->dev, 0, 2, &v32), 0);
	stop(f);
}

static void
test_fd_messages(void **state)
{
	struct fake *f = start(FAKE_ECHO, 1000);
	int mfd = memfd_create("ram", MFD_CLOEXEC);
	int e1 = eventfd(0, EFD_CLOEXEC), e2 = eventfd(0, EFD_CLOEXEC);
	struct proxy_region r[2] = { { 0, 4096, mfd, 0 }, { 8192, 4096, mfd, 4096 } };
	uint32_t v32;

	(void)state;
	assert_int_equal(ftruncate(mfd, 8192), 0);
	assert_int_equal(proxy_sync_sysmem(f->dev, r, 2), 0);
	assert_int_equal(proxy_set_irqfd(f->dev, e1, e2), 0);
	/* the fds stay ours */
	assert_true(fcntl(mfd, F_GETFD) >= 0 && fcntl(e1, F_GETFD) >= 0);
	assert_int_equal(proxy_config_read(f->dev, 0, 4, &v32), 0);
	close(mfd);
	close(e1);
	close(e2);
	stop(f);
}

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_stalled_remote_times_out(void **state)
{
	struct fake *f = start(FAKE_STALL, 100);
	uint32_t v32;
	int64_t t0 = ms_now();

	(void)state;
	assert_int_equal(proxy_config_read(f->dev, 0, 2, &v32), -ETIMEDOUT);
	assert_true(ms_now() - t0 < 2000);
	/* out of step now: refused without waiting */
	assert_int_equal(proxy_config_read(f->dev, 0, 2, &v32), -EPIPE);
	stop(f);
}

static void
test_dead_remote_is_epipe(void **state)
{
	struct fake *f = start(FAKE_DIE, 1000);
	uint32_t v32;
	int i, err = 0;

	(void)state;
	assert_int_equal(proxy_config_read(f->dev, 0, 2, &v32), -EPIPE);
	/* and a write to the dead peer raises no SIGPIPE */
	for (i = 0; i < 3; i++)
		err = proxy_device_reset(f->dev);
	assert_int_equal(err, -EPIPE);
	stop(f);
}

static void
test_send_to_closed_peer_no_sigpipe(void **state)
{
	struct fake *f = start(FAKE_DIE, 1000);
	struct proxy_dev *dev;
	int sv[2], e1 = eventfd(0, EFD_CLOEXEC);

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(proxy_attach(&dev, sv[0], 100), 0);
	assert_int_equal(proxy_set_irqfd(dev, e1, e1), -EPIPE);
	proxy_detach(dev);
	close(sv[0]);
	close(e1);
	stop(f);
}

static void
test_wrong_reply_is_eproto(void **state)
{
	struct fake *f = start(FAKE_WRONG_CMD, 1000);
	uint32_t v32;

	(void)state;
	assert_int_equal(proxy_config_read(f->dev, 0, 2, &v32), -EPROTO);
	stop(f);
}

static void
test_error_value_is_eio(void **state)
{
	struct fake *f = start(FAKE_ERROR, 1000);
	uint64_t v;

	(void)state;
	assert_int_equal(proxy_bar_read(f->dev, PROXY_SPACE_MEMORY, 0, 4, &v),
	    -EIO);
	/* an answered error keeps the link in step */
	assert_int_equal(proxy_bar_read(f->dev, PROXY_SPACE_MEMORY, 0, 4, &v),
	    -EIO);
	stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_encoded),
		cmocka_unit_test(test_argument_checks),
		cmocka_unit_test(test_fd_messages),
		cmocka_unit_test(test_stalled_remote_times_out),
		cmocka_unit_test(test_dead_remote_is_epipe),
		cmocka_unit_test(test_send_to_closed_peer_no_sigpipe),
		cmocka_unit_test(test_wrong_reply_is_eproto),
		cmocka_unit_test(test_error_value_is_eio),
	};

	return cmocka_run_group_tests_name("proxy", tests, NULL, NULL);
}
