#include "repo.h"

#include "layout.h"

#include "../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rombsr_repo {
	git_repository *git;
};

int rombsr_repo_fail(int code, const char *what)
{
	const git_error *e = git_error_last();

	return rombsr_error(code, "%s: %s", what, e != NULL && e->message != NULL ? e->message : "git error");
}

void rombsr_oid_hex(const git_oid *oid, char out[GIT_OID_HEXSZ + 1])
{
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, oid);
}

int rombsr_repo_open(const char *path, bool create, struct rombsr_repo **out)
{
	struct rombsr_repo *r = calloc(1, sizeof(*r));
	int e;

	*out = NULL;
	if (r == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	git_libgit2_init();
	/* libgit2 caches no tree over 4 KiB by default; the queue's shard
	 * folders are larger, and every new commit's diff reads them. */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)1 << 20);
	e = git_repository_open_bare(&r->git, path);
	if (e == GIT_ENOTFOUND && create)
		e = git_repository_init(&r->git, path, 1);
	if (e < 0) {
		free(r);
		git_libgit2_shutdown();
		return rombsr_repo_fail(e == GIT_ENOTFOUND ? ROMBSR_ENOTFOUND : ROMBSR_EIO, path);
	}
	*out = r;
	return 0;
}

int rombsr_repo_open_from_env(struct rombsr_repo **out)
{
	struct rombsr_repo *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	git_libgit2_init();
	if (git_repository_open_ext(&r->git, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL) < 0) {
		free(r);
		git_libgit2_shutdown();
		return rombsr_repo_fail(ROMBSR_EIO, "cannot open the repository of this hook");
	}
	*out = r;
	return 0;
}

void rombsr_repo_close(struct rombsr_repo *r)
{
	if (r == NULL)
		return;
	git_repository_free(r->git);
	free(r);
	git_libgit2_shutdown();
}

git_repository *rombsr_repo_git(struct rombsr_repo *r)
{
	return r->git;
}

static int ref_target(struct rombsr_repo *r, const char *name, git_oid *oid, bool *empty)
{
	int e = git_reference_name_to_id(oid, r->git, name);

	*empty = e == GIT_ENOTFOUND;
	if (e < 0 && e != GIT_ENOTFOUND)
		return rombsr_repo_fail(ROMBSR_EIO, name);
	return 0;
}

int rombsr_repo_head(struct rombsr_repo *r, git_oid *head, bool *empty)
{
	return ref_target(r, ROMBSR_QUEUE_BRANCH, head, empty);
}

int rombsr_repo_set_head(struct rombsr_repo *r, const git_oid *old_head, const git_oid *new_head)
{
	git_reference *ref = NULL;
	int e;

	/* Compare-and-swap: two writers in one clone never lose a commit. */
	if (old_head == NULL)
		e = git_reference_create(&ref, r->git, ROMBSR_QUEUE_BRANCH, new_head, 0, "rombsr");
	else
		e = git_reference_create_matching(&ref, r->git, ROMBSR_QUEUE_BRANCH, new_head, 1, old_head, "rombsr");
	git_reference_free(ref);
	if (e < 0)
		return rombsr_repo_fail(ROMBSR_EIO, "cannot move " ROMBSR_QUEUE_BRANCH);
	return 0;
}

/* An unnamed remote for url, taken as written: no url.<base>.insteadOf
 * rewriting from git configuration (the queue is where the node's own
 * configuration says; and libgit2 1.5 leaks a regex match on every
 * non-matching config entry it checks for insteadOf). */
