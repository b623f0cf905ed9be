/* A key named by the user (--key): a label of the key set or an RFC 7512
 * PKCS#11 URI. The URI's object= is the label; its token part, if any,
 * must match the token configured for the key's authority, so a URI meant
 * for another token never selects a key here by its label alone. */
#include "node.h"

#include "../common/error.h"
#include "../common/keyset.h"

#include <p11-kit/uri.h>
#include <string.h>

static int uri_label(P11KitUri *uri, const char *text, char label[ROMBSR_KEYSET_LABEL_MAX + 1])
{
	CK_ATTRIBUTE *a = p11_kit_uri_get_attribute(uri, CKA_LABEL);

	/* A PIN in argv is a secret in argv; the other parts are ones this
	 * check cannot hold against the key and so may not seem to narrow it. */
	if (p11_kit_uri_get_pin_value(uri) != NULL || p11_kit_uri_get_pin_source(uri) != NULL)
		return rombsr_error(ROMBSR_EPERM, "--key '%.200s': a URI carrying a PIN is refused", text);
	if (p11_kit_uri_get_attribute(uri, CKA_ID) != NULL || p11_kit_uri_get_module_name(uri) != NULL ||
	    p11_kit_uri_get_module_path(uri) != NULL || p11_kit_uri_any_unrecognized(uri))
		return rombsr_error(ROMBSR_EINVAL, "--key '%.200s': only token=, object= and type= are understood here",
				    text);
	if (a == NULL || a->ulValueLen == 0 || a->ulValueLen > ROMBSR_KEYSET_LABEL_MAX)
		return rombsr_error(ROMBSR_EINVAL, "--key '%.200s': names no key (object=LABEL)", text);
	memcpy(label, a->pValue, a->ulValueLen);
	label[a->ulValueLen] = '\0';
	if (strlen(label) != a->ulValueLen)
		return rombsr_error(ROMBSR_EINVAL, "--key '%.200s': object= holds a NUL byte", text);
	a = p11_kit_uri_get_attribute(uri, CKA_CLASS);
	if (a != NULL && a->ulValueLen == sizeof(CK_OBJECT_CLASS)) {
		CK_OBJECT_CLASS c;

		memcpy(&c, a->pValue, sizeof(c));
		if (c != CKO_PRIVATE_KEY && c != CKO_PUBLIC_KEY && c != CKO_CERTIFICATE)
			return rombsr_error(ROMBSR_EINVAL, "--key '%.200s': type= must be private, public or cert", text);
	}
	return 0;
}

static int token_matches(P11KitUri *uri, const char *text, const struct rombsr_authority_config *a)
{
	P11KitUri *configured = p11_kit_uri_new();
	int r = 0;

	if (configured == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (p11_kit_uri_parse(a->token_uri, P11_KIT_URI_FOR_TOKEN, configured) != P11_KIT_URI_OK)
		r = rombsr_error(ROMBSR_ECONFIG, "authority.%s.token: '%s' is not a PKCS#11 URI", a->name, a->token_uri);
	else if (p11_kit_uri_match_token_info(uri, p11_kit_uri_get_token_info(configured)) != 1)
		r = rombsr_error(ROMBSR_EINVAL, "--key '%.200s': not the %s authority's token (%s)", text, a->name,
				 a->token_uri);
	p11_kit_uri_free(configured);
	return r;
}

int cli_key_name(struct cli_context *ctx, const char *text, const struct rombsr_keyset_entry **out)
{
	char label[ROMBSR_KEYSET_LABEL_MAX + 1];
	const struct rombsr_config *cfg;
	P11KitUri *uri = NULL;
	int r = cli_config(ctx, &cfg);

	*out = NULL;
	if (r < 0)
		return r;
	if (strncmp(text, "pkcs11:", 7) != 0) {
		*out = rombsr_keyset_find(text);
		return *out ? 0 : rombsr_error(ROMBSR_ENOTFOUND, "the key set has no key '%.64s'", text);
	}
	uri = p11_kit_uri_new();
	if (uri == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = p11_kit_uri_parse(text, P11_KIT_URI_FOR_ANY, uri);
	if (r != P11_KIT_URI_OK) {
		r = rombsr_error(ROMBSR_EINVAL, "--key '%.200s': not a PKCS#11 URI: %s", text, p11_kit_uri_message(r));
		goto out;
	}
	r = uri_label(uri, text, label);
	if (r < 0)
		goto out;
	*out = rombsr_keyset_find(label);
	if (*out == NULL) {
		r = rombsr_error(ROMBSR_ENOTFOUND, "--key '%.200s': the key set has no key '%s'", text, label);
		goto out;
	}
	r = token_matches(uri, text, &cfg->authority[(*out)->authority]);
	if (r < 0)
		*out = NULL;
out:
	p11_kit_uri_free(uri);
	return r;
}
