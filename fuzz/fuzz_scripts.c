/*
 * fuzz/fuzz_scripts.c: libFuzzer target for the SCRIPTS processor over
 * guest memory the fuzzer writes. A real struct remote (one 1 MiB disk at
 * ID 0, BARs programmed as SeaBIOS does) with three guest-RAM regions from
 * one memfd: 64 KiB at 0, 64 KiB just below 4 GiB (32-bit wrap) and
 * 64 KiB just below 2^64 (64-bit wrap). Input layout:
 *
 *	[0]      flags: bit 0 DSP as given (else masked into low RAM),
 *	         bit 1 the driver resumes at DSP after each interrupt,
 *	         bit 2 it sets ISTAT SIGP when SCRIPTS wait for reselection
 *	[1..3]   unused
 *	[4..7]   DSP (little-endian)
 *	[8..63]  28 (register, value) byte pairs written before the start
 *	[64..]   memory segments, each [where][offset: u16, in 4-byte units]
 *	         [length: u16][bytes], where = 0 low region, 1 SCRIPTS RAM
 *	         (BAR2), 2 the region below 4 GiB, 3 the one below 2^64;
 *	         a segment is clipped at its area's end. Everything else is 0.
 *
 * SCRIPTS run in bounded slices (scripts_run with small budgets), at most
 * ROUNDS of them, with a guest-like interrupt service between stops.
 */
#include "fuzz/fuzz_common.h"
#include "remote/lsi_regs.h"
#include "remote/scripts.h"

#define REGION (64u << 10)
#define RAM_FD_SIZE (3 * REGION)
#define IMAGE_SIZE (1u << 20)
#define HDR 64u
#define ROUNDS 6u
#define SLICE_INSNS 256u
#define SLICE_BYTES (128u << 10)

#define IO_BASE 0xc000u
#define MMIO_BASE 0xfebfe000u
#define SRAM_BASE 0xfebfc000u

static struct remote the_remote;
static int ram_fd = -1, image_fd = -1;
static uint8_t *ram;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
once(void)
{
	if (ram_fd >= 0)
		return;
	ram_fd = fuzz_memfd("fuzz-ram", RAM_FD_SIZE, 1);
	image_fd = fuzz_memfd("fuzz-image", IMAGE_SIZE, 0);
	ram = mmap(NULL, RAM_FD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    ram_fd, 0);
	if (ram == MAP_FAILED)
		fuzz_die("mmap");
}

/* Copy the input's memory segments into guest RAM and SCRIPTS RAM. */
static void
load_segments(struct lsi_state *s, const uint8_t *p, size_t left)
{
	while (left >= 5) {
		uint8_t *area;
		size_t room, off = 4u * (size_t)(p[1] | p[2] << 8);
		size_t len = (size_t)(p[3] | p[4] << 8);

		switch (p[0] & 3) {
		case 0:
			area = ram;
			room = REGION;
			break;
		case 1:
			area = s->script_ram;
			room = sizeof(s->script_ram);
			break;
		default:
			area = ram + (size_t)(p[0] & 3) * REGION - REGION;
			room = REGION;
			break;
		}
		p += 5;
		left -= 5;
		if (len > left)
			len = left;
		if (off < room)
			memcpy(area + off, p, len < room - off ? len : room - off);
		p += len;
		left -= len;
	}
}

static void
program_pci(struct remote *r)
{
	(void)pci_config_write(&r->pci, PCI_BASE_ADDRESS_0, IO_BASE, 4);
	(void)pci_config_write(&r->pci, PCI_BASE_ADDRESS_0 + 4, MMIO_BASE, 4);
	(void)pci_config_write(&r->pci, PCI_BASE_ADDRESS_0 + 8, SRAM_BASE, 4);
	(void)pci_config_write(&r->pci, PCI_COMMAND, 0x0007, 2);
}

/* What a guest's interrupt handler reads (each read has side effects). */
static void
service(struct lsi_state *s)
{
	uint8_t istat = lsi_reg_readb(s, LSI_ISTAT);

	if (istat & LSI_ISTAT_INTF)
		lsi_reg_writeb(s, LSI_ISTAT, LSI_ISTAT_INTF);
	if (istat & LSI_ISTAT_DIP)
		(void)lsi_reg_readb(s, LSI_DSTAT);
	if (istat & LSI_ISTAT_SIP) {
		(void)lsi_reg_readb(s, LSI_SIST0);
		(void)lsi_reg_readb(s, LSI_SIST1);
	}
	(void)lsi_reg_readb(s, LSI_DSPS);
}

static void
write_dsp(struct lsi_state *s, uint32_t dsp)
{
	for (unsigned int i = 0; i < 4; i++)
		lsi_reg_writeb(s, LSI_DSP + i, (uint8_t)(dsp >> (8 * i)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct remote *r = &the_remote;
	struct lsi_state *s = &r->lsi;
	struct dma_region_req req[3];
	uint8_t hdr[HDR] = { 0 };
	uint32_t dsp;

	once();
	memcpy(hdr, data, size < HDR ? size : HDR);
	memset(ram, 0, RAM_FD_SIZE);
	srv_init(r, -1);
	if (size > HDR)
		load_segments(s, data + HDR, size - HDR);
	fuzz_zero_image(image_fd, IMAGE_SIZE);
	if (scsi_bus_add_disk(&r->bus, image_fd, false, NULL) < 0)
		fuzz_die("disk");
	req[0] = (struct dma_region_req){ 0, REGION, 0, ram_fd };
	req[1] = (struct dma_region_req){ 0x100000000ull - REGION, REGION,
	    REGION, ram_fd };
	req[2] = (struct dma_region_req){ 0ull - REGION, REGION, 2 * REGION,
	    ram_fd };
	fuzz_wire_remote(r, req, 3);
	program_pci(r);

	for (unsigned int i = 8; i + 1 < HDR; i += 2)
		lsi_reg_writeb(s, hdr[i], hdr[i + 1]);
	dsp = (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 |
	    (uint32_t)hdr[6] << 16 | (uint32_t)hdr[7] << 24;
	if (!(hdr[0] & 1))
		dsp &= (REGION - 1) & ~3u;
	write_dsp(s, dsp);
	for (unsigned int round = 0; round < ROUNDS; round++) {
		if (lsi_pending(s)) {
			s->kick = false;
			scripts_run(s, SLICE_INSNS, SLICE_BYTES);
			continue;
		}
		if (s->waiting == LSI_WAIT_RESELECT && (hdr[0] & 4)) {
			lsi_reg_writeb(s, LSI_ISTAT, LSI_ISTAT_SIGP);
			continue;
		}
		service(s);
		if (!(hdr[0] & 2))
			break;
		write_dsp(s, lsi_get32(s, LSI_DSP));
	}
	srv_fini(r);
	return 0;
}
