/* A node's side of the signing queue: its OpenPGP identity, its bare copy
 * of the queue, and committing files on top of the queue's head. */
#ifndef ROMBSR_CLI_QUEUE_CLIENT_H
#define ROMBSR_CLI_QUEUE_CLIENT_H

#include "cli.h"

#include "../queue/gpg.h"
#include "../queue/repo.h"
#include "../queue/verify.h"

struct queue_client {
	const struct rombsr_config *cfg;
	struct rombsr_gpg *gpg;
	struct rombsr_repo *repo;
	int lock_fd;        /* flock on the local copy: one user at a time */
};

/* Opens the identity (gpg.home, gpg.key) and the local copy (queue.clone)
 * of a configured queue (queue.url), waiting for any other rombsr process
 * using the same copy: fetch, commit and push share its refs. */
int queue_client_open(struct cli_context *ctx, struct queue_client *qc);
void queue_client_close(struct queue_client *qc);

/* For readers (queue-verify, audit-*): the head of repo_path, any clone
 * of the queue, or if NULL of queue.url, fetched into the local copy. A
 * queue without history is ROMBSR_ENOTFOUND. */
int queue_client_open_reader(struct cli_context *ctx, const char *repo_path, struct queue_client *qc, git_oid *head);

/* Fetches the queue's head (*empty if it has none). */
int queue_client_fetch(struct queue_client *qc, git_oid *head, bool *empty);

/* Commits files on the queue's head with this node's key and pushes;
 * when another node pushed first, fetches and commits again on the new
 * head (files are only ever added, so nothing needs merging). */
int queue_client_publish(struct queue_client *qc, const struct rombsr_repo_file *files, size_t nfiles,
			 const char *message, git_oid *commit);

/* Loads the pinned admins and checks the whole history from the first
 * commit, or from the last verified head recorded in the state folder. */
int queue_client_verifier(struct queue_client *qc, struct rombsr_verifier *v, const git_oid *base);

#endif
