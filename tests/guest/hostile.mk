# The hostile-peer suite (tests/guest/45-hostile.sh): the peer, and the
# agent it attacks built with ASan and UBSan (undefined behaviour fatal),
# under $(B)/asan/. Built on the host with the rest: the guest sees the
# tree read-only. `make san` builds only the sanitized agent.
GUEST_BINS += $(B)/tests/guest/hostile_peer $(B)/asan/rdmigd
$(B)/tests/guest/hostile_peer: $(B)/tests/guest/hostile_peer.o $(B)/user/rdmigd/wire.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lrdmacm -libverbs $(LIBRDMIG_LIBS)

ASAN_RDMIGD_OBJS := $(addprefix $(B)/asan/user/rdmigd/,$(RDMIGD_SRCS:.c=.o)) \
		    $(LIBRDMIG_SRCS:%.c=$(B)/asan/%.o)
$(B)/asan/user/lib/version.o: CFLAGS += -DLIBRDMIG_VERSION='"$(LIBRDMIG_VERSION)"'
$(B)/asan/rdmigd: $(ASAN_RDMIGD_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_SAN_FLAGS) -o $@ $^ $(RDMIGD_LIBS) $(LIBRDMIG_LIBS)

.PHONY: san
san: $(B)/asan/rdmigd

# A data QP join without the join key (tests/guest/47-qps.sh).
GUEST_BINS += $(B)/tests/guest/join_peer
$(B)/tests/guest/join_peer: $(B)/tests/guest/join_peer.o $(B)/user/rdmigd/wire.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lrdmacm -libverbs $(CRYPTO_LIBS)
