/* audit-verify's check of a YubiHSM's own log as the sign node bound it
 * into ROMbsr's (docs/yubihsm.md, "The device's log"): the device-log
 * entries, in log order, must carry consecutive device entries each of
 * whose digest chains from the one before, except where the sign node
 * logged a device-log-anomaly saying why not. */
#ifndef ROMBSR_CLI_AUDIT_DEVICE_H
#define ROMBSR_CLI_AUDIT_DEVICE_H

#include "../audit/entry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct audit_device {
	bool have_last;
	bool excused;           /* an anomaly entry announced the next break */
	bool unmatched_announced; /* ... or that the next entry is an unmatched signature */
	uint16_t last_number;
	unsigned char last_digest[16];
	size_t entries, anomalies, unmatched;
};

int audit_device_entry(struct audit_device *d, const struct rombsr_audit_entry *e, uint64_t index);

#endif
