/*
 * tests/hostile/test_hostile_qemu.c: a compromised QEMU against mpjail-lsi
 * running as the broker runs it — under policy/lsi-remote.policy, through
 * mpjail-run, as a tenant uid, locked down by Landlock and seccomp, with
 * one disk. Each scenario sends what a hostile VMM can send and asserts
 * the outcome from its table row: an error reply and the remote still
 * serving, or a clean exit 1 with a one-line reason. Always: no crash
 * signal (bwrap reports one as a status >= 128), no growth in the remote's
 * fds, the image unchanged unless the scenario wrote validly. Needs root.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpjail-proxy-lsi.h"
#include "mpjail-proxy.h"
#include "tests/lib/jail.h"
#include "wire/wire.h"

#define IMAGE_SIZE (8u << 20)
#define RAM_SIZE (32u << 20)

enum expect {
	ALIVE,   /* every request answered (errors as the error value) */
	EXITS,   /* exit 1, with `reason` in its one line */
	CLEAN,   /* exit 0: the peer went away */
};

struct ctx {
	struct peer peer;
	pid_t remote;
	int base_fds;
	struct proxy_dev *dev;
	int ram;
	char image[64];
	uint64_t image_sum;
	bool image_written; /* a scenario that writes validly clears the check */
};

struct scenario {
	const char *name;
	void (*run)(struct ctx *c);
	enum expect expect;
	const char *reason;
};

static uint64_t
image_checksum(const char *path)
{
	static uint8_t buf[1 << 16];
	uint64_t h = 1469598103934665603ull;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}

static int
sealed_ram(size_t size, bool seal)
{
	int fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return -1;
	if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) < 0)
		return -1;
	return fd;
}

static int
count_fds(pid_t pid)
{
	return peer_count_fds(pid);
}

