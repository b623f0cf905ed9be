/* What a vbmeta signature covers, its digest, and its verification with
 * OpenSSL (docs/avb.md, "Signature"). */
#include "vbmeta.h"

#include "pubkey_blob.h"
#include "../common/error.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <string.h>

int rombsr_avb_image_tbs(const struct rombsr_avb_image *img, struct rombsr_buf *out)
{
	rombsr_buf_append(out, img->data, ROMBSR_AVB_HEADER_SIZE);
	if (img->aux.len > 0)
		rombsr_buf_append(out, img->aux.data, img->aux.len);
	return rombsr_buf_check(out, "avb vbmeta to be signed");
}

int rombsr_avb_image_digest(const struct rombsr_avb_image *img, unsigned char digest[ROMBSR_AVB_MAX_DIGEST],
	size_t *digest_len)
{
	EVP_MD_CTX *ctx;
	unsigned int n = 0;
	int ok;

	if (img->alg->digest == NULL)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: algorithm NONE has no digest");
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_get_digestbyname(img->alg->digest), NULL) &&
		EVP_DigestUpdate(ctx, img->data, ROMBSR_AVB_HEADER_SIZE) &&
		EVP_DigestUpdate(ctx, img->aux.data, img->aux.len) && EVP_DigestFinal_ex(ctx, digest, &n);
	EVP_MD_CTX_free(ctx);
	if (!ok || n != img->alg->hash_size)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "avb vbmeta: %s digest", img->alg->digest);
	*digest_len = n;
	return 0;
}

int rombsr_avb_image_set_signature(unsigned char *data, size_t len, const unsigned char *sig, size_t sig_len)
{
	struct rombsr_avb_image img;
	unsigned char digest[ROMBSR_AVB_MAX_DIGEST];
	size_t dlen;
	int r = rombsr_avb_image_parse(data, len, &img);

	if (r < 0)
		return r;
	if (img.alg->signature_size == 0 || sig_len != img.alg->signature_size)
		return rombsr_error(ROMBSR_EINVAL, "avb vbmeta: %s takes a %zu-byte signature, %zu given",
			img.alg->name, img.alg->signature_size, sig_len);
	/* The digest leaves the authentication block out, so writing into it
	 * does not change what was signed. */
	r = rombsr_avb_image_digest(&img, digest, &dlen);
	if (r < 0)
		return r;
	memcpy(data + (img.hash.data - data), digest, dlen);
	memcpy(data + (img.signature.data - data), sig, sig_len);
	return 0;
}

/* The embedded key must be key itself: an image carries the key it claims,
 * and a verifier that checked the signature against another key than the
 * one embedded would vouch for an image a device reads differently. */
static int check_embedded_key(const struct rombsr_avb_image *img, EVP_PKEY *key)
{
	struct rombsr_buf blob;
	int r;

	rombsr_buf_init(&blob, 4096);
	r = rombsr_avb_pubkey_blob(key, &blob);
	if (r == 0 && (blob.len != img->public_key.len ||
			CRYPTO_memcmp(blob.data, img->public_key.data, blob.len) != 0))
		r = rombsr_error(ROMBSR_ESECURITY, "avb vbmeta: signed with another public key than the one given");
	rombsr_buf_free(&blob);
	return r;
}

static int check_signature(const struct rombsr_avb_image *img, EVP_PKEY *key, const unsigned char *digest,
	size_t dlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	int v;

	/* PKCS#1 v1.5 with the digest's DigestInfo, which OpenSSL adds from
	 * the signature digest set here. */
	if (ctx == NULL || EVP_PKEY_verify_init(ctx) <= 0 ||
		EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
		EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(img->alg->digest)) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "avb vbmeta: preparing the RSA verification");
	}
	v = EVP_PKEY_verify(ctx, img->signature.data, img->signature.len, digest, dlen);
	EVP_PKEY_CTX_free(ctx);
	if (v == 1)
		return 0;
	if (v == 0) {
		ERR_clear_error(); /* the reason of a bad signature is the verdict, not a library failure */
		return rombsr_error(ROMBSR_ESECURITY, "avb vbmeta: bad %s signature", img->alg->name);
	}
	return rombsr_error_openssl(ROMBSR_ECRYPTO, "avb vbmeta: RSA verification");
}

int rombsr_avb_image_verify(const struct rombsr_avb_image *img, EVP_PKEY *key)
{
	unsigned char digest[ROMBSR_AVB_MAX_DIGEST];
	size_t dlen;
	int r;

	if (img->alg->signature_size == 0)
		return rombsr_error(ROMBSR_ESECURITY, "avb vbmeta: the image is not signed (algorithm NONE)");
	r = check_embedded_key(img, key);
	if (r == 0)
		r = rombsr_avb_image_digest(img, digest, &dlen);
	if (r < 0)
		return r;
	if (CRYPTO_memcmp(digest, img->hash.data, dlen) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "avb vbmeta: the hash does not match the header and auxiliary block");
	return check_signature(img, key, digest, dlen);
}
