/* SCP03 sessions: Create Session and Authenticate Session with keys derived
 * from the password, then each command wrapped in Session Message
 * (encrypted, C-MACed on a chain), each answer's R-MAC checked before a byte
 * of it is believed. */
#include "yh_internal.h"

#include "../common/error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rombsr_yh_derive_keys(const char *password, size_t password_len, uint8_t enc[16], uint8_t mac[16])
{
	uint8_t key[2 * YH_SCP_KEY_LEN];

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	if (password_len > INT32_MAX)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM password: too long");
	if (PKCS5_PBKDF2_HMAC(password, (int)password_len, (const unsigned char *)YH_PBKDF2_SALT,
			      (int)strlen(YH_PBKDF2_SALT), YH_PBKDF2_ITERATIONS, EVP_sha256(), (int)sizeof(key),
			      key) != 1) {
		OPENSSL_cleanse(key, sizeof(key));
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "PBKDF2-HMAC-SHA256 of the YubiHSM password");
	}
	memcpy(enc, key, YH_SCP_KEY_LEN);
	memcpy(mac, key + YH_SCP_KEY_LEN, YH_SCP_KEY_LEN);
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

uint16_t rombsr_yh_session_auth_id(const struct rombsr_yh_session *s)
{
	return s->auth_id;
}

/* The R-MAC closing msg: CMAC(S-RMAC, chain || msg less its last 8 bytes),
 * the header's length still counting them. */
int rombsr_yh_check_rmac(struct rombsr_yh_session *s, const char *what, const uint8_t *msg, size_t msg_len)
{
	uint8_t mac[YH_SCP_BLOCK];
	int r;

	if (msg_len < YH_MSG_HEADER + YH_SCP_MAC_LEN) {
		s->state = YH_SESSION_BROKEN;
		return rombsr_error(ROMBSR_ESECURITY, "YubiHSM %s: response without its R-MAC", what);
	}
	r = rombsr_yh_cmac(s->s_rmac, s->mac_chain, YH_SCP_BLOCK, msg, msg_len - YH_SCP_MAC_LEN, mac);
	if (r == 0 && CRYPTO_memcmp(mac, msg + msg_len - YH_SCP_MAC_LEN, YH_SCP_MAC_LEN) != 0) {
		s->state = YH_SESSION_BROKEN;
		r = rombsr_error(ROMBSR_ESECURITY, "YubiHSM %s: the response's R-MAC does not verify", what);
	}
	return r;
}

/* Appends the C-MAC to msg (header and data already there, the header's
 * length counting the MAC), advancing the chain. */
int rombsr_yh_add_cmac(struct rombsr_yh_session *s, uint8_t *msg, size_t len_without_mac)
{
	uint8_t chain[YH_SCP_BLOCK];
	int r = rombsr_yh_cmac(s->s_mac, s->mac_chain, YH_SCP_BLOCK, msg, len_without_mac, chain);

	if (r == 0) {
		memcpy(s->mac_chain, chain, YH_SCP_BLOCK);
		memcpy(msg + len_without_mac, chain, YH_SCP_MAC_LEN);
	}
	return r;
}

int rombsr_yh_session_wrap(struct rombsr_yh_session *s, const uint8_t *inner, size_t inner_len, uint8_t *out,
			   size_t out_size, size_t *out_len)
{
	size_t room = out_size < YH_MSG_MAX ? out_size : YH_MSG_MAX;
	size_t enc_len = 0;
	int r;

	if (room < YH_MSG_HEADER + 1 + YH_SCP_BLOCK + YH_SCP_MAC_LEN)
		return rombsr_error(ROMBSR_EINTERNAL, "YubiHSM: no room for a session message");
	out[0] = YH_CMD_SESSION_MESSAGE;
	out[3] = s->sid;
	r = rombsr_yh_scp_encrypt(s->s_enc, s->counter, inner, inner_len, out + 4, room - 4 - YH_SCP_MAC_LEN, &enc_len);
	if (r != 0)
		return r;
	yh_put16(out + 1, (uint16_t)(1 + enc_len + YH_SCP_MAC_LEN));
	r = rombsr_yh_add_cmac(s, out, 4 + enc_len);
	if (r == 0)
		*out_len = 4 + enc_len + YH_SCP_MAC_LEN;
	return r;
}

static int ended(struct rombsr_yh_session *s, int r)
{
	s->state = YH_SESSION_ENDED;
	return r;
}

