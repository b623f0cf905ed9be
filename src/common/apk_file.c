#include "apk_file.h"

#include "apk_signed_data.h"
#include "buf.h"
#include "error.h"
#include "hex.h"
#include "le_reader.h"

#include <openssl/evp.h>
#include <string.h>

#define EOCD_SIZE 22
#define CHUNK (1024 * 1024)
#define BLOCK_ID_V2 0x7109871au
#define BLOCK_ID_V3 0xf05368c0u

struct layout {
	size_t block;  /* the APK Signing Block's first byte */
	size_t cd;     /* the central directory's */
	size_t eocd;   /* the end record's */
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The end record that ends the file (its comment reaching the last byte),
 * the central directory just before it, and a signing block before that.
 * False when any is missing: no signed APK. */
static bool find_layout(const unsigned char *apk, size_t len, struct layout *l)
{
	uint64_t block_size;
	size_t cd_size, back;

	if (len < EOCD_SIZE)
		return false;
	for (back = 0; back <= 65535 && back <= len - EOCD_SIZE; back++) {
		size_t at = len - EOCD_SIZE - back;

		if (le32(apk + at) == 0x06054b50u && (size_t)(apk[at + 20] | apk[at + 21] << 8) == back)
			break;
	}
	if (back > 65535 || back > len - EOCD_SIZE)
		return false;
	l->eocd = len - EOCD_SIZE - back;
	l->cd = le32(apk + l->eocd + 16);
	cd_size = le32(apk + l->eocd + 12);
	if (l->cd > l->eocd || l->eocd - l->cd != cd_size || l->cd < 32 ||
	    memcmp(apk + l->cd - 16, "APK Sig Block 42", 16) != 0)
		return false;
	block_size = (uint64_t)le32(apk + l->cd - 24) | (uint64_t)le32(apk + l->cd - 20) << 32;
	if (block_size < 24 || block_size > l->cd - 8)
		return false;
	l->block = l->cd - (size_t)block_size - 8;
	return memcmp(apk + l->block, apk + l->cd - 24, 8) == 0;
}

/* The hash of a v2/v3 signature algorithm; NULL for the verity ones, whose
 * content digest is not the chunked one. */
static const EVP_MD *algorithm_md(uint32_t id)
{
	switch (id) {
	case 0x0101: case 0x0103: case 0x0201: case 0x0301:
		return EVP_sha256();
	case 0x0102: case 0x0104: case 0x0202:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static int chunk_digest(const EVP_MD *md, unsigned char prefix, const unsigned char *data, size_t len,
			size_t count_or_len, struct rombsr_buf *out)
{
	unsigned char head[5] = {prefix, (unsigned char)count_or_len, (unsigned char)(count_or_len >> 8),
				 (unsigned char)(count_or_len >> 16), (unsigned char)(count_or_len >> 24)};
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, head, sizeof(head)) &&
		 EVP_DigestUpdate(ctx, data, len) && EVP_DigestFinal_ex(ctx, h, &n);

	EVP_MD_CTX_free(ctx);
	if (!ok)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "hashing an APK chunk");
	rombsr_buf_append(out, h, n);
	return rombsr_buf_check(out, "APK chunk digests");
}

/* The chunked content digest, hex, into out. */
static int content_digest(const unsigned char *apk, const struct layout *l, const EVP_MD *md, char *out)
{
	unsigned char eocd[EOCD_SIZE];
	const struct {
		const unsigned char *p;
		size_t len;
	} sections[] = {{apk, l->block}, {apk + l->cd, l->eocd - l->cd}, {eocd, EOCD_SIZE}};
	struct rombsr_buf chunks;
	size_t count = 0;
	int r = 0;

	/* The end record as it was when signed: the central directory right
	 * after the entries. */
	memcpy(eocd, apk + l->eocd, EOCD_SIZE);
	eocd[16] = (unsigned char)l->block;
	eocd[17] = (unsigned char)(l->block >> 8);
	eocd[18] = (unsigned char)(l->block >> 16);
	eocd[19] = (unsigned char)(l->block >> 24);
	rombsr_buf_init(&chunks, SIZE_MAX);
	for (size_t s = 0; s < 3 && r == 0; s++)
		for (size_t at = 0; at < sections[s].len && r == 0; at += CHUNK, count++) {
			size_t n = sections[s].len - at < CHUNK ? sections[s].len - at : CHUNK;

			r = chunk_digest(md, 0xa5, sections[s].p + at, n, n, &chunks);
		}
	if (r == 0) {
		struct rombsr_buf final;

		rombsr_buf_init(&final, EVP_MAX_MD_SIZE);
		r = chunk_digest(md, 0x5a, chunks.data, chunks.len, count, &final);
		if (r == 0)
			rombsr_hex_encode(final.data, final.len, out);
		rombsr_buf_free(&final);
	}
	rombsr_buf_free(&chunks);
	return r;
}

/* One signer: signed data, (v3: min and max SDK), signatures, public key. */
static int read_signer(const unsigned char *apk, const struct layout *l, struct rombsr_le_reader signer,
		       unsigned scheme, struct rombsr_apk_signer *out)
{
	struct rombsr_le_reader signed_data, sigs, sig;
	struct rombsr_apk_signed_data sd;
	unsigned char h[EVP_MAX_MD_SIZE];
	char named[129];
	uint32_t sdk, alg = 0;
	const EVP_MD *md;
	unsigned int n = 0;
	int r = rombsr_le_sub(&signer, &signed_data);

	if (r == 0 && scheme == 3 && (r = rombsr_le_u32(&signer, &sdk)) == 0)
		r = rombsr_le_u32(&signer, &sdk);
	if (r == 0)
		r = rombsr_le_sub(&signer, &sigs);
	if (r == 0)
		r = rombsr_le_sub(&sigs, &sig);
	if (r == 0)
		r = rombsr_le_u32(&sig, &alg);
	if (r == 0)
		r = rombsr_apk_signed_data_parse(signed_data.p, signed_data.left, &sd);
	if (r < 0)
		return rombsr_error_wrap(r, "v%u signer", scheme);
	memset(out, 0, sizeof(*out));
	out->scheme = scheme;
	md = algorithm_md(alg);
	if (md == NULL)
		md = EVP_sha256();
	if (!EVP_Digest(signed_data.p, signed_data.left, h, &n, md, NULL))
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "hashing the v%u signed data", scheme);
	rombsr_hex_encode(h, n, out->signed_data_digest);
	md = algorithm_md(sd.digests[0].algorithm);
	if (md == NULL)
		return 0; /* a verity digest: not the chunked one computed here */
	r = content_digest(apk, l, md, out->content_digest);
	rombsr_hex_encode(sd.digests[0].digest, sd.digests[0].len, named);
	out->content_matches = r == 0 && strcmp(named, out->content_digest) == 0;
	return r;
}

