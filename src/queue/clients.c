/* The signing server's clients list (clients.h). */
#include "clients.h"
#include "gpg.h"

#include "../common/error.h"
#include "../common/json_strict.h"

#include <stdlib.h>
#include <string.h>

static bool name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

static bool lower_hex64(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

static int parse_client(const json_t *item, const char *path, struct rombsr_client *c)
{
	static const char *const allowed[] = {"name", "certificate_sha256", "build_node", NULL};
	const char *name, *cert, *node;
	int r = json_is_object(item) ? rombsr_json_only(item, path, allowed)
				     : rombsr_error(ROMBSR_EINVAL, "%s: expected an object", path);

	if (r == 0)
		r = rombsr_json_string(item, path, "name", ROMBSR_CLIENT_NAME_MAX, &name);
	if (r == 0 && !name_ok(name))
		r = rombsr_error(ROMBSR_EINVAL, "%s.name: only letters, digits, '.', '_' and '-'", path);
	if (r == 0)
		r = rombsr_json_string(item, path, "certificate_sha256", 64, &cert);
	if (r == 0 && !lower_hex64(cert))
		r = rombsr_error(ROMBSR_EINVAL, "%s.certificate_sha256: expected 64 lower-case hex digits (the SHA-256 "
						"of the certificate's DER)", path);
	if (r == 0)
		r = rombsr_json_string(item, path, "build_node", 40, &node);
	if (r == 0 && !rombsr_fpr_valid(node))
		r = rombsr_error(ROMBSR_EINVAL, "%s.build_node: expected an OpenPGP fingerprint (40 upper-case hex digits)",
				 path);
	if (r == 0) {
		snprintf(c->name, sizeof(c->name), "%s", name);
		memcpy(c->certificate_sha256, cert, 65);
		memcpy(c->build_node, node, 41);
	}
	return r;
}

int rombsr_clients_parse(const char *text, size_t len, struct rombsr_clients *out)
{
	static const char *const allowed[] = {"format", "version", "clients", NULL};
	const char *path = ROMBSR_CLIENTS_PATH;
	json_t *doc = NULL, *list = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = len > ROMBSR_CLIENTS_MAX_BYTES
		    ? rombsr_error(ROMBSR_EINVAL, "%s: larger than %u bytes", path, ROMBSR_CLIENTS_MAX_BYTES)
		    : rombsr_json_load_document(text, len, path, ROMBSR_CLIENTS_FORMAT, ROMBSR_CLIENTS_VERSION, &doc);
	if (r == 0)
		r = rombsr_json_only(doc, path, allowed);
	if (r == 0)
		r = rombsr_json_array(doc, path, "clients", ROMBSR_CLIENTS_MAX, &list);
	if (r == 0 && json_array_size(list) > 0 &&
	    (out->list = calloc(json_array_size(list), sizeof(*out->list))) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < json_array_size(list); i++) {
		char at[ROMBSR_JSON_PATH_MAX];

		rombsr_json_path_index(at, sizeof(at), path, "clients", i);
		r = parse_client(json_array_get(list, i), at, &out->list[i]);
		/* One certificate, one identity; one name, one client: a list
		 * that says otherwise is an admin's mistake to be fixed, not
		 * guessed at. */
		for (size_t j = 0; r == 0 && j < i; j++) {
			if (strcmp(out->list[j].certificate_sha256, out->list[i].certificate_sha256) == 0)
				r = rombsr_error(ROMBSR_EINVAL, "%s.certificate_sha256: listed twice", at);
			else if (strcmp(out->list[j].name, out->list[i].name) == 0)
				r = rombsr_error(ROMBSR_EINVAL, "%s.name: '%s' listed twice", at, out->list[i].name);
		}
		if (r == 0)
			out->n = i + 1;
	}
	json_decref(doc);
	if (r < 0)
		rombsr_clients_free(out);
	return r;
}

int rombsr_clients_at(struct rombsr_repo *repo, const git_oid *commit, struct rombsr_clients *out)
{
	struct rombsr_buf text;
	int r = rombsr_repo_read(repo, commit, ROMBSR_CLIENTS_PATH, ROMBSR_CLIENTS_MAX_BYTES, &text);

	memset(out, 0, sizeof(*out));
	if (r == ROMBSR_ENOTFOUND) {
		rombsr_error_clear();
		return 0;
	}
	if (r == 0) {
		r = rombsr_clients_parse((const char *)text.data, text.len, out);
		rombsr_buf_free(&text);
	}
	return r;
}

const struct rombsr_client *rombsr_clients_find(const struct rombsr_clients *c, const char *sha256_hex)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->list[i].certificate_sha256, sha256_hex) == 0)
			return &c->list[i];
	return NULL;
}

void rombsr_clients_free(struct rombsr_clients *c)
{
	free(c->list);
	memset(c, 0, sizeof(*c));
}
