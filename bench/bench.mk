# make bench's in-guest helper (bench/modcost.c: the module's costs).
GUEST_BINS += $(B)/bench/modcost

$(B)/bench/modcost: $(B)/bench/modcost.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lpthread