/* The signers of one scheme's block: a length-prefixed sequence of
 * length-prefixed signers. */
static int read_scheme(const unsigned char *apk, const struct layout *l, struct rombsr_le_reader value,
		       unsigned scheme, struct rombsr_apk_signers *out)
{
	struct rombsr_le_reader signers, signer;
	int r = rombsr_le_sub(&value, &signers);

	while (r == 0 && signers.left > 0) {
		if (out->n == ROMBSR_APK_FILE_MAX_SIGNERS)
			return rombsr_error(ROMBSR_EINVAL, "APK signing block: more than %d signers",
					    ROMBSR_APK_FILE_MAX_SIGNERS);
		r = rombsr_le_sub(&signers, &signer);
		if (r == 0)
			r = read_signer(apk, l, signer, scheme, &out->signer[out->n++]);
	}
	return r;
}

int rombsr_apk_signers_read(const unsigned char *apk, size_t len, struct rombsr_apk_signers *out)
{
	struct layout l;
	struct rombsr_le_reader pairs;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!find_layout(apk, len, &l))
		return 0;
	/* Between the leading size and the trailing size and magic. */
	pairs = (struct rombsr_le_reader){apk + l.block + 8, l.cd - 24 - l.block - 8, "APK signing block"};
	while (r == 0 && pairs.left > 0) {
		struct rombsr_le_reader pair;
		uint64_t n = 0;
		uint32_t id = 0;

		r = rombsr_le_u64(&pairs, &n);
		if (r == 0 && (n < 4 || n > pairs.left))
			r = rombsr_error(ROMBSR_EINVAL, "APK signing block: a pair of %llu bytes", (unsigned long long)n);
		if (r < 0)
			break;
		pair = (struct rombsr_le_reader){pairs.p, (size_t)n, pairs.what};
		pairs.p += n;
		pairs.left -= n;
		r = rombsr_le_u32(&pair, &id);
		if (r == 0 && (id == BLOCK_ID_V2 || id == BLOCK_ID_V3))
			r = read_scheme(apk, &l, pair, id == BLOCK_ID_V2 ? 2 : 3, out);
	}
	return r;
}
