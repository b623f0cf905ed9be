/* Device-wide commands: Set Option, Get Option, Get Pseudo Random, Reset
 * Device. */
#include "yh_internal.h"

#include "../common/error.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

int rombsr_yh_set_option(struct rombsr_yh_session *s, uint8_t option, const uint8_t *value, size_t len)
{
	uint8_t req[YH_MSG_MAX], resp[1];
	size_t resp_len = 0;
	char what[48];

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Set Option (0x%02x)", option);
	if (len > sizeof(req) - 3)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: a value of %zu bytes", what, len);
	/* lib/yubihsm.c refuses to audit Session Message itself: on older
	 * firmware a full log could then never be read. */
	if (option == YH_OPTION_COMMAND_AUDIT)
		for (size_t i = 0; i + 1 < len; i += 2)
			if (value[i] == YH_CMD_SESSION_MESSAGE && value[i + 1] != 0)
				return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: auditing Session Message itself", what);
	req[0] = option;
	yh_put16(req + 1, (uint16_t)len);
	if (len > 0)
		memcpy(req + 3, value, len);
	return rombsr_yh_command(s, YH_CMD_SET_OPTION, what, req, 3 + len, resp, &resp_len);
}

int rombsr_yh_get_option(struct rombsr_yh_session *s, uint8_t option, uint8_t *value, size_t *len)
{
	char what[48];

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Get Option (0x%02x)", option);
	return rombsr_yh_command(s, YH_CMD_GET_OPTION, what, &option, 1, value, len);
}

int rombsr_yh_get_random(struct rombsr_yh_session *s, uint8_t *out, size_t len)
{
	uint8_t req[2];
	size_t got = len;
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	if (len > YH_MSG_MAX - 32)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM Get Pseudo Random: %zu bytes asked, too many", len);
	yh_put16(req, (uint16_t)len);
	r = rombsr_yh_command(s, YH_CMD_GET_PSEUDO_RANDOM, "Get Pseudo Random", req, sizeof(req), out, &got);
	if (r == 0 && got != len) {
		OPENSSL_cleanse(out, got);
		r = rombsr_error(ROMBSR_EHSM, "YubiHSM Get Pseudo Random: %zu bytes, %zu asked", got, len);
	}
	return r;
}

int rombsr_yh_reset(struct rombsr_yh_session *s)
{
	uint8_t resp[1];
	size_t resp_len = 0;
	int r = rombsr_yh_command(s, YH_CMD_RESET_DEVICE, "Reset Device", NULL, 0, resp, &resp_len);

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	/* The device restarts: no session survives, not even this one. */
	s->state = YH_SESSION_ENDED;
	return r;
}
