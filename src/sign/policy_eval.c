/* Evaluating policy version 1 (docs/formats/policy.md, "Evaluation"): a
 * pure function of the policy, the request, the time and the ledger. */
#include "policy.h"

#include "../common/error.h"
#include "../common/keyset.h"
#include "../common/json_strict.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One key label the request uses, in the order of its first operation. */
struct key_use {
	const char *label;
	const struct rombsr_policy_rule *rule;
	size_t first_op;
	size_t count;
};

/* Fills in a refusal; returns true, for "if (...) return refuse(...)". */
static bool refuse(struct rombsr_policy_verdict *v, const struct rombsr_policy *p, const char *code, size_t op,
		   const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static bool refuse(struct rombsr_policy_verdict *v, const struct rombsr_policy *p, const char *code, size_t op,
		   const char *key, const char *fmt, ...)
{
	size_t size = sizeof(v->message), n;
	va_list ap;

	v->allowed = false;
	v->nneeds = 0;
	v->op_index = op;
	snprintf(v->code, sizeof(v->code), "%s", code);
	snprintf(v->key, sizeof(v->key), "%s", key);
	/* Every part is bounded (labels 64, names 255 bytes), so the line
	 * fits; vsnprintf would cut it rather than overflow if not. */
	snprintf(v->message, size, "operation %zu: key '%s' ", op, key);
	n = strlen(v->message);
	va_start(ap, fmt);
	vsnprintf(v->message + n, size - n, fmt, ap);
	va_end(ap);
	n = strlen(v->message);
	if (p != NULL)
		snprintf(v->message + n, size - n, " (policy %" PRId64 ")", p->serial);
	return true;
}

static bool node_listed(const struct rombsr_policy_rule *rule, const char *node)
{
	for (size_t i = 0; i < rule->nbuild_nodes; i++)
		if (strcmp(rule->build_nodes[i], node) == 0)
			return true;
	return false;
}

/* An absolute path must be the program; a bare name, its file name. */
static bool program_listed(const struct rombsr_policy_rule *rule, const char *program)
{
	const char *slash = strrchr(program, '/');
	const char *base = slash != NULL ? slash + 1 : program;

	for (size_t i = 0; i < rule->nprograms; i++)
		if (strcmp(rule->programs[i], rule->programs[i][0] == '/' ? program : base) == 0)
			return true;
	return false;
}

static bool mechanism_listed(const struct rombsr_policy_rule *rule, const struct rombsr_cap_mech *mech)
{
	for (size_t i = 0; i < rule->nmechanisms; i++)
		if (rule->mechanisms[i] == mech)
			return true;
	return false;
}

/* The first artifact no pattern matches, or NULL if all match. */
static const char *unmatched_artifact(const struct rombsr_policy_rule *rule, const struct rombsr_request *req)
{
	for (size_t a = 0; a < req->nartifacts; a++) {
		bool ok = false;

		/* FNM_PATHNAME: a '*' stays inside one folder. */
		for (size_t i = 0; i < rule->nartifacts && !ok; i++)
			ok = fnmatch(rule->artifacts[i], req->artifacts[a].name, FNM_PATHNAME) == 0;
		if (!ok)
			return req->artifacts[a].name;
	}
	return NULL;
}

/* What a key's rule says about the request as a whole, checked at the
 * first operation using the key. */
static bool check_key(const struct rombsr_policy *p, const struct key_use *k, const struct rombsr_request *req,
		      time_t now, struct rombsr_policy_verdict *v)
{
	const struct rombsr_policy_rule *rule = k->rule;
	char when[21];
	const char *artifact;

	if (rule->disabled)
		return refuse(v, p, "policy-key-disabled", k->first_op, k->label, "is disabled");
	if (rule->has_not_before && now < rule->not_before) {
		rombsr_time_format(rule->not_before, when);
		return refuse(v, p, "policy-not-yet-valid", k->first_op, k->label, "may sign only from %s", when);
	}
	if (rule->has_not_after && now > rule->not_after) {
		rombsr_time_format(rule->not_after, when);
		return refuse(v, p, "policy-expired", k->first_op, k->label, "could sign only until %s", when);
	}
	if (rule->build_types != 0 && !(rule->build_types & (1u << req->build_type)))
		return refuse(v, p, "policy-build-type", k->first_op, k->label, "may not sign %s builds",
			      rombsr_build_type_name(req->build_type));
	if (rule->nbuild_nodes > 0 && !node_listed(rule, req->build_node))
		return refuse(v, p, "policy-build-node", k->first_op, k->label, "may not sign for build node %s",
			      req->build_node);
	if (rule->nartifacts > 0 && req->nartifacts == 0)
		return refuse(v, p, "policy-artifact", k->first_op, k->label,
			      "signs only listed artifacts, and the request lists none");
	if (rule->nartifacts > 0 && (artifact = unmatched_artifact(rule, req)) != NULL)
		return refuse(v, p, "policy-artifact", k->first_op, k->label, "may not sign for artifact '%s'", artifact);
	return false;
}

static bool check_op(const struct rombsr_policy *p, const struct key_use *k, size_t i,
		     const struct rombsr_request_op *op, struct rombsr_policy_verdict *v)
{
	const struct rombsr_policy_rule *rule = k->rule;
	char base[ROMBSR_KEYSET_LABEL_MAX + 1];
	bool data_rule = true;
	const char *kind;

	if (rule->nprograms > 0 && op->program[0] == '\0')
		return refuse(v, p, "policy-program", i, k->label,
			      "signs only for listed programs, and the operation names none");
	if (rule->nprograms > 0 && !program_listed(rule, op->program))
		return refuse(v, p, "policy-program", i, k->label, "may not sign for program '%s'", op->program);
	if (rule->nmechanisms > 0 && !mechanism_listed(rule, op->op.mech))
		return refuse(v, p, "policy-mechanism", i, k->label, "may not sign with %s", op->op.mech->name);
	/* A key for data the node reads signs nothing else (no blind digest);
	 * and a vbmeta only such a key signs (an APK's signed data, any key). */
	kind = op->data != NULL ? rombsr_cap_data_kind(op->data, op->data_len) : NULL;
	/* What a retired key signs is the hard rules' (a lineage node only),
	 * not its successor's data rule. */
	if (kind != NULL && strcmp(kind, "apk-lineage-node") == 0 && rombsr_keyset_retired_base(k->label, base))
		data_rule = false;
	if (data_rule && rule->data != NULL && (kind == NULL || strcmp(kind, rule->data) != 0))
		return refuse(v, p, "policy-data", i, k->label, "signs only %s data the sign node reads, and the "
			      "operation carries %s", rule->data, kind ? kind : "none");
	if (data_rule && rule->data == NULL && kind != NULL && strcmp(kind, "avb-vbmeta") == 0)
		return refuse(v, p, "policy-data", i, k->label, "is not a key for %s data", kind);
	if (rule->max_operations > 0 && k->count > rule->max_operations)
		return refuse(v, p, "policy-max-operations", i, k->label,
			      "would sign more than %" PRIu32 " operations in one request", rule->max_operations);
	return false;
}

/* The index of the n-th (from 0) operation using label. */
static size_t nth_op(const struct rombsr_request *req, const char *label, uint64_t n)
{
	for (size_t i = 0; i < req->nops; i++)
		if (strcmp(req->ops[i].op.label, label) == 0 && n-- == 0)
			return i;
	return 0;
}

static int check_quotas(const struct rombsr_policy *p, const struct key_use *keys, size_t nkeys,
			const struct rombsr_request *req, time_t now, const struct rombsr_quota_ledger *ledger,
			struct rombsr_policy_verdict *v)
{
	const struct rombsr_policy_quota *nq = NULL;

	for (size_t i = 0; i < p->nnodes; i++)
		if (strcmp(p->nodes[i].fpr, req->build_node) == 0)
			nq = &p->nodes[i].quota;
	for (size_t k = 0; k < nkeys; k++)
		if (keys[k].rule->quota.window_seconds > 0 && ledger == NULL)
			return rombsr_error(ROMBSR_EINVAL, "policy: key '%s' has a quota and no quota ledger was given",
					    keys[k].label);
	if (nq != NULL && ledger == NULL)
		return rombsr_error(ROMBSR_EINVAL, "policy: build node %s has a quota and no quota ledger was given",
				    req->build_node);
	for (size_t k = 0; k < nkeys; k++) {
		const struct rombsr_policy_quota *q = &keys[k].rule->quota;
		uint64_t used;

		if (q->window_seconds == 0)
			continue;
		used = rombsr_quota_ledger_count_key(ledger, keys[k].label, now, q->window_seconds, req->id);
		if (used + keys[k].count > q->max_operations) {
			uint64_t room = used < q->max_operations ? q->max_operations - used : 0;

			refuse(v, p, "policy-quota-key", nth_op(req, keys[k].label, room), keys[k].label,
			       "would exceed its quota of %" PRIu64 " operations in %" PRId64 " s (%" PRIu64
			       " signed already)",
			       q->max_operations, q->window_seconds, used);
			return 0;
		}
	}
	if (nq != NULL) {
		uint64_t used = rombsr_quota_ledger_count_node(ledger, req->build_node, now, nq->window_seconds, req->id);

		if (used + req->nops > nq->max_operations) {
			uint64_t room = used < nq->max_operations ? nq->max_operations - used : 0;

			refuse(v, p, "policy-quota-node", (size_t)room, req->ops[room].op.label,
			       "would take build node %s past its quota of %" PRIu64 " operations in %" PRId64
			       " s (%" PRIu64 " signed already)",
			       req->build_node, nq->max_operations, nq->window_seconds, used);
			return 0;
		}
	}
	return 0;
}

/* Every group's requirement on its own, the largest M per group. */
static void collect_needs(const struct rombsr_policy *p, const struct key_use *keys, size_t nkeys,
			  struct rombsr_policy_verdict *v)
{
	for (size_t k = 0; k < nkeys; k++) {
		const struct rombsr_policy_rule *rule = keys[k].rule;
		const char *group;
		size_t j = 0;

		if (rule->approvals_required == 0)
			continue;
		group = p->groups[rule->approvals_group].name;
		while (j < v->nneeds && strcmp(v->needs[j].group, group) != 0)
			j++;
		if (j == v->nneeds) {
			/* At most one need per group, and groups are bounded. */
			snprintf(v->needs[j].group, sizeof(v->needs[j].group), "%s", group);
			v->nneeds++;
		}
		if (rule->approvals_required > v->needs[j].required) {
			v->needs[j].required = rule->approvals_required;
			snprintf(v->needs[j].key, sizeof(v->needs[j].key), "%s", keys[k].label);
		}
	}
}

int rombsr_policy_evaluate(const struct rombsr_policy *p, const struct rombsr_request *req, time_t now,
			   const struct rombsr_quota_ledger *ledger, struct rombsr_policy_verdict *v)
{
	struct key_use *keys;
	size_t nkeys = 0;
	int r = 0;

	memset(v, 0, sizeof(*v));
	if (req->nops == 0)
		return rombsr_error(ROMBSR_EINVAL, "policy: a request without operations");
	if (p == NULL) {
		refuse(v, NULL, "no-policy", 0, req->ops[0].op.label,
		       "cannot be used: the queue has no policy (" ROMBSR_POLICY_PATH ")");
		return 0;
	}
	keys = calloc(req->nops, sizeof(*keys));
	if (keys == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	v->allowed = true;
	for (size_t i = 0; i < req->nops && v->allowed; i++) {
		const char *label = req->ops[i].op.label;
		size_t k = 0;

		while (k < nkeys && strcmp(keys[k].label, label) != 0)
			k++;
		if (k == nkeys) {
			/* A retired key (hsm-rotate-keys) is under its successor's
			 * rule: the same build nodes, types, periods and quotas. */
			char base[ROMBSR_KEYSET_LABEL_MAX + 1];
			const char *rule_label = rombsr_keyset_retired_base(label, base) ? base : label;

			keys[k] = (struct key_use){label, rombsr_policy_rule_for(p, rule_label), i, 0};
			nkeys++;
			if (keys[k].rule == NULL) {
				refuse(v, p, "no-policy", i, label, "has no rule and the policy has no defaults");
				break;
			}
			if (check_key(p, &keys[k], req, now, v))
				break;
		}
		keys[k].count++;
		check_op(p, &keys[k], i, &req->ops[i], v);
	}
	if (v->allowed)
		r = check_quotas(p, keys, nkeys, req, now, ledger, v);
	if (r == 0 && v->allowed)
		collect_needs(p, keys, nkeys, v);
	free(keys);
	if (r < 0)
		memset(v, 0, sizeof(*v));
	return r;
}
