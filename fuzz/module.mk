# fuzz/: libFuzzer targets (issue #8), built with clang in their own
# directory, $(O)/fuzz, with ASan + UBSan, never mixed with the gcc build.
#   make fuzz          build, then run each target for FUZZ_SECONDS (60)
#   make fuzz-smoke    the same for 10 s each: the bounded pass CI runs
#   make fuzz-build    build only
#   make fuzz-run-T    one target (wire reply scripts cdb policy)
# Seeds are read from fuzz/corpus/T (committed, read-only); what a run
# learns goes to $(O)/fuzz/corpus/T, crashes to $(O)/fuzz/artifacts/.
# Needs clang and its libFuzzer runtime: Debian's clang-14 and
# libclang-rt-14-dev.
FUZZ_CC ?= $(or $(shell command -v clang-14 2>/dev/null),clang)
FUZZ_O := $(O)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := wire reply scripts cdb policy
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
	$(FUZZ_SAN) -fsanitize=fuzzer-no-link $(WARNINGS) -I. -MMD -MP
FUZZ_LDFLAGS := $(FUZZ_SAN) -fsanitize=fuzzer

# What each target links: the remote and the codec, or the policy parser.
# (wire: the server's side of the codec and dispatch; reply: the proxy's
# reply decoder, wire_recv_reply.)
FUZZ_REMOTE_SRCS := $(filter-out remote/main.c,$(wildcard remote/*.c)) \
	$(WIRE_SRCS)
FUZZ_POLICY_SRCS := policy/parse.c policy/names.c policy/render.c \
	policy/landlock.c
FUZZ_REMOTE_A := $(FUZZ_O)/lib/libremote.a
FUZZ_POLICY_A := $(FUZZ_O)/lib/libpolicy.a
FUZZ_LIBS_wire := $(FUZZ_REMOTE_A) -lpthread
FUZZ_LIBS_reply := $(FUZZ_REMOTE_A) -lpthread
FUZZ_LIBS_scripts := $(FUZZ_REMOTE_A)
FUZZ_LIBS_cdb := $(FUZZ_REMOTE_A)
FUZZ_LIBS_policy := $(FUZZ_POLICY_A) $(SECCOMP_LIBS)
FUZZ_DEPS_wire := $(FUZZ_REMOTE_A)
FUZZ_DEPS_reply := $(FUZZ_REMOTE_A)
FUZZ_DEPS_scripts := $(FUZZ_REMOTE_A)
FUZZ_DEPS_cdb := $(FUZZ_REMOTE_A)
FUZZ_DEPS_policy := $(FUZZ_POLICY_A)
# Longest input per target: the scripts target's guest memory is larger.
FUZZ_MAXLEN_wire := 8192
FUZZ_MAXLEN_reply := 4096
FUZZ_MAXLEN_scripts := 16384
FUZZ_MAXLEN_cdb := 4096
FUZZ_MAXLEN_policy := 16384
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_O)/fuzz-%)

$(FUZZ_O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SECCOMP_CFLAGS) -c $< -o $@

$(FUZZ_REMOTE_A): $(FUZZ_REMOTE_SRCS:%.c=$(FUZZ_O)/obj/%.o)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_POLICY_A): $(FUZZ_POLICY_SRCS:%.c=$(FUZZ_O)/obj/%.o)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

# One link rule per target (its own libraries), without turning on
# .SECONDEXPANSION for the whole tree.
define FUZZ_BIN_RULE
$(FUZZ_O)/fuzz-$(1): $(FUZZ_O)/obj/fuzz/fuzz_$(1).o $(FUZZ_DEPS_$(1))
	$$(FUZZ_CC) $$(FUZZ_LDFLAGS) -o $$@ $$< $(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_BIN_RULE,$(t))))

.PHONY: fuzz fuzz-smoke fuzz-build $(FUZZ_TARGETS:%=fuzz-run-%)
fuzz-build: $(FUZZ_BINS)

# Each target runs even when an earlier one failed; the target fails at
# the end if any did (a crash, a leak, a time-out, or a set-up error).
fuzz: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
		$(MAKE) --no-print-directory fuzz-run-$$t || fail=1; \
	done; exit $$fail

fuzz-smoke:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

# (Phony targets take no pattern rule: one explicit rule per target.)
define FUZZ_RUN_RULE
fuzz-run-$(1): $(FUZZ_O)/fuzz-$(1)
	@mkdir -p $(FUZZ_O)/corpus/$(1) $(FUZZ_O)/artifacts
	@echo "fuzz $(1): $$(FUZZ_SECONDS) s"
	$(FUZZ_O)/fuzz-$(1) -max_total_time=$$(FUZZ_SECONDS) -timeout=20 \
		-rss_limit_mb=2048 -max_len=$(FUZZ_MAXLEN_$(1)) \
		-print_final_stats=1 \
		-artifact_prefix=$(abspath $(FUZZ_O))/artifacts/$(1)- \
		$(FUZZ_O)/corpus/$(1) fuzz/corpus/$(1)
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RUN_RULE,$(t))))
