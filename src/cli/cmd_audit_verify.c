/* rombsr audit-verify: checks the audit log a clone of the queue holds —
 * every entry, the rebuilt tree, every checkpoint's signature by the audit
 * key and its consistency with the one before and with the checkpoint this
 * machine accepted last time; then every response's inclusion proof, and
 * that responses and log agree signature for signature in both directions.
 * Exit 0: all good; 3: tampering, a fork or a mismatch (named); 1: could
 * not check. docs/audit-log.md. */
#define _GNU_SOURCE
#include "audit_clone.h"
#include "audit_incident.h"
#include "audit_device.h"
#include "audit_server.h"
#include "cli.h"

#include "../audit/log.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"
#include "../queue/response.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_REPO = 1, OPT_VKEY };

static const struct cli_option options[] = {
	{"repo", "PATH", "verify this clone of the queue instead of fetching queue.url", OPT_REPO},
	{"vkey", "FILE", "the audit verifier key (default: audit.vkey from the configuration)", OPT_VKEY},
	{NULL, NULL, NULL, 0},
};

struct cross {
	struct audit_clone *ac;
	struct rombsr_audit_log *log; /* ac->log */
	unsigned char *covered; /* one flag per entry: a response accounts for it */
	size_t responses, signatures;
	struct audit_servers servers; /* the signing server's decisions */
	struct audit_device device;   /* a YubiHSM's own log */
	/* Requests the log records as rejected: a signature entry of one is
	 * what the HSM made before or beside the refusal, never handed out. */
	char (*rejected)[ROMBSR_AUDIT_ID_MAX + 1];
	size_t nrejected, rejected_alloc, unused;
};

static int note_rejected(struct cross *x, const char *request_id)
{
	if (x->nrejected == x->rejected_alloc) {
		size_t want = x->rejected_alloc ? 2 * x->rejected_alloc : 64;
		void *grown = realloc(x->rejected, want * sizeof(*x->rejected));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		x->rejected = grown;
		x->rejected_alloc = want;
	}
	snprintf(x->rejected[x->nrejected++], sizeof(x->rejected[0]), "%s", request_id);
	return 0;
}

static bool was_rejected(const struct cross *x, const char *request_id)
{
	for (size_t i = 0; i < x->nrejected; i++)
		if (strcmp(x->rejected[i], request_id) == 0)
			return true;
	return false;
}

/* The proof is checked against the audit key, or, when it carries one of
 * the log's checkpoints (the sign node proves each response against the
 * checkpoint of its pass), against that checkpoint already verified: one
 * signature check per checkpoint, not one per response. */
static int proof_verify(struct cross *x, const char *proof, const struct rombsr_buf *entry,
			struct rombsr_checkpoint *cp, uint64_t *index)
{
	const struct rombsr_note_verifier *trusted[] = {x->ac->trusted};
	struct rombsr_checkpoint known;
	size_t len = strlen(proof), note_len;
	const char *note;
	bool is_known = false;
	int r = rombsr_audit_proof_note(proof, len, &note, &note_len);

	if (r == 0)
		r = audit_clone_known_checkpoint(x->ac, note, note_len, &known, &is_known);
	if (r == 0 && is_known)
		return rombsr_audit_proof_verify_known(proof, len, (const char *)entry->data, entry->len, note, note_len,
						       &known, cp, index);
	return rombsr_audit_proof_verify(proof, len, (const char *)entry->data, entry->len, trusted, 1,
					 x->ac->qc.cfg->audit_origin, cp, index);
}

static int entry_at(struct cross *x, uint64_t index, struct rombsr_audit_entry *e, struct rombsr_buf *line)
{
	return audit_clone_entry(x->ac, index, e, line);
}

static int signature_matches(const struct rombsr_audit_entry *e, const struct rombsr_response *resp,
			     const struct rombsr_response_sig *s)
{
	unsigned char md[32];
	char hex[2 * ROMBSR_CAP_TBS_MAX + 1];

	if (e->type != ROMBSR_AUDIT_SIGNATURE || strcmp(e->request_id, resp->request_id) != 0 ||
	    strcmp(e->request_commit, resp->request_commit) != 0 || strcmp(e->key_label, s->op.label) != 0 ||
	    strcmp(e->key_fingerprint, s->op.spki_sha256) != 0 || strcmp(e->mechanism, s->op.mech->name) != 0)
		return 0;
	rombsr_hex_encode(s->op.tbs, s->op.tbs_len, hex);
	if (strcmp(e->digest, hex) != 0)
		return 0;
	SHA256(s->sig, s->sig_len, md);
	rombsr_hex_encode(md, 32, hex);
	return strcmp(e->signature_sha256, hex) == 0;
}

/* The response's proof leads from its decision entry to a checkpoint the
 * audit key signed, of this very log; the entries it names are its
 * decision and its signatures, one for one. */
