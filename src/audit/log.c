#define _GNU_SOURCE /* flock */
#include "log.h"

#include "audit_internal.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CP_NAME_LEN 20
#define PROOF_HEADER "c2sp.org/tlog-proof@v1\n"
#define PROOF_MAX (ROMBSR_NOTE_MAX + 8192)

struct rombsr_audit_log {
	char *dir;
	char *entries_path;
	char *cp_dir;
	int fd;
	bool broken; /* file and memory may disagree: refuse to go on */
	bool read_only; /* from rombsr_audit_verify_dir_open(): no appends, no checkpoints */
	struct rombsr_merkle_tree tree;
	uint64_t *offsets; /* start of each line; offsets[size] = file length */
	size_t offsets_alloc;
	uint64_t last_time;
	uint64_t recovered;
	uint64_t latest_cp; /* size of the largest stored checkpoint, or NO_INDEX */
};

/* ---- reading the entries file ---- */

struct scan {
	struct rombsr_merkle_tree tree;
	uint64_t *offsets;
	size_t offsets_alloc;
	uint64_t count;        /* complete, valid entries */
	uint64_t complete_len; /* bytes up to and including the last newline */
	uint64_t torn;         /* bytes after it */
	uint64_t last_time;
	uint64_t bad;          /* first bad entry or ROMBSR_AUDIT_NO_INDEX */
	char problem[512];
};

static int push_offset(uint64_t **offsets, size_t *alloc, uint64_t count, uint64_t value)
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

static void scan_bad(struct scan *s, uint64_t index, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void scan_bad(struct scan *s, uint64_t index, const char *fmt, ...)
{
	va_list ap;

	s->bad = index;
	va_start(ap, fmt);
	vsnprintf(s->problem, sizeof(s->problem), fmt, ap);
	va_end(ap);
}

static void scan_free(struct scan *s)
{
	rombsr_merkle_tree_free(&s->tree);
	free(s->offsets);
	s->offsets = NULL;
}

/* Reads and checks every line. Returns <0 only for I/O and memory
 * failures; a bad entry is reported in s->bad and stops the scan. */
static int scan_entries(const char *path, struct scan *s)
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
	r = push_offset(&s->offsets, &s->offsets_alloc, 0, 0);
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
			r = push_offset(&s->offsets, &s->offsets_alloc, i + 1, pos + n + 1);
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
		scan_free(s);
	return r;
}

/* ---- checkpoints folder ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sizes of the stored checkpoints, ascending. Files left by an interrupted
 * atomic write ("<name>.tmp-XXXXXX") are ignored; any other name is refused. */
static int list_checkpoints(const char *cp_dir, uint64_t **sizes, size_t *count)
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

static char *cp_path(const char *cp_dir, uint64_t size)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%0*llu", cp_dir, CP_NAME_LEN, (unsigned long long)size) < 0)
		return NULL;
	return p;
}

static int read_checkpoint_file(const char *cp_dir, uint64_t size, struct rombsr_buf *note)
{
	char *path = cp_path(cp_dir, size);
	int r;

	if (path == NULL) {
		rombsr_buf_init(note, 0);
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	}
	r = rombsr_file_read(path, ROMBSR_NOTE_MAX, note);
	free(path);
	return r;
}

/* ---- writer ---- */

static char *join(const char *a, const char *b)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		return NULL;
	return p;
}

