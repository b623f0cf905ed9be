#include "inventory.h"

#include "../common/bundle.h"
#include "../common/error.h"
#include "../common/hex.h"
#include "../common/sigalg.h"
#include "../common/wrapped_key.h"
#include "../hsm/hsm.h"
#include "../hsm/hsm_x509.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* key: what rombsr_hsm_find_keyset() found for k's entry. */
static int read_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *found, struct inventory_key *k)
{
	const struct rombsr_hsm_key key = *found;
	EVP_PKEY *pub = NULL;
	int r;

	k->present = true;
	k->bits = key.bits;
	rombsr_hex_encode(key.id, key.id_len, k->id_hex);
	r = rombsr_hsm_public_key(hsm, &key, &pub);
	if (r == 0)
		r = rombsr_pubkey_spki_sha256(pub, k->spki_sha256);
	EVP_PKEY_free(pub);
	if (r == 0 && key.certificate != CK_INVALID_HANDLE)
		r = rombsr_hsm_read_certificate(hsm, &key, &k->certificate);
	return r;
}

/* The store's certificate speaks for the key in 'keys' and in the bundle
 * export-public writes: a key of another algorithm than the set defines
 * for its label would be published as that label's key, so it is refused
 * as the signer refuses the same file (signer_key.c). */
static int check_stored_kind(const struct rombsr_authority_config *a, const struct rombsr_keyset_entry *e,
			     EVP_PKEY *pub)
{
	char path[4096], want[16], have[16];
	enum rombsr_key_kind kind;
	unsigned bits = (unsigned)EVP_PKEY_get_bits(pub);
	bool known = rombsr_key_kind_of(pub, &kind) == 0;
	int r;

	if (known && kind == e->kind && (kind != ROMBSR_KEY_RSA || bits == e->bits))
		return 0;
	r = rombsr_wrapped_key_path(a->wrapped_dir, e->label, path, sizeof(path));
	if (r < 0)
		return r;
	rombsr_key_algorithm_name(e->kind, e->bits, want);
	if (!known)
		return rombsr_error(ROMBSR_ESECURITY, "%s: the stored key '%s' is of an unsupported algorithm, not %s as "
				    "the key set defines", path, e->label, want);
	rombsr_key_algorithm_name(kind, bits, have);
	return rombsr_error(ROMBSR_ESECURITY, "%s: the stored key '%s' is %s, not %s as the key set defines", path,
			    e->label, have, want);
}

/* A key kept wrapped on disk (hsm.capacity): its certificate is the
 * store's copy. */
static int read_stored(const struct rombsr_authority_config *a, struct inventory_key *k)
{
	struct rombsr_wrapped_key w;
	const unsigned char *p;
	EVP_PKEY *pub;
	int r = rombsr_wrapped_key_read(a->wrapped_dir, k->entry->label, k->entry->authority, &w);

	if (r == ROMBSR_ENOTFOUND)
		return 0;
	p = w.certificate;
	if (r == 0 && ((k->certificate = d2i_X509(NULL, &p, (long)w.certificate_len)) == NULL ||
		       p != w.certificate + w.certificate_len))
		r = rombsr_error_openssl(ROMBSR_EINVAL, "the stored certificate of '%s' does not parse", k->entry->label);
	pub = r == 0 ? X509_get0_pubkey(k->certificate) : NULL;
	if (r == 0 && pub == NULL)
		r = rombsr_error_openssl(ROMBSR_EINVAL, "the stored certificate of '%s' has no usable key", k->entry->label);
	if (r == 0)
		r = check_stored_kind(a, k->entry, pub);
	if (r == 0)
		r = rombsr_pubkey_spki_sha256(pub, k->spki_sha256);
	if (r == 0) {
		k->present = k->stored_only = true;
		k->bits = (unsigned)EVP_PKEY_get_bits(pub);
		rombsr_hex_encode(w.id, w.id_len, k->id_hex);
	}
	rombsr_wrapped_key_free(&w);
	return r;
}

int inventory_load(struct cli_context *ctx, const bool selected[ROMBSR_AUTHORITY_COUNT], struct inventory *inv)
{
	const struct rombsr_config *cfg;
	const struct rombsr_keyset *ks;
	int r;

	memset(inv, 0, sizeof(*inv));
	/* The configuration names the key set: read it before counting. */
	r = cli_config(ctx, &cfg);
	if (r < 0)
		return r;
	ks = rombsr_keyset_current();
	inv->keys = calloc(2 * ks->len + 1, sizeof(*inv->keys));
	if (inv->keys == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (int a = 0; a < ROMBSR_AUTHORITY_COUNT && r == 0; a++) {
		struct rombsr_hsm *hsm = NULL;
		struct rombsr_hsm_key *keys = NULL;
		bool *found = NULL;

		if (!selected[a])
			continue;
		r = cli_open_authority(ctx, (enum rombsr_authority_id)a, &hsm);
		if (r == 0)
			r = rombsr_hsm_find_keyset(hsm, ks, (enum rombsr_authority_id)a, &keys, &found);
		for (size_t i = 0; i < ks->len && r == 0; i++) {
			struct inventory_key *k;

			if (ks->entries[i].authority != (enum rombsr_authority_id)a)
				continue;
			k = &inv->keys[inv->len++];
			k->entry = &ks->entries[i];
			snprintf(k->label, sizeof(k->label), "%s", k->entry->label);
			if (found[i])
				r = read_key(hsm, &keys[i], k);
			else if (cfg->authority[a].capacity > 0)
				r = read_stored(&cfg->authority[a], k);
			if (r < 0 || !found[ks->len + i])
				continue;
			k = &inv->keys[inv->len++];
			k->entry = &ks->entries[i];
			k->retired = true;
			snprintf(k->label, sizeof(k->label), "%s", keys[ks->len + i].label);
			r = read_key(hsm, &keys[ks->len + i], k);
		}
		free(keys);
		free(found);
		rombsr_hsm_close(hsm);
	}
	if (r < 0)
		inventory_free(inv);
	return r;
}

void inventory_free(struct inventory *inv)
{
	for (size_t i = 0; i < inv->len; i++)
		X509_free(inv->keys[i].certificate);
	free(inv->keys);
	memset(inv, 0, sizeof(*inv));
}

int inventory_time(const ASN1_TIME *t, char out[32])
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "certificate time out of range");
	return 0;
}
