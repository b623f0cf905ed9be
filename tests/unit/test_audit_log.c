/* The audit log on disk: append, checkpoints, crash recovery, proofs, and
 * tamper detection naming the first bad entry. */
#include "tap.h"
#include "test_audit_key.h"

#include "../../src/audit/log.h"
#include "../../src/common/error.h"
#include "../../src/common/fsutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ORIGIN "rombsr.example/audit"

static struct test_key key, other;
static struct rombsr_note_verifier *ver;
static char base_dir[256];

static void make_entry(uint64_t i, struct rombsr_audit_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->type = ROMBSR_AUDIT_SIGNATURE;
	e->time = 1718000000 + i;
	snprintf(e->request_id, sizeof(e->request_id), "req-%llu", (unsigned long long)i / 3);
	strcpy(e->request_commit, "3f786850e387550fdab836ed7e6dc881de23001b");
	snprintf(e->artifact_sha256, sizeof(e->artifact_sha256), "%064llx", (unsigned long long)i + 1000);
	strcpy(e->key_fingerprint, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
	strcpy(e->key_label, "platform");
	strcpy(e->mechanism, "ecdsa-sha256");
	snprintf(e->digest, sizeof(e->digest), "%064llx", (unsigned long long)i);
	snprintf(e->signature_sha256, sizeof(e->signature_sha256), "%064llx", (unsigned long long)i * 7);
}

static struct rombsr_note_signer signer_for(struct test_key *k)
{
	struct rombsr_note_signer s = {ORIGIN, k->spki, k->spki_len, test_key_sign, k};

	return s;
}

static int append_range(struct rombsr_audit_log *log, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		struct rombsr_audit_entry e;
		uint64_t index;

		make_entry(i, &e);
		if (rombsr_audit_log_append(log, &e, &index) < 0 || index != i)
			return -1;
	}
	return 0;
}

static int checkpoint(struct rombsr_audit_log *log, struct test_key *k)
{
	struct rombsr_note_signer s = signer_for(k);
	struct rombsr_buf note;
	int r = rombsr_audit_log_checkpoint(log, ORIGIN, &s, &note);

	rombsr_buf_free(&note);
	return r;
}

static void copy_dir(const char *from, char *to, size_t cap)
{
	char cmd[1024];

	snprintf(to, cap, "/tmp/rombsr-audit-test.XXXXXX");
	if (mkdtemp(to) == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "cp -r '%s/.' '%s/'", from, to);
	if (system(cmd) != 0)
		CHECK(0, "copy %s", from);
}

static char *path_in(const char *dir, const char *name)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* The entries file as lines (each keeps its newline). */
static size_t read_lines(const char *dir, char ***lines)
{
	struct rombsr_buf b;
	size_t n = 0;
	char *p;

	*lines = NULL;
	if (rombsr_file_read(path_in(dir, "entries"), 1 << 26, &b) < 0)
		return 0;
	*lines = calloc(b.len + 1, sizeof(char *));
	p = (char *)b.data;
	while (p != NULL && *p != '\0') {
		char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);

		(*lines)[n] = strndup(p, len);
		n++;
		p += len;
	}
	rombsr_buf_free(&b);
	return n;
}

