#define _GNU_SOURCE
#include "keyset.h"

#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "json_strict.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* src/common/keyset_default.json as one string literal, made by
 * scripts/gen-keyset-default.sh: the default file and the built-in set
 * cannot drift apart. */
static const char default_text[] =
#include "keyset_default.inc"
	;

static const struct {
	const char *name;
	enum rombsr_key_kind kind;
	unsigned bits;
} algorithms[] = {
	{"rsa-2048", ROMBSR_KEY_RSA, 2048},
	{"rsa-4096", ROMBSR_KEY_RSA, 4096},
	{"ec-p256", ROMBSR_KEY_EC_P256, 256},
	{"ec-p384", ROMBSR_KEY_EC_P384, 384},
};

int rombsr_keyset_algorithm_from_name(const char *name, enum rombsr_key_kind *kind, unsigned *bits)
{
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++) {
		if (strcmp(name, algorithms[i].name) != 0)
			continue;
		*kind = algorithms[i].kind;
		*bits = algorithms[i].bits;
		return 0;
	}
	return rombsr_error(ROMBSR_EINVAL, "unknown algorithm '%.32s' (known: rsa-2048, rsa-4096, ec-p256, ec-p384)",
			    name);
}

void rombsr_keyset_free(struct rombsr_keyset *ks)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < ks->len; i++) {
		free(ks->entries[i].label);
		free(ks->entries[i].purpose);
	}
	free(ks->entries);
	memset(ks, 0, sizeof(*ks));
}

/* The audit key signs C2SP signed-note checkpoints (ECDSA, type 0x02) and
 * nothing else; the audit signer looks it up by this label. */
static int audit_rule(const struct rombsr_keyset_entry *e, const char *path)
{
	if (e->authority != ROMBSR_AUTHORITY_AUDIT)
		return strcmp(e->label, "audit") == 0
			       ? rombsr_error(ROMBSR_EINVAL, "%s: key 'audit' must belong to the audit authority", path)
			       : 0;
	if (strcmp(e->label, "audit") != 0 || e->kind != ROMBSR_KEY_EC_P256)
		return rombsr_error(ROMBSR_EINVAL, "%s: key '%s': the audit authority holds one key, 'audit', ec-p256",
				    path, e->label);
	return 0;
}

