/* The OTA whole-file signature layout (src/ota/): the EOCD record of an
 * unsigned zip, the comment and footer appended, recovery's checks of a
 * signed package and each of their refusals, and the CMS SignedData built
 * around a signature made here: deterministic, verifying, and refused with
 * ROMBSR_ESECURITY for a changed byte, another certificate, signed
 * attributes or bytes that are not CMS. */
#include "tap.h"

#include "../../src/common/error.h"
#include "../../src/ota/cms.h"
#include "../../src/ota/zip.h"

#include <openssl/cms.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CAP (1u << 20)

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

/* A stored one-entry zip: local header, data, central directory, EOCD. */
static void make_zip(struct rombsr_buf *z)
{
	static const char name[] = "payload.bin", data[] = "not really a payload";
	unsigned char h[46] = {0};
	size_t cd;

	rombsr_buf_init(z, CAP);
	put32(h, 0x04034b50);
	put32(h + 18, sizeof(data) - 1);
	put32(h + 22, sizeof(data) - 1);
	put16(h + 26, sizeof(name) - 1);
	rombsr_buf_append(z, h, 30);
	rombsr_buf_append(z, name, sizeof(name) - 1);
	rombsr_buf_append(z, data, sizeof(data) - 1);
	cd = z->len;
	memset(h, 0, sizeof(h));
	put32(h, 0x02014b50);
	put32(h + 20, sizeof(data) - 1);
	put32(h + 24, sizeof(data) - 1);
	put16(h + 28, sizeof(name) - 1);
	rombsr_buf_append(z, h, 46);
	rombsr_buf_append(z, name, sizeof(name) - 1);
	memset(h, 0, sizeof(h));
	put32(h, 0x06054b50);
	put16(h + 8, 1);
	put16(h + 10, 1);
	put32(h + 12, (uint32_t)(z->len - cd));
	put32(h + 16, (uint32_t)cd);
	rombsr_buf_append(z, h, ROMBSR_OTA_EOCD_SIZE);
}

static int unsigned_fails(const struct rombsr_buf *z, const char *text)
{
	size_t eocd;

	return tap_fails(rombsr_ota_unsigned_eocd(z->data, z->len, &eocd), ROMBSR_EINVAL, text);
}

static void test_unsigned(void)
{
	struct rombsr_buf z, bad;
	size_t eocd = 0, e;

	make_zip(&z);
	CHECK(rombsr_ota_unsigned_eocd(z.data, z.len, &eocd) == 0 && eocd == z.len - 22, "unsigned zip: EOCD found");
	e = eocd;
	CHECK(unsigned_fails(&(struct rombsr_buf){z.data, 21, 0, 0, false, false}, "shorter than an end"), "21 bytes");
	CHECK(unsigned_fails(&(struct rombsr_buf){z.data, z.len - 1, 0, 0, false, false}, "no end of central directory"),
	      "a zip cut by one byte");

	rombsr_buf_init(&bad, CAP);
	rombsr_buf_append(&bad, z.data, z.len);
	put16(bad.data + e + 20, 3);
	rombsr_buf_append(&bad, "abc", 3);
	CHECK(unsigned_fails(&bad, "a comment of 3 bytes"), "a zip with a comment");
	/* A comment that is an EOCD record itself: two readings of the file. */
	bad.len = e + 22;
	put16(bad.data + e + 20, 22);
	rombsr_buf_append(&bad, z.data + e, 22);
	CHECK(unsigned_fails(&bad, "2 end of central directory records"), "two EOCD records");

	bad.len = 0;
	rombsr_buf_append(&bad, z.data, z.len);
	put32(bad.data + e + 16, 1);
	CHECK(unsigned_fails(&bad, "does not end where the record starts"), "central directory offset off by one");
	put32(bad.data + e + 16, (uint32_t)(e - 46 - 11));
	put16(bad.data + e + 4, 1);
	CHECK(unsigned_fails(&bad, "another disk"), "a split archive");
	put16(bad.data + e + 4, 0);
	put16(bad.data + e + 8, 2);
	CHECK(unsigned_fails(&bad, "entry counts differ"), "entry counts");
	put16(bad.data + e + 8, 0xffff);
	CHECK(unsigned_fails(&bad, "without a zip64 locator"), "zip64 values, no locator");
	/* A locator whose offset would wrap around when 4 is added. */
	put32(bad.data + e - 20, 0x07064b50);
	put32(bad.data + e - 12, UINT32_MAX - 1);
	put32(bad.data + e - 8, UINT32_MAX);
	CHECK(unsigned_fails(&bad, "names no zip64 record"), "zip64 locator pointing past the end");
	put32(bad.data + e - 12, 0);
	put32(bad.data + e - 8, 0);
	memcpy(bad.data, "PK\x06\x06", 4);
	CHECK(rombsr_ota_unsigned_eocd(bad.data, bad.len, &eocd) == 0 && eocd == e, "zip64 locator and record");
	rombsr_buf_free(&bad);
	rombsr_buf_free(&z);
}