static int anonymous_remote(struct rombsr_repo *r, const char *url, git_remote **remote)
{
	git_remote_create_options opts;

	git_remote_create_options_init(&opts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	opts.repository = r->git;
	opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	return git_remote_create_with_opts(remote, url, &opts);
}

#define FETCHED_REF "refs/rombsr/fetched"

int rombsr_repo_fetch(struct rombsr_repo *r, const char *url, git_oid *head, bool *empty)
{
	git_remote *remote = NULL;
	git_fetch_options opts;
	char *spec = "+" ROMBSR_QUEUE_BRANCH ":" FETCHED_REF;
	git_strarray refspecs = {&spec, 1};
	git_reference *stale = NULL;
	int e, ret;

	/* The fetched head is compared with what this node saw before by the
	 * caller: forcing the local ref here hides nothing. */
	git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
	if (git_reference_lookup(&stale, r->git, FETCHED_REF) == 0) {
		git_reference_delete(stale);
		git_reference_free(stale);
	}
	e = anonymous_remote(r, url, &remote);
	if (e == 0)
		e = git_remote_fetch(remote, &refspecs, &opts, NULL);
	git_remote_free(remote);
	if (e < 0)
		return rombsr_repo_fail(ROMBSR_EIO, "cannot fetch the queue");
	ret = ref_target(r, FETCHED_REF, head, empty);
	return ret;
}

int rombsr_repo_fetched_head(struct rombsr_repo *r, git_oid *head, bool *empty)
{
	return ref_target(r, FETCHED_REF, head, empty);
}

int rombsr_repo_commits_after(struct rombsr_repo *r, const git_oid *base, const git_oid *head, size_t *count)
{
	size_t ahead = 0, behind = 0;

	if (git_graph_ahead_behind(&ahead, &behind, r->git, head, base) < 0)
		return rombsr_repo_fail(ROMBSR_EIO, "cannot count commits");
	*count = ahead;
	return 0;
}

static int tree_of(struct rombsr_repo *r, const git_oid *commit, git_tree **tree)
{
	git_commit *c = NULL;
	int e = git_commit_lookup(&c, r->git, commit);

	if (e == 0)
		e = git_commit_tree(tree, c);
	git_commit_free(c);
	if (e < 0)
		return rombsr_repo_fail(ROMBSR_EIO, "cannot read a commit of the queue");
	return 0;
}

/* Every file of the queue is a regular, non-executable blob: a symlink,
 * an executable or a gitlink is never what a queue file means. */
static bool regular_file(const git_tree_entry *entry)
{
	return git_tree_entry_type(entry) == GIT_OBJECT_BLOB && git_tree_entry_filemode(entry) == GIT_FILEMODE_BLOB;
}

int rombsr_repo_read(struct rombsr_repo *r, const git_oid *commit, const char *path, size_t max,
		     struct rombsr_buf *out)
{
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	int e, ret;

	rombsr_buf_init(out, max);
	ret = tree_of(r, commit, &tree);
	if (ret < 0)
		return ret;
	e = git_tree_entry_bypath(&entry, tree, path);
	if (e == GIT_ENOTFOUND) {
		ret = rombsr_error(ROMBSR_ENOTFOUND, "%s is not in the queue", path);
		goto out;
	}
	if (e < 0 || git_tree_entry_type(entry) != GIT_OBJECT_BLOB) {
		ret = rombsr_error(ROMBSR_EINVAL, "%s is not a file in the queue", path);
		goto out;
	}
	if (!regular_file(entry)) {
		ret = rombsr_error(ROMBSR_EINVAL, "%s is not a regular file in the queue (mode %06o)", path,
				   (unsigned)git_tree_entry_filemode(entry));
		goto out;
	}
	if (git_blob_lookup(&blob, r->git, git_tree_entry_id(entry)) < 0) {
		ret = rombsr_repo_fail(ROMBSR_EIO, path);
		goto out;
	}
	if ((size_t)git_blob_rawsize(blob) > max) {
		ret = rombsr_error(ROMBSR_EINVAL, "%s: %llu bytes, larger than the limit of %zu", path,
				   (unsigned long long)git_blob_rawsize(blob), max);
		goto out;
	}
	rombsr_buf_append(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	ret = rombsr_buf_check(out, path);
out:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	if (ret < 0)
		rombsr_buf_free(out);
	return ret;
}

int rombsr_repo_exists(struct rombsr_repo *r, const git_oid *commit, const char *path, bool *exists)
{
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	int e, ret = tree_of(r, commit, &tree);

	if (ret < 0)
		return ret;
	e = git_tree_entry_bypath(&entry, tree, path);
	*exists = e == 0;
	if (e < 0 && e != GIT_ENOTFOUND)
		ret = rombsr_repo_fail(ROMBSR_EIO, path);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	return ret;
}

int rombsr_repo_list(struct rombsr_repo *r, const git_oid *commit, const char *dir, rombsr_repo_name_fn fn,
		     void *ctx)
{
	git_tree *tree = NULL, *sub = NULL;
	git_tree_entry *entry = NULL;
	int e, ret = tree_of(r, commit, &tree);

	if (ret < 0)
		return ret;
	e = git_tree_entry_bypath(&entry, tree, dir);
	if (e == GIT_ENOTFOUND)
		goto out;
	if (e < 0 || git_tree_entry_type(entry) != GIT_OBJECT_TREE) {
		ret = rombsr_error(ROMBSR_EINVAL, "%s is not a folder in the queue", dir);
		goto out;
	}
	if (git_tree_lookup(&sub, r->git, git_tree_entry_id(entry)) < 0) {
		ret = rombsr_repo_fail(ROMBSR_EIO, dir);
		goto out;
	}
	for (size_t i = 0; i < git_tree_entrycount(sub) && ret == 0; i++) {
		const git_tree_entry *child = git_tree_entry_byindex(sub, i);

		ret = fn(git_tree_entry_name(child), regular_file(child), ctx);
	}
out:
	git_tree_free(sub);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	return ret;
}

/* The parent's tree with files added or replaced. Only the folders on the
 * files' paths are rewritten (libgit2's tree update): the cost follows what
 * is added, not how much the queue already holds. */
static int build_tree(struct rombsr_repo *r, const git_oid *parent, const struct rombsr_repo_file *files,
		      size_t nfiles, git_oid *tree_oid)
{
	git_treebuilder *empty = NULL;
	git_tree_update *updates = calloc(nfiles ? nfiles : 1, sizeof(*updates));
	git_tree *base = NULL;
	git_oid empty_oid;
	int ret = updates ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (ret == 0 && parent != NULL)
		ret = tree_of(r, parent, &base);
	if (ret == 0 && parent == NULL &&
	    (git_treebuilder_new(&empty, r->git, NULL) < 0 || git_treebuilder_write(&empty_oid, empty) < 0 ||
	     git_tree_lookup(&base, r->git, &empty_oid) < 0))
		ret = rombsr_repo_fail(ROMBSR_EIO, "cannot write the empty tree");
	for (size_t i = 0; i < nfiles && ret == 0; i++) {
		updates[i].action = GIT_TREE_UPDATE_UPSERT;
		updates[i].filemode = GIT_FILEMODE_BLOB;
		updates[i].path = files[i].path;
		if (git_blob_create_from_buffer(&updates[i].id, r->git, files[i].data, files[i].len) < 0)
			ret = rombsr_repo_fail(ROMBSR_EIO, files[i].path);
	}
	if (ret == 0 && git_tree_create_updated(tree_oid, r->git, base, nfiles, updates) < 0)
		ret = rombsr_repo_fail(ROMBSR_EIO, "cannot write the tree");
	git_treebuilder_free(empty);
	git_tree_free(base);
	free(updates);
	return ret;
}

int rombsr_repo_commit(struct rombsr_repo *r, struct rombsr_gpg *g, const char *signer_fpr, const git_oid *parent,
		       const struct rombsr_repo_file *files, size_t nfiles, const char *message, git_oid *out)
{
	git_signature *who = NULL;
	git_commit *parent_commit = NULL;
	git_tree *tree = NULL;
	git_buf content = {0};
	git_oid tree_oid;
	char name[128], email[128], *sig = NULL;
	int ret;

	ret = rombsr_gpg_key_identity(g, signer_fpr, name, email);
	if (ret < 0)
		return ret;
	ret = build_tree(r, parent, files, nfiles, &tree_oid);
	if (ret < 0)
		return ret;
	if (git_signature_now(&who, name, email) < 0 || git_tree_lookup(&tree, r->git, &tree_oid) < 0 ||
	    (parent != NULL && git_commit_lookup(&parent_commit, r->git, parent) < 0) ||
	    git_commit_create_buffer(&content, r->git, who, who, NULL, message, tree, parent ? 1 : 0,
				     (const git_commit **)&parent_commit) < 0) {
		ret = rombsr_repo_fail(ROMBSR_EIO, "cannot make the commit");
		goto out;
	}
	ret = rombsr_gpg_sign(g, signer_fpr, content.ptr, content.size, &sig);
	if (ret < 0)
		goto out;
	if (git_commit_create_with_signature(out, r->git, content.ptr, sig, NULL) < 0)
		ret = rombsr_repo_fail(ROMBSR_EIO, "cannot store the signed commit");
out:
	free(sig);
	git_buf_dispose(&content);
	git_commit_free(parent_commit);
	git_tree_free(tree);
	git_signature_free(who);
	return ret;
}

struct push_state {
	struct rombsr_buf remote_text;
	char refused[512];
};

static int push_status(const char *refname, const char *status, void *payload)
{
	struct push_state *st = payload;

	if (status != NULL)
		snprintf(st->refused, sizeof(st->refused), "%s: %s", refname, status);
	return 0;
}

static int push_sideband(const char *text, int len, void *payload)
{
	struct push_state *st = payload;

	rombsr_buf_append(&st->remote_text, text, (size_t)len);
	return 0;
}

/* The first line the remote's hook printed with our prefix, for the error. */
static const char *hook_reason(struct push_state *st)
{
	const char *text = rombsr_buf_cstr(&st->remote_text);
	const char *found = strstr(text, "refused:");

	return found != NULL ? found : NULL;
}

int rombsr_repo_push(struct rombsr_repo *r, const char *url, const git_oid *commit)
{
	git_remote *remote = NULL;
	git_push_options opts;
	char spec[128], oid_hex[GIT_OID_HEXSZ + 1];
	char *specp = spec;
	git_strarray refspecs = {&specp, 1};
	struct push_state st;
	git_reference *ref = NULL;
	int e, ret = 0;

	memset(&st, 0, sizeof(st));
	git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
	rombsr_buf_init(&st.remote_text, 64 * 1024);
	rombsr_oid_hex(commit, oid_hex);
	/* Pushed through a scratch ref: libgit2 pushes refs, not bare IDs. */
	if (git_reference_create(&ref, r->git, "refs/rombsr/outgoing", commit, 1, "rombsr push") < 0)
		return rombsr_repo_fail(ROMBSR_EIO, "cannot prepare the push");
	git_reference_free(ref);
	snprintf(spec, sizeof(spec), "refs/rombsr/outgoing:%s", ROMBSR_QUEUE_BRANCH);
	opts.callbacks.push_update_reference = push_status;
	opts.callbacks.sideband_progress = push_sideband;
	opts.callbacks.payload = &st;
	e = anonymous_remote(r, url, &remote);
	if (e == 0)
		e = git_remote_push(remote, &refspecs, &opts);
	git_remote_free(remote);
	if (e == GIT_ENONFASTFORWARD) {
		/* libgit2 finds it before sending anything: another node pushed
		 * since this one fetched. The caller fetches and tries again
		 * (rombsr_queue_publish); an I/O error would end a submit. */
		ret = rombsr_error(ROMBSR_EPERM, "the queue moved on: commit %.12s is not a fast-forward of %s",
				   oid_hex, ROMBSR_QUEUE_BRANCH);
	} else if (e < 0) {
		const char *why = hook_reason(&st);

		ret = why ? rombsr_error(ROMBSR_EPERM, "the queue refused commit %.12s: %s", oid_hex, why)
			  : rombsr_repo_fail(ROMBSR_EIO, "cannot push to the queue");
	} else if (st.refused[0] != '\0') {
		const char *why = hook_reason(&st);
		char *nl;

		if (why != NULL && (nl = strchr(why, '\n')) != NULL)
			*nl = '\0';
		ret = rombsr_error(ROMBSR_EPERM, "the queue refused commit %.12s: %s", oid_hex,
				   why != NULL ? why : st.refused);
	}
	rombsr_buf_free(&st.remote_text);
	return ret;
}

/* A diff of two trees that never descends into a subtree both sides share
 * (same object ID): its cost follows what changed, not the size of the
 * queue. libgit2's tree-to-tree diff flattens both trees and so visits every
 * file of the queue on each call. */
#define DIFF_MAX_DEPTH 32
#define DIFF_PATH_MAX 4096

struct diff_walk {
	struct rombsr_repo *repo;
	rombsr_repo_change_fn change;
	void *ctx;
	char path[DIFF_PATH_MAX];
};

static int diff_trees(struct diff_walk *w, const git_tree *old_tree, const git_tree *new_tree, size_t len,
		      int depth);

/* Reports every file under one side's entry (a file, or a whole tree) as
 * added or deleted. */
static int diff_side(struct diff_walk *w, const git_tree_entry *entry, bool added, size_t len, int depth)
{
	git_tree *tree = NULL;
	int r;

	if (git_tree_entry_type(entry) != GIT_OBJECT_TREE)
		return w->change(w->path, !added ? 'D' : regular_file(entry) ? 'A' : 'a', w->ctx);
	if (git_tree_lookup(&tree, w->repo->git, git_tree_entry_id(entry)) < 0)
		return rombsr_repo_fail(ROMBSR_EIO, "cannot read a queue tree");
	r = diff_trees(w, added ? NULL : tree, added ? tree : NULL, len, depth + 1);
	git_tree_free(tree);
	return r;
}

/* Both sides have an entry of this name. */
static int diff_pair(struct diff_walk *w, const git_tree_entry *o, const git_tree_entry *n, size_t len, int depth)
{
	bool o_tree = git_tree_entry_type(o) == GIT_OBJECT_TREE, n_tree = git_tree_entry_type(n) == GIT_OBJECT_TREE;
	git_tree *ot = NULL, *nt = NULL;
	int r;

	if (git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(n)) &&
	    git_tree_entry_filemode(o) == git_tree_entry_filemode(n))
		return 0;
	if (!o_tree && !n_tree)
		return w->change(w->path, regular_file(n) ? 'M' : 'm', w->ctx);
	if (o_tree != n_tree) {
		/* A file became a folder or the reverse: one side goes, the
		 * other comes. */
		r = diff_side(w, o, false, len, depth);
		return r == 0 ? diff_side(w, n, true, len, depth) : r;
	}
	if (git_tree_lookup(&ot, w->repo->git, git_tree_entry_id(o)) < 0 ||
	    git_tree_lookup(&nt, w->repo->git, git_tree_entry_id(n)) < 0)
		r = rombsr_repo_fail(ROMBSR_EIO, "cannot read a queue tree");
	else
		r = diff_trees(w, ot, nt, len, depth + 1);
	git_tree_free(ot);
	git_tree_free(nt);
	return r;
}

/* Git's order of tree entries: a folder sorts as if its name ended in '/'.
 * An entry that changed between file and folder therefore compares unequal
 * to its old self, and is seen as one deleted and one added. */
static int entry_cmp(const git_tree_entry *a, const git_tree_entry *b)
{
	const char *x = git_tree_entry_name(a), *y = git_tree_entry_name(b);
	size_t lx = strlen(x), ly = strlen(y), m = lx < ly ? lx : ly;
	int c = memcmp(x, y, m);
	unsigned char cx, cy;

	if (c != 0)
		return c;
	cx = lx > m ? (unsigned char)x[m] : git_tree_entry_type(a) == GIT_OBJECT_TREE ? '/' : '\0';
	cy = ly > m ? (unsigned char)y[m] : git_tree_entry_type(b) == GIT_OBJECT_TREE ? '/' : '\0';
	return (int)cx - (int)cy;
}

/* w->path[0..len) is the folder both trees stand for ("" at the root).
 * Both trees' entries are sorted (git writes them so; the queue's hook has
 * git check every pushed object), so one merge pass pairs them. */
static int diff_trees(struct diff_walk *w, const git_tree *old_tree, const git_tree *new_tree, size_t len, int depth)
{
	size_t n_old = old_tree ? git_tree_entrycount(old_tree) : 0;
	size_t n_new = new_tree ? git_tree_entrycount(new_tree) : 0;
	size_t i = 0, j = 0;
	int r = 0;

	if (depth > DIFF_MAX_DEPTH)
		return rombsr_error(ROMBSR_EINVAL, "%.*s: the queue's folders are nested more than %d deep", (int)len,
				    w->path, DIFF_MAX_DEPTH);
	while (r == 0 && (i < n_old || j < n_new)) {
		const git_tree_entry *o = i < n_old ? git_tree_entry_byindex(old_tree, i) : NULL;
		const git_tree_entry *n = j < n_new ? git_tree_entry_byindex(new_tree, j) : NULL;
		int c = o == NULL ? 1 : n == NULL ? -1 : entry_cmp(o, n);
		const char *name = git_tree_entry_name(c <= 0 ? o : n);
		size_t nlen = strlen(name), sub = len + (len ? 1 : 0) + nlen;

		if (sub >= sizeof(w->path))
			return rombsr_error(ROMBSR_EINVAL, "a path of the queue is longer than %d bytes", DIFF_PATH_MAX - 1);
		if (len)
			w->path[len] = '/';
		memcpy(w->path + sub - nlen, name, nlen + 1);
		if (c < 0)
			r = diff_side(w, o, false, sub, depth);
		else if (c > 0)
			r = diff_side(w, n, true, sub, depth);
		else
			r = diff_pair(w, o, n, sub, depth);
		i += c <= 0;
		j += c >= 0;
		w->path[len] = '\0';
	}
	return r;
}

int rombsr_repo_diff(struct rombsr_repo *r, const git_oid *old_commit, const git_oid *new_commit,
		     rombsr_repo_change_fn change, void *ctx)
{
	git_tree *old_tree = NULL, *new_tree = NULL;
	struct diff_walk *w = calloc(1, sizeof(*w));
	int ret = 0;

	if (w == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	w->repo = r;
	w->change = change;
	w->ctx = ctx;
	/* A rename is a delete plus an add, which the rules see; a type
	 * change likewise. */
	if (old_commit != NULL)
		ret = tree_of(r, old_commit, &old_tree);
	if (ret == 0)
		ret = tree_of(r, new_commit, &new_tree);
	if (ret == 0)
		ret = diff_trees(w, old_tree, new_tree, 0, 0);
	git_tree_free(old_tree);
	git_tree_free(new_tree);
	free(w);
	return ret;
}

int rombsr_repo_commit_signature(struct rombsr_repo *r, const git_oid *commit, struct rombsr_buf *sig,
				 struct rombsr_buf *signed_data)
{
	git_buf s = {0}, d = {0};
	int e = git_commit_extract_signature(&s, &d, r->git, (git_oid *)commit, NULL);
	int ret;

	rombsr_buf_init(sig, 64 * 1024);
	rombsr_buf_init(signed_data, 1 << 20);
	if (e == GIT_ENOTFOUND)
		return rombsr_error(ROMBSR_ENOTFOUND, "unsigned commit");
	if (e < 0)
		return rombsr_repo_fail(ROMBSR_EIO, "cannot read the commit signature");
	rombsr_buf_append(sig, s.ptr, s.size);
	rombsr_buf_append(signed_data, d.ptr, d.size);
	git_buf_dispose(&s);
	git_buf_dispose(&d);
	ret = rombsr_buf_check(sig, "commit signature");
	if (ret == 0)
		ret = rombsr_buf_check(signed_data, "commit");
	if (ret < 0) {
		rombsr_buf_free(sig);
		rombsr_buf_free(signed_data);
	}
	return ret;
}

int rombsr_repo_parents(struct rombsr_repo *r, const git_oid *commit, unsigned *count, git_oid *first)
{
	git_commit *c = NULL;

	if (git_commit_lookup(&c, r->git, commit) < 0)
		return rombsr_repo_fail(ROMBSR_EIO, "cannot read a commit of the queue");
	*count = git_commit_parentcount(c);
	if (*count > 0)
		git_oid_cpy(first, git_commit_parent_id(c, 0));
	git_commit_free(c);
	return 0;
}

int rombsr_repo_descends(struct rombsr_repo *r, const git_oid *commit, const git_oid *ancestor, bool *yes)
{
	int e;

	if (git_oid_equal(commit, ancestor)) {
		*yes = true;
		return 0;
	}
	e = git_graph_descendant_of(r->git, commit, ancestor);
	if (e < 0)
		return rombsr_repo_fail(ROMBSR_EIO, "cannot compare queue histories");
	*yes = e == 1;
	return 0;
}

int rombsr_repo_isolate(void)
{
	static const int levels[] = {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
				     GIT_CONFIG_LEVEL_PROGRAMDATA};

	/* Stays initialised for the life of the process: the settings below
	 * live in libgit2's global state. */
	if (git_libgit2_init() < 0)
		return rombsr_repo_fail(ROMBSR_EINTERNAL, "cannot start libgit2");
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") < 0)
			return rombsr_repo_fail(ROMBSR_EINTERNAL, "cannot isolate libgit2 from the user's git settings");
	return 0;
}
