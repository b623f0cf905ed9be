/* Authentication keys from a password: Put Authentication Key, Change
 * Authentication Key. The derived keys and every payload holding them are
 * wiped on every path. */
#include "yh_internal.h"

#include "../common/error.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define AUTH_KEY_LEN (2 * YH_SCP_KEY_LEN)

int rombsr_yh_put_authentication_key(struct rombsr_yh_session *s, const struct rombsr_yh_new_object *o,
				     const char *password, size_t password_len)
{
	uint8_t req[YH_OBJECT_HEAD_LEN + 8 + AUTH_KEY_LEN], resp[3];
	size_t resp_len = sizeof(resp);
	struct rombsr_yh_new_object head = *o;
	char what[64];
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Put Authentication Key (0x%04x)", o->id);
	/* Without an ID out, the caller could not find a key the device numbered. */
	if (o->id == 0)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: an authentication key needs its ID", what);
	if (head.algorithm == 0)
		head.algorithm = YH_ALGO_AES128_YUBICO_AUTHENTICATION;
	if (head.algorithm != YH_ALGO_AES128_YUBICO_AUTHENTICATION)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: algorithm %u, not a password-derived key", what,
				    head.algorithm);
	r = rombsr_yh_object_head(&head, req);
	if (r != 0)
		return r;
	yh_put64(req + YH_OBJECT_HEAD_LEN, o->delegated);
	r = rombsr_yh_derive_keys(password, password_len, req + YH_OBJECT_HEAD_LEN + 8,
				  req + YH_OBJECT_HEAD_LEN + 8 + YH_SCP_KEY_LEN);
	if (r == 0)
		r = rombsr_yh_command(s, YH_CMD_PUT_AUTHENTICATION_KEY, what, req, sizeof(req), resp, &resp_len);
	if (r == 0)
		r = rombsr_yh_created_id(what, o->id, resp, resp_len, NULL);
	OPENSSL_cleanse(req, sizeof(req));
	return r;
}

int rombsr_yh_change_authentication_key(struct rombsr_yh_session *s, uint16_t id, const char *password,
					size_t password_len)
{
	uint8_t req[2 + 1 + AUTH_KEY_LEN], resp[3];
	size_t resp_len = sizeof(resp);
	char what[64];
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Change Authentication Key (0x%04x)", id);
	yh_put16(req, id);
	req[2] = YH_ALGO_AES128_YUBICO_AUTHENTICATION;
	r = rombsr_yh_derive_keys(password, password_len, req + 3, req + 3 + YH_SCP_KEY_LEN);
	if (r == 0)
		r = rombsr_yh_command(s, YH_CMD_CHANGE_AUTHENTICATION_KEY, what, req, sizeof(req), resp, &resp_len);
	if (r == 0)
		r = rombsr_yh_created_id(what, id, resp, resp_len, NULL);
	OPENSSL_cleanse(req, sizeof(req));
	return r;
}
