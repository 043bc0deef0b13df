/*
 * remote/main.c: mpjail-lsi, the sandboxed LSI53C895A remote.
 * The privilege story, in order: take the inherited fds (never a path),
 * check them, lock down, then serve the untrusted peer until it leaves.
 * Set-up runs before the first untrusted byte is read; after that nothing
 * here exits but through a one-line reason.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote/server.h"
#include "sandbox/self.h"

#define PROG "mpjail-lsi"

#ifdef __SANITIZE_ADDRESS__
/*
 * Sanitizer builds only: LeakSanitizer reads /proc at exit, which our own
 * Landlock lockdown has closed, and then fails the run. The remote's few
 * allocations are checked by the unit tests instead.
 */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/* The device state lives here, the one place mutable globals may. */
static struct remote the_remote;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: " PROG " --socket-fd N [--disk-fd D[:ro][:id=NAME]]...\n"
	    "       [--seccomp-fd M]\n"
	    "  Serve one LSI53C895A to QEMU's x-pci-proxy-dev over the\n"
	    "  inherited, connected AF_UNIX stream socket N. Opens no path.\n"
	    "  Each --disk-fd is a SCSI disk (raw image or block device) at\n"
	    "  the next SCSI ID from 0; ':ro' write-protects it; ':id=NAME'\n"
	    "  names it in VPD page 0x83 (default: disk<ID>).\n"
	    "  Before the first message: Landlock (no fs, no net, scoped),\n"
	    "  nproc 0, and the sealed seccomp program in memfd M.\n");
	exit(status);
}

static int
parse_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX)
		die("bad fd number '%s'", s);
	return (int)v;
}

/* One --disk-fd: "N[:ro][:id=NAME]". */
struct disk_arg {
	int fd;
	bool ro;
	const char *id; /* NULL: the bus names it */
};

/*
 * The name becomes the disk's VPD 0x83 designator (as QEMU uses its -drive
 * id): printable ASCII without ':' only, and bounded.
 */
static bool
valid_disk_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > SCSI_DEVICE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (id[i] <= ' ' || id[i] > '~' || id[i] == ':')
			return false;
	return true;
}

static void
parse_disk(char *arg, struct disk_arg *d)
{
	char *field, *rest = arg;

	memset(d, 0, sizeof(*d));
	field = strsep(&rest, ":");
	d->fd = parse_fd(field);
	while ((field = strsep(&rest, ":")) != NULL) {
		if (strcmp(field, "ro") == 0 && !d->ro)
			d->ro = true;
		else if (strncmp(field, "id=", 3) == 0 && !d->id &&
		    valid_disk_id(field + 3))
			d->id = field + 3;
		else
			die("bad --disk-fd field '%s' (N[:ro][:id=NAME])", field);
	}
}

/* The socket must be what the broker promised: a connected unix stream. */
static void
check_socket(int fd)
{
	struct stat st;
	int type = 0, domain = 0;
	socklen_t len = sizeof(type);

	if (fstat(fd, &st) < 0)
		die("socket fd %d: %s", fd, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		die("socket fd %d: not a socket", fd);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM)
		die("socket fd %d: not a stream socket", fd);
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    domain != AF_UNIX)
		die("socket fd %d: not an AF_UNIX socket", fd);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket-fd", required_argument, NULL, 's' },
		{ "seccomp-fd", required_argument, NULL, 'S' },
		{ "disk-fd", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sbx_lockdown lockdown;
	struct sbx_ll_report ll_report;
	char why[256] = "";
	int sock = -1, bpf = -1, c, err;
	struct disk_arg disks[SCSI_BUS_MAX_DISKS];
	unsigned int ndisks = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = parse_fd(optarg);
			break;
		case 'S':
			bpf = parse_fd(optarg);
			break;
		case 'd':
			if (ndisks >= SCSI_BUS_MAX_DISKS)
				die("more than %u disks", SCSI_BUS_MAX_DISKS);
			parse_disk(optarg, &disks[ndisks++]);
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || sock < 0)
		usage(2);
	check_socket(sock);

	/* The device and its disks, while fstat/ioctl/pread are allowed. */
	srv_init(&the_remote, sock);
	for (unsigned int i = 0; i < ndisks; i++) {
		err = scsi_bus_add_disk(&the_remote.bus, disks[i].fd,
		    disks[i].ro, disks[i].id);
		if (err < 0)
			die("disk fd %d: %s", disks[i].fd, strerror(-err));
	}

	/* Lockdown, before the first untrusted byte (sandbox/self.h). */
	sbx_lockdown_remote(&lockdown, bpf);
	lockdown.log_fd = 2;
	lockdown.log_prefix = PROG;
	if (sbx_lockdown_apply(&lockdown, &ll_report, why, sizeof(why)))
		die("lockdown: %s", why);

	err = srv_run(&the_remote, why, sizeof(why));
	srv_fini(&the_remote);
	if (err) {
		fprintf(stderr, PROG ": %s\n", why);
		return 1;
	}
	return 0;
}
