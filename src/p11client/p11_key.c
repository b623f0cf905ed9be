#include "p11_key.h"

#include "../common/ckr_name.h"
#include "../common/error.h"
#include "../common/secret.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <stdlib.h>
#include <string.h>

/* The capture module's token (docs/capture.md): it holds no secret, so no
 * PIN is asked for it. Any other token needs one. */
#define CAPTURE_TOKEN_LABEL "rombsr-capture"
#define MAX_SLOTS 64

struct rombsr_p11_key {
	CK_FUNCTION_LIST *f;
	CK_SESSION_HANDLE session;
	bool session_open;
	bool logged_in;
	CK_OBJECT_HANDLE object;
	bool placeholder;
	bool replaying;
	unsigned char id[256];
	CK_ULONG id_len;
	char label[128];
};

static int ck_error(const char *call, CK_RV rv)
{
	return rombsr_error(ROMBSR_EHSM, "%s: %s", call, rombsr_ckr_name(rv));
}

/* Token labels are blank-padded, not NUL-terminated. */
static void padded_to_cstr(const unsigned char *in, size_t n, char *out, size_t out_size)
{
	while (n > 0 && in[n - 1] == ' ')
		n--;
	if (n >= out_size)
		n = out_size - 1;
	memcpy(out, in, n);
	out[n] = '\0';
}

static int read_pin(const P11KitUri *uri, const struct rombsr_p11_key_options *opts, struct rombsr_buf *pin)
{
	const char *source = opts->pin_file;

	if (opts->pin_fd >= 0)
		return rombsr_secret_from_fd(opts->pin_fd, pin);
	if (source == NULL)
		source = p11_kit_uri_get_pin_source(uri);
	if (source == NULL)
		return rombsr_error(ROMBSR_EAUTH, "the token needs a PIN: give pin-source=FILE in the key URI, "
						  "--pin-file FILE or --pin-fd N");
	if (strncmp(source, "file:", 5) == 0)
		source += 5;
	if (source[0] != '/')
		return rombsr_error(ROMBSR_EINVAL, "pin-source '%s': only an absolute file path (file:/path) is "
						   "read, never a command", source);
	return rombsr_secret_from_file(source, pin);
}

static int load_module(const P11KitUri *uri, const struct rombsr_p11_key_options *opts, CK_FUNCTION_LIST **out)
{
	const char *path = opts->module_path ? opts->module_path : p11_kit_uri_get_module_path(uri);
	CK_FUNCTION_LIST *f;
	CK_RV rv;

	if (path == NULL)
		return rombsr_error(ROMBSR_EINVAL, "no PKCS#11 module: add module-path=/path/to/module.so to the "
						   "key URI or give --module");
	f = p11_kit_module_load(path, 0);
	if (f == NULL)
		return rombsr_error(ROMBSR_EINVAL, "PKCS#11 module %s: %s", path, p11_kit_message());
	rv = p11_kit_module_initialize(f);
	if (rv != CKR_OK) {
		p11_kit_module_release(f);
		return rombsr_error(ROMBSR_EHSM, "C_Initialize of %s: %s", path, rombsr_ckr_name(rv));
	}
	*out = f;
	return 0;
}

/* The one slot whose token the URI matches. */
static int find_slot(CK_FUNCTION_LIST *f, P11KitUri *uri, CK_SLOT_ID *slot, CK_TOKEN_INFO *info)
{
	CK_SLOT_ID slots[MAX_SLOTS];
	CK_ULONG n = MAX_SLOTS;
	CK_TOKEN_INFO ti;
	int found = 0;
	CK_RV rv = f->C_GetSlotList(CK_TRUE, slots, &n);

	if (rv != CKR_OK)
		return ck_error("C_GetSlotList", rv);
	for (CK_ULONG i = 0; i < n; i++) {
		rv = f->C_GetTokenInfo(slots[i], &ti);
		if (rv != CKR_OK)
			return ck_error("C_GetTokenInfo", rv);
		if (p11_kit_uri_match_token_info(uri, &ti) != 1)
			continue;
		if (found++ > 0)
			return rombsr_error(ROMBSR_EINVAL, "the key URI matches more than one token: add token= or "
							   "serial=");
		*slot = slots[i];
		*info = ti;
	}
	if (found == 0)
		return rombsr_error(ROMBSR_ENOTFOUND, "no token matches the key URI");
	return 0;
}

/* The capture module's token says its mode in its model (docs/capture.md,
 * "The token"): in capture mode it answers placeholders, which a tool must
 * not check as signatures; in replay mode only what the sign node signed. */
static bool is_capture_module(const CK_TOKEN_INFO *info, const char *mode)
{
	char label[sizeof(info->label) + 1], model[sizeof(info->model) + 1];

	padded_to_cstr(info->label, sizeof(info->label), label, sizeof(label));
	padded_to_cstr(info->model, sizeof(info->model), model, sizeof(model));
	return strcmp(label, CAPTURE_TOKEN_LABEL) == 0 && strcmp(model, mode) == 0;
}