static int check_response(struct cross *x, const char *path, const struct rombsr_response *resp)
{
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	unsigned char root[ROMBSR_MERKLE_HASH_LEN];
	struct rombsr_checkpoint cp;
	struct rombsr_buf line = {0};
	uint64_t size = rombsr_audit_log_size(x->log), index;
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0 && !resp->has_audit)
		r = rombsr_error(ROMBSR_ESECURITY, "%s: carries no audit log entry", path);
	if (r == 0 && (resp->audit_index >= size || resp->audit_entries > size - resp->audit_index))
		r = rombsr_error(ROMBSR_ESECURITY, "%s: names entries %llu+%llu, the log has %llu", path,
				 (unsigned long long)resp->audit_index, (unsigned long long)resp->audit_entries,
				 (unsigned long long)size);
	if (r == 0) {
		r = entry_at(x, resp->audit_index, e, &line);
		if (r == 0)
			r = proof_verify(x, resp->audit_proof, &line, &cp, &index);
		/* A proof that does not parse is, to the verifier, a security
		 * failure (as a response that does not parse); any other failure
		 * keeps its kind: one that does not verify is ESECURITY already,
		 * and a broken library is not tampering. */
		if (r == ROMBSR_EINVAL)
			r = rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "%s: audit proof", path);
		else if (r < 0)
			r = rombsr_error_wrap(r, "%s: audit proof", path);
	}
	rombsr_buf_free(&line);
	if (r == 0 && index != resp->audit_index)
		r = rombsr_error(ROMBSR_ESECURITY, "%s: audit proof: the proof is for entry %llu", path,
				 (unsigned long long)index);
	if (r == 0 && cp.size > size)
		r = rombsr_error(ROMBSR_ESECURITY, "%s: audit proof: the proof's checkpoint has %llu entries, the log %llu",
				 path, (unsigned long long)cp.size, (unsigned long long)size);
	if (r == 0 && (r = rombsr_audit_log_root(x->log, cp.size, root)) < 0)
		r = rombsr_error_wrap(r, "%s: audit proof", path);
	if (r == 0 && memcmp(root, cp.root, sizeof(root)) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "%s: audit proof: the proof's checkpoint is not of this log", path);
	if (r == 0 && (e->type != (resp->signed_ok ? ROMBSR_AUDIT_REQUEST_SIGNED : ROMBSR_AUDIT_REQUEST_REJECTED) ||
		       strcmp(e->request_id, resp->request_id) != 0 || strcmp(e->request_commit, resp->request_commit) != 0 ||
		       (resp->signed_ok && (e->signatures != resp->nsigs || resp->audit_entries != resp->nsigs + 1)) ||
		       (!resp->signed_ok && (strcmp(e->reason, resp->reason_code) != 0 || resp->audit_entries != 1))))
		r = rombsr_error(ROMBSR_ESECURITY, "%s: audit entry %llu records another decision", path,
				 (unsigned long long)resp->audit_index);
	for (size_t i = 0; r == 0 && resp->signed_ok && i < resp->nsigs; i++) {
		uint64_t at = resp->audit_index + 1 + i;

		r = entry_at(x, at, e, &line);
		rombsr_buf_free(&line);
		if (r == 0 && !signature_matches(e, resp, &resp->sigs[i]))
			r = rombsr_error(ROMBSR_ESECURITY, "%s: signature %zu is not the one audit entry %llu records", path, i,
					 (unsigned long long)at);
		x->signatures++;
	}
	for (uint64_t i = 0; r == 0 && i < resp->audit_entries; i++) {
		if (x->covered[resp->audit_index + i])
			r = rombsr_error(ROMBSR_ESECURITY, "%s: audit entry %llu is claimed by two responses", path,
					 (unsigned long long)(resp->audit_index + i));
		x->covered[resp->audit_index + i] = 1;
	}
	if (r == 0 && !resp->signed_ok)
		r = note_rejected(x, resp->request_id);
	free(e);
	return r;
}

static int check_responses(struct cross *x)
{
	int r = 0;

	for (size_t i = 0; i < x->ac->nresponses && r == 0; i++) {
		struct rombsr_response resp;
		struct rombsr_buf text;

		r = rombsr_repo_read(x->ac->qc.repo, &x->ac->head, x->ac->responses[i], ROMBSR_RESPONSE_MAX_BYTES, &text);
		if (r == 0) {
			r = rombsr_response_parse((const char *)text.data, text.len, &resp);
			rombsr_buf_free(&text);
			if (r < 0)
				return rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "%s", x->ac->responses[i]);
			r = check_response(x, x->ac->responses[i], &resp);
			rombsr_response_free(&resp);
			x->responses++;
		}
	}
	return r;
}

static int uncovered_entry(struct cross *x, uint64_t i, struct rombsr_audit_entry *e)
{
	struct rombsr_buf line;
	int r = entry_at(x, i, e, &line);

	rombsr_buf_free(&line);
	return r;
}

/* Every decision and signature in the log belongs to a response; every
 * freeze and key-revocation entry is what the queue holds at its commit
 * (audit_incident.h). */
