/*
 * tests/integration/test_config_diff.c: QEMU 7.2's own remote and
 * mpjail-lsi, each on its own socketpair, driven by libmpjail-proxy with
 * the same accesses; their answers must be identical. Fields that may
 * legitimately differ are listed in `allowed_differences` with the reason
 * (today: none).
 *
 * A QEMU 7.2 race shapes the set-up: its remote serves the socket before
 * its own start-up is over, and the machine's initial reset then undoes
 * what early messages did (a config write vanishes, BARs stop decoding).
 * peer_start_qemu_remote() waits until QEMU answers QMP, after that reset.
 * mpjail-lsi has no such window: it serves from its first message
 * (test_first_message_write).
 *
 * mpjail-lsi runs as the broker runs it: confined by mpjail-run under
 * policy/lsi-remote.policy (tests/lib/jail.c; needs root), and after each
 * test `mpjail-policy audit` must find it carrying that policy, its
 * installed seccomp filter the compiled program byte for byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpjail-proxy.h"
#include "tests/lib/jail.h"
#include "tests/lib/peers.h"

struct side {
	struct peer peer;
	struct proxy_dev *dev;
};

struct both {
	struct side qemu, lsi;
	char image[64];
};

/* Config bytes whose values may differ, and why. None so far. */
static const struct {
	uint32_t offset, len;
	const char *why;
} allowed_differences[] = {
	{ 0, 0, NULL },
};

static bool
difference_allowed(uint32_t addr)
{
	for (size_t i = 0; i < sizeof(allowed_differences) /
	    sizeof(allowed_differences[0]); i++) {
		if (allowed_differences[i].len &&
		    addr >= allowed_differences[i].offset &&
		    addr < allowed_differences[i].offset +
		    allowed_differences[i].len)
			return true;
	}
	return false;
}

static int
setup(void **state)
{
	struct both *b = calloc(1, sizeof(*b));

	if (!b)
		return -1;
	if (peer_make_image(b->image, sizeof(b->image), 64 << 20) < 0)
		return -1;
	if (peer_start_qemu_remote(&b->qemu.peer, b->image) < 0 ||
	    jail_start_mpjail_lsi(&b->lsi.peer, NULL, false) < 0)
		return -1;
	if (proxy_attach(&b->qemu.dev, b->qemu.peer.sock, 10000) < 0 ||
	    proxy_attach(&b->lsi.dev, b->lsi.peer.sock, 10000) < 0)
		return -1;
	*state = b;
	return 0;
}



/* The confined remote carries its policy, as `mpjail-policy audit` sees. */
static void
assert_audit_match(struct both *b)
{
	char report[8192];
	pid_t remote = jail_find_remote(&b->lsi.peer, 5000);
	int rc;

	if (remote <= 0)
		fail_msg("the confined mpjail-lsi was not found");
	if (!jail_confined())
		return; /* make asan: unconfined by design, nothing to audit */
	rc = jail_audit(remote, 0, report, sizeof(report));
	if (rc != 0 || !strstr(report, "ok   seccomp filter")) {
		fprintf(stderr, "%s", report);	/* longer than fail_msg takes */
		fail_msg("mpjail-policy audit %d: exit %d", (int)remote, rc);
	}
}

static void
stop_side(struct side *s, const char *what)
{
	char err[4096];
	int status = 0;

	proxy_detach(s->dev);
	if (peer_stop(&s->peer, 10000, &status) < 0)
		fprintf(stderr, "%s: killed after a timeout\n", what);
	peer_stderr(&s->peer, err, sizeof(err));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || err[0])
		fprintf(stderr, "%s: status 0x%x stderr: %s\n", what, status,
		    err);
}

static int
teardown(void **state)
{
	struct both *b = *state;

	stop_side(&b->qemu, "qemu-remote");
	stop_side(&b->lsi, "mpjail-lsi");
	unlink(b->image);
	free(b);
	return 0;
}

static void
read_both(struct both *b, uint32_t addr, unsigned int len)
{
	uint32_t vq = 0, vl = 0;

	assert_int_equal(proxy_config_read(b->qemu.dev, addr, len, &vq), 0);
	assert_int_equal(proxy_config_read(b->lsi.dev, addr, len, &vl), 0);
	if (vq != vl && !difference_allowed(addr)) {
		fail_msg("config 0x%02x/%u: qemu 0x%x, mpjail-lsi 0x%x", addr,
		    len, vq, vl);
	}
}

static void
write_both(struct both *b, uint32_t addr, unsigned int len, uint32_t val)
{
	assert_int_equal(proxy_config_write(b->qemu.dev, addr, len, val), 0);
	assert_int_equal(proxy_config_write(b->lsi.dev, addr, len, val), 0);
}

/* The whole 256-byte configuration space, at every width. */
static void
test_config_space_identical(void **state)
{
	struct both *b = *state;

	for (uint32_t a = 0; a <= 252; a += 4)
		read_both(b, a, 4);
	for (uint32_t a = 0; a <= 252; a += 2)
		read_both(b, a, 2);
	for (uint32_t a = 0; a <= 252; a++)
		read_both(b, a, 1);
	assert_audit_match(b);
}

