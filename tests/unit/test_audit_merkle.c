/* RFC 6962 hashing and proofs: the public CT vectors, then cross-checks
 * against a plain recursive implementation of the RFC's definitions. */
#include "tap.h"

#include "../../src/audit/merkle.h"
#include "../../src/common/error.h"
#include "../../src/common/hex.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H ROMBSR_MERKLE_HASH_LEN

static unsigned char vec_leaves[8][16];
static size_t vec_leaf_len[8];

/* ---- the reference: RFC 6962 §2.1 written as directly as possible ---- */

static void ref_node(const unsigned char *l, const unsigned char *r, unsigned char *out)
{
	unsigned char buf[1 + 2 * H];

	buf[0] = 1;
	memcpy(buf + 1, l, H);
	memcpy(buf + 1 + H, r, H);
	SHA256(buf, sizeof(buf), out);
}

static uint64_t ref_k(uint64_t n)
{
	uint64_t k = 1;

	while (2 * k < n)
		k *= 2;
	return k;
}

static void ref_mth(unsigned char (*leaf)[H], uint64_t n, unsigned char *out)
{
	unsigned char a[H], b[H];
	uint64_t k;

	if (n == 0) {
		SHA256((const unsigned char *)"", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, leaf[0], H);
		return;
	}
	k = ref_k(n);
	ref_mth(leaf, k, a);
	ref_mth(leaf + k, n - k, b);
	ref_node(a, b, out);
}

static void ref_path(uint64_t m, unsigned char (*leaf)[H], uint64_t n, unsigned char (*out)[H], size_t *count)
{
	uint64_t k;

	if (n <= 1)
		return;
	k = ref_k(n);
	if (m < k) {
		ref_path(m, leaf, k, out, count);
		ref_mth(leaf + k, n - k, out[(*count)++]);
	} else {
		ref_path(m - k, leaf + k, n - k, out, count);
		ref_mth(leaf, k, out[(*count)++]);
	}
}

static void ref_subproof(uint64_t m, unsigned char (*leaf)[H], uint64_t n, int b, unsigned char (*out)[H],
			 size_t *count)
{
	uint64_t k;

	if (m == n) {
		if (!b)
			ref_mth(leaf, n, out[(*count)++]);
		return;
	}
	k = ref_k(n);
	if (m <= k) {
		ref_subproof(m, leaf, k, b, out, count);
		ref_mth(leaf + k, n - k, out[(*count)++]);
	} else {
		ref_subproof(m - k, leaf + k, n - k, 0, out, count);
		ref_mth(leaf, k, out[(*count)++]);
	}
}

/* ---- vectors ---- */

static FILE *open_vectors(void)
{
	const char *top = getenv("ROMBSR_TOP");
	char path[4096];

	snprintf(path, sizeof(path), "%s/tests/vectors/rfc6962-ct-8leaf.txt", top != NULL ? top : ".");
	return fopen(path, "r");
}

static int decode_hashes(char *rest, unsigned char (*out)[H], size_t *count)
{
	*count = 0;
	for (char *tok = strtok(rest, " \n"); tok != NULL; tok = strtok(NULL, " \n"))
		if (rombsr_hex_decode(tok, out[(*count)++], H, "vector") < 0)
			return -1;
	return 0;
}

