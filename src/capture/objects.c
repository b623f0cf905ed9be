/* The token's objects: for each bundle key a certificate, a public key and
 * a private-key object that names the key but holds nothing secret (there
 * is nothing secret on a build node). Attributes are built once, as bytes,
 * so that C_GetAttributeValue and C_FindObjects are plain comparisons. */
#include "capture.h"

#include "../common/error.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

/* Largest CKA_EC_POINT: the OCTET STRING header and an uncompressed P-384
 * point (0x04 || x || y, 97 bytes). */
#define EC_POINT_DER_MAX (2 + 1 + 2 * 48)

static int attr_add(struct cap_object *o, CK_ATTRIBUTE_TYPE type, const void *value, size_t len, bool sensitive)
{
	struct cap_attr *grown = realloc(o->attrs, (o->nattrs + 1) * sizeof(*o->attrs));
	struct cap_attr *a;

	if (grown == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	o->attrs = grown;
	a = &o->attrs[o->nattrs];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->sensitive = sensitive;
	if (!sensitive && len > 0) {
		a->value = malloc(len);
		if (a->value == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		memcpy(a->value, value, len);
		a->len = len;
	}
	o->nattrs++;
	return 0;
}

static int attr_bool(struct cap_object *o, CK_ATTRIBUTE_TYPE type, bool v)
{
	CK_BBOOL b = v ? CK_TRUE : CK_FALSE;

	return attr_add(o, type, &b, sizeof(b), false);
}

static int attr_ulong(struct cap_object *o, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
	return attr_add(o, type, &v, sizeof(v), false);
}

const struct cap_attr *cap_object_attr(const struct cap_object *o, CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < o->nattrs; i++)
		if (o->attrs[i].type == type)
			return &o->attrs[i];
	return NULL;
}

bool cap_object_matches(const struct cap_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++) {
		const struct cap_attr *a = cap_object_attr(o, tmpl[i].type);

		/* A sensitive value never matches: matching would leak it. */
		if (a == NULL || a->sensitive || a->len != tmpl[i].ulValueLen ||
		    (a->len > 0 && (tmpl[i].pValue == NULL || memcmp(a->value, tmpl[i].pValue, a->len) != 0)))
			return false;
	}
	return true;
}

void cap_object_free(struct cap_object *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->nattrs; i++)
		free(o->attrs[i].value);
	free(o->attrs);
	if (o->owns_pkey)
		EVP_PKEY_free(o->pkey);
	free(o);
}

static int bn_param(EVP_PKEY *pkey, const char *name, unsigned char **out, size_t *len)
{
	BIGNUM *bn = NULL;
	int n;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot read %s of a public key", name);
	n = BN_num_bytes(bn);
	*out = malloc(n > 0 ? (size_t)n : 1);
	if (*out == NULL) {
		BN_free(bn);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	*len = (size_t)BN_bn2bin(bn, *out);
	BN_free(bn);
	return 0;
}

/* CKA_EC_POINT: the DER OCTET STRING around the uncompressed X9.62 point,
 * taken from the certificate's SubjectPublicKeyInfo as it is (asking the
 * EVP_PKEY fails when a client's engine owns EC keys). The point is
 * 0x04 || x || y, each coordinate the curve's length: 65 bytes for P-256,
 * 97 for P-384, both short enough for a one-byte DER length. */
static int ec_point_der(const struct rombsr_bundle_key *k, unsigned char out[EC_POINT_DER_MAX], size_t *len)
{
	const size_t want = 1 + 2 * rombsr_key_kind_ec_bytes(k->kind);
	const unsigned char *point = NULL;
	int plen = 0;

	if (X509_PUBKEY_get0_param(NULL, &point, &plen, NULL, X509_get_X509_PUBKEY(k->certificate)) != 1 ||
	    want == 1 || want + 2 > EC_POINT_DER_MAX || (size_t)plen != want || point[0] != 0x04)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "key '%s': not an uncompressed %s point", k->label,
					    rombsr_key_kind_text(k->kind));
	out[0] = 0x04;
	out[1] = (unsigned char)want;
	memcpy(out + 2, point, want);
	*len = want + 2;
	return 0;
}

