/* Checking the signature the sign side made for one captured operation
 * (docs/capture.md, "Mechanisms"), with OpenSSL and the public key only.
 *
 * The build node runs it on every signature of a response before anything
 * reaches an artifact (rombsr apply); the sign node may run it on the HSM's
 * output before publishing. It knows nothing of queues or command lines.
 *
 * The signature is in the form the client's PKCS#11 call returns and the
 * capture module replays: RSA, modulus length; ECDSA, raw r||s. */
#ifndef ROMBSR_BUILD_SIGCHECK_H
#define ROMBSR_BUILD_SIGCHECK_H

#include "../common/bundle.h"
#include "../common/capture_format.h"

#include <openssl/evp.h>
#include <stddef.h>

/* Verifies sig as pub's signature of op. A key of the wrong type, a
 * signature of the wrong length or one that does not verify is
 * ROMBSR_ESECURITY with the reason; ROMBSR_ENOMEM if OpenSSL cannot even
 * start. */
int rombsr_sigcheck_verify(EVP_PKEY *pub, const struct rombsr_cap_op *op, const unsigned char *sig, size_t sig_len);

/* The bundle key op names (by spki_sha256; its label must be op's label),
 * then rombsr_sigcheck_verify. Errors name the key; *key (may be NULL) is
 * set when the key was found. */
int rombsr_sigcheck_bundle(const struct rombsr_bundle *b, const struct rombsr_cap_op *op, const unsigned char *sig,
			   size_t sig_len, const struct rombsr_bundle_key **key);

/* Length of the signature pub makes: RSA, the modulus bytes; EC, 2 × the
 * field bytes (raw r||s). 0 for any other key. */
size_t rombsr_sigcheck_sig_len(EVP_PKEY *pub);

#endif
