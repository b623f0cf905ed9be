/* EC P-384 keys through the formats and checks that depend on the curve:
 * raw r||s of 96 bytes to DER and back, the build side's signature check,
 * the sign node's operation check, and the backup manifest's algorithm
 * and bits (docs/formats/keyset.md, "EC keys: P-256 and P-384"). */
#include "tap.h"

#include "../../src/build/sigcheck.h"
#include "../../src/common/capture_format.h"
#include "../../src/common/ecdsa_sig.h"
#include "../../src/common/error.h"
#include "../../src/node/backup_manifest.h"
#include "../../src/signer/opcheck.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	signatures();
	opcheck();
	backup();
	return tap_done();
}
