# librdmig: the C API (ioctl wrappers, the libnl-genl-3 client and the
# client of rdmigd's QMP control channel, with json-c).
# Other fragments link $(LIBRDMIG) $(LIBRDMIG_LIBS); host unit tests link
# the sanitized objects $(LIBRDMIG_SAN_OBJS) instead.
LIBRDMIG_SRCS := $(sort $(wildcard user/lib/*.c))
LIBRDMIG_OBJS := $(LIBRDMIG_SRCS:%.c=$(B)/%.o)
LIBRDMIG_SAN_OBJS := $(LIBRDMIG_SRCS:%.c=$(B)/san/%.o)
LIBRDMIG := $(B)/user/lib/librdmig.a
LIBRDMIG_LIBS := $(NL_LIBS) -ljson-c

USER_BINS += $(LIBRDMIG)

$(LIBRDMIG): $(LIBRDMIG_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^