static void test_vectors(void)
{
	unsigned char leafh[8][H], proof[ROMBSR_MERKLE_MAX_PROOF][H], want[ROMBSR_MERKLE_MAX_PROOF][H], h[H];
	struct rombsr_merkle_tree t;
	int roots = 0, roots_ok = 0, nodes = 0, nodes_ok = 0, incl = 0, incl_ok = 0, cons = 0, cons_ok = 0;
	char line[2048];
	FILE *f = open_vectors();

	CHECK(f != NULL, "vector file tests/vectors/rfc6962-ct-8leaf.txt opens");
	if (f == NULL)
		return;
	rombsr_merkle_tree_init(&t);
	while (fgets(line, sizeof(line), f) != NULL) {
		char kind[16], a_hex[80];
		unsigned long long a, b;
		int used = 0;
		size_t n = 0, want_n = 0;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%15s", kind) != 1)
			continue;
		if (strcmp(kind, "leaf") == 0 && sscanf(line, "leaf %llu %79s", &a, a_hex) == 2 && a < 8) {
			unsigned char *bytes = NULL;
			size_t len = 0;

			if (strcmp(a_hex, "-") != 0 && rombsr_hex_decode_alloc(a_hex, 16, &bytes, &len, "leaf") == 0) {
				memcpy(vec_leaves[a], bytes, len);
				free(bytes);
			}
			vec_leaf_len[a] = len;
			rombsr_merkle_leaf_hash(vec_leaves[a], len, leafh[a]);
			rombsr_merkle_tree_append(&t, leafh[a]);
		} else if (strcmp(kind, "root") == 0 && sscanf(line, "root %llu %79s", &a, a_hex) == 2) {
			roots++;
			if (rombsr_hex_decode(a_hex, want[0], H, "root") == 0 && rombsr_merkle_tree_root(&t, a, h) == 0 &&
			    memcmp(h, want[0], H) == 0)
				roots_ok++;
		} else if (strcmp(kind, "node") == 0 && sscanf(line, "node %llu %llu %79s", &a, &b, a_hex) == 3) {
			nodes++;
			if (rombsr_hex_decode(a_hex, want[0], H, "node") == 0 && b < t.level[a].len &&
			    memcmp(t.level[a].hash[b], want[0], H) == 0)
				nodes_ok++;
		} else if (strcmp(kind, "inclusion") == 0 && sscanf(line, "inclusion %llu %llu%n", &a, &b, &used) == 2) {
			unsigned char root[H];

			incl++;
			if (decode_hashes(line + used, want, &want_n) == 0 &&
			    rombsr_merkle_tree_inclusion_proof(&t, a, b, proof, &n) == 0 && n == want_n &&
			    memcmp(proof, want, n * H) == 0 && rombsr_merkle_tree_root(&t, b, root) == 0 &&
			    rombsr_merkle_verify_inclusion(leafh[a], a, b, (const unsigned char (*)[H])want, want_n, root) == 0)
				incl_ok++;
		} else if (strcmp(kind, "consistency") == 0 &&
			   sscanf(line, "consistency %llu %llu%n", &a, &b, &used) == 2) {
			unsigned char r1[H], r2[H];

			cons++;
			if (decode_hashes(line + used, want, &want_n) == 0 &&
			    rombsr_merkle_tree_consistency_proof(&t, a, b, proof, &n) == 0 && n == want_n &&
			    memcmp(proof, want, n * H) == 0 && rombsr_merkle_tree_root(&t, a, r1) == 0 &&
			    rombsr_merkle_tree_root(&t, b, r2) == 0 &&
			    rombsr_merkle_verify_consistency(a, b, r1, r2, (const unsigned char (*)[H])want, want_n) == 0)
				cons_ok++;
		}
	}
	fclose(f);
	CHECK(roots == 9 && roots_ok == roots, "CT vectors: roots of sizes 0..8 (%d/%d)", roots_ok, roots);
	CHECK(nodes == 15 && nodes_ok == nodes, "CT vectors: every complete subtree hash (%d/%d)", nodes_ok, nodes);
	CHECK(incl == 5 && incl_ok == incl, "CT vectors: inclusion proofs generated and verified (%d/%d)", incl_ok, incl);
	CHECK(cons == 5 && cons_ok == cons, "CT vectors: consistency proofs generated and verified (%d/%d)", cons_ok,
	      cons);
	rombsr_merkle_tree_free(&t);
}

/* ---- cross-checks ---- */

static unsigned char (*make_leaves(uint64_t n))[H]
{
	unsigned char (*leaf)[H] = malloc((n ? n : 1) * H);

	for (uint64_t i = 0; i < n; i++) {
		char data[32];
		int len = snprintf(data, sizeof(data), "leaf %llu", (unsigned long long)i);

		rombsr_merkle_leaf_hash(data, (size_t)len, leaf[i]);
	}
	return leaf;
}

