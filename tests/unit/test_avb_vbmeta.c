/* The AVB 2.0 vbmeta format (src/avb/): every descriptor round-trips, the
 * parsers refuse truncated, misaligned, overflowing and inconsistent input
 * with a message, the RSA public key blob round-trips, and images signed
 * with RSA-2048 and RSA-4096 keys made here verify, while a changed byte,
 * another key or an unsigned image fail with ROMBSR_ESECURITY. */
#include "tap.h"

#include "../../src/avb/descriptor.h"
#include "../../src/avb/footer.h"
#include "../../src/avb/pubkey_blob.h"
#include "../../src/avb/vbmeta.h"
#include "../../src/common/error.h"

#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CAP (1u << 20)
#define B(s) { (const unsigned char *)(s), sizeof(s) - 1 }

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static int same(struct rombsr_avb_bytes a, struct rombsr_avb_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

static const struct rombsr_avb_descriptor *samples(size_t *n)
{
	static const unsigned char pk[] = { 0, 0, 8, 0, 1, 2, 3, 4 };
	static struct rombsr_avb_descriptor d[6];

	memset(d, 0, sizeof(d));
	d[0].tag = ROMBSR_AVB_TAG_PROPERTY;
	d[0].u.property = (struct rombsr_avb_property){ B("com.android.build.system.fingerprint"), B("rombsr/1") };
	d[1].tag = ROMBSR_AVB_TAG_HASHTREE;
	d[1].u.hashtree = (struct rombsr_avb_hashtree){ 1, 4096 * 100, 4096 * 100, 4096 * 2, 4096, 4096, 2,
		4096 * 102, 4096, "sha1", B("system"), B("salty"), B("0123456789abcdef0123"), 1 };
	d[2].tag = ROMBSR_AVB_TAG_HASH;
	d[2].u.hash = (struct rombsr_avb_hash){ 12345, "sha256", B("boot"), B("salt!"),
		B("0123456789abcdef0123456789abcdef"), 0 };
	d[3].tag = ROMBSR_AVB_TAG_KERNEL_CMDLINE;
	d[3].u.cmdline = (struct rombsr_avb_kernel_cmdline){ 2, B("dm=\"1 vroot none ro 1,0 5159992 verity 1\"") };
	d[4].tag = ROMBSR_AVB_TAG_CHAIN_PARTITION;
	d[4].u.chain = (struct rombsr_avb_chain_partition){ 3, B("vbmeta_system"), { pk, sizeof(pk) }, 1 };
	d[5].tag = 77; /* a tag from a later libavb: kept opaque */
	d[5].u.opaque = (struct rombsr_avb_bytes)B("later-tagged-bytes!!!!!!");
	*n = 6;
	return d;
}

static int same_descriptor(const struct rombsr_avb_descriptor *a, const struct rombsr_avb_descriptor *b)
{
	if (a->tag != b->tag)
		return 0;
	switch (a->tag) {
	case ROMBSR_AVB_TAG_PROPERTY:
		return same(a->u.property.key, b->u.property.key) && same(a->u.property.value, b->u.property.value);
	case ROMBSR_AVB_TAG_HASHTREE: {
		const struct rombsr_avb_hashtree *x = &a->u.hashtree, *y = &b->u.hashtree;

		return x->dm_verity_version == y->dm_verity_version && x->image_size == y->image_size &&
			x->tree_offset == y->tree_offset && x->tree_size == y->tree_size &&
			x->data_block_size == y->data_block_size && x->hash_block_size == y->hash_block_size &&
			x->fec_num_roots == y->fec_num_roots && x->fec_offset == y->fec_offset &&
			x->fec_size == y->fec_size && strcmp(x->hash_algorithm, y->hash_algorithm) == 0 &&
			same(x->partition_name, y->partition_name) && same(x->salt, y->salt) &&
			same(x->root_digest, y->root_digest) && x->flags == y->flags;
	}
	case ROMBSR_AVB_TAG_HASH:
		return a->u.hash.image_size == b->u.hash.image_size &&
			strcmp(a->u.hash.hash_algorithm, b->u.hash.hash_algorithm) == 0 &&
			same(a->u.hash.partition_name, b->u.hash.partition_name) && same(a->u.hash.salt, b->u.hash.salt) &&
			same(a->u.hash.digest, b->u.hash.digest) && a->u.hash.flags == b->u.hash.flags;
	case ROMBSR_AVB_TAG_KERNEL_CMDLINE:
		return a->u.cmdline.flags == b->u.cmdline.flags && same(a->u.cmdline.cmdline, b->u.cmdline.cmdline);
	case ROMBSR_AVB_TAG_CHAIN_PARTITION:
		return a->u.chain.rollback_index_location == b->u.chain.rollback_index_location &&
			same(a->u.chain.partition_name, b->u.chain.partition_name) &&
			same(a->u.chain.public_key, b->u.chain.public_key) && a->u.chain.flags == b->u.chain.flags;
	}
	return same(a->u.opaque, b->u.opaque);
}

static void test_descriptor_round_trips(void)
{
	static const char *const names[] = { "property", "hashtree", "hash", "kernel cmdline", "chain partition", "unknown" };
	size_t n;
	const struct rombsr_avb_descriptor *d = samples(&n);

	for (size_t i = 0; i < n; i++) {
		struct rombsr_buf b;
		struct rombsr_avb_descriptor back;
		size_t at = 0;
		int r;

		rombsr_buf_init(&b, CAP);
		r = rombsr_avb_descriptor_encode(&d[i], &b);
		CHECK(r == 0 && b.len % 8 == 0, "%s descriptor encodes to a multiple of 8 bytes (%zu)", names[i], b.len);
		r = rombsr_avb_descriptor_next(b.data, b.len, &at, &back);
		CHECK(r == 1 && at == b.len && same_descriptor(&d[i], &back), "%s descriptor round-trips", names[i]);
		CHECK(rombsr_avb_descriptor_next(b.data, b.len, &at, &back) == 0, "%s: then the end", names[i]);
		rombsr_buf_free(&b);
	}
	/* The per-kind decoders refuse another kind. */
	struct rombsr_buf b;
	struct rombsr_avb_hash h;

	rombsr_buf_init(&b, CAP);
	rombsr_avb_property_encode(&d[0].u.property, &b);
	CHECK(tap_error_is(rombsr_avb_hash_decode(b.data, b.len, &h), ROMBSR_EINVAL, "truncated") ||
		tap_error_is(rombsr_avb_hash_decode(b.data, b.len, &h), ROMBSR_EINVAL, "wrong tag"),
		"the hash decoder refuses a property descriptor");
	rombsr_buf_free(&b);
}

/* Encodes sample i, applies a change at byte off, and decodes. */
static int decode_changed(size_t i, size_t off, unsigned char v)
{
	size_t n, at = 0;
	const struct rombsr_avb_descriptor *d = samples(&n);
	struct rombsr_avb_descriptor back;
	struct rombsr_buf b;
	int r;

	rombsr_buf_init(&b, CAP);
	rombsr_avb_descriptor_encode(&d[i], &b);
	b.data[off] = v;
	r = rombsr_avb_descriptor_next(b.data, b.len, &at, &back);
	rombsr_buf_free(&b);
	return r;
}

static void test_descriptor_refusals(void)
{
	size_t n, at = 0;
	const struct rombsr_avb_descriptor *d = samples(&n);
	struct rombsr_avb_descriptor back;
	struct rombsr_buf b;

	rombsr_buf_init(&b, CAP);
	rombsr_avb_descriptor_encode(&d[2], &b);
	CHECK(tap_error_is(rombsr_avb_descriptor_next(b.data, 10, &at, &back), ROMBSR_EINVAL, "truncated header"),
		"a descriptor cut inside its header is refused");
	CHECK(tap_error_is(rombsr_avb_descriptor_next(b.data, b.len - 8, &at, &back), ROMBSR_EINVAL,
		"past the end of the descriptors"), "a descriptor longer than the area is refused");
	put64(b.data + 8, b.len - 16 - 4);
	CHECK(tap_error_is(rombsr_avb_descriptor_next(b.data, b.len, &at, &back), ROMBSR_EINVAL, "not a multiple of 8"),
		"a descriptor length that is not a multiple of 8 is refused");
	put64(b.data + 8, UINT64_MAX - 7);
	CHECK(tap_error_is(rombsr_avb_descriptor_next(b.data, b.len, &at, &back), ROMBSR_EINVAL, "past the end"),
		"a huge descriptor length is refused without overflow");
	put64(b.data + 8, 48);
	CHECK(tap_error_is(rombsr_avb_descriptor_next(b.data, 64, &at, &back), ROMBSR_EINVAL, "truncated"),
		"a hash descriptor shorter than its fixed part is refused");
	rombsr_buf_free(&b);

	/* Name length (offset 56) pointing past the descriptor. */
	CHECK(tap_error_is(decode_changed(2, 56, 0x7f), ROMBSR_EINVAL, "lengths add up past its end"),
		"hash lengths past the end are refused");
	CHECK(tap_error_is(decode_changed(2, 100, 1), ROMBSR_EINVAL, "reserved bytes are not zero"),
		"hash reserved bytes must be zero");
	CHECK(tap_error_is(decode_changed(1, 72 + 31, 'x'), ROMBSR_EINVAL, "bytes after the hash algorithm name"),
		"junk after the hash algorithm name is refused");
	CHECK(tap_error_is(decode_changed(4, 40, 1), ROMBSR_EINVAL, "reserved bytes are not zero"),
		"chain partition reserved bytes must be zero");
	/* Property key "com...fingerprint" is 36 bytes: its NUL is at 32 + 36. */
	CHECK(tap_error_is(decode_changed(0, 32 + 36, 'x'), ROMBSR_EINVAL, "not NUL-terminated"),
		"a property key without its NUL is refused");
	CHECK(tap_error_is(decode_changed(0, 16 + 7, 0xff), ROMBSR_EINVAL, "past its end"),
		"a property key length past the end is refused");
	/* "rombsr/1" + NUL ends at 32 + 37 + 9 = 78; 78..79 is padding. */
	CHECK(tap_error_is(decode_changed(0, 79, 1), ROMBSR_EINVAL, "padding is not zero"), "non-zero padding is refused");
	CHECK(tap_error_is(decode_changed(3, 23, 0), ROMBSR_EINVAL, "bytes after its payload"),
		"a command line shorter than its descriptor by 8 or more bytes is refused");

	struct rombsr_avb_descriptor odd = { .tag = 99, .u.opaque = B("12345") };

	rombsr_buf_init(&b, CAP);
	CHECK(tap_error_is(rombsr_avb_descriptor_encode(&odd, &b), ROMBSR_EINVAL, "not a multiple of 8"),
		"an opaque descriptor that is not 8-aligned is not encoded");
	rombsr_buf_free(&b);
}

static EVP_PKEY *rsa_key(unsigned bits)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;

	if (ctx != NULL && EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) > 0)
		EVP_PKEY_keygen(ctx, &key);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* What the sign node will do: PKCS#1 v1.5 over the digest's DigestInfo. */
