#include "artifact_list.h"

#include "error.h"
#include "hex.h"
#include "json_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_one(const json_t *item, const char *path, struct rombsr_artifact *a)
{
	static const char *const fields[] = {"name", "sha256", "size", NULL};
	char sub[ROMBSR_JSON_PATH_MAX + 8];
	const char *name;
	int64_t size;
	int r;

	if (!json_is_object(item))
		return rombsr_error(ROMBSR_EINVAL, "%s: must be an object", path);
	r = rombsr_json_only(item, path, fields);
	if (r == 0)
		r = rombsr_json_string(item, path, "name", ROMBSR_NAME_MAX, &name);
	if (r == 0) {
		snprintf(sub, sizeof(sub), "%s.name", path);
		r = rombsr_safe_name(name, sub);
	}
	if (r == 0)
		r = rombsr_json_hex(item, path, "sha256", a->sha256, sizeof(a->sha256));
	if (r == 0)
		r = rombsr_json_int(item, path, "size", 0, INT64_MAX, &size);
	if (r < 0)
		return r;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->size = (uint64_t)size;
	return 0;
}

int rombsr_json_artifacts(const json_t *obj, const char *path, const char *key, size_t max,
			  struct rombsr_artifact **out, size_t *n)
{
	char item_path[ROMBSR_JSON_PATH_MAX];
	json_t *list, *item;
	size_t i;
	int r = rombsr_json_array(obj, path, key, max, &list);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	*out = calloc(json_array_size(list) + 1, sizeof(**out));
	if (*out == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	json_array_foreach(list, i, item) {
		rombsr_json_path_index(item_path, sizeof(item_path), path, key, i);
		r = read_one(item, item_path, &(*out)[i]);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp((*out)[j].name, (*out)[i].name) == 0)
				return rombsr_error(ROMBSR_EINVAL, "%s.name: '%s' listed twice", item_path, (*out)[i].name);
		(*n)++;
	}
	return 0;
}

json_t *rombsr_artifacts_to_json(const struct rombsr_artifact *list, size_t n)
{
	json_t *array = json_array();
	char hex[65];

	for (size_t i = 0; i < n && array != NULL; i++) {
		rombsr_hex_encode(list[i].sha256, sizeof(list[i].sha256), hex);
		if (json_array_append_new(array, json_pack("{s:s, s:s, s:I}", "name", list[i].name, "sha256", hex, "size",
							  (json_int_t)list[i].size)) != 0) {
			json_decref(array);
			return NULL;
		}
	}
	return array;
}
