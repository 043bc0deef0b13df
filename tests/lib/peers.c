/*
 * tests/lib/peers.c: spawning and reaping the real peers of the
 * integration tests. Test code: runs unconfined, trusts its children to be
 * buggy, never to be gentle — every wait is bounded.
 */
#include "tests/lib/peers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *
peer_build_path(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("MPJAIL_BUILD");

	snprintf(buf, len, "%s/bin/%s", dir && *dir ? dir : "build", name);
	return buf;
}

/*
 * fork, put the child's socket end at fd 3 and its stderr on a pipe, exec.
 * With want_stdout, the child's stdout is a pipe too (p->out_fd).
 */
static int
spawn(struct peer *p, const char *name, char *const argv[], bool want_stdout,
    int extra_fd)
{
	int sv[2], ep[2], op[2] = { -1, -1 }, ip[2] = { -1, -1 };
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (pipe2(ep, O_CLOEXEC) < 0 || (want_stdout && (pipe2(op, O_CLOEXEC) < 0 ||
	    pipe2(ip, O_CLOEXEC) < 0))) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(sv[0]);
		close(sv[1]);
		close(ep[0]);
		close(ep[1]);
		return err;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(want_stdout ? ip[0] : null, 0) < 0 ||
		    dup2(want_stdout ? op[1] : null, 1) < 0 ||
		    dup2(ep[1], 2) < 0 || dup2(sv[1], 3) < 0 ||
		    (extra_fd >= 0 && dup2(extra_fd, 4) < 0))
			_exit(126);
		/* dup2 onto itself keeps O_CLOEXEC: clear it on what we pass */
		for (int fd = 0; fd <= (extra_fd >= 0 ? 4 : 3); fd++)
			fcntl(fd, F_SETFD, 0);
		close_range(extra_fd >= 0 ? 5 : 4, ~0u, 0);
		execvp(argv[0], argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	close(ep[1]);
	if (want_stdout) {
		close(op[1]);
		close(ip[0]);
	}
	p->in_fd = ip[1];
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	p->out_fd = op[0];
	p->name = name;
	p->pid = pid;
	p->sock = sv[0];
	p->err_fd = ep[0];
	return 0;
}

int
peer_start_mpjail_lsi(struct peer *p)
{
	static char path[4096];
	char *argv[] = { path, "--socket-fd", "3", NULL };

	peer_build_path("mpjail-lsi", path, sizeof(path));
	if (access(path, X_OK) < 0) {
		fprintf(stderr, "peers: %s: %s (build first)\n", path,
		    strerror(errno));
		return -ENOENT;
	}
	return spawn(p, "mpjail-lsi", argv, false, -1);
}

int
peer_start_mpjail_lsi_disk(struct peer *p, const char *disk_path, bool ro)
{
	static char path[4096];
	/* named as peer_start_qemu_remote names its drive (VPD page 0x83) */
	char *argv[] = { path, "--socket-fd", "3", "--disk-fd",
	    (char *)(ro ? "4:ro:id=d0" : "4:id=d0"), NULL };
	int fd, err;

	peer_build_path("mpjail-lsi", path, sizeof(path));
	fd = open(disk_path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* above the numbers the child's dup2 sequence writes over */
	if (fd < 10) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);

		close(fd);
		if (high < 0)
			return -errno;
		fd = high;
	}
	err = spawn(p, "mpjail-lsi", argv, false, fd);
	close(fd);
	return err;
}

/* Read QMP output until `want` appears. */
static int
qmp_wait_for(struct peer *p, const char *want, int timeout_ms)
{
	char buf[4096];
	size_t got = 0;
	struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };

	while (got + 1 < sizeof(buf)) {
		ssize_t r;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		r = read(p->out_fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			return -EPIPE;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, want))
			return 0;
	}
	return -EPROTO;
}

/*
 * QEMU 7.2's remote may serve its socket before start-up is over; QMP
 * commands run only from the main loop, after the machine's initial reset.
 * Wait for an answer to query-status before the first mpqemu message.
 */
static int
wait_qemu_ready(struct peer *p, int timeout_ms)
{
	static const char cmds[] = "{\"execute\":\"qmp_capabilities\"}\n"
	    "{\"execute\":\"query-status\"}\n";
	int err = qmp_wait_for(p, "{\"QMP\"", timeout_ms);

	if (err)
		return err;
	if (write(p->in_fd, cmds, sizeof(cmds) - 1) != (ssize_t)sizeof(cmds) - 1)
		return -EPIPE;
	return qmp_wait_for(p, "\"status\"", timeout_ms);
}

int
peer_start_qemu_remote(struct peer *p, const char *disk_path)
{
	return peer_start_qemu_remote_disk(p, disk_path, false);
}

int
peer_start_qemu_remote_disk(struct peer *p, const char *disk_path, bool ro)
{
	static char drive[4200];
	const char *qemu = getenv("QEMU");
	char *argv[] = {
		(char *)(qemu && *qemu ? qemu : "qemu-system-x86_64"),
		"-machine", "x-remote", "-nodefaults", "-display", "none",
		"-device", "lsi53c895a,id=lsi0",
		"-drive", drive,
		"-device", "scsi-hd,id=drive2,drive=d0,bus=lsi0.0,scsi-id=0",
		"-object", "x-remote-object,id=robj1,devid=lsi0,fd=3",
		"-chardev", "stdio,id=qmp,signal=off",
		"-mon", "chardev=qmp,mode=control",
		NULL,
	};

	int err;

	snprintf(drive, sizeof(drive), "id=d0,file=%s,format=raw,if=none%s",
	    disk_path, ro ? ",readonly=on" : "");
	err = spawn(p, "qemu-remote", argv, true, -1);
	if (err)
		return err;
	return wait_qemu_ready(p, 20000);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
peer_wait(struct peer *p, int timeout_ms, int *status)
{
	int64_t end = now_ms() + timeout_ms;

	for (;;) {
		pid_t r = waitpid(p->pid, status, WNOHANG);

		if (r == p->pid) {
			p->pid = -1;
			return 0;
		}
		if (r < 0)
			return -errno;
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(2000);
	}
}

int
peer_stop(struct peer *p, int timeout_ms, int *status)
{
	int st = 0, err;

	if (p->sock >= 0) {
		close(p->sock);
		p->sock = -1;
	}
	if (p->out_fd > 0) {
		close(p->out_fd);
		p->out_fd = -1;
	}
	if (p->in_fd > 0) {
		close(p->in_fd);
		p->in_fd = -1;
	}
	if (p->pid <= 0)
		return 0;
	err = peer_wait(p, timeout_ms, &st);
	if (err == -ETIMEDOUT) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &st, 0);
		p->pid = -1;
	}
	if (status)
		*status = st;
	return err;
}

size_t
peer_stderr(struct peer *p, char *buf, size_t len)
{
	size_t got = 0;

	while (p->err_fd >= 0 && got + 1 < len) {
		ssize_t r = read(p->err_fd, buf + got, len - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return got;
}

int
peer_count_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int
peer_make_image(char *path, size_t pathlen, off_t size)
{
	int fd;

	snprintf(path, pathlen, "/tmp/mpjail-test-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size) < 0) {
		int err = -errno;

		close(fd);
		unlink(path);
		return err;
	}
	close(fd);
	return 0;
}
