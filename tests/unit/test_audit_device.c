/* audit-verify's check of a YubiHSM's log bound into the audit log
 * (src/cli/audit_device.h, docs/yubihsm.md "The device's log"): entries
 * made as the device chains them; a gap, a broken chain or an unmatched
 * signature passes only with the anomaly entry the node logs before it. */
#include "tap.h"

#include "../../src/cli/audit_device.h"
#include "../../src/common/error.h"
#include "../../src/common/hex.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char previous[16];

/* The next device entry chains from this one's digest. */
static void after(const struct rombsr_audit_entry *e)
{
	unsigned char raw[32];

	if (rombsr_hex_decode(e->digest, raw, sizeof(raw), "digest") < 0)
		abort();
	memcpy(previous, raw + 16, 16);
}

/* Device entry `number` chained from the last one made (or after()), as a
 * device-log audit entry naming request; break_chain spoils its digest. */
static struct rombsr_audit_entry device(uint16_t number, const char *request, bool break_chain)
{
	struct rombsr_audit_entry e;
	unsigned char raw[32] = {(unsigned char)(number >> 8), (unsigned char)number, 0x40}, in[32], md[32];

	memcpy(in, raw, 16);
	memcpy(in + 16, previous, 16);
	SHA256(in, sizeof(in), md);
	memcpy(raw + 16, md, 16);
	if (break_chain)
		raw[31] ^= 1;
	memcpy(previous, raw + 16, 16);
	memset(&e, 0, sizeof(e));
	e.type = ROMBSR_AUDIT_DEVICE_LOG;
	rombsr_hex_encode(raw, sizeof(raw), e.digest);
	snprintf(e.request_id, sizeof(e.request_id), "%s", request);
	return e;
}

static struct rombsr_audit_entry anomaly(const char *reason)
{
	struct rombsr_audit_entry e;

	memset(&e, 0, sizeof(e));
	e.type = ROMBSR_AUDIT_DEVICE_LOG_ANOMALY;
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	return e;
}

/* Runs the entries through a fresh checker: 0, or the first refusal. */
static int run(const struct rombsr_audit_entry *entries, size_t n, struct audit_device *d)
{
	int r = 0;

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < n && r == 0; i++)
		r = audit_device_entry(d, &entries[i], i);
	return r;
}

int main(void)
{
	struct rombsr_audit_entry e[8];
	struct audit_device d;

	e[0] = device(1, "-", false);
	e[1] = device(2, "0123456789abcdef0123456789abcdef", false);
	e[2] = device(3, "-", false);
	CHECK(run(e, 3, &d) == 0 && d.entries == 3, "an unbroken chain passes");

	e[2] = device(5, "-", false);
	CHECK(tap_fails(run(e, 3, &d), ROMBSR_ESECURITY, "device log entry 5 follows 2, and no anomaly was logged"),
	      "a gap without its anomaly is refused");
	e[2] = anomaly("gap");
	e[3] = device(6, "-", false);
	CHECK(run(e, 4, &d) == 0 && d.anomalies == 1, "a gap after its anomaly entry passes");

	after(&e[1]);
	e[2] = device(3, "-", true);
	e[3] = device(4, "-", false);
	CHECK(tap_fails(run(e, 3, &d), ROMBSR_ESECURITY, "audit entry 2: device log entry 3 does not chain from entry 2"),
	      "a broken chain without its anomaly is refused");
	e[4] = e[3];
	e[3] = e[2];
	e[2] = anomaly("broken-chain");
	CHECK(run(e, 5, &d) == 0, "a broken chain after its anomaly entry passes, and the chain goes on from there");

	after(&e[1]);
	e[2] = device(3, "unmatched", false);
	CHECK(tap_fails(run(e, 3, &d), ROMBSR_ESECURITY, "an unmatched device signature without its anomaly entry"),
	      "an unmatched signature without its anomaly is refused");
	e[3] = e[2];
	e[2] = anomaly("unmatched-signature");
	CHECK(run(e, 4, &d) == 0 && d.unmatched == 1, "an unmatched signature after its anomaly passes");
	/* One anomaly excuses one entry: a later unmatched signature needs its own. */
	e[4] = device(4, "-", false);
	e[5] = device(5, "unmatched", false);
	CHECK(tap_fails(run(e, 6, &d), ROMBSR_ESECURITY, "audit entry 5: an unmatched device signature"),
	      "an earlier anomaly does not excuse a later unmatched signature");

	/* The first entry after a gap is itself unmatched: the node logs both
	 * anomalies before it, and both are honoured. */
	e[2] = anomaly("gap");
	e[3] = anomaly("unmatched-signature");
	e[4] = device(9, "unmatched", false);
	e[5] = device(10, "-", false);
	CHECK(run(e, 6, &d) == 0 && d.anomalies == 2 && d.unmatched == 1, "a gap and an unmatched signature at once pass");

	memset(&e[0], 0, sizeof(e[0]));
	e[0].type = ROMBSR_AUDIT_DEVICE_LOG;
	snprintf(e[0].digest, sizeof(e[0].digest), "00ff");
	CHECK(tap_fails(run(e, 1, &d), ROMBSR_ESECURITY, "a device-log entry that is not 32 bytes"),
	      "an entry of the wrong size is refused");
	return tap_done();
}
