/* Signing requests (docs/formats/request.md): untrusted bytes a build node
 * pushes, parsed by the queue's hook and again by the sign node. */
#include "util.h"

#include "../src/queue/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rombsr_request req, again;
	struct rombsr_buf text = {0}, text2 = {0};

	if (rombsr_request_parse((const char *)data, size, &req) < 0)
		return 0;
	fuzz_check(rombsr_request_encode(&req, &text) == 0, "request: a parsed request does not encode");
	fuzz_check(rombsr_request_parse((const char *)text.data, text.len, &again) == 0,
		   "request: the encoding of a parsed request does not parse");
	fuzz_check(rombsr_request_encode(&again, &text2) == 0, "request: re-encoding fails");
	fuzz_same(text.data, text.len, text2.data, text2.len, "request: encoding is not stable");
	rombsr_request_free(&again);
	rombsr_request_free(&req);
	rombsr_buf_free(&text);
	rombsr_buf_free(&text2);
	return 0;
}
