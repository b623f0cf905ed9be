/* keygen with hsm.capacity (docs/custody.md, "More keys than the token
 * holds"): every wrappable key of the set gets a wrapped copy in the
 * authority's store, and a new key beyond what the token keeps
 * (hsm.capacity minus hsm.unwrap-slots) leaves the token once its copy is
 * durable. */
#ifndef ROMBSR_NODE_KEYGEN_STORE_H
#define ROMBSR_NODE_KEYGEN_STORE_H

#include "../common/config.h"
#include "../common/keyset.h"
#include "../hsm/hsm.h"

#include <stdbool.h>
#include <sys/types.h>

struct keygen_store {
	const struct rombsr_authority_config *a;
	unsigned char wrap_key_id[ROMBSR_HSM_ID_MAX];
	size_t wrap_key_id_len;
	char token[33];     /* its token's label, for messages */
	uid_t uid;          /* the signer user's, when configured; else -1 */
	gid_t gid;
	size_t resident;    /* keys of the set in the token */
	size_t keep;        /* how many the token keeps at most */
	/* Makes the wrapped copies: the token's handle, or on a YubiHSM one
	 * logged in with the backup key (the administrator may not export). */
	struct rombsr_hsm *wrapper;
};

/* Who the store's folder and files belong to: the signer's user when
 * sign.signer-user is set (its reader), else -1 (left as created). */
int keygen_store_owner(const struct rombsr_config *cfg, uid_t *uid, gid_t *gid);

/* resident: the keys of the set the token holds now; wrapper: see
 * struct keygen_store. */
int keygen_store_open(const struct rombsr_config *cfg, enum rombsr_authority_id id, struct rombsr_hsm *hsm,
		      struct rombsr_hsm *wrapper, size_t resident, struct keygen_store *st);
/* Keeps keygen from giving a new key the ID of a key any authority keeps
 * wrapped on disk (rombsr_hsm_reserve_id). */
int keygen_store_reserve_ids(const struct rombsr_config *cfg, struct rombsr_hsm *hsm);
/* Whether e is kept wrapped in the store (a file that does not parse,
 * names another key or is wrapped under another wrap key than the
 * token's is an error, not "absent"). */
int keygen_store_has(const struct keygen_store *st, const struct rombsr_keyset_entry *e, bool *has);
/* key (with its certificate) is in the token: writes its wrapped copy if
 * the store lacks one; fresh (just generated) and beyond what the token
 * keeps, destroys it in the token afterwards. */
int keygen_store_key(struct keygen_store *st, struct rombsr_hsm *hsm, const struct rombsr_keyset_entry *e,
		     const struct rombsr_hsm_key *key, bool fresh);

#endif
