/* The build node's side of a response (docs/apply.md): match it to the
 * request it answers, check every signature against the public bundle, and
 * turn it into the signature set the capture module replays. Nothing here
 * fetches or trusts the queue: the caller has already checked that the
 * response was committed by a sign node the queue's trust file names. */
#ifndef ROMBSR_BUILD_APPLY_H
#define ROMBSR_BUILD_APPLY_H

#include "../common/bundle.h"
#include "../common/capture_format.h"
#include "../queue/request.h"
#include "../queue/response.h"

#include <stddef.h>

struct rombsr_apply_source {
	const struct rombsr_request *request;
	const char *request_commit;   /* hex ID of the commit that added the request */
	const struct rombsr_response *response;
	const char *response_signer;  /* fingerprint that signed the response's commit */
};

/* Checks that the response answers this request (ID, request commit, sign
 * node = committer), that it is not a rejection, and that it carries one
 * signature per operation, for the same operation, in the request's order,
 * each verifying against the bundle key of that operation. On success
 * *sigs (malloc'd) holds the signatures in signature-set form.
 *
 * A rejection is ROMBSR_EPERM carrying the sign node's reason; every other
 * refusal is ROMBSR_ESECURITY naming the operation, its key and why. */
int rombsr_apply_check(const struct rombsr_apply_source *src, const struct rombsr_bundle *b,
		       struct rombsr_cap_signature **sigs, size_t *nsigs);

/* Appends to *set (len *n, realloc'd) every signature of add whose
 * operation is not in it yet. */
int rombsr_apply_merge(struct rombsr_cap_signature **set, size_t *n, const struct rombsr_cap_signature *add,
		       size_t nadd);

/* Checks a signature set from an earlier round against the bundle, as
 * strictly as a response. path names it in errors. */
int rombsr_apply_check_set(const char *path, const struct rombsr_cap_signature *sigs, size_t n,
			   const struct rombsr_bundle *b);

/* Writes (atomically) a capture module configuration in replay mode with
 * the bundle folder and the signature set, both as absolute paths. */
int rombsr_apply_replay_config(const char *path, const char *bundle_dir, const char *signatures);

#endif
