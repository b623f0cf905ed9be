/* Helpers shared by the files of src/audit/ only. */
#ifndef ROMBSR_AUDIT_INTERNAL_H
#define ROMBSR_AUDIT_INTERNAL_H

#include "../common/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Standard base64 (RFC 4648 §4) with padding. */
void audit_base64_encode(struct rombsr_buf *out, const unsigned char *in, size_t n);
/* Strict decoding: only the standard alphabet, length a multiple of four,
 * padding only where needed and zero unused bits, so that each byte string
 * has exactly one accepted encoding. Returns 0 or ROMBSR_EINVAL naming what. */
int audit_base64_decode(const char *in, size_t len, unsigned char *out, size_t max, size_t *out_len,
			const char *what);

/* Strict decimal: digits only, no sign, no leading zero except "0" itself,
 * at most max. */
int audit_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out, const char *what);

#endif
