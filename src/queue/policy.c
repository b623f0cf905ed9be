/* Parsing policy version 1 (docs/formats/policy.md). Evaluation is in
 * policy_eval.c. */
#include "policy.h"

#include "../common/capture_format.h"
#include "../common/error.h"
#include "../common/json_strict.h"
#include "../common/keyset.h"
#include "gpg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const build_types[] = {"user", "userdebug", "eng", NULL};

/* Group names become part of reason messages and paths: a plain charset
 * keeps them readable and unambiguous. */
static bool group_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ROMBSR_POLICY_GROUP_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* obj[key]: an array of 1..max items (absent is the caller's business). */
static int list_of(const json_t *obj, const char *path, const char *key, size_t max, json_t **list)
{
	int r = rombsr_json_array(obj, path, key, max, list);

	if (r == 0 && json_array_size(*list) == 0)
		r = rombsr_error(ROMBSR_EINVAL, "%s.%s: must list at least one", path, key);
	return r;
}

static int string_list(const json_t *obj, const char *path, const char *key, size_t max, size_t len_max,
		       char ***out, size_t *n)
{
	char item_path[ROMBSR_JSON_PATH_MAX];
	json_t *list, *item;
	size_t i;
	int r = list_of(obj, path, key, max, &list);

	if (r < 0)
		return r;
	*out = calloc(json_array_size(list), sizeof(**out));
	if (*out == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	json_array_foreach(list, i, item) {
		const char *s;

		rombsr_json_path_index(item_path, sizeof(item_path), path, key, i);
		r = rombsr_json_string_value(item, item_path, len_max, &s);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp((*out)[j], s) == 0)
				return rombsr_error(ROMBSR_EINVAL, "%s: '%s' listed twice", item_path, s);
		(*out)[i] = strdup(s);
		if ((*out)[i] == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		(*n)++;
	}
	return 0;
}

/* A list of fingerprints, each 40 upper-case hex digits, none twice. */
static int fpr_list(const json_t *obj, const char *path, const char *key, size_t max, char (**out)[41], size_t *n)
{
	char item_path[ROMBSR_JSON_PATH_MAX];
	char **items = NULL;
	size_t nitems = 0;
	int r = string_list(obj, path, key, max, 64, &items, &nitems);

	if (r == 0 && (*out = calloc(nitems, sizeof(**out))) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < nitems && r == 0; i++) {
		rombsr_json_path_index(item_path, sizeof(item_path), path, key, i);
		if (!rombsr_fpr_valid(items[i]))
			r = rombsr_error(ROMBSR_EINVAL, "%s: not an OpenPGP fingerprint (40 upper-case hex)", item_path);
		else
			memcpy((*out)[(*n)++], items[i], 41);
	}
	for (size_t i = 0; i < nitems; i++)
		free(items[i]);
	free(items);
	return r;
}

static int parse_build_types(const json_t *o, const char *path, struct rombsr_policy_rule *rule)
{
	char item_path[ROMBSR_JSON_PATH_MAX];
	json_t *list, *item;
	size_t i;
	int r = list_of(o, path, "build_types", 3, &list);

	if (r < 0)
		return r;
	json_array_foreach(list, i, item) {
		const char *name;
		int t = 0;

		rombsr_json_path_index(item_path, sizeof(item_path), path, "build_types", i);
		r = rombsr_json_string_value(item, item_path, 16, &name);
		while (r == 0 && build_types[t] != NULL && strcmp(build_types[t], name) != 0)
			t++;
		if (r == 0 && build_types[t] == NULL)
			r = rombsr_error(ROMBSR_EINVAL, "%s: '%s' is not \"user\", \"userdebug\" or \"eng\"", item_path,
					 name);
		if (r == 0 && (rule->build_types & (1u << t)))
			r = rombsr_error(ROMBSR_EINVAL, "%s: '%s' listed twice", item_path, name);
		if (r < 0)
			return r;
		rule->build_types |= 1u << t;
	}
	return 0;
}

static int parse_programs(const json_t *o, const char *path, struct rombsr_policy_rule *rule)
{
	char item_path[ROMBSR_JSON_PATH_MAX];
	int r = string_list(o, path, "programs", ROMBSR_POLICY_MAX_PROGRAMS, ROMBSR_NAME_MAX, &rule->programs,
			    &rule->nprograms);

	for (size_t i = 0; r == 0 && i < rule->nprograms; i++) {
		const char *s = rule->programs[i];

		rombsr_json_path_index(item_path, sizeof(item_path), path, "programs", i);
		if (s[0] != '/' && strchr(s, '/') != NULL)
			return rombsr_error(ROMBSR_EINVAL, "%s: '%s' is neither an absolute path nor a bare program name",
					    item_path, s);
	}
	return r;
}

static int parse_mechanisms(const json_t *o, const char *path, struct rombsr_policy_rule *rule)
{
	char item_path[ROMBSR_JSON_PATH_MAX];
	char **names = NULL;
	size_t n = 0;
	int r = string_list(o, path, "mechanisms", rombsr_cap_mechs_len, 64, &names, &n);

	if (r == 0) {
		rule->mechanisms = calloc(n, sizeof(*rule->mechanisms));
		if (rule->mechanisms == NULL)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		rombsr_json_path_index(item_path, sizeof(item_path), path, "mechanisms", i);
		rule->mechanisms[i] = rombsr_cap_mech_by_name(names[i]);
		if (rule->mechanisms[i] == NULL)
			r = rombsr_error(ROMBSR_EINVAL, "%s: '%s' is not a mechanism the capture module supports",
					 item_path, names[i]);
		else
			rule->nmechanisms++;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int parse_quota(const json_t *parent, const char *parent_path, struct rombsr_policy_quota *q)
{
	static const char *const fields[] = {"window_seconds", "max_operations", NULL};
	char path[ROMBSR_JSON_PATH_MAX];
	json_t *o;
	int64_t window, max;
	int r = rombsr_json_object(parent, parent_path, "quota", &o);

	snprintf(path, sizeof(path), "%s.quota", parent_path);
	if (r == 0)
		r = rombsr_json_only(o, path, fields);
	if (r == 0)
		r = rombsr_json_int(o, path, "window_seconds", 1, ROMBSR_QUOTA_MAX_WINDOW, &window);
	if (r == 0)
		r = rombsr_json_int(o, path, "max_operations", 1, ROMBSR_POLICY_MAX_QUOTA, &max);
	if (r == 0) {
		q->window_seconds = window;
		q->max_operations = (uint64_t)max;
	}
	return r;
}

static int parse_approvals(const json_t *parent, const char *parent_path, const struct rombsr_policy *p,
			   struct rombsr_policy_rule *rule)
{
	static const char *const fields[] = {"required", "group", NULL};
	char path[ROMBSR_JSON_PATH_MAX];
	const struct rombsr_policy_group *g;
	const char *name;
	json_t *o;
	int64_t required;
	int r = rombsr_json_object(parent, parent_path, "approvals", &o);

	snprintf(path, sizeof(path), "%s.approvals", parent_path);
	if (r == 0)
		r = rombsr_json_only(o, path, fields);
	if (r == 0)
		r = rombsr_json_int(o, path, "required", 1, ROMBSR_POLICY_MAX_MEMBERS, &required);
	if (r == 0)
		r = rombsr_json_string(o, path, "group", ROMBSR_POLICY_GROUP_MAX, &name);
	if (r < 0)
		return r;
	g = rombsr_policy_group_find(p, name);
	if (g == NULL)
		return rombsr_error(ROMBSR_EINVAL, "%s.group: no operator group '%s' in policy.operator_groups", path,
				    name);
	if ((size_t)required > g->nmembers)
		return rombsr_error(ROMBSR_EINVAL,
				    "%s.required: %lld approvals can never come from group '%s' of %zu members", path,
				    (long long)required, name, g->nmembers);
	rule->approvals_required = (unsigned)required;
	rule->approvals_group = (size_t)(g - p->groups);
	return 0;
}

static int parse_validity(const json_t *o, const char *path, struct rombsr_policy_rule *rule)
{
	int64_t t;
	int r = 0;

	if (json_object_get(o, "not_before") != NULL) {
		r = rombsr_json_int(o, path, "not_before", 0, ROMBSR_POLICY_MAX_TIME, &t);
		rule->not_before = (time_t)t;
		rule->has_not_before = r == 0;
	}
	if (r == 0 && json_object_get(o, "not_after") != NULL) {
		r = rombsr_json_int(o, path, "not_after", 0, ROMBSR_POLICY_MAX_TIME, &t);
		rule->not_after = (time_t)t;
		rule->has_not_after = r == 0;
	}
	if (r == 0 && rule->has_not_before && rule->has_not_after && rule->not_after < rule->not_before)
		r = rombsr_error(ROMBSR_EINVAL, "%s.not_after: before not_before, so the rule could never apply", path);
	return r;
}

static int parse_rule(const json_t *o, const char *path, const struct rombsr_policy *p,
		      struct rombsr_policy_rule *rule)
{
	static const char *const fields[] = {"disabled", "build_types", "build_nodes", "programs", "artifacts",
					     "mechanisms", "max_operations", "quota", "approvals", "not_before",
					     "not_after", "data", NULL};
	int64_t max_ops;
	int kind;
	int r;

	memset(rule, 0, sizeof(*rule));
	if (!json_is_object(o))
		return rombsr_error(ROMBSR_EINVAL, "%s: must be an object", path);
	r = rombsr_json_only(o, path, fields);
	if (r == 0 && json_object_get(o, "disabled") != NULL)
		r = rombsr_json_bool(o, path, "disabled", &rule->disabled);
	/* A disabled key signs nothing: other fields would only suggest it
	 * could. */
	if (r == 0 && rule->disabled && json_object_size(o) > 1)
		return rombsr_error(ROMBSR_EINVAL, "%s: a disabled rule takes no other field", path);
	if (r == 0 && json_object_get(o, "build_types") != NULL)
		r = parse_build_types(o, path, rule);
	if (r == 0 && json_object_get(o, "build_nodes") != NULL)
		r = fpr_list(o, path, "build_nodes", ROMBSR_POLICY_MAX_NODES, &rule->build_nodes, &rule->nbuild_nodes);
	if (r == 0 && json_object_get(o, "programs") != NULL)
		r = parse_programs(o, path, rule);
	if (r == 0 && json_object_get(o, "artifacts") != NULL)
		r = string_list(o, path, "artifacts", ROMBSR_POLICY_MAX_PATTERNS, ROMBSR_POLICY_PATTERN_MAX,
				&rule->artifacts, &rule->nartifacts);
	if (r == 0 && json_object_get(o, "mechanisms") != NULL)
		r = parse_mechanisms(o, path, rule);
	if (r == 0 && json_object_get(o, "max_operations") != NULL) {
		r = rombsr_json_int(o, path, "max_operations", 1, ROMBSR_REQUEST_MAX_OPERATIONS, &max_ops);
		rule->max_operations = r == 0 ? (uint32_t)max_ops : 0;
	}
	if (r == 0 && json_object_get(o, "quota") != NULL)
		r = parse_quota(o, path, &rule->quota);
	if (r == 0 && json_object_get(o, "approvals") != NULL)
		r = parse_approvals(o, path, p, rule);
	if (r == 0 && json_object_get(o, "data") != NULL) {
		r = rombsr_json_enum(o, path, "data", rombsr_cap_data_kinds, &kind);
		rule->data = r == 0 ? rombsr_cap_data_kinds[kind] : NULL;
	}
	if (r == 0)
		r = parse_validity(o, path, rule);
	return r;
}

static void rule_free(struct rombsr_policy_rule *rule)
{
	for (size_t i = 0; i < rule->nprograms; i++)
		free(rule->programs[i]);
	for (size_t i = 0; i < rule->nartifacts; i++)
		free(rule->artifacts[i]);
	/* A list that failed half-way holds its items up to the failure,
	 * counted; the rest are NULL. */
	free(rule->build_nodes);
	free(rule->programs);
	free(rule->artifacts);
	free(rule->mechanisms);
	memset(rule, 0, sizeof(*rule));
}

/* root[key]: an optional object of at most max entries (what names them),
 * and an array of as many elements of size bytes for what they hold.
 * *obj is NULL when the field is absent. */
static int entries_of(const json_t *root, const char *key, size_t max, const char *what, size_t size, json_t **obj,
		      void **array)
{
	int r;

	*obj = NULL;
	*array = NULL;
	if (json_object_get(root, key) == NULL)
		return 0;
	r = rombsr_json_object(root, "policy", key, obj);
	if (r < 0)
		return r;
	if (json_object_size(*obj) > max)
		return rombsr_error(ROMBSR_EINVAL, "policy.%s: %zu %s, more than the limit of %zu", key,
				    json_object_size(*obj), what, max);
	*array = calloc(json_object_size(*obj) + 1, size);
	if (*array == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	return 0;
}

static int parse_groups(const json_t *root, struct rombsr_policy *p)
{
	const char *name;
	json_t *groups, *members;
	void *array;
	int r = entries_of(root, "operator_groups", ROMBSR_POLICY_MAX_GROUPS, "groups", sizeof(*p->groups), &groups,
			   &array);

	p->groups = array;
	if (r < 0 || groups == NULL)
		return r;
	json_object_foreach(groups, name, members) {
		struct rombsr_policy_group *g = &p->groups[p->ngroups];

		(void)members;
		if (!group_name_ok(name))
			return rombsr_error(ROMBSR_EINVAL,
					    "policy.operator_groups: '%.64s' is not a group name (1 to %d of a-z, 0-9, "
					    "'.', '_', '-')",
					    name, ROMBSR_POLICY_GROUP_MAX);
		snprintf(g->name, sizeof(g->name), "%s", name);
		p->ngroups++;
		r = fpr_list(groups, "policy.operator_groups", name, ROMBSR_POLICY_MAX_MEMBERS, &g->members,
			     &g->nmembers);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_keys(const json_t *root, struct rombsr_policy *p)
{
	char path[ROMBSR_JSON_PATH_MAX];
	const char *label;
	json_t *keys, *rule;
	void *array;
	int r = entries_of(root, "keys", ROMBSR_POLICY_MAX_KEYS, "keys", sizeof(*p->keys), &keys, &array);

	p->keys = array;
	if (r < 0 || keys == NULL)
		return r;
	json_object_foreach(keys, label, rule) {
		struct rombsr_policy_key *k = &p->keys[p->nkeys];

		/* A misspelt label would leave the real key to the defaults,
		 * or to no-policy, without anyone noticing. */
		if (rombsr_keyset_find(label) == NULL)
			return rombsr_error(ROMBSR_EINVAL, "policy.keys: '%.64s' is not a key of the key set", label);
		snprintf(k->label, sizeof(k->label), "%s", label);
		snprintf(path, sizeof(path), "policy.keys.%s", label);
		p->nkeys++;
		r = parse_rule(rule, path, p, &k->rule);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_nodes(const json_t *root, struct rombsr_policy *p)
{
	static const char *const fields[] = {"quota", NULL};
	char path[ROMBSR_JSON_PATH_MAX];
	const char *fpr;
	json_t *nodes, *node;
	void *array;
	int r = entries_of(root, "build_nodes", ROMBSR_POLICY_MAX_NODES, "build nodes", sizeof(*p->nodes), &nodes,
			   &array);

	p->nodes = array;
	if (r < 0 || nodes == NULL)
		return r;
	json_object_foreach(nodes, fpr, node) {
		struct rombsr_policy_node *n = &p->nodes[p->nnodes];

		if (!rombsr_fpr_valid(fpr))
			return rombsr_error(ROMBSR_EINVAL,
					    "policy.build_nodes: '%.48s' is not an OpenPGP fingerprint (40 upper-case hex)",
					    fpr);
		snprintf(path, sizeof(path), "policy.build_nodes.%s", fpr);
		if (!json_is_object(node))
			return rombsr_error(ROMBSR_EINVAL, "%s: must be an object", path);
		r = rombsr_json_only(node, path, fields);
		if (r == 0)
			r = parse_quota(node, path, &n->quota);
		if (r < 0)
			return r;
		memcpy(n->fpr, fpr, sizeof(n->fpr));
		p->nnodes++;
	}
	return 0;
}

int rombsr_policy_parse(const char *text, size_t len, struct rombsr_policy *out)
{
	static const char *const fields[] = {"format", "version", "serial", "operator_groups", "defaults", "keys",
					     "build_nodes", NULL};
	const char *format;
	int64_t version;
	json_t *root = NULL, *defaults;
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_json_load(text, len, ROMBSR_POLICY_MAX_BYTES, "policy", &root);
	if (r == 0)
		r = rombsr_json_only(root, "policy", fields);
	if (r == 0)
		r = rombsr_json_string(root, "policy", "format", 64, &format);
	if (r == 0 && strcmp(format, ROMBSR_POLICY_FORMAT) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "policy.format: expected '%s'", ROMBSR_POLICY_FORMAT);
	if (r == 0)
		r = rombsr_json_int(root, "policy", "version", ROMBSR_POLICY_VERSION, ROMBSR_POLICY_VERSION, &version);
	if (r == 0)
		r = rombsr_json_int(root, "policy", "serial", 1, ROMBSR_POLICY_MAX_SERIAL, &out->serial);
	/* Groups first: rules name them. */
	if (r == 0)
		r = parse_groups(root, out);
	if (r == 0 && json_object_get(root, "defaults") != NULL) {
		r = rombsr_json_object(root, "policy", "defaults", &defaults);
		if (r == 0)
			r = parse_rule(defaults, "policy.defaults", out, &out->defaults);
		out->has_defaults = true;
	}
	if (r == 0)
		r = parse_keys(root, out);
	if (r == 0)
		r = parse_nodes(root, out);
	json_decref(root);
	if (r < 0)
		rombsr_policy_free(out);
	return r;
}

void rombsr_policy_free(struct rombsr_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->ngroups; i++)
		free(p->groups[i].members);
	for (size_t i = 0; i < p->nkeys; i++)
		rule_free(&p->keys[i].rule);
	rule_free(&p->defaults);
	free(p->groups);
	free(p->keys);
	free(p->nodes);
	memset(p, 0, sizeof(*p));
}

const struct rombsr_policy_rule *rombsr_policy_rule_for(const struct rombsr_policy *p, const char *label)
{
	for (size_t i = 0; i < p->nkeys; i++)
		if (strcmp(p->keys[i].label, label) == 0)
			return &p->keys[i].rule;
	return p->has_defaults ? &p->defaults : NULL;
}

const struct rombsr_policy_group *rombsr_policy_group_find(const struct rombsr_policy *p, const char *name)
{
	for (size_t i = 0; i < p->ngroups; i++)
		if (strcmp(p->groups[i].name, name) == 0)
			return &p->groups[i];
	return NULL;
}
