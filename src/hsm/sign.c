/* Signing inside the token: only digests (or, for replaying what a client
 * asked for, the exact mechanism input), never whole files. */
#include "hsm_internal.h"
#include "yh_backend.h"

#include "../common/capture_format.h"
#include "../common/ecdsa_sig.h"
#include "../common/error.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <string.h>

int rombsr_hsm_sign_raw(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key,
			const CK_MECHANISM *mechanism, const unsigned char *data, size_t data_len,
			unsigned char *sig, size_t *sig_len)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_sign_raw(hsm, key, mechanism, data, data_len, sig, sig_len);
	CK_ULONG out_len = *sig_len;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int r;

	r = rombsr_hsm_session_get(hsm, &s);
	if (r < 0)
		return r;
	rv = hsm->f->C_SignInit(s, (CK_MECHANISM *)mechanism, key->private_key);
	if (rv != CKR_OK) {
		rombsr_hsm_note_rv(rv);
		r = rombsr_error(ROMBSR_EHSM, "C_SignInit with key '%s' (token '%s'): %s", key->label,
				 hsm->token_label, rombsr_ckr_name(rv));
		goto out;
	}
	rv = hsm->f->C_Sign(s, (CK_BYTE_PTR)data, data_len, sig, &out_len);
	if (rv != CKR_OK) {
		rombsr_hsm_note_rv(rv);
		r = rombsr_error(ROMBSR_EHSM, "C_Sign with key '%s' (token '%s'): %s", key->label,
				 hsm->token_label, rombsr_ckr_name(rv));
		goto out;
	}
	*sig_len = out_len;
out:
	rombsr_hsm_session_put(hsm, s);
	return r;
}

/* X.509, openssl and apksig want DER, in the caller's buffer. */
static int ecdsa_raw_to_der(const unsigned char *raw, size_t raw_len, unsigned char *sig, size_t *sig_len)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	int r = rombsr_ecdsa_raw_to_der(raw, raw_len, &der, &der_len);

	if (r == 0 && der_len > *sig_len)
		r = rombsr_error(ROMBSR_EINVAL, "signature buffer too small (%zu bytes needed)", der_len);
	if (r == 0) {
		memcpy(sig, der, der_len);
		*sig_len = der_len;
	}
	OPENSSL_free(der);
	return r;
}

int rombsr_hsm_sign_digest(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key,
			   enum rombsr_sigalg alg, const unsigned char *digest, size_t digest_len,
			   unsigned char *sig, size_t *sig_len)
{
	const bool sha512 = rombsr_sigalg_digest_len(alg) == 64;
	CK_RSA_PKCS_PSS_PARAMS pss = {
		.hashAlg = sha512 ? CKM_SHA512 : CKM_SHA256,
		.mgf = sha512 ? CKG_MGF1_SHA512 : CKG_MGF1_SHA256,
		.sLen = rombsr_sigalg_digest_len(alg),
	};
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	unsigned char info[19 + 64];
	size_t info_len = sizeof(info);
	unsigned char raw[132];
	size_t raw_len = sizeof(raw);
	int r;

	if (alg >= ROMBSR_SIG_COUNT)
		return rombsr_error(ROMBSR_EINVAL, "unknown signature algorithm");
	if (digest_len != rombsr_sigalg_digest_len(alg))
		return rombsr_error(ROMBSR_EINVAL, "%s needs a %zu-byte digest, got %zu bytes",
				    rombsr_sigalg_name(alg), rombsr_sigalg_digest_len(alg), digest_len);
	if (rombsr_sigalg_key_kind(alg) != key->kind)
		return rombsr_error(ROMBSR_EINVAL, "key '%s' cannot make %s signatures", key->label,
				    rombsr_sigalg_name(alg));
	switch (alg) {
	case ROMBSR_SIG_RSA_PKCS1_SHA256:
	case ROMBSR_SIG_RSA_PKCS1_SHA512:
		r = rombsr_cap_digest_info(sha512 ? "SHA512" : "SHA256", digest, digest_len, info, &info_len);
		if (r < 0)
			return r;
		return rombsr_hsm_sign_raw(hsm, key, &mech, info, info_len, sig, sig_len);
	case ROMBSR_SIG_RSA_PSS_SHA256:
	case ROMBSR_SIG_RSA_PSS_SHA512:
		mech = (CK_MECHANISM){CKM_RSA_PKCS_PSS, &pss, sizeof(pss)};
		return rombsr_hsm_sign_raw(hsm, key, &mech, digest, digest_len, sig, sig_len);
	case ROMBSR_SIG_ECDSA_SHA256:
	case ROMBSR_SIG_ECDSA_SHA384:
		mech = (CK_MECHANISM){CKM_ECDSA, NULL, 0};
		r = rombsr_hsm_sign_raw(hsm, key, &mech, digest, digest_len, raw, &raw_len);
		if (r < 0)
			return r;
		if (raw_len != 2 * rombsr_key_kind_ec_bytes(key->kind))
			return rombsr_error(ROMBSR_EHSM, "token returned a %zu-byte %s signature (%zu expected)", raw_len,
					    rombsr_key_kind_text(key->kind), 2 * rombsr_key_kind_ec_bytes(key->kind));
		return ecdsa_raw_to_der(raw, raw_len, sig, sig_len);
	case ROMBSR_SIG_COUNT:
		break;
	}
	return rombsr_error(ROMBSR_EINTERNAL, "unhandled signature algorithm");
}