static int sign_digest(EVP_PKEY *key, const char *md, const unsigned char *dg, size_t dlen, unsigned char *sig,
	size_t *slen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	int ok = ctx != NULL && EVP_PKEY_sign_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
		EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(md)) > 0 &&
		EVP_PKEY_sign(ctx, sig, slen, dg, dlen) > 0;

	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Builds and signs an image with all sample descriptors into out. */
static int make_signed(EVP_PKEY *key, uint32_t alg, struct rombsr_buf *out)
{
	struct rombsr_buf blob;
	struct rombsr_avb_image img;
	struct rombsr_avb_image_spec spec = { .algorithm = alg, .rollback_index = 42, .release_string = "rombsr test" };
	unsigned char dg[ROMBSR_AVB_MAX_DIGEST], sig[1024];
	size_t dlen, slen = sizeof(sig);
	int r;

	rombsr_buf_init(&blob, CAP);
	r = rombsr_avb_pubkey_blob(key, &blob);
	spec.descriptors = samples(&spec.ndescriptors);
	spec.public_key = (struct rombsr_avb_bytes){ blob.data, blob.len };
	spec.public_key_metadata = (struct rombsr_avb_bytes)B("metadata");
	if (r == 0)
		r = rombsr_avb_image_build(&spec, out);
	if (r == 0)
		r = rombsr_avb_image_parse(out->data, out->len, &img);
	if (r == 0)
		r = rombsr_avb_image_digest(&img, dg, &dlen);
	if (r == 0 && sign_digest(key, img.alg->digest, dg, dlen, sig, &slen) < 0)
		r = -100;
	if (r == 0)
		r = rombsr_avb_image_set_signature(out->data, out->len, sig, slen);
	rombsr_buf_free(&blob);
	return r;
}

