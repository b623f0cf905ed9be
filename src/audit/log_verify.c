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

/* Where verify_dir stands: the entries read, the checkpoints stored, and
 * how far the checkpoints verified so far vouch for the entries. */
struct verify {
	const struct rombsr_note_verifier *const *trusted;
	size_t n_trusted;
	const char *origin;
	struct rombsr_audit_report *rep;
	struct audit_scan s;
	uint64_t *sizes;               /* of the stored checkpoints, ascending */
	size_t n_sizes;
	bool have_prev;
	struct rombsr_checkpoint prev; /* the last checkpoint verified */
	uint64_t good_size;            /* entries it vouches for */
};

/* The stored checkpoint of tree size size: signed by a trusted key, within
 * the entries, its root the entries', consistent with the one before. It
 * becomes the report's latest. */
static int verify_checkpoint(struct verify *v, const char *cp_dir, uint64_t size)
{
	unsigned char proof[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN], root[ROMBSR_MERKLE_HASH_LEN];
	struct rombsr_audit_report *rep = v->rep;
	struct rombsr_checkpoint cp;
	struct rombsr_buf note;
	char want[65], got[65];
	size_t count;
	int r;

	r = audit_read_checkpoint(cp_dir, size, &note);
	if (r < 0 && audit_could_not_check(r)) {
		r = rombsr_error_wrap(r, "checkpoint %llu", (unsigned long long)size);
		goto out;
	}
	if (r < 0) {
		r = report_bad(rep, ROMBSR_ESECURITY, v->good_size, "checkpoint %llu: %s", (unsigned long long)size,
			       rombsr_error_message(r));
		goto out;
	}
	r = rombsr_checkpoint_open((const char *)note.data, note.len, v->trusted, v->n_trusted, v->origin, &cp);
	if (r == 0 && cp.size != size)
		r = rombsr_error(ROMBSR_ESECURITY, "the file name says size %llu, the note %llu", (unsigned long long)size,
				 (unsigned long long)cp.size);
	if (r < 0 && audit_could_not_check(r)) {
		r = rombsr_error_wrap(r, "checkpoint %llu", (unsigned long long)size);
		goto out;
	}
	if (r < 0) {
		r = report_bad(rep, ROMBSR_ESECURITY, v->good_size,
			       "checkpoint %llu is not valid (entries from %llu on are not vouched for): %s",
			       (unsigned long long)size, (unsigned long long)v->good_size, rombsr_error_message(r));
		goto out;
	}
	if (cp.size > v->s.count) {
		r = report_bad(rep, ROMBSR_ESECURITY, v->s.count,
			       "the log ends after %llu entries but checkpoint %llu covers more: entries %llu to "
			       "%llu are missing", (unsigned long long)v->s.count, (unsigned long long)cp.size,
			       (unsigned long long)v->s.count, (unsigned long long)cp.size - 1);
		goto out;
	}
	r = rombsr_merkle_tree_root(&v->s.tree, cp.size, root);
	if (r == 0 && memcmp(root, cp.root, sizeof(root)) != 0) {
		hex_root(cp.root, want);
		hex_root(root, got);
		r = report_bad(rep, ROMBSR_ESECURITY, v->good_size,
			       "checkpoint %llu signs root %s but entries 0 to %llu give %s: an entry from %llu "
			       "on was altered", (unsigned long long)cp.size, want, (unsigned long long)cp.size - 1,
			       got, (unsigned long long)v->good_size);
		goto out;
	}
	if (r == 0 && v->have_prev) {
		r = rombsr_merkle_tree_consistency_proof(&v->s.tree, v->prev.size, cp.size, proof, &count);
		if (r == 0)
			r = rombsr_merkle_verify_consistency(v->prev.size, cp.size, v->prev.root, cp.root,
							     (const unsigned char (*)[32])proof, count);
	}
	if (r == ROMBSR_ESECURITY) {
		r = report_bad(rep, r, v->good_size, "checkpoint %llu: %s", (unsigned long long)cp.size,
			       rombsr_error_message(r));
		goto out;
	}
	if (r < 0) {
		r = rombsr_error_wrap(r, "checkpoint %llu", (unsigned long long)cp.size);
		goto out;
	}
	v->prev = cp;
	v->have_prev = true;
	v->good_size = cp.size;
	rep->checkpoints++;
	rep->has_latest = true;
	rep->latest = cp;
	rombsr_buf_free(&rep->latest_note);
	rep->latest_note = note;
	rombsr_buf_init(&note, 0); /* the report holds it now */
out:
	rombsr_buf_free(&note);
	return r;
}

/* The remembered checkpoint rem disagrees with the entries, and a signed
 * checkpoint of this log at or past its size commits to them: a fork. Both
 * go into the report. */
