/*
 * tests/integration/test_remote.c: mpjail-lsi as a process, against what
 * its peer may send: QEMU's start-up sequence, repeated SYNC_SYSMEM, bad
 * regions, fds that are not eventfds, config and BAR errors, garbage, and
 * the peer closing. Each case ends in an answer, a clean exit 0, or exit 1
 * with a one-line reason — never a signal, never a leaked fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpjail-proxy.h"
#include "tests/lib/peers.h"
#include "wire/wire.h"

#define RAM_SIZE (64u << 20)

struct ctx {
	struct peer peer;
	struct proxy_dev *dev;
	int ram;
};

/* A guest-RAM memfd sealed the way QEMU's memory-backend-memfd seals it. */
static int
make_ram(size_t size, bool seal)
{
	int fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (seal)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL |
		    F_SEAL_SHRINK | F_SEAL_GROW), 0);
	return fd;
}

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c || peer_start_mpjail_lsi(&c->peer) < 0 ||
	    proxy_attach(&c->dev, c->peer.sock, 5000) < 0)
		return -1;
	c->ram = make_ram(RAM_SIZE, true);
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;

	proxy_detach(c->dev);
	peer_stop(&c->peer, 5000, NULL);
	close(c->ram);
	free(c);
	return 0;
}

/* Expect the remote to exit by itself with `code` and a reason on stderr. */
static void
expect_exit(struct ctx *c, int code, const char *reason)
{
	char err[1024];
	int status = 0;

	assert_int_equal(peer_wait(&c->peer, 5000, &status), 0);
	peer_stderr(&c->peer, err, sizeof(err));
	if (!WIFEXITED(status))
		fail_msg("mpjail-lsi died by signal %d", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), code);
	if (reason) {
		if (!strstr(err, reason))
			fail_msg("stderr '%s' lacks '%s'", err, reason);
		assert_non_null(strchr(err, '\n'));
		assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
	} else {
		assert_string_equal(err, "");
	}
}

static void
alive(struct ctx *c)
{
	uint32_t v = 0;

	assert_int_equal(proxy_config_read(c->dev, 0, 2, &v), 0);
	assert_int_equal(v, 0x1000);
}

/* QEMU 7.2's start-up, as recorded on the wire, then a clean close. */
static void
test_qemu_startup_sequence(void **state)
{
	struct ctx *c = *state;
	struct proxy_region r[2] = {
		{ 0, 0xc0000, c->ram, 0 },
		{ 0x100000, RAM_SIZE - 0x100000, c->ram, 0x100000 },
	};
	int irq = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int rs = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint32_t v, orig, sizing;

	assert_int_equal(proxy_sync_sysmem(c->dev, r, 2), 0);
	assert_int_equal(proxy_set_irqfd(c->dev, irq, rs), 0);
	assert_int_equal(proxy_config_read(c->dev, 0x00, 2, &v), 0);
	assert_int_equal(v, 0x1000);
	assert_int_equal(proxy_config_read(c->dev, 0x02, 2, &v), 0);
	assert_int_equal(v, 0x12);
	assert_int_equal(proxy_config_read(c->dev, 0x0a, 2, &v), 0);
	assert_int_equal(v, 0x100);
	assert_int_equal(proxy_config_read(c->dev, 0x2e, 2, &v), 0);
	assert_int_equal(v, 0x1000);
	for (unsigned int n = 0; n < 6; n++)
		assert_int_equal(proxy_bar_sizing(c->dev, n, &orig, &sizing), 0);
	for (int i = 0; i < 9; i++)
		assert_int_equal(proxy_sync_sysmem(c->dev, r, 2), 0);
	assert_int_equal(proxy_device_reset(c->dev), 0);
	close(irq);
	close(rs);
	close(c->peer.sock);
	c->peer.sock = -1;
	expect_exit(c, 0, NULL);
}

