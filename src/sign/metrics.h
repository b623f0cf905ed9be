/* The sign node's metrics (docs/metrics.md): what the worker counts as it
 * goes, a snapshot of everything taken between passes, and its Prometheus
 * text exposition (format 0.0.4). The worker's main thread takes the
 * snapshot; the HTTP thread (metrics_http.c) only renders it, so no queue
 * or signer state is ever touched outside the pass's thread. */
#ifndef ROMBSR_SIGN_METRICS_H
#define ROMBSR_SIGN_METRICS_H

#include "../common/buf.h"
#include "../common/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Outcome and reason pairs counted; reasons are the node's own codes (a
 * few dozen), never request text, so the bound is never reached in
 * practice: a pair beyond it is counted as reason "other". */
#define ROMBSR_METRICS_MAX_REASONS 64
#define ROMBSR_METRICS_BUCKETS 12

extern const double rombsr_metrics_latency_bounds[ROMBSR_METRICS_BUCKETS];

struct rombsr_metrics_request_count {
	char outcome[16];
	char reason[48];
	uint64_t n;
};

/* Counted by the worker as it decides (struct rombsr_sign_node). */
struct rombsr_sign_counters {
	struct rombsr_metrics_request_count requests[ROMBSR_METRICS_MAX_REASONS];
	size_t nrequests;
	uint64_t latency_buckets[ROMBSR_METRICS_BUCKETS]; /* per bucket, not cumulative */
	uint64_t latency_count;
	double latency_sum;
	uint64_t passes, pass_failures;
	time_t last_pass_ok;    /* 0: none yet */
	time_t lag_since;       /* first fetch of commits not processed yet; 0: caught up */
	time_t checkpoint_at;   /* the last checkpoint published; 0: unknown */
	bool frozen;            /* at the head of the last pass */
};

/* A request answered: outcome "signed" (reason "none") or "rejected". */
void rombsr_sign_counters_request(struct rombsr_sign_counters *c, const char *outcome, const char *reason);
/* A signed request's time from its decision to its saved response. */
void rombsr_sign_counters_latency(struct rombsr_sign_counters *c, double seconds);

struct rombsr_metrics_authority {
	char name[16];
	bool served;            /* a signer runs for it */
	bool up;                /* ... and has not ended */
	uint64_t hsm_operations, cache_hits, unwraps, evictions, hsm_errors;
};

struct rombsr_metrics_quota {
	char kind[8];           /* "key" or "node" */
	char name[72];          /* a key label or a build node's fingerprint */
	uint64_t used, limit;
	int64_t window;
};

struct rombsr_metrics_snapshot {
	struct rombsr_sign_counters counters;
	time_t started;
	uint64_t operations;
	struct rombsr_metrics_authority authority[ROMBSR_AUTHORITY_COUNT];
	size_t waiting, max_waiting;
	time_t oldest_waiting;  /* the commit time of the oldest waiting request; 0: none */
	struct rombsr_metrics_quota *quota;
	size_t nquota;
	size_t ledger_requests; /* signed in the last 31 days */
	uint64_t audit_entries, audit_published;
	bool device_log;             /* an authority is on a YubiHSM (docs/yubihsm.md) */
	uint64_t device_log_anomalies; /* gaps, broken chains, unmatched signatures since start */
	bool serving;                /* rombsr-sign serve: the signing server runs */
	unsigned server_connections; /* its connections open when the snapshot was taken */
};

/* The exposition at time now (ages are computed at the scrape, so a pass
 * that hangs shows as growing ages, not as frozen ones). */
int rombsr_metrics_render(const struct rombsr_metrics_snapshot *s, time_t now, struct rombsr_buf *out);
void rombsr_metrics_snapshot_free(struct rombsr_metrics_snapshot *s);

#endif
