/*
 * policy/internal.h: helpers shared by the files of policy/ and its unit
 * tests; not part of the contract with broker/ and sandbox/.
 * Trusted code; inputs are names from admin-owned policy files.
 */
#ifndef MPJAIL_POLICY_INTERNAL_H
#define MPJAIL_POLICY_INTERNAL_H

#include <stdint.h>

#include "policy/policy.h"

int pol_ns_lookup(const char *name, unsigned int *bit);
int pol_fd_kind_lookup(const char *name, unsigned int *bit);
int pol_fd_mode_lookup(const char *name, unsigned int *bit);
int pol_ll_fs_lookup(const char *name, uint64_t *bit);
int pol_ll_net_lookup(const char *name, uint64_t *bit);
int pol_ll_scope_lookup(const char *name, uint64_t *bit);
int pol_rlimit_lookup(const char *name, int *resource);

/* Every Landlock fs right, net right and scope known at ABI `abi`. */
uint64_t pol_ll_fs_at_abi(int abi);
uint64_t pol_ll_net_at_abi(int abi);
uint64_t pol_ll_scope_at_abi(int abi);

/* The fd number(s) an fd reference stands for: one, or range_count. */
int pol_fd_expand(const struct pol_policy *p, int fdidx,
    unsigned int range_count, int *nums, unsigned int max, unsigned int *n);

#endif
