/*
 * remote/scsi_disk.h: a SCSI direct-access device (one LUN, LUN 0) that
 * answers as QEMU 7.2's scsi-hd does, on top of remote/block.h. Knows nothing
 * of the host adapter. Runs inside the sandbox; every CDB, LUN and length
 * comes from the guest and is hostile.
 *
 * Life of a command, as the host adapter drives it:
 *
 *	scsi_req_start(&req, &disk, lun, cdb, cdb_len);
 *	switch (req.dir) {          // the target's data phase, if any
 *	case SCSI_DIR_IN:  while ((n = scsi_req_data_in(&req, dst, len)) > 0) ...
 *	case SCSI_DIR_OUT: while ((n = scsi_req_data_out(&req, src, len)) > 0) ...
 *	case SCSI_DIR_NONE: break;
 *	}
 *	status = scsi_req_complete(&req);   // status byte; sense kept by req
 *
 * Data moves in pieces of any size the adapter likes (SCRIPTS block moves).
 * READ and WRITE go straight between the adapter's buffer (guest RAM) and
 * the image at the current offset; nothing is buffered in proportion to a
 * guest length. Other commands use the request's fixed buffer.
 *
 * No allocation anywhere: the caller provides both objects. Requests are
 * independent of each other; the device-wide state they share (pending
 * unit attention, sense of the last command, write cache enable) changes
 * in start/complete order, as in QEMU.
 */
#ifndef MPJAIL_REMOTE_SCSI_DISK_H
#define MPJAIL_REMOTE_SCSI_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "remote/block.h"
#include "remote/scsi.h"

/* Largest parameter list or response the request buffer holds. */
#define SCSI_REQ_BUF_SIZE 4096u
/* Most bytes one scsi_req_data_in/out call moves to or from the image. */
#define SCSI_IO_CHUNK (1024u * 1024u)

#define SCSI_VENDOR_LEN    8u
#define SCSI_PRODUCT_LEN   16u
#define SCSI_REVISION_LEN  4u
#define SCSI_SERIAL_MAX    36u
#define SCSI_DEVICE_ID_MAX 200u

struct scsi_disk_opts {
	uint32_t block_size;     /* 512 or 4096; 0 means 512 */
	bool read_only;          /* write-protect even if the fd is writable */
	bool tcq;                /* the HBA queues tagged commands: INQUIRY
				    byte 7 bit 1. QEMU's LSI53C895A says yes */
	const char *vendor;      /* NULL: "QEMU" */
	const char *product;     /* NULL: "QEMU HARDDISK" */
	const char *revision;    /* NULL: "2.5+" (QEMU 7.2's qemu_hw_version) */
	const char *serial;      /* NULL: no VPD page 0x80 (QEMU's default) */
	const char *device_id;   /* NULL: no ASCII designator in VPD 0x83;
				    QEMU uses the -drive id here */
	uint64_t wwn;            /* 0: none; else an NAA designator in 0x83 */
	uint64_t port_wwn;       /* 0: none */
	uint16_t port_index;     /* 0: none */
	const struct blk_ops *io; /* NULL: real system calls (test seam) */
	void *io_ctx;
};

/* The sense triple of SPC: key, additional sense code, qualifier. */
struct scsi_sense {
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
};

struct scsi_disk {
	struct blk_dev blk;
	char vendor[SCSI_VENDOR_LEN + 1];
	char product[SCSI_PRODUCT_LEN + 1];
	char revision[SCSI_REVISION_LEN + 1];
	char serial[SCSI_SERIAL_MAX + 1];
	char device_id[SCSI_DEVICE_ID_MAX + 1];
	bool has_serial;
	bool tcq;
	uint64_t wwn;
	uint64_t port_wwn;
	uint16_t port_index;
	uint32_t cylinders;      /* geometry QEMU guesses at realize time */
	uint32_t heads;
	uint32_t sectors;
	uint64_t max_lba;
	bool wce;                /* write cache enabled (MODE SELECT page 8) */
	bool locked;             /* PREVENT ALLOW MEDIUM REMOVAL */
	struct scsi_sense ua;    /* pending unit attention; key 0 if none */
	uint8_t sense[SCSI_SENSE_LEN]; /* sense of the last command */
	uint8_t sense_len;
	bool sense_is_ua;
};

