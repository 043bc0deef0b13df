/*
 * policy/audit.c: does a running process carry a policy? Compares what
 * /proc says of PID (seccomp mode and filters, no_new_privs, capability
 * sets, id maps, namespaces, open fds and their kinds) with the policy,
 * and, as root, its installed seccomp filters with the compiled program.
 * /proc text and filters of the audited process are treated as untrusted:
 * bounded reads, strict parsing.
 */
#include "policy/policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void __attribute__((format(printf, 4, 5)))
item(struct pol_audit *a, const char *what, bool ok, const char *fmt, ...)
{
	struct pol_audit_item *it;
	va_list ap;

	if (a->n >= POL_AUDIT_MAX)
		return;
	it = &a->item[a->n++];
	snprintf(it->what, sizeof(it->what), "%s", what);
	it->ok = ok;
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
	if (!ok)
		a->match = false;
}

static int
read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got + 1 < len) {
		ssize_t r = read(fd, buf + got, len - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	return 0;
}

/* The value after "Key:" in a /proc status text, trimmed, into out. */
static bool
status_field(const char *status, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);
	const char *p = status;

	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
			const char *v = p + klen + 1, *e;

			while (*v == ' ' || *v == '\t')
				v++;
			e = strchr(v, '\n');
			if (!e)
				e = v + strlen(v);
			snprintf(out, len, "%.*s", (int)(e - v), v);
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

static const struct {
	enum pol_ns ns;
	const char *proc;
} ns_files[] = {
	{ POL_NS_USER, "user" }, { POL_NS_MOUNT, "mnt" }, { POL_NS_PID, "pid" },
	{ POL_NS_NET, "net" }, { POL_NS_IPC, "ipc" }, { POL_NS_UTS, "uts" },
	{ POL_NS_CGROUP, "cgroup" },
};

static void
audit_status(const struct pol_policy *p, int pid, struct pol_audit *a)
{
	static const char *const caps[] = {
		"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
	};
	char path[64], status[8192] = "", v[128];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_small(path, status, sizeof(status)) < 0) {
		item(a, "status", false, "cannot read %s: %s", path,
		    strerror(errno));
		return;
	}
	if (p->seccomp.present) {
		bool ok = status_field(status, "Seccomp", v, sizeof(v)) &&
		    strcmp(v, "2") == 0;

		item(a, "Seccomp", ok, "mode %s (want 2, filter)", v);
		ok = status_field(status, "Seccomp_filters", v, sizeof(v)) &&
		    atoi(v) >= 1;
		item(a, "Seccomp_filters", ok, "%s installed (want at least 1)",
		    v);
	}
	if (p->process.present && p->process.no_new_privs) {
		bool ok = status_field(status, "NoNewPrivs", v, sizeof(v)) &&
		    strcmp(v, "1") == 0;

		item(a, "NoNewPrivs", ok, "%s (want 1)", v);
	}
	if (p->process.present && p->process.caps_none) {
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			bool ok = status_field(status, caps[i], v, sizeof(v)) &&
			    strspn(v, "0") == strlen(v) && v[0];

			item(a, caps[i], ok, "%s (want all zero)", v);
		}
	}
	if (p->process.present && p->process.uid != POL_ID_UNSET) {
		unsigned long r = 0, e = 0;
		bool ok = status_field(status, "Uid", v, sizeof(v)) &&
		    sscanf(v, "%lu %lu", &r, &e) == 2;

		if (p->process.uid == POL_ID_TENANT)
			ok = ok && r != 0 && e != 0;
		else
			ok = ok && r == (unsigned long)p->process.uid &&
			    e == (unsigned long)p->process.uid;
		item(a, "Uid", ok, "%s (want %s)", v,
		    p->process.uid == POL_ID_TENANT ? "a tenant uid, not 0" :
		    "the policy's uid");
	}
}

static void
audit_maps(int pid, struct pol_audit *a)
{
	static const char *const maps[] = { "uid_map", "gid_map" };

	for (size_t i = 0; i < 2; i++) {
		char path[64], buf[512];
		unsigned long in = 0, out = 0, cnt = 0;
		bool ok;

		snprintf(path, sizeof(path), "/proc/%d/%s", pid, maps[i]);
		if (read_small(path, buf, sizeof(buf)) < 0) {
			item(a, maps[i], false, "cannot read: %s", strerror(errno));
			continue;
		}
		/* the initial namespace's identity map means no user ns */
		ok = !(sscanf(buf, "%lu %lu %lu", &in, &out, &cnt) == 3 &&
		    in == 0 && out == 0 && cnt == 4294967295UL);
		buf[strcspn(buf, "\n")] = '\0';
		item(a, maps[i], ok, "%s%s", buf, ok ? "" :
		    " (the host's identity map)");
	}
}