static void write_lines(const char *dir, char **lines, size_t n)
{
	FILE *f = fopen(path_in(dir, "entries"), "w");

	for (size_t i = 0; f != NULL && i < n; i++)
		if (lines[i] != NULL)
			fputs(lines[i], f);
	if (f != NULL)
		fclose(f);
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static int verify(const char *dir, const char *remembered, struct rombsr_audit_report *rep)
{
	const struct rombsr_note_verifier *trusted[] = {ver};

	return rombsr_audit_verify_dir(dir, trusted, 1, ORIGIN, remembered, remembered ? strlen(remembered) : 0, rep);
}

static char *read_cp(const char *dir, uint64_t size)
{
	char name[64];
	struct rombsr_buf b;
	char *s;

	snprintf(name, sizeof(name), "checkpoints/%020llu", (unsigned long long)size);
	if (rombsr_file_read(path_in(dir, name), 1 << 16, &b) < 0)
		return NULL;
	s = strdup(rombsr_buf_cstr(&b));
	rombsr_buf_free(&b);
	return s;
}

/* Builds the base log in base_dir: 40 entries, checkpoints at 10, 20,
 * 30, 40; a second writer and an entry dated too early are refused. */
static struct rombsr_audit_log *build_log(void)
{
	struct rombsr_audit_log *log = NULL, *second = NULL;
	struct rombsr_audit_entry batch[5], e;
	uint64_t first = 0, index = 0;
	int ok = 1;

	CHECK(rombsr_audit_log_open(path_in(base_dir, "log"), &log) == 0 && rombsr_audit_log_size(log) == 0,
	      "a new log is created empty");
	memmove(base_dir + 0, base_dir, strlen(base_dir) + 1);
	strcat(base_dir, "/log");
	CHECK(rombsr_audit_log_open(base_dir, &second) == ROMBSR_EPERM && second == NULL,
	      "a second writer is refused: %s", rombsr_error_message(ROMBSR_EPERM));
	for (uint64_t c = 10; c <= 30; c += 10)
		ok &= append_range(log, c - 10, c) == 0 && checkpoint(log, &key) == 0;
	CHECK(ok && key.calls == 3, "30 entries with checkpoints at 10, 20, 30");
	for (int i = 0; i < 5; i++)
		make_entry(30 + (uint64_t)i, &batch[i]);
	CHECK(rombsr_audit_log_append_batch(log, batch, 5, &first) == 0 && first == 30 && batch[4].index == 34,
	      "a batch of 5 appended with one fsync");
	CHECK(append_range(log, 35, 40) == 0 && checkpoint(log, &key) == 0 && rombsr_audit_log_size(log) == 40,
	      "40 entries, checkpoint at 40");
	make_entry(1, &e);
	CHECK(rombsr_audit_log_append(log, &e, &index) == ROMBSR_EINVAL && rombsr_audit_log_size(log) == 40,
	      "an entry dated before the previous one is refused: %s", rombsr_error_message(ROMBSR_EINVAL));
	return log;
}

/* note gets the latest checkpoint, cp its parse. */
static void check_latest_checkpoint(struct rombsr_audit_log *log, struct rombsr_buf *note, struct rombsr_checkpoint *cp)
{
	struct rombsr_note_signer s = signer_for(&key);
	struct rombsr_buf again;

	CHECK(rombsr_audit_log_latest_checkpoint(log, note) == 0 &&
		      rombsr_checkpoint_parse_unverified((const char *)note->data, note->len, cp) == 0 && cp->size == 40,
	      "latest checkpoint is at 40");
	CHECK(rombsr_audit_log_checkpoint(log, ORIGIN, &s, &again) == 0 && again.len == note->len &&
		      memcmp(again.data, note->data, note->len) == 0 && key.calls == 4,
	      "checkpoint at an already signed size returns the stored one unsigned again");
	rombsr_buf_free(&again);
}

/* Against a checkpoint the caller verified already (cp): the same result
 * without the signature check, only for that very note. */
static void check_proof_known(const struct rombsr_buf *proof, const struct rombsr_buf *entry,
			      const struct rombsr_buf *e16, const struct rombsr_buf *note,
			      const struct rombsr_checkpoint *cp)
{
	struct rombsr_checkpoint known = *cp, got;
	const char *pn;
	size_t pn_len;
	uint64_t index = 0;

	CHECK(rombsr_audit_proof_note((const char *)proof->data, proof->len, &pn, &pn_len) == 0 &&
		      pn_len == note->len && memcmp(pn, note->data, note->len) == 0,
	      "the proof's checkpoint note is found");
	CHECK(rombsr_audit_proof_verify_known((const char *)proof->data, proof->len, (const char *)entry->data,
					      entry->len, (const char *)note->data, note->len, &known, &got,
					      &index) == 0 &&
		      index == 17 && got.size == 40,
	      "verified against the known checkpoint");
	CHECK(rombsr_audit_proof_verify_known((const char *)proof->data, proof->len, (const char *)e16->data,
					      e16->len, (const char *)note->data, note->len, &known, &got,
					      &index) == ROMBSR_ESECURITY,
	      "not for another entry");
	CHECK(rombsr_audit_proof_verify_known((const char *)proof->data, proof->len, (const char *)entry->data,
					      entry->len, (const char *)note->data, note->len - 1, &known, &got,
					      &index) == ROMBSR_ENOTFOUND,
	      "a proof with another checkpoint is not checked against the known one");
}

/* Inclusion proof in the C2SP tlog-proof format, against the checkpoint
 * note; cp is where the verifications put the checkpoint they read. */
static void check_proof(struct rombsr_audit_log *log, const struct rombsr_buf *note, struct rombsr_checkpoint *cp)
{
	const struct rombsr_note_verifier *trusted[] = {ver};
	struct rombsr_buf proof, entry, e16;
	uint64_t index = 0;
	char *bad, *hash;
	int r;

	CHECK(rombsr_audit_log_proof(log, 17, (const char *)note->data, note->len, &proof) == 0 &&
		      strncmp((const char *)proof.data, "c2sp.org/tlog-proof@v1\nindex 17\n", 32) == 0,
	      "tlog-proof for entry 17");
	CHECK(rombsr_audit_log_entry(log, 17, &entry) == 0 && strstr((const char *)entry.data, "\"index\":17,") != NULL,
	      "entry 17 read back");
	bad = strndup((const char *)proof.data, proof.len);
	hash = strstr(bad, "index 17\n") + 9;
	r = rombsr_audit_proof_verify((const char *)proof.data, proof.len, (const char *)entry.data, entry.len, trusted,
				      1, ORIGIN, cp, &index);
	CHECK(r == 0 && index == 17 && cp->size == 40, "a third party verifies the proof (%s)",
	      r == 0 ? "ok" : rombsr_error_message(r));
	rombsr_audit_log_entry(log, 16, &e16);
	CHECK(rombsr_audit_proof_verify((const char *)proof.data, proof.len, (const char *)e16.data, e16.len, trusted,
					1, ORIGIN, cp, &index) == ROMBSR_ESECURITY,
	      "the proof does not verify another entry");
	check_proof_known(&proof, &entry, &e16, note, cp);
	hash[0] = hash[0] == 'A' ? 'B' : 'A';
	CHECK(rombsr_audit_proof_verify(bad, proof.len, (const char *)entry.data, entry.len, trusted, 1, ORIGIN, cp,
					&index) != 0,
	      "an altered proof hash does not verify");
	{
		struct rombsr_checkpoint known = *cp, got;

		CHECK(rombsr_audit_proof_verify_known(bad, proof.len, (const char *)entry.data, entry.len,
						      (const char *)note->data, note->len, &known, &got,
						      &index) == ROMBSR_ESECURITY,
		      "nor an altered hash against the known checkpoint");
	}
	free(bad);
	rombsr_buf_free(&e16);
	rombsr_buf_free(&proof);
	rombsr_buf_free(&entry);
}

/* rombsr_audit_verify_dir_open() hands out the log it verified, for
 * reading only. */
static void check_verified_reader(void)
{
	const struct rombsr_note_verifier *trusted[] = {ver};
	struct rombsr_audit_report rep3;
	struct rombsr_audit_log *reader = NULL;
	struct rombsr_audit_entry e;
	struct rombsr_note_signer sg = signer_for(&key);
	struct rombsr_buf line, n2;
	unsigned char root[32];
	uint64_t index = 0;
	int r;

	r = rombsr_audit_verify_dir_open(base_dir, trusted, 1, ORIGIN, NULL, 0, &rep3, &reader);
	CHECK(r == 0 && reader != NULL && rombsr_audit_log_size(reader) == 40 && rep3.checkpoints == 4,
	      "verify_dir_open: the verified log, 40 entries");
	CHECK(reader != NULL && rombsr_audit_log_root(reader, 40, root) == 0 && memcmp(root, rep3.latest.root, 32) == 0 &&
		      rombsr_audit_log_entry(reader, 39, &line) == 0 &&
		      strstr((const char *)line.data, "\"index\":39,") != NULL,
	      "its root is the checkpoint's, its entries readable");
	if (reader != NULL)
		rombsr_buf_free(&line);
	make_entry(40, &e);
	CHECK(reader != NULL && rombsr_audit_log_append(reader, &e, &index) == ROMBSR_EPERM &&
		      rombsr_audit_log_size(reader) == 40,
	      "appending to it is refused: %s", rombsr_error_message(ROMBSR_EPERM));
	CHECK(reader != NULL && rombsr_audit_log_checkpoint(reader, ORIGIN, &sg, &n2) == ROMBSR_EPERM,
	      "so is signing a checkpoint with it");
	rombsr_buf_free(&n2);
	rombsr_audit_log_close(reader);
	rombsr_audit_report_free(&rep3);
}

static void check_verify_dir(void)
{
	struct rombsr_audit_report rep, rep2;
	char *cp20;
	int r;

	r = verify(base_dir, NULL, &rep);
	CHECK(r == 0 && rep.entries == 40 && rep.checkpoints == 4 && rep.has_latest &&
		      rep.latest.size == 40 && rep.first_bad_index == ROMBSR_AUDIT_NO_INDEX,
	      "the log verifies: %llu entries, %llu checkpoints", (unsigned long long)rep.entries,
	      (unsigned long long)rep.checkpoints);
	check_verified_reader();
	cp20 = read_cp(base_dir, 20);
	CHECK(cp20 != NULL && verify(base_dir, cp20, &rep2) == 0, "consistent with a remembered checkpoint at 20");
	rombsr_audit_report_free(&rep2);
	free(cp20);
	rombsr_audit_report_free(&rep);
}

static void test_build_and_verify(void)
{
	struct rombsr_audit_log *log;
	struct rombsr_buf note;
	struct rombsr_checkpoint cp;

	snprintf(base_dir, sizeof(base_dir), "/tmp/rombsr-audit-test.XXXXXX");
	if (mkdtemp(base_dir) == NULL)
		return;
	log = build_log();
	check_latest_checkpoint(log, &note, &cp);
	check_proof(log, &note, &cp);
	rombsr_buf_free(&note);
	rombsr_audit_log_close(log);
	check_verify_dir();
	CHECK(rombsr_audit_log_open(base_dir, &log) == 0 && rombsr_audit_log_size(log) == 40 &&
		      rombsr_audit_log_recovered_bytes(log) == 0,
	      "reopens with 40 entries");
	rombsr_audit_log_close(log);
}

static void test_torn_tail(void)
{
	struct rombsr_audit_log *log = NULL;
	struct rombsr_audit_report rep;
	char dir[256];
	FILE *f;
	int r;

	copy_dir(base_dir, dir, sizeof(dir));
	f = fopen(path_in(dir, "entries"), "a");
	fputs("{\"artifact_sha256\":\"00", f);
	fclose(f);
	r = verify(dir, NULL, &rep);
	CHECK(r == 0 && rep.torn_bytes == 22 && rep.entries == 40,
	      "a torn last line no checkpoint covers is tolerated by the verifier (%llu bytes)",
	      (unsigned long long)rep.torn_bytes);
	rombsr_audit_report_free(&rep);
	CHECK(rombsr_audit_log_open(dir, &log) == 0 && rombsr_audit_log_recovered_bytes(log) == 22 &&
		      rombsr_audit_log_size(log) == 40,
	      "open for append cuts the torn line");
	CHECK(append_range(log, 40, 41) == 0, "and appending goes on after it");
	rombsr_audit_log_close(log);
	CHECK(verify(dir, NULL, &rep) == 0 && rep.torn_bytes == 0 && rep.entries == 41, "recovered log verifies");
	rombsr_audit_report_free(&rep);
	rombsr_remove_tree(dir);

	/* A torn line that a checkpoint covers is damage, not a crash. */
	{
		char **lines;
		size_t n;

		copy_dir(base_dir, dir, sizeof(dir));
		n = read_lines(dir, &lines);
		lines[39][strlen(lines[39]) - 10] = '\0';
		write_lines(dir, lines, n);
		free_lines(lines, n);
		log = NULL;
		CHECK(rombsr_audit_log_open(dir, &log) == ROMBSR_ESECURITY && log == NULL,
		      "a torn line under a checkpoint is not cut: %s", rombsr_error_message(ROMBSR_ESECURITY));
		CHECK(verify(dir, NULL, &rep) == ROMBSR_ESECURITY && rep.first_bad_index == 39,
		      "verifier names entry 39: %s", rep.problem);
		rombsr_audit_report_free(&rep);
		rombsr_remove_tree(dir);
	}
}

/* Applies an edit to a copy of the base log and checks the verdict. */
static void tamper(const char *what, void (*edit)(char **lines, size_t *n), int want_code, uint64_t want_bad,
		   const char *want_text)
{
	struct rombsr_audit_report rep;
	char dir[256], **lines;
	size_t n;
	int r;

	copy_dir(base_dir, dir, sizeof(dir));
	n = read_lines(dir, &lines);
	edit(lines, &n);
	write_lines(dir, lines, n);
	free_lines(lines, n > 41 ? n : 41);
	r = verify(dir, NULL, &rep);
	CHECK(r == want_code && rep.first_bad_index == want_bad && strstr(rep.problem, want_text) != NULL,
	      "%s: detected, first bad entry %llu: %s", what, (unsigned long long)rep.first_bad_index, rep.problem);
	rombsr_audit_report_free(&rep);
	rombsr_remove_tree(dir);
}

static void edit_digest(char **l, size_t *n)
{
	char *d = strstr(l[25], "\"digest\":\"") + 10;

	(void)n;
	d[0] = d[0] == 'a' ? 'b' : 'a';
}

static void edit_prev(char **l, size_t *n)
{
	char *d = strstr(l[25], "\"prev\":\"") + 8;

	(void)n;
	d[5] = d[5] == 'a' ? 'b' : 'a';
}

static void edit_whitespace(char **l, size_t *n)
{
	char *s = malloc(strlen(l[12]) + 2);

	(void)n;
	s[0] = '{';
	s[1] = ' ';
	strcpy(s + 2, l[12] + 1);
	free(l[12]);
	l[12] = s;
}

static void delete_25(char **l, size_t *n)
{
	free(l[25]);
	memmove(&l[25], &l[26], (*n - 26) * sizeof(char *));
	(*n)--;
	l[*n] = NULL;
}

static void swap_25_26(char **l, size_t *n)
{
	char *t = l[25];

	(void)n;
	l[25] = l[26];
	l[26] = t;
}

static void duplicate_25(char **l, size_t *n)
{
	l[*n] = l[*n - 1];
	memmove(&l[26], &l[25], (*n - 25) * sizeof(char *));
	l[25] = strdup(l[26]);
	(*n)++;
}

static void truncate_35(char **l, size_t *n)
{
	for (size_t i = 35; i < *n; i++) {
		free(l[i]);
		l[i] = NULL;
	}
	*n = 35;
}

static void edit_last(char **l, size_t *n)
{
	char *d = strstr(l[*n - 1], "\"digest\":\"") + 10;

	d[0] = d[0] == 'a' ? 'b' : 'a';
}

static void test_tamper(void)
{
	tamper("entry 25 edited", edit_digest, ROMBSR_ESECURITY, 25, "entry 25 was altered");
	tamper("entry 25's link edited", edit_prev, ROMBSR_ESECURITY, 25, "entry 25 was altered");
	tamper("entry 12 made non-canonical", edit_whitespace, ROMBSR_ESECURITY, 12, "canonical");
	tamper("entry 25 deleted", delete_25, ROMBSR_ESECURITY, 25, "has index 26");
	tamper("entries 25 and 26 swapped", swap_25_26, ROMBSR_ESECURITY, 25, "has index 26");
	tamper("entry 25 duplicated", duplicate_25, ROMBSR_ESECURITY, 26, "has index 25");
	tamper("log truncated to 35 entries", truncate_35, ROMBSR_ESECURITY, 35, "entries 35 to 39 are missing");
	tamper("last entry edited (no later link)", edit_last, ROMBSR_ESECURITY, 30, "checkpoint 40 signs root");
}

static void test_resigned(void)
{
	struct rombsr_audit_log *log = NULL;
	struct rombsr_audit_report rep;
	char dir[256], **lines;
	size_t n;

	/* The attacker rewrites entries 33..39 consistently (new links) and
	 * signs a new checkpoint 40 with their own key under the log's name. */
	copy_dir(base_dir, dir, sizeof(dir));
	n = read_lines(dir, &lines);
	for (size_t i = 33; i < n; i++) {
		free(lines[i]);
		lines[i] = NULL;
	}
	write_lines(dir, lines, 33);
	free_lines(lines, n);
	unlink(path_in(dir, "checkpoints/00000000000000000040"));
	CHECK(rombsr_audit_log_open(dir, &log) == 0, "attacker reopens the shortened log");
	{
		struct rombsr_audit_entry e;
		uint64_t index;

		for (uint64_t i = 33; i < 40; i++) {
			make_entry(i, &e);
			strcpy(e.key_label, "forged");
			rombsr_audit_log_append(log, &e, &index);
		}
	}
	CHECK(checkpoint(log, &other) == 0, "attacker signs checkpoint 40 with another key");
	rombsr_audit_log_close(log);
	CHECK(verify(dir, NULL, &rep) == ROMBSR_ESECURITY && rep.first_bad_index == 30 &&
		      strstr(rep.problem, "no signature from a trusted key") != NULL && rep.checkpoints == 3,
	      "checkpoint re-signed by another key: detected, entries from 30 on not vouched for: %s", rep.problem);
	rombsr_audit_report_free(&rep);
	rombsr_remove_tree(dir);
}

static void test_fork(void)
{
	struct rombsr_audit_log *log = NULL;
	struct rombsr_audit_report rep;
	char dir[256], **lines, *remembered = read_cp(base_dir, 40);
	size_t n;

	/* The log operator (holding the real key) rewrites history from 30. */
	copy_dir(base_dir, dir, sizeof(dir));
	n = read_lines(dir, &lines);
	write_lines(dir, lines, 30);
	free_lines(lines, n);
	unlink(path_in(dir, "checkpoints/00000000000000000040"));
	CHECK(rombsr_audit_log_open(dir, &log) == 0, "forked log reopened at 30");
	{
		struct rombsr_audit_entry e;
		uint64_t index;

		for (uint64_t i = 30; i < 40; i++) {
			make_entry(i, &e);
			strcpy(e.key_label, "other-history");
			rombsr_audit_log_append(log, &e, &index);
		}
	}
	CHECK(checkpoint(log, &key) == 0, "fork signed with the real key at 40");
	CHECK(verify(dir, NULL, &rep) == 0, "without memory, the fork alone verifies");
	rombsr_audit_report_free(&rep);
	CHECK(verify(dir, remembered, &rep) == ROMBSR_EFORK && rep.fork && rep.fork_remembered.size == 40 &&
		      rep.fork_conflicting.size == 40 &&
		      memcmp(rep.fork_remembered.root, rep.fork_conflicting.root, 32) != 0,
	      "same size, different root: fork reported with both checkpoints: %s", rep.problem);
	rombsr_audit_report_free(&rep);

	/* Grow the fork and drop its checkpoint at 40: a newer inconsistent one. */
	{
		uint64_t index;
		struct rombsr_audit_entry e;

		for (uint64_t i = 40; i < 50; i++) {
			make_entry(i, &e);
			rombsr_audit_log_append(log, &e, &index);
		}
	}
	CHECK(checkpoint(log, &key) == 0, "fork checkpoint at 50");
	rombsr_audit_log_close(log);
	unlink(path_in(dir, "checkpoints/00000000000000000040"));
	CHECK(verify(dir, remembered, &rep) == ROMBSR_EFORK && rep.fork_conflicting.size == 50,
	      "newer checkpoint inconsistent with the remembered one: fork: %s", rep.problem);
	rombsr_audit_report_free(&rep);
	rombsr_remove_tree(dir);

	/* Rolled back (or stale) copy. */
	copy_dir(base_dir, dir, sizeof(dir));
	n = read_lines(dir, &lines);
	write_lines(dir, lines, 30);
	free_lines(lines, n);
	unlink(path_in(dir, "checkpoints/00000000000000000040"));
	CHECK(verify(dir, remembered, &rep) == ROMBSR_ESECURITY && rep.first_bad_index == 30 &&
		      strstr(rep.problem, "out of date") != NULL,
	      "log shorter than the remembered checkpoint: reported: %s", rep.problem);
	rombsr_audit_report_free(&rep);
	rombsr_remove_tree(dir);
	free(remembered);
}

static void test_misc(void)
{
	struct rombsr_audit_report rep;
	char dir[256];
	FILE *f;

	CHECK(verify("/tmp/rombsr-audit-no-such-dir", NULL, &rep) == ROMBSR_ENOTFOUND, "missing log: not found");
	rombsr_audit_report_free(&rep);
	copy_dir(base_dir, dir, sizeof(dir));
	f = fopen(path_in(dir, "checkpoints/stray"), "w");
	fclose(f);
	CHECK(verify(dir, NULL, &rep) == ROMBSR_ESECURITY && strstr(rep.problem, "unexpected file") != NULL,
	      "unexpected file among checkpoints refused: %s", rep.problem);
	rombsr_audit_report_free(&rep);
	unlink(path_in(dir, "checkpoints/stray"));
	f = fopen(path_in(dir, "checkpoints/00000000000000000040.tmp-abcdef"), "w");
	fclose(f);
	CHECK(verify(dir, NULL, &rep) == 0, "leftover of an interrupted atomic write is ignored");
	rombsr_audit_report_free(&rep);
	rombsr_remove_tree(dir);
}

int main(void)
{
	if (test_key_new(&key) != 0 || test_key_new(&other) != 0 ||
	    rombsr_note_verifier_from_spki(ORIGIN, key.spki, key.spki_len, &ver) != 0) {
		CHECK(0, "test keys");
		return tap_done();
	}
	test_build_and_verify();
	test_torn_tail();
	test_tamper();
	test_resigned();
	test_fork();
	test_misc();
	{
		char top[256];

		snprintf(top, sizeof(top), "%s", base_dir);
		*strrchr(top, '/') = '\0';
		rombsr_remove_tree(top);
	}
	rombsr_note_verifier_free(ver);
	test_key_free(&key);
	test_key_free(&other);
	return tap_done();
}
