/*
 * policy/compile.c: a parsed policy to its concrete form — fds expanded,
 * the seccomp program built by libseccomp (never by hand) for the native
 * architecture only and exported into a sealed memfd; also the PFC listing
 * and the OCI runtime-spec JSON. Trusted input (an already-parsed policy).
 */
#include "policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/internal.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int
pol_fd_expand(const struct pol_policy *p, int fdidx, unsigned int range_count,
    int *nums, unsigned int max, unsigned int *n)
{
	const struct pol_fd *fd;

	*n = 0;
	if (fdidx < 0 || (unsigned int)fdidx >= p->nfds)
		return -EINVAL;
	fd = &p->fds[fdidx];
	if (!fd->range) {
		if (max < 1)
			return -ENOSPC;
		nums[(*n)++] = fd->num;
		return 0;
	}
	if (range_count > max || range_count > POL_MAX_RANGE_FDS ||
	    fd->num + (int)range_count > 1024)
		return -ENOSPC;
	for (unsigned int i = 0; i < range_count; i++)
		nums[(*n)++] = fd->num + (int)i;
	return 0;
}

static uint32_t
scmp_action(const struct pol_action *a)
{
	switch (a->kind) {
	case POL_ACT_ALLOW: return SCMP_ACT_ALLOW;
	case POL_ACT_ERRNO: return SCMP_ACT_ERRNO((uint32_t)a->errnum);
	case POL_ACT_KILL_PROCESS: return SCMP_ACT_KILL_PROCESS;
	case POL_ACT_KILL_THREAD: return SCMP_ACT_KILL_THREAD;
	case POL_ACT_TRAP: return SCMP_ACT_TRAP;
	case POL_ACT_LOG: return SCMP_ACT_LOG;
	}
	return SCMP_ACT_KILL_PROCESS;
}

static enum scmp_compare
scmp_op(uint8_t op)
{
	switch ((enum pol_op)op) {
	case POL_OP_EQ: return SCMP_CMP_EQ;
	case POL_OP_NE: return SCMP_CMP_NE;
	case POL_OP_LT: return SCMP_CMP_LT;
	case POL_OP_LE: return SCMP_CMP_LE;
	case POL_OP_GT: return SCMP_CMP_GT;
	case POL_OP_GE: return SCMP_CMP_GE;
	case POL_OP_MASKED_EQ: return SCMP_CMP_MASKED_EQ;
	}
	return _SCMP_CMP_MIN;
}

/*
 * Walk every concrete rule of the policy: each alternative, and for one
 * that compares with a range fd (fd:disk@), one copy per fd of the range.
 * fn gets the comparisons ready for libseccomp.
 */
typedef int rule_fn(const struct pol_rule *r, const struct scmp_arg_cmp *cmp,
    unsigned int ncmp, void *arg);

