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

/* One call between its decision and its answer, in the order taken. */
struct serve_item {
	struct rombsr_server_call *call;
	struct rombsr_buf body;
	struct pending p;
	struct sign_job job;
	uint64_t audit_index, audit_count; /* its decision, once logged */
	struct serve_item *next;
};

/* While calls keep coming, the node takes new ones for this long, then
 * finishes those in hand and returns, so the queue's passes still run. */
#define SERVE_SLICE_SECONDS 1.0
/* Calls in hand at once: enough to keep every signer session busy while
 * the main thread saves and logs; the signers' windows bound what is in
 * flight anyway. */
#define SERVE_IN_HAND 64
/* Group commit (step(), rombsr_sign_serve()): done calls are logged
 * together once FINISH_TOGETHER are done or the oldest has waited
 * FINISH_WAIT_SECONDS; new calls are taken every TAKE_EVERY_SECONDS
 * unless fewer than TAKE_AT_ONCE_BELOW are in hand. A few milliseconds
 * of latency for one sync per several calls instead of three per call. */
#define FINISH_TOGETHER 4
#define FINISH_WAIT_SECONDS 0.005
#define TAKE_EVERY_SECONDS 0.01
#define TAKE_AT_ONCE_BELOW 4

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

	if (o != NULL && resp->signed_ok && call->nops > 0) {
		json_object_set_new(o, "key", json_string(call->in.key));
		json_object_set_new(o, "operations", json_integer((json_int_t)resp->nsigs));
	} else if (o != NULL && resp->signed_ok && resp->nsigs == 1) {
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
	if (text != NULL && resp->signed_ok && call->nops > 0 && (call->sigs = calloc(resp->nsigs, sizeof(*call->sigs))) == NULL) {
		free(text);
		text = NULL;
	}
	for (size_t i = 0; text != NULL && resp->signed_ok && call->nops > 0 && i < resp->nsigs; i++) {
		call->sigs[i].op = resp->sigs[i].op;
		memcpy(call->sigs[i].sig, resp->sigs[i].sig, resp->sigs[i].sig_len);
		call->sigs[i].sig_len = resp->sigs[i].sig_len;
		call->nsigs = i + 1;
	}
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
	node->served_unpublished = true;
	return rombsr_audit_writer_decision(node->audit, &job->resp, job->resp.signed_ok ? &job->req : NULL,
					    job->tally->required > 0 ? &approvals : NULL, &client, index, count);
}

/* Logs a done job's decision (durable once the audit log is synced):
 * its audit position goes into the item for the answer. A failure is
 * answered at once and left to the recovery. */
