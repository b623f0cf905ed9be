#define _GNU_SOURCE
#include "json_strict.h"

#include "error.h"
#include "hex.h"

#include <stdio.h>
#include <string.h>

int rombsr_json_load(const char *text, size_t len, size_t max, const char *what, json_t **out)
{
	json_error_t err;

	*out = NULL;
	if (len > max)
		return rombsr_error(ROMBSR_EINVAL, "%s: %zu bytes, larger than the limit of %zu", what, len, max);
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (*out == NULL)
		return rombsr_error(ROMBSR_EINVAL, "%s: not valid JSON at line %d: %s", what, err.line, err.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return rombsr_error(ROMBSR_EINVAL, "%s: not a JSON object", what);
	}
	return 0;
}

int rombsr_json_load_document(const char *text, size_t len, const char *path, const char *format, int version,
			      json_t **out)
{
	json_error_t err;
	json_t *root, *f, *v;
	int r = 0;

	*out = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL)
		return rombsr_error(ROMBSR_EINVAL, "%s line %d: %s", path, err.line, err.text);
	f = json_object_get(root, "format");
	v = json_object_get(root, "version");
	if (!json_is_string(f) || strcmp(json_string_value(f), format) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "%s: format is not \"%s\"", path, format);
	else if (!json_is_integer(v) || json_integer_value(v) != version)
		r = rombsr_error(ROMBSR_EUNSUPPORTED, "%s: unsupported version (this build reads %d)", path, version);
	if (r < 0) {
		json_decref(root);
		return r;
	}
	*out = root;
	return 0;
}

int rombsr_json_only(const json_t *obj, const char *path, const char *const *allowed)
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)obj, key, value) {
		bool known = false;

		(void)value;
		for (const char *const *a = allowed; *a != NULL && !known; a++)
			known = strcmp(*a, key) == 0;
		if (!known)
			return rombsr_error(ROMBSR_EINVAL, "%s: unknown field '%.64s'", path, key);
	}
	return 0;
}

static int get(const json_t *obj, const char *path, const char *key, json_t **value)
{
	*value = json_object_get(obj, key);
	if (*value == NULL)
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: missing", path, key);
	return 0;
}

static int control_free(const char *s, size_t len, const char *what)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return rombsr_error(ROMBSR_EINVAL, "%s: control character at offset %zu", what, i);
	return 0;
}

int rombsr_json_string_value(const json_t *v, const char *what, size_t max, const char **out)
{
	size_t len;

	*out = NULL;
	if (!json_is_string(v))
		return rombsr_error(ROMBSR_EINVAL, "%s: must be a string", what);
	len = json_string_length(v);
	if (len == 0 || len > max)
		return rombsr_error(ROMBSR_EINVAL, "%s: must be 1 to %zu characters, is %zu", what, max, len);
	if (control_free(json_string_value(v), len, what) < 0)
		return ROMBSR_EINVAL;
	*out = json_string_value(v);
	return 0;
}

int rombsr_json_string_opt(const json_t *obj, const char *path, const char *key, size_t max, const char **out)
{
	char what[ROMBSR_JSON_PATH_MAX + 64];
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	snprintf(what, sizeof(what), "%s.%s", path, key);
	return rombsr_json_string_value(v, what, max, out);
}

int rombsr_json_string(const json_t *obj, const char *path, const char *key, size_t max, const char **out)
{
	int r = rombsr_json_string_opt(obj, path, key, max, out);

	if (r == 0 && *out == NULL)
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: missing", path, key);
	return r;
}

int rombsr_json_int(const json_t *obj, const char *path, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_t *v;
	int r = get(obj, path, key, &v);

	if (r < 0)
		return r;
	if (!json_is_integer(v))
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: must be an integer", path, key);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: must be from %lld to %lld", path, key, (long long)min,
				    (long long)max);
	*out = json_integer_value(v);
	return 0;
}

