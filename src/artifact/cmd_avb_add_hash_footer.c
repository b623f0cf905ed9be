/* avb add-hash-footer: a hash descriptor over the whole image (boot,
 * dtbo, vendor_boot …) in a signed vbmeta appended with a footer. */
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
	"avb add-hash-footer --image FILE --partition-name NAME --partition-size BYTES [--key URI] [options]";

int cmd_avb_add_hash_footer(struct cli_context *ctx, int argc, char **argv)
{
	struct rombsr_avb_descriptor own = {.tag = ROMBSR_AVB_TAG_HASH};
	struct rombsr_avb_hash *d = &own.u.hash;
	unsigned char salt[64], digest[64];
	struct rombsr_avb_partition part;
	struct footer_args args = {0};
	size_t salt_len, digest_len;
	int r;

	r = footer_parse(ctx, &args, options, usage, argc, argv);
	if (r == 0)
		r = footer_open(&args, &part);
	if (r < 0)
		return r;
	snprintf(d->hash_algorithm, sizeof(d->hash_algorithm), "%s", args.hash_algorithm ? args.hash_algorithm : "sha256");
	r = footer_salt(&args, &part, salt, &salt_len);
	if (r == 0)
		r = rombsr_avb_salted_digest(part.fd, part.original_size, d->hash_algorithm, salt, salt_len, digest,
					     &digest_len);
	if (r == 0) {
		d->image_size = part.original_size;
		d->partition_name = (struct rombsr_avb_bytes){(const unsigned char *)args.partition_name,
							      strlen(args.partition_name)};
		d->salt = (struct rombsr_avb_bytes){salt, salt_len};
		d->digest = (struct rombsr_avb_bytes){digest, digest_len};
		r = footer_finish(ctx, &args, &part, &own, NULL, 0,
				  (part.original_size + FOOTER_BLOCK_SIZE - 1) / FOOTER_BLOCK_SIZE * FOOTER_BLOCK_SIZE);
	}
	rombsr_avb_partition_close(&part);
	return r;
}
