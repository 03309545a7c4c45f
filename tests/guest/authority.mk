# In-guest programs of the authority and accounting suites
# (tests/guest/21-authority.sh, tests/guest/14-account.sh).
AUTH_GUEST := test_authority test_account
GUEST_BINS += $(AUTH_GUEST:%=$(B)/tests/guest/%)

$(AUTH_GUEST:%=$(B)/tests/guest/%): $(B)/tests/guest/%: \
		$(B)/tests/guest/%.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LIBRDMIG_LIBS) -lcmocka
