/* The sign node's worker, inside: what worker.c (fetching, verifying,
 * publishing: the pass) and decide.c (one request: hard rules, policy,
 * approvals, signatures) share. Not for use outside src/sign. */
#ifndef ROMBSR_SIGN_WORKER_INTERNAL_H
#define ROMBSR_SIGN_WORKER_INTERNAL_H

#include "worker.h"

#include "approval_tally.h"
#include "device_log.h"
#include "metrics.h"
#include "audit_writer.h"
#include "policy_state.h"
#include "quota.h"
#include "waiting.h"

#include "../signer/channel.h"

#include "../common/buf.h"
#include "../common/keyset.h"
#include "../queue/gpg.h"
#include "../queue/layout.h"
#include "../queue/repo.h"
#include "../queue/trust.h"
#include "../queue/verify.h"

#include <git2.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

struct known_key {
	uint16_t device_id;     /* a YubiHSM's object ID; 0 elsewhere */
	char label[65];
	char spki_sha256[65];
	enum rombsr_key_kind kind;
	size_t modulus_bytes;
};

struct signer_link {
	int fd;
	pid_t pid;
	char token_label[33];   /* the token it logged in to, from its hello */
	struct known_key *keys;  /* what it holds of the key set (learn_keys()) */
	size_t nkeys;
	size_t in_flight;       /* operations sent, replies not read yet */
	uint64_t hsm_errors;    /* operations it answered with an HSM failure */
};

struct rombsr_sign_node {
	const struct rombsr_config *cfg;
	struct signer_link signers[ROMBSR_AUTHORITY_COUNT];
	struct rombsr_gpg *gpg;
	struct rombsr_repo *repo;
	char *dir;                  /* <state>/sign */
	git_oid processed;
	bool have_processed;
	/* Kept across passes: its keyring is loaded once, then grows with the
	 * trust changes each new commit makes. */
	struct rombsr_verifier verifier;
	bool have_verifier;
	struct rombsr_audit_writer *audit;
	struct rombsr_policy_state *policy;
	struct rombsr_quota_ledger *ledger;
	/* Requests allowed but short of approvals: looked at again every pass
	 * until they have them or expire. */
	struct rombsr_waiting_list waiting;
	size_t max_waiting;         /* sign.max-waiting: the waiting list's bound */
	struct rombsr_sign_stats stats;
	struct rombsr_sign_counters counters; /* for the metrics (metrics.h) */
	/* The signing server (serve.c): the commit its clients list was read
	 * at, and whether a request of it is left to finish (an HSM failure). */
	git_oid clients_commit;
	bool have_clients_commit;
	bool serve_leftovers;
	int serve_pending_fd;       /* <state>/sign/server.pending, once opened; -1 before */
	double published_at;        /* monotonic seconds of the last publication */
	bool served_unpublished;    /* the server logged decisions since then */
	struct rombsr_device_log_state device_log; /* a YubiHSM's own log (device_log.h) */
};

/* What one pass knows that its decisions need: the head it processes and
 * the trust file at that head, read when a decision first needs it. Lives
 * as long as the pass, never in the node. */
struct pass_context {
	git_oid head;
	struct rombsr_trust trust;
	bool have_trust;
	/* incident/freeze.json at head says "frozen": every request decided
	 * in this pass is rejected (frozen) with frozen_why. */
	bool frozen;
	char frozen_why[512];
};

/* A request found in new commits or on the waiting list, with the commit
 * that carried it. */
struct pending {
	char id[ROMBSR_REQUEST_ID_LEN + 1];
	git_oid commit;
	char signer[41];
	bool answered;
	bool was_waiting;
	bool no_room_to_wait;   /* the waiting list is full: a request that would
				 * wait is rejected (approvals-backlog) */
	unsigned approvals_seen; /* approvals counted when last reported */
	size_t order, round;    /* place in the queue; turn of its build node */
	time_t expires;         /* set once the request is read */
	/* A request made to the signing server (serve.c): its text is here,
	 * not in the queue, commit is the one whose clients list named its
	 * client, and it cannot wait for approvals. */
	const struct rombsr_buf *body;
};

/* Fault injection for the crash tests (ROMBSR_FAULT=<point>): the process
 * kills itself with SIGKILL at that point, as a power cut would. */
void rombsr_sign_fault_point(const char *point);

/* Reads <state>/sign/processed.head into node (worker.c). */
int rombsr_sign_read_processed(struct rombsr_sign_node *node);

enum rombsr_sign_outcome { ROMBSR_SIGN_ANSWERED, ROMBSR_SIGN_WAITING };

/* One request between its decision and its saved response (decide.c).
 * The pass keeps two at a time: while the older one's last signatures are
 * made, saved and logged, the next one is decided and its first operations
 * are already with the signer, so the HSM does not wait for the worker's
 * files. */
struct sign_job {
	struct pending *p;
	enum rombsr_sign_outcome outcome;
	struct rombsr_approval_tally *tally;
	struct rombsr_request req;
	struct rombsr_response resp;
	struct rombsr_buf text;         /* a response saved by an earlier run */
	bool have_local;                /* ... published as it is */
	char local[4096];               /* where the response is saved */
	/* Its operations through the authority's signer, in order. */
	struct signer_link *signer;
	struct rombsr_channel_request *msg;
	struct rombsr_channel_reply *reply;
	bool signing;
	double decided_at;              /* monotonic, when signing began */
	bool refused;                   /* sends no more; reads what is in flight */
	bool hsm_rejected;              /* refused: hsm-unavailable at operation 0 */
	size_t sent, got;
	int failed;                     /* an HSM failure: the pass fails once the
					 * replies in flight are read */
};

/* Decides one request: its response is already saved (a crash before
 * publishing), it is rejected, it must wait for approvals (outcome), or it
 * is recorded in the quota ledger and its signing begins. */
int rombsr_sign_job_start(struct rombsr_sign_node *node, struct pass_context *pass, struct pending *p,
			  struct sign_job *job);
/* True once the job has sent every operation it will send. */
bool rombsr_sign_job_all_sent(const struct sign_job *job);
/* True once the job has every reply it waits for. */
bool rombsr_sign_job_done(const struct sign_job *job);
/* Sends what the signers' windows allow, jobs[0] first, then reads one
 * reply for jobs[0], the oldest (replies come in order). */
int rombsr_sign_jobs_pump(struct sign_job *const *jobs, size_t n);
/* Saves the response of a done job and hands its text over. */
int rombsr_sign_job_finish(struct rombsr_sign_node *node, struct sign_job *job, struct rombsr_buf *text);
/* Reads the replies still in flight, so the next pass finds the channel in
 * step, and frees the job. */
void rombsr_sign_job_abandon(struct sign_job *job);
void rombsr_sign_job_free(struct sign_job *job);

#endif
