/*
 * proxy/lsi_driver.c: an LSI53C895A driver model on libmpjail-proxy. It
 * plays the guest and KVM for tests and benchmarks. Trust: the remote may
 * be buggy or hostile; every wait has a deadline and every value read back
 * is checked before it indexes anything.
 */
#include "mpjail-proxy-lsi.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PUBLIC __attribute__((visibility("default")))

/* Registers the driver uses (LSI53C895A datasheet names). */
#define REG_DSA    0x10
#define REG_ISTAT  0x14
#define  ISTAT_DIP   0x01
#define  ISTAT_SIP   0x02
#define  ISTAT_INTF  0x04
#define  ISTAT_SRST  0x40
#define REG_DSTAT  0x0c
#define  DSTAT_IID   0x01
#define  DSTAT_SIR   0x04
#define  DSTAT_SSI   0x08
#define  DSTAT_ABRT  0x10
#define  DSTAT_BF    0x20
#define REG_SCID   0x04
#define REG_DBC    0x24
#define REG_DSP    0x2c
#define REG_DSPS   0x30
#define REG_DIEN   0x39
#define REG_SIEN0  0x40
#define REG_SIEN1  0x41
#define REG_SIST0  0x42
#define  SIST0_MA    0x80
#define  SIST0_UDC   0x04
#define  SIST0_RST   0x02
#define  SIST0_PAR   0x01
#define  SIST0_SGE   0x08
#define REG_SIST1  0x43
#define  SIST1_STO   0x04
#define REG_SCRATCHB 0x5c
#define REG_TEMP   0x1c

/* SCSI bus phases as block moves and jumps encode them. */
enum phase {
	PH_DATA_OUT = 0, PH_DATA_IN = 1, PH_COMMAND = 2, PH_STATUS = 3,
	PH_MSG_OUT = 6, PH_MSG_IN = 7,
};

/* SCRIPTS instruction encodings (first dword). */
#define I_MOVE_TI(ph)     (0x18000000u | (uint32_t)(ph) << 24) /* table indirect */
#define I_MOVE(ph, n)     (0x08000000u | (uint32_t)(ph) << 24 | (n))
#define I_SELECT_ATN_TI   0x43000000u
#define I_WAIT_DISC       0x48000000u
#define I_WAIT_RESEL      0x50000000u
#define I_CLEAR_ACK       0x60000040u
#define I_JUMP            0x80080000u
#define I_JUMP_IF(ph)     (0x800a0000u | (uint32_t)(ph) << 24)
#define I_RETURN          0x90080000u
#define I_INT             0x98080000u
#define I_MEMMOVE(n)      (0xc0000000u | (n))
#define I_LOAD(reg, n)    (0xe1000000u | (uint32_t)(reg) << 16 | (n))
#define I_LOAD_DSA(reg, n) (0xf1000000u | (uint32_t)(reg) << 16 | (n))
#define I_STORE(reg, n)   (0xe0000000u | (uint32_t)(reg) << 16 | (n))
#define I_RMW_ADD(reg, v) (0x7e000000u | (uint32_t)(reg) << 16 | (uint32_t)(v) << 8)

/* INT codes in DSPS. */
#define INT_DONE          0x00000001u
#define INT_BAD_PHASE     0x0000bad0u
#define INT_BAD_PHASE2    0x0000bad1u
#define INT_RESEL_ALT     0x0000bad2u
#define INT_SELECT_ALT    0x0000bad3u

#define MAX_SG 128u

/* The DSA table, per command, in guest RAM. */
#define T_SELECT   0x00
#define T_MSGOUT   0x08
#define T_CDB      0x10
#define T_STATUS   0x18
#define T_MSGIN    0x20
#define T_IDENT    0x28
#define T_MSGIN2   0x30
#define T_JUMP_IN  0x38
#define T_JUMP_OUT 0x3c
#define T_DATA     0x40
#define T_SIZE     (T_DATA + 8 * MAX_SG)

