/* One request, decided (the worker's half that judges): the hard rules
 * no policy can loosen, then the policy in force and the approvals it asks
 * for, then the signatures, made through the authority's signer. The
 * response is written to the state folder before anything refers to it. */
#define _GNU_SOURCE
#include "worker_internal.h"
#include "rollback.h"
#include "understand.h"
#include "incident_rules.h"

#include "../signer/channel.h"
#include "hard_rules.h"
#include "../signer/opcheck.h"
#include "policy.h"
#include "sign_log.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../queue/request.h"
#include "../queue/response.h"

#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void reject(struct rombsr_response *resp, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reject(struct rombsr_response *resp, const char *code, const char *fmt, ...)
{
	va_list ap;

	resp->signed_ok = false;
	snprintf(resp->reason_code, sizeof(resp->reason_code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(resp->reason_message, sizeof(resp->reason_message), fmt, ap);
	va_end(ap);
	/* A message may quote the request (a parser's error names the bytes it
	 * stopped at): only printable ASCII goes into a signed response, so no
	 * raw input byte reaches the queue or the log. */
	for (char *c = resp->reason_message; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
}

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct known_key *find_known(const struct signer_link *s, const char *label)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].label, label) == 0)
			return &s->keys[i];
	return NULL;
}

/* A build that still captures with the bundle from before a rotation asks
 * for the old key under its old label: it is told the key was rotated
 * rather than that it is unknown. */
static bool retired_as(const struct signer_link *s, const struct rombsr_cap_op *op, size_t i,
		       struct rombsr_response *resp)
{
	char base[ROMBSR_KEYSET_LABEL_MAX + 1];

	for (size_t j = 0; j < s->nkeys; j++)
		if (strcmp(s->keys[j].spki_sha256, op->spki_sha256) == 0 &&
		    rombsr_keyset_retired_base(s->keys[j].label, base) && strcmp(base, op->label) == 0) {
			reject(resp, "retired-key", "operation %zu: key '%s' with fingerprint %.16s... was rotated "
			       "(hsm-rotate-keys): it is '%s' now and signs only its lineage; capture with the new "
			       "public bundle", i, op->label, op->spki_sha256, s->keys[j].label);
			return true;
		}
	return false;
}

/* A lineage node signed by a retired key "L@<hex>" (the hard rules allow
 * no other signer) must name the certificate of the key now under L: a
 * retired key vouches for its own successor and for no other key. */
static bool lineage_successor(const struct signer_link *s, const struct rombsr_request *req, size_t i,
			      const struct rombsr_understood *u, struct rombsr_response *resp)
{
	char base[ROMBSR_KEYSET_LABEL_MAX + 1];
	const struct known_key *next;

	if (!rombsr_keyset_retired_base(req->ops[i].op.label, base)) {
		reject(resp, "lineage-signer", "operation %zu: key '%s' is not a retired key", i, req->ops[i].op.label);
		return false;
	}
	next = find_known(s, base);
	if (next == NULL || strcmp(next->spki_sha256, u->successor_spki) != 0) {
		reject(resp, "lineage-successor", "operation %zu: the lineage node names key %.16s..., not key '%s' "
		       "that replaced '%s'", i, u->successor_spki, base, req->ops[i].op.label);
		return false;
	}
	return true;
}

/* The data an operation carries, read and checked (understand.h), and a
 * vbmeta's rollback index against the node's floor (rollback.h). A floor
 * file that cannot be read rejects the request rather than guess. */
