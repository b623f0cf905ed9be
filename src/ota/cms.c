#include "cms.h"

#include "zip.h"

#include "../common/error.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <limits.h>

int rombsr_ota_cms_build(X509 *cert, const unsigned char *sig, size_t sig_len, struct rombsr_buf *der)
{
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	X509_ALGOR *sigalg;
	unsigned char *out = NULL;
	int n, r = 0;

	rombsr_buf_init(der, ROMBSR_OTA_COMMENT_MAX);
	if (sig_len > INT_MAX)
		return rombsr_error(ROMBSR_EINVAL, "a signature of %zu bytes", sig_len);
	/* No signing time or other attribute: recovery verifies a signature
	 * over the content itself, and the bytes must be the same on replay. */
	cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_DETACHED | CMS_BINARY);
	if (cms == NULL) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "CMS SignedData");
		goto out;
	}
	/* The certificate's own public key stands in for the private key,
	 * which stays in the token: OpenSSL only compares the public parts,
	 * and with CMS_PARTIAL never signs. */
	si = CMS_add1_signer(cms, cert, X509_get0_pubkey(cert), EVP_sha256(), CMS_NOATTR | CMS_BINARY);
	if (si == NULL) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "CMS signer for the certificate");
		goto out;
	}
	/* signapk names the signature sha256WithRSAEncryption where OpenSSL
	 * writes rsaEncryption; both verify, and we match the tool devices
	 * were tested with. */
	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sigalg);
	if (X509_ALGOR_set0(sigalg, OBJ_nid2obj(NID_sha256WithRSAEncryption), V_ASN1_NULL, NULL) != 1) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "CMS signature algorithm");
		goto out;
	}
	if (ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)sig_len) != 1) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "CMS signature value");
		goto out;
	}
	n = i2d_CMS_ContentInfo(cms, &out);
	if (n <= 0) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "DER of the CMS SignedData");
		goto out;
	}
	rombsr_buf_append(der, out, (size_t)n);
	r = rombsr_buf_check(der, "CMS SignedData");
out:
	OPENSSL_free(out);
	CMS_ContentInfo_free(cms);
	if (r < 0)
		rombsr_buf_free(der);
	return r;
}

/* The one SignerInfo, by cert, without attributes, SHA-256 with RSA. */
static int check_signer(CMS_ContentInfo *cms, X509 *cert, CMS_SignerInfo **out)
{
	STACK_OF(CMS_SignerInfo) *signers = CMS_get0_SignerInfos(cms);
	X509_ALGOR *digest, *sigalg;
	CMS_SignerInfo *si;
	char name[256];
	int nid;

	if (signers == NULL || sk_CMS_SignerInfo_num(signers) != 1)
		return rombsr_error(ROMBSR_ESECURITY, "the signature block has %d signers, not 1",
				    signers ? sk_CMS_SignerInfo_num(signers) : 0);
	si = sk_CMS_SignerInfo_value(signers, 0);
	if (CMS_SignerInfo_cert_cmp(si, cert) != 0) {
		X509_NAME_oneline(X509_get_subject_name(cert), name, sizeof(name));
		return rombsr_error(ROMBSR_ESECURITY, "signed by another key: the signer is not %s (by issuer and "
						  "serial or key identifier)", name);
	}
	if (CMS_signed_get_attr_count(si) >= 0)
		return rombsr_error(ROMBSR_ESECURITY, "the signer has signed attributes: recovery verifies a "
						  "signature over the package itself");
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &digest, &sigalg);
	if (OBJ_obj2nid(digest->algorithm) != NID_sha256)
		return rombsr_error(ROMBSR_ESECURITY, "the digest is %s, not SHA-256",
				    OBJ_nid2sn(OBJ_obj2nid(digest->algorithm)));
	nid = OBJ_obj2nid(sigalg->algorithm);
	if (nid != NID_rsaEncryption && nid != NID_sha256WithRSAEncryption)
		return rombsr_error(ROMBSR_ESECURITY, "the signature algorithm is %s, not RSA PKCS#1 v1.5",
				    OBJ_nid2sn(nid));
	*out = si;
	return 0;
}

static int verify_signature(CMS_SignerInfo *si, const unsigned char *data, size_t len, X509 *cert)
{
	ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r = 0;

	if (ctx == NULL || pub == NULL || EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) != 1) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 verification with the certificate's key");
		goto out;
	}
	if (EVP_DigestVerify(ctx, ASN1_STRING_get0_data(sig), (size_t)ASN1_STRING_length(sig), data, len) != 1) {
		ERR_clear_error();
		r = rombsr_error(ROMBSR_ESECURITY, "the signature does not verify over the %zu signed bytes",
				 len);
	}
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int rombsr_ota_cms_verify(const unsigned char *der, size_t der_len, const unsigned char *data, size_t len,
	X509 *cert)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si = NULL;
	int r = 0;

	if (der_len > LONG_MAX)
		return rombsr_error(ROMBSR_ESECURITY, "a signature block of %zu bytes", der_len);
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
	if (cms == NULL) {
		ERR_clear_error();
		return rombsr_error(ROMBSR_ESECURITY, "the signature block is not DER CMS");
	}
	if (p != der + der_len)
		r = rombsr_error(ROMBSR_ESECURITY, "%zu bytes follow the CMS in the signature block",
				 (size_t)(der + der_len - p));
	else if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		r = rombsr_error(ROMBSR_ESECURITY, "the signature block is CMS %s, not SignedData",
				 OBJ_nid2sn(OBJ_obj2nid(CMS_get0_type(cms))));
	else if (CMS_get0_content(cms) != NULL && *CMS_get0_content(cms) != NULL)
		r = rombsr_error(ROMBSR_ESECURITY, "the SignedData carries content: the package's is detached");
	if (r == 0)
		r = check_signer(cms, cert, &si);
	if (r == 0)
		r = verify_signature(si, data, len, cert);
	CMS_ContentInfo_free(cms);
	return r;
}

int rombsr_ota_verify(const unsigned char *zip, size_t len, X509 *cert)
{
	struct rombsr_ota_layout l;
	int r = rombsr_ota_layout_parse(zip, len, &l);

	if (r == 0)
		r = rombsr_ota_cms_verify(zip + l.cms, l.cms_len, zip, l.signed_len, cert);
	return r;
}
