/* The dm-verity hash tree of src/avb/hashtree.c: its geometry for sizes
 * worked out by hand, a tree built over a small image checked against
 * digests computed here level by level, the zero padding past the data,
 * and the refusals. veritysetup checks real trees in t-avb. */
#define _GNU_SOURCE /* memfd_create */
#include "tap.h"

#include "../../src/avb/hashtree.h"
#include "../../src/common/error.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const unsigned char salt[4] = {1, 2, 3, 4};

static void salted(const char *hash, const unsigned char *in, size_t len, unsigned char *out)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	EVP_DigestInit_ex(c, EVP_get_digestbyname(hash), NULL);
	EVP_DigestUpdate(c, salt, sizeof(salt));
	EVP_DigestUpdate(c, in, len);
	EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
}

static void test_geometry(void)
{
	struct rombsr_avb_tree_spec spec = {"sha256", 4096, salt, sizeof(salt)};
	struct rombsr_avb_tree_geometry g;

	/* 129 blocks: 129 digests of 32 bytes need 2 blocks, whose 2 digests 1. */
	CHECK(rombsr_avb_tree_geometry(129 * 4096, &spec, &g) == 0 && g.levels == 2 && g.level_size[0] == 8192 &&
		      g.level_size[1] == 4096 && g.tree_size == 12288 && g.level_offset[1] == 0 &&
		      g.level_offset[0] == 4096,
	      "129 blocks: two levels, the one over the data stored last");
	CHECK(rombsr_avb_tree_geometry(128 * 4096, &spec, &g) == 0 && g.levels == 1 && g.tree_size == 4096,
	      "128 blocks: one level of one block");
	CHECK(rombsr_avb_tree_geometry(4096, &spec, &g) == 0 && g.levels == 0 && g.tree_size == 0,
	      "one block: no tree");
	spec.hash_name = "sha1";
	CHECK(rombsr_avb_tree_geometry(129 * 4096, &spec, &g) == 0 && g.digest_len == 20 && g.digest_stride == 32 &&
		      g.tree_size == 12288,
	      "sha1: 20-byte digests padded to 32");
	CHECK(tap_fails(rombsr_avb_tree_geometry(4097, &spec, &g), ROMBSR_EINVAL, "whole 4096-byte blocks"),
	      "a size that is not whole blocks is refused");
	spec.block_size = 3000;
	CHECK(tap_fails(rombsr_avb_tree_geometry(6000, &spec, &g), ROMBSR_EINVAL, "not a power of two"),
	      "a block size that is not a power of two is refused");
	spec.block_size = 4096;
	spec.hash_name = "md5";
	CHECK(tap_fails(rombsr_avb_tree_geometry(4096, &spec, &g), ROMBSR_EINVAL, "hash algorithm 'md5'"),
	      "an unknown hash is refused");
}

/* 129 blocks of patterned data: level 0 is the salted digest of each
 * block, level 1 of each level-0 block, the root of level 1. */
static void test_build(void)
{
	const size_t n = 129, bs = 4096;
	struct rombsr_avb_tree_spec spec = {"sha256", 4096, salt, sizeof(salt)};
	unsigned char *img = malloc(n * bs), *level0 = calloc(2, bs), level1[4096] = {0}, root[64], want[32];
	struct rombsr_buf tree;
	size_t root_len;
	int fd = memfd_create("image", 0);

	for (size_t i = 0; i < n * bs; i++)
		img[i] = (unsigned char)(i * 7 + i / 4096);
	CHECK(fd >= 0 && write(fd, img, n * bs) == (ssize_t)(n * bs), "the image is written to a memfd");
	for (size_t i = 0; i < n; i++)
		salted("sha256", img + i * bs, bs, level0 + i * 32);
	salted("sha256", level0, bs, level1);
	salted("sha256", level0 + bs, bs, level1 + 32);
	salted("sha256", level1, bs, want);
	CHECK(rombsr_avb_tree_build(fd, n * bs, n * bs, &spec, &tree, root, &root_len) == 0 && root_len == 32 &&
		      memcmp(root, want, 32) == 0,
	      "the root digest is the salted digest of the top level");
	CHECK(tree.len == 3 * bs && memcmp(tree.data, level1, bs) == 0 && memcmp(tree.data + bs, level0, 2 * bs) == 0,
	      "the tree holds level 1 then level 0");
	rombsr_buf_free(&tree);

	/* The last block half data, half padding: the padding reads as zeros
	 * whatever the file holds past the data. */
	memset(img + (n - 1) * bs + 1000, 0, bs - 1000);
	salted("sha256", img + (n - 1) * bs, bs, level0 + (n - 1) * 32);
	salted("sha256", level0, bs, level1);
	salted("sha256", level0 + bs, bs, level1 + 32);
	salted("sha256", level1, bs, want);
	CHECK(rombsr_avb_tree_build(fd, (n - 1) * bs + 1000, n * bs, &spec, &tree, root, &root_len) == 0 &&
		      memcmp(root, want, 32) == 0,
	      "bytes past the data are hashed as zeros, not as what the file holds there");
	rombsr_buf_free(&tree);
	CHECK(tap_fails(rombsr_avb_tree_build(fd, 2 * n * bs, 2 * n * bs, &spec, &tree, root, &root_len), ROMBSR_EINVAL,
			"ends before byte"),
	      "an image shorter than its data is refused");
	close(fd);
	free(img);
	free(level0);
}

int main(void)
{
	test_geometry();
	test_build();
	return tap_done();
}
