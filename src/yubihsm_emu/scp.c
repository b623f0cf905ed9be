/* SCP03 primitives (scp.h). */
#include "scp.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

int emu_cmac(const uint8_t key[16], const uint8_t *data, size_t len, uint8_t mac[16])
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t out = 0;
	int r = -1;

	if (m == NULL)
		return -1;
	ctx = EVP_MAC_CTX_new(m);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx != NULL && EVP_MAC_init(ctx, key, 16, params) == 1 && EVP_MAC_update(ctx, data, len) == 1 &&
	    EVP_MAC_final(ctx, mac, &out, 16) == 1 && out == 16)
		r = 0;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return r;
}

int emu_kdf(const uint8_t key[16], uint8_t type, const uint8_t context[16], unsigned bits, uint8_t *out)
{
	/* label: 11 zero bytes and the constant; a zero separator; L (16
	 * bits); the counter i = 1; the context. One CMAC block gives the 64
	 * or 128 bits the device derives. */
	uint8_t input[32] = {0};
	uint8_t block[16];
	int r;

	if (bits != 64 && bits != 128)
		return -1;
	input[11] = type;
	input[12] = 0;
	input[13] = (uint8_t)(bits >> 8);
	input[14] = (uint8_t)bits;
	input[15] = 1;
	memcpy(input + 16, context, 16);
	r = emu_cmac(key, input, sizeof(input), block);
	if (r == 0)
		memcpy(out, block, bits / 8);
	OPENSSL_cleanse(block, sizeof(block));
	return r;
}

static int aes_run(const EVP_CIPHER *cipher, const uint8_t key[16], const uint8_t *iv, const uint8_t *in, size_t len,
		   uint8_t *out, int encrypt)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, n2 = 0, r = -1;

	if (ctx == NULL || len > (size_t)INT32_MAX)
		goto out;
	if (EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, encrypt) != 1 || EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 || EVP_CipherFinal_ex(ctx, out + n, &n2) != 1)
		goto out;
	if ((size_t)(n + n2) == len)
		r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int emu_aes_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	return aes_run(EVP_aes_128_ecb(), key, NULL, in, 16, out, 1);
}

int emu_aes_cbc(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, size_t len, uint8_t *out,
		bool encrypt)
{
	if (len % 16 != 0)
		return -1;
	return aes_run(EVP_aes_128_cbc(), key, iv, in, len, out, encrypt ? 1 : 0);
}

size_t emu_pad(uint8_t *buf, size_t len)
{
	buf[len++] = 0x80;
	while (len % 16 != 0)
		buf[len++] = 0;
	return len;
}

long emu_unpad(const uint8_t *buf, size_t len)
{
	while (len > 0 && buf[len - 1] == 0)
		len--;
	if (len == 0 || buf[len - 1] != 0x80)
		return -1;
	return (long)(len - 1);
}

void emu_counter_increment(uint8_t counter[16])
{
	for (int i = 15; i >= 0; i--)
		if (++counter[i] != 0)
			break;
}
