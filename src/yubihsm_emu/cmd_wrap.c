/* Wrap keys and wrapped objects: Generate and Put Wrap Key, Export Wrapped
 * and Import Wrapped. A wrapped object is nonce(13) || AES-CCM ciphertext ||
 * tag(16) over the layout Yubico's yubihsm-wrap writes: a 59-byte header
 * (wrap key algorithm, capabilities, id, body length, domains, type,
 * algorithm, sequence, origin, label) then the body (delegated
 * capabilities first for authentication and wrap keys, then the key in the
 * device's layout). */
#include "asym_key.h"
#include "cmds.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define NEW_HEADER 53
#define HEADER EMU_WRAP_HEADER_LEN
#define NONCE EMU_WRAP_NONCE_LEN
#define TAG EMU_WRAP_TAG_LEN

static size_t wrap_key_len(uint8_t algorithm)
{
	switch (algorithm) {
	case YH_ALGO_AES128_CCM_WRAP: return 16;
	case YH_ALGO_AES192_CCM_WRAP: return 24;
	case YH_ALGO_AES256_CCM_WRAP: return 32;
	default: return 0;
	}
}

static uint8_t new_wrap(struct emu_ctx *c, const uint8_t *in, const uint8_t *key, uint8_t origin, uint8_t *out,
			size_t *out_len)
{
	struct emu_object o;
	uint8_t error;

	emu_parse_new(in, &o);
	o.delegated = emu_get_u64(in + NEW_HEADER);
	error = emu_check_new(c, o.domains, o.capabilities, o.delegated);
	if (error != YH_ERR_OK)
		return error;
	o.type = YH_TYPE_WRAP_KEY;
	o.origin = origin;
	return emu_store_new(c, &o, key, wrap_key_len(o.algorithm), out, out_len);
}

EMU_HANDLER(emu_cmd_generate_wrap)
{
	uint8_t key[32];
	uint8_t error;

	if (len != NEW_HEADER + 8)
		return YH_ERR_WRONG_LENGTH;
	if (wrap_key_len(in[52]) == 0)
		return YH_ERR_INVALID_DATA;
	if (RAND_bytes(key, sizeof(key)) != 1)
		return YH_ERR_COMMAND_UNEXECUTED;
	error = new_wrap(c, in, key, YH_ORIGIN_GENERATED, out, out_len);
	OPENSSL_cleanse(key, sizeof(key));
	return error;
}

EMU_HANDLER(emu_cmd_put_wrap)
{
	if (len < NEW_HEADER + 8 || wrap_key_len(in[52]) == 0)
		return len < NEW_HEADER + 8 ? YH_ERR_WRONG_LENGTH : YH_ERR_INVALID_DATA;
	if (len != NEW_HEADER + 8 + wrap_key_len(in[52]))
		return YH_ERR_WRONG_LENGTH;
	return new_wrap(c, in, in + NEW_HEADER + 8, YH_ORIGIN_IMPORTED, out, out_len);
}

static const EVP_CIPHER *ccm(size_t key_len)
{
	return key_len == 16 ? EVP_aes_128_ccm() : key_len == 24 ? EVP_aes_192_ccm() : EVP_aes_256_ccm();
}

/* AES-CCM with a 13-byte nonce and a 16-byte tag, no associated data.
 * Sealing: in -> ct || tag; opening: ct || tag -> in. 0 or -1. */
static int ccm_run(const struct emu_object *wrap, const uint8_t nonce[NONCE], const uint8_t *in, size_t len,
		   uint8_t *out, bool seal)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	size_t n = seal ? len : len - TAG;
	int outl = 0, r = -1;

	if (ctx == NULL || (!seal && len < TAG) || n > INT32_MAX)
		goto out;
	if (EVP_CipherInit_ex(ctx, ccm(wrap->len), NULL, NULL, NULL, seal ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_IVLEN, NONCE, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_SET_TAG, TAG, seal ? NULL : (void *)(in + n)) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, wrap->data, nonce, -1) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)n) != 1 || EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1)
		goto out;
	if (seal && (EVP_CipherFinal_ex(ctx, out + outl, &outl) != 1 ||
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_CCM_GET_TAG, TAG, out + n) != 1))
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

static bool has_delegated(uint8_t type)
{
	return type == YH_TYPE_AUTHENTICATION_KEY || type == YH_TYPE_WRAP_KEY;
}

/* The wrap key a command names, holding capability, within the domains. */
static const struct emu_object *wrap_for(struct emu_ctx *c, uint16_t id, int capability, uint8_t *error)
{
	const struct emu_object *w = emu_object_find(c->dev, id, YH_TYPE_WRAP_KEY);

	c->target_key = id;
	if (w == NULL || !emu_domains_ok(c, w)) {
		*error = YH_ERR_OBJECT_NOT_FOUND;
		return NULL;
	}
	if ((w->capabilities & YH_CAP(capability)) == 0) {
		*error = YH_ERR_INSUFFICIENT_PERMISSIONS;
		return NULL;
	}
	return w;
}

static size_t plaintext(const struct emu_object *w, const struct emu_object *o, uint8_t *p)
{
	size_t body = o->len + (has_delegated(o->type) ? 8 : 0);
	uint8_t *b = p + HEADER;

	p[0] = w->algorithm;
	emu_put_u64(p + 1, o->capabilities);
	emu_put_u16(p + 9, o->id);
	emu_put_u16(p + 11, (uint16_t)body);
	emu_put_u16(p + 13, o->domains);
	p[15] = o->type;
	p[16] = o->algorithm;
	p[17] = o->sequence;
	p[18] = o->origin;
	memcpy(p + 19, o->label, YH_LABEL_LEN);
	if (has_delegated(o->type)) {
		emu_put_u64(b, o->delegated);
		b += 8;
	}
	memcpy(b, o->data, o->len);
	return HEADER + body;
}

