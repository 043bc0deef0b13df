/*
 * broker/launch.h: spawning the VM's processes through sandbox/: each
 * remote under its own policy (mpjail-lsi directly; QEMU's own x-remote
 * through mpjail-exec), then the unprivileged QEMU through mpjail-exec. Runs in the broker, possibly as root; its inputs
 * are the parsed VM file, compiled policies and fds the broker opened.
 *
 * Contract: returns 0 or a negative errno and never exits; `why` says what
 * failed. A child gets exactly the fds its policy's [fds] names, each
 * matched by name to what the broker holds; a name the broker cannot
 * fill, or a kind or mode the policy does not allow, refuses the spawn.
 * The caller keeps its fds (the child gets copies).
 */
#ifndef MPJAIL_BROKER_LAUNCH_H
#define MPJAIL_BROKER_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "broker/broker.h"
#include "broker/image.h"
#include "broker/vm.h"
#include "policy/policy.h"

/* Where the helper programs are (host paths, checked by the caller). */
struct brk_programs {
	char lsi[BRK_PATH_MAX];		/* mpjail-lsi (static-pie) */
	char shim[BRK_PATH_MAX];	/* mpjail-exec (static-pie) */
	char qemu[BRK_PATH_MAX];	/* realpath of the VM's QEMU */
	/* kind = qemu: realpath of remote N's QEMU ("" for kind = lsi) */
	char remote_qemu[BRK_MAX_REMOTES][BRK_PATH_MAX];
};

/* The x-remote's block thread pool, at most (also its policy's nproc). */
#define BRK_QEMU_REMOTE_POOL 4

/* What the broker hands QEMU besides its remotes' socket ends. */
struct brk_qemu_io {
	int null_fd;		/* /dev/null, O_RDWR */
	int serial_w;		/* the console pipe's write end */
	int qmp;		/* QEMU's end of the QMP socketpair */
	const int *remote_socks;	/* QEMU's end per remote, in order */
};

/*
 * Spawn remote `idx` of vm. kind = lsi: mpjail-lsi bound read-only at
 * /mpjail-lsi in an empty root, given its socket end, the seccomp memfd
 * of `c` and one fd per disk. kind = qemu: mpjail-exec, then QEMU's
 * x-remote with one lsi53c895a and a scsi-hd per disk, given its socket
 * end, the seccomp memfd, `qmp` (its monitor, the broker's readiness
 * probe) and two fds per disk (images[i].ro_fd, then images[i].fd: the
 * fdset QEMU 7.2 needs); never a path. On success child is running (pid,
 * pidfd, err_fd set).
 */
int brk_launch_remote(const struct brk_vm *vm, unsigned int idx,
    const struct pol_compiled *c, uid_t uid, gid_t gid,
    const struct brk_programs *progs, int null_fd, int sock, int qmp,
    const struct brk_image *images, struct brk_child *child,
    char *why, size_t len);

/*
 * Spawn QEMU: mpjail-exec applies the policy's Landlock (plus read access
 * to the kernel and initrd, bound read-only at /vm/) and seccomp, then
 * execs QEMU with one x-pci-proxy-dev per remote.
 */
int brk_launch_qemu(const struct brk_vm *vm, const struct pol_compiled *c,
    uid_t uid, gid_t gid, const struct brk_programs *progs,
    const struct brk_qemu_io *io, struct brk_child *child, char *why,
    size_t len);

#endif /* MPJAIL_BROKER_LAUNCH_H */
