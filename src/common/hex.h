#ifndef ROMBSR_HEX_H
#define ROMBSR_HEX_H

#include <stddef.h>

/* Lower-case hex of n bytes into out, which must hold 2n+1 chars. */
void rombsr_hex_encode(const unsigned char *in, size_t n, char *out);
/* Strict decoding: lower-case only (the one canonical form), exactly
 * 2*out_len characters. Returns 0 or ROMBSR_EINVAL naming what. */
int rombsr_hex_decode(const char *hex, unsigned char *out, size_t out_len, const char *what);
/* Decodes canonical hex of any even length up to max bytes; *out is malloc'd. */
int rombsr_hex_decode_alloc(const char *hex, size_t max, unsigned char **out, size_t *out_len,
			    const char *what);

#endif
