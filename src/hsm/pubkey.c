#include "hsm_internal.h"
#include "yh_backend.h"
#include "hsm_x509.h"

#include "../common/ecdsa_sig.h"
#include "../common/error.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

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

/* A key restored from a backup has no public key object, and an EC private
 * key does not carry its point: the certificate stored beside it (checked
 * to be its key when it was stored) says it. */
static int certificate_public_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY **out)
{
	X509 *cert = NULL;
	int r = rombsr_hsm_read_certificate(hsm, key, &cert);

	if (r == 0 && (*out = X509_get_pubkey(cert)) == NULL)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "key '%s': its certificate has no usable public key", key->label);
	X509_free(cert);
	return r;
}

int rombsr_hsm_public_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY **out)
{
	if (hsm->yh != NULL) {
		*out = NULL;
		return rombsr_yh_hsm_public_key(hsm, key, out);
	}
	*out = NULL;
	if (key->kind != ROMBSR_KEY_RSA && key->public_key == CK_INVALID_HANDLE && key->certificate != CK_INVALID_HANDLE)
		return certificate_public_key(hsm, key, out);
	if (key->kind == ROMBSR_KEY_RSA)
		return rsa_public_key(hsm, key, out);
	return ec_public_key(hsm, key, out);
}

/* A key restored from a backup has no public key object: the wrapped
 * private key of an EC key carries no point. It is made from the
 * certificate's key, once rombsr_hsm_key_proves() showed they pair. */
int rombsr_hsm_store_ec_public_key(struct rombsr_hsm *hsm, struct rombsr_hsm_key *key, EVP_PKEY *pub)
{
	/* The device gives an imported key's public key itself. */
	if (hsm->yh != NULL)
		return 0;
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE type = CKK_EC;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	const size_t want = 1 + 2 * rombsr_key_kind_ec_bytes(key->kind);
	unsigned char point[2 + 1 + ROMBSR_ECDSA_RAW_MAX];
	size_t params_len = 0, len = 0;
	const unsigned char *params = rombsr_key_kind_ec_params(key->kind, &params_len);
	char group[32] = "";
	enum rombsr_key_kind kind;
	CK_OBJECT_HANDLE handle;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int r;

	if (params == NULL || want + 2 > sizeof(point))
		return rombsr_error(ROMBSR_EINVAL, "key '%s' is not an EC key", key->label);
	if (key->public_key != CK_INVALID_HANDLE)
		return rombsr_error(ROMBSR_EEXISTS, "key '%s' already has a public key object", key->label);
	if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) != 1 ||
	    rombsr_key_kind_from_ec_group(group, &kind) < 0 || kind != key->kind ||
	    EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point + 2, sizeof(point) - 2,
					    &len) != 1 ||
	    len != want || point[2] != 0x04) {
		ERR_clear_error();
		return rombsr_error(ROMBSR_EINVAL, "key '%s': the public key is not an uncompressed %s point", key->label,
				    rombsr_key_kind_text(key->kind));
	}
	/* CKA_EC_POINT: the DER OCTET STRING around the point (under 128
	 * bytes: a one-byte length). */
	point[0] = 0x04;
	point[1] = (unsigned char)want;
	{
		CK_ATTRIBUTE tmpl[] = {
			{CKA_CLASS, &cls, sizeof(cls)},
			{CKA_KEY_TYPE, &type, sizeof(type)},
			{CKA_TOKEN, &yes, sizeof(yes)},
			{CKA_PRIVATE, &no, sizeof(no)},
			{CKA_VERIFY, &yes, sizeof(yes)},
			{CKA_ENCRYPT, &no, sizeof(no)},
			{CKA_WRAP, &no, sizeof(no)},
			{CKA_ID, key->id, key->id_len},
			{CKA_LABEL, key->label, strlen(key->label)},
			{CKA_EC_PARAMS, (void *)params, params_len},
			{CKA_EC_POINT, point, want + 2},
		};

		r = rombsr_hsm_session_get(hsm, &s);
		if (r < 0)
			return r;
		rv = hsm->f->C_CreateObject(s, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &handle);
		rombsr_hsm_session_put(hsm, s);
	}
	if (rv != CKR_OK)
		return rombsr_hsm_fail(ROMBSR_EHSM, "C_CreateObject (public key)", hsm, rv);
	key->public_key = handle;
	return 0;
}

/* A signature of a random digest by the token's private key, verified
 * with pub: the only way to tell that an EC private key and a public key
 * pair when the token cannot give the private key's point. */
int rombsr_hsm_key_proves(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY *pub)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_key_proves(hsm, key, pub);
	const enum rombsr_sigalg alg = key->kind == ROMBSR_KEY_EC_P384 ? ROMBSR_SIG_ECDSA_SHA384
					: key->kind == ROMBSR_KEY_EC_P256 ? ROMBSR_SIG_ECDSA_SHA256
									  : ROMBSR_SIG_RSA_PKCS1_SHA256;
	const size_t digest_len = rombsr_sigalg_digest_len(alg);
	unsigned char digest[64], sig[1024];
	size_t sig_len = sizeof(sig);
	EVP_PKEY_CTX *ctx;
	int r, ok;

	if (RAND_bytes(digest, (int)digest_len) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot draw a digest to sign");
	r = rombsr_hsm_sign_digest(hsm, key, alg, digest, digest_len, sig, &sig_len);
	if (r < 0)
		return r;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_get_digestbyname(rombsr_sigalg_digest_name(alg))) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "key '%s': cannot set up a verification", key->label);
	}
	ok = EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : rombsr_error(ROMBSR_ESECURITY, "key '%s' does not make signatures that this public key verifies",
				     key->label);
}
