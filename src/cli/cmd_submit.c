/* rombsr submit: the build node's request. Reads the capture journals the
 * capture module wrote while the build's tools ran, hashes the artifacts,
 * writes a version 1 request, commits it signed with the build node's key
 * and pushes it to the queue. Prints the request ID. */
#include "cli.h"
#include "queue_client.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/json_strict.h"
#include "../queue/request.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
	OPT_JOURNAL = 1,
	OPT_ARTIFACT,
	OPT_PRODUCT,
	OPT_BUILD_ID,
	OPT_SOURCE_COMMIT,
	OPT_BUILD_TYPE,
	OPT_AUTHORITY,
	OPT_ROUND,
	OPT_EXPIRES_IN,
};

static const struct cli_option options[] = {
	{"journal", "FILE", "a capture journal (repeatable; at least one)", OPT_JOURNAL},
	{"artifact", "FILE[=NAME]", "an artifact of the build (repeatable); NAME defaults to FILE", OPT_ARTIFACT},
	{"product", "NAME", "the product built (required)", OPT_PRODUCT},
	{"build-id", "ID", "the build's ID (required)", OPT_BUILD_ID},
	{"source-commit", "SHA", "the source commit built (required)", OPT_SOURCE_COMMIT},
	{"build-type", "TYPE", "user, userdebug or eng (required)", OPT_BUILD_TYPE},
	{"authority", "NAME", "release (default) or manifest", OPT_AUTHORITY},
	{"round", "N", "signing round of this build (default 1)", OPT_ROUND},
	{"expires-in", "SECONDS", "how long the request stays valid (default 86400)", OPT_EXPIRES_IN},
	{NULL, NULL, NULL, 0},
};

#define MAX_INPUTS 256

struct submit_args {
	const char *journals[MAX_INPUTS];
	size_t njournals;
	const char *artifacts[MAX_INPUTS];
	size_t nartifacts;
	const char *product, *build_id, *source_commit, *build_type, *authority;
	unsigned long round, expires_in;
};

static int add_artifacts(const struct submit_args *a, struct rombsr_request *req)
{
	req->artifacts = calloc(a->nartifacts + 1, sizeof(*req->artifacts));
	if (req->artifacts == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < a->nartifacts; i++) {
		struct rombsr_artifact *art = &req->artifacts[i];
		char file[4096];
		const char *eq = strchr(a->artifacts[i], '=');
		const char *name = eq ? eq + 1 : a->artifacts[i];
		int r;

		snprintf(file, sizeof(file), "%.*s", eq ? (int)(eq - a->artifacts[i]) : (int)strlen(a->artifacts[i]),
			 a->artifacts[i]);
		if (strlen(name) == 0 || strlen(name) > ROMBSR_NAME_MAX)
			return rombsr_error(ROMBSR_EINVAL, "artifact name '%s' must be 1 to %d characters", name,
					    ROMBSR_NAME_MAX);
		r = rombsr_safe_name(name, "--artifact");
		if (r == 0)
			r = rombsr_file_sha256(file, art->sha256, &art->size);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp(req->artifacts[j].name, name) == 0)
				return rombsr_error(ROMBSR_EINVAL, "artifact name '%s' given twice", name);
		snprintf(art->name, sizeof(art->name), "%s", name);
		req->nartifacts++;
	}
	return 0;
}

/* Every journal's operations, each once: two tools (or one tool twice)
 * asking for the same signature need one answer. */
