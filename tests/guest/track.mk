# The tracking-on race test (tests/guest/16-track-race.sh).
GUEST_BINS += $(B)/tests/guest/test_track_race

$(B)/tests/guest/test_track_race: $(B)/tests/guest/test_track_race.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lpthread
