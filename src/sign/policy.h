/* What the sign node decides with its policy (the format is
 * src/queue/policy.h): evaluation is a pure function of the policy, the
 * request, the time and the quota ledger.
 *
 * The sign node's hard rules (a development key never signs a user build;
 * a key of another authority never signs) stay in the worker and cannot be
 * loosened here. */
#ifndef ROMBSR_SIGN_POLICY_H
#define ROMBSR_SIGN_POLICY_H

#include "quota.h"

#include "../queue/policy.h"
#include "../queue/response.h"

/* One group's approvals a request needs before it may be signed. */
struct rombsr_policy_need {
	char group[ROMBSR_POLICY_GROUP_MAX + 1];
	unsigned required;                      /* the largest M any key used asks of this group */
	char key[65];                           /* the first key asking for that many */
};

struct rombsr_policy_verdict {
	bool allowed;
	/* Refused only: a reason code of docs/formats/response.md, the
	 * operation and key it is about, and one line for people. */
	char code[64];
	size_t op_index;
	char key[65];
	char message[ROMBSR_REASON_MAX + 1];
	/* Allowed only: every group's requirement must be met on its own
	 * (rombsr_approval_count with that group's members). */
	struct rombsr_policy_need needs[ROMBSR_POLICY_MAX_GROUPS];
	size_t nneeds;
};

/* Decides req under p at now (p NULL: there is no policy, and nothing may
 * be signed). ledger holds what was signed before; it may be NULL only if
 * no rule that applies has a quota. Returns 0 with the verdict (a refusal
 * is a verdict, not an error), or a negative error if it cannot decide. */
int rombsr_policy_evaluate(const struct rombsr_policy *p, const struct rombsr_request *req, time_t now,
			   const struct rombsr_quota_ledger *ledger, struct rombsr_policy_verdict *v);

#endif
