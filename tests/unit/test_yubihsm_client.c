/* The native YubiHSM 2 client without a device: audit log entries and their
 * chain, the password's PBKDF2, the SCP03 KDF and CMAC, the session's
 * encryption, message framing and malformed responses, and a session
 * message round trip against a device played here with OpenSSL written
 * apart from src/yubihsm/ (so a shared mistake cannot pass unseen). */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/common/hex.h"
#include "../../src/yubihsm/yh_internal.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* ---- the test's own primitives ---- */

static void t_cmac(const uint8_t key[16], const uint8_t *data, size_t len, uint8_t out[16])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string("cipher", (char *)"aes-128-cbc", 0), OSSL_PARAM_construct_end()};
	size_t n = 0;

	if (ctx == NULL || EVP_MAC_init(ctx, key, 16, p) != 1 || EVP_MAC_update(ctx, data, len) != 1 ||
	    EVP_MAC_final(ctx, out, &n, 16) != 1 || n != 16)
		abort();
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

/* AES-128 ECB or CBC, no padding. */
static void t_aes(const EVP_CIPHER *cipher, int enc, const uint8_t key[16], const uint8_t *iv, const uint8_t *in,
		  size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;

	if (ctx == NULL || EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 || EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, out + n, &f) != 1)
		abort();
	EVP_CIPHER_CTX_free(ctx);
}

static void unhex(const char *hex, uint8_t *out, size_t len)
{
	if (rombsr_hex_decode(hex, out, len, "test vector") != 0)
		abort();
}

/* ---- audit log ---- */

static void t_chain_digest(const uint8_t wire[32], const uint8_t prev[16], uint8_t out[16])
{
	uint8_t in[32], md[SHA256_DIGEST_LENGTH];

	memcpy(in, wire, 16);
	memcpy(in + 16, prev, 16);
	SHA256(in, sizeof(in), md);
	memcpy(out, md, 16);
}

static void test_log_entry(void)
{
	struct rombsr_yh_log_entry e = {
		.number = 0x0102, .command = 0x47, .length = 0x0304, .session_key = 0x0506,
		.target_key = 0x0708, .second_key = 0x090a, .result = 0xc7, .systick = 0x0b0c0d0e,
	};
	struct rombsr_yh_log_entry back;
	uint8_t wire[YH_LOG_ENTRY_LEN];
	static const uint8_t want[16] = {0x01, 0x02, 0x47, 0x03, 0x04, 0x05, 0x06, 0x07,
					 0x08, 0x09, 0x0a, 0xc7, 0x0b, 0x0c, 0x0d, 0x0e};

	for (int i = 0; i < 16; i++)
		e.digest[i] = (uint8_t)(0xf0 + i);
	rombsr_yh_log_entry_encode(&e, wire);
	CHECK(memcmp(wire, want, 16) == 0 && wire[16] == 0xf0 && wire[31] == 0xff,
	      "an entry's 32 bytes: big-endian fields in lib/yubihsm.c's order, then the digest");
	CHECK(rombsr_yh_log_entry_decode(wire, &back) == 0 && memcmp(&back, &e, sizeof(e)) == 0,
	      "decode gives the entry back");
}

/* Five entries chained by the test's own SHA-256, as the device's
 * response carries them. */
static size_t build_log(uint8_t *resp)
{
	uint8_t prev[16];
	size_t n = 5;

	yh_put16(resp, 3);
	yh_put16(resp + 2, 7);
	resp[4] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		uint8_t *w = resp + 5 + 32 * i;

		memset(w, 0, 32);
		yh_put16(w, (uint16_t)(40 + i));
		w[2] = (uint8_t)(0x47 + i);
		yh_put16(w + 5, 1);
		yh_put32(w + 12, (uint32_t)(1000 * i));
		if (i == 0)
			memset(w + 16, 0xaa, 16);
		else
			t_chain_digest(w, prev, w + 16);
		memcpy(prev, w + 16, 16);
	}
	return 5 + 32 * n;
}

