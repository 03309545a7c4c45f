# Host unit tests of rdmigd's pure parts (wire decoding, chunk bookkeeping).
TEST_BINS += $(B)/tests/unit/test_wire $(B)/tests/unit/test_chunks
$(B)/tests/unit/test_wire: $(B)/san/tests/unit/test_wire.o $(B)/san/user/rdmigd/wire.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS)
$(B)/tests/unit/test_chunks: $(B)/san/tests/unit/test_chunks.o $(B)/san/user/rdmigd/chunks.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS)

# The QMP control channel's line splitter, parser and parameters.
TEST_BINS += $(B)/tests/unit/test_qmp
$(B)/tests/unit/test_qmp: $(B)/san/tests/unit/test_qmp.o $(B)/san/user/rdmigd/qmp.o \
		$(B)/san/user/rdmigd/wire.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS) -ljson-c

# The destination's pin workers, over a stand-in ibv_reg_mr().
TEST_BINS += $(B)/tests/unit/test_pinpool
$(B)/tests/unit/test_pinpool: $(B)/san/tests/unit/test_pinpool.o $(B)/san/user/rdmigd/pinpool.o \
		$(B)/san/user/rdmigd/log.o $(B)/san/user/lib/util.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS) -lpthread
