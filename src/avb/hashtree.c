#include "hashtree.h"

#include "../common/error.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Data is read in chunks of this many bytes (a multiple of every block
 * size): large enough that read(2) costs nothing beside hashing. */
#define READ_CHUNK (4u << 20)

static int fetch_md(const char *hash_name, EVP_MD **md)
{
	if (hash_name == NULL || (strcmp(hash_name, "sha256") != 0 && strcmp(hash_name, "sha1") != 0 &&
				  strcmp(hash_name, "sha512") != 0))
		return rombsr_error(ROMBSR_EINVAL, "avb: hash algorithm '%s' (sha1, sha256 or sha512)",
				    hash_name ? hash_name : "");
	*md = EVP_MD_fetch(NULL, hash_name, NULL);
	if (*md == NULL)
		return rombsr_error_openssl(ROMBSR_ECRYPTO, "avb: %s", hash_name);
	return 0;
}

static uint64_t round_up(uint64_t n, uint64_t to)
{
	return (n + to - 1) / to * to;
}

int rombsr_avb_tree_geometry(uint64_t image_size, const struct rombsr_avb_tree_spec *spec,
			     struct rombsr_avb_tree_geometry *geo)
{
	uint32_t bs = spec->block_size;
	uint64_t size = image_size, below = 0;
	EVP_MD *md = NULL;
	int r;

	memset(geo, 0, sizeof(*geo));
	if (bs < 512 || bs > 65536 || (bs & (bs - 1)) != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb: block size %u is not a power of two from 512 to 65536", bs);
	if (image_size == 0 || image_size % bs != 0)
		return rombsr_error(ROMBSR_EINVAL, "avb: a hash tree needs a non-empty image of whole %u-byte "
						   "blocks, not %llu bytes", bs, (unsigned long long)image_size);
	r = fetch_md(spec->hash_name, &md);
	if (r < 0)
		return r;
	geo->digest_len = (size_t)EVP_MD_get_size(md);
	EVP_MD_free(md);
	geo->digest_stride = 1;
	while (geo->digest_stride < geo->digest_len)
		geo->digest_stride <<= 1;
	while (size > bs) {
		uint64_t blocks = size / bs + (size % bs != 0);

		if (geo->levels == ROMBSR_AVB_TREE_MAX_LEVELS)
			return rombsr_error(ROMBSR_EINTERNAL, "avb: hash tree deeper than %d levels",
					    ROMBSR_AVB_TREE_MAX_LEVELS);
		size = round_up(blocks * geo->digest_stride, bs);
		geo->level_size[geo->levels++] = size;
		geo->tree_size += size;
	}
	/* The level over the data is stored last: each level sits after all
	 * the levels above it. */
	for (unsigned i = geo->levels; i-- > 0;) {
		geo->level_offset[i] = below;
		below += geo->level_size[i];
	}
	return 0;
}

/* Hashes n whole blocks of in (salt first) into out, one digest per stride. */
static int hash_blocks(EVP_MD_CTX *salted, EVP_MD_CTX *ctx, const unsigned char *in, uint64_t n, uint32_t bs,
		       size_t stride, unsigned char *out)
{
	for (uint64_t i = 0; i < n; i++) {
		unsigned int len;

		if (!EVP_MD_CTX_copy_ex(ctx, salted) || !EVP_DigestUpdate(ctx, in + i * bs, bs) ||
		    !EVP_DigestFinal_ex(ctx, out + i * stride, &len))
			return rombsr_error_openssl(ROMBSR_ECRYPTO, "avb: hashing a block");
	}
	return 0;
}

/* Reads len bytes at offset, of which those at or past data_len are the
 * zero padding. */
static int read_at(int fd, unsigned char *buf, size_t len, uint64_t offset, uint64_t data_len)
{
	size_t done = 0;

	if (offset + len > data_len) {
		size_t from = offset >= data_len ? 0 : (size_t)(data_len - offset);

		memset(buf + from, 0, len - from);
		len = from;
	}
	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rombsr_error(ROMBSR_EIO, "avb: reading the image: %s", strerror(errno));
		if (n == 0)
			return rombsr_error(ROMBSR_EINVAL, "avb: the image ends before byte %llu",
					    (unsigned long long)(offset + len));
		done += (size_t)n;
	}
	return 0;
}

