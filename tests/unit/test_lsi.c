/*
 * tests/unit/test_lsi.c: the LSI53C895A register file, interrupts and the
 * SCRIPTS processor, driven through lsi_bar_read/lsi_bar_write as the
 * server would, against a fake SCSI target (a RAM disk) behind
 * lsi_scsi_ops. Guest RAM is a sealed memfd mapped through dma_sync; INTx
 * is a real eventfd pair through irq_set_fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "remote/dma.h"
#include "remote/irq.h"
#include "remote/lsi.h"
#include "remote/lsi_regs.h"
#include "remote/pci.h"
#include "remote/scripts.h"

#define RAM_SIZE   (16u << 20)
#define BAR1_BASE  0xfebfe000u
#define BAR2_BASE  0xfebfc000u
#define IO_BASE    0xc000u
#define DISK_SIZE  (8u << 20)
#define FAKE_ID    0u
#define FAKE_ID2   2u

/* Guest-physical layout used by the tests. */
#define SCRIPT     0x1000u
#define DATA       0x10000u
#define MSGOUT     0x8000u
#define CDB        0x8100u
#define STATUS     0x8200u
#define MSGIN      0x8300u
#define TABLE      0x9000u

/* ------------------------------------------------------------------ */
/* The fake target: a RAM disk answering a few CDBs.                    */

struct fake {
	uint8_t *disk;
	uint64_t pos;            /* byte offset of the next data transfer */
	uint8_t status;
	unsigned int starts, cancels, resets, completes;
	unsigned int data_calls;
	size_t max_chunk;
	int last_tag;
	unsigned int last_lun, last_target;
	bool active;
	bool fail_io;
	uint8_t inq[36];
	const uint8_t *inq_p;
};

