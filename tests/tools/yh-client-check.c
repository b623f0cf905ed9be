/* Drives the native YubiHSM 2 client (src/yubihsm/) against a connector —
 * the emulator rombsr-yubihsm-emu or a real device behind
 * yubihsm-connector — and checks what comes back with OpenSSL: keys
 * generated, PKCS#1, PSS and ECDSA signatures verified against Get Public
 * Key, opaque objects, the audit log's chain and index, an authentication
 * key with fewer capabilities refused a signature, export and import under
 * a wrap key, sessions on several threads sharing one connector.
 * Usage: yh-client-check [URL] [--reset]
 *        yh-client-check [URL] --idle SECONDS
 * It creates objects 0x0100-0x0104 and authentication key 0x0010 (deleting
 * any left from an earlier run); --reset ends with Reset Device. --idle
 * checks only this: a session left idle that long (past the device's
 * timeout) says invalid session, and a new session works. */
#include "../../src/common/error.h"
#include "../../src/yubihsm/yh_client.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RSA_ID 0x0100
#define EC_ID 0x0101
#define OPAQUE_ID 0x0102
#define WRAP_ID 0x0103
#define PUT_WRAP_ID 0x0104
#define LIMITED_ID 0x0010
#define THREADS 4
#define THREAD_SIGNS 10

static int failures;
static const char *url;

static void check(bool ok, const char *what, int r)
{
	if (ok) {
		printf("ok - %s\n", what);
		return;
	}
	failures++;
	printf("FAIL - %s%s%s\n", what, r != 0 ? ": " : "", r != 0 ? rombsr_error_message(r) : "");
}

/* ---- public keys and verification with OpenSSL ---- */

static EVP_PKEY *rsa_key(const uint8_t *n, size_t n_len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL), *e = BN_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;

	if (bld != NULL && bn != NULL && e != NULL && ctx != NULL && BN_set_word(e, 65537) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) == 1 && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1)
		(void)EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(e);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static EVP_PKEY *ec_key(const uint8_t *xy, size_t len)
{
	uint8_t point[1 + 132];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *key = NULL;

	if (len != 64 || ctx == NULL) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	point[0] = 0x04;
	memcpy(point + 1, xy, len);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + len);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_PKEY_fromdata_init(ctx) == 1)
		(void)EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* padding: 0 for ECDSA, else RSA_PKCS1_PADDING / RSA_PKCS1_PSS_PADDING. */
static bool verify(EVP_PKEY *key, int padding, const uint8_t *digest, size_t digest_len, const uint8_t *sig,
		   size_t sig_len)
{
	EVP_PKEY_CTX *ctx = key != NULL ? EVP_PKEY_CTX_new(key, NULL) : NULL;
	bool ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
		  EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1;

	if (ok && padding != 0) {
		ok = EVP_PKEY_CTX_set_rsa_padding(ctx, padding) == 1;
		if (ok && padding == RSA_PKCS1_PSS_PADDING)
			ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) == 1 &&
			     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1;
	}
	ok = ok && EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static EVP_PKEY *public_key(struct rombsr_yh_session *s, uint16_t id, uint8_t want_algorithm)
{
	uint8_t algorithm = 0, *raw = NULL;
	size_t len = 0;
	EVP_PKEY *key = NULL;
	int r = rombsr_yh_public_key(s, id, &algorithm, &raw, &len);

	if (r == 0)
		key = algorithm == YH_ALGO_RSA_2048 ? rsa_key(raw, len) : ec_key(raw, len);
	check(r == 0 && algorithm == want_algorithm && key != NULL, "Get Public Key gives a key OpenSSL takes", r);
	free(raw);
	return key;
}

static void digest_of(const char *text, uint8_t digest[32])
{
	unsigned int n = 0;

	if (EVP_Digest(text, strlen(text), digest, &n, EVP_sha256(), NULL) != 1)
		abort();
}

/* ---- the steps ---- */

static void cleanup_objects(struct rombsr_yh_session *s)
{
	static const struct {
		uint16_t id;
		uint8_t type;
	} objects[] = {
		{RSA_ID, YH_TYPE_ASYMMETRIC_KEY}, {EC_ID, YH_TYPE_ASYMMETRIC_KEY}, {OPAQUE_ID, YH_TYPE_OPAQUE},
		{WRAP_ID, YH_TYPE_WRAP_KEY}, {PUT_WRAP_ID, YH_TYPE_WRAP_KEY}, {LIMITED_ID, YH_TYPE_AUTHENTICATION_KEY},
	};

	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
		(void)rombsr_yh_delete_object(s, objects[i].id, objects[i].type);
	rombsr_error_clear();
}

