/* rombsr-sign hsm-revoke --key URI: an admin revokes a signing key for good
 * (incident response, docs/incident-response.md). In this order, so that a
 * failure anywhere leaves the key either untouched or revoked, never
 * destroyed without a record:
 *
 *   1. the key is found in its token (by the URI's token and object) and
 *      its SPKI fingerprint read: an unknown key stops everything here;
 *   2. revocations/<fpr>.json (docs/formats/incident.md) is committed to
 *      the queue signed with the admin's own OpenPGP key (a pinned admin:
 *      the hook and every verifier refuse anyone else) and pushed; from
 *      then on every sign node refuses the key and apply refuses its
 *      signatures in later responses;
 *   3. the key is destroyed in the token, and its wrapped copy in the
 *      authority's store (hsm.capacity) removed.
 *
 * Run again after a failure at step 3, it finds the revocation already in
 * the queue and only destroys the key. */
#include "node.h"

#include "../common/bundle.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/wrapped_key.h"
#include "../hsm/hsm.h"
#include "../hsm/hsm_x509.h"
#include "../queue/gpg.h"
#include "../queue/incident.h"
#include "../queue/publish.h"
#include "../queue/repo.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum { OPT_KEY = 1, OPT_REASON, OPT_ADMIN_KEY, OPT_ADMIN_GPG_HOME };

static const struct cli_option options[] = {
	{"key", "URI", "the key: an RFC 7512 URI, pkcs11:token=TOKEN;object=LABEL", OPT_KEY},
	{"reason", "TEXT", "why (1 to 256 printable ASCII characters; in the queue and the audit log)", OPT_REASON},
	{"admin-key", "FPR", "the admin's OpenPGP fingerprint the revocation is committed with (a pinned queue.admin)",
	 OPT_ADMIN_KEY},
	{"admin-gpg-home", "DIR", "the admin's GnuPG home (default: gpg.home)", OPT_ADMIN_GPG_HOME},
	CLI_PIN_OPTIONS,
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "--key URI --reason TEXT --admin-key FPR [--admin-gpg-home DIR] [--pin-file FILE | --pin-fd N]";

struct revoke_args {
	const char *uri, *reason, *admin, *gpg_home;
	char token[33], label[ROMBSR_HSM_LABEL_MAX + 1];
};

static int parse_args(struct cli_context *ctx, int argc, char **argv, struct revoke_args *a)
{
	struct cli_parser p;
	int id, r = 0;

	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, usage)) > 0) {
		if (id == OPT_KEY)
			a->uri = p.value;
		else if (id == OPT_REASON)
			a->reason = p.value;
		else if (id == OPT_ADMIN_KEY)
			a->admin = p.value;
		else if (id == OPT_ADMIN_GPG_HOME)
			a->gpg_home = p.value;
		else
			r = cli_take_pin_option(ctx, id, p.value);
	}
	if (r < 0 || id < 0)
		return r < 0 ? r : id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (a->uri == NULL || a->reason == NULL || a->admin == NULL)
		return rombsr_error(ROMBSR_EINVAL, "usage: rombsr-sign hsm-revoke %s", usage);
	if (!rombsr_incident_reason_valid(a->reason))
		return rombsr_error(ROMBSR_EINVAL, "--reason takes 1 to %d printable ASCII characters",
				    ROMBSR_INCIDENT_REASON_MAX);
	if (!rombsr_fpr_valid(a->admin))
		return rombsr_error(ROMBSR_EINVAL, "--admin-key: '%.48s' is not an OpenPGP fingerprint (40 upper-case hex)",
				    a->admin);
	return rombsr_hsm_uri_key(a->uri, a->token, a->label);
}

/* The authority whose configured token the URI names, and the admin must
 * be one every verifier pins. */
static int check_config(const struct rombsr_config *cfg, const struct revoke_args *a, int *authority)
{
	bool pinned = false;
	char label[33];
	int r;

	for (size_t i = 0; i < cfg->queue_nadmins; i++)
		pinned = pinned || strcmp(cfg->queue_admins[i], a->admin) == 0;
	if (!pinned)
		return rombsr_error(ROMBSR_EPERM, "--admin-key %s is not a pinned admin (queue.admin): the queue would refuse "
						  "its revocation", a->admin);
	if (cfg->queue_url == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "no queue configured (queue.url): the revocation must be recorded there");
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		r = rombsr_hsm_uri_token_label(cfg->authority[i].token_uri, label);
		if (r < 0)
			return rombsr_error_wrap(r, "%s authority", cfg->authority[i].name);
		if (strcmp(label, a->token) == 0) {
			*authority = i;
			return 0;
		}
	}
	return rombsr_error(ROMBSR_ENOTFOUND, "no authority of this sign node uses token '%s': nothing revoked", a->token);
}

/* Step 1, for a key the token no longer holds but the authority's store
 * keeps wrapped: its fingerprint is its stored certificate's. */
static int find_stored(const struct rombsr_authority_config *ac, const struct revoke_args *a, char fpr[65])
{
	const struct rombsr_keyset_entry *e = rombsr_keyset_find(a->label);
	struct rombsr_wrapped_key w;
	const unsigned char *p;
	X509 *cert = NULL;
	int r = e != NULL && ac->capacity > 0 ? rombsr_wrapped_key_read(ac->wrapped_dir, a->label, e->authority, &w)
					      : ROMBSR_ENOTFOUND;

	if (r == ROMBSR_ENOTFOUND)
		return rombsr_error(ROMBSR_ENOTFOUND, "no key '%s' in token '%s': nothing revoked", a->label, a->token);
	if (r < 0)
		return r;
	p = w.certificate;
	cert = d2i_X509(NULL, &p, (long)w.certificate_len);
	r = cert != NULL ? rombsr_pubkey_spki_sha256(X509_get0_pubkey(cert), fpr)
			 : rombsr_error_openssl(ROMBSR_EINVAL, "the stored certificate of '%s' does not parse", a->label);
	X509_free(cert);
	rombsr_wrapped_key_free(&w);
	return r;
}

