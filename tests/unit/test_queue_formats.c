/* The signing queue's formats (src/queue): requests and responses parse
 * strictly and encode canonically; every limit and every refusal names the
 * JSON path of the bad field. The layout and the trust file:
 * test_queue_layout.c. */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/queue/layout.h"
#include "../../src/queue/request.h"
#include "../../src/queue/response.h"
#include "../../src/queue/trust.h"

#include <jansson.h>
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
#define SPKI "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* ------------------------------------------------------------------ */
/* Building and editing documents                                      */

static json_t *good_request(void)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:i,"
			 " s:{s:s, s:s, s:s, s:s, s:s},"
			 " s:[{s:s, s:s, s:I}, {s:s, s:s, s:I}],"
			 " s:[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:{s:s, s:s, s:i}}]}",
			 "format", "rombsr.request", "version", 1, "id", ID, "created", "2026-11-22T06:00:00Z",
			 "expires", "2026-11-23T06:00:00Z", "authority", "release", "round", 1,
			 "build", "product", "sample_phone", "build_id", "TEST.1", "source_commit",
			 "abcdef0000000000000000000000000000000007", "build_type", "user", "build_node", FPR_A,
			 "artifacts", "name", "out/system.img", "sha256", HEX32, "size", (json_int_t)13, "name",
			 "out/app.apk", "sha256", HEX32B, "size", (json_int_t)0,
			 "operations", "key", "platform", "spki_sha256", SPKI, "mechanism", "CKM_SHA256_RSA_PKCS", "tbs",
			 HEX32, "program", "/usr/bin/apksigner", "key", "releasekey", "spki_sha256", SPKI, "mechanism",
			 "CKM_SHA256_RSA_PKCS_PSS", "tbs", HEX32, "pss", "hash", "CKM_SHA256", "mgf", "CKG_MGF1_SHA256",
			 "salt_len", 32);
}

static json_t *good_response(bool signed_ok)
{
	json_t *r = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "format", "rombsr.response", "version", 1,
			      "request_id", ID, "request_commit", "1111111111111111111111111111111111111111", "status",
			      signed_ok ? "signed" : "rejected", "sign_node", FPR_B, "time", "2026-11-22T06:05:00Z");

	if (signed_ok)
		json_object_set_new(r, "signatures",
				    json_pack("[{s:s, s:s, s:s, s:s, s:s}]", "key", "platform", "spki_sha256", SPKI,
					      "mechanism", "CKM_SHA256_RSA_PKCS", "tbs", HEX32, "signature",
					      "0badc0de"));
	else
		json_object_set_new(r, "reason",
				    json_pack("{s:s, s:s}", "code", "policy-denied", "message", "testkey in a release"));
	return r;
}

/* The object at "build", "artifacts.0", "operations.1.pss", "" (root). */
static json_t *node(json_t *root, const char *path)
{
	char buf[128], *save = NULL, *part;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part != NULL && cur != NULL; part = strtok_r(NULL, ".", &save))
		cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(part)) : json_object_get(cur, part);
	return cur;
}

static json_t *set(json_t *doc, const char *path, const char *key, json_t *value)
{
	json_t *at = node(doc, path);

	if (at == NULL || json_object_set_new(at, key, value) != 0)
		fprintf(stderr, "test bug: cannot set %s.%s\n", path, key);
	return doc;
}

static json_t *del(json_t *doc, const char *path, const char *key)
{
	json_t *at = node(doc, path);

	if (at == NULL || json_object_del(at, key) != 0)
		fprintf(stderr, "test bug: cannot delete %s.%s\n", path, key);
	return doc;
}

static json_t *str(const char *s)
{
	return json_string(s);
}

static json_t *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	json_t *v;

	memset(s, c, n);
	s[n] = '\0';
	v = json_string(s);
	free(s);
	return v;
}