static size_t first_unchained(const struct rombsr_yh_log *log)
{
	for (size_t i = 1; i < log->n; i++)
		if (!rombsr_yh_log_entry_chains(&log->entries[i], log->entries[i - 1].digest))
			return i;
	return 0;
}

static void test_log_chain(void)
{
	uint8_t resp[5 + 32 * 64];
	struct rombsr_yh_log log;
	size_t len = build_log(resp);

	CHECK(rombsr_yh_parse_log(resp, len, &log) == 0 && log.n == 5 && log.unlogged_boot == 3 &&
		      log.unlogged_auth == 7 && log.entries[4].number == 44 && log.entries[3].systick == 3000,
	      "Get Log Entries' response parses");
	CHECK(first_unchained(&log) == 0, "every entry chains to the one before");
	resp[5 + 32 * 2 + 11] ^= 0x01; /* entry 2's result */
	CHECK(rombsr_yh_parse_log(resp, len, &log) == 0 && first_unchained(&log) == 2,
	      "one byte changed in entry 2 breaks the chain there");
	resp[5 + 32 * 2 + 11] ^= 0x01;
	resp[5 + 32 * 3 + 20] ^= 0x80; /* entry 3's digest */
	CHECK(rombsr_yh_parse_log(resp, len, &log) == 0 && first_unchained(&log) == 3,
	      "a changed digest is caught at its own entry");
	resp[5 + 32 * 3 + 20] ^= 0x80;

	CHECK(tap_fails(rombsr_yh_parse_log(resp, 4, &log), ROMBSR_EHSM, "shorter than its head"),
	      "a response shorter than its head is refused");
	CHECK(tap_fails(rombsr_yh_parse_log(resp, len - 1, &log), ROMBSR_EHSM, "5 entries in 159 bytes"),
	      "a count that does not match the bytes is refused");
	resp[4] = 63;
	CHECK(tap_fails(rombsr_yh_parse_log(resp, 5 + 32 * 63, &log), ROMBSR_EHSM, "at most 62"),
	      "more entries than the device holds are refused");
}

/* ---- keys ---- */

static void test_pbkdf2(void)
{
	uint8_t enc[16], mac[16], want[32], out[32];
	const char *pw = "correct horse battery staple";
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "PBKDF2", NULL);
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
	unsigned int iter = 10000;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pw, strlen(pw)),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)"Yubico", 6),
		OSSL_PARAM_construct_uint(OSSL_KDF_PARAM_ITER, &iter),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	/* `openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:password
	 * -kdfopt salt:Yubico -kdfopt iter:10000 PBKDF2`: the factory key 1. */
	unhex("090b47dbed595654901dee1cc655e420592fd483f759e29909a04c4505d2ce0a", want, 32);
	CHECK(rombsr_yh_derive_keys("password", 8, enc, mac) == 0 && memcmp(enc, want, 16) == 0 &&
		      memcmp(mac, want + 16, 16) == 0,
	      "the factory password gives the factory key (enc then mac)");
	if (ctx == NULL || EVP_KDF_derive(ctx, out, sizeof(out), p) != 1)
		abort();
	CHECK(rombsr_yh_derive_keys(pw, strlen(pw), enc, mac) == 0 && memcmp(enc, out, 16) == 0 &&
		      memcmp(mac, out + 16, 16) == 0,
	      "PBKDF2-HMAC-SHA256, salt Yubico, 10000 rounds, as EVP_KDF computes it");
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

