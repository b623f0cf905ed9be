/* The incident records of the queue (src/queue/incident.c,
 * docs/formats/incident.md): freeze records and revocations parse
 * strictly, encode canonically, and are classified by the layout. */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/queue/incident.h"
#include "../../src/queue/layout.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define FPR "034DA63A4D0FC8420FA873EB32A3DDF3068EB683"
#define SPKI "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static json_t *freeze(void)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "format", "rombsr.freeze", "version", 1, "state", "frozen",
			 "reason", "build node 2 compromised", "admin", FPR, "time", "2026-12-03T18:30:00Z");
}

static json_t *revocation(void)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "format", "rombsr.revocation", "version", 1,
			 "key", "pkcs11:token=rombsr-release;object=media", "key_fingerprint", SPKI, "key_label", "media",
			 "token", "rombsr-release", "reason", "media key exposed", "admin", FPR, "time",
			 "2026-12-03T18:40:00Z");
}

/* doc with key set to value (NULL: removed), parsed by the freeze or the
 * revocation parser; the document is released. */
static int parse_with(json_t *doc, const char *key, json_t *value, bool is_freeze)
{
	struct rombsr_revocation v;
	struct rombsr_freeze f;
	char *text;
	int r;

	if (key != NULL && value == NULL)
		json_object_del(doc, key);
	else if (key != NULL)
		json_object_set_new(doc, key, value);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	r = is_freeze ? rombsr_freeze_parse(text, strlen(text), &f) : rombsr_revocation_parse(text, strlen(text), &v);
	free(text);
	json_decref(doc);
	return r;
}

static void test_freeze(void)
{
	struct rombsr_freeze f = {.frozen = true, .admin = FPR, .time = 1796322600}, back;
	struct rombsr_buf out;

	snprintf(f.reason, sizeof(f.reason), "build node 2 compromised");
	CHECK(parse_with(freeze(), NULL, NULL, true) == 0, "a freeze record parses");
	CHECK(rombsr_freeze_encode(&f, &out) == 0, "a freeze record encodes");
	CHECK(rombsr_freeze_parse((const char *)out.data, out.len, &back) == 0 && back.frozen &&
		      strcmp(back.reason, f.reason) == 0 && back.time == f.time,
	      "and reads back the same");
	rombsr_buf_free(&out);
	CHECK(parse_with(freeze(), "state", json_string("thawed"), true) == 0, "thawed is a state");
	CHECK(tap_fails(parse_with(freeze(), "state", json_string("paused"), true), ROMBSR_EINVAL,
			"freeze.state: 'paused' is not one of the allowed values"),
	      "an unknown state is refused");
	CHECK(tap_fails(parse_with(freeze(), "reason", json_string(""), true), ROMBSR_EINVAL, "freeze.reason"),
	      "an empty reason is refused");
	CHECK(tap_fails(parse_with(freeze(), "reason", json_string("tab\there"), true), ROMBSR_EINVAL, "freeze.reason"),
	      "a control character in the reason is refused");
	CHECK(tap_fails(parse_with(freeze(), "admin", json_string("034da63a4d0fc8420fa873eb32a3ddf3068eb683"), true),
			ROMBSR_EINVAL, "freeze.admin"),
	      "a lower-case fingerprint is refused");
	CHECK(tap_fails(parse_with(freeze(), "extra", json_true(), true), ROMBSR_EINVAL, "extra"),
	      "an unknown field is refused");
	CHECK(tap_fails(parse_with(freeze(), "version", json_integer(2), true), ROMBSR_EINVAL, "freeze.version"),
	      "another version is refused");
	CHECK(tap_fails(parse_with(freeze(), "time", NULL, true), ROMBSR_EINVAL, "freeze.time"),
	      "a missing time is refused");
}

static void test_revocation(void)
{
	struct rombsr_revocation v = {.key_fingerprint = SPKI, .key_label = "media", .token = "rombsr-release",
				      .key_uri = "pkcs11:token=rombsr-release;object=media", .admin = FPR,
				      .time = 1796323200},
				 back;
	struct rombsr_buf out;

	snprintf(v.reason, sizeof(v.reason), "media key exposed");
	CHECK(parse_with(revocation(), NULL, NULL, false) == 0, "a revocation parses");
	CHECK(rombsr_revocation_encode(&v, &out) == 0, "a revocation encodes");
	CHECK(rombsr_revocation_parse((const char *)out.data, out.len, &back) == 0 &&
		      memcmp(&back, &v, sizeof(v)) == 0,
	      "and reads back the same");
	rombsr_buf_free(&out);
	CHECK(tap_fails(parse_with(revocation(), "key", json_string("pkcs11:token=rombsr-release;object=platform"), false),
			ROMBSR_EINVAL, "revocation.key: must be pkcs11:token=rombsr-release;object=media"),
	      "a URI naming another key than key_label is refused");
	CHECK(tap_fails(parse_with(revocation(), "key_fingerprint", json_string("AB"), false), ROMBSR_EINVAL,
			"revocation.key_fingerprint"),
	      "a bad fingerprint is refused");
	CHECK(tap_fails(parse_with(revocation(), "key_label", json_string("me dia"), false), ROMBSR_EINVAL,
			"revocation.key_label"),
	      "a label with a space is refused");
	CHECK(tap_fails(parse_with(revocation(), "token", NULL, false), ROMBSR_EINVAL, "revocation.token"),
	      "a missing token is refused");
}

static void test_layout(void)
{
	struct rombsr_queue_path qp;
	char path[128];

	rombsr_queue_classify("incident/freeze.json", &qp);
	CHECK(qp.kind == ROMBSR_PATH_FREEZE, "incident/freeze.json is the freeze record");
	rombsr_queue_classify("incident/other.json", &qp);
	CHECK(qp.kind == ROMBSR_PATH_UNKNOWN, "nothing else under incident/");
	CHECK(rombsr_revocation_path(SPKI, path, sizeof(path)) == 0 && strcmp(path, "revocations/" SPKI ".json") == 0,
	      "a revocation's path");
	rombsr_queue_classify(path, &qp);
	CHECK(qp.kind == ROMBSR_PATH_REVOCATION && strcmp(qp.key, SPKI) == 0, "is classified with its key");
	rombsr_queue_classify("revocations/5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03.json", &qp);
	CHECK(qp.kind == ROMBSR_PATH_UNKNOWN, "an upper-case fingerprint is outside the layout");
	rombsr_queue_classify("revocations/" SPKI ".json.bak", &qp);
	CHECK(qp.kind == ROMBSR_PATH_UNKNOWN, "another extension is outside the layout");
}

int main(void)
{
	test_freeze();
	test_revocation();
	test_layout();
	return tap_done();
}
