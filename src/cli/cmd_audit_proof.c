/* rombsr audit-proof: a self-contained proof that one entry (typically a
 * signature) is in the audit log — the entry's bytes, then a C2SP
 * tlog-proof of it against the newest checkpoint signed by the audit key —
 * that a third party checks with SHA-256 and the audit key's public key
 * alone (docs/audit-log.md, "rombsr audit-proof"). The log is verified
 * first, as audit-verify does; the proof is checked before it is printed. */
#define _GNU_SOURCE
#include "audit_clone.h"
#include "cli.h"

#include "../audit/entry.h"
#include "../common/error.h"
#include "../queue/layout.h"
#include "../queue/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROOF_HEADER "rombsr.audit-proof@v1\n"

enum { OPT_REPO = 1, OPT_VKEY, OPT_REQUEST, OPT_OP, OPT_INDEX };

static const struct cli_option options[] = {
	{"repo", "PATH", "read this clone of the queue instead of fetching queue.url", OPT_REPO},
	{"vkey", "FILE", "the audit verifier key (default: audit.vkey from the configuration)", OPT_VKEY},
	{"request", "ID", "the request whose signature to prove (with --op)", OPT_REQUEST},
	{"op", "N", "the request's operation N (from 0): its signature entry", OPT_OP},
	{"index", "N", "the entry with this index instead", OPT_INDEX},
	{NULL, NULL, NULL, 0},
};

#define USAGE "[--repo PATH] [--vkey FILE] (--request ID --op N | --index N)"

struct target {
	const char *request;
	unsigned long op, index;
	bool has_op, has_index;
};

static int parse_options(struct cli_parser *p, int argc, char **argv, const char **repo, const char **vkey,
			 struct target *t)
{
	int id = 0, r = 0;

	memset(t, 0, sizeof(*t));
	while (r == 0 && (id = cli_next(p, USAGE)) > 0) {
		switch (id) {
		case OPT_REPO:
			*repo = p->value;
			break;
		case OPT_VKEY:
			*vkey = p->value;
			break;
		case OPT_REQUEST:
			t->request = p->value;
			if (!rombsr_request_id_valid(t->request))
				r = rombsr_error(ROMBSR_EINVAL, "--request: '%s' is not a request ID (%s)", t->request,
						 ROMBSR_REQUEST_ID_FORM);
			break;
		case OPT_OP:
			t->has_op = true;
			r = cli_parse_uint(p->value, ROMBSR_REQUEST_MAX_OPERATIONS - 1, &t->op, "--op");
			break;
		case OPT_INDEX:
			t->has_index = true;
			r = cli_parse_uint(p->value, (unsigned long)INT64_MAX, &t->index, "--index");
			break;
		}
	}
	if (r < 0)
		return r;
	if (id < 0)
		return id;
	if (p->index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p->index]);
	if (t->has_index ? (t->request != NULL || t->has_op) : (t->request == NULL || !t->has_op))
		return rombsr_error(ROMBSR_EINVAL, "give --request ID --op N, or --index N");
	return 0;
}

/* The index of the signature entry of operation op of request id: the
 * request's decision entry, then its signatures in operation order. */
static int find_signature(const struct audit_clone *ac, uint64_t vouched, const char *id, unsigned long op,
			  uint64_t *index)
{
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	uint64_t i;
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");
	bool found = false;

	for (i = 0; i < vouched && r == 0 && !found; i++) {
		struct rombsr_buf line;

		r = audit_clone_entry(ac, i, e, &line);
		rombsr_buf_free(&line);
		found = r == 0 && strcmp(e->request_id, id) == 0 &&
			(e->type == ROMBSR_AUDIT_REQUEST_SIGNED || e->type == ROMBSR_AUDIT_REQUEST_REJECTED);
	}
	if (r == 0 && !found)
		r = rombsr_error(ROMBSR_ENOTFOUND, "request %s has no decision in the log's %llu signed entries", id,
				 (unsigned long long)vouched);
	if (r == 0 && e->type == ROMBSR_AUDIT_REQUEST_REJECTED)
		r = rombsr_error(ROMBSR_ENOTFOUND, "request %s was rejected (%s, entry %llu): nothing was signed for it", id,
				 e->reason, (unsigned long long)(i - 1));
	if (r == 0 && op >= e->signatures)
		r = rombsr_error(ROMBSR_ENOTFOUND, "request %s has %llu signatures (operations 0 to %llu)", id,
				 (unsigned long long)e->signatures, (unsigned long long)e->signatures - 1);
	free(e);
	/* i is one past the decision entry: its first signature. */
	if (r == 0)
		*index = i + op;
	return r;
}

