# In-guest programs of the netlink suite (tests/guest/20-netlink.sh).
NL_GUEST := test_nl test_nl_dump test_nl_stress test_nl_hold bench_nl_dirty
GUEST_BINS += $(NL_GUEST:%=$(B)/tests/guest/%)

$(NL_GUEST:%=$(B)/tests/guest/%): $(B)/tests/guest/%: \
		$(B)/tests/guest/%.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -pthread -o $@ $^ $(LIBRDMIG_LIBS) -lcmocka
