#include "incident.h"

#include "gpg.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/json_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool rombsr_incident_reason_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ROMBSR_INCIDENT_REASON_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static bool lower_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* A key label or token label as the key set and PKCS#11 URIs use them
 * here: letters, digits and . _ - / only, so it is safe in a path, a
 * message and an audit entry's id field. */
static bool label_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr("._-/", s[i]) != NULL))
			return false;
	return true;
}

/* Loads a record (what: "freeze", "revocation") with only the fields
 * listed, and reads the fields both kinds share: format, version, reason,
 * admin, time. *root is the caller's to release, also on failure. */
static int load_record(const char *text, size_t len, const char *what, const char *const *fields,
		       const char *format, char *reason, char admin[41], time_t *when, json_t **root)
{
	const char *s;
	int64_t version;
	int r = rombsr_json_load(text, len, ROMBSR_INCIDENT_MAX_BYTES, what, root);

	if (r == 0)
		r = rombsr_json_only(*root, what, fields);
	if (r == 0)
		r = rombsr_json_string(*root, what, "format", 64, &s);
	if (r == 0 && strcmp(s, format) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "%s.format: expected '%s'", what, format);
	if (r == 0)
		r = rombsr_json_int(*root, what, "version", ROMBSR_INCIDENT_VERSION, ROMBSR_INCIDENT_VERSION, &version);
	if (r == 0)
		r = rombsr_json_string(*root, what, "reason", ROMBSR_INCIDENT_REASON_MAX, &s);
	if (r == 0 && !rombsr_incident_reason_valid(s))
		r = rombsr_error(ROMBSR_EINVAL, "%s.reason: must be 1 to %d printable ASCII characters", what,
				 ROMBSR_INCIDENT_REASON_MAX);
	if (r == 0) {
		snprintf(reason, ROMBSR_INCIDENT_REASON_MAX + 1, "%s", s);
		r = rombsr_json_string(*root, what, "admin", 40, &s);
	}
	if (r == 0 && !rombsr_fpr_valid(s))
		r = rombsr_error(ROMBSR_EINVAL, "%s.admin: not an OpenPGP fingerprint (40 upper-case hex)", what);
	if (r == 0) {
		memcpy(admin, s, 41);
		r = rombsr_json_time(*root, what, "time", when);
	}
	return r;
}

