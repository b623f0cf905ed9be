/* The signature algorithms ROMbsr makes and checks, with the names used in
 * every ROMbsr format (docs/formats). */
#ifndef ROMBSR_SIGALG_H
#define ROMBSR_SIGALG_H

#include <stdbool.h>
#include <stddef.h>

enum rombsr_sigalg {
	ROMBSR_SIG_RSA_PKCS1_SHA256,
	ROMBSR_SIG_RSA_PKCS1_SHA512,
	ROMBSR_SIG_RSA_PSS_SHA256,
	ROMBSR_SIG_RSA_PSS_SHA512,
	ROMBSR_SIG_ECDSA_SHA256,
	ROMBSR_SIG_ECDSA_SHA384,
	ROMBSR_SIG_COUNT
};

/* A key's kind. An EC key's "bits" are its curve's (256, 384), an RSA
 * key's its modulus size. */
enum rombsr_key_kind { ROMBSR_KEY_RSA, ROMBSR_KEY_EC_P256, ROMBSR_KEY_EC_P384 };

const char *rombsr_sigalg_name(enum rombsr_sigalg alg);
int rombsr_sigalg_from_name(const char *name, enum rombsr_sigalg *alg);
/* Length of the digest the algorithm signs (32, 48 or 64). */
size_t rombsr_sigalg_digest_len(enum rombsr_sigalg alg);
/* The one kind of key that makes these signatures: RSA, or for ECDSA the
 * curve that goes with the digest (P-256 with SHA-256, P-384 with SHA-384). */
enum rombsr_key_kind rombsr_sigalg_key_kind(enum rombsr_sigalg alg);
/* A key's algorithm as `rombsr keys` and the audit log name it:
 * "rsa-<bits>", "ec-p256" or "ec-p384". */
void rombsr_key_algorithm_name(enum rombsr_key_kind kind, unsigned bits, char out[16]);

/* EC kinds: their curves, by the names OpenSSL gives them ("prime256v1",
 * "secp384r1") and by the DER OID PKCS#11 keeps in CKA_EC_PARAMS. */
bool rombsr_key_kind_is_ec(enum rombsr_key_kind kind);
/* Bytes of one coordinate, and of each of r and s of a raw ECDSA
 * signature (r||s is twice this): 32, 48; 0 for RSA. */
size_t rombsr_key_kind_ec_bytes(enum rombsr_key_kind kind);
/* The curve's bits (256, 384); 0 for RSA. */
unsigned rombsr_key_kind_ec_bits(enum rombsr_key_kind kind);
/* OpenSSL's group name, or NULL for RSA. */
const char *rombsr_key_kind_ec_group(enum rombsr_key_kind kind);
/* The DER OID of the curve (CKA_EC_PARAMS), or NULL for RSA. */
const unsigned char *rombsr_key_kind_ec_params(enum rombsr_key_kind kind, size_t *len);
/* The EC kind of an OpenSSL group name or of a CKA_EC_PARAMS value:
 * ROMBSR_ENOTFOUND (no message) for a curve ROMbsr does not support. */
int rombsr_key_kind_from_ec_group(const char *group, enum rombsr_key_kind *kind);
int rombsr_key_kind_from_ec_params(const unsigned char *der, size_t len, enum rombsr_key_kind *kind);
/* For messages: "RSA", "EC P-256", "EC P-384". */
const char *rombsr_key_kind_text(enum rombsr_key_kind kind);
/* The kind of an OpenSSL public key (RSA, or EC on a supported curve);
 * ROMBSR_ENOTFOUND (no message) for anything else. */
struct evp_pkey_st;
int rombsr_key_kind_of(struct evp_pkey_st *pub, enum rombsr_key_kind *kind);
/* OpenSSL's digest name ("SHA256", "SHA512"). */
const char *rombsr_sigalg_digest_name(enum rombsr_sigalg alg);

#endif
