# rdmig-vmm, the reference VMM. It needs librdmig (user/lib/lib.mk sets
# LIBRDMIG); until that is there, only its host-testable parts build (see
# tests/unit/vmm.mk).
VMM_SRCS := $(wildcard user/vmm/*.c)
VMM_OBJS := $(patsubst %.c,$(B)/%.o,$(VMM_SRCS))
VMM_LIBS := -ljson-c -lxxhash -lpthread

ifdef LIBRDMIG
USER_BINS += $(B)/rdmig-vmm
$(B)/rdmig-vmm: $(VMM_OBJS) $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(VMM_OBJS) $(LIBRDMIG) $(LIBRDMIG_LIBS) $(NL_LIBS) $(VMM_LIBS)
endif
