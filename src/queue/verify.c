#include "verify.h"

#include "incident.h"
#include "request.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FILE_MAX (256 * 1024)
#define ROMBSR_REASON_TEXT 768

static bool pinned_admin(const struct rombsr_verifier *v, const char *fpr)
{
	for (size_t i = 0; i < v->npinned; i++)
		if (strcmp(v->pinned[i], fpr) == 0)
			return true;
	return false;
}

struct key_walk {
	struct rombsr_verifier *v;
	const git_oid *commit;
	bool admins_only;
	struct rombsr_buf keys;    /* every key file to import, concatenated */
	int r;
};

static int gather_changed_key(const char *path, char status, void *ctx)
{
	struct key_walk *w = ctx;
	struct rombsr_queue_path qp;
	struct rombsr_buf text;
	int r;

	rombsr_queue_classify(path, &qp);
	/* A key that is not a regular file is refused by the rules. */
	if (qp.kind != ROMBSR_PATH_KEY || (status != 'A' && status != 'M'))
		return 0;
	if (w->admins_only && !pinned_admin(w->v, qp.fpr))
		return 0;
	r = rombsr_repo_read(w->v->repo, w->commit, path, KEY_FILE_MAX, &text);
	if (r < 0)
		return r;
	rombsr_buf_append(&w->keys, text.data, text.len);
	rombsr_buf_append(&w->keys, "\n", 1);
	rombsr_buf_free(&text);
	return 0;
}

/* One import for every key a walk gathered (r: the walk's result); each
 * import is a gpg process. */
static int import_gathered(struct rombsr_verifier *v, struct key_walk *w, int r)
{
	if (r == 0)
		r = rombsr_buf_check(&w->keys, "trust/keys");
	if (r == 0 && w->keys.len > 0) {
		r = rombsr_gpg_import(v->keyring, (const char *)w->keys.data, w->keys.len);
		if (r < 0)
			r = rombsr_error_wrap(r, "trust/keys");
	}
	rombsr_buf_free(&w->keys);
	return r;
}

/* Loads the keys a commit carries: with admins_only, just the pinned
 * admins' (needed to check the commit itself), else every key it changed.
 * One import for all of them: each import is a gpg process. */
static int import_keys(struct rombsr_verifier *v, const git_oid *parent, const git_oid *commit, bool admins_only)
{
	struct key_walk w = {v, commit, admins_only, {0}, 0};
	int r;

	rombsr_buf_init(&w.keys, 64u << 20);
	r = rombsr_repo_diff(v->repo, parent, commit, gather_changed_key, &w);
	return import_gathered(v, &w, r);
}

static int gather_listed_key(const char *name, bool is_file, void *ctx)
{
	char path[128];

	if (!is_file || snprintf(path, sizeof(path), "%s/%s", ROMBSR_QUEUE_KEYS_DIR, name) >= (int)sizeof(path))
		return 0;
	return gather_changed_key(path, 'A', ctx);
}

/* The keys of a trusted commit, read from its trust/keys/ folder alone: a
 * diff from the empty tree would walk every request and response of the
 * queue, and a verifier starting at a recorded head must not cost more as
 * the history grows. */
static int import_key_folder(struct rombsr_verifier *v, const git_oid *base)
{
	struct key_walk w = {v, base, false, {0}, 0};
	int r;

	rombsr_buf_init(&w.keys, 64u << 20);
	r = rombsr_repo_list(v->repo, base, ROMBSR_QUEUE_KEYS_DIR, gather_listed_key, &w);
	return import_gathered(v, &w, r);
}

int rombsr_verifier_init(struct rombsr_verifier *v, struct rombsr_repo *repo, char (*pinned)[41], size_t npinned,
			 const git_oid *base)
{
	int r;

	memset(v, 0, sizeof(*v));
	if (npinned == 0)
		return rombsr_error(ROMBSR_ECONFIG, "no admin fingerprint is pinned (queue.admin): nothing could be trusted");
	v->repo = repo;
	v->pinned = pinned;
	v->npinned = npinned;
	r = rombsr_gpg_open_ephemeral(&v->keyring);
	if (r == 0 && base != NULL)
		r = import_key_folder(v, base);
	if (r < 0)
		rombsr_verifier_free(v);
	return r;
}

void rombsr_verifier_free(struct rombsr_verifier *v)
{
	if (v == NULL)
		return;
	rombsr_gpg_close(v->keyring);
	v->keyring = NULL;
}

void rombsr_commit_report_free(struct rombsr_commit_report *report)
{
	if (report == NULL)
		return;
	free(report->changes);
	memset(report, 0, sizeof(*report));
}

