#define _GNU_SOURCE
#include "apply.h"

#include "sigcheck.h"

#include "../common/buf.h"
#include "../common/error.h"
#include "../common/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "operation 3 (key 'platform', CKM_SHA256_RSA_PKCS)": how every refusal
 * names what it is about. */
static void op_name(char *out, size_t size, size_t i, const struct rombsr_cap_op *op)
{
	snprintf(out, size, "operation %zu (key '%s', %s)", i, op->label, op->mech->name);
}

/* What makes got another operation than want, for the refusal. */
static const char *difference(const struct rombsr_cap_op *got, const struct rombsr_cap_op *want)
{
	if (strcmp(got->spki_sha256, want->spki_sha256) != 0)
		return "it names another key fingerprint";
	if (strcmp(got->label, want->label) != 0)
		return "it names another key label";
	if (got->mech != want->mech)
		return "it names another mechanism";
	if (got->pss.hash != want->pss.hash || got->pss.mgf != want->pss.mgf || got->pss.salt_len != want->pss.salt_len)
		return "it names other PSS parameters";
	return "it signs another digest (tbs)";
}

int rombsr_apply_check(const struct rombsr_apply_source *src, const struct rombsr_bundle *b,
		       struct rombsr_cap_signature **sigs, size_t *nsigs)
{
	const struct rombsr_request *req = src->request;
	const struct rombsr_response *resp = src->response;
	struct rombsr_cap_signature *out = NULL;
	char what[160];
	int r = 0;

	*sigs = NULL;
	*nsigs = 0;
	if (strcmp(resp->request_id, req->id) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "the response answers request %s, not %s", resp->request_id, req->id);
	if (strcmp(resp->request_commit, src->request_commit) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "the response names request commit %.12s, the request came in %.12s",
				    resp->request_commit, src->request_commit);
	if (strcmp(resp->sign_node, src->response_signer) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "the response names sign node %s but was committed by %s",
				    resp->sign_node, src->response_signer);
	if (!resp->signed_ok)
		return rombsr_error(ROMBSR_EPERM, "request %s was rejected by sign node %s: %s: %s", req->id,
				    resp->sign_node, resp->reason_code, resp->reason_message);
	if (resp->nsigs != req->nops)
		return rombsr_error(ROMBSR_ESECURITY, "the response carries %zu signatures for %zu operations", resp->nsigs,
				    req->nops);
	out = calloc(req->nops + 1, sizeof(*out));
	if (out == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < req->nops && r == 0; i++) {
		const struct rombsr_cap_op *want = &req->ops[i].op;
		const struct rombsr_response_sig *got = &resp->sigs[i];

		op_name(what, sizeof(what), i, want);
		/* The label is informative in the capture formats, but a response
		 * that renames a key is not answering this request. */
		if (!rombsr_cap_op_same(&got->op, want) || strcmp(got->op.label, want->label) != 0)
			r = rombsr_error(ROMBSR_ESECURITY, "signature %zu is not for %s: %s", i, what,
					 difference(&got->op, want));
		else if ((r = rombsr_sigcheck_bundle(b, want, got->sig, got->sig_len, NULL)) < 0)
			rombsr_error_wrap(r, "operation %zu", i);
		else {
			out[i].op = *want;
			memcpy(out[i].sig, got->sig, got->sig_len);
			out[i].sig_len = got->sig_len;
		}
	}
	if (r < 0) {
		free(out);
		return r;
	}
	*sigs = out;
	*nsigs = req->nops;
	return 0;
}

int rombsr_apply_merge(struct rombsr_cap_signature **set, size_t *n, const struct rombsr_cap_signature *add,
		       size_t nadd)
{
	struct rombsr_cap_signature *grown;
	size_t have = *n;

	if (nadd > SIZE_MAX / sizeof(*grown) - have - 1)
		return rombsr_error(ROMBSR_ENOMEM, "signature set too large");
	grown = realloc(*set, (have + nadd + 1) * sizeof(*grown));
	if (grown == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	*set = grown;
	for (size_t i = 0; i < nadd; i++) {
		bool known = false;

		for (size_t j = 0; j < have && !known; j++)
			known = rombsr_cap_op_same(&grown[j].op, &add[i].op);
		if (!known)
			grown[have++] = add[i];
	}
	*n = have;
	return 0;
}

int rombsr_apply_check_set(const char *path, const struct rombsr_cap_signature *sigs, size_t n,
			   const struct rombsr_bundle *b)
{
	for (size_t i = 0; i < n; i++) {
		int r = rombsr_sigcheck_bundle(b, &sigs[i].op, sigs[i].sig, sigs[i].sig_len, NULL);

		if (r < 0)
			return rombsr_error_wrap(r, "%s: signatures[%zu]", path, i);
	}
	return 0;
}

/* The module's configuration reader trims values and ends them at the line:
 * a path it would read differently is refused rather than written. */
static int absolute(const char *path, const char *what, char **out)
{
	char *abs = realpath(path, NULL);
	size_t len;

	*out = NULL;
	if (abs == NULL)
		return rombsr_error(ROMBSR_EIO, "%s %s: %s", what, path, strerror(errno));
	len = strlen(abs);
	if (strpbrk(abs, "\n\r") != NULL || len == 0 || abs[len - 1] == ' ' || abs[len - 1] == '\t') {
		free(abs);
		return rombsr_error(ROMBSR_EINVAL, "%s %s: the capture configuration cannot name this path", what, path);
	}
	*out = abs;
	return 0;
}

int rombsr_apply_replay_config(const char *path, const char *bundle_dir, const char *signatures)
{
	struct rombsr_buf text;
	char *bundle = NULL, *sigs = NULL;
	int r = absolute(bundle_dir, "bundle", &bundle);

	rombsr_buf_init(&text, 64 * 1024);
	if (r == 0)
		r = absolute(signatures, "signature set", &sigs);
	if (r == 0) {
		rombsr_buf_printf(&text, "# written by rombsr apply: replay the signatures the sign node made\n"
					 "mode = replay\nbundle = %s\nsignatures = %s\n",
				  bundle, sigs);
		r = rombsr_buf_check(&text, "replay configuration");
	}
	if (r == 0)
		r = rombsr_file_write_atomic(path, text.data, text.len, 0644, false);
	rombsr_buf_free(&text);
	free(bundle);
	free(sigs);
	return r;
}
