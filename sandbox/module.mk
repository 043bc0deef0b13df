# sandbox/: applying a compiled policy.
# Self side (Landlock, seccomp from a sealed memfd, the lockdown order) is
# built strict and libc-only, because it links into the static-pie remote
# and the static-pie exec shim. Spawn side (libcap-ng, bubblewrap) is PIE.
# libsandbox.a holds both, for the broker, mpjail-run and the unit tests.
SBX_SELF_SRCS := sandbox/landlock.c sandbox/seccomp.c sandbox/self.c
SBX_SELF_OBJS := $(SBX_SELF_SRCS:%.c=$(O)/strict/%.o)
SBX_SPAWN_SRCS := sandbox/spawn.c sandbox/jail_policy.c
SBX_SPAWN_OBJS := $(SBX_SPAWN_SRCS:%.c=$(O)/pie/%.o)
SBX_LIB := $(O)/lib/libsandbox.a
MPJAIL_EXEC := $(O)/bin/mpjail-exec
MPJAIL_RUN := $(O)/bin/mpjail-run
ALL_OBJS += $(SBX_SELF_OBJS) $(SBX_SPAWN_OBJS) \
	$(O)/strict/sandbox/mpjail-exec/main.o $(O)/pie/sandbox/mpjail-run/main.o
EXTRA_CFLAGS_sandbox := $(CAPNG_CFLAGS) $(SECCOMP_CFLAGS)

# The remote links the self side: mpjail-lsi's lockdown (remote/main.c).
# Its archive's recipe takes $^, so the objects join it from here.
$(REMOTE_LIB): $(SBX_SELF_OBJS)

$(SBX_LIB): $(SBX_SELF_OBJS) $(SBX_SPAWN_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

# mpjail-exec: static-pie, libc only, so it can sit in an empty root.
$(MPJAIL_EXEC): $(O)/strict/sandbox/mpjail-exec/main.o $(SBX_SELF_OBJS)
	@mkdir -p $(@D)
	$(CC) $(REMOTE_LINK) $(LDFLAGS_HARD) -o $@ $^

$(MPJAIL_RUN): $(O)/pie/sandbox/mpjail-run/main.o $(SBX_LIB) $(POLICY_LIB)
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_HARD) -o $@ $^ $(CAPNG_LIBS) $(SECCOMP_LIBS)

BINS += $(MPJAIL_EXEC) $(MPJAIL_RUN)
LIBS += $(SBX_LIB)
UNIT_LINK_LIBS += $(SBX_LIB)
UNIT_LDLIBS += $(CAPNG_LIBS)

# The escape-attempt suite: a static-pie probe that locks itself down
# exactly as mpjail-lsi does, and its driver (tests/escape/run.py).
ESCAPE_PROBE := $(O)/tests/escape/probe
# (a test program: not in ALL_OBJS, whose globals rule is for product code)
$(ESCAPE_PROBE): $(O)/strict/tests/escape/probe.o $(SBX_SELF_OBJS)
	@mkdir -p $(@D)
	$(CC) $(REMOTE_LINK) $(LDFLAGS_HARD) -o $@ $^
tests: $(ESCAPE_PROBE)

escape: $(ESCAPE_PROBE) $(MPJAIL_RUN) $(MPJAIL_EXEC) $(BINS)
	@MPJAIL_BUILD=$(abspath $(O)) python3 tests/escape/run.py

# Which layer alone (seccomp, Landlock, namespaces+uid+rlimits) stops each
# attempt; the table also goes to $(O)/escape-matrix.txt.
escape-matrix: $(ESCAPE_PROBE) $(MPJAIL_RUN) $(MPJAIL_EXEC) $(BINS)
	@MPJAIL_BUILD=$(abspath $(O)) python3 tests/escape/run.py --matrix

install-sandbox: $(MPJAIL_EXEC) $(MPJAIL_RUN)
	install -D -m 0755 $(MPJAIL_EXEC) $(DESTDIR)$(LIBEXECDIR)/mpjail-exec
	install -D -m 0755 $(MPJAIL_RUN) $(DESTDIR)$(BINDIR)/mpjail-run
	install -D -m 0644 man/mpjail-run.1 $(DESTDIR)$(MANDIR)/man1/mpjail-run.1
	install -D -m 0644 man/mpjail-exec.1 $(DESTDIR)$(MANDIR)/man1/mpjail-exec.1
INSTALL_TARGETS += install-sandbox
.PHONY: install-sandbox escape escape-matrix
