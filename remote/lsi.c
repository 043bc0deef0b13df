/*
 * remote/lsi.c: the LSI53C895A register file, interrupts, reset, BAR
 * access and the chip's bus-master view of memory. Inside the sandbox:
 * every register offset and value, and every DMA address, is hostile.
 * Behaviour follows QEMU 7.2's model; differences are said where they are.
 */
#include "remote/lsi.h"

#include <errno.h>
#include <string.h>

#include "remote/lsi_regs.h"
#include "remote/scripts.h"

const struct pci_identity lsi_pci_identity = {
	.vendor_id = 0x1000,         /* LSI Logic */
	.device_id = 0x0012,         /* 53C895A */
	.revision = 0x00,
	.class_code = 0x010000,      /* mass storage, SCSI */
	.subsystem_vendor_id = 0x0000,
	.subsystem_id = 0x1000,
	.interrupt_pin = 1,          /* INTA# */
	.latency_timer = 0xff,
	.bars = {
		[LSI_BAR_IO] = { LSI_IO_SIZE, true },
		[LSI_BAR_MMIO] = { LSI_MMIO_SIZE, false },
		[LSI_BAR_RAM] = { LSI_RAM_SIZE, false },
	},
};

/* Register kinds beyond plain storage behind a write mask. */
#define RF_CONST  0x01 /* reads the reset value; writes ignored */
#define RF_RSPEC  0x02 /* read has a handler */
#define RF_WSPEC  0x04 /* write has a handler (after the masked store) */
#define RF_IRQ    0x08 /* a write changes the interrupt line */

struct lsi_reg {
	uint8_t offset;
	uint8_t width;   /* bytes */
	uint8_t wmask;   /* bits of each byte a write may change */
	uint8_t flags;
	uint32_t reset;  /* little-endian over the first four bytes */
	const char *name;
};

/*
 * Every register QEMU 7.2 models, with its reset value and what a write
 * may change. Offsets not listed read 0xff and ignore writes, as in QEMU.
 */
