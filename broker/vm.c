/*
 * broker/vm.c: the VM description parser (mpjail.vm(5)). Runs in the
 * privileged broker on an admin-owned file, written as if the file were
 * hostile: bounded file and lines, a table of keys per section, every
 * error kept with file:line:column, parsing goes on after an error.
 */
#include "broker/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum section {
	SEC_NONE,
	SEC_BAD,		/* unknown: its lines are skipped */
	SEC_VM,
	SEC_QEMU,
	SEC_BOOT,
	SEC_TENANT,
	SEC_REMOTE,
};

struct ps {
	struct brk_vm *vm;
	struct pol_diags *d;
	const char *file;
	const char *dir;
	unsigned int line;
	enum section sec;
	unsigned int sec_line;
	struct brk_remote *remote;	/* SEC_REMOTE: the current one */
	uint32_t seen[SEC_REMOTE + 1];	/* keys set, by index into keys[] */
	unsigned int seen_line[32];
	bool have_firmware;
	unsigned int boot_line, vm_line, qemu_line, tenant_line;
};

typedef void key_fn(struct ps *ps, const char *val, unsigned int col);

struct key {
	enum section sec;
	const char *name;
	key_fn *fn;
	bool repeat;
};

static void __attribute__((format(printf, 4, 5)))
diag(struct ps *ps, unsigned int line, unsigned int col, const char *fmt, ...)
{
	struct pol_diag *g;
	va_list ap;

	if (ps->d->n >= POL_MAX_DIAGS) {
		ps->d->dropped++;
		return;
	}
	g = &ps->d->d[ps->d->n++];
	snprintf(g->file, sizeof(g->file), "%s", ps->file);
	g->line = line;
	g->col = col;
	va_start(ap, fmt);
	vsnprintf(g->msg, sizeof(g->msg), fmt, ap);
	va_end(ap);
}

#define err(ps, col, ...) diag((ps), (ps)->line, (col), __VA_ARGS__)

const char *
brk_remote_kind_name(enum brk_remote_kind kind)
{
	switch (kind) {
	case BRK_REMOTE_LSI:
		return "lsi";
	case BRK_REMOTE_QEMU:
		return "qemu";
	}
	return "?";
}

/* ---- values ---- */

static bool
is_name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	if (first)
		return false;
	return (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= BRK_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(s[i], i == 0))
			return false;
	return true;
}

/* An absolute path, or one relative to the file's directory. */
static void
set_path(struct ps *ps, char *out, const char *val, unsigned int col,
    const char *what)
{
	int w;

	for (const char *p = val; *p; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			err(ps, col + (unsigned int)(p - val),
			    "%s: a path holds no blanks or control characters",
			    what);
			return;
		}
	}
	if (val[0] == '/')
		w = snprintf(out, BRK_PATH_MAX, "%s", val);
	else
		w = snprintf(out, BRK_PATH_MAX, "%s/%s", ps->dir, val);
	if (w < 0 || w >= BRK_PATH_MAX) {
		err(ps, col, "%s: path longer than %d bytes", what,
		    BRK_PATH_MAX - 1);
		out[0] = '\0';
	}
}

static bool
parse_u64(const char *s, uint64_t *v, const char **end)
{
	char *e;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &e, 10);
	if (errno)
		return false;
	*end = e;
	return true;
}

/* ---- [vm] ---- */

static void
k_name(struct ps *ps, const char *val, unsigned int col)
{
	if (!valid_name(val)) {
		err(ps, col, "name: '%s' is not a name (a letter, then "
		    "letters, digits, '-' or '_'; at most %d)", val,
		    BRK_NAME_MAX - 1);
		return;
	}
	snprintf(ps->vm->name, sizeof(ps->vm->name), "%s", val);
}

static void
k_memory(struct ps *ps, const char *val, unsigned int col)
{
	const char *end;
	uint64_t v, mib;

	if (!parse_u64(val, &v, &end)) {
		err(ps, col, "memory: expected a size like 512M or 2G");
		return;
	}
	if (!strcmp(end, "M"))
		mib = v;
	else if (!strcmp(end, "G") && v <= BRK_MEM_MAX_MIB / 1024)
		mib = v * 1024;
	else if (!strcmp(end, "G"))
		mib = UINT64_MAX;
	else {
		err(ps, col + (unsigned int)(end - val),
		    "memory: the unit is M or G, not '%s'", end);
		return;
	}
	if (mib < BRK_MEM_MIN_MIB || mib > BRK_MEM_MAX_MIB) {
		err(ps, col, "memory: %s is outside %lluM..%lluG", val,
		    BRK_MEM_MIN_MIB, BRK_MEM_MAX_MIB / 1024);
		return;
	}
	ps->vm->memory_mib = mib;
}

