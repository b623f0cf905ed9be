#define _GNU_SOURCE
#include "audit_writer.h"
#include "understand.h"
#include "audit_entries.h"

#include "../signer/channel.h"

#include "../audit/log.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"
#include "../queue/audit_layout.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rombsr_audit_writer {
	struct rombsr_audit_log *log;
	char *origin;
	char *published_path; /* <state>/sign/audit.published: a hint, see files() */
	uint64_t published;
	uint64_t pending_from; /* the first decision whose response is not out */
	int signer_fd;
	unsigned char *spki;  /* the audit key, as the signer reported it */
	size_t spki_len;
	struct rombsr_buf note; /* the latest checkpoint */
	/* The decisions whose responses are not published yet, so that
	 * finding one again after a crash or a failed publish costs no
	 * decoding and never logs it twice: read once at open (from
	 * pending_from), then kept as decisions are logged and their
	 * responses published. A decision's entries may be published before
	 * its response (a batch publishes every entry logged so far), so a
	 * decision is forgotten only once its own response is out. */
	struct unpublished_decision *decided;
	size_t ndecided, decided_alloc;
};

struct unpublished_decision {
	char request_id[ROMBSR_AUDIT_ID_MAX + 1];
	uint64_t index, count;
	bool attached; /* its response is in the batch being published */
};

/* Room for one more decision, made before the entries are appended so
 * that a logged decision is always remembered. */
static int reserve_decision(struct rombsr_audit_writer *w)
{
	if (w->ndecided == w->decided_alloc) {
		size_t want = w->decided_alloc ? w->decided_alloc * 2 : 64;
		struct unpublished_decision *grown = realloc(w->decided, want * sizeof(*grown));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		w->decided = grown;
		w->decided_alloc = want;
	}
	return 0;
}

static int note_decision(struct rombsr_audit_writer *w, const char *request_id, uint64_t index, uint64_t count)
{
	struct unpublished_decision *d;
	int r = reserve_decision(w);

	if (r < 0)
		return r;
	d = &w->decided[w->ndecided++];
	snprintf(d->request_id, sizeof(d->request_id), "%s", request_id);
	d->index = index;
	d->count = count;
	d->attached = false;
	return 0;
}

/* Forgets the decisions whose responses the batch just published, and
 * returns the index of the first one still waiting for its response. */
static uint64_t forget_answered(struct rombsr_audit_writer *w, uint64_t size)
{
	uint64_t from = size;
	size_t kept = 0;

	for (size_t i = 0; i < w->ndecided; i++) {
		if (w->decided[i].attached)
			continue;
		if (w->decided[i].index < from)
			from = w->decided[i].index;
		w->decided[kept++] = w->decided[i];
	}
	w->ndecided = kept;
	return from;
}

/* The decisions logged from pending_from on: found once at open by
 * decoding that part of the log (a pass's worth, normally). */
static int read_unpublished_decisions(struct rombsr_audit_writer *w)
{
	char server_request[ROMBSR_AUDIT_ID_MAX + 1] = "";
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	uint64_t size = rombsr_audit_log_size(w->log);
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	for (uint64_t i = w->pending_from < size ? w->pending_from : size; i < size && r == 0; i++) {
		struct rombsr_buf line;

		r = rombsr_audit_log_entry(w->log, i, &line);
		if (r == 0)
			r = rombsr_audit_entry_decode((const char *)line.data, line.len, e);
		rombsr_buf_free(&line);
		if (r == 0 && e->type == ROMBSR_AUDIT_SERVER_CLIENT)
			snprintf(server_request, sizeof(server_request), "%s", e->request_id);
		if (r == 0 && e->type == ROMBSR_AUDIT_REQUEST_SIGNED)
			r = note_decision(w, e->request_id, i, 1 + e->signatures);
		else if (r == 0 && e->type == ROMBSR_AUDIT_REQUEST_REJECTED)
			r = note_decision(w, e->request_id, i, 1);
		if (r == 0 && (e->type == ROMBSR_AUDIT_REQUEST_SIGNED || e->type == ROMBSR_AUDIT_REQUEST_REJECTED))
			w->decided[w->ndecided - 1].attached = strcmp(server_request, e->request_id) == 0;
	}
	free(e);
	return r;
}