static int verify(const struct rombsr_buf *b, EVP_PKEY *key)
{
	struct rombsr_avb_image img;
	int r = rombsr_avb_image_parse(b->data, b->len, &img);

	return r < 0 ? r : rombsr_avb_image_verify(&img, key);
}

static void test_signed(EVP_PKEY *key, EVP_PKEY *other, uint32_t alg)
{
	const char *name = rombsr_avb_algorithm(alg)->name;
	struct rombsr_buf b, tbs;
	struct rombsr_avb_image img;
	struct rombsr_avb_descriptor d;
	size_t at = 0, n = 0;
	int r;

	rombsr_buf_init(&b, CAP);
	rombsr_buf_init(&tbs, CAP);
	r = make_signed(key, alg, &b);
	CHECK(r == 0, "%s: image built and signed (%s)", name, rombsr_error_message(r));
	CHECK(b.len % 64 == 0, "%s: image size %zu is a multiple of 64", name, b.len);
	r = verify(&b, key);
	CHECK(r == 0, "%s: the signed image verifies (%s)", name, rombsr_error_message(r));
	r = rombsr_avb_image_parse(b.data, b.len, &img);
	CHECK(r == 0 && img.h.rollback_index == 42 && strcmp(img.h.release_string, "rombsr test") == 0 &&
		same(img.public_key_metadata, (struct rombsr_avb_bytes)B("metadata")), "%s: header fields read back", name);
	while (rombsr_avb_descriptor_next(img.descriptors.data, img.descriptors.len, &at, &d) == 1)
		n++;
	CHECK(n == 6, "%s: six descriptors read back", name);
	r = rombsr_avb_image_tbs(&img, &tbs);
	CHECK(r == 0 && tbs.len == ROMBSR_AVB_HEADER_SIZE + img.aux.len &&
		memcmp(tbs.data + ROMBSR_AVB_HEADER_SIZE, img.aux.data, img.aux.len) == 0,
		"%s: to be signed is the header and the auxiliary block", name);

	CHECK(tap_error_is(verify(&b, other), ROMBSR_ESECURITY, "another public key"), "%s: another key fails", name);
	b.data[ROMBSR_AVB_HEADER_SIZE + img.auth.len + 40] ^= 1; /* a property key, in the auxiliary block */
	CHECK(tap_error_is(verify(&b, key), ROMBSR_ESECURITY, "hash does not match"), "%s: a changed byte fails", name);
	b.data[ROMBSR_AVB_HEADER_SIZE + img.auth.len + 40] ^= 1;
	b.data[ROMBSR_AVB_HEADER_SIZE + img.h.signature_offset + 10] ^= 0x40;
	CHECK(tap_error_is(verify(&b, key), ROMBSR_ESECURITY, "bad"), "%s: a changed signature byte fails", name);
	b.data[ROMBSR_AVB_HEADER_SIZE + img.h.signature_offset + 10] ^= 0x40;
	b.data[ROMBSR_AVB_HEADER_SIZE + img.h.hash_offset] ^= 1;
	CHECK(tap_error_is(verify(&b, key), ROMBSR_ESECURITY, "hash does not match"),
	      "%s: a changed embedded hash fails", name);
	b.data[ROMBSR_AVB_HEADER_SIZE + img.h.hash_offset] ^= 1;
	b.data[115] ^= 1; /* the rollback index, in the header */
	CHECK(tap_error_is(verify(&b, key), ROMBSR_ESECURITY, "hash does not match"), "%s: a changed header fails", name);
	rombsr_buf_free(&tbs);
	rombsr_buf_free(&b);
}

