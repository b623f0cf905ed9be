#include "opcheck.h"

#include "../common/error.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <string.h>

/* A DER DigestInfo of a SHA-2 digest, in its one canonical encoding. */
static int check_digest_info(const unsigned char *p, size_t len, const char *mech)
{
	const unsigned char *q = p;
	X509_SIG *info = d2i_X509_SIG(NULL, &q, (long)len);
	const X509_ALGOR *alg;
	const ASN1_OCTET_STRING *digest;
	const ASN1_OBJECT *oid;
	unsigned char *again = NULL;
	int nid, again_len, r = 0;

	if (info == NULL || (size_t)(q - p) != len)
		r = rombsr_error(ROMBSR_EPERM, "%s input is not a DigestInfo", mech);
	if (r == 0) {
		X509_SIG_get0(info, &alg, &digest);
		X509_ALGOR_get0(&oid, NULL, NULL, alg);
		nid = OBJ_obj2nid(oid);
		if (nid != NID_sha224 && nid != NID_sha256 && nid != NID_sha384 && nid != NID_sha512)
			r = rombsr_error(ROMBSR_EPERM, "%s over a %s digest: only SHA-2 digests are signed", mech,
					 OBJ_nid2sn(nid));
		else if (ASN1_STRING_length(digest) != EVP_MD_get_size(EVP_get_digestbynid(nid)))
			r = rombsr_error(ROMBSR_EPERM, "%s: DigestInfo digest has the wrong length", mech);
	}
	if (r == 0) {
		again_len = i2d_X509_SIG(info, &again);
		if (again_len <= 0 || (size_t)again_len != len || memcmp(again, p, len) != 0)
			r = rombsr_error(ROMBSR_EPERM, "%s: DigestInfo is not in canonical DER", mech);
	}
	OPENSSL_free(again);
	X509_SIG_free(info);
	return r;
}

/* EMSA-PKCS1-v1_5 (RFC 8017 9.2): 00 01 FF..FF 00 DigestInfo, at least
 * eight FF bytes, exactly the modulus length. */
static int check_pkcs1_block(const unsigned char *p, size_t len, size_t modulus_bytes)
{
	size_t i = 2;

	if (modulus_bytes == 0 || len != modulus_bytes)
		return rombsr_error(ROMBSR_EPERM, "CKM_RSA_X_509 input must be exactly the modulus length (%zu bytes)",
				    modulus_bytes);
	if (p[0] != 0x00 || p[1] != 0x01)
		return rombsr_error(ROMBSR_EPERM, "CKM_RSA_X_509 input is not a PKCS#1 v1.5 signature block");
	while (i < len && p[i] == 0xff)
		i++;
	if (i - 2 < 8 || i >= len || p[i] != 0x00)
		return rombsr_error(ROMBSR_EPERM, "CKM_RSA_X_509 input is not a PKCS#1 v1.5 signature block");
	return check_digest_info(p + i + 1, len - i - 1, "CKM_RSA_X_509");
}

static size_t md_size(const char *name)
{
	const EVP_MD *md = name ? EVP_get_digestbyname(name) : NULL;

	return md ? (size_t)EVP_MD_get_size(md) : 0;
}

int rombsr_opcheck(const struct rombsr_cap_op *op, enum rombsr_key_kind kind, size_t modulus_bytes)
{
	const struct rombsr_cap_mech *m = op->mech;
	int r;

	if (m == NULL)
		return rombsr_error(ROMBSR_EPERM, "no mechanism");
	if (m->ec != rombsr_key_kind_is_ec(kind))
		return rombsr_error(ROMBSR_EPERM, "%s does not suit an %s key", m->name, rombsr_key_kind_text(kind));
	if (op->tbs_len == 0 || op->tbs_len > sizeof(op->tbs))
		return rombsr_error(ROMBSR_EPERM, "%s: nothing to sign", m->name);
	if (m->pss) {
		r = rombsr_cap_pss_check(m, &op->pss, modulus_bytes);
		if (r < 0)
			return rombsr_error_wrap_as(r, ROMBSR_EPERM, "%s", m->name);
	} else if (op->pss.hash != 0 || op->pss.mgf != 0 || op->pss.salt_len != 0) {
		return rombsr_error(ROMBSR_EPERM, "%s takes no PSS parameters", m->name);
	}
	if (m->input == ROMBSR_CAP_IN_HASH) {
		if (op->tbs_len != md_size(m->hash))
			return rombsr_error(ROMBSR_EPERM, "%s needs a %s digest, got %zu bytes", m->name, m->hash, op->tbs_len);
		return 0;
	}
	switch (m->type) {
	case CKM_RSA_PKCS:
		if (op->tbs_len + 11 > modulus_bytes)
			return rombsr_error(ROMBSR_EPERM, "CKM_RSA_PKCS input too long for the key");
		return check_digest_info(op->tbs, op->tbs_len, m->name);
	case CKM_RSA_PKCS_PSS:
		if (op->tbs_len != md_size(rombsr_cap_hash_name(op->pss.hash)))
			return rombsr_error(ROMBSR_EPERM, "CKM_RSA_PKCS_PSS needs a digest of the PSS hash");
		return 0;
	case CKM_RSA_X_509:
		return check_pkcs1_block(op->tbs, op->tbs_len, modulus_bytes);
	case CKM_ECDSA:
		if (op->tbs_len != 32 && op->tbs_len != 48 && op->tbs_len != 64)
			return rombsr_error(ROMBSR_EPERM, "CKM_ECDSA input must be a SHA-256, -384 or -512 digest");
		return 0;
	default:
		return rombsr_error(ROMBSR_EPERM, "%s is not signed by the sign node", m->name);
	}
}
