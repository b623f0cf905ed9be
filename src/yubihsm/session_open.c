/* Opening and closing a session: Create Session (host challenge out; session
 * ID, card challenge and card cryptogram back), the three session keys from
 * the password's two, Authenticate Session with the host cryptogram, and
 * the card cryptogram checked. */
#include "yh_internal.h"

#include "../common/error.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CREATE_RESPONSE_LEN (1 + YH_SCP_CHALLENGE_LEN + YH_SCP_MAC_LEN)

/* S-ENC from the encryption key; S-MAC and S-RMAC from the MAC key. */
static int session_keys(struct rombsr_yh_session *s, const uint8_t enc[YH_SCP_KEY_LEN],
			const uint8_t mac[YH_SCP_KEY_LEN], const uint8_t context[2 * YH_SCP_CHALLENGE_LEN])
{
	int r = rombsr_yh_scp_kdf(enc, YH_SCP_S_ENC, context, 128, s->s_enc);

	if (r == 0)
		r = rombsr_yh_scp_kdf(mac, YH_SCP_S_MAC, context, 128, s->s_mac);
	if (r == 0)
		r = rombsr_yh_scp_kdf(mac, YH_SCP_S_RMAC, context, 128, s->s_rmac);
	return r;
}

/* Authenticate Session: sid || host cryptogram || C-MAC on a zero chain.
 * lib/yubihsm.c accepts an answer with no data, or one with an R-MAC. */
static int authenticate(struct rombsr_yh_session *s, const char *what, const uint8_t host_cryptogram[YH_SCP_MAC_LEN])
{
	uint8_t msg[YH_MSG_HEADER + 1 + 2 * YH_SCP_MAC_LEN], answer[YH_RESPONSE_MAX];
	size_t answer_len = 0, len;
	int r;

	msg[0] = YH_CMD_AUTHENTICATE_SESSION;
	yh_put16(msg + 1, 1 + 2 * YH_SCP_MAC_LEN);
	msg[3] = s->sid;
	memcpy(msg + 4, host_cryptogram, YH_SCP_MAC_LEN);
	memset(s->mac_chain, 0, sizeof(s->mac_chain));
	r = rombsr_yh_add_cmac(s, msg, 4 + YH_SCP_MAC_LEN);
	if (r == 0)
		r = rombsr_yh_connector_transfer(s->connector, msg, sizeof(msg), answer, &answer_len);
	if (r != 0)
		return r;
	if (answer_len < YH_MSG_HEADER || yh_get16(answer + 1) != answer_len - YH_MSG_HEADER)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, its length field wrong", what,
				    answer_len);
	len = answer_len - YH_MSG_HEADER;
	if (answer[0] == YH_CMD_ERROR && len == 1)
		return rombsr_yh_device_failure(YH_CMD_AUTHENTICATE_SESSION, what, answer[YH_MSG_HEADER]);
	if (answer[0] != (YH_CMD_AUTHENTICATE_SESSION | YH_RESPONSE_FLAG))
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response to command 0x%02x, expected 0x%02x", what,
				    answer[0], YH_CMD_AUTHENTICATE_SESSION | YH_RESPONSE_FLAG);
	if (len == 0)
		return 0;
	if (len != YH_SCP_MAC_LEN)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, expected none or an R-MAC", what,
				    len);
	return rombsr_yh_check_rmac(s, what, answer, answer_len);
}

/* Create Session; the response's session ID, card challenge (into the
 * second half of context) and card cryptogram. */
static int create(struct rombsr_yh_session *s, const char *what, uint8_t context[2 * YH_SCP_CHALLENGE_LEN],
		  uint8_t card_cryptogram[YH_SCP_MAC_LEN])
{
	uint8_t req[2 + YH_SCP_CHALLENGE_LEN], resp[CREATE_RESPONSE_LEN + 1];
	size_t resp_len = sizeof(resp);
	int r;

	if (RAND_bytes(context, YH_SCP_CHALLENGE_LEN) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "YubiHSM host challenge");
	yh_put16(req, s->auth_id);
	memcpy(req + 2, context, YH_SCP_CHALLENGE_LEN);
	r = rombsr_yh_plain(s->connector, YH_CMD_CREATE_SESSION, what, req, sizeof(req), resp, &resp_len);
	if (r != 0)
		return r;
	if (resp_len != CREATE_RESPONSE_LEN)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, expected %d", what, resp_len,
				    CREATE_RESPONSE_LEN);
	s->sid = resp[0];
	memcpy(context + YH_SCP_CHALLENGE_LEN, resp + 1, YH_SCP_CHALLENGE_LEN);
	memcpy(card_cryptogram, resp + 1 + YH_SCP_CHALLENGE_LEN, YH_SCP_MAC_LEN);
	return 0;
}