static const struct lsi_reg lsi_regs[] = {
	{ LSI_SCNTL0, 1, 0xff, 0, 0xc0, "SCNTL0" },
	{ LSI_SCNTL1, 1, 0xfe, RF_WSPEC, 0, "SCNTL1" },
	{ LSI_SCNTL2, 1, 0xf6, 0, 0, "SCNTL2" },
	{ LSI_SCNTL3, 1, 0xff, 0, 0, "SCNTL3" },
	{ LSI_SCID, 1, 0xff, 0, 0x07, "SCID" },
	{ LSI_SXFER, 1, 0xff, 0, 0, "SXFER" },
	{ LSI_SDID, 1, 0x0f, 0, 0, "SDID" },
	{ LSI_GPREG, 1, 0x00, RF_CONST, 0x7f, "GPREG" }, /* no NVRAM */
	{ LSI_SFBR, 1, 0xff, 0, 0, "SFBR" },
	{ LSI_SOCL, 1, 0x00, 0, 0, "SOCL" },
	{ LSI_SSID, 1, 0x00, 0, 0, "SSID" },
	{ LSI_SBCL, 1, 0x00, 0, 0, "SBCL" },
	{ LSI_DSTAT, 1, 0x00, RF_RSPEC, 0, "DSTAT" },
	{ LSI_SSTAT0, 1, 0x00, 0, 0, "SSTAT0" },
	{ LSI_SSTAT1, 1, 0x00, 0, 0, "SSTAT1" },
	{ LSI_SSTAT2, 1, 0x00, RF_RSPEC, 0, "SSTAT2" },
	{ LSI_DSA, 4, 0xff, 0, 0, "DSA" },
	{ LSI_ISTAT, 1, 0x00, RF_WSPEC, 0, "ISTAT" },
	{ LSI_ISTAT1, 1, 0x00, 0, 0, "ISTAT1" },
	{ LSI_MBOX0, 1, 0xff, 0, 0, "MBOX0" },
	{ LSI_MBOX1, 1, 0xff, 0, 0, "MBOX1" },
	{ LSI_CTEST0, 1, 0x00, RF_CONST, 0xff, "CTEST0" },
	{ LSI_CTEST1, 1, 0x00, RF_CONST, 0x00, "CTEST1" },
	{ LSI_CTEST2, 1, LSI_CTEST2_PCICIE, RF_RSPEC, LSI_CTEST2_DACK,
	    "CTEST2" },
	{ LSI_CTEST3, 1, 0x0f, 0, 0, "CTEST3" },
	{ LSI_TEMP, 4, 0xff, 0, 0, "TEMP" },
	{ LSI_DFIFO, 1, 0x00, 0, 0, "DFIFO" },
	{ LSI_CTEST4, 1, 0xff, 0, 0, "CTEST4" },
	{ LSI_CTEST5, 1, 0xff, 0, 0, "CTEST5" },
	{ LSI_CTEST6, 1, 0x00, RF_CONST, 0x00, "CTEST6" },
	{ LSI_DBC, 3, 0xff, 0, 0, "DBC" },
	{ LSI_DCMD, 1, 0x00, 0, 0x40, "DCMD" },
	{ LSI_DNAD, 4, 0xff, 0, 0, "DNAD" },
	{ LSI_DSP, 4, 0xff, RF_WSPEC, 0, "DSP" },
	{ LSI_DSPS, 4, 0xff, 0, 0, "DSPS" },
	{ LSI_SCRATCHA, 4, 0xff, 0, 0, "SCRATCHA" },
	{ LSI_DMODE, 1, 0xff, 0, 0, "DMODE" },
	{ LSI_DIEN, 1, 0xff, RF_IRQ, 0, "DIEN" },
	{ LSI_SBR, 1, 0xff, 0, 0, "SBR" },
	/* DCNTL PFF and STD are commands, never stored: mask 0xbb. */
	{ LSI_DCNTL, 1, 0xbb, RF_WSPEC, 0, "DCNTL" },
	{ LSI_ADDER, 4, 0x00, 0, 0, "ADDER" },
	{ LSI_SIEN0, 1, 0xff, RF_IRQ, 0, "SIEN0" },
	{ LSI_SIEN1, 1, 0xff, RF_IRQ, 0, "SIEN1" },
	{ LSI_SIST0, 1, 0x00, RF_RSPEC, 0, "SIST0" },
	{ LSI_SIST1, 1, 0x00, RF_RSPEC, 0, "SIST1" },
	{ LSI_MACNTL, 1, 0x00, RF_CONST, 0x0f, "MACNTL" },
	{ LSI_GPCNTL, 1, 0x00, RF_CONST, 0x0f, "GPCNTL" },
	{ LSI_STIME0, 1, 0xff, 0, 0, "STIME0" },
	{ LSI_STIME1, 1, 0x00, RF_CONST | RF_WSPEC, 0xff, "STIME1" },
	{ LSI_RESPID0, 1, 0xff, 0, 0x80, "RESPID0" },
	{ LSI_RESPID1, 1, 0xff, 0, 0, "RESPID1" },
	{ LSI_STEST1, 1, 0xff, 0, 0, "STEST1" },
	{ LSI_STEST2, 1, 0xff, 0, 0, "STEST2" },
	{ LSI_STEST3, 1, 0xff, 0, 0, "STEST3" },
	{ LSI_SIDL, 1, 0x00, 0, 0, "SIDL" },
	{ LSI_STEST4, 1, 0x00, RF_CONST, 0xe0, "STEST4" },
	{ LSI_CCNTL0, 1, 0xff, 0, 0, "CCNTL0" },
	{ LSI_CCNTL1, 1, 0xff, 0, 0, "CCNTL1" },
	{ LSI_SBDL, 1, 0x00, RF_RSPEC, 0, "SBDL" },
	{ LSI_SBDL + 1, 1, 0x00, RF_CONST, 0, "SBDL1" },
	{ LSI_SCRATCHB, 0x44, 0xff, 0, 0, "SCRATCHB-R" },
	{ LSI_MMRS, 4, 0xff, 0, 0, "MMRS" },
	{ LSI_MMWS, 4, 0xff, 0, 0, "MMWS" },
	{ LSI_SFS, 4, 0xff, 0, 0, "SFS" },
	{ LSI_DRS, 4, 0xff, 0, 0, "DRS" },
	{ LSI_SBMS, 4, 0xff, 0, 0, "SBMS" },
	{ LSI_DBMS, 4, 0xff, 0, 0, "DBMS" },
	{ LSI_DNAD64, 4, 0xff, 0, 0, "DNAD64" },
	{ LSI_PMJAD1, 4, 0xff, 0, 0, "PMJAD1" },
	{ LSI_PMJAD2, 4, 0xff, 0, 0, "PMJAD2" },
	{ LSI_RBC, 4, 0xff, 0, 0, "RBC" },
	{ LSI_UA, 4, 0xff, 0, 0, "UA" },
	{ LSI_IA, 4, 0xff, 0, 0, "IA" },
	{ LSI_SBC, 4, 0xff, 0, 0, "SBC" },
	{ LSI_CSBC, 4, 0xff, 0, 0, "CSBC" },
};

