/* rombsr queue-init: a new signing queue. The admin's first commit creates
 * the trust file (who holds which role) and carries every listed public
 * key, so any clone can be verified with nothing but the pinned admin
 * fingerprint. */
#define _GNU_SOURCE
#include "cli.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/keyset.h"
#include "../queue/hook.h"
#include "../queue/layout.h"
#include "../queue/repo.h"
#include "../queue/trust.h"
#include "../queue/policy.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPT_BARE = 1, OPT_ADMIN, OPT_BUILD, OPT_SIGN, OPT_OPERATOR, OPT_POLICY, OPT_NO_HOOK };

static const struct cli_option options[] = {
	{"bare", "PATH", "create the queue as a bare git repository at PATH (required)", OPT_BARE},
	{"admin", "FPR", "an admin key besides this node's own (repeatable)", OPT_ADMIN},
	{"build", "FPR", "a build node key (repeatable)", OPT_BUILD},
	{"sign", "FPR", "a sign node key (repeatable)", OPT_SIGN},
	{"operator", "FPR", "an operator key (repeatable)", OPT_OPERATOR},
	{"policy", "FILE", "the first policy/policy.json (default: the starter policy of docs/formats/policy.md)",
	 OPT_POLICY},
	{"no-hook", NULL, "do not install the pre-receive hook", OPT_NO_HOOK},
	{NULL, NULL, NULL, 0},
};

static bool pinned(const struct rombsr_config *cfg, const char *fpr)
{
	for (size_t i = 0; i < cfg->queue_nadmins; i++)
		if (strcmp(cfg->queue_admins[i], fpr) == 0)
			return true;
	return false;
}

/* Without --policy: every key may sign what the sign node's hard rules
 * allow, with no approvals, except that the AVB keys sign only vbmeta the
 * sign node reads (never a blind digest); a queue is never left without a
 * policy (the sign node signs nothing then), and the admin tightens it
 * from here. A key set without the built-in AVB keys (per-device keys,
 * docs/formats/keyset.md) gets no rule for them: the policy may name only
 * keys of the set. */
static int starter_policy(char **text, size_t *len)
{
	static const char *const avb[] = {"avb_intermediate", "avb_root"};
	struct rombsr_buf b;
	const char *sep = "";
	int r;

	rombsr_buf_init(&b, 4096);
	rombsr_buf_append_str(&b, "{\n  \"defaults\": {},\n  \"format\": \"" ROMBSR_POLICY_FORMAT "\",\n  \"keys\": {");
	for (size_t i = 0; i < sizeof(avb) / sizeof(avb[0]); i++) {
		if (rombsr_keyset_find(avb[i]) == NULL)
			continue;
		rombsr_buf_append_str(&b, sep);
		rombsr_buf_append_str(&b, "\n    \"");
		rombsr_buf_append_str(&b, avb[i]);
		rombsr_buf_append_str(&b, "\": {\"data\": \"avb-vbmeta\"}");
		sep = ",";
	}
	rombsr_buf_append_str(&b, *sep ? "\n  },\n" : "},\n");
	rombsr_buf_append_str(&b, "  \"serial\": 1,\n  \"version\": 1\n}\n");
	r = rombsr_buf_check(&b, "starter policy");
	if (r == 0)
		*text = strndup((const char *)b.data, b.len);
	if (r == 0 && *text == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0)
		*len = b.len;
	rombsr_buf_free(&b);
	return r;
}

