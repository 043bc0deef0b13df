/*
 * tests/hostile/test_hostile_guest.c: a hostile guest against mpjail-lsi
 * running as the broker runs it (policy/lsi-remote.policy, mpjail-run,
 * tenant uid, Landlock, seccomp) with one disk. The guest is the driver
 * model of libmpjail-proxy (proxy/mpjail-proxy-lsi.h) running SCRIPTS of
 * our own from guest RAM. Each scenario is a table row: what the guest
 * does, and the interrupt the chip must answer with (DSTAT, SIST0, SIST1
 * and, for an INT, DSPS). Always, afterwards: guest RAM holds exactly what
 * the test wrote plus the bytes the row allows the device to write (the
 * rest of RAM is a canary pattern), the remote answers BAR reads, a
 * DEVICE_RESET and, after a chip reset, a normal INQUIRY; its fds are the
 * same; it exits 0 when we hang up (no crash signal); the image is
 * unchanged. Needs root, as the QEMU half of the suite.
 *
 * Self-modifying SCRIPTS: mpjail-lsi fetches each instruction from memory
 * when it executes it (no prefetch, as QEMU 7.2, and as the chip with
 * DCNTL PFEN clear), so a memory move onto the next instruction changes
 * what runs. Memory moves copy forward in chunks of up to 64 KiB, each
 * with memmove() semantics: an overlap within a chunk behaves as memmove.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpjail-proxy-lsi.h"
#include "mpjail-proxy.h"
#include "tests/lib/jail.h"

#define IMAGE_SIZE (16u << 20)
#define RAM_SIZE (32u << 20)
#define MMIO_BASE 0xfebfe000u  /* the driver model's defaults */
#define SRAM_BASE 0xfebfc000u
#define IO_BASE 0xc000u
/* The driver model's own script and tables end below this. */
#define CANARY_FROM 0x20000u
#define OUTSIDE_RAM 0x40000000u

/* Registers (datasheet names). */
#define REG_SCNTL0 0x00
#define REG_DSTAT 0x0c
#define  DSTAT_IID 0x01
#define  DSTAT_SIR 0x04
#define  DSTAT_ABRT 0x10
#define  DSTAT_BF 0x20
#define  DSTAT_DFE 0x80 /* always reads set: the FIFO is empty */
#define REG_DSA 0x10
#define REG_ISTAT 0x14
#define  ISTAT_DIP 0x01
#define  ISTAT_SIP 0x02
#define  ISTAT_INTF 0x04
#define  ISTAT_SIGP 0x20
#define  ISTAT_ABRT 0x80
#define REG_ISTAT1 0x15
#define  ISTAT1_SRUN 0x02
#define REG_DBC 0x24
#define REG_DSP 0x2c
#define REG_DSPS 0x30
#define REG_SCRATCHA 0x34
#define REG_DMODE 0x38
#define  DMODE_DIOM 0x10
#define REG_SIST0 0x42
#define  SIST0_UDC 0x04
#define  SIST0_MA 0x80
#define REG_SIST1 0x43
#define  SIST1_STO 0x04
#define REG_CCNTL1 0x57
#define  CCNTL1_EN64TIBMV 0x02
#define  CCNTL1_64TIMOD 0x04
#define REG_SCRATCHC 0x60

/* SCRIPTS encodings. */
#define PH_DATA_OUT 0
#define PH_DATA_IN 1
#define PH_COMMAND 2
#define PH_STATUS 3
#define PH_MSG_OUT 6
#define PH_MSG_IN 7
#define I_MOVE(ph, n) (0x08000000u | (uint32_t)(ph) << 24 | (n))
#define I_MOVE_IND(ph, n) (0x28000000u | (uint32_t)(ph) << 24 | (n))
#define I_MOVE_TI(ph) (0x18000000u | (uint32_t)(ph) << 24)
#define I_SELECT_ATN(id) (0x41000000u | (uint32_t)(id) << 16)
#define I_WAIT_DISC 0x48000000u
#define I_WAIT_RESEL 0x50000000u
#define I_SET_ATN 0x58000008u
#define I_CLEAR_ACK 0x60000040u
#define I_JUMP 0x80080000u
#define I_BAD_XFER 0xa0080000u /* transfer control, opcode 4: illegal */
#define I_INT 0x98080000u
#define I_INTFLY 0x98180000u
#define I_MEMMOVE(n) (0xc0000000u | (n))
#define I_LOAD(reg, n) (0xe1000000u | (uint32_t)(reg) << 16 | (n))
#define I_STORE(reg, n) (0xe0000000u | (uint32_t)(reg) << 16 | (n))
#define I_LOAD_DSA(reg, n) (0xf1000000u | (uint32_t)(reg) << 16 | (n))
#define I_STORE_DSA(reg, n) (0xf0000000u | (uint32_t)(reg) << 16 | (n))

/* The scenarios' SCRIPTS and buffers, in the driver's free RAM. */
#define S_SCRIPT (PROXY_LSI_FREE_RAM_OFFSET)
#define S_SCRIPT2 (PROXY_LSI_FREE_RAM_OFFSET + 0x800)
#define S_MSGOUT (PROXY_LSI_FREE_RAM_OFFSET + 0x1000)
#define S_CDB (PROXY_LSI_FREE_RAM_OFFSET + 0x1100)
#define S_STATUS (PROXY_LSI_FREE_RAM_OFFSET + 0x1120)
#define S_MSGIN (PROXY_LSI_FREE_RAM_OFFSET + 0x1124)
#define S_BUF (PROXY_LSI_FREE_RAM_OFFSET + 0x1200)
#define S_TABLE (PROXY_LSI_FREE_RAM_OFFSET + 0x2000)
#define S_DATA (PROXY_LSI_FREE_RAM_OFFSET + 0x10000)
#define S_BIG (PROXY_LSI_FREE_RAM_OFFSET + 0x100000)

#define MAX_ALLOW 4

/* The interrupt the chip must raise, as the guest's handler reads it. */
struct irq {
	uint8_t dstat;   /* without DFE */
	uint8_t sist0, sist1;
	uint32_t dsps;   /* compared when dstat has SIR */
};

