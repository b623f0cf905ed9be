#define _GNU_SOURCE
#include "worker_internal.h"

#include "../signer/channel.h"
#include "incident_rules.h"
#include "privsep.h"
#include "signer_link.h"
#include "sign_log.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"
#include "../common/keyset.h"
#include "../queue/headfile.h"
#include "../queue/layout.h"
#include "../queue/publish.h"
#include "../queue/repo.h"
#include "../queue/stale_locks.h"
#include "../queue/request.h"
#include "../queue/response.h"
#include "../queue/trust.h"
#include "../queue/verify.h"

#include <openssl/sha.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A commit of the pass that changed the trust file or the keys; or, with
 * path set, one that added a revocation or changed the freeze record. */
struct trust_change {
	git_oid commit;
	char path[160];
};

struct pass_state {
	struct pending *list;
	size_t n, alloc;
	struct trust_change *trust;
	size_t ntrust, trust_alloc;
	struct trust_change *incidents;
	size_t nincidents, incidents_alloc;
	git_oid policy_commit;  /* the last commit of the pass that touched policy/ */
	bool policy_touched;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fault injection for the crash tests (ROMBSR_FAULT=<point>): the process
 * kills itself with SIGKILL at that point, as a power cut would. */
void rombsr_sign_fault_point(const char *point)
{
	const char *want = getenv("ROMBSR_FAULT");

	if (want != NULL && strcmp(want, point) == 0) {
		fprintf(stderr, "rombsr sign: fault injected at %s\n", point);
		fflush(stderr);
		raise(SIGKILL);
	}
}

static int processed_path(const struct rombsr_sign_node *node, char *out, size_t size)
{
	return rombsr_path_format(out, size, "%s/processed.head", node->dir);
}

int rombsr_sign_read_processed(struct rombsr_sign_node *node)
{
	char path[4096];
	int r = processed_path(node, path, sizeof(path));

	return r < 0 ? r : rombsr_head_file_read(path, &node->processed, &node->have_processed);
}

static int write_processed(struct rombsr_sign_node *node, const git_oid *commit)
{
	char path[4096];
	int r = processed_path(node, path, sizeof(path));

	if (r < 0)
		return r;
	git_oid_cpy(&node->processed, commit);
	node->have_processed = true;
	return rombsr_head_file_write(path, commit);
}


static int pending_add(struct pass_state *ps, const char *id, const git_oid *commit, const char *signer)
{
	for (size_t j = 0; j < ps->n; j++)
		if (strcmp(ps->list[j].id, id) == 0)
			return 0;
	if (ps->n == ps->alloc) {
		size_t want = ps->alloc ? ps->alloc * 2 : 64;
		struct pending *grown = realloc(ps->list, want * sizeof(*grown));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		ps->list = grown;
		ps->alloc = want;
	}
	memset(&ps->list[ps->n], 0, sizeof(ps->list[0]));
	memcpy(ps->list[ps->n].id, id, sizeof(ps->list[0].id));
	git_oid_cpy(&ps->list[ps->n].commit, commit);
	memcpy(ps->list[ps->n].signer, signer, sizeof(ps->list[0].signer));
	ps->n++;
	return 0;
}

static int note_trust_change(struct pass_state *ps, const git_oid *commit)
{
	if (ps->ntrust > 0 && git_oid_equal(&ps->trust[ps->ntrust - 1].commit, commit))
		return 0;
	if (ps->ntrust == ps->trust_alloc) {
		size_t want = ps->trust_alloc ? ps->trust_alloc * 2 : 8;
		struct trust_change *grown = realloc(ps->trust, want * sizeof(*grown));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		ps->trust = grown;
		ps->trust_alloc = want;
	}
	git_oid_cpy(&ps->trust[ps->ntrust++].commit, commit);
	return 0;
}

static int note_incident(struct pass_state *ps, const git_oid *commit, const char *path)
{
	if (ps->nincidents == ps->incidents_alloc) {
		size_t want = ps->incidents_alloc ? ps->incidents_alloc * 2 : 8;
		struct trust_change *grown = realloc(ps->incidents, want * sizeof(*grown));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		ps->incidents = grown;
		ps->incidents_alloc = want;
	}
	git_oid_cpy(&ps->incidents[ps->nincidents].commit, commit);
	return rombsr_path_format(ps->incidents[ps->nincidents++].path, sizeof(ps->incidents[0].path), "%s", path);
}

static int collect(const git_oid *commit, const struct rombsr_commit_report *report, void *ctx)
{
	struct pass_state *ps = ctx;
	int r = 0;

	for (size_t i = 0; i < report->nchanges && r == 0; i++) {
		const struct rombsr_commit_change *c = &report->changes[i];

		if (c->kind == ROMBSR_PATH_TRUST || c->kind == ROMBSR_PATH_KEY) {
			r = note_trust_change(ps, commit);
			continue;
		}
		if (c->kind == ROMBSR_PATH_FREEZE || c->kind == ROMBSR_PATH_REVOCATION) {
			r = note_incident(ps, commit, c->path);
			continue;
		}
		if (c->kind == ROMBSR_PATH_POLICY) {
			git_oid_cpy(&ps->policy_commit, commit);
			ps->policy_touched = true;
			continue;
		}
		if (c->kind == ROMBSR_PATH_RESPONSE) {
			for (size_t j = 0; j < ps->n; j++)
				if (strcmp(ps->list[j].id, c->id) == 0)
					ps->list[j].answered = true;
			continue;
		}
		if (c->kind == ROMBSR_PATH_REQUEST)
			r = pending_add(ps, c->id, commit, report->signer);
	}
	return r;
}

/* What one pass publishes: the responses, then the audit log's new part. */
struct outgoing {
	struct rombsr_repo_file *files;
	struct rombsr_buf *texts;
	char (*paths)[128];
	char (*ids)[ROMBSR_REQUEST_ID_LEN + 1];
	uint64_t *audit_index, *audit_count;
	size_t n;
	struct rombsr_audit_files audit;
	bool have_audit;
};

static void outgoing_free(struct outgoing *o)
{
	for (size_t i = 0; i < o->n; i++)
		rombsr_buf_free(&o->texts[i]);
	free(o->files);
	free(o->texts);
	free(o->paths);
	free(o->ids);
	free(o->audit_index);
	free(o->audit_count);
	if (o->have_audit)
		rombsr_audit_files_free(&o->audit);
	memset(o, 0, sizeof(*o));
}

/* Empties o for the next batch, keeping its room. */
static void outgoing_reset(struct outgoing *o)
{
	for (size_t i = 0; i < o->n; i++)
		rombsr_buf_free(&o->texts[i]);
	if (o->have_audit)
		rombsr_audit_files_free(&o->audit);
	o->have_audit = false;
	o->n = 0;
}

static int outgoing_alloc(struct outgoing *o, size_t n)
{
	/* Room for the audit chunk and checkpoint too; a pass may publish
	 * only audit entries (n == 0). */
	if (n == 0)
		n = 1;
	o->files = calloc(n + 2, sizeof(*o->files));
	o->texts = calloc(n, sizeof(*o->texts));
	o->paths = calloc(n, sizeof(*o->paths));
	o->ids = calloc(n, sizeof(*o->ids));
	o->audit_index = calloc(n, sizeof(*o->audit_index));
	o->audit_count = calloc(n, sizeof(*o->audit_count));
	if (o->files == NULL || o->texts == NULL || o->paths == NULL || o->ids == NULL || o->audit_index == NULL ||
	    o->audit_count == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	return 0;
}

/* Logs the decision saved in text (durably, before anything refers to it). */
static int log_decision(struct rombsr_sign_node *node, const struct pending *p, const struct rombsr_buf *text,
			const struct rombsr_approval_tally *tally, uint64_t *index, uint64_t *count)
{
	struct rombsr_audit_approvals approvals = {tally->required, (const char(*)[41])tally->approvers,
						   tally->napprovers};
	struct rombsr_response resp;
	struct rombsr_request req = {0};
	struct rombsr_buf body;
	char path[160];
	bool have_req = false;
	int r = rombsr_response_parse((const char *)text->data, text->len, &resp);

	if (r == 0 && resp.signed_ok) {
		r = rombsr_queue_request_path(p->id, path, sizeof(path));
		if (r == 0)
			r = rombsr_repo_read(node->repo, &p->commit, path, ROMBSR_REQUEST_MAX_BYTES, &body);
		if (r == 0) {
			r = rombsr_request_parse((const char *)body.data, body.len, &req);
			rombsr_buf_free(&body);
			have_req = r == 0;
		}
	}
	rombsr_sign_fault_point("before-log");
	if (r == 0)
		r = rombsr_audit_writer_decision(node->audit, &resp, have_req ? &req : NULL,
						 tally->required > 0 ? &approvals : NULL, NULL, index, count);
	rombsr_request_free(&req);
	rombsr_response_free(&resp);
	return r;
}

/* Once every decision of the pass is logged: one checkpoint for all, then
 * each response gets its entry index and inclusion proof. */
static int add_audit(struct rombsr_sign_node *node, struct outgoing *o, const git_oid *head)
{
	int r = rombsr_audit_writer_checkpoint(node->audit);

	for (size_t i = 0; i < o->n && r == 0; i++) {
		struct rombsr_response resp;

		r = rombsr_response_parse((const char *)o->texts[i].data, o->texts[i].len, &resp);
		if (r == 0)
			r = rombsr_audit_writer_attach(node->audit, &resp, o->audit_index[i], o->audit_count[i]);
		if (r == 0) {
			rombsr_buf_free(&o->texts[i]);
			r = rombsr_response_encode(&resp, &o->texts[i]);
		}
		rombsr_response_free(&resp);
		if (r == 0)
			o->files[i] = (struct rombsr_repo_file){o->paths[i], o->texts[i].data, o->texts[i].len};
	}
	if (r == 0)
		r = rombsr_audit_writer_files(node->audit, node->repo, head, &o->audit);
	o->have_audit = r == 0;
	return r;
}

static size_t outgoing_files(struct outgoing *o)
{
	size_t n = o->n;

	if (o->have_audit && o->audit.chunk.len > 0)
		o->files[n++] = (struct rombsr_repo_file){o->audit.chunk_path, o->audit.chunk.data, o->audit.chunk.len};
	if (o->have_audit && o->audit.checkpoint.len > 0)
		o->files[n++] = (struct rombsr_repo_file){o->audit.checkpoint_path, o->audit.checkpoint.data,
							  o->audit.checkpoint.len};
	return n;
}

/* Requests of the pass that still need a response at head. */
static int still_open(struct rombsr_sign_node *node, const git_oid *head, const struct pending *p, bool *open)
{
	char path[128];
	bool exists;
	int r = rombsr_queue_response_path(p->id, path, sizeof(path));

	if (r == 0)
		r = rombsr_repo_exists(node->repo, head, path, &exists);
	*open = r == 0 && !exists && !p->answered;
	return r;
}

/* Where the pass stands in the queue's history: tip is the commit the
 * next pass may start after. It follows this node's own commits only while
 * each is made on the one before: when another node pushed in between, the
 * commits it added are not verified yet, so tip stays and the next pass
 * verifies them (and this node's commits after them). */
struct pass_tip {
	git_oid tip;
	bool linear;
	git_oid last;       /* this pass's last commit, the likely head */
	bool have_last;
};

static int publish(struct rombsr_sign_node *node, struct outgoing *o, struct pass_tip *t)
{
	char message[128];
	git_oid commit, base;
	int r;

	snprintf(message, sizeof(message), "responses: %zu", o->n);
	rombsr_sign_fault_point("before-commit");
	r = rombsr_queue_publish(node->repo, node->gpg, node->cfg->queue_url, node->cfg->gpg_key, o->files,
				 outgoing_files(o), message, t->have_last ? &t->last : &t->tip, &commit, &base);
	if (r == 0) {
		rombsr_sign_fault_point("after-push");
		t->linear = t->linear && git_oid_equal(&base, &t->tip);
		if (t->linear)
			git_oid_cpy(&t->tip, &commit);
		git_oid_cpy(&t->last, &commit);
		t->have_last = true;
		if (o->audit.checkpoint.len > 0)
			node->counters.checkpoint_at = time(NULL);
		node->published_at = now_seconds();
		node->served_unpublished = false;
		r = rombsr_audit_writer_published(node->audit, o->audit.size);
	}
	return r;
}

/* A pass publishes what it decided every BATCH_DECISIONS decisions or
 * BATCH_SECONDS, whichever comes first: a commit of thousands of requests
 * is answered progressively, a restart in the middle redoes one batch at
 * most, and the unpublished part of the log stays small. */
#define BATCH_DECISIONS 256
/* The signing server's decisions, logged between passes, reach the queue
 * at most this long after the last publication, as a batch of queued
 * decisions does: one commit per period, not per call (each push is a
 * signed commit the queue's hook verifies, which a busy server would
 * otherwise pay for every few calls). */
#define SERVED_PUBLISH_SECONDS 10.0
#define BATCH_SECONDS 10.0

/* The batch's checkpoint, proofs and commit. */
static int flush(struct rombsr_sign_node *node, struct outgoing *o, const git_oid *head, struct pass_tip *t,
		 size_t *answered)
{
	double started = now_seconds();
	int r = add_audit(node, o, head);

	if (r == 0) {
		rombsr_sign_fault_point("after-response");
		r = publish(node, o, t);
	}
	node->stats.publish_seconds += now_seconds() - started;
	if (r == 0)
		*answered += o->n;
	for (size_t i = 0; i < o->n && r == 0; i++)
		rombsr_sign_log(LOG_INFO, &(struct rombsr_sign_log_fields){.request_id = o->ids[i], .outcome = "published"},
				"rombsr sign: request %s: published in commit %.12s (audit entry %llu)", o->ids[i],
				git_oid_tostr_s(&t->last), (unsigned long long)o->audit_index[i]);
	outgoing_reset(o);
	return r;
}

/* Audit entries for what changed the rules this pass: every commit that
 * changed the trust file or keys, then the policy, adopted or refused. */
static int apply_changes(struct rombsr_sign_node *node, const struct pass_state *ps, const git_oid *head,
			 bool *logged)
{
	struct rombsr_policy_event ev;
	char commit[GIT_OID_HEXSZ + 1];
	int r = 0;

	for (size_t i = 0; i < ps->ntrust && r == 0; i++) {
		struct rombsr_buf now, before;
		unsigned char md[32];
		char sha[65], prev[65] = "";
		git_oid parent;
		unsigned nparents = 0;

		r = rombsr_repo_read(node->repo, &ps->trust[i].commit, ROMBSR_QUEUE_TRUST, ROMBSR_TRUST_MAX_BYTES, &now);
		if (r < 0)
			break;
		SHA256(now.data, now.len, md);
		rombsr_buf_free(&now);
		rombsr_hex_encode(md, 32, sha);
		r = rombsr_repo_parents(node->repo, &ps->trust[i].commit, &nparents, &parent);
		if (r == 0 && nparents > 0) {
			r = rombsr_repo_read(node->repo, &parent, ROMBSR_QUEUE_TRUST, ROMBSR_TRUST_MAX_BYTES, &before);
			if (r == 0) {
				SHA256(before.data, before.len, md);
				rombsr_hex_encode(md, 32, prev);
			}
			rombsr_buf_free(&before);
		}
		rombsr_oid_hex(&ps->trust[i].commit, commit);
		if (r == 0)
			r = rombsr_audit_writer_change(node->audit, &(struct rombsr_audit_change){"trust", commit, sha, prev,
												  NULL, NULL});
		*logged = *logged || r == 0;
	}
	/* Each freeze, thaw and revocation the pass verified, in queue order. */
	for (size_t i = 0; i < ps->nincidents && r == 0; i++) {
		r = rombsr_sign_log_incident(node->audit, node->repo, &ps->incidents[i].commit, ps->incidents[i].path);
		*logged = *logged || r == 0;
	}
	if (r == 0)
		r = rombsr_policy_state_refresh(node->policy, node->repo, head, &ev);
	if (r < 0 || ev.change == ROMBSR_POLICY_UNCHANGED)
		return r;
	rombsr_oid_hex(ps->policy_touched ? &ps->policy_commit : head, commit);
	if (ev.change == ROMBSR_POLICY_APPLIED) {
		r = rombsr_audit_writer_change(node->audit, &(struct rombsr_audit_change){"policy", commit, ev.sha256,
											  ev.previous_sha256, NULL, NULL});
		rombsr_sign_log(LOG_NOTICE, NULL, "rombsr sign: policy %lld (commit %.12s) is in force",
				(long long)ev.serial, commit);
	} else {
		r = rombsr_audit_writer_change(node->audit, &(struct rombsr_audit_change){"policy", commit, ev.sha256,
											  ev.previous_sha256, ev.reason,
											  ev.message});
		rombsr_sign_log(LOG_WARNING, NULL, "rombsr sign: policy change in commit %.12s refused (%s): %s", commit,
				ev.reason, ev.message);
	}
	if (r == 0)
		r = rombsr_policy_state_commit(node->policy, &ev);
	*logged = *logged || r == 0;
	return r;
}

/* The pass's candidates: the waiting list first, then new requests. */
static int add_waiting(struct pass_state *ps, const struct rombsr_waiting_list *waiting)
{
	int r = 0;

	for (size_t i = 0; i < waiting->n && r == 0; i++) {
		r = pending_add(ps, waiting->items[i].id, &waiting->items[i].commit, waiting->items[i].signer);
		if (r == 0) {
			ps->list[ps->n - 1].was_waiting = true;
			ps->list[ps->n - 1].expires = waiting->items[i].expires;
			ps->list[ps->n - 1].approvals_seen = waiting->items[i].approvals_seen;
		}
	}
	return r;
}

static int by_round(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->round != y->round)
		return x->round < y->round ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Build nodes take turns: each one's first request, then each one's
 * second, and so on, in queue order within a turn. One build node's
 * commit of thousands of requests then delays another's by one batch,
 * not by the whole commit. */
static void take_turns(struct pass_state *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		size_t before = 0;

		ps->list[i].order = i;
		for (size_t j = i; j-- > 0 && before == 0;)
			if (strcmp(ps->list[j].signer, ps->list[i].signer) == 0)
				before = ps->list[j].round + 1;
		ps->list[i].round = before;
	}
	if (ps->n > 1)
		qsort(ps->list, ps->n, sizeof(*ps->list), by_round);
}

static void pass_state_free(struct pass_state *ps)
{
	free(ps->list);
	free(ps->trust);
	free(ps->incidents);
}

/* Keeps a request that must wait for approvals on the list. */
static int keep_waiting(struct rombsr_waiting_list *still, const struct pending *p)
{
	int r = rombsr_waiting_add(still, &(struct rombsr_waiting){.commit = p->commit, .expires = p->expires,
								   .approvals_seen = p->approvals_seen});

	if (r == 0) {
		memcpy(still->items[still->n - 1].id, p->id, sizeof(p->id));
		memcpy(still->items[still->n - 1].signer, p->signer, sizeof(p->signer));
	}
	return r;
}

/* Where decide_all stands: the requests looked at, the jobs between their
 * decision and their saved response (two at most), the batch to publish. */
struct deciding {
	struct pass_state *ps;
	struct pass_context *pass;
	struct rombsr_waiting_list *still;
	size_t next;            /* the next request of ps to look at */
	size_t places_held;
	struct sign_job jobs[2];
	size_t njobs;
	struct outgoing o;
};

/* Starts the next open request that gets an answer this pass; those that
 * must wait are kept on the list. */
static int start_next(struct rombsr_sign_node *node, struct deciding *d)
{
	int r = 0;

	while (r == 0 && d->next < d->ps->n) {
		struct pending *p = &d->ps->list[d->next++];
		struct sign_job *job = &d->jobs[d->njobs];
		bool open;

		/* Requests already waiting keep their place on the list; a new
		 * one may wait only if a place is left beside them. */
		if (p->was_waiting && d->places_held > 0)
			d->places_held--;
		r = still_open(node, &d->pass->head, p, &open);
		if (r < 0 || !open)
			continue;
		p->no_room_to_wait = !p->was_waiting && d->still->n + d->places_held >= node->max_waiting;
		r = rombsr_sign_job_start(node, d->pass, p, job);
		if (r == 0 && job->outcome == ROMBSR_SIGN_ANSWERED) {
			d->njobs++;
			return 0;
		}
		if (r == 0)
			r = keep_waiting(d->still, p);
		rombsr_sign_job_abandon(job);
	}
	return r;
}

/* Saves and logs the oldest job's decision, which joins the batch. */
static int finish_oldest(struct rombsr_sign_node *node, struct deciding *d)
{
	struct outgoing *o = &d->o;
	struct sign_job *job = &d->jobs[0];
	int r = rombsr_sign_job_finish(node, job, &o->texts[o->n]);

	if (r == 0)
		r = rombsr_queue_response_path(job->p->id, o->paths[o->n], sizeof(o->paths[0]));
	memcpy(o->ids[o->n], job->p->id, sizeof(o->ids[0]));
	if (r == 0)
		r = log_decision(node, job->p, &o->texts[o->n], job->tally, &o->audit_index[o->n],
				 &o->audit_count[o->n]);
	if (r == 0)
		o->n++;
	else
		rombsr_buf_free(&o->texts[o->n]);
	rombsr_sign_job_free(job);
	if (d->njobs == 2)
		memcpy(&d->jobs[0], &d->jobs[1], sizeof(d->jobs[0]));
	memset(&d->jobs[--d->njobs], 0, sizeof(d->jobs[0]));
	return r;
}

/* Decides every open request of the pass, publishing in batches. Two
 * requests are in hand at a time: the next one is decided (its ledger line
 * synced) as soon as the one before has sent all its operations, and its
 * operations fill the signer's window as the replies of the one before come
 * in; so the HSM keeps signing while the worker saves and logs. Decisions
 * are still made, saved, logged and published in the pass's order. */
static int decide_all(struct rombsr_sign_node *node, struct pass_state *ps, struct pass_context *pass,
		      struct rombsr_waiting_list *still, struct pass_tip *t, bool logged, size_t *answered)
{
	struct deciding d = {.ps = ps, .pass = pass, .still = still, .places_held = node->waiting.n};
	double started = now_seconds();
	int r = outgoing_alloc(&d.o, ps->n < BATCH_DECISIONS ? ps->n : BATCH_DECISIONS);

