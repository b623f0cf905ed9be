#include "release_manifest.h"

#include "../common/error.h"
#include "../common/json_strict.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct rombsr_artifact *)a)->name, ((const struct rombsr_artifact *)b)->name);
}

static int by_location(const void *a, const void *b)
{
	uint32_t x = ((const struct rombsr_manifest_rollback *)a)->location;
	uint32_t y = ((const struct rombsr_manifest_rollback *)b)->location;

	return x < y ? -1 : x > y;
}

int rombsr_release_manifest_sort(struct rombsr_release_manifest *m)
{
	if (m->nartifacts > 0)
		qsort(m->artifacts, m->nartifacts, sizeof(m->artifacts[0]), by_name);
	qsort(m->rollback, m->nrollback, sizeof(m->rollback[0]), by_location);
	for (size_t i = 1; i < m->nartifacts; i++)
		if (strcmp(m->artifacts[i - 1].name, m->artifacts[i].name) == 0)
			return rombsr_error(ROMBSR_EINVAL, "two artifacts are named '%s': a release names each once",
					    m->artifacts[i].name);
	for (size_t i = 1; i < m->nrollback; i++)
		if (m->rollback[i - 1].location == m->rollback[i].location)
			return rombsr_error(ROMBSR_EINVAL, "rollback index location %u is given twice",
					    (unsigned)m->rollback[i].location);
	return 0;
}

/* The canonical text, unchecked: the parser compares its input with it. */
static int encode_raw(const struct rombsr_release_manifest *m, struct rombsr_buf *out)
{
	json_t *artifacts = rombsr_artifacts_to_json(m->artifacts, m->nartifacts), *rollback = json_array();
	json_t *root = NULL;
	char time_text[21], *text = NULL;
	int r;

	rombsr_buf_init(out, ROMBSR_MANIFEST_PAYLOAD_MAX);
	for (size_t i = 0; i < m->nrollback && rollback != NULL; i++)
		if (json_array_append_new(rollback, json_pack("{s:I, s:I}", "location", (json_int_t)m->rollback[i].location,
							      "index", (json_int_t)m->rollback[i].index)) != 0) {
			json_decref(rollback);
			rollback = NULL;
		}
	rombsr_time_format(m->time, time_text);
	if (artifacts != NULL && rollback != NULL)
		root = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:O, s:O}", "format", ROMBSR_MANIFEST_FORMAT, "version",
				 ROMBSR_MANIFEST_VERSION, "product", m->product, "device", m->device, "release_version",
				 m->release_version, "time", time_text, "artifacts", artifacts, "rollback_indexes",
				 rollback);
	if (root != NULL)
		text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (text != NULL)
		rombsr_buf_append_str(out, text);
	r = text != NULL ? rombsr_buf_check(out, "release manifest")
			 : rombsr_error(ROMBSR_ENOMEM, "cannot encode the release manifest");
	free(text);
	json_decref(root);
	json_decref(artifacts);
	json_decref(rollback);
	return r;
}

