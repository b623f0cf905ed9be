/* Sign node policy, version 1 (src/sign/policy.c, policy_eval.c): the
 * documented example parses; every class of malformed or meaningless
 * policy is refused with the JSON path of the bad field; every rule has an
 * accepted and a refused request, with its reason code, operation index
 * and key; approvals needed are collected per group. */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"
#include "../../src/sign/policy.h"
#include "../../src/sign/quota.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID "20261122" "89abcdef0123456789abcdef"
#define ID2 "20261123" "76543210fedcba9876543210"
#define NODE_A "766B1D0EE6E9502434D46C14812FCB67F39F41A6"
#define NODE_B "89ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define OP_1 "148EA65932B8C551EE715A2B19A226AA3802535C"
#define OP_2 "5E2F7A9C31B04D6E8A1C9F2B7D3E6A0C4B8F1D25"
#define OP_3 "9C1D4E7F2A5B8C0D3E6F9A1B4C7D0E2F5A8B1C3D"
#define NOW ((time_t)1800000000)

/* ------------------------------------------------------------------ */
/* Documents                                                           */

/* Groups and one key with an empty rule: the smallest useful policy. */
static json_t *base(void)
{
	return json_pack("{s:s, s:i, s:i, s:{s:[s, s], s:[s]}, s:{s:{}}}", "format", "rombsr.policy", "version", 1,
			 "serial", 3, "operator_groups", "release-managers", OP_1, OP_2, "security", OP_3, "keys",
			 "platform");
}

/* The object at a dotted path ("keys.platform", "" for the root). */
static json_t *at(json_t *root, const char *path)
{
	char buf[160], *save = NULL, *part;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part != NULL && cur != NULL; part = strtok_r(NULL, ".", &save))
		cur = json_object_get(cur, part);
	return cur;
}

static json_t *set(json_t *doc, const char *path, const char *key, json_t *value)
{
	json_t *o = at(doc, path);

	if (o == NULL || json_object_set_new(o, key, value) != 0)
		fprintf(stderr, "test bug: cannot set %s.%s\n", path, key);
	return doc;
}

static json_t *del(json_t *doc, const char *path, const char *key)
{
	json_t *o = at(doc, path);

	if (o == NULL || json_object_del(o, key) != 0)
		fprintf(stderr, "test bug: cannot delete %s.%s\n", path, key);
	return doc;
}

/* A rule for platform given as JSON text. */
static json_t *rule(const char *text)
{
	json_error_t err;
	json_t *r = json_loads(text, 0, &err);

	if (r == NULL)
		fprintf(stderr, "test bug: %s: %s\n", text, err.text);
	return set(base(), "keys", "platform", r);
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

static json_t *fpr_array(size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		char fpr[41];

		snprintf(fpr, sizeof(fpr), "%040zX", i + 1);
		json_array_append_new(a, json_string(fpr));
	}
	return a;
}

static char *dump(const json_t *doc)
{
	return json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
}

static void refused(const char *what, json_t *doc, const char *want)
{
	struct rombsr_policy p;
	char *text = dump(doc);
	int r = rombsr_policy_parse(text, strlen(text), &p);
	const char *msg = rombsr_error_message(r);

	CHECK(r == ROMBSR_EINVAL && strstr(msg, want) != NULL, "policy %s refused naming '%s' (got %d: %s)", what, want,
	      r, r < 0 ? msg : "accepted");
	if (r == 0)
		rombsr_policy_free(&p);
	free(text);
	json_decref(doc);
}