static void test_pubkey_blob(EVP_PKEY *k2048, EVP_PKEY *k4096)
{
	EVP_PKEY *keys[] = { k2048, k4096 }, *back = NULL, *ec = EVP_EC_gen("P-256");
	struct rombsr_buf b;
	int r;

	for (size_t i = 0; i < 2; i++) {
		unsigned bits = (unsigned)EVP_PKEY_get_bits(keys[i]);

		rombsr_buf_init(&b, CAP);
		r = rombsr_avb_pubkey_blob(keys[i], &b);
		CHECK(r == 0 && b.len == 8 + 2 * bits / 8 && b.data[2] == (bits >> 8 & 0xff),
			"RSA-%u blob is %zu bytes and starts with its size", bits, b.len);
		r = rombsr_avb_pubkey_parse(b.data, b.len, &back);
		CHECK(r == 0 && EVP_PKEY_eq(back, keys[i]) == 1, "RSA-%u blob parses back to the same key", bits);
		EVP_PKEY_free(back);
		CHECK(tap_error_is(rombsr_avb_pubkey_parse(b.data, b.len - 1, &back), ROMBSR_EINVAL, "expected"),
			"RSA-%u blob one byte short is refused", bits);
		b.data[b.len - 1] ^= 1;
		CHECK(tap_error_is(rombsr_avb_pubkey_parse(b.data, b.len, &back), ROMBSR_EINVAL, "does not match"),
			"RSA-%u blob with a wrong rr is refused", bits);
		b.data[b.len - 1] ^= 1;
		b.data[7] ^= 1;
		CHECK(tap_error_is(rombsr_avb_pubkey_parse(b.data, b.len, &back), ROMBSR_EINVAL, "does not match"),
			"RSA-%u blob with a wrong n0inv is refused", bits);
		put32(b.data, 1024);
		CHECK(tap_error_is(rombsr_avb_pubkey_parse(b.data, b.len, &back), ROMBSR_EINVAL, "unsupported size"),
			"a 1024-bit blob is refused");
		CHECK(tap_error_is(rombsr_avb_pubkey_parse(b.data, 4, &back), ROMBSR_EINVAL, "truncated"),
		      "a 4-byte blob is refused");
		rombsr_buf_free(&b);
	}
	rombsr_buf_init(&b, CAP);
	CHECK(tap_error_is(rombsr_avb_pubkey_blob(ec, &b), ROMBSR_EINVAL, "not an RSA key"), "an EC key has no AVB blob");
	rombsr_buf_free(&b);
	EVP_PKEY_free(ec);
}

