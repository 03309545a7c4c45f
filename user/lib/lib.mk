# librdmig: the C API (ioctl wrappers, the libnl-genl-3 client and the
# client of rdmigd's QMP control channel, with json-c).
# Other fragments link $(LIBRDMIG) $(LIBRDMIG_LIBS) (the static archive,
# so the in-tree programs and tests need no LD_LIBRARY_PATH); host unit
# tests link the sanitized objects $(LIBRDMIG_SAN_OBJS) instead. The
# shared object (built -fPIC, soname librdmig.so.$(LIBRDMIG_SOVERSION)) and
# rdmig.pc are what `make install` and the Debian packages ship.
LIBRDMIG_VERSION := 0.1.0
LIBRDMIG_SOVERSION := 0
LIBRDMIG_SRCS := $(sort $(wildcard user/lib/*.c))
LIBRDMIG_OBJS := $(LIBRDMIG_SRCS:%.c=$(B)/%.o)
LIBRDMIG_PIC_OBJS := $(LIBRDMIG_SRCS:%.c=$(B)/pic/%.o)
LIBRDMIG_SAN_OBJS := $(LIBRDMIG_SRCS:%.c=$(B)/san/%.o)
LIBRDMIG := $(B)/user/lib/librdmig.a
LIBRDMIG_SONAME := librdmig.so.$(LIBRDMIG_SOVERSION)
LIBRDMIG_SO := $(B)/user/lib/librdmig.so.$(LIBRDMIG_VERSION)
LIBRDMIG_PC := $(B)/user/lib/rdmig.pc
LIBRDMIG_LIBS := $(NL_LIBS) -ljson-c

USER_BINS += $(LIBRDMIG) $(LIBRDMIG_SO) $(LIBRDMIG_PC)

$(B)/user/lib/version.o $(B)/pic/user/lib/version.o $(B)/san/user/lib/version.o: \
	CFLAGS += -DLIBRDMIG_VERSION='"$(LIBRDMIG_VERSION)"'

$(LIBRDMIG): $(LIBRDMIG_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(NL_CFLAGS) -fPIC -MMD -MP -c -o $@ $<

# Only rdmig_* is exported (every public function has that prefix).
$(LIBRDMIG_SO): $(LIBRDMIG_PIC_OBJS) user/lib/librdmig.map
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(LIBRDMIG_SONAME) \
		-Wl,--version-script=user/lib/librdmig.map -Wl,--no-undefined \
		-o $@ $(LIBRDMIG_PIC_OBJS) $(LIBRDMIG_LIBS)
	ln -sf $(notdir $@) $(B)/user/lib/$(LIBRDMIG_SONAME)
	ln -sf $(LIBRDMIG_SONAME) $(B)/user/lib/librdmig.so

# rdmig.pc for the installed paths (PREFIX, LIBDIR, INCLUDEDIR from the
# top Makefile; `make install` rebuilds it when they change).
$(LIBRDMIG_PC): user/lib/rdmig.pc.in $(B)/install-dirs
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' \
	    -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
	    -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' \
	    -e 's|@VERSION@|$(LIBRDMIG_VERSION)|' $< >$@

install-lib: $(LIBRDMIG) $(LIBRDMIG_SO) $(LIBRDMIG_PC)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)/rdmig/linux
	install -m 0644 $(LIBRDMIG_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIBRDMIG_SO)) $(DESTDIR)$(LIBDIR)/$(LIBRDMIG_SONAME)
	ln -sf $(LIBRDMIG_SONAME) $(DESTDIR)$(LIBDIR)/librdmig.so
	install -m 0644 $(LIBRDMIG) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(LIBRDMIG_PC) $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 user/include/rdmig/librdmig.h $(DESTDIR)$(INCLUDEDIR)/rdmig/
	install -m 0644 include/uapi/linux/rdmig.h $(DESTDIR)$(INCLUDEDIR)/rdmig/linux/
