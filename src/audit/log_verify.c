/* Verifying a log folder from scratch (rombsr_audit_verify_dir): entries,
 * checkpoints, and a checkpoint remembered from an earlier run. */
#define _GNU_SOURCE /* O_CLOEXEC, O_NOFOLLOW */
#include "audit_internal.h"

#include "../common/error.h"
#include "../common/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
static int reader_from_scan(const char *dir, const char *entries_path, const char *cp_dir, struct audit_scan *s,
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
	char *entries_path = audit_join(dir, ROMBSR_AUDIT_ENTRIES_FILE), *cp_dir = audit_join(dir, ROMBSR_AUDIT_CHECKPOINTS_DIR);
	struct audit_scan s = {0};
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
	if ((r = audit_scan_entries(entries_path, &s)) < 0)
		goto out;
	rep->entries = s.count;
	if (s.bad != ROMBSR_AUDIT_NO_INDEX) {
		r = report_bad(rep, ROMBSR_ECRYPTO, s.bad, "%s", s.problem);
		goto out;
	}
	if ((r = audit_list_checkpoints(cp_dir, &sizes, &n_sizes)) < 0) {
		r = report_bad(rep, ROMBSR_ECRYPTO, 0, "%s", rombsr_error_message(r));
		goto out;
	}
	for (size_t i = 0; i < n_sizes; i++) {
		struct rombsr_checkpoint cp;
		struct rombsr_buf note;
		char want[65], got[65];

		r = audit_read_checkpoint(cp_dir, sizes[i], &note);
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
	audit_scan_free(&s);
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