static void accepted(const char *what, json_t *doc)
{
	struct rombsr_policy p;
	char *text = dump(doc);
	int r = rombsr_policy_parse(text, strlen(text), &p);

	CHECK(r == 0, "policy %s accepted (%s)", what, r < 0 ? rombsr_error_message(r) : "ok");
	rombsr_policy_free(&p);
	free(text);
	json_decref(doc);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

static struct rombsr_request req;
static struct rombsr_request_op ops[32];
static struct rombsr_artifact arts[8];

static void add_op(const char *label, const char *mech, const char *program)
{
	struct rombsr_request_op *o = &ops[req.nops++];

	memset(o, 0, sizeof(*o));
	snprintf(o->op.label, sizeof(o->op.label), "%s", label);
	memset(o->op.spki_sha256, 'a', 64);
	o->op.mech = rombsr_cap_mech_by_name(mech);
	o->op.tbs_len = 32;
	o->op.tbs[0] = (unsigned char)req.nops;
	snprintf(o->program, sizeof(o->program), "%s", program);
}

static void add_artifact(const char *name)
{
	snprintf(arts[req.nartifacts++].name, sizeof(arts[0].name), "%s", name);
}

/* A user build of NODE_A: two platform operations by pkcs11-tool over
 * one artifact. */
static void reset_request(void)
{
	memset(&req, 0, sizeof(req));
	memcpy(req.id, ID, sizeof(req.id));
	req.build_type = ROMBSR_BUILD_USER;
	memcpy(req.build_node, NODE_A, sizeof(req.build_node));
	req.ops = ops;
	req.artifacts = arts;
	add_artifact("out/system.img");
	add_op("platform", "CKM_SHA256_RSA_PKCS", "/usr/bin/pkcs11-tool");
	add_op("platform", "CKM_SHA256_RSA_PKCS", "/usr/bin/pkcs11-tool");
}

static int evaluate(json_t *doc, const struct rombsr_quota_ledger *ledger, struct rombsr_policy_verdict *v)
{
	struct rombsr_policy p;
	char *text = dump(doc);
	int r = rombsr_policy_parse(text, strlen(text), &p);

	if (r < 0)
		fprintf(stderr, "test bug: policy refused: %s\n", rombsr_error_message(r));
	if (r == 0)
		r = rombsr_policy_evaluate(&p, &req, NOW, ledger, v);
	rombsr_policy_free(&p);
	free(text);
	json_decref(doc);
	return r;
}

static void allowed(const char *what, json_t *doc, const struct rombsr_quota_ledger *ledger)
{
	struct rombsr_policy_verdict v;
	int r = evaluate(doc, ledger, &v);

	CHECK(r == 0 && v.allowed, "%s: allowed (%s)", what, r < 0 ? rombsr_error_message(r) : v.message);
}

static void denied(const char *what, json_t *doc, const struct rombsr_quota_ledger *ledger, const char *code,
		   size_t op, const char *want)
{
	struct rombsr_policy_verdict v;
	char head[96];
	int r = evaluate(doc, ledger, &v);

	snprintf(head, sizeof(head), "operation %zu: key '%s' ", op, req.ops[op].op.label);
	CHECK(r == 0 && !v.allowed && strcmp(v.code, code) == 0 && v.op_index == op &&
		      strncmp(v.message, head, strlen(head)) == 0 && strstr(v.message, want) != NULL &&
		      strchr(v.message, '\n') == NULL,
	      "%s: refused %s at operation %zu naming '%s' (got %s: %s)", what, code, op, want,
	      r < 0 ? "error" : v.allowed ? "allowed" : v.code, r < 0 ? rombsr_error_message(r) : v.message);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

static void test_example(void)
{
	char *text = tap_top_file("tests/vectors/policy-example.json");
	char *doc = tap_top_file("docs/formats/policy.md");
	struct rombsr_policy p;
	const struct rombsr_policy_rule *avb, *test, *other;
	int r;

	CHECK(text != NULL && doc != NULL, "example policy and its documentation read");
	if (text == NULL || doc == NULL)
		goto out;
	CHECK(strstr(doc, text) != NULL, "docs/formats/policy.md shows tests/vectors/policy-example.json verbatim");
	r = rombsr_policy_parse(text, strlen(text), &p);
	CHECK(r == 0, "the documented example parses (%s)", r < 0 ? rombsr_error_message(r) : "ok");
	if (r < 0)
		goto out;
	avb = rombsr_policy_rule_for(&p, "avb_root");
	test = rombsr_policy_rule_for(&p, "testkey");
	other = rombsr_policy_rule_for(&p, "media");
	CHECK(p.serial == 7 && p.ngroups == 2 && p.nkeys == 4 && p.nnodes == 1 && p.has_defaults, "example: shape read");
	CHECK(avb != NULL && avb->approvals_required == 2 &&
		      strcmp(p.groups[avb->approvals_group].name, "release-managers") == 0 && avb->nartifacts == 2 &&
		      avb->build_types == 1u << ROMBSR_BUILD_USER && avb->has_not_after && !avb->has_not_before &&
		      avb->quota.window_seconds == 604800 && avb->quota.max_operations == 40 && avb->max_operations == 4,
	      "example: avb_root rule read");
	CHECK(test != NULL && test->build_types == ((1u << ROMBSR_BUILD_USERDEBUG) | (1u << ROMBSR_BUILD_ENG)) &&
		      test->has_not_before && test->not_before == 1767225600,
	      "example: testkey rule read");
	CHECK(other == &p.defaults && rombsr_policy_rule_for(&p, "ota_key")->disabled,
	      "example: media falls to the defaults, ota_key is disabled");
	CHECK(p.nodes[0].quota.max_operations == 20000 && strcmp(p.nodes[0].fpr, NODE_A) == 0,
	      "example: build node quota read");
	rombsr_policy_free(&p);
out:
	free(text);
	free(doc);
}

static void test_parse_shape(void)
{
	struct rombsr_policy p;
	int r;

	accepted("base", base());
	accepted("with nothing but format, version and serial",
		 json_pack("{s:s, s:i, s:i}", "format", "rombsr.policy", "version", 1, "serial", 1));
	r = rombsr_policy_parse("[]", 2, &p);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "not a JSON object"), "an array is refused");
	r = rombsr_policy_parse("{\"format\": ", 11, &p);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "not valid JSON"), "broken JSON is refused");
	r = rombsr_policy_parse("{\"serial\": 1, \"serial\": 2}", 26, &p);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "duplicate"), "a duplicate key is refused (%s)",
	      rombsr_error_message(r));
	{
		size_t big = ROMBSR_POLICY_MAX_BYTES + 1;
		char *text = malloc(big);

		memset(text, ' ', big);
		r = rombsr_policy_parse(text, big, &p);
		CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "larger than the limit"),
		      "a document over 1 MiB is refused before parsing");
		free(text);
	}
	refused("with an unknown field", set(base(), "", "extra", json_true()), "policy: unknown field 'extra'");
	refused("without format", del(base(), "", "format"), "policy.format: missing");
	refused("of another format", set(base(), "", "format", json_string("rombsr.request")),
		"policy.format: expected 'rombsr.policy'");
	refused("of version 2", set(base(), "", "version", json_integer(2)), "policy.version: must be from 1 to 1");
	refused("without serial", del(base(), "", "serial"), "policy.serial: missing");
	refused("with serial 0", set(base(), "", "serial", json_integer(0)), "policy.serial: must be from 1");
	refused("with a string serial", set(base(), "", "serial", json_string("7")), "policy.serial: must be an integer");
	refused("with serial 2^32", set(base(), "", "serial", json_integer(4294967296LL)), "policy.serial: must be from");
	refused("with keys as an array", set(base(), "", "keys", json_array()), "policy.keys: must be an object");
	refused("with defaults as a string", set(base(), "", "defaults", json_string("any")),
		"policy.defaults: must be an object");
}

