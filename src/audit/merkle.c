#include "merkle.h"

#include "../common/error.h"
#include "../common/hex.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01
/* Leaves up to this size are hashed from one stack copy with the prefix in
 * front; larger ones go through a digest context. */
#define LEAF_STACK_MAX 4096

static const char *hex_of(const unsigned char h[ROMBSR_MERKLE_HASH_LEN], char out[2 * ROMBSR_MERKLE_HASH_LEN + 1])
{
	rombsr_hex_encode(h, ROMBSR_MERKLE_HASH_LEN, out);
	return out;
}

int rombsr_merkle_leaf_hash(const void *leaf, size_t len, unsigned char out[ROMBSR_MERKLE_HASH_LEN])
{
	unsigned char prefix = LEAF_PREFIX;
	EVP_MD_CTX *ctx;
	int r = ROMBSR_ECRYPTO;

	if (len < LEAF_STACK_MAX) {
		unsigned char buf[LEAF_STACK_MAX];

		buf[0] = LEAF_PREFIX;
		if (len > 0)
			memcpy(buf + 1, leaf, len);
		if (SHA256(buf, len + 1, out) == NULL)
			return rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 of a Merkle leaf");
		return 0;
	}
	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(ctx, &prefix, 1) != 1 ||
	    EVP_DigestUpdate(ctx, leaf, len) != 1 || EVP_DigestFinal_ex(ctx, out, NULL) != 1) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 of a Merkle leaf");
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int rombsr_merkle_node_hash(const unsigned char left[ROMBSR_MERKLE_HASH_LEN],
			    const unsigned char right[ROMBSR_MERKLE_HASH_LEN],
			    unsigned char out[ROMBSR_MERKLE_HASH_LEN])
{
	unsigned char buf[1 + 2 * ROMBSR_MERKLE_HASH_LEN];

	buf[0] = NODE_PREFIX;
	memcpy(buf + 1, left, ROMBSR_MERKLE_HASH_LEN);
	memcpy(buf + 1 + ROMBSR_MERKLE_HASH_LEN, right, ROMBSR_MERKLE_HASH_LEN);
	if (SHA256(buf, sizeof(buf), out) == NULL)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "SHA-256 of a Merkle node");
	return 0;
}

void rombsr_merkle_empty_root(unsigned char out[ROMBSR_MERKLE_HASH_LEN])
{
	static const unsigned char empty[ROMBSR_MERKLE_HASH_LEN] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
		0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
	};

	memcpy(out, empty, sizeof(empty));
}

void rombsr_merkle_tree_init(struct rombsr_merkle_tree *t)
{
	memset(t, 0, sizeof(*t));
}

void rombsr_merkle_tree_free(struct rombsr_merkle_tree *t)
{
	if (t == NULL)
		return;
	for (int l = 0; l < ROMBSR_MERKLE_MAX_LEVELS; l++)
		free(t->level[l].hash);
	memset(t, 0, sizeof(*t));
}

static int level_push(struct rombsr_merkle_level *lv, const unsigned char h[ROMBSR_MERKLE_HASH_LEN])
{
	if (lv->len == lv->alloc) {
		size_t want = lv->alloc ? lv->alloc * 2 : 64;
		void *grown;

		if (want > ((size_t)-1) / ROMBSR_MERKLE_HASH_LEN)
			return rombsr_error(ROMBSR_ENOMEM, "Merkle tree too large");
		grown = realloc(lv->hash, want * ROMBSR_MERKLE_HASH_LEN);
		if (grown == NULL)
			return rombsr_error(ROMBSR_ENOMEM, "out of memory growing the Merkle tree");
		lv->hash = grown;
		lv->alloc = want;
	}
	memcpy(lv->hash[lv->len], h, ROMBSR_MERKLE_HASH_LEN);
	lv->len++;
	return 0;
}

