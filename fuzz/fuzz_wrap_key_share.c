/* A wrap-key share's plaintext (docs/formats/wrap-key-share.md), as
 * wrap-key restore reads it from age: custodians' files, parsed before any
 * check of the set. */
#include "util.h"

#include "../src/node/share.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *text, size_t len, void *v)
{
	return share_parse("fuzz", text, len, v);
}

static int encode(const void *v, struct rombsr_buf *out)
{
	char text[SHARE_TEXT_MAX];
	size_t len;
	int r = share_format(v, text, &len);

	rombsr_buf_init(out, SHARE_TEXT_MAX);
	if (r == 0) {
		rombsr_buf_append(out, text, len);
		r = rombsr_buf_check(out, "share");
	}
	return r;
}

static void release(void *v)
{
	(void)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_codec codec = {"wrap-key share", sizeof(struct wrap_share), parse, encode, release};
	void *s = fuzz_round_trip(&codec, data, size);

	fuzz_codec_free(&codec, s);
	return 0;
}