static void step_keys(struct rombsr_yh_session *s, EVP_PKEY **rsa, EVP_PKEY **ec)
{
	struct rombsr_yh_new_object o = {
		.id = RSA_ID, .label = "yh-client-check rsa", .domains = 1,
		.capabilities = YH_CAP(YH_CAP_SIGN_PKCS) | YH_CAP(YH_CAP_SIGN_PSS), .algorithm = YH_ALGO_RSA_2048,
	};
	struct rombsr_yh_object_info info;
	uint16_t id = 0;
	int r;

	r = rombsr_yh_generate_asymmetric(s, &o, &id);
	check(r == 0 && id == RSA_ID, "Generate Asymmetric Key RSA-2048", r);
	o.id = EC_ID;
	o.label = "yh-client-check ec";
	o.capabilities = YH_CAP(YH_CAP_SIGN_ECDSA) | YH_CAP(YH_CAP_EXPORTABLE_UNDER_WRAP);
	o.algorithm = YH_ALGO_EC_P256;
	r = rombsr_yh_generate_asymmetric(s, &o, &id);
	check(r == 0 && id == EC_ID, "Generate Asymmetric Key EC P-256", r);
	r = rombsr_yh_generate_asymmetric(s, &o, &id);
	check(r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_OBJECT_EXISTS,
	      "the same ID again: object exists", r == ROMBSR_EHSM ? 0 : r);
	r = rombsr_yh_object_info(s, EC_ID, YH_TYPE_ASYMMETRIC_KEY, &info);
	check(r == 0 && info.id == EC_ID && info.algorithm == YH_ALGO_EC_P256 && info.domains == 1 &&
		      info.capabilities == o.capabilities && info.origin == YH_ORIGIN_GENERATED &&
		      strcmp(info.label, "yh-client-check ec") == 0,
	      "Get Object Info describes it", r);
	*rsa = public_key(s, RSA_ID, YH_ALGO_RSA_2048);
	*ec = public_key(s, EC_ID, YH_ALGO_EC_P256);
}

static void step_sign(struct rombsr_yh_session *s, EVP_PKEY *rsa, EVP_PKEY *ec)
{
	uint8_t digest[32], sig[512];
	size_t sig_len = sizeof(sig);
	int r;

	digest_of("yh-client-check", digest);
	r = rombsr_yh_sign_pkcs1(s, RSA_ID, digest, 32, sig, &sig_len);
	check(r == 0 && sig_len == 256 && verify(rsa, RSA_PKCS1_PADDING, digest, 32, sig, sig_len),
	      "Sign PKCS1 verifies with OpenSSL", r);
	sig_len = sizeof(sig);
	r = rombsr_yh_sign_pss(s, RSA_ID, YH_ALGO_MGF1_SHA256, 32, digest, 32, sig, &sig_len);
	check(r == 0 && sig_len == 256 && verify(rsa, RSA_PKCS1_PSS_PADDING, digest, 32, sig, sig_len),
	      "Sign PSS (MGF1-SHA256, salt 32) verifies with OpenSSL", r);
	sig_len = sizeof(sig);
	r = rombsr_yh_sign_ecdsa(s, EC_ID, digest, 32, sig, &sig_len);
	check(r == 0 && verify(ec, 0, digest, 32, sig, sig_len), "Sign ECDSA verifies with OpenSSL", r);
	sig_len = sizeof(sig);
	r = rombsr_yh_sign_ecdsa(s, RSA_ID, digest, 32, sig, &sig_len);
	check(r == ROMBSR_EHSM && rombsr_yh_last_device_error() != YH_ERR_OK,
	      "Sign ECDSA with the RSA key is refused by the device", r == ROMBSR_EHSM ? 0 : r);
	printf("# %s\n", rombsr_error_message(r));
}