/* Attributes every key object of this key shares. */
static int key_common(struct cap_object *o, const struct rombsr_bundle_key *k, const unsigned char *subject,
		      size_t subject_len)
{
	CK_MECHANISM_TYPE allowed[32];
	size_t nallowed = 0;
	int r = 0;

	for (size_t i = 0; i < rombsr_cap_mechs_len && nallowed < 32; i++)
		if (rombsr_cap_mechs[i].ec == rombsr_key_kind_is_ec(k->kind))
			allowed[nallowed++] = rombsr_cap_mechs[i].type;
	r = r ? r : attr_ulong(o, CKA_KEY_TYPE, k->kind == ROMBSR_KEY_RSA ? CKK_RSA : CKK_EC);
	r = r ? r : attr_bool(o, CKA_TOKEN, true);
	r = r ? r : attr_add(o, CKA_LABEL, k->label, strlen(k->label), false);
	r = r ? r : attr_add(o, CKA_ID, k->id, k->id_len, false);
	r = r ? r : attr_bool(o, CKA_MODIFIABLE, false);
	r = r ? r : attr_bool(o, CKA_COPYABLE, false);
	r = r ? r : attr_bool(o, CKA_DESTROYABLE, false);
	r = r ? r : attr_bool(o, CKA_DERIVE, false);
	r = r ? r : attr_bool(o, CKA_LOCAL, false);
	r = r ? r : attr_ulong(o, CKA_KEY_GEN_MECHANISM, CK_UNAVAILABLE_INFORMATION);
	r = r ? r : attr_add(o, CKA_START_DATE, NULL, 0, false);
	r = r ? r : attr_add(o, CKA_END_DATE, NULL, 0, false);
	r = r ? r : attr_add(o, CKA_SUBJECT, subject, subject_len, false);
	r = r ? r : attr_add(o, CKA_PUBLIC_KEY_INFO, k->spki_der, k->spki_der_len, false);
	r = r ? r : attr_add(o, CKA_ALLOWED_MECHANISMS, allowed, nallowed * sizeof(allowed[0]), false);
	if (k->kind == ROMBSR_KEY_RSA) {
		unsigned char *n = NULL, *e = NULL;
		size_t n_len = 0, e_len = 0;

		if (r == 0)
			r = bn_param(k->public_key, OSSL_PKEY_PARAM_RSA_N, &n, &n_len);
		if (r == 0)
			r = bn_param(k->public_key, OSSL_PKEY_PARAM_RSA_E, &e, &e_len);
		if (r == 0)
			r = attr_add(o, CKA_MODULUS, n, n_len, false);
		if (r == 0)
			r = attr_add(o, CKA_PUBLIC_EXPONENT, e, e_len, false);
		if (r == 0 && o->klass == CKO_PUBLIC_KEY)
			r = attr_ulong(o, CKA_MODULUS_BITS, k->bits);
		free(n);
		free(e);
	} else {
		size_t params_len = 0;
		const unsigned char *params = rombsr_key_kind_ec_params(k->kind, &params_len);

		r = r ? r : attr_add(o, CKA_EC_PARAMS, params, params_len, false);
		if (o->klass == CKO_PUBLIC_KEY) {
			unsigned char point[EC_POINT_DER_MAX];
			size_t len = 0;
			int rr = ec_point_der(k, point, &len);

			r |= rr == 0 ? attr_add(o, CKA_EC_POINT, point, len, false) : rr;
		}
	}
	return r < 0 ? rombsr_error_wrap(r, "key '%s'", k->label) : 0;
}

static int object_new(CK_OBJECT_HANDLE handle, CK_OBJECT_CLASS klass, const struct rombsr_bundle_key *k,
		      struct cap_object **out)
{
	struct cap_object *o = calloc(1, sizeof(*o));
	int n;

