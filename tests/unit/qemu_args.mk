# rdmig-qemu's QEMU command-line rewriting and its refusals (user/qemu/args.c).
TEST_BINS += $(B)/tests/unit/test_qemu_args
$(B)/tests/unit/test_qemu_args: $(B)/san/tests/unit/test_qemu_args.o $(B)/san/user/qemu/args.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS)