static char *dump(const json_t *doc)
{
	return json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */

static void request_refused(const char *what, json_t *doc, const char *want)
{
	struct rombsr_request req;
	char *text = dump(doc);
	int r = rombsr_request_parse(text, strlen(text), &req);
	const char *msg = rombsr_error_message(r);

	CHECK(r == ROMBSR_EINVAL && strstr(msg, want) != NULL, "request %s refused naming '%s' (got %d: %s)", what,
	      want, r, r < 0 ? msg : "accepted");
	if (r == 0)
		rombsr_request_free(&req);
	free(text);
	json_decref(doc);
}

static void request_accepted(const char *what, json_t *doc)
{
	struct rombsr_request req;
	char *text = dump(doc);
	int r = rombsr_request_parse(text, strlen(text), &req);

	CHECK(r == 0, "request %s accepted (%s)", what, r < 0 ? rombsr_error_message(r) : "ok");
	rombsr_request_free(&req);
	free(text);
	json_decref(doc);
}

static void text_refused(const char *what, const char *text, const char *want)
{
	struct rombsr_request req;
	int r = rombsr_request_parse(text, strlen(text), &req);

	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), want) != NULL,
	      "request text %s refused naming '%s' (got %s)", what, want, r < 0 ? rombsr_error_message(r) : "accepted");
}

static void response_refused(const char *what, json_t *doc, const char *want)
{
	struct rombsr_response resp;
	char *text = dump(doc);
	int r = rombsr_response_parse(text, strlen(text), &resp);
	const char *msg = rombsr_error_message(r);

	CHECK(r == ROMBSR_EINVAL && strstr(msg, want) != NULL, "response %s refused naming '%s' (got %d: %s)", what,
	      want, r, r < 0 ? msg : "accepted");
	if (r == 0)
		rombsr_response_free(&resp);
	free(text);
	json_decref(doc);
}

static void test_request_canonical(void)
{
	json_t *doc = good_request();
	char *text = dump(doc);
	struct rombsr_request req, again;
	struct rombsr_buf enc = {0}, enc2 = {0};
	size_t tlen = strlen(text);
	int r;

	r = rombsr_request_parse(text, tlen, &req);
	CHECK(r == 0, "good request parses (%s)", r < 0 ? rombsr_error_message(r) : "ok");
	if (r < 0)
		goto out;
	CHECK(strcmp(req.id, ID) == 0 && req.round == 1 && req.authority == ROMBSR_AUTHORITY_RELEASE &&
		      req.build_type == ROMBSR_BUILD_USER && strcmp(req.build_node, FPR_A) == 0,
	      "request fields read");
	CHECK(req.expires - req.created == 86400, "times read as UTC");
	CHECK(req.nartifacts == 2 && req.artifacts[0].size == 13 && req.artifacts[0].sha256[31] == 0x1f &&
		      strcmp(req.artifacts[1].name, "out/app.apk") == 0,
	      "artifacts read");
	CHECK(req.nops == 2 && req.ops[0].op.tbs_len == 32 && strcmp(req.ops[0].program, "/usr/bin/apksigner") == 0 &&
		      req.ops[1].op.mech->pss && req.ops[1].op.pss.salt_len == 32 && req.ops[1].program[0] == '\0',
	      "operations read");
	r = rombsr_request_encode(&req, &enc);
	CHECK(r == 0, "request encodes");
	/* Canonical: sorted keys, two-space indent, one trailing newline. */
	CHECK(r == 0 && enc.len == tlen + 1 && memcmp(enc.data, text, tlen) == 0 && enc.data[tlen] == '\n',
	      "encoding is byte-identical to the canonical input");
	r = rombsr_request_parse((const char *)enc.data, enc.len, &again);
	CHECK(r == 0, "encoding parses back");
	if (r == 0) {
		r = rombsr_request_encode(&again, &enc2);
		CHECK(r == 0 && enc2.len == enc.len && memcmp(enc2.data, enc.data, enc.len) == 0,
		      "encode(parse(encode)) is stable");
		rombsr_request_free(&again);
	}
	rombsr_request_free(&req);
out:
	rombsr_buf_free(&enc);
	rombsr_buf_free(&enc2);
	free(text);
	json_decref(doc);
}

