/* rombsr audit-show: the entries of the audit log a clone of the queue
 * holds, filtered by key, request, time and type. The log is verified
 * first, as audit-verify does (exit 3 if it does not verify), and only
 * entries a checkpoint signed by the audit key covers are shown: an entry
 * past the newest checkpoint is vouched for by nothing yet.
 * docs/audit-log.md, "rombsr audit-show". */
#define _GNU_SOURCE /* strptime, timegm */
#include "audit_clone.h"
#include "cli.h"

#include "../audit/entry.h"
#include "../common/error.h"
#include "../common/json_strict.h"
#include "../queue/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { OPT_REPO = 1, OPT_VKEY, OPT_KEY, OPT_REQUEST, OPT_SINCE, OPT_UNTIL, OPT_TYPE, OPT_JSON };

static const struct cli_option options[] = {
	{"repo", "PATH", "read this clone of the queue instead of fetching queue.url", OPT_REPO},
	{"vkey", "FILE", "the audit verifier key (default: audit.vkey from the configuration)", OPT_VKEY},
	{"key", "FPR|LABEL", "only entries about this key (SHA-256 fingerprint or label)", OPT_KEY},
	{"request", "ID", "only entries about this request", OPT_REQUEST},
	{"since", "TIME", "only entries at TIME or later", OPT_SINCE},
	{"until", "TIME", "only entries before TIME", OPT_UNTIL},
	{"type", "TYPE", "only entries of this type (e.g. signature, key-generated)", OPT_TYPE},
	{"json", NULL, "print each entry as its canonical JSON line", OPT_JSON},
	{NULL, NULL, NULL, 0},
};

#define USAGE                                                                                          \
	"[--repo PATH] [--vkey FILE] [--key FPR|LABEL] [--request ID] [--since TIME] [--until TIME] " \
	"[--type TYPE] [--json]"

struct filter {
	const char *key, *request;
	uint64_t since, until; /* since <= time < until */
	enum rombsr_audit_type type;
	bool json;
};

/* TIME: YYYY-MM-DDTHH:MM:SSZ (the form every ROMbsr format uses),
 * YYYY-MM-DD (midnight UTC) or seconds since 1970 UTC. */
static int parse_time(const char *option, const char *text, uint64_t *out)
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

static int parse_type(const char *text, enum rombsr_audit_type *out)
{
	char names[256] = "";

	*out = rombsr_audit_type_from_name(text);
	if (*out != ROMBSR_AUDIT_NONE)
		return 0;
	for (int t = ROMBSR_AUDIT_NONE + 1; t <= ROMBSR_AUDIT_HSM_LOGIN; t++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", t > 1 ? ", " : "",
			 rombsr_audit_type_name((enum rombsr_audit_type)t));
	return rombsr_error(ROMBSR_EINVAL, "--type: '%s' is not an entry type (%s)", text, names);
}

static int parse_options(struct cli_parser *p, int argc, char **argv, const char **repo, const char **vkey,
			 struct filter *f)
{
	int id = 0, r = 0;

	*f = (struct filter){.until = UINT64_MAX};
	while (r == 0 && (id = cli_next(p, USAGE)) > 0) {
		switch (id) {
		case OPT_REPO:
			*repo = p->value;
			break;
		case OPT_VKEY:
			*vkey = p->value;
			break;
		case OPT_KEY:
			/* A fingerprint is 64 hex digits, a label an id: either way an
			 * id, compared with both fields of the entry. */
			f->key = p->value;
			if (!rombsr_audit_is_id(f->key))
				r = rombsr_error(ROMBSR_EINVAL, "--key: '%s' is neither a key label nor a SHA-256 fingerprint",
						 f->key);
			break;
		case OPT_REQUEST:
			f->request = p->value;
			if (!rombsr_request_id_valid(f->request))
				r = rombsr_error(ROMBSR_EINVAL, "--request: '%s' is not a request ID (%s)", f->request,
						 ROMBSR_REQUEST_ID_FORM);
			break;
		case OPT_SINCE:
			r = parse_time("--since", p->value, &f->since);
			break;
		case OPT_UNTIL:
			r = parse_time("--until", p->value, &f->until);
			break;
		case OPT_TYPE:
			r = parse_type(p->value, &f->type);
			break;
		case OPT_JSON:
			f->json = true;
			break;
		}
	}
	if (r < 0)
		return r;
	if (id < 0)
		return id;
	if (p->index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p->index]);
	if (f->since >= f->until)
		return rombsr_error(ROMBSR_EINVAL, "--since must be before --until");
	return 0;
}

