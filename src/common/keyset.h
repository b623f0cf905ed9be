/* The key set: which keys exist, of which algorithm and authority, as data
 * (docs/formats/keyset.md). The built-in set (src/common/keyset_default.json,
 * embedded at build time) is the default; the configuration key
 * keyset.file names another file, which rombsr_config_load() installs as
 * the current set for the whole process. */
#ifndef ROMBSR_KEYSET_H
#define ROMBSR_KEYSET_H

#include "config.h"
#include "sigalg.h"

#include <stdbool.h>
#include <stddef.h>

#define ROMBSR_KEYSET_FORMAT "rombsr.keyset"
#define ROMBSR_KEYSET_VERSION 1
/* A label is a CKA_LABEL and part of file names: 1 to 64 bytes. */
#define ROMBSR_KEYSET_LABEL_MAX 64
#define ROMBSR_KEYSET_PURPOSE_MAX 200
#define ROMBSR_KEYSET_MAX_KEYS 4096
#define ROMBSR_KEYSET_MAX_BYTES (4u << 20)

struct rombsr_keyset_entry {
	char *label;
	enum rombsr_key_kind kind;
	unsigned bits;                     /* RSA modulus size; EC: the curve's, 256 or 384 */
	enum rombsr_authority_id authority;
	bool development;                  /* never valid for a user/release build */
	char *purpose;
};

struct rombsr_keyset {
	struct rombsr_keyset_entry *entries;
	size_t len;
};

/* Parses a key-set file's text; what names it in errors. On failure
 * nothing is kept (*out is zeroed) and the message names the key. */
int rombsr_keyset_parse(const char *text, size_t len, const char *what, struct rombsr_keyset *out);
int rombsr_keyset_load_file(const char *path, struct rombsr_keyset *out);
/* Accepts NULL and a zeroed or already freed set. */
void rombsr_keyset_free(struct rombsr_keyset *ks);
const struct rombsr_keyset_entry *rombsr_keyset_lookup(const struct rombsr_keyset *ks, const char *label);

/* The set the process works with: the one installed last, else the
 * built-in set. Installed at start-up, before any thread reads it. */
const struct rombsr_keyset *rombsr_keyset_current(void);
/* Loads path (NULL: the built-in set) and makes it current. Entries of
 * the set it replaces are freed: hold none across this call. */
int rombsr_keyset_use_file(const char *path);
/* rombsr_keyset_lookup() in the current set. */
const struct rombsr_keyset_entry *rombsr_keyset_find(const char *label);

/* 1 to 64 of a-z, 0-9, '_', '-', '.', segments separated by '/', each
 * starting with a letter or digit ("devices/walleye/platform"). */
bool rombsr_keyset_label_ok(const char *label);
/* The flat file name a label maps to in bundles and backups: '/' becomes
 * '+', which no label holds, so two labels never share a file and no name
 * leaves its folder ("devices+walleye+platform"). out holds
 * ROMBSR_KEYSET_LABEL_MAX + 1 bytes. */
void rombsr_keyset_label_file(const char *label, char out[ROMBSR_KEYSET_LABEL_MAX + 1]);

/* A retired key (rombsr-sign hsm-rotate-keys): the predecessor of a
 * key-set key, kept in the token under "<label>@<first 16 hex digits of
 * its SPKI SHA-256>" to sign the signing-certificate lineage that names its
 * successor, and nothing else. '@' is not a key-set label character, so a
 * retired label never names a key of the set. */
#define ROMBSR_KEYSET_RETIRED_HEX 16
/* Whether label is a retired label; if so base receives the key-set label. */
bool rombsr_keyset_retired_base(const char *label, char base[ROMBSR_KEYSET_LABEL_MAX + 1]);
/* A key-set label or a retired one (bundles, tokens). */
bool rombsr_keyset_any_label_ok(const char *label);
/* The retired label of label's key whose fingerprint is spki_sha256; false
 * if it would not fit in ROMBSR_KEYSET_LABEL_MAX bytes. */
bool rombsr_keyset_retired_label(const char *label, const char *spki_sha256, char out[ROMBSR_KEYSET_LABEL_MAX + 1]);

/* "rsa-2048", "rsa-4096", "ec-p256", "ec-p384" */
int rombsr_keyset_algorithm_from_name(const char *name, enum rombsr_key_kind *kind, unsigned *bits);

#endif
