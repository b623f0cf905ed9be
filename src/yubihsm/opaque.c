/* Opaque objects: Put Opaque, Get Opaque. */
#include "yh_internal.h"

#include "../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rombsr_yh_put_opaque(struct rombsr_yh_session *s, const struct rombsr_yh_new_object *o, const uint8_t *data,
			 size_t len, uint16_t *id_out)
{
	uint8_t req[YH_MSG_MAX], resp[3];
	size_t resp_len = sizeof(resp);
	char what[64];
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Put Opaque (0x%04x)", o->id);
	if (len == 0 || len > sizeof(req) - YH_OBJECT_HEAD_LEN)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: %zu bytes of data", what, len);
	r = rombsr_yh_object_head(o, req);
	if (r != 0)
		return r;
	memcpy(req + YH_OBJECT_HEAD_LEN, data, len);
	r = rombsr_yh_command(s, YH_CMD_PUT_OPAQUE, what, req, YH_OBJECT_HEAD_LEN + len, resp, &resp_len);
	if (r == 0)
		r = rombsr_yh_created_id(what, o->id, resp, resp_len, id_out);
	return r;
}

int rombsr_yh_get_opaque(struct rombsr_yh_session *s, uint16_t id, uint8_t **data, size_t *len)
{
	uint8_t req[2];
	char what[64];

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	yh_put16(req, id);
	snprintf(what, sizeof(what), "Get Opaque (0x%04x)", id);
	return rombsr_yh_command_alloc(s, YH_CMD_GET_OPAQUE, what, req, sizeof(req), 0, data, len);
}
