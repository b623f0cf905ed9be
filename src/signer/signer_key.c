/* Keys kept wrapped beyond the token's capacity (signer_key.h). */
#include "signer_key.h"

#include "../common/error.h"
#include "../hsm/hsm_x509.h"
#include "../hsm/wrap.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* The certificate's key must be what the key set says the label is: a
 * store file is the key, and a file of another size would sign with a key
 * the policy was never written for. */
static int certified_key(const struct rombsr_keyset_entry *e, struct signer_key *k)
{
	const unsigned char *p = k->stored->certificate;
	X509 *cert = d2i_X509(NULL, &p, (long)k->stored->certificate_len);
	enum rombsr_key_kind kind;
	int r = 0;

	if (cert == NULL || p != k->stored->certificate + k->stored->certificate_len)
		r = rombsr_error_openssl(ROMBSR_EINVAL, "the stored certificate of '%s' does not parse", e->label);
	if (r == 0 && (k->certified = X509_get_pubkey(cert)) == NULL)
		r = rombsr_error_openssl(ROMBSR_EINVAL, "the stored certificate of '%s' has no usable key", e->label);
	X509_free(cert);
	if (r < 0)
		return r;
	if (rombsr_key_kind_of(k->certified, &kind) < 0 || kind != e->kind ||
	    (unsigned)EVP_PKEY_get_bits(k->certified) != e->bits)
		return rombsr_error(ROMBSR_ESECURITY,
				    "the stored key '%s' is not of the key set's algorithm (%d bits in its certificate)",
				    e->label, EVP_PKEY_get_bits(k->certified));
	return rombsr_pubkey_spki_sha256(k->certified, k->spki_sha256);
}

int signer_key_load_stored(const struct rombsr_authority_config *a, const struct rombsr_keyset_entry *e,
			   struct signer_key *k)
{
	int r;

	memset(k, 0, sizeof(*k));
	k->stored = calloc(1, sizeof(*k->stored));
	if (k->stored == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = rombsr_wrapped_key_read(a->wrapped_dir, e->label, e->authority, k->stored);
	if (r == 0)
		r = certified_key(e, k);
	if (r < 0) {
		signer_key_free(k);
		return r;
	}
	k->key.private_key = CK_INVALID_HANDLE;
	k->key.public_key = CK_INVALID_HANDLE;
	k->key.certificate = CK_INVALID_HANDLE;
	k->key.kind = e->kind;
	k->key.bits = e->bits;
	memcpy(k->key.id, k->stored->id, k->stored->id_len);
	k->key.id_len = k->stored->id_len;
	snprintf(k->key.label, sizeof(k->key.label), "%s", e->label);
	k->modulus_bytes = e->kind == ROMBSR_KEY_RSA ? (e->bits + 7) / 8 : 0;
	return 0;
}

void signer_key_free(struct signer_key *k)
{
	if (k->stored != NULL) {
		rombsr_wrapped_key_free(k->stored);
		free(k->stored);
		k->stored = NULL;
	}
	EVP_PKEY_free(k->certified);
	k->certified = NULL;
}

int signer_unwrapped_init(struct signer_unwrapped *u, const struct rombsr_authority_config *a, size_t resident,
			  size_t stored)
{
	memset(u, 0, sizeof(*u));
	if (stored == 0)
		return 0;
	u->slots = resident < a->capacity ? a->capacity - resident : 0;
	if (u->slots > a->unwrap_slots)
		u->slots = a->unwrap_slots;
	if (u->slots == 0)
		return rombsr_error(ROMBSR_ECONFIG,
				    "the %s token keeps %zu keys and hsm.capacity is %zu: no place to unwrap the %zu "
				    "keys kept wrapped on disk",
				    a->name, resident, a->capacity, stored);
	return 0;
}

static int evict_one(struct rombsr_hsm *hsm, struct signer_unwrapped *u, struct signer_key *keys, size_t n)
{
	struct signer_key *oldest = NULL;
	int r;

	for (size_t i = 0; i < n; i++)
		if (keys[i].stored != NULL && keys[i].key.private_key != CK_INVALID_HANDLE &&
		    (oldest == NULL || keys[i].last_used < oldest->last_used))
			oldest = &keys[i];
	if (oldest == NULL)
		return rombsr_error(ROMBSR_EINTERNAL, "no unwrapped key to evict");
	r = rombsr_hsm_destroy_object(hsm, oldest->key.private_key);
	if (r < 0)
		return rombsr_error_wrap(r, "evicting '%s'", oldest->key.label);
	oldest->key.private_key = CK_INVALID_HANDLE;
	u->loaded--;
	u->evictions++;
	return 0;
}

int signer_key_ready(struct rombsr_hsm *hsm, struct signer_unwrapped *u, struct signer_key *keys, size_t n,
		     struct signer_key *k)
{
	struct rombsr_hsm_unwrap_spec spec = {k->key.label, k->key.id, k->key.id_len, k->key.kind, false};
	int r = 0;

	k->last_used = ++u->clock;
	if (k->stored == NULL || k->key.private_key != CK_INVALID_HANDLE)
		return 0;
	if (u->loaded >= u->slots)
		r = evict_one(hsm, u, keys, n);
	if (r == 0)
		r = rombsr_hsm_unwrap(hsm, &spec, k->stored->wrapped, k->stored->wrapped_len, &k->key.private_key);
	if (r < 0) {
		k->key.private_key = CK_INVALID_HANDLE;
		return r;
	}
	u->loaded++;
	u->unwraps++;
	return 0;
}

void signer_unwrapped_forget(struct signer_unwrapped *u, struct signer_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i].stored != NULL)
			keys[i].key.private_key = CK_INVALID_HANDLE;
	u->loaded = 0;
}
