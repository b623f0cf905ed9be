/* Writing and reading the backup manifest (backup_manifest.h). */
#define _GNU_SOURCE
#include "backup_manifest.h"

#include "../common/bundle.h"
#include "../common/error.h"
#include "../common/hex.h"
#include "../common/json_strict.h"
#include "../common/keyset.h"
#include "../queue/gpg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rombsr_bundle_algorithm_name()'s names, in the order of enum
 * rombsr_key_kind. */
static const char *const algorithms[] = {"rsa", "ec-p256", "ec-p384", NULL};
static const enum rombsr_key_kind algorithm_kinds[] = {ROMBSR_KEY_RSA, ROMBSR_KEY_EC_P256, ROMBSR_KEY_EC_P384};

static json_t *key_json(const struct backup_key *k)
{
	char id[2 * BACKUP_ID_MAX + 1], w[65], c[65];

	rombsr_hex_encode(k->id, k->id_len, id);
	rombsr_hex_encode(k->wrapped_sha256, 32, w);
	rombsr_hex_encode(k->certificate_sha256, 32, c);
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "label", k->label, "id", id, "algorithm",
			 rombsr_bundle_algorithm_name(k->kind), "bits", (json_int_t)k->bits, "wrapped",
			 k->wrapped, "wrapped_sha256", w, "certificate", k->certificate, "certificate_sha256", c);
}

