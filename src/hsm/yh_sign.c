/* PKCS#11 signing mechanisms on a YubiHSM 2's own commands. The signer
 * speaks PKCS#11's raw mechanisms (it replays what a client asked for);
 * the device signs digests. So CKM_RSA_PKCS's DigestInfo is taken apart
 * (the device puts it back by the digest's length: the signature is the
 * same bytes), CKM_RSA_PKCS_PSS becomes Sign PSS with the same MGF1 and
 * salt, and CKM_ECDSA's answer, DER on the device, becomes PKCS#11's r||s.
 * Anything else is refused, never approximated. */
#include "yh_backend.h"

#include "../common/error.h"

#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <string.h>

/* The digest inside a DigestInfo, which must name the hash of its length. */
static int digest_info_digest(const unsigned char *data, size_t len, unsigned char *digest, size_t *digest_len)
{
	const unsigned char *p = data;
	X509_SIG *info = d2i_X509_SIG(NULL, &p, (long)len);
	const X509_ALGOR *alg = NULL;
	const ASN1_OCTET_STRING *value = NULL;
	const ASN1_OBJECT *oid = NULL;
	int nid, r = 0;

	if (info == NULL || p != data + len)
		r = rombsr_error(ROMBSR_EUNSUPPORTED, "a YubiHSM signs CKM_RSA_PKCS over a DigestInfo only");
	if (r == 0) {
		X509_SIG_get0(info, &alg, &value);
		X509_ALGOR_get0(&oid, NULL, NULL, alg);
		nid = OBJ_obj2nid(oid);
		if (!((nid == NID_sha1 && value->length == 20) || (nid == NID_sha256 && value->length == 32) ||
		      (nid == NID_sha384 && value->length == 48) || (nid == NID_sha512 && value->length == 64)))
			r = rombsr_error(ROMBSR_EUNSUPPORTED,
					 "DigestInfo of %d bytes under %s: a YubiHSM adds the DigestInfo by the digest's "
					 "length, so only SHA-1/256/384/512 of their own length",
					 value->length, OBJ_nid2sn(nid));
	}
	if (r == 0) {
		memcpy(digest, value->data, (size_t)value->length);
		*digest_len = (size_t)value->length;
	}
	X509_SIG_free(info);
	return r;
}

static int mgf1_algorithm(CK_RSA_PKCS_MGF_TYPE mgf, CK_MECHANISM_TYPE hash, size_t digest_len, uint8_t *out)
{
	static const struct {
		CK_RSA_PKCS_MGF_TYPE mgf;
		CK_MECHANISM_TYPE hash;
		size_t len;
		uint8_t algorithm;
	} map[] = {
		{CKG_MGF1_SHA1, CKM_SHA_1, 20, YH_ALGO_MGF1_SHA1},
		{CKG_MGF1_SHA256, CKM_SHA256, 32, YH_ALGO_MGF1_SHA256},
		{CKG_MGF1_SHA384, CKM_SHA384, 48, YH_ALGO_MGF1_SHA384},
		{CKG_MGF1_SHA512, CKM_SHA512, 64, YH_ALGO_MGF1_SHA512},
	};
	bool hash_ok = false;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		hash_ok |= map[i].hash == hash && map[i].len == digest_len;
	for (size_t i = 0; hash_ok && i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].mgf == mgf) {
			*out = map[i].algorithm;
			return 0;
		}
	}
	return rombsr_error(ROMBSR_EUNSUPPORTED, "PSS with hash 0x%lx, MGF 0x%lx over %zu bytes is not a YubiHSM's",
			    (unsigned long)hash, (unsigned long)mgf, digest_len);
}

