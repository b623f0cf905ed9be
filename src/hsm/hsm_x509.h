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

/* A self-signed X.509 v3 certificate for key, CN=common_name, valid for
 * days, signed inside the token (SHA-256 with RSA or ECDSA) and checked
 * against the public key before it is returned. */
int rombsr_hsm_make_certificate(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key,
				const char *organization, unsigned days, X509 **out);

/* The key's certificate from the token, or ROMBSR_ENOTFOUND. */
int rombsr_hsm_read_certificate(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, X509 **out);

#endif
