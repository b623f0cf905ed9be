/* The AVB 2.0 vbmeta image (docs/avb.md): a 256-byte header, an
 * authentication block (hash and signature) and an auxiliary block
 * (descriptors, public key, public key metadata). Parse, build, the bytes
 * to be signed, their digest and the verification of a signed image.
 *
 * A parsed image points into the caller's buffer; nothing to free. */
#ifndef ROMBSR_AVB_VBMETA_H
#define ROMBSR_AVB_VBMETA_H

#include "descriptor.h"
#include "../common/buf.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define ROMBSR_AVB_HEADER_SIZE 256
#define ROMBSR_AVB_RELEASE_SIZE 48
/* The libavb version this parser understands: an image that requires a
 * later minor (or another major) may use fields it would misread. */
#define ROMBSR_AVB_VERSION_MAJOR 1
#define ROMBSR_AVB_VERSION_MINOR 3
/* Largest digest of any algorithm (SHA-512). */
#define ROMBSR_AVB_MAX_DIGEST 64

enum rombsr_avb_algorithm {
	ROMBSR_AVB_NONE = 0,
	ROMBSR_AVB_SHA256_RSA2048 = 1,
	ROMBSR_AVB_SHA256_RSA4096 = 2,
	ROMBSR_AVB_SHA256_RSA8192 = 3,
	ROMBSR_AVB_SHA512_RSA2048 = 4,
	ROMBSR_AVB_SHA512_RSA4096 = 5,
	ROMBSR_AVB_SHA512_RSA8192 = 6,
};

struct rombsr_avb_algorithm_info {
	uint32_t type;
	const char *name;      /* as avbtool spells it: "SHA256_RSA2048" */
	const char *digest;    /* OpenSSL digest name, NULL for NONE */
	size_t hash_size;      /* bytes in the authentication block */
	size_t signature_size;
	unsigned key_bits;
};

/* NULL for a type outside the table. */
const struct rombsr_avb_algorithm_info *rombsr_avb_algorithm(uint32_t type);
/* ROMBSR_EINVAL for a name outside the table. */
int rombsr_avb_algorithm_by_name(const char *name, const struct rombsr_avb_algorithm_info **out);

/* The header's fields; offsets are relative to their block. */
struct rombsr_avb_header {
	uint32_t version_major;
	uint32_t version_minor;
	uint64_t auth_block_size;
	uint64_t aux_block_size;
	uint32_t algorithm;
	uint64_t hash_offset;
	uint64_t hash_size;
	uint64_t signature_offset;
	uint64_t signature_size;
	uint64_t public_key_offset;
	uint64_t public_key_size;
	uint64_t public_key_metadata_offset;
	uint64_t public_key_metadata_size;
	uint64_t descriptors_offset;
	uint64_t descriptors_size;
	uint64_t rollback_index;
	uint32_t flags;
	uint32_t rollback_index_location;
	char release_string[ROMBSR_AVB_RELEASE_SIZE]; /* NUL-terminated */
};

void rombsr_avb_header_encode(const struct rombsr_avb_header *h, unsigned char out[ROMBSR_AVB_HEADER_SIZE]);
/* Decodes the first 256 bytes of in: magic "AVB0", a supported version, a
 * NUL-terminated release string, zero reserved bytes, block sizes that are
 * multiples of 64. Offsets are checked against the blocks by
 * rombsr_avb_image_parse(), not here. ROMBSR_EINVAL with a message. */
int rombsr_avb_header_decode(const unsigned char *in, size_t len, struct rombsr_avb_header *h);

struct rombsr_avb_image {
	struct rombsr_avb_header h;
	const struct rombsr_avb_algorithm_info *alg;
	const unsigned char *data;   /* the image: header, then both blocks */
	size_t size;                 /* 256 + auth + aux, which may be less than the buffer */
	struct rombsr_avb_bytes auth;
	struct rombsr_avb_bytes aux;
	struct rombsr_avb_bytes hash;
	struct rombsr_avb_bytes signature;
	struct rombsr_avb_bytes public_key;
	struct rombsr_avb_bytes public_key_metadata;
	struct rombsr_avb_bytes descriptors;
};

/* Parses a vbmeta image at the start of [data, data + len) (a partition may
 * hold zeros after it). Every offset and size is checked against its block
 * and the buffer, every descriptor is decoded once (walk them again with
 * rombsr_avb_descriptor_next()), and the sizes must match the algorithm.
 * Parsing is not verifying: the content is untrusted until
 * rombsr_avb_image_verify() accepts it. ROMBSR_EINVAL with a message. */
int rombsr_avb_image_parse(const unsigned char *data, size_t len, struct rombsr_avb_image *img);

/* What goes into a new image. */
struct rombsr_avb_image_spec {
	uint32_t algorithm;
	uint32_t version_minor;      /* the libavb minor the features used need (0 unless 1.1+ fields) */
	uint64_t rollback_index;
	uint32_t flags;
	uint32_t rollback_index_location;
	const char *release_string;  /* at most 47 bytes; NULL for "rombsr" */
	const struct rombsr_avb_descriptor *descriptors;
	size_t ndescriptors;
	struct rombsr_avb_bytes public_key;          /* the AVB key blob; empty for NONE */
	struct rombsr_avb_bytes public_key_metadata; /* may be empty */
};

/* Builds an image laid out as avbtool lays it out (descriptors, then the
 * key, then its metadata; hash then signature), with the hash and
 * signature left zero for rombsr_avb_image_set_signature(). Appends to out. */
int rombsr_avb_image_build(const struct rombsr_avb_image_spec *spec, struct rombsr_buf *out);

/* The bytes the signature covers: the header followed by the auxiliary
 * block (the authentication block is left out: it holds the signature). */
int rombsr_avb_image_tbs(const struct rombsr_avb_image *img, struct rombsr_buf *out);
/* The digest of those bytes with the image's algorithm (SHA-256 or
 * SHA-512); *digest_len is set to the algorithm's hash size. ROMBSR_EINVAL
 * for an unsigned (NONE) image, ROMBSR_ECRYPTO if OpenSSL fails. */
int rombsr_avb_image_digest(const struct rombsr_avb_image *img, unsigned char digest[ROMBSR_AVB_MAX_DIGEST],
	size_t *digest_len);
/* Writes the digest and a PKCS#1 v1.5 signature over it into the
 * authentication block of an image built by rombsr_avb_image_build(),
 * in place; the signature must be exactly the algorithm's size. */
int rombsr_avb_image_set_signature(unsigned char *data, size_t len, const unsigned char *sig, size_t sig_len);

/* Verifies a parsed image against key: the embedded public key must be
 * key's AVB blob, the embedded hash the digest of header and auxiliary
 * block, and the signature a PKCS#1 v1.5 signature of that digest by key.
 * ROMBSR_ESECURITY for any mismatch or an unsigned image, ROMBSR_ECRYPTO
 * only if OpenSSL itself fails. */
int rombsr_avb_image_verify(const struct rombsr_avb_image *img, EVP_PKEY *key);

#endif