/* A fresh confined remote with a disk, and a baseline after set-up. */
static void
start(struct ctx *c)
{
	int fd;
	static const uint8_t pattern[] = "mpjail hostile-qemu image";

	memset(c, 0, sizeof(*c));
	assert_int_equal(peer_make_image(c->image, sizeof(c->image),
	    IMAGE_SIZE), 0);
	fd = open(c->image, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (off_t off = 0; off < IMAGE_SIZE; off += 4096)
		assert_int_equal(pwrite(fd, pattern, sizeof(pattern), off),
		    (ssize_t)sizeof(pattern));
	close(fd);
	chmod(c->image, 0666);
	c->image_sum = image_checksum(c->image);
	assert_int_equal(jail_start_mpjail_lsi(&c->peer, c->image, false), 0);
	c->remote = jail_find_remote(&c->peer, 5000);
	assert_true(c->remote > 0);
	assert_int_equal(proxy_attach(&c->dev, c->peer.sock, 3000), 0);
	c->ram = sealed_ram(RAM_SIZE, true);
	assert_true(c->ram >= 0);
	c->base_fds = count_fds(c->remote);
	assert_true(c->base_fds > 0);
}

static void
alive(struct ctx *c)
{
	uint32_t v = 0;

	assert_int_equal(proxy_config_read(c->dev, 0, 2, &v), 0);
	assert_int_equal(v, 0x1000);
}

/* One raw message: header (cmd, size) + body bytes + fds. */
static void
raw(struct ctx *c, uint32_t cmd, uint64_t size, const void *body,
    size_t body_len, const int *fds, unsigned int nfds)
{
	uint8_t buf[16 + 256] = { 0 };

	assert_true(body_len <= 256);
	memcpy(buf, &cmd, 4);
	memcpy(buf + 8, &size, 8);
	if (body_len)
		memcpy(buf + 16, body, body_len);
	assert_int_equal(wire_send_raw(c->peer.sock, buf, 16 + body_len, fds,
	    nfds, 2000), 0);
}

static void
expect_error_reply(struct ctx *c)
{
	struct wire_msg m;

	assert_int_equal(wire_recv(c->peer.sock, &m, 3000), 1);
	assert_int_equal(m.cmd, WIRE_RET);
	assert_int_equal(m.body.ret, WIRE_RET_ERROR);
}

static void
sysmem(struct ctx *c, const uint64_t *gpa, const uint64_t *size,
    const int64_t *off, const int *fds, unsigned int n)
{
	struct wire_sync_sysmem s;

	memset(&s, 0, sizeof(s));
	for (unsigned int i = 0; i < n; i++) {
		s.gpa[i] = gpa[i];
		s.size[i] = size[i];
		s.offset[i] = off[i];
	}
	raw(c, WIRE_SYNC_SYSMEM, sizeof(s), &s, sizeof(s), fds, n);
}

static void
sysmem1(struct ctx *c, uint64_t gpa, uint64_t size, int64_t off, int fd)
{
	sysmem(c, &gpa, &size, &off, &fd, 1);
}

static int evfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

/* --- malformed framing ------------------------------------------------ */

static void s_size_past_body(struct ctx *c) { raw(c, WIRE_PCI_CFGREAD, 200, NULL, 0, NULL, 0); }
static void s_size_huge(struct ctx *c) { raw(c, WIRE_BAR_READ, UINT64_MAX, NULL, 0, NULL, 0); }
static void s_size_wrong_cfg(struct ctx *c) { uint8_t b[8] = { 0 }; raw(c, WIRE_PCI_CFGREAD, 8, b, 8, NULL, 0); }
static void s_size_wrong_bar(struct ctx *c) { uint8_t b[12] = { 0 }; raw(c, WIRE_BAR_READ, 12, b, 12, NULL, 0); }
static void s_reset_with_body(struct ctx *c) { uint8_t b[8] = { 0 }; raw(c, WIRE_DEVICE_RESET, 8, b, 8, NULL, 0); }

static void
s_truncated_header(struct ctx *c)
{
	uint8_t b[7] = { 3 };

	assert_int_equal(wire_send_raw(c->peer.sock, b, sizeof(b), NULL, 0,
	    1000), 0);
	shutdown(c->peer.sock, SHUT_WR);
}

static void
s_truncated_body(struct ctx *c)
{
	uint8_t b[6] = { 0 };

	raw(c, WIRE_BAR_WRITE, 24, b, sizeof(b), NULL, 0);
	shutdown(c->peer.sock, SHUT_WR);
}

static void s_unknown_cmd(struct ctx *c) { raw(c, 8, 0, NULL, 0, NULL, 0); }
static void s_negative_cmd(struct ctx *c) { raw(c, UINT32_MAX, 0, NULL, 0, NULL, 0); }

static void
s_fds_on_bar_read(struct ctx *c)
{
	uint8_t b[24] = { 0 };
	int fd = evfd();

	raw(c, WIRE_BAR_READ, 24, b, 24, &fd, 1);
	close(fd);
}

static void
s_fds_on_cfg_write(struct ctx *c)
{
	uint8_t b[12] = { 0 };
	int fds[2] = { c->ram, c->ram };

	raw(c, WIRE_PCI_CFGWRITE, 12, b, 12, fds, 2);
}

static void s_fds_on_reset(struct ctx *c) { raw(c, WIRE_DEVICE_RESET, 0, NULL, 0, &c->ram, 1); }

static void
s_too_many_fds(struct ctx *c)
{
	struct wire_sync_sysmem s = { 0 };
	int fds[9];

	for (int i = 0; i < 9; i++)
		fds[i] = c->ram;
	raw(c, WIRE_SYNC_SYSMEM, sizeof(s), &s, sizeof(s), fds, 9);
}

static void
s_irqfd_three_fds(struct ctx *c)
{
	int fds[3] = { evfd(), evfd(), evfd() };

	raw(c, WIRE_SET_IRQFD, 0, NULL, 0, fds, 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

static void
s_control_truncated(struct ctx *c)
{
	struct wire_sync_sysmem s = { 0 };
	int fds[40];

	for (int i = 0; i < 40; i++)
		fds[i] = c->ram;
	raw(c, WIRE_SYNC_SYSMEM, sizeof(s), &s, sizeof(s), fds, 40);
}

static void
s_irqfd_one_fd(struct ctx *c)
{
	int fd = evfd();

	raw(c, WIRE_SET_IRQFD, 0, NULL, 0, &fd, 1);
	close(fd);
}

static void
s_sysmem_no_fds(struct ctx *c)
{
	struct wire_sync_sysmem s = { 0 };

	raw(c, WIRE_SYNC_SYSMEM, sizeof(s), &s, sizeof(s), NULL, 0);
}

static void
s_fds_on_body_bytes(struct ctx *c)
{
	uint8_t hdr[16] = { WIRE_BAR_READ, 0, 0, 0, 0, 0, 0, 0, 24 };
	uint8_t body[24] = { 0 };

	assert_int_equal(wire_send_raw(c->peer.sock, hdr, 16, NULL, 0, 1000), 0);
	assert_int_equal(wire_send_raw(c->peer.sock, body, 24, &c->ram, 1,
	    1000), 0);
}

static void s_ret_from_peer(struct ctx *c) { uint64_t v = 0; raw(c, WIRE_RET, 8, &v, 8, NULL, 0); }

static void
s_garbage(struct ctx *c)
{
	static const char junk[] = "\x7f" "ELF\x02\x01\x01 not a message at all";

	assert_int_equal(wire_send_raw(c->peer.sock, junk, sizeof(junk), NULL,
	    0, 1000), 0);
}

/* --- SYNC_SYSMEM with bad regions ------------------------------------ */

static void
s_region_pipe(struct ctx *c)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	sysmem1(c, 0, 4096, 0, p[0]);
	close(p[0]);
	close(p[1]);
}

static void
s_region_eventfd(struct ctx *c)
{
	int fd = evfd();

	sysmem1(c, 0, 4096, 0, fd);
	close(fd);
}

static void
s_region_socket(struct ctx *c)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	sysmem1(c, 0, 4096, 0, sv[0]);
	close(sv[0]);
	close(sv[1]);
}

static void
s_region_directory(struct ctx *c)
{
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	sysmem1(c, 0, 4096, 0, fd);
	close(fd);
}

/* The SIGBUS attempt: a memfd the peer could shrink after we map it. */
static void
s_region_unsealed(struct ctx *c)
{
	int fd = sealed_ram(1 << 20, false);

	sysmem1(c, 0, 1 << 20, 0, fd);
	/* had it been mapped, this would pull the pages away */
	assert_int_equal(ftruncate(fd, 0), 0);
	close(fd);
}

static void
s_region_overlap(struct ctx *c)
{
	uint64_t gpa[2] = { 0, 0x100000 }, size[2] = { 0x200000, 0x100000 };
	int64_t off[2] = { 0, 0x400000 };
	int fds[2] = { c->ram, c->ram };

	sysmem(c, gpa, size, off, fds, 2);
}

static void s_region_gpa_overflow(struct ctx *c) { sysmem1(c, UINT64_MAX - 0xfff, 0x2000, 0, c->ram); }
static void s_region_offset_overflow(struct ctx *c) { sysmem1(c, 0, 0x2000, INT64_MAX - 0xfff, c->ram); }
static void s_region_past_end(struct ctx *c) { sysmem1(c, 0, RAM_SIZE, 4096, c->ram); }
static void s_region_negative_offset(struct ctx *c) { sysmem1(c, 0, 4096, -4096, c->ram); }
static void s_region_zero_size(struct ctx *c) { sysmem1(c, 0, 0, 0, c->ram); }

/* --- accesses --------------------------------------------------------- */

static void
bar_raw(struct ctx *c, uint32_t cmd, uint64_t addr, uint32_t size,
    uint8_t memory)
{
	struct wire_bar b = { .addr = addr, .val = 0x41414141, .size = size,
	    .memory = memory };

	raw(c, cmd, sizeof(b), &b, sizeof(b), NULL, 0);
	expect_error_reply(c);
}

static void
program_bars(struct ctx *c)
{
	assert_int_equal(proxy_config_write(c->dev, 0x10, 4, 0xc000), 0);
	assert_int_equal(proxy_config_write(c->dev, 0x14, 4, 0xfebfe000), 0);
	assert_int_equal(proxy_config_write(c->dev, 0x18, 4, 0xfebfc000), 0);
	assert_int_equal(proxy_config_write(c->dev, 0x04, 2, 0x0007), 0);
}

static void
s_bar_unprogrammed(struct ctx *c)
{
	bar_raw(c, WIRE_BAR_READ, 0xfebfe000, 4, 1);
	bar_raw(c, WIRE_BAR_WRITE, 0xc000, 1, 0);
	alive(c);
}

static void
s_bar_outside(struct ctx *c)
{
	program_bars(c);
	bar_raw(c, WIRE_BAR_READ, 0xfebfe400, 4, 1);  /* just past BAR1 */
	bar_raw(c, WIRE_BAR_WRITE, 0xfebfbffc, 4, 1); /* just before BAR2 */
	bar_raw(c, WIRE_BAR_READ, 0xfebfe3fe, 4, 1);  /* straddles BAR1's end */
	bar_raw(c, WIRE_BAR_READ, 0xfebfe000, 4, 0);  /* right address, I/O space */
	bar_raw(c, WIRE_BAR_READ, UINT64_MAX - 1, 4, 1); /* wraps */
	alive(c);
}

static void
s_bar_sizes(struct ctx *c)
{
	static const uint32_t sizes[] = { 0, 3, 5, 6, 7, 16, 32, UINT32_MAX };

	program_bars(c);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		bar_raw(c, WIRE_BAR_READ, 0xfebfe034, sizes[i], 1);
		bar_raw(c, WIRE_BAR_WRITE, 0xc034, sizes[i], 0);
	}
	alive(c);
}

