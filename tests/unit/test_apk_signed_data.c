/* APK v2/v3 signed data (src/common/apk_signed_data.c): built here field by
 * field around a certificate made here, parsed back, and every kind of
 * damage refused; and how the capture format names its kind. */
#include "tap.h"

#include "../../src/common/apk_signed_data.h"
#include "../../src/common/buf.h"
#include "../../src/common/capture_format.h"
#include "../../src/common/error.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

static void put32(struct rombsr_buf *b, uint32_t v)
{
	unsigned char le[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24)};

	rombsr_buf_append(b, le, 4);
}

static int cert_der(unsigned char **der)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	int len = -1;

	if (key != NULL && x != NULL && X509_set_version(x, 2) && X509_set_pubkey(x, key) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) && X509_gmtime_adj(X509_getm_notAfter(x), 3600) &&
	    X509_sign(x, key, EVP_sha256()))
		len = i2d_X509(x, der);
	X509_free(x);
	EVP_PKEY_free(key);
	return len;
}

/* scheme 2 or 3; trailer: append apksigner's empty element (v2). */
static void signed_data(struct rombsr_buf *b, unsigned scheme, const unsigned char *cert, size_t cert_len,
			bool trailer)
{
	unsigned char digest[32];

	memset(digest, 0xab, sizeof(digest));
	rombsr_buf_init(b, 65536);
	put32(b, 4 + 4 + 4 + 32);          /* digests */
	put32(b, 4 + 4 + 32);
	put32(b, 0x0103);
	put32(b, 32);
	rombsr_buf_append(b, digest, 32);
	put32(b, 4 + (uint32_t)cert_len);  /* certificates */
	put32(b, (uint32_t)cert_len);
	rombsr_buf_append(b, cert, cert_len);
	if (scheme == 3) {
		put32(b, 24);
		put32(b, 0x7fffffff);
	}
	put32(b, 12);                      /* attributes: one of 8 bytes */
	put32(b, 8);
	put32(b, 0xbeeff00d);
	put32(b, 3);
	if (trailer)
		put32(b, 0);
}

/* What apksigner rotate has the old key sign: the new certificate and an
 * algorithm ID, each framed as in the lineage. */
static void lineage_nodes(const unsigned char *cert, size_t cert_len)
{
	struct rombsr_apk_lineage_node ln;
	struct rombsr_apk_signed_data sd;
	struct rombsr_buf b;

	rombsr_buf_init(&b, 65536);
	put32(&b, (uint32_t)cert_len);
	rombsr_buf_append(&b, cert, cert_len);
	put32(&b, 0x0104);
	CHECK(rombsr_apk_lineage_node_parse(b.data, b.len, &ln) == 0 && ln.algorithm == 0x0104 &&
		      ln.certificate_len == cert_len && memcmp(ln.certificate, cert, cert_len) == 0,
	      "a lineage node parses: certificate and algorithm");
	CHECK(strcmp(rombsr_cap_data_kind(b.data, b.len), "apk-lineage-node") == 0, "its kind is apk-lineage-node");
	CHECK(rombsr_apk_signed_data_parse(b.data, b.len, &sd) < 0, "it is no APK signed data");
	CHECK(tap_fails(rombsr_apk_lineage_node_parse(b.data, b.len - 1, &ln), ROMBSR_EINVAL, "apk lineage node"),
	      "a truncated one is refused");
	rombsr_buf_append(&b, "x", 1);
	CHECK(tap_fails(rombsr_apk_lineage_node_parse(b.data, b.len, &ln), ROMBSR_EINVAL, "apk lineage node"),
	      "a trailing byte is refused");
	rombsr_buf_free(&b);
	rombsr_buf_init(&b, 65536);
	put32(&b, (uint32_t)cert_len);
	rombsr_buf_append(&b, cert, cert_len);
	put32(&b, 0x9999);
	CHECK(tap_fails(rombsr_apk_lineage_node_parse(b.data, b.len, &ln), ROMBSR_EINVAL, "unknown signature algorithm"),
	      "an unknown algorithm is refused");
	CHECK(rombsr_cap_data_kind(b.data, b.len) == NULL, "and the data is of no kind");
	rombsr_buf_free(&b);
	rombsr_buf_init(&b, 65536);
	put32(&b, (uint32_t)cert_len);
	rombsr_buf_append(&b, cert, cert_len - 1);
	rombsr_buf_append(&b, "\0", 1);
	put32(&b, 0x0103);
	((unsigned char *)b.data)[4] = 0x31;
	CHECK(rombsr_apk_lineage_node_parse(b.data, b.len, &ln) < 0, "a certificate that is not DER X.509 is refused");
	rombsr_buf_free(&b);
}

int main(void)
{
	unsigned char *cert = NULL;
	int cert_len = cert_der(&cert);
	struct rombsr_apk_signed_data sd;
	struct rombsr_buf b;

	CHECK(cert_len > 0, "a certificate is made");
	signed_data(&b, 3, cert, (size_t)cert_len, false);
	CHECK(rombsr_apk_signed_data_parse(b.data, b.len, &sd) == 0 && sd.scheme == 3 && sd.min_sdk == 24 &&
		      sd.ndigests == 1 && sd.digests[0].algorithm == 0x0103 && sd.digests[0].len == 32 &&
		      sd.ncertificates == 1 && sd.certificate_len == (size_t)cert_len &&
		      memcmp(sd.certificate, cert, (size_t)cert_len) == 0,
	      "v3 signed data parses: digest, certificate, SDK range");
	CHECK(strcmp(rombsr_cap_data_kind(b.data, b.len), "apk-signed-data") == 0, "its kind is apk-signed-data");
	rombsr_buf_free(&b);
	signed_data(&b, 2, cert, (size_t)cert_len, true);
	CHECK(rombsr_apk_signed_data_parse(b.data, b.len, &sd) == 0 && sd.scheme == 2,
	      "v2 signed data with apksigner's empty last element parses");
	CHECK(tap_fails(rombsr_apk_signed_data_parse(b.data, b.len - 1, &sd), ROMBSR_EINVAL, "apk signed data"),
	      "a truncated one is refused");
	rombsr_buf_append(&b, "x", 1);
	CHECK(tap_fails(rombsr_apk_signed_data_parse(b.data, b.len, &sd), ROMBSR_EINVAL, "past its end"),
	      "a trailing byte is refused");
	rombsr_buf_free(&b);
	cert[0] = 0x31; /* a SET where the certificate's SEQUENCE starts */
	signed_data(&b, 3, cert, (size_t)cert_len, false);
	CHECK(rombsr_apk_signed_data_parse(b.data, b.len, &sd) < 0, "a certificate that is not DER X.509 is refused");
	CHECK(rombsr_cap_data_kind(b.data, b.len) == NULL, "and the data is of no kind");
	rombsr_buf_free(&b);
	cert[0] = 0x30;
	lineage_nodes(cert, (size_t)cert_len);
	CHECK(rombsr_apk_algorithm_name(0x0103) != NULL && rombsr_apk_algorithm_name(0x9999) == NULL,
	      "algorithm names: known and unknown");
	OPENSSL_free(cert);
	return tap_done();
}
