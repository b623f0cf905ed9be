#include "chain_verify.h"

#include "hashtree.h"
#include "partition.h"
#include "pubkey_blob.h"
#include "vbmeta.h"

#include "../common/error.h"
#include "../common/fsutil.h"
#include "../common/hex.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	const char *folder;
	rombsr_avb_report_fn report;
	void *ctx;
};

static void say(const struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const struct walk *w, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (w->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	w->report(w->ctx, line);
}

/* A partition name from a descriptor, safe for a path and a message. */
static int name_of(const struct rombsr_avb_bytes *b, char *out, size_t size)
{
	if (b->len == 0 || b->len >= size || memchr(b->data, '/', b->len) != NULL ||
	    memchr(b->data, '\0', b->len) != NULL || (b->len <= 2 && b->data[0] == '.'))
		return rombsr_error(ROMBSR_EINVAL, "avb: a descriptor names a partition that is not a file name");
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] < 0x21 || b->data[i] > 0x7e)
			return rombsr_error(ROMBSR_EINVAL, "avb: a descriptor names a partition with unprintable bytes");
	memcpy(out, b->data, b->len);
	out[b->len] = '\0';
	return 0;
}

static int open_partition(const struct walk *w, const char *name, struct rombsr_avb_partition *part)
{
	char path[PATH_MAX];
	int r = rombsr_path_format(path, sizeof(path), "%s/%s.img", w->folder, name);

	if (r == 0)
		r = rombsr_avb_partition_open(path, false, part);
	return r < 0 ? rombsr_error_wrap(r, "partition '%s'", name) : 0;
}

static int check_hash(const struct walk *w, const struct rombsr_avb_hash *d, const char *name)
{
	struct rombsr_avb_partition part;
	unsigned char digest[64];
	size_t len;
	int r = open_partition(w, name, &part);

	if (r < 0)
		return r;
	if (d->image_size > part.file_size)
		r = rombsr_error(ROMBSR_ESECURITY, "partition '%s': hash descriptor: the image is %llu bytes, "
						   "shorter than the %llu it describes", name,
				 (unsigned long long)part.file_size, (unsigned long long)d->image_size);
	if (r == 0)
		r = rombsr_avb_salted_digest(part.fd, d->image_size, d->hash_algorithm, d->salt.data, d->salt.len,
					     digest, &len);
	if (r == 0 && (len != d->digest.len || CRYPTO_memcmp(digest, d->digest.data, len) != 0))
		r = rombsr_error(ROMBSR_ESECURITY, "partition '%s': hash descriptor: the %s digest of the image "
						   "does not match", name, d->hash_algorithm);
	rombsr_avb_partition_close(&part);
	if (r == 0)
		say(w, "partition %s: %s hash of %llu bytes ok", name, d->hash_algorithm,
		    (unsigned long long)d->image_size);
	return r;
}

static int compare_stored_tree(struct rombsr_avb_partition *part, const struct rombsr_avb_hashtree *d,
			       const struct rombsr_buf *tree, const char *name)
{
	unsigned char *stored = malloc(tree->len ? tree->len : 1);
	int r;

	if (stored == NULL)
		return rombsr_error(ROMBSR_ENOMEM, "out of memory");
	r = rombsr_avb_partition_read(part, stored, tree->len, d->tree_offset);
	if (r < 0)
		r = rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "partition '%s': hashtree descriptor: the stored tree",
					 name);
	else if (CRYPTO_memcmp(stored, tree->data, tree->len) != 0)
		r = rombsr_error(ROMBSR_ESECURITY, "partition '%s': hashtree descriptor: the hash tree stored in "
						   "the image differs from the data's", name);
	free(stored);
	return r;
}

static int check_hashtree(const struct walk *w, const struct rombsr_avb_hashtree *d, const char *name)
{
	struct rombsr_avb_tree_spec spec = {d->hash_algorithm, d->data_block_size, d->salt.data, d->salt.len};
	struct rombsr_avb_partition part;
	struct rombsr_buf tree = {0};
	unsigned char root[64];
	size_t root_len;
	int r = open_partition(w, name, &part);

	if (r < 0)
		return r;
	if (d->image_size > part.file_size || d->tree_size > part.file_size - d->image_size)
		r = rombsr_error(ROMBSR_ESECURITY, "partition '%s': hashtree descriptor: the image is truncated "
						   "(%llu bytes; its data and tree need %llu)", name,
				 (unsigned long long)part.file_size,
				 (unsigned long long)(d->image_size + d->tree_size));
	else if (d->data_block_size != d->hash_block_size || d->tree_offset != d->image_size)
		r = rombsr_error(ROMBSR_ESECURITY, "partition '%s': hashtree descriptor: a layout this verifier does "
						   "not take (block sizes %u/%u, tree at %llu after %llu bytes of data)",
				 name, d->data_block_size, d->hash_block_size, (unsigned long long)d->tree_offset,
				 (unsigned long long)d->image_size);
	if (r == 0)
		r = rombsr_avb_tree_build(part.fd, d->image_size, d->image_size, &spec, &tree, root, &root_len);
	if (r == 0 && tree.len != d->tree_size)
		r = rombsr_error(ROMBSR_ESECURITY, "partition '%s': hashtree descriptor: tree size %llu, the data "
						   "makes %zu", name, (unsigned long long)d->tree_size, tree.len);
	if (r == 0 && (root_len != d->root_digest.len || CRYPTO_memcmp(root, d->root_digest.data, root_len) != 0))
		r = rombsr_error(ROMBSR_ESECURITY, "partition '%s': hashtree descriptor: the root digest of the "
						   "data does not match", name);
	if (r == 0)
		r = compare_stored_tree(&part, d, &tree, name);
	rombsr_buf_free(&tree);
	rombsr_avb_partition_close(&part);
	if (r == 0)
		say(w, "partition %s: %s hash tree over %llu bytes ok (root and stored tree)", name, d->hash_algorithm,
		    (unsigned long long)d->image_size);
	return r;
}

