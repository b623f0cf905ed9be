/* Responses (docs/formats/response.md): bytes in the queue that a build
 * node parses (rombsr apply) before it checks any signature in them; the
 * proof they carry is parsed too, as apply does before trusting it. Then
 * rombsr_apply_check runs on the response against util.c's bundle, as if
 * answering the request whose operations the response names, so that the
 * fuzzer's operations and signature bytes reach the signature checks of
 * every mechanism. */
#include "util.h"

#include "../src/audit/log.h"
#include "../src/build/apply.h"
#include "../src/queue/response.h"

#include <stdlib.h>
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

static void apply(const struct rombsr_response *resp)
{
	static struct rombsr_bundle bundle;
	struct rombsr_request req = {.nops = resp->nsigs};
	struct rombsr_apply_source src = {&req, resp->request_commit, resp, resp->sign_node};
	struct rombsr_cap_signature *sigs = NULL;
	size_t nsigs;

	if (bundle.len == 0)
		fuzz_check(rombsr_bundle_load(fuzz_bundle(), &bundle) == 0, "response: the fixed bundle does not load");
	memcpy(req.id, resp->request_id, sizeof(req.id));
	req.ops = calloc(resp->nsigs + 1, sizeof(*req.ops));
	fuzz_check(req.ops != NULL, "out of memory");
	for (size_t i = 0; i < resp->nsigs; i++)
		req.ops[i].op = resp->sigs[i].op;
	if (rombsr_apply_check(&src, &bundle, &sigs, &nsigs) == 0)
		fuzz_check(nsigs == resp->nsigs, "response: apply_check gives another number of signatures");
	free(sigs);
	free(req.ops);
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
	if (resp != NULL)
		apply(resp);
	fuzz_codec_free(&codec, resp);
	return 0;
}