/* 82 SYNC_SYSMEMs (what a Linux boot sends) leave the fd count flat. */
static void
test_sync_sysmem_no_fd_growth(void **state)
{
	struct ctx *c = *state;
	struct proxy_region r[2] = {
		{ 0, 0xc0000, c->ram, 0 },
		{ 0x100000, RAM_SIZE - 0x100000, c->ram, 0x100000 },
	};
	int before, after;

	assert_int_equal(proxy_sync_sysmem(c->dev, r, 2), 0);
	alive(c);
	before = peer_count_fds(c->peer.pid);
	for (int i = 0; i < 82; i++) {
		/* alternate the layout so that both paths run: remap and keep */
		r[0].size = (i & 1) ? 0xd0000 : 0xc0000;
		assert_int_equal(proxy_sync_sysmem(c->dev, r, 2), 0);
	}
	alive(c);
	after = peer_count_fds(c->peer.pid);
	assert_true(before > 0);
	assert_int_equal(before, after);
}

static void
sysmem_refused(void **state, struct proxy_region *r, unsigned int n,
    const char *reason)
{
	struct ctx *c = *state;

	assert_int_equal(proxy_sync_sysmem(c->dev, r, n), 0);
	expect_exit(c, 1, reason);
}

static void
test_region_past_end_of_fd(void **state)
{
	struct ctx *c = *state;
	struct proxy_region r = { 0, RAM_SIZE, c->ram, 4096 };

	sysmem_refused(state, &r, 1, "sync_sysmem: region 0 ends past its fd");
}

static void
test_region_offset_overflow(void **state)
{
	struct ctx *c = *state;
	struct proxy_region r = { 0, 0x1000, c->ram, INT64_MAX };

	sysmem_refused(state, &r, 1, "ends past its fd");
}

static void
test_region_gpa_overflow(void **state)
{
	struct ctx *c = *state;
	struct proxy_region r = { UINT64_MAX - 0xfff, 0x2000, c->ram, 0 };

	sysmem_refused(state, &r, 1, "overflows");
}

static void
test_regions_overlap(void **state)
{
	struct ctx *c = *state;
	struct proxy_region r[2] = {
		{ 0, 0x200000, c->ram, 0 },
		{ 0x100000, 0x100000, c->ram, 0x400000 },
	};

	sysmem_refused(state, r, 2, "region 1 overlaps region 0");
}

static void
test_region_unsealed_memfd(void **state)
{
	int ram = make_ram(1 << 20, false);
	struct proxy_region r = { 0, 1 << 20, ram, 0 };

	sysmem_refused(state, &r, 1, "not sealed against shrinking");
	close(ram);
}

static void
test_region_not_a_file(void **state)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct proxy_region r = { 0, 4096, efd, 0 };

	sysmem_refused(state, &r, 1, "not a memfd or regular file");
	close(efd);
}

static void
test_irqfd_not_eventfd(void **state)
{
	struct ctx *c = *state;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(proxy_set_irqfd(c->dev, p[1], p[0]), 0);
	expect_exit(c, 1, "set_irqfd: interrupt fd is not an eventfd");
	close(p[0]);
	close(p[1]);
}

static void
test_resample_not_eventfd(void **state)
{
	struct ctx *c = *state;
	int efd = eventfd(0, EFD_CLOEXEC);

	assert_int_equal(proxy_set_irqfd(c->dev, efd, c->ram), 0);
	expect_exit(c, 1, "set_irqfd: resample fd is not an eventfd");
	close(efd);
}

