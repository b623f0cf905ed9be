/* rombsr audit-anomalies: what in the verified audit log deserves a look
 * (seed 000's "check audit logs for anomalies", docs/incident-response.md):
 * signatures outside the allowed hours, a build node signing more than
 * usual, keys used for the first time, requests from a build node never
 * seen before. The log is verified first, as audit-show does. Exit 0:
 * nothing found; 3: something found (or the log does not verify: one line,
 * nothing on stdout); 1: could not check. */
#include "audit_anomalies.h"
#include "audit_clone.h"
#include "audit_filter.h"
#include "cli.h"

#include "../common/error.h"
#include "../common/json_strict.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

enum { OPT_REPO = 1, OPT_VKEY, OPT_SINCE, OPT_UNTIL, OPT_HOURS, OPT_FACTOR, OPT_MIN, OPT_BASELINE };

static const struct cli_option options[] = {
	{"repo", "PATH", "read this clone of the queue instead of fetching queue.url", OPT_REPO},
	{"vkey", "FILE", "the audit verifier key (default: audit.vkey from the configuration)", OPT_VKEY},
	{"since", "TIME", "the window examined starts here (default: 24 hours ago)", OPT_SINCE},
	{"until", "TIME", "and ends before this (default: now)", OPT_UNTIL},
	{"hours", "HH-HH", "UTC hours signatures are allowed in, e.g. 08-20 or 22-06 (default audit.anomaly-hours, else 00-24: any)",
	 OPT_HOURS},
	{"volume-factor", "N", "a build node signing more than N times its usual is reported (default "
			       "audit.anomaly-volume-factor, else 3)", OPT_FACTOR},
	{"volume-min", "N", "... and more than N signatures in the window (default audit.anomaly-volume-min, else 10)",
	 OPT_MIN},
	{"baseline-days", "N", "its usual: the signatures of the N days before the window (default "
			       "audit.anomaly-baseline-days, else 30)", OPT_BASELINE},
	{NULL, NULL, NULL, 0},
};

#define USAGE                                                                                                   \
	"[--repo PATH] [--vkey FILE] [--since TIME] [--until TIME] [--hours HH-HH] [--volume-factor N] " \
	"[--volume-min N] [--baseline-days N]"

static int parse_hours(const char *what, const char *text, struct anomaly_rules *rules)
{
	unsigned from, to;
	int used = 0;

	if (strlen(text) != 5 || sscanf(text, "%2u-%2u%n", &from, &to, &used) != 2 || used != 5 || from > 24 ||
	    to > 24 || from == to)
		return rombsr_error(ROMBSR_EINVAL, "%s: '%s' is not HH-HH (two different hours from 00 to 24, e.g. 08-20)",
				    what, text);
	rules->hour_from = from;
	rules->hour_to = to;
	return 0;
}

/* The defaults, then the configuration's audit.anomaly-* keys
 * (docs/config.md); options override both. */
static int default_rules(const struct rombsr_config *cfg, struct anomaly_rules *rules)
{
	uint64_t now = (uint64_t)time(NULL);

	*rules = (struct anomaly_rules){now > 86400 ? now - 86400 : 0, now + 1, 0, 24, 3, 10, 30};
	if (cfg->anomaly_volume_factor > 0)
		rules->volume_factor = cfg->anomaly_volume_factor;
	if (cfg->anomaly_volume_min > 0)
		rules->volume_min = cfg->anomaly_volume_min;
	if (cfg->anomaly_baseline_days > 0)
		rules->baseline_days = cfg->anomaly_baseline_days;
	return cfg->anomaly_hours != NULL ? parse_hours("audit.anomaly-hours", cfg->anomaly_hours, rules) : 0;
}

static int parse_options(struct cli_context *ctx, struct cli_parser *p, int argc, char **argv, const char **repo,
			 const char **vkey, struct anomaly_rules *rules)
{
	const struct rombsr_config *cfg;
	int id = 0, r = cli_config(ctx, &cfg);

	if (r == 0)
		r = default_rules(cfg, rules);
	while (r == 0 && (id = cli_next(p, USAGE)) > 0) {
		if (id == OPT_REPO)
			*repo = p->value;
		else if (id == OPT_VKEY)
			*vkey = p->value;
		else if (id == OPT_SINCE)
			r = audit_parse_time("--since", p->value, &rules->since);
		else if (id == OPT_UNTIL)
			r = audit_parse_time("--until", p->value, &rules->until);
		else if (id == OPT_HOURS)
			r = parse_hours("--hours", p->value, rules);
		else if (id == OPT_FACTOR)
			r = cli_parse_uint(p->value, 1000000, &rules->volume_factor, "--volume-factor");
		else if (id == OPT_MIN)
			r = cli_parse_uint(p->value, 1000000000, &rules->volume_min, "--volume-min");
		else if (id == OPT_BASELINE)
			r = cli_parse_uint(p->value, 3650, &rules->baseline_days, "--baseline-days");
	}
	if (r < 0)
		return r;
	if (id < 0)
		return id;
	if (p->index != argc)
		return rombsr_error(ROMBSR_EINVAL, "unexpected argument '%s'", argv[p->index]);
	if (rules->since >= rules->until)
		return rombsr_error(ROMBSR_EINVAL, "--since must be before --until");
	if (rules->volume_factor == 0 || rules->baseline_days == 0)
		return rombsr_error(ROMBSR_EINVAL, "--volume-factor and --baseline-days must be at least 1");
	return 0;
}

int cmd_audit_anomalies(struct cli_context *ctx, int argc, char **argv)
{
	const char *repo_path = NULL, *vkey = NULL;
	struct anomaly_rules rules;
	struct audit_clone ac;
	struct cli_parser p;
	char from[21], to[21];
	uint64_t vouched;
	size_t found = 0;
	int r;

	cli_parser_init(&p, options, argc, argv);
	r = parse_options(ctx, &p, argc, argv, &repo_path, &vkey, &rules);
	if (r < 0)
		return r;
	r = audit_clone_open_verified(ctx, repo_path, vkey, &ac);
	if (r < 0)
		return r;
	vouched = audit_clone_vouched(&ac);
	r = audit_anomalies(&ac, vouched, &rules, &found);
	rombsr_time_format((time_t)rules.since, from);
	rombsr_time_format((time_t)rules.until, to);
	/* A finding is a failed check of the log's content, exit 3 like a
	 * failed verification; "could not check" stays 1. */
	if (r == 0 && found > 0)
		r = rombsr_error(ROMBSR_ESECURITY, "%zu anomalies in the verified log from %s to %s (%llu entries vouched)",
				 found, from, to, (unsigned long long)vouched);
	if (r == 0)
		cli_info("rombsr audit-anomalies: nothing found in the verified log from %s to %s (%llu entries vouched)",
			 from, to, (unsigned long long)vouched);
	audit_clone_close(&ac);
	return r;
}