static void test_request_shape(void)
{
	/* Unknown fields at each level. */
	request_refused("unknown top field", set(good_request(), "", "extra", json_true()),
			"request: unknown field 'extra'");
	request_refused("unknown build field", set(good_request(), "build", "x", json_true()),
			"request.build: unknown field 'x'");
	request_refused("unknown artifact field", set(good_request(), "artifacts.1", "mode", json_true()),
			"request.artifacts[1]: unknown field 'mode'");
	request_refused("unknown operation field", set(good_request(), "operations.0", "pin", json_true()),
			"request.operations[0]: unknown field 'pin'");
	request_refused("unknown pss field", set(good_request(), "operations.1.pss", "trailer", json_integer(1)),
			"request.operations[1].pss: unknown field 'trailer'");

	/* Missing fields at each level. */
	request_refused("missing id", del(good_request(), "", "id"), "request.id: missing");
	request_refused("missing operations", del(good_request(), "", "operations"), "request.operations: missing");
	request_refused("missing build", del(good_request(), "", "build"), "request.build: missing");
	request_refused("missing product", del(good_request(), "build", "product"), "request.build.product: missing");
	request_refused("missing sha256", del(good_request(), "artifacts.0", "sha256"),
			"request.artifacts[0].sha256: missing");
	request_refused("missing tbs", del(good_request(), "operations.0", "tbs"), "request.operations[0].tbs: missing");
	request_refused("missing key", del(good_request(), "operations.0", "key"), "request.operations[0].key: missing");
	request_refused("missing salt", del(good_request(), "operations.1.pss", "salt_len"),
			"request.operations[1].pss.salt_len: missing");

	/* Wrong types. */
	request_refused("numeric id", set(good_request(), "", "id", json_integer(1)), "request.id: must be a string");
	request_refused("string version", set(good_request(), "", "version", str("1")),
			"request.version: must be an integer");
	request_refused("real round", set(good_request(), "", "round", json_real(1.0)),
			"request.round: must be an integer");
	request_refused("string build", set(good_request(), "", "build", str("b")), "request.build: must be an object");
	request_refused("object artifacts", set(good_request(), "", "artifacts", json_object()),
			"request.artifacts: must be an array");
	request_refused("string artifact", set(good_request(), "", "artifacts", json_pack("[s]", "x")),
			"request.artifacts[0]: must be an object");
	request_refused("numeric operation", set(good_request(), "", "operations", json_pack("[i]", 1)),
			"request.operations[0]: must be an object");
	request_refused("string size", set(good_request(), "artifacts.0", "size", str("13")),
			"request.artifacts[0].size: must be an integer");
	request_refused("null product", set(good_request(), "build", "product", json_null()),
			"request.build.product: must be a string");
	request_refused("array pss", set(good_request(), "operations.1", "pss", json_array()),
			"request.operations[1].pss: must be an object");
	request_refused("string salt", set(good_request(), "operations.1.pss", "salt_len", str("32")),
			"request.operations[1].pss.salt_len: must be an integer");

	/* Documents that are not a request at all. */
	text_refused("array", "[]", "request: not a JSON object");
	text_refused("truncated", "{\"format\": ", "request: not valid JSON");
	text_refused("trailing garbage", "{} x", "request: not valid JSON");
	text_refused("duplicate key", "{\"id\": \"a\", \"id\": \"b\"}", "request: not valid JSON");
	request_refused("other format", set(good_request(), "", "format", str("rombsr.response")),
			"request.format: expected 'rombsr.request'");
	request_refused("version 2", set(good_request(), "", "version", json_integer(2)),
			"request.version: must be from 1 to 1");
}