/* The first policy, checked as strictly as the sign node will. */
static int read_policy(const char *file, char **text, size_t *len)
{
	struct rombsr_policy policy;
	struct rombsr_buf buf;
	int r;

	if (file == NULL)
		return starter_policy(text, len);
	r = rombsr_file_read(file, ROMBSR_POLICY_MAX_BYTES, &buf);
	if (r == 0)
		r = rombsr_policy_parse((const char *)buf.data, buf.len, &policy);
	if (r == 0) {
		rombsr_policy_free(&policy);
		*text = malloc(buf.len ? buf.len : 1);
		if (*text == NULL)
			r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (r == 0) {
		memcpy(*text, buf.data, buf.len);
		*len = buf.len;
	}
	rombsr_buf_free(&buf);
	return r < 0 ? rombsr_error_wrap(r, "%s", file) : 0;
}

/* trust/trust.json and trust/keys/<FPR>.asc for every listed key. */
static int build_files(struct rombsr_gpg *gpg, const struct rombsr_trust *trust, struct rombsr_repo_file *files,
		       size_t *nfiles, char **texts, char paths[][96])
{
	size_t n = 1;
	int r = rombsr_trust_encode(trust, &texts[0]);

	if (r < 0)
		return r;
	files[0] = (struct rombsr_repo_file){ROMBSR_QUEUE_TRUST, texts[0], strlen(texts[0])};
	for (int role = 0; role < ROMBSR_ROLE_COUNT && r == 0; role++) {
		for (size_t i = 0; i < trust->count[role] && r == 0; i++) {
			const char *fpr = trust->fprs[role][i];
			bool seen = false;
			size_t len;

			for (size_t j = 1; j < n; j++)
				seen = seen || strstr(paths[j], fpr) != NULL;
			if (seen)
				continue;
			r = rombsr_queue_key_path(fpr, paths[n], sizeof(paths[n]));
			if (r == 0)
				r = rombsr_gpg_export(gpg, fpr, &texts[n], &len);
			if (r == 0) {
				files[n] = (struct rombsr_repo_file){paths[n], texts[n], len};
				n++;
			}
		}
	}
	*nfiles = n;
	return r;
}

int cmd_queue_init(struct cli_context *ctx, int argc, char **argv)
{
	const struct rombsr_config *cfg;
	struct rombsr_trust trust = {0};
	struct rombsr_gpg *gpg = NULL;
	struct rombsr_repo *repo = NULL;
	struct rombsr_repo_file files[4 * ROMBSR_TRUST_MAX_KEYS + 2];
	char *texts[4 * ROMBSR_TRUST_MAX_KEYS + 2] = {0};
	static char paths[4 * ROMBSR_TRUST_MAX_KEYS + 2][96];
	const char *bare = NULL, *policy_file = NULL;
	size_t policy_len = 0;
	bool hook = true, created = false;
	char exe[PATH_MAX];
	size_t nfiles = 0;
	git_oid commit;
	struct cli_parser p;
	ssize_t n;
	int id, r = 0;

	r = cli_config(ctx, &cfg);
	if (r < 0)
		return r;
	if (cfg->gpg_key == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "no signing key configured: set gpg.key to the admin's fingerprint");
	if (!pinned(cfg, cfg->gpg_key))
		return rombsr_error(ROMBSR_ECONFIG, "gpg.key %s is not a pinned admin (queue.admin)", cfg->gpg_key);
	r = rombsr_trust_add(&trust, ROMBSR_ROLE_ADMIN, cfg->gpg_key);
	cli_parser_init(&p, options, argc, argv);
	while (r == 0 && (id = cli_next(&p, "--bare PATH [--build FPR]... [--sign FPR]... [--operator FPR]...")) > 0) {
		if (id == OPT_BARE)
			bare = p.value;
		else if (id == OPT_POLICY)
			policy_file = p.value;
		else if (id == OPT_NO_HOOK)
			hook = false;
		else
			r = rombsr_trust_add(&trust,
					     id == OPT_ADMIN   ? ROMBSR_ROLE_ADMIN
					     : id == OPT_BUILD ? ROMBSR_ROLE_BUILD
					     : id == OPT_SIGN  ? ROMBSR_ROLE_SIGN
							       : ROMBSR_ROLE_OPERATOR,
					     p.value);
	}
	if (r == 0 && id < 0)
		r = id;
	if (r == 0 && p.index != argc)
		r = rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p.index]);
	if (r == 0 && bare == NULL)
		r = rombsr_error(ROMBSR_EINVAL, "--bare PATH is required");
	if (r == 0 && rombsr_path_exists(bare))
		r = rombsr_error(ROMBSR_EEXISTS, "%s already exists; a queue is created only once", bare);
	if (r == 0)
		r = rombsr_gpg_open(cfg->gpg_home, &gpg);
	if (r == 0)
		r = build_files(gpg, &trust, files, &nfiles, texts, paths);
	if (r == 0)
		r = read_policy(policy_file, &texts[nfiles], &policy_len);
	if (r == 0) {
		files[nfiles] = (struct rombsr_repo_file){ROMBSR_POLICY_PATH, texts[nfiles], policy_len};
		nfiles++;
	}
	if (r == 0) {
		r = rombsr_repo_open(bare, true, &repo);
		created = r == 0;
	}
	if (r == 0)
		r = rombsr_repo_commit(repo, gpg, cfg->gpg_key, NULL, files, nfiles, "queue-init: trust file and policy", &commit);
	if (r == 0)
		r = rombsr_repo_set_head(repo, NULL, &commit);
	if (r == 0 && git_repository_set_head(rombsr_repo_git(repo), ROMBSR_QUEUE_BRANCH) < 0)
		r = rombsr_repo_fail(ROMBSR_EIO, "cannot point HEAD at the queue branch");
	rombsr_repo_close(repo);
	if (r == 0 && hook) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n <= 0)
			r = rombsr_error(ROMBSR_EIO, "cannot find the path of rombsr for the hook");
		else {
			exe[n] = '\0';
			r = rombsr_hook_install(bare, exe, (char(*)[41])cfg->queue_admins, cfg->queue_nadmins);
		}
	}
	if (r < 0 && created)
		rombsr_remove_tree(bare);
	if (r == 0)
		cli_info("created the signing queue %s (%zu keys, %s policy, hook %s)", bare, nfiles - 2,
			 policy_file ? "the given" : "the starter",
			 hook ? "installed" : "not installed");
	for (size_t i = 0; i < nfiles; i++)
		free(texts[i]);
	rombsr_gpg_close(gpg);
	rombsr_trust_free(&trust);
	return r;
}
