/* The key set as data (docs/formats/keyset.md): the built-in set, the
 * example of the page, labels and their file names, and every refusal,
 * each naming the key and leaving nothing loaded. */
#include "tap.h"

#include "../../src/common/buf.h"
#include "../../src/common/config.h"
#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"
#include "../../src/common/keyset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEAD "{\"format\": \"rombsr.keyset\", \"version\": 1, \"keys\": ["
#define PLATFORM "{\"label\": \"platform\", \"algorithm\": \"rsa-4096\", \"authority\": \"release\", \"purpose\": \"p\"}"

static char dir[] = "/tmp/rombsr-unit-keyset.XXXXXX";

static void refused(const char *name, const char *text, int code, const char *want)
{
	struct rombsr_keyset ks;
	int r = rombsr_keyset_parse(text, strlen(text), "keyset.json", &ks);

	CHECK(tap_fails(r, code, want), "%s refused, naming it", name);
	CHECK(ks.entries == NULL && ks.len == 0, "%s: nothing half-loaded", name);
}

static void builtin(void)
{
	const struct rombsr_keyset *ks = rombsr_keyset_current();
	const struct rombsr_keyset_entry *e;

	CHECK(ks->len == 12, "the built-in set has the 12 keys of the architecture (%zu)", ks->len);
	e = rombsr_keyset_find("testkey");
	CHECK(e != NULL && e->development && e->kind == ROMBSR_KEY_RSA && e->bits == 4096 &&
		      e->authority == ROMBSR_AUTHORITY_RELEASE,
	      "testkey: RSA-4096, release, development only");
	e = rombsr_keyset_find("manifest");
	CHECK(e != NULL && e->kind == ROMBSR_KEY_EC_P256 && e->authority == ROMBSR_AUTHORITY_MANIFEST && !e->development,
	      "manifest: EC P-256 of the manifest authority");
	e = rombsr_keyset_find("audit");
	CHECK(e != NULL && e->authority == ROMBSR_AUTHORITY_AUDIT, "audit: the audit authority's key");
	CHECK(rombsr_keyset_find("nokey") == NULL, "an unknown label is not found");
}

static void labels(void)
{
	static const char *const good[] = {"platform", "sdk_sandbox", "devices/walleye/platform", "a", "v1.2-x",
					   "devices/0x/b_c", NULL};
	static const char *const bad[] = {"", "Platform", "devices//platform", "/platform", "platform/", "../x",
					  "devices/../x", "devices/./x", ".hidden", "_x", "-x", "a+b", "a b", "a\\b",
					  "devices/-x/y", NULL};
	char file[ROMBSR_KEYSET_LABEL_MAX + 1], longest[ROMBSR_KEYSET_LABEL_MAX + 2];

	for (size_t i = 0; good[i] != NULL; i++)
		CHECK(rombsr_keyset_label_ok(good[i]), "label '%s' allowed", good[i]);
	for (size_t i = 0; bad[i] != NULL; i++)
		CHECK(!rombsr_keyset_label_ok(bad[i]), "label '%s' refused", bad[i]);
	memset(longest, 'a', sizeof(longest));
	longest[ROMBSR_KEYSET_LABEL_MAX] = '\0';
	CHECK(rombsr_keyset_label_ok(longest), "a label of 64 bytes allowed");
	longest[ROMBSR_KEYSET_LABEL_MAX] = 'a';
	longest[ROMBSR_KEYSET_LABEL_MAX + 1] = '\0';
	CHECK(!rombsr_keyset_label_ok(longest), "a label of 65 bytes refused");
	rombsr_keyset_label_file("devices/walleye/platform", file);
	CHECK(strcmp(file, "devices+walleye+platform") == 0, "'/' maps to '+' in file names (%s)", file);
	rombsr_keyset_label_file("platform", file);
	CHECK(strcmp(file, "platform") == 0, "a plain label is its own file name");
}

