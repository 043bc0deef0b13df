/*
 * broker/launch.h: spawning the VM's processes through sandbox/: each
 * mpjail-lsi remote under its own policy, then the unprivileged QEMU
 * through mpjail-exec. Runs in the broker, possibly as root; its inputs
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
};

/* What the broker hands QEMU besides its remotes' socket ends. */
struct brk_qemu_io {
	int null_fd;		/* /dev/null, O_RDWR */
	int serial_w;		/* the console pipe's write end */
	int qmp;		/* QEMU's end of the QMP socketpair */
	const int *remote_socks;	/* QEMU's end per remote, in order */
};

/*
 * Spawn remote `idx` of vm: mpjail-lsi bound read-only at /mpjail-lsi in an
 * empty root, given its socket end, the seccomp memfd of `c` and one fd
 * per disk. On success child is running (pid, pidfd, err_fd set).
 */
int brk_launch_remote(const struct brk_vm *vm, unsigned int idx,
    const struct pol_compiled *c, uid_t uid, gid_t gid,
    const struct brk_programs *progs, int null_fd, int sock,
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
