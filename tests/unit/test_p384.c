/* EC P-384 keys through the formats and checks that depend on the curve:
 * raw r||s of 96 bytes to DER and back, the build side's signature check,
 * the sign node's operation check, the public bundle's and the backup
 * manifest's algorithm and bits (docs/formats/keyset.md, "EC keys: P-256
 * and P-384"). */
#define _GNU_SOURCE /* asprintf */
#include "tap.h"

#include "../../src/build/sigcheck.h"
#include "../../src/common/capture_format.h"
#include "../../src/common/ecdsa_sig.h"
#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"
#include "../../src/common/hex.h"
#include "../../src/node/backup_manifest.h"
#include "../../src/signer/opcheck.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A real P-384 signature of digest, as a token returns it: r||s, 48 bytes
 * each, zero-padded on the left. */
static bool sign_raw(EVP_PKEY *key, const unsigned char *digest, size_t digest_len, unsigned char raw[96])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	unsigned char der[128];
	size_t der_len = sizeof(der);
	const unsigned char *p = der;
	ECDSA_SIG *sig = NULL;
	bool ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
		  EVP_PKEY_sign(ctx, der, &der_len, digest, digest_len) == 1 &&
		  (sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) != NULL &&
		  BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 48) == 48 && BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 48, 48) == 48;

	ECDSA_SIG_free(sig);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void signatures(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct rombsr_cap_op op = {.mech = rombsr_cap_mech_by_name("CKM_ECDSA_SHA384")};
	unsigned char raw[96], *der = NULL;
	size_t der_len = 0;
	EVP_PKEY_CTX *ctx = NULL;

	CHECK(key != NULL && p256 != NULL && op.mech != NULL, "a P-384 and a P-256 key, CKM_ECDSA_SHA384");
	if (key == NULL || p256 == NULL || op.mech == NULL)
		goto out;
	CHECK(EVP_Digest("p384", 4, op.tbs, NULL, EVP_sha384(), NULL) == 1, "a SHA-384 digest");
	op.tbs_len = 48;
	CHECK(sign_raw(key, op.tbs, op.tbs_len, raw), "a raw 96-byte P-384 signature");
	CHECK(rombsr_sigcheck_sig_len(key) == 96 && rombsr_sigcheck_sig_len(p256) == 64,
	      "a P-384 key makes 96-byte signatures, a P-256 key 64-byte ones");
	CHECK(rombsr_ecdsa_raw_to_der(raw, sizeof(raw), &der, &der_len) == 0 && der_len <= 104,
	      "96 bytes of r||s become DER (%zu bytes)", der_len);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	CHECK(ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_verify(ctx, der, der_len, op.tbs, op.tbs_len) == 1,
	      "the DER form verifies with OpenSSL");
	OPENSSL_free(der);
	der = NULL;
	CHECK(tap_fails(rombsr_ecdsa_raw_to_der(raw, 95, &der, &der_len), ROMBSR_EINVAL, "95 bytes is not r||s"),
	      "an odd length refused");
	CHECK(tap_fails(rombsr_ecdsa_raw_to_der(raw, 98, &der, &der_len), ROMBSR_EINVAL, "98 bytes is not r||s"),
	      "longer than P-384's refused");
	CHECK(der == NULL, "nothing returned for a refused signature");
	CHECK(rombsr_sigcheck_verify(key, &op, raw, sizeof(raw)) == 0, "apply's check accepts the P-384 signature");
	CHECK(tap_fails(rombsr_sigcheck_verify(key, &op, raw, 64), ROMBSR_ESECURITY,
			"signature of 64 bytes, the key makes 96-byte signatures"),
	      "a P-256-sized signature refused for a P-384 key");
	CHECK(tap_fails(rombsr_sigcheck_verify(p256, &op, raw, sizeof(raw)), ROMBSR_ESECURITY,
			"signature of 96 bytes, the key makes 64-byte signatures"),
	      "a P-384 signature refused for a P-256 key");
	raw[95] ^= 1;
	CHECK(tap_fails(rombsr_sigcheck_verify(key, &op, raw, sizeof(raw)), ROMBSR_ESECURITY, "does not verify"),
	      "a changed P-384 signature does not verify");
out:
	OPENSSL_free(der);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	EVP_PKEY_free(p256);
}

