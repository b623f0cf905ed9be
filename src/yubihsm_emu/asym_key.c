/* Asymmetric keys in the device's layout (asym_key.h). */
#include "asym_key.h"
#include "../yubihsm/yh_proto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

size_t emu_asym_size(uint8_t algorithm)
{
	switch (algorithm) {
	case YH_ALGO_RSA_2048: return 256;
	case YH_ALGO_RSA_3072: return 384;
	case YH_ALGO_RSA_4096: return 512;
	case YH_ALGO_EC_P256: return 32;
	case YH_ALGO_EC_P384: return 48;
	default: return 0;
	}
}

int emu_asym_is_rsa(uint8_t algorithm)
{
	return algorithm == YH_ALGO_RSA_2048 || algorithm == YH_ALGO_RSA_3072 || algorithm == YH_ALGO_RSA_4096;
}

static const char *curve(uint8_t algorithm)
{
	return algorithm == YH_ALGO_EC_P256 ? "P-256" : "P-384";
}

static size_t layout_len(uint8_t algorithm)
{
	size_t k = emu_asym_size(algorithm);

	return emu_asym_is_rsa(algorithm) ? k / 2 * 7 : 3 * k;
}

/* Writes the named BIGNUM parameters of pkey, each padded to its width. */
static int put_params(const EVP_PKEY *pkey, const char *const *names, const size_t *widths, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		BIGNUM *bn = NULL;
		int ok = EVP_PKEY_get_bn_param(pkey, names[i], &bn) == 1 &&
			 BN_bn2binpad(bn, out, (int)widths[i]) == (int)widths[i];

		BN_clear_free(bn);
		if (!ok)
			return -1;
		out += widths[i];
	}
	return 0;
}

static int serialize(uint8_t algorithm, const EVP_PKEY *pkey, uint8_t **data, size_t *len)
{
	static const char *const rsa[] = {OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
					  OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
					  OSSL_PKEY_PARAM_RSA_COEFFICIENT1, OSSL_PKEY_PARAM_RSA_N};
	static const char *const ec[] = {OSSL_PKEY_PARAM_PRIV_KEY, OSSL_PKEY_PARAM_EC_PUB_X, OSSL_PKEY_PARAM_EC_PUB_Y};
	size_t k = emu_asym_size(algorithm), h = k / 2;
	size_t rsa_w[] = {h, h, h, h, h, k}, ec_w[] = {k, k, k};
	uint8_t *buf = malloc(layout_len(algorithm));
	int r;

	if (buf == NULL)
		return -1;
	if (emu_asym_is_rsa(algorithm))
		r = put_params(pkey, rsa, rsa_w, 6, buf);
	else
		r = put_params(pkey, ec, ec_w, 3, buf);
	if (r != 0) {
		OPENSSL_clear_free(buf, layout_len(algorithm));
		return -1;
	}
	*data = buf;
	*len = layout_len(algorithm);
	return 0;
}

int emu_asym_generate(uint8_t algorithm, uint8_t **data, size_t *len)
{
	EVP_PKEY *pkey;
	int r;

	if (emu_asym_size(algorithm) == 0)
		return -1;
	if (emu_asym_is_rsa(algorithm))
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)(emu_asym_size(algorithm) * 8));
	else
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve(algorithm));
	if (pkey == NULL)
		return -1;
	r = serialize(algorithm, pkey, data, len);
	EVP_PKEY_free(pkey);
	return r;
}

