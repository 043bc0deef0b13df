# broker/: mpjail-broker, the privileged process that runs one VM from one
# description file (mpjail.vm(5)). libbroker.a holds everything but main.c,
# for the unit tests; the broker links sandbox/ and policy/.
BRK_SRCS := $(filter-out broker/main.c,$(wildcard broker/*.c))
BRK_OBJS := $(BRK_SRCS:%.c=$(O)/pie/%.o)
BRK_LIB := $(O)/lib/libbroker.a
MPJAIL_BROKER := $(O)/bin/mpjail-broker
ALL_OBJS += $(BRK_OBJS) $(O)/pie/broker/main.o
EXTRA_CFLAGS_broker := $(SECCOMP_CFLAGS) -DBRK_LIBEXECDIR='"$(LIBEXECDIR)"'

$(BRK_LIB): $(BRK_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(MPJAIL_BROKER): $(O)/pie/broker/main.o $(BRK_LIB) $(SBX_LIB) $(POLICY_LIB)
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_HARD) -o $@ $^ $(CAPNG_LIBS) $(SECCOMP_LIBS)

BINS += $(MPJAIL_BROKER)
LIBS += $(BRK_LIB)
# Before sandbox/ and policy/, which it needs: archives link left to right.
UNIT_LINK_LIBS := $(BRK_LIB) $(UNIT_LINK_LIBS)

# Integration and failure tests driving the real broker (root).
.PHONY: broker-tests install-broker
broker-tests: $(BINS)
	@MPJAIL_BUILD=$(abspath $(O)) scripts/run-tests.sh broker \
		$(wildcard tests/broker/test_*.py)

install-broker: $(MPJAIL_BROKER)
	install -D -m 0755 $(MPJAIL_BROKER) $(DESTDIR)$(SBINDIR)/mpjail-broker
	install -D -m 0644 man/mpjail-broker.8 $(DESTDIR)$(MANDIR)/man8/mpjail-broker.8
	install -D -m 0644 man/mpjail.vm.5 $(DESTDIR)$(MANDIR)/man5/mpjail.vm.5
	install -d -m 0755 $(DESTDIR)$(DATADIR)/examples
	install -m 0644 $(wildcard examples/*.vm) $(DESTDIR)$(DATADIR)/examples/
INSTALL_TARGETS += install-broker
