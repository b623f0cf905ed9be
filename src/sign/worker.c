#define _GNU_SOURCE
#include "worker.h"

#include "audit_writer.h"
#include "channel.h"
#include "opcheck.h"
#include "signer.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/keyset.h"
#include "../hsm/provision.h"
#include "../queue/headfile.h"
#include "../queue/layout.h"
#include "../queue/publish.h"
#include "../queue/repo.h"
#include "../queue/request.h"
#include "../queue/response.h"
#include "../queue/verify.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIGNER_KEYS 32
#define CLOCK_SKEW 300

struct known_key {
	char label[65];
	char spki_sha256[65];
	enum rombsr_key_kind kind;
	size_t modulus_bytes;
};

struct signer_link {
	int fd;
	pid_t pid;
	struct known_key keys[MAX_SIGNER_KEYS];
	size_t nkeys;
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
	struct rombsr_sign_stats stats;
};

/* A request found in new commits, with the commit that carried it. */
struct pending {
	char id[ROMBSR_REQUEST_ID_LEN + 1];
	git_oid commit;
	char signer[41];
	bool answered;
};

struct pass_state {
	struct pending *list;
	size_t n, alloc;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fault injection for the crash tests (ROMBSR_FAULT=<point>): the process
 * kills itself with SIGKILL at that point, as a power cut would. */
static void fault_point(const char *point)
{
	const char *want = getenv("ROMBSR_FAULT");

	if (want != NULL && strcmp(want, point) == 0) {
		fprintf(stderr, "rombsr sign: fault injected at %s\n", point);
		fflush(stderr);
		raise(SIGKILL);
	}
}

static int ask(struct signer_link *s, const struct rombsr_channel_request *m, struct rombsr_channel_reply *reply)
{
	return rombsr_channel_call(s->fd, m, reply);
}

static int learn_keys(struct signer_link *s)
{
	struct rombsr_channel_request *m = calloc(1, sizeof(*m));
	struct rombsr_channel_reply *reply = calloc(1, sizeof(*reply));
	int r = m && reply ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	for (uint32_t i = 0; r == 0 && i < MAX_SIGNER_KEYS; i++) {
		*m = (struct rombsr_channel_request){.magic = ROMBSR_CHANNEL_MAGIC, .version = ROMBSR_CHANNEL_VERSION,
						    .op = ROMBSR_CH_KEYS, .index = i};
		r = ask(s, m, reply);
		if (r < 0 || reply->status != 0)
			break;
		reply->label[sizeof(reply->label) - 1] = '\0';
		reply->spki_sha256[sizeof(reply->spki_sha256) - 1] = '\0';
		memcpy(s->keys[i].label, reply->label, sizeof(reply->label));
		memcpy(s->keys[i].spki_sha256, reply->spki_sha256, sizeof(reply->spki_sha256));
		s->keys[i].kind = (enum rombsr_key_kind)reply->key_kind;
		s->keys[i].modulus_bytes = reply->modulus_bytes;
		s->nkeys = i + 1;
		if (!reply->more)
			break;
	}
	free(m);
	free(reply);
	return r;
}

static void processed_path(const struct rombsr_sign_node *node, char *out, size_t size)
{
	snprintf(out, size, "%s/processed.head", node->dir);
}

static int read_processed(struct rombsr_sign_node *node)
{
	char path[4096];

	processed_path(node, path, sizeof(path));
	return rombsr_head_file_read(path, &node->processed, &node->have_processed);
}

static int write_processed(struct rombsr_sign_node *node, const git_oid *commit)
{
	char path[4096];

	processed_path(node, path, sizeof(path));
	git_oid_cpy(&node->processed, commit);
	node->have_processed = true;
	return rombsr_head_file_write(path, commit);
}

/* The keys the signers found in their tokens, against the key events of
 * the log: keys generated since the last start (rombsr keygen runs outside
 * the sign node) and keys gone from a token are logged here, before the
 * node signs anything with the key set it now has. */
static int log_key_set(struct rombsr_sign_node *node)
{
	struct rombsr_audit_key keys[ROMBSR_AUTHORITY_COUNT * MAX_SIGNER_KEYS];
	char algorithms[ROMBSR_AUTHORITY_COUNT * MAX_SIGNER_KEYS][16];
	const char *tokens[ROMBSR_AUTHORITY_COUNT];
	size_t ntokens = 0, nkeys = 0, added;
	int r;

	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++) {
		const struct signer_link *s = &node->signers[i];

		if (s->fd < 0)
			continue;
		tokens[ntokens++] = node->cfg->authority[i].token_uri;
		for (size_t k = 0; k < s->nkeys; k++, nkeys++) {
			rombsr_key_algorithm_name(s->keys[k].kind, (unsigned)s->keys[k].modulus_bytes * 8, algorithms[nkeys]);
			keys[nkeys] = (struct rombsr_audit_key){node->cfg->authority[i].token_uri, s->keys[k].label,
								s->keys[k].spki_sha256, algorithms[nkeys]};
		}
	}
	r = rombsr_audit_writer_keys(node->audit, tokens, ntokens, keys, nkeys, &added);
	if (r == 0 && added > 0)
		fprintf(stderr, "rombsr sign: %zu key event%s logged (keys generated or gone since the last start)\n",
			added, added == 1 ? "" : "s");
	return r < 0 ? rombsr_error_wrap(r, "logging the key set") : 0;
}

