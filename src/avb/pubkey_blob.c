/* The AVB RSA public key blob, computed and checked with OpenSSL BIGNUM. */
#include "pubkey_blob.h"

#include "avb_internal.h"
#include "../common/error.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <string.h>

static int supported_bits(uint32_t bits)
{
	return bits == 2048 || bits == 4096 || bits == 8192;
}

/* n0inv = -1/n mod 2^32 and rr = (2^bits)^2 mod n: the Montgomery
 * constants libavb's verifier uses instead of computing them. */
static int montgomery(const BIGNUM *n, uint32_t bits, uint32_t *n0inv, BIGNUM *rr)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *b = BN_new(), *low = BN_new(), *inv = NULL;
	int r = ROMBSR_ECRYPTO;

	if (ctx == NULL || b == NULL || low == NULL)
		goto out;
	if (!BN_set_bit(b, 32) || !BN_nnmod(low, n, b, ctx))
		goto out;
	inv = BN_mod_inverse(NULL, low, b, ctx);
	if (inv == NULL || !BN_sub(inv, b, inv))
		goto out;
	*n0inv = (uint32_t)BN_get_word(inv);
	BN_zero(b);
	if (!BN_set_bit(b, (int)(2 * bits)) || !BN_mod(rr, b, n, ctx))
		goto out;
	r = 0;
out:
	if (r < 0)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "avb public key: computing n0inv and rr");
	BN_free(inv);
	BN_free(low);
	BN_free(b);
	BN_CTX_free(ctx);
	return r;
}

static int append_bn(struct rombsr_buf *out, const BIGNUM *v, size_t size)
{
	unsigned char tmp[1024]; /* 8192 bits, the largest size accepted */

	if (size > sizeof(tmp) || BN_bn2binpad(v, tmp, (int)size) < 0)
		return rombsr_error(ROMBSR_EINTERNAL, "avb public key: number larger than %zu bytes", size);
	rombsr_buf_append(out, tmp, size);
	return 0;
}

int rombsr_avb_pubkey_blob(EVP_PKEY *key, struct rombsr_buf *out)
{
	BIGNUM *n = NULL, *e = NULL, *rr = BN_new();
	uint32_t bits, n0inv = 0;
	int r;

	if (rr == NULL)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "avb public key");
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		r = rombsr_error(ROMBSR_EINVAL, "avb public key: not an RSA key");
		goto out;
	}
	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) ||
		!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e)) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "avb public key: reading the RSA modulus");
		goto out;
	}
	bits = (uint32_t)BN_num_bits(n);
	if (!supported_bits(bits)) {
		r = rombsr_error(ROMBSR_EINVAL, "avb public key: RSA-%u (AVB takes RSA-2048, 4096 or 8192)", bits);
		goto out;
	}
	/* The blob has no room for the exponent: AVB assumes 65537. */
	if (!BN_is_word(e, 65537)) {
		r = rombsr_error(ROMBSR_EINVAL, "avb public key: RSA exponent is not 65537");
		goto out;
	}
	r = montgomery(n, bits, &n0inv, rr);
	if (r < 0)
		goto out;
	avb_put32(out, bits);
	avb_put32(out, n0inv);
	r = append_bn(out, n, bits / 8);
	if (r == 0)
		r = append_bn(out, rr, bits / 8);
	if (r == 0)
		r = rombsr_buf_check(out, "avb public key");
out:
	BN_free(rr);
	BN_free(e);
	BN_free(n);
	return r;
}

static int make_rsa(const BIGNUM *n, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *e = BN_new();
	int r = ROMBSR_ECRYPTO;

	*out = NULL;
	if (bld == NULL || e == NULL || !BN_set_word(e, 65537))
		goto out;
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
		EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	r = 0;
out:
	if (r < 0)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "avb public key: building the RSA key");
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(e);
	return r;
}

int rombsr_avb_pubkey_parse(const unsigned char *blob, size_t len, EVP_PKEY **out)
{
	BIGNUM *n = NULL, *rr = NULL, *want_rr = BN_new();
	uint32_t bits, n0inv, want_n0inv = 0;
	size_t size;
	int r;

	*out = NULL;
	if (want_rr == NULL)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "avb public key");
	if (len < 8) {
		r = rombsr_error(ROMBSR_EINVAL, "avb public key: truncated (%zu bytes)", len);
		goto out;
	}
	bits = avb_get32(blob);
	n0inv = avb_get32(blob + 4);
	if (!supported_bits(bits)) {
		r = rombsr_error(ROMBSR_EINVAL, "avb public key: unsupported size of %u bits", bits);
		goto out;
	}
	size = bits / 8;
	if (len != 8 + 2 * size) {
		r = rombsr_error(ROMBSR_EINVAL, "avb public key: %zu bytes, %zu expected for RSA-%u", len,
			8 + 2 * size, bits);
		goto out;
	}
	n = BN_bin2bn(blob + 8, (int)size, NULL);
	rr = BN_bin2bn(blob + 8 + size, (int)size, NULL);
	if (n == NULL || rr == NULL) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "avb public key");
		goto out;
	}
	if ((uint32_t)BN_num_bits(n) != bits || !BN_is_odd(n)) {
		r = rombsr_error(ROMBSR_EINVAL, "avb public key: modulus is not an odd %u-bit number", bits);
		goto out;
	}
	r = montgomery(n, bits, &want_n0inv, want_rr);
	if (r < 0)
		goto out;
	if (n0inv != want_n0inv || BN_cmp(rr, want_rr) != 0) {
		r = rombsr_error(ROMBSR_EINVAL, "avb public key: n0inv or rr does not match the modulus");
		goto out;
	}
	r = make_rsa(n, out);
out:
	BN_free(want_rr);
	BN_free(rr);
	BN_free(n);
	return r;
}
