/* rombsr-sign backup export: every key of the release token wrapped under
 * its trusted wrap key, each certificate, and a manifest of their SHA-256s
 * signed by a pinned admin (docs/formats/backup.md). The folder is built
 * beside --out and renamed into place once complete. */
#define _GNU_SOURCE
#include "backup_manifest.h"
#include "node.h"
#include "outdir.h"

#include "../common/error.h"
#include "../common/wrapped_key.h"
#include "../common/fsutil.h"
#include "../common/json_strict.h"
#include "../common/keyset.h"
#include "../hsm/hsm.h"
#include "../hsm/hsm_x509.h"
#include "../hsm/wrap.h"
#include "../queue/gpg.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { OPT_OUT = 1, OPT_ADMIN_KEY, OPT_GNUPG_HOME };

static const struct cli_option options[] = {
	{"out", "DIR", "folder to create for the backup (must not exist)", OPT_OUT},
	{"admin-key", "FPR", "the pinned admin (queue.admin) who signs the manifest (default: the only one)",
	 OPT_ADMIN_KEY},
	{"gnupg-home", "DIR", "GnuPG home holding the admin's secret key (default: GnuPG's)", OPT_GNUPG_HOME},
	CLI_PIN_OPTIONS,
	{NULL, NULL, NULL, 0},
};

#define USAGE "backup export --out DIR [--admin-key FPR] [--gnupg-home DIR] [--pin-file FILE | --pin-fd N]"

struct export_args {
	const char *out;
	const char *admin;
	const char *gnupg_home;
};

static int parse_args(struct cli_context *ctx, int argc, char **argv, struct export_args *a)
{
	const struct rombsr_config *cfg;
	struct cli_parser p;
	bool pinned = false;
	int id, r = 0;

	memset(a, 0, sizeof(*a));
	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, USAGE)) > 0) {
		if (id == OPT_OUT)
			a->out = p.value;
		else if (id == OPT_ADMIN_KEY)
			a->admin = p.value;
		else if (id == OPT_GNUPG_HOME)
			a->gnupg_home = p.value;
		else
			r = cli_take_pin_option(ctx, id, p.value);
	}
	if (r < 0)
		return r;
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (a->out == NULL)
		return rombsr_error(ROMBSR_EINVAL, "--out DIR is required");
	if (rombsr_path_exists(a->out))
		return rombsr_error(ROMBSR_EEXISTS, "%s exists already; a backup goes to a new folder", a->out);
	r = cli_config(ctx, &cfg);
	if (r < 0)
		return r;
	if (a->admin == NULL && cfg->queue_nadmins != 1)
		return rombsr_error(ROMBSR_ECONFIG, "%zu admins are pinned (queue.admin): name the one who signs with "
				    "--admin-key", cfg->queue_nadmins);
	if (a->admin == NULL)
		a->admin = cfg->queue_admins[0];
	for (size_t i = 0; i < cfg->queue_nadmins; i++)
		pinned = pinned || strcmp(cfg->queue_admins[i], a->admin) == 0;
	/* A restore trusts only pinned admins: a manifest signed by anyone
	 * else would be a backup that cannot be restored. */
	if (!pinned)
		return rombsr_error(ROMBSR_EINVAL, "--admin-key %s is not a pinned admin (queue.admin)", a->admin);
	return 0;
}

static int sha256(const void *data, size_t len, unsigned char md[32])
{
	return EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL) == 1
		       ? 0
		       : rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 failed");
}

static int write_in(const char *dir, const char *name, const void *data, size_t len)
{
	char path[4096];
	int r = rombsr_path_format(path, sizeof(path), "%s/%s", dir, name);

	return r == 0 ? rombsr_file_write_atomic(path, data, len, 0600, true) : r;
}

/* One key: its wrapped form and its certificate into dir, its entry in m. */
static int export_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, const char *dir,
		      struct backup_key *k)
{
	unsigned char *blob = NULL, *der = NULL;
	char file[ROMBSR_KEYSET_LABEL_MAX + 1];
	size_t blob_len;
	X509 *cert = NULL;
	int der_len, r;

