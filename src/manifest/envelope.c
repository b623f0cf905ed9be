#include "envelope.h"

#include "../common/base64.h"
#include "../common/bundle.h"
#include "../common/ecdsa_sig.h"
#include "../common/error.h"
#include "../common/hex.h"
#include "../common/json_strict.h"

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rombsr_manifest_pae(const unsigned char *payload, size_t len, struct rombsr_buf *out)
{
	rombsr_buf_init(out, ROMBSR_MANIFEST_PAYLOAD_MAX + 256);
	rombsr_buf_printf(out, "DSSEv1 %zu %s %zu ", strlen(ROMBSR_MANIFEST_PAYLOAD_TYPE), ROMBSR_MANIFEST_PAYLOAD_TYPE,
			  len);
	rombsr_buf_append(out, payload, len);
	return rombsr_buf_check(out, "signed bytes of the release manifest");
}

int rombsr_manifest_key_check(EVP_PKEY *pub, const char *what)
{
	char group[64] = "";

	if (!EVP_PKEY_is_a(pub, "EC") || EVP_PKEY_get_group_name(pub, group, sizeof(group), NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		ERR_clear_error();
		return rombsr_error(ROMBSR_EINVAL, "%s is not an EC P-256 key: the manifest authority's key is",
				    what);
	}
	return 0;
}

int rombsr_manifest_envelope_encode(const struct rombsr_manifest_envelope *e, struct rombsr_buf *out)
{
	struct rombsr_buf payload, sig;
	json_t *root = NULL;
	char *text = NULL;
	int r;

	rombsr_buf_init(out, ROMBSR_MANIFEST_ENVELOPE_MAX);
	rombsr_buf_init(&payload, ROMBSR_MANIFEST_ENVELOPE_MAX);
	rombsr_buf_init(&sig, 128);
	rombsr_base64_encode(&payload, e->payload, e->payload_len);
	rombsr_base64_encode(&sig, e->sig, e->sig_len);
	r = rombsr_buf_check(&payload, "envelope payload");
	if (r == 0)
		r = rombsr_buf_check(&sig, "envelope signature");
	if (r == 0)
		root = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payload", rombsr_buf_cstr(&payload), "payloadType",
				 ROMBSR_MANIFEST_PAYLOAD_TYPE, "signatures", "keyid", e->keyid, "sig", rombsr_buf_cstr(&sig));
	if (root != NULL)
		text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (text != NULL) {
		rombsr_buf_append_str(out, text);
		rombsr_buf_append(out, "\n", 1);
	}
	if (r == 0)
		r = text != NULL ? rombsr_buf_check(out, "envelope")
				 : rombsr_error(ROMBSR_ENOMEM, "cannot encode the envelope");
	free(text);
	json_decref(root);
	rombsr_buf_free(&payload);
	rombsr_buf_free(&sig);
	return r;
}

int rombsr_manifest_seal(const struct rombsr_buf *payload, EVP_PKEY *pub, const unsigned char *raw, size_t raw_len,
			 struct rombsr_buf *out)
{
	struct rombsr_manifest_envelope e = {.payload = payload->data, .payload_len = payload->len};
	unsigned char *der = NULL;
	size_t der_len = 0;
	int r;

	rombsr_buf_init(out, ROMBSR_MANIFEST_ENVELOPE_MAX);
	if (raw_len != 64)
		return rombsr_error(ROMBSR_EHSM, "the token returned a %zu-byte signature, not a P-256 one (64 bytes)",
				    raw_len);
	r = rombsr_pubkey_spki_sha256(pub, e.keyid);
	if (r == 0)
		r = rombsr_ecdsa_raw_to_der(raw, raw_len, &der, &der_len);
	if (r == 0 && der_len > sizeof(e.sig))
		r = rombsr_error(ROMBSR_EINTERNAL, "a %zu-byte DER signature", der_len);
	if (r == 0) {
		memcpy(e.sig, der, der_len);
		e.sig_len = der_len;
		r = rombsr_manifest_envelope_encode(&e, out);
	}
	OPENSSL_free(der);
	return r;
}

/* Canonical DER only, so an envelope has one encoding of its signature. */
static int read_sig(const json_t *item, struct rombsr_manifest_envelope *e)
{
	const char *text;
	const unsigned char *p = e->sig;
	unsigned char *back = NULL;
	ECDSA_SIG *s = NULL;
	int r = rombsr_json_string(item, "envelope.signatures[0]", "sig", 128, &text), len;

	if (r == 0)
		r = rombsr_base64_decode(text, strlen(text), e->sig, sizeof(e->sig), &e->sig_len,
					 "envelope.signatures[0].sig");
	if (r < 0)
		return r;
	s = d2i_ECDSA_SIG(NULL, &p, (long)e->sig_len);
	len = s != NULL ? i2d_ECDSA_SIG(s, &back) : 0;
	if (s == NULL || p != e->sig + e->sig_len || len != (int)e->sig_len || memcmp(back, e->sig, e->sig_len) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "envelope.signatures[0].sig: not a DER ECDSA signature");
	ERR_clear_error();
	OPENSSL_free(back);
	ECDSA_SIG_free(s);
	return r;
}

