/* audit-verify's check of the signing server's decisions (audit_server.h). */
#include "audit_server.h"

#include "../common/error.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int check_client(struct audit_servers *s, struct rombsr_repo *repo, const struct rombsr_audit_entry *e,
			uint64_t index)
{
	const struct rombsr_client *c;
	git_oid commit;
	int r = 0;

	if (strcmp(s->commit, e->commit) != 0) {
		rombsr_clients_free(&s->clients);
		s->commit[0] = '\0';
		r = git_oid_fromstr(&commit, e->commit) == 0
			    ? rombsr_clients_at(repo, &commit, &s->clients)
			    : rombsr_error(ROMBSR_ESECURITY, "audit entry %llu: commit %s", (unsigned long long)index,
					   e->commit);
		if (r == ROMBSR_ENOTFOUND)
			r = rombsr_error(ROMBSR_ESECURITY, "audit entry %llu (server-client): the queue has no commit %s",
					 (unsigned long long)index, e->commit);
		if (r < 0)
			return r;
		snprintf(s->commit, sizeof(s->commit), "%s", e->commit);
	}
	c = rombsr_clients_find(&s->clients, e->client_certificate);
	if (c == NULL)
		return rombsr_error(ROMBSR_ESECURITY, "audit entry %llu (server-client, request %s): certificate %.16s... is "
						      "not in the clients list at commit %.12s",
				    (unsigned long long)index, e->request_id, e->client_certificate, e->commit);
	if (strcasecmp(c->build_node, e->build_node) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "audit entry %llu (server-client, request %s): the clients list at "
						      "commit %.12s maps certificate %.16s... to %s, not %s",
				    (unsigned long long)index, e->request_id, e->commit, e->client_certificate,
				    c->build_node, e->build_node);
	return 0;
}

int audit_server_entry(struct audit_servers *s, struct rombsr_repo *repo, const struct rombsr_audit_entry *e,
		       uint64_t index, bool *server)
{
	int r;

	*server = false;
	if (e->type == ROMBSR_AUDIT_SERVER_CLIENT) {
		r = check_client(s, repo, e, index);
		if (r < 0)
			return r;
		snprintf(s->request_id, sizeof(s->request_id), "%s", e->request_id);
		snprintf(s->request_commit, sizeof(s->request_commit), "%s", e->commit);
		*server = true;
		return 0;
	}
	if (s->request_id[0] == '\0' || strcmp(e->request_id, s->request_id) != 0)
		return 0;
	if (e->type == ROMBSR_AUDIT_REQUEST_SIGNED || e->type == ROMBSR_AUDIT_REQUEST_REJECTED ||
	    e->type == ROMBSR_AUDIT_SIGNATURE || e->type == ROMBSR_AUDIT_APPROVALS) {
		if (strcmp(e->request_commit, s->request_commit) != 0)
			return rombsr_error(ROMBSR_ESECURITY, "audit entry %llu (%s, request %s): request_commit %.12s is "
							      "not its server-client entry's commit %.12s",
					    (unsigned long long)index, rombsr_audit_type_name(e->type), e->request_id,
					    e->request_commit, s->request_commit);
		s->decisions += e->type != ROMBSR_AUDIT_SIGNATURE && e->type != ROMBSR_AUDIT_APPROVALS;
	}
	*server = true;
	return 0;
}

void audit_servers_free(struct audit_servers *s)
{
	rombsr_clients_free(&s->clients);
}
