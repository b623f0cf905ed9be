/* A throwaway software P-256 key behind the checkpoint signing callback, for
 * the audit tests and bench only: in production the callback goes to the
 * HSM (rombsr_hsm_sign_digest with ROMBSR_SIG_ECDSA_SHA256). */
#ifndef ROMBSR_TEST_AUDIT_KEY_H
#define ROMBSR_TEST_AUDIT_KEY_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>

struct test_key {
	EVP_PKEY *pkey;
	unsigned char *spki;
	size_t spki_len;
	int calls;
};

static inline int test_key_new(struct test_key *k)
{
	int n;

	k->calls = 0;
	k->spki = NULL;
	k->pkey = EVP_EC_gen("P-256");
	if (k->pkey == NULL)
		return -1;
	n = i2d_PUBKEY(k->pkey, &k->spki);
	if (n <= 0)
		return -1;
	k->spki_len = (size_t)n;
	return 0;
}

static inline void test_key_free(struct test_key *k)
{
	EVP_PKEY_free(k->pkey);
	OPENSSL_free(k->spki);
	k->pkey = NULL;
	k->spki = NULL;
}

/* Signs a SHA-256 digest, like the HSM's CKM_ECDSA over a digest: DER out. */
static inline int test_key_sign(void *ctx, const unsigned char digest[32], unsigned char *sig, size_t *sig_len)
{
	struct test_key *k = ctx;
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(k->pkey, NULL);
	int ok;

	k->calls++;
	ok = pctx != NULL && EVP_PKEY_sign_init(pctx) == 1 &&
	     EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1 &&
	     EVP_PKEY_sign(pctx, sig, sig_len, digest, 32) == 1;
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : -9;
}

#endif
