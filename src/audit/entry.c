#include "entry.h"

#include "../common/error.h"
#include "../common/hex.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_MAX ((1ULL << 53) - 1)

enum kind { K_ID, K_HEX64, K_HEX64_OPT, K_COMMIT, K_DIGEST, K_DIGEST_OPT, K_TEXT, K_COUNT, K_APPROVERS, K_ENUM };

struct field {
	const char *name;
	enum kind kind;
	size_t offset;
	size_t size;
	const char *const *allowed; /* K_ENUM */
};

static const char *const subjects[] = {"policy", "trust", NULL};
static const char *const results[] = {"failed", "ok", NULL};
static const char *const states[] = {"frozen", "thawed", NULL};

#define F(n, k) {#n, k, offsetof(struct rombsr_audit_entry, n), sizeof(((struct rombsr_audit_entry *)0)->n), NULL}
#define FE(n, list) {#n, K_ENUM, offsetof(struct rombsr_audit_entry, n), \
		     sizeof(((struct rombsr_audit_entry *)0)->n), list}

enum field_id {
	F_REQUEST_ID, F_REQUEST_COMMIT, F_SIGNATURES, F_REASON, F_DETAIL, F_ARTIFACT, F_KEY_FP, F_KEY_LABEL,
	F_MECHANISM, F_DIGEST, F_SIG_SHA256, F_REQUIRED, F_APPROVERS, F_SUBJECT, F_COMMIT, F_SHA256,
	F_PREVIOUS, F_ALGORITHM, F_TOKEN, F_ROLE, F_RESULT, F_KIND, F_CONTENT_DIGEST, F_STATE,
	F_CLIENT_CERT, F_BUILD_NODE, F_ROUTE,
	F_END = -1,
};

static const struct field fields[] = {
	[F_REQUEST_ID] = F(request_id, K_ID),
	[F_REQUEST_COMMIT] = F(request_commit, K_COMMIT),
	[F_SIGNATURES] = F(signatures, K_COUNT),
	[F_REASON] = F(reason, K_ID),
	[F_DETAIL] = F(detail, K_TEXT),
	[F_ARTIFACT] = F(artifact_sha256, K_HEX64),
	[F_KEY_FP] = F(key_fingerprint, K_HEX64),
	[F_KEY_LABEL] = F(key_label, K_ID),
	[F_MECHANISM] = F(mechanism, K_ID),
	[F_DIGEST] = F(digest, K_DIGEST),
	[F_SIG_SHA256] = F(signature_sha256, K_HEX64),
	[F_REQUIRED] = F(required, K_COUNT),
	[F_APPROVERS] = F(approvers, K_APPROVERS),
	[F_SUBJECT] = FE(subject, subjects),
	[F_COMMIT] = F(commit, K_COMMIT),
	[F_SHA256] = F(sha256, K_HEX64),
	[F_PREVIOUS] = F(previous_sha256, K_HEX64_OPT),
	[F_ALGORITHM] = F(algorithm, K_ID),
	[F_TOKEN] = F(token, K_ID),
	[F_ROLE] = F(role, K_ID),
	[F_RESULT] = FE(result, results),
	[F_KIND] = FE(kind, rombsr_cap_data_kinds),
	[F_CONTENT_DIGEST] = F(content_digest, K_DIGEST_OPT),
	[F_STATE] = FE(state, states),
	[F_CLIENT_CERT] = F(client_certificate, K_HEX64),
	[F_BUILD_NODE] = F(build_node, K_COMMIT),
	[F_ROUTE] = F(route, K_ID),
};

struct type_info {
	const char *name;
	enum field_id fields[10];
};

