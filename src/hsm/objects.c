/* Finding keys and certificates, and reading their attributes. */
#include "hsm_internal.h"
#include "yh_backend.h"

#include "../common/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rombsr_hsm_get_attribute(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE object,
			     CK_ATTRIBUTE_TYPE type, unsigned char **value, size_t *len)
{
	CK_ATTRIBUTE attr = {type, NULL, 0};
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int r;

	*value = NULL;
	*len = 0;
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_get_attribute(hsm, object, type, value, len);
	r = rombsr_hsm_session_get(hsm, &s);
	if (r < 0)
		return r;
	rv = hsm->f->C_GetAttributeValue(s, object, &attr, 1);
	if (rv != CKR_OK) {
		r = rombsr_hsm_fail(ROMBSR_EHSM, "C_GetAttributeValue", hsm, rv);
		goto out;
	}
	attr.pValue = malloc(attr.ulValueLen ? attr.ulValueLen : 1);
	if (attr.pValue == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	rv = hsm->f->C_GetAttributeValue(s, object, &attr, 1);
	if (rv != CKR_OK) {
		free(attr.pValue);
		r = rombsr_hsm_fail(ROMBSR_EHSM, "C_GetAttributeValue", hsm, rv);
		goto out;
	}
	*value = attr.pValue;
	*len = attr.ulValueLen;
out:
	rombsr_hsm_session_put(hsm, s);
	return r;
}

int rombsr_hsm_find(struct rombsr_hsm *hsm, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *found, CK_ULONG max)
{
	CK_SESSION_HANDLE s;
	CK_ULONG count = 0;
	CK_RV rv;
	int r;

	r = rombsr_hsm_session_get(hsm, &s);
	if (r < 0)
		return r;
	rv = hsm->f->C_FindObjectsInit(s, tmpl, n);
	if (rv != CKR_OK) {
		r = rombsr_hsm_fail(ROMBSR_EHSM, "C_FindObjectsInit", hsm, rv);
		goto out;
	}
	rv = hsm->f->C_FindObjects(s, found, max, &count);
	/* Always finish the search: an open find operation blocks the session. */
	hsm->f->C_FindObjectsFinal(s);
	if (rv != CKR_OK) {
		r = rombsr_hsm_fail(ROMBSR_EHSM, "C_FindObjects", hsm, rv);
		goto out;
	}
	r = (int)count;
out:
	rombsr_hsm_session_put(hsm, s);
	return r;
}

/* Finds objects of one class whose attribute equals value. */
static int find_objects(struct rombsr_hsm *hsm, CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE type,
			const void *value, size_t len, CK_OBJECT_HANDLE *found, CK_ULONG max)
{
	CK_ATTRIBUTE tmpl[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{type, (void *)value, len},
	};

	return rombsr_hsm_find(hsm, tmpl, 2, found, max);
}

static int find_one_by_id(struct rombsr_hsm *hsm, CK_OBJECT_CLASS cls, const struct rombsr_hsm_key *key,
			  CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_HANDLE found[2];
	int n = find_objects(hsm, cls, CKA_ID, key->id, key->id_len, found, 2);

	*out = CK_INVALID_HANDLE;
	if (n < 0)
		return n;
	if (n > 1)
		return rombsr_error(ROMBSR_EINVAL, "token '%s' holds more than one %s with the ID of key '%s'",
				    hsm->token_label, cls == CKO_CERTIFICATE ? "certificate" : "public key",
				    key->label);
	if (n == 1)
		*out = found[0];
	return 0;
}

int rombsr_hsm_key_shape(struct rombsr_hsm *hsm, struct rombsr_hsm_key *key)
{
	unsigned char *v = NULL;
	size_t len;
	CK_KEY_TYPE type;
	int r;

	r = rombsr_hsm_get_attribute(hsm, key->private_key, CKA_KEY_TYPE, &v, &len);
	if (r < 0)
		return r;
	if (len != sizeof(type)) {
		free(v);
		return rombsr_error(ROMBSR_EHSM, "key '%s': malformed CKA_KEY_TYPE", key->label);
	}
	memcpy(&type, v, sizeof(type));
	free(v);
	if (type == CKK_RSA) {
		key->kind = ROMBSR_KEY_RSA;
		/* CKA_MODULUS_BITS lives on the public key; the private key always
		 * has the modulus itself. */
		r = rombsr_hsm_get_attribute(hsm, key->private_key, CKA_MODULUS, &v, &len);
		if (r < 0)
			return r;
		while (len > 0 && v[0] == 0) {
			memmove(v, v + 1, --len);
		}
		key->bits = (unsigned)len * 8;
		free(v);
		return 0;
	}
	if (type == CKK_EC) {
		r = rombsr_hsm_get_attribute(hsm, key->private_key, CKA_EC_PARAMS, &v, &len);
		if (r < 0)
			return r;
		r = rombsr_key_kind_from_ec_params(v, len, &key->kind);
		free(v);
		if (r < 0)
			return rombsr_error(ROMBSR_EUNSUPPORTED, "key '%s': EC curve other than P-256 and P-384",
					    key->label);
		key->bits = rombsr_key_kind_ec_bits(key->kind);
		return 0;
	}
	return rombsr_error(ROMBSR_EUNSUPPORTED, "key '%s': key type %lu is neither RSA nor EC", key->label,
			    (unsigned long)type);
}

int rombsr_hsm_find_key(struct rombsr_hsm *hsm, const char *label, struct rombsr_hsm_key *key)
{
	if (hsm->yh != NULL) {
		bool found = false;
		int r = rombsr_yh_hsm_find_keys(hsm, &label, 1, false, key, &found);

		if (r == 0 && !found)
			r = rombsr_error(ROMBSR_ENOTFOUND, "no key labelled '%s' in %s", label, hsm->token_label);
		return r;
	}
	CK_OBJECT_HANDLE found[2];
	unsigned char *id = NULL;
	size_t id_len;
	int n, r;

	memset(key, 0, sizeof(*key));
	if (strlen(label) == 0 || strlen(label) > ROMBSR_HSM_LABEL_MAX)
		return rombsr_error(ROMBSR_EINVAL, "key label must be 1 to %d characters", ROMBSR_HSM_LABEL_MAX);
	n = find_objects(hsm, CKO_PRIVATE_KEY, CKA_LABEL, label, strlen(label), found, 2);
	if (n < 0)
		return n;
	if (n == 0)
		return rombsr_error(ROMBSR_ENOTFOUND, "no key labelled '%s' in token '%s'", label,
				    hsm->token_label);
	if (n > 1)
		return rombsr_error(ROMBSR_EINVAL, "more than one key labelled '%s' in token '%s'", label,
				    hsm->token_label);
	key->private_key = found[0];
	strcpy(key->label, label);
	r = rombsr_hsm_get_attribute(hsm, key->private_key, CKA_ID, &id, &id_len);
	if (r < 0)
		return r;
	if (id_len == 0 || id_len > sizeof(key->id)) {
		free(id);
		return rombsr_error(ROMBSR_EINVAL, "key '%s' has no usable CKA_ID", label);
	}
	memcpy(key->id, id, id_len);
	key->id_len = id_len;
	free(id);
	r = rombsr_hsm_key_shape(hsm, key);
	if (r == 0)
		r = find_one_by_id(hsm, CKO_PUBLIC_KEY, key, &key->public_key);
	if (r == 0)
		r = find_one_by_id(hsm, CKO_CERTIFICATE, key, &key->certificate);
	return r;
}

/* Every object of a class in the token, in one search: the key set may
 * hold thousands of keys, and a search per key costs a pass over the whole
 * token in SoftHSM2 (its file store re-reads every object), so a search
 * per key made 500 keys take half a minute to list. */
static int find_all(struct rombsr_hsm *hsm, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE **out, size_t *count)
{
	const CK_ULONG max = ROMBSR_HSM_FIND_MAX;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}};
	CK_OBJECT_HANDLE *found = calloc(max, sizeof(*found));
	int n;

	*out = NULL;
	*count = 0;
	if (found == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	n = rombsr_hsm_find(hsm, tmpl, 1, found, max);
	if (n >= 0 && (CK_ULONG)n == max)
		n = rombsr_error(ROMBSR_EUNSUPPORTED, "token '%s' holds %lu or more objects of one class", hsm->token_label,
				 (unsigned long)max);
	if (n < 0) {
		free(found);
		return n;
	}
	*out = found;
	*count = (size_t)n;
	return 0;
}

