# The capture module (src/capture, docs/capture.md): a PKCS#11 module built
# from src/capture/*.c and the common layer only. It never links the HSM
# layer ($(HSM_LIB)): nothing that touches a real key may be reachable from
# a build node. Only C_GetFunctionList is exported (exports.map), and only
# OpenSSL, jansson and pthreads are linked: not libgit2 or p11-kit, which
# would drag config parsers and module loaders into every client.

# The Makefile includes this fragment before its 'all' rule: keep 'all' the
# default goal.
.DEFAULT_GOAL := all

CAPTURE_SRC := $(wildcard src/capture/*.c)
CAPTURE_OBJ = $(call obj,$(CAPTURE_SRC))
CAPTURE_SO = $(BUILD)/libmock_pkcs11.so
CAPTURE_ALIAS = $(BUILD)/librombsr-capture.so
CAPTURE_LIBS := $(shell pkg-config --libs jansson libcrypto) -lpthread

$(CAPTURE_OBJ): CFLAGS += -fvisibility=hidden

$(CAPTURE_SO): $(CAPTURE_OBJ) $(COMMON_LIB) src/capture/exports.map
	$(CC) $(LDFLAGS) -shared -fvisibility=hidden -Wl,--version-script=src/capture/exports.map \
		-Wl,--no-undefined -Wl,-soname,libmock_pkcs11.so -o $@ $(CAPTURE_OBJ) $(COMMON_LIB) $(CAPTURE_LIBS)
	ln -sf libmock_pkcs11.so $(CAPTURE_ALIAS)

capture: $(CAPTURE_SO)

install-capture: $(CAPTURE_SO)
	install -d $(DESTDIR)$(PREFIX)/lib/rombsr
	install -m 0644 $(CAPTURE_SO) $(DESTDIR)$(PREFIX)/lib/rombsr/libmock_pkcs11.so
	ln -sf libmock_pkcs11.so $(DESTDIR)$(PREFIX)/lib/rombsr/librombsr-capture.so

.PHONY: capture install-capture
