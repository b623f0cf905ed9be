/* rombsr approve: an operator's approval of one request (dual control,
 * docs/formats/approval.md). Reads the request at the queue's head, binds
 * the approval to the SHA-256 of its exact bytes, commits it signed with
 * the operator's key and pushes it. Refuses, before anything is committed,
 * what could never count: no such request, a request already answered, a
 * key that is no operator or is the request's own build node, a second
 * approval by the same operator. Prints the approval's path. */
#include "cli.h"
#include "queue_client.h"

#include "../common/error.h"
#include "../common/hex.h"
#include "../queue/approval.h"
#include "../queue/request.h"
#include "../queue/trust.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>


enum { OPT_COMMENT = 1 };

static const struct cli_option options[] = {
	{"comment", "TEXT", "a note kept in the approval (1 to 1024 characters)", OPT_COMMENT},
	{NULL, NULL, NULL, 0},
};

static const char usage[] = "<request-id> [--comment TEXT]";

/* The request ID, wherever it stands among the options. */
static int parse_args(int argc, char **argv, const char **id, const char **comment)
{
	struct cli_parser p;
	int opt;

	*id = NULL;
	*comment = NULL;
	cli_parser_init(&p, options, argc, argv);
	while (p.index < argc) {
		opt = cli_next(&p, usage);
		if (opt < 0)
			return opt;
		if (opt == OPT_COMMENT) {
			*comment = p.value;
			continue;
		}
		if (p.index >= argc)
			break;
		if (*id != NULL)
			return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
		*id = argv[p.index++];
	}
	if (*id == NULL)
		return rombsr_error(ROMBSR_EINVAL, "usage: rombsr approve %s", usage);
	if (!rombsr_request_id_valid(*id))
		return rombsr_error(ROMBSR_EINVAL, "'%.40s' is not a request ID (" ROMBSR_REQUEST_ID_FORM ")", *id);
	if (*comment != NULL && (strlen(*comment) == 0 || strlen(*comment) > ROMBSR_APPROVAL_COMMENT_MAX))
		return rombsr_error(ROMBSR_EINVAL, "--comment takes 1 to %d characters", ROMBSR_APPROVAL_COMMENT_MAX);
	return 0;
}

/* The key must be an operator in the trust file at head: an approval by
 * anyone else would be refused by the queue, and never counted. */
static int check_operator(struct queue_client *qc, const git_oid *head, const char *me)
{
	struct rombsr_trust trust;
	bool ok;
	int r = rombsr_trust_at(qc->repo, head, &trust);

	if (r < 0)
		return rombsr_error_wrap(r, "the queue's trust file");
	ok = rombsr_trust_has(&trust, ROMBSR_ROLE_OPERATOR, me);
	rombsr_trust_free(&trust);
	if (!ok)
		return rombsr_error(ROMBSR_EPERM, "key %s (gpg.key) is not an operator in the queue's trust file", me);
	return 0;
}

/* Everything that would make this approval pointless or refused, checked
 * on the head just fetched. Reads the request's bytes into text. */
static int check_request(struct queue_client *qc, const git_oid *head, const char *id, const char *me,
			 struct rombsr_buf *text, struct rombsr_request *req)
{
	char path[160];
	bool exists;
	int r = rombsr_queue_request_path(id, path, sizeof(path));

