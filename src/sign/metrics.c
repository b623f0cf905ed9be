/* The sign node's counters and their Prometheus text exposition
 * (metrics.h; every metric is described in docs/metrics.md). */
#include "metrics.h"

#include "../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double rombsr_metrics_latency_bounds[ROMBSR_METRICS_BUCKETS] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
								      1,    2.5,   5,    10,  30,   60};

/* The exposition of a whole node is small: a few hundred series, plus
 * two per quota (at most a key set's worth). */
#define METRICS_MAX_BYTES (16u << 20)

void rombsr_sign_counters_request(struct rombsr_sign_counters *c, const char *outcome, const char *reason)
{
	struct rombsr_metrics_request_count *e = NULL;

	for (size_t i = 0; i < c->nrequests && e == NULL; i++)
		if (strcmp(c->requests[i].outcome, outcome) == 0 && strcmp(c->requests[i].reason, reason) == 0)
			e = &c->requests[i];
	if (e == NULL && c->nrequests < ROMBSR_METRICS_MAX_REASONS - 1) {
		e = &c->requests[c->nrequests++];
		snprintf(e->outcome, sizeof(e->outcome), "%s", outcome);
		snprintf(e->reason, sizeof(e->reason), "%s", reason);
	}
	/* The last place is kept for "other". */
	for (size_t i = 0; i < c->nrequests && e == NULL; i++)
		if (strcmp(c->requests[i].outcome, outcome) == 0 && strcmp(c->requests[i].reason, "other") == 0)
			e = &c->requests[i];
	if (e == NULL) {
		e = &c->requests[c->nrequests++];
		snprintf(e->outcome, sizeof(e->outcome), "%s", outcome);
		snprintf(e->reason, sizeof(e->reason), "other");
	}
	e->n++;
}

void rombsr_sign_counters_latency(struct rombsr_sign_counters *c, double seconds)
{
	size_t i = 0;

	while (i < ROMBSR_METRICS_BUCKETS && seconds > rombsr_metrics_latency_bounds[i])
		i++;
	if (i < ROMBSR_METRICS_BUCKETS)
		c->latency_buckets[i]++;
	c->latency_count++;
	c->latency_sum += seconds;
}

/* A label value as the text format wants it: backslash, double quote and
 * line feed escaped. Values are the node's own (codes, labels,
 * fingerprints), but a key label may hold any character the key set
 * allows. */
static void label_value(struct rombsr_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			rombsr_buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			rombsr_buf_append_str(b, "\\n");
		else
			rombsr_buf_append(b, v, 1);
	}
}

static void header(struct rombsr_buf *b, const char *name, const char *type, const char *help)
{
	rombsr_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct rombsr_buf *b, const char *name, unsigned long long v)
{
	rombsr_buf_printf(b, "%s %llu\n", name, v);
}

/* A metric of one sample, with its HELP and TYPE. */
static void one(struct rombsr_buf *b, const char *name, const char *type, const char *help, unsigned long long v)
{
	header(b, name, type, help);
	sample(b, name, v);
}

static unsigned long long age(time_t since, time_t now)
{
	return since == 0 || now < since ? 0 : (unsigned long long)(now - since);
}

static void render_requests(struct rombsr_buf *b, const struct rombsr_metrics_snapshot *s)
{
	const struct rombsr_sign_counters *c = &s->counters;

	header(b, "rombsr_sign_requests_total", "counter", "Requests answered, by outcome (signed, rejected) and reason.");
	for (size_t i = 0; i < c->nrequests; i++) {
		rombsr_buf_printf(b, "rombsr_sign_requests_total{outcome=\"%s\",reason=\"", c->requests[i].outcome);
		label_value(b, c->requests[i].reason);
		rombsr_buf_printf(b, "\"} %llu\n", (unsigned long long)c->requests[i].n);
	}
	one(b, "rombsr_sign_operations_total", "counter", "Operations (signatures) in the requests signed.",
	    s->operations);
	header(b, "rombsr_sign_signing_duration_seconds", "histogram",
	       "Time from a request's decision to sign to its saved response.");
	for (size_t i = 0, cum = 0; i < ROMBSR_METRICS_BUCKETS; i++) {
		cum += c->latency_buckets[i];
		rombsr_buf_printf(b, "rombsr_sign_signing_duration_seconds_bucket{le=\"%g\"} %zu\n",
				  rombsr_metrics_latency_bounds[i], cum);
	}
	rombsr_buf_printf(b, "rombsr_sign_signing_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
			  (unsigned long long)c->latency_count);
	rombsr_buf_printf(b, "rombsr_sign_signing_duration_seconds_sum %.6f\n", c->latency_sum);
	rombsr_buf_printf(b, "rombsr_sign_signing_duration_seconds_count %llu\n", (unsigned long long)c->latency_count);
}

/* One series per authority served by a signer. */
static void per_authority(struct rombsr_buf *b, const struct rombsr_metrics_snapshot *s, const char *name,
			  const char *type, const char *help, size_t offset)
{
	header(b, name, type, help);
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		const struct rombsr_metrics_authority *a = &s->authority[i];
		uint64_t v;

		if (!a->served)
			continue;
		if (offset == (size_t)-1)
			v = a->up;
		else
			memcpy(&v, (const char *)a + offset, sizeof(v));
		rombsr_buf_printf(b, "%s{authority=\"", name);
		label_value(b, a->name);
		rombsr_buf_printf(b, "\"} %llu\n", (unsigned long long)v);
	}
}