static bool has_request(enum rombsr_audit_type t)
{
	return t == ROMBSR_AUDIT_REQUEST_SIGNED || t == ROMBSR_AUDIT_REQUEST_REJECTED || t == ROMBSR_AUDIT_SIGNATURE ||
	       t == ROMBSR_AUDIT_APPROVALS || t == ROMBSR_AUDIT_UNDERSTOOD;
}

static bool has_key(enum rombsr_audit_type t)
{
	return t == ROMBSR_AUDIT_SIGNATURE || t == ROMBSR_AUDIT_KEY_GENERATED || t == ROMBSR_AUDIT_KEY_REVOKED ||
	       t == ROMBSR_AUDIT_UNDERSTOOD;
}

static bool matches(const struct filter *f, const struct rombsr_audit_entry *e)
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
	return true;
}

/* One line: index, time, type, then the fields a reader looks for, named
 * as in the entry. Text fields are quoted: they may hold spaces, never a
 * quote. */
static void print_entry(const struct rombsr_audit_entry *e)
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
		printf(" request_id=%s key_label=%s kind=%s digest=%s detail=\"%s\"", e->request_id, e->key_label, e->kind,
		       e->digest, e->detail);
		break;
	case ROMBSR_AUDIT_NONE:
		break;
	}
	printf("\n");
}

static int show(const struct audit_clone *ac, const struct filter *f, uint64_t vouched, uint64_t *shown)
{
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	*shown = 0;
	for (uint64_t i = 0; i < vouched && r == 0; i++) {
		struct rombsr_buf line;

		r = audit_clone_entry(ac, i, e, &line);
		if (r == 0 && matches(f, e)) {
			if (f->json)
				printf("%.*s\n", (int)line.len, (const char *)line.data);
			else
				print_entry(e);
			++*shown;
		}
		rombsr_buf_free(&line);
	}
	free(e);
	if (r == 0 && fflush(stdout) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot write the entries");
	return r;
}

int cmd_audit_show(struct cli_context *ctx, int argc, char **argv)
{
	const char *repo_path = NULL, *vkey = NULL;
	struct audit_clone ac;
	struct filter f;
	struct cli_parser p;
	uint64_t vouched, shown;
	int r;

	cli_parser_init(&p, options, argc, argv);
	r = parse_options(&p, argc, argv, &repo_path, &vkey, &f);
	if (r < 0)
		return r;
	r = audit_clone_open_verified(ctx, repo_path, vkey, &ac);
	if (r < 0)
		return r;
	vouched = audit_clone_vouched(&ac);
	r = show(&ac, &f, vouched, &shown);
	if (r == 0) {
		/* On stderr: stdout holds entries only. */
		cli_info("rombsr audit-show: %llu of %llu entries shown; the log verified, its newest checkpoint signed "
			 "by the audit key covers %llu", (unsigned long long)shown, (unsigned long long)vouched,
			 (unsigned long long)vouched);
		if (vouched < ac.report.entries)
			cli_info("rombsr audit-show: note: entries %llu to %llu are not covered by a checkpoint yet and are not shown",
				 (unsigned long long)vouched, (unsigned long long)ac.report.entries - 1);
	}
	audit_clone_close(&ac);
	return r;
}
