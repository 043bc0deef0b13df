/*
 * broker/tenant.h: claiming the host uids and gids a VM's processes run
 * as, so that two VMs never share one. Runs in the broker as root, on the
 * admin's [tenant] range; /proc is read only to name who uses an id.
 *
 * The scheme: one lock file per id in a root-owned run directory
 * (BRK_TENANT_DIR/uid.N, gid.N), held with an exclusive OFD lock for the
 * broker's life: a second broker asking for an id in use fails at once,
 * and the lock goes with the broker however it ends (its children die
 * with it: bubblewrap's --die-with-parent). Under the locks, /proc is
 * scanned: an id that any running process already uses (real, effective,
 * saved or filesystem id) is refused too, so a range that overlaps a
 * system user or a non-mpjail program is caught. Locks first, then the
 * scan: no other broker can start using a locked id after the scan.
 *
 * Contract: returns 0 or a negative errno and never exits; `why` says
 * which id and who holds it. The lock fds are O_CLOEXEC: no child holds
 * one.
 */
#ifndef MPJAIL_BROKER_TENANT_H
#define MPJAIL_BROKER_TENANT_H

#include <stddef.h>
#include <sys/types.h>

#include "broker/vm.h"

#define BRK_TENANT_DIR "/run/mpjail"
#define BRK_TENANT_MAX_IDS (1 + BRK_MAX_REMOTES)

struct brk_tenant {
	int dir_fd;
	unsigned int nfds;
	int fds[2 * BRK_TENANT_MAX_IDS];
};

void brk_tenant_init(struct brk_tenant *t);

/*
 * Claim uids uid0..uid0+n-1 and gids gid0..gid0+n-1 under `dir` (created
 * 0700 if missing; it must be a directory owned by us, writable by no one
 * else). -EBUSY: an id is locked by another broker or used by a running
 * process; -EPERM: the directory is not safe; else an errno.
 */
int brk_tenant_claim(const char *dir, uid_t uid0, gid_t gid0, unsigned int n,
    struct brk_tenant *t, char *why, size_t len);

/* Release every lock (idempotent). */
void brk_tenant_release(struct brk_tenant *t);

#endif /* MPJAIL_BROKER_TENANT_H */
