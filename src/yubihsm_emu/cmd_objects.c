/* Commands on objects in general and on the two plain kinds: List Objects,
 * Get Object Info, Delete Object, Put/Get Opaque, Put and Change
 * Authentication Key. */
#include "cmds.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define NEW_HEADER 53 /* id, label, domains, capabilities, algorithm */

struct filter {
	int id, type, algorithm;
	uint16_t domains;
	uint64_t capabilities;
	const uint8_t *label;
};

static uint8_t parse_filter(const uint8_t *in, size_t len, struct filter *f)
{
	size_t i = 0;

	memset(f, 0, sizeof(*f));
	f->id = f->type = f->algorithm = -1;
	while (i < len) {
		uint8_t tag = in[i++];
		size_t need;

		switch (tag) {
		case YH_LIST_ID: case YH_LIST_DOMAINS: need = 2; break;
		case YH_LIST_TYPE: case YH_LIST_ALGORITHM: need = 1; break;
		case YH_LIST_CAPABILITIES: need = 8; break;
		case YH_LIST_LABEL: need = YH_LABEL_LEN; break;
		default: return YH_ERR_INVALID_DATA;
		}
		if (len - i < need)
			return YH_ERR_WRONG_LENGTH;
		if (tag == YH_LIST_ID)
			f->id = emu_get_u16(in + i);
		else if (tag == YH_LIST_TYPE)
			f->type = in[i];
		else if (tag == YH_LIST_DOMAINS)
			f->domains = emu_get_u16(in + i);
		else if (tag == YH_LIST_CAPABILITIES)
			f->capabilities = emu_get_u64(in + i);
		else if (tag == YH_LIST_ALGORITHM)
			f->algorithm = in[i];
		else
			f->label = in + i;
		i += need;
	}
	return YH_ERR_OK;
}

static bool matches(const struct filter *f, const struct emu_object *o)
{
	return (f->id < 0 || f->id == o->id) && (f->type < 0 || f->type == o->type) &&
	       (f->algorithm < 0 || f->algorithm == o->algorithm) && (f->domains == 0 || (f->domains & o->domains)) &&
	       (f->capabilities == 0 || (f->capabilities & o->capabilities)) &&
	       (f->label == NULL || memcmp(f->label, o->label, YH_LABEL_LEN) == 0);
}

EMU_HANDLER(emu_cmd_list_objects)
{
	struct filter f;
	uint8_t error = parse_filter(in, len, &f);
	size_t n = 0;

	if (error != YH_ERR_OK)
		return error;
	for (size_t i = 0; i < c->dev->n_objects; i++) {
		const struct emu_object *o = &c->dev->objects[i];

		if (!emu_domains_ok(c, o) || !matches(&f, o))
			continue;
		if (n + 4 > *out_len)
			break;
		emu_put_u16(out + n, o->id);
		out[n + 2] = o->type;
		out[n + 3] = o->sequence;
		n += 4;
	}
	*out_len = n;
	return YH_ERR_OK;
}

/* The object a command names, within the session's domains. */
static struct emu_object *target(struct emu_ctx *c, uint16_t id, uint8_t type)
{
	struct emu_object *o = emu_object_find(c->dev, id, type);

	c->target_key = id;
	return o != NULL && emu_domains_ok(c, o) ? o : NULL;
}

EMU_HANDLER(emu_cmd_object_info)
{
	const struct emu_object *o;

	if (len != 3)
		return YH_ERR_WRONG_LENGTH;
	o = target(c, emu_get_u16(in), in[2]);
	if (o == NULL)
		return YH_ERR_OBJECT_NOT_FOUND;
	emu_put_u64(out, o->capabilities);
	emu_put_u16(out + 8, o->id);
	/* As in the wrap format: an authentication or wrap key's length
	 * counts its delegated capabilities. */
	emu_put_u16(out + 10, (uint16_t)(o->len + (o->type == YH_TYPE_AUTHENTICATION_KEY ||
						     o->type == YH_TYPE_WRAP_KEY ? 8 : 0)));
	emu_put_u16(out + 12, o->domains);
	out[14] = o->type;
	out[15] = o->algorithm;
	out[16] = o->sequence;
	out[17] = o->origin;
	memcpy(out + 18, o->label, YH_LABEL_LEN);
	emu_put_u64(out + 18 + YH_LABEL_LEN, o->delegated);
	*out_len = 26 + YH_LABEL_LEN;
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_delete_object)
{
	struct emu_object *o;
	int cap;

	(void)out;
	if (len != 3)
		return YH_ERR_WRONG_LENGTH;
	switch (in[2]) {
	case YH_TYPE_OPAQUE: cap = YH_CAP_DELETE_OPAQUE; break;
	case YH_TYPE_AUTHENTICATION_KEY: cap = YH_CAP_DELETE_AUTHENTICATION_KEY; break;
	case YH_TYPE_ASYMMETRIC_KEY: cap = YH_CAP_DELETE_ASYMMETRIC_KEY; break;
	case YH_TYPE_WRAP_KEY: cap = YH_CAP_DELETE_WRAP_KEY; break;
	default: return YH_ERR_INVALID_DATA;
	}
	if ((c->auth->capabilities & YH_CAP(cap)) == 0)
		return YH_ERR_INSUFFICIENT_PERMISSIONS;
	o = target(c, emu_get_u16(in), in[2]);
	if (o == NULL)
		return YH_ERR_OBJECT_NOT_FOUND;
	/* c->auth may point into the store, which deleting moves. */
	c->auth = NULL;
	emu_object_delete(c->dev, o);
	c->changed = true;
	*out_len = 0;
	return YH_ERR_OK;
}

