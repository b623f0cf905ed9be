#include "approval.h"

#include "gpg.h"

#include "../common/error.h"
#include "../common/hex.h"
#include "../common/json_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rombsr_approval_parse(const char *text, size_t len, struct rombsr_approval *out)
{
	static const char *const fields[] = {"format", "version", "request_id", "request_sha256", "operator", "time",
					     "comment", NULL};
	const char *format, *id, *fpr, *comment;
	int64_t version;
	json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_json_load(text, len, ROMBSR_APPROVAL_MAX_BYTES, "approval", &root);
	if (r == 0)
		r = rombsr_json_only(root, "approval", fields);
	if (r == 0)
		r = rombsr_json_string(root, "approval", "format", 64, &format);
	if (r == 0 && strcmp(format, ROMBSR_APPROVAL_FORMAT) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "approval.format: expected '%s'", ROMBSR_APPROVAL_FORMAT);
	if (r == 0)
		r = rombsr_json_int(root, "approval", "version", ROMBSR_APPROVAL_VERSION, ROMBSR_APPROVAL_VERSION,
				    &version);
	if (r == 0)
		r = rombsr_json_string(root, "approval", "request_id", ROMBSR_REQUEST_ID_LEN, &id);
	if (r == 0 && !rombsr_request_id_valid(id))
		r = rombsr_error(ROMBSR_EINVAL, "approval.request_id: must be " ROMBSR_REQUEST_ID_FORM);
	if (r == 0) {
		memcpy(out->request_id, id, sizeof(out->request_id));
		r = rombsr_json_hex(root, "approval", "request_sha256", out->request_sha256, sizeof(out->request_sha256));
	}
	if (r == 0)
		r = rombsr_json_string(root, "approval", "operator", 40, &fpr);
	if (r == 0 && !rombsr_fpr_valid(fpr))
		r = rombsr_error(ROMBSR_EINVAL, "approval.operator: not an OpenPGP fingerprint (40 upper-case hex)");
	if (r == 0) {
		memcpy(out->operator_fpr, fpr, sizeof(out->operator_fpr));
		r = rombsr_json_time(root, "approval", "time", &out->time);
	}
	if (r == 0)
		r = rombsr_json_string_opt(root, "approval", "comment", ROMBSR_APPROVAL_COMMENT_MAX, &comment);
	if (r == 0 && comment != NULL)
		snprintf(out->comment, sizeof(out->comment), "%s", comment);
	json_decref(root);
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int rombsr_approval_encode(const struct rombsr_approval *a, struct rombsr_buf *out)
{
	char sha[65], when[21];
	json_t *root;
	char *text = NULL;
	int r;

	rombsr_buf_init(out, ROMBSR_APPROVAL_MAX_BYTES);
	rombsr_hex_encode(a->request_sha256, sizeof(a->request_sha256), sha);
	rombsr_time_format(a->time, when);
	root = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "format", ROMBSR_APPROVAL_FORMAT, "version",
			 ROMBSR_APPROVAL_VERSION, "request_id", a->request_id, "request_sha256", sha, "operator",
			 a->operator_fpr, "time", when);
	if (root != NULL && a->comment[0] != '\0' && json_object_set_new(root, "comment", json_string(a->comment)) != 0) {
		json_decref(root);
		root = NULL;
	}
	if (root != NULL)
		text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text != NULL) {
		rombsr_buf_append_str(out, text);
		rombsr_buf_append(out, "\n", 1);
	}
	r = text != NULL ? rombsr_buf_check(out, "approval") : rombsr_error(ROMBSR_ENOMEM, "cannot encode the approval");
	free(text);
	json_decref(root);
	return r;
}

static bool listed(const char (*list)[41], size_t n, const char *fpr)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], fpr) == 0)
			return true;
	return false;
}

static enum rombsr_approval_status judge(const struct rombsr_approval_subject *s, const char (*group)[41],
					 size_t ngroup, const struct rombsr_approval_input *in,
					 const char (*counted)[41], size_t ncounted)
{
	const struct rombsr_approval *a = in->approval;

	if (strcmp(a->request_id, s->request_id) != 0)
		return ROMBSR_APPROVAL_WRONG_REQUEST;
	/* An approval of other bytes (the request as it was before a forged
	 * or replaced file) approves nothing here. */
	if (memcmp(a->request_sha256, s->request_sha256, sizeof(a->request_sha256)) != 0)
		return ROMBSR_APPROVAL_OTHER_CONTENT;
	if (strcmp(a->operator_fpr, in->committer) != 0)
		return ROMBSR_APPROVAL_WRONG_OPERATOR;
	/* Dual control: whoever asked cannot be one of the approvers, even
	 * if the same key also holds the operator role. */
	if (strcmp(in->committer, s->build_node) == 0)
		return ROMBSR_APPROVAL_BY_BUILD_NODE;
	if (!in->is_operator)
		return ROMBSR_APPROVAL_NOT_OPERATOR;
	if (!listed(group, ngroup, in->committer))
		return ROMBSR_APPROVAL_NOT_IN_GROUP;
	if (listed(counted, ncounted, in->committer))
		return ROMBSR_APPROVAL_DUPLICATE;
	return ROMBSR_APPROVAL_COUNTED;
}

size_t rombsr_approval_count(const struct rombsr_approval_subject *s, const char (*group)[41], size_t ngroup,
			     const struct rombsr_approval_input *in, size_t n, enum rombsr_approval_status *status,
			     char (*counted)[41])
{
	size_t ncounted = 0;

	for (size_t i = 0; i < n; i++) {
		status[i] = judge(s, group, ngroup, &in[i], (const char(*)[41])counted, ncounted);
		if (status[i] == ROMBSR_APPROVAL_COUNTED)
			snprintf(counted[ncounted++], 41, "%s", in[i].committer);
	}
	return ncounted;
}

const char *rombsr_approval_status_text(enum rombsr_approval_status status)
{
	switch (status) {
	case ROMBSR_APPROVAL_COUNTED:
		return "counted";
	case ROMBSR_APPROVAL_WRONG_REQUEST:
		return "approves another request";
	case ROMBSR_APPROVAL_OTHER_CONTENT:
		return "approves other content than the request's";
	case ROMBSR_APPROVAL_WRONG_OPERATOR:
		return "names another operator than the key that committed it";
	case ROMBSR_APPROVAL_BY_BUILD_NODE:
		return "made by the request's own build node";
	case ROMBSR_APPROVAL_NOT_OPERATOR:
		return "made by a key that is not an operator in the trust file in force";
	case ROMBSR_APPROVAL_NOT_IN_GROUP:
		return "made by an operator outside the group the policy asks";
	case ROMBSR_APPROVAL_DUPLICATE:
		return "this operator is counted already";
	}
	return "?";
}