static int login(struct rombsr_p11_key *key, const P11KitUri *uri, const struct rombsr_p11_key_options *opts,
		 const CK_TOKEN_INFO *info)
{
	struct rombsr_buf pin;
	char label[sizeof(info->label) + 1];
	CK_RV rv;
	int r;

	if (!(info->flags & CKF_LOGIN_REQUIRED))
		return 0;
	padded_to_cstr(info->label, sizeof(info->label), label, sizeof(label));
	rombsr_buf_init(&pin, ROMBSR_SECRET_MAX + 1);
	if (strcmp(label, CAPTURE_TOKEN_LABEL) == 0 || (info->flags & CKF_PROTECTED_AUTHENTICATION_PATH)) {
		rv = key->f->C_Login(key->session, CKU_USER, NULL, 0);
	} else {
		r = read_pin(uri, opts, &pin);
		if (r < 0)
			return r;
		rv = key->f->C_Login(key->session, CKU_USER, pin.data, (CK_ULONG)pin.len);
		rombsr_buf_free(&pin);
	}
	if (rv == CKR_USER_ALREADY_LOGGED_IN)
		return 0;
	if (rv == CKR_PIN_INCORRECT)
		return rombsr_error(ROMBSR_EAUTH, "C_Login to token '%s': wrong PIN", label);
	if (rv != CKR_OK)
		return rombsr_error(ROMBSR_EHSM, "C_Login to token '%s': %s", label, rombsr_ckr_name(rv));
	key->logged_in = true;
	return 0;
}

static int get_attribute(struct rombsr_p11_key *key, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type,
			 struct rombsr_buf *out)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv = key->f->C_GetAttributeValue(key->session, object, &a, 1);

	if (rv != CKR_OK)
		return ck_error("C_GetAttributeValue", rv);
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > 1 << 20)
		return rombsr_error(ROMBSR_EHSM, "C_GetAttributeValue: attribute 0x%lx unavailable", type);
	rombsr_buf_init(out, (size_t)a.ulValueLen + 1);
	out->data = calloc(1, (size_t)a.ulValueLen + 1);
	if (out->data == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	out->alloc = (size_t)a.ulValueLen + 1;
	a.pValue = out->data;
	rv = key->f->C_GetAttributeValue(key->session, object, &a, 1);
	if (rv != CKR_OK) {
		rombsr_buf_free(out);
		return ck_error("C_GetAttributeValue", rv);
	}
	out->len = (size_t)a.ulValueLen;
	return 0;
}

/* Finds exactly one object matching the template; 0 found is ENOTFOUND. */
static int find_one(struct rombsr_p11_key *key, CK_ATTRIBUTE *tmpl, CK_ULONG n, const char *what,
		    CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_HANDLE found[2];
	CK_ULONG count = 0;
	CK_RV rv = key->f->C_FindObjectsInit(key->session, tmpl, n);

	if (rv != CKR_OK)
		return ck_error("C_FindObjectsInit", rv);
	rv = key->f->C_FindObjects(key->session, found, 2, &count);
	CK_RV end = key->f->C_FindObjectsFinal(key->session);
	if (rv != CKR_OK)
		return ck_error("C_FindObjects", rv);
	if (end != CKR_OK)
		return ck_error("C_FindObjectsFinal", end);
	if (count == 0)
		return rombsr_error(ROMBSR_ENOTFOUND, "no %s matches the key URI on the token", what);
	if (count > 1)
		return rombsr_error(ROMBSR_EINVAL, "the key URI matches more than one %s: add object= or id=", what);
	*out = found[0];
	return 0;
}

static int rsa_from_attributes(struct rombsr_p11_key *key, CK_OBJECT_HANDLE object, EVP_PKEY **out)
{
	struct rombsr_buf mod = {0}, exp = {0};
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int r = get_attribute(key, object, CKA_MODULUS, &mod);

	if (r < 0 || (r = get_attribute(key, object, CKA_PUBLIC_EXPONENT, &exp)) < 0)
		goto out;
	n = BN_bin2bn(mod.data, (int)mod.len, NULL);
	e = BN_bin2bn(exp.data, (int)exp.len, NULL);
	bld = OSSL_PARAM_BLD_new();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (n == NULL || e == NULL || bld == NULL || ctx == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "building the RSA public key of '%s'", rombsr_p11_key_label(key));
		goto out;
	}
	r = 0;
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	rombsr_buf_free(&mod);
	rombsr_buf_free(&exp);
	return r;
}

/* The one RSA private key among those tmpl matches whose modulus and
 * exponent are pub's: how a tool that names its key by a public key file
 * (avbtool's --key) finds it on the token. */
