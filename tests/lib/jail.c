/*
 * tests/lib/jail.c: the confined mpjail-lsi for tests, spawned through
 * mpjail-run exactly as the escape suite and the broker do. Test code,
 * run as root; every wait is bounded.
 */
#include "tests/lib/jail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *
jail_policy_path(void)
{
	const char *p = getenv("MPJAIL_POLICY");

	return p && *p ? p : "policy/lsi-remote.policy";
}

static int jail_start_jailed(struct peer *p, const char *disk_path,
    bool ro);

/* A tenant uid of our own, so parallel runs do not share one. */
static unsigned int
tenant_id(void)
{
	return 60000u + (unsigned int)getpid() % 4000u;
}

/*
 * MPJAIL_JAIL=none: no sandbox. Only `make asan` sets it: a sanitizer
 * build of mpjail-lsi is dynamically linked and cannot run in the empty
 * root, so there the hostile suites test memory safety, and the normal
 * build tests confinement.
 */
static bool
unjailed(void)
{
	const char *v = getenv("MPJAIL_JAIL");

	return v && strcmp(v, "none") == 0;
}

bool
jail_confined(void)
{
	return !unjailed();
}

int
jail_start_mpjail_lsi(struct peer *p, const char *disk_path, bool ro)
{
	if (unjailed()) {
		return disk_path ? peer_start_mpjail_lsi_disk(p, disk_path, ro)
		    : peer_start_mpjail_lsi(p);
	}
	return jail_start_jailed(p, disk_path, ro);
}

static int
jail_start_jailed(struct peer *p, const char *disk_path, bool ro)
{
	char run[4096], lsi[4096], tenant[16], sockarg[32], diskarg[4200];
	int sv[2], ep[2];
	pid_t pid;

	peer_build_path("mpjail-run", run, sizeof(run));
	peer_build_path("mpjail-lsi", lsi, sizeof(lsi));
	snprintf(tenant, sizeof(tenant), "%u", tenant_id());
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char *argv[24];
		int n = 0, high;

		/* out of the way of 0-2, then the socket at a known number */
		high = fcntl(sv[1], F_DUPFD, 20);
		if (high < 0 || dup2(ep[1], 2) < 0)
			_exit(126);
		snprintf(sockarg, sizeof(sockarg), "3=&%d", high);
		snprintf(diskarg, sizeof(diskarg), "5=%s:%s", ro ? "ro" : "rw",
		    disk_path ? disk_path : "");
		argv[n++] = run;
		argv[n++] = "--policy";
		argv[n++] = (char *)jail_policy_path();
		argv[n++] = "--uid";
		argv[n++] = tenant;
		argv[n++] = "--gid";
		argv[n++] = tenant;
		argv[n++] = "--fd";
		argv[n++] = sockarg;
		if (disk_path) {
			argv[n++] = "--fd";
			argv[n++] = diskarg;
		}
		argv[n++] = "--";
		argv[n++] = lsi;
		argv[n++] = "--socket-fd";
		argv[n++] = "3";
		argv[n++] = "--seccomp-fd";
		argv[n++] = "4";
		if (disk_path) {
			/* the command line of peer_start_mpjail_lsi_disk, so
			   the differential tests see the same VPD 0x83 name */
			argv[n++] = "--disk-fd";
			argv[n++] = (char *)(ro ? "5:ro:id=d0" : "5:id=d0");
		}
		argv[n] = NULL;
		execv(run, argv);
		dprintf(2, "exec %s: %s\n", run, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	close(ep[1]);
	fcntl(ep[0], F_SETFL, O_NONBLOCK);
	memset(p, 0, sizeof(*p));
	p->name = "mpjail-lsi (jailed)";
	p->pid = pid;
	p->sock = sv[0];
	p->err_fd = ep[0];
	p->out_fd = -1;
	p->in_fd = -1;
	return 0;
}

/* The first descendant of root named comm, by walking /proc. */
static pid_t
find_child_named(pid_t root, const char *comm, int depth)
{
	char path[64], buf[256];
	DIR *d;
	struct dirent *e;
	pid_t found = 0;

	if (depth > 4)
		return 0;
	d = opendir("/proc");
	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		FILE *f;
		pid_t ppid = 0;
		char name[64] = "";

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			char *l = strchr(buf, '('), *r = strrchr(buf, ')');

			if (l && r && r > l) {
				snprintf(name, sizeof(name), "%.*s",
				    (int)(r - l - 1), l + 1);
				ppid = (pid_t)atoi(r + 4);
			}
		}
		fclose(f);
		if (ppid != root)
			continue;
		if (strcmp(name, comm) == 0)
			found = pid;
		else
			found = find_child_named(pid, comm, depth + 1);
	}
	closedir(d);
	return found;
}

/* A line of /proc/PID/status starts with `want` ("Seccomp:\t2"). */
static bool
status_has(pid_t pid, const char *want)
{
	char path[64], line[256];
	FILE *f;
	bool on = false;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, want, strlen(want)) == 0)
			on = true;
	fclose(f);
	return on;
}

pid_t
jail_find_remote(const struct peer *p, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		pid_t pid;

		/* unconfined, it has locked down once no_new_privs is set */
		if (unjailed()) {
			if (status_has(p->pid, "NoNewPrivs:\t1"))
				return p->pid;
			usleep(10000);
			continue;
		}
		pid = find_child_named(p->pid, "mpjail-lsi", 0);
		if (pid > 0 && status_has(pid, "Seccomp:\t2"))
			return pid;
		usleep(10000);
	}
	return 0;
}

int
jail_audit(pid_t remote, unsigned int disks, char *out, size_t len)
{
	char tool[4096], pidarg[16], diskarg[16];
	int op[2], st;
	size_t got = 0;
	pid_t pid;

	if (len == 0)
		return -EINVAL;
	out[0] = '\0';
	peer_build_path("mpjail-policy", tool, sizeof(tool));
	snprintf(pidarg, sizeof(pidarg), "%d", (int)remote);
	snprintf(diskarg, sizeof(diskarg), "%u", disks);
	if (pipe2(op, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(op[0]);
		close(op[1]);
		return -errno;
	}
	if (pid == 0) {
		char *argv[] = { tool, (char *)"--disks", diskarg,
			(char *)"audit", pidarg, (char *)jail_policy_path(),
			NULL };

		if (dup2(op[1], 1) < 0 || dup2(op[1], 2) < 0)
			_exit(126);
		execv(tool, argv);
		dprintf(2, "exec %s: %s\n", tool, strerror(errno));
		_exit(127);
	}
	close(op[1]);
	for (;;) {
		ssize_t r = got + 1 < len ?
		    read(op[0], out + got, len - 1 - got) :
		    read(op[0], (char[64]){ 0 }, 64);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (got + 1 < len)
			got += (size_t)r;
	}
	out[got] = '\0';
	close(op[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
