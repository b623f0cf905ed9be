/* The quota ledger (docs/formats/policy.md, "Quota ledger"): what the sign
 * node has agreed to sign, per request — when, for which build node, and
 * how many operations with each key — so that a policy can say "at most M
 * operations in W seconds" per key and per build node.
 *
 * Kept as an append-only file in the sign node's state folder, one line per
 * request, each made durable (fdatasync) before the call returns. A torn
 * last line from a crash is cut off on open; any other malformed line is an
 * error, never skipped. Recording is idempotent per request ID, so a
 * request answered again after a crash is counted once. */
#ifndef ROMBSR_SIGN_QUOTA_H
#define ROMBSR_SIGN_QUOTA_H

#include "../queue/policy.h"
#include "../queue/request.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ROMBSR_QUOTA_FILE "quota.ledger"
#define ROMBSR_QUOTA_HEADER "rombsr.quota-ledger 1"
/* Distinct key labels one request may use: as many as a key set holds
 * (ROMBSR_KEYSET_MAX_KEYS), so a request over many per-device keys is
 * recorded like any other. */
#define ROMBSR_QUOTA_MAX_KEYS 4096
#define ROMBSR_QUOTA_LABEL_MAX 64

struct rombsr_quota_ledger;

/* One key's share of a request. */
struct rombsr_quota_use {
	char key[ROMBSR_QUOTA_LABEL_MAX + 1];
	uint32_t count;
};

/* Opens (creating) dir/quota.ledger: cuts a torn last line, forgets the
 * entries older than ROMBSR_QUOTA_MAX_WINDOW at now and rewrites the file
 * without them (atomically). */
int rombsr_quota_ledger_open(const char *dir, time_t now, struct rombsr_quota_ledger **out);
/* dir/quota.ledger read into memory without changing the file (a torn
 * last line is left out): for `rombsr status` beside a running node. */
int rombsr_quota_ledger_read(const char *dir, struct rombsr_quota_ledger **out);
/* A ledger held in memory only, never written (tests, dry runs). */
int rombsr_quota_ledger_new(struct rombsr_quota_ledger **out);
void rombsr_quota_ledger_close(struct rombsr_quota_ledger *l);

/* Records that request_id from build node was signed at when, using
 * uses[0..n) (each key once, counts ≥ 1; labels of letters, digits, '.',
 * '_' and '-'). Durable when it returns 0. A request already recorded is
 * left as it is (returns 0): the first record stands. */
int rombsr_quota_ledger_add(struct rombsr_quota_ledger *l, time_t when, const char *request_id, const char *node,
			    const struct rombsr_quota_use *uses, size_t n);
/* The same for a parsed request: its build node, and its operations
 * grouped by key label. */
int rombsr_quota_ledger_record(struct rombsr_quota_ledger *l, const struct rombsr_request *req, time_t when);
/* With defer, records are written but not synced until
 * rombsr_quota_ledger_sync(): a caller deciding several requests at once
 * (the signing server) makes them durable together, before the first
 * operation of any of them goes to a signer. */
void rombsr_quota_ledger_defer_sync(struct rombsr_quota_ledger *l, bool defer);
int rombsr_quota_ledger_sync(struct rombsr_quota_ledger *l);
bool rombsr_quota_ledger_has(const struct rombsr_quota_ledger *l, const char *request_id);
/* Whether request_id is recorded, and when. The sign node records a
 * request just before its first signature, durably: the record is also
 * its decision to sign, which a restart after a crash carries out. */
bool rombsr_quota_ledger_recorded(const struct rombsr_quota_ledger *l, const char *request_id, time_t *when);

/* Operations recorded in the last window seconds before now (now − window
 * < time; entries dated after now count too), for one key or one build
 * node, leaving out the request exclude (NULL: none), so a request being
 * decided again after a crash is not counted against itself. */
uint64_t rombsr_quota_ledger_count_key(const struct rombsr_quota_ledger *l, const char *key, time_t now,
				       int64_t window, const char *exclude);
uint64_t rombsr_quota_ledger_count_node(const struct rombsr_quota_ledger *l, const char *node, time_t now,
					int64_t window, const char *exclude);

/* Forgets entries older than ROMBSR_QUOTA_MAX_WINDOW at now and, for a
 * ledger on disk, rewrites its file without them (atomically). For a
 * long-running sign node; open does it too. */
int rombsr_quota_ledger_prune(struct rombsr_quota_ledger *l, time_t now);
/* Requests recorded. */
size_t rombsr_quota_ledger_size(const struct rombsr_quota_ledger *l);

#endif
