/* Standard base64 (RFC 4648 §4) with padding, for the formats that carry
 * bytes in text: audit checkpoints and proofs, the release manifest's
 * envelope. */
#ifndef ROMBSR_BASE64_H
#define ROMBSR_BASE64_H

#include "buf.h"

#include <stddef.h>

void rombsr_base64_encode(struct rombsr_buf *out, const unsigned char *in, size_t n);
/* Strict decoding: only the standard alphabet, length a multiple of four,
 * padding only where needed and zero unused bits, so that each byte string
 * has exactly one accepted encoding. Returns 0 or ROMBSR_EINVAL naming what. */
int rombsr_base64_decode(const char *in, size_t len, unsigned char *out, size_t max, size_t *out_len,
			 const char *what);

#endif
