/*
 * remote/scripts.c: the SCRIPTS processor of the LSI53C895A and the SCSI
 * bus phases it drives against the targets of lsi_scsi_ops. Inside the
 * sandbox: every instruction, table entry, count and address is the
 * guest's. Work per call is bounded (instructions and DMA bytes); guest
 * addresses wrap at 32 bits as on the chip and are then translated whole
 * by lsi_dma_span, so a wrap can only ever reach memory DMA may reach.
 */
#include "remote/scripts.h"

#include <errno.h>
#include <string.h>

#include "remote/lsi_regs.h"

#define BIT(n) (1u << (n))

struct slice {
	uint32_t bytes; /* DMA bytes left in this slice */
};

static uint32_t
sext24(uint32_t v)
{
	/* Two's complement of the low 24 bits, as a 32-bit addend. */
	v &= 0xffffffu;
	return (v & 0x800000u) ? (v | 0xff000000u) : v;
}

static uint32_t
get_dbc(const struct lsi_state *s)
{
	return lsi_get32(s, LSI_DBC) & 0xffffffu;
}

static void
set_dbc(struct lsi_state *s, uint32_t v)
{
	s->regs[LSI_DBC] = (uint8_t)v;
	s->regs[LSI_DBC + 1] = (uint8_t)(v >> 8);
	s->regs[LSI_DBC + 2] = (uint8_t)(v >> 16);
}

static uint8_t
phase(const struct lsi_state *s)
{
	return s->regs[LSI_SSTAT1] & LSI_PHASE_MASK;
}

static void
bus_fault(struct lsi_state *s)
{
	lsi_dma_interrupt(s, LSI_DSTAT_BF);
}

static int
fetch32(struct lsi_state *s, uint32_t addr, uint32_t *val)
{
	uint8_t b[4];

	if (lsi_dma_read(s, addr, b, sizeof(b)) < 0)
		return -EFAULT;
	*val = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
	return 0;
}

static bool
irq_on_rsl(const struct lsi_state *s)
{
	return (s->regs[LSI_SIEN0] & LSI_SIST0_RSL) &&
	    (s->regs[LSI_SCID] & LSI_SCID_RRE);
}

static void
add_msg(struct lsi_state *s, uint8_t b)
{
	if (s->msg_len < LSI_MAX_MSGIN)
		s->msg[s->msg_len++] = b;
}

/*
 * SCRIPTS moved data in a phase where no request backs it (QEMU asserts
 * here). The target lets go of the bus: an unexpected disconnect.
 */
static void
no_request(struct lsi_state *s)
{
	lsi_disconnect(s);
	lsi_scsi_interrupt(s, LSI_SIST0_UDC, 0);
}

static void
bad_selection(struct lsi_state *s)
{
	lsi_scsi_interrupt(s, 0, LSI_SIST1_STO);
	lsi_disconnect(s);
}

/* A data phase ended before DBC did: jump (CCNTL0 ENPMJ) or interrupt. */
static void
bad_phase(struct lsi_state *s, bool out, uint8_t new_phase)
{
	uint8_t ccntl0 = s->regs[LSI_CCNTL0];

	if (ccntl0 & LSI_CCNTL0_ENPMJ) {
		unsigned int reg;

		if (ccntl0 & LSI_CCNTL0_PMJCTL)
			reg = out ? LSI_PMJAD1 : LSI_PMJAD2;
		else
			reg = (s->regs[LSI_SCNTL2] & LSI_SCNTL2_WSR) ?
			    LSI_PMJAD2 : LSI_PMJAD1;
		lsi_set32(s, LSI_DSP, lsi_get32(s, reg));
	} else {
		lsi_scsi_interrupt(s, LSI_SIST0_MA, 0);
	}
	lsi_set_phase(s, new_phase);
}

static void
finish_command(struct lsi_state *s)
{
	const struct lsi_scsi_ops *o = s->ops;
	uint8_t st = 0x02; /* CHECK CONDITION if the target cannot say */

	if (o && o->complete)
		st = o->complete(s->ops_opaque, s->cmd.target, s->cmd.lun);
	memset(&s->cmd, 0, sizeof(s->cmd));
	s->status = st;
	s->status_ready = true;
}