/* Guest-RAM layout. */
#define RAM_SCRIPT   0x00010000u
#define RAM_TABLE    0x00008000u
#define RAM_BUFS     0x00009000u /* msgout, cdb, status, msgin... */
#define  B_MSGOUT    (RAM_BUFS + 0x00)
#define  B_CDB       (RAM_BUFS + 0x10)
#define  B_STATUS    (RAM_BUFS + 0x20)
#define  B_MSGIN     (RAM_BUFS + 0x24)
#define  B_IDENT     (RAM_BUFS + 0x28)
#define  B_MSGIN2    (RAM_BUFS + 0x30)
#define  B_ONE       (RAM_BUFS + 0x34)
#define  B_OVERRUN   (RAM_BUFS + 0x38)
#define  B_DISC      (RAM_BUFS + 0x3c)
#define  B_DATA_SEEN (RAM_BUFS + 0x40)
#define RAM_BUCKET   0x0000a000u
#define BUCKET_SIZE  512u
#define RAM_DATA     (16u << 20)
#define SCRIPT_MAX   4096u /* dwords */

struct proxy_lsi {
	struct proxy_dev *dev;
	struct proxy_lsi_config cfg;
	int ram_fd;
	uint8_t *ram;
	int irqfd, resamplefd;
	uint32_t script_base;  /* guest address of the script */
	/* labels, as guest addresses */
	uint32_t l_start, l_data_in, l_data_out, l_after_data;
	uint32_t l_bucket_in, l_bucket_out;
};

static const struct proxy_lsi_config default_config = {
	.ram_size = 64u << 20,
	.io_base = 0xc000,
	.mmio_base = 0xfebfe000,
	.ram_base = 0xfebfc000,
	.timeout_ms = 5000,
	.sg_segment = 64u << 10,
};

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4); /* little-endian host, as the wire */
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

PUBLIC uint8_t *
proxy_lsi_ram(struct proxy_lsi *hba, size_t *size)
{
	if (size)
		*size = hba->cfg.ram_size;
	return hba->ram;
}

PUBLIC int
proxy_lsi_reg_read(struct proxy_lsi *hba, uint8_t reg, unsigned int width,
    uint32_t *val)
{
	uint64_t v = 0;
	int err;

	if (hba->cfg.use_io_bar)
		err = proxy_bar_read(hba->dev, PROXY_SPACE_IO,
		    hba->cfg.io_base + reg, width, &v);
	else
		err = proxy_bar_read(hba->dev, PROXY_SPACE_MEMORY,
		    hba->cfg.mmio_base + reg, width, &v);
	*val = (uint32_t)v;
	return err;
}

PUBLIC int
proxy_lsi_reg_write(struct proxy_lsi *hba, uint8_t reg, unsigned int width,
    uint32_t val)
{
	if (hba->cfg.use_io_bar)
		return proxy_bar_write(hba->dev, PROXY_SPACE_IO,
		    hba->cfg.io_base + reg, width, val);
	return proxy_bar_write(hba->dev, PROXY_SPACE_MEMORY,
	    hba->cfg.mmio_base + reg, width, val);
}

/* A tiny assembler: two-word and three-word instructions, with labels. */
struct asm_buf {
	uint32_t w[SCRIPT_MAX];
	unsigned int n;
	uint32_t base;
};

static uint32_t
here(const struct asm_buf *a)
{
	return a->base + 4 * a->n;
}

static void
emit(struct asm_buf *a, uint32_t w0, uint32_t w1)
{
	if (a->n + 2 <= SCRIPT_MAX) {
		a->w[a->n++] = w0;
		a->w[a->n++] = w1;
	}
}

static void
emit3(struct asm_buf *a, uint32_t w0, uint32_t w1, uint32_t w2)
{
	if (a->n + 3 <= SCRIPT_MAX) {
		a->w[a->n++] = w0;
		a->w[a->n++] = w1;
		a->w[a->n++] = w2;
	}
}