static bool
fake_present(void *opaque, unsigned int target)
{
	(void)opaque;
	return target == FAKE_ID || target == FAKE_ID2;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
fake_start(void *opaque, unsigned int target, unsigned int lun, int tag,
    const uint8_t *cdb, size_t cdb_len, struct lsi_scsi_xfer *x)
{
	struct fake *f = opaque;

	f->starts++;
	f->last_tag = tag;
	f->last_lun = lun;
	f->last_target = target;
	f->active = true;
	f->status = 0;
	f->inq_p = NULL;
	x->dir = LSI_SCSI_DIR_NONE;
	x->len = 0;
	if (cdb_len < 6) {
		f->status = 2;
		return 0;
	}
	switch (cdb[0]) {
	case 0x00: /* TEST UNIT READY */
		break;
	case 0x12: /* INQUIRY */
		memset(f->inq, 0, sizeof(f->inq));
		f->inq[2] = 5;
		f->inq[4] = 31;
		memcpy(&f->inq[8], "MPJAIL  FAKEDISK        0001", 28);
		f->inq_p = f->inq;
		f->pos = 0;
		x->dir = LSI_SCSI_DIR_IN;
		x->len = cdb[4] < 36 ? cdb[4] : 36;
		break;
	case 0x28: /* READ(10) */
	case 0x2a: { /* WRITE(10) */
		uint64_t lba = be32(&cdb[2]);
		uint32_t n = (uint32_t)cdb[7] << 8 | cdb[8];

		if (cdb_len < 10 || (lba + n) * 512 > DISK_SIZE) {
			f->status = 2;
			break;
		}
		f->pos = lba * 512;
		x->dir = cdb[0] == 0x28 ? LSI_SCSI_DIR_IN : LSI_SCSI_DIR_OUT;
		x->len = n * 512;
		break;
	}
	default:
		f->status = 2; /* CHECK CONDITION */
		break;
	}
	return 0;
}

static int
fake_data_in(void *opaque, unsigned int target, unsigned int lun,
    uint8_t *buf, size_t len)
{
	struct fake *f = opaque;

	(void)target;
	(void)lun;
	f->data_calls++;
	if (len > f->max_chunk)
		f->max_chunk = len;
	if (f->fail_io) {
		f->status = 2;
		return -EIO;
	}
	if (f->inq_p)
		memcpy(buf, f->inq_p + f->pos, len);
	else
		memcpy(buf, f->disk + f->pos, len);
	f->pos += len;
	return 0;
}

static int
fake_data_out(void *opaque, unsigned int target, unsigned int lun,
    const uint8_t *buf, size_t len)
{
	struct fake *f = opaque;

	(void)target;
	(void)lun;
	f->data_calls++;
	if (len > f->max_chunk)
		f->max_chunk = len;
	memcpy(f->disk + f->pos, buf, len);
	f->pos += len;
	return 0;
}

static uint8_t
fake_complete(void *opaque, unsigned int target, unsigned int lun)
{
	struct fake *f = opaque;

	(void)target;
	(void)lun;
	f->completes++;
	f->active = false;
	return f->status;
}

static void
fake_cancel(void *opaque, unsigned int target, unsigned int lun)
{
	struct fake *f = opaque;

	(void)target;
	(void)lun;
	f->cancels++;
	f->active = false;
}

static void
fake_bus_reset(void *opaque)
{
	struct fake *f = opaque;

	f->resets++;
}

static const struct lsi_scsi_ops fake_ops = {
	.present = fake_present,
	.start = fake_start,
	.data_in = fake_data_in,
	.data_out = fake_data_out,
	.complete = fake_complete,
	.cancel = fake_cancel,
	.bus_reset = fake_bus_reset,
};

/* ------------------------------------------------------------------ */
/* The environment: what struct remote holds, built by hand.           */

struct env {
	struct pci_dev pci;
	struct dma_map dma;
	struct irq_line irq;
	struct lsi_state lsi;
	struct fake fake;
	uint8_t *ram;      /* our own view of guest RAM */
	int irqfd;         /* our end of the interrupt eventfd */
};

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct dma_region_req req;
	char why[160];
	int fd, efd, rfd;

	assert_non_null(e);
	fd = memfd_create("guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, RAM_SIZE), 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	e->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(e->ram != MAP_FAILED);
	req.gpa = 0;
	req.size = RAM_SIZE;
	req.offset = 0;
	req.fd = fd; /* consumed */
	assert_int_equal(dma_sync(&e->dma, &req, 1, why, sizeof(why)), 0);

	pci_init(&e->pci, &lsi_pci_identity);
	assert_int_equal(pci_config_write(&e->pci, PCI_BASE_ADDRESS_0,
	    IO_BASE, 4), 0);
	assert_int_equal(pci_config_write(&e->pci, PCI_BASE_ADDRESS_0 + 4,
	    BAR1_BASE, 4), 0);
	assert_int_equal(pci_config_write(&e->pci, PCI_BASE_ADDRESS_0 + 8,
	    BAR2_BASE, 4), 0);
	assert_int_equal(pci_config_write(&e->pci, PCI_COMMAND,
	    PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2), 0);

	irq_init(&e->irq);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(efd >= 0 && rfd >= 0);
	e->irqfd = dup(efd);
	assert_int_equal(irq_set_fds(&e->irq, efd, rfd, why, sizeof(why)), 0);

	e->fake.disk = calloc(1, DISK_SIZE);
	assert_non_null(e->fake.disk);
	for (uint32_t i = 0; i < DISK_SIZE; i++)
		e->fake.disk[i] = (uint8_t)(i * 7 + (i >> 9));
	lsi_init(&e->lsi, &e->pci, &e->dma, &e->irq);
	lsi_set_scsi(&e->lsi, &fake_ops, &e->fake);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;

	dma_clear(&e->dma);
	irq_close(&e->irq);
	close(e->irqfd);
	munmap(e->ram, RAM_SIZE);
	free(e->fake.disk);
	free(e);
	return 0;
}

static uint8_t
rd8(struct env *e, unsigned int off)
{
	uint64_t v = 0;

	assert_int_equal(lsi_bar_read(&e->lsi, LSI_BAR_IO, off, 1, &v), 0);
	return (uint8_t)v;
}

static uint32_t
rd32(struct env *e, unsigned int off)
{
	uint64_t v = 0;

	assert_int_equal(lsi_bar_read(&e->lsi, LSI_BAR_MMIO, off, 4, &v), 0);
	return (uint32_t)v;
}

static void
wr8(struct env *e, unsigned int off, uint8_t v)
{
	assert_int_equal(lsi_bar_write(&e->lsi, LSI_BAR_IO, off, 1, v), 0);
}

static void
wr32(struct env *e, unsigned int off, uint32_t v)
{
	assert_int_equal(lsi_bar_write(&e->lsi, LSI_BAR_MMIO, off, 4, v), 0);
}

/* Interrupt writes since the last call (the eventfd counter). */
static uint64_t
irq_count(struct env *e)
{
	uint64_t n = 0;

	if (read(e->irqfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return 0;
	return n;
}

static void
put32(struct env *e, uint32_t gpa, uint32_t v)
{
	memcpy(e->ram + gpa, &v, 4);
}

/* Write a SCRIPTS program (pairs and triples of words) into guest RAM. */
static void
put_script(struct env *e, uint32_t gpa, const uint32_t *w, size_t n)
{
	memcpy(e->ram + gpa, w, n * 4);
}

/* Start SCRIPTS at addr (4-byte DSP write) and run slices to the end. */
static void
run_at(struct env *e, uint32_t addr)
{
	wr32(e, LSI_DSP, addr);
	for (int i = 0; i < 64 && lsi_pending(&e->lsi); i++)
		lsi_run(&e->lsi);
}

/* SCRIPTS words. */
#define SEL_ATN(id)     (0x41000008u | (uint32_t)(id) << 16)
#define SEL_TBL_ATN     (0x43000000u) /* low 24 bits: the offset */
#define MOVE(ph, n)     ((uint32_t)(ph) << 24 | (n))
#define MOVE_TBL(ph)    (0x10000000u | (uint32_t)(ph) << 24)
#define INT_            0x98080000u
#define INTFLY          0x98180000u
#define JUMP            0x80080000u
#define JUMP_REL        0x80880000u
#define CALL            0x88080000u
#define RETURN          0x90080000u
#define JUMP_IF_CARRY   0x80280000u
#define JUMP_NOT_PHASE(ph) (0x80820000u | (uint32_t)(ph) << 24)
#define WAIT_RESEL      0x50000000u
#define SET_ATN         0x58000008u
#define CLEAR_ACK       0x60000040u
#define MEMMOVE(n)      (0xc0000000u | (n))
#define LOAD(reg, n)    (0xe1000000u | (uint32_t)(reg) << 16 | (n))
#define STORE(reg, n)   (0xe0000000u | (uint32_t)(reg) << 16 | (n))
#define DSAREL          0x10000000u
#define REG_LOAD(reg, v) (0x78000000u | (uint32_t)(reg) << 16 | (uint32_t)(v) << 8)
#define REG_ADD(reg, v) (0x7e000000u | (uint32_t)(reg) << 16 | (uint32_t)(v) << 8)
#define TO_SFBR(reg)    (0x72000000u | (uint32_t)(reg) << 16)
#define FROM_SFBR(reg)  (0x6a000000u | (uint32_t)(reg) << 16)

static void
read10(uint8_t *cdb, uint8_t op, uint32_t lba, uint16_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	cdb[2] = (uint8_t)(lba >> 24);
	cdb[3] = (uint8_t)(lba >> 16);
	cdb[4] = (uint8_t)(lba >> 8);
	cdb[5] = (uint8_t)lba;
	cdb[7] = (uint8_t)(n >> 8);
	cdb[8] = (uint8_t)n;
}

/*
 * SeaBIOS's script shape: select with ATN, IDENTIFY, a 16-byte CDB move,
 * skip the disconnect handling unless in MESSAGE IN, data, status,
 * message in, INT.
 */
static uint32_t
seabios_script(struct env *e, uint32_t id, uint8_t dataphase, uint32_t len)
{
	const uint32_t w[] = {
		SEL_ATN(id), 0,
		MOVE(LSI_PHASE_MO, 1), MSGOUT,
		MOVE(LSI_PHASE_CMD, 16), CDB,
		JUMP_NOT_PHASE(LSI_PHASE_MI) & ~0x00800000u /* absolute */,
		    SCRIPT + 14 * 4,
		MOVE(LSI_PHASE_MI, 2), MSGIN + 8,
		WAIT_RESEL, 0,
		MOVE(LSI_PHASE_MI, 2), MSGIN + 8,
		MOVE(dataphase, len), DATA,
		MOVE(LSI_PHASE_ST, 1), STATUS,
		MOVE(LSI_PHASE_MI, 1), MSGIN,
		INT_, 0x1234,
	};

	e->ram[MSGOUT] = 0x80; /* IDENTIFY, LUN 0 */
	put_script(e, SCRIPT, w, sizeof(w) / 4);
	return SCRIPT;
}

/* ------------------------------------------------------------------ */
/* The register file.                                                   */

static void
test_reset_values(void **state)
{
	struct env *e = *state;
	static const struct { uint8_t off, val; } r[] = {
		{ LSI_SCNTL0, 0xc0 }, { LSI_SCNTL1, 0 }, { LSI_SCID, 0x07 },
		{ LSI_GPREG, 0x7f }, { LSI_ISTAT, 0 }, { LSI_ISTAT1, 0 },
		{ LSI_CTEST0, 0xff }, { LSI_CTEST1, 0 }, { LSI_CTEST2, 0x11 },
		{ LSI_CTEST3, 0 }, { LSI_DCMD, 0x40 }, { LSI_RESPID0, 0x80 },
		{ LSI_MACNTL, 0x0f }, { LSI_GPCNTL, 0x0f }, { LSI_STEST4, 0xe0 },
		{ LSI_SSTAT2, 0x02 }, { LSI_SBDL, 0 }, { LSI_STIME1, 0xff },
		{ 0x45, 0xff }, { 0x4c, 0xff }, { 0xbc, 0xff }, { 0xf0, 0xff },
		{ LSI_DSTAT, 0x80 }, /* DFE always set */
	};

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		if (rd8(e, r[i].off) != r[i].val)
			fail_msg("reg 0x%02x reads 0x%02x, want 0x%02x",
			    r[i].off, rd8(e, r[i].off), r[i].val);
	}
	/* The MMIO BAR repeats the registers every 256 bytes. */
	for (unsigned int rep = 0; rep < 4; rep++) {
		uint64_t v = 0;

		assert_int_equal(lsi_bar_read(&e->lsi, LSI_BAR_MMIO,
		    rep * 256 + LSI_SCNTL0, 1, &v), 0);
		assert_int_equal(v, 0xc0);
	}
	/* Out of the BAR, or a bad width: refused. */
	uint64_t v;
	assert_int_equal(lsi_bar_read(&e->lsi, LSI_BAR_IO, 255, 2, &v), -EINVAL);
	assert_int_equal(lsi_bar_read(&e->lsi, LSI_BAR_MMIO, 0, 3, &v), -EINVAL);
	assert_int_equal(lsi_bar_read(&e->lsi, 3, 0, 1, &v), -EINVAL);
}

static void
test_register_access(void **state)
{
	struct env *e = *state;

	/* Plain read/write, 32-bit, MMIO and I/O views agree. */
	wr32(e, LSI_SCRATCHA, 0xdeadbeef);
	assert_int_equal(rd32(e, LSI_SCRATCHA), 0xdeadbeef);
	assert_int_equal(rd8(e, LSI_SCRATCHA + 3), 0xde);
	wr32(e, 0x300 + LSI_DSA, 0x12345678);
	assert_int_equal(rd32(e, LSI_DSA), 0x12345678);
	wr32(e, 0x5c + 4 * 16, 0xa5a5a5a5); /* SCRATCHR */
	assert_int_equal(rd32(e, LSI_SCRATCHR), 0xa5a5a5a5);
	/* Write masks. */
	wr8(e, LSI_SDID, 0xff);
	assert_int_equal(rd8(e, LSI_SDID), 0x0f);
	wr8(e, LSI_CTEST3, 0xff);
	assert_int_equal(rd8(e, LSI_CTEST3), 0x0f);
	wr8(e, LSI_SCNTL2, 0xff);
	assert_int_equal(rd8(e, LSI_SCNTL2), 0xf6);
	wr8(e, LSI_DCNTL, 0xff & ~LSI_DCNTL_STD);
	assert_int_equal(rd8(e, LSI_DCNTL), 0xbb);
	wr8(e, LSI_DCNTL, 0);
	wr8(e, LSI_CTEST2, 0xff);
	assert_int_equal(rd8(e, LSI_CTEST2), 0x19);
	/* Read-only registers ignore writes. */
	wr8(e, LSI_SSTAT0, 0xff);
	wr8(e, LSI_SSTAT1, 0xff);
	wr8(e, LSI_SOCL, 0xff);
	wr8(e, LSI_GPREG, 0);
	wr8(e, LSI_DCMD, 0);
	wr32(e, LSI_ADDER, 0xffffffff);
	assert_int_equal(rd8(e, LSI_SSTAT0), 0);
	assert_int_equal(rd8(e, LSI_SSTAT1), 0);
	assert_int_equal(rd8(e, LSI_SOCL), 0);
	assert_int_equal(rd8(e, LSI_GPREG), 0x7f);
	assert_int_equal(rd8(e, LSI_DCMD), 0x40);
	assert_int_equal(rd32(e, LSI_ADDER), 0);
	/* ISTAT: the chip's low nibble is not the host's to set. */
	wr8(e, LSI_ISTAT, 0x1f);
	assert_int_equal(rd8(e, LSI_ISTAT), LSI_ISTAT_SEM);
	wr8(e, LSI_ISTAT, 0);
	/* SCRIPTS RAM at BAR2: 8 KiB, any width. */
	assert_int_equal(lsi_bar_write(&e->lsi, LSI_BAR_RAM, 8184, 8,
	    0x0123456789abcdefull), 0);
	uint64_t v = 0;
	assert_int_equal(lsi_bar_read(&e->lsi, LSI_BAR_RAM, 8188, 4, &v), 0);
	assert_int_equal(v, 0x01234567);
	assert_int_equal(lsi_bar_write(&e->lsi, LSI_BAR_RAM, 8190, 4, 0),
	    -EINVAL);
}

static void
test_read_to_clear_and_irq(void **state)
{
	struct env *e = *state;

	irq_count(e);
	/* STIME1 with a timer value: SIST1 GEN at once; masked: no INTx. */
	wr8(e, LSI_STIME1, 0x01);
	assert_int_equal(rd8(e, LSI_ISTAT) & LSI_ISTAT_SIP, LSI_ISTAT_SIP);
	assert_false(e->irq.level);
	assert_int_equal(irq_count(e), 0);
	/* Enabling it raises the line: one eventfd write, status bit set. */
	wr8(e, LSI_SIEN1, LSI_SIST1_GEN);
	assert_true(e->irq.level);
	assert_int_equal(irq_count(e), 1);
	assert_true(e->pci.config[PCI_STATUS] & PCI_STATUS_INTERRUPT);
	/* INTx Disable gates the line, not the status bit. */
	assert_int_equal(pci_config_write(&e->pci, PCI_COMMAND,
	    PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	    PCI_COMMAND_INTX_DISABLE, 2), 0);
	lsi_update_irq(&e->lsi);
	assert_false(e->irq.level);
	assert_true(e->pci.config[PCI_STATUS] & PCI_STATUS_INTERRUPT);
	assert_int_equal(pci_config_write(&e->pci, PCI_COMMAND,
	    PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2), 0);
	lsi_update_irq(&e->lsi);
	assert_true(e->irq.level);
	irq_count(e);
	/* A 2-byte read of SIST0/SIST1 returns and clears both. */
	uint64_t v = 0;
	assert_int_equal(lsi_bar_read(&e->lsi, LSI_BAR_MMIO, LSI_SIST0, 2, &v),
	    0);
	assert_int_equal(v, (uint64_t)LSI_SIST1_GEN << 8);
	assert_int_equal(rd8(e, LSI_SIST1), 0);
	assert_int_equal(rd8(e, LSI_ISTAT) & LSI_ISTAT_SIP, 0);
	assert_false(e->irq.level);
	assert_false(e->pci.config[PCI_STATUS] & PCI_STATUS_INTERRUPT);
}

/* ------------------------------------------------------------------ */
/* SCRIPTS and the SCSI phases.                                         */

static void
test_seabios_read(void **state)
{
	struct env *e = *state;
	uint32_t start;

	read10(e->ram + CDB, 0x28, 3, 2);
	start = seabios_script(e, FAKE_ID, LSI_PHASE_DI, 1024);
	e->ram[STATUS] = 0xee;
	e->ram[MSGIN] = 0xee;
	/* SeaBIOS writes DSP byte by byte through the I/O BAR. */
	wr8(e, LSI_DSP + 0, (uint8_t)start);
	wr8(e, LSI_DSP + 1, (uint8_t)(start >> 8));
	wr8(e, LSI_DSP + 2, (uint8_t)(start >> 16));
	assert_int_equal(e->fake.starts, 0); /* DSP3 starts SCRIPTS */
	wr8(e, LSI_DSP + 3, (uint8_t)(start >> 24));
	while (lsi_pending(&e->lsi))
		lsi_run(&e->lsi);
	/* It polls DSTAT, SIST0, SIST1. */
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_int_equal(rd8(e, LSI_SIST0), 0);
	assert_int_equal(rd8(e, LSI_SIST1), 0);
	assert_int_equal(rd32(e, LSI_DSPS), 0x1234);
	assert_memory_equal(e->ram + DATA, e->fake.disk + 3 * 512, 1024);
	assert_int_equal(e->ram[STATUS], 0);
	assert_int_equal(e->ram[MSGIN], 0); /* COMMAND COMPLETE */
	assert_int_equal(e->fake.starts, 1);
	assert_int_equal(e->fake.completes, 1);
	assert_int_equal(e->fake.last_lun, 0);
	assert_int_equal(e->fake.last_tag, -1);
	/* Disconnected after COMMAND COMPLETE; stopped at the INT. */
	assert_int_equal(rd8(e, LSI_SCNTL1) & LSI_SCNTL1_CON, 0);
	assert_int_equal(rd8(e, LSI_ISTAT1) & LSI_ISTAT1_SRUN, 0);
	assert_int_equal(rd32(e, LSI_DSP), SCRIPT + 22 * 4);
	/* DSTAT read cleared it. */
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE);
}

static void
test_write_and_check_condition(void **state)
{
	struct env *e = *state;

	for (uint32_t i = 0; i < 2048; i++)
		e->ram[DATA + i] = (uint8_t)(i ^ 0x5a);
	read10(e->ram + CDB, 0x2a, 100, 4);
	run_at(e, seabios_script(e, FAKE_ID, LSI_PHASE_DO, 2048));
	assert_int_equal(rd8(e, LSI_DSTAT) & LSI_DSTAT_SIR, LSI_DSTAT_SIR);
	assert_memory_equal(e->fake.disk + 100 * 512, e->ram + DATA, 2048);
	assert_int_equal(e->ram[STATUS], 0);

	/* An unknown CDB: no data phase, CHECK CONDITION in STATUS. */
	memset(e->ram + CDB, 0, 16);
	e->ram[CDB] = 0xc7;
	{
		const uint32_t w[] = {
			SEL_ATN(FAKE_ID), 0,
			MOVE(LSI_PHASE_MO, 1), MSGOUT,
			MOVE(LSI_PHASE_CMD, 6), CDB,
			JUMP_NOT_PHASE(LSI_PHASE_ST) & ~0x00800000u, 0xdead0,
			MOVE(LSI_PHASE_ST, 1), STATUS,
			MOVE(LSI_PHASE_MI, 1), MSGIN,
			INT_, 1,
		};
		put_script(e, SCRIPT, w, sizeof(w) / 4);
	}
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT) & LSI_DSTAT_SIR, LSI_DSTAT_SIR);
	assert_int_equal(e->ram[STATUS], 2);
	assert_int_equal(rd32(e, LSI_DSPS), 1);
}