/* Level 0: the digests of the data blocks, read from fd in chunks. */
static int hash_data(int fd, uint64_t data_len, uint64_t image_size, uint32_t bs, size_t stride, EVP_MD_CTX *salted,
		     EVP_MD_CTX *ctx, unsigned char *level)
{
	unsigned char *chunk = malloc(READ_CHUNK);
	uint64_t offset = 0;
	int r = 0;

	if (chunk == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	while (r == 0 && offset < image_size) {
		size_t len = image_size - offset < READ_CHUNK ? (size_t)(image_size - offset) : READ_CHUNK;

		r = read_at(fd, chunk, len, offset, data_len);
		if (r == 0)
			r = hash_blocks(salted, ctx, chunk, len / bs, bs, stride, level + offset / bs * stride);
		offset += len;
	}
	free(chunk);
	return r;
}

int rombsr_avb_tree_build(int fd, uint64_t data_len, uint64_t image_size, const struct rombsr_avb_tree_spec *spec,
			  struct rombsr_buf *tree, unsigned char root[64], size_t *root_len)
{
	struct rombsr_avb_tree_geometry geo;
	EVP_MD_CTX *salted = EVP_MD_CTX_new(), *ctx = EVP_MD_CTX_new();
	EVP_MD *md = NULL;
	unsigned char *top;
	unsigned int len;
	int r;

	rombsr_buf_init(tree, SIZE_MAX);
	r = rombsr_avb_tree_geometry(image_size, spec, &geo);
	if (r < 0 || (r = fetch_md(spec->hash_name, &md)) < 0)
		goto out;
	if (salted == NULL || ctx == NULL || !EVP_DigestInit_ex2(salted, md, NULL) ||
	    !EVP_DigestUpdate(salted, spec->salt, spec->salt_len)) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "avb: %s", spec->hash_name);
		goto out;
	}
	if (geo.tree_size > SIZE_MAX || (geo.tree_size > 0 && (tree->data = calloc(1, (size_t)geo.tree_size)) == NULL)) {
		r = rombsr_error(ROMBSR_ENOMEM, "avb: out of memory for a %llu-byte hash tree",
				 (unsigned long long)geo.tree_size);
		goto out;
	}
	tree->alloc = tree->len = (size_t)geo.tree_size;
	if (geo.levels == 0) {
		/* One block: its digest is the root and there is no tree. */
		unsigned char *block = malloc(spec->block_size);

		r = block ? read_at(fd, block, spec->block_size, 0, data_len) : rombsr_error(ROMBSR_ENOMEM, "out of memory");
		if (r == 0)
			r = hash_blocks(salted, ctx, block, 1, spec->block_size, geo.digest_stride, root);
		free(block);
		goto out;
	}
	r = hash_data(fd, data_len, image_size, spec->block_size, geo.digest_stride, salted, ctx,
		      tree->data + geo.level_offset[0]);
	for (unsigned i = 1; r == 0 && i < geo.levels; i++)
		r = hash_blocks(salted, ctx, tree->data + geo.level_offset[i - 1],
				geo.level_size[i - 1] / spec->block_size, spec->block_size, geo.digest_stride,
				tree->data + geo.level_offset[i]);
	if (r < 0)
		goto out;
	top = tree->data + geo.level_offset[geo.levels - 1];
	if (!EVP_MD_CTX_copy_ex(ctx, salted) || !EVP_DigestUpdate(ctx, top, geo.level_size[geo.levels - 1]) ||
	    !EVP_DigestFinal_ex(ctx, root, &len))
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "avb: hashing the top level");
out:
	*root_len = geo.digest_len;
	if (r < 0)
		rombsr_buf_free(tree);
	EVP_MD_CTX_free(salted);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return r;
}

int rombsr_avb_salted_digest(int fd, uint64_t len, const char *hash_name, const unsigned char *salt,
			     size_t salt_len, unsigned char out[64], size_t *out_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *chunk = malloc(READ_CHUNK);
	EVP_MD *md = NULL;
	uint64_t offset = 0;
	unsigned int n;
	int r = fetch_md(hash_name, &md);

	if (r < 0)
		goto out;
	if (ctx == NULL || chunk == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	if (!EVP_DigestInit_ex2(ctx, md, NULL) || !EVP_DigestUpdate(ctx, salt, salt_len)) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "avb: %s", hash_name);
		goto out;
	}
	while (offset < len) {
		size_t step = len - offset < READ_CHUNK ? (size_t)(len - offset) : READ_CHUNK;

		r = read_at(fd, chunk, step, offset, len);
		if (r < 0)
			goto out;
		if (!EVP_DigestUpdate(ctx, chunk, step)) {
			r = rombsr_error_openssl(ROMBSR_ECRYPTO, "avb: %s", hash_name);
			goto out;
		}
		offset += step;
	}
	if (!EVP_DigestFinal_ex(ctx, out, &n)) {
		r = rombsr_error_openssl(ROMBSR_ECRYPTO, "avb: %s", hash_name);
		goto out;
	}
	*out_len = n;
out:
	free(chunk);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return r;
}