#define NROWS (sizeof(lsi_regs) / sizeof(lsi_regs[0]))

static const struct lsi_reg *
reg_row(unsigned int off)
{
	for (size_t i = 0; i < NROWS; i++)
		if (off >= lsi_regs[i].offset &&
		    off < (unsigned int)lsi_regs[i].offset + lsi_regs[i].width)
			return &lsi_regs[i];
	return NULL;
}

static uint8_t
row_reset_byte(const struct lsi_reg *r, unsigned int off)
{
	unsigned int i = off - r->offset;

	if (i >= 4)
		return 0;
	return (uint8_t)(r->reset >> (8 * i));
}

uint32_t
lsi_get32(const struct lsi_state *s, unsigned int off)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < 4; i++)
		v |= (uint32_t)s->regs[(off + i) % LSI_NREGS] << (8 * i);
	return v;
}

void
lsi_set32(struct lsi_state *s, unsigned int off, uint32_t val)
{
	for (unsigned int i = 0; i < 4; i++)
		s->regs[(off + i) % LSI_NREGS] = (uint8_t)(val >> (8 * i));
}

/* Interrupts ------------------------------------------------------------ */

/*
 * As QEMU: DIP/SIP follow DSTAT and SIST0/1 being non-zero; the line is
 * high for an enabled DMA or SCSI condition, or INTF. No stacking: new
 * conditions OR into DSTAT/SIST0/SIST1, which read-clear as a whole.
 */
void
lsi_update_irq(struct lsi_state *s)
{
	uint8_t *istat = &s->regs[LSI_ISTAT];
	uint8_t dstat = s->regs[LSI_DSTAT];
	uint8_t sist0 = s->regs[LSI_SIST0], sist1 = s->regs[LSI_SIST1];
	bool level = false;

	if (dstat) {
		*istat |= LSI_ISTAT_DIP;
		if (dstat & s->regs[LSI_DIEN])
			level = true;
	} else {
		*istat &= (uint8_t)~LSI_ISTAT_DIP;
	}
	if (sist0 || sist1) {
		*istat |= LSI_ISTAT_SIP;
		if ((sist0 & s->regs[LSI_SIEN0]) || (sist1 & s->regs[LSI_SIEN1]))
			level = true;
	} else {
		*istat &= (uint8_t)~LSI_ISTAT_SIP;
	}
	if (*istat & LSI_ISTAT_INTF)
		level = true;
	if (s->pci)
		pci_set_intx_status(s->pci, level);
	if (s->irq)
		irq_set_level(s->irq, level && !(s->pci &&
		    pci_intx_disabled(s->pci)));
}

