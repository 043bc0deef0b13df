/*
 * remote/server.h: the mpqemu server of mpjail-lsi: one socket, one device,
 * one message at a time. Inside the sandbox; the peer is hostile.
 */
#ifndef MPJAIL_REMOTE_SERVER_H
#define MPJAIL_REMOTE_SERVER_H

#include <stddef.h>

#include "remote/dma.h"
#include "remote/irq.h"
#include "remote/lsi.h"
#include "remote/pci.h"
#include "remote/scsi_bus.h"

/* Everything the remote owns; main.c holds the one instance. */
struct remote {
	int sock;
	struct pci_dev pci;
	struct lsi_state lsi;
	struct dma_map dma;
	struct irq_line irq;
	struct scsi_bus bus;
};

/*
 * Power-on state with an empty SCSI bus; takes the connected socket (not
 * closed by srv_*). Disks are added with scsi_bus_add_disk(&r->bus, ...)
 * before lockdown.
 */
void srv_init(struct remote *r, int sock);

/*
 * Serve until the peer closes the socket (returns 0) or breaks the
 * protocol (returns a negative errno, with a one-line reason in why).
 */
int srv_run(struct remote *r, char *why, size_t whylen);

/* Unmap guest RAM and close the interrupt fds. */
void srv_fini(struct remote *r);

#endif
