/* Approvals, version 1 (src/queue/approval.c): strict parsing with the
 * path of the bad field, canonical encoding, and counting — two operators
 * count twice, one operator once, and the build node, an approval of other
 * bytes, a revoked operator, an operator outside the group, an approval of
 * another request or in another's name not at all. */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/queue/approval.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID "20261122" "89abcdef0123456789abcdef"
#define ID2 "20261123" "76543210fedcba9876543210"
#define SHA "24e1e4fc63ffe3eff5d479dc0a335d3b1c273559e33efb88538783c9efbed408"
#define NODE "766B1D0EE6E9502434D46C14812FCB67F39F41A6"
#define OP_1 "148EA65932B8C551EE715A2B19A226AA3802535C"
#define OP_2 "5E2F7A9C31B04D6E8A1C9F2B7D3E6A0C4B8F1D25"
#define OP_3 "9C1D4E7F2A5B8C0D3E6F9A1B4C7D0E2F5A8B1C3D"

static json_t *good(void)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "format", "rombsr.approval", "version", 1, "request_id",
			 ID, "request_sha256", SHA, "operator", OP_1, "time", "2026-11-22T07:00:00Z", "comment",
			 "checked the build log");
}

static json_t *with(const char *key, json_t *value)
{
	json_t *doc = good();

	if (value == NULL)
		json_object_del(doc, key);
	else
		json_object_set_new(doc, key, value);
	return doc;
}

static void refused(const char *what, json_t *doc, const char *want)
{
	struct rombsr_approval a;
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	int r = rombsr_approval_parse(text, strlen(text), &a);
	const char *msg = rombsr_error_message(r);

	CHECK(r == ROMBSR_EINVAL && strstr(msg, want) != NULL, "approval %s refused naming '%s' (got %d: %s)", what,
	      want, r, r < 0 ? msg : "accepted");
	free(text);
	json_decref(doc);
}

static void test_canonical(void)
{
	json_t *doc = good();
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	struct rombsr_approval a;
	struct rombsr_buf enc = {0};
	size_t len = strlen(text);
	int r = rombsr_approval_parse(text, len, &a);

	CHECK(r == 0, "good approval parses (%s)", r < 0 ? rombsr_error_message(r) : "ok");
	CHECK(r == 0 && strcmp(a.request_id, ID) == 0 && a.request_sha256[0] == 0x24 && a.request_sha256[31] == 0x08 &&
		      strcmp(a.operator_fpr, OP_1) == 0 && a.time == 1795330800 &&
		      strcmp(a.comment, "checked the build log") == 0,
	      "fields read");
	r = r == 0 ? rombsr_approval_encode(&a, &enc) : r;
	CHECK(r == 0 && enc.len == len + 1 && memcmp(enc.data, text, len) == 0 && enc.data[len] == '\n',
	      "encoding is the canonical text, byte for byte");
	rombsr_buf_free(&enc);
	free(text);
	json_decref(doc);

	doc = with("comment", NULL);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	r = rombsr_approval_parse(text, strlen(text), &a);
	CHECK(r == 0 && a.comment[0] == '\0', "the comment is optional");
	r = r == 0 ? rombsr_approval_encode(&a, &enc) : r;
	CHECK(r == 0 && strstr((const char *)enc.data, "comment") == NULL && enc.len == strlen(text) + 1,
	      "no comment, none encoded");
	rombsr_buf_free(&enc);
	free(text);
	json_decref(doc);
}

