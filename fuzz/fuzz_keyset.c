/* The key-set file (docs/formats/keyset.md): read by every program whose
 * configuration names one, before anything else. What the parser accepts
 * must hold the rules the rest of ROMbsr relies on without checking again:
 * labels allowed and unique (their file names too), a known algorithm, the
 * audit key alone in its authority. Read from a file, as keyset.file is. */
#include "util.h"

#include "../src/common/error.h"
#include "../src/common/keyset.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const struct rombsr_keyset *ks, size_t i)
{
	const struct rombsr_keyset_entry *e = &ks->entries[i];
	char file[ROMBSR_KEYSET_LABEL_MAX + 1], other[ROMBSR_KEYSET_LABEL_MAX + 1];

	fuzz_check(rombsr_keyset_label_ok(e->label), "keyset: a label not allowed was accepted");
	fuzz_check(strchr(e->label, '+') == NULL && strstr(e->label, "..") == NULL && e->label[0] != '.',
		   "keyset: a label that could leave its folder was accepted");
	fuzz_check(rombsr_keyset_lookup(ks, e->label) == e, "keyset: a label found at another key");
	fuzz_check((e->kind == ROMBSR_KEY_RSA && (e->bits == 2048 || e->bits == 4096)) ||
			   (e->kind == ROMBSR_KEY_EC_P256 && e->bits == 256) ||
			   (e->kind == ROMBSR_KEY_EC_P384 && e->bits == 384),
		   "keyset: an algorithm outside the supported ones");
	fuzz_check(e->authority < ROMBSR_AUTHORITY_COUNT, "keyset: an unknown authority");
	fuzz_check((e->authority == ROMBSR_AUTHORITY_AUDIT) == (strcmp(e->label, "audit") == 0),
		   "keyset: the audit key outside the audit authority, or another key in it");
	rombsr_keyset_label_file(e->label, file);
	for (size_t j = 0; j < i; j++) {
		rombsr_keyset_label_file(ks->entries[j].label, other);
		fuzz_check(strcmp(file, other) != 0, "keyset: two labels map to one file");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rombsr_keyset ks;
	int r = rombsr_keyset_load_file(fuzz_write("keyset.json", data, size), &ks);

	if (r < 0) {
		fuzz_check(ks.entries == NULL && ks.len == 0, "keyset: a refused file left keys loaded");
		rombsr_error_clear();
		return 0;
	}
	fuzz_check(ks.len > 0 && ks.len <= ROMBSR_KEYSET_MAX_KEYS, "keyset: key count out of bounds");
	for (size_t i = 0; i < ks.len; i++)
		check_entry(&ks, i);
	rombsr_keyset_free(&ks);
	return 0;
}
