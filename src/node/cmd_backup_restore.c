/* rombsr-sign backup restore: a backup whose manifest a pinned admin
 * signed, into a release token that holds no key yet and holds the wrap
 * key the backup was made under (wrap-key restore). Every file is checked
 * against the manifest before the token is touched; a failure half-way
 * destroys what this run imported, so a token is either restored or as
 * fresh as before. With hsm.capacity, the keys beyond what the token keeps
 * go to the wrapped store instead (docs/custody.md), each checked by
 * unwrapping it as a session object first. */
#include "backup_manifest.h"
#include "keygen_store.h"
#include "node.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"
#include "../common/wrapped_key.h"
#include "../hsm/hsm.h"
#include "../hsm/hsm_x509.h"
#include "../hsm/wrap.h"
#include "../queue/gpg.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_FROM = 1 };

static const struct cli_option options[] = {
	{"from", "DIR", "the backup folder (written by backup export)", OPT_FROM},
	CLI_PIN_OPTIONS,
	{NULL, NULL, NULL, 0},
};

#define USAGE "backup restore --from DIR [--pin-file FILE | --pin-fd N]"

struct loaded {
	struct backup_manifest m;
	struct rombsr_buf wrapped[BACKUP_MAX_KEYS];
	struct rombsr_buf certs[BACKUP_MAX_KEYS];
	CK_OBJECT_HANDLE created[3 * BACKUP_MAX_KEYS];
	size_t ncreated;
	/* hsm.capacity: keys from index keep on go to the store, not the token */
	const struct rombsr_authority_config *a;
	size_t keep, nstored;
	uid_t uid;
	gid_t gid;
};

static int read_in(const char *dir, const char *name, struct rombsr_buf *out)
{
	char path[4096];
	int r = rombsr_path_format(path, sizeof(path), "%s/%s", dir, name);

	return r == 0 ? rombsr_file_read(path, BACKUP_FILE_MAX, out) : r;
}

/* The manifest counts only if a pinned admin signed it; the admin.asc
 * beside it only brings the public key, trust comes from queue.admin. */
static int verify_manifest(struct cli_context *ctx, const char *dir, struct backup_manifest *m)
{
	struct rombsr_buf text = {0}, sig = {0}, pub = {0};
	struct rombsr_gpg_result res;
	const struct rombsr_config *cfg;
	struct rombsr_gpg *g = NULL;
	bool pinned = false;
	int r;

	r = cli_config(ctx, &cfg);
	if (r == 0)
		r = read_in(dir, BACKUP_MANIFEST, &text);
	if (r == 0)
		r = read_in(dir, BACKUP_SIGNATURE, &sig);
	if (r == 0)
		r = read_in(dir, BACKUP_ADMIN_KEY, &pub);
	if (r == 0)
		r = rombsr_gpg_open_ephemeral(&g);
	if (r == 0)
		r = rombsr_gpg_import(g, (const char *)pub.data, pub.len);
	if (r == 0)
		r = rombsr_gpg_verify(g, text.data, text.len, (const char *)sig.data, sig.len, &res);
	if (r == 0 && res.verdict != ROMBSR_GPG_GOOD)
		r = rombsr_error(ROMBSR_ESECURITY, "%s/%s: the manifest's signature does not verify (%s)", dir,
				 BACKUP_MANIFEST, rombsr_gpg_verdict_text(res.verdict));
	for (size_t i = 0; r == 0 && i < cfg->queue_nadmins; i++)
		pinned = pinned || strcmp(cfg->queue_admins[i], res.fpr) == 0;
	if (r == 0 && !pinned)
		r = rombsr_error(ROMBSR_ESECURITY, "%s/%s is signed by %s, who is not a pinned admin (queue.admin)", dir,
				 BACKUP_MANIFEST, res.fpr);
	if (r == 0)
		r = backup_manifest_parse((const char *)text.data, text.len, BACKUP_MANIFEST, m);
	if (r == 0 && strcmp(m->admin, res.fpr) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "%s names admin %s but is signed by %s", BACKUP_MANIFEST, m->admin,
				 res.fpr);
	rombsr_gpg_close(g);
	rombsr_buf_free(&text);
	rombsr_buf_free(&sig);
	rombsr_buf_free(&pub);
	return r;
}

