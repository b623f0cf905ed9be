/* Wrap keys and wrapped objects: Generate Wrap Key, Put Wrap Key, Export
 * Wrapped, Import Wrapped. */
#include "yh_internal.h"

#include "../common/error.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRAP_NONCE_LEN 13
#define WRAP_TAG_LEN 16
#define WRAP_KEY_MAX 32

static size_t wrap_key_len(uint8_t algorithm)
{
	switch (algorithm) {
	case YH_ALGO_AES128_CCM_WRAP: return 16;
	case YH_ALGO_AES192_CCM_WRAP: return 24;
	case YH_ALGO_AES256_CCM_WRAP: return 32;
	default: return 0;
	}
}

/* head || delegated, the request both commands start with. */
static int wrap_head(const struct rombsr_yh_new_object *o, const char *what, uint8_t *req)
{
	int r;

	if (wrap_key_len(o->algorithm) == 0)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: algorithm %u is not an AES-CCM wrap", what, o->algorithm);
	r = rombsr_yh_object_head(o, req);
	if (r == 0)
		yh_put64(req + YH_OBJECT_HEAD_LEN, o->delegated);
	return r;
}

int rombsr_yh_generate_wrap_key(struct rombsr_yh_session *s, const struct rombsr_yh_new_object *o,
				uint16_t *id_out)
{
	uint8_t req[YH_OBJECT_HEAD_LEN + 8], resp[3];
	size_t resp_len = sizeof(resp);
	char what[64];
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Generate Wrap Key (0x%04x)", o->id);
	r = wrap_head(o, what, req);
	if (r == 0)
		r = rombsr_yh_command(s, YH_CMD_GENERATE_WRAP_KEY, what, req, sizeof(req), resp, &resp_len);
	if (r == 0)
		r = rombsr_yh_created_id(what, o->id, resp, resp_len, id_out);
	return r;
}

int rombsr_yh_put_wrap_key(struct rombsr_yh_session *s, const struct rombsr_yh_new_object *o, const uint8_t *key,
			   size_t key_len)
{
	uint8_t req[YH_OBJECT_HEAD_LEN + 8 + WRAP_KEY_MAX], resp[3];
	size_t resp_len = sizeof(resp);
	char what[64];
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Put Wrap Key (0x%04x)", o->id);
	if (o->id == 0)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: a wrap key put needs its ID", what);
	r = wrap_head(o, what, req);
	if (r != 0)
		return r;
	if (key_len != wrap_key_len(o->algorithm))
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: a key of %zu bytes for algorithm %u", what, key_len,
				    o->algorithm);
	memcpy(req + YH_OBJECT_HEAD_LEN + 8, key, key_len);
	r = rombsr_yh_command(s, YH_CMD_PUT_WRAP_KEY, what, req, YH_OBJECT_HEAD_LEN + 8 + key_len, resp, &resp_len);
	if (r == 0)
		r = rombsr_yh_created_id(what, o->id, resp, resp_len, NULL);
	OPENSSL_cleanse(req, sizeof(req));
	return r;
}

int rombsr_yh_export_wrapped(struct rombsr_yh_session *s, uint16_t wrap_id, uint8_t type, uint16_t id,
			     uint8_t **blob, size_t *blob_len)
{
	uint8_t req[5];
	char what[80];

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Export Wrapped (0x%04x type %u under wrap key 0x%04x)", id, type, wrap_id);
	yh_put16(req, wrap_id);
	req[2] = type;
	yh_put16(req + 3, id);
	return rombsr_yh_command_alloc(s, YH_CMD_EXPORT_WRAPPED, what, req, sizeof(req),
				       WRAP_NONCE_LEN + WRAP_TAG_LEN + 1, blob, blob_len);
}

int rombsr_yh_import_wrapped(struct rombsr_yh_session *s, uint16_t wrap_id, const uint8_t *blob, size_t blob_len,
			     uint8_t *type, uint16_t *id)
{
	uint8_t req[YH_MSG_MAX], resp[4];
	size_t resp_len = sizeof(resp);
	char what[64];
	int r;

	rombsr_yh_set_last_device_error(YH_ERR_OK);
	snprintf(what, sizeof(what), "Import Wrapped (under wrap key 0x%04x)", wrap_id);
	if (blob_len <= WRAP_NONCE_LEN + WRAP_TAG_LEN || blob_len > sizeof(req) - 2)
		return rombsr_error(ROMBSR_EINVAL, "YubiHSM %s: a blob of %zu bytes", what, blob_len);
	yh_put16(req, wrap_id);
	memcpy(req + 2, blob, blob_len);
	r = rombsr_yh_command(s, YH_CMD_IMPORT_WRAPPED, what, req, 2 + blob_len, resp, &resp_len);
	if (r == 0 && resp_len != 3)
		r = rombsr_error(ROMBSR_EHSM, "YubiHSM %s: response of %zu bytes, expected type and ID", what, resp_len);
	if (r == 0) {
		*type = resp[0];
		*id = yh_get16(resp + 1);
	}
	return r;
}
