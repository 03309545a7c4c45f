# In-guest programs of the agent suite (tests/guest/30-agent.sh).
GUEST_BINS += $(B)/tests/guest/agent_mig
$(B)/tests/guest/agent_mig: $(B)/tests/guest/agent_mig.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LIBRDMIG_LIBS) -ljson-c -lpthread

GUEST_BINS += $(B)/tests/guest/agent_peer
$(B)/tests/guest/agent_peer: $(B)/tests/guest/agent_peer.o $(B)/user/rdmigd/wire.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lrdmacm -libverbs

# The "VMM" of the QMP suite (tests/guest/31-qmp.sh).
GUEST_BINS += $(B)/tests/guest/qmp_pair
$(B)/tests/guest/qmp_pair: $(B)/tests/guest/qmp_pair.o $(LIBRDMIG)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LIBRDMIG_LIBS)
