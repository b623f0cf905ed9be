/* Bench: the cost of finding pending work in the signing queue does not
 * grow with its history.
 *
 * Builds two queues with the sharded layout of src/queue/layout.h, one with
 * a history of SMALL processed requests and one with LARGE (each processed
 * request is a request commit and a response commit), then NEW further
 * request commits. It then times what the sign node does to find new work:
 * rombsr_repo_diff() between the last processed commit and the head,
 * classifying each changed path. For contrast it also times a walk over
 * every file of the head tree, the cost a layout without sharding (or a
 * node that rescans) would pay.
 *
 * The histories are written straight into the object database with libgit2
 * and are not signed: what is measured is finding the new entries, which
 * reads only trees, never signatures or file contents.
 *
 * Usage: queue_pending DIR [SMALL LARGE NEW REPEAT]  (100 10000 10 200) */
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

struct history {
	git_repository *git;
	git_signature *who;
	git_oid head, tree;
	bool have_head;
};

static uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void next_id(uint64_t *state, char id[ROMBSR_REQUEST_ID_LEN + 1])
{
	unsigned long long a = splitmix(state), b = splitmix(state);

	snprintf(id, ROMBSR_REQUEST_ID_LEN + 1, "%016llx%016llx", a, b);
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

/* One commit on the history's head adding one file. */
static int add_file(struct history *h, const char *path, const char *content)
{
	git_tree_update up;
	git_tree *base = NULL, *tree = NULL;
	git_commit *parent = NULL;
	git_oid tree_oid, commit;
	int e;

	memset(&up, 0, sizeof(up));
	up.action = GIT_TREE_UPDATE_UPSERT;
	up.filemode = GIT_FILEMODE_BLOB;
	up.path = path;
	e = git_blob_create_from_buffer(&up.id, h->git, content, strlen(content));
	if (e == 0)
		e = git_tree_lookup(&base, h->git, &h->tree);
	if (e == 0)
		e = git_tree_create_updated(&tree_oid, h->git, base, 1, &up);
	if (e == 0)
		e = git_tree_lookup(&tree, h->git, &tree_oid);
	if (e == 0 && h->have_head)
		e = git_commit_lookup(&parent, h->git, &h->head);
	if (e == 0)
		e = git_commit_create(&commit, h->git, NULL, h->who, h->who, NULL, path, tree, h->have_head ? 1 : 0,
				      (const git_commit **)&parent);
	git_commit_free(parent);
	git_tree_free(tree);
	git_tree_free(base);
	if (e < 0)
		return git_fail(path);
	h->head = commit;
	h->tree = tree_oid;
	h->have_head = true;
	return 0;
}

static int add_request(struct history *h, const char *id, bool answered)
{
	char path[128], body[128];

	rombsr_queue_request_path(id, path, sizeof(path));
	snprintf(body, sizeof(body), "{\"id\": \"%s\"}\n", id);
	if (add_file(h, path, body) < 0)
		return -1;
	if (!answered)
		return 0;
	rombsr_queue_response_path(id, path, sizeof(path));
	return add_file(h, path, body);
}

/* A queue at dir: a trust file, processed requests with their responses,
 * then fresh requests after *last (the last processed commit). */
static int build(const char *dir, size_t processed, size_t fresh, git_oid *last)
{
	struct history h;
	git_treebuilder *tb = NULL;
	uint64_t seed = 42;
	char id[ROMBSR_REQUEST_ID_LEN + 1];
	double t0 = now();
	int r = 0;

	memset(&h, 0, sizeof(h));
	if (git_repository_init(&h.git, dir, 1) < 0 || git_signature_new(&h.who, "bench", "bench@rombsr.test", 1795000000, 0) < 0 ||
	    git_treebuilder_new(&tb, h.git, NULL) < 0 || git_treebuilder_write(&h.tree, tb) < 0)
		r = git_fail(dir);
	git_treebuilder_free(tb);
	if (r == 0)
		r = add_file(&h, ROMBSR_QUEUE_TRUST, "{\"format\": \"rombsr.trust\"}\n");
	for (size_t i = 0; i < processed && r == 0; i++) {
		next_id(&seed, id);
		r = add_request(&h, id, true);
	}
	*last = h.head;
	for (size_t i = 0; i < fresh && r == 0; i++) {
		next_id(&seed, id);
		r = add_request(&h, id, false);
	}
	if (r == 0) {
		git_reference *ref = NULL;

		if (git_reference_create(&ref, h.git, ROMBSR_QUEUE_BRANCH, &h.head, 1, "bench") < 0)
			r = git_fail("refs/heads/main");
		git_reference_free(ref);
	}
	if (r == 0)
		printf("built %s: %zu processed requests (%zu commits), %zu new, in %.1f s\n", dir, processed,
		       1 + 2 * processed + fresh, fresh, now() - t0);
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
	/* The contrast: looking at every file of the head. */
	for (int i = 0; i < repeat && r == 0; i++) {
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
		qsort(runs, (size_t)repeat, sizeof(double), by_value);
		t->walk = runs[repeat / 2];
	}
	if (r < 0)
		fprintf(stderr, "queue_pending: %s\n", rombsr_error_message(r));
	rombsr_repo_close(repo);
	free(runs);
	return r;
}

int main(int argc, char **argv)
{
	size_t small = 100, large = 10000, fresh = 10;
	int repeat = 200;
	char small_dir[4096], large_dir[4096];
	git_oid small_last, large_last;
	struct timing ts, tl;

	if (argc != 2 && argc != 6) {
		fprintf(stderr, "usage: queue_pending DIR [SMALL LARGE NEW REPEAT]\n");
		return 2;
	}
	if (argc == 6) {
		small = strtoul(argv[2], NULL, 10);
		large = strtoul(argv[3], NULL, 10);
		fresh = strtoul(argv[4], NULL, 10);
		repeat = atoi(argv[5]);
	}
	if (fresh == 0 || repeat < 1 || large < small) {
		fprintf(stderr, "queue_pending: need NEW >= 1, REPEAT >= 1 and LARGE >= SMALL\n");
		return 2;
	}
	git_libgit2_init();
	if (getenv("TREE_CACHE"))
		git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)1 << 20);
	snprintf(small_dir, sizeof(small_dir), "%s/queue-%zu.git", argv[1], small);
	snprintf(large_dir, sizeof(large_dir), "%s/queue-%zu.git", argv[1], large);
	printf("histories are written directly with libgit2 and are NOT signed: the measurement is finding new\n"
	       "work (a diff of two trees), which never reads signatures or file contents\n");
	if (build(small_dir, small, fresh, &small_last) < 0 || build(large_dir, large, fresh, &large_last) < 0 ||
	    measure(small_dir, &small_last, repeat, &ts) < 0 || measure(large_dir, &large_last, repeat, &tl) < 0) {
		git_libgit2_shutdown();
		return 1;
	}
	git_libgit2_shutdown();
	if (ts.found != fresh || tl.found != fresh) {
		fprintf(stderr, "queue_pending: found %zu and %zu new requests, expected %zu\n", ts.found, tl.found,
			fresh);
		return 1;
	}
	printf("finding %zu new requests (rombsr_repo_diff from the last processed commit), median of %d:\n", fresh,
	       repeat);
	printf("  %6zu processed: %9.1f us   (first call %9.1f us)\n", small, ts.median * 1e6, ts.cold * 1e6);
	printf("  %6zu processed: %9.1f us   (first call %9.1f us)\n", large, tl.median * 1e6, tl.cold * 1e6);
	printf("  ratio %zu/%zu: %.2f   (history grew %.0fx)\n", large, small, tl.median / ts.median,
	       (double)large / (double)(small ? small : 1));
	printf("for contrast, a walk over every file of the head:\n");
	printf("  %6zu files: %9.1f us\n", ts.files, ts.walk * 1e6);
	printf("  %6zu files: %9.1f us\n", tl.files, tl.walk * 1e6);
	printf("  ratio: %.2f\n", tl.walk / ts.walk);
	printf("RATIO %.2f\n", tl.median / ts.median);
	return 0;
}
