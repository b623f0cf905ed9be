/* The CMS SignedData of an OTA package's whole-file signature, as signapk
 * makes it and recovery reads it: detached content, SHA-256, one SignerInfo
 * naming the certificate by issuer and serial, the certificate itself, and
 * no signed attributes, so the signature is PKCS#1 v1.5 over the signed
 * bytes themselves (recovery verifies exactly that). */
#ifndef ROMBSR_OTA_CMS_H
#define ROMBSR_OTA_CMS_H

#include "../common/buf.h"

#include <openssl/x509.h>
#include <stddef.h>

/* The DER SignedData around sig, a signature the token made over the
 * signed bytes (CKM_SHA256_RSA_PKCS) with the key of cert. Needs no
 * private key; the same inputs always give the same bytes. der is
 * initialized here. */
int rombsr_ota_cms_build(X509 *cert, const unsigned char *sig, size_t sig_len, struct rombsr_buf *der);

/* Checks that der is such a SignedData, signed by cert's key, over data.
 * ROMBSR_ESECURITY naming what failed (not CMS, another signer, signed
 * attributes, another algorithm, a signature that does not verify);
 * ROMBSR_ECRYPTO only if OpenSSL itself fails. */
int rombsr_ota_cms_verify(const unsigned char *der, size_t der_len, const unsigned char *data, size_t len,
	X509 *cert);

/* A package's whole-file signature: rombsr_ota_layout_parse(), then the
 * CMS it finds verified against cert. */
int rombsr_ota_verify(const unsigned char *zip, size_t len, X509 *cert);

#endif
