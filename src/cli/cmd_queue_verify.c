/* rombsr queue-verify: checks a clone of the queue — every commit signed by
 * a key whose role allows each change it makes, under the trust file in
 * force at that commit; no rewritten history against the heads this node
 * verified before; every response well formed and answering a request that
 * exists, committed by the sign node it names. Only the commits after the
 * recorded head are verified (history_check.h), unless --full. Exit 0: all
 * good; 3: a security check failed; 1: could not check. */
#define _GNU_SOURCE
#include "cli.h"
#include "history_check.h"

#include "../common/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum { OPT_REPO = 1, OPT_FULL };

static const struct cli_option options[] = {
	{"repo", "PATH", "verify this clone (any git clone of the queue) instead of fetching queue.url", OPT_REPO},
	{"full", NULL, "verify the whole history again, not only the commits after the recorded head", OPT_FULL},
	{NULL, NULL, NULL, 0},
};

int cmd_queue_verify(struct cli_context *ctx, int argc, char **argv)
{
	struct queue_client qc;
	struct history_check hc;
	const char *repo_path = NULL;
	char head_hex[GIT_OID_HEXSZ + 2];
	bool full = false;
	git_oid head;
	struct cli_parser p;
	int id, r;

	cli_parser_init(&p, options, argc, argv);
	while ((id = cli_next(&p, "[--repo PATH] [--full]")) > 0) {
		if (id == OPT_REPO)
			repo_path = p.value;
		else
			full = true;
	}
	if (id < 0)
		return id;
	if (p.index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	memset(&hc, 0, sizeof(hc));
	r = queue_client_open_reader(ctx, repo_path, &qc, &head);
	if (r == 0)
		r = history_check_start(&hc, &qc, HISTORY_QUEUE_RECORD, true, full, &head, NULL, NULL);
	/* The record moves only once everything up to head holds. */
	if (r == 0)
		r = history_check_save(&hc);
	if (r == 0) {
		const struct rombsr_verified_record *t = &hc.rec;

		rombsr_oid_hex(&head, head_hex);
		printf("queue ok: %" PRIu64 " commits, %" PRIu64 " requests, %" PRIu64 " responses (%" PRIu64
		       " signed, %" PRIu64 " rejected), %" PRIu64 " pending, head %s, %" PRIu64 " verified now\n",
		       t->commits, t->requests, t->responses, t->signed_ok, t->rejected, t->requests - t->responses,
		       head_hex, hc.verified_now);
	}
	history_check_free(&hc);
	queue_client_close(&qc);
	return r;
}
