/*
 * remote/lsi.c: the LSI53C895A register file and SCRIPTS RAM, as storage.
 * Inside the sandbox; offsets are checked against the BAR they belong to.
 */
#include "remote/lsi.h"

#include <errno.h>
#include <string.h>

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

void
lsi_reset(struct lsi_state *s)
{
	memset(s->regs, 0, sizeof(s->regs));
}

static bool
width_ok(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/*
 * Every BAR is byte-addressed underneath, so wider accesses are assembled
 * little-endian from bytes, as QEMU splits them.
 */
static uint8_t *
bar_byte(struct lsi_state *s, unsigned int bar, uint32_t offset)
{
	switch (bar) {
	case LSI_BAR_IO:
	case LSI_BAR_MMIO:
		return &s->regs[offset % LSI_NREGS];
	case LSI_BAR_RAM:
		return offset < LSI_RAM_SIZE ? &s->script_ram[offset] : NULL;
	default:
		return NULL;
	}
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
		uint8_t *b = bar_byte(s, bar, offset + i);

		if (!b)
			return -EINVAL;
		v |= (uint64_t)*b << (8 * i);
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
		uint8_t *b = bar_byte(s, bar, offset + i);

		if (!b)
			return -EINVAL;
		*b = (uint8_t)(val >> (8 * i));
	}
	return 0;
}