	if (r == 0)
		r = rombsr_repo_read(qc->repo, head, path, ROMBSR_REQUEST_MAX_BYTES, text);
	if (r == ROMBSR_ENOTFOUND)
		return rombsr_error(ROMBSR_ENOTFOUND, "there is no request %s in the queue", id);
	if (r < 0)
		return r;
	r = rombsr_request_parse((const char *)text->data, text->len, req);
	if (r < 0)
		return rombsr_error_wrap(r, "request %s is malformed, nothing to approve", id);
	if (strcmp(req->id, id) != 0)
		return rombsr_error(ROMBSR_EINVAL, "request %s names another ID inside (%s)", id, req->id);
	r = rombsr_queue_response_path(id, path, sizeof(path));
	if (r == 0)
		r = rombsr_repo_exists(qc->repo, head, path, &exists);
	if (r == 0 && exists)
		return rombsr_error(ROMBSR_EEXISTS, "request %s already has a response: there is nothing left to approve",
				    id);
	if (r == 0)
		r = check_operator(qc, head, me);
	if (r == 0 && strcmp(req->build_node, me) == 0)
		return rombsr_error(ROMBSR_EPERM, "key %s is the request's own build node, which never approves itself",
				    me);
	if (r == 0)
		r = rombsr_queue_approval_path(id, me, path, sizeof(path));
	if (r == 0)
		r = rombsr_repo_exists(qc->repo, head, path, &exists);
	if (r == 0 && exists)
		return rombsr_error(ROMBSR_EEXISTS, "operator %s has already approved request %s (%s)", me, id, path);
	return r;
}

static void show(const struct rombsr_request *req, const char *sha_hex)
{
	cli_info("approving request %s", req->id);
	cli_info("  product %s, build %s (%s), round %u, %s authority", req->product, req->build_id,
		 rombsr_build_type_name(req->build_type), req->round, rombsr_authority_name(req->authority));
	cli_info("  %zu operations, %zu artifacts, from build node %s", req->nops, req->nartifacts, req->build_node);
	cli_info("  request sha256 %s", sha_hex);
}

/* The approval through its own format: encoded, then parsed back
 * strictly, like every file rombsr commits. */
static int make_approval(const struct rombsr_request *req, const unsigned char sha[32], const char *me,
			 const char *comment, struct rombsr_buf *out)
{
	struct rombsr_approval a = {0}, check;
	int r;

	memcpy(a.request_id, req->id, sizeof(a.request_id));
	memcpy(a.request_sha256, sha, sizeof(a.request_sha256));
	snprintf(a.operator_fpr, sizeof(a.operator_fpr), "%s", me);
	a.time = time(NULL);
	if (comment != NULL)
		snprintf(a.comment, sizeof(a.comment), "%s", comment);
	r = rombsr_approval_encode(&a, out);
	if (r == 0)
		r = rombsr_approval_parse((const char *)out->data, out->len, &check);
	if (r < 0)
		rombsr_error_wrap(r, "the approval would be refused");
	return r;
}

int cmd_approve(struct cli_context *ctx, int argc, char **argv)
{
	struct queue_client qc = {.lock_fd = -1};
	struct rombsr_request req = {0};
	struct rombsr_buf request_text = {0}, text = {0};
	struct rombsr_repo_file file;
	const char *id, *comment, *me = NULL;
	unsigned char sha[32];
	char sha_hex[65], path[160], message[160];
	git_oid head, commit;
	bool empty;
	int r;

	r = parse_args(argc, argv, &id, &comment);
	if (r == 0)
		r = queue_client_open(ctx, &qc);
	if (r == 0 && (me = qc.cfg->gpg_key) == NULL)
		r = rombsr_error(ROMBSR_ECONFIG, "no signing key configured: set gpg.key to this operator's fingerprint");
	if (r == 0)
		r = queue_client_fetch(&qc, &head, &empty);
	if (r == 0)
		r = check_request(&qc, &head, id, me, &request_text, &req);
	if (r == 0 && EVP_Digest(request_text.data, request_text.len, sha, NULL, EVP_sha256(), NULL) != 1)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot hash the request");
	if (r == 0) {
		rombsr_hex_encode(sha, sizeof(sha), sha_hex);
		r = make_approval(&req, sha, me, comment, &text);
	}
	if (r == 0)
		r = rombsr_queue_approval_path(id, me, path, sizeof(path));
	if (r == 0) {
		show(&req, sha_hex);
		file = (struct rombsr_repo_file){path, text.data, text.len};
		snprintf(message, sizeof(message), "approval %s by %s", id, me);
		r = queue_client_publish(&qc, &file, 1, message, &commit);
	}
	if (r == 0)
		printf("%s\n", path);
	rombsr_request_free(&req);
	rombsr_buf_free(&request_text);
	rombsr_buf_free(&text);
	queue_client_close(&qc);
	return r;
}