static int add_operations(const struct submit_args *a, struct rombsr_request *req)
{
	size_t alloc = 0;

	for (size_t j = 0; j < a->njournals; j++) {
		struct rombsr_cap_entry *entries = NULL;
		size_t n = 0;
		int r = rombsr_cap_journal_read(a->journals[j], &entries, &n);

		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			bool dup = false;

			for (size_t k = 0; k < req->nops && !dup; k++)
				dup = rombsr_cap_op_same(&req->ops[k].op, &entries[i].op);
			if (dup)
				continue;
			if (req->nops == ROMBSR_REQUEST_MAX_OPERATIONS) {
				rombsr_cap_journal_free(entries, n);
				return rombsr_error(ROMBSR_EINVAL, "more than %d operations in one request",
						    ROMBSR_REQUEST_MAX_OPERATIONS);
			}
			if (req->nops == alloc) {
				size_t want = alloc ? alloc * 2 : 64;
				struct rombsr_request_op *grown = realloc(req->ops, want * sizeof(*grown));

				if (grown == NULL) {
					rombsr_cap_journal_free(entries, n);
					return rombsr_error(ROMBSR_ENOMEM, "out of memory");
				}
				req->ops = grown;
				alloc = want;
			}
			memset(&req->ops[req->nops], 0, sizeof(req->ops[0]));
			req->ops[req->nops].op = entries[i].op;
			snprintf(req->ops[req->nops].program, sizeof(req->ops[0].program), "%s", entries[i].program);
			/* The data the module saw goes along (the request owns it now). */
			req->ops[req->nops].data = entries[i].data;
			req->ops[req->nops].data_len = entries[i].data_len;
			entries[i].data = NULL;
			req->nops++;
		}
		rombsr_cap_journal_free(entries, n);
	}
	if (req->nops == 0)
		return rombsr_error(ROMBSR_EINVAL, "the journals hold no signing operation");
	return 0;
}

static int parse_args(struct cli_context *ctx, int argc, char **argv, struct submit_args *a)
{
	struct cli_parser p;
	int id, r = 0;

	memset(a, 0, sizeof(*a));
	a->authority = "release";
	a->round = 1;
	a->expires_in = 86400;
	(void)ctx;
	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, "--journal FILE --artifact FILE --product P --build-id ID "
					     "--source-commit SHA --build-type TYPE")) > 0) {
		switch (id) {
		case OPT_JOURNAL:
		case OPT_ARTIFACT: {
			const char **list = id == OPT_JOURNAL ? a->journals : a->artifacts;
			size_t *n = id == OPT_JOURNAL ? &a->njournals : &a->nartifacts;

			if (*n == MAX_INPUTS)
				r = rombsr_error(ROMBSR_EINVAL, "more than %d --%s", MAX_INPUTS,
						 id == OPT_JOURNAL ? "journal" : "artifact");
			else
				list[(*n)++] = p.value;
			break;
		}
		case OPT_PRODUCT:
			a->product = p.value;
			break;
		case OPT_BUILD_ID:
			a->build_id = p.value;
			break;
		case OPT_SOURCE_COMMIT:
			a->source_commit = p.value;
			break;
		case OPT_BUILD_TYPE:
			a->build_type = p.value;
			break;
		case OPT_AUTHORITY:
			a->authority = p.value;
			break;
		case OPT_ROUND:
			r = cli_parse_uint(p.value, ROMBSR_REQUEST_MAX_ROUND, &a->round, "--round");
			break;
		case OPT_EXPIRES_IN:
			r = cli_parse_uint(p.value, ROMBSR_REQUEST_MAX_LIFETIME, &a->expires_in, "--expires-in");
			break;
		}
	}
	if (r == 0 && id < 0)
		r = id;
	if (r == 0 && p.index != argc)
		r = rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (r == 0 && a->njournals == 0)
		r = rombsr_error(ROMBSR_EINVAL, "--journal FILE is required");
	if (r == 0 && (!a->product || !a->build_id || !a->source_commit || !a->build_type))
		r = rombsr_error(ROMBSR_EINVAL, "--product, --build-id, --source-commit and --build-type are required");
	if (r == 0 && (a->round == 0 || a->expires_in == 0))
		r = rombsr_error(ROMBSR_EINVAL, "--round and --expires-in must be at least 1");
	return r;
}

/* The request is built through its own format: encoded, then parsed back
 * strictly, so submit can never push what the sign node would refuse as
 * malformed. */
