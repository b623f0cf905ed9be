#include "approval_tally.h"
#include "sign_log.h"

#include "../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct found {
	struct rombsr_approval *approvals;
	char (*committers)[41];
	size_t n;
	const struct rombsr_tally_input *in;
	char dir[160];
};

/* One file of the request's approval folder. The queue's verifier already
 * refused any approval not committed by the operator its name gives, so
 * the name is the committer. A file that does not parse counts for
 * nothing and is reported, never fatal: it is an operator's mistake. */
static int take(const char *name, bool is_file, void *ctx)
{
	struct found *f = ctx;
	struct rombsr_queue_path qp;
	struct rombsr_buf text;
	char path[256];
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", f->dir, name) >= sizeof(path))
		return 0;
	rombsr_queue_classify(path, &qp);
	if (qp.kind != ROMBSR_PATH_APPROVAL)
		return 0;
	if (!is_file) {
		rombsr_sign_log(LOG_WARNING, &(struct rombsr_sign_log_fields){.request_id = f->in->request_id,
										.outcome = "approval-ignored"},
				"rombsr sign: %s does not count: not a regular file", path);
		return 0;
	}
	if (f->n == ROMBSR_TALLY_MAX_FILES) {
		rombsr_sign_log(LOG_WARNING, &(struct rombsr_sign_log_fields){.request_id = f->in->request_id,
										.outcome = "approval-ignored"},
				"rombsr sign: %s does not count: request %s has more than %d approvals", path,
				f->in->request_id, ROMBSR_TALLY_MAX_FILES);
		return 0;
	}
	r = rombsr_repo_read(f->in->repo, f->in->head, path, ROMBSR_APPROVAL_MAX_BYTES, &text);
	if (r == 0)
		r = rombsr_approval_parse((const char *)text.data, text.len, &f->approvals[f->n]);
	rombsr_buf_free(&text);
	if (r < 0) {
		rombsr_sign_log(LOG_WARNING, &(struct rombsr_sign_log_fields){.request_id = f->in->request_id,
										.outcome = "approval-ignored"},
				"rombsr sign: %s does not count: %s", path, rombsr_error_message(r));
		return 0;
	}
	memcpy(f->committers[f->n], qp.fpr, 41);
	f->n++;
	return 0;
}

static int compare_fpr(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void add_approver(struct rombsr_approval_tally *t, const char *fpr)
{
	for (size_t i = 0; i < t->napprovers; i++)
		if (strcmp(t->approvers[i], fpr) == 0)
			return;
	memcpy(t->approvers[t->napprovers++], fpr, 41);
}

int rombsr_approval_tally(const struct rombsr_tally_input *in, struct rombsr_approval_tally *out)
{
	struct found f = {.in = in};
	struct rombsr_approval_input *inputs = NULL;
	enum rombsr_approval_status *status = NULL;
	char(*counted)[41] = NULL;
	struct rombsr_approval_subject subject = {in->request_id, in->request_sha256, in->build_node};
	int r = rombsr_queue_approval_path(in->request_id, in->build_node, f.dir, sizeof(f.dir));

	memset(out, 0, sizeof(*out));
	out->satisfied = true;
	if (in->verdict->nneeds == 0)
		return r;
	if (r == 0) {
		*strrchr(f.dir, '/') = '\0'; /* the request's folder, not a file in it */
		f.approvals = calloc(ROMBSR_TALLY_MAX_FILES, sizeof(*f.approvals));
		f.committers = calloc(ROMBSR_TALLY_MAX_FILES, sizeof(*f.committers));
		inputs = calloc(ROMBSR_TALLY_MAX_FILES, sizeof(*inputs));
		status = calloc(ROMBSR_TALLY_MAX_FILES, sizeof(*status));
		counted = calloc(ROMBSR_TALLY_MAX_FILES, sizeof(*counted));
		if (!f.approvals || !f.committers || !inputs || !status || !counted)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (r == 0)
		r = rombsr_repo_list(in->repo, in->head, f.dir, take, &f);
	for (size_t i = 0; i < f.n && r == 0; i++) {
		bool revoked = true;

		/* Revocation shows in the keyring the admin updates through the
		 * queue; a key it cannot find is as good as revoked. */
		if (rombsr_gpg_key_revoked(in->keyring, f.committers[i], &revoked) < 0)
			revoked = true;
		inputs[i] = (struct rombsr_approval_input){&f.approvals[i], f.committers[i],
							   rombsr_trust_has(in->trust, ROMBSR_ROLE_OPERATOR,
									    f.committers[i]) && !revoked};
	}
	out->files = f.n;
	for (size_t g = 0; g < in->verdict->nneeds && r == 0; g++) {
		const struct rombsr_policy_need *need = &in->verdict->needs[g];
		const struct rombsr_policy_group *group = rombsr_policy_group_find(in->policy, need->group);
		struct rombsr_tally_group *tg = &out->groups[out->ngroups++];
		size_t n;

		if (group == NULL) {
			r = rombsr_error(ROMBSR_EINTERNAL, "policy group '%s' vanished", need->group);
			break;
		}
		n = rombsr_approval_count(&subject, (const char(*)[41])group->members, group->nmembers, inputs, f.n,
					  status, counted);
		snprintf(tg->group, sizeof(tg->group), "%s", need->group);
		tg->required = need->required;
		tg->have = (unsigned)n;
		out->required += need->required;
		if (n < need->required)
			out->satisfied = false;
		for (size_t i = 0; i < n && i < need->required; i++)
			add_approver(out, counted[i]);
		if (g == 0)
			for (size_t i = 0; i < f.n; i++)
				if (status[i] != ROMBSR_APPROVAL_COUNTED && status[i] != ROMBSR_APPROVAL_NOT_IN_GROUP)
					rombsr_sign_log(LOG_WARNING,
							&(struct rombsr_sign_log_fields){.request_id = in->request_id,
											 .outcome = "approval-ignored",
											 .build_node = in->build_node},
							"rombsr sign: request %s: the approval by %s does not count: %s",
							in->request_id, f.committers[i],
							rombsr_approval_status_text(status[i]));
	}
	qsort(out->approvers, out->napprovers, sizeof(out->approvers[0]), compare_fpr);
	free(f.approvals);
	free(f.committers);
	free(inputs);
	free(status);
	free(counted);
	return r;
}
