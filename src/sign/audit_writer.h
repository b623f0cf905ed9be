/* The sign node's audit role, on the worker's side: turns each decision
 * into audit log entries (durable before the response that refers to them
 * is published), has the audit signer sign a checkpoint once per published batch,
 * gives each response its entry index and inclusion proof, and hands the
 * queue the entries and checkpoint it has not seen yet (docs/audit-log.md).
 *
 * The log itself is <state>/sign/audit, written only here; the queue holds
 * a copy that anyone can verify. */
#ifndef ROMBSR_SIGN_AUDIT_WRITER_H
#define ROMBSR_SIGN_AUDIT_WRITER_H

#include "../common/buf.h"
#include "../queue/repo.h"
#include "../queue/request.h"
#include "../queue/response.h"

#include <stdbool.h>
#include <stdint.h>

struct rombsr_audit_writer;

/* dir: the sign node's state folder; signer_fd: the audit signer's channel. */
int rombsr_audit_writer_open(const char *dir, const char *origin, int signer_fd, struct rombsr_audit_writer **out);
void rombsr_audit_writer_close(struct rombsr_audit_writer *w);

/* An hsm-login entry for a signer that logged in to the token labelled
 * token_label (as its signer reported it). */
int rombsr_audit_writer_login(struct rombsr_audit_writer *w, const char *token_label, const char *role);

/* The operator approvals a signed request was counted to have. */
struct rombsr_audit_approvals {
	uint64_t required;
	const char (*approvers)[41];  /* OpenPGP fingerprints, ascending */
	size_t n;
};

/* A key one of the node's tokens holds, as the key events name it. */
struct rombsr_audit_key {
	const char *token;       /* label of the token that holds it, as its signer reported it */
	const char *label;
	const char *fingerprint; /* SHA-256 of its DER SubjectPublicKeyInfo, hex */
	const char *algorithm;   /* rombsr_key_algorithm_name(): "rsa-4096", "ec-p256", "ec-p384" */
};

/* Brings the log's key events up to date with the keys the tokens in
 * token_labels hold now (keys, each naming one of those tokens): a
 * key-generated entry for every key whose fingerprint the log does not
 * record as present, a key-revoked entry (reason "removed") for every key
 * the log records in one of these tokens that is no longer there. Tokens
 * not listed (an authority this node does not serve this time) are left
 * alone. What is present is read from the log itself, so a restart logs
 * nothing twice; all events of a call are one durable write. *added is the
 * number of entries appended. */
int rombsr_audit_writer_keys(struct rombsr_audit_writer *w, const char *const *token_labels, size_t ntokens,
			     const struct rombsr_audit_key *keys, size_t nkeys, size_t *added);

/* Logs resp's decision: request-signed plus one signature entry per
 * signature, or request-rejected; all or nothing. req is the parsed
 * request, or NULL if it did not parse. approvals (NULL: none were needed)
 * goes into the same batch as an approvals entry just before
 * request-signed, outside the range [*index, *index + *count) the response
 * names. Logging the same request again (after a crash before publishing)
 * finds the entries already there. client: NULL for a queued request. */
/* Who asked, for a request made to the signing server (docs/server.md):
 * logged as a server-client entry just before the decision, in the same
 * batch. Its decision has no response to wait for in the queue. */
struct rombsr_audit_client {
	const char *commit;             /* hex: the queue commit whose clients list was used */
	const char *certificate_sha256; /* hex */
	const char *build_node;         /* fingerprint */
	const char *route;
};
int rombsr_audit_writer_decision(struct rombsr_audit_writer *w, const struct rombsr_response *resp,
				 const struct rombsr_request *req, const struct rombsr_audit_approvals *approvals,
				 const struct rombsr_audit_client *client, uint64_t *index, uint64_t *count);

/* One signature entry per signature in resp (a rejected request's: made by
 * the HSM before or beside the refusal, never handed out), durable when
 * it returns. */
int rombsr_audit_writer_unused(struct rombsr_audit_writer *w, const struct rombsr_response *resp,
			       const struct rombsr_request *req);
/* A policy-applied entry (subject "policy" or "trust"), or with reason set
 * a policy-refused entry, durable when it returns. */
struct rombsr_audit_change {
	const char *subject;
	const char *commit;           /* hex */
	const char *sha256;           /* of the new content */
	const char *previous_sha256;  /* "" if none */
	const char *reason;           /* NULL: applied */
	const char *detail;
};
int rombsr_audit_writer_change(struct rombsr_audit_writer *w, const struct rombsr_audit_change *change);

/* Appends one entry made by the caller (the incident records, incident.h
 * in src/sign), durable when it returns. */
struct rombsr_audit_entry;
int rombsr_audit_writer_append(struct rombsr_audit_writer *w, struct rombsr_audit_entry *e);
/* n of them with one sync, all or nothing (the device log's entries). */
int rombsr_audit_writer_append_batch(struct rombsr_audit_writer *w, struct rombsr_audit_entry *e, size_t n);

/* Whether the log holds a server-client entry for request_id (NULL: for
 * any request) at index from or later (the signing server's recovery and
 * publication, serve.h). */
int rombsr_audit_writer_server_logged(struct rombsr_audit_writer *w, uint64_t from, const char *request_id,
				      bool *logged);
/* Deferred durability (rombsr_audit_log_defer_sync()): several decisions
 * logged, then one sync before any is answered. */
/* The log itself, for reading entries back (device_log.c). */
const struct rombsr_audit_log *rombsr_audit_writer_log(const struct rombsr_audit_writer *w);
void rombsr_audit_writer_defer_sync(struct rombsr_audit_writer *w, bool defer);
int rombsr_audit_writer_sync(struct rombsr_audit_writer *w);
/* True if the log holds entries the queue has not been sent yet. */
bool rombsr_audit_writer_unpublished(const struct rombsr_audit_writer *w);
/* Entries in the log, and how many of them the queue holds (metrics). */
void rombsr_audit_writer_sizes(const struct rombsr_audit_writer *w, uint64_t *entries, uint64_t *published);

/* Has the audit signer sign a checkpoint of the whole log, if it grew
 * since the last one. */
int rombsr_audit_writer_checkpoint(struct rombsr_audit_writer *w);

/* Sets resp's audit fields: entries index..index+count-1, with a proof of
 * the first against the latest checkpoint. */
int rombsr_audit_writer_attach(struct rombsr_audit_writer *w, struct rombsr_response *resp, uint64_t index,
			       uint64_t count);

/* What the queue at head lacks: the entries it does not hold yet as one
 * chunk, and the latest checkpoint. Paths are the queue's; a buffer is
 * left empty (len 0) when there is nothing to add. */
struct rombsr_audit_files {
	char chunk_path[128], checkpoint_path[128];
	struct rombsr_buf chunk, checkpoint;
	uint64_t size; /* the log's size once they are published */
};
int rombsr_audit_writer_files(struct rombsr_audit_writer *w, struct rombsr_repo *repo, const git_oid *head,
			      struct rombsr_audit_files *files);
void rombsr_audit_files_free(struct rombsr_audit_files *files);
/* Remembers that the queue now holds size entries. */
int rombsr_audit_writer_published(struct rombsr_audit_writer *w, uint64_t size);

#endif
