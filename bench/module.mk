# bench/: `make bench` (issue #9). mpjail-bench (C: one subcommand per
# figure, BENCH lines on stdout) and bench/run.py, which runs every figure
# in one go, prints one table and writes BENCHMARKS.md. Built with the
# normal flags into $(O); the confined rows need root (run.py marks them
# "needs root" otherwise). Speed goals live here, never in timed tests.
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_OBJS := $(BENCH_SRCS:%.c=$(O)/pie/%.o)
MPJAIL_BENCH := $(O)/bench/mpjail-bench
EXTRA_CFLAGS_bench := -Iproxy $(SECCOMP_CFLAGS) $(CAPNG_CFLAGS)

$(MPJAIL_BENCH): $(BENCH_OBJS) $(O)/pie/tests/lib/peers.o \
		$(O)/pie/tests/lib/jail.o $(PROXY_A) $(SBX_LIB) $(POLICY_LIB)
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_HARD) -o $@ $^ $(CAPNG_LIBS) $(SECCOMP_LIBS)

.PHONY: bench bench-build
bench-build: $(MPJAIL_BENCH) $(BINS)

# BENCH_ARGS: e.g. --only mmio,seccomp (a partial run writes no
# BENCHMARKS.md unless --out is given).
bench: bench-build
	@scripts/install-deps.sh demo
	@scripts/fetch-guest.sh || echo "bench: no guest; the dd figure will say so"
	python3 bench/run.py --build $(abspath $(O)) $(BENCH_ARGS)
