/*
 * policy/parse.c: the policy language parser. Reads admin-owned files, but
 * is written as if they were hostile: bounded lines and files, an explicit
 * include stack (no recursion), every error kept with file:line:column,
 * parsing continues after an error so that all of them are reported.
 */
#include "policy/policy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/internal.h"

enum section {
	SEC_NONE,
	SEC_BAD,		/* an unknown section: its lines are skipped */
	SEC_PROCESS,
	SEC_NAMESPACES,
	SEC_RLIMITS,
	SEC_FDS,
	SEC_LANDLOCK,
	SEC_SECCOMP,
	SEC_COUNT,
};

static const char *const section_names[SEC_COUNT] = {
	[SEC_PROCESS] = "process", [SEC_NAMESPACES] = "namespaces",
	[SEC_RLIMITS] = "rlimits", [SEC_FDS] = "fds",
	[SEC_LANDLOCK] = "landlock", [SEC_SECCOMP] = "seccomp",
};

struct frame {
	char *buf;
	size_t len, pos;
	unsigned int line;
	unsigned int file;	/* index into parser.files */
	char dir[POL_PATH_MAX];
	bool has_id;
	dev_t dev;
	ino_t ino;
	bool header;
	enum section section;
};

#define MAX_FDREFS 256
#define MAX_RAW_CMPS 12
#define MAX_KEYS 64		/* distinct non-repeatable keys seen */

struct fdref {
	unsigned int rule, alt, cmp;
	unsigned int file, line, col;
	char name[POL_NAME_MAX];
};

struct parser {
	struct pol_policy *p;
	struct pol_diags *d;
	struct frame stack[POL_MAX_INCLUDE_DEPTH];
	unsigned int depth;
	char files[POL_MAX_FILES][POL_PATH_MAX];
	unsigned int nfiles;
	unsigned int rules_cap;
	struct fdref refs[MAX_FDREFS];
	unsigned int nrefs;
	unsigned int rule_file[POL_MAX_RULES];
	char keys[MAX_KEYS][48];	/* "section.key" already set */
	unsigned int nkeys;
	bool seen_default, seen_arch;
	int err;		/* first hard (non-syntax) error */
};

/* ---- diagnostics ---- */

static void __attribute__((format(printf, 5, 6)))
diag_at(struct parser *ps, const char *file, unsigned int line,
    unsigned int col, const char *fmt, ...)
{
	struct pol_diag *g;
	va_list ap;

	if (ps->d->n >= POL_MAX_DIAGS) {
		ps->d->dropped++;
		return;
	}
	g = &ps->d->d[ps->d->n++];
	snprintf(g->file, sizeof(g->file), "%s", file);
	g->line = line;
	g->col = col;
	va_start(ap, fmt);
	vsnprintf(g->msg, sizeof(g->msg), fmt, ap);
	va_end(ap);
}

#define perr(ps, col, ...) \
	diag_at((ps), (ps)->files[(ps)->stack[(ps)->depth - 1].file], \
	    (ps)->stack[(ps)->depth - 1].line, (unsigned int)(col), __VA_ARGS__)

void
pol_diags_print(const struct pol_diags *d, FILE *out)
{
	for (unsigned int i = 0; i < d->n; i++) {
		const struct pol_diag *g = &d->d[i];

		if (g->line)
			fprintf(out, "%s:%u:%u: %s\n", g->file, g->line, g->col,
			    g->msg);
		else
			fprintf(out, "%s: %s\n", g->file, g->msg);
	}
	if (d->dropped)
		fprintf(out, "... and %u more errors\n", d->dropped);
}

/* ---- a cursor over one line ---- */

struct cur {
	const char *s;		/* the line, comment removed, NUL-terminated */
	size_t i;
};

static void
skip_ws(struct cur *c)
{
	while (c->s[c->i] == ' ' || c->s[c->i] == '\t')
		c->i++;
}

static unsigned int
col(const struct cur *c)
{
	return (unsigned int)c->i + 1;
}

static bool
at_end(struct cur *c)
{
	skip_ws(c);
	return c->s[c->i] == '\0';
}

static bool
accept(struct cur *c, const char *tok)
{
	size_t n = strlen(tok);

	skip_ws(c);
	if (strncmp(c->s + c->i, tok, n) != 0)
		return false;
	c->i += n;
	return true;
}

static bool
is_word_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '-' ||
	    ch == '.' || ch == '@' || ch == '/' || ch == ':';
}

/*
 * A word: letters, digits and _-.@/: — into buf. 0, or -ENOENT when there
 * is none, -ENAMETOOLONG when it does not fit (the cursor then skips it).
 */
static int
word(struct cur *c, char *buf, size_t len)
{
	size_t start, n;

	skip_ws(c);
	start = c->i;
	while (is_word_char(c->s[c->i]))
		c->i++;
	n = c->i - start;
	if (n == 0)
		return -ENOENT;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, c->s + start, n);
	buf[n] = '\0';
	return 0;
}

/* Like word(), but stops at the characters of an expression. */
static int
ident(struct cur *c, char *buf, size_t len)
{
	size_t start, n;

	skip_ws(c);
	start = c->i;
	while (isalnum((unsigned char)c->s[c->i]) || c->s[c->i] == '_' ||
	    c->s[c->i] == '@' || (c->s[c->i] == ':' && c->i - start == 2 &&
	    strncmp(c->s + start, "fd", 2) == 0))
		c->i++;
	n = c->i - start;
	if (n == 0)
		return -ENOENT;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, c->s + start, n);
	buf[n] = '\0';
	return 0;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*v = x;
	return 0;
}

/* ---- files and includes ---- */

static int
add_file_name(struct parser *ps, const char *name, unsigned int *idx)
{
	if (ps->nfiles >= POL_MAX_FILES)
		return -E2BIG;
	snprintf(ps->files[ps->nfiles], POL_PATH_MAX, "%s", name);
	*idx = ps->nfiles++;
	return 0;
}

static void
dir_of(const char *path, const char *fallback, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, "%s", fallback);
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/*
 * Read a whole regular file, at most POL_MAX_FILE_SIZE bytes. The error
 * message, if any, goes to why.
 */
