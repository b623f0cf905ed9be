/* ECDSA signatures in their two shapes: PKCS#11 returns r||s, each the
 * field's length; X.509, OpenSSL, apksig and the release manifest carry the
 * DER SEQUENCE of two INTEGERs. */
#ifndef ROMBSR_ECDSA_SIG_H
#define ROMBSR_ECDSA_SIG_H

#include <stddef.h>

/* DER of raw (r||s, an even length); *der is OPENSSL_malloc'd. */
int rombsr_ecdsa_raw_to_der(const unsigned char *raw, size_t raw_len, unsigned char **der, size_t *der_len);

#endif
