/* Asymmetric keys: Generate and Put Asymmetric Key, Get Public Key and the
 * three signatures. The device signs a digest the host computed: PKCS#1
 * v1.5 adds the DigestInfo by the digest's length (any other length is
 * signed as given, already encoded), PSS takes the hash from the length
 * and MGF1 and salt length from the command, ECDSA answers DER. */
#include "asym_key.h"
#include "cmds.h"

#include <openssl/crypto.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#define NEW_HEADER 53

static uint8_t create(struct emu_ctx *c, const uint8_t *in, uint8_t origin, uint8_t *data, size_t n, uint8_t *out,
		      size_t *out_len)
{
	struct emu_object o;
	uint8_t error;

	emu_parse_new(in, &o);
	o.type = YH_TYPE_ASYMMETRIC_KEY;
	o.origin = origin;
	error = emu_store_new(c, &o, data, n, out, out_len);
	OPENSSL_clear_free(data, n);
	return error;
}

static uint8_t check_new_asym(struct emu_ctx *c, const uint8_t *in)
{
	struct emu_object o;

	emu_parse_new(in, &o);
	if (emu_asym_size(o.algorithm) == 0)
		return YH_ERR_INVALID_DATA;
	return emu_check_new(c, o.domains, o.capabilities, 0);
}

EMU_HANDLER(emu_cmd_generate_asym)
{
	uint8_t *data = NULL;
	size_t n = 0;
	uint8_t error;

	if (len != NEW_HEADER)
		return YH_ERR_WRONG_LENGTH;
	error = check_new_asym(c, in);
	if (error != YH_ERR_OK)
		return error;
	if (emu_asym_generate(in[52], &data, &n) != 0)
		return YH_ERR_COMMAND_UNEXECUTED;
	return create(c, in, YH_ORIGIN_GENERATED, data, n, out, out_len);
}

EMU_HANDLER(emu_cmd_put_asym)
{
	uint8_t *data = NULL;
	size_t n = 0;
	uint8_t error;

	if (len <= NEW_HEADER)
		return YH_ERR_WRONG_LENGTH;
	error = check_new_asym(c, in);
	if (error != YH_ERR_OK)
		return error;
	if (len - NEW_HEADER != emu_asym_size(in[52]))
		return YH_ERR_WRONG_LENGTH;
	if (emu_asym_import(in[52], in + NEW_HEADER, len - NEW_HEADER, &data, &n) != 0)
		return YH_ERR_INVALID_DATA;
	return create(c, in, YH_ORIGIN_IMPORTED, data, n, out, out_len);
}

static const struct emu_object *key_for(struct emu_ctx *c, uint16_t id, int capability, uint8_t *error)
{
	const struct emu_object *o = emu_object_find(c->dev, id, YH_TYPE_ASYMMETRIC_KEY);

	c->target_key = id;
	if (o == NULL || !emu_domains_ok(c, o)) {
		*error = YH_ERR_OBJECT_NOT_FOUND;
		return NULL;
	}
	if (capability >= 0 && (o->capabilities & YH_CAP(capability)) == 0) {
		*error = YH_ERR_INSUFFICIENT_PERMISSIONS;
		return NULL;
	}
	return o;
}

EMU_HANDLER(emu_cmd_public_key)
{
	const struct emu_object *o;
	const uint8_t *pub = NULL;
	uint8_t error = YH_ERR_OK;
	size_t n;

	/* The type byte is optional: asymmetric keys only here. */
	if (len != 2 && !(len == 3 && in[2] == YH_TYPE_ASYMMETRIC_KEY))
		return YH_ERR_WRONG_LENGTH;
	o = key_for(c, emu_get_u16(in), -1, &error);
	if (o == NULL)
		return error;
	n = emu_asym_public(o->algorithm, o->data, o->len, &pub);
	if (n == 0 || n + 1 > *out_len)
		return YH_ERR_INVALID_DATA;
	out[0] = o->algorithm;
	memcpy(out + 1, pub, n);
	*out_len = n + 1;
	return YH_ERR_OK;
}

static const EVP_MD *md_for_length(size_t n)
{
	switch (n) {
	case 20: return EVP_sha1();
	case 32: return EVP_sha256();
	case 48: return EVP_sha384();
	case 64: return EVP_sha512();
	default: return NULL;
	}
}

