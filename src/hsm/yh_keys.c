/* Keys and certificates on a YubiHSM 2: found by label, generated on the
 * device, their public keys read back as OpenSSL keys. */
#define _GNU_SOURCE
#include "yh_backend.h"

#include "../common/error.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int key_shape(uint8_t algorithm, enum rombsr_key_kind *kind, unsigned *bits)
{
	switch (algorithm) {
	case YH_ALGO_RSA_2048:
	case YH_ALGO_RSA_3072:
	case YH_ALGO_RSA_4096:
		*kind = ROMBSR_KEY_RSA;
		*bits = algorithm == YH_ALGO_RSA_2048 ? 2048 : algorithm == YH_ALGO_RSA_3072 ? 3072 : 4096;
		return 0;
	case YH_ALGO_EC_P256:
		*kind = ROMBSR_KEY_EC_P256;
		*bits = 256;
		return 0;
	case YH_ALGO_EC_P384:
		*kind = ROMBSR_KEY_EC_P384;
		*bits = 384;
		return 0;
	default:
		return rombsr_error(ROMBSR_EUNSUPPORTED, "YubiHSM key algorithm %u is neither RSA nor EC P-256/P-384",
				    algorithm);
	}
}

static int key_algorithm(enum rombsr_key_kind kind, unsigned bits, uint8_t *algorithm)
{
	if (kind == ROMBSR_KEY_EC_P256)
		*algorithm = YH_ALGO_EC_P256;
	else if (kind == ROMBSR_KEY_EC_P384)
		*algorithm = YH_ALGO_EC_P384;
	else if (bits == 2048 || bits == 3072 || bits == 4096)
		*algorithm = bits == 2048 ? YH_ALGO_RSA_2048 : bits == 3072 ? YH_ALGO_RSA_3072 : YH_ALGO_RSA_4096;
	else
		return rombsr_error(ROMBSR_EUNSUPPORTED, "a YubiHSM 2 makes RSA keys of 2048, 3072 or 4096 bits, not %u",
				    bits);
	return 0;
}

struct list_ctx {
	uint8_t type;
	struct rombsr_yh_object_info *info;
	size_t n;
};

static int list_on(struct rombsr_yh_session *s, void *ctx)
{
	struct list_ctx *l = ctx;
	const struct rombsr_yh_filter filter = {.type = l->type};
	struct rombsr_yh_object *objects = NULL;
	size_t n = 0;
	int r = rombsr_yh_list_objects(s, &filter, &objects, &n);

	free(l->info);
	l->info = NULL;
	l->n = 0;
	if (r == 0 && (l->info = calloc(n + 1, sizeof(*l->info))) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && r == 0; i++)
		r = rombsr_yh_object_info(s, objects[i].id, objects[i].type, &l->info[i]);
	free(objects);
	if (r == 0)
		l->n = n;
	return r;
}

int rombsr_yh_hsm_list(struct rombsr_hsm *hsm, uint8_t type, struct rombsr_yh_object_info **out, size_t *count)
{
	struct list_ctx l = {.type = type};
	int r = rombsr_yh_hsm_run(hsm, list_on, &l);

	*out = NULL;
	*count = 0;
	if (r < 0) {
		free(l.info);
		return r;
	}
	*out = l.info;
	*count = l.n;
	return 0;
}

static int match_keys(struct rombsr_hsm *hsm, const struct rombsr_yh_object_info *info, size_t count,
		      const char *const *labels, size_t n, bool retired, struct rombsr_hsm_key *keys, bool *found)
{
	int r = 0;

	for (size_t i = 0; i < count && r == 0; i++) {
		char text[ROMBSR_HSM_LABEL_MAX + 1] = "";
		size_t k = rombsr_hsm_match_label(labels, n, retired, (const unsigned char *)info[i].label,
						  strlen(info[i].label), text);

		if (k == SIZE_MAX)
			continue;
		if (found[k])
			return rombsr_error(ROMBSR_EINVAL, "more than one key labelled '%s' in %s",
					    k < n ? labels[k] : text, hsm->token_label);
		found[k] = true;
		keys[k].private_key = ROMBSR_YH_HANDLE(YH_TYPE_ASYMMETRIC_KEY, info[i].id);
		keys[k].public_key = keys[k].private_key;
		keys[k].id[0] = (unsigned char)(info[i].id >> 8);
		keys[k].id[1] = (unsigned char)info[i].id;
		keys[k].id_len = 2;
		snprintf(keys[k].label, sizeof(keys[k].label), "%s", k < n ? labels[k] : text);
		r = key_shape(info[i].algorithm, &keys[k].kind, &keys[k].bits);
	}
	return r;
}

