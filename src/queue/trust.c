#include "trust.h"

#include "gpg.h"
#include "layout.h"

#include "../common/error.h"
#include "../common/json_strict.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[ROMBSR_ROLE_COUNT + 1] = {"admin", "build", "sign", "operator", NULL};

const char *rombsr_role_name(enum rombsr_role role)
{
	return role < ROMBSR_ROLE_COUNT ? role_names[role] : "?";
}

int rombsr_role_from_name(const char *name, enum rombsr_role *role)
{
	for (int i = 0; i < ROMBSR_ROLE_COUNT; i++) {
		if (strcmp(role_names[i], name) == 0) {
			*role = (enum rombsr_role)i;
			return 0;
		}
	}
	return rombsr_error(ROMBSR_EINVAL, "unknown role '%s' (known: admin, build, sign, operator)", name);
}

bool rombsr_trust_has(const struct rombsr_trust *t, enum rombsr_role role, const char *fpr)
{
	for (size_t i = 0; i < t->count[role]; i++)
		if (strcmp(t->fprs[role][i], fpr) == 0)
			return true;
	return false;
}

int rombsr_trust_add(struct rombsr_trust *t, enum rombsr_role role, const char *fpr)
{
	char (*grown)[41];

	if (!rombsr_fpr_valid(fpr))
		return rombsr_error(ROMBSR_EINVAL, "'%.48s' is not an OpenPGP fingerprint (40 upper-case hex)", fpr);
	if (rombsr_trust_has(t, role, fpr))
		return 0;
	if (t->count[role] >= ROMBSR_TRUST_MAX_KEYS)
		return rombsr_error(ROMBSR_EINVAL, "more than %d keys in role %s", ROMBSR_TRUST_MAX_KEYS,
				    role_names[role]);
	grown = realloc(t->fprs[role], (t->count[role] + 1) * sizeof(*grown));
	if (grown == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	t->fprs[role] = grown;
	memcpy(t->fprs[role][t->count[role]++], fpr, 41);
	return 0;
}

void rombsr_trust_free(struct rombsr_trust *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < ROMBSR_ROLE_COUNT; i++)
		free(t->fprs[i]);
	memset(t, 0, sizeof(*t));
}

int rombsr_trust_parse(const char *text, size_t len, struct rombsr_trust *out)
{
	static const char *const top[] = {"format", "version", "roles", NULL};
	json_t *root = NULL, *roles;
	const char *format;
	int64_t version;
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_json_load(text, len, 1 << 20, ROMBSR_QUEUE_TRUST_NAME, &root);
	if (r == 0)
		r = rombsr_json_only(root, "trust", top);
	if (r == 0)
		r = rombsr_json_string(root, "trust", "format", 64, &format);
	if (r == 0 && strcmp(format, ROMBSR_TRUST_FORMAT) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "trust.format: expected '%s'", ROMBSR_TRUST_FORMAT);
	if (r == 0)
		r = rombsr_json_int(root, "trust", "version", ROMBSR_TRUST_VERSION, ROMBSR_TRUST_VERSION, &version);
	if (r == 0)
		r = rombsr_json_object(root, "trust", "roles", &roles);
	if (r == 0)
		r = rombsr_json_only(roles, "trust.roles", role_names);
	for (int role = 0; role < ROMBSR_ROLE_COUNT && r == 0; role++) {
		char path[64];
		json_t *list, *item;
		size_t i;

		r = rombsr_json_array(roles, "trust.roles", role_names[role], ROMBSR_TRUST_MAX_KEYS, &list);
		json_array_foreach(list, i, item) {
			if (r < 0)
				break;
			snprintf(path, sizeof(path), "trust.roles.%s[%zu]", role_names[role], i);
			if (!json_is_string(item) || !rombsr_fpr_valid(json_string_value(item)))
				r = rombsr_error(ROMBSR_EINVAL, "%s: not an OpenPGP fingerprint (40 upper-case hex)", path);
			else if (rombsr_trust_has(out, (enum rombsr_role)role, json_string_value(item)))
				r = rombsr_error(ROMBSR_EINVAL, "%s: listed twice", path);
			else
				r = rombsr_trust_add(out, (enum rombsr_role)role, json_string_value(item));
		}
	}
	json_decref(root);
	if (r < 0)
		rombsr_trust_free(out);
	return r;
}

int rombsr_trust_encode(const struct rombsr_trust *t, char **out)
{
	json_t *roles = json_object(), *root;

	*out = NULL;
	for (int role = 0; role < ROMBSR_ROLE_COUNT && roles != NULL; role++) {
		json_t *list = json_array();

		for (size_t i = 0; i < t->count[role] && list != NULL; i++)
			json_array_append_new(list, json_string(t->fprs[role][i]));
		json_object_set_new(roles, role_names[role], list);
	}
	root = json_pack("{s:s, s:i, s:o}", "format", ROMBSR_TRUST_FORMAT, "version", ROMBSR_TRUST_VERSION, "roles",
			 roles);
	if (root != NULL)
		*out = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	return *out != NULL ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");
}

int rombsr_trust_at(struct rombsr_repo *repo, const git_oid *commit, struct rombsr_trust *out)
{
	struct rombsr_buf text;
	int r = rombsr_repo_read(repo, commit, ROMBSR_QUEUE_TRUST, ROMBSR_TRUST_MAX_BYTES, &text);

	if (r == 0)
		r = rombsr_trust_parse((const char *)text.data, text.len, out);
	rombsr_buf_free(&text);
	return r;
}
