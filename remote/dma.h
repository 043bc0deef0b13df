/*
 * remote/dma.h: the guest-RAM region table built from SYNC_SYSMEM, and the
 * translation of guest physical addresses through it. Inside the sandbox:
 * every gpa, size, offset and fd comes from a peer assumed compromised.
 */
#ifndef MPJAIL_REMOTE_DMA_H
#define MPJAIL_REMOTE_DMA_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DMA_MAX_REGIONS 8u

/* One region as the peer asked for it. */
struct dma_region_req {
	uint64_t gpa;
	uint64_t size;
	int64_t offset;
	int fd;
};

struct dma_region {
	uint64_t gpa;
	uint64_t size;
	int64_t offset;
	dev_t dev;        /* identity of the backing file, to spot a resend */
	ino_t ino;
	uint8_t *host;    /* gpa maps here */
	void *map_base;   /* what mmap returned (page-aligned) */
	size_t map_len;
};

struct dma_map {
	struct dma_region r[DMA_MAX_REGIONS];
	unsigned int n;
};

/*
 * Replace the whole table with the requested regions. Every region is
 * checked before anything is mapped: a regular file (memfd) sealed against
 * shrinking (so a peer cannot truncate it under us and SIGBUS the remote),
 * 0 < size, 0 <= offset, offset + size within the file, gpa + size without
 * overflow, no two regions overlapping in guest-physical space. A request
 * identical to the current table keeps the existing mappings.
 * The fds are always consumed (closed) whatever the outcome. On error the
 * old table is kept and `why` says which region failed and how.
 */
int dma_sync(struct dma_map *map, const struct dma_region_req *req,
    unsigned int n, char *why, size_t whylen);

/* Unmap everything. */
void dma_clear(struct dma_map *map);

/*
 * Host address of [gpa, gpa + len) if it lies wholly inside one region,
 * else NULL (a bus fault for the device model). len 0 is refused.
 */
void *dma_translate(const struct dma_map *map, uint64_t gpa, uint64_t len);

#endif
