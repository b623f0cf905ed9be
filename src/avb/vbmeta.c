/* The AVB 2.0 vbmeta image: header, blocks, building and parsing
 * (docs/avb.md). The digest and verification are in vbmeta_verify.c. */
#include "vbmeta.h"

#include "avb_internal.h"
#include "../common/error.h"

#include <stdio.h>
#include <string.h>

static const unsigned char magic[4] = { 'A', 'V', 'B', '0' };

static const struct rombsr_avb_algorithm_info algorithms[] = {
	{ ROMBSR_AVB_NONE, "NONE", NULL, 0, 0, 0 },
	{ ROMBSR_AVB_SHA256_RSA2048, "SHA256_RSA2048", "SHA256", 32, 256, 2048 },
	{ ROMBSR_AVB_SHA256_RSA4096, "SHA256_RSA4096", "SHA256", 32, 512, 4096 },
	{ ROMBSR_AVB_SHA256_RSA8192, "SHA256_RSA8192", "SHA256", 32, 1024, 8192 },
	{ ROMBSR_AVB_SHA512_RSA2048, "SHA512_RSA2048", "SHA512", 64, 256, 2048 },
	{ ROMBSR_AVB_SHA512_RSA4096, "SHA512_RSA4096", "SHA512", 64, 512, 4096 },
	{ ROMBSR_AVB_SHA512_RSA8192, "SHA512_RSA8192", "SHA512", 64, 1024, 8192 },
};

#define NALGORITHMS (sizeof(algorithms) / sizeof(algorithms[0]))

const struct rombsr_avb_algorithm_info *rombsr_avb_algorithm(uint32_t type)
{
	return type < NALGORITHMS ? &algorithms[type] : NULL;
}

int rombsr_avb_algorithm_by_name(const char *name, const struct rombsr_avb_algorithm_info **out)
{
	for (size_t i = 0; i < NALGORITHMS; i++) {
		if (strcmp(algorithms[i].name, name) == 0) {
			*out = &algorithms[i];
			return 0;
		}
	}
	return rombsr_error(ROMBSR_EINVAL, "avb: unknown algorithm '%s'", name);
}

/* The public key blob size an algorithm implies: header, modulus, rr. */
static uint64_t key_blob_size(const struct rombsr_avb_algorithm_info *alg)
{
	return alg->key_bits == 0 ? 0 : 8 + 2 * (uint64_t)(alg->key_bits / 8);
}

static uint64_t round64(uint64_t n)
{
	return (n + 63) & ~(uint64_t)63;
}

void rombsr_avb_header_encode(const struct rombsr_avb_header *h, unsigned char out[ROMBSR_AVB_HEADER_SIZE])
{
	memset(out, 0, ROMBSR_AVB_HEADER_SIZE);
	memcpy(out, magic, sizeof(magic));
	avb_set32(out + 4, h->version_major);
	avb_set32(out + 8, h->version_minor);
	avb_set64(out + 12, h->auth_block_size);
	avb_set64(out + 20, h->aux_block_size);
	avb_set32(out + 28, h->algorithm);
	avb_set64(out + 32, h->hash_offset);
	avb_set64(out + 40, h->hash_size);
	avb_set64(out + 48, h->signature_offset);
	avb_set64(out + 56, h->signature_size);
	avb_set64(out + 64, h->public_key_offset);
	avb_set64(out + 72, h->public_key_size);
	avb_set64(out + 80, h->public_key_metadata_offset);
	avb_set64(out + 88, h->public_key_metadata_size);
	avb_set64(out + 96, h->descriptors_offset);
	avb_set64(out + 104, h->descriptors_size);
	avb_set64(out + 112, h->rollback_index);
	avb_set32(out + 120, h->flags);
	avb_set32(out + 124, h->rollback_index_location);
	/* At most 47 bytes, so the field always ends with a NUL. */
	memcpy(out + 128, h->release_string, strnlen(h->release_string, ROMBSR_AVB_RELEASE_SIZE - 1));
}

