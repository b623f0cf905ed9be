/* Helpers shared by the files of src/avb/: every AVB field is big-endian
 * on disk, whatever the host, so all reads and writes go through these. */
#ifndef ROMBSR_AVB_INTERNAL_H
#define ROMBSR_AVB_INTERNAL_H

#include "../common/buf.h"

#include <stddef.h>
#include <stdint.h>

static inline uint32_t avb_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t avb_get64(const unsigned char *p)
{
	return (uint64_t)avb_get32(p) << 32 | avb_get32(p + 4);
}

static inline void avb_set32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline void avb_set64(unsigned char *p, uint64_t v)
{
	avb_set32(p, (uint32_t)(v >> 32));
	avb_set32(p + 4, (uint32_t)v);
}

static inline void avb_put32(struct rombsr_buf *b, uint32_t v)
{
	unsigned char t[4];

	avb_set32(t, v);
	rombsr_buf_append(b, t, sizeof(t));
}

static inline void avb_put64(struct rombsr_buf *b, uint64_t v)
{
	unsigned char t[8];

	avb_set64(t, v);
	rombsr_buf_append(b, t, sizeof(t));
}

static inline void avb_put_zeros(struct rombsr_buf *b, size_t n)
{
	static const unsigned char zeros[64];

	while (n > 0) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);

		rombsr_buf_append(b, zeros, k);
		n -= k;
	}
}

/* True if the n bytes at p are all zero (reserved fields and padding). */
static inline int avb_all_zero(const unsigned char *p, size_t n)
{
	unsigned char acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* a + b into *sum, false on overflow: every offset read from an image is
 * attacker-chosen, so no sum of two is trusted before this check. */
static inline int avb_add(uint64_t a, uint64_t b, uint64_t *sum)
{
	if (a > UINT64_MAX - b)
		return 0;
	*sum = a + b;
	return 1;
}

/* [off, off + size) lies inside a block of block_size bytes. */
static inline int avb_inside(uint64_t off, uint64_t size, uint64_t block_size)
{
	uint64_t end;

	return avb_add(off, size, &end) && end <= block_size;
}

#endif
