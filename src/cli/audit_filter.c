#define _GNU_SOURCE /* strptime, timegm */
#include "audit_filter.h"

#include "cli.h"

#include "../common/error.h"
#include "../common/json_strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool has_request(enum rombsr_audit_type t)
{
	return t == ROMBSR_AUDIT_REQUEST_SIGNED || t == ROMBSR_AUDIT_REQUEST_REJECTED || t == ROMBSR_AUDIT_SIGNATURE ||
	       t == ROMBSR_AUDIT_APPROVALS || t == ROMBSR_AUDIT_UNDERSTOOD || t == ROMBSR_AUDIT_SERVER_CLIENT ||
	       t == ROMBSR_AUDIT_DEVICE_LOG;
}

static bool has_key(enum rombsr_audit_type t)
{
	return t == ROMBSR_AUDIT_SIGNATURE || t == ROMBSR_AUDIT_KEY_GENERATED || t == ROMBSR_AUDIT_KEY_REVOKED ||
	       t == ROMBSR_AUDIT_UNDERSTOOD || t == ROMBSR_AUDIT_KEY_REVOCATION || t == ROMBSR_AUDIT_DEVICE_LOG;
}

bool audit_filter_matches(const struct audit_filter *f, const struct rombsr_audit_entry *e)
{
	if (f->type != ROMBSR_AUDIT_NONE && e->type != f->type)
		return false;
	if (e->time < f->since || e->time >= f->until)
		return false;
	if (f->request != NULL && !(has_request(e->type) && strcmp(e->request_id, f->request) == 0))
		return false;
	if (f->key != NULL &&
	    !(has_key(e->type) && (strcmp(e->key_label, f->key) == 0 || strcmp(e->key_fingerprint, f->key) == 0)))
		return false;
	if (f->ndigests > 0) {
		bool any = false;

		for (size_t i = 0; i < f->ndigests && !any; i++)
			any = ((e->type == ROMBSR_AUDIT_SIGNATURE || e->type == ROMBSR_AUDIT_UNDERSTOOD) &&
			       strcmp(e->digest, f->digests[i]) == 0) ||
			      (e->type == ROMBSR_AUDIT_UNDERSTOOD && strcmp(e->content_digest, f->digests[i]) == 0);
		return any;
	}
	return true;
}

