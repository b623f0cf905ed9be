#define _GNU_SOURCE
#include "gpg.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <gpgme.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Which primary key a signing (sub)key belongs to never changes, and
 * asking GnuPG costs two processes: a verifier going through thousands of
 * commits by a handful of keys asks once per key. */
#define PRIMARY_CACHE 16

struct primary_of {
	char sig_fpr[ROMBSR_FPR_LEN + 1];
	char primary[ROMBSR_FPR_LEN + 1];
};

struct rombsr_gpg {
	gpgme_ctx_t ctx;
	char *ephemeral_home;   /* removed on close */
	struct primary_of primaries[PRIMARY_CACHE];
	size_t nprimaries;      /* filled round-robin once full */
	/* The identity the last commit was made under: a daemon commits under
	 * one key, and each lookup starts gpg. */
	char identity_fpr[ROMBSR_FPR_LEN + 1], identity_name[128], identity_email[128];
};

static int gpg_fail(gpgme_error_t e, const char *what)
{
	return rombsr_error(ROMBSR_ECRYPTO, "%s: %s", what, gpgme_strerror(e));
}

bool rombsr_fpr_valid(const char *s)
{
	if (s == NULL || strlen(s) != ROMBSR_FPR_LEN)
		return false;
	for (size_t i = 0; i < ROMBSR_FPR_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

int rombsr_gpg_open(const char *homedir, struct rombsr_gpg **out)
{
	struct rombsr_gpg *g;
	gpgme_error_t e;

	*out = NULL;
	if (gpgme_check_version(NULL) == NULL)
		return rombsr_error(ROMBSR_EINTERNAL, "GPGME failed to start");
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	e = gpgme_new(&g->ctx);
	if (e == 0)
		e = gpgme_set_protocol(g->ctx, GPGME_PROTOCOL_OpenPGP);
	if (e == 0 && homedir != NULL)
		e = gpgme_ctx_set_engine_info(g->ctx, GPGME_PROTOCOL_OpenPGP, NULL, homedir);
	if (e != 0) {
		rombsr_gpg_close(g);
		return gpg_fail(e, "cannot start GnuPG");
	}
	gpgme_set_armor(g->ctx, 1);
	/* Never ask for a passphrase on our behalf: gpg-agent owns that. */
	gpgme_set_pinentry_mode(g->ctx, GPGME_PINENTRY_MODE_DEFAULT);
	*out = g;
	return 0;
}

#define KEYRING_PREFIX "rombsr-keyring."

/* A scratch keyring is named after its process: one whose process is gone
 * (killed: a hook whose push was cut off, a node stopped by a power cut)
 * is removed by the next process of the same user that makes one. */
static void sweep_stale(const char *parent)
{
	DIR *d = opendir(parent);
	struct rombsr_error_saved saved;
	struct dirent *e;

	if (d == NULL)
		return;
	/* Best effort: what it cannot remove is left, and said nowhere. */
	rombsr_error_save(&saved);
	while ((e = readdir(d)) != NULL) {
		char *end = NULL, path[4096];
		long pid;
		struct stat st;

		if (strncmp(e->d_name, KEYRING_PREFIX, strlen(KEYRING_PREFIX)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(KEYRING_PREFIX), &end, 10);
		if (end == NULL || *end != '.' || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if (rombsr_path_format(path, sizeof(path), "%s/%s", parent, e->d_name) == 0 && lstat(path, &st) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_uid == geteuid())
			(void)rombsr_remove_tree(path);
	}
	rombsr_error_restore(&saved);
	closedir(d);
}

int rombsr_gpg_open_ephemeral(struct rombsr_gpg **out)
{
	/* $TMPDIR first: the sign node's worker may write nowhere else than
	 * its own state (it sets TMPDIR to a folder there). */
	const char *tmp = getenv("TMPDIR"), *parent = tmp != NULL && tmp[0] == '/' ? tmp : "/tmp";
	char *home = NULL, *conf = NULL;
	int r;

	*out = NULL;
	sweep_stale(parent);
	if (asprintf(&home, "%s/" KEYRING_PREFIX "%ld.XXXXXX", parent, (long)getpid()) < 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (mkdtemp(home) == NULL) {
		free(home);
		return rombsr_error(ROMBSR_EIO, "cannot create a temporary keyring folder");
	}
	/* No gpg-agent: importing public keys and verifying need none, and an
	 * agent started here deletes its sockets when it sees the folder go,
	 * racing rombsr_gpg_close()'s removal of it. */
	r = asprintf(&conf, "%s/gpg.conf", home) < 0 ? rombsr_error(ROMBSR_ENOMEM, "out of memory") : 0;
	if (r == 0)
		r = rombsr_file_write_atomic(conf, "no-autostart\n", 13, 0600, false);
	free(conf);
	if (r == 0)
		r = rombsr_gpg_open(home, out);
	if (r < 0) {
		rombsr_remove_tree(home);
		free(home);
		return r;
	}
	(*out)->ephemeral_home = home;
	return 0;
}

void rombsr_gpg_close(struct rombsr_gpg *g)
{
	if (g == NULL)
		return;
	if (g->ctx != NULL)
		gpgme_release(g->ctx);
	if (g->ephemeral_home != NULL) {
		/* Closing happens on error paths too: keep the caller's message. */
		struct rombsr_error_saved saved;

		rombsr_error_save(&saved);
		if (rombsr_remove_tree(g->ephemeral_home) < 0)
			rombsr_error_restore(&saved);
		free(g->ephemeral_home);
	}
	free(g);
}

int rombsr_gpg_import(struct rombsr_gpg *g, const char *armored, size_t len)
{
	gpgme_data_t in = NULL;
	gpgme_import_result_t res;
	gpgme_error_t e;

	e = gpgme_data_new_from_mem(&in, armored, len, 0);
	if (e == 0)
		e = gpgme_op_import(g->ctx, in);
	gpgme_data_release(in);
	if (e != 0)
		return gpg_fail(e, "cannot import OpenPGP keys");
	res = gpgme_op_import_result(g->ctx);
	if (res == NULL || res->considered == 0 || res->not_imported > 0)
		return rombsr_error(ROMBSR_EINVAL, "not a usable OpenPGP public key");
	return 0;
}

static int find_key(struct rombsr_gpg *g, const char *fpr, int secret, gpgme_key_t *key)
{
	gpgme_error_t e = gpgme_get_key(g->ctx, fpr, key, secret);

	if (e != 0)
		return rombsr_error(ROMBSR_ENOTFOUND, "no OpenPGP %s key %s in the keyring: %s",
				    secret ? "secret" : "public", fpr, gpgme_strerror(e));
	return 0;
}

int rombsr_gpg_key_revoked(struct rombsr_gpg *g, const char *fpr, bool *revoked)
{
	gpgme_key_t key = NULL;
	int r = find_key(g, fpr, 0, &key);

	*revoked = true;
	if (r == 0)
		*revoked = key->revoked || key->disabled || key->invalid;
	gpgme_key_unref(key);
	return r;
}

int rombsr_gpg_sign(struct rombsr_gpg *g, const char *fpr, const void *data, size_t len, char **sig)
{
	gpgme_data_t in = NULL, out = NULL;
	gpgme_key_t key = NULL;
	gpgme_error_t e;
	size_t sig_len = 0;
	char *mem;
	int r;

	*sig = NULL;
	r = find_key(g, fpr, 1, &key);
	if (r < 0)
		return r;
	gpgme_signers_clear(g->ctx);
	e = gpgme_signers_add(g->ctx, key);
	if (e == 0)
		e = gpgme_data_new_from_mem(&in, data, len, 0);
	if (e == 0)
		e = gpgme_data_new(&out);
	if (e == 0)
		e = gpgme_op_sign(g->ctx, in, out, GPGME_SIG_MODE_DETACH);
	gpgme_signers_clear(g->ctx);
	gpgme_key_unref(key);
	gpgme_data_release(in);
	if (e != 0) {
		gpgme_data_release(out);
		return gpg_fail(e, "OpenPGP signing failed");
	}
	mem = gpgme_data_release_and_get_mem(out, &sig_len);
	if (mem == NULL)
		return rombsr_error(ROMBSR_ECRYPTO, "OpenPGP signing produced nothing");
	*sig = malloc(sig_len + 1);
	if (*sig == NULL) {
		gpgme_free(mem);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	memcpy(*sig, mem, sig_len);
	(*sig)[sig_len] = '\0';
	gpgme_free(mem);
	return 0;
}

const char *rombsr_gpg_verdict_text(enum rombsr_gpg_verdict v)
{
	switch (v) {
	case ROMBSR_GPG_GOOD:
		return "good signature";
	case ROMBSR_GPG_BAD:
		return "bad signature";
	case ROMBSR_GPG_UNKNOWN_KEY:
		return "signed by an unknown key";
	case ROMBSR_GPG_REVOKED:
		return "signed by a revoked key";
	case ROMBSR_GPG_EXPIRED:
		return "signed by an expired key or the signature expired";
	case ROMBSR_GPG_SEVERAL:
		return "carries more than one signature (exactly one is accepted)";
	case ROMBSR_GPG_NONE:
		return "carries no readable OpenPGP signature";
	}
	return "?";
}

/* The fingerprint a signature reports may be a signing subkey's; roles are
 * given to primary keys. */
static void primary_fpr(struct rombsr_gpg *g, const char *sig_fpr, char out[ROMBSR_FPR_LEN + 1])
{
	gpgme_key_t key = NULL;
	struct primary_of *slot;

	out[0] = '\0';
	if (sig_fpr == NULL)
		return;
	for (size_t i = 0; i < g->nprimaries && i < PRIMARY_CACHE; i++) {
		if (strcmp(g->primaries[i].sig_fpr, sig_fpr) == 0) {
			memcpy(out, g->primaries[i].primary, ROMBSR_FPR_LEN + 1);
			return;
		}
	}
	if (gpgme_get_key(g->ctx, sig_fpr, &key, 0) == 0 && key->subkeys != NULL && key->subkeys->fpr != NULL &&
	    strlen(key->subkeys->fpr) == ROMBSR_FPR_LEN)
		memcpy(out, key->subkeys->fpr, ROMBSR_FPR_LEN + 1);
	else if (strlen(sig_fpr) == ROMBSR_FPR_LEN)
		memcpy(out, sig_fpr, ROMBSR_FPR_LEN + 1);
	/* Only a key the keyring knows is remembered: an unknown one may be
	 * imported later as a subkey of another. */
	if (key != NULL && out[0] != '\0' && strlen(sig_fpr) <= ROMBSR_FPR_LEN) {
		slot = &g->primaries[g->nprimaries++ % PRIMARY_CACHE];
		snprintf(slot->sig_fpr, sizeof(slot->sig_fpr), "%s", sig_fpr);
		memcpy(slot->primary, out, ROMBSR_FPR_LEN + 1);
	}
	gpgme_key_unref(key);
}

/* Whether the (sub)key that made s was still valid when s was made. */
static bool signed_before_expiry(struct rombsr_gpg *g, gpgme_signature_t s)
{
	gpgme_key_t key = NULL;
	bool before = false;

	if (s->fpr == NULL || s->timestamp == 0 || gpgme_get_key(g->ctx, s->fpr, &key, 0) != 0)
		return false;
	for (gpgme_subkey_t sk = key->subkeys; sk != NULL; sk = sk->next)
		if (sk->fpr != NULL && strcmp(sk->fpr, s->fpr) == 0)
			before = sk->expires != 0 && s->timestamp < (unsigned long)sk->expires;
	gpgme_key_unref(key);
	return before;
}

int rombsr_gpg_verify(struct rombsr_gpg *g, const void *data, size_t len, const char *sig, size_t sig_len,
		      struct rombsr_gpg_result *result)
{
	gpgme_data_t d_sig = NULL, d_data = NULL;
	gpgme_verify_result_t res;
	gpgme_signature_t s;
	gpgme_error_t e;

	memset(result, 0, sizeof(*result));
	result->verdict = ROMBSR_GPG_BAD;
	e = gpgme_data_new_from_mem(&d_sig, sig, sig_len, 0);
	if (e == 0)
		e = gpgme_data_new_from_mem(&d_data, data, len, 0);
	if (e == 0)
		e = gpgme_op_verify(g->ctx, d_sig, d_data, NULL);
	gpgme_data_release(d_sig);
	gpgme_data_release(d_data);
	if (e != 0 && gpgme_err_code(e) != GPG_ERR_BAD_SIGNATURE && gpgme_err_code(e) != GPG_ERR_NO_DATA)
		return gpg_fail(e, "cannot check the OpenPGP signature");
	res = gpgme_op_verify_result(g->ctx);
	s = res != NULL ? res->signatures : NULL;
	/* Exactly one signature: a second one could carry a different signer
	 * than the one authorization looks at. */
	if (s == NULL || s->next != NULL) {
		result->verdict = s == NULL ? ROMBSR_GPG_NONE : ROMBSR_GPG_SEVERAL;
		return 0;
	}
	primary_fpr(g, s->fpr, result->fpr);
	if (s->summary & GPGME_SIGSUM_KEY_REVOKED)
		result->verdict = ROMBSR_GPG_REVOKED;
	else if ((s->summary & GPGME_SIGSUM_KEY_EXPIRED) && !(s->summary & (GPGME_SIGSUM_SIG_EXPIRED | GPGME_SIGSUM_RED)) &&
		 gpgme_err_code(s->status) == GPG_ERR_KEY_EXPIRED && signed_before_expiry(g, s) && result->fpr[0] != '\0') {
		result->verdict = ROMBSR_GPG_GOOD;
		result->expired_since = true;
	} else if (s->summary & (GPGME_SIGSUM_KEY_EXPIRED | GPGME_SIGSUM_SIG_EXPIRED))
		result->verdict = ROMBSR_GPG_EXPIRED;
	else if ((s->summary & GPGME_SIGSUM_KEY_MISSING) || gpgme_err_code(s->status) == GPG_ERR_NO_PUBKEY)
		result->verdict = ROMBSR_GPG_UNKNOWN_KEY;
	else if (s->status == GPG_ERR_NO_ERROR && !(s->summary & GPGME_SIGSUM_RED) && result->fpr[0] != '\0')
		result->verdict = ROMBSR_GPG_GOOD;
	return 0;
}

int rombsr_gpg_key_identity(struct rombsr_gpg *g, const char *fpr, char name[128], char email[128])
{
	gpgme_key_t key = NULL;
	int r;

	if (strcmp(g->identity_fpr, fpr) == 0) {
		memcpy(name, g->identity_name, 128);
		memcpy(email, g->identity_email, 128);
		return 0;
	}
	r = find_key(g, fpr, 0, &key);
	if (r < 0)
		return r;
	if (key->uids == NULL) {
		gpgme_key_unref(key);
		return rombsr_error(ROMBSR_EINVAL, "OpenPGP key %s has no user ID", fpr);
	}
	snprintf(name, 128, "%s", key->uids->name && key->uids->name[0] ? key->uids->name : fpr);
	snprintf(email, 128, "%s", key->uids->email && key->uids->email[0] ? key->uids->email : "unknown");
	gpgme_key_unref(key);
	if (strlen(fpr) == ROMBSR_FPR_LEN) {
		memcpy(g->identity_fpr, fpr, ROMBSR_FPR_LEN + 1);
		memcpy(g->identity_name, name, 128);
		memcpy(g->identity_email, email, 128);
	}
	return 0;
}

int rombsr_gpg_export(struct rombsr_gpg *g, const char *fpr, char **out, size_t *len)
{
	gpgme_data_t d = NULL;
	gpgme_error_t e;
	char *mem;
	size_t n = 0;

	*out = NULL;
	e = gpgme_data_new(&d);
	if (e == 0)
		e = gpgme_op_export(g->ctx, fpr, 0, d);
	if (e != 0) {
		gpgme_data_release(d);
		return gpg_fail(e, "cannot export the OpenPGP key");
	}
	mem = gpgme_data_release_and_get_mem(d, &n);
	if (mem == NULL || n == 0) {
		gpgme_free(mem);
		return rombsr_error(ROMBSR_ENOTFOUND, "no OpenPGP public key %s to export", fpr);
	}
	*out = malloc(n + 1);
	if (*out != NULL) {
		memcpy(*out, mem, n);
		(*out)[n] = '\0';
		*len = n;
	}
	gpgme_free(mem);
	return *out ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");
}