static void test_cmac_and_kdf(void)
{
	uint8_t key[16], msg[16], want[16], out[16], context[16], input[32], kdf[16];
	static const uint8_t constants[] = {YH_SCP_S_ENC, YH_SCP_S_MAC, YH_SCP_S_RMAC};
	bool ok = true;

	/* RFC 4493, examples 1 and 2. */
	unhex("2b7e151628aed2a6abf7158809cf4f3c", key, 16);
	unhex("bb1d6929e95937287fa37d129b756746", want, 16);
	CHECK(rombsr_yh_cmac(key, NULL, 0, NULL, 0, out) == 0 && memcmp(out, want, 16) == 0, "AES-CMAC, RFC 4493 example 1");
	unhex("6bc1bee22e409f96e93d7e117393172a", msg, 16);
	unhex("070a16b46b4d4144f79bdd9dd04a287c", want, 16);
	CHECK(rombsr_yh_cmac(key, msg, 5, msg + 5, 11, out) == 0 && memcmp(out, want, 16) == 0,
	      "AES-CMAC over two parts, RFC 4493 example 2");

	for (int i = 0; i < 16; i++)
		context[i] = (uint8_t)(0x30 + i);
	for (size_t c = 0; c < sizeof(constants); c++) {
		/* label: 11 zero bytes || constant; 0x00; L = 0x0080; i = 0x01; context */
		memset(input, 0, sizeof(input));
		input[11] = constants[c];
		input[13] = 0x00;
		input[14] = 0x80;
		input[15] = 0x01;
		memcpy(input + 16, context, 16);
		t_cmac(key, input, sizeof(input), want);
		ok = ok && rombsr_yh_scp_kdf(key, constants[c], context, 128, kdf) == 0 && memcmp(kdf, want, 16) == 0;
	}
	CHECK(ok, "S-ENC, S-MAC and S-RMAC derivation: one CMAC block over the KDF's input");
	input[11] = YH_SCP_HOST_CRYPTOGRAM;
	input[14] = 0x40;
	t_cmac(key, input, sizeof(input), want);
	memset(kdf, 0xee, sizeof(kdf));
	CHECK(rombsr_yh_scp_kdf(key, YH_SCP_HOST_CRYPTOGRAM, context, 64, kdf) == 0 && memcmp(kdf, want, 8) == 0 &&
		      kdf[8] == 0xee,
	      "a cryptogram: L = 64, eight bytes and no more");
	CHECK(rombsr_yh_scp_kdf(key, 0, context, 96, kdf) == ROMBSR_EINTERNAL, "other lengths are a bug");
}

static void test_encrypt(void)
{
	uint8_t key[16], ctr[16] = {0}, iv[16], in[40], out[64], want[64], back[64];
	size_t n = 0;

	unhex("000102030405060708090a0b0c0d0e0f", key, 16);
	ctr[15] = 1;
	for (int i = 0; i < 40; i++)
		in[i] = (uint8_t)i;
	CHECK(rombsr_yh_scp_encrypt(key, ctr, in, 40, out, sizeof(out), &n) == 0 && n == 48,
	      "40 bytes pad to 48");
	t_aes(EVP_aes_128_ecb(), 1, key, NULL, ctr, 16, iv);
	memcpy(want, in, 40);
	want[40] = 0x80;
	memset(want + 41, 0, 7);
	t_aes(EVP_aes_128_cbc(), 1, key, iv, want, 48, want);
	CHECK(memcmp(out, want, 48) == 0, "CBC with IV = ECB(S-ENC, counter), ISO 7816-4 padding");
	CHECK(rombsr_yh_scp_encrypt(key, ctr, in, 32, out, sizeof(out), &n) == 0 && n == 48,
	      "whole blocks take one more block of padding");
	CHECK(rombsr_yh_scp_decrypt(key, ctr, out, 48, back, &n) == 0 && n == 32 && memcmp(back, in, 32) == 0,
	      "decrypt strips the padding");
	CHECK(rombsr_yh_scp_encrypt(key, ctr, in, 40, out, 47, &n) == ROMBSR_EINVAL, "no room is refused");

	memset(want, 0, 32); /* no 0x80 at all */
	t_aes(EVP_aes_128_cbc(), 1, key, iv, want, 32, out);
	CHECK(tap_fails(rombsr_yh_scp_decrypt(key, ctr, out, 32, back, &n), ROMBSR_EHSM, "padding"),
	      "a plaintext without its padding is refused");
	memset(want, 0, 32);
	want[10] = 0x80; /* then 21 zeros: more than a block */
	t_aes(EVP_aes_128_cbc(), 1, key, iv, want, 32, out);
	CHECK(rombsr_yh_scp_decrypt(key, ctr, out, 32, back, &n) == ROMBSR_EHSM, "padding over a block is refused");
	CHECK(rombsr_yh_scp_decrypt(key, ctr, out, 31, back, &n) == ROMBSR_EHSM, "a partial block is refused");

	memset(ctr, 0xff, 16);
	ctr[0] = 0x00;
	rombsr_yh_counter_increment(ctr);
	CHECK(ctr[0] == 0x01 && ctr[1] == 0x00 && ctr[15] == 0x00, "the counter is one 128-bit big-endian number");
}

