/*
 * remote/block.h: the block backend of mpjail-lsi, a disk image reached
 * through an fd the broker opened and passed in (never a path). Runs inside
 * the sandbox; offsets and lengths come from the SCSI disk, which got them
 * from a hostile guest, so every call checks them against the image size.
 */
#ifndef MPJAIL_REMOTE_BLOCK_H
#define MPJAIL_REMOTE_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BLK_SECTOR_SIZE 512u

/*
 * The system calls the backend makes, as a table so a unit test can put a
 * failing or counting implementation in their place (the test seam; the
 * remote itself always uses blk_sys_ops). Each returns what the system call
 * returns, or a negative errno instead of -1 + errno.
 */
struct blk_ops {
	ssize_t (*pread)(void *ctx, int fd, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len,
	    off_t off);
	int (*fdatasync)(void *ctx, int fd);
	int (*fallocate)(void *ctx, int fd, int mode, off_t off, off_t len);
};

/* The real system calls. */
extern const struct blk_ops blk_sys_ops;

struct blk_dev {
	int fd;                   /* borrowed: the caller opened and closes it */
	bool read_only;
	uint32_t block_size;      /* logical block: 512 or 4096 */
	uint64_t size;            /* bytes, fixed at blk_init */
	const struct blk_ops *ops;
	void *ops_ctx;
};

/*
 * Attach to an open fd: a regular file (size from fstat) or a block device
 * (size from BLKGETSIZE64). An fd opened O_RDONLY makes the device read-only,
 * as does read_only. block_size must be 512 or 4096. ops NULL means
 * blk_sys_ops. Returns 0 or -EINVAL / -ENOTSUP / the errno of fstat/fcntl.
 * Call before lockdown: it uses fcntl, fstat and ioctl.
 */
int blk_init(struct blk_dev *b, int fd, uint32_t block_size, bool read_only,
    const struct blk_ops *ops, void *ops_ctx);

/* Whole logical blocks in the image (a trailing partial block is unused). */
uint64_t blk_nblocks(const struct blk_dev *b);

/*
 * Byte-addressed I/O. [off, off + len) must lie within the image, else
 * -ERANGE. Short transfers and EINTR are retried until done; a read that
 * meets end of file fills the rest with zeroes. Returns 0 or -errno;
 * writes and discards on a read-only device return -EROFS.
 */
int blk_read(struct blk_dev *b, void *buf, size_t len, uint64_t off);
int blk_write(struct blk_dev *b, const void *buf, size_t len, uint64_t off);

/* fdatasync(2). */
int blk_flush(struct blk_dev *b);

/*
 * Make [off, off + len) read as zeroes. may_unmap: punch a hole
 * (fallocate PUNCH_HOLE|KEEP_SIZE); otherwise ZERO_RANGE. Where the file
 * refuses either, zeroes are written from a fixed-size static buffer.
 */
int blk_write_zeroes(struct blk_dev *b, uint64_t off, uint64_t len,
    bool may_unmap);

/* Deallocate [off, off + len): blk_write_zeroes with may_unmap. */
int blk_discard(struct blk_dev *b, uint64_t off, uint64_t len);

#endif