int rombsr_release_manifest_encode(const struct rombsr_release_manifest *m, struct rombsr_buf *out)
{
	struct rombsr_release_manifest back = {0};
	int r = encode_raw(m, out);

	if (r == 0)
		r = rombsr_release_manifest_parse((const char *)out->data, out->len, &back);
	rombsr_release_manifest_free(&back);
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

static int read_text(const json_t *root, const char *key, char *out)
{
	const char *s;
	int r = rombsr_json_string(root, "manifest", key, ROMBSR_MANIFEST_TEXT_MAX, &s);

	if (r < 0)
		return r;
	snprintf(out, ROMBSR_MANIFEST_TEXT_MAX + 1, "%s", s);
	return 0;
}

static int read_artifacts(const json_t *root, struct rombsr_release_manifest *m)
{
	int r = rombsr_json_artifacts(root, "manifest", "artifacts", ROMBSR_MANIFEST_MAX_ARTIFACTS, &m->artifacts,
				      &m->nartifacts);

	if (r < 0)
		return r;
	if (m->nartifacts == 0)
		return rombsr_error(ROMBSR_EINVAL, "manifest.artifacts: a release has at least one artifact");
	for (size_t i = 1; i < m->nartifacts; i++)
		if (strcmp(m->artifacts[i - 1].name, m->artifacts[i].name) > 0)
			return rombsr_error(ROMBSR_EINVAL, "manifest.artifacts[%zu].name: '%s' comes before '%s' (names are "
							   "sorted)", i, m->artifacts[i].name, m->artifacts[i - 1].name);
	return 0;
}

static int read_rollback(const json_t *root, struct rombsr_release_manifest *m)
{
	static const char *const fields[] = {"location", "index", NULL};
	char path[ROMBSR_JSON_PATH_MAX];
	json_t *list, *item;
	int64_t location, index;
	size_t i;
	int r = rombsr_json_array(root, "manifest", "rollback_indexes", ROMBSR_MANIFEST_MAX_ROLLBACK, &list);

	if (r < 0)
		return r;
	json_array_foreach(list, i, item) {
		rombsr_json_path_index(path, sizeof(path), "manifest", "rollback_indexes", i);
		if (!json_is_object(item))
			return rombsr_error(ROMBSR_EINVAL, "%s: must be an object", path);
		r = rombsr_json_only(item, path, fields);
		if (r == 0)
			r = rombsr_json_int(item, path, "location", 0, ROMBSR_MANIFEST_MAX_ROLLBACK - 1, &location);
		if (r == 0)
			r = rombsr_json_int(item, path, "index", 0, ROMBSR_MANIFEST_MAX_INDEX, &index);
		if (r < 0)
			return r;
		if (i > 0 && (uint32_t)location <= m->rollback[i - 1].location)
			return rombsr_error(ROMBSR_EINVAL, "%s.location: %u %s (locations are sorted and unique)", path,
					    (unsigned)location,
					    (uint32_t)location == m->rollback[i - 1].location ? "listed twice" : "out of order");
		m->rollback[i] = (struct rombsr_manifest_rollback){(uint32_t)location, (uint64_t)index};
		m->nrollback = i + 1;
	}
	return 0;
}

static int read_fields(const json_t *root, struct rombsr_release_manifest *m)
{
	static const char *const fields[] = {"format",  "version", "product",   "device",           "release_version",
					     "time",    "artifacts", "rollback_indexes", NULL};
	const char *format;
	int64_t version;
	int r = rombsr_json_only(root, "manifest", fields);

	if (r == 0)
		r = rombsr_json_string(root, "manifest", "format", 64, &format);
	if (r == 0 && strcmp(format, ROMBSR_MANIFEST_FORMAT) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "manifest.format: '%s' is not \"%s\"", format, ROMBSR_MANIFEST_FORMAT);
	if (r == 0)
		r = rombsr_json_int(root, "manifest", "version", INT64_MIN, INT64_MAX, &version);
	if (r == 0 && version != ROMBSR_MANIFEST_VERSION)
		r = rombsr_error(ROMBSR_EUNSUPPORTED, "manifest.version: %lld is not supported (this build reads %d)",
				 (long long)version, ROMBSR_MANIFEST_VERSION);
	if (r == 0)
		r = read_text(root, "product", m->product);
	if (r == 0)
		r = read_text(root, "device", m->device);
	if (r == 0)
		r = read_text(root, "release_version", m->release_version);
	if (r == 0)
		r = rombsr_json_time(root, "manifest", "time", &m->time);
	if (r == 0)
		r = read_artifacts(root, m);
	if (r == 0)
		r = read_rollback(root, m);
	return r;
}

int rombsr_release_manifest_parse(const char *text, size_t len, struct rombsr_release_manifest *out)
{
	struct rombsr_buf canonical = {0};
	json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_json_load(text, len, ROMBSR_MANIFEST_PAYLOAD_MAX, "manifest", &root);
	if (r == 0)
		r = read_fields(root, out);
	/* One encoding only: a signature then stands for one text, and a
	 * replayed build's manifest is the same bytes. */
	if (r == 0)
		r = encode_raw(out, &canonical);
	if (r == 0 && (canonical.len != len || memcmp(canonical.data, text, len) != 0))
		r = rombsr_error(ROMBSR_EINVAL, "manifest: not in the canonical form (compact JSON, keys sorted)");
	rombsr_buf_free(&canonical);
	json_decref(root);
	if (r < 0)
		rombsr_release_manifest_free(out);
	return r;
}

void rombsr_release_manifest_free(struct rombsr_release_manifest *m)
{
	if (m == NULL)
		return;
	free(m->artifacts);
	m->artifacts = NULL;
	m->nartifacts = 0;
}
