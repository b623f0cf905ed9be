/* The state file (docs/yubihsm-emulator.md, "State file"): one JSON
 * document, written atomically with mode 0600 after every command that
 * changes the device. It holds key material in the clear: rehearsals and
 * tests only. A file that does not parse is refused, never replaced by a
 * factory state. */
#include "device.h"

#include "../common/buf.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_FORMAT "rombsr-yubihsm-emu-state"
#define STATE_VERSION 1
#define STATE_MAX (4 * 1024 * 1024)

static json_t *hex_json(const uint8_t *data, size_t n)
{
	char *hex = malloc(2 * n + 1);
	json_t *j;

	if (hex == NULL)
		return NULL;
	rombsr_hex_encode(data, n, hex);
	j = json_string(hex);
	OPENSSL_clear_free(hex, 2 * n + 1);
	return j;
}

static json_t *cap_json(uint64_t v)
{
	uint8_t b[8];

	emu_put_u64(b, v);
	return hex_json(b, sizeof(b));
}

static json_t *object_json(const struct emu_object *o)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:o, s:o}", "id", o->id, "type", o->type,
			 "algorithm", o->algorithm, "sequence", o->sequence, "origin", o->origin, "domains",
			 o->domains, "capabilities", cap_json(o->capabilities), "delegated", cap_json(o->delegated),
			 "label", hex_json(o->label, YH_LABEL_LEN), "data", hex_json(o->data, o->len));
}

static json_t *state_json(const struct emu_device *dev)
{
	json_t *objects = json_array(), *entries = json_array();
	uint8_t audit[512], raw[YH_LOG_ENTRY_LEN];
	size_t n = emu_options_command_audit(dev, audit);

	if (objects == NULL || entries == NULL)
		goto fail;
	for (size_t i = 0; i < dev->n_objects; i++)
		if (json_array_append_new(objects, object_json(&dev->objects[i])) != 0)
			goto fail;
	for (size_t i = 0; i < dev->log.n; i++) {
		emu_log_entry_encode(&dev->log.entries[i], raw);
		if (json_array_append_new(entries, hex_json(raw, sizeof(raw))) != 0)
			goto fail;
	}
	return json_pack("{s:s, s:i, s:{s:i, s:o}, s:{s:i, s:i, s:i, s:i, s:o, s:o}, s:o}", "format", STATE_FORMAT,
			 "version", STATE_VERSION, "options", "force_audit", dev->force_audit, "command_audit",
			 hex_json(audit, n), "log", "next_number", dev->log.next_number, "last_read",
			 dev->log.last_read, "unlogged_boot", dev->log.unlogged_boot, "unlogged_auth",
			 dev->log.unlogged_auth, "last_digest", hex_json(dev->log.last_digest, YH_LOG_DIGEST_LEN),
			 "entries", entries, "objects", objects);
fail:
	json_decref(objects);
	json_decref(entries);
	return NULL;
}

int emu_state_save(struct emu_device *dev)
{
	json_t *j = state_json(dev);
	char *text;
	int r;

	if (j == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "cannot build the state");
	text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(j);
	if (text == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "cannot render the state");
	r = rombsr_file_write_atomic(dev->state_path, text, strlen(text), 0600, false);
	OPENSSL_clear_free(text, strlen(text));
	return r;
}

void emu_state_persist(struct emu_device *dev)
{
	int r = emu_state_save(dev);

	if (r < 0)
		fprintf(stderr, "rombsr-yubihsm-emu: cannot save the state: %s\n", rombsr_error_message(r));
}

/* Decodes a hex string member of exactly n bytes (n 0: any length up to
 * max, malloc'd into *alloc). */
static int get_hex(json_t *obj, const char *key, uint8_t *out, size_t n, uint8_t **alloc, size_t *alloc_len)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (s == NULL)
		return rombsr_error(ROMBSR_EINVAL, "'%s' is missing or not a string", key);
	if (alloc != NULL)
		return rombsr_hex_decode_alloc(s, YH_MSG_MAX, alloc, alloc_len, key);
	return rombsr_hex_decode(s, out, n, key);
}

