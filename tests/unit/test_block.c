/*
 * tests/unit/test_block.c: the block backend on images the test makes
 * (mkstemp in /tmp). Data round-trips; short transfers and EINTR are
 * retried (through the blk_ops test seam); read-only fds refuse writes;
 * ranges are checked; zeroing and discard leave zeroes, with and without
 * fallocate support; flush reaches fdatasync.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "remote/block.h"

#define IMG_SIZE (1024u * 1024u)

static int
make_image(size_t size)
{
	char path[] = "/tmp/mpjail-blk-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static int
reopen_ro(int fd)
{
	char p[64];
	int ro;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	ro = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	return ro;
}

/* A test seam that counts calls, cuts transfers short, injects errors. */
struct fake {
	unsigned int preads, pwrites, syncs, fallocs;
	size_t max_io;          /* 0: no limit */
	int eintr_left;         /* return -EINTR this many times first */
	int pread_err, pwrite_err, sync_err, falloc_err;
};

static ssize_t
f_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
	struct fake *f = ctx;

	f->preads++;
	if (f->eintr_left > 0) {
		f->eintr_left--;
		return -EINTR;
	}
	if (f->pread_err)
		return -f->pread_err;
	if (f->max_io && len > f->max_io)
		len = f->max_io;
	return blk_sys_ops.pread(NULL, fd, buf, len, off);
}

static ssize_t
f_pwrite(void *ctx, int fd, const void *buf, size_t len, off_t off)
{
	struct fake *f = ctx;

	f->pwrites++;
	if (f->eintr_left > 0) {
		f->eintr_left--;
		return -EINTR;
	}
	if (f->pwrite_err)
		return -f->pwrite_err;
	if (f->max_io && len > f->max_io)
		len = f->max_io;
	return blk_sys_ops.pwrite(NULL, fd, buf, len, off);
}

static int
f_fdatasync(void *ctx, int fd)
{
	struct fake *f = ctx;

	f->syncs++;
	if (f->sync_err)
		return -f->sync_err;
	return blk_sys_ops.fdatasync(NULL, fd);
}

static int
f_fallocate(void *ctx, int fd, int mode, off_t off, off_t len)
{
	struct fake *f = ctx;

	f->fallocs++;
	if (f->falloc_err)
		return -f->falloc_err;
	return blk_sys_ops.fallocate(NULL, fd, mode, off, len);
}

static const struct blk_ops fake_ops = {
	.pread = f_pread, .pwrite = f_pwrite, .fdatasync = f_fdatasync,
	.fallocate = f_fallocate,
};

static void
fill(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31u + seed);
}

static void
test_init_sizes(void **state)
{
	struct blk_dev b;
	int fd = make_image(IMG_SIZE + 100);

	(void)state;
	assert_int_equal(blk_init(&b, fd, 512, false, NULL, NULL), 0);
	assert_int_equal(b.size, IMG_SIZE + 100);
	assert_int_equal(blk_nblocks(&b), IMG_SIZE / 512);
	assert_false(b.read_only);
	assert_int_equal(blk_init(&b, fd, 4096, false, NULL, NULL), 0);
	assert_int_equal(blk_nblocks(&b), IMG_SIZE / 4096);
	assert_int_equal(blk_init(&b, fd, 1024, false, NULL, NULL), -EINVAL);
	assert_int_equal(blk_init(&b, -1, 512, false, NULL, NULL), -EINVAL);
	close(fd);
	/* A pipe is neither a file nor a block device. */
	{
		int p[2];

		assert_int_equal(pipe(p), 0);
		assert_int_equal(blk_init(&b, p[0], 512, false, NULL, NULL),
		    -ENOTSUP);
		close(p[0]);
		close(p[1]);
	}
}

static void
test_roundtrip(void **state)
{
	static uint8_t w[70000], r[70000];
	struct blk_dev b;
	int fd = make_image(IMG_SIZE);

	(void)state;
	assert_int_equal(blk_init(&b, fd, 512, false, NULL, NULL), 0);
	fill(w, sizeof(w), 7);
	assert_int_equal(blk_write(&b, w, sizeof(w), 4096 + 3), 0);
	assert_int_equal(blk_read(&b, r, sizeof(r), 4096 + 3), 0);
	assert_memory_equal(w, r, sizeof(w));
	/* Through the fd directly: it really is in the file. */
	assert_int_equal(pread(fd, r, 16, 4096 + 3), 16);
	assert_memory_equal(w, r, 16);
	close(fd);
}

static void
test_short_and_eintr(void **state)
{
	static uint8_t w[10000], r[10000];
	struct fake f = { .max_io = 100, .eintr_left = 3 };
	struct blk_dev b;
	int fd = make_image(IMG_SIZE);

	(void)state;
	assert_int_equal(blk_init(&b, fd, 512, false, &fake_ops, &f), 0);
	fill(w, sizeof(w), 3);
	assert_int_equal(blk_write(&b, w, sizeof(w), 512), 0);
	/* 3 EINTRs, then 100 pieces of 100 bytes. */
	assert_int_equal(f.pwrites, 3 + 100);
	f.eintr_left = 2;
	assert_int_equal(blk_read(&b, r, sizeof(r), 512), 0);
	assert_int_equal(f.preads, 2 + 100);
	assert_memory_equal(w, r, sizeof(w));
	close(fd);
}