static int verify_vbmeta(const struct walk *w, const struct rombsr_buf *image, const unsigned char *expected_blob,
			 size_t expected_len, const char *name, int depth);

/* A chain partition: its own vbmeta (from its footer, or the whole file
 * when it is a vbmeta image such as vbmeta_system.img), signed by the key
 * the descriptor names. */
static int check_chain(const struct walk *w, const struct rombsr_avb_chain_partition *d, const char *name,
		       int depth)
{
	struct rombsr_avb_partition part;
	struct rombsr_buf image = {0};
	char path[PATH_MAX];
	int r;

	if (depth > 0)
		return rombsr_error(ROMBSR_ESECURITY, "partition '%s': a chained partition's vbmeta chains further, "
						      "which AVB does not allow", name);
	r = open_partition(w, name, &part);
	if (r < 0)
		return r;
	if (part.has_footer)
		r = rombsr_avb_partition_read_vbmeta(&part, &image);
	rombsr_avb_partition_close(&part);
	if (r == 0 && !part.has_footer)
		r = rombsr_path_format(path, sizeof(path), "%s/%s.img", w->folder, name);
	if (r == 0 && !part.has_footer)
		r = rombsr_file_read(path, ROMBSR_AVB_MAX_VBMETA_SIZE * 16, &image);
	if (r == 0)
		r = verify_vbmeta(w, &image, d->public_key.data, d->public_key.len, name, depth + 1);
	rombsr_buf_free(&image);
	return r;
}

static int check_descriptor(const struct walk *w, const struct rombsr_avb_descriptor *d, int depth)
{
	const struct rombsr_avb_bytes *pname;
	char name[256];
	int r;

	switch (d->tag) {
	case ROMBSR_AVB_TAG_HASH:
		pname = &d->u.hash.partition_name;
		break;
	case ROMBSR_AVB_TAG_HASHTREE:
		pname = &d->u.hashtree.partition_name;
		break;
	case ROMBSR_AVB_TAG_CHAIN_PARTITION:
		pname = &d->u.chain.partition_name;
		break;
	default:
		return 0; /* properties and command lines hold nothing to check */
	}
	r = name_of(pname, name, sizeof(name));
	if (r < 0)
		return r;
	if (d->tag == ROMBSR_AVB_TAG_HASH)
		return check_hash(w, &d->u.hash, name);
	if (d->tag == ROMBSR_AVB_TAG_HASHTREE)
		return check_hashtree(w, &d->u.hashtree, name);
	return check_chain(w, &d->u.chain, name, depth);
}

static int verify_vbmeta(const struct walk *w, const struct rombsr_buf *image, const unsigned char *expected_blob,
			 size_t expected_len, const char *name, int depth)
{
	struct rombsr_avb_image img;
	EVP_PKEY *key = NULL;
	size_t offset = 0;
	int r = rombsr_avb_image_parse(image->data, image->len, &img);

	if (r < 0)
		return rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "partition '%s'", name);
	if (img.alg->signature_size == 0)
		return rombsr_error(ROMBSR_ESECURITY, "partition '%s': its vbmeta is not signed (algorithm NONE)", name);
	if (img.public_key.len != expected_len || CRYPTO_memcmp(img.public_key.data, expected_blob, expected_len) != 0)
		return rombsr_error(ROMBSR_ESECURITY, "partition '%s': signed by another key than the one expected "
						      "for it", name);
	r = rombsr_avb_pubkey_parse(expected_blob, expected_len, &key);
	if (r == 0)
		r = rombsr_avb_image_verify(&img, key);
	EVP_PKEY_free(key);
	if (r < 0)
		return rombsr_error_wrap(r, "partition '%s'", name);
	say(w, "partition %s: vbmeta %s signature ok, rollback index %llu at location %u", name, img.alg->name,
	    (unsigned long long)img.h.rollback_index, img.h.rollback_index_location);
	while (r == 0 && offset < img.descriptors.len) {
		struct rombsr_avb_descriptor d;

		r = rombsr_avb_descriptor_next(img.descriptors.data, img.descriptors.len, &offset, &d);
		if (r < 0)
			return rombsr_error_wrap_as(r, ROMBSR_ESECURITY, "partition '%s'", name);
		if (r > 0)
			r = check_descriptor(w, &d, depth);
	}
	return r;
}

int rombsr_avb_verify_chain(const char *top_image, const char *folder, EVP_PKEY *root_key,
			    rombsr_avb_report_fn report, void *ctx)
{
	struct walk w = {folder, report, ctx};
	struct rombsr_avb_partition part;
	struct rombsr_buf image = {0}, blob;
	int r = rombsr_avb_partition_open(top_image, false, &part);

	if (r < 0)
		return r;
	if (part.has_footer)
		r = rombsr_avb_partition_read_vbmeta(&part, &image);
	else
		r = rombsr_file_read(top_image, ROMBSR_AVB_MAX_VBMETA_SIZE * 16, &image);
	rombsr_avb_partition_close(&part);
	rombsr_buf_init(&blob, 4096);
	if (r == 0)
		r = rombsr_avb_pubkey_blob(root_key, &blob);
	if (r == 0)
		r = verify_vbmeta(&w, &image, blob.data, blob.len, "vbmeta", 0);
	rombsr_buf_free(&blob);
	rombsr_buf_free(&image);
	return r;
}
