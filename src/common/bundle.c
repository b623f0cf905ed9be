#include "bundle.h"

#include "buf.h"
#include "error.h"
#include "json_strict.h"
#include "fsutil.h"
#include "hex.h"
#include "keyset.h"

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* About 700 bytes a key: room for a key set of ROMBSR_BUNDLE_MAX_KEYS. */
#define MANIFEST_MAX (8 * 1024 * 1024)
#define CERT_PEM_MAX (64 * 1024)

int rombsr_pubkey_spki_sha256(EVP_PKEY *pkey, char out[65])
{
	unsigned char *der = NULL, md[32];
	int len = i2d_PUBKEY(pkey, &der);
	int r = 0;

	if (len <= 0 || EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot hash a public key");
	else
		rombsr_hex_encode(md, sizeof(md), out);
	OPENSSL_free(der);
	return r;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];

	EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL);
	rombsr_hex_encode(md, sizeof(md), out);
}

static const char *get_string(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The certificate file must be exactly the one the manifest names for this
 * label (no "../" games), hold one certificate, and hash to the stated
 * value; its key must hash to spki_sha256 and be of the stated kind. */
static int load_certificate(const char *dir, json_t *o, struct rombsr_bundle_key *k)
{
	const char *cert_name = get_string(o, "certificate");
	const char *cert_sha = get_string(o, "certificate_sha256");
	char want_name[ROMBSR_BUNDLE_LABEL_MAX + 16], path[4096], got[65], file[ROMBSR_KEYSET_LABEL_MAX + 1];
	struct rombsr_buf pem = {0};
	BIO *bio = NULL;
	X509 *extra = NULL;
	int r, len;
	unsigned char *der = NULL;

	rombsr_keyset_label_file(k->label, file);
	r = rombsr_path_format(want_name, sizeof(want_name), "certs/%s.pem", file);
	if (r < 0)
		return r;
	if (cert_name == NULL || strcmp(cert_name, want_name) != 0)
		return rombsr_error(ROMBSR_EINVAL, "key '%s': certificate must be \"%s\"", k->label, want_name);
	if (cert_sha == NULL || strlen(cert_sha) != 64)
		return rombsr_error(ROMBSR_EINVAL, "key '%s': certificate_sha256 missing or malformed", k->label);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, cert_name) >= sizeof(path))
		return rombsr_error(ROMBSR_EINVAL, "bundle path too long");
	r = rombsr_file_read(path, CERT_PEM_MAX, &pem);
	if (r < 0)
		return r;
	bio = BIO_new_mem_buf(pem.data, (int)pem.len);
	if (bio == NULL || (k->certificate = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		r = rombsr_error_openssl(ROMBSR_EINVAL, "%s: not a PEM certificate", path);
		goto out;
	}
	extra = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	ERR_clear_error();
	if (extra != NULL) {
		r = rombsr_error(ROMBSR_EINVAL, "%s: more than one certificate", path);
		goto out;
	}
	len = i2d_X509(k->certificate, &der);
	if (len <= 0) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "%s: cannot encode the certificate", path);
		goto out;
	}
	k->cert_der = der;
	k->cert_der_len = (size_t)len;
	der = NULL;
	sha256_hex(k->cert_der, k->cert_der_len, got);
	if (strcmp(got, cert_sha) != 0) {
		r = rombsr_error(ROMBSR_EINVAL, "key '%s': %s has SHA-256 %s, the manifest says %s", k->label, path,
				 got, cert_sha);
		goto out;
	}
	k->public_key = X509_get_pubkey(k->certificate);
	len = k->public_key != NULL ? i2d_PUBKEY(k->public_key, &der) : 0;
	if (len <= 0) {
		r = rombsr_error_openssl(ROMBSR_EINVAL, "%s: unusable public key", path);
		goto out;
	}
	k->spki_der = der;
	k->spki_der_len = (size_t)len;
	der = NULL;
	sha256_hex(k->spki_der, k->spki_der_len, got);
	if (strcmp(got, k->spki_sha256) != 0) {
		r = rombsr_error(ROMBSR_EINVAL, "key '%s': the certificate's key has SHA-256 %s, the manifest says %s",
				 k->label, got, k->spki_sha256);
		goto out;
	}
	if (k->kind == ROMBSR_KEY_RSA) {
		if (EVP_PKEY_get_base_id(k->public_key) != EVP_PKEY_RSA ||
		    (unsigned)EVP_PKEY_get_bits(k->public_key) != k->bits) {
			r = rombsr_error(ROMBSR_EINVAL, "key '%s': the certificate does not hold an RSA-%u key", k->label,
					 k->bits);
			goto out;
		}
	} else {
		enum rombsr_key_kind curve;

		if (rombsr_key_kind_of(k->public_key, &curve) < 0 || curve != k->kind) {
			r = rombsr_error(ROMBSR_EINVAL, "key '%s': the certificate does not hold an %s key", k->label,
					 rombsr_key_kind_text(k->kind));
			goto out;
		}
	}
	r = 0;
