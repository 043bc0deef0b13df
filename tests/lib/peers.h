/*
 * tests/lib/peers.h: start the real remotes the integration tests drive:
 * mpjail-lsi from this build, and QEMU 7.2's own x-remote. Each gets one
 * end of a fresh socketpair as its fd 3 and nothing else beyond 0-2.
 */
#ifndef MPJAIL_TESTS_PEERS_H
#define MPJAIL_TESTS_PEERS_H

#include <stdbool.h>
#include <sys/types.h>

struct peer {
	const char *name;
	pid_t pid;
	int sock;      /* our end */
	int err_fd;    /* read end of the child's stderr, or -1 */
	int out_fd;    /* read end of its stdout (QEMU: QMP), or -1 */
	int in_fd;     /* write end of its stdin (QEMU: QMP), or -1 */
};

/* Path of a built program: $MPJAIL_BUILD/bin/NAME (default build/bin). */
const char *peer_build_path(const char *name, char *buf, size_t len);

/* Start mpjail-lsi with --socket-fd 3. Returns 0 or -errno. */
int peer_start_mpjail_lsi(struct peer *p);

/* The same with one disk image at SCSI ID 0, passed as fd 4 (--disk-fd). */
int peer_start_mpjail_lsi_disk(struct peer *p, const char *disk_path,
    bool ro);

/*
 * Start QEMU's own remote with an LSI53C895A and a scsi-hd on disk_path
 * (raw). $QEMU overrides the binary (default qemu-system-x86_64). Returns
 * once QEMU has finished starting (it answers QMP query-status): see
 * peers.c for the start-up race this avoids.
 */
int peer_start_qemu_remote(struct peer *p, const char *disk_path);

/* The same; with ro the drive is readonly=on (a write-protected scsi-hd). */
int peer_start_qemu_remote_disk(struct peer *p, const char *disk_path,
    bool ro);

/*
 * Close our end (unless already closed), wait up to timeout_ms for the
 * child, kill it if it is still there. *status gets waitpid's status.
 * Returns 0 when it exited by itself, -ETIMEDOUT when it had to be killed.
 */
int peer_stop(struct peer *p, int timeout_ms, int *status);

/* Wait for the child to exit by itself within timeout_ms (socket kept). */
int peer_wait(struct peer *p, int timeout_ms, int *status);

/* Read what the child wrote to stderr so far (NUL-terminated). */
size_t peer_stderr(struct peer *p, char *buf, size_t len);

/* Number of open fds of a process, from /proc/PID/fd. */
int peer_count_fds(pid_t pid);

/* A raw image of `size` bytes filled with zeroes in a temp dir. */
int peer_make_image(char *path, size_t pathlen, off_t size);

#endif
