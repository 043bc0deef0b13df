/*
 * tests/integration/test_lsi_driver.c: the LSI53C895A driver model of
 * libmpjail-proxy against QEMU 7.2's own remote (the reference): SCSI
 * commands through SCRIPTS in guest RAM and in on-chip RAM, through the
 * MMIO and the I/O BAR; data checked against the image file itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpjail-proxy-lsi.h"
#include "tests/lib/peers.h"

#define IMAGE_SIZE (32u << 20)

struct ctx {
	struct peer peer;
	struct proxy_dev *dev;
	struct proxy_lsi *hba;
	char image[64];
};

static int
setup_with(void **state, const struct proxy_lsi_config *cfg)
{
	struct ctx *c = calloc(1, sizeof(*c));
	int err;

	if (!c || peer_make_image(c->image, sizeof(c->image), IMAGE_SIZE) < 0 ||
	    peer_start_qemu_remote(&c->peer, c->image) < 0 ||
	    proxy_attach(&c->dev, c->peer.sock, 10000) < 0)
		return -1;
	err = proxy_lsi_open(&c->hba, c->dev, cfg);
	if (err < 0) {
		char why[2048];

		peer_stop(&c->peer, 5000, NULL);
		peer_stderr(&c->peer, why, sizeof(why));
		fprintf(stderr, "proxy_lsi_open: %s; remote said: %s\n",
		    strerror(-err), why);
		return -1;
	}
	*state = c;
	return 0;
}

static int
setup_mmio(void **state)
{
	return setup_with(state, NULL);
}

static int
setup_io_chipram(void **state)
{
	struct proxy_lsi_config cfg = { .use_io_bar = true,
	    .script_in_chip_ram = true, .sg_segment = 4096 };

	return setup_with(state, &cfg);
}

static int
teardown(void **state)
{
	struct ctx *c = *state;
	int status = 0;

	proxy_lsi_close(c->hba);
	proxy_detach(c->dev);
	peer_stop(&c->peer, 10000, &status);
	unlink(c->image);
	free(c);
	return 0;
}

static struct proxy_lsi_cmd
cmd6(uint8_t op, uint8_t len, void *data, size_t data_len,
    enum proxy_lsi_dir dir)
{
	struct proxy_lsi_cmd c = { .tag = -1, .cdb = { op, 0, 0, 0, len, 0 },
	    .cdb_len = 6, .data = data, .data_len = data_len, .dir = dir };

	return c;
}

static struct proxy_lsi_cmd
rw10(uint8_t op, uint32_t lba, uint16_t blocks, void *data,
    enum proxy_lsi_dir dir)
{
	struct proxy_lsi_cmd c = { .tag = -1, .cdb_len = 10, .data = data,
	    .data_len = (size_t)blocks * 512, .dir = dir };

	c.cdb[0] = op;
	c.cdb[2] = (uint8_t)(lba >> 24);
	c.cdb[3] = (uint8_t)(lba >> 16);
	c.cdb[4] = (uint8_t)(lba >> 8);
	c.cdb[5] = (uint8_t)lba;
	c.cdb[7] = (uint8_t)(blocks >> 8);
	c.cdb[8] = (uint8_t)blocks;
	return c;
}

/* After power-on the disk reports UNIT ATTENTION once; take it. */
static void
clear_unit_attention(struct ctx *c)
{
	uint8_t sense[18];
	struct proxy_lsi_cmd tur = cmd6(0x00, 0, NULL, 0, PROXY_LSI_NONE);
	struct proxy_lsi_cmd rs = cmd6(0x03, 18, sense, 18, PROXY_LSI_IN);

	assert_int_equal(proxy_lsi_exec(c->hba, &tur), 0);
	assert_int_equal(tur.status, 0x02); /* CHECK CONDITION */
	assert_int_equal(proxy_lsi_exec(c->hba, &rs), 0);
	assert_int_equal(rs.status, 0);
	assert_int_equal(sense[2] & 0x0f, 0x06); /* UNIT ATTENTION */
	assert_int_equal(sense[12], 0x29);       /* POWER ON OR RESET */
	assert_int_equal(proxy_lsi_exec(c->hba, &tur), 0);
	assert_int_equal(tur.status, 0);
}

static void
test_inquiry_and_capacity(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[96], cap[8];
	struct proxy_lsi_cmd inq = cmd6(0x12, 96, buf, sizeof(buf), PROXY_LSI_IN);
	struct proxy_lsi_cmd rc = { .tag = -1, .cdb = { 0x25 }, .cdb_len = 10,
	    .data = cap, .data_len = 8, .dir = PROXY_LSI_IN };

	assert_int_equal(proxy_lsi_exec(c->hba, &inq), 0);
	assert_int_equal(inq.status, 0);
	assert_int_equal(inq.msgin, 0); /* COMMAND COMPLETE */
	assert_int_equal(buf[0], 0x00); /* direct-access block device */
	assert_memory_equal(buf + 8, "QEMU    QEMU HARDDISK   ", 24);
	clear_unit_attention(c);
	assert_int_equal(proxy_lsi_exec(c->hba, &rc), 0);
	assert_int_equal(rc.status, 0);
	assert_int_equal(((uint32_t)cap[0] << 24 | (uint32_t)cap[1] << 16 |
	    (uint32_t)cap[2] << 8 | cap[3]), IMAGE_SIZE / 512 - 1);
	assert_int_equal(cap[6] << 8 | cap[7], 512);
	/* the interrupt the driver serviced: DIP, then DSTAT SIR, DSPS 1 */
	assert_true(rc.ntrace >= 3);
	assert_int_equal(rc.trace[0].reg, 0x14);
	assert_true(rc.trace[0].val & 0x01);
	assert_int_equal(rc.trace[1].reg, 0x0c);
	assert_true(rc.trace[1].val & 0x04);
}