void
lsi_stop(struct lsi_state *s)
{
	s->regs[LSI_ISTAT1] &= (uint8_t)~LSI_ISTAT1_SRUN;
	s->cont = LSI_CONT_NONE;
}

void
lsi_dma_interrupt(struct lsi_state *s, uint8_t dstat)
{
	s->regs[LSI_DSTAT] |= dstat;
	lsi_update_irq(s);
	lsi_stop(s);
}

void
lsi_scsi_interrupt(struct lsi_state *s, uint8_t sist0, uint8_t sist1)
{
	unsigned int fatal0, fatal1;

	s->regs[LSI_SIST0] |= sist0;
	s->regs[LSI_SIST1] |= sist1;
	/*
	 * QEMU stops on fatal or enabled conditions, except a selection
	 * time-out: SCRIPTS go on and stall at the next instruction that
	 * needs the bus (the Linux driver checks DSP against that).
	 */
	fatal0 = s->regs[LSI_SIEN0] |
	    (uint8_t)~(LSI_SIST0_CMP | LSI_SIST0_SEL | LSI_SIST0_RSL);
	fatal1 = (s->regs[LSI_SIEN1] |
	    (uint8_t)~(LSI_SIST1_GEN | LSI_SIST1_HTH)) &
	    (uint8_t)~LSI_SIST1_STO;
	if ((s->regs[LSI_SIST0] & fatal0) || (s->regs[LSI_SIST1] & fatal1))
		lsi_stop(s);
	lsi_update_irq(s);
}

/* SCSI bus state ----------------------------------------------------------- */

void
lsi_set_phase(struct lsi_state *s, uint8_t phase)
{
	phase &= LSI_PHASE_MASK;
	s->regs[LSI_SBCL] = (uint8_t)((s->regs[LSI_SBCL] & ~LSI_PHASE_MASK) |
	    phase | LSI_SBCL_REQ);
	s->regs[LSI_SSTAT1] = (uint8_t)((s->regs[LSI_SSTAT1] &
	    ~LSI_PHASE_MASK) | phase);
}

void
lsi_disconnect(struct lsi_state *s)
{
	s->regs[LSI_SCNTL1] &= (uint8_t)~LSI_SCNTL1_CON;
	s->regs[LSI_SSTAT1] &= (uint8_t)~LSI_PHASE_MASK;
	s->regs[LSI_SBCL] = 0;
}

void
lsi_cancel_cmd(struct lsi_state *s)
{
	if (s->cmd.active && s->ops && s->ops->cancel)
		s->ops->cancel(s->ops_opaque, s->cmd.target, s->cmd.lun);
	memset(&s->cmd, 0, sizeof(s->cmd));
}

/* Reset ----------------------------------------------------------------- */

void
lsi_reset(struct lsi_state *s)
{
	lsi_cancel_cmd(s);
	if (s->ops && s->ops->bus_reset)
		s->ops->bus_reset(s->ops_opaque);
	memset(s->regs, 0, sizeof(s->regs));
	for (size_t i = 0; i < NROWS; i++) {
		const struct lsi_reg *r = &lsi_regs[i];

		if (r->flags & RF_CONST)
			continue;
		for (unsigned int b = 0; b < r->width; b++)
			s->regs[(r->offset + b) % LSI_NREGS] =
			    row_reset_byte(r, r->offset + b);
	}
	s->carry = false;
	s->waiting = LSI_NOWAIT;
	s->cont = LSI_CONT_NONE;
	s->cont_addr_hi = 0;
	s->bm_addr = 0;
	s->mm_src = s->mm_dst = s->mm_left = 0;
	memset(s->msg, 0, sizeof(s->msg));
	s->msg_len = 0;
	s->msg_action = LSI_MSG_ACTION_COMMAND;
	s->sel_target = 0;
	s->sel_tag = -1;
	s->cur_lun = 0;
	s->status = 0;
	s->status_ready = false;
	s->kick = false;
	s->reset_gen++;
	lsi_update_irq(s);
}

