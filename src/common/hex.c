#include "hex.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

void rombsr_hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int decode_into(const char *hex, size_t nbytes, unsigned char *out, const char *what)
{
	for (size_t i = 0; i < nbytes; i++) {
		int hi = hex_value(hex[2 * i]);
		int lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return rombsr_error(ROMBSR_EINVAL,
					    "%s: not lower-case hex at character %zu", what,
					    hi < 0 ? 2 * i + 1 : 2 * i + 2);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int rombsr_hex_decode(const char *hex, unsigned char *out, size_t out_len, const char *what)
{
	size_t n = strlen(hex);

	if (n != 2 * out_len)
		return rombsr_error(ROMBSR_EINVAL, "%s: expected %zu hex characters, got %zu", what,
				    2 * out_len, n);
	return decode_into(hex, out_len, out, what);
}

int rombsr_hex_decode_alloc(const char *hex, size_t max, unsigned char **out, size_t *out_len,
			    const char *what)
{
	size_t n = strlen(hex);
	unsigned char *bytes;
	int r;

	*out = NULL;
	*out_len = 0;
	if (n % 2 != 0)
		return rombsr_error(ROMBSR_EINVAL, "%s: odd number of hex characters", what);
	if (n / 2 > max)
		return rombsr_error(ROMBSR_EINVAL, "%s: longer than %zu bytes", what, max);
	bytes = malloc(n / 2 + 1);
	if (bytes == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "%s: out of memory", what);
	r = decode_into(hex, n / 2, bytes, what);
	if (r < 0) {
		free(bytes);
		return r;
	}
	*out = bytes;
	*out_len = n / 2;
	return 0;
}
