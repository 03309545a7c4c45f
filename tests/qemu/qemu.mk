# The QEMU test guest (tests/qemu/abtest.S, GNU as + ld + objcopy into a raw
# boot-sector disk image) and the abtest checker the QEMU suites run.
QEMU_IMGS := $(B)/qemu/abtest.img $(B)/qemu/idle.img
GUEST_BINS += $(QEMU_IMGS) $(B)/tests/qemu/abtest_check $(B)/tests/qemu/qemu_hmp

$(B)/qemu/%.o: tests/qemu/abtest.S
	@mkdir -p $(dir $@)
	$(CC) -E -P -x assembler-with-cpp $(if $(filter idle,$*),-DIDLE) -o $(@:.o=.s) $<
	as --32 -o $@ $(@:.o=.s)

# One 512-byte sector, linked at 0x7c00 where the BIOS loads it (as fails
# if the code overruns .org 0x1f0; the size check catches the rest), then
# padded (sparse) to a 1.44 MB floppy, the size that gives its geometry.
$(B)/qemu/%.img: $(B)/qemu/%.o
	ld -m elf_i386 -Ttext=0x7c00 -e _start -o $(@:.img=.elf) $<
	objcopy -O binary -j .text $(@:.img=.elf) $@
	@[ "$$(stat -c %s $@)" = 512 ] || { echo "$@: not one 512-byte sector" >&2; rm -f $@; exit 1; }
	truncate -s 1474560 $@

$(B)/tests/qemu/abtest_check: $(B)/tests/qemu/abtest_check.o $(B)/user/vmm/abtest.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -ljson-c

# One HMP command over QMP, for the check at resume (qemu_hmp.c says why C).
$(B)/tests/qemu/qemu_hmp: $(B)/tests/qemu/qemu_hmp.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ -ljson-c

.PRECIOUS: $(B)/qemu/%.o
