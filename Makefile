# ROMbsr build. `make` builds into build/; `make SANITIZE=1` builds with
# AddressSanitizer and UBSan into build-asan/. `make check` runs every test.
# `make fuzz` builds the libFuzzer harnesses with clang into build-fuzz/
# (docs/fuzzing.md).

SANITIZE ?= 0
FUZZ ?= 0
ifeq ($(FUZZ),1)
BUILD ?= build-fuzz
CC = clang
SAN_FLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SANITIZE),1)
BUILD ?= build-asan
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD ?= build
SAN_FLAGS =
endif

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS = p11-kit-1 libgit2 jansson openssl gpgme
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS))
# The client links no PKCS#11 library (docs/sign-node.md, "Privilege separation").
CLIENT_PKG_LIBS := $(shell pkg-config --libs libgit2 jansson openssl gpgme)
# The build side's signing tools link no GnuPG (libgit2 reads the configuration).
ARTIFACT_PKG_LIBS := $(shell pkg-config --libs p11-kit-1 libgit2 jansson openssl)
P11_HEADER := $(shell pkg-config --variable=includedir p11-kit-1)/p11-kit-1/p11-kit/pkcs11.h

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-Wstrict-prototypes -Wmissing-prototypes -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	-fPIC $(SAN_FLAGS) $(PKG_CFLAGS) -I$(BUILD)/gen
LDFLAGS += $(SAN_FLAGS) -Wl,-z,relro,-z,now
# The sign node's worker alone speaks to the journal (src/sign/sign_log.c)
# and serves metrics over HTTP (src/sign/metrics_http.c): docs/metrics.md;
# the signing server speaks HTTPS through libmicrohttpd and GnuTLS (src/sign/server_http.c): docs/server.md.
SIGN_PKGS = libsystemd libmicrohttpd gnutls
SIGN_PKG_LIBS := $(shell pkg-config --libs $(SIGN_PKGS))
CFLAGS += $(shell pkg-config --cflags $(SIGN_PKGS))
# The native YubiHSM 2 client (src/yubihsm/) speaks to the connector over
# HTTP through libcurl: the signer, the provisioning commands, the tests.
CURL_LIBS := $(shell pkg-config --libs libcurl)
CFLAGS += $(shell pkg-config --cflags libcurl)
LDLIBS = $(PKG_LIBS) $(SIGN_PKG_LIBS) $(CURL_LIBS) -ldl -lpthread
# The signer links neither.
SIGNER_LDLIBS = $(PKG_LIBS) $(CURL_LIBS) -ldl -lpthread

