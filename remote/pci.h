/*
 * remote/pci.h: a conventional PCI type-0 configuration space, and decoding
 * of absolute BAR addresses into (BAR, offset). Runs inside the sandbox:
 * every address, length and value comes from a peer we do not trust.
 */
#ifndef MPJAIL_REMOTE_PCI_H
#define MPJAIL_REMOTE_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CONFIG_SIZE 256u
#define PCI_NUM_BARS 6u

/* Offsets, as the PCI Local Bus specification names them. */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define  PCI_COMMAND_IO      0x0001
#define  PCI_COMMAND_MEMORY  0x0002
#define  PCI_COMMAND_MASTER  0x0004
#define  PCI_COMMAND_SERR    0x0100
#define  PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS         0x06
#define  PCI_STATUS_INTERRUPT 0x0008
#define  PCI_STATUS_W1C      0xf900 /* parity, aborts, SERR, detected parity */
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER  0x0d
#define PCI_HEADER_TYPE    0x0e
#define PCI_BASE_ADDRESS_0 0x10
#define  PCI_BASE_ADDRESS_SPACE_IO 0x01
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID   0x2e
#define PCI_ROM_ADDRESS    0x30
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d
#define PCI_HEADER_SIZE    0x40

struct pci_bar_desc {
	uint32_t size; /* bytes, a power of two; 0: BAR not implemented */
	bool io;       /* I/O space; otherwise 32-bit memory */
};

/* What a device model declares about itself; fixed for its lifetime. */
struct pci_identity {
	uint16_t vendor_id;
	uint16_t device_id;
	uint8_t revision;
	uint32_t class_code; /* 24 bits: base class, subclass, prog-if */
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_id;
	uint8_t interrupt_pin; /* 1 = INTA# */
	uint8_t latency_timer;
	struct pci_bar_desc bars[PCI_NUM_BARS];
};

struct pci_dev {
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];   /* bits a write may change */
	uint8_t w1cmask[PCI_CONFIG_SIZE]; /* bits a written 1 clears */
	struct pci_bar_desc bars[PCI_NUM_BARS];
};

/* Build the power-on configuration space from an identity. */
void pci_init(struct pci_dev *dev, const struct pci_identity *id);

/*
 * Config accesses as QEMU's remote takes them: refused (-EINVAL) when
 * addr + 4 > 256, as QEMU 7.2 does, and also when len is not 1, 2 or 4
 * (QEMU accepts 3; no guest access has that width).
 */
int pci_config_read(const struct pci_dev *dev, uint32_t addr, int32_t len,
    uint32_t *val);
int pci_config_write(struct pci_dev *dev, uint32_t addr, uint32_t val,
    int32_t len);

/*
 * Find the BAR that wholly holds [addr, addr + size) in the given space.
 * A BAR decodes only while the command register enables its space and its
 * base is programmed (non-zero, below 4 GiB). Returns 0 with *bar and
 * *offset set, or -ENXIO.
 */
int pci_bar_lookup(const struct pci_dev *dev, bool memory, uint64_t addr,
    uint32_t size, unsigned int *bar, uint32_t *offset);

/* Mirror the INTx line in the status register's Interrupt Status bit. */
void pci_set_intx_status(struct pci_dev *dev, bool asserted);

/* True when the guest set Interrupt Disable in the command register. */
bool pci_intx_disabled(const struct pci_dev *dev);

#endif
