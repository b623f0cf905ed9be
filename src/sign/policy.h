/* Sign node policy, version 1 (docs/formats/policy.md): which keys may sign
 * what, for which build nodes, how often, and with how many operator
 * approvals. Data in the queue at policy/policy.json, changed only by
 * commits of a pinned admin.
 *
 * Parsing is strict like the other formats (unknown fields, wrong types,
 * oversize values refused with the JSON path of the bad field) and also
 * checks what the policy means: a rule's approval group must exist and be
 * large enough, a window must be positive, a validity period must not end
 * before it starts. Evaluation is a pure function of the policy, the
 * request, the time and the quota ledger.
 *
 * The sign node's hard rules (a development key never signs a user build;
 * a key of another authority never signs) stay in the worker and cannot be
 * loosened here. */
#ifndef ROMBSR_SIGN_POLICY_H
#define ROMBSR_SIGN_POLICY_H

#include "quota.h"

#include "../common/capture_format.h"
#include "../queue/request.h"
#include "../queue/response.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ROMBSR_POLICY_PATH "policy/policy.json"
#define ROMBSR_POLICY_FORMAT "rombsr.policy"
#define ROMBSR_POLICY_VERSION 1
#define ROMBSR_POLICY_MAX_BYTES (1u << 20)
#define ROMBSR_POLICY_MAX_SERIAL 4294967295LL
#define ROMBSR_POLICY_MAX_GROUPS 32
#define ROMBSR_POLICY_MAX_MEMBERS 256        /* as many as the trust file's operators */
#define ROMBSR_POLICY_GROUP_MAX 64           /* group name, bytes */
#define ROMBSR_POLICY_MAX_KEYS 64
#define ROMBSR_POLICY_MAX_NODES 256          /* build_nodes, here and in a rule */
#define ROMBSR_POLICY_MAX_PROGRAMS 64
#define ROMBSR_POLICY_MAX_PATTERNS 256
#define ROMBSR_POLICY_PATTERN_MAX ROMBSR_NAME_MAX
#define ROMBSR_POLICY_MAX_QUOTA 1000000000LL
#define ROMBSR_POLICY_MAX_TIME 253402300799LL  /* 9999-12-31T23:59:59Z */

struct rombsr_policy_quota {
	int64_t window_seconds;     /* 1 .. ROMBSR_QUOTA_MAX_WINDOW; 0: no quota */
	uint64_t max_operations;
};

/* What one key may do. An empty list (n == 0) is an absent field: any. */
struct rombsr_policy_rule {
	bool disabled;                          /* signs nothing */
	unsigned build_types;                   /* bit 1 << enum rombsr_build_type; 0: any */
	char (*build_nodes)[41];
	size_t nbuild_nodes;
	char **programs;                        /* absolute paths, or bare names matched against the basename */
	size_t nprograms;
	char **artifacts;                       /* fnmatch(3) patterns, FNM_PATHNAME */
	size_t nartifacts;
	const struct rombsr_cap_mech **mechanisms;
	size_t nmechanisms;
	uint32_t max_operations;                /* per request; 0: no limit */
	struct rombsr_policy_quota quota;
	unsigned approvals_required;            /* 0: none */
	size_t approvals_group;                 /* index into groups, when required */
	bool has_not_before, has_not_after;
	time_t not_before, not_after;
};

struct rombsr_policy_group {
	char name[ROMBSR_POLICY_GROUP_MAX + 1];
	char (*members)[41];
	size_t nmembers;
};

struct rombsr_policy_key {
	char label[65];
	struct rombsr_policy_rule rule;
};

struct rombsr_policy_node {
	char fpr[41];
	struct rombsr_policy_quota quota;
};

struct rombsr_policy {
	int64_t serial;
	struct rombsr_policy_group *groups;
	size_t ngroups;
	bool has_defaults;
	struct rombsr_policy_rule defaults;
	struct rombsr_policy_key *keys;
	size_t nkeys;
	struct rombsr_policy_node *nodes;
	size_t nnodes;
};

int rombsr_policy_parse(const char *text, size_t len, struct rombsr_policy *out);
void rombsr_policy_free(struct rombsr_policy *p);

/* The rule for a key label: its own, else the defaults, else NULL. */
const struct rombsr_policy_rule *rombsr_policy_rule_for(const struct rombsr_policy *p, const char *label);
const struct rombsr_policy_group *rombsr_policy_group_find(const struct rombsr_policy *p, const char *name);

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
