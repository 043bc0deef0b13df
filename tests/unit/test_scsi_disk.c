/*
 * tests/unit/test_scsi_disk.c: the SCSI disk on images the test makes.
 * A table holds the bytes QEMU 7.2's scsi-hd answers (as read from its
 * source; to be re-checked live against QEMU's own remote once the LSI
 * driver model exists) for INQUIRY, VPD, READ CAPACITY, MODE SENSE, REPORT
 * LUNS and each error's sense. Then: unit attention, READ/WRITE round trips
 * in odd-sized pieces, range and overflow checks, write protection, I/O
 * errors through the block backend's test seam, flushes counted there.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "remote/scsi_disk.h"

#define NBLK    16384u                  /* 8 MiB of 512-byte blocks */
#define IMG     (NBLK * 512u)

/* The block backend's test seam: counts flushes, injects errors. */
struct seam {
	unsigned int syncs;
	int read_err, write_err, sync_err;
};

static ssize_t
s_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
	struct seam *s = ctx;

	if (s->read_err)
		return -s->read_err;
	return blk_sys_ops.pread(NULL, fd, buf, len, off);
}

static ssize_t
s_pwrite(void *ctx, int fd, const void *buf, size_t len, off_t off)
{
	struct seam *s = ctx;

	if (s->write_err)
		return -s->write_err;
	return blk_sys_ops.pwrite(NULL, fd, buf, len, off);
}

static int
s_fdatasync(void *ctx, int fd)
{
	struct seam *s = ctx;

	s->syncs++;
	if (s->sync_err)
		return -s->sync_err;
	return blk_sys_ops.fdatasync(NULL, fd);
}

static int
s_fallocate(void *ctx, int fd, int mode, off_t off, off_t len)
{
	(void)ctx;
	return blk_sys_ops.fallocate(NULL, fd, mode, off, len);
}

static const struct blk_ops seam_ops = {
	.pread = s_pread, .pwrite = s_pwrite, .fdatasync = s_fdatasync,
	.fallocate = s_fallocate,
};

struct fx {
	int fd;
	struct seam seam;
	struct scsi_disk d;
	struct scsi_req r;
	uint8_t in[1 << 17];
	size_t in_len;
	uint8_t sense[SCSI_SENSE_LEN];
	size_t sense_len;
};

static int
make_image(size_t size)
{
	char path[] = "/tmp/mpjail-scsi-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

/*
 * Run one command, moving data in pieces of `piece` bytes. Returns the
 * status; data-in lands in f->in, sense in f->sense.
 */
static int
run_p(struct fx *f, uint32_t lun, const uint8_t *cdb, size_t cdb_len,
    const void *out, size_t out_len, size_t piece)
{
	struct scsi_req *r = &f->r;
	const uint8_t *o = out;
	ssize_t n;
	int st;

	f->in_len = 0;
	assert_int_equal(scsi_req_start(r, &f->d, lun, cdb, cdb_len), 0);
	if (r->dir == SCSI_DIR_IN) {
		assert_true(r->xfer_len <= sizeof(f->in));
		while ((n = scsi_req_data_in(r, f->in + f->in_len, piece)) > 0)
			f->in_len += (size_t)n;
		assert_int_equal(n, 0);
	} else if (r->dir == SCSI_DIR_OUT) {
		assert_int_equal(r->xfer_len, out_len);
		while ((n = scsi_req_data_out(r, o, piece)) > 0)
			o += n;
		assert_int_equal(n, 0);
	}
	assert_true(scsi_req_data_done(r));
	st = scsi_req_complete(r);
	f->sense_len = scsi_req_get_sense(r, f->sense, sizeof(f->sense));
	return st;
}

static int
run(struct fx *f, uint32_t lun, const uint8_t *cdb, size_t cdb_len,
    const void *out, size_t out_len)
{
	return run_p(f, lun, cdb, cdb_len, out, out_len, 7);
}

#define RUN(f, ...) run((f), 0, (const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ }), NULL, 0)

static void
assert_sense(const struct fx *f, uint8_t key, uint8_t asc, uint8_t ascq)
{
	const uint8_t want[SCSI_SENSE_LEN] = {
		0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0,
	};

	assert_int_equal(f->sense_len, SCSI_SENSE_LEN);
	assert_memory_equal(f->sense, want, SCSI_SENSE_LEN);
}

#define ASSERT_CHECK(f, st, k, a, q) do {                                 \
		assert_int_equal((st), SCSI_STATUS_CHECK_CONDITION);      \
		assert_sense((f), (k), (a), (q));                         \
	} while (0)

static struct fx *
fx_new(size_t size, const struct scsi_disk_opts *o, bool ro)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct scsi_disk_opts opts = { .tcq = true };
	char p[64];

	assert_non_null(f);
	f->fd = make_image(size);
	if (ro) {
		int rfd;

		snprintf(p, sizeof(p), "/proc/self/fd/%d", f->fd);
		rfd = open(p, O_RDONLY | O_CLOEXEC);
		assert_true(rfd >= 0);
		close(f->fd);
		f->fd = rfd;
	}
	if (o != NULL)
		opts = *o;
	opts.io = &seam_ops;
	opts.io_ctx = &f->seam;
	assert_int_equal(scsi_disk_init(&f->d, f->fd, &opts), 0);
	return f;
}

