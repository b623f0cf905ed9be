/* The sign node's metrics snapshot (metrics.h), taken by the worker's own
 * thread between passes: the counters, each signer's HSM figures over the
 * channel, the waiting list, quotas of the policy in force, the audit log. */
#define _GNU_SOURCE
#include "worker_internal.h"

#include "metrics.h"

#include "../common/error.h"
#include "../common/keyset.h"
#include "../queue/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int signer_figures(struct rombsr_sign_node *node, struct rombsr_metrics_snapshot *out)
{
	struct rombsr_channel_request m = {.magic = ROMBSR_CHANNEL_MAGIC, .version = ROMBSR_CHANNEL_VERSION,
					   .op = ROMBSR_CH_STATS};
	struct rombsr_channel_reply *reply = calloc(1, sizeof(*reply));
	int r = reply ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT && r == 0; i++) {
		const struct signer_link *s = &node->signers[i];
		struct rombsr_metrics_authority *a = &out->authority[i];

		snprintf(a->name, sizeof(a->name), "%s", node->cfg->authority[i].name);
		a->served = s->fd >= 0;
		a->up = s->fd >= 0 && s->pid > 0;
		a->hsm_errors = s->hsm_errors;
		if (!a->up)
			continue;
		r = rombsr_channel_call(s->fd, &m, reply);
		if (r == 0) {
			a->hsm_operations = reply->hsm_operations;
			a->cache_hits = reply->cache_hits;
			a->unwraps = reply->unwraps;
			a->evictions = reply->evictions;
		}
	}
	free(reply);
	return r;
}

/* The commit time of the oldest waiting request. Requests of one commit
 * are next to each other on the list: a commit is looked up once per run. */
static int oldest_waiting(struct rombsr_sign_node *node, time_t *oldest)
{
	git_repository *repo = rombsr_repo_git(node->repo);
	const git_oid *last = NULL;

	*oldest = 0;
	for (size_t i = 0; i < node->waiting.n; i++) {
		const git_oid *id = &node->waiting.items[i].commit;
		git_commit *c;

		if (last != NULL && git_oid_equal(last, id))
			continue;
		last = id;
		if (git_commit_lookup(&c, repo, id) != 0)
			return rombsr_repo_fail(ROMBSR_EIO, "looking up a waiting request's commit");
		if (*oldest == 0 || git_commit_time(c) < *oldest)
			*oldest = (time_t)git_commit_time(c);
		git_commit_free(c);
	}
	return 0;
}

static int add_quota(struct rombsr_metrics_snapshot *out, size_t *alloc, const char *kind, const char *name,
		     uint64_t used, const struct rombsr_policy_quota *q)
{
	if (out->nquota == *alloc) {
		size_t want = *alloc ? *alloc * 2 : 16;
		struct rombsr_metrics_quota *grown = realloc(out->quota, want * sizeof(*grown));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		out->quota = grown;
		*alloc = want;
	}
	out->quota[out->nquota] = (struct rombsr_metrics_quota){.used = used, .limit = q->max_operations,
								 .window = q->window_seconds};
	snprintf(out->quota[out->nquota].kind, sizeof(out->quota[0].kind), "%s", kind);
	snprintf(out->quota[out->nquota].name, sizeof(out->quota[0].name), "%s", name);
	out->nquota++;
	return 0;
}

/* Every key and build node the policy in force gives a quota, as
 * `rombsr-sign status` lists them. */
static int quotas(struct rombsr_sign_node *node, struct rombsr_metrics_snapshot *out)
{
	const struct rombsr_policy *p = rombsr_policy_state_current(node->policy);
	const struct rombsr_keyset *ks = rombsr_keyset_current();
	time_t now = time(NULL);
	size_t alloc = 0;
	int r = 0;

	for (size_t i = 0; p != NULL && i < ks->len && r == 0; i++) {
		const struct rombsr_policy_rule *rule = rombsr_policy_rule_for(p, ks->entries[i].label);

		if (rule != NULL && rule->quota.window_seconds > 0)
			r = add_quota(out, &alloc, "key", ks->entries[i].label,
				      rombsr_quota_ledger_count_key(node->ledger, ks->entries[i].label, now,
								    rule->quota.window_seconds, NULL),
				      &rule->quota);
	}
	for (size_t i = 0; p != NULL && i < p->nnodes && r == 0; i++)
		if (p->nodes[i].quota.window_seconds > 0)
			r = add_quota(out, &alloc, "node", p->nodes[i].fpr,
				      rombsr_quota_ledger_count_node(node->ledger, p->nodes[i].fpr, now,
								     p->nodes[i].quota.window_seconds, NULL),
				      &p->nodes[i].quota);
	out->ledger_requests = rombsr_quota_ledger_size(node->ledger);
	return r;
}

/* Before its first publication, the node's last checkpoint is as old as
 * audit.published, which is written after each one. */
static time_t checkpoint_time(const struct rombsr_sign_node *node)
{
	char path[4096];
	struct stat st;

	if (node->counters.checkpoint_at != 0)
		return node->counters.checkpoint_at;
	if ((size_t)snprintf(path, sizeof(path), "%s/audit.published", node->dir) >= sizeof(path) ||
	    stat(path, &st) != 0)
		return 0;
	return st.st_mtime;
}

int rombsr_sign_node_metrics(struct rombsr_sign_node *node, struct rombsr_metrics_snapshot *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	out->counters = node->counters;
	out->counters.checkpoint_at = checkpoint_time(node);
	out->operations = node->stats.operations;
	out->waiting = node->waiting.n;
	out->max_waiting = node->max_waiting;
	rombsr_audit_writer_sizes(node->audit, &out->audit_entries, &out->audit_published);
	out->device_log = node->device_log.enabled;
	out->device_log_anomalies = node->device_log.anomalies;
	r = signer_figures(node, out);
	if (r == 0)
		r = oldest_waiting(node, &out->oldest_waiting);
	if (r == 0)
		r = quotas(node, out);
	if (r < 0)
		rombsr_metrics_snapshot_free(out);
	return r;
}