static void test_request_values(void)
{
	/* IDs, fingerprints, commits. */
	request_refused("upper-case id", set(good_request(), "", "id", str("2026112289ABCDEF0123456789ABCDEF")),
			"request.id: must be " ROMBSR_REQUEST_ID_FORM);
	request_refused("short id", set(good_request(), "", "id", str("2026112289abcdef0123456789abcde")),
			"request.id: must be " ROMBSR_REQUEST_ID_FORM);
	request_refused("undated id", set(good_request(), "", "id", str("0123456789abcdef0123456789abcdef")),
			"request.id: must be " ROMBSR_REQUEST_ID_FORM);
	/* The ID's date is the UTC date of created, which files the request
	 * under that day's folder. */
	request_refused("id dated the day before", set(good_request(), "", "id", str("20261121" "89abcdef0123456789abcdef")),
			"request.id: dated 2026-11-21, not the UTC date of request.created (2026-11-22T06:00:00Z)");
	request_refused("id dated a year later", set(good_request(), "", "id", str("20271122" "89abcdef0123456789abcdef")),
			"request.id: dated 2027-11-22, not the UTC date of request.created");
	request_refused("created the day after",
			set(set(good_request(), "", "created", str("2026-11-23T00:00:00Z")), "", "expires",
			    str("2026-11-24T00:00:00Z")),
			"request.id: dated 2026-11-22, not the UTC date of request.created (2026-11-23T00:00:00Z)");
	request_refused("created before 2000", set(good_request(), "", "created", str("1999-12-31T23:59:59Z")),
			"request.id: dated 2026-11-22, not the UTC date of request.created (1999-12-31T23:59:59Z)");
	request_accepted("created at the first second of its date",
			 set(set(good_request(), "", "created", str("2026-11-22T00:00:00Z")), "", "expires",
			     str("2026-11-23T00:00:00Z")));
	request_accepted("created at the last second of its date",
			 set(set(good_request(), "", "created", str("2026-11-22T23:59:59Z")), "", "expires",
			     str("2026-11-23T23:59:59Z")));
	request_refused("long id", set(good_request(), "", "id", str(ID "0")), "request.id: must be 1 to 32 characters");
	request_refused("lower-case build node",
			set(good_request(), "build", "build_node", str("0123456789abcdef0123456789abcdef01234567")),
			"request.build.build_node: not an OpenPGP fingerprint");
	request_refused("39-digit commit",
			set(good_request(), "build", "source_commit", str("abcdef000000000000000000000000000000000")),
			"request.build.source_commit: must be a 40- or 64-digit commit ID");
	request_refused("upper-case commit",
			set(good_request(), "build", "source_commit", str("ABCDEF0000000000000000000000000000000007")),
			"request.build.source_commit: not lower-case hex");
	request_accepted("64-digit commit",
			 set(good_request(), "build", "source_commit",
			     str("abcdef0000000000000000000000000000000000000000000000000000000007")));

	/* Non-canonical hex. */
	request_refused("upper-case sha256",
			set(good_request(), "artifacts.0", "sha256",
			    str("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")),
			"request.artifacts[0].sha256: not lower-case hex");
	request_refused("short sha256", set(good_request(), "artifacts.0", "sha256", str("0001")),
			"request.artifacts[0].sha256: expected 64 hex characters");
	request_refused("non-hex sha256",
			set(good_request(), "artifacts.0", "sha256",
			    str("g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")),
			"request.artifacts[0].sha256");
	request_refused("odd tbs", set(good_request(), "operations.0", "tbs", str(HEX32 "0")),
			"request.operations[0].tbs: odd number of hex characters");
	request_refused("upper-case tbs",
			set(good_request(), "operations.0", "tbs",
			    str("000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f")),
			"request.operations[0].tbs: not lower-case hex");
	request_refused("upper-case spki", set(good_request(), "operations.0", "spki_sha256", repeat('A', 64)),
			"request.operations[0].spki_sha256: not lower-case hex");
	request_refused("empty tbs", set(good_request(), "operations.0", "tbs", str("")),
			"request.operations[0].tbs: must be 1 to 2048 characters, is 0");

	/* Times. */
	request_refused("30 February", set(good_request(), "", "created", str("2026-02-30T00:00:00Z")),
			"request.created: '2026-02-30T00:00:00Z' is not a valid time");
	request_refused("hour 24", set(good_request(), "", "expires", str("2026-11-22T24:00:00Z")),
			"request.expires: ");
	request_refused("offset time", set(good_request(), "", "created", str("2026-11-22T06:00+01")),
			"request.created: not a time of the form YYYY-MM-DDTHH:MM:SSZ");
	request_refused("long time", set(good_request(), "", "created", str("2026-11-22T06:00:00+01:00")),
			"request.created: must be 1 to 20 characters");
	request_refused("space time", set(good_request(), "", "created", str("2026-11-22 06:00:00Z")),
			"request.created: not a time of the form");
	request_refused("fractional time", set(good_request(), "", "created", str("2026-11-22T06:00:00.1Z")),
			"request.created");
	request_refused("expires at created", set(good_request(), "", "expires", str("2026-11-22T06:00:00Z")),
			"request.expires: must be after created and at most 7 days later");
	request_refused("expires before created", set(good_request(), "", "expires", str("2026-11-21T06:00:00Z")),
			"request.expires: must be after created");
	request_refused("expires after 7 days", set(good_request(), "", "expires", str("2026-11-29T06:00:01Z")),
			"request.expires: must be after created and at most 7 days later");
	request_accepted("expires after exactly 7 days", set(good_request(), "", "expires", str("2026-11-29T06:00:00Z")));

	/* Enumerations and ranges. */
	request_refused("build type", set(good_request(), "build", "build_type", str("debug")),
			"request.build.build_type: 'debug' is not one of the allowed values");
	request_refused("authority", set(good_request(), "", "authority", str("root")),
			"request.authority: 'root' is not one of the allowed values");
	request_refused("round 0", set(good_request(), "", "round", json_integer(0)),
			"request.round: must be from 1 to 16");
	request_refused("round 17", set(good_request(), "", "round", json_integer(ROMBSR_REQUEST_MAX_ROUND + 1)),
			"request.round: must be from 1 to 16");
	request_accepted("round 16", set(good_request(), "", "round", json_integer(ROMBSR_REQUEST_MAX_ROUND)));
	request_accepted("manifest authority, eng build",
			 set(set(good_request(), "", "authority", str("manifest")), "build", "build_type", str("eng")));
	request_refused("negative size", set(good_request(), "artifacts.0", "size", json_integer(-1)),
			"request.artifacts[0].size: must be from 0");
}