/* A disk with the power-on unit attention already reported. */
static struct fx *
fx_ready(void)
{
	struct fx *f = fx_new(IMG, NULL, false);

	ASSERT_CHECK(f, RUN(f, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0x00);
	assert_int_equal(RUN(f, 0x00, 0, 0, 0, 0, 0), SCSI_STATUS_GOOD);
	return f;
}

static void
fx_free(struct fx *f)
{
	close(f->fd);
	free(f);
}

/* --- the table of QEMU 7.2 answers -------------------------------------- */

struct answer {
	const char *name;
	uint32_t lun;
	uint8_t cdb[16];
	uint8_t cdb_len;
	int status;
	uint8_t key, asc, ascq;         /* CHECK CONDITION rows */
	uint16_t len;                   /* data-in bytes */
	uint8_t data[128];              /* their first min(len, 128) bytes */
};

#define Q_INQ "QEMU    QEMU HARDDISK   2.5+"

/* Error rows stop after the sense triple. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct answer answers[] = {
	{ "INQUIRY std 36", 0, { 0x12, 0, 0, 0, 36, 0 }, 6, 0, 0, 0, 0, 36,
	    "\x00\x00\x05\x12\x1f\x00\x00\x12" Q_INQ },
	{ "INQUIRY std 96", 0, { 0x12, 0, 0, 0, 96, 0 }, 6, 0, 0, 0, 0, 96,
	    "\x00\x00\x05\x12\x5b\x00\x00\x12" Q_INQ },
	{ "INQUIRY std 5", 0, { 0x12, 0, 0, 0, 5, 0 }, 6, 0, 0, 0, 0, 5,
	    "\x00\x00\x05\x12\x1f" },
	{ "INQUIRY page without EVPD", 0, { 0x12, 0, 0x83, 0, 36, 0 }, 6, 2,
	    5, 0x24, 0 },
	{ "VPD 00", 0, { 0x12, 1, 0x00, 0, 9, 0 }, 6, 0, 0, 0, 0, 9,
	    "\x00\x00\x00\x05\x00\x83\xb0\xb1\xb2" },
	{ "VPD 00 padded", 0, { 0x12, 1, 0x00, 0, 16, 0 }, 6, 0, 0, 0, 0, 16,
	    "\x00\x00\x00\x05\x00\x83\xb0\xb1\xb2" },
	{ "VPD 80 without serial", 0, { 0x12, 1, 0x80, 0, 64, 0 }, 6, 2,
	    5, 0x24, 0 },
	{ "VPD 83 no id", 0, { 0x12, 1, 0x83, 0, 4, 0 }, 6, 0, 0, 0, 0, 4,
	    "\x00\x83\x00\x00" },
	{ "VPD b0", 0, { 0x12, 1, 0xb0, 0, 64, 0 }, 6, 0, 0, 0, 0, 64,
	    "\x00\xb0\x00\x3c\x01\x00\x00\x00" "\x00\x3f\xff\xff\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x00\x20\x00\x00" "\x00\x00\x00\xff\x00\x00\x00\x08"
	    "\x00\x00\x00\x00\x00\x00\x00\x00" "\x00\x3f\xff\xff" },
	{ "VPD b1", 0, { 0x12, 1, 0xb1, 0, 64, 0 }, 6, 0, 0, 0, 0, 64,
	    "\x00\xb1\x00\x3c" },
	{ "VPD b2", 0, { 0x12, 1, 0xb2, 0, 8, 0 }, 6, 0, 0, 0, 0, 8,
	    "\x00\xb2\x00\x04\x00\xe0\x02\x00" },
	{ "VPD 99", 0, { 0x12, 1, 0x99, 0, 64, 0 }, 6, 2, 5, 0x24, 0 },
	{ "READ CAPACITY(10)", 0, { 0x25 }, 10, 0, 0, 0, 0, 8,
	    "\x00\x00\x3f\xff\x00\x00\x02\x00" },
	{ "READ CAPACITY(10) LBA without PMI", 0, { 0x25, 0, 0, 0, 0, 1 }, 10,
	    2, 5, 0x24, 0 },
	{ "READ CAPACITY(16)", 0, { 0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 32 }, 16, 0, 0, 0, 0, 32,
	    "\x00\x00\x00\x00\x00\x00\x3f\xff\x00\x00\x02\x00\x00\x00\x80" },
	{ "SERVICE ACTION IN(16) 0x11", 0, { 0x9e, 0x11, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 32 }, 16, 2, 5, 0x24, 0 },
	{ "MODE SENSE(6) caching", 0, { 0x1a, 0, 0x08, 0, 36, 0 }, 6, 0,
	    0, 0, 0, 36, "\x1f\x00\x00\x08\x00\x00\x40\x00\x00\x00\x02\x00"
	    "\x08\x12\x04" },
	{ "MODE SENSE(10) caching DBD", 0, { 0x5a, 0x08, 0x08, 0, 0, 0, 0, 0,
	    28, 0 }, 10, 0, 0, 0, 0, 28,
	    "\x00\x1a\x00\x00\x00\x00\x00\x00\x08\x12\x04" },
	{ "MODE SENSE(6) caching changeable", 0, { 0x1a, 0x08, 0x48, 0, 24, 0 },
	    6, 0, 0, 0, 0, 24, "\x17\x00\x00\x00\x08\x12\x04" },
	{ "MODE SENSE(6) caching default", 0, { 0x1a, 0x08, 0x88, 0, 24, 0 },
	    6, 0, 0, 0, 0, 24, "\x17\x00\x00\x00\x08\x12\x04" },
	{ "MODE SENSE(6) saved", 0, { 0x1a, 0x08, 0xc8, 0, 24, 0 }, 6, 2,
	    5, 0x39, 0 },
	{ "MODE SENSE(6) control page", 0, { 0x1a, 0x08, 0x0a, 0, 24, 0 }, 6,
	    2, 5, 0x24, 0 },
	{ "MODE SENSE(6) all", 0, { 0x1a, 0x08, 0x3f, 0, 92, 0 }, 6, 0, 0, 0,
	    0, 92,
	    "\x5b\x00\x00\x00"
	    "\x01\x0a\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x04\x16\x00\x00\x10\x10\x00\x00\x10\x00\x00\x10\x00\xc8\xff\xff"
	    "\xff\x00\x00\x00\x15\x18\x00\x00"
	    "\x05\x1e\x13\x88\x10\x3f\x02\x00\x00\x10\x00\x10\x00\x10\x00\x01"
	    "\x01\x00\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x15\x18\x00\x00"
	    "\x08\x12\x04" },
	{ "MODE SENSE(10) all changeable", 0, { 0x5a, 0x08, 0x7f, 0, 0, 0, 0, 0,
	    96, 0 }, 10, 0, 0, 0, 0, 96,
	    "\x00\x5e\x00\x00\x00\x00\x00\x00"
	    "\x01\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x04\x16\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x05\x1e\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	    "\x08\x12\x04" },
	{ "REPORT LUNS", 0, { 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 12, 0, 0, 0, 0,
	    16, "\x00\x00\x00\x08" },
	{ "REPORT LUNS short", 0, { 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 8 }, 12, 2,
	    5, 0x24, 0 },
	{ "REPORT LUNS select 3", 0, { 0xa0, 0, 3, 0, 0, 0, 0, 0, 0, 16 }, 12,
	    2, 5, 0x24, 0 },
	{ "REQUEST SENSE, none", 0, { 0x03, 0, 0, 0, 252, 0 }, 6, 0, 0, 0, 0,
	    252, "\x70\x00\x00\x00\x00\x00\x00\x0a" },
	{ "REQUEST SENSE, none, descriptor", 0, { 0x03, 1, 0, 0, 8, 0 }, 6, 0,
	    0, 0, 0, 8, "\x72" },
	{ "TEST UNIT READY", 0, { 0x00 }, 6, 0, 0, 0, 0, 0, "" },
	{ "START STOP UNIT", 0, { 0x1b, 0, 0, 0, 1, 0 }, 6, 0, 0, 0, 0, 0, "" },
	{ "PREVENT ALLOW", 0, { 0x1e, 0, 0, 0, 1, 0 }, 6, 0, 0, 0, 0, 0, "" },
	{ "RESERVE(6)", 0, { 0x16 }, 6, 0, 0, 0, 0, 0, "" },
	{ "RESERVE(6) 3rd party", 0, { 0x16, 1 }, 6, 2, 5, 0x24, 0 },
	{ "RELEASE(10) 3rd party", 0, { 0x57, 2 }, 10, 2, 5, 0x24, 0 },
	{ "SEEK(10)", 0, { 0x2b, 0, 0, 0, 0x3f, 0xff }, 10, 0, 0, 0, 0, 0, "" },
	{ "SEEK(10) past end", 0, { 0x2b, 0, 0, 0, 0x40, 0 }, 10, 2, 5, 0x21,
	    0 },
	{ "VERIFY(10)", 0, { 0x2f, 0, 0, 0, 0, 0, 0, 0, 8, 0 }, 10, 0, 0, 0, 0,
	    0, "" },
	{ "VERIFY(10) BYTCHK", 0, { 0x2f, 2, 0, 0, 0, 0, 0, 0, 8, 0 }, 10, 2, 5,
	    0x24, 0 },
	{ "VERIFY(16)", 0, { 0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8 }, 16,
	    0, 0, 0, 0, 0, "" },
	{ "VERIFY(16) BYTCHK=3", 0, { 0x8f, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    8 }, 16, 2, 5, 0x24, 0 },
	{ "GET CONFIGURATION", 0, { 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0 }, 10, 2, 5,
	    0x24, 0 },
	{ "MECHANISM STATUS", 0, { 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0 }, 12,
	    2, 5, 0x24, 0 },
	{ "ATA PASS-THROUGH(16)", 0, { 0x85, 8, 0x0e, 0, 1, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0xec, 0 }, 16, 2, 5, 0x20, 0 },
	{ "ATA PASS-THROUGH(12)", 0, { 0xa1, 8, 0x0e, 1, 0, 0, 0, 0, 0, 0xec,
	    0, 0 }, 12, 2, 5, 0x20, 0 },
	{ "SYNCHRONIZE CACHE(16): QEMU 7.2 does not know it", 0, { 0x91 }, 16,
	    2, 5, 0x20, 0 },
	{ "LOG SENSE", 0, { 0x4d, 0, 0, 0, 0, 0, 0, 0, 64, 0 }, 10, 2, 5, 0x20,
	    0 },
	{ "unknown, allocation > 64 KiB", 0, { 0x4d, 0, 0, 0, 0, 0, 0, 0xff,
	    0xff, 0 }, 10, 2, 5, 0x20, 0 },
	{ "unknown 12-byte, allocation > 64 KiB", 0, { 0xa3, 0x0c, 0, 0, 0, 0,
	    0, 1, 0, 1, 0, 0 }, 12, 2, 5, 0x24, 0 },
	{ "reserved group opcode", 0, { 0x7f }, 16, 2, 5, 0x20, 0 },
	{ "CDB shorter than its group", 0, { 0x28 }, 6, 2, 5, 0x20, 0 },
	{ "READ(10) past end", 0, { 0x28, 0, 0, 0, 0x40, 0, 0, 0, 1, 0 }, 10,
	    2, 5, 0x21, 0 },
	{ "READ(10) straddles end", 0, { 0x28, 0, 0, 0, 0x3f, 0xff, 0, 0, 2, 0 },
	    10, 2, 5, 0x21, 0 },
	{ "READ(10) 0 blocks at end", 0, { 0x28, 0, 0, 0, 0x40, 0, 0, 0, 0, 0 },
	    10, 0, 0, 0, 0, 0, "" },
	{ "READ(16) LBA + length overflows", 0, { 0x88, 0, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 4 }, 16, 2, 5, 0x21, 0 },
	{ "READ(16) > INT32_MAX bytes", 0, { 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0x40, 0, 0 }, 16, 2, 5, 0x24, 0 },
	{ "READ(10) RDPROTECT", 0, { 0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0 }, 10,
	    2, 5, 0x24, 0 },
	{ "READ(6) upper byte-1 bits", 0, { 0x08, 0x20, 0, 0, 1, 0 }, 6, 2, 5,
	    0x24, 0 },
	{ "LUN 1 TEST UNIT READY", 1, { 0x00 }, 6, 2, 5, 0x25, 0 },
	{ "LUN 1 REPORT LUNS", 1, { 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16 }, 12, 2,
	    5, 0x25, 0 },
	{ "LUN 1 READ(10)", 1, { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10, 2,
	    5, 0x25, 0 },
	{ "LUN 1 INQUIRY", 1, { 0x12, 0, 0, 0, 96, 0 }, 6, 0, 0, 0, 0, 36,
	    "\x7f" },
	{ "LUN 1 INQUIRY VPD 00", 1, { 0x12, 1, 0, 0, 96, 0 }, 6, 0, 0, 0, 0, 4,
	    "\x00\x00\x01\x00" },
	{ "LUN 1 INQUIRY VPD 83", 1, { 0x12, 1, 0x83, 0, 96, 0 }, 6, 2, 5,
	    0x24, 0 },
	{ "LUN 1 REQUEST SENSE", 1, { 0x03, 0, 0, 0, 96, 0 }, 6, 0, 0, 0, 0, 18,
	    "\x70\x00\x05\x00\x00\x00\x00\x0a\x00\x00\x00\x00\x25\x00" },
	{ "LUN 1 REQUEST SENSE descriptor", 1, { 0x03, 1, 0, 0, 96, 0 }, 6, 0,
	    0, 0, 0, 8, "\x72\x05\x25\x00" },
};

static void
test_answers(void **state)
{
	struct fx *f = fx_ready();
	size_t i, n;
	uint8_t zero[1 << 10] = { 0 };
	int st;

	(void)state;
	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		const struct answer *a = &answers[i];

		print_message("  %s\n", a->name);
		/* A GOOD command first: no sense left over from the last row. */
		assert_int_equal(RUN(f, 0x00, 0, 0, 0, 0, 0), SCSI_STATUS_GOOD);
		st = run(f, a->lun, a->cdb, a->cdb_len, NULL, 0);
		assert_int_equal(st, a->status);
		if (st == SCSI_STATUS_CHECK_CONDITION) {
			assert_sense(f, a->key, a->asc, a->ascq);
			assert_int_equal(f->in_len, 0);
			continue;
		}
		assert_int_equal(f->sense_len, 0);
		assert_int_equal(f->in_len, a->len);
		n = a->len < sizeof(a->data) ? a->len : sizeof(a->data);
		assert_memory_equal(f->in, a->data, n);
		/* Everything past the listed bytes is zero. */
		if (a->len > sizeof(a->data))
			assert_memory_equal(f->in + n, zero, a->len - n);
	}
	fx_free(f);
}