static void test_random_sizes(void)
{
	unsigned char (*leaf)[H] = make_leaves(5000), a[H], b[H];
	struct rombsr_merkle_tree t;
	int bad = 0, checked = 0;
	uint64_t sizes[80];
	size_t n_sizes = 0;

	srand(6962);
	for (int i = 0; i < 50; i++)
		sizes[n_sizes++] = 1 + (uint64_t)rand() % 5000;
	for (uint64_t p = 1; p <= 4096; p *= 2) {
		sizes[n_sizes++] = p;
		if (p + 1 <= 5000)
			sizes[n_sizes++] = p + 1;
	}
	rombsr_merkle_tree_init(&t);
	for (uint64_t i = 0; i < 5000; i++)
		if (rombsr_merkle_tree_append(&t, leaf[i]) < 0)
			bad++;
	for (size_t i = 0; i < n_sizes; i++) {
		ref_mth(leaf, sizes[i], a);
		if (rombsr_merkle_tree_root(&t, sizes[i], b) < 0 || memcmp(a, b, H) != 0)
			bad++;
		checked++;
	}
	CHECK(bad == 0, "root of %d sizes up to 5000 (random, 2^k, 2^k+1) equals the recursive MTH", checked);
	ref_mth(leaf, 0, a);
	CHECK(rombsr_merkle_tree_root(&t, 0, b) == 0 && memcmp(a, b, H) == 0, "empty tree root is SHA-256(\"\")");
	CHECK(rombsr_merkle_tree_root(&t, 5001, b) == ROMBSR_EINVAL, "root past the end refused");
	rombsr_merkle_tree_truncate(&t, 777);
	ref_mth(leaf, 777, a);
	CHECK(t.size == 777 && rombsr_merkle_tree_root(&t, 777, b) == 0 && memcmp(a, b, H) == 0,
	      "truncate back to 777 leaves");
	for (uint64_t i = 777; i < 5000; i++)
		rombsr_merkle_tree_append(&t, leaf[i]);
	ref_mth(leaf, 5000, a);
	CHECK(rombsr_merkle_tree_root(&t, 5000, b) == 0 && memcmp(a, b, H) == 0, "append again after truncate");
	rombsr_merkle_tree_free(&t);
	rombsr_merkle_tree_free(&t);
	free(leaf);
}

