/*
 * sandbox/landlock.c: Landlock applied by the process to itself, best
 * effort across ABI 1 to 7 on Debian 12's 6.1 headers (the newer UAPI is
 * defined here). Runs in the sandboxed process before it reads any input;
 * its input is the trusted description its own main() built.
 */
#include "sandbox/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
#define LL_RULE_PATH_BENEATH 1	/* LANDLOCK_RULE_PATH_BENEATH (ABI 1) */
#define LL_RULE_NET_PORT 2	/* LANDLOCK_RULE_NET_PORT (ABI 4) */

_Static_assert(SBX_LL_FS_TRUNCATE == LANDLOCK_ACCESS_FS_TRUNCATE, "uapi");
_Static_assert(SBX_LL_FS_IOCTL_DEV == LANDLOCK_ACCESS_FS_IOCTL_DEV, "uapi");
_Static_assert(SBX_LL_FS_REFER == LANDLOCK_ACCESS_FS_REFER, "uapi");
_Static_assert(SBX_LL_NET_CONNECT_TCP == LANDLOCK_ACCESS_NET_CONNECT_TCP,
    "uapi");
_Static_assert(SBX_LL_SCOPE_SIGNAL == LANDLOCK_SCOPE_SIGNAL, "uapi");

/*
 * The kernel's structs as of ABI 7; the 6.1 header has only the first
 * field of the ruleset attribute and no port attribute. The size passed
 * to the kernel is the prefix its ABI knows.
 */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

/* Rights that make sense on a file (not a directory) beneath-rule. */
#define LL_FS_FILE_RIGHTS (SBX_LL_FS_EXECUTE | SBX_LL_FS_WRITE_FILE | \
    SBX_LL_FS_READ_FILE | SBX_LL_FS_TRUNCATE | SBX_LL_FS_IOCTL_DEV)

uint64_t
sbx_ll_fs_at_abi(int abi)
{
	uint64_t m = 0;

	if (abi >= 1)
		m |= (SBX_LL_FS_MAKE_SYM << 1) - 1;	/* bits 0..12 */
	if (abi >= 2)
		m |= SBX_LL_FS_REFER;
	if (abi >= 3)
		m |= SBX_LL_FS_TRUNCATE;
	if (abi >= 5)
		m |= SBX_LL_FS_IOCTL_DEV;
	return m;
}

uint64_t
sbx_ll_net_at_abi(int abi)
{
	return abi >= 4 ? SBX_LL_NET_ALL : 0;
}

uint64_t
sbx_ll_scope_at_abi(int abi)
{
	return abi >= 6 ? SBX_LL_SCOPE_ALL : 0;
}

int
sbx_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	if (v >= 0)
		return v > SBX_LL_ABI_MAX + 100 ? -ERANGE : (int)v;
	if (errno == ENOSYS || errno == EOPNOTSUPP)
		return 0;
	return -errno;
}

void
sbx_landlock_lockdown(struct sbx_landlock *ll)
{
	memset(ll, 0, sizeof(*ll));
	ll->abi_min = 1;
	ll->best_effort = true;
	ll->handled_fs = SBX_LL_FS_ALL;
	ll->handled_net = SBX_LL_NET_ALL;
	ll->scoped = SBX_LL_SCOPE_ALL;
}

static void __attribute__((format(printf, 3, 4)))
append(struct sbx_ll_report *r, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*used >= sizeof(r->text))
		return;
	va_start(ap, fmt);
	w = vsnprintf(r->text + *used, sizeof(r->text) - *used, fmt, ap);
	va_end(ap);
	if (w > 0)
		*used += (size_t)w;
}

static const char *
status_name(enum sbx_ll_status s)
{
	switch (s) {
	case SBX_LL_NOT_ENFORCED: return "not enforced";
	case SBX_LL_PARTIALLY_ENFORCED: return "partially enforced";
	case SBX_LL_FULLY_ENFORCED: return "fully enforced";
	}
	return "?";
}

static void
report_text(struct sbx_ll_report *r)
{
	size_t used = 0;

	append(r, &used, "landlock ABI %d: %s", r->abi,
	    status_name(r->status));
	if (r->lost_fs)
		append(r, &used, "; dropped fs 0x%llx (needs ABI %d)",
		    (unsigned long long)r->lost_fs,
		    (r->lost_fs & SBX_LL_FS_IOCTL_DEV) ? 5 :
		    (r->lost_fs & SBX_LL_FS_TRUNCATE) ? 3 :
		    (r->lost_fs & SBX_LL_FS_REFER) ? 2 : 1);
	if (r->lost_net)
		append(r, &used, "; dropped net 0x%llx (needs ABI 4)",
		    (unsigned long long)r->lost_net);
	if (r->lost_scoped)
		append(r, &used, "; dropped scope 0x%llx (needs ABI 6)",
		    (unsigned long long)r->lost_scoped);
}

int
sbx_landlock_degrade(const struct sbx_landlock *want, int abi,
    struct sbx_landlock *got, struct sbx_ll_report *r)
{
	uint64_t fs = sbx_ll_fs_at_abi(abi), net = sbx_ll_net_at_abi(abi);
	uint64_t scope = sbx_ll_scope_at_abi(abi);