/* Patch the address word of the instruction at guest address `at`. */
static void
patch(struct asm_buf *a, uint32_t at, uint32_t target)
{
	a->w[(at - a->base) / 4 + 1] = target;
}

/*
 * The script, written once: everything per command comes from the DSA
 * table (table-indirect moves, the data entry point loaded into TEMP and
 * taken with RETURN), as the Linux driver does it.
 */
static void
assemble(struct proxy_lsi *hba, struct asm_buf *a)
{
	uint32_t j_status[2], j_disc[2], j_in[2], j_out[2], j_after;
	uint32_t sel, oi_loop, oo_loop, resel, status, disc, overrun_in,
	    overrun_out, go_in, go_out, j_loop;

	a->n = 0;
	a->base = hba->script_base;
	hba->l_start = here(a);
	sel = here(a);
	emit(a, I_SELECT_ATN_TI | T_SELECT, 0);
	emit(a, I_MOVE_TI(PH_MSG_OUT), T_MSGOUT);
	emit(a, I_MOVE_TI(PH_COMMAND), T_CDB);
	/* dispatch on the phase the target chose */
	j_status[0] = here(a); emit(a, I_JUMP_IF(PH_STATUS), 0);
	j_disc[0] = here(a);   emit(a, I_JUMP_IF(PH_MSG_IN), 0);
	j_in[0] = here(a);     emit(a, I_JUMP_IF(PH_DATA_IN), 0);
	j_out[0] = here(a);    emit(a, I_JUMP_IF(PH_DATA_OUT), 0);
	emit(a, I_INT, INT_BAD_PHASE);
	/* note that data moved at all, then enter the moves */
	go_in = here(a);
	emit3(a, I_MEMMOVE(4), B_ONE, B_DATA_SEEN);
	emit(a, I_LOAD_DSA(REG_TEMP, 4), T_JUMP_IN);
	emit(a, I_RETURN, 0);
	go_out = here(a);
	emit3(a, I_MEMMOVE(4), B_ONE, B_DATA_SEEN);
	emit(a, I_LOAD_DSA(REG_TEMP, 4), T_JUMP_OUT);
	emit(a, I_RETURN, 0);
	hba->l_data_in = here(a);
	for (uint32_t k = 0; k < MAX_SG; k++)
		emit(a, I_MOVE_TI(PH_DATA_IN), T_DATA + 8 * k);
	j_after = here(a);
	emit(a, I_JUMP, 0);
	hba->l_data_out = here(a);
	for (uint32_t k = 0; k < MAX_SG; k++)
		emit(a, I_MOVE_TI(PH_DATA_OUT), T_DATA + 8 * k);
	hba->l_after_data = here(a);
	patch(a, j_after, hba->l_after_data);
	j_status[1] = here(a); emit(a, I_JUMP_IF(PH_STATUS), 0);
	j_disc[1] = here(a);   emit(a, I_JUMP_IF(PH_MSG_IN), 0);
	j_in[1] = here(a);     emit(a, I_JUMP_IF(PH_DATA_IN), 0);
	j_out[1] = here(a);    emit(a, I_JUMP_IF(PH_DATA_OUT), 0);
	emit(a, I_INT, INT_BAD_PHASE2);
	/* the target has more data than the buffers: sink it, remember it */
	overrun_in = here(a);
	emit3(a, I_MEMMOVE(4), B_ONE, B_OVERRUN);
	oi_loop = hba->l_bucket_in = here(a);
	emit(a, I_MOVE(PH_DATA_IN, BUCKET_SIZE), RAM_BUCKET);
	j_loop = here(a);
	emit(a, I_JUMP_IF(PH_DATA_IN), 0);
	patch(a, j_loop, oi_loop);
	emit(a, I_JUMP, hba->l_after_data);
	overrun_out = here(a);
	emit3(a, I_MEMMOVE(4), B_ONE, B_OVERRUN);
	oo_loop = hba->l_bucket_out = here(a);
	emit(a, I_MOVE(PH_DATA_OUT, BUCKET_SIZE), RAM_BUCKET);
	j_loop = here(a);
	emit(a, I_JUMP_IF(PH_DATA_OUT), 0);
	patch(a, j_loop, oo_loop);
	emit(a, I_JUMP, hba->l_after_data);
	/* status, COMMAND COMPLETE, bus free */
	status = here(a);
	emit(a, I_MOVE_TI(PH_STATUS), T_STATUS);
	emit(a, I_MOVE_TI(PH_MSG_IN), T_MSGIN);
	emit(a, I_CLEAR_ACK, 0);
	emit(a, I_WAIT_DISC, 0);
	emit(a, I_INT, INT_DONE);
	/* SAVE DATA POINTER, DISCONNECT; count it; wait to be reselected */
	disc = here(a);
	emit(a, I_MOVE_TI(PH_MSG_IN), T_MSGIN2);
	emit(a, I_CLEAR_ACK, 0);
	emit(a, I_WAIT_DISC, 0);
	emit(a, I_LOAD(REG_SCRATCHB, 1), B_DISC);
	emit(a, I_RMW_ADD(REG_SCRATCHB, 1), 0);
	emit(a, I_STORE(REG_SCRATCHB, 1), B_DISC);
	resel = here(a);
	emit(a, I_WAIT_RESEL, 0);
	emit(a, I_MOVE_TI(PH_MSG_IN), T_IDENT);
	emit(a, I_CLEAR_ACK, 0);
	emit(a, I_JUMP, j_status[0]);
	patch(a, resel, here(a));
	emit(a, I_INT, INT_RESEL_ALT);
	patch(a, sel, here(a));
	emit(a, I_INT, INT_SELECT_ALT);
	for (int i = 0; i < 2; i++) {
		patch(a, j_status[i], status);
		patch(a, j_disc[i], disc);
		patch(a, j_in[i], i == 0 ? go_in : overrun_in);
		patch(a, j_out[i], i == 0 ? go_out : overrun_out);
	}
}

