# rdmig top-level build. `make` builds kmod/rdmig.ko and the userspace
# programs; `make check` installs what is missing, builds and runs every
# test (host and guest); `make demo` runs the main job in the test guest.
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

.PHONY: all module user clean check demo deps checkpatch
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

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(NL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(NL_CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(B) -name '*.d' 2>/dev/null)

check:
	@scripts/install-deps.sh
	@scripts/fetch-qemu-qmp.sh
	@$(MAKE) --no-print-directory all
	@tests/run.sh

demo:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

checkpatch:
	@scripts/checkpatch.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean || true
	rm -rf $(B)
