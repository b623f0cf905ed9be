/* RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256.
 *
 * Leaf hash  = SHA-256(0x00 || leaf bytes)
 * Node hash  = SHA-256(0x01 || left || right)
 * MTH(D[n])  = SHA-256() for n = 0, the leaf hash for n = 1, otherwise
 *              node(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of two
 *              smaller than n.
 *
 * The in-memory tree keeps every complete subtree hash (level 0 = leaf
 * hashes, level l = hashes of aligned subtrees of 2^l leaves): appending
 * costs O(log n) hashes at worst (amortized O(1)), the root and proofs for
 * any earlier size cost O(log n) lookups and hashes. Memory is about
 * 2 * 32 bytes per leaf. */
#ifndef ROMBSR_AUDIT_MERKLE_H
#define ROMBSR_AUDIT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define ROMBSR_MERKLE_HASH_LEN 32
/* A proof for a tree of up to 2^64 leaves has at most 64 (inclusion) or 65
 * (consistency) hashes; buffers of this many always suffice. */
#define ROMBSR_MERKLE_MAX_PROOF 66
#define ROMBSR_MERKLE_MAX_LEVELS 64

struct rombsr_merkle_level {
	unsigned char (*hash)[ROMBSR_MERKLE_HASH_LEN];
	size_t len;
	size_t alloc;
};

struct rombsr_merkle_tree {
	uint64_t size;
	struct rombsr_merkle_level level[ROMBSR_MERKLE_MAX_LEVELS];
};

int rombsr_merkle_leaf_hash(const void *leaf, size_t len, unsigned char out[ROMBSR_MERKLE_HASH_LEN]);
int rombsr_merkle_node_hash(const unsigned char left[ROMBSR_MERKLE_HASH_LEN],
			    const unsigned char right[ROMBSR_MERKLE_HASH_LEN],
			    unsigned char out[ROMBSR_MERKLE_HASH_LEN]);
/* SHA-256 of the empty string: the root of the empty tree. */
void rombsr_merkle_empty_root(unsigned char out[ROMBSR_MERKLE_HASH_LEN]);

void rombsr_merkle_tree_init(struct rombsr_merkle_tree *t);
/* Frees the hashes; accepts NULL and an already freed tree. */
void rombsr_merkle_tree_free(struct rombsr_merkle_tree *t);
/* Appends one leaf hash (not the leaf bytes). */
int rombsr_merkle_tree_append(struct rombsr_merkle_tree *t, const unsigned char leaf_hash[ROMBSR_MERKLE_HASH_LEN]);
/* Drops leaves past size (used to undo a failed append). */
void rombsr_merkle_tree_truncate(struct rombsr_merkle_tree *t, uint64_t size);
/* MTH of the first size leaves; size <= t->size. */
int rombsr_merkle_tree_root(const struct rombsr_merkle_tree *t, uint64_t size,
			    unsigned char out[ROMBSR_MERKLE_HASH_LEN]);
int rombsr_merkle_tree_leaf(const struct rombsr_merkle_tree *t, uint64_t index,
			    unsigned char out[ROMBSR_MERKLE_HASH_LEN]);

/* RFC 6962 §2.1.1 PATH(index, D[size]): from the leaf's sibling up to the
 * root's child. proof must hold ROMBSR_MERKLE_MAX_PROOF hashes. */
int rombsr_merkle_tree_inclusion_proof(const struct rombsr_merkle_tree *t, uint64_t index, uint64_t size,
				       unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t *count);
/* RFC 6962 §2.1.2 PROOF(size1, D[size2]); empty for size1 == 0 or size1 == size2. */
int rombsr_merkle_tree_consistency_proof(const struct rombsr_merkle_tree *t, uint64_t size1, uint64_t size2,
					 unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t *count);

/* RFC 9162 §2.1.3.2. 0, or ROMBSR_ESECURITY with a message if the proof
 * does not lead from leaf_hash at index to root (ROMBSR_ECRYPTO only if
 * hashing itself fails). */
int rombsr_merkle_verify_inclusion(const unsigned char leaf_hash[ROMBSR_MERKLE_HASH_LEN], uint64_t index,
				   uint64_t size, const unsigned char proof[][ROMBSR_MERKLE_HASH_LEN],
				   size_t count, const unsigned char root[ROMBSR_MERKLE_HASH_LEN]);
/* RFC 9162 §2.1.4.2, plus the trivial cases: size1 == size2 needs equal
 * roots and an empty proof; size1 == 0 needs an empty proof. 0, or
 * ROMBSR_ESECURITY with a message if the proof does not hold (ROMBSR_ECRYPTO
 * only if hashing itself fails). */
int rombsr_merkle_verify_consistency(uint64_t size1, uint64_t size2,
				     const unsigned char root1[ROMBSR_MERKLE_HASH_LEN],
				     const unsigned char root2[ROMBSR_MERKLE_HASH_LEN],
				     const unsigned char proof[][ROMBSR_MERKLE_HASH_LEN], size_t count);

#endif
