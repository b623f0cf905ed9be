/* Where the audit log lives in the queue (docs/audit-log.md, "In the
 * queue"): the sign node publishes the entries it appended since its last
 * push as one chunk, and each new checkpoint, as files that are only ever
 * added:
 *
 *     audit/entries/<n[0:14]>/<n[14:17]>/<n>.log      entries n, n+1, ... (20-digit n)
 *     audit/checkpoints/<n[0:14]>/<n[14:17]>/<n>      the checkpoint of tree size n
 *
 * The two folder levels keep every folder at most 1000 entries wide until
 * the log holds a million entries per top-level folder, so adding a chunk
 * touches small trees only, however long the log. */
#ifndef ROMBSR_QUEUE_AUDIT_LAYOUT_H
#define ROMBSR_QUEUE_AUDIT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define ROMBSR_QUEUE_AUDIT_ENTRIES "audit/entries"
#define ROMBSR_QUEUE_AUDIT_CHECKPOINTS "audit/checkpoints"

enum rombsr_queue_audit_kind {
	ROMBSR_QUEUE_AUDIT_NONE,
	ROMBSR_QUEUE_AUDIT_CHUNK,
	ROMBSR_QUEUE_AUDIT_CHECKPOINT,
};

int rombsr_queue_audit_chunk_path(uint64_t first, char *out, size_t size);
int rombsr_queue_audit_checkpoint_path(uint64_t tree_size, char *out, size_t size);
/* Exact match of either form; *number is the chunk's first index or the
 * checkpoint's tree size. */
enum rombsr_queue_audit_kind rombsr_queue_audit_classify(const char *path, uint64_t *number);

#endif