int rombsr_audit_log_open(const char *dir, struct rombsr_audit_log **out)
{
	struct rombsr_audit_log *log;
	struct scan s = {0};
	uint64_t *sizes = NULL;
	size_t n_sizes = 0;
	int r;

	*out = NULL;
	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	log->fd = -1;
	log->latest_cp = ROMBSR_AUDIT_NO_INDEX;
	rombsr_merkle_tree_init(&log->tree);
	log->dir = strdup(dir);
	log->entries_path = join(dir, ROMBSR_AUDIT_ENTRIES_FILE);
	log->cp_dir = join(dir, ROMBSR_AUDIT_CHECKPOINTS_DIR);
	if (log->dir == NULL || log->entries_path == NULL || log->cp_dir == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = rombsr_mkdir_p(log->cp_dir, 0755)) < 0)
		goto out;
	log->fd = open(log->entries_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (log->fd < 0) {
		r = rombsr_error(ROMBSR_EIO, "cannot open %s: %s", log->entries_path, strerror(errno));
		goto out;
	}
	if (flock(log->fd, LOCK_EX | LOCK_NB) != 0) {
		r = rombsr_error(errno == EWOULDBLOCK ? ROMBSR_EPERM : ROMBSR_EIO,
				 "audit log %s is in use by another writer", dir);
		goto out;
	}
	if ((r = rombsr_fsync_dir(dir)) < 0)
		goto out;
	if ((r = scan_entries(log->entries_path, &s)) < 0)
		goto out;
	if (s.bad != ROMBSR_AUDIT_NO_INDEX) {
		r = rombsr_error(ROMBSR_ECRYPTO, "audit log %s is damaged, refusing to append: %s", dir, s.problem);
		goto out;
	}
	if ((r = list_checkpoints(log->cp_dir, &sizes, &n_sizes)) < 0)
		goto out;
	for (size_t i = 0; i < n_sizes; i++) {
		unsigned char root[ROMBSR_MERKLE_HASH_LEN];
		struct rombsr_checkpoint cp;
		struct rombsr_buf note;

		if (sizes[i] > s.count) {
			r = rombsr_error(ROMBSR_ECRYPTO, "audit log %s is damaged: checkpoint %llu covers entries past "
					 "the %llu complete ones", dir, (unsigned long long)sizes[i],
					 (unsigned long long)s.count);
			goto out;
		}
		r = read_checkpoint_file(log->cp_dir, sizes[i], &note);
		if (r == 0)
			r = rombsr_checkpoint_parse_unverified((const char *)note.data, note.len, &cp);
		rombsr_buf_free(&note);
		if (r == 0 && cp.size != sizes[i])
			r = rombsr_error(ROMBSR_EINVAL, "its tree size is %llu", (unsigned long long)cp.size);
		if (r == 0)
			r = rombsr_merkle_tree_root(&s.tree, cp.size, root);
		if (r == 0 && memcmp(root, cp.root, sizeof(root)) != 0)
			r = rombsr_error(ROMBSR_ECRYPTO, "its root does not match the entries");
		if (r < 0) {
			r = rombsr_error_wrap(r == ROMBSR_ENOMEM ? r : ROMBSR_ECRYPTO,
					      "audit log %s is damaged: checkpoint %llu", dir,
					      (unsigned long long)sizes[i]);
			goto out;
		}
		log->latest_cp = sizes[i];
	}
	if (s.torn > 0) {
		/* No checkpoint covers the torn line (checked above): it was
		 * never acknowledged, so cutting it off loses nothing. */
		if (ftruncate(log->fd, (off_t)s.complete_len) != 0 || fsync(log->fd) != 0) {
			r = rombsr_error(ROMBSR_EIO, "cannot cut the torn last line of %s: %s", log->entries_path,
					 strerror(errno));
			goto out;
		}
		log->recovered = s.torn;
	}
	log->tree = s.tree;
	log->offsets = s.offsets;
	log->offsets_alloc = s.offsets_alloc;
	log->last_time = s.last_time;
	memset(&s, 0, sizeof(s));
	*out = log;
	log = NULL;
	r = 0;
out:
	free(sizes);
	scan_free(&s);
	rombsr_audit_log_close(log);
	return r;
}

void rombsr_audit_log_close(struct rombsr_audit_log *log)
{
	if (log == NULL)
		return;
	if (log->fd >= 0)
		close(log->fd); /* releases the flock */
	rombsr_merkle_tree_free(&log->tree);
	free(log->offsets);
	free(log->dir);
	free(log->entries_path);
	free(log->cp_dir);
	free(log);
}

uint64_t rombsr_audit_log_size(const struct rombsr_audit_log *log)
{
	return log->tree.size;
}

uint64_t rombsr_audit_log_recovered_bytes(const struct rombsr_audit_log *log)
{
	return log->recovered;
}

