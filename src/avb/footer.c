/* The AVB footer (docs/avb.md, "Footer"). */
#include "footer.h"

#include "avb_internal.h"
#include "../common/error.h"

#include <string.h>

static const unsigned char footer_magic[4] = { 'A', 'V', 'B', 'f' };

void rombsr_avb_footer_encode(const struct rombsr_avb_footer *f, unsigned char out[ROMBSR_AVB_FOOTER_SIZE])
{
	memset(out, 0, ROMBSR_AVB_FOOTER_SIZE);
	memcpy(out, footer_magic, sizeof(footer_magic));
	avb_set32(out + 4, f->version_major);
	avb_set32(out + 8, f->version_minor);
	avb_set64(out + 12, f->original_image_size);
	avb_set64(out + 20, f->vbmeta_offset);
	avb_set64(out + 28, f->vbmeta_size);
}

int rombsr_avb_footer_decode(const unsigned char in[ROMBSR_AVB_FOOTER_SIZE], uint64_t partition_size,
	struct rombsr_avb_footer *f)
{
	if (partition_size < ROMBSR_AVB_FOOTER_SIZE)
		return rombsr_error(ROMBSR_EINVAL, "avb footer: partition of %llu bytes has no room for a footer",
			(unsigned long long)partition_size);
	if (memcmp(in, footer_magic, sizeof(footer_magic)) != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb footer: bad magic (not \"AVBf\")");
	f->version_major = avb_get32(in + 4);
	f->version_minor = avb_get32(in + 8);
	/* A minor version only adds meaning to what is zero today. */
	if (f->version_major != ROMBSR_AVB_FOOTER_VERSION_MAJOR)
		return rombsr_error(ROMBSR_EINVAL, "avb footer: version %u.%u (this reads %d.x)", f->version_major,
			f->version_minor, ROMBSR_AVB_FOOTER_VERSION_MAJOR);
	if (!avb_all_zero(in + 36, 28))
		return rombsr_error(ROMBSR_EINVAL, "avb footer: reserved bytes are not zero");
	f->original_image_size = avb_get64(in + 12);
	f->vbmeta_offset = avb_get64(in + 20);
	f->vbmeta_size = avb_get64(in + 28);
	if (!avb_inside(f->vbmeta_offset, f->vbmeta_size, partition_size - ROMBSR_AVB_FOOTER_SIZE))
		return rombsr_error(ROMBSR_EINVAL, "avb footer: vbmeta (offset %llu, %llu bytes) runs past the footer",
			(unsigned long long)f->vbmeta_offset, (unsigned long long)f->vbmeta_size);
	if (f->original_image_size > f->vbmeta_offset)
		return rombsr_error(ROMBSR_EINVAL, "avb footer: original image of %llu bytes overlaps the vbmeta at %llu",
			(unsigned long long)f->original_image_size, (unsigned long long)f->vbmeta_offset);
	return 0;
}