static int check_file(const char *dir, const char *name, const unsigned char want[32], struct rombsr_buf *out)
{
	unsigned char md[32];
	int r = read_in(dir, name, out);

	if (r == 0 && EVP_Digest(out->data, out->len, md, NULL, EVP_sha256(), NULL) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 failed");
	if (r == 0 && CRYPTO_memcmp(md, want, 32) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "%s/%s does not match the SHA-256 in the signed manifest", dir, name);
	return r;
}

/* The token: no key, no certificate, and the backup's wrap key. */
static int check_token(struct rombsr_hsm *hsm, const struct backup_manifest *m)
{
	unsigned char id[ROMBSR_HSM_ID_MAX];
	char have[2 * ROMBSR_HSM_ID_MAX + 1], want[2 * BACKUP_ID_MAX + 1];
	CK_OBJECT_HANDLE wrap_key;
	size_t keys, certs, id_len;
	int r;

	/* A PKCS#11 token cannot open a YubiHSM's blob, nor a YubiHSM a
	 * token's. */
	if (strcmp(m->mechanism, rombsr_hsm_wrap_mechanism(hsm)) != 0)
		return rombsr_error(ROMBSR_EINVAL, "this backup was wrapped with %s; '%s' wraps with %s", m->mechanism,
				    rombsr_hsm_token_label(hsm), rombsr_hsm_wrap_mechanism(hsm));
	r = rombsr_hsm_count_keys(hsm, &keys, &certs);
	if (r == 0 && (keys > 0 || certs > 0))
		return rombsr_error(ROMBSR_EEXISTS, "token '%s' holds %zu keys and %zu certificates already: a backup "
				    "is restored only into a fresh token", rombsr_hsm_token_label(hsm), keys, certs);
	if (r == 0)
		r = rombsr_hsm_wrap_key_find(hsm, &wrap_key, id, &id_len);
	rombsr_hex_encode(m->wrap_key_id, m->wrap_key_id_len, want);
	if (r == ROMBSR_ENOTFOUND)
		return rombsr_error(ROMBSR_ENOTFOUND, "token '%s' holds no wrap key: restore wrap key %s first "
				    "('rombsr-sign wrap-key restore')", rombsr_hsm_token_label(hsm), want);
	if (r < 0)
		return r;
	rombsr_hex_encode(id, id_len, have);
	if (id_len != m->wrap_key_id_len || memcmp(id, m->wrap_key_id, id_len) != 0)
		return rombsr_error(ROMBSR_EINVAL, "token '%s' holds wrap key %s; this backup was made under wrap key %s",
				    rombsr_hsm_token_label(hsm), have, want);
	return 0;
}

/* The certificate's public key is the unwrapped key's: a backup cannot
 * pair a key with someone else's certificate. */
static int unwrap_checked(struct rombsr_hsm *hsm, struct loaded *l, size_t i, bool token_object,
			  struct rombsr_hsm_key *key)
{
	const struct backup_key *k = &l->m.keys[i];
	/* A key the token keeps stays wrappable as keygen --wrappable made it:
	 * the next backup wraps it again, and key rotation reads
	 * CKA_EXTRACTABLE to make its successor wrappable too. A session copy
	 * only proves the wrapped form and is destroyed: never exportable. */
	struct rombsr_hsm_unwrap_spec spec = {k->label, k->id, k->id_len, k->kind, token_object, token_object};
	const unsigned char *p = l->certs[i].data;
	X509 *cert = NULL;
	CK_OBJECT_HANDLE h;
	int r;

	r = rombsr_hsm_unwrap(hsm, &spec, l->wrapped[i].data, l->wrapped[i].len, &h);
	if (r < 0)
		return r;
	l->created[l->ncreated++] = h;
	r = rombsr_hsm_find_key(hsm, k->label, key);
	if (r == 0 && (cert = d2i_X509(NULL, &p, (long)l->certs[i].len)) == NULL)
		r = rombsr_error_openssl(ROMBSR_EINVAL, "%s is not a DER certificate", k->certificate);
	if (r == 0 && X509_get0_pubkey(cert) == NULL)
		r = rombsr_error_openssl(ROMBSR_EINVAL, "%s has no usable public key", k->certificate);
	/* An unwrapped key has no public key object to compare, and an EC
	 * private key no point: it signs, and the certificate's key must
	 * verify. */
	if (r == 0 && (r = rombsr_hsm_key_proves(hsm, key, X509_get0_pubkey(cert))) == ROMBSR_ESECURITY)
		r = rombsr_error(ROMBSR_ESECURITY, "%s is not the certificate of key '%s'", k->certificate, k->label);
	/* A key kept in the token gets back the public key object keygen made. */
	if (r == 0 && token_object && key->kind != ROMBSR_KEY_RSA && key->public_key == CK_INVALID_HANDLE) {
		r = rombsr_hsm_store_ec_public_key(hsm, key, X509_get0_pubkey(cert));
		if (r == 0)
			l->created[l->ncreated++] = key->public_key;
	}
	if (r == 0 && (key->kind != k->kind || key->bits != k->bits))
		r = rombsr_error(ROMBSR_ESECURITY, "key '%s' is not the %u-bit key the manifest names", k->label,
				 k->bits);
	X509_free(cert);
	return r;
}

/* A key beyond what the token keeps: checked in a session object that is
 * destroyed again, then written to the store as the backup holds it. */
static int import_stored(struct rombsr_hsm *hsm, struct loaded *l, size_t i)
{
	const struct backup_key *k = &l->m.keys[i];
	struct rombsr_wrapped_key w = {.authority = ROMBSR_AUTHORITY_RELEASE};
	struct rombsr_hsm_key key;
	int r = unwrap_checked(hsm, l, i, false, &key);

	if (r == 0 && (r = rombsr_hsm_destroy_object(hsm, key.private_key)) == 0)
		l->ncreated--;
	snprintf(w.label, sizeof(w.label), "%s", k->label);
	memcpy(w.id, k->id, k->id_len);
	w.id_len = k->id_len;
	memcpy(w.wrap_key_id, l->m.wrap_key_id, l->m.wrap_key_id_len);
	w.wrap_key_id_len = l->m.wrap_key_id_len;
	snprintf(w.mechanism, sizeof(w.mechanism), "%s", l->m.mechanism);
	w.wrapped = l->wrapped[i].data;
	w.wrapped_len = l->wrapped[i].len;
	w.certificate = l->certs[i].data;
	w.certificate_len = l->certs[i].len;
	/* The signer's user is given the files as keygen gives them. */
	if (r == 0)
		r = rombsr_wrapped_key_write(l->a->wrapped_dir, &w, l->uid, l->gid);
	if (r == 0)
		l->nstored = i + 1 - l->keep;
	return r < 0 ? rombsr_error_wrap(r, "key '%s'", k->label) : 0;
}

static int import_one(struct rombsr_hsm *hsm, struct loaded *l, size_t i)
{
	const struct backup_key *k = &l->m.keys[i];
	struct rombsr_hsm_key key;
	int r;

	if (i >= l->keep)
		return import_stored(hsm, l, i);
	r = unwrap_checked(hsm, l, i, true, &key);
	if (r == 0)
		r = rombsr_hsm_store_certificate(hsm, &key, l->certs[i].data, l->certs[i].len);
	if (r == 0)
		l->created[l->ncreated++] = key.certificate;
	return r < 0 ? rombsr_error_wrap(r, "key '%s'", k->label) : 0;
}

/* With hsm.capacity, the keys beyond what the token keeps go to the store,
 * which must not hold them already (a store left from the lost token is
 * moved away first: restore never mixes two). */
static int plan_store(struct cli_context *ctx, struct loaded *l)
{
	const struct rombsr_config *cfg;
	int r = cli_config(ctx, &cfg);

	l->a = r == 0 ? &cfg->authority[ROMBSR_AUTHORITY_RELEASE] : NULL;
	l->keep = l->m.nkeys;
	if (r < 0 || l->a->capacity == 0 || l->m.nkeys <= l->a->capacity - l->a->unwrap_slots)
		return r;
	l->keep = l->a->capacity - l->a->unwrap_slots;
	for (size_t i = l->keep; i < l->m.nkeys && r == 0; i++) {
		char path[4096];

		r = rombsr_wrapped_key_path(l->a->wrapped_dir, l->m.keys[i].label, path, sizeof(path));
		if (r == 0 && rombsr_path_exists(path))
			r = rombsr_error(ROMBSR_EEXISTS, "the wrapped store already holds key '%s' (%s): move %s away "
					 "before restoring", l->m.keys[i].label, path, l->a->wrapped_dir);
	}
	return r == 0 ? keygen_store_owner(cfg, &l->uid, &l->gid) : r;
}

static int import_all(struct rombsr_hsm *hsm, struct loaded *l)
{
	int r = 0;

	for (size_t i = 0; i < l->m.nkeys && r == 0; i++)
		r = import_one(hsm, l, i);
	if (r < 0) {
		struct rombsr_error_saved saved;
		size_t left = 0;

		rombsr_error_save(&saved);
		for (size_t i = l->ncreated; i-- > 0;)
			if (rombsr_hsm_destroy_object(hsm, l->created[i]) < 0)
				left++;
		for (size_t i = l->keep; i < l->keep + l->nstored; i++)
			if (rombsr_wrapped_key_remove(l->a->wrapped_dir, l->m.keys[i].label) < 0)
				left++;
		rombsr_error_restore(&saved);
		if (left > 0)
			cli_info("%zu objects imported by this run could not be destroyed: the token is not fresh", left);
	}
	return r;
}

static int parse_args(struct cli_context *ctx, int argc, char **argv, const char **from)
{
	struct cli_parser p;
	int id, r = 0;

	*from = NULL;
	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, USAGE)) > 0)
		r = id == OPT_FROM ? (*from = p.value, 0) : cli_take_pin_option(ctx, id, p.value);
	if (r < 0)
		return r;
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	return *from != NULL ? 0 : rombsr_error(ROMBSR_EINVAL, "--from DIR is required");
}