static void opcheck(void)
{
	struct rombsr_cap_op op = {.mech = rombsr_cap_mech_by_name("CKM_ECDSA_SHA384"), .tbs_len = 48};

	CHECK(rombsr_opcheck(&op, ROMBSR_KEY_EC_P384, 0) == 0, "CKM_ECDSA_SHA384 with a P-384 key");
	CHECK(rombsr_opcheck(&op, ROMBSR_KEY_EC_P256, 0) == 0, "CKM_ECDSA_SHA384 with a P-256 key, as before");
	op.mech = rombsr_cap_mech_by_name("CKM_ECDSA");
	CHECK(rombsr_opcheck(&op, ROMBSR_KEY_EC_P384, 0) == 0, "CKM_ECDSA over a SHA-384 digest with a P-384 key");
	op.tbs_len = 33;
	CHECK(tap_fails(rombsr_opcheck(&op, ROMBSR_KEY_EC_P384, 0), ROMBSR_EPERM, "CKM_ECDSA input must be"),
	      "CKM_ECDSA over no digest refused");
	op.mech = rombsr_cap_mech_by_name("CKM_SHA256_RSA_PKCS");
	op.tbs_len = 32;
	CHECK(tap_fails(rombsr_opcheck(&op, ROMBSR_KEY_EC_P384, 0), ROMBSR_EPERM,
			"CKM_SHA256_RSA_PKCS does not suit an EC P-384 key"),
	      "an RSA mechanism refused for a P-384 key");
	op.mech = rombsr_cap_mech_by_name("CKM_ECDSA_SHA256");
	CHECK(tap_fails(rombsr_opcheck(&op, ROMBSR_KEY_RSA, 256), ROMBSR_EPERM, "CKM_ECDSA_SHA256 does not suit an RSA key"),
	      "an ECDSA mechanism refused for an RSA key");
}

#define MANIFEST_HEAD                                                                                                \
	"{\"format\": \"rombsr-backup\", \"version\": 1, \"created\": \"2026-12-03T18:17:50Z\", "                     \
	"\"admin\": \"41082B902F71647E45B2FDD47FF95AAA6AA45BFC\", \"token\": \"rombsr-release\", "                  \
	"\"wrap_key_id\": \"e299b1e13133b0ae6a529398ad2a4ba1\", \"mechanism\": \"CKM_AES_KEY_WRAP_PAD\", "          \
	"\"keys\": [{\"label\": \"devices/d1/att\", \"id\": \"f116e48297d057aa8c89b54ec75e7475\", "
#define MANIFEST_TAIL                                                                                                \
	"\"wrapped\": \"keys/devices+d1+att.wrapped\", "                                                               \
	"\"wrapped_sha256\": \"a3a69b4943d8a29af7ffb5db56864cc4021c3cfe6542b774a765104a80899865\", "                 \
	"\"certificate\": \"certs/devices+d1+att.der\", "                                                              \
	"\"certificate_sha256\": \"db9551be06729b93190f8b9e83fee694e6c07be8bbe81afc70e6e5b7ade5bd2d\"}]}"