/* After every block move, as QEMU leaves the byte-count mirrors. */
static void
block_move_done(struct lsi_state *s, uint32_t addr)
{
	uint32_t dbc = get_dbc(s);

	s->regs[LSI_DFIFO] = (uint8_t)dbc;
	s->regs[LSI_CTEST5] = (uint8_t)((s->regs[LSI_CTEST5] & 0xfc) |
	    ((dbc >> 8) & 3));
	lsi_set32(s, LSI_SBC, dbc);
	lsi_set32(s, LSI_RBC, lsi_get32(s, LSI_RBC) - dbc);
	lsi_set32(s, LSI_UA, addr + dbc);
}

/* Upper 32 bits of a data-phase address, as QEMU picks them. */
static uint32_t
data_hi(const struct lsi_state *s)
{
	if (s->regs[LSI_CCNTL1] & LSI_CCNTL1_EN64TIBMV)
		return lsi_get32(s, LSI_DNAD64);
	if (lsi_get32(s, LSI_DBMS))
		return lsi_get32(s, LSI_DBMS);
	return lsi_get32(s, LSI_SBMS);
}

/* DATA IN / DATA OUT: DNAD/DBC hold the progress across slices. */
static void
data_step(struct lsi_state *s, struct slice *sl)
{
	const struct lsi_scsi_ops *o = s->ops;
	bool out = s->cmd.dir == LSI_SCSI_DIR_OUT;
	uint32_t dbc = get_dbc(s);

	if (!s->cmd.active) {
		s->cont = LSI_CONT_NONE;
		no_request(s);
		return;
	}
	while (dbc > 0 && s->cmd.left > 0) {
		uint32_t want = dbc, got = 0, dnad;
		uint64_t addr;
		uint8_t *p;
		int err;

		if (sl->bytes == 0)
			return; /* yield; s->cont brings us back here */
		if (want > s->cmd.left)
			want = s->cmd.left;
		if (want > SCRIPTS_CHUNK)
			want = SCRIPTS_CHUNK;
		if (want > sl->bytes)
			want = sl->bytes;
		dnad = lsi_get32(s, LSI_DNAD);
		addr = (uint64_t)data_hi(s) << 32 | dnad;
		p = lsi_dma_span(s, addr, want, &got);
		if (!p || got == 0 || got > want) {
			block_move_done(s, s->bm_addr);
			bus_fault(s);
			return;
		}
		if (out)
			err = o && o->data_out ? o->data_out(s->ops_opaque,
			    s->cmd.target, s->cmd.lun, p, got) : -EIO;
		else
			err = o && o->data_in ? o->data_in(s->ops_opaque,
			    s->cmd.target, s->cmd.lun, p, got) : -EIO;
		if (err < 0) {
			s->cmd.left = 0; /* the target ends the phase early */
			break;
		}
		lsi_set32(s, LSI_DNAD, dnad + got);
		dbc -= got;
		set_dbc(s, dbc);
		lsi_set32(s, LSI_CSBC, lsi_get32(s, LSI_CSBC) + got);
		s->cmd.left -= got;
		sl->bytes -= got;
	}
	s->cont = LSI_CONT_NONE;
	if (s->cmd.left == 0) {
		finish_command(s);
		if (dbc != 0)
			bad_phase(s, out, LSI_PHASE_ST);
		else
			lsi_set_phase(s, LSI_PHASE_ST);
	}
	block_move_done(s, s->bm_addr);
}

static void
do_command(struct lsi_state *s)
{
	const struct lsi_scsi_ops *o = s->ops;
	struct lsi_scsi_xfer x = { LSI_SCSI_DIR_NONE, 0 };
	uint8_t cdb[16];
	uint32_t dbc = get_dbc(s);

	memset(cdb, 0, sizeof(cdb));
	if (dbc > sizeof(cdb)) {
		dbc = sizeof(cdb);
		set_dbc(s, dbc);
	}
	if (dbc && lsi_dma_read(s, lsi_get32(s, LSI_DNAD), cdb, dbc) < 0) {
		bus_fault(s);
		return;
	}
	s->regs[LSI_SFBR] = cdb[0];
	lsi_cancel_cmd(s); /* a new command replaces an unfinished one */
	s->status_ready = false;
	if (!o || !o->start || o->start(s->ops_opaque, s->sel_target,
	    s->cur_lun, s->sel_tag, cdb, dbc, &x) < 0) {
		bad_selection(s);
		return;
	}
	s->cmd.active = true;
	s->cmd.target = s->sel_target;
	s->cmd.lun = s->cur_lun;
	s->cmd.dir = x.dir;
	s->cmd.left = x.len;
	if ((x.dir != LSI_SCSI_DIR_IN && x.dir != LSI_SCSI_DIR_OUT) ||
	    x.len == 0) {
		finish_command(s);
		lsi_set_phase(s, LSI_PHASE_ST);
	} else {
		lsi_set_phase(s, x.dir == LSI_SCSI_DIR_IN ? LSI_PHASE_DI :
		    LSI_PHASE_DO);
	}
}

