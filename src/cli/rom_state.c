/* rom-sign's record in its state folder (docs/rom-sign.md, "State"):
 * DIR/state.json says, per round, which requests were applied, which one
 * was submitted and not yet applied, and whether the round is done. It is
 * replaced atomically, so a rom-sign killed at any point leaves the record
 * before or after a change, never between. */
#define _GNU_SOURCE
#include "rom_sign.h"

#include "../common/buf.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/json_strict.h"
#include "../queue/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_FORMAT "rombsr.rom-sign-state"
#define STATE_MAX (16u * 1024 * 1024)
#define STATE_REQUESTS_MAX 4096

static int read_id(const json_t *v, const char *what, char out[33])
{
	const char *id;
	int r = rombsr_json_string_value(v, what, 32, &id);

	if (r == 0 && !rombsr_request_id_valid(id))
		r = rombsr_error(ROMBSR_EINVAL, "%s: '%s' is not a request ID", what, id);
	if (r == 0)
		snprintf(out, 33, "%s", id);
	return r;
}

static int read_round(const json_t *obj, const char *path, struct rom_round_state *rs)
{
	static const char *const fields[] = {"name", "requests", "pending", "done", NULL};
	char what[ROMBSR_JSON_PATH_MAX + 16], id[33];
	const char *name;
	json_t *arr;
	int r;

	if (!json_is_object(obj))
		return rombsr_error(ROMBSR_EINVAL, "%s: must be an object", path);
	r = rombsr_json_only(obj, path, fields);
	if (r == 0)
		r = rombsr_json_string(obj, path, "name", ROM_PLAN_NAME_MAX, &name);
	if (r == 0)
		snprintf(rs->name, sizeof(rs->name), "%s", name);
	if (r == 0)
		r = rombsr_json_bool(obj, path, "done", &rs->done);
	if (r == 0 && json_object_get(obj, "pending") != NULL) {
		snprintf(what, sizeof(what), "%s.pending", path);
		r = read_id(json_object_get(obj, "pending"), what, rs->pending);
	}
	if (r == 0)
		r = rombsr_json_array(obj, path, "requests", STATE_REQUESTS_MAX, &arr);
	for (size_t i = 0; r == 0 && i < json_array_size(arr); i++) {
		rombsr_json_path_index(what, sizeof(what), path, "requests", i);
		r = read_id(json_array_get(arr, i), what, id);
		if (r == 0)
			r = rom_state_add_request(rs, id);
	}
	return r;
}

static int append_round(struct rom_state *st, const char *name, struct rom_round_state **out);

static int parse(struct rom_state *st, const char *path, const struct rombsr_buf *text)
{
	static const char *const fields[] = {"format", "version", "rounds", NULL};
	char what[ROMBSR_JSON_PATH_MAX];
	json_t *root = NULL, *arr;
	int r;

	r = rombsr_json_load_document((const char *)text->data, text->len, path, STATE_FORMAT, 1, &root);
	if (r == 0)
		r = rombsr_json_only(root, "state", fields);
	if (r == 0)
		r = rombsr_json_array(root, "state", "rounds", ROM_PLAN_ROUNDS_MAX, &arr);
	for (size_t i = 0; r == 0 && i < json_array_size(arr); i++) {
		struct rom_round_state *rs;

		rombsr_json_path_index(what, sizeof(what), "state", "rounds", i);
		r = append_round(st, "", &rs);
		if (r == 0)
			r = read_round(json_array_get(arr, i), what, rs);
		for (size_t j = 0; r == 0 && j + 1 < st->nrounds; j++)
			if (strcmp(st->rounds[j].name, rs->name) == 0)
				r = rombsr_error(ROMBSR_EINVAL, "%s.name: round '%s' is recorded twice", what, rs->name);
	}
	json_decref(root);
	return r;
}