static int
read_file(const char *path, char **buf, size_t *len, struct stat *st,
    const char **why)
{
	int fd, err = 0;
	size_t got = 0;
	char *b;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*why = strerror(errno);
		return -errno;
	}
	if (fstat(fd, st) < 0) {
		err = -errno;
		*why = strerror(errno);
		close(fd);
		return err;
	}
	if (!S_ISREG(st->st_mode)) {
		*why = "not a regular file";
		close(fd);
		return -EINVAL;
	}
	if (st->st_size > POL_MAX_FILE_SIZE) {
		*why = "larger than 1 MiB";
		close(fd);
		return -EFBIG;
	}
	b = malloc((size_t)st->st_size + 1);
	if (!b) {
		*why = "out of memory";
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st->st_size) {
		ssize_t r = read(fd, b + got, (size_t)st->st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			*why = r < 0 ? strerror(errno) : "file shrank";
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	if (err) {
		free(b);
		return err;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}

static int
push_frame(struct parser *ps, char *buf, size_t len, const char *name,
    const char *dir, const struct stat *st)
{
	struct frame *f;
	unsigned int idx;

	if (add_file_name(ps, name, &idx) < 0)
		return -E2BIG;
	f = &ps->stack[ps->depth++];
	memset(f, 0, sizeof(*f));
	f->buf = buf;
	f->len = len;
	f->file = idx;
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	if (st) {
		f->has_id = true;
		f->dev = st->st_dev;
		f->ino = st->st_ino;
	}
	f->section = SEC_NONE;
	return 0;
}

static void
do_include(struct parser *ps, struct cur *c)
{
	struct frame *top = &ps->stack[ps->depth - 1];
	char arg[POL_PATH_MAX], path[POL_PATH_MAX];
	unsigned int at;
	const char *why = NULL;
	struct stat st = { 0 };
	char *buf;
	size_t len;
	int n;

	skip_ws(c);
	at = col(c);
	if (word(c, arg, sizeof(arg)) < 0 || !at_end(c)) {
		perr(ps, at, "@include takes one path");
		return;
	}
	if (arg[0] == '/')
		n = snprintf(path, sizeof(path), "%s", arg);
	else
		n = snprintf(path, sizeof(path), "%s/%s", top->dir, arg);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		perr(ps, at, "@include path too long");
		return;
	}
	if (ps->depth >= POL_MAX_INCLUDE_DEPTH) {
		perr(ps, at, "@include nested deeper than %d",
		    POL_MAX_INCLUDE_DEPTH);
		return;
	}
	if (ps->nfiles >= POL_MAX_FILES) {
		perr(ps, at, "more than %d files included", POL_MAX_FILES);
		return;
	}
	if (read_file(path, &buf, &len, &st, &why) < 0) {
		perr(ps, at, "@include %s: %s", arg, why);
		return;
	}
	for (unsigned int i = 0; i < ps->depth; i++) {
		if (ps->stack[i].has_id && ps->stack[i].dev == st.st_dev &&
		    ps->stack[i].ino == st.st_ino) {
			perr(ps, at, "@include %s: include cycle (%s includes "
			    "itself)", arg, ps->files[ps->stack[i].file]);
			free(buf);
			return;
		}
	}
	{
		char dir[POL_PATH_MAX];

		dir_of(path, ".", dir, sizeof(dir));
		if (push_frame(ps, buf, len, path, dir, &st) < 0) {
			perr(ps, at, "too many files");
			free(buf);
		}
	}
}

/* ---- keys that may be set once ---- */

static bool
key_once(struct parser *ps, struct cur *c, enum section s, const char *key)
{
	char k[48];

	snprintf(k, sizeof(k), "%s.%s", section_names[s], key);
	for (unsigned int i = 0; i < ps->nkeys; i++) {
		if (strcmp(ps->keys[i], k) == 0) {
			perr(ps, col(c), "%s: set twice", key);
			return false;
		}
	}
	if (ps->nkeys < MAX_KEYS)
		snprintf(ps->keys[ps->nkeys++], sizeof(ps->keys[0]), "%s", k);
	return true;
}

/* ---- value helpers ---- */

static int
value_bool(struct parser *ps, struct cur *c, const char *key, bool *out)
{
	char w[16];
	unsigned int at;

	skip_ws(c);
	at = col(c);
	if (word(c, w, sizeof(w)) < 0 || !at_end(c)) {
		perr(ps, at, "%s: expected yes or no", key);
		return -EINVAL;
	}
	if (strcmp(w, "yes") == 0 || strcmp(w, "true") == 0)
		*out = true;
	else if (strcmp(w, "no") == 0 || strcmp(w, "false") == 0)
		*out = false;
	else {
		perr(ps, at, "%s: expected yes or no, not '%s'", key, w);
		return -EINVAL;
	}
	return 0;
}

/* One of the words in `choices` (NULL-terminated); its index. */
static int
value_choice(struct parser *ps, struct cur *c, const char *key,
    const char *const *choices, int *out)
{
	char w[32];
	unsigned int at;

	skip_ws(c);
	at = col(c);
	if (word(c, w, sizeof(w)) == 0 && at_end(c)) {
		for (int i = 0; choices[i]; i++) {
			if (strcmp(w, choices[i]) == 0) {
				*out = i;
				return 0;
			}
		}
	}
	{
		char list[128] = "";
		size_t u = 0;

		for (int i = 0; choices[i] && u < sizeof(list); i++) {
			int w2 = snprintf(list + u, sizeof(list) - u, "%s%s",
			    i ? ", " : "", choices[i]);

			if (w2 < 0)
				break;
			u += (size_t)w2;
		}
		perr(ps, at, "%s: expected one of: %s", key, list);
	}
	return -EINVAL;
}

/*
 * A list of names separated by spaces and/or commas; each is passed to
 * fn, which reports its own error. "none" alone is the empty list.
 */
typedef int name_fn(struct parser *ps, const char *name, unsigned int at,
    void *arg);

static int
value_list(struct parser *ps, struct cur *c, const char *key, name_fn *fn,
    void *arg)
{
	char w[64];
	int err = 0, n = 0;

	for (;;) {
		unsigned int at;
		int r;

		skip_ws(c);
		if (c->s[c->i] == ',' && n > 0) {
			c->i++;
			skip_ws(c);
		}
		if (c->s[c->i] == '\0')
			break;
		at = col(c);
		r = word(c, w, sizeof(w));
		if (r < 0) {
			perr(ps, at, "%s: unexpected '%c'", key, c->s[c->i]);
			return -EINVAL;
		}
		if (strcmp(w, "none") == 0) {
			if (n > 0 || !at_end(c)) {
				perr(ps, at, "%s: 'none' must stand alone", key);
				return -EINVAL;
			}
			return 0;
		}
		if (fn(ps, w, at, arg) < 0)
			err = -EINVAL;
		n++;
	}
	if (n == 0) {
		perr(ps, col(c), "%s: empty list (write 'none')", key);
		return -EINVAL;
	}
	return err;
}

/* ---- [process] ---- */

static int
value_id(struct parser *ps, struct cur *c, const char *key, long *out)
{
	char w[32];
	uint64_t v;
	unsigned int at;

	skip_ws(c);
	at = col(c);
	if (word(c, w, sizeof(w)) < 0 || !at_end(c))
		goto bad;
	if (strcmp(w, "@tenant") == 0) {
		*out = POL_ID_TENANT;
		return 0;
	}
	if (parse_u64(w, &v) == 0 && v < 0xffffffffULL) {
		*out = (long)v;
		return 0;
	}
bad:
	perr(ps, at, "%s: expected @tenant or a number", key);
	return -EINVAL;
}

static void
line_process(struct parser *ps, struct cur *c, const char *key)
{
	struct pol_process *pr = &ps->p->process;
	int i;

	if (!key_once(ps, c, SEC_PROCESS, key))
		return;
	if (strcmp(key, "no_new_privs") == 0) {
		(void)value_bool(ps, c, key, &pr->no_new_privs);
		if (!pr->no_new_privs)
			perr(ps, col(c), "no_new_privs: must be yes");
	} else if (strcmp(key, "capabilities") == 0) {
		static const char *const ch[] = { "none", NULL };

		if (value_choice(ps, c, key, ch, &i) == 0)
			pr->caps_none = true;
	} else if (strcmp(key, "securebits") == 0) {
		static const char *const ch[] = { "locked", "none", NULL };

		if (value_choice(ps, c, key, ch, &i) == 0)
			pr->securebits_locked = i == 0;
	} else if (strcmp(key, "dumpable") == 0) {
		(void)value_bool(ps, c, key, &pr->dumpable);
	} else if (strcmp(key, "uid") == 0) {
		(void)value_id(ps, c, key, &pr->uid);
	} else if (strcmp(key, "gid") == 0) {
		(void)value_id(ps, c, key, &pr->gid);
	} else if (strcmp(key, "groups") == 0) {
		static const char *const ch[] = { "none", NULL };

		if (value_choice(ps, c, key, ch, &i) == 0)
			pr->groups_none = true;
	} else if (strcmp(key, "env") == 0) {
		static const char *const ch[] = { "clear", "keep", NULL };

		if (value_choice(ps, c, key, ch, &i) == 0)
			pr->env_clear = i == 0;
	} else {
		perr(ps, 1, "[process]: unknown key '%s'", key);
	}
}

/* ---- [namespaces] ---- */

static int
ns_name(struct parser *ps, const char *name, unsigned int at, void *arg)
{
	unsigned int *bits = arg, b;

	if (pol_ns_lookup(name, &b) < 0) {
		diag_at(ps, ps->files[ps->stack[ps->depth - 1].file],
		    ps->stack[ps->depth - 1].line, at,
		    "unshare: unknown namespace '%s'", name);
		return -EINVAL;
	}
	*bits |= b;
	return 0;
}

static int
value_abs_path(struct parser *ps, struct cur *c, const char *key, char *out)
{
	unsigned int at;
	char w[POL_PATH_MAX];

	skip_ws(c);
	at = col(c);
	if (word(c, w, sizeof(w)) < 0 || !at_end(c) || w[0] != '/' ||
	    strstr(w, "/../") || strcmp(w + strlen(w) - (strlen(w) >= 3 ? 3 : 0),
	    "/..") == 0) {
		perr(ps, at, "%s: expected an absolute path without '..'", key);
		return -EINVAL;
	}
	snprintf(out, POL_PATH_MAX, "%s", w);
	return 0;
}

static void
line_namespaces(struct parser *ps, struct cur *c, const char *key)
{
	struct pol_namespaces *ns = &ps->p->ns;
	int i;

	if (strcmp(key, "bind_ro") == 0 || strcmp(key, "bind_rw") == 0 ||
	    strcmp(key, "bind_dev") == 0) {
		struct pol_bind *b;

		if (ns->nbinds >= POL_MAX_BINDS) {
			perr(ps, 1, "more than %d binds", POL_MAX_BINDS);
			return;
		}
		b = &ns->binds[ns->nbinds];
		b->kind = key[5] == 'r' && key[6] == 'o' ? POL_BIND_RO :
		    key[5] == 'r' ? POL_BIND_RW : POL_BIND_DEV;
		if (value_abs_path(ps, c, key, b->path) == 0)
			ns->nbinds++;
		return;
	}
	if (!key_once(ps, c, SEC_NAMESPACES, key))
		return;
	if (strcmp(key, "unshare") == 0) {
		(void)value_list(ps, c, key, ns_name, &ns->unshare);
	} else if (strcmp(key, "root") == 0) {
		static const char *const ch[] = { "empty", "host-ro", NULL };

		if (value_choice(ps, c, key, ch, &i) == 0)
			ns->root_empty = i == 0;
	} else if (strcmp(key, "proc") == 0) {
		(void)value_bool(ps, c, key, &ns->proc);
	} else if (strcmp(key, "disable_userns") == 0) {
		(void)value_bool(ps, c, key, &ns->disable_userns);
	} else if (strcmp(key, "new_session") == 0) {
		(void)value_bool(ps, c, key, &ns->new_session);
	} else if (strcmp(key, "die_with_parent") == 0) {
		(void)value_bool(ps, c, key, &ns->die_with_parent);
	} else {
		perr(ps, 1, "[namespaces]: unknown key '%s'", key);
	}
}

/* ---- [rlimits] ---- */

static void
line_rlimits(struct parser *ps, struct cur *c, const char *key)
{
	char w[32];
	int res;
	uint64_t v;
	unsigned int at;

	if (pol_rlimit_lookup(key, &res) < 0) {
		perr(ps, 1, "[rlimits]: unknown limit '%s'", key);
		return;
	}
	if (!key_once(ps, c, SEC_RLIMITS, key))
		return;
	skip_ws(c);
	at = col(c);
	if (word(c, w, sizeof(w)) < 0 || !at_end(c)) {
		perr(ps, at, "%s: expected a number or unlimited", key);
		return;
	}
	if (strcmp(w, "unlimited") == 0) {
		v = POL_RLIM_INFINITY;
	} else if (parse_u64(w, &v) < 0 || v == POL_RLIM_INFINITY) {
		perr(ps, at, "%s: expected a number or unlimited, not '%s'", key,
		    w);
		return;
	}
	ps->p->rlimits[res].set = true;
	ps->p->rlimits[res].value = v;
}

/* ---- [fds] ---- */

static bool
valid_fd_name(const char *n, bool range)
{
	size_t len = strlen(n);

	if (len == 0 || len >= POL_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = n[i];

		if (ch == '@' && i == len - 1)
			return range && i > 0;
		if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) ||
		    ch == '_' || ch == '-'))
			return false;
	}
	return !range;
}

