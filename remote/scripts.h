/*
 * remote/scripts.h: the LSI53C895A SCRIPTS processor and the SCSI phases it
 * drives. Inside the sandbox: instructions, tables, counts and addresses
 * are written by the guest; every one is checked, nothing recurses on them.
 */
#ifndef MPJAIL_REMOTE_SCRIPTS_H
#define MPJAIL_REMOTE_SCRIPTS_H

#include <stdint.h>

#include "remote/lsi.h"

/*
 * One slice: at most this many instructions and this many DMA bytes, then
 * return to the server loop, which serves the socket and calls again while
 * lsi_pending() holds. A move larger than the byte budget continues where
 * it stopped (DNAD/DBC, or the memory-move state, hold its progress).
 */
#define SCRIPTS_SLICE_INSNS 1024u
#define SCRIPTS_SLICE_BYTES (4u << 20)
#define SCRIPTS_CHUNK       (64u << 10)  /* bytes per target call */
#define SCRIPTS_MSGOUT_MAX  256u         /* MESSAGE OUT bytes per move */

/* Run SCRIPTS from DSP until they stop, wait, or the budget is spent. */
void scripts_run(struct lsi_state *s, unsigned int max_insns,
    uint32_t max_bytes);

#endif