static int read_signature(const json_t *root, struct rombsr_manifest_envelope *e)
{
	static const char *const fields[] = {"keyid", "sig", NULL};
	unsigned char id[32];
	const char *keyid;
	json_t *list, *item;
	int r = rombsr_json_array(root, "envelope", "signatures", 16, &list);

	if (r < 0)
		return r;
	if (json_array_size(list) != 1)
		return rombsr_error(ROMBSR_EINVAL, "envelope.signatures: %zu signatures; a release manifest has exactly "
						   "one, the manifest authority's", json_array_size(list));
	item = json_array_get(list, 0);
	if (!json_is_object(item))
		return rombsr_error(ROMBSR_EINVAL, "envelope.signatures[0]: must be an object");
	r = rombsr_json_only(item, "envelope.signatures[0]", fields);
	if (r == 0)
		r = rombsr_json_string(item, "envelope.signatures[0]", "keyid", 64, &keyid);
	if (r == 0)
		r = rombsr_hex_decode(keyid, id, sizeof(id), "envelope.signatures[0].keyid");
	if (r < 0)
		return r;
	memcpy(e->keyid, keyid, sizeof(e->keyid));
	return read_sig(item, e);
}

int rombsr_manifest_envelope_parse(const char *text, size_t len, struct rombsr_manifest_envelope *out)
{
	static const char *const fields[] = {"payload", "payloadType", "signatures", NULL};
	const char *type, *payload;
	json_t *root = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_json_load(text, len, ROMBSR_MANIFEST_ENVELOPE_MAX, "envelope", &root);
	if (r == 0)
		r = rombsr_json_only(root, "envelope", fields);
	if (r == 0)
		r = rombsr_json_string(root, "envelope", "payloadType", 128, &type);
	if (r == 0 && strcmp(type, ROMBSR_MANIFEST_PAYLOAD_TYPE) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "envelope.payloadType: '%s' is not \"%s\"", type,
				 ROMBSR_MANIFEST_PAYLOAD_TYPE);
	if (r == 0)
		r = rombsr_json_string(root, "envelope", "payload", ROMBSR_MANIFEST_ENVELOPE_MAX, &payload);
	if (r == 0 && (out->payload = malloc(strlen(payload) / 4 * 3 + 1)) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0)
		r = rombsr_base64_decode(payload, strlen(payload), out->payload, ROMBSR_MANIFEST_PAYLOAD_MAX,
					 &out->payload_len, "envelope.payload");
	if (r == 0)
		r = read_signature(root, out);
	json_decref(root);
	if (r < 0)
		rombsr_manifest_envelope_free(out);
	return r;
}

void rombsr_manifest_envelope_free(struct rombsr_manifest_envelope *e)
{
	if (e == NULL)
		return;
	free(e->payload);
	e->payload = NULL;
	e->payload_len = 0;
}

/* ROMBSR_ESECURITY for a signature that does not verify; ECRYPTO only when
 * OpenSSL cannot even try. */
static int verify_signature(const struct rombsr_manifest_envelope *e, EVP_PKEY *pub)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	struct rombsr_buf pae;
	int r = rombsr_manifest_pae(e->payload, e->payload_len, &pae), ok;

	if (r == 0 && (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) != 1))
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "cannot set up an ECDSA verification");
	if (r == 0) {
		ok = EVP_DigestVerify(ctx, e->sig, e->sig_len, pae.data, pae.len) == 1;
		ERR_clear_error();
		if (!ok)
			r = rombsr_error(ROMBSR_ESECURITY, "the signature does not verify with the manifest key "
							   "(the manifest or its signature was altered)");
	}
	EVP_MD_CTX_free(ctx);
	rombsr_buf_free(&pae);
	return r;
}

int rombsr_release_manifest_open(const char *text, size_t len, EVP_PKEY *pub, struct rombsr_release_manifest *out)
{
	struct rombsr_manifest_envelope e;
	char fpr[65];
	int r;

	memset(out, 0, sizeof(*out));
	r = rombsr_pubkey_spki_sha256(pub, fpr);
	if (r < 0)
		return r;
	r = rombsr_manifest_envelope_parse(text, len, &e);
	if (r == ROMBSR_EINVAL || r == ROMBSR_EUNSUPPORTED)
		return rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "malformed envelope");
	if (r < 0)
		return r;
	if (strcmp(e.keyid, fpr) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "signed by key %.16s..., not by the manifest key %.16s...", e.keyid,
				 fpr);
	if (r == 0)
		r = verify_signature(&e, pub);
	if (r == 0) {
		r = rombsr_release_manifest_parse((const char *)e.payload, e.payload_len, out);
		if (r == ROMBSR_EINVAL || r == ROMBSR_EUNSUPPORTED)
			r = rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "signed but malformed manifest");
	}
	rombsr_manifest_envelope_free(&e);
	return r;
}
