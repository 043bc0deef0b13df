/*
 * mpjail-proxy.h: libmpjail-proxy, the VMM side of QEMU's multi-process
 * (mpqemu) protocol, for embedding in a VMM, for tools and for tests.
 *
 * Usage:
 *
 *	struct proxy_dev *dev;
 *	uint32_t vendor;
 *
 *	if (proxy_attach(&dev, sock, 5000) < 0)      // sock: connected
 *		...;                                  // AF_UNIX stream
 *	proxy_config_read(dev, 0x00, 2, &vendor);     // 0x1000 for an LSI
 *	proxy_bar_write(dev, PROXY_SPACE_MEMORY, base + 0x34, 4, 0x12345678);
 *	proxy_detach(dev);                            // sock stays open
 *
 * Every call returns 0 or a negative errno:
 *   -ETIMEDOUT  the remote did not answer within the deadline
 *   -EPIPE      the remote closed the socket (never a SIGPIPE)
 *   -EIO        the remote answered with its error value (UINT64_MAX)
 *   -EPROTO     the remote answered with something that is not a RET
 *   -EINVAL     the arguments were wrong; nothing was sent
 * After -ETIMEDOUT, -EPIPE or -EPROTO the connection is out of step and
 * every later call fails with -EPIPE.
 * One request is in flight at a time; a proxy_dev is not thread-safe.
 */
#ifndef MPJAIL_PROXY_H
#define MPJAIL_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct proxy_dev;

enum proxy_space {
	PROXY_SPACE_IO = 0,
	PROXY_SPACE_MEMORY = 1,
};

/* One guest-RAM region for proxy_sync_sysmem(). */
struct proxy_region {
	uint64_t gpa;    /* guest-physical address */
	uint64_t size;   /* bytes */
	int fd;          /* memfd (borrowed: stays the caller's) */
	int64_t offset;  /* where gpa starts in fd */
};

#define PROXY_MAX_REGIONS 8

/*
 * Attach to a connected socket. The socket stays the caller's: detach does
 * not close it. timeout_ms bounds every round trip (0: 5000 ms).
 */
int proxy_attach(struct proxy_dev **out, int sock, unsigned int timeout_ms);
void proxy_detach(struct proxy_dev *dev);

/* PCI configuration space. len: 1, 2 or 4. */
int proxy_config_read(struct proxy_dev *dev, uint32_t addr, unsigned int len,
    uint32_t *val);
int proxy_config_write(struct proxy_dev *dev, uint32_t addr,
    unsigned int len, uint32_t val);

/* BAR accesses at absolute addresses (base as programmed + offset). */
int proxy_bar_read(struct proxy_dev *dev, enum proxy_space space,
    uint64_t addr, unsigned int size, uint64_t *val);
int proxy_bar_write(struct proxy_dev *dev, enum proxy_space space,
    uint64_t addr, unsigned int size, uint64_t val);

/*
 * Size BAR n (0..5) the way firmware does: read, write all-ones, read,
 * write the original back. *sizing gets the read-back mask (0xffffff01 for
 * a 256-byte I/O BAR).
 */
int proxy_bar_sizing(struct proxy_dev *dev, unsigned int n, uint32_t *orig,
    uint32_t *sizing);

/* Replace the remote's guest-RAM map (1 to 8 regions). No reply. */
int proxy_sync_sysmem(struct proxy_dev *dev, const struct proxy_region *r,
    unsigned int n);

/* Hand the remote its INTx eventfds (borrowed: stay the caller's). */
int proxy_set_irqfd(struct proxy_dev *dev, int irqfd, int resamplefd);

/* Reset the device (not its config space), as QEMU does at machine reset. */
int proxy_device_reset(struct proxy_dev *dev);

/* The socket, e.g. to poll it for the remote closing. */
int proxy_fd(const struct proxy_dev *dev);

#ifdef __cplusplus
}
#endif

#endif
