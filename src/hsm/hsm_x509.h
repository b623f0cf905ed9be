/* The HSM layer's use of OpenSSL: public keys read from the token, and
 * certificates whose signature the token makes. */
#ifndef ROMBSR_HSM_X509_H
#define ROMBSR_HSM_X509_H

#include "hsm.h"

#include "../common/bundle.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

/* The key's public half as an OpenSSL key. */
int rombsr_hsm_public_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY **out);
/* 0 if the token's private key makes signatures pub verifies (one
 * signature of a random digest), else ROMBSR_ESECURITY. */
int rombsr_hsm_key_proves(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY *pub);
/* Makes the public key object of an EC key that has none (a key restored
 * from a backup) from pub, which must be on the key's curve; sets
 * key->public_key. Prove the pairing first (rombsr_hsm_key_proves). */
int rombsr_hsm_store_ec_public_key(struct rombsr_hsm *hsm, struct rombsr_hsm_key *key, EVP_PKEY *pub);

/* A self-signed X.509 v3 certificate for key, CN=common_name, valid for
 * days, signed inside the token (SHA-256 with RSA or P-256 ECDSA, SHA-384
 * with P-384 ECDSA) and checked against the public key before it is
 * returned. */
int rombsr_hsm_make_certificate(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key,
				const char *organization, unsigned days, X509 **out);

/* The key's certificate from the token, or ROMBSR_ENOTFOUND. */
int rombsr_hsm_read_certificate(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, X509 **out);

#endif