static void
audit_ns(const struct pol_policy *p, int pid, struct pol_audit *a)
{
	for (size_t i = 0; i < sizeof(ns_files) / sizeof(ns_files[0]); i++) {
		char mine[64], theirs[64], path[64], what[32];
		ssize_t n1, n2;

		if (!(p->ns.unshare & ns_files[i].ns))
			continue;
		snprintf(what, sizeof(what), "ns %s", ns_files[i].proc);
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns_files[i].proc);
		n1 = readlink(path, mine, sizeof(mine) - 1);
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid,
		    ns_files[i].proc);
		n2 = readlink(path, theirs, sizeof(theirs) - 1);
		if (n1 < 0 || n2 < 0) {
			item(a, what, false, "cannot read: %s", strerror(errno));
			continue;
		}
		mine[n1] = '\0';
		theirs[n2] = '\0';
		item(a, what, strcmp(mine, theirs) != 0, "%s (ours %s)", theirs,
		    mine);
	}
}

/*
 * What kind of fd `fd` of pid is, as enum pol_fd_kind bits: the kinds its
 * /proc link and mode could be. A socket could be either UNIX kind, a
 * memfd sealed or not: /proc does not say which. 0: unknown.
 */
static unsigned int
fd_kind(int pid, long fd, char *target, size_t tlen)
{
	char link[64], info[512], v[32];
	struct stat st;
	ssize_t n;
	unsigned long flags = 0;

	snprintf(link, sizeof(link), "/proc/%d/fd/%ld", pid, fd);
	n = readlink(link, target, tlen - 1);
	target[n > 0 ? n : 0] = '\0';
	if (n <= 0)
		return 0;
	snprintf(info, sizeof(info), "/proc/%d/fdinfo/%ld", pid, fd);
	if (read_small(info, info, sizeof(info)) == 0 &&
	    status_field(info, "flags", v, sizeof(v)))
		flags = strtoul(v, NULL, 8);
	if (strncmp(target, "pipe:", 5) == 0)
		return (flags & O_ACCMODE) == O_WRONLY ? POL_FD_PIPE_W :
		    POL_FD_PIPE_R;
	if (strncmp(target, "socket:", 7) == 0)
		return POL_FD_UNIX_STREAM | POL_FD_UNIX_SEQPACKET;
	if (strcmp(target, "anon_inode:[eventfd]") == 0)
		return POL_FD_EVENTFD;
	if (strcmp(target, "anon_inode:[eventpoll]") == 0)
		return POL_FD_EPOLL;
	if (strcmp(target, "anon_inode:[signalfd]") == 0)
		return POL_FD_SIGNALFD;
	if (strncmp(target, "/memfd:", 7) == 0)
		return POL_FD_MEMFD | POL_FD_MEMFD_SEALED;
	if (strcmp(target, "/dev/null") == 0)
		return POL_FD_NULL;
	if (strncmp(target, "/dev/pts/", 9) == 0 ||
	    strncmp(target, "/dev/tty", 8) == 0)
		return POL_FD_TTY;
	if (target[0] == '/' && stat(link, &st) == 0)
		return S_ISBLK(st.st_mode) ? POL_FD_BLOCK :
		    S_ISREG(st.st_mode) ? POL_FD_FILE : 0;
	return 0;
}

static void
audit_fds(const struct pol_policy *p, int pid, unsigned int range_count,
    struct pol_audit *a)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	unsigned int extra = 0, held = 0, received = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d) {
		item(a, "fds", false, "cannot list %s: %s", path,
		    strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *end, what[48], target[128], k[96];
		long fd = strtol(e->d_name, &end, 10);
		const struct pol_fd *match = NULL, *numbered = NULL;
		unsigned int kind;

		if (e->d_name[0] == '.' || *end || fd < 0)
			continue;
		held++;
		kind = fd_kind(pid, fd, target, sizeof(target));
		for (unsigned int i = 0; i < p->nfds; i++) {
			const struct pol_fd *f = &p->fds[i];

			if (f->num == fd || (f->range && fd >= f->num &&
			    (range_count == 0 ||
			    fd < f->num + (long)range_count)))
				numbered = f;
		}
		if (numbered && (numbered->kinds & kind))
			continue;
		/* a kind received at run time, at any number the kernel chose */
		for (unsigned int i = 0; i < p->nreceived && !match; i++)
			if (p->received[i].kinds & kind)
				match = &p->received[i];
		if (match) {
			received++;
			continue;
		}
		extra++;
		snprintf(what, sizeof(what), "fd %ld", fd);
		pol_fd_kinds_format(kind, k, sizeof(k));
		if (numbered) {
			char want[96];

			pol_fd_kinds_format(numbered->kinds, want, sizeof(want));
			item(a, what, false, "%s (%s), but [fds] says %s %s",
			    target, kind ? k : "unknown kind", numbered->name,
			    want);
		} else {
			item(a, what, false, "held but not in [fds] (%s, %s)",
			    target, kind ? k : "unknown kind");
		}
	}
	closedir(d);
	item(a, "fds", extra == 0, "%u held, %u of them received at run "
	    "time, %u not in the policy", held, received, extra);
}