static void step_opaque_and_objects(struct rombsr_yh_session *s)
{
	struct rombsr_yh_new_object o = {
		.id = OPAQUE_ID, .label = "yh-client-check cert", .domains = 1,
		.capabilities = 0, .algorithm = YH_ALGO_OPAQUE_X509_CERTIFICATE,
	};
	struct rombsr_yh_filter f = {.type = YH_TYPE_ASYMMETRIC_KEY};
	struct rombsr_yh_object *list = NULL;
	uint8_t data[1500], *back = NULL, rnd[64];
	size_t back_len = 0, n = 0, found = 0;
	uint16_t id = 0;
	int r;

	if (RAND_bytes(data, sizeof(data)) != 1)
		abort();
	r = rombsr_yh_put_opaque(s, &o, data, sizeof(data), &id);
	check(r == 0 && id == OPAQUE_ID, "Put Opaque (1500 bytes)", r);
	r = rombsr_yh_get_opaque(s, OPAQUE_ID, &back, &back_len);
	check(r == 0 && back_len == sizeof(data) && memcmp(back, data, sizeof(data)) == 0, "Get Opaque gives it back", r);
	free(back);
	r = rombsr_yh_get_opaque(s, 0x7ffe, &back, &back_len);
	check(r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_OBJECT_NOT_FOUND,
	      "Get Opaque of a missing object: object not found", r == ROMBSR_EHSM ? 0 : r);
	r = rombsr_yh_list_objects(s, &f, &list, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		found += list[i].type == YH_TYPE_ASYMMETRIC_KEY && (list[i].id == RSA_ID || list[i].id == EC_ID);
	for (size_t i = 0; r == 0 && i < n; i++)
		found += list[i].type != YH_TYPE_ASYMMETRIC_KEY ? 100 : 0;
	check(r == 0 && found == 2, "List Objects filtered by type finds both keys and nothing else", r);
	free(list);
	f = (struct rombsr_yh_filter){.label = "yh-client-check cert"};
	r = rombsr_yh_list_objects(s, &f, &list, &n);
	check(r == 0 && n == 1 && list[0].id == OPAQUE_ID, "List Objects filtered by label", r);
	free(list);
	r = rombsr_yh_get_random(s, rnd, sizeof(rnd));
	check(r == 0, "Get Pseudo Random, 64 bytes", r);
}

static void step_log(struct rombsr_yh_session *s)
{
	static struct rombsr_yh_log log, after;
	size_t bad = 0;
	uint8_t value[64];
	size_t value_len = sizeof(value);
	int r;

	r = rombsr_yh_get_log(s, &log);
	for (size_t i = 1; r == 0 && i < log.n; i++)
		if (!rombsr_yh_log_entry_chains(&log.entries[i], log.entries[i - 1].digest))
			bad = i;
	check(r == 0 && log.n > 0 && bad == 0, "Get Log Entries: every entry chains to the one before", r);
	printf("# log: %zu entries, unlogged boot %u auth %u, last number %u\n", log.n, log.unlogged_boot,
	       log.unlogged_auth, log.n > 0 ? log.entries[log.n - 1].number : 0);
	if (r != 0 || log.n == 0)
		return;
	r = rombsr_yh_set_log_index(s, log.entries[log.n - 1].number);
	check(r == 0, "Set Log Index to the last entry", r);
	/* The read entries stay until new ones need their room (the device
	 * returns what it holds); what both reads saw must agree. */
	r = rombsr_yh_get_log(s, &after);
	bad = 0;
	for (size_t i = 0; r == 0 && i < after.n; i++) {
		if (i > 0 && !rombsr_yh_log_entry_chains(&after.entries[i], after.entries[i - 1].digest))
			bad++;
		for (size_t j = 0; j < log.n; j++)
			if (log.entries[j].number == after.entries[i].number &&
			    memcmp(&log.entries[j], &after.entries[i], sizeof(log.entries[j])) != 0)
				bad++;
	}
	check(r == 0 && after.n > 0 && bad == 0 && after.entries[after.n - 1].number >= log.entries[log.n - 1].number,
	      "the log read again chains on and agrees with the first read", r);
	r = rombsr_yh_get_option(s, YH_OPTION_FORCE_AUDIT, value, &value_len);
	check(r == 0 && value_len == 1, "Get Option force audit", r);
	if (r == 0)
		r = rombsr_yh_set_option(s, YH_OPTION_FORCE_AUDIT, value, value_len);
	check(r == 0, "Set Option force audit to what it was", r);
}

static void step_limited(struct rombsr_yh_connector *c, struct rombsr_yh_session *s)
{
	struct rombsr_yh_new_object o = {
		.id = LIMITED_ID, .label = "yh-client-check limited", .domains = 1,
		.capabilities = YH_CAP(YH_CAP_SIGN_ECDSA) | YH_CAP(YH_CAP_CHANGE_AUTHENTICATION_KEY), .delegated = 0,
	};
	struct rombsr_yh_session *limited = NULL;
	uint8_t digest[32], sig[512];
	size_t sig_len = sizeof(sig);
	int r;

	digest_of("limited", digest);
	r = rombsr_yh_put_authentication_key(s, &o, "limited-pw", 10);
	check(r == 0, "Put Authentication Key 0x0010 (sign-ecdsa and change-authentication-key only)", r);
	r = rombsr_yh_session_open(c, LIMITED_ID, "wrong", 5, &limited);
	check(r == ROMBSR_EAUTH && limited == NULL, "a wrong password is ROMBSR_EAUTH", r == ROMBSR_EAUTH ? 0 : r);
	printf("# %s\n", rombsr_error_message(r));
	r = rombsr_yh_session_open(c, LIMITED_ID, "limited-pw", 10, &limited);
	check(r == 0 && rombsr_yh_session_auth_id(limited) == LIMITED_ID, "a session with key 0x0010", r);
	if (r != 0)
		return;
	r = rombsr_yh_sign_pkcs1(limited, RSA_ID, digest, 32, sig, &sig_len);
	check(r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_INSUFFICIENT_PERMISSIONS,
	      "Sign PKCS1 without the capability: insufficient permissions", r == ROMBSR_EHSM ? 0 : r);
	printf("# %s\n", rombsr_error_message(r));
	sig_len = sizeof(sig);
	r = rombsr_yh_sign_ecdsa(limited, EC_ID, digest, 32, sig, &sig_len);
	check(r == 0, "Sign ECDSA with the capability it was given", r);
	r = rombsr_yh_change_authentication_key(limited, LIMITED_ID, "changed-pw", 10);
	check(r == 0, "Change Authentication Key of its own key", r);
	rombsr_yh_session_close(limited);
	limited = NULL;
	r = rombsr_yh_session_open(c, LIMITED_ID, "limited-pw", 10, &limited);
	check(r == ROMBSR_EAUTH, "the old password is refused", r == ROMBSR_EAUTH ? 0 : r);
	r = rombsr_yh_session_open(c, LIMITED_ID, "changed-pw", 10, &limited);
	check(r == 0, "the new one opens a session", r);
	rombsr_yh_session_close(limited);
}

static void step_wrap(struct rombsr_yh_session *s, EVP_PKEY *ec)
{
	struct rombsr_yh_new_object o = {
		.id = WRAP_ID, .label = "yh-client-check wrap", .domains = 1,
		.capabilities = YH_CAP(YH_CAP_EXPORT_WRAPPED) | YH_CAP(YH_CAP_IMPORT_WRAPPED),
		.algorithm = YH_ALGO_AES256_CCM_WRAP,
		.delegated = YH_CAP(YH_CAP_SIGN_ECDSA) | YH_CAP(YH_CAP_EXPORTABLE_UNDER_WRAP),
	};
	uint8_t *blob = NULL, type = 0, digest[32], sig[128];
	size_t blob_len = 0, sig_len = sizeof(sig);
	uint16_t id = 0;
	int r;

	r = rombsr_yh_generate_wrap_key(s, &o, &id);
	check(r == 0 && id == WRAP_ID, "Generate Wrap Key AES-256-CCM", r);
	r = rombsr_yh_export_wrapped(s, WRAP_ID, YH_TYPE_ASYMMETRIC_KEY, EC_ID, &blob, &blob_len);
	check(r == 0 && blob_len > 13 + 16, "Export Wrapped the EC key", r);
	if (r != 0)
		return;
	r = rombsr_yh_delete_object(s, EC_ID, YH_TYPE_ASYMMETRIC_KEY);
	check(r == 0, "Delete Object the EC key", r);
	digest_of("after import", digest);
	r = rombsr_yh_sign_ecdsa(s, EC_ID, digest, 32, sig, &sig_len);
	check(r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_OBJECT_NOT_FOUND, "it is gone",
	      r == ROMBSR_EHSM ? 0 : r);
	r = rombsr_yh_import_wrapped(s, WRAP_ID, blob, blob_len, &type, &id);
	check(r == 0 && type == YH_TYPE_ASYMMETRIC_KEY && id == EC_ID, "Import Wrapped brings it back", r);
	sig_len = sizeof(sig);
	r = rombsr_yh_sign_ecdsa(s, EC_ID, digest, 32, sig, &sig_len);
	check(r == 0 && verify(ec, 0, digest, 32, sig, sig_len), "the imported key signs as the old one", r);
	blob[blob_len / 2] ^= 0x01;
	r = rombsr_yh_import_wrapped(s, WRAP_ID, blob, blob_len, &type, &id);
	check(r != 0, "a damaged blob is refused", 0);
	free(blob);
}

/* The blob's AES-CCM opened with OpenSSL: nonce(13) || ciphertext || tag(16),
 * no associated data. */
static bool ccm_opens(const uint8_t key[16], const uint8_t *blob, size_t len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t *plain = malloc(len);
	size_t ct_len = len - 13 - 16;
	int n = 0;
	bool ok = ctx != NULL && plain != NULL && len > 13 + 16 &&
		  EVP_DecryptInit_ex(ctx, EVP_aes_128_ccm(), NULL, NULL, NULL) == 1 &&
		  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, 13, NULL) == 1 &&
		  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, 16, (void *)(blob + len - 16)) == 1 &&
		  EVP_DecryptInit_ex(ctx, NULL, NULL, key, blob) == 1 &&
		  EVP_DecryptUpdate(ctx, plain, &n, blob + 13, (int)ct_len) == 1;

	if (plain != NULL)
		OPENSSL_cleanse(plain, len);
	free(plain);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