int rombsr_freeze_parse(const char *text, size_t len, struct rombsr_freeze *out)
{
	static const char *const fields[] = {"format", "version", "state", "reason", "admin", "time", NULL};
	static const char *const states[] = {"frozen", "thawed", NULL};
	json_t *root = NULL;
	int state = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = load_record(text, len, "freeze", fields, ROMBSR_FREEZE_FORMAT, out->reason, out->admin, &out->time, &root);
	if (r == 0)
		r = rombsr_json_enum(root, "freeze", "state", states, &state);
	out->frozen = state == 0;
	json_decref(root);
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

/* root (taken) as canonical text, parsed back by check into scratch:
 * rombsr commits nothing it would refuse to read. */
typedef int (*record_parse_fn)(const char *text, size_t len, void *out);

static int dump(json_t *root, const char *what, record_parse_fn check, void *scratch, struct rombsr_buf *out)
{
	char *text = root != NULL ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	int r;

	rombsr_buf_init(out, ROMBSR_INCIDENT_MAX_BYTES);
	if (text != NULL) {
		rombsr_buf_append_str(out, text);
		rombsr_buf_append(out, "\n", 1);
	}
	r = text != NULL ? rombsr_buf_check(out, what) : rombsr_error(ROMBSR_ENOMEM, "cannot encode the %s", what);
	free(text);
	json_decref(root);
	if (r == 0)
		r = check((const char *)out->data, out->len, scratch);
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

static int check_freeze(const char *text, size_t len, void *out)
{
	return rombsr_freeze_parse(text, len, out);
}

static int check_revocation(const char *text, size_t len, void *out)
{
	return rombsr_revocation_parse(text, len, out);
}

int rombsr_freeze_encode(const struct rombsr_freeze *f, struct rombsr_buf *out)
{
	struct rombsr_freeze check;
	char when[21];

	rombsr_time_format(f->time, when);
	return dump(json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "format", ROMBSR_FREEZE_FORMAT, "version",
			   ROMBSR_INCIDENT_VERSION, "state", f->frozen ? "frozen" : "thawed", "reason", f->reason,
			   "admin", f->admin, "time", when),
		    "freeze record", check_freeze, &check, out);
}

/* "pkcs11:token=T;object=L" exactly as the revocation names them: the two
 * attributes a key of the sign node is found by, in that order. */
static int check_uri(const struct rombsr_revocation *v, const char *what)
{
	char want[ROMBSR_INCIDENT_URI_MAX + 1];
	int n = snprintf(want, sizeof(want), "pkcs11:token=%s;object=%s", v->token, v->key_label);

	if (n < 0 || (size_t)n >= sizeof(want) || strcmp(want, v->key_uri) != 0)
		return rombsr_error(ROMBSR_EINVAL, "%s.key: must be %s (the token and key_label fields)", what, want);
	return 0;
}

static int parse_key(json_t *root, struct rombsr_revocation *out)
{
	const char *s;
	int r = rombsr_json_string(root, "revocation", "key_fingerprint", 64, &s);

	if (r == 0 && !lower_hex64(s))
		r = rombsr_error(ROMBSR_EINVAL, "revocation.key_fingerprint: must be 64 lower-case hex digits");
	if (r == 0) {
		memcpy(out->key_fingerprint, s, 65);
		r = rombsr_json_string(root, "revocation", "key_label", 64, &s);
	}
	if (r == 0 && !label_valid(s, 64))
		r = rombsr_error(ROMBSR_EINVAL, "revocation.key_label: 1 to 64 of A-Z a-z 0-9 . _ - /");
	if (r == 0) {
		snprintf(out->key_label, sizeof(out->key_label), "%s", s);
		r = rombsr_json_string(root, "revocation", "token", 32, &s);
	}
	if (r == 0 && !label_valid(s, 32))
		r = rombsr_error(ROMBSR_EINVAL, "revocation.token: 1 to 32 of A-Z a-z 0-9 . _ - /");
	if (r == 0) {
		snprintf(out->token, sizeof(out->token), "%s", s);
		r = rombsr_json_string(root, "revocation", "key", ROMBSR_INCIDENT_URI_MAX, &s);
	}
	if (r == 0) {
		snprintf(out->key_uri, sizeof(out->key_uri), "%s", s);
		r = check_uri(out, "revocation");
	}
	return r;
}

int rombsr_revocation_parse(const char *text, size_t len, struct rombsr_revocation *out)
{
	static const char *const fields[] = {"format", "version", "key", "key_fingerprint", "key_label", "token",
					     "reason", "admin", "time", NULL};
	json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = load_record(text, len, "revocation", fields, ROMBSR_REVOCATION_FORMAT, out->reason, out->admin, &out->time,
			&root);
	if (r == 0)
		r = parse_key(root, out);
	json_decref(root);
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int rombsr_revocation_encode(const struct rombsr_revocation *v, struct rombsr_buf *out)
{
	struct rombsr_revocation check;
	char when[21];

	rombsr_time_format(v->time, when);
	return dump(json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "format", ROMBSR_REVOCATION_FORMAT,
			   "version", ROMBSR_INCIDENT_VERSION, "key", v->key_uri, "key_fingerprint", v->key_fingerprint,
			   "key_label", v->key_label, "token", v->token, "reason", v->reason, "admin", v->admin, "time",
			   when),
		    "revocation", check_revocation, &check, out);
}

int rombsr_revocation_path(const char *fingerprint, char *out, size_t size)
{
	if (!lower_hex64(fingerprint))
		return rombsr_error(ROMBSR_EINVAL, "'%.70s' is not a key fingerprint (64 lower-case hex digits)",
				    fingerprint);
	return rombsr_path_format(out, size, "%s/%s.json", ROMBSR_REVOCATION_DIR, fingerprint);
}

bool rombsr_revocation_path_match(const char *path, char fingerprint[65])
{
	const char *name = path + sizeof(ROMBSR_REVOCATION_DIR);

	if (strncmp(path, ROMBSR_REVOCATION_DIR "/", sizeof(ROMBSR_REVOCATION_DIR)) != 0 || strlen(name) != 69 ||
	    strcmp(name + 64, ".json") != 0)
		return false;
	memcpy(fingerprint, name, 64);
	fingerprint[64] = '\0';
	return lower_hex64(fingerprint);
}