/* `a|b|c` of names, looked up by fn. */
static int
value_bar_list(struct parser *ps, struct cur *c, const char *what,
    int (*fn)(const char *, unsigned int *), unsigned int *bits)
{
	char w[32];

	*bits = 0;
	do {
		unsigned int at, b;

		skip_ws(c);
		at = col(c);
		if (ident(c, w, sizeof(w)) < 0) {
			/* kinds have dashes: take them too */
			if (word(c, w, sizeof(w)) < 0) {
				perr(ps, at, "expected %s", what);
				return -EINVAL;
			}
		} else {
			while (c->s[c->i] == '-' &&
			    isalpha((unsigned char)c->s[c->i + 1])) {
				char rest[32];
				size_t u = strlen(w);

				c->i++;
				if (ident(c, rest, sizeof(rest)) < 0 ||
				    u + 1 + strlen(rest) >= sizeof(w)) {
					perr(ps, at, "bad %s", what);
					return -EINVAL;
				}
				w[u] = '-';
				memcpy(w + u + 1, rest, strlen(rest) + 1);
			}
		}
		if (fn(w, &b) < 0) {
			perr(ps, at, "unknown %s '%s'", what, w);
			return -EINVAL;
		}
		*bits |= b;
		skip_ws(c);
	} while (c->s[c->i] == '|' && ++c->i);
	return 0;
}