static const struct type_info types[] = {
	[ROMBSR_AUDIT_REQUEST_SIGNED] = {"request-signed", {F_REQUEST_ID, F_REQUEST_COMMIT, F_SIGNATURES, F_END}},
	[ROMBSR_AUDIT_REQUEST_REJECTED] = {"request-rejected",
					   {F_REQUEST_ID, F_REQUEST_COMMIT, F_REASON, F_DETAIL, F_END}},
	[ROMBSR_AUDIT_SIGNATURE] = {"signature",
				    {F_REQUEST_ID, F_REQUEST_COMMIT, F_ARTIFACT, F_KEY_FP, F_KEY_LABEL, F_MECHANISM,
				     F_DIGEST, F_SIG_SHA256, F_END}},
	[ROMBSR_AUDIT_APPROVALS] = {"approvals", {F_REQUEST_ID, F_REQUEST_COMMIT, F_REQUIRED, F_APPROVERS, F_END}},
	[ROMBSR_AUDIT_POLICY_APPLIED] = {"policy-applied", {F_SUBJECT, F_COMMIT, F_SHA256, F_PREVIOUS, F_END}},
	[ROMBSR_AUDIT_KEY_GENERATED] = {"key-generated", {F_KEY_FP, F_KEY_LABEL, F_ALGORITHM, F_TOKEN, F_END}},
	[ROMBSR_AUDIT_KEY_REVOKED] = {"key-revoked", {F_KEY_FP, F_KEY_LABEL, F_REASON, F_END}},
	[ROMBSR_AUDIT_HSM_LOGIN] = {"hsm-login", {F_TOKEN, F_ROLE, F_RESULT, F_END}},
	[ROMBSR_AUDIT_POLICY_REFUSED] = {"policy-refused", {F_SUBJECT, F_COMMIT, F_SHA256, F_REASON, F_DETAIL, F_END}},
	[ROMBSR_AUDIT_UNDERSTOOD] = {"understood",
				      {F_REQUEST_ID, F_KEY_LABEL, F_KIND, F_DIGEST, F_CONTENT_DIGEST, F_DETAIL, F_END}},
	[ROMBSR_AUDIT_KEY_REVOCATION] = {"key-revocation", {F_COMMIT, F_KEY_FP, F_KEY_LABEL, F_TOKEN, F_DETAIL, F_END}},
	[ROMBSR_AUDIT_FREEZE] = {"freeze", {F_COMMIT, F_STATE, F_DETAIL, F_END}},
	[ROMBSR_AUDIT_SERVER_CLIENT] = {"server-client",
					{F_REQUEST_ID, F_COMMIT, F_CLIENT_CERT, F_BUILD_NODE, F_ROUTE, F_END}},
	[ROMBSR_AUDIT_DEVICE_LOG] = {"device-log", {F_TOKEN, F_DIGEST, F_REQUEST_ID, F_KEY_LABEL, F_DETAIL, F_END}},
	[ROMBSR_AUDIT_DEVICE_LOG_ANOMALY] = {"device-log-anomaly", {F_TOKEN, F_REASON, F_DETAIL, F_END}},
};

#define N_TYPES (sizeof(types) / sizeof(types[0]))
#define N_COMMON 5 /* v, type, index, time, prev */

const char *rombsr_audit_type_name(enum rombsr_audit_type type)
{
	if ((size_t)type >= N_TYPES || types[type].name == NULL)
		return "unknown";
	return types[type].name;
}

enum rombsr_audit_type rombsr_audit_type_from_name(const char *name)
{
	for (size_t i = 1; i < N_TYPES; i++)
		if (strcmp(types[i].name, name) == 0)
			return (enum rombsr_audit_type)i;
	return ROMBSR_AUDIT_NONE;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool is_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._:/@+=-", c) != NULL;
}

/* Checks one string value of a kind; returns a short reason or NULL. s is
 * terminated (callers check that within the field's size), and is measured
 * whole: the longest kind, a digest, is far longer than a text. */
