/* The device's audit log entries on the wire, and their hash chain. */
#include "yh_internal.h"

#include "../common/error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define ENTRY_HEAD_LEN (YH_LOG_ENTRY_LEN - YH_LOG_DIGEST_LEN)

void rombsr_yh_log_entry_encode(const struct rombsr_yh_log_entry *e, uint8_t out[YH_LOG_ENTRY_LEN])
{
	yh_put16(out, e->number);
	out[2] = e->command;
	yh_put16(out + 3, e->length);
	yh_put16(out + 5, e->session_key);
	yh_put16(out + 7, e->target_key);
	yh_put16(out + 9, e->second_key);
	out[11] = e->result;
	yh_put32(out + 12, e->systick);
	memcpy(out + ENTRY_HEAD_LEN, e->digest, YH_LOG_DIGEST_LEN);
}

int rombsr_yh_log_entry_decode(const uint8_t in[YH_LOG_ENTRY_LEN], struct rombsr_yh_log_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->number = yh_get16(in);
	e->command = in[2];
	e->length = yh_get16(in + 3);
	e->session_key = yh_get16(in + 5);
	e->target_key = yh_get16(in + 7);
	e->second_key = yh_get16(in + 9);
	e->result = in[11];
	e->systick = yh_get32(in + 12);
	memcpy(e->digest, in + ENTRY_HEAD_LEN, YH_LOG_DIGEST_LEN);
	return 0;
}

bool rombsr_yh_log_entry_chains(const struct rombsr_yh_log_entry *e, const uint8_t previous[YH_LOG_DIGEST_LEN])
{
	uint8_t wire[YH_LOG_ENTRY_LEN], digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok;

	rombsr_yh_log_entry_encode(e, wire);
	/* A library failure cannot say yes: it reads as a broken chain. */
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, wire, ENTRY_HEAD_LEN) == 1 &&
	     EVP_DigestUpdate(ctx, previous, YH_LOG_DIGEST_LEN) == 1 &&
	     EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1 && digest_len >= YH_LOG_DIGEST_LEN &&
	     CRYPTO_memcmp(digest, e->digest, YH_LOG_DIGEST_LEN) == 0;
	EVP_MD_CTX_free(ctx);
	return ok;
}