/* Write through the device, check the image file, read it back. */
static void
test_write_read_against_image(void **state)
{
	struct ctx *c = *state;
	size_t n = 300 * 512;
	uint8_t *out = malloc(n), *in = calloc(1, n), *file = malloc(n);
	struct proxy_lsi_cmd w = rw10(0x2a, 1000, 300, out, PROXY_LSI_OUT);
	struct proxy_lsi_cmd r = rw10(0x28, 1000, 300, in, PROXY_LSI_IN);
	struct proxy_lsi_cmd sync = { .tag = -1, .cdb = { 0x35 }, .cdb_len = 10 };
	int fd;

	clear_unit_attention(c);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(i * 131 + (i >> 9));
	assert_int_equal(proxy_lsi_exec(c->hba, &w), 0);
	assert_int_equal(w.status, 0);
	assert_int_equal(w.resid, 0);
	assert_int_equal(proxy_lsi_exec(c->hba, &sync), 0);
	assert_int_equal(sync.status, 0);
	fd = open(c->image, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, file, n, 1000 * 512), (ssize_t)n);
	close(fd);
	assert_memory_equal(file, out, n);
	assert_int_equal(proxy_lsi_exec(c->hba, &r), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.resid, 0);
	assert_memory_equal(in, out, n);
	free(out);
	free(in);
	free(file);
}

/* Short transfers (phase mismatch) and overruns (the bucket). */
static void
test_short_and_overrun(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[256];
	struct proxy_lsi_cmd shrt = cmd6(0x12, 36, buf, 200, PROXY_LSI_IN);
	struct proxy_lsi_cmd over = cmd6(0x12, 96, buf, 10, PROXY_LSI_IN);

	assert_int_equal(proxy_lsi_exec(c->hba, &shrt), 0);
	assert_int_equal(shrt.status, 0);
	assert_int_equal(shrt.resid, 200 - 36);
	assert_false(shrt.overrun);
	assert_int_equal(proxy_lsi_exec(c->hba, &over), 0);
	assert_int_equal(over.status, 0);
	assert_true(over.overrun);
	assert_int_equal(over.resid, 0);
}

static void
test_errors(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[512], sense[18];
	struct proxy_lsi_cmd none = cmd6(0x00, 0, NULL, 0, PROXY_LSI_NONE);
	struct proxy_lsi_cmd oor = rw10(0x28, IMAGE_SIZE / 512, 1, buf,
	    PROXY_LSI_IN);
	struct proxy_lsi_cmd rs = cmd6(0x03, 18, sense, 18, PROXY_LSI_IN);

	none.target = 5;
	assert_int_equal(proxy_lsi_exec(c->hba, &none), -ENODEV);
	clear_unit_attention(c); /* the driver's recovery reset the bus */
	assert_int_equal(proxy_lsi_exec(c->hba, &oor), 0);
	assert_int_equal(oor.status, 0x02);
	assert_int_equal(oor.resid, 512);
	assert_int_equal(proxy_lsi_exec(c->hba, &rs), 0);
	assert_int_equal(sense[2] & 0x0f, 0x05); /* ILLEGAL REQUEST */
	assert_int_equal(sense[12], 0x21);       /* LBA OUT OF RANGE */
}

static void
test_tagged_and_disconnect(void **state)
{
	struct ctx *c = *state;
	uint8_t buf[4096];
	struct proxy_lsi_cmd r = rw10(0x28, 0, 8, buf, PROXY_LSI_IN);

	clear_unit_attention(c);
	r.tag = 17;
	assert_int_equal(proxy_lsi_exec(c->hba, &r), 0);
	assert_int_equal(r.status, 0);
	/* QEMU's model disconnects while its block layer reads */
	assert_true(r.disconnects >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inquiry_and_capacity,
		    setup_mmio, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_against_image,
		    setup_mmio, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_against_image,
		    setup_io_chipram, teardown),
		cmocka_unit_test_setup_teardown(test_short_and_overrun,
		    setup_mmio, teardown),
		cmocka_unit_test_setup_teardown(test_errors,
		    setup_mmio, teardown),
		cmocka_unit_test_setup_teardown(test_tagged_and_disconnect,
		    setup_io_chipram, teardown),
	};

	return cmocka_run_group_tests_name("LSI driver model vs QEMU 7.2 "
	    "remote", tests, NULL, NULL);
}