static int
load_script(struct proxy_lsi *hba)
{
	struct asm_buf *a = calloc(1, sizeof(*a));
	int err = 0;

	if (!a)
		return -ENOMEM;
	hba->script_base = hba->cfg.script_in_chip_ram ? hba->cfg.ram_base :
	    RAM_SCRIPT;
	assemble(hba, a);
	if (a->n * 4 > (hba->cfg.script_in_chip_ram ? 8192u : 0x10000u)) {
		free(a);
		return -E2BIG;
	}
	if (!hba->cfg.script_in_chip_ram) {
		memcpy(hba->ram + RAM_SCRIPT, a->w, a->n * 4);
	} else {
		for (unsigned int i = 0; i < a->n && !err; i++)
			err = proxy_bar_write(hba->dev, PROXY_SPACE_MEMORY,
			    hba->cfg.ram_base + 4 * i, 4, a->w[i]);
	}
	free(a);
	return err;
}

static int
enable_interrupts(struct proxy_lsi *hba)
{
	int err;

	/* our own ID 7, as SeaBIOS and Linux use */
	err = proxy_lsi_reg_write(hba, REG_SCID, 1, 7);
	if (!err)
		err = proxy_lsi_reg_write(hba, REG_DIEN, 1, DSTAT_BF |
		    DSTAT_ABRT | DSTAT_SSI | DSTAT_SIR | DSTAT_IID);
	if (!err)
		err = proxy_lsi_reg_write(hba, REG_SIEN0, 1, SIST0_MA |
		    SIST0_SGE | SIST0_UDC | SIST0_RST | SIST0_PAR);
	if (!err)
		err = proxy_lsi_reg_write(hba, REG_SIEN1, 1, SIST1_STO);
	return err;
}

PUBLIC int
proxy_lsi_chip_reset(struct proxy_lsi *hba)
{
	int err = proxy_lsi_reg_write(hba, REG_ISTAT, 1, ISTAT_SRST);

	if (!err)
		err = proxy_lsi_reg_write(hba, REG_ISTAT, 1, 0);
	if (!err)
		err = enable_interrupts(hba);
	return err;
}