int rombsr_merkle_tree_append(struct rombsr_merkle_tree *t, const unsigned char leaf_hash[ROMBSR_MERKLE_HASH_LEN])
{
	unsigned char node[ROMBSR_MERKLE_HASH_LEN];
	uint64_t before = t->size;
	int r;

	if (t->size == UINT64_MAX)
		return rombsr_error(ROMBSR_EINVAL, "Merkle tree is full");
	r = level_push(&t->level[0], leaf_hash);
	/* Each completed pair closes a node one level up: the right edge of
	 * the tree (its "compact range") is whatever is left unpaired. */
	for (int l = 0; r == 0 && l + 1 < ROMBSR_MERKLE_MAX_LEVELS && t->level[l].len % 2 == 0; l++) {
		size_t n = t->level[l].len;

		r = rombsr_merkle_node_hash(t->level[l].hash[n - 2], t->level[l].hash[n - 1], node);
		if (r == 0)
			r = level_push(&t->level[l + 1], node);
	}
	if (r < 0) {
		rombsr_merkle_tree_truncate(t, before);
		return r;
	}
	t->size++;
	return 0;
}

void rombsr_merkle_tree_truncate(struct rombsr_merkle_tree *t, uint64_t size)
{
	for (int l = 0; l < ROMBSR_MERKLE_MAX_LEVELS; l++) {
		uint64_t keep = size >> l;

		if (t->level[l].len > keep)
			t->level[l].len = (size_t)keep;
	}
	if (t->size > size)
		t->size = size;
}

/* Largest power of two strictly smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

static int is_pow2(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static int log2_exact(uint64_t n)
{
	int l = 0;

	while (n > 1) {
		n >>= 1;
		l++;
	}
	return l;
}

/* MTH(D[start:end]) from the stored complete subtrees. The ranges RFC 6962
 * recursion produces always split into an aligned complete left part and a
 * smaller right part, so this costs O(log n). */
static int subtree_hash(const struct rombsr_merkle_tree *t, uint64_t start, uint64_t end,
			unsigned char out[ROMBSR_MERKLE_HASH_LEN])
{
	unsigned char left[ROMBSR_MERKLE_HASH_LEN], right[ROMBSR_MERKLE_HASH_LEN];
	uint64_t n = end - start, k;
	int r;

	if (end > t->size || start >= end)
		return rombsr_error(ROMBSR_EINTERNAL, "subtree [%llu, %llu) outside a tree of %llu leaves",
				    (unsigned long long)start, (unsigned long long)end,
				    (unsigned long long)t->size);
	if (is_pow2(n) && start % n == 0) {
		int l = log2_exact(n);

		memcpy(out, t->level[l].hash[start >> l], ROMBSR_MERKLE_HASH_LEN);
		return 0;
	}
	k = split_point(n);
	r = subtree_hash(t, start, start + k, left);
	if (r == 0)
		r = subtree_hash(t, start + k, end, right);
	if (r == 0)
		r = rombsr_merkle_node_hash(left, right, out);
	return r;
}

int rombsr_merkle_tree_root(const struct rombsr_merkle_tree *t, uint64_t size,
			    unsigned char out[ROMBSR_MERKLE_HASH_LEN])
{
	if (size > t->size)
		return rombsr_error(ROMBSR_EINVAL, "tree size %llu is larger than the log (%llu entries)",
				    (unsigned long long)size, (unsigned long long)t->size);
	if (size == 0) {
		rombsr_merkle_empty_root(out);
		return 0;
	}
	return subtree_hash(t, 0, size, out);
}

int rombsr_merkle_tree_leaf(const struct rombsr_merkle_tree *t, uint64_t index,
			    unsigned char out[ROMBSR_MERKLE_HASH_LEN])
{
	if (index >= t->size)
		return rombsr_error(ROMBSR_EINVAL, "entry %llu is past the end of the log (%llu entries)",
				    (unsigned long long)index, (unsigned long long)t->size);
	memcpy(out, t->level[0].hash[index], ROMBSR_MERKLE_HASH_LEN);
	return 0;
}

/* PATH(m, D[start:end]); appends hashes after those of the inner recursion,
 * so the leaf's sibling comes first. */
