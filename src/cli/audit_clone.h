/* The audit log as a clone of the queue holds it, for audit-verify,
 * audit-show and audit-proof: the chunks under audit/entries joined in
 * index order into a log folder (docs/audit-log.md, "In the queue"), the
 * checkpoints beside them, and the responses that refer to the log. */
#ifndef ROMBSR_CLI_AUDIT_CLONE_H
#define ROMBSR_CLI_AUDIT_CLONE_H

#include "cli.h"
#include "queue_client.h"

#include "../audit/checkpoint.h"
#include "../audit/log.h"

struct audit_clone {
	struct queue_client qc;
	git_oid head;
	char *dir;                    /* temporary log folder: entries, checkpoints/ */
	char (*responses)[128];       /* queue paths of every response */
	size_t nresponses;
	struct rombsr_note_verifier *trusted; /* from audit.vkey or --vkey */
	char *remembered;             /* <state>/audit-verified.checkpoint */
	struct rombsr_audit_log *log; /* opened by audit_clone_verify() */
	struct rombsr_audit_report report; /* of audit_clone_verify() */
};

/* Opens the queue (repo_path, or queue.url when NULL) and lays out its log.
 * A gap or overlap between chunks is a security error naming the index. */
int audit_clone_open(struct cli_context *ctx, const char *repo_path, const char *vkey_path, struct audit_clone *ac);
void audit_clone_close(struct audit_clone *ac);

/* Verifies the log (docs/audit-log.md, "Verification") against the trusted
 * key and origin and against the checkpoint this machine accepted last
 * time, then opens it as ac->log. Tampering, a fork (both checkpoints are
 * printed on stderr, prefixed with "rombsr <command>:") and a torn tail are
 * ROMBSR_ESECURITY, so the CLI exits 3; nothing of the log may be shown or
 * used before this succeeded. Entries past ac->report.latest.size are not
 * vouched for by any signed checkpoint. */
int audit_clone_verify(struct audit_clone *ac, const char *command);
/* audit_clone_open() then audit_clone_verify(); closes ac on failure. */
int audit_clone_open_verified(struct cli_context *ctx, const char *repo_path, const char *vkey_path,
			      struct audit_clone *ac);
/* How many entries the newest verified checkpoint covers: the entries
 * that may be shown or proved. */
uint64_t audit_clone_vouched(const struct audit_clone *ac);

/* *known: note is, byte for byte, one of the log's checkpoints that
 * audit_clone_verify() verified; *cp is then its content. */
int audit_clone_known_checkpoint(const struct audit_clone *ac, const char *note, size_t len, struct rombsr_checkpoint *cp,
				 bool *known);

/* Entry index of ac->log, as its canonical bytes (line, initialized here)
 * and decoded (e). */
int audit_clone_entry(const struct audit_clone *ac, uint64_t index, struct rombsr_audit_entry *e,
		      struct rombsr_buf *line);

/* "<dir>/entries" */
int audit_clone_entries_path(const struct audit_clone *ac, char *out, size_t size);

#endif