static void
do_status(struct lsi_state *s)
{
	if (!s->status_ready) {
		no_request(s);
		return;
	}
	set_dbc(s, 1);
	if (lsi_dma_write(s, lsi_get32(s, LSI_DNAD), &s->status, 1) < 0) {
		bus_fault(s);
		return;
	}
	s->regs[LSI_SFBR] = s->status;
	s->status_ready = false;
	lsi_set_phase(s, LSI_PHASE_MI);
	s->msg_action = LSI_MSG_ACTION_DISCONNECT;
	add_msg(s, 0x00); /* COMMAND COMPLETE */
}

static void
do_msgin(struct lsi_state *s)
{
	uint32_t dbc = get_dbc(s), len = s->msg_len;

	if (s->msg_len == 0) {
		no_request(s);
		return;
	}
	if (dbc == 0)
		return; /* QEMU reads msg[-1] here */
	if (len > dbc)
		len = dbc;
	if (lsi_dma_write(s, lsi_get32(s, LSI_DNAD), s->msg, len) < 0) {
		bus_fault(s);
		return;
	}
	s->regs[LSI_SFBR] = s->msg[0];
	s->regs[LSI_SIDL] = s->msg[len - 1]; /* the Linux driver reads it */
	memmove(s->msg, s->msg + len, s->msg_len - len);
	s->msg_len = (uint8_t)(s->msg_len - len);
	if (s->msg_len)
		return;
	switch (s->msg_action) {
	case LSI_MSG_ACTION_DISCONNECT:
		lsi_disconnect(s);
		break;
	case LSI_MSG_ACTION_DOUT:
		lsi_set_phase(s, LSI_PHASE_DO);
		break;
	case LSI_MSG_ACTION_DIN:
		lsi_set_phase(s, LSI_PHASE_DI);
		break;
	default:
		lsi_set_phase(s, LSI_PHASE_CMD);
		break;
	}
}

/* Next MESSAGE OUT byte: 0, -ENODATA (DBC ran out) or -EFAULT. */
static int
msg_byte(struct lsi_state *s, uint8_t *b)
{
	uint32_t dbc = get_dbc(s), dnad = lsi_get32(s, LSI_DNAD);

	if (dbc == 0)
		return -ENODATA;
	if (lsi_dma_read(s, dnad, b, 1) < 0)
		return -EFAULT;
	lsi_set32(s, LSI_DNAD, dnad + 1);
	set_dbc(s, dbc - 1);
	return 0;
}

/* Skip bytes of a message we ignore; never past DBC (QEMU underflows). */
static void
msg_skip(struct lsi_state *s, uint32_t n)
{
	uint32_t dbc = get_dbc(s);

	if (n > dbc)
		n = dbc;
	lsi_set32(s, LSI_DNAD, lsi_get32(s, LSI_DNAD) + n);
	set_dbc(s, dbc - n);
}

static void
msg_reject(struct lsi_state *s)
{
	lsi_set_phase(s, LSI_PHASE_MI);
	add_msg(s, 0x07); /* MESSAGE REJECT */
	s->msg_action = LSI_MSG_ACTION_COMMAND;
}