static void
k_shutdown_timeout(struct ps *ps, const char *val, unsigned int col)
{
	const char *end;
	uint64_t v;

	if (!parse_u64(val, &v, &end) || *end || v < 1 || v > 600) {
		err(ps, col, "shutdown_timeout: expected seconds, 1 to 600");
		return;
	}
	ps->vm->shutdown_timeout = (unsigned int)v;
}

static void
k_accel(struct ps *ps, const char *val, unsigned int col)
{
	if (strcmp(val, "tcg") != 0)
		err(ps, col, "accel: only 'tcg' is supported (qemu.policy "
		    "allows no KVM ioctl), not '%s'", val);
}

static void
k_network(struct ps *ps, const char *val, unsigned int col)
{
	if (strcmp(val, "none") != 0)
		err(ps, col, "network: only 'none' is supported, not '%s'",
		    val);
}

/* ---- [qemu] ---- */

static void
k_qemu_binary(struct ps *ps, const char *val, unsigned int col)
{
	set_path(ps, ps->vm->qemu, val, col, "binary");
}

static void
k_qemu_policy(struct ps *ps, const char *val, unsigned int col)
{
	set_path(ps, ps->vm->qemu_policy, val, col, "policy");
}

/* ---- [boot] ---- */

static void
k_firmware(struct ps *ps, const char *val, unsigned int col)
{
	if (strcmp(val, "bios") != 0) {
		err(ps, col, "firmware: only 'bios' (SeaBIOS) is supported, "
		    "not '%s'", val);
		return;
	}
	ps->have_firmware = true;
}

static void
k_kernel(struct ps *ps, const char *val, unsigned int col)
{
	set_path(ps, ps->vm->kernel, val, col, "kernel");
}

static void
k_initrd(struct ps *ps, const char *val, unsigned int col)
{
	set_path(ps, ps->vm->initrd, val, col, "initrd");
}

static void
k_append(struct ps *ps, const char *val, unsigned int col)
{
	for (const char *p = val; *p; p++) {
		if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f) {
			err(ps, col + (unsigned int)(p - val),
			    "append: printable ASCII only");
			return;
		}
	}
	if (strlen(val) >= sizeof(ps->vm->append)) {
		err(ps, col, "append: longer than %zu bytes",
		    sizeof(ps->vm->append) - 1);
		return;
	}
	snprintf(ps->vm->append, sizeof(ps->vm->append), "%s", val);
}

/* ---- [tenant] ---- */

static void
id_range(struct ps *ps, struct brk_id_range *r, const char *val,
    unsigned int col, const char *what)
{
	const char *end, *end2;
	uint64_t a, b;

	if (!parse_u64(val, &a, &end) || *end != '-' ||
	    !parse_u64(end + 1, &b, &end2) || *end2) {
		err(ps, col, "%s: expected FIRST-LAST, like 100000-100099",
		    what);
		return;
	}
	if (a == 0 || b < a || b >= 0xffffffffULL) {
		err(ps, col, "%s: %s: ids run from 1 to 4294967294, first "
		    "<= last (never 0: never root)", what, val);
		return;
	}
	*r = (struct brk_id_range){ true, (uint32_t)a, (uint32_t)(b - a + 1) };
}

static void
k_uids(struct ps *ps, const char *val, unsigned int col)
{
	id_range(ps, &ps->vm->uids, val, col, "uids");
}

static void
k_gids(struct ps *ps, const char *val, unsigned int col)
{
	id_range(ps, &ps->vm->gids, val, col, "gids");
}

/* ---- [remote NAME] ---- */

static void
k_kind(struct ps *ps, const char *val, unsigned int col)
{
	if (!strcmp(val, "lsi"))
		ps->remote->kind = BRK_REMOTE_LSI;
	else if (!strcmp(val, "qemu"))
		ps->remote->kind = BRK_REMOTE_QEMU;
	else
		err(ps, col, "kind: 'lsi' or 'qemu', not '%s'", val);
}

static void
k_rpolicy(struct ps *ps, const char *val, unsigned int col)
{
	set_path(ps, ps->remote->policy, val, col, "policy");
}

static void
k_program(struct ps *ps, const char *val, unsigned int col)
{
	set_path(ps, ps->remote->program, val, col, "program");
}