static int get_int(json_t *obj, const char *key, long max, long *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return rombsr_error(ROMBSR_EINVAL, "'%s' is missing or not an integer from 0 to %ld", key, max);
	*out = (long)json_integer_value(v);
	return 0;
}

static int load_object(json_t *j, struct emu_object *o)
{
	uint8_t caps[8], delegated[8];
	long id = 0, type = 0, algorithm = 0, sequence = 0, origin = 0, domains = 0;
	int r = 0;

	memset(o, 0, sizeof(*o));
	if (!json_is_object(j))
		return rombsr_error(ROMBSR_EINVAL, "an object is not a JSON object");
	if (r == 0)
		r = get_int(j, "id", 0xffff, &id);
	if (r == 0)
		r = get_int(j, "type", 0xff, &type);
	if (r == 0)
		r = get_int(j, "algorithm", 0xff, &algorithm);
	if (r == 0)
		r = get_int(j, "sequence", 0xff, &sequence);
	if (r == 0)
		r = get_int(j, "origin", 0xff, &origin);
	if (r == 0)
		r = get_int(j, "domains", 0xffff, &domains);
	if (r == 0)
		r = get_hex(j, "capabilities", caps, 8, NULL, NULL);
	if (r == 0)
		r = get_hex(j, "delegated", delegated, 8, NULL, NULL);
	if (r == 0)
		r = get_hex(j, "label", o->label, YH_LABEL_LEN, NULL, NULL);
	if (r == 0)
		r = get_hex(j, "data", NULL, 0, &o->data, &o->len);
	if (r < 0)
		return r;
	o->id = (uint16_t)id;
	o->type = (uint8_t)type;
	o->algorithm = (uint8_t)algorithm;
	o->sequence = (uint8_t)sequence;
	o->origin = (uint8_t)origin;
	o->domains = (uint16_t)domains;
	o->capabilities = emu_get_u64(caps);
	o->delegated = emu_get_u64(delegated);
	if (o->id == 0 || o->len == 0)
		return rombsr_error(ROMBSR_EINVAL, "object 0x%04x has no id or no data", o->id);
	return 0;
}

static int load_log(struct emu_device *dev, json_t *log)
{
	json_t *entries = json_object_get(log, "entries"), *e;
	long next = 0, last_read = 0, boot = 0, auth = 0;
	uint8_t raw[YH_LOG_ENTRY_LEN];
	size_t i;
	int r = 0;

	if (!json_is_object(log) || !json_is_array(entries) || json_array_size(entries) > YH_LOG_ENTRIES)
		return rombsr_error(ROMBSR_EINVAL, "'log' must hold at most %d entries", YH_LOG_ENTRIES);
	if (r == 0)
		r = get_int(log, "next_number", 0xffff, &next);
	if (r == 0)
		r = get_int(log, "last_read", 0xffff, &last_read);
	if (r == 0)
		r = get_int(log, "unlogged_boot", 0xffff, &boot);
	if (r == 0)
		r = get_int(log, "unlogged_auth", 0xffff, &auth);
	if (r == 0)
		r = get_hex(log, "last_digest", dev->log.last_digest, YH_LOG_DIGEST_LEN, NULL, NULL);
	json_array_foreach(entries, i, e) {
		const char *s = json_string_value(e);

		if (r == 0 && s == NULL)
			r = rombsr_error(ROMBSR_EINVAL, "a log entry is not a string");
		if (r == 0)
			r = rombsr_hex_decode(s, raw, sizeof(raw), "log entry");
		if (r == 0)
			emu_log_entry_decode(raw, &dev->log.entries[dev->log.n++]);
	}
	dev->log.next_number = (uint16_t)next;
	dev->log.last_read = (uint16_t)last_read;
	dev->log.unlogged_boot = (uint16_t)boot;
	dev->log.unlogged_auth = (uint16_t)auth;
	return r;
}