static void
do_msgout(struct lsi_state *s)
{
	unsigned int n = 0;
	int err = 0;

	while (get_dbc(s) > 0) {
		uint8_t b, len, code, tag;

		if (n++ >= SCRIPTS_MSGOUT_MAX) {
			/* No message is this long: the target changes phase. */
			lsi_scsi_interrupt(s, LSI_SIST0_MA, 0);
			return;
		}
		err = msg_byte(s, &b);
		if (err)
			goto fail;
		s->regs[LSI_SFBR] = b;
		switch (b) {
		case 0x04: /* DISCONNECT */
			lsi_disconnect(s);
			return;
		case 0x08: /* NO OPERATION */
			lsi_set_phase(s, LSI_PHASE_CMD);
			break;
		case 0x01: /* EXTENDED MESSAGE */
			if ((err = msg_byte(s, &len)) || (err = msg_byte(s, &code)))
				goto fail;
			(void)len;
			/* Negotiations are ignored, as QEMU does: async, narrow. */
			if (code == 0x01)      /* SDTR */
				msg_skip(s, 2);
			else if (code == 0x03) /* WDTR */
				msg_skip(s, 1);
			else if (code == 0x04) /* PPR */
				msg_skip(s, 5);
			else {
				msg_reject(s);
				return;
			}
			break;
		case 0x20: /* SIMPLE QUEUE TAG */
		case 0x21: /* HEAD OF QUEUE TAG */
		case 0x22: /* ORDERED QUEUE TAG */
			if ((err = msg_byte(s, &tag)))
				goto fail;
			s->sel_tag = tag;
			break;
		case 0x0d: /* ABORT TAG */
		case 0x06: /* ABORT */
		case 0x0e: /* CLEAR QUEUE */
		case 0x0c: /* BUS DEVICE RESET */
			/* The one place a request ends early; see CVE-2022-0216. */
			lsi_cancel_cmd(s);
			s->status_ready = false;
			s->msg_len = 0;
			lsi_disconnect(s);
			return;
		default:
			if (!(b & 0x80)) {
				msg_reject(s);
				return;
			}
			s->cur_lun = b & 7; /* IDENTIFY */
			lsi_set_phase(s, LSI_PHASE_CMD);
			break;
		}
	}
	return;
fail:
	if (err == -EFAULT)
		bus_fault(s);
	/* -ENODATA: a message cut short by DBC; the rest never came. */
}

static void
op_block_move(struct lsi_state *s, uint32_t insn, uint32_t addr,
    struct slice *sl)
{
	uint32_t dsp = lsi_get32(s, LSI_DSP), hi = 0, dbc;
	uint8_t ccntl1 = s->regs[LSI_CCNTL1];

	if (s->regs[LSI_SIST1] & LSI_SIST1_STO) {
		lsi_stop(s); /* the delayed stop of a selection time-out */
		return;
	}
	dbc = insn & 0xffffffu;
	lsi_set32(s, LSI_IA, dsp - 8);
	if (insn & BIT(29)) {
		/* Indirect: the operand is the address of the address. */
		if (fetch32(s, addr, &addr) < 0)
			goto fault;
	} else if (insn & BIT(28)) {
		/* Table indirect: {count, address} at DSA + signed offset. */
		uint32_t w0, w1, ta = lsi_get32(s, LSI_DSA) + sext24(addr);

		if (fetch32(s, ta, &w0) < 0 || fetch32(s, ta + 4, &w1) < 0)
			goto fault;
		dbc = w0 & 0xffffffu;
		addr = w1;
		if ((ccntl1 & (LSI_CCNTL1_EN64TIBMV | LSI_CCNTL1_64TIMOD)) ==
		    (LSI_CCNTL1_EN64TIBMV | LSI_CCNTL1_64TIMOD)) {
			hi = w0 >> 24;
		} else if (ccntl1 & LSI_CCNTL1_EN64TIBMV) {
			uint32_t sel = (w0 >> 24) & 0x1f;

			if (sel <= 0x0f)
				hi = lsi_get32(s, LSI_SCRATCHC + 4 * sel);
			else if (sel <= 0x15)
				hi = lsi_get32(s, LSI_MMRS + 4 * (sel - 0x10));
		}
	} else if (ccntl1 & LSI_CCNTL1_EN64DBMV) {
		uint32_t dbms;

		if (fetch32(s, dsp, &dbms) < 0)
			goto fault;
		lsi_set32(s, LSI_DBMS, dbms);
		lsi_set32(s, LSI_DSP, dsp + 4);
		lsi_set32(s, LSI_IA, dsp - 8);
	}
	set_dbc(s, dbc);
	lsi_set32(s, LSI_RBC, dbc);
	if (phase(s) != ((insn >> 24) & LSI_PHASE_MASK)) {
		lsi_scsi_interrupt(s, LSI_SIST0_MA, 0);
		return;
	}
	lsi_set32(s, LSI_DNAD, addr);
	lsi_set32(s, LSI_DNAD64, hi);
	s->bm_addr = addr;
	switch (phase(s)) {
	case LSI_PHASE_DO:
	case LSI_PHASE_DI:
		if (!s->cmd.active || (s->cmd.dir == LSI_SCSI_DIR_OUT) !=
		    (phase(s) == LSI_PHASE_DO)) {
			no_request(s);
			return;
		}
		s->cont = LSI_CONT_DATA;
		data_step(s, sl);
		return;
	case LSI_PHASE_CMD:
		do_command(s);
		break;
	case LSI_PHASE_ST:
		do_status(s);
		break;
	case LSI_PHASE_MO:
		do_msgout(s);
		break;
	case LSI_PHASE_MI:
		do_msgin(s);
		break;
	default:
		break; /* reserved phases: nothing moves */
	}
	block_move_done(s, addr);
	return;
fault:
	bus_fault(s);
}

