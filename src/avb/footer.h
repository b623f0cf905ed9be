/* The AVB footer: the last 64 bytes of a partition whose image carries
 * its vbmeta inside the partition (docs/avb.md, "Footer"). */
#ifndef ROMBSR_AVB_FOOTER_H
#define ROMBSR_AVB_FOOTER_H

#include <stdint.h>

#define ROMBSR_AVB_FOOTER_SIZE 64
#define ROMBSR_AVB_FOOTER_VERSION_MAJOR 1
#define ROMBSR_AVB_FOOTER_VERSION_MINOR 0

struct rombsr_avb_footer {
	uint32_t version_major;
	uint32_t version_minor;
	uint64_t original_image_size;
	uint64_t vbmeta_offset;
	uint64_t vbmeta_size;
};

void rombsr_avb_footer_encode(const struct rombsr_avb_footer *f, unsigned char out[ROMBSR_AVB_FOOTER_SIZE]);
/* Decodes the footer of a partition of partition_size bytes whose last 64
 * bytes are in: magic "AVBf", major version 1, zero reserved bytes, the
 * vbmeta inside the partition before the footer, and the original image
 * no longer than the offset of the vbmeta. ROMBSR_EINVAL with a message. */
int rombsr_avb_footer_decode(const unsigned char in[ROMBSR_AVB_FOOTER_SIZE], uint64_t partition_size,
	struct rombsr_avb_footer *f);

#endif
