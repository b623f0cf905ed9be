/* Key custody on a YubiHSM 2 (docs/yubihsm.md, "Wrap"): the wrap key the
 * ceremony's shares make is put on the device as an AES-256-CCM wrap key,
 * and keys leave and come back with the device's own Export Wrapped and
 * Import Wrapped (nonce || AES-CCM ciphertext || tag: the key and its
 * object's capabilities, label and ID, which only a device holding the
 * same wrap key can open). Keys are made exportable under wrap and no
 * other way (yh_keys.c), so the wrap key is the one way out. */
#include "wrap.h"
#include "yh_backend.h"

#include "../common/error.h"
#include "../common/hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shares' secret ID is 16 bytes, the device's object ID two: the ID
 * goes in the label, "wrap:<32 hex digits>". */
#define WRAP_LABEL_PREFIX "wrap:"
/* Put commands name their object: the custody wrap key's place. */
#define WRAP_KEY_ID 0x0100
#define WRAP_KEY_CAPS (YH_CAP(YH_CAP_EXPORT_WRAPPED) | YH_CAP(YH_CAP_IMPORT_WRAPPED))
#define WRAPPED_KEY_CAPS                                                                                           \
	(YH_CAP(YH_CAP_SIGN_PKCS) | YH_CAP(YH_CAP_SIGN_PSS) | YH_CAP(YH_CAP_SIGN_ECDSA) |                          \
	 YH_CAP(YH_CAP_EXPORTABLE_UNDER_WRAP))

int rombsr_yh_hsm_wrap_key_find(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE *handle, unsigned char *id, size_t *id_len)
{
	struct rombsr_yh_object_info *all = NULL, found = {0};
	size_t n = 0, matches = 0;
	int r = rombsr_yh_hsm_list(hsm, YH_TYPE_WRAP_KEY, &all, &n);

	for (size_t i = 0; i < n; i++)
		if (strncmp(all[i].label, WRAP_LABEL_PREFIX, strlen(WRAP_LABEL_PREFIX)) == 0 && matches++ == 0)
			found = all[i];
	free(all);
	if (r < 0)
		return r;
	if (matches == 0)
		return rombsr_error(ROMBSR_ENOTFOUND, "%s holds no wrap key", hsm->token_label);
	if (matches > 1)
		return rombsr_error(ROMBSR_EINVAL, "%s holds more than one wrap key", hsm->token_label);
	if (found.capabilities != WRAP_KEY_CAPS || (found.delegated & ~WRAPPED_KEY_CAPS) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "the wrap key of %s has capabilities %016llx/%016llx, not a "
						      "custody wrap key's", hsm->token_label,
				    (unsigned long long)found.capabilities, (unsigned long long)found.delegated);
	*handle = ROMBSR_YH_HANDLE(YH_TYPE_WRAP_KEY, found.id);
	if (id != NULL) {
		r = rombsr_hex_decode(found.label + strlen(WRAP_LABEL_PREFIX), id, 16, "wrap key label");
		if (r < 0)
			return rombsr_error(ROMBSR_EINVAL, "the wrap key of %s is labelled '%s'", hsm->token_label,
					    found.label);
		*id_len = 16;
	}
	return 0;
}

struct put_ctx {
	const struct rombsr_yh_new_object *o;
	const unsigned char *key;
	size_t key_len;
};

static int put_wrap_on(struct rombsr_yh_session *s, void *ctx)
{
	struct put_ctx *p = ctx;

	return rombsr_yh_put_wrap_key(s, p->o, p->key, p->key_len);
}

/* The administrator puts it (so_pin); then the handle is the signing
 * key's again (user_pin), as on a PKCS#11 token. */
