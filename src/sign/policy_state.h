/* The policy in force at the sign node (docs/sign-node.md, "Policy in
 * force"). The queue's policy/policy.json is only a proposal: the node
 * adopts it once it parses, means what it says and raises the serial, and
 * keeps its own copy (<state>/sign/policy.json) so a later bad change —
 * malformed, replayed, or removed — never leaves it without the policy it
 * last accepted. A refused change is remembered by its SHA-256
 * (<state>/sign/policy.refused) so it is refused, and logged, once. */
#ifndef ROMBSR_SIGN_POLICY_STATE_H
#define ROMBSR_SIGN_POLICY_STATE_H

#include "policy.h"

#include "../queue/repo.h"

struct rombsr_policy_state;

enum rombsr_policy_change {
	ROMBSR_POLICY_UNCHANGED,
	ROMBSR_POLICY_APPLIED,
	ROMBSR_POLICY_REFUSED,
};

/* What a refresh found, for the audit log and the node's own log. */
struct rombsr_policy_event {
	enum rombsr_policy_change change;
	char sha256[65];          /* the queue's policy file; "" if it has none */
	char previous_sha256[65]; /* the policy in force before; "" if none */
	int64_t serial;           /* APPLIED: the new serial */
	char reason[64];          /* REFUSED: policy-invalid, policy-serial, policy-removed */
	char message[512];        /* REFUSED: why, for people */
};

/* dir: the sign node's state folder. A damaged copy there is an error: the
 * node does not start on a policy it cannot read back. */
int rombsr_policy_state_open(const char *dir, struct rombsr_policy_state **out);
void rombsr_policy_state_close(struct rombsr_policy_state *s);

/* Looks at policy/policy.json of head (a verified commit) and says whether
 * it would be adopted or refused. Nothing changes until commit: the caller
 * logs the event durably first, so no change happens unlogged. */
int rombsr_policy_state_refresh(struct rombsr_policy_state *s, struct rombsr_repo *repo, const git_oid *head,
				struct rombsr_policy_event *event);
/* Makes the event of the last refresh take effect: APPLIED replaces the
 * copy on disk (atomically) and the policy in force; REFUSED remembers the
 * file so it is not refused again. */
int rombsr_policy_state_commit(struct rombsr_policy_state *s, const struct rombsr_policy_event *event);

/* The policy in force, NULL if none was ever accepted (nothing is signed);
 * its SHA-256 ("" if none). */
const struct rombsr_policy *rombsr_policy_state_current(const struct rombsr_policy_state *s);
const char *rombsr_policy_state_sha256(const struct rombsr_policy_state *s);
/* The SHA-256 of the last policy file refused, "" if none. */
const char *rombsr_policy_state_refused_sha256(const struct rombsr_policy_state *s);

#endif
