# libFuzzer harnesses (Documentation/testing.md, "Fuzzing"), built with
# clang and -fsanitize=fuzzer,address,undefined into build/fuzz/fuzz_*.
# Not part of `make` (all): `make fuzz-build` builds them, `make fuzz`
# (FUZZ_SECONDS per harness) and tests/run.sh's fuzz step run them.
# clang is a declared dependency (scripts/install-deps.sh: clang and
# libclang-rt-14-dev); without it the build stops with a message saying so.
FUZZ_CC ?= clang
FUZZ_DIR := $(B)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	       -Wstrict-prototypes -Wmissing-prototypes -Iinclude/uapi -Iuser/include \
	       $(NL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_LDFLAGS := $(FUZZ_SAN) -fsanitize=fuzzer

FUZZ_HARNESSES ?= fuzz_wire fuzz_dest fuzz_source fuzz_qmp fuzz_nl
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZ_HARNESSES))

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

# The compiler is looked for every time; that it links -fsanitize=fuzzer
# (libclang-rt-14-dev) is probed once per compiler.
.PHONY: fuzz-cc
fuzz-cc:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { \
		echo "rdmig: fuzzing needs clang ($(FUZZ_CC) not found): install the Debian packages clang and libclang-rt-14-dev (scripts/install-deps.sh does)" >&2; \
		exit 1; }
	@[ -e $(FUZZ_DIR)/.cc-ok-$(notdir $(FUZZ_CC)) ] || { \
		mkdir -p $(FUZZ_DIR); \
		printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
			>$(FUZZ_DIR)/cc-probe.c; \
		$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $(FUZZ_DIR)/cc-probe $(FUZZ_DIR)/cc-probe.c 2>$(FUZZ_DIR)/cc-probe.log || { \
			sed 's/^/  /' $(FUZZ_DIR)/cc-probe.log >&2; \
			echo "rdmig: $(FUZZ_CC) cannot link -fsanitize=fuzzer,address,undefined: install the Debian package libclang-rt-14-dev (scripts/install-deps.sh does)" >&2; \
			exit 1; }; \
		touch $(FUZZ_DIR)/.cc-ok-$(notdir $(FUZZ_CC)); }

$(FUZZ_DIR)/obj/%.o: %.c | fuzz-cc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

FUZZ_O = $(addprefix $(FUZZ_DIR)/obj/,$(1:.c=.o))

# The wire decoder: every message type, private data, rejects, entries.
$(FUZZ_DIR)/fuzz_wire: $(call FUZZ_O,tests/fuzz/fuzz_wire.c user/rdmigd/wire.c)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^

# The destination's and the source's engines over a fake transport
# (tests/fuzz/fake_transport.c stands in for cm.c, rdma_msg.c,
# auth_conn.c, region.c, channel.c, log.c, the verbs MR calls and the
# librdmig calls they make): no RDMA device, no module.
FUZZ_ENGINE_SRCS := tests/fuzz/fake_transport.c user/rdmigd/dest.c user/rdmigd/pinpool.c user/rdmigd/source.c \
	user/rdmigd/engine.c user/rdmigd/wire.c user/rdmigd/chunks.c user/lib/util.c
$(FUZZ_DIR)/fuzz_dest: $(call FUZZ_O,tests/fuzz/fuzz_dest.c $(FUZZ_ENGINE_SRCS))
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ -ljson-c -lcrypto -lpthread
$(FUZZ_DIR)/fuzz_source: $(call FUZZ_O,tests/fuzz/fuzz_source.c $(FUZZ_ENGINE_SRCS))
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ -ljson-c -lcrypto -lpthread

# The QMP control channel: line reader, command parsing, parameters.
$(FUZZ_DIR)/fuzz_qmp: $(call FUZZ_O,tests/fuzz/fuzz_qmp.c user/rdmigd/qmp.c user/rdmigd/wire.c)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ -ljson-c

# librdmig's netlink reply parsers, fed through libnl's own receive path.
$(FUZZ_DIR)/fuzz_nl: $(call FUZZ_O,tests/fuzz/fuzz_nl.c user/lib/nl.c user/lib/events.c \
		user/lib/pieces.c user/lib/util.c)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(NL_LIBS)
