#include "base64.h"

#include "error.h"

#include <stdint.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void rombsr_base64_encode(struct rombsr_buf *out, const unsigned char *in, size_t n)
{
	char quad[4];

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		quad[0] = alphabet[(v >> 18) & 63];
		quad[1] = alphabet[(v >> 12) & 63];
		quad[2] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
		quad[3] = left > 2 ? alphabet[v & 63] : '=';
		rombsr_buf_append(out, quad, 4);
	}
}

static int value_of(char c)
{
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
}

int rombsr_base64_decode(const char *in, size_t len, unsigned char *out, size_t max, size_t *out_len,
			const char *what)
{
	size_t n = 0;

	*out_len = 0;
	if (len == 0 || len % 4 != 0)
		return rombsr_error(ROMBSR_EINVAL, "%s: base64 length %zu is not a positive multiple of 4", what, len);
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		uint32_t bits;

		for (int j = 0; j < 4; j++) {
			char c = in[i + j];

			if (c == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (v[j] = value_of(c)) < 0)
				return rombsr_error(ROMBSR_EINVAL, "%s: not canonical base64 at character %zu",
						    what, i + (size_t)j + 1);
		}
		bits = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if ((pad == 1 && (bits & 0xff) != 0) || (pad == 2 && (bits & 0xffff) != 0))
			return rombsr_error(ROMBSR_EINVAL, "%s: not canonical base64 (non-zero padding bits)", what);
		if (n + 3 - (size_t)pad > max)
			return rombsr_error(ROMBSR_EINVAL, "%s: longer than %zu bytes", what, max);
		out[n++] = (unsigned char)(bits >> 16);
		if (pad < 2)
			out[n++] = (unsigned char)(bits >> 8);
		if (pad < 1)
			out[n++] = (unsigned char)bits;
	}
	*out_len = n;
	return 0;
}
