/*
 * remote/lsi.h: the LSI53C895A as the PCI bus sees it: identity, BARs, and
 * the register file behind BAR0 (I/O) and BAR1 (MMIO), plus the 8 KiB of
 * on-chip SCRIPTS RAM behind BAR2. Runs inside the sandbox; every offset,
 * width and value comes from the untrusted peer.
 *
 * First step (issue #2): the registers are plain storage with no behaviour;
 * the SCRIPTS processor and the SCSI phases come with issue #4.
 */
#ifndef MPJAIL_REMOTE_LSI_H
#define MPJAIL_REMOTE_LSI_H

#include <stdbool.h>
#include <stdint.h>

#include "remote/pci.h"

#define LSI_BAR_IO   0u
#define LSI_BAR_MMIO 1u
#define LSI_BAR_RAM  2u
#define LSI_IO_SIZE   256u
#define LSI_MMIO_SIZE 1024u
#define LSI_RAM_SIZE  8192u
#define LSI_NREGS     256u /* the MMIO BAR repeats them every 256 bytes */

struct lsi_state {
	uint8_t regs[LSI_NREGS];
	uint8_t script_ram[LSI_RAM_SIZE];
};

/* The PCI identity QEMU 7.2's lsi53c895a presents. */
extern const struct pci_identity lsi_pci_identity;

/* Power-on and DEVICE_RESET state. Config space is not touched. */
void lsi_reset(struct lsi_state *s);

/*
 * Access one of the device's BARs at a BAR-relative offset.
 * size: 1, 2, 4 or 8 bytes, little-endian; the whole access must lie in
 * the BAR (the caller found it with pci_bar_lookup). Returns 0 or -EINVAL.
 */
int lsi_bar_read(struct lsi_state *s, unsigned int bar, uint32_t offset,
    uint32_t size, uint64_t *val);
int lsi_bar_write(struct lsi_state *s, unsigned int bar, uint32_t offset,
    uint32_t size, uint64_t val);

#endif
