/*
 * tests/integration/test_lsi_diff.c: the differential corpus. Every
 * scenario runs through the LSI53C895A driver model twice, against QEMU
 * 7.2's own remote and against mpjail-lsi, each with its own image file of
 * identical content. Compared, per command: the error proxy_lsi_exec
 * returned, status, message-in byte, residual, overrun, disconnects, the
 * ISTAT/DSTAT/SIST0/SIST1/DSPS values the driver read, the data returned
 * (and the sense data: a CHECK CONDITION is followed by REQUEST SENSE);
 * per scenario, the image files afterwards. They must be identical, or the
 * difference is a row of known_diffs[] with its reason; a row must match
 * the values seen exactly, and a row no scenario needed fails the run.
 * Steps that run the scenario's own SCRIPTS also compare where SCRIPTS
 * stopped (DSP, DBC). A remote that stops serving its socket records no
 * further steps; the other side's are then "present" against "absent".
 * MPJAIL_DIFF_VERBOSE=1 prints every step of both sides;
 * MPJAIL_DIFF_ONLY=name (or prefix*) runs some scenarios only.
 * mpjail-lsi runs as the broker runs it: confined by mpjail-run under
 * policy/lsi-remote.policy (tests/lib/jail.c; needs root), and after each
 * scenario `mpjail-policy audit` must find it carrying that policy.
 * Test code: runs unconfined; the remotes are the things under test.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpjail-proxy-lsi.h"
#include "tests/lib/jail.h"
#include "tests/lib/peers.h"

#define IMAGE_SIZE (8u << 20)
#define IMAGE_BLOCKS (IMAGE_SIZE / 512)
#define LAST_LBA (IMAGE_BLOCKS - 1)
#define MAX_STEPS 48
#define HEAD 32

/* Registers the hostile scenarios touch (datasheet names). */
#define REG_DSTAT 0x0c
#define REG_DSA 0x10
#define REG_ISTAT 0x14
#define REG_DBC 0x24
#define REG_DSP 0x2c
#define REG_DSPS 0x30
#define REG_SIST0 0x42
#define REG_SIST1 0x43

/* SCRIPTS encodings for the scenarios' own programs. */
#define PH_DATA_OUT 0
#define PH_DATA_IN 1
#define PH_COMMAND 2
#define PH_STATUS 3
#define PH_MSG_OUT 6
#define PH_MSG_IN 7
#define I_MOVE(ph, n) (0x08000000u | (uint32_t)(ph) << 24 | (n))
#define I_MOVE_TI(ph) (0x18000000u | (uint32_t)(ph) << 24)
#define I_SELECT_ATN(id) (0x41000000u | (uint32_t)(id) << 16)
#define I_WAIT_DISC 0x48000000u
#define I_SET_ATN 0x58000008u
#define I_CLEAR_ACK 0x60000040u
#define I_WAIT_RESEL 0x50000000u
#define I_JUMP 0x80080000u
#define I_JUMP_IF(ph) (0x800a0000u | (uint32_t)(ph) << 24)
#define I_INT 0x98080000u
#define I_MEMMOVE(n) (0xc0000000u | (n))

/* Where the scenarios' own SCRIPTS and buffers live in guest RAM. */
#define S_SCRIPT (PROXY_LSI_FREE_RAM_OFFSET)
#define S_MSGOUT (PROXY_LSI_FREE_RAM_OFFSET + 0x1000)
#define S_CDB (PROXY_LSI_FREE_RAM_OFFSET + 0x1010)
#define S_STATUS (PROXY_LSI_FREE_RAM_OFFSET + 0x1020)
#define S_MSGIN (PROXY_LSI_FREE_RAM_OFFSET + 0x1024)
#define S_MSGIN2 (PROXY_LSI_FREE_RAM_OFFSET + 0x1028)
#define S_IDENTIN (PROXY_LSI_FREE_RAM_OFFSET + 0x102c)
#define S_TABLE (PROXY_LSI_FREE_RAM_OFFSET + 0x1100)
#define S_DATA (PROXY_LSI_FREE_RAM_OFFSET + 0x2000)
/* Beyond the default 64 MiB of guest RAM, below the BARs. */
#define OUTSIDE_RAM 0x40000000u

enum field {
	F_ERR = 1 << 0,
	F_STATUS = 1 << 1,
	F_MSGIN = 1 << 2,
	F_RESID = 1 << 3,
	F_OVERRUN = 1 << 4,
	F_DISC = 1 << 5,
	F_TRACE = 1 << 6,
	F_DATA = 1 << 7,
	F_IMAGE = 1 << 8,
	F_WHERE = 1 << 9,    /* our own SCRIPTS: where they stopped */
	F_STEP = 1 << 10,    /* a step only one side has (its sense) */
	F_SPURIOUS = 1 << 11, /* interrupts with nothing pending */
};

static const struct {
	enum field f;
	const char *name;
} field_names[] = {
	{ F_ERR, "err" }, { F_STATUS, "status" }, { F_MSGIN, "msgin" },
	{ F_RESID, "resid" }, { F_OVERRUN, "overrun" },
	{ F_DISC, "disconnects" }, { F_TRACE, "trace" }, { F_DATA, "data" },
	{ F_IMAGE, "image" }, { F_WHERE, "where" }, { F_STEP, "step" },
	{ F_SPURIOUS, "spurious" },
};

/*
 * The differences we know of. scenario and step: exact names, "*" for
 * any, or a prefix ending in '*'. The values are what each side shows for
 * the field, rendered as render_field() does, and must match exactly.
 */
struct known_diff {
	const char *scenario;
	const char *step;
	enum field field;
	const char *qemu;
	const char *lsi;
	const char *why;
	bool timing;   /* depends on QEMU's timing: need not occur every run */
};

#define WHY_DISCONNECT \
	"QEMU's LSI disconnects (SAVE DATA POINTER, DISCONNECT) after the " \
	"COMMAND phase of every READ, because its block layer reads " \
	"asynchronously, and reselects when the data is there; mpjail-lsi " \
	"reads synchronously and goes straight to DATA IN. Both are valid " \
	"SCSI; data, status and interrupts are the same"
#define WHY_SPURIOUS \
	"QEMU's remote now and then wakes the driver with nothing pending " \
	"(ISTAT 0x00): its iohub re-signals the irqfd on resample from its " \
	"own level bookkeeping, racing the driver's register reads. Timing-" \
	"dependent: such reads are left out of the trace comparison, and " \
	"mpjail-lsi must have none"
#define WHY_FAKE_DATA_IN \
	"QEMU bug, not copied: for a command without data that does not " \
	"complete at once (SYNCHRONIZE CACHE: an asynchronous flush), QEMU " \
	"7.2's lsi_do_command fakes a DATA IN phase while it waits; the " \
	"driver sinks into its overrun bucket until QEMU switches to STATUS " \
	"(phase mismatch, SIST0 MA). A target with no data must not enter a " \
	"data phase: mpjail-lsi goes to STATUS"
#define WHY_READ_TOC \
	"SCSI_DISK.md: READ TOC (0x43) is MMC; QEMU 7.2's scsi-hd answers it " \
	"for disks too, mpjail-lsi gives INVALID COMMAND OPERATION CODE"
#define WHY_DMA_OUTSIDE \
	"QEMU bug, not copied: QEMU 7.2 ignores the result of pci_dma_rw, so " \
	"a SCRIPTS DMA to or from an address no guest RAM backs is dropped " \
	"(reads as zeroes) and SCRIPTS carry on. mpjail-lsi stops SCRIPTS " \
	"with a bus fault (DSTAT BF, DSP past the faulting instruction), as " \
	"ARCHITECTURE.md requires"
#define WHY_FETCH_OUTSIDE \
	"QEMU bug, not copied: QEMU fetches SCRIPTS from unbacked memory as " \
	"zeroes and runs them (a 0-byte block move, forever): no interrupt " \
	"ever comes and the driver times out. mpjail-lsi raises a bus fault " \
	"at the fetch"
#define WHY_ABORT_HANG \
	"QEMU bug, not copied: SET ATN and ABORT in MESSAGE OUT while its " \
	"READ(10) is outstanding makes QEMU 7.2's remote stop serving its " \
	"socket (the next register read times out; it must be killed). " \
	"mpjail-lsi aborts the task and goes bus free; WAIT DISCONNECT " \
	"completes and the INT after it arrives; the disk works afterwards"
#define WHY_RESET_ASSERT \
	"QEMU bug, not copied: DEVICE_RESET while a request is queued " \
	"(disconnected READ) kills QEMU 7.2's remote: lsi_soft_reset: " \
	"Assertion `QTAILQ_EMPTY(&s->queue)' failed. mpjail-lsi drops the " \
	"request, reports the unit attention and carries on"

static const struct known_diff known_diffs[] = {
	{ "*", "*", F_DISC, "1", "0", WHY_DISCONNECT, false },
	{ "unmap", "image", F_IMAGE, "differs", "differs",
	    "SCSI_DISK.md: UNMAP punches holes in mpjail-lsi; QEMU's default "
	    "discard=ignore makes it a no-op. LBPRZ is 0: both are allowed. "
	    "Status, sense and interrupts are compared", false },
	{ "*", "*", F_SPURIOUS, "*", "0", WHY_SPURIOUS, true },
	{ "*", "sync10*", F_OVERRUN, "1", "0", WHY_FAKE_DATA_IN, false },
	{ "*", "sync10*", F_TRACE,
	    "14=02 42=80 43=00 14=01 0c=84 30=00000001",
	    "14=01 0c=84 30=00000001", WHY_FAKE_DATA_IN, false },
	{ "invalid_opcode", "read-toc", F_STATUS, "0x00", "0x02",
	    WHY_READ_TOC, false },
	{ "invalid_opcode", "read-toc", F_RESID, "0", "12", WHY_READ_TOC,
	    false },
	{ "invalid_opcode", "read-toc", F_DATA,
	    "001201010014010000000000#45afd3131582eb1c",
	    "eeeeeeeeeeeeeeeeeeeeeeee#cf26ccdcecf1f815", WHY_READ_TOC, false },
	{ "invalid_opcode", "read-toc/sense", F_STEP, "absent", "present",
	    WHY_READ_TOC, false },
	/* DATA IN past RAM: directly, straddling its end, by table entry */
	{ "dma_move_*", "move-*", F_STATUS, "0x00", "0xff", WHY_DMA_OUTSIDE,
	    false },
	{ "dma_move_*", "move-*", F_MSGIN, "0x00", "0xff", WHY_DMA_OUTSIDE,
	    false },
	{ "dma_move_*", "move-*", F_TRACE, "14=01 0c=84 30=00003001",
	    "14=01 0c=a0", WHY_DMA_OUTSIDE, false },
	{ "dma_move_outside", "move-to-1GiB", F_WHERE, "dsp=+0x50 dbc=0x1",
	    "dsp=+0x28 dbc=0x200", WHY_DMA_OUTSIDE, false },
	{ "dma_move_straddle", "move-straddles-end", F_WHERE,
	    "dsp=+0x50 dbc=0x1", "dsp=+0x28 dbc=0x100", WHY_DMA_OUTSIDE,
	    false },
	{ "dma_table_entry_outside", "table-entry-1GiB", F_STATUS, "0x00",
	    "0xff", WHY_DMA_OUTSIDE, false },
	{ "dma_table_entry_outside", "table-entry-1GiB", F_MSGIN, "0x00",
	    "0xff", WHY_DMA_OUTSIDE, false },
	{ "dma_table_entry_outside", "table-entry-1GiB", F_TRACE,
	    "14=01 0c=84 30=00003001", "14=01 0c=a0", WHY_DMA_OUTSIDE, false },
	{ "dma_table_entry_outside", "table-entry-1GiB", F_WHERE,
	    "dsp=+0x50 dbc=0x1", "dsp=+0x28 dbc=0x200", WHY_DMA_OUTSIDE,
	    false },
	/* the table itself past RAM */
	{ "dma_table_outside", "dsa-1GiB", F_TRACE, "14=01 0c=84 30=00004001",
	    "14=01 0c=a0", WHY_DMA_OUTSIDE, false },
	{ "dma_table_outside", "dsa-1GiB", F_WHERE, "dsp=+0x28 dbc=0x0",
	    "dsp=+0x20 dbc=0x6", WHY_DMA_OUTSIDE, false },
	/* a memory move from past RAM */
	{ "dma_memmove_outside", "memmove-from-1GiB", F_TRACE,
	    "14=01 0c=84 30=00005001", "14=01 0c=a0", WHY_DMA_OUTSIDE, false },
	{ "dma_memmove_outside", "memmove-from-1GiB", F_WHERE,
	    "dsp=+0x14 dbc=0x1", "dsp=+0xc dbc=0x1", WHY_DMA_OUTSIDE, false },
	/* SCRIPTS fetched from past RAM */
	{ "dma_fetch_outside", "dsp-1GiB", F_ERR, "-110", "0",
	    WHY_FETCH_OUTSIDE, false },
	{ "dma_fetch_outside", "dsp-1GiB", F_TRACE, "", "14=01 0c=a0",
	    WHY_FETCH_OUTSIDE, false },
	/* QEMU hangs; everything after it exists on mpjail-lsi alone */
	{ "abort_mid_command", "set-atn-abort", F_ERR, "-110", "0",
	    WHY_ABORT_HANG, false },
	{ "abort_mid_command", "set-atn-abort", F_TRACE, "",
	    "14=01 0c=84 30=00002001", WHY_ABORT_HANG, false },
	{ "abort_mid_command", "set-atn-abort", F_WHERE, "-",
	    "dsp=+0x38 dbc=0x0", WHY_ABORT_HANG, false },
	{ "abort_mid_command", "*", F_STEP, "absent", "present",
	    WHY_ABORT_HANG, false },
	/* QEMU dies; everything after it exists on mpjail-lsi alone */
	{ "device_reset_mid_command", "device-reset", F_ERR, "-32", "0",
	    WHY_RESET_ASSERT, false },
	{ "device_reset_mid_command", "*", F_STEP, "absent", "present",
	    WHY_RESET_ASSERT, false },
};

