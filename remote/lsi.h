/*
 * remote/lsi.h: the LSI53C895A as the PCI bus sees it: identity, BARs, the
 * register file behind BAR0 (I/O) and BAR1 (MMIO), the 8 KiB of on-chip
 * SCRIPTS RAM behind BAR2, its interrupts, and the SCSI target interface the
 * SCRIPTS processor (remote/scripts.h) drives. Runs inside the sandbox;
 * every offset, width, value and guest address comes from untrusted peers.
 */
#ifndef MPJAIL_REMOTE_LSI_H
#define MPJAIL_REMOTE_LSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "remote/dma.h"
#include "remote/irq.h"
#include "remote/pci.h"

#define LSI_BAR_IO   0u
#define LSI_BAR_MMIO 1u
#define LSI_BAR_RAM  2u
#define LSI_IO_SIZE   256u
#define LSI_MMIO_SIZE 1024u
#define LSI_RAM_SIZE  8192u
#define LSI_NREGS     256u /* the MMIO BAR repeats them every 256 bytes */
#define LSI_MAX_MSGIN 8u   /* bytes the target may queue for MESSAGE IN */
#define LSI_MAX_TARGETS 16u

/*
 * The SCSI target side, as the LSI sees the bus. Implemented by the glue to
 * the SCSI disk (and by a fake in the unit tests). At most one command is
 * active on the whole bus at a time: the LSI never lets a target disconnect,
 * so every command runs from COMMAND to STATUS while connected. All calls
 * come from the single remote thread; none may call back into the LSI.
 * `target` is the SCSI ID (0-15), `lun` 0-7 from the IDENTIFY message.
 */
enum lsi_scsi_dir {
	LSI_SCSI_DIR_NONE = 0,
	LSI_SCSI_DIR_IN,  /* target to initiator (DATA IN) */
	LSI_SCSI_DIR_OUT, /* initiator to target (DATA OUT) */
};

struct lsi_scsi_xfer {
	enum lsi_scsi_dir dir;
	uint32_t len; /* bytes of the data phase; 0 when dir is NONE */
};

struct lsi_scsi_ops {
	/* A device answers selection at this ID (consulted at SELECT). */
	bool (*present)(void *opaque, unsigned int target);
	/*
	 * Begin a command. cdb holds cdb_len bytes (0..16, what the COMMAND
	 * phase carried; the CDB length is the target's to check), tag is the
	 * queue tag from a SIMPLE/HEAD/ORDERED message or -1. Returns 0 with
	 * *x filled in (a command the target refuses still returns 0, with dir
	 * NONE, and reports CHECK CONDITION at complete), or -ENODEV: no such
	 * target (the LSI reports a selection time-out, as QEMU does).
	 */
	int (*start)(void *opaque, unsigned int target, unsigned int lun,
	    int tag, const uint8_t *cdb, size_t cdb_len,
	    struct lsi_scsi_xfer *x);
	/*
	 * Move the next len bytes (1 <= len, never past x->len in total) of
	 * the data phase into / out of buf. buf points straight into guest RAM
	 * or SCRIPTS RAM; len is bounded by the LSI's chunk size (64 KiB).
	 * A negative errno ends the data phase early: the LSI then asks for
	 * the status (which should say CHECK CONDITION).
	 */
	int (*data_in)(void *opaque, unsigned int target, unsigned int lun,
	    uint8_t *buf, size_t len);
	int (*data_out)(void *opaque, unsigned int target, unsigned int lun,
	    const uint8_t *buf, size_t len);
	/* The data phase is over (all moved, or cut short): the status byte. */
	uint8_t (*complete)(void *opaque, unsigned int target, unsigned int lun);
	/* Drop the active command without a status (ABORT, BUS DEVICE RESET,
	 * a new command over an old one, chip reset). */
	void (*cancel)(void *opaque, unsigned int target, unsigned int lun);
	/* SCSI bus reset (SCNTL1 RST): every target resets (unit attention). */
	void (*bus_reset)(void *opaque);
};

/* The one active command; see lsi_scsi_ops. */
struct lsi_cmd {
	bool active;
	bool data_done;      /* data phase over, status collected */
	uint8_t target, lun;
	uint8_t status;
	enum lsi_scsi_dir dir;
	uint32_t left;       /* data-phase bytes not yet moved */
};

/* A SCRIPTS instruction that spans slices (big moves yield mid-way). */
enum lsi_cont {
	LSI_CONT_NONE = 0,
	LSI_CONT_DATA,       /* DATA IN/OUT block move: DNAD/DBC hold progress */
	LSI_CONT_MEMMOVE,    /* memory move: mm_* hold progress */
};

/* What the bus does once the queued MESSAGE IN bytes are read. */
#define LSI_MSG_ACTION_COMMAND    0
#define LSI_MSG_ACTION_DISCONNECT 1
#define LSI_MSG_ACTION_DOUT       2
#define LSI_MSG_ACTION_DIN        3

enum lsi_wait {
	LSI_NOWAIT = 0,
	LSI_WAIT_RESELECT,   /* WAIT RESELECT issued; SIGP wakes it */
};

struct lsi_state {
	uint8_t regs[LSI_NREGS];        /* register storage, little-endian */
	uint8_t script_ram[LSI_RAM_SIZE];

