# In-guest programs for rdmig.ko regions (tests/guest/1x-*.sh) and the
# dirty-tracking benchmark (scripts/bench-dirty.sh).
GUEST_BINS += $(B)/tests/guest/test_region $(B)/tests/guest/test_region_stress \
	      $(B)/tests/guest/test_region_pin $(B)/tests/guest/bench_dirty \
	      $(B)/tests/guest/region_hold

# region_util.h reads the pagemap with librdmig's rdmig_pagemap().
$(B)/tests/guest/test_region: $(B)/tests/guest/test_region.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lcmocka

$(B)/tests/guest/test_region_stress: $(B)/tests/guest/test_region_stress.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lpthread

$(B)/tests/guest/test_region_pin: $(B)/tests/guest/test_region_pin.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lcmocka -libverbs

$(B)/tests/guest/bench_dirty: $(B)/tests/guest/bench_dirty.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lpthread

$(B)/tests/guest/region_hold: $(B)/tests/guest/region_hold.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^