#define N_KNOWN (sizeof(known_diffs) / sizeof(known_diffs[0]))

/* One command (or one run of our own SCRIPTS) as one side answered it. */
struct step {
	char label[48];
	int err;
	uint8_t status, msgin;
	size_t resid;
	bool overrun;
	unsigned int disconnects;
	unsigned int ntrace;
	struct proxy_lsi_reg_read trace[PROXY_LSI_TRACE_MAX];
	size_t data_len;
	uint64_t data_hash;
	uint8_t head[HEAD];
	bool has_where;
	uint32_t dsp, dbc;
};

struct record {
	unsigned int n;
	struct step s[MAX_STEPS];
};

enum variant {
	V_MMIO,        /* defaults: MMIO BAR, SCRIPTS in guest RAM, 64 KiB SG */
	V_SG512,
	V_SG1000,
	V_SG4096,
	V_IO,          /* registers through the I/O BAR */
	V_CHIPRAM,     /* SCRIPTS in on-chip RAM */
	V_IO_CHIPRAM,  /* both, as SeaBIOS + Linux would mix them */
	V_RO,          /* write-protected image */
	V_SHORT,       /* 1 s interrupt deadline, for what never interrupts */
	V_COUNT,
};

struct side {
	const char *name;
	bool is_qemu;
	struct peer peer;
	struct proxy_dev *dev;
	struct proxy_lsi *hba;
	char image[64];
	struct record rec;
	const char *scenario;
	bool dead;           /* its connection is gone: record no more */
	struct step scratch; /* where the steps of a dead side go */
};

struct pair {
	enum variant v;
	struct side side[2]; /* [0] QEMU 7.2's remote, [1] mpjail-lsi */
};

enum pair_use {
	SHARED,        /* the variant's shared pair, unit attention taken */
	FRESH,         /* a pair of its own, unit attention taken */
	POWER_ON,      /* a pair of its own, as it comes up */
};

struct scenario {
	const char *name;
	void (*fn)(struct side *s);
	enum variant v;
	enum pair_use use;
};

/* What main hands every test: the pair cache and the table's hit counts. */
struct world {
	struct pair *shared[V_COUNT];
	struct pair *own;    /* a scenario's own pair, freed even if it fails */
	unsigned int hits[N_KNOWN];
	unsigned int scenarios_run;
	bool verbose;
};

struct test_state {
	const struct scenario *sc;
	struct world *w;
};

/* ---- images and peers ---- */

static uint8_t
pattern_byte(uint64_t lba, size_t i)
{
	return (uint8_t)(lba * 37 + i * 11 + (i >> 7) + 0x5a);
}

static int
make_image(char *path, size_t len)
{
	uint8_t *buf;
	int fd, err = 0;

	if (peer_make_image(path, len, IMAGE_SIZE) < 0)
		return -1;
	buf = malloc(IMAGE_SIZE);
	if (!buf)
		return -1;
	for (uint64_t lba = 0; lba < IMAGE_BLOCKS; lba++)
		for (size_t i = 0; i < 512; i++)
			buf[lba * 512 + i] = pattern_byte(lba, i);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, buf, IMAGE_SIZE, 0) != (ssize_t)IMAGE_SIZE)
		err = -1;
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

static void
config_for(enum variant v, struct proxy_lsi_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	switch (v) {
	case V_SG512:
		cfg->sg_segment = 512;
		break;
	case V_SG1000:
		cfg->sg_segment = 1000;
		break;
	case V_SG4096:
		cfg->sg_segment = 4096;
		break;
	case V_IO:
		cfg->use_io_bar = true;
		break;
	case V_CHIPRAM:
		cfg->script_in_chip_ram = true;
		break;
	case V_IO_CHIPRAM:
		cfg->use_io_bar = true;
		cfg->script_in_chip_ram = true;
		break;
	case V_SHORT:
		cfg->timeout_ms = 1000;
		break;
	case V_MMIO:
	case V_RO:
	case V_COUNT:
		break;
	}
}

static void
stop_side(struct side *s)
{
	char err[4096];
	int status = 0;

	proxy_lsi_close(s->hba);
	s->hba = NULL;
	if (s->dev)
		proxy_detach(s->dev);
	s->dev = NULL;
	if (s->peer.pid > 0) {
		if (peer_stop(&s->peer, 3000, &status) < 0)
			fprintf(stderr, "%s: killed after a timeout\n", s->name);
		peer_stderr(&s->peer, err, sizeof(err));
		if (err[0] || !WIFEXITED(status) || WEXITSTATUS(status))
			fprintf(stderr, "%s: wait status 0x%x, stderr: %s\n",
			    s->name, status, err);
		if (s->peer.err_fd >= 0)
			close(s->peer.err_fd);
		s->peer.err_fd = -1;
	}
	if (s->image[0])
		unlink(s->image);
	s->image[0] = '\0';
}

static void
pair_free(struct pair *p)
{
	if (!p)
		return;
	stop_side(&p->side[0]);
	stop_side(&p->side[1]);
	free(p);
}

static struct pair *
pair_new(enum variant v)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct proxy_lsi_config cfg;
	bool ro = v == V_RO;

	if (!p)
		return NULL;
	p->v = v;
	config_for(v, &cfg);
	p->side[0].name = "qemu-remote";
	p->side[0].is_qemu = true;
	p->side[1].name = "mpjail-lsi";
	for (int i = 0; i < 2; i++) {
		struct side *s = &p->side[i];
		int err;

		s->peer.pid = -1;
		s->peer.err_fd = -1;
		if (make_image(s->image, sizeof(s->image)) < 0)
			goto fail;
		err = s->is_qemu ?
		    peer_start_qemu_remote_disk(&s->peer, s->image, ro) :
		    jail_start_mpjail_lsi(&s->peer, s->image, ro);
		if (err < 0) {
			fprintf(stderr, "%s: start: %s\n", s->name,
			    strerror(-err));
			goto fail;
		}
		err = proxy_attach(&s->dev, s->peer.sock,
		    v == V_SHORT ? 1000 : 10000);
		if (!err)
			err = proxy_lsi_open(&s->hba, s->dev, &cfg);
		if (err < 0) {
			fprintf(stderr, "%s: open: %s\n", s->name,
			    strerror(-err));
			goto fail;
		}
	}
	return p;
fail:
	pair_free(p);
	return NULL;
}

/* ---- recording ---- */

/* A filler the device never sends, so untouched bytes are visible. */
#define FILL 0xee

/*
 * After a time-out the remote may have stopped serving its socket at all
 * (the proxy library then fails every call with -EPIPE): the side is
 * dead and its later steps are not recorded.
 */
static void
check_alive(struct side *s, int err)
{
	uint32_t v;

	if ((err == -ETIMEDOUT || err == -EPIPE) &&
	    proxy_lsi_reg_read(s->hba, REG_ISTAT, 1, &v) == -EPIPE)
		s->dead = true;
}

static uint64_t
fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static struct step *
new_step(struct side *s, const char *label)
{
	struct step *st;

	if (s->dead)
		return &s->scratch;
	if (s->rec.n >= MAX_STEPS)
		fail_msg("%s: more than %d steps", s->scenario, MAX_STEPS);
	st = &s->rec.s[s->rec.n++];
	memset(st, 0, sizeof(*st));
	snprintf(st->label, sizeof(st->label), "%s", label);
	for (unsigned int i = 0; i + 1 < s->rec.n; i++)
		if (!strcmp(s->rec.s[i].label, st->label))
			fail_msg("%s: step label %s used twice", s->scenario,
			    label);
	return st;
}

static void
record_cmd(struct step *st, int err, const struct proxy_lsi_cmd *c,
    const uint8_t *data, size_t len)
{
	st->err = err;
	st->status = c->status;
	st->msgin = c->msgin;
	st->resid = c->resid;
	st->overrun = c->overrun;
	st->disconnects = c->disconnects;
	st->ntrace = c->ntrace;
	memcpy(st->trace, c->trace, sizeof(st->trace));
	st->data_len = len;
	if (data && len) {
		st->data_hash = fnv1a(data, len);
		memcpy(st->head, data, len < HEAD ? len : HEAD);
	}
}


static void
fill_out(uint8_t *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 101 + i * 7 + (i >> 9) * 3);
}

struct xcmd {
	uint8_t target, lun;
	int tag;
	uint8_t cdb[16];
	uint8_t cdb_len;
	enum proxy_lsi_dir dir;
	size_t len;          /* data buffer bytes */
	unsigned int seed;   /* data-out pattern */
	const uint8_t *out;  /* or these len bytes */
	bool no_autosense;
};

/*
 * Run one command on one side and record it; a CHECK CONDITION is
 * followed by REQUEST SENSE (18 bytes, same target and LUN), recorded as
 * "<label>/sense".
 */
