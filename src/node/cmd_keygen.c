/* rombsr keygen: the release key set inside the HSM. Re-running is safe: an
 * existing key is never duplicated or replaced, and a key whose certificate
 * is missing (an earlier run stopped between the two) gets one. */
#include "keygen_store.h"
#include "node.h"

#include "../common/error.h"
#include "../common/keyset.h"
#include "../hsm/hsm.h"
#include "../hsm/hsm_x509.h"
#include "../hsm/wrap.h"

#include <string.h>

#include <stdlib.h>

enum { OPT_AUTHORITY = 1, OPT_ORGANIZATION, OPT_DAYS, OPT_KEY, OPT_WRAPPABLE };

static const struct cli_option options[] = {
	{"authority", "NAME", "only this authority's keys (release, manifest, audit; default all)", OPT_AUTHORITY},
	{"organization", "TEXT", "O= of the certificates (default \"ROMbsr release signing\")", OPT_ORGANIZATION},
	{"days", "N", "certificate validity in days (default 10950)", OPT_DAYS},
	{"key", "LABEL|URI", "only this key of the key set (a label or pkcs11:token=...;object=LABEL)", OPT_KEY},
	{"wrappable", NULL, "new keys may leave the token wrapped under its trusted wrap key (for backup export)",
	 OPT_WRAPPABLE},
	CLI_PIN_OPTIONS,
	{NULL, NULL, NULL, 0},
};

struct keygen_options {
	const char *organization;
	unsigned long days;
	const char *key;                   /* --key as given */
	unsigned flags;
};

/* present: the key as the token holds it (rombsr_hsm_find_keyset()), or
 * NULL if it holds none. key receives it, certificate and all. */
static int ensure_key(struct rombsr_hsm *signer, struct rombsr_hsm *hsm, const struct rombsr_keyset_entry *e, const struct rombsr_hsm_key *present,
		      const struct keygen_options *o, struct rombsr_hsm_key *out)
{
	struct rombsr_hsm_key key;
	int r = 0;

	if (present == NULL) {
		cli_info("%s: generating %s-%u in token '%s'", e->label, e->kind == ROMBSR_KEY_RSA ? "RSA" : "EC P",
			 e->bits, rombsr_hsm_token_label(hsm));
		r = rombsr_hsm_generate_key(hsm, e->label, e->kind, e->bits, o->flags, &key);
	} else {
		key = *present;
		if (key.kind != e->kind || key.bits != e->bits)
			return rombsr_error(ROMBSR_EINVAL,
					    "%s: the token holds a key of another type or size than the key set "
					    "defines (%u bits); refusing to use or replace it",
					    e->label, key.bits);
		if (key.certificate != CK_INVALID_HANDLE) {
			cli_info("%s: present, kept", e->label);
			*out = key;
			return 0;
		}
	}
	if (r < 0)
		return rombsr_error_wrap(r, "%s", e->label);
	r = keygen_certify(signer, hsm, &key, o->organization, (unsigned)o->days);
	if (r == 0)
		cli_info("%s: certificate made by the token and stored with the key", e->label);
	*out = key;
	return r < 0 ? rombsr_error_wrap(r, "%s", e->label) : 0;
}

/* signer signs the certificate, hsm stores it: on a YubiHSM two roles,
 * on a PKCS#11 token one handle. */
int keygen_certify(struct rombsr_hsm *signer, struct rombsr_hsm *hsm, struct rombsr_hsm_key *key,
		   const char *organization, unsigned days)
{
	X509 *cert = NULL;
	unsigned char *der = NULL;
	int der_len;
	int r = rombsr_hsm_make_certificate(signer, key, organization, days, &cert);

	if (r == 0) {
		der_len = i2d_X509(cert, &der);
		r = der_len > 0 ? rombsr_hsm_store_certificate(hsm, key, der, (size_t)der_len)
				: rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot encode certificate");
	}
	OPENSSL_free(der);
	X509_free(cert);
	return r;
}

/* --key narrows the authorities to the one that holds that key. */
static int select_key(struct cli_context *ctx, const char *name, bool selected[ROMBSR_AUTHORITY_COUNT],
		      const struct rombsr_keyset_entry **only)
{
	int r;

	*only = NULL;
	if (name == NULL)
		return 0;
	r = cli_key_name(ctx, name, only);
	if (r < 0)
		return r;
	if (!selected[(*only)->authority])
		return rombsr_error(ROMBSR_EINVAL, "key '%s' belongs to the %s authority", (*only)->label,
				    rombsr_authority_name((*only)->authority));
	for (int a = 0; a < ROMBSR_AUTHORITY_COUNT; a++)
		selected[a] = a == (int)(*only)->authority;
	return 0;
}

/* A wrappable key is only worth making where a trusted key can carry it
 * out: otherwise it is a key that no backup can ever reach. */
static int require_wrap_key(struct rombsr_hsm *hsm, const char *why)
{
	CK_OBJECT_HANDLE handle;
	int r = rombsr_hsm_wrap_key_find(hsm, &handle, NULL, NULL);

	if (r == ROMBSR_ENOTFOUND)
		return rombsr_error(ROMBSR_ENOTFOUND, "%s: token '%s' holds no wrap key; run 'rombsr-sign wrap-key create' "
				    "first", why, rombsr_hsm_token_label(hsm));
	return r;
}

