/* keygen's wrapped store (keygen_store.h). */
#include "keygen_store.h"

#include "node.h"

#include "../common/error.h"
#include "../common/hex.h"
#include "../common/wrapped_key.h"
#include "../hsm/wrap.h"
#include "../sign/privsep.h"

#include <stdlib.h>
#include <string.h>

int keygen_store_owner(const struct rombsr_config *cfg, uid_t *uid, gid_t *gid)
{
	struct rombsr_user user;
	int r;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (cfg->signer_user == NULL)
		return 0;
	r = rombsr_user_lookup(cfg->signer_user, &user);
	if (r == 0) {
		*uid = user.uid;
		*gid = user.gid;
	}
	return r;
}

int keygen_store_open(const struct rombsr_config *cfg, enum rombsr_authority_id id, struct rombsr_hsm *hsm,
		      struct rombsr_hsm *wrapper, size_t resident, struct keygen_store *st)
{
	CK_OBJECT_HANDLE wrap_key;
	int r;

	memset(st, 0, sizeof(*st));
	st->a = &cfg->authority[id];
	st->wrapper = wrapper;
	st->resident = resident;
	st->keep = st->a->capacity - st->a->unwrap_slots;
	snprintf(st->token, sizeof(st->token), "%s", rombsr_hsm_token_label(hsm));
	r = rombsr_hsm_wrap_key_find(hsm, &wrap_key, st->wrap_key_id, &st->wrap_key_id_len);
	if (r == ROMBSR_ENOTFOUND)
		return rombsr_error(ROMBSR_ENOTFOUND, "hsm.capacity: token '%s' holds no wrap key to keep keys beyond "
				    "its capacity; run 'rombsr-sign wrap-key create' first", rombsr_hsm_token_label(hsm));
	return r == 0 ? keygen_store_owner(cfg, &st->uid, &st->gid) : r;
}

/* A file wrapped under another wrap key can never be unwrapped by this
 * token: counting it as the key's copy would let keygen remove the key
 * from the token, or skip making it, and leave a key nothing can sign
 * with. Refused as a security failure, as backup export refuses the same
 * file: the store is written only under the token's own wrap key, so
 * another one means the file was put there by something else. */
static int check_wrap_key(const struct keygen_store *st, const struct rombsr_keyset_entry *e,
			  const struct rombsr_wrapped_key *k)
{
	char path[4096], have[2 * ROMBSR_HSM_ID_MAX + 1], want[2 * ROMBSR_HSM_ID_MAX + 1];
	const char *mechanism = rombsr_hsm_wrap_mechanism(st->wrapper);
	int r = rombsr_wrapped_key_path(st->a->wrapped_dir, e->label, path, sizeof(path));

	if (r < 0)
		return r;
	/* The same shares restored into another kind of token give the same
	 * wrap key ID, and a blob it cannot open. */
	if (strcmp(k->mechanism, mechanism) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "%s is wrapped with %s, and token '%s' wraps with %s", path,
				    k->mechanism, st->token, mechanism);
	if (k->wrap_key_id_len == st->wrap_key_id_len && memcmp(k->wrap_key_id, st->wrap_key_id, k->wrap_key_id_len) == 0)
		return 0;
	rombsr_hex_encode(k->wrap_key_id, k->wrap_key_id_len, have);
	rombsr_hex_encode(st->wrap_key_id, st->wrap_key_id_len, want);
	return rombsr_error(ROMBSR_ESECURITY, "%s is wrapped under wrap key %s, not under wrap key %s that token '%s' "
			    "holds", path, have, want, st->token);
}

int keygen_store_reserve_ids(const struct rombsr_config *cfg, struct rombsr_hsm *hsm)
{
	const struct rombsr_keyset *ks = rombsr_keyset_current();
	int r = 0;

	for (size_t i = 0; i < ks->len && r == 0; i++) {
		const struct rombsr_keyset_entry *e = &ks->entries[i];
		struct rombsr_wrapped_key k;

		r = rombsr_wrapped_key_read(cfg->authority[e->authority].wrapped_dir, e->label, e->authority, &k);
		if (r == 0)
			r = rombsr_hsm_reserve_id(hsm, k.id, k.id_len);
		rombsr_wrapped_key_free(&k);
		if (r == ROMBSR_ENOTFOUND) {
			rombsr_error_clear();
			r = 0;
		}
	}
	return r;
}

int keygen_store_has(const struct keygen_store *st, const struct rombsr_keyset_entry *e, bool *has)
{
	struct rombsr_wrapped_key k;
	int r = rombsr_wrapped_key_read(st->a->wrapped_dir, e->label, e->authority, &k);

	if (r == 0)
		r = check_wrap_key(st, e, &k);
	*has = r == 0;
	rombsr_wrapped_key_free(&k);
	return r == ROMBSR_ENOTFOUND ? 0 : r;
}

static int write_copy(struct keygen_store *st, struct rombsr_hsm *hsm, const struct rombsr_keyset_entry *e,
		      const struct rombsr_hsm_key *key)
{
	struct rombsr_wrapped_key k = {.authority = e->authority};
	int r;

	snprintf(k.label, sizeof(k.label), "%s", e->label);
	memcpy(k.id, key->id, key->id_len);
	k.id_len = key->id_len;
	memcpy(k.wrap_key_id, st->wrap_key_id, st->wrap_key_id_len);
	k.wrap_key_id_len = st->wrap_key_id_len;
	snprintf(k.mechanism, sizeof(k.mechanism), "%s", rombsr_hsm_wrap_mechanism(st->wrapper));
	r = rombsr_hsm_wrap(st->wrapper, key, &k.wrapped, &k.wrapped_len);
	if (r == 0)
		r = rombsr_hsm_get_attribute(hsm, key->certificate, CKA_VALUE, &k.certificate, &k.certificate_len);
	if (r == 0)
		r = rombsr_wrapped_key_write(st->a->wrapped_dir, &k, st->uid, st->gid);
	/* Its ID stays taken once it leaves the token. */
	if (r == 0)
		r = rombsr_hsm_reserve_id(hsm, key->id, key->id_len);
	rombsr_wrapped_key_free(&k);
	return r;
}

int keygen_store_key(struct keygen_store *st, struct rombsr_hsm *hsm, const struct rombsr_keyset_entry *e,
		     const struct rombsr_hsm_key *key, bool fresh)
{
	bool has = false;
	int r = fresh ? 0 : keygen_store_has(st, e, &has);

	if (r < 0 || has)
		return r;
	r = write_copy(st, hsm, e, key);
	/* A key made before hsm.capacity without --wrappable cannot leave:
	 * it stays, and counts against the capacity. */
	if (r == ROMBSR_EUNSUPPORTED && !fresh) {
		cli_info("%s: not wrappable, stays in the token only", e->label);
		return 0;
	}
	if (r < 0)
		return rombsr_error_wrap(r, "%s", e->label);
	if (!fresh || st->resident < st->keep) {
		st->resident += fresh;
		cli_info("%s: wrapped copy kept in %s", e->label, st->a->wrapped_dir);
		return 0;
	}
	r = rombsr_hsm_destroy_key(hsm, key);
	if (r < 0)
		return rombsr_error_wrap(r, "%s: removing it from the token after wrapping", e->label);
	cli_info("%s: kept wrapped in %s only (the token keeps %zu keys, hsm.capacity %zu)", e->label,
		 st->a->wrapped_dir, st->resident, st->a->capacity);
	return 0;
}
