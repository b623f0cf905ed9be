/* Signing requests (docs/formats/request.md): untrusted bytes a build node
 * pushes, parsed by the queue's hook and again by the sign node, and the
 * data an operation carries as the sign node reads it (understand.h). */
#include "util.h"

#include "../src/queue/request.h"
#include "../src/sign/understand.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *text, size_t len, void *v)
{
	return rombsr_request_parse(text, len, v);
}

static int encode(const void *v, struct rombsr_buf *out)
{
	return rombsr_request_encode(v, out);
}

static void release(void *v)
{
	rombsr_request_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec codec = {"request", sizeof(struct rombsr_request), parse, encode, release};

	struct rombsr_request *req = fuzz_round_trip(&codec, data, size);

	/* What the sign node reads of an operation's data (a vbmeta) is
	 * untrusted too: every accepted request's operations go through it. */
	for (size_t i = 0; req != NULL && i < req->nops; i++) {
		struct rombsr_understood u;
		struct rombsr_refusal why;

		(void)rombsr_sign_understand(req, i, 512, &u, &why);
	}
	fuzz_codec_free(&codec, req);
	return 0;
}