/* `received = name kind mode`: a kind of fd acquired at run time. */
static void
line_fds_received(struct parser *ps, struct cur *c, unsigned int kcol)
{
	struct pol_policy *p = ps->p;
	struct pol_fd fd = { .num = -1 };
	char name[POL_NAME_MAX];
	unsigned int at;

	skip_ws(c);
	at = col(c);
	if (word(c, name, sizeof(name)) < 0 || !valid_fd_name(name, false)) {
		perr(ps, at, "received: expected a name (a-z, 0-9, _ and -)");
		return;
	}
	snprintf(fd.name, sizeof(fd.name), "%s", name);
	if (value_bar_list(ps, c, "fd kind", pol_fd_kind_lookup, &fd.kinds) < 0)
		return;
	if (value_bar_list(ps, c, "fd mode", pol_fd_mode_lookup, &fd.modes) < 0)
		return;
	if (!at_end(c)) {
		perr(ps, col(c), "received %s: trailing text", fd.name);
		return;
	}
	for (unsigned int i = 0; i < p->nfds; i++)
		if (strcmp(p->fds[i].name, fd.name) == 0) {
			perr(ps, at, "fd name '%s': used twice", fd.name);
			return;
		}
	for (unsigned int i = 0; i < p->nreceived; i++)
		if (strcmp(p->received[i].name, fd.name) == 0) {
			perr(ps, at, "fd name '%s': used twice", fd.name);
			return;
		}
	if (p->nreceived >= POL_MAX_RECEIVED) {
		perr(ps, kcol, "more than %d 'received' lines",
		    POL_MAX_RECEIVED);
		return;
	}
	p->received[p->nreceived++] = fd;
}

static void
line_fds(struct parser *ps, struct cur *c, const char *key, unsigned int kcol)
{
	struct pol_policy *p = ps->p;
	struct pol_fd fd = { 0 };
	char num[16], name[POL_NAME_MAX];
	uint64_t v;
	size_t klen = strlen(key);
	unsigned int at;

	if (strcmp(key, "received") == 0) {
		line_fds_received(ps, c, kcol);
		return;
	}
	if (klen > 2 && strcmp(key + klen - 2, "..") == 0) {
		fd.range = true;
		klen -= 2;
	}
	if (klen == 0 || klen >= sizeof(num)) {
		perr(ps, kcol, "[fds]: expected an fd number, not '%s'", key);
		return;
	}
	memcpy(num, key, klen);
	num[klen] = '\0';
	if (!isdigit((unsigned char)num[0]) || parse_u64(num, &v) < 0 ||
	    v > 1023) {
		perr(ps, kcol, "[fds]: expected an fd number 0..1023, not '%s'",
		    key);
		return;
	}
	fd.num = (int)v;
	skip_ws(c);
	at = col(c);
	if (word(c, name, sizeof(name)) < 0 || !valid_fd_name(name, fd.range)) {
		perr(ps, at, fd.range ? "fd %d..: expected a name ending in '@'"
		    : "fd %d: expected a name (a-z, 0-9, _ and -)", fd.num);
		return;
	}
	snprintf(fd.name, sizeof(fd.name), "%s", name);
	if (value_bar_list(ps, c, "fd kind", pol_fd_kind_lookup, &fd.kinds) < 0)
		return;
	if (value_bar_list(ps, c, "fd mode", pol_fd_mode_lookup, &fd.modes) < 0)
		return;
	if (!at_end(c)) {
		perr(ps, col(c), "fd %d: trailing text", fd.num);
		return;
	}
	for (unsigned int i = 0; i < p->nfds; i++) {
		if (p->fds[i].num == fd.num) {
			perr(ps, kcol, "fd %d: listed twice", fd.num);
			return;
		}
		if (strcmp(p->fds[i].name, fd.name) == 0) {
			perr(ps, at, "fd name '%s': used twice", fd.name);
			return;
		}
	}
	for (unsigned int i = 0; i < p->nreceived; i++)
		if (strcmp(p->received[i].name, fd.name) == 0) {
			perr(ps, at, "fd name '%s': used twice", fd.name);
			return;
		}
	if (p->nfds >= POL_MAX_FDS) {
		perr(ps, kcol, "more than %d fds", POL_MAX_FDS);
		return;
	}
	p->fds[p->nfds++] = fd;
}

/* ---- [landlock] ---- */

/* The three kinds of Landlock name a list may hold, as one table. */
struct ll_family {
	const char *what;
	int (*lookup)(const char *name, uint64_t *bit);
	uint64_t (*at_abi)(int abi);
};

static const struct ll_family ll_fs = {
	"Landlock fs right", pol_ll_fs_lookup, pol_ll_fs_at_abi
};
static const struct ll_family ll_net = {
	"Landlock net right", pol_ll_net_lookup, pol_ll_net_at_abi
};
static const struct ll_family ll_scope = {
	"Landlock scope", pol_ll_scope_lookup, pol_ll_scope_at_abi
};

/* What value_list fills: which family's names, into which bits. */
struct ll_target {
	const struct ll_family *family;
	uint64_t *bits;
};

static int
ll_name(struct parser *ps, const char *name, unsigned int at, void *arg)
{
	const struct ll_target *t = arg;
	uint64_t b;

	if (strcmp(name, "abi.all") == 0) {
		*t->bits |= t->family->at_abi(POL_LL_ABI_MAX);
		return 0;
	}
	if (t->family->lookup(name, &b) < 0) {
		diag_at(ps, ps->files[ps->stack[ps->depth - 1].file],
		    ps->stack[ps->depth - 1].line, at, "unknown %s '%s'",
		    t->family->what, name);
		return -EINVAL;
	}
	*t->bits |= b;
	return 0;
}

/* A key whose value is a list of one family's names. */
static int
ll_list(struct parser *ps, struct cur *c, const char *key,
    const struct ll_family *family, uint64_t *bits)
{
	struct ll_target t = { family, bits };

	return value_list(ps, c, key, ll_name, &t);
}