EMU_HANDLER(emu_cmd_export_wrapped)
{
	uint8_t plain[HEADER + 8 + EMU_INNER_MAX];
	const struct emu_object *w, *o;
	uint8_t error = YH_ERR_OK;
	size_t n;

	if (len != 5 && !(len == 6 && in[5] == 0))
		return YH_ERR_WRONG_LENGTH;
	w = wrap_for(c, emu_get_u16(in), YH_CAP_EXPORT_WRAPPED, &error);
	if (w == NULL)
		return error;
	o = emu_object_find(c->dev, emu_get_u16(in + 3), in[2]);
	c->second_key = emu_get_u16(in + 3);
	if (o == NULL || !emu_domains_ok(c, o))
		return YH_ERR_OBJECT_NOT_FOUND;
	/* The object must allow it, and the wrap key may carry only what it
	 * could give back on import. */
	if ((o->capabilities & YH_CAP(YH_CAP_EXPORTABLE_UNDER_WRAP)) == 0 ||
	    (o->capabilities & ~w->delegated) != 0)
		return YH_ERR_INSUFFICIENT_PERMISSIONS;
	if (o->len + HEADER + 8 + NONCE + TAG > *out_len)
		return YH_ERR_INVALID_DATA;
	n = plaintext(w, o, plain);
	if (RAND_bytes(out, NONCE) != 1 || ccm_run(w, out, plain, n, out + NONCE, true) != 0)
		error = YH_ERR_COMMAND_UNEXECUTED;
	OPENSSL_cleanse(plain, sizeof(plain));
	*out_len = NONCE + n + TAG;
	return error;
}

/* Checks a decrypted object against its wrap key and fills o (o->data
 * points into plain). */
static uint8_t parse_plaintext(const struct emu_object *w, const uint8_t *p, size_t n, struct emu_object *o)
{
	size_t body, key_len;

	memset(o, 0, sizeof(*o));
	if (n < HEADER || p[0] != w->algorithm)
		return YH_ERR_INVALID_DATA;
	o->capabilities = emu_get_u64(p + 1);
	o->id = emu_get_u16(p + 9);
	body = emu_get_u16(p + 11);
	o->domains = emu_get_u16(p + 13);
	o->type = p[15];
	o->algorithm = p[16];
	o->sequence = p[17];
	o->origin = (uint8_t)(p[18] | YH_ORIGIN_IMPORTED_WRAPPED);
	memcpy(o->label, p + 19, YH_LABEL_LEN);
	if (body != n - HEADER || o->id == 0 || o->domains == 0)
		return YH_ERR_INVALID_DATA;
	key_len = body - (has_delegated(o->type) ? 8 : 0);
	if (has_delegated(o->type)) {
		if (body < 8)
			return YH_ERR_INVALID_DATA;
		o->delegated = emu_get_u64(p + HEADER);
	}
	switch (o->type) {
	case YH_TYPE_AUTHENTICATION_KEY:
		if (o->algorithm != YH_ALGO_AES128_YUBICO_AUTHENTICATION || key_len != 2 * YH_SCP_KEY_LEN)
			return YH_ERR_INVALID_DATA;
		break;
	case YH_TYPE_WRAP_KEY:
		if (wrap_key_len(o->algorithm) == 0 || key_len != wrap_key_len(o->algorithm))
			return YH_ERR_INVALID_DATA;
		break;
	case YH_TYPE_ASYMMETRIC_KEY: {
		EVP_PKEY *pkey = emu_asym_pkey(o->algorithm, p + n - key_len, key_len);

		EVP_PKEY_free(pkey);
		if (pkey == NULL)
			return YH_ERR_INVALID_DATA;
		break;
	}
	case YH_TYPE_OPAQUE:
		if (key_len == 0)
			return YH_ERR_INVALID_DATA;
		break;
	default:
		return YH_ERR_INVALID_DATA;
	}
	o->data = (uint8_t *)(p + n - key_len);
	o->len = key_len;
	return (o->capabilities & ~w->delegated) != 0 ? YH_ERR_INSUFFICIENT_PERMISSIONS : YH_ERR_OK;
}

EMU_HANDLER(emu_cmd_import_wrapped)
{
	uint8_t plain[EMU_INNER_MAX];
	const struct emu_object *w;
	struct emu_object o;
	uint8_t error = YH_ERR_OK;
	size_t n;

	if (len < 2 + NONCE + HEADER + TAG)
		return YH_ERR_WRONG_LENGTH;
	w = wrap_for(c, emu_get_u16(in), YH_CAP_IMPORT_WRAPPED, &error);
	if (w == NULL)
		return error;
	n = len - 2 - NONCE - TAG;
	if (n > sizeof(plain))
		return YH_ERR_WRONG_LENGTH;
	if (ccm_run(w, in + 2, in + 2 + NONCE, n + TAG, plain, false) != 0)
		error = YH_ERR_INVALID_DATA;
	if (error == YH_ERR_OK)
		error = parse_plaintext(w, plain, n, &o);
	if (error == YH_ERR_OK) {
		uint8_t id[2];
		size_t id_len = sizeof(id);

		c->second_key = o.id;
		/* emu_store_new copies the data out of plain. */
		error = emu_store_new(c, &o, o.data, o.len, id, &id_len);
		c->target_key = emu_get_u16(in);
		if (error == YH_ERR_OK) {
			out[0] = o.type;
			memcpy(out + 1, id, 2);
			*out_len = 3;
		}
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return error;
}
