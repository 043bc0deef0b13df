/*
 * sandbox/seccomp.h: self side — install the seccomp program the broker
 * compiled (policy/, libseccomp) and handed over as a sealed memfd.
 * Linked into sandboxed programs: libc only. The program itself is
 * trusted (the broker made it); the fd is checked before it is read.
 *
 * Contract:
 * - Every function returns 0 or a negative errno and never exits.
 * - The fd must be a regular file sealed with F_SEAL_SEAL, F_SEAL_SHRINK,
 *   F_SEAL_GROW and F_SEAL_WRITE (-EPERM otherwise), holding 1 to
 *   SBX_SECCOMP_MAX_INSNS struct sock_filter (8 bytes each) from offset 0
 *   (-EINVAL otherwise). The fd stays the caller's: it is not closed.
 */
#ifndef MPJAIL_SANDBOX_SECCOMP_H
#define MPJAIL_SANDBOX_SECCOMP_H

#include <stddef.h>

#define SBX_SECCOMP_MAX_INSNS 4096	/* BPF_MAXINSNS */
#define SBX_SECCOMP_SEALS_MIN 0xf	/* F_SEAL_SEAL|SHRINK|GROW|WRITE */

/* Check fd as above without reading it; *len gets its size in bytes. */
int sbx_seccomp_check_fd(int fd, size_t *len);

/*
 * Check, read and install the program with SECCOMP_FILTER_FLAG_TSYNC, so
 * every thread of the process is confined (-EBUSY names none: a thread
 * that could not be synchronised). Sets no_new_privs first.
 */
int sbx_seccomp_install_fd(int fd);

#endif /* MPJAIL_SANDBOX_SECCOMP_H */