static int load_options(struct emu_device *dev, json_t *options)
{
	uint8_t *audit = NULL;
	size_t n = 0;
	long force = 0;
	int r;

	if (!json_is_object(options))
		return rombsr_error(ROMBSR_EINVAL, "'options' is missing");
	r = get_int(options, "force_audit", 2, &force);
	if (r == 0)
		r = get_hex(options, "command_audit", NULL, 0, &audit, &n);
	if (r == 0 && n % 2 != 0)
		r = rombsr_error(ROMBSR_EINVAL, "'command_audit' must hold (command, value) pairs");
	for (size_t i = 0; r == 0 && i < n; i += 2) {
		if (!emu_command_known(audit[i]))
			r = rombsr_error(ROMBSR_EINVAL, "'command_audit': unknown command 0x%02x", audit[i]);
		else if (audit[i + 1] > 2)
			r = rombsr_error(ROMBSR_EINVAL, "'command_audit': value %u is not 0, 1 or 2", audit[i + 1]);
		else
			dev->command_audit[audit[i]] = audit[i + 1];
	}
	free(audit);
	dev->force_audit = (uint8_t)force;
	return r;
}

static int load_json(struct emu_device *dev, json_t *root)
{
	json_t *objects = json_object_get(root, "objects"), *o;
	const char *format = json_string_value(json_object_get(root, "format"));
	json_t *version = json_object_get(root, "version");
	size_t i;
	int r;

	if (format == NULL || strcmp(format, STATE_FORMAT) != 0)
		return rombsr_error(ROMBSR_EINVAL, "not an emulator state ('format' is not '%s')", STATE_FORMAT);
	if (!json_is_integer(version) || json_integer_value(version) != STATE_VERSION)
		return rombsr_error(ROMBSR_EINVAL, "unsupported version (this emulator reads version %d)", STATE_VERSION);
	if (!json_is_array(objects))
		return rombsr_error(ROMBSR_EINVAL, "'objects' is missing");
	r = load_options(dev, json_object_get(root, "options"));
	if (r == 0)
		r = load_log(dev, json_object_get(root, "log"));
	json_array_foreach(objects, i, o) {
		struct emu_object obj;

		if (r < 0)
			break;
		r = load_object(o, &obj);
		if (r == 0 && emu_object_find(dev, obj.id, obj.type) != NULL)
			r = rombsr_error(ROMBSR_EINVAL, "object 0x%04x of type %u appears twice", obj.id, obj.type);
		/* Limits are not checked here: a state may be read back with
		 * smaller limits than it was written with. */
		if (r == 0) {
			struct emu_object *grown = realloc(dev->objects, (dev->n_objects + 1) * sizeof(*grown));

			if (grown == NULL) {
				r = ROMBSR_ENOMEM;
			} else {
				dev->objects = grown;
				dev->objects[dev->n_objects++] = obj;
				obj.data = NULL;
			}
		}
		emu_object_clear(&obj);
	}
	return r;
}

int emu_state_load(struct emu_device *dev, bool *fresh)
{
	struct rombsr_buf text;
	json_error_t jerr;
	json_t *root;
	int r;

	*fresh = false;
	if (access(dev->state_path, F_OK) != 0 && errno == ENOENT) {
		*fresh = true;
		r = emu_device_factory(dev);
		return r == 0 ? emu_state_save(dev) : r;
	}
	r = rombsr_file_read(dev->state_path, STATE_MAX, &text);
	if (r < 0)
		return r;
	root = json_loadb((const char *)text.data, text.len, JSON_REJECT_DUPLICATES, &jerr);
	rombsr_buf_free(&text);
	if (root == NULL)
		return rombsr_error(ROMBSR_EINVAL, "%s: not JSON (line %d: %s)", dev->state_path, jerr.line, jerr.text);
	memset(dev->command_audit, 0, sizeof(dev->command_audit));
	r = load_json(dev, root);
	json_decref(root);
	if (r < 0)
		return rombsr_error_wrap(r, "%s", dev->state_path);
	return 0;
}