static void backup(void)
{
	static const char good[] = MANIFEST_HEAD "\"algorithm\": \"ec-p384\", \"bits\": 384, " MANIFEST_TAIL;
	static const char bad_bits[] = MANIFEST_HEAD "\"algorithm\": \"ec-p384\", \"bits\": 256, " MANIFEST_TAIL;
	static const char bad_p256[] = MANIFEST_HEAD "\"algorithm\": \"ec-p256\", \"bits\": 384, " MANIFEST_TAIL;
	struct backup_manifest *m = calloc(1, sizeof(*m)), *again = calloc(1, sizeof(*again));
	char *text = NULL;
	size_t len = 0;

	CHECK(m != NULL && again != NULL, "room for two manifests");
	if (m == NULL || again == NULL)
		goto out;
	CHECK(backup_manifest_parse(good, strlen(good), "manifest.json", m) == 0 && m->nkeys == 1 &&
		      m->keys[0].kind == ROMBSR_KEY_EC_P384 && m->keys[0].bits == 384,
	      "a backup of a P-384 key parses");
	CHECK(backup_manifest_write(m, &text, &len) == 0 && strstr(text, "\"algorithm\": \"ec-p384\"") != NULL &&
		      strstr(text, "\"bits\": 384") != NULL,
	      "and is written back as ec-p384, 384 bits");
	CHECK(text != NULL && backup_manifest_parse(text, len, "manifest.json", again) == 0 &&
		      again->keys[0].kind == ROMBSR_KEY_EC_P384,
	      "what is written parses again");
	{
		/* A YubiHSM's backup says so, and keeps saying so when written. */
		char yh[sizeof(good) + 16], *p;

		strcpy(yh, good);
		p = strstr(yh, "CKM_AES_KEY_WRAP_PAD");
		memmove(p + strlen("YUBIHSM_AES_CCM_WRAP"), p + strlen("CKM_AES_KEY_WRAP_PAD"),
			strlen(p + strlen("CKM_AES_KEY_WRAP_PAD")) + 1);
		memcpy(p, "YUBIHSM_AES_CCM_WRAP", strlen("YUBIHSM_AES_CCM_WRAP"));
		free(text);
		text = NULL;
		CHECK(backup_manifest_parse(yh, strlen(yh), "manifest.json", again) == 0 &&
			      strcmp(again->mechanism, "YUBIHSM_AES_CCM_WRAP") == 0 &&
			      backup_manifest_write(again, &text, &len) == 0 &&
			      strstr(text, "\"mechanism\": \"YUBIHSM_AES_CCM_WRAP\"") != NULL,
		      "a YubiHSM's backup keeps its mechanism");
		memcpy(p, "YUBIHSM_AES_XXX_WRAP", strlen("YUBIHSM_AES_CCM_WRAP"));
		CHECK(backup_manifest_parse(yh, strlen(yh), "manifest.json", again) == ROMBSR_EINVAL,
		      "an unknown mechanism refused");
	}
	CHECK(tap_fails(backup_manifest_parse(bad_bits, strlen(bad_bits), "manifest.json", m), ROMBSR_EINVAL,
			"manifest.json.keys[0].bits: ec-p384 is 384 bits, not 256"),
	      "ec-p384 of 256 bits refused");
	CHECK(tap_fails(backup_manifest_parse(bad_p256, strlen(bad_p256), "manifest.json", m), ROMBSR_EINVAL,
			"manifest.json.keys[0].bits: ec-p256 is 256 bits, not 384"),
	      "ec-p256 of 384 bits refused");
out:
	free(text);
	free(m);
	free(again);
}

/* A bundle of one key, "attestation", whose certificate holds key and
 * whose manifest entry says algorithm and bits. */