void
lsi_init(struct lsi_state *s, struct pci_dev *pci, struct dma_map *dma,
    struct irq_line *irq)
{
	memset(s, 0, sizeof(*s));
	s->pci = pci;
	s->dma = dma;
	s->irq = irq;
	lsi_reset(s);
}

void
lsi_set_scsi(struct lsi_state *s, const struct lsi_scsi_ops *ops,
    void *opaque)
{
	lsi_cancel_cmd(s);
	s->ops = ops;
	s->ops_opaque = opaque;
}

/* Register access ----------------------------------------------------------- */

static void
start_scripts(struct lsi_state *s)
{
	s->regs[LSI_ISTAT1] |= LSI_ISTAT1_SRUN;
	s->waiting = LSI_NOWAIT;
	s->cont = LSI_CONT_NONE;
	s->kick = true;
}

static uint8_t
special_read(struct lsi_state *s, unsigned int off)
{
	uint8_t v;

	switch (off) {
	case LSI_DSTAT:
		/* DFE always reads set: the FIFO is always empty here. */
		v = s->regs[LSI_DSTAT] | LSI_DSTAT_DFE;
		if (!(s->regs[LSI_ISTAT] & LSI_ISTAT_INTF))
			s->regs[LSI_DSTAT] = 0;
		lsi_update_irq(s);
		return v;
	case LSI_SSTAT2:
		return s->regs[LSI_SCNTL1] & LSI_SCNTL1_CON ? 0 : LSI_SSTAT2_LDSC;
	case LSI_CTEST2:
		v = s->regs[LSI_CTEST2] | LSI_CTEST2_DACK | LSI_CTEST2_CM;
		if (s->regs[LSI_ISTAT] & LSI_ISTAT_SIGP) {
			s->regs[LSI_ISTAT] &= (uint8_t)~LSI_ISTAT_SIGP;
			v |= LSI_CTEST2_SIGP;
		}
		return v;
	case LSI_SIST0:
	case LSI_SIST1:
		v = s->regs[off];
		s->regs[off] = 0;
		lsi_update_irq(s);
		return v;
	case LSI_SBDL:
		/* Drivers peek at the data bus during MESSAGE IN. */
		if ((s->regs[LSI_SSTAT1] & LSI_PHASE_MASK) == LSI_PHASE_MI &&
		    s->msg_len > 0)
			return s->msg[0];
		return 0;
	default:
		return 0xff;
	}
}

uint8_t
lsi_reg_readb(struct lsi_state *s, unsigned int off)
{
	const struct lsi_reg *r = off < LSI_NREGS ? reg_row(off) : NULL;

	if (!r)
		return 0xff;
	if (r->flags & RF_CONST)
		return row_reset_byte(r, off);
	if (r->flags & RF_RSPEC)
		return special_read(s, off);
	return s->regs[off];
}

static void
write_istat(struct lsi_state *s, uint8_t val)
{
	uint8_t *istat = &s->regs[LSI_ISTAT];

	/* DIP, SIP, INTF and CON are the chip's; the rest the host's. */
	*istat = (uint8_t)((*istat & 0x0f) | (val & 0xf0));
	if (val & LSI_ISTAT_ABRT)
		lsi_dma_interrupt(s, LSI_DSTAT_ABRT);
	if (val & LSI_ISTAT_INTF) {
		*istat &= (uint8_t)~LSI_ISTAT_INTF;
		lsi_update_irq(s);
	}
	if (s->waiting == LSI_WAIT_RESELECT && (val & LSI_ISTAT_SIGP)) {
		/* SIGP ends WAIT RESELECT at its alternate address. */
		s->waiting = LSI_NOWAIT;
		lsi_set32(s, LSI_DSP, lsi_get32(s, LSI_DNAD));
		s->kick = true;
	}
	if (val & LSI_ISTAT_SRST)
		lsi_reset(s);
}