struct ctx {
	struct peer peer;
	pid_t remote;
	int base_fds;
	struct proxy_dev *dev;
	struct proxy_lsi *hba;
	uint8_t *ram;
	uint8_t *want;   /* RAM as the test wrote it */
	struct { uint32_t at, len; } allow[MAX_ALLOW];
	unsigned int nallow;
	struct irq got;
	bool got_irq;
	char image[64];
	uint64_t image_sum;
};

struct scenario {
	const char *name;
	void (*run)(struct ctx *c);
	struct irq want;
	bool no_irq;     /* the scenario ends without an interrupt */
};

static uint64_t
image_checksum(const char *path)
{
	static uint8_t buf[1 << 16];
	uint64_t h = 1469598103934665603ull;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}

static uint8_t
canary(size_t i)
{
	return (uint8_t)(0xa5 ^ (i * 151 + (i >> 8) * 7));
}

/* Test writes go to RAM and to the expected image of it. */
static void
put(struct ctx *c, uint32_t at, const void *p, size_t len)
{
	assert_true(at + len <= RAM_SIZE);
	memcpy(c->ram + at, p, len);
	memcpy(c->want + at, p, len);
}

static void
put_words(struct ctx *c, uint32_t at, const uint32_t *w, size_t n)
{
	put(c, at, w, 4 * n);
}

#define SCRIPT(c, at, ...) do { \
	const uint32_t w_[] = { __VA_ARGS__ }; \
	put_words((c), (at), w_, sizeof(w_) / sizeof(w_[0])); \
} while (0)

/* The device may write [at, at + len) (the rest of RAM must not change). */
static void
allow(struct ctx *c, uint32_t at, uint32_t len)
{
	assert_true(c->nallow < MAX_ALLOW);
	c->allow[c->nallow].at = at;
	c->allow[c->nallow].len = len;
	c->nallow++;
}

static void
wreg(struct ctx *c, uint8_t reg, unsigned int width, uint32_t val)
{
	assert_int_equal(proxy_lsi_reg_write(c->hba, reg, width, val), 0);
}

static uint32_t
rreg(struct ctx *c, uint8_t reg, unsigned int width)
{
	uint32_t v = 0;

	assert_int_equal(proxy_lsi_reg_read(c->hba, reg, width, &v), 0);
	return v;
}

/* Last value of each register the driver read while servicing. */
static void
irq_from_trace(struct ctx *c, const struct proxy_lsi_cmd *t)
{
	memset(&c->got, 0, sizeof(c->got));
	for (unsigned int i = 0; i < t->ntrace; i++) {
		switch (t->trace[i].reg) {
		case REG_DSTAT:
			c->got.dstat = (uint8_t)(t->trace[i].val & ~DSTAT_DFE);
			break;
		case REG_SIST0:
			c->got.sist0 = (uint8_t)t->trace[i].val;
			break;
		case REG_SIST1:
			c->got.sist1 = (uint8_t)t->trace[i].val;
			break;
		case REG_DSPS:
			c->got.dsps = t->trace[i].val;
			break;
		default:
			break;
		}
	}
	c->got_irq = true;
}

/* Start SCRIPTS at dsp; the driver model waits for the interrupt. */
static void
go(struct ctx *c, uint32_t dsp)
{
	struct proxy_lsi_cmd t = { .tag = -1 };

	assert_int_equal(proxy_lsi_run(c->hba, dsp, &t), 0);
	irq_from_trace(c, &t);
}

/*
 * As SeaBIOS: poll ISTAT (BAR reads: the remote must answer them while
 * SCRIPTS run) until an interrupt is pending, then read it. Returns the
 * number of ISTAT reads it took, or 0 on time-out.
 */
static unsigned int
poll_irq(struct ctx *c, int timeout_ms)
{
	struct timespec t0, t1;
	unsigned int reads = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		uint32_t istat = rreg(c, REG_ISTAT, 1);

		reads++;
		if (istat & (ISTAT_DIP | ISTAT_SIP | ISTAT_INTF)) {
			memset(&c->got, 0, sizeof(c->got));
			if (istat & ISTAT_DIP)
				c->got.dstat = (uint8_t)(rreg(c, REG_DSTAT, 1) &
				    ~DSTAT_DFE);
			if (istat & ISTAT_SIP) {
				c->got.sist0 = (uint8_t)rreg(c, REG_SIST0, 1);
				c->got.sist1 = (uint8_t)rreg(c, REG_SIST1, 1);
			}
			if (c->got.dstat & DSTAT_SIR)
				c->got.dsps = rreg(c, REG_DSPS, 4);
			if (istat & ISTAT_INTF)
				wreg(c, REG_ISTAT, 1, ISTAT_INTF);
			c->got_irq = true;
			return reads;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			return 0;
	}
}

/* SCRIPTS are running: ISTAT1 SRUN, and no interrupt pending. */
static void
assert_running(struct ctx *c, unsigned int reads)
{
	for (unsigned int i = 0; i < reads; i++) {
		assert_int_equal(rreg(c, REG_ISTAT, 1) & (ISTAT_DIP | ISTAT_SIP),
		    0);
		assert_true(rreg(c, REG_ISTAT1, 1) & ISTAT1_SRUN);
	}
	/* a register round trip while they run */
	wreg(c, REG_SCRATCHA, 4, 0x5ca1ab1e);
	assert_int_equal(rreg(c, REG_SCRATCHA, 4), 0x5ca1ab1e);
}

/* The common preamble: select ID 0, IDENTIFY, a CDB of cdb_len bytes. */
static void
select_cmd(struct ctx *c, uint32_t at, const uint8_t *cdb, uint32_t cdb_len,
    uint32_t alt)
{
	static const uint8_t ident = 0x80;

	put(c, S_MSGOUT, &ident, 1);
	put(c, S_CDB, cdb, cdb_len);
	SCRIPT(c, at,
	    I_SELECT_ATN(0), alt,
	    I_MOVE(PH_MSG_OUT, 1), S_MSGOUT,
	    I_MOVE(PH_COMMAND, cdb_len), S_CDB);
}