/*
 * Identify the device first, as QEMU's proxy and every firmware do (QEMU
 * 7.2's remote also loses a config write that comes before any read).
 */
static int
program_bars(struct proxy_lsi *hba)
{
	uint32_t id = 0;
	int err;

	err = proxy_config_read(hba->dev, 0x00, 4, &id);
	if (err)
		return err;
	if (id != 0x00121000u)
		return -ENODEV;
	err = proxy_config_write(hba->dev, 0x10, 4, hba->cfg.io_base);
	if (!err)
		err = proxy_config_write(hba->dev, 0x14, 4, hba->cfg.mmio_base);
	if (!err)
		err = proxy_config_write(hba->dev, 0x18, 4, hba->cfg.ram_base);
	/* I/O, memory and bus master: DMA needs the last */
	if (!err)
		err = proxy_config_write(hba->dev, 0x04, 2, 0x0007);
	return err;
}

PUBLIC void
proxy_lsi_close(struct proxy_lsi *hba)
{
	if (!hba)
		return;
	if (hba->ram && hba->ram != MAP_FAILED)
		munmap(hba->ram, hba->cfg.ram_size);
	if (hba->ram_fd >= 0)
		close(hba->ram_fd);
	if (hba->irqfd >= 0)
		close(hba->irqfd);
	if (hba->resamplefd >= 0)
		close(hba->resamplefd);
	free(hba);
}

static int
make_ram(struct proxy_lsi *hba)
{
	hba->ram_fd = memfd_create("mpjail-guest-ram", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);
	if (hba->ram_fd < 0)
		return -errno;
	if (ftruncate(hba->ram_fd, (off_t)hba->cfg.ram_size) < 0 ||
	    fcntl(hba->ram_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) < 0)
		return -errno;
	hba->ram = mmap(NULL, hba->cfg.ram_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, hba->ram_fd, 0);
	if (hba->ram == MAP_FAILED) {
		hba->ram = NULL;
		return -errno;
	}
	return 0;
}

PUBLIC int
proxy_lsi_open(struct proxy_lsi **out, struct proxy_dev *dev,
    const struct proxy_lsi_config *cfg)
{
	struct proxy_lsi *hba;
	struct proxy_region r;
	int err;

	if (!out || !dev)
		return -EINVAL;
	hba = calloc(1, sizeof(*hba));
	if (!hba)
		return -ENOMEM;
	hba->dev = dev;
	hba->ram_fd = hba->irqfd = hba->resamplefd = -1;
	hba->cfg = cfg ? *cfg : default_config;
	if (!hba->cfg.ram_size)
		hba->cfg.ram_size = default_config.ram_size;
	if (!hba->cfg.io_base)
		hba->cfg.io_base = default_config.io_base;
	if (!hba->cfg.mmio_base)
		hba->cfg.mmio_base = default_config.mmio_base;
	if (!hba->cfg.ram_base)
		hba->cfg.ram_base = default_config.ram_base;
	if (!hba->cfg.timeout_ms)
		hba->cfg.timeout_ms = default_config.timeout_ms;
	if (!hba->cfg.sg_segment || hba->cfg.sg_segment > 0xffffffu)
		hba->cfg.sg_segment = default_config.sg_segment;
	err = -EINVAL;
	if (hba->cfg.ram_size < RAM_DATA + (1u << 20) ||
	    hba->cfg.ram_size > (1ull << 32))
		goto fail;
	err = make_ram(hba);
	if (err)
		goto fail;
	hba->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	hba->resamplefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (hba->irqfd < 0 || hba->resamplefd < 0) {
		err = -errno;
		goto fail;
	}
	r = (struct proxy_region){ 0, hba->cfg.ram_size, hba->ram_fd, 0 };
	err = proxy_sync_sysmem(dev, &r, 1);
	if (!err)
		err = proxy_set_irqfd(dev, hba->irqfd, hba->resamplefd);
	if (!err)
		err = program_bars(hba);
	if (!err)
		err = proxy_lsi_chip_reset(hba);
	if (!err)
		err = load_script(hba);
	if (err)
		goto fail;
	put32(hba->ram + B_ONE, 1);
	*out = hba;
	return 0;
fail:
	proxy_lsi_close(hba);
	return err;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for the irqfd (the INTx line's rising edge) and consume it. */
static int
wait_irq(struct proxy_lsi *hba, int64_t deadline)
{
	struct pollfd p = { .fd = hba->irqfd, .events = POLLIN };
	uint64_t n;

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && read(hba->irqfd, &n, sizeof(n)) == sizeof(n))
			return 0;
		/* a remote that died answers nothing: notice it */
		if (r == 0) {
			struct pollfd s = { .fd = proxy_fd(hba->dev),
			    .events = POLLIN };

			if (poll(&s, 1, 0) > 0 && (s.revents & (POLLHUP |
			    POLLERR)))
				return -EPIPE;
		}
	}
}

