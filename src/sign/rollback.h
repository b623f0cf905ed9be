/* The rollback floors (docs/sign-node.md, "Rollback"): for each product
 * and AVB rollback index location, the highest rollback index of a vbmeta
 * this node has decided to sign. A vbmeta below its floor is refused
 * (`rollback`), so a build node cannot get an older, vulnerable image
 * signed anew for devices that have moved on. Kept in <state>/sign/rollback.json. */
#ifndef ROMBSR_SIGN_ROLLBACK_H
#define ROMBSR_SIGN_ROLLBACK_H

#include "hard_rules.h"

#include "../queue/request.h"

#include <stdbool.h>

/* Operation i's vbmeta against its floor; false with the refusal filled. */
bool rombsr_rollback_check(const char *dir, const struct rombsr_request *req, size_t i, uint64_t index,
	uint32_t location, struct rombsr_refusal *why, int *error);

/* Raises the floors to the request's vbmeta rollback indexes, durably,
 * before it is signed: raising is idempotent, so a crash after it and a
 * retry sign the same request, and a floor never drops. */
int rombsr_rollback_raise(const char *dir, const struct rombsr_request *req);

#endif