static const uint8_t read8[10] = { 0x28, 0, 0, 0, 0, 16, 0, 0, 8, 0 };

/* ---- loops and budgets ------------------------------------------------ */

static void
s_jump_self_abort(struct ctx *c)
{
	SCRIPT(c, S_SCRIPT, I_JUMP, S_SCRIPT);
	wreg(c, REG_DSP, 4, S_SCRIPT);
	assert_running(c, 200);
	wreg(c, REG_ISTAT, 1, ISTAT_ABRT);
	assert_true(poll_irq(c, 2000) > 0);
	wreg(c, REG_ISTAT, 1, 0);
}

static void
s_jump_self_reset(struct ctx *c)
{
	SCRIPT(c, S_SCRIPT, I_JUMP, S_SCRIPT);
	wreg(c, REG_DSP, 4, S_SCRIPT);
	assert_running(c, 50);
	assert_int_equal(proxy_device_reset(c->dev), 0);
	assert_false(rreg(c, REG_ISTAT1, 1) & ISTAT1_SRUN);
}

/* CVE-2019-12068: 64 KiB of empty opcodes (16384 of them), then an INT. */
static void
s_empty_opcodes(struct ctx *c)
{
	static uint8_t zero[0x10000];

	put(c, S_BIG, zero, sizeof(zero));
	SCRIPT(c, S_BIG + sizeof(zero), I_INT, 0xe0e0);
	go(c, S_BIG);
}

/* Empty opcodes up to the end of RAM: the fetch past it is a bus fault. */
static void
s_empty_opcodes_to_end(struct ctx *c)
{
	static uint8_t zero[0x4000];

	put(c, RAM_SIZE - sizeof(zero), zero, sizeof(zero));
	go(c, RAM_SIZE - sizeof(zero));
}

static void
s_intfly_storm(struct ctx *c)
{
	SCRIPT(c, S_SCRIPT, I_INTFLY, 0, I_JUMP, S_SCRIPT);
	wreg(c, REG_DSP, 4, S_SCRIPT);
	/* never serviced: the line stays up, SCRIPTS keep running */
	for (int i = 0; i < 200; i++) {
		assert_true(rreg(c, REG_ISTAT, 1) & ISTAT_INTF);
		assert_true(rreg(c, REG_ISTAT1, 1) & ISTAT1_SRUN);
	}
	wreg(c, REG_ISTAT, 1, ISTAT_ABRT);
	assert_true(poll_irq(c, 2000) > 0);
	wreg(c, REG_ISTAT, 1, 0);
}

/* INT, restarted 500 times without ever reading DSTAT. */
static void
s_int_storm(struct ctx *c)
{
	SCRIPT(c, S_SCRIPT, I_INT, 0x1717);
	for (int i = 0; i < 500; i++)
		wreg(c, REG_DSP, 4, S_SCRIPT);
	assert_true(poll_irq(c, 2000) > 0);
}

/*
 * A READ of 16 MiB (the whole image) into a table of 4096 one-byte
 * entries: 4096 table-indirect moves run over several slices, then the
 * guest gives up (INT) with the command still holding 16 MiB - 4 KiB.
 */
static void
s_16mib_read_1byte_table(struct ctx *c)
{
	static const uint8_t cdb[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0x80, 0, 0 };
	static uint32_t moves[2 * 4096];
	static uint8_t table[8 * 4096];

	select_cmd(c, S_SCRIPT, cdb, 10, S_SCRIPT2);
	SCRIPT(c, S_SCRIPT + 8 * 3, I_JUMP, S_BIG);
	SCRIPT(c, S_SCRIPT2, I_INT, 0x5e1);
	for (uint32_t k = 0; k < 4096; k++) {
		uint32_t ent[2] = { 1, S_DATA + k };

		moves[2 * k] = I_MOVE_TI(PH_DATA_IN);
		moves[2 * k + 1] = 8 * k;
		memcpy(table + 8 * k, ent, 8);
	}
	put_words(c, S_BIG, moves, 2 * 4096);
	SCRIPT(c, S_BIG + sizeof(moves), I_INT, 0x16);
	put(c, S_TABLE, table, sizeof(table));
	wreg(c, REG_DSA, 4, S_TABLE);
	allow(c, S_DATA, 4096);
	go(c, S_SCRIPT);
}

/* ---- DMA outside guest RAM -------------------------------------------- */

static void
data_in_to(struct ctx *c, uint32_t to, uint32_t len)
{
	select_cmd(c, S_SCRIPT, read8, 10, S_SCRIPT + 8 * 5);
	SCRIPT(c, S_SCRIPT + 8 * 3,
	    I_MOVE(PH_DATA_IN, len), to,
	    I_INT, 0x600d,
	    I_INT, 0xbad5);
	go(c, S_SCRIPT);
}

static void s_dma_outside(struct ctx *c) { data_in_to(c, OUTSIDE_RAM, 512); }
static void s_dma_wrap_2_32(struct ctx *c) { data_in_to(c, 0xffffff00u, 512); }

static void
s_dma_straddles_end(struct ctx *c)
{
	allow(c, RAM_SIZE - 256, 256);
	data_in_to(c, RAM_SIZE - 256, 512);
}

/* A table entry pointing outside RAM. */
static void
s_table_entry_outside(struct ctx *c)
{
	select_cmd(c, S_SCRIPT, read8, 10, S_SCRIPT + 8 * 5);
	SCRIPT(c, S_SCRIPT + 8 * 3, I_MOVE_TI(PH_DATA_IN), 0x10, I_INT, 0x600d);
	SCRIPT(c, S_TABLE + 0x10, 512, OUTSIDE_RAM);
	wreg(c, REG_DSA, 4, S_TABLE);
	go(c, S_SCRIPT);
}

/* DSA + offset wraps at 2^32 onto address 0, whose entry points away. */
static void
s_table_dsa_wraps(struct ctx *c)
{
	select_cmd(c, S_SCRIPT, read8, 10, S_SCRIPT + 8 * 5);
	SCRIPT(c, S_SCRIPT + 8 * 3, I_MOVE_TI(PH_DATA_IN), 0x20, I_INT, 0x600d);
	SCRIPT(c, 0, 512, OUTSIDE_RAM);
	wreg(c, REG_DSA, 4, 0xffffffe0u);
	go(c, S_SCRIPT);
}

