#define _GNU_SOURCE
#include "history_check.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../queue/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct history_seen {
	char id[ROMBSR_REQUEST_ID_LEN + 1];
	git_oid commit;
	char signer[41];
};

static int remember(struct history_seen **list, size_t *n, size_t *alloc, const char *id, const git_oid *commit,
		    const char *signer)
{
	if (*n == *alloc) {
		size_t want = *alloc ? *alloc * 2 : 256;
		struct history_seen *grown = realloc(*list, want * sizeof(**list));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		*list = grown;
		*alloc = want;
	}
	memcpy((*list)[*n].id, id, sizeof((*list)[*n].id));
	git_oid_cpy(&(*list)[*n].commit, commit);
	memcpy((*list)[*n].signer, signer, sizeof((*list)[*n].signer));
	(*n)++;
	return 0;
}

static int on_commit(const git_oid *commit, const struct rombsr_commit_report *report, void *ctx)
{
	struct history_check *hc = ctx;
	int r = 0;

	hc->verified_now++;
	hc->rec.commits++;
	for (size_t i = 0; i < report->nchanges && r == 0; i++) {
		const struct rombsr_commit_change *c = &report->changes[i];

		if (c->kind == ROMBSR_PATH_REQUEST) {
			hc->rec.requests++;
			if (hc->check_responses)
				r = remember(&hc->requests, &hc->nrequests, &hc->alloc_req, c->id, commit, report->signer);
		} else if (c->kind == ROMBSR_PATH_RESPONSE) {
			hc->rec.responses++;
			if (hc->check_responses)
				r = remember(&hc->responses, &hc->nresponses, &hc->alloc_resp, c->id, commit,
					     report->signer);
		}
	}
	if (r == 0 && hc->done != NULL)
		r = hc->done(commit, report, hc->done_ctx);
	return r;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct history_seen *)a)->id, ((const struct history_seen *)b)->id);
}

int history_request_commit_check(struct rombsr_repo *repo, const git_oid *upto, const char *hex, const char *id,
				 const char *what)
{
	char path[128];
	git_oid commit, parent;
	unsigned nparents;
	bool descends = false, here = false, before = false;
	int r;

	if (strlen(hex) != GIT_OID_HEXSZ || git_oid_fromstr(&commit, hex) < 0)
		return rombsr_error(ROMBSR_ESECURITY, "%s: request commit '%s' is not a commit ID", what, hex);
	r = rombsr_queue_request_path(id, path, sizeof(path));
	/* A commit this clone does not have is in no history it verified. */
	if (r == 0 && rombsr_repo_parents(repo, &commit, &nparents, &parent) < 0)
		return rombsr_error(ROMBSR_ESECURITY, "%s: names request commit %.12s, which is not in the queue's history",
				    what, hex);
	if (r == 0)
		r = rombsr_repo_descends(repo, upto, &commit, &descends);
	if (r == 0 && descends)
		r = rombsr_repo_exists(repo, &commit, path, &here);
	if (r == 0 && descends && here && nparents == 1)
		r = rombsr_repo_exists(repo, &parent, path, &before);
	if (r < 0)
		return r;
	if (!descends)
		return rombsr_error(ROMBSR_ESECURITY, "%s: names request commit %.12s, which is not in the queue's history",
				    what, hex);
	if (!here || before)
		return rombsr_error(ROMBSR_ESECURITY, "%s: names request commit %.12s, which did not add request %s", what,
				    hex, id);
	return 0;
}

/* Each response added since the base names the commit that carried its
 * request, and was committed by the sign node it names. A request older
 * than the base is found through the commit the response names: the
 * records vouch for the history up to the base, not for the response. */
