/* The signing cache: an operation (key, mechanism and parameters, exact
 * bytes to sign) that was signed before is answered with the same signature
 * and no HSM operation. Kept in an append-only file on the sign node, each
 * entry durable before its signature is handed out, so a restart after a
 * crash never asks the HSM twice for the same thing.
 *
 * Safe for every mechanism: PKCS#1 v1.5 gives the same bytes anyway, and
 * handing out an earlier valid PSS or ECDSA signature of the same digest
 * reveals nothing a new one would not (docs/sign-node.md). */
#ifndef ROMBSR_SIGN_CACHE_H
#define ROMBSR_SIGN_CACHE_H

#include "../common/capture_format.h"

#include <stdbool.h>
#include <stddef.h>

struct rombsr_sign_cache;

/* Opens (creating) the cache file; a torn last line from a crash is
 * ignored and cut off. */
int rombsr_sign_cache_open(const char *path, struct rombsr_sign_cache **out);
void rombsr_sign_cache_close(struct rombsr_sign_cache *c);

/* What identifies op in the cache (SHA-256 of all of it): the signer
 * keeps two sessions from signing the same operation at once by it. */
void rombsr_sign_cache_op_id(const struct rombsr_cap_op *op, unsigned char id[32]);
/* true and the signature if op was signed before. Not thread-safe: the
 * signer calls get and put under one lock. */
bool rombsr_sign_cache_get(struct rombsr_sign_cache *c, const struct rombsr_cap_op *op, unsigned char *sig,
			   size_t *sig_len);
/* Appends (written, not yet durable: see rombsr_sign_cache_sync). */
int rombsr_sign_cache_put(struct rombsr_sign_cache *c, const struct rombsr_cap_op *op, const unsigned char *sig,
			  size_t sig_len);
/* Makes every entry put so far durable. The signer hands out a signature
 * only after the sync that covers its entry (group commit: one sync for
 * all the entries written while the previous one ran). */
int rombsr_sign_cache_sync(struct rombsr_sign_cache *c);
size_t rombsr_sign_cache_size(const struct rombsr_sign_cache *c);

#endif