/* disk = PATH rw|ro */
static void
k_disk(struct ps *ps, const char *val, unsigned int col)
{
	struct brk_remote *r = ps->remote;
	char path[BRK_PATH_MAX];
	const char *sp = strpbrk(val, " \t"), *mode;
	size_t n;

	if (r->ndisks >= BRK_MAX_DISKS) {
		err(ps, col, "disk: at most %d per remote", BRK_MAX_DISKS);
		return;
	}
	if (!sp) {
		err(ps, col, "disk: expected PATH rw or PATH ro");
		return;
	}
	mode = sp + strspn(sp, " \t");
	if (strcmp(mode, "rw") != 0 && strcmp(mode, "ro") != 0) {
		err(ps, col + (unsigned int)(mode - val),
		    "disk: the mode is rw or ro, not '%s'", mode);
		return;
	}
	n = (size_t)(sp - val);
	if (n >= sizeof(path)) {
		err(ps, col, "disk: path longer than %zu bytes",
		    sizeof(path) - 1);
		return;
	}
	memcpy(path, val, n);
	path[n] = '\0';
	set_path(ps, r->disks[r->ndisks].path, path, col, "disk");
	if (!r->disks[r->ndisks].path[0])
		return;
	r->disks[r->ndisks].ro = mode[1] == 'o';
	r->disks[r->ndisks].line = ps->line;
	r->ndisks++;
}

static const struct key keys[] = {
	{ SEC_VM, "name", k_name, false },
	{ SEC_VM, "memory", k_memory, false },
	{ SEC_VM, "accel", k_accel, false },
	{ SEC_VM, "network", k_network, false },
	{ SEC_VM, "shutdown_timeout", k_shutdown_timeout, false },
	{ SEC_QEMU, "binary", k_qemu_binary, false },
	{ SEC_QEMU, "policy", k_qemu_policy, false },
	{ SEC_BOOT, "firmware", k_firmware, false },
	{ SEC_BOOT, "kernel", k_kernel, false },
	{ SEC_BOOT, "initrd", k_initrd, false },
	{ SEC_BOOT, "append", k_append, false },
	{ SEC_TENANT, "uids", k_uids, false },
	{ SEC_TENANT, "gids", k_gids, false },
	{ SEC_REMOTE, "kind", k_kind, false },
	{ SEC_REMOTE, "policy", k_rpolicy, false },
	{ SEC_REMOTE, "program", k_program, false },
	{ SEC_REMOTE, "disk", k_disk, true },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= 32, "seen[] is a 32-bit mask");

static bool
key_seen(const struct ps *ps, enum section sec, const char *name)
{
	for (unsigned int i = 0; i < NKEYS; i++)
		if (keys[i].sec == sec && !strcmp(keys[i].name, name))
			return ps->seen[sec] & (1U << i);
	return false;
}

/* ---- lines ---- */

static void
section_line(struct ps *ps, char *s, unsigned int col)
{
	static const struct {
		const char *name;
		enum section sec;
	} secs[] = {
		{ "vm", SEC_VM }, { "qemu", SEC_QEMU }, { "boot", SEC_BOOT },
		{ "tenant", SEC_TENANT },
	};
	char *end = strchr(s, ']');
	char *arg;

	ps->sec = SEC_BAD;
	ps->remote = NULL;
	if (!end || end[1]) {
		err(ps, col, "a section header is [name] or [remote NAME]");
		return;
	}
	*end = '\0';
	s++;
	arg = strchr(s, ' ');
	if (arg)
		*arg++ = '\0';
	if (!strcmp(s, "remote")) {
		struct brk_remote *r;

		if (!arg || !valid_name(arg)) {
			err(ps, col, "[remote NAME]: NAME is a letter, then "
			    "letters, digits, '-' or '_' (at most %d)",
			    BRK_NAME_MAX - 1);
			return;
		}
		for (unsigned int i = 0; i < ps->vm->nremotes; i++) {
			if (!strcmp(ps->vm->remotes[i].name, arg)) {
				err(ps, col, "[remote %s]: already defined at "
				    "line %u", arg, ps->vm->remotes[i].line);
				return;
			}
		}
		if (ps->vm->nremotes >= BRK_MAX_REMOTES) {
			err(ps, col, "at most %d remotes", BRK_MAX_REMOTES);
			return;
		}
		r = &ps->vm->remotes[ps->vm->nremotes++];
		snprintf(r->name, sizeof(r->name), "%s", arg);
		r->kind = BRK_REMOTE_LSI;
		r->line = ps->line;
		ps->remote = r;
		ps->sec = SEC_REMOTE;
		ps->seen[SEC_REMOTE] = 0;
		ps->sec_line = ps->line;
		return;
	}
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		if (strcmp(s, secs[i].name) != 0)
			continue;
		if (arg) {
			err(ps, col, "[%s] takes no name", s);
			return;
		}
		if ((secs[i].sec == SEC_VM &&
		    ps->vm_line) || (secs[i].sec == SEC_QEMU &&
		    ps->qemu_line) || (secs[i].sec == SEC_BOOT &&
		    ps->boot_line) || (secs[i].sec == SEC_TENANT &&
		    ps->tenant_line)) {
			err(ps, col, "[%s] appears twice", s);
			return;
		}
		ps->sec = secs[i].sec;
		ps->sec_line = ps->line;
		if (ps->sec == SEC_VM)
			ps->vm_line = ps->line;
		else if (ps->sec == SEC_QEMU)
			ps->qemu_line = ps->line;
		else if (ps->sec == SEC_BOOT)
			ps->boot_line = ps->line;
		else
			ps->tenant_line = ps->line;
		return;
	}
	err(ps, col, "unknown section [%s] (vm, qemu, boot, tenant, "
	    "remote NAME)", s);
}

