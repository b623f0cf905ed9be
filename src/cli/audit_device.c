#include "audit_device.h"

#include "../common/device_chain.h"
#include "../common/error.h"
#include "../common/hex.h"

#include <string.h>

int audit_device_entry(struct audit_device *d, const struct rombsr_audit_entry *e, uint64_t index)
{
	unsigned char raw[32];
	uint16_t number;
	int r;

	/* The node logs a device entry's anomalies just before it, a break
	 * and an unmatched signature both for the same entry if need be. */
	if (e->type == ROMBSR_AUDIT_DEVICE_LOG_ANOMALY) {
		d->anomalies++;
		d->excused = d->excused || strcmp(e->reason, "gap") == 0 || strcmp(e->reason, "broken-chain") == 0 ||
			     strcmp(e->reason, "device-restarted") == 0;
		d->unmatched_announced = d->unmatched_announced || strcmp(e->reason, "unmatched-signature") == 0;
		return 0;
	}
	if (e->type != ROMBSR_AUDIT_DEVICE_LOG)
		return 0;
	r = rombsr_hex_decode(e->digest, raw, sizeof(raw), "device-log entry");
	if (r < 0)
		return rombsr_error(ROMBSR_ESECURITY, "audit entry %llu: a device-log entry that is not 32 bytes",
				    (unsigned long long)index);
	number = (uint16_t)(raw[0] << 8 | raw[1]);
	if (d->have_last && !d->excused && number != (uint16_t)(d->last_number + 1))
		return rombsr_error(ROMBSR_ESECURITY, "audit entry %llu: device log entry %u follows %u, and no anomaly "
						      "was logged", (unsigned long long)index, number, d->last_number);
	if (d->have_last && !d->excused && !rombsr_device_entry_chains(raw, d->last_digest))
		return rombsr_error(ROMBSR_ESECURITY, "audit entry %llu: device log entry %u does not chain from entry %u",
				    (unsigned long long)index, number, d->last_number);
	if (strcmp(e->request_id, "unmatched") == 0) {
		if (!d->unmatched_announced)
			return rombsr_error(ROMBSR_ESECURITY, "audit entry %llu: an unmatched device signature without "
							      "its anomaly entry", (unsigned long long)index);
		d->unmatched++;
	}
	d->excused = false;
	d->unmatched_announced = false;
	d->have_last = true;
	d->last_number = number;
	memcpy(d->last_digest, raw + 16, 16);
	d->entries++;
	return 0;
}