int rombsr_yh_hsm_find_keys(struct rombsr_hsm *hsm, const char *const *labels, size_t n, bool retired,
			struct rombsr_hsm_key *keys, bool *found)
{
	struct rombsr_yh_object_info *info = NULL, *opaque = NULL;
	size_t slots = retired ? 2 * n : n, count = 0, nopaque = 0;
	int r;

	for (size_t k = 0; k < slots; k++) {
		memset(&keys[k], 0, sizeof(keys[k]));
		found[k] = false;
	}
	r = rombsr_yh_hsm_list(hsm, YH_TYPE_ASYMMETRIC_KEY, &info, &count);
	if (r == 0)
		r = match_keys(hsm, info, count, labels, n, retired, keys, found);
	if (r == 0)
		r = rombsr_yh_hsm_list(hsm, YH_TYPE_OPAQUE, &opaque, &nopaque);
	/* A key's certificate is the X.509 opaque object with its ID. */
	for (size_t i = 0; i < nopaque && r == 0; i++)
		for (size_t k = 0; k < slots; k++)
			if (found[k] && opaque[i].algorithm == YH_ALGO_OPAQUE_X509_CERTIFICATE &&
			    ROMBSR_YH_HANDLE_ID(keys[k].private_key) == opaque[i].id)
				keys[k].certificate = ROMBSR_YH_HANDLE(YH_TYPE_OPAQUE, opaque[i].id);
	free(info);
	free(opaque);
	return r;
}

