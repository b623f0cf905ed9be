/* Objects: List Objects with its filters, Get Object Info, Generate
 * Asymmetric Key, Get Public Key, Delete Object. */
#include "yh_internal.h"

#include "../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILTERS_MAX (3 + 2 + 3 + 9 + 2 + 1 + YH_LABEL_LEN)
#define OBJECT_INFO_LEN (8 + 2 + 2 + 2 + 1 + 1 + 1 + 1 + YH_LABEL_LEN + 8)

static int filters(const struct rombsr_yh_filter *f, uint8_t *out, size_t *out_len)
{
	size_t n = 0, label_len = f->label != NULL ? strlen(f->label) : 0;

	if (label_len > YH_LABEL_LEN)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM List Objects: label longer than %d bytes", YH_LABEL_LEN);
	if (f->id != 0) {
		out[n++] = YH_LIST_ID;
		yh_put16(out + n, f->id);
		n += 2;
	}
	if (f->type != 0) {
		out[n++] = YH_LIST_TYPE;
		out[n++] = f->type;
	}
	if (f->domains != 0) {
		out[n++] = YH_LIST_DOMAINS;
		yh_put16(out + n, f->domains);
		n += 2;
	}
	if (f->capabilities != 0) {
		out[n++] = YH_LIST_CAPABILITIES;
		yh_put64(out + n, f->capabilities);
		n += 8;
	}
	if (f->algorithm != 0) {
		out[n++] = YH_LIST_ALGORITHM;
		out[n++] = f->algorithm;
	}
	if (label_len > 0) {
		out[n++] = YH_LIST_LABEL;
		memset(out + n, 0, YH_LABEL_LEN);
		memcpy(out + n, f->label, label_len);
		n += YH_LABEL_LEN;
	}
	*out_len = n;
	return 0;
}

int rombsr_yh_list_objects(struct rombsr_yh_session *s, const struct rombsr_yh_filter *filter,
			   struct rombsr_yh_object **out, size_t *n)
{
	uint8_t req[FILTERS_MAX], resp[YH_MSG_MAX];
	size_t req_len = 0, resp_len = sizeof(resp), count;
	struct rombsr_yh_object *objects;
	int r = 0;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	*out = NULL;
	*n = 0;
	if (filter != NULL)
		r = filters(filter, req, &req_len);
	if (r == 0)
		r = rombsr_yh_command(s, YH_CMD_LIST_OBJECTS, "List Objects", req, req_len, resp, &resp_len);
	if (r != 0)
		return r;
	if (resp_len % 4 != 0)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM List Objects: response of %zu bytes, not whole entries",
				    resp_len);
	count = resp_len / 4;
	objects = calloc(count > 0 ? count : 1, sizeof(*objects));
	if (objects == NULL)
		return ROMBSR_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		objects[i].id = yh_get16(resp + 4 * i);
		objects[i].type = resp[4 * i + 2];
		objects[i].sequence = resp[4 * i + 3];
	}
	*out = objects;
	*n = count;
	return 0;
}

int rombsr_yh_object_info(struct rombsr_yh_session *s, uint16_t id, uint8_t type, struct rombsr_yh_object_info *info)
{
	uint8_t req[3], resp[OBJECT_INFO_LEN + 1];
	size_t resp_len = sizeof(resp);
	const uint8_t *p = resp;
	char what[64];
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	yh_put16(req, id);
	req[2] = type;
	snprintf(what, sizeof(what), "Get Object Info (0x%04x, type %u)", id, type);
	r = rombsr_yh_command(s, YH_CMD_GET_OBJECT_INFO, what, req, sizeof(req), resp, &resp_len);
	if (r != 0)
		return r;
	if (resp_len != OBJECT_INFO_LEN)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, expected %d", what, resp_len,
				    OBJECT_INFO_LEN);
	memset(info, 0, sizeof(*info));
	info->capabilities = yh_get64(p);
	info->id = yh_get16(p + 8);
	info->len = yh_get16(p + 10);
	info->domains = yh_get16(p + 12);
	info->type = p[14];
	info->algorithm = p[15];
	info->sequence = p[16];
	info->origin = p[17];
	memcpy(info->label, p + 18, YH_LABEL_LEN);
	info->label[YH_LABEL_LEN] = '\0';
	info->delegated = yh_get64(p + 18 + YH_LABEL_LEN);
	if (info->id != id || info->type != type)
		return rombsr_error(ROMBSR_EHSM, "YubiHSM %s: the device described object 0x%04x of type %u", what,
				    info->id, info->type);
	return 0;
}

int rombsr_yh_delete_object(struct rombsr_yh_session *s, uint16_t id, uint8_t type)
{
	uint8_t req[3], resp[1];
	size_t resp_len = 0;
	char what[64];

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	yh_put16(req, id);
	req[2] = type;
	snprintf(what, sizeof(what), "Delete Object (0x%04x, type %u)", id, type);
	return rombsr_yh_command(s, YH_CMD_DELETE_OBJECT, what, req, sizeof(req), resp, &resp_len);
}

int rombsr_yh_generate_asymmetric(struct rombsr_yh_session *s, const struct rombsr_yh_new_object *o,
				  uint16_t *id_out)
{
	uint8_t req[YH_OBJECT_HEAD_LEN], resp[3];
	size_t resp_len = sizeof(resp);
	char what[64];
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Generate Asymmetric Key (0x%04x, algorithm %u)", o->id, o->algorithm);
	r = rombsr_yh_object_head(o, req);
	if (r == 0)
		r = rombsr_yh_command(s, YH_CMD_GENERATE_ASYMMETRIC_KEY, what, req, sizeof(req), resp, &resp_len);
	if (r == 0)
		r = rombsr_yh_created_id(what, o->id, resp, resp_len, id_out);
	return r;
}

int rombsr_yh_public_key(struct rombsr_yh_session *s, uint16_t id, uint8_t *algorithm, uint8_t **key,
			 size_t *key_len)
{
	uint8_t req[2];
	char what[64];
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	yh_put16(req, id);
	snprintf(what, sizeof(what), "Get Public Key (key 0x%04x)", id);
	r = rombsr_yh_command_alloc(s, YH_CMD_GET_PUBLIC_KEY, what, req, sizeof(req), 2, key, key_len);
	if (r == 0) {
		/* algorithm(1) || key */
		*algorithm = (*key)[0];
		*key_len -= 1;
		memmove(*key, *key + 1, *key_len);
	}
	return r;
}
