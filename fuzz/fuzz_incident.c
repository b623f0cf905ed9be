/* Incident records (docs/formats/incident.md): incident/freeze.json and
 * revocations/<fpr>.json, parsed by the hook, the sign node, queue-verify
 * and apply. Each input goes through both parsers; what one accepts must
 * encode to text it accepts again, byte for byte the same. */
#include "util.h"

#include "../src/queue/incident.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse_freeze(const char *text, size_t len, void *v)
{
	return rombsr_freeze_parse(text, len, v);
}

static int encode_freeze(const void *v, struct rombsr_buf *out)
{
	return rombsr_freeze_encode(v, out);
}

static int parse_revocation(const char *text, size_t len, void *v)
{
	return rombsr_revocation_parse(text, len, v);
}

static int encode_revocation(const void *v, struct rombsr_buf *out)
{
	return rombsr_revocation_encode(v, out);
}

static void release(void *v)
{
	(void)v; /* nothing allocated inside */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec freeze = {"freeze", sizeof(struct rombsr_freeze), parse_freeze, encode_freeze,
						 release};
	static const struct fuzz_codec revocation = {"revocation", sizeof(struct rombsr_revocation), parse_revocation,
						     encode_revocation, release};
	struct rombsr_revocation *v;
	void *f = fuzz_round_trip(&freeze, data, size);
	char path[128];

	fuzz_codec_free(&freeze, f);
	v = fuzz_round_trip(&revocation, data, size);
	/* A revocation that parses always has a path, and that path names it. */
	if (v != NULL) {
		char key[65];

		fuzz_check(rombsr_revocation_path(v->key_fingerprint, path, sizeof(path)) == 0 &&
				   rombsr_revocation_path_match(path, key) && strcmp(key, v->key_fingerprint) == 0,
			   "revocation: its path does not name its key");
	}
	fuzz_codec_free(&revocation, v);
	return 0;
}