static bool understood(struct rombsr_sign_node *node, const struct rombsr_request *req, size_t i,
		       const struct known_key *k, struct rombsr_response *resp)
{
	struct rombsr_understood u;
	struct rombsr_refusal why;
	int error = 0;

	if (!rombsr_sign_understand(req, i, k->modulus_bytes, &u, &why) ||
	    (u.kind != NULL && strcmp(u.kind, "avb-vbmeta") == 0 &&
	     !rombsr_rollback_check(node->dir, req, i, u.rollback_index, u.rollback_location, &why, &error))) {
		if (error < 0)
			reject(resp, "rollback", "operation %zu: the rollback floors cannot be read: %s", i,
			       rombsr_error_message(error));
		else
			reject(resp, why.code, "%s", why.message);
		return false;
	}
	if (u.kind != NULL && strcmp(u.kind, "apk-lineage-node") == 0)
		return lineage_successor(&node->signers[req->authority], req, i, &u, resp);
	return true;
}

/* The worker's checks, before any signature is made. Returns false with
 * the rejection filled in. */
static bool acceptable(struct rombsr_sign_node *node, const struct pass_context *pass,
		       const struct rombsr_request *req, const struct pending *p, struct rombsr_response *resp, int *error)
{
	const struct signer_link *s = &node->signers[req->authority];
	struct rombsr_refusal why;
	bool revoked;

	*error = 0;
	if (!rombsr_sign_request_rules(req, p->signer, p->was_waiting, time(NULL), &why)) {
		reject(resp, why.code, "%s", why.message);
		return false;
	}
	if (s->fd < 0) {
		reject(resp, "authority-unavailable", "this sign node does not sign for the %s authority",
		       rombsr_authority_name(req->authority));
		return false;
	}
	for (size_t i = 0; i < req->nops; i++) {
		const struct rombsr_cap_op *op = &req->ops[i].op;
		const struct rombsr_keyset_entry *e = rombsr_keyset_find(op->label);
		const struct known_key *k = find_known(s, op->label);

		/* The key set's authority first, then this node's keys, then the
		 * development rule: the reason given stays the most telling one. */
		if (e != NULL && e->authority != req->authority && !rombsr_sign_operation_rules(req, i, &why)) {
			reject(resp, why.code, "%s", why.message);
			return false;
		}
		/* An admin's revocation in the queue outranks the token: the key
		 * may still be there (hsm-revoke not run yet, or run on another
		 * node's token) or already destroyed; either way the build is told
		 * it is revoked, and it is never used again. */
		*error = rombsr_sign_key_revoked(node->repo, &pass->head, op->spki_sha256, &revoked);
		if (*error < 0)
			return false;
		if (revoked) {
			reject(resp, "key-revoked", "operation %zu: key '%s' (fingerprint %.16s...) was revoked by an admin "
			       "(revocations/%s.json)", i, op->label, op->spki_sha256, op->spki_sha256);
			return false;
		}
		if ((k == NULL || strcmp(k->spki_sha256, op->spki_sha256) != 0) && retired_as(s, op, i, resp))
			return false;
		if (k == NULL || strcmp(k->spki_sha256, op->spki_sha256) != 0) {
			reject(resp, "unknown-key", "operation %zu: no key '%s' with fingerprint %.16s... here", i, op->label,
			       op->spki_sha256);
			return false;
		}
		if (!rombsr_sign_operation_rules(req, i, &why)) {
			reject(resp, why.code, "%s", why.message);
			return false;
		}
		if (rombsr_opcheck(op, k->kind, k->modulus_bytes) < 0) {
			reject(resp, "mechanism", "operation %zu: %s", i, rombsr_error_message(ROMBSR_EPERM));
			return false;
		}
		if (!understood(node, req, i, k, resp))
			return false;
	}
	return true;
}

/* How many operations may be in flight to a signer: enough to keep the
 * HSM busy while earlier signatures are made durable, few enough to fit
 * the socket's buffer. */
#define SIGN_WINDOW 32

