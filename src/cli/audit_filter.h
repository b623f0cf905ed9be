/* Showing the verified audit log's entries through a filter: shared by
 * audit-show (filters from options) and audit-find (the digests of an
 * artifact). docs/audit-log.md. */
#ifndef ROMBSR_CLI_AUDIT_FILTER_H
#define ROMBSR_CLI_AUDIT_FILTER_H

#include "audit_clone.h"

#include "../audit/entry.h"

#include <stdbool.h>
#include <stdint.h>

#define AUDIT_FILTER_MAX_DIGESTS 20

struct audit_filter {
	const char *key, *request;
	uint64_t since, until; /* since <= time < until */
	enum rombsr_audit_type type;
	bool json;
	/* When any: only signature and understood entries whose digest is one,
	 * and understood entries whose content digest is one. */
	const char *digests[AUDIT_FILTER_MAX_DIGESTS];
	size_t ndigests;
};

bool audit_filter_matches(const struct audit_filter *f, const struct rombsr_audit_entry *e);
/* One line on stdout: index, time, type, then the fields a reader looks
 * for, named as in the entry. Text fields are quoted: they may hold
 * spaces, never a quote. */
void audit_print_entry(const struct rombsr_audit_entry *e);
/* TIME: YYYY-MM-DDTHH:MM:SSZ (the form every ROMbsr format uses),
 * YYYY-MM-DD (midnight UTC) or seconds since 1970 UTC; option names the
 * option in the error. */
int audit_parse_time(const char *option, const char *text, uint64_t *out);
/* Prints every entry below vouched that f matches; *shown counts them. */
int audit_show(const struct audit_clone *ac, const struct audit_filter *f, uint64_t vouched, uint64_t *shown);

#endif
