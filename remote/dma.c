/*
 * remote/dma.c: guest RAM, as QEMU announces it with SYNC_SYSMEM.
 * Inside the sandbox: a hostile peer chooses every number and fd here, so
 * all arithmetic is overflow-checked and nothing is mapped until the whole
 * request has been checked. Mappings are read/write, never executable.
 */
#include "remote/dma.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void
unmap_regions(struct dma_region *r, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (r[i].map_base)
			munmap(r[i].map_base, r[i].map_len);
}

void
dma_clear(struct dma_map *map)
{
	unmap_regions(map->r, map->n);
	memset(map, 0, sizeof(*map));
}

static void
close_req_fds(const struct dma_region_req *req, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close(req[i].fd);
}

/* Check one region against its own fd; fill in what we learned. */
static int
check_region(const struct dma_region_req *q, unsigned int i,
    struct dma_region *out, char *why, size_t whylen)
{
	struct stat st;
	uint64_t last, file_end;
	int seals;

	if (fstat(q->fd, &st) < 0) {
		snprintf(why, whylen, "region %u: fstat: %s", i, strerror(errno));
		return -EBADF;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "region %u: fd is not a memfd or regular file", i);
		return -EINVAL;
	}
	seals = fcntl(q->fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		snprintf(why, whylen, "region %u: fd is not sealed against "
		    "shrinking (F_SEAL_SHRINK)", i);
		return -EPERM;
	}
	if (q->size == 0 || q->offset < 0) {
		snprintf(why, whylen, "region %u: bad size 0x%" PRIx64
		    " or offset %" PRId64, i, q->size, q->offset);
		return -EINVAL;
	}
	if (__builtin_add_overflow(q->gpa, q->size - 1, &last)) {
		snprintf(why, whylen, "region %u: gpa 0x%" PRIx64 " + size 0x%"
		    PRIx64 " overflows", i, q->gpa, q->size);
		return -EOVERFLOW;
	}
	if (__builtin_add_overflow((uint64_t)q->offset, q->size, &file_end) ||
	    st.st_size < 0 || file_end > (uint64_t)st.st_size) {
		snprintf(why, whylen, "region %u ends past its fd (offset 0x%"
		    PRIx64 ", size 0x%" PRIx64 ", file 0x%" PRIx64 ")", i,
		    (uint64_t)q->offset, q->size, (uint64_t)st.st_size);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->gpa = q->gpa;
	out->size = q->size;
	out->offset = q->offset;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	return 0;
}

static bool
overlaps(const struct dma_region *a, const struct dma_region *b)
{
	/* Both ends were checked not to overflow. */
	return a->gpa <= b->gpa + (b->size - 1) && b->gpa <= a->gpa + (a->size - 1);
}

static bool
same_table(const struct dma_map *map, const struct dma_region *r,
    unsigned int n)
{
	if (map->n != n)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		const struct dma_region *o = &map->r[i];

		if (o->gpa != r[i].gpa || o->size != r[i].size ||
		    o->offset != r[i].offset || o->dev != r[i].dev ||
		    o->ino != r[i].ino)
			return false;
	}
	return true;
}

static int
map_region(struct dma_region *r, int fd, unsigned int i, char *why,
    size_t whylen)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t pg = page > 0 ? (uint64_t)page : 4096u;
	uint64_t off = (uint64_t)r->offset;
	uint64_t delta = off % pg;
	uint64_t len;
	void *p;

	if (__builtin_add_overflow(r->size, delta, &len) || len > SIZE_MAX) {
		snprintf(why, whylen, "region %u: too large to map", i);
		return -EOVERFLOW;
	}
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    (off_t)(off - delta));
	if (p == MAP_FAILED) {
		int err = errno;

		snprintf(why, whylen, "region %u: mmap 0x%" PRIx64 " bytes: %s",
		    i, len, strerror(err));
		return -err;
	}
	r->map_base = p;
	r->map_len = (size_t)len;
	r->host = (uint8_t *)p + delta;
	return 0;
}

int
dma_sync(struct dma_map *map, const struct dma_region_req *req,
    unsigned int n, char *why, size_t whylen)
{
	struct dma_region next[DMA_MAX_REGIONS];
	int err = 0;

	if (n == 0 || n > DMA_MAX_REGIONS) {
		snprintf(why, whylen, "%u regions (1 to %u allowed)", n,
		    DMA_MAX_REGIONS);
		err = -EINVAL;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		err = check_region(&req[i], i, &next[i], why, whylen);
		if (err)
			goto out;
		for (unsigned int j = 0; j < i; j++) {
			if (overlaps(&next[i], &next[j])) {
				snprintf(why, whylen, "region %u overlaps region "
				    "%u in guest-physical space", i, j);
				err = -EINVAL;
				goto out;
			}
		}
	}
	/* QEMU resends the same map many times as its memory map settles. */
	if (same_table(map, next, n))
		goto out;
	for (unsigned int i = 0; i < n; i++) {
		err = map_region(&next[i], req[i].fd, i, why, whylen);
		if (err) {
			unmap_regions(next, i);
			goto out;
		}
	}
	dma_clear(map);
	memcpy(map->r, next, n * sizeof(next[0]));
	map->n = n;
out:
	close_req_fds(req, n);
	return err;
}

void *
dma_translate(const struct dma_map *map, uint64_t gpa, uint64_t len)
{
	uint64_t last;

	if (len == 0 || __builtin_add_overflow(gpa, len - 1, &last))
		return NULL;
	for (unsigned int i = 0; i < map->n; i++) {
		const struct dma_region *r = &map->r[i];

		if (gpa >= r->gpa && last <= r->gpa + (r->size - 1))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}
