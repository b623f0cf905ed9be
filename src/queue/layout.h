/* Where things live in the signing queue (docs/queue.md). Requests,
 * responses and approvals are sharded by the creation date the request ID
 * starts with, then by the next two hex digits of the ID:
 * requests/YYYY/MM/DD/<id[8:10]>/<id>.json. Every folder level is then
 * bounded (months, days, 256 shards; the leaf holds one day's requests
 * over 256), so a commit touches a few small folders and finding new work
 * is a diff of two trees whose cost depends on the daily volume, never on
 * the length of history. */
#ifndef ROMBSR_QUEUE_LAYOUT_H
#define ROMBSR_QUEUE_LAYOUT_H

#include <stddef.h>
#include <time.h>

#define ROMBSR_QUEUE_BRANCH "refs/heads/main"
#define ROMBSR_QUEUE_TRUST "trust/trust.json"
#define ROMBSR_QUEUE_TRUST_NAME ROMBSR_QUEUE_TRUST
#define ROMBSR_QUEUE_KEYS_DIR "trust/keys"

/* A request ID: the UTC date of the request's creation as YYYYMMDD, then
 * ROMBSR_REQUEST_ID_RANDOM random bytes as lower-case hex. */
#define ROMBSR_REQUEST_ID_LEN 32
#define ROMBSR_REQUEST_ID_DATE_LEN 8
#define ROMBSR_REQUEST_ID_RANDOM 12
/* What error messages say an ID must be. */
#define ROMBSR_REQUEST_ID_FORM "a date YYYYMMDD then 24 lower-case hex digits"

enum rombsr_queue_kind {
	ROMBSR_PATH_UNKNOWN,
	ROMBSR_PATH_TRUST,      /* trust/trust.json */
	ROMBSR_PATH_KEY,        /* trust/keys/<FPR>.asc */
	ROMBSR_PATH_POLICY,     /* policy/... */
	ROMBSR_PATH_REQUEST,    /* requests/YYYY/MM/DD/<id[8:10]>/<id>.json */
	ROMBSR_PATH_RESPONSE,   /* responses/YYYY/MM/DD/<id[8:10]>/<id>.json */
	ROMBSR_PATH_APPROVAL,   /* approvals/YYYY/MM/DD/<id[8:10]>/<id>/<FPR>.json */
	ROMBSR_PATH_AUDIT,      /* audit/entries/..., audit/checkpoints/... (audit_layout.h) */
	ROMBSR_PATH_FREEZE,     /* incident/freeze.json (incident.h) */
	ROMBSR_PATH_REVOCATION, /* revocations/<spki-sha256>.json (incident.h) */
};

struct rombsr_queue_path {
	enum rombsr_queue_kind kind;
	char id[ROMBSR_REQUEST_ID_LEN + 1];   /* request ID, for requests, responses, approvals */
	char fpr[41];                         /* key file or approver fingerprint */
	char key[65];                         /* revocation: the revoked key's SPKI SHA-256 */
};

/* Classifies a path of the queue; ROMBSR_PATH_UNKNOWN for anything that
 * does not match the layout exactly, including a date or shard folder that
 * is not the one the ID names. */
void rombsr_queue_classify(const char *path, struct rombsr_queue_path *out);

/* "requests/2026/11/22/ab/20261122ab12….json" and so on, into out. */
int rombsr_queue_request_path(const char *id, char *out, size_t size);
int rombsr_queue_response_path(const char *id, char *out, size_t size);
int rombsr_queue_approval_path(const char *id, const char *fpr, char *out, size_t size);
int rombsr_queue_key_path(const char *fpr, char *out, size_t size);

/* True if id is 32 characters: a real calendar date YYYYMMDD (year 2000
 * to 9999), then 24 lower-case hex digits. */
int rombsr_request_id_valid(const char *id);

/* The UTC date of t as YYYYMMDD, the form request IDs start with;
 * ROMBSR_EINVAL if its year is outside 2000 to 9999. */
int rombsr_request_id_date(time_t t, char date[ROMBSR_REQUEST_ID_DATE_LEN + 1]);

/* The ID of a request created at t: its UTC date, then random as hex. */
int rombsr_request_id_make(time_t created, const unsigned char random[ROMBSR_REQUEST_ID_RANDOM],
			   char id[ROMBSR_REQUEST_ID_LEN + 1]);

const char *rombsr_queue_kind_name(enum rombsr_queue_kind kind);

#endif
