# remote/: mpjail-lsi. Built strict (-Wconversion, trapping bounds checks)
# and linked -static-pie against libc alone, so its sandbox root can be
# empty. Everything but main.c also goes into an archive the unit tests use.
REMOTE_SRCS := $(filter-out remote/main.c,$(wildcard remote/*.c))
REMOTE_OBJS := $(REMOTE_SRCS:%.c=$(O)/strict/%.o)
REMOTE_LIB := $(O)/lib/libremote.a
MPJAIL_LSI := $(O)/bin/mpjail-lsi
ALL_OBJS += $(REMOTE_OBJS) $(O)/strict/remote/main.o

$(REMOTE_LIB): $(REMOTE_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(MPJAIL_LSI): $(O)/strict/remote/main.o $(REMOTE_LIB) $(WIRE_STRICT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(REMOTE_LINK) $(LDFLAGS_HARD) -o $@ $(O)/strict/remote/main.o \
		$(REMOTE_LIB) $(WIRE_STRICT_OBJS)

BINS += $(MPJAIL_LSI)
LIBS += $(REMOTE_LIB)

install-remote: $(MPJAIL_LSI)
	install -D -m 0755 $(MPJAIL_LSI) $(DESTDIR)$(LIBEXECDIR)/mpjail-lsi
	install -D -m 0644 man/mpjail-lsi.8 $(DESTDIR)$(MANDIR)/man8/mpjail-lsi.8
INSTALL_TARGETS += install-remote
.PHONY: install-remote