/* ---- framing ---- */

static void test_framing(void)
{
	uint8_t msg[16], data[2] = {0x12, 0x34};
	const uint8_t *body = NULL;
	size_t n = 0, body_len = 0;

	CHECK(rombsr_yh_frame(YH_CMD_GET_OPAQUE, data, 2, msg, sizeof(msg), &n) == 0 && n == 5 && msg[0] == 0x43 &&
		      msg[1] == 0 && msg[2] == 2 && msg[3] == 0x12 && msg[4] == 0x34,
	      "cmd || length (big-endian) || data");
	CHECK(rombsr_yh_frame(YH_CMD_GET_OPAQUE, data, 14, msg, sizeof(msg), &n) == ROMBSR_EINVAL,
	      "a message larger than its buffer is refused");

	static const uint8_t ok[] = {0xc3, 0x00, 0x02, 0xab, 0xcd};
	CHECK(rombsr_yh_parse_response(YH_CMD_GET_OPAQUE, "Get Opaque", ok, 5, &body, &body_len) == 0 && body_len == 2 &&
		      body == ok + 3,
	      "a response parses to its data");
	CHECK(tap_fails(rombsr_yh_parse_response(YH_CMD_GET_OPAQUE, "Get Opaque", ok, 2, &body, &body_len), ROMBSR_EHSM,
			"YubiHSM Get Opaque: response of 2 bytes, shorter than its header"),
	      "too short");
	CHECK(tap_fails(rombsr_yh_parse_response(YH_CMD_GET_OPAQUE, "Get Opaque", ok, 4, &body, &body_len), ROMBSR_EHSM,
			"response says 2 bytes of data, 1 came"),
	      "the length field disagrees with what came");
	CHECK(tap_fails(rombsr_yh_parse_response(YH_CMD_PUT_OPAQUE, "Put Opaque", ok, 5, &body, &body_len), ROMBSR_EHSM,
			"response to command 0xc3, expected 0xc2"),
	      "a response to another command");

	static const uint8_t perm[] = {0x7f, 0x00, 0x01, 0x09};
	CHECK(tap_fails(rombsr_yh_parse_response(YH_CMD_SIGN_PKCS1, "Sign PKCS1 (key 0x0102)", perm, 4, &body, &body_len),
			ROMBSR_EHSM, "YubiHSM Sign PKCS1 (key 0x0102): insufficient permissions") &&
		      rombsr_yh_last_device_error() == YH_ERR_INSUFFICIENT_PERMISSIONS,
	      "a device error: ROMBSR_EHSM naming the command and the error, kept for the thread");
	uint8_t digest[31] = {0}, sig[8];
	size_t sig_len = sizeof(sig);
	CHECK(tap_fails(rombsr_yh_sign_pkcs1(NULL, 0x0102, digest, 31, sig, &sig_len), ROMBSR_EINVAL,
			"a digest of 31 bytes") &&
		      rombsr_yh_last_device_error() == YH_ERR_OK,
	      "a failure of this side's own clears the last device error");
	static const uint8_t auth[] = {0x7f, 0x00, 0x01, 0x04};
	CHECK(tap_fails(rombsr_yh_parse_response(YH_CMD_CREATE_SESSION, "Create Session", auth, 4, &body, &body_len),
			ROMBSR_EAUTH, "authentication failed") &&
		      rombsr_yh_last_device_error() == YH_ERR_AUTHENTICATION_FAILED,
	      "a refused session is ROMBSR_EAUTH");
	CHECK(rombsr_yh_parse_response(YH_CMD_GET_OPAQUE, "Get Opaque", auth, 4, &body, &body_len) == ROMBSR_EHSM,
	      "authentication failed on another command is the device's, not a credential");
	static const uint8_t nf[] = {0x7f, 0x00, 0x01, 0x0b};
	CHECK(tap_fails(rombsr_yh_parse_response(YH_CMD_GET_OPAQUE, "Get Opaque", nf, 4, &body, &body_len), ROMBSR_EHSM,
			"object not found") &&
		      rombsr_yh_last_device_error() == YH_ERR_OBJECT_NOT_FOUND,
	      "object not found");
	static const uint8_t odd[] = {0x7f, 0x00, 0x01, 0x42};
	CHECK(tap_fails(rombsr_yh_parse_response(YH_CMD_GET_OPAQUE, "Get Opaque", odd, 4, &body, &body_len), ROMBSR_EHSM,
			"unknown device error 0x42"),
	      "an unknown error byte is shown");
	static const uint8_t long_err[] = {0x7f, 0x00, 0x02, 0x09, 0x00};
	CHECK(tap_fails(rombsr_yh_parse_response(YH_CMD_GET_OPAQUE, "Get Opaque", long_err, 5, &body, &body_len),
			ROMBSR_EHSM, "error response of 2 bytes"),
	      "an error of two bytes is malformed");
	CHECK(strcmp(rombsr_yh_device_error_name(YH_ERR_INVALID_SESSION), "invalid session") == 0,
	      "error names");
}

