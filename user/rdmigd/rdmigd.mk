# rdmigd: the migration agent (see Documentation/protocol.md, control.md).
RDMIGD_SRCS := main.c log.c wire.c chunks.c region.c cm.c rdma_msg.c channel.c engine.c qmp.c \
	       source.c dest.c pinpool.c auth.c auth_conn.c
RDMIGD_OBJS := $(addprefix $(B)/user/rdmigd/,$(RDMIGD_SRCS:.c=.o))
CRYPTO_LIBS := $(shell pkg-config --libs libcrypto 2>/dev/null || echo -lcrypto)
RDMIGD_LIBS := -lrdmacm -libverbs -ljson-c -lpthread $(CRYPTO_LIBS)

USER_BINS += $(B)/rdmigd
$(B)/rdmigd: $(RDMIGD_OBJS) $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(RDMIGD_LIBS) $(LIBRDMIG_LIBS)