/* 40-bit table indirect (64TIMOD): the entry's top byte is bits 32-39. */
static void
s_table_40bit(struct ctx *c)
{
	select_cmd(c, S_SCRIPT, read8, 10, S_SCRIPT + 8 * 5);
	SCRIPT(c, S_SCRIPT + 8 * 3, I_MOVE_TI(PH_DATA_IN), 0x10, I_INT, 0x600d);
	SCRIPT(c, S_TABLE + 0x10, 0xff000000u | 512, S_DATA);
	wreg(c, REG_DSA, 4, S_TABLE);
	wreg(c, REG_CCNTL1, 1, CCNTL1_EN64TIBMV | CCNTL1_64TIMOD);
	go(c, S_SCRIPT);
}

/*
 * 64-bit table indirect: the selector picks SCRATCHC = 0xffffffff as the
 * upper half, so the move runs from 2^64 - 256 across 2^64.
 */
static void
s_table_64bit_wraps(struct ctx *c)
{
	select_cmd(c, S_SCRIPT, read8, 10, S_SCRIPT + 8 * 5);
	SCRIPT(c, S_SCRIPT + 8 * 3, I_MOVE_TI(PH_DATA_IN), 0x10, I_INT, 0x600d);
	SCRIPT(c, S_TABLE + 0x10, 512, 0xffffff00u);
	wreg(c, REG_DSA, 4, S_TABLE);
	wreg(c, REG_SCRATCHC, 4, 0xffffffffu);
	wreg(c, REG_CCNTL1, 1, CCNTL1_EN64TIBMV);
	go(c, S_SCRIPT);
}

/* An indirect move whose pointer itself lies outside RAM. */
static void
s_indirect_pointer_outside(struct ctx *c)
{
	select_cmd(c, S_SCRIPT, read8, 10, S_SCRIPT + 8 * 5);
	SCRIPT(c, S_SCRIPT + 8 * 3, I_MOVE_IND(PH_DATA_IN, 512), OUTSIDE_RAM,
	    I_INT, 0x600d);
	go(c, S_SCRIPT);
}

static void
s_fetch_outside(struct ctx *c)
{
	go(c, OUTSIDE_RAM);
}

static void
s_memmove_wraps(struct ctx *c)
{
	SCRIPT(c, S_SCRIPT, I_MEMMOVE(16), 0xfffffff8u, S_BUF, I_INT, 1);
	go(c, S_SCRIPT);
}

/* CVE-2023-0330: memory moves to and from the register BAR (MMIO). */
static void
s_dma_to_own_mmio(struct ctx *c)
{
	static const uint8_t srst[4] = { 0x40, 0x40, 0x40, 0x40 };

	put(c, S_BUF, srst, 4);
	wreg(c, REG_SCRATCHA, 4, 0x12345678);
	SCRIPT(c, S_SCRIPT,
	    I_MEMMOVE(4), S_BUF, MMIO_BASE + REG_ISTAT,
	    I_INT, 1);
	go(c, S_SCRIPT);
	assert_int_equal(c->got.dstat, DSTAT_BF);
	assert_int_equal(rreg(c, REG_SCRATCHA, 4), 0x12345678);
	SCRIPT(c, S_SCRIPT2,
	    I_MEMMOVE(4), MMIO_BASE + REG_SCRATCHA, S_BUF + 4,
	    I_INT, 2);
	go(c, S_SCRIPT2);
}

/* The same through LOAD/STORE, and a register BAR alias past 256 bytes. */
static void
s_load_store_own_mmio(struct ctx *c)
{
	wreg(c, REG_SCRATCHA, 4, 0x12345678);
	SCRIPT(c, S_SCRIPT,
	    I_STORE(REG_SCRATCHA, 4), MMIO_BASE + 0x100 + REG_ISTAT,
	    I_INT, 1);
	go(c, S_SCRIPT);
	assert_int_equal(rreg(c, REG_SCRATCHA, 4), 0x12345678);
}

/*
 * I/O-space DMA (DMODE DIOM) could reach the I/O BAR: refused. The same
 * move in memory space lands in guest RAM at 0xc034, not the registers.
 */
static void
s_dma_to_own_io(struct ctx *c)
{
	static const uint8_t v[4] = { 0xde, 0xad, 0xbe, 0xef };

	put(c, S_BUF, v, 4);
	wreg(c, REG_SCRATCHA, 4, 0x12345678);
	SCRIPT(c, S_SCRIPT, I_MEMMOVE(4), S_BUF, IO_BASE + REG_SCRATCHA,
	    I_INT, 1);
	allow(c, IO_BASE + REG_SCRATCHA, 4);
	go(c, S_SCRIPT);
	assert_int_equal(c->got.dsps, 1);
	assert_memory_equal(c->ram + IO_BASE + REG_SCRATCHA, v, 4);
	assert_int_equal(rreg(c, REG_SCRATCHA, 4), 0x12345678);
	wreg(c, REG_DMODE, 1, DMODE_DIOM);
	go(c, S_SCRIPT);
	assert_int_equal(rreg(c, REG_SCRATCHA, 4), 0x12345678);
}

/* ---- memory moves that rewrite SCRIPTS and overlap --------------------- */

/*
 * The memory move overwrites the INT right after it: no prefetch, so the
 * new instruction (INT 0xbeef) runs, deterministically.
 */
static void
s_self_rewrite(struct ctx *c)
{
	SCRIPT(c, S_BUF, I_INT, 0xbeef);
	SCRIPT(c, S_SCRIPT,
	    I_MEMMOVE(8), S_BUF, S_SCRIPT + 12,
	    I_INT, 0x1111);
	allow(c, S_SCRIPT + 12, 8);
	go(c, S_SCRIPT);
	assert_memory_equal(c->ram + S_SCRIPT + 12, c->ram + S_BUF, 8);
}

