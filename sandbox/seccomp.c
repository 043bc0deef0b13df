/*
 * sandbox/seccomp.c: install an exported seccomp program from a sealed
 * memfd with TSYNC. No BPF is written here: the program is libseccomp's,
 * compiled by the broker; this file only checks the container and loads
 * it. Runs in the sandboxed process before it reads any input.
 */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#define SEALS_REQUIRED (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | \
    F_SEAL_WRITE)
_Static_assert(SEALS_REQUIRED == SBX_SECCOMP_SEALS_MIN, "seals");

int
sbx_seccomp_check_fd(int fd, size_t *len)
{
	struct stat st;
	int seals;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return errno == EINVAL ? -EPERM : -errno;  /* not sealable */
	if ((seals & SEALS_REQUIRED) != SEALS_REQUIRED)
		return -EPERM;
	if (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) ||
	    st.st_size > (off_t)(SBX_SECCOMP_MAX_INSNS *
	    sizeof(struct sock_filter)))
		return -EINVAL;
	*len = (size_t)st.st_size;
	return 0;
}

int
sbx_seccomp_install_fd(int fd)
{
	struct sock_filter insns[SBX_SECCOMP_MAX_INSNS];
	struct sock_fprog prog;
	size_t len = 0, got = 0;
	long rc;
	int err;

	err = sbx_seccomp_check_fd(fd, &len);
	if (err)
		return err;
	/* Sealed: the size cannot change between the check and the read. */
	while (got < len) {
		ssize_t n = pread(fd, (char *)insns + got, len - got,
		    (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EINVAL;
		got += (size_t)n;
	}
	memset(&prog, 0, sizeof(prog));
	prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	prog.filter = insns;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (rc < 0)
		return -errno;
	if (rc > 0)
		return -EBUSY;	/* rc is the thread that could not sync */
	return 0;
}