static void test_parse_groups(void)
{
	refused("with groups as an array", set(base(), "", "operator_groups", json_array()),
		"policy.operator_groups: must be an object");
	refused("with an upper-case group name", set(base(), "operator_groups", "Release", json_pack("[s]", OP_1)),
		"policy.operator_groups: 'Release' is not a group name");
	refused("with a 65-byte group name",
		set(base(), "operator_groups", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    json_pack("[s]", OP_1)),
		"is not a group name");
	refused("with a lower-case member",
		set(base(), "operator_groups", "x", json_pack("[s]", "148ea65932b8c551ee715a2b19a226aa3802535c")),
		"policy.operator_groups.x[0]: not an OpenPGP fingerprint");
	refused("with a short member", set(base(), "operator_groups", "x", json_pack("[s, s]", OP_1, "ABCD")),
		"policy.operator_groups.x[1]: not an OpenPGP fingerprint");
	refused("with a member twice", set(base(), "operator_groups", "x", json_pack("[s, s]", OP_1, OP_1)),
		"policy.operator_groups.x[1]: '" OP_1 "' listed twice");
	refused("with an empty group", set(base(), "operator_groups", "x", json_array()),
		"policy.operator_groups.x: must list at least one");
	refused("with a group as a string", set(base(), "operator_groups", "x", json_string(OP_1)),
		"policy.operator_groups.x: must be an array");
	accepted("with a group of 256 members", set(base(), "operator_groups", "x", fpr_array(256)));
	refused("with a group of 257 members", set(base(), "operator_groups", "x", fpr_array(257)),
		"policy.operator_groups.x: 257 elements, more than the limit of 256");
	{
		json_t *doc = base(), *groups = at(doc, "operator_groups");

		for (int i = 0; i < 30; i++) {
			char name[16];

			snprintf(name, sizeof(name), "g%d", i);
			json_object_set_new(groups, name, json_pack("[s]", OP_1));
		}
		accepted("with 32 groups", json_incref(doc));
		json_object_set_new(groups, "one-more", json_pack("[s]", OP_1));
		refused("with 33 groups", doc, "policy.operator_groups: 33 groups, more than the limit of 32");
	}
}