static void test_all_proofs(void)
{
	enum { N = 64 };
	unsigned char (*leaf)[H] = make_leaves(N), roots[N + 1][H];
	unsigned char proof[ROMBSR_MERKLE_MAX_PROOF][H], ref[ROMBSR_MERKLE_MAX_PROOF][H], other[H];
	int incl = 0, incl_bad = 0, incl_forged = 0, cons = 0, cons_bad = 0, cons_forged = 0;
	struct rombsr_merkle_tree t;

	rombsr_merkle_tree_init(&t);
	for (int i = 0; i < N; i++)
		rombsr_merkle_tree_append(&t, leaf[i]);
	for (uint64_t n = 0; n <= N; n++)
		ref_mth(leaf, n, roots[n]);
	memset(other, 0xab, H);

	for (uint64_t size = 1; size <= N; size++) {
		for (uint64_t i = 0; i < size; i++) {
			size_t count = 0, ref_count = 0;
			const unsigned char (*p)[H] = (const unsigned char (*)[H])proof;

			incl++;
			ref_path(i, leaf, size, ref, &ref_count);
			if (rombsr_merkle_tree_inclusion_proof(&t, i, size, proof, &count) < 0 || count != ref_count ||
			    memcmp(proof, ref, count * H) != 0 ||
			    rombsr_merkle_verify_inclusion(leaf[i], i, size, p, count, roots[size]) < 0) {
				incl_bad++;
				continue;
			}
			/* Every corruption must fail. */
			if (rombsr_merkle_verify_inclusion(leaf[i], i + 1, size, p, count, roots[size]) == 0 ||
			    (i > 0 && rombsr_merkle_verify_inclusion(leaf[i], i - 1, size, p, count, roots[size]) == 0) ||
			    rombsr_merkle_verify_inclusion(leaf[i], i ^ 2, size, p, count, roots[size]) == 0 ||
			    rombsr_merkle_verify_inclusion(leaf[i], i, size * 2, p, count, roots[size]) == 0 ||
			    rombsr_merkle_verify_inclusion(leaf[i], i, size / 2, p, count, roots[size]) == 0 ||
			    rombsr_merkle_verify_inclusion(other, i, size, p, count, roots[size]) == 0 ||
			    rombsr_merkle_verify_inclusion(leaf[i], i, size, p, count, other) == 0 ||
			    (count > 0 && rombsr_merkle_verify_inclusion(leaf[i], i, size, p, count - 1, roots[size]) == 0))
				incl_forged++;
			for (size_t k = 0; k < count; k++) {
				proof[k][0] ^= 8;
				if (rombsr_merkle_verify_inclusion(leaf[i], i, size, p, count, roots[size]) == 0)
					incl_forged++;
				proof[k][0] ^= 8;
			}
			memcpy(proof[count], other, H);
			if (rombsr_merkle_verify_inclusion(leaf[i], i, size, p, count + 1, roots[size]) == 0)
				incl_forged++;
		}
	}
	CHECK(incl == N * (N + 1) / 2 && incl_bad == 0,
	      "inclusion proofs for all %d (index, size) pairs up to %d equal RFC 6962 PATH and verify", incl, N);
	CHECK(incl_forged == 0, "no corrupted inclusion proof verifies (index +-1, ^2, size *2, /2, leaf, root, bit, length): %d did", incl_forged);

	for (uint64_t s2 = 0; s2 <= N; s2++) {
		for (uint64_t s1 = 0; s1 <= s2; s1++) {
			size_t count = 0, ref_count = 0;
			const unsigned char (*p)[H] = (const unsigned char (*)[H])proof;

			cons++;
			if (s1 > 0 && s1 < s2)
				ref_subproof(s1, leaf, s2, 1, ref, &ref_count);
			if (rombsr_merkle_tree_consistency_proof(&t, s1, s2, proof, &count) < 0 || count != ref_count ||
			    memcmp(proof, ref, count * H) != 0 ||
			    rombsr_merkle_verify_consistency(s1, s2, roots[s1], roots[s2], p, count) < 0) {
				cons_bad++;
				continue;
			}
			if (s1 == 0 || s1 == s2)
				continue;
			if (rombsr_merkle_verify_consistency(s1, s2, other, roots[s2], p, count) == 0 ||
			    rombsr_merkle_verify_consistency(s1, s2, roots[s1], other, p, count) == 0 ||
			    rombsr_merkle_verify_consistency(s1, s2, roots[s2], roots[s1], p, count) == 0 ||
			    rombsr_merkle_verify_consistency(s1 - 1, s2, roots[s1], roots[s2], p, count) == 0 ||
			    rombsr_merkle_verify_consistency(s1 + 1, s2, roots[s1], roots[s2], p, count) == 0 ||
			    rombsr_merkle_verify_consistency(s1 ^ 2, s2, roots[s1], roots[s2], p, count) == 0 ||
			    rombsr_merkle_verify_consistency(s1, s2 * 2, roots[s1], roots[s2], p, count) == 0 ||
			    rombsr_merkle_verify_consistency(s1, s2 / 2, roots[s1], roots[s2], p, count) == 0 ||
			    rombsr_merkle_verify_consistency(s1, s2, roots[s1], roots[s2], p, count - 1) == 0 ||
			    rombsr_merkle_verify_consistency(s1, s2, roots[s1], roots[s2], p, 0) == 0)
				cons_forged++;
			for (size_t k = 0; k < count; k++) {
				proof[k][0] ^= 16;
				if (rombsr_merkle_verify_consistency(s1, s2, roots[s1], roots[s2], p, count) == 0)
					cons_forged++;
				proof[k][0] ^= 16;
			}
			memcpy(proof[count], other, H);
			if (rombsr_merkle_verify_consistency(s1, s2, roots[s1], roots[s2], p, count + 1) == 0)
				cons_forged++;
		}
	}
	CHECK(cons == (N + 1) * (N + 2) / 2 && cons_bad == 0,
	      "consistency proofs for all %d (size1, size2) pairs up to %d equal RFC 6962 PROOF and verify", cons, N);
	CHECK(cons_forged == 0, "no corrupted consistency proof verifies (size1 +-1, ^2, size2 *2, /2, roots, bit, length): %d did", cons_forged);
	CHECK(rombsr_merkle_verify_consistency(5, 3, roots[5], roots[3], NULL, 0) == ROMBSR_ESECURITY,
	      "consistency backwards in time refused");
	CHECK(rombsr_merkle_verify_consistency(4, 4, roots[4], roots[5], NULL, 0) == ROMBSR_ESECURITY,
	      "same size, different roots refused");
	CHECK(rombsr_merkle_verify_inclusion(leaf[0], 0, 0, NULL, 0, roots[0]) == ROMBSR_ESECURITY,
	      "inclusion in the empty tree refused");
	{
		size_t count;

		CHECK(rombsr_merkle_tree_inclusion_proof(&t, 64, 64, proof, &count) == ROMBSR_EINVAL &&
			      rombsr_merkle_tree_consistency_proof(&t, 10, 65, proof, &count) == ROMBSR_EINVAL,
		      "proof generation outside the tree refused");
	}
	rombsr_merkle_tree_free(&t);
	free(leaf);
}

static void test_large_leaf(void)
{
	unsigned char *big = malloc(10000), a[H], b[H], *buf = malloc(10001);

	memset(big, 'x', 10000);
	buf[0] = 0;
	memcpy(buf + 1, big, 10000);
	SHA256(buf, 10001, a);
	CHECK(rombsr_merkle_leaf_hash(big, 10000, b) == 0 && memcmp(a, b, H) == 0,
	      "leaf hash of a leaf larger than the stack buffer");
	free(big);
	free(buf);
}

int main(void)
{
	test_vectors();
	test_random_sizes();
	test_all_proofs();
	test_large_leaf();
	return tap_done();
}