static int rsa_from_modulus(const uint8_t *n, size_t n_len, EVP_PKEY **out)
{
	static const unsigned char e[] = {0x01, 0x00, 0x01}; /* the device's exponent, always 65537 */
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(n, (int)n_len, NULL), *be = BN_bin2bn(e, sizeof(e), NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	int r = 0;

	if (bld == NULL || bn == NULL || be == NULL || ctx == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) || (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot make an RSA public key from the device's modulus");
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int ec_from_point(enum rombsr_key_kind kind, const uint8_t *xy, size_t xy_len, EVP_PKEY **out)
{
	unsigned char point[1 + 2 * 48];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	int r = 0;

	if (xy_len != 2 * rombsr_key_kind_ec_bytes(kind))
		return rombsr_error(ROMBSR_EHSM, "the device gave a %zu-byte %s public key", xy_len,
				    rombsr_key_kind_text(kind));
	point[0] = 0x04; /* uncompressed */
	memcpy(point + 1, xy, xy_len);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)rombsr_key_kind_ec_group(kind), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + xy_len);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot make an EC public key from the device's point");
	EVP_PKEY_CTX_free(ctx);
	return r;
}

struct public_ctx {
	uint16_t id;
	uint8_t algorithm;
	uint8_t *raw;
	size_t raw_len;
};

static int public_on(struct rombsr_yh_session *s, void *ctx)
{
	struct public_ctx *p = ctx;

	free(p->raw);
	p->raw = NULL;
	return rombsr_yh_public_key(s, p->id, &p->algorithm, &p->raw, &p->raw_len);
}

int rombsr_yh_hsm_public_key(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, EVP_PKEY **out)
{
	struct public_ctx p = {.id = ROMBSR_YH_HANDLE_ID(key->private_key)};
	enum rombsr_key_kind kind;
	uint8_t *raw;
	size_t raw_len;
	unsigned bits;
	int r = rombsr_yh_hsm_run(hsm, public_on, &p);

	*out = NULL;
	raw = p.raw;
	raw_len = p.raw_len;
	if (r == 0)
		r = key_shape(p.algorithm, &kind, &bits);
	if (r == 0 && (kind != key->kind || bits != key->bits))
		r = rombsr_error(ROMBSR_EHSM, "key '%s' changed its algorithm on %s", key->label, hsm->token_label);
	if (r == 0)
		r = kind == ROMBSR_KEY_RSA ? rsa_from_modulus(raw, raw_len, out) : ec_from_point(kind, raw, raw_len, out);
	free(raw);
	return r;
}

struct new_ctx {
	const struct rombsr_yh_new_object *o;
	const unsigned char *data;
	size_t len;
	uint16_t id;
};

static int generate_on(struct rombsr_yh_session *s, void *ctx)
{
	struct new_ctx *g = ctx;

	return rombsr_yh_generate_asymmetric(s, g->o, &g->id);
}

static int put_opaque_on(struct rombsr_yh_session *s, void *ctx)
{
	struct new_ctx *g = ctx;

	return rombsr_yh_put_opaque(s, g->o, g->data, g->len, &g->id);
}

int rombsr_yh_hsm_reserve_id(struct rombsr_hsm *hsm, const unsigned char *id, size_t id_len)
{
	uint16_t *grown;

	if (id_len != 2)
		return rombsr_error(ROMBSR_EINVAL, "a %zu-byte key ID cannot be a YubiHSM's", id_len);
	grown = realloc(hsm->yh->reserved, (hsm->yh->nreserved + 1) * sizeof(*grown));
	if (grown == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	hsm->yh->reserved = grown;
	grown[hsm->yh->nreserved++] = (uint16_t)(id[0] << 8 | id[1]);
	return 0;
}

struct objects_ctx {
	struct rombsr_yh_object *objects;
	size_t n;
};

static int objects_on(struct rombsr_yh_session *s, void *ctx)
{
	const struct rombsr_yh_filter all = {0};
	struct objects_ctx *l = ctx;

	free(l->objects);
	l->objects = NULL;
	return rombsr_yh_list_objects(s, &all, &l->objects, &l->n);
}

/* The lowest ID no key or certificate on the device has and no key kept
 * wrapped on disk will come back under: the device's own choice (ID 0)
 * could hand an evicted key's ID to a new one. */
static int free_key_id(struct rombsr_hsm *hsm, uint16_t *id)
{
	struct objects_ctx l = {0};
	int r = rombsr_yh_hsm_run(hsm, objects_on, &l);

	for (uint32_t candidate = 1; r == 0 && candidate <= 0xffff; candidate++) {
		bool taken = false;

		for (size_t i = 0; i < l.n && !taken; i++)
			taken = l.objects[i].id == candidate &&
				(l.objects[i].type == YH_TYPE_ASYMMETRIC_KEY || l.objects[i].type == YH_TYPE_OPAQUE);
		for (size_t i = 0; i < hsm->yh->nreserved && !taken; i++)
			taken = hsm->yh->reserved[i] == candidate;
		if (!taken) {
			*id = (uint16_t)candidate;
			free(l.objects);
			return 0;
		}
	}
	free(l.objects);
	return r < 0 ? r : rombsr_error(ROMBSR_EHSM, "%s has no free key ID", hsm->token_label);
}

/* Seed 000's rule: a signing key signs and leaves the device only wrapped
 * under a wrap key (docs/yubihsm.md, "Capabilities"). */
int rombsr_yh_hsm_generate_key(struct rombsr_hsm *hsm, const char *label, enum rombsr_key_kind kind, unsigned bits,
			   unsigned flags, struct rombsr_hsm_key *key)
{
	struct rombsr_yh_new_object o = {.label = label, .domains = ROMBSR_YH_DOMAINS};
	struct new_ctx g = {0};
	bool found = false;
	uint16_t id = 0;
	int r;

	(void)flags; /* every key on the device is exportable under wrap, and only so */
	if (strlen(label) > YH_LABEL_LEN)
		return rombsr_error(ROMBSR_EINVAL, "label '%s' is longer than a YubiHSM's %d bytes", label, YH_LABEL_LEN);
	r = key_algorithm(kind, bits, &o.algorithm);
	if (r == 0)
		r = rombsr_yh_hsm_find_keys(hsm, &label, 1, false, key, &found);
	if (r == 0 && found)
		return rombsr_error(ROMBSR_EEXISTS, "%s already holds a key labelled '%s'", hsm->token_label, label);
	if (r == 0)
		r = free_key_id(hsm, &o.id);
	if (r < 0)
		return r;
	o.capabilities = YH_CAP(YH_CAP_EXPORTABLE_UNDER_WRAP) |
			 (kind == ROMBSR_KEY_RSA ? YH_CAP(YH_CAP_SIGN_PKCS) | YH_CAP(YH_CAP_SIGN_PSS)
						 : YH_CAP(YH_CAP_SIGN_ECDSA));
	g.o = &o;
	r = rombsr_yh_hsm_run(hsm, generate_on, &g);
	id = g.id;
	if (r < 0)
		return rombsr_error_wrap(r, "generating '%s' on %s", label, hsm->token_label);
	memset(key, 0, sizeof(*key));
	key->private_key = ROMBSR_YH_HANDLE(YH_TYPE_ASYMMETRIC_KEY, id);
	key->public_key = key->private_key;
	key->kind = kind;
	key->bits = bits;
	key->id[0] = (unsigned char)(id >> 8);
	key->id[1] = (unsigned char)id;
	key->id_len = 2;
	snprintf(key->label, sizeof(key->label), "%s", label);
	return 0;
}

int rombsr_yh_hsm_store_certificate(struct rombsr_hsm *hsm, struct rombsr_hsm_key *key, const unsigned char *der,
				size_t der_len)
{
	struct rombsr_yh_new_object o = {
		.id = ROMBSR_YH_HANDLE_ID(key->private_key),
		.label = key->label,
		.domains = ROMBSR_YH_DOMAINS,
		.capabilities = 0,
		.algorithm = YH_ALGO_OPAQUE_X509_CERTIFICATE,
	};
	struct new_ctx g = {.o = &o, .data = der, .len = der_len};
	int r = rombsr_yh_hsm_run(hsm, put_opaque_on, &g);

	if (r < 0)
		return rombsr_error_wrap(r, "storing the certificate of '%s'", key->label);
	key->certificate = ROMBSR_YH_HANDLE(YH_TYPE_OPAQUE, o.id);
	return 0;
}

struct object_ctx {
	CK_OBJECT_HANDLE object;
	unsigned char *value;
	size_t len;
};

static int get_opaque_on(struct rombsr_yh_session *s, void *ctx)
{
	struct object_ctx *o = ctx;

	free(o->value);
	o->value = NULL;
	return rombsr_yh_get_opaque(s, ROMBSR_YH_HANDLE_ID(o->object), &o->value, &o->len);
}

static int delete_on(struct rombsr_yh_session *s, void *ctx)
{
	struct object_ctx *o = ctx;

	return rombsr_yh_delete_object(s, ROMBSR_YH_HANDLE_ID(o->object), ROMBSR_YH_HANDLE_TYPE(o->object));
}

/* Only what callers read of a certificate: its DER. */
int rombsr_yh_hsm_get_attribute(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type,
			    unsigned char **value, size_t *len)
{
	struct object_ctx o = {.object = object};
	int r;

	if (type != CKA_VALUE || ROMBSR_YH_HANDLE_TYPE(object) != YH_TYPE_OPAQUE)
		return rombsr_error(ROMBSR_EUNSUPPORTED, "%s: attribute 0x%lx of object 0x%lx is not readable natively",
				    hsm->token_label, (unsigned long)type, (unsigned long)object);
	r = rombsr_yh_hsm_run(hsm, get_opaque_on, &o);
	*value = o.value;
	*len = o.len;
	return r;
}

int rombsr_yh_hsm_destroy_object(struct rombsr_hsm *hsm, CK_OBJECT_HANDLE object)
{
	struct object_ctx o = {.object = object};

	return rombsr_yh_hsm_run(hsm, delete_on, &o);
}
