/* Sign node policy, version 1 (docs/formats/policy.md): which keys may sign
 * what, for which build nodes, how often, and with how many operator
 * approvals. Data in the queue at policy/policy.json, changed only by
 * commits of a pinned admin. This is the format, which queue-init checks
 * a first policy against as strictly as the sign node reads it; what the
 * sign node decides with it is src/sign/policy.h.
 *
 * Parsing is strict like the other formats (unknown fields, wrong types,
 * oversize values refused with the JSON path of the bad field) and also
 * checks what the policy means: a rule's approval group must exist and be
 * large enough, a window must be positive, a validity period must not end
 * before it starts. */
#ifndef ROMBSR_QUEUE_POLICY_H
#define ROMBSR_QUEUE_POLICY_H

#include "request.h"

#include "../common/capture_format.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The longest window a policy may give a quota; the sign node's quota
 * ledger keeps this much history whatever the policy in force says, so a
 * policy that lengthens a window never finds the operations it now needs
 * already forgotten. */
#define ROMBSR_QUOTA_MAX_WINDOW (31 * 24 * 3600)

#define ROMBSR_POLICY_PATH "policy/policy.json"
#define ROMBSR_POLICY_FORMAT "rombsr.policy"
#define ROMBSR_POLICY_VERSION 1
#define ROMBSR_POLICY_MAX_BYTES (1u << 20)
#define ROMBSR_POLICY_MAX_SERIAL 4294967295LL
#define ROMBSR_POLICY_MAX_GROUPS 32
#define ROMBSR_POLICY_MAX_MEMBERS 256        /* as many as the trust file's operators */
#define ROMBSR_POLICY_GROUP_MAX 64           /* group name, bytes */
#define ROMBSR_POLICY_MAX_KEYS 4096         /* ROMBSR_KEYSET_MAX_KEYS */
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
	/* "avb-vbmeta": the key signs only data of that kind which the sign
	 * node reads, and only such a key signs data of that kind; NULL: the
	 * key signs no data the node reads (docs/formats/policy.md, "data"). */
	const char *data;
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

#endif