static int parse_entry(const json_t *o, const char *path, struct rombsr_keyset_entry *e)
{
	static const char *const fields[] = {"label", "algorithm", "authority", "development", "purpose", NULL};
	const char *label = NULL, *algorithm, *authority, *purpose;
	int r;

	if (!json_is_object(o))
		return rombsr_error(ROMBSR_EINVAL, "%s: not an object", path);
	r = rombsr_json_string(o, path, "label", ROMBSR_KEYSET_LABEL_MAX * 4, &label);
	if (r == 0 && !rombsr_keyset_label_ok(label))
		r = rombsr_error(ROMBSR_EINVAL, "%s: label '%.64s' is not allowed: 1 to %d of a-z, 0-9, '_', '-', '.', "
				 "segments split by '/' that start with a letter or digit", path, label,
				 ROMBSR_KEYSET_LABEL_MAX);
	if (r < 0)
		return r;
	/* From here on the key's label is the most telling name in errors. */
	r = rombsr_json_only(o, path, fields);
	if (r == 0)
		r = rombsr_json_string(o, path, "algorithm", 32, &algorithm);
	if (r == 0)
		r = rombsr_keyset_algorithm_from_name(algorithm, &e->kind, &e->bits);
	if (r == 0)
		r = rombsr_json_string(o, path, "authority", 32, &authority);
	if (r == 0 && rombsr_authority_from_name(authority, &e->authority) < 0)
		r = rombsr_error(ROMBSR_EINVAL, "unknown authority '%.32s' (known: release, manifest, audit)", authority);
	if (r == 0 && json_object_get(o, "development") != NULL)
		r = rombsr_json_bool(o, path, "development", &e->development);
	if (r == 0)
		r = rombsr_json_string(o, path, "purpose", ROMBSR_KEYSET_PURPOSE_MAX, &purpose);
	if (r < 0)
		return rombsr_error_wrap(r, "key '%s'", label);
	e->label = strdup(label);
	e->purpose = strdup(purpose);
	if (e->label == NULL || e->purpose == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	return audit_rule(e, path);
}

static int parse_keys(const json_t *keys, const char *what, struct rombsr_keyset *ks)
{
	char path[ROMBSR_JSON_PATH_MAX];
	int r = 0;

	ks->entries = calloc(json_array_size(keys), sizeof(*ks->entries));
	if (ks->entries == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(keys) && r == 0; i++) {
		struct rombsr_keyset_entry *e = &ks->entries[i];

		rombsr_json_path_index(path, sizeof(path), what, "keys", i);
		ks->len = i + 1;
		r = parse_entry(json_array_get(keys, i), path, e);
		/* Lookups stop at the first match: a second key of one label
		 * would be silently unreachable. */
		for (size_t j = 0; j < i && r == 0; j++)
			if (strcmp(ks->entries[j].label, e->label) == 0)
				r = rombsr_error(ROMBSR_EINVAL, "%s: duplicate label '%s' (also keys[%zu])", path, e->label,
						 j);
	}
	return r;
}

int rombsr_keyset_parse(const char *text, size_t len, const char *what, struct rombsr_keyset *out)
{
	static const char *const fields[] = {"format", "version", "keys", NULL};
	json_t *root = NULL, *keys;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > ROMBSR_KEYSET_MAX_BYTES)
		return rombsr_error(ROMBSR_EINVAL, "%s: %zu bytes, larger than the limit of %u", what, len,
				    ROMBSR_KEYSET_MAX_BYTES);
	if (memchr(text, '\0', len) != NULL)
		return rombsr_error(ROMBSR_EINVAL, "%s: holds a NUL byte", what);
	r = rombsr_json_load_document(text, len, what, ROMBSR_KEYSET_FORMAT, ROMBSR_KEYSET_VERSION, &root);
	if (r == 0)
		r = rombsr_json_only(root, what, fields);
	if (r == 0)
		r = rombsr_json_array(root, what, "keys", ROMBSR_KEYSET_MAX_KEYS, &keys);
	if (r == 0 && json_array_size(keys) == 0)
		r = rombsr_error(ROMBSR_EINVAL, "%s: keys: the key set is empty", what);
	if (r == 0)
		r = parse_keys(keys, what, out);
	json_decref(root);
	if (r < 0)
		rombsr_keyset_free(out);
	return r;
}

int rombsr_keyset_load_file(const char *path, struct rombsr_keyset *out)
{
	struct rombsr_buf text = {0};
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_file_read(path, ROMBSR_KEYSET_MAX_BYTES, &text);
	if (r == 0)
		r = rombsr_keyset_parse((const char *)text.data, text.len, path, out);
	rombsr_buf_free(&text);
	return r;
}

const struct rombsr_keyset_entry *rombsr_keyset_lookup(const struct rombsr_keyset *ks, const char *label)
{
	for (size_t i = 0; i < ks->len; i++)
		if (strcmp(ks->entries[i].label, label) == 0)
			return &ks->entries[i];
	return NULL;
}

static struct rombsr_keyset builtin, installed;
static bool have_installed;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

/* The embedded text is part of the program: if it does not parse, the
 * build is broken and nothing may run with a guessed key set. */
static void load_builtin(void)
{
	int r = rombsr_keyset_parse(default_text, sizeof(default_text) - 1, "built-in key set", &builtin);

	if (r < 0) {
		fprintf(stderr, "rombsr: %s\n", rombsr_error_message(r));
		abort();
	}
}

const struct rombsr_keyset *rombsr_keyset_current(void)
{
	if (have_installed)
		return &installed;
	pthread_once(&builtin_once, load_builtin);
	return &builtin;
}

int rombsr_keyset_use_file(const char *path)
{
	struct rombsr_keyset next;
	int r;

	if (path == NULL) {
		rombsr_keyset_free(&installed);
		have_installed = false;
		return 0;
	}
	r = rombsr_keyset_load_file(path, &next);
	if (r < 0)
		return r;
	rombsr_keyset_free(&installed);
	installed = next;
	have_installed = true;
	return 0;
}

const struct rombsr_keyset_entry *rombsr_keyset_find(const char *label)
{
	return rombsr_keyset_lookup(rombsr_keyset_current(), label);
}
