/*
 * broker/launch.c: building each child's jail and command line, and
 * spawning it (broker/launch.h). Runs in the broker, possibly as root, on
 * admin-owned inputs; what it builds is what a tenant process receives,
 * so every fd is matched by name against the child's policy.
 */
#include "broker/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/spawn.h"

#define LSI_AT "/mpjail-lsi"
#define SHIM_AT "/mpjail-exec"
#define KERNEL_AT "/vm/kernel"
#define INITRD_AT "/vm/initrd"
#define ARGS_MAX 160

_Static_assert(BRK_PATH_MAX == SBX_PATH_MAX, "paths go to bubblewrap");

static int __attribute__((format(printf, 4, 5)))
fail(int err, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return err;
}

/* ---- fds, by the policy's names ---- */

struct source {
	const char *name;	/* a range's name ends in '@' */
	unsigned int kind;	/* POL_FD_* the broker gives */
	const int *fds;		/* one, or one per range item */
	const unsigned int *modes;	/* POL_FD_RO/WO/RW, per fd */
	unsigned int nfds;
	bool need;		/* the child cannot work without it */
	int num;		/* out: the first number the policy gave it */
	unsigned int used;
};

static struct source *
find_source(struct source *src, unsigned int n, const char *name,
    unsigned int *item)
{
	const char *at = strchr(name, '@');
	size_t base = at ? (size_t)(at - name) + 1 : strlen(name);

	for (unsigned int i = 0; i < n; i++) {
		bool range = strchr(src[i].name, '@') != NULL;

		if (strlen(src[i].name) != base || strlen(name) < base ||
		    memcmp(src[i].name, name, base) != 0 ||
		    range != (at != NULL))
			continue;
		*item = src[i].used;
		return &src[i];
	}
	return NULL;
}

static int
jail_fds(struct sbx_jail *j, const struct pol_compiled *c, const char *policy,
    struct source *src, unsigned int n, char *why, size_t len)
{
	char kinds[96];
	int err;

	for (unsigned int i = 0; i < c->nfds; i++) {
		const struct pol_fd *f = &c->fds[i];
		unsigned int item;
		struct source *s = find_source(src, n, f->name, &item);

		if (!s || item >= s->nfds)
			return fail(-EINVAL, why, len, "%s: fd %d (%s): the "
			    "broker has nothing to give it", policy, f->num,
			    f->name);
		if (!(f->kinds & s->kind) || !(f->modes & s->modes[item])) {
			pol_fd_kinds_format(f->kinds, kinds, sizeof(kinds));
			return fail(-EINVAL, why, len, "%s: fd %d (%s): the "
			    "policy allows %s, not what the broker has",
			    policy, f->num, f->name, kinds);
		}
		if (s->used == 0)
			s->num = f->num;
		s->used++;
		err = sbx_jail_add_fd(j, s->fds[item], f->num);
		if (err)
			return fail(err, why, len, "%s: fd %d: %s", policy,
			    f->num, strerror(-err));
	}
	for (unsigned int i = 0; i < n; i++)
		if (src[i].need && src[i].used != src[i].nfds)
			return fail(-EINVAL, why, len, "%s: [fds] has %s for "
			    "%u of %u fds the broker must give", policy,
			    src[i].name, src[i].used, src[i].nfds);
	return 0;
}

/* ---- command lines ---- */

struct args {
	unsigned int n;
	char *v[ARGS_MAX];
	size_t used;
	char buf[SBX_ARGV_BUF];
	int err;
};

static void __attribute__((format(printf, 2, 3)))
add(struct args *a, const char *fmt, ...)
{
	size_t room = sizeof(a->buf) - a->used;
	va_list ap;
	int w;

	if (a->err)
		return;
	if (a->n + 2 > ARGS_MAX) {
		a->err = -E2BIG;
		return;
	}
	va_start(ap, fmt);
	w = vsnprintf(a->buf + a->used, room, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= room) {
		a->err = -E2BIG;
		return;
	}
	a->v[a->n++] = a->buf + a->used;
	a->v[a->n] = NULL;
	a->used += (size_t)w + 1;
}

/* ---- spawning ---- */

