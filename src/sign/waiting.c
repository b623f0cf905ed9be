#define _GNU_SOURCE
#include "waiting.h"

#include "../common/buf.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../queue/gpg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 160

static int path_of(const char *dir, char *out, size_t size)
{
	if ((size_t)snprintf(out, size, "%s/%s", dir, ROMBSR_WAITING_FILE) >= size)
		return rombsr_error(ROMBSR_EINTERNAL, "path too long");
	return 0;
}

int rombsr_waiting_add(struct rombsr_waiting_list *list, const struct rombsr_waiting *w)
{
	if (list->n == ROMBSR_WAITING_MAX)
		return rombsr_error(ROMBSR_EINVAL, "more than %d requests waiting for approvals", ROMBSR_WAITING_MAX);
	if (list->n == list->alloc) {
		size_t want = list->alloc ? list->alloc * 2 : 16;
		struct rombsr_waiting *grown = realloc(list->items, want * sizeof(*grown));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		list->items = grown;
		list->alloc = want;
	}
	list->items[list->n++] = *w;
	return 0;
}

void rombsr_waiting_free(struct rombsr_waiting_list *list)
{
	free(list->items);
	memset(list, 0, sizeof(*list));
}

bool rombsr_waiting_any_expired(const struct rombsr_waiting_list *list, time_t now)
{
	for (size_t i = 0; i < list->n; i++)
		if (now > list->items[i].expires)
			return true;
	return false;
}

/* "<id> <commit> <signer> <expires>" */
static int parse_line(const char *path, size_t lineno, char *line, struct rombsr_waiting *w)
{
	char *fields[4], *save = NULL;
	size_t n = 0;
	char *end;
	long long expires;

	for (char *tok = strtok_r(line, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
		if (n < 4)
			fields[n++] = tok;
		else
			n++;
	memset(w, 0, sizeof(*w));
	if (n != 4 || !rombsr_request_id_valid(fields[0]) || strlen(fields[1]) != GIT_OID_HEXSZ ||
	    git_oid_fromstr(&w->commit, fields[1]) < 0 || !rombsr_fpr_valid(fields[2]))
		return rombsr_error(ROMBSR_EINVAL, "%s:%zu: damaged line", path, lineno);
	expires = strtoll(fields[3], &end, 10);
	if (*end != '\0' || end == fields[3] || expires < 0)
		return rombsr_error(ROMBSR_EINVAL, "%s:%zu: bad expiry time", path, lineno);
	memcpy(w->id, fields[0], sizeof(w->id));
	memcpy(w->signer, fields[2], sizeof(w->signer));
	w->expires = (time_t)expires;
	return 0;
}

int rombsr_waiting_load(const char *dir, struct rombsr_waiting_list *out)
{
	struct rombsr_buf text;
	char path[4096];
	size_t lineno = 1;
	char *s, *line, *save = NULL;
	int r = path_of(dir, path, sizeof(path));

	memset(out, 0, sizeof(*out));
	if (r < 0)
		return r;
	r = rombsr_file_read(path, (size_t)ROMBSR_WAITING_MAX * LINE_MAX_LEN, &text);
	if (r == ROMBSR_ENOTFOUND)
		return 0;
	s = r == 0 ? (char *)rombsr_buf_cstr(&text) : NULL;
	if (r == 0 && s == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	line = r == 0 ? strtok_r(s, "\n", &save) : NULL;
	if (r == 0 && (line == NULL || strcmp(line, ROMBSR_WAITING_HEADER) != 0))
		r = rombsr_error(ROMBSR_EINVAL, "%s: not a waiting list (no '%s' header)", path, ROMBSR_WAITING_HEADER);
	while (r == 0 && (line = strtok_r(NULL, "\n", &save)) != NULL) {
		struct rombsr_waiting w;

		r = parse_line(path, ++lineno, line, &w);
		if (r == 0)
			r = rombsr_waiting_add(out, &w);
	}
	rombsr_buf_free(&text);
	if (r < 0)
		rombsr_waiting_free(out);
	return r;
}

int rombsr_waiting_save(const char *dir, const struct rombsr_waiting_list *list)
{
	struct rombsr_buf text;
	char path[4096], commit[GIT_OID_HEXSZ + 1];
	int r = path_of(dir, path, sizeof(path));

	if (r < 0)
		return r;
	rombsr_buf_init(&text, (size_t)ROMBSR_WAITING_MAX * LINE_MAX_LEN);
	rombsr_buf_printf(&text, "%s\n", ROMBSR_WAITING_HEADER);
	for (size_t i = 0; i < list->n; i++) {
		git_oid_tostr(commit, sizeof(commit), &list->items[i].commit);
		rombsr_buf_printf(&text, "%s %s %s %" PRId64 "\n", list->items[i].id, commit, list->items[i].signer,
				  (int64_t)list->items[i].expires);
	}
	r = rombsr_buf_check(&text, "waiting list");
	if (r == 0)
		r = rombsr_file_write_atomic(path, text.data, text.len, 0600, false);
	rombsr_buf_free(&text);
	return r;
}