static void render_hsm(struct rombsr_buf *b, const struct rombsr_metrics_snapshot *s)
{
	per_authority(b, s, "rombsr_sign_signer_up", "gauge", "1 while the authority's signer runs, 0 once it ended.",
		      (size_t)-1);
	per_authority(b, s, "rombsr_sign_hsm_operations_total", "counter", "Signatures the HSM made (signer's count).",
		      offsetof(struct rombsr_metrics_authority, hsm_operations));
	per_authority(b, s, "rombsr_sign_hsm_errors_total", "counter",
		      "Operations the signer could not get signed (HSM failure, after its retries).",
		      offsetof(struct rombsr_metrics_authority, hsm_errors));
	per_authority(b, s, "rombsr_sign_cache_hits_total", "counter",
		      "Operations answered from the signing cache, without the HSM.",
		      offsetof(struct rombsr_metrics_authority, cache_hits));
	per_authority(b, s, "rombsr_sign_key_unwraps_total", "counter",
		      "Keys unwrapped into the token from the wrapped store.", offsetof(struct rombsr_metrics_authority, unwraps));
	per_authority(b, s, "rombsr_sign_key_evictions_total", "counter",
		      "Unwrapped keys destroyed in the token to make room.", offsetof(struct rombsr_metrics_authority, evictions));
}

struct scalar {
	const char *name, *type, *help;
	unsigned long long value;
};

static void scalars(struct rombsr_buf *b, const struct scalar *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		one(b, m[i].name, m[i].type, m[i].help, m[i].value);
}

static void render_queue(struct rombsr_buf *b, const struct rombsr_metrics_snapshot *s, time_t now)
{
	const struct rombsr_sign_counters *c = &s->counters;
	const struct scalar m[] = {
		{"rombsr_sign_passes_total", "counter", "Passes over the queue that completed.", c->passes},
		{"rombsr_sign_pass_failures_total", "counter", "Passes that failed (queue or HSM unreachable...).",
		 c->pass_failures},
		{"rombsr_sign_last_pass_success_timestamp_seconds", "gauge",
		 "Unix time the last pass completed (0: none yet).", (unsigned long long)c->last_pass_ok},
		{"rombsr_sign_queue_lag_seconds", "gauge",
		 "Seconds since the node fetched queue commits it has not finished processing (0: caught up).",
		 age(c->lag_since, now)},
		{"rombsr_sign_waiting_requests", "gauge", "Requests waiting for operator approvals.", s->waiting},
		{"rombsr_sign_waiting_requests_limit", "gauge", "sign.max-waiting: the waiting list's bound.",
		 s->max_waiting},
		{"rombsr_sign_oldest_waiting_request_age_seconds", "gauge",
		 "Age of the oldest request waiting for approvals, from its queue commit (0: none waits).",
		 age(s->oldest_waiting, now)},
		{"rombsr_sign_frozen", "gauge", "1 while incident/freeze.json at the queue's head says frozen.", c->frozen},
	};

	scalars(b, m, sizeof(m) / sizeof(m[0]));
}

static void render_quota(struct rombsr_buf *b, const struct rombsr_metrics_snapshot *s)
{
	static const char *names[2] = {"rombsr_sign_quota_used_operations", "rombsr_sign_quota_limit_operations"};
	static const char *helps[2] = {"Operations counted against a quota of the policy in force, in its window.",
				       "A quota of the policy in force: operations allowed in its window."};

	for (int k = 0; k < 2; k++) {
		header(b, names[k], "gauge", helps[k]);
		for (size_t i = 0; i < s->nquota; i++) {
			rombsr_buf_printf(b, "%s{kind=\"%s\",name=\"", names[k], s->quota[i].kind);
			label_value(b, s->quota[i].name);
			rombsr_buf_printf(b, "\",window=\"%lld\"} %llu\n", (long long)s->quota[i].window,
					  (unsigned long long)(k ? s->quota[i].limit : s->quota[i].used));
		}
	}
	one(b, "rombsr_sign_ledger_requests", "gauge", "Requests signed in the last 31 days (the quota ledger).",
	    s->ledger_requests);
}

static void render_audit(struct rombsr_buf *b, const struct rombsr_metrics_snapshot *s, time_t now)
{
	const struct scalar m[] = {
		{"rombsr_sign_audit_entries", "gauge", "Entries in the node's audit log.", s->audit_entries},
		{"rombsr_sign_audit_unpublished_entries", "gauge", "Audit entries the queue does not hold yet.",
		 s->audit_entries > s->audit_published ? s->audit_entries - s->audit_published : 0},
		{"rombsr_sign_audit_checkpoint_age_seconds", "gauge",
		 "Seconds since the node last published a signed checkpoint of its audit log.",
		 age(s->counters.checkpoint_at, now)},
	};

	scalars(b, m, sizeof(m) / sizeof(m[0]));
}

int rombsr_metrics_render(const struct rombsr_metrics_snapshot *s, time_t now, struct rombsr_buf *out)
{
	rombsr_buf_init(out, METRICS_MAX_BYTES);
	one(out, "rombsr_sign_start_time_seconds", "gauge", "Unix time the sign node started.",
	    (unsigned long long)s->started);
	render_requests(out, s);
	render_hsm(out, s);
	render_queue(out, s, now);
	render_quota(out, s);
	render_audit(out, s, now);
	if (s->device_log)
		one(out, "rombsr_device_log_anomalies_total", "counter",
		    "Gaps, broken chains and unmatched signatures found in the YubiHSM's own log.",
		    (unsigned long long)s->device_log_anomalies);
	if (s->serving)
		one(out, "rombsr_server_connections", "gauge", "HTTPS connections open to the signing server.",
		    (unsigned long long)s->server_connections);
	return rombsr_buf_check(out, "metrics");
}

void rombsr_metrics_snapshot_free(struct rombsr_metrics_snapshot *s)
{
	free(s->quota);
	s->quota = NULL;
	s->nquota = 0;
}