static int find_by_public(struct rombsr_p11_key *key, CK_ATTRIBUTE *tmpl, CK_ULONG n, EVP_PKEY *pub)
{
	CK_OBJECT_HANDLE found[256];
	CK_ULONG count = 0;
	int matches = 0;
	CK_RV rv = key->f->C_FindObjectsInit(key->session, tmpl, n);

	if (rv != CKR_OK)
		return ck_error("C_FindObjectsInit", rv);
	rv = key->f->C_FindObjects(key->session, found, 256, &count);
	CK_RV end = key->f->C_FindObjectsFinal(key->session);
	if (rv != CKR_OK || end != CKR_OK)
		return ck_error("C_FindObjects", rv != CKR_OK ? rv : end);
	for (CK_ULONG i = 0; i < count; i++) {
		EVP_PKEY *candidate = NULL;

		if (rsa_from_attributes(key, found[i], &candidate) < 0) {
			rombsr_error_clear(); /* not an RSA key: not this one */
			continue;
		}
		if (EVP_PKEY_eq(candidate, pub) == 1 && matches++ == 0)
			key->object = found[i];
		EVP_PKEY_free(candidate);
	}
	if (matches == 0)
		return rombsr_error(ROMBSR_ENOTFOUND, "no private key on the token has the given public key");
	if (matches > 1)
		return rombsr_error(ROMBSR_EINVAL, "more than one private key on the token has the given public key");
	return 0;
}

static int find_private_key(struct rombsr_p11_key *key, P11KitUri *uri, EVP_PKEY *match)
{
	CK_OBJECT_CLASS klass = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[4] = {{CKA_CLASS, &klass, sizeof(klass)}};
	CK_ULONG n = 1;
	CK_ATTRIBUTE *a;
	struct rombsr_buf v;
	int r;

	a = p11_kit_uri_get_attribute(uri, CKA_CLASS);
	if (a != NULL && (a->ulValueLen != sizeof(klass) || memcmp(a->pValue, &klass, sizeof(klass)) != 0))
		return rombsr_error(ROMBSR_EINVAL, "the key URI names an object that is not a private key "
						   "(type= must be private or absent)");
	if ((a = p11_kit_uri_get_attribute(uri, CKA_LABEL)) != NULL)
		tmpl[n++] = *a;
	if ((a = p11_kit_uri_get_attribute(uri, CKA_ID)) != NULL)
		tmpl[n++] = *a;
	if (n == 1 && match == NULL)
		return rombsr_error(ROMBSR_EINVAL, "the key URI names no key: add object=LABEL or id=%%HEX");
	if (match != NULL)
		r = find_by_public(key, tmpl, n, match);
	else
		r = find_one(key, tmpl, n, "private key", &key->object);
	if (r < 0)
		return r;
	r = get_attribute(key, key->object, CKA_ID, &v);
	if (r < 0)
		return r;
	if (v.len > sizeof(key->id)) {
		rombsr_buf_free(&v);
		return rombsr_error(ROMBSR_EHSM, "the key's CKA_ID is longer than %zu bytes", sizeof(key->id));
	}
	memcpy(key->id, v.data, v.len);
	key->id_len = (CK_ULONG)v.len;
	rombsr_buf_free(&v);
	if (get_attribute(key, key->object, CKA_LABEL, &v) == 0) {
		padded_to_cstr(v.data, v.len, key->label, sizeof(key->label));
		rombsr_buf_free(&v);
	} else {
		rombsr_error_clear();
	}
	return 0;
}