/* --- unit attention -------------------------------------------------------- */

static void
test_unit_attention(void **state)
{
	struct fx *f = fx_new(IMG, NULL, false);
	int st;

	(void)state;
	/* INQUIRY and REPORT LUNS pass; the UA stays pending. */
	assert_int_equal(RUN(f, 0x12, 0, 0, 0, 36, 0), SCSI_STATUS_GOOD);
	assert_int_equal(RUN(f, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0),
	    SCSI_STATUS_GOOD);
	/* REQUEST SENSE does not pass before the UA was reported once. */
	st = RUN(f, 0x03, 0, 0, 0, 18, 0);
	ASSERT_CHECK(f, st, 6, 0x29, 0);
	/* Now REQUEST SENSE returns it again as data, and clears it. */
	assert_int_equal(RUN(f, 0x03, 0, 0, 0, 18, 0), SCSI_STATUS_GOOD);
	assert_int_equal(f->in_len, 18);
	assert_int_equal(f->in[2], 6);
	assert_int_equal(f->in[12], 0x29);
	assert_int_equal(RUN(f, 0x03, 0, 0, 0, 18, 0), SCSI_STATUS_GOOD);
	assert_int_equal(f->in[2], 0);
	assert_int_equal(RUN(f, 0x00, 0, 0, 0, 0, 0), SCSI_STATUS_GOOD);

	/* A reset raises it again; READ(10) is refused and reads nothing. */
	scsi_disk_reset(&f->d);
	st = RUN(f, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	ASSERT_CHECK(f, st, 6, 0x29, 0);
	assert_int_equal(f->in_len, 0);
	assert_int_equal(RUN(f, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(f->in_len, 512);
	/* The UA outranks LUN NOT SUPPORTED. */
	scsi_disk_reset(&f->d);
	st = run(f, 3, (const uint8_t[6]){ 0 }, 6, NULL, 0);
	ASSERT_CHECK(f, st, 6, 0x29, 0);
	fx_free(f);
}

static void
test_request_sense_after_error(void **state)
{
	struct fx *f = fx_ready();
	int st;

	(void)state;
	st = RUN(f, 0x28, 0, 0, 0, 0x40, 0, 0, 0, 1, 0);
	ASSERT_CHECK(f, st, 5, 0x21, 0);
	/* Fixed, truncated to the allocation length. */
	assert_int_equal(RUN(f, 0x03, 0, 0, 0, 14, 0), SCSI_STATUS_GOOD);
	assert_int_equal(f->in_len, 14);
	assert_int_equal(f->in[0], 0x70);
	assert_int_equal(f->in[2], 5);
	assert_int_equal(f->in[12], 0x21);
	/* That REQUEST SENSE was GOOD, so the sense is gone. */
	assert_int_equal(RUN(f, 0x03, 0, 0, 0, 18, 0), SCSI_STATUS_GOOD);
	assert_int_equal(f->in[2], 0);
	/* Descriptor format on request. */
	st = RUN(f, 0xff);
	ASSERT_CHECK(f, st, 5, 0x20, 0);
	assert_int_equal(RUN(f, 0x03, 1, 0, 0, 252, 0), SCSI_STATUS_GOOD);
	assert_int_equal(f->in_len, 8);
	assert_memory_equal(f->in, "\x72\x05\x20\x00\x00\x00\x00\x00", 8);
	fx_free(f);
}

/* --- READ / WRITE ------------------------------------------------------- */

static void
fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131u + seed + i / 509u);
}

static void
rw_case(struct fx *f, const uint8_t *wcdb, const uint8_t *rcdb, size_t len,
    uint64_t off, size_t piece)
{
	static uint8_t w[1 << 17], img[1 << 17];
	uint8_t n = (uint8_t)(wcdb[0] < 0x20 ? 6 : wcdb[0] < 0x60 ? 10 :
	    wcdb[0] < 0xa0 ? 16 : 12);

	fill(w, len, wcdb[0]);
	assert_int_equal(run_p(f, 0, wcdb, n, w, len, piece), SCSI_STATUS_GOOD);
	/* It is in the file, at the right place. */
	assert_int_equal(pread(f->fd, img, len, (off_t)off), (ssize_t)len);
	assert_memory_equal(img, w, len);
	assert_int_equal(run_p(f, 0, rcdb, n, NULL, 0, piece),
	    SCSI_STATUS_GOOD);
	assert_int_equal(f->in_len, len);
	assert_memory_equal(f->in, w, len);
}

static void
test_read_write(void **state)
{
	struct fx *f = fx_ready();

	(void)state;
	/* (6): LBA 0x1234, 3 blocks. */
	rw_case(f, (const uint8_t[]){ 0x0a, 0, 0x12, 0x34, 3, 0 },
	    (const uint8_t[]){ 0x08, 0, 0x12, 0x34, 3, 0 }, 3 * 512,
	    0x1234 * 512ull, 7);
	/* (6) with length 0 = 256 blocks. */
	rw_case(f, (const uint8_t[]){ 0x0a, 0, 0, 0x10, 0, 0 },
	    (const uint8_t[]){ 0x08, 0, 0, 0x10, 0, 0 }, 256 * 512,
	    0x10 * 512ull, 4099);
	/* (10) at the last blocks. */
	rw_case(f, (const uint8_t[]){ 0x2a, 0, 0, 0, 0x3f, 0xf0, 0, 0, 16, 0 },
	    (const uint8_t[]){ 0x28, 0, 0, 0, 0x3f, 0xf0, 0, 0, 16, 0 },
	    16 * 512, 0x3ff0 * 512ull, 1);
	/* (12) */
	rw_case(f, (const uint8_t[]){ 0xaa, 0, 0, 0, 0x20, 0, 0, 0, 0, 5, 0,
	    0 }, (const uint8_t[]){ 0xa8, 0, 0, 0, 0x20, 0, 0, 0, 0, 5, 0, 0 },
	    5 * 512, 0x2000 * 512ull, 1000);
	/* (16) */
	rw_case(f, (const uint8_t[]){ 0x8a, 0, 0, 0, 0, 0, 0, 0, 0x30, 0, 0,
	    0, 0, 9, 0, 0 }, (const uint8_t[]){ 0x88, 0, 0, 0, 0, 0, 0, 0,
	    0x30, 0, 0, 0, 0, 9, 0, 0 }, 9 * 512, 0x3000 * 512ull, 512);
	/* WRITE AND VERIFY(10) writes, and flushes (it implies FUA). */
	f->seam.syncs = 0;
	rw_case(f, (const uint8_t[]){ 0x2e, 0, 0, 0, 0x01, 0, 0, 0, 2, 0 },
	    (const uint8_t[]){ 0x28, 0, 0, 0, 0x01, 0, 0, 0, 2, 0 }, 1024,
	    0x100 * 512ull, 300);
	assert_int_equal(f->seam.syncs, 1);
	fx_free(f);
}

static void
test_pieces_and_residual(void **state)
{
	struct fx *f = fx_ready();
	struct scsi_req *r = &f->r;
	uint8_t buf[4096];
	const uint8_t rd[] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0 };

	(void)state;
	/* A READ(10) of 8 blocks: the adapter takes 100 bytes, then stops. */
	assert_int_equal(scsi_req_start(r, &f->d, 0, rd, sizeof(rd)), 0);
	assert_int_equal(r->dir, SCSI_DIR_IN);
	assert_int_equal(r->xfer_len, 4096);
	assert_int_equal(scsi_req_data_in(r, buf, 100), 100);
	assert_false(scsi_req_data_done(r));
	assert_int_equal(scsi_req_residual(r), 3996);
	assert_int_equal(scsi_req_data_out(r, buf, 1), -EINVAL);
	assert_int_equal(scsi_req_complete(r), SCSI_STATUS_GOOD);
	assert_int_equal(scsi_req_complete(r), -EINVAL);

	/* A WRITE cut short cannot complete; it is cancelled instead. */
	const uint8_t wr[] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 8, 0 };

	assert_int_equal(scsi_req_start(r, &f->d, 0, wr, sizeof(wr)), 0);
	assert_int_equal(r->dir, SCSI_DIR_OUT);
	assert_int_equal(scsi_req_data_out(r, buf, 10), 10);
	assert_int_equal(scsi_req_complete(r), -EBUSY);
	scsi_req_cancel(r);
	assert_int_equal(scsi_req_complete(r), -EINVAL);
	/* More than the transfer length is not taken. */
	assert_int_equal(scsi_req_start(r, &f->d, 0, wr, sizeof(wr)), 0);
	{
		static uint8_t big[8192];

		assert_int_equal(scsi_req_data_out(r, big, sizeof(big)), 4096);
		assert_int_equal(scsi_req_data_out(r, big, sizeof(big)), 0);
	}
	assert_int_equal(scsi_req_complete(r), SCSI_STATUS_GOOD);
	fx_free(f);
}