static int
run_cmd(struct side *s, const char *label, const struct xcmd *x)
{
	struct proxy_lsi_cmd c = { .target = x->target, .lun = x->lun,
	    .tag = x->tag, .cdb_len = x->cdb_len, .dir = x->dir,
	    .data_len = x->len };
	uint8_t *buf = NULL;
	struct step *st;
	int err;

	memcpy(c.cdb, x->cdb, sizeof(c.cdb));
	if (x->len) {
		buf = malloc(x->len);
		assert_non_null(buf);
		if (x->dir == PROXY_LSI_OUT && x->out)
			memcpy(buf, x->out, x->len);
		else if (x->dir == PROXY_LSI_OUT)
			fill_out(buf, x->len, x->seed);
		else
			memset(buf, FILL, x->len);
		c.data = buf;
	}
	err = proxy_lsi_exec(s->hba, &c);
	st = new_step(s, label);
	record_cmd(st, err, &c, x->dir == PROXY_LSI_IN ? buf : NULL,
	    x->dir == PROXY_LSI_IN ? x->len : 0);
	free(buf);
	check_alive(s, err);
	if (!err && c.status == 0x02 && !x->no_autosense) {
		char l2[64];
		struct xcmd rs = { .target = x->target, .lun = x->lun,
		    .tag = -1, .cdb = { 0x03, 0, 0, 0, 18, 0 }, .cdb_len = 6,
		    .dir = PROXY_LSI_IN, .len = 18, .no_autosense = true };

		snprintf(l2, sizeof(l2), "%s/sense", label);
		(void)run_cmd(s, l2, &rs);
	}
	return err;
}

/* ---- CDB builders ---- */

static struct xcmd
c6(uint8_t op, uint8_t b1, uint8_t b2, uint8_t b3, uint8_t b4,
    enum proxy_lsi_dir dir, size_t len)
{
	struct xcmd x = { .tag = -1, .cdb = { op, b1, b2, b3, b4, 0 },
	    .cdb_len = 6, .dir = dir, .len = len };

	return x;
}

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* READ/WRITE 6/10/12/16 and friends: op's group picks the layout. */
static struct xcmd
rw(uint8_t op, uint64_t lba, uint32_t blocks, size_t len)
{
	struct xcmd x = { .tag = -1 };
	bool out = op == 0x0a || op == 0x2a || op == 0xaa || op == 0x8a ||
	    op == 0x2e || op == 0xae || op == 0x8e;

	x.cdb[0] = op;
	switch (op >> 5) {
	case 0:
		x.cdb_len = 6;
		x.cdb[1] = (uint8_t)(lba >> 16 & 0x1f);
		x.cdb[2] = (uint8_t)(lba >> 8);
		x.cdb[3] = (uint8_t)lba;
		x.cdb[4] = (uint8_t)blocks; /* 0 means 256 */
		break;
	case 1:
	case 2:
		x.cdb_len = 10;
		put_be(x.cdb + 2, lba, 4);
		put_be(x.cdb + 7, blocks, 2);
		break;
	case 5:
		x.cdb_len = 12;
		put_be(x.cdb + 2, lba, 4);
		put_be(x.cdb + 6, blocks, 4);
		break;
	default:
		x.cdb_len = 16;
		put_be(x.cdb + 2, lba, 8);
		put_be(x.cdb + 10, blocks, 4);
		break;
	}
	x.dir = len ? (out ? PROXY_LSI_OUT : PROXY_LSI_IN) : PROXY_LSI_NONE;
	x.len = len;
	x.seed = (unsigned int)(lba + blocks);
	return x;
}

static void
cmd(struct side *s, const char *label, struct xcmd x)
{
	(void)run_cmd(s, label, &x);
}

