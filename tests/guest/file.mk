# In-guest programs of the region-file suite (tests/guest/13-file.sh):
# reopening, size changes, hole punching, and the unload race.
GUEST_BINS += $(B)/tests/guest/test_file $(B)/tests/guest/file_unload

$(B)/tests/guest/test_file: $(B)/tests/guest/test_file.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lcmocka -libverbs

$(B)/tests/guest/file_unload: $(B)/tests/guest/file_unload.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^
