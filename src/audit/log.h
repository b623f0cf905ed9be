/* The audit log on disk (docs/audit-log.md):
 *
 *     <dir>/entries                       one canonical entry per line, append-only
 *     <dir>/checkpoints/<20-digit size>   one signed checkpoint note per file
 *
 * One writer at a time (an exclusive flock on entries). An append returns
 * only after the line and its newline are fsync'd, so a response that
 * refers to an entry is never published before the entry is durable. On
 * open for append, a torn last line (no newline: the writer died mid-write)
 * is cut off, but only if no checkpoint covers its index; otherwise the log
 * is refused as damaged. Readers tolerate the same torn tail. */
#ifndef ROMBSR_AUDIT_LOG_H
#define ROMBSR_AUDIT_LOG_H

#include "checkpoint.h"
#include "entry.h"
#include "merkle.h"

#include "../common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROMBSR_AUDIT_ENTRIES_FILE "entries"
#define ROMBSR_AUDIT_CHECKPOINTS_DIR "checkpoints"
#define ROMBSR_AUDIT_NO_INDEX UINT64_MAX

struct rombsr_audit_log;

/* Opens (creating if needed) the log in dir for appending: validates every
 * entry and the root of every checkpoint against the rebuilt tree (not the
 * signatures: the writer holds no trusted keys), and recovers a torn tail.
 * ROMBSR_ESECURITY if the log is damaged. */
int rombsr_audit_log_open(const char *dir, struct rombsr_audit_log **out);
void rombsr_audit_log_close(struct rombsr_audit_log *log);
uint64_t rombsr_audit_log_size(const struct rombsr_audit_log *log);
/* Bytes of a torn last line dropped by open (0 normally). */
uint64_t rombsr_audit_log_recovered_bytes(const struct rombsr_audit_log *log);

/* Appends e durably. Sets e->index, e->prev and, if e->time is 0, e->time
 * (the current time, never earlier than the previous entry's). An explicit
 * time earlier than the previous entry's is refused. */
int rombsr_audit_log_append(struct rombsr_audit_log *log, struct rombsr_audit_entry *e, uint64_t *index);
/* Appends n entries with a single fsync (one response's worth). All or
 * nothing: on failure the file is cut back to its previous length. */
int rombsr_audit_log_append_batch(struct rombsr_audit_log *log, struct rombsr_audit_entry *e, size_t n,
				  uint64_t *first_index);

/* With defer, appends are written but not synced until
 * rombsr_audit_log_sync(), which a caller runs before anything refers to
 * them (the signing server answers several calls after one sync). */
void rombsr_audit_log_defer_sync(struct rombsr_audit_log *log, bool defer);
int rombsr_audit_log_sync(struct rombsr_audit_log *log);
int rombsr_audit_log_root(const struct rombsr_audit_log *log, uint64_t size,
			  unsigned char root[ROMBSR_MERKLE_HASH_LEN]);
/* The canonical bytes of entry index (no newline); out is initialized here. */
int rombsr_audit_log_entry(const struct rombsr_audit_log *log, uint64_t index, struct rombsr_buf *out);

/* Signs a checkpoint of the current tree and stores it (or returns the one
 * already stored for this size). note is initialized here. */
int rombsr_audit_log_checkpoint(struct rombsr_audit_log *log, const char *origin,
				const struct rombsr_note_signer *signer, struct rombsr_buf *note);
/* The stored checkpoint with the largest size; ROMBSR_ENOTFOUND if none. */
int rombsr_audit_log_latest_checkpoint(const struct rombsr_audit_log *log, struct rombsr_buf *note);

int rombsr_audit_log_inclusion_proof(const struct rombsr_audit_log *log, uint64_t index, uint64_t size,
				     unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t *count);
int rombsr_audit_log_consistency_proof(const struct rombsr_audit_log *log, uint64_t size1, uint64_t size2,
				       unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t *count);

/* A C2SP tlog-proof (c2sp.org/tlog-proof@v1) for entry index against the
 * checkpoint note given (which must be of this log): the text a response
 * carries and `rombsr audit-proof` prints after the entry. out is
 * initialized here. */
