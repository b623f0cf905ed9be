#include "apk_signed_data.h"

#include "error.h"
#include "le_reader.h"

#include <openssl/x509.h>
#include <string.h>

/* The signature algorithm IDs of APK Signature Scheme v2 and v3. */
static const struct {
	uint32_t id;
	const char *name;
} algorithms[] = {
	{0x0101, "RSA-PSS-SHA256"},   {0x0102, "RSA-PSS-SHA512"},   {0x0103, "RSA-PKCS1-SHA256"},
	{0x0104, "RSA-PKCS1-SHA512"}, {0x0201, "ECDSA-SHA256"},     {0x0202, "ECDSA-SHA512"},
	{0x0301, "DSA-SHA256"},       {0x0421, "RSA-PKCS1-SHA256-VERITY"}, {0x0423, "ECDSA-SHA256-VERITY"},
	{0x0425, "DSA-SHA256-VERITY"},
};

const char *rombsr_apk_algorithm_name(uint32_t id)
{
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
		if (algorithms[i].id == id)
			return algorithms[i].name;
	return NULL;
}

static int digests(struct rombsr_le_reader seq, struct rombsr_apk_signed_data *out)
{
	while (seq.left > 0) {
		struct rombsr_le_reader item, digest;
		uint32_t alg;
		int e = rombsr_le_sub(&seq, &item);

		if (e == 0)
			e = rombsr_le_u32(&item, &alg);
		if (e == 0)
			e = rombsr_le_sub(&item, &digest);
		if (e < 0)
			return e;
		if (item.left != 0 || digest.left == 0 || digest.left > 64 || rombsr_apk_algorithm_name(alg) == NULL)
			return rombsr_error(ROMBSR_EINVAL, "apk signed data: a digest that is not one");
		if (out->ndigests == ROMBSR_APK_MAX_DIGESTS)
			return rombsr_error(ROMBSR_EINVAL, "apk signed data: more than %d digests", ROMBSR_APK_MAX_DIGESTS);
		out->digests[out->ndigests].algorithm = alg;
		out->digests[out->ndigests].digest = digest.p;
		out->digests[out->ndigests++].len = digest.left;
	}
	return out->ndigests > 0 ? 0 : rombsr_error(ROMBSR_EINVAL, "apk signed data: no digest");
}

static int certificates(struct rombsr_le_reader seq, struct rombsr_apk_signed_data *out)
{
	while (seq.left > 0) {
		struct rombsr_le_reader cert;
		const unsigned char *p;
		X509 *x;
		int e = rombsr_le_sub(&seq, &cert);

		if (e < 0)
			return e;
		p = cert.p;
		x = d2i_X509(NULL, &p, (long)cert.left);
		X509_free(x);
		if (x == NULL || p != cert.p + cert.left)
			return rombsr_error(ROMBSR_EINVAL, "apk signed data: a certificate that is not DER X.509");
		if (out->ncertificates++ == 0) {
			out->certificate = cert.p;
			out->certificate_len = cert.left;
		}
	}
	return out->ncertificates > 0 ? 0 : rombsr_error(ROMBSR_EINVAL, "apk signed data: no certificate");
}

/* Attributes: each (uint32 ID, value), length-prefixed; their meaning is
 * apksigner's, only their framing is checked. */
static int attributes(struct rombsr_le_reader seq)
{
	while (seq.left > 0) {
		struct rombsr_le_reader item;
		uint32_t id;
		int e = rombsr_le_sub(&seq, &item);

		if (e == 0)
			e = rombsr_le_u32(&item, &id);
		if (e < 0)
			return e;
	}
	return 0;
}

static int parse_as(const unsigned char *data, size_t len, unsigned scheme, struct rombsr_apk_signed_data *out)
{
	struct rombsr_le_reader r = {data, len, "apk signed data"}, d, c, a;
	int e;

	memset(out, 0, sizeof(*out));
	out->scheme = scheme;
	e = rombsr_le_sub(&r, &d);
	if (e == 0)
		e = rombsr_le_sub(&r, &c);
	if (e == 0 && scheme == 3)
		e = rombsr_le_u32(&r, &out->min_sdk);
	if (e == 0 && scheme == 3)
		e = rombsr_le_u32(&r, &out->max_sdk);
	if (e == 0)
		e = rombsr_le_sub(&r, &a);
	/* apksigner ends v2 signed data with one more element, empty. */
	if (e == 0 && scheme == 2 && r.left == 4 && memcmp(r.p, "\0\0\0\0", 4) == 0)
		r.left = 0;
	if (e == 0 && r.left != 0)
		e = rombsr_error(ROMBSR_EINVAL, "apk signed data: %zu bytes past its end", r.left);
	if (e == 0)
		e = digests(d, out);
	if (e == 0)
		e = certificates(c, out);
	if (e == 0)
		e = attributes(a);
	return e;
}

int rombsr_apk_signed_data_parse(const unsigned char *data, size_t len, struct rombsr_apk_signed_data *out)
{
	int e = parse_as(data, len, 3, out);

	if (e < 0) {
		rombsr_error_clear();
		e = parse_as(data, len, 2, out);
	}
	return e;
}

int rombsr_apk_lineage_node_parse(const unsigned char *data, size_t len, struct rombsr_apk_lineage_node *out)
{
	struct rombsr_le_reader in = {data, len, "apk lineage node"}, cert;
	const unsigned char *p;
	X509 *x;
	int e = rombsr_le_sub(&in, &cert);

	memset(out, 0, sizeof(*out));
	if (e == 0)
		e = rombsr_le_u32(&in, &out->algorithm);
	if (e < 0)
		return e;
	if (in.left != 0 || cert.left == 0)
		return rombsr_error(ROMBSR_EINVAL, "apk lineage node: not a certificate and an algorithm ID");
	if (rombsr_apk_algorithm_name(out->algorithm) == NULL)
		return rombsr_error(ROMBSR_EINVAL, "apk lineage node: unknown signature algorithm 0x%x", out->algorithm);
	p = cert.p;
	x = d2i_X509(NULL, &p, (long)cert.left);
	X509_free(x);
	if (x == NULL || p != cert.p + cert.left)
		return rombsr_error(ROMBSR_EINVAL, "apk lineage node: a certificate that is not DER X.509");
	out->certificate = cert.p;
	out->certificate_len = cert.left;
	return 0;
}
