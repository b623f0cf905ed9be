/* The signing server's calls on the worker's main thread (serve.h). */
#define _GNU_SOURCE
#include "serve.h"
#include "incident_rules.h"
#include "sign_log.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One call between its decision and its answer. */
struct serve_item {
	struct rombsr_server_call *call; /* NULL: recovering, no one waits */
	struct rombsr_buf body;
	struct pending p;
};

int rombsr_sign_serve_clients(struct rombsr_sign_node *node, struct rombsr_server *server)
{
	struct rombsr_clients clients;
	char hex[GIT_OID_HEXSZ + 1];
	int r;

	/* Nothing verified yet: no list is trusted, every call is refused. */
	if (!node->have_processed ||
	    (node->have_clients_commit && git_oid_equal(&node->clients_commit, &node->processed)))
		return 0;
	git_oid_tostr(hex, sizeof(hex), &node->processed);
	r = rombsr_clients_at(node->repo, &node->processed, &clients);
	if (r < 0) {
		/* Fail closed: an unusable list admits no one until an admin
		 * fixes it. */
		rombsr_sign_log(LOG_ERR, NULL, "rombsr serve: the clients list at %.12s is unusable, every call is refused: %s",
				hex, rombsr_error_message(r));
		rombsr_error_clear();
		memset(&clients, 0, sizeof(clients));
	}
	rombsr_server_set_clients(server, &clients, hex);
	git_oid_cpy(&node->clients_commit, &node->processed);
	node->have_clients_commit = true;
	return 0;
}

static void answer_error(struct rombsr_server *server, struct rombsr_server_call *call, unsigned status,
			 const char *code, const char *message)
{
	if (call == NULL)
		return;
	call->status = status;
	rombsr_server_error_body(&call->reply, code, message);
	rombsr_server_answer(server, call);
}

/* 200 with the signature, or 403 with the rejection; both with where the
 * decision is in the audit log. */
static void answer_decision(struct rombsr_server *server, struct rombsr_server_call *call, const struct sign_job *job,
			    uint64_t index, uint64_t count)
{
	const struct rombsr_response *resp = &job->resp;
	json_t *o = json_pack("{s:s,s:{s:I,s:I}}", "request_id", resp->request_id, "audit", "index", (json_int_t)index,
			      "entries", (json_int_t)count);
	char *text = NULL, hex[2 * sizeof(resp->sigs[0].sig) + 1];

	if (o != NULL && resp->signed_ok && resp->nsigs == 1) {
		rombsr_hex_encode(resp->sigs[0].sig, resp->sigs[0].sig_len, hex);
		json_object_set_new(o, "key", json_string(resp->sigs[0].op.label));
		json_object_set_new(o, "mechanism", json_string(resp->sigs[0].op.mech->name));
		json_object_set_new(o, "signature", json_string(hex));
	} else if (o != NULL) {
		json_object_set_new(o, "error", json_pack("{s:s,s:s}", "code", resp->reason_code, "message",
							  resp->reason_message));
	}
	text = o != NULL ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL) {
		answer_error(server, call, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
		return;
	}
	call->status = resp->signed_ok ? MHD_HTTP_OK : MHD_HTTP_FORBIDDEN;
	rombsr_buf_init(&call->reply, 1u << 20);
	rombsr_buf_append_str(&call->reply, text);
	rombsr_buf_append_str(&call->reply, "\n");
	free(text);
	rombsr_server_answer(server, call);
}

/* Logs the decision with a server-client entry naming who asked. */
static int log_decision(struct rombsr_sign_node *node, const struct serve_item *it, const struct rombsr_server_call *who,
			struct sign_job *job, uint64_t *index, uint64_t *count)
{
	struct rombsr_audit_approvals approvals = {job->tally->required, (const char(*)[41])job->tally->approvers,
						   job->tally->napprovers};
	struct rombsr_audit_client client = {who->clients_commit, who->client.certificate_sha256,
					     who->client.build_node, who->route};

	(void)it;
	rombsr_sign_fault_point("before-log");
	return rombsr_audit_writer_decision(node->audit, &job->resp, job->resp.signed_ok ? &job->req : NULL,
					    job->tally->required > 0 ? &approvals : NULL, &client, index, count);
}

