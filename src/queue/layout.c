#include "layout.h"

#include "audit_layout.h"
#include "gpg.h"
#include "incident.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* "YYYY/MM/DD/ss/": the folders between "requests/" (or "responses/",
 * "approvals/") and an ID, all taken from the ID. */
#define SHARD_DIR_LEN 14

static unsigned days_in_month(unsigned year, unsigned month)
{
	static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

static unsigned decimal(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

int rombsr_request_id_valid(const char *id)
{
	unsigned year, month, day;

	if (strlen(id) != ROMBSR_REQUEST_ID_LEN)
		return 0;
	for (size_t i = 0; i < ROMBSR_REQUEST_ID_DATE_LEN; i++)
		if (id[i] < '0' || id[i] > '9')
			return 0;
	for (size_t i = ROMBSR_REQUEST_ID_DATE_LEN; i < ROMBSR_REQUEST_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	year = decimal(id, 4);
	month = decimal(id + 4, 2);
	day = decimal(id + 6, 2);
	return year >= 2000 && month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month);
}

int rombsr_request_id_date(time_t t, char date[ROMBSR_REQUEST_ID_DATE_LEN + 1])
{
	struct tm tm;
	int n;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 2000 || tm.tm_year + 1900 > 9999)
		return rombsr_error(ROMBSR_EINVAL, "a request ID dates from the years 2000 to 9999 only");
	n = snprintf(date, ROMBSR_REQUEST_ID_DATE_LEN + 1, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday);
	if (n != ROMBSR_REQUEST_ID_DATE_LEN)
		return rombsr_error(ROMBSR_EINTERNAL, "cannot format a request ID's date");
	return 0;
}

int rombsr_request_id_make(time_t created, const unsigned char random[ROMBSR_REQUEST_ID_RANDOM],
			   char id[ROMBSR_REQUEST_ID_LEN + 1])
{
	int r = rombsr_request_id_date(created, id);

	if (r < 0)
		return r;
	rombsr_hex_encode(random, ROMBSR_REQUEST_ID_RANDOM, id + ROMBSR_REQUEST_ID_DATE_LEN);
	return 0;
}

/* The folders of a valid ID's entries: "YYYY/MM/DD/ss/". */
static void shard_dir(const char *id, char dir[SHARD_DIR_LEN + 1])
{
	memcpy(dir, id, 4);
	dir[4] = '/';
	memcpy(dir + 5, id + 4, 2);
	dir[7] = '/';
	memcpy(dir + 8, id + 6, 2);
	dir[10] = '/';
	memcpy(dir + 11, id + 8, 2);
	dir[13] = '/';
	dir[14] = '\0';
}

/* Matches "<prefix>YYYY/MM/DD/ss/<id>" where the date and shard folders
 * are the ones the ID names; copies the ID and points *rest after it. */
static int match_sharded(const char *path, const char *prefix, char id[ROMBSR_REQUEST_ID_LEN + 1],
			 const char **rest)
{
	size_t plen = strlen(prefix);
	char dir[SHARD_DIR_LEN + 1];

	if (strncmp(path, prefix, plen) != 0)
		return 0;
	path += plen;
	if (strlen(path) < SHARD_DIR_LEN + ROMBSR_REQUEST_ID_LEN)
		return 0;
	memcpy(id, path + SHARD_DIR_LEN, ROMBSR_REQUEST_ID_LEN);
	id[ROMBSR_REQUEST_ID_LEN] = '\0';
	if (!rombsr_request_id_valid(id))
		return 0;
	shard_dir(id, dir);
	if (memcmp(path, dir, SHARD_DIR_LEN) != 0)
		return 0;
	*rest = path + SHARD_DIR_LEN + ROMBSR_REQUEST_ID_LEN;
	return 1;
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
	} else if (strcmp(path, ROMBSR_FREEZE_PATH) == 0) {
		out->kind = ROMBSR_PATH_FREEZE;
	} else if (rombsr_revocation_path_match(path, out->key)) {
		out->kind = ROMBSR_PATH_REVOCATION;
	} else if (rombsr_queue_audit_classify(path, &audit_number) != ROMBSR_QUEUE_AUDIT_NONE) {
		out->kind = ROMBSR_PATH_AUDIT;
	} else if (match_sharded(path, "requests/", out->id, &rest)) {
		if (strcmp(rest, ".json") == 0)
			out->kind = ROMBSR_PATH_REQUEST;
	} else if (match_sharded(path, "responses/", out->id, &rest)) {
		if (strcmp(rest, ".json") == 0)
			out->kind = ROMBSR_PATH_RESPONSE;
	} else if (match_sharded(path, "approvals/", out->id, &rest)) {
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

static int sharded_path(const char *top, const char *id, const char *tail, char *out, size_t size)
{
	char dir[SHARD_DIR_LEN + 1];

	if (!rombsr_request_id_valid(id))
		return rombsr_error(ROMBSR_EINVAL, "'%.40s' is not a request ID (" ROMBSR_REQUEST_ID_FORM ")", id);
	shard_dir(id, dir);
	if ((size_t)snprintf(out, size, "%s/%s%s%s", top, dir, id, tail) >= size)
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
	int r;

	if (!rombsr_fpr_valid(fpr))
		return rombsr_error(ROMBSR_EINVAL, "'%.48s' is not an OpenPGP fingerprint", fpr);
	r = rombsr_path_format(tail, sizeof(tail), "/%s.json", fpr);
	if (r < 0)
		return r;
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
					    "response", "approval", "audit log",
					    "freeze record", "revocation"};

	return names[kind];
}
