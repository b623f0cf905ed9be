#include "sigalg.h"

#include "error.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
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
	[ROMBSR_SIG_ECDSA_SHA384] = {"ecdsa-sha384", 48, ROMBSR_KEY_EC_P384, "SHA384"},
};

/* DER OIDs: prime256v1 (1.2.840.10045.3.1.7) and secp384r1 (1.3.132.0.34). */
static const unsigned char p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const unsigned char p384_oid[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

static const struct {
	enum rombsr_key_kind kind;
	const char *name, *group, *text;
	unsigned bits;
	const unsigned char *oid;
	size_t oid_len;
} curves[] = {
	{ROMBSR_KEY_EC_P256, "ec-p256", "prime256v1", "EC P-256", 256, p256_oid, sizeof(p256_oid)},
	{ROMBSR_KEY_EC_P384, "ec-p384", "secp384r1", "EC P-384", 384, p384_oid, sizeof(p384_oid)},
};
#define NCURVES (sizeof(curves) / sizeof(curves[0]))

static int curve_of(enum rombsr_key_kind kind)
{
	for (size_t i = 0; i < NCURVES; i++)
		if (curves[i].kind == kind)
			return (int)i;
	return -1;
}

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
			    "rsa-pss-sha256, rsa-pss-sha512, ecdsa-sha256, ecdsa-sha384)",
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
	int c = curve_of(kind);

	if (c < 0)
		snprintf(out, 16, "rsa-%u", bits);
	else
		snprintf(out, 16, "%s", curves[c].name);
}

bool rombsr_key_kind_is_ec(enum rombsr_key_kind kind)
{
	return curve_of(kind) >= 0;
}

size_t rombsr_key_kind_ec_bytes(enum rombsr_key_kind kind)
{
	int c = curve_of(kind);

	return c < 0 ? 0 : (curves[c].bits + 7) / 8;
}

unsigned rombsr_key_kind_ec_bits(enum rombsr_key_kind kind)
{
	int c = curve_of(kind);

	return c < 0 ? 0 : curves[c].bits;
}

const char *rombsr_key_kind_ec_group(enum rombsr_key_kind kind)
{
	int c = curve_of(kind);

	return c < 0 ? NULL : curves[c].group;
}

const unsigned char *rombsr_key_kind_ec_params(enum rombsr_key_kind kind, size_t *len)
{
	int c = curve_of(kind);

	*len = c < 0 ? 0 : curves[c].oid_len;
	return c < 0 ? NULL : curves[c].oid;
}

int rombsr_key_kind_from_ec_group(const char *group, enum rombsr_key_kind *kind)
{
	for (size_t i = 0; group != NULL && i < NCURVES; i++) {
		if (strcmp(group, curves[i].group) == 0) {
			*kind = curves[i].kind;
			return 0;
		}
	}
	return ROMBSR_ENOTFOUND;
}

int rombsr_key_kind_from_ec_params(const unsigned char *der, size_t len, enum rombsr_key_kind *kind)
{
	for (size_t i = 0; der != NULL && i < NCURVES; i++) {
		if (len == curves[i].oid_len && memcmp(der, curves[i].oid, len) == 0) {
			*kind = curves[i].kind;
			return 0;
		}
	}
	return ROMBSR_ENOTFOUND;
}

const char *rombsr_key_kind_text(enum rombsr_key_kind kind)
{
	int c = curve_of(kind);

	return c < 0 ? "RSA" : curves[c].text;
}

int rombsr_key_kind_of(EVP_PKEY *pub, enum rombsr_key_kind *kind)
{
	char group[32] = "";

	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA) {
		*kind = ROMBSR_KEY_RSA;
		return 0;
	}
	if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC &&
	    EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) == 1)
		return rombsr_key_kind_from_ec_group(group, kind);
	ERR_clear_error();
	return ROMBSR_ENOTFOUND;
}
