/* Bench: the cost of finding pending work in the signing queue does not
 * grow with its history.
 *
 * Builds queues with the dated layout of src/queue/layout.h and a fixed
 * daily volume: PER_DAY requests a day, each processed (a request and its
 * response), over histories of DAYS days (by default 1, 100 and 1,000 days:
 * 100, 10,000 and 100,000 processed requests). Then NEW further requests
 * are added on the newest day, one commit each. It times what the sign node
 * does to find new work: rombsr_repo_diff() between the last processed
 * commit and the head, classifying each changed path, and checks that it
 * finds exactly the new requests. For contrast it also times a walk over
 * every file of the head tree, the cost a node that rescans would pay.
 *
 * The histories are written straight into the object database with libgit2
 * and are not signed: what is measured is finding the new entries, which
 * reads only the two commits' trees, never signatures, file contents or the
 * commits in between. So each processed day is one commit holding that
 * day's requests and responses, and every file has the same placeholder
 * content: the trees are what they would be after one commit per request
 * and per response (names, shape, sizes), at a fraction of the objects to
 * write. The bench script puts the queues on tmpfs when it can.
 *
 * Usage: queue_pending DIR [PER_DAY NEW REPEAT DAYS...]  (100 10 200 1 100 1000) */
#define _GNU_SOURCE
#include "../src/common/error.h"
#include "../src/queue/layout.h"
#include "../src/queue/repo.h"

#include <git2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HISTORIES 8
#define WALK_REPEAT 5
/* The first day of every history: 2024-01-01T00:00:00Z. */
#define FIRST_DAY ((time_t)1704067200)
#define DAY 86400

struct history {
	git_repository *git;
	git_signature *who;
	git_oid head, tree;
	git_oid body;                /* the content of every request and response */
	bool have_head;
};

static uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* An ID as rombsr submit makes them, with reproducible "random" bytes. */
static int next_id(uint64_t *state, time_t created, char id[ROMBSR_REQUEST_ID_LEN + 1])
{
	unsigned char random[ROMBSR_REQUEST_ID_RANDOM];

	for (size_t i = 0; i < sizeof(random); i += 4) {
		uint64_t v = splitmix(state);

		memcpy(random + i, &v, 4);
	}
	return rombsr_request_id_make(created, random, id);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();

	fprintf(stderr, "queue_pending: %s: %s\n", what, e && e->message ? e->message : "git error");
	return -1;
}

/* The files one commit adds: paths and contents, owned here. */
struct batch {
	git_tree_update *up;
	char (*paths)[128];
	size_t n, cap;
};

static int batch_add(struct history *h, struct batch *b, int (*path_of)(const char *, char *, size_t),
		     const char *id)
{
	if (b->n == b->cap) {
		fprintf(stderr, "queue_pending: batch full\n");
		return -1;
	}
	int r = path_of(id, b->paths[b->n], sizeof(b->paths[0]));

	if (r < 0) {
		fprintf(stderr, "queue_pending: %s\n", rombsr_error_message(r));
		return -1;
	}
	memset(&b->up[b->n], 0, sizeof(b->up[0]));
	b->up[b->n].action = GIT_TREE_UPDATE_UPSERT;
	b->up[b->n].filemode = GIT_FILEMODE_BLOB;
	b->up[b->n].path = b->paths[b->n];
	b->up[b->n].id = h->body;
	b->n++;
	return 0;
}

/* One commit on the history's head adding the batch's files. */
static int commit_batch(struct history *h, struct batch *b, const char *message)
{
	git_tree *base = NULL, *tree = NULL;
	git_commit *parent = NULL;
	git_oid tree_oid, commit;
	int e;

	e = git_tree_lookup(&base, h->git, &h->tree);
	if (e == 0)
		e = git_tree_create_updated(&tree_oid, h->git, base, b->n, b->up);
	if (e == 0)
		e = git_tree_lookup(&tree, h->git, &tree_oid);
	if (e == 0 && h->have_head)
		e = git_commit_lookup(&parent, h->git, &h->head);
	if (e == 0)
		e = git_commit_create(&commit, h->git, NULL, h->who, h->who, NULL, message, tree, h->have_head ? 1 : 0,
				      (const git_commit **)&parent);
	git_commit_free(parent);
	git_tree_free(tree);
	git_tree_free(base);
	b->n = 0;
	if (e < 0)
		return git_fail(message);
	h->head = commit;
	h->tree = tree_oid;
	h->have_head = true;
	return 0;
}

/* A queue at dir: a trust file, days of per_day processed requests with
 * their responses, then fresh requests on the newest day, after *last (the
 * last processed commit). */
