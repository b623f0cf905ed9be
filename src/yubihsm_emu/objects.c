/* The object store: lookup by (id, type) as the device does (objects of
 * different types may share an id), free ids, the two limits (objects and
 * pages of storage) and the checks shared by every command that creates an
 * object. */
#include "device.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

uint16_t emu_get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

void emu_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint64_t emu_get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void emu_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void emu_parse_new(const uint8_t *in, struct emu_object *o)
{
	memset(o, 0, sizeof(*o));
	o->id = emu_get_u16(in);
	memcpy(o->label, in + 2, YH_LABEL_LEN);
	o->domains = emu_get_u16(in + 42);
	o->capabilities = emu_get_u64(in + 44);
	o->algorithm = in[52];
}

struct emu_object *emu_object_find(struct emu_device *dev, uint16_t id, uint8_t type)
{
	for (size_t i = 0; i < dev->n_objects; i++)
		if (dev->objects[i].id == id && dev->objects[i].type == type)
			return &dev->objects[i];
	return NULL;
}

/* Pages of EMU_PAGE_SIZE bytes an object takes: its data, at least one
 * page (docs/yubihsm-emulator.md, "Limits"). */
size_t emu_object_pages(const struct emu_object *o)
{
	size_t pages = (o->len + EMU_PAGE_SIZE - 1) / EMU_PAGE_SIZE;

	return pages == 0 ? 1 : pages;
}

size_t emu_pages_used(const struct emu_device *dev)
{
	size_t n = 0;

	for (size_t i = 0; i < dev->n_objects; i++)
		n += emu_object_pages(&dev->objects[i]);
	return n;
}

static bool id_free(struct emu_device *dev, uint16_t id, uint8_t type)
{
	return id != 0 && emu_object_find(dev, id, type) == NULL;
}

uint8_t emu_object_add(struct emu_device *dev, struct emu_object *o)
{
	struct emu_object *grown;

	if (o->id == 0) {
		/* The device picks a free id; it starts anywhere, this one at
		 * 1 so that runs are reproducible. */
		uint32_t id = 1;

		while (id <= 0xffff && !id_free(dev, (uint16_t)id, o->type))
			id++;
		if (id > 0xffff)
			return YH_ERR_STORAGE_FAILED;
		o->id = (uint16_t)id;
	} else if (emu_object_find(dev, o->id, o->type) != NULL) {
		return YH_ERR_OBJECT_EXISTS;
	}
	if (dev->n_objects >= dev->max_objects || emu_pages_used(dev) + emu_object_pages(o) > dev->max_pages)
		return YH_ERR_STORAGE_FAILED;
	grown = realloc(dev->objects, (dev->n_objects + 1) * sizeof(*grown));
	if (grown == NULL)
		return YH_ERR_STORAGE_FAILED;
	dev->objects = grown;
	dev->objects[dev->n_objects++] = *o;
	/* The store owns the data now. */
	o->data = NULL;
	o->len = 0;
	return YH_ERR_OK;
}

void emu_object_clear(struct emu_object *o)
{
	if (o->data != NULL) {
		OPENSSL_cleanse(o->data, o->len);
		free(o->data);
	}
	o->data = NULL;
	o->len = 0;
}

void emu_object_delete(struct emu_device *dev, struct emu_object *o)
{
	size_t i = (size_t)(o - dev->objects);

	emu_object_clear(o);
	memmove(&dev->objects[i], &dev->objects[i + 1], (dev->n_objects - i - 1) * sizeof(*o));
	dev->n_objects--;
}

void emu_objects_free(struct emu_device *dev)
{
	for (size_t i = 0; i < dev->n_objects; i++)
		emu_object_clear(&dev->objects[i]);
	free(dev->objects);
	dev->objects = NULL;
	dev->n_objects = 0;
}

bool emu_domains_ok(const struct emu_ctx *c, const struct emu_object *o)
{
	return (c->auth->domains & o->domains) != 0;
}

uint8_t emu_check_new(const struct emu_ctx *c, uint16_t domains, uint64_t caps, uint64_t delegated)
{
	if (domains == 0)
		return YH_ERR_INVALID_DATA;
	/* A new object lives only in domains of the session's key and holds
	 * only what that key may delegate. */
	if ((domains & ~c->auth->domains) != 0)
		return YH_ERR_INSUFFICIENT_PERMISSIONS;
	if ((caps & ~c->auth->delegated) != 0 || (delegated & ~c->auth->delegated) != 0)
		return YH_ERR_INSUFFICIENT_PERMISSIONS;
	return YH_ERR_OK;
}
