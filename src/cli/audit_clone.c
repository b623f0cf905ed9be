#define _GNU_SOURCE
#include "audit_clone.h"

#include "../audit/log.h"
#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"
#include "../queue/audit_layout.h"
#include "../queue/layout.h"
#include "../queue/response.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK_MAX (64u * 1024 * 1024)

struct chunk {
	uint64_t first;
	char path[128];
};

struct walk {
	struct audit_clone *ac;
	struct chunk *chunks;
	size_t nchunks, alloc_chunks, alloc_responses;
	uint64_t *checkpoints;
	size_t ncheckpoints, alloc_checkpoints;
	int r;
};

static int grow(void **list, size_t *alloc, size_t n, size_t item)
{
	void *grown;
	size_t want;

	if (n < *alloc)
		return 0;
	want = *alloc ? *alloc * 2 : 256;
	grown = realloc(*list, want * item);
	if (grown == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	*list = grown;
	*alloc = want;
	return 0;
}

static int on_file(const char *path, char status, void *ctx)
{
	struct walk *w = ctx;
	struct rombsr_queue_path qp;
	uint64_t number;
	int r = 0;

	(void)status;
	switch (rombsr_queue_audit_classify(path, &number)) {
	case ROMBSR_QUEUE_AUDIT_CHUNK:
		r = grow((void **)&w->chunks, &w->alloc_chunks, w->nchunks, sizeof(*w->chunks));
		if (r == 0) {
			w->chunks[w->nchunks].first = number;
			snprintf(w->chunks[w->nchunks++].path, sizeof(w->chunks[0].path), "%s", path);
		}
		return r;
	case ROMBSR_QUEUE_AUDIT_CHECKPOINT:
		/* One per pass that answered something: as many as the log is long. */
		r = grow((void **)&w->checkpoints, &w->alloc_checkpoints, w->ncheckpoints, sizeof(*w->checkpoints));
		if (r == 0)
			w->checkpoints[w->ncheckpoints++] = number;
		return r;
	case ROMBSR_QUEUE_AUDIT_NONE:
		break;
	}
	rombsr_queue_classify(path, &qp);
	if (qp.kind != ROMBSR_PATH_RESPONSE)
		return 0;
	r = grow((void **)&w->ac->responses, &w->alloc_responses, w->ac->nresponses, sizeof(*w->ac->responses));
	if (r == 0)
		snprintf(w->ac->responses[w->ac->nresponses++], sizeof(w->ac->responses[0]), "%s", path);
	return r;
}

static int by_first(const void *a, const void *b)
{
	const struct chunk *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Chunks must follow each other exactly: 0, then each one starting where
 * the one before ended. */
static int write_entries(struct walk *w, int fd)
{
	uint64_t next = 0;
	int r = 0;

	if (w->nchunks > 0)
		qsort(w->chunks, w->nchunks, sizeof(*w->chunks), by_first);
	for (size_t i = 0; i < w->nchunks && r == 0; i++) {
		struct rombsr_buf data;
		uint64_t lines = 0;

		if (w->chunks[i].first != next)
			return rombsr_error(ROMBSR_ESECURITY, "audit log: %s starts at entry %llu, the entries before end at %llu",
					    w->chunks[i].path, (unsigned long long)w->chunks[i].first,
					    (unsigned long long)next);
		r = rombsr_repo_read(w->ac->qc.repo, &w->ac->head, w->chunks[i].path, CHUNK_MAX, &data);
		if (r < 0)
			return r;
		for (size_t j = 0; j < data.len; j++)
			lines += data.data[j] == '\n';
		if (lines == 0 || data.data[data.len - 1] != '\n')
			r = rombsr_error(ROMBSR_ESECURITY, "audit log: %s is empty or does not end with a whole entry",
					 w->chunks[i].path);
		if (r == 0)
			r = rombsr_write_all(fd, data.data, data.len);
		rombsr_buf_free(&data);
		next += lines;
	}
	return r;
}

static int write_checkpoints(struct walk *w)
{
	char queue_path[128], local[4096];
	int fd, r = 0;

	for (size_t i = 0; i < w->ncheckpoints && r == 0; i++) {
		struct rombsr_buf note;

		r = rombsr_queue_audit_checkpoint_path(w->checkpoints[i], queue_path, sizeof(queue_path));
		if (r == 0)
			r = rombsr_repo_read(w->ac->qc.repo, &w->ac->head, queue_path, ROMBSR_NOTE_MAX, &note);
		if (r < 0)
			return r;
		r = rombsr_path_format(local, sizeof(local), "%s/%s/%020llu", w->ac->dir, ROMBSR_AUDIT_CHECKPOINTS_DIR,
				       (unsigned long long)w->checkpoints[i]);
		if (r < 0) {
			rombsr_buf_free(&note);
			return r;
		}
		/* A scratch copy, removed at exit: no fsync (one checkpoint per
		 * pass makes tens of thousands of them). */
		fd = open(local, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		r = fd >= 0 ? rombsr_write_all(fd, note.data, note.len) : rombsr_error(ROMBSR_EIO, "cannot create %s", local);
		if (fd >= 0 && close(fd) != 0 && r == 0)
			r = rombsr_error(ROMBSR_EIO, "cannot write %s", local);
		rombsr_buf_free(&note);
	}
	return r;
}

static int load_vkey(const struct rombsr_config *cfg, const char *vkey_path, struct rombsr_note_verifier **out)
{
	const char *path = vkey_path ? vkey_path : cfg->audit_vkey;
	struct rombsr_buf text;
	const char *s;
	int r;

	if (path == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "no audit verifier key: give --vkey FILE or set audit.vkey "
						    "(the public bundle's audit.vkey)");
	r = rombsr_file_read(path, 4096, &text);
	s = r == 0 ? rombsr_buf_cstr(&text) : NULL;
	if (r == 0 && s == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (r == 0) {
		/* One line; its newline is not part of the key. */
		if (text.len > 0 && text.data[text.len - 1] == '\n')
			text.data[--text.len] = '\0';
		r = rombsr_note_verifier_parse((const char *)text.data, out);
	}
	rombsr_buf_free(&text);
	return r < 0 ? rombsr_error_wrap(r, "audit verifier key %s", path) : 0;
}

int audit_clone_open(struct cli_context *ctx, const char *repo_path, const char *vkey_path, struct audit_clone *ac)
{
	struct walk w = {.ac = ac};
	char path[4096];
	int fd = -1, r;

	memset(ac, 0, sizeof(*ac));
	r = queue_client_open_reader(ctx, repo_path, &ac->qc, &ac->head);
	if (r == 0)
		r = load_vkey(ac->qc.cfg, vkey_path, &ac->trusted);
	if (r == 0 && asprintf(&ac->remembered, "%s/audit-verified.checkpoint", ac->qc.cfg->state_dir) < 0) {
		ac->remembered = NULL;
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	if (r == 0 && ((ac->dir = strdup("/tmp/rombsr-audit.XXXXXX")) == NULL || mkdtemp(ac->dir) == NULL)) {
		free(ac->dir);
		ac->dir = NULL;
		r = rombsr_error(ROMBSR_EIO, "cannot make a temporary folder");
	}
	if (r == 0) {
		r = rombsr_path_format(path, sizeof(path), "%s/%s", ac->dir, ROMBSR_AUDIT_CHECKPOINTS_DIR);
		if (r == 0)
			r = rombsr_mkdir_p(path, 0700);
	}
	/* Every file of the head's tree: the audit files and the responses. */
	if (r == 0)
		r = rombsr_repo_diff(ac->qc.repo, NULL, &ac->head, on_file, &w);
	if (r == 0) {
		r = rombsr_path_format(path, sizeof(path), "%s/%s", ac->dir, ROMBSR_AUDIT_ENTRIES_FILE);
		fd = r < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && r == 0)
			r = rombsr_error(ROMBSR_EIO, "cannot create %s", path);
	}
	if (r == 0)
		r = write_entries(&w, fd);
	if (fd >= 0)
		close(fd);
	if (r == 0)
		r = write_checkpoints(&w);
	free(w.chunks);
	free(w.checkpoints);
	if (r < 0)
		audit_clone_close(ac);
	return r;
}

static void print_checkpoint(const char *what, const struct rombsr_checkpoint *cp)
{
	char hex[65];

	rombsr_hex_encode(cp->root, sizeof(cp->root), hex);
	fprintf(stderr, "  %s: origin %s, %llu entries, root %s\n", what, cp->origin, (unsigned long long)cp->size, hex);
}

int audit_clone_verify(struct audit_clone *ac, const char *command)
{
	const struct rombsr_note_verifier *trusted[] = {ac->trusted};
	struct rombsr_audit_report *report = &ac->report;
	struct rombsr_buf remembered = {0};
	int r = rombsr_file_read(ac->remembered, ROMBSR_NOTE_MAX, &remembered);

	if (r == ROMBSR_ENOTFOUND) {
		rombsr_buf_init(&remembered, 0);
		r = 0;
	}
	if (r == 0)
		r = rombsr_audit_verify_dir_open(ac->dir, trusted, 1, ac->qc.cfg->audit_origin,
						 remembered.len ? (const char *)remembered.data : NULL, remembered.len, report,
						 &ac->log);
	rombsr_buf_free(&remembered);
	if (r == ROMBSR_EFORK) {
		fprintf(stderr, "rombsr %s: FORK: the log contradicts a checkpoint accepted earlier\n", command);
		print_checkpoint("accepted earlier", &report->fork_remembered);
		print_checkpoint("now signed", &report->fork_conflicting);
		return rombsr_error(ROMBSR_ESECURITY, "the audit log forked: %s", report->problem);
	}
	if (r == ROMBSR_ESECURITY) {
		if (report->first_bad_index != ROMBSR_AUDIT_NO_INDEX)
			return rombsr_error(ROMBSR_ESECURITY, "audit log tampered with from entry %llu: %s",
					    (unsigned long long)report->first_bad_index, report->problem);
		return rombsr_error(ROMBSR_ESECURITY, "audit log: %s", report->problem);
	}
	if (r == 0 && report->torn_bytes > 0)
		r = rombsr_error(ROMBSR_ESECURITY, "audit log: the queue's copy ends in a partial entry");
	return r;
}

int audit_clone_open_verified(struct cli_context *ctx, const char *repo_path, const char *vkey_path,
			      struct audit_clone *ac)
{
	int r = audit_clone_open(ctx, repo_path, vkey_path, ac);

	if (r < 0)
		return r;
	r = audit_clone_verify(ac, ctx->command);
	if (r < 0)
		audit_clone_close(ac);
	return r;
}

uint64_t audit_clone_vouched(const struct audit_clone *ac)
{
	return ac->report.has_latest ? ac->report.latest.size : 0;
}

void audit_clone_close(struct audit_clone *ac)
{
	rombsr_audit_log_close(ac->log);
	rombsr_audit_report_free(&ac->report);
	free(ac->remembered);
	if (ac->dir != NULL)
		rombsr_remove_tree(ac->dir);
	free(ac->dir);
	free(ac->responses);
	rombsr_note_verifier_free(ac->trusted);
	queue_client_close(&ac->qc);
	memset(ac, 0, sizeof(*ac));
}

int audit_clone_known_checkpoint(const struct audit_clone *ac, const char *note, size_t len, struct rombsr_checkpoint *cp,
				 bool *known)
{
	struct rombsr_buf stored = {0};
	char path[4096];
	int r;

	*known = false;
	if (ac->log == NULL || rombsr_checkpoint_parse_unverified(note, len, cp) < 0)
		return 0; /* not verified yet, or malformed: the full check says why */
	r = rombsr_path_format(path, sizeof(path), "%s/%s/%020llu", ac->dir, ROMBSR_AUDIT_CHECKPOINTS_DIR,
			       (unsigned long long)cp->size);
	if (r < 0)
		return r;
	r = rombsr_file_read(path, ROMBSR_NOTE_MAX, &stored);
	if (r == ROMBSR_ENOTFOUND)
		return 0;
	*known = r == 0 && stored.len == len && memcmp(stored.data, note, len) == 0;
	rombsr_buf_free(&stored);
	return r;
}

int audit_clone_entry(const struct audit_clone *ac, uint64_t index, struct rombsr_audit_entry *e,
		      struct rombsr_buf *line)
{
	int r = rombsr_audit_log_entry(ac->log, index, line);

	if (r == 0)
		r = rombsr_audit_entry_decode((const char *)line->data, line->len, e);
	return r;
}

int audit_clone_entries_path(const struct audit_clone *ac, char *out, size_t size)
{
	if ((size_t)snprintf(out, size, "%s/%s", ac->dir, ROMBSR_AUDIT_ENTRIES_FILE) >= size)
		return rombsr_error(ROMBSR_EINTERNAL, "path too long");
	return 0;
}
