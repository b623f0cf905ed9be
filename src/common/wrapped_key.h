/* A signing key kept outside its token, wrapped under the token's trusted
 * wrap key (docs/formats/wrapped-key.md): one file per key in the
 * authority's wrapped store, <state-dir>/wrapped/<authority>/, for the
 * keys beyond hsm.capacity (docs/custody.md). The file is not secret in
 * the way a PIN is (only the token can unwrap it) but it is the key: it is
 * written 0600 and durably, and removed when the key is revoked. */
#ifndef ROMBSR_COMMON_WRAPPED_KEY_H
#define ROMBSR_COMMON_WRAPPED_KEY_H

#include "config.h"
#include "keyset.h"

#include <stddef.h>
#include <sys/types.h>

#define ROMBSR_WRAPPED_KEY_FORMAT "rombsr.wrapped-key"
#define ROMBSR_WRAPPED_KEY_VERSION 1
#define ROMBSR_WRAPPED_KEY_ID_MAX 64
#define ROMBSR_WRAPPED_KEY_BLOB_MAX 16384
#define ROMBSR_WRAPPED_KEY_CERT_MAX 16384
#define ROMBSR_WRAPPED_KEY_FILE_MAX (64 * 1024)

struct rombsr_wrapped_key {
	char label[ROMBSR_KEYSET_LABEL_MAX + 1];
	enum rombsr_authority_id authority;
	unsigned char id[ROMBSR_WRAPPED_KEY_ID_MAX];  /* the key's CKA_ID */
	size_t id_len;
	unsigned char wrap_key_id[ROMBSR_WRAPPED_KEY_ID_MAX]; /* CKA_ID of the wrap key */
	size_t wrap_key_id_len;
	/* How it is wrapped, as rombsr_hsm_wrap_mechanism() names it: the
	 * token that wraps the same way is the only one that can unwrap it. */
	char mechanism[32];
	unsigned char *wrapped;                       /* under the wrap key, by mechanism */
	size_t wrapped_len;
	unsigned char *certificate;                   /* X.509, DER */
	size_t certificate_len;
};

/* Parses a file's text; what names it in errors. Unknown fields, another
 * format or version, bad hex or base64 are refused with the field. */
int rombsr_wrapped_key_parse(const char *text, size_t len, const char *what, struct rombsr_wrapped_key *out);
/* The file's text (malloc'd). */
int rombsr_wrapped_key_format(const struct rombsr_wrapped_key *k, char **text, size_t *len);

/* <dir>/<file>.json, <file> the label with '/' as '+'. */
int rombsr_wrapped_key_path(const char *dir, const char *label, char *out, size_t size);
/* Reads label's file from dir: ROMBSR_ENOTFOUND if there is none; a file
 * naming another label or authority is ROMBSR_ESECURITY. */
int rombsr_wrapped_key_read(const char *dir, const char *label, enum rombsr_authority_id authority,
			    struct rombsr_wrapped_key *out);
/* Writes k's file atomically (mode 0600, the folder made 0700 if missing);
 * an existing file is replaced. owner (uid, gid; -1 for neither) is given
 * the folder and the file when running as root, so that the signer's user
 * can read what an administrator's keygen wrote. */
int rombsr_wrapped_key_write(const char *dir, const struct rombsr_wrapped_key *k, uid_t uid, gid_t gid);
/* Removes label's file (none: 0) and makes the removal durable. */
int rombsr_wrapped_key_remove(const char *dir, const char *label);
void rombsr_wrapped_key_free(struct rombsr_wrapped_key *k);

#endif
