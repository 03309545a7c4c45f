# rdmig-qemu: an unmodified QEMU on rdmig regions, live-migrated with
# rdmigd (Documentation/qemu.md). It links the shared rdmigd spawner
# (user/common/agent.c) and rdmigd's QMP codec (user/rdmigd/qmp.c, with
# wire.c for its parameter checks) for its own control socket.
# user/qemu/throttle.c, when present, is the vCPU throttle (throttle.h).
QEMU_SRCS := $(wildcard user/qemu/*.c)
QEMU_OBJS := $(patsubst %.c,$(B)/%.o,$(QEMU_SRCS)) $(B)/user/common/agent.o \
	$(B)/user/rdmigd/qmp.o $(B)/user/rdmigd/wire.o

$(patsubst %.c,$(B)/%.o,$(QEMU_SRCS)): CFLAGS += -Iuser/rdmigd

ifdef LIBRDMIG
USER_BINS += $(B)/rdmig-qemu
$(B)/rdmig-qemu: $(QEMU_OBJS) $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(QEMU_OBJS) $(LIBRDMIG) $(LIBRDMIG_LIBS) -lpthread
endif
