#include "request.h"

#include "../common/base64.h"

#include "gpg.h"

#include "../common/error.h"
#include "../common/hex.h"
#include "../common/json_strict.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const build_types[] = {"user", "userdebug", "eng", NULL};
static const char *const authorities[] = {"release", "manifest", NULL};

const char *rombsr_build_type_name(enum rombsr_build_type t)
{
	return build_types[t];
}

static const struct {
	const char *name;
	CK_MECHANISM_TYPE hash;
	CK_RSA_PKCS_MGF_TYPE mgf;
	const char *mgf_name;
	size_t len;
} pss_names[] = {
	{"CKM_SHA224", CKM_SHA224, CKG_MGF1_SHA224, "CKG_MGF1_SHA224", 28},
	{"CKM_SHA256", CKM_SHA256, CKG_MGF1_SHA256, "CKG_MGF1_SHA256", 32},
	{"CKM_SHA384", CKM_SHA384, CKG_MGF1_SHA384, "CKG_MGF1_SHA384", 48},
	{"CKM_SHA512", CKM_SHA512, CKG_MGF1_SHA512, "CKG_MGF1_SHA512", 64},
};
#define PSS_NAMES (sizeof(pss_names) / sizeof(pss_names[0]))

json_t *rombsr_op_to_json(const struct rombsr_cap_op *op)
{
	char tbs[2 * ROMBSR_CAP_TBS_MAX + 1];
	json_t *o;

	rombsr_hex_encode(op->tbs, op->tbs_len, tbs);
	o = json_pack("{s:s, s:s, s:s, s:s}", "key", op->label, "spki_sha256", op->spki_sha256, "mechanism",
		      op->mech->name, "tbs", tbs);
	if (o != NULL && op->mech->pss) {
		const char *hash = NULL, *mgf = NULL;

		for (size_t i = 0; i < PSS_NAMES; i++) {
			if (pss_names[i].hash == op->pss.hash)
				hash = pss_names[i].name;
			if (pss_names[i].mgf == op->pss.mgf)
				mgf = pss_names[i].mgf_name;
		}
		if (hash == NULL || mgf == NULL ||
		    json_object_set_new(o, "pss", json_pack("{s:s, s:s, s:I}", "hash", hash, "mgf", mgf, "salt_len",
							    (json_int_t)op->pss.salt_len)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int pss_from_json(const json_t *o, const char *path, struct rombsr_cap_op *op)
{
	static const char *const fields[] = {"hash", "mgf", "salt_len", NULL};
	const char *hash, *mgf;
	int64_t salt;
	bool hash_ok = false, mgf_ok = false;
	int r = rombsr_json_only(o, path, fields);

	if (r == 0)
		r = rombsr_json_string(o, path, "hash", 32, &hash);
	if (r == 0)
		r = rombsr_json_string(o, path, "mgf", 32, &mgf);
	if (r == 0)
		r = rombsr_json_int(o, path, "salt_len", 0, 512, &salt);
	if (r < 0)
		return r;
	for (size_t i = 0; i < PSS_NAMES; i++) {
		if (strcmp(pss_names[i].name, hash) == 0) {
			op->pss.hash = pss_names[i].hash;
			hash_ok = true;
		}
		if (strcmp(pss_names[i].mgf_name, mgf) == 0) {
			op->pss.mgf = pss_names[i].mgf;
			mgf_ok = true;
		}
	}
	if (!hash_ok || !mgf_ok)
		return rombsr_error(ROMBSR_EINVAL, "%s: hash and mgf must be SHA-2 (CKM_SHA256, CKG_MGF1_SHA256, ...)", path);
	op->pss.salt_len = (CK_ULONG)salt;
	r = rombsr_cap_pss_check(op->mech, &op->pss, 0);
	return r < 0 ? rombsr_error_wrap(r, "%s", path) : 0;
}

/* The to-be-signed bytes a mechanism can take: a digest of its own hash,
 * a PSS digest of the PSS hash, or a raw block no longer than the largest
 * key (the sign node checks the exact key size). */
static int check_tbs_len(const struct rombsr_cap_op *op, const char *path)
{
	size_t want = 0;

	if (op->mech->hash != NULL)
		want = (size_t)EVP_MD_get_size(EVP_get_digestbyname(op->mech->hash));
	else if (op->mech->pss) {
		for (size_t i = 0; i < PSS_NAMES; i++)
			if (pss_names[i].hash == op->pss.hash)
				want = pss_names[i].len;
	} else if (op->mech->type == CKM_ECDSA && op->tbs_len > 64) {
		return rombsr_error(ROMBSR_EINVAL, "%s.tbs: CKM_ECDSA takes at most 64 bytes", path);
	}
	if (want != 0 && op->tbs_len != want)
		return rombsr_error(ROMBSR_EINVAL, "%s.tbs: %s needs a %zu-byte digest, got %zu bytes", path,
				    op->mech->name, want, op->tbs_len);
	return 0;
}

int rombsr_op_from_json(const json_t *o, const char *path, struct rombsr_cap_op *op)
{
	static const char *const fields[] = {"key", "spki_sha256", "mechanism", "tbs", "pss", "program", "data", NULL};
	const char *label, *spki, *mech;
	unsigned char fp[32];
	json_t *pss;
	char sub[ROMBSR_JSON_PATH_MAX];
	int r;

	memset(op, 0, sizeof(*op));
	if (!json_is_object(o))
		return rombsr_error(ROMBSR_EINVAL, "%s: must be an object", path);
	r = rombsr_json_only(o, path, fields);
	if (r == 0)
		r = rombsr_json_string(o, path, "key", sizeof(op->label) - 1, &label);
	if (r == 0)
		r = rombsr_json_hex(o, path, "spki_sha256", fp, sizeof(fp));
	if (r == 0)
		r = rombsr_json_string(o, path, "spki_sha256", 64, &spki);
	if (r == 0)
		r = rombsr_json_string(o, path, "mechanism", 64, &mech);
	if (r < 0)
		return r;
	snprintf(op->label, sizeof(op->label), "%s", label);
	memcpy(op->spki_sha256, spki, 65);
	op->mech = rombsr_cap_mech_by_name(mech);
	if (op->mech == NULL)
		return rombsr_error(ROMBSR_EINVAL, "%s.mechanism: '%s' is not supported", path, mech);
	pss = json_object_get(o, "pss");
	if (op->mech->pss != (pss != NULL))
		return rombsr_error(ROMBSR_EINVAL, "%s: %s %s pss parameters", path, mech,
				    op->mech->pss ? "needs" : "takes no");
	if (pss != NULL) {
		snprintf(sub, sizeof(sub), "%s.pss", path);
		if (!json_is_object(pss))
			return rombsr_error(ROMBSR_EINVAL, "%s: must be an object", sub);
		r = pss_from_json(pss, sub, op);
		if (r < 0)
			return r;
	}
	r = rombsr_json_hex_var(o, path, "tbs", op->tbs, ROMBSR_CAP_TBS_MAX, &op->tbs_len);
	if (r == 0)
		r = check_tbs_len(op, path);
	return r;
}

static int parse_build(const json_t *root, struct rombsr_request *req)
{
	static const char *const fields[] = {"product", "build_id", "source_commit", "build_type", "build_node", NULL};
	const char *product, *build_id, *commit, *node;
	unsigned char commit_bytes[32];
	json_t *b;
	int type, r;

	r = rombsr_json_object(root, "request", "build", &b);
	if (r == 0)
		r = rombsr_json_only(b, "request.build", fields);
	if (r == 0)
		r = rombsr_json_string(b, "request.build", "product", ROMBSR_TEXT_MAX, &product);
	if (r == 0)
		r = rombsr_json_string(b, "request.build", "build_id", ROMBSR_TEXT_MAX, &build_id);
	if (r == 0)
		r = rombsr_json_string(b, "request.build", "source_commit", 64, &commit);
	if (r == 0 && strlen(commit) != 40 && strlen(commit) != 64)
		r = rombsr_error(ROMBSR_EINVAL, "request.build.source_commit: must be a 40- or 64-digit commit ID");
	if (r == 0)
		r = rombsr_json_hex(b, "request.build", "source_commit", commit_bytes, strlen(commit) / 2);
	if (r == 0)
		r = rombsr_json_enum(b, "request.build", "build_type", build_types, &type);
	if (r == 0)
		r = rombsr_json_string(b, "request.build", "build_node", 40, &node);
	if (r == 0 && !rombsr_fpr_valid(node))
		r = rombsr_error(ROMBSR_EINVAL, "request.build.build_node: not an OpenPGP fingerprint (40 upper-case hex)");
	if (r < 0)
		return r;
	snprintf(req->product, sizeof(req->product), "%s", product);
	snprintf(req->build_id, sizeof(req->build_id), "%s", build_id);
	snprintf(req->source_commit, sizeof(req->source_commit), "%s", commit);
	snprintf(req->build_node, sizeof(req->build_node), "%s", node);
	req->build_type = (enum rombsr_build_type)type;
	return 0;
}

static int parse_artifacts(const json_t *root, struct rombsr_request *req)
{
	return rombsr_json_artifacts(root, "request", "artifacts", ROMBSR_REQUEST_MAX_ARTIFACTS, &req->artifacts,
				     &req->nartifacts);
}

static int parse_operations(const json_t *root, struct rombsr_request *req)
{
	char path[ROMBSR_JSON_PATH_MAX];
	json_t *list, *item;
	size_t i;
	int r = rombsr_json_array(root, "request", "operations", ROMBSR_REQUEST_MAX_OPERATIONS, &list);

	if (r < 0)
		return r;
	if (json_array_size(list) == 0)
		return rombsr_error(ROMBSR_EINVAL, "request.operations: a request must ask for at least one signature");
	req->ops = calloc(json_array_size(list), sizeof(*req->ops));
	if (req->ops == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	json_array_foreach(list, i, item) {
		const char *program = NULL;

		rombsr_json_path_index(path, sizeof(path), "request", "operations", i);
		r = rombsr_op_from_json(item, path, &req->ops[i].op);
		if (r == 0)
			r = rombsr_json_string_opt(item, path, "program", ROMBSR_NAME_MAX, &program);
		if (r == 0 && json_object_get(item, "data") != NULL) {
			r = rombsr_cap_data_from_json(json_object_get(item, "data"), &req->ops[i].op, &req->ops[i].data,
						      &req->ops[i].data_len);
			if (r < 0)
				r = rombsr_error_wrap(r, "%s", path);
		}
		if (r < 0) {
			req->nops = i + 1; /* so that rombsr_request_free frees what was read */
			return r;
		}
		if (program != NULL)
			snprintf(req->ops[i].program, sizeof(req->ops[i].program), "%s", program);
		for (size_t j = 0; j < i; j++)
			if (rombsr_cap_op_same(&req->ops[j].op, &req->ops[i].op))
				return rombsr_error(ROMBSR_EINVAL, "%s: the same operation as operations[%zu]", path, j);
		req->nops++;
	}
	return 0;
}

/* The ID starts with the UTC date of created: that date names the folder
 * the request lives in (src/queue/layout.h). */
static int check_id_date(const struct rombsr_request *req)
{
	char date[ROMBSR_REQUEST_ID_DATE_LEN + 1], created[21];

	if (rombsr_request_id_date(req->created, date) == 0 && memcmp(req->id, date, ROMBSR_REQUEST_ID_DATE_LEN) == 0)
		return 0;
	rombsr_time_format(req->created, created);
	return rombsr_error(ROMBSR_EINVAL, "request.id: dated %.4s-%.2s-%.2s, not the UTC date of request.created (%s)",
			    req->id, req->id + 4, req->id + 6, created);
}

int rombsr_request_parse(const char *text, size_t len, struct rombsr_request *out)
{
	static const char *const fields[] = {"format", "version", "id", "created", "expires", "authority",
					     "round", "build", "artifacts", "operations", NULL};
	const char *format, *id;
	int64_t version, round;
	int authority;
	json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_json_load(text, len, ROMBSR_REQUEST_MAX_BYTES, "request", &root);
	if (r == 0)
		r = rombsr_json_only(root, "request", fields);
	if (r == 0)
		r = rombsr_json_string(root, "request", "format", 64, &format);
	if (r == 0 && strcmp(format, ROMBSR_REQUEST_FORMAT) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "request.format: expected '%s'", ROMBSR_REQUEST_FORMAT);
	if (r == 0)
		r = rombsr_json_int(root, "request", "version", ROMBSR_REQUEST_VERSION, ROMBSR_REQUEST_VERSION, &version);
	if (r == 0)
		r = rombsr_json_string(root, "request", "id", ROMBSR_REQUEST_ID_LEN, &id);
	if (r == 0 && !rombsr_request_id_valid(id))
		r = rombsr_error(ROMBSR_EINVAL, "request.id: must be " ROMBSR_REQUEST_ID_FORM);
	if (r == 0) {
		memcpy(out->id, id, sizeof(out->id));
		r = rombsr_json_time(root, "request", "created", &out->created);
	}
	if (r == 0)
		r = check_id_date(out);
	if (r == 0)
		r = rombsr_json_time(root, "request", "expires", &out->expires);
	if (r == 0 && (out->expires <= out->created || out->expires - out->created > ROMBSR_REQUEST_MAX_LIFETIME))
		r = rombsr_error(ROMBSR_EINVAL, "request.expires: must be after created and at most 7 days later");
	if (r == 0)
		r = rombsr_json_enum(root, "request", "authority", authorities, &authority);
	if (r == 0) {
		out->authority = (enum rombsr_authority_id)authority;
		r = rombsr_json_int(root, "request", "round", 1, ROMBSR_REQUEST_MAX_ROUND, &round);
	}
	if (r == 0) {
		out->round = (unsigned)round;
		r = parse_build(root, out);
	}
	if (r == 0)
		r = parse_artifacts(root, out);
	if (r == 0)
		r = parse_operations(root, out);
	json_decref(root);
	if (r < 0)
		rombsr_request_free(out);
	return r;
}

int rombsr_request_encode(const struct rombsr_request *req, struct rombsr_buf *out)
{
	char created[21], expires[21];
	json_t *artifacts = rombsr_artifacts_to_json(req->artifacts, req->nartifacts), *ops = json_array(), *root = NULL;
	char *text = NULL;
	int r = 0;

	rombsr_buf_init(out, ROMBSR_REQUEST_MAX_BYTES);
	for (size_t i = 0; i < req->nops && ops != NULL && r == 0; i++) {
		json_t *o = rombsr_op_to_json(&req->ops[i].op);

		if (o != NULL && req->ops[i].program[0] != '\0')
			json_object_set_new(o, "program", json_string(req->ops[i].program));
		if (o != NULL && req->ops[i].data != NULL) {
			struct rombsr_buf b64;

			rombsr_buf_init(&b64, 2 * ROMBSR_CAP_DATA_MAX);
			rombsr_base64_encode(&b64, req->ops[i].data, req->ops[i].data_len);
			if (rombsr_buf_check(&b64, "data") < 0 ||
			    json_object_set_new(o, "data", json_string(rombsr_buf_cstr(&b64))) != 0)
				r = ROMBSR_ENOMEM;
			rombsr_buf_free(&b64);
		}
		if (o == NULL || json_array_append_new(ops, o) != 0)
			r = ROMBSR_ENOMEM;
	}
	rombsr_time_format(req->created, created);
	rombsr_time_format(req->expires, expires);
	if (r == 0 && artifacts != NULL && ops != NULL)
		root = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:i, s:{s:s, s:s, s:s, s:s, s:s}, s:O, s:O}", "format",
				 ROMBSR_REQUEST_FORMAT, "version", ROMBSR_REQUEST_VERSION, "id", req->id, "created",
				 created, "expires", expires, "authority", authorities[req->authority], "round",
				 (int)req->round, "build", "product", req->product, "build_id", req->build_id,
				 "source_commit", req->source_commit, "build_type", build_types[req->build_type],
				 "build_node", req->build_node, "artifacts", artifacts, "operations", ops);
	if (root != NULL)
		text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text != NULL) {
		rombsr_buf_append_str(out, text);
		rombsr_buf_append(out, "\n", 1);
	}
	r = text != NULL ? rombsr_buf_check(out, "request") : rombsr_error(ROMBSR_ENOMEM, "cannot encode the request");
	free(text);
	json_decref(root);
	json_decref(artifacts);
	json_decref(ops);
	return r;
}

void rombsr_request_free(struct rombsr_request *req)
{
	if (req == NULL)
		return;
	free(req->artifacts);
	for (size_t i = 0; req->ops != NULL && i < req->nops; i++)
		free(req->ops[i].data);
	free(req->ops);
	memset(req, 0, sizeof(*req));
}
