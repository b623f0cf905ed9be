/* rombsr status: what the sign node is waiting for, from its own state and
 * its copy of the queue, without changing either (it may run beside the
 * daemon): the policy in force, requests waiting for approvals with who
 * has approved and who still may, quota used per key and build node, and
 * how far the node is behind the last fetch. Run it with the sign node's
 * configuration, as the user the node runs as. */
#define _GNU_SOURCE
#include "node.h"

#include "../sign/hard_rules.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/keyset.h"
#include "../queue/headfile.h"
#include "../queue/layout.h"
#include "../queue/request.h"
#include "../queue/verify.h"
#include "../sign/approval_tally.h"
#include "../sign/incident_rules.h"
#include "../sign/policy_state.h"
#include "../sign/quota.h"
#include "../sign/waiting.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct cli_option options[] = {
	{NULL, NULL, NULL, 0},
};

struct status {
	const struct rombsr_config *cfg;
	char *dir;
	struct rombsr_repo *repo;
	struct rombsr_policy_state *policy;
	struct rombsr_quota_ledger *ledger;
	struct rombsr_waiting_list waiting;
	struct rombsr_verifier verifier;
	bool have_verifier;
	struct rombsr_trust trust;
	bool have_trust;
	git_oid processed;
	bool have_processed;
	time_t now;
};