static void
line_landlock(struct parser *ps, struct cur *c, const char *key)
{
	struct pol_landlock *ll = &ps->p->landlock;
	char w[16];
	uint64_t v;
	unsigned int at;
	int i;

	if (strncmp(key, "fs:", 3) == 0) {
		struct pol_ll_path *pa;

		if (key[3] != '/' || strstr(key, "/../") ||
		    strlen(key) - 3 >= POL_PATH_MAX) {
			perr(ps, 1, "%s: expected fs:/absolute/path", key);
			return;
		}
		if (ll->npaths >= POL_MAX_LL_PATHS) {
			perr(ps, 1, "more than %d Landlock paths",
			    POL_MAX_LL_PATHS);
			return;
		}
		pa = &ll->paths[ll->npaths];
		snprintf(pa->path, sizeof(pa->path), "%s", key + 3);
		pa->access = 0;
		if (ll_list(ps, c, key, &ll_fs, &pa->access) == 0 &&
		    pa->access)
			ll->npaths++;
		return;
	}
	if (strcmp(key, "bind_tcp") == 0 || strcmp(key, "connect_tcp") == 0) {
		skip_ws(c);
		at = col(c);
		if (word(c, w, sizeof(w)) < 0 || !at_end(c) ||
		    parse_u64(w, &v) < 0 || v > 65535) {
			perr(ps, at, "%s: expected a port 0..65535", key);
			return;
		}
		if (ll->nports >= POL_MAX_LL_PORTS) {
			perr(ps, at, "more than %d ports", POL_MAX_LL_PORTS);
			return;
		}
		ll->ports[ll->nports].port = (uint16_t)v;
		ll->ports[ll->nports].access = key[0] == 'b' ?
		    POL_LL_NET_BIND_TCP : POL_LL_NET_CONNECT_TCP;
		ll->nports++;
		return;
	}
	if (!key_once(ps, c, SEC_LANDLOCK, key))
		return;
	if (strcmp(key, "abi.min") == 0) {
		skip_ws(c);
		at = col(c);
		if (word(c, w, sizeof(w)) < 0 || !at_end(c) ||
		    parse_u64(w, &v) < 0 || v < 1 || v > POL_LL_ABI_MAX) {
			perr(ps, at, "abi.min: expected 1..%d", POL_LL_ABI_MAX);
			return;
		}
		ll->abi_min = (int)v;
	} else if (strcmp(key, "compat") == 0) {
		static const char *const ch[] = { "best-effort", "hard", NULL };

		if (value_choice(ps, c, key, ch, &i) == 0)
			ll->best_effort = i == 0;
	} else if (strcmp(key, "handle.fs") == 0) {
		(void)ll_list(ps, c, key, &ll_fs, &ll->handled_fs);
	} else if (strcmp(key, "handle.net") == 0) {
		(void)ll_list(ps, c, key, &ll_net, &ll->handled_net);
	} else if (strcmp(key, "scope") == 0) {
		(void)ll_list(ps, c, key, &ll_scope, &ll->scoped);
	} else {
		perr(ps, 1, "[landlock]: unknown key '%s'", key);
	}
}

/* ---- [seccomp] ---- */

/*
 * An action: allow, kill-process, kill-thread, trap, log, errno N,
 * return NAME. 0, -ENOENT when the text is not an action at all (so the
 * caller may try an expression), -EINVAL after reporting a bad one.
 */
static int
parse_action(struct parser *ps, struct cur *c, struct pol_action *a)
{
	size_t save = c->i;
	char w[32], e[32];
	unsigned int at;

	skip_ws(c);
	at = col(c);
	if (word(c, w, sizeof(w)) < 0) {
		c->i = save;
		return -ENOENT;
	}
	memset(a, 0, sizeof(*a));
	if (strcmp(w, "allow") == 0)
		a->kind = POL_ACT_ALLOW;
	else if (strcmp(w, "kill-process") == 0 || strcmp(w, "kill") == 0)
		a->kind = POL_ACT_KILL_PROCESS;
	else if (strcmp(w, "kill-thread") == 0)
		a->kind = POL_ACT_KILL_THREAD;
	else if (strcmp(w, "trap") == 0)
		a->kind = POL_ACT_TRAP;
	else if (strcmp(w, "log") == 0)
		a->kind = POL_ACT_LOG;
	else if (strcmp(w, "errno") == 0 || strcmp(w, "return") == 0) {
		unsigned int eat;

		a->kind = POL_ACT_ERRNO;
		skip_ws(c);
		eat = col(c);
		if (word(c, e, sizeof(e)) < 0 ||
		    pol_errno_lookup(e, &a->errnum) < 0) {
			perr(ps, eat, "%s: expected an errno name or 1..4095",
			    w);
			return -EINVAL;
		}
	} else {
		c->i = save;
		return -ENOENT;
	}
	if (!at_end(c)) {
		perr(ps, col(c), "trailing text after action");
		return -EINVAL;
	}
	(void)at;
	return 0;
}

struct raw_cmp {
	struct pol_cmp cmp;
	unsigned int col;
	char fdname[POL_NAME_MAX];	/* set: an fd reference */
};

/* value := term ('|' term)*, term := '~'? (number | CONST) | fd:NAME */
static int
parse_value(struct parser *ps, struct cur *c, struct raw_cmp *rc,
    uint64_t *out)
{
	uint64_t acc = 0;
	int nterms = 0;

	do {
		char w[64];
		unsigned int at;
		bool inv;
		uint64_t v;

		skip_ws(c);
		inv = c->s[c->i] == '~';
		if (inv)
			c->i++;
		skip_ws(c);
		at = col(c);
		if (ident(c, w, sizeof(w)) < 0) {
			perr(ps, at, "expected a number, a constant or fd:NAME");
			return -EINVAL;
		}
		if (strncmp(w, "fd:", 3) == 0) {
			if (inv || nterms > 0 || c->s[c->i] == '|') {
				perr(ps, at, "fd:NAME must stand alone");
				return -EINVAL;
			}
			if (!valid_fd_name(w + 3, false) &&
			    !valid_fd_name(w + 3, true)) {
				perr(ps, at, "bad fd name '%s'", w + 3);
				return -EINVAL;
			}
			memcpy(rc->fdname, w + 3, strlen(w + 3) + 1);
			*out = 0;
			return 0;
		}
		if (isdigit((unsigned char)w[0])) {
			if (parse_u64(w, &v) < 0) {
				perr(ps, at, "bad number '%s'", w);
				return -EINVAL;
			}
		} else if (pol_const_lookup(w, &v) < 0) {
			perr(ps, at, "unknown constant '%s'", w);
			return -EINVAL;
		}
		acc |= inv ? ~v : v;
		nterms++;
		skip_ws(c);
	} while (c->s[c->i] == '|' && c->s[c->i + 1] != '|' && ++c->i);
	*out = acc;
	return 0;
}

static const struct {
	const char *tok;
	int op;			/* enum pol_op, or -1 '&', -2 'in' */
} ops[] = {
	{ "==", POL_OP_EQ }, { "!=", POL_OP_NE }, { "<=", POL_OP_LE },
	{ ">=", POL_OP_GE }, { "<", POL_OP_LT }, { ">", POL_OP_GT },
	{ "&", -1 }, { "in", -2 },
};

static int
parse_cmp(struct parser *ps, struct cur *c, struct raw_cmp *rc)
{
	char w[16];
	unsigned int at;
	uint64_t v;
	int op = -100;

	memset(rc, 0, sizeof(*rc));
	rc->cmp.fd = -1;
	skip_ws(c);
	at = col(c);
	rc->col = at;
	if (ident(c, w, sizeof(w)) < 0 || strncmp(w, "arg", 3) != 0 ||
	    w[3] < '0' || w[3] > '5' || w[4] != '\0') {
		perr(ps, at, "expected arg0..arg5");
		return -EINVAL;
	}
	rc->cmp.arg = (uint8_t)(w[3] - '0');
	skip_ws(c);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t n = strlen(ops[i].tok);

		if (strncmp(c->s + c->i, ops[i].tok, n) == 0 &&
		    !(ops[i].op == -1 && c->s[c->i + 1] == '&') &&
		    !(ops[i].op == -2 && isalnum((unsigned char)c->s[c->i + 2]))) {
			op = ops[i].op;
			c->i += n;
			break;
		}
	}
	if (op == -100) {
		perr(ps, col(c), "expected an operator (== != < <= > >= & in)");
		return -EINVAL;
	}
	if (parse_value(ps, c, rc, &v) < 0)
		return -EINVAL;
	if (rc->fdname[0] && op != POL_OP_EQ) {
		perr(ps, at, "fd:%s can only be compared with ==", rc->fdname);
		return -EINVAL;
	}
	if (op == -1) {		/* every bit of v set */
		if (v == 0) {
			perr(ps, at, "'& 0' is always true");
			return -EINVAL;
		}
		rc->cmp.op = POL_OP_MASKED_EQ;
		rc->cmp.mask = v;
		rc->cmp.value = v;
	} else if (op == -2) {	/* no bit outside v */
		rc->cmp.op = POL_OP_MASKED_EQ;
		rc->cmp.mask = ~v;
		rc->cmp.value = 0;
	} else {
		rc->cmp.op = (uint8_t)op;
		rc->cmp.value = v;
	}
	return 0;
}

