/* Where things live in the signing queue (docs/queue.md). Requests,
 * responses and approvals are sharded by the first two hex digits of the
 * request ID, so a commit touches one small folder and finding new work is
 * a diff of two trees, never a walk over all of history. */
#ifndef ROMBSR_QUEUE_LAYOUT_H
#define ROMBSR_QUEUE_LAYOUT_H

#include <stddef.h>

#define ROMBSR_QUEUE_BRANCH "refs/heads/main"
#define ROMBSR_QUEUE_TRUST "trust/trust.json"
#define ROMBSR_QUEUE_TRUST_NAME ROMBSR_QUEUE_TRUST
#define ROMBSR_QUEUE_KEYS_DIR "trust/keys"
#define ROMBSR_REQUEST_ID_LEN 32

enum rombsr_queue_kind {
	ROMBSR_PATH_UNKNOWN,
	ROMBSR_PATH_TRUST,      /* trust/trust.json */
	ROMBSR_PATH_KEY,        /* trust/keys/<FPR>.asc */
	ROMBSR_PATH_POLICY,     /* policy/... */
	ROMBSR_PATH_REQUEST,    /* requests/<id[0:2]>/<id>.json */
	ROMBSR_PATH_RESPONSE,   /* responses/<id[0:2]>/<id>.json */
	ROMBSR_PATH_APPROVAL,   /* approvals/<id[0:2]>/<id>/<FPR>.json */
	ROMBSR_PATH_AUDIT,      /* audit/entries/..., audit/checkpoints/... (audit_layout.h) */
};

struct rombsr_queue_path {
	enum rombsr_queue_kind kind;
	char id[ROMBSR_REQUEST_ID_LEN + 1];   /* request ID, for requests, responses, approvals */
	char fpr[41];                         /* key file or approver fingerprint */
};

/* Classifies a path of the queue; ROMBSR_PATH_UNKNOWN for anything that
 * does not match the layout exactly. */
void rombsr_queue_classify(const char *path, struct rombsr_queue_path *out);

/* "requests/ab/ab12….json" and so on, into out. */
int rombsr_queue_request_path(const char *id, char *out, size_t size);
int rombsr_queue_response_path(const char *id, char *out, size_t size);
int rombsr_queue_approval_path(const char *id, const char *fpr, char *out, size_t size);
int rombsr_queue_key_path(const char *fpr, char *out, size_t size);

/* True if id is 32 lower-case hex digits. */
int rombsr_request_id_valid(const char *id);

const char *rombsr_queue_kind_name(enum rombsr_queue_kind kind);

#endif