/* The slot of a retired key (labels[j]@<hex>) is n + j; only asked for
 * by rombsr_hsm_find_keyset(). */
size_t rombsr_hsm_match_label(const char *const *labels, size_t n, bool retired, const unsigned char *v, size_t len,
			  char text[ROMBSR_HSM_LABEL_MAX + 1])
{
	char base[ROMBSR_KEYSET_LABEL_MAX + 1];

	for (size_t j = 0; j < n; j++)
		if (labels[j] != NULL && strlen(labels[j]) == len && memcmp(labels[j], v, len) == 0)
			return j;
	if (!retired || len > ROMBSR_HSM_LABEL_MAX)
		return SIZE_MAX;
	memcpy(text, v, len);
	text[len] = '\0';
	if (strlen(text) != len || !rombsr_keyset_retired_base(text, base))
		return SIZE_MAX;
	for (size_t j = 0; j < n; j++)
		if (labels[j] != NULL && strcmp(labels[j], base) == 0)
			return n + j;
	return SIZE_MAX;
}

/* The private key objects whose CKA_LABEL is one of labels (or, with
 * retired, a retired label of one). */
static int match_private(struct rombsr_hsm *hsm, const char *const *labels, size_t n, bool retired,
			 struct rombsr_hsm_key *keys, bool *found)
{
	CK_OBJECT_HANDLE *h = NULL;
	unsigned char *v = NULL;
	size_t count, len;
	int r = find_all(hsm, CKO_PRIVATE_KEY, &h, &count);