static void test_request_limits(void)
{
	json_t *doc, *list;
	char *big;
	int r;
	struct rombsr_request req;

	request_refused("product of 129", set(good_request(), "build", "product", repeat('p', ROMBSR_TEXT_MAX + 1)),
			"request.build.product: must be 1 to 128 characters, is 129");
	request_accepted("product of 128", set(good_request(), "build", "product", repeat('p', ROMBSR_TEXT_MAX)));
	request_refused("empty build id", set(good_request(), "build", "build_id", str("")),
			"request.build.build_id: must be 1 to 128 characters, is 0");
	request_refused("name of 256", set(good_request(), "artifacts.0", "name", repeat('n', ROMBSR_NAME_MAX + 1)),
			"request.artifacts[0].name: must be 1 to 255 characters, is 256");
	request_accepted("name of 255", set(good_request(), "artifacts.0", "name", repeat('n', ROMBSR_NAME_MAX)));
	request_refused("program of 256", set(good_request(), "operations.0", "program", repeat('/', ROMBSR_NAME_MAX + 1)),
			"request.operations[0].program: must be 1 to 255 characters");
	request_refused("key label of 65", set(good_request(), "operations.0", "key", repeat('k', 65)),
			"request.operations[0].key: must be 1 to 64 characters");
	request_refused("tbs of 1025 bytes",
			set(set(good_request(), "operations.0", "mechanism", str("CKM_RSA_PKCS")), "operations.0",
			    "tbs", repeat('a', 2 * (ROMBSR_CAP_TBS_MAX + 1))),
			"request.operations[0].tbs: must be 1 to 2048 characters");
	request_accepted("raw tbs of 1024 bytes",
			 set(set(good_request(), "operations.0", "mechanism", str("CKM_RSA_PKCS")), "operations.0",
			     "tbs", repeat('a', 2 * ROMBSR_CAP_TBS_MAX)));
	request_refused("ECDSA tbs of 65 bytes",
			set(set(good_request(), "operations.0", "mechanism", str("CKM_ECDSA")), "operations.0", "tbs",
			    repeat('a', 130)),
			"request.operations[0].tbs: CKM_ECDSA takes at most 64 bytes");

	/* Arrays: the count is refused before any element is read. */
	doc = good_request();
	list = json_array();
	for (size_t i = 0; i <= ROMBSR_REQUEST_MAX_ARTIFACTS; i++)
		json_array_append(list, json_array_get(json_object_get(doc, "artifacts"), 0));
	request_refused("10001 artifacts", set(doc, "", "artifacts", list),
			"request.artifacts: 10001 elements, more than the limit of 10000");
	doc = good_request();
	list = json_array();
	for (size_t i = 0; i <= ROMBSR_REQUEST_MAX_OPERATIONS; i++)
		json_array_append(list, json_array_get(json_object_get(doc, "operations"), 0));
	request_refused("10001 operations", set(doc, "", "operations", list),
			"request.operations: 10001 elements, more than the limit of 10000");
	doc = good_request();
	list = json_array();
	for (size_t i = 0; i < ROMBSR_REQUEST_MAX_ARTIFACTS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "out/%zu.img", i);
		json_array_append_new(list, json_pack("{s:s, s:s, s:i}", "name", name, "sha256", HEX32, "size", 1));
	}
	request_accepted("10000 artifacts", set(doc, "", "artifacts", list));
	request_refused("no operation", set(good_request(), "", "operations", json_array()),
			"request.operations: a request must ask for at least one signature");
	request_accepted("no artifact", set(good_request(), "", "artifacts", json_array()));

	/* The whole document. */
	big = calloc(1, ROMBSR_REQUEST_MAX_BYTES + 2);
	memset(big, ' ', ROMBSR_REQUEST_MAX_BYTES + 1);
	big[0] = '{';
	big[ROMBSR_REQUEST_MAX_BYTES] = '}';
	r = rombsr_request_parse(big, ROMBSR_REQUEST_MAX_BYTES + 1, &req);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "larger than the limit of 16777216") != NULL,
	      "a request of 16 MiB + 1 byte is refused before parsing (%s)", rombsr_error_message(r));
	free(big);
}

