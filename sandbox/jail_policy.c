/*
 * sandbox/jail_policy.c: a compiled policy (policy/) to a jail description.
 * The one file of sandbox/ that knows policy/'s structs. Trusted: the
 * policy is admin-owned and already compiled.
 */
#include "sandbox/spawn.h"

#include <errno.h>
#include <string.h>

#include "policy/policy.h"

_Static_assert((int)SBX_NS_USER == (int)POL_NS_USER &&
    (int)SBX_NS_CGROUP == (int)POL_NS_CGROUP, "namespace bits");
_Static_assert(SBX_RLIM_COUNT == POL_RLIM_COUNT, "rlimit count");
_Static_assert(SBX_PATH_MAX >= POL_PATH_MAX, "path size");

static int
policy_id(long want, long tenant, unsigned int *out)
{
	long v = (want == POL_ID_TENANT || want == POL_ID_UNSET) ? tenant : want;

	if (v <= 0 || v >= (long)0xffffffffL)
		return -EINVAL;	/* never host root, never -1 */
	*out = (unsigned int)v;
	return 0;
}

int
sbx_jail_from_policy(struct sbx_jail *j, const struct pol_compiled *c,
    uid_t tenant_uid, gid_t tenant_gid, rlim_t *nproc, bool *nproc_set)
{
	static const enum sbx_bind_kind kinds[] = {
		[POL_BIND_RO] = SBX_BIND_RO,
		[POL_BIND_RW] = SBX_BIND_RW,
		[POL_BIND_DEV] = SBX_BIND_DEV,
	};
	unsigned int id;
	int err;

	sbx_jail_init(j);
	err = policy_id(c->process.uid, (long)tenant_uid, &id);
	if (err)
		return err;
	j->uid = id;
	err = policy_id(c->process.gid, (long)tenant_gid, &id);
	if (err)
		return err;
	j->gid = id;
	j->have_id = true;
	j->securebits_locked = c->process.securebits_locked;
	j->no_new_privs = true;	/* never optional: seccomp needs it too */
	j->clearenv = c->process.env_clear;

	*nproc_set = false;
	*nproc = 0;
	for (int r = 0; r < POL_RLIM_COUNT; r++) {
		rlim_t v;

		if (!c->rlimits[r].set)
			continue;
		v = c->rlimits[r].value == POL_RLIM_INFINITY ? RLIM_INFINITY :
		    (rlim_t)c->rlimits[r].value;
		if (r == RLIMIT_NPROC) {
			*nproc_set = true;
			*nproc = v;
			continue;
		}
		j->rlimits[r] = (struct sbx_rlimit){ true, v };
	}

	j->unshare = c->ns.unshare | SBX_NS_USER | SBX_NS_MOUNT;
	j->disable_userns = c->ns.disable_userns;
	j->new_session = c->ns.new_session;
	j->die_with_parent = c->ns.die_with_parent;
	j->proc = c->ns.proc;
	if (!c->ns.root_empty)
		return -EOPNOTSUPP;	/* only an empty root is implemented */
	for (unsigned int i = 0; i < c->ns.nbinds && i < POL_MAX_BINDS; i++) {
		const struct pol_bind *b = &c->ns.binds[i];

		if ((unsigned int)b->kind > POL_BIND_DEV)
			return -EINVAL;
		err = sbx_jail_add_bind(j, kinds[b->kind], b->path, b->path);
		if (err)
			return err;
	}
	return 0;
}