void audit_print_entry(const struct rombsr_audit_entry *e)
{
	char when[21];

	rombsr_time_format((time_t)e->time, when);
	printf("%llu %s %s", (unsigned long long)e->index, when, rombsr_audit_type_name(e->type));
	switch (e->type) {
	case ROMBSR_AUDIT_REQUEST_SIGNED:
		printf(" request_id=%s request_commit=%s signatures=%llu", e->request_id, e->request_commit,
		       (unsigned long long)e->signatures);
		break;
	case ROMBSR_AUDIT_REQUEST_REJECTED:
		printf(" request_id=%s request_commit=%s reason=%s detail=\"%s\"", e->request_id, e->request_commit,
		       e->reason, e->detail);
		break;
	case ROMBSR_AUDIT_SIGNATURE:
		printf(" request_id=%s key_label=%s key_fingerprint=%s mechanism=%s signature_sha256=%s", e->request_id,
		       e->key_label, e->key_fingerprint, e->mechanism, e->signature_sha256);
		break;
	case ROMBSR_AUDIT_APPROVALS:
		printf(" request_id=%s request_commit=%s required=%llu approvers=%zu", e->request_id, e->request_commit,
		       (unsigned long long)e->required, e->n_approvers);
		break;
	case ROMBSR_AUDIT_POLICY_APPLIED:
		printf(" subject=%s commit=%s sha256=%s", e->subject, e->commit, e->sha256);
		break;
	case ROMBSR_AUDIT_POLICY_REFUSED:
		printf(" subject=%s commit=%s sha256=%s reason=%s detail=\"%s\"", e->subject, e->commit, e->sha256,
		       e->reason, e->detail);
		break;
	case ROMBSR_AUDIT_KEY_GENERATED:
		printf(" key_label=%s key_fingerprint=%s algorithm=%s token=%s", e->key_label, e->key_fingerprint,
		       e->algorithm, e->token);
		break;
	case ROMBSR_AUDIT_KEY_REVOKED:
		printf(" key_label=%s key_fingerprint=%s reason=%s", e->key_label, e->key_fingerprint, e->reason);
		break;
	case ROMBSR_AUDIT_HSM_LOGIN:
		printf(" token=%s role=%s result=%s", e->token, e->role, e->result);
		break;
	case ROMBSR_AUDIT_UNDERSTOOD:
		printf(" request_id=%s key_label=%s kind=%s digest=%s", e->request_id, e->key_label, e->kind, e->digest);
		if (e->content_digest[0] != '\0')
			printf(" content_digest=%s", e->content_digest);
		printf(" detail=\"%s\"", e->detail);
		break;
	case ROMBSR_AUDIT_KEY_REVOCATION:
		printf(" key_label=%s key_fingerprint=%s token=%s commit=%s detail=\"%s\"", e->key_label,
		       e->key_fingerprint, e->token, e->commit, e->detail);
		break;
	case ROMBSR_AUDIT_FREEZE:
		printf(" state=%s commit=%s detail=\"%s\"", e->state, e->commit, e->detail);
		break;
	case ROMBSR_AUDIT_SERVER_CLIENT:
		printf(" request_id=%s route=%s build_node=%s client_certificate=%s commit=%s", e->request_id, e->route,
		       e->build_node, e->client_certificate, e->commit);
		break;
	case ROMBSR_AUDIT_DEVICE_LOG:
		printf(" token=%s request_id=%s key_label=%s entry=%s detail=\"%s\"", e->token, e->request_id, e->key_label,
		       e->digest, e->detail);
		break;
	case ROMBSR_AUDIT_DEVICE_LOG_ANOMALY:
		printf(" token=%s reason=%s detail=\"%s\"", e->token, e->reason, e->detail);
		break;
	case ROMBSR_AUDIT_NONE:
		break;
	}
	printf("\n");
}

int audit_show(const struct audit_clone *ac, const struct audit_filter *f, uint64_t vouched, uint64_t *shown)
{
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	*shown = 0;
	for (uint64_t i = 0; i < vouched && r == 0; i++) {
		struct rombsr_buf line;

		r = audit_clone_entry(ac, i, e, &line);
		if (r == 0 && audit_filter_matches(f, e)) {
			if (f->json)
				printf("%.*s\n", (int)line.len, (const char *)line.data);
			else
				audit_print_entry(e);
			++*shown;
		}
		rombsr_buf_free(&line);
	}
	free(e);
	if (r == 0 && fflush(stdout) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot write the entries");
	return r;
}

/* TIME: YYYY-MM-DDTHH:MM:SSZ (the form every ROMbsr format uses),
 * YYYY-MM-DD (midnight UTC) or seconds since 1970 UTC. */
int audit_parse_time(const char *option, const char *text, uint64_t *out)
{
	static const char *const forms[] = {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"};
	unsigned long seconds;

	if (text[0] >= '0' && text[0] <= '9' && strspn(text, "0123456789") == strlen(text)) {
		if (cli_parse_uint(text, ROMBSR_AUDIT_TIME_MAX, &seconds, option) < 0)
			goto bad;
		*out = seconds;
		return 0;
	}
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct tm tm = {0};
		const char *end = strptime(text, forms[i], &tm);
		char back[21];
		time_t t;

		if (end == NULL || *end != '\0')
			continue;
		t = timegm(&tm);
		if (t < 0 || (uint64_t)t > ROMBSR_AUDIT_TIME_MAX)
			break;
		/* Round trip: refuses 2026-02-30 and other dates strptime lets by. */
		rombsr_time_format(t, back);
		if (i == 1)
			back[10] = '\0';
		if (strcmp(back, text) != 0)
			break;
		*out = (uint64_t)t;
		return 0;
	}
bad:
	return rombsr_error(ROMBSR_EINVAL, "%s: '%s' is not a time (YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DD or seconds since 1970)",
			    option, text);
}