static void
test_errors(void **state)
{
	uint8_t buf[512] = { 0 };
	struct fake f = { .pread_err = EIO, .pwrite_err = ENOSPC };
	struct blk_dev b;
	int fd = make_image(IMG_SIZE);

	(void)state;
	assert_int_equal(blk_init(&b, fd, 512, false, &fake_ops, &f), 0);
	assert_int_equal(blk_read(&b, buf, 512, 0), -EIO);
	assert_int_equal(blk_write(&b, buf, 512, 0), -ENOSPC);
	f.sync_err = EIO;
	assert_int_equal(blk_flush(&b), -EIO);
	close(fd);
}

static void
test_range(void **state)
{
	uint8_t buf[1024] = { 0 };
	struct blk_dev b;
	int fd = make_image(IMG_SIZE);

	(void)state;
	assert_int_equal(blk_init(&b, fd, 512, false, NULL, NULL), 0);
	assert_int_equal(blk_read(&b, buf, 512, IMG_SIZE - 512), 0);
	assert_int_equal(blk_read(&b, buf, 1024, IMG_SIZE - 512), -ERANGE);
	assert_int_equal(blk_write(&b, buf, 1, IMG_SIZE), -ERANGE);
	assert_int_equal(blk_read(&b, buf, 1, UINT64_MAX), -ERANGE);
	assert_int_equal(blk_write_zeroes(&b, UINT64_MAX - 1, 4, false),
	    -ERANGE);
	/* The file did not grow. */
	{
		struct stat st;

		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(st.st_size, IMG_SIZE);
	}
	close(fd);
}

static void
test_read_only(void **state)
{
	uint8_t buf[512] = { 1 };
	struct blk_dev b;
	int fd = make_image(IMG_SIZE), ro = reopen_ro(fd);

	(void)state;
	assert_int_equal(blk_init(&b, ro, 512, false, NULL, NULL), 0);
	assert_true(b.read_only);
	assert_int_equal(blk_write(&b, buf, 512, 0), -EROFS);
	assert_int_equal(blk_discard(&b, 0, 512), -EROFS);
	assert_int_equal(blk_read(&b, buf, 512, 0), 0);
	/* Forced read-only on a writable fd. */
	assert_int_equal(blk_init(&b, fd, 512, true, NULL, NULL), 0);
	assert_true(b.read_only);
	assert_int_equal(blk_write(&b, buf, 512, 0), -EROFS);
	close(ro);
	close(fd);
}

static void
check_zero(struct blk_dev *b, uint64_t off, size_t len)
{
	static uint8_t r[200000], z[200000];

	assert_true(len <= sizeof(r));
	assert_int_equal(blk_read(b, r, len, off), 0);
	assert_memory_equal(r, z, len);
}

static void
zero_test(bool falloc_works, bool may_unmap)
{
	static uint8_t w[200000];
	struct fake f = { .falloc_err = falloc_works ? 0 : EOPNOTSUPP };
	struct blk_dev b;
	uint8_t r[4];
	int fd = make_image(IMG_SIZE);

	assert_int_equal(blk_init(&b, fd, 512, false, &fake_ops, &f), 0);
	fill(w, sizeof(w), 1);
	assert_int_equal(blk_write(&b, w, sizeof(w), 0), 0);
	f.pwrites = 0;
	assert_int_equal(blk_write_zeroes(&b, 4096, 150000, may_unmap), 0);
	assert_int_equal(f.fallocs, 1);
	/* Without fallocate: zeroes written in 64 KiB pieces (3 of them). */
	assert_int_equal(f.pwrites, falloc_works ? 0 : 3);
	check_zero(&b, 4096, 150000);
	/* Neighbours untouched. */
	assert_int_equal(blk_read(&b, r, 4, 4092), 0);
	assert_memory_equal(r, w + 4092, 4);
	assert_int_equal(blk_read(&b, r, 4, 154096), 0);
	assert_memory_equal(r, w + 154096, 4);
	close(fd);
}

static void
test_zeroes(void **state)
{
	(void)state;
	zero_test(true, false);
	zero_test(true, true);
	zero_test(false, false);
	zero_test(false, true);
}

static void
test_discard_real_hole(void **state)
{
	static uint8_t w[65536];
	struct blk_dev b;
	struct stat st1, st2;
	int fd = make_image(IMG_SIZE);

	(void)state;
	assert_int_equal(blk_init(&b, fd, 512, false, NULL, NULL), 0);
	fill(w, sizeof(w), 9);
	assert_int_equal(blk_write(&b, w, sizeof(w), 0), 0);
	assert_int_equal(blk_flush(&b), 0);
	assert_int_equal(fstat(fd, &st1), 0);
	assert_int_equal(blk_discard(&b, 0, sizeof(w)), 0);
	assert_int_equal(fstat(fd, &st2), 0);
	check_zero(&b, 0, sizeof(w));
	/* On a file system that punches holes the blocks are gone. */
	assert_true(st2.st_blocks <= st1.st_blocks);
	assert_int_equal(st2.st_size, IMG_SIZE);
	close(fd);
}

static void
test_flush_counts(void **state)
{
	struct fake f = { 0 };
	struct blk_dev b;
	int fd = make_image(IMG_SIZE);

	(void)state;
	assert_int_equal(blk_init(&b, fd, 512, false, &fake_ops, &f), 0);
	assert_int_equal(blk_flush(&b), 0);
	assert_int_equal(blk_flush(&b), 0);
	assert_int_equal(f.syncs, 2);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_sizes),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_short_and_eintr),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_zeroes),
		cmocka_unit_test(test_discard_real_hole),
		cmocka_unit_test(test_flush_counts),
	};

	return cmocka_run_group_tests_name("block", tests, NULL, NULL);
}
