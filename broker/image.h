/*
 * broker/image.h: opening a disk image for a remote. Runs in the broker,
 * possibly as root, on paths from the admin's VM file: the final path
 * component is never followed (O_NOFOLLOW), only a regular file or a block
 * device is accepted, and an OFD lock keeps two VMs from one image.
 *
 * Contract: returns 0 or a negative errno and never exits; on failure
 * `why` holds one line naming the image and the reason. An open image
 * owns its fds (O_CLOEXEC); brk_image_close() releases them and so the
 * lock (once every copy handed to a child is closed too).
 */
#ifndef MPJAIL_BROKER_IMAGE_H
#define MPJAIL_BROKER_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct brk_image {
	int fd;			/* O_RDWR, or O_RDONLY when ro; locked */
	int ro_fd;		/* -1, or a second, read-only description of
				   the same file (QEMU's fdset wants both) */
	bool ro;
	bool block;		/* a block device, else a regular file */
	dev_t dev;
	ino_t ino;
	off_t size;
};

/* fd = ro_fd = -1. */
void brk_image_init(struct brk_image *img);

/*
 * Open `path` read-only or read-write, and lock it: a shared OFD lock for
 * read-only, an exclusive one for read-write, never waiting.
 * -ELOOP: a symbolic link; -EINVAL: not a regular file or block device;
 * -EAGAIN: locked by someone else (`why` says how, and by whom when the
 * kernel can tell).
 */
int brk_image_open(const char *path, bool ro, struct brk_image *img,
    char *why, size_t len);

/* Add ro_fd: a read-only open of the same file (not through its path). */
int brk_image_add_ro_fd(struct brk_image *img, char *why, size_t len);

void brk_image_close(struct brk_image *img);

#endif /* MPJAIL_BROKER_IMAGE_H */