out:
	OPENSSL_free(der);
	X509_free(extra);
	BIO_free(bio);
	rombsr_buf_free(&pem);
	return r;
}

static int load_key(const char *dir, json_t *o, struct rombsr_bundle_key *k)
{
	const char *label = get_string(o, "label");
	const char *authority = get_string(o, "authority");
	const char *algorithm = get_string(o, "algorithm");
	const char *id_hex = get_string(o, "pkcs11_id");
	const char *spki = get_string(o, "spki_sha256");
	json_t *bits = json_object_get(o, "bits");
	json_t *dev = json_object_get(o, "development");
	unsigned char *id = NULL;
	int r;

	if (!json_is_object(o))
		return rombsr_error(ROMBSR_EINVAL, "keys[] holds a non-object");
	/* Labels become file names and PKCS#11 labels: the key set's alphabet
	 * and file mapping keep both safe (docs/public-bundle.md). */
	if (label == NULL || !rombsr_keyset_any_label_ok(label))
		return rombsr_error(ROMBSR_EINVAL, "a key has a missing or invalid label");
	snprintf(k->label, sizeof(k->label), "%s", label);
	if (authority == NULL || strlen(authority) >= sizeof(k->authority))
		return rombsr_error(ROMBSR_EINVAL, "key '%s': authority missing", label);
	snprintf(k->authority, sizeof(k->authority), "%s", authority);
	if (algorithm != NULL && strcmp(algorithm, "rsa") == 0)
		k->kind = ROMBSR_KEY_RSA;
	else if (algorithm != NULL && strcmp(algorithm, rombsr_bundle_algorithm_name(ROMBSR_KEY_EC_P256)) == 0)
		k->kind = ROMBSR_KEY_EC_P256;
	else if (algorithm != NULL && strcmp(algorithm, rombsr_bundle_algorithm_name(ROMBSR_KEY_EC_P384)) == 0)
		k->kind = ROMBSR_KEY_EC_P384;
	else
		return rombsr_error(ROMBSR_EINVAL, "key '%s': algorithm must be \"rsa\", \"ec-p256\" or \"ec-p384\"",
				    label);
	/* An EC key's bits are its curve's: 256 or 384. */
	if (!json_is_integer(bits) || json_integer_value(bits) < 256 || json_integer_value(bits) > 16384 ||
	    (k->kind != ROMBSR_KEY_RSA && json_integer_value(bits) != (json_int_t)rombsr_key_kind_ec_bits(k->kind)) ||
	    (k->kind == ROMBSR_KEY_RSA && json_integer_value(bits) % 8 != 0))
		return rombsr_error(ROMBSR_EINVAL, "key '%s': bits missing or wrong", label);
	k->bits = (unsigned)json_integer_value(bits);
	if (!json_is_boolean(dev))
		return rombsr_error(ROMBSR_EINVAL, "key '%s': development must be true or false", label);
	k->development = json_is_true(dev);
	if (id_hex == NULL)
		return rombsr_error(ROMBSR_EINVAL, "key '%s': pkcs11_id missing", label);
	r = rombsr_hex_decode_alloc(id_hex, ROMBSR_BUNDLE_ID_MAX, &id, &k->id_len, "pkcs11_id");
	if (r < 0)
		return rombsr_error_wrap(r, "key '%s'", label);
	if (k->id_len == 0) {
		free(id);
		return rombsr_error(ROMBSR_EINVAL, "key '%s': empty pkcs11_id", label);
	}
	memcpy(k->id, id, k->id_len);
	free(id);
	if (spki == NULL || strlen(spki) != 64)
		return rombsr_error(ROMBSR_EINVAL, "key '%s': spki_sha256 missing or malformed", label);
	memcpy(k->spki_sha256, spki, 65);
	return load_certificate(dir, o, k);
}

