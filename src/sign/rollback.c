#include "rollback.h"

#include "understand.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEDGER_FILE "rollback.json"
#define LEDGER_FORMAT "rombsr.rollback-floors"
#define LEDGER_VERSION 1
#define LEDGER_MAX_BYTES (4u << 20)

static int ledger_path(const char *dir, char *out, size_t size)
{
	return rombsr_path_format(out, size, "%s/" LEDGER_FILE, dir);
}

/* The ledger's floors array (new reference), empty when there is no file. */
static int ledger_read(const char *dir, json_t **floors)
{
	char path[PATH_MAX];
	struct rombsr_buf text;
	json_error_t jerr;
	json_t *root;
	int r = ledger_path(dir, path, sizeof(path));

	*floors = NULL;
	if (r == 0)
		r = rombsr_file_read(path, LEDGER_MAX_BYTES, &text);
	if (r == ROMBSR_ENOTFOUND) {
		rombsr_error_clear();
		*floors = json_array();
		return *floors ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (r < 0)
		return r;
	root = json_loadb((const char *)text.data, text.len, JSON_REJECT_DUPLICATES, &jerr);
	rombsr_buf_free(&text);
	/* The node wrote it; anything else in its place is damage, and the
	 * floors are not to be guessed: fail closed. */
	if (root == NULL || json_unpack_ex(root, &jerr, JSON_STRICT, "{s:s, s:i, s:o}", "format", &(const char *){0},
					   "version", &(json_int_t){0}, "floors", floors) != 0 ||
	    !json_is_array(*floors)) {
		json_decref(root);
		*floors = NULL;
		return rombsr_error(ROMBSR_EINVAL, "%s: not a rollback floor file (%s); restore it from a backup",
				    path, jerr.text);
	}
	json_incref(*floors);
	json_decref(root);
	/* Every floor whole, or none used: a damaged entry read as 0 would
	 * lower a floor. */
	for (size_t i = 0; i < json_array_size(*floors); i++) {
		json_t *f = json_array_get(*floors, i);
		const char *product = NULL, *index = NULL;
		json_int_t location = -1;

		if (json_unpack_ex(f, &jerr, JSON_STRICT, "{s:s, s:I, s:s}", "product", &product, "location",
				   &location, "index", &index) != 0 ||
		    location < 0 || location > (json_int_t)UINT32_MAX || index[0] == '\0' ||
		    strspn(index, "0123456789") != strlen(index) || strlen(index) > 20) {
			json_decref(*floors);
			*floors = NULL;
			return rombsr_error(ROMBSR_EINVAL, "%s: floor %zu is damaged; restore the file from a backup",
					    path, i);
		}
	}
	return 0;
}

static json_t *find_floor(json_t *floors, const char *product, uint32_t location)
{
	size_t i;
	json_t *f;

	json_array_foreach(floors, i, f) {
		const char *p = json_string_value(json_object_get(f, "product"));
		json_int_t loc = json_integer_value(json_object_get(f, "location"));

		if (p != NULL && strcmp(p, product) == 0 && loc == (json_int_t)location)
			return f;
	}
	return NULL;
}

/* Indexes are kept as decimal strings: an AVB rollback index is 64 bits,
 * more than a JSON integer holds. */
static uint64_t floor_index(const json_t *f)
{
	const char *s = json_string_value(json_object_get(f, "index"));
	char *end;
	unsigned long long v;

	if (s == NULL)
		return UINT64_MAX;
	errno = 0;
	v = strtoull(s, &end, 10);
	/* Checked when read; out of range stays the highest floor (fail closed). */
	return errno != 0 || *end != '\0' ? UINT64_MAX : (uint64_t)v;
}

bool rombsr_rollback_check(const char *dir, const struct rombsr_request *req, size_t i, uint64_t index,
			   uint32_t location, struct rombsr_refusal *why, int *error)
{
	json_t *floors, *f;
	uint64_t floor;

	*error = ledger_read(dir, &floors);
	if (*error < 0)
		return false;
	f = find_floor(floors, req->product, location);
	floor = f ? floor_index(f) : 0;
	json_decref(floors);
	if (index >= floor)
		return true;
	return rombsr_refuse(why, "rollback", "operation %zu: vbmeta rollback index %llu at location %u is below %llu, "
			     "which this node has signed for product %s", i, (unsigned long long)index, location,
			     (unsigned long long)floor, req->product);
}

static int raise_one(json_t *floors, const char *product, uint32_t location, uint64_t index, bool *changed)
{
	json_t *f = find_floor(floors, product, location);
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)index);
	if (f != NULL && floor_index(f) >= index)
		return 0;
	*changed = true;
	if (f != NULL)
		return json_object_set_new(f, "index", json_string(text)) == 0 ? 0 :
			rombsr_error(ROMBSR_ENOMEM, "out of memory");
	f = json_pack("{s:s, s:i, s:s}", "product", product, "location", (json_int_t)location, "index", text);
	if (f == NULL || json_array_append_new(floors, f) != 0)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	return 0;
}

int rombsr_rollback_raise(const char *dir, const struct rombsr_request *req)
{
	char path[PATH_MAX];
	json_t *floors = NULL, *root = NULL;
	char *text = NULL;
	bool changed = false;
	int r = ledger_read(dir, &floors);

	for (size_t i = 0; r == 0 && i < req->nops; i++) {
		struct rombsr_understood u;
		struct rombsr_refusal why;

		if (req->ops[i].data == NULL)
			continue;
		if (!rombsr_sign_understand(req, i, 0, &u, &why))
			r = rombsr_error(ROMBSR_EINTERNAL, "request %s: %s", req->id, why.message);
		else if (u.kind != NULL && strcmp(u.kind, "avb-vbmeta") == 0)
			r = raise_one(floors, req->product, u.rollback_location, u.rollback_index, &changed);
	}
	if (r < 0 || !changed)
		goto out;
	root = json_pack("{s:s, s:i, s:O}", "format", LEDGER_FORMAT, "version", LEDGER_VERSION, "floors", floors);
	text = root ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	if (text == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	r = ledger_path(dir, path, sizeof(path));
	if (r == 0)
		r = rombsr_file_write_atomic(path, text, strlen(text), 0600, false);
out:
	free(text);
	json_decref(root);
	json_decref(floors);
	return r;
}
