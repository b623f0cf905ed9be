/* Key pairs and certificates created inside the token. */
#include "hsm_internal.h"
#include "yh_backend.h"

#include "../common/error.h"

#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_ID_LEN 16

int rombsr_hsm_generate_key(struct rombsr_hsm *hsm, const char *label, enum rombsr_key_kind kind,
			    unsigned bits, unsigned flags, struct rombsr_hsm_key *key)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_generate_key(hsm, label, kind, bits, flags, key);
	static const unsigned char f4[] = {0x01, 0x00, 0x01};
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL wrappable = (flags & ROMBSR_HSM_KEY_WRAPPABLE) ? CK_TRUE : CK_FALSE;
	CK_ULONG modulus_bits = bits;
	size_t ec_params_len;
	const unsigned char *ec_params = rombsr_key_kind_ec_params(kind, &ec_params_len);
	unsigned char id[KEY_ID_LEN];
	CK_MECHANISM mech = {kind == ROMBSR_KEY_RSA ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0};
	CK_ATTRIBUTE pub[8], priv[11];
	CK_ULONG npub = 0, npriv = 0;
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int r;

	if (kind != ROMBSR_KEY_RSA && (ec_params == NULL || bits != rombsr_key_kind_ec_bits(kind)))
		return rombsr_error(ROMBSR_EINVAL, "key '%s': %u bits is not the curve of a %s key", label, bits,
				    rombsr_key_kind_text(kind));
	r = rombsr_hsm_find_key(hsm, label, key);
	if (r == 0)
		return rombsr_error(ROMBSR_EEXISTS, "key '%s' already exists in token '%s'", label,
				    hsm->token_label);
	if (r != ROMBSR_ENOTFOUND)
		return r;
	if (RAND_bytes(id, sizeof(id)) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot draw a key ID");

#define ATTR(list, n, t, v, l) (list[n++] = (CK_ATTRIBUTE){(t), (void *)(v), (l)})
	ATTR(pub, npub, CKA_TOKEN, &yes, sizeof(yes));
	ATTR(pub, npub, CKA_VERIFY, &yes, sizeof(yes));
	ATTR(pub, npub, CKA_ENCRYPT, &no, sizeof(no));
	ATTR(pub, npub, CKA_WRAP, &no, sizeof(no));
	ATTR(pub, npub, CKA_ID, id, sizeof(id));
	ATTR(pub, npub, CKA_LABEL, label, strlen(label));
	if (kind == ROMBSR_KEY_RSA) {
		ATTR(pub, npub, CKA_MODULUS_BITS, &modulus_bits, sizeof(modulus_bits));
		ATTR(pub, npub, CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
	} else {
		ATTR(pub, npub, CKA_EC_PARAMS, ec_params, ec_params_len);
	}
	ATTR(priv, npriv, CKA_TOKEN, &yes, sizeof(yes));
	ATTR(priv, npriv, CKA_PRIVATE, &yes, sizeof(yes));
	ATTR(priv, npriv, CKA_SENSITIVE, &yes, sizeof(yes));
	ATTR(priv, npriv, CKA_EXTRACTABLE, &wrappable, sizeof(wrappable));
	/* Extractable, but only wrapped by a CKA_TRUSTED key: SoftHSM2 refuses
	 * C_WrapKey with any other (CKR_KEY_NOT_WRAPPABLE). Named only when set:
	 * the default template stays what every module already accepted. */
	if (wrappable)
		ATTR(priv, npriv, CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes));
	ATTR(priv, npriv, CKA_SIGN, &yes, sizeof(yes));
	ATTR(priv, npriv, CKA_DECRYPT, &no, sizeof(no));
	ATTR(priv, npriv, CKA_UNWRAP, &no, sizeof(no));
	ATTR(priv, npriv, CKA_DERIVE, &no, sizeof(no));
	ATTR(priv, npriv, CKA_ID, id, sizeof(id));
	ATTR(priv, npriv, CKA_LABEL, label, strlen(label));
#undef ATTR

	r = rombsr_hsm_session_get(hsm, &s);
	if (r < 0)
		return r;
	rv = hsm->f->C_GenerateKeyPair(s, &mech, pub, npub, priv, npriv, &hpub, &hpriv);
	rombsr_hsm_session_put(hsm, s);
	if (rv != CKR_OK)
		return rombsr_hsm_fail(ROMBSR_EHSM, "C_GenerateKeyPair", hsm, rv);
	/* The handles are the new objects: no search of the whole token (one
	 * per key made keygen of a large key set slow); the shape is read back
	 * from the token, not taken from the request. */
	memset(key, 0, sizeof(*key));
	key->private_key = hpriv;
	key->public_key = hpub;
	key->certificate = CK_INVALID_HANDLE;
	memcpy(key->id, id, sizeof(id));
	key->id_len = sizeof(id);
	snprintf(key->label, sizeof(key->label), "%s", label);
	return rombsr_hsm_key_shape(hsm, key);
}

int rombsr_hsm_store_certificate(struct rombsr_hsm *hsm, struct rombsr_hsm_key *key,
				 const unsigned char *der, size_t der_len)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_store_certificate(hsm, key, der, der_len);
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE type = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	const unsigned char *p = der;
	unsigned char *subject = NULL, *issuer = NULL, *serial = NULL;
	int subject_len, issuer_len, serial_len;
	CK_OBJECT_HANDLE handle;
	CK_SESSION_HANDLE s;
	X509 *cert;
	CK_RV rv;
	int r = ROMBSR_EINTERNAL;

	if (key->certificate != CK_INVALID_HANDLE)
		return rombsr_error(ROMBSR_EEXISTS, "key '%s' already has a certificate", key->label);
	cert = d2i_X509(NULL, &p, (long)der_len);
	if (cert == NULL)
		return rombsr_error_openssl(ROMBSR_EINVAL, "certificate for '%s' is not DER X.509", key->label);
	subject_len = i2d_X509_NAME(X509_get_subject_name(cert), &subject);
	issuer_len = i2d_X509_NAME(X509_get_issuer_name(cert), &issuer);
	serial_len = i2d_ASN1_INTEGER(X509_get_serialNumber(cert), &serial);
	if (subject_len <= 0 || issuer_len <= 0 || serial_len <= 0) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot encode certificate fields");
		goto out;
	}
	{
		CK_ATTRIBUTE tmpl[] = {
			{CKA_CLASS, &cls, sizeof(cls)},
			{CKA_CERTIFICATE_TYPE, &type, sizeof(type)},
			{CKA_TOKEN, &yes, sizeof(yes)},
			{CKA_PRIVATE, &no, sizeof(no)},
			{CKA_ID, key->id, key->id_len},
			{CKA_LABEL, key->label, strlen(key->label)},
			{CKA_SUBJECT, subject, (CK_ULONG)subject_len},
			{CKA_ISSUER, issuer, (CK_ULONG)issuer_len},
			{CKA_SERIAL_NUMBER, serial, (CK_ULONG)serial_len},
			{CKA_VALUE, (void *)der, der_len},
		};

		r = rombsr_hsm_session_get(hsm, &s);
		if (r < 0)
			goto out;
		rv = hsm->f->C_CreateObject(s, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &handle);
		rombsr_hsm_session_put(hsm, s);
		if (rv != CKR_OK) {
			r = rombsr_hsm_fail(ROMBSR_EHSM, "C_CreateObject (certificate)", hsm, rv);
			goto out;
		}
	}
	key->certificate = handle;
	r = 0;
out:
	OPENSSL_free(subject);
	OPENSSL_free(issuer);
	OPENSSL_free(serial);
	X509_free(cert);
	return r;
}