static void print_time(const char *label, time_t t)
{
	char text[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(text, sizeof(text), "%lld", (long long)t);
	printf("%s%s", label, text);
}

static int show_head(struct status *st)
{
	char processed[GIT_OID_HEXSZ + 1], fetched_hex[GIT_OID_HEXSZ + 1];
	git_oid fetched;
	bool empty = true;
	size_t behind = 0;
	int r;

	if (!st->have_processed) {
		printf("processed: nothing yet (the sign node has not made a pass)\n");
		return 0;
	}
	rombsr_oid_hex(&st->processed, processed);
	r = rombsr_repo_fetched_head(st->repo, &fetched, &empty);
	if (r == 0 && !empty)
		r = rombsr_repo_commits_after(st->repo, &st->processed, &fetched, &behind);
	if (r < 0)
		return r;
	printf("processed: %s", processed);
	if (!empty && behind > 0) {
		rombsr_oid_hex(&fetched, fetched_hex);
		printf(" (%zu newer commits fetched, up to %.12s, not processed yet)", behind, fetched_hex);
	}
	printf("\n");
	return 0;
}

/* The freeze record at the processed head: what the last pass obeyed. */
static int show_freeze(struct status *st)
{
	char why[512];
	bool frozen;
	int r = rombsr_sign_freeze_state(st->repo, &st->processed, &frozen, why, sizeof(why));

	if (r == 0)
		printf("signing: %s\n", frozen ? why : "not frozen");
	return r;
}

static void show_policy(const struct status *st)
{
	const struct rombsr_policy *p = rombsr_policy_state_current(st->policy);
	const char *refused = rombsr_policy_state_refused_sha256(st->policy);

	if (p == NULL)
		printf("policy: none in force (nothing is signed until a valid policy is in the queue)\n");
	else
		printf("policy: serial %lld in force, sha256 %s\n", (long long)p->serial,
		       rombsr_policy_state_sha256(st->policy));
	if (refused[0] != '\0')
		printf("policy: the last change refused has sha256 %s (see the audit log's policy-refused entries)\n",
		       refused);
}

/* Group members who have not approved yet: who could still approve. */
static void print_missing(const struct rombsr_policy_group *g, const struct rombsr_approval_tally *t,
			  const char *build_node)
{
	const char *sep = "";

	printf("; may still approve: ");
	for (size_t i = 0; i < g->nmembers; i++) {
		bool counted = false;

		for (size_t j = 0; j < t->napprovers; j++)
			counted = counted || strcmp(t->approvers[j], g->members[i]) == 0;
		if (counted || strcmp(g->members[i], build_node) == 0)
			continue;
		printf("%s%s", sep, g->members[i]);
		sep = ", ";
	}
	if (sep[0] == '\0')
		printf("nobody");
}

static int show_one_waiting(struct status *st, const struct rombsr_waiting *w)
{
	const struct rombsr_policy *policy = rombsr_policy_state_current(st->policy);
	struct rombsr_policy_verdict *v = calloc(1, sizeof(*v));
	struct rombsr_approval_tally *t = calloc(1, sizeof(*t));
	struct rombsr_request req = {0};
	struct rombsr_buf body;
	unsigned char sha[32];
	char path[160];
	struct rombsr_refusal why;
	bool parsed = false, hard_ok = false;
	int r = v && t ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0)
		r = rombsr_queue_request_path(w->id, path, sizeof(path));
	if (r == 0)
		r = rombsr_repo_read(st->repo, &w->commit, path, ROMBSR_REQUEST_MAX_BYTES, &body);
	if (r == 0) {
		SHA256(body.data, body.len, sha);
		r = rombsr_request_parse((const char *)body.data, body.len, &req);
		parsed = r == 0;
		rombsr_buf_free(&body);
	}
	/* The worker's own hard rules first, as its next pass will apply them
	 * (a waiting request is one that was waiting: it expires as
	 * policy-approvals). */
	if (r == 0)
		hard_ok = rombsr_sign_request_rules(&req, w->signer, true, st->now, &why);
	for (size_t i = 0; r == 0 && hard_ok && i < req.nops; i++)
		hard_ok = rombsr_sign_operation_rules(&req, i, &why);
	if (r == 0 && hard_ok)
		r = rombsr_policy_evaluate(policy, &req, st->now, st->ledger, v);
	if (r == 0 && hard_ok && v->allowed) {
		struct rombsr_tally_input in = {st->repo, &st->processed, &st->trust, st->verifier.keyring,
						policy, v, w->id, sha, req.build_node};

		r = rombsr_approval_tally(&in, t);
	}
	if (r == 0) {
		printf("  %s  %s %s, build %s (%s), from %s", w->id, req.product, req.build_id,
		       rombsr_build_type_name(req.build_type), rombsr_authority_name(req.authority), req.build_node);
		print_time(st->now > w->expires ? ", expired " : ", expires ", w->expires);
		printf("\n");
		if (!hard_ok)
			printf("    the sign node's hard rules refuse it now (%s): %s\n", why.code, why.message);
		else if (!v->allowed)
			printf("    the policy in force now refuses it (%s): %s\n", v->code, v->message);
		for (size_t i = 0; hard_ok && v->allowed && i < t->ngroups; i++) {
			printf("    %s: %u of %u approvals", t->groups[i].group, t->groups[i].have, t->groups[i].required);
			print_missing(rombsr_policy_group_find(policy, t->groups[i].group), t, req.build_node);
			printf("\n");
		}
		for (size_t i = 0; hard_ok && v->allowed && i < t->napprovers; i++)
			printf("    approved by %s\n", t->approvers[i]);
	}
	if (parsed)
		rombsr_request_free(&req);
	free(v);
	free(t);
	return r < 0 ? rombsr_error_wrap(r, "waiting request %s", w->id) : 0;
}

static int show_waiting(struct status *st)
{
	int r = 0;

	printf("waiting for approvals: %zu\n", st->waiting.n);
	if (st->waiting.n == 0)
		return 0;
	if (rombsr_policy_state_current(st->policy) == NULL)
		return rombsr_error(ROMBSR_EINVAL, "requests wait for approvals but no policy is in force: state damaged");
	r = rombsr_verifier_init(&st->verifier, st->repo, (char(*)[41])st->cfg->queue_admins, st->cfg->queue_nadmins,
				 &st->processed);
	st->have_verifier = r == 0;
	if (r == 0) {
		r = rombsr_trust_at(st->repo, &st->processed, &st->trust);
		st->have_trust = r == 0;
	}
	for (size_t i = 0; i < st->waiting.n && r == 0; i++)
		r = show_one_waiting(st, &st->waiting.items[i]);
	return r;
}

