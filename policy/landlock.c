/*
 * policy/landlock.c: what each Landlock ABI can enforce, the run-time probe,
 * and the degradation of a policy's ruleset description to the running
 * kernel, with a report. Applying the ruleset is sandbox/'s job. Trusted.
 */
#include "policy/policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy/internal.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#define LL_CREATE_RULESET_VERSION (1U << 0)

uint64_t
pol_ll_fs_at_abi(int abi)
{
	uint64_t m = 0;

	if (abi >= 1)
		m |= (POL_LL_FS_MAKE_SYM << 1) - 1;	/* bits 0..12 */
	if (abi >= 2)
		m |= POL_LL_FS_REFER;
	if (abi >= 3)
		m |= POL_LL_FS_TRUNCATE;
	if (abi >= 5)
		m |= POL_LL_FS_IOCTL_DEV;
	return m;
}

uint64_t
pol_ll_net_at_abi(int abi)
{
	return abi >= 4 ? POL_LL_NET_BIND_TCP | POL_LL_NET_CONNECT_TCP : 0;
}

uint64_t
pol_ll_scope_at_abi(int abi)
{
	return abi >= 6 ? POL_LL_SCOPE_ABSTRACT_UNIX_SOCKET |
	    POL_LL_SCOPE_SIGNAL : 0;
}

int
pol_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);

	if (v >= 0)
		return (int)v;
	if (errno == ENOSYS || errno == EOPNOTSUPP)
		return 0;
	return -errno;
}

/* The lowest ABI that has every bit of `bits` under fn. */
static int
abi_needed(uint64_t (*fn)(int), uint64_t bits)
{
	for (int abi = 1; abi <= POL_LL_ABI_MAX; abi++)
		if ((fn(abi) & bits) == bits)
			return abi;
	return POL_LL_ABI_MAX + 1;
}

static void __attribute__((format(printf, 4, 5)))
append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*used >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (w > 0)
		*used += (size_t)w;
}

int
pol_landlock_degrade(const struct pol_landlock *want, int abi,
    struct pol_landlock *got, char *report, size_t len)
{
	uint64_t fs = pol_ll_fs_at_abi(abi), net = pol_ll_net_at_abi(abi);
	uint64_t scope = pol_ll_scope_at_abi(abi);
	size_t used = 0;
	bool dropped = false;
	char names[256];

	*got = *want;
	if (len)
		report[0] = '\0';
	if (!want->present) {
		snprintf(report, len, "landlock: not in the policy");
		return 0;
	}
	if (abi < want->abi_min) {
		snprintf(report, len, "landlock ABI %d: below abi.min %d", abi,
		    want->abi_min);
		return -EOPNOTSUPP;
	}
	append(report, len, &used, "landlock ABI %d: ", abi);
	if (want->handled_fs & ~fs) {
		uint64_t lost = want->handled_fs & ~fs;

		pol_ll_fs_format(lost, names, sizeof(names));
		append(report, len, &used, "not enforced: fs %s (needs ABI %d)",
		    names,
		    abi_needed(pol_ll_fs_at_abi, lost));
		dropped = true;
	}
	if (want->handled_net & ~net) {
		pol_ll_net_format(want->handled_net & ~net, names, sizeof(names));
		append(report, len, &used, "%snot enforced: net ", dropped ?
		    "; " : "");
		append(report, len, &used, "%s (needs ABI %d)", names,
		    abi_needed(pol_ll_net_at_abi, want->handled_net & ~net));
		dropped = true;
	}
	if (want->scoped & ~scope) {
		pol_ll_scope_format(want->scoped & ~scope, names, sizeof(names));
		append(report, len, &used, "%snot enforced: scope ", dropped ?
		    "; " : "");
		append(report, len, &used, "%s (needs ABI %d)", names,
		    abi_needed(pol_ll_scope_at_abi, want->scoped & ~scope));
		dropped = true;
	}
	got->handled_fs &= fs;
	got->handled_net &= net;
	got->scoped &= scope;
	for (unsigned int i = 0; i < got->npaths; i++)
		got->paths[i].access &= fs;
	/*
	 * Port rules of a kernel without network rights are dropped whole:
	 * with handle.net empty nothing about TCP is restricted anyway.
	 */
	if (!net)
		got->nports = 0;
	if (!dropped)
		append(report, len, &used, "fully enforced");
	else if (!want->best_effort)
		return -EOPNOTSUPP;
	return 0;
}
