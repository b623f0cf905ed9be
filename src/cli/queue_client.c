#define _GNU_SOURCE
#include "queue_client.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../queue/publish.h"
#include "../queue/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static int lock_clone(struct queue_client *qc)
{
	char path[4096];
	int r = rombsr_path_format(path, sizeof(path), "%s/rombsr.lock", qc->cfg->queue_clone);

	if (r < 0)
		return r;
	qc->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (qc->lock_fd < 0)
		return rombsr_error(ROMBSR_EIO, "cannot open %s: %s", path, strerror(errno));
	while (flock(qc->lock_fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return rombsr_error(ROMBSR_EIO, "cannot lock %s: %s", path, strerror(errno));
	return 0;
}

int queue_client_open(struct cli_context *ctx, struct queue_client *qc)
{
	int r;

	memset(qc, 0, sizeof(*qc));
	qc->lock_fd = -1;
	r = cli_config(ctx, &qc->cfg);
	if (r < 0)
		return r;
	if (qc->cfg->queue_url == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "no queue configured: set queue.url");
	r = rombsr_gpg_open(qc->cfg->gpg_home, &qc->gpg);
	if (r == 0)
		r = rombsr_repo_open(qc->cfg->queue_clone, true, &qc->repo);
	if (r == 0)
		r = lock_clone(qc);
	if (r < 0)
		queue_client_close(qc);
	return r;
}

void queue_client_close(struct queue_client *qc)
{
	rombsr_repo_close(qc->repo);
	rombsr_gpg_close(qc->gpg);
	if (qc->lock_fd >= 0)
		close(qc->lock_fd);
	qc->repo = NULL;
	qc->gpg = NULL;
	qc->lock_fd = -1;
}

int queue_client_fetch(struct queue_client *qc, git_oid *head, bool *empty)
{
	int r = rombsr_repo_fetch(qc->repo, qc->cfg->queue_url, head, empty);

	if (r == 0 && *empty)
		r = rombsr_error(ROMBSR_ENOTFOUND, "the queue at %s has no history: run 'rombsr queue-init' first",
				 qc->cfg->queue_url);
	return r;
}

int queue_client_publish(struct queue_client *qc, const struct rombsr_repo_file *files, size_t nfiles,
			 const char *message, git_oid *commit)
{
	if (qc->cfg->gpg_key == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "no signing key configured: set gpg.key to this node's fingerprint");
	return rombsr_queue_publish(qc->repo, qc->gpg, qc->cfg->queue_url, qc->cfg->gpg_key, files, nfiles, message, NULL,
				    commit, NULL);
}

int queue_client_verifier(struct queue_client *qc, struct rombsr_verifier *v, const git_oid *base)
{
	return rombsr_verifier_init(v, qc->repo, (char(*)[41])qc->cfg->queue_admins, qc->cfg->queue_nadmins, base);
}

int queue_client_open_reader(struct cli_context *ctx, const char *repo_path, struct queue_client *qc, git_oid *head)
{
	bool empty = false;
	int r;

	memset(qc, 0, sizeof(*qc));
	qc->lock_fd = -1;
	if (repo_path == NULL) {
		r = queue_client_open(ctx, qc);
		if (r == 0)
			r = queue_client_fetch(qc, head, &empty);
		return r;
	}
	r = cli_config(ctx, &qc->cfg);
	/* Read through a fetch, so a working clone and a bare one alike give
	 * their main branch; under the lock, like every user of the copy. */
	if (r == 0)
		r = rombsr_repo_open(qc->cfg->queue_clone, true, &qc->repo);
	if (r == 0)
		r = lock_clone(qc);
	if (r == 0)
		r = rombsr_repo_fetch(qc->repo, repo_path, head, &empty);
	if (r == 0 && empty)
		r = rombsr_error(ROMBSR_ENOTFOUND, "%s has no history", repo_path);
	return r;
}