static const EVP_MD *md_for_mgf1(uint8_t algorithm)
{
	switch (algorithm) {
	case YH_ALGO_MGF1_SHA1: return EVP_sha1();
	case YH_ALGO_MGF1_SHA256: return EVP_sha256();
	case YH_ALGO_MGF1_SHA384: return EVP_sha384();
	case YH_ALGO_MGF1_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

struct sign_request {
	int padding; /* RSA_PKCS1_PADDING, RSA_PKCS1_PSS_PADDING, 0 for ECDSA */
	const EVP_MD *md;
	const EVP_MD *mgf1;
	int salt_len;
};

static uint8_t sign(const struct emu_object *o, const struct sign_request *q, const uint8_t *digest, size_t n,
		    uint8_t *out, size_t *out_len)
{
	EVP_PKEY *pkey = emu_asym_pkey(o->algorithm, o->data, o->len);
	EVP_PKEY_CTX *ctx = pkey != NULL ? EVP_PKEY_CTX_new(pkey, NULL) : NULL;
	uint8_t error = YH_ERR_INVALID_DATA;
	size_t room = *out_len;

	if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1)
		goto out;
	if (q->padding != 0 && EVP_PKEY_CTX_set_rsa_padding(ctx, q->padding) != 1)
		goto out;
	if (q->md != NULL && EVP_PKEY_CTX_set_signature_md(ctx, q->md) != 1)
		goto out;
	if (q->padding == RSA_PKCS1_PSS_PADDING && (EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, q->mgf1) != 1 ||
						    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, q->salt_len) != 1))
		goto out;
	if (EVP_PKEY_sign(ctx, out, &room, digest, n) != 1)
		goto out;
	*out_len = room;
	error = YH_ERR_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return error;
}

EMU_HANDLER(emu_cmd_sign_pkcs1)
{
	struct sign_request q = {RSA_PKCS1_PADDING, NULL, NULL, 0};
	const struct emu_object *o;
	uint8_t error = YH_ERR_OK;

	if (len < 3)
		return YH_ERR_WRONG_LENGTH;
	o = key_for(c, emu_get_u16(in), YH_CAP_SIGN_PKCS, &error);
	if (o == NULL)
		return error;
	if (!emu_asym_is_rsa(o->algorithm))
		return YH_ERR_INVALID_DATA;
	q.md = md_for_length(len - 2);
	if (q.md == NULL && len - 2 > emu_asym_size(o->algorithm) - 11)
		return YH_ERR_WRONG_LENGTH;
	return sign(o, &q, in + 2, len - 2, out, out_len);
}

EMU_HANDLER(emu_cmd_sign_pss)
{
	struct sign_request q = {RSA_PKCS1_PSS_PADDING, NULL, NULL, 0};
	const struct emu_object *o;
	uint8_t error = YH_ERR_OK;

	if (len < 5)
		return YH_ERR_WRONG_LENGTH;
	o = key_for(c, emu_get_u16(in), YH_CAP_SIGN_PSS, &error);
	if (o == NULL)
		return error;
	if (!emu_asym_is_rsa(o->algorithm))
		return YH_ERR_INVALID_DATA;
	q.md = md_for_length(len - 5);
	q.mgf1 = md_for_mgf1(in[2]);
	q.salt_len = emu_get_u16(in + 3);
	if (q.md == NULL)
		return YH_ERR_WRONG_LENGTH;
	if (q.mgf1 == NULL)
		return YH_ERR_INVALID_DATA;
	return sign(o, &q, in + 5, len - 5, out, out_len);
}

EMU_HANDLER(emu_cmd_sign_ecdsa)
{
	struct sign_request q = {0, NULL, NULL, 0};
	const struct emu_object *o;
	uint8_t error = YH_ERR_OK;

	if (len < 3)
		return YH_ERR_WRONG_LENGTH;
	o = key_for(c, emu_get_u16(in), YH_CAP_SIGN_ECDSA, &error);
	if (o == NULL)
		return error;
	if (emu_asym_is_rsa(o->algorithm))
		return YH_ERR_INVALID_DATA;
	if (md_for_length(len - 2) == NULL)
		return YH_ERR_WRONG_LENGTH;
	return sign(o, &q, in + 2, len - 2, out, out_len);
}
