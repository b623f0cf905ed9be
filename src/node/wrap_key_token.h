/* The release token's side of a wrap-key ceremony: the only file of the
 * wrap-key commands that includes the HSM layer (CONTRIBUTING.md). */
#ifndef ROMBSR_NODE_WRAP_KEY_TOKEN_H
#define ROMBSR_NODE_WRAP_KEY_TOKEN_H

#include "node.h"

#include <stddef.h>

struct rombsr_hsm;

/* Opens the release authority's token without logging in, and refuses one
 * that holds a wrap key already (a ceremony never replaces one: the
 * backups made under it would be lost). */
int wrap_key_token_open(struct cli_context *ctx, struct rombsr_hsm **hsm);

/* Imports the key, CKA_ID id, as the token's trusted wrap key with the
 * security officer's PIN (the authority's so-pin-file). */
int wrap_key_token_import(struct cli_context *ctx, struct rombsr_hsm *hsm, const unsigned char *key,
			  size_t key_len, const unsigned char *id, size_t id_len);

/* Destroys the wrap key just imported, when what follows the import
 * fails: a token must not hold a key whose shares were never written. */
int wrap_key_token_remove(struct rombsr_hsm *hsm);

void wrap_key_token_close(struct rombsr_hsm *hsm);

#endif