int backup_manifest_write(const struct backup_manifest *m, char **out, size_t *len)
{
	char wrap_id[2 * BACKUP_ID_MAX + 1];
	json_t *root, *keys;
	int r = 0;

	*out = NULL;
	rombsr_hex_encode(m->wrap_key_id, m->wrap_key_id_len, wrap_id);
	keys = json_array();
	for (size_t i = 0; i < m->nkeys && keys != NULL; i++)
		if (json_array_append_new(keys, key_json(&m->keys[i])) != 0)
			r = -1;
	root = keys == NULL || r < 0 ? NULL
				     : json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:o}", "format", BACKUP_FORMAT,
						 "version", (json_int_t)BACKUP_VERSION, "created", m->created, "admin",
						 m->admin, "token", m->token, "wrap_key_id", wrap_id, "mechanism",
						 m->mechanism, "keys", keys);
	if (root == NULL) {
		if (r < 0)
			json_decref(keys);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	*out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (*out == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	*len = strlen(*out);
	return 0;
}

/* keys/<file>.wrapped or certs/<file>.der exactly, <file> the label's
 * file name (rombsr_keyset_label_file()): a manifest names no other file. */
static int expected_name(const char *path, const char *field, const char *have, const char *dir,
			 const char *label, const char *ext, char *out, size_t size)
{
	char file[ROMBSR_KEYSET_LABEL_MAX + 1];

	rombsr_keyset_label_file(label, file);
	if ((size_t)snprintf(out, size, "%s/%s.%s", dir, file, ext) >= size || strcmp(out, have) != 0)
		return rombsr_error(ROMBSR_EINVAL, "%s.%s: must be %s/<label, '/' as '+'>.%s", path, field, dir, ext);
	return 0;
}

static int parse_key(const json_t *o, const char *path, struct backup_key *k)
{
	static const char *const allowed[] = {"label", "id", "algorithm", "bits", "wrapped", "wrapped_sha256",
					      "certificate", "certificate_sha256", NULL};
	const char *label, *wrapped, *cert;
	int64_t bits;
	int alg, r;

	r = rombsr_json_only(o, path, allowed);
	if (r == 0)
		r = rombsr_json_string(o, path, "label", BACKUP_LABEL_MAX, &label);
	if (r == 0 && !rombsr_keyset_label_ok(label))
		r = rombsr_error(ROMBSR_EINVAL, "%s.label: '%.64s' is not a key label (docs/formats/keyset.md)", path,
				 label);
	if (r == 0)
		r = rombsr_json_hex_var(o, path, "id", k->id, sizeof(k->id), &k->id_len);
	if (r == 0)
		r = rombsr_json_enum(o, path, "algorithm", algorithms, &alg);
	if (r == 0)
		r = rombsr_json_int(o, path, "bits", 256, 8192, &bits);
	if (r == 0)
		r = rombsr_json_string(o, path, "wrapped", sizeof(k->wrapped) - 1, &wrapped);
	if (r == 0)
		r = rombsr_json_string(o, path, "certificate", sizeof(k->certificate) - 1, &cert);
	if (r == 0)
		r = rombsr_json_hex(o, path, "wrapped_sha256", k->wrapped_sha256, 32);
	if (r == 0)
		r = rombsr_json_hex(o, path, "certificate_sha256", k->certificate_sha256, 32);
	if (r < 0)
		return r;
	strcpy(k->label, label);
	k->kind = algorithm_kinds[alg];
	k->bits = (unsigned)bits;
	/* An EC key's bits are its curve's. */
	if (k->kind != ROMBSR_KEY_RSA && k->bits != rombsr_key_kind_ec_bits(k->kind))
		return rombsr_error(ROMBSR_EINVAL, "%s.bits: %s is %u bits, not %u", path, algorithms[alg],
				    rombsr_key_kind_ec_bits(k->kind), k->bits);
	r = expected_name(path, "wrapped", wrapped, "keys", label, "wrapped", k->wrapped, sizeof(k->wrapped));
	if (r == 0)
		r = expected_name(path, "certificate", cert, "certs", label, "der", k->certificate,
				  sizeof(k->certificate));
	return r;
}

static int parse_keys(const json_t *root, const char *path, struct backup_manifest *m)
{
	char where[ROMBSR_JSON_PATH_MAX];
	json_t *keys;
	int r = rombsr_json_array(root, path, "keys", BACKUP_MAX_KEYS, &keys);

	if (r < 0)
		return r;
	if (json_array_size(keys) == 0)
		return rombsr_error(ROMBSR_EINVAL, "%s.keys: empty", path);
	for (size_t i = 0; i < json_array_size(keys) && r == 0; i++) {
		json_t *o = json_array_get(keys, i);

		rombsr_json_path_index(where, sizeof(where), path, "keys", i);
		r = json_is_object(o) ? parse_key(o, where, &m->keys[i])
				      : rombsr_error(ROMBSR_EINVAL, "%s: not an object", where);
		for (size_t j = 0; j < i && r == 0; j++)
			if (strcmp(m->keys[j].label, m->keys[i].label) == 0)
				r = rombsr_error(ROMBSR_EINVAL, "%s: key '%s' twice", where, m->keys[i].label);
		m->nkeys = i + 1;
	}
	return r;
}

int backup_manifest_parse(const char *text, size_t len, const char *path, struct backup_manifest *m)
{
	static const char *const allowed[] = {"format", "version", "created", "admin", "token", "wrap_key_id",
					      "mechanism", "keys", NULL};
	static const char *const mechanisms[] = {"CKM_AES_KEY_WRAP_PAD", "YUBIHSM_AES_CCM_WRAP", NULL};
	const char *token, *admin;
	json_t *root = NULL;
	time_t created;
	int mech, r;

	memset(m, 0, sizeof(*m));
	r = rombsr_json_load_document(text, len, path, BACKUP_FORMAT, BACKUP_VERSION, &root);
	if (r < 0)
		return r;
	r = rombsr_json_only(root, path, allowed);
	if (r == 0)
		r = rombsr_json_time(root, path, "created", &created);
	if (r == 0)
		r = rombsr_json_string(root, path, "admin", 40, &admin);
	if (r == 0 && !rombsr_fpr_valid(admin))
		r = rombsr_error(ROMBSR_EINVAL, "%s.admin: not a fingerprint (40 upper-case hex)", path);
	if (r == 0)
		r = rombsr_json_string(root, path, "token", 32, &token);
	if (r == 0)
		r = rombsr_json_hex_var(root, path, "wrap_key_id", m->wrap_key_id, sizeof(m->wrap_key_id),
					&m->wrap_key_id_len);
	if (r == 0)
		r = rombsr_json_enum(root, path, "mechanism", mechanisms, &mech);
	if (r == 0) {
		strcpy(m->admin, admin);
		strcpy(m->token, token);
		strcpy(m->mechanism, mechanisms[mech]);
		rombsr_time_format(created, m->created);
		r = parse_keys(root, path, m);
	}
	json_decref(root);
	return r;
}
