/* audit-verify's check of the signing server's decisions (docs/server.md):
 * each is preceded by a server-client entry, which must name a client the
 * queue's clients list held at the commit it names, for the build node it
 * names; the decision's entries that follow it are its own, not a queued
 * request's, so no response in the queue accounts for them. */
#ifndef ROMBSR_CLI_AUDIT_SERVER_H
#define ROMBSR_CLI_AUDIT_SERVER_H

#include "../audit/entry.h"
#include "../queue/clients.h"
#include "../queue/repo.h"

#include <stdbool.h>

struct audit_servers {
	struct rombsr_clients clients; /* the list at commit, read once per commit */
	char commit[65];
	char request_id[ROMBSR_AUDIT_ID_MAX + 1]; /* the last server-client entry's */
	char request_commit[65];
	size_t decisions;
};

/* Looks at e in log order: a server-client entry is checked against the
 * queue; *server is set for an entry of the decision it introduces. */
int audit_server_entry(struct audit_servers *s, struct rombsr_repo *repo, const struct rombsr_audit_entry *e,
		       uint64_t index, bool *server);
void audit_servers_free(struct audit_servers *s);

#endif