static int
spawn(const struct sbx_jail *j, struct args *a, struct brk_child *child,
    char *why, size_t len)
{
	char swhy[256];
	int err, pidfd;
	pid_t pid;

	if (a->err)
		return fail(a->err, why, len, "%s: command line too long",
		    child->who);
	err = sbx_spawn(j, a->v, &pid, swhy, sizeof(swhy));
	if (err)
		return fail(err, why, len, "%s: spawn: %s", child->who, swhy);
	child->pid = pid;
	/* A pidfd for poll(); the process is ours and not yet reaped. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return fail(-errno, why, len, "%s: pidfd_open: %s", child->who,
		    strerror(errno));
	child->pidfd = pidfd;
	child->uid = j->uid;
	return 0;
}

/* The pipe for a child's stderr: we keep the read end, non-blocking. */
static int
log_pipe(struct brk_child *child, int *err_w, char *why, size_t len)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(-errno, why, len, "%s: pipe: %s", child->who,
		    strerror(errno));
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		int err = -errno;

		close(p[0]);
		close(p[1]);
		return fail(err, why, len, "%s: pipe: %s", child->who,
		    strerror(-err));
	}
	child->err_fd = p[0];
	*err_w = p[1];
	return 0;
}

/* Large: allocated, never on the stack, never a global. */
struct work {
	struct sbx_jail jail;
	struct args a;
	rlim_t nproc;      /* set by the shim, not the spawn (see sandbox/) */
	bool nproc_set;
};

/*
 * What every child starts from: its jail from the compiled policy (named
 * `policy` in errors), and the pipe for its stderr. The caller frees the
 * result; NULL with *errp set on error, with nothing left to free.
 */
static struct work *
work_new(const struct pol_compiled *c, uid_t uid, gid_t gid,
    const char *policy, struct brk_child *child, int *err_w, int *errp,
    char *why, size_t len)
{
	struct work *w = calloc(1, sizeof(*w));
	int err;

	if (!w) {
		*errp = fail(-ENOMEM, why, len, "out of memory");
		return NULL;
	}
	err = sbx_jail_from_policy(&w->jail, c, uid, gid, &w->nproc,
	    &w->nproc_set);
	if (err)
		err = fail(err, why, len, "%s: %s", policy,
		    err == -EOPNOTSUPP ? "only root = empty is supported" :
		    strerror(-err));
	else
		err = log_pipe(child, err_w, why, len);
	if (err) {
		free(w);
		*errp = err;
		return NULL;
	}
	return w;
}

/* Is `path` inside one of the policy's binds (so QEMU can see it)? */
static bool
under_bind(const struct pol_compiled *c, const char *path)
{
	for (unsigned int i = 0; i < c->ns.nbinds && i < POL_MAX_BINDS; i++) {
		size_t n = strlen(c->ns.binds[i].path);

		if (!strncmp(path, c->ns.binds[i].path, n) &&
		    (path[n] == '/' || path[n] == '\0'))
			return true;
	}
	return false;
}

/*
 * mpjail-exec's options: the policy's Landlock as written (the shim
 * degrades by ABI and reports), read access to the files bound for
 * this VM, the seccomp fd, nproc.
 */
static void
shim_args(struct args *a, const struct pol_compiled *c, const struct brk_vm *vm,
    bool vm_files, const char *extra_exec, int seccomp_num, bool nproc_set,
    rlim_t nproc)
{
	const struct pol_landlock *ll = &c->landlock;

	add(a, "%s", SHIM_AT);
	if (ll->present) {
		add(a, "--landlock-fs=0x%" PRIx64, ll->handled_fs);
		add(a, "--landlock-net=0x%" PRIx64, ll->handled_net);
		add(a, "--landlock-scope=0x%" PRIx64, ll->scoped);
		add(a, "--landlock-abi-min=%d", ll->abi_min);
		if (!ll->best_effort)
			add(a, "--landlock-hard");
		for (unsigned int i = 0; i < ll->npaths; i++)
			add(a, "--allow-path=0x%" PRIx64 ":%s",
			    ll->paths[i].access, ll->paths[i].path);
		for (unsigned int i = 0; i < ll->nports; i++)
			add(a, "--allow-port=0x%" PRIx64 ":%u",
			    ll->ports[i].access, ll->ports[i].port);
		if (ll->handled_fs & POL_LL_FS_READ_FILE) {
			uint64_t rd = POL_LL_FS_READ_FILE;

			if (vm_files && vm->boot == BRK_BOOT_KERNEL)
				add(a, "--allow-path=0x%" PRIx64 ":%s", rd,
				    KERNEL_AT);
			if (vm_files && vm->boot == BRK_BOOT_KERNEL &&
			    vm->initrd[0])
				add(a, "--allow-path=0x%" PRIx64 ":%s", rd,
				    INITRD_AT);
			if (extra_exec)
				add(a, "--allow-path=0x%" PRIx64 ":%s",
				    (uint64_t)(rd |
				    (ll->handled_fs & POL_LL_FS_EXECUTE)),
				    extra_exec);
		}
	}
	add(a, "--seccomp-fd=%d", seccomp_num);
	if (nproc_set)
		add(a, "--rlimit-nproc=%llu", (unsigned long long)nproc);
	add(a, "--");
}