static void fill_sign_message(struct rombsr_channel_request *m, const struct rombsr_request *req,
			      const struct rombsr_cap_op *op)
{
	memset(m, 0, sizeof(*m));
	m->magic = ROMBSR_CHANNEL_MAGIC;
	m->version = ROMBSR_CHANNEL_VERSION;
	m->op = ROMBSR_CH_SIGN;
	memcpy(m->request_id, req->id, sizeof(m->request_id));
	memcpy(m->label, op->label, sizeof(m->label));
	memcpy(m->spki_sha256, op->spki_sha256, sizeof(m->spki_sha256));
	m->mechanism = op->mech->type;
	m->pss_hash = op->pss.hash;
	m->pss_mgf = op->pss.mgf;
	m->pss_salt_len = op->pss.salt_len;
	m->tbs_len = (uint32_t)op->tbs_len;
	memcpy(m->tbs, op->tbs, op->tbs_len);
}

/* A job's operations go to its authority's signer, pipelined and shared
 * with the next job's within the window. */
static int job_send(struct sign_job *job)
{
	struct signer_link *s = job->signer;
	int r = 0;

	while (job->signing && !job->refused && job->sent < job->req.nops && s->in_flight < SIGN_WINDOW && r == 0) {
		fill_sign_message(job->msg, &job->req, &job->req.ops[job->sent].op);
		job->msg->index = (uint32_t)job->sent;
		r = rombsr_channel_send(s->fd, job->msg, sizeof(*job->msg));
		job->sent++;
		s->in_flight++;
	}
	return r;
}

bool rombsr_sign_job_all_sent(const struct sign_job *job)
{
	return !job->signing || job->refused || job->sent == job->req.nops;
}

bool rombsr_sign_job_done(const struct sign_job *job)
{
	return rombsr_sign_job_all_sent(job) && job->got == job->sent;
}

/* The signature in the job's reply, for operation i. Until a refusal the
 * signatures are those of operations 0, 1, ... in order; after one, those
 * made anyway follow. */
static void keep_signature(struct sign_job *job, size_t i)
{
	struct rombsr_response_sig *s = &job->resp.sigs[job->resp.nsigs++];

	s->op = job->req.ops[i].op;
	memcpy(s->sig, job->reply->sig, job->reply->sig_len);
	s->sig_len = job->reply->sig_len;
}

/* One reply, the job's next. A refusal by the signer becomes a rejection;
 * an HSM failure fails the pass (the request stays decided and is signed
 * again, from the signing cache, by the next pass). Replies still in flight
 * are read even after a refusal, so the channel stays in step. */
static int job_recv(struct sign_job *job)
{
	struct rombsr_channel_reply *reply = job->reply;
	struct rombsr_response *resp = &job->resp;
	size_t got = job->got;
	int r = rombsr_channel_recv(job->signer->fd, reply, sizeof(*reply));

	if (r == 0 && reply->magic != ROMBSR_CHANNEL_MAGIC)
		r = rombsr_error(ROMBSR_EINVAL, "signer channel: bad reply");
	if (r < 0)
		return r;
	job->signer->in_flight--;
	job->got++;
	reply->message[sizeof(reply->message) - 1] = '\0';
	/* Anything but a refusal is the HSM's failure (the metrics count them). */
	if (reply->status != 0 && reply->status != ROMBSR_EPERM)
		job->signer->hsm_errors++;
	/* A signer signs on several sessions at once (docs/sign-node.md,
	 * "Concurrent signing"): a later operation may have been signed while
	 * it gave up on operation 0. That signature must be published and
	 * logged, so the rejection is not: the pass fails and a later one
	 * answers it from the signing cache. One from the cache counts too: it
	 * may have been made for this request by an earlier, failed pass. */
	if (job->refused && job->hsm_rejected && reply->status == 0 && reply->sig_len > 0 && job->failed == 0)
		job->failed = rombsr_error(ROMBSR_EHSM, "request %s operation %zu was signed while operation 0 found the HSM "
					   "unavailable: it is signed again by a later pass", job->req.id, got);
	if (job->refused) {
		/* A refusal does not unmake what another session signed for the
		 * request meanwhile: kept, to be logged with the rejection and
		 * never handed out. */
		if (!job->hsm_rejected && reply->status == 0 && reply->sig_len > 0 && reply->sig_len <= sizeof(reply->sig))
			keep_signature(job, got);
		return 0;
	}
	if (reply->status == ROMBSR_EPERM) {
		reject(resp, "refused", "operation %zu: %s", got, reply->message);
		job->refused = true;
	} else if (reply->status != 0 && reply->hsm_unavailable && got == 0) {
		/* The HSM outlasted the signer's retry bound before any
		 * operation of the request was signed: a signed rejection, and
		 * the node goes on. Once one was signed, that signature must be
		 * published: the pass fails and the request is tried again,
		 * its signed operations answered from the signing cache
		 * (docs/sign-node.md, "HSM faults"). */
		reject(resp, "hsm-unavailable", "operation %zu: %s", got, reply->message);
		job->refused = true;
		job->hsm_rejected = true;
	} else if (reply->status != 0 || reply->sig_len == 0 || reply->sig_len > sizeof(reply->sig)) {
		/* The pass fails, but only once the replies in flight are read:
		 * the daemon's next pass must find the channel in step, not
		 * take a stale reply for another operation's signature. */
		job->failed = rombsr_error(ROMBSR_EHSM, "request %s operation %zu: %s", job->req.id, got, reply->message);
		job->refused = true;
	} else {
		keep_signature(job, got);
		if (got == 0)
			rombsr_sign_fault_point("mid-sign");
	}
	return 0;
}

