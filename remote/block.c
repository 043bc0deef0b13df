/*
 * remote/block.c: disk image I/O on an inherited fd (pread/pwrite/fdatasync,
 * fallocate for zeroing and discard). Runs inside the sandbox; offsets and
 * lengths originate with the guest and are range-checked here again.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote/block.h"

/* Zeroes for blk_write_zeroes' fallback: read-only, so not mutable state. */
#define BLK_ZERO_BUF 65536u
static const uint8_t blk_zeroes[BLK_ZERO_BUF];

static ssize_t
sys_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
	ssize_t n;

	(void)ctx;
	n = pread(fd, buf, len, off);
	return n < 0 ? -errno : n;
}

static ssize_t
sys_pwrite(void *ctx, int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n;

	(void)ctx;
	n = pwrite(fd, buf, len, off);
	return n < 0 ? -errno : n;
}

static int
sys_fdatasync(void *ctx, int fd)
{
	(void)ctx;
	return fdatasync(fd) < 0 ? -errno : 0;
}

static int
sys_fallocate(void *ctx, int fd, int mode, off_t off, off_t len)
{
	(void)ctx;
	return fallocate(fd, mode, off, len) < 0 ? -errno : 0;
}

const struct blk_ops blk_sys_ops = {
	.pread = sys_pread,
	.pwrite = sys_pwrite,
	.fdatasync = sys_fdatasync,
	.fallocate = sys_fallocate,
};

static int
blk_fd_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		if (st.st_size < 0)
			return -EINVAL;
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0)
			return -errno;
		return 0;
	}
	return -ENOTSUP;
}

int
blk_init(struct blk_dev *b, int fd, uint32_t block_size, bool read_only,
    const struct blk_ops *ops, void *ops_ctx)
{
	int fl, rc;
	uint64_t size = 0;

	if (b == NULL || fd < 0)
		return -EINVAL;
	if (block_size != 512 && block_size != 4096)
		return -EINVAL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -errno;
	if ((fl & O_ACCMODE) == O_WRONLY)
		return -EINVAL;
	rc = blk_fd_size(fd, &size);
	if (rc < 0)
		return rc;
	/* off_t must hold every offset we will ever pass. */
	if (size > (uint64_t)INT64_MAX)
		return -EFBIG;
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->read_only = read_only || (fl & O_ACCMODE) == O_RDONLY;
	b->block_size = block_size;
	b->size = size;
	b->ops = ops != NULL ? ops : &blk_sys_ops;
	b->ops_ctx = ops_ctx;
	return 0;
}

uint64_t
blk_nblocks(const struct blk_dev *b)
{
	return b->size / b->block_size;
}

static int
blk_check_range(const struct blk_dev *b, uint64_t off, uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(off, len, &end) || end > b->size)
		return -ERANGE;
	return 0;
}

int
blk_read(struct blk_dev *b, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	ssize_t n;
	int rc;

	rc = blk_check_range(b, off, len);
	if (rc < 0)
		return rc;
	while (len > 0) {
		n = b->ops->pread(b->ops_ctx, b->fd, p, len, (off_t)off);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		if (n == 0) {
			/* The file shrank under us: read zeroes, as QEMU does. */
			memset(p, 0, len);
			return 0;
		}
		if ((size_t)n > len)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int
blk_write(struct blk_dev *b, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	ssize_t n;
	int rc;

	if (b->read_only)
		return -EROFS;
	rc = blk_check_range(b, off, len);
	if (rc < 0)
		return rc;
	while (len > 0) {
		n = b->ops->pwrite(b->ops_ctx, b->fd, p, len, (off_t)off);
		if (n == -EINTR)
			continue;
		if (n < 0)
			return (int)n;
		if (n == 0 || (size_t)n > len)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int
blk_flush(struct blk_dev *b)
{
	int rc;

	do
		rc = b->ops->fdatasync(b->ops_ctx, b->fd);
	while (rc == -EINTR);
	return rc;
}

static int
blk_write_zero_buf(struct blk_dev *b, uint64_t off, uint64_t len)
{
	size_t n;
	int rc;

	while (len > 0) {
		n = len < BLK_ZERO_BUF ? (size_t)len : BLK_ZERO_BUF;
		rc = blk_write(b, blk_zeroes, n, off);
		if (rc < 0)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

/* Errors that mean "this file cannot do that", not "the I/O failed". */
static bool
blk_falloc_unsupported(int rc)
{
	return rc == -EOPNOTSUPP || rc == -ENOSYS || rc == -EINVAL ||
	    rc == -ENODEV;
}

int
blk_write_zeroes(struct blk_dev *b, uint64_t off, uint64_t len,
    bool may_unmap)
{
	int mode, rc;

	if (b->read_only)
		return -EROFS;
	rc = blk_check_range(b, off, len);
	if (rc < 0 || len == 0)
		return rc;
	mode = FALLOC_FL_KEEP_SIZE |
	    (may_unmap ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
	do
		rc = b->ops->fallocate(b->ops_ctx, b->fd, mode, (off_t)off,
		    (off_t)len);
	while (rc == -EINTR);
	if (rc == 0 || !blk_falloc_unsupported(rc))
		return rc;
	return blk_write_zero_buf(b, off, len);
}

int
blk_discard(struct blk_dev *b, uint64_t off, uint64_t len)
{
	return blk_write_zeroes(b, off, len, true);
}
