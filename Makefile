# rdmig top-level build. `make` builds kmod/rdmig.ko and the userspace
# programs; `make check` installs what is missing, builds and runs every
# test (host and guest); `make demo` runs the main job in the test guest
# (QEMU migrated by rdmig-qemu), `make demo-vmm` the reference VMM's.
# `make install` (PREFIX, DESTDIR) and `make deb` install and package it
# (Documentation/install.md); `make fresh-check` runs demo and check in a
# fresh Debian 12 chroot (Documentation/testing.md); `make fuzz` runs each
# libFuzzer harness FUZZ_SECONDS (Documentation/testing.md, "Fuzzing").
#
# Userspace is one non-recursive make: each component adds its targets in
# a fragment (user/*/*.mk, tests/*/*.mk) included below.

KVER ?= $(shell scripts/kver.sh 2>/dev/null)
KDIR ?= /lib/modules/$(KVER)/build
B := build

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	  -Wstrict-prototypes -Wmissing-prototypes -Iinclude/uapi -Iuser/include
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
# The agents the hostile-peer suite attacks (build/asan/, tests/guest/hostile.mk):
# any undefined behaviour ends the program.
AGENT_SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		   -fno-omit-frame-pointer

# `make install` paths, as packagers expect (DESTDIR is prepended to all).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
# udev reads rules only from /lib/udev/rules.d and /etc/udev/rules.d.
UDEVRULESDIR ?= /lib/udev/rules.d
# rdmig.pc records the paths: rebuilt when they change.
$(shell mkdir -p $(B); d='$(PREFIX):$(LIBDIR):$(INCLUDEDIR)'; \
	[ "$$(cat $(B)/install-dirs 2>/dev/null)" = "$$d" ] || echo "$$d" >$(B)/install-dirs)

.PHONY: all module user clean check demo demo-vmm deps checkpatch fresh-check \
	install install-lib deb progs fuzz bench
all: module user

deps:
	@scripts/install-deps.sh

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 KCFLAGS=-Werror modules

USER_BINS :=
TEST_BINS :=
GUEST_BINS :=
include $(sort $(wildcard user/*/*.mk))
include $(sort $(wildcard tests/*/*.mk))

user: $(USER_BINS) $(GUEST_BINS) $(TEST_BINS)

# What `make install` ships (no tests, no module): the Debian build uses it.
progs: $(B)/rdmigd $(B)/rdmigctl $(B)/rdmig-vmm $(B)/rdmig-qemu $(LIBRDMIG) $(LIBRDMIG_SO) $(LIBRDMIG_PC)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(NL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(NL_CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

$(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 $(NL_CFLAGS) $(AGENT_SAN_FLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(B) -path $(B)/deb -prune -o -type f -name '*.d' -print 2>/dev/null)

check:
	@scripts/install-deps.sh
	@scripts/fetch-qemu-qmp.sh
	@$(MAKE) --no-print-directory all
	@tests/run.sh

# demo: QEMU itself migrated by rdmig-qemu; demo-vmm: the reference VMM.
# Neither needs QEMU's Python QMP library (rdmig-qemu and the demo speak
# QMP themselves); only tests/guest/31-qmp does, so check fetches it.
demo:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh qemu

demo-vmm:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh vmm

# bench: every migration transport side by side in one test guest
# (Documentation/bench.md); results in bench-results/.
bench:
	@scripts/install-deps.sh --bench
	@scripts/fetch-qemu-qmp.sh
	@$(MAKE) --no-print-directory all
	@bench/run.sh $(BENCH_CASES)

checkpatch:
	@scripts/checkpatch.sh

# rdmigd into sbin; rdmigctl, rdmig-vmm and rdmig-qemu into bin; librdmig (shared and
# static), rdmig.pc and the headers; man pages; the udev rule for
# /dev/rdmig (group rdmig, mode 0660: see Documentation/install.md). The
# module itself installs through DKMS (dkms.conf) or `make module`.
install: install-lib $(B)/rdmigd $(B)/rdmigctl $(B)/rdmig-vmm $(B)/rdmig-qemu
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UDEVRULESDIR)
	install -m 0755 $(B)/rdmigd $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(B)/rdmigctl $(B)/rdmig-vmm $(B)/rdmig-qemu $(DESTDIR)$(BINDIR)/
	install -m 0644 Documentation/rdmigd.8 Documentation/rdmigctl.8 \
		$(DESTDIR)$(MANDIR)/man8/
	install -m 0644 Documentation/rdmig-vmm.1 user/qemu/rdmig-qemu.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 udev/60-rdmig.rules $(DESTDIR)$(UDEVRULESDIR)/

# Debian packages (rdmig-dkms, rdmig-tools, librdmig0, librdmig-dev) into
# build/deb/, built by dpkg-buildpackage from a copy of the tree.
deb:
	@scripts/build-deb.sh

# Each fuzz harness for FUZZ_SECONDS (FUZZ_HARNESSES: a subset), growing
# its corpus in build/fuzz/corpus; results and crashing inputs in
# results/fuzz-long/ (tests/fuzz/run.sh).
FUZZ_SECONDS ?= 300
fuzz:
	@tests/fuzz/run.sh -t $(FUZZ_SECONDS) -o results/fuzz-long -c $(B)/fuzz/corpus $(FUZZ_HARNESSES)

# The quick start on a fresh Debian 12 chroot (root, network, ~20 min).
fresh-check:
	@scripts/fresh-check.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	rm -rf $(B)
