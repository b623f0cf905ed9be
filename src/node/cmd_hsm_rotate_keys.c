/* rombsr-sign hsm-rotate-keys --key LABEL|URI: a planned rotation of a key
 * that is not compromised (docs/incident-response.md, "Rotating a key").
 *
 *   1. the key must be in its token with its certificate, and have no
 *      retired predecessor yet (one rotation at a time);
 *   2. the key is relabelled "<label>@<first 16 hex of its SPKI SHA-256>"
 *      (private key, public key and certificate: they keep their CKA_ID,
 *      so Java still pairs them, under the retired alias);
 *   3. a new key is generated under the label, with its certificate made
 *      by the token, wrappable if the old one was.
 *
 * The label keeps its role (policy, bundle, requests name it); the retired
 * key is exported beside it and the sign node lets it sign one thing: an
 * APK signing-certificate lineage node naming its successor
 * (docs/sign-node.md). A failure at step 3 puts the old key back under its
 * label and removes what was made of the new one: nothing half-rotated. */
#include "node.h"

#include "../common/error.h"
#include "../common/keyset.h"
#include "../hsm/hsm.h"
#include "../hsm/hsm_x509.h"
#include "../hsm/wrap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_KEY = 1, OPT_ORGANIZATION, OPT_DAYS };

static const struct cli_option options[] = {
	{"key", "LABEL|URI", "the key to rotate: a label of the key set or pkcs11:token=...;object=LABEL", OPT_KEY},
	{"organization", "TEXT", "O= of the new certificate (default \"ROMbsr release signing\")", OPT_ORGANIZATION},
	{"days", "N", "the new certificate's validity in days (default 10950)", OPT_DAYS},
	CLI_PIN_OPTIONS,
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "--key LABEL|URI [--organization TEXT] [--days N] [--pin-file FILE | --pin-fd N]";

struct rotate_args {
	const char *key, *organization;
	unsigned long days;
};

static int parse_args(struct cli_context *ctx, int argc, char **argv, struct rotate_args *a)
{
	struct cli_parser p;
	int id, r = 0;

	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, usage)) > 0) {
		if (id == OPT_KEY)
			a->key = p.value;
		else if (id == OPT_ORGANIZATION)
			a->organization = p.value;
		else if (id == OPT_DAYS)
			r = cli_parse_uint(p.value, 36500, &a->days, "--days");
		else
			r = cli_take_pin_option(ctx, id, p.value);
	}
	if (r < 0 || id < 0)
		return r < 0 ? r : id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (a->key == NULL)
		return rombsr_error(ROMBSR_EINVAL, "usage: rombsr-sign hsm-rotate-keys %s", usage);
	if (a->days == 0)
		return rombsr_error(ROMBSR_EINVAL, "--days must be at least 1");
	return 0;
}

static int fingerprint(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, char fpr[65])
{
	EVP_PKEY *pub = NULL;
	int r = rombsr_hsm_public_key(hsm, key, &pub);

	if (r == 0)
		r = rombsr_pubkey_spki_sha256(pub, fpr);
	EVP_PKEY_free(pub);
	return r;
}

/* Step 1: what the token holds of the key; *flags receives the new key's
 * flags (wrappable if the old one could leave the token wrapped). */
static int check_key(struct rombsr_hsm *hsm, const struct rombsr_keyset_entry *e, struct rombsr_hsm_key *key,
		     char retired[ROMBSR_KEYSET_LABEL_MAX + 1], char fpr[65], unsigned *flags)
{
	const struct rombsr_keyset *ks = rombsr_keyset_current();
	const char *token = rombsr_hsm_token_label(hsm);
	struct rombsr_hsm_key *keys = NULL;
	bool *found = NULL;
	unsigned char *v = NULL;
	CK_OBJECT_HANDLE wrap;
	size_t i = (size_t)(e - ks->entries), len = 0;
	int r = rombsr_hsm_find_keyset(hsm, ks, e->authority, &keys, &found);

	if (r < 0)
		return r;
	if (!found[i] && found[ks->len + i])
		r = rombsr_error(ROMBSR_ENOTFOUND, "token '%s' holds no key '%s', only its retired predecessor '%s': a "
				 "rotation was cut short; 'rombsr-sign keygen --key %s' (with --wrappable if it was) finishes "
				 "it", token, e->label, keys[ks->len + i].label, e->label);
	else if (!found[i])
		r = rombsr_error(ROMBSR_ENOTFOUND, "no key '%s' in token '%s': nothing to rotate (keygen makes it)",
				 e->label, token);
	else if (keys[i].certificate == CK_INVALID_HANDLE)
		r = rombsr_error(ROMBSR_ENOTFOUND, "key '%s' has no certificate in token '%s' (run 'rombsr-sign keygen "
				 "--key %s'): nothing rotated", e->label, token, e->label);
	else if (keys[i].kind != e->kind || keys[i].bits != e->bits)
		/* The retired key is published with the set's algorithm for its
		 * label: it must be of that algorithm. */
		r = rombsr_error(ROMBSR_EINVAL, "key '%s' in token '%s' is of another type or size than the key set "
				 "defines (%u bits): nothing rotated", e->label, token, keys[i].bits);
	else if (found[ks->len + i])
		r = rombsr_error(ROMBSR_EEXISTS, "key '%s' was rotated already: its predecessor '%s' is still in token "
				 "'%s': nothing rotated", e->label, keys[ks->len + i].label, token);
	if (r == 0) {
		*key = keys[i];
		r = fingerprint(hsm, key, fpr);
	}
	if (r == 0 && !rombsr_keyset_retired_label(e->label, fpr, retired))
		r = rombsr_error(ROMBSR_EINVAL, "key '%s': its label is too long for a retired label (at most %d "
				 "bytes): nothing rotated", e->label, ROMBSR_KEYSET_LABEL_MAX - 1 - ROMBSR_KEYSET_RETIRED_HEX);
	if (r == 0)
		r = rombsr_hsm_get_attribute(hsm, key->private_key, CKA_EXTRACTABLE, &v, &len);
	*flags = r == 0 && len == sizeof(CK_BBOOL) && v[0] == CK_TRUE ? ROMBSR_HSM_KEY_WRAPPABLE : 0;
	if (r == 0 && *flags != 0) {
		r = rombsr_hsm_wrap_key_find(hsm, &wrap, NULL, NULL);
		if (r == ROMBSR_ENOTFOUND)
			r = rombsr_error(ROMBSR_ENOTFOUND, "key '%s' may leave the token wrapped (backup), and token '%s' "
					 "holds no wrap key for its successor: nothing rotated", e->label, token);
	}
	free(v);
	free(keys);
	free(found);
	return r;
}

