/* rombsr audit-show: the entries of the audit log a clone of the queue
 * holds, filtered by key, request, time and type. The log is verified
 * first, as audit-verify does (exit 3 if it does not verify), and only
 * entries a checkpoint signed by the audit key covers are shown: an entry
 * past the newest checkpoint is vouched for by nothing yet.
 * docs/audit-log.md, "rombsr audit-show". */
#define _GNU_SOURCE /* strptime, timegm */
#include "audit_clone.h"
#include "audit_filter.h"
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


static int parse_type(const char *text, enum rombsr_audit_type *out)
{
	char names[512] = "";

	*out = rombsr_audit_type_from_name(text);
	if (*out != ROMBSR_AUDIT_NONE)
		return 0;
	for (int t = ROMBSR_AUDIT_NONE + 1; strcmp(rombsr_audit_type_name((enum rombsr_audit_type)t), "unknown") != 0; t++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", t > 1 ? ", " : "",
			 rombsr_audit_type_name((enum rombsr_audit_type)t));
	return rombsr_error(ROMBSR_EINVAL, "--type: '%s' is not an entry type (%s)", text, names);
}

static int parse_options(struct cli_parser *p, int argc, char **argv, const char **repo, const char **vkey,
			 struct audit_filter *f)
{
	int id = 0, r = 0;

	*f = (struct audit_filter){.until = UINT64_MAX};
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
			r = audit_parse_time("--since", p->value, &f->since);
			break;
		case OPT_UNTIL:
			r = audit_parse_time("--until", p->value, &f->until);
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

int cmd_audit_show(struct cli_context *ctx, int argc, char **argv)
{
	const char *repo_path = NULL, *vkey = NULL;
	struct audit_clone ac;
	struct audit_filter f;
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
	r = audit_show(&ac, &f, vouched, &shown);
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
