/* audit-verify's checks of the incident entries (docs/audit-log.md,
 * docs/formats/incident.md): each key-revocation and freeze entry must be
 * what the queue holds at the commit it names, and no signature entry may
 * follow the key-revocation entry of its key (a sign node that signed
 * with a revoked key). */
#ifndef ROMBSR_CLI_AUDIT_INCIDENT_H
#define ROMBSR_CLI_AUDIT_INCIDENT_H

#include "../audit/entry.h"
#include "../queue/repo.h"

#include <stddef.h>
#include <stdint.h>

struct audit_revoked {
	char fingerprint[65];
	uint64_t index;       /* of its key-revocation entry */
};

struct audit_incidents {
	struct audit_revoked *revoked;
	size_t n, alloc;
};

/* e (a key-revocation or freeze entry, any other is ignored) against the
 * queue's file at e->commit; a key-revocation is remembered. */
int audit_incident_entry(struct audit_incidents *s, struct rombsr_repo *repo, const struct rombsr_audit_entry *e);
/* The index of the revocation of a signature entry's key before it, if
 * any: *revoked is then set. */
void audit_incident_revoked_before(const struct audit_incidents *s, const struct rombsr_audit_entry *e, bool *revoked,
				   uint64_t *at);
void audit_incidents_free(struct audit_incidents *s);

#endif
