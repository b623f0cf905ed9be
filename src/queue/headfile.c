#include "headfile.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rombsr_head_file_read(const char *path, git_oid *head, bool *exists)
{
	struct rombsr_buf text;
	int r = rombsr_file_read(path, 128, &text);

	*exists = false;
	if (r == ROMBSR_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	if (text.len < GIT_OID_HEXSZ || git_oid_fromstrn(head, (const char *)text.data, GIT_OID_HEXSZ) < 0)
		r = rombsr_error(ROMBSR_EINVAL, "%s does not hold a commit ID", path);
	else
		*exists = true;
	rombsr_buf_free(&text);
	return r;
}

int rombsr_head_file_write(const char *path, const git_oid *head)
{
	char line[GIT_OID_HEXSZ + 2];

	rombsr_oid_hex(head, line);
	strcat(line, "\n");
	return rombsr_file_write_atomic(path, line, strlen(line), 0600, false);
}

int rombsr_head_file_check(struct rombsr_repo *repo, const char *path, const git_oid *head)
{
	char was[GIT_OID_HEXSZ + 1], now[GIT_OID_HEXSZ + 1];
	git_oid remembered;
	bool exists, descends = false;
	int r = rombsr_head_file_read(path, &remembered, &exists);

	if (r < 0 || !exists)
		return r;
	if (rombsr_repo_descends(repo, head, &remembered, &descends) < 0)
		descends = false;
	if (descends)
		return 0;
	rombsr_oid_hex(&remembered, was);
	rombsr_oid_hex(head, now);
	return rombsr_error(ROMBSR_ESECURITY,
			    "history rewritten: the queue's head %.12s does not descend from %.12s, seen before", now,
			    was);
}

#define RECORD_MAGIC "rombsr.queue-verified 1"
#define RECORD_MAX 1024

static int by_fpr(const void *a, const void *b)
{
	return memcmp(a, b, 40);
}

int rombsr_verified_admins(const char (*pinned)[41], size_t npinned, char out[65])
{
	char (*sorted)[41] = npinned ? calloc(npinned, sizeof(*sorted)) : NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (npinned > 0 && sorted == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	/* The configuration's order means nothing: the same set is the same
	 * trust root. Each 40 digits and a newline, in the 41 bytes of its
	 * slot. */
	for (size_t i = 0; i < npinned; i++) {
		memcpy(sorted[i], pinned[i], 40);
		sorted[i][40] = '\n';
	}
	if (npinned > 1)
		qsort(sorted, npinned, sizeof(*sorted), by_fpr);
	SHA256((const unsigned char *)(npinned ? sorted[0] : ""), npinned * sizeof(*sorted), md);
	free(sorted);
	rombsr_hex_encode(md, sizeof(md), out);
	return 0;
}

/* "name value" with value a decimal count. */
static bool count_line(const char *line, const char *name, uint64_t *out)
{
	size_t n = strlen(name);
	const char *v = line + n + 1;
	char *end;

	if (strncmp(line, name, n) != 0 || line[n] != ' ' || *v < '0' || *v > '9' || (v[0] == '0' && v[1] != '\0'))
		return false;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool hex_line(const char *line, const char *name, size_t digits, char *out)
{
	size_t n = strlen(name);

	if (strncmp(line, name, n) != 0 || line[n] != ' ' || strlen(line + n + 1) != digits)
		return false;
	for (size_t i = 0; i < digits; i++)
		if (!((line[n + 1 + i] >= '0' && line[n + 1 + i] <= '9') || (line[n + 1 + i] >= 'a' && line[n + 1 + i] <= 'f')))
			return false;
	memcpy(out, line + n + 1, digits);
	out[digits] = '\0';
	return true;
}

static int parse_record(const char *path, char *text, struct rombsr_verified_record *rec)
{
	static const char *const counts[] = {"commits", "requests", "responses", "signed", "rejected"};
	uint64_t *fields[] = {&rec->commits, &rec->requests, &rec->responses, &rec->signed_ok, &rec->rejected};
	char *lines[8], head[GIT_OID_HEXSZ + 1];
	size_t n = 0;

	/* The text ends with a newline (checked by the caller): split at
	 * each, keeping empty lines so that they are refused. */
	for (char *l = text, *nl; (nl = strchr(l, '\n')) != NULL; l = nl + 1) {
		if (n == 8)
			return rombsr_error(ROMBSR_EINVAL, "%s: more than 8 lines", path);
		*nl = '\0';
		lines[n++] = l;
	}
	if (n < 3 || strcmp(lines[0], RECORD_MAGIC) != 0)
		return rombsr_error(ROMBSR_EINVAL, "%s: line 1: not a verified record (expected '%s')", path,
				    RECORD_MAGIC);
	if (!hex_line(lines[1], "head", GIT_OID_HEXSZ, head) || git_oid_fromstr(&rec->head, head) < 0)
		return rombsr_error(ROMBSR_EINVAL, "%s: line 2: expected 'head' and a commit ID", path);
	if (!hex_line(lines[2], "admins", 64, rec->admins))
		return rombsr_error(ROMBSR_EINVAL, "%s: line 3: expected 'admins' and 64 hex digits", path);
	if (n == 3)
		return 0;
	if (n != 8)
		return rombsr_error(ROMBSR_EINVAL, "%s: %zu lines: a record has 3, or 8 with its totals", path, n);
	for (size_t i = 0; i < 5; i++)
		if (!count_line(lines[3 + i], counts[i], fields[i]))
			return rombsr_error(ROMBSR_EINVAL, "%s: line %zu: expected '%s' and a count", path, i + 4,
					    counts[i]);
	if (rec->responses > rec->requests || rec->signed_ok + rec->rejected != rec->responses ||
	    rec->commits == 0)
		return rombsr_error(ROMBSR_EINVAL, "%s: the totals do not add up", path);
	rec->have_totals = true;
	return 0;
}

int rombsr_verified_read(const char *path, struct rombsr_verified_record *rec, bool *exists)
{
	struct rombsr_buf text;
	int r = rombsr_file_read(path, RECORD_MAX, &text);

	memset(rec, 0, sizeof(*rec));
	*exists = false;
	if (r == ROMBSR_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	/* A NUL would end the text early and let the rest pass unread. */
	if (text.len == 0 || memchr(text.data, '\0', text.len) != NULL || text.data[text.len - 1] != '\n')
		r = rombsr_error(ROMBSR_EINVAL, "%s: not a verified record (empty, binary or cut short)", path);
	else if (text.len == GIT_OID_HEXSZ + 1 && git_oid_fromstrn(&rec->head, (const char *)text.data,
								   GIT_OID_HEXSZ) == 0)
		rec->legacy = true;
	else {
		rombsr_buf_append(&text, "", 1);
		r = rombsr_buf_check(&text, path);
		if (r == 0)
			r = parse_record(path, (char *)text.data, rec);
	}
	if (r == 0)
		*exists = true;
	rombsr_buf_free(&text);
	return r;
}

int rombsr_verified_write(const char *path, const struct rombsr_verified_record *rec)
{
	char text[RECORD_MAX], head[GIT_OID_HEXSZ + 1];
	int n;

	rombsr_oid_hex(&rec->head, head);
	n = snprintf(text, sizeof(text), RECORD_MAGIC "\nhead %s\nadmins %s\n", head, rec->admins);
	if (rec->have_totals)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "commits %" PRIu64 "\nrequests %" PRIu64 "\nresponses %" PRIu64 "\nsigned %" PRIu64
			      "\nrejected %" PRIu64 "\n",
			      rec->commits, rec->requests, rec->responses, rec->signed_ok, rec->rejected);
	return rombsr_file_write_atomic(path, text, (size_t)n, 0600, false);
}