/* Parses a copy of the signed image with one header field changed. */
static int parse_changed(const struct rombsr_buf *b, size_t off, int width, uint64_t v, size_t len)
{
	unsigned char copy[4096];
	struct rombsr_avb_image img;

	if (b->len > sizeof(copy))
		return -100;
	memcpy(copy, b->data, b->len);
	if (width == 8)
		put64(copy + off, v);
	else if (width == 4)
		put32(copy + off, (uint32_t)v);
	else if (width == 1)
		copy[off] = (unsigned char)v;
	return rombsr_avb_image_parse(copy, len, &img);
}

static void test_header_refusals(EVP_PKEY *key)
{
	struct rombsr_buf b;
	struct rombsr_avb_image img;
	uint64_t auth, aux, dsize;

	rombsr_buf_init(&b, CAP);
	CHECK(make_signed(key, ROMBSR_AVB_SHA256_RSA2048, &b) == 0 && rombsr_avb_image_parse(b.data, b.len, &img) == 0,
		"a signed image to change");
	auth = img.h.auth_block_size;
	aux = img.h.aux_block_size;
	dsize = img.h.descriptors_size;
	CHECK(tap_error_is(parse_changed(&b, 0, 0, 0, 100), ROMBSR_EINVAL, "truncated header"), "a cut header is refused");
	CHECK(tap_error_is(parse_changed(&b, 0, 0, 0, b.len - 64), ROMBSR_EINVAL, "do not fit"), "a cut image is refused");
	CHECK(tap_error_is(parse_changed(&b, 0, 1, 'X', b.len), ROMBSR_EINVAL, "bad magic"), "a bad magic is refused");
	CHECK(tap_error_is(parse_changed(&b, 4, 4, 2, b.len), ROMBSR_EINVAL, "requires libavb 2.0"), "libavb 2.x is refused");
	CHECK(tap_error_is(parse_changed(&b, 8, 4, 4, b.len), ROMBSR_EINVAL, "requires libavb 1.4"), "libavb 1.4 is refused");
	CHECK(tap_error_is(parse_changed(&b, 12, 8, auth + 8, b.len), ROMBSR_EINVAL, "not multiples of 64"),
		"an authentication block size not a multiple of 64 is refused");
	CHECK(tap_error_is(parse_changed(&b, 20, 8, aux + 64, b.len), ROMBSR_EINVAL, "do not fit"),
		"an auxiliary block past the buffer is refused");
	CHECK(tap_error_is(parse_changed(&b, 12, 8, UINT64_MAX - 63, b.len), ROMBSR_EINVAL, "do not fit"),
		"block sizes that overflow are refused");
	CHECK(tap_error_is(parse_changed(&b, 28, 4, 9, b.len), ROMBSR_EINVAL, "unknown algorithm 9"),
		"an unknown algorithm is refused");
	CHECK(tap_error_is(parse_changed(&b, 32, 8, auth - 16, b.len), ROMBSR_EINVAL, "hash (offset"),
		"a hash past its block is refused");
	CHECK(tap_error_is(parse_changed(&b, 48, 8, UINT64_MAX - 8, b.len), ROMBSR_EINVAL, "signature (offset"),
		"a signature offset that overflows is refused");
	CHECK(tap_error_is(parse_changed(&b, 64, 8, aux - 100, b.len), ROMBSR_EINVAL, "public key (offset"),
		"a public key past its block is refused");
	CHECK(tap_error_is(parse_changed(&b, 88, 8, aux, b.len), ROMBSR_EINVAL, "public key metadata"),
		"public key metadata past its block is refused");
	CHECK(tap_error_is(parse_changed(&b, 104, 8, aux + 8, b.len), ROMBSR_EINVAL, "descriptors (offset"),
		"descriptors past their block are refused");
	CHECK(tap_error_is(parse_changed(&b, 96, 8, 4, b.len), ROMBSR_EINVAL, "not a multiple of 8"),
		"a misaligned descriptors offset is refused");
	CHECK(tap_error_is(parse_changed(&b, 104, 8, dsize - 8, b.len), ROMBSR_EINVAL, "past the end of the descriptors"),
		"descriptors cut short are refused");
	CHECK(tap_error_is(parse_changed(&b, 40, 8, 64, b.len), ROMBSR_EINVAL, "needs a 32-byte hash"),
		"a hash size that is not the algorithm's is refused");
	CHECK(tap_error_is(parse_changed(&b, 72, 8, 8, b.len), ROMBSR_EINVAL, "520-byte public key"),
		"a public key size that is not the algorithm's is refused");
	CHECK(tap_error_is(parse_changed(&b, 128 + 47, 1, 'x', b.len), ROMBSR_EINVAL, "release string"),
		"a release string without NUL is refused");
	CHECK(tap_error_is(parse_changed(&b, 200, 1, 1, b.len), ROMBSR_EINVAL, "reserved header bytes"),
		"non-zero reserved header bytes are refused");
	CHECK(parse_changed(&b, 0, 0, 0, b.len + 0) == 0, "the unchanged copy parses");
	rombsr_buf_free(&b);
}

