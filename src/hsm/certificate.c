/* Certificates for keys that never leave the token: OpenSSL builds the
 * TBSCertificate, the token signs its digest. */
#include "hsm_x509.h"

#include "../common/error.h"

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

static int add_extension(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot make extension %s", OBJ_nid2sn(nid));
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot add extension");
}

static int fill_tbs(X509 *x, const struct rombsr_hsm_key *key, EVP_PKEY *pub, const char *organization,
		    unsigned days)
{
	unsigned char serial[16];
	X509_NAME *name = X509_get_subject_name(x);
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot draw a serial number");
	serial[0] &= 0x7f; /* positive, as RFC 5280 requires */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	ok = ok && X509_set_version(x, X509_VERSION_3) == 1 &&
	     X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	     X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) != NULL &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)organization, -1, -1, 0) == 1 &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)key->label, -1, -1, 0) == 1 &&
	     X509_set_issuer_name(x, name) == 1 && X509_set_pubkey(x, pub) == 1;
	if (!ok)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot fill the certificate of '%s'", key->label);
	if (add_extension(x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
	    add_extension(x, NID_key_usage, "critical,digitalSignature,keyCertSign") < 0 ||
	    add_extension(x, NID_subject_key_identifier, "hash") < 0)
		return ROMBSR_ECRYPTO;
	return 0;
}

/* OpenSSL offers no setter for a signature made elsewhere, so the two
 * AlgorithmIdentifiers and the signature bits are set through the
 * pointers X509_get0_* hand out; i2d_re_X509_tbs re-encodes afterwards. */
static int sign_tbs(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, X509 *x)
{
	const bool rsa = key->kind == ROMBSR_KEY_RSA;
	/* A P-384 key signs with SHA-384, the digest of its strength. */
	const bool p384 = key->kind == ROMBSR_KEY_EC_P384;
	const int nid = rsa ? NID_sha256WithRSAEncryption : p384 ? NID_ecdsa_with_SHA384 : NID_ecdsa_with_SHA256;
	const enum rombsr_sigalg alg = rsa ? ROMBSR_SIG_RSA_PKCS1_SHA256 : p384 ? ROMBSR_SIG_ECDSA_SHA384
									       : ROMBSR_SIG_ECDSA_SHA256;
	unsigned int md_len = 0;
	const ASN1_BIT_STRING *csig;
	const X509_ALGOR *calg;
	ASN1_BIT_STRING *sig;
	unsigned char *tbs = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char value[1024];
	size_t value_len = sizeof(value);
	int tbs_len, r;

	X509_get0_signature(&csig, &calg, x);
	sig = (ASN1_BIT_STRING *)csig;
	if (X509_ALGOR_set0((X509_ALGOR *)X509_get0_tbs_sigalg(x), OBJ_nid2obj(nid),
			    rsa ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) != 1 ||
	    X509_ALGOR_set0((X509_ALGOR *)calg, OBJ_nid2obj(nid), rsa ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot set the signature algorithm");
	tbs_len = i2d_re_X509_tbs(x, &tbs);
	if (tbs_len <= 0)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot encode the certificate body");
	if (EVP_Digest(tbs, (size_t)tbs_len, md, &md_len, p384 ? EVP_sha384() : EVP_sha256(), NULL) != 1) {
		OPENSSL_free(tbs);
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot hash the certificate body");
	}
	OPENSSL_free(tbs);
	r = rombsr_hsm_sign_digest(hsm, key, alg, md, md_len, value, &value_len);
	if (r < 0)
		return r;
	if (ASN1_BIT_STRING_set(sig, value, (int)value_len) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot store the signature");
	sig->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	sig->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	return 0;
}

int rombsr_hsm_make_certificate(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key,
				const char *organization, unsigned days, X509 **out)
{
	EVP_PKEY *pub = NULL;
	X509 *x = X509_new(), *parsed = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	int der_len, r;

	*out = NULL;
	if (x == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = rombsr_hsm_public_key(hsm, key, &pub);
	if (r == 0)
		r = fill_tbs(x, key, pub, organization, days);
	if (r == 0)
		r = sign_tbs(hsm, key, x);
	if (r < 0)
		goto out;
	/* Round-trip through DER so the caller gets exactly what is stored,
	 * and check the token's signature before anyone relies on it. */
	der_len = i2d_X509(x, &der);
	p = der;
	if (der_len <= 0 || (parsed = d2i_X509(NULL, &p, der_len)) == NULL) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot encode the certificate of '%s'", key->label);
		goto out;
	}
	if (X509_verify(parsed, pub) != 1) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO,
					 "the token's signature on the certificate of '%s' does not verify",
					 key->label);
		goto out;
	}
	*out = parsed;
	parsed = NULL;
out:
	OPENSSL_free(der);
	X509_free(parsed);
	X509_free(x);
	EVP_PKEY_free(pub);
	return r;
}

int rombsr_hsm_read_certificate(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, X509 **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len;
	int r;

	*out = NULL;
	if (key->certificate == CK_INVALID_HANDLE)
		return rombsr_error(ROMBSR_ENOTFOUND, "key '%s' has no certificate in token '%s'", key->label,
				    rombsr_hsm_token_label(hsm));
	r = rombsr_hsm_get_attribute(hsm, key->certificate, CKA_VALUE, &der, &len);
	if (r < 0)
		return r;
	p = der;
	*out = d2i_X509(NULL, &p, (long)len);
	free(der);
	if (*out == NULL)
		return rombsr_error_openssl(ROMBSR_EHSM, "certificate of '%s' in the token is not DER X.509",
					    key->label);
	return 0;
}
