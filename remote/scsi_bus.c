/*
 * remote/scsi_bus.c: the adapter between the LSI's SCSI phases and the
 * disks. Inside the sandbox; the guest picks targets and LUNs, so both are
 * range-checked before any disk is touched, and a data phase cut short by
 * the disk ends the LSI's data phase with an error, never a host access.
 */
#include "remote/scsi_bus.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "remote/scsi.h"

static struct scsi_disk *
disk_at(struct scsi_bus *bus, unsigned int target)
{
	return target < bus->ndisks ? &bus->disks[target] : NULL;
}

static bool
bus_present(void *opaque, unsigned int target)
{
	return disk_at(opaque, target) != NULL;
}

static void
drop_active(struct scsi_bus *bus)
{
	if (bus->req_active) {
		scsi_req_cancel(&bus->req);
		bus->req_active = false;
	}
}

static int
bus_start(void *opaque, unsigned int target, unsigned int lun, int tag,
    const uint8_t *cdb, size_t cdb_len, struct lsi_scsi_xfer *x)
{
	struct scsi_bus *bus = opaque;
	struct scsi_disk *d = disk_at(bus, target);
	int err;

	(void)tag; /* one command at a time: the tag only names it */
	if (!d)
		return -ENODEV;
	drop_active(bus);
	err = scsi_req_start(&bus->req, d, lun, cdb, cdb_len);
	if (err < 0)
		return err;
	bus->req_active = true;
	bus->req_target = target;
	switch (bus->req.dir) {
	case SCSI_DIR_IN:
		x->dir = LSI_SCSI_DIR_IN;
		break;
	case SCSI_DIR_OUT:
		x->dir = LSI_SCSI_DIR_OUT;
		break;
	case SCSI_DIR_NONE:
	default:
		x->dir = LSI_SCSI_DIR_NONE;
		break;
	}
	x->len = x->dir == LSI_SCSI_DIR_NONE ? 0 : bus->req.xfer_len;
	return 0;
}

static bool
is_active(const struct scsi_bus *bus, unsigned int target)
{
	return bus->req_active && bus->req_target == target;
}

/*
 * Move exactly len bytes, in as many disk calls as it takes; fewer bytes
 * than asked means the disk ended its data phase (an I/O error). in: from
 * the disk into buf, else from buf to the disk.
 */
static int
bus_move(struct scsi_bus *bus, unsigned int target, uint8_t *buf, size_t len,
    bool in)
{
	size_t done = 0;

	if (!is_active(bus, target))
		return -EINVAL;
	while (done < len) {
		ssize_t n = in ?
		    scsi_req_data_in(&bus->req, buf + done, len - done) :
		    scsi_req_data_out(&bus->req, buf + done, len - done);

		if (n <= 0)
			return n < 0 ? (int)n : -EIO;
		done += (size_t)n;
	}
	return 0;
}

static int
bus_data_in(void *opaque, unsigned int target, unsigned int lun,
    uint8_t *buf, size_t len)
{
	(void)lun;
	return bus_move(opaque, target, buf, len, true);
}

static int
bus_data_out(void *opaque, unsigned int target, unsigned int lun,
    const uint8_t *buf, size_t len)
{
	(void)lun;
	/* only read: bus_move hands it to scsi_req_data_out, const there */
	return bus_move(opaque, target, (uint8_t *)(uintptr_t)buf, len, false);
}

static uint8_t
bus_complete(void *opaque, unsigned int target, unsigned int lun)
{
	struct scsi_bus *bus = opaque;
	int status;

	(void)lun;
	if (!is_active(bus, target))
		return SCSI_STATUS_CHECK_CONDITION;
	status = scsi_req_complete(&bus->req);
	if (status < 0) {
		/* a data-out phase cut short: the write did not happen whole */
		scsi_req_cancel(&bus->req);
		status = SCSI_STATUS_CHECK_CONDITION;
	}
	bus->req_active = false;
	return (uint8_t)status;
}

static void
bus_cancel(void *opaque, unsigned int target, unsigned int lun)
{
	struct scsi_bus *bus = opaque;

	(void)lun;
	if (is_active(bus, target))
		drop_active(bus);
}

static void
bus_reset(void *opaque)
{
	struct scsi_bus *bus = opaque;

	drop_active(bus);
	for (unsigned int i = 0; i < bus->ndisks; i++)
		scsi_disk_reset(&bus->disks[i]);
}

const struct lsi_scsi_ops scsi_bus_ops = {
	.present = bus_present,
	.start = bus_start,
	.data_in = bus_data_in,
	.data_out = bus_data_out,
	.complete = bus_complete,
	.cancel = bus_cancel,
	.bus_reset = bus_reset,
};

void
scsi_bus_init(struct scsi_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int
scsi_bus_add_disk(struct scsi_bus *bus, int fd, bool read_only,
    const char *id)
{
	struct scsi_disk_opts opts = { .read_only = read_only, .tcq = true };
	char name[16];
	int err;

	if (bus->ndisks >= SCSI_BUS_MAX_DISKS)
		return -ENOSPC;
	/* SPC wants a designator per logical unit: never an empty page */
	snprintf(name, sizeof(name), "disk%u", bus->ndisks);
	opts.device_id = id ? id : name;
	err = scsi_disk_init(&bus->disks[bus->ndisks], fd, &opts);
	if (err < 0)
		return err;
	return (int)bus->ndisks++;
}