/* mpjail-lsi's command line: the fds at the numbers its policy gave them. */
static void
lsi_args(struct args *a, const struct brk_remote *r,
    const struct brk_image *images, int sock_num, int bpf_num, int disk_num)
{
	add(a, "%s", LSI_AT);
	add(a, "--socket-fd");
	add(a, "%d", sock_num);
	add(a, "--seccomp-fd");
	add(a, "%d", bpf_num);
	for (unsigned int i = 0; i < r->ndisks; i++) {
		add(a, "--disk-fd");
		add(a, "%d%s", disk_num + (int)i, images[i].ro ? ":ro" : "");
	}
}

/*
 * QEMU's own remote: one LSI53C895A, a scsi-hd per disk on fdset i+1
 * (its read-only fd, then its read-write one), no path anywhere. The
 * broker holds the OFD locks, so QEMU takes none (file.locking=off: its
 * lock on the read-only description would conflict with ours). The
 * block thread pool is capped, so the policy's nproc holds under load.
 */
static void
xremote_args(struct args *a, const struct brk_remote *r, const char *qemu,
    const struct brk_image *images, int sock_num, int qmp_num, int disk_num)
{
	add(a, "%s", qemu);
	add(a, "-machine");
	add(a, "x-remote");
	add(a, "-nodefaults");
	add(a, "-no-user-config");
	add(a, "-display");
	add(a, "none");
	add(a, "-sandbox");
	add(a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
	    "resourcecontrol=deny");
	add(a, "-object");
	add(a, "main-loop,id=mainloop,thread-pool-max=%d",
	    BRK_QEMU_REMOTE_POOL);
	add(a, "-chardev");
	add(a, "socket,id=qmp,fd=%d", qmp_num);
	add(a, "-mon");
	add(a, "chardev=qmp,mode=control");
	add(a, "-device");
	add(a, "lsi53c895a,id=%s", r->name);
	for (unsigned int i = 0; i < r->ndisks; i++) {
		add(a, "-add-fd");
		add(a, "fd=%d,set=%u", disk_num + 2 * (int)i, i + 1);
		add(a, "-add-fd");
		add(a, "fd=%d,set=%u", disk_num + 2 * (int)i + 1, i + 1);
		add(a, "-drive");
		add(a, "id=d%u,file=/dev/fdset/%u,format=raw,if=none,"
		    "file.locking=off%s", i, i + 1,
		    images[i].ro ? ",readonly=on" : "");
		add(a, "-device");
		add(a, "scsi-hd,id=hd%u,drive=d%u,bus=%s.0,scsi-id=%u", i, i,
		    r->name, i);
	}
	add(a, "-object");
	add(a, "x-remote-object,id=robj0,devid=%s,fd=%d", r->name, sock_num);
}