/* Overlapping moves, forwards and backwards: memmove() results. */
static void
s_overlapping_memmove(struct ctx *c)
{
	uint8_t src[64], model[0x200];

	for (int i = 0; i < 64; i++)
		src[i] = (uint8_t)(i + 1);
	put(c, S_BUF, src, 64);
	put(c, S_BUF + 0x100, src, 64);
	memcpy(model, c->want + S_BUF, sizeof(model));
	memmove(model + 4, model, 64);               /* forward by 4 */
	memmove(model + 0x100, model + 0x104, 64);   /* backward by 4 */
	SCRIPT(c, S_SCRIPT,
	    I_MEMMOVE(64), S_BUF, S_BUF + 4,
	    I_MEMMOVE(64), S_BUF + 0x104, S_BUF + 0x100,
	    I_INT, 2);
	allow(c, S_BUF, sizeof(model));
	go(c, S_SCRIPT);
	assert_memory_equal(c->ram + S_BUF, model, sizeof(model));
}

/* The largest count, 16 MiB - 1 bytes, inside RAM: four slices of work. */
static void
s_memmove_max_count(struct ctx *c)
{
	SCRIPT(c, S_SCRIPT, I_MEMMOVE(0xffffff), S_BIG, 0x1000000, I_INT, 3);
	allow(c, 0x1000000, 0xffffff);
	go(c, S_SCRIPT);
}

/* A block move of 0xffffff bytes for a 4 KiB READ: the rest is MA. */
static void
s_block_move_max_count(struct ctx *c)
{
	select_cmd(c, S_SCRIPT, read8, 10, S_SCRIPT + 8 * 5);
	SCRIPT(c, S_SCRIPT + 8 * 3, I_MOVE(PH_DATA_IN, 0xffffff), S_DATA,
	    I_INT, 0x600d);
	allow(c, S_DATA, 4096);
	go(c, S_SCRIPT);
	assert_int_equal(rreg(c, REG_DBC, 4) & 0xffffff, 0xffffff - 4096);
}

/* ---- messages ------------------------------------------------------- */

/*
 * CVE-2022-0216's pattern: ABORT, ABORT TAG, CLEAR QUEUE and BUS DEVICE
 * RESET, each in the middle of a READ's data phase (ATN raised after 512
 * of 4096 bytes), each followed by a new selection; then a DATA OUT on
 * the free bus, with no request left behind it: an unexpected disconnect.
 */
static void
s_abort_mid_command(struct ctx *c)
{
	static const uint8_t msgs[4] = { 0x06, 0x0d, 0x0e, 0x0c };
	uint32_t at = S_SCRIPT;

	put(c, S_BUF, msgs, 4);
	for (uint32_t i = 0; i < 4; i++) {
		select_cmd(c, at, read8, 10, S_SCRIPT2);
		SCRIPT(c, at + 8 * 3,
		    I_MOVE(PH_DATA_IN, 512), S_DATA,
		    I_SET_ATN, 0,
		    I_MOVE(PH_MSG_OUT, 1), S_BUF + i,
		    I_WAIT_DISC, 0);
		at += 8 * 7;
	}
	SCRIPT(c, at, I_MOVE(PH_DATA_OUT, 512), S_DATA, I_INT, 0xbad);
	SCRIPT(c, S_SCRIPT2, I_INT, 0x5e1);
	allow(c, S_DATA, 512);
	go(c, S_SCRIPT);
	/* all four rounds ran: SCRIPTS stopped after the last move */
	assert_int_equal(rreg(c, REG_DSP, 4), at + 8);
}

/* All four in one MESSAGE OUT, before any command: the first ends it. */
static void
s_abort_burst(struct ctx *c)
{
	static const uint8_t msgs[] = { 0x80, 0x06, 0x0d, 0x0e, 0x0c, 0x06 };

	put(c, S_BUF, msgs, sizeof(msgs));
	SCRIPT(c, S_SCRIPT,
	    I_SELECT_ATN(0), S_SCRIPT2,
	    I_MOVE(PH_MSG_OUT, sizeof(msgs)), S_BUF,
	    I_MOVE(PH_MSG_OUT, 5), S_BUF + 1,
	    I_INT, 0xbad);
	SCRIPT(c, S_SCRIPT2, I_INT, 0x5e1);
	go(c, S_SCRIPT);
}

/* An extended message of length 255 with an unknown code: REJECT. */
static void
s_extended_msg_255(struct ctx *c)
{
	uint8_t m[260] = { 0x80, 0x01, 0xff, 0x05 };

	put(c, S_BUF, m, sizeof(m));
	SCRIPT(c, S_SCRIPT,
	    I_SELECT_ATN(0), S_SCRIPT2,
	    I_MOVE(PH_MSG_OUT, 259), S_BUF,
	    I_MOVE(PH_MSG_IN, 1), S_MSGIN,
	    I_INT, 0x7e);
	SCRIPT(c, S_SCRIPT2, I_INT, 0x5e1);
	allow(c, S_MSGIN, 1);
	go(c, S_SCRIPT);
	assert_int_equal(c->ram[S_MSGIN], 0x07); /* MESSAGE REJECT */
}

/* An SDTR that claims 255 bytes and a message cut after its first byte. */
static void
s_extended_msg_truncated(struct ctx *c)
{
	static const uint8_t sdtr[] = { 0x80, 0x01, 0xff, 0x01, 0x0c };
	static const uint8_t cut[] = { 0x01 };

	put(c, S_BUF, sdtr, sizeof(sdtr));
	put(c, S_BUF + 0x10, cut, sizeof(cut));
	SCRIPT(c, S_SCRIPT,
	    I_SELECT_ATN(0), S_SCRIPT2,
	    I_MOVE(PH_MSG_OUT, sizeof(sdtr)), S_BUF,
	    I_SET_ATN, 0,
	    I_MOVE(PH_MSG_OUT, 1), S_BUF + 0x10,
	    I_INT, 0x7f);
	SCRIPT(c, S_SCRIPT2, I_INT, 0x5e1);
	go(c, S_SCRIPT);
}