static void
s_bar_wrapping_base(struct ctx *c)
{
	/* a BAR programmed at the top of the 32-bit space must not decode */
	assert_int_equal(proxy_config_write(c->dev, 0x14, 4, 0xfffffc00), 0);
	assert_int_equal(proxy_config_write(c->dev, 0x04, 2, 0x0002), 0);
	bar_raw(c, WIRE_BAR_READ, 0xfffffc00, 4, 1);
	alive(c);
}

static void
cfg_raw(struct ctx *c, uint32_t cmd, uint32_t addr, int32_t len)
{
	struct wire_pci_conf p = { .addr = addr, .val = 0xffffffff, .len = len };

	raw(c, cmd, sizeof(p), &p, sizeof(p), NULL, 0);
	expect_error_reply(c);
}

static void
s_cfg_past_end(struct ctx *c)
{
	cfg_raw(c, WIRE_PCI_CFGREAD, 253, 1);
	cfg_raw(c, WIRE_PCI_CFGWRITE, 256, 4);
	cfg_raw(c, WIRE_PCI_CFGREAD, UINT32_MAX - 2, 4);
	alive(c);
}

static void
s_cfg_bad_lengths(struct ctx *c)
{
	static const int32_t lens[] = { 0, 3, 5, 8, -1, INT32_MIN, INT32_MAX };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		cfg_raw(c, WIRE_PCI_CFGREAD, 0, lens[i]);
		cfg_raw(c, WIRE_PCI_CFGWRITE, 0x40, lens[i]);
	}
	alive(c);
}