	/* State the chip keeps but does not show as a register. */
	bool carry;
	enum lsi_wait waiting;
	enum lsi_cont cont;
	uint32_t cont_addr_hi;          /* upper DMA address bits of cont */
	uint32_t bm_addr;               /* the data block move's first address */
	uint32_t mm_src, mm_dst, mm_left;
	uint8_t msg[LSI_MAX_MSGIN];     /* queued MESSAGE IN bytes */
	uint8_t msg_len;
	uint8_t msg_action;             /* LSI_MSG_ACTION_*: after MESSAGE IN */
	uint8_t sel_target;             /* last SELECT's ID */
	int sel_tag;                    /* queue tag from MESSAGE OUT, or -1 */
	uint8_t cur_lun;
	uint8_t status;                 /* for the STATUS phase */
	bool status_ready;              /* a command completed, status unread */
	bool kick;                      /* a register write started SCRIPTS */
	struct lsi_cmd cmd;
	unsigned int reset_gen;         /* bumped by every chip reset */

	/* What the device is wired to; set by lsi_init, kept across resets. */
	struct pci_dev *pci;
	struct dma_map *dma;
	struct irq_line *irq;
	const struct lsi_scsi_ops *ops;
	void *ops_opaque;
};

/* The PCI identity QEMU 7.2's lsi53c895a presents. */
extern const struct pci_identity lsi_pci_identity;

/*
 * Wire the device to its config space (BAR2 base, INTx status and disable),
 * guest RAM and INTx line, then reset it. Any pointer may be NULL (a unit
 * test without them): no DMA reaches anything, no interrupt is delivered.
 */
void lsi_init(struct lsi_state *s, struct pci_dev *pci, struct dma_map *dma,
    struct irq_line *irq);

/* Attach the SCSI targets (ops NULL: an empty bus). */
void lsi_set_scsi(struct lsi_state *s, const struct lsi_scsi_ops *ops,
    void *opaque);

/*
 * Power-on, DEVICE_RESET and ISTAT SRST state, in one place. Config space
 * is not touched; an active command is cancelled; the wiring is kept.
 */
void lsi_reset(struct lsi_state *s);

/*
 * Access one of the device's BARs at a BAR-relative offset.
 * size: 1, 2, 4 or 8 bytes, little-endian; the whole access must lie in
 * the BAR (the caller found it with pci_bar_lookup). Register accesses are
 * split into byte accesses in ascending order, as QEMU does. A write that
 * starts SCRIPTS runs one bounded slice before returning. Returns 0 or
 * -EINVAL.
 */
int lsi_bar_read(struct lsi_state *s, unsigned int bar, uint32_t offset,
    uint32_t size, uint64_t *val);
int lsi_bar_write(struct lsi_state *s, unsigned int bar, uint32_t offset,
    uint32_t size, uint64_t val);

/* SCRIPTS are running and not waiting: lsi_run() has work to do. */
bool lsi_pending(const struct lsi_state *s);

/* Run one bounded slice of SCRIPTS (instructions and DMA bytes). */
void lsi_run(struct lsi_state *s);

/* Recompute ISTAT DIP/SIP and drive INTx (also after INTx Disable changes). */
void lsi_update_irq(struct lsi_state *s);

/*
 * For the SCRIPTS processor (remote/scripts.c); not for the server.
 * Register bytes as the chip's own SCRIPTS see them: the same side effects
 * as a host access (offsets past 0xff read 0xff and ignore writes).
 */
uint8_t lsi_reg_readb(struct lsi_state *s, unsigned int off);
void lsi_reg_writeb(struct lsi_state *s, unsigned int off, uint8_t val);
/* Raw register storage, no side effects. */
uint32_t lsi_get32(const struct lsi_state *s, unsigned int off);
void lsi_set32(struct lsi_state *s, unsigned int off, uint32_t val);
/* Stop SCRIPTS and raise a DMA interrupt (DSTAT bits). */
void lsi_dma_interrupt(struct lsi_state *s, uint8_t dstat);
/* Raise a SCSI interrupt; stops SCRIPTS when fatal or enabled, as QEMU. */
void lsi_scsi_interrupt(struct lsi_state *s, uint8_t sist0, uint8_t sist1);
void lsi_stop(struct lsi_state *s);
void lsi_set_phase(struct lsi_state *s, uint8_t phase);
void lsi_disconnect(struct lsi_state *s);
/* Cancel the active command, if any, through the target's ops. */
void lsi_cancel_cmd(struct lsi_state *s);

/*
 * DMA as the chip's bus master sees it. addr is a 64-bit bus address; it
 * reaches the on-chip SCRIPTS RAM when it falls in BAR2's decoded window,
 * else guest RAM through the region table; anything else (the register
 * BARs, holes, past the end) is a bus fault. lsi_dma_span returns a host
 * pointer to at most `want` contiguous bytes (*got >= 1) or NULL.
 */
uint8_t *lsi_dma_span(struct lsi_state *s, uint64_t addr, uint32_t want,
    uint32_t *got);
/* Copy len (<= 4096) bytes; -EFAULT (nothing reliable moved) on a fault. */
int lsi_dma_read(struct lsi_state *s, uint64_t addr, void *buf, uint32_t len);
int lsi_dma_write(struct lsi_state *s, uint64_t addr, const void *buf,
    uint32_t len);

#endif
