/* Keys kept wrapped beyond the token's capacity (signer_key.h). */
#include "signer_key.h"

#include "../common/error.h"
#include "../common/fsutil.h"
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

int signer_key_load_stored(struct rombsr_hsm *hsm, const struct rombsr_authority_config *a,
			   const struct rombsr_keyset_entry *e, struct signer_key *k)
{
	int r;

	memset(k, 0, sizeof(*k));
	k->stored = calloc(1, sizeof(*k->stored));
	if (k->stored == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = rombsr_wrapped_key_read(a->wrapped_dir, e->label, e->authority, k->stored);
	if (r == 0 && strcmp(k->stored->mechanism, rombsr_hsm_wrap_mechanism(hsm)) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "the stored key '%s' is wrapped with %s, and token '%s' wraps with %s",
				 e->label, k->stored->mechanism, rombsr_hsm_token_label(hsm), rombsr_hsm_wrap_mechanism(hsm));
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

int signer_key_load_copy(struct rombsr_hsm *hsm, const struct rombsr_authority_config *a,
			 const struct rombsr_keyset_entry *e, const struct rombsr_hsm_key *in_token, struct signer_key *k,
			 bool *copy)
{
	bool unwrapped = false;
	EVP_PKEY *held = NULL;
	int r = rombsr_hsm_key_was_unwrapped(hsm, in_token, &unwrapped);

	*copy = false;
	if (r < 0 || !unwrapped)
		return r;
	r = signer_key_load_stored(hsm, a, e, k);
	/* No store file: a key a restore put in the token to stay. */
	if (r == ROMBSR_ENOTFOUND) {
		rombsr_error_clear();
		return 0;
	}
	if (r == 0)
		r = rombsr_hsm_public_key(hsm, in_token, &held);
	if (r == 0 && EVP_PKEY_eq(held, k->certified) != 1)
		r = rombsr_error(ROMBSR_ESECURITY, "the copy of '%s' left on %s is not the key of its stored certificate",
				 e->label, rombsr_hsm_token_label(hsm));
	EVP_PKEY_free(held);
	if (r < 0) {
		signer_key_free(k);
		return r;
	}
	k->key.private_key = in_token->private_key;
	*copy = true;
	return 0;
}

int signer_loader_open(const struct rombsr_authority_config *a, struct rombsr_hsm **loader)
{
	int r;

	*loader = NULL;
	if (a->backend != ROMBSR_HSM_BACKEND_YUBIHSM || a->capacity == 0)
		return 0;
	if (!rombsr_path_exists(a->loader_pin_file))
		return rombsr_error(ROMBSR_ECONFIG, "the YubiHSM's loader PIN file %s is missing: without it the keys kept "
				    "wrapped on disk (hsm.capacity) cannot be brought onto the device (run 'rombsr-sign "
				    "hsm-provision --backend yubihsm')", a->loader_pin_file);
	r = rombsr_hsm_open_login_for(a, a->loader_pin_file, loader);
	/* Its commands run under the places' lock, one at a time. */
	if (r == 0)
		rombsr_hsm_set_max_sessions(*loader, 1);
	return r < 0 ? rombsr_error_wrap(r, "the loader key (%s)", a->loader_pin_file) : 0;
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

void signer_unwrapped_setup(struct signer_unwrapped *u)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->unpinned, NULL);
}

void signer_unwrapped_teardown(struct signer_unwrapped *u)
{
	pthread_cond_destroy(&u->unpinned);
	pthread_mutex_destroy(&u->lock);
}

/* The counters survive a re-open: they are the signer's since its start. */
int signer_unwrapped_init(struct signer_unwrapped *u, const struct rombsr_authority_config *a, size_t resident,
			  size_t stored, size_t loaded)
{
	u->slots = 0;
	u->loaded = loaded;
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

/* Called with u->lock held; *none when every loaded key is pinned. */
static int evict_one(struct rombsr_hsm *hsm, struct signer_unwrapped *u, struct signer_key *keys, size_t n,
		     bool *none)
{
	struct signer_key *oldest = NULL;
	int r;

	for (size_t i = 0; i < n; i++)
		if (keys[i].stored != NULL && keys[i].key.private_key != CK_INVALID_HANDLE && keys[i].pins == 0 &&
		    (oldest == NULL || keys[i].last_used < oldest->last_used))
			oldest = &keys[i];
	*none = oldest == NULL;
	if (oldest == NULL)
		return 0;
	r = rombsr_hsm_destroy_object(hsm, oldest->key.private_key);
	if (r < 0)
		return rombsr_error_wrap(r, "evicting '%s'", oldest->key.label);
	oldest->key.private_key = CK_INVALID_HANDLE;
	u->loaded--;
	u->evictions++;
	return 0;
}

/* Unwraps k, called with u->lock held and a place free. A token fuller
 * than hsm.capacity says (a YubiHSM the authorities share) refuses for
 * want of room: its places shrink to the copies it holds now, and one is
 * evicted (or, all pinned, one waited for) before the next try. */
static int unwrap_locked(struct rombsr_hsm *hsm, struct signer_unwrapped *u, struct signer_key *keys, size_t n,
			 struct signer_key *k)
{
	/* A session copy that only signs: its wrapped form stays on disk, so
	 * nothing may carry it out of the token again. */
	struct rombsr_hsm_unwrap_spec spec = {k->key.label, k->key.id, k->key.id_len, k->key.kind, false, false};
	bool none = false;
	int r;

	for (;;) {
		/* Loaded by another thread while this one waited below. */
		if (k->key.private_key != CK_INVALID_HANDLE)
			return 0;
		r = rombsr_hsm_unwrap(hsm, &spec, k->stored->wrapped, k->stored->wrapped_len, &k->key.private_key);
		if (r == 0) {
			u->loaded++;
			u->unwraps++;
			return 0;
		}
		k->key.private_key = CK_INVALID_HANDLE;
		if (!rombsr_hsm_unwrap_found_no_room(hsm) || u->loaded == 0)
			return r;
		rombsr_error_clear();
		u->slots = u->loaded;
		r = evict_one(hsm, u, keys, n, &none);
		if (r < 0)
			return r;
		if (none)
			pthread_cond_wait(&u->unpinned, &u->lock);
	}
}

/* The unwrap runs under the lock: two sessions that need the same stored
 * key must not unwrap it twice (the second object would take a place and
 * never be evicted). Waiting for an unpin cannot deadlock: a thread pins
 * one key at a time and drops it after its C_Sign. */
int signer_key_ready(struct rombsr_hsm *hsm, struct signer_unwrapped *u, struct signer_key *keys, size_t n,
		     struct signer_key *k, CK_OBJECT_HANDLE *handle)
{
	bool none = false;
	int r = 0;

	pthread_mutex_lock(&u->lock);
	k->last_used = ++u->clock;
	while (r == 0 && k->stored != NULL && k->key.private_key == CK_INVALID_HANDLE && u->loaded >= u->slots) {
		r = evict_one(hsm, u, keys, n, &none);
		if (r == 0 && none)
			pthread_cond_wait(&u->unpinned, &u->lock);
	}
	/* Another thread may have loaded it while this one waited. */
	if (r == 0 && k->stored != NULL && k->key.private_key == CK_INVALID_HANDLE)
		r = unwrap_locked(hsm, u, keys, n, k);
	if (r == 0) {
		k->pins++;
		*handle = k->key.private_key;
	}
	pthread_mutex_unlock(&u->lock);
	return r;
}

void signer_key_release(struct signer_unwrapped *u, struct signer_key *k)
{
	pthread_mutex_lock(&u->lock);
	k->pins--;
	pthread_cond_broadcast(&u->unpinned);
	pthread_mutex_unlock(&u->lock);
}

void signer_unwrapped_evict_all(struct rombsr_hsm *hsm, struct signer_unwrapped *u, struct signer_key *keys,
				size_t n)
{
	bool none = false;

	pthread_mutex_lock(&u->lock);
	while (u->loaded > 0 && !none)
		if (evict_one(hsm, u, keys, n, &none) < 0)
			break;
	pthread_mutex_unlock(&u->lock);
}

void signer_unwrapped_forget(struct signer_unwrapped *u, struct signer_key *keys, size_t n)
{
	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < n; i++)
		if (keys[i].stored != NULL)
			keys[i].key.private_key = CK_INVALID_HANDLE;
	u->loaded = 0;
	pthread_mutex_unlock(&u->lock);
}
