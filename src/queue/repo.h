/* The queue's git repository through libgit2: a bare local copy per node,
 * fetched from and pushed to the queue remote; commits signed with OpenPGP
 * through GPGME. No working tree is ever checked out: files are read from
 * and written to git objects directly. */
#ifndef ROMBSR_QUEUE_REPO_H
#define ROMBSR_QUEUE_REPO_H

#include "gpg.h"

#include "../common/buf.h"

#include <git2.h>
#include <stdbool.h>

struct rombsr_repo;

/* Opens the bare repository at path, creating it if create is set. */
int rombsr_repo_open(const char *path, bool create, struct rombsr_repo **out);
/* Opens the repository a git hook runs in (GIT_DIR and the quarantine
 * object folders from the environment). */
int rombsr_repo_open_from_env(struct rombsr_repo **out);

/* Makes libgit2 read no git configuration but each repository's own (no
 * system, XDG or ~/.gitconfig): the sign node's worker is confined and must
 * not depend on a user's git settings. */
int rombsr_repo_isolate(void);
void rombsr_repo_close(struct rombsr_repo *r);
git_repository *rombsr_repo_git(struct rombsr_repo *r);

/* Fetches the remote's main branch. *empty is set if the remote has none
 * yet; otherwise head is its commit. */
int rombsr_repo_fetch(struct rombsr_repo *r, const char *url, git_oid *head, bool *empty);

/* The remote's main branch as the last fetch found it. */
int rombsr_repo_fetched_head(struct rombsr_repo *r, git_oid *head, bool *empty);
/* Commits reachable from head and not from base. */
int rombsr_repo_commits_after(struct rombsr_repo *r, const git_oid *base, const git_oid *head, size_t *count);
/* The commit refs/heads/main of this repository points to. */
int rombsr_repo_head(struct rombsr_repo *r, git_oid *head, bool *empty);
/* Moves refs/heads/main from old (NULL: must not exist) to new. */
int rombsr_repo_set_head(struct rombsr_repo *r, const git_oid *old_head, const git_oid *new_head);

/* Reads a file of a commit's tree (at most max bytes); ROMBSR_ENOTFOUND if
 * it is not there. */
int rombsr_repo_read(struct rombsr_repo *r, const git_oid *commit, const char *path, size_t max,
		     struct rombsr_buf *out);
int rombsr_repo_exists(struct rombsr_repo *r, const git_oid *commit, const char *path, bool *exists);

struct rombsr_repo_file {
	const char *path;
	const void *data;
	size_t len;
};

/* Calls fn(name, is_file) for every entry of folder dir in a commit's tree,
 * in git's order; a folder that does not exist has no entries. */
typedef int (*rombsr_repo_name_fn)(const char *name, bool is_file, void *ctx);
int rombsr_repo_list(struct rombsr_repo *r, const git_oid *commit, const char *dir, rombsr_repo_name_fn fn,
		     void *ctx);

/* Creates a commit on parent (NULL: the first commit) that adds or replaces
 * files, signed by signer_fpr; refs are not touched. */
int rombsr_repo_commit(struct rombsr_repo *r, struct rombsr_gpg *g, const char *signer_fpr, const git_oid *parent,
		       const struct rombsr_repo_file *files, size_t nfiles, const char *message, git_oid *out);

/* Pushes commit to the remote's main branch. A refusal by the remote (its
 * hook, or a non-fast-forward) is ROMBSR_EPERM carrying the remote's words. */
int rombsr_repo_push(struct rombsr_repo *r, const char *url, const git_oid *commit);

/* Calls change(path, status) for every file that differs between two
 * commits' trees (old NULL: the empty tree); status is 'A', 'M' or 'D';
 * lower-case 'a' or 'm' when the file added or changed is anything but a
 * regular 100644 blob (a symlink, an executable, a gitlink). rombsr_repo_read refuses such a
 * file, and rombsr_repo_list reports it as not a file. */
typedef int (*rombsr_repo_change_fn)(const char *path, char status, void *ctx);
int rombsr_repo_diff(struct rombsr_repo *r, const git_oid *old_commit, const git_oid *new_commit,
		     rombsr_repo_change_fn change, void *ctx);

/* The OpenPGP signature of a commit and the bytes it signs. ROMBSR_ENOTFOUND
 * for an unsigned commit. */
int rombsr_repo_commit_signature(struct rombsr_repo *r, const git_oid *commit, struct rombsr_buf *sig,
				 struct rombsr_buf *signed_data);

/* Number of parents of a commit, and the first one. */
int rombsr_repo_parents(struct rombsr_repo *r, const git_oid *commit, unsigned *count, git_oid *first);
/* True if ancestor is commit or one of its ancestors. */
int rombsr_repo_descends(struct rombsr_repo *r, const git_oid *commit, const git_oid *ancestor, bool *yes);

/* libgit2's last error as our error. */
int rombsr_repo_fail(int code, const char *what);

void rombsr_oid_hex(const git_oid *oid, char out[GIT_OID_HEXSZ + 1]);

#endif
