/* Audit log bench: builds a log of N entries (default 100,000) with a
 * checkpoint every 1,000, measures the cost of one durable append at about
 * 1k, 10k and 100k entries (it must not grow with the log) and the time of a
 * full verification from the files (goal < 10 s for 100,000 entries).
 * Usage: audit_verify [N] [FOLDER] */
#include "../src/audit/log.h"
#include "../src/common/error.h"
#include "../src/common/fsutil.h"
#include "../tests/unit/test_audit_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ORIGIN "rombsr.example/bench"
#define SAMPLES 200
#define BATCH 100
#define CP_EVERY 1000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_entry(uint64_t i, struct rombsr_audit_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->type = ROMBSR_AUDIT_SIGNATURE;
	snprintf(e->request_id, sizeof(e->request_id), "req-%llu", (unsigned long long)i / 4);
	strcpy(e->request_commit, "3f786850e387550fdab836ed7e6dc881de23001b");
	snprintf(e->artifact_sha256, sizeof(e->artifact_sha256), "%064llx", (unsigned long long)i * 31 + 7);
	strcpy(e->key_fingerprint, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
	strcpy(e->key_label, "platform");
	strcpy(e->mechanism, "rsa-pkcs1-sha256");
	snprintf(e->digest, sizeof(e->digest), "%064llx", (unsigned long long)i);
	snprintf(e->signature_sha256, sizeof(e->signature_sha256), "%064llx", (unsigned long long)i * 131);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct point {
	uint64_t size;
	double median_us, mean_us, tree_us;
};

/* SAMPLES single durable appends (encode, write, fsync, tree), each timed. */
static int measure(struct rombsr_audit_log *log, uint64_t *next, struct point *pt)
{
	double t[SAMPLES], sum = 0;

	for (int i = 0; i < SAMPLES; i++) {
		struct rombsr_audit_entry e;
		uint64_t index;
		double t0;

		make_entry(*next, &e);
		t0 = now();
		if (rombsr_audit_log_append(log, &e, &index) < 0)
			return -1;
		t[i] = (now() - t0) * 1e6;
		sum += t[i];
		(*next)++;
	}
	qsort(t, SAMPLES, sizeof(double), cmp_double);
	pt->size = *next;
	pt->median_us = t[SAMPLES / 2];
	pt->mean_us = sum / SAMPLES;
	return 0;
}

/* CPU cost of the Merkle part alone (append + root, what every append
 * followed by a checkpoint or proof needs) at each target size, on one
 * growing in-memory tree: best of 5 blocks of 2,000 operations, so that a
 * busy neighbour on the machine does not show up as growth. */
static void merkle_points(struct point *pts, int n_pts)
{
	struct rombsr_merkle_tree t;
	unsigned char h[32] = {1}, root[32];

	rombsr_merkle_tree_init(&t);
	for (int p = 0; p < n_pts; p++) {
		double best = 1e9;

		while (t.size < pts[p].size) {
			h[0] = (unsigned char)t.size;
			h[1] = (unsigned char)(t.size >> 8);
			rombsr_merkle_tree_append(&t, h);
		}
		for (int round = 0; round < 5; round++) {
			double t0 = now(), dt;

			for (int i = 0; i < 2000; i++) {
				h[2] = (unsigned char)i;
				rombsr_merkle_tree_append(&t, h);
				rombsr_merkle_tree_root(&t, t.size, root);
			}
			dt = (now() - t0) / 2000 * 1e6;
			if (dt < best)
				best = dt;
		}
		pts[p].tree_us = best;
	}
	rombsr_merkle_tree_free(&t);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000, next = 0;
	uint64_t targets[3] = {1000, 10000, 100000};
	struct point pts[3];
	int n_pts = 0, r = 1, e = 0;
	char tmp[256], dir[300];
	struct rombsr_audit_log *log = NULL;
	struct test_key key;
	struct rombsr_note_signer signer;
	struct rombsr_note_verifier *ver = NULL;
	struct rombsr_audit_report rep;
	double t0, build_s, verify_s;

	if (n < 1000) {
		fprintf(stderr, "audit_verify: N must be at least 1000\n");
		return 2;
	}
	if (argc > 2) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		tmp[0] = '\0';
	} else {
		snprintf(tmp, sizeof(tmp), "/tmp/rombsr-audit-bench.XXXXXX");
		if (mkdtemp(tmp) == NULL)
			return 1;
		snprintf(dir, sizeof(dir), "%s/log", tmp);
	}
	if (test_key_new(&key) != 0 || rombsr_note_verifier_from_spki(ORIGIN, key.spki, key.spki_len, &ver) < 0)
		goto out;
	signer = (struct rombsr_note_signer){ORIGIN, key.spki, key.spki_len, test_key_sign, &key};
	if ((e = rombsr_audit_log_open(dir, &log)) < 0) {
		fprintf(stderr, "audit_verify: %s\n", rombsr_error_message(e));
		goto out;
	}
	t0 = now();
	while (next < n) {
		static struct rombsr_audit_entry batch[BATCH];
		uint64_t want = n - next, first;
		uint64_t target = n_pts < 3 && targets[n_pts] <= n ? targets[n_pts] : 0;

		if (target != 0 && next + SAMPLES >= target) {
			if ((e = measure(log, &next, &pts[n_pts])) < 0)
				goto fail;
			pts[n_pts].tree_us = 0;
			n_pts++;
		} else {
			if (target != 0 && want > target - SAMPLES - next)
				want = target - SAMPLES - next;
			if (want > BATCH)
				want = BATCH;
			if (want > CP_EVERY - next % CP_EVERY)
				want = CP_EVERY - next % CP_EVERY;
			for (uint64_t i = 0; i < want; i++)
				make_entry(next + i, &batch[i]);
			if ((e = rombsr_audit_log_append_batch(log, batch, (size_t)want, &first)) < 0)
				goto fail;
			next += want;
		}
		if (next % CP_EVERY == 0 || next == n) {
			struct rombsr_buf note;

			if ((e = rombsr_audit_log_checkpoint(log, ORIGIN, &signer, &note)) < 0)
				goto fail;
			rombsr_buf_free(&note);
		}
	}
	build_s = now() - t0;
	rombsr_audit_log_close(log);
	log = NULL;

	t0 = now();
	{
		const struct rombsr_note_verifier *trusted[] = {ver};

		if ((e = rombsr_audit_verify_dir(dir, trusted, 1, ORIGIN, NULL, 0, &rep)) < 0) {
			fprintf(stderr, "audit_verify: verification failed: %s\n", rombsr_error_message(e));
			rombsr_audit_report_free(&rep);
			goto out;
		}
	}
	verify_s = now() - t0;
	printf("log: %llu entries, %llu checkpoints (one per %d), built in %.2f s (batches of %d, one fsync each)\n",
	       (unsigned long long)rep.entries, (unsigned long long)rep.checkpoints, CP_EVERY, build_s, BATCH);
	printf("full verification (every entry, link, checkpoint signature and consistency): %.2f s (goal < 10 s)\n",
	       verify_s);
	rombsr_audit_report_free(&rep);
	printf("durable append of one entry (write + fsync), %d samples each:\n", SAMPLES);
	merkle_points(pts, n_pts);
	for (int i = 0; i < n_pts; i++) {
		printf("  at %7llu entries: median %8.1f us, mean %8.1f us; Merkle append+root alone %.2f us\n",
		       (unsigned long long)pts[i].size, pts[i].median_us, pts[i].mean_us, pts[i].tree_us);
	}
	if (n_pts >= 2)
		printf("ratio last/first: durable median %.2f, Merkle part %.2f (flat = ~1)\n",
		       pts[n_pts - 1].median_us / pts[0].median_us, pts[n_pts - 1].tree_us / pts[0].tree_us);
	r = verify_s < 10.0 ? 0 : 1;
	goto out;
fail:
	fprintf(stderr, "audit_verify: %s\n", rombsr_error_message(e));
out:
	rombsr_audit_log_close(log);
	rombsr_note_verifier_free(ver);
	test_key_free(&key);
	if (tmp[0] != '\0')
		rombsr_remove_tree(tmp);
	return r;
}
