/* The queue's trust file (trust/trust.json, docs/queue.md): parsed at every
 * commit the hook, the sign node and the auditors check. */
#include "util.h"

#include "../src/queue/trust.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *text, size_t len, void *v)
{
	return rombsr_trust_parse(text, len, v);
}

static int encode(const void *v, struct rombsr_buf *out)
{
	char *text = NULL;
	int r = rombsr_trust_encode(v, &text);

	rombsr_buf_init(out, ROMBSR_TRUST_MAX_BYTES);
	if (r == 0) {
		rombsr_buf_append_str(out, text);
		r = rombsr_buf_check(out, "trust file");
	}
	free(text);
	return r;
}

static void release(void *v)
{
	rombsr_trust_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec codec = {"trust", sizeof(struct rombsr_trust), parse, encode, release};
	struct rombsr_trust *t = fuzz_round_trip(&codec, data, size), again;

	if (t != NULL) {
		/* Every key keeps its roles through the canonical encoding. */
		struct rombsr_buf text;

		fuzz_check(encode(t, &text) == 0 && parse((const char *)text.data, text.len, &again) == 0,
			   "trust: no round trip");
		for (int role = 0; role < ROMBSR_ROLE_COUNT; role++)
			for (size_t i = 0; i < t->count[role]; i++)
				fuzz_check(rombsr_trust_has(&again, (enum rombsr_role)role, t->fprs[role][i]),
					   "trust: a key lost its role in the round trip");
		rombsr_trust_free(&again);
		rombsr_buf_free(&text);
	}
	fuzz_codec_free(&codec, t);
	return 0;
}
