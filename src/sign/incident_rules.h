/* The sign node's side of the incident records (src/queue/incident.h,
 * docs/formats/incident.md): whether signing is frozen at the head a pass
 * decides on, whether a key is revoked there, and the audit entries that
 * record each record the node saw. The node keeps no state of its own for
 * them: the verified queue is the state, so a restart, a second node or a
 * restored node all read the same answer. */
#ifndef ROMBSR_SIGN_INCIDENT_RULES_H
#define ROMBSR_SIGN_INCIDENT_RULES_H

#include "audit_writer.h"

#include "../queue/incident.h"
#include "../queue/repo.h"

#include <stdbool.h>

/* The freeze record at head; *frozen false when there is none or it says
 * "thawed". A record that does not read (the verifier refuses one, so only
 * a damaged copy) counts as frozen: when in doubt, sign nothing. why gets
 * the sentence a rejection carries. */
int rombsr_sign_freeze_state(struct rombsr_repo *repo, const git_oid *head, bool *frozen, char *why, size_t size);

/* Whether revocations/<fingerprint>.json is at head. */
int rombsr_sign_key_revoked(struct rombsr_repo *repo, const git_oid *head, const char *fingerprint, bool *revoked);

/* The audit entry of an incident record that commit added or changed:
 * key-revocation (path names the key) or freeze. */
int rombsr_sign_log_incident(struct rombsr_audit_writer *w, struct rombsr_repo *repo, const git_oid *commit,
			     const char *path);

#endif
