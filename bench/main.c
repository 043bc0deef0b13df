/*
 * bench/main.c: mpjail-bench, the benchmark harness of `make bench`. One
 * subcommand per figure; each prints its figures as BENCH lines (see
 * bench/bench.h) for bench/run.py. Test-side code, run from the
 * repository's top directory; as root for the confined remotes.
 */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *what;
} figures[] = {
	{ "mmio", bench_mmio, "BAR read/write round trip vs the floor" },
	{ "scsi", bench_scsi, "SCSI throughput through the driver model, RSS" },
	{ "spawn", bench_spawn, "start of a confined remote to its first answer" },
	{ "density", bench_density, "many confined remotes at once" },
	{ "seccomp", bench_seccomp, "syscall cost with and without the policy" },
};

int
main(int argc, char **argv)
{
	const size_t n = sizeof(figures) / sizeof(figures[0]);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(argv[1], figures[i].name))
				return figures[i].run(argc - 1, argv + 1);
	fprintf(stderr, "usage: mpjail-bench FIGURE [ARGS]\n");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  %-8s %s\n", figures[i].name, figures[i].what);
	return 2;
}
