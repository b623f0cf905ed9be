/* The backup's manifest (docs/formats/backup.md): what a backup folder
 * holds, with the SHA-256 of every file, signed by a pinned admin. */
#ifndef ROMBSR_NODE_BACKUP_MANIFEST_H
#define ROMBSR_NODE_BACKUP_MANIFEST_H

#include "../common/keyset.h"
#include "../common/sigalg.h"

#include <stddef.h>

#define BACKUP_FORMAT "rombsr-backup"
#define BACKUP_VERSION 1
/* Every key of the largest key set (a key set's keys beyond a token's
 * capacity are backed up from the wrapped store). */
#define BACKUP_MAX_KEYS ROMBSR_KEYSET_MAX_KEYS
#define BACKUP_ID_MAX 64
#define BACKUP_LABEL_MAX 64
#define BACKUP_FILE_MAX (1u << 20)
#define BACKUP_MANIFEST "manifest.json"
#define BACKUP_SIGNATURE "manifest.json.asc"
#define BACKUP_ADMIN_KEY "admin.asc"

struct backup_key {
	char label[BACKUP_LABEL_MAX + 1];
	unsigned char id[BACKUP_ID_MAX];
	size_t id_len;
	enum rombsr_key_kind kind;
	unsigned bits;
	char wrapped[BACKUP_LABEL_MAX + 16];     /* keys/<label>.wrapped */
	unsigned char wrapped_sha256[32];
	char certificate[BACKUP_LABEL_MAX + 16]; /* certs/<label>.der */
	unsigned char certificate_sha256[32];
};

struct backup_manifest {
	char token[33];
	char mechanism[32];   /* how the token wrapped the keys (rombsr_hsm_wrap_mechanism()) */
	unsigned char wrap_key_id[BACKUP_ID_MAX];
	size_t wrap_key_id_len;
	char admin[41];
	char created[21];
	struct backup_key keys[BACKUP_MAX_KEYS];
	size_t nkeys;
};

/* The manifest's JSON text (*out malloc'd, NUL-terminated). */
int backup_manifest_write(const struct backup_manifest *m, char **out, size_t *len);

/* Parses a manifest already verified as the admin's; path names it. */
int backup_manifest_parse(const char *text, size_t len, const char *path, struct backup_manifest *m);

#endif
