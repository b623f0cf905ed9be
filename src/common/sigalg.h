/* The signature algorithms ROMbsr makes and checks, with the names used in
 * every ROMbsr format (docs/formats). */
#ifndef ROMBSR_SIGALG_H
#define ROMBSR_SIGALG_H

#include <stddef.h>

enum rombsr_sigalg {
	ROMBSR_SIG_RSA_PKCS1_SHA256,
	ROMBSR_SIG_RSA_PKCS1_SHA512,
	ROMBSR_SIG_RSA_PSS_SHA256,
	ROMBSR_SIG_RSA_PSS_SHA512,
	ROMBSR_SIG_ECDSA_SHA256,
	ROMBSR_SIG_COUNT
};

enum rombsr_key_kind { ROMBSR_KEY_RSA, ROMBSR_KEY_EC_P256 };

const char *rombsr_sigalg_name(enum rombsr_sigalg alg);
int rombsr_sigalg_from_name(const char *name, enum rombsr_sigalg *alg);
/* Length of the digest the algorithm signs (32 or 64). */
size_t rombsr_sigalg_digest_len(enum rombsr_sigalg alg);
enum rombsr_key_kind rombsr_sigalg_key_kind(enum rombsr_sigalg alg);
/* A key's algorithm as `rombsr keys` and the audit log name it:
 * "rsa-<bits>" or "ec-p256". */
void rombsr_key_algorithm_name(enum rombsr_key_kind kind, unsigned bits, char out[16]);
/* OpenSSL's digest name ("SHA256", "SHA512"). */
const char *rombsr_sigalg_digest_name(enum rombsr_sigalg alg);

#endif
