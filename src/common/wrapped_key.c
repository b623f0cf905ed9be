/* The wrapped-key file (wrapped_key.h, docs/formats/wrapped-key.md). */
#define _GNU_SOURCE
#include "wrapped_key.h"

#include "base64.h"
#include "buf.h"
#include "error.h"
#include "fsutil.h"
#include "hex.h"
#include "json_strict.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const fields[] = {"format",  "version", "label",       "authority", "id",
				     "wrap_key_id", "mechanism", "wrapped", "certificate", NULL};
/* A PKCS#11 token's RFC 5649, a YubiHSM's own Export Wrapped. */
static const char *const mechanisms[] = {"CKM_AES_KEY_WRAP_PAD", "YUBIHSM_AES_CCM_WRAP", NULL};

static int base64_field(const json_t *root, const char *what, const char *key, size_t max, unsigned char **out,
			size_t *out_len)
{
	const char *text;
	int r = rombsr_json_string(root, what, key, (max / 3 + 1) * 4, &text);

	if (r < 0)
		return r;
	*out = malloc(max);
	if (*out == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = rombsr_base64_decode(text, strlen(text), *out, max, out_len, key);
	if (r == 0 && *out_len == 0)
		r = rombsr_error(ROMBSR_EINVAL, "%s.%s is empty", what, key);
	return r < 0 ? rombsr_error_wrap(r, "%s", what) : 0;
}

int rombsr_wrapped_key_parse(const char *text, size_t len, const char *what, struct rombsr_wrapped_key *out)
{
	const char *label, *authority;
	json_t *root = NULL;
	int mechanism, r;

	memset(out, 0, sizeof(*out));
	r = rombsr_json_load_document(text, len, what, ROMBSR_WRAPPED_KEY_FORMAT, ROMBSR_WRAPPED_KEY_VERSION, &root);
	if (r == 0)
		r = rombsr_json_only(root, what, fields);
	if (r == 0)
		r = rombsr_json_string(root, what, "label", ROMBSR_KEYSET_LABEL_MAX, &label);
	if (r == 0 && !rombsr_keyset_label_ok(label))
		r = rombsr_error(ROMBSR_EINVAL, "%s.label: '%s' is not a key-set label", what, label);
	if (r == 0) {
		snprintf(out->label, sizeof(out->label), "%s", label);
		r = rombsr_json_string(root, what, "authority", 32, &authority);
	}
	if (r == 0 && rombsr_authority_from_name(authority, &out->authority) < 0)
		r = rombsr_error(ROMBSR_EINVAL, "%s.authority: unknown authority '%s'", what, authority);
	if (r == 0)
		r = rombsr_json_hex_var(root, what, "id", out->id, sizeof(out->id), &out->id_len);
	if (r == 0)
		r = rombsr_json_hex_var(root, what, "wrap_key_id", out->wrap_key_id, sizeof(out->wrap_key_id),
					&out->wrap_key_id_len);
	if (r == 0)
		r = rombsr_json_enum(root, what, "mechanism", mechanisms, &mechanism);
	if (r == 0)
		snprintf(out->mechanism, sizeof(out->mechanism), "%s", mechanisms[mechanism]);
	if (r == 0)
		r = base64_field(root, what, "wrapped", ROMBSR_WRAPPED_KEY_BLOB_MAX, &out->wrapped, &out->wrapped_len);
	if (r == 0)
		r = base64_field(root, what, "certificate", ROMBSR_WRAPPED_KEY_CERT_MAX, &out->certificate,
				 &out->certificate_len);
	json_decref(root);
	if (r < 0)
		rombsr_wrapped_key_free(out);
	return r;
}

int rombsr_wrapped_key_format(const struct rombsr_wrapped_key *k, char **text, size_t *len)
{
	char id[2 * ROMBSR_WRAPPED_KEY_ID_MAX + 1], wrap_id[2 * ROMBSR_WRAPPED_KEY_ID_MAX + 1];
	struct rombsr_buf wrapped, cert;
	json_t *root = NULL;
	bool known = false;
	int r;

	*text = NULL;
	for (size_t i = 0; mechanisms[i] != NULL; i++)
		known = known || strcmp(k->mechanism, mechanisms[i]) == 0;
	if (!known)
		return rombsr_error(ROMBSR_EINVAL, "wrapped key '%s': unknown wrap mechanism '%s'", k->label, k->mechanism);
	rombsr_hex_encode(k->id, k->id_len, id);
	rombsr_hex_encode(k->wrap_key_id, k->wrap_key_id_len, wrap_id);
	rombsr_buf_init(&wrapped, ROMBSR_WRAPPED_KEY_FILE_MAX);
	rombsr_buf_init(&cert, ROMBSR_WRAPPED_KEY_FILE_MAX);
	rombsr_base64_encode(&wrapped, k->wrapped, k->wrapped_len);
	rombsr_base64_encode(&cert, k->certificate, k->certificate_len);
	r = rombsr_buf_check(&wrapped, "wrapped key");
	if (r == 0)
		r = rombsr_buf_check(&cert, "certificate");
	if (r == 0)
		root = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "format", ROMBSR_WRAPPED_KEY_FORMAT,
				 "version", (json_int_t)ROMBSR_WRAPPED_KEY_VERSION, "label", k->label, "authority",
				 rombsr_authority_name(k->authority), "id", id, "wrap_key_id", wrap_id, "mechanism",
				 k->mechanism, "wrapped", rombsr_buf_cstr(&wrapped), "certificate",
				 rombsr_buf_cstr(&cert));
	if (r == 0 && (root == NULL || (*text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL))
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0)
		*len = strlen(*text);
	json_decref(root);
	rombsr_buf_free(&wrapped);
	rombsr_buf_free(&cert);
	return r;
}

