#include "publish.h"

#include "../common/error.h"

#include <time.h>

#define PUBLISH_ATTEMPTS 8

int rombsr_queue_publish(struct rombsr_repo *repo, struct rombsr_gpg *gpg, const char *url, const char *signer_fpr,
			 const struct rombsr_repo_file *files, size_t nfiles, const char *message, const git_oid *likely_head,
			 git_oid *commit, git_oid *head_out)
{
	git_oid head, again;
	bool empty = false;
	int r = ROMBSR_EINTERNAL;

	for (int attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
		/* A caller that fetched a moment ago tries on that head first: a
		 * push that is not a fast-forward costs no more than the fetch. */
		if (attempt == 0 && likely_head != NULL) {
			git_oid_cpy(&head, likely_head);
			r = 0;
		} else {
			r = rombsr_repo_fetch(repo, url, &head, &empty);
		}
		if (r == 0 && empty)
			r = rombsr_error(ROMBSR_ENOTFOUND, "the queue at %s has no history", url);
		if (r == 0)
			r = rombsr_repo_commit(repo, gpg, signer_fpr, &head, files, nfiles, message, commit);
		if (r == 0)
			r = rombsr_repo_push(repo, url, commit);
		if (r == 0 && head_out != NULL)
			git_oid_cpy(head_out, &head);
		if (r != ROMBSR_EPERM)
			return r;
		/* A race with another node moves the head; a refusal on its
		 * merits does not. */
		if (rombsr_repo_fetch(repo, url, &again, &empty) < 0 || git_oid_equal(&again, &head))
			return r;
		nanosleep(&(struct timespec){0, 50000000L * (attempt + 1)}, NULL);
	}
	return r;
}