static const char *check_string(enum kind kind, const char *s, const char *const *allowed)
{
	size_t n = strlen(s);

	switch (kind) {
	case K_ID:
		if (n == 0 || n > ROMBSR_AUDIT_ID_MAX)
			return "must be 1 to 128 characters";
		for (size_t i = 0; i < n; i++)
			if (!is_id_char(s[i]))
				return "characters allowed: A-Z a-z 0-9 . _ : / @ + = -";
		return NULL;
	case K_HEX64_OPT:
		if (n == 0)
			return NULL;
		/* fall through */
	case K_HEX64:
		return n == 64 && is_lower_hex(s, n) ? NULL : "must be 64 lower-case hex digits";
	case K_COMMIT:
		return (n == 40 || n == 64) && is_lower_hex(s, n) ? NULL : "must be 40 or 64 lower-case hex digits";
	case K_DIGEST_OPT:
		if (n == 0)
			return NULL;
		/* fall through */
	case K_DIGEST:
		return n >= 2 && n <= 2 * ROMBSR_CAP_TBS_MAX && n % 2 == 0 && is_lower_hex(s, n)
			       ? NULL
			       : "must be 2 to 2048 lower-case hex digits, an even number";
	case K_TEXT:
		if (n > ROMBSR_AUDIT_TEXT_MAX)
			return "longer than 256 characters";
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
				return "only printable ASCII without '\"' and '\\' is allowed";
		return NULL;
	case K_ENUM:
		for (size_t i = 0; allowed[i] != NULL; i++)
			if (strcmp(s, allowed[i]) == 0)
				return NULL;
		return "not one of the allowed values";
	default:
		return "not a string field";
	}
}

bool rombsr_audit_is_id(const char *s)
{
	return check_string(K_ID, s, NULL) == NULL;
}

static json_t *field_to_json(const struct rombsr_audit_entry *e, const struct field *f, int *r)
{
	const char *base = (const char *)e + f->offset;
	const char *why;
	json_t *v = NULL;

	if (f->kind == K_COUNT) {
		uint64_t n = *(const uint64_t *)(const void *)base;

		if (n > COUNT_MAX) {
			*r = rombsr_error(ROMBSR_EINVAL, "audit entry field %s: larger than 2^53-1", f->name);
			return NULL;
		}
		v = json_integer((json_int_t)n);
	} else if (f->kind == K_APPROVERS) {
		if (e->n_approvers > ROMBSR_AUDIT_MAX_APPROVERS) {
			*r = rombsr_error(ROMBSR_EINVAL, "audit entry field approvers: more than %d",
					  ROMBSR_AUDIT_MAX_APPROVERS);
			return NULL;
		}
		v = json_array();
		for (size_t i = 0; v != NULL && i < e->n_approvers; i++) {
			why = check_string(K_COMMIT, e->approvers[i], NULL);
			if (why == NULL && i > 0 && strcmp(e->approvers[i - 1], e->approvers[i]) >= 0)
				why = "must be strictly ascending (sorted, no repeats)";
			if (why != NULL) {
				json_decref(v);
				*r = rombsr_error(ROMBSR_EINVAL, "audit entry field approvers[%zu]: %s", i, why);
				return NULL;
			}
			if (json_array_append_new(v, json_string(e->approvers[i])) != 0) {
				json_decref(v);
				v = NULL;
			}
		}
	} else {
		if (memchr(base, '\0', f->size) == NULL) {
			*r = rombsr_error(ROMBSR_EINVAL, "audit entry field %s: not terminated", f->name);
			return NULL;
		}
		why = check_string(f->kind, base, f->allowed);
		if (why != NULL) {
			*r = rombsr_error(ROMBSR_EINVAL, "audit entry field %s: %s", f->name, why);
			return NULL;
		}
		v = json_string(base);
	}
	if (v == NULL)
		*r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	return v;
}

static int set(json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	return 0;
}