int rom_state_load(const char *dir, struct rom_state *st)
{
	struct rombsr_buf text;
	char path[4096];
	int r;

	memset(st, 0, sizeof(*st));
	st->dir = strdup(dir);
	if (st->dir == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = rombsr_path_format(path, sizeof(path), "%s/state.json", dir);
	if (r < 0 || !rombsr_path_exists(path))
		return r;
	r = rombsr_file_read(path, STATE_MAX, &text);
	if (r == 0) {
		r = parse(st, path, &text);
		rombsr_buf_free(&text);
	}
	return r < 0 ? rombsr_error_wrap(r, "state of rom-sign (remove %s to start over)", path) : 0;
}

static int append_round(struct rom_state *st, const char *name, struct rom_round_state **out)
{
	struct rom_round_state *grown;

	if (st->nrounds >= 4 * ROM_PLAN_ROUNDS_MAX)
		return rombsr_error(ROMBSR_EINVAL, "state: too many rounds");
	grown = realloc(st->rounds, (st->nrounds + 1) * sizeof(*grown));
	if (grown == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	st->rounds = grown;
	*out = &st->rounds[st->nrounds++];
	memset(*out, 0, sizeof(**out));
	snprintf((*out)->name, sizeof((*out)->name), "%s", name);
	return 0;
}

int rom_state_round(struct rom_state *st, const char *name, struct rom_round_state **out)
{
	for (size_t i = 0; i < st->nrounds; i++)
		if (strcmp(st->rounds[i].name, name) == 0) {
			*out = &st->rounds[i];
			return 0;
		}
	return append_round(st, name, out);
}

int rom_state_add_request(struct rom_round_state *rs, const char *id)
{
	char **grown;

	if (rs->nrequests >= STATE_REQUESTS_MAX)
		return rombsr_error(ROMBSR_EINVAL, "round '%s': more than %d requests", rs->name, STATE_REQUESTS_MAX);
	grown = realloc(rs->requests, (rs->nrequests + 1) * sizeof(*grown));
	if (grown == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	rs->requests = grown;
	rs->requests[rs->nrequests] = strdup(id);
	if (rs->requests[rs->nrequests] == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	rs->nrequests++;
	return 0;
}

static json_t *encode_round(const struct rom_round_state *rs)
{
	json_t *o = json_object(), *reqs = json_array();
	int bad = o == NULL || reqs == NULL;

	for (size_t i = 0; !bad && i < rs->nrequests; i++)
		bad = json_array_append_new(reqs, json_string(rs->requests[i])) != 0;
	if (!bad)
		bad = json_object_set_new(o, "name", json_string(rs->name)) != 0 ||
		      json_object_set_new(o, "done", json_boolean(rs->done)) != 0 ||
		      json_object_set(o, "requests", reqs) != 0;
	if (!bad && rs->pending[0] != '\0')
		bad = json_object_set_new(o, "pending", json_string(rs->pending)) != 0;
	json_decref(reqs);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int rom_state_save(const struct rom_state *st)
{
	json_t *root = json_pack("{s:s, s:i}", "format", STATE_FORMAT, "version", 1), *rounds = json_array();
	char path[4096], *text = NULL;
	int r = root && rounds ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	for (size_t i = 0; r == 0 && i < st->nrounds; i++)
		if (json_array_append_new(rounds, encode_round(&st->rounds[i])) != 0)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0 && json_object_set(root, "rounds", rounds) != 0)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0 && (text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0)
		r = rombsr_path_format(path, sizeof(path), "%s/state.json", st->dir);
	if (r == 0)
		r = rombsr_file_write_atomic(path, text, strlen(text), 0644, false);
	free(text);
	json_decref(rounds);
	json_decref(root);
	return r;
}

void rom_state_free(struct rom_state *st)
{
	for (size_t i = 0; st->rounds != NULL && i < st->nrounds; i++) {
		for (size_t j = 0; j < st->rounds[i].nrequests; j++)
			free(st->rounds[i].requests[j]);
		free(st->rounds[i].requests);
	}
	free(st->rounds);
	free(st->dir);
	memset(st, 0, sizeof(*st));
}
