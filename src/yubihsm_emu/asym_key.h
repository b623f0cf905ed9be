/* Asymmetric keys in the device's layout (asym_key.c): RSA
 * p || q || dp || dq || qinv || n (halves of the modulus size, n whole),
 * EC d || x || y; to and from OpenSSL keys. Functions return 0 or -1. */
#ifndef ROMBSR_YH_EMU_ASYM_KEY_H
#define ROMBSR_YH_EMU_ASYM_KEY_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* The modulus or field size in bytes of an algorithm, 0 if not one of
 * RSA-2048/3072/4096 or EC P-256/P-384. */
size_t emu_asym_size(uint8_t algorithm);
int emu_asym_is_rsa(uint8_t algorithm);
/* A fresh key of algorithm: *data malloc'd in the device's layout. */
int emu_asym_generate(uint8_t algorithm, uint8_t **data, size_t *len);
/* From Put Asymmetric Key's material (RSA p || q, EC d). */
int emu_asym_import(uint8_t algorithm, const uint8_t *in, size_t in_len, uint8_t **data, size_t *len);
EVP_PKEY *emu_asym_pkey(uint8_t algorithm, const uint8_t *data, size_t len);
/* The public part as Get Public Key answers it: n, or x || y. */
size_t emu_asym_public(uint8_t algorithm, const uint8_t *data, size_t len, const uint8_t **pub);

#endif