static int check_responses(struct history_check *hc)
{
	struct rombsr_repo *repo = hc->qc->repo;

	/* qsort and bsearch take no NULL array, even an empty one. */
	if (hc->nrequests > 0 && hc->nchecked < hc->nresponses)
		qsort(hc->requests, hc->nrequests, sizeof(*hc->requests), by_id);
	for (; hc->nchecked < hc->nresponses; hc->nchecked++) {
		const struct history_seen *resp = &hc->responses[hc->nchecked];
		const struct history_seen *req =
			hc->nrequests > 0 ? bsearch(resp, hc->requests, hc->nrequests, sizeof(*hc->requests), by_id) : NULL;
		struct rombsr_response parsed;
		struct rombsr_buf text;
		char path[128], req_hex[GIT_OID_HEXSZ + 1];
		int r;

		rombsr_queue_response_path(resp->id, path, sizeof(path));
		r = rombsr_repo_read(repo, &resp->commit, path, ROMBSR_RESPONSE_MAX_BYTES, &text);
		if (r == 0)
			r = rombsr_response_parse((const char *)text.data, text.len, &parsed);
		rombsr_buf_free(&text);
		if (r < 0)
			return rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "%s", path);
		if (req != NULL)
			rombsr_oid_hex(&req->commit, req_hex);
		if (strcmp(parsed.request_id, resp->id) != 0)
			r = rombsr_error(ROMBSR_ESECURITY, "%s: answers request %s", path, parsed.request_id);
		else if (req == NULL && !hc->have_base)
			r = rombsr_error(ROMBSR_ESECURITY, "response %s answers no request", resp->id);
		else if (req == NULL)
			r = history_request_commit_check(repo, &hc->base, parsed.request_commit, resp->id, path);
		else if (strcmp(parsed.request_commit, req_hex) != 0)
			r = rombsr_error(ROMBSR_ESECURITY, "%s: names request commit %.12s, the request came in %.12s", path,
					 parsed.request_commit, req_hex);
		if (r == 0 && strcmp(parsed.sign_node, resp->signer) != 0)
			r = rombsr_error(ROMBSR_ESECURITY, "%s: names sign node %s but was committed by %s", path,
					 parsed.sign_node, resp->signer);
		if (parsed.signed_ok)
			hc->rec.signed_ok++;
		else
			hc->rec.rejected++;
		rombsr_response_free(&parsed);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A record that cannot be read stops the command: silently starting over
 * would also forget the head a rewritten history must descend from. */
static int read_record(const char *path, const git_oid *head, struct rombsr_repo *repo,
		       struct rombsr_verified_record *rec, bool *exists)
{
	char was[GIT_OID_HEXSZ + 1], now[GIT_OID_HEXSZ + 1];
	bool descends = false;
	int r = rombsr_verified_read(path, rec, exists);

	if (r < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", rombsr_error_message(r));
		return rombsr_error(r, "%s (remove the file to verify the whole history again)", why);
	}
	if (!*exists)
		return 0;
	if (rombsr_repo_descends(repo, head, &rec->head, &descends) < 0)
		descends = false;
	if (descends)
		return 0;
	rombsr_oid_hex(&rec->head, was);
	rombsr_oid_hex(head, now);
	return rombsr_error(ROMBSR_ESECURITY,
			    "history rewritten: the queue's head %.12s does not descend from %.12s, verified before (%s)",
			    now, was, path);
}

static int verify_to(struct history_check *hc, const git_oid *next)
{
	const git_oid *from = hc->have_base || hc->verified_now > 0 ? &hc->rec.head : NULL;
	int r = rombsr_verify_range(&hc->v, from, next, on_commit, hc);

	if (r == 0 && hc->check_responses)
		r = check_responses(hc);
	if (r == 0)
		git_oid_cpy(&hc->rec.head, next);
	return r;
}

int history_check_start(struct history_check *hc, struct queue_client *qc, const char *own, bool check_responses,
			bool full, const git_oid *head, rombsr_verified_fn done, void *ctx)
{
	const char *other = strcmp(own, HISTORY_QUEUE_RECORD) == 0 ? HISTORY_APPLY_RECORD : HISTORY_QUEUE_RECORD;
	struct rombsr_verified_record mine, theirs;
	bool have_mine, have_theirs;
	char admins[65];
	int r;

	memset(hc, 0, sizeof(*hc));
	hc->qc = qc;
	hc->check_responses = check_responses;
	hc->done = done;
	hc->done_ctx = ctx;
	if (asprintf(&hc->record_path, "%s/%s", qc->cfg->state_dir, own) < 0 ||
	    asprintf(&hc->other_path, "%s/%s", qc->cfg->state_dir, other) < 0) {
		hc->record_path = hc->other_path = NULL;
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	r = read_record(hc->record_path, head, qc->repo, &mine, &have_mine);
	if (r == 0)
		r = read_record(hc->other_path, head, qc->repo, &theirs, &have_theirs);
	if (r == 0)
		r = rombsr_verified_admins((const char(*)[41])qc->cfg->queue_admins, qc->cfg->queue_nadmins, admins);
	if (r < 0)
		return r;
	/* A head verified under other pinned admins proves nothing under
	 * these; queue-verify also needs the totals of its own record. */
	if (!full && have_mine && !mine.legacy && strcmp(mine.admins, admins) == 0 &&
	    (!check_responses || mine.have_totals)) {
		hc->have_base = true;
		hc->base = mine.head;
		if (check_responses)
			hc->rec = mine;
	}
	/* Apply needs only the commits verified: queue-verify's head, when
	 * further on, does as well (the reverse would skip response checks). */
	if (!full && !check_responses && have_theirs && !theirs.legacy && strcmp(theirs.admins, admins) == 0) {
		bool further = !hc->have_base;

		if (hc->have_base && rombsr_repo_descends(qc->repo, &theirs.head, &hc->base, &further) < 0)
			further = false;
		if (further) {
			hc->have_base = true;
			hc->base = theirs.head;
		}
	}
	git_oid_cpy(&hc->rec.head, &hc->base);
	memcpy(hc->rec.admins, admins, sizeof(admins));
	hc->rec.legacy = false;
	hc->rec.have_totals = check_responses;
	r = queue_client_verifier(qc, &hc->v, hc->have_base ? &hc->base : NULL);
	if (r < 0)
		return r;
	hc->have_verifier = true;
	return verify_to(hc, head);
}

int history_check_extend(struct history_check *hc, const git_oid *next)
{
	bool descends = false;
	int r;

	if (git_oid_equal(next, &hc->rec.head))
		return 0;
	r = rombsr_repo_descends(hc->qc->repo, next, &hc->rec.head, &descends);
	if (r == 0 && !descends)
		r = rombsr_error(ROMBSR_ESECURITY, "history rewritten while waiting: the queue's head no longer "
						   "descends from the one verified a moment ago");
	/* Only the new commits: the verifier carries the keys it learnt from
	 * the older ones. */
	if (r == 0)
		r = verify_to(hc, next);
	return r;
}

int history_check_save(struct history_check *hc)
{
	int r = rombsr_mkdir_p(hc->qc->cfg->state_dir, 0700);

	git_reference *ref = NULL;

	if (r == 0)
		r = rombsr_verified_write(hc->record_path, &hc->rec);
	/* rombsr_repo_fetch drops the fetched ref before each fetch; without
	 * a ref of its own at the verified head the copy would announce no
	 * commit it has, and every fetch would bring the whole history. */
	if (r == 0 && git_reference_create(&ref, rombsr_repo_git(hc->qc->repo), HISTORY_VERIFIED_REF, &hc->rec.head, 1,
					   "rombsr: verified") < 0)
		r = rombsr_repo_fail(ROMBSR_EIO, "cannot set " HISTORY_VERIFIED_REF);
	git_reference_free(ref);
	return r;
}

void history_check_free(struct history_check *hc)
{
	if (hc == NULL)
		return;
	if (hc->have_verifier)
		rombsr_verifier_free(&hc->v);
	free(hc->record_path);
	free(hc->other_path);
	free(hc->requests);
	free(hc->responses);
	memset(hc, 0, sizeof(*hc));
}