struct rule_ctx {
	struct rombsr_verifier *v;
	const git_oid *commit;
	const struct rombsr_trust *trust;    /* trust file of the parent */
	const char *signer;
	char commit_hex[GIT_OID_HEXSZ + 1];
	struct rombsr_commit_report *report;
	bool trust_changed;
};

static int refuse(const struct rule_ctx *c, const char *path, const char *why)
{
	return rombsr_error(ROMBSR_ESECURITY, "commit %.12s signed by %s: %s: %s", c->commit_hex, c->signer, path, why);
}

static int needs_role(const struct rule_ctx *c, const char *path, enum rombsr_role role, const char *what)
{
	char why[160];

	if (rombsr_trust_has(c->trust, role, c->signer))
		return 0;
	snprintf(why, sizeof(why), "only a key with the %s role may %s", rombsr_role_name(role), what);
	return refuse(c, path, why);
}

static int record(struct rule_ctx *c, const struct rombsr_queue_path *qp, const char *path)
{
	struct rombsr_commit_report *rep = c->report;
	struct rombsr_commit_change *grown = rep->changes;

	/* Room doubles: a commit may carry thousands of requests. */
	if ((rep->nchanges & (rep->nchanges - 1)) == 0) {
		grown = realloc(rep->changes, (rep->nchanges ? 2 * rep->nchanges : 1) * sizeof(*grown));
		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	rep->changes = grown;
	memset(&grown[rep->nchanges], 0, sizeof(grown[0]));
	grown[rep->nchanges].kind = qp->kind;
	memcpy(grown[rep->nchanges].id, qp->id, sizeof(qp->id));
	memcpy(grown[rep->nchanges].fpr, qp->fpr, sizeof(qp->fpr));
	/* A classified path fits (the layout's paths are short); one that did
	 * not would be reported cut, so it is refused instead. */
	if (rombsr_path_format(grown[rep->nchanges].path, sizeof(grown[0].path), "%s", path) < 0)
		return ROMBSR_EINVAL;
	rep->nchanges++;
	return 0;
}

static int check_request_content(const struct rule_ctx *c, const char *path, const struct rombsr_queue_path *qp)
{
	struct rombsr_request req;
	struct rombsr_buf text;
	char why[ROMBSR_REASON_TEXT];
	int r = rombsr_repo_read(c->v->repo, c->commit, path, ROMBSR_REQUEST_MAX_BYTES, &text);

	if (r == 0)
		r = rombsr_request_parse((const char *)text.data, text.len, &req);
	rombsr_buf_free(&text);
	if (r < 0) {
		snprintf(why, sizeof(why), "malformed request: %s", rombsr_error_message(r));
		return refuse(c, path, why);
	}
	if (strcmp(req.id, qp->id) != 0)
		r = refuse(c, path, "the request's id is not the one its path names");
	else if (strcmp(req.build_node, c->signer) != 0)
		r = refuse(c, path, "the request names another build node than the key that committed it");
	rombsr_request_free(&req);
	return r;
}

/* A freeze record or a revocation must parse and name the admin who
 * committed it, whoever verifies (as a new trust file must parse): the
 * sign node acts on them, and only a pinned admin writes them. A
 * revocation must name the key its path names. */
static int check_incident(const struct rule_ctx *c, const char *path, const struct rombsr_queue_path *qp)
{
	struct rombsr_revocation rev;
	struct rombsr_freeze fr;
	struct rombsr_buf text;
	char why[ROMBSR_REASON_TEXT];
	const char *admin;
	int r = rombsr_repo_read(c->v->repo, c->commit, path, ROMBSR_INCIDENT_MAX_BYTES, &text);

	if (r == ROMBSR_EINVAL)
		return refuse(c, path, rombsr_error_message(r));
	if (r < 0)
		return r;
	if (qp->kind == ROMBSR_PATH_FREEZE)
		r = rombsr_freeze_parse((const char *)text.data, text.len, &fr);
	else
		r = rombsr_revocation_parse((const char *)text.data, text.len, &rev);
	rombsr_buf_free(&text);
	if (r < 0) {
		snprintf(why, sizeof(why), "malformed %s: %s", rombsr_queue_kind_name(qp->kind), rombsr_error_message(r));
		return refuse(c, path, why);
	}
	admin = qp->kind == ROMBSR_PATH_FREEZE ? fr.admin : rev.admin;
	if (strcmp(admin, c->signer) != 0)
		return refuse(c, path, "names another admin than the key that committed it");
	if (qp->kind == ROMBSR_PATH_REVOCATION && strcmp(rev.key_fingerprint, qp->key) != 0)
		return refuse(c, path, "revokes another key than the one its path names");
	return 0;
}

static int check_change(const char *path, char status, void *ctx)
{
	struct rule_ctx *c = ctx;
	struct rombsr_queue_path qp;
	char request_path[160];
	bool exists;
	int r = 0;

	rombsr_queue_classify(path, &qp);
	/* Only regular 100644 files. The hook refuses anything else; past a
	 * bypassed hook, the sign node answers such a request with a rejection
	 * and counts no such approval, but a file only an admin or a sign node
	 * writes must be right. */
	bool irregular = status == 'a' || status == 'm';

	if (irregular && (c->v->strict_content || (qp.kind != ROMBSR_PATH_REQUEST && qp.kind != ROMBSR_PATH_APPROVAL)))
		return refuse(c, path, "not a regular file (a symlink, an executable or a submodule)");
	if (irregular)
		status = status == 'a' ? 'A' : 'M';
	switch (qp.kind) {
	case ROMBSR_PATH_UNKNOWN:
		return refuse(c, path, "not part of the queue layout");
	case ROMBSR_PATH_TRUST:
	case ROMBSR_PATH_KEY:
	case ROMBSR_PATH_POLICY:
		if (!pinned_admin(c->v, c->signer))
			return refuse(c, path, "only an admin pinned in the sign node's configuration may change it");
		c->trust_changed = c->trust_changed || qp.kind != ROMBSR_PATH_POLICY;
		break;
	case ROMBSR_PATH_REQUEST:
	case ROMBSR_PATH_RESPONSE:
	case ROMBSR_PATH_APPROVAL:
		if (status != 'A')
			return refuse(c, path, status == 'D' ? "requests, responses and approvals are never deleted"
							     : "requests, responses and approvals are never modified");
		if (qp.kind == ROMBSR_PATH_REQUEST) {
			r = needs_role(c, path, ROMBSR_ROLE_BUILD, "add a request");
			if (r == 0 && c->v->strict_content)
				r = check_request_content(c, path, &qp);
			break;
		}
		r = needs_role(c, path, qp.kind == ROMBSR_PATH_RESPONSE ? ROMBSR_ROLE_SIGN : ROMBSR_ROLE_OPERATOR,
			       qp.kind == ROMBSR_PATH_RESPONSE ? "add a response" : "approve");
		if (r == 0 && qp.kind == ROMBSR_PATH_APPROVAL && strcmp(qp.fpr, c->signer) != 0)
			r = refuse(c, path, "an approval must be committed by the operator it names");
		if (r == 0)
			r = rombsr_queue_request_path(qp.id, request_path, sizeof(request_path));
		if (r == 0)
			r = rombsr_repo_exists(c->v->repo, c->commit, request_path, &exists);
		if (r == 0 && !exists)
			r = refuse(c, path, "there is no such request");
		break;
	case ROMBSR_PATH_FREEZE:
	case ROMBSR_PATH_REVOCATION:
		if (!pinned_admin(c->v, c->signer))
			return refuse(c, path, qp.kind == ROMBSR_PATH_FREEZE
						       ? "only an admin pinned in the sign node's configuration may freeze or thaw signing"
						       : "only an admin pinned in the sign node's configuration may revoke a key");
		if (status == 'D')
			return refuse(c, path, qp.kind == ROMBSR_PATH_FREEZE ? "the freeze record is never deleted: a thaw replaces it"
									     : "revocations are never deleted");
		if (qp.kind == ROMBSR_PATH_REVOCATION && status != 'A')
			return refuse(c, path, "revocations are never modified");
		r = check_incident(c, path, &qp);
		break;
	case ROMBSR_PATH_AUDIT:
		r = needs_role(c, path, ROMBSR_ROLE_SIGN, "write the audit log");
		if (r == 0 && status != 'A')
			r = refuse(c, path, status == 'D' ? "the audit log is never deleted" : "the audit log is never modified");
		break;
	}
	if (r == 0)
		r = record(c, &qp, path);
	return r;
}

/* A new trust file must parse and name only keys the queue carries. */
static int check_new_trust(struct rule_ctx *c)
{
	struct rombsr_trust next;
	int r = rombsr_trust_at(c->v->repo, c->commit, &next);

	if (r < 0)
		return rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "commit %.12s: %s", c->commit_hex, ROMBSR_QUEUE_TRUST);
	for (int role = 0; role < ROMBSR_ROLE_COUNT && r == 0; role++) {
		for (size_t i = 0; i < next.count[role] && r == 0; i++) {
			char path[96];
			bool exists;

			r = rombsr_queue_key_path(next.fprs[role][i], path, sizeof(path));
			if (r == 0)
				r = rombsr_repo_exists(c->v->repo, c->commit, path, &exists);
			if (r == 0 && !exists)
				r = refuse(c, ROMBSR_QUEUE_TRUST, "names a key that trust/keys/ does not carry");
		}
	}
	rombsr_trust_free(&next);
	return r;
}

