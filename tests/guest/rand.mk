# The seeded random kernel-interface tester (tests/guest/15-random.sh):
# ioctls, netlink (libnl-genl), mappings, files, forks and RDMA pins
# against rdmig.ko from several threads and processes.
GUEST_BINS += $(B)/tests/guest/rand_kiface

$(B)/tests/guest/rand_kiface: $(B)/tests/guest/rand_kiface.o
	@mkdir -p $(dir $@)
	$(CC) -pthread -o $@ $^ $(NL_LIBS) -libverbs