static void
test_inquiry_short_alloc_and_sfbr(void **state)
{
	struct env *e = *state;

	memset(e->ram + CDB, 0, 16);
	e->ram[CDB] = 0x12;
	e->ram[CDB + 4] = 36;
	run_at(e, seabios_script(e, FAKE_ID, LSI_PHASE_DI, 36));
	assert_int_equal(rd8(e, LSI_DSTAT) & LSI_DSTAT_SIR, LSI_DSTAT_SIR);
	assert_memory_equal(e->ram + DATA + 8, "MPJAIL  FAKEDISK", 16);
	assert_int_equal(e->ram[DATA + 2], 5);
	/* SFBR holds the last message byte (COMMAND COMPLETE), SIDL too. */
	assert_int_equal(rd8(e, LSI_SFBR), 0);
	assert_int_equal(rd8(e, LSI_SIDL), 0);
}

/* A data move longer than the transfer: phase mismatch, or PMJ jump. */
static void
test_short_transfer(void **state)
{
	struct env *e = *state;

	read10(e->ram + CDB, 0x28, 0, 1);
	run_at(e, seabios_script(e, FAKE_ID, LSI_PHASE_DI, 4096));
	assert_int_equal(rd8(e, LSI_SIST0) & LSI_SIST0_MA, LSI_SIST0_MA);
	assert_int_equal(rd8(e, LSI_ISTAT1) & LSI_ISTAT1_SRUN, 0);
	assert_int_equal(rd8(e, LSI_SSTAT1) & 7, LSI_PHASE_ST);
	assert_int_equal(rd32(e, LSI_DBC) & 0xffffff, 4096 - 512);
	assert_int_equal(rd32(e, LSI_DNAD), DATA + 512);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE);
	assert_memory_equal(e->ram + DATA, e->fake.disk, 512);

	/* With CCNTL0 ENPMJ the chip jumps to PMJAD2 (DATA IN) instead. */
	{
		const uint32_t tail[] = {
			MOVE(LSI_PHASE_ST, 1), STATUS,
			MOVE(LSI_PHASE_MI, 1), MSGIN,
			INT_, 0x77,
		};
		put_script(e, 0x6000, tail, 6);
	}
	wr8(e, LSI_SCNTL1, 0); /* MA left the bus connected */
	wr8(e, LSI_CCNTL0, LSI_CCNTL0_ENPMJ | LSI_CCNTL0_PMJCTL);
	wr32(e, LSI_PMJAD2, 0x6000);
	wr32(e, LSI_PMJAD1, 0xbad0);
	run_at(e, seabios_script(e, FAKE_ID, LSI_PHASE_DI, 4096));
	assert_int_equal(rd8(e, LSI_SIST0), 0);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_int_equal(rd32(e, LSI_DSPS), 0x77);
	assert_int_equal(e->ram[STATUS], 0);
}