/* The RSA key from p and q (e = 65537, as the device requires). */
static EVP_PKEY *rsa_from(const uint8_t *p_bin, const uint8_t *q_bin, size_t half)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *p = BN_bin2bn(p_bin, (int)half, NULL), *q = BN_bin2bn(q_bin, (int)half, NULL);
	BIGNUM *e = BN_new(), *n = BN_new(), *d = BN_new(), *p1 = BN_new(), *q1 = BN_new(), *phi = BN_new();
	BIGNUM *dp = BN_new(), *dq = BN_new(), *qinv = BN_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (ctx == NULL || p == NULL || q == NULL || e == NULL || n == NULL || d == NULL || p1 == NULL ||
	    q1 == NULL || phi == NULL || dp == NULL || dq == NULL || qinv == NULL || bld == NULL)
		goto out;
	if (BN_set_word(e, 65537) != 1 || BN_mul(n, p, q, ctx) != 1 || BN_sub(p1, p, BN_value_one()) != 1 ||
	    BN_sub(q1, q, BN_value_one()) != 1 || BN_mul(phi, p1, q1, ctx) != 1 ||
	    BN_mod_inverse(d, e, phi, ctx) == NULL || BN_mod(dp, d, p1, ctx) != 1 || BN_mod(dq, d, q1, ctx) != 1 ||
	    BN_mod_inverse(qinv, q, p, ctx) == NULL)
		goto out;
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qinv) != 1)
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	BN_clear_free(p);
	BN_clear_free(q);
	BN_free(e);
	BN_free(n);
	BN_clear_free(d);
	BN_clear_free(p1);
	BN_clear_free(q1);
	BN_clear_free(phi);
	BN_clear_free(dp);
	BN_clear_free(dq);
	BN_clear_free(qinv);
	BN_CTX_free(ctx);
	return pkey;
}

/* The EC key from d; the public point is computed when pub is NULL. */
static EVP_PKEY *ec_from(uint8_t algorithm, const uint8_t *d_bin, const uint8_t *pub_xy)
{
	size_t k = emu_asym_size(algorithm);
	int nid = algorithm == YH_ALGO_EC_P256 ? NID_X9_62_prime256v1 : NID_secp384r1;
	EC_GROUP *group = EC_GROUP_new_by_curve_name(nid);
	EC_POINT *point = group != NULL ? EC_POINT_new(group) : NULL;
	BIGNUM *d = BN_bin2bn(d_bin, (int)k, NULL);
	uint8_t pub[1 + 2 * 66];
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (point == NULL || d == NULL || bld == NULL || BN_is_zero(d))
		goto out;
	pub[0] = 0x04;
	if (pub_xy != NULL) {
		memcpy(pub + 1, pub_xy, 2 * k);
	} else if (EC_POINT_mul(group, point, d, NULL, NULL, NULL) != 1 ||
		   EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), NULL) != 1 + 2 * k) {
		goto out;
	}
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve(algorithm), 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * k) != 1)
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pctx);
	BN_clear_free(d);
	EC_POINT_free(point);
	EC_GROUP_free(group);
	return pkey;
}

int emu_asym_import(uint8_t algorithm, const uint8_t *in, size_t in_len, uint8_t **data, size_t *len)
{
	size_t k = emu_asym_size(algorithm);
	EVP_PKEY *pkey;
	int r;

	if (k == 0)
		return -1;
	if (emu_asym_is_rsa(algorithm)) {
		if (in_len != k)
			return -1;
		pkey = rsa_from(in, in + k / 2, k / 2);
	} else {
		if (in_len != k)
			return -1;
		pkey = ec_from(algorithm, in, NULL);
	}
	if (pkey == NULL)
		return -1;
	r = serialize(algorithm, pkey, data, len);
	EVP_PKEY_free(pkey);
	return r;
}

EVP_PKEY *emu_asym_pkey(uint8_t algorithm, const uint8_t *data, size_t len)
{
	size_t k = emu_asym_size(algorithm);

	if (k == 0 || len != layout_len(algorithm))
		return NULL;
	if (emu_asym_is_rsa(algorithm))
		return rsa_from(data, data + k / 2, k / 2);
	return ec_from(algorithm, data, data + k);
}

size_t emu_asym_public(uint8_t algorithm, const uint8_t *data, size_t len, const uint8_t **pub)
{
	size_t k = emu_asym_size(algorithm);

	if (k == 0 || len != layout_len(algorithm))
		return 0;
	if (emu_asym_is_rsa(algorithm)) {
		*pub = data + k / 2 * 5;
		return k;
	}
	*pub = data + k;
	return 2 * k;
}