int
brk_launch_remote(const struct brk_vm *vm, unsigned int idx,
    const struct pol_compiled *c, uid_t uid, gid_t gid,
    const struct brk_programs *progs, int null_fd, int sock, int qmp,
    const struct brk_image *images, struct brk_child *child,
    char *why, size_t len)
{
	static const unsigned int ro = POL_FD_RO, wo = POL_FD_WO,
	    rw = POL_FD_RW;
	const struct brk_remote *r = &vm->remotes[idx];
	bool xremote = r->kind == BRK_REMOTE_QEMU;
	int disk_fds[2 * BRK_MAX_DISKS], err_w = -1, err;
	unsigned int disk_modes[2 * BRK_MAX_DISKS], disk_kinds = 0, ndisk_fds;
	const char *qemu = progs->remote_qemu[idx];
	struct work *w;

	if (c->seccomp_fd < 0)
		return fail(-EINVAL, why, len, "%s: has no [seccomp]",
		    r->policy);
	if (xremote && (qmp < 0 || !qemu[0]))
		return fail(-EINVAL, why, len, "%s: no QMP socket or QEMU",
		    child->who);
	/* kind = qemu: the fdset wants a read-only fd before a read-write
	 * one; a read-only disk gets two read-only fds. */
	ndisk_fds = 0;
	for (unsigned int i = 0; i < r->ndisks; i++) {
		if (xremote) {
			if (images[i].ro_fd < 0)
				return fail(-EINVAL, why, len, "%s: disk %u "
				    "has no read-only fd", child->who, i);
			disk_fds[ndisk_fds] = images[i].ro_fd;
			disk_modes[ndisk_fds++] = POL_FD_RO;
		}
		disk_fds[ndisk_fds] = images[i].fd;
		disk_modes[ndisk_fds++] = images[i].ro ? POL_FD_RO : POL_FD_RW;
		disk_kinds |= images[i].block ? POL_FD_BLOCK : POL_FD_FILE;
	}
	w = work_new(c, uid, gid, r->policy, child, &err_w, &err, why, len);
	if (!w)
		return err;
	{
		struct source src[] = {
			{ "stdin", POL_FD_NULL, &null_fd, &ro, 1, false, -1, 0 },
			{ "stdout", POL_FD_NULL, &null_fd, &wo, 1, false, -1,
			    0 },
			{ "log", POL_FD_PIPE_W, &err_w, &wo, 1, false, -1, 0 },
			{ "mpqemu", POL_FD_UNIX_STREAM, &sock, &rw, 1, true,
			    -1, 0 },
			{ "bpf", POL_FD_MEMFD_SEALED, &c->seccomp_fd, &ro, 1,
			    true, -1, 0 },
			{ "disk@", disk_kinds, disk_fds, disk_modes,
			    ndisk_fds, true, -1, 0 },
			{ "qmp", POL_FD_UNIX_STREAM, &qmp, &rw, 1, xremote,
			    -1, 0 },
		};
		/* mpjail-lsi has no monitor: a policy naming one is wrong. */
		unsigned int nsrc = sizeof(src) / sizeof(src[0]) -
		    (xremote ? 0 : 1);

		err = jail_fds(&w->jail, c, r->policy, src, nsrc, why, len);
		if (!xremote) {
			if (!err && sbx_jail_add_bind(&w->jail, SBX_BIND_RO,
			    progs->lsi, LSI_AT))
				err = fail(-EINVAL, why, len, "cannot bind %s",
				    progs->lsi);
			lsi_args(&w->a, r, images, src[3].num, src[4].num,
			    src[5].num);
		} else {
			const char *extra_exec = NULL;

			if (!err && !under_bind(c, qemu)) {
				extra_exec = qemu;
				if (sbx_jail_add_bind(&w->jail, SBX_BIND_RO,
				    qemu, qemu))
					err = fail(-EINVAL, why, len, "cannot "
					    "bind %s", qemu);
			}
			if (!err && sbx_jail_add_bind(&w->jail, SBX_BIND_RO,
			    progs->shim, SHIM_AT))
				err = fail(-EINVAL, why, len, "cannot bind %s",
				    progs->shim);
			shim_args(&w->a, c, vm, false, extra_exec, src[4].num,
			    w->nproc_set, w->nproc);
			xremote_args(&w->a, r, qemu, images, src[3].num,
			    src[6].num, src[5].num);
		}
	}
	if (!err)
		err = spawn(&w->jail, &w->a, child, why, len);
	close(err_w);
	free(w);
	return err;
}

static void
qemu_args(struct args *a, const struct brk_vm *vm, const char *qemu,
    int qmp_num, int remote_num)
{
	add(a, "%s", qemu);
	add(a, "-accel");
	add(a, "tcg");
	add(a, "-m");
	add(a, "%" PRIu64 "M", vm->memory_mib);
	add(a, "-object");
	add(a, "memory-backend-memfd,id=mem,size=%" PRIu64 "M,share=on",
	    vm->memory_mib);
	add(a, "-numa");
	add(a, "node,memdev=mem");
	add(a, "-nodefaults");
	add(a, "-no-user-config");
	add(a, "-no-reboot");
	add(a, "-display");
	add(a, "none");
	add(a, "-nic");
	add(a, "none");
	add(a, "-sandbox");
	add(a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
	    "resourcecontrol=deny");
	/* The console on our pipe (stdout); QMP on our socketpair. */
	add(a, "-chardev");
	add(a, "stdio,id=console,signal=off");
	add(a, "-serial");
	add(a, "chardev:console");
	add(a, "-chardev");
	add(a, "socket,id=qmp,fd=%d", qmp_num);
	add(a, "-mon");
	add(a, "chardev=qmp,mode=control");
	for (unsigned int i = 0; i < vm->nremotes; i++) {
		add(a, "-device");
		add(a, "x-pci-proxy-dev,id=%s,fd=%d", vm->remotes[i].name,
		    remote_num + (int)i);
	}
	if (vm->boot == BRK_BOOT_KERNEL) {
		add(a, "-kernel");
		add(a, "%s", KERNEL_AT);
		if (vm->initrd[0]) {
			add(a, "-initrd");
			add(a, "%s", INITRD_AT);
		}
		if (vm->append[0]) {
			add(a, "-append");
			add(a, "%s", vm->append);
		}
	}
}