/* ---- the installed seccomp filters, as root ---- */

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

static void __attribute__((format(printf, 2, 3)))
unavailable(struct pol_audit *a, const char *fmt, ...)
{
	struct pol_audit_item *it;
	va_list ap;

	if (a->n >= POL_AUDIT_MAX)
		return;
	it = &a->item[a->n++];
	snprintf(it->what, sizeof(it->what), "seccomp filter");
	it->ok = true;
	it->unavailable = true;
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
}

/* The compiled program's bytes into a new buffer (*len bytes). */
static int
compiled_program(const struct pol_policy *p, unsigned int range_count,
    unsigned char **prog, size_t *len)
{
	struct pol_compile_opts o = { .range_count = range_count };
	int fd = -1, err;

	*prog = NULL;
	err = pol_seccomp_memfd(p, &o, &fd, len);
	if (err)
		return err;
	*prog = malloc(*len ? *len : 1);
	if (!*prog)
		err = -ENOMEM;
	else if (pread(fd, *prog, *len, 0) != (ssize_t)*len)
		err = -EIO;
	close(fd);
	if (err) {
		free(*prog);
		*prog = NULL;
	}
	return err;
}

/*
 * Stop pid (it never notices: PTRACE_SEIZE, PTRACE_INTERRUPT), read each
 * installed filter, index 0 (the newest) up, compare with `prog`, detach.
 * The process's own syscall (ppoll) is restarted by the kernel.
 */
static void
audit_filter(const struct pol_policy *p, int pid, unsigned int range_count,
    struct pol_audit *a)
{
	unsigned char *prog = NULL, *got = NULL;
	size_t len = 0;
	long n;
	int st, err, found = -1, count = 0;
	char sizes[96] = "";

	if (geteuid() != 0) {
		unavailable(a, "unavailable: needs root "
		    "(PTRACE_SECCOMP_GET_FILTER)");
		return;
	}
	err = compiled_program(p, range_count, &prog, &len);
	if (err) {
		item(a, "seccomp filter", false, "cannot compile the policy: "
		    "%s", strerror(-err));
		return;
	}
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
		unavailable(a, "unavailable: PTRACE_SEIZE: %s",
		    strerror(errno));
		free(prog);
		return;
	}
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0 ||
	    waitpid(pid, &st, __WALL) != pid) {
		unavailable(a, "unavailable: cannot stop pid %d: %s", pid,
		    strerror(errno));
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
		free(prog);
		return;
	}
	for (int i = 0; i < 64; i++) {
		size_t used = strlen(sizes);

		n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(long)i,
		    NULL);
		if (n < 0) {
			if (errno != ENOENT && i == 0)
				count = -errno;
			break;
		}
		count++;
		snprintf(sizes + used, sizeof(sizes) - used, "%s%ld",
		    i ? "," : "", n);
		if ((size_t)n * 8 != len || found >= 0)
			continue;
		free(got);
		got = malloc(len);
		if (got && ptrace(PTRACE_SECCOMP_GET_FILTER, pid,
		    (void *)(long)i, got) == n && memcmp(got, prog, len) == 0)
			found = i;
	}
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	if (count < 0)
		unavailable(a, "unavailable: PTRACE_SECCOMP_GET_FILTER: %s",
		    strerror(-count));
	else if (found >= 0)
		item(a, "seccomp filter", true, "filter %d of %d is the "
		    "compiled program, byte for byte (%zu instructions)", found,
		    count, len / 8);
	else
		item(a, "seccomp filter", false, "mismatch: none of %d "
		    "installed filters (instructions: %s) is the compiled "
		    "program (%zu instructions)", count, count ? sizes :
		    "none", len / 8);
	free(got);
	free(prog);
}

int
pol_audit_pid(const struct pol_policy *p, int pid, unsigned int range_count,
    struct pol_audit *out)
{
	memset(out, 0, sizeof(*out));
	out->match = true;
	if (pid <= 0)
		return -EINVAL;
	audit_status(p, pid, out);
	if (p->ns.present && (p->ns.unshare & POL_NS_USER))
		audit_maps(pid, out);
	if (p->ns.present)
		audit_ns(p, pid, out);
	if (p->nfds)
		audit_fds(p, pid, range_count, out);
	if (p->seccomp.present)
		audit_filter(p, pid, range_count, out);
	return 0;
}