static int path(const struct rombsr_merkle_tree *t, uint64_t m, uint64_t start, uint64_t end,
		unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t *count)
{
	uint64_t n = end - start, k;
	int r;

	if (n <= 1)
		return 0;
	k = split_point(n);
	if (m < k) {
		r = path(t, m, start, start + k, proof, count);
		if (r == 0)
			r = subtree_hash(t, start + k, end, proof[(*count)++]);
	} else {
		r = path(t, m - k, start + k, end, proof, count);
		if (r == 0)
			r = subtree_hash(t, start, start + k, proof[(*count)++]);
	}
	return r;
}

int rombsr_merkle_tree_inclusion_proof(const struct rombsr_merkle_tree *t, uint64_t index, uint64_t size,
				       unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t *count)
{
	*count = 0;
	if (size > t->size)
		return rombsr_error(ROMBSR_EINVAL, "tree size %llu is larger than the log (%llu entries)",
				    (unsigned long long)size, (unsigned long long)t->size);
	if (index >= size)
		return rombsr_error(ROMBSR_EINVAL, "entry %llu is not in a tree of %llu entries",
				    (unsigned long long)index, (unsigned long long)size);
	return path(t, index, 0, size, proof, count);
}

/* SUBPROOF(m, D[start:end], b) of RFC 6962 §2.1.2. */
static int subproof(const struct rombsr_merkle_tree *t, uint64_t m, uint64_t start, uint64_t end, int b,
		    unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t *count)
{
	uint64_t n = end - start, k;
	int r;

	if (m == n) {
		if (b)
			return 0;
		return subtree_hash(t, start, end, proof[(*count)++]);
	}
	k = split_point(n);
	if (m <= k) {
		r = subproof(t, m, start, start + k, b, proof, count);
		if (r == 0)
			r = subtree_hash(t, start + k, end, proof[(*count)++]);
	} else {
		r = subproof(t, m - k, start + k, end, 0, proof, count);
		if (r == 0)
			r = subtree_hash(t, start, start + k, proof[(*count)++]);
	}
	return r;
}

int rombsr_merkle_tree_consistency_proof(const struct rombsr_merkle_tree *t, uint64_t size1, uint64_t size2,
					 unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t *count)
{
	*count = 0;
	if (size2 > t->size)
		return rombsr_error(ROMBSR_EINVAL, "tree size %llu is larger than the log (%llu entries)",
				    (unsigned long long)size2, (unsigned long long)t->size);
	if (size1 > size2)
		return rombsr_error(ROMBSR_EINVAL, "no consistency proof from size %llu back to %llu",
				    (unsigned long long)size1, (unsigned long long)size2);
	if (size1 == 0 || size1 == size2)
		return 0;
	return subproof(t, size1, 0, size2, 1, proof, count);
}

/* One step of the RFC 9162 §2.1.3.2 / §2.1.4.2 loops: p is a left sibling
 * when fn is a right child or on the right edge (fn == sn), and then also
 * folds into fr (consistency: the first tree's root); otherwise p is a
 * right sibling of sr only. Then moves up one level. */
static int fold_step(const unsigned char p[ROMBSR_MERKLE_HASH_LEN], unsigned char *fr,
		     unsigned char sr[ROMBSR_MERKLE_HASH_LEN], uint64_t *fn, uint64_t *sn)
{
	int r;

	if ((*fn & 1) || *fn == *sn) {
		if (fr != NULL && (r = rombsr_merkle_node_hash(p, fr, fr)) < 0)
			return r;
		if ((r = rombsr_merkle_node_hash(p, sr, sr)) < 0)
			return r;
		while (*fn != 0 && !(*fn & 1)) {
			*fn >>= 1;
			*sn >>= 1;
		}
	} else if ((r = rombsr_merkle_node_hash(sr, p, sr)) < 0) {
		return r;
	}
	*fn >>= 1;
	*sn >>= 1;
	return 0;
}