static void
tur(struct side *s, const char *label)
{
	cmd(s, label, c6(0x00, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
}

/* Take the power-on unit attention, unrecorded; both must reach GOOD. */
static void
settle(struct side *s)
{
	for (int i = 0; i < 4; i++) {
		struct proxy_lsi_cmd c = { .tag = -1, .cdb_len = 6 };
		uint8_t sense[18];
		struct proxy_lsi_cmd rs = { .tag = -1, .cdb = { 0x03, 0, 0, 0,
		    18 }, .cdb_len = 6, .data = sense, .data_len = 18,
		    .dir = PROXY_LSI_IN };

		if (proxy_lsi_exec(s->hba, &c) == 0 && c.status == 0)
			return;
		(void)proxy_lsi_exec(s->hba, &rs);
	}
	fail_msg("%s: TEST UNIT READY never returned GOOD", s->name);
}

/* ---- our own SCRIPTS ---- */

static void
load_words(struct side *s, uint32_t at, const uint32_t *w, size_t n)
{
	uint8_t *ram = proxy_lsi_ram(s->hba, NULL);

	memcpy(ram + at, w, n * 4);
}

static void
load_bytes(struct side *s, uint32_t at, const void *b, size_t n)
{
	uint8_t *ram = proxy_lsi_ram(s->hba, NULL);

	memcpy(ram + at, b, n);
}

/* Where the SCRIPTS processor stopped, relative to S_SCRIPT, and DBC. */
static void
where(struct side *s, struct step *st)
{
	uint32_t dsp = 0, dbc = 0;

	st->has_where = true;
	if (proxy_lsi_reg_read(s->hba, REG_DSP, 4, &dsp) ||
	    proxy_lsi_reg_read(s->hba, REG_DBC, 4, &dbc))
		st->has_where = false;
	st->dsp = dsp;
	st->dbc = dbc & 0xffffff;
}

/*
 * Run a program at S_SCRIPT until its first interrupt; record the
 * registers read, plus what landed in the status and message-in bytes.
 */
static int
run_script_data(struct side *s, const char *label, const uint32_t *w,
    size_t n, uint32_t data_at, size_t data_len)
{
	struct proxy_lsi_cmd c = { .tag = -1 };
	uint8_t *ram = proxy_lsi_ram(s->hba, NULL);
	struct step *st;
	int err;

	ram[S_STATUS] = 0xff;
	ram[S_MSGIN] = 0xff;
	if (data_len)
		memset(ram + data_at, FILL, data_len);
	load_words(s, S_SCRIPT, w, n);
	c.status = 0xff;
	c.msgin = 0xff;
	err = proxy_lsi_run(s->hba, S_SCRIPT, &c);
	c.status = ram[S_STATUS];
	c.msgin = ram[S_MSGIN];
	st = new_step(s, label);
	record_cmd(st, err, &c, data_len ? ram + data_at : NULL, data_len);
	where(s, st);
	check_alive(s, err);
	return err;
}

static int
run_script(struct side *s, const char *label, const uint32_t *w, size_t n)
{
	return run_script_data(s, label, w, n, 0, 0);
}

/* Service a further interrupt that may be stacked, recorded. */
static void
drain(struct side *s, const char *label)
{
	struct proxy_lsi_cmd c = { .tag = -1 };
	uint32_t istat = 0;
	struct step *st;
	int err;

	err = proxy_lsi_reg_read(s->hba, REG_ISTAT, 1, &istat);
	c.trace[0].reg = REG_ISTAT;
	c.trace[0].width = 1;
	c.trace[0].val = istat;
	c.ntrace = 1;
	st = new_step(s, label);
	record_cmd(st, err, &c, NULL, 0);
}

static void
chip_reset(struct side *s, const char *label)
{
	struct step *st = new_step(s, label);

	st->err = proxy_lsi_chip_reset(s->hba);
	check_alive(s, st->err);
}

/* DEVICE_RESET, as QEMU sends at machine reset; then interrupts again. */
static void
device_reset(struct side *s)
{
	struct step *st = new_step(s, "device-reset");

	st->err = proxy_device_reset(s->dev);
	check_alive(s, st->err);
	chip_reset(s, "chip-reset-reenable");
}

/* ---- scenarios: normal commands ---- */

/* An UNMAP parameter list: one descriptor, 8 blocks at LBA 5700. */
static const uint8_t unmap_list[24] = { 0, 22, 0, 16, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0x16, 0x44, 0, 0, 0, 8, 0, 0, 0, 0 };

static void
sc_inquiry_std(struct side *s)
{
	cmd(s, "inquiry36", c6(0x12, 0, 0, 0, 36, PROXY_LSI_IN, 36));
	cmd(s, "inquiry96", c6(0x12, 0, 0, 0, 96, PROXY_LSI_IN, 96));
	cmd(s, "inquiry5", c6(0x12, 0, 0, 0, 5, PROXY_LSI_IN, 5));
	cmd(s, "inquiry255", c6(0x12, 0, 0, 0, 255, PROXY_LSI_IN, 255));
}

static void
vpd(struct side *s, uint8_t page)
{
	char l[32];

	snprintf(l, sizeof(l), "vpd%02x", page);
	cmd(s, l, c6(0x12, 1, page, 0, 252, PROXY_LSI_IN, 252));
	snprintf(l, sizeof(l), "vpd%02x-short", page);
	cmd(s, l, c6(0x12, 1, page, 0, 4, PROXY_LSI_IN, 4));
}

static void
sc_vpd_00(struct side *s)
{
	vpd(s, 0x00);
}

static void
sc_vpd_80(struct side *s)
{
	vpd(s, 0x80);
}

static void
sc_vpd_83(struct side *s)
{
	vpd(s, 0x83);
}

static void
sc_vpd_b0(struct side *s)
{
	vpd(s, 0xb0);
}

static void
sc_vpd_b1(struct side *s)
{
	vpd(s, 0xb1);
}

static void
sc_vpd_b2(struct side *s)
{
	vpd(s, 0xb2);
}

static void
sc_inquiry_invalid(struct side *s)
{
	vpd(s, 0x99);
	/* a page code without EVPD, and CMDDT */
	cmd(s, "page-no-evpd", c6(0x12, 0, 0x80, 0, 36, PROXY_LSI_IN, 36));
	cmd(s, "cmddt", c6(0x12, 2, 0, 0, 36, PROXY_LSI_IN, 36));
}

static void
sc_read_capacity(struct side *s)
{
	struct xcmd rc10 = { .tag = -1, .cdb = { 0x25 }, .cdb_len = 10,
	    .dir = PROXY_LSI_IN, .len = 8 };
	struct xcmd rc16 = { .tag = -1, .cdb = { 0x9e, 0x10, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 32 }, .cdb_len = 16, .dir = PROXY_LSI_IN,
	    .len = 32 };

	cmd(s, "rc10", rc10);
	cmd(s, "rc16", rc16);
	/* PMI with an LBA, and an LBA without PMI (invalid field) */
	rc10.cdb[8] = 1;
	put_be(rc10.cdb + 2, 100, 4);
	cmd(s, "rc10-pmi", rc10);
	rc10.cdb[8] = 0;
	cmd(s, "rc10-lba-no-pmi", rc10);
	rc16.cdb[13] = 12;
	rc16.len = 12;
	cmd(s, "rc16-alloc12", rc16);
	rc16.cdb[1] = 0x11; /* an unknown service action */
	cmd(s, "sai-unknown", rc16);
}

static struct xcmd
ms6(uint8_t dbd, uint8_t pc, uint8_t page, uint8_t alloc)
{
	return c6(0x1a, dbd ? 0x08 : 0, (uint8_t)(pc << 6 | page), 0, alloc,
	    PROXY_LSI_IN, alloc);
}

static struct xcmd
ms10(uint8_t dbd, uint8_t pc, uint8_t page, uint16_t alloc)
{
	struct xcmd x = { .tag = -1, .cdb = { 0x5a, dbd ? 0x08 : 0,
	    (uint8_t)(pc << 6 | page), 0, 0, 0, 0, (uint8_t)(alloc >> 8),
	    (uint8_t)alloc }, .cdb_len = 10, .dir = PROXY_LSI_IN,
	    .len = alloc };

	return x;
}

static void
sc_mode_sense6_pages(struct side *s)
{
	static const uint8_t pages[] = { 0x01, 0x04, 0x05, 0x08, 0x3f };
	char l[32];

	for (size_t i = 0; i < sizeof(pages); i++) {
		snprintf(l, sizeof(l), "ms6-p%02x", pages[i]);
		cmd(s, l, ms6(0, 0, pages[i], 255));
		snprintf(l, sizeof(l), "ms6-dbd-p%02x", pages[i]);
		cmd(s, l, ms6(1, 0, pages[i], 255));
	}
}

static void
sc_mode_sense6_pcs(struct side *s)
{
	char l[32];

	for (uint8_t pc = 0; pc < 4; pc++) {
		snprintf(l, sizeof(l), "ms6-pc%u-p3f", pc);
		cmd(s, l, ms6(0, pc, 0x3f, 255));
		snprintf(l, sizeof(l), "ms6-pc%u-p08", pc);
		cmd(s, l, ms6(1, pc, 0x08, 64));
	}
}

static void
sc_mode_sense10(struct side *s)
{
	static const uint8_t pages[] = { 0x01, 0x04, 0x05, 0x08, 0x3f };
	char l[32];

	for (size_t i = 0; i < sizeof(pages); i++) {
		snprintf(l, sizeof(l), "ms10-p%02x", pages[i]);
		cmd(s, l, ms10(0, 0, pages[i], 512));
	}
	cmd(s, "ms10-dbd-pc1", ms10(1, 1, 0x3f, 512));
	cmd(s, "ms10-pc2-p08", ms10(0, 2, 0x08, 512));
	cmd(s, "ms10-pc3", ms10(0, 3, 0x08, 512));
	/* LLBAA */
	{
		struct xcmd x = ms10(0, 0, 0x3f, 512);

		x.cdb[1] |= 0x10;
		cmd(s, "ms10-llbaa", x);
	}
}

static void
sc_mode_sense_errors(struct side *s)
{
	cmd(s, "ms6-p0a", ms6(0, 0, 0x0a, 255));
	cmd(s, "ms6-p1c", ms6(0, 0, 0x1c, 255));
	cmd(s, "ms6-p00", ms6(0, 0, 0x00, 255));
	cmd(s, "ms6-alloc4", ms6(0, 0, 0x3f, 4));
	cmd(s, "ms6-alloc0", ms6(0, 0, 0x3f, 0));
	{
		struct xcmd x = ms6(0, 0, 0x08, 255);

		x.cdb[3] = 1; /* subpage */
		cmd(s, "ms6-subpage", x);
	}
}

static void
sc_tur_request_sense(struct side *s)
{
	tur(s, "tur");
	cmd(s, "rs18", c6(0x03, 0, 0, 0, 18, PROXY_LSI_IN, 18));
	cmd(s, "rs252", c6(0x03, 0, 0, 0, 252, PROXY_LSI_IN, 252));
	cmd(s, "rs4", c6(0x03, 0, 0, 0, 4, PROXY_LSI_IN, 4));
	cmd(s, "rs0", c6(0x03, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
	cmd(s, "rs-desc", c6(0x03, 1, 0, 0, 18, PROXY_LSI_IN, 18));
	/* an error, then its sense twice: the second is NO SENSE again? */
	cmd(s, "bad-op", c6(0x02, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
	cmd(s, "rs-again", c6(0x03, 0, 0, 0, 18, PROXY_LSI_IN, 18));
	cmd(s, "bad-op2", c6(0x02, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
	cmd(s, "rs-desc-after-err", c6(0x03, 1, 0, 0, 252, PROXY_LSI_IN,
	    252));
}

static void
sc_report_luns(struct side *s)
{
	struct xcmd x = { .tag = -1, .cdb = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 0,
	    16 }, .cdb_len = 12, .dir = PROXY_LSI_IN, .len = 16 };

	cmd(s, "rl16", x);
	x.cdb[9] = 255;
	x.len = 255;
	cmd(s, "rl255", x);
	x.cdb[9] = 8;
	x.len = 8;
	cmd(s, "rl8", x);
	x.cdb[9] = 4;
	x.len = 4;
	cmd(s, "rl4-too-small", x);
	x.cdb[2] = 0x02; /* SELECT REPORT 2 */
	x.cdb[9] = 16;
	x.len = 16;
	cmd(s, "rl-select2", x);
	x.cdb[2] = 0x07;
	cmd(s, "rl-select7", x);
}

static void
sc_start_stop_prevent(struct side *s)
{
	cmd(s, "stop", c6(0x1b, 0, 0, 0, 0x00, PROXY_LSI_NONE, 0));
	tur(s, "tur-after-stop");
	cmd(s, "start", c6(0x1b, 0, 0, 0, 0x01, PROXY_LSI_NONE, 0));
	cmd(s, "start-immed", c6(0x1b, 1, 0, 0, 0x01, PROXY_LSI_NONE, 0));
	cmd(s, "eject", c6(0x1b, 0, 0, 0, 0x02, PROXY_LSI_NONE, 0));
	tur(s, "tur-after-eject");
	cmd(s, "load", c6(0x1b, 0, 0, 0, 0x03, PROXY_LSI_NONE, 0));
	cmd(s, "prevent", c6(0x1e, 0, 0, 0, 0x01, PROXY_LSI_NONE, 0));
	cmd(s, "allow", c6(0x1e, 0, 0, 0, 0x00, PROXY_LSI_NONE, 0));
	tur(s, "tur");
}

/* Write, read back, and read the neighbours. */
static void
write_read(struct side *s, uint8_t wop, uint8_t rop, uint64_t lba,
    uint32_t blocks)
{
	uint32_t n = blocks ? blocks : 256; /* 6-byte CDBs: 0 means 256 */
	char l[32];

	snprintf(l, sizeof(l), "w%02x-%" PRIu64 "+%u", wop, lba, n);
	cmd(s, l, rw(wop, lba, blocks, (size_t)n * 512));
	snprintf(l, sizeof(l), "r%02x-%" PRIu64 "+%u", rop, lba, n);
	cmd(s, l, rw(rop, lba, blocks, (size_t)n * 512));
	snprintf(l, sizeof(l), "r28-around-%" PRIu64, lba);
	cmd(s, l, rw(0x28, lba ? lba - 1 : 0, n + 2, (size_t)(n + 2) * 512));
}

static void
sc_rw6(struct side *s)
{
	write_read(s, 0x0a, 0x08, 10, 1);
	write_read(s, 0x0a, 0x08, 300, 255);
	write_read(s, 0x0a, 0x08, 700, 0);   /* 256 blocks */
	cmd(s, "r6-0", rw(0x08, 5000, 0, 256 * 512));
}

static void
sc_rw10(struct side *s)
{
	write_read(s, 0x2a, 0x28, 1200, 1);
	write_read(s, 0x2a, 0x28, 1300, 37);
	write_read(s, 0x2a, 0x28, 2000, 256);
	cmd(s, "r10-len0", rw(0x28, 100, 0, 0));
	cmd(s, "w10-len0", rw(0x2a, 100, 0, 0));
}

static void
sc_rw12(struct side *s)
{
	write_read(s, 0xaa, 0xa8, 3000, 1);
	write_read(s, 0xaa, 0xa8, 3100, 129);
}

static void
sc_rw16(struct side *s)
{
	write_read(s, 0x8a, 0x88, 4000, 1);
	write_read(s, 0x8a, 0x88, 4100, 1000);
	write_read(s, 0x8a, 0x88, LAST_LBA, 1);
}

static void
sc_rw_large(struct side *s)
{
	/* 4 MiB: 64 segments of 64 KiB */
	cmd(s, "w10-8192", rw(0x2a, 6000, 8192, 8192 * 512));
	cmd(s, "r10-8192", rw(0x28, 6000, 8192, 8192 * 512));
}

static void
sc_rw_fua_dpo(struct side *s)
{
	struct xcmd w = rw(0x2a, 5100, 3, 3 * 512);
	struct xcmd r = rw(0x28, 5100, 3, 3 * 512);

	w.cdb[1] = 0x08; /* FUA */
	r.cdb[1] = 0x18; /* DPO FUA */
	cmd(s, "w10-fua", w);
	cmd(s, "r10-dpo-fua", r);
	w.cdb[1] = 0x20; /* WRPROTECT 1: no protection info */
	cmd(s, "w10-wrprotect", w);
	r.cdb[1] = 0x20;
	cmd(s, "r10-rdprotect", r);
	w = rw(0x2e, 5110, 2, 2 * 512); /* WRITE AND VERIFY(10) */
	cmd(s, "wv10", w);
	cmd(s, "r10-after-wv", rw(0x28, 5110, 2, 2 * 512));
}

static void
sc_sync_cache(struct side *s)
{
	struct xcmd sc10 = { .tag = -1, .cdb = { 0x35 }, .cdb_len = 10 };
	struct xcmd sc16 = { .tag = -1, .cdb = { 0x91 }, .cdb_len = 16 };

	cmd(s, "w10", rw(0x2a, 5200, 8, 8 * 512));
	cmd(s, "sync10", sc10);
	sc10.cdb[1] = 0x02; /* IMMED */
	put_be(sc10.cdb + 2, 5200, 4);
	put_be(sc10.cdb + 7, 8, 2);
	cmd(s, "sync10-immed-range", sc10);
	cmd(s, "sync16", sc16);
}

static void
sc_verify(struct side *s)
{
	struct xcmd v10 = rw(0x2f, 100, 8, 0);
	struct xcmd v16 = rw(0x8f, 100, 8, 0);
	struct xcmd v12 = rw(0xaf, 100, 8, 0);

	cmd(s, "verify10", v10);
	cmd(s, "verify12", v12);
	cmd(s, "verify16", v16);
	v10.cdb[1] = 0x02; /* BYTCHK */
	v10.dir = PROXY_LSI_OUT;
	v10.len = 8 * 512;
	cmd(s, "verify10-bytchk", v10);
	cmd(s, "verify10-oor", rw(0x2f, IMAGE_BLOCKS + 10, 8, 0));
}

static void
sc_write_same(struct side *s)
{
	struct xcmd ws10 = rw(0x41, 5300, 16, 512);
	struct xcmd ws16 = rw(0x93, 5400, 16, 512);

	ws10.dir = ws16.dir = PROXY_LSI_OUT;
	cmd(s, "ws10-pattern", ws10);
	cmd(s, "r-ws10", rw(0x28, 5299, 18, 18 * 512));
	cmd(s, "ws16-pattern", ws16);
	cmd(s, "r-ws16", rw(0x28, 5399, 18, 18 * 512));
	ws10.cdb[7] = ws10.cdb[8] = 0;
	cmd(s, "ws10-0-blocks", ws10);
	ws10 = rw(0x41, IMAGE_BLOCKS - 4, 8, 512);
	ws10.dir = PROXY_LSI_OUT;
	cmd(s, "ws10-oor", ws10);
	ws10 = rw(0x41, 5500, 4, 512);
	ws10.dir = PROXY_LSI_OUT;
	ws10.cdb[1] = 0x01; /* obsolete bit 0 */
	cmd(s, "ws10-bit0", ws10);
	cmd(s, "r-ws10-bit0", rw(0x28, 5500, 4, 4 * 512));
}

/* A block of zeroes, plain and with the UNMAP bit: zeroes either way. */
static void
sc_write_same_zero(struct side *s)
{
	static const uint8_t zero[512];
	struct xcmd ws = { .tag = -1, .cdb = { 0x93 }, .cdb_len = 16,
	    .dir = PROXY_LSI_OUT, .len = 512, .out = zero };

	put_be(ws.cdb + 2, 5600, 8);
	put_be(ws.cdb + 10, 32, 4);
	cmd(s, "ws16-zero", ws);
	cmd(s, "r-ws16-zero", rw(0x28, 5600, 32, 32 * 512));
	ws.cdb[1] = 0x08; /* UNMAP */
	put_be(ws.cdb + 2, 5640, 8);
	cmd(s, "ws16-zero-unmap", ws);
	cmd(s, "r-ws16-zero-unmap", rw(0x28, 5640, 32, 32 * 512));
}

/*
 * UNMAP on a pair of its own: QEMU's default discard=ignore makes it a
 * no-op while mpjail-lsi punches the hole (SCSI_DISK.md; LBPRZ is 0, so
 * both are right). Status, sense and interrupts are compared, the data
 * afterwards is not read; the image difference is a listed one.
 */
static void
sc_unmap(struct side *s)
{
	const uint8_t *list = unmap_list;
	static const uint8_t bad[24] = { 0, 22, 0, 16, 0, 0, 0, 0,
	    0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0, 0, 0, 8, 0, 0, 0, 0 };
	struct xcmd u = { .tag = -1, .cdb = { 0x42, 0, 0, 0, 0, 0, 0, 0, 24 },
	    .cdb_len = 10, .dir = PROXY_LSI_OUT, .len = 24, .out = list };

	cmd(s, "unmap-8-at-5700", u);
	u.out = bad;
	cmd(s, "unmap-out-of-range", u);
	u.cdb[8] = 4;
	u.len = 4;
	u.out = list;
	cmd(s, "unmap-short-header", u);
	u.cdb[8] = 0;
	u.len = 0;
	u.dir = PROXY_LSI_NONE;
	cmd(s, "unmap-empty", u);
}

/* MODE SELECT: only WCE of the caching page may change. */
static void
sc_mode_select(struct side *s)
{
	/* header(4), caching page 08 (20 bytes), WCE cleared */
	static const uint8_t wce_off[24] = { 0, 0, 0, 0, 0x08, 18, 0x00 };
	static const uint8_t wce_on[24] = { 0, 0, 0, 0, 0x08, 18, 0x04 };
	static const uint8_t rcd_on[24] = { 0, 0, 0, 0, 0x08, 18, 0x05 };
	/* header(8) for MODE SELECT(10) + the caching page */
	static const uint8_t wce_off10[28] = { 0, 0, 0, 0, 0, 0, 0, 0, 0x08,
	    18, 0x00 };
	struct xcmd x = c6(0x15, 0x10, 0, 0, 24, PROXY_LSI_OUT, 24);

	x.out = wce_off;
	cmd(s, "ms6-before", ms6(1, 0, 0x08, 64));
	cmd(s, "msel6-wce-off", x);
	cmd(s, "ms6-after-off", ms6(1, 0, 0x08, 64));
	cmd(s, "w10-wce-off", rw(0x2a, 5800, 2, 1024));
	x.out = rcd_on;
	cmd(s, "msel6-rcd", x);
	x.out = wce_on;
	x.cdb[1] = 0x11; /* SP */
	cmd(s, "msel6-sp", x);
	x.cdb[1] = 0x00; /* PF 0 */
	cmd(s, "msel6-pf0", x);
	x.cdb[1] = 0x10;
	cmd(s, "msel6-wce-on", x);
	cmd(s, "ms6-after-on", ms6(1, 0, 0x08, 64));
	{
		struct xcmd y = { .tag = -1, .cdb = { 0x55, 0x10, 0, 0, 0, 0,
		    0, 0, 28 }, .cdb_len = 10, .dir = PROXY_LSI_OUT,
		    .len = 28, .out = wce_off10 };

		cmd(s, "msel10-wce-off", y);
		cmd(s, "ms10-after", ms10(1, 0, 0x08, 64));
		y.out = NULL; /* a pattern: not a valid page */
		cmd(s, "msel10-garbage", y);
	}
	x.out = wce_on;
	cmd(s, "msel6-wce-on-again", x);
}

/* ---- scenarios: errors ---- */

static void
sc_invalid_opcode(struct side *s)
{
	struct xcmd g7 = { .tag = -1, .cdb = { 0xff }, .cdb_len = 12 };
	struct xcmd g3 = { .tag = -1, .cdb = { 0x7e }, .cdb_len = 10 };
	struct xcmd toc = { .tag = -1, .cdb = { 0x43, 0, 0, 0, 0, 0, 0, 0,
	    12 }, .cdb_len = 10, .dir = PROXY_LSI_IN, .len = 12 };

	cmd(s, "op02", c6(0x02, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
	cmd(s, "op-ff", g7);
	cmd(s, "op-7e", g3);
	cmd(s, "op-c0", c6(0x06, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
	cmd(s, "read-toc", toc);
	g3.cdb[0] = 0x46; /* GET CONFIGURATION: MMC only */
	cmd(s, "get-config", g3);
}

static void
sc_invalid_field(struct side *s)
{
	struct xcmd x = c6(0x12, 0, 0, 0, 36, PROXY_LSI_IN, 36);

	x.cdb[1] = 0x02; /* CMDDT */
	cmd(s, "inquiry-cmddt", x);
	cmd(s, "reserve-3rd", c6(0x16, 0x10, 0, 0, 0, PROXY_LSI_NONE, 0));
	cmd(s, "reserve", c6(0x16, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
	cmd(s, "release", c6(0x17, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
	cmd(s, "format-fmtdata0", c6(0x04, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
}

static void
sc_lba_range(struct side *s)
{
	cmd(s, "r10-last", rw(0x28, LAST_LBA, 1, 512));
	cmd(s, "r10-past", rw(0x28, IMAGE_BLOCKS, 1, 512));
	cmd(s, "r10-straddle", rw(0x28, LAST_LBA - 1, 4, 4 * 512));
	cmd(s, "w10-straddle", rw(0x2a, LAST_LBA, 2, 2 * 512));
	cmd(s, "r16-overflow", rw(0x88, UINT64_MAX, 1, 512));
	cmd(s, "r16-overflow2", rw(0x88, UINT64_MAX - 1, 4, 4 * 512));
	cmd(s, "r12-huge-lba", rw(0xa8, 0xffffffffu, 1, 512));
	cmd(s, "r6-past", rw(0x08, 0x1fffff, 1, 512));
	cmd(s, "seek10-past", rw(0x2b, IMAGE_BLOCKS, 0, 0));
	cmd(s, "seek10", rw(0x2b, 5, 0, 0));
}

static void
sc_lun_not_supported(struct side *s)
{
	struct xcmd x;

	x = c6(0x00, 0, 0, 0, 0, PROXY_LSI_NONE, 0);
	x.lun = 1;
	cmd(s, "tur-lun1", x);
	x = c6(0x12, 0, 0, 0, 36, PROXY_LSI_IN, 36);
	x.lun = 3;
	cmd(s, "inquiry-lun3", x);
	x.cdb[1] = 1;
	x.cdb[4] = 252;
	x.len = 252;
	cmd(s, "vpd00-lun3", x);
	x.cdb[2] = 0x83;
	cmd(s, "vpd83-lun3", x);
	x = c6(0x03, 0, 0, 0, 18, PROXY_LSI_IN, 18);
	x.lun = 2;
	cmd(s, "rs-lun2", x);
	x = rw(0x28, 0, 1, 512);
	x.lun = 7;
	cmd(s, "read-lun7", x);
	x = (struct xcmd){ .tag = -1, .lun = 1, .cdb = { 0xa0, 0, 0, 0, 0, 0,
	    0, 0, 0, 16 }, .cdb_len = 12, .dir = PROXY_LSI_IN, .len = 16 };
	cmd(s, "report-luns-lun1", x);
	tur(s, "tur-lun0");
}

static void
sc_write_protect(struct side *s)
{
	struct xcmd ws = rw(0x41, 10, 2, 512);
	struct xcmd sync = { .tag = -1, .cdb = { 0x35 }, .cdb_len = 10 };
	struct xcmd u = { .tag = -1, .cdb = { 0x42, 0, 0, 0, 0, 0, 0, 0, 24 },
	    .cdb_len = 10, .dir = PROXY_LSI_OUT, .len = 24,
	    .out = unmap_list };

	ws.dir = PROXY_LSI_OUT;
	cmd(s, "r10", rw(0x28, 10, 4, 4 * 512));
	cmd(s, "w10", rw(0x2a, 10, 4, 4 * 512));
	cmd(s, "w6", rw(0x0a, 10, 1, 512));
	cmd(s, "w16", rw(0x8a, 10, 1, 512));
	cmd(s, "wv10", rw(0x2e, 10, 1, 512));
	cmd(s, "w10-oor", rw(0x2a, IMAGE_BLOCKS, 1, 512));
	cmd(s, "ws10", ws);
	cmd(s, "sync10", sync);
	cmd(s, "unmap", u);
	cmd(s, "ms6-p3f", ms6(0, 0, 0x3f, 255)); /* WP bit in the header */
	cmd(s, "ms10-p08", ms10(0, 0, 0x08, 255));
	cmd(s, "r10-after", rw(0x28, 10, 4, 4 * 512));
}

/* Power-on unit attention: which commands it blocks, how it reports. */
static void
sc_ua_power_on_tur(struct side *s)
{
	tur(s, "tur1");
	tur(s, "tur2");
}

static void
sc_ua_power_on_rs_first(struct side *s)
{
	cmd(s, "rs1", c6(0x03, 0, 0, 0, 18, PROXY_LSI_IN, 18));
	cmd(s, "rs2", c6(0x03, 0, 0, 0, 18, PROXY_LSI_IN, 18));
	tur(s, "tur");
}

static void
sc_ua_power_on_passthrough(struct side *s)
{
	struct xcmd rl = { .tag = -1, .cdb = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 0,
	    16 }, .cdb_len = 12, .dir = PROXY_LSI_IN, .len = 16 };

	cmd(s, "inquiry", c6(0x12, 0, 0, 0, 36, PROXY_LSI_IN, 36));
	cmd(s, "report-luns", rl);
	cmd(s, "rc10-ua", (struct xcmd){ .tag = -1, .cdb = { 0x25 },
	    .cdb_len = 10, .dir = PROXY_LSI_IN, .len = 8, .no_autosense = true });
	cmd(s, "read-after-ua", rw(0x28, 0, 1, 512));
}

static void
sc_ua_power_on_lun1(struct side *s)
{
	struct xcmd x = c6(0x00, 0, 0, 0, 0, PROXY_LSI_NONE, 0);

	x.lun = 1;
	cmd(s, "tur-lun1", x);
	tur(s, "tur-lun0");
}

static void
sc_ua_power_on_bad_opcode(struct side *s)
{
	cmd(s, "op02", c6(0x02, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
	cmd(s, "op02-again", c6(0x02, 0, 0, 0, 0, PROXY_LSI_NONE, 0));
}

/* ---- scenarios: odd sizes ---- */

static void
sc_resid_inquiry(struct side *s)
{
	struct xcmd x = c6(0x12, 0, 0, 0, 36, PROXY_LSI_IN, 200);

	cmd(s, "inq36-buf200", x);
	x = c6(0x12, 0, 0, 0, 96, PROXY_LSI_IN, 10);
	cmd(s, "inq96-buf10", x);
	x = c6(0x12, 0, 0, 0, 96, PROXY_LSI_IN, 0);
	x.dir = PROXY_LSI_NONE;
	cmd(s, "inq96-buf0", x);
	x = c6(0x12, 1, 0x83, 0, 252, PROXY_LSI_IN, 4096);
	cmd(s, "vpd83-buf4096", x);
}

static void
sc_resid_read(struct side *s)
{
	struct xcmd x = rw(0x28, 7000, 2, 3 * 512);

	cmd(s, "r2-buf3", x);
	x = rw(0x28, 7000, 8, 4096 - 100);
	cmd(s, "r8-buf3996", x);
	x = rw(0x28, 7000, 1, 513);
	cmd(s, "r1-buf513", x);
	x = rw(0x28, 7000, 1, 511);
	cmd(s, "r1-buf511", x);
	x = rw(0x28, 7000, 300, 200 * 512 + 77);
	cmd(s, "r300-buf200.x", x);
}

static void
sc_resid_write(struct side *s)
{
	struct xcmd x = rw(0x2a, 7100, 2, 512);

	cmd(s, "w2-buf1", x);
	x = rw(0x2a, 7110, 1, 2 * 512);
	cmd(s, "w1-buf2", x);
	x = rw(0x2a, 7120, 4, 4 * 512 - 1);
	cmd(s, "w4-buf-1", x);
	cmd(s, "r-back", rw(0x28, 7100, 30, 30 * 512));
}

static void
sc_resid_emulated(struct side *s)
{
	cmd(s, "rs-alloc18-buf252", c6(0x03, 0, 0, 0, 18, PROXY_LSI_IN, 252));
	cmd(s, "rs-alloc252-buf8", c6(0x03, 0, 0, 0, 252, PROXY_LSI_IN, 8));
	cmd(s, "ms6-alloc255-buf16", c6(0x1a, 0, 0x3f, 0, 255, PROXY_LSI_IN,
	    16));
	cmd(s, "ms6-alloc8-buf255", c6(0x1a, 0, 0x3f, 0, 8, PROXY_LSI_IN,
	    255));
	cmd(s, "tur-buf512", c6(0x00, 0, 0, 0, 0, PROXY_LSI_IN, 512));
}

/* ---- scenarios: scatter/gather ---- */

static void
sc_sg(struct side *s)
{
	write_read(s, 0x2a, 0x28, 7200, 1);
	write_read(s, 0x2a, 0x28, 7300, 37);
	write_read(s, 0x2a, 0x28, 7400, 100);
	cmd(s, "inq-odd", c6(0x12, 0, 0, 0, 255, PROXY_LSI_IN, 255));
	cmd(s, "r-short", rw(0x28, 7300, 3, 5 * 512 + 3));
}

/* ---- scenarios: targets, tags ---- */

static void
sc_bad_target(struct side *s)
{
	struct xcmd x = c6(0x00, 0, 0, 0, 0, PROXY_LSI_NONE, 0);

	x.target = 3;
	cmd(s, "tur-t3", x);
	tur(s, "tur-t0-after");
	x.target = 15;
	cmd(s, "tur-t15", x);
	x = c6(0x12, 0, 0, 0, 36, PROXY_LSI_IN, 36);
	x.target = 1;
	cmd(s, "inq-t1", x);
	tur(s, "tur-t0");
}

static void
sc_tagged(struct side *s)
{
	struct xcmd x = rw(0x2a, 7500, 8, 8 * 512);

	x.tag = 5;
	cmd(s, "w-tag5", x);
	x = rw(0x28, 7500, 8, 8 * 512);
	x.tag = 0;
	cmd(s, "r-tag0", x);
	x = c6(0x12, 0, 0, 0, 36, PROXY_LSI_IN, 36);
	x.tag = 255;
	cmd(s, "inq-tag255", x);
	x = c6(0x00, 0, 0, 0, 0, PROXY_LSI_NONE, 0);
	x.tag = 17;
	cmd(s, "tur-tag17", x);
	x = c6(0x02, 0, 0, 0, 0, PROXY_LSI_NONE, 0);
	x.tag = 18;
	cmd(s, "bad-op-tag18", x);
	x = rw(0x28, IMAGE_BLOCKS, 1, 512);
	x.tag = 19;
	cmd(s, "oor-tag19", x);
}

/* ---- scenarios: resets and aborts ---- */

static void
sc_device_reset(struct side *s)
{
	tur(s, "tur-before");
	device_reset(s);
	tur(s, "tur1");
	tur(s, "tur2");
	cmd(s, "read", rw(0x28, 7, 2, 1024));
}

static void
sc_chip_reset(struct side *s)
{
	tur(s, "tur-before");
	chip_reset(s, "srst");
	tur(s, "tur1");
	tur(s, "tur2");
	cmd(s, "read", rw(0x28, 7, 2, 1024));
}

static void
sc_ua_after_reset_rs(struct side *s)
{
	device_reset(s);
	cmd(s, "inquiry", c6(0x12, 0, 0, 0, 36, PROXY_LSI_IN, 36));
	cmd(s, "rs1", c6(0x03, 0, 0, 0, 18, PROXY_LSI_IN, 18));
	tur(s, "tur");
}

/* SELECT with ATN, MESSAGE OUT [IDENTIFY, msg...], then bus free. */
static void
msgout_script(struct side *s, const char *label, const uint8_t *msg,
    uint32_t len)
{
	const uint32_t w[] = {
		I_SELECT_ATN(0), S_SCRIPT + 8 * 7,
		I_MOVE(PH_MSG_OUT, len), S_MSGOUT,
		I_WAIT_DISC, 0,
		I_INT, 0x1001,
		/* the target went on instead of going away: note its phase */
		0, 0, 0, 0, 0, 0,
		I_INT, 0x1002,
	};

	load_bytes(s, S_MSGOUT, msg, len);
	(void)run_script(s, label, w, sizeof(w) / sizeof(w[0]));
}

static void
sc_msg_abort(struct side *s)
{
	static const uint8_t m[] = { 0xc0, 0x06 };

	msgout_script(s, "abort", m, sizeof(m));
	tur(s, "tur-after");
	cmd(s, "read-after", rw(0x28, 9, 1, 512));
}

static void
sc_msg_bus_device_reset(struct side *s)
{
	static const uint8_t m[] = { 0xc0, 0x0c };

	msgout_script(s, "bdr", m, sizeof(m));
	tur(s, "tur1");
	tur(s, "tur2");
}

static void
sc_msg_abort_tag(struct side *s)
{
	static const uint8_t m[] = { 0xc0, 0x20, 0x07, 0x0d };

	msgout_script(s, "abort-tag", m, sizeof(m));
	tur(s, "tur-after");
}

static void
sc_msg_clear_queue(struct side *s)
{
	static const uint8_t m[] = { 0xc0, 0x0e };

	msgout_script(s, "clear-queue", m, sizeof(m));
	tur(s, "tur-after");
}

/*
 * Mid-command: READ(10) sent, then SET ATN and ABORT in MESSAGE OUT
 * instead of taking the data.
 */
static void
sc_abort_mid_command(struct side *s)
{
	static const uint8_t ident = 0x80; /* IDENTIFY, no disconnect */
	static const uint8_t abrt = 0x06;
	uint8_t cdb[10] = { 0x28, 0, 0, 0, 0, 10, 0, 0, 4, 0 };
	const uint32_t w[] = {
		I_SELECT_ATN(0), S_SCRIPT + 8 * 8,
		I_MOVE(PH_MSG_OUT, 1), S_MSGOUT,
		I_MOVE(PH_COMMAND, 10), S_CDB,
		I_SET_ATN, 0,
		I_MOVE(PH_MSG_OUT, 1), S_MSGOUT + 1,
		I_WAIT_DISC, 0,
		I_INT, 0x2001,
		I_INT, 0x2002,
		I_INT, 0x2003,
	};

	load_bytes(s, S_MSGOUT, &ident, 1);
	load_bytes(s, S_MSGOUT + 1, &abrt, 1);
	load_bytes(s, S_CDB, cdb, sizeof(cdb));
	(void)run_script(s, "set-atn-abort", w, sizeof(w) / sizeof(w[0]));
	drain(s, "istat-after");
	chip_reset(s, "srst");
	tur(s, "tur1");
	tur(s, "tur2");
	cmd(s, "read-after", rw(0x28, 10, 4, 4 * 512));
}

/*
 * Stop SCRIPTS right after the COMMAND phase of a READ(10), with the
 * target wanting to move data (or to disconnect), and reset there.
 */
static void
stop_after_command(struct side *s)
{
	static const uint8_t ident = 0xc0;
	uint8_t cdb[10] = { 0x28, 0, 0, 0, 0, 30, 0, 0, 4, 0 };
	const uint32_t w[] = {
		I_SELECT_ATN(0), S_SCRIPT + 8 * 4,
		I_MOVE(PH_MSG_OUT, 1), S_MSGOUT,
		I_MOVE(PH_COMMAND, 10), S_CDB,
		I_INT, 0x6001,
		I_INT, 0x6002,
	};

	load_bytes(s, S_MSGOUT, &ident, 1);
	load_bytes(s, S_CDB, cdb, sizeof(cdb));
	(void)run_script(s, "stop-after-command", w, sizeof(w) / sizeof(w[0]));
}

static void
sc_srst_mid_command(struct side *s)
{
	stop_after_command(s);
	chip_reset(s, "srst");
	tur(s, "tur1");
	tur(s, "tur2");
	cmd(s, "read-after", rw(0x28, 30, 4, 4 * 512));
}

static void
sc_device_reset_mid_command(struct side *s)
{
	stop_after_command(s);
	device_reset(s);
	tur(s, "tur1");
	tur(s, "tur2");
	cmd(s, "read-after", rw(0x28, 30, 4, 4 * 512));
}

/* ---- scenarios: DMA outside guest RAM ---- */

/*
 * SELECT, IDENTIFY (may disconnect), READ(10) of one block, DATA IN to
 * `to` (directly, or through a table entry at the DSA); a disconnect is
 * taken and the reselection followed, as the driver's own script does.
 */
static void
dma_read_to(struct side *s, const char *label, uint32_t to, bool table)
{
	uint8_t cdb[10] = { 0x28, 0, 0, 0, 0, 20, 0, 0, 1, 0 };
	static const uint8_t ident = 0xc0;
	uint8_t *ram = proxy_lsi_ram(s->hba, NULL);
	const uint32_t base = S_SCRIPT;
	const bool in_ram = to >= S_DATA && to < PROXY_LSI_FREE_RAM_OFFSET +
	    PROXY_LSI_FREE_RAM_SIZE;
	const uint32_t w[] = {
		/* 0 */ I_SELECT_ATN(0), base + 4 * 34,
		/* 2 */ I_MOVE(PH_MSG_OUT, 1), S_MSGOUT,
		/* 4 */ I_MOVE(PH_COMMAND, 10), S_CDB,
		/* 6 */ I_JUMP_IF(PH_MSG_IN), base + 4 * 20,
		/* 8 */ table ? I_MOVE_TI(PH_DATA_IN) : I_MOVE(PH_DATA_IN, 512),
		table ? 0 : to,
		/* 10 */ I_MOVE(PH_STATUS, 1), S_STATUS,
		/* 12 */ I_MOVE(PH_MSG_IN, 1), S_MSGIN,
		/* 14 */ I_CLEAR_ACK, 0,
		/* 16 */ I_WAIT_DISC, 0,
		/* 18 */ I_INT, 0x3001,
		/* 20: SAVE DATA POINTER, DISCONNECT */
		I_MOVE(PH_MSG_IN, 2), S_MSGIN2,
		/* 22 */ I_CLEAR_ACK, 0,
		/* 24 */ I_WAIT_DISC, 0,
		/* 26 */ I_WAIT_RESEL, base + 4 * 36,
		/* 28 */ I_MOVE(PH_MSG_IN, 1), S_IDENTIN,
		/* 30 */ I_CLEAR_ACK, 0,
		/* 32 */ I_JUMP, base + 4 * 8,
		/* 34 */ I_INT, 0x3002,
		/* 36 */ I_INT, 0x3003,
	};

	load_bytes(s, S_MSGOUT, &ident, 1);
	load_bytes(s, S_CDB, cdb, sizeof(cdb));
	memcpy(ram + S_TABLE, &(uint32_t){ 512 }, 4);
	memcpy(ram + S_TABLE + 4, &to, 4);
	assert_int_equal(proxy_lsi_reg_write(s->hba, REG_DSA, 4, S_TABLE), 0);
	(void)run_script_data(s, label, w, sizeof(w) / sizeof(w[0]),
	    in_ram ? to : 0, in_ram ? 512 : 0);
}

static void
after_hostile(struct side *s)
{
	chip_reset(s, "srst");
	tur(s, "tur1");
	tur(s, "tur2");
	cmd(s, "read-after", rw(0x28, 20, 1, 512));
}

/* The control: the same program into guest RAM works on both. */
static void
sc_dma_move_inside(struct side *s)
{
	dma_read_to(s, "move-to-ram", S_DATA, false);
	drain(s, "istat-after-move");
	dma_read_to(s, "table-entry-ram", S_DATA + 512, true);
	after_hostile(s);
}

static void
sc_dma_move_outside(struct side *s)
{
	dma_read_to(s, "move-to-1GiB", OUTSIDE_RAM, false);
	drain(s, "istat-after");
	after_hostile(s);
}

static void
sc_dma_move_straddle(struct side *s)
{
	size_t ram_size;

	(void)proxy_lsi_ram(s->hba, &ram_size);
	dma_read_to(s, "move-straddles-end", (uint32_t)ram_size - 256, false);
	drain(s, "istat-after");
	after_hostile(s);
}

static void
sc_dma_table_entry_outside(struct side *s)
{
	dma_read_to(s, "table-entry-1GiB", OUTSIDE_RAM, true);
	drain(s, "istat-after");
	after_hostile(s);
}

static void
sc_dma_table_outside(struct side *s)
{
	/* the DSA itself points past RAM: the table fetch is the fault */
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36, 0 };
	static const uint8_t ident = 0x80;
	const uint32_t w[] = {
		I_SELECT_ATN(0), S_SCRIPT + 8 * 5,
		I_MOVE(PH_MSG_OUT, 1), S_MSGOUT,
		I_MOVE(PH_COMMAND, 6), S_CDB,
		I_MOVE_TI(PH_DATA_IN), 0,
		I_INT, 0x4001,
		I_INT, 0x4002,
	};

	load_bytes(s, S_MSGOUT, &ident, 1);
	load_bytes(s, S_CDB, cdb, sizeof(cdb));
	assert_int_equal(proxy_lsi_reg_write(s->hba, REG_DSA, 4, OUTSIDE_RAM),
	    0);
	(void)run_script(s, "dsa-1GiB", w, sizeof(w) / sizeof(w[0]));
	drain(s, "istat-after");
	after_hostile(s);
}

static void
sc_dma_memmove_outside(struct side *s)
{
	const uint32_t w[] = {
		I_MEMMOVE(64), OUTSIDE_RAM, S_DATA,
		I_INT, 0x5001,
	};

	(void)run_script(s, "memmove-from-1GiB", w, sizeof(w) / sizeof(w[0]));
	drain(s, "istat-after");
	after_hostile(s);
}

static void
sc_dma_fetch_outside(struct side *s)
{
	struct proxy_lsi_cmd c = { .tag = -1 };
	struct step *st;
	int err;

	err = proxy_lsi_run(s->hba, OUTSIDE_RAM, &c);
	st = new_step(s, "dsp-1GiB");
	record_cmd(st, err, &c, NULL, 0);
	drain(s, "istat-after");
	after_hostile(s);
}

/* ---- the subsets run through other BARs and SCRIPTS placements ---- */

static void
sc_subset(struct side *s)
{
	struct xcmd rc10 = { .tag = -1, .cdb = { 0x25 }, .cdb_len = 10,
	    .dir = PROXY_LSI_IN, .len = 8 };
	struct xcmd x;

	cmd(s, "inquiry", c6(0x12, 0, 0, 0, 36, PROXY_LSI_IN, 36));
	cmd(s, "rc10", rc10);
	write_read(s, 0x2a, 0x28, 7600, 100);
	cmd(s, "ms6", ms6(0, 0, 0x3f, 255));
	cmd(s, "oor", rw(0x28, IMAGE_BLOCKS, 1, 512));
	cmd(s, "inq-overrun", c6(0x12, 0, 0, 0, 96, PROXY_LSI_IN, 10));
	cmd(s, "inq-resid", c6(0x12, 0, 0, 0, 36, PROXY_LSI_IN, 100));
	x = c6(0x00, 0, 0, 0, 0, PROXY_LSI_NONE, 0);
	x.target = 4;
	cmd(s, "bad-target", x);
	tur(s, "tur-after");
	x = rw(0x28, 7600, 4, 4 * 512);
	x.tag = 3;
	cmd(s, "tagged", x);
}

/* ---- the table of scenarios ---- */

#define SC(n, v, fr) { #n, sc_##n, v, fr }
#define SCV(n, f, v, fr) { n, f, v, fr }

static const struct scenario scenarios[] = {
	SC(inquiry_std, V_MMIO, SHARED),
	SC(vpd_00, V_MMIO, SHARED),
	SC(vpd_80, V_MMIO, SHARED),
	SC(vpd_83, V_MMIO, SHARED),
	SC(vpd_b0, V_MMIO, SHARED),
	SC(vpd_b1, V_MMIO, SHARED),
	SC(vpd_b2, V_MMIO, SHARED),
	SC(inquiry_invalid, V_MMIO, SHARED),
	SC(read_capacity, V_MMIO, SHARED),
	SC(mode_sense6_pages, V_MMIO, SHARED),
	SC(mode_sense6_pcs, V_MMIO, SHARED),
	SC(mode_sense10, V_MMIO, SHARED),
	SC(mode_sense_errors, V_MMIO, SHARED),
	SC(tur_request_sense, V_MMIO, SHARED),
	SC(report_luns, V_MMIO, SHARED),
	SC(start_stop_prevent, V_MMIO, SHARED),
	SC(rw6, V_MMIO, SHARED),
	SC(rw10, V_MMIO, SHARED),
	SC(rw12, V_MMIO, SHARED),
	SC(rw16, V_MMIO, SHARED),
	SC(rw_large, V_MMIO, SHARED),
	SC(rw_fua_dpo, V_MMIO, SHARED),
	SC(sync_cache, V_MMIO, SHARED),
	SC(verify, V_MMIO, SHARED),
	SC(write_same, V_MMIO, SHARED),
	SC(write_same_zero, V_MMIO, SHARED),
	SC(unmap, V_MMIO, FRESH),
	SC(mode_select, V_MMIO, SHARED),
	SC(invalid_opcode, V_MMIO, SHARED),
	SC(invalid_field, V_MMIO, SHARED),
	SC(lba_range, V_MMIO, SHARED),
	SC(lun_not_supported, V_MMIO, SHARED),
	SC(write_protect, V_RO, SHARED),
	SC(ua_power_on_tur, V_MMIO, POWER_ON),
	SC(ua_power_on_rs_first, V_MMIO, POWER_ON),
	SC(ua_power_on_passthrough, V_MMIO, POWER_ON),
	SC(ua_power_on_lun1, V_MMIO, POWER_ON),
	SC(ua_power_on_bad_opcode, V_MMIO, POWER_ON),
	SC(resid_inquiry, V_MMIO, SHARED),
	SC(resid_read, V_MMIO, SHARED),
	SC(resid_write, V_MMIO, SHARED),
	SC(resid_emulated, V_MMIO, SHARED),
	SCV("sg_512", sc_sg, V_SG512, SHARED),
	SCV("sg_1000", sc_sg, V_SG1000, SHARED),
	SCV("sg_4096", sc_sg, V_SG4096, SHARED),
	SCV("sg_65536", sc_sg, V_MMIO, SHARED),
	SC(bad_target, V_MMIO, SHARED),
	SC(tagged, V_MMIO, SHARED),
	SC(device_reset, V_MMIO, SHARED),
	SC(chip_reset, V_MMIO, SHARED),
	SC(ua_after_reset_rs, V_MMIO, SHARED),
	SC(msg_abort, V_MMIO, FRESH),
	SC(msg_bus_device_reset, V_MMIO, FRESH),
	SC(msg_abort_tag, V_MMIO, FRESH),
	SC(msg_clear_queue, V_MMIO, FRESH),
	SC(abort_mid_command, V_SHORT, FRESH),
	SC(srst_mid_command, V_MMIO, FRESH),
	SC(device_reset_mid_command, V_MMIO, FRESH),
	SC(dma_move_inside, V_MMIO, FRESH),
	SC(dma_move_outside, V_MMIO, FRESH),
	SC(dma_move_straddle, V_MMIO, FRESH),
	SC(dma_table_entry_outside, V_MMIO, FRESH),
	SC(dma_table_outside, V_MMIO, FRESH),
	SC(dma_memmove_outside, V_MMIO, FRESH),
	SC(dma_fetch_outside, V_SHORT, FRESH),
	SCV("subset_mmio", sc_subset, V_MMIO, SHARED),
	SCV("subset_io_bar", sc_subset, V_IO, SHARED),
	SCV("subset_chip_ram", sc_subset, V_CHIPRAM, SHARED),
	SCV("subset_io_bar_chip_ram", sc_subset, V_IO_CHIPRAM, SHARED),
	SCV("subset_io_bar_chip_ram_rw", sc_rw10, V_IO_CHIPRAM, SHARED),
};

#define N_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* ---- comparing ---- */

/* An ISTAT read of 0: the driver was woken with nothing pending. */
static bool
spurious(const struct proxy_lsi_reg_read *r)
{
	return r->reg == REG_ISTAT && r->val == 0;
}

/*
 * The trace as text; spurious wake-ups are counted apart (F_SPURIOUS),
 * except where a scenario reads ISTAT itself (the "istat-after" steps).
 */
static void
render_trace(const struct step *st, char *buf, size_t len, bool all)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < st->ntrace && at + 16 < len; i++) {
		if (!all && spurious(&st->trace[i]))
			continue;
		at += (size_t)snprintf(buf + at, len - at, "%s%02x=%0*x",
		    at ? " " : "", st->trace[i].reg, st->trace[i].width * 2,
		    st->trace[i].val);
	}
}

static unsigned int
count_spurious(const struct step *st)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < st->ntrace; i++)
		n += spurious(&st->trace[i]);
	return n;
}

static void
render_field(const struct step *st, enum field f, char *buf, size_t len)
{
	switch (f) {
	case F_ERR:
		snprintf(buf, len, "%d", st->err);
		break;
	case F_STATUS:
		snprintf(buf, len, "0x%02x", st->status);
		break;
	case F_MSGIN:
		snprintf(buf, len, "0x%02x", st->msgin);
		break;
	case F_RESID:
		snprintf(buf, len, "%zu", st->resid);
		break;
	case F_OVERRUN:
		snprintf(buf, len, "%d", st->overrun);
		break;
	case F_DISC:
		snprintf(buf, len, "%u", st->disconnects);
		break;
	case F_TRACE:
		render_trace(st, buf, len, strstr(st->label, "istat") != NULL);
		break;
	case F_SPURIOUS:
		snprintf(buf, len, "%u", strstr(st->label, "istat") ? 0 :
		    count_spurious(st));
		break;
	case F_WHERE:
		if (st->has_where)
			snprintf(buf, len, "dsp=+0x%x dbc=0x%x", st->dsp -
			    S_SCRIPT, st->dbc);
		else
			snprintf(buf, len, "-");
		break;
	case F_STEP:
		snprintf(buf, len, "present");
		break;
	case F_DATA: {
		size_t at = 0, n = st->data_len < HEAD ? st->data_len : HEAD;

		for (size_t i = 0; i < n && at + 3 < len; i++)
			at += (size_t)snprintf(buf + at, len - at, "%02x",
			    st->head[i]);
		snprintf(buf + at, len - at, "#%016" PRIx64, st->data_hash);
		break;
	}
	case F_IMAGE:
		snprintf(buf, len, "differs");
		break;
	}
}

static bool
name_matches(const char *pat, const char *name)
{
	size_t n;

	if (!strcmp(pat, "*"))
		return true;
	n = strlen(pat);
	if (n && pat[n - 1] == '*')
		return !strncmp(pat, name, n - 1);
	return !strcmp(pat, name);
}

static const char *
field_name(enum field f)
{
	for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]);
	    i++)
		if (field_names[i].f == f)
			return field_names[i].name;
	return "?";
}

/*
 * A field differs: it must be a known difference with exactly these
 * values. Returns false (after printing why) when it is not.
 */
static bool
difference_known(struct world *w, const char *sc, const char *step,
    enum field f, const char *vq, const char *vl)
{
	bool named = false;

	for (size_t i = 0; i < N_KNOWN; i++) {
		const struct known_diff *k = &known_diffs[i];

		if (!k->scenario || k->field != f ||
		    !name_matches(k->scenario, sc) ||
		    !name_matches(k->step, step))
			continue;
		named = true;
		if ((!strcmp(k->qemu, "*") || !strcmp(k->qemu, vq)) &&
		    !strcmp(k->lsi, vl)) {
			w->hits[i]++;
			return true;
		}
	}
	fprintf(stderr, "DIFF %s / %s / %s%s:\n  qemu-remote: %s\n"
	    "  mpjail-lsi:  %s\n", sc, step, field_name(f),
	    named ? " (listed, but with other values)" : "", vq, vl);
	return false;
}

static bool
files_equal(const char *a, const char *b)
{
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY |
	    O_CLOEXEC);
	static const size_t chunk = 1u << 20;
	uint8_t *ba = malloc(chunk), *bb = malloc(chunk);
	bool same = fa >= 0 && fb >= 0 && ba && bb;

	for (off_t off = 0; same && off < (off_t)IMAGE_SIZE;
	    off += (off_t)chunk) {
		if (pread(fa, ba, chunk, off) != (ssize_t)chunk ||
		    pread(fb, bb, chunk, off) != (ssize_t)chunk ||
		    memcmp(ba, bb, chunk) != 0)
			same = false;
	}
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	free(ba);
	free(bb);
	return same;
}

static void
dump(const struct side *s)
{
	char buf[1024];

	for (unsigned int i = 0; i < s->rec.n; i++) {
		const struct step *st = &s->rec.s[i];

		fprintf(stderr, "  %-12s %-24s err %d st 0x%02x mi 0x%02x "
		    "resid %zu ovr %d disc %u\n", s->name, st->label, st->err,
		    st->status, st->msgin, st->resid, st->overrun,
		    st->disconnects);
		render_trace(st, buf, sizeof(buf), true);
		fprintf(stderr, "  %-12s %-24s trace %s\n", "", "", buf);
		if (st->has_where) {
			render_field(st, F_WHERE, buf, sizeof(buf));
			fprintf(stderr, "  %-12s %-24s %s\n", "", "", buf);
		}
		if (st->data_len) {
			render_field(st, F_DATA, buf, sizeof(buf));
			fprintf(stderr, "  %-12s %-24s data[%zu] %s\n", "", "",
			    st->data_len, buf);
		}
	}
}

static unsigned int
compare_step(struct world *w, const char *sc, const struct step *a,
    const struct step *b)
{
	static const enum field fields[] = { F_ERR, F_STATUS, F_MSGIN,
	    F_RESID, F_OVERRUN, F_DISC, F_TRACE, F_SPURIOUS, F_DATA,
	    F_WHERE };
	unsigned int bad = 0;

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		char va[1024], vb[1024];

		if (fields[f] == F_DATA && a->data_len == b->data_len &&
		    a->data_hash == b->data_hash)
			continue;
		render_field(a, fields[f], va, sizeof(va));
		render_field(b, fields[f], vb, sizeof(vb));
		if (strcmp(va, vb) != 0 && !difference_known(w, sc, a->label,
		    fields[f], va, vb))
			bad++;
	}
	return bad;
}

/*
 * Walk both records in step; a step one side lacks (a REQUEST SENSE
 * after a CHECK CONDITION the other side did not have) is an F_STEP
 * difference, "present" on one side and "absent" on the other.
 */
static unsigned int
compare(struct world *w, const char *sc, const struct pair *p)
{
	const struct record *q = &p->side[0].rec, *l = &p->side[1].rec;
	unsigned int bad = 0, i = 0, j = 0;

	while (i < q->n || j < l->n) {
		const struct step *a = i < q->n ? &q->s[i] : NULL;
		const struct step *b = j < l->n ? &l->s[j] : NULL;

		if (a && b && !strcmp(a->label, b->label)) {
			bad += compare_step(w, sc, a, b);
			i++;
			j++;
		} else if (a && (!b || strstr(a->label, "/sense"))) {
			if (!difference_known(w, sc, a->label, F_STEP,
			    "present", "absent"))
				bad++;
			i++;
		} else if (b && (!a || strstr(b->label, "/sense"))) {
			if (!difference_known(w, sc, b->label, F_STEP,
			    "absent", "present"))
				bad++;
			j++;
		} else {
			fprintf(stderr, "DIFF %s: step %s on qemu-remote, %s "
			    "on mpjail-lsi\n", sc, a ? a->label : "-",
			    b ? b->label : "-");
			return bad + 1;
		}
	}
	if (!files_equal(p->side[0].image, p->side[1].image) &&
	    !difference_known(w, sc, "image", F_IMAGE, "differs", "differs"))
		bad++;
	return bad;
}

/* ---- running ---- */

/*
 * After every scenario the confined mpjail-lsi (unless the scenario ended
 * its connection) still carries its policy, as `mpjail-policy audit`
 * sees it: the eventfds SET_IRQFD gave it are fds of a `received` kind,
 * and its seccomp filter is the compiled program, byte for byte.
 */
static void
audit_remote(struct side *s)
{
	char report[8192];
	pid_t remote;
	int rc;

	if (s->dead)
		return;
	remote = jail_find_remote(&s->peer, 5000);
	if (remote <= 0)
		fail_msg("%s: the confined mpjail-lsi was not found",
		    s->scenario);
	if (!jail_confined())
		return; /* make asan: unconfined by design, nothing to audit */
	rc = jail_audit(remote, 1, report, sizeof(report));
	if (rc != 0 || !strstr(report, "ok   seccomp filter")) {
		fprintf(stderr, "%s", report);	/* longer than fail_msg takes */
		fail_msg("%s: mpjail-policy audit %d: exit %d", s->scenario,
		    (int)remote, rc);
	}
}

static void
run_scenario(void **state)
{
	struct test_state *ts = *state;
	const struct scenario *sc = ts->sc;
	struct world *w = ts->w;
	struct pair *p;
	unsigned int bad;

	pair_free(w->own);
	w->own = NULL;
	if (sc->use != SHARED) {
		p = w->own = pair_new(sc->v);
	} else {
		if (!w->shared[sc->v])
			w->shared[sc->v] = pair_new(sc->v);
		p = w->shared[sc->v];
	}
	assert_non_null(p);
	for (int i = 0; i < 2; i++) {
		struct side *s = &p->side[i];

		memset(&s->rec, 0, sizeof(s->rec));
		s->scenario = sc->name;
		if (sc->use != POWER_ON)
			settle(s);
		sc->fn(s);
	}
	audit_remote(&p->side[1]);
	bad = compare(w, sc->name, p);
	if (bad || w->verbose) {
		dump(&p->side[0]);
		dump(&p->side[1]);
	}
	w->scenarios_run++;
	if (sc->use != SHARED) {
		pair_free(p);
		w->own = NULL;
	}
	if (bad)
		fail_msg("%s: %u unexplained difference(s)", sc->name, bad);
}

/* Every row of the table must have been needed: the list stays honest. */
static void
known_diffs_all_seen(void **state)
{
	struct test_state *ts = *state;
	unsigned int unused = 0;

	if (ts->w->scenarios_run < N_SCENARIOS)
		skip();
	for (size_t i = 0; i < N_KNOWN; i++) {
		if (!known_diffs[i].scenario || ts->w->hits[i] ||
		    known_diffs[i].timing)
			continue;
		fprintf(stderr, "known difference never seen: %s / %s / %s\n",
		    known_diffs[i].scenario, known_diffs[i].step,
		    field_name(known_diffs[i].field));
		unused++;
	}
	assert_int_equal(unused, 0);
}

int
main(void)
{
	struct world w = { .verbose = getenv("MPJAIL_DIFF_VERBOSE") != NULL };
	struct CMUnitTest tests[N_SCENARIOS + 1];
	struct test_state ts[N_SCENARIOS + 1];
	const char *only = getenv("MPJAIL_DIFF_ONLY");
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < N_SCENARIOS; i++) {
		if (only && !name_matches(only, scenarios[i].name))
			continue;
		ts[n] = (struct test_state){ &scenarios[i], &w };
		tests[n] = (struct CMUnitTest){ .name = scenarios[i].name,
		    .test_func = run_scenario, .initial_state = &ts[n] };
		n++;
	}
	ts[n] = (struct test_state){ NULL, &w };
	tests[n] = (struct CMUnitTest){ .name = "known_differences_all_seen",
	    .test_func = known_diffs_all_seen, .initial_state = &ts[n] };
	n++;
	rc = _cmocka_run_group_tests("LSI differential: QEMU 7.2 remote vs "
	    "mpjail-lsi", tests, n, NULL, NULL);
	for (int v = 0; v < V_COUNT; v++)
		pair_free(w.shared[v]);
	pair_free(w.own);
	return rc;
}