/* 16 MiB of NO OPERATION messages: no message is that long (MA). */
static void
s_msg_out_max_count(struct ctx *c)
{
	static uint8_t nops[4096];

	memset(nops, 0x08, sizeof(nops));
	nops[0] = 0x80;
	put(c, S_BIG, nops, sizeof(nops));
	SCRIPT(c, S_SCRIPT,
	    I_SELECT_ATN(0), S_SCRIPT2,
	    I_MOVE(PH_MSG_OUT, 0xffffff), S_BIG,
	    I_INT, 0xbad);
	SCRIPT(c, S_SCRIPT2, I_INT, 0x5e1);
	go(c, S_SCRIPT);
}

/* ---- lengths that disagree ------------------------------------------ */

/* READ(10) sent as 4 bytes: CHECK CONDITION, no data phase. */
static void
s_cdb_short(struct ctx *c)
{
	select_cmd(c, S_SCRIPT, read8, 4, S_SCRIPT + 8 * 7);
	SCRIPT(c, S_SCRIPT + 8 * 3,
	    I_MOVE(PH_STATUS, 1), S_STATUS,
	    I_MOVE(PH_MSG_IN, 1), S_MSGIN,
	    I_CLEAR_ACK, 0,
	    I_INT, 0x5,
	    I_INT, 0xbad);
	allow(c, S_STATUS, 1);
	allow(c, S_MSGIN, 1);
	go(c, S_SCRIPT);
	assert_int_equal(c->ram[S_STATUS], 0x02);
	assert_int_equal(c->ram[S_MSGIN], 0x00);
}

/* INQUIRY (6 bytes, group 0) sent as 16: the extra bytes are ignored. */
static void
s_cdb_long(struct ctx *c)
{
	static const uint8_t inq[16] = { 0x12, 0, 0, 0, 36, 0, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	select_cmd(c, S_SCRIPT, inq, 16, S_SCRIPT + 8 * 8);
	SCRIPT(c, S_SCRIPT + 8 * 3,
	    I_MOVE(PH_DATA_IN, 36), S_DATA,
	    I_MOVE(PH_STATUS, 1), S_STATUS,
	    I_MOVE(PH_MSG_IN, 1), S_MSGIN,
	    I_CLEAR_ACK, 0,
	    I_INT, 0x6,
	    I_INT, 0xbad);
	allow(c, S_DATA, 36);
	allow(c, S_STATUS, 1);
	allow(c, S_MSGIN, 1);
	go(c, S_SCRIPT);
	assert_int_equal(c->ram[S_STATUS], 0x00);
	assert_memory_equal(c->ram + S_DATA + 8, "QEMU    ", 8);
}

/* Allocation length 8, DBC 255: 8 bytes move, then a phase mismatch. */
static void
s_dbc_past_allocation(struct ctx *c)
{
	static const uint8_t inq[6] = { 0x12, 0, 0, 0, 8, 0 };

	select_cmd(c, S_SCRIPT, inq, 6, S_SCRIPT + 8 * 5);
	SCRIPT(c, S_SCRIPT + 8 * 3, I_MOVE(PH_DATA_IN, 255), S_DATA,
	    I_INT, 0xbad);
	allow(c, S_DATA, 8);
	go(c, S_SCRIPT);
}

/* Allocation length 36, DBC 8, then STATUS: the data phase is not over. */
static void
s_dbc_short_of_allocation(struct ctx *c)
{
	static const uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 };

	select_cmd(c, S_SCRIPT, inq, 6, S_SCRIPT + 8 * 6);
	SCRIPT(c, S_SCRIPT + 8 * 3,
	    I_MOVE(PH_DATA_IN, 8), S_DATA,
	    I_MOVE(PH_STATUS, 1), S_STATUS,
	    I_INT, 0xbad);
	allow(c, S_DATA, 8);
	go(c, S_SCRIPT);
}

/* ---- selection, reselection, no request ---------------------------- */

static void
s_select_own_id(struct ctx *c)
{
	SCRIPT(c, S_SCRIPT,
	    I_SELECT_ATN(7), S_SCRIPT2,
	    I_MOVE(PH_MSG_OUT, 1), S_MSGOUT,
	    I_INT, 0xbad);
	SCRIPT(c, S_SCRIPT2, I_INT, 0x5e1);
	go(c, S_SCRIPT);
}

/* WAIT RESELECT with nobody to reselect; SIGP takes the alternate path. */
static void
s_wait_reselect_sigp(struct ctx *c)
{
	SCRIPT(c, S_SCRIPT, I_WAIT_RESEL, S_SCRIPT2, I_INT, 0xbad);
	SCRIPT(c, S_SCRIPT2, I_INT, 0x5160);
	wreg(c, REG_DSP, 4, S_SCRIPT);
	for (int i = 0; i < 50; i++)
		assert_int_equal(rreg(c, REG_ISTAT, 1) & (ISTAT_DIP |
		    ISTAT_SIP), 0);
	wreg(c, REG_ISTAT, 1, ISTAT_SIGP);
	assert_true(poll_irq(c, 2000) > 0);
}

/* SCRIPTS move data with no command behind it (QEMU asserted). */
static void
s_data_without_request(struct ctx *c)
{
	SCRIPT(c, S_SCRIPT, I_MOVE(PH_DATA_OUT, 512), S_DATA, I_INT, 0xbad);
	go(c, S_SCRIPT);
}

static void
s_illegal_instruction(struct ctx *c)
{
	SCRIPT(c, S_SCRIPT, I_BAD_XFER, S_SCRIPT, I_INT, 0xbad);
	go(c, S_SCRIPT);
}

/* ---- LOAD / STORE at the edges of the register file ----------------- */

/*
 * STORE of 7 bytes from register 0xfc: 0xfc-0xff are unimplemented and
 * read 0xff, and 0x100-0x102 are past the file: 0xff too. LOAD into the
 * same place changes nothing.
 */
static void
s_load_store_past_file(struct ctx *c)
{
	static const uint8_t ff[7] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff };
	static const uint8_t junk[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	put(c, S_BUF + 0x10, junk, sizeof(junk));
	SCRIPT(c, S_SCRIPT,
	    I_LOAD(0xfe, 7), S_BUF + 0x10,
	    I_STORE(0xfc, 7), S_BUF,
	    I_INT, 0x15);
	allow(c, S_BUF, 7);
	go(c, S_SCRIPT);
	assert_memory_equal(c->ram + S_BUF, ff, 7);
}

