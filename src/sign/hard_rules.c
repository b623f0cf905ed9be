#include "hard_rules.h"

#include "../common/capture_format.h"
#include "../common/keyset.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool rombsr_refuse(struct rombsr_refusal *why, const char *code, const char *fmt, ...)
{
	va_list ap;

	snprintf(why->code, sizeof(why->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(why->message, sizeof(why->message), fmt, ap);
	va_end(ap);
	return false;
}

bool rombsr_sign_request_rules(const struct rombsr_request *req, const char *committer, bool was_waiting,
			       time_t now, struct rombsr_refusal *why)
{
	if (strcmp(req->build_node, committer) != 0)
		return rombsr_refuse(why, "wrong-signer", "the request names build node %s but was committed by %s",
			      req->build_node, committer);
	if (now > req->expires && was_waiting)
		return rombsr_refuse(why, "policy-approvals", "the request expired while waiting for operator approvals");
	if (now > req->expires)
		return rombsr_refuse(why, "expired", "the request expired at its expires time");
	if (req->created > now + ROMBSR_SIGN_CLOCK_SKEW)
		return rombsr_refuse(why, "not-yet-valid", "the request was created in the future");
	return true;
}

/* A retired key (hsm-rotate-keys) signs one thing, the APK lineage node
 * that names its successor; and a lineage node only a retired key signs
 * (docs/sign-node.md, "Rotated keys"). */
static bool retired_rules(const struct rombsr_request *req, size_t i, bool retired, struct rombsr_refusal *why)
{
	const struct rombsr_request_op *o = &req->ops[i];
	const char *kind = o->data != NULL ? rombsr_cap_data_kind(o->data, o->data_len) : NULL;
	bool lineage = kind != NULL && strcmp(kind, "apk-lineage-node") == 0;

	if (retired && !lineage)
		return rombsr_refuse(why, "retired-key", "operation %zu: key '%s' is retired (hsm-rotate-keys): it signs "
				     "only the APK lineage node naming its successor, and the operation carries %s", i,
				     o->op.label, kind != NULL ? kind : "no data");
	if (!retired && lineage)
		return rombsr_refuse(why, "lineage-signer", "operation %zu: an APK lineage node signed by key '%s', which "
				     "is not a retired key (hsm-rotate-keys)", i, o->op.label);
	return true;
}

bool rombsr_sign_operation_rules(const struct rombsr_request *req, size_t i, struct rombsr_refusal *why)
{
	const struct rombsr_cap_op *op = &req->ops[i].op;
	char base[ROMBSR_KEYSET_LABEL_MAX + 1];
	bool retired = rombsr_keyset_retired_base(op->label, base);
	const struct rombsr_keyset_entry *e = rombsr_keyset_find(retired ? base : op->label);

	if (e != NULL && e->authority != req->authority)
		return rombsr_refuse(why, "wrong-authority",
			      "operation %zu: key '%s' belongs to the %s authority, the request to %s", i, op->label,
			      rombsr_authority_name(e->authority), rombsr_authority_name(req->authority));
	if (e != NULL && e->development && req->build_type == ROMBSR_BUILD_USER)
		return rombsr_refuse(why, "development-key", "operation %zu: development key '%s' in a user build", i,
			      op->label);
	return retired_rules(req, i, retired, why);
}