static void test_parse_rules(void)
{
	refused("with an unknown key label", set(base(), "keys", "platfrom", json_object()),
		"policy.keys: 'platfrom' is not a key of the key set");
	refused("with a rule as an array", set(base(), "keys", "platform", json_array()),
		"policy.keys.platform: must be an object");
	refused("with an unknown rule field", rule("{\"build_type\": [\"user\"]}"),
		"policy.keys.platform: unknown field 'build_type'");
	refused("with an unknown defaults field", set(base(), "", "defaults", json_pack("{s:b}", "allow", 1)),
		"policy.defaults: unknown field 'allow'");
	accepted("with disabled false and other fields", rule("{\"disabled\": false, \"max_operations\": 3}"));
	refused("with disabled and another field", rule("{\"disabled\": true, \"max_operations\": 3}"),
		"policy.keys.platform: a disabled rule takes no other field");
	refused("with disabled as a string", rule("{\"disabled\": \"yes\"}"),
		"policy.keys.platform.disabled: must be true or false");

	accepted("with every build type", rule("{\"build_types\": [\"user\", \"userdebug\", \"eng\"]}"));
	refused("with an empty build_types", rule("{\"build_types\": []}"),
		"policy.keys.platform.build_types: must list at least one");
	refused("with an unknown build type", rule("{\"build_types\": [\"user\", \"debug\"]}"),
		"policy.keys.platform.build_types[1]: 'debug' is not");
	refused("with a build type twice", rule("{\"build_types\": [\"eng\", \"eng\"]}"),
		"policy.keys.platform.build_types[1]: 'eng' listed twice");
	refused("with a numeric build type", rule("{\"build_types\": [1]}"),
		"policy.keys.platform.build_types[0]: must be a string");
	refused("with build_types as a string", rule("{\"build_types\": \"user\"}"),
		"policy.keys.platform.build_types: must be an array");

	refused("with a bad rule build node", rule("{\"build_nodes\": [\"" NODE_A "0\"]}"),
		"policy.keys.platform.build_nodes[0]: not an OpenPGP fingerprint");
	refused("with a rule build node twice", rule("{\"build_nodes\": [\"" NODE_A "\", \"" NODE_A "\"]}"),
		"policy.keys.platform.build_nodes[1]: '" NODE_A "' listed twice");
	accepted("with 256 rule build nodes", set(base(), "keys.platform", "build_nodes", fpr_array(256)));
	refused("with 257 rule build nodes", set(base(), "keys.platform", "build_nodes", fpr_array(257)),
		"policy.keys.platform.build_nodes: 257 elements, more than the limit of 256");

	accepted("with programs", rule("{\"programs\": [\"java\", \"/usr/bin/pkcs11-tool\"]}"));
	refused("with a relative program path", rule("{\"programs\": [\"bin/java\"]}"),
		"policy.keys.platform.programs[0]: 'bin/java' is neither an absolute path nor a bare program name");
	refused("with an empty program", rule("{\"programs\": [\"\"]}"),
		"policy.keys.platform.programs[0]: must be 1 to 255 characters, is 0");
	refused("with a program twice", rule("{\"programs\": [\"java\", \"java\"]}"),
		"policy.keys.platform.programs[1]: 'java' listed twice");
	refused("with a 256-byte program", set(base(), "keys.platform", "programs", json_pack("[o]", repeat('p', 256))),
		"policy.keys.platform.programs[0]: must be 1 to 255 characters, is 256");
	refused("with a control character in a program", rule("{\"programs\": [\"ja\\tva\"]}"),
		"policy.keys.platform.programs[0]: control character at offset 2");

	accepted("with artifact patterns", rule("{\"artifacts\": [\"out/*.img\", \"out/app/[a-z]*.apk\"]}"));
	refused("with a 256-byte pattern", set(base(), "keys.platform", "artifacts", json_pack("[o]", repeat('a', 256))),
		"policy.keys.platform.artifacts[0]: must be 1 to 255 characters");
	{
		json_t *list = json_array();

		for (int i = 0; i < 257; i++) {
			char s[16];

			snprintf(s, sizeof(s), "out/%d", i);
			json_array_append_new(list, json_string(s));
		}
		refused("with 257 patterns", set(base(), "keys.platform", "artifacts", list),
			"policy.keys.platform.artifacts: 257 elements, more than the limit of 256");
	}
	refused("with artifacts as an object", rule("{\"artifacts\": {}}"),
		"policy.keys.platform.artifacts: must be an array");

	accepted("with mechanisms", rule("{\"mechanisms\": [\"CKM_SHA256_RSA_PKCS\", \"CKM_ECDSA_SHA256\"]}"));
	refused("with an unknown mechanism", rule("{\"mechanisms\": [\"CKM_SHA256_RSA_PKCS\", \"CKM_MD5_RSA_PKCS\"]}"),
		"policy.keys.platform.mechanisms[1]: 'CKM_MD5_RSA_PKCS' is not a mechanism the capture module supports");
	refused("with a mechanism twice", rule("{\"mechanisms\": [\"CKM_RSA_PKCS\", \"CKM_RSA_PKCS\"]}"),
		"policy.keys.platform.mechanisms[1]: 'CKM_RSA_PKCS' listed twice");

	accepted("with max_operations 10000", rule("{\"max_operations\": 10000}"));
	refused("with max_operations 0", rule("{\"max_operations\": 0}"),
		"policy.keys.platform.max_operations: must be from 1 to 10000");
	refused("with max_operations 10001", rule("{\"max_operations\": 10001}"),
		"policy.keys.platform.max_operations: must be from 1 to 10000");
	refused("with max_operations 1.5", rule("{\"max_operations\": 1.5}"),
		"policy.keys.platform.max_operations: must be an integer");
}

