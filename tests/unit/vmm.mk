# rdmig-vmm's pure parts: the abtest checker and the workload/device state.
TEST_BINS += $(B)/tests/unit/test_abtest
$(B)/tests/unit/test_abtest: $(B)/san/tests/unit/test_abtest.o \
		$(B)/san/user/vmm/abtest.o $(B)/san/user/vmm/workload.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS) -ljson-c

# rdmig-vmm's command line (the options the live-migration suite uses).
TEST_BINS += $(B)/tests/unit/test_vmm_opts
$(B)/tests/unit/test_vmm_opts: $(B)/san/tests/unit/test_vmm_opts.o \
		$(B)/san/user/vmm/options.o $(B)/san/user/vmm/workload.o \
		$(B)/san/user/lib/util.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS) -ljson-c