int rombsr_sign_jobs_pump(struct sign_job *const *jobs, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++)
		r = job_send(jobs[i]);
	if (r == 0 && jobs[0]->signing && jobs[0]->got < jobs[0]->sent)
		r = job_recv(jobs[0]);
	return r;
}

/* Starts signing what was decided. */
static int job_begin(struct sign_job *job, struct signer_link *s)
{
	job->signer = s;
	job->msg = calloc(1, sizeof(*job->msg));
	job->reply = calloc(1, sizeof(*job->reply));
	job->resp.sigs = calloc(job->req.nops, sizeof(*job->resp.sigs));
	if (job->msg == NULL || job->reply == NULL || job->resp.sigs == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	job->signing = true;
	/* Sent by the pump: a caller that decides several requests together
	 * makes their ledger lines durable first. */
	return 0;
}

void rombsr_sign_job_abandon(struct sign_job *job)
{
	job->refused = true;
	while (job->signing && job->got < job->sent && job_recv(job) == 0)
		;
	rombsr_sign_job_free(job);
}

void rombsr_sign_job_free(struct sign_job *job)
{
	free(job->tally);
	free(job->msg);
	free(job->reply);
	rombsr_request_free(&job->req);
	rombsr_response_free(&job->resp);
	rombsr_buf_free(&job->text);
	memset(job, 0, sizeof(*job));
}

static int local_response_path(struct rombsr_sign_node *node, const char *id, char *out, size_t size)
{
	if ((size_t)snprintf(out, size, "%s/responses/%s.json", node->dir, id) >= size)
		return rombsr_error(ROMBSR_EINTERNAL, "path too long");
	return 0;
}

/* The policy's word on req once the hard rules have passed, and the
 * approvals it asks for. A refusal fills resp and clears *allowed. */
static int check_policy(struct rombsr_sign_node *node, struct pass_context *pass, const struct pending *p, const struct rombsr_request *req,
			const unsigned char body_sha256[32], struct rombsr_response *resp,
			struct rombsr_approval_tally *tally, bool *allowed)
{
	struct rombsr_policy_verdict *v = calloc(1, sizeof(*v));
	const struct rombsr_policy *policy = rombsr_policy_state_current(node->policy);
	int r = v ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	*allowed = false;
	if (r == 0)
		r = rombsr_policy_evaluate(policy, req, time(NULL), node->ledger, v);
	if (r == 0 && !v->allowed)
		reject(resp, v->code, "%s", v->message);
	if (r == 0 && v->allowed && v->nneeds > 0 && !pass->have_trust) {
		r = rombsr_trust_at(node->repo, &pass->head, &pass->trust);
		pass->have_trust = r == 0;
	}
	if (r == 0 && v->allowed) {
		struct rombsr_tally_input in = {node->repo, &pass->head, &pass->trust, node->verifier.keyring,
						policy, v, p->id, body_sha256, req->build_node};

		r = rombsr_approval_tally(&in, tally);
		*allowed = r == 0;
	}
	free(v);
	return r;
}

/* The distinct key labels of req's operations, comma-separated, for the
 * journal's KEY field; a list too long for out ends in ",...". */
static void request_keys(const struct rombsr_request *req, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < req->nops; i++) {
		const char *label = req->ops[i].op.label, *at = out;
		size_t n = strlen(label);
		bool seen = false;

		/* Looked up in the list so far, which is short (out's size). */
		while (!seen && (at = strstr(at, label)) != NULL) {
			seen = (at == out || at[-1] == ',') && (at[n] == ',' || at[n] == '\0');
			at += n;
		}
		if (seen)
			continue;
		if (len + n + 5 >= size) {
			snprintf(out + len, size - len, "%s...", len ? "," : "");
			return;
		}
		len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "," : "", label);
	}
}

