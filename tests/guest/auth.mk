# The impostor source of the authentication suite (tests/guest/44-auth.sh).
GUEST_BINS += $(B)/tests/guest/auth_peer
$(B)/tests/guest/auth_peer: $(B)/tests/guest/auth_peer.o $(B)/user/rdmigd/wire.o $(B)/user/rdmigd/auth.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lrdmacm -libverbs $(CRYPTO_LIBS)
