# rdmig-qemu's throttle schedule and cpu.max formatting (user/qemu/throttle.c).
TEST_BINS += $(B)/tests/unit/test_throttle
$(B)/tests/unit/test_throttle: $(B)/san/tests/unit/test_throttle.o $(B)/san/user/qemu/throttle.o \
		$(B)/san/user/lib/util.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS)
