/*
 * remote/pci.c: the device's configuration space and BAR decoding.
 * Inside the sandbox; the peer's config and BAR addresses are untrusted.
 * The layout and write masks were read back from QEMU 7.2's remote, which
 * is the reference (tests/integration/test_config_diff.c compares them).
 */
#include "remote/pci.h"

#include <errno.h>
#include <string.h>

static void
put_le(uint8_t *p, uint32_t val, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		p[i] = (uint8_t)(val >> (8 * i));
}

static uint32_t
get_le(const uint8_t *p, unsigned int len)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < len; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

void
pci_init(struct pci_dev *dev, const struct pci_identity *id)
{
	memset(dev, 0, sizeof(*dev));
	put_le(dev->config + PCI_VENDOR_ID, id->vendor_id, 2);
	put_le(dev->config + PCI_DEVICE_ID, id->device_id, 2);
	dev->config[PCI_REVISION_ID] = id->revision;
	put_le(dev->config + PCI_CLASS_PROG, id->class_code, 3);
	dev->config[PCI_LATENCY_TIMER] = id->latency_timer;
	put_le(dev->config + PCI_SUBSYSTEM_VENDOR_ID, id->subsystem_vendor_id, 2);
	put_le(dev->config + PCI_SUBSYSTEM_ID, id->subsystem_id, 2);
	dev->config[PCI_INTERRUPT_PIN] = id->interrupt_pin;

	/* What software may change: as QEMU's PCI core allows. */
	put_le(dev->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
	    PCI_COMMAND_MASTER | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE, 2);
	put_le(dev->w1cmask + PCI_STATUS, PCI_STATUS_W1C, 2);
	dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	/* The latency timer is read-only in QEMU: the device fixes it. */
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
	/* Device-specific space is plain storage, as in QEMU. */
	memset(dev->wmask + PCI_HEADER_SIZE, 0xff,
	    PCI_CONFIG_SIZE - PCI_HEADER_SIZE);

	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_desc *b = &id->bars[i];
		unsigned int off = PCI_BASE_ADDRESS_0 + 4 * i;

		dev->bars[i] = *b;
		if (b->size == 0)
			continue;
		put_le(dev->config + off, b->io ? PCI_BASE_ADDRESS_SPACE_IO : 0, 4);
		/* The low type bits are read-only: 2 for I/O, 4 for memory. */
		put_le(dev->wmask + off, ~(b->size - 1u) & (b->io ? ~0x3u : ~0xfu), 4);
	}
}

static bool
config_access_ok(uint32_t addr, int32_t len)
{
	if (len != 1 && len != 2 && len != 4)
		return false;
	/* QEMU 7.2 refuses addr + sizeof(u32) > config size, whatever len. */
	return addr <= PCI_CONFIG_SIZE - 4;
}

int
pci_config_read(const struct pci_dev *dev, uint32_t addr, int32_t len,
    uint32_t *val)
{
	if (!config_access_ok(addr, len))
		return -EINVAL;
	*val = get_le(dev->config + addr, (unsigned int)len);
	return 0;
}

int
pci_config_write(struct pci_dev *dev, uint32_t addr, uint32_t val,
    int32_t len)
{
	if (!config_access_ok(addr, len))
		return -EINVAL;
	for (unsigned int i = 0; i < (unsigned int)len; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		uint8_t *c = &dev->config[addr + i];
		uint8_t wm = dev->wmask[addr + i];
		uint8_t w1c = dev->w1cmask[addr + i];

		*c = (uint8_t)((*c & ~wm) | (b & wm));
		*c = (uint8_t)(*c & ~(b & w1c));
	}
	return 0;
}

/* The base a BAR decodes at, or 0 when it does not decode (QEMU's rules). */
static uint64_t
bar_base(const struct pci_dev *dev, unsigned int i)
{
	const struct pci_bar_desc *b = &dev->bars[i];
	uint32_t cmd = get_le(dev->config + PCI_COMMAND, 2);
	uint32_t raw = get_le(dev->config + PCI_BASE_ADDRESS_0 + 4 * i, 4);
	uint64_t base, last;

	if (b->size == 0)
		return 0;
	if (!(cmd & (b->io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
		return 0;
	base = raw & ~(uint64_t)(b->size - 1u);
	last = base + b->size - 1u;
	if (base == 0 || last >= UINT32_MAX)
		return 0;
	return base;
}

int
pci_bar_lookup(const struct pci_dev *dev, bool memory, uint64_t addr,
    uint32_t size, unsigned int *bar, uint32_t *offset)
{
	uint64_t end;

	if (size == 0 || __builtin_add_overflow(addr, size, &end))
		return -ENXIO;
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t base = bar_base(dev, i);

		if (base == 0 || dev->bars[i].io == memory)
			continue;
		if (addr >= base && end <= base + dev->bars[i].size) {
			*bar = i;
			*offset = (uint32_t)(addr - base);
			return 0;
		}
	}
	return -ENXIO;
}

void
pci_set_intx_status(struct pci_dev *dev, bool asserted)
{
	if (asserted)
		dev->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		dev->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
}

bool
pci_intx_disabled(const struct pci_dev *dev)
{
	return (get_le(dev->config + PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE) != 0;
}
