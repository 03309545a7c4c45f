# Host unit tests of rdmigd's peer authentication (HMAC transcript, secret
# files, allow-list); the HMAC comes from libcrypto.
TEST_BINS += $(B)/tests/unit/test_auth
$(B)/tests/unit/test_auth: $(B)/san/tests/unit/test_auth.o $(B)/san/user/rdmigd/auth.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS) $(CRYPTO_LIBS)