/* The Linux driver's way: table-indirect SELECT and moves off the DSA. */
static void
test_table_indirect(void **state)
{
	struct env *e = *state;
	uint32_t dsa = TABLE;
	const uint32_t w[] = {
		SEL_TBL_ATN | 0x00, 0,             /* select: DSA+0 */
		MOVE_TBL(LSI_PHASE_MO), 0x08,      /* msgout: DSA+8 */
		MOVE_TBL(LSI_PHASE_CMD), 0x10,     /* command: DSA+16 */
		MOVE_TBL(LSI_PHASE_DI), 0x18,      /* data: DSA+24 */
		MOVE_TBL(LSI_PHASE_DI), 0x20,      /* data: DSA+32 */
		MOVE_TBL(LSI_PHASE_ST), 0xfffff8,  /* status: DSA-8 */
		MOVE_TBL(LSI_PHASE_MI), 0x28,      /* msgin: DSA+40 */
		INTFLY, 0,
		INT_, 0x99,
	};
	uint8_t msg[3] = { 0xc0 | 1, 0x20, 0x2a }; /* IDENTIFY LUN1, tag */

	put32(e, dsa + 0, FAKE_ID2 << 16);
	put32(e, dsa + 8, 3);
	put32(e, dsa + 12, MSGOUT);
	memcpy(e->ram + MSGOUT, msg, 3);
	put32(e, dsa + 16, 10);
	put32(e, dsa + 20, CDB);
	read10(e->ram + CDB, 0x28, 10, 2);
	/* Scatter/gather: 300 bytes here, 724 bytes far away. */
	put32(e, dsa + 24, 300);
	put32(e, dsa + 28, DATA);
	put32(e, dsa + 32, 724);
	put32(e, dsa + 36, DATA + 0x100000);
	put32(e, dsa - 8, 1);
	put32(e, dsa - 4, STATUS);
	put32(e, dsa + 40, 1);
	put32(e, dsa + 44, MSGIN);
	e->ram[STATUS] = 0xee;
	put_script(e, SCRIPT, w, sizeof(w) / 4);
	wr32(e, LSI_DSA, dsa);
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_int_equal(e->fake.last_target, FAKE_ID2);
	assert_int_equal(e->fake.last_lun, 1);
	assert_int_equal(e->fake.last_tag, 0x2a);
	assert_int_equal(rd8(e, LSI_SDID), FAKE_ID2);
	assert_memory_equal(e->ram + DATA, e->fake.disk + 10 * 512, 300);
	assert_memory_equal(e->ram + DATA + 0x100000,
	    e->fake.disk + 10 * 512 + 300, 724);
	assert_int_equal(e->ram[STATUS], 0);
	/* INTFLY did not stop SCRIPTS, and leaves ISTAT INTF set. */
	assert_int_equal(rd8(e, LSI_ISTAT) & LSI_ISTAT_INTF, LSI_ISTAT_INTF);
	assert_int_equal(rd32(e, LSI_DSPS), 0x99);
}

