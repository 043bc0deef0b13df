/*
 * remote/scsi_bus.h: the SCSI bus behind the LSI53C895A: one scsi_disk per
 * target ID (LUN 0 each, as QEMU's scsi-hd), driven through the LSI's
 * lsi_scsi_ops. Inside the sandbox: targets, LUNs, CDBs and lengths come
 * from the guest.
 */
#ifndef MPJAIL_REMOTE_SCSI_BUS_H
#define MPJAIL_REMOTE_SCSI_BUS_H

#include <stdbool.h>

#include "remote/lsi.h"
#include "remote/scsi_disk.h"

/* IDs 0..6: the host adapter is ID 7, as SeaBIOS and Linux set SCID. */
#define SCSI_BUS_MAX_DISKS 7u

struct scsi_bus {
	unsigned int ndisks;            /* disks at IDs 0 .. ndisks-1 */
	struct scsi_disk disks[SCSI_BUS_MAX_DISKS];
	struct scsi_req req;            /* the one active command (LSI rule) */
	bool req_active;
	unsigned int req_target;
};

/* The callbacks the LSI calls, with the bus as their opaque pointer. */
extern const struct lsi_scsi_ops scsi_bus_ops;

void scsi_bus_init(struct scsi_bus *bus);

/*
 * Add a disk on an inherited fd at the next free ID (set-up time, before
 * lockdown). The fd stays the caller's. id names the disk in VPD page
 * 0x83's vendor-specific designator, as QEMU uses its -drive id; NULL
 * gives "disk<ID>". Returns the ID or -errno.
 */
int scsi_bus_add_disk(struct scsi_bus *bus, int fd, bool read_only,
    const char *id);

#endif
