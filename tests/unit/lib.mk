# Host unit tests of librdmig's and rdmigctl's pure helpers.
TEST_BINS += $(B)/tests/unit/test_nlpieces $(B)/tests/unit/test_rdmigctl_args

$(B)/tests/unit/test_nlpieces: $(B)/san/tests/unit/test_nlpieces.o \
		$(B)/san/user/lib/pieces.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS)

$(B)/tests/unit/test_rdmigctl_args: $(B)/san/tests/unit/test_rdmigctl_args.o \
		$(B)/san/user/rdmigctl/args.o $(B)/san/user/lib/util.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS)

# librdmig's QMP control channel client against a scripted agent.
TEST_BINS += $(B)/tests/unit/test_ctl
$(B)/tests/unit/test_ctl: $(B)/san/tests/unit/test_ctl.o $(B)/san/user/lib/ctl.o \
		$(B)/san/user/lib/util.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS) -ljson-c
