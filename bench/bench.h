/*
 * bench/bench.h: the benchmark harness (mpjail-bench), shared helpers.
 * Test-side code: runs unconfined (as root for the confined parts), starts
 * and reaps its own peers, never trusts one to be quick — every loop is
 * bounded in count and in time.
 *
 * Output contract: every figure is one line on stdout,
 *	BENCH {"fig":"mmio","row":"...","key":value,...}
 * which bench/run.py collects into the table and BENCHMARKS.md. Times are
 * nanoseconds unless a key says otherwise; nothing is typed in.
 */
#ifndef MPJAIL_BENCH_H
#define MPJAIL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/lib/peers.h"

/* ---- time and statistics ---- */

uint64_t bench_now_ns(void);

/* Sorts v in place; p in [0, 100]: nearest-rank percentile. */
uint64_t bench_pct(uint64_t *v, size_t n, double p);

/* ---- one output line, built up key by key ---- */

struct bench_line {
	char buf[2048];
	size_t used;
};

void bench_line_start(struct bench_line *l, const char *fig, const char *row);
void bench_line_str(struct bench_line *l, const char *key, const char *val);
void bench_line_u64(struct bench_line *l, const char *key, uint64_t val);
void bench_line_dbl(struct bench_line *l, const char *key, double val);
void bench_line_end(struct bench_line *l);	/* prints and flushes */

/* A figure that could not be measured: why, in one line. */
void bench_skip(const char *fig, const char *row, const char *why);

/* ---- CPUs and processes ---- */

/* Pin the calling thread (cpu >= 0) or let it run anywhere (cpu < 0). */
int bench_pin_self(int cpu);

/*
 * Pin every thread of root and of all its descendants (cpu < 0: any CPU).
 * Returns the number of threads pinned, or a negative errno.
 */
int bench_pin_tree(pid_t root, int cpu);

/* "0-1", "1": a process's Cpus_allowed_list, into buf. */
void bench_cpus_allowed(pid_t pid, char *buf, size_t len);

/* A value in kB from /proc/PID/status ("VmHWM"), or -1. */
long bench_status_kb(pid_t pid, const char *key);

/* Pss or Rss in kB from /proc/PID/smaps_rollup, or -1. */
long bench_rollup_kb(pid_t pid, const char *key);

/* MemAvailable in kB. */
long bench_mem_available_kb(void);

/* Every pid in root's tree (root included), up to max; returns count. */
size_t bench_tree_pids(pid_t root, pid_t *out, size_t max);

/* ---- peers ---- */

/*
 * mpjail-lsi, plainly forked (Landlock and no_new_privs, which it applies
 * itself), with the seccomp program of policy/lsi-remote.policy when
 * with_seccomp: everything of the jail but the namespaces and bubblewrap.
 */
int bench_start_lsi_seccomp(struct peer *p, int bpf_fd);

/* The compiled lsi-remote policy's seccomp memfd (range_count disks). */
int bench_compile_lsi_policy(unsigned int disks, int *bpf_fd);

/* Stop a peer: close its socket, wait, kill what is left; bounded. */
void bench_stop(struct peer *p);

/* ---- the figures (bench/<figure>.c) ---- */

int bench_mmio(int argc, char **argv);
int bench_scsi(int argc, char **argv);
int bench_spawn(int argc, char **argv);
int bench_density(int argc, char **argv);
int bench_seccomp(int argc, char **argv);

#endif