/* Proof of entry index against the newest verified checkpoint, checked
 * as a third party would before it leaves: a wrong proof is never printed. */
static int make_proof(const struct audit_clone *ac, uint64_t index, const char *request, struct rombsr_buf *out)
{
	const struct rombsr_note_verifier *trusted[] = {ac->trusted};
	const struct rombsr_buf *note = &ac->report.latest_note;
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	struct rombsr_buf line = {0}, tlog = {0};
	struct rombsr_checkpoint cp;
	uint64_t proved;
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	rombsr_buf_init(out, ROMBSR_AUDIT_ENTRY_MAX + 2 * ROMBSR_NOTE_MAX);
	if (r == 0)
		r = audit_clone_entry(ac, index, e, &line);
	if (r == 0 && request != NULL && (e->type != ROMBSR_AUDIT_SIGNATURE || strcmp(e->request_id, request) != 0))
		r = rombsr_error(ROMBSR_ESECURITY, "entry %llu is not a signature of request %s", (unsigned long long)index,
				 request);
	if (r == 0)
		r = rombsr_audit_log_proof(ac->log, index, (const char *)note->data, note->len, &tlog);
	if (r == 0)
		r = rombsr_audit_proof_verify((const char *)tlog.data, tlog.len, (const char *)line.data, line.len, trusted,
					      1, ac->qc.cfg->audit_origin, &cp, &proved);
	if (r == 0 && proved != index)
		r = rombsr_error(ROMBSR_EINTERNAL, "the proof is for entry %llu", (unsigned long long)proved);
	if (r == 0) {
		rombsr_buf_append(out, PROOF_HEADER, strlen(PROOF_HEADER));
		rombsr_buf_append(out, line.data, line.len);
		rombsr_buf_append(out, "\n", 1);
		rombsr_buf_append(out, tlog.data, tlog.len);
		r = rombsr_buf_check(out, "audit proof");
	}
	if (r == 0)
		cli_info("rombsr audit-proof: entry %llu (%s) against the checkpoint of %llu entries", (unsigned long long)index,
			 rombsr_audit_type_name(e->type), (unsigned long long)cp.size);
	rombsr_buf_free(&line);
	rombsr_buf_free(&tlog);
	free(e);
	return r;
}

int cmd_audit_proof(struct cli_context *ctx, int argc, char **argv)
{
	const char *repo_path = NULL, *vkey = NULL;
	struct rombsr_buf proof = {0};
	struct audit_clone ac;
	struct target t;
	struct cli_parser p;
	uint64_t vouched, index;
	int r;

	cli_parser_init(&p, options, argc, argv);
	r = parse_options(&p, argc, argv, &repo_path, &vkey, &t);
	if (r < 0)
		return r;
	r = audit_clone_open_verified(ctx, repo_path, vkey, &ac);
	if (r < 0)
		return r;
	vouched = audit_clone_vouched(&ac);
	index = t.index;
	if (t.request != NULL)
		r = find_signature(&ac, vouched, t.request, t.op, &index);
	if (r == 0 && index >= vouched)
		r = rombsr_error(ROMBSR_ENOTFOUND, "entry %llu is not covered by a checkpoint signed by the audit key "
						   "(the newest covers %llu of %llu entries)",
				 (unsigned long long)index, (unsigned long long)vouched,
				 (unsigned long long)ac.report.entries);
	if (r == 0)
		r = make_proof(&ac, index, t.request, &proof);
	if (r == 0 && (fwrite(proof.data, 1, proof.len, stdout) != proof.len || fflush(stdout) != 0))
		r = rombsr_error(ROMBSR_EIO, "cannot write the proof");
	rombsr_buf_free(&proof);
	audit_clone_close(&ac);
	return r;
}
