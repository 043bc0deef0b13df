/*
 * broker/image.c: opening and locking disk images (broker/image.h). Runs in
 * the broker, possibly as root, on admin-owned paths; /proc is read only to
 * name who holds a lock, and what it says is printed sanitised.
 */
#include "broker/image.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_PROCS_SCANNED 65536

static int __attribute__((format(printf, 4, 5)))
fail(int err, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return err;
}

void
brk_image_init(struct brk_image *img)
{
	memset(img, 0, sizeof(*img));
	img->fd = -1;
	img->ro_fd = -1;
}

void
brk_image_close(struct brk_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	if (img->ro_fd >= 0)
		close(img->ro_fd);
	img->fd = img->ro_fd = -1;
}

/* Read a small /proc file; "" on any failure. */
static void
read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = -1;

	buf[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

/* Does any fd of process `pid` hold a lock on dev:ino? */
static bool
pid_holds_lock(const char *pid, const char *needle)
{
	char path[64], info[4096];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fdinfo/%.16s", pid,
		    e->d_name);
		read_small(path, info, sizeof(info));
		for (char *l = strstr(info, "\nlock:"); l && !found;
		    l = strstr(l + 1, "\nlock:")) {
			char *eol = strchr(l + 1, '\n');

			if (eol)
				*eol = '\0';
			found = strstr(l, needle) != NULL;
			if (eol)
				*eol = '\n';
		}
	}
	closedir(d);
	return found;
}

/*
 * Who holds a lock on the file: OFD locks report pid -1 through
 * F_OFD_GETLK and /proc/locks, but /proc/PID/fdinfo lists the locks of
 * each open fd. Best effort, bounded; "" when nobody visible.
 */
static void
lock_holder(const struct stat *st, char *out, size_t len)
{
	char needle[64], comm[64];
	struct dirent *e;
	unsigned int scanned = 0;
	DIR *d;

	out[0] = '\0';
	snprintf(needle, sizeof(needle), " %02x:%02x:%lu ",
	    major(st->st_dev), minor(st->st_dev), (unsigned long)st->st_ino);
	d = opendir("/proc");
	if (!d)
		return;
	while ((e = readdir(d)) && scanned++ < MAX_PROCS_SCANNED) {
		char path[64];

		if (!isdigit((unsigned char)e->d_name[0]) ||
		    (pid_t)atol(e->d_name) == getpid())
			continue;
		if (!pid_holds_lock(e->d_name, needle))
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/comm", e->d_name);
		read_small(path, comm, sizeof(comm));
		for (char *c = comm; *c; c++) {
			if (*c == '\n') {
				*c = '\0';
				break;
			}
			if (!isprint((unsigned char)*c))
				*c = '?';
		}
		snprintf(out, len, " by pid %.16s (%.20s)", e->d_name, comm);
		break;
	}
	closedir(d);
}

static int
lock_image(int fd, bool ro, const struct stat *st, const char *path,
    char *why, size_t len)
{
	struct flock fl = {
		.l_type = ro ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};
	char who[96];

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno != EAGAIN && errno != EACCES)
		return fail(-errno, why, len, "%s: lock: %s", path,
		    strerror(errno));
	memset(&fl, 0, sizeof(fl));
	fl.l_type = ro ? F_RDLCK : F_WRLCK;
	fl.l_whence = SEEK_SET;
	who[0] = '\0';
	if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK &&
	    fl.l_pid > 0)
		snprintf(who, sizeof(who), " by pid %d (a POSIX lock)",
		    (int)fl.l_pid);
	else
		lock_holder(st, who, sizeof(who));
	return fail(-EAGAIN, why, len, "%s: image is locked: %s lock held%s "
	    "(another VM uses it; needed: %s)", path,
	    fl.l_type == F_WRLCK ? "an exclusive" : "a shared",
	    who[0] ? who : " by another process",
	    ro ? "shared, for ro" : "exclusive, for rw");
}

int
brk_image_open(const char *path, bool ro, struct brk_image *img, char *why,
    size_t len)
{
	struct stat st;
	int fd, err;

	brk_image_init(img);
	/* O_NONBLOCK: a FIFO must not hang the broker before fstat says no. */
	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		err = -errno;
		if (err == -ELOOP && lstat(path, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			return fail(-ELOOP, why, len, "%s: is a symbolic link "
			    "(refused: images are opened O_NOFOLLOW; name the "
			    "file itself)", path);
		return fail(err, why, len, "%s: %s", path, strerror(-err));
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		close(fd);
		return fail(err, why, len, "%s: fstat: %s", path,
		    strerror(-err));
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return fail(-EINVAL, why, len, "%s: not a regular file or a "
		    "block device", path);
	}
	if (fcntl(fd, F_SETFL, 0) < 0) {
		err = -errno;
		close(fd);
		return fail(err, why, len, "%s: fcntl: %s", path,
		    strerror(-err));
	}
	err = lock_image(fd, ro, &st, path, why, len);
	if (err) {
		close(fd);
		return err;
	}
	img->fd = fd;
	img->ro = ro;
	img->block = S_ISBLK(st.st_mode);
	img->dev = st.st_dev;
	img->ino = st.st_ino;
	img->size = st.st_size;
	return 0;
}

int
brk_image_add_ro_fd(struct brk_image *img, char *why, size_t len)
{
	char self[64];
	struct stat st;
	int fd;

	if (img->fd < 0)
		return fail(-EBADF, why, len, "image not open");
	if (img->ro_fd >= 0)
		return 0;
	/* Reopen the description we hold, not the path: no race, no link. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", img->fd);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(-errno, why, len, "reopen read-only: %s",
		    strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_dev != img->dev ||
	    st.st_ino != img->ino) {
		close(fd);
		return fail(-EIO, why, len, "reopen read-only: another file");
	}
	img->ro_fd = fd;
	return 0;
}
