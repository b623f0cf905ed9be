/* The chain of a YubiHSM's own audit log (docs/yubihsm.md, "The device's
 * log"), in one place: the native client, the worker that logs the
 * entries and audit-verify that reads them back all check it here. (The
 * emulator, which makes the chain, keeps its own code: the two check each
 * other.) */
#ifndef ROMBSR_COMMON_DEVICE_CHAIN_H
#define ROMBSR_COMMON_DEVICE_CHAIN_H

#include <stdbool.h>

#define ROMBSR_DEVICE_ENTRY_LEN 32
#define ROMBSR_DEVICE_DIGEST_LEN 16

/* Whether entry's digest (its last 16 bytes) is the first 16 bytes of
 * SHA-256(its first 16 bytes || previous). */
bool rombsr_device_entry_chains(const unsigned char entry[ROMBSR_DEVICE_ENTRY_LEN],
				const unsigned char previous[ROMBSR_DEVICE_DIGEST_LEN]);

#endif
