/*
 * fuzz/fuzz_common.h: helpers the libFuzzer targets share: sealed memfds
 * for guest RAM and disk images, and a struct remote wired as it is after
 * QEMU's first SYNC_SYSMEM and SET_IRQFD. Test code, not shipped.
 */
#ifndef MPJAIL_FUZZ_COMMON_H
#define MPJAIL_FUZZ_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "remote/server.h"

/* A fuzzer's set-up failing is a broken harness, not a finding. */
static inline void
fuzz_die(const char *what)
{
	perror(what);
	abort();
}

/* A memfd of size bytes; sealed against shrinking and growing if asked. */
static inline int
fuzz_memfd(const char *name, size_t size, int seal)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		fuzz_die("memfd");
	if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		fuzz_die("seal");
	return fd;
}

/* Zero a disk image memfd (not sealed) cheaply: drop its pages. */
static inline void
fuzz_zero_image(int fd, size_t size)
{
	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0)
		fuzz_die("ftruncate");
}

/*
 * Hand r the guest-RAM regions (fds dup'ed: dma_sync consumes them) and a
 * fresh pair of non-blocking eventfds for INTx, as the server would get
 * them from SYNC_SYSMEM and SET_IRQFD.
 */
static inline void
fuzz_wire_remote(struct remote *r, const struct dma_region_req *req,
    unsigned int n)
{
	struct dma_region_req q[DMA_MAX_REGIONS];
	char why[160];

	for (unsigned int i = 0; i < n; i++) {
		q[i] = req[i];
		q[i].fd = fcntl(req[i].fd, F_DUPFD_CLOEXEC, 0);
		if (q[i].fd < 0)
			fuzz_die("dup");
	}
	if (dma_sync(&r->dma, q, n, why, sizeof(why)) < 0) {
		fprintf(stderr, "fuzz: dma_sync: %s\n", why);
		abort();
	}
	if (irq_set_fds(&r->irq, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
	    eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), why, sizeof(why)) < 0) {
		fprintf(stderr, "fuzz: irq_set_fds: %s\n", why);
		abort();
	}
}

#endif