/* One key of the set: in the token, kept wrapped in the store, or made. */
static int keygen_one(struct rombsr_hsm *signer, struct rombsr_hsm *hsm, const struct rombsr_keyset_entry *e, const struct rombsr_hsm_key *present,
		      const struct keygen_options *o, struct keygen_store *store)
{
	struct rombsr_hsm_key key;
	bool stored = false;
	int r = 0;

	if (present == NULL && store != NULL)
		r = keygen_store_has(store, e, &stored);
	if (r < 0 || stored) {
		if (stored)
			cli_info("%s: kept wrapped in %s, kept", e->label, store->a->wrapped_dir);
		return r;
	}
	r = ensure_key(signer, hsm, e, present, o, &key);
	if (r == 0 && store != NULL)
		r = keygen_store_key(store, hsm, e, &key, present == NULL);
	return r;
}

static int keygen_authority(struct cli_context *ctx, const struct rombsr_config *cfg, enum rombsr_authority_id a,
			    const struct rombsr_keyset_entry *only, const struct keygen_options *given)
{
	const struct rombsr_keyset *ks = rombsr_keyset_current();
	struct keygen_options o = *given;
	struct keygen_store store;
	struct rombsr_hsm_key *keys = NULL;
	struct rombsr_hsm *hsm, *signer = NULL, *wrapper = NULL;
	bool *found = NULL, use_store;
	size_t resident = 0, set_keys = 0;
	int r = cli_open_authority_as(ctx, a, CLI_ROLE_ADMIN, &hsm);

	if (r < 0)
		return r;
	if (cfg->authority[a].backend == ROMBSR_HSM_BACKEND_YUBIHSM)
		r = rombsr_hsm_open_login_for(&cfg->authority[a], cfg->authority[a].pin_file, &signer);
	for (size_t i = 0; i < ks->len; i++)
		set_keys += ks->entries[i].authority == a;
	/* Beyond what the token keeps, every key must be able to leave it; an
	 * authority whose keys all fit needs no store (and no wrap key). */
	use_store = cfg->authority[a].capacity > 0 &&
		    set_keys > cfg->authority[a].capacity - cfg->authority[a].unwrap_slots;
	if (use_store)
		o.flags |= ROMBSR_HSM_KEY_WRAPPABLE;
	if (r == 0 && (o.flags & ROMBSR_HSM_KEY_WRAPPABLE))
		r = require_wrap_key(hsm, use_store ? "hsm.capacity: keys beyond it are kept wrapped" : "--wrappable");
	/* Every authority's: on a YubiHSM they share one device. */
	if (r == 0 && cfg->authority[a].capacity > 0)
		r = keygen_store_reserve_ids(cfg, hsm);
	if (r == 0)
		r = rombsr_hsm_find_keyset(hsm, ks, a, &keys, &found);
	for (size_t i = 0; i < ks->len && r == 0; i++)
		resident += found[i];
	if (r == 0 && use_store && cfg->authority[a].backend == ROMBSR_HSM_BACKEND_YUBIHSM)
		r = cli_open_second_role(ctx, a, CLI_ROLE_BACKUP, &wrapper);
	if (r == 0 && use_store)
		r = keygen_store_open(cfg, a, hsm, wrapper != NULL ? wrapper : hsm, resident, &store);
	for (size_t i = 0; i < ks->len && r == 0; i++)
		if (ks->entries[i].authority == a && (only == NULL || only == &ks->entries[i]))
			r = keygen_one(signer != NULL ? signer : hsm, hsm, &ks->entries[i], found[i] ? &keys[i] : NULL, &o,
				       use_store ? &store : NULL);
	free(keys);
	free(found);
	rombsr_hsm_close(wrapper);
	rombsr_hsm_close(signer);
	rombsr_hsm_close(hsm);
	return r;
}

int cmd_keygen(struct cli_context *ctx, int argc, char **argv)
{
	struct keygen_options o = {"ROMbsr release signing", 10950, NULL, 0};
	const struct rombsr_keyset_entry *only;
	const struct rombsr_config *cfg;
	bool selected[ROMBSR_AUTHORITY_COUNT];
	const char *authority = NULL;
	struct cli_parser p;
	int id, r;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, "[--authority NAME] [--pin-file FILE | --pin-fd N]")) > 0) {
		r = 0;
		if (id == OPT_AUTHORITY)
			authority = p.value;
		else if (id == OPT_ORGANIZATION)
			o.organization = p.value;
		else if (id == OPT_DAYS)
			r = cli_parse_uint(p.value, 36500, &o.days, "--days");
		else if (id == OPT_KEY)
			o.key = p.value;
		else if (id == OPT_WRAPPABLE)
			o.flags |= ROMBSR_HSM_KEY_WRAPPABLE;
		else
			r = cli_take_pin_option(ctx, id, p.value);
		if (r < 0)
			return r;
	}
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (o.days == 0)
		return rombsr_error(ROMBSR_EINVAL, "--days must be at least 1");
	r = cli_authority_filter(authority, selected);
	if (r < 0)
		return r;
	r = select_key(ctx, o.key, selected, &only);
	if (r == 0)
		r = cli_config(ctx, &cfg);
	if (r < 0)
		return r;
	if ((ctx->pin_file != NULL || ctx->pin_fd >= 0) && authority == NULL)
		return rombsr_error(ROMBSR_EINVAL, "--pin-file/--pin-fd need --authority: each authority has its own PIN");
	for (int a = 0; a < ROMBSR_AUTHORITY_COUNT && r == 0; a++)
		if (selected[a])
			r = keygen_authority(ctx, cfg, (enum rombsr_authority_id)a, only, &o);
	return r;
}