static bool
cmp_holds(const struct pol_cmp *c, uint64_t v)
{
	switch ((enum pol_op)c->op) {
	case POL_OP_EQ: return v == c->value;
	case POL_OP_NE: return v != c->value;
	case POL_OP_LT: return v < c->value;
	case POL_OP_LE: return v <= c->value;
	case POL_OP_GT: return v > c->value;
	case POL_OP_GE: return v >= c->value;
	case POL_OP_MASKED_EQ: return (v & c->mask) == c->value;
	}
	return false;
}

/*
 * libseccomp 2.5.4 refuses two comparisons of one argument in one rule.
 * Merge them where the result is exact: == with anything (decided now),
 * masks with masks (one wider mask). Anything else is refused with a hint;
 * we never split into rules whose OR would mean something else.
 * 0: merged into *a; 1: the alternative can never match; <0: refused.
 */
static int
merge_cmp(struct pol_cmp *a, const struct pol_cmp *b)
{
	if (a->op == POL_OP_EQ)
		return cmp_holds(b, a->value) ? 0 : 1;
	if (b->op == POL_OP_EQ) {
		if (!cmp_holds(a, b->value))
			return 1;
		*a = *b;
		return 0;
	}
	if (a->op == POL_OP_MASKED_EQ && b->op == POL_OP_MASKED_EQ) {
		if ((a->value & b->mask) != (b->value & a->mask))
			return 1;
		a->mask |= b->mask;
		a->value |= b->value;
		return 0;
	}
	return -EINVAL;
}

static void
add_fdref(struct parser *ps, unsigned int rule, unsigned int alt,
    unsigned int cmp, const struct raw_cmp *rc)
{
	struct fdref *r;

	if (ps->nrefs >= MAX_FDREFS) {
		perr(ps, rc->col, "more than %d fd references", MAX_FDREFS);
		return;
	}
	r = &ps->refs[ps->nrefs++];
	r->rule = rule;
	r->alt = alt;
	r->cmp = cmp;
	r->file = ps->stack[ps->depth - 1].file;
	r->line = ps->stack[ps->depth - 1].line;
	r->col = rc->col;
	snprintf(r->name, sizeof(r->name), "%s", rc->fdname);
}

/* expr := alt ('||' alt)*, alt := cmp ('&&' cmp)* | '1' */
static int
parse_expr(struct parser *ps, struct cur *c, struct pol_rule *r,
    unsigned int ridx)
{
	bool bad = false;

	skip_ws(c);
	if (c->s[c->i] == '1' && (c->s[c->i + 1] == '\0' ||
	    c->s[c->i + 1] == ' ' || c->s[c->i + 1] == '\t')) {
		c->i++;
		if (!at_end(c)) {
			perr(ps, col(c), "'1' (always) must stand alone");
			return -EINVAL;
		}
		r->nalt = 0;
		return 0;
	}
	do {
		struct raw_cmp raw[MAX_RAW_CMPS];
		struct pol_alt *alt;
		unsigned int nraw = 0, altcol = col(c) + 1;
		bool never = false;

		do {
			if (nraw >= MAX_RAW_CMPS) {
				perr(ps, col(c), "more than %d comparisons in "
				    "one alternative", MAX_RAW_CMPS);
				return -EINVAL;
			}
			if (parse_cmp(ps, c, &raw[nraw]) < 0)
				return -EINVAL;
			nraw++;
		} while (accept(c, "&&"));
		if (r->nalt >= POL_MAX_ALTS) {
			perr(ps, altcol, "more than %d alternatives",
			    POL_MAX_ALTS);
			return -EINVAL;
		}
		alt = &r->alt[r->nalt];
		memset(alt, 0, sizeof(*alt));
		for (unsigned int i = 0; i < nraw && !never; i++) {
			unsigned int j;
			int m;

			for (j = 0; j < alt->ncmp; j++)
				if (alt->cmp[j].arg == raw[i].cmp.arg)
					break;
			if (j == alt->ncmp) {
				alt->cmp[alt->ncmp] = raw[i].cmp;
				if (raw[i].fdname[0]) {
					/* resolved in finish() */
					alt->cmp[alt->ncmp].fd = -2;
					add_fdref(ps, ridx, r->nalt, j, &raw[i]);
				}
				alt->ncmp++;
				continue;
			}
			m = raw[i].fdname[0] || alt->cmp[j].fd != -1 ? -EINVAL :
			    merge_cmp(&alt->cmp[j], &raw[i].cmp);
			if (m < 0) {
				perr(ps, raw[i].col, "arg%u is compared twice in "
				    "one alternative, which libseccomp cannot "
				    "express: use one mask (in, &) or split "
				    "with ||", raw[i].cmp.arg);
				bad = true;
				never = true;
			} else if (m == 1) {
				perr(ps, raw[i].col, "this alternative can "
				    "never match (arg%u)", raw[i].cmp.arg);
				bad = true;
				never = true;
			}
		}
		/* a bad line is dropped whole, its fd refs with it */
		if (!never)
			r->nalt++;
	} while (accept(c, "||"));
	if (!at_end(c)) {
		perr(ps, col(c), "expected && or || or the end of the line, "
		    "not '%s'", c->s + c->i);
		return -EINVAL;
	}
	return bad ? -EINVAL : 0;
}

static int
resolve_syscall(struct parser *ps, const char *name, unsigned int at, int *nr)
{
	int n = seccomp_syscall_resolve_name(name);

	if (n == __NR_SCMP_ERROR) {
		perr(ps, at, "unknown syscall '%s'", name);
		return -EINVAL;
	}
	if (n < 0) {
		perr(ps, at, "'%s' is not a syscall of this architecture", name);
		return -EINVAL;
	}
	*nr = n;
	return 0;
}

