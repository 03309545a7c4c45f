# Programs the in-guest suites run (tests/guest/*.sh). They test the
# kernel module, so they are built without sanitizers.
GUEST_LIBS := -lcmocka

GUEST_BINS += $(B)/tests/guest/test_base
$(B)/tests/guest/test_base: $(B)/tests/guest/test_base.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(GUEST_LIBS)