static void
test_int_and_intfly_raise_irq(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		INTFLY, 0,
		INT_, 0x55,
	};

	put_script(e, SCRIPT, w, 4);
	irq_count(e);
	/* DIEN masks SIR: INTF alone raises the line. */
	run_at(e, SCRIPT);
	assert_true(e->irq.level);
	assert_int_equal(irq_count(e), 1);
	assert_int_equal(rd8(e, LSI_ISTAT) & (LSI_ISTAT_INTF | LSI_ISTAT_DIP),
	    LSI_ISTAT_INTF | LSI_ISTAT_DIP);
	/* While INTF is set, reading DSTAT does not clear it (as QEMU). */
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	/* Writing INTF clears it; SIR is masked, so the line falls. */
	wr8(e, LSI_ISTAT, LSI_ISTAT_INTF);
	assert_int_equal(rd8(e, LSI_ISTAT) & LSI_ISTAT_INTF, 0);
	assert_false(e->irq.level);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_int_equal(rd8(e, LSI_ISTAT) & LSI_ISTAT_DIP, 0);

	/* DIEN SIR: INT raises INTx; reading DSTAT lowers it. */
	wr8(e, LSI_DIEN, LSI_DSTAT_SIR);
	run_at(e, SCRIPT + 8);
	assert_true(e->irq.level);
	assert_int_equal(irq_count(e), 1);
	assert_int_equal(rd8(e, LSI_ISTAT), LSI_ISTAT_DIP);
	/* Resample while high: signalled again (level on an edge irqfd). */
	irq_resample(&e->irq);
	assert_int_equal(irq_count(e), 1);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_false(e->irq.level);
	assert_int_equal(rd8(e, LSI_ISTAT), 0);
}

static void
test_selection_timeout(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		SEL_ATN(5), 0,
		REG_LOAD(LSI_SCRATCHA, 0x42), 0,  /* runs: STO does not stop */
		MOVE(LSI_PHASE_MO, 1), MSGOUT,    /* stalls here */
		INT_, 1,
	};

	put_script(e, SCRIPT, w, sizeof(w) / 4);
	wr8(e, LSI_SIEN1, LSI_SIST1_STO);
	irq_count(e);
	run_at(e, SCRIPT);
	assert_true(e->irq.level);
	assert_int_equal(irq_count(e), 1);
	assert_int_equal(rd8(e, LSI_ISTAT) & LSI_ISTAT_SIP, LSI_ISTAT_SIP);
	assert_int_equal(rd8(e, LSI_ISTAT1) & LSI_ISTAT1_SRUN, 0);
	assert_int_equal(rd8(e, LSI_SCRATCHA), 0x42);
	/* The Linux driver checks DSP: just past the stalled instruction. */
	assert_int_equal(rd32(e, LSI_DSP), SCRIPT + 24);
	assert_int_equal(rd8(e, LSI_SIST0), 0);
	assert_int_equal(rd8(e, LSI_SIST1), LSI_SIST1_STO);
	assert_false(e->irq.level);
	assert_int_equal(rd8(e, LSI_SCNTL1) & LSI_SCNTL1_CON, 0);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE);
	assert_int_equal(e->fake.starts, 0);
}

static void
test_infinite_loop_yields(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		REG_ADD(LSI_SCRATCHA, 1), 0,
		JUMP, SCRIPT,
	};

	put_script(e, SCRIPT, w, 4);
	wr32(e, LSI_DSP, SCRIPT); /* runs one slice inside the write */
	assert_true(lsi_pending(&e->lsi));
	assert_int_equal(rd32(e, LSI_DSP), SCRIPT); /* 512 loops done */
	/* The budget is exact: 7 instructions are 4 ADDs. */
	wr32(e, LSI_SCRATCHA, 0);
	scripts_run(&e->lsi, 7, SCRIPTS_SLICE_BYTES);
	assert_int_equal(rd8(e, LSI_SCRATCHA), 4);
	assert_true(lsi_pending(&e->lsi));
	assert_int_equal(rd8(e, LSI_ISTAT1) & LSI_ISTAT1_SRUN, LSI_ISTAT1_SRUN);
	/* The device still answers, and the loop goes on when resumed. */
	wr32(e, LSI_SCRATCHB, 7);
	assert_int_equal(rd32(e, LSI_SCRATCHB), 7);
	lsi_run(&e->lsi);
	assert_true(lsi_pending(&e->lsi));
	/* A DSP write while running does not restart it. */
	wr32(e, LSI_DSP, 0xdead000);
	assert_true(lsi_pending(&e->lsi));
	/* Abort stops it with DSTAT ABRT. */
	wr8(e, LSI_ISTAT, LSI_ISTAT_ABRT);
	assert_false(lsi_pending(&e->lsi));
	wr8(e, LSI_ISTAT, 0);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_ABRT);

	/* Zeroed memory (CVE-2019-12068): empty opcodes, bounded, then BF. */
	memset(e->ram + 0x200000, 0, 0x1000);
	wr32(e, LSI_DSP, 0x200000);
	assert_true(lsi_pending(&e->lsi));
	assert_int_equal(rd32(e, LSI_DSP), 0x200000 + 4 * SCRIPTS_SLICE_INSNS);
}

static void
test_bus_fault(void **state)
{
	struct env *e = *state;
	uint8_t before[16];

	/* Instruction fetch outside RAM. */
	run_at(e, 0x40000000);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_BF);
	assert_int_equal(rd8(e, LSI_ISTAT1) & LSI_ISTAT1_SRUN, 0);
	/* Past the end of RAM by one byte (the fetch straddles). */
	run_at(e, RAM_SIZE - 2);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_BF);

	/* DATA IN to an address outside RAM: no byte is read from the disk. */
	read10(e->ram + CDB, 0x28, 0, 1);
	seabios_script(e, FAKE_ID, LSI_PHASE_DI, 512);
	put32(e, SCRIPT + 15 * 4, 0xf0000000);
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_BF);
	assert_int_equal(e->fake.data_calls, 0);
	assert_int_equal(rd32(e, LSI_DSP), SCRIPT + 16 * 4);

	/* A memory move into the register BAR (CVE-2023-0330's class). */
	memcpy(before, e->lsi.regs + LSI_SCRATCHA, 4);
	memset(e->ram + DATA, 0xab, 64);
	{
		const uint32_t w[] = {
			MEMMOVE(4), DATA, BAR1_BASE + LSI_SCRATCHA,
			INT_, 0,
		};
		put_script(e, SCRIPT, w, 5);
	}
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_BF);
	assert_memory_equal(e->lsi.regs + LSI_SCRATCHA, before, 4);
	/* ...or from it, or an instruction fetched from it. */
	put32(e, SCRIPT + 4, BAR1_BASE + LSI_ISTAT);
	put32(e, SCRIPT + 8, DATA);
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_BF);
	assert_int_equal(e->ram[DATA], 0xab);
	run_at(e, BAR1_BASE + LSI_SCRATCHA);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_BF);
	/* A LOAD whose table crosses from RAM off its end. */
	{
		const uint32_t w[] = {
			LOAD(LSI_SCRATCHB, 4), RAM_SIZE - 2,
			INT_, 0,
		};
		put_script(e, SCRIPT, w, 4);
	}
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_BF);
}

