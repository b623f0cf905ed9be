#include "audit_incident.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../queue/incident.h"

#include <stdlib.h>
#include <string.h>

static int mismatch(const struct rombsr_audit_entry *e, const char *why)
{
	return rombsr_error(ROMBSR_ESECURITY, "audit entry %llu (%s, commit %.12s) does not match the queue: %s",
			    (unsigned long long)e->index, rombsr_audit_type_name(e->type), e->commit, why);
}

static int remember(struct audit_incidents *s, const struct rombsr_audit_entry *e)
{
	if (s->n == s->alloc) {
		size_t want = s->alloc ? 2 * s->alloc : 8;
		struct audit_revoked *grown = realloc(s->revoked, want * sizeof(*grown));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		s->revoked = grown;
		s->alloc = want;
	}
	memcpy(s->revoked[s->n].fingerprint, e->key_fingerprint, sizeof(s->revoked[0].fingerprint));
	s->revoked[s->n++].index = e->index;
	return 0;
}

int audit_incident_entry(struct audit_incidents *s, struct rombsr_repo *repo, const struct rombsr_audit_entry *e)
{
	struct rombsr_revocation rev;
	struct rombsr_freeze f;
	struct rombsr_buf text;
	char path[128];
	git_oid commit;
	bool freeze = e->type == ROMBSR_AUDIT_FREEZE;
	int r;

	if (!freeze && e->type != ROMBSR_AUDIT_KEY_REVOCATION)
		return 0;
	if (git_oid_fromstr(&commit, e->commit) < 0)
		return mismatch(e, "no such commit");
	r = freeze ? rombsr_path_format(path, sizeof(path), "%s", ROMBSR_FREEZE_PATH)
		   : rombsr_revocation_path(e->key_fingerprint, path, sizeof(path));
	if (r == 0)
		r = rombsr_repo_read(repo, &commit, path, ROMBSR_INCIDENT_MAX_BYTES, &text);
	if (r == ROMBSR_ENOTFOUND || r == ROMBSR_EINVAL)
		return mismatch(e, "the commit holds no such record");
	if (r < 0)
		return r;
	r = freeze ? rombsr_freeze_parse((const char *)text.data, text.len, &f)
		   : rombsr_revocation_parse((const char *)text.data, text.len, &rev);
	rombsr_buf_free(&text);
	if (r < 0)
		return mismatch(e, rombsr_error_message(r));
	if (freeze && strcmp(e->state, f.frozen ? "frozen" : "thawed") != 0)
		return mismatch(e, "another state");
	if (freeze)
		return 0;
	if (strcmp(e->key_label, rev.key_label) != 0 || strcmp(e->token, rev.token) != 0)
		return mismatch(e, "another key");
	return remember(s, e);
}

void audit_incident_revoked_before(const struct audit_incidents *s, const struct rombsr_audit_entry *e, bool *revoked,
				   uint64_t *at)
{
	*revoked = false;
	for (size_t i = 0; i < s->n && !*revoked; i++)
		if (s->revoked[i].index < e->index && strcmp(s->revoked[i].fingerprint, e->key_fingerprint) == 0) {
			*revoked = true;
			*at = s->revoked[i].index;
		}
}

void audit_incidents_free(struct audit_incidents *s)
{
	free(s->revoked);
	memset(s, 0, sizeof(*s));
}