/* Stores o with a copy of data: the new id goes in out. */
uint8_t emu_store_new(struct emu_ctx *c, struct emu_object *o, const uint8_t *data, size_t n, uint8_t *out,
		      size_t *out_len)
{
	uint8_t error;

	o->data = malloc(n == 0 ? 1 : n);
	if (o->data == NULL)
		return YH_ERR_STORAGE_FAILED;
	memcpy(o->data, data, n);
	o->len = n;
	c->auth = NULL; /* adding may move the store */
	error = emu_object_add(c->dev, o);
	emu_object_clear(o);
	if (error != YH_ERR_OK)
		return error;
	c->target_key = o->id;
	c->changed = true;
	emu_put_u16(out, o->id);
	*out_len = 2;
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_put_opaque)
{
	struct emu_object o;
	uint8_t error;

	if (len <= NEW_HEADER)
		return YH_ERR_WRONG_LENGTH;
	emu_parse_new(in, &o);
	if (o.algorithm != YH_ALGO_OPAQUE_DATA && o.algorithm != YH_ALGO_OPAQUE_X509_CERTIFICATE)
		return YH_ERR_INVALID_DATA;
	error = emu_check_new(c, o.domains, o.capabilities, 0);
	if (error != YH_ERR_OK)
		return error;
	o.type = YH_TYPE_OPAQUE;
	o.origin = YH_ORIGIN_IMPORTED;
	return emu_store_new(c, &o, in + NEW_HEADER, len - NEW_HEADER, out, out_len);
}

EMU_HANDLER(emu_cmd_get_opaque)
{
	const struct emu_object *o;

	if (len != 2)
		return YH_ERR_WRONG_LENGTH;
	o = target(c, emu_get_u16(in), YH_TYPE_OPAQUE);
	if (o == NULL)
		return YH_ERR_OBJECT_NOT_FOUND;
	if (o->len > *out_len)
		return YH_ERR_WRONG_LENGTH;
	memcpy(out, o->data, o->len);
	*out_len = o->len;
	return YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_put_auth_key)
{
	struct emu_object o;
	uint8_t error;

	if (len != NEW_HEADER + 8 + 2 * YH_SCP_KEY_LEN)
		return YH_ERR_WRONG_LENGTH;
	emu_parse_new(in, &o);
	o.delegated = emu_get_u64(in + NEW_HEADER);
	if (o.algorithm != YH_ALGO_AES128_YUBICO_AUTHENTICATION)
		return YH_ERR_INVALID_DATA;
	error = emu_check_new(c, o.domains, o.capabilities, o.delegated);
	if (error != YH_ERR_OK)
		return error;
	o.type = YH_TYPE_AUTHENTICATION_KEY;
	o.origin = YH_ORIGIN_IMPORTED;
	return emu_store_new(c, &o, in + NEW_HEADER + 8, 2 * YH_SCP_KEY_LEN, out, out_len);
}

EMU_HANDLER(emu_cmd_change_auth_key)
{
	struct emu_object *o;
	uint16_t id;

	if (len != 3 + 2 * YH_SCP_KEY_LEN)
		return YH_ERR_WRONG_LENGTH;
	id = emu_get_u16(in);
	c->target_key = id;
	/* Only the session's own key, and only if it may be changed. */
	if (id != c->session->auth_id)
		return YH_ERR_INVALID_ID;
	if (in[2] != YH_ALGO_AES128_YUBICO_AUTHENTICATION)
		return YH_ERR_INVALID_DATA;
	o = emu_object_find(c->dev, id, YH_TYPE_AUTHENTICATION_KEY);
	if (o == NULL || o->len != 2 * YH_SCP_KEY_LEN)
		return YH_ERR_OBJECT_NOT_FOUND;
	if ((o->capabilities & YH_CAP(YH_CAP_CHANGE_AUTHENTICATION_KEY)) == 0)
		return YH_ERR_INSUFFICIENT_PERMISSIONS;
	OPENSSL_cleanse(o->data, o->len);
	memcpy(o->data, in + 3, 2 * YH_SCP_KEY_LEN);
	o->origin = YH_ORIGIN_IMPORTED;
	c->changed = true;
	emu_put_u16(out, id);
	*out_len = 2;
	return YH_ERR_OK;
}
