/* The release manifest and its DSSE envelope: the one canonical encoding,
 * strict refusals with their paths, PAE, sealing and opening with a P-256
 * key, and every way an envelope is refused. */
#include "tap.h"

#include "../../src/common/capture_format.h"
#include "../../src/common/error.h"
#include "../../src/manifest/envelope.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The payload of docs/formats/release-manifest.md's example. */
static const char canonical[] =
	"{\"artifacts\":[{\"name\":\"boot.img\",\"sha256\":"
	"\"deb055d836e44a1dcf0317b0cacac2dbdd36301f82abf787f7849d3f5b916750\",\"size\":5},"
	"{\"name\":\"system.img\",\"sha256\":\"fdb367d0b5784e6d3cf49d1fbf271d90ca47ad7a12f55e6332e6dbeb5efbaf12\","
	"\"size\":13}],\"device\":\"sample\",\"format\":\"rombsr.release-manifest\",\"product\":\"sample_phone\","
	"\"release_version\":\"1.0\",\"rollback_indexes\":[{\"index\":5,\"location\":0},{\"index\":2,\"location\":1}],"
	"\"time\":\"2026-09-21T14:13:20Z\",\"version\":1}";

/* canonical with the first from replaced by to. */
static char *edited(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	if (at == NULL || out == NULL) {
		free(out);
		return NULL;
	}
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

static void test_round_trip(void)
{
	struct rombsr_release_manifest m;
	struct rombsr_buf out = {0};
	int r = rombsr_release_manifest_parse(canonical, strlen(canonical), &m);

	CHECK(r == 0, "the example parses (%s)", rombsr_error_message(r));
	CHECK(strcmp(m.product, "sample_phone") == 0 && strcmp(m.device, "sample") == 0 &&
		      strcmp(m.release_version, "1.0") == 0 && m.time == 1790000000,
	      "product, device, version, time");
	CHECK(m.nartifacts == 2 && strcmp(m.artifacts[1].name, "system.img") == 0 && m.artifacts[1].size == 13 &&
		      m.artifacts[0].sha256[0] == 0xde,
	      "artifacts");
	CHECK(m.nrollback == 2 && m.rollback[0].location == 0 && m.rollback[0].index == 5 && m.rollback[1].index == 2,
	      "rollback indexes");
	r = rombsr_release_manifest_encode(&m, &out);
	CHECK(r == 0 && out.len == strlen(canonical) && memcmp(out.data, canonical, out.len) == 0,
	      "encode gives the same bytes back");
	rombsr_buf_free(&out);

	/* Given in any order, the release has one encoding. */
	struct rombsr_artifact swap = m.artifacts[0];
	struct rombsr_manifest_rollback rb = m.rollback[0];

	m.artifacts[0] = m.artifacts[1];
	m.artifacts[1] = swap;
	m.rollback[0] = m.rollback[1];
	m.rollback[1] = rb;
	r = rombsr_release_manifest_sort(&m);
	if (r == 0)
		r = rombsr_release_manifest_encode(&m, &out);
	CHECK(r == 0 && out.len == strlen(canonical) && memcmp(out.data, canonical, out.len) == 0,
	      "sorted, another order encodes to the same bytes");
	rombsr_buf_free(&out);
	snprintf(m.artifacts[1].name, sizeof(m.artifacts[1].name), "boot.img");
	CHECK(tap_fails(rombsr_release_manifest_sort(&m), ROMBSR_EINVAL, "two artifacts are named 'boot.img'"),
	      "two artifacts of one name refused");
	snprintf(m.artifacts[1].name, sizeof(m.artifacts[1].name), "system.img");
	m.rollback[1].location = 0;
	CHECK(tap_fails(rombsr_release_manifest_sort(&m), ROMBSR_EINVAL, "rollback index location 0 is given twice"),
	      "one location twice refused");
	m.rollback[1].location = 1;
	snprintf(m.device, sizeof(m.device), "a\nb");
	CHECK(tap_fails(rombsr_release_manifest_encode(&m, &out), ROMBSR_EINVAL, "manifest.device: control character"),
	      "encode refuses what the parser would");
	CHECK(out.data == NULL, "nothing kept of a refused encoding");
	rombsr_release_manifest_free(&m);
	rombsr_release_manifest_free(&m);
}

static void test_refusals(void)
{
	static const struct {
		const char *from, *to;
		int code;
		const char *message;
	} cases[] = {
		{"{\"artifacts\"", "{\"channel\":\"beta\",\"artifacts\"", ROMBSR_EINVAL, "manifest: unknown field 'channel'"},
		{"\"size\":13}", "\"size\":13,\"x\":1}", ROMBSR_EINVAL, "manifest.artifacts[1]: unknown field 'x'"},
		{"\"version\":1}", "\"version\":2}", ROMBSR_EUNSUPPORTED, "manifest.version: 2 is not supported"},
		{"\"format\":\"rombsr.release-manifest\"", "\"format\":\"rombsr.request\"", ROMBSR_EINVAL,
		 "manifest.format: 'rombsr.request' is not"},
		{"\"device\":\"sample\",", "", ROMBSR_EINVAL, "manifest.device"},
		{"\"product\":\"sample_phone\"", "\"product\":\"\"", ROMBSR_EINVAL, "manifest.product: must be 1 to 128 characters, is 0"},
		{"\"product\":\"sample_phone\"", "\"product\":7", ROMBSR_EINVAL, "manifest.product"},
		{"\"boot.img\"", "\"zboot.img\"", ROMBSR_EINVAL,
		 "manifest.artifacts[1].name: 'system.img' comes before 'zboot.img'"},
		{"\"system.img\"", "\"boot.img\"", ROMBSR_EINVAL, "manifest.artifacts[1].name: 'boot.img' listed twice"},
		{"\"boot.img\"", "\"../boot.img\"", ROMBSR_EINVAL, "manifest.artifacts[0].name: '../boot.img' has an empty"},
		{"\"deb055", "\"DEB055", ROMBSR_EINVAL, "manifest.artifacts[0].sha256"},
		{"\"size\":5", "\"size\":-5", ROMBSR_EINVAL, "manifest.artifacts[0].size"},
		{"\"location\":1}", "\"location\":32}", ROMBSR_EINVAL, "manifest.rollback_indexes[1].location"},
		{"\"location\":1}", "\"location\":0}", ROMBSR_EINVAL, "manifest.rollback_indexes[1].location: 0 listed twice"},
		{"\"location\":0}", "\"location\":2}", ROMBSR_EINVAL, "manifest.rollback_indexes[1].location: 1 out of order"},
		{"\"index\":5", "\"index\":-5", ROMBSR_EINVAL, "manifest.rollback_indexes[0].index"},
		{"2026-09-21T14:13:20Z", "2026-02-30T14:13:20Z", ROMBSR_EINVAL, "manifest.time: '2026-02-30T14:13:20Z' is not"},
		{"\"device\":\"sample\"", "\"device\": \"sample\"", ROMBSR_EINVAL, "manifest: not in the canonical form"},
		{"\"release_version\":\"1.0\",\"rollback", "\"rollback", ROMBSR_EINVAL, "manifest.release_version"},
		{"{\"artifacts\":[{", "{\"artifacts\":[{\"size\":1,\"name\":\"a\",\"sha256\":\"00\"},{", ROMBSR_EINVAL,
		 "manifest.artifacts[0].sha256"},
		{"\"version\":1}", "\"version\":1} ", ROMBSR_EINVAL, "manifest: not in the canonical form"},
		{"\"version\":1}", "\"version\":1}x", ROMBSR_EINVAL, "manifest: not valid JSON"},
	};
	struct rombsr_release_manifest m;
	const char *empty = "{\"artifacts\":[],\"device\":\"d\",\"format\":\"rombsr.release-manifest\",\"product\":\"p\","
			    "\"release_version\":\"1\",\"rollback_indexes\":[],\"time\":\"2026-09-21T14:13:20Z\",\"version\":1}";

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = edited(canonical, cases[i].from, cases[i].to);
		int r = text ? rombsr_release_manifest_parse(text, strlen(text), &m) : ROMBSR_EINTERNAL;

		CHECK(tap_fails(r, cases[i].code, cases[i].message), "refused: %s", cases[i].message);
		CHECK(m.artifacts == NULL, "nothing kept of a refused manifest (%zu)", i);
		free(text);
	}
	CHECK(tap_fails(rombsr_release_manifest_parse(empty, strlen(empty), &m), ROMBSR_EINVAL,
		    "manifest.artifacts: a release has at least one artifact"),
	      "a release without artifacts refused");
	CHECK(tap_fails(rombsr_release_manifest_parse("[]", 2, &m), ROMBSR_EINVAL, "manifest: not a JSON object"),
	      "an array refused");
}

