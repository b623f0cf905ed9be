/* Signing requests (docs/formats/request.md): untrusted bytes a build node
 * pushes, parsed by the queue's hook and again by the sign node. */
#include "util.h"

#include "../src/queue/request.h"

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

	fuzz_codec_free(&codec, fuzz_round_trip(&codec, data, size));
	return 0;
}
