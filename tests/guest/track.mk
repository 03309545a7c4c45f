# The tracking-on race test (16-track-race.sh) and the sparse result (16-dirty-words.sh).
GUEST_BINS += $(B)/tests/guest/test_track_race

$(B)/tests/guest/test_track_race: $(B)/tests/guest/test_track_race.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lpthread

# The sparse get-and-clear result (tests/guest/16-dirty-words.sh).
GUEST_BINS += $(B)/tests/guest/test_dirty_words
$(B)/tests/guest/test_dirty_words: $(B)/tests/guest/test_dirty_words.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LIBRDMIG_LIBS) -lcmocka -lpthread