static void test_pae(void)
{
	struct rombsr_buf pae;
	const char want[] = "DSSEv1 44 application/vnd.rombsr.release-manifest+json 3 a\0c";

	CHECK(rombsr_manifest_pae((const unsigned char *)"a\0c", 3, &pae) == 0 && pae.len == sizeof(want) - 1 &&
		      memcmp(pae.data, want, pae.len) == 0,
	      "PAE: DSSEv1, lengths in decimal, the payload as bytes");
	rombsr_buf_free(&pae);
}

/* What a token returns: r||s of an ECDSA-SHA256 signature over the PAE. */
static int sign_raw(EVP_PKEY *key, const struct rombsr_buf *payload, unsigned char raw[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[80];
	const unsigned char *p = der;
	size_t der_len = sizeof(der);
	struct rombsr_buf pae;
	ECDSA_SIG *sig = NULL;
	int ok = rombsr_manifest_pae(payload->data, payload->len, &pae) == 0 && ctx != NULL &&
		 EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestSign(ctx, der, &der_len, pae.data, pae.len) == 1 &&
		 (sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) != NULL &&
		 BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32 && BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32;

	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(ctx);
	rombsr_buf_free(&pae);
	return ok;
}

static int open_text(const char *text, EVP_PKEY *key)
{
	struct rombsr_release_manifest m;
	int r = rombsr_release_manifest_open(text, strlen(text), key, &m);

	rombsr_release_manifest_free(&m);
	return r;
}

static void test_envelope_refusals(const char *good, EVP_PKEY *key)
{
	static const struct {
		const char *from, *to, *message;
	} cases[] = {
		{"\"payloadType\"", "\"x\": 1, \"payloadType\"", "malformed envelope: envelope: unknown field 'x'"},
		{"release-manifest+json", "release-manifest+jsonx", "envelope.payloadType: 'application/vnd.rombsr."},
		{"\"payload\": \"", "\"payload\": \"=AAA", "envelope.payload: not canonical base64 at character 1"},
		{"\"signatures\": [", "\"signatures\": [{\"keyid\": \"00\", \"sig\": \"\"}, ",
		 "envelope.signatures: 2 signatures"},
		{"\"keyid\": \"", "\"extra\": 1, \"keyid\": \"", "envelope.signatures[0]: unknown field 'extra'"},
		{"\"sig\": \"", "\"sig\": \"AAAA", "envelope.signatures[0].sig: longer than 72 bytes"},
		{"\"payload\": \"eyJ", "\"payload\": \"eyX", "the signature does not verify with the manifest key"},
	};
	/* An INTEGER with a needless leading zero: BER, not DER. */
	static const unsigned char ber[] = {0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01};
	struct rombsr_manifest_envelope e;
	struct rombsr_buf out = {0};
	char *text;

	CHECK(rombsr_manifest_envelope_parse(good, strlen(good), &e) == 0, "the good envelope parses");
	memcpy(e.sig, ber, sizeof(ber));
	e.sig_len = sizeof(ber);
	CHECK(rombsr_manifest_envelope_encode(&e, &out) == 0 &&
		      tap_fails(open_text(rombsr_buf_cstr(&out), key), ROMBSR_ESECURITY,
			    "envelope.signatures[0].sig: not a DER ECDSA signature"),
	      "a signature in BER, not DER, refused");
	rombsr_manifest_envelope_free(&e);
	rombsr_buf_free(&out);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = edited(good, cases[i].from, cases[i].to);
		CHECK(text != NULL && tap_fails(open_text(text, key), ROMBSR_ESECURITY, cases[i].message), "refused: %s",
		      cases[i].message);
		free(text);
	}
	CHECK(tap_fails(open_text("{\"payload\": \"e30=\", \"payloadType\": \"" ROMBSR_MANIFEST_PAYLOAD_TYPE "\", "
			      "\"signatures\": []}", key),
		    ROMBSR_ESECURITY, "envelope.signatures: 0 signatures"),
	      "an envelope without signature refused");
}