static void
special_write(struct lsi_state *s, unsigned int off, uint8_t val)
{
	switch (off) {
	case LSI_SCNTL1:
		if (val & LSI_SCNTL1_RST) {
			if (!(s->regs[LSI_SSTAT0] & LSI_SSTAT0_RST)) {
				lsi_cancel_cmd(s);
				if (s->ops && s->ops->bus_reset)
					s->ops->bus_reset(s->ops_opaque);
				s->regs[LSI_SSTAT0] |= LSI_SSTAT0_RST;
				lsi_scsi_interrupt(s, LSI_SIST0_RST, 0);
			}
		} else {
			s->regs[LSI_SSTAT0] &= (uint8_t)~LSI_SSTAT0_RST;
		}
		break;
	case LSI_ISTAT:
		write_istat(s, val);
		break;
	case LSI_DSP + 3:
		if (!(s->regs[LSI_DMODE] & LSI_DMODE_MAN) &&
		    !(s->regs[LSI_ISTAT1] & LSI_ISTAT1_SRUN))
			start_scripts(s);
		break;
	case LSI_DCNTL:
		if ((val & LSI_DCNTL_STD) &&
		    !(s->regs[LSI_ISTAT1] & LSI_ISTAT1_SRUN))
			start_scripts(s);
		break;
	case LSI_STIME1:
		/* No timer: an armed general-purpose timer expires at once. */
		if (val & 0x0f)
			lsi_scsi_interrupt(s, 0, LSI_SIST1_GEN);
		break;
	default:
		break;
	}
}

void
lsi_reg_writeb(struct lsi_state *s, unsigned int off, uint8_t val)
{
	const struct lsi_reg *r = off < LSI_NREGS ? reg_row(off) : NULL;

	if (!r)
		return;
	if (!(r->flags & RF_CONST))
		s->regs[off] = (uint8_t)((s->regs[off] & ~r->wmask) |
		    (val & r->wmask));
	if (r->flags & RF_WSPEC)
		special_write(s, off, val);
	if (r->flags & RF_IRQ)
		lsi_update_irq(s);
}

/* BARs ------------------------------------------------------------------- */

static bool
width_ok(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static int
bar_check(unsigned int bar, uint32_t offset, uint32_t size)
{
	uint32_t end;

	if (bar >= PCI_NUM_BARS || lsi_pci_identity.bars[bar].size == 0 ||
	    !width_ok(size))
		return -EINVAL;
	if (__builtin_add_overflow(offset, size, &end) ||
	    end > lsi_pci_identity.bars[bar].size)
		return -EINVAL;
	return 0;
}

int
lsi_bar_read(struct lsi_state *s, unsigned int bar, uint32_t offset,
    uint32_t size, uint64_t *val)
{
	uint64_t v = 0;
	int err = bar_check(bar, offset, size);

	if (err)
		return err;
	for (uint32_t i = 0; i < size; i++) {
		uint8_t b;

		if (bar == LSI_BAR_RAM)
			b = s->script_ram[(offset + i) % LSI_RAM_SIZE];
		else
			b = lsi_reg_readb(s, (offset + i) % LSI_NREGS);
		v |= (uint64_t)b << (8 * i);
	}
	*val = v;
	return 0;
}

int
lsi_bar_write(struct lsi_state *s, unsigned int bar, uint32_t offset,
    uint32_t size, uint64_t val)
{
	int err = bar_check(bar, offset, size);

	if (err)
		return err;
	for (uint32_t i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));

		if (bar == LSI_BAR_RAM)
			s->script_ram[(offset + i) % LSI_RAM_SIZE] = b;
		else
			lsi_reg_writeb(s, (offset + i) % LSI_NREGS, b);
	}
	/* QEMU runs SCRIPTS inside the write; we run one bounded slice. */
	if (s->kick) {
		s->kick = false;
		lsi_run(s);
	}
	return 0;
}