int
brk_launch_qemu(const struct brk_vm *vm, const struct pol_compiled *c,
    uid_t uid, gid_t gid, const struct brk_programs *progs,
    const struct brk_qemu_io *io, struct brk_child *child, char *why,
    size_t len)
{
	static const unsigned int ro = POL_FD_RO, wo = POL_FD_WO,
	    rw = POL_FD_RW;
	unsigned int rw_modes[BRK_MAX_REMOTES];
	const char *extra_exec = NULL;
	int err_w = -1, err;
	struct work *w;

	if (c->seccomp_fd < 0)
		return fail(-EINVAL, why, len, "%s: has no [seccomp]",
		    vm->qemu_policy);
	for (unsigned int i = 0; i < vm->nremotes; i++)
		rw_modes[i] = POL_FD_RW;
	w = work_new(c, uid, gid, vm->qemu_policy, child, &err_w, &err, why,
	    len);
	if (!w)
		return err;
	{
		struct source src[] = {
			{ "stdin", POL_FD_NULL, &io->null_fd, &ro, 1, false,
			    -1, 0 },
			{ "stdout", POL_FD_PIPE_W, &io->serial_w, &wo, 1, true,
			    -1, 0 },
			{ "log", POL_FD_PIPE_W, &err_w, &wo, 1, false, -1, 0 },
			{ "qmp", POL_FD_UNIX_STREAM, &io->qmp, &rw, 1, true,
			    -1, 0 },
			{ "bpf", POL_FD_MEMFD_SEALED, &c->seccomp_fd, &ro, 1,
			    true, -1, 0 },
			{ "remote@", POL_FD_UNIX_STREAM, io->remote_socks,
			    rw_modes, vm->nremotes, true, -1, 0 },
		};
		struct sbx_jail *j = &w->jail;

		err = jail_fds(j, c, vm->qemu_policy, src,
		    sizeof(src) / sizeof(src[0]), why, len);
		if (!err && src[1].num != STDOUT_FILENO)
			err = fail(-EINVAL, why, len, "%s: stdout must be fd 1 "
			    "(the console)", vm->qemu_policy);
		/* QEMU, if the policy's binds do not show it already. */
		if (!err && !under_bind(c, progs->qemu)) {
			extra_exec = progs->qemu;
			if (sbx_jail_add_bind(j, SBX_BIND_RO, progs->qemu,
			    progs->qemu))
				err = fail(-EINVAL, why, len, "cannot bind %s",
				    progs->qemu);
		}
		if (!err && sbx_jail_add_bind(j, SBX_BIND_RO, progs->shim,
		    SHIM_AT))
			err = fail(-EINVAL, why, len, "cannot bind %s",
			    progs->shim);
		if (!err && vm->boot == BRK_BOOT_KERNEL &&
		    sbx_jail_add_bind(j, SBX_BIND_RO, vm->kernel, KERNEL_AT))
			err = fail(-EINVAL, why, len, "cannot bind %s",
			    vm->kernel);
		if (!err && vm->boot == BRK_BOOT_KERNEL && vm->initrd[0] &&
		    sbx_jail_add_bind(j, SBX_BIND_RO, vm->initrd, INITRD_AT))
			err = fail(-EINVAL, why, len, "cannot bind %s",
			    vm->initrd);
		shim_args(&w->a, c, vm, true, extra_exec, src[4].num,
		    w->nproc_set, w->nproc);
		qemu_args(&w->a, vm, progs->qemu, src[3].num, src[5].num);
	}
	if (!err)
		err = spawn(&w->jail, &w->a, child, why, len);
	close(err_w);
	free(w);
	return err;
}