/* Sizing answers of all six BARs and the ROM BAR, as firmware asks. */
static void
test_bar_sizing_identical(void **state)
{
	struct both *b = *state;
	static const uint32_t want[6] = { 0xffffff01, 0xfffffc00, 0xffffe000,
	    0, 0, 0 };

	for (unsigned int n = 0; n < 6; n++) {
		uint32_t oq, sq, ol, sl;

		assert_int_equal(proxy_bar_sizing(b->qemu.dev, n, &oq, &sq), 0);
		assert_int_equal(proxy_bar_sizing(b->lsi.dev, n, &ol, &sl), 0);
		assert_int_equal(oq, ol);
		assert_int_equal(sq, sl);
		assert_int_equal(sl, want[n]); /* the LSI's 256 B, 1 KiB, 8 KiB */
	}
	write_both(b, 0x30, 4, 0xfffff800);
	read_both(b, 0x30, 4);
	assert_audit_match(b);
}

/*
 * Write masks: all-ones into every dword, read back, restore. This is
 * what tells which bits are writable, read-only and write-1-to-clear.
 */
static void
test_write_masks_identical(void **state)
{
	struct both *b = *state;

	for (uint32_t a = 0; a <= 252; a += 4) {
		uint32_t orig = 0;

		assert_int_equal(proxy_config_read(b->lsi.dev, a, 4, &orig), 0);
		write_both(b, a, 4, 0xffffffff);
		read_both(b, a, 4);
		write_both(b, a, 4, 0);
		read_both(b, a, 4);
		write_both(b, a, 4, orig);
		read_both(b, a, 4);
	}
	/* Byte writes in the header, including odd widths across fields. */
	for (uint32_t a = 0; a < 0x40; a++) {
		write_both(b, a, 1, 0xa5);
		read_both(b, a & ~3u, 4);
	}
	assert_audit_match(b);
}

/*
 * Program the BARs as SeaBIOS does, enable decoding, and compare a
 * register round trip through the I/O and the MMIO BAR, and SCRIPTS RAM.
 */
static void
test_bar_access_identical(void **state)
{
	struct both *b = *state;
	struct side *sides[2] = { &b->qemu, &b->lsi };
	uint64_t got[2][6];

	write_both(b, 0x10, 4, 0xc000);
	write_both(b, 0x14, 4, 0xfebfe000);
	write_both(b, 0x18, 4, 0xfebfc000);
	write_both(b, 0x04, 2, 0x0007);
	for (int s = 0; s < 2; s++) {
		struct proxy_dev *d = sides[s]->dev;

		/* SCRATCHA (0x34): plain storage on both. */
		assert_int_equal(proxy_bar_write(d, PROXY_SPACE_MEMORY,
		    0xfebfe034, 4, 0x12345678), 0);
		assert_int_equal(proxy_bar_read(d, PROXY_SPACE_MEMORY,
		    0xfebfe034, 4, &got[s][0]), 0);
		assert_int_equal(proxy_bar_read(d, PROXY_SPACE_IO, 0xc034, 2,
		    &got[s][1]), 0);
		assert_int_equal(proxy_bar_read(d, PROXY_SPACE_MEMORY,
		    0xfebfe035, 1, &got[s][2]), 0);
		/* SCRIPTS RAM through BAR2. */
		assert_int_equal(proxy_bar_write(d, PROXY_SPACE_MEMORY,
		    0xfebfc100, 4, 0xcafef00d), 0);
		assert_int_equal(proxy_bar_read(d, PROXY_SPACE_MEMORY,
		    0xfebfc100, 4, &got[s][3]), 0);
		/* ISTAT after reset. */
		assert_int_equal(proxy_bar_read(d, PROXY_SPACE_MEMORY,
		    0xfebfe014, 1, &got[s][4]), 0);
		assert_int_equal(proxy_device_reset(d), 0);
		assert_int_equal(proxy_bar_read(d, PROXY_SPACE_MEMORY,
		    0xfebfc100, 4, &got[s][5]), 0);
	}
	assert_int_equal(got[1][0], 0x12345678);
	assert_int_equal(got[1][3], 0xcafef00d);
	for (int i = 0; i < 6; i++)
		if (got[0][i] != got[1][i])
			fail_msg("access %d: qemu 0x%" PRIx64 ", mpjail-lsi 0x%"
			    PRIx64, i, got[0][i], got[1][i]);
	/* The config space survives DEVICE_RESET on both. */
	read_both(b, 0x14, 4);
	read_both(b, 0x04, 2);
	assert_audit_match(b);
}

/* A config write as the very first message takes effect on both. */
static void
test_first_message_write(void **state)
{
	struct both *b = *state;

	write_both(b, 0x3c, 1, 0x0b);
	read_both(b, 0x3c, 1);
	write_both(b, 0x14, 4, 0xfebfe000);
	write_both(b, 0x04, 2, 0x0002);
	read_both(b, 0x14, 4);
	read_both(b, 0x04, 2);
	assert_audit_match(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_space_identical,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing_identical,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_masks_identical,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_access_identical,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_message_write,
		    setup, teardown),
	};

	return cmocka_run_group_tests_name("config differential: QEMU 7.2 "
	    "remote vs mpjail-lsi", tests, NULL, NULL);
}