static void test_object_head(void)
{
	struct rombsr_yh_new_object o = {
		.id = 0x0102, .label = "release", .domains = 0x8001,
		.capabilities = YH_CAP(YH_CAP_SIGN_PKCS) | YH_CAP(YH_CAP_DELETE_ASYMMETRIC_KEY), .algorithm = YH_ALGO_RSA_3072,
	};
	uint8_t head[YH_OBJECT_HEAD_LEN], zeros[YH_LABEL_LEN] = {0};
	static const uint8_t caps[8] = {0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x20};
	static const uint8_t two[2] = {0x01, 0x02};
	uint16_t id = 0;

	CHECK(rombsr_yh_object_head(&o, head) == 0 && head[0] == 0x01 && head[1] == 0x02 &&
		      memcmp(head + 2, "release", 7) == 0 && memcmp(head + 9, zeros, YH_LABEL_LEN - 7) == 0 &&
		      head[42] == 0x80 && head[43] == 0x01 && memcmp(head + 44, caps, 8) == 0 && head[52] == 10,
	      "a new object's head: id, label padded with zeros to 40, domains, capabilities big-endian, algorithm");
	o.label = "0123456789012345678901234567890123456789x";
	CHECK(rombsr_yh_object_head(&o, head) == ROMBSR_EINVAL, "a label of 41 bytes is refused");
	CHECK(rombsr_yh_created_id("Put Opaque", 0, two, 2, &id) == 0 && id == 0x0102, "the device's pick is told");
	CHECK(tap_fails(rombsr_yh_created_id("Put Opaque", 0x0103, two, 2, &id), ROMBSR_EHSM, "asked for 0x0103"),
	      "an object created under another ID than asked is refused");
	CHECK(rombsr_yh_created_id("Put Opaque", 0, two, 1, &id) == ROMBSR_EHSM, "a short ID is refused");
}

static void test_device_info(void)
{
	static const uint8_t resp[] = {2, 4, 0, 0x00, 0x12, 0xd6, 0x87, 62, 5, 1, 9, 12};
	struct rombsr_yh_device_info info;

	CHECK(rombsr_yh_parse_device_info(resp, sizeof(resp), &info) == 0 && info.major == 2 && info.minor == 4 &&
		      info.serial == 1234567 && info.log_total == 62 && info.log_used == 5 && info.n_algorithms == 3 &&
		      info.algorithms[2] == 12,
	      "Device Info parses");
	CHECK(rombsr_yh_parse_device_info(resp, 8, &info) == ROMBSR_EHSM, "a short Device Info is refused");
}

/* ---- a session message, the device played by the test ---- */

struct device {
	uint8_t s_enc[16], s_mac[16], s_rmac[16], chain[16], ctr[16], sid;
};

