/* The OTA package's whole-file signature (src/ota/, docs/ota.md): what
 * `ota verify` reads from a package it is handed, and the unsigned zip
 * `ota sign` accepts. A layout that parses must point inside the file; a
 * zip accepted for signing must take a signature that then parses back. */
#include "keys.h"
#include "util.h"

#include "../src/common/error.h"
#include "../src/ota/cms.h"
#include "../src/ota/zip.h"

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *platform_cert(void)
{
	static X509 *cert;
	BIO *b;

	if (cert == NULL) {
		b = BIO_new_mem_buf(FUZZ_PLATFORM_PEM, -1);
		cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		fuzz_check(cert != NULL, "platform certificate");
	}
	return cert;
}

/* Signs a copy with a stand-in CMS: it must parse back to that CMS. */
static void sign_unsigned(const uint8_t *data, size_t size)
{
	static const unsigned char cms[64] = {0x30, 0x3e};
	struct rombsr_ota_layout l;
	struct rombsr_buf z;
	size_t eocd;
	int r;

	if (rombsr_ota_unsigned_eocd(data, size, &eocd) != 0)
		return;
	rombsr_buf_init(&z, size + ROMBSR_OTA_COMMENT_MAX + 1);
	rombsr_buf_append(&z, data, size);
	r = rombsr_ota_append_signature(&z, eocd, cms, sizeof(cms));
	fuzz_check(r == 0 || r == ROMBSR_EINVAL, "a zip accepted for signing fails its own check");
	if (r == 0) {
		fuzz_check(rombsr_ota_layout_parse(z.data, z.len, &l) == 0 && l.eocd == eocd &&
				   l.cms_len == sizeof(cms) && l.signed_len == eocd + ROMBSR_OTA_EOCD_COMMENT_LEN,
			   "signed zip parses back");
	}
	rombsr_buf_free(&z);
}

/* Verifies with the certificate the CMS carries (so a seed signed by any
 * key reaches the signature check) and with a fixed one. */
static void verify_signed(const uint8_t *data, size_t size)
{
	struct rombsr_ota_layout l;
	const unsigned char *p;
	CMS_ContentInfo *cms;
	STACK_OF(X509) *certs = NULL;

	if (rombsr_ota_layout_parse(data, size, &l) != 0)
		return;
	fuzz_check(l.cms + l.cms_len + ROMBSR_OTA_FOOTER_SIZE == size && l.signed_len + 2 + l.comment_len == size &&
			   l.cms > l.eocd,
		   "layout points outside the file");
	p = data + l.cms;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)l.cms_len);
	if (cms != NULL)
		certs = CMS_get1_certs(cms);
	if (certs != NULL && sk_X509_num(certs) > 0)
		fuzz_check(rombsr_ota_verify(data, size, sk_X509_value(certs, 0)) != ROMBSR_EINTERNAL, "verify");
	fuzz_check(rombsr_ota_verify(data, size, platform_cert()) != ROMBSR_EINTERNAL, "verify (platform)");
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sign_unsigned(data, size);
	verify_signed(data, size);
	rombsr_error_clear();
	return 0;
}