	if (key->certificate == CK_INVALID_HANDLE)
		return rombsr_error(ROMBSR_ENOTFOUND, "key '%s' has no certificate: run keygen again", key->label);
	memset(k, 0, sizeof(*k));
	strcpy(k->label, key->label);
	memcpy(k->id, key->id, key->id_len);
	k->id_len = key->id_len;
	k->kind = key->kind;
	k->bits = key->bits;
	rombsr_keyset_label_file(key->label, file);
	r = rombsr_path_format(k->wrapped, sizeof(k->wrapped), "keys/%s.wrapped", file);
	if (r == 0)
		r = rombsr_path_format(k->certificate, sizeof(k->certificate), "certs/%s.der", file);
	if (r == 0)
		r = rombsr_hsm_wrap(hsm, key, &blob, &blob_len);
	if (r == 0)
		r = rombsr_hsm_read_certificate(hsm, key, &cert);
	if (r == 0 && (der_len = i2d_X509(cert, &der)) <= 0)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "key '%s': cannot encode its certificate", key->label);
	if (r == 0)
		r = sha256(blob, blob_len, k->wrapped_sha256);
	if (r == 0)
		r = sha256(der, (size_t)der_len, k->certificate_sha256);
	if (r == 0)
		r = write_in(dir, k->wrapped, blob, blob_len);
	if (r == 0)
		r = write_in(dir, k->certificate, der, (size_t)der_len);
	free(blob);
	OPENSSL_free(der);
	X509_free(cert);
	return r;
}

/* A key kept wrapped on disk (hsm.capacity): its store file already holds
 * the wrapped form, under the same wrap key (checked) and its certificate. */
static int export_stored(const struct rombsr_authority_config *a, const struct rombsr_keyset_entry *e,
			 const struct backup_manifest *m, const char *dir, struct backup_key *k, bool *found)
{
	struct rombsr_wrapped_key w;
	char file[ROMBSR_KEYSET_LABEL_MAX + 1];
	int r = rombsr_wrapped_key_read(a->wrapped_dir, e->label, e->authority, &w);

	*found = r == 0;
	if (r == ROMBSR_ENOTFOUND)
		return 0;
	if (r == 0 && (w.wrap_key_id_len != m->wrap_key_id_len || memcmp(w.wrap_key_id, m->wrap_key_id, w.wrap_key_id_len) != 0))
		r = rombsr_error(ROMBSR_ESECURITY, "the stored key '%s' is wrapped under another wrap key than token "
				 "'%s' holds", e->label, m->token);
	if (r == 0 && strcmp(w.mechanism, m->mechanism) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "the stored key '%s' is wrapped with %s, and token '%s' wraps with %s",
				 e->label, w.mechanism, m->token, m->mechanism);
	memset(k, 0, sizeof(*k));
	snprintf(k->label, sizeof(k->label), "%s", e->label);
	memcpy(k->id, w.id, w.id_len);
	k->id_len = w.id_len;
	k->kind = e->kind;
	k->bits = e->bits;
	rombsr_keyset_label_file(e->label, file);
	if (r == 0)
		r = rombsr_path_format(k->wrapped, sizeof(k->wrapped), "keys/%s.wrapped", file);
	if (r == 0)
		r = rombsr_path_format(k->certificate, sizeof(k->certificate), "certs/%s.der", file);
	if (r == 0)
		r = sha256(w.wrapped, w.wrapped_len, k->wrapped_sha256);
	if (r == 0)
		r = sha256(w.certificate, w.certificate_len, k->certificate_sha256);
	if (r == 0)
		r = write_in(dir, k->wrapped, w.wrapped, w.wrapped_len);
	if (r == 0)
		r = write_in(dir, k->certificate, w.certificate, w.certificate_len);
	rombsr_wrapped_key_free(&w);
	return r;
}

static int export_keys(struct rombsr_hsm *hsm, const struct rombsr_authority_config *a, const char *dir,
		       struct backup_manifest *m)
{
	const struct rombsr_keyset *ks = rombsr_keyset_current();
	unsigned char id[ROMBSR_HSM_ID_MAX];
	CK_OBJECT_HANDLE wrap_key;
	size_t id_len;
	int r;