static void
test_memory_move(void **state)
{
	struct env *e = *state;
	const uint32_t big = 6u << 20; /* more than one slice's bytes */
	const uint32_t w[] = {
		MEMMOVE(1000), DATA, DATA + 0x3000,
		MEMMOVE(0xffffff & big), 0x100000, 0x800000,
		INT_, 2,
	};

	for (uint32_t i = 0; i < 1000; i++)
		e->ram[DATA + i] = (uint8_t)(i * 13);
	for (uint32_t i = 0; i < big; i += 4096)
		e->ram[0x100000 + i] = (uint8_t)(i >> 12);
	put_script(e, SCRIPT, w, sizeof(w) / 4);
	wr32(e, LSI_TEMP, 0x1111);
	wr32(e, LSI_DSP, SCRIPT);
	/* The big move yields mid-way and continues in later slices. */
	assert_true(lsi_pending(&e->lsi));
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE);
	for (int i = 0; i < 8 && lsi_pending(&e->lsi); i++)
		lsi_run(&e->lsi);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_memory_equal(e->ram + DATA + 0x3000, e->ram + DATA, 1000);
	assert_memory_equal(e->ram + 0x800000, e->ram + 0x100000, big);
	/* The Linux driver relies on TEMP being kept. */
	assert_int_equal(rd32(e, LSI_TEMP), 0x1111);
	assert_int_equal(rd32(e, LSI_DSP), SCRIPT + 8 * 4);

	/* To and from SCRIPTS RAM through BAR2's bus address. */
	{
		const uint32_t w2[] = {
			MEMMOVE(16), DATA, BAR2_BASE + 0x100,
			MEMMOVE(16), BAR2_BASE + 0x100, DATA + 0x5000,
			INT_, 3,
		};
		put_script(e, SCRIPT, w2, sizeof(w2) / 4);
	}
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_memory_equal(e->lsi.script_ram + 0x100, e->ram + DATA, 16);
	assert_memory_equal(e->ram + DATA + 0x5000, e->ram + DATA, 16);
}

static void
test_load_store(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		STORE(LSI_SCRATCHA, 4), DATA,
		LOAD(LSI_SCRATCHB, 4) | DSAREL, 0xfffffc,  /* DSA - 4 */
		LOAD(LSI_TEMP, 2), DATA + 0x10,
		STORE(LSI_DSA, 4) | DSAREL, 0x40,
		INT_, 0,
	};

	put_script(e, SCRIPT, w, sizeof(w) / 4);
	put32(e, TABLE - 4, 0xcafef00d);
	put32(e, DATA + 0x10, 0x9876);
	wr32(e, LSI_SCRATCHA, 0x01020304);
	wr32(e, LSI_DSA, TABLE);
	wr32(e, LSI_TEMP, 0xffff0000);
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_memory_equal(e->ram + DATA, "\x04\x03\x02\x01", 4);
	assert_int_equal(rd32(e, LSI_SCRATCHB), 0xcafef00d);
	assert_int_equal(rd32(e, LSI_TEMP), 0xffff9876);
	assert_memory_equal(e->ram + TABLE + 0x40, &(uint32_t){ TABLE }, 4);
}

static void
test_register_moves_carry_jumps(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		REG_LOAD(LSI_SCRATCHA, 0xf0), 0,
		REG_ADD(LSI_SCRATCHA, 0x20), 0,     /* 0x10, carry */
		JUMP_IF_CARRY, SCRIPT + 8 * 4,
		INT_, 0xbad,
		/* 8: */ TO_SFBR(LSI_SCRATCHA), 0,
		FROM_SFBR(LSI_SCRATCHB + 1), 0,
		CALL, SCRIPT + 16 * 4,
		INT_, 0x600d,
		/* 16: */ 0x78000000u | (uint32_t)(LSI_SCRATCHB + 2) << 16 | 0x6600, 0,
		RETURN, 0,
	};

	put_script(e, SCRIPT, w, sizeof(w) / 4);
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_int_equal(rd32(e, LSI_DSPS), 0x600d);
	assert_int_equal(rd8(e, LSI_SCRATCHA), 0x10);
	assert_int_equal(rd8(e, LSI_SCRATCHB + 1), 0x10);
	assert_int_equal(rd8(e, LSI_SCRATCHB + 2), 0x66);
	assert_int_equal(rd8(e, LSI_SFBR), 0x10);
	assert_int_equal(rd32(e, LSI_TEMP), SCRIPT + 14 * 4);
}

static void
test_relative_and_illegal(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		JUMP_REL, 8,             /* skip the next instruction */
		INT_, 0xbad,
		0x80880000u, 0xfffff0,   /* relative back by 16: to INT 0xbad */
	};

	put_script(e, SCRIPT, w, sizeof(w) / 4);
	run_at(e, SCRIPT);
	assert_int_equal(rd32(e, LSI_DSPS), 0xbad);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	/* Transfer-control opcode 7 is illegal: DSTAT IID. */
	put32(e, SCRIPT, 0xb8080000u);
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_IID);
}

static void
test_messages(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		SEL_ATN(FAKE_ID), 0,
		MOVE(LSI_PHASE_MO, 9), MSGOUT,
		INT_, 1,
		MOVE(LSI_PHASE_MI, 1), MSGIN,
		INT_, 2,
	};
	/* IDENTIFY, SDTR (ignored as QEMU does), WDTR (ignored). */
	const uint8_t nego[9] = { 0x80, 0x01, 0x03, 0x01, 0x0c, 0x0f,
	    0x01, 0x02, 0x03 };

	put_script(e, SCRIPT, w, sizeof(w) / 4);
	memcpy(e->ram + MSGOUT, nego, 9);
	run_at(e, SCRIPT);
	assert_int_equal(rd32(e, LSI_DSPS), 1);
	assert_int_equal(rd8(e, LSI_SSTAT1) & 7, LSI_PHASE_CMD);
	/* The WDTR's last byte fell outside DBC: no underflow, DBC is 0. */
	assert_int_equal(rd32(e, LSI_DBC) & 0xffffff, 0);
	assert_int_equal(rd32(e, LSI_DNAD), MSGOUT + 9);

	/* An unknown message: MESSAGE REJECT comes back in MESSAGE IN. */
	e->ram[MSGOUT] = 0x80;
	e->ram[MSGOUT + 1] = 0x55;
	put32(e, SCRIPT + 8, MOVE(LSI_PHASE_MO, 2));
	wr8(e, LSI_SCNTL1, 0);
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_SSTAT1) & 7, LSI_PHASE_MI);
	assert_int_equal(rd8(e, LSI_SBDL), 0x07);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	wr32(e, LSI_DSP, SCRIPT + 24);
	assert_int_equal(e->ram[MSGIN], 0x07);
	assert_int_equal(rd32(e, LSI_DSPS), 2);
	assert_int_equal(rd8(e, LSI_SSTAT1) & 7, LSI_PHASE_CMD);
}

