#include "sigalg.h"

#include "error.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	size_t digest_len;
	enum rombsr_key_kind kind;
	const char *digest_name;
} sigalgs[ROMBSR_SIG_COUNT] = {
	[ROMBSR_SIG_RSA_PKCS1_SHA256] = {"rsa-pkcs1-sha256", 32, ROMBSR_KEY_RSA, "SHA256"},
	[ROMBSR_SIG_RSA_PKCS1_SHA512] = {"rsa-pkcs1-sha512", 64, ROMBSR_KEY_RSA, "SHA512"},
	[ROMBSR_SIG_RSA_PSS_SHA256] = {"rsa-pss-sha256", 32, ROMBSR_KEY_RSA, "SHA256"},
	[ROMBSR_SIG_RSA_PSS_SHA512] = {"rsa-pss-sha512", 64, ROMBSR_KEY_RSA, "SHA512"},
	[ROMBSR_SIG_ECDSA_SHA256] = {"ecdsa-sha256", 32, ROMBSR_KEY_EC_P256, "SHA256"},
};

const char *rombsr_sigalg_name(enum rombsr_sigalg alg)
{
	return alg < ROMBSR_SIG_COUNT ? sigalgs[alg].name : "?";
}

int rombsr_sigalg_from_name(const char *name, enum rombsr_sigalg *alg)
{
	for (int i = 0; i < ROMBSR_SIG_COUNT; i++) {
		if (strcmp(name, sigalgs[i].name) == 0) {
			*alg = (enum rombsr_sigalg)i;
			return 0;
		}
	}
	return rombsr_error(ROMBSR_EINVAL,
			    "unknown signature algorithm '%s' (known: rsa-pkcs1-sha256, rsa-pkcs1-sha512, "
			    "rsa-pss-sha256, rsa-pss-sha512, ecdsa-sha256)",
			    name);
}

size_t rombsr_sigalg_digest_len(enum rombsr_sigalg alg)
{
	return sigalgs[alg].digest_len;
}

enum rombsr_key_kind rombsr_sigalg_key_kind(enum rombsr_sigalg alg)
{
	return sigalgs[alg].kind;
}

const char *rombsr_sigalg_digest_name(enum rombsr_sigalg alg)
{
	return sigalgs[alg].digest_name;
}

void rombsr_key_algorithm_name(enum rombsr_key_kind kind, unsigned bits, char out[16])
{
	if (kind == ROMBSR_KEY_RSA)
		snprintf(out, 16, "rsa-%u", bits);
	else
		snprintf(out, 16, "ec-p256");
}