static int finish(struct rombsr_sign_node *node, struct rombsr_server *server, struct serve_item *it)
{
	struct rombsr_buf text;
	int r = rombsr_sign_job_finish(node, &it->job, &text);

	if (r == 0) {
		rombsr_buf_free(&text);
		r = log_decision(node, it, it->call, &it->job, &it->audit_index, &it->audit_count);
	}
	if (r < 0) {
		/* Left for rombsr_sign_serve_recover(): a signature made is
		 * logged by it, whatever the client was told. */
		node->serve_leftovers = true;
		answer_error(server, it->call, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node", rombsr_error_message(r));
		it->call = NULL;
	}
	return r;
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

/* Turns a call into a request recorded in server.pending (not durable
 * yet): its client must still be a build node of the trust file. */
static int record(struct rombsr_sign_node *node, struct pass_context *pass, struct rombsr_server *server,
		  struct serve_item *it, bool *recorded)
{
	struct rombsr_server_call *call = it->call;
	int r;

	*recorded = false;
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
		r = rombsr_serve_pending_add(node, call, it->p.id, &it->body);
	if (r < 0) {
		answer_error(server, call, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node", rombsr_error_message(r));
		return r;
	}
	*recorded = true;
	return 0;
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

struct serving {
	struct rombsr_sign_node *node;
	struct rombsr_server *server;
	struct pass_context pass;
	struct serve_item *head, *tail; /* started, oldest first */
	size_t n;
	double head_done_at;            /* when the oldest call's replies were all in; 0: not yet */
	double took_at;                 /* when calls were last taken */
	int failed;                     /* the node cannot go on: answer the rest so */
};

static void item_free(struct serve_item *it)
{
	if (it->job.signing && it->job.got < it->job.sent)
		rombsr_sign_job_abandon(&it->job);
	rombsr_sign_job_free(&it->job);
	rombsr_buf_free(&it->body);
	free(it);
}

/* Starts the calls taken (a list), each after the ones in hand: all are
 * recorded, made durable by one sync, then decided in order (each
 * decision, its quota ledger line, synced before its first operation). */
static void take_calls(struct serving *sv, struct rombsr_server_call *calls)
{
	struct serve_item *first = NULL, **last = &first;
	struct rombsr_server_call *next;
	int r;

	for (struct rombsr_server_call *c = calls; c != NULL; c = next) {
		struct serve_item *it = sv->failed == 0 ? calloc(1, sizeof(*it)) : NULL;
		bool recorded = false;

		next = c->next; /* c is the connection's once answered */
		if (it == NULL) {
			answer_error(sv->server, c, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node",
				     sv->failed < 0 ? rombsr_error_message(sv->failed) : "out of memory");
			continue;
		}
		it->call = c;
		if (record(sv->node, &sv->pass, sv->server, it, &recorded) < 0 || !recorded) {
			rombsr_error_clear();
			item_free(it);
			continue;
		}
		*last = it;
		last = &it->next;
	}
	r = first != NULL ? rombsr_serve_pending_sync(sv->node) : 0;
	/* Their ledger lines (the decisions) are synced together, below,
	 * before the pump sends a first operation of any of them. */
	rombsr_quota_ledger_defer_sync(sv->node->ledger, true);
	for (struct serve_item *it = first, *after; it != NULL; it = after) {
		bool started = false;

		after = it->next;
		it->next = NULL;
		if (r < 0)
			answer_error(sv->server, it->call, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node", rombsr_error_message(r));
		if (r < 0 || start(sv->node, &sv->pass, sv->server, it, it->call, &it->job, &started) < 0 || !started) {
			rombsr_error_clear();
			item_free(it);
			continue;
		}
		if (sv->tail != NULL)
			sv->tail->next = it;
		else
			sv->head = it;
		sv->tail = it;
		sv->n++;
	}
	rombsr_quota_ledger_defer_sync(sv->node->ledger, false);
	r = rombsr_quota_ledger_sync(sv->node->ledger);
	/* Decided but not durably: nothing was sent; the node stops serving
	 * (sv->failed), and what was decided is signed by the recovery. */
	if (r < 0) {
		sv->failed = r;
		sv->node->serve_leftovers = true;
	}
}

static double monotonic(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pop(struct serving *sv)
{
	struct serve_item *it = sv->head;

	sv->head = it->next;
	if (sv->head == NULL)
		sv->tail = NULL;
	sv->n--;
	item_free(it);
}

/* The done calls at the head, logged together: one sync of the audit log,
 * then each answered with its place in it. */
static int finish_done(struct serving *sv)
{
	struct serve_item *it;
	size_t n = 0;
	int r = 0;

	rombsr_audit_writer_defer_sync(sv->node->audit, true);
	for (it = sv->head; it != NULL && rombsr_sign_job_done(&it->job) && r == 0; it = it->next, n++) {
		r = finish(sv->node, sv->server, it);
		/* An HSM failure is that request's (left for recovery). */
		if (r == ROMBSR_EHSM)
			r = 0;
	}
	rombsr_audit_writer_defer_sync(sv->node->audit, false);
	if (r == 0)
		r = rombsr_audit_writer_sync(sv->node->audit);
	while (n-- > 0) {
		it = sv->head;
		if (r < 0 && it->call != NULL) {
			sv->node->serve_leftovers = true;
			answer_error(sv->server, it->call, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node", rombsr_error_message(r));
		} else if (it->call != NULL) {
			answer_decision(sv->server, it->call, &it->job, it->audit_index, it->audit_count);
		}
		pop(sv);
	}
	return r;
}

/* One step: the done calls at the head finished, else the signers given
 * what their windows allow and one reply read. */
static int step(struct serving *sv)
{
	struct sign_job *jobs[SERVE_IN_HAND];
	struct serve_item *first = sv->head;
	size_t n = 0, done = 0;
	double now = monotonic();
	int r;

	/* Group commit: the done calls wait a little for the next ones, so
	 * one sync of the audit log covers several (each sync is I/O the
	 * HSM's CPU pays for on a virtual machine), unless nothing else is
	 * signing. */
	while (first != NULL && rombsr_sign_job_done(&first->job)) {
		first = first->next;
		done++;
	}
	if (done > 0 && sv->head_done_at == 0)
		sv->head_done_at = now;
	if (done > 0 && (first == NULL || done >= FINISH_TOGETHER || now - sv->head_done_at >= FINISH_WAIT_SECONDS)) {
		sv->head_done_at = 0;
		return finish_done(sv);
	}
	for (struct serve_item *x = first; x != NULL && n < SERVE_IN_HAND; x = x->next)
		jobs[n++] = &x->job;
	r = rombsr_sign_jobs_pump(jobs, n);
	if (r < 0) {
		/* A broken channel: every call in hand fails with it. */
		answer_error(sv->server, sv->head->call, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node", rombsr_error_message(r));
		pop(sv);
	}
	return r;
}


/* Calls are decided in the order they came and answered as soon as their
 * own signatures are in; new ones are taken while earlier ones sign, so
 * the HSM does not wait for the main thread's files. */
int rombsr_sign_serve(struct rombsr_sign_node *node, struct rombsr_server *server, struct rombsr_server_call *calls)
{
	struct serving sv = {.node = node, .server = server};
	double until = monotonic() + SERVE_SLICE_SECONDS;
	int r = node->serve_leftovers ? rombsr_sign_serve_recover(node) : 0;

	if (r == 0)
		r = pass_at_head(node, &sv.pass);
	sv.failed = r;
	take_calls(&sv, calls);
	while (sv.head != NULL) {
		/* Taken together every few milliseconds (their records and
		 * decisions share a sync), at once when few are signing. */
		if (sv.failed == 0 && sv.n < SERVE_IN_HAND && monotonic() < until &&
		    (sv.n < TAKE_AT_ONCE_BELOW || monotonic() - sv.took_at >= TAKE_EVERY_SECONDS) &&
		    (calls = rombsr_server_take(server, 0)) != NULL) {
			take_calls(&sv, calls);
			sv.took_at = monotonic();
		}
		if (sv.failed == 0 && (r = step(&sv)) < 0)
			sv.failed = r;
		/* The calls in hand were decided: the recovery finishes them. */
		while (sv.failed < 0 && sv.head != NULL) {
			struct serve_item *it = sv.head;

			answer_error(server, it->call, MHD_HTTP_SERVICE_UNAVAILABLE, "sign-node",
				     rombsr_error_message(sv.failed));
			node->serve_leftovers = true;
			sv.head = it->next;
			item_free(it);
		}
	}
	/* Every call in hand is logged (or left to recover): the records go,
	 * before a pass can publish what they name. */
	rombsr_sign_fault_point("server-before-clear");
	if (!node->serve_leftovers && (r = rombsr_serve_pending_clear(node)) < 0 && sv.failed == 0)
		sv.failed = r;
	/* Every signature made so far is logged: the device's own entries
	 * for them can be matched (device_log.c). */
	if (sv.failed == 0 && !node->serve_leftovers && (r = rombsr_device_log_drain(node)) < 0)
		sv.failed = r;
	if (sv.pass.have_trust)
		rombsr_trust_free(&sv.pass.trust);
	return sv.failed;
}