static void test_parse_quota_approvals_times(void)
{
	accepted("with a quota of 31 days", rule("{\"quota\": {\"window_seconds\": 2678400, \"max_operations\": 1}}"));
	refused("with a zero window", rule("{\"quota\": {\"window_seconds\": 0, \"max_operations\": 10}}"),
		"policy.keys.platform.quota.window_seconds: must be from 1 to 2678400");
	refused("with a window over 31 days", rule("{\"quota\": {\"window_seconds\": 2678401, \"max_operations\": 10}}"),
		"policy.keys.platform.quota.window_seconds: must be from 1 to 2678400");
	refused("with a zero quota", rule("{\"quota\": {\"window_seconds\": 60, \"max_operations\": 0}}"),
		"policy.keys.platform.quota.max_operations: must be from 1 to 1000000000");
	refused("with a quota without window", rule("{\"quota\": {\"max_operations\": 10}}"),
		"policy.keys.platform.quota.window_seconds: missing");
	refused("with an unknown quota field", rule("{\"quota\": {\"window_seconds\": 60, \"max_operations\": 1, "
						    "\"burst\": 2}}"),
		"policy.keys.platform.quota: unknown field 'burst'");
	refused("with a quota as a number", rule("{\"quota\": 5}"), "policy.keys.platform.quota: must be an object");

	accepted("with 2 of release-managers", rule("{\"approvals\": {\"required\": 2, \"group\": \"release-managers\"}}"));
	refused("with approvals from an unknown group", rule("{\"approvals\": {\"required\": 1, \"group\": \"managers\"}}"),
		"policy.keys.platform.approvals.group: no operator group 'managers'");
	refused("with approvals and no groups at all",
		del(rule("{\"approvals\": {\"required\": 1, \"group\": \"security\"}}"), "", "operator_groups"),
		"policy.keys.platform.approvals.group: no operator group 'security'");
	refused("with 3 approvals of a group of 2", rule("{\"approvals\": {\"required\": 3, \"group\": "
							 "\"release-managers\"}}"),
		"policy.keys.platform.approvals.required: 3 approvals can never come from group 'release-managers' of 2 "
		"members");
	refused("with 0 approvals", rule("{\"approvals\": {\"required\": 0, \"group\": \"security\"}}"),
		"policy.keys.platform.approvals.required: must be from 1 to 256");
	refused("with approvals without a group", rule("{\"approvals\": {\"required\": 1}}"),
		"policy.keys.platform.approvals.group: missing");
	refused("with defaults naming an unknown group",
		set(base(), "", "defaults", json_pack("{s:{s:i, s:s}}", "approvals", "required", 1, "group", "nobody")),
		"policy.defaults.approvals.group: no operator group 'nobody'");

	accepted("with a validity period", rule("{\"not_before\": 1700000000, \"not_after\": 1900000000}"));
	accepted("with a one-second validity", rule("{\"not_before\": 1700000000, \"not_after\": 1700000000}"));
	refused("ending before it starts", rule("{\"not_before\": 1900000000, \"not_after\": 1700000000}"),
		"policy.keys.platform.not_after: before not_before");
	refused("with a negative not_before", rule("{\"not_before\": -1}"),
		"policy.keys.platform.not_before: must be from 0 to 253402300799");
	refused("with not_after past 9999", rule("{\"not_after\": 253402300800}"),
		"policy.keys.platform.not_after: must be from 0 to 253402300799");
	refused("with a time as text", rule("{\"not_after\": \"2030-01-01T00:00:00Z\"}"),
		"policy.keys.platform.not_after: must be an integer");

	accepted("with a build node quota",
		 set(base(), "", "build_nodes",
		     json_pack("{s:{s:{s:i, s:i}}}", NODE_A, "quota", "window_seconds", 60, "max_operations", 5)));
	refused("with a lower-case build node",
		set(base(), "", "build_nodes",
		    json_pack("{s:{s:{s:i, s:i}}}", "766b1d0ee6e9502434d46c14812fcb67f39f41a6", "quota", "window_seconds",
			      60, "max_operations", 5)),
		"policy.build_nodes: '766b1d0ee6e9502434d46c14812fcb67f39f41a6' is not an OpenPGP fingerprint");
	refused("with a build node without quota", set(base(), "", "build_nodes", json_pack("{s:{}}", NODE_A)),
		"policy.build_nodes." NODE_A ".quota: missing");
	refused("with a build node field unknown",
		set(base(), "", "build_nodes", json_pack("{s:{s:b}}", NODE_A, "trusted", 1)),
		"policy.build_nodes." NODE_A ": unknown field 'trusted'");
	refused("with a build node zero window",
		set(base(), "", "build_nodes",
		    json_pack("{s:{s:{s:i, s:i}}}", NODE_A, "quota", "window_seconds", 0, "max_operations", 5)),
		"policy.build_nodes." NODE_A ".quota.window_seconds: must be from 1");
	refused("with a build node as a list", set(base(), "", "build_nodes", json_pack("{s:[]}", NODE_A)),
		"policy.build_nodes." NODE_A ": must be an object");
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                          */

static void test_no_policy(void)
{
	struct rombsr_policy_verdict v;
	int r;

	reset_request();
	r = rombsr_policy_evaluate(NULL, &req, NOW, NULL, &v);
	CHECK(r == 0 && !v.allowed && strcmp(v.code, "no-policy") == 0 && strstr(v.message, "policy/policy.json"),
	      "no policy file: nothing is signed (%s)", v.message);
	allowed("a key with an empty rule", base(), NULL);
	add_op("media", "CKM_SHA256_RSA_PKCS", "/usr/bin/pkcs11-tool");
	denied("a key with no rule and no defaults", base(), NULL, "no-policy", 2,
	       "has no rule and the policy has no defaults (policy 3)");
	allowed("a key with no rule, with defaults", set(base(), "", "defaults", json_object()), NULL);
	denied("a key with no rule, defaults refusing user builds",
	       set(base(), "", "defaults", json_pack("{s:[s]}", "build_types", "eng")), NULL, "policy-build-type", 2,
	       "may not sign user builds");
	reset_request();
	denied("a disabled key", rule("{\"disabled\": true}"), NULL, "policy-key-disabled", 0, "is disabled");
	/* A key's own rule replaces the defaults entirely. */
	allowed("a listed key ignores the defaults",
		set(base(), "", "defaults", json_pack("{s:[s]}", "build_types", "eng")), NULL);
}

static void test_rules(void)
{
	reset_request();
	allowed("build type listed", rule("{\"build_types\": [\"userdebug\", \"user\"]}"), NULL);
	denied("build type not listed", rule("{\"build_types\": [\"userdebug\", \"eng\"]}"), NULL, "policy-build-type", 0,
	       "may not sign user builds");

	allowed("build node listed", rule("{\"build_nodes\": [\"" NODE_B "\", \"" NODE_A "\"]}"), NULL);
	denied("build node not listed", rule("{\"build_nodes\": [\"" NODE_B "\"]}"), NULL, "policy-build-node", 0,
	       "may not sign for build node " NODE_A);

	allowed("program by absolute path", rule("{\"programs\": [\"/usr/bin/pkcs11-tool\"]}"), NULL);
	allowed("program by bare name", rule("{\"programs\": [\"java\", \"pkcs11-tool\"]}"), NULL);
	denied("program at another path", rule("{\"programs\": [\"/usr/local/bin/pkcs11-tool\"]}"), NULL,
	       "policy-program", 0, "may not sign for program '/usr/bin/pkcs11-tool'");
	snprintf(ops[1].program, sizeof(ops[1].program), "/usr/bin/openssl");
	denied("second operation by another program", rule("{\"programs\": [\"pkcs11-tool\"]}"), NULL, "policy-program",
	       1, "'/usr/bin/openssl'");
	ops[1].program[0] = '\0';
	denied("operation naming no program", rule("{\"programs\": [\"pkcs11-tool\"]}"), NULL, "policy-program", 1,
	       "the operation names none");

	reset_request();
	add_op("platform", "CKM_SHA256_RSA_PKCS_PSS", "/usr/bin/pkcs11-tool");
	allowed("mechanisms listed", rule("{\"mechanisms\": [\"CKM_SHA256_RSA_PKCS_PSS\", \"CKM_SHA256_RSA_PKCS\"]}"),
		NULL);
	denied("mechanism not listed", rule("{\"mechanisms\": [\"CKM_SHA256_RSA_PKCS\"]}"), NULL, "policy-mechanism", 2,
	       "may not sign with CKM_SHA256_RSA_PKCS_PSS");

	reset_request();
	add_artifact("out/vbmeta_system.img");
	allowed("every artifact matches", rule("{\"artifacts\": [\"out/vbmeta_*.img\", \"out/system.img\"]}"), NULL);
	denied("an artifact matches nothing", rule("{\"artifacts\": [\"out/system.img\"]}"), NULL, "policy-artifact", 0,
	       "may not sign for artifact 'out/vbmeta_system.img'");
	reset_request();
	arts[0] = (struct rombsr_artifact){.name = "out/sub/system.img"};
	denied("'*' does not cross a folder", rule("{\"artifacts\": [\"out/*.img\"]}"), NULL, "policy-artifact", 0,
	       "'out/sub/system.img'");
	allowed("'*/' names the folder level", rule("{\"artifacts\": [\"out/*/*.img\"]}"), NULL);
	req.nartifacts = 0;
	denied("a request with no artifact", rule("{\"artifacts\": [\"*\"]}"), NULL, "policy-artifact", 0,
	       "the request lists none");

	reset_request();
	add_op("platform", "CKM_SHA256_RSA_PKCS", "/usr/bin/pkcs11-tool");
	allowed("max_operations reached exactly", rule("{\"max_operations\": 3}"), NULL);
	denied("max_operations exceeded", rule("{\"max_operations\": 2}"), NULL, "policy-max-operations", 2,
	       "would sign more than 2 operations in one request");
	add_op("media", "CKM_SHA256_RSA_PKCS", "/usr/bin/pkcs11-tool");
	allowed("max_operations counts one key only",
		set(rule("{\"max_operations\": 3}"), "keys", "media", json_pack("{s:i}", "max_operations", 1)), NULL);

	reset_request();
	allowed("inside the validity period", rule("{\"not_before\": 1799999999, \"not_after\": 1800000000}"), NULL);
	denied("before not_before", rule("{\"not_before\": 1800000001}"), NULL, "policy-not-yet-valid", 0,
	       "may sign only from 2027-01-15T08:00:01Z");
	denied("after not_after", rule("{\"not_after\": 1799999999}"), NULL, "policy-expired", 0,
	       "could sign only until 2027-01-15T07:59:59Z");
}

/* The first key to break a rule is reported, at its first operation. */
static void test_order(void)
{
	reset_request();
	ops[0] = ops[1];
	snprintf(ops[0].op.label, sizeof(ops[0].op.label), "media");
	denied("first operation's key reported first",
	       set(rule("{\"build_types\": [\"eng\"]}"), "keys", "media", json_pack("{s:[s]}", "build_types", "eng")),
	       NULL, "policy-build-type", 0, "may not sign user builds");
	denied("the failing key at its first operation",
	       set(rule("{\"build_types\": [\"eng\"]}"), "keys", "media", json_object()), NULL, "policy-build-type", 1,
	       "user build");
}

static void test_quotas(void)
{
	struct rombsr_quota_ledger *l;
	struct rombsr_quota_use platform2 = {"platform", 2}, media5 = {"media", 5};
	struct rombsr_policy_verdict v;
	const char *q3 = "{\"quota\": {\"window_seconds\": 3600, \"max_operations\": 3}}";
	const char *q4 = "{\"quota\": {\"window_seconds\": 3600, \"max_operations\": 4}}";
	int r;

	reset_request();
	r = evaluate(rule(q3), NULL, &v);
	CHECK(r == ROMBSR_EINVAL && strstr(rombsr_error_message(r), "no quota ledger"),
	      "a quota without a ledger is an error, not a verdict (%s)", rombsr_error_message(r));
	if (rombsr_quota_ledger_new(&l) < 0) {
		CHECK(false, "ledger");
		return;
	}
	allowed("key quota, empty ledger", rule(q3), l);
	rombsr_quota_ledger_add(l, NOW - 100, ID2, NODE_B, &platform2, 1);
	denied("key quota exceeded", rule(q3), l, "policy-quota-key", 1,
	       "would exceed its quota of 3 operations in 3600 s (2 signed already)");
	allowed("key quota reached exactly", rule(q4), l);
	allowed("key quota, the earlier request out of the window",
		rule("{\"quota\": {\"window_seconds\": 100, \"max_operations\": 3}}"), l);
	rombsr_quota_ledger_close(l);

	/* The request's own earlier record (a crash before publishing) does
	 * not count against it. */
	rombsr_quota_ledger_new(&l);
	rombsr_quota_ledger_add(l, NOW - 10, ID, NODE_A, &platform2, 1);
	allowed("key quota, own earlier record left out", rule(q3), l);
	rombsr_quota_ledger_add(l, NOW - 5, ID2, NODE_A, &platform2, 1);
	denied("key quota, room for one", rule(q3), l, "policy-quota-key", 1, "(2 signed already)");
	denied("key quota, room for none", rule("{\"quota\": {\"window_seconds\": 3600, \"max_operations\": 2}}"), l,
	       "policy-quota-key", 0, "(2 signed already)");
	rombsr_quota_ledger_close(l);

	rombsr_quota_ledger_new(&l);
	rombsr_quota_ledger_add(l, NOW - 10, ID2, NODE_A, &media5, 1);
	allowed("key quota counts its own key only", rule(q3), l);
	allowed("node quota reached exactly",
		set(base(), "", "build_nodes",
		    json_pack("{s:{s:{s:i, s:i}}}", NODE_A, "quota", "window_seconds", 60, "max_operations", 7)),
		l);
	denied("node quota exceeded",
	       set(base(), "", "build_nodes",
		   json_pack("{s:{s:{s:i, s:i}}}", NODE_A, "quota", "window_seconds", 60, "max_operations", 6)),
	       l, "policy-quota-node", 1, "would take build node " NODE_A " past its quota of 6 operations in 60 s");
	allowed("another node's quota does not apply",
		set(base(), "", "build_nodes",
		    json_pack("{s:{s:{s:i, s:i}}}", NODE_B, "quota", "window_seconds", 60, "max_operations", 1)),
		l);
	allowed("node quota, the earlier request out of the window",
		set(base(), "", "build_nodes",
		    json_pack("{s:{s:{s:i, s:i}}}", NODE_A, "quota", "window_seconds", 10, "max_operations", 2)),
		l);
	/* Defaults count per key: media's use does not count for platform. */
	allowed("defaults quota is per key",
		del(set(base(), "", "defaults", json_pack("{s:{s:i, s:i}}", "quota", "window_seconds", 60,
							   "max_operations", 2)),
		    "keys", "platform"),
		l);
	rombsr_quota_ledger_close(l);
}

static void test_approvals_needed(void)
{
	struct rombsr_policy_verdict v;
	json_t *doc;
	int r;

	reset_request();
	r = evaluate(base(), NULL, &v);
	CHECK(r == 0 && v.allowed && v.nneeds == 0, "no approvals asked: none needed");
	add_op("media", "CKM_SHA256_RSA_PKCS", "/usr/bin/pkcs11-tool");
	add_op("avb_root", "CKM_SHA256_RSA_PKCS", "/usr/bin/pkcs11-tool");
	doc = rule("{\"approvals\": {\"required\": 1, \"group\": \"release-managers\"}}");
	set(doc, "keys", "media", json_pack("{s:{s:i, s:s}}", "approvals", "required", 2, "group", "release-managers"));
	set(doc, "keys", "avb_root", json_pack("{s:{s:i, s:s}}", "approvals", "required", 1, "group", "security"));
	r = evaluate(doc, NULL, &v);
	CHECK(r == 0 && v.allowed && v.nneeds == 2, "two groups asked: two needs (%zu)", v.nneeds);
	CHECK(r == 0 && strcmp(v.needs[0].group, "release-managers") == 0 && v.needs[0].required == 2 &&
		      strcmp(v.needs[0].key, "media") == 0,
	      "one group asked by two keys: the larger M, naming its key");
	CHECK(r == 0 && strcmp(v.needs[1].group, "security") == 0 && v.needs[1].required == 1 &&
		      strcmp(v.needs[1].key, "avb_root") == 0,
	      "the other group on its own");
	doc = rule("{\"approvals\": {\"required\": 1, \"group\": \"release-managers\"}, \"build_types\": [\"eng\"]}");
	r = evaluate(doc, NULL, &v);
	CHECK(r == 0 && !v.allowed && v.nneeds == 0, "a refusal needs no approvals");
}

int main(void)
{
	test_example();
	test_parse_shape();
	test_parse_groups();
	test_parse_rules();
	test_parse_quota_approvals_times();
	test_no_policy();
	test_rules();
	test_order();
	test_quotas();
	test_approvals_needed();
	return tap_done();
}
