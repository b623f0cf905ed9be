/* Incident records in the queue (docs/formats/incident.md), both written
 * only by a pinned admin (the hook, the sign node and queue-verify check
 * the committer; the hook also parses them):
 *
 *   incident/freeze.json            the signing state, "frozen" or
 *                                   "thawed": while frozen the sign node
 *                                   rejects every request (frozen). Freeze
 *                                   and thaw each replace the file, so its
 *                                   history in git is the freeze log.
 *   revocations/<spki-sha256>.json  a key revoked for good: the sign node
 *                                   refuses it (key-revoked), apply refuses
 *                                   its signatures in any response
 *                                   committed after this file. Added once,
 *                                   never changed or removed.
 *
 * A revocation names the key by the SHA-256 of its SubjectPublicKeyInfo,
 * not by label: a key generated later under the same label (a rotation) is
 * another key and stays usable. */
#ifndef ROMBSR_QUEUE_INCIDENT_H
#define ROMBSR_QUEUE_INCIDENT_H

#include "../common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define ROMBSR_FREEZE_PATH "incident/freeze.json"
#define ROMBSR_FREEZE_FORMAT "rombsr.freeze"
#define ROMBSR_REVOCATION_DIR "revocations"
#define ROMBSR_REVOCATION_FORMAT "rombsr.revocation"
#define ROMBSR_INCIDENT_VERSION 1
#define ROMBSR_INCIDENT_MAX_BYTES 16384
#define ROMBSR_INCIDENT_REASON_MAX 256
#define ROMBSR_INCIDENT_URI_MAX 512

struct rombsr_freeze {
	bool frozen;                                /* state: "frozen" or "thawed" */
	char reason[ROMBSR_INCIDENT_REASON_MAX + 1]; /* printable ASCII, 1..256 */
	char admin[41];                             /* the admin who committed it */
	time_t time;
};

struct rombsr_revocation {
	char key_fingerprint[65];                   /* SHA-256 of the key's SPKI, lower-case hex */
	char key_label[65];
	char token[33];
	char key_uri[ROMBSR_INCIDENT_URI_MAX + 1];  /* pkcs11:token=...;object=... (RFC 7512) */
	char reason[ROMBSR_INCIDENT_REASON_MAX + 1];
	char admin[41];
	time_t time;
};

int rombsr_freeze_parse(const char *text, size_t len, struct rombsr_freeze *out);
/* Canonical text: sorted keys, two-space indent, trailing newline. */
int rombsr_freeze_encode(const struct rombsr_freeze *f, struct rombsr_buf *out);

int rombsr_revocation_parse(const char *text, size_t len, struct rombsr_revocation *out);
int rombsr_revocation_encode(const struct rombsr_revocation *v, struct rombsr_buf *out);

/* "revocations/<fpr>.json" for a 64-hex fingerprint. */
int rombsr_revocation_path(const char *fingerprint, char *out, size_t size);
/* The fingerprint a path of the revocation folder names, or false. */
bool rombsr_revocation_path_match(const char *path, char fingerprint[65]);

/* A reason as the formats take it: 1..256 printable ASCII characters. */
bool rombsr_incident_reason_valid(const char *s);

#endif