static void test_unsigned(void)
{
	size_t n;
	const struct rombsr_avb_descriptor *d = samples(&n);
	struct rombsr_avb_image_spec spec = { .algorithm = ROMBSR_AVB_NONE, .descriptors = d, .ndescriptors = n };
	struct rombsr_avb_image img;
	unsigned char dg[ROMBSR_AVB_MAX_DIGEST], blob[8 + 512] = { 0, 0, 8, 0 };
	size_t dlen;
	struct rombsr_buf b;
	int r;

	rombsr_buf_init(&b, CAP);
	r = rombsr_avb_image_build(&spec, &b);
	CHECK(r == 0 && rombsr_avb_image_parse(b.data, b.len, &img) == 0 && img.auth.len == 0 &&
		img.public_key.len == 0, "an unsigned image has no authentication block and no key");
	CHECK(tap_error_is(rombsr_avb_image_verify(&img, NULL), ROMBSR_ESECURITY, "not signed"),
		"an unsigned image does not verify");
	CHECK(tap_error_is(rombsr_avb_image_digest(&img, dg, &dlen), ROMBSR_EINVAL, "NONE"),
	      "an unsigned image has no digest");
	spec.public_key = (struct rombsr_avb_bytes){ blob, sizeof(blob) };
	CHECK(tap_error_is(rombsr_avb_image_build(&spec, &b), ROMBSR_EINVAL, "0-byte public key"),
		"NONE with a public key is refused");
	spec.algorithm = ROMBSR_AVB_SHA256_RSA4096;
	CHECK(tap_error_is(rombsr_avb_image_build(&spec, &b), ROMBSR_EINVAL, "1032-byte public key"),
		"an RSA-2048 key for an RSA-4096 algorithm is refused");
	spec.algorithm = ROMBSR_AVB_NONE;
	spec.public_key.len = 0;
	spec.release_string = "0123456789012345678901234567890123456789012345678";
	CHECK(tap_error_is(rombsr_avb_image_build(&spec, &b), ROMBSR_EINVAL, "release string longer"),
		"a release string over 47 bytes is refused");
	const struct rombsr_avb_algorithm_info *alg;
	CHECK(rombsr_avb_algorithm_by_name("SHA512_RSA4096", &alg) == 0 && alg->hash_size == 64 &&
		alg->signature_size == 512 && alg->key_bits == 4096, "SHA512_RSA4096 sizes");
	CHECK(tap_error_is(rombsr_avb_algorithm_by_name("SHA1_RSA1024", &alg), ROMBSR_EINVAL, "unknown algorithm"),
		"an unknown algorithm name is refused");
	rombsr_buf_free(&b);
}

