/*
 * mpjail-proxy-lsi.h: a small LSI53C895A driver on top of libmpjail-proxy.
 * It plays the guest: owns a guest-RAM memfd (announced with SYNC_SYSMEM),
 * programs the BARs, writes a SCRIPTS program into guest RAM, starts it
 * through DSP, waits for the interrupt on the irqfd (acting as KVM: it
 * signals the resample eventfd after servicing), and reads the status
 * registers. It works unchanged against mpjail-lsi and QEMU 7.2's remote;
 * tests, benchmarks and the differential check use it.
 *
 *	struct proxy_lsi *hba;
 *	struct proxy_lsi_cmd c = { .target = 0, .cdb = { 0x12, 0, 0, 0, 36 },
 *	    .cdb_len = 6, .data = buf, .data_len = 36, .dir = PROXY_LSI_IN };
 *
 *	proxy_lsi_open(&hba, dev, NULL);     // dev from proxy_attach()
 *	proxy_lsi_exec(hba, &c);             // c.status, c.sense, c.resid ...
 *	proxy_lsi_close(hba);
 *
 * Return values follow mpjail-proxy.h (0 or a negative errno); a command
 * that the target answered with any SCSI status returns 0: look at
 * c.status. -ENODEV: selection timed out (no such target). -ETIMEDOUT: no
 * interrupt within the deadline. -EIO: an interrupt the driver did not
 * expect (see c.trace).
 */
#ifndef MPJAIL_PROXY_LSI_H
#define MPJAIL_PROXY_LSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpjail-proxy.h"

#ifdef __cplusplus
extern "C" {
#endif

struct proxy_lsi;

struct proxy_lsi_config {
	size_t ram_size;       /* guest RAM (memfd), default 64 MiB */
	uint32_t io_base;      /* BAR0, default 0xc000 (as SeaBIOS assigns) */
	uint32_t mmio_base;    /* BAR1, default 0xfebfe000 */
	uint32_t ram_base;     /* BAR2, default 0xfebfc000 */
	bool use_io_bar;       /* registers through BAR0 (as SeaBIOS) */
	bool script_in_chip_ram; /* SCRIPTS in BAR2's on-chip RAM (as Linux) */
	unsigned int timeout_ms; /* per interrupt, default 5000 */
	uint32_t sg_segment;   /* bytes per scatter/gather entry, default 64 KiB */
};

enum proxy_lsi_dir {
	PROXY_LSI_NONE = 0,
	PROXY_LSI_IN,          /* device to memory */
	PROXY_LSI_OUT,         /* memory to device */
};

#define PROXY_LSI_TRACE_MAX 64

/* One register value the driver read while servicing interrupts. */
struct proxy_lsi_reg_read {
	uint8_t reg;           /* offset: 0x14 ISTAT, 0x0c DSTAT, 0x42 SIST0 ... */
	uint8_t width;
	uint32_t val;
};

struct proxy_lsi_cmd {
	/* in */
	uint8_t target;        /* SCSI ID 0..15 */
	uint8_t lun;           /* 0..7 */
	int tag;               /* >= 0: SIMPLE QUEUE TAG message with it */
	uint8_t cdb[16];
	uint8_t cdb_len;
	void *data;            /* data_len bytes: filled (IN) or sent (OUT) */
	size_t data_len;
	enum proxy_lsi_dir dir;
	/* out */
	uint8_t status;        /* SCSI status byte; 0xff if none arrived */
	uint8_t msgin;         /* the last message byte (0: COMMAND COMPLETE) */
	size_t resid;          /* bytes of data_len not transferred */
	bool overrun;          /* the target had more data than data_len */
	unsigned int disconnects; /* times the target disconnected */
	unsigned int ntrace;
	struct proxy_lsi_reg_read trace[PROXY_LSI_TRACE_MAX];
};

/* Set up RAM, interrupts, BARs and reset the chip. cfg may be NULL. */
int proxy_lsi_open(struct proxy_lsi **out, struct proxy_dev *dev,
    const struct proxy_lsi_config *cfg);
void proxy_lsi_close(struct proxy_lsi *hba);

/* Run one command to completion. */
int proxy_lsi_exec(struct proxy_lsi *hba, struct proxy_lsi_cmd *cmd);

/* Software reset of the chip (ISTAT SRST), interrupt enables restored. */
int proxy_lsi_chip_reset(struct proxy_lsi *hba);

/* Register access through the configured BAR. */
int proxy_lsi_reg_read(struct proxy_lsi *hba, uint8_t reg, unsigned int width,
    uint32_t *val);
int proxy_lsi_reg_write(struct proxy_lsi *hba, uint8_t reg,
    unsigned int width, uint32_t val);

/* Guest RAM as the driver sees it (for custom SCRIPTS in hostile tests). */
uint8_t *proxy_lsi_ram(struct proxy_lsi *hba, size_t *size);

/*
 * Guest RAM the driver never touches, free for a caller's own SCRIPTS and
 * buffers: [1 MiB, 16 MiB). Data buffers live from 16 MiB to the end.
 */
#define PROXY_LSI_FREE_RAM_OFFSET (1u << 20)
#define PROXY_LSI_FREE_RAM_SIZE (15u << 20)

/*
 * Start SCRIPTS at dsp (a guest address) and service interrupts until one
 * arrives or timeout; the register values read are appended to trace.
 */
int proxy_lsi_run(struct proxy_lsi *hba, uint32_t dsp,
    struct proxy_lsi_cmd *trace_into);

#ifdef __cplusplus
}
#endif

#endif
