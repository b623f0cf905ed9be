#include "layout.h"

#include "audit_layout.h"
#include "gpg.h"

#include "../common/error.h"

#include <stdio.h>
#include <string.h>

int rombsr_request_id_valid(const char *id)
{
	if (strlen(id) != ROMBSR_REQUEST_ID_LEN)
		return 0;
	for (size_t i = 0; i < ROMBSR_REQUEST_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

/* Matches "<prefix><id[0:2]>/<id><suffix>" and copies the ID. */
static int match_sharded(const char *path, const char *prefix, const char *suffix, char id[ROMBSR_REQUEST_ID_LEN + 1],
			 const char **rest)
{
	size_t plen = strlen(prefix), slen = strlen(suffix);
	const char *p = path;

	if (strncmp(p, prefix, plen) != 0)
		return 0;
	p += plen;
	if (strlen(p) < 3 + ROMBSR_REQUEST_ID_LEN || p[2] != '/')
		return 0;
	memcpy(id, p + 3, ROMBSR_REQUEST_ID_LEN);
	id[ROMBSR_REQUEST_ID_LEN] = '\0';
	if (!rombsr_request_id_valid(id) || strncmp(p, id, 2) != 0)
		return 0;
	p += 3 + ROMBSR_REQUEST_ID_LEN;
	if (rest != NULL) {
		*rest = p;
		return 1;
	}
	return strcmp(p, suffix) == 0 && slen > 0;
}

void rombsr_queue_classify(const char *path, struct rombsr_queue_path *out)
{
	const char *rest;
	uint64_t audit_number;

	memset(out, 0, sizeof(*out));
	if (strcmp(path, ROMBSR_QUEUE_TRUST) == 0) {
		out->kind = ROMBSR_PATH_TRUST;
	} else if (strncmp(path, ROMBSR_QUEUE_KEYS_DIR "/", sizeof(ROMBSR_QUEUE_KEYS_DIR)) == 0) {
		const char *name = path + sizeof(ROMBSR_QUEUE_KEYS_DIR);

		if (strlen(name) == 44 && strcmp(name + 40, ".asc") == 0) {
			memcpy(out->fpr, name, 40);
			out->fpr[40] = '\0';
			if (rombsr_fpr_valid(out->fpr))
				out->kind = ROMBSR_PATH_KEY;
		}
	} else if (strncmp(path, "policy/", 7) == 0 && path[7] != '\0') {
		out->kind = ROMBSR_PATH_POLICY;
	} else if (rombsr_queue_audit_classify(path, &audit_number) != ROMBSR_QUEUE_AUDIT_NONE) {
		out->kind = ROMBSR_PATH_AUDIT;
	} else if (match_sharded(path, "requests/", ".json", out->id, NULL)) {
		out->kind = ROMBSR_PATH_REQUEST;
	} else if (match_sharded(path, "responses/", ".json", out->id, NULL)) {
		out->kind = ROMBSR_PATH_RESPONSE;
	} else if (match_sharded(path, "approvals/", "", out->id, &rest)) {
		if (strlen(rest) == 46 && rest[0] == '/' && strcmp(rest + 41, ".json") == 0) {
			memcpy(out->fpr, rest + 1, 40);
			out->fpr[40] = '\0';
			if (rombsr_fpr_valid(out->fpr))
				out->kind = ROMBSR_PATH_APPROVAL;
		}
	}
	if (out->kind == ROMBSR_PATH_UNKNOWN)
		memset(out, 0, sizeof(*out));
}

static int sharded_path(const char *dir, const char *id, const char *tail, char *out, size_t size)
{
	if (!rombsr_request_id_valid(id))
		return rombsr_error(ROMBSR_EINVAL, "'%.40s' is not a request ID (32 lower-case hex digits)", id);
	if ((size_t)snprintf(out, size, "%s/%.2s/%s%s", dir, id, id, tail) >= size)
		return rombsr_error(ROMBSR_EINTERNAL, "path buffer too small");
	return 0;
}

int rombsr_queue_request_path(const char *id, char *out, size_t size)
{
	return sharded_path("requests", id, ".json", out, size);
}

int rombsr_queue_response_path(const char *id, char *out, size_t size)
{
	return sharded_path("responses", id, ".json", out, size);
}

int rombsr_queue_approval_path(const char *id, const char *fpr, char *out, size_t size)
{
	char tail[64];

	if (!rombsr_fpr_valid(fpr))
		return rombsr_error(ROMBSR_EINVAL, "'%.48s' is not an OpenPGP fingerprint", fpr);
	snprintf(tail, sizeof(tail), "/%s.json", fpr);
	return sharded_path("approvals", id, tail, out, size);
}

int rombsr_queue_key_path(const char *fpr, char *out, size_t size)
{
	if (!rombsr_fpr_valid(fpr))
		return rombsr_error(ROMBSR_EINVAL, "'%.48s' is not an OpenPGP fingerprint", fpr);
	if ((size_t)snprintf(out, size, "%s/%s.asc", ROMBSR_QUEUE_KEYS_DIR, fpr) >= size)
		return rombsr_error(ROMBSR_EINTERNAL, "path buffer too small");
	return 0;
}

const char *rombsr_queue_kind_name(enum rombsr_queue_kind kind)
{
	static const char *const names[] = {"unknown path", "trust file", "key file", "policy", "request",
					    "response", "approval", "audit log"};

	return names[kind];
}
