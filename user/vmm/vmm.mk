# rdmig-vmm, the reference VMM. It needs librdmig (user/lib/lib.mk sets
# LIBRDMIG); until that is there, only its host-testable parts build (see
# tests/unit/vmm.mk).
# user/common/agent.c (spawning rdmigd) is shared with rdmig-qemu.
VMM_SRCS := $(wildcard user/vmm/*.c) user/common/agent.c
VMM_OBJS := $(patsubst %.c,$(B)/%.o,$(VMM_SRCS))
VMM_LIBS := -ljson-c -lxxhash -lpthread

ifdef LIBRDMIG
USER_BINS += $(B)/rdmig-vmm
$(B)/rdmig-vmm: $(VMM_OBJS) $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(VMM_OBJS) $(LIBRDMIG) $(LIBRDMIG_LIBS) $(NL_LIBS) $(VMM_LIBS)
endif
