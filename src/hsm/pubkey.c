#include "hsm_x509.h"

#include "../common/error.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdlib.h>

static int rsa_public_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY **out)
{
	CK_OBJECT_HANDLE obj = key->public_key != CK_INVALID_HANDLE ? key->public_key : key->private_key;
	unsigned char *n = NULL, *e = NULL;
	size_t n_len, e_len;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int r;

	r = rombsr_hsm_get_attribute(hsm, obj, CKA_MODULUS, &n, &n_len);
	if (r == 0)
		r = rombsr_hsm_get_attribute(hsm, obj, CKA_PUBLIC_EXPONENT, &e, &e_len);
	if (r < 0)
		goto out;
	bn_n = BN_bin2bn(n, (int)n_len, NULL);
	bn_e = BN_bin2bn(e, (int)e_len, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn_n == NULL || bn_e == NULL || bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "key '%s': cannot build the RSA public key", key->label);
out:
	free(n);
	free(e);
	BN_free(bn_n);
	BN_free(bn_e);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int ec_public_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY **out)
{
	unsigned char *point_der = NULL;
	size_t point_len;
	const unsigned char *p;
	ASN1_OCTET_STRING *point = NULL;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	int r;

	if (key->public_key == CK_INVALID_HANDLE)
		return rombsr_error(ROMBSR_ENOTFOUND, "key '%s': no public key object in the token", key->label);
	r = rombsr_hsm_get_attribute(hsm, key->public_key, CKA_EC_POINT, &point_der, &point_len);
	if (r < 0)
		return r;
	/* CKA_EC_POINT is the DER OCTET STRING around the X9.62 point. */
	p = point_der;
	point = d2i_ASN1_OCTET_STRING(NULL, &p, (long)point_len);
	if (point == NULL) {
		r = rombsr_error_openssl(ROMBSR_EHSM, "key '%s': CKA_EC_POINT is not DER", key->label);
		goto out;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)rombsr_key_kind_ec_group(key->kind), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point->data,
						      (size_t)point->length);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "key '%s': cannot build the EC public key", key->label);
out:
	free(point_der);
	ASN1_OCTET_STRING_free(point);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int rombsr_hsm_public_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY **out)
{
	*out = NULL;
	if (key->kind == ROMBSR_KEY_RSA)
		return rsa_public_key(hsm, key, out);
	return ec_public_key(hsm, key, out);
}
