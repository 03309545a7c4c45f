# rdmigctl: the operator's CLI over the rdmig generic netlink family.
JSONC_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
JSONC_LIBS := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
RDMIGCTL_OBJS := $(patsubst %.c,$(B)/%.o,$(sort $(wildcard user/rdmigctl/*.c)))

USER_BINS += $(B)/rdmigctl

$(RDMIGCTL_OBJS): CFLAGS += $(JSONC_CFLAGS)

$(B)/rdmigctl: $(RDMIGCTL_OBJS) $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBRDMIG_LIBS) $(JSONC_LIBS)
