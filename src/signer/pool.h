/* The signer's threads (docs/sign-node.md, "Concurrent signing"): the main
 * thread reads the worker's messages, up to ROMBSR_CONFIG_MAX_SIGNER_SESSIONS
 * handler threads answer them at once (each HSM operation on a session of
 * its own), and one sender thread hands the replies out in the order the
 * messages came, each only after the sync of the signing cache that covers
 * the entries it depends on. The worker so reads one reply per message, in
 * order, as it does from a serial signer. */
#ifndef ROMBSR_SIGNER_POOL_H
#define ROMBSR_SIGNER_POOL_H

#include "cache.h"
#include "channel.h"

#include <stdbool.h>
#include <stddef.h>

/* Answers one message into reply (zeroed by the caller); *needs_sync: the
 * reply carries a signature, which leaves only after a sync of the cache.
 * Runs on several threads at once when the pool has more than one. */
typedef void (*signer_handler)(void *ctx, const struct rombsr_channel_request *m, struct rombsr_channel_reply *reply,
			       bool *needs_sync);

/* Serves fd until the worker hangs up: nthreads handler threads (1: one
 * message at a time, as a serial signer). */
int signer_pool_serve(int fd, size_t nthreads, struct rombsr_sign_cache *cache, signer_handler handler, void *ctx);

#endif