static void
op_io(struct lsi_state *s, uint32_t insn, uint32_t addr)
{
	uint32_t opcode = (insn >> 27) & 7, idw = insn, id;

	if (insn & BIT(25)) {
		/* Table indirect: the ID (and timing) at DSA + offset. */
		if (fetch32(s, lsi_get32(s, LSI_DSA) + sext24(insn), &idw) < 0) {
			bus_fault(s);
			return;
		}
	}
	id = (idw >> 16) & 0xf;
	if (insn & BIT(26))
		addr = lsi_get32(s, LSI_DSP) + sext24(addr);
	lsi_set32(s, LSI_DNAD, addr);
	switch (opcode) {
	case 0: /* SELECT */
		s->regs[LSI_SDID] = (uint8_t)id;
		if (s->regs[LSI_SCNTL1] & LSI_SCNTL1_CON) {
			/* Already reselected: take the alternate address. */
			lsi_set32(s, LSI_DSP, addr);
			break;
		}
		s->regs[LSI_SSTAT0] |= LSI_SSTAT0_WOA;
		s->regs[LSI_SCNTL1] &= (uint8_t)~LSI_SCNTL1_IARB;
		lsi_cancel_cmd(s);
		s->status_ready = false;
		s->msg_len = 0;
		if (!s->ops || !s->ops->present ||
		    !s->ops->present(s->ops_opaque, id)) {
			bad_selection(s);
			break;
		}
		s->sel_target = (uint8_t)id;
		s->sel_tag = -1;
		s->cur_lun = 0;
		s->regs[LSI_SCNTL1] |= LSI_SCNTL1_CON;
		if (insn & BIT(3)) {
			s->regs[LSI_SOCL] |= LSI_SOCL_ATN;
			s->regs[LSI_SBCL] |= LSI_SBCL_ATN;
		}
		s->regs[LSI_SBCL] |= LSI_SBCL_BSY;
		lsi_set_phase(s, LSI_PHASE_MO);
		s->waiting = LSI_NOWAIT;
		break;
	case 1: /* WAIT DISCONNECT */
		s->regs[LSI_SCNTL1] &= (uint8_t)~LSI_SCNTL1_CON;
		break;
	case 2: /* WAIT RESELECT */
		if (s->regs[LSI_ISTAT] & LSI_ISTAT_SIGP)
			lsi_set32(s, LSI_DSP, addr);
		else if (!irq_on_rsl(s) && !s->cmd.active)
			s->waiting = LSI_WAIT_RESELECT; /* nobody reselects */
		break;
	case 3: /* SET */
		if (insn & BIT(3)) {
			s->regs[LSI_SOCL] |= LSI_SOCL_ATN;
			s->regs[LSI_SBCL] |= LSI_SBCL_ATN;
			lsi_set_phase(s, LSI_PHASE_MO);
		}
		if (insn & BIT(6))
			s->regs[LSI_SBCL] |= LSI_SBCL_ACK;
		if (insn & BIT(10))
			s->carry = true;
		break;
	case 4: /* CLEAR */
		if (insn & BIT(3)) {
			s->regs[LSI_SOCL] &= (uint8_t)~LSI_SOCL_ATN;
			s->regs[LSI_SBCL] &= (uint8_t)~LSI_SBCL_ATN;
		}
		if (insn & BIT(6))
			s->regs[LSI_SBCL] &= (uint8_t)~LSI_SBCL_ACK;
		if (insn & BIT(10))
			s->carry = false;
		break;
	default:
		break;
	}
}