int rombsr_merkle_verify_inclusion(const unsigned char leaf_hash[ROMBSR_MERKLE_HASH_LEN], uint64_t index,
				   uint64_t size, const unsigned char proof[][ROMBSR_MERKLE_HASH_LEN],
				   size_t count, const unsigned char root[ROMBSR_MERKLE_HASH_LEN])
{
	unsigned char r_hash[ROMBSR_MERKLE_HASH_LEN];
	char want[65], got[65];
	uint64_t fn = index, sn;
	int r;

	if (index >= size)
		return rombsr_error(ROMBSR_ESECURITY, "inclusion proof: entry %llu is not in a tree of %llu entries",
				    (unsigned long long)index, (unsigned long long)size);
	sn = size - 1;
	memcpy(r_hash, leaf_hash, ROMBSR_MERKLE_HASH_LEN);
	for (size_t i = 0; i < count; i++) {
		if (sn == 0)
			return rombsr_error(ROMBSR_ESECURITY, "inclusion proof: %zu hashes, more than a tree of %llu entries needs",
					    count, (unsigned long long)size);
		r = fold_step(proof[i], NULL, r_hash, &fn, &sn);
		if (r < 0)
			return r;
	}
	if (sn != 0)
		return rombsr_error(ROMBSR_ESECURITY, "inclusion proof: %zu hashes, fewer than a tree of %llu entries needs",
				    count, (unsigned long long)size);
	if (memcmp(r_hash, root, ROMBSR_MERKLE_HASH_LEN) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "inclusion proof for entry %llu leads to root %s, not %s",
				    (unsigned long long)index, hex_of(r_hash, got), hex_of(root, want));
	return 0;
}

int rombsr_merkle_verify_consistency(uint64_t size1, uint64_t size2,
				     const unsigned char root1[ROMBSR_MERKLE_HASH_LEN],
				     const unsigned char root2[ROMBSR_MERKLE_HASH_LEN],
				     const unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t count)
{
	unsigned char fr[ROMBSR_MERKLE_HASH_LEN], sr[ROMBSR_MERKLE_HASH_LEN];
	uint64_t fn, sn;
	size_t i = 0;
	int r;

	if (size1 > size2)
		return rombsr_error(ROMBSR_ESECURITY, "consistency: size %llu is smaller than the earlier %llu",
				    (unsigned long long)size2, (unsigned long long)size1);
	if (size1 == size2) {
		if (count != 0)
			return rombsr_error(ROMBSR_ESECURITY, "consistency: a proof between equal sizes must be empty");
		if (memcmp(root1, root2, ROMBSR_MERKLE_HASH_LEN) != 0)
			return rombsr_error(ROMBSR_ESECURITY, "consistency: two different roots for size %llu",
					    (unsigned long long)size1);
		return 0;
	}
	if (size1 == 0) {
		if (count != 0)
			return rombsr_error(ROMBSR_ESECURITY, "consistency: a proof from the empty tree must be empty");
		return 0;
	}
	if (count == 0)
		return rombsr_error(ROMBSR_ESECURITY, "consistency: empty proof from size %llu to %llu",
				    (unsigned long long)size1, (unsigned long long)size2);
	fn = size1 - 1;
	sn = size2 - 1;
	/* A first tree that is a complete subtree is its own first proof node. */
	if (is_pow2(size1)) {
		memcpy(fr, root1, ROMBSR_MERKLE_HASH_LEN);
	} else {
		memcpy(fr, proof[0], ROMBSR_MERKLE_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, ROMBSR_MERKLE_HASH_LEN);
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < count; i++) {
		if (sn == 0)
			return rombsr_error(ROMBSR_ESECURITY, "consistency: proof from %llu to %llu is too long",
					    (unsigned long long)size1, (unsigned long long)size2);
		r = fold_step(proof[i], fr, sr, &fn, &sn);
		if (r < 0)
			return r;
	}
	if (sn != 0)
		return rombsr_error(ROMBSR_ESECURITY, "consistency: proof from %llu to %llu is too short",
				    (unsigned long long)size1, (unsigned long long)size2);
	if (memcmp(fr, root1, ROMBSR_MERKLE_HASH_LEN) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "consistency: proof does not lead to the root of size %llu",
				    (unsigned long long)size1);
	if (memcmp(sr, root2, ROMBSR_MERKLE_HASH_LEN) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "consistency: the tree of size %llu does not extend the tree of size %llu",
				    (unsigned long long)size2, (unsigned long long)size1);
	return 0;
}