static int load_bundle(const char *dir, EVP_PKEY *key, const char *algorithm, int bits, struct rombsr_bundle *b)
{
	X509 *x = X509_new();
	char path[512], cert_hex[65], spki_hex[65], *manifest = NULL;
	unsigned char *der = NULL, md[32];
	BIO *bio = NULL;
	int der_len = 0, r = ROMBSR_EINTERNAL;

	memset(b, 0, sizeof(*b));
	snprintf(path, sizeof(path), "%s/certs/attestation.pem", dir);
	if (x == NULL || ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) == NULL ||
	    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, (const unsigned char *)"t", -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 || X509_set_pubkey(x, key) != 1 ||
	    X509_sign(x, key, EVP_sha384()) <= 0 || (der_len = i2d_X509(x, &der)) <= 0 ||
	    (bio = BIO_new_file(path, "w")) == NULL || PEM_write_bio_X509(bio, x) != 1 ||
	    rombsr_pubkey_spki_sha256(key, spki_hex) < 0)
		goto out;
	BIO_free(bio);
	bio = NULL;
	EVP_Digest(der, (size_t)der_len, md, NULL, EVP_sha256(), NULL);
	rombsr_hex_encode(md, sizeof(md), cert_hex);
	if (asprintf(&manifest,
		     "{\"format\":\"rombsr.public-bundle\",\"version\":1,\"created\":\"2026-12-03T00:00:00Z\",\"keys\":["
		     "{\"label\":\"attestation\",\"authority\":\"release\",\"algorithm\":\"%s\",\"bits\":%d,"
		     "\"pkcs11_id\":\"0102\",\"spki_sha256\":\"%s\",\"certificate\":\"certs/attestation.pem\","
		     "\"certificate_sha256\":\"%s\",\"development\":false,\"purpose\":\"p\","
		     "\"not_before\":\"2026-12-03T00:00:00Z\",\"not_after\":\"2026-12-03T01:00:00Z\"}]}\n",
		     algorithm, bits, spki_hex, cert_hex) < 0) {
		manifest = NULL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (rombsr_file_write_atomic(path, manifest, strlen(manifest), 0644, false) < 0)
		goto out;
	r = rombsr_bundle_load(dir, b);
out:
	BIO_free(bio);
	OPENSSL_free(der);
	X509_free(x);
	free(manifest);
	return r;
}

static void bundle(void)
{
	char dir[] = "/tmp/rombsr-unit-p384.XXXXXX", certs[64];
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct rombsr_bundle b;
	int r;

	if (mkdtemp(dir) == NULL || p384 == NULL || p256 == NULL) {
		CHECK(false, "a folder and two keys for the bundle");
		goto out;
	}
	snprintf(certs, sizeof(certs), "%s/certs", dir);
	CHECK(rombsr_mkdir_p(certs, 0700) == 0, "the bundle's certs/");
	r = load_bundle(dir, p384, "ec-p384", 384, &b);
	CHECK(r == 0 && b.len == 1 && b.keys[0].kind == ROMBSR_KEY_EC_P384 && b.keys[0].bits == 384,
	      "a bundle with an ec-p384 key of 384 bits loads: %s", r < 0 ? rombsr_error_message(r) : "ok");
	CHECK(strcmp(rombsr_bundle_algorithm_name(ROMBSR_KEY_EC_P384), "ec-p384") == 0 &&
		      strcmp(rombsr_bundle_algorithm_name(ROMBSR_KEY_EC_P256), "ec-p256") == 0 &&
		      strcmp(rombsr_bundle_algorithm_name(ROMBSR_KEY_RSA), "rsa") == 0,
	      "the bundle names the algorithms rsa, ec-p256, ec-p384");
	rombsr_bundle_free(&b);
	CHECK(tap_fails(load_bundle(dir, p384, "ec-p384", 256, &b), ROMBSR_EINVAL, "key 'attestation': bits missing or wrong"),
	      "ec-p384 of 256 bits refused");
	rombsr_bundle_free(&b);
	CHECK(tap_fails(load_bundle(dir, p256, "ec-p384", 384, &b), ROMBSR_EINVAL,
			"key 'attestation': the certificate does not hold an EC P-384 key"),
	      "an ec-p384 entry over a P-256 certificate refused");
	rombsr_bundle_free(&b);
	CHECK(tap_fails(load_bundle(dir, p384, "ec-p256", 256, &b), ROMBSR_EINVAL,
			"key 'attestation': the certificate does not hold an EC P-256 key"),
	      "an ec-p256 entry over a P-384 certificate refused");
	rombsr_bundle_free(&b);
	CHECK(tap_fails(load_bundle(dir, p384, "ec-p521", 521, &b), ROMBSR_EINVAL,
			"algorithm must be \"rsa\", \"ec-p256\" or \"ec-p384\""),
	      "an unknown curve refused");
	rombsr_bundle_free(&b);
out:
	rombsr_remove_tree(dir);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p256);
}

int main(void)
{
	signatures();
	opcheck();
	bundle();
	backup();
	return tap_done();
}
