/* Reading what a log folder holds, for the writer (log_writer.c) and the
 * verifier (log_verify.c) alike: the entries file, checked line by line,
 * and the checkpoints folder. */
#define _GNU_SOURCE /* asprintf */
#include "audit_internal.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CP_NAME_LEN 20

/* ---- the entries file ---- */

int audit_push_offset(uint64_t **offsets, size_t *alloc, uint64_t count, uint64_t value)
{
	if (count + 1 > *alloc) {
		size_t want = *alloc ? *alloc * 2 : 1024;
		uint64_t *grown = realloc(*offsets, want * sizeof(**offsets));

		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory");
		*offsets = grown;
		*alloc = want;
	}
	(*offsets)[count] = value;
	return 0;
}

static void scan_bad(struct audit_scan *s, uint64_t index, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void scan_bad(struct audit_scan *s, uint64_t index, const char *fmt, ...)
{
	va_list ap;

	s->bad = index;
	va_start(ap, fmt);
	vsnprintf(s->problem, sizeof(s->problem), fmt, ap);
	va_end(ap);
}

void audit_scan_free(struct audit_scan *s)
{
	rombsr_merkle_tree_free(&s->tree);
	free(s->offsets);
	s->offsets = NULL;
}

int audit_scan_entries(const char *path, struct audit_scan *s)
{
	unsigned char zero[ROMBSR_MERKLE_HASH_LEN] = {0}, leaf[ROMBSR_MERKLE_HASH_LEN];
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	char *line = NULL;
	size_t cap = 0;
	uint64_t pos = 0, pending_break = ROMBSR_AUDIT_NO_INDEX;
	FILE *f = NULL;
	int r = 0;

	memset(s, 0, sizeof(*s));
	rombsr_merkle_tree_init(&s->tree);
	s->bad = ROMBSR_AUDIT_NO_INDEX;
	if (e == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	f = fopen(path, "re");
	if (f == NULL) {
		r = rombsr_error(errno == ENOENT ? ROMBSR_ENOTFOUND : ROMBSR_EIO, "cannot open %s: %s", path,
				 strerror(errno));
		goto out;
	}
	r = audit_push_offset(&s->offsets, &s->offsets_alloc, 0, 0);
	for (;;) {
		ssize_t got;
		size_t n;
		uint64_t i = s->count;
		bool link_ok;

		if (r < 0)
			break;
		errno = 0;
		got = getline(&line, &cap, f);
		if (got < 0) {
			if (ferror(f))
				r = rombsr_error(ROMBSR_EIO, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		n = (size_t)got;
		if (line[n - 1] != '\n') {
			s->torn = n; /* only the last line can lack its newline */
			break;
		}
		n--;
		if (rombsr_audit_entry_decode(line, n, e) < 0) {
			if (pending_break != ROMBSR_AUDIT_NO_INDEX)
				break;
			scan_bad(s, i, "entry %llu: %s", (unsigned long long)i, rombsr_error_message(ROMBSR_EINVAL));
			break;
		}
		if (e->index != i) {
			if (pending_break != ROMBSR_AUDIT_NO_INDEX)
				break;
			scan_bad(s, i, "entry %llu: the line at this position has index %llu (entries deleted, inserted "
				 "or reordered)", (unsigned long long)i, (unsigned long long)e->index);
			break;
		}
		link_ok = memcmp(e->prev, i == 0 ? zero : s->tree.level[0].hash[i - 1], sizeof(zero)) == 0;
		if (pending_break != ROMBSR_AUDIT_NO_INDEX) {
			/* Entry j's link broke. If j+1's link breaks too, entry j
			 * itself changed (its own link and its bytes); otherwise
			 * entry j-1 changed under an intact link in j. */
			uint64_t j = pending_break;

			if (!link_ok)
				scan_bad(s, j, "entry %llu was altered (its link to entry %llu and the link to it from "
					 "entry %llu do not match)", (unsigned long long)j, (unsigned long long)j - 1,
					 (unsigned long long)j + 1);
			break;
		}
		if (e->time < s->last_time) {
			scan_bad(s, i, "entry %llu: time %llu is earlier than the previous entry's %llu",
				 (unsigned long long)i, (unsigned long long)e->time, (unsigned long long)s->last_time);
			break;
		}
		r = rombsr_merkle_leaf_hash(line, n, leaf);
		if (r == 0)
			r = rombsr_merkle_tree_append(&s->tree, leaf);
		if (r == 0)
			r = audit_push_offset(&s->offsets, &s->offsets_alloc, i + 1, pos + n + 1);
		if (r < 0)
			break;
		pos += n + 1;
		s->count++;
		s->complete_len = pos;
		s->last_time = e->time;
		if (!link_ok) {
			if (i == 0) {
				scan_bad(s, 0, "entry 0: \"prev\" must be 64 zeros");
				break;
			}
			pending_break = i;
		}
	}
	if (r == 0 && pending_break != ROMBSR_AUDIT_NO_INDEX && s->bad == ROMBSR_AUDIT_NO_INDEX)
		scan_bad(s, pending_break - 1, "entry %llu was altered (entry %llu records a different hash for it)",
			 (unsigned long long)pending_break - 1, (unsigned long long)pending_break);
	if (r == 0 && s->bad != ROMBSR_AUDIT_NO_INDEX) {
		/* Nothing from the bad entry on is part of the verified log. */
		rombsr_merkle_tree_truncate(&s->tree, s->bad);
		s->count = s->bad;
	}
out:
	free(line);
	free(e);
	if (f != NULL)
		fclose(f);
	if (r < 0)
		audit_scan_free(s);
	return r;
}

/* ---- checkpoints folder ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int audit_list_checkpoints(const char *cp_dir, uint64_t **sizes, size_t *count)
{
	DIR *d = opendir(cp_dir);
	struct dirent *de;
	size_t alloc = 0;
	int r = 0;

	*sizes = NULL;
	*count = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return rombsr_error(ROMBSR_EIO, "cannot open folder %s: %s", cp_dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		uint64_t size;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strstr(name, ".tmp-") != NULL)
			continue;
		if (strlen(name) != CP_NAME_LEN || strspn(name, "0123456789") != CP_NAME_LEN) {
			r = rombsr_error(ROMBSR_EINVAL, "%s: unexpected file '%.64s' (checkpoints are named by tree size, "
					 "20 digits)", cp_dir, name);
			break;
		}
		size = strtoull(name, NULL, 10);
		if (*count == alloc) {
			size_t want = alloc ? alloc * 2 : 64;
			uint64_t *grown = realloc(*sizes, want * sizeof(uint64_t));

			if (grown == NULL) {
				r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
				break;
			}
			*sizes = grown;
			alloc = want;
		}
		(*sizes)[(*count)++] = size;
	}
	closedir(d);
	if (r < 0) {
		free(*sizes);
		*sizes = NULL;
		*count = 0;
		return r;
	}
	if (*count > 0)
		qsort(*sizes, *count, sizeof(uint64_t), cmp_u64);
	return 0;
}

char *audit_cp_path(const char *cp_dir, uint64_t size)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%0*llu", cp_dir, CP_NAME_LEN, (unsigned long long)size) < 0)
		return NULL;
	return p;
}

int audit_read_checkpoint(const char *cp_dir, uint64_t size, struct rombsr_buf *note)
{
	char *path = audit_cp_path(cp_dir, size);
	int r;

	if (path == NULL) {
		rombsr_buf_init(note, 0);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	r = rombsr_file_read(path, ROMBSR_NOTE_MAX, note);
	free(path);
	return r;
}

bool audit_could_not_check(int r)
{
	return r == ROMBSR_ENOMEM || r == ROMBSR_EIO || r == ROMBSR_ECRYPTO || r == ROMBSR_EINTERNAL;
}

char *audit_join(const char *a, const char *b)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		return NULL;
	return p;
}
