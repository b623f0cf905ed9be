/* Verifying queue commits: who signed each one, and whether that signer
 * may make each change it makes (docs/queue.md, "Who may change what").
 *
 *   - every commit has at most one parent and a good OpenPGP signature by a
 *     key that is neither revoked nor expired;
 *   - trust/ and policy/ change only in commits signed by an admin pinned
 *     in the verifier's own configuration;
 *   - a build node may add requests, a sign node responses and audit
 *     entries, an operator approvals in its own name, each under the trust
 *     file of the parent commit;
 *   - nobody modifies or deletes a request, response or approval;
 *   - nothing outside the layout is added, and no commit is empty. */
#ifndef ROMBSR_QUEUE_VERIFY_H
#define ROMBSR_QUEUE_VERIFY_H

#include "gpg.h"
#include "layout.h"
#include "repo.h"
#include "trust.h"

struct rombsr_verifier {
	struct rombsr_repo *repo;
	struct rombsr_gpg *keyring;        /* private: only keys the queue itself carries */
	char (*pinned)[41];
	size_t npinned;
	/* Also parse every new request strictly and check it names its own
	 * path and signer (the hook: malformed input never lands). The sign
	 * node leaves it off and answers a malformed request with a signed
	 * rejection instead. */
	bool strict_content;
	/* The hook: a key that has expired since it signed is refused now,
	 * while history made before its expiry stays valid for everyone. */
	bool refuse_expired_since;
};

/* What a verified commit changed, for the caller's bookkeeping. */
struct rombsr_commit_change {
	enum rombsr_queue_kind kind;
	char id[ROMBSR_REQUEST_ID_LEN + 1];
	char fpr[41];
	char path[160];
};

struct rombsr_commit_report {
	char signer[41];
	struct rombsr_commit_change *changes;
	size_t nchanges;
};

/* pinned: the admin fingerprints of the local configuration; base: the last
 * commit already trusted (NULL: none), whose keys are loaded. */
int rombsr_verifier_init(struct rombsr_verifier *v, struct rombsr_repo *repo, char (*pinned)[41], size_t npinned,
			 const git_oid *base);
void rombsr_verifier_free(struct rombsr_verifier *v);

/* Verifies one commit whose parent was verified before. Refusals are
 * ROMBSR_ESECURITY with a message naming the commit, the signer and the path. */
int rombsr_verify_commit(struct rombsr_verifier *v, const git_oid *commit, struct rombsr_commit_report *report);
void rombsr_commit_report_free(struct rombsr_commit_report *report);

/* Verifies every commit after base (NULL: from the first) up to head, oldest
 * first, calling done(commit, report) after each. */
typedef int (*rombsr_verified_fn)(const git_oid *commit, const struct rombsr_commit_report *report, void *ctx);
int rombsr_verify_range(struct rombsr_verifier *v, const git_oid *base, const git_oid *head, rombsr_verified_fn done,
			void *ctx);

#endif