static void
line_seccomp(struct parser *ps, struct cur *c)
{
	struct pol_seccomp *sc = &ps->p->seccomp;
	char name[POL_NAME_MAX];
	struct pol_rule *r;
	unsigned int at;
	int nr, err;

	skip_ws(c);
	at = col(c);
	if (accept(c, "@default")) {
		struct pol_action a;

		if (ps->seen_default) {
			perr(ps, at, "@default: set twice");
			return;
		}
		ps->seen_default = true;
		err = parse_action(ps, c, &a);
		if (err == -ENOENT)
			perr(ps, col(c), "@default: expected an action");
		if (err == 0)
			sc->dflt = a;
		return;
	}
	if (accept(c, "@arch")) {
		char w[16];

		skip_ws(c);
		at = col(c);
		if (word(c, w, sizeof(w)) < 0 || strcmp(w, "native") != 0 ||
		    !at_end(c))
			perr(ps, at, "@arch: only 'native' is supported");
		ps->seen_arch = true;
		return;
	}
	if (accept(c, "@priority")) {
		for (;;) {
			skip_ws(c);
			if (c->s[c->i] == '\0')
				break;
			at = col(c);
			if (ident(c, name, sizeof(name)) < 0) {
				perr(ps, at, "@priority: expected syscall names");
				return;
			}
			if (resolve_syscall(ps, name, at, &nr) < 0)
				continue;
			if (sc->npriority >= POL_MAX_PRIORITY) {
				perr(ps, at, "@priority: more than %d names",
				    POL_MAX_PRIORITY);
				return;
			}
			sc->priority[sc->npriority++] = nr;
		}
		return;
	}
	if (c->s[c->i] == '@') {
		perr(ps, at, "unknown directive");
		return;
	}
	if (ident(c, name, sizeof(name)) < 0) {
		perr(ps, at, "expected 'syscall: expression'");
		return;
	}
	skip_ws(c);
	if (c->s[c->i] != ':') {
		perr(ps, col(c), "expected ':' after the syscall name");
		return;
	}
	c->i++;
	err = resolve_syscall(ps, name, at, &nr);
	for (unsigned int i = 0; i < sc->nrules && err == 0; i++) {
		if (sc->rules[i].nr == nr) {
			perr(ps, at, "%s: already listed at %s:%u", name,
			    sc->rules[i].file, sc->rules[i].line);
			err = -EEXIST;
		}
	}
	if (err)
		return;
	if (sc->nrules >= POL_MAX_RULES) {
		perr(ps, at, "more than %d syscalls", POL_MAX_RULES);
		return;
	}
	if (sc->nrules == ps->rules_cap) {
		unsigned int cap = ps->rules_cap ? ps->rules_cap * 2 : 32;
		struct pol_rule *n;

		if (cap > POL_MAX_RULES)
			cap = POL_MAX_RULES;
		n = realloc(sc->rules, cap * sizeof(*n));
		if (!n) {
			perr(ps, at, "out of memory");
			ps->err = -ENOMEM;
			return;
		}
		sc->rules = n;
		ps->rules_cap = cap;
	}
	r = &sc->rules[sc->nrules];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->nr = nr;
	snprintf(r->file, sizeof(r->file), "%s",
	    ps->files[ps->stack[ps->depth - 1].file]);
	r->line = ps->stack[ps->depth - 1].line;
	err = parse_action(ps, c, &r->action);
	if (err == -ENOENT) {
		r->action.kind = POL_ACT_ALLOW;
		if (at_end(c)) {
			perr(ps, col(c), "%s: expected an expression or an "
			    "action", name);
			err = -EINVAL;
		} else {
			err = parse_expr(ps, c, r, sc->nrules);
		}
	}
	if (err == 0) {
		sc->nrules++;
	} else {
		/* forget fd refs of a rejected line */
		while (ps->nrefs && ps->refs[ps->nrefs - 1].rule == sc->nrules)
			ps->nrefs--;
	}
}

/* ---- lines and sections ---- */

static void
line_section(struct parser *ps, struct cur *c, struct frame *f)
{
	char name[32];
	unsigned int at;

	c->i++;
	skip_ws(c);
	at = col(c);
	f->section = SEC_BAD;
	if (word(c, name, sizeof(name)) < 0 || !accept(c, "]") || !at_end(c)) {
		perr(ps, at, "expected [section]");
		return;
	}
	for (int s = SEC_PROCESS; s < SEC_COUNT; s++) {
		if (strcmp(name, section_names[s]) == 0) {
			f->section = (enum section)s;
			switch (f->section) {
			case SEC_PROCESS: ps->p->process.present = true; break;
			case SEC_NAMESPACES: ps->p->ns.present = true; break;
			case SEC_LANDLOCK: ps->p->landlock.present = true; break;
			case SEC_SECCOMP: ps->p->seccomp.present = true; break;
			case SEC_NONE: case SEC_BAD: case SEC_RLIMITS:
			case SEC_FDS: case SEC_COUNT: break;
			}
			return;
		}
	}
	perr(ps, at, "unknown section [%s]", name);
}

static void
line_keyval(struct parser *ps, struct cur *c, struct frame *f)
{
	char key[POL_PATH_MAX];
	unsigned int at;

	skip_ws(c);
	at = col(c);
	if (word(c, key, sizeof(key)) < 0) {
		perr(ps, at, "expected 'key = value'");
		return;
	}
	if (!accept(c, "=")) {
		perr(ps, col(c), "expected '=' after '%s'", key);
		return;
	}
	switch (f->section) {
	case SEC_PROCESS: line_process(ps, c, key); break;
	case SEC_NAMESPACES: line_namespaces(ps, c, key); break;
	case SEC_RLIMITS: line_rlimits(ps, c, key); break;
	case SEC_FDS: line_fds(ps, c, key, at); break;
	case SEC_LANDLOCK: line_landlock(ps, c, key); break;
	case SEC_NONE: case SEC_BAD: case SEC_SECCOMP: case SEC_COUNT: break;
	}
}

static void
parse_line(struct parser *ps, struct frame *f, const char *line)
{
	struct cur c = { .s = line, .i = 0 };

	if (at_end(&c))
		return;
	if (!f->header) {
		f->header = true;
		if (!accept(&c, "%mpjail-policy")) {
			perr(ps, col(&c), "a policy file begins with "
			    "'%%mpjail-policy %d'", POL_FORMAT_VERSION);
		} else {
			char v[16];

			skip_ws(&c);
			if (word(&c, v, sizeof(v)) < 0 || strcmp(v, "1") != 0 ||
			    !at_end(&c))
				perr(ps, col(&c), "unsupported format version "
				    "(this is version %d)", POL_FORMAT_VERSION);
			return;
		}
	}
	skip_ws(&c);
	if (c.s[c.i] == '[') {
		line_section(ps, &c, f);
		return;
	}
	if (accept(&c, "@include")) {
		do_include(ps, &c);
		return;
	}
	switch (f->section) {
	case SEC_NONE:
		perr(ps, col(&c), "line outside any [section]");
		return;
	case SEC_BAD:
		return;
	case SEC_SECCOMP:
		line_seccomp(ps, &c);
		return;
	case SEC_PROCESS: case SEC_NAMESPACES: case SEC_RLIMITS: case SEC_FDS:
	case SEC_LANDLOCK: case SEC_COUNT:
		line_keyval(ps, &c, f);
		return;
	}
}

