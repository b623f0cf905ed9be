/* Requests the sign node has decided to sign but that still lack operator
 * approvals (docs/sign-node.md, "Waiting for approvals"). They are not
 * answered, so they must be looked at again on later passes even though
 * the commits that brought them are behind the processed head: the list is
 * kept in <state>/sign/waiting, replaced atomically, and saved before the
 * processed head moves past them. */
#ifndef ROMBSR_SIGN_WAITING_H
#define ROMBSR_SIGN_WAITING_H

#include "../queue/layout.h"

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define ROMBSR_WAITING_FILE "waiting"
#define ROMBSR_WAITING_HEADER "rombsr.waiting 1"
#define ROMBSR_WAITING_MAX 100000

struct rombsr_waiting {
	char id[ROMBSR_REQUEST_ID_LEN + 1];
	git_oid commit;           /* that carried the request */
	char signer[41];          /* that committed it */
	time_t expires;           /* the request's */
	unsigned approvals_seen;  /* in memory only: approvals last reported */
};

struct rombsr_waiting_list {
	struct rombsr_waiting *items;
	size_t n, alloc;
};

/* Reads dir/waiting (an absent file is an empty list). */
int rombsr_waiting_load(const char *dir, struct rombsr_waiting_list *out);
int rombsr_waiting_save(const char *dir, const struct rombsr_waiting_list *list);
int rombsr_waiting_add(struct rombsr_waiting_list *list, const struct rombsr_waiting *w);
void rombsr_waiting_free(struct rombsr_waiting_list *list);
/* True if some request of the list has expired at now. */
bool rombsr_waiting_any_expired(const struct rombsr_waiting_list *list, time_t now);

#endif