COMMON_SRC := $(wildcard src/common/*.c)
HSM_SRC := $(wildcard src/hsm/*.c)
# The native YubiHSM 2 client: connector, SCP03 sessions, commands.
YUBIHSM_SRC := $(wildcard src/yubihsm/*.c)
AUDIT_SRC := $(wildcard src/audit/*.c)
QUEUE_SRC := $(wildcard src/queue/*.c)
BUILD_SRC := $(wildcard src/build/*.c)
SIGN_SRC := $(wildcard src/sign/*.c)
# The AVB 2.0 formats (docs/avb.md): vbmeta, footers, hash trees, chains.
AVB_SRC := $(wildcard src/avb/*.c)
# The release manifest and its DSSE envelope (docs/formats/release-manifest.md).
MANIFEST_SRC := $(wildcard src/manifest/*.c)
# The OTA package's whole-file signature (docs/ota.md).
OTA_SRC := $(wildcard src/ota/*.c)
# The build side's own PKCS#11 client (one key by URI) for rombsr-artifact.
P11CLIENT_SRC := $(wildcard src/p11client/*.c)
# rombsr-artifact: the build-side tools that sign through PKCS#11.
ARTIFACT_SRC := $(wildcard src/artifact/*.c)
# The signer's protocol, which the worker speaks too.
PROTO_SRC := src/signer/channel.c src/signer/opcheck.c
SIGNER_SRC := $(filter-out $(PROTO_SRC) src/signer/main.c,$(wildcard src/signer/*.c))
# Shared by both command-line programs.
CLI_CORE_SRC := src/cli/options.c src/cli/context.c src/cli/dispatch.c src/cli/authority_select.c
CLIENT_SRC := $(filter-out $(CLI_CORE_SRC),$(wildcard src/cli/*.c))
NODE_SRC := $(wildcard src/node/*.c)
# The YubiHSM 2 emulator (docs/yubihsm-emulator.md): rehearsals and tests only.
YH_EMU_SRC := $(wildcard src/yubihsm_emu/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
BENCH_SRC := $(wildcard bench/*.c)

# V=1 shows the full commands.
V ?= 0
ifeq ($(V),1)
Q =
else
Q = @
endif

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

COMMON_LIB = $(BUILD)/librombsr-common.a
HSM_LIB = $(BUILD)/librombsr-hsm.a
YUBIHSM_LIB = $(BUILD)/librombsr-yubihsm.a
AUDIT_LIB = $(BUILD)/librombsr-audit.a
QUEUE_LIB = $(BUILD)/librombsr-queue.a
BUILD_LIB = $(BUILD)/librombsr-build.a
SIGN_LIB = $(BUILD)/librombsr-sign.a
AVB_LIB = $(BUILD)/librombsr-avb.a
MANIFEST_LIB = $(BUILD)/librombsr-manifest.a
OTA_LIB = $(BUILD)/librombsr-ota.a
SIGNER_LIB = $(BUILD)/librombsr-signer.a
PROTO_LIB = $(BUILD)/librombsr-proto.a
CLI_LIB = $(BUILD)/librombsr-cli.a
P11CLIENT_LIB = $(BUILD)/librombsr-p11client.a
# Tests, tools and benches link all of these; the order is the link order.
LIBS = $(SIGN_LIB) $(SIGNER_LIB) $(PROTO_LIB) $(BUILD_LIB) $(QUEUE_LIB) $(AUDIT_LIB) $(HSM_LIB) $(YUBIHSM_LIB) $(AVB_LIB) $(MANIFEST_LIB) $(OTA_LIB) $(P11CLIENT_LIB) $(COMMON_LIB)
# The programs, one per side of the trust boundary: the client (build
# nodes, operators, auditors), the sign node, and its signer.
CLIENT_LIBS = $(CLI_LIB) $(BUILD_LIB) $(QUEUE_LIB) $(AUDIT_LIB) $(AVB_LIB) $(OTA_LIB) $(COMMON_LIB)
NODE_LIBS = $(CLI_LIB) $(SIGN_LIB) $(PROTO_LIB) $(QUEUE_LIB) $(AUDIT_LIB) $(HSM_LIB) $(YUBIHSM_LIB) $(AVB_LIB) $(COMMON_LIB)
SIGNER_LIBS = $(SIGNER_LIB) $(PROTO_LIB) $(BUILD_LIB) $(AUDIT_LIB) $(HSM_LIB) $(YUBIHSM_LIB) $(COMMON_LIB)
# The build side's signing tools: formats and a PKCS#11 client, no queue.
ARTIFACT_LIBS = $(CLI_LIB) $(AVB_LIB) $(MANIFEST_LIB) $(OTA_LIB) $(P11CLIENT_LIB) $(COMMON_LIB)
ROMBSR = $(BUILD)/rombsr
ROMBSR_ARTIFACT = $(BUILD)/rombsr-artifact
ROMBSR_AVB_HELPER = $(BUILD)/rombsr-avb-signing-helper
ROMBSR_SIGN = $(BUILD)/rombsr-sign
ROMBSR_SIGNER = $(BUILD)/rombsr-signer
ROMBSR_YH_EMU = $(BUILD)/rombsr-yubihsm-emu
UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_BINS = $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
BENCH_BINS = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

-include src/capture/capture.mk
-include tests/p11-fault/p11-fault.mk
-include fuzz/fuzz.mk

all: $(ROMBSR) $(ROMBSR_ARTIFACT) $(ROMBSR_AVB_HELPER) $(ROMBSR_SIGN) $(ROMBSR_SIGNER) $(ROMBSR_YH_EMU) $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS) $(CAPTURE_SO) $(P11_FAULT_SO) $(REPLAY_BINS)

$(BUILD)/gen/p11_names.inc: scripts/gen-p11-names.sh $(P11_HEADER)
	@mkdir -p $(dir $@)
	sh scripts/gen-p11-names.sh $(P11_HEADER) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/src/common/ckr_name.o: $(BUILD)/gen/p11_names.inc

$(BUILD)/gen/keyset_default.inc: scripts/gen-keyset-default.sh src/common/keyset_default.json
	@mkdir -p $(dir $@)
	sh scripts/gen-keyset-default.sh src/common/keyset_default.json > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/src/common/keyset.o: $(BUILD)/gen/keyset_default.inc

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	$(Q)$(AR) rcs $@ $^

$(HSM_LIB): $(call obj,$(HSM_SRC))
	$(Q)$(AR) rcs $@ $^

$(YUBIHSM_LIB): $(call obj,$(YUBIHSM_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(AUDIT_LIB): $(call obj,$(AUDIT_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(QUEUE_LIB): $(call obj,$(QUEUE_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD_LIB): $(call obj,$(BUILD_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(SIGN_LIB): $(call obj,$(SIGN_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(AVB_LIB): $(call obj,$(AVB_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(MANIFEST_LIB): $(call obj,$(MANIFEST_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OTA_LIB): $(call obj,$(OTA_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(SIGNER_LIB): $(call obj,$(SIGNER_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(PROTO_LIB): $(call obj,$(PROTO_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(CLI_LIB): $(call obj,$(CLI_CORE_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(P11CLIENT_LIB): $(call obj,$(P11CLIENT_SRC))
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(ROMBSR_ARTIFACT): $(call obj,$(ARTIFACT_SRC)) $(ARTIFACT_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(ARTIFACT_PKG_LIBS) -lpthread

$(ROMBSR_AVB_HELPER): $(call obj,src/avb_helper/main.c) $(AVB_LIB) $(P11CLIENT_LIB) $(COMMON_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(ARTIFACT_PKG_LIBS) -lpthread

$(ROMBSR): $(call obj,$(CLIENT_SRC)) $(CLIENT_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CLIENT_PKG_LIBS) -lpthread

# libgfshare (the wrap key's Shamir shares) only in the sign node's program.
$(ROMBSR_SIGN): $(call obj,$(NODE_SRC)) $(NODE_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lgfshare

$(ROMBSR_SIGNER): $(call obj,src/signer/main.c) $(SIGNER_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(SIGNER_LDLIBS)

# The emulator links the common library and the loopback listener only.
$(ROMBSR_YH_EMU): $(call obj,$(YH_EMU_SRC) src/sign/listen_addr.c) $(COMMON_LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libmicrohttpd jansson openssl) -lpthread
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/obj/tests/unit/tap.o $(LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The share format lives in the sign node's program (src/node/share.c),
# with libgfshare.
$(BUILD)/tests/test_wrap_key_share: $(BUILD)/obj/tests/unit/test_wrap_key_share.o $(BUILD)/obj/tests/unit/tap.o \
		$(call obj,src/node/share.c) $(LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS) -lgfshare

# audit-verify's device-log check lives in the client (src/cli/).
$(BUILD)/tests/test_audit_device: $(BUILD)/obj/tests/unit/test_audit_device.o $(BUILD)/obj/tests/unit/tap.o \
		$(call obj,src/cli/audit_device.c) $(LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

# The backup manifest lives in the sign node's program (src/node/).
$(BUILD)/tests/test_p384: $(BUILD)/obj/tests/unit/test_p384.o $(BUILD)/obj/tests/unit/tap.o \
		$(call obj,src/node/backup_manifest.c) $(LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The signing server's load client speaks HTTPS through libcurl.
$(BUILD)/bench/server_load: $(BUILD)/obj/bench/server_load.o
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libcurl) -lcrypto -lpthread

check: all
	tests/run $(BUILD)

UNITDIR ?= $(PREFIX)/lib/systemd/system

SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d

install: $(ROMBSR) $(ROMBSR_ARTIFACT) $(ROMBSR_AVB_HELPER) $(ROMBSR_SIGN) $(ROMBSR_SIGNER) $(ROMBSR_YH_EMU) install-capture
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR) $(DESTDIR)$(PREFIX)/share/doc/rombsr \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 0755 $(ROMBSR) $(ROMBSR_ARTIFACT) $(ROMBSR_AVB_HELPER) $(ROMBSR_SIGN) $(ROMBSR_SIGNER) $(ROMBSR_YH_EMU) \
		$(DESTDIR)$(PREFIX)/bin/
	sed 's|/usr/local|$(PREFIX)|g' systemd/rombsr-sign.service > $(DESTDIR)$(UNITDIR)/rombsr-sign.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rombsr-sign.service
	# The node with the signing server (docs/server.md): the same unit, serving;
	# the two hold the same state, so each stops the other.
	sed -e 's|/usr/local|$(PREFIX)|g' -e 's|sign --daemon$$|serve|' \
		-e 's|^Description=.*|Description=ROMbsr sign node with the signing server (HTTPS for build nodes)|' \
		-e 's|^After=network-online.target|&\nConflicts=rombsr-sign.service|' \
		systemd/rombsr-sign.service > $(DESTDIR)$(UNITDIR)/rombsr-sign-serve.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/rombsr-sign-serve.service
	install -m 0644 systemd/rombsr.sysusers $(DESTDIR)$(SYSUSERSDIR)/rombsr.conf
	install -m 0644 systemd/rombsr.tmpfiles $(DESTDIR)$(TMPFILESDIR)/rombsr.conf
	install -m 0644 README.md docs/*.md monitoring/rombsr-alerts.yml $(DESTDIR)$(PREFIX)/share/doc/rombsr/

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all check install clean
.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
