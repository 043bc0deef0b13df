/*
 * broker/tenant.c: claiming a VM's tenant ids (broker/tenant.h). Runs in
 * the broker as root; the lock directory is checked before use, lock
 * files are opened O_NOFOLLOW, and what /proc says about other processes
 * is read bounded and printed sanitised.
 */
#include "broker/tenant.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
brk_tenant_init(struct brk_tenant *t)
{
	memset(t, 0, sizeof(*t));
	t->dir_fd = -1;
}

void
brk_tenant_release(struct brk_tenant *t)
{
	for (unsigned int i = 0; i < t->nfds; i++)
		close(t->fds[i]);
	t->nfds = 0;
	if (t->dir_fd >= 0)
		close(t->dir_fd);
	t->dir_fd = -1;
}

static int
open_dir(const char *dir, char *why, size_t len)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail(-errno, why, len, "%s: %s", dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, why, len, "%s: %s", dir, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    (st.st_mode & 0022)) {
		close(fd);
		return fail(-EPERM, why, len, "%s: must be a directory owned "
		    "by uid %u and writable by no one else", dir,
		    (unsigned int)geteuid());
	}
	return fd;
}

static int
lock_id(struct brk_tenant *t, const char *dir, const char *kind,
    unsigned int id, char *why, size_t len)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char name[32];
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "%s.%u", kind, id);
	fd = openat(t->dir_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0)
		return fail(-errno, why, len, "%s/%s: %s", dir, name,
		    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(-EPERM, why, len, "%s/%s: not a regular file",
		    dir, name);
	}
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int err = errno;

		close(fd);
		if (err == EAGAIN || err == EACCES)
			return fail(-EBUSY, why, len, "%s %u is in use by "
			    "another mpjail-broker (%s/%s is locked): give "
			    "each VM its own [tenant] range", kind, id, dir,
			    name);
		return fail(-err, why, len, "%s/%s: lock: %s", dir, name,
		    strerror(err));
	}
	t->fds[t->nfds++] = fd;
	return 0;
}

/* The four ids after `key` ("Uid:", "Gid:") in a status text. */
static int
ids_of(const char *status, const char *key, unsigned long ids[4])
{
	const char *p = strstr(status, key);
	char *end;

	if (!p)
		return -1;
	p += strlen(key);
	for (int i = 0; i < 4; i++) {
		errno = 0;
		ids[i] = strtoul(p, &end, 10);
		if (errno || end == p)
			return -1;
		p = end;
	}
	return 0;
}

static bool
in_range(unsigned long v, unsigned long first, unsigned int n)
{
	return v >= first && v - first < n;
}

/* Is any of our ids used by a running process? Bounded, best effort. */
static int
scan_proc(uid_t uid0, gid_t gid0, unsigned int n, char *why, size_t len)
{
	unsigned int scanned = 0;
	struct dirent *e;
	int ret = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return fail(-errno, why, len, "/proc: %s", strerror(errno));
	while (!ret && (e = readdir(d)) && scanned++ < MAX_PROCS_SCANNED) {
		char path[64], status[4096], comm[32] = "";
		unsigned long u[4], g[4];
		const char *name;
		ssize_t r;
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/status", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* it ended meanwhile */
		r = read(fd, status, sizeof(status) - 1);
		close(fd);
		if (r <= 0)
			continue;
		status[r] = '\0';
		if (ids_of(status, "\nUid:", u) || ids_of(status, "\nGid:", g))
			continue;
		name = NULL;
		for (int i = 0; i < 4 && !name; i++) {
			if (in_range(u[i], uid0, n))
				name = "uid";
			else if (in_range(g[i], gid0, n))
				name = "gid";
		}
		if (!name)
			continue;
		/* "Name:\t<comm>\n": the process chose it; sanitised. */
		if (!strncmp(status, "Name:\t", 6)) {
			size_t k = 0;

			for (const char *c = status + 6;
			    *c && *c != '\n' && k + 1 < sizeof(comm); c++)
				comm[k++] = isprint((unsigned char)*c) ? *c :
				    '?';
			comm[k] = '\0';
		}
		ret = fail(-EBUSY, why, len, "the [tenant] range is in use: "
		    "pid %.16s (%s) runs with a %s in %u-%u: give each VM its "
		    "own range, unused by anything else", e->d_name, comm,
		    name, (unsigned int)(name[0] == 'u' ? uid0 : gid0),
		    (unsigned int)(name[0] == 'u' ? uid0 : gid0) + n - 1);
	}
	closedir(d);
	return ret;
}

int
brk_tenant_claim(const char *dir, uid_t uid0, gid_t gid0, unsigned int n,
    struct brk_tenant *t, char *why, size_t len)
{
	int err;

	brk_tenant_init(t);
	if (n == 0 || n > BRK_TENANT_MAX_IDS)
		return fail(-EINVAL, why, len, "%u ids: 1 to %d", n,
		    BRK_TENANT_MAX_IDS);
	err = open_dir(dir, why, len);
	if (err < 0)
		return err;
	t->dir_fd = err;
	for (unsigned int i = 0; i < n; i++) {
		err = lock_id(t, dir, "uid", (unsigned int)uid0 + i, why, len);
		if (!err)
			err = lock_id(t, dir, "gid", (unsigned int)gid0 + i,
			    why, len);
		if (err) {
			brk_tenant_release(t);
			return err;
		}
	}
	err = scan_proc(uid0, gid0, n, why, len);
	if (err)
		brk_tenant_release(t);
	return err;
}
