/* The AVB vbmeta image, descriptors, public key blob and footer
 * (src/avb/, docs/avb.md): read from images a build hands to the signer. */
#include "util.h"

#include "../src/avb/footer.h"
#include "../src/avb/pubkey_blob.h"
#include "../src/avb/vbmeta.h"
#include "../src/common/error.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A descriptor that decodes must encode back to the same bytes. */
static void round_trip(const struct rombsr_avb_bytes *area, size_t start, size_t end,
	const struct rombsr_avb_descriptor *d)
{
	struct rombsr_buf b;

	rombsr_buf_init(&b, 1 << 24);
	if (rombsr_avb_descriptor_encode(d, &b) != 0 || b.len != end - start ||
		memcmp(b.data, area->data + start, b.len) != 0)
		abort();
	rombsr_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rombsr_avb_image img;
	struct rombsr_avb_descriptor d;
	struct rombsr_avb_footer f;
	EVP_PKEY *key = NULL;
	size_t at = 0, start = 0;

	if (size >= ROMBSR_AVB_FOOTER_SIZE)
		(void)rombsr_avb_footer_decode(data + size - ROMBSR_AVB_FOOTER_SIZE, size, &f);
	if (rombsr_avb_image_parse(data, size, &img) == 0) {
		while (rombsr_avb_descriptor_next(img.descriptors.data, img.descriptors.len, &at, &d) == 1) {
			round_trip(&img.descriptors, start, at, &d);
			start = at;
		}
		if (img.public_key.len > 0 && rombsr_avb_pubkey_parse(img.public_key.data, img.public_key.len, &key) == 0 &&
			rombsr_avb_image_verify(&img, key) == ROMBSR_EINTERNAL)
			abort();
		EVP_PKEY_free(key);
	}
	rombsr_error_clear();
	return 0;
}