/* Said when a request starts waiting, and again only when its count of
 * approvals changes: a long waiting list is not repeated every pass. */
static void print_waiting(struct pending *p, const struct rombsr_request *req, const struct rombsr_approval_tally *t)
{
	char groups[1024] = "", keys[1024];
	unsigned have = 0;
	size_t len = 0;

	for (size_t i = 0; i < t->ngroups; i++)
		have += t->groups[i].have;
	if (p->was_waiting && p->approvals_seen == have)
		return;
	p->approvals_seen = have;
	/* Shown to a person: a list longer than groups is cut. */
	for (size_t i = 0; i < t->ngroups && len < sizeof(groups); i++)
		len += (size_t)snprintf(groups + len, sizeof(groups) - len, "%s %s %u of %u", i ? "," : "",
					t->groups[i].group, t->groups[i].have, t->groups[i].required);
	request_keys(req, keys, sizeof(keys));
	rombsr_sign_log(LOG_INFO, &(struct rombsr_sign_log_fields){p->id, keys, "waiting", NULL, req->build_node},
			"rombsr sign: request %s: waiting for approvals:%s", p->id, groups);
}

/* The request's bytes. A file that cannot be a request (not a regular
 * file, larger than any request may be) is the request's fault, answered
 * with a rejection (*unreadable); only a failure of the node is an error. */
static int read_request(struct rombsr_sign_node *node, const struct pending *p, struct rombsr_buf *body,
			int *unreadable)
{
	char path[160];
	int r = rombsr_queue_request_path(p->id, path, sizeof(path));

	*unreadable = 0;
	if (r == 0 && p->body != NULL) {
		rombsr_buf_init(body, ROMBSR_REQUEST_MAX_BYTES);
		rombsr_buf_append(body, p->body->data, p->body->len);
		return rombsr_buf_check(body, "the request");
	}
	if (r == 0)
		r = rombsr_repo_read(node->repo, &p->commit, path, ROMBSR_REQUEST_MAX_BYTES, body);
	if (r == ROMBSR_EINVAL || r == ROMBSR_ENOTFOUND) {
		*unreadable = r; /* its message is the rejection's */
		rombsr_buf_init(body, 1);
		return 0;
	}
	return r;
}

/* Signs what was decided: the request recorded in the quota ledger before
 * the first signature, then every operation. The record, synced before
 * the HSM is asked anything, is the decision: a crash mid-way gives no
 * operation back to the quota, and a restart signs the request as decided
 * then (with the signatures the cache kept), never judges it again. So
 * every signature the HSM made for it ends up in a response and in the
 * audit log, even if the request has expired or the policy changed
 * meanwhile. */