int rombsr_avb_header_decode(const unsigned char *in, size_t len, struct rombsr_avb_header *h)
{
	if (len < ROMBSR_AVB_HEADER_SIZE)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: truncated header (%zu bytes, %d needed)", len,
			ROMBSR_AVB_HEADER_SIZE);
	if (memcmp(in, magic, sizeof(magic)) != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: bad magic (not \"AVB0\")");
	memset(h, 0, sizeof(*h));
	h->version_major = avb_get32(in + 4);
	h->version_minor = avb_get32(in + 8);
	if (h->version_major != ROMBSR_AVB_VERSION_MAJOR || h->version_minor > ROMBSR_AVB_VERSION_MINOR)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: requires libavb %u.%u (this reads up to %d.%d)",
			h->version_major, h->version_minor, ROMBSR_AVB_VERSION_MAJOR, ROMBSR_AVB_VERSION_MINOR);
	h->auth_block_size = avb_get64(in + 12);
	h->aux_block_size = avb_get64(in + 20);
	if (h->auth_block_size % 64 != 0 || h->aux_block_size % 64 != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: block sizes %llu and %llu are not multiples of 64",
			(unsigned long long)h->auth_block_size, (unsigned long long)h->aux_block_size);
	if (in[128 + ROMBSR_AVB_RELEASE_SIZE - 1] != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: release string is not NUL-terminated");
	if (!avb_all_zero(in + 176, 80))
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: reserved header bytes are not zero");
	h->algorithm = avb_get32(in + 28);
	h->hash_offset = avb_get64(in + 32);
	h->hash_size = avb_get64(in + 40);
	h->signature_offset = avb_get64(in + 48);
	h->signature_size = avb_get64(in + 56);
	h->public_key_offset = avb_get64(in + 64);
	h->public_key_size = avb_get64(in + 72);
	h->public_key_metadata_offset = avb_get64(in + 80);
	h->public_key_metadata_size = avb_get64(in + 88);
	h->descriptors_offset = avb_get64(in + 96);
	h->descriptors_size = avb_get64(in + 104);
	h->rollback_index = avb_get64(in + 112);
	h->flags = avb_get32(in + 120);
	h->rollback_index_location = avb_get32(in + 124);
	memcpy(h->release_string, in + 128, ROMBSR_AVB_RELEASE_SIZE);
	return 0;
}

/* A region of a block, checked to lie inside it. */
static int region(const struct rombsr_avb_bytes *block, uint64_t off, uint64_t size, const char *what,
	struct rombsr_avb_bytes *out)
{
	if (!avb_inside(off, size, block->len))
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: %s (offset %llu, %llu bytes) is past the end of its block",
			what, (unsigned long long)off, (unsigned long long)size);
	out->data = block->data + off;
	out->len = (size_t)size;
	return 0;
}

/* The sizes the algorithm fixes: nothing signed for NONE, else exactly its
 * hash, signature and key sizes. */
static int check_algorithm_sizes(const struct rombsr_avb_header *h, const struct rombsr_avb_algorithm_info *alg)
{
	if (h->hash_size != alg->hash_size || h->signature_size != alg->signature_size)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: %s needs a %zu-byte hash and a %zu-byte signature, "
			"the header gives %llu and %llu", alg->name, alg->hash_size, alg->signature_size,
			(unsigned long long)h->hash_size, (unsigned long long)h->signature_size);
	if (h->public_key_size != key_blob_size(alg))
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: %s needs a %llu-byte public key, the header gives %llu",
			alg->name, (unsigned long long)key_blob_size(alg), (unsigned long long)h->public_key_size);
	return 0;
}

static int parse_regions(struct rombsr_avb_image *img)
{
	const struct rombsr_avb_header *h = &img->h;
	int r = region(&img->auth, h->hash_offset, h->hash_size, "hash", &img->hash);

	if (r == 0)
		r = region(&img->auth, h->signature_offset, h->signature_size, "signature", &img->signature);
	if (r == 0)
		r = region(&img->aux, h->public_key_offset, h->public_key_size, "public key", &img->public_key);
	if (r == 0)
		r = region(&img->aux, h->public_key_metadata_offset, h->public_key_metadata_size,
			"public key metadata", &img->public_key_metadata);
	if (r == 0)
		r = region(&img->aux, h->descriptors_offset, h->descriptors_size, "descriptors", &img->descriptors);
	if (r < 0)
		return r;
	/* The image is read as-is from memory: descriptors start 8-aligned so
	 * that libavb, which reads them in place, can. */
	if (h->descriptors_offset % 8 != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: descriptors offset %llu is not a multiple of 8",
			(unsigned long long)h->descriptors_offset);
	return 0;
}