static int check_every_entry_answered(struct cross *x, struct audit_incidents *inc)
{
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	uint64_t size = rombsr_audit_log_size(x->log);
	bool server = false;
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	/* The signing server's rejections first, which no response names. */
	for (uint64_t i = 0; i < size && r == 0; i++) {
		if (x->covered[i] || (r = uncovered_entry(x, i, e)) < 0)
			continue;
		if (e->type == ROMBSR_AUDIT_REQUEST_REJECTED)
			r = note_rejected(x, e->request_id);
	}
	for (uint64_t i = 0; i < size && r == 0; i++) {
		if (x->covered[i])
			continue;
		r = uncovered_entry(x, i, e);
		/* First: a device entry names the request it signed for, which
		 * may be the signing server's. */
		if (r == 0)
			r = audit_device_entry(&x->device, e, i);
		if (r == 0)
			r = audit_server_entry(&x->servers, x->ac->qc.repo, e, i, &server);
		if (r == 0 && server)
			continue;
		if (r == 0 && e->type == ROMBSR_AUDIT_SIGNATURE && was_rejected(x, e->request_id)) {
			x->unused++;
			continue;
		}
		if (r == 0 && (e->type == ROMBSR_AUDIT_REQUEST_SIGNED || e->type == ROMBSR_AUDIT_REQUEST_REJECTED ||
			       e->type == ROMBSR_AUDIT_SIGNATURE))
			r = rombsr_error(ROMBSR_ESECURITY, "audit entry %llu (%s, request %s) has no response in the queue",
					 (unsigned long long)i, rombsr_audit_type_name(e->type), e->request_id);
		if (r == 0)
			r = audit_incident_entry(inc, x->ac->qc.repo, e);
	}
	free(e);
	return r;
}

/* No signature after the revocation of its key: the sign node must have
 * refused it. Only the part of the log after the first revocation is read
 * again, and only when there is one. */
static int check_no_revoked_signature(struct cross *x, const struct audit_incidents *inc)
{
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	uint64_t size = rombsr_audit_log_size(x->log), first = UINT64_MAX, at;
	bool revoked;
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	for (size_t i = 0; i < inc->n; i++)
		first = inc->revoked[i].index < first ? inc->revoked[i].index : first;
	for (uint64_t i = first == UINT64_MAX ? size : first + 1; i < size && r == 0; i++) {
		struct rombsr_buf line;

		r = entry_at(x, i, e, &line);
		rombsr_buf_free(&line);
		if (r < 0 || e->type != ROMBSR_AUDIT_SIGNATURE)
			continue;
		audit_incident_revoked_before(inc, e, &revoked, &at);
		if (revoked)
			r = rombsr_error(ROMBSR_ESECURITY, "audit entry %llu: a signature by key '%s' (request %s) after its "
							   "revocation (entry %llu)", (unsigned long long)i, e->key_label,
					 e->request_id, (unsigned long long)at);
	}
	free(e);
	return r;
}

int cmd_audit_verify(struct cli_context *ctx, int argc, char **argv)
{
	const char *repo_path = NULL, *vkey = NULL;
	const struct rombsr_audit_report *report = NULL;
	struct audit_clone ac;
	struct audit_incidents inc = {0};
	struct cross x = {0};
	struct cli_parser p;
	int id, r;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, "[--repo PATH] [--vkey FILE]")) > 0) {
		if (id == OPT_REPO)
			repo_path = p.value;
		else
			vkey = p.value;
	}
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	r = audit_clone_open_verified(ctx, repo_path, vkey, &ac);
	if (r < 0)
		return r;
	report = &ac.report;
	x.ac = &ac;
	x.log = ac.log;
	if ((x.covered = calloc(rombsr_audit_log_size(x.log) + 1, 1)) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0)
		r = check_responses(&x);
	if (r == 0)
		r = check_every_entry_answered(&x, &inc);
	if (r == 0)
		r = check_no_revoked_signature(&x, &inc);
	if (r == 0) {
		printf("audit ok: %llu entries, %llu checkpoints, %zu responses and %zu signatures match the log",
		       (unsigned long long)report->entries, (unsigned long long)report->checkpoints, x.responses,
		       x.signatures);
		if (x.unused > 0)
			printf(", %zu signatures of rejected requests never handed out", x.unused);
		if (x.servers.decisions > 0)
			printf(", %zu signing server decisions match the clients list", x.servers.decisions);
		if (x.device.entries > 0)
			printf(", %zu device log entries chain unbroken", x.device.entries);
		if (x.device.anomalies > 0)
			printf(", %zu device log anomalies (%zu unmatched device signatures)", x.device.anomalies,
			       x.device.unmatched);
		if (report->has_latest)
			printf(", latest checkpoint %llu entries", (unsigned long long)report->latest.size);
		printf("\n");
		if (report->has_latest && report->latest.size < report->entries)
			fprintf(stderr, "rombsr audit-verify: note: entries %llu and later are not covered by a checkpoint yet\n",
				(unsigned long long)report->latest.size);
		r = rombsr_mkdir_p(ac.qc.cfg->state_dir, 0700);
		if (r == 0 && report->has_latest)
			r = rombsr_file_write_atomic(ac.remembered, report->latest_note.data, report->latest_note.len, 0600,
						     false);
	}
	free(x.covered);
	audit_servers_free(&x.servers);
	free(x.rejected);
	audit_incidents_free(&inc);
	audit_clone_close(&ac);
	return r;
}