static void step_put_wrap(struct rombsr_yh_session *s)
{
	struct rombsr_yh_new_object o = {
		.id = PUT_WRAP_ID, .label = "yh-client-check put wrap", .domains = 1,
		.capabilities = YH_CAP(YH_CAP_EXPORT_WRAPPED) | YH_CAP(YH_CAP_IMPORT_WRAPPED),
		.algorithm = YH_ALGO_AES128_CCM_WRAP,
		.delegated = YH_CAP(YH_CAP_SIGN_ECDSA) | YH_CAP(YH_CAP_EXPORTABLE_UNDER_WRAP),
	};
	uint8_t key[16], *blob = NULL;
	size_t blob_len = 0;
	int r;

	if (RAND_bytes(key, sizeof(key)) != 1)
		abort();
	r = rombsr_yh_put_wrap_key(s, &o, key, sizeof(key));
	check(r == 0, "Put Wrap Key AES-128-CCM with a key known here", r);
	if (r == 0)
		r = rombsr_yh_export_wrapped(s, PUT_WRAP_ID, YH_TYPE_ASYMMETRIC_KEY, EC_ID, &blob, &blob_len);
	check(r == 0 && ccm_opens(key, blob, blob_len),
	      "Export Wrapped under it: nonce(13) || AES-CCM || tag(16) opens with OpenSSL", r);
	if (r == 0) {
		blob[blob_len / 2] ^= 0x01;
		check(!ccm_opens(key, blob, blob_len), "and one byte changed does not (the check can fail)", 0);
	}
	OPENSSL_cleanse(key, sizeof(key));
	free(blob);
}

