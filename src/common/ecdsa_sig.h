/* ECDSA signatures in their two shapes: PKCS#11 returns r||s, each the
 * field's length; X.509, OpenSSL, apksig and the release manifest carry the
 * DER SEQUENCE of two INTEGERs. */
#ifndef ROMBSR_ECDSA_SIG_H
#define ROMBSR_ECDSA_SIG_H

#include <stddef.h>

/* Largest raw signature: r||s of a P-384 key (P-256: 64 bytes). */
#define ROMBSR_ECDSA_RAW_MAX 96

/* DER of raw (r||s: an even length, 64 for P-256, 96 for P-384; at most
 * ROMBSR_ECDSA_RAW_MAX, else ROMBSR_EINVAL); *der is OPENSSL_malloc'd. */
int rombsr_ecdsa_raw_to_der(const unsigned char *raw, size_t raw_len, unsigned char **der, size_t *der_len);

#endif
