/* The trusted wrap key and wrapping signing keys under it (wrap.h).
 *
 * SoftHSM2 2.6.1, found by experiment (docs/custody.md, "The wrap key in
 * SoftHSM2"): CKA_TRUSTED can be set only in a security officer's session
 * (a user's C_CreateObject with it answers CKR_ATTRIBUTE_READ_ONLY); an SO
 * session cannot create a private object (CKR_USER_NOT_LOGGED_IN); and a
 * public token object is stored unencrypted in the token folder. So the SO
 * makes the key a public session object (memory only), and the user copies
 * it into a private, unmodifiable token object: C_CopyObject keeps
 * CKA_TRUSTED, and the file SoftHSM2 writes is encrypted. */
#include "wrap.h"

#include "hsm_internal.h"
#include "yh_backend.h"

#include "../common/error.h"

#include <stdlib.h>
#include <string.h>

#define ATTR(list, n, t, v, l) (list[n++] = (CK_ATTRIBUTE){(t), (void *)(v), (l)})

const char *rombsr_hsm_wrap_mechanism(const struct rombsr_hsm *hsm)
{
	return hsm->yh != NULL ? ROMBSR_HSM_WRAP_YUBIHSM_NAME : ROMBSR_HSM_WRAP_MECHANISM_NAME;
}

int rombsr_hsm_wrap_key_find(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE *handle, unsigned char *id,
			     size_t *id_len)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_wrap_key_find(hsm, handle, id, id_len);
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_BBOOL token = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_TOKEN, &token, sizeof(token)},
		{CKA_LABEL, (void *)ROMBSR_HSM_WRAP_LABEL, strlen(ROMBSR_HSM_WRAP_LABEL)},
	};
	CK_OBJECT_HANDLE found[2];
	CK_BBOOL trusted = CK_FALSE;
	CK_ATTRIBUTE attrs[] = {{CKA_TRUSTED, &trusted, sizeof(trusted)}, {CKA_ID, id, ROMBSR_HSM_ID_MAX}};
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int n, r;

	n = rombsr_hsm_find(hsm, tmpl, 3, found, 2);
	if (n < 0)
		return n;
	if (n == 0)
		return rombsr_error(ROMBSR_ENOTFOUND, "token '%s' holds no wrap key", hsm->token_label);
	if (n > 1)
		return rombsr_error(ROMBSR_EINVAL, "token '%s' holds more than one wrap key", hsm->token_label);
	r = rombsr_hsm_session_get(hsm, &s);
	if (r < 0)
		return r;
	rv = hsm->f->C_GetAttributeValue(s, found[0], attrs, id != NULL ? 2 : 1);
	rombsr_hsm_session_put(hsm, s);
	if (rv != CKR_OK)
		return rombsr_hsm_fail(ROMBSR_EHSM, "C_GetAttributeValue (wrap key)", hsm, rv);
	/* A look-alike made by a user is not trusted: the token would refuse to
	 * wrap with it anyway, but say why here. */
	if (trusted != CK_TRUE)
		return rombsr_error(ROMBSR_ESECURITY, "the wrap key of token '%s' is not CKA_TRUSTED", hsm->token_label);
	*handle = found[0];
	if (id != NULL)
		*id_len = attrs[1].ulValueLen;
	return 0;
}

/* The SO's part: the key as a public *session* object, which SoftHSM2 keeps
 * in memory only (a public token object it would store unencrypted). The
 * SO logs out again; a public session object outlives the logout. */
static int create_staged(struct rombsr_hsm *hsm, const char *so_pin, const unsigned char *key, size_t key_len,
			 const unsigned char *id, size_t id_len, CK_OBJECT_HANDLE *staged)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE type = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	/* What every key unwrapped under it must be: a private, sensitive key
	 * that only this trusted key can carry out again. */
	CK_ATTRIBUTE unwrap_tmpl[] = {
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes)},
	};
	CK_ATTRIBUTE t[20];
	CK_ULONG n = 0;
	CK_RV rv;
	int r;

	ATTR(t, n, CKA_CLASS, &cls, sizeof(cls));
	ATTR(t, n, CKA_KEY_TYPE, &type, sizeof(type));
	ATTR(t, n, CKA_TOKEN, &no, sizeof(no));
	ATTR(t, n, CKA_PRIVATE, &no, sizeof(no));
	ATTR(t, n, CKA_TRUSTED, &yes, sizeof(yes));
	ATTR(t, n, CKA_SENSITIVE, &yes, sizeof(yes));
	ATTR(t, n, CKA_EXTRACTABLE, &no, sizeof(no));
	ATTR(t, n, CKA_WRAP, &yes, sizeof(yes));
	ATTR(t, n, CKA_UNWRAP, &yes, sizeof(yes));
	ATTR(t, n, CKA_ENCRYPT, &no, sizeof(no));
	ATTR(t, n, CKA_DECRYPT, &no, sizeof(no));
	ATTR(t, n, CKA_SIGN, &no, sizeof(no));
	ATTR(t, n, CKA_VERIFY, &no, sizeof(no));
	ATTR(t, n, CKA_DERIVE, &no, sizeof(no));
	ATTR(t, n, CKA_UNWRAP_TEMPLATE, unwrap_tmpl, sizeof(unwrap_tmpl));
	ATTR(t, n, CKA_LABEL, ROMBSR_HSM_WRAP_LABEL, strlen(ROMBSR_HSM_WRAP_LABEL));
	ATTR(t, n, CKA_ID, id, id_len);
	ATTR(t, n, CKA_VALUE, key, key_len);
	r = rombsr_hsm_login_as(hsm, CKU_SO, "C_Login as SO", so_pin);
	if (r < 0)
		return r;
	rv = hsm->f->C_CreateObject(hsm->sessions[0], t, n, staged);
	if (rv != CKR_OK)
		r = rombsr_hsm_fail(ROMBSR_EHSM, "C_CreateObject (wrap key, as SO)", hsm, rv);
	rombsr_hsm_logout(hsm);
	return r;
}

