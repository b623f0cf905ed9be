/* The wrapped-key file (docs/formats/wrapped-key.md): read by the signer,
 * the one process that holds an HSM session, for every key kept beyond a
 * token's capacity. What the parser accepts must be a key-set label, a
 * known authority, bounded non-empty blobs; and it must read back what it
 * writes, byte for byte. */
#include "util.h"

#include "../src/common/error.h"
#include "../src/common/wrapped_key.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rombsr_wrapped_key k, again;
	char *text = NULL;
	size_t len = 0;
	int r = rombsr_wrapped_key_parse((const char *)data, size, "wrapped.json", &k);

	if (r < 0) {
		fuzz_check(k.wrapped == NULL && k.certificate == NULL, "wrapped key: a refused file left buffers");
		rombsr_error_clear();
		return 0;
	}
	fuzz_check(rombsr_keyset_label_ok(k.label), "wrapped key: a label not allowed was accepted");
	fuzz_check(k.authority < ROMBSR_AUTHORITY_COUNT, "wrapped key: an unknown authority");
	fuzz_check(k.id_len > 0 && k.id_len <= ROMBSR_WRAPPED_KEY_ID_MAX && k.wrap_key_id_len > 0 &&
			   k.wrap_key_id_len <= ROMBSR_WRAPPED_KEY_ID_MAX,
		   "wrapped key: an ID out of bounds");
	fuzz_check(k.wrapped_len > 0 && k.wrapped_len <= ROMBSR_WRAPPED_KEY_BLOB_MAX && k.certificate_len > 0 &&
			   k.certificate_len <= ROMBSR_WRAPPED_KEY_CERT_MAX,
		   "wrapped key: a blob out of bounds");
	fuzz_check(rombsr_wrapped_key_format(&k, &text, &len) == 0, "wrapped key: an accepted file does not format");
	fuzz_check(rombsr_wrapped_key_parse(text, len, "again.json", &again) == 0,
		   "wrapped key: its own output is refused");
	fuzz_same(k.label, strlen(k.label), again.label, strlen(again.label), "wrapped key: label changed");
	fuzz_same(k.id, k.id_len, again.id, again.id_len, "wrapped key: id changed");
	fuzz_same(k.wrap_key_id, k.wrap_key_id_len, again.wrap_key_id, again.wrap_key_id_len,
		  "wrapped key: wrap_key_id changed");
	fuzz_same(k.wrapped, k.wrapped_len, again.wrapped, again.wrapped_len, "wrapped key: wrapped changed");
	fuzz_same(k.certificate, k.certificate_len, again.certificate, again.certificate_len,
		  "wrapped key: certificate changed");
	fuzz_check(k.authority == again.authority, "wrapped key: authority changed");
	free(text);
	rombsr_wrapped_key_free(&k);
	rombsr_wrapped_key_free(&again);
	return 0;
}