static int
each_rule(const struct pol_policy *p, const struct pol_compile_opts *o,
    rule_fn *fn, void *arg)
{
	unsigned int range_count = o ? o->range_count : 0;

	for (unsigned int i = 0; i < p->seccomp.nrules; i++) {
		const struct pol_rule *r = &p->seccomp.rules[i];
		int err;

		if (r->nalt == 0) {
			err = fn(r, NULL, 0, arg);
			if (err)
				return err;
			continue;
		}
		for (unsigned int a = 0; a < r->nalt; a++) {
			const struct pol_alt *alt = &r->alt[a];
			struct scmp_arg_cmp cmp[POL_MAX_ARGS];
			int nums[POL_MAX_RANGE_FDS] = { 0 };
			unsigned int nnums = 1, fdpos = POL_MAX_ARGS;

			for (unsigned int k = 0; k < alt->ncmp; k++) {
				const struct pol_cmp *c = &alt->cmp[k];

				cmp[k].arg = c->arg;
				cmp[k].op = scmp_op(c->op);
				if (c->op == POL_OP_MASKED_EQ) {
					cmp[k].datum_a = c->mask;
					cmp[k].datum_b = c->value;
				} else {
					cmp[k].datum_a = c->value;
					cmp[k].datum_b = 0;
				}
				if (c->fd < 0)
					continue;
				if (!p->fds[c->fd].range)
					continue;
				if (fdpos != POL_MAX_ARGS)
					return -EINVAL;	/* two ranges */
				fdpos = k;
				err = pol_fd_expand(p, c->fd, range_count, nums,
				    POL_MAX_RANGE_FDS, &nnums);
				if (err)
					return err;
			}
			for (unsigned int f = 0; f < nnums; f++) {
				if (fdpos != POL_MAX_ARGS)
					cmp[fdpos].datum_a = (uint64_t)nums[f];
				err = fn(r, cmp, alt->ncmp, arg);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

static int
add_rule(const struct pol_rule *r, const struct scmp_arg_cmp *cmp,
    unsigned int ncmp, void *arg)
{
	scmp_filter_ctx ctx = arg;

	return seccomp_rule_add_exact_array(ctx, scmp_action(&r->action), r->nr,
	    ncmp, cmp);
}

static int
build(const struct pol_policy *p, const struct pol_compile_opts *o,
    scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx;
	int err;

	ctx = seccomp_init(scmp_action(&p->seccomp.dflt));
	if (!ctx)
		return -ENOMEM;
	/* i386 (int 0x80) and x32 never reach the kernel's tables. */
	err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS);
	/* the binary tree; libseccomp older than 2.5 lacks it: not fatal */
	if (!err)
		(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (unsigned int i = 0; !err && i < p->seccomp.npriority; i++)
		err = seccomp_syscall_priority(ctx, p->seccomp.priority[i],
		    (uint8_t)(254 - i));
	if (!err)
		err = each_rule(p, o, add_rule, ctx);
	if (err) {
		seccomp_release(ctx);
		return err < 0 ? err : -EINVAL;
	}
	*out = ctx;
	return 0;
}

int
pol_seccomp_memfd(const struct pol_policy *p, const struct pol_compile_opts *o,
    int *fdp, size_t *len)
{
	scmp_filter_ctx ctx;
	struct stat st;
	int fd, err;

	err = build(p, o, &ctx);
	if (err)
		return err;
	fd = memfd_create("mpjail-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		err = -errno;
		seccomp_release(ctx);
		return err;
	}
	err = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (!err && fstat(fd, &st) < 0)
		err = -errno;
	if (!err && (st.st_size <= 0 || st.st_size % 8))
		err = -EIO;
	if (!err && fcntl(fd, F_ADD_SEALS, SEALS) < 0)
		err = -errno;
	if (err) {
		close(fd);
		return err < 0 ? err : -EIO;
	}
	*fdp = fd;
	*len = (size_t)st.st_size;
	return 0;
}

int
pol_seccomp_pfc(const struct pol_policy *p, const struct pol_compile_opts *o,
    int fd)
{
	scmp_filter_ctx ctx;
	int err = build(p, o, &ctx);

	if (err)
		return err;
	err = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return err;
}

int
pol_compile(const struct pol_policy *p, const struct pol_compile_opts *o,
    struct pol_compiled *out)
{
	unsigned int range_count = o ? o->range_count : 0;
	int err;

	memset(out, 0, sizeof(*out));
	out->seccomp_fd = -1;
	out->process = p->process;
	out->ns = p->ns;
	memcpy(out->rlimits, p->rlimits, sizeof(out->rlimits));
	out->landlock = p->landlock;
	for (unsigned int i = 0; i < p->nfds; i++) {
		int nums[POL_MAX_RANGE_FDS];
		unsigned int n;

		err = pol_fd_expand(p, (int)i, range_count, nums,
		    POL_MAX_RANGE_FDS, &n);
		if (err)
			return err;
		for (unsigned int k = 0; k < n; k++) {
			struct pol_fd *f = &out->fds[out->nfds++];

			*f = p->fds[i];
			f->num = nums[k];
			f->range = false;
			if (p->fds[i].range)
				snprintf(f->name, sizeof(f->name), "%s%u",
				    p->fds[i].name, k);
		}
	}
	if (!p->seccomp.present)
		return 0;
	err = pol_seccomp_memfd(p, o, &out->seccomp_fd, &out->seccomp_len);
	if (err) {
		out->seccomp_fd = -1;
		return err;
	}
	out->seccomp_insns = (unsigned int)(out->seccomp_len / 8);
	return 0;
}

void
pol_compiled_release(struct pol_compiled *c)
{
	if (c->seccomp_fd >= 0)
		close(c->seccomp_fd);
	c->seccomp_fd = -1;
}

/* ---- OCI runtime-spec linux.seccomp ---- */

static const char *
oci_action(enum pol_action_kind k)
{
	switch (k) {
	case POL_ACT_ALLOW: return "SCMP_ACT_ALLOW";
	case POL_ACT_ERRNO: return "SCMP_ACT_ERRNO";
	case POL_ACT_KILL_PROCESS: return "SCMP_ACT_KILL_PROCESS";
	case POL_ACT_KILL_THREAD: return "SCMP_ACT_KILL_THREAD";
	case POL_ACT_TRAP: return "SCMP_ACT_TRAP";
	case POL_ACT_LOG: return "SCMP_ACT_LOG";
	}
	return "SCMP_ACT_KILL_PROCESS";
}

static const char *
oci_op(enum scmp_compare op)
{
	switch (op) {
	case SCMP_CMP_NE: return "SCMP_CMP_NE";
	case SCMP_CMP_LT: return "SCMP_CMP_LT";
	case SCMP_CMP_LE: return "SCMP_CMP_LE";
	case SCMP_CMP_EQ: return "SCMP_CMP_EQ";
	case SCMP_CMP_GE: return "SCMP_CMP_GE";
	case SCMP_CMP_GT: return "SCMP_CMP_GT";
	case SCMP_CMP_MASKED_EQ: return "SCMP_CMP_MASKED_EQ";
	case _SCMP_CMP_MIN: case _SCMP_CMP_MAX: break;
	}
	return "?";
}

static const char *
oci_arch(void)
{
	switch (seccomp_arch_native()) {
	case SCMP_ARCH_X86_64: return "SCMP_ARCH_X86_64";
	case SCMP_ARCH_AARCH64: return "SCMP_ARCH_AARCH64";
	case SCMP_ARCH_RISCV64: return "SCMP_ARCH_RISCV64";
	case SCMP_ARCH_PPC64LE: return "SCMP_ARCH_PPC64LE";
	case SCMP_ARCH_S390X: return "SCMP_ARCH_S390X";
	default: return "SCMP_ARCH_NATIVE";
	}
}

struct oci_state {
	FILE *out;
	unsigned int n;
};

static int
oci_rule(const struct pol_rule *r, const struct scmp_arg_cmp *cmp,
    unsigned int ncmp, void *arg)
{
	struct oci_state *st = arg;
	FILE *out = st->out;

	fprintf(out, "%s\n\t\t{ \"names\": [", st->n++ ? "," : "");
	pol_json_string(out, r->name);
	fprintf(out, "], \"action\": \"%s\"", oci_action(r->action.kind));
	if (r->action.kind == POL_ACT_ERRNO)
		fprintf(out, ", \"errnoRet\": %d", r->action.errnum);
	if (ncmp) {
		fputs(", \"args\": [", out);
		for (unsigned int i = 0; i < ncmp; i++) {
			fprintf(out, "%s{ \"index\": %u, \"value\": %" PRIu64,
			    i ? ", " : "", cmp[i].arg, (uint64_t)cmp[i].datum_a);
			if (cmp[i].op == SCMP_CMP_MASKED_EQ)
				fprintf(out, ", \"valueTwo\": %" PRIu64,
				    (uint64_t)cmp[i].datum_b);
			fprintf(out, ", \"op\": \"%s\" }", oci_op(cmp[i].op));
		}
		fputc(']', out);
	}
	fputs(" }", out);
	return 0;
}

int
pol_seccomp_oci(const struct pol_policy *p, const struct pol_compile_opts *o,
    FILE *out)
{
	struct oci_state st = { .out = out, .n = 0 };
	scmp_filter_ctx ctx;
	int err;

	/* the same rules must compile: never export what libseccomp refuses */
	err = build(p, o, &ctx);
	if (err)
		return err;
	seccomp_release(ctx);
	fprintf(out, "{\n\t\"defaultAction\": \"%s\",\n",
	    oci_action(p->seccomp.dflt.kind));
	if (p->seccomp.dflt.kind == POL_ACT_ERRNO)
		fprintf(out, "\t\"defaultErrnoRet\": %d,\n", p->seccomp.dflt.errnum);
	fprintf(out, "\t\"architectures\": [ \"%s\" ],\n", oci_arch());
	fputs("\t\"syscalls\": [", out);
	err = each_rule(p, o, oci_rule, &st);
	fputs("\n\t]\n}\n", out);
	return err;
}