int rombsr_wrapped_key_path(const char *dir, const char *label, char *out, size_t size)
{
	char file[ROMBSR_KEYSET_LABEL_MAX + 1];

	rombsr_keyset_label_file(label, file);
	return rombsr_path_format(out, size, "%s/%s.json", dir, file);
}

int rombsr_wrapped_key_read(const char *dir, const char *label, enum rombsr_authority_id authority,
			    struct rombsr_wrapped_key *out)
{
	struct rombsr_buf text;
	char path[4096];
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_wrapped_key_path(dir, label, path, sizeof(path));
	if (r == 0 && !rombsr_path_exists(path))
		return ROMBSR_ENOTFOUND;
	if (r == 0)
		r = rombsr_file_read(path, ROMBSR_WRAPPED_KEY_FILE_MAX, &text);
	if (r < 0)
		return r;
	r = rombsr_wrapped_key_parse((const char *)text.data, text.len, path, out);
	rombsr_buf_free(&text);
	if (r == 0 && (strcmp(out->label, label) != 0 || out->authority != authority)) {
		r = rombsr_error(ROMBSR_ESECURITY, "%s holds key '%s' of the %s authority, not '%s' of the %s authority",
				 path, out->label, rombsr_authority_name(out->authority), label,
				 rombsr_authority_name(authority));
		rombsr_wrapped_key_free(out);
	}
	return r;
}

static int give(const char *path, uid_t uid, gid_t gid)
{
	if (uid == (uid_t)-1 || geteuid() != 0 || chown(path, uid, gid) == 0)
		return 0;
	return rombsr_error(ROMBSR_EIO, "cannot give %s to uid %u: %s", path, (unsigned)uid, strerror(errno));
}

int rombsr_wrapped_key_write(const char *dir, const struct rombsr_wrapped_key *k, uid_t uid, gid_t gid)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	int r = rombsr_wrapped_key_path(dir, k->label, path, sizeof(path));

	char parent[4096];
	const char *slash = strrchr(dir, '/');

	if (r == 0)
		r = rombsr_mkdir_p(dir, 0700);
	/* The stores' folder (<state>/wrapped) too: made 0700 by root, it
	 * would keep the signer out of its own store. */
	if (r == 0 && slash != NULL && slash != dir &&
	    (size_t)snprintf(parent, sizeof(parent), "%.*s", (int)(slash - dir), dir) < sizeof(parent))
		r = give(parent, uid, gid);
	if (r == 0)
		r = give(dir, uid, gid);
	if (r == 0)
		r = rombsr_wrapped_key_format(k, &text, &len);
	if (r == 0)
		r = rombsr_file_write_atomic(path, text, len, 0600, false);
	/* Given after the rename: a crash in between leaves a root-owned
	 * file that the next keygen gives again (it rewrites every file). */
	if (r == 0)
		r = give(path, uid, gid);
	free(text);
	return r;
}

int rombsr_wrapped_key_remove(const char *dir, const char *label)
{
	char path[4096];
	int r = rombsr_wrapped_key_path(dir, label, path, sizeof(path));

	if (r < 0)
		return r;
	if (unlink(path) != 0)
		return errno == ENOENT ? 0 : rombsr_error(ROMBSR_EIO, "cannot remove %s: %s", path, strerror(errno));
	return rombsr_fsync_dir(dir);
}

void rombsr_wrapped_key_free(struct rombsr_wrapped_key *k)
{
	if (k == NULL)
		return;
	free(k->wrapped);
	free(k->certificate);
	k->wrapped = NULL;
	k->certificate = NULL;
}
