/* avb add-hashtree-footer: a dm-verity hash tree over the image (system,
 * vendor …), appended, with its hashtree descriptor in a signed vbmeta
 * and a footer. No forward error correction (FEC): see docs/avb.md. */
#include "avb_commands.h"
#include "footer_args.h"

#include "../avb/hashtree.h"
#include "../common/error.h"

#include <string.h>

static const struct cli_option options[] = {
	FOOTER_OPTIONS,
	{NULL, NULL, NULL, 0},
};

static const char usage[] =
	"avb add-hashtree-footer --image FILE --partition-name NAME --partition-size BYTES [--key URI] [options]";

static void describe(struct rombsr_avb_hashtree *d, const struct footer_args *args, uint64_t data_size,
		     uint64_t tree_size, const unsigned char *salt, size_t salt_len, const unsigned char *root,
		     size_t root_len)
{
	d->dm_verity_version = 1;
	d->image_size = data_size;
	d->tree_offset = data_size;
	d->tree_size = tree_size;
	d->data_block_size = FOOTER_BLOCK_SIZE;
	d->hash_block_size = FOOTER_BLOCK_SIZE;
	d->partition_name = (struct rombsr_avb_bytes){(const unsigned char *)args->partition_name,
						      strlen(args->partition_name)};
	d->salt = (struct rombsr_avb_bytes){salt, salt_len};
	d->root_digest = (struct rombsr_avb_bytes){root, root_len};
}

int cmd_avb_add_hashtree_footer(struct cli_context *ctx, int argc, char **argv)
{
	struct rombsr_avb_descriptor own = {.tag = ROMBSR_AVB_TAG_HASHTREE};
	struct rombsr_avb_tree_spec spec = {.block_size = FOOTER_BLOCK_SIZE};
	unsigned char salt[64], root[64];
	struct rombsr_avb_partition part;
	struct footer_args args = {0};
	struct rombsr_buf tree = {0};
	size_t salt_len, root_len;
	uint64_t data_size;
	int r;

	r = footer_parse(ctx, &args, options, usage, argc, argv);
	if (r == 0)
		r = footer_open(&args, &part);
	if (r < 0)
		return r;
	snprintf(own.u.hashtree.hash_algorithm, sizeof(own.u.hashtree.hash_algorithm), "%s",
		 args.hash_algorithm ? args.hash_algorithm : "sha256");
	spec.hash_name = own.u.hashtree.hash_algorithm;
	data_size = (part.original_size + FOOTER_BLOCK_SIZE - 1) / FOOTER_BLOCK_SIZE * FOOTER_BLOCK_SIZE;
	r = footer_salt(&args, &part, salt, &salt_len);
	if (r == 0) {
		spec.salt = salt;
		spec.salt_len = salt_len;
		r = rombsr_avb_tree_build(part.fd, part.original_size, data_size, &spec, &tree, root, &root_len);
	}
	if (r == 0) {
		describe(&own.u.hashtree, &args, data_size, tree.len, salt, salt_len, root, root_len);
		r = footer_finish(ctx, &args, &part, &own, tree.data, tree.len, data_size);
	}
	rombsr_buf_free(&tree);
	rombsr_avb_partition_close(&part);
	return r;
}