	*out = NULL;
	if (o == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	o->handle = handle;
	o->klass = klass;
	o->key = k;
	o->kind = k->kind;
	o->pkey = k->public_key;
	/* RSA: the modulus; ECDSA: raw r||s, each the curve's length. */
	o->sig_len = k->kind == ROMBSR_KEY_RSA ? (k->bits + 7) / 8 : 2 * rombsr_key_kind_ec_bytes(k->kind);
	memcpy(o->spki_sha256, k->spki_sha256, sizeof(o->spki_sha256));
	n = snprintf(o->label, sizeof(o->label), "%s", k->label);
	if (n < 0 || (size_t)n >= sizeof(o->label)) {
		cap_object_free(o);
		return rombsr_error(ROMBSR_EINVAL, "key '%.16s...': label longer than %zu bytes", k->label,
				    sizeof(o->label) - 1);
	}
	if (attr_ulong(o, CKA_CLASS, klass) < 0) {
		cap_object_free(o);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	*out = o;
	return 0;
}

int cap_objects_for_key(const struct rombsr_bundle_key *k, CK_OBJECT_HANDLE first, struct cap_object *out[3])
{
	X509_NAME *subject_name = X509_get_subject_name(k->certificate);
	X509_NAME *issuer_name = X509_get_issuer_name(k->certificate);
	ASN1_INTEGER *serial = X509_get_serialNumber(k->certificate);
	unsigned char *subject = NULL, *issuer = NULL, *serial_der = NULL, check[20];
	int subject_len = i2d_X509_NAME(subject_name, &subject);
	int issuer_len = i2d_X509_NAME(issuer_name, &issuer);
	int serial_len = i2d_ASN1_INTEGER(serial, &serial_der);
	struct cap_object *cert = NULL, *pub = NULL, *priv = NULL;
	int r = ROMBSR_ENOMEM;

	out[0] = out[1] = out[2] = NULL;
	if (subject_len <= 0 || issuer_len <= 0 || serial_len <= 0) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "key '%s': cannot encode certificate names", k->label);
		goto out;
	}
	if ((r = object_new(first, CKO_CERTIFICATE, k, &cert)) < 0 ||
	    (r = object_new(first + 1, CKO_PUBLIC_KEY, k, &pub)) < 0 ||
	    (r = object_new(first + 2, CKO_PRIVATE_KEY, k, &priv)) < 0)
		goto out;
	/* Certificate: what Java's keystore reads to build the alias. */
	EVP_Digest(k->cert_der, k->cert_der_len, check, NULL, EVP_sha1(), NULL);
	r = 0;
	r |= attr_bool(cert, CKA_TOKEN, true);
	r |= attr_bool(cert, CKA_PRIVATE, false);
	r |= attr_bool(cert, CKA_MODIFIABLE, false);
	r |= attr_bool(cert, CKA_COPYABLE, false);
	r |= attr_bool(cert, CKA_DESTROYABLE, false);
	r |= attr_add(cert, CKA_LABEL, k->label, strlen(k->label), false);
	r |= attr_add(cert, CKA_ID, k->id, k->id_len, false);
	r |= attr_ulong(cert, CKA_CERTIFICATE_TYPE, CKC_X_509);
	r |= attr_bool(cert, CKA_TRUSTED, false);
	r |= attr_ulong(cert, CKA_CERTIFICATE_CATEGORY, 0);
	r |= attr_add(cert, CKA_CHECK_VALUE, check, 3, false);
	r |= attr_add(cert, CKA_START_DATE, NULL, 0, false);
	r |= attr_add(cert, CKA_END_DATE, NULL, 0, false);
	r |= attr_add(cert, CKA_SUBJECT, subject, (size_t)subject_len, false);
	r |= attr_add(cert, CKA_ISSUER, issuer, (size_t)issuer_len, false);
	r |= attr_add(cert, CKA_SERIAL_NUMBER, serial_der, (size_t)serial_len, false);
	r |= attr_add(cert, CKA_VALUE, k->cert_der, k->cert_der_len, false);
	r |= attr_add(cert, CKA_URL, NULL, 0, false);
	r |= attr_add(cert, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, NULL, 0, false);
	r |= attr_add(cert, CKA_HASH_OF_ISSUER_PUBLIC_KEY, NULL, 0, false);
	r |= attr_ulong(cert, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0);
	r |= attr_add(cert, CKA_PUBLIC_KEY_INFO, k->spki_der, k->spki_der_len, false);
	if (r != 0) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}

	r = key_common(pub, k, subject, (size_t)subject_len);
	if (r < 0)
		goto out;
	/* attr_* fail only with ROMBSR_ENOMEM: collect, check once. */
	r |= attr_bool(pub, CKA_PRIVATE, false);
	r |= attr_bool(pub, CKA_ENCRYPT, false);
	r |= attr_bool(pub, CKA_VERIFY, true);
	r |= attr_bool(pub, CKA_VERIFY_RECOVER, false);
	r |= attr_bool(pub, CKA_WRAP, false);
	r |= attr_bool(pub, CKA_TRUSTED, false);

	/* The private-key object: usable for C_SignInit, and the attributes
	 * clients read to size a signature; the private values exist only as
	 * "sensitive", because there are none. */
	priv->is_private = true;
	if (r == 0)
		r = key_common(priv, k, subject, (size_t)subject_len);
	if (r < 0)
		goto out;
	r |= attr_bool(priv, CKA_PRIVATE, true);
	r |= attr_bool(priv, CKA_SENSITIVE, true);
	r |= attr_bool(priv, CKA_ALWAYS_SENSITIVE, true);
	r |= attr_bool(priv, CKA_EXTRACTABLE, false);
	r |= attr_bool(priv, CKA_NEVER_EXTRACTABLE, true);
	r |= attr_bool(priv, CKA_DECRYPT, false);
	r |= attr_bool(priv, CKA_SIGN, true);
	r |= attr_bool(priv, CKA_SIGN_RECOVER, false);
	r |= attr_bool(priv, CKA_UNWRAP, false);
	r |= attr_bool(priv, CKA_WRAP_WITH_TRUSTED, false);
	r |= attr_bool(priv, CKA_ALWAYS_AUTHENTICATE, false);
	if (k->kind == ROMBSR_KEY_RSA) {
		static const CK_ATTRIBUTE_TYPE secret[] = {CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
							   CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT};

		for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
			r |= attr_add(priv, secret[i], NULL, 0, true);
	} else {
		r |= attr_add(priv, CKA_VALUE, NULL, 0, true);
	}
	if (r != 0) {
		r = rombsr_error(ROMBSR_ENOMEM, "key '%s': cannot build its objects", k->label);
		goto out;
	}
	out[0] = cert;
	out[1] = pub;
	out[2] = priv;
	cert = pub = priv = NULL;