static int check_signature(struct rombsr_verifier *v, const git_oid *commit, const char *hex, char signer[41])
{
	struct rombsr_buf sig, data;
	struct rombsr_gpg_result res;
	int r = rombsr_repo_commit_signature(v->repo, commit, &sig, &data);

	if (r == ROMBSR_ENOTFOUND)
		return rombsr_error(ROMBSR_ESECURITY, "commit %.12s is not signed", hex);
	if (r < 0)
		return r;
	r = rombsr_gpg_verify(v->keyring, data.data, data.len, (const char *)sig.data, sig.len, &res);
	rombsr_buf_free(&sig);
	rombsr_buf_free(&data);
	if (r < 0)
		return r;
	if (res.verdict == ROMBSR_GPG_GOOD && res.expired_since && v->refuse_expired_since)
		res.verdict = ROMBSR_GPG_EXPIRED;
	if (res.verdict != ROMBSR_GPG_GOOD)
		return rombsr_error(ROMBSR_ESECURITY, "commit %.12s: %s%s%s", hex, rombsr_gpg_verdict_text(res.verdict),
				    res.fpr[0] ? " " : "", res.fpr);
	memcpy(signer, res.fpr, 41);
	return 0;
}

int rombsr_verify_commit(struct rombsr_verifier *v, const git_oid *commit, struct rombsr_commit_report *report)
{
	struct rombsr_trust trust = {0};
	struct rule_ctx c;
	git_oid parent;
	unsigned nparents;
	int r;

	memset(report, 0, sizeof(*report));
	memset(&c, 0, sizeof(c));
	c.v = v;
	c.commit = commit;
	c.trust = &trust;
	c.report = report;
	rombsr_oid_hex(commit, c.commit_hex);
	r = rombsr_repo_parents(v->repo, commit, &nparents, &parent);
	if (r < 0)
		return r;
	if (nparents > 1)
		return rombsr_error(ROMBSR_ESECURITY, "commit %.12s is a merge: the queue's history is linear", c.commit_hex);
	if (nparents == 1) {
		r = rombsr_trust_at(v->repo, &parent, &trust);
		if (r < 0)
			return rombsr_error_wrap(r, "trust file before commit %.12s", c.commit_hex);
	}
	r = import_keys(v, nparents ? &parent : NULL, commit, true);
	if (r == 0)
		r = check_signature(v, commit, c.commit_hex, report->signer);
	c.signer = report->signer;
	if (r == 0) {
		r = rombsr_repo_diff(v->repo, nparents ? &parent : NULL, commit, check_change, &c);
		/* A tree the walk cannot take (folders nested too deep, a path
		 * too long) is the commit's fault: say whose. */
		if (r == ROMBSR_EINVAL)
			r = rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "commit %.12s signed by %s", c.commit_hex, c.signer);
	}
	/* Every commit of the queue carries something: an empty one would only
	 * let any key that verifies add to the history. */
	if (r == 0 && report->nchanges == 0)
		r = rombsr_error(ROMBSR_ESECURITY, "commit %.12s changes nothing", c.commit_hex);
	if (r == 0 && nparents == 0 && !c.trust_changed)
		r = rombsr_error(ROMBSR_ESECURITY, "commit %.12s: the first commit must create %s", c.commit_hex,
				 ROMBSR_QUEUE_TRUST);
	if (r == 0 && c.trust_changed)
		r = check_new_trust(&c);
	/* Keys become usable for later commits only once this one is good. */
	if (r == 0 && c.trust_changed)
		r = import_keys(v, nparents ? &parent : NULL, commit, false);
	rombsr_trust_free(&trust);
	if (r < 0)
		rombsr_commit_report_free(report);
	return r;
}

int rombsr_verify_range(struct rombsr_verifier *v, const git_oid *base, const git_oid *head, rombsr_verified_fn done,
			void *ctx)
{
	git_revwalk *walk = NULL;
	git_oid oid;
	int e, r = 0;

	if (git_revwalk_new(&walk, rombsr_repo_git(v->repo)) < 0 ||
	    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
	    git_revwalk_push(walk, head) < 0 || (base != NULL && git_revwalk_hide(walk, base) < 0)) {
		git_revwalk_free(walk);
		return rombsr_repo_fail(ROMBSR_EIO, "cannot walk the queue history");
	}
	while (r == 0 && (e = git_revwalk_next(&oid, walk)) == 0) {
		struct rombsr_commit_report report;

		r = rombsr_verify_commit(v, &oid, &report);
		if (r == 0 && done != NULL)
			r = done(&oid, &report, ctx);
		rombsr_commit_report_free(&report);
	}
	git_revwalk_free(walk);
	return r;
}
