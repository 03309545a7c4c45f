# In-guest program of the writers suite (tests/guest/12-writers.sh).
GUEST_BINS += $(B)/tests/guest/test_writers

$(B)/tests/guest/test_writers: $(B)/tests/guest/test_writers.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -pthread -o $@ $^ $(LIBRDMIG_LIBS) -libverbs