/* Config and BAR errors are answered with the error value; it goes on. */
static void
test_access_errors_answered(void **state)
{
	struct ctx *c = *state;
	struct wire_msg m, reply;
	uint64_t v;
	uint32_t v32;

	assert_int_equal(proxy_config_read(c->dev, 253, 1, &v32), -EIO);
	assert_int_equal(proxy_config_write(c->dev, 255, 1, 0), -EIO);
	/* BARs are not programmed: nothing decodes. */
	assert_int_equal(proxy_bar_read(c->dev, PROXY_SPACE_MEMORY, 0xfebfe000,
	    4, &v), -EIO);
	assert_int_equal(proxy_config_write(c->dev, 0x14, 4, 0xfebfe000), 0);
	assert_int_equal(proxy_config_write(c->dev, 0x04, 2, 0x2), 0);
	assert_int_equal(proxy_bar_write(c->dev, PROXY_SPACE_MEMORY,
	    0xfebfe034, 4, 0x55aa55aa), 0);
	assert_int_equal(proxy_bar_read(c->dev, PROXY_SPACE_MEMORY, 0xfebfe034,
	    4, &v), 0);
	assert_int_equal(v, 0x55aa55aa);
	/* I/O space is disabled, and the access straddles the BAR's end. */
	assert_int_equal(proxy_bar_read(c->dev, PROXY_SPACE_IO, 0xfebfe034, 4,
	    &v), -EIO);
	assert_int_equal(proxy_bar_read(c->dev, PROXY_SPACE_MEMORY, 0xfebfe3fe,
	    4, &v), -EIO);
	/* Sizes 0, 3, 5 and 16 and bad config lengths, through raw messages. */
	static const uint32_t sizes[] = { 0, 3, 5, 16 };
	for (size_t i = 0; i < 4; i++) {
		wire_msg_init(&m, WIRE_BAR_READ);
		m.body.bar.addr = 0xfebfe034;
		m.body.bar.size = sizes[i];
		m.body.bar.memory = 1;
		assert_int_equal(wire_send(c->peer.sock, &m, 1000), 0);
		assert_int_equal(wire_recv(c->peer.sock, &reply, 1000), 1);
		assert_int_equal(reply.body.ret, WIRE_RET_ERROR);
	}
	static const int32_t lens[] = { 0, 3, 8, -1 };
	for (size_t i = 0; i < 4; i++) {
		wire_msg_init(&m, WIRE_PCI_CFGREAD);
		m.body.conf.addr = 0;
		m.body.conf.len = lens[i];
		assert_int_equal(wire_send(c->peer.sock, &m, 1000), 0);
		assert_int_equal(wire_recv(c->peer.sock, &reply, 1000), 1);
		assert_int_equal(reply.body.ret, WIRE_RET_ERROR);
	}
	alive(c);
}

static void
test_garbage_is_a_protocol_error(void **state)
{
	struct ctx *c = *state;
	static const char junk[] = "GET / HTTP/1.1\r\nHost: remote\r\n\r\n";

	assert_int_equal(wire_send_raw(c->peer.sock, junk, sizeof(junk) - 1,
	    NULL, 0, 1000), 0);
	expect_exit(c, 1, "receive: ");
}

static void
test_ret_from_peer_is_refused(void **state)
{
	struct ctx *c = *state;
	struct wire_msg m;

	wire_msg_ret(&m, 0);
	assert_int_equal(wire_send(c->peer.sock, &m, 1000), 0);
	expect_exit(c, 1, "RET: the remote only sends this command");
}

static void
test_fds_on_bar_read_exit(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[16 + 24] = { 5, 0, 0, 0, 0, 0, 0, 0, 24 };
	int efd = eventfd(0, EFD_CLOEXEC);

	assert_int_equal(wire_send_raw(c->peer.sock, buf, sizeof(buf), &efd, 1,
	    1000), 0);
	close(efd);
	expect_exit(c, 1, "fds on a command that takes none");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_qemu_startup_sequence),
		T(test_sync_sysmem_no_fd_growth),
		T(test_region_past_end_of_fd),
		T(test_region_offset_overflow),
		T(test_region_gpa_overflow),
		T(test_regions_overlap),
		T(test_region_unsealed_memfd),
		T(test_region_not_a_file),
		T(test_irqfd_not_eventfd),
		T(test_resample_not_eventfd),
		T(test_access_errors_answered),
		T(test_garbage_is_a_protocol_error),
		T(test_ret_from_peer_is_refused),
		T(test_fds_on_bar_read_exit),
	};

	return cmocka_run_group_tests_name("mpjail-lsi process", tests, NULL,
	    NULL);
}
