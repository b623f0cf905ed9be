/* SCP03 primitives as the YubiHSM 2 uses them (GlobalPlatform Amendment D):
 * AES-CMAC, the KDF in counter mode, AES-CBC without padding and the
 * ISO 9797-1 method 2 padding of session messages. */
#ifndef ROMBSR_YH_EMU_SCP_H
#define ROMBSR_YH_EMU_SCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0 or -1 (an OpenSSL failure). */
int emu_cmac(const uint8_t key[16], const uint8_t *data, size_t len, uint8_t mac[16]);
/* The KDF: L bits (64 or 128) of derivation constant type over context
 * (host challenge || card challenge). */
int emu_kdf(const uint8_t key[16], uint8_t type, const uint8_t context[16], unsigned bits, uint8_t *out);
int emu_aes_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);
/* len a multiple of 16; out may not overlap in. */
int emu_aes_cbc(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, size_t len, uint8_t *out,
		bool encrypt);
/* Pads buf holding len bytes (0x80 then zeros to a multiple of 16; room
 * for 16 more bytes); returns the padded length. */
size_t emu_pad(uint8_t *buf, size_t len);
/* The unpadded length, or -1 if the padding is malformed. */
long emu_unpad(const uint8_t *buf, size_t len);
void emu_counter_increment(uint8_t counter[16]);

#endif