int rombsr_audit_log_proof(const struct rombsr_audit_log *log, uint64_t index, const char *note,
			   size_t note_len, struct rombsr_buf *out);
/* Third-party check of such a proof for the given entry bytes: strict
 * parsing, checkpoint signature by a trusted key, inclusion, and the entry's
 * own index equal to the proof's. ROMBSR_EINVAL if the proof does not parse,
 * ROMBSR_ESECURITY if it does not verify. */
int rombsr_audit_proof_verify(const char *proof, size_t proof_len, const char *entry, size_t entry_len,
			      const struct rombsr_note_verifier *const *trusted, size_t n_trusted,
			      const char *origin, struct rombsr_checkpoint *cp, uint64_t *index);
/* The checkpoint note a proof carries (a pointer into proof), after strict
 * parsing of the rest; no signature is checked. */
int rombsr_audit_proof_note(const char *proof, size_t proof_len, const char **note, size_t *note_len);
/* rombsr_audit_proof_verify() for a caller that has already verified a
 * checkpoint note (note, parsed and verified as note_cp by
 * rombsr_checkpoint_open): the proof must carry exactly that note, byte for
 * byte (else ROMBSR_ENOTFOUND, and nothing is checked), and its signature
 * is not checked again. For a verifier that meets the same checkpoint in
 * thousands of responses. */
int rombsr_audit_proof_verify_known(const char *proof, size_t proof_len, const char *entry, size_t entry_len,
				    const char *note, size_t note_len, const struct rombsr_checkpoint *note_cp,
				    struct rombsr_checkpoint *cp, uint64_t *index);

struct rombsr_audit_report {
	uint64_t entries;          /* complete entries read */
	uint64_t checkpoints;      /* checkpoints verified */
	uint64_t torn_bytes;       /* a torn last line no checkpoint covers */
	uint64_t first_bad_index;  /* ROMBSR_AUDIT_NO_INDEX if none */
	bool has_latest;
	struct rombsr_checkpoint latest; /* newest verified checkpoint */
	struct rombsr_buf latest_note;   /* its text, to remember for next time */
	bool fork;
	struct rombsr_checkpoint fork_remembered, fork_conflicting;
	char problem[768];
};

/* Verifies the log in dir from scratch: every entry strictly decoded, in
 * order (index), time never decreasing, each "prev" link, the tree rebuilt,
 * every checkpoint signed by a trusted key for origin (NULL = any), its root
 * equal to the tree's at its size and consistent with the previous one, and,
 * if remembered (a checkpoint note accepted earlier) is given, consistency
 * with it. Returns 0; ROMBSR_ESECURITY on tampering with the problem in the
 * report and report->first_bad_index set to the first entry that cannot be
 * vouched for (ROMBSR_AUDIT_NO_INDEX if no entry is to blame); ROMBSR_EFORK
 * on a fork with both checkpoints in the report; other codes (ROMBSR_ECRYPTO
 * only if OpenSSL fails) for I/O, memory and usage. */
int rombsr_audit_verify_dir(const char *dir, const struct rombsr_note_verifier *const *trusted, size_t n_trusted,
			    const char *origin, const char *remembered, size_t remembered_len,
			    struct rombsr_audit_report *report);
/* rombsr_audit_verify_dir() that, when it returns 0, also hands out the
 * log it verified, for reading only (appends and checkpoints are refused),
 * built from the same reading of the files: a reader that uses the log
 * right after verifying it does not read and check every entry twice. The
 * folder must not change while the log is open (the entries are read at
 * the offsets verified). */
int rombsr_audit_verify_dir_open(const char *dir, const struct rombsr_note_verifier *const *trusted, size_t n_trusted,
				 const char *origin, const char *remembered, size_t remembered_len,
				 struct rombsr_audit_report *report, struct rombsr_audit_log **log);
void rombsr_audit_report_free(struct rombsr_audit_report *report);

#endif