static int sign_decided(struct rombsr_sign_node *node, struct sign_job *job)
{
	int r = rombsr_rollback_raise(node->dir, &job->req);

	if (r == 0)
		r = rombsr_quota_ledger_record(node->ledger, &job->req, job->resp.time);
	job->resp.signed_ok = r == 0;
	job->decided_at = monotonic_seconds();
	return r < 0 ? r : job_begin(job, &node->signers[job->req.authority]);
}

/* The request's bytes, parsed into job->req; *parsed is the parser's
 * verdict (or the reason the file cannot be a request). */
static int read_and_parse(struct rombsr_sign_node *node, struct sign_job *job, unsigned char body_sha256[32],
			  int *unreadable, int *parsed)
{
	struct rombsr_buf body;
	int r = read_request(node, job->p, &body, unreadable);

	*parsed = ROMBSR_EINVAL;
	if (r < 0)
		return r;
	SHA256(body.data, body.len, body_sha256);
	if (!*unreadable)
		*parsed = rombsr_request_parse((const char *)body.data, body.len, &job->req);
	rombsr_buf_free(&body);
	if (*parsed == 0)
		job->p->expires = job->req.expires;
	return 0;
}

/* Decides one request. A response already saved (an earlier run crashed
 * before publishing it) is kept as it is: one request, one response,
 * whatever happens; the approvals it was signed with are counted again for
 * the audit log, and so are those of a request recorded in the ledger
 * without a response, which is signed as decided then. */
int rombsr_sign_job_start(struct rombsr_sign_node *node, struct pass_context *pass, struct pending *p,
			  struct sign_job *job)
{
	struct rombsr_response *resp = &job->resp;
	struct rombsr_request *req = &job->req;
	unsigned char body_sha256[32];
	bool have_intent, allowed = false;
	int unreadable = 0, parsed = ROMBSR_EINVAL;
	time_t decided_at = 0;
	int r;