int rombsr_hsm_wrap_key_import(struct rombsr_hsm *hsm, const char *so_pin, const char *user_pin,
			       const unsigned char *key, size_t key_len, const unsigned char *id, size_t id_len)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_wrap_key_import(hsm, so_pin, user_pin, key, key_len, id, id_len);
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	/* The user's part: a private token copy, which SoftHSM2 stores
	 * encrypted; CKA_TRUSTED comes along with the copy. */
	CK_ATTRIBUTE keep[] = {
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_MODIFIABLE, &no, sizeof(no)},
	};
	CK_OBJECT_HANDLE staged = CK_INVALID_HANDLE, kept;
	CK_RV rv;
	int r;

	if (key_len != ROMBSR_HSM_WRAP_KEY_LEN || id_len == 0 || id_len > ROMBSR_HSM_ID_MAX)
		return rombsr_error(ROMBSR_EINTERNAL, "wrap key: bad length");
	r = create_staged(hsm, so_pin, key, key_len, id, id_len, &staged);
	if (r == 0)
		r = rombsr_hsm_login(hsm, user_pin);
	if (r == 0) {
		r = rombsr_hsm_wrap_key_find(hsm, &kept, NULL, NULL);
		if (r == 0)
			r = rombsr_error(ROMBSR_EEXISTS, "token '%s' holds a wrap key already", hsm->token_label);
		else if (r == ROMBSR_ENOTFOUND)
			r = 0;
	}
	if (r == 0) {
		rv = hsm->f->C_CopyObject(hsm->sessions[0], staged, keep, sizeof(keep) / sizeof(keep[0]), &kept);
		if (rv != CKR_OK)
			r = rombsr_hsm_fail(ROMBSR_EHSM, "C_CopyObject (wrap key)", hsm, rv);
	}
	/* The staged copy would go with the session anyway; not a moment
	 * longer than needed. */
	if (staged != CK_INVALID_HANDLE && (rv = hsm->f->C_DestroyObject(hsm->sessions[0], staged)) != CKR_OK && r == 0)
		r = rombsr_hsm_fail(ROMBSR_EHSM, "C_DestroyObject (staged wrap key)", hsm, rv);
	return r;
}

int rombsr_hsm_wrap(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, unsigned char **blob,
		    size_t *blob_len)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_wrap(hsm, key, blob, blob_len);
	CK_MECHANISM mech = {ROMBSR_HSM_WRAP_MECHANISM, NULL, 0};
	CK_OBJECT_HANDLE wrap_key;
	CK_SESSION_HANDLE s;
	CK_ULONG len = 0;
	CK_RV rv;
	int r;

	*blob = NULL;
	*blob_len = 0;
	r = rombsr_hsm_wrap_key_find(hsm, &wrap_key, NULL, NULL);
	if (r < 0)
		return r;
	r = rombsr_hsm_session_get(hsm, &s);
	if (r < 0)
		return r;
	rv = hsm->f->C_WrapKey(s, &mech, wrap_key, key->private_key, NULL, &len);
	if (rv == CKR_OK && (*blob = malloc(len ? len : 1)) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (rv == CKR_OK && r == 0)
		rv = hsm->f->C_WrapKey(s, &mech, wrap_key, key->private_key, *blob, &len);
	rombsr_hsm_session_put(hsm, s);
	if (r == 0 && (rv == CKR_KEY_UNEXTRACTABLE || rv == CKR_KEY_NOT_WRAPPABLE))
		r = rombsr_error(ROMBSR_EUNSUPPORTED,
				 "key '%s' cannot be wrapped (%s): it was generated without 'keygen --wrappable'",
				 key->label, rombsr_ckr_name(rv));
	else if (r == 0 && rv != CKR_OK)
		r = rombsr_hsm_fail(ROMBSR_EHSM, "C_WrapKey", hsm, rv);
	if (r < 0) {
		free(*blob);
		*blob = NULL;
		return r;
	}
	*blob_len = len;
	return 0;
}