static void
key_line(struct ps *ps, char *s, unsigned int col0)
{
	size_t klen = 0;
	char *val;
	unsigned int vcol;

	while ((s[klen] >= 'a' && s[klen] <= 'z') || s[klen] == '_')
		klen++;
	if (klen == 0) {
		err(ps, col0, "expected a key (lower-case letters and '_')");
		return;
	}
	val = s + klen;
	val += strspn(val, " \t");
	if (*val != '=') {
		err(ps, col0 + (unsigned int)(val - s),
		    "expected '=' after the key");
		return;
	}
	s[klen] = '\0';
	val++;
	val += strspn(val, " \t");
	vcol = col0 + (unsigned int)(val - s);
	if (ps->sec == SEC_BAD)
		return;		/* reported once, at the header */
	if (ps->sec == SEC_NONE) {
		err(ps, col0, "'%s' outside a section", s);
		return;
	}
	if (!*val) {
		err(ps, vcol, "%s: empty value", s);
		return;
	}
	for (unsigned int i = 0; i < NKEYS; i++) {
		if (keys[i].sec != ps->sec || strcmp(keys[i].name, s) != 0)
			continue;
		if (!keys[i].repeat && (ps->seen[ps->sec] & (1U << i))) {
			err(ps, col0, "%s: given twice (first at line %u)", s,
			    ps->seen_line[i]);
			return;
		}
		ps->seen[ps->sec] |= 1U << i;
		ps->seen_line[i] = ps->line;
		keys[i].fn(ps, val, vcol);
		return;
	}
	err(ps, col0, "unknown key '%s' in this section", s);
}

static void
one_line(struct ps *ps, char *s)
{
	char *hash = strchr(s, '#');
	size_t n;
	unsigned int col;

	if (hash)
		*hash = '\0';
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	col = (unsigned int)strspn(s, " \t") + 1;
	s += col - 1;
	if (!*s)
		return;
	if (*s == '[')
		section_line(ps, s, col);
	else
		key_line(ps, s, col);
}

/* What must be there once every line is read. */
static void
check_complete(struct ps *ps)
{
	struct brk_vm *vm = ps->vm;

	if (!vm->name[0] && !key_seen(ps, SEC_VM, "name"))
		diag(ps, ps->vm_line, 0, "[vm] name is missing");
	if (!vm->memory_mib && !key_seen(ps, SEC_VM, "memory"))
		diag(ps, ps->vm_line, 0, "[vm] memory is missing");
	if (!vm->qemu_policy[0] && !key_seen(ps, SEC_QEMU, "policy"))
		diag(ps, ps->qemu_line, 0, "[qemu] policy is missing");
	if (ps->have_firmware && key_seen(ps, SEC_BOOT, "kernel"))
		diag(ps, ps->boot_line, 0,
		    "[boot]: firmware and kernel exclude each other");
	else if (!ps->have_firmware && !key_seen(ps, SEC_BOOT, "kernel"))
		diag(ps, ps->boot_line, 0,
		    "[boot]: firmware = bios, or kernel = PATH");
	if (!key_seen(ps, SEC_BOOT, "kernel") &&
	    (key_seen(ps, SEC_BOOT, "initrd") ||
	    key_seen(ps, SEC_BOOT, "append")))
		diag(ps, ps->boot_line, 0,
		    "[boot]: initrd and append need a kernel");
	vm->boot = ps->have_firmware ? BRK_BOOT_FIRMWARE : BRK_BOOT_KERNEL;
	if (ps->tenant_line && (!vm->uids.set || !vm->gids.set) &&
	    (!key_seen(ps, SEC_TENANT, "uids") ||
	    !key_seen(ps, SEC_TENANT, "gids")))
		diag(ps, ps->tenant_line, 0, "[tenant]: uids and gids both");
	if (vm->nremotes == 0)
		diag(ps, 0, 0, "no [remote NAME]: a VM needs at least one");
	for (unsigned int i = 0; i < vm->nremotes; i++) {
		const struct brk_remote *r = &vm->remotes[i];

		if (!r->policy[0])
			diag(ps, r->line, 0, "[remote %s]: policy is missing",
			    r->name);
		if (r->ndisks == 0)
			diag(ps, r->line, 0, "[remote %s]: no disk", r->name);
	}
}

