# policy/: the policy language (parser, compiler to libseccomp and to a
# Landlock description) as libpolicy.a, the mpjail-policy tool, and the
# shipped *.policy files.
POLICY_SRCS := $(filter-out policy/main.c,$(wildcard policy/*.c))
POLICY_OBJS := $(POLICY_SRCS:%.c=$(O)/pie/%.o)
POLICY_LIB := $(O)/lib/libpolicy.a
MPJAIL_POLICY := $(O)/bin/mpjail-policy
POLICY_FILES := $(wildcard policy/*.policy)
ALL_OBJS += $(POLICY_OBJS) $(O)/pie/policy/main.o
EXTRA_CFLAGS_policy := $(SECCOMP_CFLAGS)

$(POLICY_LIB): $(POLICY_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(MPJAIL_POLICY): $(O)/pie/policy/main.o $(POLICY_LIB)
	@mkdir -p $(@D)
	$(CC) -pie $(LDFLAGS_HARD) -o $@ $^ $(SECCOMP_LIBS)

BINS += $(MPJAIL_POLICY)
LIBS += $(POLICY_LIB)
UNIT_LINK_LIBS += $(POLICY_LIB)
UNIT_LDLIBS += $(SECCOMP_LIBS)

install-policy: $(MPJAIL_POLICY)
	install -D -m 0755 $(MPJAIL_POLICY) $(DESTDIR)$(BINDIR)/mpjail-policy
	install -d -m 0755 $(DESTDIR)$(DATADIR)/policy
	install -m 0644 $(POLICY_FILES) $(DESTDIR)$(DATADIR)/policy/
	install -D -m 0644 man/mpjail-policy.1 $(DESTDIR)$(MANDIR)/man1/mpjail-policy.1
	install -D -m 0644 man/mpjail.policy.5 $(DESTDIR)$(MANDIR)/man5/mpjail.policy.5
INSTALL_TARGETS += install-policy
.PHONY: install-policy
