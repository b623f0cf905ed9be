/* What a crash or an HSM failure left of the signing server's requests
 * (worker.h, rombsr_sign_serve_recover): <state>/sign/server/<id>.json
 * holds each request from before its decision until it is logged. */
#define _GNU_SOURCE
#include "serve.h"
#include "sign_log.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One leftover: decided (its quota ledger line is the decision, synced
 * before the first HSM operation), so it is signed as decided, its
 * signatures made so far answered by the signing cache, and logged with
 * its client. The client was told it failed; the log holds the truth. */
static int finish_leftover(struct rombsr_sign_node *node, const char *path, const char *id)
{
	struct rombsr_server_call call;
	struct rombsr_buf body;
	struct pending p = {0};
	struct pass_context pass = {0};
	struct sign_job job = {0};
	struct rombsr_buf text;
	uint64_t index, count;
	int r = rombsr_serve_pending_load(path, &call, &body);

	if (r < 0)
		return r;
	snprintf(p.id, sizeof(p.id), "%s", id);
	snprintf(p.signer, sizeof(p.signer), "%s", call.client.build_node);
	p.body = &body;
	if (git_oid_fromstr(&p.commit, call.clients_commit) != 0)
		r = rombsr_error(ROMBSR_EINVAL, "%s: clients_commit is not an object name", path);
	if (r == 0 && !node->have_processed)
		r = rombsr_error(ROMBSR_ENOTFOUND, "the sign node has not verified the queue yet");
	if (r == 0)
		git_oid_cpy(&pass.head, &node->processed);
	if (r == 0)
		r = rombsr_sign_job_start(node, &pass, &p, &job);
	while (r == 0 && !rombsr_sign_job_done(&job))
		r = rombsr_sign_jobs_pump((struct sign_job *const[]){&job}, 1);
	if (r == 0)
		r = rombsr_sign_job_finish(node, &job, &text);
	if (r == 0) {
		struct rombsr_audit_client client = {call.clients_commit, call.client.certificate_sha256,
						     call.client.build_node, call.route};

		rombsr_buf_free(&text);
		r = rombsr_audit_writer_decision(node->audit, &job.resp, job.resp.signed_ok ? &job.req : NULL, NULL,
						 &client, &index, &count);
	}
	if (r == 0 && unlink(path) != 0)
		r = rombsr_error(ROMBSR_EIO, "%s: %s", path, strerror(errno));
	if (r == 0)
		rombsr_sign_log(LOG_NOTICE, &(struct rombsr_sign_log_fields){.request_id = id, .outcome = "recovered"},
				"rombsr serve: request %s, decided before the node stopped, is logged at audit entry %llu",
				id, (unsigned long long)index);
	rombsr_sign_job_abandon(&job);
	rombsr_buf_free(&body);
	return r;
}

static int one(struct rombsr_sign_node *node, const char *dir, const char *name)
{
	char path[4096], id[ROMBSR_REQUEST_ID_LEN + 1];
	size_t len = strlen(name);
	time_t when;
	int r;

	if (len != ROMBSR_REQUEST_ID_LEN + 5 || strcmp(name + ROMBSR_REQUEST_ID_LEN, ".json") != 0)
		return 0; /* a temporary file of an interrupted write */
	memcpy(id, name, ROMBSR_REQUEST_ID_LEN);
	id[ROMBSR_REQUEST_ID_LEN] = '\0';
	r = rombsr_path_format(path, sizeof(path), "%s/%s", dir, name);
	if (r == 0 && !rombsr_request_id_valid(id))
		return rombsr_error(ROMBSR_EINVAL, "%s: not a request's file", path);
	if (r == 0 && rombsr_quota_ledger_recorded(node->ledger, id, &when))
		return finish_leftover(node, path, id);
	/* Never decided: no HSM operation was asked for it. */
	if (r == 0 && unlink(path) != 0)
		r = rombsr_error(ROMBSR_EIO, "%s: %s", path, strerror(errno));
	if (r == 0)
		rombsr_sign_log(LOG_NOTICE, &(struct rombsr_sign_log_fields){.request_id = id, .outcome = "dropped"},
				"rombsr serve: request %s was not decided before the node stopped: dropped, nothing "
				"was signed for it", id);
	return r;
}

int rombsr_sign_serve_recover(struct rombsr_sign_node *node)
{
	char dir[4096];
	struct dirent *d;
	DIR *h;
	int r = rombsr_path_format(dir, sizeof(dir), "%s/server", node->dir);

	if (r == 0)
		r = rombsr_mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	if ((h = opendir(dir)) == NULL)
		return rombsr_error(ROMBSR_EIO, "%s: %s", dir, strerror(errno));
	while (r == 0 && (d = readdir(h)) != NULL)
		if (d->d_name[0] != '.')
			r = one(node, dir, d->d_name);
	closedir(h);
	if (r == 0)
		node->serve_leftovers = false;
	return r;
}
