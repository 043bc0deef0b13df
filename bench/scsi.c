/*
 * bench/scsi.c: figure 2 (SCSI throughput through the LSI driver model,
 * interrupts on the eventfd, no guest) and figure 4 (peak RSS of each
 * remote after that same work), with the machine's memcpy bandwidth as the
 * ceiling for DMA. Images live in /dev/shm, so the remote is measured,
 * not a disk. Each peer gets the same commands in interleaved rounds; the
 * processes are not pinned (the scheduler places them, as for a guest).
 * Test-side code; every loop is bounded in count and in time.
 */
#include "bench/bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpjail-proxy-lsi.h"
#include "mpjail-proxy.h"
#include "tests/lib/jail.h"

#define IMAGE_SIZE (128u << 20)
#define BLOCK 512u
#define SMALL 4096u
#define LARGE (1u << 20)
#define ROUNDS 5
#define SMALL_PER_ROUND 2000
#define LARGE_PER_ROUND 128	/* 128 MiB each way per round */
#define ROUND_NS (2000ull * 1000 * 1000)	/* bound per workload/round */

enum work { W_READ4K, W_READ1M, W_WRITE1M, W_COUNT };

static const char *const work_name[W_COUNT] = {
	"4 KiB random read QD1", "1 MiB sequential read",
	"1 MiB sequential write",
};

struct speer {
	const char *row;
	struct peer p;
	bool up;
	char image[128];
	pid_t remote_pid;
	struct proxy_dev *dev;
	struct proxy_lsi *hba;
	uint64_t *lat[W_COUNT];
	size_t n[W_COUNT];
	uint64_t bytes[W_COUNT];
	uint64_t next_lba;	/* sequential position */
	uint64_t rng;
};

/* Every 512-byte block starts with its LBA: reads are checked by it. */
static int
make_image(char *path, size_t len)
{
	uint8_t *blk = calloc(1, LARGE);
	int fd, err = 0;

	snprintf(path, len, "/dev/shm/mpjail-bench-scsi-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || !blk) {
		free(blk);
		return -errno;
	}
	for (uint64_t off = 0; off < IMAGE_SIZE && !err; off += LARGE) {
		for (uint64_t b = 0; b < LARGE / BLOCK; b++) {
			uint64_t lba = off / BLOCK + b;

			memcpy(blk + b * BLOCK, &lba, sizeof(lba));
			memset(blk + b * BLOCK + 8, (int)(lba & 0xff), BLOCK - 8);
		}
		if (pwrite(fd, blk, LARGE, (off_t)off) != (ssize_t)LARGE)
			err = -EIO;
	}
	close(fd);
	free(blk);
	return err;
}

static bool
blocks_ok(const uint8_t *buf, uint64_t lba, size_t len)
{
	for (size_t b = 0; b < len / BLOCK; b++) {
		uint64_t got;

		memcpy(&got, buf + b * BLOCK, sizeof(got));
		if (got != lba + b)
			return false;
	}
	return true;
}

static int
rw10(struct speer *s, bool wr, uint64_t lba, void *buf, size_t len)
{
	struct proxy_lsi_cmd c;
	uint32_t blocks = (uint32_t)(len / BLOCK);
	int err;

	memset(&c, 0, sizeof(c));
	c.tag = -1;
	c.cdb[0] = wr ? 0x2a : 0x28;
	c.cdb[2] = (uint8_t)(lba >> 24);
	c.cdb[3] = (uint8_t)(lba >> 16);
	c.cdb[4] = (uint8_t)(lba >> 8);
	c.cdb[5] = (uint8_t)lba;
	c.cdb[7] = (uint8_t)(blocks >> 8);
	c.cdb[8] = (uint8_t)blocks;
	c.cdb_len = 10;
	c.data = buf;
	c.data_len = len;
	c.dir = wr ? PROXY_LSI_OUT : PROXY_LSI_IN;
	err = proxy_lsi_exec(s->hba, &c);
	if (err)
		return err;
	if (c.status != 0 || c.resid != 0)
		return -EIO;
	return 0;
}