out:
	cap_object_free(cert);
	cap_object_free(pub);
	cap_object_free(priv);
	OPENSSL_free(subject);
	OPENSSL_free(issuer);
	OPENSSL_free(serial_der);
	return r;
}

static const CK_ATTRIBUTE *tmpl_find(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (tmpl[i].type == type)
			return &tmpl[i];
	return NULL;
}

static bool tmpl_ulong(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_ATTRIBUTE_TYPE type, CK_ULONG *v)
{
	const CK_ATTRIBUTE *a = tmpl_find(tmpl, n, type);

	if (a == NULL || a->pValue == NULL || a->ulValueLen != sizeof(CK_ULONG))
		return false;
	memcpy(v, a->pValue, sizeof(*v));
	return true;
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return pkey;
}

static EVP_PKEY *rsa_from_template(const CK_ATTRIBUTE *mod, const CK_ATTRIBUTE *exp)
{
	BIGNUM *n = BN_bin2bn(mod->pValue, (int)mod->ulValueLen, NULL);
	BIGNUM *e = BN_bin2bn(exp->pValue, (int)exp->ulValueLen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;

	if (n != NULL && e != NULL && bld != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
		pkey = pkey_from_params("RSA", params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pkey;
}

/* CKA_EC_PARAMS is a named curve OID; CKA_EC_POINT the DER OCTET STRING
 * of the point (some clients send the bare point: accepted too). */
static EVP_PKEY *ec_from_template(const CK_ATTRIBUTE *params_attr, const CK_ATTRIBUTE *point_attr)
{
	const unsigned char *p = params_attr->pValue;
	ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &p, (long)params_attr->ulValueLen);
	const unsigned char *q = point_attr->pValue;
	ASN1_OCTET_STRING *os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)point_attr->ulValueLen);
	const unsigned char *point = point_attr->pValue;
	size_t point_len = point_attr->ulValueLen;
	const char *group;
	OSSL_PARAM params[3];
	EVP_PKEY *pkey = NULL;

	if (os != NULL && q == (const unsigned char *)point_attr->pValue + point_attr->ulValueLen) {
		point = os->data;
		point_len = (size_t)os->length;
	}
	if (oid != NULL && (group = OBJ_nid2sn(OBJ_obj2nid(oid))) != NULL && OBJ_obj2nid(oid) != NID_undef) {
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
		params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, point_len);
		params[2] = OSSL_PARAM_construct_end();
		pkey = pkey_from_params("EC", params);
	}
	ASN1_OBJECT_free(oid);
	ASN1_OCTET_STRING_free(os);
	ERR_clear_error();
	return pkey;
}