int rombsr_sign_node_open(const struct rombsr_config *cfg, struct rombsr_sign_node **out)
{
	struct rombsr_sign_node *node = calloc(1, sizeof(*node));
	char path[4096];
	int r = 0, started = 0;

	*out = NULL;
	if (node == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	node->cfg = cfg;
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
		node->signers[i].fd = -1;
	if (cfg->queue_url == NULL || cfg->gpg_key == NULL)
		r = rombsr_error(ROMBSR_ECONFIG, "the sign node needs queue.url and gpg.key");
	if (r == 0 && asprintf(&node->dir, "%s/sign", cfg->state_dir) < 0)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0)
		r = rombsr_mkdir_p(node->dir, 0700);
	if (r == 0)
		r = rombsr_softhsm_prepare(cfg);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/responses", node->dir);
		r = rombsr_mkdir_p(path, 0700);
	}
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT && r == 0; i++) {
		const struct rombsr_authority_config *a = &cfg->authority[i];
		struct signer_link *s = &node->signers[i];

		bool audit = i == ROMBSR_AUTHORITY_AUDIT;

		/* An authority without a PIN file is not served by this node; the
		 * audit authority is not optional. */
		if (!audit && !rombsr_path_exists(a->pin_file))
			continue;
		if (audit)
			snprintf(path, sizeof(path), "%s/audit-signed", node->dir);
		else
			snprintf(path, sizeof(path), "%s/cache-%s", node->dir, a->name);
		r = rombsr_signer_start(a, path, &s->fd, &s->pid);
		if (r < 0 && audit)
			r = rombsr_error_wrap(r, "the sign node logs every decision and needs the audit key");
		if (r == 0)
			r = learn_keys(s);
		started += r == 0 && !audit;
	}
	if (r == 0 && started == 0)
		r = rombsr_error(ROMBSR_ECONFIG, "no authority can sign here: no PIN file is readable");
	if (r == 0)
		r = rombsr_audit_writer_open(node->dir, cfg->audit_origin, node->signers[ROMBSR_AUTHORITY_AUDIT].fd,
					     &node->audit);
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT && r == 0; i++)
		if (node->signers[i].fd >= 0)
			r = rombsr_audit_writer_login(node->audit, cfg->authority[i].token_uri,
						      i == ROMBSR_AUTHORITY_AUDIT ? "audit" : "signing");
	if (r == 0)
		r = log_key_set(node);
	if (r == 0)
		r = rombsr_gpg_open(cfg->gpg_home, &node->gpg);
	if (r == 0)
		r = rombsr_repo_open(cfg->queue_clone, true, &node->repo);
	if (r == 0)
		r = read_processed(node);
	if (r < 0) {
		rombsr_sign_node_close(node);
		return r;
	}
	*out = node;
	return 0;
}

void rombsr_sign_node_close(struct rombsr_sign_node *node)
{
	if (node == NULL)
		return;
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT; i++)
		rombsr_signer_stop(node->signers[i].fd, node->signers[i].pid);
	if (node->have_verifier)
		rombsr_verifier_free(&node->verifier);
	rombsr_audit_writer_close(node->audit);
	rombsr_repo_close(node->repo);
	rombsr_gpg_close(node->gpg);
	free(node->dir);
	free(node);
}

