/* What a crash or an HSM failure left of the signing server's requests
 * (worker.h, rombsr_sign_serve_recover): <state>/sign/server.pending
 * records each call from before its decision until every call in hand is
 * logged (serve.h). */
#define _GNU_SOURCE
#include "serve.h"
#include "sign_log.h"

#include "../common/error.h"

#include <stdio.h>
#include <string.h>

/* One leftover: decided (its quota ledger line is the decision, synced
 * before the first HSM operation), so it is signed as decided, its
 * signatures made so far answered by the signing cache, and logged with
 * its client. The client was told it failed; the log holds the truth. */
static int finish_leftover(struct rombsr_sign_node *node, const char *id, const struct rombsr_server_call *call,
			   const struct rombsr_buf *body)
{
	struct pending p = {0};
	struct pass_context pass = {0};
	struct sign_job job = {0};
	struct rombsr_buf text;
	uint64_t index = 0, count;
	int r = 0;

	snprintf(p.id, sizeof(p.id), "%s", id);
	snprintf(p.signer, sizeof(p.signer), "%s", call->client.build_node);
	p.body = body;
	if (git_oid_fromstr(&p.commit, call->clients_commit) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "request %s: clients_commit is not an object name", id);
	if (r == 0 && !node->have_processed)
		r = rombsr_error(ROMBSR_ENOTFOUND, "the sign node has not verified the queue yet");
	if (r == 0)
		git_oid_cpy(&pass.head, &node->processed);
	if (r == 0)
		r = rombsr_sign_job_start(node, &pass, &p, &job);
	while (r == 0 && !rombsr_sign_job_done(&job))
		r = rombsr_sign_jobs_pump((struct sign_job *const[]){&job}, 1);
	if (r == 0)
		r = rombsr_sign_job_finish(node, &job, &text);
	if (r == 0) {
		struct rombsr_audit_client client = {call->clients_commit, call->client.certificate_sha256,
						     call->client.build_node, call->route};

		rombsr_buf_free(&text);
		node->served_unpublished = true;
		r = rombsr_audit_writer_decision(node->audit, &job.resp, job.resp.signed_ok ? &job.req : NULL, NULL,
						 &client, &index, &count);
	}
	if (r == 0)
		rombsr_sign_log(LOG_NOTICE, &(struct rombsr_sign_log_fields){.request_id = id, .outcome = "recovered"},
				"rombsr serve: request %s, decided before the node stopped, is logged at audit entry %llu",
				id, (unsigned long long)index);
	rombsr_sign_job_abandon(&job);
	return r;
}

static int one(struct rombsr_sign_node *node, uint64_t log_from, const char *id, const struct rombsr_server_call *call,
	       const struct rombsr_buf *request, void *ctx)
{
	time_t when;
	bool logged;
	int r = rombsr_audit_writer_server_logged(node->audit, log_from, id, &logged);

	(void)ctx;
	if (r < 0 || logged)
		return r;
	if (rombsr_quota_ledger_recorded(node->ledger, id, &when))
		return finish_leftover(node, id, call, request);
	/* Never decided: no HSM operation was asked for it. */
	rombsr_sign_log(LOG_NOTICE, &(struct rombsr_sign_log_fields){.request_id = id, .outcome = "dropped"},
			"rombsr serve: request %s was not decided before the node stopped: dropped, nothing was signed "
			"for it", id);
	return 0;
}

int rombsr_sign_serve_recover(struct rombsr_sign_node *node)
{
	int r = rombsr_serve_pending_read(node, one, NULL);

	if (r == 0)
		r = rombsr_serve_pending_clear(node);
	if (r == 0)
		node->serve_leftovers = false;
	return r;
}
