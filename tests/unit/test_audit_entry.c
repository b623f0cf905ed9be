/* Canonical audit entry encoding, version 1, and its strict decoder. */
#include "tap.h"

#include "../../src/audit/entry.h"
#include "../../src/common/error.h"

#include <stdio.h>
#include <string.h>

/* The example of docs/audit-log.md: keep both in step. */
static const char signature_example[] =
	"{\"artifact_sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
	"\"digest\":\"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\","
	"\"index\":7,"
	"\"key_fingerprint\":\"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\","
	"\"key_label\":\"platform\",\"mechanism\":\"rsa-pkcs1-sha256\","
	"\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\","
	"\"request_commit\":\"3f786850e387550fdab836ed7e6dc881de23001b\",\"request_id\":\"req-2024-0001\","
	"\"signature_sha256\":\"fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9\","
	"\"time\":1718000000,\"type\":\"signature\",\"v\":1}";

static void fill_signature(struct rombsr_audit_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->type = ROMBSR_AUDIT_SIGNATURE;
	e->index = 7;
	e->time = 1718000000;
	strcpy(e->request_id, "req-2024-0001");
	strcpy(e->request_commit, "3f786850e387550fdab836ed7e6dc881de23001b");
	strcpy(e->artifact_sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	strcpy(e->key_fingerprint, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
	strcpy(e->key_label, "platform");
	strcpy(e->mechanism, "rsa-pkcs1-sha256");
	strcpy(e->digest, "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae");
	strcpy(e->signature_sha256, "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9");
}

static int decode_str(const char *s, struct rombsr_audit_entry *e)
{
	return rombsr_audit_entry_decode(s, strlen(s), e);
}

/* all[8..14]: the types that joined version 1 later. */
static void fill_later_types(struct rombsr_audit_entry *all, const struct rombsr_audit_entry *e)
{
	/* understood: with a content digest (an APK's), and without (a vbmeta's) */
	for (int i = 8; i < 10; i++) {
		all[i].type = ROMBSR_AUDIT_UNDERSTOOD;
		strcpy(all[i].request_id, "r3");
		strcpy(all[i].key_label, i == 8 ? "platform" : "avb_root");
		strcpy(all[i].kind, i == 8 ? "apk-signed-data" : "avb-vbmeta");
		strcpy(all[i].digest, e->digest);
		strcpy(all[i].detail, "rollback index 2 at location 0; partitions: boot (hash)");
	}
	memset(all[8].content_digest, 'a', 128);
	all[10].type = ROMBSR_AUDIT_KEY_REVOCATION;
	strcpy(all[10].commit, e->request_commit);
	strcpy(all[10].key_fingerprint, e->key_fingerprint);
	strcpy(all[10].key_label, "media");
	strcpy(all[10].token, "rombsr-release");
	strcpy(all[10].detail, "media key exposed");
	all[11].type = ROMBSR_AUDIT_FREEZE;
	strcpy(all[11].commit, e->request_commit);
	strcpy(all[11].state, "frozen");
	strcpy(all[11].detail, "build node 2 compromised");
	all[12].type = ROMBSR_AUDIT_SERVER_CLIENT;
	strcpy(all[12].request_id, "r4");
	strcpy(all[12].commit, e->request_commit);
	strcpy(all[12].client_certificate, e->key_fingerprint);
	strcpy(all[12].build_node, "a31f5eea65670a07a3b429dbd5bc2225de6cd5ec");
	strcpy(all[12].route, "/v1/sign");
	all[13].type = ROMBSR_AUDIT_DEVICE_LOG;
	strcpy(all[13].token, "yubihsm-1234567");
	strcpy(all[13].digest, "000c470020000301020000c70000a1b2e4f1c0d2a3b4c5d6e7f8091a2b3c4d5e");
	strcpy(all[13].request_id, "r4");
	strcpy(all[13].key_label, "platform");
	strcpy(all[13].detail, "number 12 command 0x47 length 32 session key 0x0003 target 0x0102 second 0x0000 "
			       "result 0xc7");
	all[14].type = ROMBSR_AUDIT_DEVICE_LOG_ANOMALY;
	strcpy(all[14].token, "yubihsm-1234567");
	strcpy(all[14].reason, "gap");
	strcpy(all[14].detail, "entry 40 follows 12: 27 entries are missing");
}

static void test_roundtrip(void)
{
	struct rombsr_audit_entry e, d;
	struct rombsr_buf b;
	int r;

	fill_signature(&e);
	r = rombsr_audit_entry_encode(&e, &b);
	CHECK(r == 0 && b.len == strlen(signature_example) &&
		      memcmp(b.data, signature_example, b.len) == 0,
	      "signature entry encodes to the documented bytes:\n%s", rombsr_buf_cstr(&b));
	CHECK(decode_str(signature_example, &d) == 0 && memcmp(&d, &e, sizeof(e)) == 0, "and decodes back");
	rombsr_buf_free(&b);

	/* Every type round-trips. */
	{
		struct rombsr_audit_entry all[15];
		int ok = 0;

		memset(all, 0, sizeof(all));
		all[0].type = ROMBSR_AUDIT_REQUEST_SIGNED;
		strcpy(all[0].request_id, "r1");
		strcpy(all[0].request_commit, e.request_commit);
		all[0].signatures = 3;
		all[1].type = ROMBSR_AUDIT_REQUEST_REJECTED;
		strcpy(all[1].request_id, "r2");
		strcpy(all[1].request_commit, e.request_commit);
		strcpy(all[1].reason, "testkey-in-release");
		strcpy(all[1].detail, "key 'testkey' may not sign channel 'release' (policy rule 4)");
		all[2] = e;
		all[3].type = ROMBSR_AUDIT_APPROVALS;
		strcpy(all[3].request_id, "r1");
		strcpy(all[3].request_commit, e.request_commit);
		all[3].required = 2;
		all[3].n_approvers = 2;
		strcpy(all[3].approvers[0], "1111111111111111111111111111111111111111");
		strcpy(all[3].approvers[1], "2222222222222222222222222222222222222222");
		all[4].type = ROMBSR_AUDIT_POLICY_APPLIED;
		strcpy(all[4].subject, "trust");
		strcpy(all[4].commit, e.request_commit);
		strcpy(all[4].sha256, e.digest);
		all[5].type = ROMBSR_AUDIT_KEY_GENERATED;
		strcpy(all[5].key_fingerprint, e.key_fingerprint);
		strcpy(all[5].key_label, "platform");
		strcpy(all[5].algorithm, "rsa-4096");
		strcpy(all[5].token, "rombsr-release");
		all[6].type = ROMBSR_AUDIT_KEY_REVOKED;
		strcpy(all[6].key_fingerprint, e.key_fingerprint);
		strcpy(all[6].key_label, "platform");
		strcpy(all[6].reason, "compromised");
		all[7].type = ROMBSR_AUDIT_HSM_LOGIN;
		strcpy(all[7].token, "rombsr-release");
		strcpy(all[7].role, "signing");
		strcpy(all[7].result, "ok");
		fill_later_types(all, &e);
		for (int i = 0; i < 15; i++) {
			all[i].index = (uint64_t)i;
			all[i].time = 1718000000;
			int rc = rombsr_audit_entry_encode(&all[i], &b);

			if (rc == 0)
				rc = rombsr_audit_entry_decode((const char *)b.data, b.len, &d);
			if (rc == 0 && memcmp(&d, &all[i], sizeof(d)) == 0)
				ok++;
			else
				printf("# type %d: %s\n", i, rombsr_error_message(rc));
			rombsr_buf_free(&b);
		}
		CHECK(ok == 15, "all 14 entry types round-trip, understood with and without a content digest (%d)", ok);
		CHECK(strcmp(rombsr_audit_type_name(ROMBSR_AUDIT_HSM_LOGIN), "hsm-login") == 0 &&
			      rombsr_audit_type_from_name("approvals") == ROMBSR_AUDIT_APPROVALS &&
			      rombsr_audit_type_from_name("nope") == ROMBSR_AUDIT_NONE,
		      "type names");
		all[3].n_approvers = 2;
		strcpy(all[3].approvers[1], "1111111111111111111111111111111111111111");
		CHECK(rombsr_audit_entry_encode(&all[3], &b) == ROMBSR_EINVAL, "approvers must be strictly ascending");
		strcpy(all[1].detail, "say \"hi\"");
		CHECK(rombsr_audit_entry_encode(&all[1], &b) == ROMBSR_EINVAL &&
			      strstr(rombsr_error_message(ROMBSR_EINVAL), "detail") != NULL,
		      "a quote in text refused, naming the field: %s", rombsr_error_message(ROMBSR_EINVAL));
		strcpy(all[7].result, "maybe");
		CHECK(rombsr_audit_entry_encode(&all[7], &b) == ROMBSR_EINVAL, "result outside ok/failed refused");
		strcpy(all[11].state, "paused");
		CHECK(rombsr_audit_entry_encode(&all[11], &b) == ROMBSR_EINVAL, "state outside frozen/thawed refused");
	}
	fill_signature(&e);
	strcpy(e.digest, "ABCD");
	CHECK(rombsr_audit_entry_encode(&e, &b) == ROMBSR_EINVAL, "upper-case hex refused on encode");
	/* A raw RSA-4096 block (CKM_RSA_X_509): 512 bytes, longer than any
	 * text field, must be measured whole. */
	for (size_t bytes = 512; bytes <= 1024; bytes += 512) {
		fill_signature(&e);
		memset(e.digest, 'f', 2 * bytes);
		e.digest[2 * bytes] = '\0';
		r = rombsr_audit_entry_encode(&e, &b);
		CHECK(r == 0, "a %zu-byte block encodes: %s", bytes, r == 0 ? "" : rombsr_error_message(r));
		CHECK(r == 0 && decode_str(rombsr_buf_cstr(&b), &d) == 0 && memcmp(&d, &e, sizeof(e)) == 0,
		      "and decodes back");
		if (r == 0)
			rombsr_buf_free(&b);
	}
	fill_signature(&e);
	e.type = ROMBSR_AUDIT_NONE;
	CHECK(rombsr_audit_entry_encode(&e, &b) == ROMBSR_EINVAL, "unknown type refused on encode");
}

static void replace(char *out, size_t cap, const char *in, const char *from, const char *to)
{
	const char *at = strstr(in, from);

	if (at == NULL) {
		snprintf(out, cap, "%s", "(no match)");
		return;
	}
	snprintf(out, cap, "%.*s%s%s", (int)(at - in), in, to, at + strlen(from));
}

static void test_strict(void)
{
	static const struct {
		const char *from, *to, *what;
	} edits[] = {
		{"{\"artifact", "{ \"artifact", "whitespace after {"},
		{"\"index\":7,", "\"index\": 7,", "whitespace after :"},
		{"\"index\":7,", "\"index\":7.0,", "a float index"},
		{"\"index\":7,", "\"index\":\"7\",", "a string index"},
		{"\"index\":7,", "\"index\":-7,", "a negative index"},
		{"\"index\":7,", "\"index\":07,", "a leading zero"},
		{"\"index\":7,", "", "a missing index"},
		{"\"key_label\":\"platform\",", "", "a missing type field"},
		{"\"key_label\":\"platform\",", "\"key_label\":\"platform\",\"key_label\":\"platform\",", "a duplicate key"},
		{"\"key_label\":\"platform\",", "\"extra\":1,\"key_label\":\"platform\",", "an unknown key"},
		{"\"key_label\":\"platform\",", "\"key_label\":\"plat\\u0066orm\",", "an escape sequence"},
		{"\"key_label\":\"platform\",", "\"key_label\":\"plat form\",", "a space in an id"},
		{"\"key_label\":\"platform\",\"mechanism\"", "\"mechanism\"", "keys out of order (moved)"},
		{"\"v\":1}", "\"v\":2}", "version 2"},
		{"\"v\":1}", "\"v\":1} ", "trailing space"},
		{"\"type\":\"signature\"", "\"type\":\"hsm-login\"", "fields of another type"},
		{"\"prev\":\"0000", "\"prev\":\"000", "a short prev"},
		{"9f86d081", "9F86D081", "upper-case hex"},
		{"\"time\":1718000000", "\"time\":1e9", "an exponent"},
		{"\"time\":1718000000", "\"time\":253402300800", "a time after 9999"},
	};
	struct rombsr_audit_entry e;
	char buf[4096];

	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		int r;

		replace(buf, sizeof(buf), signature_example, edits[i].from, edits[i].to);
		r = decode_str(buf, &e);
		CHECK(r == ROMBSR_EINVAL || r == ROMBSR_EUNSUPPORTED, "decoder refuses %s: %s", edits[i].what,
		      rombsr_error_message(r));
	}
	/* Reordered keys: move "v" to the front. */
	snprintf(buf, sizeof(buf), "{\"v\":1,%.*s}", (int)(strlen(signature_example) - 8), signature_example + 1);
	CHECK(decode_str(buf, &e) == ROMBSR_EINVAL &&
		      strstr(rombsr_error_message(ROMBSR_EINVAL), "canonical") != NULL,
	      "same object with keys out of order is not canonical: %s", rombsr_error_message(ROMBSR_EINVAL));
	CHECK(rombsr_audit_entry_decode(signature_example, strlen(signature_example) - 1, &e) == ROMBSR_EINVAL,
	      "truncated entry refused");
	CHECK(decode_str("[1]", &e) == ROMBSR_EINVAL && decode_str("", &e) == ROMBSR_EINVAL &&
		      decode_str("{\"v\":1}\n", &e) == ROMBSR_EINVAL,
	      "non-objects, empty input and newlines refused");
	{
		char big[ROMBSR_AUDIT_ENTRY_MAX + 2];

		memset(big, ' ', sizeof(big));
		big[0] = '{';
		CHECK(rombsr_audit_entry_decode(big, sizeof(big), &e) == ROMBSR_EINVAL, "oversized entry refused");
	}
	{
		/* A byte that is not valid UTF-8 inside a string. */
		replace(buf, sizeof(buf), signature_example, "platform", "plat\xff" "orm");
		CHECK(decode_str(buf, &e) == ROMBSR_EINVAL, "invalid UTF-8 refused");
	}
}

int main(void)
{
	test_roundtrip();
	test_strict();
	return tap_done();
}
