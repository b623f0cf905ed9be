/* The ROM signing plan, version 1 (docs/rom-sign.md): read strictly, so a
 * misspelt field or a step in the wrong place stops rom-sign before any
 * tool runs or any request is made. */
#define _GNU_SOURCE
#include "rom_sign.h"

#include "../common/buf.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/json_strict.h"

#include <ctype.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_FORMAT "rombsr.rom-plan"

/* Names of rounds and steps go into file names and messages: letters,
 * digits, '.', '_' and '-', not starting with '.'. */
static int check_name(const char *name, const char *what)
{
	size_t n = strlen(name);

	if (n == 0 || n > ROM_PLAN_NAME_MAX || name[0] == '.')
		return rombsr_error(ROMBSR_EINVAL, "%s: '%s' must be 1 to %d characters, not starting with '.'", what,
				    name, ROM_PLAN_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return rombsr_error(ROMBSR_EINVAL, "%s: '%s' may hold only letters, digits, '.', '_' and '-'",
					    what, name);
	return 0;
}

/* base/rel, or rel itself if it is absolute; owned. */
static int join_path(const char *base, const char *rel, char **out)
{
	if (rel[0] == '/')
		*out = strdup(rel);
	else if (strcmp(rel, ".") == 0)
		*out = strdup(base);
	else if (asprintf(out, "%s/%s", base, rel) < 0)
		*out = NULL;
	return *out ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");
}

/* An object of the plan with only the given fields and a valid "name". */
static int read_named(const json_t *obj, const char *path, const char *const *fields, const char **name)
{
	char what[ROMBSR_JSON_PATH_MAX];
	int r;

	if (!json_is_object(obj))
		return rombsr_error(ROMBSR_EINVAL, "%s: must be an object", path);
	r = rombsr_json_only(obj, path, fields);
	if (r == 0)
		r = rombsr_json_string(obj, path, "name", ROM_PLAN_NAME_MAX, name);
	if (r == 0) {
		snprintf(what, sizeof(what), "%s.name", path);
		r = check_name(*name, what);
	}
	return r;
}

static int read_step(const json_t *obj, const char *path, const char *base, struct rom_step *s)
{
	static const char *const fields[] = {"name", "argv", "dir", NULL};
	const char *dir = NULL;
	char what[ROMBSR_JSON_PATH_MAX];
	json_t *argv;
	size_t n;
	int r;

	r = read_named(obj, path, fields, &s->name);
	if (r == 0)
		r = rombsr_json_string_opt(obj, path, "dir", ROM_PLAN_STRING_MAX, &dir);
	if (r == 0)
		r = rombsr_json_array(obj, path, "argv", ROM_PLAN_ARGV_MAX, &argv);
	if (r < 0)
		return r;
	n = json_array_size(argv);
	if (n == 0)
		return rombsr_error(ROMBSR_EINVAL, "%s.argv: must name a program", path);
	s->argv = calloc(n + 1, sizeof(*s->argv));
	if (s->argv == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && r == 0; i++) {
		rombsr_json_path_index(what, sizeof(what), path, "argv", i);
		r = rombsr_json_string_value(json_array_get(argv, i), what, ROM_PLAN_STRING_MAX, &s->argv[i]);
	}
	if (r == 0 && s->argv[0][0] == '\0')
		r = rombsr_error(ROMBSR_EINVAL, "%s.argv[0]: must name a program", path);
	if (r == 0)
		r = join_path(base, dir ? dir : ".", &s->dir);
	return r;
}

/* A list of steps whose names are unique within it. */
static int read_steps(const json_t *obj, const char *path, const char *key, const char *base, struct rom_step **out,
		      size_t *n)
{
	char what[ROMBSR_JSON_PATH_MAX];
	json_t *arr;
	int r = rombsr_json_array(obj, path, key, ROM_PLAN_STEPS_MAX, &arr);

	if (r < 0)
		return r;
	*n = json_array_size(arr);
	*out = calloc(*n + 1, sizeof(**out));
	if (*out == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < *n && r == 0; i++) {
		rombsr_json_path_index(what, sizeof(what), path, key, i);
		r = read_step(json_array_get(arr, i), what, base, &(*out)[i]);
		for (size_t j = 0; j < i && r == 0; j++)
			if (strcmp((*out)[j].name, (*out)[i].name) == 0)
				r = rombsr_error(ROMBSR_EINVAL, "%s.name: '%s' is the name of %s[%zu] already", what,
						 (*out)[i].name, key, j);
	}
	return r;
}

static int read_artifacts(const json_t *obj, const char *path, struct rom_round *rd)
{
	char what[ROMBSR_JSON_PATH_MAX];
	json_t *arr;
	int r;

	if (json_object_get(obj, "artifacts") == NULL)
		return 0;
	r = rombsr_json_array(obj, path, "artifacts", ROM_PLAN_ARTIFACTS_MAX, &arr);
	if (r < 0)
		return r;
	rd->nartifacts = json_array_size(arr);
	rd->artifacts = calloc(rd->nartifacts + 1, sizeof(*rd->artifacts));
	if (rd->artifacts == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < rd->nartifacts && r == 0; i++) {
		rombsr_json_path_index(what, sizeof(what), path, "artifacts", i);
		r = rombsr_json_string_value(json_array_get(arr, i), what, 255, &rd->artifacts[i]);
		/* The path doubles as the artifact's name in the request. */
		if (r == 0)
			r = rombsr_safe_name(rd->artifacts[i], what);
	}
	return r;
}

static int read_round(const json_t *obj, const char *path, const char *base, struct rom_round *rd)
{
	static const char *const fields[] = {"name", "authority", "artifacts", "steps", NULL};
	static const char *const authorities[] = {"release", "manifest", NULL};
	int r, au = 0;

	r = read_named(obj, path, fields, &rd->name);
	if (r == 0)
		r = rombsr_json_enum(obj, path, "authority", authorities, &au);
	if (r == 0)
		rd->authority = authorities[au];
	if (r == 0)
		r = read_artifacts(obj, path, rd);
	if (r == 0)
		r = read_steps(obj, path, "steps", base, &rd->steps, &rd->nsteps);
	if (r == 0 && rd->nsteps == 0)
		r = rombsr_error(ROMBSR_EINVAL, "%s.steps: a round needs at least one step", path);
	return r;
}

static int read_env(const json_t *root, struct rom_plan *plan)
{
	const char *key;
	json_t *env, *v;
	int r;

	if (json_object_get(root, "env") == NULL)
		return 0;
	r = rombsr_json_object(root, "plan", "env", &env);
	if (r < 0)
		return r;
	if (json_object_size(env) > ROM_PLAN_ENV_MAX)
		return rombsr_error(ROMBSR_EINVAL, "plan.env: more than %d variables", ROM_PLAN_ENV_MAX);
	plan->env = calloc(json_object_size(env) + 1, sizeof(*plan->env));
	if (plan->env == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	json_object_foreach(env, key, v) {
		const char *value;
		size_t i;

		for (i = 0; key[i] != '\0'; i++)
			if (!(key[i] == '_' || isupper((unsigned char)key[i]) || (i > 0 && isdigit((unsigned char)key[i]))))
				break;
		if (i == 0 || key[i] != '\0' || i > ROM_PLAN_NAME_MAX)
			return rombsr_error(ROMBSR_EINVAL, "plan.env: '%s' is not a variable name ([A-Z_][A-Z0-9_]*)", key);
		/* rom-sign alone says which configuration the module reads. */
		if (strcmp(key, "ROMBSR_CAPTURE_CONFIG") == 0)
			return rombsr_error(ROMBSR_EINVAL, "plan.env: ROMBSR_CAPTURE_CONFIG is set by rom-sign itself");
		if (!json_is_string(v) || (value = json_string_value(v), strlen(value) > ROM_PLAN_STRING_MAX))
			return rombsr_error(ROMBSR_EINVAL, "plan.env.%s: must be a string of at most %d bytes", key,
					    ROM_PLAN_STRING_MAX);
		if (asprintf(&plan->env[plan->nenv], "%s=%s", key, value) < 0) {
			plan->env[plan->nenv] = NULL;
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		}
		plan->nenv++;
	}
	return 0;
}

static int read_build(const json_t *root, struct rom_plan *plan)
{
	static const char *const types[] = {"user", "userdebug", "eng", NULL};
	unsigned char commit[32];
	size_t commit_len = 0;
	int64_t max = ROM_PLAN_REQUESTS_DEFAULT;
	int r, bt = 0;

	r = rombsr_json_string(root, "plan", "product", 128, &plan->product);
	if (r == 0)
		r = rombsr_json_string(root, "plan", "build_id", 128, &plan->build_id);
	if (r == 0)
		r = rombsr_json_hex_var(root, "plan", "source_commit", commit, sizeof(commit), &commit_len);
	if (r == 0 && commit_len != 20 && commit_len != 32)
		r = rombsr_error(ROMBSR_EINVAL, "plan.source_commit: a commit ID has 40 or 64 hex digits");
	if (r == 0)
		r = rombsr_json_string(root, "plan", "source_commit", 64, &plan->source_commit);
	if (r == 0)
		r = rombsr_json_enum(root, "plan", "build_type", types, &bt);
	if (r == 0)
		plan->build_type = types[bt];
	if (r == 0 && json_object_get(root, "max_requests_per_round") != NULL)
		r = rombsr_json_int(root, "plan", "max_requests_per_round", 1, ROM_PLAN_REQUESTS_MAX, &max);
	plan->max_requests = (unsigned)max;
	return r;
}

static int read_paths(const json_t *root, const char *plan_path, struct rom_plan *plan)
{
	char real[PATH_MAX], *copy;
	const char *dir = NULL, *bundle = NULL;
	int r;

	if (realpath(plan_path, real) == NULL)
		return rombsr_error(ROMBSR_EIO, "cannot resolve %s", plan_path);
	copy = strdup(real);
	if (copy == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	/* Relative paths are the plan folder's, wherever rom-sign runs. */
	r = rombsr_json_string_opt(root, "plan", "dir", ROM_PLAN_STRING_MAX, &dir);
	if (r == 0)
		r = join_path(dirname(copy), dir ? dir : ".", &plan->dir);
	if (r == 0)
		r = rombsr_json_string_opt(root, "plan", "bundle", ROM_PLAN_STRING_MAX, &bundle);
	if (r == 0 && bundle != NULL)
		r = join_path(plan->dir, bundle, &plan->bundle);
	free(copy);
	return r;
}

static int read_rounds(const json_t *root, struct rom_plan *plan)
{
	char what[ROMBSR_JSON_PATH_MAX];
	json_t *arr;
	int r = rombsr_json_array(root, "plan", "rounds", ROM_PLAN_ROUNDS_MAX, &arr);

	if (r < 0)
		return r;
	plan->nrounds = json_array_size(arr);
	if (plan->nrounds == 0)
		return rombsr_error(ROMBSR_EINVAL, "plan.rounds: a plan needs at least one round");
	plan->rounds = calloc(plan->nrounds, sizeof(*plan->rounds));
	if (plan->rounds == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < plan->nrounds && r == 0; i++) {
		rombsr_json_path_index(what, sizeof(what), "plan", "rounds", i);
		r = read_round(json_array_get(arr, i), what, plan->dir, &plan->rounds[i]);
		for (size_t j = 0; j < i && r == 0; j++)
			if (strcmp(plan->rounds[j].name, plan->rounds[i].name) == 0)
				r = rombsr_error(ROMBSR_EINVAL, "%s.name: '%s' is the name of rounds[%zu] already", what,
						 plan->rounds[i].name, j);
	}
	if (r == 0 && json_object_get(root, "verify") != NULL)
		r = read_steps(root, "plan", "verify", plan->dir, &plan->verify, &plan->nverify);
	return r;
}

int rom_plan_load(const char *path, struct rom_plan *plan)
{
	static const char *const fields[] = {"format", "version", "product", "build_id", "source_commit",
					     "build_type", "bundle", "dir", "env", "max_requests_per_round",
					     "rounds", "verify", NULL};
	struct rombsr_buf text;
	int r;

	memset(plan, 0, sizeof(*plan));
	r = rombsr_file_read(path, ROM_PLAN_FILE_MAX, &text);
	if (r < 0)
		return rombsr_error_wrap(r, "plan");
	r = rombsr_json_load_document((const char *)text.data, text.len, path, PLAN_FORMAT, 1, &plan->root);
	rombsr_buf_free(&text);
	if (r == 0)
		r = rombsr_json_only(plan->root, "plan", fields);
	if (r == 0)
		r = read_build(plan->root, plan);
	if (r == 0)
		r = read_paths(plan->root, path, plan);
	if (r == 0)
		r = read_env(plan->root, plan);
	if (r == 0)
		r = read_rounds(plan->root, plan);
	if (r < 0) {
		struct rombsr_error_saved saved;

		rombsr_error_save(&saved);
		rom_plan_free(plan);
		rombsr_error_restore(&saved);
		return rombsr_error_wrap(r, "plan %s", path);
	}
	return 0;
}

static void free_steps(struct rom_step *steps, size_t n)
{
	for (size_t i = 0; steps != NULL && i < n; i++) {
		free(steps[i].dir);
		free(steps[i].argv);
	}
	free(steps);
}

void rom_plan_free(struct rom_plan *plan)
{
	for (size_t i = 0; plan->rounds != NULL && i < plan->nrounds; i++) {
		free(plan->rounds[i].artifacts);
		free_steps(plan->rounds[i].steps, plan->rounds[i].nsteps);
	}
	free(plan->rounds);
	free_steps(plan->verify, plan->nverify);
	for (size_t i = 0; plan->env != NULL && i < plan->nenv; i++)
		free(plan->env[i]);
	free(plan->env);
	free(plan->bundle);
	free(plan->dir);
	json_decref(plan->root);
	memset(plan, 0, sizeof(*plan));
}