int rombsr_bundle_load(const char *dir, struct rombsr_bundle *out)
{
	char path[4096];
	struct rombsr_buf text = {0};
	json_t *root = NULL, *keys;
	int r;

	memset(out, 0, sizeof(*out));
	if ((size_t)snprintf(path, sizeof(path), "%s/manifest.json", dir) >= sizeof(path))
		return rombsr_error(ROMBSR_EINVAL, "bundle path too long");
	r = rombsr_file_read(path, MANIFEST_MAX, &text);
	if (r < 0)
		return r;
	sha256_hex(text.data, text.len, out->manifest_sha256);
	r = rombsr_json_load_document((const char *)text.data, text.len, path, ROMBSR_BUNDLE_FORMAT, ROMBSR_BUNDLE_VERSION,
				      &root);
	if (r < 0)
		goto out;
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > ROMBSR_BUNDLE_MAX_KEYS) {
		r = rombsr_error(ROMBSR_EINVAL, "%s: keys must be a list of 1 to %d keys", path, ROMBSR_BUNDLE_MAX_KEYS);
		goto out;
	}
	out->keys = calloc(json_array_size(keys), sizeof(*out->keys));
	if (out->keys == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(keys); i++) {
		struct rombsr_bundle_key *k = &out->keys[i];

		out->len = i + 1;
		r = load_key(dir, json_array_get(keys, i), k);
		if (r < 0) {
			rombsr_error_wrap(r, "%s", path);
			goto out;
		}
		/* Labels are aliases and IDs pair keys with certificates in
		 * clients: a duplicate would let one key stand in for another. */
		for (size_t j = 0; j < i; j++) {
			if (strcmp(out->keys[j].label, k->label) == 0 ||
			    (out->keys[j].id_len == k->id_len && memcmp(out->keys[j].id, k->id, k->id_len) == 0) ||
			    strcmp(out->keys[j].spki_sha256, k->spki_sha256) == 0) {
				r = rombsr_error(ROMBSR_EINVAL, "%s: keys '%s' and '%s' share a label, ID or key", path,
						 out->keys[j].label, k->label);
				goto out;
			}
		}
	}
	r = 0;
out:
	json_decref(root);
	rombsr_buf_free(&text);
	if (r < 0)
		rombsr_bundle_free(out);
	return r;
}

void rombsr_bundle_free(struct rombsr_bundle *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->len && b->keys != NULL; i++) {
		X509_free(b->keys[i].certificate);
		EVP_PKEY_free(b->keys[i].public_key);
		OPENSSL_free(b->keys[i].cert_der);
		OPENSSL_free(b->keys[i].spki_der);
	}
	free(b->keys);
	b->keys = NULL;
	b->len = 0;
}

const struct rombsr_bundle_key *rombsr_bundle_find_label(const struct rombsr_bundle *b, const char *label)
{
	for (size_t i = 0; i < b->len; i++)
		if (strcmp(b->keys[i].label, label) == 0)
			return &b->keys[i];
	return NULL;
}

const struct rombsr_bundle_key *rombsr_bundle_find_spki(const struct rombsr_bundle *b, const char *spki_sha256)
{
	for (size_t i = 0; i < b->len; i++)
		if (strcmp(b->keys[i].spki_sha256, spki_sha256) == 0)
			return &b->keys[i];
	return NULL;
}

const char *rombsr_bundle_algorithm_name(enum rombsr_key_kind kind)
{
	switch (kind) {
	case ROMBSR_KEY_EC_P256:
		return "ec-p256";
	case ROMBSR_KEY_EC_P384:
		return "ec-p384";
	case ROMBSR_KEY_RSA:
		break;
	}
	return "rsa";
}