int rombsr_json_bool(const json_t *obj, const char *path, const char *key, bool *out)
{
	json_t *v;
	int r = get(obj, path, key, &v);

	if (r < 0)
		return r;
	if (!json_is_boolean(v))
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: must be true or false", path, key);
	*out = json_is_true(v);
	return 0;
}

int rombsr_json_object(const json_t *obj, const char *path, const char *key, json_t **out)
{
	int r = get(obj, path, key, out);

	if (r == 0 && !json_is_object(*out))
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: must be an object", path, key);
	return r;
}

int rombsr_json_array(const json_t *obj, const char *path, const char *key, size_t max, json_t **out)
{
	int r = get(obj, path, key, out);

	if (r < 0)
		return r;
	if (!json_is_array(*out))
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: must be an array", path, key);
	if (json_array_size(*out) > max)
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: %zu elements, more than the limit of %zu", path, key,
				    json_array_size(*out), max);
	return 0;
}

int rombsr_json_hex_var(const json_t *obj, const char *path, const char *key, unsigned char *out, size_t max,
			size_t *out_len)
{
	char what[ROMBSR_JSON_PATH_MAX + 64];
	const char *s;
	size_t n;
	int r = rombsr_json_string(obj, path, key, 2 * max, &s);

	if (r < 0)
		return r;
	n = strlen(s);
	snprintf(what, sizeof(what), "%s.%s", path, key);
	if (n % 2 != 0)
		return rombsr_error(ROMBSR_EINVAL, "%s: odd number of hex characters", what);
	r = rombsr_hex_decode(s, out, n / 2, what);
	if (r == 0)
		*out_len = n / 2;
	return r;
}

int rombsr_json_hex(const json_t *obj, const char *path, const char *key, unsigned char *out, size_t len)
{
	char what[ROMBSR_JSON_PATH_MAX + 64];
	const char *s;
	int r = rombsr_json_string(obj, path, key, 2 * len + 1, &s);

	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "%s.%s", path, key);
	return rombsr_hex_decode(s, out, len, what);
}

int rombsr_json_time(const json_t *obj, const char *path, const char *key, time_t *out)
{
	struct tm tm = {0};
	const char *s, *end;
	char back[21];
	int r = rombsr_json_string(obj, path, key, 20, &s);

	if (r < 0)
		return r;
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: not a time of the form YYYY-MM-DDTHH:MM:SSZ", path, key);
	*out = timegm(&tm);
	/* Round trip: refuses 2026-02-30 and other values strptime lets by. */
	rombsr_time_format(*out, back);
	if (strcmp(back, s) != 0)
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: '%s' is not a valid time", path, key, s);
	return 0;
}

int rombsr_json_enum(const json_t *obj, const char *path, const char *key, const char *const *choices, int *index)
{
	const char *s;
	int r = rombsr_json_string(obj, path, key, 64, &s);

	if (r < 0)
		return r;
	for (int i = 0; choices[i] != NULL; i++) {
		if (strcmp(choices[i], s) == 0) {
			*index = i;
			return 0;
		}
	}
	return rombsr_error(ROMBSR_EINVAL, "%s.%s: '%s' is not one of the allowed values", path, key, s);
}

int rombsr_safe_name(const char *name, const char *path)
{
	const char *p = name;

	if (name[0] == '/')
		return rombsr_error(ROMBSR_EINVAL, "%s: '%.64s' must be relative", path, name);
	for (const char *c = name; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
			return rombsr_error(ROMBSR_EINVAL, "%s: control character or backslash in a name", path);
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return rombsr_error(ROMBSR_EINVAL, "%s: '%.64s' has an empty, '.' or '..' component", path,
					    name);
		p += n;
		if (*p == '/')
			p++;
		if (*p == '\0' && p[-1] == '/')
			return rombsr_error(ROMBSR_EINVAL, "%s: '%.64s' ends with '/'", path, name);
	}
	return 0;
}

void rombsr_json_path_index(char *out, size_t size, const char *path, const char *key, size_t i)
{
	snprintf(out, size, "%s.%s[%zu]", path, key, i);
}

void rombsr_time_format(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
