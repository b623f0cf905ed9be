/* A remembered queue head: the last commit a node verified or processed,
 * kept in its state folder, so that a queue whose history was rewritten
 * behind its back is noticed. */
#ifndef ROMBSR_QUEUE_HEADFILE_H
#define ROMBSR_QUEUE_HEADFILE_H

#include "repo.h"

#include <stdbool.h>

/* *exists false if the file is not there yet (a first run). */
int rombsr_head_file_read(const char *path, git_oid *head, bool *exists);
/* Written atomically, one commit ID and a newline. */
int rombsr_head_file_write(const char *path, const git_oid *head);
/* ROMBSR_ESECURITY unless head is, or descends from, the commit remembered
 * in path (a remembered commit the clone no longer has was rewritten away). */
int rombsr_head_file_check(struct rombsr_repo *repo, const char *path, const git_oid *head);

#endif
