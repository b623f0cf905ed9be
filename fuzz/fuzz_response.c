/* Responses (docs/formats/response.md): bytes in the queue that a build node
 * parses (rombsr apply) before it checks any signature in them; the proof
 * they carry is parsed too. */
#include "util.h"

#include "../src/audit/log.h"
#include "../src/queue/response.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rombsr_response resp, again;
	struct rombsr_buf text = {0}, text2 = {0};

	if (rombsr_response_parse((const char *)data, size, &resp) < 0)
		return 0;
	if (resp.has_audit) {
		const char *note;
		size_t note_len;

		/* What rombsr apply does with the proof before it trusts it. */
		if (rombsr_audit_proof_note(resp.audit_proof, strlen(resp.audit_proof), &note, &note_len) == 0)
			rombsr_checkpoint_parse_unverified(note, note_len, &(struct rombsr_checkpoint){0});
	}
	fuzz_check(rombsr_response_encode(&resp, &text) == 0, "response: a parsed response does not encode");
	fuzz_check(rombsr_response_parse((const char *)text.data, text.len, &again) == 0,
		   "response: the encoding of a parsed response does not parse");
	fuzz_check(rombsr_response_encode(&again, &text2) == 0, "response: re-encoding fails");
	fuzz_same(text.data, text.len, text2.data, text2.len, "response: encoding is not stable");
	rombsr_response_free(&again);
	rombsr_response_free(&resp);
	rombsr_buf_free(&text);
	rombsr_buf_free(&text2);
	return 0;
}
