/* Sign PKCS1, Sign PSS, Sign ECDSA over a digest the caller computed. */
#include "yh_internal.h"

#include "../common/error.h"

#include <stdio.h>
#include <string.h>

#define SIGN_HEAD_MAX 5
/* The longest digest any of them takes (ECDSA P-521: 66 bytes). */
#define DIGEST_MAX 66

static bool rsa_digest_len(size_t len)
{
	return len == 20 || len == 32 || len == 48 || len == 64;
}

static bool ecdsa_digest_len(size_t len)
{
	return len == 20 || len == 28 || len == 32 || len == 48 || len == 64 || len == 66;
}

/* head || digest in, the signature out into sig (sig_len in/out). */
static int sign(struct rombsr_yh_session *s, uint8_t cmd, const char *what, const uint8_t *head, size_t head_len,
		const uint8_t *digest, size_t digest_len, uint8_t *sig, size_t *sig_len)
{
	uint8_t req[SIGN_HEAD_MAX + DIGEST_MAX], resp[YH_MSG_MAX];
	size_t resp_len = sizeof(resp);
	int r;

	memcpy(req, head, head_len);
	memcpy(req + head_len, digest, digest_len);
	r = rombsr_yh_command(s, cmd, what, req, head_len + digest_len, resp, &resp_len);
	if (r != 0)
		return r;
	if (resp_len == 0)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: empty signature", what);
	if (resp_len > *sig_len)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: signature of %zu bytes, room for %zu", what, resp_len,
				    *sig_len);
	memcpy(sig, resp, resp_len);
	*sig_len = resp_len;
	return 0;
}

/* Sign PKCS1 and Sign ECDSA: key ID || digest. */
static int sign_digest(struct rombsr_yh_session *s, uint8_t cmd, uint16_t id, bool (*len_ok)(size_t),
		       const char *lengths, const uint8_t *digest, size_t digest_len, uint8_t *sig, size_t *sig_len)
{
	uint8_t head[2];
	char what[64];

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "%s (key 0x%04x)", rombsr_yh_command_name(cmd), id);
	if (!len_ok(digest_len))
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: a digest of %zu bytes, not %s", what, digest_len, lengths);
	yh_put16(head, id);
	return sign(s, cmd, what, head, sizeof(head), digest, digest_len, sig, sig_len);
}

int rombsr_yh_sign_pkcs1(struct rombsr_yh_session *s, uint16_t id, const uint8_t *digest, size_t digest_len,
			 uint8_t *sig, size_t *sig_len)
{
	return sign_digest(s, YH_CMD_SIGN_PKCS1, id, rsa_digest_len, "20, 32, 48 or 64", digest, digest_len, sig,
			   sig_len);
}

int rombsr_yh_sign_pss(struct rombsr_yh_session *s, uint16_t id, uint8_t mgf1, uint16_t salt_len,
		       const uint8_t *digest, size_t digest_len, uint8_t *sig, size_t *sig_len)
{
	uint8_t head[5];
	char what[64];

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Sign PSS (key 0x%04x)", id);
	if (!rsa_digest_len(digest_len))
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: a digest of %zu bytes, not 20, 32, 48 or 64", what,
				    digest_len);
	if (mgf1 < YH_ALGO_MGF1_SHA1 || mgf1 > YH_ALGO_MGF1_SHA512)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: algorithm %u is not an MGF1", what, mgf1);
	yh_put16(head, id);
	head[2] = mgf1;
	yh_put16(head + 3, salt_len);
	return sign(s, YH_CMD_SIGN_PSS, what, head, sizeof(head), digest, digest_len, sig, sig_len);
}

int rombsr_yh_sign_ecdsa(struct rombsr_yh_session *s, uint16_t id, const uint8_t *digest, size_t digest_len,
			 uint8_t *sig, size_t *sig_len)
{
	return sign_digest(s, YH_CMD_SIGN_ECDSA, id, ecdsa_digest_len, "20, 28, 32, 48, 64 or 66", digest, digest_len,
			   sig, sig_len);
}