/* ABORT mid-command, repeated (CVE-2022-0216's shape). */
static void
test_abort_messages(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		SEL_ATN(FAKE_ID), 0,
		MOVE(LSI_PHASE_MO, 1), MSGOUT,
		MOVE(LSI_PHASE_CMD, 10), CDB,
		SET_ATN, 0,
		MOVE(LSI_PHASE_MO, 1), MSGOUT + 1,   /* ABORT */
		SET_ATN, 0,
		MOVE(LSI_PHASE_MO, 1), MSGOUT + 2,   /* BUS DEVICE RESET */
		MOVE(LSI_PHASE_DI, 512), DATA,       /* nothing behind it */
		INT_, 9,
	};

	read10(e->ram + CDB, 0x28, 0, 1);
	e->ram[MSGOUT] = 0x80;
	e->ram[MSGOUT + 1] = 0x06;
	e->ram[MSGOUT + 2] = 0x0c;
	put_script(e, SCRIPT, w, sizeof(w) / 4);
	run_at(e, SCRIPT);
	assert_int_equal(e->fake.starts, 1);
	assert_int_equal(e->fake.cancels, 1);
	assert_int_equal(e->fake.completes, 0);
	assert_int_equal(e->fake.data_calls, 0);
	assert_false(e->fake.active);
	/* The data move after the abort: the bus is free, a mismatch. */
	assert_int_equal(rd8(e, LSI_SIST0), LSI_SIST0_MA);
	assert_int_equal(rd8(e, LSI_SCNTL1) & LSI_SCNTL1_CON, 0);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE);
}

/* SCRIPTS started with nothing queued (QEMU asserts): an interrupt. */
static void
test_no_request(void **state)
{
	struct env *e = *state;
	static const uint8_t phases[] = { LSI_PHASE_DO, LSI_PHASE_DI };

	for (size_t i = 0; i < sizeof(phases); i++) {
		const uint32_t w[] = {
			MOVE(phases[i], 16), DATA,
			INT_, 0,
		};

		lsi_reset(&e->lsi);
		/* The host may claim a connection by writing SCNTL1. */
		wr8(e, LSI_SCNTL1, LSI_SCNTL1_CON);
		put_script(e, SCRIPT, w, 4);
		run_at(e, SCRIPT);
		if (phases[i] == LSI_PHASE_DO) {
			assert_int_equal(rd8(e, LSI_SIST0), LSI_SIST0_UDC);
		} else {
			assert_int_equal(rd8(e, LSI_SIST0), LSI_SIST0_MA);
		}
		assert_int_equal(rd8(e, LSI_ISTAT1) & LSI_ISTAT1_SRUN, 0);
	}
	/* STATUS and MESSAGE IN with nothing to say. */
	{
		const uint32_t w[] = {
			SEL_ATN(FAKE_ID), 0,
			MOVE(LSI_PHASE_MO, 1), MSGOUT,   /* IDENTIFY: CMD */
			MOVE(LSI_PHASE_CMD, 0), CDB,     /* empty CDB */
			MOVE(LSI_PHASE_ST, 1), STATUS,
			MOVE(LSI_PHASE_MI, 0), MSGIN,    /* DBC 0: QEMU reads msg[-1] */
			MOVE(LSI_PHASE_MI, 1), MSGIN,
			MOVE(LSI_PHASE_MI, 1), MSGIN,    /* the bus is free now */
			INT_, 0,
		};

		e->ram[MSGOUT] = 0x80;
		put_script(e, SCRIPT, w, sizeof(w) / 4);
		wr8(e, LSI_SCNTL1, 0);
		run_at(e, SCRIPT);
		assert_int_equal(e->ram[STATUS], 2); /* the fake refused it */
		assert_int_equal(rd8(e, LSI_SIST0), LSI_SIST0_MA);
		assert_int_equal(rd32(e, LSI_DSP), SCRIPT + 14 * 4);
	}
}

static void
test_wait_reselect_sigp(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		WAIT_RESEL, SCRIPT + 4 * 4,
		INT_, 0xbad,
		/* 4: */ INT_, 0x516,
	};

	put_script(e, SCRIPT, w, sizeof(w) / 4);
	run_at(e, SCRIPT);
	/* Waiting: SRUN, but no work for the server loop. */
	assert_int_equal(rd8(e, LSI_ISTAT1) & LSI_ISTAT1_SRUN, LSI_ISTAT1_SRUN);
	assert_false(lsi_pending(&e->lsi));
	wr8(e, LSI_ISTAT, LSI_ISTAT_SIGP);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_int_equal(rd32(e, LSI_DSPS), 0x516);
	/* CTEST2 reports SIGP once, and clears it. */
	assert_int_equal(rd8(e, LSI_CTEST2) & LSI_CTEST2_SIGP, LSI_CTEST2_SIGP);
	assert_int_equal(rd8(e, LSI_ISTAT) & LSI_ISTAT_SIGP, 0);
	assert_int_equal(rd8(e, LSI_CTEST2) & LSI_CTEST2_SIGP, 0);
	/* SIGP already set when WAIT RESELECT runs: straight to the alt. */
	wr8(e, LSI_ISTAT, LSI_ISTAT_SIGP);
	run_at(e, SCRIPT);
	assert_int_equal(rd32(e, LSI_DSPS), 0x516);
}

static void
test_single_step(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		REG_LOAD(LSI_SCRATCHA, 1), 0,
		REG_LOAD(LSI_SCRATCHA, 2), 0,
		INT_, 3,
	};

	put_script(e, SCRIPT, w, sizeof(w) / 4);
	wr8(e, LSI_DCNTL, LSI_DCNTL_SSM);
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_SCRATCHA), 1);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SSI);
	assert_int_equal(rd32(e, LSI_DSP), SCRIPT + 8);
	wr8(e, LSI_DCNTL, LSI_DCNTL_SSM | LSI_DCNTL_STD);
	assert_int_equal(rd8(e, LSI_SCRATCHA), 2);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SSI);
	wr8(e, LSI_DCNTL, LSI_DCNTL_STD);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
}