int rombsr_audit_entry_encode(const struct rombsr_audit_entry *e, struct rombsr_buf *out)
{
	char prev_hex[2 * ROMBSR_MERKLE_HASH_LEN + 1];
	json_t *obj = NULL;
	char *text = NULL;
	int r = ROMBSR_ENOMEM;

	rombsr_buf_init(out, ROMBSR_AUDIT_ENTRY_MAX);
	if ((size_t)e->type >= N_TYPES || e->type == ROMBSR_AUDIT_NONE)
		return rombsr_error(ROMBSR_EINVAL, "audit entry: unknown type %d", (int)e->type);
	if (e->index > COUNT_MAX)
		return rombsr_error(ROMBSR_EINVAL, "audit entry: index too large");
	if (e->time > ROMBSR_AUDIT_TIME_MAX)
		return rombsr_error(ROMBSR_EINVAL, "audit entry: time after the year 9999");
	obj = json_object();
	if (obj == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	rombsr_hex_encode(e->prev, sizeof(e->prev), prev_hex);
	if ((r = set(obj, "v", json_integer(ROMBSR_AUDIT_ENTRY_VERSION))) < 0 ||
	    (r = set(obj, "type", json_string(types[e->type].name))) < 0 ||
	    (r = set(obj, "index", json_integer((json_int_t)e->index))) < 0 ||
	    (r = set(obj, "time", json_integer((json_int_t)e->time))) < 0 ||
	    (r = set(obj, "prev", json_string(prev_hex))) < 0)
		goto out;
	for (const enum field_id *id = types[e->type].fields; *id != F_END; id++) {
		json_t *v = field_to_json(e, &fields[*id], &r);

		if (v == NULL)
			goto out;
		if ((r = set(obj, fields[*id].name, v)) < 0)
			goto out;
	}
	text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	rombsr_buf_append_str(out, text);
	r = rombsr_buf_check(out, "audit entry");
out:
	free(text);
	json_decref(obj);
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

static const struct field *type_field(enum rombsr_audit_type type, const char *key)
{
	for (const enum field_id *id = types[type].fields; *id != F_END; id++)
		if (strcmp(fields[*id].name, key) == 0)
			return &fields[*id];
	return NULL;
}

static int get_uint(json_t *obj, const char *key, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n;

	if (v == NULL)
		return rombsr_error(ROMBSR_EINVAL, "audit entry: missing \"%s\"", key);
	if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 || (uint64_t)n > max)
		return rombsr_error(ROMBSR_EINVAL, "audit entry: \"%s\" must be an integer from 0 to %llu", key,
				    (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

static int field_from_json(struct rombsr_audit_entry *e, const struct field *f, json_t *v)
{
	char *base = (char *)e + f->offset;
	const char *s, *why;

	if (f->kind == K_COUNT) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > COUNT_MAX)
			return rombsr_error(ROMBSR_EINVAL, "audit entry field %s: must be an integer from 0 to 2^53-1",
					    f->name);
		*(uint64_t *)(void *)base = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (f->kind == K_APPROVERS) {
		size_t n;

		if (!json_is_array(v) || (n = json_array_size(v)) > ROMBSR_AUDIT_MAX_APPROVERS)
			return rombsr_error(ROMBSR_EINVAL, "audit entry field approvers: must be an array of at most %d",
					    ROMBSR_AUDIT_MAX_APPROVERS);
		for (size_t i = 0; i < n; i++) {
			json_t *item = json_array_get(v, i);

			if (!json_is_string(item) || json_string_length(item) > 64)
				return rombsr_error(ROMBSR_EINVAL, "audit entry field approvers[%zu]: not a fingerprint", i);
			memcpy(e->approvers[i], json_string_value(item), json_string_length(item) + 1);
		}
		e->n_approvers = n;
		return 0; /* kinds and order are checked when re-encoding */
	}
	if (!json_is_string(v) || json_string_length(v) + 1 > f->size)
		return rombsr_error(ROMBSR_EINVAL, "audit entry field %s: must be a string of at most %zu characters",
				    f->name, f->size - 1);
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return rombsr_error(ROMBSR_EINVAL, "audit entry field %s: contains NUL", f->name);
	why = check_string(f->kind, s, f->allowed);
	if (why != NULL)
		return rombsr_error(ROMBSR_EINVAL, "audit entry field %s: %s", f->name, why);
	memcpy(base, s, json_string_length(v) + 1);
	return 0;
}

int rombsr_audit_entry_decode(const char *data, size_t len, struct rombsr_audit_entry *e)
{
	struct rombsr_buf again = {0};
	json_error_t jerr;
	json_t *obj = NULL, *v;
	const char *key;
	uint64_t version;
	size_t expected = N_COMMON;
	int r = ROMBSR_EINVAL;

	memset(e, 0, sizeof(*e));
	if (len > ROMBSR_AUDIT_ENTRY_MAX)
		return rombsr_error(ROMBSR_EINVAL, "audit entry: longer than %d bytes", ROMBSR_AUDIT_ENTRY_MAX);
	if (len == 0 || data[0] != '{' || memchr(data, '\n', len) != NULL)
		return rombsr_error(ROMBSR_EINVAL, "audit entry: not one JSON object on one line");
	obj = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL)
		return rombsr_error(ROMBSR_EINVAL, "audit entry: invalid JSON at byte %d: %s", jerr.position, jerr.text);
	if (!json_is_object(obj)) {
		r = rombsr_error(ROMBSR_EINVAL, "audit entry: not a JSON object");
		goto out;
	}
	if ((r = get_uint(obj, "v", UINT64_MAX >> 1, &version)) < 0)
		goto out;
	if (version != ROMBSR_AUDIT_ENTRY_VERSION) {
		r = rombsr_error(ROMBSR_EUNSUPPORTED, "audit entry: version %llu is not supported (only %d)",
				 (unsigned long long)version, ROMBSR_AUDIT_ENTRY_VERSION);
		goto out;
	}
	v = json_object_get(obj, "type");
	if (!json_is_string(v) || (e->type = rombsr_audit_type_from_name(json_string_value(v))) == ROMBSR_AUDIT_NONE) {
		r = rombsr_error(ROMBSR_EINVAL, "audit entry: missing or unknown \"type\"");
		goto out;
	}
	if ((r = get_uint(obj, "index", COUNT_MAX, &e->index)) < 0 ||
	    (r = get_uint(obj, "time", ROMBSR_AUDIT_TIME_MAX, &e->time)) < 0)
		goto out;
	v = json_object_get(obj, "prev");
	if (!json_is_string(v) || json_string_length(v) != 2 * ROMBSR_MERKLE_HASH_LEN ||
	    rombsr_hex_decode(json_string_value(v), e->prev, sizeof(e->prev), "prev") < 0) {
		r = rombsr_error(ROMBSR_EINVAL, "audit entry: \"prev\" must be 64 lower-case hex digits");
		goto out;
	}
	for (const enum field_id *id = types[e->type].fields; *id != F_END; id++)
		expected++;
	json_object_foreach(obj, key, v) {
		const struct field *f;

		if (strcmp(key, "v") == 0 || strcmp(key, "type") == 0 || strcmp(key, "index") == 0 ||
		    strcmp(key, "time") == 0 || strcmp(key, "prev") == 0)
			continue;
		f = type_field(e->type, key);
		if (f == NULL) {
			r = rombsr_error(ROMBSR_EINVAL, "audit entry: field \"%.64s\" is not part of a %s entry", key,
					 types[e->type].name);
			goto out;
		}
		if ((r = field_from_json(e, f, v)) < 0)
			goto out;
	}
	if (json_object_size(obj) != expected) {
		for (const enum field_id *id = types[e->type].fields; *id != F_END; id++)
			if (json_object_get(obj, fields[*id].name) == NULL) {
				r = rombsr_error(ROMBSR_EINVAL, "audit entry: a %s entry needs \"%s\"",
						 types[e->type].name, fields[*id].name);
				goto out;
			}
		r = rombsr_error(ROMBSR_EINVAL, "audit entry: wrong set of fields");
		goto out;
	}
	r = rombsr_audit_entry_encode(e, &again);
	if (r < 0)
		goto out;
	if (again.len != len || memcmp(again.data, data, len) != 0) {
		r = rombsr_error(ROMBSR_EINVAL,
				 "audit entry: not in canonical form (sorted keys, no whitespace, no escapes)");
		goto out;
	}
	r = 0;
out:
	rombsr_buf_free(&again);
	json_decref(obj);
	if (r < 0)
		memset(e, 0, sizeof(*e));
	return r;
}