static void test_refusals(void)
{
	struct rombsr_approval a;
	char big[ROMBSR_APPROVAL_COMMENT_MAX + 2];
	int r;

	r = rombsr_approval_parse("[1]", 3, &a);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "not a JSON object"), "an array is refused");
	r = rombsr_approval_parse("{\"format\":", 10, &a);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "not valid JSON"), "broken JSON is refused");
	refused("with an unknown field", with("approved", json_true()), "approval: unknown field 'approved'");
	refused("of another format", with("format", json_string("rombsr-approval")),
		"approval.format: expected 'rombsr.approval'");
	refused("of version 2", with("version", json_integer(2)), "approval.version: must be from 1 to 1");
	refused("without request_id", with("request_id", NULL), "approval.request_id: missing");
	refused("with an upper-case request_id", with("request_id", json_string("20261122" "89ABCDEF0123456789abcdef")),
		"approval.request_id: must be a date YYYYMMDD");
	refused("with a short request_id", with("request_id", json_string("0123")),
		"approval.request_id: must be a date YYYYMMDD");
	refused("with an upper-case sha256",
		with("request_sha256", json_string("24E1E4FC63FFE3EFF5D479DC0A335D3B1C273559E33EFB88538783C9EFBED408")),
		"approval.request_sha256");
	refused("with a short sha256", with("request_sha256", json_string("24e1")), "approval.request_sha256");
	refused("without request_sha256", with("request_sha256", NULL), "approval.request_sha256: missing");
	refused("with a lower-case operator", with("operator", json_string("148ea65932b8c551ee715a2b19a226aa3802535c")),
		"approval.operator: not an OpenPGP fingerprint");
	refused("without operator", with("operator", NULL), "approval.operator: missing");
	refused("with a numeric time", with("time", json_integer(1795330800)), "approval.time: must be a string");
	refused("with a time offset", with("time", json_string("2026-11-22T07:00:00+01:00")), "approval.time");
	refused("with an impossible date", with("time", json_string("2026-02-30T07:00:00Z")),
		"approval.time: '2026-02-30T07:00:00Z' is not a valid time");
	memset(big, 'c', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused("with a 1025-byte comment", with("comment", json_string(big)),
		"approval.comment: must be 1 to 1024 characters, is 1025");
	refused("with an empty comment", with("comment", json_string("")), "approval.comment: must be 1 to 1024");
	refused("with a newline in the comment", with("comment", json_string("ok\nrm -rf")),
		"approval.comment: control character at offset 2");
	{
		size_t n = ROMBSR_APPROVAL_MAX_BYTES + 1;
		char *text = malloc(n);

		memset(text, ' ', n);
		r = rombsr_approval_parse(text, n, &a);
		CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "larger than the limit"),
		      "a document over 64 KiB is refused before parsing");
		free(text);
	}
}

/* ------------------------------------------------------------------ */
/* Counting                                                            */

static unsigned char sha[32], other_sha[32];
static const char group[][41] = {OP_1, OP_2, NODE};

static struct rombsr_approval approval(const char *id, const unsigned char *bytes, const char *op)
{
	struct rombsr_approval a = {0};

	snprintf(a.request_id, sizeof(a.request_id), "%s", id);
	memcpy(a.request_sha256, bytes, 32);
	snprintf(a.operator_fpr, sizeof(a.operator_fpr), "%s", op);
	a.time = 1795330800;
	return a;
}

/* Before test_count builds its approvals from them. */
static void set_hashes(void)
{
	memset(sha, 0x24, sizeof(sha));
	memset(other_sha, 0x25, sizeof(other_sha));
}

