/* The dm-verity hash tree of an AVB hashtree descriptor (docs/avb.md,
 * "Hash tree"): every data block hashed with the salt in front, digests
 * padded to a power of two, each level padded to a whole block, the levels
 * stored root-most first, and the root digest the salted hash of the top
 * level. Also the salted hash of a whole image (hash descriptors). */
#ifndef ROMBSR_AVB_HASHTREE_H
#define ROMBSR_AVB_HASHTREE_H

#include "../common/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Enough for a tree over 2^64 bytes of 512-byte blocks. */
#define ROMBSR_AVB_TREE_MAX_LEVELS 64

struct rombsr_avb_tree_spec {
	const char *hash_name;   /* "sha256" or "sha1" (the descriptor's names) */
	uint32_t block_size;     /* data and hash block size; a power of two, 512 to 65536 */
	const unsigned char *salt;
	size_t salt_len;
};

struct rombsr_avb_tree_geometry {
	size_t digest_len;       /* the hash's own length */
	size_t digest_stride;    /* digest_len rounded up to a power of two */
	unsigned levels;         /* 0 when the image is one block */
	uint64_t level_offset[ROMBSR_AVB_TREE_MAX_LEVELS]; /* level 0 is the one over the data */
	uint64_t level_size[ROMBSR_AVB_TREE_MAX_LEVELS];
	uint64_t tree_size;
};

/* The tree's layout for an image of image_size bytes (a non-zero multiple
 * of the block size). ROMBSR_EINVAL for a bad spec or size. */
int rombsr_avb_tree_geometry(uint64_t image_size, const struct rombsr_avb_tree_spec *spec,
	struct rombsr_avb_tree_geometry *geo);

/* Builds the tree over image_size bytes into tree (initialized here,
 * geo->tree_size bytes) and writes the root digest. The first data_len
 * bytes are read from fd (from offset 0, with pread; the file must hold
 * them); the rest, up to image_size, is the zero padding to a whole block,
 * whatever the file holds there (an earlier footer). */
int rombsr_avb_tree_build(int fd, uint64_t data_len, uint64_t image_size, const struct rombsr_avb_tree_spec *spec,
	struct rombsr_buf *tree, unsigned char root[64], size_t *root_len);

/* The salted digest (salt first) of the first len bytes of fd, read from
 * offset 0: the digest of a hash descriptor. */
int rombsr_avb_salted_digest(int fd, uint64_t len, const char *hash_name, const unsigned char *salt,
	size_t salt_len, unsigned char out[64], size_t *out_len);

#endif
