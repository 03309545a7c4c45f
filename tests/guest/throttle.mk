# The driver of the throttling suite (tests/guest/62-qemu-throttle.sh),
# built with rdmig-qemu's user/qemu/throttle.c (which has no make fragment
# of its own: rdmig-qemu's user/qemu/qemu.mk links it into the program).
GUEST_BINS += $(B)/tests/guest/throttle_drive
$(B)/tests/guest/throttle_drive: $(B)/tests/guest/throttle_drive.o $(B)/user/qemu/throttle.o \
		$(B)/user/lib/util.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -lpthread