static int unwrap(struct rombsr_yh_session *s, const char *what, const uint8_t *msg, size_t msg_len, uint8_t *inner,
		  size_t *inner_len)
{
	size_t len, n = 0;
	int r;

	if (msg_len < YH_MSG_HEADER || yh_get16(msg + 1) != msg_len - YH_MSG_HEADER)
		return ended(s, rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, its length field wrong",
					     what, msg_len));
	len = msg_len - YH_MSG_HEADER;
	/* The device refuses a session message it cannot authenticate in the
	 * clear, and forgets the session. */
	if (msg[0] == YH_CMD_ERROR && len == 1)
		return ended(s, rombsr_yh_device_failure(YH_CMD_SESSION_MESSAGE, what, msg[YH_MSG_HEADER]));
	r = rombsr_yh_check_rmac(s, what, msg, msg_len);
	if (r != 0)
		return r;
	len -= YH_SCP_MAC_LEN;
	if (msg[0] != (uint8_t)(YH_CMD_SESSION_MESSAGE | YH_RESPONSE_FLAG))
		return ended(s, rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response to command 0x%02x, not a session message",
					     what, msg[0]));
	if (len < 1 + YH_SCP_BLOCK || msg[YH_MSG_HEADER] != s->sid)
		return ended(s, rombsr_error(ROMBSR_EHSM, "YubiHSM %s: session message response for another session "
					     "or too short (%zu bytes)", what, len));
	r = rombsr_yh_scp_decrypt(s->s_enc, s->counter, msg + YH_MSG_HEADER + 1, len - 1, inner, &n);
	if (r != 0)
		return ended(s, r);
	rombsr_yh_counter_increment(s->counter);
	if (n < YH_MSG_HEADER || yh_get16(inner + 1) != n - YH_MSG_HEADER) {
		OPENSSL_cleanse(inner, len - 1);
		return ended(s, rombsr_error(ROMBSR_EHSM, "YubiHSM %s: inner response of %zu bytes, its length field "
					     "wrong", what, n));
	}
	*inner_len = n;
	return 0;
}

int rombsr_yh_session_unwrap(struct rombsr_yh_session *s, const char *what, const uint8_t *msg, size_t msg_len,
			     uint8_t *inner, size_t *inner_len)
{
	int r = unwrap(s, what, msg, msg_len, inner, inner_len);

	/* Whatever failed, this side can no longer follow the device's
	 * counter and chain. */
	if (r != 0 && s->state == YH_SESSION_OPEN)
		s->state = YH_SESSION_ENDED;
	return r;
}

static int usable(struct rombsr_yh_session *s, const char *what)
{
	if (s->state == YH_SESSION_BROKEN)
		return rombsr_error(ROMBSR_ESECURITY, "YubiHSM %s: the session failed a security check; open another",
				    what);
	if (s->state == YH_SESSION_ENDED) {
		/* So that a caller judging whether to open a new session sees
		 * what the device would say. */
		rombsr_yh_set_last_device_error(YH_ERR_INVALID_SESSION);
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: the session has ended; open another", what);
	}
	return 0;
}

int rombsr_yh_command(struct rombsr_yh_session *s, uint8_t cmd, const char *what, const uint8_t *data, size_t len,
		      uint8_t *resp, size_t *resp_len)
{
	uint8_t plain[YH_RESPONSE_MAX], msg[YH_MSG_MAX], answer[YH_RESPONSE_MAX];
	size_t plain_len = 0, msg_len = 0, answer_len = 0, body_len = 0;
	const uint8_t *body = NULL;
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	r = usable(s, what);
	if (r == 0)
		r = rombsr_yh_frame(cmd, data, len, plain, sizeof(plain), &plain_len);
	if (r == 0) {
		r = rombsr_yh_session_wrap(s, plain, plain_len, msg, sizeof(msg), &msg_len);
		if (r != 0)
			r = rombsr_error_wrap(r, "YubiHSM %s", what);
	}
	if (r != 0)
		goto out;
	r = rombsr_yh_connector_transfer(s->connector, msg, msg_len, answer, &answer_len);
	if (r != 0) {
		/* The device may have run it: the chain is no longer shared. */
		s->state = YH_SESSION_ENDED;
		goto out;
	}
	r = rombsr_yh_session_unwrap(s, what, answer, answer_len, plain, &plain_len);
	if (r == 0)
		r = rombsr_yh_parse_response(cmd, what, plain, plain_len, &body, &body_len);
	if (r != 0) {
		if (rombsr_yh_last_device_error() == YH_ERR_INVALID_SESSION)
			s->state = YH_SESSION_ENDED;
		goto out;
	}
	if (body_len > *resp_len) {
		r = rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, at most %zu expected", what, body_len,
				 *resp_len);
		goto out;
	}
	if (body_len > 0)
		memcpy(resp, body, body_len);
	*resp_len = body_len;
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(msg, sizeof(msg));
	OPENSSL_cleanse(answer, sizeof(answer));
	return r;
}

int rombsr_yh_transfer(struct rombsr_yh_session *s, uint8_t cmd, const uint8_t *data, size_t len, uint8_t *resp,
		       size_t *resp_len)
{
	char what[32];

	snprintf(what, sizeof(what), "%s", rombsr_yh_command_name(cmd));
	if (strcmp(what, "command") == 0)
		snprintf(what, sizeof(what), "command 0x%02x", cmd);
	return rombsr_yh_command(s, cmd, what, data, len, resp, resp_len);
}

int rombsr_yh_command_alloc(struct rombsr_yh_session *s, uint8_t cmd, const char *what, const uint8_t *data,
			    size_t len, size_t min, uint8_t **out, size_t *out_len)
{
	uint8_t resp[YH_MSG_MAX];
	size_t resp_len = sizeof(resp);
	int r;

	*out = NULL;
	*out_len = 0;
	r = rombsr_yh_command(s, cmd, what, data, len, resp, &resp_len);
	if (r == 0 && resp_len < min)
		r = rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, at least %zu expected", what, resp_len,
				 min);
	if (r == 0 && (*out = malloc(resp_len > 0 ? resp_len : 1)) == NULL)
		r = ROMBSR_ENOMEM;
	if (r == 0) {
		memcpy(*out, resp, resp_len);
		*out_len = resp_len;
	}
	OPENSSL_cleanse(resp, resp_len);
	return r;
}