static int
traced_read(struct proxy_lsi *hba, struct proxy_lsi_cmd *c, uint8_t reg,
    unsigned int width, uint32_t *val)
{
	int err = proxy_lsi_reg_read(hba, reg, width, val);

	if (!err && c && c->ntrace < PROXY_LSI_TRACE_MAX) {
		c->trace[c->ntrace].reg = reg;
		c->trace[c->ntrace].width = (uint8_t)width;
		c->trace[c->ntrace].val = *val;
		c->ntrace++;
	}
	return err;
}

struct irq_status {
	uint32_t istat, dstat, sist0, sist1, dsps;
};

/*
 * Service one interrupt as a guest's handler does: ISTAT, then DSTAT if a
 * DMA interrupt is pending, SIST0/SIST1 if a SCSI one is; DSPS for an INT.
 * Then EOI: signal the resample eventfd, as KVM does.
 */
static int
service_irq(struct proxy_lsi *hba, struct proxy_lsi_cmd *c,
    struct irq_status *st)
{
	uint64_t one = 1;
	int err;

	memset(st, 0, sizeof(*st));
	err = traced_read(hba, c, REG_ISTAT, 1, &st->istat);
	if (!err && (st->istat & ISTAT_INTF))
		err = proxy_lsi_reg_write(hba, REG_ISTAT, 1, ISTAT_INTF);
	if (!err && (st->istat & ISTAT_DIP))
		err = traced_read(hba, c, REG_DSTAT, 1, &st->dstat);
	if (!err && (st->istat & ISTAT_SIP)) {
		err = traced_read(hba, c, REG_SIST0, 1, &st->sist0);
		if (!err)
			err = traced_read(hba, c, REG_SIST1, 1, &st->sist1);
	}
	if (!err && (st->dstat & DSTAT_SIR))
		err = traced_read(hba, c, REG_DSPS, 4, &st->dsps);
	if (write(hba->resamplefd, &one, sizeof(one)) != sizeof(one))
		err = err ? err : -errno;
	return err;
}

PUBLIC int
proxy_lsi_run(struct proxy_lsi *hba, uint32_t dsp,
    struct proxy_lsi_cmd *trace_into)
{
	struct irq_status st;
	int err;

	err = proxy_lsi_reg_write(hba, REG_DSP, 4, dsp);
	if (err)
		return err;
	for (;;) {
		err = wait_irq(hba, now_ms() + hba->cfg.timeout_ms);
		if (err)
			return err;
		err = service_irq(hba, trace_into, &st);
		if (err)
			return err;
		if (st.istat & (ISTAT_DIP | ISTAT_SIP | ISTAT_INTF))
			return 0;
	}
}

