#include "sigcheck.h"

#include "../common/ecdsa_sig.h"
#include "../common/error.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <string.h>

size_t rombsr_sigcheck_sig_len(EVP_PKEY *pub)
{
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_RSA:
		return (size_t)EVP_PKEY_get_size(pub);
	case EVP_PKEY_EC:
		return 2 * (((size_t)EVP_PKEY_get_bits(pub) + 7) / 8);
	default:
		return 0;
	}
}

static const EVP_MD *md_named(const char *name)
{
	return name != NULL ? EVP_get_digestbyname(name) : NULL;
}

/* Sets the verification up for op on ctx; false if OpenSSL refuses a
 * parameter (which then cannot verify either). */
static bool setup(EVP_PKEY_CTX *ctx, const struct rombsr_cap_op *op, bool recover)
{
	const struct rombsr_cap_mech *m = op->mech;

	if ((recover ? EVP_PKEY_verify_recover_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1)
		return false;
	if (m->ec)
		/* ECDSA over a digest; a hash mechanism's digest must also be
		 * that hash's length. */
		return m->hash == NULL || EVP_PKEY_CTX_set_signature_md(ctx, md_named(m->hash)) == 1;
	if (m->pss)
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		       EVP_PKEY_CTX_set_signature_md(ctx, md_named(rombsr_cap_hash_name(op->pss.hash))) == 1 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md_named(rombsr_cap_mgf_hash_name(op->pss.mgf))) == 1 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)op->pss.salt_len) == 1;
	if (m->type == CKM_RSA_X_509)
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) == 1;
	/* PKCS#1 v1.5: a hash mechanism signs DigestInfo(hash, tbs), which
	 * OpenSSL builds from the signature digest; CKM_RSA_PKCS signed the
	 * recorded DigestInfo itself, recovered and compared below. */
	return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	       (m->hash == NULL || EVP_PKEY_CTX_set_signature_md(ctx, md_named(m->hash)) == 1);
}

int rombsr_sigcheck_verify(EVP_PKEY *pub, const struct rombsr_cap_op *op, const unsigned char *sig, size_t sig_len)
{
	const struct rombsr_cap_mech *m = op->mech;
	int want_type = m->ec ? EVP_PKEY_EC : EVP_PKEY_RSA;
	size_t want_len = rombsr_sigcheck_sig_len(pub), rec_len = 0;
	/* CKM_RSA_PKCS and CKM_RSA_X_509 define no hash: the signature is
	 * checked by recovering the signed block and comparing. */
	bool recover = m->type == CKM_RSA_PKCS || m->type == CKM_RSA_X_509;
	unsigned char *der = NULL, *recovered = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t der_len = 0;
	int r, ok;

	if (EVP_PKEY_get_base_id(pub) != want_type)
		return rombsr_error(ROMBSR_ESECURITY, "%s needs an %s key", m->name,
				    m->ec ? "EC" : "RSA");
	if (sig_len != want_len)
		return rombsr_error(ROMBSR_ESECURITY, "signature of %zu bytes, the key makes %zu-byte signatures", sig_len,
				    want_len);
	if (m->pss && (r = rombsr_cap_pss_check(m, &op->pss, want_len)) < 0)
		return rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "PSS parameters");
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	recovered = recover ? OPENSSL_malloc(want_len) : NULL;
	if (ctx == NULL || (recover && recovered == NULL)) {
		r = rombsr_error_openssl(ROMBSR_ENOMEM, "cannot verify a signature");
		goto out;
	}
	if (m->ec && (r = rombsr_ecdsa_raw_to_der(sig, sig_len, &der, &der_len)) < 0)
		goto out;
	ok = setup(ctx, op, recover);
	if (ok && recover) {
		rec_len = want_len;
		ok = EVP_PKEY_verify_recover(ctx, recovered, &rec_len, sig, sig_len) == 1 && rec_len == op->tbs_len &&
		     CRYPTO_memcmp(recovered, op->tbs, rec_len) == 0;
	} else if (ok) {
		ok = der != NULL ? EVP_PKEY_verify(ctx, der, der_len, op->tbs, op->tbs_len) == 1
				 : EVP_PKEY_verify(ctx, sig, sig_len, op->tbs, op->tbs_len) == 1;
	}
	/* OpenSSL queues a reason for a bad signature; the verdict is ours. */
	ERR_clear_error();
	r = ok ? 0 : rombsr_error(ROMBSR_ESECURITY, "%s signature does not verify", m->name);
out:
	OPENSSL_free(der);
	OPENSSL_clear_free(recovered, want_len);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int rombsr_sigcheck_bundle(const struct rombsr_bundle *b, const struct rombsr_cap_op *op, const unsigned char *sig,
			   size_t sig_len, const struct rombsr_bundle_key **key)
{
	const struct rombsr_bundle_key *k = rombsr_bundle_find_spki(b, op->spki_sha256);
	int r;

	if (key != NULL)
		*key = k;
	if (k == NULL)
		return rombsr_error(ROMBSR_ESECURITY, "key '%s' (%.16s...) is not in the public bundle", op->label,
				    op->spki_sha256);
	if (strcmp(k->label, op->label) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "key %.16s... is '%s' in the public bundle, not '%s'",
				    op->spki_sha256, k->label, op->label);
	r = rombsr_sigcheck_verify(k->public_key, op, sig, sig_len);
	return r < 0 ? rombsr_error_wrap(r, "key '%s' (%.16s...)", k->label, op->spki_sha256) : 0;
}