static const unsigned char fake_cms[300] = {0x30, 0x82, 0x01, 0x28};

static int layout_fails(const struct rombsr_buf *z, const char *text)
{
	struct rombsr_ota_layout l;

	return tap_fails(rombsr_ota_layout_parse(z->data, z->len, &l), ROMBSR_ESECURITY, text);
}

static void test_layout(void)
{
	struct rombsr_buf z, bad;
	struct rombsr_ota_layout l = {0};
	size_t eocd, n;
	unsigned char cms[300];

	make_zip(&z);
	CHECK(rombsr_ota_unsigned_eocd(z.data, z.len, &eocd) == 0, "EOCD");
	n = z.len;
	CHECK(rombsr_ota_append_signature(&z, eocd, fake_cms, sizeof(fake_cms)) == 0, "signature appended");
	CHECK(z.len == n + 18 + 300 + 6, "comment of 18 + 300 + 6 bytes");
	CHECK(memcmp(z.data + z.len - 6, "\x32\x01\xff\xff\x44\x01", 6) == 0,
	      "footer: start 306, ff ff, size 324, little-endian");
	CHECK(z.data[eocd + 20] == 0x44 && z.data[eocd + 21] == 0x01, "EOCD comment length 324");
	CHECK(memcmp(z.data + eocd + 22, "signed by SignApk\0", 18) == 0, "comment opening");
	CHECK(rombsr_ota_layout_parse(z.data, z.len, &l) == 0 && l.eocd == eocd && l.signed_len == eocd + 20 &&
		      l.comment_len == 324 && l.cms == eocd + 22 + 18 && l.cms_len == 300,
	      "layout parsed back");

	rombsr_buf_init(&bad, CAP);
#define MUTATED(offset, byte)                                     \
	(bad.len = 0, rombsr_buf_append(&bad, z.data, z.len), \
	 bad.data[(offset)] = (unsigned char)(byte), &bad)
	CHECK(layout_fails(MUTATED(z.len - 3, 0xfe), "footer's marker is ff fe"), "footer marker");
	CHECK(layout_fails(MUTATED(z.len - 5, 0x02), "outside the 324-byte comment"), "start beyond the comment");
	bad.data[z.len - 6] = 6;
	bad.data[z.len - 5] = 0;
	CHECK(layout_fails(&bad, "lies in the footer"), "start in the footer");
	CHECK(layout_fails(MUTATED(z.len - 2, 0x40), "no end of central directory record where"),
	      "comment size that misses the record");
	CHECK(layout_fails(MUTATED(z.len - 1, 0xff), "does not fit in a"), "comment longer than the file");
	CHECK(layout_fails(MUTATED(eocd + 20, 0x45), "comment length (325) differs"), "EOCD comment length");
	CHECK(layout_fails(MUTATED(eocd + 16, 0x00), "record at offset"), "inconsistent EOCD");
	memcpy(MUTATED(0, z.data[0])->data + eocd + 100, "PK\x05\x06", 4);
	CHECK(layout_fails(&bad, "occurs again at offset"), "EOCD magic in the comment");
	CHECK(layout_fails(&(struct rombsr_buf){z.data, z.len - 1, 0, 0, false, false}, "footer's marker"),
	      "truncated by one byte");
	CHECK(layout_fails(&(struct rombsr_buf){z.data, 27, 0, 0, false, false}, "27 bytes are too few"), "27 bytes");
#undef MUTATED
	rombsr_buf_free(&z);

	make_zip(&z);
	memcpy(cms, fake_cms, sizeof(cms));
	memcpy(cms + 200, "PK\x05\x06", 4);
	CHECK(tap_fails(rombsr_ota_append_signature(&z, eocd, cms, sizeof(cms)), ROMBSR_EINVAL,
		    "holds the end of central directory magic (comment offset 218)"),
	      "signature holding the EOCD magic refused");
	rombsr_buf_free(&z);
	make_zip(&z);
	CHECK(tap_fails(rombsr_ota_append_signature(&z, eocd, z.data, 65535 - 23), ROMBSR_EINVAL, "more than 65535"),
	      "comment over 65535 bytes refused");
	rombsr_buf_free(&z);
	rombsr_buf_free(&bad);
}