int rombsr_yh_hsm_wrap_key_import(struct rombsr_hsm *hsm, const char *so_pin, const char *user_pin,
				  const unsigned char *key, size_t key_len, const unsigned char *id, size_t id_len)
{
	char label[YH_LABEL_LEN + 1] = WRAP_LABEL_PREFIX;
	struct rombsr_yh_new_object o = {
		.id = WRAP_KEY_ID,
		.label = label,
		.domains = ROMBSR_YH_DOMAINS,
		.capabilities = WRAP_KEY_CAPS,
		.algorithm = YH_ALGO_AES256_CCM_WRAP,
		.delegated = WRAPPED_KEY_CAPS,
	};
	struct put_ctx p = {&o, key, key_len};
	int r;

	if (key_len != 32 || id_len != 16)
		return rombsr_error(ROMBSR_EINVAL, "a YubiHSM custody wrap key is AES-256 with a 16-byte ID");
	rombsr_hex_encode(id, id_len, label + strlen(WRAP_LABEL_PREFIX));
	r = rombsr_hsm_login(hsm, so_pin);
	if (r == 0)
		r = rombsr_yh_hsm_run(hsm, put_wrap_on, &p);
	if (r == 0)
		r = rombsr_hsm_login(hsm, user_pin);
	return r < 0 ? rombsr_error_wrap(r, "putting the wrap key on %s", hsm->token_label) : 0;
}

struct wrap_ctx {
	uint16_t wrap_id, id;
	uint8_t type;
	unsigned char *blob;
	size_t blob_len;
};

static int export_on(struct rombsr_yh_session *s, void *ctx)
{
	struct wrap_ctx *w = ctx;

	free(w->blob);
	w->blob = NULL;
	return rombsr_yh_export_wrapped(s, w->wrap_id, w->type, w->id, &w->blob, &w->blob_len);
}

static int import_on(struct rombsr_yh_session *s, void *ctx)
{
	struct wrap_ctx *w = ctx;

	return rombsr_yh_import_wrapped(s, w->wrap_id, w->blob, w->blob_len, &w->type, &w->id);
}

int rombsr_yh_hsm_wrap(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, unsigned char **blob,
		       size_t *blob_len)
{
	struct wrap_ctx w = {.type = YH_TYPE_ASYMMETRIC_KEY, .id = ROMBSR_YH_HANDLE_ID(key->private_key)};
	CK_OBJECT_HANDLE wrap_key;
	int r = rombsr_yh_hsm_wrap_key_find(hsm, &wrap_key, NULL, NULL);

	*blob = NULL;
	w.wrap_id = ROMBSR_YH_HANDLE_ID(wrap_key);
	if (r == 0)
		r = rombsr_yh_hsm_run(hsm, export_on, &w);
	if (r < 0) {
		free(w.blob);
		return rombsr_error_wrap(r, "wrapping '%s'", key->label);
	}
	*blob = w.blob;
	*blob_len = w.blob_len;
	return 0;
}

struct info_ctx {
	uint16_t id;
	uint8_t type;
	struct rombsr_yh_object_info info;
};

static int info_on(struct rombsr_yh_session *s, void *ctx)
{
	struct info_ctx *c = ctx;

	return rombsr_yh_object_info(s, c->id, c->type, &c->info);
}

/* Whether the thread's last import was refused for want of room. */
static _Thread_local bool unwrap_no_room;

bool rombsr_yh_hsm_unwrap_found_no_room(void)
{
	return unwrap_no_room;
}

/* A copy a signer imported earlier and left on the device (it stopped
 * before evicting it): the device refuses the import ("object exists")
 * and the copy is taken as loaded if it is what the blob would have made,
 * the key of the label, imported wrapped. Each signature is still checked
 * against the stored certificate (the signer's sigcheck). */
static int adopt_copy(struct rombsr_hsm *hsm, const struct rombsr_hsm_unwrap_spec *spec, CK_OBJECT_HANDLE *out)
{
	struct info_ctx info = {.type = YH_TYPE_ASYMMETRIC_KEY};
	int r;

	if (spec->id_len != 2)
		return rombsr_error(ROMBSR_EINVAL, "'%s' has a %zu-byte ID, not a YubiHSM's 2", spec->label, spec->id_len);
	info.id = (uint16_t)(spec->id[0] << 8 | spec->id[1]);
	r = rombsr_yh_hsm_run(hsm, info_on, &info);
	if (r == 0 && (strcmp(info.info.label, spec->label) != 0 || (info.info.origin & YH_ORIGIN_IMPORTED_WRAPPED) == 0))
		r = rombsr_error(ROMBSR_ESECURITY, "key ID 0x%04x on %s holds '%s' (origin 0x%02x), not an imported copy "
				 "of '%s'", info.id, hsm->token_label, info.info.label, info.info.origin, spec->label);
	if (r == 0)
		*out = ROMBSR_YH_HANDLE(YH_TYPE_ASYMMETRIC_KEY, info.id);
	return r;
}