enum scsi_dir {
	SCSI_DIR_NONE = 0,
	SCSI_DIR_IN,             /* data-in: target to initiator */
	SCSI_DIR_OUT,            /* data-out: initiator to target */
};

struct scsi_cmd;

/*
 * One command. Read dir, xfer_len and (after completion) status; every other
 * field is private to scsi_disk.c.
 */
struct scsi_req {
	enum scsi_dir dir;       /* data phase the target wants */
	uint32_t xfer_len;       /* bytes it will move in that phase */
	int status;              /* status byte once known, else -1 */

	struct scsi_disk *disk;
	const struct scsi_cmd *cmd;
	uint32_t lun;
	uint8_t cdb[16];
	uint8_t cdb_len;
	bool active;
	bool data_done;          /* no more data will move */
	bool fua;                /* flush after the write / before the read */
	bool sense_is_ua;
	uint8_t sense_len;
	uint8_t sense[SCSI_SENSE_LEN];
	uint32_t pos;            /* bytes moved so far */
	uint32_t buf_len;        /* valid bytes in buf (data-in) */
	uint64_t offset;         /* image byte offset of pos == 0 (READ/WRITE) */
	uint64_t lba;
	uint32_t nblocks;
	uint8_t buf[SCSI_REQ_BUF_SIZE];
};

/*
 * Set up the disk on fd (borrowed: the caller keeps it open for the disk's
 * life and closes it after). Reads sector 0 to guess the geometry as QEMU
 * does. A unit attention (POWER ON, RESET, OR BUS DEVICE RESET OCCURRED)
 * is pending afterwards, as after QEMU's system reset. Returns 0 or -errno.
 */
int scsi_disk_init(struct scsi_disk *d, int fd,
    const struct scsi_disk_opts *opts);

/*
 * SCSI bus reset or BUS DEVICE RESET: unlocks the medium and makes the
 * reset unit attention pending. Requests in flight must be dropped by the
 * caller with scsi_req_cancel first.
 */
void scsi_disk_reset(struct scsi_disk *d);

/*
 * Decode and start one command for lun. cdb_len is how many CDB bytes the
 * adapter received (more than the opcode's group needs is fine). Afterwards
 * r->dir and r->xfer_len say what data phase follows; a command that failed
 * or needs no data has SCSI_DIR_NONE and its status is already known.
 * Returns 0, or -EINVAL for NULL arguments (never for a bad CDB: that is a
 * CHECK CONDITION).
 */
int scsi_req_start(struct scsi_req *r, struct scsi_disk *d, uint32_t lun,
    const uint8_t *cdb, size_t cdb_len);

/*
 * Data-in: copy up to len bytes of the command's data to dst. Returns the
 * number of bytes copied (at most SCSI_IO_CHUNK per call for READ), 0 when
 * the data phase is over (possibly early, on an I/O error), -EINVAL if the
 * request is not in a data-in phase.
 */
ssize_t scsi_req_data_in(struct scsi_req *r, void *dst, size_t len);

/*
 * Data-out: take up to len bytes from src. Returns the number consumed, 0
 * when the target wants no more (possibly early, on an error), -EINVAL if
 * not in a data-out phase.
 */
ssize_t scsi_req_data_out(struct scsi_req *r, const void *src, size_t len);

/* True once no more data will move in either direction. */
bool scsi_req_data_done(const struct scsi_req *r);

/*
 * Finish the command: returns its status byte (SCSI_STATUS_*), and records
 * its sense as the device's "last sense" for REQUEST SENSE. A data-in phase
 * may be cut short by the adapter (the rest is residual); a data-out phase
 * must be complete, else -EBUSY (cancel the request instead). -EINVAL if
 * the request is not active.
 */
int scsi_req_complete(struct scsi_req *r);

/* Drop an active request (ABORT, reset) without touching device state. */
void scsi_req_cancel(struct scsi_req *r);

/* Bytes of the data phase not moved. */
uint32_t scsi_req_residual(const struct scsi_req *r);

/*
 * Autosense: copy the request's fixed-format sense (up to len bytes) into
 * buf; returns the bytes copied, 0 if the command had no sense data.
 */
size_t scsi_req_get_sense(const struct scsi_req *r, uint8_t *buf, size_t len);

/* errno (positive) to status and sense, as QEMU's scsi_sense_from_errno. */
int scsi_status_from_errno(int err, struct scsi_sense *sense);

#endif