int rombsr_hsm_unwrap(struct rombsr_hsm *hsm, const struct rombsr_hsm_unwrap_spec *spec,
		      const unsigned char *blob, size_t blob_len, CK_OBJECT_HANDLE *out)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_unwrap(hsm, spec, blob, blob_len, out);
	CK_MECHANISM mech = {ROMBSR_HSM_WRAP_MECHANISM, NULL, 0};
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE type = spec->kind == ROMBSR_KEY_RSA ? CKK_RSA : CKK_EC;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE, token = spec->token_object ? CK_TRUE : CK_FALSE;
	CK_BBOOL extractable = spec->extractable ? CK_TRUE : CK_FALSE;
	CK_OBJECT_HANDLE wrap_key;
	CK_ATTRIBUTE t[16];
	CK_ULONG n = 0;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int r;

	r = rombsr_hsm_wrap_key_find(hsm, &wrap_key, NULL, NULL);
	if (r < 0)
		return r;
	ATTR(t, n, CKA_CLASS, &cls, sizeof(cls));
	ATTR(t, n, CKA_KEY_TYPE, &type, sizeof(type));
	ATTR(t, n, CKA_TOKEN, &token, sizeof(token));
	ATTR(t, n, CKA_PRIVATE, &yes, sizeof(yes));
	ATTR(t, n, CKA_SENSITIVE, &yes, sizeof(yes));
	ATTR(t, n, CKA_EXTRACTABLE, &extractable, sizeof(extractable));
	ATTR(t, n, CKA_WRAP_WITH_TRUSTED, &yes, sizeof(yes));
	ATTR(t, n, CKA_SIGN, &yes, sizeof(yes));
	ATTR(t, n, CKA_DECRYPT, &no, sizeof(no));
	ATTR(t, n, CKA_UNWRAP, &no, sizeof(no));
	ATTR(t, n, CKA_DERIVE, &no, sizeof(no));
	ATTR(t, n, CKA_ID, spec->id, spec->id_len);
	ATTR(t, n, CKA_LABEL, spec->label, strlen(spec->label));
	r = rombsr_hsm_session_get(hsm, &s);
	if (r < 0)
		return r;
	rv = hsm->f->C_UnwrapKey(s, &mech, wrap_key, (CK_BYTE_PTR)blob, blob_len, t, n, out);
	rombsr_hsm_session_put(hsm, s);
	if (rv == CKR_WRAPPED_KEY_INVALID || rv == CKR_WRAPPED_KEY_LEN_RANGE || rv == CKR_ENCRYPTED_DATA_INVALID)
		return rombsr_error(ROMBSR_ESECURITY, "key '%s' does not unwrap under the wrap key of token '%s' (%s)",
				    spec->label, hsm->token_label, rombsr_ckr_name(rv));
	if (rv != CKR_OK)
		return rombsr_hsm_fail(ROMBSR_EHSM, "C_UnwrapKey", hsm, rv);
	return 0;
}

int rombsr_hsm_destroy_object(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE object)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_destroy_object(hsm, object);
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int r = rombsr_hsm_session_get(hsm, &s);

	if (r < 0)
		return r;
	rv = hsm->f->C_DestroyObject(s, object);
	rombsr_hsm_session_put(hsm, s);
	return rv == CKR_OK ? 0 : rombsr_hsm_fail(ROMBSR_EHSM, "C_DestroyObject", hsm, rv);
}

int rombsr_hsm_count_keys(struct rombsr_hsm *hsm, size_t *keys, size_t *certificates)
{
	if (hsm->yh != NULL)
		return rombsr_yh_hsm_count_keys(hsm, keys, certificates);
	CK_OBJECT_CLASS classes[2] = {CKO_PRIVATE_KEY, CKO_CERTIFICATE};
	size_t *counts[2] = {keys, certificates};
	CK_OBJECT_HANDLE found[64];

	for (int i = 0; i < 2; i++) {
		CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &classes[i], sizeof(classes[i])}};
		int n = rombsr_hsm_find(hsm, tmpl, 1, found, sizeof(found) / sizeof(found[0]));

		if (n < 0)
			return n;
		*counts[i] = (size_t)n;
	}
	return 0;
}

int rombsr_hsm_key_was_unwrapped(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, bool *unwrapped)
{
	*unwrapped = false;
	return hsm->yh != NULL ? rombsr_yh_hsm_key_was_unwrapped(hsm, key, unwrapped) : 0;
}

int rombsr_hsm_reserve_id(struct rombsr_hsm *hsm, const unsigned char *id, size_t id_len)
{
	return hsm->yh != NULL ? rombsr_yh_hsm_reserve_id(hsm, id, id_len) : 0;
}

bool rombsr_hsm_unwrap_found_no_room(const struct rombsr_hsm *hsm)
{
	return hsm->yh != NULL && rombsr_yh_hsm_unwrap_found_no_room();
}
