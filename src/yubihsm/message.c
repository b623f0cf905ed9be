/* Message framing and the parsing of plain responses: every byte here came
 * through the connector, which is not trusted. */
#include "yh_internal.h"

#include "../common/error.h"

#include <string.h>

int rombsr_yh_frame(uint8_t cmd, const uint8_t *data, size_t len, uint8_t *out, size_t out_size, size_t *out_len)
{
	if (len > YH_MSG_MAX - YH_MSG_HEADER || len + YH_MSG_HEADER > out_size)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: %zu bytes of data, more than a message holds",
				    rombsr_yh_command_name(cmd), len);
	out[0] = cmd;
	yh_put16(out + 1, (uint16_t)len);
	if (len > 0)
		memcpy(out + YH_MSG_HEADER, data, len);
	*out_len = len + YH_MSG_HEADER;
	return 0;
}

int rombsr_yh_parse_response(uint8_t cmd, const char *what, const uint8_t *msg, size_t msg_len,
			     const uint8_t **data, size_t *data_len)
{
	size_t len;

	if (msg_len < YH_MSG_HEADER)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, shorter than its header", what,
				    msg_len);
	len = yh_get16(msg + 1);
	if (len != msg_len - YH_MSG_HEADER)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response says %zu bytes of data, %zu came", what, len,
				    msg_len - YH_MSG_HEADER);
	if (msg[0] == YH_CMD_ERROR) {
		if (len != 1)
			return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: error response of %zu bytes, not 1", what, len);
		return rombsr_yh_device_failure(cmd, what, msg[YH_MSG_HEADER]);
	}
	if (msg[0] != (uint8_t)(cmd | YH_RESPONSE_FLAG))
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response to command 0x%02x, expected 0x%02x", what,
				    msg[0], (unsigned)(cmd | YH_RESPONSE_FLAG));
	*data = msg + YH_MSG_HEADER;
	*data_len = len;
	return 0;
}

int rombsr_yh_object_head(const struct rombsr_yh_new_object *o, uint8_t out[YH_OBJECT_HEAD_LEN])
{
	size_t label_len = o->label != NULL ? strlen(o->label) : 0;

	if (label_len > YH_LABEL_LEN)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM object label '%.40s...': longer than %d bytes", o->label,
				    YH_LABEL_LEN);
	memset(out, 0, YH_OBJECT_HEAD_LEN);
	yh_put16(out, o->id);
	if (label_len > 0)
		memcpy(out + 2, o->label, label_len);
	yh_put16(out + 2 + YH_LABEL_LEN, o->domains);
	yh_put64(out + 4 + YH_LABEL_LEN, o->capabilities);
	out[12 + YH_LABEL_LEN] = o->algorithm;
	return 0;
}

int rombsr_yh_created_id(const char *what, uint16_t asked, const uint8_t *resp, size_t resp_len, uint16_t *id_out)
{
	uint16_t id;

	if (resp_len != 2)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, expected an object ID", what,
				    resp_len);
	id = yh_get16(resp);
	if (asked != 0 && id != asked)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: created object 0x%04x, asked for 0x%04x", what, id, asked);
	if (id_out != NULL)
		*id_out = id;
	return 0;
}