/* What the device must have sent, and what we send back. */
static int cryptograms(struct rombsr_yh_session *s, const uint8_t context[2 * YH_SCP_CHALLENGE_LEN],
		       uint8_t card[YH_SCP_MAC_LEN], uint8_t host[YH_SCP_MAC_LEN])
{
	int r = rombsr_yh_scp_kdf(s->s_mac, YH_SCP_CARD_CRYPTOGRAM, context, 64, card);

	if (r == 0)
		r = rombsr_yh_scp_kdf(s->s_mac, YH_SCP_HOST_CRYPTOGRAM, context, 64, host);
	return r;
}

int rombsr_yh_session_open(struct rombsr_yh_connector *c, uint16_t auth_id, const char *password,
			   size_t password_len, struct rombsr_yh_session **out)
{
	uint8_t enc[YH_SCP_KEY_LEN], mac[YH_SCP_KEY_LEN], context[2 * YH_SCP_CHALLENGE_LEN];
	uint8_t card_got[YH_SCP_MAC_LEN], card_want[YH_SCP_MAC_LEN], host[YH_SCP_MAC_LEN];
	struct rombsr_yh_session *s;
	char what[64];
	int r;

	*out = NULL;
	rombsr_yh_set_last_device_error(YH_ERR_OK);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ROMBSR_ENOMEM;
	s->connector = c;
	s->auth_id = auth_id;
	s->state = YH_SESSION_ENDED;
	r = rombsr_yh_derive_keys(password, password_len, enc, mac);
	if (r != 0)
		goto out;
	snprintf(what, sizeof(what), "Create Session (key 0x%04x)", auth_id);
	r = create(s, what, context, card_got);
	if (r == 0)
		r = session_keys(s, enc, mac, context);
	if (r == 0)
		r = cryptograms(s, context, card_want, host);
	if (r != 0)
		goto out;
	snprintf(what, sizeof(what), "Authenticate Session (key 0x%04x)", auth_id);
	/* The host cryptogram goes first, as lib/yubihsm.c sends it: a wrong
	 * password is then the device's refusal (ROMBSR_EAUTH), and a card
	 * cryptogram that fails after the device accepted ours is tampering. */
	r = authenticate(s, what, host);
	if (r == 0 && CRYPTO_memcmp(card_got, card_want, YH_SCP_MAC_LEN) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "YubiHSM %s: the card cryptogram does not verify", what);
	if (r != 0)
		goto out;
	memset(s->counter, 0, sizeof(s->counter));
	rombsr_yh_counter_increment(s->counter);
	s->state = YH_SESSION_OPEN;
	*out = s;
out:
	OPENSSL_cleanse(enc, sizeof(enc));
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(card_want, sizeof(card_want));
	OPENSSL_cleanse(host, sizeof(host));
	if (r != 0) {
		OPENSSL_cleanse(s, sizeof(*s));
		free(s);
	}
	return r;
}

void rombsr_yh_session_close(struct rombsr_yh_session *s)
{
	struct rombsr_error_saved saved;
	uint8_t last, resp[1];
	size_t resp_len = sizeof(resp);

	if (s == NULL)
		return;
	if (s->state == YH_SESSION_OPEN) {
		/* Closing comes in cleanup too: the failure that led here keeps
		 * its message. */
		rombsr_error_save(&saved);
		last = rombsr_yh_last_device_error();
		(void)rombsr_yh_command(s, YH_CMD_CLOSE_SESSION, "Close Session", NULL, 0, resp, &resp_len);
		rombsr_yh_set_last_device_error(last);
		rombsr_error_restore(&saved);
	}
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}
