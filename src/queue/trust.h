/* The queue's authorization data (trust/trust.json, docs/queue.md): which
 * OpenPGP primary keys act as admin, build node, sign node and operator.
 * It changes only in commits signed by an admin the local configuration
 * pins: the trust root is never the queue itself. */
#ifndef ROMBSR_QUEUE_TRUST_H
#define ROMBSR_QUEUE_TRUST_H

#include "repo.h"

#include <stdbool.h>
#include <stddef.h>

#define ROMBSR_TRUST_FORMAT "rombsr.trust"
#define ROMBSR_TRUST_VERSION 1
#define ROMBSR_TRUST_MAX_KEYS 256
#define ROMBSR_TRUST_MAX_BYTES (1u << 20)

enum rombsr_role { ROMBSR_ROLE_ADMIN, ROMBSR_ROLE_BUILD, ROMBSR_ROLE_SIGN, ROMBSR_ROLE_OPERATOR, ROMBSR_ROLE_COUNT };

struct rombsr_trust {
	char (*fprs[ROMBSR_ROLE_COUNT])[41];
	size_t count[ROMBSR_ROLE_COUNT];
};

int rombsr_trust_parse(const char *text, size_t len, struct rombsr_trust *out);
/* The trust file of a commit of the queue, parsed. */
int rombsr_trust_at(struct rombsr_repo *repo, const git_oid *commit, struct rombsr_trust *out);
/* Canonical text of a trust file (sorted keys, two-space indent). */
int rombsr_trust_encode(const struct rombsr_trust *t, char **out);
void rombsr_trust_free(struct rombsr_trust *t);

bool rombsr_trust_has(const struct rombsr_trust *t, enum rombsr_role role, const char *fpr);
int rombsr_trust_add(struct rombsr_trust *t, enum rombsr_role role, const char *fpr);
const char *rombsr_role_name(enum rombsr_role role);
int rombsr_role_from_name(const char *name, enum rombsr_role *role);

#endif