static void test_count(void)
{
	struct rombsr_approval_subject s = {ID, sha, NODE};
	enum rombsr_approval_status st[8];
	char counted[8][41];
	size_t n;
	struct rombsr_approval a1 = approval(ID, sha, OP_1), a2 = approval(ID, sha, OP_2),
			       a3 = approval(ID, sha, OP_3), an = approval(ID, sha, NODE),
			       other = approval(ID, other_sha, OP_2), wrong_id = approval(ID2, sha, OP_2),
			       in_name_of = approval(ID, sha, OP_1);

	{
		struct rombsr_approval_input in[] = {{&a1, OP_1, true}, {&a2, OP_2, true}};

		n = rombsr_approval_count(&s, group, 3, in, 2, st, counted);
		CHECK(n == 2 && st[0] == ROMBSR_APPROVAL_COUNTED && st[1] == ROMBSR_APPROVAL_COUNTED &&
			      strcmp(counted[0], OP_1) == 0 && strcmp(counted[1], OP_2) == 0,
		      "two operators: 2 counted");
	}
	{
		struct rombsr_approval_input in[] = {{&a1, OP_1, true}, {&a1, OP_1, true}};

		n = rombsr_approval_count(&s, group, 3, in, 2, st, counted);
		CHECK(n == 1 && st[0] == ROMBSR_APPROVAL_COUNTED && st[1] == ROMBSR_APPROVAL_DUPLICATE,
		      "one operator twice: 1 counted, the second a duplicate");
	}
	{
		/* NODE holds the operator role and is in the group: still not. */
		struct rombsr_approval_input in[] = {{&an, NODE, true}, {&a1, OP_1, true}};

		n = rombsr_approval_count(&s, group, 3, in, 2, st, counted);
		CHECK(n == 1 && st[0] == ROMBSR_APPROVAL_BY_BUILD_NODE && strcmp(counted[0], OP_1) == 0,
		      "the build node approving its own request: not counted");
	}
	{
		struct rombsr_approval_input in[] = {{&other, OP_2, true}};

		n = rombsr_approval_count(&s, group, 3, in, 1, st, counted);
		CHECK(n == 0 && st[0] == ROMBSR_APPROVAL_OTHER_CONTENT, "an approval of other bytes: not counted");
	}
	{
		struct rombsr_approval_input in[] = {{&a2, OP_2, false}, {&a1, OP_1, true}};

		n = rombsr_approval_count(&s, group, 3, in, 2, st, counted);
		CHECK(n == 1 && st[0] == ROMBSR_APPROVAL_NOT_OPERATOR, "a revoked operator: not counted");
	}
	{
		struct rombsr_approval_input in[] = {{&a3, OP_3, true}};

		n = rombsr_approval_count(&s, group, 3, in, 1, st, counted);
		CHECK(n == 0 && st[0] == ROMBSR_APPROVAL_NOT_IN_GROUP, "an operator outside the group: not counted");
	}
	{
		struct rombsr_approval_input in[] = {{&wrong_id, OP_2, true}};

		n = rombsr_approval_count(&s, group, 3, in, 1, st, counted);
		CHECK(n == 0 && st[0] == ROMBSR_APPROVAL_WRONG_REQUEST, "an approval of another request: not counted");
	}
	{
		/* OP_2 committed a file that says OP_1 approves. */
		struct rombsr_approval_input in[] = {{&in_name_of, OP_2, true}};

		n = rombsr_approval_count(&s, group, 3, in, 1, st, counted);
		CHECK(n == 0 && st[0] == ROMBSR_APPROVAL_WRONG_OPERATOR, "an approval in another's name: not counted");
	}
	{
		struct rombsr_approval_input in[] = {{&a1, OP_1, true}, {&an, NODE, true}, {&other, OP_2, true},
						     {&a2, OP_2, true}, {&a3, OP_3, true},  {&a2, OP_2, true}};

		n = rombsr_approval_count(&s, group, 3, in, 6, st, counted);
		CHECK(n == 2 && strcmp(counted[0], OP_1) == 0 && strcmp(counted[1], OP_2) == 0 &&
			      st[1] == ROMBSR_APPROVAL_BY_BUILD_NODE && st[2] == ROMBSR_APPROVAL_OTHER_CONTENT &&
			      st[3] == ROMBSR_APPROVAL_COUNTED && st[4] == ROMBSR_APPROVAL_NOT_IN_GROUP &&
			      st[5] == ROMBSR_APPROVAL_DUPLICATE,
		      "a mixed list: each approval judged on its own");
	}
	n = rombsr_approval_count(&s, group, 3, NULL, 0, st, counted);
	CHECK(n == 0, "no approvals: none counted");
	CHECK(strcmp(rombsr_approval_status_text(ROMBSR_APPROVAL_OTHER_CONTENT),
		     "approves other content than the request's") == 0 &&
		      strcmp(rombsr_approval_status_text(ROMBSR_APPROVAL_COUNTED), "counted") == 0,
	      "statuses have words");
}

int main(void)
{
	test_canonical();
	test_refusals();
	set_hashes();
	test_count();
	return tap_done();
}
