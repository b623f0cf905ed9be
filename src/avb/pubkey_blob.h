/* The AVB public key blob for RSA (docs/avb.md, "Public key"): key size,
 * n0inv, modulus and R^2 mod n, big-endian; the exponent is always 65537. */
#ifndef ROMBSR_AVB_PUBKEY_BLOB_H
#define ROMBSR_AVB_PUBKEY_BLOB_H

#include "../common/buf.h"

#include <openssl/evp.h>
#include <stddef.h>

/* Appends key's blob to out. ROMBSR_EINVAL if key is not RSA, its exponent
 * is not 65537 or its size is not 2048, 4096 or 8192 bits; ROMBSR_ECRYPTO
 * if OpenSSL fails. */
int rombsr_avb_pubkey_blob(EVP_PKEY *key, struct rombsr_buf *out);

/* Parses a blob back into an RSA public key. Strict: the length must match
 * the key size, the modulus must use every bit, and n0inv and R^2 mod n
 * must be the values the modulus gives (libavb trusts them when it
 * verifies, so a blob with wrong ones is not the key it claims to be).
 * ROMBSR_EINVAL with a message, ROMBSR_ECRYPTO if OpenSSL fails. */
int rombsr_avb_pubkey_parse(const unsigned char *blob, size_t len, EVP_PKEY **out);

#endif
