/* The log opened for appending (log.h): recovery of a torn tail on open,
 * durable appends, checkpoints, and reading entries and proofs back. */
#define _GNU_SOURCE /* flock */
#include "audit_internal.h"

#include "../common/error.h"
#include "../common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

int rombsr_audit_log_open(const char *dir, struct rombsr_audit_log **out)
{
	struct rombsr_audit_log *log;
	struct audit_scan s = {0};
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
	log->entries_path = audit_join(dir, ROMBSR_AUDIT_ENTRIES_FILE);
	log->cp_dir = audit_join(dir, ROMBSR_AUDIT_CHECKPOINTS_DIR);
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
	if ((r = audit_scan_entries(log->entries_path, &s)) < 0)
		goto out;
	if (s.bad != ROMBSR_AUDIT_NO_INDEX) {
		r = rombsr_error(ROMBSR_ESECURITY, "audit log %s is damaged, refusing to append: %s", dir, s.problem);
		goto out;
	}
	if ((r = audit_list_checkpoints(log->cp_dir, &sizes, &n_sizes)) < 0)
		goto out;
	for (size_t i = 0; i < n_sizes; i++) {
		unsigned char root[ROMBSR_MERKLE_HASH_LEN];
		struct rombsr_checkpoint cp;
		struct rombsr_buf note;

		if (sizes[i] > s.count) {
			r = rombsr_error(ROMBSR_ESECURITY, "audit log %s is damaged: checkpoint %llu covers entries past "
					 "the %llu complete ones", dir, (unsigned long long)sizes[i],
					 (unsigned long long)s.count);
			goto out;
		}
		r = audit_read_checkpoint(log->cp_dir, sizes[i], &note);
		if (r == 0)
			r = rombsr_checkpoint_parse_unverified((const char *)note.data, note.len, &cp);
		rombsr_buf_free(&note);
		if (r == 0 && cp.size != sizes[i])
			r = rombsr_error(ROMBSR_EINVAL, "its tree size is %llu", (unsigned long long)cp.size);
		if (r == 0)
			r = rombsr_merkle_tree_root(&s.tree, cp.size, root);
		if (r == 0 && memcmp(root, cp.root, sizeof(root)) != 0)
			r = rombsr_error(ROMBSR_ESECURITY, "its root does not match the entries");
		if (r < 0 && audit_could_not_check(r)) {
			r = rombsr_error_wrap(r, "audit log %s: checkpoint %llu", dir, (unsigned long long)sizes[i]);
			goto out;
		}
		if (r < 0) {
			/* A checkpoint that does not parse or match is damage. */
			r = rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "audit log %s is damaged: checkpoint %llu", dir,
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
	audit_scan_free(&s);
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
		r = audit_push_offset(&log->offsets, &log->offsets_alloc, base + i + 1, 0);
	if (r < 0)
		goto out;
	if (rombsr_write_all(log->fd, batch.data, batch.len) != 0 || (!log->defer_sync && fsync(log->fd) != 0)) {
		int saved = errno;

		if (ftruncate(log->fd, (off_t)old_len) != 0 || fsync(log->fd) != 0)
			log->broken = true;
		r = rombsr_error(ROMBSR_EIO, "cannot append to %s: %s", log->entries_path, strerror(saved));
		goto out;
	}
	log->unsynced = log->defer_sync;
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
	path = audit_cp_path(log->cp_dir, cp.size);
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
	return audit_read_checkpoint(log->cp_dir, log->latest_cp, note);
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

void rombsr_audit_log_defer_sync(struct rombsr_audit_log *log, bool defer)
{
	log->defer_sync = defer;
}

int rombsr_audit_log_sync(struct rombsr_audit_log *log)
{
	if (!log->unsynced)
		return 0;
	/* The tree holds the entries already: if they cannot be made durable,
	 * file and memory may disagree. */
	if (fsync(log->fd) != 0) {
		log->broken = true;
		return rombsr_error(ROMBSR_EIO, "cannot sync %s: %s", log->entries_path, strerror(errno));
	}
	log->unsynced = false;
	return 0;
}