/* hsm-rotate-keys' retired labels: "<label>@<16 lower-case hex>". */
static void retired(void)
{
	static const char *const bad[] = {"platform@0123456789abcde", "platform@0123456789abcdef0",
					  "platform@0123456789ABCDEF", "@0123456789abcdef", "Platform@0123456789abcdef",
					  "a@b@0123456789abcdef", "platform@", NULL};
	const char *fpr = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char out[ROMBSR_KEYSET_LABEL_MAX + 1], base[ROMBSR_KEYSET_LABEL_MAX + 1], longest[ROMBSR_KEYSET_LABEL_MAX + 1];

	CHECK(rombsr_keyset_retired_label("devices/walleye/platform", fpr, out) &&
		      strcmp(out, "devices/walleye/platform@0123456789abcdef") == 0,
	      "the retired label of a key (%s)", out);
	CHECK(rombsr_keyset_retired_base(out, base) && strcmp(base, "devices/walleye/platform") == 0,
	      "and its key-set label back");
	CHECK(!rombsr_keyset_label_ok(out) && rombsr_keyset_any_label_ok(out),
	      "a retired label is no key-set label, but a label of a bundle");
	for (size_t i = 0; bad[i] != NULL; i++)
		CHECK(!rombsr_keyset_retired_base(bad[i], base) && !rombsr_keyset_any_label_ok(bad[i]),
		      "'%s' is no retired label", bad[i]);
	memset(longest, 'a', sizeof(longest));
	longest[ROMBSR_KEYSET_LABEL_MAX - 1 - ROMBSR_KEYSET_RETIRED_HEX] = '\0';
	CHECK(rombsr_keyset_retired_label(longest, fpr, out) && strlen(out) == ROMBSR_KEYSET_LABEL_MAX,
	      "a label of 47 bytes has a retired label of 64");
	longest[ROMBSR_KEYSET_LABEL_MAX - 1 - ROMBSR_KEYSET_RETIRED_HEX] = 'a';
	longest[ROMBSR_KEYSET_LABEL_MAX - ROMBSR_KEYSET_RETIRED_HEX] = '\0';
	CHECK(!rombsr_keyset_retired_label(longest, fpr, out), "a label of 48 bytes has none (it would not fit)");
}

static void example(void)
{
	char *text = tap_top_file("tests/vectors/keyset-example.json");
	char *builtin_text = tap_top_file("src/common/keyset_default.json");
	char *doc = tap_top_file("docs/formats/keyset.md");
	struct rombsr_keyset ks;
	const struct rombsr_keyset_entry *e;
	int r;

	CHECK(text != NULL && builtin_text != NULL && doc != NULL, "example, default file and documentation read");
	if (text == NULL || builtin_text == NULL || doc == NULL)
		goto out;
	CHECK(strstr(doc, text) != NULL, "docs/formats/keyset.md shows tests/vectors/keyset-example.json verbatim");
	CHECK(strstr(doc, builtin_text) != NULL, "docs/formats/keyset.md shows the built-in set verbatim");
	r = rombsr_keyset_parse(text, strlen(text), "keyset-example.json", &ks);
	CHECK(r == 0, "the documented example parses: %s", r < 0 ? rombsr_error_message(r) : "ok");
	if (r < 0)
		goto out;
	CHECK(ks.len == 7, "seven keys");
	e = rombsr_keyset_lookup(&ks, "devices/walleye/platform");
	CHECK(e != NULL && e->kind == ROMBSR_KEY_RSA && e->bits == 2048 && strcmp(e->purpose, "walleye system apps") == 0,
	      "a per-device RSA-2048 key");
	e = rombsr_keyset_lookup(&ks, "devices/walleye/testkey");
	CHECK(e != NULL && e->development, "a per-device development key");
	e = rombsr_keyset_lookup(&ks, "manifest");
	CHECK(e != NULL && e->kind == ROMBSR_KEY_EC_P256 && e->bits == 256, "the manifest key, P-256");
	e = rombsr_keyset_lookup(&ks, "devices/taimen/attestation");
	CHECK(e != NULL && e->kind == ROMBSR_KEY_EC_P384 && e->bits == 384, "a per-device P-384 key");
	rombsr_keyset_free(&ks);
	rombsr_keyset_free(&ks);
	CHECK(ks.len == 0, "freeing twice is harmless");
out:
	free(text);
	free(builtin_text);
	free(doc);
}

/* Each algorithm of the set, as keygen, the bundle, the backup and the
 * audit log name it, with the curve a token reports for it. */