static int collect(const git_oid *commit, const struct rombsr_commit_report *report, void *ctx)
{
	struct pass_state *ps = ctx;

	for (size_t i = 0; i < report->nchanges; i++) {
		const struct rombsr_commit_change *c = &report->changes[i];

		if (c->kind == ROMBSR_PATH_RESPONSE) {
			for (size_t j = 0; j < ps->n; j++)
				if (strcmp(ps->list[j].id, c->id) == 0)
					ps->list[j].answered = true;
			continue;
		}
		if (c->kind != ROMBSR_PATH_REQUEST)
			continue;
		if (ps->n == ps->alloc) {
			size_t want = ps->alloc ? ps->alloc * 2 : 64;
			struct pending *grown = realloc(ps->list, want * sizeof(*grown));

			if (grown == NULL)
				return rombsr_error(ROMBSR_ENOMEM, "out of memory");
			ps->list = grown;
			ps->alloc = want;
		}
		memset(&ps->list[ps->n], 0, sizeof(ps->list[0]));
		memcpy(ps->list[ps->n].id, c->id, sizeof(c->id));
		git_oid_cpy(&ps->list[ps->n].commit, commit);
		memcpy(ps->list[ps->n].signer, report->signer, sizeof(report->signer));
		ps->n++;
	}
	return 0;
}

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
}

static const struct known_key *find_known(const struct signer_link *s, const char *label)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].label, label) == 0)
			return &s->keys[i];
	return NULL;
}

/* The worker's checks, before any signature is made. Returns false with
 * the rejection filled in. */
static bool acceptable(struct rombsr_sign_node *node, const struct rombsr_request *req, const struct pending *p,
		       struct rombsr_response *resp)
{
	const struct signer_link *s = &node->signers[req->authority];
	time_t now = time(NULL);