static int make_request(const struct submit_args *a, const char *build_node, struct rombsr_buf *text, char id[33])
{
	struct rombsr_request req = {0}, check;
	unsigned char raw[ROMBSR_REQUEST_ID_RANDOM];
	json_t *doc;
	int r = 0;

	/* The ID starts with the creation date, which files the request
	 * under that day's folder of the queue. */
	req.created = time(NULL);
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot draw a request ID");
	r = rombsr_request_id_make(req.created, raw, req.id);
	if (r < 0)
		return r;
	req.expires = req.created + (time_t)a->expires_in;
	req.round = (unsigned)a->round;
	/* Free-text fields go through the parser's own checks below; here
	 * they only need to fit. */
	if (strlen(a->product) > ROMBSR_TEXT_MAX || strlen(a->build_id) > ROMBSR_TEXT_MAX ||
	    strlen(a->source_commit) > 64)
		return rombsr_error(ROMBSR_EINVAL, "--product and --build-id take at most %d characters, "
						   "--source-commit a 40- or 64-digit commit ID", ROMBSR_TEXT_MAX);
	snprintf(req.product, sizeof(req.product), "%s", a->product);
	snprintf(req.build_id, sizeof(req.build_id), "%s", a->build_id);
	snprintf(req.source_commit, sizeof(req.source_commit), "%s", a->source_commit);
	snprintf(req.build_node, sizeof(req.build_node), "%s", build_node);
	doc = json_pack("{s:s, s:s}", "build_type", a->build_type, "authority", a->authority);
	{
		static const char *const types[] = {"user", "userdebug", "eng", NULL};
		static const char *const auths[] = {"release", "manifest", NULL};
		int bt = 0, au = 0;

		r = doc == NULL ? rombsr_error(ROMBSR_ENOMEM, "out of memory") : 0;
		if (r == 0)
			r = rombsr_json_enum(doc, "--", "build_type", types, &bt);
		if (r == 0)
			r = rombsr_json_enum(doc, "--", "authority", auths, &au);
		req.build_type = (enum rombsr_build_type)bt;
		req.authority = (enum rombsr_authority_id)au;
		json_decref(doc);
	}
	if (r == 0)
		r = add_artifacts(a, &req);
	if (r == 0)
		r = add_operations(a, &req);
	if (r == 0)
		r = rombsr_request_encode(&req, text);
	if (r == 0) {
		r = rombsr_request_parse((const char *)text->data, text->len, &check);
		rombsr_request_free(&check);
		if (r < 0) {
			rombsr_error_wrap(r, "the request would be refused");
			rombsr_buf_free(text);
		}
	}
	if (r == 0)
		memcpy(id, req.id, 33);
	rombsr_request_free(&req);
	return r;
}

int cmd_submit(struct cli_context *ctx, int argc, char **argv)
{
	struct submit_args a;
	struct queue_client qc = {.lock_fd = -1};
	struct rombsr_buf text = {0};
	struct rombsr_repo_file file;
	char id[33], path[128], message[256];
	git_oid commit;
	int r;

	r = parse_args(ctx, argc, argv, &a);
	if (r == 0)
		r = queue_client_open(ctx, &qc);
	if (r == 0 && qc.cfg->gpg_key == NULL)
		r = rombsr_error(ROMBSR_ECONFIG, "no signing key configured: set gpg.key to this build node's fingerprint");
	if (r == 0)
		r = make_request(&a, qc.cfg->gpg_key, &text, id);
	if (r == 0)
		r = rombsr_queue_request_path(id, path, sizeof(path));
	if (r == 0) {
		file = (struct rombsr_repo_file){path, text.data, text.len};
		snprintf(message, sizeof(message), "request %s: %.60s %.60s round %lu", id, a.product, a.build_id,
			 a.round);
		r = queue_client_publish(&qc, &file, 1, message, &commit);
	}
	if (r == 0)
		printf("%s\n", id);
	rombsr_buf_free(&text);
	queue_client_close(&qc);
	return r;
}
