/* A remembered queue head: the last commit a node verified or processed,
 * kept in its state folder, so that a queue whose history was rewritten
 * behind its back is noticed. */
#ifndef ROMBSR_QUEUE_HEADFILE_H
#define ROMBSR_QUEUE_HEADFILE_H

#include "repo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* *exists false if the file is not there yet (a first run). */
int rombsr_head_file_read(const char *path, git_oid *head, bool *exists);
/* Written atomically, one commit ID and a newline. */
int rombsr_head_file_write(const char *path, const git_oid *head);
/* ROMBSR_ESECURITY unless head is, or descends from, the commit remembered
 * in path (a remembered commit the clone no longer has was rewritten away). */
int rombsr_head_file_check(struct rombsr_repo *repo, const char *path, const git_oid *head);

/* What a node verified of the queue's history (queue-verify, apply): the
 * head every commit up to which was verified, the pinned admins it was
 * verified under, and for queue-verify what the history holds (its
 * responses were all checked against their requests). Format: docs/queue.md,
 * "The verified record". */
struct rombsr_verified_record {
	git_oid head;
	/* A bare commit ID, as rombsr before 0.2 wrote it: the head is known,
	 * not how it was verified, so it only guards against rewriting. */
	bool legacy;
	char admins[65];          /* SHA-256 of the pinned admins (rombsr_verified_admins) */
	bool have_totals;
	uint64_t commits, requests, responses, signed_ok, rejected;
};

/* *exists false if there is no record yet. A file that is neither a record
 * nor a legacy commit ID is ROMBSR_EINVAL naming the file and the line. */
int rombsr_verified_read(const char *path, struct rombsr_verified_record *rec, bool *exists);
/* Written atomically (mode 0600); the totals only if rec->have_totals. */
int rombsr_verified_write(const char *path, const struct rombsr_verified_record *rec);
/* The pinned admins as the record names them: the SHA-256 of the sorted
 * fingerprints, one per line, in lower-case hex. */
int rombsr_verified_admins(const char (*pinned)[41], size_t npinned, char out[65]);

#endif
