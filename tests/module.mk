# tests/: unit tests (cmocka, one executable per tests/unit/test_<module>.c)
# and integration tests (real QEMU, real processes).
# A unit test links every internal archive; the linker takes what it uses.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/unit/%)
INTEG_C_SRCS := $(wildcard tests/integration/test_*.c)
INTEG_C_TESTS := $(INTEG_C_SRCS:tests/integration/%.c=$(O)/tests/integration/%)
INTEG_PY := $(wildcard tests/integration/test_*.py)
TEST_SUPPORT_SRCS := $(wildcard tests/lib/*.c)
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:%.c=$(O)/pie/%.o)
UNIT_LINK_LIBS += $(REMOTE_LIB) $(WIRE_STRICT_OBJS) $(PROXY_A)

$(O)/tests/unit/%: tests/unit/%.c $(UNIT_LINK_LIBS) $(TEST_SUPPORT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_PIE) -Iproxy $(CMOCKA_CFLAGS) -pie $(LDFLAGS_HARD) -o $@ $< \
		$(TEST_SUPPORT_OBJS) $(UNIT_LINK_LIBS) $(UNIT_LDLIBS) $(CMOCKA_LIBS)

$(O)/tests/integration/%: tests/integration/%.c $(PROXY_A) $(TEST_SUPPORT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_PIE) -Iproxy $(CMOCKA_CFLAGS) -pie $(LDFLAGS_HARD) -o $@ $< \
		$(TEST_SUPPORT_OBJS) $(PROXY_A) $(CMOCKA_LIBS)

.PHONY: tests
tests: $(UNIT_TESTS) $(INTEG_C_TESTS)

# Each suite runs even when an earlier one failed; the target fails at the
# end if any did.
unit: $(UNIT_TESTS)
	@scripts/run-tests.sh unit $(UNIT_TESTS)

integration: $(INTEG_C_TESTS) $(BINS)
	@MPJAIL_BUILD=$(abspath $(O)) scripts/run-tests.sh integration \
		$(INTEG_C_TESTS) $(INTEG_PY)

# End-to-end: a real guest (SeaBIOS, and Linux from Debian packages fetched
# into cache/guest by scripts/fetch-guest.sh) under real QEMU 7.2 with
# x-pci-proxy-dev, against QEMU's own remote and against mpjail-lsi.
E2E_PY := $(wildcard tests/e2e/test_*.py)
.PHONY: e2e guest
guest:
	@scripts/fetch-guest.sh

e2e: $(BINS) guest
	@MPJAIL_BUILD=$(abspath $(O)) scripts/run-tests.sh e2e $(E2E_PY)

# Hostile peers (issue #8): a compromised QEMU against the confined
# remote. Needs root, like the escape suite; `make check` runs it.
HOSTILE_C_SRCS := $(wildcard tests/hostile/test_*.c)
HOSTILE_C_TESTS := $(HOSTILE_C_SRCS:tests/hostile/%.c=$(O)/tests/hostile/%)

$(O)/tests/hostile/%: tests/hostile/%.c $(PROXY_A) $(TEST_SUPPORT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_PIE) -Iproxy $(CMOCKA_CFLAGS) -pie $(LDFLAGS_HARD) -o $@ $< \
		$(TEST_SUPPORT_OBJS) $(PROXY_A) $(CMOCKA_LIBS)

tests: $(HOSTILE_C_TESTS)

.PHONY: hostile
hostile: $(HOSTILE_C_TESTS) $(BINS)
	@MPJAIL_BUILD=$(abspath $(O)) scripts/run-tests.sh hostile \
		$(HOSTILE_C_TESTS)
