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

/* The pinned admins live in a file of their own beside the repository's
 * configuration: one fingerprint a line, replaced whole on each install. */
#define ADMINS_FILE "rombsr-admins"

int rombsr_hook_install(const char *bare_path, const char *rombsr_exe, char (*admins)[41], size_t nadmins)
{
	struct rombsr_repo *repo = NULL;
	git_config *cfg = NULL;
	char *hook = NULL, *script = NULL, *admins_path = NULL, *hooks_dir = NULL;
	struct rombsr_buf list;
	const char *gitdir;
	int r;

	if (nadmins == 0)
		return rombsr_error(ROMBSR_ECONFIG, "no admin to pin in the hook (queue.admin or --admin)");
	for (size_t i = 0; i < nadmins; i++)
		if (!rombsr_fpr_valid(admins[i]))
			return rombsr_error(ROMBSR_EINVAL, "'%.48s' is not an OpenPGP fingerprint (40 upper-case hex)",
					    admins[i]);
	if (strchr(rombsr_exe, '\'') != NULL)
		return rombsr_error(ROMBSR_EINVAL, "the path of rombsr contains a quote: %s", rombsr_exe);
	r = rombsr_repo_open(bare_path, false, &repo);
	if (r < 0)
		return r;
	rombsr_buf_init(&list, 64 * 1024);
	for (size_t i = 0; i < nadmins; i++)
		rombsr_buf_printf(&list, "%s\n", admins[i]);
	gitdir = git_repository_path(rombsr_repo_git(repo));
	if (git_repository_config(&cfg, rombsr_repo_git(repo)) < 0 ||
	    git_config_set_bool(cfg, "receive.denyNonFastForwards", 1) < 0 ||
	    git_config_set_bool(cfg, "receive.denyDeletes", 1) < 0 ||
	    /* Malformed objects (unsorted or duplicate tree entries) never
	     * reach the hook's own checks (rombsr_repo_diff merges sorted trees). */
	    git_config_set_bool(cfg, "receive.fsckObjects", 1) < 0) {
		r = rombsr_repo_fail(ROMBSR_EIO, "cannot configure the queue repository");
		goto out;
	}
	if (asprintf(&admins_path, "%s%s", gitdir, ADMINS_FILE) < 0 || asprintf(&hooks_dir, "%shooks", gitdir) < 0 ||
	    asprintf(&hook, "%s/pre-receive", hooks_dir) < 0 ||
	    asprintf(&script,
		     "#!/bin/sh\n"
		     "# Installed by rombsr queue-hook: every pushed commit must be signed by a\n"
		     "# key whose role allows each change it makes (docs/queue.md).\n"
		     "exec '%s' queue-hook --run\n",
		     rombsr_exe) < 0) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	r = rombsr_buf_check(&list, "admin list");
	if (r == 0)
		r = rombsr_file_write_atomic(admins_path, list.data, list.len, 0644, false);
	if (r == 0)
		r = rombsr_mkdir_p(hooks_dir, 0755);
	if (r == 0)
		r = rombsr_file_write_atomic(hook, script, strlen(script), 0755, false);
out:
	rombsr_buf_free(&list);
	free(admins_path);
	free(hooks_dir);
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

static int load_admins(struct rombsr_repo *repo, struct admins *a)
{
	struct rombsr_buf text;
	char path[4096];
	const char *p;
	int r;

	memset(a, 0, sizeof(*a));
	r = rombsr_path_format(path, sizeof(path), "%s%s", git_repository_path(rombsr_repo_git(repo)), ADMINS_FILE);
	if (r < 0)
		return r;
	r = rombsr_file_read(path, 64 * 1024, &text);
	if (r < 0)
		return rombsr_error_wrap_as(r, ROMBSR_ECONFIG, "no admin is pinned for this queue (%s)", ADMINS_FILE);
	p = rombsr_buf_cstr(&text);
	while (*p != '\0' && r == 0) {
		size_t n = strcspn(p, "\n");

		if (n != 40 || a->n == HOOK_MAX_ADMINS) {
			r = rombsr_error(ROMBSR_ECONFIG, "%s: not one fingerprint a line", path);
			break;
		}
		memcpy(a->list[a->n], p, 40);
		a->list[a->n][40] = '\0';
		if (!rombsr_fpr_valid(a->list[a->n++]))
			r = rombsr_error(ROMBSR_ECONFIG, "%s: not one fingerprint a line", path);
		p += n + (p[n] == '\n');
	}
	rombsr_buf_free(&text);
	if (r == 0 && a->n == 0)
		r = rombsr_error(ROMBSR_ECONFIG, "no admin is pinned for this queue (%s is empty)", path);
	return r;
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
	v.refuse_expired_since = true;
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
