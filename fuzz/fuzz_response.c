/* Responses (docs/formats/response.md): bytes in the queue that a build
 * node parses (rombsr apply) before it checks any signature in them; the
 * proof they carry is parsed too, as apply does before trusting it. */
#include "util.h"

#include "../src/audit/log.h"
#include "../src/queue/response.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *text, size_t len, void *v)
{
	return rombsr_response_parse(text, len, v);
}

static int encode(const void *v, struct rombsr_buf *out)
{
	return rombsr_response_encode(v, out);
}

static void release(void *v)
{
	rombsr_response_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec codec = {"response", sizeof(struct rombsr_response), parse, encode, release};
	struct rombsr_response *resp = fuzz_round_trip(&codec, data, size);
	struct rombsr_checkpoint cp;
	const char *note;
	size_t note_len;

	if (resp != NULL && resp->has_audit &&
	    rombsr_audit_proof_note(resp->audit_proof, strlen(resp->audit_proof), &note, &note_len) == 0)
		rombsr_checkpoint_parse_unverified(note, note_len, &cp);
	fuzz_codec_free(&codec, resp);
	return 0;
}
