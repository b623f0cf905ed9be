/* POST /v1/sign's body (server_input.h). */
#include "server_input.h"

#include "../common/error.h"
#include "../common/json_strict.h"

#include <string.h>

#define WHAT "body"

static int copy(const json_t *o, const char *path, const char *key, bool required, char *out, size_t size)
{
	const char *v = NULL;
	int r = required ? rombsr_json_string(o, path, key, size - 1, &v)
			 : rombsr_json_string_opt(o, path, key, size - 1, &v);

	if (r == 0 && v != NULL)
		snprintf(out, size, "%s", v);
	return r;
}

/* The build the digest comes from; what a queued request's "build" says,
 * without the build node, which is the client's. */
static int parse_build(const json_t *root, struct rombsr_server_sign_input *in)
{
	static const char *const allowed[] = {"product", "build_id", "build_type", "source_commit", NULL};
	const char *path = WHAT ".build";
	json_t *b = json_object_get(root, "build");
	int r;

	if (b == NULL)
		return 0;
	r = json_is_object(b) ? rombsr_json_only(b, path, allowed)
			      : rombsr_error(ROMBSR_EINVAL, "%s: expected an object", path);
	if (r == 0)
		r = copy(b, path, "product", false, in->product, sizeof(in->product));
	if (r == 0)
		r = copy(b, path, "build_id", false, in->build_id, sizeof(in->build_id));
	if (r == 0)
		r = copy(b, path, "build_type", false, in->build_type, sizeof(in->build_type));
	if (r == 0)
		r = copy(b, path, "source_commit", false, in->source_commit, sizeof(in->source_commit));
	return r;
}

static int parse_artifact(const json_t *root, struct rombsr_server_sign_input *in)
{
	static const char *const allowed[] = {"name", "sha256", "size", NULL};
	const char *path = WHAT ".artifact";
	json_t *a = json_object_get(root, "artifact");
	int64_t size = 0;
	int r;

	if (a == NULL)
		return 0;
	r = json_is_object(a) ? rombsr_json_only(a, path, allowed)
			      : rombsr_error(ROMBSR_EINVAL, "%s: expected an object", path);
	if (r == 0)
		r = copy(a, path, "name", true, in->artifact_name, sizeof(in->artifact_name));
	if (r == 0)
		r = rombsr_safe_name(in->artifact_name, path);
	if (r == 0)
		r = rombsr_json_hex(a, path, "sha256", in->artifact_sha256, 32);
	if (r == 0)
		r = rombsr_json_int(a, path, "size", 0, INT64_MAX, &size);
	in->artifact_size = (uint64_t)size;
	in->have_artifact = r == 0;
	return r;
}

int rombsr_server_sign_input_parse(const char *text, size_t len, struct rombsr_server_sign_input *out)
{
	static const char *const allowed[] = {"key", "mechanism", "digest", "build", "artifact", NULL};
	json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_json_load(text, len, len + 1, WHAT, &root);
	if (r == 0)
		r = rombsr_json_only(root, WHAT, allowed);
	if (r == 0)
		r = copy(root, WHAT, "key", true, out->key, sizeof(out->key));
	if (r == 0)
		r = copy(root, WHAT, "mechanism", true, out->mechanism, sizeof(out->mechanism));
	if (r == 0)
		r = rombsr_json_hex_var(root, WHAT, "digest", out->digest, sizeof(out->digest), &out->digest_len);
	if (r == 0)
		r = parse_build(root, out);
	if (r == 0)
		r = parse_artifact(root, out);
	json_decref(root);
	return r;
}