static void algorithms(void)
{
	static const struct {
		const char *name;
		enum rombsr_key_kind kind;
		unsigned bits;
		const char *group;
		size_t ec_bytes;
	} want[] = {
		{"rsa-2048", ROMBSR_KEY_RSA, 2048, NULL, 0},
		{"rsa-4096", ROMBSR_KEY_RSA, 4096, NULL, 0},
		{"ec-p256", ROMBSR_KEY_EC_P256, 256, "prime256v1", 32},
		{"ec-p384", ROMBSR_KEY_EC_P384, 384, "secp384r1", 48},
	};
	static const unsigned char p384_oid[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
	static const unsigned char p521_oid[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		enum rombsr_key_kind kind = ROMBSR_KEY_RSA, back = ROMBSR_KEY_RSA;
		unsigned bits = 0;
		char name[16];
		size_t len = 0;
		const unsigned char *oid;
		int r = rombsr_keyset_algorithm_from_name(want[i].name, &kind, &bits);

		rombsr_key_algorithm_name(kind, bits, name);
		CHECK(r == 0 && kind == want[i].kind && bits == want[i].bits && strcmp(name, want[i].name) == 0,
		      "%s: parsed and named back (%s)", want[i].name, name);
		CHECK(rombsr_key_kind_ec_bytes(kind) == want[i].ec_bytes &&
			      (want[i].group == NULL ? rombsr_key_kind_ec_group(kind) == NULL
						     : strcmp(rombsr_key_kind_ec_group(kind), want[i].group) == 0),
		      "%s: %zu-byte coordinates, curve %s", want[i].name, want[i].ec_bytes,
		      want[i].group ? want[i].group : "none");
		if (want[i].group == NULL)
			continue;
		oid = rombsr_key_kind_ec_params(kind, &len);
		CHECK(rombsr_key_kind_from_ec_params(oid, len, &back) == 0 && back == kind &&
			      rombsr_key_kind_from_ec_group(want[i].group, &back) == 0 && back == kind &&
			      rombsr_key_kind_ec_bits(kind) == bits,
		      "%s: CKA_EC_PARAMS and the group name give the kind back", want[i].name);
	}
	{
		size_t len = 0;
		const unsigned char *oid = rombsr_key_kind_ec_params(ROMBSR_KEY_EC_P384, &len);
		enum rombsr_key_kind kind;

		CHECK(len == sizeof(p384_oid) && memcmp(oid, p384_oid, len) == 0, "P-384's CKA_EC_PARAMS is secp384r1's OID");
		CHECK(rombsr_key_kind_from_ec_params(p521_oid, sizeof(p521_oid), &kind) == ROMBSR_ENOTFOUND &&
			      rombsr_key_kind_from_ec_group("secp521r1", &kind) == ROMBSR_ENOTFOUND,
		      "P-521 is no kind of key");
	}
}

static void refusals(void)
{
	refused("a duplicate label", HEAD PLATFORM "," PLATFORM "]}", ROMBSR_EINVAL,
		"keys[1]: duplicate label 'platform' (also keys[0])");
	refused("an unknown algorithm",
		HEAD "{\"label\": \"x\", \"algorithm\": \"rsa-1024\", \"authority\": \"release\", \"purpose\": \"p\"}]}",
		ROMBSR_EINVAL, "key 'x': unknown algorithm 'rsa-1024'");
	refused("a P-384 audit key",
		HEAD "{\"label\": \"audit\", \"algorithm\": \"ec-p384\", \"authority\": \"audit\", \"purpose\": \"p\"}]}",
		ROMBSR_EINVAL, "key 'audit': the audit authority holds one key, 'audit', ec-p256");
	refused("an unknown authority",
		HEAD "{\"label\": \"x\", \"algorithm\": \"rsa-2048\", \"authority\": \"ota\", \"purpose\": \"p\"}]}",
		ROMBSR_EINVAL, "key 'x': unknown authority 'ota'");
	refused("a bad label",
		HEAD "{\"label\": \"devices/../x\", \"algorithm\": \"rsa-2048\", \"authority\": \"release\", "
		     "\"purpose\": \"p\"}]}",
		ROMBSR_EINVAL, "keyset.json.keys[0]: label 'devices/../x' is not allowed");
	refused("an upper-case label",
		HEAD "{\"label\": \"Platform\", \"algorithm\": \"rsa-2048\", \"authority\": \"release\", \"purpose\": \"p\"}]}",
		ROMBSR_EINVAL, "label 'Platform' is not allowed");
	refused("an unknown field",
		HEAD "{\"label\": \"x\", \"algorithm\": \"rsa-2048\", \"authority\": \"release\", \"purpose\": \"p\", "
		     "\"bits\": 2048}]}",
		ROMBSR_EINVAL, "key 'x': keyset.json.keys[0]: unknown field 'bits'");
	refused("an unknown top-level field", HEAD PLATFORM "], \"extra\": 1}", ROMBSR_EINVAL, "unknown field 'extra'");
	refused("a missing purpose",
		HEAD "{\"label\": \"x\", \"algorithm\": \"rsa-2048\", \"authority\": \"release\"}]}", ROMBSR_EINVAL,
		"key 'x': keyset.json.keys[0].purpose: missing");
	refused("a development flag that is not a boolean",
		HEAD "{\"label\": \"x\", \"algorithm\": \"rsa-2048\", \"authority\": \"release\", \"purpose\": \"p\", "
		     "\"development\": 1}]}",
		ROMBSR_EINVAL, "key 'x'");
	refused("a second audit key",
		HEAD "{\"label\": \"audit2\", \"algorithm\": \"ec-p256\", \"authority\": \"audit\", \"purpose\": \"p\"}]}",
		ROMBSR_EINVAL, "the audit authority holds one key, 'audit', ec-p256");
	refused("an RSA audit key",
		HEAD "{\"label\": \"audit\", \"algorithm\": \"rsa-2048\", \"authority\": \"audit\", \"purpose\": \"p\"}]}",
		ROMBSR_EINVAL, "the audit authority holds one key");
	refused("an audit key of another authority",
		HEAD "{\"label\": \"audit\", \"algorithm\": \"ec-p256\", \"authority\": \"release\", \"purpose\": \"p\"}]}",
		ROMBSR_EINVAL, "key 'audit' must belong to the audit authority");
	refused("an empty set", HEAD "]}", ROMBSR_EINVAL, "the key set is empty");
	refused("another format", "{\"format\": \"rombsr.policy\", \"version\": 1, \"keys\": []}", ROMBSR_EINVAL,
		"format is not \"rombsr.keyset\"");
	refused("another version", "{\"format\": \"rombsr.keyset\", \"version\": 2, \"keys\": []}", ROMBSR_EUNSUPPORTED,
		"unsupported version");
	refused("a duplicate JSON key", "{\"format\": \"rombsr.keyset\", \"format\": \"rombsr.keyset\"}", ROMBSR_EINVAL,
		"duplicate");
	refused("not JSON", "keys: platform", ROMBSR_EINVAL, "keyset.json line 1");
	refused("not an object", "[]", ROMBSR_EINVAL, "format is not");
	refused("a key that is not an object", HEAD "\"platform\"]}", ROMBSR_EINVAL, "keys[0]: not an object");
}

/* keyset.file in the configuration makes a file the current set; a bad
 * file fails the whole configuration, naming both. */
static void through_config(void)
{
	char conf[256], set[256], badset[256];
	struct rombsr_config cfg;
	FILE *f;
	int r;

	snprintf(set, sizeof(set), "%s/set.json", dir);
	snprintf(badset, sizeof(badset), "%s/bad.json", dir);
	snprintf(conf, sizeof(conf), "%s/rombsr.conf", dir);
	f = fopen(set, "w");
	fputs(HEAD PLATFORM ", {\"label\": \"devices/walleye/media\", \"algorithm\": \"ec-p256\", \"authority\": "
		   "\"release\", \"purpose\": \"m\"}]}",
	      f);
	fclose(f);
	f = fopen(badset, "w");
	fputs(HEAD PLATFORM "," PLATFORM "]}", f);
	fclose(f);
	f = fopen(conf, "w");
	fprintf(f, "[keyset]\n\tfile = %s\n", set);
	fclose(f);
	r = rombsr_config_load(conf, &cfg);
	CHECK(r == 0, "a configuration naming a key-set file loads");
	CHECK(rombsr_keyset_current()->len == 2 && rombsr_keyset_find("devices/walleye/media") != NULL &&
		      rombsr_keyset_find("testkey") == NULL,
	      "its key set is the current one");
	if (r == 0)
		rombsr_config_free(&cfg);
	f = fopen(conf, "w");
	fprintf(f, "[keyset]\n\tfile = %s\n", badset);
	fclose(f);
	r = rombsr_config_load(conf, &cfg);
	CHECK(tap_fails(r, ROMBSR_EINVAL, "keyset.file: ") && strstr(rombsr_error_message(r), "duplicate label") != NULL,
	      "a bad key-set file fails the configuration, naming the key");
	CHECK(rombsr_keyset_find("devices/walleye/media") != NULL, "the set in use stays as it was");
	r = rombsr_keyset_use_file(NULL);
	CHECK(r == 0 && rombsr_keyset_current()->len == 12, "back to the built-in set");
	unlink(set);
	unlink(badset);
	unlink(conf);
}

int main(void)
{
	if (mkdtemp(dir) == NULL)
		abort();
	unsetenv("ROMBSR_CONFIG");
	builtin();
	labels();
	retired();
	example();
	algorithms();
	refusals();
	through_config();
	rmdir(dir);
	return tap_done();
}