	memset(r, 0, sizeof(*r));
	r->abi = abi;
	*got = *want;
	if (want->npaths > SBX_LL_MAX_PATHS || want->nports > SBX_LL_MAX_PORTS)
		return -EINVAL;
	if ((want->handled_fs & ~SBX_LL_FS_ALL) ||
	    (want->handled_net & ~SBX_LL_NET_ALL) ||
	    (want->scoped & ~SBX_LL_SCOPE_ALL))
		return -EINVAL;
	for (unsigned int i = 0; i < want->npaths; i++)
		if (!want->paths[i].access ||
		    (want->paths[i].access & ~want->handled_fs) ||
		    want->paths[i].path[0] != '/' ||
		    !memchr(want->paths[i].path, '\0', SBX_LL_PATH_MAX))
			return -EINVAL;
	for (unsigned int i = 0; i < want->nports; i++)
		if (!want->ports[i].access ||
		    (want->ports[i].access & ~want->handled_net))
			return -EINVAL;

	r->lost_fs = want->handled_fs & ~fs;
	r->lost_net = want->handled_net & ~net;
	r->lost_scoped = want->scoped & ~scope;
	got->handled_fs &= fs;
	got->handled_net &= net;
	got->scoped &= scope;
	r->fs = got->handled_fs;
	r->net = got->handled_net;
	r->scoped = got->scoped;
	/* A rule whose every right was dropped is dropped with them. */
	got->npaths = 0;
	for (unsigned int i = 0; i < want->npaths; i++) {
		uint64_t a = want->paths[i].access & fs;

		if (a) {
			got->paths[got->npaths] = want->paths[i];
			got->paths[got->npaths++].access = a;
		}
	}
	got->nports = 0;
	for (unsigned int i = 0; i < want->nports; i++) {
		uint64_t a = want->ports[i].access & net;

		if (a) {
			got->ports[got->nports] = want->ports[i];
			got->ports[got->nports++].access = a;
		}
	}

	if (!r->fs && !r->net && !r->scoped)
		r->status = SBX_LL_NOT_ENFORCED;
	else if (r->lost_fs || r->lost_net || r->lost_scoped)
		r->status = SBX_LL_PARTIALLY_ENFORCED;
	else
		r->status = SBX_LL_FULLY_ENFORCED;
	report_text(r);

	if (abi < want->abi_min) {
		snprintf(r->text, sizeof(r->text),
		    "landlock ABI %d: below the required ABI %d", abi,
		    want->abi_min);
		r->status = SBX_LL_NOT_ENFORCED;
		return -EOPNOTSUPP;
	}
	if (!want->best_effort &&
	    (r->lost_fs || r->lost_net || r->lost_scoped)) {
		r->status = SBX_LL_NOT_ENFORCED;
		return -EOPNOTSUPP;
	}
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static int
add_path_rule(int ruleset, const struct sbx_ll_path *p)
{
	struct ll_path_beneath_attr attr;
	int fd __attribute__((cleanup(close_fd))) = -1;
	struct stat st;

	fd = open(p->path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	memset(&attr, 0, sizeof(attr));
	attr.allowed_access = p->access;
	if (!S_ISDIR(st.st_mode))
		attr.allowed_access &= LL_FS_FILE_RIGHTS;
	if (!attr.allowed_access)
		return 0;	/* only directory rights on a file: nothing */
	attr.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH,
	    &attr, 0) < 0)
		return -errno;
	return 0;
}

static int
add_port_rule(int ruleset, const struct sbx_ll_port *p)
{
	struct ll_net_port_attr attr = {
		.allowed_access = p->access,
		.port = p->port,
	};

	if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT,
	    &attr, 0) < 0)
		return -errno;
	return 0;
}

int
sbx_landlock_apply(const struct sbx_landlock *want, struct sbx_ll_report *r)
{
	struct sbx_landlock got;
	struct ll_ruleset_attr attr;
	size_t size;
	int ruleset __attribute__((cleanup(close_fd))) = -1;
	int abi, err;

	abi = sbx_landlock_abi();
	if (abi < 0) {
		memset(r, 0, sizeof(*r));
		snprintf(r->text, sizeof(r->text), "landlock: probe: %s",
		    strerror(-abi));
		return abi;
	}
	err = sbx_landlock_degrade(want, abi, &got, r);
	if (err)
		return err;
	if (r->status == SBX_LL_NOT_ENFORCED)
		return 0;

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = got.handled_fs;
	attr.handled_access_net = got.handled_net;
	attr.scoped = got.scoped;
	size = abi >= 6 ? sizeof(attr) :
	    abi >= 4 ? offsetof(struct ll_ruleset_attr, scoped) :
	    offsetof(struct ll_ruleset_attr, handled_access_net);
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		goto fail;
	for (unsigned int i = 0; i < got.npaths; i++) {
		err = add_path_rule(ruleset, &got.paths[i]);
		if (err) {
			snprintf(r->text, sizeof(r->text),
			    "landlock: rule for %s: %s", got.paths[i].path,
			    strerror(-err));
			r->status = SBX_LL_NOT_ENFORCED;
			return err;
		}
	}
	for (unsigned int i = 0; i < got.nports; i++) {
		err = add_port_rule(ruleset, &got.ports[i]);
		if (err) {
			snprintf(r->text, sizeof(r->text),
			    "landlock: rule for port %u: %s", got.ports[i].port,
			    strerror(-err));
			r->status = SBX_LL_NOT_ENFORCED;
			return err;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		goto fail;
	return 0;
fail:
	err = -errno;
	snprintf(r->text, sizeof(r->text), "landlock ABI %d: %s", abi,
	    strerror(errno));
	r->status = SBX_LL_NOT_ENFORCED;
	return err;
}
