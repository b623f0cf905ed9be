/* Audit log entries and their canonical byte encoding, version 1
 * (docs/audit-log.md).
 *
 * An entry is one JSON object, serialized with keys sorted by byte value,
 * no whitespace, integers in plain decimal and strings limited to printable
 * ASCII without '"' and '\' (so no escape ever appears): exactly what
 * jansson's JSON_COMPACT | JSON_SORT_KEYS and Python's
 * json.dumps(o, sort_keys=True, separators=(",", ":")) print. The Merkle leaf
 * is those bytes, without the newline that ends the line in the log file.
 *
 * Every entry carries "v" (1), "type", "index" (0, 1, 2, ... in log order),
 * "time" (seconds since 1970 UTC, never decreasing) and "prev" (hex of the
 * RFC 6962 leaf hash of the previous entry, 64 zeros for entry 0: it lets a
 * verifier name exactly which entry was edited). The other fields depend on
 * the type; each type has a fixed set of required fields and no others. */
#ifndef ROMBSR_AUDIT_ENTRY_H
#define ROMBSR_AUDIT_ENTRY_H

#include "merkle.h"

#include "../common/buf.h"
#include "../common/capture_format.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROMBSR_AUDIT_ENTRY_VERSION 1
#define ROMBSR_AUDIT_ENTRY_MAX 8192 /* bytes of one encoded entry */
#define ROMBSR_AUDIT_ID_MAX 128
#define ROMBSR_AUDIT_TEXT_MAX 256
#define ROMBSR_AUDIT_MAX_APPROVERS 32
#define ROMBSR_AUDIT_TIME_MAX 253402300799ULL /* 9999-12-31T23:59:59Z */

enum rombsr_audit_type {
	ROMBSR_AUDIT_NONE = 0,
	ROMBSR_AUDIT_REQUEST_SIGNED,   /* "request-signed" */
	ROMBSR_AUDIT_REQUEST_REJECTED, /* "request-rejected" */
	ROMBSR_AUDIT_SIGNATURE,        /* "signature" */
	ROMBSR_AUDIT_APPROVALS,        /* "approvals" */
	ROMBSR_AUDIT_POLICY_APPLIED,   /* "policy-applied" */
	ROMBSR_AUDIT_KEY_GENERATED,    /* "key-generated" */
	ROMBSR_AUDIT_KEY_REVOKED,      /* "key-revoked" */
	ROMBSR_AUDIT_HSM_LOGIN,        /* "hsm-login" */
	ROMBSR_AUDIT_POLICY_REFUSED,   /* "policy-refused" */
	ROMBSR_AUDIT_UNDERSTOOD,       /* "understood": what a signed operation's data is */
	ROMBSR_AUDIT_KEY_REVOCATION,   /* "key-revocation": an admin's revocation in the queue */
	ROMBSR_AUDIT_FREEZE,           /* "freeze": signing frozen or thawed by an admin */
	ROMBSR_AUDIT_SERVER_CLIENT,    /* "server-client": who asked the signing server (docs/server.md) */
	ROMBSR_AUDIT_DEVICE_LOG,       /* "device-log": one entry of a YubiHSM's own log (docs/yubihsm.md) */
	ROMBSR_AUDIT_DEVICE_LOG_ANOMALY, /* "device-log-anomaly": a gap, a broken chain, an unmatched signature */
};

/* Field kinds (see docs/audit-log.md):
 *   id      1..128 of [A-Za-z0-9._:/@+=-]
 *   hex64   64 lower-case hex digits
 *   commit  40 or 64 lower-case hex digits (git SHA-1 or SHA-256)
 *   digest  2..2048 lower-case hex digits, even count (a digest, or the
 *           DigestInfo or raw block a client asked the token to sign);
 *           digest-or-empty: the same, or ""
 *   text    0..256 printable ASCII characters other than '"' and '\'
 *   count   integer 0 .. 2^53-1 */
struct rombsr_audit_entry {
	enum rombsr_audit_type type;
	uint64_t index;  /* set by rombsr_audit_log_append() */
	uint64_t time;   /* 0 = now, when appended */
	unsigned char prev[ROMBSR_MERKLE_HASH_LEN]; /* set by append */

	char request_id[ROMBSR_AUDIT_ID_MAX + 1];       /* id */
	char request_commit[65];                        /* commit */
	uint64_t signatures;                            /* count: request-signed */
	char reason[ROMBSR_AUDIT_ID_MAX + 1];           /* id: rejection / refusal / revocation code */
	char detail[ROMBSR_AUDIT_TEXT_MAX + 1];         /* text */
	char artifact_sha256[65];                       /* hex64 */
	char key_fingerprint[65];                       /* hex64: SHA-256 of the key's SPKI */
	char key_label[ROMBSR_AUDIT_ID_MAX + 1];        /* id */
	char mechanism[ROMBSR_AUDIT_ID_MAX + 1];        /* id, e.g. "ecdsa-sha256" */
	char digest[2 * ROMBSR_CAP_TBS_MAX + 1];        /* digest: the bytes the HSM signed */
	char signature_sha256[65];                      /* hex64 */
	uint64_t required;                              /* count: approvals the policy needs */
	char approvers[ROMBSR_AUDIT_MAX_APPROVERS][65]; /* commit-style fingerprints of the counted
	                                                 * approvals, strictly ascending */
	size_t n_approvers;
	char subject[ROMBSR_AUDIT_ID_MAX + 1];          /* "policy" or "trust" */
	char commit[65];                                /* commit */
	char sha256[65];                                /* hex64 */
	char previous_sha256[65];                       /* hex64 or "" */
	char algorithm[ROMBSR_AUDIT_ID_MAX + 1];        /* id, e.g. "rsa-4096" */
	char token[ROMBSR_AUDIT_ID_MAX + 1];            /* id */
	char role[ROMBSR_AUDIT_ID_MAX + 1];             /* id */
	char result[ROMBSR_AUDIT_ID_MAX + 1];           /* "ok" or "failed" */
	char kind[ROMBSR_AUDIT_ID_MAX + 1];             /* "avb-vbmeta": the kind of data understood */
	char content_digest[2 * 64 + 1];                /* digest or "": what the understood data says its
	                                                 * artifact's content hashes to */
	char state[ROMBSR_AUDIT_ID_MAX + 1];            /* "frozen" or "thawed" */
	char client_certificate[65];                    /* hex64: SHA-256 of a TLS client certificate's DER */
	char build_node[65];                            /* commit: the build node's fingerprint, lower case */
	char route[ROMBSR_AUDIT_ID_MAX + 1];            /* id: the server's route, e.g. "/v1/sign" */
};

const char *rombsr_audit_type_name(enum rombsr_audit_type type);
/* ROMBSR_AUDIT_NONE if unknown. */
enum rombsr_audit_type rombsr_audit_type_from_name(const char *name);

/* Whether s is of the "id" kind: what a filter on ids (a key label, a
 * request ID) may be compared with. */
bool rombsr_audit_is_id(const char *s);

/* Canonical bytes of e (no newline); out is initialized here. Refuses
 * entries whose fields do not fit their kinds, naming the field. */
int rombsr_audit_entry_encode(const struct rombsr_audit_entry *e, struct rombsr_buf *out);
/* Strict decoding: valid JSON, no duplicate or unknown keys, all required
 * fields of the type, every field of its kind, and the bytes must be exactly
 * the canonical encoding of the result. */
int rombsr_audit_entry_decode(const char *data, size_t len, struct rombsr_audit_entry *e);

#endif