static void show_quota_line(const char *what, uint64_t used, const struct rombsr_policy_quota *q)
{
	printf("  %s: %llu of %llu operations in the last %lld s\n", what, (unsigned long long)used,
	       (unsigned long long)q->max_operations, (long long)q->window_seconds);
}

static void show_quotas(const struct status *st)
{
	const struct rombsr_policy *p = rombsr_policy_state_current(st->policy);
	const struct rombsr_keyset *ks = rombsr_keyset_current();
	char what[160];
	size_t shown = 0;

	printf("quota:\n");
	for (size_t i = 0; p != NULL && i < ks->len; i++) {
		const char *label = ks->entries[i].label;
		const struct rombsr_policy_rule *rule = rombsr_policy_rule_for(p, label);

		if (rule == NULL || rule->quota.window_seconds == 0)
			continue;
		snprintf(what, sizeof(what), "key %s", label);
		show_quota_line(what, rombsr_quota_ledger_count_key(st->ledger, label, st->now,
								    rule->quota.window_seconds, NULL),
				&rule->quota);
		shown++;
	}
	for (size_t i = 0; p != NULL && i < p->nnodes; i++) {
		snprintf(what, sizeof(what), "build node %s", p->nodes[i].fpr);
		show_quota_line(what, rombsr_quota_ledger_count_node(st->ledger, p->nodes[i].fpr, st->now,
								     p->nodes[i].quota.window_seconds, NULL),
				&p->nodes[i].quota);
		shown++;
	}
	if (shown == 0)
		printf("  no key or build node has a quota in the policy in force\n");
	printf("  %zu requests signed in the last 31 days\n", rombsr_quota_ledger_size(st->ledger));
}

static int open_state(struct status *st)
{
	char path[4096];
	int r = 0;

	if (asprintf(&st->dir, "%s/sign", st->cfg->state_dir) < 0) {
		st->dir = NULL;
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (!rombsr_path_exists(st->dir))
		return rombsr_error(ROMBSR_ENOTFOUND, "%s does not exist: run status with the sign node's configuration",
				    st->dir);
	r = rombsr_path_format(path, sizeof(path), "%s/processed.head", st->dir);
	if (r == 0)
		r = rombsr_head_file_read(path, &st->processed, &st->have_processed);
	if (r == 0)
		r = rombsr_policy_state_open(st->dir, &st->policy);
	if (r == 0)
		r = rombsr_quota_ledger_read(st->dir, &st->ledger);
	if (r == 0)
		r = rombsr_waiting_load(st->dir, &st->waiting);
	if (r == 0 && st->have_processed)
		r = rombsr_repo_open(st->cfg->queue_clone, false, &st->repo);
	return r;
}

int cmd_status(struct cli_context *ctx, int argc, char **argv)
{
	struct status st = {.now = time(NULL)};
	struct cli_parser p;
	int id, r = cli_config(ctx, &st.cfg);

	if (r < 0)
		return r;
	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, "")) > 0)
		;
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	r = open_state(&st);
	if (r == 0 && st.have_processed)
		r = show_head(&st);
	if (r == 0 && st.have_processed)
		r = show_freeze(&st);
	else if (r == 0)
		printf("processed: nothing yet (the sign node has not made a pass)\n");
	if (r == 0) {
		show_policy(&st);
		r = st.have_processed ? show_waiting(&st) : 0;
	}
	if (r == 0)
		show_quotas(&st);
	if (st.have_trust)
		rombsr_trust_free(&st.trust);
	if (st.have_verifier)
		rombsr_verifier_free(&st.verifier);
	rombsr_waiting_free(&st.waiting);
	rombsr_quota_ledger_close(st.ledger);
	rombsr_policy_state_close(st.policy);
	rombsr_repo_close(st.repo);
	free(st.dir);
	return r;
}