/* Saves, logs, forgets and answers a done job. */
static int finish(struct rombsr_sign_node *node, struct rombsr_server *server, struct serve_item *it,
		  const struct rombsr_server_call *who, struct sign_job *job)
{
	struct rombsr_buf text;
	uint64_t index = 0, count = 0;
	char path[4096];
	int r = rombsr_sign_job_finish(node, job, &text);

	if (r == 0) {
		rombsr_buf_free(&text);
		r = log_decision(node, it, who, job, &index, &count);
	}
	if (r == 0)
		r = rombsr_serve_pending_path(node, it->p.id, path, sizeof(path));
	if (r == 0 && unlink(path) != 0)
		r = rombsr_error(ROMBSR_EIO, "%s: %s", path, strerror(errno));
	if (r < 0) {
		/* Left for rombsr_sign_serve_recover(): a signature made is
		 * logged by it, whatever the client was told. */
		node->serve_leftovers = true;
		answer_error(server, it->call, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node", rombsr_error_message(r));
		return r;
	}
	if (it->call != NULL)
		answer_decision(server, it->call, job, index, count);
	return 0;
}

/* Starts one item's decision; a call that cannot even become a request is
 * answered here (and *started stays false). */
static int start(struct rombsr_sign_node *node, struct pass_context *pass, struct rombsr_server *server,
		 struct serve_item *it, const struct rombsr_server_call *who, struct sign_job *job, bool *started)
{
	int r = git_oid_fromstr(&it->p.commit, who->clients_commit) == 0
			? 0
			: rombsr_error(ROMBSR_EINTERNAL, "clients commit '%s' is not an object name", who->clients_commit);

	*started = false;
	snprintf(it->p.signer, sizeof(it->p.signer), "%s", who->client.build_node);
	it->p.body = &it->body;
	if (r == 0)
		r = rombsr_sign_job_start(node, pass, &it->p, job);
	if (r == 0 && job->outcome != ROMBSR_SIGN_ANSWERED)
		r = rombsr_error(ROMBSR_EINTERNAL, "request %s: a server request cannot wait", it->p.id);
	if (r < 0) {
		rombsr_sign_job_abandon(job);
		node->serve_leftovers = true;
		answer_error(server, it->call, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node", rombsr_error_message(r));
		return r;
	}
	*started = true;
	return 0;
}

/* Turns a call into a started job: its client must still be a build node
 * of the trust file, its request is made and saved first. */
static int prepare(struct rombsr_sign_node *node, struct pass_context *pass, struct rombsr_server *server,
		   struct serve_item *it, struct sign_job *job, bool *started)
{
	struct rombsr_server_call *call = it->call;
	int r;

	*started = false;
	if (!rombsr_trust_has(&pass->trust, ROMBSR_ROLE_BUILD, call->client.build_node)) {
		rombsr_sign_log(LOG_NOTICE, &(struct rombsr_sign_log_fields){.outcome = "refused", .reason = "not-build-node",
									     .build_node = call->client.build_node},
				"rombsr serve: client %s speaks for %s, which is not a build node of the trust file",
				call->client.name, call->client.build_node);
		answer_error(server, call, MHD_HTTP_FORBIDDEN, "not-build-node",
			     "the clients list maps this certificate to a key that is not a build node of the trust file");
		return 0;
	}
	r = rombsr_serve_request_text(node, call, it->p.id, &it->body);
	if (r == 0)
		r = rombsr_serve_pending_save(node, call, it->p.id, &it->body);
	if (r < 0) {
		answer_error(server, call, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node", rombsr_error_message(r));
		return r;
	}
	return start(node, pass, server, it, call, job, started);
}

/* Signs the started jobs, all at once within the signers' windows, and
 * finishes each in order as its replies are in. */
static int run(struct rombsr_sign_node *node, struct rombsr_server *server, struct serve_item *items,
	       struct rombsr_server_call *const *who, struct sign_job *jobs, size_t n)
{
	size_t first = 0;
	int r = 0, failed = 0;

	while (first < n) {
		if (r == 0 && !rombsr_sign_job_done(&jobs[first])) {
			r = rombsr_sign_jobs_pump(jobs + first, n - first);
			continue;
		}
		if (r == 0)
			r = finish(node, server, &items[first], who[first], &jobs[first]);
		else
			answer_error(server, items[first].call, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node",
				     rombsr_error_message(r));
		/* One failed decision is that request's (left for recovery);
		 * a broken channel is every later one's too. */
		if (r < 0 && failed == 0)
			failed = r;
		if (jobs[first].signing && jobs[first].got < jobs[first].sent)
			rombsr_sign_job_abandon(&jobs[first]);
		rombsr_sign_job_free(&jobs[first]);
		first++;
		r = r == ROMBSR_EHSM ? 0 : r;
	}
	return failed;
}

static void items_free(struct serve_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rombsr_buf_free(&items[i].body);
	free(items);
}

static int pass_at_head(struct rombsr_sign_node *node, struct pass_context *pass)
{
	int r;

	memset(pass, 0, sizeof(*pass));
	if (!node->have_processed)
		return rombsr_error(ROMBSR_ENOTFOUND, "the sign node has not verified the queue yet");
	git_oid_cpy(&pass->head, &node->processed);
	r = rombsr_trust_at(node->repo, &pass->head, &pass->trust);
	pass->have_trust = r == 0;
	if (r == 0)
		r = rombsr_sign_freeze_state(node->repo, &pass->head, &pass->frozen, pass->frozen_why,
					     sizeof(pass->frozen_why));
	return r;
}

int rombsr_sign_serve(struct rombsr_sign_node *node, struct rombsr_server *server, struct rombsr_server_call *calls)
{
	struct pass_context pass = {0};
	struct serve_item *items = NULL;
	struct rombsr_server_call **who = NULL, *next;
	struct sign_job *jobs = NULL;
	size_t n = 0, started = 0;
	int r = node->serve_leftovers ? rombsr_sign_serve_recover(node) : 0;

	for (struct rombsr_server_call *c = calls; c != NULL; c = c->next)
		n++;
	if (r == 0)
		r = pass_at_head(node, &pass);
	if (r == 0 && ((items = calloc(n, sizeof(*items))) == NULL || (who = calloc(n, sizeof(*who))) == NULL ||
		       (jobs = calloc(n, sizeof(*jobs))) == NULL))
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (struct rombsr_server_call *c = calls; c != NULL; c = next) {
		bool ok = false;

		next = c->next; /* c is the connection's once answered */
		if (r < 0) {
			answer_error(server, c, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node", rombsr_error_message(r));
			continue;
		}
		items[started].call = who[started] = c;
		if (prepare(node, &pass, server, &items[started], &jobs[started], &ok) == 0 && ok)
			started++;
		else
			rombsr_buf_free(&items[started].body);
		rombsr_error_clear();
	}
	if (r == 0)
		r = run(node, server, items, who, jobs, started);
	if (pass.have_trust)
		rombsr_trust_free(&pass.trust);
	items_free(items, started);
	free(who);
	free(jobs);
	return r;
}