static int read_published(struct rombsr_audit_writer *w)
{
	struct rombsr_buf text;
	char *end;
	const char *s;
	int r = rombsr_file_read(w->published_path, 64, &text);

	if (r == ROMBSR_ENOTFOUND)
		return 0;
	s = r == 0 ? rombsr_buf_cstr(&text) : NULL;
	/* "<published> <pending_from>\n"; a file of one number (before
	 * pending_from) means nothing is pending before it. */
	if (r == 0 && s != NULL) {
		w->published = w->pending_from = strtoull(s, &end, 10);
		if (end != s && *end == ' ') {
			s = end + 1;
			w->pending_from = strtoull(s, &end, 10);
		}
		if (end == s || strcmp(end, "\n") != 0 || w->pending_from > w->published)
			r = rombsr_error(ROMBSR_EINVAL, "%s: damaged", w->published_path);
	}
	rombsr_buf_free(&text);
	return r;
}

int rombsr_audit_writer_published(struct rombsr_audit_writer *w, uint64_t size)
{
	char line[64];

	w->published = size;
	w->pending_from = forget_answered(w, size);
	snprintf(line, sizeof(line), "%llu %llu\n", (unsigned long long)size, (unsigned long long)w->pending_from);
	return rombsr_file_write_atomic(w->published_path, line, strlen(line), 0600, false);
}