/* MOVE to/from SFBR and read-modify-write of a register. */
static void
op_rw(struct lsi_state *s, uint32_t insn)
{
	unsigned int opcode = (insn >> 27) & 7, op = (insn >> 24) & 7;
	unsigned int reg = ((insn >> 16) & 0x7f) | (insn & 0x80);
	unsigned int a = 0, b = (insn >> 8) & 0xff, c = s->carry ? 1u : 0u;

	switch (opcode) {
	case 5: /* from SFBR */
		a = s->regs[LSI_SFBR];
		break;
	case 6: /* to SFBR */
		if (op)
			a = lsi_reg_readb(s, reg);
		break;
	default: /* 7: read-modify-write */
		if (op)
			a = lsi_reg_readb(s, reg);
		if (insn & BIT(23))
			b = s->regs[LSI_SFBR];
		break;
	}
	switch (op) {
	case 0: /* MOVE */
		a = b;
		break;
	case 1: /* SHL through carry */
		s->carry = (a & 0x80) != 0;
		a = ((a << 1) | c) & 0xff;
		break;
	case 2:
		a |= b;
		break;
	case 3:
		a ^= b;
		break;
	case 4:
		a &= b;
		break;
	case 5: /* SHR through carry */
		s->carry = (a & 1) != 0;
		a = (a >> 1) | (c << 7);
		break;
	case 6: /* ADD */
		a += b;
		s->carry = a > 0xff;
		a &= 0xff;
		break;
	default: /* 7: ADD with carry */
		a += b + c;
		s->carry = a > 0xff;
		a &= 0xff;
		break;
	}
	if (opcode == 6)
		s->regs[LSI_SFBR] = (uint8_t)a;
	else
		lsi_reg_writeb(s, reg, (uint8_t)a);
}

static void
op_transfer(struct lsi_state *s, uint32_t insn, uint32_t addr)
{
	bool jmp, cond;

	if ((insn & 0x002e0000u) == 0)
		return; /* no condition and "jump if false": never taken */
	if (s->regs[LSI_SIST1] & LSI_SIST1_STO) {
		lsi_stop(s);
		return;
	}
	cond = jmp = (insn & BIT(19)) != 0;
	if (cond == jmp && (insn & BIT(21)))
		cond = s->carry;
	if (cond == jmp && (insn & BIT(17)))
		cond = phase(s) == ((insn >> 24) & LSI_PHASE_MASK);
	if (cond == jmp && (insn & BIT(18))) {
		uint32_t mask = (~insn >> 8) & 0xff;

		cond = (s->regs[LSI_SFBR] & mask) == (insn & mask);
	}
	if (cond != jmp)
		return;
	if (insn & BIT(23))
		addr = lsi_get32(s, LSI_DSP) + sext24(addr);
	switch ((insn >> 27) & 7) {
	case 0: /* JUMP */
		lsi_set32(s, LSI_ADDER, addr);
		lsi_set32(s, LSI_DSP, addr);
		break;
	case 1: /* CALL */
		lsi_set32(s, LSI_TEMP, lsi_get32(s, LSI_DSP));
		lsi_set32(s, LSI_DSP, addr);
		break;
	case 2: /* RETURN */
		lsi_set32(s, LSI_DSP, lsi_get32(s, LSI_TEMP));
		break;
	case 3: /* INT / INTFLY */
		if (insn & BIT(20)) {
			s->regs[LSI_ISTAT] |= LSI_ISTAT_INTF;
			lsi_update_irq(s);
		} else {
			lsi_dma_interrupt(s, LSI_DSTAT_SIR);
		}
		break;
	default:
		lsi_dma_interrupt(s, LSI_DSTAT_IID);
		break;
	}
}

static void
memmove_step(struct lsi_state *s, struct slice *sl)
{
	while (s->mm_left > 0) {
		uint32_t want = s->mm_left, gs = 0, gd = 0;
		uint8_t *ps, *pd;

		if (sl->bytes == 0)
			return;
		if (want > SCRIPTS_CHUNK)
			want = SCRIPTS_CHUNK;
		if (want > sl->bytes)
			want = sl->bytes;
		ps = lsi_dma_span(s, s->mm_src, want, &gs);
		pd = ps ? lsi_dma_span(s, s->mm_dst, gs, &gd) : NULL;
		if (!pd || gd == 0 || gd > gs) {
			bus_fault(s);
			return;
		}
		memmove(pd, ps, gd);
		s->mm_src += gd;
		s->mm_dst += gd;
		s->mm_left -= gd;
		sl->bytes -= gd;
	}
	s->cont = LSI_CONT_NONE;
}