/* Fill the DSA table and buffers for one command. */
static int
prepare(struct proxy_lsi *hba, struct proxy_lsi_cmd *c)
{
	uint8_t *t = hba->ram + RAM_TABLE;
	size_t room = hba->cfg.ram_size - RAM_DATA, left, seg;
	unsigned int n, first;
	uint8_t msgout[3];
	uint32_t msgout_len = 1, ident_len = 1;

	if (c->target > 15 || c->lun > 7 || c->cdb_len == 0 ||
	    c->cdb_len > 16 || c->tag > 255 || c->data_len > room ||
	    (c->data_len && !c->data) ||
	    (c->dir == PROXY_LSI_NONE && c->data_len))
		return -EINVAL;
	n = (unsigned int)((c->data_len + hba->cfg.sg_segment - 1) /
	    hba->cfg.sg_segment);
	if (n > MAX_SG)
		return -E2BIG;
	memset(t, 0, T_SIZE);
	memset(hba->ram + RAM_BUFS, 0, 0x34);
	put32(hba->ram + B_OVERRUN, 0);
	put32(hba->ram + B_DISC, 0);
	put32(hba->ram + B_DATA_SEEN, 0);
	hba->ram[B_STATUS] = 0xff;
	hba->ram[B_MSGIN] = 0xff;
	msgout[0] = (uint8_t)(0xc0 | c->lun); /* IDENTIFY, may disconnect */
	if (c->tag >= 0) {
		msgout[1] = 0x20;             /* SIMPLE QUEUE TAG */
		msgout[2] = (uint8_t)c->tag;
		msgout_len = 3;
		ident_len = 3;
	}
	memcpy(hba->ram + B_MSGOUT, msgout, msgout_len);
	memcpy(hba->ram + B_CDB, c->cdb, c->cdb_len);
	put32(t + T_SELECT, (uint32_t)c->target << 16);
	put32(t + T_MSGOUT, msgout_len);
	put32(t + T_MSGOUT + 4, B_MSGOUT);
	put32(t + T_CDB, c->cdb_len);
	put32(t + T_CDB + 4, B_CDB);
	put32(t + T_STATUS, 1);
	put32(t + T_STATUS + 4, B_STATUS);
	put32(t + T_MSGIN, 1);
	put32(t + T_MSGIN + 4, B_MSGIN);
	put32(t + T_IDENT, ident_len);
	put32(t + T_IDENT + 4, B_IDENT);
	put32(t + T_MSGIN2, 2);
	put32(t + T_MSGIN2 + 4, B_MSGIN2);
	/* the last n of MAX_SG moves carry the data: enter at MAX_SG - n */
	first = MAX_SG - n;
	put32(t + T_JUMP_IN, hba->l_data_in + 8 * first);
	put32(t + T_JUMP_OUT, hba->l_data_out + 8 * first);
	left = c->data_len;
	for (unsigned int k = 0; k < n; k++) {
		seg = left < hba->cfg.sg_segment ? left : hba->cfg.sg_segment;
		put32(t + T_DATA + 8 * (first + k), (uint32_t)seg);
		put32(t + T_DATA + 8 * (first + k) + 4,
		    (uint32_t)(RAM_DATA + (size_t)k * hba->cfg.sg_segment));
		left -= seg;
	}
	if (c->dir == PROXY_LSI_OUT && c->data_len)
		memcpy(hba->ram + RAM_DATA, c->data, c->data_len);
	else if (c->data_len)
		memset(hba->ram + RAM_DATA, 0, c->data_len);
	return 0;
}

/*
 * A phase mismatch in the data moves: the target moved less than we
 * offered. What was not moved is what is left in DBC, plus every later
 * entry. Returns the residual, or -1 when the mismatch was elsewhere.
 * (A mismatch in the overrun bucket is handled by the caller.)
 */