static int build(const char *dir, size_t days, size_t per_day, size_t fresh, git_oid *last)
{
	struct history h;
	struct batch b = {0};
	git_treebuilder *tb = NULL;
	uint64_t seed = 42;
	char id[ROMBSR_REQUEST_ID_LEN + 1], message[96];
	time_t newest = FIRST_DAY + (time_t)(days - 1) * DAY;
	double t0 = now();
	int r = 0;

	memset(&h, 0, sizeof(h));
	b.cap = 2 * per_day > 1 ? 2 * per_day : 1;
	b.up = calloc(b.cap, sizeof(*b.up));
	b.paths = calloc(b.cap, sizeof(*b.paths));
	if (b.up == NULL || b.paths == NULL)
		r = -1;
	if (r == 0 && (git_repository_init(&h.git, dir, 1) < 0 ||
		       git_signature_new(&h.who, "bench", "bench@rombsr.test", 1795000000, 0) < 0 ||
		       git_treebuilder_new(&tb, h.git, NULL) < 0 || git_treebuilder_write(&h.tree, tb) < 0))
		r = git_fail(dir);
	git_treebuilder_free(tb);
	if (r == 0) {
		git_tree_update up = {.action = GIT_TREE_UPDATE_UPSERT, .filemode = GIT_FILEMODE_BLOB,
				      .path = ROMBSR_QUEUE_TRUST};
		const char *trust = "{\"format\": \"rombsr.trust\"}\n", *body = "{\"format\": \"placeholder\"}\n";

		if (git_blob_create_from_buffer(&up.id, h.git, trust, strlen(trust)) < 0 ||
		    git_blob_create_from_buffer(&h.body, h.git, body, strlen(body)) < 0)
			r = git_fail(ROMBSR_QUEUE_TRUST);
		b.up[0] = up;
		b.n = 1;
	}
	if (r == 0)
		r = commit_batch(&h, &b, "queue-init: trust file");
	for (size_t d = 0; d < days && r == 0; d++) {
		time_t day = FIRST_DAY + (time_t)d * DAY;

		/* Requests through the day: created at a time of that date. */
		for (size_t i = 0; i < per_day && r == 0; i++) {
			r = next_id(&seed, day + (time_t)(i * (DAY - 1) / per_day), id) < 0 ? -1 : 0;
			if (r == 0)
				r = batch_add(&h, &b, rombsr_queue_request_path, id);
			if (r == 0)
				r = batch_add(&h, &b, rombsr_queue_response_path, id);
		}
		snprintf(message, sizeof(message), "day %zu: %zu requests and responses", d + 1, per_day);
		if (r == 0)
			r = commit_batch(&h, &b, message);
	}
	*last = h.head;
	for (size_t i = 0; i < fresh && r == 0; i++) {
		r = next_id(&seed, newest + DAY - 1, id) < 0 ? -1 : 0;
		if (r == 0)
			r = batch_add(&h, &b, rombsr_queue_request_path, id);
		if (r == 0)
			r = commit_batch(&h, &b, id);
	}
	if (r == 0) {
		git_reference *ref = NULL;

		if (git_reference_create(&ref, h.git, ROMBSR_QUEUE_BRANCH, &h.head, 1, "bench") < 0)
			r = git_fail("refs/heads/main");
		git_reference_free(ref);
	}
	if (r == 0)
		printf("built %s: %zu days x %zu processed requests = %zu, %zu new, in %.1f s\n", dir, days, per_day,
		       days * per_day, fresh, now() - t0);
	free(b.up);
	free(b.paths);
	git_signature_free(h.who);
	git_repository_free(h.git);
	return r;
}

struct pending {
	size_t requests, responses, other;
};

static int on_change(const char *path, char status, void *ctx)
{
	struct pending *p = ctx;
	struct rombsr_queue_path qp;

	rombsr_queue_classify(path, &qp);
	if (qp.kind == ROMBSR_PATH_REQUEST && status == 'A')
		p->requests++;
	else if (qp.kind == ROMBSR_PATH_RESPONSE && status == 'A')
		p->responses++;
	else
		p->other++;
	return 0;
}

static int count_entry(const char *root, const git_tree_entry *entry, void *payload)
{
	(void)root;
	if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB)
		(*(size_t *)payload)++;
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct timing {
	double cold, median;         /* seconds: first call, median of the repeats */
	double walk;                 /* median of a walk over the whole head tree */
	size_t found, files;
};