/* Step 1: the key in its token (key->private_key CK_INVALID_HANDLE if only
 * its wrapped copy is left), and its fingerprint. */
static int find_key(struct rombsr_hsm *hsm, const struct rombsr_authority_config *ac, const struct revoke_args *a,
		    struct rombsr_hsm_key *key, char fpr[65])
{
	EVP_PKEY *pub = NULL;
	int r = rombsr_hsm_find_key(hsm, a->label, key);

	if (r == ROMBSR_ENOTFOUND) {
		rombsr_error_clear();
		key->private_key = CK_INVALID_HANDLE;
		return find_stored(ac, a, fpr);
	}
	if (r == 0)
		r = rombsr_hsm_public_key(hsm, key, &pub);
	if (r == 0)
		r = rombsr_pubkey_spki_sha256(pub, fpr);
	EVP_PKEY_free(pub);
	return r;
}

/* Step 2: the revocation in the queue, unless a run before this one put it
 * there. The command's own copy of the queue: the daemon's clone is the
 * worker's, under its lock. */
static int record(const struct rombsr_config *cfg, const struct revoke_args *a, const char *fpr, char commit_hex[41])
{
	struct rombsr_revocation v = {0};
	struct rombsr_gpg *gpg = NULL;
	struct rombsr_repo *repo = NULL;
	struct rombsr_buf text = {0};
	struct rombsr_repo_file file;
	char dir[4096], path[128], message[160];
	git_oid head, commit;
	bool empty, exists = false;
	int r = rombsr_path_format(dir, sizeof(dir), "%s/hsm-revoke/queue.git", cfg->state_dir);

	if (r == 0)
		r = rombsr_revocation_path(fpr, path, sizeof(path));
	if (r == 0)
		r = rombsr_gpg_open(a->gpg_home != NULL ? a->gpg_home : cfg->gpg_home, &gpg);
	if (r == 0)
		r = rombsr_repo_open(dir, true, &repo);
	if (r == 0)
		r = rombsr_repo_fetch(repo, cfg->queue_url, &head, &empty);
	if (r == 0 && empty)
		r = rombsr_error(ROMBSR_ENOTFOUND, "the queue at %s has no history", cfg->queue_url);
	if (r == 0)
		r = rombsr_repo_exists(repo, &head, path, &exists);
	if (r < 0 || exists) {
		snprintf(commit_hex, 41, "%s", "(recorded before)");
		goto out;
	}
	memcpy(v.key_fingerprint, fpr, sizeof(v.key_fingerprint));
	snprintf(v.key_label, sizeof(v.key_label), "%s", a->label);
	snprintf(v.token, sizeof(v.token), "%s", a->token);
	snprintf(v.key_uri, sizeof(v.key_uri), "pkcs11:token=%s;object=%s", a->token, a->label);
	snprintf(v.reason, sizeof(v.reason), "%s", a->reason);
	snprintf(v.admin, sizeof(v.admin), "%s", a->admin);
	v.time = time(NULL);
	r = rombsr_revocation_encode(&v, &text);
	if (r == 0) {
		file = (struct rombsr_repo_file){path, text.data, text.len};
		snprintf(message, sizeof(message), "revoke %s (%.16s...) in %s", a->label, fpr, a->token);
		r = rombsr_queue_publish(repo, gpg, cfg->queue_url, a->admin, &file, 1, message, &head, &commit, NULL);
	}
	if (r == 0)
		rombsr_oid_hex(&commit, commit_hex);
out:
	rombsr_buf_free(&text);
	rombsr_repo_close(repo);
	rombsr_gpg_close(gpg);
	return r;
}

int cmd_hsm_revoke(struct cli_context *ctx, int argc, char **argv)
{
	struct revoke_args a = {0};
	const struct rombsr_config *cfg;
	struct rombsr_hsm *hsm = NULL;
	struct rombsr_hsm_key key;
	char fpr[65], commit_hex[41];
	int authority = 0;
	int r = parse_args(ctx, argc, argv, &a);

	if (r == 0)
		r = cli_config(ctx, &cfg);
	if (r == 0)
		r = check_config(cfg, &a, &authority);
	if (r == 0)
		r = cli_open_authority_as(ctx, (enum rombsr_authority_id)authority, CLI_ROLE_ADMIN, &hsm);
	if (r == 0)
		r = find_key(hsm, &cfg->authority[authority], &a, &key, fpr);
	if (r == 0)
		r = record(cfg, &a, fpr, commit_hex);
	if (r == 0) {
		cli_info("%s: revocation in the queue: commit %s", a.label, commit_hex);
		r = key.private_key != CK_INVALID_HANDLE ? rombsr_hsm_destroy_key(hsm, &key) : 0;
		if (r == 0 && cfg->authority[authority].capacity > 0)
			r = rombsr_wrapped_key_remove(cfg->authority[authority].wrapped_dir, a.label);
		if (r < 0)
			r = rombsr_error_wrap(r, "%s is revoked in the queue but still in the token or its wrapped store; "
					      "run hsm-revoke again", a.label);
	}
	if (r == 0)
		printf("revoked %s (fingerprint %s) in token '%s': destroyed\n", a.label, fpr, a.token);
	rombsr_hsm_close(hsm);
	return r;
}
