/* The public bundle that `rombsr export-public --out DIR` writes
 * (docs/public-bundle.md): DIR/manifest.json and one PEM certificate per
 * key. Build nodes trust nothing else about the keys, so loading checks
 * every fingerprint the manifest states against the bytes it names and
 * refuses the whole bundle on the first mismatch. */
#ifndef ROMBSR_BUNDLE_H
#define ROMBSR_BUNDLE_H

#include "sigalg.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>

#define ROMBSR_BUNDLE_FORMAT "rombsr.public-bundle"
#define ROMBSR_BUNDLE_VERSION 1
#define ROMBSR_BUNDLE_MAX_KEYS 4096 /* ROMBSR_KEYSET_MAX_KEYS */
#define ROMBSR_BUNDLE_LABEL_MAX 64
#define ROMBSR_BUNDLE_ID_MAX 64

struct rombsr_bundle_key {
	char label[ROMBSR_BUNDLE_LABEL_MAX + 1];
	char authority[32];
	enum rombsr_key_kind kind;
	unsigned bits;
	unsigned char id[ROMBSR_BUNDLE_ID_MAX]; /* CKA_ID */
	size_t id_len;
	char spki_sha256[65];                   /* checked against the certificate's key */
	bool development;
	X509 *certificate;
	EVP_PKEY *public_key;                   /* the certificate's key */
	unsigned char *cert_der;                /* DER of certificate */
	size_t cert_der_len;
	unsigned char *spki_der;                /* DER SubjectPublicKeyInfo */
	size_t spki_der_len;
};

struct rombsr_bundle {
	struct rombsr_bundle_key *keys;
	size_t len;
	char manifest_sha256[65];               /* identifies the bundle a journal was made with */
};

/* Loads and checks DIR/manifest.json and every certificate it names. On
 * failure nothing is kept and the message names the file and the key. */
int rombsr_bundle_load(const char *dir, struct rombsr_bundle *out);
/* Accepts NULL and a zeroed or already freed bundle. */
void rombsr_bundle_free(struct rombsr_bundle *b);

const struct rombsr_bundle_key *rombsr_bundle_find_label(const struct rombsr_bundle *b, const char *label);
const struct rombsr_bundle_key *rombsr_bundle_find_spki(const struct rombsr_bundle *b, const char *spki_sha256);

/* A key's "algorithm" in the bundle's manifest (and the backup's):
 * "rsa" (its size in "bits"), "ec-p256" or "ec-p384". */
const char *rombsr_bundle_algorithm_name(enum rombsr_key_kind kind);

/* SHA-256 of the DER SubjectPublicKeyInfo as 64 lower-case hex digits: the
 * key fingerprint of every ROMbsr format. */
int rombsr_pubkey_spki_sha256(EVP_PKEY *pkey, char out[65]);

#endif
