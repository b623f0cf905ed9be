/* The signing queue's layout and trust file (src/queue): the layout
 * classifies exactly the paths it documents and request IDs are checked
 * strictly; the trust file refuses what it must. */
#define _GNU_SOURCE
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/queue/layout.h"
#include "../../src/queue/request.h"
#include "../../src/queue/trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Created 2026-11-22 (the date of good_request()), shard 89. */
#define ID "20261122" "89abcdef0123456789abcdef"
#define ID_DIR "2026/11/22/89/"
#define FPR_A "0123456789ABCDEF0123456789ABCDEF01234567"
#define FPR_B "89ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define HEX32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX32B "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void trust_refused(const char *what, const char *text, const char *want)
{
	struct rombsr_trust t;
	int r = rombsr_trust_parse(text, strlen(text), &t);

	CHECK(r < 0 && strstr(rombsr_error_message(r), want) != NULL, "trust file %s refused naming '%s' (got %s)",
	      what, want, r < 0 ? rombsr_error_message(r) : "accepted");
	if (r == 0)
		rombsr_trust_free(&t);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */


static void classify_is(const char *path, enum rombsr_queue_kind kind, const char *id, const char *fpr)
{
	struct rombsr_queue_path qp;

	rombsr_queue_classify(path, &qp);
	CHECK(qp.kind == kind && strcmp(qp.id, id ? id : "") == 0 && strcmp(qp.fpr, fpr ? fpr : "") == 0,
	      "'%s' is a %s (got %s '%s' '%s')", path, rombsr_queue_kind_name(kind), rombsr_queue_kind_name(qp.kind),
	      qp.id, qp.fpr);
}

static void id_is(const char *id, int valid)
{
	CHECK(rombsr_request_id_valid(id) == valid, "'%s' is %sa request ID", id, valid ? "" : "not ");
}

static void test_request_ids(void)
{
	static const unsigned char random[ROMBSR_REQUEST_ID_RANDOM] = {0x89, 0xab, 0xcd, 0xef, 0x01, 0x23,
								       0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
	char id[ROMBSR_REQUEST_ID_LEN + 1], date[ROMBSR_REQUEST_ID_DATE_LEN + 1];

	id_is(ID, 1);
	id_is("20000101" "000000000000000000000000", 1);
	id_is("99991231" "ffffffffffffffffffffffff", 1);
	id_is("20240229" "89abcdef0123456789abcdef", 1);     /* leap year */
	id_is("20000229" "89abcdef0123456789abcdef", 1);     /* divisible by 400: leap */
	id_is("20261130" "89abcdef0123456789abcdef", 1);
	id_is("20261231" "89abcdef0123456789abcdef", 1);

	id_is("", 0);
	id_is("20261322" "89abcdef0123456789abcdef", 0);     /* month 13 */
	id_is("20260022" "89abcdef0123456789abcdef", 0);     /* month 0 */
	id_is("20261100" "89abcdef0123456789abcdef", 0);     /* day 0 */
	id_is("20260230" "89abcdef0123456789abcdef", 0);     /* Feb 30 */
	id_is("20260229" "89abcdef0123456789abcdef", 0);     /* Feb 29, not a leap year */
	id_is("21000229" "89abcdef0123456789abcdef", 0);     /* divisible by 100 only: not leap */
	id_is("20261131" "89abcdef0123456789abcdef", 0);     /* November 31 */
	id_is("20260132" "89abcdef0123456789abcdef", 0);
	id_is("19991231" "89abcdef0123456789abcdef", 0);     /* before 2000 */
	id_is("00000101" "89abcdef0123456789abcdef", 0);
	id_is("2026112a" "89abcdef0123456789abcdef", 0);     /* hex letter in the date */
	id_is("a0261122" "89abcdef0123456789abcdef", 0);
	id_is("2026-1-2" "89abcdef0123456789abcdef", 0);
	id_is("20261122" "89ABCDEF0123456789ABCDEF", 0);     /* upper case */
	id_is("20261122" "89abcdef0123456789abcdeF", 0);
	id_is("20261122" "89abcdef0123456789abcdeg", 0);
	id_is("20261122" "89abcdef0123456789abcde", 0);      /* 31 characters */
	id_is("20261122" "89abcdef0123456789abcdef0", 0);    /* 33 characters */
	id_is("0123456789abcdef0123456789abcdef", 0);        /* the old, undated form */

	/* IDs are made from the creation time's UTC date. */
	CHECK(rombsr_request_id_make(1795305600 /* 2026-11-22T00:00:00Z */, random, id) == 0 && strcmp(id, ID) == 0,
	      "ID made at the first second of 2026-11-22 (%s)", id);
	CHECK(rombsr_request_id_make(1795391999 /* 2026-11-22T23:59:59Z */, random, id) == 0 && strcmp(id, ID) == 0,
	      "ID made at the last second of 2026-11-22 (%s)", id);
	CHECK(rombsr_request_id_make(1795392000, random, id) == 0 && strncmp(id, "20261123", 8) == 0 &&
		      rombsr_request_id_valid(id),
	      "ID made at midnight is dated the new day (%s)", id);
	CHECK(rombsr_request_id_date(951782400 /* 2000-02-29T00:00:00Z */, date) == 0 && strcmp(date, "20000229") == 0,
	      "date of a leap day (%s)", date);
	CHECK(rombsr_request_id_date(946684799 /* 1999-12-31T23:59:59Z */, date) == ROMBSR_EINVAL &&
		      strstr(rombsr_error_message(ROMBSR_EINVAL), "2000 to 9999") != NULL,
	      "no ID dated before 2000");
}

static void test_layout(void)
{
	static const char *const unknown[] = {
		"",
		"README.md",
		"trust",
		"trust/",
		"trust/trust.json.bak",
		"trust/other.json",
		"trust/keys/" FPR_A,
		"trust/keys/" FPR_A ".gpg",
		"trust/keys/0123456789abcdef0123456789abcdef01234567.asc",
		"trust/keys/" FPR_A "0.asc",
		"trust/keys/sub/" FPR_A ".asc",
		"policy/",
		"policy",
		"audit/",
		"requests/",
		"requests/" ID_DIR,
		"requests/" ID_DIR ID,
		"requests/" ID_DIR ID ".JSON",
		"requests/" ID_DIR ID ".json.tmp",
		"requests/" ID_DIR ID "/x.json",
		"requests/" ID_DIR ID ".json/x",
		"requests/" ID_DIR "x/" ID ".json",
		"requests/" ID ".json",
		"requests/89/" ID ".json",                          /* the old layout */
		"requests/20/" ID ".json",
		"requests/2026/11/22/" ID ".json",                   /* no shard */
		"requests/2026/11/22/88/" ID ".json",                /* another shard */
		"requests/2026/11/22/8/" ID ".json",
		"requests/2026/11/22/089/" ID ".json",
		"requests/2026/11/21/89/" ID ".json",                /* another day */
		"requests/2026/12/22/89/" ID ".json",                /* another month */
		"requests/2025/11/22/89/" ID ".json",                /* another year */
		"requests/2026/11/2/89/" ID ".json",
		"requests/2026/011/22/89/" ID ".json",
		"requests/20261122/89/" ID ".json",
		"requests/2026-11-22/89/" ID ".json",
		"requests/2026/11/22/89/x/" ID ".json",
		"requests/2026/11/22/89/" "2026112289ABCDEF0123456789ABCDEF.json",
		"requests/2026/11/22/89/" "2026112289abcdef0123456789abcde.json",
		"requests/2026/11/22/89/" ID "0.json",
		"requests/2026/13/22/89/" "20261322" "89abcdef0123456789abcdef.json", /* month 13, consistent */
		"requests/2026/02/30/89/" "20260230" "89abcdef0123456789abcdef.json", /* Feb 30, consistent */
		"requests/01/0123456789abcdef0123456789abcdef.json", /* an old-style ID */
		"Requests/" ID_DIR ID ".json",
		"/requests/" ID_DIR ID ".json",
		"requests//" ID_DIR ID ".json",
		"responses/2026/11/22/ff/" ID ".json",
		"responses/" ID_DIR ID,
		"responses/" ID_DIR ID "/" FPR_A ".json",
		"approvals/" ID_DIR ID ".json",
		"approvals/" ID_DIR ID "/" FPR_A,
		"approvals/" ID_DIR ID "/0123456789abcdef0123456789abcdef01234567.json",
		"approvals/" ID_DIR ID "/" FPR_A ".json/x",
		"approvals/" ID_DIR ID "/x/" FPR_A ".json",
		"approvals/2026/11/22/88/" ID "/" FPR_A ".json",
		"approvals/2026/11/23/89/" ID "/" FPR_A ".json",
		"approvals/89/" ID "/" FPR_A ".json",
	};
	static const char *const ids[] = {ID, "20000101" "000000000000000000000000", "20240229" "ff0000000000000000000001",
					  "99991231" "ffffffffffffffffffffffff"};
	char out[160];

	classify_is("trust/trust.json", ROMBSR_PATH_TRUST, NULL, NULL);
	classify_is("trust/keys/" FPR_A ".asc", ROMBSR_PATH_KEY, NULL, FPR_A);
	classify_is("policy/keys.conf", ROMBSR_PATH_POLICY, NULL, NULL);
	classify_is("policy/a/b", ROMBSR_PATH_POLICY, NULL, NULL);
	classify_is("audit/entries/00000000000000/000/00000000000000000013.log", ROMBSR_PATH_AUDIT, NULL, NULL);
	classify_is("audit/checkpoints/00000000000000/001/00000000000000001024", ROMBSR_PATH_AUDIT, NULL, NULL);
	classify_is("audit/log/0000", ROMBSR_PATH_UNKNOWN, NULL, NULL);
	classify_is("audit/entries/00000000000000/000/13.log", ROMBSR_PATH_UNKNOWN, NULL, NULL);
	classify_is("audit/entries/00000000000000/001/00000000000000000013.log", ROMBSR_PATH_UNKNOWN, NULL, NULL);
	classify_is("audit/checkpoints/00000000000000/001/00000000000000001024.log", ROMBSR_PATH_UNKNOWN, NULL, NULL);
	classify_is("audit/entries/99999999999999/999/99999999999999999999.log", ROMBSR_PATH_UNKNOWN, NULL, NULL);
	classify_is("requests/" ID_DIR ID ".json", ROMBSR_PATH_REQUEST, ID, NULL);
	classify_is("responses/" ID_DIR ID ".json", ROMBSR_PATH_RESPONSE, ID, NULL);
	classify_is("approvals/" ID_DIR ID "/" FPR_A ".json", ROMBSR_PATH_APPROVAL, ID, FPR_A);
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		classify_is(unknown[i], ROMBSR_PATH_UNKNOWN, NULL, NULL);

	CHECK(rombsr_queue_request_path(ID, out, sizeof(out)) == 0 &&
		      strcmp(out, "requests/2026/11/22/89/" ID ".json") == 0,
	      "request path (%s)", out);
	CHECK(rombsr_queue_response_path(ID, out, sizeof(out)) == 0 &&
		      strcmp(out, "responses/2026/11/22/89/" ID ".json") == 0,
	      "response path (%s)", out);
	CHECK(rombsr_queue_approval_path(ID, FPR_A, out, sizeof(out)) == 0 &&
		      strcmp(out, "approvals/2026/11/22/89/" ID "/" FPR_A ".json") == 0,
	      "approval path (%s)", out);
	CHECK(rombsr_queue_key_path(FPR_A, out, sizeof(out)) == 0 && strcmp(out, "trust/keys/" FPR_A ".asc") == 0,
	      "key path");
	CHECK(rombsr_queue_request_path("../../x", out, sizeof(out)) == ROMBSR_EINVAL &&
		      strstr(rombsr_error_message(ROMBSR_EINVAL), "is not a request ID") != NULL,
	      "no path for a bad request ID");
	CHECK(rombsr_queue_response_path("20260230" "89abcdef0123456789abcdef", out, sizeof(out)) == ROMBSR_EINVAL,
	      "no path for an ID dated February 30");
	CHECK(rombsr_queue_approval_path("0123456789abcdef0123456789abcdef", FPR_A, out, sizeof(out)) == ROMBSR_EINVAL,
	      "no path for an undated ID");
	CHECK(rombsr_queue_approval_path(ID, "../x", out, sizeof(out)) == ROMBSR_EINVAL, "no path for a bad approver");
	CHECK(rombsr_queue_key_path("abc", out, sizeof(out)) == ROMBSR_EINVAL, "no path for a bad key");
	CHECK(rombsr_queue_request_path(ID, out, 20) == ROMBSR_EINTERNAL, "small buffer refused");
	CHECK(rombsr_queue_request_path(ID, out, sizeof("requests/" ID_DIR ID ".json") - 1) == ROMBSR_EINTERNAL,
	      "buffer one byte short refused");
	CHECK(rombsr_queue_request_path(ID, out, sizeof("requests/" ID_DIR ID ".json")) == 0, "exact buffer suffices");
	/* Every builder's output classifies back to its own kind and ID. */
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct rombsr_queue_path qp;

		rombsr_queue_request_path(ids[i], out, sizeof(out));
		rombsr_queue_classify(out, &qp);
		CHECK(qp.kind == ROMBSR_PATH_REQUEST && strcmp(qp.id, ids[i]) == 0, "request path round trip (%s)", out);
		rombsr_queue_response_path(ids[i], out, sizeof(out));
		rombsr_queue_classify(out, &qp);
		CHECK(qp.kind == ROMBSR_PATH_RESPONSE && strcmp(qp.id, ids[i]) == 0, "response path round trip (%s)", out);
		rombsr_queue_approval_path(ids[i], FPR_B, out, sizeof(out));
		rombsr_queue_classify(out, &qp);
		CHECK(qp.kind == ROMBSR_PATH_APPROVAL && strcmp(qp.id, ids[i]) == 0 && strcmp(qp.fpr, FPR_B) == 0,
		      "approval path round trip (%s)", out);
	}
}

/* ------------------------------------------------------------------ */
/* Trust file                                                          */

static void test_trust(void)
{
	const char *good = "{\"format\": \"rombsr.trust\", \"version\": 1, \"roles\": {\"admin\": [\"" FPR_A
			   "\"], \"build\": [\"" FPR_B "\"], \"sign\": [], \"operator\": [\"" FPR_A "\"]}}";
	struct rombsr_trust t, back;
	char *text = NULL, *many;
	size_t off;
	int r;

	r = rombsr_trust_parse(good, strlen(good), &t);
	CHECK(r == 0, "good trust file parses (%s)", r < 0 ? rombsr_error_message(r) : "ok");
	if (r == 0) {
		CHECK(rombsr_trust_has(&t, ROMBSR_ROLE_ADMIN, FPR_A) && rombsr_trust_has(&t, ROMBSR_ROLE_BUILD, FPR_B) &&
			      !rombsr_trust_has(&t, ROMBSR_ROLE_BUILD, FPR_A) &&
			      rombsr_trust_has(&t, ROMBSR_ROLE_OPERATOR, FPR_A) && t.count[ROMBSR_ROLE_SIGN] == 0,
		      "roles read");
		CHECK(rombsr_trust_encode(&t, &text) == 0, "trust file encodes");
		r = rombsr_trust_parse(text, strlen(text), &back);
		CHECK(r == 0 && back.count[ROMBSR_ROLE_ADMIN] == 1 && rombsr_trust_has(&back, ROMBSR_ROLE_BUILD, FPR_B),
		      "encoded trust file parses back");
		if (r == 0)
			rombsr_trust_free(&back);
		CHECK(text != NULL && strstr(text, "\n  \"format\": \"rombsr.trust\"") != NULL, "two-space indent");
		free(text);
		rombsr_trust_free(&t);
	}
	trust_refused("unknown field", "{\"format\": \"rombsr.trust\", \"version\": 1, \"roles\": {\"admin\": [], "
				       "\"build\": [], \"sign\": [], \"operator\": []}, \"x\": 1}",
		      "trust: unknown field 'x'");
	trust_refused("unknown role", "{\"format\": \"rombsr.trust\", \"version\": 1, \"roles\": {\"root\": []}}",
		      "trust.roles: unknown field 'root'");
	trust_refused("missing role", "{\"format\": \"rombsr.trust\", \"version\": 1, \"roles\": {\"admin\": []}}",
		      "trust.roles.build: missing");
	trust_refused("format", "{\"format\": \"rombsr.request\", \"version\": 1, \"roles\": {}}",
		      "trust.format: expected 'rombsr.trust'");
	trust_refused("version", "{\"format\": \"rombsr.trust\", \"version\": 2, \"roles\": {}}",
		      "trust.version: must be from 1 to 1");
	trust_refused("no roles", "{\"format\": \"rombsr.trust\", \"version\": 1}", "trust.roles: missing");
	trust_refused("roles array", "{\"format\": \"rombsr.trust\", \"version\": 1, \"roles\": []}",
		      "trust.roles: must be an object");
	trust_refused("role string", "{\"format\": \"rombsr.trust\", \"version\": 1, \"roles\": {\"admin\": \"x\"}}",
		      "trust.roles.admin: must be an array");
	trust_refused("lower-case key",
		      "{\"format\": \"rombsr.trust\", \"version\": 1, \"roles\": {\"admin\": "
		      "[\"0123456789abcdef0123456789abcdef01234567\"], \"build\": [], \"sign\": [], \"operator\": []}}",
		      "trust.roles.admin[0]: not an OpenPGP fingerprint");
	trust_refused("numeric key",
		      "{\"format\": \"rombsr.trust\", \"version\": 1, \"roles\": {\"admin\": [\"" FPR_A "\", 1], "
		      "\"build\": [], \"sign\": [], \"operator\": []}}",
		      "trust.roles.admin[1]: not an OpenPGP fingerprint");
	trust_refused("key twice",
		      "{\"format\": \"rombsr.trust\", \"version\": 1, \"roles\": {\"admin\": [], \"build\": [\"" FPR_A
		      "\", \"" FPR_A "\"], \"sign\": [], \"operator\": []}}",
		      "trust.roles.build[1]: listed twice");
	trust_refused("not JSON", "{\"format\": ", "trust/trust.json: not valid JSON");
	trust_refused("duplicate key", "{\"format\": \"rombsr.trust\", \"format\": \"rombsr.trust\"}",
		      "trust/trust.json: not valid JSON");

	/* 257 keys in one role. */
	many = malloc(64 * 1024);
	off = (size_t)sprintf(many, "{\"format\": \"rombsr.trust\", \"version\": 1, \"roles\": {\"admin\": [], "
				    "\"sign\": [], \"operator\": [], \"build\": [");
	for (int i = 0; i <= ROMBSR_TRUST_MAX_KEYS; i++)
		off += (size_t)sprintf(many + off, "%s\"%040X\"", i ? ", " : "", i);
	sprintf(many + off, "]}}");
	trust_refused("257 keys", many, "trust.roles.build: 257 elements, more than the limit of 256");
	free(many);

	{
		enum rombsr_role role;

		CHECK(rombsr_role_from_name("operator", &role) == 0 && role == ROMBSR_ROLE_OPERATOR, "role by name");
		CHECK(rombsr_role_from_name("root", &role) == ROMBSR_EINVAL, "unknown role name refused");
	}
	{
		struct rombsr_trust empty = {0};

		CHECK(rombsr_trust_add(&empty, ROMBSR_ROLE_BUILD, "nothex") == ROMBSR_EINVAL, "trust_add refuses a non-fingerprint");
		CHECK(rombsr_trust_add(&empty, ROMBSR_ROLE_BUILD, FPR_A) == 0 &&
			      rombsr_trust_add(&empty, ROMBSR_ROLE_BUILD, FPR_A) == 0 && empty.count[ROMBSR_ROLE_BUILD] == 1,
		      "trust_add keeps one copy");
		rombsr_trust_free(&empty);
	}
}

int main(void)
{
	test_request_ids();
	test_layout();
	test_trust();
	return tap_done();
}