static void test_footer(void)
{
	struct rombsr_avb_footer f = { 1, 0, 10000, 12288, 2112 }, g;
	unsigned char raw[ROMBSR_AVB_FOOTER_SIZE];
	uint64_t part = 1 << 20;

	rombsr_avb_footer_encode(&f, raw);
	CHECK(memcmp(raw, "AVBf", 4) == 0 && raw[7] == 1 && raw[39] == 0, "footer starts with AVBf and version 1");
	CHECK(rombsr_avb_footer_decode(raw, part, &g) == 0 && g.original_image_size == 10000 &&
		g.vbmeta_offset == 12288 && g.vbmeta_size == 2112 && g.version_major == 1, "footer round-trips");
	CHECK(tap_error_is(rombsr_avb_footer_decode(raw, 12288 + 2112 + 63, &g), ROMBSR_EINVAL, "runs past the footer"),
		"a vbmeta overlapping the footer is refused");
	CHECK(tap_error_is(rombsr_avb_footer_decode(raw, 32, &g), ROMBSR_EINVAL, "no room"),
	      "a partition of 32 bytes is refused");
	put64(raw + 20, UINT64_MAX - 100);
	CHECK(tap_error_is(rombsr_avb_footer_decode(raw, part, &g), ROMBSR_EINVAL, "runs past"),
		"a vbmeta offset that overflows is refused");
	put64(raw + 20, 8192);
	CHECK(tap_error_is(rombsr_avb_footer_decode(raw, part, &g), ROMBSR_EINVAL, "overlaps the vbmeta"),
		"an original image overlapping the vbmeta is refused");
	put64(raw + 20, 12288);
	raw[50] = 1;
	CHECK(tap_error_is(rombsr_avb_footer_decode(raw, part, &g), ROMBSR_EINVAL, "reserved"),
	      "footer reserved bytes must be zero");
	raw[50] = 0;
	put32(raw + 4, 2);
	CHECK(tap_error_is(rombsr_avb_footer_decode(raw, part, &g), ROMBSR_EINVAL, "version 2.0"),
	      "footer version 2 is refused");
	put32(raw + 4, 1);
	raw[3] = 'F';
	CHECK(tap_error_is(rombsr_avb_footer_decode(raw, part, &g), ROMBSR_EINVAL, "bad magic"),
	      "a bad footer magic is refused");
}

int main(void)
{
	EVP_PKEY *k2048 = rsa_key(2048), *k4096 = rsa_key(4096), *other = rsa_key(2048);

	CHECK(k2048 != NULL && k4096 != NULL && other != NULL, "RSA keys generated");
	test_descriptor_round_trips();
	test_descriptor_refusals();
	test_pubkey_blob(k2048, k4096);
	test_signed(k2048, other, ROMBSR_AVB_SHA256_RSA2048);
	test_signed(k4096, other, ROMBSR_AVB_SHA256_RSA4096);
	test_signed(k4096, k2048, ROMBSR_AVB_SHA512_RSA4096);
	test_signed(k2048, k4096, ROMBSR_AVB_SHA512_RSA2048);
	test_header_refusals(k2048);
	test_unsigned();
	test_footer();
	EVP_PKEY_free(k2048);
	EVP_PKEY_free(k4096);
	EVP_PKEY_free(other);
	return tap_done();
}