struct worker {
	struct rombsr_yh_connector *c;
	EVP_PKEY *ec;
	int good;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct rombsr_yh_session *s = NULL;
	uint8_t digest[32], sig[128];
	size_t sig_len;

	if (rombsr_yh_session_open(w->c, YH_FACTORY_AUTH_KEY, YH_FACTORY_PASSWORD, 8, &s) != 0)
		return NULL;
	for (int i = 0; i < THREAD_SIGNS; i++) {
		if (RAND_bytes(digest, sizeof(digest)) != 1)
			break;
		sig_len = sizeof(sig);
		if (rombsr_yh_sign_ecdsa(s, EC_ID, digest, 32, sig, &sig_len) == 0 &&
		    verify(w->ec, 0, digest, 32, sig, sig_len))
			w->good++;
	}
	rombsr_yh_session_close(s);
	return NULL;
}

static void step_threads(struct rombsr_yh_connector *c, EVP_PKEY *ec)
{
	pthread_t t[THREADS];
	struct worker w[THREADS];
	int good = 0;

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){c, ec, 0};
		if (pthread_create(&t[i], NULL, work, &w[i]) != 0)
			abort();
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		good += w[i].good;
	}
	check(good == THREADS * THREAD_SIGNS, "4 threads, a session each, one connector: 40 ECDSA signatures verify", 0);
}