/* --- interrupts ------------------------------------------------------- */

static void
s_irqfd_pipes(struct ctx *c)
{
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	raw(c, WIRE_SET_IRQFD, 0, NULL, 0, p, 2);
	close(p[0]);
	close(p[1]);
}

static void
s_irqfd_timerfd(struct ctx *c)
{
	int fds[2] = { timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), evfd() };

	raw(c, WIRE_SET_IRQFD, 0, NULL, 0, fds, 2);
	close(fds[0]);
	close(fds[1]);
}

static void
s_irqfd_signalfd(struct ctx *c)
{
	sigset_t set;
	int fds[2];

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	fds[0] = evfd();
	fds[1] = signalfd(-1, &set, SFD_CLOEXEC);
	raw(c, WIRE_SET_IRQFD, 0, NULL, 0, fds, 2);
	close(fds[0]);
	close(fds[1]);
}

static void
s_irqfd_memfd(struct ctx *c)
{
	int fds[2] = { c->ram, evfd() };

	raw(c, WIRE_SET_IRQFD, 0, NULL, 0, fds, 2);
	close(fds[1]);
}

/* 500 SET_IRQFDs: each replaces the last; no fd may pile up. */
static void
s_irqfd_storm(struct ctx *c)
{
	int a0 = evfd(), b0 = evfd();

	/* the remote keeps one pair: count from there */
	assert_int_equal(proxy_set_irqfd(c->dev, a0, b0), 0);
	close(a0);
	close(b0);
	alive(c);
	c->base_fds = count_fds(c->remote);
	for (int i = 0; i < 500; i++) {
		int a = evfd(), b = evfd();

		assert_int_equal(proxy_set_irqfd(c->dev, a, b), 0);
		close(a);
		close(b);
	}
	alive(c);
}

/* --- storms and floods ------------------------------------------------ */

static void
s_reset_storm(struct ctx *c)
{
	program_bars(c);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(proxy_device_reset(c->dev), 0);
	alive(c);
}

static void
s_sysmem_storm(struct ctx *c)
{
	struct proxy_region r[2] = {
		{ 0, 0xc0000, c->ram, 0 },
		{ 0x100000, RAM_SIZE - 0x100000, c->ram, 0x100000 },
	};

	for (int i = 0; i < 1000; i++) {
		r[0].size = (i % 3) ? 0xc0000 : 0xd0000; /* remap, then keep */
		assert_int_equal(proxy_sync_sysmem(c->dev, r, 2), 0);
	}
	alive(c);
}

