/* The sign node's count of a request's approvals against what the policy
 * asks (docs/formats/policy.md, "The sign node's side"): reads every
 * approval file of the request at the queue head, judges who made it under
 * the trust file and keyring in force now (a key removed from the operators
 * or revoked since no longer counts), and counts each group the verdict
 * names on its own. */
#ifndef ROMBSR_SIGN_APPROVAL_TALLY_H
#define ROMBSR_SIGN_APPROVAL_TALLY_H

#include "policy.h"

#include "../queue/approval.h"
#include "../queue/gpg.h"
#include "../queue/repo.h"
#include "../queue/trust.h"

#include <stdbool.h>

#define ROMBSR_TALLY_MAX_FILES 256

struct rombsr_tally_group {
	char group[ROMBSR_POLICY_GROUP_MAX + 1];
	unsigned required, have;
};

struct rombsr_approval_tally {
	bool satisfied;
	struct rombsr_tally_group groups[ROMBSR_POLICY_MAX_GROUPS];
	size_t ngroups;
	unsigned required;                        /* sum over the groups */
	/* The operators whose approvals make up the counts (at most `required`
	 * per group, so at most what the audit entry can hold), ascending. */
	char approvers[ROMBSR_TALLY_MAX_FILES][41];
	size_t napprovers;
	size_t files;                             /* approval files found */
};

struct rombsr_tally_input {
	struct rombsr_repo *repo;
	const git_oid *head;
	const struct rombsr_trust *trust;         /* at head */
	struct rombsr_gpg *keyring;               /* the verifier's: the queue's keys only */
	const struct rombsr_policy *policy;
	const struct rombsr_policy_verdict *verdict;
	const char *request_id;
	const unsigned char *request_sha256;      /* of the request file's bytes */
	const char *build_node;
};

int rombsr_approval_tally(const struct rombsr_tally_input *in, struct rombsr_approval_tally *out);

#endif