/* DSA-relative LOAD/STORE whose address wraps at 2^32. */
static void
s_load_store_dsa_wraps(struct ctx *c)
{
	static const uint8_t v[4] = { 0x11, 0x22, 0x33, 0x44 };

	/* DSA 0xfffffff0 + 0x20 wraps to 0x10: a LOAD from guest RAM works */
	put(c, 0x10, v, 4);
	wreg(c, REG_DSA, 4, 0xfffffff0u);
	SCRIPT(c, S_SCRIPT,
	    I_LOAD_DSA(REG_SCRATCHA, 4), 0x20,
	    I_STORE_DSA(REG_SCRATCHA, 4), 0x800000, /* -8 MiB: no RAM there */
	    I_INT, 0xbad);
	go(c, S_SCRIPT);
	assert_int_equal(rreg(c, REG_SCRATCHA, 4), 0x44332211);
}

#define DMA(d) { .dstat = (d) }
#define INT(v) { .dstat = DSTAT_SIR, .dsps = (v) }
#define SCSI(s0, s1) { .sist0 = (s0), .sist1 = (s1) }

static const struct scenario scenarios[] = {
	{ "JUMP to itself, BAR reads answered, then ABRT", s_jump_self_abort, DMA(DSTAT_ABRT), false },
	{ "JUMP to itself, then DEVICE_RESET", s_jump_self_reset, { 0 }, true },
	{ "64 KiB of empty opcodes (CVE-2019-12068)", s_empty_opcodes, INT(0xe0e0), false },
	{ "empty opcodes to the end of RAM", s_empty_opcodes_to_end, DMA(DSTAT_BF), false },
	{ "INTFLY in a loop, never serviced", s_intfly_storm, DMA(DSTAT_ABRT), false },
	{ "INT restarted 500 times, never serviced", s_int_storm, INT(0x1717), false },
	{ "16 MiB READ into 4096 one-byte table entries", s_16mib_read_1byte_table, INT(0x16), false },
	{ "DATA IN to 1 GiB (outside RAM)", s_dma_outside, DMA(DSTAT_BF), false },
	{ "DATA IN across the end of RAM", s_dma_straddles_end, DMA(DSTAT_BF), false },
	{ "DATA IN wrapping at 2^32", s_dma_wrap_2_32, DMA(DSTAT_BF), false },
	{ "table entry outside RAM", s_table_entry_outside, DMA(DSTAT_BF), false },
	{ "DSA + table offset wraps at 2^32", s_table_dsa_wraps, DMA(DSTAT_BF), false },
	{ "40-bit table indirect above 4 GiB", s_table_40bit, DMA(DSTAT_BF), false },
	{ "64-bit table indirect across 2^64", s_table_64bit_wraps, DMA(DSTAT_BF), false },
	{ "indirect pointer outside RAM", s_indirect_pointer_outside, DMA(DSTAT_BF), false },
	{ "DSP outside RAM", s_fetch_outside, DMA(DSTAT_BF), false },
	{ "memory move wrapping at 2^32", s_memmove_wraps, DMA(DSTAT_BF), false },
	{ "memory moves at the MMIO BAR (CVE-2023-0330)", s_dma_to_own_mmio, DMA(DSTAT_BF), false },
	{ "STORE to the MMIO BAR", s_load_store_own_mmio, DMA(DSTAT_BF), false },
	{ "memory move at the I/O BAR (I/O-space DMA)", s_dma_to_own_io, DMA(DSTAT_BF), false },
	{ "memory move rewrites the next instruction", s_self_rewrite, INT(0xbeef), false },
	{ "overlapping memory moves", s_overlapping_memmove, INT(2), false },
	{ "memory move of 0xffffff bytes", s_memmove_max_count, INT(3), false },
	{ "block move of 0xffffff bytes", s_block_move_max_count, SCSI(SIST0_MA, 0), false },
	{ "ABORT, ABORT TAG, CLEAR QUEUE, BDR mid-command (CVE-2022-0216)", s_abort_mid_command, SCSI(SIST0_UDC, 0), false },
	{ "IDENTIFY + abort messages in one MESSAGE OUT", s_abort_burst, SCSI(SIST0_MA, 0), false },
	{ "extended message of length 255", s_extended_msg_255, INT(0x7e), false },
	{ "extended messages truncated", s_extended_msg_truncated, INT(0x7f), false },
	{ "MESSAGE OUT of 0xffffff bytes", s_msg_out_max_count, SCSI(SIST0_MA, 0), false },
	{ "READ(10) sent as 4 CDB bytes", s_cdb_short, INT(0x5), false },
	{ "INQUIRY sent as 16 CDB bytes", s_cdb_long, INT(0x6), false },
	{ "DBC past the allocation length", s_dbc_past_allocation, SCSI(SIST0_MA, 0), false },
	{ "DBC short of the allocation length", s_dbc_short_of_allocation, SCSI(SIST0_MA, 0), false },
	{ "SELECT of our own ID 7", s_select_own_id, SCSI(0, SIST1_STO), false },
	{ "WAIT RESELECT with nothing pending, then SIGP", s_wait_reselect_sigp, INT(0x5160), false },
	{ "DATA OUT with no command", s_data_without_request, SCSI(SIST0_UDC, 0), false },
	{ "illegal transfer-control opcode", s_illegal_instruction, DMA(DSTAT_IID), false },
	{ "LOAD/STORE past the register file", s_load_store_past_file, INT(0x15), false },
	{ "DSA-relative LOAD/STORE wrapping at 2^32", s_load_store_dsa_wraps, DMA(DSTAT_BF), false },
};

/* ---- set-up and the checks every scenario ends with ------------------ */