/* What comes back is what went out: its label is checked against the one
 * expected, and a stranger is deleted again. */
int rombsr_yh_hsm_unwrap(struct rombsr_hsm *hsm, const struct rombsr_hsm_unwrap_spec *spec, const unsigned char *blob,
			 size_t blob_len, CK_OBJECT_HANDLE *out)
{
	struct wrap_ctx w = {.blob = (unsigned char *)blob, .blob_len = blob_len};
	struct info_ctx info;
	CK_OBJECT_HANDLE wrap_key, h;
	int r = rombsr_yh_hsm_wrap_key_find(hsm, &wrap_key, NULL, NULL);

	w.wrap_id = ROMBSR_YH_HANDLE_ID(wrap_key);
	unwrap_no_room = false;
	if (r == 0)
		r = rombsr_yh_hsm_run(hsm, import_on, &w);
	unwrap_no_room = r < 0 && rombsr_yh_last_device_error() == YH_ERR_STORAGE_FAILED;
	if (r < 0 && !spec->token_object && rombsr_yh_last_device_error() == YH_ERR_OBJECT_EXISTS) {
		rombsr_error_clear();
		return adopt_copy(hsm, spec, out);
	}
	if (r < 0)
		return rombsr_error_wrap(r, "importing '%s'", spec->label);
	h = ROMBSR_YH_HANDLE(w.type, w.id);
	info = (struct info_ctx){.id = w.id, .type = w.type};
	r = w.type == YH_TYPE_ASYMMETRIC_KEY ? rombsr_yh_hsm_run(hsm, info_on, &info) : ROMBSR_EINVAL;
	if (r == 0 && strcmp(info.info.label, spec->label) != 0)
		r = ROMBSR_EINVAL;
	if (r < 0) {
		rombsr_yh_hsm_destroy_object(hsm, h);
		return rombsr_error(ROMBSR_ESECURITY, "the wrapped blob for '%s' held another object (type %u, 0x%04x)",
				    spec->label, w.type, w.id);
	}
	*out = h;
	return 0;
}

int rombsr_yh_hsm_key_was_unwrapped(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, bool *unwrapped)
{
	struct info_ctx info = {.id = ROMBSR_YH_HANDLE_ID(key->private_key), .type = YH_TYPE_ASYMMETRIC_KEY};
	int r = rombsr_yh_hsm_run(hsm, info_on, &info);

	*unwrapped = r == 0 && (info.info.origin & YH_ORIGIN_IMPORTED_WRAPPED) != 0;
	return r;
}

static int count_on(struct rombsr_yh_session *s, void *ctx)
{
	size_t *counts = ctx;
	const struct rombsr_yh_filter keys = {.type = YH_TYPE_ASYMMETRIC_KEY};
	const struct rombsr_yh_filter certs = {.type = YH_TYPE_OPAQUE, .algorithm = YH_ALGO_OPAQUE_X509_CERTIFICATE};
	struct rombsr_yh_object *objects = NULL;
	int r = rombsr_yh_list_objects(s, &keys, &objects, &counts[0]);

	free(objects);
	objects = NULL;
	if (r == 0)
		r = rombsr_yh_list_objects(s, &certs, &objects, &counts[1]);
	free(objects);
	return r;
}

int rombsr_yh_hsm_count_keys(struct rombsr_hsm *hsm, size_t *keys, size_t *certificates)
{
	size_t counts[2] = {0, 0};
	int r = rombsr_yh_hsm_run(hsm, count_on, counts);

	*keys = counts[0];
	*certificates = counts[1];
	return r;
}

/* The device derives the public key from the private key it holds: equal
 * to the certificate's, the two pair (a PKCS#11 token proves it with a
 * signature, which a YubiHSM's backup key may not make). */
int rombsr_yh_hsm_key_proves(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY *pub)
{
	EVP_PKEY *held = NULL;
	int r = rombsr_yh_hsm_public_key(hsm, key, &held);

	if (r == 0 && EVP_PKEY_eq(held, pub) != 1)
		r = rombsr_error(ROMBSR_ESECURITY, "key '%s' on %s is not its certificate's key", key->label,
				 hsm->token_label);
	EVP_PKEY_free(held);
	return r;
}
