# proxy/: libmpjail-proxy, static and shared, with its pkg-config file.
# Only the public header's proxy_* symbols are exported.
PROXY_SRCS := $(wildcard proxy/*.c)
PROXY_PIC_OBJS := $(PROXY_SRCS:%.c=$(O)/pic/%.o)
PROXY_A := $(O)/lib/libmpjail-proxy.a
PROXY_SONAME := libmpjail-proxy.so.0
PROXY_SO := $(O)/lib/$(PROXY_SONAME)
PROXY_PC := $(O)/lib/mpjail-proxy.pc
MPJAIL_VERSION := 0.1.0
ALL_OBJS += $(PROXY_PIC_OBJS)
EXTRA_CFLAGS_proxy := -Iproxy

$(O)/pic/proxy/%.o: CFLAGS_PIC += -Iproxy

$(PROXY_A): $(PROXY_PIC_OBJS) $(WIRE_PIC_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(PROXY_SO): $(PROXY_PIC_OBJS) $(WIRE_PIC_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,$(PROXY_SONAME) $(LDFLAGS_HARD) -o $@ $^
	ln -sf $(PROXY_SONAME) $(O)/lib/libmpjail-proxy.so

$(PROXY_PC): proxy/mpjail-proxy.pc.in GNUmakefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(MPJAIL_VERSION)|' $< > $@

LIBS += $(PROXY_A) $(PROXY_SO) $(PROXY_PC)

install-proxy: $(PROXY_A) $(PROXY_SO) $(PROXY_PC)
	install -D -m 0644 proxy/mpjail-proxy.h $(DESTDIR)$(INCDIR)/mpjail-proxy.h
	install -D -m 0644 proxy/mpjail-proxy-lsi.h $(DESTDIR)$(INCDIR)/mpjail-proxy-lsi.h
	install -D -m 0644 man/libmpjail-proxy.3 $(DESTDIR)$(MANDIR)/man3/libmpjail-proxy.3
	install -D -m 0644 $(PROXY_A) $(DESTDIR)$(LIBDIR)/libmpjail-proxy.a
	install -D -m 0755 $(PROXY_SO) $(DESTDIR)$(LIBDIR)/$(PROXY_SONAME)
	ln -sf $(PROXY_SONAME) $(DESTDIR)$(LIBDIR)/libmpjail-proxy.so
	@# written at install time: the paths are this install's PREFIX/LIBDIR
	install -d -m 0755 $(DESTDIR)$(PKGCONFIGDIR)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(MPJAIL_VERSION)|' \
	    proxy/mpjail-proxy.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/mpjail-proxy.pc
INSTALL_TARGETS += install-proxy
.PHONY: install-proxy