static void test_request_names(void)
{
	static const struct {
		const char *name, *want;
	} bad[] = {
		{"..", "request.artifacts[0].name: '..' has an empty, '.' or '..' component"},
		{"../etc/passwd", "request.artifacts[0].name: '../etc/passwd' has an empty"},
		{"out/../../x", "request.artifacts[0].name: 'out/../../x' has an empty"},
		{"out/..", "request.artifacts[0].name: 'out/..' has an empty"},
		{"./out", "request.artifacts[0].name: './out' has an empty"},
		{"out//a", "request.artifacts[0].name: 'out//a' has an empty"},
		{"out/", "request.artifacts[0].name: 'out/' ends with '/'"},
		{"/etc/passwd", "request.artifacts[0].name: '/etc/passwd' must be relative"},
		{"/", "request.artifacts[0].name: '/' must be relative"},
		{"out\\..\\x", "request.artifacts[0].name: control character or backslash"},
		{"out/a\x01", "request.artifacts[0].name: control character at offset 5"},
		{"out/a\nb", "request.artifacts[0].name: control character at offset 5"},
		{"out/a\x7f", "request.artifacts[0].name: control character at offset 5"},
		{"", "request.artifacts[0].name: must be 1 to 255 characters, is 0"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[32];

		/* Named by index: the names hold control characters. */
		snprintf(what, sizeof(what), "unsafe name #%zu", i);
		request_refused(what, set(good_request(), "artifacts.0", "name", str(bad[i].name)), bad[i].want);
	}
	request_refused("control character in a product", set(good_request(), "build", "product", str("a\tb")),
			"request.build.product: control character at offset 1");
	request_refused("control character in a key label", set(good_request(), "operations.1", "key", str("k\x1b")),
			"request.operations[1].key: control character at offset 1");
	request_accepted("dots inside names", set(good_request(), "artifacts.0", "name", str("out/..a/b..c/.d")));
	/* Duplicates. */
	request_refused("duplicate artifact", set(good_request(), "artifacts.1", "name", str("out/system.img")),
			"request.artifacts[1].name: 'out/system.img' listed twice");
	{
		json_t *doc = good_request();
		json_t *ops = json_object_get(doc, "operations");

		json_array_append_new(ops, json_deep_copy(json_array_get(ops, 0)));
		/* The program is no part of an operation's identity. */
		json_object_set_new(json_array_get(ops, 2), "program", str("/usr/bin/other"));
		request_refused("duplicate operation", doc, "request.operations[2]: the same operation as operations[0]");
	}
}

static void test_request_mechanisms(void)
{
	request_refused("unknown mechanism", set(good_request(), "operations.0", "mechanism", str("CKM_MD5_RSA_PKCS")),
			"request.operations[0].mechanism: 'CKM_MD5_RSA_PKCS' is not supported");
	request_refused("PSS parameters on PKCS#1",
			set(good_request(), "operations.0", "pss",
			    json_pack("{s:s, s:s, s:i}", "hash", "CKM_SHA256", "mgf", "CKG_MGF1_SHA256", "salt_len", 32)),
			"request.operations[0]: CKM_SHA256_RSA_PKCS takes no pss parameters");
	request_refused("PSS without parameters", del(good_request(), "operations.1", "pss"),
			"request.operations[1]: CKM_SHA256_RSA_PKCS_PSS needs pss parameters");
	request_refused("PSS hash not the mechanism's", set(good_request(), "operations.1.pss", "hash", str("CKM_SHA384")),
			"request.operations[1].pss: CKM_SHA256_RSA_PKCS_PSS with PSS hash SHA384");
	request_refused("PSS hash not SHA-2", set(good_request(), "operations.1.pss", "hash", str("CKM_SHA_1")),
			"request.operations[1].pss: hash and mgf must be SHA-2");
	request_refused("PSS MGF not SHA-2", set(good_request(), "operations.1.pss", "mgf", str("CKG_MGF1_SHA1")),
			"request.operations[1].pss: hash and mgf must be SHA-2");
	request_refused("PSS salt too long", set(good_request(), "operations.1.pss", "salt_len", json_integer(513)),
			"request.operations[1].pss.salt_len: must be from 0 to 512");
	request_refused("digest length, hash-and-sign", set(good_request(), "operations.0", "tbs", str("0001")),
			"request.operations[0].tbs: CKM_SHA256_RSA_PKCS needs a 32-byte digest, got 2 bytes");
	request_refused("digest length, PSS", set(good_request(), "operations.1", "tbs", repeat('a', 96)),
			"request.operations[1].tbs: CKM_SHA256_RSA_PKCS_PSS needs a 32-byte digest, got 48 bytes");
	request_refused("digest length, raw PSS",
			set(set(good_request(), "operations.1", "mechanism", str("CKM_RSA_PKCS_PSS")), "operations.1.pss",
			    "hash", str("CKM_SHA512")),
			"request.operations[1].tbs: CKM_RSA_PKCS_PSS needs a 64-byte digest, got 32 bytes");
	request_refused("digest length, ECDSA_SHA384",
			set(good_request(), "operations.0", "mechanism", str("CKM_ECDSA_SHA384")),
			"request.operations[0].tbs: CKM_ECDSA_SHA384 needs a 48-byte digest, got 32 bytes");
	request_accepted("raw PSS with its hash's digest",
			 set(set(good_request(), "operations.1", "mechanism", str("CKM_RSA_PKCS_PSS")), "operations.1.pss",
			     "hash", str("CKM_SHA256")));
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */

static void response_round_trip(bool signed_ok)
{
	json_t *doc = good_response(signed_ok);
	char *text = dump(doc);
	struct rombsr_response resp;
	struct rombsr_buf enc = {0};
	size_t tlen = strlen(text);
	int r = rombsr_response_parse(text, tlen, &resp);

	CHECK(r == 0, "good %s response parses (%s)", signed_ok ? "signed" : "rejected",
	      r < 0 ? rombsr_error_message(r) : "ok");
	if (r == 0) {
		CHECK(resp.signed_ok == signed_ok && strcmp(resp.request_id, ID) == 0 &&
			      strcmp(resp.sign_node, FPR_B) == 0,
		      "response fields read");
		if (signed_ok)
			CHECK(resp.nsigs == 1 && resp.sigs[0].sig_len == 4 && resp.sigs[0].sig[0] == 0x0b,
			      "signature read");
		else
			CHECK(strcmp(resp.reason_code, "policy-denied") == 0 &&
				      strcmp(resp.reason_message, "testkey in a release") == 0,
			      "reason read");
		r = rombsr_response_encode(&resp, &enc);
		CHECK(r == 0 && enc.len == tlen + 1 && memcmp(enc.data, text, tlen) == 0,
		      "%s response re-encodes byte-identically", signed_ok ? "signed" : "rejected");
		rombsr_response_free(&resp);
	}
	rombsr_buf_free(&enc);
	free(text);
	json_decref(doc);
}

static void test_response(void)
{
	json_t *doc, *list;

	response_round_trip(true);
	response_round_trip(false);
	response_refused("signed with a reason",
			 set(good_response(true), "", "reason", json_pack("{s:s, s:s}", "code", "x", "message", "y")),
			 "response.reason: only a rejection has a reason");
	response_refused("rejected with signatures", set(good_response(false), "", "signatures", json_array()),
			 "response.signatures: a rejection carries no signatures");
	response_refused("signed without signatures", del(good_response(true), "", "signatures"),
			 "response.signatures: missing");
	response_refused("signed with no signature", set(good_response(true), "", "signatures", json_array()),
			 "response.signatures: a signed response carries signatures");
	response_refused("rejected without reason", del(good_response(false), "", "reason"), "response.reason: missing");
	response_refused("audit not an object", set(good_response(true), "", "audit", json_integer(3)),
			 "response.audit: must be an object");
	response_refused("audit without proof", set(good_response(true), "", "audit", json_pack("{s:i, s:i}", "index", 0, "entries", 1)),
			 "response.audit.proof: missing");
	response_refused("audit proof line break",
			 set(good_response(true), "", "audit", json_pack("{s:i, s:i, s:[s]}", "index", 0, "entries", 1, "proof", "a\nb")),
			 "response.audit.proof");
	response_refused("unknown top field", set(good_response(true), "", "auditing", json_integer(3)),
			 "response: unknown field 'auditing'");
	response_refused("unknown reason field", set(good_response(false), "reason", "detail", str("x")),
			 "response.reason: unknown field 'detail'");
	response_refused("unknown signature field", set(good_response(true), "signatures.0", "extra", str("x")),
			 "response.signatures[0]: unknown field 'extra'");
	response_refused("program in a signature", set(good_response(true), "signatures.0", "program", str("/bin/x")),
			 "response.signatures[0]: unknown field 'program'");
	response_refused("signature missing", del(good_response(true), "signatures.0", "signature"),
			 "response.signatures[0].signature: missing");
	response_refused("upper-case signature", set(good_response(true), "signatures.0", "signature", str("0BADC0DE")),
			 "response.signatures[0].signature: not lower-case hex");
	response_refused("odd signature", set(good_response(true), "signatures.0", "signature", str("0badc0d")),
			 "response.signatures[0].signature: odd number of hex characters");
	response_refused("signature of 1025 bytes",
			 set(good_response(true), "signatures.0", "signature", repeat('a', 2 * (ROMBSR_CAP_SIG_MAX + 1))),
			 "response.signatures[0].signature: must be 1 to 2048 characters");
	response_refused("signature's digest length", set(good_response(true), "signatures.0", "tbs", str("00")),
			 "response.signatures[0].tbs: CKM_SHA256_RSA_PKCS needs a 32-byte digest");
	response_refused("signature's PSS parameters",
			 set(good_response(true), "signatures.0", "pss",
			     json_pack("{s:s, s:s, s:i}", "hash", "CKM_SHA256", "mgf", "CKG_MGF1_SHA256", "salt_len", 32)),
			 "response.signatures[0]: CKM_SHA256_RSA_PKCS takes no pss parameters");
	response_refused("string signature entry", set(good_response(true), "", "signatures", json_pack("[s]", "x")),
			 "response.signatures[0]: must be an object");
	response_refused("status", set(good_response(true), "", "status", str("maybe")),
			 "response.status: 'maybe' is not one of the allowed values");
	response_refused("reason code", set(good_response(false), "reason", "code", str("Policy_Denied")),
			 "response.reason.code: lower-case words joined by '-'");
	response_refused("empty reason code", set(good_response(false), "reason", "code", str("")),
			 "response.reason.code: must be 1 to 63 characters");
	response_refused("reason of 513", set(good_response(false), "reason", "message", repeat('m', ROMBSR_REASON_MAX + 1)),
			 "response.reason.message: must be 1 to 512 characters, is 513");
	response_refused("control character in a reason", set(good_response(false), "reason", "message", str("a\nb")),
			 "response.reason.message: control character at offset 1");
	response_refused("request id", set(good_response(true), "", "request_id", str("2026112289ABCDEF0123456789ABCDEF")),
			 "response.request_id: must be " ROMBSR_REQUEST_ID_FORM);
	response_refused("undated request id",
			 set(good_response(true), "", "request_id", str("20261332" "89abcdef0123456789abcdef")),
			 "response.request_id: must be " ROMBSR_REQUEST_ID_FORM);
	response_refused("request commit length",
			 set(good_response(true), "", "request_commit", str("111111111111111111111111111111111111111")),
			 "response.request_commit: must be a 40- or 64-digit commit ID");
	response_refused("request commit case",
			 set(good_response(true), "", "request_commit", str("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")),
			 "response.request_commit: not lower-case hex");
	response_refused("sign node", set(good_response(true), "", "sign_node", str("89abcdef0123456789abcdef0123456789abcdef")),
			 "response.sign_node: not an OpenPGP fingerprint");
	response_refused("time", set(good_response(true), "", "time", str("2026-13-01T00:00:00Z")), "response.time");
	response_refused("format", set(good_response(true), "", "format", str("rombsr.request")),
			 "response.format: expected 'rombsr.response'");
	response_refused("version", set(good_response(true), "", "version", json_integer(0)),
			 "response.version: must be from 1 to 1");
	doc = good_response(true);
	list = json_array();
	for (size_t i = 0; i <= ROMBSR_REQUEST_MAX_OPERATIONS; i++)
		json_array_append(list, json_array_get(json_object_get(doc, "signatures"), 0));
	response_refused("10001 signatures", set(doc, "", "signatures", list),
			 "response.signatures: 10001 elements, more than the limit of 10000");
}

/* ------------------------------------------------------------------ */
/* Layout                                                              */

int main(void)
{
	test_request_canonical();
	test_request_shape();
	test_request_values();
	test_request_limits();
	test_request_names();
	test_request_mechanisms();
	test_response();
	return tap_done();
}