/* PKCS#11's ECDSA answer: r and s, each the field's length. */
static int der_to_raw(const unsigned char *der, size_t der_len, size_t field, unsigned char *sig, size_t *sig_len)
{
	const unsigned char *p = der;
	ECDSA_SIG *e = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *br, *bs;
	int r = 0;

	if (e == NULL || p != der + der_len)
		r = rombsr_error(ROMBSR_EHSM, "the device's ECDSA signature is not DER");
	else if (*sig_len < 2 * field)
		r = rombsr_error(ROMBSR_EINVAL, "signature buffer too small (%zu bytes needed)", 2 * field);
	if (r == 0) {
		ECDSA_SIG_get0(e, &br, &bs);
		if (BN_bn2binpad(br, sig, (int)field) < 0 || BN_bn2binpad(bs, sig + field, (int)field) < 0)
			r = rombsr_error(ROMBSR_EHSM, "the device's ECDSA signature is longer than the curve");
		*sig_len = 2 * field;
	}
	ECDSA_SIG_free(e);
	return r;
}

static int sign_on(struct rombsr_yh_session *s, const struct rombsr_hsm_key *key, const CK_MECHANISM *m,
		   const unsigned char *data, size_t data_len, unsigned char *sig, size_t *sig_len)
{
	const uint16_t id = ROMBSR_YH_HANDLE_ID(key->private_key);
	unsigned char digest[64], der[160];
	size_t digest_len = 0, der_len = sizeof(der);
	uint8_t mgf1 = 0;
	int r;

	switch (m->mechanism) {
	case CKM_RSA_PKCS:
		r = digest_info_digest(data, data_len, digest, &digest_len);
		return r < 0 ? r : rombsr_yh_sign_pkcs1(s, id, digest, digest_len, sig, sig_len);
	case CKM_RSA_PKCS_PSS: {
		const CK_RSA_PKCS_PSS_PARAMS *pss = m->pParameter;

		if (pss == NULL || m->ulParameterLen != sizeof(*pss) || pss->sLen > 0xffff)
			return rombsr_error(ROMBSR_EINVAL, "CKM_RSA_PKCS_PSS without its parameters");
		r = mgf1_algorithm(pss->mgf, pss->hashAlg, data_len, &mgf1);
		return r < 0 ? r : rombsr_yh_sign_pss(s, id, mgf1, (uint16_t)pss->sLen, data, data_len, sig, sig_len);
	}
	case CKM_ECDSA:
		if (data_len != 32 && data_len != 48 && data_len != 64 && data_len != 20)
			return rombsr_error(ROMBSR_EINVAL, "CKM_ECDSA over %zu bytes is not a digest", data_len);
		r = rombsr_yh_sign_ecdsa(s, id, data, data_len, der, &der_len);
		return r < 0 ? r : der_to_raw(der, der_len, rombsr_key_kind_ec_bytes(key->kind), sig, sig_len);
	default:
		return rombsr_error(ROMBSR_EUNSUPPORTED, "mechanism 0x%lx is not one a YubiHSM signs natively",
				    (unsigned long)m->mechanism);
	}
}

struct sign_ctx {
	const struct rombsr_hsm_key *key;
	const CK_MECHANISM *mechanism;
	const unsigned char *data;
	size_t data_len;
	unsigned char *sig;
	size_t sig_room, sig_len;
};

static int sign_run(struct rombsr_yh_session *s, void *ctx)
{
	struct sign_ctx *c = ctx;

	c->sig_len = c->sig_room;
	return sign_on(s, c->key, c->mechanism, c->data, c->data_len, c->sig, &c->sig_len);
}

int rombsr_yh_hsm_sign_raw(struct rombsr_hsm *hsm, const struct rombsr_hsm_key *key, const CK_MECHANISM *mechanism,
			   const unsigned char *data, size_t data_len, unsigned char *sig, size_t *sig_len)
{
	struct sign_ctx c = {key, mechanism, data, data_len, sig, *sig_len, 0};
	int r = rombsr_yh_hsm_run(hsm, sign_run, &c);

	if (r < 0)
		return rombsr_error_wrap(r, "signing with '%s' on %s", key->label, hsm->token_label);
	*sig_len = c.sig_len;
	return 0;
}