	r = rombsr_hsm_wrap_key_find(hsm, &wrap_key, id, &id_len);
	if (r == ROMBSR_ENOTFOUND)
		return rombsr_error(ROMBSR_ENOTFOUND, "the release token holds no wrap key: run 'rombsr-sign wrap-key "
				    "create' (and 'keygen --wrappable') first");
	if (r < 0)
		return r;
	memcpy(m->wrap_key_id, id, id_len);
	m->wrap_key_id_len = id_len;
	snprintf(m->token, sizeof(m->token), "%s", rombsr_hsm_token_label(hsm));
	snprintf(m->mechanism, sizeof(m->mechanism), "%s", rombsr_hsm_wrap_mechanism(hsm));
	for (size_t i = 0; i < ks->len && r == 0; i++) {
		struct rombsr_hsm_key key;
		bool stored = false;

		if (ks->entries[i].authority != ROMBSR_AUTHORITY_RELEASE)
			continue;
		r = rombsr_hsm_find_key(hsm, ks->entries[i].label, &key);
		if (r == ROMBSR_ENOTFOUND) {
			rombsr_error_clear();
			r = a->capacity > 0 ? export_stored(a, &ks->entries[i], m, dir, &m->keys[m->nkeys], &stored) : 0;
			m->nkeys += stored;
			continue;
		}
		if (r == 0)
			r = export_key(hsm, &key, dir, &m->keys[m->nkeys++]);
	}
	if (r == 0 && m->nkeys == 0)
		r = rombsr_error(ROMBSR_ENOTFOUND, "the release token holds no key of the key set: nothing to back up");
	return r;
}

/* The manifest, its detached signature by the admin, and the admin's
 * public key (restore checks the fingerprint against queue.admin, not
 * this file). */
static int sign_manifest(const struct export_args *a, struct backup_manifest *m, const char *dir)
{
	struct rombsr_gpg *g = NULL;
	char *text = NULL, *sig = NULL, *pub = NULL;
	size_t len, pub_len;
	int r;

	snprintf(m->admin, sizeof(m->admin), "%s", a->admin);
	rombsr_time_format(time(NULL), m->created);
	r = backup_manifest_write(m, &text, &len);
	if (r == 0)
		r = rombsr_gpg_open(a->gnupg_home, &g);
	if (r == 0)
		r = rombsr_gpg_sign(g, a->admin, text, len, &sig);
	if (r == 0)
		r = rombsr_gpg_export(g, a->admin, &pub, &pub_len);
	if (r == 0)
		r = write_in(dir, BACKUP_MANIFEST, text, len);
	if (r == 0)
		r = write_in(dir, BACKUP_SIGNATURE, sig, strlen(sig));
	if (r == 0)
		r = write_in(dir, BACKUP_ADMIN_KEY, pub, pub_len);
	rombsr_gpg_close(g);
	free(text);
	free(sig);
	free(pub);
	return r < 0 ? rombsr_error_wrap(r, "signing the manifest as admin %s", a->admin) : 0;
}

static int make_scratch(const char *out, char **scratch)
{
	char path[4096];
	int r = outdir_begin(out, scratch);

	if (r == 0)
		r = rombsr_path_format(path, sizeof(path), "%s/keys", *scratch);
	if (r == 0)
		r = rombsr_mkdir_p(path, 0700);
	if (r == 0)
		r = rombsr_path_format(path, sizeof(path), "%s/certs", *scratch);
	if (r == 0)
		r = rombsr_mkdir_p(path, 0700);
	return r;
}

int cmd_backup_export(struct cli_context *ctx, int argc, char **argv)
{
	const struct rombsr_config *cfg;
	struct backup_manifest *m = NULL;
	struct rombsr_hsm *hsm = NULL;
	struct export_args a;
	char *scratch = NULL;
	int r;

	r = parse_args(ctx, argc, argv, &a);
	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = cli_config(ctx, &cfg);
	if (r == 0)
		r = cli_open_authority_as(ctx, ROMBSR_AUTHORITY_RELEASE, CLI_ROLE_BACKUP, &hsm);
	if (r == 0)
		r = make_scratch(a.out, &scratch);
	if (r == 0)
		r = export_keys(hsm, &cfg->authority[ROMBSR_AUTHORITY_RELEASE], scratch, m);
	if (r == 0)
		r = sign_manifest(&a, m, scratch);
	if (r == 0)
		r = outdir_finish(&scratch, a.out);
	if (r == 0)
		cli_info("%zu keys of token '%s' backed up to %s, manifest signed by %s", m->nkeys, m->token, a.out,
			 a.admin);
	outdir_discard(&scratch);
	rombsr_hsm_close(hsm);
	free(m);
	return r;
}
