# Fuzz harnesses (fuzz/fuzz_<name>.c, docs/fuzzing.md), built two ways:
#
#  - in every build (make, make SANITIZE=1) with the normal compiler as
#    $(BUILD)/fuzz/replay_<name>: the harness with fuzz/replay_main.c, which
#    runs it on files, so tests/run replays the corpora under the sanitizers
#    without clang or libFuzzer;
#  - by `make fuzz` with clang and libFuzzer into build-fuzz/fuzz/fuzz_<name>
#    (make FUZZ=1 sets the compiler and flags; see the Makefile).
#
# Included by the Makefile after capture.mk: the capture harnesses link the
# module's objects directly, so its code is instrumented and under ASan.

FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_UTIL_OBJ = $(BUILD)/obj/fuzz/util.o
REPLAY_BINS = $(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_NAMES))
FUZZ_BINS = $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))

# Objects first, then the libraries in link order, whatever order make
# collected the prerequisites in.
FUZZ_LINK = $(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

$(BUILD)/fuzz/replay_%: $(BUILD)/obj/fuzz/fuzz_%.o $(BUILD)/obj/fuzz/replay_main.o $(FUZZ_UTIL_OBJ) $(LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(FUZZ_LINK)

$(BUILD)/fuzz/fuzz_%: $(BUILD)/obj/fuzz/fuzz_%.o $(FUZZ_UTIL_OBJ) $(LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(FUZZ_LINK) -fsanitize=fuzzer

$(patsubst %,$(BUILD)/fuzz/%_capture_api,replay fuzz) $(patsubst %,$(BUILD)/fuzz/%_capture_config,replay fuzz): $(CAPTURE_OBJ)

ifeq ($(FUZZ),1)
fuzz-bins: $(FUZZ_BINS)
else
# clang builds its own tree; the gcc builds are not touched.
fuzz:
	$(MAKE) FUZZ=1 fuzz-bins
endif

.PHONY: fuzz fuzz-bins

# The custody formats live in the sign node's program (src/node/); the
# share parser's file holds libgfshare's calls too.
CUSTODY_FUZZ = $(patsubst %,$(BUILD)/fuzz/%_wrap_key_share,replay fuzz) $(patsubst %,$(BUILD)/fuzz/%_backup_manifest,replay fuzz)
$(patsubst %,$(BUILD)/fuzz/%_wrap_key_share,replay fuzz): $(call obj,src/node/share.c)
$(patsubst %,$(BUILD)/fuzz/%_backup_manifest,replay fuzz): $(call obj,src/node/backup_manifest.c)
$(CUSTODY_FUZZ): LDLIBS += -lgfshare

# The YubiHSM 2 emulator (src/yubihsm_emu/): its device and state code,
# without the HTTP server and main.
YH_EMU_FUZZ_OBJ = $(call obj,$(filter-out src/yubihsm_emu/main.c src/yubihsm_emu/http.c,$(YH_EMU_SRC)))
$(patsubst %,$(BUILD)/fuzz/%_yubihsm_emu_api,replay fuzz) $(patsubst %,$(BUILD)/fuzz/%_yubihsm_emu_state,replay fuzz): $(YH_EMU_FUZZ_OBJ)