int rombsr_audit_writer_open(const char *dir, const char *origin, int signer_fd, struct rombsr_audit_writer **out)
{
	struct rombsr_audit_writer *w = calloc(1, sizeof(*w));
	char *log_dir = NULL;
	int r = 0;

	*out = NULL;
	if (w == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	w->signer_fd = signer_fd;
	rombsr_buf_init(&w->note, ROMBSR_NOTE_MAX);
	if (asprintf(&log_dir, "%s/audit", dir) < 0 || asprintf(&w->published_path, "%s/audit.published", dir) < 0 ||
	    (w->origin = strdup(origin)) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0)
		r = rombsr_audit_log_open(log_dir, &w->log);
	if (r == 0)
		r = read_published(w);
	if (r == 0)
		r = read_unpublished_decisions(w);
	if (r == 0) {
		r = rombsr_audit_log_latest_checkpoint(w->log, &w->note);
		if (r == ROMBSR_ENOTFOUND)
			r = 0;
	}
	free(log_dir);
	if (r < 0) {
		rombsr_audit_writer_close(w);
		return r;
	}
	*out = w;
	return 0;
}

void rombsr_audit_writer_close(struct rombsr_audit_writer *w)
{
	if (w == NULL)
		return;
	rombsr_audit_log_close(w->log);
	rombsr_buf_free(&w->note);
	free(w->origin);
	free(w->published_path);
	free(w->spki);
	free(w->decided);
	free(w);
}

/* The token's label as its signer reported it, as an audit id
 * ("unnamed-token" when it has characters an id cannot hold). */
static void token_name(const char *label, char *out, size_t size)
{
	if (label[0] != '\0' && strlen(label) <= 32 &&
	    strspn(label, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:/@+=-") == strlen(label))
		snprintf(out, size, "%s", label);
	else
		snprintf(out, size, "unnamed-token");
}

int rombsr_audit_writer_login(struct rombsr_audit_writer *w, const char *token_label, const char *role)
{
	struct rombsr_audit_entry *e = calloc(1, sizeof(*e));
	uint64_t index;
	int r;

	if (e == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	e->type = ROMBSR_AUDIT_HSM_LOGIN;
	token_name(token_label, e->token, sizeof(e->token));
	snprintf(e->role, sizeof(e->role), "%s", role);
	snprintf(e->result, sizeof(e->result), "ok");
	r = rombsr_audit_log_append(w->log, e, &index);
	free(e);
	return r;
}

/* What the log says of one key: its latest key event. */
struct logged_key {
	char fingerprint[65];
	char label[ROMBSR_AUDIT_ID_MAX + 1];
	char token[ROMBSR_AUDIT_ID_MAX + 1];
	bool present; /* the latest event is key-generated */
};

struct logged_keys {
	struct logged_key *k;
	size_t n, alloc;
};

static struct logged_key *logged_find(const struct logged_keys *l, const char *fingerprint)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->k[i].fingerprint, fingerprint) == 0)
			return &l->k[i];
	return NULL;
}

static int logged_add(struct logged_keys *l, const char *fingerprint, struct logged_key **out)
{
	if (l->n == l->alloc) {
		size_t want = l->alloc ? l->alloc * 2 : 32;
		struct logged_key *grown = realloc(l->k, want * sizeof(*grown));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		l->k = grown;
		l->alloc = want;
	}
	*out = memset(&l->k[l->n++], 0, sizeof(*l->k));
	snprintf((*out)->fingerprint, sizeof((*out)->fingerprint), "%s", fingerprint);
	return 0;
}

/* Replays the log's key events in order. Only lines that can be key events
 * are decoded: in the canonical encoding the type appears verbatim as
 * "type":"key-..., and no other value can hold a quote, so the substring
 * finds exactly them and a long log costs one read per entry. */
static int read_key_events(struct rombsr_audit_writer *w, struct logged_keys *l)
{
	static const char marker[] = "\"type\":\"key-";
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	uint64_t size = rombsr_audit_log_size(w->log);
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	for (uint64_t i = 0; i < size && r == 0; i++) {
		struct logged_key *k;
		struct rombsr_buf line;

		r = rombsr_audit_log_entry(w->log, i, &line);
		if (r == 0 && memmem(line.data, line.len, marker, sizeof(marker) - 1) == NULL) {
			rombsr_buf_free(&line);
			continue;
		}
		if (r == 0)
			r = rombsr_audit_entry_decode((const char *)line.data, line.len, e);
		rombsr_buf_free(&line);
		if (r < 0 || (e->type != ROMBSR_AUDIT_KEY_GENERATED && e->type != ROMBSR_AUDIT_KEY_REVOKED))
			continue;
		k = logged_find(l, e->key_fingerprint);
		if (k == NULL)
			r = logged_add(l, e->key_fingerprint, &k);
		if (r < 0)
			break;
		k->present = e->type == ROMBSR_AUDIT_KEY_GENERATED;
		snprintf(k->label, sizeof(k->label), "%s", e->key_label);
		if (k->present)
			snprintf(k->token, sizeof(k->token), "%s", e->token);
	}
	free(e);
	return r;
}

static const struct rombsr_audit_key *key_by(const struct rombsr_audit_key *keys, size_t nkeys, const char *token,
					     const char *label, const char *fingerprint)
{
	char name[ROMBSR_AUDIT_ID_MAX + 1];

	for (size_t i = 0; i < nkeys; i++) {
		if (fingerprint != NULL && strcmp(keys[i].fingerprint, fingerprint) == 0)
			return &keys[i];
		if (label == NULL || strcmp(keys[i].label, label) != 0)
			continue;
		token_name(keys[i].token, name, sizeof(name));
		if (strcmp(name, token) == 0)
			return &keys[i];
	}
	return NULL;
}

static bool token_examined(const char *const *token_labels, size_t ntokens, const char *token)
{
	char name[ROMBSR_AUDIT_ID_MAX + 1];

	for (size_t i = 0; i < ntokens; i++) {
		token_name(token_labels[i], name, sizeof(name));
		if (strcmp(name, token) == 0)
			return true;
	}
	return false;
}

int rombsr_audit_writer_keys(struct rombsr_audit_writer *w, const char *const *token_labels, size_t ntokens,
			     const struct rombsr_audit_key *keys, size_t nkeys, size_t *added)
{
	struct logged_keys l = {0};
	struct rombsr_audit_entry *e = NULL;
	uint64_t first;
	size_t n = 0;
	int r = read_key_events(w, &l);

	*added = 0;
	if (r == 0 && (e = calloc(l.n + nkeys + 1, sizeof(*e))) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	/* Revocations first, so a replaced key reads as: old one out, new one in. */
	for (size_t i = 0; i < l.n && r == 0; i++) {
		const struct logged_key *k = &l.k[i];

		if (!k->present || !token_examined(token_labels, ntokens, k->token) ||
		    key_by(keys, nkeys, NULL, NULL, k->fingerprint) != NULL)
			continue;
		e[n].type = ROMBSR_AUDIT_KEY_REVOKED;
		memcpy(e[n].key_fingerprint, k->fingerprint, sizeof(e[n].key_fingerprint));
		memcpy(e[n].key_label, k->label, sizeof(e[n].key_label));
		snprintf(e[n].reason, sizeof(e[n].reason), "%s",
			 key_by(keys, nkeys, k->token, k->label, NULL) != NULL ? "replaced" : "removed");
		n++;
	}
	for (size_t i = 0; i < nkeys && r == 0; i++) {
		struct logged_key *k = logged_find(&l, keys[i].fingerprint);

		if (k != NULL && k->present)
			continue;
		if (k == NULL && (r = logged_add(&l, keys[i].fingerprint, &k)) < 0)
			break;
		k->present = true; /* listed twice: logged once */
		e[n].type = ROMBSR_AUDIT_KEY_GENERATED;
		snprintf(e[n].key_fingerprint, sizeof(e[n].key_fingerprint), "%s", keys[i].fingerprint);
		snprintf(e[n].key_label, sizeof(e[n].key_label), "%s", keys[i].label);
		snprintf(e[n].algorithm, sizeof(e[n].algorithm), "%s", keys[i].algorithm);
		token_name(keys[i].token, e[n].token, sizeof(e[n].token));
		n++;
	}
	if (r == 0 && n > 0)
		r = rombsr_audit_log_append_batch(w->log, e, n, &first);
	if (r == 0)
		*added = n;
	free(e);
	free(l.k);
	return r;
}

/* The entries of a request already decided, if they are in the part of
 * the log the queue has not seen: after a crash between logging and
 * publishing, the same decision is found again, not logged twice. */
static bool find_decision(const struct rombsr_audit_writer *w, const char *request_id, uint64_t *index,
			  uint64_t *count)
{
	for (size_t i = 0; i < w->ndecided; i++) {
		if (strcmp(w->decided[i].request_id, request_id) == 0) {
			*index = w->decided[i].index;
			*count = w->decided[i].count;
			return true;
		}
	}
	return false;
}

int rombsr_audit_writer_decision(struct rombsr_audit_writer *w, const struct rombsr_response *resp,
				 const struct rombsr_request *req, const struct rombsr_audit_approvals *approvals,
				 const struct rombsr_audit_client *client, uint64_t *index, uint64_t *count)
{
	struct rombsr_audit_entry *all, *e;
	char artifacts[65];
	size_t pre = (resp->signed_ok && approvals != NULL ? 1 : 0) + (client != NULL ? 1 : 0), understood = 0;
	size_t n = 1 + (resp->signed_ok ? resp->nsigs : 0);
	uint64_t first;
	int r = 0;

	if (find_decision(w, resp->request_id, index, count))
		return 0;
	if (resp->signed_ok && req == NULL)
		return rombsr_error(ROMBSR_EINTERNAL, "a signed request must come with its content");
	/* What the signed operations' data was, just before the decision and
	 * in the same batch (understand.h). */
	all = calloc(pre + (resp->signed_ok ? req->nops : 0) + n, sizeof(*all));
	if (all == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (client != NULL)
		rombsr_audit_fill_client(&all[0], resp->request_id, client);
	if (resp->signed_ok && approvals != NULL)
		r = rombsr_audit_fill_approvals(&all[client != NULL], resp, approvals);
	if (r == 0 && resp->signed_ok)
		r = rombsr_sign_understood_entries(req, all + pre, req->nops, &understood);
	pre += understood;
	e = all + pre;
	e[0].type = resp->signed_ok ? ROMBSR_AUDIT_REQUEST_SIGNED : ROMBSR_AUDIT_REQUEST_REJECTED;
	snprintf(e[0].request_id, sizeof(e[0].request_id), "%s", resp->request_id);
	snprintf(e[0].request_commit, sizeof(e[0].request_commit), "%s", resp->request_commit);
	if (resp->signed_ok) {
		e[0].signatures = resp->nsigs;
		if (r == 0)
			r = rombsr_audit_artifacts_sha256(req, artifacts);
		for (size_t i = 0; i < resp->nsigs && r == 0; i++)
			rombsr_audit_fill_signature(&e[1 + i], resp, &resp->sigs[i], artifacts);
	} else {
		snprintf(e[0].reason, sizeof(e[0].reason), "%s", resp->reason_code);
		rombsr_audit_copy_text(e[0].detail, sizeof(e[0].detail), resp->reason_message);
	}
	/* The entries carry the time they are logged (time 0), not the
	 * response's: a decision saved before a crash is logged after the
	 * restart's own entries, and the log's times never go back. */
	if (r == 0)
		r = reserve_decision(w);
	if (r == 0)
		r = rombsr_audit_log_append_batch(w->log, all, pre + n, &first);
	if (r == 0) {
		*index = first + pre;
		*count = n;
		r = note_decision(w, resp->request_id, *index, n);
		/* A server's decision has no response to publish: it is
		 * remembered only until the next batch is out. */
		w->decided[w->ndecided - 1].attached = r == 0 && client != NULL;
	}
	if (r < 0)
		r = rombsr_error_wrap(r, "logging the decision on request %s", resp->request_id);
	free(all);
	return r;
}

int rombsr_audit_writer_unused(struct rombsr_audit_writer *w, const struct rombsr_response *resp,
			       const struct rombsr_request *req)
{
	struct rombsr_audit_entry *e = calloc(resp->nsigs, sizeof(*e));
	char artifacts[65];
	uint64_t first;
	int r = e != NULL ? rombsr_audit_artifacts_sha256(req, artifacts) : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	for (size_t i = 0; i < resp->nsigs && r == 0; i++)
		rombsr_audit_fill_signature(&e[i], resp, &resp->sigs[i], artifacts);
	if (r == 0)
		r = rombsr_audit_log_append_batch(w->log, e, resp->nsigs, &first);
	free(e);
	return r;
}

int rombsr_audit_writer_change(struct rombsr_audit_writer *w, const struct rombsr_audit_change *c)
{
	struct rombsr_audit_entry *e = calloc(1, sizeof(*e));
	uint64_t index;
	int r;

	if (e == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	e->type = c->reason != NULL ? ROMBSR_AUDIT_POLICY_REFUSED : ROMBSR_AUDIT_POLICY_APPLIED;
	snprintf(e->subject, sizeof(e->subject), "%s", c->subject);
	snprintf(e->commit, sizeof(e->commit), "%s", c->commit);
	snprintf(e->sha256, sizeof(e->sha256), "%s", c->sha256);
	if (c->reason != NULL) {
		snprintf(e->reason, sizeof(e->reason), "%s", c->reason);
		rombsr_audit_copy_text(e->detail, sizeof(e->detail), c->detail != NULL ? c->detail : "");
	} else {
		snprintf(e->previous_sha256, sizeof(e->previous_sha256), "%s", c->previous_sha256);
	}
	r = rombsr_audit_log_append(w->log, e, &index);
	free(e);
	return r;
}

int rombsr_audit_writer_append(struct rombsr_audit_writer *w, struct rombsr_audit_entry *e)
{
	uint64_t index;

	return rombsr_audit_log_append(w->log, e, &index);
}

int rombsr_audit_writer_append_batch(struct rombsr_audit_writer *w, struct rombsr_audit_entry *e, size_t n)
{
	return rombsr_audit_log_append_batch(w->log, e, n, NULL);
}

int rombsr_audit_writer_server_logged(struct rombsr_audit_writer *w, uint64_t from, const char *request_id,
				      bool *logged)
{
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	uint64_t size = rombsr_audit_log_size(w->log);
	int r = e != NULL ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	*logged = false;
	for (uint64_t i = from; i < size && r == 0 && !*logged; i++) {
		struct rombsr_buf line;

		r = rombsr_audit_log_entry(w->log, i, &line);
		if (r == 0)
			r = rombsr_audit_entry_decode((const char *)line.data, line.len, e);
		rombsr_buf_free(&line);
		*logged = r == 0 && e->type == ROMBSR_AUDIT_SERVER_CLIENT &&
			  (request_id == NULL || strcmp(e->request_id, request_id) == 0);
	}
	free(e);
	return r;
}

const struct rombsr_audit_log *rombsr_audit_writer_log(const struct rombsr_audit_writer *w)
{
	return w->log;
}

void rombsr_audit_writer_defer_sync(struct rombsr_audit_writer *w, bool defer)
{
	rombsr_audit_log_defer_sync(w->log, defer);
}

int rombsr_audit_writer_sync(struct rombsr_audit_writer *w)
{
	return rombsr_audit_log_sync(w->log);
}

bool rombsr_audit_writer_unpublished(const struct rombsr_audit_writer *w)
{
	return rombsr_audit_log_size(w->log) > w->published;
}

void rombsr_audit_writer_sizes(const struct rombsr_audit_writer *w, uint64_t *entries, uint64_t *published)
{
	*entries = rombsr_audit_log_size(w->log);
	*published = w->published;
}

struct signer_call {
	struct rombsr_audit_writer *w;
	struct rombsr_channel_request *m;
};

/* The signer rebuilds the note body from the tree it is shown and signs
 * it; rombsr_checkpoint_sign() then checks the signature against the audit
 * key before the note is stored. */
static int sign_by_signer(void *ctx, const unsigned char digest[32], unsigned char *sig, size_t *sig_len)
{
	struct signer_call *c = ctx;
	struct rombsr_channel_reply *reply = calloc(1, sizeof(*reply));
	int r = reply ? rombsr_channel_call(c->w->signer_fd, c->m, reply) : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	(void)digest;
	if (r == 0 && reply->status != 0)
		r = rombsr_error(reply->status == ROMBSR_ESECURITY ? ROMBSR_ESECURITY : ROMBSR_EHSM,
				 "the audit signer refused the checkpoint: %s", reply->message);
	if (r == 0 && (reply->sig_len == 0 || reply->sig_len > *sig_len))
		r = rombsr_error(ROMBSR_EHSM, "the audit signer returned no usable signature");
	if (r == 0) {
		memcpy(sig, reply->sig, reply->sig_len);
		*sig_len = reply->sig_len;
	}
	free(reply);
	return r;
}

static int audit_key(struct rombsr_audit_writer *w, struct rombsr_channel_reply *reply)
{
	struct rombsr_channel_request *m = calloc(1, sizeof(*m));
	int r = m ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0) {
		*m = (struct rombsr_channel_request){.magic = ROMBSR_CHANNEL_MAGIC, .version = ROMBSR_CHANNEL_VERSION,
						     .op = ROMBSR_CH_AUDIT_STATE};
		r = rombsr_channel_call(w->signer_fd, m, reply);
	}
	if (r == 0 && reply->status != 0)
		r = rombsr_error(ROMBSR_EHSM, "audit signer: %s", reply->message);
	if (r == 0 && (reply->spki_len == 0 || reply->spki_len > sizeof(reply->spki)))
		r = rombsr_error(ROMBSR_EHSM, "audit signer: no audit key");
	if (r == 0) {
		free(w->spki);
		w->spki = malloc(reply->spki_len);
		if (w->spki == NULL)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (r == 0) {
		memcpy(w->spki, reply->spki, reply->spki_len);
		w->spki_len = reply->spki_len;
	}
	free(m);
	return r;
}

int rombsr_audit_writer_checkpoint(struct rombsr_audit_writer *w)
{
	struct rombsr_channel_request *m = calloc(1, sizeof(*m));
	struct rombsr_channel_reply *state = calloc(1, sizeof(*state));
	unsigned char local[ROMBSR_MERKLE_HASH_LEN];
	struct signer_call call = {w, m};
	struct rombsr_note_signer signer;
	struct rombsr_checkpoint latest;
	uint64_t size = rombsr_audit_log_size(w->log);
	size_t proof_len = 0;
	int r = m && state ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	/* A new batch begins here: only the responses attached from now on go
	 * out with it (a batch that failed to publish answered nothing). */
	for (size_t i = 0; i < w->ndecided; i++)
		w->decided[i].attached = false;
	if (r == 0 && w->note.len > 0 &&
	    rombsr_checkpoint_parse_unverified((const char *)w->note.data, w->note.len, &latest) == 0 &&
	    latest.size == size)
		goto out; /* nothing new since the last checkpoint */
	if (r == 0)
		r = audit_key(w, state);
	/* The signer remembers the last tree it signed; the local log must
	 * still contain exactly that tree. */
	if (r == 0 && state->tree_size > size)
		r = rombsr_error(ROMBSR_ESECURITY, "the audit signer signed a log of %llu entries, the local log has %llu: "
						   "the local audit log lost entries",
				 (unsigned long long)state->tree_size, (unsigned long long)size);
	if (r == 0 && state->tree_size > 0) {
		r = rombsr_audit_log_root(w->log, state->tree_size, local);
		if (r == 0 && memcmp(local, state->root, sizeof(local)) != 0)
			r = rombsr_error(ROMBSR_ESECURITY, "the local audit log differs from the one the audit key signed at "
							   "%llu entries", (unsigned long long)state->tree_size);
	}
	if (r == 0)
		r = rombsr_audit_log_consistency_proof(w->log, state->tree_size, size, m->proof, &proof_len);
	if (r == 0 && proof_len > ROMBSR_CHANNEL_PROOF_MAX)
		r = rombsr_error(ROMBSR_EINTERNAL, "consistency proof too long");
	if (r == 0) {
		m->magic = ROMBSR_CHANNEL_MAGIC;
		m->version = ROMBSR_CHANNEL_VERSION;
		m->op = ROMBSR_CH_CHECKPOINT;
		snprintf(m->origin, sizeof(m->origin), "%s", w->origin);
		m->tree_size = size;
		m->old_size = state->tree_size;
		m->proof_len = (uint32_t)proof_len;
		r = rombsr_audit_log_root(w->log, size, m->root);
	}
	if (r == 0 && w->spki == NULL)
		r = rombsr_error(ROMBSR_EINTERNAL, "the audit key is not known");
	if (r == 0) {
		signer = (struct rombsr_note_signer){w->origin, w->spki, w->spki_len, sign_by_signer, &call};
		rombsr_buf_free(&w->note);
		r = rombsr_audit_log_checkpoint(w->log, w->origin, &signer, &w->note);
	}
out:
	free(m);
	free(state);
	return r;
}

int rombsr_audit_writer_attach(struct rombsr_audit_writer *w, struct rombsr_response *resp, uint64_t index,
			       uint64_t count)
{
	struct rombsr_buf proof;
	int r;

	if (w->note.len == 0)
		return rombsr_error(ROMBSR_EINTERNAL, "no checkpoint to prove against");
	r = rombsr_audit_log_proof(w->log, index, (const char *)w->note.data, w->note.len, &proof);
	if (r == 0 && rombsr_buf_cstr(&proof) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0) {
		free(resp->audit_proof);
		resp->audit_proof = strdup((const char *)proof.data);
		if (resp->audit_proof == NULL)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (r == 0) {
		resp->has_audit = true;
		resp->audit_index = index;
		resp->audit_entries = count;
		for (size_t i = 0; i < w->ndecided; i++)
			if (w->decided[i].index == index && strcmp(w->decided[i].request_id, resp->request_id) == 0)
				w->decided[i].attached = true;
	}
	rombsr_buf_free(&proof);
	return r;
}

/* How much of the log the queue at head holds: from the remembered size,
 * follow chunks that exist (a crash may have come between a push and the
 * write of that size). */
static int queue_size(struct rombsr_audit_writer *w, struct rombsr_repo *repo, const git_oid *head, uint64_t *size)
{
	char path[128];
	bool exists = true;
	int r = 0;

	*size = w->published;
	while (r == 0 && exists) {
		struct rombsr_buf chunk;
		uint64_t lines = 0;

		r = rombsr_queue_audit_chunk_path(*size, path, sizeof(path));
		if (r == 0)
			r = rombsr_repo_exists(repo, head, path, &exists);
		if (r < 0 || !exists)
			break;
		r = rombsr_repo_read(repo, head, path, ROMBSR_RESPONSE_MAX_BYTES, &chunk);
		for (size_t i = 0; r == 0 && i < chunk.len; i++)
			lines += chunk.data[i] == '\n';
		rombsr_buf_free(&chunk);
		if (r == 0 && lines == 0)
			r = rombsr_error(ROMBSR_ESECURITY, "%s: an empty audit chunk in the queue", path);
		*size += lines;
	}
	return r;
}

int rombsr_audit_writer_files(struct rombsr_audit_writer *w, struct rombsr_repo *repo, const git_oid *head,
			      struct rombsr_audit_files *files)
{
	uint64_t have, size = rombsr_audit_log_size(w->log);
	struct rombsr_checkpoint latest;
	bool exists;
	int r;

	memset(files, 0, sizeof(*files));
	rombsr_buf_init(&files->chunk, ROMBSR_RESPONSE_MAX_BYTES);
	rombsr_buf_init(&files->checkpoint, ROMBSR_NOTE_MAX);
	r = queue_size(w, repo, head, &have);
	if (r == 0 && have > size)
		r = rombsr_error(ROMBSR_ESECURITY, "the queue holds %llu audit entries, the local log only %llu",
				 (unsigned long long)have, (unsigned long long)size);
	files->size = have;
	if (r == 0 && have < size) {
		r = rombsr_queue_audit_chunk_path(have, files->chunk_path, sizeof(files->chunk_path));
		for (uint64_t i = have; i < size && r == 0; i++) {
			struct rombsr_buf line;

			r = rombsr_audit_log_entry(w->log, i, &line);
			if (r == 0) {
				rombsr_buf_append(&files->chunk, line.data, line.len);
				rombsr_buf_append(&files->chunk, "\n", 1);
				r = rombsr_buf_check(&files->chunk, "audit chunk");
			}
			rombsr_buf_free(&line);
		}
		files->size = size;
	}
	if (r == 0 && w->note.len > 0 &&
	    (r = rombsr_checkpoint_parse_unverified((const char *)w->note.data, w->note.len, &latest)) == 0) {
		r = rombsr_queue_audit_checkpoint_path(latest.size, files->checkpoint_path, sizeof(files->checkpoint_path));
		if (r == 0)
			r = rombsr_repo_exists(repo, head, files->checkpoint_path, &exists);
		if (r == 0 && !exists) {
			rombsr_buf_append(&files->checkpoint, w->note.data, w->note.len);
			r = rombsr_buf_check(&files->checkpoint, "checkpoint");
		}
	}
	if (r < 0)
		rombsr_audit_files_free(files);
	return r;
}

void rombsr_audit_files_free(struct rombsr_audit_files *files)
{
	rombsr_buf_free(&files->chunk);
	rombsr_buf_free(&files->checkpoint);
}