/* Checks the C-MAC and decrypts as the device would; the inner command. */
static bool device_read(struct device *d, const uint8_t *msg, size_t len, uint8_t *inner, size_t *inner_len)
{
	uint8_t in[YH_MSG_MAX], mac[16], iv[16];

	if (len < 3 + 1 + 16 + 8 || msg[0] != 0x05 || yh_get16(msg + 1) != len - 3 || msg[3] != d->sid)
		return false;
	memcpy(in, d->chain, 16);
	memcpy(in + 16, msg, len - 8);
	t_cmac(d->s_mac, in, 16 + len - 8, mac);
	if (memcmp(mac, msg + len - 8, 8) != 0)
		return false;
	memcpy(d->chain, mac, 16);
	t_aes(EVP_aes_128_ecb(), 1, d->s_enc, NULL, d->ctr, 16, iv);
	t_aes(EVP_aes_128_cbc(), 0, d->s_enc, iv, msg + 4, len - 12, inner);
	*inner_len = len - 12;
	return true;
}

/* The device's answer: inner response encrypted, R-MACed on the chain. */
static size_t device_answer(struct device *d, uint8_t sid, const uint8_t *inner, size_t len, uint8_t *out)
{
	uint8_t pad[YH_MSG_MAX], iv[16], in[YH_MSG_MAX + 16], mac[16];
	size_t padded = (len / 16 + 1) * 16, total = 3 + 1 + padded + 8;

	memcpy(pad, inner, len);
	pad[len] = 0x80;
	memset(pad + len + 1, 0, padded - len - 1);
	t_aes(EVP_aes_128_ecb(), 1, d->s_enc, NULL, d->ctr, 16, iv);
	out[0] = 0x85;
	yh_put16(out + 1, (uint16_t)(total - 3));
	out[3] = sid;
	t_aes(EVP_aes_128_cbc(), 1, d->s_enc, iv, pad, padded, out + 4);
	memcpy(in, d->chain, 16);
	memcpy(in + 16, out, total - 8);
	t_cmac(d->s_rmac, in, 16 + total - 8, mac);
	memcpy(out + total - 8, mac, 8);
	return total;
}

static void session_init(struct rombsr_yh_session *s, struct device *d)
{
	memset(s, 0, sizeof(*s));
	memset(d, 0, sizeof(*d));
	for (int i = 0; i < 16; i++) {
		d->s_enc[i] = (uint8_t)(0x10 + i);
		d->s_mac[i] = (uint8_t)(0x20 + i);
		d->s_rmac[i] = (uint8_t)(0x30 + i);
		d->chain[i] = (uint8_t)(0x40 + i);
	}
	d->ctr[15] = 1;
	d->sid = 3;
	memcpy(s->s_enc, d->s_enc, 16);
	memcpy(s->s_mac, d->s_mac, 16);
	memcpy(s->s_rmac, d->s_rmac, 16);
	memcpy(s->mac_chain, d->chain, 16);
	memcpy(s->counter, d->ctr, 16);
	s->sid = 3;
	s->auth_id = 1;
	s->state = YH_SESSION_OPEN;
}

/* Wraps Get Opaque (0x1234) and has the device read it. */
static bool send_one(struct rombsr_yh_session *s, struct device *d)
{
	static const uint8_t want[16] = {0x43, 0x00, 0x02, 0x12, 0x34, 0x80};
	uint8_t plain[8], msg[YH_MSG_MAX], inner[YH_MSG_MAX];
	size_t plain_len = 0, msg_len = 0, inner_len = 0;

	return rombsr_yh_frame(YH_CMD_GET_OPAQUE, (const uint8_t *)"\x12\x34", 2, plain, sizeof(plain), &plain_len) == 0 &&
	       rombsr_yh_session_wrap(s, plain, plain_len, msg, sizeof(msg), &msg_len) == 0 &&
	       device_read(d, msg, msg_len, inner, &inner_len) && inner_len == 16 && memcmp(inner, want, 16) == 0;
}

