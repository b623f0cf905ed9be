/* Reading the little-endian, length-prefixed framing of APK signing
 * blocks and their signed data: every read checks the bytes left first,
 * and a failure names the structure being read. */
#ifndef ROMBSR_LE_READER_H
#define ROMBSR_LE_READER_H

#include <stddef.h>
#include <stdint.h>

struct rombsr_le_reader {
	const unsigned char *p;
	size_t left;
	const char *what; /* "apk signed data": the start of every error message */
};

int rombsr_le_u32(struct rombsr_le_reader *r, uint32_t *v);
int rombsr_le_u64(struct rombsr_le_reader *r, uint64_t *v);
/* A run prefixed by its uint32 length, as a reader of its own. */
int rombsr_le_sub(struct rombsr_le_reader *r, struct rombsr_le_reader *out);

#endif
