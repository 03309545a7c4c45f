# Host unit tests: cmocka programs, built with ASan and UBSan. A component
# adds its own: TEST_BINS += $(B)/tests/unit/test_x, with a rule that links
# the test's object with the sanitized objects it exercises.
UNIT_LIBS := -lcmocka

TEST_BINS += $(B)/tests/unit/test_uapi
$(B)/tests/unit/test_uapi: $(B)/san/tests/unit/test_uapi.o
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(UNIT_LIBS)