static void
start(struct ctx *c)
{
	static const uint8_t pattern[] = "mpjail hostile-guest image";
	struct proxy_lsi_config cfg = { .ram_size = RAM_SIZE,
	    .timeout_ms = 5000 };
	size_t size = 0;
	int fd;

	memset(c, 0, sizeof(*c));
	assert_int_equal(peer_make_image(c->image, sizeof(c->image),
	    IMAGE_SIZE), 0);
	fd = open(c->image, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (off_t off = 0; off < IMAGE_SIZE; off += 4096)
		assert_int_equal(pwrite(fd, pattern, sizeof(pattern), off),
		    (ssize_t)sizeof(pattern));
	close(fd);
	chmod(c->image, 0666);
	c->image_sum = image_checksum(c->image);
	assert_int_equal(jail_start_mpjail_lsi(&c->peer, c->image, false), 0);
	c->remote = jail_find_remote(&c->peer, 5000);
	assert_true(c->remote > 0);
	assert_int_equal(proxy_attach(&c->dev, c->peer.sock, 5000), 0);
	assert_int_equal(proxy_lsi_open(&c->hba, c->dev, &cfg), 0);
	/* the power-on unit attention, taken as a driver's scan does */
	for (int i = 0; i < 2; i++) {
		struct proxy_lsi_cmd tur = { .tag = -1, .cdb_len = 6 };

		assert_int_equal(proxy_lsi_exec(c->hba, &tur), 0);
		assert_int_equal(tur.status, i == 0 ? 0x02 : 0x00);
	}
	c->ram = proxy_lsi_ram(c->hba, &size);
	assert_int_equal(size, RAM_SIZE);
	for (size_t i = CANARY_FROM; i < RAM_SIZE; i++)
		c->ram[i] = canary(i);
	c->want = malloc(RAM_SIZE);
	assert_non_null(c->want);
	memcpy(c->want, c->ram, RAM_SIZE);
	c->base_fds = peer_count_fds(c->remote);
	assert_true(c->base_fds > 0);
}

static bool
allowed(const struct ctx *c, size_t i)
{
	for (unsigned int k = 0; k < c->nallow; k++)
		if (i >= c->allow[k].at && i - c->allow[k].at < c->allow[k].len)
			return true;
	return false;
}

/* Only the allowed bytes of guest RAM changed. */
static void
check_ram(struct ctx *c, const char *name)
{
	for (size_t i = 0; i < RAM_SIZE; i++) {
		if (c->ram[i] == c->want[i] || allowed(c, i))
			continue;
		fail_msg("%s: guest RAM at 0x%zx is 0x%02x, was 0x%02x", name,
		    i, c->ram[i], c->want[i]);
	}
}

static void
check_irq(struct ctx *c, const struct scenario *s)
{
	if (s->no_irq)
		return;
	if (!c->got_irq)
		fail_msg("%s: no interrupt", s->name);
	if (c->got.dstat != s->want.dstat || c->got.sist0 != s->want.sist0 ||
	    c->got.sist1 != s->want.sist1 ||
	    ((s->want.dstat & DSTAT_SIR) && c->got.dsps != s->want.dsps))
		fail_msg("%s: DSTAT 0x%02x SIST0 0x%02x SIST1 0x%02x DSPS 0x%x, "
		    "wanted 0x%02x 0x%02x 0x%02x 0x%x", s->name, c->got.dstat,
		    c->got.sist0, c->got.sist1, c->got.dsps, s->want.dstat,
		    s->want.sist0, s->want.sist1, s->want.dsps);
}

/* BAR reads, a DEVICE_RESET, a chip reset, then a normal INQUIRY. */
static void
check_alive(struct ctx *c, const char *name)
{
	uint8_t data[36];
	struct proxy_lsi_cmd inq = { .target = 0, .tag = -1,
	    .cdb = { 0x12, 0, 0, 0, 36, 0 }, .cdb_len = 6, .data = data,
	    .data_len = sizeof(data), .dir = PROXY_LSI_IN };
	uint32_t v;

	for (int i = 0; i < 10; i++)
		assert_int_equal(proxy_lsi_reg_read(c->hba, REG_ISTAT, 1, &v), 0);
	assert_int_equal(proxy_device_reset(c->dev), 0);
	assert_int_equal(proxy_lsi_chip_reset(c->hba), 0);
	if (proxy_lsi_exec(c->hba, &inq) != 0 || inq.status != 0 ||
	    memcmp(data + 8, "QEMU    ", 8) != 0)
		fail_msg("%s: INQUIRY after reset failed (status 0x%02x)", name,
		    inq.status);
}

static void
finish(struct ctx *c, const struct scenario *s)
{
	char err[2048];
	int status = 0, fds;

	check_irq(c, s);
	check_ram(c, s->name);
	check_alive(c, s->name);
	fds = peer_count_fds(c->remote);
	if (fds != c->base_fds)
		fail_msg("%s: remote fds %d, were %d", s->name, fds, c->base_fds);
	proxy_lsi_close(c->hba);
	proxy_detach(c->dev);
	assert_int_equal(peer_stop(&c->peer, 5000, &status), 0);
	peer_stderr(&c->peer, err, sizeof(err));
	if (!WIFEXITED(status))
		fail_msg("%s: mpjail-run died by signal %d", s->name,
		    WTERMSIG(status));
	if (WEXITSTATUS(status) != 0 || err[0])
		fail_msg("%s: exit %d, stderr '%s'", s->name,
		    WEXITSTATUS(status), err);
	if (image_checksum(c->image) != c->image_sum)
		fail_msg("%s: the image changed", s->name);
	unlink(c->image);
	free(c->want);
}

static void
test_scenario(void **state)
{
	const struct scenario *s = *state;
	struct ctx c;

	start(&c);
	s->run(&c);
	finish(&c, s);
}

int
main(void)
{
	enum { N = sizeof(scenarios) / sizeof(scenarios[0]) };
	struct CMUnitTest tests[N];

	if (geteuid() != 0) {
		fprintf(stderr, "hostile-guest: needs root (mpjail-run becomes "
		    "the tenant uid as the broker does)\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < N; i++) {
		tests[i] = (struct CMUnitTest){ scenarios[i].name, test_scenario,
		    NULL, NULL, (void *)&scenarios[i] };
	}
	return _cmocka_run_group_tests("hostile guest vs confined mpjail-lsi",
	    tests, N, NULL, NULL);
}