static long
data_residual(struct proxy_lsi *hba, uint32_t dsp, uint32_t dbc)
{
	const uint8_t *t = hba->ram + RAM_TABLE;
	uint32_t base, at = dsp - 8;
	long resid = (long)(dbc & 0xffffff);

	if (at >= hba->l_data_in && at < hba->l_data_in + 8 * MAX_SG)
		base = hba->l_data_in;
	else if (at >= hba->l_data_out && at < hba->l_data_out + 8 * MAX_SG)
		base = hba->l_data_out;
	else
		return -1;
	for (uint32_t k = (at - base) / 8 + 1; k < MAX_SG; k++)
		resid += (long)(get32(t + T_DATA + 8 * k) & 0xffffff);
	return resid;
}

static int exec_once(struct proxy_lsi *hba, struct proxy_lsi_cmd *c);

/*
 * A command that failed leaves the chip mid-conversation: reset it so the
 * next command starts from bus free, as a guest driver's error handler does.
 */
PUBLIC int
proxy_lsi_exec(struct proxy_lsi *hba, struct proxy_lsi_cmd *c)
{
	int err = exec_once(hba, c);

	if (err == -EIO || err == -ETIMEDOUT || err == -ENODEV)
		(void)proxy_lsi_chip_reset(hba);
	return err;
}

static int
exec_once(struct proxy_lsi *hba, struct proxy_lsi_cmd *c)
{
	struct irq_status st;
	unsigned int rounds = 0;
	uint32_t dsp, dbc;
	long resid = 0;
	bool mismatch = false;
	int err;

	if (!hba || !c)
		return -EINVAL;
	c->ntrace = 0;
	c->status = 0xff;
	c->msgin = 0xff;
	c->resid = c->data_len;
	c->overrun = false;
	c->disconnects = 0;
	err = prepare(hba, c);
	if (err)
		return err;
	err = proxy_lsi_reg_write(hba, REG_DSA, 4, RAM_TABLE);
	if (!err)
		err = proxy_lsi_reg_write(hba, REG_DSP, 4, hba->l_start);
	while (!err) {
		if (++rounds > 64)
			return -EIO; /* a remote that interrupts forever */
		err = wait_irq(hba, now_ms() + hba->cfg.timeout_ms);
		if (!err)
			err = service_irq(hba, c, &st);
		if (err)
			break;
		if (!(st.istat & (ISTAT_DIP | ISTAT_SIP)))
			continue; /* spurious, or INTFLY alone */
		if (st.sist1 & SIST1_STO)
			return -ENODEV;
		if (st.dstat & DSTAT_SIR) {
			if (st.dsps != INT_DONE)
				err = -EIO;
			break;
		}
		if ((st.sist0 & SIST0_MA) && !st.dstat && !(st.sist1)) {
			err = traced_read(hba, NULL, REG_DSP, 4, &dsp);
			if (!err)
				err = traced_read(hba, NULL, REG_DBC, 4, &dbc);
			if (err)
				break;
			if (dsp - 8 == hba->l_bucket_in ||
			    dsp - 8 == hba->l_bucket_out) {
				/* the overrun is sunk: carry on */
				err = proxy_lsi_reg_write(hba, REG_DSP, 4,
				    hba->l_after_data);
				continue;
			}
			resid = data_residual(hba, dsp, dbc);
			if (resid < 0) {
				err = -EIO;
				break;
			}
			mismatch = true;
			err = proxy_lsi_reg_write(hba, REG_DSP, 4,
			    hba->l_after_data);
			continue;
		}
		return -EIO;
	}
	if (err)
		return err;
	c->status = hba->ram[B_STATUS];
	c->msgin = hba->ram[B_MSGIN];
	c->overrun = get32(hba->ram + B_OVERRUN) != 0;
	c->disconnects = hba->ram[B_DISC];
	if (!get32(hba->ram + B_DATA_SEEN))
		c->resid = c->data_len; /* straight from COMMAND to STATUS */
	else if (mismatch && (size_t)resid < c->data_len)
		c->resid = (size_t)resid;
	else
		c->resid = mismatch ? c->data_len : 0;
	if (c->dir == PROXY_LSI_IN && c->data_len > c->resid)
		memcpy(c->data, hba->ram + RAM_DATA, c->data_len - c->resid);
	return 0;
}