CK_RV cap_object_from_template(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE handle,
			       CK_SESSION_HANDLE owner, struct cap_object **out)
{
	CK_ULONG klass = 0, key_type = 0;
	const CK_ATTRIBUTE *token = tmpl_find(tmpl, n, CKA_TOKEN);
	const CK_ATTRIBUTE *label = tmpl_find(tmpl, n, CKA_LABEL);
	struct cap_object *o = NULL;
	CK_RV rv = CKR_HOST_MEMORY;
	int bits;

	*out = NULL;
	for (CK_ULONG i = 0; i < n; i++)
		if (tmpl[i].pValue == NULL && tmpl[i].ulValueLen > 0)
			return CKR_ARGUMENTS_BAD;
	if (!tmpl_ulong(tmpl, n, CKA_CLASS, &klass) || !tmpl_ulong(tmpl, n, CKA_KEY_TYPE, &key_type))
		return CKR_TEMPLATE_INCOMPLETE;
	/* Only what a verifier needs: a session public key. The token itself
	 * is the public bundle and nobody writes to it. */
	if (klass != CKO_PUBLIC_KEY) {
		cap_log("C_CreateObject: only session public keys can be created (class 0x%lx refused)", klass);
		return CKR_TEMPLATE_INCONSISTENT;
	}
	if (token != NULL && token->ulValueLen == 1 && *(CK_BBOOL *)token->pValue) {
		cap_log("C_CreateObject: the token is the public bundle; objects cannot be stored in it");
		return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return CKR_HOST_MEMORY;
	o->handle = handle;
	o->klass = CKO_PUBLIC_KEY;
	o->owner = owner;
	o->owns_pkey = true;
	if (key_type == CKK_RSA) {
		const CK_ATTRIBUTE *mod = tmpl_find(tmpl, n, CKA_MODULUS), *exp = tmpl_find(tmpl, n, CKA_PUBLIC_EXPONENT);

		if (mod == NULL || exp == NULL || mod->ulValueLen == 0 || exp->ulValueLen == 0) {
			rv = CKR_TEMPLATE_INCOMPLETE;
			goto out;
		}
		o->kind = ROMBSR_KEY_RSA;
		o->pkey = rsa_from_template(mod, exp);
	} else if (key_type == CKK_EC) {
		const CK_ATTRIBUTE *params = tmpl_find(tmpl, n, CKA_EC_PARAMS), *point = tmpl_find(tmpl, n, CKA_EC_POINT);

		if (params == NULL || point == NULL) {
			rv = CKR_TEMPLATE_INCOMPLETE;
			goto out;
		}
		if (params->pValue == NULL ||
		    rombsr_key_kind_from_ec_params(params->pValue, params->ulValueLen, &o->kind) < 0) {
			cap_log("C_CreateObject: CKA_EC_PARAMS names a curve other than P-256 and P-384");
			rv = CKR_ATTRIBUTE_VALUE_INVALID;
			goto out;
		}
		o->pkey = ec_from_template(params, point);
	} else {
		cap_log("C_CreateObject: key type 0x%lx is not supported", key_type);
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
		goto out;
	}
	if (o->pkey == NULL) {
		cap_log("C_CreateObject: the template does not hold a usable public key");
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
		goto out;
	}
	bits = EVP_PKEY_get_bits(o->pkey);
	o->sig_len = o->kind == ROMBSR_KEY_RSA ? (size_t)(bits + 7) / 8 : (size_t)(2 * ((bits + 7) / 8));
	if (o->sig_len > ROMBSR_CAP_SIG_MAX || rombsr_pubkey_spki_sha256(o->pkey, o->spki_sha256) < 0) {
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
		goto out;
	}
	if (label != NULL && label->ulValueLen < sizeof(o->label)) {
		memcpy(o->label, label->pValue, label->ulValueLen);
	} else {
		int len = snprintf(o->label, sizeof(o->label), "session key %.16s", o->spki_sha256);

		if (len < 0 || (size_t)len >= sizeof(o->label)) {
			cap_log("C_CreateObject: session key label longer than %zu bytes", sizeof(o->label) - 1);
			rv = CKR_GENERAL_ERROR;
			goto out;
		}
	}
	/* Keep the client's attributes as given, so it can read them back. */
	for (CK_ULONG i = 0; i < n; i++) {
		if (cap_object_attr(o, tmpl[i].type) != NULL) {
			rv = CKR_TEMPLATE_INCONSISTENT;
			goto out;
		}
		if (attr_add(o, tmpl[i].type, tmpl[i].pValue, tmpl[i].ulValueLen, false) < 0)
			goto out;
	}
	if ((token == NULL && attr_bool(o, CKA_TOKEN, false) < 0) ||
	    (cap_object_attr(o, CKA_VERIFY) == NULL && attr_bool(o, CKA_VERIFY, true) < 0) ||
	    (cap_object_attr(o, CKA_PRIVATE) == NULL && attr_bool(o, CKA_PRIVATE, false) < 0))
		goto out;
	*out = o;
	o = NULL;
	rv = CKR_OK;
out:
	cap_object_free(o);
	return rv;
}