static void step_idle(struct rombsr_yh_connector *c, unsigned seconds)
{
	struct rombsr_yh_session *s = NULL;
	uint8_t rnd[8];
	int r = rombsr_yh_session_open(c, YH_FACTORY_AUTH_KEY, YH_FACTORY_PASSWORD, 8, &s);

	check(r == 0, "a session to leave idle", r);
	if (r != 0)
		return;
	sleep(seconds);
	r = rombsr_yh_get_random(s, rnd, sizeof(rnd));
	check(r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_INVALID_SESSION,
	      "after the idle timeout: invalid session", r == ROMBSR_EHSM ? 0 : r);
	printf("# %s\n", rombsr_error_message(r));
	r = rombsr_yh_get_random(s, rnd, sizeof(rnd));
	check(r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_INVALID_SESSION,
	      "the ended session keeps saying so without asking the device", r == ROMBSR_EHSM ? 0 : r);
	rombsr_yh_session_close(s);
	s = NULL;
	r = rombsr_yh_session_open(c, YH_FACTORY_AUTH_KEY, YH_FACTORY_PASSWORD, 8, &s);
	if (r == 0)
		r = rombsr_yh_get_random(s, rnd, sizeof(rnd));
	check(r == 0, "a new session works", r);
	rombsr_yh_session_close(s);
}

static void step_reset(struct rombsr_yh_connector *c)
{
	struct rombsr_yh_session *s = NULL;
	struct rombsr_yh_object_info info;
	int r = rombsr_yh_session_open(c, YH_FACTORY_AUTH_KEY, YH_FACTORY_PASSWORD, 8, &s);

	if (r == 0)
		r = rombsr_yh_reset(s);
	check(r == 0, "Reset Device", r);
	rombsr_yh_session_close(s);
	s = NULL;
	r = rombsr_yh_session_open(c, YH_FACTORY_AUTH_KEY, YH_FACTORY_PASSWORD, 8, &s);
	check(r == 0, "key 1 with the factory password after the reset", r);
	if (r == 0) {
		r = rombsr_yh_object_info(s, RSA_ID, YH_TYPE_ASYMMETRIC_KEY, &info);
		check(r == ROMBSR_EHSM && rombsr_yh_last_device_error() == YH_ERR_OBJECT_NOT_FOUND,
		      "the keys are gone", r == ROMBSR_EHSM ? 0 : r);
	}
	rombsr_yh_session_close(s);
}

int main(int argc, char **argv)
{
	struct rombsr_yh_connector *c = NULL;
	struct rombsr_yh_session *s = NULL;
	struct rombsr_yh_device_info info;
	EVP_PKEY *rsa = NULL, *ec = NULL;
	bool reset = false;
	unsigned idle = 0;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reset") == 0)
			reset = true;
		else if (strcmp(argv[i], "--idle") == 0 && i + 1 < argc)
			idle = (unsigned)strtoul(argv[++i], NULL, 10);
		else
			url = argv[i];
	}
	r = rombsr_yh_connector_open(url, &c);
	check(r == 0, "connector status=OK", r);
	if (r != 0)
		return 1;
	if (idle > 0) {
		step_idle(c, idle);
		rombsr_yh_connector_close(c);
		printf("%s: %d failed\n", failures == 0 ? "all passed" : "FAILED", failures);
		return failures == 0 ? 0 : 1;
	}
	r = rombsr_yh_device_info(c, &info);
	check(r == 0 && info.n_algorithms > 0, "Device Info", r);
	printf("# device %u.%u.%u serial %u, log %u/%u, %zu algorithms\n", info.major, info.minor, info.patch,
	       info.serial, info.log_used, info.log_total, info.n_algorithms);
	r = rombsr_yh_session_open(c, YH_FACTORY_AUTH_KEY, YH_FACTORY_PASSWORD, 8, &s);
	check(r == 0, "a session with key 1 and the factory password", r);
	if (r != 0) {
		rombsr_yh_connector_close(c);
		return 1;
	}
	cleanup_objects(s);
	step_keys(s, &rsa, &ec);
	step_sign(s, rsa, ec);
	step_opaque_and_objects(s);
	step_log(s);
	step_limited(c, s);
	step_wrap(s, ec);
	step_put_wrap(s);
	step_threads(c, ec);
	if (!reset)
		cleanup_objects(s);
	rombsr_yh_session_close(s);
	if (reset)
		step_reset(c);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	rombsr_yh_connector_close(c);
	printf("%s: %d failed\n", failures == 0 ? "all passed" : "FAILED", failures);
	return failures == 0 ? 0 : 1;
}
