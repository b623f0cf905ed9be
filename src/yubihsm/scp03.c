/* SCP03 as the YubiHSM 2 does it, on OpenSSL: AES-CMAC, the KDF in counter
 * mode, and the session's AES-128-CBC with the IV made from the counter. */
#include "yh_internal.h"

#include "../common/error.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

int rombsr_yh_cmac(const uint8_t key[YH_SCP_KEY_LEN], const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
		   uint8_t out[YH_SCP_BLOCK])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t out_len = 0;
	int r = 0;

	if (ctx == NULL || EVP_MAC_init(ctx, key, YH_SCP_KEY_LEN, params) != 1 || EVP_MAC_update(ctx, a, a_len) != 1 ||
	    (b_len > 0 && EVP_MAC_update(ctx, b, b_len) != 1) || EVP_MAC_final(ctx, out, &out_len, YH_SCP_BLOCK) != 1 ||
	    out_len != YH_SCP_BLOCK)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "AES-CMAC");
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return r;
}

int rombsr_yh_scp_kdf(const uint8_t key[YH_SCP_KEY_LEN], uint8_t constant, const uint8_t context[2 * YH_SCP_CHALLENGE_LEN],
		      uint16_t bits, uint8_t *out)
{
	uint8_t input[16 + 2 * YH_SCP_CHALLENGE_LEN] = {0};
	uint8_t block[YH_SCP_BLOCK];
	int r;

	if (bits != 64 && bits != 128)
		return rombsr_error(ROMBSR_EINTERNAL, "SCP03 KDF: %u bits", bits);
	/* label: 11 zero bytes and the constant; separator; L; counter i = 1 */
	input[11] = constant;
	input[12] = 0x00;
	yh_put16(input + 13, bits);
	input[15] = 0x01;
	memcpy(input + 16, context, 2 * YH_SCP_CHALLENGE_LEN);
	r = rombsr_yh_cmac(key, input, sizeof(input), NULL, 0, block);
	if (r == 0)
		memcpy(out, block, bits / 8);
	OPENSSL_cleanse(block, sizeof(block));
	return r;
}

void rombsr_yh_counter_increment(uint8_t counter[YH_SCP_BLOCK])
{
	for (int i = YH_SCP_BLOCK - 1; i >= 0; i--)
		if (++counter[i] != 0)
			break;
}

/* One AES-128 pass without padding: ECB (the IV) or CBC. */
static int aes(const EVP_CIPHER *cipher, int enc, const uint8_t key[YH_SCP_KEY_LEN], const uint8_t *iv,
	       const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0, r = 0;

	if (len > INT32_MAX || len % YH_SCP_BLOCK != 0)
		r = rombsr_error(ROMBSR_EINTERNAL, "AES: %zu bytes, not whole blocks", len);
	else if (ctx == NULL || EVP_CipherInit_ex2(ctx, cipher, key, iv, enc, NULL) != 1 ||
		 EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 || EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
		 EVP_CipherFinal_ex(ctx, out + n, &fin) != 1 || (size_t)n + (size_t)fin != len)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "AES-128");
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

static int counter_iv(const uint8_t s_enc[YH_SCP_KEY_LEN], const uint8_t counter[YH_SCP_BLOCK],
		      uint8_t iv[YH_SCP_BLOCK])
{
	return aes(EVP_aes_128_ecb(), 1, s_enc, NULL, counter, YH_SCP_BLOCK, iv);
}

int rombsr_yh_scp_encrypt(const uint8_t s_enc[YH_SCP_KEY_LEN], const uint8_t counter[YH_SCP_BLOCK], const uint8_t *in,
			  size_t len, uint8_t *out, size_t out_size, size_t *out_len)
{
	size_t padded = (len / YH_SCP_BLOCK + 1) * YH_SCP_BLOCK;
	uint8_t iv[YH_SCP_BLOCK];
	int r;

	if (padded > out_size)
		return rombsr_error(ROMBSR_EINVAL, "a command of %zu bytes, more than a session message holds", len);
	/* In place when in == out: the plaintext moves nowhere. */
	if (out != in && len > 0)
		memmove(out, in, len);
	out[len] = 0x80;
	memset(out + len + 1, 0, padded - len - 1);
	r = counter_iv(s_enc, counter, iv);
	if (r == 0)
		r = aes(EVP_aes_128_cbc(), 1, s_enc, iv, out, padded, out);
	if (r == 0)
		*out_len = padded;
	else
		OPENSSL_cleanse(out, padded);
	OPENSSL_cleanse(iv, sizeof(iv));
	return r;
}

int rombsr_yh_scp_decrypt(const uint8_t s_enc[YH_SCP_KEY_LEN], const uint8_t counter[YH_SCP_BLOCK], const uint8_t *in,
			  size_t len, uint8_t *out, size_t *out_len)
{
	uint8_t iv[YH_SCP_BLOCK];
	size_t n = len;
	int r;

	if (len == 0 || len % YH_SCP_BLOCK != 0)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM: encrypted response of %zu bytes, not whole blocks", len);
	r = counter_iv(s_enc, counter, iv);
	if (r == 0)
		r = aes(EVP_aes_128_cbc(), 0, s_enc, iv, in, len, out);
	OPENSSL_cleanse(iv, sizeof(iv));
	if (r != 0)
		return r;
	while (n > 0 && len - n < YH_SCP_BLOCK && out[n - 1] == 0x00)
		n--;
	if (n == 0 || len - n >= YH_SCP_BLOCK || out[n - 1] != 0x80) {
		OPENSSL_cleanse(out, len);
		return rombsr_error(ROMBSR_EHSM, "YubiHSM: decrypted response without its 0x80 padding");
	}
	*out_len = n - 1;
	return 0;
}
