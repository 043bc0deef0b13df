/*
 * wire/wire.h: the mpqemu wire codec, QEMU 7.2's multi-process protocol.
 * Shared by remote/ (which treats every byte and fd as hostile) and proxy/.
 * It is the one file a fuzzer must never break: no allocation, no recursion,
 * every length checked against a fixed table before a body is touched.
 */
#ifndef MPJAIL_WIRE_H
#define MPJAIL_WIRE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Command numbers, as QEMU's MPQemuCmd enumerates them. */
enum wire_cmd {
	WIRE_SYNC_SYSMEM = 0,
	WIRE_RET = 1,
	WIRE_PCI_CFGWRITE = 2,
	WIRE_PCI_CFGREAD = 3,
	WIRE_BAR_WRITE = 4,
	WIRE_BAR_READ = 5,
	WIRE_SET_IRQFD = 6,
	WIRE_DEVICE_RESET = 7,
	WIRE_CMD_MAX = 8,
};

/*
 * REMOTE_MAX_FDS in QEMU: a SYNC_SYSMEM body has room for 8 regions.
 * QEMU's own validator refuses 8 fds (num_fds >= 8); we accept the 8 the
 * body can describe, and no more.
 */
#define WIRE_MAX_FDS 8
#define WIRE_HDR_SIZE 16u
#define WIRE_BODY_MAX 192u
/* The value QEMU's peers use to say "error" in a RET. */
#define WIRE_RET_ERROR UINT64_MAX

/* Bodies, byte for byte as QEMU 7.2 lays them out on x86-64. */
struct wire_sync_sysmem {
	uint64_t gpa[WIRE_MAX_FDS];
	uint64_t size[WIRE_MAX_FDS];
	int64_t offset[WIRE_MAX_FDS];
};

struct wire_pci_conf {
	uint32_t addr;
	uint32_t val;
	int32_t len;
};

struct wire_bar {
	uint64_t addr; /* absolute: the BAR's base plus the offset */
	uint64_t val;
	uint32_t size; /* bytes */
	uint8_t memory; /* 1: memory space, 0: I/O space */
	uint8_t pad[3];
};

_Static_assert(sizeof(struct wire_sync_sysmem) == 192, "SyncSysmemMsg");
_Static_assert(sizeof(struct wire_pci_conf) == 12, "PciConfDataMsg");
_Static_assert(sizeof(struct wire_bar) == 24, "BarAccessMsg");

/*
 * One message. On receive, `fds` holds `nfds` descriptors, all opened
 * O_CLOEXEC, owned by the caller (wire_msg_close_fds() closes them). On
 * send, the fds are borrowed and stay open.
 */
struct wire_msg {
	uint32_t cmd;
	uint32_t size; /* body bytes, <= WIRE_BODY_MAX once validated */
	union {
		uint64_t ret;
		struct wire_sync_sysmem sysmem;
		struct wire_pci_conf conf;
		struct wire_bar bar;
		uint8_t raw[WIRE_BODY_MAX];
	} body;
	int fds[WIRE_MAX_FDS];
	unsigned int nfds;
};

/*
 * Errors. Every malformed message maps to its own negative errno, so a
 * caller and a test can tell them apart; wire_strerror() words them.
 */
#define WIRE_E_TOO_BIG     (-EMSGSIZE)   /* size field past the body union */
#define WIRE_E_BAD_SIZE    (-EBADMSG)    /* size not what the command takes */
#define WIRE_E_TRUNCATED   (-EPIPE)      /* peer closed inside a message */
#define WIRE_E_UNKNOWN_CMD (-EBADRQC)    /* command number not in the table */
#define WIRE_E_TOO_MANY_FDS (-E2BIG)     /* more fds than the command allows */
#define WIRE_E_UNEXPECTED_FDS (-ENOTUNIQ) /* fds on a command that takes none */
#define WIRE_E_MISSING_FDS (-ENOENT)     /* fewer fds than the command needs */
#define WIRE_E_CTRUNC      (-ENOBUFS)    /* control message truncated */
#define WIRE_E_BAD_CMSG    (-EPROTO)     /* control data that is not SCM_RIGHTS,
					    or fds attached to body bytes */
#define WIRE_E_TIMEOUT     (-ETIMEDOUT)  /* deadline passed */
#define WIRE_E_TRAILING    (-EOVERFLOW)  /* bytes past the end of a reply */

/* No deadline: block until the message is complete. */
#define WIRE_NO_DEADLINE (-1)

/*
 * Receive one message from a connected stream socket.
 * deadline_ms: milliseconds the whole message may take, or WIRE_NO_DEADLINE.
 * Returns 1 with *m filled and validated against the command table,
 * 0 on an orderly close before the first byte of a message, or a negative
 * errno (one of WIRE_E_* or a socket error). On any error every fd that
 * arrived is already closed and m->nfds is 0.
 * Never raises SIGPIPE. Retries EINTR and short reads.
 */
int wire_recv(int sock, struct wire_msg *m, int deadline_ms);

/*
 * Receive the one reply to the one request in flight (the proxy's side).
 * Same contract as wire_recv(), but it waits first and takes the header
 * and body in one read where the kernel has them together: a round trip
 * costs the proxy three system calls instead of five. Since nothing may
 * follow a reply, bytes past its end are an error (WIRE_E_TRAILING), not
 * the start of another message. Not for the remote, whose peer may
 * pipeline requests.
 */
int wire_recv_reply(int sock, struct wire_msg *m, int deadline_ms);

/*
 * Send one message: the header, m->size body bytes and m->nfds fds (as
 * SCM_RIGHTS on the first byte). The message is validated first, so the
 * codec never emits what it would itself reject. Returns 0 or a negative
 * errno; -EPIPE when the peer has gone (no SIGPIPE).
 */
int wire_send(int sock, const struct wire_msg *m, int deadline_ms);

/*
 * Send bytes and fds with no validation at all: for the hostile-peer tests
 * that must put malformed messages on the wire; up to 64 fds. Same return
 * convention.
 */
int wire_send_raw(int sock, const void *buf, size_t len, const int *fds,
    unsigned int nfds, int deadline_ms);

/* Check a decoded message against the command table (also done by recv). */
int wire_validate(const struct wire_msg *m);

/* Convenience constructors; they zero the message first. */
void wire_msg_init(struct wire_msg *m, enum wire_cmd cmd);
void wire_msg_ret(struct wire_msg *m, uint64_t val);

/* Close every fd the message holds and set nfds to 0. */
void wire_msg_close_fds(struct wire_msg *m);

/* The command's name ("SYNC_SYSMEM"), or "?" for an unknown one. */
const char *wire_cmd_name(uint32_t cmd);

/* A short phrase for a WIRE_E_* value, or strerror() for anything else. */
const char *wire_strerror(int err);

#endif