static void test_session(void)
{
	static const uint8_t reply[] = {0xc3, 0x00, 0x03, 'a', 'b', 'c'};
	struct rombsr_yh_session s;
	struct device d;
	uint8_t answer[YH_MSG_MAX], inner[YH_MSG_MAX], resp[8];
	size_t n, inner_len = 0, resp_len = sizeof(resp);

	session_init(&s, &d);
	CHECK(send_one(&s, &d), "the device reads the command: C-MAC on the chain, CBC under the counter's IV");
	n = device_answer(&d, 3, reply, sizeof(reply), answer);
	CHECK(rombsr_yh_session_unwrap(&s, "Get Opaque", answer, n, inner, &inner_len) == 0 && inner_len == 6 &&
		      memcmp(inner, reply, 6) == 0 && s.counter[15] == 2 && s.state == YH_SESSION_OPEN,
	      "the answer's R-MAC verifies and it decrypts; the counter moves on");
	d.ctr[15] = 2;
	CHECK(send_one(&s, &d), "the next command chains on");
	n = device_answer(&d, 3, reply, sizeof(reply), answer);
	answer[10] ^= 0x01;
	CHECK(tap_fails(rombsr_yh_session_unwrap(&s, "Get Opaque", answer, n, inner, &inner_len), ROMBSR_ESECURITY,
			"R-MAC does not verify") &&
		      s.state == YH_SESSION_BROKEN,
	      "one byte changed in an answer: ROMBSR_ESECURITY, the session broken");
	CHECK(tap_fails(rombsr_yh_command(&s, YH_CMD_GET_OPAQUE, "Get Opaque", NULL, 0, resp, &resp_len),
			ROMBSR_ESECURITY, "failed a security check"),
	      "a broken session refuses every later command");

	session_init(&s, &d);
	CHECK(send_one(&s, &d), "a fresh session");
	n = device_answer(&d, 3, reply, sizeof(reply), answer);
	CHECK(tap_fails(rombsr_yh_session_unwrap(&s, "Get Opaque", answer, n - 8, inner, &inner_len), ROMBSR_EHSM,
			"length field wrong"),
	      "an answer cut short is refused");
	session_init(&s, &d);
	CHECK(send_one(&s, &d), "again");
	n = device_answer(&d, 3, reply, sizeof(reply), answer);
	yh_put16(answer + 1, 5);
	CHECK(tap_fails(rombsr_yh_session_unwrap(&s, "Get Opaque", answer, 8, inner, &inner_len), ROMBSR_ESECURITY,
			"without its R-MAC"),
	      "an answer too short for an R-MAC is a security failure");
	session_init(&s, &d);
	CHECK(send_one(&s, &d), "again");
	n = device_answer(&d, 4, reply, sizeof(reply), answer);
	CHECK(tap_fails(rombsr_yh_session_unwrap(&s, "Get Opaque", answer, n, inner, &inner_len), ROMBSR_EHSM,
			"another session") &&
		      s.state == YH_SESSION_ENDED,
	      "an authentic answer for another session ID is refused");

	session_init(&s, &d);
	CHECK(send_one(&s, &d), "again");
	static const uint8_t expired[] = {0x7f, 0x00, 0x01, 0x03};
	CHECK(tap_fails(rombsr_yh_session_unwrap(&s, "Get Opaque", expired, 4, inner, &inner_len), ROMBSR_EHSM,
			"YubiHSM Get Opaque: invalid session") &&
		      rombsr_yh_last_device_error() == YH_ERR_INVALID_SESSION && s.state == YH_SESSION_ENDED,
	      "the device's plain refusal (idle timeout) ends the session");
	rombsr_yh_set_last_device_error(YH_ERR_OK);
	CHECK(tap_fails(rombsr_yh_command(&s, YH_CMD_GET_OPAQUE, "Get Opaque", NULL, 0, resp, &resp_len), ROMBSR_EHSM,
			"the session has ended") &&
		      rombsr_yh_last_device_error() == YH_ERR_INVALID_SESSION,
	      "an ended session says so, as the device would (re-open helps)");
}

int main(void)
{
	test_log_entry();
	test_log_chain();
	test_pbkdf2();
	test_cmac_and_kdf();
	test_encrypt();
	test_framing();
	test_device_info();
	test_object_head();
	test_session();
	return tap_done();
}