	for (size_t i = 0; i < count && r == 0; i++) {
		char text[ROMBSR_HSM_LABEL_MAX + 1] = "";
		size_t k = SIZE_MAX;

		r = rombsr_hsm_get_attribute(hsm, h[i], CKA_LABEL, &v, &len);
		if (r == 0)
			k = rombsr_hsm_match_label(labels, n, retired, v, len, text);
		free(v);
		v = NULL;
		if (r < 0 || k == SIZE_MAX)
			continue;
		if (found[k])
			r = rombsr_error(ROMBSR_EINVAL, "more than one key labelled '%s' in token '%s'",
					 k < n ? labels[k] : text, hsm->token_label);
		found[k] = true;
		keys[k].private_key = h[i];
		snprintf(keys[k].label, sizeof(keys[k].label), "%s", k < n ? labels[k] : text);
		if (r == 0)
			r = rombsr_hsm_get_attribute(hsm, h[i], CKA_ID, &v, &len);
		if (r == 0 && (len == 0 || len > sizeof(keys[k].id)))
			r = rombsr_error(ROMBSR_EINVAL, "key '%s' has no usable CKA_ID", keys[k].label);
		if (r == 0) {
			memcpy(keys[k].id, v, len);
			keys[k].id_len = len;
			r = rombsr_hsm_key_shape(hsm, &keys[k]);
		}
		free(v);
		v = NULL;
	}
	free(h);
	return r;
}

/* The public keys or certificates (cls) of the keys found, by CKA_ID. */
static int match_by_id(struct rombsr_hsm *hsm, CK_OBJECT_CLASS cls, size_t n, struct rombsr_hsm_key *keys,
		       const bool *found)
{
	CK_OBJECT_HANDLE *h = NULL;
	unsigned char *v = NULL;
	size_t count, len;
	int r = find_all(hsm, cls, &h, &count);

	for (size_t i = 0; i < count && r == 0; i++) {
		r = rombsr_hsm_get_attribute(hsm, h[i], CKA_ID, &v, &len);
		for (size_t k = 0; r == 0 && k < n; k++) {
			CK_OBJECT_HANDLE *slot = cls == CKO_CERTIFICATE ? &keys[k].certificate : &keys[k].public_key;

			if (!found[k] || keys[k].id_len != len || memcmp(keys[k].id, v, len) != 0)
				continue;
			if (*slot != CK_INVALID_HANDLE)
				r = rombsr_error(ROMBSR_EINVAL, "token '%s' holds more than one %s with the ID of key '%s'",
						 hsm->token_label, cls == CKO_CERTIFICATE ? "certificate" : "public key",
						 keys[k].label);
			*slot = h[i];
		}
		free(v);
		v = NULL;
	}
	free(h);
	return r;
}

static int find_keys(struct rombsr_hsm *hsm, const char *const *labels, size_t n, bool retired,
		     struct rombsr_hsm_key *keys, bool *found)
{
	size_t slots = retired ? 2 * n : n;
	int r;

	if (hsm->yh != NULL)
		return rombsr_yh_hsm_find_keys(hsm, labels, n, retired, keys, found);

	for (size_t k = 0; k < slots; k++) {
		memset(&keys[k], 0, sizeof(keys[k]));
		keys[k].public_key = CK_INVALID_HANDLE;
		keys[k].certificate = CK_INVALID_HANDLE;
		found[k] = false;
	}
	r = match_private(hsm, labels, n, retired, keys, found);
	if (r == 0)
		r = match_by_id(hsm, CKO_PUBLIC_KEY, slots, keys, found);
	if (r == 0)
		r = match_by_id(hsm, CKO_CERTIFICATE, slots, keys, found);
	return r;
}

int rombsr_hsm_find_keys(struct rombsr_hsm *hsm, const char *const *labels, size_t n, struct rombsr_hsm_key *keys,
			 bool *found)
{
	return find_keys(hsm, labels, n, false, keys, found);
}

int rombsr_hsm_find_keyset(struct rombsr_hsm *hsm, const struct rombsr_keyset *ks, enum rombsr_authority_id authority,
			   struct rombsr_hsm_key **keys, bool **found)
{
	const char **labels = calloc(ks->len + 1, sizeof(*labels));
	int r;

	*keys = calloc(2 * ks->len + 1, sizeof(**keys));
	*found = calloc(2 * ks->len + 1, sizeof(**found));
	if (labels == NULL || *keys == NULL || *found == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < ks->len; i++)
		labels[i] = ks->entries[i].authority == authority ? ks->entries[i].label : NULL;
	r = find_keys(hsm, labels, ks->len, true, *keys, *found);
out:
	free(labels);
	if (r < 0) {
		free(*keys);
		free(*found);
		*keys = NULL;
		*found = NULL;
	}
	return r;
}