int rombsr_audit_log_append_batch(struct rombsr_audit_log *log, struct rombsr_audit_entry *e, size_t n,
				  uint64_t *first_index)
{
	unsigned char (*leaves)[ROMBSR_MERKLE_HASH_LEN] = NULL;
	uint64_t base = log->tree.size, old_len, t = log->last_time, now = (uint64_t)time(NULL);
	struct rombsr_buf batch, one;
	int r;

	rombsr_buf_init(&batch, (size_t)1 << 30);
	if (log->read_only)
		return rombsr_error(ROMBSR_EPERM, "audit log %s: opened for reading only", log->dir);
	if (log->broken)
		return rombsr_error(ROMBSR_EIO, "audit log %s: an earlier write failed; reopen it", log->dir);
	if (n == 0)
		return rombsr_error(ROMBSR_EINVAL, "audit log: nothing to append");
	old_len = log->offsets[base];
	leaves = malloc(n * sizeof(*leaves));
	if (leaves == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		e[i].index = base + i;
		if (i == 0 && base > 0)
			memcpy(e[i].prev, log->tree.level[0].hash[base - 1], ROMBSR_MERKLE_HASH_LEN);
		else if (i == 0)
			memset(e[i].prev, 0, ROMBSR_MERKLE_HASH_LEN);
		else
			memcpy(e[i].prev, leaves[i - 1], ROMBSR_MERKLE_HASH_LEN);
		if (e[i].time == 0)
			e[i].time = now > t ? now : t;
		if (e[i].time < t) {
			r = rombsr_error(ROMBSR_EINVAL, "audit entry time %llu is earlier than the previous entry's %llu",
					 (unsigned long long)e[i].time, (unsigned long long)t);
			goto out;
		}
		t = e[i].time;
		r = rombsr_audit_entry_encode(&e[i], &one);
		if (r == 0)
			r = rombsr_merkle_leaf_hash(one.data, one.len, leaves[i]);
		if (r == 0) {
			rombsr_buf_append(&batch, one.data, one.len);
			rombsr_buf_append(&batch, "\n", 1);
		}
		rombsr_buf_free(&one);
		if (r < 0)
			goto out;
	}
	if ((r = rombsr_buf_check(&batch, "audit entries")) < 0)
		goto out;
	/* Reserve memory first, so that once the bytes are durable nothing
	 * can fail before the tree reflects them. */
	for (size_t i = 0; i < n && r == 0; i++)
		r = push_offset(&log->offsets, &log->offsets_alloc, base + i + 1, 0);
	if (r < 0)
		goto out;
	if (rombsr_write_all(log->fd, batch.data, batch.len) != 0 || fsync(log->fd) != 0) {
		int saved = errno;

		if (ftruncate(log->fd, (off_t)old_len) != 0 || fsync(log->fd) != 0)
			log->broken = true;
		r = rombsr_error(ROMBSR_EIO, "cannot append to %s: %s", log->entries_path, strerror(saved));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r = rombsr_merkle_tree_append(&log->tree, leaves[i]);
		if (r < 0) {
			log->broken = true;
			goto out;
		}
	}
	/* Line starts, from the newlines of the batch. */
	for (size_t p = 0, i = 0; p < batch.len; p++)
		if (batch.data[p] == '\n')
			log->offsets[base + ++i] = old_len + p + 1;
	log->last_time = t;
	if (first_index != NULL)
		*first_index = base;
	r = 0;
out:
	free(leaves);
	rombsr_buf_free(&batch);
	return r;
}

int rombsr_audit_log_append(struct rombsr_audit_log *log, struct rombsr_audit_entry *e, uint64_t *index)
{
	return rombsr_audit_log_append_batch(log, e, 1, index);
}

int rombsr_audit_log_root(const struct rombsr_audit_log *log, uint64_t size,
			  unsigned char root[ROMBSR_MERKLE_HASH_LEN])
{
	return rombsr_merkle_tree_root(&log->tree, size, root);
}

int rombsr_audit_log_entry(const struct rombsr_audit_log *log, uint64_t index, struct rombsr_buf *out)
{
	unsigned char tmp[ROMBSR_AUDIT_ENTRY_MAX];
	uint64_t start, len;
	ssize_t got;

	rombsr_buf_init(out, ROMBSR_AUDIT_ENTRY_MAX + 1);
	if (index >= log->tree.size)
		return rombsr_error(ROMBSR_ENOTFOUND, "audit log has no entry %llu (%llu entries)",
				    (unsigned long long)index, (unsigned long long)log->tree.size);
	start = log->offsets[index];
	len = log->offsets[index + 1] - start - 1;
	if (len > ROMBSR_AUDIT_ENTRY_MAX)
		return rombsr_error(ROMBSR_EINVAL, "audit entry %llu too long", (unsigned long long)index);
	got = pread(log->fd, tmp, (size_t)len, (off_t)start);
	if (got != (ssize_t)len)
		return rombsr_error(ROMBSR_EIO, "cannot read entry %llu of %s", (unsigned long long)index,
				    log->entries_path);
	rombsr_buf_append(out, tmp, (size_t)len);
	return rombsr_buf_check(out, "audit entry");
}