int rombsr_p11_key_open(const char *uri_text, const struct rombsr_p11_key_options *opts, struct rombsr_p11_key **out)
{
	struct rombsr_p11_key *key = NULL;
	P11KitUri *uri = p11_kit_uri_new();
	CK_TOKEN_INFO info;
	CK_SLOT_ID slot = 0;
	CK_RV rv;
	int r;

	*out = NULL;
	if (uri == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (p11_kit_uri_parse(uri_text, P11_KIT_URI_FOR_ANY, uri) != P11_KIT_URI_OK) {
		r = rombsr_error(ROMBSR_EINVAL, "'%s' is not a PKCS#11 URI (RFC 7512: pkcs11:token=…;object=…)",
				 uri_text);
		goto out;
	}
	if (p11_kit_uri_get_pin_value(uri) != NULL) {
		r = rombsr_error(ROMBSR_EPERM, "the key URI holds pin-value: a PIN on the command line is visible "
					       "to every user of this machine; use pin-source=file:/path instead");
		goto out;
	}
	key = calloc(1, sizeof(*key));
	if (key == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	r = load_module(uri, opts, &key->f);
	if (r < 0)
		goto out;
	r = find_slot(key->f, uri, &slot, &info);
	if (r < 0)
		goto out;
	rv = key->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &key->session);
	if (rv != CKR_OK) {
		r = ck_error("C_OpenSession", rv);
		goto out;
	}
	key->session_open = true;
	key->placeholder = is_capture_module(&info, "capture");
	key->replaying = is_capture_module(&info, "replay");
	r = login(key, uri, opts, &info);
	if (r == 0)
		r = find_private_key(key, uri, opts->match_public);
out:
	p11_kit_uri_free(uri);
	if (r < 0) {
		struct rombsr_error_saved saved;

		rombsr_error_save(&saved);
		rombsr_p11_key_close(key);
		rombsr_error_restore(&saved);
		return r;
	}
	*out = key;
	return 0;
}

void rombsr_p11_key_close(struct rombsr_p11_key *key)
{
	if (key == NULL)
		return;
	if (key->f != NULL) {
		if (key->logged_in)
			(void)key->f->C_Logout(key->session);
		if (key->session_open)
			(void)key->f->C_CloseSession(key->session);
		(void)p11_kit_module_finalize(key->f);
		p11_kit_module_release(key->f);
	}
	free(key);
}

bool rombsr_p11_key_answers_placeholders(const struct rombsr_p11_key *key)
{
	return key->placeholder;
}

bool rombsr_p11_key_replays(const struct rombsr_p11_key *key)
{
	return key->replaying;
}

const char *rombsr_p11_key_label(const struct rombsr_p11_key *key)
{
	return key->label[0] ? key->label : "(no label)";
}

int rombsr_p11_key_certificate(struct rombsr_p11_key *key, X509 **out)
{
	CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &klass, sizeof(klass)}, {CKA_ID, key->id, key->id_len}};
	CK_OBJECT_HANDLE cert;
	struct rombsr_buf der;
	const unsigned char *p;
	int r = find_one(key, tmpl, 2, "certificate", &cert);

	if (r < 0)
		return r;
	r = get_attribute(key, cert, CKA_VALUE, &der);
	if (r < 0)
		return r;
	p = der.data;
	*out = d2i_X509(NULL, &p, (long)der.len);
	if (*out == NULL || p != der.data + der.len) {
		X509_free(*out);
		*out = NULL;
		r = rombsr_error_openssl(ROMBSR_EHSM, "the certificate of key '%s' is not DER X.509",
					 rombsr_p11_key_label(key));
	}
	rombsr_buf_free(&der);
	return r;
}

int rombsr_p11_key_public(struct rombsr_p11_key *key, EVP_PKEY **out)
{
	X509 *cert = NULL;
	int r = rombsr_p11_key_certificate(key, &cert);

	*out = NULL;
	if (r == ROMBSR_ENOTFOUND) {
		rombsr_error_clear();
		return rsa_from_attributes(key, key->object, out);
	}
	if (r < 0)
		return r;
	*out = X509_get_pubkey(cert);
	X509_free(cert);
	if (*out == NULL)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "the certificate of '%s' has no usable public key",
					    rombsr_p11_key_label(key));
	return 0;
}

int rombsr_p11_key_sign(struct rombsr_p11_key *key, CK_MECHANISM_TYPE mechanism, const unsigned char *in,
			size_t in_len, struct rombsr_buf *sig)
{
	CK_MECHANISM mech = {mechanism, NULL, 0};
	CK_ULONG len = 0;
	CK_RV rv;

	rombsr_buf_init(sig, 16384);
	rv = key->f->C_SignInit(key->session, &mech, key->object);
	if (rv != CKR_OK)
		return rombsr_error(ROMBSR_EHSM, "C_SignInit with key '%s': %s", rombsr_p11_key_label(key),
				    rombsr_ckr_name(rv));
	rv = key->f->C_Sign(key->session, (CK_BYTE_PTR)in, (CK_ULONG)in_len, NULL, &len);
	if (rv != CKR_OK || len == 0 || len > sig->max)
		goto failed;
	sig->data = malloc(len);
	if (sig->data == NULL) {
		/* The operation stays active until a C_Sign that ends it. */
		(void)key->f->C_Sign(key->session, (CK_BYTE_PTR)in, (CK_ULONG)in_len, NULL, &len);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	sig->alloc = len;
	rv = key->f->C_Sign(key->session, (CK_BYTE_PTR)in, (CK_ULONG)in_len, sig->data, &len);
	if (rv != CKR_OK)
		goto failed;
	sig->len = len;
	return 0;
failed:
	rombsr_buf_free(sig);
	return rombsr_error(ROMBSR_EHSM, "C_Sign with key '%s': %s%s", rombsr_p11_key_label(key),
			    rv == CKR_OK ? "a signature of no or absurd length" : rombsr_ckr_name(rv),
			    key->replaying ? " (the capture module, replaying, has no signature for this operation: it "
					     "was never captured and signed, or its input changed since)" : "");
}