static void
test_srst(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		SEL_ATN(FAKE_ID), 0,
		MOVE(LSI_PHASE_MO, 1), MSGOUT,
		MOVE(LSI_PHASE_CMD, 10), CDB,
		JUMP, SCRIPT + 6 * 4,        /* spin with a command active */
	};

	read10(e->ram + CDB, 0x28, 0, 1);
	e->ram[MSGOUT] = 0x80;
	put_script(e, SCRIPT, w, sizeof(w) / 4);
	wr8(e, LSI_SIEN0, 0xff);
	wr32(e, LSI_DSA, 0x1234);
	wr32(e, LSI_DSP, SCRIPT);
	assert_true(lsi_pending(&e->lsi));
	assert_true(e->fake.active);
	e->fake.resets = 0;
	wr8(e, LSI_ISTAT, LSI_ISTAT_SRST);
	assert_false(lsi_pending(&e->lsi));
	assert_int_equal(e->fake.cancels, 1);
	assert_int_equal(e->fake.resets, 1);
	assert_false(e->fake.active);
	assert_int_equal(rd8(e, LSI_ISTAT), 0);
	assert_int_equal(rd8(e, LSI_ISTAT1), 0);
	assert_int_equal(rd32(e, LSI_DSA), 0);
	assert_int_equal(rd8(e, LSI_SIEN0), 0);
	assert_int_equal(rd8(e, LSI_SCNTL0), 0xc0);
	assert_int_equal(rd8(e, LSI_SCNTL1), 0);

	/* A LOAD into ISTAT with SRST from the SCRIPTS themselves. */
	{
		const uint32_t w2[] = {
			LOAD(LSI_ISTAT, 1), DATA,
			REG_LOAD(LSI_SCRATCHA, 0x77), 0,
			INT_, 0,
		};
		put_script(e, SCRIPT, w2, sizeof(w2) / 4);
	}
	e->ram[DATA] = LSI_ISTAT_SRST;
	run_at(e, SCRIPT);
	assert_false(lsi_pending(&e->lsi));
	assert_int_equal(rd8(e, LSI_SCRATCHA), 0);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE);
}

static void
test_scsi_bus_reset(void **state)
{
	struct env *e = *state;

	e->fake.resets = 0;
	wr8(e, LSI_SIEN0, LSI_SIST0_RST);
	wr8(e, LSI_SCNTL1, LSI_SCNTL1_RST);
	assert_int_equal(e->fake.resets, 1);
	assert_int_equal(rd8(e, LSI_SSTAT0) & LSI_SSTAT0_RST, LSI_SSTAT0_RST);
	assert_true(e->irq.level);
	wr8(e, LSI_SCNTL1, LSI_SCNTL1_RST);  /* still held: no second reset */
	assert_int_equal(e->fake.resets, 1);
	wr8(e, LSI_SCNTL1, 0);
	assert_int_equal(rd8(e, LSI_SSTAT0) & LSI_SSTAT0_RST, 0);
	assert_int_equal(rd8(e, LSI_SIST0), LSI_SIST0_RST);
	assert_false(e->irq.level);
}

/* The Linux driver runs its SCRIPTS, and reads tables, from BAR2. */
static void
test_scripts_ram(void **state)
{
	struct env *e = *state;
	const uint32_t w[] = {
		MOVE_TBL(LSI_PHASE_MO) , 0x0,     /* table in SCRIPTS RAM */
		LOAD(LSI_SCRATCHA, 4), BAR2_BASE + 0x1000,
		INT_, 0x4a4,
	};

	for (size_t i = 0; i < sizeof(w) / 4; i++)
		assert_int_equal(lsi_bar_write(&e->lsi, LSI_BAR_RAM,
		    (uint32_t)(0x200 + 4 * i), 4, w[i]), 0);
	assert_int_equal(lsi_bar_write(&e->lsi, LSI_BAR_RAM, 0x1000, 4,
	    0x13572468), 0);
	/* MESSAGE OUT needs a phase: select first from guest RAM. */
	{
		const uint32_t sel[] = {
			SEL_ATN(FAKE_ID), 0,
			JUMP, BAR2_BASE + 0x200,
		};
		put_script(e, SCRIPT, sel, 4);
	}
	assert_int_equal(lsi_bar_write(&e->lsi, LSI_BAR_RAM, 0x800, 4, 1), 0);
	assert_int_equal(lsi_bar_write(&e->lsi, LSI_BAR_RAM, 0x804, 4,
	    BAR2_BASE + 0x808), 0);
	assert_int_equal(lsi_bar_write(&e->lsi, LSI_BAR_RAM, 0x808, 1, 0xc0),
	    0);
	wr32(e, LSI_DSA, BAR2_BASE + 0x800);
	run_at(e, SCRIPT);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_int_equal(rd32(e, LSI_DSPS), 0x4a4);
	assert_int_equal(rd32(e, LSI_SCRATCHA), 0x13572468);
	assert_int_equal(rd8(e, LSI_SSTAT1) & 7, LSI_PHASE_CMD);

	/* BAR2 moved away: the same bus address is now outside everything. */
	assert_int_equal(pci_config_write(&e->pci, PCI_BASE_ADDRESS_0 + 8,
	    0xfe000000, 4), 0);
	run_at(e, BAR2_BASE + 0x200);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_BF);
	run_at(e, 0xfe000000 + 0x208);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_BF);
	assert_int_equal(pci_config_write(&e->pci, PCI_BASE_ADDRESS_0 + 8,
	    BAR2_BASE, 4), 0);
	run_at(e, BAR2_BASE + 0x208);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
}

/* A big READ: data moves in bounded chunks over several slices. */
static void
test_large_read_yields(void **state)
{
	struct env *e = *state;
	const uint32_t len = 6u << 20;

	read10(e->ram + CDB, 0x28, 0, (uint16_t)(len / 512));
	seabios_script(e, FAKE_ID, LSI_PHASE_DI, len);
	wr32(e, LSI_DSP, SCRIPT);
	assert_true(lsi_pending(&e->lsi));
	assert_int_equal(rd8(e, LSI_ISTAT1) & LSI_ISTAT1_SRUN, LSI_ISTAT1_SRUN);
	assert_int_equal(rd32(e, LSI_DBC) & 0xffffff, len - SCRIPTS_SLICE_BYTES);
	lsi_run(&e->lsi);
	assert_false(lsi_pending(&e->lsi));
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_memory_equal(e->ram + DATA, e->fake.disk, len);
	assert_true(e->fake.max_chunk <= SCRIPTS_CHUNK);
	assert_int_equal(e->ram[STATUS], 0);
}

/* An I/O error mid-transfer ends the data phase early. */
static void
test_io_error(void **state)
{
	struct env *e = *state;

	read10(e->ram + CDB, 0x28, 0, 4);
	e->fake.fail_io = true;
	run_at(e, seabios_script(e, FAKE_ID, LSI_PHASE_DI, 2048));
	assert_int_equal(rd8(e, LSI_SIST0), LSI_SIST0_MA);
	assert_int_equal(rd8(e, LSI_SSTAT1) & 7, LSI_PHASE_ST);
	wr32(e, LSI_DSP, SCRIPT + 16 * 4);
	assert_int_equal(rd8(e, LSI_DSTAT), LSI_DSTAT_DFE | LSI_DSTAT_SIR);
	assert_int_equal(e->ram[STATUS], 2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reset_values),
		T(test_register_access),
		T(test_read_to_clear_and_irq),
		T(test_seabios_read),
		T(test_write_and_check_condition),
		T(test_inquiry_short_alloc_and_sfbr),
		T(test_short_transfer),
		T(test_table_indirect),
		T(test_int_and_intfly_raise_irq),
		T(test_selection_timeout),
		T(test_infinite_loop_yields),
		T(test_bus_fault),
		T(test_memory_move),
		T(test_load_store),
		T(test_register_moves_carry_jumps),
		T(test_relative_and_illegal),
		T(test_messages),
		T(test_abort_messages),
		T(test_no_request),
		T(test_wait_reselect_sigp),
		T(test_single_step),
		T(test_srst),
		T(test_scsi_bus_reset),
		T(test_scripts_ram),
		T(test_large_read_yields),
		T(test_io_error),
	};

	return cmocka_run_group_tests_name("lsi53c895a", tests, NULL, NULL);
}
