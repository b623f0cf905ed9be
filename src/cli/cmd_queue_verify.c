/* rombsr queue-verify: checks a whole clone of the queue — every commit
 * signed by a key whose role allows each change it makes, under the trust
 * file in force at that commit; no rewritten history against the head this
 * node verified last; every response well formed and answering a request
 * that exists, committed by the sign node it names. Exit 0: all good;
 * 3: a security check failed; 1: could not check. */
#define _GNU_SOURCE
#include "cli.h"
#include "queue_client.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../queue/headfile.h"
#include "../queue/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPT_REPO = 1 };

static const struct cli_option options[] = {
	{"repo", "PATH", "verify this clone (any git clone of the queue) instead of fetching queue.url", OPT_REPO},
	{NULL, NULL, NULL, 0},
};

struct seen {
	char id[ROMBSR_REQUEST_ID_LEN + 1];
	char commit[GIT_OID_HEXSZ + 1];
	char signer[41];
};

struct tally {
	struct rombsr_repo *repo;
	struct seen *requests, *responses;
	size_t nrequests, nresponses, alloc_req, alloc_resp;
	size_t commits, signed_ok, rejected;
};

static int remember(struct seen **list, size_t *n, size_t *alloc, const char *id, const git_oid *commit,
		    const char *signer)
{
	if (*n == *alloc) {
		size_t want = *alloc ? *alloc * 2 : 256;
		struct seen *grown = realloc(*list, want * sizeof(**list));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		*list = grown;
		*alloc = want;
	}
	memcpy((*list)[*n].id, id, sizeof((*list)[*n].id));
	rombsr_oid_hex(commit, (*list)[*n].commit);
	memcpy((*list)[*n].signer, signer, 41);
	(*n)++;
	return 0;
}

static int on_commit(const git_oid *commit, const struct rombsr_commit_report *report, void *ctx)
{
	struct tally *t = ctx;
	int r = 0;

	t->commits++;
	for (size_t i = 0; i < report->nchanges && r == 0; i++) {
		const struct rombsr_commit_change *c = &report->changes[i];

		if (c->kind == ROMBSR_PATH_REQUEST)
			r = remember(&t->requests, &t->nrequests, &t->alloc_req, c->id, commit, report->signer);
		else if (c->kind == ROMBSR_PATH_RESPONSE)
			r = remember(&t->responses, &t->nresponses, &t->alloc_resp, c->id, commit, report->signer);
	}
	return r;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->id, ((const struct seen *)b)->id);
}

/* Each response names the commit that carried its request, and was
 * committed by the sign node it names. */
static int check_responses(struct tally *t)
{
	/* qsort and bsearch take no NULL array, even an empty one. */
	if (t->nrequests > 0)
		qsort(t->requests, t->nrequests, sizeof(*t->requests), by_id);
	for (size_t i = 0; i < t->nresponses; i++) {
		const struct seen *resp = &t->responses[i];
		const struct seen *req =
			t->nrequests > 0 ? bsearch(resp, t->requests, t->nrequests, sizeof(*t->requests), by_id) : NULL;
		struct rombsr_response parsed;
		struct rombsr_buf text;
		char path[128];
		git_oid oid;
		int r;

		if (req == NULL)
			return rombsr_error(ROMBSR_ESECURITY, "response %s answers no request", resp->id);
		rombsr_queue_response_path(resp->id, path, sizeof(path));
		git_oid_fromstr(&oid, resp->commit);
		r = rombsr_repo_read(t->repo, &oid, path, ROMBSR_RESPONSE_MAX_BYTES, &text);
		if (r == 0)
			r = rombsr_response_parse((const char *)text.data, text.len, &parsed);
		rombsr_buf_free(&text);
		if (r < 0)
			return rombsr_error_wrap(ROMBSR_ESECURITY, "%s", path);
		if (strcmp(parsed.request_id, resp->id) != 0)
			r = rombsr_error(ROMBSR_ESECURITY, "%s: answers request %s", path, parsed.request_id);
		else if (strcmp(parsed.request_commit, req->commit) != 0)
			r = rombsr_error(ROMBSR_ESECURITY, "%s: names request commit %.12s, the request came in %.12s",
					 path, parsed.request_commit, req->commit);
		else if (strcmp(parsed.sign_node, resp->signer) != 0)
			r = rombsr_error(ROMBSR_ESECURITY, "%s: names sign node %s but was committed by %s", path,
					 parsed.sign_node, resp->signer);
		if (parsed.signed_ok)
			t->signed_ok++;
		else
			t->rejected++;
		rombsr_response_free(&parsed);
		if (r < 0)
			return r;
	}
	return 0;
}

int cmd_queue_verify(struct cli_context *ctx, int argc, char **argv)
{
	struct queue_client qc;
	struct rombsr_verifier v;
	struct tally t = {0};
	const char *repo_path = NULL;
	char *state_file = NULL, head_hex[GIT_OID_HEXSZ + 2];
	git_oid head;
	struct cli_parser p;
	int id, r;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, "[--repo PATH]")) > 0)
		repo_path = p.value;
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	r = queue_client_open_reader(ctx, repo_path, &qc, &head);
	if (r == 0 && asprintf(&state_file, "%s/queue-verified.head", qc.cfg->state_dir) < 0)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0)
		r = rombsr_head_file_check(qc.repo, state_file, &head);
	t.repo = qc.repo;
	if (r == 0)
		r = queue_client_verifier(&qc, &v, NULL);
	if (r == 0) {
		r = rombsr_verify_range(&v, NULL, &head, on_commit, &t);
		rombsr_verifier_free(&v);
	}
	if (r == 0)
		r = check_responses(&t);
	if (r == 0) {
		rombsr_oid_hex(&head, head_hex);
		printf("queue ok: %zu commits, %zu requests, %zu responses (%zu signed, %zu rejected), %zu pending, head %s\n",
		       t.commits, t.nrequests, t.nresponses, t.signed_ok, t.rejected, t.nrequests - t.nresponses,
		       head_hex);
		r = rombsr_mkdir_p(qc.cfg->state_dir, 0700);
		if (r == 0)
			r = rombsr_head_file_write(state_file, &head);
	}
	free(t.requests);
	free(t.responses);
	free(state_file);
	queue_client_close(&qc);
	return r;
}
