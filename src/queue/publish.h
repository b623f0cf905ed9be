#ifndef ROMBSR_QUEUE_PUBLISH_H
#define ROMBSR_QUEUE_PUBLISH_H

#include "gpg.h"
#include "repo.h"

/* Commits files on the queue's head, signed by signer_fpr, and pushes to
 * url. When another node pushed first, fetches and commits again on the new
 * head: queue files are only ever added, so nothing needs merging. A refusal
 * on the merits (the remote's hook) is final. likely_head (NULL: fetch
 * first) is the head the caller last saw, tried first. *head_out is the
 * commit the new one was made on. */
int rombsr_queue_publish(struct rombsr_repo *repo, struct rombsr_gpg *gpg, const char *url, const char *signer_fpr,
			 const struct rombsr_repo_file *files, size_t nfiles, const char *message, const git_oid *likely_head,
			 git_oid *commit, git_oid *head_out);

#endif
