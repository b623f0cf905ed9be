/* Verifying the queue's history from the head this node verified last
 * (queue-verify, apply): only the commits after the record are verified,
 * a history that no longer descends from a recorded head is refused, and
 * the record moves only after a verification that succeeded
 * (docs/queue.md, "The verified record"). */
#ifndef ROMBSR_CLI_HISTORY_CHECK_H
#define ROMBSR_CLI_HISTORY_CHECK_H

#include "queue_client.h"

#include "../queue/headfile.h"

/* The two records of a node's state folder: queue-verify's, whose head also
 * vouches that every response up to it answers its request, and apply's,
 * whose head vouches for the commits only. */
#define HISTORY_QUEUE_RECORD "queue-verified.head"
#define HISTORY_APPLY_RECORD "apply-verified.head"
/* In the node's copy of the queue, at the head verified last. */
#define HISTORY_VERIFIED_REF "refs/rombsr/verified"

struct history_seen;

struct history_check {
	struct queue_client *qc;
	struct rombsr_verifier v;
	bool have_verifier;
	bool check_responses;          /* queue-verify: every response against its request */
	char *record_path, *other_path;
	struct rombsr_verified_record rec;   /* up to head: written by history_check_save */
	bool have_base;
	git_oid base;                  /* the recorded head this run started after */
	uint64_t verified_now;         /* commits verified by this run */
	struct history_seen *requests, *responses;   /* added after base */
	size_t nrequests, nresponses, nchecked, alloc_req, alloc_resp;
	rombsr_verified_fn done;       /* the caller's view of each verified commit */
	void *done_ctx;
};

/* Verifies the queue up to head: after the recorded head unless full (or
 * the record does not fit: other pinned admins, no totals for queue-verify),
 * else from the first commit. Both records of the state folder must be
 * ancestors of head (ROMBSR_ESECURITY: history rewritten). own names this
 * command's record (HISTORY_*_RECORD); with check_responses, its totals are
 * kept. done (may be NULL) sees every commit verified. */
int history_check_start(struct history_check *hc, struct queue_client *qc, const char *own, bool check_responses,
			bool full, const git_oid *head, rombsr_verified_fn done, void *ctx);
/* Verifies the commits from the verified head up to next, which must
 * descend from it. */
int history_check_extend(struct history_check *hc, const git_oid *next);
/* Records the verified head (atomically). */
int history_check_save(struct history_check *hc);
void history_check_free(struct history_check *hc);

/* ROMBSR_ESECURITY unless commit hex is upto or one of its ancestors and is
 * the commit that added request id (a verified history adds a request once
 * and never removes it, so that commit is the only one). what names the
 * response for messages. */
int history_request_commit_check(struct rombsr_repo *repo, const git_oid *upto, const char *hex, const char *id,
				 const char *what);

#endif