static uint64_t
next_rand(struct speer *s)
{
	/* xorshift64: the same sequence for every peer */
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static int
one(struct speer *s, enum work w, uint8_t *buf, bool check)
{
	const uint64_t nblocks = IMAGE_SIZE / BLOCK;
	uint64_t lba;
	int err;

	switch (w) {
	case W_READ4K:
		lba = (next_rand(s) % (nblocks / (SMALL / BLOCK))) *
		    (SMALL / BLOCK);
		err = rw10(s, false, lba, buf, SMALL);
		if (!err && check && !blocks_ok(buf, lba, SMALL))
			err = -EBADMSG;
		return err;
	case W_READ1M:
	case W_WRITE1M:
	case W_COUNT:
	default:
		lba = s->next_lba;
		s->next_lba = (s->next_lba + LARGE / BLOCK) % nblocks;
		if (w == W_WRITE1M) {
			/* the image keeps its LBA stamps: reads stay checkable */
			for (size_t b = 0; b < LARGE / BLOCK; b++) {
				uint64_t v = lba + b;

				memcpy(buf + b * BLOCK, &v, sizeof(v));
			}
			return rw10(s, true, lba, buf, LARGE);
		}
		err = rw10(s, false, lba, buf, LARGE);
		if (!err && check && !blocks_ok(buf, lba, LARGE))
			err = -EBADMSG;
		return err;
	}
}

static int
round_of(struct speer *s, uint8_t *buf)
{
	static const unsigned int per[W_COUNT] = { SMALL_PER_ROUND,
		LARGE_PER_ROUND, LARGE_PER_ROUND };
	static const uint64_t size[W_COUNT] = { SMALL, LARGE, LARGE };
	int err;

	for (int i = 0; i < 50; i++)	/* warm-up, checked */
		if ((err = one(s, W_READ4K, buf, true)))
			return err;
	for (int i = 0; i < 4; i++)
		if ((err = one(s, W_READ1M, buf, true)))
			return err;
	for (int w = 0; w < W_COUNT; w++) {
		uint64_t start = bench_now_ns();

		for (unsigned int i = 0; i < per[w]; i++) {
			uint64_t t0 = bench_now_ns(), t1;

			/* the first of each round is checked, outside timing
			   only in that the check is cheap next to the copy */
			err = one(s, (enum work)w, buf, i == 0);
			t1 = bench_now_ns();
			if (err)
				return err;
			s->lat[w][s->n[w]++] = t1 - t0;
			s->bytes[w] += size[w];
			if (t1 - start > ROUND_NS)
				break;
		}
	}
	return 0;
}

/* Take the power-on unit attention: TEST UNIT READY until GOOD. */
static int
settle(struct speer *s)
{
	for (int i = 0; i < 4; i++) {
		struct proxy_lsi_cmd c = { .tag = -1, .cdb_len = 6 };
		uint8_t sense[18];
		struct proxy_lsi_cmd rs = { .tag = -1, .cdb = { 0x03, 0, 0, 0,
		    18 }, .cdb_len = 6, .data = sense, .data_len = 18,
		    .dir = PROXY_LSI_IN };
		int err = proxy_lsi_exec(s->hba, &c);

		if (err)
			return err;
		if (c.status == 0)
			return 0;
		(void)proxy_lsi_exec(s->hba, &rs);
	}
	return -EIO;
}

static int
bring_up(struct speer *s)
{
	int err = make_image(s->image, sizeof(s->image));

	if (err)
		return err;
	if (!strcmp(s->row, "qemu-remote"))
		err = peer_start_qemu_remote(&s->p, s->image);
	else if (!strcmp(s->row, "mpjail-lsi jailed"))
		err = jail_start_mpjail_lsi(&s->p, s->image, false);
	else
		err = peer_start_mpjail_lsi_disk(&s->p, s->image, false);
	if (err)
		return err;
	s->up = true;
	err = proxy_attach(&s->dev, s->p.sock, 5000);
	if (!err)
		err = proxy_lsi_open(&s->hba, s->dev, NULL);
	if (!err)
		err = settle(s);
	if (err)
		return err;
	s->remote_pid = !strcmp(s->row, "mpjail-lsi jailed") ?
	    jail_find_remote(&s->p, 5000) : s->p.pid;
	s->rng = 0x9e3779b97f4a7c15ull;
	for (int w = 0; w < W_COUNT; w++) {
		s->lat[w] = calloc((size_t)ROUNDS * SMALL_PER_ROUND,
		    sizeof(uint64_t));
		if (!s->lat[w])
			return -ENOMEM;
	}
	return 0;
}

static void
tear_down(struct speer *s)
{
	if (s->hba)
		proxy_lsi_close(s->hba);
	if (s->dev)
		proxy_detach(s->dev);
	s->hba = NULL;
	s->dev = NULL;
	if (s->up)
		bench_stop(&s->p);
	s->up = false;
	if (s->image[0])
		unlink(s->image);
	s->image[0] = '\0';
}

/* The ceiling for DMA: 1 MiB copies from a 64 MiB source, as the remote's
 * pread from the page cache into guest RAM. */
static void
memcpy_bandwidth(void)
{
	const size_t src_size = 64u << 20;
	uint8_t *src = malloc(src_size), *dst = malloc(LARGE);
	uint64_t best = UINT64_MAX, t[7];
	struct bench_line l;

	if (!src || !dst) {
		free(src);
		free(dst);
		bench_skip("memcpy", "memcpy", "out of memory");
		return;
	}
	memset(src, 0x5a, src_size);
	memset(dst, 0, LARGE);
	for (int r = 0; r < 7; r++) {
		uint64_t t0 = bench_now_ns();

		for (size_t off = 0; off < src_size; off += LARGE) {
			memcpy(dst, src + off, LARGE);
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		t[r] = bench_now_ns() - t0;
		if (t[r] < best)
			best = t[r];
	}
	bench_line_start(&l, "memcpy", "memcpy 1 MiB blocks");
	bench_line_dbl(&l, "mb_s_median",
	    (double)src_size * 1e3 / (double)bench_pct(t, 7, 50));
	bench_line_dbl(&l, "mb_s_best", (double)src_size * 1e3 / (double)best);
	bench_line_end(&l);
	free(src);
	free(dst);
}

static void
report(struct speer *s)
{
	static const char *const keys[] = { "VmHWM", "VmRSS", "RssAnon",
		"RssFile", "RssShmem" };
	struct bench_line l;

	for (int w = 0; w < W_COUNT; w++) {
		uint64_t total = 0;

		for (size_t i = 0; i < s->n[w]; i++)
			total += s->lat[w][i];
		bench_line_start(&l, "scsi", s->row);
		bench_line_str(&l, "work", work_name[w]);
		bench_line_u64(&l, "n", s->n[w]);
		bench_line_u64(&l, "bytes", s->bytes[w]);
		bench_line_u64(&l, "total_ns", total);
		bench_line_dbl(&l, "iops", total ? (double)s->n[w] * 1e9 /
		    (double)total : 0);
		bench_line_dbl(&l, "mb_s", total ? (double)s->bytes[w] * 1e3 /
		    (double)total : 0);
		bench_line_u64(&l, "median_ns", bench_pct(s->lat[w], s->n[w], 50));
		bench_line_u64(&l, "p99_ns", bench_pct(s->lat[w], s->n[w], 99));
		bench_line_end(&l);
	}
	bench_line_start(&l, "rss", s->row);
	bench_line_u64(&l, "pid", (uint64_t)s->remote_pid);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		bench_line_dbl(&l, keys[k],
		    (double)bench_status_kb(s->remote_pid, keys[k]));
	bench_line_dbl(&l, "Threads",
	    (double)bench_status_kb(s->remote_pid, "Threads"));
	bench_line_end(&l);
}

int
bench_scsi(int argc, char **argv)
{
	struct speer peers[] = {
		{ .row = "mpjail-lsi" },
		{ .row = "mpjail-lsi jailed" },
		{ .row = "qemu-remote" },
	};
	const size_t np = sizeof(peers) / sizeof(peers[0]);
	uint8_t *buf = aligned_alloc(4096, LARGE);
	int err;

	(void)argc;
	(void)argv;
	if (!buf)
		return 1;
	bench_pin_self(-1);
	memcpy_bandwidth();
	for (size_t i = 0; i < np; i++) {
		if (!strcmp(peers[i].row, "mpjail-lsi jailed") &&
		    geteuid() != 0) {
			bench_skip("scsi", peers[i].row, "needs root");
			bench_skip("rss", peers[i].row, "needs root");
			continue;
		}
		err = bring_up(&peers[i]);
		if (err) {
			char e[512] = "";

			if (peers[i].p.err_fd >= 0)
				peer_stderr(&peers[i].p, e, sizeof(e));
			fprintf(stderr, "scsi: %s: start: %s %s\n",
			    peers[i].row, strerror(-err), e);
			tear_down(&peers[i]);
			bench_skip("scsi", peers[i].row, "did not start");
		}
	}
	for (int r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < np; i++) {
			if (!peers[i].up)
				continue;
			err = round_of(&peers[i], buf);
			if (err) {
				fprintf(stderr, "scsi: %s: %s\n", peers[i].row,
				    strerror(-err));
				tear_down(&peers[i]);
				bench_skip("scsi", peers[i].row,
				    "a command failed");
			}
		}
	for (size_t i = 0; i < np; i++) {
		if (peers[i].up)
			report(&peers[i]);
		tear_down(&peers[i]);
		for (int w = 0; w < W_COUNT; w++)
			free(peers[i].lat[w]);
	}
	free(buf);
	return 0;
}