static void
op_memory(struct lsi_state *s, uint32_t insn, uint32_t addr,
    struct slice *sl)
{
	uint32_t dsp = lsi_get32(s, LSI_DSP);

	if (!(insn & BIT(29))) {
		/* MEMORY MOVE: source in DSPS, destination in a third word. */
		uint32_t dst;

		if (fetch32(s, dsp, &dst) < 0) {
			bus_fault(s);
			return;
		}
		lsi_set32(s, LSI_DSP, dsp + 4);
		if ((insn & 0xffffffu) == 0)
			return;
		if (s->regs[LSI_DMODE] & (LSI_DMODE_SIOM | LSI_DMODE_DIOM)) {
			/* No I/O-space DMA: it could reach our own I/O BAR. */
			bus_fault(s);
			return;
		}
		s->mm_src = addr;
		s->mm_dst = dst;
		s->mm_left = insn & 0xffffffu;
		s->cont = LSI_CONT_MEMMOVE;
		memmove_step(s, sl);
		return;
	}
	/* LOAD / STORE of 1-7 register bytes (the chip documents 1-4). */
	{
		unsigned int n = insn & 7, reg = (insn >> 16) & 0xff;
		uint8_t data[7];

		if (insn & BIT(28))
			addr = lsi_get32(s, LSI_DSA) + sext24(addr);
		if (n == 0)
			return;
		if (insn & BIT(24)) {
			if (lsi_dma_read(s, addr, data, n) < 0) {
				bus_fault(s);
				return;
			}
			for (unsigned int i = 0; i < n; i++)
				lsi_reg_writeb(s, reg + i, data[i]);
		} else {
			for (unsigned int i = 0; i < n; i++)
				data[i] = lsi_reg_readb(s, reg + i);
			if (lsi_dma_write(s, addr, data, n) < 0)
				bus_fault(s);
		}
	}
}

static void
exec_one(struct lsi_state *s, struct slice *sl)
{
	uint32_t dsp = lsi_get32(s, LSI_DSP), insn, addr;

	if (fetch32(s, dsp, &insn) < 0) {
		bus_fault(s); /* DSP stays on the instruction it could not read */
		return;
	}
	if (insn == 0) {
		/* QEMU steps an empty opcode by 4; the budget bounds a run. */
		lsi_set32(s, LSI_DSP, dsp + 4);
		return;
	}
	if (fetch32(s, dsp + 4, &addr) < 0) {
		bus_fault(s);
		return;
	}
	lsi_set32(s, LSI_DSPS, addr);
	s->regs[LSI_DCMD] = (uint8_t)(insn >> 24);
	lsi_set32(s, LSI_DSP, dsp + 8);
	switch (insn >> 30) {
	case 0:
		op_block_move(s, insn, addr, sl);
		break;
	case 1:
		if (((insn >> 27) & 7) < 5)
			op_io(s, insn, addr);
		else
			op_rw(s, insn);
		break;
	case 2:
		op_transfer(s, insn, addr);
		break;
	default:
		op_memory(s, insn, addr, sl);
		break;
	}
}

void
scripts_run(struct lsi_state *s, unsigned int max_insns, uint32_t max_bytes)
{
	struct slice sl = { max_bytes };
	unsigned int gen = s->reset_gen;

	for (unsigned int i = 0; i < max_insns; i++) {
		if (!lsi_pending(s))
			return;
		if (s->cont == LSI_CONT_DATA)
			data_step(s, &sl);
		else if (s->cont == LSI_CONT_MEMMOVE)
			memmove_step(s, &sl);
		else
			exec_one(s, &sl);
		if (s->reset_gen != gen)
			return; /* ISTAT SRST from a LOAD or register move */
		if (s->cont != LSI_CONT_NONE)
			return; /* a move yielded: out of bytes this slice */
		if (lsi_pending(s) && (s->regs[LSI_DCNTL] & LSI_DCNTL_SSM))
			lsi_dma_interrupt(s, LSI_DSTAT_SSI);
	}
}