static void
test_block_4096(void **state)
{
	struct scsi_disk_opts o = { .block_size = 4096 };
	struct fx *f = fx_new(IMG, &o, false);

	(void)state;
	ASSERT_CHECK(f, RUN(f, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0);
	assert_int_equal(RUN(f, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_memory_equal(f->in, "\x00\x00\x07\xff\x00\x00\x10\x00", 8);
	rw_case(f, (const uint8_t[]){ 0x2a, 0, 0, 0, 0x07, 0xfe, 0, 0, 2, 0 },
	    (const uint8_t[]){ 0x28, 0, 0, 0, 0x07, 0xfe, 0, 0, 2, 0 },
	    2 * 4096, 0x7fe * 4096ull, 777);
	ASSERT_CHECK(f, RUN(f, 0x28, 0, 0, 0, 0x08, 0, 0, 0, 1, 0), 5, 0x21, 0);
	/* Block descriptor and flexible page carry the block size. */
	assert_int_equal(RUN(f, 0x1a, 0, 0x05, 0, 64, 0), SCSI_STATUS_GOOD);
	assert_memory_equal(f->in + 4, "\x00\x00\x08\x00\x00\x00\x10\x00", 8);
	assert_int_equal(f->in[12 + 2 + 4], 0x10);
	fx_free(f);
}

/* --- write protection, errors, flushes ----------------------------------- */

static void
test_write_protected(void **state)
{
	struct fx *f = fx_new(IMG, NULL, true);
	uint8_t blk[512] = { 1 };
	uint8_t unmap[24] = { 0, 22, 0, 16 };
	int st;

	(void)state;
	ASSERT_CHECK(f, RUN(f, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0);
	ASSERT_CHECK(f, RUN(f, 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0), 7, 0x27, 0);
	ASSERT_CHECK(f, RUN(f, 0x0a, 0, 0, 0, 1, 0), 7, 0x27, 0);
	ASSERT_CHECK(f, RUN(f, 0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
	    0), 7, 0x27, 0);
	/* WRITE SAME and UNMAP refuse after their data-out. */
	st = run(f, 0, (const uint8_t[]){ 0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10,
	    blk, sizeof(blk));
	ASSERT_CHECK(f, st, 7, 0x27, 0);
	st = run(f, 0, (const uint8_t[]){ 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0 },
	    10, unmap, sizeof(unmap));
	ASSERT_CHECK(f, st, 7, 0x27, 0);
	/* Reads work; MODE SENSE says WP. */
	assert_int_equal(RUN(f, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(RUN(f, 0x1a, 8, 0x08, 0, 24, 0), SCSI_STATUS_GOOD);
	assert_int_equal(f->in[2], 0x80);
	fx_free(f);
}

static void
test_io_errors(void **state)
{
	struct fx *f = fx_ready();
	uint8_t blk[512] = { 1 };
	int st;

	(void)state;
	/* EIO on a read: QEMU answers ABORTED COMMAND, I/O PROCESS TERMINATED. */
	f->seam.read_err = EIO;
	st = RUN(f, 0x28, 0, 0, 0, 0, 0, 0, 0, 4, 0);
	ASSERT_CHECK(f, st, 0x0b, 0x00, 0x06);
	assert_int_equal(f->in_len, 0);
	/* ENODATA is QEMU's medium error: UNRECOVERED READ ERROR. */
	f->seam.read_err = ENODATA;
	st = RUN(f, 0x28, 0, 0, 0, 0, 0, 0, 0, 4, 0);
	ASSERT_CHECK(f, st, 0x03, 0x11, 0x00);
	f->seam.read_err = 0;
	/* EIO on a write: the data phase ends at once. */
	f->seam.write_err = EIO;
	st = run(f, 0, (const uint8_t[]){ 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10,
	    blk, sizeof(blk));
	ASSERT_CHECK(f, st, 0x0b, 0x00, 0x06);
	/* ENOSPC: SPACE ALLOCATION FAILED WRITE PROTECT. */
	f->seam.write_err = ENOSPC;
	st = run(f, 0, (const uint8_t[]){ 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, 10,
	    blk, sizeof(blk));
	ASSERT_CHECK(f, st, 0x07, 0x27, 0x07);
	f->seam.write_err = 0;
	/* A failing flush fails SYNCHRONIZE CACHE. */
	f->seam.sync_err = EIO;
	ASSERT_CHECK(f, RUN(f, 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0x0b, 0, 6);
	f->seam.sync_err = 0;
	/* Status-only mappings. */
	{
		struct scsi_sense s = { 0 };

		assert_int_equal(scsi_status_from_errno(EDOM, &s),
		    SCSI_STATUS_TASK_SET_FULL);
		assert_int_equal(scsi_status_from_errno(EBADE, &s),
		    SCSI_STATUS_RESERVATION_CONFLICT);
		assert_int_equal(scsi_status_from_errno(EINVAL, &s),
		    SCSI_STATUS_CHECK_CONDITION);
		assert_int_equal(s.asc, 0x24);
	}
	fx_free(f);
}

static void
test_flushes(void **state)
{
	struct fx *f = fx_ready();
	uint8_t blk[512] = { 1 };
	unsigned int before;

	(void)state;
	before = f->seam.syncs;
	assert_int_equal(RUN(f, 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(f->seam.syncs, before + 1);
	/* A plain WRITE(10) with the write cache on: no flush. */
	before = f->seam.syncs;
	assert_int_equal(run(f, 0, (const uint8_t[]){ 0x2a, 0, 0, 0, 0, 0, 0,
	    0, 1, 0 }, 10, blk, sizeof(blk)), SCSI_STATUS_GOOD);
	assert_int_equal(f->seam.syncs, before);
	/* FUA: one flush. */
	assert_int_equal(run(f, 0, (const uint8_t[]){ 0x2a, 8, 0, 0, 0, 0, 0,
	    0, 1, 0 }, 10, blk, sizeof(blk)), SCSI_STATUS_GOOD);
	assert_int_equal(f->seam.syncs, before + 1);
	/* FUA read: flushes first. */
	assert_int_equal(RUN(f, 0x28, 8, 0, 0, 0, 0, 0, 0, 1, 0),
	    SCSI_STATUS_GOOD);
	assert_int_equal(f->seam.syncs, before + 2);
	fx_free(f);
}

/* --- MODE SELECT ------------------------------------------------------------ */

static void
test_mode_select(void **state)
{
	struct fx *f = fx_ready();
	uint8_t ms6[4 + 20] = { 0, 0, 0, 0, 0x08, 0x12, 0x00 };
	uint8_t ms10[8 + 8 + 20] = { 0, 0, 0, 0, 0, 0, 0, 8 };
	uint8_t blk[512] = { 1 };
	unsigned int before;
	int st;

	(void)state;
	/* WCE off through MODE SELECT(6): MODE SENSE shows it, writes flush. */
	assert_int_equal(run(f, 0, (const uint8_t[]){ 0x15, 0x10, 0, 0,
	    sizeof(ms6), 0 }, 6, ms6, sizeof(ms6)), SCSI_STATUS_GOOD);
	assert_int_equal(RUN(f, 0x1a, 8, 0x08, 0, 24, 0), SCSI_STATUS_GOOD);
	assert_int_equal(f->in[4 + 2], 0x00);
	before = f->seam.syncs;
	assert_int_equal(run(f, 0, (const uint8_t[]){ 0x2a, 0, 0, 0, 0, 0, 0,
	    0, 1, 0 }, 10, blk, sizeof(blk)), SCSI_STATUS_GOOD);
	assert_int_equal(f->seam.syncs, before + 1);
	/* Back on through MODE SELECT(10) with a block descriptor. */
	ms10[16] = 0x08;
	ms10[17] = 0x12;
	ms10[18] = 0x04;
	assert_int_equal(run(f, 0, (const uint8_t[]){ 0x55, 0x10, 0, 0, 0, 0,
	    0, 0, sizeof(ms10), 0 }, 10, ms10, sizeof(ms10)), SCSI_STATUS_GOOD);
	assert_int_equal(RUN(f, 0x1a, 8, 0x08, 0, 24, 0), SCSI_STATUS_GOOD);
	assert_int_equal(f->in[4 + 2], 0x04);
	/* PF=0: INVALID FIELD IN CDB (after the data-out). */
	st = run(f, 0, (const uint8_t[]){ 0x15, 0, 0, 0, sizeof(ms6), 0 }, 6,
	    ms6, sizeof(ms6));
	ASSERT_CHECK(f, st, 5, 0x24, 0);
	/* Changing a bit that is not changeable: INVALID FIELD IN PARAM LIST. */
	ms6[6] = 0x05;
	st = run(f, 0, (const uint8_t[]){ 0x15, 0x10, 0, 0, sizeof(ms6), 0 },
	    6, ms6, sizeof(ms6));
	ASSERT_CHECK(f, st, 5, 0x26, 0);
	ms6[6] = 0x04;
	/* Wrong page length. */
	ms6[5] = 0x11;
	st = run(f, 0, (const uint8_t[]){ 0x15, 0x10, 0, 0, sizeof(ms6), 0 },
	    6, ms6, sizeof(ms6));
	ASSERT_CHECK(f, st, 5, 0x26, 0);
	/* Page longer than the list: PARAMETER LIST LENGTH ERROR. */
	ms6[5] = 0x40;
	st = run(f, 0, (const uint8_t[]){ 0x15, 0x10, 0, 0, sizeof(ms6), 0 },
	    6, ms6, sizeof(ms6));
	ASSERT_CHECK(f, st, 5, 0x1a, 0);
	ms6[5] = 0x12;
	/* Header shorter than 4 bytes. */
	st = run(f, 0, (const uint8_t[]){ 0x15, 0x10, 0, 0, 3, 0 }, 6, ms6, 3);
	ASSERT_CHECK(f, st, 5, 0x1a, 0);
	/* Block descriptor length 4. */
	{
		uint8_t bad[8] = { 0, 0, 0, 4 };

		st = run(f, 0, (const uint8_t[]){ 0x15, 0x10, 0, 0, 8, 0 }, 6,
		    bad, 8);
		ASSERT_CHECK(f, st, 5, 0x26, 0);
	}
	/* Page 0x3f, and the control page, are not selectable. */
	{
		uint8_t bad[6] = { 0, 0, 0, 0, 0x0a, 0 };

		st = run(f, 0, (const uint8_t[]){ 0x15, 0x10, 0, 0, 6, 0 }, 6,
		    bad, 6);
		ASSERT_CHECK(f, st, 5, 0x26, 0);
	}
	/* Zero length: nothing to do. */
	assert_int_equal(RUN(f, 0x15, 0x10, 0, 0, 0, 0), SCSI_STATUS_GOOD);
	/* A failed check changed nothing: WCE still on. */
	assert_int_equal(RUN(f, 0x1a, 8, 0x08, 0, 24, 0), SCSI_STATUS_GOOD);
	assert_int_equal(f->in[4 + 2], 0x04);
	fx_free(f);
}

/* --- WRITE SAME, UNMAP ------------------------------------------------------- */

static void
test_write_same(void **state)
{
	struct fx *f = fx_ready();
	static uint8_t img[64 * 512];
	uint8_t pat[512], zero[512] = { 0 };
	unsigned int i;
	int st;

	(void)state;
	fill(pat, sizeof(pat), 5);
	/* WRITE SAME(10): 40 blocks of the pattern at LBA 100. */
	assert_int_equal(run(f, 0, (const uint8_t[]){ 0x41, 0, 0, 0, 0, 100, 0,
	    0, 40, 0 }, 10, pat, sizeof(pat)), SCSI_STATUS_GOOD);
	assert_int_equal(pread(f->fd, img, 42 * 512, 99 * 512), 42 * 512);
	assert_memory_equal(img, zero, 512);
	for (i = 1; i <= 40; i++)
		assert_memory_equal(img + i * 512, pat, 512);
	assert_memory_equal(img + 41 * 512, zero, 512);
	/* WRITE SAME(16) of zeroes with UNMAP over part of it. */
	assert_int_equal(run(f, 0, (const uint8_t[]){ 0x93, 0x08, 0, 0, 0, 0,
	    0, 0, 0, 110, 0, 0, 0, 10, 0, 0 }, 16, zero, sizeof(zero)),
	    SCSI_STATUS_GOOD);
	assert_int_equal(pread(f->fd, img, 40 * 512, 100 * 512), 40 * 512);
	for (i = 0; i < 40; i++)
		assert_memory_equal(img + i * 512,
		    i >= 10 && i < 20 ? zero : pat, 512);
	/* 0 blocks (WSNZ): refused after the data-out. */
	st = run(f, 0, (const uint8_t[]){ 0x41, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 10,
	    pat, sizeof(pat));
	ASSERT_CHECK(f, st, 5, 0x24, 0);
	/* Past the end; ANCHOR; obsolete bit 0 means no data and no write. */
	st = run(f, 0, (const uint8_t[]){ 0x41, 0, 0, 0, 0x3f, 0xff, 0, 0, 2,
	    0 }, 10, pat, sizeof(pat));
	ASSERT_CHECK(f, st, 5, 0x21, 0);
	st = run(f, 0, (const uint8_t[]){ 0x41, 0x10, 0, 0, 0, 0, 0, 0, 2, 0 },
	    10, pat, sizeof(pat));
	ASSERT_CHECK(f, st, 5, 0x24, 0);
	assert_int_equal(RUN(f, 0x41, 1, 0, 0, 0, 0, 0, 0, 2, 0),
	    SCSI_STATUS_GOOD);
	fx_free(f);
}

static void
test_unmap(void **state)
{
	struct fx *f = fx_ready();
	static uint8_t w[32 * 512], img[32 * 512], zero[32 * 512];
	uint8_t list[8 + 32] = {
		0, 38, 0, 32,  0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 8,  0, 0, 0, 8,  0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 24, 0, 0, 0, 4,  0, 0, 0, 0,
	};
	int st;

	(void)state;
	fill(w, sizeof(w), 11);
	assert_int_equal(pwrite(f->fd, w, sizeof(w), 0), (ssize_t)sizeof(w));
	assert_int_equal(run(f, 0, (const uint8_t[]){ 0x42, 0, 0, 0, 0, 0, 0,
	    0, sizeof(list), 0 }, 10, list, sizeof(list)), SCSI_STATUS_GOOD);
	assert_int_equal(pread(f->fd, img, sizeof(img), 0), (ssize_t)sizeof(img));
	assert_memory_equal(img, w, 8 * 512);
	assert_memory_equal(img + 8 * 512, zero, 8 * 512);
	assert_memory_equal(img + 16 * 512, w + 16 * 512, 8 * 512);
	assert_memory_equal(img + 24 * 512, zero, 4 * 512);
	assert_memory_equal(img + 28 * 512, w + 28 * 512, 4 * 512);
	/* ANCHOR. */
	st = run(f, 0, (const uint8_t[]){ 0x42, 1, 0, 0, 0, 0, 0, 0,
	    sizeof(list), 0 }, 10, list, sizeof(list));
	ASSERT_CHECK(f, st, 5, 0x24, 0);
	/* Descriptor length not a multiple of 16. */
	list[3] = 31;
	st = run(f, 0, (const uint8_t[]){ 0x42, 0, 0, 0, 0, 0, 0, 0,
	    sizeof(list), 0 }, 10, list, sizeof(list));
	ASSERT_CHECK(f, st, 5, 0x1a, 0);
	list[3] = 32;
	/* Too short a list. */
	st = run(f, 0, (const uint8_t[]){ 0x42, 0, 0, 0, 0, 0, 0, 0, 7, 0 },
	    10, list, 7);
	ASSERT_CHECK(f, st, 5, 0x1a, 0);
	/* A descriptor past the end. */
	list[8 + 6] = 0x3f;
	list[8 + 7] = 0xff;
	st = run(f, 0, (const uint8_t[]){ 0x42, 0, 0, 0, 0, 0, 0, 0,
	    sizeof(list), 0 }, 10, list, sizeof(list));
	ASSERT_CHECK(f, st, 5, 0x21, 0);
	/* Parameter lists beyond the request buffer are refused up front. */
	st = RUN(f, 0x42, 0, 0, 0, 0, 0, 0, 0x20, 0, 0);
	ASSERT_CHECK(f, st, 5, 0x24, 0);
	fx_free(f);
}

/* --- options and odd images ------------------------------------------------- */

static void
test_identity_options(void **state)
{
	struct scsi_disk_opts o = {
		.serial = "SN123", .device_id = "d0", .wwn = 0x5000c50012345678ull,
		.vendor = "ACME", .product = "A VERY LONG PRODUCT NAME",
	};
	struct fx *f = fx_new(IMG, &o, false);

	(void)state;
	ASSERT_CHECK(f, RUN(f, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0);
	assert_int_equal(RUN(f, 0x12, 0, 0, 0, 36, 0), SCSI_STATUS_GOOD);
	assert_memory_equal(f->in + 8, "ACME    A VERY LONG PROD2.5+", 28);
	assert_int_equal(f->in[7], 0x10);       /* no TCQ asked for */
	assert_int_equal(RUN(f, 0x12, 1, 0x00, 0, 10, 0), SCSI_STATUS_GOOD);
	assert_memory_equal(f->in, "\x00\x00\x00\x06\x00\x80\x83\xb0\xb1\xb2",
	    10);
	assert_int_equal(RUN(f, 0x12, 1, 0x80, 0, 9, 0), SCSI_STATUS_GOOD);
	assert_memory_equal(f->in, "\x00\x80\x00\x05" "SN123", 9);
	assert_int_equal(RUN(f, 0x12, 1, 0x83, 0, 22, 0), SCSI_STATUS_GOOD);
	assert_memory_equal(f->in, "\x00\x83\x00\x12\x02\x00\x00\x02" "d0"
	    "\x01\x03\x00\x08\x50\x00\xc5\x00\x12\x34\x56\x78", 22);
	fx_free(f);
}

static void
test_geometry_from_mbr(void **state)
{
	struct fx *f = fx_new(IMG, NULL, false);
	uint8_t mbr[512] = { 0 };

	(void)state;
	/* One partition ending at head 3, sector 32: 4 heads, 32 sectors. */
	mbr[0x1be + 5] = 3;
	mbr[0x1be + 6] = 32;
	mbr[0x1be + 12] = 100;
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	assert_int_equal(pwrite(f->fd, mbr, 512, 0), 512);
	fx_free(f);
	/* Geometry is sampled at init: set up a fresh disk over the file. */
	{
		struct fx *g = calloc(1, sizeof(*g));

		assert_non_null(g);
		g->fd = make_image(IMG);
		assert_int_equal(pwrite(g->fd, mbr, 512, 0), 512);
		assert_int_equal(scsi_disk_init(&g->d, g->fd, NULL), 0);
		assert_int_equal(g->d.heads, 4);
		assert_int_equal(g->d.sectors, 32);
		assert_int_equal(g->d.cylinders, NBLK / (4 * 32));
		ASSERT_CHECK(g, RUN(g, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0);
		assert_int_equal(RUN(g, 0x1a, 8, 0x04, 0, 28, 0),
		    SCSI_STATUS_GOOD);
		assert_memory_equal(g->in + 4, "\x04\x16\x00\x00\x80\x04", 6);
		fx_free(g);
	}
}

static void
test_empty_image(void **state)
{
	struct fx *f = fx_new(0, NULL, false);

	(void)state;
	ASSERT_CHECK(f, RUN(f, 0x00, 0, 0, 0, 0, 0), 6, 0x29, 0);
	ASSERT_CHECK(f, RUN(f, 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), 2, 0x04, 0x03);
	ASSERT_CHECK(f, RUN(f, 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0), 5, 0x21, 0);
	fx_free(f);
}

static void
test_bad_arguments(void **state)
{
	struct fx *f = fx_ready();
	uint8_t b[4];

	(void)state;
	assert_int_equal(scsi_req_start(NULL, &f->d, 0, b, 0), -EINVAL);
	assert_int_equal(scsi_req_start(&f->r, NULL, 0, b, 0), -EINVAL);
	/* An empty CDB is an invalid opcode, not a crash. */
	assert_int_equal(scsi_req_start(&f->r, &f->d, 0, NULL, 0), 0);
	assert_int_equal(scsi_req_complete(&f->r),
	    SCSI_STATUS_CHECK_CONDITION);
	assert_int_equal(scsi_req_data_in(&f->r, b, 4), -EINVAL);
	assert_int_equal(scsi_disk_init(&f->d, -1, NULL), -EINVAL);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_unit_attention),
		cmocka_unit_test(test_request_sense_after_error),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_pieces_and_residual),
		cmocka_unit_test(test_block_4096),
		cmocka_unit_test(test_write_protected),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_flushes),
		cmocka_unit_test(test_mode_select),
		cmocka_unit_test(test_write_same),
		cmocka_unit_test(test_unmap),
		cmocka_unit_test(test_identity_options),
		cmocka_unit_test(test_geometry_from_mbr),
		cmocka_unit_test(test_empty_image),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests_name("scsi_disk", tests, NULL, NULL);
}