/* The next line of the top frame into buf; false at its end. */
static bool
next_line(struct parser *ps, struct frame *f, char *buf, size_t len)
{
	const char *s, *nl;
	size_t n;

	if (f->pos >= f->len)
		return false;
	s = f->buf + f->pos;
	nl = memchr(s, '\n', f->len - f->pos);
	n = nl ? (size_t)(nl - s) : f->len - f->pos;
	f->pos += n + (nl ? 1 : 0);
	f->line++;
	if (n >= len) {
		perr(ps, len, "line longer than %zu characters", len - 1);
		buf[0] = '\0';
		return true;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strlen(buf) != n) {
		perr(ps, strlen(buf) + 1, "NUL byte in line");
		buf[0] = '\0';
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch == '#') {
			buf[i] = '\0';
			break;
		}
		if (ch == '\r' || ch == '\f' || ch == '\v')
			buf[i] = ' ';
		else if (ch < 0x20 && ch != '\t') {
			perr(ps, i + 1, "control character 0x%02x", ch);
			buf[0] = '\0';
			break;
		}
	}
	return true;
}

/* ---- after the last line ---- */

static int
fd_cmp(const void *a, const void *b)
{
	const struct pol_fd *x = a, *y = b;

	return (x->num > y->num) - (x->num < y->num);
}

static bool
action_eq(const struct pol_action *a, const struct pol_action *b)
{
	return a->kind == b->kind &&
	    (a->kind != POL_ACT_ERRNO || a->errnum == b->errnum);
}

static void
finish(struct parser *ps)
{
	struct pol_policy *p = ps->p;
	const char *top = ps->files[0];

	qsort(p->fds, p->nfds, sizeof(p->fds[0]), fd_cmp);
	for (unsigned int i = 0; i < p->nfds; i++)
		if (p->fds[i].range && i != p->nfds - 1)
			diag_at(ps, top, 0, 0, "fd %d..: a range must be the "
			    "highest-numbered fd", p->fds[i].num);
	for (unsigned int i = 0; i < ps->nrefs; i++) {
		struct fdref *r = &ps->refs[i];
		struct pol_cmp *cmp;
		unsigned int j;

		for (j = 0; j < p->nfds; j++)
			if (strcmp(p->fds[j].name, r->name) == 0)
				break;
		if (j == p->nfds) {
			diag_at(ps, ps->files[r->file], r->line, r->col,
			    "fd:%s: no such fd in [fds]", r->name);
			continue;
		}
		cmp = &p->seccomp.rules[r->rule].alt[r->alt].cmp[r->cmp];
		cmp->fd = (int8_t)j;
		cmp->value = (uint64_t)p->fds[j].num;
	}
	for (unsigned int i = 0; i < p->seccomp.nrules; i++) {
		struct pol_rule *r = &p->seccomp.rules[i];

		if (action_eq(&r->action, &p->seccomp.dflt))
			diag_at(ps, r->file, r->line, 1, "%s: the action is the "
			    "@default one; remove the line", r->name);
	}
	for (unsigned int i = 0; i < p->landlock.npaths; i++) {
		const struct pol_ll_path *pa = &p->landlock.paths[i];

		if (pa->access & ~p->landlock.handled_fs)
			diag_at(ps, top, 0, 0, "landlock fs:%s: grants rights "
			    "handle.fs does not handle", pa->path);
	}
	for (unsigned int i = 0; i < p->landlock.nports; i++)
		if (p->landlock.ports[i].access & ~p->landlock.handled_net)
			diag_at(ps, top, 0, 0, "landlock port %u: handle.net "
			    "does not handle it", p->landlock.ports[i].port);
	if (p->landlock.present && p->landlock.abi_min == 0)
		p->landlock.abi_min = 1;
}

static int
run(struct parser *ps)
{
	char line[POL_MAX_LINE + 1];

	while (ps->depth > 0) {
		struct frame *f = &ps->stack[ps->depth - 1];

		if (!next_line(ps, f, line, sizeof(line))) {
			if (!f->header)
				perr(ps, 1, "empty policy file");
			free(f->buf);
			f->buf = NULL;
			ps->depth--;
			continue;
		}
		parse_line(ps, f, line);
	}
	finish(ps);
	if (ps->err)
		return ps->err;
	return ps->d->n || ps->d->dropped ? -EINVAL : 0;
}

static struct parser *
parser_new(struct pol_diags *diags, struct pol_policy **pp)
{
	struct parser *ps = calloc(1, sizeof(*ps));
	struct pol_policy *p = calloc(1, sizeof(*p));

	if (!ps || !p) {
		free(ps);
		free(p);
		return NULL;
	}
	memset(diags, 0, sizeof(*diags));
	p->process.no_new_privs = true;
	p->process.uid = POL_ID_UNSET;
	p->process.gid = POL_ID_UNSET;
	p->ns.root_empty = true;
	p->landlock.best_effort = true;
	p->seccomp.dflt.kind = POL_ACT_KILL_PROCESS;
	ps->p = p;
	ps->d = diags;
	*pp = p;
	return ps;
}

static int
parse_common(struct parser *ps, struct pol_policy *p, struct pol_policy **out)
{
	int err = run(ps);

	for (unsigned int i = 0; i < ps->depth; i++)
		free(ps->stack[i].buf);
	free(ps);
	if (err) {
		pol_free(p);
		return err;
	}
	*out = p;
	return 0;
}

int
pol_parse_buffer(const char *name, const char *basedir, const char *buf,
    size_t len, struct pol_policy **out, struct pol_diags *diags)
{
	struct pol_policy *p;
	struct parser *ps;
	char *copy;

	*out = NULL;
	ps = parser_new(diags, &p);
	if (!ps)
		return -ENOMEM;
	if (len > POL_MAX_FILE_SIZE) {
		diag_at(ps, name, 0, 0, "larger than 1 MiB");
		free(ps);
		pol_free(p);
		return -EFBIG;
	}
	copy = malloc(len + 1);
	if (!copy) {
		free(ps);
		pol_free(p);
		return -ENOMEM;
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	snprintf(p->file, sizeof(p->file), "%s", name);
	(void)push_frame(ps, copy, len, name, basedir ? basedir : ".", NULL);
	return parse_common(ps, p, out);
}

int
pol_parse_file(const char *path, struct pol_policy **out,
    struct pol_diags *diags)
{
	struct pol_policy *p;
	struct parser *ps;
	const char *why = NULL;
	char dir[POL_PATH_MAX] = "";
	struct stat st = { 0 };
	char *buf = NULL;
	size_t len = 0;
	int err;

	*out = NULL;
	ps = parser_new(diags, &p);
	if (!ps)
		return -ENOMEM;
	err = read_file(path, &buf, &len, &st, &why);
	if (err) {
		diag_at(ps, path, 0, 0, "%s", why);
		free(ps);
		pol_free(p);
		return err;
	}
	snprintf(p->file, sizeof(p->file), "%s", path);
	dir_of(path, ".", dir, sizeof(dir));
	(void)push_frame(ps, buf, len, path, dir, &st);
	return parse_common(ps, p, out);
}

void
pol_free(struct pol_policy *p)
{
	if (!p)
		return;
	free(p->seccomp.rules);
	free(p);
}
