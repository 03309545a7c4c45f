# Programs of the migration suites (tests/guest/4*.sh).
GUEST_BINS += $(B)/tests/guest/mig_badpeer
$(B)/tests/guest/mig_badpeer: $(B)/tests/guest/mig_badpeer.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lrdmacm -libverbs
