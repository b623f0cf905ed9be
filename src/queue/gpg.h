/* OpenPGP through GPGME: detached signatures over git commit content, and
 * verification against a keyring ROMbsr controls.
 *
 * Trust in a signer never comes from GnuPG's web of trust: the verifier
 * answers "a valid, unexpired, unrevoked signature by primary key F", and
 * the queue's authorization data decides what F may do. */
#ifndef ROMBSR_GPG_H
#define ROMBSR_GPG_H

#include <stdbool.h>
#include <stddef.h>

#define ROMBSR_FPR_LEN 40

struct rombsr_gpg;

/* A context on the GnuPG home homedir (NULL: GnuPG's default). */
int rombsr_gpg_open(const char *homedir, struct rombsr_gpg **out);
/* A context on a fresh, private keyring in a temporary folder, removed by
 * rombsr_gpg_close(): verification sees only the keys imported into it. */
int rombsr_gpg_open_ephemeral(struct rombsr_gpg **out);
void rombsr_gpg_close(struct rombsr_gpg *g);

/* Imports armored public keys (and revocations). */
int rombsr_gpg_import(struct rombsr_gpg *g, const char *armored, size_t len);

/* Detached armored signature by the secret key whose primary fingerprint
 * is fpr (40 upper-case hex). *sig is malloc'd and NUL-terminated. */
int rombsr_gpg_sign(struct rombsr_gpg *g, const char *fpr, const void *data, size_t len, char **sig);

/* Whether the keyring holds key fpr as revoked (or disabled, or unusable):
 * true also when the call fails. */
int rombsr_gpg_key_revoked(struct rombsr_gpg *g, const char *fpr, bool *revoked);

enum rombsr_gpg_verdict {
	ROMBSR_GPG_GOOD,
	ROMBSR_GPG_BAD,          /* does not verify */
	ROMBSR_GPG_UNKNOWN_KEY,  /* made by a key not in the keyring */
	ROMBSR_GPG_REVOKED,
	ROMBSR_GPG_EXPIRED,      /* key or signature expired */
	ROMBSR_GPG_SEVERAL,      /* more than one signature */
	ROMBSR_GPG_NONE,         /* no signature in the data given */
};

struct rombsr_gpg_result {
	enum rombsr_gpg_verdict verdict;
	char fpr[ROMBSR_FPR_LEN + 1];   /* primary key fingerprint, when known */
	/* GOOD, though the key has expired since: the signature was made
	 * before the key's expiry. History stays valid; a new push is not. */
	bool expired_since;
};

/* Checks a detached signature over data. Returns 0 with a verdict (a bad
 * signature is a verdict, not an error), or an error if it cannot tell. */
int rombsr_gpg_verify(struct rombsr_gpg *g, const void *data, size_t len, const char *sig, size_t sig_len,
		      struct rombsr_gpg_result *result);
const char *rombsr_gpg_verdict_text(enum rombsr_gpg_verdict v);

/* The signing key's first user ID as "Name <email>" parts, for commit
 * authors. */
int rombsr_gpg_key_identity(struct rombsr_gpg *g, const char *fpr, char name[128], char email[128]);

/* Exports the armored public key fpr (*out malloc'd, NUL-terminated). */
int rombsr_gpg_export(struct rombsr_gpg *g, const char *fpr, char **out, size_t *len);

/* True if s is a 40-character upper-case hex fingerprint. */
bool rombsr_fpr_valid(const char *s);

#endif