	/* A pass ends with every reply read (or a broken channel, which ends
	 * the node): nothing is in flight from an earlier pass. */
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
		node->signers[i].in_flight = 0;
	while (r == 0) {
		if (d.njobs < 2 && (d.njobs == 0 || rombsr_sign_job_all_sent(&d.jobs[d.njobs - 1])) && d.next < ps->n) {
			r = start_next(node, &d);
			continue;
		}
		if (d.njobs == 0)
			break;
		if (!rombsr_sign_job_done(&d.jobs[0])) {
			r = rombsr_sign_jobs_pump((struct sign_job *const[]){&d.jobs[0], &d.jobs[1]}, d.njobs);
			continue;
		}
		r = finish_oldest(node, &d);
		if (r == 0 && (d.o.n == BATCH_DECISIONS || now_seconds() - started >= BATCH_SECONDS)) {
			r = flush(node, &d.o, &pass->head, t, answered);
			logged = false;
			started = now_seconds();
		}
	}
	for (size_t i = 0; i < d.njobs; i++)
		rombsr_sign_job_abandon(&d.jobs[i]);
	/* Every signature of the pass is logged and none is in flight: the
	 * device's own entries for them are matched (device_log.c) and
	 * published with them. */
	if (r == 0 && (d.o.n > 0 || logged))
		r = rombsr_device_log_drain(node);
	if (r == 0 && (d.o.n > 0 || logged))
		r = flush(node, &d.o, &pass->head, t, answered);
	outgoing_free(&d.o);
	return r;
}

/* For the metrics: a pass that ends with nothing fetched left to verify
 * (no other node pushed in between) leaves the node caught up. */
static void count_pass(struct rombsr_sign_counters *c, int r, bool caught_up)
{
	if (r < 0) {
		c->pass_failures++;
		return;
	}
	c->passes++;
	c->last_pass_ok = time(NULL);
	if (caught_up)
		c->lag_since = 0;
}

int rombsr_sign_pass(struct rombsr_sign_node *node, size_t *answered)
{
	struct pass_state ps = {0};
	struct rombsr_waiting_list still = {0};
	struct pass_tip t = {.linear = true};
	struct pass_context pass = {0};
	git_oid head;
	bool empty, descends, changed = false, logged = false, served;
	double t0 = now_seconds(), t1, published_before = node->stats.publish_seconds;
	int r = 0;

	*answered = 0;
	r = rombsr_repo_fetch(node->repo, node->cfg->queue_url, &head, &empty);
	if (r < 0 || empty)
		goto done;
	changed = !node->have_processed || !git_oid_equal(&head, &node->processed);
	if (changed && node->counters.lag_since == 0)
		node->counters.lag_since = time(NULL);
	/* Nothing new: only a waiting request that expired needs an answer,
	 * or the signing server's decisions their publication. */
	served = node->served_unpublished && t0 - node->published_at >= SERVED_PUBLISH_SECONDS;
	if (!changed && !served && !rombsr_waiting_any_expired(&node->waiting, time(NULL)))
		goto done;
	if (changed && node->have_processed) {
		r = rombsr_repo_descends(node->repo, &head, &node->processed, &descends);
		if (r == 0 && !descends)
			r = rombsr_error(ROMBSR_ESECURITY, "history rewritten: the queue no longer contains the last commit "
							   "this sign node processed");
		if (r < 0)
			goto done;
	}
	if (!node->have_verifier) {
		r = rombsr_verifier_init(&node->verifier, node->repo, (char(*)[41])node->cfg->queue_admins,
					 node->cfg->queue_nadmins, node->have_processed ? &node->processed : NULL);
		node->have_verifier = r == 0;
	}
	if (r == 0)
		r = add_waiting(&ps, &node->waiting);
	if (r == 0 && changed)
		r = rombsr_verify_range(&node->verifier, node->have_processed ? &node->processed : NULL, &head, collect,
					&ps);
	git_oid_cpy(&pass.head, &head);
	git_oid_cpy(&t.tip, &head);
	if (r == 0)
		r = apply_changes(node, &ps, &head, &logged);
	if (r == 0)
		r = rombsr_sign_freeze_state(node->repo, &head, &pass.frozen, pass.frozen_why, sizeof(pass.frozen_why));
	if (r == 0)
		node->counters.frozen = pass.frozen;
	t1 = now_seconds();
	node->stats.verify_seconds += t1 - t0;
	if (r == 0) {
		take_turns(&ps);
		r = decide_all(node, &ps, &pass, &still, &t, logged || served, answered);
	}
	node->stats.sign_seconds += now_seconds() - t1 - (node->stats.publish_seconds - published_before);
	/* The waiting list is saved before the processed head moves past the
	 * commits that brought its requests. */
	if (r == 0)
		r = rombsr_waiting_save(node->dir, &still);
	if (r == 0) {
		rombsr_waiting_free(&node->waiting);
		node->waiting = still;
		memset(&still, 0, sizeof(still));
		r = write_processed(node, &t.tip);
	}
done:
	count_pass(&node->counters, r, t.linear);
	if (pass.have_trust)
		rombsr_trust_free(&pass.trust);
	rombsr_waiting_free(&still);
	pass_state_free(&ps);
	return r;
}

