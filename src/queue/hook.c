#define _GNU_SOURCE
#include "hook.h"

#include "repo.h"
#include "verify.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>

#define HOOK_MAX_ADMINS 16

int rombsr_hook_install(const char *bare_path, const char *rombsr_exe, char (*admins)[41], size_t nadmins)
{
	struct rombsr_repo *repo = NULL;
	git_config *cfg = NULL;
	char *hook = NULL, *script = NULL;
	int e, r;

	if (nadmins == 0)
		return rombsr_error(ROMBSR_ECONFIG, "no admin to pin in the hook (queue.admin or --admin)");
	if (strchr(rombsr_exe, '\'') != NULL)
		return rombsr_error(ROMBSR_EINVAL, "the path of rombsr contains a quote: %s", rombsr_exe);
	r = rombsr_repo_open(bare_path, false, &repo);
	if (r < 0)
		return r;
	if (git_repository_config(&cfg, rombsr_repo_git(repo)) < 0 ||
	    git_config_set_bool(cfg, "receive.denyNonFastForwards", 1) < 0 ||
	    git_config_set_bool(cfg, "receive.denyDeletes", 1) < 0) {
		r = rombsr_repo_fail(ROMBSR_EIO, "cannot configure the queue repository");
		goto out;
	}
	e = git_config_delete_multivar(cfg, "rombsr.admin", ".*");
	if (e < 0 && e != GIT_ENOTFOUND) {
		r = rombsr_repo_fail(ROMBSR_EIO, "cannot configure the queue repository");
		goto out;
	}
	for (size_t i = 0; i < nadmins && r == 0; i++)
		if (git_config_set_multivar(cfg, "rombsr.admin", "^$", admins[i]) < 0)
			r = rombsr_repo_fail(ROMBSR_EIO, "cannot pin the admin key");
	if (r < 0)
		goto out;
	if (asprintf(&hook, "%s/hooks/pre-receive", git_repository_path(rombsr_repo_git(repo))) < 0 ||
	    asprintf(&script,
		     "#!/bin/sh\n"
		     "# Installed by rombsr queue-hook: every pushed commit must be signed by a\n"
		     "# key whose role allows each change it makes (docs/queue.md).\n"
		     "exec '%s' queue-hook --run\n",
		     rombsr_exe) < 0) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	r = rombsr_mkdir_p(git_repository_path(rombsr_repo_git(repo)), 0755);
	if (r == 0) {
		char *dir = strdup(hook);

		if (dir == NULL) {
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
			goto out;
		}
		*strrchr(dir, '/') = '\0';
		r = rombsr_mkdir_p(dir, 0755);
		free(dir);
	}
	if (r == 0)
		r = rombsr_file_write_atomic(hook, script, strlen(script), 0755, false);
out:
	free(hook);
	free(script);
	git_config_free(cfg);
	rombsr_repo_close(repo);
	return r;
}

struct admins {
	char list[HOOK_MAX_ADMINS][41];
	size_t n;
};

static int collect_admin(const git_config_entry *entry, void *payload)
{
	struct admins *a = payload;

	if (a->n == HOOK_MAX_ADMINS || !rombsr_fpr_valid(entry->value))
		return -1;
	memcpy(a->list[a->n++], entry->value, 41);
	return 0;
}

static int load_admins(struct rombsr_repo *repo, struct admins *a)
{
	git_config *cfg = NULL;
	int e;

	memset(a, 0, sizeof(*a));
	if (git_repository_config_snapshot(&cfg, rombsr_repo_git(repo)) < 0)
		return rombsr_repo_fail(ROMBSR_EIO, "cannot read the queue's configuration");
	e = git_config_get_multivar_foreach(cfg, "rombsr.admin", NULL, collect_admin, a);
	git_config_free(cfg);
	if (e < 0 && e != GIT_ENOTFOUND)
		return rombsr_error(ROMBSR_ECONFIG, "rombsr.admin in the queue's configuration is not a list of fingerprints");
	if (a->n == 0)
		return rombsr_error(ROMBSR_ECONFIG, "no admin is pinned in the queue's configuration (rombsr.admin)");
	return 0;
}

static int check_update(struct rombsr_repo *repo, struct admins *admins, const char *old_hex, const char *new_hex,
			const char *ref)
{
	struct rombsr_verifier v;
	git_oid old_oid, new_oid;
	bool creating, descends;
	int r;

	if (strcmp(ref, ROMBSR_QUEUE_BRANCH) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "%s: the queue has one branch, %s", ref, ROMBSR_QUEUE_BRANCH);
	if (git_oid_fromstr(&old_oid, old_hex) < 0 || git_oid_fromstr(&new_oid, new_hex) < 0)
		return rombsr_error(ROMBSR_EINVAL, "malformed update line for %s", ref);
	if (git_oid_is_zero(&new_oid))
		return rombsr_error(ROMBSR_ESECURITY, "%s: deleting the queue's branch is not allowed", ref);
	creating = git_oid_is_zero(&old_oid);
	if (!creating) {
		r = rombsr_repo_descends(repo, &new_oid, &old_oid, &descends);
		if (r < 0)
			return r;
		if (!descends)
			return rombsr_error(ROMBSR_ESECURITY,
					    "%s: not a fast-forward: the queue's history is never rewritten", ref);
	}
	r = rombsr_verifier_init(&v, repo, admins->list, admins->n, creating ? NULL : &old_oid);
	v.strict_content = true;
	if (r == 0)
		r = rombsr_verify_range(&v, creating ? NULL : &old_oid, &new_oid, NULL, NULL);
	rombsr_verifier_free(&v);
	return r;
}

int rombsr_hook_run(FILE *in, FILE *err)
{
	struct rombsr_repo *repo = NULL;
	struct admins admins;
	char line[512];
	int refused = 0, r;

	r = rombsr_repo_open_from_env(&repo);
	if (r == 0)
		r = load_admins(repo, &admins);
	if (r < 0) {
		fprintf(err, "rombsr queue-hook: refused: %s\n", rombsr_error_message(r));
		rombsr_repo_close(repo);
		return r;
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		char old_hex[80], new_hex[80], ref[256];

		if (sscanf(line, "%79s %79s %255s", old_hex, new_hex, ref) != 3) {
			fprintf(err, "rombsr queue-hook: refused: malformed update line\n");
			refused = 1;
			continue;
		}
		r = check_update(repo, &admins, old_hex, new_hex, ref);
		if (r < 0) {
			fprintf(err, "rombsr queue-hook: refused: %s\n", rombsr_error_message(r));
			refused = 1;
		}
	}
	rombsr_repo_close(repo);
	return refused ? ROMBSR_EPERM : 0;
}
