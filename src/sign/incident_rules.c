#include "incident_rules.h"

#include "../audit/entry.h"
#include "../common/error.h"
#include "../common/json_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rombsr_sign_freeze_state(struct rombsr_repo *repo, const git_oid *head, bool *frozen, char *why, size_t size)
{
	struct rombsr_freeze f;
	struct rombsr_buf text;
	char when[21];
	int r = rombsr_repo_read(repo, head, ROMBSR_FREEZE_PATH, ROMBSR_INCIDENT_MAX_BYTES, &text);

	*frozen = false;
	if (r == ROMBSR_ENOTFOUND)
		return 0;
	if (r < 0 && r != ROMBSR_EINVAL)
		return r;
	if (r == 0) {
		r = rombsr_freeze_parse((const char *)text.data, text.len, &f);
		rombsr_buf_free(&text);
	}
	if (r < 0) {
		*frozen = true;
		snprintf(why, size, "signing is frozen: %s cannot be read (%s)", ROMBSR_FREEZE_PATH,
			 rombsr_error_message(r));
		rombsr_error_clear();
		return 0;
	}
	*frozen = f.frozen;
	rombsr_time_format(f.time, when);
	snprintf(why, size, "signing is frozen since %s by admin %s: %s", when, f.admin, f.reason);
	return 0;
}

int rombsr_sign_key_revoked(struct rombsr_repo *repo, const git_oid *head, const char *fingerprint, bool *revoked)
{
	char path[128];
	int r = rombsr_revocation_path(fingerprint, path, sizeof(path));

	*revoked = false;
	return r < 0 ? r : rombsr_repo_exists(repo, head, path, revoked);
}

/* Only printable ASCII other than '"' and '\' goes into an entry's text. */
static void copy_detail(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = src[i] == '"' || src[i] == '\\' ? '\'' : src[i];
	dst[i] = '\0';
}

int rombsr_sign_log_incident(struct rombsr_audit_writer *w, struct rombsr_repo *repo, const git_oid *commit,
			     const char *path)
{
	struct rombsr_audit_entry *e = calloc(1, sizeof(*e));
	struct rombsr_revocation rev;
	struct rombsr_freeze f;
	struct rombsr_buf text = {0};
	int r = e ? rombsr_repo_read(repo, commit, path, ROMBSR_INCIDENT_MAX_BYTES, &text)
		  : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r < 0)
		goto out;
	rombsr_oid_hex(commit, e->commit);
	if (strcmp(path, ROMBSR_FREEZE_PATH) == 0) {
		r = rombsr_freeze_parse((const char *)text.data, text.len, &f);
		e->type = ROMBSR_AUDIT_FREEZE;
		snprintf(e->state, sizeof(e->state), "%s", f.frozen ? "frozen" : "thawed");
		copy_detail(e->detail, sizeof(e->detail), f.reason);
	} else {
		r = rombsr_revocation_parse((const char *)text.data, text.len, &rev);
		e->type = ROMBSR_AUDIT_KEY_REVOCATION;
		memcpy(e->key_fingerprint, rev.key_fingerprint, sizeof(rev.key_fingerprint));
		snprintf(e->key_label, sizeof(e->key_label), "%s", rev.key_label);
		snprintf(e->token, sizeof(e->token), "%s", rev.token);
		copy_detail(e->detail, sizeof(e->detail), rev.reason);
	}
	if (r < 0)
		r = rombsr_error_wrap(r, "%s", path);
	if (r == 0)
		r = rombsr_audit_writer_append(w, e);
out:
	rombsr_buf_free(&text);
	free(e);
	return r;
}