int rombsr_avb_image_parse(const unsigned char *data, size_t len, struct rombsr_avb_image *img)
{
	struct rombsr_avb_descriptor d;
	uint64_t total;
	size_t at = 0;
	int r;

	memset(img, 0, sizeof(*img));
	r = rombsr_avb_header_decode(data, len, &img->h);
	if (r < 0)
		return r;
	if (!avb_add(ROMBSR_AVB_HEADER_SIZE, img->h.auth_block_size, &total) ||
		!avb_add(total, img->h.aux_block_size, &total) || total > len)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: blocks of %llu and %llu bytes do not fit in %zu bytes",
			(unsigned long long)img->h.auth_block_size, (unsigned long long)img->h.aux_block_size, len);
	img->alg = rombsr_avb_algorithm(img->h.algorithm);
	if (img->alg == NULL)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: unknown algorithm %u", img->h.algorithm);
	img->data = data;
	img->size = (size_t)total;
	img->auth.data = data + ROMBSR_AVB_HEADER_SIZE;
	img->auth.len = (size_t)img->h.auth_block_size;
	img->aux.data = img->auth.data + img->auth.len;
	img->aux.len = (size_t)img->h.aux_block_size;
	r = parse_regions(img);
	if (r == 0)
		r = check_algorithm_sizes(&img->h, img->alg);
	if (r < 0)
		return r;
	do
		r = rombsr_avb_descriptor_next(img->descriptors.data, img->descriptors.len, &at, &d);
	while (r > 0);
	return r;
}

static int encode_descriptors(const struct rombsr_avb_image_spec *spec, struct rombsr_buf *out)
{
	for (size_t i = 0; i < spec->ndescriptors; i++) {
		int r = rombsr_avb_descriptor_encode(&spec->descriptors[i], out);

		if (r < 0)
			return rombsr_error_wrap(r, "descriptor %zu", i);
	}
	return 0;
}

static int check_spec(const struct rombsr_avb_image_spec *spec, const struct rombsr_avb_algorithm_info **alg)
{
	*alg = rombsr_avb_algorithm(spec->algorithm);
	if (*alg == NULL)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: unknown algorithm %u", spec->algorithm);
	if (spec->public_key.len != key_blob_size(*alg))
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: %s needs a %llu-byte public key, %zu given",
			(*alg)->name, (unsigned long long)key_blob_size(*alg), spec->public_key.len);
	if ((*alg)->key_bits != 0 && avb_get32(spec->public_key.data) != (*alg)->key_bits)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: %s needs an RSA-%u key", (*alg)->name, (*alg)->key_bits);
	if (spec->release_string != NULL && strlen(spec->release_string) >= ROMBSR_AVB_RELEASE_SIZE)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: release string longer than %d bytes",
			ROMBSR_AVB_RELEASE_SIZE - 1);
	if (spec->version_minor > ROMBSR_AVB_VERSION_MINOR)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: libavb 1.%u is newer than this library",
			spec->version_minor);
	return 0;
}

int rombsr_avb_image_build(const struct rombsr_avb_image_spec *spec, struct rombsr_buf *out)
{
	const struct rombsr_avb_algorithm_info *alg;
	struct rombsr_avb_header h = { 0 };
	unsigned char header[ROMBSR_AVB_HEADER_SIZE];
	struct rombsr_buf desc;
	uint64_t aux_len;
	int r = check_spec(spec, &alg);

	if (r < 0)
		return r;
	rombsr_buf_init(&desc, out->max);
	r = encode_descriptors(spec, &desc);
	if (r < 0)
		goto out;
	h.version_major = ROMBSR_AVB_VERSION_MAJOR;
	h.version_minor = spec->version_minor;
	h.algorithm = spec->algorithm;
	h.auth_block_size = round64(alg->hash_size + alg->signature_size);
	h.hash_size = alg->hash_size;
	h.signature_offset = alg->hash_size;
	h.signature_size = alg->signature_size;
	h.descriptors_size = desc.len;
	h.public_key_offset = desc.len;
	h.public_key_size = spec->public_key.len;
	h.public_key_metadata_offset = h.public_key_offset + spec->public_key.len;
	h.public_key_metadata_size = spec->public_key_metadata.len;
	aux_len = h.public_key_metadata_offset + spec->public_key_metadata.len;
	h.aux_block_size = round64(aux_len);
	h.rollback_index = spec->rollback_index;
	h.flags = spec->flags;
	h.rollback_index_location = spec->rollback_index_location;
	snprintf(h.release_string, sizeof(h.release_string), "%s",
		spec->release_string != NULL ? spec->release_string : "rombsr"); /* length checked above */
	rombsr_avb_header_encode(&h, header);
	rombsr_buf_append(out, header, sizeof(header));
	avb_put_zeros(out, (size_t)h.auth_block_size);
	rombsr_buf_append(out, desc.data, desc.len);
	if (spec->public_key.len > 0)
		rombsr_buf_append(out, spec->public_key.data, spec->public_key.len);
	if (spec->public_key_metadata.len > 0)
		rombsr_buf_append(out, spec->public_key_metadata.data, spec->public_key_metadata.len);
	avb_put_zeros(out, (size_t)(h.aux_block_size - aux_len));
	r = rombsr_buf_check(out, "avb vbmeta");
out:
	rombsr_buf_free(&desc);
	return r;
}