int
brk_vm_parse_buffer(const char *name, const char *dir, const char *buf,
    size_t len, struct brk_vm *vm, struct pol_diags *diags)
{
	static const char header[] = "%mpjail-vm";
	char line[BRK_MAX_LINE + 1];
	struct ps ps;
	size_t pos = 0;

	memset(vm, 0, sizeof(*vm));
	memset(&ps, 0, sizeof(ps));
	ps.vm = vm;
	ps.d = diags;
	ps.file = name;
	ps.dir = dir ? dir : ".";
	snprintf(vm->file, sizeof(vm->file), "%s", name);
	snprintf(vm->qemu, sizeof(vm->qemu), "/usr/bin/qemu-system-x86_64");
	vm->shutdown_timeout = 10;
	if (len > BRK_MAX_FILE_SIZE) {
		diag(&ps, 0, 0, "larger than %d bytes", BRK_MAX_FILE_SIZE);
		return -EINVAL;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;

		ps.line++;
		if (n > BRK_MAX_LINE) {
			diag(&ps, ps.line, BRK_MAX_LINE + 1,
			    "line longer than %d bytes", BRK_MAX_LINE);
			pos += n + 1;
			continue;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (strlen(line) != n) {
			diag(&ps, ps.line, (unsigned int)strlen(line) + 1,
			    "NUL byte");
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)line[i] < ' ' && line[i] != '\t') {
				diag(&ps, ps.line, (unsigned int)i + 1,
				    "control character 0x%02x",
				    (unsigned char)line[i]);
				line[0] = '\0';
				break;
			}
		}
		if (ps.line == 1) {
			char *v = line + sizeof(header) - 1;

			if (strncmp(line, header, sizeof(header) - 1) != 0 ||
			    (*v != ' ' && *v != '\t')) {
				diag(&ps, 1, 1, "the first line must be "
				    "'%%mpjail-vm %d'", BRK_VM_FORMAT_VERSION);
			} else {
				v += strspn(v, " \t");
				if (strcmp(v, "1") != 0)
					diag(&ps, 1, (unsigned int)(v - line) +
					    1, "format version '%s' is not "
					    "supported (1 is)", v);
			}
			continue;
		}
		one_line(&ps, line);
	}
	if (ps.line == 0)
		diag(&ps, 0, 0, "empty file");
	else
		check_complete(&ps);
	return diags->n || diags->dropped ? -EINVAL : 0;
}

int
brk_vm_parse_file(const char *path, struct brk_vm *vm,
    struct pol_diags *diags)
{
	char dir[BRK_PATH_MAX], absdir[PATH_MAX], *buf, *slash;
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, e;

	memset(vm, 0, sizeof(*vm));
	if (strlen(path) >= sizeof(dir)) {
		struct ps ps = { .d = diags, .file = "(vm file)" };

		diag(&ps, 0, 0, "path longer than %zu bytes", sizeof(dir) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	/* Relative paths in the file become absolute: they go to bwrap. */
	if (!realpath(dir, absdir) || strlen(absdir) >= sizeof(dir)) {
		struct ps ps = { .d = diags, .file = path };

		e = errno ? errno : ENAMETOOLONG;
		diag(&ps, 0, 0, "directory %s: %s", dir, strerror(e));
		return -e;
	}
	memcpy(dir, absdir, strlen(absdir) + 1); /* length checked above */
	memset(&st, 0, sizeof(st));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	e = 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		e = errno ? errno : EIO;
	if (e || fd < 0)
		e = e ? e : EIO;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if (st.st_size > BRK_MAX_FILE_SIZE)
		e = EFBIG;
	if (e) {
		struct ps ps = { .d = diags, .file = path };

		diag(&ps, 0, 0, "%s", e == EINVAL ? "not a regular file" :
		    e == EFBIG ? "larger than 64 KiB" : strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	e = brk_vm_parse_buffer(path, dir, buf, got, vm, diags);
	free(buf);
	return e;
}