static int report_fork(struct verify *v, const struct rombsr_checkpoint *rem)
{
	struct rombsr_audit_report *rep = v->rep;
	uint64_t other = v->sizes[0];
	char a[65], b[65];

	for (size_t i = 0; i < v->n_sizes; i++)
		if (v->sizes[i] >= rem->size) {
			other = v->sizes[i];
			break;
		}
	rep->fork = true;
	rep->fork_remembered = *rem;
	rep->fork_conflicting = *rem;
	rep->fork_conflicting.size = other;
	(void)rombsr_merkle_tree_root(&v->s.tree, other, rep->fork_conflicting.root);
	memcpy(rep->fork_conflicting.origin, v->prev.origin, sizeof(v->prev.origin));
	hex_root(rem->root, a);
	hex_root(rep->fork_conflicting.root, b);
	return report_bad(rep, ROMBSR_EFORK, ROMBSR_AUDIT_NO_INDEX,
			  "fork: remembered checkpoint %s@%llu root %s is inconsistent with signed checkpoint "
			  "%s@%llu root %s", rem->origin, (unsigned long long)rem->size, a, rep->fork_conflicting.origin,
			  (unsigned long long)other, b);
}

/* The checkpoint accepted on an earlier run: the entries still hold the
 * tree it signed, and the newest checkpoint extends it. */
static int check_remembered(struct verify *v, const struct rombsr_checkpoint *rem)
{
	unsigned char proof[ROMBSR_MERKLE_MAX_PROOF][ROMBSR_MERKLE_HASH_LEN], root[ROMBSR_MERKLE_HASH_LEN];
	char a[65], b[65];
	size_t count;
	int r;

	if (rem->size > v->s.count)
		return report_bad(v->rep, ROMBSR_ESECURITY, v->s.count,
				  "the log has %llu entries but a checkpoint of size %llu was accepted before: "
				  "entries were removed, or this copy is out of date", (unsigned long long)v->s.count,
				  (unsigned long long)rem->size);
	if ((r = rombsr_merkle_tree_root(&v->s.tree, rem->size, root)) < 0)
		return r;
	if (memcmp(root, rem->root, sizeof(root)) != 0) {
		/* A signed checkpoint of this log commits to a different tree
		 * at the remembered size. */
		if (v->have_prev && v->prev.size >= rem->size)
			return report_fork(v, rem);
		hex_root(rem->root, a);
		hex_root(root, b);
		return report_bad(v->rep, ROMBSR_ESECURITY, v->good_size,
				  "the remembered checkpoint %llu (root %s) does not match entries 0 to %llu (root "
				  "%s): an entry from %llu on was altered", (unsigned long long)rem->size, a,
				  (unsigned long long)rem->size - 1, b, (unsigned long long)v->good_size);
	}
	if (!v->have_prev || v->prev.size < rem->size)
		return 0;
	r = rombsr_merkle_tree_consistency_proof(&v->s.tree, rem->size, v->prev.size, proof, &count);
	if (r == 0)
		r = rombsr_merkle_verify_consistency(rem->size, v->prev.size, rem->root, v->prev.root,
						     (const unsigned char (*)[32])proof, count);
	if (r == ROMBSR_ESECURITY)
		return report_bad(v->rep, r, v->good_size, "the remembered checkpoint %llu: %s",
				  (unsigned long long)rem->size, rombsr_error_message(r));
	return r;
}

static int verify_dir(const char *dir, const struct rombsr_note_verifier *const *trusted, size_t n_trusted,
		      const char *origin, const char *remembered, size_t remembered_len,
		      struct rombsr_audit_report *rep, struct rombsr_audit_log **log)
{
	struct verify v = {.trusted = trusted, .n_trusted = n_trusted, .origin = origin, .rep = rep};
	char *entries_path = audit_join(dir, ROMBSR_AUDIT_ENTRIES_FILE);
	char *cp_dir = audit_join(dir, ROMBSR_AUDIT_CHECKPOINTS_DIR);
	struct rombsr_checkpoint rem;
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
		if (r == ROMBSR_ESECURITY) {
			r = report_bad(rep, r, ROMBSR_AUDIT_NO_INDEX, "the remembered checkpoint: %s",
				       rombsr_error_message(r));
			goto out;
		}
		if (r < 0) {
			r = rombsr_error_wrap(r, "the remembered checkpoint");
			goto out;
		}
	}
	if ((r = audit_scan_entries(entries_path, &v.s)) < 0)
		goto out;
	rep->entries = v.s.count;
	if (v.s.bad != ROMBSR_AUDIT_NO_INDEX) {
		r = report_bad(rep, ROMBSR_ESECURITY, v.s.bad, "%s", v.s.problem);
		goto out;
	}
	if ((r = audit_list_checkpoints(cp_dir, &v.sizes, &v.n_sizes)) < 0) {
		if (!audit_could_not_check(r))
			r = report_bad(rep, ROMBSR_ESECURITY, 0, "%s", rombsr_error_message(r));
		goto out;
	}
	for (size_t i = 0; i < v.n_sizes; i++)
		if ((r = verify_checkpoint(&v, cp_dir, v.sizes[i])) < 0)
			goto out;
	if (remembered != NULL && (r = check_remembered(&v, &rem)) < 0)
		goto out;
	rep->torn_bytes = v.s.torn;
	r = 0;
	if (log != NULL)
		r = reader_from_scan(dir, entries_path, cp_dir, &v.s, v.have_prev ? v.prev.size : ROMBSR_AUDIT_NO_INDEX,
				     log);
out:
	free(v.sizes);
	free(entries_path);
	free(cp_dir);
	audit_scan_free(&v.s);
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
