/* What rombsr audit-anomalies looks for in the verified audit log
 * (docs/incident-response.md, "Audit"): the entries of a window compared
 * with what came before it. */
#ifndef ROMBSR_CLI_AUDIT_ANOMALIES_H
#define ROMBSR_CLI_AUDIT_ANOMALIES_H

#include "audit_clone.h"

#include <stddef.h>
#include <stdint.h>

struct anomaly_rules {
	uint64_t since, until;    /* the window examined: since <= time < until */
	unsigned hour_from, hour_to; /* signatures allowed from hour_from:00 to hour_to:00 UTC (0-24: always) */
	unsigned long volume_factor; /* a build node's signatures above factor x its usual */
	unsigned long volume_min;    /* ... and above this many */
	unsigned long baseline_days; /* "usual": the days before the window */
};

/* Prints one line per finding on stdout (kinds: off-hours, volume,
 * new-key, new-build-node, device-log: what the sign node logged as a
 * YubiHSM log anomaly) for the first vouched entries of ac's log;
 * *found counts them. Build nodes are read from the requests the decision
 * entries name, in the clone. */
int audit_anomalies(const struct audit_clone *ac, uint64_t vouched, const struct anomaly_rules *rules, size_t *found);

#endif