int rombsr_audit_log_checkpoint(struct rombsr_audit_log *log, const char *origin,
				const struct rombsr_note_signer *signer, struct rombsr_buf *note)
{
	struct rombsr_checkpoint cp;
	char *path = NULL;
	int r;

	rombsr_buf_init(note, ROMBSR_NOTE_MAX);
	memset(&cp, 0, sizeof(cp));
	if (log->read_only)
		return rombsr_error(ROMBSR_EPERM, "audit log %s: opened for reading only", log->dir);
	if (log->broken)
		return rombsr_error(ROMBSR_EIO, "audit log %s: an earlier write failed; reopen it", log->dir);
	if ((r = rombsr_note_check_name(origin, "checkpoint origin")) < 0)
		return r;
	memcpy(cp.origin, origin, strlen(origin) + 1);
	cp.size = log->tree.size;
	if ((r = rombsr_merkle_tree_root(&log->tree, cp.size, cp.root)) < 0)
		return r;
	path = cp_path(log->cp_dir, cp.size);
	if (path == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (rombsr_path_exists(path)) {
		struct rombsr_checkpoint old;

		r = rombsr_file_read(path, ROMBSR_NOTE_MAX, note);
		if (r == 0)
			r = rombsr_checkpoint_parse_unverified((const char *)note->data, note->len, &old);
		if (r == 0 && (old.size != cp.size || memcmp(old.root, cp.root, sizeof(cp.root)) != 0 ||
			       strcmp(old.origin, cp.origin) != 0))
			r = rombsr_error(ROMBSR_EEXISTS, "%s already holds a different checkpoint", path);
		goto out;
	}
	r = rombsr_checkpoint_sign(&cp, signer, note);
	if (r == 0)
		r = rombsr_file_write_atomic(path, note->data, note->len, 0644, true);
	if (r == 0)
		log->latest_cp = cp.size;
out:
	free(path);
	if (r < 0)
		rombsr_buf_free(note);
	return r;
}

int rombsr_audit_log_latest_checkpoint(const struct rombsr_audit_log *log, struct rombsr_buf *note)
{
	if (log->latest_cp == ROMBSR_AUDIT_NO_INDEX) {
		rombsr_buf_init(note, 0);
		return rombsr_error(ROMBSR_ENOTFOUND, "audit log %s has no checkpoint yet", log->dir);
	}
	return read_checkpoint_file(log->cp_dir, log->latest_cp, note);
}

int rombsr_audit_log_inclusion_proof(const struct rombsr_audit_log *log, uint64_t index, uint64_t size,
				     unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t *count)
{
	return rombsr_merkle_tree_inclusion_proof(&log->tree, index, size, proof, count);
}

int rombsr_audit_log_consistency_proof(const struct rombsr_audit_log *log, uint64_t size1, uint64_t size2,
				       unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t *count)
{
	return rombsr_merkle_tree_consistency_proof(&log->tree, size1, size2, proof, count);
}

/* ---- tlog-proof ---- */

int rombsr_audit_log_proof(const struct rombsr_audit_log *log, uint64_t index, const char *note,
			   size_t note_len, struct rombsr_buf *out)
{
	unsigned char proof[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN], root[ROMBSR_MERKLE_HASH_LEN];
	struct rombsr_checkpoint cp;
	size_t count;
	int r;

	rombsr_buf_init(out, PROOF_MAX);
	r = rombsr_checkpoint_parse_unverified(note, note_len, &cp);
	if (r == 0 && cp.size > log->tree.size)
		r = rombsr_error(ROMBSR_EINVAL, "checkpoint of size %llu is larger than the log",
				 (unsigned long long)cp.size);
	if (r == 0)
		r = rombsr_merkle_tree_root(&log->tree, cp.size, root);
	if (r == 0 && memcmp(root, cp.root, sizeof(root)) != 0)
		r = rombsr_error(ROMBSR_ECRYPTO, "the checkpoint is not one of this log");
	if (r == 0)
		r = rombsr_merkle_tree_inclusion_proof(&log->tree, index, cp.size, proof, &count);
	if (r < 0)
		return r;
	rombsr_buf_printf(out, PROOF_HEADER "index %llu\n", (unsigned long long)index);
	for (size_t i = 0; i < count; i++) {
		audit_base64_encode(out, proof[i], ROMBSR_MERKLE_HASH_LEN);
		rombsr_buf_append(out, "\n", 1);
	}
	rombsr_buf_append(out, "\n", 1);
	rombsr_buf_append(out, note, note_len);
	r = rombsr_buf_check(out, "inclusion proof");
	if (r < 0)
		rombsr_buf_free(out);
	return r;
}

/* The parts of a tlog-proof: its index, the hashes, and where the
 * checkpoint note starts (it runs to the end). */
static int proof_parse(const char *proof, size_t proof_len, uint64_t *index,
		       unsigned char hashes[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN], size_t *count,
		       size_t *note_at)
{
	size_t pos, hlen;
	const char *nl;
	int r;

	*count = 0;
	if (proof_len > PROOF_MAX)
		return rombsr_error(ROMBSR_EINVAL, "proof: larger than %d bytes", PROOF_MAX);
	if (proof_len < strlen(PROOF_HEADER) || memcmp(proof, PROOF_HEADER, strlen(PROOF_HEADER)) != 0)
		return rombsr_error(ROMBSR_EINVAL, "proof: first line must be c2sp.org/tlog-proof@v1");
	pos = strlen(PROOF_HEADER);
	nl = memchr(proof + pos, '\n', proof_len - pos);
	if (nl != NULL && (size_t)(nl - proof - pos) > 6 && memcmp(proof + pos, "extra ", 6) == 0)
		pos = (size_t)(nl - proof) + 1, nl = memchr(proof + pos, '\n', proof_len - pos);
	if (nl == NULL || (size_t)(nl - proof - pos) < 7 || memcmp(proof + pos, "index ", 6) != 0)
		return rombsr_error(ROMBSR_EINVAL, "proof: expected the line 'index N'");
	r = audit_parse_u64(proof + pos + 6, (size_t)(nl - proof) - pos - 6, (uint64_t)INT64_MAX, index, "proof index");
	if (r < 0)
		return r;
	pos = (size_t)(nl - proof) + 1;
	for (;;) {
		nl = memchr(proof + pos, '\n', proof_len - pos);
		if (nl == NULL)
			return rombsr_error(ROMBSR_EINVAL, "proof: missing the blank line before the checkpoint");
		if (nl == proof + pos)
			break;
		if (*count == ROMBSR_MERKLE_MAX_PROOF || nl - (proof + pos) != 44)
			return rombsr_error(ROMBSR_EINVAL, "proof: bad hash line %zu", *count + 1);
		r = audit_base64_decode(proof + pos, 44, hashes[*count], ROMBSR_MERKLE_HASH_LEN, &hlen, "proof hash");
		if (r < 0)
			return r;
		if (hlen != ROMBSR_MERKLE_HASH_LEN)
			return rombsr_error(ROMBSR_EINVAL, "proof: hash line %zu is not 32 bytes", *count + 1);
		++*count;
		pos = (size_t)(nl - proof) + 1;
	}
	*note_at = pos + 1;
	return 0;
}

/* The entry's own index is the proof's, and the path leads from its leaf
 * to the checkpoint's root. */
static int proof_check_entry(const char *entry, size_t entry_len, uint64_t index,
			     unsigned char hashes[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN], size_t count,
			     const struct rombsr_checkpoint *cp)
{
	unsigned char leaf[ROMBSR_MERKLE_HASH_LEN];
	struct rombsr_audit_entry *e = malloc(sizeof(*e));
	int r = e ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");

	if (r == 0)
		r = rombsr_audit_entry_decode(entry, entry_len, e);
	if (r == 0 && e->index != index)
		r = rombsr_error(ROMBSR_ECRYPTO, "proof is for index %llu but the entry says %llu",
				 (unsigned long long)index, (unsigned long long)e->index);
	free(e);
	if (r == 0)
		r = rombsr_merkle_leaf_hash(entry, entry_len, leaf);
	if (r == 0)
		r = rombsr_merkle_verify_inclusion(leaf, index, cp->size, (const unsigned char (*)[32])hashes, count,
						   cp->root);
	return r;
}

int rombsr_audit_proof_verify(const char *proof, size_t proof_len, const char *entry, size_t entry_len,
			      const struct rombsr_note_verifier *const *trusted, size_t n_trusted,
			      const char *origin, struct rombsr_checkpoint *cp, uint64_t *index)
{
	unsigned char hashes[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN];
	size_t count, note_at;
	int r = proof_parse(proof, proof_len, index, hashes, &count, &note_at);

	if (r == 0)
		r = rombsr_checkpoint_open(proof + note_at, proof_len - note_at, trusted, n_trusted, origin, cp);
	if (r == 0)
		r = proof_check_entry(entry, entry_len, *index, hashes, count, cp);
	return r;
}

int rombsr_audit_proof_note(const char *proof, size_t proof_len, const char **note, size_t *note_len)
{
	unsigned char hashes[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN];
	size_t count, note_at;
	uint64_t index;
	int r = proof_parse(proof, proof_len, &index, hashes, &count, &note_at);

	if (r == 0) {
		*note = proof + note_at;
		*note_len = proof_len - note_at;
	}
	return r;
}

int rombsr_audit_proof_verify_known(const char *proof, size_t proof_len, const char *entry, size_t entry_len,
				    const char *note, size_t note_len, const struct rombsr_checkpoint *note_cp,
				    struct rombsr_checkpoint *cp, uint64_t *index)
{
	unsigned char hashes[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN];
	size_t count, note_at;
	int r = proof_parse(proof, proof_len, index, hashes, &count, &note_at);

	if (r == 0 && (proof_len - note_at != note_len || memcmp(proof + note_at, note, note_len) != 0))
		return rombsr_error(ROMBSR_ENOTFOUND, "proof: another checkpoint than the one given");
	if (r == 0) {
		*cp = *note_cp;
		r = proof_check_entry(entry, entry_len, *index, hashes, count, cp);
	}
	return r;
}

/* ---- verifier ---- */

static int report_bad(struct rombsr_audit_report *rep, int code, uint64_t index, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int report_bad(struct rombsr_audit_report *rep, int code, uint64_t index, const char *fmt, ...)
{
	va_list ap;

	rep->first_bad_index = index;
	va_start(ap, fmt);
	vsnprintf(rep->problem, sizeof(rep->problem), fmt, ap);
	va_end(ap);
	return rombsr_error(code, "%s", rep->problem);
}

static void hex_root(const unsigned char root[ROMBSR_MERKLE_HASH_LEN], char out[65])
{
	rombsr_hex_encode(root, ROMBSR_MERKLE_HASH_LEN, out);
}

/* The log just verified from s, for reading: the entries are read by the
 * offsets the scan found, so the file must be the one scanned (same size;
 * the caller's folder must not change meanwhile). */
static int reader_from_scan(const char *dir, const char *entries_path, const char *cp_dir, struct scan *s,
			    uint64_t latest_cp, struct rombsr_audit_log **out)
{
	struct rombsr_audit_log *log = calloc(1, sizeof(*log));
	struct stat st;
	int r = 0;

	if (log == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	log->read_only = true;
	log->latest_cp = latest_cp;
	log->fd = open(entries_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if ((log->dir = strdup(dir)) == NULL || (log->entries_path = strdup(entries_path)) == NULL ||
	    (log->cp_dir = strdup(cp_dir)) == NULL)
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
	else if (log->fd < 0 || fstat(log->fd, &st) != 0)
		r = rombsr_error(ROMBSR_EIO, "cannot open %s: %s", entries_path, strerror(errno));
	else if ((uint64_t)st.st_size != s->complete_len + s->torn)
		r = rombsr_error(ROMBSR_EIO, "%s changed while it was verified", entries_path);
	if (r < 0) {
		rombsr_merkle_tree_init(&log->tree);
		rombsr_audit_log_close(log);
		return r;
	}
	log->tree = s->tree;
	log->offsets = s->offsets;
	log->offsets_alloc = s->offsets_alloc;
	log->last_time = s->last_time;
	memset(s, 0, sizeof(*s));
	*out = log;
	return 0;
}

static int verify_dir(const char *dir, const struct rombsr_note_verifier *const *trusted, size_t n_trusted,
		      const char *origin, const char *remembered, size_t remembered_len,
		      struct rombsr_audit_report *rep, struct rombsr_audit_log **log)
{
	unsigned char proof[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN], root[ROMBSR_MERKLE_HASH_LEN];
	struct rombsr_checkpoint rem, prev;
	char *entries_path = join(dir, ROMBSR_AUDIT_ENTRIES_FILE), *cp_dir = join(dir, ROMBSR_AUDIT_CHECKPOINTS_DIR);
	struct scan s = {0};
	uint64_t *sizes = NULL, good_size = 0;
	size_t n_sizes = 0, count;
	bool have_prev = false;
	int r;

	memset(rep, 0, sizeof(*rep));
	rep->first_bad_index = ROMBSR_AUDIT_NO_INDEX;
	rombsr_buf_init(&rep->latest_note, ROMBSR_NOTE_MAX);
	if (entries_path == NULL || cp_dir == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	if (remembered != NULL) {
		r = rombsr_checkpoint_open(remembered, remembered_len, trusted, n_trusted, origin, &rem);
		if (r < 0) {
			r = rombsr_error_wrap(r, "the remembered checkpoint");
			goto out;
		}
	}
	if ((r = scan_entries(entries_path, &s)) < 0)
		goto out;
	rep->entries = s.count;
	if (s.bad != ROMBSR_AUDIT_NO_INDEX) {
		r = report_bad(rep, ROMBSR_ECRYPTO, s.bad, "%s", s.problem);
		goto out;
	}
	if ((r = list_checkpoints(cp_dir, &sizes, &n_sizes)) < 0) {
		r = report_bad(rep, ROMBSR_ECRYPTO, 0, "%s", rombsr_error_message(r));
		goto out;
	}
	for (size_t i = 0; i < n_sizes; i++) {
		struct rombsr_checkpoint cp;
		struct rombsr_buf note;
		char want[65], got[65];

		r = read_checkpoint_file(cp_dir, sizes[i], &note);
		if (r < 0) {
			r = report_bad(rep, ROMBSR_ECRYPTO, good_size, "checkpoint %llu: %s", (unsigned long long)sizes[i],
				       rombsr_error_message(r));
			goto out;
		}
		r = rombsr_checkpoint_open((const char *)note.data, note.len, trusted, n_trusted, origin, &cp);
		if (r == 0 && cp.size != sizes[i])
			r = rombsr_error(ROMBSR_ECRYPTO, "the file name says size %llu, the note %llu",
					 (unsigned long long)sizes[i], (unsigned long long)cp.size);
		if (r < 0) {
			rombsr_buf_free(&note);
			r = report_bad(rep, ROMBSR_ECRYPTO, good_size,
				       "checkpoint %llu is not valid (entries from %llu on are not vouched for): %s",
				       (unsigned long long)sizes[i], (unsigned long long)good_size,
				       rombsr_error_message(r));
			goto out;
		}
		if (cp.size > s.count) {
			rombsr_buf_free(&note);
			r = report_bad(rep, ROMBSR_ECRYPTO, s.count,
				       "the log ends after %llu entries but checkpoint %llu covers more: entries %llu to "
				       "%llu are missing", (unsigned long long)s.count, (unsigned long long)cp.size,
				       (unsigned long long)s.count, (unsigned long long)cp.size - 1);
			goto out;
		}
		r = rombsr_merkle_tree_root(&s.tree, cp.size, root);
		if (r == 0 && memcmp(root, cp.root, sizeof(root)) != 0) {
			hex_root(cp.root, want);
			hex_root(root, got);
			rombsr_buf_free(&note);
			r = report_bad(rep, ROMBSR_ECRYPTO, good_size,
				       "checkpoint %llu signs root %s but entries 0 to %llu give %s: an entry from %llu "
				       "on was altered", (unsigned long long)cp.size, want, (unsigned long long)cp.size - 1,
				       got, (unsigned long long)good_size);
			goto out;
		}
		if (r == 0 && have_prev) {
			r = rombsr_merkle_tree_consistency_proof(&s.tree, prev.size, cp.size, proof, &count);
			if (r == 0)
				r = rombsr_merkle_verify_consistency(prev.size, cp.size, prev.root, cp.root,
								     (const unsigned char (*)[32])proof, count);
		}
		if (r < 0) {
			rombsr_buf_free(&note);
			r = report_bad(rep, ROMBSR_ECRYPTO, good_size, "checkpoint %llu: %s", (unsigned long long)cp.size,
				       rombsr_error_message(r));
			goto out;
		}
		prev = cp;
		have_prev = true;
		good_size = cp.size;
		rep->checkpoints++;
		rep->has_latest = true;
		rep->latest = cp;
		rombsr_buf_free(&rep->latest_note);
		rep->latest_note = note;
	}
	if (remembered != NULL) {
		char a[65], b[65];

		if (rem.size > s.count) {
			r = report_bad(rep, ROMBSR_ECRYPTO, s.count,
				       "the log has %llu entries but a checkpoint of size %llu was accepted before: "
				       "entries were removed, or this copy is out of date", (unsigned long long)s.count,
				       (unsigned long long)rem.size);
			goto out;
		}
		if ((r = rombsr_merkle_tree_root(&s.tree, rem.size, root)) < 0)
			goto out;
		if (memcmp(root, rem.root, sizeof(root)) != 0) {
			hex_root(rem.root, a);
			if (have_prev && prev.size >= rem.size) {
				/* A signed checkpoint of this log commits to a
				 * different tree at the remembered size. */
				uint64_t other = sizes[0];

				for (size_t i = 0; i < n_sizes; i++)
					if (sizes[i] >= rem.size) {
						other = sizes[i];
						break;
					}
				rep->fork = true;
				rep->fork_remembered = rem;
				rep->fork_conflicting = rem;
				rep->fork_conflicting.size = other;
				(void)rombsr_merkle_tree_root(&s.tree, other, rep->fork_conflicting.root);
				memcpy(rep->fork_conflicting.origin, prev.origin, sizeof(prev.origin));
				hex_root(rep->fork_conflicting.root, b);
				r = report_bad(rep, ROMBSR_EFORK, ROMBSR_AUDIT_NO_INDEX,
					       "fork: remembered checkpoint %s@%llu root %s is inconsistent with signed "
					       "checkpoint %s@%llu root %s", rem.origin, (unsigned long long)rem.size, a,
					       rep->fork_conflicting.origin, (unsigned long long)other, b);
				goto out;
			}
			hex_root(root, b);
			r = report_bad(rep, ROMBSR_ECRYPTO, good_size,
				       "the remembered checkpoint %llu (root %s) does not match entries 0 to %llu (root "
				       "%s): an entry from %llu on was altered", (unsigned long long)rem.size, a,
				       (unsigned long long)rem.size - 1, b, (unsigned long long)good_size);
			goto out;
		}
		if (have_prev && prev.size >= rem.size) {
			r = rombsr_merkle_tree_consistency_proof(&s.tree, rem.size, prev.size, proof, &count);
			if (r == 0)
				r = rombsr_merkle_verify_consistency(rem.size, prev.size, rem.root, prev.root,
								     (const unsigned char (*)[32])proof, count);
			if (r < 0)
				goto out;
		}
	}
	rep->torn_bytes = s.torn;
	r = 0;
	if (log != NULL)
		r = reader_from_scan(dir, entries_path, cp_dir, &s, have_prev ? prev.size : ROMBSR_AUDIT_NO_INDEX, log);
out:
	free(sizes);
	free(entries_path);
	free(cp_dir);
	scan_free(&s);
	return r;
}

int rombsr_audit_verify_dir(const char *dir, const struct rombsr_note_verifier *const *trusted, size_t n_trusted,
			    const char *origin, const char *remembered, size_t remembered_len,
			    struct rombsr_audit_report *rep)
{
	return verify_dir(dir, trusted, n_trusted, origin, remembered, remembered_len, rep, NULL);
}

int rombsr_audit_verify_dir_open(const char *dir, const struct rombsr_note_verifier *const *trusted, size_t n_trusted,
				 const char *origin, const char *remembered, size_t remembered_len,
				 struct rombsr_audit_report *rep, struct rombsr_audit_log **log)
{
	*log = NULL;
	return verify_dir(dir, trusted, n_trusted, origin, remembered, remembered_len, rep, log);
}

void rombsr_audit_report_free(struct rombsr_audit_report *report)
{
	if (report == NULL)
		return;
	rombsr_buf_free(&report->latest_note);
}
