/*
 * policy/render.c: a parsed policy as canonical text lines (for explain and
 * diff) and JSON string escaping. Trusted input; output is for people and
 * for JSON parsers, so every string is bounded and escaped.
 */
#include "policy/policy.h"

#include <inttypes.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void
pol_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\t': fputs("\\t", out); break;
		case '\r': fputs("\\r", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

struct sbuf {
	char *buf;
	size_t len, used;
};

static void __attribute__((format(printf, 2, 3)))
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (b->used >= b->len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(b->buf + b->used, b->len - b->used, fmt, ap);
	va_end(ap);
	if (w > 0)
		b->used += (size_t)w;
	if (b->used >= b->len)
		b->used = b->len - 1;
}

static const char *const opnames[] = {
	[POL_OP_EQ] = "==", [POL_OP_NE] = "!=", [POL_OP_LT] = "<",
	[POL_OP_LE] = "<=", [POL_OP_GT] = ">", [POL_OP_GE] = ">=",
	[POL_OP_MASKED_EQ] = "&",
};

void
pol_alt_format(const struct pol_policy *p, const struct pol_alt *a, char *buf,
    size_t len)
{
	struct sbuf b = { buf, len, 0 };

	if (len == 0)
		return;
	buf[0] = '\0';
	if (a->ncmp == 0)
		sb_add(&b, "1");
	for (unsigned int i = 0; i < a->ncmp; i++) {
		const struct pol_cmp *c = &a->cmp[i];

		if (i)
			sb_add(&b, " && ");
		if (c->fd >= 0 && (unsigned int)c->fd < p->nfds)
			sb_add(&b, "arg%u == fd:%s", c->arg, p->fds[c->fd].name);
		else if (c->op != POL_OP_MASKED_EQ && c->value < 1024)
			sb_add(&b, "arg%u %s %" PRIu64, c->arg,
			    c->op < sizeof(opnames) / sizeof(opnames[0]) ?
			    opnames[c->op] : "?", c->value);
		else if (c->op != POL_OP_MASKED_EQ)
			sb_add(&b, "arg%u %s 0x%" PRIx64, c->arg,
			    c->op < sizeof(opnames) / sizeof(opnames[0]) ?
			    opnames[c->op] : "?", c->value);
		else if (c->value == c->mask)
			sb_add(&b, "arg%u & 0x%" PRIx64, c->arg, c->mask);
		else if (c->value == 0)
			sb_add(&b, "arg%u in 0x%" PRIx64, c->arg, ~c->mask);
		else
			sb_add(&b, "(arg%u & 0x%" PRIx64 ") == 0x%" PRIx64, c->arg,
			    c->mask, c->value);
	}
}

static void __attribute__((format(printf, 3, 4)))
emit(pol_line_fn *fn, void *arg, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fn(line, arg);
}

static const char *
yesno(bool b)
{
	return b ? "yes" : "no";
}

static void
id_format(long id, char *buf, size_t len)
{
	if (id == POL_ID_TENANT)
		snprintf(buf, len, "@tenant");
	else if (id == POL_ID_UNSET)
		snprintf(buf, len, "unset");
	else
		snprintf(buf, len, "%ld", id);
}

int
pol_canonical(const struct pol_policy *p, pol_line_fn *fn, void *arg)
{
	char s1[512], s2[64];

	if (p->process.present) {
		const struct pol_process *pr = &p->process;

		emit(fn, arg, "process no_new_privs = %s", yesno(pr->no_new_privs));
		emit(fn, arg, "process capabilities = %s",
		    pr->caps_none ? "none" : "unchanged");
		emit(fn, arg, "process securebits = %s",
		    pr->securebits_locked ? "locked" : "none");
		emit(fn, arg, "process dumpable = %s", yesno(pr->dumpable));
		id_format(pr->uid, s2, sizeof(s2));
		emit(fn, arg, "process uid = %s", s2);
		id_format(pr->gid, s2, sizeof(s2));
		emit(fn, arg, "process gid = %s", s2);
		emit(fn, arg, "process groups = %s",
		    pr->groups_none ? "none" : "unchanged");
		emit(fn, arg, "process env = %s", pr->env_clear ? "clear" : "keep");
	}
	if (p->ns.present) {
		const struct pol_namespaces *ns = &p->ns;
		struct sbuf b = { s1, sizeof(s1), 0 };

		s1[0] = '\0';
		for (unsigned int bit = 1; bit <= POL_NS_CGROUP; bit <<= 1)
			if (ns->unshare & bit)
				sb_add(&b, "%s%s", b.used ? " " : "",
				    pol_ns_name((enum pol_ns)bit));
		emit(fn, arg, "namespaces unshare = %s", b.used ? s1 : "none");
		emit(fn, arg, "namespaces root = %s",
		    ns->root_empty ? "empty" : "host-ro");
		emit(fn, arg, "namespaces proc = %s", yesno(ns->proc));
		emit(fn, arg, "namespaces disable_userns = %s",
		    yesno(ns->disable_userns));
		emit(fn, arg, "namespaces new_session = %s", yesno(ns->new_session));
		emit(fn, arg, "namespaces die_with_parent = %s",
		    yesno(ns->die_with_parent));
		for (unsigned int i = 0; i < ns->nbinds; i++)
			emit(fn, arg, "namespaces %s = %s",
			    ns->binds[i].kind == POL_BIND_RO ? "bind_ro" :
			    ns->binds[i].kind == POL_BIND_RW ? "bind_rw" :
			    "bind_dev", ns->binds[i].path);
	}
	for (int r = 0; r < POL_RLIM_COUNT; r++) {
		if (!p->rlimits[r].set)
			continue;
		if (p->rlimits[r].value == POL_RLIM_INFINITY)
			emit(fn, arg, "rlimits %s = unlimited", pol_rlimit_name(r));
		else
			emit(fn, arg, "rlimits %s = %" PRIu64, pol_rlimit_name(r),
			    p->rlimits[r].value);
	}
	for (unsigned int i = 0; i < p->nfds; i++) {
		const struct pol_fd *f = &p->fds[i];
		char k[128], m[32];

		pol_fd_kinds_format(f->kinds, k, sizeof(k));
		pol_fd_modes_format(f->modes, m, sizeof(m));
		emit(fn, arg, "fds %d%s = %s %s %s", f->num, f->range ? ".." : "",
		    f->name, k, m);
	}
	if (p->landlock.present) {
		const struct pol_landlock *ll = &p->landlock;

		emit(fn, arg, "landlock abi.min = %d", ll->abi_min);
		emit(fn, arg, "landlock compat = %s",
		    ll->best_effort ? "best-effort" : "hard");
		pol_ll_fs_format(ll->handled_fs, s1, sizeof(s1));
		emit(fn, arg, "landlock handle.fs = %s", s1);
		pol_ll_net_format(ll->handled_net, s1, sizeof(s1));
		emit(fn, arg, "landlock handle.net = %s", s1);
		pol_ll_scope_format(ll->scoped, s1, sizeof(s1));
		emit(fn, arg, "landlock scope = %s", s1);
		for (unsigned int i = 0; i < ll->npaths; i++) {
			pol_ll_fs_format(ll->paths[i].access, s1, sizeof(s1));
			emit(fn, arg, "landlock fs:%s = %s", ll->paths[i].path,
			    s1);
		}
		for (unsigned int i = 0; i < ll->nports; i++)
			emit(fn, arg, "landlock %s = %u",
			    ll->ports[i].access == POL_LL_NET_BIND_TCP ?
			    "bind_tcp" : "connect_tcp", ll->ports[i].port);
	}
	if (p->seccomp.present) {
		const struct pol_seccomp *sc = &p->seccomp;

		pol_action_format(&sc->dflt, s2, sizeof(s2));
		emit(fn, arg, "seccomp @default %s", s2);
		for (unsigned int i = 0; i < sc->npriority; i++) {
			char *n = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, sc->priority[i]);

			emit(fn, arg, "seccomp @priority %u %s", i,
			    n ? n : "?");
			free(n);
		}
		for (unsigned int i = 0; i < sc->nrules; i++) {
			const struct pol_rule *r = &sc->rules[i];

			pol_action_format(&r->action, s2, sizeof(s2));
			if (r->nalt == 0) {
				emit(fn, arg, "seccomp %s: %s", r->name, s2);
				continue;
			}
			for (unsigned int a = 0; a < r->nalt; a++) {
				pol_alt_format(p, &r->alt[a], s1, sizeof(s1));
				emit(fn, arg, "seccomp %s: %s", r->name, s1);
			}
		}
	}
	return 0;
}
