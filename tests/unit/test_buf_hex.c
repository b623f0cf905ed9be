/* The size-capped buffer and strict hex. */
#include "tap.h"

#include "../../src/common/buf.h"
#include "../../src/common/error.h"
#include "../../src/common/hex.h"

#include <stdlib.h>
#include <string.h>

static void test_buf(void)
{
	struct rombsr_buf b;

	rombsr_buf_init(&b, 8);
	rombsr_buf_append_str(&b, "abcd");
	rombsr_buf_printf(&b, "%d", 1234);
	CHECK(rombsr_buf_check(&b, "b") == 0 && b.len == 8, "append up to the cap");
	CHECK(strcmp(rombsr_buf_cstr(&b), "abcd1234") == 0, "contents and NUL terminator");
	rombsr_buf_append(&b, "x", 1);
	CHECK(b.failed && b.over_limit, "one byte past the cap fails");
	rombsr_buf_append(&b, "", 0);
	CHECK(rombsr_buf_check(&b, "request") == ROMBSR_EINVAL, "failure is sticky and reported as over limit");
	CHECK(strstr(rombsr_error_message(ROMBSR_EINVAL), "request: larger than the limit of 8 bytes") != NULL,
	      "message names what and the limit: %s", rombsr_error_message(ROMBSR_EINVAL));
	CHECK(strcmp(rombsr_buf_cstr(&b), "") == 0, "a failed buffer reads as empty");
	rombsr_buf_free(&b);
	rombsr_buf_free(&b);
	rombsr_buf_free(NULL);
	CHECK(b.data == NULL && b.len == 0, "free twice and free(NULL) are safe");

	/* What rombsr_file_read gives for an empty file (found by fuzz_capture_config). */
	rombsr_buf_init(&b, 64);
	CHECK(strcmp(rombsr_buf_cstr(&b), "") == 0 && b.data != NULL && b.data[0] == '\0',
	      "a buffer nothing was appended to reads as an empty string");
	rombsr_buf_free(&b);

	rombsr_buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		rombsr_buf_append(&b, "0123456789", 10);
	CHECK(rombsr_buf_check(&b, "big") == 0 && b.len == 10000 && memcmp(b.data + 9990, "0123456789", 10) == 0,
	      "growth keeps contents");
	rombsr_buf_free(&b);
}

static void test_hex(void)
{
	unsigned char bytes[4], *alloc = NULL;
	size_t len = 0;
	char text[9];

	rombsr_hex_encode((const unsigned char *)"\x00\xab\x10\xff", 4, text);
	CHECK(strcmp(text, "00ab10ff") == 0, "encode is lower case");
	CHECK(rombsr_hex_decode("00ab10ff", bytes, 4, "d") == 0 && memcmp(bytes, "\x00\xab\x10\xff", 4) == 0,
	      "decode round trip");
	CHECK(rombsr_hex_decode("00AB10FF", bytes, 4, "d") == ROMBSR_EINVAL, "upper case is not canonical");
	CHECK(rombsr_hex_decode("00ab10f", bytes, 4, "d") == ROMBSR_EINVAL, "short input refused");
	CHECK(rombsr_hex_decode("00ab10ff00", bytes, 4, "d") == ROMBSR_EINVAL, "long input refused");
	CHECK(rombsr_hex_decode("00ab1 ff", bytes, 4, "digest") == ROMBSR_EINVAL &&
		      strstr(rombsr_error_message(ROMBSR_EINVAL), "digest: not lower-case hex at character 6") != NULL,
	      "bad character named by position: %s", rombsr_error_message(ROMBSR_EINVAL));
	CHECK(rombsr_hex_decode_alloc("abc", 16, &alloc, &len, "x") == ROMBSR_EINVAL && alloc == NULL,
	      "odd length refused");
	CHECK(rombsr_hex_decode_alloc("aabbcc", 2, &alloc, &len, "x") == ROMBSR_EINVAL && alloc == NULL,
	      "over the limit refused");
	CHECK(rombsr_hex_decode_alloc("aabbcc", 3, &alloc, &len, "x") == 0 && len == 3 && alloc[2] == 0xcc,
	      "allocating decode");
	free(alloc);
}

int main(void)
{
	test_buf();
	test_hex();
	return tap_done();
}
