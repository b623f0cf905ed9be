/* Writes a capture journal of N distinct CKM_SHA256_RSA_PKCS operations
 * for one key of a public bundle, as the capture module would, for the sign
 * node benchmark. Usage: make_journal BUNDLE_DIR LABEL COUNT OUT */
#include "../src/common/bundle.h"
#include "../src/common/capture_format.h"
#include "../src/common/error.h"
#include "../src/common/fsutil.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct rombsr_bundle bundle = {0};
	const struct rombsr_bundle_key *key;
	struct rombsr_buf all, line;
	struct rombsr_cap_entry e;
	long count;
	int r;

	if (argc != 5 || (count = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: make_journal BUNDLE_DIR LABEL COUNT OUT\n");
		return 2;
	}
	r = rombsr_bundle_load(argv[1], &bundle);
	if (r < 0) {
		fprintf(stderr, "make_journal: %s\n", rombsr_error_message(r));
		return 1;
	}
	key = rombsr_bundle_find_label(&bundle, argv[2]);
	if (key == NULL) {
		fprintf(stderr, "make_journal: no key %s in the bundle\n", argv[2]);
		rombsr_bundle_free(&bundle);
		return 1;
	}
	rombsr_buf_init(&all, 64u << 20);
	for (long i = 0; i < count && r == 0; i++) {
		memset(&e, 0, sizeof(e));
		snprintf(e.op.label, sizeof(e.op.label), "%s", key->label);
		memcpy(e.op.spki_sha256, key->spki_sha256, sizeof(e.op.spki_sha256));
		e.op.mech = rombsr_cap_mech_by_type(CKM_SHA256_RSA_PKCS);
		e.op.tbs_len = 32;
		snprintf(e.id, sizeof(e.id), "%032lx", i + 1);
		snprintf(e.time, sizeof(e.time), "2026-11-22T00:00:00.000Z");
		snprintf(e.program, sizeof(e.program), "/usr/bin/bench");
		e.pid = 1;
		e.sig_len = (size_t)(key->bits / 8);
		if (RAND_bytes(e.op.tbs, 32) != 1)
			r = rombsr_error(ROMBSR_ECRYPTO, "no random bytes");
		if (r == 0)
			r = rombsr_cap_entry_encode(&e, &line);
		if (r == 0)
			rombsr_buf_append(&all, line.data, line.len);
		rombsr_buf_free(&line);
	}
	if (r == 0)
		r = rombsr_buf_check(&all, "journal");
	if (r == 0)
		r = rombsr_file_write_atomic(argv[4], all.data, all.len, 0644, false);
	if (r < 0)
		fprintf(stderr, "make_journal: %s\n", rombsr_error_message(r));
	rombsr_buf_free(&all);
	rombsr_bundle_free(&bundle);
	return r < 0 ? 1 : 0;
}