static int measure(const char *dir, const git_oid *last, int repeat, struct timing *t)
{
	struct rombsr_repo *repo = NULL;
	double *runs = calloc((size_t)repeat, sizeof(double));
	git_oid head;
	bool empty;
	int r;

	memset(t, 0, sizeof(*t));
	r = runs ? rombsr_repo_open(dir, false, &repo) : ROMBSR_ENOMEM;
	if (r == 0)
		r = rombsr_repo_head(repo, &head, &empty);
	for (int i = 0; i < repeat && r == 0; i++) {
		struct pending p = {0};
		double t0 = now();

		r = rombsr_repo_diff(repo, last, &head, on_change, &p);
		runs[i] = now() - t0;
		if (i == 0) {
			t->cold = runs[0];
			t->found = p.requests;
		} else if (p.requests != t->found) {
			r = rombsr_error(ROMBSR_EINTERNAL, "diff found %zu, then %zu", t->found, p.requests);
		}
		if (p.responses != 0 || p.other != 0)
			r = rombsr_error(ROMBSR_EINTERNAL, "diff found responses or other changes");
	}
	if (r == 0) {
		qsort(runs, (size_t)repeat, sizeof(double), by_value);
		t->median = runs[repeat / 2];
	}
	/* The contrast: looking at every file of the head (a few times only:
	 * with 200,000 files it takes a while). */
	for (int i = 0; i < WALK_REPEAT && r == 0; i++) {
		git_commit *c = NULL;
		git_tree *tree = NULL;
		size_t files = 0;
		double t0 = now();

		if (git_commit_lookup(&c, rombsr_repo_git(repo), &head) < 0 || git_commit_tree(&tree, c) < 0 ||
		    git_tree_walk(tree, GIT_TREEWALK_PRE, count_entry, &files) < 0)
			r = rombsr_repo_fail(ROMBSR_EIO, "tree walk");
		runs[i] = now() - t0;
		t->files = files;
		git_tree_free(tree);
		git_commit_free(c);
	}
	if (r == 0) {
		qsort(runs, WALK_REPEAT, sizeof(double), by_value);
		t->walk = runs[WALK_REPEAT / 2];
	}
	if (r < 0)
		fprintf(stderr, "queue_pending: %s\n", rombsr_error_message(r));
	rombsr_repo_close(repo);
	free(runs);
	return r;
}

static int parse_count(const char *s, size_t min, size_t max, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s == '\0' || *end != '\0' || s[0] == '-' || v < min || v > max)
		return -1;
	*out = (size_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	size_t per_day = 100, fresh = 10, repeat = 200, days[MAX_HISTORIES] = {1, 100, 1000}, nhist = 3;
	char dirs[MAX_HISTORIES][4096];
	git_oid last[MAX_HISTORIES];
	struct timing t[MAX_HISTORIES];
	int bad = 0;

	if (argc != 2 && (argc < 7 || argc > 5 + MAX_HISTORIES)) {
		fprintf(stderr, "usage: queue_pending DIR [PER_DAY NEW REPEAT DAYS...] (2 to %d histories)\n",
			MAX_HISTORIES);
		return 2;
	}
	if (argc > 2) {
		bad |= parse_count(argv[2], 1, 100000, &per_day) | parse_count(argv[3], 1, 10000, &fresh) |
		       parse_count(argv[4], WALK_REPEAT, 100000, &repeat);
		nhist = (size_t)argc - 5;
		for (size_t i = 0; i < nhist; i++)
			bad |= parse_count(argv[5 + i], 1, 10000, &days[i]);
	}
	if (bad) {
		fprintf(stderr, "queue_pending: PER_DAY 1..100000, NEW 1..10000, REPEAT %d..100000, DAYS 1..10000\n",
			WALK_REPEAT);
		return 2;
	}
	git_libgit2_init();
	/* As rombsr_repo_open() sets up libgit2: trees up to 1 MiB are cached. */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)1 << 20);
	printf("histories are written directly with libgit2 and are NOT signed: the measurement is finding new\n"
	       "work (a diff of two trees), which never reads signatures, file contents or the commits between\n");
	for (size_t i = 0; i < nhist && bad == 0; i++) {
		snprintf(dirs[i], sizeof(dirs[i]), "%s/queue-%zu-days.git", argv[1], days[i]);
		bad = build(dirs[i], days[i], per_day, fresh, &last[i]) < 0 ||
		      measure(dirs[i], &last[i], (int)repeat, &t[i]) < 0;
		if (bad == 0 && t[i].found != fresh) {
			fprintf(stderr, "queue_pending: %s: the diff found %zu new requests, expected %zu\n", dirs[i],
				t[i].found, fresh);
			bad = 1;
		}
	}
	git_libgit2_shutdown();
	if (bad)
		return 1;
	printf("finding %zu new requests on the newest day (rombsr_repo_diff from the last processed commit),\n"
	       "%zu requests a day, median of %zu:\n", fresh, per_day, repeat);
	for (size_t i = 0; i < nhist; i++)
		printf("  %7zu processed (%4zu days): %8.1f us   (first call %8.1f us)\n", days[i] * per_day, days[i],
		       t[i].median * 1e6, t[i].cold * 1e6);
	for (size_t i = 1; i < nhist; i++)
		printf("  ratio %zu/%zu: %.2f   (history grew %.0fx)\n", days[i] * per_day, days[0] * per_day,
		       t[i].median / t[0].median, (double)days[i] / (double)days[0]);
	printf("for contrast, a walk over every file of the head, median of %d:\n", WALK_REPEAT);
	for (size_t i = 0; i < nhist; i++)
		printf("  %7zu files: %10.1f us\n", t[i].files, t[i].walk * 1e6);
	for (size_t i = 1; i < nhist; i++)
		printf("RATIO %zu/%zu %.2f\n", days[i] * per_day, days[0] * per_day, t[i].median / t[0].median);
	return 0;
}
