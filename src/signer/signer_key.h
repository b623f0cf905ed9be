/* A key the signer serves, and the keys it keeps wrapped on disk because
 * the token cannot hold them all (docs/custody.md, "More keys than the
 * token holds"): unwrapped into the token as session objects when a
 * request needs them, the least recently used destroyed again when the
 * token's free places (hsm.capacity minus the keys it keeps) run out. */
#ifndef ROMBSR_SIGNER_SIGNER_KEY_H
#define ROMBSR_SIGNER_SIGNER_KEY_H

#include "../common/config.h"
#include "../common/keyset.h"
#include "../common/wrapped_key.h"
#include "../hsm/hsm.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>

struct signer_key {
	struct rombsr_hsm_key key;  /* private_key: CK_INVALID_HANDLE while a stored key is not unwrapped */
	char spki_sha256[65];
	size_t modulus_bytes;
	/* A key kept wrapped in the authority's store (NULL: the token keeps it). */
	struct rombsr_wrapped_key *stored;
	EVP_PKEY *certified;        /* its certificate's public key: what every signature must verify with */
	uint64_t last_used;
	/* Threads signing with the unwrapped object now: a pinned key is never
	 * evicted (its handle would die under a C_Sign of another session). */
	unsigned pins;
};

struct signer_unwrapped {
	/* The signer's sessions share the places: lock guards this struct and
	 * every key's private_key, last_used and pins; unpinned is signalled
	 * when a pin is dropped (a thread may wait for a place). */
	pthread_mutex_t lock;
	pthread_cond_t unpinned;
	size_t slots;               /* how many stored keys may be in the token at once */
	size_t loaded;
	uint64_t clock;             /* ticks once per use: the LRU order */
	uint64_t unwraps, evictions;
};

/* Once per signer, before signer_unwrapped_init. */
void signer_unwrapped_setup(struct signer_unwrapped *u);
void signer_unwrapped_teardown(struct signer_unwrapped *u);

/* Fills k from e's file in a's wrapped store: ROMBSR_ENOTFOUND if there is
 * none; a certificate of another algorithm or size than e, or a file
 * wrapped another way than hsm wraps, is an error. */
int signer_key_load_stored(struct rombsr_hsm *hsm, const struct rombsr_authority_config *a,
			   const struct rombsr_keyset_entry *e, struct signer_key *k);
void signer_key_free(struct signer_key *k);

/* A key of the set the token holds: if it came in by unwrapping and the
 * store keeps it (a copy a signer before this one left on a YubiHSM),
 * fills k as a stored key already loaded at in_token's handle and sets
 * *copy; a copy that is not its stored certificate's key is
 * ROMBSR_ESECURITY. *copy false: k untouched, the token's own key. */
int signer_key_load_copy(struct rombsr_hsm *hsm, const struct rombsr_authority_config *a,
			 const struct rombsr_keyset_entry *e, const struct rombsr_hsm_key *in_token, struct signer_key *k,
			 bool *copy);

/* The second handle a signer on a YubiHSM with hsm.capacity needs: logged
 * in with the loader key, which may import wrapped and delete keys (the
 * signing key may do neither). *loader NULL where none is needed. */
int signer_loader_open(const struct rombsr_authority_config *a, struct rombsr_hsm **loader);

/* The places left for stored keys once the token keeps `resident` of
 * them (`loaded` of the stored ones in the token already); ROMBSR_ECONFIG if there are stored keys and no place. Called with
 * no key pinned (at start, and after a re-open, which excludes signing). */
int signer_unwrapped_init(struct signer_unwrapped *u, const struct rombsr_authority_config *a, size_t resident,
			  size_t stored, size_t loaded);

/* Makes k's private key usable and pins it: unwraps it as a session
 * object if it is not in the token, first destroying the least recently
 * used unpinned key of keys[0..n) when every place is taken (waiting for
 * an unpin when every loaded key is pinned). On success *handle is the
 * key's private key, valid until signer_key_release(u, k). */
int signer_key_ready(struct rombsr_hsm *hsm, struct signer_unwrapped *u, struct signer_key *keys, size_t n,
		     struct signer_key *k, CK_OBJECT_HANDLE *handle);
void signer_key_release(struct signer_unwrapped *u, struct signer_key *k);

/* Destroys every unpinned stored key in the token: a YubiHSM keeps what
 * was imported, so a signer that stops takes its copies with it (one it
 * fails to remove is taken as loaded by the next signer). */
void signer_unwrapped_evict_all(struct rombsr_hsm *hsm, struct signer_unwrapped *u, struct signer_key *keys,
				size_t n);

/* After the token was re-opened: its session objects are gone. */
void signer_unwrapped_forget(struct signer_unwrapped *u, struct signer_key *keys, size_t n);

#endif
