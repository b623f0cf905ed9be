/* The chain of a YubiHSM's own audit log, as ROMbsr's log carries it in
 * device-log entries (docs/yubihsm.md, "The device's log"): checked by the
 * worker when it logs them and by audit-verify when it reads them. */
#ifndef ROMBSR_AUDIT_DEVICE_CHAIN_H
#define ROMBSR_AUDIT_DEVICE_CHAIN_H

#include <stdbool.h>

#define ROMBSR_DEVICE_ENTRY_LEN 32
#define ROMBSR_DEVICE_DIGEST_LEN 16

/* Whether entry's digest (its last 16 bytes) is the first 16 bytes of
 * SHA-256(its first 16 bytes || previous). */
bool rombsr_device_entry_chains(const unsigned char entry[ROMBSR_DEVICE_ENTRY_LEN],
				const unsigned char previous[ROMBSR_DEVICE_DIGEST_LEN]);

#endif