bool
lsi_pending(const struct lsi_state *s)
{
	return (s->regs[LSI_ISTAT1] & LSI_ISTAT1_SRUN) &&
	    s->waiting == LSI_NOWAIT;
}

void
lsi_run(struct lsi_state *s)
{
	s->kick = false;
	scripts_run(s, SCRIPTS_SLICE_INSNS, SCRIPTS_SLICE_BYTES);
}

/* The bus master's view of memory --------------------------------------- */

/* Base of a memory BAR while it decodes; false if it does not. */
static bool
bar_window(const struct lsi_state *s, unsigned int bar, uint64_t *base)
{
	uint32_t v, off;
	unsigned int found;

	if (!s->pci || pci_config_read(s->pci, PCI_BASE_ADDRESS_0 + 4 * bar, 4,
	    &v) < 0)
		return false;
	v &= ~0xfu;
	if (pci_bar_lookup(s->pci, true, v, 1, &found, &off) < 0 ||
	    found != bar || off != 0)
		return false;
	*base = v;
	return true;
}

uint8_t *
lsi_dma_span(struct lsi_state *s, uint64_t addr, uint32_t want,
    uint32_t *got)
{
	uint64_t n = want, base;

	if (want == 0)
		return NULL;
	/*
	 * The device's own BARs first, as the PCI bus decodes them: BAR2 is
	 * the SCRIPTS RAM the Linux driver runs from; the register BARs are
	 * never reachable (no re-entry into the register file, by design).
	 */
	for (unsigned int bar = LSI_BAR_MMIO; bar <= LSI_BAR_RAM; bar++) {
		uint64_t size = lsi_pci_identity.bars[bar].size;

		if (!bar_window(s, bar, &base))
			continue;
		if (addr >= base && addr - base < size) {
			uint64_t off = addr - base;

			if (bar != LSI_BAR_RAM)
				return NULL;
			if (n > size - off)
				n = size - off;
			*got = (uint32_t)n;
			return &s->script_ram[off];
		}
		/* A guest-RAM span must stop where a BAR begins. */
		if (addr < base && base - addr < n)
			n = base - addr;
	}
	if (!s->dma)
		return NULL;
	for (unsigned int i = 0; i < s->dma->n && i < DMA_MAX_REGIONS; i++) {
		const struct dma_region *r = &s->dma->r[i];
		uint8_t *p;

		if (addr < r->gpa || addr - r->gpa >= r->size)
			continue;
		if (n > r->size - (addr - r->gpa))
			n = r->size - (addr - r->gpa);
		p = dma_translate(s->dma, addr, n);
		if (!p)
			return NULL;
		*got = (uint32_t)n;
		return p;
	}
	return NULL;
}

static int
dma_copy(struct lsi_state *s, uint64_t addr, void *buf, const void *src,
    uint32_t len)
{
	uint32_t done = 0;

	while (done < len) {
		uint32_t got = 0;
		uint64_t a;
		uint8_t *p;

		if (__builtin_add_overflow(addr, (uint64_t)done, &a))
			return -EFAULT;
		p = lsi_dma_span(s, a, len - done, &got);
		if (!p || got == 0 || got > len - done)
			return -EFAULT;
		if (buf)
			memcpy((uint8_t *)buf + done, p, got);
		else
			memcpy(p, (const uint8_t *)src + done, got);
		done += got;
	}
	return 0;
}

int
lsi_dma_read(struct lsi_state *s, uint64_t addr, void *buf, uint32_t len)
{
	return dma_copy(s, addr, buf, NULL, len);
}

int
lsi_dma_write(struct lsi_state *s, uint64_t addr, const void *buf,
    uint32_t len)
{
	return dma_copy(s, addr, NULL, buf, len);
}
