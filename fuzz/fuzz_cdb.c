/*
 * fuzz/fuzz_cdb.c: libFuzzer target for the SCSI disk's CDB decoder and
 * data phases, on a 1 MiB in-memory image (a memfd) with 512-byte blocks.
 * The input is a sequence of commands, so device-wide state (unit
 * attention, last sense, MODE SELECT's cache setting) carries from one to
 * the next as it does on the bus. Each record:
 *
 *	[0]   bits 0-2 LUN, bit 3 read-only disk (first record only),
 *	      bit 4 cut the data phase short, bits 5-7 chunk size selector
 *	[1]   CDB length as the adapter received it (taken mod 17)
 *	[..]  the CDB bytes
 *	then  data-out bytes: whatever follows, up to the next record's
 *	      marker "\xffCDB" (zero-filled after that, within a bound)
 *
 * Test code.
 */
#include <errno.h>

#include "fuzz/fuzz_common.h"
#include "remote/scsi_disk.h"

#define IMAGE_SIZE (1u << 20)
#define MAX_CMDS 16u
/* Bytes one command may move (the image plus some), and calls it may take. */
#define MOVE_MAX (IMAGE_SIZE + (64u << 10))
#define CALLS_MAX 256u

static struct scsi_disk disk;
static struct scsi_req req;
static int image_fd = -1;
static uint8_t io_buf[64u << 10];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *
next_marker(const uint8_t *p, const uint8_t *end)
{
	static const uint8_t mark[4] = { 0xff, 'C', 'D', 'B' };

	for (; p + sizeof(mark) <= end; p++)
		if (!memcmp(p, mark, sizeof(mark)))
			return p;
	return end;
}

static void
run_one(uint8_t flags, const uint8_t *cdb, size_t cdb_len,
    const uint8_t *out, size_t out_len)
{
	static const size_t chunks[8] = { 1, 7, 512, 513, 4096, 65536, 3, 511 };
	size_t chunk = chunks[flags >> 5], moved = 0, calls = 0;
	bool cut = flags & 0x10;
	int st;

	if (scsi_req_start(&req, &disk, flags & 7u, cdb, cdb_len) < 0)
		abort(); /* only NULL arguments may fail */
	if (req.dir == SCSI_DIR_IN) {
		while (moved < MOVE_MAX && calls++ < CALLS_MAX) {
			ssize_t n = scsi_req_data_in(&req, io_buf, chunk);

			if (n <= 0)
				break;
			if ((size_t)n > chunk)
				abort(); /* wrote past what we offered */
			moved += (size_t)n;
			if (cut && moved >= chunk)
				break;
		}
	} else if (req.dir == SCSI_DIR_OUT) {
		while (moved < MOVE_MAX && calls++ < CALLS_MAX) {
			size_t n = chunk;
			ssize_t got;

			if (moved < out_len) {
				if (n > out_len - moved)
					n = out_len - moved;
				memcpy(io_buf, out + moved, n);
			} else {
				memset(io_buf, 0, n);
			}
			got = scsi_req_data_out(&req, io_buf, n);
			if (got <= 0)
				break;
			if ((size_t)got > n)
				abort();
			moved += (size_t)got;
			if (cut && moved >= chunk)
				break;
		}
	}
	if (moved > req.xfer_len && req.dir != SCSI_DIR_NONE)
		abort(); /* moved more than the target announced */
	st = scsi_req_complete(&req);
	if (st == -EBUSY)
		scsi_req_cancel(&req);
	else if (st < 0)
		abort();
	(void)scsi_req_residual(&req);
	{
		uint8_t sense[SCSI_SENSE_LEN + 8];

		(void)scsi_req_get_sense(&req, sense, sizeof(sense));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	struct scsi_disk_opts opts = { .tcq = true };

	if (image_fd < 0)
		image_fd = fuzz_memfd("fuzz-image", IMAGE_SIZE, 0);
	fuzz_zero_image(image_fd, IMAGE_SIZE);
	opts.read_only = size > 0 && (data[0] & 8);
	if (scsi_disk_init(&disk, image_fd, &opts) < 0)
		fuzz_die("scsi_disk_init");
	for (unsigned int i = 0; i < MAX_CMDS && end - p >= 2; i++) {
		uint8_t flags = p[0];
		size_t cdb_len = p[1] % 17u;
		const uint8_t *out, *next;

		p += 2;
		if ((size_t)(end - p) < cdb_len)
			cdb_len = (size_t)(end - p);
		out = p + cdb_len;
		next = next_marker(out, end);
		run_one(flags, p, cdb_len, out, (size_t)(next - out));
		p = next < end ? next + 4 : end;
	}
	return 0;
}