int cmd_backup_restore(struct cli_context *ctx, int argc, char **argv)
{
	struct rombsr_hsm *hsm = NULL;
	struct loaded *l;
	const char *from;
	int r;

	r = parse_args(ctx, argc, argv, &from);
	if (r < 0)
		return r;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = verify_manifest(ctx, from, &l->m);
	for (size_t i = 0; i < l->m.nkeys && r == 0; i++) {
		r = check_file(from, l->m.keys[i].wrapped, l->m.keys[i].wrapped_sha256, &l->wrapped[i]);
		if (r == 0)
			r = check_file(from, l->m.keys[i].certificate, l->m.keys[i].certificate_sha256, &l->certs[i]);
	}
	if (r == 0)
		r = cli_open_authority_as(ctx, ROMBSR_AUTHORITY_RELEASE, CLI_ROLE_BACKUP, &hsm);
	if (r == 0)
		r = check_token(hsm, &l->m);
	if (r == 0)
		r = plan_store(ctx, l);
	if (r == 0)
		r = import_all(hsm, l);
	if (r == 0)
		cli_info("%zu keys restored into token '%s' from %s (manifest signed by %s on %s)", l->keep,
			 rombsr_hsm_token_label(hsm), from, l->m.admin, l->m.created);
	if (r == 0 && l->nstored > 0)
		cli_info("%zu keys restored into the wrapped store %s (hsm.capacity)", l->nstored, l->a->wrapped_dir);
	rombsr_hsm_close(hsm);
	for (size_t i = 0; i < BACKUP_MAX_KEYS; i++) {
		rombsr_buf_free(&l->wrapped[i]);
		rombsr_buf_free(&l->certs[i]);
	}
	free(l);
	return r;
}
