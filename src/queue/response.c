#include "response.h"

#include "gpg.h"
#include "request.h"

#include "../common/error.h"
#include "../common/hex.h"
#include "../common/json_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const statuses[] = {"signed", "rejected", NULL};

static int parse_reason(const json_t *root, struct rombsr_response *resp)
{
	static const char *const fields[] = {"code", "message", NULL};
	const char *code, *message;
	json_t *o;
	int r = rombsr_json_object(root, "response", "reason", &o);

	if (r == 0)
		r = rombsr_json_only(o, "response.reason", fields);
	if (r == 0)
		r = rombsr_json_string(o, "response.reason", "code", sizeof(resp->reason_code) - 1, &code);
	if (r == 0)
		r = rombsr_json_string(o, "response.reason", "message", ROMBSR_REASON_MAX, &message);
	if (r < 0)
		return r;
	for (const char *c = code; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || *c == '-'))
			return rombsr_error(ROMBSR_EINVAL, "response.reason.code: lower-case words joined by '-'");
	snprintf(resp->reason_code, sizeof(resp->reason_code), "%s", code);
	snprintf(resp->reason_message, sizeof(resp->reason_message), "%s", message);
	return 0;
}

static int parse_signatures(const json_t *root, struct rombsr_response *resp)
{
	char path[ROMBSR_JSON_PATH_MAX];
	json_t *list, *item;
	size_t i;
	int r = rombsr_json_array(root, "response", "signatures", ROMBSR_REQUEST_MAX_OPERATIONS, &list);

	if (r < 0)
		return r;
	if (json_array_size(list) == 0)
		return rombsr_error(ROMBSR_EINVAL, "response.signatures: a signed response carries signatures");
	resp->sigs = calloc(json_array_size(list), sizeof(*resp->sigs));
	if (resp->sigs == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	json_array_foreach(list, i, item) {
		json_t *op;

		rombsr_json_path_index(path, sizeof(path), "response", "signatures", i);
		if (!json_is_object(item))
			return rombsr_error(ROMBSR_EINVAL, "%s: must be an object", path);
		/* The signature travels beside the operation's own fields. */
		op = json_deep_copy(item);
		if (op == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		json_object_del(op, "signature");
		r = rombsr_op_from_json(op, path, &resp->sigs[i].op);
		json_decref(op);
		if (r == 0)
			r = rombsr_json_hex_var(item, path, "signature", resp->sigs[i].sig, ROMBSR_CAP_SIG_MAX,
						&resp->sigs[i].sig_len);
		if (r < 0)
			return r;
		if (json_object_get(item, "program") != NULL)
			return rombsr_error(ROMBSR_EINVAL, "%s: unknown field 'program'", path);
		resp->nsigs++;
	}
	return 0;
}

/* The tlog-proof text is carried as its lines (JSON strings here hold no
 * control characters), each ended by a newline when joined again. */
static int parse_proof_lines(const json_t *audit, struct rombsr_response *resp)
{
	struct rombsr_buf text;
	char path[64];
	const char *line;
	json_t *lines;
	size_t i;
	int r = rombsr_json_array(audit, "response.audit", "proof", ROMBSR_RESPONSE_PROOF_LINES, &lines);

	if (r < 0)
		return r;
	rombsr_buf_init(&text, ROMBSR_RESPONSE_PROOF_MAX);
	for (i = 0; i < json_array_size(lines) && r == 0; i++) {
		snprintf(path, sizeof(path), "response.audit.proof[%zu]", i);
		if (!json_is_string(json_array_get(lines, i)))
			r = rombsr_error(ROMBSR_EINVAL, "%s: must be a string", path);
		line = r == 0 ? json_string_value(json_array_get(lines, i)) : NULL;
		if (r == 0 && strpbrk(line, "\n\r") != NULL)
			r = rombsr_error(ROMBSR_EINVAL, "%s: a line holds no line break", path);
		if (r == 0) {
			rombsr_buf_append_str(&text, line);
			rombsr_buf_append(&text, "\n", 1);
			r = rombsr_buf_check(&text, "response.audit.proof");
		}
	}
	if (r == 0 && rombsr_buf_cstr(&text) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0 && (resp->audit_proof = strdup((const char *)text.data)) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	rombsr_buf_free(&text);
	return r;
}

static json_t *proof_lines(const char *proof)
{
	json_t *lines = json_array();
	const char *p = proof;

	while (lines != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (json_array_append_new(lines, json_stringn(p, n)) != 0) {
			json_decref(lines);
			return NULL;
		}
		p += n + (nl != NULL);
	}
	return lines;
}

static int parse_audit(const json_t *root, struct rombsr_response *resp)
{
	static const char *const fields[] = {"index", "entries", "proof", NULL};
	json_t *audit = json_object_get(root, "audit");
	int64_t index, entries;
	int r;

	if (audit == NULL)
		return 0;
	r = rombsr_json_object(root, "response", "audit", &audit);
	if (r == 0)
		r = rombsr_json_only(audit, "response.audit", fields);
	if (r == 0)
		r = rombsr_json_int(audit, "response.audit", "index", 0, INT64_MAX, &index);
	if (r == 0)
		r = rombsr_json_int(audit, "response.audit", "entries", 1, ROMBSR_REQUEST_MAX_OPERATIONS + 1, &entries);
	if (r == 0)
		r = parse_proof_lines(audit, resp);
	if (r == 0) {
		resp->has_audit = true;
		resp->audit_index = (uint64_t)index;
		resp->audit_entries = (uint64_t)entries;
	}
	return r;
}

int rombsr_response_parse(const char *text, size_t len, struct rombsr_response *out)
{
	static const char *const fields[] = {"format", "version", "request_id", "request_commit", "status",
					     "reason", "signatures", "sign_node", "time", "audit", NULL};
	const char *format, *id, *commit, *node;
	unsigned char commit_bytes[32];
	int64_t version;
	int status;
	json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_json_load(text, len, ROMBSR_RESPONSE_MAX_BYTES, "response", &root);
	if (r == 0)
		r = rombsr_json_only(root, "response", fields);
	if (r == 0)
		r = rombsr_json_string(root, "response", "format", 64, &format);
	if (r == 0 && strcmp(format, ROMBSR_RESPONSE_FORMAT) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "response.format: expected '%s'", ROMBSR_RESPONSE_FORMAT);
	if (r == 0)
		r = rombsr_json_int(root, "response", "version", ROMBSR_RESPONSE_VERSION, ROMBSR_RESPONSE_VERSION,
				    &version);
	if (r == 0)
		r = rombsr_json_string(root, "response", "request_id", ROMBSR_REQUEST_ID_LEN, &id);
	if (r == 0 && !rombsr_request_id_valid(id))
		r = rombsr_error(ROMBSR_EINVAL, "response.request_id: must be " ROMBSR_REQUEST_ID_FORM);
	if (r == 0)
		r = rombsr_json_string(root, "response", "request_commit", 64, &commit);
	if (r == 0 && strlen(commit) != 40 && strlen(commit) != 64)
		r = rombsr_error(ROMBSR_EINVAL, "response.request_commit: must be a 40- or 64-digit commit ID");
	if (r == 0)
		r = rombsr_json_hex(root, "response", "request_commit", commit_bytes, strlen(commit) / 2);
	if (r == 0)
		r = rombsr_json_enum(root, "response", "status", statuses, &status);
	if (r == 0)
		r = rombsr_json_string(root, "response", "sign_node", 40, &node);
	if (r == 0 && !rombsr_fpr_valid(node))
		r = rombsr_error(ROMBSR_EINVAL, "response.sign_node: not an OpenPGP fingerprint (40 upper-case hex)");
	if (r == 0)
		r = rombsr_json_time(root, "response", "time", &out->time);
	if (r == 0) {
		memcpy(out->request_id, id, sizeof(out->request_id));
		snprintf(out->request_commit, sizeof(out->request_commit), "%s", commit);
		snprintf(out->sign_node, sizeof(out->sign_node), "%s", node);
		out->signed_ok = status == 0;
		/* A signed response carries no reason, a rejection no signature. */
		if (out->signed_ok && json_object_get(root, "reason") != NULL)
			r = rombsr_error(ROMBSR_EINVAL, "response.reason: only a rejection has a reason");
		else if (!out->signed_ok && json_object_get(root, "signatures") != NULL)
			r = rombsr_error(ROMBSR_EINVAL, "response.signatures: a rejection carries no signatures");
		else
			r = out->signed_ok ? parse_signatures(root, out) : parse_reason(root, out);
	}
	if (r == 0)
		r = parse_audit(root, out);
	json_decref(root);
	if (r < 0)
		rombsr_response_free(out);
	return r;
}

int rombsr_response_encode(const struct rombsr_response *resp, struct rombsr_buf *out)
{
	char when[21], hex[2 * ROMBSR_CAP_SIG_MAX + 1];
	json_t *root;
	char *text = NULL;
	int r = 0;

	rombsr_buf_init(out, ROMBSR_RESPONSE_MAX_BYTES);
	rombsr_time_format(resp->time, when);
	root = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "format", ROMBSR_RESPONSE_FORMAT, "version",
			 ROMBSR_RESPONSE_VERSION, "request_id", resp->request_id, "request_commit",
			 resp->request_commit, "status", resp->signed_ok ? "signed" : "rejected", "sign_node",
			 resp->sign_node, "time", when);
	if (root != NULL && resp->signed_ok) {
		json_t *list = json_array();

		for (size_t i = 0; i < resp->nsigs && list != NULL && r == 0; i++) {
			json_t *o = rombsr_op_to_json(&resp->sigs[i].op);

			rombsr_hex_encode(resp->sigs[i].sig, resp->sigs[i].sig_len, hex);
			if (o == NULL || json_object_set_new(o, "signature", json_string(hex)) != 0 ||
			    json_array_append_new(list, o) != 0)
				r = ROMBSR_ENOMEM;
		}
		if (list == NULL || json_object_set_new(root, "signatures", list) != 0)
			r = ROMBSR_ENOMEM;
	} else if (root != NULL) {
		if (json_object_set_new(root, "reason", json_pack("{s:s, s:s}", "code", resp->reason_code, "message",
								  resp->reason_message)) != 0)
			r = ROMBSR_ENOMEM;
	}
	if (root != NULL && r == 0 && resp->has_audit &&
	    json_object_set_new(root, "audit", json_pack("{s:I, s:I, s:o*}", "index", (json_int_t)resp->audit_index,
							 "entries", (json_int_t)resp->audit_entries, "proof",
							 proof_lines(resp->audit_proof ? resp->audit_proof : ""))) != 0)
		r = ROMBSR_ENOMEM;
	if (root != NULL && r == 0)
		text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text != NULL) {
		rombsr_buf_append_str(out, text);
		rombsr_buf_append(out, "\n", 1);
	}
	r = text != NULL ? rombsr_buf_check(out, "response") : rombsr_error(ROMBSR_ENOMEM, "cannot encode the response");
	free(text);
	json_decref(root);
	return r;
}

void rombsr_response_free(struct rombsr_response *resp)
{
	if (resp == NULL)
		return;
	free(resp->sigs);
	free(resp->audit_proof);
	memset(resp, 0, sizeof(*resp));
}