/* Steps 2 and 3, undone on failure. */
static int rotate(struct rombsr_hsm *hsm, const struct rombsr_keyset_entry *e, struct rombsr_hsm_key *old,
		  const char *retired, unsigned flags, const struct rotate_args *a, struct rombsr_hsm_key *fresh)
{
	struct rombsr_error_saved saved;
	int r = rombsr_hsm_relabel_key(hsm, old, retired);
	bool made = false;

	if (r < 0) {
		/* Some of its objects may carry the new label already. */
		rombsr_error_save(&saved);
		if (rombsr_hsm_relabel_key(hsm, old, e->label) < 0)
			cli_info("%s: some of its objects could not get their label back from '%s'", e->label, retired);
		rombsr_error_restore(&saved);
		return rombsr_error_wrap(r, "%s: cannot relabel it '%s': nothing rotated", e->label, retired);
	}
	cli_info("%s: the old key is now '%s'", e->label, retired);
	cli_info("%s: generating %s-%u in token '%s'", e->label, e->kind == ROMBSR_KEY_RSA ? "RSA" : "EC P", e->bits,
		 rombsr_hsm_token_label(hsm));
	r = rombsr_hsm_generate_key(hsm, e->label, e->kind, e->bits, flags, fresh);
	made = r == 0;
	if (r == 0)
		r = keygen_certify(hsm, hsm, fresh, a->organization, (unsigned)a->days);
	if (r == 0)
		return 0;
	rombsr_error_save(&saved);
	if (made && rombsr_hsm_destroy_key(hsm, fresh) < 0)
		cli_info("%s: the half-made new key could not be destroyed", e->label);
	if (rombsr_hsm_relabel_key(hsm, old, e->label) < 0)
		cli_info("%s: the old key could not get its label back: it is '%s'", e->label, retired);
	rombsr_error_restore(&saved);
	return rombsr_error_wrap(r, "%s: nothing rotated", e->label);
}

int cmd_hsm_rotate_keys(struct cli_context *ctx, int argc, char **argv)
{
	struct rotate_args a = {NULL, "ROMbsr release signing", 10950};
	const struct rombsr_keyset_entry *e = NULL;
	const struct rombsr_config *cfg;
	char retired[ROMBSR_KEYSET_LABEL_MAX + 1], old_fpr[65], new_fpr[65];
	struct rombsr_hsm_key old, fresh;
	struct rombsr_hsm *hsm = NULL;
	unsigned flags = 0;
	int r = parse_args(ctx, argc, argv, &a);

	if (r == 0)
		r = cli_key_name(ctx, a.key, &e);
	if (r == 0 && e->authority == ROMBSR_AUTHORITY_AUDIT)
		r = rombsr_error(ROMBSR_EUNSUPPORTED, "key '%s' signs the audit log's checkpoints, which name no "
				 "lineage: it is not rotated this way", e->label);
	if (r == 0)
		r = cli_config(ctx, &cfg);
	/* The wrapped store (hsm.capacity) keeps one copy per label of the
	 * set: it has no place for a retired key, and its copy of the label
	 * would still be the old key. */
	if (r == 0 && cfg->authority[e->authority].capacity > 0)
		r = rombsr_error(ROMBSR_EUNSUPPORTED, "the %s authority keeps keys wrapped on disk (hsm.capacity), which "
				 "hsm-rotate-keys does not handle yet: nothing rotated", rombsr_authority_name(e->authority));
	if (r == 0)
		r = cli_open_authority_as(ctx, e->authority, CLI_ROLE_ADMIN, &hsm);
	if (r == 0)
		r = check_key(hsm, e, &old, retired, old_fpr, &flags);
	if (r == 0)
		r = rotate(hsm, e, &old, retired, flags, &a, &fresh);
	if (r == 0)
		r = fingerprint(hsm, &fresh, new_fpr);
	if (r == 0)
		printf("rotated %s in token '%s': new key %s; the old key %s is kept as '%s' to sign the lineage\n",
		       e->label, rombsr_hsm_token_label(hsm), new_fpr, old_fpr, retired);
	rombsr_hsm_close(hsm);
	return r;
}
