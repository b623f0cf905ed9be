#include "freeze_commit.h"
#include "queue_client.h"

#include "../common/error.h"
#include "../common/json_strict.h"
#include "../queue/incident.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static bool pinned(const struct rombsr_config *cfg, const char *fpr)
{
	for (size_t i = 0; i < cfg->queue_nadmins; i++)
		if (strcmp(cfg->queue_admins[i], fpr) == 0)
			return true;
	return false;
}

/* The state at head: a queue that never froze is thawed. */
static int current_state(struct queue_client *qc, const git_oid *head, struct rombsr_freeze *now, bool *have)
{
	struct rombsr_buf text;
	int r = rombsr_repo_read(qc->repo, head, ROMBSR_FREEZE_PATH, ROMBSR_INCIDENT_MAX_BYTES, &text);

	*have = false;
	if (r == ROMBSR_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	r = rombsr_freeze_parse((const char *)text.data, text.len, now);
	rombsr_buf_free(&text);
	if (r < 0)
		return rombsr_error_wrap(r, "the queue's %s", ROMBSR_FREEZE_PATH);
	*have = true;
	return 0;
}

static int check_change(const struct rombsr_freeze *now, bool have, bool frozen)
{
	char when[21];

	if (!have || !now->frozen) {
		if (!frozen)
			return rombsr_error(ROMBSR_EINVAL, "signing is not frozen: there is nothing to thaw");
		return 0;
	}
	if (!frozen)
		return 0;
	rombsr_time_format(now->time, when);
	return rombsr_error(ROMBSR_EEXISTS, "signing is already frozen, since %s by %s: %s", when, now->admin,
			    now->reason);
}

static int freeze_commit(struct cli_context *ctx, bool frozen, const char *reason)
{
	struct queue_client qc = {.lock_fd = -1};
	struct rombsr_freeze now, next = {0};
	struct rombsr_buf text = {0};
	struct rombsr_repo_file file;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid head, commit;
	bool empty, have;
	int r;

	if (!rombsr_incident_reason_valid(reason))
		return rombsr_error(ROMBSR_EINVAL, "--reason takes 1 to %d printable ASCII characters",
				    ROMBSR_INCIDENT_REASON_MAX);
	r = queue_client_open(ctx, &qc);
	if (r == 0 && qc.cfg->gpg_key == NULL)
		r = rombsr_error(ROMBSR_ECONFIG, "no signing key configured: set gpg.key to this admin's fingerprint");
	/* The queue and every sign node refuse it from anyone else: say so
	 * before anything is committed. */
	if (r == 0 && !pinned(qc.cfg, qc.cfg->gpg_key))
		r = rombsr_error(ROMBSR_EPERM, "key %s (gpg.key) is not a pinned admin (queue.admin): only an admin may %s signing",
				 qc.cfg->gpg_key, frozen ? "freeze" : "thaw");
	if (r == 0)
		r = queue_client_fetch(&qc, &head, &empty);
	if (r == 0)
		r = current_state(&qc, &head, &now, &have);
	if (r == 0)
		r = check_change(&now, have, frozen);
	if (r == 0) {
		next.frozen = frozen;
		snprintf(next.reason, sizeof(next.reason), "%s", reason);
		snprintf(next.admin, sizeof(next.admin), "%s", qc.cfg->gpg_key);
		next.time = time(NULL);
		r = rombsr_freeze_encode(&next, &text);
	}
	if (r == 0) {
		file = (struct rombsr_repo_file){ROMBSR_FREEZE_PATH, text.data, text.len};
		r = queue_client_publish(&qc, &file, 1, frozen ? "freeze: signing stopped" : "thaw: signing resumed",
					 &commit);
	}
	if (r == 0) {
		rombsr_oid_hex(&commit, hex);
		printf("signing %s: commit %s\n", frozen ? "frozen" : "thawed", hex);
	}
	rombsr_buf_free(&text);
	queue_client_close(&qc);
	return r;
}

int freeze_command(struct cli_context *ctx, const struct cli_option *options, const char *usage, int argc,
		   char **argv, bool frozen, const char *default_reason)
{
	const char *reason = default_reason;
	struct cli_parser p;
	int opt;

	cli_parser_init(&p, options, argc, argv);
	while ((opt = cli_next(&p, usage)) > 0)
		if (opt == FREEZE_OPT_REASON)
			reason = p.value;
	if (opt < 0)
		return opt;
	if (p.index < argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (reason == NULL)
		return rombsr_error(ROMBSR_EINVAL, "usage: rombsr %s %s", ctx->command, usage);
	return freeze_commit(ctx, frozen, reason);
}