	memset(job, 0, sizeof(*job));
	job->p = p;
	job->outcome = ROMBSR_SIGN_ANSWERED;
	job->tally = calloc(1, sizeof(*job->tally));
	if (job->tally == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = local_response_path(node, p->id, job->local, sizeof(job->local));
	if (r < 0)
		return r;
	r = rombsr_file_read(job->local, ROMBSR_RESPONSE_MAX_BYTES, &job->text);
	if (r != 0 && r != ROMBSR_ENOTFOUND)
		return r;
	job->have_local = r == 0;
	have_intent = !job->have_local && rombsr_quota_ledger_recorded(node->ledger, p->id, &decided_at);
	r = read_and_parse(node, job, body_sha256, &unreadable, &parsed);
	if (r < 0)
		return r;
	memcpy(resp->request_id, p->id, sizeof(resp->request_id));
	rombsr_oid_hex(&p->commit, resp->request_commit);
	snprintf(resp->sign_node, sizeof(resp->sign_node), "%s", node->cfg->gpg_key);
	resp->time = have_intent ? decided_at : time(NULL);
	if (job->have_local || have_intent) {
		/* The decision stands; only the approvals it was made with are
		 * counted again, for the audit log. */
		if (parsed == 0 && strcmp(req->id, p->id) == 0)
			r = check_policy(node, pass, p, req, body_sha256, resp, job->tally, &allowed);
		if (r == 0 && have_intent && parsed == 0 && strcmp(req->id, p->id) == 0) {
			resp->signed_ok = true;
			resp->reason_code[0] = resp->reason_message[0] = '\0';
			return sign_decided(node, job);
		}
		if (r == 0 && have_intent)
			r = rombsr_error(ROMBSR_EINTERNAL, "request %s was decided for signing but no longer reads as it did",
					 p->id);
		return r;
	}
	/* Frozen outranks everything, even a malformed request: while an
	 * incident is handled, the node answers every request the same way. */
	if (pass->frozen)
		reject(resp, "frozen", "%s", pass->frozen_why);
	else if (unreadable)
		reject(resp, "malformed", "%s", rombsr_error_message(unreadable));
	else if (parsed < 0)
		reject(resp, "malformed", "%s", rombsr_error_message(parsed));
	else if (strcmp(req->id, p->id) != 0)
		reject(resp, "malformed", "the request's id is not the one its path names");
	else if (acceptable(node, pass, req, p, resp, &r))
		r = check_policy(node, pass, p, req, body_sha256, resp, job->tally, &allowed);
	if (r == 0 && allowed && !job->tally->satisfied && p->body != NULL) {
		reject(resp, "approvals-required", "the policy asks for operator approvals, which a request to the "
		       "signing server cannot wait for: submit it through the queue");
		allowed = false;
	} else if (r == 0 && allowed && !job->tally->satisfied && p->no_room_to_wait) {
		reject(resp, "approvals-backlog", "%zu requests are already waiting for approvals; submit again later",
		       node->max_waiting);
		allowed = false;
	} else if (r == 0 && allowed && !job->tally->satisfied) {
		print_waiting(p, req, job->tally);
		job->outcome = ROMBSR_SIGN_WAITING;
		return 0;
	}
	return r == 0 && allowed ? sign_decided(node, job) : r;
}

/* The decision, said once it is saved: what `journalctl REQUEST_ID=`
 * shows of it. A request that did not parse has no keys; its build node
 * is then the key that committed it. */
static void log_decision_line(const struct sign_job *job)
{
	const struct rombsr_response *resp = &job->resp;
	char keys[1024];

	request_keys(&job->req, keys, sizeof(keys));
	rombsr_sign_log(resp->signed_ok ? LOG_INFO : LOG_NOTICE,
			&(struct rombsr_sign_log_fields){job->p->id, keys, resp->signed_ok ? "signed" : "rejected",
							 resp->signed_ok ? NULL : resp->reason_code,
							 job->req.build_node[0] ? job->req.build_node : job->p->signer},
			"rombsr sign: request %s: %s%s", job->p->id, resp->signed_ok ? "signed" : "rejected: ",
			resp->signed_ok ? "" : resp->reason_code);
}

/* Saves the decision to the state folder before anything refers to it. */
int rombsr_sign_job_finish(struct rombsr_sign_node *node, struct sign_job *job, struct rombsr_buf *text)
{
	struct rombsr_response *resp = &job->resp;
	int r = job->failed;

	if (job->have_local) {
		*text = job->text;
		memset(&job->text, 0, sizeof(job->text));
		return 0;
	}
	if (job->signing && job->refused) {
		/* Signatures the HSM made before or beside the refusal are in the
		 * signing cache: they go into the audit log, durably, before the
		 * rejection is saved (docs/audit-log.md, "signature"). */
		if (r == 0 && resp->nsigs > 0)
			r = rombsr_audit_writer_unused(node->audit, resp, &job->req);
		free(resp->sigs);
		resp->sigs = NULL;
		resp->nsigs = 0;
	}
	if (r == 0 && job->signing && resp->signed_ok)
		node->stats.operations += job->req.nops;
	rombsr_sign_fault_point("after-sign");
	/* A server request is recovered from its own record (serve.h), and
	 * its response never goes to the queue: it is answered from resp. */
	if (r == 0 && job->p->body != NULL)
		rombsr_buf_init(text, 1);
	else if (r == 0)
		r = rombsr_response_encode(resp, text);
	if (r == 0 && job->p->body == NULL)
		r = rombsr_file_write_atomic(job->local, text->data, text->len, 0600, false);
	if (r == 0) {
		if (resp->signed_ok)
			node->stats.requests_signed++;
		else
			node->stats.requests_rejected++;
		rombsr_sign_counters_request(&node->counters, resp->signed_ok ? "signed" : "rejected",
					     resp->signed_ok ? "none" : resp->reason_code);
		if (resp->signed_ok && job->signing)
			rombsr_sign_counters_latency(&node->counters, monotonic_seconds() - job->decided_at);
		log_decision_line(job);
	}
	if (r < 0)
		rombsr_buf_free(text);
	return r;
}