static void test_envelope(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	struct rombsr_buf payload = {0}, env = {0}, again = {0};
	struct rombsr_manifest_envelope e;
	struct rombsr_release_manifest m;
	unsigned char raw[64];
	int r;

	rombsr_buf_init(&payload, 1 << 20);
	rombsr_buf_append_str(&payload, canonical);
	CHECK(key != NULL && other != NULL && rsa != NULL && sign_raw(key, &payload, raw), "keys and a signature");
	r = rombsr_manifest_seal(&payload, key, raw, sizeof(raw), &env);
	CHECK(r == 0, "sealed (%s)", rombsr_error_message(r));
	r = rombsr_release_manifest_open((const char *)rombsr_buf_cstr(&env), env.len, key, &m);
	CHECK(r == 0 && m.nartifacts == 2 && strcmp(m.product, "sample_phone") == 0, "opened with its key (%s)",
	      rombsr_error_message(r));
	rombsr_release_manifest_free(&m);
	r = rombsr_manifest_envelope_parse((const char *)env.data, env.len, &e);
	if (r == 0)
		r = rombsr_manifest_envelope_encode(&e, &again);
	CHECK(r == 0 && again.len == env.len && memcmp(again.data, env.data, env.len) == 0,
	      "envelope parse and encode give the same bytes");
	CHECK(r == 0 && e.payload_len == strlen(canonical) && memcmp(e.payload, canonical, e.payload_len) == 0,
	      "the payload is the manifest's bytes");
	rombsr_manifest_envelope_free(&e);
	rombsr_buf_free(&again);

	CHECK(tap_fails(open_text(rombsr_buf_cstr(&env), other), ROMBSR_ESECURITY, "not by the manifest key"),
	      "another key refused by keyid");
	raw[40] ^= 1;
	CHECK(rombsr_manifest_seal(&payload, key, raw, sizeof(raw), &again) == 0 &&
		      tap_fails(open_text(rombsr_buf_cstr(&again), key), ROMBSR_ESECURITY, "does not verify"),
	      "an altered signature refused");
	rombsr_buf_free(&again);
	CHECK(tap_fails(rombsr_manifest_seal(&payload, key, raw, 63, &again), ROMBSR_EHSM, "a 63-byte signature"),
	      "a signature of the wrong length refused");
	CHECK(tap_fails(rombsr_manifest_key_check(rsa, "the key"), ROMBSR_EINVAL, "the key is not an EC P-256 key") &&
		      rombsr_manifest_key_check(key, "the key") == 0,
	      "only EC P-256 keys");
	memcpy(raw, ROMBSR_CAP_PLACEHOLDER_MAGIC, ROMBSR_CAP_PLACEHOLDER_MAGIC_LEN);
	CHECK(rombsr_cap_is_placeholder(raw, sizeof(raw)) && !rombsr_cap_is_placeholder(raw + 1, 63),
	      "a capture placeholder is recognized");
	test_envelope_refusals(rombsr_buf_cstr(&env), key);

	rombsr_buf_free(&payload);
	rombsr_buf_free(&env);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	EVP_PKEY_free(rsa);
}

int main(void)
{
	test_round_trip();
	test_refusals();
	test_pae();
	test_envelope();
	return tap_done();
}