static X509 *self_signed(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, key, EVP_sha256());
	return x;
}

static void sign_sha256(EVP_PKEY *key, const unsigned char *data, size_t len, unsigned char *sig, size_t *sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
		EVP_DigestSign(ctx, sig, sig_len, data, len) != 1)
		*sig_len = 0;
	EVP_MD_CTX_free(ctx);
}

/* A CMS with signing time and content digest, as CMS_sign makes by default. */
static int with_attributes(EVP_PKEY *key, X509 *cert, const unsigned char *data, size_t len, struct rombsr_buf *der)
{
	BIO *in = BIO_new_mem_buf(data, (int)len);
	CMS_ContentInfo *cms = CMS_sign(cert, key, NULL, in, CMS_DETACHED | CMS_BINARY);
	unsigned char *out = NULL;
	int n = cms ? i2d_CMS_ContentInfo(cms, &out) : -1;

	rombsr_buf_init(der, CAP);
	if (n > 0)
		rombsr_buf_append(der, out, (size_t)n);
	OPENSSL_free(out);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	return n > 0;
}

static void test_cms(void)
{
	EVP_PKEY *key = EVP_RSA_gen(2048), *other = EVP_RSA_gen(2048);
	X509 *cert = self_signed(key, "ota_key"), *other_cert = self_signed(other, "platform");
	struct rombsr_buf z, der, der2, attrs;
	unsigned char sig[512];
	size_t eocd = 0, sig_len = sizeof(sig);
	struct rombsr_ota_layout l;

	make_zip(&z);
	rombsr_ota_unsigned_eocd(z.data, z.len, &eocd);
	sign_sha256(key, z.data, eocd + 20, sig, &sig_len);
	CHECK(sig_len == 256, "signed with a fresh RSA-2048 key");
	CHECK(rombsr_ota_cms_build(cert, sig, sig_len, &der) == 0, "CMS built without the private key");
	CHECK(rombsr_ota_cms_build(cert, sig, sig_len, &der2) == 0 && der.len == der2.len &&
		      memcmp(der.data, der2.data, der.len) == 0,
	      "the same inputs give the same %zu bytes", der.len);
	CHECK(rombsr_ota_cms_verify(der.data, der.len, z.data, eocd + 20, cert) == 0, "CMS verifies");
	CHECK(rombsr_ota_append_signature(&z, eocd, der.data, der.len) == 0, "appended");
	CHECK(rombsr_ota_verify(z.data, z.len, cert) == 0, "signed package verifies");
	CHECK(rombsr_ota_layout_parse(z.data, z.len, &l) == 0 && l.cms_len == der.len, "layout");

	z.data[3] ^= 1;
	CHECK(tap_fails(rombsr_ota_verify(z.data, z.len, cert), ROMBSR_ESECURITY, "does not verify over the"),
	      "a changed byte of the zip");
	z.data[3] ^= 1;
	z.data[l.cms + l.cms_len - 1] ^= 1;
	CHECK(tap_fails(rombsr_ota_verify(z.data, z.len, cert), ROMBSR_ESECURITY, "does not verify"),
	      "a changed byte of the signature");
	z.data[l.cms + l.cms_len - 1] ^= 1;
	CHECK(tap_fails(rombsr_ota_verify(z.data, z.len, other_cert), ROMBSR_ESECURITY, "signed by another key: the "
		    "signer is not /CN=platform"), "another certificate");
	CHECK(tap_fails(rombsr_ota_cms_verify(der.data, der.len - 1, z.data, eocd + 20, cert), ROMBSR_ESECURITY,
		    "not DER CMS"), "CMS cut short");
	rombsr_buf_append(&der, "", 1);
	CHECK(tap_fails(rombsr_ota_cms_verify(der.data, der.len, z.data, eocd + 20, cert), ROMBSR_ESECURITY,
		    "1 bytes follow the CMS"), "a byte after the CMS");
	CHECK(with_attributes(key, cert, z.data, eocd + 20, &attrs), "CMS with signed attributes made");
	CHECK(tap_fails(rombsr_ota_cms_verify(attrs.data, attrs.len, z.data, eocd + 20, cert), ROMBSR_ESECURITY,
		    "signed attributes"), "signed attributes refused");
	rombsr_buf_free(&attrs);
	rombsr_buf_free(&der);
	rombsr_buf_free(&der2);
	rombsr_buf_free(&z);
	X509_free(cert);
	X509_free(other_cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

int main(void)
{
	test_unsigned();
	test_layout();
	test_cms();
	return tap_done();
}
