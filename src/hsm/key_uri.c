/* A signing key named by an RFC 7512 URI (pkcs11:token=T;object=L), and
 * its destruction: what rombsr-sign hsm-revoke needs of the token. */
#include "hsm_internal.h"
#include "yh_backend.h"

#include "../common/error.h"

#include <p11-kit/uri.h>
#include <stdio.h>
#include <string.h>

/* The URI's text may spell an attribute with percent-encoding; p11-kit
 * decodes it, and the label must then still be one a key set uses. */
static int uri_label(P11KitUri *uri, CK_ATTRIBUTE_TYPE type, char *out, size_t size)
{
	CK_ATTRIBUTE *a = p11_kit_uri_get_attribute(uri, type);

	if (a == NULL || a->ulValueLen == 0 || a->ulValueLen >= size)
		return -1;
	memcpy(out, a->pValue, a->ulValueLen);
	out[a->ulValueLen] = '\0';
	return strlen(out) == a->ulValueLen ? 0 : -1;
}

int rombsr_hsm_uri_key(const char *key_uri, char token[33], char object[ROMBSR_HSM_LABEL_MAX + 1])
{
	P11KitUri *uri = p11_kit_uri_new();
	CK_TOKEN_INFO *info;
	int pr, r = 0;

	if (uri == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	pr = p11_kit_uri_parse(key_uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, uri);
	if (pr != P11_KIT_URI_OK)
		r = rombsr_error(ROMBSR_EINVAL, "key URI '%.200s': %s", key_uri, p11_kit_uri_message(pr));
	else if (p11_kit_uri_any_unrecognized(uri))
		r = rombsr_error(ROMBSR_EINVAL, "key URI '%.200s' has attributes that do not name a token or key", key_uri);
	else if (p11_kit_uri_get_pin_value(uri) != NULL || strstr(key_uri, "pin-value") != NULL)
		r = rombsr_error(ROMBSR_EPERM, "key URI '%.200s' carries a PIN (pin-value); give the PIN in a pin-file",
				 key_uri);
	if (r == 0) {
		info = p11_kit_uri_get_token_info(uri);
		rombsr_p11_string(info->label, sizeof(info->label), token);
		if (token[0] == '\0')
			r = rombsr_error(ROMBSR_EINVAL, "key URI '%.200s' names no token (token=...)", key_uri);
	}
	if (r == 0 && uri_label(uri, CKA_LABEL, object, ROMBSR_HSM_LABEL_MAX + 1) < 0)
		r = rombsr_error(ROMBSR_EINVAL, "key URI '%.200s' names no key (object=..., at most %d characters)", key_uri,
				 ROMBSR_HSM_LABEL_MAX);
	p11_kit_uri_free(uri);
	return r;
}

int rombsr_hsm_destroy_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key)
{
	if (hsm->yh != NULL) {
		/* The certificate shares the key's ID as an opaque object. */
		int r = rombsr_yh_hsm_destroy_object(hsm, key->private_key);

		if (r == 0 && key->certificate != CK_INVALID_HANDLE)
			r = rombsr_yh_hsm_destroy_object(hsm, key->certificate);
		return r;
	}
	/* The private key first: once it is gone nothing can sign, whatever
	 * happens to the public half and the certificate. */
	CK_OBJECT_HANDLE objects[] = {key->private_key, key->public_key, key->certificate};
	CK_SESSION_HANDLE session;
	int r = rombsr_hsm_session_get(hsm, &session);

	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]) && r == 0; i++) {
		CK_RV rv = objects[i] == CK_INVALID_HANDLE ? CKR_OK : hsm->f->C_DestroyObject(session, objects[i]);

		if (rv != CKR_OK)
			r = rombsr_hsm_fail(ROMBSR_EHSM, "C_DestroyObject", hsm, rv);
	}
	rombsr_hsm_session_put(hsm, session);
	return r;
}

int rombsr_hsm_relabel_key(struct rombsr_hsm *hsm, struct rombsr_hsm_key *key, const char *label)
{
	if (hsm->yh != NULL)
		return rombsr_error(ROMBSR_EUNSUPPORTED, "a YubiHSM cannot relabel an object: rotate keys on %s by "
							  "wrapping and importing them under the new label",
				    hsm->token_label);
	CK_OBJECT_HANDLE objects[] = {key->private_key, key->public_key, key->certificate};
	CK_ATTRIBUTE attr = {CKA_LABEL, (void *)label, strlen(label)};
	CK_SESSION_HANDLE session;
	int r;

	if (strlen(label) == 0 || strlen(label) > ROMBSR_HSM_LABEL_MAX)
		return rombsr_error(ROMBSR_EINVAL, "label '%.80s': 1 to %d bytes", label, ROMBSR_HSM_LABEL_MAX);
	r = rombsr_hsm_session_get(hsm, &session);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]) && r == 0; i++) {
		CK_RV rv = objects[i] == CK_INVALID_HANDLE ? CKR_OK : hsm->f->C_SetAttributeValue(session, objects[i], &attr, 1);

		if (rv != CKR_OK)
			r = rombsr_hsm_fail(ROMBSR_EHSM, "C_SetAttributeValue(CKA_LABEL)", hsm, rv);
	}
	rombsr_hsm_session_put(hsm, session);
	if (r == 0)
		snprintf(key->label, sizeof(key->label), "%s", label);
	return r;
}