/*
 * A flood: 20000 requests, pipelined 100 at a time before their replies
 * are read (more at once would fill both socket buffers: that is the
 * peer that stops reading, below).
 */
static void
s_message_flood(struct ctx *c)
{
	struct wire_msg m, reply;

	wire_msg_init(&m, WIRE_PCI_CFGREAD);
	m.body.conf.len = 4;
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 100; i++)
			assert_int_equal(wire_send(c->peer.sock, &m, 5000), 0);
		for (int i = 0; i < 100; i++) {
			assert_int_equal(wire_recv(c->peer.sock, &reply, 5000), 1);
			assert_int_equal(reply.body.ret, 0x00121000);
		}
	}
	alive(c);
}

/*
 * A peer that sends and never reads: the remote's replies fill the socket
 * and it gives up after its deadline, with a reason.
 */
static void
s_peer_stops_reading(struct ctx *c)
{
	struct wire_msg m;
	int small = 4096, err = 0;

	setsockopt(c->peer.sock, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	wire_msg_init(&m, WIRE_PCI_CFGREAD);
	m.body.conf.len = 4;
	for (int i = 0; i < 200000 && err == 0; i++)
		err = wire_send(c->peer.sock, &m, 100);
	assert_int_equal(err, WIRE_E_TIMEOUT);
}

static const struct scenario scenarios[] = {
	{ "size field past the body", s_size_past_body, EXITS, "size field larger" },
	{ "size field 2^64-1", s_size_huge, EXITS, "size field larger" },
	{ "config read with an 8-byte body", s_size_wrong_cfg, EXITS, "size field wrong" },
	{ "BAR read with a 12-byte body", s_size_wrong_bar, EXITS, "size field wrong" },
	{ "DEVICE_RESET with a body", s_reset_with_body, EXITS, "size field wrong" },
	{ "header cut short", s_truncated_header, EXITS, "peer closed inside a message" },
	{ "body cut short", s_truncated_body, EXITS, "peer closed inside a message" },
	{ "unknown command 8", s_unknown_cmd, EXITS, "unknown command" },
	{ "unknown command -1", s_negative_cmd, EXITS, "unknown command" },
	{ "an fd on BAR_READ", s_fds_on_bar_read, EXITS, "fds on a command that takes none" },
	{ "fds on PCI_CFGWRITE", s_fds_on_cfg_write, EXITS, "fds on a command that takes none" },
	{ "an fd on DEVICE_RESET", s_fds_on_reset, EXITS, "fds on a command that takes none" },
	{ "9 fds on SYNC_SYSMEM", s_too_many_fds, EXITS, "more fds than the command allows" },
	{ "3 fds on SET_IRQFD", s_irqfd_three_fds, EXITS, "more fds than the command allows" },
	{ "40 fds: control message truncated", s_control_truncated, EXITS, "control message truncated" },
	{ "1 fd on SET_IRQFD", s_irqfd_one_fd, EXITS, "fewer fds than the command needs" },
	{ "SYNC_SYSMEM without fds", s_sysmem_no_fds, EXITS, "fewer fds than the command needs" },
	{ "fds riding on body bytes", s_fds_on_body_bytes, EXITS, "unexpected control data" },
	{ "a RET from the peer", s_ret_from_peer, EXITS, "RET: the remote only sends this command" },
	{ "garbage bytes", s_garbage, EXITS, "receive: " },
	{ "region backed by a pipe", s_region_pipe, EXITS, "not a memfd or regular file" },
	{ "region backed by an eventfd", s_region_eventfd, EXITS, "not a memfd or regular file" },
	{ "region backed by a socket", s_region_socket, EXITS, "not a memfd or regular file" },
	{ "region backed by a directory", s_region_directory, EXITS, "not a memfd or regular file" },
	{ "unsealed memfd, truncated after sending", s_region_unsealed, EXITS, "not sealed against shrinking" },
	{ "overlapping regions", s_region_overlap, EXITS, "overlaps region 0" },
	{ "gpa + size overflows", s_region_gpa_overflow, EXITS, "overflows" },
	{ "offset + size overflows", s_region_offset_overflow, EXITS, "ends past its fd" },
	{ "region past the end of its fd", s_region_past_end, EXITS, "ends past its fd" },
	{ "negative offset", s_region_negative_offset, EXITS, "bad size" },
	{ "zero-size region", s_region_zero_size, EXITS, "bad size" },
	{ "BAR accesses before any BAR is programmed", s_bar_unprogrammed, ALIVE, NULL },
	{ "BAR accesses outside every BAR", s_bar_outside, ALIVE, NULL },
	{ "BAR accesses of sizes 0 3 5 6 7 16 32 2^32-1", s_bar_sizes, ALIVE, NULL },
	{ "a BAR programmed at the top of 4 GiB", s_bar_wrapping_base, ALIVE, NULL },
	{ "config accesses past the end", s_cfg_past_end, ALIVE, NULL },
	{ "config accesses with bad lengths", s_cfg_bad_lengths, ALIVE, NULL },
	{ "SET_IRQFD with pipes", s_irqfd_pipes, EXITS, "interrupt fd is not an eventfd" },
	{ "SET_IRQFD with a timerfd", s_irqfd_timerfd, EXITS, "interrupt fd is not an eventfd" },
	{ "SET_IRQFD with a signalfd", s_irqfd_signalfd, EXITS, "resample fd is not an eventfd" },
	{ "SET_IRQFD with a memfd", s_irqfd_memfd, EXITS, "interrupt fd is not an eventfd" },
	{ "500 SET_IRQFDs", s_irqfd_storm, ALIVE, NULL },
	{ "2000 DEVICE_RESETs", s_reset_storm, ALIVE, NULL },
	{ "1000 SYNC_SYSMEMs", s_sysmem_storm, ALIVE, NULL },
	{ "20000 requests, pipelined 100 deep", s_message_flood, ALIVE, NULL },
	{ "a peer that stops reading", s_peer_stops_reading, EXITS, "deadline passed" },
};

static void
finish(struct ctx *c, const struct scenario *s)
{
	char err[2048];
	int status = 0;

	if (s->expect == ALIVE) {
		alive(c);
		if (count_fds(c->remote) != c->base_fds)
			fail_msg("%s: remote fds %d, were %d", s->name,
			    count_fds(c->remote), c->base_fds);
		proxy_detach(c->dev);
		assert_int_equal(peer_stop(&c->peer, 5000, &status), 0);
	} else {
		proxy_detach(c->dev);
		if (peer_wait(&c->peer, 20000, &status) < 0) {
			peer_stop(&c->peer, 1000, &status);
			fail_msg("%s: the remote did not exit", s->name);
		}
	}
	peer_stderr(&c->peer, err, sizeof(err));
	close(c->ram);
	if (!WIFEXITED(status))
		fail_msg("%s: mpjail-run died by signal %d", s->name,
		    WTERMSIG(status));
	if (WEXITSTATUS(status) >= 128)
		fail_msg("%s: mpjail-lsi died by signal %d (%s)", s->name,
		    WEXITSTATUS(status) - 128, err);
	switch (s->expect) {
	case ALIVE:
	case CLEAN:
		if (WEXITSTATUS(status) != 0 || err[0])
			fail_msg("%s: exit %d, stderr '%s'", s->name,
			    WEXITSTATUS(status), err);
		break;
	case EXITS:
		if (WEXITSTATUS(status) != 1 || !strstr(err, s->reason) ||
		    strchr(err, '\n') != err + strlen(err) - 1)
			fail_msg("%s: exit %d, stderr '%s', wanted one line "
			    "with '%s'", s->name, WEXITSTATUS(status), err,
			    s->reason);
		break;
	}
	if (!c->image_written && image_checksum(c->image) != c->image_sum)
		fail_msg("%s: the image changed", s->name);
	unlink(c->image);
}

static void
test_scenario(void **state)
{
	const struct scenario *s = *state;
	struct ctx c;

	start(&c);
	s->run(&c);
	finish(&c, s);
}

int
main(void)
{
	enum { N = sizeof(scenarios) / sizeof(scenarios[0]) };
	struct CMUnitTest tests[N];

	if (geteuid() != 0) {
		fprintf(stderr, "hostile-qemu: needs root (mpjail-run becomes "
		    "the tenant uid as the broker does)\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < N; i++) {
		tests[i] = (struct CMUnitTest){ scenarios[i].name, test_scenario,
		    NULL, NULL, (void *)&scenarios[i] };
	}
	return _cmocka_run_group_tests("hostile QEMU vs confined mpjail-lsi",
	    tests, N, NULL, NULL);
}
