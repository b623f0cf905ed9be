/* Helpers shared by the files of src/audit/ only. */
#ifndef ROMBSR_AUDIT_INTERNAL_H
#define ROMBSR_AUDIT_INTERNAL_H

#include "log.h"

#include "../common/base64.h"
#include "../common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strict decimal: digits only, no sign, no leading zero except "0" itself,
 * at most max. */
int audit_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out, const char *what);

/* ---- the log (log_scan.c, log_writer.c, log_proof.c, log_verify.c) ---- */

struct rombsr_audit_log {
	char *dir;
	char *entries_path;
	char *cp_dir;
	int fd;
	bool broken; /* file and memory may disagree: refuse to go on */
	bool defer_sync, unsynced; /* rombsr_audit_log_defer_sync() */
	bool read_only; /* from rombsr_audit_verify_dir_open(): no appends, no checkpoints */
	struct rombsr_merkle_tree tree;
	uint64_t *offsets; /* start of each line; offsets[size] = file length */
	size_t offsets_alloc;
	uint64_t last_time;
	uint64_t recovered;
	uint64_t latest_cp; /* size of the largest stored checkpoint, or NO_INDEX */
};

/* What reading the entries file found. */
struct audit_scan {
	struct rombsr_merkle_tree tree;
	uint64_t *offsets;
	size_t offsets_alloc;
	uint64_t count;        /* complete, valid entries */
	uint64_t complete_len; /* bytes up to and including the last newline */
	uint64_t torn;         /* bytes after it */
	uint64_t last_time;
	uint64_t bad;          /* first bad entry or ROMBSR_AUDIT_NO_INDEX */
	char problem[512];
};

/* Appends value as offsets[count], growing the array. */
int audit_push_offset(uint64_t **offsets, size_t *alloc, uint64_t count, uint64_t value);
/* Reads and checks every line of the entries file at path. Returns <0
 * only for I/O and memory failures; a bad entry is reported in s->bad and
 * stops the scan. */
int audit_scan_entries(const char *path, struct audit_scan *s);
void audit_scan_free(struct audit_scan *s);
/* Sizes of the stored checkpoints, ascending. Files left by an interrupted
 * atomic write ("<name>.tmp-XXXXXX") are ignored; any other name is refused. */
int audit_list_checkpoints(const char *cp_dir, uint64_t **sizes, size_t *count);
/* The file of the checkpoint of tree size size; NULL if out of memory. */
char *audit_cp_path(const char *cp_dir, uint64_t size);
int audit_read_checkpoint(const char *cp_dir, uint64_t size, struct rombsr_buf *note);
/* Whether a check of the log's own files that failed with r could not be
 * made at all (memory, I/O, OpenSSL, a bug): such a failure keeps its kind.
 * Any other failure (a checkpoint that does not parse, verify or match) is
 * a verdict on the log, ROMBSR_ESECURITY. */
bool audit_could_not_check(int r);
/* "a/b", or NULL if out of memory. */
char *audit_join(const char *a, const char *b);

#endif