	if (strcmp(req->build_node, p->signer) != 0) {
		reject(resp, "wrong-signer", "the request names build node %s but was committed by %s", req->build_node,
		       p->signer);
		return false;
	}
	if (now > req->expires) {
		reject(resp, "expired", "the request expired at its expires time");
		return false;
	}
	if (req->created > now + CLOCK_SKEW) {
		reject(resp, "not-yet-valid", "the request was created in the future");
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

		if (e != NULL && e->authority != req->authority) {
			reject(resp, "wrong-authority", "operation %zu: key '%s' belongs to the %s authority, the request to %s",
			       i, op->label, rombsr_authority_name(e->authority), rombsr_authority_name(req->authority));
			return false;
		}
		if (k == NULL || strcmp(k->spki_sha256, op->spki_sha256) != 0) {
			reject(resp, "unknown-key", "operation %zu: no key '%s' with fingerprint %.16s… here", i, op->label,
			       op->spki_sha256);
			return false;
		}
		/* A hard rule, whatever any policy says. */
		if (e != NULL && e->development && req->build_type == ROMBSR_BUILD_USER) {
			reject(resp, "development-key", "operation %zu: development key '%s' in a user build", i, op->label);
			return false;
		}
		if (rombsr_opcheck(op, k->kind, k->modulus_bytes) < 0) {
			reject(resp, "mechanism", "operation %zu: %s", i, rombsr_error_message(ROMBSR_EPERM));
			return false;
		}
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

/* Every operation through the authority's signer, pipelined. A refusal by
 * the signer becomes a rejection; an HSM failure stops the pass (the
 * request stays pending and is tried again). Replies come in order. */
static int sign_all(struct rombsr_sign_node *node, const struct rombsr_request *req, struct rombsr_response *resp)
{
	struct signer_link *s = &node->signers[req->authority];
	struct rombsr_channel_request *m = calloc(1, sizeof(*m));
	struct rombsr_channel_reply *reply = calloc(1, sizeof(*reply));
	size_t sent = 0, got = 0;
	bool refused = false;
	int r = 0;

	resp->sigs = calloc(req->nops, sizeof(*resp->sigs));
	if (m == NULL || reply == NULL || resp->sigs == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	while (r == 0 && got < req->nops) {
		while (!refused && sent < req->nops && sent - got < SIGN_WINDOW && r == 0) {
			fill_sign_message(m, req, &req->ops[sent].op);
			r = rombsr_channel_send(s->fd, m, sizeof(*m));
			sent++;
		}
		if (r < 0 || got == sent)
			break;
		/* Replies still in flight are read even after a refusal, so the
		 * channel stays in step. */
		r = rombsr_channel_recv(s->fd, reply, sizeof(*reply));
		if (r == 0 && reply->magic != ROMBSR_CHANNEL_MAGIC)
			r = rombsr_error(ROMBSR_EINVAL, "signer channel: bad reply");
		if (r < 0)
			break;
		reply->message[sizeof(reply->message) - 1] = '\0';
		if (refused) {
			got++;
			continue;
		}
		if (reply->status == ROMBSR_EPERM) {
			reject(resp, "refused", "operation %zu: %s", got, reply->message);
			refused = true;
		} else if (reply->status != 0 || reply->sig_len == 0 || reply->sig_len > sizeof(reply->sig)) {
			r = rombsr_error(ROMBSR_EHSM, "request %s operation %zu: %s", req->id, got, reply->message);
		} else {
			resp->sigs[got].op = req->ops[got].op;
			memcpy(resp->sigs[got].sig, reply->sig, reply->sig_len);
			resp->sigs[got].sig_len = reply->sig_len;
			resp->nsigs++;
			if (got == 0)
				fault_point("mid-sign");
		}
		got++;
	}
	if (refused) {
		free(resp->sigs);
		resp->sigs = NULL;
		resp->nsigs = 0;
	}
	free(m);
	free(reply);
	return r;
}

static int local_response_path(struct rombsr_sign_node *node, const char *id, char *out, size_t size)
{
	if ((size_t)snprintf(out, size, "%s/responses/%s.json", node->dir, id) >= size)
		return rombsr_error(ROMBSR_EINTERNAL, "path too long");
	return 0;
}

/* Decides one request and writes the response to the state folder. A
 * response already there (an earlier run crashed before publishing it) is
 * kept as it is: one request, one response, whatever happens. */
static int answer(struct rombsr_sign_node *node, const struct pending *p, struct rombsr_buf *text)
{
	struct rombsr_request req = {0};
	struct rombsr_response resp = {0};
	struct rombsr_buf body;
	char path[4096], local[4096];
	int r, parsed;

	r = local_response_path(node, p->id, local, sizeof(local));
	if (r < 0)
		return r;
	r = rombsr_file_read(local, ROMBSR_RESPONSE_MAX_BYTES, text);
	if (r != ROMBSR_ENOTFOUND)
		return r;
	r = rombsr_queue_request_path(p->id, path, sizeof(path));
	if (r == 0)
		r = rombsr_repo_read(node->repo, &p->commit, path, ROMBSR_REQUEST_MAX_BYTES, &body);
	if (r < 0)
		return r;
	memcpy(resp.request_id, p->id, sizeof(resp.request_id));
	rombsr_oid_hex(&p->commit, resp.request_commit);
	snprintf(resp.sign_node, sizeof(resp.sign_node), "%s", node->cfg->gpg_key);
	resp.time = time(NULL);
	parsed = rombsr_request_parse((const char *)body.data, body.len, &req);
	rombsr_buf_free(&body);
	if (parsed < 0)
		reject(&resp, "malformed", "%s", rombsr_error_message(parsed));
	else if (strcmp(req.id, p->id) != 0)
		reject(&resp, "malformed", "the request's id is not the one its path names");
	else if (acceptable(node, &req, p, &resp)) {
		resp.signed_ok = true;
		r = sign_all(node, &req, &resp);
		if (r == 0 && resp.signed_ok)
			node->stats.operations += req.nops;
	}
	fault_point("after-sign");
	if (r == 0)
		r = rombsr_response_encode(&resp, text);
	if (r == 0)
		r = rombsr_file_write_atomic(local, text->data, text->len, 0600, false);
	if (r == 0) {
		if (resp.signed_ok)
			node->stats.requests_signed++;
		else
			node->stats.requests_rejected++;
		fprintf(stderr, "rombsr sign: request %s: %s%s%s\n", p->id, resp.signed_ok ? "signed" : "rejected: ",
			resp.signed_ok ? "" : resp.reason_code, resp.signed_ok ? "" : "");
	}
	if (r < 0)
		rombsr_buf_free(text);
	rombsr_request_free(&req);
	rombsr_response_free(&resp);
	return r;
}

/* What one pass publishes: the responses, then the audit log's new part. */
struct outgoing {
	struct rombsr_repo_file *files;
	struct rombsr_buf *texts;
	char (*paths)[128];
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
	free(o->audit_index);
	free(o->audit_count);
	if (o->have_audit)
		rombsr_audit_files_free(&o->audit);
	memset(o, 0, sizeof(*o));
}

static int outgoing_alloc(struct outgoing *o, size_t n)
{
	/* Room for the audit chunk and checkpoint too. */
	o->files = calloc(n + 2, sizeof(*o->files));
	o->texts = calloc(n, sizeof(*o->texts));
	o->paths = calloc(n, sizeof(*o->paths));
	o->audit_index = calloc(n, sizeof(*o->audit_index));
	o->audit_count = calloc(n, sizeof(*o->audit_count));
	if (o->files == NULL || o->texts == NULL || o->paths == NULL || o->audit_index == NULL || o->audit_count == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	return 0;
}

/* Logs the decision saved in text (durably, before anything refers to it). */
static int log_decision(struct rombsr_sign_node *node, const struct pending *p, const struct rombsr_buf *text,
			uint64_t *index, uint64_t *count)
{
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
	if (r == 0)
		r = rombsr_audit_writer_decision(node->audit, &resp, have_req ? &req : NULL, index, count);
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

static int publish(struct rombsr_sign_node *node, struct outgoing *o, git_oid *pushed)
{
	char message[128];
	git_oid commit, base;
	int r;

	snprintf(message, sizeof(message), "responses: %zu", o->n);
	fault_point("before-commit");
	r = rombsr_queue_publish(node->repo, node->gpg, node->cfg->queue_url, node->cfg->gpg_key, o->files,
				 outgoing_files(o), message, &commit, &base);
	if (r == 0) {
		fault_point("after-push");
		git_oid_cpy(pushed, &commit);
		r = rombsr_audit_writer_published(node->audit, o->audit.size);
	}
	return r;
}

int rombsr_sign_pass(struct rombsr_sign_node *node, size_t *answered)
{
	struct pass_state ps = {0};
	struct outgoing o = {0};
	git_oid head, pushed;
	bool empty, descends;
	double t0 = now_seconds(), t1, t2;
	int r;

	*answered = 0;
	r = rombsr_repo_fetch(node->repo, node->cfg->queue_url, &head, &empty);
	if (r < 0 || empty)
		return r;
	if (node->have_processed) {
		if (git_oid_equal(&head, &node->processed))
			return 0;
		r = rombsr_repo_descends(node->repo, &head, &node->processed, &descends);
		if (r == 0 && !descends)
			r = rombsr_error(ROMBSR_ESECURITY, "history rewritten: the queue no longer contains the last commit "
							   "this sign node processed");
		if (r < 0)
			return r;
	}
	if (!node->have_verifier) {
		r = rombsr_verifier_init(&node->verifier, node->repo, (char(*)[41])node->cfg->queue_admins,
					 node->cfg->queue_nadmins, node->have_processed ? &node->processed : NULL);
		node->have_verifier = r == 0;
	}
	if (r == 0)
		r = rombsr_verify_range(&node->verifier, node->have_processed ? &node->processed : NULL, &head, collect,
					&ps);
	t1 = now_seconds();
	node->stats.verify_seconds += t1 - t0;
	if (r == 0 && ps.n > 0)
		r = outgoing_alloc(&o, ps.n);
	for (size_t i = 0; i < ps.n && r == 0; i++) {
		bool open;

		r = still_open(node, &head, &ps.list[i], &open);
		if (r < 0 || !open)
			continue;
		r = answer(node, &ps.list[i], &o.texts[o.n]);
		if (r == 0)
			r = rombsr_queue_response_path(ps.list[i].id, o.paths[o.n], sizeof(o.paths[0]));
		if (r == 0)
			r = log_decision(node, &ps.list[i], &o.texts[o.n], &o.audit_index[o.n], &o.audit_count[o.n]);
		if (r == 0)
			o.n++;
		else
			rombsr_buf_free(&o.texts[o.n]);
	}
	if (r == 0 && o.n > 0)
		r = add_audit(node, &o, &head);
	t2 = now_seconds();
	node->stats.sign_seconds += t2 - t1;
	if (r == 0 && o.n > 0) {
		fault_point("after-response");
		r = publish(node, &o, &pushed);
		if (r == 0)
			r = write_processed(node, &pushed);
		*answered = o.n;
	} else if (r == 0) {
		r = write_processed(node, &head);
	}
	node->stats.publish_seconds += now_seconds() - t2;
	outgoing_free(&o);
	free(ps.list);
	return r;
}

int rombsr_sign_node_stats(struct rombsr_sign_node *node, struct rombsr_sign_stats *stats)
{
	struct rombsr_channel_request m = {.magic = ROMBSR_CHANNEL_MAGIC, .version = ROMBSR_CHANNEL_VERSION,
					   .op = ROMBSR_CH_STATS};
	struct rombsr_channel_reply *reply = calloc(1, sizeof(*reply));
	int r = reply ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	*stats = node->stats;
	for (int i = 0; i < ROMBSR_AUTHORITY_COUNT && r == 0; i++) {
		if (node->signers[i].fd < 0)
			continue;
		r = ask(&node->signers[i], &m, reply);
		if (r == 0) {
			stats->hsm_operations += reply->hsm_operations;
			stats->cache_hits += reply->cache_hits;
		}
	}
	free(reply);
	return r;
}
